/* client/client_sub.c: what a client receives on its sub connection.
 *
 * The server offers one sendonly m-line per forwarded track and re-offers
 * (rev) as tracks come and go; each offer is answered (client_sdp.c) and
 * its m-lines become received streams: mid, the publisher and track from
 * a=msid, the SSRC and RTX SSRC from a=ssrc / ssrc-group FID.  A reused
 * m-line with a new SSRC starts a new stream; the old one's counters move
 * into the client's totals so nothing is lost from the figures.
 *
 * Per packet: find the stream by SSRC (the last hit first), turn RTX back
 * into the original (pl_rtx_unwrap), account it -- RFC 3550 statistics and
 * jitter for our RR (media/rtcp_report.h, originals only), the NACK
 * detector (media/nack.h), and a bitmap of the last PL_CLIENT_LOSS_WINDOW
 * sequence numbers that counts each packet once, so that loss is what
 * stays missing after repair -- and, when the application wants frames,
 * depacketize.  An Opus frame is one packet, handed out as it comes.  VP8
 * packets go through a reorder buffer (client/reorder.h), so that a packet
 * repaired by NACK/RTX, which arrives after newer ones, still completes
 * its frame: frames come out in order, a hole is waited for up to
 * max(2 RTT, 150 ms) (at most 300 ms) from when it showed, and a frame
 * given up makes the buffer drop delta frames until a keyframe.  Meanwhile
 * we ask the server for one with an RTCP PLI (at most one per 300 ms per
 * stream, again every second while none comes); the server turns it into
 * a throttled PLI to the publisher (media/feedback.c).
 * The loop's tick sends due NACKs and PLIs every 20 ms, an RR about every
 * stream once a second, and lets the reorder buffers give up what they
 * waited for too long.
 * Runs on the loop thread; no allocation per packet (a video stream's
 * reorder ring is allocated at its first packet; the frame buffer grows to
 * the largest frame once).
 */
#include "client/client_internal.h"
#include "client/reorder.h"
#include "media/keyframe.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NACK_BATCH 64
#define RTCP_CAP 1200
/* How long a hole in a video stream is waited for: twice the RTT, within
 * these bounds.  The floor covers two NACK rounds of a leg whose RTT is
 * unknown or ~0 (pl_nack_rx retries every 100 ms then; the server's NACKs
 * upstream do), so that a repair lost once still makes it; a frame held
 * that long is not yet a freeze (> 200 ms) for a viewer.  Without NACK
 * nothing will repair a hole, so only reordering on the way is worth a
 * short wait. */
#define REORDER_WAIT_MIN_US 150000
#define REORDER_WAIT_MAX_US 300000
#define REORDER_WAIT_NO_NACK_US 30000
/* reorder.h's keyframe request spacing is parleyd's. */
G_STATIC_ASSERT(PL_REORDER_PLI_AGAIN_US == PL_KF_MIN_INTERVAL_US);

/* What a packet is to the loss accounting: the newest so far, an older one
 * filling a hole (reordered or repaired), a duplicate, or too old. */
enum seen { SEEN_NEWEST, SEEN_LATE, SEEN_DUP, SEEN_OLD };

void pl_client_sub_init(struct pl_client_sub *s)
{
	memset(s, 0, sizeof(*s));
	s->streams = g_ptr_array_new();
	s->rtcp_ssrc = g_random_int();
}

static void stream_free(struct pl_client_in *in)
{
	pl_reorder_destroy(in->reorder);
	g_free(in);
}

void pl_client_sub_release(struct pl_client_sub *s)
{
	for (guint i = 0; s->streams && i < s->streams->len; i++)
		stream_free(g_ptr_array_index(s->streams, i));
	if (s->streams)
		g_ptr_array_free(s->streams, TRUE);
	s->streams = NULL;
	pl_sdp_destroy(s->pending_answer);
	s->pending_answer = NULL;
	pl_client_peer_destroy(s->peer);
	s->peer = NULL;
}

/* ---- streams from offers ------------------------------------------------- */

struct offered {
	const char *mid, *participant, *track;
	bool video, active, nack;
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt, rtx_pt;
};

