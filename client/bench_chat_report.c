/* client/bench_chat_report.c: what the user sees of `parley-bench chat`:
 * the command line going in (options, defaults, --help) and the report
 * coming out (a human summary and one JSON object).
 *
 * The benchmark itself is bench_chat.c; this file sees none of its
 * connections or loop, only the options it fills and the read-only
 * figures (struct pl_bench_chat_result) handed over after the run, so the
 * report's format can change without touching the timing-critical code.
 * Main thread only, before the run and after it.
 */
#include "client/bench_chat.h"
#include "common/err.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: parley-bench chat --server ws://HOST:PORT/ws [options]\n\n"
		"M senders and L listeners join one room; senders send chat messages,\n"
		"everyone receives them.  Prints a summary and JSON: acked and delivered\n"
		"msgs/s, ack latency (send -> durable ack) and fan-out latency (send ->\n"
		"chat event at a listener), both from the scheduled send time.\n\n"
		"Options:\n"
		"  --server URL        parleyd's WebSocket URL (required)\n"
		"  --room R            room name (default bench)\n"
		"  --senders M         sending connections (default 4)\n"
		"  --listeners L       listening connections (default 10)\n"
		"  --duration S        measured seconds (default 10)\n"
		"  --rate N            open loop: N msgs/s in total, spread evenly over the\n"
		"                      senders (latency under a fixed offered load)\n"
		"  --window N          closed loop (without --rate): messages in flight per\n"
		"                      sender (default 16, at most %d)\n"
		"  --size BYTES        chat text length (default 100, at most %d; a marker of\n"
		"                      ~20-40 bytes is the minimum)\n"
		"  --warmup S          seconds sent first and left out of the figures (default 1)\n"
		"  --drain S           at most this long to wait for outstanding acks and\n"
		"                      events after the run (default 10)\n"
		"  --json FILE         write the JSON there instead of as stdout's last line\n"
		"  --insecure          wss://: accept a self-signed certificate\n"
		"  -h, --help          this text\n\n"
		"Exit status: 0 if messages were acked and every connection stayed up,\n"
		"1 if the run failed, 2 for bad usage.  parleyd's rate limits apply to the\n"
		"benchmark too: run it with --set limits.chat_per_s=0 --set limits.messages_per_s=0.\n",
		PL_BENCH_CHAT_RING_SLOTS / 2, PL_BENCH_CHAT_TEXT_MAX_BYTES);
}

enum { OPT_SERVER = 256, OPT_ROOM, OPT_SENDERS, OPT_LISTENERS, OPT_DURATION, OPT_RATE, OPT_WINDOW,
       OPT_SIZE, OPT_WARMUP, OPT_DRAIN, OPT_JSON, OPT_INSECURE };

