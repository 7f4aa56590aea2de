/* client/call/call.c: parley-call, the softphone CLI.
 *
 * One libparley-client participant driven from the command line: it joins
 * a room, sends a tone or WAV/Ogg audio and the test pattern or Y4M/IVF
 * video (call_src.c), records every remote track to WAV/IVF (call_rec.c),
 * relays chat between stdin and stdout, shows a one-line status on stderr
 * every second and a summary at the end.  The exit status says whether the
 * call worked: 0 when it joined, its own media connected, and media
 * arrived from every track the others published (tracks announced in the
 * last 3 s of the call or gone within 3 s are not required); 1 when the
 * call did not work; 2 for bad usage or input; 3 when the server could not
 * be reached or refused the join.
 *
 * Threads: the main thread paces and encodes the media and reads stdin
 * (poll); the client library's loop thread runs the callbacks, which
 * record frames and print chat.  They share `struct app` under its mutex.
 * SIGINT/SIGTERM end the call cleanly: leave, close, finish the files.
 */
#include "client/call/call.h"
#include "codecs/opus.h"
#include "common/err.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOIN_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define GRACE_US (3 * G_USEC_PER_SEC)
#define LINE_MAX_BYTES 4000

enum { EXIT_CALL_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct opts {
	const char *server, *room, *name, *token, *user, *audio, *video, *record;
	double duration;
	struct call_video_opts v;
	int audio_kbps, idle_timeout;
	bool tls_insecure, no_reconnect, quiet, record_ogg;
	const char *analyze_wav, *analyze_ivf;
	double expect_hz, tolerance;
	int min_frames, max_restarts;
	bool expect_pattern;
};

struct app {
	struct opts o;
	struct pl_client *c;
	struct call_rec *rec;
	GMutex mu;
	/* Under mu (written by callbacks). */
	int joins;
	bool pub_up, sub_up, reconnecting;
	bool fatal, leaving;
	int fatal_exit;
	char why[512];
	char last_error[256];           /* the server's latest error message */
	GHashTable *present;            /* participant ids in the room but us */
	/* Our participant ids, this one and the earlier ones: after a network
	 * drop the server keeps our old self until it times it out, and its
	 * tracks carry nothing. */
	GHashTable *mine;
	uint64_t chats_in, chats_acked;
	volatile gint want_key;
	/* Main thread only. */
	GQueue outbox;                  /* chat lines not yet accepted */
	uint64_t chats_out;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void fail_locked(struct app *a, int status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void fail_locked(struct app *a, int status, const char *fmt, ...)
{
	va_list ap;

	if (a->fatal)
		return;
	a->fatal = true;
	a->fatal_exit = status;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

/* ---- callbacks (the client's loop thread) ---------------------------------- */

static void cb_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n, uint64_t last_seq)
{
	struct app *a = ud;

	for (size_t i = 0; i < n; i++)
		call_rec_participant(a->rec, others[i].id, others[i].display);
	g_mutex_lock(&a->mu);
	a->joins++;
	g_hash_table_add(a->mine, g_strdup(you->id));
	g_hash_table_remove_all(a->present);
	for (size_t i = 0; i < n; i++)
		if (others[i].id && !g_hash_table_contains(a->mine, others[i].id))
			g_hash_table_add(a->present, g_strdup(others[i].id));
	g_mutex_unlock(&a->mu);
	fprintf(stderr, "parley-call: joined %s as %s (%s), %zu other(s) here\n", room, you->display,
		you->id, n);
}

static void cb_participant(struct pl_client *c, void *ud, enum pl_client_change ev,
			   const struct pl_client_participant *p)
{
	struct app *a = ud;

	if (ev != PL_CLIENT_REMOVED)
		call_rec_participant(a->rec, p->id, p->display);
	g_mutex_lock(&a->mu);
	if (g_hash_table_contains(a->mine, p->id)) {
		g_mutex_unlock(&a->mu);
		return; /* our old self */
	}
	if (ev == PL_CLIENT_ADDED)
		g_hash_table_add(a->present, g_strdup(p->id));
	else if (ev == PL_CLIENT_REMOVED)
		g_hash_table_remove(a->present, p->id);
	g_mutex_unlock(&a->mu);
	if (ev != PL_CLIENT_UPDATED)
		fprintf(stderr, "parley-call: %s (%s) %s\n", p->display ? p->display : "?", p->id,
			ev == PL_CLIENT_ADDED ? "joined" : "left");
}

static void cb_track(struct pl_client *c, void *ud, enum pl_client_change ev,
		     const struct pl_client_track *t)
{
	struct app *a = ud;
	bool mine;

	g_mutex_lock(&a->mu);
	mine = g_hash_table_contains(a->mine, t->participant);
	g_mutex_unlock(&a->mu);
	if (!mine)
		call_rec_track(a->rec, ev, t);
}

static void cb_chat(struct pl_client *c, void *ud, const struct pl_client_chat_msg *m)
{
	struct app *a = ud;
	const char *me = pl_client_id(c);
	char *text;

	if (me && m->from_id && strcmp(m->from_id, me) == 0)
		return; /* our own, echoed */
	/* One message, one line. */
	text = g_strdup(m->text);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%s: %s\n", m->from_display ? m->from_display : m->from_id ? m->from_id : "?", text);
	fflush(stdout);
	g_free(text);
	g_mutex_lock(&a->mu);
	a->chats_in++;
	g_mutex_unlock(&a->mu);
}

static void cb_ack(struct pl_client *c, void *ud, uint32_t req, uint64_t seq, int64_t ts)
{
	struct app *a = ud;

	g_mutex_lock(&a->mu);
	a->chats_acked++;
	g_mutex_unlock(&a->mu);
}

static void cb_error(struct pl_client *c, void *ud, uint32_t req, const char *code, const char *msg)
{
	struct app *a = ud;

	g_mutex_lock(&a->mu);
	snprintf(a->last_error, sizeof(a->last_error), "%s: %s", code, msg);
	if (a->joins == 0 && (strcmp(code, "unauthorized") == 0 || strcmp(code, "room_full") == 0 ||
			      strcmp(code, "bad_request") == 0 || strcmp(code, "forbidden") == 0))
		fail_locked(a, EXIT_UNREACHABLE, "the server refused the join: %s: %s", code, msg);
	g_mutex_unlock(&a->mu);
	fprintf(stderr, "parley-call: server error %s: %s\n", code, msg);
}

static void cb_disconnected(struct pl_client *c, void *ud, int err)
{
	struct app *a = ud;

	g_mutex_lock(&a->mu);
	if (a->joins == 0)
		fail_locked(a, EXIT_UNREACHABLE, "cannot %s %s", err == PL_EIO ? "connect to" : "stay connected to",
			    a->o.server);
	else if (a->o.no_reconnect)
		fail_locked(a, EXIT_CALL_FAILED, "the connection to the server closed");
	g_mutex_unlock(&a->mu);
}

static void cb_reconnect(struct pl_client *c, void *ud, enum pl_client_reconnect ev, unsigned attempt,
			 unsigned delay_ms)
{
	struct app *a = ud;

	g_mutex_lock(&a->mu);
	a->reconnecting = ev == PL_CLIENT_RECONNECTING;
	if (a->reconnecting)
		g_hash_table_remove_all(a->present); /* unknown until joined again */
	if (ev == PL_CLIENT_RECONNECT_FAILED)
		fail_locked(a, EXIT_CALL_FAILED, "the server will not take us back (%s)",
			    a->last_error[0] ? a->last_error : "refused");
	g_mutex_unlock(&a->mu);
	if (ev == PL_CLIENT_RECONNECTING)
		fprintf(stderr, "parley-call: connection lost, reconnecting (attempt %u in %u ms)\n",
			attempt, delay_ms);
	else if (ev == PL_CLIENT_RECONNECTED)
		fprintf(stderr, "parley-call: reconnected\n");
}

static void cb_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	struct app *a = ud;

	bool leaving;

	g_mutex_lock(&a->mu);
	if (st == PL_CLIENT_MEDIA_CONNECTED)
		*(pc == PL_CLIENT_PC_PUB ? &a->pub_up : &a->sub_up) = true;
	leaving = a->leaving;
	g_mutex_unlock(&a->mu);
	if (leaving)
		return; /* the server closes our connections as we leave */
	if (st == PL_CLIENT_MEDIA_CONNECTED && pc == PL_CLIENT_PC_PUB)
		g_atomic_int_set(&a->want_key, 1); /* a new connection starts with a keyframe */
	if (!a->o.quiet || st != PL_CLIENT_MEDIA_CONNECTED)
		fprintf(stderr, "parley-call: %s media %s%s%s\n", pc == PL_CLIENT_PC_PUB ? "send" : "receive",
			st == PL_CLIENT_MEDIA_CONNECTED ? "connected" : "failed", srtp ? ", " : "",
			srtp ? srtp : "");
}

static void cb_keyframe(struct pl_client *c, void *ud)
{
	g_atomic_int_set(&((struct app *)ud)->want_key, 1);
}

static void cb_frame(struct pl_client *c, void *ud, const struct pl_client_frame *f)
{
	call_rec_frame(((struct app *)ud)->rec, f);
}

static const struct pl_client_callbacks callbacks = {
	.disconnected = cb_disconnected, .joined = cb_joined, .participant = cb_participant,
	.track = cb_track, .chat = cb_chat, .chat_ack = cb_ack, .error = cb_error,
	.media_state = cb_media_state, .keyframe_request = cb_keyframe, .frame = cb_frame,
	.reconnect = cb_reconnect,
};

/* ---- chat from stdin (main thread) ----------------------------------------- */

struct stdin_buf {
	char buf[LINE_MAX_BYTES + 1];
	size_t len;
	bool eof;
};

static void outbox_flush(struct app *a)
{
	char *line;

	while ((line = g_queue_peek_head(&a->outbox)) != NULL) {
		int rc = pl_client_chat_send(a->c, line, NULL, NULL, NULL);

		if (rc == PL_ECLOSED || rc == PL_EBUSY)
			return; /* reconnecting: try again later */
		if (rc < 0)
			fprintf(stderr, "parley-call: chat not sent: %s\n", pl_strerror(rc));
		else
			a->chats_out++;
		g_free(g_queue_pop_head(&a->outbox));
	}
}

static void queue_line(struct app *a, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == 0)
		return;
	if (!g_utf8_validate(line, (gssize)len, NULL)) {
		fprintf(stderr, "parley-call: a chat line that is not UTF-8 was not sent\n");
		return;
	}
	g_queue_push_tail(&a->outbox, g_strndup(line, len));
}

static void read_stdin(struct app *a, struct stdin_buf *in)
{
	ssize_t n = read(STDIN_FILENO, in->buf + in->len, LINE_MAX_BYTES - in->len);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (in->len)
			queue_line(a, in->buf, in->len);
		in->len = 0;
		in->eof = true;
		return;
	}
	in->len += (size_t)n;
	in->buf[in->len] = '\0';
	while ((nl = memchr(in->buf, '\n', in->len)) != NULL) {
		size_t k = (size_t)(nl - in->buf) + 1;

		queue_line(a, in->buf, k);
		memmove(in->buf, in->buf + k, in->len - k);
		in->len -= k;
	}
	if (in->len == LINE_MAX_BYTES) { /* an endless line: send what we have */
		queue_line(a, in->buf, in->len);
		in->len = 0;
	}
}

