/* client/call/test_reconnect.c: libparley-client survives a parleyd
 * restart.
 *
 * Needs $PARLEYD (skipped otherwise).  parleyd runs on a fixed loopback
 * port; two clients join a room, publish a live-encoded numbered test
 * pattern (VP8) and a tone (Opus) from their own sender threads, and
 * decode what they receive.  parleyd is then SIGKILLed: both clients must
 * report RECONNECTING, their sends must be refused (PL_EBUSY) rather than
 * queued, and once a new parleyd listens on the same port both must
 * report RECONNECTED (a new participant id) and again decode the other's
 * pattern with frame numbers above those seen before the restart.  Last,
 * a client that left is not reconnected when the server goes away again.
 */
#include "client/client.h"
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/vpx.h"
#include "common/err.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define W 320
#define H 240

struct side {
	const char *name;
	GMutex mu;
	struct pl_client *c;
	/* Receiving (loop thread). */
	struct pl_vpx_dec *vdec;
	struct pl_opus_dec *adec;
	int pattern_frames, audio_frames;
	uint32_t last_no;
	bool decreasing;               /* a number went down within one phase */
	int joins, reconnecting, reconnected;
	char id[64];
	/* Sending (its own thread). */
	GThread *thread;
	volatile bool stop;
	volatile bool want_key;
	uint32_t next_no;
	int sent, busy;
};

static void cb_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n, uint64_t last_seq)
{
	struct side *s = ud;

	g_mutex_lock(&s->mu);
	s->joins++;
	g_strlcpy(s->id, you->id, sizeof(s->id));
	g_mutex_unlock(&s->mu);
}

static void cb_reconnect(struct pl_client *c, void *ud, enum pl_client_reconnect ev,
			 unsigned attempt, unsigned delay_ms)
{
	struct side *s = ud;

	g_mutex_lock(&s->mu);
	if (ev == PL_CLIENT_RECONNECTING)
		s->reconnecting++;
	else if (ev == PL_CLIENT_RECONNECTED)
		s->reconnected++;
	g_mutex_unlock(&s->mu);
	fprintf(stderr, "%s: reconnect event %d attempt %u delay %u ms\n", s->name, ev, attempt,
		delay_ms);
}

static void cb_keyframe(struct pl_client *c, void *ud)
{
	((struct side *)ud)->want_key = true;
}

static void cb_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	if (pc == PL_CLIENT_PC_PUB && st == PL_CLIENT_MEDIA_CONNECTED)
		((struct side *)ud)->want_key = true;
}

static void cb_frame(struct pl_client *c, void *ud, const struct pl_client_frame *f)
{
	struct side *s = ud;
	int16_t pcm[PL_OPUS_MAX_FRAME_SAMPLES * 2];
	struct pl_i420 img;
	uint64_t sent;
	uint32_t no;
	size_t n;
	bool has;

	g_mutex_lock(&s->mu);
	if (f->kind == PL_CLIENT_VIDEO) {
		if (pl_vpx_dec_decode(s->vdec, f->data, f->len, &img, &has) == 0 && has &&
		    pl_pattern_read(&img, &no, &sent) == 0) {
			if (s->pattern_frames > 0 && no <= s->last_no)
				s->decreasing = true;
			s->pattern_frames++;
			s->last_no = no;
		}
	} else if (pl_opus_dec_decode(s->adec, f->data, f->len, pcm, PL_OPUS_MAX_FRAME_SAMPLES, &n) == 0 &&
		   n > 0) {
		s->audio_frames++;
	}
	g_mutex_unlock(&s->mu);
}

static const struct pl_client_callbacks cbs = {
	.joined = cb_joined, .reconnect = cb_reconnect, .keyframe_request = cb_keyframe,
	.media_state = cb_media_state, .frame = cb_frame,
};

