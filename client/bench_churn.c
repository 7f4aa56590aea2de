/* client/bench_churn.c: `parley-bench churn`, the churn soak load.
 *
 * --clients libparley-client participants keep joining a random one of
 * --rooms rooms, publishing a small pre-encoded clip (VP8 + Opus, or one
 * of them), chatting, and then leaving abruptly, over and over for
 * --duration seconds.  The ways out are varied on purpose, because each
 * exercises a different path of the server's teardown:
 *
 *   leave   a `leave` message, then the socket is closed 0.1-0.5 s later;
 *   close   the client is destroyed without a leave (WebSocket closed, the
 *           ICE/DTLS peers vanish without a word);
 *   kill    --kill-clients of the clients live in a child process (this
 *           program re-executed with --child) that is SIGKILLed after a
 *           few seconds: sockets closed by the kernel mid-whatever, then
 *           a new child takes their place.
 *
 * Every random choice comes from one seeded generator (--seed), so a run's
 * schedule is reproducible (timing on the wire of course is not).  The
 * parent's clients run on --loops client loop threads; the main thread
 * drives the schedule in 20 ms ticks and only reads atomics the callbacks
 * set.  A child reports its events as single bytes on its stdout, a pipe
 * the parent drains each tick ('J' joined, 'M' media up, 'A' chat acked,
 * 'E' error), so the kill's figures are counted too.
 *
 * Figures: cycles (an in-process client's join ... exit), joins, errors
 * (server error replies, media connections that failed, lost sockets,
 * joins that never came), leaves by kind, child kills, chats sent and
 * acknowledged, and how many cycles had media both ways.  A human summary
 * goes to stdout, then one JSON line (also to --json FILE).  The exit
 * status is 0 when the run completed with no error and every kind of exit
 * happened.  The command line is parsed in bench_churn_opts.c.
 */
#include "client/bench_churn.h"
#include "client/client.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_US 20000
/* A cycle's dwell waits for `joined` this long at most: a join never
 * answered is an error, a slow one on a busy machine is not. */
#define JOIN_TIMEOUT_US 15000000
#define CHILD_EXE "/proc/self/exe"

enum slot_state { SLOT_IDLE, SLOT_IN, SLOT_LEAVING };
enum exit_kind { EXIT_LEAVE, EXIT_CLOSE, EXIT_KILL, EXIT_KINDS };
static const char *const exit_names[EXIT_KINDS] = { "leave", "close", "kill" };

struct slot {
	struct churn *b;
	struct pl_client *c;
	enum slot_state state;
	int index, room;
	int64_t started_us, next_us, next_chat_us;
	bool audio, video, joined_counted;
	_Atomic int joined, pub_up, sub_up, errors, lost, leaving;
	char name[32];
};

struct counters {
	uint64_t cycles, joins, errors, starts, chats_sent, media_cycles, pub_cycles;
	uint64_t exits[EXIT_KINDS];
	uint64_t kills, child_joins, child_media, child_acks, child_errors;
	uint64_t server_errors, media_failed, lost_sockets, join_timeouts, start_failures;
	_Atomic uint64_t chats_acked;
};

