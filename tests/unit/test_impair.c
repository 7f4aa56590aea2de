/* tests/unit/test_impair.c: the deterministic impairment stage
 * (client/impair.h), driven by a fake clock: determinism, loss rates,
 * Gilbert-Elliott burst lengths, delay and jitter bounds and order, token
 * bucket throughput and tail drop, spec parsing. */
#include "client/client.h"
#include "client/impair.h"
#include "common/err.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct pl_impair *make(const char *spec)
{
	struct pl_impair_config cfg;
	struct pl_impair *im;
	char err[160];

	assert_int_equal(pl_impair_parse(spec, &cfg, err, sizeof(err)), 0);
	assert_int_equal(pl_impair_create(&cfg, 7, &im), 0);
	return im;
}

/* Pushes n datagrams one per ms (no delay configured) and records which
 * were lost in lost[] (may be NULL); returns the number lost. */
static size_t run_loss(struct pl_impair *im, size_t n, uint8_t *lost)
{
	uint8_t pkt[100] = { 0 };
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		enum pl_impair_verdict v = pl_impair_push(im, (int64_t)i * 1000, pkt, sizeof(pkt), NULL);
		assert_true(v == PL_IMPAIR_PASS || v == PL_IMPAIR_LOST);
		if (lost)
			lost[i] = v == PL_IMPAIR_LOST;
		total += v == PL_IMPAIR_LOST;
	}
	return total;
}

static void test_same_seed_same_drops(void **state)
{
	enum { N = 20000 };
	static uint8_t a[N], b[N], c[N];
	struct pl_impair *x = make("loss=5%,seed=42"), *y = make("loss=5%,seed=42"),
			 *z = make("loss=5%,seed=43");

	(void)state;
	run_loss(x, N, a);
	run_loss(y, N, b);
	run_loss(z, N, c);
	assert_memory_equal(a, b, N);
	assert_memory_not_equal(a, c, N);
	pl_impair_destroy(x);
	pl_impair_destroy(y);
	pl_impair_destroy(z);
	/* Delay settings do not change which datagrams are lost (own stream). */
	x = make("loss=5%,burst=2,seed=9");
	y = make("loss=5%,burst=2,seed=9,delay=30ms,jitter=10ms");
	run_loss(x, 2000, a);
	{
		uint8_t pkt[10] = { 0 };
		for (size_t i = 0; i < 2000; i++)
			b[i] = pl_impair_push(y, (int64_t)i * 1000, pkt, sizeof(pkt), NULL) == PL_IMPAIR_LOST;
	}
	assert_memory_equal(a, b, 2000);
	pl_impair_destroy(x);
	pl_impair_destroy(y);
}

static void test_loss_rate(void **state)
{
	static const double rates[] = { 0.01, 0.05, 0.20 };
	enum { N = 100000 };

	(void)state;
	for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		char spec[64];
		struct pl_impair *im;
		double got, sd;

		snprintf(spec, sizeof(spec), "loss=%g%%,seed=%zu", rates[k] * 100, k + 1);
		im = make(spec);
		got = (double)run_loss(im, N, NULL) / N;
		sd = sqrt(rates[k] * (1 - rates[k]) / N);
		assert_true(fabs(got - rates[k]) < 4 * sd);
		pl_impair_destroy(im);
	}
}

static void test_gilbert_elliott_bursts(void **state)
{
	enum { N = 200000 };
	static uint8_t lost[N];
	static const double bursts[] = { 1, 3, 8 };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		char spec[64];
		size_t runs = 0, total;
		struct pl_impair *im;
		double mean;

		snprintf(spec, sizeof(spec), "loss=5%%,burst=%g,seed=%zu", bursts[k], 10 + k);
		im = make(spec);
		total = run_loss(im, N, lost);
		for (size_t i = 0; i < N; i++)
			runs += lost[i] && (i == 0 || !lost[i - 1]);
		mean = (double)total / (double)runs;
		/* Long-run loss stays 5 %, runs average `burst` datagrams. */
		assert_true(fabs((double)total / N - 0.05) < 0.006 * sqrt(bursts[k]));
		assert_true(fabs(mean - bursts[k]) < 0.1 * bursts[k]);
		pl_impair_destroy(im);
	}
	/* Random loss: runs average 1 / (1 - p). */
	{
		struct pl_impair *im = make("loss=20%,seed=3");
		size_t runs = 0, total = run_loss(im, N, lost);
		for (size_t i = 0; i < N; i++)
			runs += lost[i] && (i == 0 || !lost[i - 1]);
		assert_true(fabs((double)total / (double)runs - 1.25) < 0.05);
		pl_impair_destroy(im);
	}
}

