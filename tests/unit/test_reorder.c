/* tests/unit/test_reorder.c: client/reorder.h with synthetic VP8 packets.
 *
 * Each packet's payload is a one-byte VP8 descriptor (S and PID 0 on a
 * frame's first packet), then two bytes: the VP8 frame tag's first byte on
 * a start (P=0: keyframe, P=1: delta), 0xAA otherwise, and the low byte of
 * the sequence number, so that a frame's bytes show which packets it was
 * assembled from and in what order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "client/reorder.h"
#include "common/err.h"

#include <string.h>

#define MS 1000
#define WAIT (100 * MS)

enum { DELTA = 0, KEY = 1 };

/* Pushes packet seq of a frame: start/marker/key as given. */
static int push(struct pl_reorder *r, uint16_t seq, uint32_t ts, bool start, bool marker, int key,
		int64_t now)
{
	uint8_t p[3] = { start ? 0x10 : 0x00, start ? (key ? 0x00 : 0x01) : 0xAA, (uint8_t)seq };

	return pl_reorder_push(r, seq, ts, marker, p, sizeof(p), now);
}

/* Pushes a whole frame of n packets from seq, in order. */
static void push_frame(struct pl_reorder *r, uint16_t seq, int n, uint32_t ts, int key, int64_t now)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(push(r, (uint16_t)(seq + i), ts, i == 0, i == n - 1, key, now), 0);
}

/* Pops one frame and checks it is packets first..first+n-1 in order. */
static void expect_frame(struct pl_reorder *r, int64_t now, uint16_t first, int n, uint32_t ts, int key)
{
	struct pl_reorder_frame f;

	assert_true(pl_reorder_pop(r, now, WAIT, &f));
	assert_int_equal(f.ts, ts);
	assert_int_equal(f.keyframe, key == KEY);
	assert_int_equal(f.first_seq, first);
	assert_int_equal(f.last_seq, (uint16_t)(first + n - 1));
	assert_int_equal(f.len, 2 * (size_t)n);
	assert_int_equal(f.data[0], key == KEY ? 0x00 : 0x01);
	for (int i = 0; i < n; i++) {
		assert_int_equal(f.data[2 * i + 1], (uint8_t)(first + i));
		if (i > 0)
			assert_int_equal(f.data[2 * i], 0xAA);
	}
}

static void expect_none(struct pl_reorder *r, int64_t now)
{
	struct pl_reorder_frame f;

	assert_false(pl_reorder_pop(r, now, WAIT, &f));
}

static struct pl_reorder_stats stats(const struct pl_reorder *r)
{
	struct pl_reorder_stats st;

	pl_reorder_get_stats(r, &st);
	return st;
}

static void test_reorder_create_sizes(void **state)
{
	(void)state;
	assert_null(pl_reorder_create(0));
	assert_null(pl_reorder_create(8));
	assert_null(pl_reorder_create(100));
	assert_null(pl_reorder_create(65536));
	pl_reorder_destroy(NULL);
	pl_reorder_destroy(pl_reorder_create(16));
}

static void test_reorder_in_order(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	assert_true(pl_reorder_needs_keyframe(r));
	expect_none(r, 0);
	push_frame(r, 100, 3, 9000, KEY, 0);
	expect_frame(r, 0, 100, 3, 9000, KEY);
	expect_none(r, 0);
	assert_false(pl_reorder_needs_keyframe(r));
	push_frame(r, 103, 2, 12000, DELTA, 1);
	push_frame(r, 105, 1, 15000, DELTA, 2);
	expect_frame(r, 2, 103, 2, 12000, DELTA);
	expect_frame(r, 2, 105, 1, 15000, DELTA);
	expect_none(r, 2);
	/* A frame still being received is not handed out. */
	assert_int_equal(push(r, 106, 18000, true, false, DELTA, 3), 0);
	expect_none(r, 1000 * MS);
	assert_int_equal(stats(r).frames, 3);
	assert_int_equal(stats(r).keyframes, 1);
	assert_int_equal(stats(r).frames_incomplete, 0);
	assert_int_equal(stats(r).reordered, 0);
	pl_reorder_destroy(r);
}

