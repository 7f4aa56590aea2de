/* tests/unit/test_rewrite.c: outgoing seq/ts continuity (media/rewrite.h).
 *
 * Each test feeds a hand-made packet sequence and checks the outgoing
 * numbers exactly: wraps of seq and timestamp, publisher restarts (new
 * SSRC, a jump, a resync), reordering, duplicates, mute gaps absorbed by
 * skips while real losses stay gaps, the reverse map used for NACKs, and
 * that timestamps never go backwards across switches.  A seeded random
 * walk checks the invariants on a long mixed sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "media/rewrite.h"

#define VIDEO_HZ 90000

struct out {
	uint16_t seq;
	uint32_t ts;
};

static struct out map_ok(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
			 int64_t now_us)
{
	struct out o;

	assert_int_equal(pl_rewrite_map(rw, ssrc, seq, ts, now_us, &o.seq, &o.ts), 0);
	return o;
}

static int map_rc(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts, int64_t now_us)
{
	uint16_t s = 0xdead;
	uint32_t t = 0xdeadbeef;
	int rc = pl_rewrite_map(rw, ssrc, seq, ts, now_us, &s, &t);

	if (rc) {       /* a refused packet leaves the outputs alone */
		assert_int_equal(s, 0xdead);
		assert_int_equal(t, 0xdeadbeef);
	}
	return rc;
}

static uint16_t unmap_ok(const struct pl_rewrite *rw, uint16_t out_seq)
{
	uint16_t in = 0;

	assert_int_equal(pl_rewrite_unmap(rw, out_seq, &in), 0);
	return in;
}

static void test_rewrite_first_packet_takes_bases(void **state)
{
	struct pl_rewrite rw;
	struct out o;
	uint16_t s;
	uint32_t t;

	pl_rewrite_init(&rw, VIDEO_HZ, 5000, 123456);
	assert_false(pl_rewrite_last(&rw, &s, &t));
	assert_int_equal(pl_rewrite_unmap(&rw, 5000, &s), PL_ENOENT);
	o = map_ok(&rw, 0xaaaa, 40000, 7777, 0);
	assert_int_equal(o.seq, 5000);
	assert_int_equal(o.ts, 123456);
	o = map_ok(&rw, 0xaaaa, 40001, 7777 + 3000, 33000);
	assert_int_equal(o.seq, 5001);
	assert_int_equal(o.ts, 123456 + 3000);
	assert_true(pl_rewrite_last(&rw, &s, &t));
	assert_int_equal(s, 5001);
	assert_int_equal(t, 126456);
}

static void test_rewrite_seq_and_ts_wrap(void **state)
{
	struct pl_rewrite rw;
	struct out o;

	/* Incoming seq wraps 65534 -> 1 and the timestamp wraps 2^32 while
	 * the outgoing side wraps at a different place. */
	pl_rewrite_init(&rw, VIDEO_HZ, 65533, 0xfffff000u);
	o = map_ok(&rw, 1, 65534, 0xffffff00u, 0);
	assert_int_equal(o.seq, 65533);
	assert_int_equal(o.ts, 0xfffff000u);
	o = map_ok(&rw, 1, 65535, 0xffffff00u + 3000, 0);      /* ts wraps in */
	assert_int_equal(o.seq, 65534);
	assert_int_equal(o.ts, 0xfffff000u + 3000);
	o = map_ok(&rw, 1, 0, 0x00000ab8u + 3000, 0);
	assert_int_equal(o.seq, 65535);
	assert_int_equal(o.ts, 0xfffff000u + 6000);
	o = map_ok(&rw, 1, 1, 0x00000ab8u + 6000, 0);          /* ts wraps out */
	assert_int_equal(o.seq, 0);
	assert_int_equal(o.ts, (uint32_t)(0xfffff000u + 9000));
	/* A reordered packet from before the wrap still maps by offset. */
	o = map_ok(&rw, 1, 65535, 0xffffff00u + 3000, 0);
	assert_int_equal(o.seq, 65534);
	assert_int_equal(unmap_ok(&rw, 65535), 0);
	assert_int_equal(unmap_ok(&rw, 0), 1);
	assert_int_equal(unmap_ok(&rw, 65533), 65534);
	/* A long run across several wraps stays exact. */
	for (uint32_t i = 2; i < 200000; i++) {
		o = map_ok(&rw, 1, (uint16_t)i, 0x00000ab8u + 3000 * (i + 1), 0);
		assert_int_equal(o.seq, (uint16_t)(65535 + i));
		assert_int_equal(o.ts, (uint32_t)(0xfffff000u + 3000 * (i + 2)));
	}
}