/* ---- status ------------------------------------------------------------------ */

struct status_prev {
	int64_t us;
	uint64_t sent, recv, expected, lost;
};

static void status_line(struct app *a, struct status_prev *p, int64_t now, int64_t start)
{
	struct pl_client_stats st;
	double dt = (double)(now - p->us) / 1e6, loss = 0;
	uint64_t expected, lost;
	guint others;
	bool reconnecting;

	pl_client_get_stats(a->c, &st, NULL, 0, NULL);
	expected = st.expected - MIN(st.expected, p->expected);
	lost = st.lost - MIN(st.lost, p->lost);
	if (expected > 0)
		loss = 100.0 * (double)lost / (double)expected;
	g_mutex_lock(&a->mu);
	others = g_hash_table_size(a->present);
	reconnecting = a->reconnecting;
	g_mutex_unlock(&a->mu);
	if (p->us && dt > 0 && !a->o.quiet)
		fprintf(stderr, "[%6.1fs] %u in room | send %.0f kbit/s | recv %.0f kbit/s | loss %.1f%% | "
			"rtt %u ms%s\n", (double)(now - start) / 1e6, others + 1,
			(double)(st.bytes_sent - p->sent) * 8 / 1000 / dt,
			(double)(st.bytes_received - p->recv) * 8 / 1000 / dt, loss, st.rtt_ms,
			reconnecting ? " | reconnecting" : "");
	p->us = now;
	p->sent = st.bytes_sent;
	p->recv = st.bytes_received;
	p->expected = st.expected;
	p->lost = st.lost;
}

