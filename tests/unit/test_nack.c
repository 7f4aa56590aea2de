/* tests/unit/test_nack.c: loss detection, the retransmission buffer and
 * RTX (media/nack.h).
 *
 * The detector is driven with explicit clocks so every NACK's timing is
 * checked: the reordering delay, retries an RTT apart, the retry limit,
 * the age limit, late arrivals, wrap, oversize gaps and a full list.  The
 * buffer is checked at its edges: seq wrap, slots lapped, arena bytes
 * overwritten (with and without the wrap-to-start skip), holes, packets
 * ahead, age, duplicate NACKs.  RTX packets are compared byte for byte
 * with a hand-assembled RFC 4588 layout and unwrapped back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "media/nack.h"
#include "media/rtcp.h"
#include "media/rtp.h"

#define MS 1000

/* Collects with a big enough array and checks the exact list. */
static void expect_nacks(struct pl_nack_rx *rx, int64_t now_us, uint32_t rtt_ms,
			 const uint16_t *want, size_t n_want)
{
	uint16_t seqs[PL_NACK_MAX_MISSING];
	size_t n = 12345;

	assert_int_equal(pl_nack_rx_collect(rx, now_us, rtt_ms, seqs, PL_NACK_MAX_MISSING, &n), 0);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], want[i]);
}

#define EXPECT(rx, now, rtt, ...)                                                        \
	do {                                                                             \
		static const uint16_t want_[] = { __VA_ARGS__ };                         \
		expect_nacks(rx, now, rtt, want_, sizeof(want_) / sizeof(want_[0]));     \
	} while (0)
#define EXPECT_NONE(rx, now, rtt) expect_nacks(rx, now, rtt, NULL, 0)

static void feed(struct pl_nack_rx *rx, uint16_t seq, int64_t now_us)
{
	assert_int_equal(pl_nack_rx_on_packet(rx, seq, now_us), 0);
}

static void test_nack_rx_reorder_delay_and_retries(void **state)
{
	struct pl_nack_rx rx;

	pl_nack_rx_init(&rx, NULL);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 0), INT64_MAX);
	feed(&rx, 1, 0);
	feed(&rx, 2, 1 * MS);
	feed(&rx, 5, 2 * MS);                                   /* 3, 4 missing at 2 ms */
	assert_int_equal(rx.n, 2);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 0), 17 * MS);
	EXPECT_NONE(&rx, 16 * MS, 0);                           /* reordering tolerance */
	EXPECT(&rx, 17 * MS, 0, 3, 4);
	EXPECT_NONE(&rx, 18 * MS, 0);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 0), 117 * MS);
	EXPECT_NONE(&rx, 116 * MS, 0);                          /* default RTT 100 ms */
	EXPECT(&rx, 117 * MS, 0, 3, 4);
	/* A given RTT sets the retry interval. */
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 40), 157 * MS);
	EXPECT_NONE(&rx, 156 * MS, 40);
	EXPECT(&rx, 157 * MS, 40, 3, 4);
	/* Clamped to 10 ms below. */
	EXPECT(&rx, 167 * MS, 1, 3, 4);
	assert_int_equal(rx.nacked, 8);
}

static void test_nack_rx_late_arrival_clears(void **state)
{
	struct pl_nack_rx rx;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 100, 0);
	feed(&rx, 104, 0);                                      /* 101..103 */
	feed(&rx, 102, 5 * MS);                                 /* reordered, not NACKed */
	EXPECT(&rx, 15 * MS, 0, 101, 103);
	feed(&rx, 101, 20 * MS);                                /* answered */
	feed(&rx, 101, 21 * MS);                                /* duplicate: nothing */
	feed(&rx, 90, 21 * MS);                                 /* old, never missing */
	EXPECT(&rx, 115 * MS, 0, 103);
	feed(&rx, 103, 120 * MS);
	EXPECT_NONE(&rx, 1000 * MS, 0);
	assert_int_equal(rx.n, 0);
	assert_int_equal(rx.recovered, 3);
	assert_int_equal(rx.given_up, 0);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 0), INT64_MAX);
}