static void test_reorder_reordered(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	assert_int_equal(push(r, 10, 0, true, false, KEY, 0), 0);
	assert_int_equal(push(r, 12, 0, false, true, KEY, 1), 0);
	expect_none(r, 1);
	assert_int_equal(push(r, 13, 3000, true, true, DELTA, 2), 0);
	expect_none(r, 2);
	assert_int_equal(push(r, 11, 0, false, false, KEY, 3), 0);
	expect_frame(r, 3, 10, 3, 0, KEY);
	expect_frame(r, 3, 13, 1, 3000, DELTA);
	expect_none(r, 3);
	assert_int_equal(stats(r).reordered, 1);
	assert_int_equal(stats(r).packets_given_up, 0);
	pl_reorder_destroy(r);
}

/* A NACK repair arriving within the wait saves its frame and the ones after. */
static void test_reorder_repaired_in_time(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	push_frame(r, 0, 2, 0, KEY, 0);
	expect_frame(r, 0, 0, 2, 0, KEY);
	/* Packet 2 (start of a delta frame) is lost; 3, 4, 5 arrive at 10 ms. */
	assert_int_equal(push(r, 3, 3000, false, true, DELTA, 10 * MS), 0);
	push_frame(r, 4, 2, 6000, DELTA, 10 * MS);
	expect_none(r, 10 * MS);
	expect_none(r, 10 * MS + WAIT - 1);
	/* The repair, 99 ms after the hole showed. */
	assert_int_equal(push(r, 2, 3000, true, false, DELTA, 10 * MS + WAIT - 1), 0);
	expect_frame(r, 10 * MS + WAIT - 1, 2, 2, 3000, DELTA);
	expect_frame(r, 10 * MS + WAIT - 1, 4, 2, 6000, DELTA);
	expect_none(r, 10 * MS + WAIT);
	assert_false(pl_reorder_needs_keyframe(r));
	assert_int_equal(stats(r).frames, 3);
	assert_int_equal(stats(r).frames_incomplete, 0);
	assert_int_equal(stats(r).frames_skipped, 0);
	assert_int_equal(stats(r).reordered, 1);
	pl_reorder_destroy(r);
}

/* Past the wait the frame is given up; deltas after it are dropped until a
 * keyframe; the repair, when it finally comes, is too late. */
static void test_reorder_given_up_until_keyframe(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	push_frame(r, 0, 2, 0, KEY, 0);
	expect_frame(r, 0, 0, 2, 0, KEY);
	assert_int_equal(push(r, 2, 3000, true, false, DELTA, 1 * MS), 0);
	/* 3 (the delta's marker) is lost. */
	push_frame(r, 4, 2, 6000, DELTA, 5 * MS);
	push_frame(r, 6, 1, 9000, DELTA, 6 * MS);
	expect_none(r, 5 * MS + WAIT - 1);
	assert_false(pl_reorder_needs_keyframe(r));
	expect_none(r, 5 * MS + WAIT);
	assert_true(pl_reorder_needs_keyframe(r));
	assert_int_equal(stats(r).frames_incomplete, 1);
	assert_int_equal(stats(r).packets_given_up, 1);
	assert_int_equal(stats(r).frames_skipped, 2);
	assert_int_equal(push(r, 3, 3000, false, true, DELTA, 200 * MS), PL_EEXPIRED);
	assert_int_equal(stats(r).late, 1);
	/* More deltas: still dropped; then the keyframe asked for. */
	push_frame(r, 7, 2, 12000, DELTA, 210 * MS);
	expect_none(r, 210 * MS);
	push_frame(r, 9, 3, 15000, KEY, 220 * MS);
	expect_frame(r, 220 * MS, 9, 3, 15000, KEY);
	assert_false(pl_reorder_needs_keyframe(r));
	push_frame(r, 12, 1, 18000, DELTA, 230 * MS);
	expect_frame(r, 230 * MS, 12, 1, 18000, DELTA);
	assert_int_equal(stats(r).frames_skipped, 3);
	assert_int_equal(stats(r).frames_incomplete, 1);
	pl_reorder_destroy(r);
}

/* A frame whose first packet is lost counts once, however many of its
 * packets arrive and are dropped. */