struct churn {
	struct pl_bench_churn_opts o;
	/* The clip to play must hold exactly the published kinds: [0] both,
	 * [1] audio only, [2] video only. */
	struct pl_client_clip *clips[3];
	struct pl_client_loop **loops;
	struct slot *slots;
	size_t n;                       /* in-process slots */
	uint64_t rng;
	char prefix[96];                /* room names: prefix-<i> */
	struct counters k;
	pid_t child;
	int child_fd;
	int64_t child_until_us, child_next_us;
	int64_t t0_us;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- randomness ------------------------------------------------------------ */

/* splitmix64: tiny, seedable, good enough for a schedule. */
static uint64_t rnd(struct churn *b)
{
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd_unit(struct churn *b)
{
	return (double)(rnd(b) >> 11) / 9007199254740992.0;
}

static int64_t rnd_us(struct churn *b, double lo_s, double hi_s)
{
	return (int64_t)((lo_s + (hi_s - lo_s) * rnd_unit(b)) * 1e6);
}

/* ---- client callbacks (loop threads) --------------------------------------- */

static void child_event(struct churn *b, char ev)
{
	if (b->o.child && write(STDOUT_FILENO, &ev, 1) < 0)
		stop_flag = 1; /* the parent is gone */
}

static void on_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n_others, uint64_t last_seq)
{
	struct slot *s = ud;
	int rc;

	atomic_store(&s->joined, 1);
	child_event(s->b, 'J');
	if ((rc = pl_client_publish(c, s->audio, s->video)) < 0 || (rc = pl_client_play(c, s->b->clips[!s->video ? 1 : !s->audio ? 2 : 0])) < 0) {
		fprintf(stderr, "parley-bench churn: %s: cannot publish: %s\n", s->name, pl_strerror(rc));
		atomic_fetch_add(&s->errors, 1);
		child_event(s->b, 'E');
	}
}

static void on_error(struct pl_client *c, void *ud, uint32_t req_id, const char *code,
		     const char *message)
{
	struct slot *s = ud;

	/* Requests of ours in flight when we left (a trickled candidate, an
	 * answer) meet "not in a room": expected after a leave. */
	if (atomic_load(&s->leaving))
		return;
	if (atomic_fetch_add(&s->errors, 1) < 2)
		fprintf(stderr, "parley-bench churn: %s: server error %s: %s\n", s->name, code, message);
	child_event(s->b, 'E');
}

static void on_disconnected(struct pl_client *c, void *ud, int err)
{
	struct slot *s = ud;

	atomic_store(&s->lost, 1);
	child_event(s->b, 'E');
}

static void on_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	struct slot *s = ud;

	if (st != PL_CLIENT_MEDIA_CONNECTED) {
		/* After our leave the server closes both peers: expected. */
		if (atomic_load(&s->leaving))
			return;
		fprintf(stderr, "parley-bench churn: %s: %s connection failed\n", s->name,
			pc == PL_CLIENT_PC_PUB ? "pub" : "sub");
		atomic_fetch_add(&s->errors, 1);
		child_event(s->b, 'E');
		return;
	}
	atomic_store(pc == PL_CLIENT_PC_PUB ? &s->pub_up : &s->sub_up, 1);
	if (pc == PL_CLIENT_PC_PUB)
		child_event(s->b, 'M');
}

static void on_chat_ack(struct pl_client *c, void *ud, uint32_t req_id, uint64_t seq, int64_t ts_ms)
{
	struct slot *s = ud;

	atomic_fetch_add(&s->b->k.chats_acked, 1);
	child_event(s->b, 'A');
}

static const struct pl_client_callbacks callbacks = {
	.joined = on_joined, .error = on_error, .disconnected = on_disconnected,
	.media_state = on_media_state, .chat_ack = on_chat_ack,
};

/* ---- one in-process slot ---------------------------------------------------- */

static void slot_start(struct churn *b, struct slot *s, int64_t now)
{
	struct pl_client_config cc = {
		.url = b->o.server, .loop = b->loops[(size_t)s->index % (size_t)b->o.loops],
		.cb = &callbacks, .ud = s,
	};
	char room[128];
	uint64_t what = rnd(b) % 10;
	int rc;

	s->room = (int)(rnd(b) % (uint64_t)b->o.rooms);
	/* Mostly both kinds; sometimes one, so m-line sets vary between rooms. */
	s->audio = what != 9;
	s->video = what != 8;
	s->joined_counted = false;
	atomic_store(&s->joined, 0);
	atomic_store(&s->pub_up, 0);
	atomic_store(&s->sub_up, 0);
	atomic_store(&s->errors, 0);
	atomic_store(&s->lost, 0);
	atomic_store(&s->leaving, 0);
	snprintf(room, sizeof(room), "%s-%d", b->prefix, s->room);
	b->k.starts++;
	if ((rc = pl_client_create(&cc, &s->c)) < 0 || (rc = pl_client_connect(s->c)) < 0 ||
	    (rc = pl_client_join(s->c, room, s->name, NULL, NULL, NULL)) < 0) {
		fprintf(stderr, "parley-bench churn: %s: cannot start: %s\n", s->name, pl_strerror(rc));
		b->k.start_failures++;
		b->k.errors++;
		pl_client_destroy(s->c);
		s->c = NULL;
		s->next_us = now + rnd_us(b, 0.5, 1.0);
		return;
	}
	s->state = SLOT_IN;
	s->started_us = now;
	s->next_us = now + rnd_us(b, b->o.dwell_min_s, b->o.dwell_max_s);
	s->next_chat_us = now + rnd_us(b, 0.2, 1.0);
}