static void test_nack_rx_wrap(void **state)
{
	struct pl_nack_rx rx;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 65533, 0);
	feed(&rx, 65535, 0);
	feed(&rx, 2, 0);                                        /* 0, 1 */
	EXPECT(&rx, 20 * MS, 0, 65534, 0, 1);
	feed(&rx, 0, 30 * MS);
	feed(&rx, 65534, 30 * MS);
	EXPECT(&rx, 120 * MS, 0, 1);
	/* Across many wraps in order, nothing goes missing. */
	for (uint32_t s = 3; s < 200000; s++)
		feed(&rx, (uint16_t)s, 130 * MS);
	feed(&rx, 1, 130 * MS);                                 /* far too late: ignored */
	assert_int_equal(rx.n, 1);
}

static void test_nack_rx_retry_limit(void **state)
{
	struct pl_nack_rx_config cfg = { .reorder_us = 10 * MS, .max_retries = 3 };
	struct pl_nack_rx rx;

	pl_nack_rx_init(&rx, &cfg);
	assert_int_equal(rx.cfg.max_age_us, 1000 * MS);         /* default kept */
	feed(&rx, 1, 0);
	feed(&rx, 3, 0);
	EXPECT(&rx, 10 * MS, 50, 2);
	EXPECT(&rx, 60 * MS, 50, 2);
	EXPECT(&rx, 110 * MS, 50, 2);
	/* The third NACK had its RTT to be answered; then it is given up. */
	EXPECT_NONE(&rx, 159 * MS, 50);
	assert_int_equal(rx.n, 1);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 50), 160 * MS);
	EXPECT_NONE(&rx, 160 * MS, 50);
	assert_int_equal(rx.n, 0);
	assert_int_equal(rx.given_up, 1);
	feed(&rx, 2, 170 * MS);                                 /* too late: harmless */
	assert_int_equal(rx.recovered, 0);
}

static void test_nack_rx_max_age(void **state)
{
	struct pl_nack_rx_config cfg = { .max_retries = 1000, .max_age_us = 300 * MS };
	struct pl_nack_rx rx;
	int nacks = 0;

	pl_nack_rx_init(&rx, &cfg);
	feed(&rx, 1, 0);
	feed(&rx, 3, 0);
	for (int64_t t = 0; t < 400 * MS; t += MS) {
		uint16_t seqs[4];
		size_t n;

		assert_int_equal(pl_nack_rx_collect(&rx, t, 100, seqs, 4, &n), 0);
		nacks += (int)n;
		if (t >= 300 * MS)
			assert_int_equal(rx.n, 0);
	}
	/* At 15, 115 and 215 ms; the one due at 315 ms is past the age. */
	assert_int_equal(nacks, 3);
	assert_int_equal(rx.given_up, 1);
	/* The age bounds next_due too. */
	pl_nack_rx_init(&rx, &cfg);
	feed(&rx, 1, 0);
	feed(&rx, 3, 0);
	EXPECT(&rx, 15 * MS, 1000, 2);
	assert_int_equal(pl_nack_rx_next_due_us(&rx, 1000), 300 * MS);
}

/* After an outage the gap's older part is past what a sender keeps
 * (max_age, 1 s): it is given up at once (and a keyframe asked for), only
 * the part of the gap inside the last second is NACKed. */