static void offered_pts(const struct pl_sdp_media *m, struct offered *o)
{
	for (size_t i = 0; i < m->rtpmap_count; i++) {
		const struct pl_sdp_rtpmap *r = &m->rtpmaps[i];

		if (strcasecmp(r->name, "rtx") == 0)
			o->rtx_pt = r->pt;
		else if (strcasecmp(r->name, o->video ? "VP8" : "opus") == 0 && !o->pt)
			o->pt = r->pt;
	}
	/* NACK only what the server agreed to retransmit (its offers have no
	 * NACK for Opus). */
	for (size_t i = 0; i < m->rtcp_fb_count; i++)
		if ((m->rtcp_fbs[i].pt == o->pt || m->rtcp_fbs[i].pt == -1) &&
		    strcmp(m->rtcp_fbs[i].type, "nack") == 0 && !m->rtcp_fbs[i].param)
			o->nack = true;
}

static bool offered_of(const struct pl_sdp_media *m, struct offered *o)
{
	memset(o, 0, sizeof(*o));
	if (!m->mid || (m->kind != PL_SDP_KIND_AUDIO && m->kind != PL_SDP_KIND_VIDEO))
		return false;
	o->mid = m->mid;
	o->video = m->kind == PL_SDP_KIND_VIDEO;
	o->active = m->port != 0 && m->msid_count > 0 &&
		    (m->dir == PL_SDP_DIR_SENDONLY || m->dir == PL_SDP_DIR_SENDRECV);
	if (m->msid_count) {
		o->participant = m->msids[0].stream;
		o->track = m->msids[0].track;
	}
	for (size_t i = 0; i < m->ssrc_group_count; i++)
		if (strcmp(m->ssrc_groups[i].semantics, "FID") == 0 && m->ssrc_groups[i].ssrc_count == 2)
			o->ssrc = m->ssrc_groups[i].ssrcs[0], o->rtx_ssrc = m->ssrc_groups[i].ssrcs[1];
	if (!o->ssrc && m->ssrc_count)
		o->ssrc = m->ssrcs[0].ssrc;
	offered_pts(m, o);
	return true;
}

static struct pl_client_in *stream_by_mid(struct pl_client_sub *s, const char *mid)
{
	for (guint i = 0; i < s->streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(s->streams, i);
		if (strcmp(in->mid, mid) == 0)
			return in;
	}
	return NULL;
}

/* The stream's counters join the totals; it starts afresh. */
static void stream_retire(struct pl_client_sub *s, struct pl_client_in *in)
{
	struct pl_client_stream_stats st;

	pl_client_sub_stream_stats(in, &st);
	s->ended_packets += st.packets;
	s->ended_bytes += st.bytes;
	s->ended_expected += st.expected;
	s->ended_lost += st.lost;
	s->ended_duplicates += st.duplicates;
	s->ended_rtx += st.rtx;
	s->ended_nacked += st.nacked;
}

void pl_client_sub_reset(struct pl_client *c)
{
	struct pl_client_sub *s = &c->sub;

	for (guint i = 0; i < s->streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(s->streams, i);

		stream_retire(s, in);
		stream_free(in);
	}
	g_ptr_array_set_size(s->streams, 0);
	s->last_hit = NULL;
	s->rev = 0;
	pl_sdp_destroy(s->pending_answer);
	s->pending_answer = NULL;
	pl_client_peer_destroy(s->peer);
	s->peer = NULL;
}

/* A new SSRC: a new sequence space, so a new reorder buffer (made again
 * at the first packet). */
static void stream_reset(struct pl_client_in *in, const struct offered *o)
{
	pl_reorder_destroy(in->reorder);
	memset(in, 0, sizeof(*in));
	g_strlcpy(in->mid, o->mid, sizeof(in->mid));
	in->video = o->video;
	in->ssrc = o->ssrc;
	pl_rtcp_rx_init(&in->rxs, o->video ? 90000 : 48000);
	pl_nack_rx_init(&in->nack, NULL);
}