static void test_rewrite_out_of_order_and_duplicates(void **state)
{
	struct pl_rewrite rw;
	static const uint16_t in[] = { 100, 102, 101, 101, 105, 103, 104, 102, 106 };
	static const uint16_t want[] = { 10, 12, 11, 11, 15, 13, 14, 12, 16 };
	struct out o;

	pl_rewrite_init(&rw, VIDEO_HZ, 10, 0);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		o = map_ok(&rw, 9, in[i], 1000u * in[i], 0);
		assert_int_equal(o.seq, want[i]);
		assert_int_equal(o.ts, 1000u * in[i] - 100000u);
	}
	for (uint16_t s = 10; s <= 16; s++)
		assert_int_equal(unmap_ok(&rw, s), 90 + s);
	/* Older than the source's first packet: its number would belong to
	 * the stream before it. */
	assert_int_equal(map_rc(&rw, 9, 99, 99000, 0), PL_EEXPIRED);
}

static void test_rewrite_publisher_restart_new_ssrc(void **state)
{
	struct pl_rewrite rw;
	struct out o;
	uint16_t in;

	pl_rewrite_init(&rw, VIDEO_HZ, 1000, 50000);
	for (uint16_t i = 0; i < 5; i++)
		map_ok(&rw, 0xA, (uint16_t)(200 + i), 9000u + 3000u * i, 1000000 + 33333 * i);
	/* Last out: seq 1004, ts 62000, mapped at t = 1133332 us.  The new
	 * SSRC arrives 100 ms later with unrelated numbers. */
	o = map_ok(&rw, 0xB, 31000, 777, 1233332);
	assert_int_equal(o.seq, 1005);
	assert_int_equal(o.ts, 62000 + 9000);                   /* 0.1 s * 90 kHz */
	o = map_ok(&rw, 0xB, 31001, 777 + 3000, 1266665);
	assert_int_equal(o.seq, 1006);
	assert_int_equal(o.ts, 74000);
	/* A late packet of the old publisher, and one of the new publisher
	 * from before its first: both refused. */
	assert_int_equal(map_rc(&rw, 0xA, 205, 24000, 1266666), PL_EEXPIRED);
	assert_int_equal(map_rc(&rw, 0xB, 30999, 1, 1266666), PL_EEXPIRED);
	/* The reverse map knows only the current source. */
	assert_int_equal(unmap_ok(&rw, 1005), 31000);
	assert_int_equal(unmap_ok(&rw, 1006), 31001);
	assert_int_equal(pl_rewrite_unmap(&rw, 1004, &in), PL_EEXPIRED);
	assert_int_equal(pl_rewrite_unmap(&rw, 1000, &in), PL_EEXPIRED);
	assert_int_equal(pl_rewrite_unmap(&rw, 1007, &in), PL_ENOENT);
	/* A third SSRC makes the first one acceptable again (only the one
	 * just replaced is refused). */
	o = map_ok(&rw, 0xC, 5, 5, 1300000);
	assert_int_equal(o.seq, 1007);
	o = map_ok(&rw, 0xA, 206, 27000, 1300000);
	assert_int_equal(o.seq, 1008);
}