static void test_nack_rx_outage_gives_up_stale_part(void **state)
{
	struct pl_nack_rx rx;
	uint16_t seqs[PL_NACK_MAX_MISSING];
	size_t n = 0;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 100, 0);
	/* 5 s silent, then 101..349 (249 packets, one per 20 ms) missing:
	 * due at k * 5000 / 250 ms, so k <= 200 (due at <= 4 s) are stale. */
	assert_int_equal(pl_nack_rx_on_packet(&rx, 350, 5000 * MS), PL_ETOOBIG);
	assert_int_equal(rx.given_up, 200);
	assert_int_equal(rx.resets, 0);
	assert_int_equal(pl_nack_rx_collect(&rx, 5015 * MS, 20, seqs, PL_NACK_MAX_MISSING, &n), 0);
	assert_int_equal(n, 49);
	assert_int_equal(seqs[0], 301);
	assert_int_equal(seqs[48], 349);

	/* A 5 s video outage of 900 packets: no reset, the last fifth tracked. */
	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 65500, 0);
	assert_int_equal(pl_nack_rx_on_packet(&rx, (uint16_t)(65500 + 901), 5000 * MS), PL_ETOOBIG);
	assert_int_equal(rx.resets, 0);
	assert_int_equal(rx.given_up, 720);
	assert_int_equal(pl_nack_rx_collect(&rx, 5015 * MS, 20, seqs, PL_NACK_MAX_MISSING, &n), 0);
	assert_int_equal(n, 180);
	assert_int_equal(seqs[0], (uint16_t)(65500 + 721));

	/* A gap within the last second is all NACKed, as before. */
	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 7, 0);
	feed(&rx, 20, 900 * MS);
	assert_int_equal(rx.given_up, 0);
	assert_int_equal(rx.n, 12);
	(void)state;
}

static void test_nack_rx_cap_keeps_rest_due(void **state)
{
	struct pl_nack_rx rx;
	uint16_t seqs[2];
	size_t n;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 10, 0);
	feed(&rx, 16, 0);                                       /* 11..15 */
	assert_int_equal(pl_nack_rx_collect(&rx, 20 * MS, 0, seqs, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 11);
	assert_int_equal(seqs[1], 12);
	EXPECT(&rx, 21 * MS, 0, 13, 14, 15);
	EXPECT(&rx, 120 * MS, 0, 11, 12);
	EXPECT(&rx, 121 * MS, 0, 13, 14, 15);
}

static void test_nack_rx_bounded(void **state)
{
	struct pl_nack_rx rx;

	/* A gap of exactly PL_NACK_MAX_MISSING is tracked... */
	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 0, 0);
	feed(&rx, PL_NACK_MAX_MISSING + 1, 0);
	assert_int_equal(rx.n, PL_NACK_MAX_MISSING);
	/* ...one more would overflow: the oldest make room. */
	assert_int_equal(pl_nack_rx_on_packet(&rx, PL_NACK_MAX_MISSING + 3, 0), PL_ETOOBIG);
	assert_int_equal(rx.n, PL_NACK_MAX_MISSING);
	assert_int_equal(rx.given_up, 1);
	assert_int_equal(rx.missing[0].ext - rx.missing[PL_NACK_MAX_MISSING - 1].ext,
			 (uint32_t)-(PL_NACK_MAX_MISSING));
	assert_int_equal((uint16_t)rx.missing[0].ext, 2);
	assert_int_equal((uint16_t)rx.missing[PL_NACK_MAX_MISSING - 1].ext, PL_NACK_MAX_MISSING + 2);
	/* A gap larger than the list is not repaired at all. */
	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 0, 0);
	feed(&rx, 2, 0);
	assert_int_equal(pl_nack_rx_on_packet(&rx, PL_NACK_MAX_MISSING + 4, 0), PL_ETOOBIG);
	assert_int_equal(rx.n, 0);
	assert_int_equal(rx.resets, 1);
	assert_int_equal(rx.given_up, 1);
	feed(&rx, PL_NACK_MAX_MISSING + 6, 0);                  /* tracking goes on */
	EXPECT(&rx, 20 * MS, 0, PL_NACK_MAX_MISSING + 5);
}

static void test_nack_rx_numbering_restart(void **state)
{
	struct pl_nack_rx rx;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 40000, 0);
	feed(&rx, 40002, 0);
	/* Far behind: one stray is ignored, two in a row are a restart. */
	feed(&rx, 30000, 0);
	feed(&rx, 20000, 0);
	assert_int_equal(rx.n, 1);
	assert_int_equal(pl_nack_rx_on_packet(&rx, 20001, 0), PL_ETOOBIG);
	assert_int_equal(rx.n, 0);
	assert_int_equal(rx.resets, 1);
	feed(&rx, 20003, 0);
	EXPECT(&rx, 20 * MS, 0, 20002);
}