/* Drains everything due up to t, checking order and delay bounds. */
static void drain(struct pl_impair *im, int64_t t, uint32_t *next, int64_t lo_us, int64_t hi_us,
		  bool ordered, size_t *got)
{
	uint8_t buf[PL_IMPAIR_MAX_DGRAM];
	void *tag;
	size_t len;

	while ((len = pl_impair_pop(im, t, buf, sizeof(buf), &tag)) > 0) {
		uint32_t no;
		int64_t sent;

		assert_int_equal(len, 12);
		memcpy(&no, buf, 4);
		memcpy(&sent, buf + 4, 8);
		if (ordered)
			assert_int_equal(no, *next);
		*next = no + 1;
		assert_true(t - sent >= lo_us);
		assert_true(t - sent <= hi_us);
		(*got)++;
	}
}

static void test_delay_jitter_order(void **state)
{
	struct pl_impair *im = make("delay=50ms,jitter=20ms,seed=5");
	uint32_t next = 0;
	size_t got = 0, reordered = 0;
	int64_t t;

	(void)state;
	/* One datagram every 2 ms, popped with a 100 us clock. */
	for (t = 0; t < 2100000; t += 100) {
		if (t % 2000 == 0 && t < 2000000) {
			uint8_t pkt[12];
			uint32_t no = (uint32_t)(t / 2000);
			memcpy(pkt, &no, 4);
			memcpy(pkt + 4, &t, 8);
			assert_int_equal(pl_impair_push(im, t, pkt, sizeof(pkt), NULL), PL_IMPAIR_QUEUED);
		}
		drain(im, t, &next, 30000, 70000 + 100, true, &got);
	}
	assert_int_equal(got, 1000);
	{
		struct pl_impair_stats st;
		pl_impair_get_stats(im, &st);
		/* Keeping order lifts the mean above 50 ms but never past 70. */
		assert_true(st.delay_sum_us / st.delivered > 50000);
		assert_true(st.delay_max_us <= 70100);
	}
	pl_impair_destroy(im);

	/* reorder=on: each datagram at its own time, so some overtake. */
	im = make("delay=50ms,jitter=20ms,seed=5,reorder=on");
	got = 0;
	for (t = 0; t < 2100000; t += 100) {
		if (t % 2000 == 0 && t < 2000000) {
			uint8_t pkt[12];
			uint32_t no = (uint32_t)(t / 2000);
			memcpy(pkt, &no, 4);
			memcpy(pkt + 4, &t, 8);
			pl_impair_push(im, t, pkt, sizeof(pkt), NULL);
		}
		{
			uint32_t before = next;
			drain(im, t, &next, 30000, 70100, false, &got);
			if (got && next < before)
				reordered++;
		}
	}
	assert_int_equal(got, 1000);
	assert_true(reordered > 10);
	pl_impair_destroy(im);
}

static void test_token_bucket(void **state)
{
	struct pl_impair *im = make("rate=1mbit,queue=20kb");
	uint8_t pkt[1000] = { 0 }, buf[PL_IMPAIR_MAX_DGRAM];
	uint64_t bytes = 0, overflow = 0;
	int64_t t, first = -1, last = 0;
	void *tag;
	size_t len;

	(void)state;
	/* Offer 2 Mbit/s (1000 bytes every 4 ms) for 10 s. */
	for (t = 0; t < 10000000; t += 100) {
		if (t % 4000 == 0) {
			enum pl_impair_verdict v = pl_impair_push(im, t, pkt, sizeof(pkt), NULL);
			overflow += v == PL_IMPAIR_OVERFLOW;
			if (v == PL_IMPAIR_PASS)
				bytes += sizeof(pkt);
		}
		while ((len = pl_impair_pop(im, t, buf, sizeof(buf), &tag)) > 0) {
			bytes += len;
			if (first < 0)
				first = t;
			last = t;
		}
	}
	/* About half gets through, at the rate. */
	{
		double mbps = (double)bytes * 8 / 10e6;
		assert_true(mbps > 0.95 && mbps < 1.05);
		assert_true(overflow > 1000 && overflow < 1500);
		(void)first, (void)last;
	}
	{
		struct pl_impair_stats st;
		pl_impair_get_stats(im, &st);
		/* 20 kB of queue at 1 Mbit/s: at most ~160 ms waiting. */
		assert_true(st.delay_max_us <= 170000);
		assert_true(st.queued_max <= 21);
	}
	pl_impair_destroy(im);

	/* Under the rate nothing is dropped or held for long. */
	im = make("rate=1mbit");
	overflow = 0;
	for (t = 0; t < 1000000; t += 8000)
		overflow += pl_impair_push(im, t, pkt, sizeof(pkt), NULL) == PL_IMPAIR_OVERFLOW;
	assert_int_equal(overflow, 0);
	pl_impair_destroy(im);
}

