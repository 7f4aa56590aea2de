/* tests/unit/test_rtcp_report.c: SR/RR state (media/rtcp_report.h).
 *
 * Expected values are worked out by hand from the RFC 3550 formulas and
 * written next to each check: the A.8 jitter recursion step by step, A.3
 * fraction lost over intervals with reordering and duplicates, A.1 wraps
 * and restarts, the section 6.4.1 RTT example (LSR 0xb705:2000, DLSR
 * 0x0005:4000 received at 0xb710:8000 is 6.125 s), NTP conversions, and
 * the RTP timestamp of an SR advancing exactly with time.  A last test
 * runs SR -> RR -> RTT through the RTCP writers and parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "media/rtcp.h"
#include "media/rtcp_report.h"

#define MS 1000

static struct pl_rtcp_report report(struct pl_rtcp_rx_stats *s, int64_t now_us)
{
	struct pl_rtcp_report r;

	memset(&r, 0xee, sizeof(r));
	assert_int_equal(pl_rtcp_rx_report(s, 0x5eed, now_us, &r), 0);
	assert_int_equal(r.ssrc, 0x5eed);
	return r;
}

static void test_ntp_conversions(void **state)
{
	struct pl_rtcp_ntp_clock c;

	/* The Unix epoch is NTP second 2208988800 = 0x83aa7e80. */
	assert_true(pl_rtcp_ntp_from_unix_us(0) == 0x83aa7e8000000000ull);
	/* 2020-01-01T00:00:00.25Z: second 1577836800 + 2208988800 =
	 * 0xe1b65f80, a quarter second is 0x40000000. */
	assert_true(pl_rtcp_ntp_from_unix_us(1577836800250000) == 0xe1b65f8040000000ull);
	/* 0.123456 s * 2^32 = 530239482.4 -> 0x1f9acffa. */
	assert_true(pl_rtcp_ntp_from_unix_us(123456) == 0x83aa7e801f9acffaull);
	for (int64_t us = 1700000000000000; us < 1700000000000000 + 3000000; us += 999)
		assert_true(pl_rtcp_ntp_to_unix_us(pl_rtcp_ntp_from_unix_us(us)) == us);
	assert_int_equal(pl_rtcp_ntp_mid32(0xe1b65f8040000000ull), 0x5f804000);
	/* 5.25 s in 1/65536 s is 0x54000. */
	assert_int_equal(pl_rtcp_ntp_short_from_us(5250000), 0x54000);
	assert_int_equal(pl_rtcp_ntp_short_from_us(-5), 0);
	/* The clock: mono 5 s is 2020-01-01T00:00:00Z; mono 5.25 s is a
	 * quarter second later, mono 3 s two seconds before. */
	pl_rtcp_ntp_clock_init(&c, 5000000, 1577836800000000);
	assert_true(pl_rtcp_ntp_clock_at(&c, 5250000) == 0xe1b65f8040000000ull);
	assert_true(pl_rtcp_ntp_clock_at(&c, 3000000) == 0xe1b65f7e00000000ull);
}

static void test_rx_jitter_rfc3550_a8(void **state)
{
	/* 90 kHz, a packet every 20 ms (1800 ticks); the third arrives 5 ms
	 * late, so transit (arrival - ts in ticks) is 0, 0, 450, 0, 0, 0 and
	 * D = |transit_i - transit_i-1| is -, 0, 450, 450, 0, 0.  Integer
	 * A.8, J += D - ((J + 8) >> 4), reported J >> 4:
	 *   D=0:   J = 0                      -> 0
	 *   D=450: J = 0 + 450 - 0   = 450    -> 28   (float 28.125)
	 *   D=450: J = 450 + 450 - 28 = 872   -> 54   (float 54.49)
	 *   D=0:   J = 872 - 55      = 817    -> 51   (float 51.08)
	 *   D=0:   J = 817 - 51      = 766    -> 47   (float 47.89)
	 * The timestamps start just below 2^32 to wrap on the way. */
	static const int64_t arrival_ms[] = { 0, 20, 45, 60, 80, 100 };
	static const uint32_t want[] = { 0, 0, 28, 54, 51, 47 };
	static const uint32_t want_q4[] = { 0, 0, 450, 872, 817, 766 };
	struct pl_rtcp_rx_stats s;

	pl_rtcp_rx_init(&s, 90000);
	for (unsigned i = 0; i < 6; i++) {
		pl_rtcp_rx_on_packet(&s, (uint16_t)(7 + i), 0xfffff000u + 1800u * i,
				     1000 * MS + arrival_ms[i] * MS);
		assert_int_equal(report(&s, 0).jitter, want[i]);
		assert_int_equal(s.jitter_q4, want_q4[i]);
	}
	/* Steady arrivals decay it by 1/16 per packet, never below 0. */
	for (unsigned i = 6; i < 200; i++)
		pl_rtcp_rx_on_packet(&s, (uint16_t)(7 + i), 0xfffff000u + 1800u * i,
				     1000 * MS + 20 * MS * i);
	assert_int_equal(report(&s, 0).jitter, 0);
}