static void test_nack_rx_feeds_rtcp_writer(void **state)
{
	struct pl_nack_rx rx;
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	struct pl_rtcp_nack nack;
	uint16_t seqs[64], back[64];
	uint8_t buf[256];
	size_t n, nb, len;

	pl_nack_rx_init(&rx, NULL);
	feed(&rx, 65500, 0);
	for (uint16_t s = 65501; s != 40; s++)
		if (s % 7 && s % 11)
			feed(&rx, s, 0);
	feed(&rx, 40, 0);
	assert_int_equal(pl_nack_rx_collect(&rx, 20 * MS, 0, seqs, 64, &n), 0);
	assert_true(n > 10);
	assert_int_equal(pl_rtcp_nack_write(1, 2, seqs, n, buf, sizeof(buf), &len), 0);
	pl_rtcp_iter_init(&it, buf, len);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), 0);
	assert_int_equal(pl_rtcp_nack_parse(&p, &nack), 0);
	assert_int_equal(pl_rtcp_nack_seqs(&nack, back, 64, &nb), 0);
	assert_int_equal(nb, n);
	assert_memory_equal(back, seqs, n * sizeof(seqs[0]));
}

/* ---- Retransmission buffer ---------------------------------------------- */

static void fill(uint8_t *p, size_t len, uint16_t seq)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 31 + i);
}

static void put_ok(struct pl_rtx_buf *b, uint16_t seq, size_t len, int64_t now_us)
{
	uint8_t pkt[PL_RTX_MAX_PACKET_BYTES];

	fill(pkt, len, seq);
	assert_int_equal(pl_rtx_buf_put(b, seq, pkt, len, now_us), 0);
}

static void get_ok(struct pl_rtx_buf *b, uint16_t seq, size_t len, int64_t now_us)
{
	uint8_t want[PL_RTX_MAX_PACKET_BYTES];
	const uint8_t *p = NULL;
	size_t n = 0;

	fill(want, len, seq);
	assert_int_equal(pl_rtx_buf_get(b, seq, now_us, 0, &p, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(p, want, len);
}

static int get_rc(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, uint32_t rtt_ms)
{
	const uint8_t *p;
	size_t n;

	return pl_rtx_buf_get(b, seq, now_us, rtt_ms, &p, &n);
}

static void test_rtx_buf_basic_and_wrap(void **state)
{
	struct pl_rtx_slot slots[64];
	uint8_t arena[64 * 1000];
	struct pl_rtx_buf b;

	assert_int_equal(pl_rtx_buf_init(&b, slots, 64, arena, sizeof(arena)), 0);
	assert_int_equal(get_rc(&b, 5, 0, 0), PL_ENOENT);       /* empty */
	for (uint32_t s = 65520; s < 65536 + 20; s++)
		put_ok(&b, (uint16_t)s, 100 + s % 900, 0);
	for (uint32_t s = 65520; s < 65536 + 20; s++)
		get_ok(&b, (uint16_t)s, 100 + s % 900, 10 * MS);
	assert_int_equal(get_rc(&b, 20, 0, 0), PL_ENOENT);      /* ahead */
	assert_int_equal(get_rc(&b, 30000, 0, 0), PL_ENOENT);
	assert_int_equal(b.resent, 36);
	/* Out-of-order puts are kept; a hole is unknown. */
	put_ok(&b, 25, 50, 0);
	put_ok(&b, 22, 60, 0);
	get_ok(&b, 22, 60, 0);
	get_ok(&b, 25, 50, 0);
	assert_int_equal(get_rc(&b, 21, 0, 0), PL_ENOENT);
	assert_int_equal(get_rc(&b, 23, 0, 0), PL_ENOENT);
	/* Replacing a packet under the same seq. */
	put_ok(&b, 23, 70, 0);
	put_ok(&b, 23, 80, 0);
	get_ok(&b, 23, 80, 0);
}

static void test_rtx_buf_slots_lapped(void **state)
{
	struct pl_rtx_slot slots[16];
	uint8_t arena[100000];
	struct pl_rtx_buf b;

	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, sizeof(arena)), 0);
	for (uint16_t s = 0; s <= 40; s++)
		put_ok(&b, s, 10, 0);
	/* 25..40 held; 24 shares a slot with 40. */
	get_ok(&b, 25, 10, 0);
	assert_int_equal(get_rc(&b, 24, 0, 0), PL_EEXPIRED);
	assert_int_equal(get_rc(&b, 3, 0, 0), PL_EEXPIRED);
	assert_int_equal(b.refused_old, 2);
	/* Too old to store at all. */
	assert_int_equal(pl_rtx_buf_put(&b, 24, arena, 10, 0), PL_EEXPIRED);
	/* A slot from a lap 65536 seqs ago never answers for a newer seq:
	 * go round the 16-bit space in steps of 8 that never touch the
	 * slot of 30, to 65536 + 41; 30 + 65536 is then within the window
	 * and its slot still holds the first 30. */
	for (uint32_t s = 41; s < 65536 + 42; s += 8)
		put_ok(&b, (uint16_t)s, 10, 0);
	assert_int_equal(get_rc(&b, 30, 0, 0), PL_ENOENT);
}