static void count_join(struct churn *b, struct slot *s)
{
	if (!s->joined_counted && atomic_load(&s->joined)) {
		s->joined_counted = true;
		b->k.joins++;
	}
}

/* The end of a cycle: account it and free the client. */
static void slot_finish(struct churn *b, struct slot *s, int64_t now)
{
	struct pl_client_stats st;
	int errors = atomic_load(&s->errors);

	count_join(b, s);

	pl_client_get_stats(s->c, &st, NULL, 0, NULL);
	pl_client_destroy(s->c);
	s->c = NULL;
	s->state = SLOT_IDLE;
	s->next_us = now + rnd_us(b, 0, b->o.pause_max_s);
	b->k.server_errors += (uint64_t)errors;
	b->k.errors += (uint64_t)errors;
	if (atomic_load(&s->lost)) {
		b->k.lost_sockets++;
		b->k.errors++;
	}
	if (!atomic_load(&s->joined)) {
		/* JOIN_TIMEOUT_US without `joined` is a failure, not a race. */
		fprintf(stderr, "parley-bench churn: %s: no `joined` %.1f s after the join\n", s->name,
			(double)(now - s->started_us) / 1e6);
		b->k.join_timeouts++;
		b->k.errors++;
		return;
	}
	b->k.cycles++;
	b->k.pub_cycles += atomic_load(&s->pub_up) != 0;
	b->k.media_cycles += atomic_load(&s->pub_up) && st.packets_received > 0;
}

static void slot_leave(struct churn *b, struct slot *s, int64_t now)
{
	if (rnd(b) & 1) {
		b->k.exits[EXIT_LEAVE]++;
		atomic_store(&s->leaving, 1);
		if (pl_client_leave(s->c) < 0) {
			atomic_fetch_add(&s->errors, 1);
			slot_finish(b, s, now);
			return;
		}
		s->state = SLOT_LEAVING;
		s->next_us = now + rnd_us(b, 0.1, 0.5);
	} else {
		b->k.exits[EXIT_CLOSE]++;
		slot_finish(b, s, now);
	}
}

static void slot_chat(struct churn *b, struct slot *s, int64_t now)
{
	char text[96];

	s->next_chat_us = now + rnd_us(b, 0.3, 1.5);
	if (!atomic_load(&s->joined))
		return;
	snprintf(text, sizeof(text), "churn %s cycle %llu at %.3f s", s->name,
		 (unsigned long long)b->k.starts, (double)(now - b->t0_us) / 1e6);
	if (pl_client_chat_send(s->c, text, NULL, NULL, NULL) == 0)
		b->k.chats_sent++;
}

static void slot_tick(struct churn *b, struct slot *s, int64_t now)
{
	switch (s->state) {
	case SLOT_IDLE:
		if (now >= s->next_us)
			slot_start(b, s, now);
		break;
	case SLOT_IN:
		count_join(b, s);
		if (now >= s->next_us && (s->joined_counted || now - s->started_us >= JOIN_TIMEOUT_US))
			slot_leave(b, s, now);
		else if (now >= s->next_chat_us)
			slot_chat(b, s, now);
		break;
	case SLOT_LEAVING:
		if (now >= s->next_us)
			slot_finish(b, s, now);
		break;
	}
}

/* ---- the child process (process kill) --------------------------------------- */

static void child_drain(struct churn *b)
{
	char buf[4096];
	ssize_t n;

	while (b->child_fd >= 0 && (n = read(b->child_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (buf[i]) {
			case 'J': b->k.child_joins++, b->k.joins++; break;
			case 'M': b->k.child_media++; break;
			case 'A': b->k.child_acks++; break;
			case 'E': b->k.child_errors++, b->k.errors++; break;
			}
		}
	}
}

/* Re-executes this program as `churn --child` with --kill-clients clients
 * whose events come back on a pipe. */
static void child_spawn(struct churn *b, int64_t now)
{
	char n[24], rooms[24], seed[32], kbps[24], size[48], fps[24];
	char *argv[] = { "parley-bench", "churn", "--child", "--server", (char *)b->o.server,
			 "--clients", n, "--rooms", rooms, "--room-prefix", b->prefix, "--seed", seed,
			 "--video-kbps", kbps, "--size", size, "--fps", fps, "--loops", "1", "--quiet",
			 NULL };
	int fds[2];
	pid_t pid;

	snprintf(n, sizeof(n), "%ld", b->o.kill_clients);
	snprintf(rooms, sizeof(rooms), "%ld", b->o.rooms);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)rnd(b));
	snprintf(kbps, sizeof(kbps), "%ld", b->o.video_kbps);
	snprintf(size, sizeof(size), "%ldx%ld", b->o.width, b->o.height);
	snprintf(fps, sizeof(fps), "%ld", b->o.fps);
	b->child_next_us = now + 1000000;
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		dup2(fds[1], STDOUT_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(CHILD_EXE, argv);
		_exit(127);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	b->child = pid;
	b->child_fd = fds[0];
	b->child_until_us = now + rnd_us(b, b->o.kill_min_s, b->o.kill_max_s);
	return;
fail:
	fprintf(stderr, "parley-bench churn: cannot start a child: %s\n", strerror(errno));
	b->k.errors++;
}

