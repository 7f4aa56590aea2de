/* client/bench.c: parley-bench's entry point and the helpers its
 * subcommands share.
 *
 * `parley-bench SUBCOMMAND [options]` dispatches to one subcommand's main
 * (bench_chat.c for `chat`; `load` and `quality` join the table later).
 * The helpers -- a fixed-size log-linear latency histogram, ws:// URL
 * parsing and strict option parsing -- live here so that every subcommand
 * measures and reports the same way.  Single-threaded.
 */
#include "client/bench.h"
#include "common/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- histogram ------------------------------------------------------------ */

#define SUB_COUNT (1 << PL_BENCH_HIST_SUB_BITS)
#define EXACT_LIMIT (2 * SUB_COUNT)
#define VALUE_MAX ((INT64_C(1) << PL_BENCH_HIST_MAX_EXP) - 1)

void pl_bench_hist_init(struct pl_bench_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static size_t bucket_of(int64_t v)
{
	int shift;

	if (v < EXACT_LIMIT)
		return (size_t)v;
	/* v >= 1024: shift so that the top PL_BENCH_HIST_SUB_BITS + 1 bits remain. */
	shift = 63 - __builtin_clzll((unsigned long long)v) - PL_BENCH_HIST_SUB_BITS;
	return (size_t)(shift + 1) * SUB_COUNT + (size_t)((v >> shift) - SUB_COUNT);
}

/* The largest value that falls into bucket idx. */
static int64_t bucket_top(size_t idx)
{
	int shift;
	int64_t m;

	if (idx < EXACT_LIMIT)
		return (int64_t)idx;
	shift = (int)(idx / SUB_COUNT) - 1;
	m = (int64_t)(idx % SUB_COUNT) + SUB_COUNT;
	return ((m + 1) << shift) - 1;
}

void pl_bench_hist_record(struct pl_bench_hist *h, int64_t v_us)
{
	if (v_us < 0)
		v_us = 0;
	if (v_us > VALUE_MAX)
		v_us = VALUE_MAX;
	if (h->count == 0 || v_us < h->min_us)
		h->min_us = v_us;
	if (h->count == 0 || v_us > h->max_us)
		h->max_us = v_us;
	h->count++;
	h->sum_us += (double)v_us;
	h->buckets[bucket_of(v_us)]++;
}

int64_t pl_bench_hist_percentile_us(const struct pl_bench_hist *h, double p)
{
	uint64_t target, seen = 0;

	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min_us;
	if (p >= 100)
		return h->max_us;
	target = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (target == 0)
		target = 1;
	for (size_t i = 0; i < PL_BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= target) {
			int64_t v = bucket_top(i);
			return v > h->max_us ? h->max_us : v < h->min_us ? h->min_us : v;
		}
	}
	return h->max_us;
}

double pl_bench_hist_mean_us(const struct pl_bench_hist *h)
{
	return h->count ? h->sum_us / (double)h->count : 0;
}

double pl_bench_round3(double x)
{
	return round(x * 1000.0) / 1000.0;
}

static double us_to_ms(int64_t us)
{
	return pl_bench_round3((double)us / 1000.0);
}

json_t *pl_bench_hist_json(const struct pl_bench_hist *h)
{
	if (h->count == 0)
		return json_null();
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
			 "min", us_to_ms(h->min_us), "p50", us_to_ms(pl_bench_hist_percentile_us(h, 50)),
			 "p90", us_to_ms(pl_bench_hist_percentile_us(h, 90)),
			 "p99", us_to_ms(pl_bench_hist_percentile_us(h, 99)),
			 "p999", us_to_ms(pl_bench_hist_percentile_us(h, 99.9)), "max", us_to_ms(h->max_us),
			 "mean", pl_bench_round3(pl_bench_hist_mean_us(h) / 1000.0));
}