static void test_rtx_buf_arena_overwrite(void **state)
{
	struct pl_rtx_slot slots[16];
	uint8_t arena[3000];
	struct pl_rtx_buf b;

	/* Exactly three packets fit: the fourth overwrites the first. */
	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, sizeof(arena)), 0);
	put_ok(&b, 1, 1000, 0);
	put_ok(&b, 2, 1000, 0);
	put_ok(&b, 3, 1000, 0);
	get_ok(&b, 1, 1000, 0);
	put_ok(&b, 4, 1000, 0);
	assert_int_equal(get_rc(&b, 1, 100 * MS, 0), PL_EEXPIRED);
	get_ok(&b, 2, 1000, 0);
	get_ok(&b, 3, 1000, 0);
	get_ok(&b, 4, 1000, 0);
	/* Straddling the end: the packet starts over at 0, which also ends
	 * the packets there; 2500 bytes hold two of 1000 and a gap. */
	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, 2500), 0);
	put_ok(&b, 1, 1000, 0);
	put_ok(&b, 2, 1000, 0);
	put_ok(&b, 3, 1000, 0);
	assert_int_equal(get_rc(&b, 1, 0, 0), PL_EEXPIRED);
	get_ok(&b, 2, 1000, 0);
	get_ok(&b, 3, 1000, 0);
	put_ok(&b, 4, 400, 0);                                  /* 1000..1399 */
	assert_int_equal(get_rc(&b, 2, 100 * MS, 0), PL_EEXPIRED);
	get_ok(&b, 3, 1000, 100 * MS);
	get_ok(&b, 4, 400, 0);
	/* A full-size packet in the smallest arena. */
	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, PL_RTX_MAX_PACKET_BYTES), 0);
	put_ok(&b, 9, PL_RTX_MAX_PACKET_BYTES, 0);
	get_ok(&b, 9, PL_RTX_MAX_PACKET_BYTES, 0);
	put_ok(&b, 10, 1, 0);
	assert_int_equal(get_rc(&b, 9, 100 * MS, 0), PL_EEXPIRED);
	get_ok(&b, 10, 1, 0);
}

static void test_rtx_buf_duplicate_nacks(void **state)
{
	struct pl_rtx_slot slots[16];
	uint8_t arena[4000];
	struct pl_rtx_buf b;

	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, sizeof(arena)), 0);
	put_ok(&b, 7, 100, 0);
	get_ok(&b, 7, 100, 10 * MS);
	/* No RTT: 20 ms. */
	assert_int_equal(get_rc(&b, 7, 29 * MS, 0), PL_EEXIST);
	get_ok(&b, 7, 100, 30 * MS);
	/* RTT 100 ms: half of it. */
	assert_int_equal(get_rc(&b, 7, 79 * MS, 100), PL_EEXIST);
	assert_int_equal(pl_rtx_buf_get(&b, 7, 80 * MS, 100, &(const uint8_t *){ 0 }, &(size_t){ 0 }), 0);
	/* A short RTT still waits 20 ms. */
	assert_int_equal(get_rc(&b, 7, 99 * MS, 10), PL_EEXIST);
	assert_int_equal(get_rc(&b, 7, 100 * MS, 10), 0);
	assert_int_equal(b.refused_dup, 3);
	/* Storing the seq again resets the dedupe. */
	put_ok(&b, 7, 100, 101 * MS);
	get_ok(&b, 7, 100, 101 * MS);
}

