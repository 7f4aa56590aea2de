/* tests/soak/fault_peer.c: libparley-client participants for the network
 * fault tests, reporting what they receive as JSON lines.
 *
 *   fault_peer --server ws://HOST:PORT/ws --room R --name N [--count K]
 *              [--ice-address A] [--impair SPEC] [--interval-ms MS]
 *              [--duration S] [--size WxH] [--fps F] [--video-kbps K]
 *
 * K clients (N-0, N-1, ...) on one client loop join room R, publish Opus
 * and VP8 from a pre-encoded clip and receive everyone else.  A frame
 * callback keeps, per remote participant and kind, the frames received
 * and the longest gap between two frames (including the silence up to
 * now), so the test sees an outage to the report interval's resolution
 * and its length to the frame's.  --impair passes a spec to the client
 * library's impairment stage (client/impair.h: delay, jitter, loss ...)
 * on every client.  Every --interval-ms, one line on stdout:
 *
 *   {"t":SECONDS,"late_ms":MS,"clients":[{"name","id","pub","sub","rtt_ms","sent",
 *     "nacks_received","retransmits","nacks_sent","rtx_received",
 *     "impair_out":{...},"impair_in":{...} (with --impair),
 *     "from":[{"id","kind","frames","packets","expected","lost","rtx",
 *              "nacks","jitter_ms","frame_jitter_ms","gap_ms","silent_ms"}]}]}
 *
 * Counters are cumulative; gap_ms is the longest gap since the previous
 * line (then reset), silent_ms the time since the last frame; late_ms is
 * how late the line is against its schedule (a stalled process or host).  Events
 * ({"event":"joined",...}, "failed", "error", "disconnected") come as
 * their own lines when they happen.  SIGTERM or --duration ends it
 * cleanly (exit 0); a failed set-up exits 1.
 *
 * Threads: callbacks on the client loop thread take a mutex around the
 * per-source table; the main thread prints.
 */
#include "client/client.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 16
#define MAX_SOURCES 64

struct source {
	char participant[64];
	enum pl_client_kind kind;
	uint64_t frames;
	int64_t last_us, max_gap_us;
	/* RFC 3550 interarrival jitter over frames (arrival vs RTP timestamp),
	 * computed here so that it does not depend on the library's own. */
	double transit, jitter;
	bool has_transit;
};

struct peer {
	struct pl_client *c;
	const struct pl_client_clip *clip;
	bool published;                 /* joined runs again after a reconnect */
	char name[48];
	struct source src[MAX_SOURCES];
	size_t n_src;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop_flag;
static struct peer peers[MAX_PEERS];

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* One JSON line, flushed at once (the test reads the lines as they come). */
static void emit(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));

	pthread_mutex_lock(&mu);
	if (s)
		printf("%s\n", s);
	fflush(stdout);
	pthread_mutex_unlock(&mu);
	free(s);
	json_decref(j);
}

static void on_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n_others, uint64_t last_seq)
{
	struct peer *p = ud;
	int rc = 0;

	emit(json_pack("{s:s, s:s, s:s}", "event", "joined", "name", p->name, "id", you->id));
	if (!p->published && ((rc = pl_client_publish(c, true, true)) < 0 || (rc = pl_client_play(c, p->clip)) < 0))
		emit(json_pack("{s:s, s:s, s:s}", "event", "failed", "name", p->name, "why", pl_strerror(rc)));
	p->published = true;
}

static void on_error(struct pl_client *c, void *ud, uint32_t req_id, const char *code, const char *msg)
{
	emit(json_pack("{s:s, s:s, s:s, s:s}", "event", "error", "name", ((struct peer *)ud)->name,
		       "code", code, "message", msg));
}

static void on_disconnected(struct pl_client *c, void *ud, int err)
{
	emit(json_pack("{s:s, s:s, s:s}", "event", "disconnected", "name", ((struct peer *)ud)->name,
		       "why", pl_strerror(err)));
}

static void on_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	emit(json_pack("{s:s, s:s, s:s}", "event", st == PL_CLIENT_MEDIA_CONNECTED ? "connected" : "failed",
		       "name", ((struct peer *)ud)->name, "pc", pc == PL_CLIENT_PC_PUB ? "pub" : "sub"));
}