static void test_rewrite_timestamps_never_go_backwards(void **state)
{
	struct pl_rewrite rw;
	uint32_t last_ts;
	struct out o;

	pl_rewrite_init(&rw, VIDEO_HZ, 0, 0x7ffffff0u);
	o = map_ok(&rw, 1, 10, 0xfffffff0u, 0);
	last_ts = o.ts;
	/* Switches at the same instant, each new source's timestamps far
	 * below the previous one's: the outgoing ts still moves forward by
	 * at least one tick, across the 2^31 and 2^32 boundaries. */
	for (uint32_t k = 0; k < 40; k++) {
		o = map_ok(&rw, 100 + k, (uint16_t)(k * 7919), k * 13, 0);
		assert_true((int32_t)(o.ts - last_ts) >= 1);
		last_ts = o.ts;
		o = map_ok(&rw, 100 + k, (uint16_t)(k * 7919 + 1), k * 13 + 100000000u, 0);
		assert_true((int32_t)(o.ts - last_ts) > 0);
		last_ts = o.ts;
	}
	/* Elapsed time converts at the clock rate: 20 ms at 48 kHz is 960. */
	pl_rewrite_init(&rw, 48000, 0, 1000);
	map_ok(&rw, 1, 1, 1, 5000000);
	o = map_ok(&rw, 2, 1, 1, 5020000);
	assert_int_equal(o.ts, 1960);
	/* A clock that stands still or runs back still gives one tick. */
	o = map_ok(&rw, 3, 1, 1, 4000000);
	assert_int_equal(o.ts, 1961);
	/* Less than one tick of elapsed time is still one tick. */
	o = map_ok(&rw, 4, 1, 1, 4000005);
	assert_int_equal(o.ts, 1962);
	/* The switch continues from the highest timestamp sent, not from
	 * the last packet's, which may be a late one. */
	pl_rewrite_init(&rw, VIDEO_HZ, 0, 0);
	map_ok(&rw, 1, 1, 3000, 0);
	o = map_ok(&rw, 1, 3, 9000, 10000);
	assert_int_equal(o.ts, 6000);
	o = map_ok(&rw, 1, 2, 6000, 20000);                     /* late */
	assert_int_equal(o.ts, 3000);
	o = map_ok(&rw, 2, 50, 123, 30000);
	assert_int_equal(o.ts, 6000 + 1800);                    /* 20 ms after ts 6000 */
}

static void test_rewrite_mute_gap_continuity(void **state)
{
	struct pl_rewrite rw;
	struct out o;
	uint16_t in;

	pl_rewrite_init(&rw, 48000, 300, 0);
	for (uint16_t s = 65530; s != 10; s++)                  /* 65530..9 */
		map_ok(&rw, 7, s, 960u * s, 0);
	/* out 300..315 carried 65530..9.  Muted: 10..509 are dropped on
	 * purpose (across no wrap here, the run is one range). */
	for (uint16_t s = 10; s < 510; s++)
		assert_int_equal(pl_rewrite_skip(&rw, 7, s, 960u * s, 0), 0);
	assert_int_equal(rw.n_skips, 1);
	o = map_ok(&rw, 7, 510, 960u * 510, 0);
	assert_int_equal(o.seq, 316);                           /* no gap */
	/* The timestamp keeps the real time of the mute. */
	assert_int_equal(o.ts, 960u * 510 - 960u * 65530);
	/* A real loss (511) stays a gap the subscriber can NACK, and its
	 * retransmission fills it later. */
	o = map_ok(&rw, 7, 512, 960u * 512, 0);
	assert_int_equal(o.seq, 318);
	assert_int_equal(unmap_ok(&rw, 317), 511);
	o = map_ok(&rw, 7, 511, 960u * 511, 0);
	assert_int_equal(o.seq, 317);
	/* Before the mute the mapping is unchanged. */
	o = map_ok(&rw, 7, 9, 960u * 9, 0);
	assert_int_equal(o.seq, 315);
	assert_int_equal(unmap_ok(&rw, 315), 9);
	assert_int_equal(unmap_ok(&rw, 316), 510);
	/* A retransmission of a skipped packet is not forwarded. */
	assert_int_equal(map_rc(&rw, 7, 200, 0, 0), PL_EEXIST);
	assert_int_equal(pl_rewrite_skip(&rw, 7, 200, 0, 0), PL_EEXIST);
	/* Skipping a packet older than the newest cannot be absorbed: 513
	 * was lost, 514 forwarded, then 513 arrives and is dropped. */
	map_ok(&rw, 7, 514, 960u * 514, 0);
	assert_int_equal(pl_rewrite_skip(&rw, 7, 513, 0, 0), PL_EEXPIRED);
	assert_int_equal(unmap_ok(&rw, 319), 513);
	/* A hole between two skips (a loss during the mute) is not absorbed:
	 * it may be a packet the caller would forward. */
	assert_int_equal(pl_rewrite_skip(&rw, 7, 515, 0, 0), 0);
	assert_int_equal(pl_rewrite_skip(&rw, 7, 517, 0, 0), 0);
	o = map_ok(&rw, 7, 518, 960u * 518, 0);
	assert_int_equal(o.seq, 322);
	assert_int_equal(unmap_ok(&rw, 321), 516);
	assert_int_equal(pl_rewrite_unmap(&rw, 323, &in), PL_ENOENT);
}