static void test_rtx_buf_too_old_by_age(void **state)
{
	struct pl_rtx_slot slots[16];
	uint8_t arena[4000];
	struct pl_rtx_buf b;

	assert_int_equal(pl_rtx_buf_init(&b, slots, 16, arena, sizeof(arena)), 0);
	put_ok(&b, 1, 10, 0);
	put_ok(&b, 2, 10, 500 * MS);
	assert_int_equal(get_rc(&b, 1, 1000 * MS + 1, 0), PL_EEXPIRED);
	get_ok(&b, 2, 10, 1000 * MS + 1);
	b.max_age_us = 100 * MS;
	assert_int_equal(get_rc(&b, 2, 700 * MS, 0), PL_EEXPIRED);
}

static void test_rtx_buf_bad_arguments(void **state)
{
	struct pl_rtx_slot slots[32];
	uint8_t arena[2000], big[PL_RTX_MAX_PACKET_BYTES + 1] = { 0 };
	struct pl_rtx_buf b, *hb;

	assert_int_equal(pl_rtx_buf_init(&b, slots, 24, arena, sizeof(arena)), PL_EINVAL);
	assert_int_equal(pl_rtx_buf_init(&b, slots, 8, arena, sizeof(arena)), PL_EINVAL);
	assert_int_equal(pl_rtx_buf_init(&b, slots, 32, arena, 1499), PL_EINVAL);
	assert_int_equal(pl_rtx_buf_init(&b, NULL, 32, arena, sizeof(arena)), PL_EINVAL);
	assert_int_equal(pl_rtx_buf_init(&b, slots, 32, arena, sizeof(arena)), 0);
	assert_int_equal(pl_rtx_buf_put(&b, 1, big, sizeof(big), 0), PL_ETOOBIG);
	assert_int_equal(pl_rtx_buf_put(&b, 1, big, 0, 0), PL_EINVAL);
	assert_null(pl_rtx_buf_create(100, 100000));
	hb = pl_rtx_buf_create(512, 256 * 1024);
	assert_non_null(hb);
	for (uint32_t s = 0; s < 3000; s++)
		put_ok(hb, (uint16_t)s, 1200, s * MS);
	get_ok(hb, 2999 - 200, 1200, 3000 * MS);
	pl_rtx_buf_destroy(hb);
	pl_rtx_buf_destroy(NULL);
}

/* ---- RTX ---------------------------------------------------------------- */

/* V=2 P=0 X=1 CC=1 M=1 PT=96 seq=0x1234 ts=0xdeadbeef ssrc=0x11111111,
 * CSRC 0x22222222, a one-byte extension block (id 3, "ab"), payload
 * "VP8!". */
static const uint8_t media_pkt[] = {
	0x91, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x11, 0x11, 0x11,
	0x22, 0x22, 0x22, 0x22,
	0xbe, 0xde, 0x00, 0x01, 0x31, 'a', 'b', 0x00,
	'V', 'P', '8', '!',
};

/* RTX PT=97, seq=0xffff, ssrc=0x33333333, then OSN 0x1234 and payload. */
static const uint8_t rtx_pkt[] = {
	0x91, 0xe1, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef, 0x33, 0x33, 0x33, 0x33,
	0x22, 0x22, 0x22, 0x22,
	0xbe, 0xde, 0x00, 0x01, 0x31, 'a', 'b', 0x00,
	0x12, 0x34, 'V', 'P', '8', '!',
};