void pl_bench_hist_print(FILE *f, const char *name, const struct pl_bench_hist *h)
{
	if (h->count == 0) {
		fprintf(f, "  %-16s none\n", name);
		return;
	}
	fprintf(f, "  %-16s p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms  (mean %.2f, %llu samples)\n", name,
		(double)pl_bench_hist_percentile_us(h, 50) / 1000.0, (double)pl_bench_hist_percentile_us(h, 90) / 1000.0,
		(double)pl_bench_hist_percentile_us(h, 99) / 1000.0, (double)h->max_us / 1000.0,
		pl_bench_hist_mean_us(h) / 1000.0, (unsigned long long)h->count);
}

/* ---- process -------------------------------------------------------------- */

double pl_bench_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

void pl_bench_raise_fd_limit(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- URL ------------------------------------------------------------------ */

static int parse_host_port(const char *s, size_t len, struct pl_bench_url *out)
{
	const char *colon = NULL;
	long port;

	/* An IPv6 literal is bracketed: [::1]:8080. */
	if (len > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb || (size_t)(rb - s - 1) >= sizeof(out->host) || rb == s + 1)
			return PL_EINVAL;
		memcpy(out->host, s + 1, (size_t)(rb - s - 1));
		out->host[rb - s - 1] = '\0';
		if (rb + 1 < s + len && rb[1] != ':')
			return PL_EINVAL;
		colon = rb + 1 < s + len ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', len);
		size_t hlen = colon ? (size_t)(colon - s) : len;
		if (hlen == 0 || hlen >= sizeof(out->host))
			return PL_EINVAL;
		memcpy(out->host, s, hlen);
		out->host[hlen] = '\0';
	}
	if (colon) {
		char buf[8];
		size_t plen = (size_t)(s + len - colon - 1);
		if (plen == 0 || plen >= sizeof(buf))
			return PL_EINVAL;
		memcpy(buf, colon + 1, plen);
		buf[plen] = '\0';
		if (pl_bench_parse_long(buf, 1, 65535, &port) < 0)
			return PL_EINVAL;
		out->port = (int)port;
	}
	return 0;
}

int pl_bench_url_parse(const char *s, struct pl_bench_url *out)
{
	const char *hp, *slash;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "ws://", 5) == 0) {
		hp = s + 5, out->port = 80;
	} else if (strncmp(s, "wss://", 6) == 0) {
		hp = s + 6, out->port = 443, out->is_tls = true;
	} else {
		return PL_EINVAL;
	}
	slash = strchr(hp, '/');
	if (parse_host_port(hp, slash ? (size_t)(slash - hp) : strlen(hp), out) < 0)
		return PL_EINVAL;
	if (!slash)
		slash = "/ws";
	if (strlen(slash) >= sizeof(out->path))
		return PL_EINVAL;
	strcpy(out->path, slash);
	return 0;
}

/* ---- option values -------------------------------------------------------- */

int pl_bench_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return PL_EINVAL;
	*out = v;
	return 0;
}

int pl_bench_parse_size(const char *s, long w_lo, long w_hi, long h_lo, long h_hi, long *w, long *h)
{
	char *x, *end;
	long vw, vh;

	errno = 0;
	vw = strtol(s, &x, 10);
	if (errno || x == s || *x != 'x' || vw < w_lo || vw > w_hi || vw % 2)
		return PL_EINVAL;
	vh = strtol(x + 1, &end, 10);
	if (errno || end == x + 1 || *end || vh < h_lo || vh > h_hi || vh % 2)
		return PL_EINVAL;
	*w = vw;
	*h = vh;
	return 0;
}

int pl_bench_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return PL_EINVAL;
	*out = v;
	return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "chat", pl_bench_chat_main, "chat load: M senders and L listeners in one room; throughput and latency" },
	{ "load", pl_bench_load_main, "media load: R rooms of N participants in full mesh; forwarding cost and loss" },
	{ "quality", pl_bench_quality_main, "call quality: PSNR/SSIM, delay, freezes, E-model MOS; optional impairment" },
	{ "churn", pl_bench_churn_main, "churn soak: C clients keep joining, publishing, chatting and leaving abruptly" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: parley-bench SUBCOMMAND [options]\n"
		   "       parley-bench SUBCOMMAND --help\n\n"
		   "Benchmarks a running parleyd.  Subcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("parley-bench %s\n", PL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "parley-bench: unknown subcommand '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