static void test_rewrite_mute_across_restart(void **state)
{
	struct pl_rewrite rw;
	struct out o;

	/* The publisher restarts while muted: the new source's first packets
	 * are skipped, and the first forwarded one continues the stream. */
	pl_rewrite_init(&rw, VIDEO_HZ, 0, 0);
	map_ok(&rw, 1, 10, 1000, 0);
	map_ok(&rw, 1, 11, 4000, 33000);                       /* out 1, ts 3000 */
	assert_int_equal(pl_rewrite_skip(&rw, 1, 12, 7000, 66000), 0);
	assert_int_equal(pl_rewrite_skip(&rw, 2, 900, 500, 1033000), 0);
	assert_int_equal(pl_rewrite_skip(&rw, 2, 901, 3500, 1066000), 0);
	o = map_ok(&rw, 2, 902, 6500, 1100000);
	assert_int_equal(o.seq, 2);
	/* ts of the skipped first packet = 3000 + 1 s; this one is 6000 later. */
	assert_int_equal(o.ts, 3000 + 90000 + 6000);
}

static void test_rewrite_restart_same_ssrc(void **state)
{
	struct pl_rewrite rw;
	struct out o;

	pl_rewrite_init(&rw, VIDEO_HZ, 100, 0);
	map_ok(&rw, 5, 1000, 0, 0);
	map_ok(&rw, 5, 1001, 3000, 0);                          /* out 101 */
	/* A jump of MAX_DROPOUT or more is a restart, not 3000 lost packets. */
	o = map_ok(&rw, 5, 1001 + PL_REWRITE_MAX_DROPOUT, 3000000, 0);
	assert_int_equal(o.seq, 102);
	assert_int_equal(o.ts, 3001);
	o = map_ok(&rw, 5, 1002 + PL_REWRITE_MAX_DROPOUT, 3003000, 0);
	assert_int_equal(o.seq, 103);
	/* Just under the limit is a gap (loss). */
	o = map_ok(&rw, 5, 1002 + 2 * PL_REWRITE_MAX_DROPOUT - 1, 3006000, 0);
	assert_int_equal(o.seq, 103 + PL_REWRITE_MAX_DROPOUT - 1);
	/* Far behind: probation, then a restart when the next one follows. */
	assert_int_equal(map_rc(&rw, 5, 10, 50, 0), PL_EPROTO);
	assert_int_equal(map_rc(&rw, 5, 500, 50, 0), PL_EPROTO);
	o = map_ok(&rw, 5, 501, 3050, 0);
	assert_int_equal(o.seq, 103 + PL_REWRITE_MAX_DROPOUT);
	o = map_ok(&rw, 5, 502, 6050, 0);
	assert_int_equal(o.seq, 104 + PL_REWRITE_MAX_DROPOUT);
	/* Within the misorder window a late packet is just late. */
	o = map_ok(&rw, 5, 501, 3050, 0);
	assert_int_equal(o.seq, 103 + PL_REWRITE_MAX_DROPOUT);
}