/* ---- the call ---------------------------------------------------------------- */

static int64_t now_us(void)
{
	return g_get_monotonic_time();
}

static int run_call(struct app *a, struct call_asrc *as, struct call_vsrc *vs)
{
	struct stdin_buf in = { .len = 0 };
	struct status_prev prev = { 0 };
	int64_t start = now_us(), end = a->o.duration > 0 ? start + (int64_t)(a->o.duration * 1e6) : 0;
	int64_t next_audio = start, next_video = start, next_status = start + G_USEC_PER_SEC;
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
	bool joined = false;

	status_line(a, &prev, start, start);
	while (!stop_signal) {
		int64_t now = now_us(), wake;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		bool fatal, reconnecting;
		int joins;

		g_mutex_lock(&a->mu);
		fatal = a->fatal;
		joins = a->joins;
		reconnecting = a->reconnecting;
		if (!joins && now - start > JOIN_TIMEOUT_US)
			fail_locked(a, EXIT_UNREACHABLE, "not joined after %d s", (int)(JOIN_TIMEOUT_US / 1000000));
		g_mutex_unlock(&a->mu);
		if (fatal || (end && now >= end))
			break;
		joined = joins > 0 && !reconnecting;
		if (joined)
			outbox_flush(a);
		if (as && now >= next_audio) {
			size_t len;
			uint32_t samples = PL_OPUS_FRAME_SAMPLES;

			if (call_asrc_next(as, pkt, sizeof(pkt), &len, &samples) == 0 && len > 0)
				pl_client_send_opus(a->c, pkt, len, samples); /* PL_EBUSY: not up, dropped */
			next_audio += (int64_t)samples * 1000000 / PL_OPUS_RATE_HZ;
			if (now - next_audio > 200000)
				next_audio = now; /* we fell behind (a stall): do not burst */
			continue;
		}
		if (vs && now >= next_video) {
			const uint8_t *data;
			size_t len;
			bool key;
			int64_t period = 33333;

			if (call_vsrc_next(vs, g_atomic_int_compare_and_exchange(&a->want_key, 1, 0), &data,
					   &len, &key, &period) == 0 && len > 0)
				pl_client_send_vp8(a->c, data, len, key, 0);
			next_video += period;
			if (now - next_video > 200000)
				next_video = now;
			continue;
		}
		if (now >= next_status) {
			status_line(a, &prev, now, start);
			next_status += G_USEC_PER_SEC;
			continue;
		}
		wake = next_status;
		if (as)
			wake = MIN(wake, next_audio);
		if (vs)
			wake = MIN(wake, next_video);
		if (end)
			wake = MIN(wake, end);
		poll(&pfd, in.eof ? 0 : 1, (int)MAX(0, (wake - now + 999) / 1000));
		if (!in.eof && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			read_stdin(a, &in);
	}
	/* What is still typed but unsent goes if it can. */
	if (joined)
		outbox_flush(a);
	return (int)(now_us() - start);
}

/* ---- summary and verdict ----------------------------------------------------- */

static int verdict(struct app *a, int64_t end_us, bool publishing)
{
	struct pl_client_stats st;
	struct call_track *tracks;
	size_t n = call_rec_tracks(a->rec, &tracks), missing = 0;
	int status = 0;

	pl_client_get_stats(a->c, &st, NULL, 0, NULL);
	fprintf(stderr, "parley-call summary:\n");
	fprintf(stderr, "  sent: %llu audio packets, %llu video packets, %llu frames, %.1f kB; "
		"%llu NACKs answered with %llu retransmissions, %llu keyframe requests\n",
		(unsigned long long)st.audio_packets_sent, (unsigned long long)st.video_packets_sent,
		(unsigned long long)st.frames_sent, (double)st.bytes_sent / 1000,
		(unsigned long long)st.nacks_received, (unsigned long long)st.retransmits,
		(unsigned long long)st.plis_received);
	fprintf(stderr, "  received: %llu packets, %.1f kB, loss %.2f%% after repair (%llu of %llu), "
		"%llu repaired by RTX, rtt %u ms, %u reconnection(s)\n",
		(unsigned long long)st.packets_received, (double)st.bytes_received / 1000,
		st.expected ? 100.0 * (double)st.lost / (double)st.expected : 0.0,
		(unsigned long long)st.lost, (unsigned long long)st.expected,
		(unsigned long long)st.rtx_received, st.rtt_ms, st.reconnects);
	g_mutex_lock(&a->mu);
	fprintf(stderr, "  chat: %llu sent, %llu acknowledged, %llu received\n",
		(unsigned long long)a->chats_out, (unsigned long long)a->chats_acked,
		(unsigned long long)a->chats_in);
	for (size_t i = 0; i < n; i++) {
		struct call_track *t = &tracks[i];
		bool late = end_us - t->added_us < GRACE_US;
		bool brief = t->removed_us && t->removed_us - t->added_us < GRACE_US;

		fprintf(stderr, "  %s (%s) %s %s: %llu frames, %llu decoded, %.1f kB%s%s%s%s%s\n", t->display,
			t->participant, t->video ? "video" : "audio", t->track,
			(unsigned long long)t->frames, (unsigned long long)t->decoded,
			(double)t->bytes / 1000, t->path[0] ? " -> " : "", t->path,
			t->ogg_path[0] ? " + " : "", t->ogg_path,
			t->frames == 0 && (late || brief) ? " (not required: too short)" : "");
		if (t->decoded == 0 && !late && !brief)
			missing++;
	}
	if (a->fatal) {
		status = a->fatal_exit;
	} else if (a->joins == 0) {
		status = EXIT_UNREACHABLE;
		snprintf(a->why, sizeof(a->why), "never joined the room");
	} else if (publishing && !a->pub_up) {
		status = EXIT_CALL_FAILED;
		snprintf(a->why, sizeof(a->why), "our media never connected");
	} else if (n > 0 && !a->sub_up && missing) {
		status = EXIT_CALL_FAILED;
		snprintf(a->why, sizeof(a->why), "the others' media never connected");
	} else if (missing) {
		status = EXIT_CALL_FAILED;
		snprintf(a->why, sizeof(a->why), "no media from %zu of %zu remote track(s)", missing, n);
	}
	g_mutex_unlock(&a->mu);
	g_free(tracks);
	if (status)
		fprintf(stderr, "parley-call: FAILED: %s\n", a->why);
	else
		fprintf(stderr, "parley-call: OK (%zu remote track(s) received)\n", n);
	return status;
}

/* ---- options ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: parley-call --server ws://HOST:PORT/ws --room R --name N [options]\n"
		"       parley-call --analyze-wav FILE [--expect-hz HZ] [--tolerance HZ]\n"
		"       parley-call --analyze-ivf FILE [--min-frames N] [--expect-pattern]\n"
		"                   [--max-restarts N]\n"
		"\n"
		"A Parley softphone: joins room R as N, sends audio and video, records what the\n"
		"others send, relays chat between stdin (a line is a message) and stdout, and\n"
		"prints a status line every second on stderr.  Ends after --duration or on\n"
		"SIGINT/SIGTERM (leaving the room and completing the recordings).\n"
		"\n"
		"  --server URL          ws:// or wss:// signaling URL of parleyd\n"
		"  --room R              the room to join\n"
		"  --name N              our display name\n"
		"  --token T             a join token (rooms that need one)\n"
		"  --user U              our user id (open rooms)\n"
		"  --audio SRC           tone, tone:HZ, a 48 kHz .wav (encoded), a .ogg/.opus\n"
		"                        (sent as is), or none [tone]\n"
		"  --video SRC           pattern (numbered test pattern), a .y4m (encoded), a\n"
		"                        VP8 .ivf (sent as is), or none [pattern]\n"
		"  --video-size WxH      size of the pattern [640x360]\n"
		"  --fps N               frame rate of the pattern [30]\n"
		"  --video-kbps N        VP8 bitrate [800]\n"
		"  --audio-kbps N        Opus bitrate [32]\n"
		"  --record DIR          write each remote track to DIR as\n"
		"                        DISPLAY_ID_TRACK.wav (audio) or .ivf (video)\n"
		"  --record-ogg          also write each audio track as received (no\n"
		"                        decoding) to DISPLAY_ID_TRACK.opus (Ogg Opus)\n"
		"  --duration S          end after S seconds [until SIGINT]\n"
		"  --no-reconnect        do not reconnect when the connection drops\n"
		"  --idle-timeout S      a signaling connection silent for S seconds is\n"
		"                        dead (pinged at S/3) [30]\n"
		"  --tls-insecure        wss: accept any server certificate\n"
		"  --quiet               no status line\n"
		"  --help                this text\n"
		"\n"
		"Exit status: 0 the call worked (joined, media connected, media received from\n"
		"every track the others published); 1 it did not; 2 bad usage or input;\n"
		"3 the server could not be reached or refused the join.\n");
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

enum {
	OPT_SERVER = 256, OPT_ROOM, OPT_NAME, OPT_TOKEN, OPT_USER, OPT_AUDIO, OPT_VIDEO, OPT_SIZE,
	OPT_FPS, OPT_VKBPS, OPT_AKBPS, OPT_RECORD, OPT_DURATION, OPT_NORECONNECT, OPT_INSECURE,
	OPT_QUIET, OPT_HELP, OPT_AWAV, OPT_AIVF, OPT_HZ, OPT_TOL, OPT_MINF, OPT_PATTERN, OPT_OGG,
	OPT_RESTARTS, OPT_IDLE,
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "room", required_argument, NULL, OPT_ROOM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "user", required_argument, NULL, OPT_USER },
		{ "audio", required_argument, NULL, OPT_AUDIO },
		{ "video", required_argument, NULL, OPT_VIDEO },
		{ "video-size", required_argument, NULL, OPT_SIZE },
		{ "fps", required_argument, NULL, OPT_FPS },
		{ "video-kbps", required_argument, NULL, OPT_VKBPS },
		{ "audio-kbps", required_argument, NULL, OPT_AKBPS },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "no-reconnect", no_argument, NULL, OPT_NORECONNECT },
		{ "tls-insecure", no_argument, NULL, OPT_INSECURE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "analyze-wav", required_argument, NULL, OPT_AWAV },
		{ "analyze-ivf", required_argument, NULL, OPT_AIVF },
		{ "expect-hz", required_argument, NULL, OPT_HZ },
		{ "tolerance", required_argument, NULL, OPT_TOL },
		{ "min-frames", required_argument, NULL, OPT_MINF },
		{ "expect-pattern", no_argument, NULL, OPT_PATTERN },
		{ "record-ogg", no_argument, NULL, OPT_OGG },
		{ "max-restarts", required_argument, NULL, OPT_RESTARTS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ NULL, 0, NULL, 0 },
	};
	int ch, w, h;
	bool ok = true;

	*o = (struct opts){ .audio = "tone", .video = "pattern", .v = { 640, 360, 30, 800 },
			    .audio_kbps = 32, .tolerance = 5, .min_frames = 1 };
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case OPT_SERVER: o->server = optarg; break;
		case OPT_ROOM: o->room = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_TOKEN: o->token = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_AUDIO: o->audio = optarg; break;
		case OPT_VIDEO: o->video = optarg; break;
		case OPT_SIZE:
			ok = sscanf(optarg, "%dx%d", &w, &h) == 2 && w >= 64 && h >= 64 && w <= 4096 &&
			     h <= 4096 && w % 2 == 0 && h % 2 == 0;
			if (ok)
				o->v.width = w, o->v.height = h;
			else
				fprintf(stderr, "parley-call: --video-size wants WxH, even, 64..4096\n");
			break;
		case OPT_FPS: ok = parse_int(optarg, 1, 120, &o->v.fps); break;
		case OPT_VKBPS: ok = parse_int(optarg, 50, 20000, &o->v.kbps); break;
		case OPT_AKBPS: ok = parse_int(optarg, 6, 510, &o->audio_kbps); break;
		case OPT_RECORD: o->record = optarg; break;
		case OPT_DURATION: ok = parse_double(optarg, 0.1, 1e7, &o->duration); break;
		case OPT_NORECONNECT: o->no_reconnect = true; break;
		case OPT_INSECURE: o->tls_insecure = true; break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_HELP: usage(stdout); exit(0);
		case OPT_AWAV: o->analyze_wav = optarg; break;
		case OPT_AIVF: o->analyze_ivf = optarg; break;
		case OPT_HZ: ok = parse_double(optarg, 1, 24000, &o->expect_hz); break;
		case OPT_TOL: ok = parse_double(optarg, 0, 24000, &o->tolerance); break;
		case OPT_MINF: ok = parse_int(optarg, 0, 1000000000, &o->min_frames); break;
		case OPT_PATTERN: o->expect_pattern = true; break;
		case OPT_OGG: o->record_ogg = true; break;
		case OPT_IDLE: ok = parse_int(optarg, 2, 3600, &o->idle_timeout); break;
		case OPT_RESTARTS: ok = parse_int(optarg, 0, 1000000, &o->max_restarts); break;
		default: ok = false; break;
		}
		if (!ok) {
			if (ch != '?')
				fprintf(stderr, "parley-call: bad value for --%s: %s\n", longs[ch - OPT_SERVER].name,
					optarg ? optarg : "");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "parley-call: unexpected argument %s (see --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->analyze_wav || o->analyze_ivf)
		return 0;
	if (!o->server || !o->room || !o->name) {
		fprintf(stderr, "parley-call: --server, --room and --name are required (see --help)\n");
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct app a = { .want_key = 1 };
	struct pl_client_config cfg = { .cb = &callbacks, .ud = &a };
	struct call_asrc *as = NULL;
	struct call_vsrc *vs = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512] = "";
	int rc, status;

	if ((rc = parse_args(argc, argv, &a.o)) != 0)
		return rc;
	if (a.o.analyze_wav)
		return call_analyze_wav(a.o.analyze_wav, a.o.expect_hz, a.o.tolerance);
	if (a.o.analyze_ivf)
		return call_analyze_ivf(a.o.analyze_ivf, a.o.min_frames, a.o.expect_pattern,
					a.o.max_restarts);
	if ((strcmp(a.o.audio, "none") != 0 &&
	     call_asrc_open(a.o.audio, a.o.audio_kbps, &as, err, sizeof(err)) < 0) ||
	    (strcmp(a.o.video, "none") != 0 && call_vsrc_open(a.o.video, &a.o.v, &vs, err, sizeof(err)) < 0) ||
	    !(a.rec = call_rec_new(a.o.record, a.o.record_ogg, err, sizeof(err)))) {
		fprintf(stderr, "parley-call: %s\n", err);
		call_asrc_close(as);
		call_vsrc_close(vs);
		return EXIT_USAGE;
	}
	g_mutex_init(&a.mu);
	g_queue_init(&a.outbox);
	a.present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a.mine = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	cfg.url = a.o.server;
	cfg.tls_insecure = a.o.tls_insecure;
	cfg.no_reconnect = a.o.no_reconnect;
	cfg.idle_timeout_s = (unsigned)a.o.idle_timeout;
	if ((rc = pl_client_create(&cfg, &a.c)) < 0) {
		fprintf(stderr, "parley-call: --server %s: %s\n", a.o.server,
			rc == PL_EINVAL ? "not a ws:// or wss:// URL" : pl_strerror(rc));
		status = EXIT_USAGE;
		goto out;
	}
	if ((rc = pl_client_connect(a.c)) < 0 ||
	    (rc = pl_client_join(a.c, a.o.room, a.o.name, a.o.token, a.o.user, NULL)) < 0 ||
	    ((as || vs) && (rc = pl_client_publish(a.c, as != NULL, vs != NULL)) < 0)) {
		g_mutex_lock(&a.mu);
		fprintf(stderr, "parley-call: FAILED: %s\n", a.fatal ? a.why : pl_strerror(rc));
		g_mutex_unlock(&a.mu);
		status = EXIT_UNREACHABLE;
		goto out;
	}
	run_call(&a, as, vs);
	if (stop_signal)
		fprintf(stderr, "parley-call: %s, leaving\n", strsignal(stop_signal));
	/* Leave while the socket is up, and give the message a moment to go. */
	g_mutex_lock(&a.mu);
	a.leaving = true;
	g_mutex_unlock(&a.mu);
	if (pl_client_leave(a.c) == 0)
		g_usleep(200000);
	status = verdict(&a, now_us(), as || vs);
out:
	pl_client_destroy(a.c);
	call_rec_free(a.rec); /* finishes the files */
	call_asrc_close(as);
	call_vsrc_close(vs);
	g_queue_clear_full(&a.outbox, g_free);
	g_hash_table_destroy(a.present);
	g_hash_table_destroy(a.mine);
	g_mutex_clear(&a.mu);
	return status;
}
