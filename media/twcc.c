/* media/twcc.c: the transport-cc feedback recorder of twcc.h.
 *
 * Arrival times are kept in a ring indexed by sequence number.  A
 * feedback describes next_seq..max_seq: its reference time is the first
 * received packet's arrival rounded down to 64 ms, and each received
 * packet's delta is taken from the previous one in 250 us ticks, with the
 * rounding carried forward so errors never accumulate.
 */
#include "media/twcc.h"
#include "media/rtcp.h"
#include "common/err.h"

#include <string.h>

void pl_twcc_rx_init(struct pl_twcc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void pl_twcc_rx_on_packet(struct pl_twcc_rx *rx, uint16_t seq, int64_t arrival_us)
{
	rx->packets++;
	if (!rx->started) {
		rx->started = true;
		rx->next_seq = rx->max_seq = seq;
	} else if ((int16_t)(seq - rx->next_seq) < 0) {
		return; /* already reported */
	} else if ((uint16_t)(seq - rx->next_seq) >= PL_TWCC_WINDOW) {
		/* A jump past the window: what lies before it is lost to us. */
		for (size_t i = 0; i < PL_TWCC_WINDOW; i++)
			rx->arrival_us[i] = 0;
		rx->next_seq = (uint16_t)(seq - PL_TWCC_WINDOW / 2);
		rx->max_seq = seq;
	} else if ((int16_t)(seq - rx->max_seq) > 0) {
		rx->max_seq = seq;
	}
	rx->arrival_us[seq & (PL_TWCC_WINDOW - 1)] = arrival_us;
}

int pl_twcc_rx_build(struct pl_twcc_rx *rx, uint32_t sender_ssrc, uint32_t media_ssrc,
		     uint8_t *buf, size_t cap, size_t *out_len)
{
	struct pl_rtcp_tcc_status st[PL_TWCC_MAX_PER_FB];
	struct pl_rtcp_tcc h = { .sender_ssrc = sender_ssrc, .media_ssrc = media_ssrc };
	size_t n = 0, avail;
	int64_t first = 0, last = 0;
	int rc;

	/* Everything up to max_seq reported: next_seq is one past it, and the
	 * difference below would wrap to 65536 and scan the window 64 times. */
	if (!rx->started || (int16_t)(rx->max_seq - rx->next_seq) < 0)
		return PL_ENOENT;
	avail = (uint16_t)(rx->max_seq - rx->next_seq) + 1u;
	/* Trailing holes are not reported yet: they may still arrive. */
	while (avail > 0 && rx->arrival_us[(uint16_t)(rx->next_seq + avail - 1) & (PL_TWCC_WINDOW - 1)] == 0)
		avail--;
	if (avail == 0)
		return PL_ENOENT;
	for (size_t i = 0; i < avail && n < PL_TWCC_MAX_PER_FB; i++) {
		uint16_t seq = (uint16_t)(rx->next_seq + i);
		int64_t at = rx->arrival_us[seq & (PL_TWCC_WINDOW - 1)];
		st[n] = (struct pl_rtcp_tcc_status){ .seq = seq };
		if (at) {
			if (!first) {
				first = at;
				last = (at / 64000) * 64000;
				h.ref_time_64ms = (int32_t)((at / 64000) & 0xffffff);
			}
			int64_t ticks = (at - last + (at >= last ? 125 : -125)) / 250;
			if (ticks < -32768 || ticks > 32767)
				break; /* the rest goes into the next feedback */
			st[n].received = true;
			st[n].delta_us = (int32_t)(ticks * 250);
			last += ticks * 250;
		}
		n++;
	}
	h.fb_count = rx->fb_count;
	rc = pl_rtcp_tcc_write(&h, st, n, buf, cap, out_len);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		rx->arrival_us[(uint16_t)(rx->next_seq + i) & (PL_TWCC_WINDOW - 1)] = 0;
	rx->next_seq = (uint16_t)(rx->next_seq + n);
	rx->fb_count++;
	rx->feedbacks++;
	return 0;
}
