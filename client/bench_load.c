/* client/bench_load.c: `parley-bench load`, the forwarding benchmark.
 *
 * R rooms of N participants, all libparley-client clients in this one
 * process (on --loops client loop threads), each publishing Opus and VP8
 * from a clip encoded once at start (no encoding while measuring) and
 * receiving everyone else in its room: a full mesh of N * (N - 1) * 2
 * forwarded streams per room.  A run: encode the clip; start the clients
 * evenly over --ramp seconds (connect, join, publish, play); wait until
 * every participant receives audio and video from every other one of its
 * room (or --settle-max runs out); then measure for --duration seconds,
 * with a progress line each second.
 *
 * Figures over the measured window: forwarded packets per second (media
 * packets received by all clients, each counted once, RTX repairs
 * included), loss after NACK/RTX repair (sequence numbers still missing),
 * jitter, join and media set-up times; with --server-pid, the server's CPU
 * time and RSS from /proc/PID, hence its CPU microseconds per forwarded
 * packet (the same number as CPU seconds per million packets); this
 * process's own CPU (client and server share the machine).  For a ws://
 * server the /healthz media counters give the server's own forwarded and
 * retransmitted counts as a cross-check.  A human table goes to stdout,
 * then one JSON line (also written to --json FILE).
 *
 * Threads: the main thread drives the run and samples; callbacks run on
 * the loop threads and only touch atomics; statistics are read through
 * pl_client_get_stats(), which runs on the client's loop.
 */
#include "client/bench.h"
#include "client/client.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTICIPANTS 2000
#define SETTLE_POLL_MS 200

struct load_opts {
	const char *server, *json_path, *room_prefix, *srtp_name;
	struct pl_bench_url url;
	long rooms, participants, loops, server_pid;
	long video_kbps, audio_kbps, width, height, fps, clip_s;
	double duration_s, ramp_s, settle_max_s;
	enum pl_client_srtp srtp;
	double drop_pct;
	bool insecure, quiet;
};

struct participant {
	struct load_bench *b;
	struct pl_client *c;
	int index, room;
	_Atomic int joined, pub_up, sub_up, failed, errors, lost;
	char name[32];
};

/* The server's media counters (GET /healthz), when reachable. */
struct healthz {
	bool ok;
	uint64_t rtp_forwarded, retransmits;
};

struct snapshot {
	int64_t at_us;
	bool server_ok;
	double server_cpu_s, client_cpu_s;
	long server_rss_kb;
	uint64_t rx_packets, rx_bytes, rx_expected, rx_lost, rx_rtx, nacks_sent;
	uint64_t tx_packets, retransmits, plis;
	struct healthz hz;
};

struct load_bench {
	struct load_opts o;
	struct pl_client_clip *clip;
	struct pl_client_loop **loops;
	struct participant *parts;
	size_t n;
	char run_id[16];
	struct snapshot base, s0, s1;
	int64_t settle_ms;
	size_t complete;            /* participants receiving every peer */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- the server process ---------------------------------------------------- */

/* CPU seconds (user + system, every thread) and RSS of pid from /proc. */
static bool server_sample(long pid, double *cpu_s, long *rss_kb)
{
	char path[64], buf[4096], *p;
	unsigned long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces: skip to ')'. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return false;
	*cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	*rss_kb = 0;
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "VmRSS: %ld kB", rss_kb) == 1)
				break;
		fclose(f);
	}
	return true;
}

static uint64_t ju(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* A blocking GET /healthz on the server's address, one second at most. */
static void healthz_get(const struct pl_bench_url *u, struct healthz *hz)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)u->port) };
	struct timeval tv = { .tv_sec = 1 };
	char req[384], buf[8192];
	size_t len = 0;
	ssize_t r;
	json_t *j, *m;
	char *body;
	int fd;

	memset(hz, 0, sizeof(*hz));
	if (u->is_tls || inet_pton(AF_INET, u->host, &sa.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n", u->host);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && write(fd, req, strlen(req)) > 0)
		while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	if (!(body = strstr(buf, "\r\n\r\n")) || !(j = json_loads(body + 4, 0, NULL)))
		return;
	if ((m = json_object_get(j, "media"))) {
		hz->ok = true;
		hz->rtp_forwarded = ju(m, "rtp_forwarded");
		hz->retransmits = ju(m, "retransmits");
	}
	json_decref(j);
}

/* ---- clients --------------------------------------------------------------- */

static void on_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n_others, uint64_t last_seq)
{
	struct participant *p = ud;

	atomic_store(&p->joined, 1);
	/* On the loop thread: these run at once. */
	if (pl_client_publish(c, true, true) < 0 || pl_client_play(c, p->b->clip) < 0)
		atomic_store(&p->failed, 1);
}