static void test_rx_fraction_lost_with_reordering(void **state)
{
	struct pl_rtcp_rx_stats s;
	struct pl_rtcp_report r;
	static const uint16_t i1[] = { 1, 2, 3, 5, 4, 6, 8, 9, 10 };
	static const uint16_t i2[] = { 7, 11, 12, 12 };
	static const uint16_t i3[] = { 13, 15, 16 };

	pl_rtcp_rx_init(&s, 90000);
	assert_int_equal(pl_rtcp_rx_report(&s, 1, 0, &r), PL_ENOENT);
	/* Interval 1: 7 missing, 4 and 5 swapped.  expected = 10 - 1 + 1 =
	 * 10, received 9: lost 1, fraction 256 * 1 / 10 = 25. */
	for (unsigned i = 0; i < 9; i++)
		pl_rtcp_rx_on_packet(&s, i1[i], 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.ext_highest_seq, 10);
	assert_int_equal(r.cumulative_lost, 1);
	assert_int_equal(r.fraction_lost, 25);
	/* Interval 2: 7 arrives late and 12 twice.  expected 12 (2 more),
	 * received 13 (4 more): the interval lost -2, reported as 0; the
	 * cumulative loss is 12 - 13 = -1. */
	for (unsigned i = 0; i < 4; i++)
		pl_rtcp_rx_on_packet(&s, i2[i], 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.ext_highest_seq, 12);
	assert_int_equal(r.cumulative_lost, -1);
	assert_int_equal(r.fraction_lost, 0);
	/* Interval 3: 14 lost.  4 expected, 3 received: 256 / 4 = 64;
	 * cumulative 16 - 16 = 0. */
	for (unsigned i = 0; i < 3; i++)
		pl_rtcp_rx_on_packet(&s, i3[i], 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.fraction_lost, 64);
	assert_int_equal(r.cumulative_lost, 0);
	/* Interval 4: nothing arrived, nothing expected. */
	r = report(&s, 0);
	assert_int_equal(r.fraction_lost, 0);
	/* Interval 5: 17 then 20 (18, 19 lost): 4 expected, 2 received,
	 * 256 * 2 / 4 = 128. */
	pl_rtcp_rx_on_packet(&s, 17, 0, 0);
	pl_rtcp_rx_on_packet(&s, 20, 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.fraction_lost, 128);
	assert_int_equal(r.cumulative_lost, 2);
}

static void test_rx_seq_wrap_and_restart(void **state)
{
	struct pl_rtcp_rx_stats s;
	struct pl_rtcp_report r;

	pl_rtcp_rx_init(&s, 48000);
	pl_rtcp_rx_on_packet(&s, 65534, 0, 0);
	pl_rtcp_rx_on_packet(&s, 65535, 0, 0);
	pl_rtcp_rx_on_packet(&s, 1, 0, 0);                      /* 0 lost */
	pl_rtcp_rx_on_packet(&s, 65533, 0, 0);                  /* late, before base */
	r = report(&s, 0);
	/* One cycle: extended highest 65536 + 1; expected from base 65534
	 * is 4, received 4 (the late one counts, as A.3 counts it). */
	assert_int_equal(r.ext_highest_seq, 65537);
	assert_int_equal(r.cumulative_lost, 0);
	/* A jump of 3000 or more: held until the next packet follows it. */
	pl_rtcp_rx_on_packet(&s, 5000, 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.ext_highest_seq, 65537);
	pl_rtcp_rx_on_packet(&s, 5001, 0, 0);                  /* restart at 5001 */
	r = report(&s, 0);
	assert_int_equal(r.ext_highest_seq, 5001);
	assert_int_equal(r.cumulative_lost, 0);
	/* Less than 100 behind is reordering (counted), more is not. */
	pl_rtcp_rx_on_packet(&s, 4950, 0, 0);
	pl_rtcp_rx_on_packet(&s, 4800, 0, 0);
	pl_rtcp_rx_on_packet(&s, 5002, 0, 0);
	r = report(&s, 0);
	assert_int_equal(r.ext_highest_seq, 5002);
	assert_int_equal(r.cumulative_lost, -1);                /* 2 expected, 3 received */
	assert_int_equal(s.received, 3);
}