static void on_frame(struct pl_client *c, void *ud, const struct pl_client_frame *f)
{
	struct peer *p = ud;
	struct source *s = NULL;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < p->n_src && !s; i++)
		if (p->src[i].kind == f->kind && strcmp(p->src[i].participant, f->participant) == 0)
			s = &p->src[i];
	if (!s && p->n_src < MAX_SOURCES) {
		s = &p->src[p->n_src++];
		snprintf(s->participant, sizeof(s->participant), "%s", f->participant);
		s->kind = f->kind;
	}
	if (s) {
		if (s->last_us && f->arrival_us - s->last_us > s->max_gap_us)
			s->max_gap_us = f->arrival_us - s->last_us;
		s->last_us = f->arrival_us;
		s->frames++;
		/* Audio 48 kHz, video 90 kHz; the difference of transits in ms. */
		double hz = f->kind == PL_CLIENT_VIDEO ? 90000.0 : 48000.0;
		double transit = (double)f->arrival_us / 1000.0 - (double)f->rtp_ts * 1000.0 / hz;
		if (s->has_transit) {
			double d = transit - s->transit;
			/* An RTP timestamp wrap (or a new stream) is no jitter. */
			if (d > -10000 && d < 10000)
				s->jitter += ((d < 0 ? -d : d) - s->jitter) / 16.0;
		}
		s->transit = transit;
		s->has_transit = true;
	}
	pthread_mutex_unlock(&mu);
}

static const struct pl_client_callbacks callbacks = {
	.joined = on_joined, .error = on_error, .disconnected = on_disconnected,
	.media_state = on_media_state, .frame = on_frame,
};

/* Per source: the frame figures and the sum of its streams' counters. */
static json_t *impair_json(const struct pl_client_impair_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}", "packets", (json_int_t)s->packets,
			 "delivered", (json_int_t)s->delivered, "lost", (json_int_t)s->lost,
			 "overflow", (json_int_t)s->overflow, "delay_mean_ms", s->delay_mean_ms,
			 "delay_max_ms", s->delay_max_ms);
}

static json_t *sources_json(struct peer *p, const struct pl_client_stream_stats *ss, size_t n, int64_t now)
{
	json_t *arr = json_array();

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < p->n_src; i++) {
		struct source *s = &p->src[i];
		uint64_t packets = 0, expected = 0, lost = 0, rtx = 0, nacks = 0;
		double jitter = 0;
		int64_t newest = -1;
		int64_t silent = s->last_us ? now - s->last_us : 0;

		for (size_t k = 0; k < n; k++) {
			if (ss[k].kind != s->kind || strcmp(ss[k].participant, s->participant) != 0)
				continue;
			packets += ss[k].packets, expected += ss[k].expected, lost += ss[k].lost;
			rtx += ss[k].rtx, nacks += ss[k].nacked;
			if (ss[k].last_us > newest) /* the stream now flowing */
				jitter = ss[k].jitter_ms, newest = ss[k].last_us;
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}",
			"id", s->participant, "kind", s->kind == PL_CLIENT_VIDEO ? "video" : "audio",
			"frames", (json_int_t)s->frames, "packets", (json_int_t)packets,
			"expected", (json_int_t)expected, "lost", (json_int_t)lost, "rtx", (json_int_t)rtx,
			"nacks", (json_int_t)nacks, "jitter_ms", jitter, "frame_jitter_ms", s->jitter,
			"gap_ms", (double)(s->max_gap_us > silent ? s->max_gap_us : silent) / 1000.0,
			"silent_ms", (double)silent / 1000.0));
		s->max_gap_us = 0;
	}
	pthread_mutex_unlock(&mu);
	return arr;
}

/* late_us: how late this report is against its schedule -- the process
 * (or the whole machine) was not running for about that long, which the
 * test allows for in the frame gaps it checks. */
