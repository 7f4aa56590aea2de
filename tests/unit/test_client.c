/* tests/unit/test_client.c: libparley-client.
 *
 * Offline: the encoded clip, argument checking, loops running calls on
 * their thread, and the two SDP exchanges against the server's own
 * negotiation code (codecs/sdp.h): our pub offer must be accepted whole by
 * pl_sdp_answer_create(), and our answer to a pl_sdp_offer_create() offer
 * must be recvonly, setup:active, with mids and RTX mirrored.
 *
 * Live (only when $PARLEYD names a parleyd binary; skipped otherwise): two
 * clients on private loops join one room, chat (ack, delivery, history),
 * publish a clip and receive each other through the SFU; the VP8 frames
 * they reassemble decode (codecs/vpx.h) to test-pattern pictures whose
 * frame numbers read back, and the Opus frames decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/client.h"
#include "client/client_internal.h"
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/sdp.h"
#include "codecs/vpx.h"
#include "common/clock.h"
#include "common/err.h"

#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- offline ----------------------------------------------------------------- */

static void test_clip_bitrates(void **state)
{
	struct pl_client_clip_config cfg = { .width = 320, .height = 240, .fps = 15, .video_kbps = 300,
					     .audio_kbps = 24, .seconds = 2 };
	struct pl_client_clip *clip = NULL;
	double v, a;

	assert_int_equal(pl_client_clip_create(&cfg, &clip), 0);
	pl_client_clip_bitrates(clip, &v, &a);
	/* CBR from a cold start over two seconds: within a factor of two. */
	assert_true(v > 150 && v < 600);
	assert_true(a > 12 && a < 48);
	pl_client_clip_destroy(clip);
	cfg.width = 321; /* odd sizes are refused */
	assert_int_equal(pl_client_clip_create(&cfg, &clip), PL_EINVAL);
	assert_null(clip);
}

static void test_create_rejects_bad_urls(void **state)
{
	struct pl_client_config cfg = { .url = "http://127.0.0.1:1/ws" };
	struct pl_client *c = (struct pl_client *)1;

	assert_int_equal(pl_client_create(&cfg, &c), PL_EINVAL);
	assert_null(c);
	cfg.url = NULL;
	assert_int_equal(pl_client_create(&cfg, &c), PL_EINVAL);
	pl_client_destroy(NULL);
	pl_client_loop_destroy(NULL);
}

static void record_thread(void *ud)
{
	*(GThread **)ud = g_thread_self();
}

static void test_loop_call_runs_on_its_thread(void **state)
{
	struct pl_client_loop *l = NULL;
	GThread *ran = NULL;

	assert_int_equal(pl_client_loop_create(NULL, &l), 0);
	assert_int_equal(pl_client_loop_call(l, record_thread, &ran), 0);
	assert_non_null(ran);
	assert_ptr_not_equal(ran, g_thread_self());
	pl_client_loop_destroy(l);
}

static struct pl_sdp *reparse(struct pl_sdp *sdp)
{
	struct pl_sdp *out = NULL;
	char *text = NULL;

	assert_int_equal(pl_sdp_write(sdp, &text, NULL), 0);
	assert_int_equal(pl_sdp_parse(text, strlen(text), &out, NULL), 0);
	free(text);
	pl_sdp_destroy(sdp);
	return out;
}

static const struct pl_client_sdp_local local = {
	.ufrag = "abcd", .pwd = "0123456789012345678901",
	.fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
	.sess_id = 1, .sess_version = 1,
};

