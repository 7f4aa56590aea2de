/* media/router.c: the forwarding core.
 *
 * A published track is forwarded to every subscriber of its room (to its
 * own publisher in an echo room) through a down slot on that subscriber's
 * sub connection.  Each forwarded packet is rewritten for its down slot:
 * SSRC, payload type, and sequence number and timestamp shifted by
 * per-slot offsets, so each outgoing stream stays continuous when its
 * source restarts.  Header extensions are not carried over (their ids are
 * negotiated per connection).  RTCP is terminated here: keyframe requests
 * (PLI, FIR) from subscribers become one throttled PLI to the publisher.
 * Hot path: recv -> unprotect -> route -> protect -> send on the worker's
 * thread, with stack buffers only (no allocation, no lock).
 */
#include "media/internal.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "codecs/vp8.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

static bool forwards_to(const struct pl_mroom *r, const struct pl_mpart *owner,
			const struct pl_mpart *sub)
{
	return sub->can_subscribe && (r->echo ? sub == owner : sub != owner);
}

static void down_add(struct pl_mpart *sub, struct pl_track *t)
{
	struct pl_down *d = NULL;

	/* Reuse an ended m-line of the same kind before adding one. */
	for (size_t i = 0; i < sub->n_down && !d; i++)
		if (!sub->down[i].active && sub->down[i].video == t->video)
			d = &sub->down[i];
	if (!d) {
		if (sub->n_down == PL_MAX_DOWN) {
			PL_LOG(PL_LOG_WARN, "media", "[p=%s] too many forwarded tracks, %s not sent",
			       sub->pid, t->id);
			return;
		}
		d = &sub->down[sub->n_down];
		snprintf(d->mid, sizeof(d->mid), "%zu", sub->n_down);
		sub->n_down++;
	}
	d->used = true;
	d->active = true;
	d->src = t;
	d->video = t->video;
	g_strlcpy(d->track_id, t->id, sizeof(d->track_id));
	g_strlcpy(d->stream_id, t->owner->pid, sizeof(d->stream_id));
	d->ssrc = g_random_int();
	d->rtx_ssrc = t->video ? g_random_int() : 0;
	d->pt = t->video ? PL_SDP_PT_VP8 : PL_SDP_PT_OPUS;
	d->rtx_ok = false; /* until the subscriber's answer keeps RTX */
	pl_rewrite_init(&d->rw, t->video ? 90000 : 48000, (uint16_t)g_random_int(), g_random_int());
	pl_rtcp_tx_init(&d->tx, t->video ? 90000 : 48000);
	pl_rtx_stream_init(&d->rtx, d->rtx_ssrc, PL_SDP_PT_RTX, (uint16_t)g_random_int());
	d->waiting_keyframe = t->video;
	d->paused = false;
	d->rtt_ms = 0;
	memset(d->resent, 0, sizeof(d->resent));
	d->packets = d->bytes = d->keyframe_drops = 0;
	d->nacks_in = d->retransmits = d->nacks_refused = 0;
}

/* Consent (RFC 7675 in spirit) is required of a connection only while the
 * peer is expected to send on it: a publisher with tracks, a subscriber
 * receiving at least one stream (its RTCP receiver reports). */
void pl_router_update_consent(struct pl_mpart *p)
{
	bool receiving = false;

	for (size_t i = 0; i < p->n_down && !receiving; i++)
		receiving = p->down[i].active && !p->down[i].paused;
	if (p->pub)
		pl_ice_transport_set_consent_required(p->pub->ice, p->n_tracks > 0);
	if (p->sub)
		pl_ice_transport_set_consent_required(p->sub->ice, receiving);
}

void pl_router_track_init(struct pl_track *t)
{
	/* At least one second of video at up to 4 Mbit/s, or of Opus. */
	t->rtx_buf = t->video ? pl_rtx_buf_create(1024, 512 * 1024) : pl_rtx_buf_create(128, 32 * 1024);
	pl_nack_rx_init(&t->nack, NULL);
	pl_rtcp_rx_init(&t->rxs, t->video ? 90000 : 48000);
}