static void test_rewrite_resync_and_switch_back(void **state)
{
	struct pl_rewrite rw;
	struct out o;

	/* A layer switch A -> B -> A: B replaced A, so A is refused as a late
	 * packet until the caller says it switches on purpose. */
	pl_rewrite_init(&rw, VIDEO_HZ, 0, 0);
	map_ok(&rw, 0xA, 10, 0, 0);
	o = map_ok(&rw, 0xB, 70, 0, 10000);
	assert_int_equal(o.seq, 1);
	assert_int_equal(o.ts, 900);
	assert_int_equal(map_rc(&rw, 0xA, 11, 3000, 20000), PL_EEXPIRED);
	pl_rewrite_resync(&rw);
	o = map_ok(&rw, 0xA, 12, 6000, 20000);
	assert_int_equal(o.seq, 2);
	assert_int_equal(o.ts, 1800);
	assert_int_equal(map_rc(&rw, 0xB, 71, 3000, 20000), PL_EEXPIRED);
	/* A resync with the same SSRC (end of a mute that was not skipped
	 * packet by packet): no gap for the packets never seen. */
	pl_rewrite_resync(&rw);
	o = map_ok(&rw, 0xA, 900, 6000 + 3000 * 888, 30000);
	assert_int_equal(o.seq, 3);
	assert_int_equal(o.ts, 2700);
	assert_int_equal(map_rc(&rw, 0xA, 13, 9000, 30000), PL_EEXPIRED);
	assert_int_equal(map_rc(&rw, 0xA, 899, 9000, 30000), PL_EEXPIRED);
	o = map_ok(&rw, 0xA, 901, 6000 + 3000 * 889, 40000);
	assert_int_equal(o.seq, 4);
	assert_int_equal(o.ts, 5700);
}

static void test_rewrite_reverse_map_with_skips(void **state)
{
	struct pl_rewrite rw;
	/* f: forwarded, s: skipped, l: lost (never seen) */
	static const char plan[] = "ffssflfsssflsfff";
	uint16_t out_of[sizeof(plan)];
	uint16_t in, next = 40;

	pl_rewrite_init(&rw, VIDEO_HZ, 40, 0);
	for (uint16_t i = 0; plan[i]; i++) {
		uint16_t s = (uint16_t)(65530 + i);             /* wraps at i = 6 */
		struct out o;

		if (plan[i] == 's') {
			assert_int_equal(pl_rewrite_skip(&rw, 3, s, 0, 0), 0);
			continue;
		}
		if (plan[i] == 'l') {
			out_of[i] = next++;
			continue;
		}
		o = map_ok(&rw, 3, s, 0, 0);
		assert_int_equal(o.seq, next);
		out_of[i] = next++;
	}
	for (uint16_t i = 0; plan[i]; i++)
		if (plan[i] != 's')
			assert_int_equal(unmap_ok(&rw, out_of[i]), (uint16_t)(65530 + i));
	assert_int_equal(pl_rewrite_unmap(&rw, next, &in), PL_ENOENT);
	assert_int_equal(pl_rewrite_unmap(&rw, 39, &in), PL_EEXPIRED);
	/* Very far back in the outgoing numbering. */
	assert_int_equal(pl_rewrite_unmap(&rw, (uint16_t)(next + 40000), &in), PL_EEXPIRED);
}

static void test_rewrite_skip_ranges_bounded(void **state)
{
	struct pl_rewrite rw;
	struct out o;
	uint16_t in;

	/* Alternate forward/skip: every skip is its own range, so the oldest
	 * ranges are forgotten and what preceded them becomes too old. */
	pl_rewrite_init(&rw, VIDEO_HZ, 0, 0);
	for (uint16_t s = 0; s < 2 * (PL_REWRITE_MAX_SKIPS + 4); s += 2) {
		o = map_ok(&rw, 1, s, 0, 0);
		assert_int_equal(o.seq, s / 2);
		assert_int_equal(pl_rewrite_skip(&rw, 1, (uint16_t)(s + 1), 0, 0), 0);
	}
	assert_int_equal(rw.n_skips, PL_REWRITE_MAX_SKIPS);
	/* Ranges 1, 3, .., 7 are forgotten: seq 6 (out 3) is gone, 8 is
	 * still placed (out 4) and the reverse map agrees. */
	assert_int_equal(map_rc(&rw, 1, 6, 0, 0), PL_EEXPIRED);
	assert_int_equal(map_rc(&rw, 1, 7, 0, 0), PL_EEXPIRED);
	assert_int_equal(pl_rewrite_unmap(&rw, 3, &in), PL_EEXPIRED);
	o = map_ok(&rw, 1, 8, 0, 0);
	assert_int_equal(o.seq, 4);
	assert_int_equal(unmap_ok(&rw, 4), 8);
	assert_int_equal(unmap_ok(&rw, PL_REWRITE_MAX_SKIPS + 3), 2 * (PL_REWRITE_MAX_SKIPS + 3));
	assert_int_equal(map_rc(&rw, 1, 9, 0, 0), PL_EEXIST);
}

