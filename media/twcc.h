/* media/twcc.h: transport-wide congestion control feedback, receive side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * A publisher's browser estimates its own uplink bandwidth from this
 * feedback (send-side BWE): without it Chromium's target bitrate collapses
 * to its floor within seconds.  One pl_twcc_rx per incoming transport
 * records the transport-wide sequence number and arrival time of every
 * packet; pl_twcc_rx_build() turns what arrived since the last feedback
 * into one RTCP transport-cc packet.  Fixed-size state, no allocation;
 * one thread (the media worker that owns the transport).
 */
#ifndef PL_MEDIA_TWCC_H
#define PL_MEDIA_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_TWCC_WINDOW 1024   /* sequence numbers remembered, a power of two */
#define PL_TWCC_MAX_PER_FB 256 /* packets described by one feedback */

struct pl_twcc_rx {
	bool started;
	uint16_t next_seq;        /* first sequence number not reported yet */
	uint16_t max_seq;         /* newest seen */
	uint8_t fb_count;
	int64_t arrival_us[PL_TWCC_WINDOW]; /* 0: not received */
	uint64_t packets, feedbacks;
};

void pl_twcc_rx_init(struct pl_twcc_rx *rx);

/* Records one packet's transport-wide sequence number and arrival time
 * (monotonic, microseconds, > 0).  A packet older than what was already
 * reported is ignored. */
void pl_twcc_rx_on_packet(struct pl_twcc_rx *rx, uint16_t seq, int64_t arrival_us);

/* Writes one feedback packet for next_seq.. (at most PL_TWCC_MAX_PER_FB
 * sequence numbers, stopping early where a delta would not fit) into
 * buf[0..cap).  Returns 0, PL_ENOENT (nothing new), PL_ETOOBIG (cap). */
int pl_twcc_rx_build(struct pl_twcc_rx *rx, uint32_t sender_ssrc, uint32_t media_ssrc,
		     uint8_t *buf, size_t cap, size_t *out_len);

#endif
