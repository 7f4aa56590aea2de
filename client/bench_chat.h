/* client/bench_chat.h: what the two files of `parley-bench chat` share.
 *
 * bench_chat.c runs the benchmark (connections, pacing, phases) on one lws
 * service loop; bench_chat_report.c is what the user sees of it: the
 * command line going in and the summary and JSON coming out.  The run's
 * own state (struct chat_bench) stays private to bench_chat.c; what
 * crosses over is the options and, at the end, a read-only view of the
 * figures.  Not installed.  Single-threaded, like the rest of the
 * benchmark.
 */
#ifndef PL_CLIENT_BENCH_CHAT_H
#define PL_CLIENT_BENCH_CHAT_H

#include "client/bench.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In-flight messages per sender (a power of two); --window may use half. */
#define PL_BENCH_CHAT_RING_SLOTS 16384
/* PROTOCOL.md: a chat text is 1-4000 characters; --size is capped there. */
#define PL_BENCH_CHAT_TEXT_MAX_BYTES 4000

struct pl_bench_chat_opts {
	const char *server, *room, *json_path;
	struct pl_bench_url url;
	long senders, listeners, window, size_bytes;
	double rate, duration_s, warmup_s, drain_s;
	bool insecure;
};

/* Open loop (--rate: a fixed offered load) rather than closed loop
 * (--window messages in flight per sender). */
static inline bool pl_bench_chat_is_open_loop(const struct pl_bench_chat_opts *o)
{
	return o->rate > 0;
}

struct pl_bench_chat_stats {
	uint64_t sent, acked, delivered, echoes;
	uint64_t rate_limited, error_replies;
	uint64_t stalls;     /* open loop: a due message waited for a free ring slot */
	uint64_t foreign;    /* chat events that are not ours (someone else in the room) */
	uint64_t unparsed;   /* server messages we could not read */
	uint64_t total_acked, total_delivered;  /* every phase, for the progress line */
	int64_t max_ack_us;                     /* since the last progress line */
};

/* The figures of a finished run, borrowed from the run's state for the
 * duration of pl_bench_chat_report(). */
struct pl_bench_chat_result {
	const struct pl_bench_chat_opts *o;
	const struct pl_bench_chat_stats *st;
	const struct pl_bench_hist *ack_hist, *fan_hist;
	int64_t t_meas_us, t_end_us;      /* the measurement window; 0 if never reached */
	double cpu_meas_s, cpu_end_s;     /* pl_bench_cpu_seconds() at its ends */
	uint64_t unacked;                 /* measured messages still without an ack */
	size_t lost;                      /* connections lost */
	const char *failure;              /* why the run failed, "" if it did not */
};

/* Fills o from the command line (defaults first).  Returns 0 to run, 1
 * when --help was printed, or PL_EINVAL after saying why on stderr. */
int pl_bench_chat_opts_parse(int argc, char **argv, struct pl_bench_chat_opts *o);

/* Prints the summary to stdout and the JSON to --json's file or as
 * stdout's last line.  Returns 0 or PL_EIO when the file cannot be
 * written. */
int pl_bench_chat_report(const struct pl_bench_chat_result *r);

#endif