/* 20 ms ticks: an Opus frame every tick, a pattern frame every third. */
static gpointer sender(gpointer ud)
{
	struct side *s = ud;
	struct pl_opus_enc_config oc = { .channels = 1 };
	struct pl_vpx_enc_config vc = { .width = W, .height = H, .fps = 16, .bitrate_kbps = 300,
					.cpu_used = 8 };
	struct pl_opus_enc *oe = NULL;
	struct pl_vpx_enc *ve = NULL;
	struct pl_i420 img;
	struct pl_tone tone;
	int16_t pcm[PL_OPUS_FRAME_SAMPLES];
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
	int64_t next = g_get_monotonic_time();
	size_t len;

	if (pl_opus_enc_create(&oc, &oe) < 0 || pl_vpx_enc_create(&vc, &ve) < 0 ||
	    pl_i420_init(&img, W, H) < 0 || pl_tone_init(&tone, 440, 0.3, 48000, 1) < 0)
		abort();
	for (unsigned tick = 0; !s->stop; tick++) {
		int rc;

		pl_tone_fill(&tone, pcm, PL_OPUS_FRAME_SAMPLES);
		if (pl_opus_enc_encode(oe, pcm, pkt, sizeof(pkt), &len) == 0) {
			rc = pl_client_send_opus(s->c, pkt, len, PL_OPUS_FRAME_SAMPLES);
			g_mutex_lock(&s->mu);
			s->sent += rc == 0;
			s->busy += rc == PL_EBUSY;
			g_mutex_unlock(&s->mu);
		}
		if (tick % 3 == 0) {
			struct pl_vpx_packet vp;
			bool key = s->want_key;

			s->want_key = false;
			pl_pattern_draw(&img, s->next_no, (uint64_t)g_get_real_time());
			if (pl_vpx_enc_encode(ve, &img, (int64_t)s->next_no * 5625, key, &vp) == 0 && vp.len)
				pl_client_send_vp8(s->c, vp.data, vp.len, vp.keyframe, 0);
			s->next_no++;
		}
		next += 20000;
		if (next > g_get_monotonic_time())
			g_usleep((gulong)(next - g_get_monotonic_time()));
	}
	pl_i420_release(&img);
	pl_opus_enc_destroy(oe);
	pl_vpx_enc_destroy(ve);
	return NULL;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Starts $PARLEYD on 127.0.0.1:port; waits until it logs that it listens. */
static pid_t start_parleyd(const char *bin, const char *dir, int port, int round)
{
	char *log = g_strdup_printf("%s/parleyd-%d.log", dir, round);
	char *data = g_build_filename(dir, "data", NULL);
	char listen[32];
	bool ok = false;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		dup2(2, 1);
		execl(bin, bin, "--listen", listen, "--data-dir", data, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 150 && !ok; i++) {
		char *text = NULL;
		g_usleep(100000);
		ok = g_file_get_contents(log, &text, NULL, NULL) && strstr(text, "listening on http://");
		g_free(text);
	}
	g_free(log);
	g_free(data);
	assert_true(ok);
	return pid;
}

typedef bool (*cond_fn)(struct side *s, void *arg);

static bool wait_for(struct side *s, cond_fn fn, void *arg, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 50) {
		bool ok;
		g_mutex_lock(&s->mu);
		ok = fn(s, arg);
		g_mutex_unlock(&s->mu);
		if (ok)
			return true;
		g_usleep(50000);
	}
	fprintf(stderr, "%s: timeout: %d pattern frames, %d audio frames, %d sent, %d busy, "
		"%d reconnecting, %d reconnected\n", s->name, s->pattern_frames, s->audio_frames,
		s->sent, s->busy, s->reconnecting, s->reconnected);
	return false;
}

static bool got_media(struct side *s, void *arg)
{
	return s->pattern_frames >= *(int *)arg && s->audio_frames >= *(int *)arg * 2;
}
static bool is_reconnecting(struct side *s, void *arg) { return s->reconnecting >= *(int *)arg; }
static bool is_reconnected(struct side *s, void *arg) { return s->reconnected >= *(int *)arg; }

static void side_init(struct side *s, const char *name, const char *url)
{
	struct pl_client_config cfg = { .url = url, .cb = &cbs, .ud = s,
					.reconnect_min_ms = 100, .reconnect_max_ms = 1000 };

	memset(s, 0, sizeof(*s));
	s->name = name;
	g_mutex_init(&s->mu);
	assert_int_equal(pl_vpx_dec_create(1, &s->vdec), 0);
	assert_int_equal(pl_opus_dec_create(1, &s->adec), 0);
	assert_int_equal(pl_client_create(&cfg, &s->c), 0);
	assert_int_equal(pl_client_connect(s->c), 0);
	assert_int_equal(pl_client_join(s->c, "reconnect", name, NULL, NULL, NULL), 0);
	assert_int_equal(pl_client_publish(s->c, true, true), 0);
	s->thread = g_thread_new(name, sender, s);
}

static void side_free(struct side *s)
{
	s->stop = true;
	g_thread_join(s->thread);
	pl_client_destroy(s->c);
	pl_vpx_dec_destroy(s->vdec);
	pl_opus_dec_destroy(s->adec);
	g_mutex_clear(&s->mu);
}

