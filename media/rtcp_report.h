/* media/rtcp_report.h: the state behind SR and RR (RFC 3550 section 6.4
 * and appendix A), for an SFU that terminates RTCP.
 *
 *   struct pl_rtcp_rx_stats  one per incoming stream: sequence accounting
 *                            (A.1), loss (A.3), interarrival jitter (A.8)
 *                            and the last SR received, to fill the report
 *                            block of our RR about it;
 *   struct pl_rtcp_tx_stats  one per outgoing stream: packet and octet
 *                            counts and the RTP timestamp of the last
 *                            packet sent, to fill our SR so that its
 *                            NTP <-> RTP pair matches the (rewritten)
 *                            timestamps the receiver sees;
 *   pl_rtcp_rtt_ms()         round-trip time from a report block that
 *                            answers one of our SRs;
 *   pl_rtcp_ntp_*            NTP 64-bit (32.32 seconds since 1900) from
 *                            and to Unix microseconds, and a clock that
 *                            derives NTP from the monotonic clock so it
 *                            never jumps.
 *
 * Value types, fixed size, no allocation, no locks: each belongs to the
 * worker thread of its stream.  Times are microseconds from the caller:
 * "now" and arrival times on the monotonic clock, except where a
 * parameter says NTP or Unix.
 */
#ifndef PL_MEDIA_RTCP_REPORT_H
#define PL_MEDIA_RTCP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtcp.h"

/* ---- NTP time ------------------------------------------------------------ */

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define PL_NTP_UNIX_OFFSET_S 2208988800u

/* NTP 64-bit for a Unix time in microseconds (>= 0), fraction rounded. */
uint64_t pl_rtcp_ntp_from_unix_us(int64_t unix_us);
/* The inverse, rounded to the microsecond; exact for pl_rtcp_ntp_from_unix_us()
 * output. */
int64_t pl_rtcp_ntp_to_unix_us(uint64_t ntp);

/* The middle 32 bits (16.16 seconds): LSR, and "now" for an RTT. */
static inline uint32_t pl_rtcp_ntp_mid32(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* A duration in 1/65536 s (DLSR), rounded; negative durations give 0. */
uint32_t pl_rtcp_ntp_short_from_us(int64_t us);

/* NTP derived from the monotonic clock: one wall-clock reading taken at
 * init anchors it, so SRs never see the wall clock step. */
struct pl_rtcp_ntp_clock {
	int64_t mono_us;
	int64_t unix_us;
};

/* Anchors the clock: mono_us and unix_us are the same instant
 * (pl_clock_mono_us() and the wall clock read together). */
void pl_rtcp_ntp_clock_init(struct pl_rtcp_ntp_clock *c, int64_t mono_us, int64_t unix_us);
/* The NTP time of a monotonic instant. */
uint64_t pl_rtcp_ntp_clock_at(const struct pl_rtcp_ntp_clock *c, int64_t mono_us);

/* ---- Receiver statistics (one incoming stream) --------------------------- */

struct pl_rtcp_rx_stats {
	uint32_t clock_hz;
	bool started;
	uint16_t max_seq;
	uint32_t cycles;                /* wraps of max_seq, times 65536 */
	uint32_t base_seq;
	uint32_t bad_seq;               /* 65537 when none (RFC 3550 A.1) */
	uint32_t received;              /* duplicates included, as in A.3 */
	uint32_t expected_prior, received_prior;
	bool has_transit;
	uint32_t transit;               /* arrival - timestamp, RTP units */
	uint32_t jitter_q4;             /* jitter * 16 (A.8 integer form) */
	bool has_sr;
	uint32_t lsr;                   /* middle 32 bits of the last SR's NTP */
	int64_t lsr_arrival_us;
};

void pl_rtcp_rx_init(struct pl_rtcp_rx_stats *s, uint32_t clock_hz);

/* An original media packet arrived (feed no RTX: the report describes the
 * loss before repair, which is what the sender's congestion control
 * wants).  The first packet starts the accounting; a jump of 3000 or more
 * ahead or 100 or more behind is ignored unless the next packet follows
 * it, which restarts the accounting (A.1). */
void pl_rtcp_rx_on_packet(struct pl_rtcp_rx_stats *s, uint16_t seq, uint32_t rtp_ts,
			  int64_t arrival_us);

/* An SR about this stream arrived: remembers LSR and when. */
void pl_rtcp_rx_on_sr(struct pl_rtcp_rx_stats *s, uint64_t ntp, int64_t arrival_us);

/* Fills the report block about this stream (media SSRC ssrc) for an RR or
 * SR sent at now_us; the fraction lost covers the time since the previous
 * call, so call it once per report actually sent.  Returns 0, or
 * PL_ENOENT when no packet arrived yet (leave the stream out). */
int pl_rtcp_rx_report(struct pl_rtcp_rx_stats *s, uint32_t ssrc, int64_t now_us,
		      struct pl_rtcp_report *r);

/* ---- Sender state (one outgoing stream) ----------------------------------- */

struct pl_rtcp_tx_stats {
	uint32_t clock_hz;
	uint32_t packets;               /* wrap as RFC 3550 6.4.1 says */
	uint32_t octets;                /* payload octets */
	bool has_ts;
	uint32_t last_ts;               /* newest RTP timestamp sent */
	int64_t last_us;                /* when it was sent */
};

void pl_rtcp_tx_init(struct pl_rtcp_tx_stats *s, uint32_t clock_hz);

/* A media packet was sent (not RTX, not padding) with timestamp rtp_ts
 * (as rewritten) and payload_len payload bytes.  An older timestamp
 * (reordered) counts but does not move the NTP <-> RTP anchor. */
void pl_rtcp_tx_on_packet(struct pl_rtcp_tx_stats *s, uint32_t rtp_ts, size_t payload_len,
			  int64_t now_us);

/* Fills the sender part of an SR sent at now_us (monotonic) whose NTP
 * time is ntp: counts, and the RTP timestamp of that instant,
 * last_ts + (now_us - last_us) * clock_hz / 10^6.  report_count is set to
 * 0 for the caller to append blocks.  Returns 0, or PL_ENOENT when
 * nothing was sent yet (send an RR instead). */
int pl_rtcp_tx_sr(const struct pl_rtcp_tx_stats *s, uint32_t ssrc, int64_t now_us, uint64_t ntp,
		  struct pl_rtcp_sr *sr);

/* ---- Round-trip time ------------------------------------------------------ */

/* RTT from a report block about one of our streams received when the
 * middle 32 bits of our NTP clock were now_mid32: now - LSR - DLSR (RFC
 * 3550 section 6.4.1), rounded to ms.  Returns 0, or PL_ENOENT when LSR
 * is 0 (no SR of ours reached the receiver yet).  A negative result (clock
 * granularity) gives 0 ms. */
int pl_rtcp_rtt_ms(const struct pl_rtcp_report *rb, uint32_t now_mid32, uint32_t *rtt_ms);

#endif
