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

#define PLI_MIN_INTERVAL_US 500000

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
	d->started = false;
	d->waiting_keyframe = t->video;
	d->packets = 0;
	d->keyframe_drops = 0;
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

	if (!t->video || !t->ssrc || !pub || !pub->connected)
		return;
	if (t->last_pli_us && now - t->last_pli_us < PLI_MIN_INTERVAL_US)
		return;
	if (pl_rtcp_pli_write(t->owner->rtcp_ssrc, t->ssrc, buf, 64, &len) < 0)
		return;
	t->last_pli_us = now;
	if (pl_peer_send_rtcp(pub, buf, len, sizeof(buf)) == 0)
		PL_COUNT(t->owner->w, plis_sent);
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

/* Rewrites v for down slot d of sub and sends it. */
static void forward(struct pl_mpart *sub, struct pl_down *d, const struct pl_rtp_view *v)
{
	uint8_t out[PL_PKT_CAP + PL_SRTP_MAX_TRAILER];
	size_t len = PL_RTP_HEADER_BYTES + v->payload_len;
	uint16_t seq;
	uint32_t ts;

	if (!sub->sub || !sub->sub->connected)
		return;
	if (len > PL_PKT_CAP) {
		PL_COUNT(sub->w, drops);
		return;
	}
	/* Video starts (and restarts after a source change) on a keyframe:
	 * deltas before it could not be decoded.  While waiting, ask the
	 * publisher again (throttled, so at most every 500 ms). */
	if (d->video && (d->waiting_keyframe || d->src_ssrc != v->ssrc)) {
		struct pl_vp8_desc vd;
		if (pl_vp8_parse(v->payload, v->payload_len, &vd) < 0 || !vd.keyframe) {
			d->waiting_keyframe = true;
			d->keyframe_drops++;
			pl_router_request_keyframe(d->src);
			return;
		}
		d->waiting_keyframe = false;
	}
	if (!d->started || d->src_ssrc != v->ssrc) {
		/* A new source (or a restarted one) continues the outgoing
		 * stream where it stopped. */
		uint16_t next_seq = d->started ? (uint16_t)(d->last_seq + 1) : (uint16_t)g_random_int();
		uint32_t next_ts = d->started ? d->last_ts + (d->video ? 3000 : 960) : g_random_int();
		d->seq_delta = (uint16_t)(next_seq - v->seq);
		d->ts_delta = next_ts - v->ts;
		d->src_ssrc = v->ssrc;
		d->started = false;
	}
	seq = (uint16_t)(v->seq + d->seq_delta);
	ts = v->ts + d->ts_delta;
	out[0] = 0x80;
	out[1] = (uint8_t)((v->marker ? 0x80 : 0) | d->pt);
	pl_wr16(out + 2, seq);
	pl_wr32(out + 4, ts);
	pl_wr32(out + 8, d->ssrc);
	memcpy(out + PL_RTP_HEADER_BYTES, v->payload, v->payload_len);
	if (!d->started || (int16_t)(seq - d->last_seq) > 0) {
		d->last_seq = seq;
		d->last_ts = ts;
	}
	d->started = true;
	if (pl_peer_send_rtp(sub->sub, out, len, sizeof(out)) == 0) {
		d->packets++;
		PL_COUNT(sub->w, rtp_forwarded);
	}
}

void pl_router_on_rtp(struct pl_peer *peer, uint8_t *buf, size_t len)
{
	struct pl_mpart *p = peer->part;
	struct pl_rtp_view v;
	struct pl_track *t;
	bool is_rtx;

	if (peer->pc != PL_MEDIA_PC_PUB) {
		PL_COUNT(p->w, drops); /* nothing is published on a sub connection */
		return;
	}
	if (pl_srtp_unprotect(peer->srtp_in, buf, &len) < 0) {
		PL_COUNT(p->w, srtp_errors);
		return;
	}
	if (pl_rtp_parse(buf, len, &v) < 0 || !(t = find_track(p, &v, &is_rtx))) {
		PL_COUNT(p->w, drops);
		return;
	}
	t->packets++;
	t->bytes += len;
	/* Retransmissions, padding-only probes and muted tracks stop here. */
	if (is_rtx || v.pt != t->pt || v.payload_len == 0 || t->muted) {
		if (!is_rtx && v.pt != t->pt && t->packets < 5)
			PL_LOG(PL_LOG_DEBUG, "rtp", "[p=%s] track %s: pt %u, expected %u", p->pid, t->id, v.pt, t->pt);
		return;
	}
	struct pl_mroom *r = p->room;
	for (guint i = 0; i < r->parts->len; i++) {
		struct pl_mpart *sub = g_ptr_array_index(r->parts, i);
		for (size_t k = 0; k < sub->n_down; k++)
			if (sub->down[k].src == t && sub->down[k].active)
				forward(sub, &sub->down[k], &v);
	}
}

static struct pl_down *down_by_ssrc(struct pl_mpart *p, uint32_t ssrc)
{
	for (size_t i = 0; i < p->n_down; i++)
		if (p->down[i].ssrc == ssrc)
			return &p->down[i];
	return NULL;
}

/* Feedback from a subscriber about what we send it. */
static void on_sub_feedback(struct pl_mpart *p, const struct pl_rtcp_pkt *pkt)
{
	uint32_t sender, media;
	struct pl_down *d;

	if (pkt->pt == PL_RTCP_PSFB && pkt->count == PL_RTCP_FMT_PLI &&
	    pl_rtcp_pli_parse(pkt, &sender, &media) == 0) {
		if ((d = down_by_ssrc(p, media)) && d->src)
			pl_router_request_keyframe(d->src);
	} else if (pkt->pt == PL_RTCP_PSFB && pkt->count == PL_RTCP_FMT_FIR) {
		struct pl_rtcp_fir fir;
		if (pl_rtcp_fir_parse(pkt, &fir) == 0)
			for (size_t i = 0; i < fir.entry_count; i++)
				if ((d = down_by_ssrc(p, pl_rtcp_fir_entry(&fir, i).ssrc)) && d->src)
					pl_router_request_keyframe(d->src);
	}
}

void pl_router_on_rtcp(struct pl_peer *peer, uint8_t *buf, size_t len)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt pkt;

	if (pl_srtp_unprotect_rtcp(peer->srtp_in, buf, &len) < 0) {
		PL_COUNT(peer->part->w, srtp_errors);
		return;
	}
	pl_rtcp_iter_init(&it, buf, len);
	while (pl_rtcp_iter_next(&it, &pkt) == 0)
		if (peer->pc == PL_MEDIA_PC_SUB)
			on_sub_feedback(peer->part, &pkt);
}
