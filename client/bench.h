/* client/bench.h: internals shared by parley-bench's subcommands.
 *
 * Not installed and not part of libparley-client: the subcommands (`chat`
 * today, `load` and `quality` later) and the helpers they share -- a
 * bounded latency histogram, WebSocket URL parsing and option parsing.
 * Everything here is single-threaded: the benchmark runs one lws service
 * loop and nothing else touches these objects.
 */
#ifndef PL_CLIENT_BENCH_H
#define PL_CLIENT_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One subcommand: `parley-bench NAME args...`.  main() returns the exit
 * status (0 success, 1 the run failed, 2 bad usage). */
int pl_bench_chat_main(int argc, char **argv);
int pl_bench_load_main(int argc, char **argv);
int pl_bench_quality_main(int argc, char **argv);
int pl_bench_churn_main(int argc, char **argv);

/* ---- latency histogram -------------------------------------------------
 *
 * Log-linear buckets (HdrHistogram's layout): values below 1024 us are
 * exact, above that each power of two is split into 512 buckets, so any
 * recorded value is reported within 0.2 %.  Memory is fixed (~125 KiB)
 * whatever the number of samples; values above 2^40 us (~12 days) are
 * clamped.
 * The exact minimum, maximum and sum are kept alongside.
 */
#define PL_BENCH_HIST_SUB_BITS 9
#define PL_BENCH_HIST_MAX_EXP 40
#define PL_BENCH_HIST_BUCKETS ((PL_BENCH_HIST_MAX_EXP - PL_BENCH_HIST_SUB_BITS + 1) << PL_BENCH_HIST_SUB_BITS)

struct pl_bench_hist {
	uint64_t count;
	int64_t min_us, max_us;
	double sum_us;
	uint64_t buckets[PL_BENCH_HIST_BUCKETS];
};

/* Zeroes h (the caller owns the storage; it is large, so heap or static). */
void pl_bench_hist_init(struct pl_bench_hist *h);

/* Records one value in microseconds; negative values count as 0. */
void pl_bench_hist_record(struct pl_bench_hist *h, int64_t v_us);

/* The value at percentile p (0..100) in microseconds: the smallest
 * recorded value with at least p % of the samples at or below it, to the
 * histogram's precision and never above the exact maximum.  0 when empty. */
int64_t pl_bench_hist_percentile_us(const struct pl_bench_hist *h, double p);

/* The mean in microseconds, 0 when empty. */
double pl_bench_hist_mean_us(const struct pl_bench_hist *h);

/* {"count","min","p50","p90","p99","p999","max","mean"} in milliseconds
 * rounded to the microsecond, or JSON null when empty.  New reference. */
json_t *pl_bench_hist_json(const struct pl_bench_hist *h);

/* One summary line: "  NAME  p50 ..  p90 ..  p99 ..  max .. ms (mean .., N samples)". */
void pl_bench_hist_print(FILE *f, const char *name, const struct pl_bench_hist *h);

/* ---- WebSocket URL -------------------------------------------------------- */

struct pl_bench_url {
	bool is_tls;     /* wss:// */
	char host[256];
	int port;
	char path[512];  /* begins with '/' */
};

/* Parses ws://HOST[:PORT][/PATH] or wss://...; the default path is "/ws"
 * only when none is given, the default ports 80 and 443.  Returns 0 or
 * PL_EINVAL. */
int pl_bench_url_parse(const char *s, struct pl_bench_url *out);

/* ---- option values -------------------------------------------------------- */

/* Strict number parsers for option values: the whole string must be a
 * number within [lo, hi].  Return 0 or PL_EINVAL. */
int pl_bench_parse_long(const char *s, long lo, long hi, long *out);
int pl_bench_parse_double(const char *s, double lo, double hi, double *out);
/* A video size "WxH": even numbers, W within [w_lo, w_hi] and H within
 * [h_lo, h_hi].  *w and *h are set only on success. */
int pl_bench_parse_size(const char *s, long w_lo, long w_hi, long h_lo, long h_hi, long *w, long *h);

/* ---- reporting and process ----------------------------------------------- */

/* json_dumps() flags for every report: compact, and reals printed short
 * ("0.583", not "0.58299999999999996"). */
#define PL_BENCH_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

/* x rounded to three decimals (milliseconds to the microsecond). */
double pl_bench_round3(double x);

/* User + system CPU seconds this process has used so far. */
double pl_bench_cpu_seconds(void);

/* Raises the soft RLIMIT_NOFILE towards need (never above the hard
 * limit) so that many connections fit; failure is left to connect(). */
void pl_bench_raise_fd_limit(size_t need);

#endif