static void test_rx_lsr_dlsr_and_rtt_rfc3550_example(void **state)
{
	struct pl_rtcp_rx_stats s;
	struct pl_rtcp_report r;
	uint32_t rtt = 0;

	pl_rtcp_rx_init(&s, 90000);
	pl_rtcp_rx_on_packet(&s, 1, 0, 0);
	r = report(&s, 500 * MS);
	assert_int_equal(r.lsr, 0);                             /* no SR yet */
	assert_int_equal(r.dlsr, 0);
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0xb7108000, &rtt), PL_ENOENT);
	/* RFC 3550 6.4.1: the SR sent at 46853.125 s (NTP 0xb705:2000 in the
	 * middle bits) is held 5.250 s (0x0005:4000); the report reaches its
	 * sender at 46864.500 s (0xb710:8000): RTT 6.125 s. */
	pl_rtcp_rx_on_sr(&s, (46853ull << 32) | 0x20000000u, 1000 * MS);
	r = report(&s, 6250 * MS);
	assert_int_equal(r.lsr, 0xb7052000);
	assert_int_equal(r.dlsr, 0x00054000);
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0xb7108000, &rtt), 0);
	assert_int_equal(rtt, 6125);
	/* Rounding: 33/65536 s = 0.50 ms -> 1; 32/65536 s = 0.49 -> 0; a
	 * "negative" RTT from clock granularity is 0. */
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0xb7052000 + 0x54000 + 33, &rtt), 0);
	assert_int_equal(rtt, 1);
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0xb7052000 + 0x54000 + 32, &rtt), 0);
	assert_int_equal(rtt, 0);
	rtt = 99;
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0xb7052000 + 0x54000 - 5, &rtt), 0);
	assert_int_equal(rtt, 0);
	/* LSR wrapping past 2^32 (the middle bits roll over every 18 h). */
	r.lsr = 0xffff8000;                                     /* .5 s before the roll */
	r.dlsr = 0x4000;                                        /* 0.25 s */
	assert_int_equal(pl_rtcp_rtt_ms(&r, 0x00008000, &rtt), 0);
	assert_int_equal(rtt, 750);
}

static void test_tx_sr_rtp_ts_advances(void **state)
{
	struct pl_rtcp_tx_stats s;
	struct pl_rtcp_sr sr, sr2;

	pl_rtcp_tx_init(&s, 90000);
	assert_int_equal(pl_rtcp_tx_sr(&s, 1, 0, 0, &sr), PL_ENOENT);
	pl_rtcp_tx_on_packet(&s, 1000, 100, 1000 * MS);
	pl_rtcp_tx_on_packet(&s, 4000, 200, 1033333);
	pl_rtcp_tx_on_packet(&s, 2500, 50, 1040000);            /* reordered: counted only */
	/* 16667 us after the newest: 16667 * 0.09 = 1500.03 -> 4000 + 1500. */
	assert_int_equal(pl_rtcp_tx_sr(&s, 0xabc, 1050000, 0x1122334455667788ull, &sr), 0);
	assert_int_equal(sr.ssrc, 0xabc);
	assert_true(sr.ntp == 0x1122334455667788ull);
	assert_int_equal(sr.rtp_ts, 5500);
	assert_int_equal(sr.packet_count, 3);
	assert_int_equal(sr.octet_count, 350);
	assert_int_equal(sr.report_count, 0);
	/* SRs without packets in between advance exactly with time. */
	assert_int_equal(pl_rtcp_tx_sr(&s, 0xabc, 2033333, 0, &sr), 0);
	assert_int_equal(sr.rtp_ts, 4000 + 90000);
	assert_int_equal(pl_rtcp_tx_sr(&s, 0xabc, 7033333, 0, &sr2), 0);
	assert_int_equal(sr2.rtp_ts - sr.rtp_ts, 5 * 90000);
	/* A packet sent at the instant the extrapolation predicts keeps the
	 * line continuous. */
	pl_rtcp_tx_on_packet(&s, 4000 + 90000 * 6, 100, 7033333);
	assert_int_equal(pl_rtcp_tx_sr(&s, 0xabc, 8033333, 0, &sr), 0);
	assert_int_equal(sr.rtp_ts, 4000 + 90000 * 7);
	/* An SR stamped before the newest packet does not go backwards. */
	assert_int_equal(pl_rtcp_tx_sr(&s, 0xabc, 7000000, 0, &sr), 0);
	assert_int_equal(sr.rtp_ts, 4000 + 90000 * 6);
	/* Across the 2^32 timestamp wrap (48 kHz, 10 ms = 480 ticks). */
	pl_rtcp_tx_init(&s, 48000);
	pl_rtcp_tx_on_packet(&s, 0xffffff00u, 10, 0);
	pl_rtcp_tx_on_packet(&s, 0x00000060u, 10, 4 * MS);      /* newer across the wrap */
	assert_int_equal(pl_rtcp_tx_sr(&s, 1, 14 * MS, 0, &sr), 0);
	assert_int_equal(sr.rtp_ts, 0x60 + 480);
}

