/* media/feedback.c: RTCP terminated at the server, both legs.
 *
 * From subscribers: PLI and FIR become one throttled keyframe request to
 * the publisher; generic NACKs are answered from the publisher track's
 * retransmission buffer (router.c); receiver reports give the RTT of the
 * leg, which paces NACK retries and duplicate suppression.  From
 * publishers: sender reports feed our receiver reports (LSR/DLSR).
 * The worker's 20 ms tick sends NACKs and transport-cc feedback upstream,
 * and once a second a receiver report to each publisher and a sender
 * report for every stream we send.  Runs on the owning worker's thread;
 * stack buffers only.
 */
#include "media/internal.h"
#include "media/rtcp.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <string.h>

#define RTCP_CAP 1200
#define NACK_MAX 64

static struct pl_down *down_by_ssrc(struct pl_mpart *p, uint32_t ssrc)
{
	for (size_t i = 0; i < p->n_down; i++)
		if (p->down[i].ssrc == ssrc && p->down[i].used)
			return &p->down[i];
	return NULL;
}

static void on_report_blocks(struct pl_mpart *p, const struct pl_rtcp_report *rb, size_t n, int64_t now)
{
	uint32_t mid32 = pl_rtcp_ntp_mid32(pl_rtcp_ntp_clock_at(&p->w->ntp, now)), rtt;
	struct pl_down *d;

	for (size_t i = 0; i < n; i++)
		if ((d = down_by_ssrc(p, rb[i].ssrc)) && pl_rtcp_rtt_ms(&rb[i], mid32, &rtt) == 0)
			d->rtt_ms = p->rtt_ms = rtt;
}

static void on_nack(struct pl_mpart *p, const struct pl_rtcp_pkt *pkt, int64_t now)
{
	uint16_t seqs[256];
	struct pl_rtcp_nack nack;
	struct pl_down *d;
	size_t n;

	if (pl_rtcp_nack_parse(pkt, &nack) < 0 || !(d = down_by_ssrc(p, nack.media_ssrc)) ||
	    pl_rtcp_nack_seqs(&nack, seqs, G_N_ELEMENTS(seqs), &n) < 0)
		return;
	PL_COUNT(p->w, nacks_received);
	for (size_t i = 0; i < n; i++) {
		d->nacks_in++;
		if (pl_router_resend(p, d, seqs[i], now) < 0)
			d->nacks_refused++; /* too old, duplicate, or never sent */
	}
}

/* Feedback from a subscriber about what we send it. */
static void on_sub_feedback(struct pl_mpart *p, const struct pl_rtcp_pkt *pkt, int64_t now)
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
	} else if (pkt->pt == PL_RTCP_RTPFB && pkt->count == PL_RTCP_FMT_NACK) {
		on_nack(p, pkt, now);
	} else if (pkt->pt == PL_RTCP_RR) {
		struct pl_rtcp_rr rr;
		if (pl_rtcp_rr_parse(pkt, &rr) == 0)
			on_report_blocks(p, rr.reports, rr.report_count, now);
	} else if (pkt->pt == PL_RTCP_SR) {
		struct pl_rtcp_sr sr;
		if (pl_rtcp_sr_parse(pkt, &sr) == 0)
			on_report_blocks(p, sr.reports, sr.report_count, now);
	}
}

/* Reports from a publisher about what it sends us. */
static void on_pub_feedback(struct pl_mpart *p, const struct pl_rtcp_pkt *pkt, int64_t now)
{
	struct pl_rtcp_sr sr;

	if (pkt->pt != PL_RTCP_SR || pl_rtcp_sr_parse(pkt, &sr) < 0)
		return;
	for (size_t i = 0; i < p->n_tracks; i++)
		if (p->tracks[i]->ssrc == sr.ssrc)
			pl_rtcp_rx_on_sr(&p->tracks[i]->rxs, sr.ntp, now);
}

