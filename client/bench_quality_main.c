/* client/bench_quality_main.c: `parley-bench quality` options, set-up and
 * tear-down around the call of bench_quality.c.
 *
 * Order of a run: parse and check the options (a bad --impair spec is a
 * usage error); with --impair-kernel make the namespaces and start parleyd
 * in them (bench_netns.c) before any thread exists, so every later thread
 * starts in namespace A; make one loop, one client and one sender thread
 * per participant (the impaired one's loop thread moves into namespace B
 * before it opens a socket); settle, measure, stop the senders, destroy
 * the loops (and their clients), analyse, report, tear the network down.
 * Main thread only.
 */
#include "client/bench.h"
#include "client/bench_quality.h"
#include "client/impair.h"
#include "codecs/opus.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig;
	q_stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: parley-bench quality --server ws://HOST:PORT/ws [options]\n\n"
		"N participants in one call send live-encoded speech-like audio (Opus) and the\n"
		"numbered test pattern (VP8); every receiver decodes and measures, per stream:\n"
		"video PSNR/SSIM against the regenerated source frame, frame rate, freezes,\n"
		"end-to-end delay, time to first frame; audio delay (cross-correlation), level\n"
		"and an E-model MOS; RTP loss, jitter and RTT.\n\n"
		"  --server URL          parleyd WebSocket URL (required unless --impair-kernel)\n"
		"  --duration S          measured seconds [10]\n"
		"  --clients N           participants, 2..%d [2]\n"
		"  --json FILE           write the JSON report to FILE (also printed last on stdout)\n"
		"  --html FILE           write a self-contained HTML report with SVG plots\n"
		"  --impair SPEC         impair the last participant both ways in its transport:\n"
		"                        loss=5%%,burst=3,delay=50ms,jitter=20ms,rate=1mbit,seed=N\n"
		"  --impair-kernel SPEC  loss=P%% (integer): run parleyd and the clients in network\n"
		"                        namespaces, nftables dropping P %% of the last\n"
		"                        participant's UDP both ways (root; --server is not used,\n"
		"                        --parleyd or $PARLEYD names the server binary)\n"
		"  --parleyd PATH        parleyd to start for --impair-kernel\n"
		"  --srtp gcm|cm|any     SRTP profiles the clients offer [any]\n"
		"  --size WxH            [640x360]   --fps F  [30]\n"
		"  --video-kbps K        VP8 bitrate [1000]   --audio-kbps K  Opus bitrate [32]\n"
		"  --settle-max S        longest wait for media before measuring [20]\n"
		"  --quiet               no progress lines\n",
		Q_MAX_CLIENTS);
}

enum { O_SERVER = 256, O_DURATION, O_CLIENTS, O_JSON, O_HTML, O_IMPAIR, O_KERNEL, O_PARLEYD,
       O_SRTP, O_SIZE, O_FPS, O_VKBPS, O_AKBPS, O_SETTLE, O_QUIET };