/* The server keeps both our tracks, VP8's RTX, and answers passive. */
static void test_pub_offer_is_accepted_by_the_server(void **state)
{
	struct pl_client_pub pub = { .has_audio = true, .has_video = true };
	struct pl_sdp_answer_params ap = {
		.local = { .ice_ufrag = "wxyz", .ice_pwd = "zyxwvutsrqponmlkjihgfe", .fingerprint_hash = "sha-256",
			   .fingerprint = local.fingerprint },
		.dir = PL_SDP_DIR_RECVONLY,
	};
	struct pl_sdp *offer, *answer = NULL;
	const struct pl_sdp_group *g;

	pub.audio = (struct pl_client_out){ .mid = "0", .track = "a-1", .ssrc = 11, .pt = 111 };
	pub.video = (struct pl_client_out){ .video = true, .mid = "1", .track = "v-1", .ssrc = 22,
					    .rtx_ssrc = 33, .pt = 96, .rtx_pt = 97 };
	offer = reparse(pl_client_sdp_pub_offer(&pub, &local));
	assert_int_equal(pl_sdp_answer_create(offer, &ap, &answer, NULL), 0);
	g = pl_sdp_group_find(answer, "BUNDLE");
	assert_non_null(g);
	assert_int_equal(g->mid_count, 2);
	assert_int_equal(answer->media_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_not_equal(answer->media[i]->port, 0);
		assert_int_equal(answer->media[i]->dir, PL_SDP_DIR_RECVONLY);
		assert_int_equal(answer->media[i]->tp.setup, PL_SDP_SETUP_PASSIVE);
	}
	assert_non_null(pl_sdp_media_rtpmap(answer->media[0], 111));
	assert_non_null(pl_sdp_media_rtpmap(answer->media[1], 96));
	assert_non_null(pl_sdp_media_rtpmap(answer->media[1], 97));
	assert_int_equal(offer->media[1]->ssrc_group_count, 1);
	pl_sdp_destroy(offer);
	pl_sdp_destroy(answer);
}

/* Our sub answer: recvonly, setup:active, mids mirrored, RTX kept, and an
 * ended m-line stays inactive. */
static void test_sub_answer_mirrors_the_server_offer(void **state)
{
	struct pl_sdp_track tracks[] = {
		{ .kind = PL_SDP_KIND_AUDIO, .mid = "0", .stream_id = "p-1", .track_id = "t-a", .ssrc = 5,
		  .active = true },
		{ .kind = PL_SDP_KIND_VIDEO, .mid = "1", .stream_id = "p-1", .track_id = "t-v", .ssrc = 6,
		  .rtx_ssrc = 7, .active = true },
		{ .kind = PL_SDP_KIND_VIDEO, .mid = "2", .stream_id = "p-2", .track_id = "t-w", .ssrc = 8,
		  .rtx_ssrc = 9, .active = false },
	};
	struct pl_sdp_offer_params op = {
		.local = { .ice_ufrag = "wxyz", .ice_pwd = "zyxwvutsrqponmlkjihgfe", .fingerprint_hash = "sha-256",
			   .fingerprint = local.fingerprint },
	};
	struct pl_sdp *offer = NULL, *answer = NULL;

	assert_int_equal(pl_sdp_offer_create(tracks, 3, &op, &offer), 0);
	offer = reparse(offer);
	assert_int_equal(pl_client_sdp_sub_answer(offer, &local, &answer), 0);
	answer = reparse(answer);
	assert_int_equal(answer->media_count, 3);
	assert_string_equal(pl_client_sdp_bundle_media(answer)->mid, "0");
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(answer->media[i]->mid, tracks[i].mid);
		assert_int_equal(answer->media[i]->dir, PL_SDP_DIR_RECVONLY);
		assert_int_equal(answer->media[i]->tp.setup, PL_SDP_SETUP_ACTIVE);
		assert_string_equal(answer->media[i]->tp.ice_ufrag, "abcd");
	}
	assert_non_null(pl_sdp_media_rtpmap(answer->media[1], PL_SDP_PT_RTX));
	assert_true(answer->media[2]->port == 0 || answer->media[2]->dir == PL_SDP_DIR_INACTIVE);
	pl_sdp_destroy(offer);
	pl_sdp_destroy(answer);
}

/* ---- live: two clients through a real parleyd -------------------------------- */

struct peer_state {
	GMutex mu;
	char id[64];
	bool joined;
	int participants_seen, tracks_seen, chats, acks, history_msgs;
	uint64_t acked_seq;
	int frames_video, frames_audio, decoded_video, decoded_audio, pattern_ok;
	int video_errors;               /* frames the decoder refused */
	bool first_video_key;           /* the first video frame handed to us */
	uint32_t last_frame_no;
	bool pub_up, sub_up;
	char srtp[32];
	struct pl_vpx_dec *vdec;
	struct pl_opus_dec *adec;
};

static void cb_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n, uint64_t last_seq)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	s->joined = true;
	g_strlcpy(s->id, you->id, sizeof(s->id));
	g_mutex_unlock(&s->mu);
}