static void test_reorder_lost_start(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	push_frame(r, 0, 1, 0, KEY, 0);
	expect_frame(r, 0, 0, 1, 0, KEY);
	/* Frame 1..4 loses 1; frame 5 is a keyframe. */
	for (uint16_t s = 2; s <= 4; s++)
		assert_int_equal(push(r, s, 3000, false, s == 4, DELTA, 0), 0);
	push_frame(r, 5, 2, 6000, KEY, 0);
	expect_none(r, WAIT - 1);
	expect_frame(r, WAIT, 5, 2, 6000, KEY);
	assert_int_equal(stats(r).frames_incomplete, 1);
	assert_int_equal(stats(r).packets_given_up, 1);
	assert_int_equal(stats(r).frames_skipped, 0);
	assert_false(pl_reorder_needs_keyframe(r));
	pl_reorder_destroy(r);
}

/* Joining mid-stream: the tail of a frame and deltas before the first
 * keyframe are not handed out. */
static void test_reorder_starts_with_keyframe(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	assert_int_equal(push(r, 500, 0, false, true, DELTA, 0), 0);
	push_frame(r, 501, 2, 3000, DELTA, 0);
	expect_none(r, 0);
	assert_true(pl_reorder_needs_keyframe(r));
	push_frame(r, 503, 2, 6000, KEY, 0);
	expect_frame(r, 0, 503, 2, 6000, KEY);
	assert_int_equal(stats(r).frames_skipped, 1);
	assert_int_equal(stats(r).frames_incomplete, 0);
	pl_reorder_destroy(r);
}

static void test_reorder_seq_wrap(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	push_frame(r, 65533, 2, 0, KEY, 0);
	/* Frame 65535, 0, 1 arrives 1, 65535, 0. */
	assert_int_equal(push(r, 1, 3000, false, true, DELTA, 1), 0);
	assert_int_equal(push(r, 65535, 3000, true, false, DELTA, 2), 0);
	expect_frame(r, 2, 65533, 2, 0, KEY);
	expect_none(r, 2);
	assert_int_equal(push(r, 0, 3000, false, false, DELTA, 3), 0);
	expect_frame(r, 3, 65535, 3, 3000, DELTA);
	push_frame(r, 2, 1, 6000, DELTA, 4);
	expect_frame(r, 4, 2, 1, 6000, DELTA);
	assert_int_equal(stats(r).frames, 3);
	assert_int_equal(stats(r).packets_given_up, 0);
	pl_reorder_destroy(r);
}

static void test_reorder_duplicates(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	assert_int_equal(push(r, 7, 0, true, false, KEY, 0), 0);
	assert_int_equal(push(r, 7, 0, true, false, KEY, 0), PL_EEXIST);
	assert_int_equal(push(r, 9, 0, false, true, KEY, 0), 0);
	assert_int_equal(push(r, 9, 0, false, true, KEY, 0), PL_EEXIST);
	assert_int_equal(push(r, 8, 0, false, false, KEY, 0), 0);
	assert_int_equal(push(r, 8, 0, false, false, KEY, 0), PL_EEXIST);
	expect_frame(r, 0, 7, 3, 0, KEY);
	expect_none(r, 0);
	/* Once handed out, a copy is late, not a new frame. */
	assert_int_equal(push(r, 8, 0, false, false, KEY, 0), PL_EEXPIRED);
	assert_int_equal(push(r, 6, 0, false, false, KEY, 0), PL_EEXPIRED);
	expect_none(r, 10 * WAIT);
	assert_int_equal(stats(r).duplicates, 3);
	assert_int_equal(stats(r).late, 2);
	assert_int_equal(stats(r).frames, 1);
	pl_reorder_destroy(r);
}

/* Padding-only packets fill their sequence numbers; a payload that is not
 * VP8, or too big, breaks its frame but not the next. */