#define ARG(name, id) { name, required_argument, NULL, id }
static const struct option long_opts[] = {
	ARG("server", O_SERVER), ARG("duration", O_DURATION), ARG("clients", O_CLIENTS),
	ARG("json", O_JSON), ARG("html", O_HTML), ARG("impair", O_IMPAIR),
	ARG("impair-kernel", O_KERNEL), ARG("parleyd", O_PARLEYD), ARG("srtp", O_SRTP),
	ARG("size", O_SIZE), ARG("fps", O_FPS), ARG("video-kbps", O_VKBPS), ARG("audio-kbps", O_AKBPS),
	ARG("settle-max", O_SETTLE), { "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
};
#undef ARG

static int parse_one(int c, const char *v, struct q_opts *o)
{
	struct pl_bench_url url;
	struct pl_impair_config ic;
	char err[160];

	switch (c) {
	case O_SERVER: o->server = v; return pl_bench_url_parse(v, &url);
	case O_DURATION: return pl_bench_parse_double(v, 2, Q_MAX_SECONDS - 2, &o->duration_s);
	case O_CLIENTS: return pl_bench_parse_long(v, 2, Q_MAX_CLIENTS, &o->clients);
	case O_JSON: o->json_path = v; return 0;
	case O_HTML: o->html_path = v; return 0;
	case O_PARLEYD: o->parleyd = v; return 0;
	case O_IMPAIR:
		o->impair = v;
		if (pl_impair_parse(v, &ic, err, sizeof(err)) < 0) {
			fprintf(stderr, "parley-bench quality: --impair: %s\n", err);
			return PL_EINVAL;
		}
		return 0;
	case O_KERNEL:
		o->impair_kernel = v;
		if (pl_impair_parse(v, &ic, err, sizeof(err)) < 0 || ic.burst > 0 || ic.delay_us ||
		    ic.jitter_us || ic.rate_bps || ic.loss <= 0 ||
		    fabs(ic.loss * 100 - round(ic.loss * 100)) > 1e-9) {
			fprintf(stderr, "parley-bench quality: --impair-kernel takes loss=P%% only "
				"(an integer percentage, 1..99)%s%s\n", err[0] ? ": " : "", err);
			return PL_EINVAL;
		}
		return 0;
	case O_SRTP:
		o->srtp_name = v;
		if (!strcmp(v, "any"))
			o->srtp = PL_CLIENT_SRTP_ANY;
		else if (!strcmp(v, "gcm"))
			o->srtp = PL_CLIENT_SRTP_GCM;
		else if (!strcmp(v, "cm"))
			o->srtp = PL_CLIENT_SRTP_CM;
		else
			return PL_EINVAL;
		return 0;
	case O_SIZE: return pl_bench_parse_size(v, 320, 1920, 180, 1080, &o->width, &o->height);
	case O_FPS: return pl_bench_parse_long(v, 5, 60, &o->fps);
	case O_VKBPS: return pl_bench_parse_long(v, 100, 20000, &o->video_kbps);
	case O_AKBPS: return pl_bench_parse_long(v, 6, 510, &o->audio_kbps);
	case O_SETTLE: return pl_bench_parse_double(v, 1, 600, &o->settle_max_s);
	case O_QUIET: o->quiet = true; return 0;
	}
	return PL_EINVAL;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct q_opts *o)
{
	int c, idx = 0;

	*o = (struct q_opts){ .clients = 2, .width = 640, .height = 360, .fps = 30, .video_kbps = 1000,
			      .audio_kbps = 32, .duration_s = 10, .settle_max_s = 20, .srtp_name = "any" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || parse_one(c, optarg, o) < 0) {
			if (c != '?' && c != O_IMPAIR && c != O_KERNEL)
				fprintf(stderr, "parley-bench quality: bad value for --%s: '%s'\n",
					long_opts[idx].name, optarg);
			fprintf(stderr, "Try 'parley-bench quality --help'.\n");
			return 2;
		}
	}
	if (!o->parleyd)
		o->parleyd = getenv("PARLEYD");
	if (optind < argc || (!o->server && !o->impair_kernel) || (o->impair_kernel && !o->parleyd)) {
		fprintf(stderr, "parley-bench quality: %s\n", optind < argc ? "unexpected argument"
			: o->impair_kernel ? "--impair-kernel needs --parleyd PATH (or $PARLEYD)"
			: "--server is required");
		return 2;
	}
	return -1;
}

/* ---- set-up ---------------------------------------------------------------------- */

static int pair_init(struct q_bench *b, struct q_pair *p, int rx, int tx)
{
	size_t frames = (size_t)((b->o.duration_s + 2) * (double)b->o.fps) + 64;
	size_t slots = (size_t)((b->o.settle_max_s + b->o.duration_s + 10) * 50);
	int rc;

	p->rx = rx, p->tx = tx;
	pthread_mutex_init(&p->mu, NULL);
	if (rx == tx)
		return 0;
	p->waiting_key = true;
	p->psnr_min = INFINITY;
	p->cap_delays = frames;
	p->delays_ms = calloc(frames, sizeof(float));
	p->psnrs = calloc(frames, sizeof(float));
	p->cap_slots = slots;
	p->rec = calloc(slots * 960, sizeof(int16_t));
	p->slot_us = calloc(slots, sizeof(int64_t));
	if (!p->delays_ms || !p->psnrs || !p->rec || !p->slot_us)
		return PL_ENOMEM;
	if ((rc = pl_vpx_dec_create(1, &p->dec)) < 0 || (rc = pl_opus_dec_create(1, &p->adec)) < 0)
		return rc;
	return pl_i420_init(&p->ref, (int)b->o.width, (int)b->o.height);
}