void pl_router_on_rtcp(struct pl_peer *peer, uint8_t *buf, size_t len)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt pkt;
	int64_t now = pl_clock_mono_us();

	if (pl_srtp_unprotect_rtcp(peer->srtp_in, buf, &len) < 0) {
		PL_COUNT(peer->part->w, srtp_errors);
		return;
	}
	pl_rtcp_iter_init(&it, buf, len);
	while (pl_rtcp_iter_next(&it, &pkt) == 0) {
		if (peer->pc == PL_MEDIA_PC_SUB)
			on_sub_feedback(peer->part, &pkt, now);
		else
			on_pub_feedback(peer->part, &pkt, now);
	}
}

/* ---- what we send ------------------------------------------------------- */

static void send_nacks(struct pl_mpart *p, int64_t now)
{
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	uint16_t seqs[NACK_MAX];
	size_t n, len;

	for (size_t i = 0; i < p->n_tracks; i++) {
		struct pl_track *t = p->tracks[i];
		if (!t->ssrc || !t->nack_ok ||
		    pl_nack_rx_collect(&t->nack, now, p->rtt_ms, seqs, NACK_MAX, &n) < 0 || n == 0)
			continue;
		if (pl_rtcp_nack_write(p->rtcp_ssrc, t->ssrc, seqs, n, buf, RTCP_CAP, &len) == 0 &&
		    pl_peer_send_rtcp(p->pub, buf, len, sizeof(buf)) == 0) {
			t->nacks_sent += n;
			PL_COUNT(p->w, nacks_sent);
		}
	}
}

static void send_twcc(struct pl_mpart *p)
{
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	uint32_t media = p->n_tracks ? p->tracks[0]->ssrc : 0;
	size_t len;

	while (pl_twcc_rx_build(&p->twcc, p->rtcp_ssrc, media, buf, RTCP_CAP, &len) == 0)
		if (pl_peer_send_rtcp(p->pub, buf, len, sizeof(buf)) == 0)
			PL_COUNT(p->w, twcc_feedbacks);
}

/* One receiver report, with a block per published stream, to the publisher. */
static void send_rr(struct pl_mpart *p, int64_t now)
{
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	struct pl_rtcp_rr rr = { .ssrc = p->rtcp_ssrc };
	size_t len;

	for (size_t i = 0; i < p->n_tracks && rr.report_count < PL_RTCP_MAX_REPORTS; i++) {
		struct pl_track *t = p->tracks[i];
		if (t->ssrc && pl_rtcp_rx_report(&t->rxs, t->ssrc, now, &rr.reports[rr.report_count]) == 0)
			rr.report_count++;
	}
	if (pl_rtcp_rr_write(&rr, buf, RTCP_CAP, &len) == 0)
		pl_peer_send_rtcp(p->pub, buf, len, sizeof(buf));
}

/* Sender reports for every stream we send the subscriber, packed into as
 * few compound datagrams as fit. */
static void send_srs(struct pl_mpart *p, int64_t now)
{
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	uint64_t ntp = pl_rtcp_ntp_clock_at(&p->w->ntp, now);
	size_t off = 0, len;

	for (size_t i = 0; i < p->n_down; i++) {
		struct pl_down *d = &p->down[i];
		struct pl_rtcp_sr sr;
		if (!d->active || pl_rtcp_tx_sr(&d->tx, d->ssrc, now, ntp, &sr) < 0)
			continue;
		if (off + 28 > RTCP_CAP) {
			pl_peer_send_rtcp(p->sub, buf, off, sizeof(buf));
			off = 0;
		}
		if (pl_rtcp_sr_write(&sr, buf + off, RTCP_CAP - off, &len) == 0)
			off += len;
	}
	if (off)
		pl_peer_send_rtcp(p->sub, buf, off, sizeof(buf));
}

void pl_router_tick(struct pl_mpart *p, int64_t now_us, bool reports)
{
	if (reports)
		pl_router_update_consent(p);
	if (p->pub && p->pub->connected) {
		send_nacks(p, now_us);
		send_twcc(p);
		if (reports)
			send_rr(p, now_us);
	}
	if (reports && p->sub && p->sub->connected)
		send_srs(p, now_us);
}