static void test_reorder_filler_and_bad(void **state)
{
	static uint8_t big[PL_REORDER_SLOT_BYTES + 1];
	const uint8_t ext_only[1] = { 0x90 }; /* X=1 and nothing after */
	struct pl_reorder *r = pl_reorder_create(64);

	(void)state;
	push_frame(r, 0, 1, 0, KEY, 0);
	assert_int_equal(pl_reorder_push(r, 1, 0, false, NULL, 0, 0), 0);
	push_frame(r, 2, 1, 3000, DELTA, 0);
	expect_frame(r, 0, 0, 1, 0, KEY);
	expect_frame(r, 0, 2, 1, 3000, DELTA);
	/* Frame 3..5 with a bad middle packet. */
	assert_int_equal(push(r, 3, 6000, true, false, DELTA, 1), 0);
	assert_int_equal(pl_reorder_push(r, 4, 6000, false, ext_only, sizeof(ext_only), 1), PL_ETRUNC);
	assert_int_equal(push(r, 5, 6000, false, true, DELTA, 1), 0);
	expect_none(r, 1);
	assert_true(pl_reorder_needs_keyframe(r));
	memset(big, 0x10, sizeof(big));
	assert_int_equal(pl_reorder_push(r, 6, 9000, true, big, sizeof(big), 2), PL_ETOOBIG);
	push_frame(r, 7, 2, 12000, KEY, 3);
	expect_frame(r, 3, 7, 2, 12000, KEY);
	assert_int_equal(stats(r).bad, 2);
	assert_int_equal(stats(r).frames_incomplete, 1);
	assert_int_equal(stats(r).packets_given_up, 0);
	pl_reorder_destroy(r);
}

/* A hole never repaired cannot hold more than the window: packets a whole
 * window ahead force it out without waiting. */
static void test_reorder_window_full(void **state)
{
	struct pl_reorder *r = pl_reorder_create(16);
	uint16_t s = 1;

	(void)state;
	push_frame(r, 0, 1, 0, KEY, 0);
	expect_frame(r, 0, 0, 1, 0, KEY);
	/* 1 is lost; one-packet frames 2..16 fill the window. */
	for (s = 2; s <= 16; s++) {
		push_frame(r, s, 1, 3000u * s, s == 16 ? KEY : DELTA, 0);
		expect_none(r, 0);
	}
	/* 17 needs the slot of 1. */
	push_frame(r, 17, 1, 3000u * 17, DELTA, 0);
	assert_int_equal(stats(r).packets_given_up, 1);
	expect_frame(r, 0, 16, 1, 3000u * 16, KEY);
	expect_frame(r, 0, 17, 1, 3000u * 17, DELTA);
	assert_int_equal(stats(r).frames_skipped, 14);
	/* A jump beyond the whole window starts over, waiting for a keyframe. */
	push_frame(r, 1000, 1, 90000, DELTA, 1);
	expect_none(r, 1);
	push_frame(r, 1001, 1, 93000, KEY, 1);
	expect_frame(r, 1, 1001, 1, 93000, KEY);
	assert_int_equal(stats(r).resets, 1);
	pl_reorder_destroy(r);
}

/* Keyframe requests: one at once, then spaced: AGAIN while the stream has
 * shown no picture yet, MIN after a keyframe came, RETRY while the one
 * asked for does not come, AGAIN when a frame was given up since; none
 * while no keyframe is needed. */
static void test_reorder_pli_schedule(void **state)
{
	struct pl_reorder *r = pl_reorder_create(64);
	struct pl_reorder_pli p = { 0 };
	int64_t t = 5000 * MS;

	(void)state;
	/* Joined mid-frame: a keyframe is needed from the start. */
	assert_int_equal(push(r, 10, 0, false, true, DELTA, t), 0);
	expect_none(r, t);
	assert_true(pl_reorder_pli_due(&p, r, t));
	pl_reorder_pli_sent(&p, r, t);
	assert_int_equal(p.sent, 1);
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_MIN_US));
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_AGAIN_US - 1));
	assert_true(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_AGAIN_US));
	t += PL_REORDER_PLI_AGAIN_US;
	pl_reorder_pli_sent(&p, r, t);
	/* The keyframe: nothing is due, however long. */
	push_frame(r, 11, 2, 3000, KEY, t + 10 * MS);
	expect_frame(r, t + 10 * MS, 11, 2, 3000, KEY);
	assert_false(pl_reorder_pli_due(&p, r, t + 10 * PL_REORDER_PLI_RETRY_US));
	/* A loss (13 never comes): a request MIN after the last one. */
	push_frame(r, 14, 1, 9000, DELTA, t + 50 * MS);
	expect_none(r, t + 50 * MS + WAIT);
	assert_true(pl_reorder_needs_keyframe(r));
	assert_int_equal(stats(r).frames_incomplete, 1);
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_MIN_US - 1));
	assert_true(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_MIN_US));
	t += PL_REORDER_PLI_MIN_US;
	pl_reorder_pli_sent(&p, r, t);
	/* No keyframe comes: again after RETRY. */
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_AGAIN_US));
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_RETRY_US - 1));
	assert_true(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_RETRY_US));
	t += PL_REORDER_PLI_RETRY_US;
	pl_reorder_pli_sent(&p, r, t);
	/* The keyframe comes incomplete (16 lost) and is given up: sooner. */
	assert_int_equal(push(r, 15, 12000, true, false, KEY, t + 10 * MS), 0);
	assert_int_equal(push(r, 17, 12000, false, true, KEY, t + 10 * MS), 0);
	expect_none(r, t + 10 * MS + WAIT);
	assert_int_equal(stats(r).frames_incomplete, 2);
	assert_false(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_AGAIN_US - 1));
	assert_true(pl_reorder_pli_due(&p, r, t + PL_REORDER_PLI_AGAIN_US));
	assert_int_equal(p.sent, 4);
	pl_reorder_destroy(r);
}