static void stream_update(struct pl_client_sub *s, const struct offered *o)
{
	struct pl_client_in *in = stream_by_mid(s, o->mid);

	if (!in) {
		in = g_new0(struct pl_client_in, 1);
		stream_reset(in, o);
		g_ptr_array_add(s->streams, in);
	} else if (o->active && o->ssrc && o->ssrc != in->ssrc) {
		stream_retire(s, in);
		stream_reset(in, o);
	}
	in->active = o->active;
	if (!o->active)
		return;
	in->nack_ok = o->nack;
	in->rtx_ssrc = o->rtx_ssrc;
	in->pt = o->pt;
	in->rtx_pt = o->rtx_pt;
	g_strlcpy(in->participant, o->participant ? o->participant : "", sizeof(in->participant));
	g_strlcpy(in->track, o->track ? o->track : "", sizeof(in->track));
}

/* ---- offers and answers -------------------------------------------------- */

static void answer_send(struct pl_client *c, struct pl_sdp *answer, uint32_t rev)
{
	char *text = NULL;
	json_t *msg;

	pl_client_peer_fill_candidates(c->sub.peer, pl_client_sdp_bundle_media(answer));
	if (pl_sdp_write(answer, &text, NULL) < 0) {
		PL_LOG(PL_LOG_ERROR, "sdp", "[p=%s] cannot write our sub answer", c->pid ? c->pid : "-");
		return;
	}
	c->sub.answer_req = pl_client_next_req(c);
	msg = json_pack("{s:s, s:s, s:I, s:I, s:s}", "type", "answer", "pc", "sub", "id",
			(json_int_t)c->sub.answer_req, "rev", (json_int_t)rev, "sdp", text);
	free(text);
	pl_client_sig_send(c, msg);
	c->sub.rev = rev;
}

void pl_client_sub_send_answer(struct pl_client *c)
{
	struct pl_client_sub *s = &c->sub;

	if (!s->pending_answer || !s->peer)
		return;
	answer_send(c, s->pending_answer, s->pending_rev);
	pl_sdp_destroy(s->pending_answer);
	s->pending_answer = NULL;
}

static int sub_peer(struct pl_client *c)
{
	if (c->sub.peer)
		return 0;
	c->sub.peer = pl_client_peer_create(c, PL_CLIENT_PC_SUB);
	if (!c->sub.peer)
		return PL_EIO;
	return pl_ice_transport_gather(c->sub.peer->ice);
}

void pl_client_sub_on_offer(struct pl_client *c, uint32_t rev, const char *text)
{
	struct pl_client_sub *s = &c->sub;
	struct pl_client_sdp_local l;
	struct pl_sdp_error err = { 0 };
	struct pl_sdp_remote r;
	struct pl_sdp *offer = NULL, *answer = NULL;
	struct offered o;
	int rc;

	rc = pl_sdp_parse(text, strlen(text), &offer, &err);
	if (rc == 0)
		rc = sub_peer(c);
	if (rc == 0)
		rc = pl_sdp_bundle_transport(offer, NULL, &r);
	if (rc == 0)
		rc = pl_client_peer_set_remote(s->peer, &r);
	if (rc == 0) {
		pl_client_sdp_local_fill(c, s->peer, &l);
		rc = pl_client_sdp_sub_answer(offer, &l, &answer);
	}
	if (rc < 0) {
		PL_LOG(PL_LOG_WARN, "sdp", "[p=%s] cannot answer sub offer rev %u (line %u: %s): %s",
		       c->pid ? c->pid : "-", rev, err.line, err.reason ? err.reason : "-", pl_strerror(rc));
		pl_sdp_destroy(offer);
		return;
	}
	for (size_t i = 0; i < offer->media_count; i++)
		if (offered_of(offer->media[i], &o))
			stream_update(s, &o);
	s->last_hit = NULL;
	pl_sdp_destroy(offer);
	pl_sdp_destroy(s->pending_answer);
	s->pending_answer = answer;
	s->pending_rev = rev;
	/* Our candidates go into the answer once gathered (at once on
	 * loopback); a renegotiation has them already. */
	if (s->peer->gathering_done || s->peer->local_sent)
		pl_client_sub_send_answer(c);
}