static void cb_participant(struct pl_client *c, void *ud, enum pl_client_change ev,
			   const struct pl_client_participant *p)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	s->participants_seen += ev == PL_CLIENT_ADDED;
	g_mutex_unlock(&s->mu);
}

static void cb_track(struct pl_client *c, void *ud, enum pl_client_change ev,
		     const struct pl_client_track *t)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	s->tracks_seen += ev == PL_CLIENT_ADDED;
	g_mutex_unlock(&s->mu);
}

static void cb_chat(struct pl_client *c, void *ud, const struct pl_client_chat_msg *m)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	s->chats += strcmp(m->text, "hello from A") == 0;
	g_mutex_unlock(&s->mu);
}

static void cb_ack(struct pl_client *c, void *ud, uint32_t req, uint64_t seq, int64_t ts)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	s->acks++;
	s->acked_seq = seq;
	g_mutex_unlock(&s->mu);
}

static void cb_history(struct pl_client *c, void *ud, uint32_t req,
		       const struct pl_client_chat_msg *msgs, size_t n, bool more)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++)
		s->history_msgs += strcmp(msgs[i].text, "hello from A") == 0;
	g_mutex_unlock(&s->mu);
}

static void cb_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	struct peer_state *s = ud;

	g_mutex_lock(&s->mu);
	if (st == PL_CLIENT_MEDIA_CONNECTED) {
		*(pc == PL_CLIENT_PC_PUB ? &s->pub_up : &s->sub_up) = true;
		g_strlcpy(s->srtp, srtp, sizeof(s->srtp));
	}
	g_mutex_unlock(&s->mu);
}

/* On the loop thread: decode what arrives. */
static void cb_frame(struct pl_client *c, void *ud, const struct pl_client_frame *f)
{
	struct peer_state *s = ud;
	int16_t pcm[PL_OPUS_MAX_FRAME_SAMPLES * 2];
	struct pl_i420 img;
	uint64_t sent;
	uint32_t no;
	size_t n;
	bool has;

	g_mutex_lock(&s->mu);
	if (f->kind == PL_CLIENT_VIDEO) {
		if (s->frames_video++ == 0)
			s->first_video_key = f->keyframe;
		if (pl_vpx_dec_decode(s->vdec, f->data, f->len, &img, &has) < 0)
			s->video_errors++;
		else if (has) {
			s->decoded_video++;
			if (pl_pattern_read(&img, &no, &sent) == 0)
				s->pattern_ok++, s->last_frame_no = no;
		}
	} else {
		s->frames_audio++;
		if (pl_opus_dec_decode(s->adec, f->data, f->len, pcm, PL_OPUS_MAX_FRAME_SAMPLES, &n) == 0 && n)
			s->decoded_audio++;
	}
	g_mutex_unlock(&s->mu);
}

static const struct pl_client_callbacks live_cb = {
	.joined = cb_joined, .participant = cb_participant, .track = cb_track, .chat = cb_chat,
	.chat_ack = cb_ack, .history = cb_history, .media_state = cb_media_state, .frame = cb_frame,
};

/* Starts $PARLEYD on a free port; returns its pid and port. */
static bool start_parleyd(const char *bin, const char *dir, pid_t *pid, int *port)
{
	char *log = g_build_filename(dir, "parleyd.log", NULL), *data = g_build_filename(dir, "data", NULL);
	bool ok = false;

	*pid = fork();
	if (*pid == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		dup2(2, 1);
		execl(bin, bin, "--listen", "127.0.0.1:0", "--data-dir", data, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !ok; i++) {
		char *text = NULL, *m;
		g_usleep(100000);
		if (g_file_get_contents(log, &text, NULL, NULL) &&
		    (m = strstr(text, "listening on http://127.0.0.1:")))
			ok = sscanf(m, "listening on http://127.0.0.1:%d", port) == 1;
		g_free(text);
	}
	g_free(log);
	g_free(data);
	return ok;
}

typedef bool (*cond_fn)(struct peer_state *a, struct peer_state *b);

static bool wait_for(struct peer_state *a, struct peer_state *b, cond_fn fn, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 50) {
		bool ok;
		g_mutex_lock(&a->mu);
		g_mutex_lock(&b->mu);
		ok = fn(a, b);
		g_mutex_unlock(&b->mu);
		g_mutex_unlock(&a->mu);
		if (ok)
			return true;
		g_usleep(50000);
	}
	return false;
}