static const struct option long_opts[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "room", required_argument, NULL, OPT_ROOM },
	{ "senders", required_argument, NULL, OPT_SENDERS },
	{ "listeners", required_argument, NULL, OPT_LISTENERS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "drain", required_argument, NULL, OPT_DRAIN },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool room_is_valid(const char *r)
{
	size_t n = strlen(r);

	if (n < 1 || n > 64)
		return false;
	return strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* One option's value into o; returns 0 or PL_EINVAL. */
static int set_option(struct pl_bench_chat_opts *o, int opt, const char *v)
{
	switch (opt) {
	case OPT_SERVER:
		o->server = v;
		return pl_bench_url_parse(v, &o->url);
	case OPT_ROOM:
		o->room = v;
		return room_is_valid(v) ? 0 : PL_EINVAL;
	case OPT_SENDERS:
		return pl_bench_parse_long(v, 1, 10000, &o->senders);
	case OPT_LISTENERS:
		return pl_bench_parse_long(v, 0, 10000, &o->listeners);
	case OPT_DURATION:
		return pl_bench_parse_double(v, 0.1, 86400, &o->duration_s);
	case OPT_RATE:
		return pl_bench_parse_double(v, 0.001, 1e7, &o->rate);
	case OPT_WINDOW:
		return pl_bench_parse_long(v, 1, PL_BENCH_CHAT_RING_SLOTS / 2, &o->window);
	case OPT_SIZE:
		return pl_bench_parse_long(v, 1, PL_BENCH_CHAT_TEXT_MAX_BYTES, &o->size_bytes);
	case OPT_WARMUP:
		return pl_bench_parse_double(v, 0, 3600, &o->warmup_s);
	case OPT_DRAIN:
		return pl_bench_parse_double(v, 0, 3600, &o->drain_s);
	case OPT_JSON:
		o->json_path = v;
		return 0;
	case OPT_INSECURE:
		o->insecure = true;
		return 0;
	default:
		return PL_EINVAL;
	}
}

int pl_bench_chat_opts_parse(int argc, char **argv, struct pl_bench_chat_opts *o)
{
	int opt, idx;

	*o = (struct pl_bench_chat_opts){ .room = "bench", .senders = 4, .listeners = 10, .window = 16,
				 .size_bytes = 100, .duration_s = 10, .warmup_s = 1, .drain_s = 10 };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (opt == '?' || set_option(o, opt, optarg) < 0) {
			if (opt != '?')
				fprintf(stderr, "parley-bench chat: bad value for --%s: '%s'\n", long_opts[idx].name, optarg);
			return PL_EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "parley-bench chat: unexpected argument '%s'\n", argv[optind]);
		return PL_EINVAL;
	}
	if (!o->server) {
		fprintf(stderr, "parley-bench chat: --server is required\n");
		return PL_EINVAL;
	}
	return 0;
}

/* ---- setup ---------------------------------------------------------------- */

/* ---- report --------------------------------------------------------------- */

struct totals {
	double duration_s, acked_per_s, delivered_per_s, cpu_pct;
	uint64_t expected, unacked, undelivered, errors;
};

static void compute_totals(const struct pl_bench_chat_result *r, struct totals *t)
{
	t->duration_s = r->t_meas_us && r->t_end_us > r->t_meas_us ? (double)(r->t_end_us - r->t_meas_us) / 1e6 : 0;
	t->acked_per_s = t->duration_s > 0 ? (double)r->st->acked / t->duration_s : 0;
	t->delivered_per_s = t->duration_s > 0 ? (double)r->st->delivered / t->duration_s : 0;
	t->cpu_pct = t->duration_s > 0 && r->cpu_end_s > 0 ? 100.0 * (r->cpu_end_s - r->cpu_meas_s) / t->duration_s : 0;
	t->expected = r->st->acked * (uint64_t)r->o->listeners;
	t->unacked = r->unacked;
	t->undelivered = t->expected > r->st->delivered ? t->expected - r->st->delivered : 0;
	t->errors = r->st->rate_limited + r->st->error_replies + t->unacked + r->lost;
}