/* ---- reception ------------------------------------------------------------ */

static struct pl_client_in *stream_by_ssrc(struct pl_client_sub *s, uint32_t ssrc, bool *is_rtx)
{
	*is_rtx = false;
	if (s->last_hit && s->last_hit->ssrc == ssrc)
		return s->last_hit;
	for (guint i = 0; i < s->streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(s->streams, i);

		if (in->ssrc == ssrc)
			return s->last_hit = in;
		if (in->rtx_ssrc && in->rtx_ssrc == ssrc) {
			*is_rtx = true;
			return in;
		}
	}
	return NULL;
}

#define BIT(ext) (in->seen[((ext) % PL_CLIENT_LOSS_WINDOW) / 64] & (1ull << ((ext) % 64)))
#define SET(ext) (in->seen[((ext) % PL_CLIENT_LOSS_WINDOW) / 64] |= 1ull << ((ext) % 64))
#define CLR(ext) (in->seen[((ext) % PL_CLIENT_LOSS_WINDOW) / 64] &= ~(1ull << ((ext) % 64)))

/* Counts seq once: new, a duplicate, or older than the window. */
static enum seen mark_seen(struct pl_client_in *in, uint16_t seq)
{
	int32_t delta;
	uint32_t ext;

	if (!in->started) {
		in->started = true;
		in->base_ext = in->max_ext = 65536u + seq; /* room below for reordering */
		SET(in->max_ext);
		return SEEN_NEWEST;
	}
	delta = (int16_t)(seq - (uint16_t)in->max_ext);
	ext = in->max_ext + (uint32_t)delta;
	if (delta > 0) {
		if ((uint32_t)delta >= PL_CLIENT_LOSS_WINDOW)
			memset(in->seen, 0, sizeof(in->seen));
		else
			for (uint32_t x = in->max_ext + 1; x != ext; x++)
				CLR(x);
		in->max_ext = ext;
		SET(ext);
		return SEEN_NEWEST;
	}
	if (ext < in->base_ext || in->max_ext - ext >= PL_CLIENT_LOSS_WINDOW)
		return SEEN_OLD;
	if (BIT(ext))
		return SEEN_DUP;
	SET(ext);
	return SEEN_LATE;
}

static void deliver(struct pl_client *c, struct pl_client_in *in, const uint8_t *data, size_t len,
		    uint32_t ts, bool key, int64_t now)
{
	struct pl_client_frame f = {
		.participant = in->participant, .track = in->track,
		.kind = in->video ? PL_CLIENT_VIDEO : PL_CLIENT_AUDIO,
		.data = data, .len = len, .rtp_ts = ts, .keyframe = key, .arrival_us = now,
	};

	c->cb.frame(c, c->ud, &f);
}

static int64_t reorder_wait_us(const struct pl_client *c, const struct pl_client_in *in)
{
	int64_t w = 2 * (int64_t)c->rtt_ms * 1000;

	if (!in->nack_ok)
		return REORDER_WAIT_NO_NACK_US;
	return CLAMP(w, REORDER_WAIT_MIN_US, REORDER_WAIT_MAX_US);
}

/* Hands out the VP8 frames the reorder buffer has ready. */
static void vp8_deliver_ready(struct pl_client *c, struct pl_client_in *in, int64_t now)
{
	struct pl_reorder_frame f;

	while (pl_reorder_pop(in->reorder, now, reorder_wait_us(c, in), &f))
		deliver(c, in, f.data, f.len, f.ts, f.keyframe, now);
}

static void vp8_on_packet(struct pl_client *c, struct pl_client_in *in, const struct pl_rtp_view *v,
			  int64_t now)
{
	if (!in->reorder)
		in->reorder = pl_reorder_create(PL_REORDER_DEFAULT_SLOTS);
	/* Bad payloads are counted in the buffer's stats; late ones too. */
	(void)pl_reorder_push(in->reorder, v->seq, v->ts, v->marker, v->payload, v->payload_len, now);
	vp8_deliver_ready(c, in, now);
}