void pl_router_track_release(struct pl_track *t)
{
	pl_rtx_buf_destroy(t->rtx_buf);
	t->rtx_buf = NULL;
}

/* Nothing was forwarded on d for a while (mute, subscribe off): it starts
 * a new stretch right after its last packet, on a keyframe. */
static void down_restart(struct pl_down *d)
{
	pl_rewrite_resync(&d->rw);
	d->waiting_keyframe = d->video;
}

void pl_router_track_unmuted(struct pl_track *t)
{
	struct pl_mroom *r = t->owner->room;

	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *sub = g_ptr_array_index(r->parts, i);
		for (size_t k = 0; k < sub->n_down; k++)
			if (sub->down[k].src == t)
				down_restart(&sub->down[k]);
	}
	pl_router_request_keyframe(t);
}

void pl_router_set_paused(struct pl_mpart *sub, const char *track_id, bool paused)
{
	for (size_t k = 0; k < sub->n_down; k++) {
		struct pl_down *d = &sub->down[k];
		if (!d->src || !d->active || strcmp(d->src->id, track_id) != 0 || d->paused == paused)
			continue;
		d->paused = paused;
		if (!paused) {
			down_restart(d);
			pl_router_request_keyframe(d->src);
		}
	}
	pl_router_update_consent(sub);
}

void pl_router_track_added(struct pl_track *t)
{
	struct pl_mroom *r = t->owner->room;

	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *sub = g_ptr_array_index(r->parts, i);
		if (forwards_to(r, t->owner, sub)) {
			down_add(sub, t);
			pl_part_schedule_sub_offer(sub);
		}
	}
}

void pl_router_track_removed(struct pl_track *t)
{
	struct pl_mroom *r = t->owner->room;

	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *sub = g_ptr_array_index(r->parts, i);
		bool changed = false;
		for (size_t k = 0; k < sub->n_down; k++) {
			if (sub->down[k].src == t) {
				sub->down[k].src = NULL;
				sub->down[k].active = false;
				changed = true;
			}
		}
		if (changed && sub != t->owner)
			pl_part_schedule_sub_offer(sub);
	}
}

void pl_router_attach_existing(struct pl_mpart *sub)
{
	struct pl_mroom *r = sub->room;
	bool any = false;

	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *owner = g_ptr_array_index(r->parts, i);
		if (!forwards_to(r, owner, sub))
			continue;
		for (size_t k = 0; k < owner->n_tracks; k++) {
			down_add(sub, owner->tracks[k]);
			any = true;
		}
	}
	if (any)
		pl_part_schedule_sub_offer(sub);
}

void pl_router_request_keyframe(struct pl_track *t)
{
	uint8_t buf[64 + PL_SRTP_MAX_TRAILER];
	struct pl_peer *pub = t->owner->pub;
	int64_t now = pl_clock_mono_us();
	size_t len;

	if (!t->video || !t->ssrc || !pub || !pub->connected || !pl_kf_throttle_allow(&t->kf, now))
		return;
	if (pl_rtcp_pli_write(t->owner->rtcp_ssrc, t->ssrc, buf, 64, &len) < 0)
		return;
	if (pl_peer_send_rtcp(pub, buf, len, sizeof(buf)) == 0) {
		t->plis++;
		PL_COUNT(t->owner->w, plis_sent);
	}
}

static struct pl_track *find_track(struct pl_mpart *p, const struct pl_rtp_view *v, bool *is_rtx)
{
	struct pl_rtp_ext_elem e;

	*is_rtx = false;
	for (size_t i = 0; i < p->n_tracks; i++) {
		if (p->tracks[i]->ssrc == v->ssrc)
			return p->tracks[i];
		if (p->tracks[i]->rtx_ssrc && p->tracks[i]->rtx_ssrc == v->ssrc) {
			*is_rtx = true;
			return p->tracks[i];
		}
	}
	/* Unsignalled SSRC: bind it through the mid header extension. */
	if (p->pub_mid_ext && pl_rtp_ext_find(v, p->pub_mid_ext, &e) == 0) {
		for (size_t i = 0; i < p->n_tracks; i++) {
			struct pl_track *t = p->tracks[i];
			if (strlen(t->mid) == e.len && memcmp(t->mid, e.data, e.len) == 0) {
				if (t->ssrc == 0 && v->pt == t->pt)
					t->ssrc = v->ssrc;
				return t->ssrc == v->ssrc ? t : NULL;
			}
		}
	}
	return NULL;
}