static void test_rtx_layout_rfc4588(void **state)
{
	struct pl_rtx_stream s;
	uint8_t buf[64];
	size_t len;

	pl_rtx_stream_init(&s, 0x33333333, 97, 0xffff);
	assert_int_equal(pl_rtx_stream_write(&s, media_pkt, sizeof(media_pkt), buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(rtx_pkt));
	assert_memory_equal(buf, rtx_pkt, sizeof(rtx_pkt));
	/* The RTX stream's own counter wraps; nothing else changes. */
	assert_int_equal(pl_rtx_stream_write(&s, media_pkt, sizeof(media_pkt), buf, sizeof(buf), &len), 0);
	assert_int_equal(pl_rd16(buf + 2), 0x0000);
	assert_memory_equal(buf + 4, rtx_pkt + 4, sizeof(rtx_pkt) - 4);
	assert_int_equal(s.seq, 1);
	/* One byte short: refused, the counter stays. */
	assert_int_equal(pl_rtx_stream_write(&s, media_pkt, sizeof(media_pkt), buf, sizeof(rtx_pkt) - 1, &len),
			 PL_ETOOBIG);
	assert_int_equal(s.seq, 1);
	assert_int_equal(pl_rtx_stream_write(&s, media_pkt, 11, buf, sizeof(buf), &len), PL_ETRUNC);
	assert_int_equal(s.seq, 1);
}

static void test_rtx_padding_dropped_and_in_place(void **state)
{
	/* V=2 P=1, no marker, PT=111, seq 7, payload "xyz" and 3 bytes of
	 * padding. */
	static const uint8_t padded[] = {
		0xa0, 0x6f, 0x00, 0x07, 0, 0, 0, 9, 0, 0, 0, 1, 'x', 'y', 'z', 0, 0, 3,
	};
	static const uint8_t want[] = {
		0x80, 0x62, 0x00, 0x05, 0, 0, 0, 9, 0xab, 0xcd, 0xef, 0x01, 0x00, 0x07, 'x', 'y', 'z',
	};
	struct pl_rtx_stream s;
	uint8_t buf[32];
	size_t len;

	pl_rtx_stream_init(&s, 0xabcdef01, 98, 5);
	memcpy(buf, padded, sizeof(padded));
	assert_int_equal(pl_rtx_stream_write(&s, buf, sizeof(padded), buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_rtx_unwrap(void **state)
{
	uint8_t buf[64];
	size_t len = sizeof(rtx_pkt);
	/* Chrome's padding-only probe on the RTX SSRC: P=1, 4 padding bytes. */
	uint8_t probe[] = { 0xa0, 0x61, 0, 1, 0, 0, 0, 0, 0x33, 0x33, 0x33, 0x33, 0, 0, 0, 4 };

	memcpy(buf, rtx_pkt, sizeof(rtx_pkt));
	assert_int_equal(pl_rtx_unwrap(buf, &len, 0x11111111, 96), 0);
	assert_int_equal(len, sizeof(media_pkt));
	assert_memory_equal(buf, media_pkt, sizeof(media_pkt));
	len = sizeof(probe);
	assert_int_equal(pl_rtx_unwrap(probe, &len, 1, 96), PL_ETRUNC);
	len = 5;
	assert_int_equal(pl_rtx_unwrap(buf, &len, 1, 96), PL_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nack_rx_reorder_delay_and_retries),
		cmocka_unit_test(test_nack_rx_late_arrival_clears),
		cmocka_unit_test(test_nack_rx_wrap),
		cmocka_unit_test(test_nack_rx_retry_limit),
		cmocka_unit_test(test_nack_rx_max_age),
		cmocka_unit_test(test_nack_rx_outage_gives_up_stale_part),
		cmocka_unit_test(test_nack_rx_cap_keeps_rest_due),
		cmocka_unit_test(test_nack_rx_bounded),
		cmocka_unit_test(test_nack_rx_numbering_restart),
		cmocka_unit_test(test_nack_rx_feeds_rtcp_writer),
		cmocka_unit_test(test_rtx_buf_basic_and_wrap),
		cmocka_unit_test(test_rtx_buf_slots_lapped),
		cmocka_unit_test(test_rtx_buf_arena_overwrite),
		cmocka_unit_test(test_rtx_buf_duplicate_nacks),
		cmocka_unit_test(test_rtx_buf_too_old_by_age),
		cmocka_unit_test(test_rtx_buf_bad_arguments),
		cmocka_unit_test(test_rtx_layout_rfc4588),
		cmocka_unit_test(test_rtx_padding_dropped_and_in_place),
		cmocka_unit_test(test_rtx_unwrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