/* RFC 3550 statistics (our RR, jitter) see the stream as it arrived in
 * order: what fills a hole later, a repair above all, would count as
 * arrival jitter and hide the loss the sender's congestion control should
 * hear about. */
static void on_media(struct pl_client *c, struct pl_client_in *in, const struct pl_rtp_view *v,
		     int64_t now)
{
	if (in->nack_ok)
		pl_nack_rx_on_packet(&in->nack, v->seq, now);
	switch (mark_seen(in, v->seq)) {
	case SEEN_DUP:
		in->duplicates++;
		return;
	case SEEN_OLD:
		return;
	case SEEN_NEWEST:
		pl_rtcp_rx_on_packet(&in->rxs, v->seq, v->ts, now);
		break;
	case SEEN_LATE:
		break;
	}
	if (!in->first_us)
		in->first_us = now;
	in->last_us = now;
	in->packets++;
	in->bytes += v->payload_len;
	if (!in->video || v->marker)
		in->frames++;
	if (!c->cb.frame)
		return;
	if (in->video)
		vp8_on_packet(c, in, v, now); /* an empty one fills its place */
	else if (v->payload_len)
		deliver(c, in, v->payload, v->payload_len, v->ts, false, now);
}

void pl_client_sub_on_rtp(struct pl_client *c, uint8_t *buf, size_t len)
{
	struct pl_client_in *in;
	struct pl_rtp_view v;
	bool is_rtx;

	if (pl_rtp_parse(buf, len, &v) < 0 || !(in = stream_by_ssrc(&c->sub, v.ssrc, &is_rtx)))
		return;
	if (is_rtx) {
		/* Padding-only probes on the RTX SSRC end here. */
		if (pl_rtx_unwrap(buf, &len, in->ssrc, in->pt) < 0 || pl_rtp_parse(buf, len, &v) < 0)
			return;
		in->rtx++;
	}
	if (v.pt != in->pt)
		return;
	on_media(c, in, &v, pl_clock_mono_us());
}

void pl_client_sub_on_rtcp(struct pl_client *c, const uint8_t *buf, size_t len)
{
	int64_t now = pl_clock_mono_us();
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt pkt;
	struct pl_rtcp_sr sr;
	struct pl_client_in *in;
	bool is_rtx;

	pl_rtcp_iter_init(&it, buf, len);
	while (pl_rtcp_iter_next(&it, &pkt) == 0)
		if (pkt.pt == PL_RTCP_SR && pl_rtcp_sr_parse(&pkt, &sr) == 0 &&
		    (in = stream_by_ssrc(&c->sub, sr.ssrc, &is_rtx)) && !is_rtx)
			pl_rtcp_rx_on_sr(&in->rxs, sr.ntp, now);
}

/* ---- RTCP: NACKs every tick, an RR every second ---------------------------- */

static size_t add_nacks(struct pl_client *c, int64_t now, uint8_t *buf, size_t cap)
{
	struct pl_client_sub *s = &c->sub;
	uint16_t seqs[NACK_BATCH];
	size_t len = 0, n, w;
	/* Retries every RTT, at most once a tick: an unknown (0) RTT must not
	 * fall back to pl_nack_rx's 100 ms default, which would leave a lost
	 * repair one try in the reorder buffer's wait; the server ignores a
	 * NACK for a packet it resent within half its RTT. */
	uint32_t nack_rtt = MAX(c->rtt_ms, PL_CLIENT_TICK_MS);

	for (guint i = 0; i < s->streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(s->streams, i);

		if (!in->active || !in->nack_ok || in->nack.n == 0 || cap - len < 64)
			continue;
		if (pl_nack_rx_collect(&in->nack, now, nack_rtt, seqs, NACK_BATCH, &n) < 0 || n == 0)
			continue;
		if (pl_rtcp_nack_write(s->rtcp_ssrc, in->ssrc, seqs, n, buf + len, cap - len, &w) == 0) {
			len += w;
			in->nacked += n;
		}
	}
	return len;
}