static void report(size_t count, int64_t t0, int64_t late_us)
{
	static struct pl_client_stream_stats ss[MAX_SOURCES];
	json_t *clients = json_array();
	int64_t now = pl_clock_mono_us();

	for (size_t i = 0; i < count; i++) {
		struct peer *p = &peers[i];
		struct pl_client_stats st;
		size_t n = 0;
		json_t *o;

		pl_client_get_stats(p->c, &st, ss, MAX_SOURCES, &n);
		o = json_pack("{s:s, s:s?, s:b, s:b, s:i, s:I, s:I, s:I, s:I, s:I}", "name", p->name,
			      "id", pl_client_id(p->c), "pub", st.pub_srtp[0] != 0, "sub", st.sub_srtp[0] != 0,
			      "rtt_ms", (int)st.rtt_ms,
			      "sent", (json_int_t)(st.audio_packets_sent + st.video_packets_sent),
			      "nacks_received", (json_int_t)st.nacks_received,
			      "retransmits", (json_int_t)st.retransmits, "nacks_sent", (json_int_t)st.nacks_sent,
			      "rtx_received", (json_int_t)st.rtx_received);
		if (st.impair_out.packets || st.impair_in.packets) {
			json_object_set_new(o, "impair_out", impair_json(&st.impair_out));
			json_object_set_new(o, "impair_in", impair_json(&st.impair_in));
		}
		json_object_set_new(o, "from", sources_json(p, ss, n, now));
		json_array_append_new(clients, o);
	}
	emit(json_pack("{s:f, s:f, s:o}", "t", (double)(now - t0) / 1e6, "late_ms", (double)late_us / 1000.0,
		       "clients", clients));
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fault_peer --server URL --room R --name N [--count K] [--ice-address A]\n"
		   "                  [--impair SPEC] [--interval-ms MS] [--duration S]\n"
		   "                  [--size WxH] [--fps F] [--video-kbps K]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' }, { "room", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' }, { "count", required_argument, NULL, 'k' },
		{ "ice-address", required_argument, NULL, 'a' }, { "impair", required_argument, NULL, 'i' },
		{ "interval-ms", required_argument, NULL, 't' }, { "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 'z' }, { "fps", required_argument, NULL, 'f' },
		{ "video-kbps", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL, *room = NULL, *name = "peer", *ice = NULL, *impair = NULL;
	long count = 1, interval_ms = 200, fps = 15, kbps = 300;
	unsigned w = 320, h = 240;
	double duration_s = 0;
	struct pl_client_loop *loop = NULL;
	struct pl_client_clip *clip = NULL;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'r': room = optarg; break;
		case 'n': name = optarg; break;
		case 'k': count = strtol(optarg, NULL, 10); break;
		case 'a': ice = optarg; break;
		case 'i': impair = optarg; break;
		case 't': interval_ms = strtol(optarg, NULL, 10); break;
		case 'd': duration_s = strtod(optarg, NULL); break;
		case 'z': if (sscanf(optarg, "%ux%u", &w, &h) != 2) w = 0; break;
		case 'f': fps = strtol(optarg, NULL, 10); break;
		case 'v': kbps = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!server || !room || count < 1 || count > MAX_PEERS || interval_ms < 10 || w < 64 || h < 64 ||
	    fps < 1 || kbps < 50) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	pl_log_configure("warn", NULL);
	struct pl_client_clip_config cc = { .width = w, .height = h, .fps = (unsigned)fps,
					    .video_kbps = (unsigned)kbps, .seconds = 3 };
	if ((rc = pl_client_clip_create(&cc, &clip)) < 0 ||
	    (rc = pl_client_loop_create(&(struct pl_client_loop_config){ .ice_address = ice }, &loop)) < 0) {
		fprintf(stderr, "fault_peer: set-up: %s\n", pl_strerror(rc));
		rc = 1;
		goto out;
	}
	for (long i = 0; i < count; i++) {
		struct peer *p = &peers[i];
		struct pl_client_config cfg = { .url = server, .loop = loop, .cb = &callbacks, .ud = p,
						.impair = impair };

		snprintf(p->name, sizeof(p->name), "%s-%ld", name, i);
		p->clip = clip;
		if ((rc = pl_client_create(&cfg, &p->c)) < 0 || (rc = pl_client_connect(p->c)) < 0 ||
		    (rc = pl_client_join(p->c, room, p->name, NULL, NULL, NULL)) < 0) {
			fprintf(stderr, "fault_peer: %s: %s\n", p->name, pl_strerror(rc));
			rc = 1;
			goto out;
		}
	}
	int64_t t0 = pl_clock_mono_us(), next = t0;
	while (!stop_flag && (duration_s <= 0 || pl_clock_mono_us() - t0 < (int64_t)(duration_s * 1e6))) {
		next += interval_ms * 1000;
		int64_t wait = next - pl_clock_mono_us();
		if (wait > 0)
			usleep((useconds_t)wait);
		int64_t late = pl_clock_mono_us() - next;
		report((size_t)count, t0, late > 0 ? late : 0);
		if (late > interval_ms * 1000) /* don't burst to catch up */
			next = pl_clock_mono_us();
	}
	rc = 0;
out:
	pl_client_loop_destroy(loop); /* and its clients */
	pl_client_clip_destroy(clip);
	return rc;
}
