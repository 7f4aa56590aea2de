/* client/client.c: loops, clients and the requests of libparley-client.
 *
 * A loop is the shared machinery of the clients attached to it: a
 * GMainContext (ours, run by our own thread, or the application's), the
 * lws context on it (lws's GLib event library, fed a GMainLoop of that
 * context), the ICE agent whose libnice agents run there, and a 20 ms tick
 * that drives every client's RTCP (NACKs every tick, reports every second,
 * spread over the clients).  A client is one participant: its signaling
 * connection, its pub and sub peer connections and its DTLS identity.
 *
 * Reconnecting after a lost WebSocket is client_reconnect.c.
 *
 * Threads: everything runs on the loop thread.  Public functions called
 * from another thread (own-thread loops only) are marshalled to it with
 * pl_client_loop_call(), which waits for the result; that is why each of
 * them is a small argument struct plus a function that runs "on loop".
 */
#include "client/client_internal.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_TICKS (1000 / PL_CLIENT_TICK_MS)

/* ---- loops ---------------------------------------------------------------- */

static gboolean on_tick(gpointer ud)
{
	struct pl_client_loop *l = ud;
	int64_t now = pl_clock_mono_us();

	l->ticks++;
	for (guint i = 0; i < l->clients->len; i++) {
		struct pl_client *c = g_ptr_array_index(l->clients, i);
		bool reports = (l->ticks + i) % REPORT_TICKS == 0;

		pl_client_pub_tick(c, now, reports);
		pl_client_sub_tick(c, now, reports);
	}
	return G_SOURCE_CONTINUE;
}