/* Our SR goes out at mono 10 s, the subscriber holds it 200 ms before its
 * RR, and the RR reaches us at mono 10.35 s: RTT 150 ms, through the real
 * writers and parsers. */
static void test_sr_rr_rtt_round_trip(void **state)
{
	struct pl_rtcp_ntp_clock ours;
	struct pl_rtcp_tx_stats tx;
	struct pl_rtcp_rx_stats rx;  /* the subscriber's view of our stream */
	struct pl_rtcp_sr sr;
	struct pl_rtcp_rr rr = { 0 }, rr_in;
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	uint8_t buf[256];
	size_t len;
	uint32_t rtt;

	pl_rtcp_ntp_clock_init(&ours, 0, 1577836800000000);
	pl_rtcp_tx_init(&tx, 90000);
	pl_rtcp_rx_init(&rx, 90000);
	pl_rtcp_tx_on_packet(&tx, 12345, 1000, 9990 * MS);
	pl_rtcp_rx_on_packet(&rx, 1, 12345, 55 * MS);           /* the subscriber's clock */
	assert_int_equal(pl_rtcp_tx_sr(&tx, 0x1111, 10000 * MS,
				       pl_rtcp_ntp_clock_at(&ours, 10000 * MS), &sr), 0);
	assert_int_equal(sr.rtp_ts, 12345 + 900);
	assert_int_equal(pl_rtcp_sr_write(&sr, buf, sizeof(buf), &len), 0);
	pl_rtcp_iter_init(&it, buf, len);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), 0);
	assert_int_equal(pl_rtcp_sr_parse(&p, &sr), 0);
	pl_rtcp_rx_on_sr(&rx, sr.ntp, 100 * MS);
	rr.ssrc = 0x2222;
	rr.report_count = 1;
	assert_int_equal(pl_rtcp_rx_report(&rx, 0x1111, 300 * MS, &rr.reports[0]), 0);
	assert_int_equal(pl_rtcp_rr_write(&rr, buf, sizeof(buf), &len), 0);
	pl_rtcp_iter_init(&it, buf, len);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), 0);
	assert_int_equal(pl_rtcp_rr_parse(&p, &rr_in), 0);
	assert_int_equal(rr_in.reports[0].ssrc, 0x1111);
	assert_int_equal(pl_rtcp_rtt_ms(&rr_in.reports[0],
					pl_rtcp_ntp_mid32(pl_rtcp_ntp_clock_at(&ours, 10350 * MS)), &rtt), 0);
	assert_int_equal(rtt, 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntp_conversions),
		cmocka_unit_test(test_rx_jitter_rfc3550_a8),
		cmocka_unit_test(test_rx_fraction_lost_with_reordering),
		cmocka_unit_test(test_rx_seq_wrap_and_restart),
		cmocka_unit_test(test_rx_lsr_dlsr_and_rtt_rfc3550_example),
		cmocka_unit_test(test_tx_sr_rtp_ts_advances),
		cmocka_unit_test(test_sr_rr_rtt_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