/* A long random stream: in-order delivery with losses, skips and source
 * switches, and reordered late copies.  Checks that forwarded packets are
 * numbered contiguously except for exactly the lost ones, that every copy
 * maps to the same number, and that the reverse map inverts the map. */
static void test_rewrite_random_walk(void **state)
{
	enum { N = 20000 };
	static uint16_t out_seq[N];
	/* 0 forwarded, 1 skipped, 2 lost, 3 lost unnoticed at a source's end */
	static uint8_t kind[N];
	struct pl_rewrite rw;
	uint32_t expect = 17, ssrc = 1, src_start = 0;
	uint16_t in_seq = 60000, in_seq_of[N];
	int last_fwd = 0;

	srand(4588);
	pl_rewrite_init(&rw, VIDEO_HZ, 17, 0);
	for (int i = 0; i < N; i++, in_seq++) {
		int r = rand() % 100;
		struct out o;

		if (i > 0 && r == 0) {                  /* publisher restart */
			/* Losses after the old source's last forwarded packet
			 * were never known: the new source continues right
			 * after what was sent. */
			for (int k = last_fwd + 1; k < i; k++)
				if (kind[k] == 2)
					kind[k] = 3;
			expect = (uint32_t)out_seq[last_fwd] + 1;
			ssrc++;
			in_seq = (uint16_t)rand();
			src_start = (uint32_t)i;
		}
		in_seq_of[i] = in_seq;
		kind[i] = (uint8_t)(i == (int)src_start ? 0 : r < 10 ? 1 : r < 15 ? 2 : 0);
		if (kind[i] == 1) {
			assert_int_equal(pl_rewrite_skip(&rw, ssrc, in_seq, 0, i), 0);
			continue;
		}
		out_seq[i] = (uint16_t)expect++;
		if (kind[i] == 2)
			continue;
		o = map_ok(&rw, ssrc, in_seq, 0, i);
		assert_int_equal(o.seq, out_seq[i]);
		last_fwd = i;
		/* A late copy of something recent from the same source. */
		int j = i - rand() % 20;
		if (j < 0)
			j = 0;
		if (j >= (int)src_start && kind[j] == 0) {
			o = map_ok(&rw, ssrc, in_seq_of[j], 0, i);
			assert_int_equal(o.seq, out_seq[j]);
		}
		if (j >= (int)src_start && (kind[j] == 0 || kind[j] == 2)) {
			uint16_t back;
			assert_int_equal(pl_rewrite_unmap(&rw, out_seq[j], &back), 0);
			assert_int_equal(back, in_seq_of[j]);
		}
		if (j < (int)src_start && (kind[j] == 0 || kind[j] == 2)) {
			uint16_t back;
			assert_int_equal(pl_rewrite_unmap(&rw, out_seq[j], &back), PL_EEXPIRED);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite_first_packet_takes_bases),
		cmocka_unit_test(test_rewrite_seq_and_ts_wrap),
		cmocka_unit_test(test_rewrite_out_of_order_and_duplicates),
		cmocka_unit_test(test_rewrite_publisher_restart_new_ssrc),
		cmocka_unit_test(test_rewrite_timestamps_never_go_backwards),
		cmocka_unit_test(test_rewrite_mute_gap_continuity),
		cmocka_unit_test(test_rewrite_mute_across_restart),
		cmocka_unit_test(test_rewrite_restart_same_ssrc),
		cmocka_unit_test(test_rewrite_resync_and_switch_back),
		cmocka_unit_test(test_rewrite_reverse_map_with_skips),
		cmocka_unit_test(test_rewrite_skip_ranges_bounded),
		cmocka_unit_test(test_rewrite_random_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