static void pair_release(struct q_pair *p)
{
	pl_vpx_dec_destroy(p->dec);
	pl_opus_dec_destroy(p->adec);
	pl_i420_release(&p->ref);
	free(p->delays_ms);
	free(p->psnrs);
	free(p->rec);
	free(p->slot_us);
	pthread_mutex_destroy(&p->mu);
}

static struct q_netns netns = { .fd_a = -1, .fd_b = -1, .fd_host = -1 };

static void enter_b(void *ud)
{
	int *rc = ud;

	*rc = q_netns_enter_b(&netns);
}

static int start_client(struct q_bench *b, struct q_client *qc, const char *url)
{
	struct pl_client_loop_config lc = { .ice_address = netns.made ? netns.addr_a : NULL };
	struct pl_client_config cc = {
		.url = url, .cb = &q_callbacks, .ud = qc, .srtp = b->o.srtp,
		.impair = qc->impaired ? b->o.impair : NULL,
	};
	int rc;

	if (qc->in_netns)
		lc.ice_address = netns.addr_b;
	if ((rc = pl_client_loop_create(&lc, &qc->loop)) < 0)
		return rc;
	if (qc->in_netns) {
		/* Before the loop opens any socket: its thread moves into B. */
		pl_client_loop_call(qc->loop, enter_b, &rc);
		if (rc < 0)
			return rc;
	}
	cc.loop = qc->loop;
	if ((rc = pl_client_create(&cc, &qc->c)) < 0 || (rc = pl_client_connect(qc->c)) < 0 ||
	    (rc = pl_client_join(qc->c, b->room, qc->name, NULL, NULL, NULL)) < 0)
		return rc;
	for (int k = 0; k < 2; k++) {
		if (pthread_create(&qc->sender[k], NULL, k ? q_video_main : q_audio_main, qc) != 0)
			return PL_ESYS;
		qc->sender_started[k] = true;
	}
	return 0;
}

static int setup(struct q_bench *b)
{
	char url[128];
	const char *server = b->o.server;
	int rc;

	snprintf(b->run_id, sizeof(b->run_id), "%06x", (unsigned)(pl_clock_wall_ms() & 0xffffff));
	snprintf(b->room, sizeof(b->room), "quality-%s", b->run_id);
	b->n = (size_t)b->o.clients;
	if (!(b->pairs = calloc(b->n * b->n, sizeof(*b->pairs))))
		return PL_ENOMEM;
	for (size_t i = 0; i < b->n * b->n; i++)
		if ((rc = pair_init(b, &b->pairs[i], (int)(i / b->n), (int)(i % b->n))) < 0)
			return rc;
	if (b->o.impair_kernel) {
		struct pl_impair_config ic;
		pl_impair_parse(b->o.impair_kernel, &ic, NULL, 0);
		if ((rc = q_netns_setup(&netns, round(ic.loss * 100), b->o.parleyd)) < 0)
			return rc;
		snprintf(url, sizeof(url), "ws://%s:%d/ws", netns.addr_a, netns.port);
		server = url;
		snprintf(b->kernel_note, sizeof(b->kernel_note), "%s (nftables, namespaces %s / %s)",
			 b->o.impair_kernel, netns.ns_a, netns.ns_b);
	}
	for (size_t i = 0; i < b->n; i++) {
		struct q_client *qc = &b->cl[i];

		qc->b = b;
		qc->index = (int)i;
		qc->speech_seed = 1000 + (uint32_t)i;
		qc->impaired = i == b->n - 1 && b->o.impair;
		qc->in_netns = i == b->n - 1 && netns.made;
		snprintf(qc->name, sizeof(qc->name), "q%zu", i);
	}
	for (size_t i = 0; i < b->n; i++)
		if ((rc = start_client(b, &b->cl[i], server)) < 0) {
			fprintf(stderr, "parley-bench quality: %s: cannot start: %s\n", b->cl[i].name,
				pl_strerror(rc));
			return rc;
		}
	return 0;
}

