/* client/bench_churn_opts.c: the command line of `parley-bench churn`:
 * defaults, --help and the checks on each value, into the options the run
 * (bench_churn.c) reads.  The parent re-executes itself with --child for
 * the clients it kills, so --child is parsed here too.  Main thread only,
 * before anything starts.
 */
#include "client/bench_churn.h"
#include "common/clock.h"
#include "common/err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLIENTS 1000                /* --clients, --kill-clients */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: parley-bench churn --server ws://HOST:PORT/ws [options]\n\n"
		"C clients keep joining a random one of R rooms, publishing a small pre-encoded\n"
		"clip, chatting and leaving abruptly (leave message, socket close without leave,\n"
		"SIGKILL of a child process running --kill-clients of them).  Prints cycles,\n"
		"joins and errors; exit status 0 when there was no error.\n\n"
		"  --server URL         parleyd WebSocket URL (required)\n"
		"  --clients C          clients in all [50]      --rooms R        rooms [5]\n"
		"  --duration S         seconds of churn [60]    --seed N         schedule seed [time]\n"
		"  --dwell MIN,MAX      seconds in a room per cycle [2,8]\n"
		"  --pause S            longest pause between cycles [1]\n"
		"  --kill-clients K     of the C clients, how many live in the killed child [5]\n"
		"  --kill-after MIN,MAX child lifetime before its SIGKILL [3,8]\n"
		"  --video-kbps K       [200]   --size WxH [320x180]   --fps F [15]\n"
		"  --loops T            client event-loop threads [2]\n"
		"  --json FILE          also write the JSON report to FILE\n"
		"  --room-prefix P      room names P-<run>-<i> [churn]\n"
		"  --quiet              no progress lines\n");
}

enum { O_SERVER = 256, O_CLIENTS, O_ROOMS, O_DURATION, O_SEED, O_DWELL, O_PAUSE, O_KILLN, O_KILLAFTER,
       O_VKBPS, O_SIZE, O_FPS, O_LOOPS, O_JSON, O_PREFIX, O_QUIET, O_CHILD };

#define ARG(name, id) { name, required_argument, NULL, id }
static const struct option long_opts[] = {
	ARG("server", O_SERVER), ARG("clients", O_CLIENTS), ARG("rooms", O_ROOMS),
	ARG("duration", O_DURATION), ARG("seed", O_SEED), ARG("dwell", O_DWELL), ARG("pause", O_PAUSE),
	ARG("kill-clients", O_KILLN), ARG("kill-after", O_KILLAFTER), ARG("video-kbps", O_VKBPS),
	ARG("size", O_SIZE), ARG("fps", O_FPS), ARG("loops", O_LOOPS), ARG("json", O_JSON),
	ARG("room-prefix", O_PREFIX), { "quiet", no_argument, NULL, O_QUIET },
	{ "child", no_argument, NULL, O_CHILD }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
};
#undef ARG

/* "MIN,MAX" seconds, 0 <= MIN <= MAX <= hi. */
static int parse_range(const char *v, double hi, double *lo_out, double *hi_out)
{
	char buf[64], *comma;

	if (strlen(v) >= sizeof(buf) || !(comma = strchr(strcpy(buf, v), ',')))
		return PL_EINVAL;
	*comma = '\0';
	if (pl_bench_parse_double(buf, 0, hi, lo_out) < 0 || pl_bench_parse_double(comma + 1, 0, hi, hi_out) < 0)
		return PL_EINVAL;
	return *lo_out <= *hi_out ? 0 : PL_EINVAL;
}

static int parse_one(int c, const char *v, struct pl_bench_churn_opts *o)
{
	char *end;

	switch (c) {
	case O_SERVER: o->server = v; return pl_bench_url_parse(v, &o->url);
	case O_CLIENTS: return pl_bench_parse_long(v, 1, MAX_CLIENTS, &o->clients);
	case O_ROOMS: return pl_bench_parse_long(v, 1, 1000, &o->rooms);
	case O_DURATION: return pl_bench_parse_double(v, 1, 7 * 86400, &o->duration_s);
	case O_SEED:
		errno = 0;
		o->seed = strtoull(v, &end, 10);
		return errno || end == v || *end || *v == '-' ? PL_EINVAL : 0;
	case O_DWELL: return parse_range(v, 3600, &o->dwell_min_s, &o->dwell_max_s);
	case O_PAUSE: return pl_bench_parse_double(v, 0, 60, &o->pause_max_s);
	case O_KILLN: return pl_bench_parse_long(v, 0, MAX_CLIENTS, &o->kill_clients);
	case O_KILLAFTER: return parse_range(v, 3600, &o->kill_min_s, &o->kill_max_s);
	case O_VKBPS: return pl_bench_parse_long(v, 50, 5000, &o->video_kbps);
	case O_SIZE: return pl_bench_parse_size(v, 64, 1920, 64, 1080, &o->width, &o->height);
	case O_FPS: return pl_bench_parse_long(v, 1, 60, &o->fps);
	case O_LOOPS: return pl_bench_parse_long(v, 1, 64, &o->loops);
	case O_JSON: o->json_path = v; return 0;
	case O_PREFIX: o->room_prefix = v; return strlen(v) <= 64 ? 0 : PL_EINVAL;
	case O_QUIET: o->quiet = true; return 0;
	case O_CHILD: o->child = true; return 0;
	}
	return PL_EINVAL;
}

int pl_bench_churn_opts_parse(int argc, char **argv, struct pl_bench_churn_opts *o)
{
	int c, idx = 0;
	bool seeded = false;

	*o = (struct pl_bench_churn_opts){ .clients = 50, .rooms = 5, .loops = 2, .kill_clients = 5,
				  .video_kbps = 200, .width = 320, .height = 180, .fps = 15,
				  .duration_s = 60, .dwell_min_s = 2, .dwell_max_s = 8, .pause_max_s = 1,
				  .kill_min_s = 3, .kill_max_s = 8, .room_prefix = "churn" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		seeded |= c == O_SEED;
		if (c == '?' || parse_one(c, optarg, o) < 0) {
			if (c != '?')
				fprintf(stderr, "parley-bench churn: bad value for --%s: '%s'\n",
					long_opts[idx].name, optarg);
			fprintf(stderr, "Try 'parley-bench churn --help'.\n");
			return 2;
		}
	}
	if (optind < argc || !o->server || o->url.is_tls ||
	    (!o->child && o->kill_clients >= o->clients)) {
		fprintf(stderr, "parley-bench churn: %s\n", optind < argc ? "unexpected argument"
			: !o->server ? "--server is required" : o->url.is_tls ? "wss:// is not supported"
			: "--kill-clients must leave some clients in this process");
		return 2;
	}
	if (!seeded)
		o->seed = (unsigned long long)pl_clock_wall_ms();
	return -1;
}