static void child_kill(struct churn *b, int64_t now)
{
	int status = 0;

	kill(b->child, SIGKILL);
	while (waitpid(b->child, &status, 0) < 0 && errno == EINTR)
		;
	child_drain(b);
	close(b->child_fd);
	b->child_fd = -1;
	b->child = 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		b->k.kills++;
		b->k.exits[EXIT_KILL] += (uint64_t)b->o.kill_clients;
	} else {
		/* It died on its own before the kill: that is a failure. */
		fprintf(stderr, "parley-bench churn: child exited early (status 0x%x)\n", (unsigned)status);
		b->k.errors++;
	}
	b->child_next_us = now + rnd_us(b, 0, b->o.pause_max_s);
}

static void child_tick(struct churn *b, int64_t now)
{
	if (b->o.kill_clients <= 0)
		return;
	if (b->child) {
		child_drain(b);
		if (now >= b->child_until_us)
			child_kill(b, now);
	} else if (now >= b->child_next_us) {
		child_spawn(b, now);
	}
}

/* ---- the run ------------------------------------------------------------------ */

static void sleep_until(int64_t t_us)
{
	int64_t now;

	while (!stop_flag && (now = pl_clock_mono_us()) < t_us) {
		struct timespec ts = { .tv_sec = (t_us - now) / 1000000,
				       .tv_nsec = (long)((t_us - now) % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

static size_t count_in(const struct churn *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->slots[i].state != SLOT_IDLE;
	return n;
}

static void progress(struct churn *b, int64_t now)
{
	if (b->o.quiet)
		return;
	fprintf(stderr, "  [%6.1f s] in rooms %3zu/%zu  cycles %6llu  joins %6llu  kills %4llu  chats %6llu  errors %llu\n",
		(double)(now - b->t0_us) / 1e6, count_in(b), b->n, (unsigned long long)b->k.cycles,
		(unsigned long long)b->k.joins, (unsigned long long)b->k.kills,
		(unsigned long long)atomic_load(&b->k.chats_acked), (unsigned long long)b->k.errors);
}

static void run(struct churn *b)
{
	int64_t now = pl_clock_mono_us(), end, next_progress;

	b->t0_us = now;
	end = now + (int64_t)(b->o.duration_s * 1e6);
	next_progress = now + 10000000;
	b->child_next_us = now + 500000;
	/* Spread the first joins over the first second. */
	for (size_t i = 0; i < b->n; i++)
		b->slots[i].next_us = now + rnd_us(b, 0, 1.0);
	for (int64_t t = now; !stop_flag && (now = pl_clock_mono_us()) < end; t += TICK_US) {
		for (size_t i = 0; i < b->n; i++)
			slot_tick(b, &b->slots[i], now);
		child_tick(b, now);
		if (now >= next_progress) {
			progress(b, now);
			next_progress += 10000000;
		}
		if (t + TICK_US < now)
			t = now; /* fell behind (a slow destroy): no burst of catch-up ticks */
		sleep_until(t + TICK_US);
	}
}

/* The child: its clients join once, publish, chat, and wait for the kill. */
static void run_child(struct churn *b)
{
	int64_t now = pl_clock_mono_us();

	b->t0_us = now;
	for (size_t i = 0; i < b->n; i++)
		slot_start(b, &b->slots[i], now);
	while (!stop_flag) {
		now = pl_clock_mono_us();
		for (size_t i = 0; i < b->n; i++)
			if (b->slots[i].state == SLOT_IN && now >= b->slots[i].next_chat_us)
				slot_chat(b, &b->slots[i], now);
		if (getppid() == 1)
			break;
		sleep_until(now + 100000);
	}
}

/* Whatever is still running at the end: counted as joins, not as cycles. */
static void finish(struct churn *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct slot *s = &b->slots[i];

		if (!s->c)
			continue;
		count_join(b, s);
		b->k.errors += (uint64_t)atomic_load(&s->errors);
		b->k.server_errors += (uint64_t)atomic_load(&s->errors);
		if (atomic_load(&s->lost))
			b->k.lost_sockets++, b->k.errors++;
		pl_client_destroy(s->c);
		s->c = NULL;
	}
	if (b->child)
		child_kill(b, pl_clock_mono_us());
}

/* ---- report ------------------------------------------------------------------- */

static bool run_ok(const struct churn *b)
{
	return !stop_flag && b->k.errors == 0 && b->k.cycles > 0 && b->k.exits[EXIT_LEAVE] > 0 &&
	       b->k.exits[EXIT_CLOSE] > 0 && (b->o.kill_clients == 0 || b->k.kills > 0);
}

static int report(struct churn *b, double elapsed_s)
{
	const struct counters *k = &b->k;
	uint64_t acked = atomic_load(&b->k.chats_acked);
	double vk = 0, ak = 0;
	json_t *j;
	char *text;

	pl_client_clip_bitrates(b->clips[0], &vk, &ak);
	printf("parley-bench churn: %s, %ld clients (%ld in killed children) over %ld rooms, %.1f s, seed %llu\n",
	       b->o.server, b->o.clients, b->o.kill_clients, b->o.rooms, elapsed_s, b->o.seed);
	printf("  %-12s %ldx%ld@%ld VP8 %.0f kbit/s + Opus %.0f kbit/s (pre-encoded)\n", "media", b->o.width,
	       b->o.height, b->o.fps, vk, ak);
	printf("  %-12s %llu cycles (%llu with pub up, %llu with media received)\n", "cycles",
	       (unsigned long long)k->cycles, (unsigned long long)k->pub_cycles, (unsigned long long)k->media_cycles);
	printf("  %-12s %llu (%llu by children)\n", "joins", (unsigned long long)k->joins,
	       (unsigned long long)k->child_joins);
	printf("  %-12s leave %llu, close %llu, kill %llu (%llu children SIGKILLed)\n", "exits",
	       (unsigned long long)k->exits[EXIT_LEAVE], (unsigned long long)k->exits[EXIT_CLOSE],
	       (unsigned long long)k->exits[EXIT_KILL], (unsigned long long)k->kills);
	printf("  %-12s %llu sent, %llu acked (+%llu by children)\n", "chat", (unsigned long long)k->chats_sent,
	       (unsigned long long)acked, (unsigned long long)k->child_acks);
	printf("  %-12s %llu (server %llu, lost sockets %llu, no join %llu, start %llu, children %llu)\n",
	       "errors", (unsigned long long)k->errors, (unsigned long long)k->server_errors,
	       (unsigned long long)k->lost_sockets, (unsigned long long)k->join_timeouts,
	       (unsigned long long)k->start_failures, (unsigned long long)k->child_errors);
	j = json_pack("{s:s, s:b, s:s, s:i, s:i, s:i, s:I, s:f, s:I, s:I, s:I, s:I, s:I,"
		      " s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I}",
		      "bench", "churn", "ok", run_ok(b), "url", b->o.server, "clients", (int)b->o.clients,
		      "rooms", (int)b->o.rooms, "kill_clients", (int)b->o.kill_clients,
		      "seed", (json_int_t)b->o.seed, "duration_s", pl_bench_round3(elapsed_s),
		      "cycles", (json_int_t)k->cycles, "pub_cycles", (json_int_t)k->pub_cycles,
		      "media_cycles", (json_int_t)k->media_cycles, "joins", (json_int_t)k->joins,
		      "child_joins", (json_int_t)k->child_joins,
		      "exits", exit_names[EXIT_LEAVE], (json_int_t)k->exits[EXIT_LEAVE],
		      exit_names[EXIT_CLOSE], (json_int_t)k->exits[EXIT_CLOSE],
		      exit_names[EXIT_KILL], (json_int_t)k->exits[EXIT_KILL],
		      "kills", (json_int_t)k->kills, "chats_sent", (json_int_t)k->chats_sent,
		      "chats_acked", (json_int_t)(acked + k->child_acks), "errors", (json_int_t)k->errors);
	json_object_set_new(j, "error_kinds", json_pack("{s:I, s:I, s:I, s:I, s:I}",
		"server", (json_int_t)k->server_errors, "lost_sockets", (json_int_t)k->lost_sockets,
		"join_timeouts", (json_int_t)k->join_timeouts, "start_failures", (json_int_t)k->start_failures,
		"children", (json_int_t)k->child_errors));
	if (b->o.json_path && json_dump_file(j, b->o.json_path, PL_BENCH_JSON_FLAGS) < 0)
		fprintf(stderr, "parley-bench churn: cannot write %s\n", b->o.json_path);
	if ((text = json_dumps(j, PL_BENCH_JSON_FLAGS))) {
		printf("%s\n", text);
		free(text);
	}
	json_decref(j);
	if (!run_ok(b))
		printf("  FAILED%s\n", stop_flag ? ": interrupted" : "");
	return run_ok(b) ? 0 : 1;
}

/* ---- set-up ------------------------------------------------------------------- */

static int setup(struct churn *b)
{
	struct pl_client_clip_config cc = {
		.width = (unsigned)b->o.width, .height = (unsigned)b->o.height, .fps = (unsigned)b->o.fps,
		.video_kbps = (unsigned)b->o.video_kbps, .audio_kbps = 24, .seconds = 2,
	};
	int rc;

	b->rng = b->o.seed;
	b->child_fd = -1;
	if (b->o.child)
		snprintf(b->prefix, sizeof(b->prefix), "%s", b->o.room_prefix);
	else
		snprintf(b->prefix, sizeof(b->prefix), "%s-%06llx", b->o.room_prefix,
			 (unsigned long long)(rnd(b) & 0xffffff));
	for (int i = 0; i < 3; i++) {
		cc.no_video = i == 1;
		cc.no_audio = i == 2;
		if ((rc = pl_client_clip_create(&cc, &b->clips[i])) < 0)
			return rc;
	}
	b->n = (size_t)(b->o.child ? b->o.clients : b->o.clients - b->o.kill_clients);
	b->slots = calloc(b->n, sizeof(*b->slots));
	b->loops = calloc((size_t)b->o.loops, sizeof(*b->loops));
	if (!b->slots || !b->loops)
		return PL_ENOMEM;
	pl_bench_raise_fd_limit(b->n * 8 + 64);
	for (long i = 0; i < b->o.loops; i++)
		if ((rc = pl_client_loop_create(&(struct pl_client_loop_config){ 0 }, &b->loops[i])) < 0)
			return rc;
	for (size_t i = 0; i < b->n; i++) {
		b->slots[i].b = b;
		b->slots[i].index = (int)i;
		snprintf(b->slots[i].name, sizeof(b->slots[i].name), "%s-%zu", b->o.child ? "kid" : "churn", i);
	}
	return 0;
}

static void teardown(struct churn *b)
{
	for (long i = 0; b->loops && i < b->o.loops; i++)
		pl_client_loop_destroy(b->loops[i]); /* and any client left */
	free(b->loops);
	free(b->slots);
	for (int i = 0; i < 3; i++)
		pl_client_clip_destroy(b->clips[i]);
	if (b->child_fd >= 0)
		close(b->child_fd);
}

int pl_bench_churn_main(int argc, char **argv)
{
	static struct churn bench;
	struct churn *b = &bench;
	int64_t t0;
	int rc;

	if ((rc = pl_bench_churn_opts_parse(argc, argv, &b->o)) >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pl_log_configure("warn", NULL);
	if ((rc = setup(b)) < 0) {
		fprintf(stderr, "parley-bench churn: cannot set up: %s\n", pl_strerror(rc));
		teardown(b);
		return 1;
	}
	if (b->o.child) {
		run_child(b);
		teardown(b);
		return 0;
	}
	if (!b->o.quiet)
		fprintf(stderr, "parley-bench churn: %ld clients, %ld rooms (%s-*), %.0f s, seed %llu\n",
			b->o.clients, b->o.rooms, b->prefix, b->o.duration_s, b->o.seed);
	t0 = pl_clock_mono_us();
	run(b);
	finish(b);
	rc = report(b, (double)(pl_clock_mono_us() - t0) / 1e6);
	teardown(b);
	return rc;
}
