/* tests/unit/test_keyframe.c: aggregation of keyframe requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/keyframe.h"

static void test_kf_fifty_subscribers_at_once(void **state)
{
	struct pl_kf_throttle t = { 0 };
	int64_t now = 1000000;
	int sent = 0;

	/* 50 subscribers attach within 100 ms, each asking for a keyframe. */
	for (int i = 0; i < 50; i++)
		sent += pl_kf_throttle_allow(&t, now + i * 2000);
	assert_int_equal(sent, 1);
	assert_int_equal(t.sent, 1);
	assert_int_equal(t.suppressed, 49);
}

static void test_kf_retry_cadence(void **state)
{
	struct pl_kf_throttle t = { 0 };
	int64_t now = 5000000;
	int sent = 0;

	/* Down tracks waiting for a keyframe ask on every packet (every 20 ms)
	 * for 3 s: one request, then one retry per 500 ms. */
	for (int i = 0; i <= 150; i++)
		sent += pl_kf_throttle_allow(&t, now + (int64_t)i * 20000);
	assert_int_equal(sent, 7); /* 0, 0.5, 1.0, ..., 3.0 s */
	/* After the interval a new request goes through at once. */
	assert_true(pl_kf_throttle_allow(&t, now + 3000000 + PL_KF_MIN_INTERVAL_US));
	assert_false(pl_kf_throttle_allow(&t, now + 3000000 + PL_KF_MIN_INTERVAL_US + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kf_fifty_subscribers_at_once),
		cmocka_unit_test(test_kf_retry_cadence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