static void on_error(struct pl_client *c, void *ud, uint32_t req_id, const char *code,
		     const char *message)
{
	struct participant *p = ud;

	if (atomic_fetch_add(&p->errors, 1) < 3)
		fprintf(stderr, "parley-bench load: %s: server error %s: %s\n", p->name, code, message);
}

static void on_disconnected(struct pl_client *c, void *ud, int err)
{
	atomic_store(&((struct participant *)ud)->lost, 1);
}

static void on_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	struct participant *p = ud;

	if (st != PL_CLIENT_MEDIA_CONNECTED) {
		atomic_store(&p->failed, 1);
		fprintf(stderr, "parley-bench load: %s: %s connection failed\n", p->name,
			pc == PL_CLIENT_PC_PUB ? "pub" : "sub");
		return;
	}
	atomic_store(pc == PL_CLIENT_PC_PUB ? &p->pub_up : &p->sub_up, 1);
}

static const struct pl_client_callbacks callbacks = {
	.joined = on_joined, .error = on_error, .disconnected = on_disconnected,
	.media_state = on_media_state,
};

static int start_participant(struct load_bench *b, struct participant *p)
{
	struct pl_client_config cc = {
		.url = b->o.server, .loop = b->loops[(size_t)p->index % (size_t)b->o.loops],
		.cb = &callbacks, .ud = p, .srtp = b->o.srtp, .tls_insecure = b->o.insecure,
		.drop_in_pct = b->o.drop_pct, .drop_out_pct = b->o.drop_pct,
	};
	char room[96];
	int rc;

	snprintf(room, sizeof(room), "%s-%s-%d", b->o.room_prefix, b->run_id, p->room);
	if ((rc = pl_client_create(&cc, &p->c)) < 0 || (rc = pl_client_connect(p->c)) < 0 ||
	    (rc = pl_client_join(p->c, room, p->name, NULL, NULL, NULL)) < 0) {
		fprintf(stderr, "parley-bench load: %s: cannot start: %s\n", p->name, pl_strerror(rc));
		atomic_store(&p->failed, 1);
		return rc;
	}
	return 0;
}