static json_t *report_json(const struct pl_bench_chat_result *r, const struct totals *t)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:f, s:f, s:f}", "bench", "chat",
			      "version", PL_VERSION, "server", r->o->server, "room", r->o->room,
			      "senders", (json_int_t)r->o->senders, "listeners", (json_int_t)r->o->listeners,
			      "mode", pl_bench_chat_is_open_loop(r->o) ? "open" : "closed", "size_bytes", (json_int_t)r->o->size_bytes,
			      "warmup_s", r->o->warmup_s, "duration_s", pl_bench_round3(t->duration_s),
			      "drain_s", r->o->drain_s);

	json_object_set_new(j, "rate", pl_bench_chat_is_open_loop(r->o) ? json_real(r->o->rate) : json_null());
	json_object_set_new(j, "window", pl_bench_chat_is_open_loop(r->o) ? json_null() : json_integer(r->o->window));
	json_object_set_new(j, "sent", json_integer((json_int_t)r->st->sent));
	json_object_set_new(j, "acked", json_integer((json_int_t)r->st->acked));
	json_object_set_new(j, "acked_per_s", json_real(pl_bench_round3(t->acked_per_s)));
	json_object_set_new(j, "delivered", json_integer((json_int_t)r->st->delivered));
	json_object_set_new(j, "delivered_per_s", json_real(pl_bench_round3(t->delivered_per_s)));
	json_object_set_new(j, "expected_deliveries", json_integer((json_int_t)t->expected));
	json_object_set_new(j, "echoes", json_integer((json_int_t)r->st->echoes));
	json_object_set_new(j, "ack_latency_ms", pl_bench_hist_json(r->ack_hist));
	json_object_set_new(j, "fanout_latency_ms", pl_bench_hist_json(r->fan_hist));
	json_object_set_new(j, "errors", json_integer((json_int_t)t->errors));
	json_object_set_new(j, "rate_limited", json_integer((json_int_t)r->st->rate_limited));
	json_object_set_new(j, "error_replies", json_integer((json_int_t)r->st->error_replies));
	json_object_set_new(j, "unacked", json_integer((json_int_t)t->unacked));
	json_object_set_new(j, "undelivered", json_integer((json_int_t)t->undelivered));
	json_object_set_new(j, "connections_lost", json_integer((json_int_t)r->lost));
	json_object_set_new(j, "send_stalls", json_integer((json_int_t)r->st->stalls));
	json_object_set_new(j, "foreign_chat", json_integer((json_int_t)r->st->foreign));
	json_object_set_new(j, "unparsed", json_integer((json_int_t)r->st->unparsed));
	json_object_set_new(j, "client_cpu_pct", json_real(pl_bench_round3(t->cpu_pct)));
	json_object_set_new(j, "ok", json_boolean(!r->failure[0] && r->st->acked > 0));
	json_object_set_new(j, "failure", r->failure[0] ? json_string(r->failure) : json_null());
	return j;
}

static void print_summary(const struct pl_bench_chat_result *r, const struct totals *t)
{
	char load[64];

	if (pl_bench_chat_is_open_loop(r->o))
		snprintf(load, sizeof(load), "open loop at %.0f msgs/s", r->o->rate);
	else
		snprintf(load, sizeof(load), "closed loop, window %ld", r->o->window);
	printf("parley-bench chat: %s room=%s, %ld senders, %ld listeners, %s, %ld-byte texts\n", r->o->server,
	       r->o->room, r->o->senders, r->o->listeners, load, r->o->size_bytes);
	printf("  %-16s %.2f s (after %.1f s warm-up)\n", "measured", t->duration_s, r->o->warmup_s);
	printf("  %-16s %llu msgs\n", "sent", (unsigned long long)r->st->sent);
	printf("  %-16s %llu msgs  %.1f msgs/s\n", "acked", (unsigned long long)r->st->acked, t->acked_per_s);
	printf("  %-16s %llu msgs  %.1f msgs/s  (of %llu expected)\n", "delivered",
	       (unsigned long long)r->st->delivered, t->delivered_per_s, (unsigned long long)t->expected);
	pl_bench_hist_print(stdout, "ack latency", r->ack_hist);
	pl_bench_hist_print(stdout, "fan-out latency", r->fan_hist);
	printf("  %-16s %llu  (rate_limited %llu, error replies %llu, unacked %llu, undelivered %llu, "
	       "connections lost %zu)\n", "errors", (unsigned long long)t->errors,
	       (unsigned long long)r->st->rate_limited, (unsigned long long)r->st->error_replies,
	       (unsigned long long)t->unacked, (unsigned long long)t->undelivered, r->lost);
	printf("  %-16s %.0f %% of one core\n", "client cpu", t->cpu_pct);
	if (r->failure[0])
		printf("  FAILED: %s\n", r->failure);
}

int pl_bench_chat_report(const struct pl_bench_chat_result *r)
{
	struct totals t;
	json_t *j;
	int rc = 0;

	compute_totals(r, &t);
	j = report_json(r, &t);
	print_summary(r, &t);
	if (r->o->json_path) {
		if (json_dump_file(j, r->o->json_path, PL_BENCH_JSON_FLAGS) < 0) {
			fprintf(stderr, "parley-bench chat: cannot write %s\n", r->o->json_path);
			rc = PL_EIO;
		}
	} else {
		char *s = json_dumps(j, PL_BENCH_JSON_FLAGS);
		if (s)
			printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
	json_decref(j);
	return rc;
}
