/* tests/unit/test_twcc.c: transport-cc feedback built by media/twcc.h,
 * read back with the RTCP parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "media/rtcp.h"
#include "media/twcc.h"

static void parse_fb(const uint8_t *buf, size_t len, struct pl_rtcp_tcc *h,
		     struct pl_rtcp_tcc_status *st, size_t cap)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;

	pl_rtcp_iter_init(&it, buf, len);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), 0);
	assert_int_equal(p.pt, PL_RTCP_RTPFB);
	assert_int_equal(p.count, PL_RTCP_FMT_TCC);
	assert_int_equal(pl_rtcp_tcc_parse(&p, h, st, cap), 0);
}

static void test_twcc_losses_and_deltas(void **state)
{
	static struct pl_twcc_rx rx;
	struct pl_rtcp_tcc h;
	struct pl_rtcp_tcc_status st[16];
	uint8_t buf[512];
	size_t len;
	int64_t t0 = 1000000123; /* arbitrary monotonic time, not 64 ms aligned */

	pl_twcc_rx_init(&rx);
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), PL_ENOENT);
	pl_twcc_rx_on_packet(&rx, 100, t0);
	pl_twcc_rx_on_packet(&rx, 101, t0 + 1000);
	/* 102 is lost */
	pl_twcc_rx_on_packet(&rx, 104, t0 + 5000); /* out of order */
	pl_twcc_rx_on_packet(&rx, 103, t0 + 4100);
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), 0);
	parse_fb(buf, len, &h, st, 16);
	assert_int_equal(h.base_seq, 100);
	assert_int_equal(h.status_count, 5);
	assert_int_equal(h.fb_count, 0);
	assert_int_equal(h.ref_time_64ms, (t0 / 64000) & 0xffffff);
	assert_true(st[0].received && st[1].received && !st[2].received);
	assert_true(st[3].received && st[4].received);
	/* Deltas add up to the arrival times (to 250 us), in receive order. */
	int64_t t = (int64_t)h.ref_time_64ms * 64000;
	t += st[0].delta_us;
	assert_true(t - t0 >= -125 && t - t0 <= 125);
	t += st[1].delta_us;
	assert_true(t - (t0 + 1000) >= -125 && t - (t0 + 1000) <= 125);
	t += st[3].delta_us;
	assert_true(t - (t0 + 4100) >= -125 && t - (t0 + 4100) <= 125);
	t += st[4].delta_us;
	assert_true(t - (t0 + 5000) >= -125 && t - (t0 + 5000) <= 125);
	/* Everything was reported: nothing new, and old packets are ignored. */
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), PL_ENOENT);
	pl_twcc_rx_on_packet(&rx, 102, t0 + 9000);
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), PL_ENOENT);
	pl_twcc_rx_on_packet(&rx, 105, t0 + 9000);
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), 0);
	parse_fb(buf, len, &h, st, 16);
	assert_int_equal(h.base_seq, 105);
	assert_int_equal(h.fb_count, 1);
}

static void test_twcc_wrap_and_trailing_hole(void **state)
{
	static struct pl_twcc_rx rx;
	struct pl_rtcp_tcc h;
	struct pl_rtcp_tcc_status st[16];
	uint8_t buf[512];
	size_t len;

	pl_twcc_rx_init(&rx);
	pl_twcc_rx_on_packet(&rx, 65534, 64000000);
	pl_twcc_rx_on_packet(&rx, 65535, 64001000);
	pl_twcc_rx_on_packet(&rx, 1, 64003000); /* 0 missing so far */
	assert_int_equal(pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len), 0);
	parse_fb(buf, len, &h, st, 16);
	assert_int_equal(h.base_seq, 65534);
	assert_int_equal(h.status_count, 4);
	assert_false(st[2].received);
	assert_true(st[3].received);
}

static void test_twcc_many_packets_split(void **state)
{
	static struct pl_twcc_rx rx;
	struct pl_rtcp_tcc h;
	static struct pl_rtcp_tcc_status st[PL_TWCC_MAX_PER_FB];
	uint8_t buf[1500];
	size_t len;
	unsigned total = 0;

	pl_twcc_rx_init(&rx);
	for (unsigned i = 0; i < 600; i++)
		pl_twcc_rx_on_packet(&rx, (uint16_t)(7 + i), 5000000 + 300 * i);
	while (pl_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), &len) == 0) {
		parse_fb(buf, len, &h, st, PL_TWCC_MAX_PER_FB);
		assert_int_equal(h.base_seq, (uint16_t)(7 + total));
		assert_true(h.status_count <= PL_TWCC_MAX_PER_FB);
		total += h.status_count;
	}
	assert_int_equal(total, 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twcc_losses_and_deltas),
		cmocka_unit_test(test_twcc_wrap_and_trailing_hole),
		cmocka_unit_test(test_twcc_many_packets_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