static bool a_joined(struct peer_state *a, struct peer_state *b)
{
	(void)b;
	return a->joined;
}
static bool both_joined(struct peer_state *a, struct peer_state *b) { return a->joined && b->joined; }
static bool chat_done(struct peer_state *a, struct peer_state *b)
{
	return a->acks == 1 && a->chats == 1 && b->chats == 1;
}
static bool history_done(struct peer_state *a, struct peer_state *b) { return b->history_msgs == 1; }
static bool media_done(struct peer_state *a, struct peer_state *b)
{
	return a->pattern_ok >= 10 && b->pattern_ok >= 10 && a->decoded_audio >= 25 &&
	       b->decoded_audio >= 25;
}

/* The libparley-client frames a decoder gets: the first a keyframe, each
 * one decodable (the reorder buffer hands out nothing that follows a lost
 * frame until a keyframe), and the PLI counters add up. */
static void check_video(struct pl_client *c, struct peer_state *s)
{
	struct pl_client_stream_stats ss[4];
	struct pl_client_stats st;
	uint64_t plis = 0;
	size_t n;

	g_mutex_lock(&s->mu);
	assert_true(s->first_video_key);
	assert_int_equal(s->video_errors, 0);
	g_mutex_unlock(&s->mu);
	pl_client_get_stats(c, &st, ss, G_N_ELEMENTS(ss), &n);
	for (size_t i = 0; i < n; i++) {
		plis += ss[i].plis_sent;
		if (ss[i].kind == PL_CLIENT_AUDIO)
			assert_true(ss[i].plis_sent == 0 && ss[i].frames_skipped == 0);
	}
	assert_int_equal(st.plis_sent, plis);
}

/* The live clients, file-level so that a failed assertion (which leaves
 * live_run() by longjmp) still has them stopped by live_teardown() before
 * anything they point to goes away; their states are file-level for the
 * same reason. */
static struct pl_client *live_a, *live_b;
static struct peer_state live_sa, live_sb;
static pid_t live_server; /* parleyd, killed here after a failure */

static int live_teardown(void **state)
{
	(void)state;
	pl_client_destroy(live_a);
	pl_client_destroy(live_b);
	live_a = live_b = NULL;
	if (live_server > 0 && state) {
		kill(live_server, SIGKILL);
		waitpid(live_server, NULL, 0);
	}
	live_server = 0;
	return 0;
}