static void test_survives_restart(void **state)
{
	const char *bin = getenv("PARLEYD");
	struct side a, b;
	struct pl_client_stats st;
	char *dir, url[64], old_id[64];
	uint32_t before_a, before_b;
	int port, status, n = 10, one = 1, busy_a, attempts_a, attempts_b;
	pid_t pid;

	(void)state;
	if (!bin || !*bin)
		skip();
	dir = g_dir_make_tmp("pl-reconnect-XXXXXX", NULL);
	assert_non_null(dir);
	port = free_port();
	pid = start_parleyd(bin, dir, port, 1);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", port);
	side_init(&a, "A", url);
	side_init(&b, "B", url);

	assert_true(wait_for(&a, got_media, &n, 15000));
	assert_true(wait_for(&b, got_media, &n, 15000));
	g_mutex_lock(&a.mu);
	before_a = a.last_no;
	g_strlcpy(old_id, a.id, sizeof(old_id));
	g_mutex_unlock(&a.mu);
	g_mutex_lock(&b.mu);
	before_b = b.last_no;
	g_mutex_unlock(&b.mu);
	fprintf(stderr, "before restart: A saw B's frame %u (%d frames), B saw A's frame %u (%d)\n",
		before_a, a.pattern_frames, before_b, b.pattern_frames);

	/* The server dies: both notice, retry, and refuse frames meanwhile. */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(wait_for(&a, is_reconnecting, &one, 5000));
	assert_true(wait_for(&b, is_reconnecting, &one, 5000));
	g_usleep(1500000); /* a few failed attempts while nobody listens */
	g_mutex_lock(&a.mu);
	busy_a = a.busy;
	a.pattern_frames = a.audio_frames = 0;
	g_mutex_unlock(&a.mu);
	g_mutex_lock(&b.mu);
	b.pattern_frames = b.audio_frames = 0;
	g_mutex_unlock(&b.mu);
	pl_client_get_stats(a.c, &st, NULL, 0, NULL);
	assert_true(st.reconnecting);
	assert_null(pl_client_id(a.c));
	assert_true(busy_a >= 25); /* 1.5 s of 20 ms frames refused, not queued */
	fprintf(stderr, "while down: A had %d sends refused (PL_EBUSY), %d reconnect attempts\n",
		busy_a, a.reconnecting);

	/* A new server on the same port: both come back and receive again. */
	pid = start_parleyd(bin, dir, port, 2);
	assert_true(wait_for(&a, is_reconnected, &one, 10000));
	assert_true(wait_for(&b, is_reconnected, &one, 10000));
	assert_true(wait_for(&a, got_media, &n, 15000));
	assert_true(wait_for(&b, got_media, &n, 15000));
	g_mutex_lock(&a.mu);
	assert_true(a.last_no > before_a);
	assert_int_equal(a.joins, 2);
	assert_string_not_equal(a.id, old_id);
	g_mutex_unlock(&a.mu);
	g_mutex_lock(&b.mu);
	assert_true(b.last_no > before_b);
	g_mutex_unlock(&b.mu);
	fprintf(stderr, "after restart: A saw B's frame %u (%d frames, %d audio), B saw A's frame %u "
		"(%d frames)\n", a.last_no, a.pattern_frames, a.audio_frames, b.last_no, b.pattern_frames);
	assert_false(a.decreasing);
	pl_client_get_stats(a.c, &st, NULL, 0, NULL);
	assert_int_equal(st.reconnects, 1);
	assert_false(st.reconnecting);
	assert_string_equal(pl_client_id(a.c), a.id);

	/* A leaves; the server goes away again: only B tries to come back. */
	assert_int_equal(pl_client_leave(a.c), 0);
	g_usleep(300000);
	g_mutex_lock(&a.mu);
	attempts_a = a.reconnecting;
	g_mutex_unlock(&a.mu);
	g_mutex_lock(&b.mu);
	attempts_b = b.reconnecting + 1;
	g_mutex_unlock(&b.mu);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(wait_for(&b, is_reconnecting, &attempts_b, 5000));
	g_usleep(500000);
	g_mutex_lock(&a.mu);
	assert_int_equal(a.reconnecting, attempts_a);
	g_mutex_unlock(&a.mu);
	pl_client_get_stats(a.c, &st, NULL, 0, NULL);
	assert_false(st.reconnecting);

	side_free(&a);
	side_free(&b);
	{
		gchar *argv[] = { "rm", "-rf", dir, NULL };
		g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	}
	g_free(dir);
}

/* Without a server ever reached there is nothing to resume: no retries. */
static void test_no_retry_before_joining(void **state)
{
	struct side s;
	struct pl_client_config cfg = { .url = "ws://127.0.0.1:1/ws", .cb = &cbs, .ud = &s };
	struct pl_client_stats st;

	(void)state;
	memset(&s, 0, sizeof(s));
	g_mutex_init(&s.mu);
	assert_int_equal(pl_client_create(&cfg, &s.c), 0);
	assert_int_equal(pl_client_connect(s.c), 0);
	pl_client_join(s.c, "r", "x", NULL, NULL, NULL);
	g_usleep(500000);
	pl_client_get_stats(s.c, &st, NULL, 0, NULL);
	assert_false(st.reconnecting);
	assert_int_equal(s.reconnecting, 0);
	pl_client_destroy(s.c);
	g_mutex_clear(&s.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_retry_before_joining),
		cmocka_unit_test(test_survives_restart),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