static void sleep_until(int64_t t_us)
{
	int64_t now;

	while (!stop_flag && (now = pl_clock_mono_us()) < t_us) {
		struct timespec ts = { .tv_sec = (t_us - now) / 1000000,
				       .tv_nsec = (long)((t_us - now) % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void ramp(struct load_bench *b)
{
	int64_t t0 = pl_clock_mono_us();

	for (size_t i = 0; i < b->n && !stop_flag; i++) {
		sleep_until(t0 + (int64_t)(b->o.ramp_s * 1e6 * (double)i / (double)b->n));
		start_participant(b, &b->parts[i]);
	}
}

/* Peers of p's room from which it receives both audio and video. */
static size_t peers_with_media(struct participant *p, struct pl_client_stats *st)
{
	struct pl_client_stream_stats ss[2 * 64];
	char seen[64][64];
	int kinds[64] = { 0 };
	size_t n = 0, np = 0, full = 0;

	pl_client_get_stats(p->c, st, ss, 2 * 64, &n);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (!ss[i].active || ss[i].packets == 0)
			continue;
		for (k = 0; k < np && strcmp(seen[k], ss[i].participant) != 0; k++)
			;
		if (k == np && np < 64)
			memcpy(seen[np++], ss[i].participant, sizeof(seen[0]));
		if (k < 64)
			kinds[k] |= ss[i].kind;
	}
	for (size_t k = 0; k < np; k++)
		full += kinds[k] == (PL_CLIENT_AUDIO | PL_CLIENT_VIDEO);
	return full;
}

/* Participants receiving every peer; *dead gets those that failed. */
static size_t count_complete(struct load_bench *b, size_t *dead)
{
	struct pl_client_stats st;
	size_t done = 0;

	*dead = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct participant *p = &b->parts[i];
		if (!p->c || atomic_load(&p->failed) || atomic_load(&p->lost))
			(*dead)++;
		else if (peers_with_media(p, &st) + 1 >= (size_t)b->o.participants)
			done++;
	}
	return done;
}

static void settle(struct load_bench *b)
{
	int64_t t0 = pl_clock_mono_us(), end = t0 + (int64_t)(b->o.settle_max_s * 1e6);
	size_t dead = 0;

	while (!stop_flag && pl_clock_mono_us() < end &&
	       (b->complete = count_complete(b, &dead)) + dead < b->n)
		sleep_until(pl_clock_mono_us() + SETTLE_POLL_MS * 1000);
	b->settle_ms = (pl_clock_mono_us() - t0) / 1000;
	if (b->complete < b->n && !b->o.quiet)
		fprintf(stderr, "parley-bench load: after %.1f s, %zu of %zu participants receive every peer; measuring anyway\n",
			(double)b->settle_ms / 1000.0, b->complete, b->n);
	/* A second more: the last keyframes and the NACK repairs of the
	 * start-up stay out of the window. */
	sleep_until(pl_clock_mono_us() + 1000000);
}

static void snapshot_take(struct load_bench *b, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->at_us = pl_clock_mono_us();
	s->client_cpu_s = pl_bench_cpu_seconds();
	if (b->o.server_pid > 0)
		s->server_ok = server_sample(b->o.server_pid, &s->server_cpu_s, &s->server_rss_kb);
	healthz_get(&b->o.url, &s->hz);
	for (size_t i = 0; i < b->n; i++) {
		struct pl_client_stats st;

		if (!b->parts[i].c)
			continue;
		pl_client_get_stats(b->parts[i].c, &st, NULL, 0, NULL);
		s->rx_packets += st.packets_received;
		s->rx_bytes += st.bytes_received;
		s->rx_expected += st.expected;
		s->rx_lost += st.lost;
		s->rx_rtx += st.rtx_received;
		s->nacks_sent += st.nacks_sent;
		s->tx_packets += st.audio_packets_sent + st.video_packets_sent;
		s->retransmits += st.retransmits;
		s->plis += st.plis_received;
	}
}

static double pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

static void progress(struct load_bench *b, const struct snapshot *prev, const struct snapshot *now)
{
	double dt = (double)(now->at_us - prev->at_us) / 1e6;
	double el = (double)(now->at_us - b->s0.at_us) / 1e6;

	if (b->o.quiet || dt <= 0)
		return;
	fprintf(stderr, "  [%5.1f s] rx %8.0f pkt/s  %6.1f Mbit/s  loss %.3f %%  tx %6.0f pkt/s  client cpu %5.1f %%",
		el, (double)(now->rx_packets - prev->rx_packets) / dt,
		(double)(now->rx_bytes - prev->rx_bytes) * 8 / dt / 1e6,
		pct(fmax(0, (double)now->rx_lost - (double)b->s0.rx_lost),
		    (double)(now->rx_expected - b->s0.rx_expected)),
		(double)(now->tx_packets - prev->tx_packets) / dt,
		pct(now->client_cpu_s - prev->client_cpu_s, dt));
	if (now->server_ok)
		fprintf(stderr, "  server cpu %5.1f %%  rss %.1f MiB", pct(now->server_cpu_s - prev->server_cpu_s, dt),
			(double)now->server_rss_kb / 1024.0);
	fputc('\n', stderr);
}

static void measure(struct load_bench *b)
{
	struct snapshot prev, now;
	int64_t end;

	snapshot_take(b, &b->s0);
	prev = b->s0;
	end = b->s0.at_us + (int64_t)(b->o.duration_s * 1e6);
	for (int64_t t = b->s0.at_us + 1000000; !stop_flag && t < end; t += 1000000) {
		sleep_until(t);
		snapshot_take(b, &now);
		progress(b, &prev, &now);
		prev = now;
	}
	sleep_until(end);
	snapshot_take(b, &b->s1);
}

/* ---- results --------------------------------------------------------------- */

struct results {
	double window_s, fwd_pps, loss_pct, rx_mbps;
	uint64_t fwd_packets, lost, expected;
	double server_cpu_pct, server_us_per_pkt, client_cpu_pct;
	double rss_mib, rss_base_mib, rss_per_part_mib;
	double hz_fwd_pps, hz_retx_pps, hz_us_per_pkt;
	double jit_audio_ms, jit_video_ms, jit_max_ms;
	int64_t join_p50, join_max, pub_max, sub_max;
	size_t joined, failed, lost_conns;
	char srtp[32];
	json_t *clients;
};

/* Microseconds as milliseconds to the microsecond; -1 stays -1. */
static double ms3(int64_t us)
{
	return us < 0 ? -1 : pl_bench_round3((double)us / 1000.0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Per participant: set-up times, what it receives, jitter. */
static void collect_clients(struct load_bench *b, struct results *r)
{
	int64_t *joins = calloc(b->n + 1, sizeof(*joins));
	double ja = 0, jv = 0;
	size_t na = 0, nv = 0, nj = 0;

	r->clients = json_array();
	for (size_t i = 0; i < b->n; i++) {
		struct participant *p = &b->parts[i];
		struct pl_client_stream_stats ss[128];
		struct pl_client_stats st;
		size_t n = 0, peers;

		if (!p->c)
			continue;
		peers = peers_with_media(p, &st);
		pl_client_get_stats(p->c, &st, ss, 128, &n);
		for (size_t k = 0; k < n; k++) {
			if (!ss[k].active || !ss[k].packets)
				continue;
			if (ss[k].kind == PL_CLIENT_AUDIO)
				ja += ss[k].jitter_ms, na++;
			else
				jv += ss[k].jitter_ms, nv++;
			r->jit_max_ms = fmax(r->jit_max_ms, ss[k].jitter_ms);
		}
		if (st.join_us >= 0)
			joins[nj++] = st.join_us, r->joined++;
		r->pub_max = st.pub_us > r->pub_max ? st.pub_us : r->pub_max;
		r->sub_max = st.sub_us > r->sub_max ? st.sub_us : r->sub_max;
		r->failed += atomic_load(&p->failed) != 0;
		r->lost_conns += atomic_load(&p->lost) != 0;
		if (st.pub_srtp[0])
			snprintf(r->srtp, sizeof(r->srtp), "%s", st.pub_srtp);
		json_array_append_new(r->clients, json_pack(
			"{s:s, s:s?, s:i, s:f, s:f, s:f, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
			"name", p->name, "id", pl_client_id(p->c), "room", p->room,
			"join_ms", ms3(st.join_us), "pub_ms", ms3(st.pub_us),
			"sub_ms", ms3(st.sub_us), "pub_srtp", st.pub_srtp, "sub_srtp", st.sub_srtp,
			"peers_with_media", (json_int_t)peers, "packets_received", (json_int_t)st.packets_received,
			"lost", (json_int_t)st.lost, "rtx_received", (json_int_t)st.rtx_received,
			"packets_sent", (json_int_t)(st.audio_packets_sent + st.video_packets_sent),
			"retransmits", (json_int_t)st.retransmits));
	}
	r->jit_audio_ms = na ? ja / (double)na : 0;
	r->jit_video_ms = nv ? jv / (double)nv : 0;
	qsort(joins, nj, sizeof(*joins), cmp_i64);
	r->join_p50 = nj ? joins[nj / 2] : -1;
	r->join_max = nj ? joins[nj - 1] : -1;
	free(joins);
}

static void compute(struct load_bench *b, struct results *r)
{
	const struct snapshot *s0 = &b->s0, *s1 = &b->s1;

	memset(r, 0, sizeof(*r));
	r->window_s = (double)(s1->at_us - s0->at_us) / 1e6;
	r->fwd_packets = s1->rx_packets - s0->rx_packets;
	r->fwd_pps = (double)r->fwd_packets / r->window_s;
	r->rx_mbps = (double)(s1->rx_bytes - s0->rx_bytes) * 8 / r->window_s / 1e6;
	r->expected = s1->rx_expected - s0->rx_expected;
	r->lost = s1->rx_lost > s0->rx_lost ? s1->rx_lost - s0->rx_lost : 0;
	r->loss_pct = pct((double)r->lost, (double)r->expected);
	r->client_cpu_pct = pct(s1->client_cpu_s - s0->client_cpu_s, r->window_s);
	if (s0->server_ok && s1->server_ok) {
		double cpu = s1->server_cpu_s - s0->server_cpu_s;
		r->server_cpu_pct = pct(cpu, r->window_s);
		r->server_us_per_pkt = r->fwd_packets ? cpu * 1e6 / (double)r->fwd_packets : 0;
		r->rss_mib = (double)s1->server_rss_kb / 1024.0;
		r->rss_base_mib = (double)b->base.server_rss_kb / 1024.0;
		r->rss_per_part_mib = b->n ? (r->rss_mib - r->rss_base_mib) / (double)b->n : 0;
	}
	if (s0->hz.ok && s1->hz.ok) {
		uint64_t fwd = s1->hz.rtp_forwarded - s0->hz.rtp_forwarded;
		r->hz_fwd_pps = (double)fwd / r->window_s;
		r->hz_retx_pps = (double)(s1->hz.retransmits - s0->hz.retransmits) / r->window_s;
		if (s0->server_ok && fwd)
			r->hz_us_per_pkt = (s1->server_cpu_s - s0->server_cpu_s) * 1e6 / (double)fwd;
	}
	collect_clients(b, r);
}

static bool run_ok(const struct load_bench *b, const struct results *r)
{
	return !stop_flag && r->joined == b->n && r->failed == 0 && r->lost_conns == 0 &&
	       b->complete == b->n && r->fwd_packets > 0;
}

static void print_table(const struct load_bench *b, const struct results *r)
{
	double vk = 0, ak = 0;

	pl_client_clip_bitrates(b->clip, &vk, &ak);
	printf("parley-bench load: %s, %ld room(s) x %ld participants (full mesh), SRTP %s\n", b->o.server,
	       b->o.rooms, b->o.participants, r->srtp[0] ? r->srtp : "-");
	printf("  %-18s %ldx%ld@%ld VP8 %.0f kbit/s + Opus %.0f kbit/s (pre-encoded, looped)\n", "media",
	       b->o.width, b->o.height, b->o.fps, vk, ak);
	printf("  %-18s %zu/%zu joined (join p50 %.1f ms, max %.1f ms); media up within %.1f ms (pub), %.1f ms (sub)\n",
	       "set-up", r->joined, b->n, ms3(r->join_p50), ms3(r->join_max), ms3(r->pub_max),
	       ms3(r->sub_max));
	printf("  %-18s %zu/%zu participants receive every peer (after %.1f s)\n", "mesh", b->complete,
	       b->n, (double)b->settle_ms / 1000.0);
	printf("  %-18s %.1f s\n", "measured", r->window_s);
	printf("  %-18s %.0f packets/s (%llu packets, %.1f Mbit/s)", "forwarded", r->fwd_pps,
	       (unsigned long long)r->fwd_packets, r->rx_mbps);
	if (b->s1.hz.ok)
		printf("; server counts %.0f/s + %.0f/s resent", r->hz_fwd_pps, r->hz_retx_pps);
	printf("\n  %-18s %.3f %% (%llu of %llu still missing after repair; RTX received %llu)\n",
	       "loss", r->loss_pct, (unsigned long long)r->lost, (unsigned long long)r->expected,
	       (unsigned long long)(b->s1.rx_rtx - b->s0.rx_rtx));
	printf("  %-18s audio %.2f ms, video %.2f ms (mean over streams), max %.2f ms\n", "jitter",
	       r->jit_audio_ms, r->jit_video_ms, r->jit_max_ms);
	if (b->s1.server_ok) {
		printf("  %-18s %.1f %% of a core = %.2f us per forwarded packet (CPU-s per 1M packets)\n",
		       "server cpu", r->server_cpu_pct, r->server_us_per_pkt);
		printf("  %-18s %.1f MiB (%.1f before the clients: %.2f MiB per participant)\n", "server rss",
		       r->rss_mib, r->rss_base_mib, r->rss_per_part_mib);
	}
	printf("  %-18s %.1f %% of a core (%ld client loop thread%s)\n", "client cpu", r->client_cpu_pct,
	       b->o.loops, b->o.loops > 1 ? "s" : "");
	if (!run_ok(b, r))
		printf("  FAILED: %zu failed, %zu connections lost, %zu/%zu complete%s\n", r->failed,
		       r->lost_conns, b->complete, b->n, stop_flag ? ", interrupted" : "");
}

static json_t *results_json(const struct load_bench *b, struct results *r)
{
	double vk = 0, ak = 0;
	json_t *j;

	pl_client_clip_bitrates(b->clip, &vk, &ak);
	j = json_pack("{s:s, s:b, s:s, s:i, s:i, s:i, s:s, s:f, s:f, s:f, s:I, s:I, s:I,"
		      " s:{s:f, s:f}, s:{s:f, s:f}, s:I, s:f, s:f, s:I, s:I, s:f, s:{s:f, s:f, s:f}, s:f}",
		      "bench", "load", "ok", run_ok(b, r), "url", b->o.server, "rooms", (int)b->o.rooms,
		      "participants", (int)b->o.participants, "loops", (int)b->o.loops, "srtp", r->srtp,
		      "duration_s", pl_bench_round3(r->window_s), "video_kbps", pl_bench_round3(vk),
		      "audio_kbps", pl_bench_round3(ak), "joined", (json_int_t)r->joined,
		      "complete", (json_int_t)b->complete, "settle_ms", (json_int_t)b->settle_ms,
		      "join_ms", "p50", ms3(r->join_p50), "max", ms3(r->join_max),
		      "media_setup_ms", "pub_max", ms3(r->pub_max), "sub_max", ms3(r->sub_max),
		      "forwarded_packets", (json_int_t)r->fwd_packets,
		      "forwarded_pps", pl_bench_round3(r->fwd_pps), "rx_mbps", pl_bench_round3(r->rx_mbps),
		      "expected", (json_int_t)r->expected, "lost", (json_int_t)r->lost,
		      "loss_pct", pl_bench_round3(r->loss_pct),
		      "jitter_ms", "audio", pl_bench_round3(r->jit_audio_ms),
		      "video", pl_bench_round3(r->jit_video_ms), "max", pl_bench_round3(r->jit_max_ms),
		      "client_cpu_pct", pl_bench_round3(r->client_cpu_pct));
	if (b->s1.server_ok)
		json_object_set_new(j, "server", json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}",
			"pid", (json_int_t)b->o.server_pid, "cpu_pct", pl_bench_round3(r->server_cpu_pct),
			"us_per_packet", pl_bench_round3(r->server_us_per_pkt),
			"rss_mib", pl_bench_round3(r->rss_mib), "rss_base_mib", pl_bench_round3(r->rss_base_mib),
			"rss_per_participant_mib", pl_bench_round3(r->rss_per_part_mib)));
	if (b->s1.hz.ok)
		json_object_set_new(j, "server_counters", json_pack("{s:f, s:f}",
			"forwarded_pps", pl_bench_round3(r->hz_fwd_pps),
			"retransmits_pps", pl_bench_round3(r->hz_retx_pps)));
	if (b->s1.hz.ok && b->s1.server_ok)
		json_object_set_new(json_object_get(j, "server_counters"), "us_per_forwarded",
				    json_real(pl_bench_round3(r->hz_us_per_pkt)));
	json_object_set_new(j, "clients", r->clients);
	r->clients = NULL;
	return j;
}

static int report(struct load_bench *b)
{
	struct results r;
	json_t *j;
	char *s;
	bool ok;

	compute(b, &r);
	print_table(b, &r);
	ok = run_ok(b, &r);
	j = results_json(b, &r);
	if (b->o.json_path && json_dump_file(j, b->o.json_path, PL_BENCH_JSON_FLAGS) < 0)
		fprintf(stderr, "parley-bench load: cannot write %s\n", b->o.json_path);
	if ((s = json_dumps(j, PL_BENCH_JSON_FLAGS))) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
	return ok ? 0 : 1;
}

/* ---- options and the run --------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: parley-bench load --server ws://HOST:PORT/ws [options]\n\n"
		"R rooms of N participants in full mesh, each publishing VP8 + Opus from a clip\n"
		"encoded once at start; measures forwarded packets/s, loss after repair, jitter,\n"
		"join time and (with --server-pid) the server's CPU per forwarded packet and RSS.\n\n"
		"  --server URL         parleyd WebSocket URL (required)\n"
		"  --rooms R            rooms [1]           --participants N  per room [2]\n"
		"  --duration S         measured s [10]     --ramp S          start-up spread [1]\n"
		"  --settle-max S       longest wait for the full mesh before measuring [20]\n"
		"  --video-kbps K       VP8 bitrate [1000]  --audio-kbps K    Opus bitrate [32]\n"
		"  --size WxH           [640x360]           --fps F           [30]\n"
		"  --clip-seconds S     length of the encoded clip [3]\n"
		"  --srtp any|gcm|cm    SRTP profiles the clients offer [any]\n"
		"  --drop PCT           each client drops PCT %% of media both ways (NACK test) [0]\n"
		"  --loops T            client event-loop threads [1]\n"
		"  --server-pid PID     read the server's CPU and RSS from /proc/PID\n"
		"  --json FILE          also write the JSON report to FILE\n"
		"  --room-prefix P      room names P-<run>-<i> [load]\n"
		"  --insecure           wss: accept any certificate;  --quiet: no progress\n");
}

enum { O_SERVER = 256, O_ROOMS, O_PARTS, O_DURATION, O_RAMP, O_SETTLE, O_VKBPS, O_AKBPS, O_SIZE,
       O_FPS, O_CLIP, O_SRTP, O_LOOPS, O_PID, O_JSON, O_PREFIX, O_INSECURE, O_QUIET, O_DROP };

#define ARG(name, id) { name, required_argument, NULL, id }
static const struct option long_opts[] = {
	ARG("server", O_SERVER), ARG("rooms", O_ROOMS), ARG("participants", O_PARTS),
	ARG("duration", O_DURATION), ARG("ramp", O_RAMP), ARG("settle-max", O_SETTLE),
	ARG("video-kbps", O_VKBPS), ARG("audio-kbps", O_AKBPS), ARG("size", O_SIZE), ARG("fps", O_FPS),
	ARG("clip-seconds", O_CLIP), ARG("srtp", O_SRTP), ARG("loops", O_LOOPS), ARG("server-pid", O_PID),
	ARG("json", O_JSON), ARG("room-prefix", O_PREFIX), ARG("drop", O_DROP),
	{ "insecure", no_argument, NULL, O_INSECURE }, { "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
};
#undef ARG

static int parse_srtp(const char *s, struct load_opts *o)
{
	o->srtp_name = s;
	if (strcmp(s, "any") == 0)
		o->srtp = PL_CLIENT_SRTP_ANY;
	else if (strcmp(s, "gcm") == 0)
		o->srtp = PL_CLIENT_SRTP_GCM;
	else if (strcmp(s, "cm") == 0)
		o->srtp = PL_CLIENT_SRTP_CM;
	else
		return PL_EINVAL;
	return 0;
}

static int parse_one(int c, const char *v, struct load_opts *o)
{
	switch (c) {
	case O_SERVER: o->server = v; return pl_bench_url_parse(v, &o->url);
	case O_ROOMS: return pl_bench_parse_long(v, 1, 500, &o->rooms);
	case O_PARTS: return pl_bench_parse_long(v, 1, 64, &o->participants);
	case O_DURATION: return pl_bench_parse_double(v, 0.5, 86400, &o->duration_s);
	case O_RAMP: return pl_bench_parse_double(v, 0, 3600, &o->ramp_s);
	case O_SETTLE: return pl_bench_parse_double(v, 0, 3600, &o->settle_max_s);
	case O_VKBPS: return pl_bench_parse_long(v, 50, 20000, &o->video_kbps);
	case O_AKBPS: return pl_bench_parse_long(v, 6, 510, &o->audio_kbps);
	case O_SIZE: return pl_bench_parse_size(v, 64, 4096, 64, 4096, &o->width, &o->height);
	case O_FPS: return pl_bench_parse_long(v, 1, 120, &o->fps);
	case O_CLIP: return pl_bench_parse_long(v, 1, 60, &o->clip_s);
	case O_SRTP: return parse_srtp(v, o);
	case O_LOOPS: return pl_bench_parse_long(v, 1, 64, &o->loops);
	case O_PID: return pl_bench_parse_long(v, 1, INT32_MAX, &o->server_pid);
	case O_JSON: o->json_path = v; return 0;
	case O_DROP: return pl_bench_parse_double(v, 0, 50, &o->drop_pct);
	case O_PREFIX: o->room_prefix = v; return strlen(v) <= 40 ? 0 : PL_EINVAL;
	case O_INSECURE: o->insecure = true; return 0;
	case O_QUIET: o->quiet = true; return 0;
	}
	return PL_EINVAL;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct load_opts *o)
{
	int c, idx = 0;

	*o = (struct load_opts){ .rooms = 1, .participants = 2, .loops = 1, .video_kbps = 1000,
				 .audio_kbps = 32, .width = 640, .height = 360, .fps = 30, .clip_s = 3,
				 .duration_s = 10, .ramp_s = 1, .settle_max_s = 20, .room_prefix = "load",
				 .srtp_name = "any" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || parse_one(c, optarg, o) < 0) {
			if (c != '?')
				fprintf(stderr, "parley-bench load: bad value for --%s: '%s'\n",
					long_opts[idx].name, optarg);
			fprintf(stderr, "Try 'parley-bench load --help'.\n");
			return 2;
		}
	}
	if (optind < argc || !o->server || o->rooms * o->participants > MAX_PARTICIPANTS) {
		fprintf(stderr, "parley-bench load: %s\n", optind < argc ? "unexpected argument"
			: !o->server ? "--server is required" : "too many participants");
		return 2;
	}
	return -1;
}

static int setup(struct load_bench *b)
{
	struct pl_client_clip_config cc = {
		.width = (unsigned)b->o.width, .height = (unsigned)b->o.height, .fps = (unsigned)b->o.fps,
		.video_kbps = (unsigned)b->o.video_kbps, .audio_kbps = (unsigned)b->o.audio_kbps,
		.seconds = (unsigned)b->o.clip_s,
	};
	int rc;

	snprintf(b->run_id, sizeof(b->run_id), "%06x", (unsigned)(pl_clock_wall_ms() & 0xffffff));
	if ((rc = pl_client_clip_create(&cc, &b->clip)) < 0)
		return rc;
	b->n = (size_t)(b->o.rooms * b->o.participants);
	b->parts = calloc(b->n, sizeof(*b->parts));
	b->loops = calloc((size_t)b->o.loops, sizeof(*b->loops));
	if (!b->parts || !b->loops)
		return PL_ENOMEM;
	pl_bench_raise_fd_limit(b->n * 8 + 64);
	for (long i = 0; i < b->o.loops; i++)
		if ((rc = pl_client_loop_create(&(struct pl_client_loop_config){ 0 }, &b->loops[i])) < 0)
			return rc;
	for (size_t i = 0; i < b->n; i++) {
		b->parts[i].b = b;
		b->parts[i].index = (int)i;
		b->parts[i].room = (int)(i / (size_t)b->o.participants);
		snprintf(b->parts[i].name, sizeof(b->parts[i].name), "load-%zu", i);
	}
	return 0;
}

static void teardown(struct load_bench *b)
{
	for (long i = 0; b->loops && i < b->o.loops; i++)
		pl_client_loop_destroy(b->loops[i]); /* and its clients */
	free(b->loops);
	free(b->parts);
	pl_client_clip_destroy(b->clip);
}

int pl_bench_load_main(int argc, char **argv)
{
	static struct load_bench bench;
	struct load_bench *b = &bench;
	int rc;

	if ((rc = parse_opts(argc, argv, &b->o)) >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pl_log_configure("warn", NULL);
	if (b->o.server_pid > 0 && !server_sample(b->o.server_pid, &b->base.server_cpu_s,
						  &b->base.server_rss_kb)) {
		fprintf(stderr, "parley-bench load: cannot read /proc/%ld\n", b->o.server_pid);
		return 2;
	}
	if ((rc = setup(b)) < 0) {
		fprintf(stderr, "parley-bench load: cannot set up: %s\n", pl_strerror(rc));
		teardown(b);
		return 1;
	}
	if (!b->o.quiet)
		fprintf(stderr, "parley-bench load: %zu participants in %ld room(s), ramp %.1f s\n", b->n,
			b->o.rooms, b->o.ramp_s);
	ramp(b);
	settle(b);
	measure(b);
	rc = report(b);
	teardown(b);
	return rc;
}