static void test_limit_and_purge(void **state)
{
	struct pl_impair *im = make("delay=1s,limit=10");
	uint8_t pkt[20] = { 0 }, big[PL_IMPAIR_MAX_DGRAM + 1] = { 0 }, buf[PL_IMPAIR_MAX_DGRAM];
	int a, b;
	void *tag;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(pl_impair_push(im, i, pkt, sizeof(pkt), i % 2 ? &a : &b), PL_IMPAIR_QUEUED);
	assert_int_equal(pl_impair_push(im, 11, pkt, sizeof(pkt), &a), PL_IMPAIR_OVERFLOW);
	assert_int_equal(pl_impair_purge(im, &a), 5);
	assert_int_equal(pl_impair_push(im, 12, big, sizeof(big), &a), PL_IMPAIR_OVERFLOW);
	assert_int_equal(pl_impair_next_us(im), 1000000);
	assert_int_equal(pl_impair_pop(im, 999999, buf, sizeof(buf), &tag), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pl_impair_pop(im, 2000000, buf, sizeof(buf), &tag), sizeof(pkt));
		assert_ptr_equal(tag, &b);
	}
	assert_int_equal(pl_impair_next_us(im), INT64_MAX);
	pl_impair_destroy(im);
	pl_impair_destroy(NULL);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"loss", "loss=", "loss=abc", "loss=5%%", "loss=-1%", "loss=100%", "loss=5%,loss=6%",
		"lose=5%", "loss=5%,", ",loss=5%", "loss=5%,,delay=1ms", "burst=3", "loss=60%,burst=1",
		"delay=50parsecs", "delay=1e9s", "rate=1zbit", "rate=100bit", "queue=10kb",
		"rate=1mbit,queue=10", "limit=0", "limit=1.5", "seed=x", "seed=-1", "reorder=maybe",
		"spare=rtp", "jitter=nan", "delay=inf",
	};
	struct pl_impair_config cfg;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (pl_impair_parse(bad[i], &cfg, err, sizeof(err)) != PL_EINVAL)
			fail_msg("'%s' should not parse", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(pl_impair_parse("loss=5%,burst=3,delay=50ms,jitter=20ms,rate=1mbit,seed=77",
					 &cfg, err, sizeof(err)), 0);
	assert_true(fabs(cfg.loss - 0.05) < 1e-12);
	assert_true(cfg.burst == 3);
	assert_int_equal(cfg.delay_us, 50000);
	assert_int_equal(cfg.jitter_us, 20000);
	assert_int_equal(cfg.rate_bps, 1000000);
	assert_true(cfg.has_seed && cfg.seed == 77);
	assert_true(pl_impair_is_active(&cfg));
	assert_int_equal(pl_impair_parse("delay=1.5s,jitter=300us,rate=64kbit,queue=3KiB,bucket=2kb,"
					 "limit=50,reorder=on,spare=dtls,loss=0.5", &cfg, NULL, 0), 0);
	assert_int_equal(cfg.delay_us, 1500000);
	assert_int_equal(cfg.jitter_us, 300);
	assert_int_equal(cfg.rate_bps, 64000);
	assert_int_equal(cfg.queue_bytes, 3072);
	assert_int_equal(cfg.bucket_bytes, 2000);
	assert_int_equal(cfg.limit, 50);
	assert_true(cfg.reorder && cfg.spare_dtls);
	assert_true(fabs(cfg.loss - 0.005) < 1e-12);
	assert_int_equal(pl_impair_parse("", &cfg, NULL, 0), 0);
	assert_false(pl_impair_is_active(&cfg));
	assert_int_equal(pl_impair_parse(NULL, &cfg, NULL, 0), 0);
	assert_int_equal(pl_impair_parse("delay=20", &cfg, NULL, 0), 0);
	assert_int_equal(cfg.delay_us, 20000);
}

/* The client takes the spec from its config: a bad one fails creation,
 * a good one gives a client whose (idle) stages report zero counters. */
static void test_client_config(void **state)
{
	struct pl_client_config cfg = { .url = "ws://127.0.0.1:9/ws", .impair = "loss=5%,delay=oops" };
	struct pl_client_stats st;
	struct pl_client *c = NULL;

	(void)state;
	assert_int_equal(pl_client_create(&cfg, &c), PL_EINVAL);
	assert_null(c);
	cfg.impair = "loss=5%,burst=3,delay=50ms,jitter=20ms,rate=1mbit,seed=4";
	assert_int_equal(pl_client_create(&cfg, &c), 0);
	pl_client_get_stats(c, &st, NULL, 0, NULL);
	assert_int_equal(st.impair_out.packets, 0);
	assert_int_equal(st.impair_in.lost, 0);
	pl_client_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_drops),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_gilbert_elliott_bursts),
		cmocka_unit_test(test_delay_jitter_order),
		cmocka_unit_test(test_token_bucket),
		cmocka_unit_test(test_limit_and_purge),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_client_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
