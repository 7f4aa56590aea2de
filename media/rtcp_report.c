/* media/rtcp_report.c: what our SRs and RRs say.
 *
 * Receiving.  The sequence accounting is RFC 3550 A.1 without the initial
 * probation (a WebRTC stream is announced in SDP, so its first packet is
 * trusted): the highest sequence number and its wrap count give the
 * extended highest sequence number, base_seq the first one, so expected =
 * extended max - base + 1, and cumulative loss = expected - received,
 * which goes negative with duplicates as the RFC intends.  Fraction lost
 * is A.3: the loss over the interval since the previous report, zero
 * when duplicates or late arrivals outnumber it.  Jitter is A.8 in its
 * integer form, on the difference between arrival time in RTP units and
 * the RTP timestamp, scaled by 16 for precision.
 *
 * Sending.  An SR pairs an NTP time with the RTP timestamp "of the same
 * instant".  The SFU creates no media, so the timestamp is extrapolated
 * from the newest packet it sent: that packet's (rewritten) timestamp
 * plus the time since it went out at the clock rate.  The receiver uses
 * the pair for lip sync and for its RTT-free delay estimate; being
 * consistent with the rewritten timestamps is what matters.
 *
 * RTT.  A report block answering our SR carries LSR (the middle 32 bits
 * of that SR's NTP time) and DLSR (how long the receiver held it, in
 * 1/65536 s), so now - LSR - DLSR is the round trip, in the same units.
 *
 * No state outside the structs; each belongs to its stream's worker.
 */
#include "media/rtcp_report.h"

#include <string.h>

#include "common/err.h"

#define SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define US_PER_S 1000000

/* ---- NTP time ------------------------------------------------------------ */

uint64_t pl_rtcp_ntp_from_unix_us(int64_t unix_us)
{
	uint64_t s = (uint64_t)(unix_us / US_PER_S) + PL_NTP_UNIX_OFFSET_S;
	uint64_t us = (uint64_t)(unix_us % US_PER_S);

	return s << 32 | (((us << 32) + US_PER_S / 2) / US_PER_S);
}

int64_t pl_rtcp_ntp_to_unix_us(uint64_t ntp)
{
	int64_t s = (int64_t)(ntp >> 32) - (int64_t)PL_NTP_UNIX_OFFSET_S;
	uint64_t frac = ntp & 0xffffffffu;

	return s * US_PER_S + (int64_t)((frac * US_PER_S + (1u << 31)) >> 32);
}

uint32_t pl_rtcp_ntp_short_from_us(int64_t us)
{
	if (us <= 0)
		return 0;
	return (uint32_t)((((uint64_t)us << 16) + US_PER_S / 2) / US_PER_S);
}

void pl_rtcp_ntp_clock_init(struct pl_rtcp_ntp_clock *c, int64_t mono_us, int64_t unix_us)
{
	c->mono_us = mono_us;
	c->unix_us = unix_us;
}

uint64_t pl_rtcp_ntp_clock_at(const struct pl_rtcp_ntp_clock *c, int64_t mono_us)
{
	return pl_rtcp_ntp_from_unix_us(c->unix_us + (mono_us - c->mono_us));
}

/* ---- Receiver statistics ------------------------------------------------- */

void pl_rtcp_rx_init(struct pl_rtcp_rx_stats *s, uint32_t clock_hz)
{
	memset(s, 0, sizeof(*s));
	s->clock_hz = clock_hz;
	s->bad_seq = SEQ_MOD + 1;
}

/* A.1 init_seq(). */
static void init_seq(struct pl_rtcp_rx_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	s->started = true;
}

/* A.1 update_seq(): false for a packet held on probation. */
static bool update_seq(struct pl_rtcp_rx_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (udelta < MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;           /* wrapped */
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1u) & (SEQ_MOD - 1);
			return false;
		}
		init_seq(s, seq);                       /* the sender restarted */
		s->has_transit = false;
	}
	/* else a duplicate or a reordered packet */
	s->received++;
	return true;
}

/* A.8: arrival in RTP units, relative differences only. */
static void update_jitter(struct pl_rtcp_rx_stats *s, uint32_t rtp_ts, int64_t arrival_us)
{
	uint32_t arrival = (uint32_t)(uint64_t)((arrival_us / US_PER_S) * (int64_t)s->clock_hz +
						(arrival_us % US_PER_S) * (int64_t)s->clock_hz / US_PER_S);
	uint32_t transit = arrival - rtp_ts;
	int32_t d;

	if (s->has_transit) {
		d = (int32_t)(transit - s->transit);
		if (d < 0)
			d = -d;
		s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
	}
	s->transit = transit;
	s->has_transit = true;
}