/* A PLI for each video stream whose reorder buffer waits for a keyframe,
 * spaced as reorder.h says. */
static size_t add_plis(struct pl_client *c, int64_t now, uint8_t *buf, size_t cap)
{
	struct pl_client_sub *s = &c->sub;
	size_t len = 0, w;

	for (guint i = 0; i < s->streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(s->streams, i);

		if (!in->active || !in->reorder || !pl_reorder_pli_due(&in->pli, in->reorder, now))
			continue;
		if (pl_rtcp_pli_write(s->rtcp_ssrc, in->ssrc, buf + len, cap - len, &w) < 0)
			break;
		len += w;
		pl_reorder_pli_sent(&in->pli, in->reorder, now);
		s->plis_sent++;
	}
	return len;
}

/* Receiver reports about every active stream, 31 blocks per RR. */
static size_t add_rr(struct pl_client *c, int64_t now, uint8_t *buf, size_t cap)
{
	struct pl_client_sub *s = &c->sub;
	struct pl_rtcp_rr rr = { .ssrc = s->rtcp_ssrc };
	size_t len = 0, w;

	for (guint i = 0; i <= s->streams->len; i++) {
		struct pl_client_in *in = i < s->streams->len ? g_ptr_array_index(s->streams, i) : NULL;

		if (in && in->active &&
		    pl_rtcp_rx_report(&in->rxs, in->ssrc, now, &rr.reports[rr.report_count]) == 0)
			rr.report_count++;
		if ((!in && (rr.report_count || len == 0)) || rr.report_count == PL_RTCP_MAX_REPORTS) {
			if (pl_rtcp_rr_write(&rr, buf + len, cap - len, &w) < 0)
				break;
			len += w;
			rr.report_count = 0;
		}
	}
	return len;
}

void pl_client_sub_tick(struct pl_client *c, int64_t now_us, bool reports)
{
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	size_t len = 0;

	/* Holes waited for too long are given up even when nothing arrives. */
	for (guint i = 0; c->cb.frame && i < c->sub.streams->len; i++) {
		struct pl_client_in *in = g_ptr_array_index(c->sub.streams, i);
		if (in->reorder)
			vp8_deliver_ready(c, in, now_us);
	}
	if (!c->sub.peer || !c->sub.peer->connected)
		return;
	if (reports)
		len = add_rr(c, now_us, buf, RTCP_CAP);
	len += add_nacks(c, now_us, buf + len, RTCP_CAP - len);
	len += add_plis(c, now_us, buf + len, RTCP_CAP - len);
	if (len)
		pl_client_peer_send_rtcp(c->sub.peer, buf, len, sizeof(buf));
}

void pl_client_sub_stream_stats(const struct pl_client_in *in, struct pl_client_stream_stats *st)
{
	memset(st, 0, sizeof(*st));
	g_strlcpy(st->participant, in->participant, sizeof(st->participant));
	g_strlcpy(st->track, in->track, sizeof(st->track));
	g_strlcpy(st->mid, in->mid, sizeof(st->mid));
	st->kind = in->video ? PL_CLIENT_VIDEO : PL_CLIENT_AUDIO;
	st->ssrc = in->ssrc;
	st->active = in->active;
	st->packets = in->packets;
	st->bytes = in->bytes;
	st->expected = in->started ? (uint64_t)(in->max_ext - in->base_ext) + 1 : 0;
	st->lost = st->expected > st->packets ? st->expected - st->packets : 0;
	st->duplicates = in->duplicates;
	st->rtx = in->rtx;
	st->nacked = in->nacked;
	st->frames = in->frames;
	st->jitter_ms = (double)in->rxs.jitter_q4 / 16.0 * 1000.0 / (double)in->rxs.clock_hz;
	st->first_us = in->first_us;
	st->last_us = in->last_us;
	st->plis_sent = in->pli.sent;
	if (in->reorder) {
		struct pl_reorder_stats rs;

		pl_reorder_get_stats(in->reorder, &rs);
		st->frames_incomplete = rs.frames_incomplete;
		st->frames_skipped = rs.frames_skipped;
	}
}