static gpointer loop_thread(gpointer ud)
{
	struct pl_client_loop *l = ud;

	g_main_context_push_thread_default(l->ctx);
	g_main_loop_run(l->gloop);
	g_main_context_pop_thread_default(l->ctx);
	return NULL;
}

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	PL_LOG(level == LLL_ERR ? PL_LOG_WARN : PL_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

/* TLS only where a wss:// client needs it: lws 4.1 leaks a client
 * SSL_CTX and its CA store when several TLS-enabled contexts live in one
 * process (several loops). */
struct lws_context *pl_client_loop_lws(struct pl_client_loop *l, bool tls)
{
	struct lws_context **slot = tls ? &l->lws_tls : &l->lws;
	struct lws_context_creation_info info;
	void *foreign_loops[1] = { l->gloop };

	if (*slot)
		return *slot;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = pl_client_sig_protocols();
	info.options = LWS_SERVER_OPTION_GLIB | (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.foreign_loops = foreign_loops;
	info.gid = -1;
	info.uid = -1;
	*slot = lws_create_context(&info);
	return *slot;
}

static void lws_destroy(struct pl_client_loop *l, struct lws_context *ctx)
{
	if (!ctx)
		return;
	/* On a foreign loop lws may finish tearing down from the loop. */
	lws_context_destroy(ctx);
	for (int i = 0; i < 100 && g_main_context_iteration(l->ctx, FALSE); i++)
		;
}

int pl_client_loop_create(const struct pl_client_loop_config *cfg, struct pl_client_loop **out)
{
	const char *addr = cfg && cfg->ice_address ? cfg->ice_address : "127.0.0.1";
	struct pl_ice_config ic = { .addresses = &addr, .n_addresses = 1 };
	struct pl_client_loop *l = g_new0(struct pl_client_loop, 1);
	int rc;

	*out = NULL;
	l->clients = g_ptr_array_new();
	l->ctx = cfg && cfg->main_context ? g_main_context_ref(cfg->main_context) : g_main_context_new();
	l->gloop = g_main_loop_new(l->ctx, FALSE);
	if ((rc = pl_srtp_global_init()) < 0 || (rc = pl_ice_agent_create(l->ctx, &ic, &l->ice)) < 0)
		goto fail;
	l->tick = g_timeout_source_new(PL_CLIENT_TICK_MS);
	g_source_set_callback(l->tick, on_tick, l, NULL);
	g_source_attach(l->tick, l->ctx);
	if (!(cfg && cfg->main_context)) {
		l->thread = g_thread_try_new("pl-client", loop_thread, l, NULL);
		if (!l->thread) {
			rc = PL_ESYS;
			goto fail;
		}
	}
	*out = l;
	return 0;
fail:
	pl_client_loop_destroy(l);
	return rc;
}

static bool on_loop_thread(const struct pl_client_loop *l)
{
	return !l->thread || g_thread_self() == l->thread;
}

struct call {
	void (*fn)(void *ud);
	void *ud;
	GMutex mu;
	GCond cond;
	bool done;
};

static gboolean run_call(gpointer ud)
{
	struct call *k = ud;

	k->fn(k->ud);
	g_mutex_lock(&k->mu);
	k->done = true;
	g_cond_signal(&k->cond);
	g_mutex_unlock(&k->mu);
	return G_SOURCE_REMOVE;
}

int pl_client_loop_call(struct pl_client_loop *l, void (*fn)(void *ud), void *ud)
{
	struct call k = { .fn = fn, .ud = ud };
	GSource *s;

	if (on_loop_thread(l)) {
		fn(ud);
		return 0;
	}
	g_mutex_init(&k.mu);
	g_cond_init(&k.cond);
	s = g_idle_source_new();
	g_source_set_priority(s, G_PRIORITY_DEFAULT);
	g_source_set_callback(s, run_call, &k, NULL);
	g_source_attach(s, l->ctx);
	g_source_unref(s);
	g_mutex_lock(&k.mu);
	while (!k.done)
		g_cond_wait(&k.cond, &k.mu);
	g_mutex_unlock(&k.mu);
	g_mutex_clear(&k.mu);
	g_cond_clear(&k.cond);
	return 0;
}

static void client_free(struct pl_client *c);

static void destroy_clients(void *ud)
{
	struct pl_client_loop *l = ud;

	while (l->clients->len > 0)
		client_free(g_ptr_array_index(l->clients, l->clients->len - 1));
}

static void quit_loop(void *ud)
{
	g_main_loop_quit(ud);
}

void pl_client_loop_destroy(struct pl_client_loop *l)
{
	if (!l)
		return;
	if (l->clients->len)
		pl_client_loop_call(l, destroy_clients, l);
	if (l->thread) {
		pl_client_loop_call(l, quit_loop, l->gloop);
		g_thread_join(l->thread);
		l->thread = NULL;
	}
	if (l->tick) {
		g_source_destroy(l->tick);
		g_source_unref(l->tick);
	}
	lws_destroy(l, l->lws);
	lws_destroy(l, l->lws_tls);
	pl_ice_agent_destroy(l->ice);
	g_main_loop_unref(l->gloop);
	g_main_context_unref(l->ctx);
	g_ptr_array_free(l->clients, TRUE);
	g_free(l);
}

/* ---- clients -------------------------------------------------------------- */

bool pl_client_drop(struct pl_client *c, uint32_t threshold)
{
	uint32_t x = c->drop_rng;

	if (!threshold)
		return false;
	x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
	c->drop_rng = x;
	return x < threshold;
}

uint32_t pl_client_next_req(struct pl_client *c)
{
	if (++c->next_req == 0)
		c->next_req = 1;
	return c->next_req;
}

static void client_add(void *ud)
{
	struct pl_client *c = ud;

	g_ptr_array_add(c->loop->clients, c);
}

int pl_client_create(const struct pl_client_config *cfg, struct pl_client **out)
{
	struct pl_client *c;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->url)
		return PL_EINVAL;
	c = g_new0(struct pl_client, 1);
	if ((rc = pl_client_sig_init(&c->sig, cfg->url, cfg->tls_insecure)) < 0) {
		pl_client_sig_release(&c->sig);
		g_free(c);
		return rc;
	}
	if (cfg->cb)
		c->cb = *cfg->cb;
	c->ud = cfg->ud;
	c->srtp = cfg->srtp;
	c->reconnect_off = cfg->no_reconnect;
	c->sig.idle_timeout_s = cfg->idle_timeout_s ? MIN(cfg->idle_timeout_s, 3600) : 30;
	c->rc_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : 250;
	c->rc_max_ms = MAX(c->rc_min_ms, cfg->reconnect_max_ms ? cfg->reconnect_max_ms : 5000);
	c->drop_in = (uint32_t)(CLAMP(cfg->drop_in_pct, 0, 100) / 100.0 * UINT32_MAX);
	c->drop_out = (uint32_t)(CLAMP(cfg->drop_out_pct, 0, 100) / 100.0 * UINT32_MAX);
	c->drop_rng = g_random_int() | 1;
	c->created_us = pl_clock_mono_us();
	c->join_us = c->pub_us = c->sub_us = -1;
	c->sess_id = ((uint64_t)g_random_int() << 31 | g_random_int()) & INT64_MAX;
	pl_rtcp_ntp_clock_init(&c->ntp, c->created_us, g_get_real_time());
	pl_client_sub_init(&c->sub);
	rc = pl_client_impair_init(c, cfg->impair);
	if (rc == 0)
		rc = pl_client_srtp_cert_generate(c->srtp, &c->cert);
	if (rc == 0 && !cfg->loop) {
		struct pl_client_loop_config lc = { .ice_address = cfg->ice_address };
		rc = pl_client_loop_create(&lc, &c->loop);
		c->owns_loop = true;
	} else {
		c->loop = cfg->loop;
	}
	if (rc < 0) {
		client_free(c);
		return rc;
	}
	pl_client_loop_call(c->loop, client_add, c);
	*out = c;
	return 0;
}

/* On the loop thread: frees c and detaches it from its loop. */
static void client_free(struct pl_client *c)
{
	c->closing = true;
	pl_client_reconnect_cancel(c);
	pl_client_rejoin_forget(c);
	pl_client_player_destroy(c->player);
	c->player = NULL;
	pl_client_sig_release(&c->sig);
	pl_client_pub_release(c);
	pl_client_sub_release(&c->sub);
	pl_client_impair_release(c);
	pl_dtls_cert_destroy(c->cert);
	if (c->loop)
		g_ptr_array_remove(c->loop->clients, c);
	g_free(c->pid);
	g_free(c->room);
	g_free(c);
}

static void client_free_cb(void *ud)
{
	client_free(ud);
}

void pl_client_destroy(struct pl_client *c)
{
	struct pl_client_loop *own;

	if (!c)
		return;
	own = c->owns_loop ? c->loop : NULL;
	pl_client_loop_call(c->loop, client_free_cb, c);
	pl_client_loop_destroy(own);
}

struct call_int {
	struct pl_client *c;
	int rc;
};

static void connect_on_loop(void *ud)
{
	struct call_int *a = ud;

	a->rc = pl_client_sig_connect(a->c);
}

int pl_client_connect(struct pl_client *c)
{
	struct call_int a = { .c = c };

	pl_client_loop_call(c->loop, connect_on_loop, &a);
	return a.rc;
}

/* ---- requests ------------------------------------------------------------- */

struct call_req {
	struct pl_client *c;
	const char *s1, *s2, *s3, *s4;
	uint64_t u1, u2, u3;
	uint32_t id;
	int rc;
};

/* Sends msg with a fresh id; a->rc and a->id get the outcome. */
static void send_request(struct call_req *a, json_t *msg)
{
	uint32_t id = pl_client_next_req(a->c);

	json_object_set_new(msg, "id", json_integer(id));
	a->rc = pl_client_sig_send(a->c, msg);
	a->id = a->rc == 0 ? id : 0;
}

static int request_done(const struct call_req *a, uint32_t *req_id)
{
	if (req_id)
		*req_id = a->id;
	return a->rc;
}

static void join_on_loop(void *ud)
{
	struct call_req *a = ud;
	struct pl_client *c = a->c;
	json_t *msg = json_pack("{s:s, s:s, s:s}", "type", "join", "room", a->s1, "display", a->s2);

	if (a->s3)
		json_object_set_new(msg, "token", json_string(a->s3));
	if (a->s4)
		json_object_set_new(msg, "user", json_string(a->s4));
	send_request(a, msg);
	if (a->rc == 0) {
		c->join_req = a->id;
		c->join_sent_us = pl_clock_mono_us(); /* join_us: the latest join */
		if (a->s1 != c->rj_room) { /* the application's join: remember it */
			pl_client_rejoin_forget(c);
			c->rj_room = g_strdup(a->s1);
			c->rj_display = g_strdup(a->s2);
			c->rj_token = g_strdup(a->s3);
			c->rj_user = g_strdup(a->s4);
			c->left = false;
		}
	}
}

int pl_client_join_send(struct pl_client *c, const char *room, const char *display, const char *token,
			const char *user, uint32_t *req_id)
{
	struct call_req a = { .c = c, .s1 = room, .s2 = display, .s3 = token, .s4 = user };

	join_on_loop(&a);
	return request_done(&a, req_id);
}

int pl_client_join(struct pl_client *c, const char *room, const char *display, const char *token,
		   const char *user, uint32_t *req_id)
{
	struct call_req a = { .c = c, .s1 = room, .s2 = display, .s3 = token, .s4 = user };

	if (!room || !display)
		return PL_EINVAL;
	pl_client_loop_call(c->loop, join_on_loop, &a);
	return request_done(&a, req_id);
}

static void leave_on_loop(void *ud)
{
	struct call_req *a = ud;

	/* Whatever happens to the socket from now on is not retried. */
	a->c->left = true;
	a->c->reconnecting = false;
	pl_client_reconnect_cancel(a->c);
	a->rc = pl_client_sig_send(a->c, json_pack("{s:s}", "type", "leave"));
}

int pl_client_leave(struct pl_client *c)
{
	struct call_req a = { .c = c };

	pl_client_loop_call(c->loop, leave_on_loop, &a);
	return a.rc;
}

static void chat_on_loop(void *ud)
{
	struct call_req *a = ud;
	json_t *msg = json_pack("{s:s, s:s}", "type", "chat", "text", a->s1);

	if (a->s2)
		json_object_set_new(msg, "to", json_string(a->s2));
	if (a->s3)
		json_object_set_new(msg, "client_msg_id", json_string(a->s3));
	send_request(a, msg);
}

int pl_client_chat_send(struct pl_client *c, const char *text, const char *to,
			const char *client_msg_id, uint32_t *req_id)
{
	struct call_req a = { .c = c, .s1 = text, .s2 = to, .s3 = client_msg_id };

	if (!text)
		return PL_EINVAL;
	pl_client_loop_call(c->loop, chat_on_loop, &a);
	return request_done(&a, req_id);
}

static void history_on_loop(void *ud)
{
	struct call_req *a = ud;
	json_t *msg = json_pack("{s:s, s:I}", "type", "history", "limit", (json_int_t)a->u3);

	if (a->u1)
		json_object_set_new(msg, "before", json_integer((json_int_t)a->u1));
	if (a->u2)
		json_object_set_new(msg, "after", json_integer((json_int_t)a->u2));
	send_request(a, msg);
}

int pl_client_chat_history(struct pl_client *c, uint64_t before, uint64_t after, unsigned limit,
			   uint32_t *req_id)
{
	struct call_req a = { .c = c, .u1 = before, .u2 = after, .u3 = limit };

	if ((before && after) || limit < 1 || limit > 200 || before > INT64_MAX || after > INT64_MAX)
		return PL_EINVAL;
	pl_client_loop_call(c->loop, history_on_loop, &a);
	return request_done(&a, req_id);
}

/* ---- media ----------------------------------------------------------------- */

static void publish_on_loop(void *ud)
{
	struct call_req *a = ud;

	a->rc = pl_client_pub_start(a->c, a->u1 != 0, a->u2 != 0);
}

int pl_client_publish(struct pl_client *c, bool audio, bool video)
{
	struct call_req a = { .c = c, .u1 = audio, .u2 = video };

	if (!audio && !video)
		return PL_EINVAL;
	pl_client_loop_call(c->loop, publish_on_loop, &a);
	return a.rc;
}

struct call_send {
	struct pl_client *c;
	const uint8_t *data;
	size_t len;
	uint32_t samples;
	bool keyframe;
	int64_t capture_us;
	int rc;
};

static void opus_on_loop(void *ud)
{
	struct call_send *a = ud;

	a->rc = pl_client_pub_send_opus(a->c, a->data, a->len, a->samples);
}

int pl_client_send_opus(struct pl_client *c, const uint8_t *data, size_t len, uint32_t samples_48k)
{
	struct call_send a = { .c = c, .data = data, .len = len, .samples = samples_48k };

	pl_client_loop_call(c->loop, opus_on_loop, &a);
	return a.rc;
}

static void vp8_on_loop(void *ud)
{
	struct call_send *a = ud;

	a->rc = pl_client_pub_send_vp8(a->c, a->data, a->len, a->keyframe, a->capture_us);
}

int pl_client_send_vp8(struct pl_client *c, const uint8_t *data, size_t len, bool keyframe,
		       int64_t capture_us)
{
	struct call_send a = { .c = c, .data = data, .len = len, .keyframe = keyframe,
			       .capture_us = capture_us };

	pl_client_loop_call(c->loop, vp8_on_loop, &a);
	return a.rc;
}

void pl_client_sdp_local_fill(struct pl_client *c, struct pl_client_peer *p,
			      struct pl_client_sdp_local *l)
{
	l->ufrag = pl_ice_transport_ufrag(p->ice);
	l->pwd = pl_ice_transport_pwd(p->ice);
	l->fingerprint = pl_dtls_cert_fingerprint(c->cert);
	l->sess_id = c->sess_id;
	l->sess_version = ++c->sess_version;
}

void pl_client_on_gathered(struct pl_client *c, enum pl_client_pc pc)
{
	if (pc == PL_CLIENT_PC_PUB)
		pl_client_pub_send_offer(c);
	else
		pl_client_sub_send_answer(c);
}

void pl_client_on_local_candidate(struct pl_client *c, enum pl_client_pc pc, const char *mid,
				  const char *cand)
{
	json_t *msg = json_pack("{s:s, s:s}", "type", "candidate", "pc",
				pc == PL_CLIENT_PC_PUB ? "pub" : "sub");

	json_object_set_new(msg, "candidate",
			    cand ? json_pack("{s:s, s:s, s:i}", "candidate", cand, "sdpMid",
					     mid ? mid : "0", "sdpMLineIndex", 0)
				 : json_null());
	pl_client_sig_send(c, msg);
}

void pl_client_on_media_state(struct pl_client *c, enum pl_client_pc pc, int err)
{
	struct pl_client_peer *p = pc == PL_CLIENT_PC_PUB ? c->pub.peer : c->sub.peer;
	int64_t us = p ? pl_clock_mono_us() - p->created_us : 0;

	if (err == 0) {
		if (pc == PL_CLIENT_PC_PUB && c->pub_us < 0)
			c->pub_us = us;
		if (pc == PL_CLIENT_PC_SUB && c->sub_us < 0)
			c->sub_us = us;
		if (pc == PL_CLIENT_PC_PUB && c->player)
			pl_client_player_start(c->player);
	}
	if (c->cb.media_state)
		c->cb.media_state(c, c->ud, pc, err == 0 ? PL_CLIENT_MEDIA_CONNECTED : PL_CLIENT_MEDIA_FAILED,
				  err == 0 && p ? pl_srtp_profile_name(p->profile) : NULL);
}

/* ---- statistics ----------------------------------------------------------- */

struct call_stats {
	struct pl_client *c;
	struct pl_client_stats *st;
	struct pl_client_stream_stats *streams;
	size_t cap, n;
};

static void sum_streams(struct call_stats *a)
{
	const struct pl_client_sub *sub = &a->c->sub;
	struct pl_client_stats *st = a->st;

	st->packets_received = sub->ended_packets;
	st->bytes_received = sub->ended_bytes;
	st->expected = sub->ended_expected;
	st->lost = sub->ended_lost;
	st->duplicates = sub->ended_duplicates;
	st->rtx_received = sub->ended_rtx;
	st->nacks_sent = sub->ended_nacked;
	st->srtp_errors = sub->srtp_errors;
	st->plis_sent = sub->plis_sent;
	st->n_streams = sub->streams->len;
	for (guint i = 0; i < sub->streams->len; i++) {
		struct pl_client_stream_stats s;

		pl_client_sub_stream_stats(g_ptr_array_index(sub->streams, i), &s);
		st->packets_received += s.packets;
		st->bytes_received += s.bytes;
		st->expected += s.expected;
		st->lost += s.lost;
		st->duplicates += s.duplicates;
		st->rtx_received += s.rtx;
		st->nacks_sent += s.nacked;
		if (a->n < a->cap)
			a->streams[a->n++] = s;
	}
}

static void stats_on_loop(void *ud)
{
	struct call_stats *a = ud;
	struct pl_client *c = a->c;
	struct pl_client_stats *st = a->st;

	memset(st, 0, sizeof(*st));
	st->join_us = c->join_us;
	st->pub_us = c->pub_us;
	st->sub_us = c->sub_us;
	if (c->pub.peer && c->pub.peer->connected)
		g_strlcpy(st->pub_srtp, pl_srtp_profile_name(c->pub.peer->profile), sizeof(st->pub_srtp));
	if (c->sub.peer && c->sub.peer->connected)
		g_strlcpy(st->sub_srtp, pl_srtp_profile_name(c->sub.peer->profile), sizeof(st->sub_srtp));
	st->audio_packets_sent = c->audio_sent;
	st->video_packets_sent = c->video_sent;
	st->bytes_sent = c->bytes_sent;
	st->frames_sent = c->frames_sent;
	st->nacks_received = c->nacks_received;
	st->retransmits = c->retransmits;
	st->plis_received = c->plis_received;
	st->rtt_ms = c->rtt_ms;
	st->dropped_in = c->dropped_in;
	st->dropped_out = c->dropped_out;
	pl_client_impair_stats(c, st);
	st->reconnects = c->reconnects;
	st->reconnecting = c->reconnecting;
	sum_streams(a);
}

void pl_client_get_stats(struct pl_client *c, struct pl_client_stats *st,
			 struct pl_client_stream_stats *streams, size_t cap, size_t *n)
{
	struct call_stats a = { .c = c, .st = st, .streams = streams, .cap = streams ? cap : 0 };

	pl_client_loop_call(c->loop, stats_on_loop, &a);
	if (n)
		*n = a.n;
}

const char *pl_client_id(const struct pl_client *c)
{
	return c->pid;
}