void pl_rtcp_rx_on_packet(struct pl_rtcp_rx_stats *s, uint16_t seq, uint32_t rtp_ts,
			  int64_t arrival_us)
{
	if (!s->started) {
		init_seq(s, seq);
		s->received = 1;
	} else if (!update_seq(s, seq)) {
		return;
	}
	update_jitter(s, rtp_ts, arrival_us);
}

void pl_rtcp_rx_on_sr(struct pl_rtcp_rx_stats *s, uint64_t ntp, int64_t arrival_us)
{
	s->has_sr = true;
	s->lsr = pl_rtcp_ntp_mid32(ntp);
	s->lsr_arrival_us = arrival_us;
}

int pl_rtcp_rx_report(struct pl_rtcp_rx_stats *s, uint32_t ssrc, int64_t now_us,
		      struct pl_rtcp_report *r)
{
	uint32_t ext_max, expected, expected_interval, received_interval;
	int64_t lost, lost_interval;

	if (!s->started)
		return PL_ENOENT;
	ext_max = s->cycles + s->max_seq;
	expected = ext_max - s->base_seq + 1;
	lost = (int64_t)expected - (int64_t)s->received;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	expected_interval = expected - s->expected_prior;
	s->expected_prior = expected;
	received_interval = s->received - s->received_prior;
	s->received_prior = s->received;
	lost_interval = (int64_t)expected_interval - (int64_t)received_interval;
	r->ssrc = ssrc;
	if (expected_interval == 0 || lost_interval <= 0)
		r->fraction_lost = 0;
	else
		r->fraction_lost = (uint8_t)((lost_interval << 8) / expected_interval);
	r->cumulative_lost = (int32_t)lost;
	r->ext_highest_seq = ext_max;
	r->jitter = s->jitter_q4 >> 4;
	r->lsr = s->has_sr ? s->lsr : 0;
	r->dlsr = s->has_sr ? pl_rtcp_ntp_short_from_us(now_us - s->lsr_arrival_us) : 0;
	return 0;
}

/* ---- Sender state --------------------------------------------------------- */

void pl_rtcp_tx_init(struct pl_rtcp_tx_stats *s, uint32_t clock_hz)
{
	memset(s, 0, sizeof(*s));
	s->clock_hz = clock_hz;
}

void pl_rtcp_tx_on_packet(struct pl_rtcp_tx_stats *s, uint32_t rtp_ts, size_t payload_len,
			  int64_t now_us)
{
	s->packets++;
	s->octets += (uint32_t)payload_len;
	if (!s->has_ts || (int32_t)(rtp_ts - s->last_ts) >= 0) {
		s->has_ts = true;
		s->last_ts = rtp_ts;
		s->last_us = now_us;
	}
}

int pl_rtcp_tx_sr(const struct pl_rtcp_tx_stats *s, uint32_t ssrc, int64_t now_us, uint64_t ntp,
		  struct pl_rtcp_sr *sr)
{
	int64_t elapsed = now_us - s->last_us;

	if (!s->has_ts)
		return PL_ENOENT;
	if (elapsed < 0)
		elapsed = 0;
	sr->ssrc = ssrc;
	sr->ntp = ntp;
	sr->rtp_ts = s->last_ts + (uint32_t)(uint64_t)((elapsed / US_PER_S) * (int64_t)s->clock_hz +
						      (elapsed % US_PER_S) * (int64_t)s->clock_hz / US_PER_S);
	sr->packet_count = s->packets;
	sr->octet_count = s->octets;
	sr->report_count = 0;
	return 0;
}

/* ---- Round-trip time ------------------------------------------------------ */

int pl_rtcp_rtt_ms(const struct pl_rtcp_report *rb, uint32_t now_mid32, uint32_t *rtt_ms)
{
	int32_t rtt;

	if (rb->lsr == 0)
		return PL_ENOENT;
	rtt = (int32_t)(now_mid32 - rb->lsr - rb->dlsr);
	if (rtt < 0)
		rtt = 0;
	*rtt_ms = (uint32_t)(((uint64_t)rtt * 1000 + 32768) >> 16);
	return 0;
}