/* impair_b: an impairment spec for b's media (NULL: none). */
static void live_run(const char *url, struct peer_state *sa, struct peer_state *sb,
		     const char *impair_b)
{
	struct pl_client_clip_config cc = { .width = 320, .height = 240, .fps = 15, .video_kbps = 300,
					    .seconds = 2 };
	struct pl_client_config cfg = { .url = url, .cb = &live_cb };
	struct pl_client *a = NULL, *b = NULL;
	struct pl_client_clip *clip = NULL;
	struct pl_client_stats st;

	assert_int_equal(pl_client_clip_create(&cc, &clip), 0);
	cfg.ud = sa;
	assert_int_equal(pl_client_create(&cfg, &a), 0);
	live_a = a;
	cfg.ud = sb;
	cfg.srtp = PL_CLIENT_SRTP_CM;
	cfg.impair = impair_b;
	assert_int_equal(pl_client_create(&cfg, &b), 0);
	live_b = b;
	assert_int_equal(pl_client_connect(a), 0);
	assert_int_equal(pl_client_connect(b), 0);
	/* A first, so that B's arrival is a participant event at A (whoever
	 * joins second finds the other in its joined list instead). */
	assert_int_equal(pl_client_join(a, "unit-client", "A", NULL, "alice", NULL), 0);
	assert_true(wait_for(sa, sb, a_joined, 5000));
	assert_int_equal(pl_client_join(b, "unit-client", "B", NULL, "bob", NULL), 0);
	assert_true(wait_for(sa, sb, both_joined, 5000));
	assert_string_equal(pl_client_id(a), sa->id);

	assert_int_equal(pl_client_chat_send(a, "hello from A", NULL, "m-1", NULL), 0);
	assert_true(wait_for(sa, sb, chat_done, 5000));
	assert_true(sa->acked_seq >= 1);
	assert_int_equal(pl_client_chat_history(b, 0, 0, 50, NULL), 0);
	assert_true(wait_for(sa, sb, history_done, 5000));

	assert_int_equal(pl_client_publish(a, true, true), 0);
	assert_int_equal(pl_client_publish(b, true, true), 0);
	assert_int_equal(pl_client_publish(b, true, true), PL_EEXIST);
	assert_int_equal(pl_client_play(a, clip), 0);
	assert_int_equal(pl_client_play(b, clip), 0);
	assert_true(wait_for(sa, sb, media_done, 15000));
	assert_true(sa->participants_seen >= 1 && sa->tracks_seen >= 2 && sb->tracks_seen >= 2);
	/* b offered AES-CM only; a offered both and gets GCM. */
	assert_string_equal(sb->srtp, "SRTP_AES128_CM_SHA1_80");
	assert_string_equal(sa->srtp, "SRTP_AEAD_AES_128_GCM");
	pl_client_get_stats(a, &st, NULL, 0, NULL);
	assert_true(st.join_us >= 0 && st.pub_us > 0 && st.sub_us > 0);
	assert_true(st.packets_received > 0 && st.video_packets_sent > 0 && st.audio_packets_sent > 0);
	assert_int_equal(st.n_streams, 2);
	/* Impaired: until b lost video packets and had some repaired. */
	for (int t = 0; impair_b && t < 15000; t += 100) {
		pl_client_get_stats(b, &st, NULL, 0, NULL);
		if (st.impair_in.lost > 0 && st.nacks_sent > 0 && st.rtx_received > 0)
			break;
		g_usleep(100000);
	}
	if (impair_b)
		assert_true(st.impair_in.lost > 0 && st.nacks_sent > 0 && st.rtx_received > 0);
	check_video(a, sa);
	check_video(b, sb);

	pl_client_stop(a);
	live_teardown(NULL);
	pl_client_clip_destroy(clip);
}

static void live_test(const char *impair_b)
{
	const char *bin = getenv("PARLEYD");
	char *dir, url[64];
	struct peer_state *sa = &live_sa, *sb = &live_sb;
	pid_t pid;
	int port = 0, status;

	if (!bin || !*bin)
		skip();
	dir = g_dir_make_tmp("pl-client-XXXXXX", NULL);
	assert_non_null(dir);
	assert_true(start_parleyd(bin, dir, &pid, &port));
	live_server = pid;
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", port);
	memset(sa, 0, sizeof(*sa));
	memset(sb, 0, sizeof(*sb));
	g_mutex_init(&sa->mu);
	g_mutex_init(&sb->mu);
	assert_int_equal(pl_vpx_dec_create(1, &sa->vdec), 0);
	assert_int_equal(pl_vpx_dec_create(1, &sb->vdec), 0);
	assert_int_equal(pl_opus_dec_create(2, &sa->adec), 0);
	assert_int_equal(pl_opus_dec_create(2, &sb->adec), 0);
	live_run(url, sa, sb, impair_b);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	live_server = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pl_vpx_dec_destroy(sa->vdec);
	pl_vpx_dec_destroy(sb->vdec);
	pl_opus_dec_destroy(sa->adec);
	pl_opus_dec_destroy(sb->adec);
	g_mutex_clear(&sa->mu);
	g_mutex_clear(&sb->mu);
	{
		gchar *argv[] = { "rm", "-rf", dir, NULL };
		g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	}
	g_free(dir);
}

static void test_live_two_clients(void **state)
{
	(void)state;
	live_test(NULL);
}

/* 5 % loss both ways on b's media: NACK/RTX repairs, delivered late and
 * out of order, still make whole frames; whatever is given up costs a
 * keyframe, never an undecodable frame. */
static void test_live_two_clients_lossy(void **state)
{
	(void)state;
	live_test("loss=5%,seed=2,spare=dtls");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clip_bitrates),
		cmocka_unit_test(test_create_rejects_bad_urls),
		cmocka_unit_test(test_loop_call_runs_on_its_thread),
		cmocka_unit_test(test_pub_offer_is_accepted_by_the_server),
		cmocka_unit_test(test_sub_answer_mirrors_the_server_offer),
		cmocka_unit_test_teardown(test_live_two_clients, live_teardown),
		cmocka_unit_test_teardown(test_live_two_clients_lossy, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