/* Writes the outgoing form of v for down slot d (header rewritten, no
 * extensions) into out[0..cap); *len gets its length.  Returns 0 or the
 * rewriter's refusal. */
static int rewrite_packet(struct pl_down *d, const struct pl_rtp_view *v, int64_t now,
			  uint8_t *out, size_t *len)
{
	uint16_t seq;
	uint32_t ts;
	int rc = pl_rewrite_map(&d->rw, v->ssrc, v->seq, v->ts, now, &seq, &ts);

	if (rc < 0)
		return rc;
	out[0] = 0x80;
	out[1] = (uint8_t)((v->marker ? 0x80 : 0) | d->pt);
	pl_wr16(out + 2, seq);
	pl_wr32(out + 4, ts);
	pl_wr32(out + 8, d->ssrc);
	memcpy(out + PL_RTP_HEADER_BYTES, v->payload, v->payload_len);
	*len = PL_RTP_HEADER_BYTES + v->payload_len;
	return 0;
}

/* Rewrites v for down slot d of sub and sends it. */
static void forward(struct pl_mpart *sub, struct pl_down *d, const struct pl_rtp_view *v, int64_t now)
{
	uint8_t out[PL_PKT_CAP + PL_SRTP_MAX_TRAILER];
	size_t len;

	if (!sub->sub || !sub->sub->connected)
		return;
	if (PL_RTP_HEADER_BYTES + v->payload_len > PL_PKT_CAP) {
		PL_DROP(sub->w, oversize);
		return;
	}
	/* Video starts (and restarts after a source change) on a keyframe:
	 * deltas before it could not be decoded.  While waiting, ask the
	 * publisher again (throttled, so at most every 500 ms). */
	if (d->video && (d->waiting_keyframe || !d->rw.has_src || d->rw.ssrc != v->ssrc)) {
		struct pl_vp8_desc vd;
		if (pl_vp8_parse(v->payload, v->payload_len, &vd) < 0 || !vd.keyframe) {
			d->waiting_keyframe = true;
			d->keyframe_drops++;
			pl_router_request_keyframe(d->src);
			return;
		}
		d->waiting_keyframe = false;
	}
	if (rewrite_packet(d, v, now, out, &len) < 0) {
		PL_DROP(sub->w, stale); /* from before a source switch */
		return;
	}
	pl_rtcp_tx_on_packet(&d->tx, pl_rd32(out + 4), v->payload_len, now);
	if (pl_peer_send_rtp(sub->sub, out, len, sizeof(out)) == 0) {
		d->packets++;
		d->bytes += len;
		PL_COUNT(sub->w, rtp_forwarded);
	}
}

/* A NACKed packet for subscriber sub: found through the reverse rewrite in
 * the track's buffer, rewritten again and sent as RTX (or as it was, when
 * the subscriber refused RTX).  Returns 0 or why it was not resent. */