/* Stops the senders, then the loops (and with them the clients). */
static void stop_clients(struct q_bench *b)
{
	atomic_store(&b->stop, 1);
	for (size_t i = 0; i < b->n; i++)
		for (int k = 0; k < 2; k++)
			if (b->cl[i].sender_started[k]) {
				pthread_join(b->cl[i].sender[k], NULL);
				b->cl[i].sender_started[k] = false;
			}
	for (size_t i = 0; i < b->n; i++) {
		pl_client_loop_destroy(b->cl[i].loop);
		b->cl[i].loop = NULL;
		b->cl[i].c = NULL;
	}
}

static void teardown(struct q_bench *b)
{
	stop_clients(b);
	for (size_t i = 0; b->pairs && i < b->n * b->n; i++)
		pair_release(&b->pairs[i]);
	free(b->pairs);
	b->pairs = NULL;
	q_netns_teardown(&netns);
}

/* Every participant joined and every stream carried media in the window. */
static bool run_ok(const struct q_bench *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!atomic_load(&b->cl[i].joined) || atomic_load(&b->cl[i].failed))
			return false;
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		if (p->rx != p->tx && (p->v.frames == 0 || !p->a.ok))
			return false;
	}
	return true;
}

static int report(struct q_bench *b)
{
	bool ok = run_ok(b);
	json_t *j;
	char *s;

	q_report_table(b, stdout);
	j = q_report_json(b, ok);
	if (b->o.json_path && json_dump_file(j, b->o.json_path, PL_BENCH_JSON_FLAGS) < 0) {
		fprintf(stderr, "parley-bench quality: cannot write %s\n", b->o.json_path);
		ok = false;
	}
	if (b->o.html_path && q_report_html(b, b->o.html_path, ok) < 0) {
		fprintf(stderr, "parley-bench quality: cannot write %s\n", b->o.html_path);
		ok = false;
	}
	if ((s = json_dumps(j, PL_BENCH_JSON_FLAGS))) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
	return ok ? 0 : 1;
}

int pl_bench_quality_main(int argc, char **argv)
{
	static struct q_bench bench;
	struct q_bench *b = &bench;
	const char *why;
	int rc;

	if ((rc = parse_opts(argc, argv, &b->o)) >= 0)
		return rc;
	if (b->o.impair_kernel && (why = q_netns_missing())) {
		fprintf(stderr, "parley-bench quality: --impair-kernel: %s\n", why);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pl_log_configure("warn", NULL);
	if ((rc = setup(b)) < 0) {
		fprintf(stderr, "parley-bench quality: cannot set up: %s\n", pl_strerror(rc));
		teardown(b);
		return 1;
	}
	if (!b->o.quiet)
		fprintf(stderr, "parley-bench quality: %zu participants in room %s%s%s\n", b->n, b->room,
			b->o.impair ? ", impairing the last: " : "", b->o.impair ? b->o.impair : "");
	q_settle(b);
	q_measure(b);
	/* Kernel counters before the namespaces go. */
	stop_clients(b);
	q_analyse(b);
	if (netns.made) {
		uint64_t seen = 0, dropped = 0;
		q_netns_counters(&netns, &seen, &dropped);
		snprintf(b->kernel_note + strlen(b->kernel_note), sizeof(b->kernel_note) - strlen(b->kernel_note),
			 ": %llu of %llu UDP datagrams dropped", (unsigned long long)dropped,
			 (unsigned long long)seen);
	}
	rc = q_stop_flag ? 1 : report(b);
	teardown(b);
	return rc;
}
