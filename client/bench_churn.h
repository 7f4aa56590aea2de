/* client/bench_churn.h: what the two files of `parley-bench churn` share.
 *
 * bench_churn.c runs the churn (clients, the killed child process, the
 * report); bench_churn_opts.c parses its command line.  Only the options
 * cross over: the run's state stays private to bench_churn.c.  Not
 * installed.  Main thread only.
 */
#ifndef PL_CLIENT_BENCH_CHURN_H
#define PL_CLIENT_BENCH_CHURN_H

#include "client/bench.h"

#include <stdbool.h>

struct pl_bench_churn_opts {
	const char *server, *json_path, *room_prefix;
	struct pl_bench_url url;
	long clients, rooms, loops, kill_clients, video_kbps, width, height, fps;
	double duration_s, dwell_min_s, dwell_max_s, pause_max_s, kill_min_s, kill_max_s;
	unsigned long long seed;
	bool child, quiet;
};

/* Fills o from the command line (defaults first; without --seed the seed
 * is the wall clock in milliseconds).  Returns -1 to go on, else the exit
 * status: 0 after --help, 2 for bad usage (said on stderr). */
int pl_bench_churn_opts_parse(int argc, char **argv, struct pl_bench_churn_opts *o);

#endif