int pl_router_resend(struct pl_mpart *sub, struct pl_down *d, uint16_t out_seq, int64_t now)
{
	uint8_t plain[PL_PKT_CAP], out[PL_PKT_CAP + 2 + PL_SRTP_MAX_TRAILER];
	int64_t window = d->rtt_ms ? (int64_t)d->rtt_ms * 500 : 0;
	const uint8_t *pkt;
	struct pl_rtp_view v;
	size_t len, olen;
	uint16_t in_seq;
	int rc;

	if (window < PL_RTX_MIN_RESEND_INTERVAL_US)
		window = PL_RTX_MIN_RESEND_INTERVAL_US;
	for (size_t i = 0; i < G_N_ELEMENTS(d->resent); i++)
		if (d->resent[i].at_us && d->resent[i].seq == out_seq && now - d->resent[i].at_us < window)
			return PL_EEXIST; /* asked again before our resend could arrive */
	if (!d->src || (rc = pl_rewrite_unmap(&d->rw, out_seq, &in_seq)) < 0)
		return PL_EEXPIRED;
	rc = pl_rtx_buf_peek(d->src->rtx_buf, in_seq, now, &pkt, &len);
	if (rc < 0)
		return rc;
	if (pl_rtp_parse(pkt, len, &v) < 0 || rewrite_packet(d, &v, now, plain, &len) < 0 ||
	    pl_rd16(plain + 2) != out_seq)
		return PL_EPROTO;
	if (d->video && d->rtx_ok) {
		if (pl_rtx_stream_write(&d->rtx, plain, len, out, PL_PKT_CAP + 2, &olen) < 0)
			return PL_ETOOBIG;
	} else {
		memcpy(out, plain, len);
		olen = len;
	}
	d->resent[d->resent_next].seq = out_seq;
	d->resent[d->resent_next].at_us = now;
	d->resent_next = (uint8_t)((d->resent_next + 1) % G_N_ELEMENTS(d->resent));
	rc = pl_peer_send_rtp(sub->sub, out, olen, sizeof(out));
	if (rc == 0) {
		d->retransmits++;
		PL_COUNT(sub->w, retransmits);
	}
	return rc;
}

/* transport-cc: every packet the publisher sends counts, RTX included. */
static void record_twcc(struct pl_mpart *p, const struct pl_rtp_view *v, int64_t now)
{
	struct pl_rtp_ext_elem e;

	if (p->pub_twcc_ext && pl_rtp_ext_find(v, p->pub_twcc_ext, &e) == 0 && e.len == 2)
		pl_twcc_rx_on_packet(&p->twcc, pl_rd16(e.data), now);
}

void pl_router_on_rtp(struct pl_peer *peer, uint8_t *buf, size_t len)
{
	struct pl_mpart *p = peer->part;
	int64_t now = pl_clock_mono_us();
	struct pl_rtp_view v;
	struct pl_track *t;
	bool is_rtx;

	if (peer->pc != PL_MEDIA_PC_PUB) {
		PL_DROP(p->w, on_sub); /* nothing is published on a sub connection */
		return;
	}
	if (pl_srtp_unprotect(peer->srtp_in, buf, &len) < 0) {
		PL_COUNT(p->w, srtp_errors);
		return;
	}
	if (pl_rtp_parse(buf, len, &v) < 0) {
		PL_DROP(p->w, malformed);
		return;
	}
	record_twcc(p, &v, now);
	if (!(t = find_track(p, &v, &is_rtx))) {
		PL_DROP(p->w, unknown_ssrc);
		return;
	}
	if (is_rtx) {
		/* A retransmission we asked for: back to the original packet
		 * (padding-only probes on the RTX SSRC end here). */
		if (pl_rtx_unwrap(buf, &len, t->ssrc, t->pt) < 0 || pl_rtp_parse(buf, len, &v) < 0)
			return;
		t->rtx_in++;
		PL_COUNT(p->w, rtx_received);
	} else {
		pl_rtcp_rx_on_packet(&t->rxs, v.seq, v.ts, now);
	}
	t->packets++;
	t->bytes += len;
	if (t->nack_ok && pl_nack_rx_on_packet(&t->nack, v.seq, now) == PL_ETOOBIG) {
		t->keyframe_gaps++; /* losses too big to repair */
		pl_router_request_keyframe(t);
	}
	/* Padding-only probes, other codecs and muted tracks stop here. */
	if (v.pt != t->pt || v.payload_len == 0 || t->muted)
		return;
	pl_rtx_buf_put(t->rtx_buf, v.seq, buf, len, now);
	struct pl_mroom *r = p->room;
	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *sub = g_ptr_array_index(r->parts, i);
		for (size_t k = 0; k < sub->n_down; k++)
			if (sub->down[k].src == t && sub->down[k].active && !sub->down[k].paused)
				forward(sub, &sub->down[k], &v, now);
	}
}