/* Random loss and repairs of a long stream, some too late: frames come
 * out in order, each assembled from consecutive packets in order; with
 * repairs mostly in time most frames survive; nothing leaks (ASan). */
struct lost_pkt {
	uint16_t seq;
	uint32_t ts;
	bool start, marker;
	int key;
};

static void test_reorder_random(void **state)
{
	struct pl_reorder *r = pl_reorder_create(512);
	struct pl_reorder_frame f;
	struct lost_pkt lost[64];
	uint32_t rng = 12345, last_ts = 0;
	uint16_t seq = 40000;
	size_t n_lost = 0;
	uint64_t out = 0;
	int64_t now = 0;
	bool any = false;

	(void)state;
	for (int k = 0; k < 3000; k++, now += 33 * MS) {
		int n = 1 + k % 4, key = k % 30 == 0;
		uint32_t ts = 3000u * (uint32_t)k;

		for (int i = 0; i < n; i++, seq++) {
			rng = rng * 1103515245u + 12345u;
			if ((rng >> 16) % 100 < 5 && n_lost < 64) {
				lost[n_lost++] = (struct lost_pkt){ seq, ts, i == 0, i == n - 1, key };
				continue;
			}
			assert_int_equal(push(r, seq, ts, i == 0, i == n - 1, key, now), 0);
		}
		/* Each lost packet is repaired with probability 1/2 per frame
		 * interval: mostly within the 100 ms wait, 1/16 not. */
		for (size_t i = 0; i < n_lost;) {
			rng = rng * 1103515245u + 12345u;
			if ((rng >> 16) % 2 == 0) {
				const struct lost_pkt *l = &lost[i];
				int rc = push(r, l->seq, l->ts, l->start, l->marker, l->key, now);
				assert_true(rc == 0 || rc == PL_EEXPIRED);
				lost[i] = lost[--n_lost];
			} else {
				i++;
			}
		}
		while (pl_reorder_pop(r, now, WAIT, &f)) {
			uint16_t n_pkts = (uint16_t)(f.last_seq - f.first_seq + 1);
			assert_true(!any || (int32_t)(f.ts - last_ts) > 0);
			assert_int_equal(f.len, 2u * n_pkts);
			for (uint16_t i = 0; i < n_pkts; i++)
				assert_int_equal(f.data[2 * i + 1], (uint8_t)(f.first_seq + i));
			any = true;
			last_ts = f.ts;
			out++;
		}
	}
	assert_int_equal(stats(r).frames, out);
	assert_true(stats(r).reordered > 100);
	assert_true(stats(r).packets_given_up > 0);
	assert_true(out > 2000);
	pl_reorder_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reorder_create_sizes),
		cmocka_unit_test(test_reorder_in_order),
		cmocka_unit_test(test_reorder_reordered),
		cmocka_unit_test(test_reorder_repaired_in_time),
		cmocka_unit_test(test_reorder_given_up_until_keyframe),
		cmocka_unit_test(test_reorder_lost_start),
		cmocka_unit_test(test_reorder_starts_with_keyframe),
		cmocka_unit_test(test_reorder_seq_wrap),
		cmocka_unit_test(test_reorder_duplicates),
		cmocka_unit_test(test_reorder_filler_and_bad),
		cmocka_unit_test(test_reorder_window_full),
		cmocka_unit_test(test_reorder_pli_schedule),
		cmocka_unit_test(test_reorder_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
