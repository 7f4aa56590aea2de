/* signaling/session.c: the messages of the signaling protocol.
 *
 * One function per request type, each validating its fields strictly and
 * answering with the error PROTOCOL.md names.  Chat messages, history and
 * the room's last seq go through the asynchronous chat store; their
 * completions find the session again by id (it may have gone) and, for
 * joins, by join generation (it may have left and joined elsewhere).
 * A session that joined with a token is ended at the token's `exp` (a
 * timer armed at join), and a moderator's `kick` ends another one; both
 * go through leave_room, the path of `leave` and disconnection, so the
 * media workers drop the participant and the room hears of it at once.
 * Runs on the signaling thread.
 */
#include "signaling/internal.h"
#include "chat/chat.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* What a request waiting on the chat store needs to find its way back. */
struct pending {
	struct pl_server *srv;
	uint64_t sid;
	uint64_t gen;
	json_t *id;
	char *room;
};

static struct pending *pending_new(struct pl_session *s, json_t *id)
{
	struct pending *p = g_new0(struct pending, 1);

	p->srv = s->srv;
	p->sid = s->id;
	p->gen = s->join_gen;
	p->id = id ? json_incref(id) : NULL;
	p->room = g_strdup(s->room_name);
	return p;
}

static void pending_free(struct pending *p)
{
	json_decref(p->id);
	g_free(p->room);
	g_free(p);
}

/* Sends an error and returns its code, so handlers can `return fail(...)`. */
#define fail(s, id, code, ...) (pl_session_error((s), (id), (code), __VA_ARGS__), (int)(code))
#define OK (-1) /* handler result: processed, no protocol error */

json_t *pl_session_participant_json(const struct pl_session *m)
{
	return json_pack("{s:s, s:s, s:s, s:O}", "id", m->pid, "display", m->display, "user",
			 m->user, "tracks", m->tracks);
}
#define participant_json pl_session_participant_json

static void broadcast_participant(struct pl_session *s, const char *event)
{
	json_t *msg = json_pack("{s:s, s:s, s:o}", "type", "participant", "event", event,
				"participant", participant_json(s));
	struct pl_outbuf *b = pl_outbuf_from_json(msg);

	json_decref(msg);
	pl_room_broadcast(s->room, b, s);
	pl_outbuf_unref(b);
}

static void make_pid(char out[24])
{
	unsigned char r[6];

	if (RAND_bytes(r, sizeof(r)) != 1)
		g_error("RAND_bytes failed"); /* no safe fallback for ids */
	snprintf(out, 24, "p-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
}

/* ---- join / leave ---------------------------------------------------- */

static void leave_room(struct pl_session *s);

/* Ends a session whose token has expired: PROTOCOL.md says expired tokens
 * are refused, and a session is only as good as the token that opened it,
 * so it is not extended past `exp`.  The others hear `left` (and `track`
 * `removed`) at once; the client gets `unauthorized` and close 4002. */
static gboolean on_token_expiry(gpointer ud);

static void arm_token_expiry(struct pl_session *s)
{
	int64_t left_ms = s->claims.exp * 1000 - pl_clock_wall_ms();

	if (s->expiry_timer)
		g_source_remove(s->expiry_timer);
	/* A far exp is re-checked when the (capped) timer fires. */
	if (left_ms < 0)
		left_ms = 0;
	if (left_ms > 24 * 3600 * 1000)
		left_ms = 24 * 3600 * 1000;
	s->expiry_timer = g_timeout_add((guint)left_ms, on_token_expiry, s);
}

static void disarm_token_expiry(struct pl_session *s)
{
	if (s->expiry_timer)
		g_source_remove(s->expiry_timer);
	s->expiry_timer = 0;
}

/* The timer holds a pointer to s: it is removed in leave_room, which
 * every path to session_destroy goes through (pl_session_on_close). */
static gboolean on_token_expiry(gpointer ud)
{
	struct pl_session *s = ud;

	s->expiry_timer = 0;
	if (s->state != PL_SESSION_JOINED || !s->has_claims)
		return G_SOURCE_REMOVE;
	if (s->claims.exp * 1000 > pl_clock_wall_ms()) {
		arm_token_expiry(s); /* a capped wait for a far exp */
		return G_SOURCE_REMOVE;
	}
	s->srv->stats.tokens_expired++;
	PL_LOG(PL_LOG_INFO, "sig", "[room=%s p=%s] token expired, ending the session", s->room->name, s->pid);
	leave_room(s);
	pl_session_error(s, NULL, PL_PROTO_UNAUTHORIZED, "token expired");
	pl_session_close_after_flush(s, PL_CLOSE_TOKEN_EXPIRED);
	return G_SOURCE_REMOVE;
}

static void join_done(void *ud, const struct pl_chat_result *res)
{
	struct pending *p = ud;
	struct pl_room *room = pl_room_find(p->srv, p->room);
	struct pl_session *s = pl_server_find_session(p->srv, p->sid);

	if (room)
		room->pending_joins--;
	if (!s || s->dead || s->join_gen != p->gen || s->state != PL_SESSION_JOINING || !room) {
		if (room)
			pl_room_release_if_empty(p->srv, room);
		pending_free(p);
		return;
	}
	if (res->err < 0) {
		s->state = PL_SESSION_IDLE;
		pl_room_release_if_empty(p->srv, room);
		pl_session_error(s, p->id, PL_PROTO_INTERNAL, "chat store unavailable");
		pending_free(p);
		return;
	}
	json_t *others = json_array();
	for (guint i = 0; i < room->members->len; i++)
		json_array_append_new(others, participant_json(g_ptr_array_index(room->members, i)));
	pl_room_add(room, s);
	s->room = room;
	s->state = PL_SESSION_JOINED;
	json_t *msg = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:I}}", "type", "joined", "room",
				room->name, "you", participant_json(s), "participants", others,
				"ice_servers", pl_media_sig_ice_servers(s->srv), "chat", "last_seq",
				(json_int_t)res->last_seq);
	if (p->id)
		json_object_set(msg, "id", p->id);
	pl_session_send(s, msg);
	broadcast_participant(s, "joined");
	pl_media_sig_join(s);
	if (s->has_claims)
		arm_token_expiry(s);
	PL_LOG(PL_LOG_INFO, "sig", "[room=%s p=%s] joined (%u in room)", room->name, s->pid,
	       room->members->len);
	pending_free(p);
}

/* Applies the token (when the server has a secret): identity and rights. */
static int join_auth(struct pl_session *s, json_t *id, json_t *token, const char *room,
		     const char **user, const char **display)
{
	const char *secret = s->srv->cfg->auth_secret;
	int rc;

	if (!secret || !*secret)
		return OK;
	if (!json_is_string(token)) {
		s->srv->stats.unauthorized++;
		return fail(s, id, PL_PROTO_UNAUTHORIZED, "a token is required");
	}
	rc = pl_auth_verify(secret, json_string_value(token), pl_clock_wall_ms() / 1000, &s->claims);
	if (rc < 0 || !pl_auth_claims_allow_room(&s->claims, room))
		s->srv->stats.unauthorized++;
	if (rc == PL_EEXPIRED)
		return fail(s, id, PL_PROTO_UNAUTHORIZED, "token expired");
	if (rc < 0)
		return fail(s, id, PL_PROTO_UNAUTHORIZED, "invalid token");
	if (!pl_auth_claims_allow_room(&s->claims, room))
		return fail(s, id, PL_PROTO_UNAUTHORIZED, "token is not valid for this room");
	s->has_claims = true;
	*user = s->claims.sub;
	if (s->claims.name[0] && pl_proto_display_is_valid(s->claims.name))
		*display = s->claims.name;
	return OK;
}

static int handle_join(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jroom = json_object_get(msg, "room"), *jdisp = json_object_get(msg, "display");
	json_t *juser = json_object_get(msg, "user");
	const char *room, *display, *user = NULL;
	struct pl_room *r;
	int rc;

	if (s->state != PL_SESSION_IDLE)
		return fail(s, id, PL_PROTO_CONFLICT, "already in a room");
	if (!json_is_string(jroom) || !pl_proto_room_is_valid(json_string_value(jroom)))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'room' must be 1-64 characters of [A-Za-z0-9_.-]");
	if (!json_is_string(jdisp) || !pl_proto_display_is_valid(json_string_value(jdisp)))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'display' must be 1-64 printable characters");
	if (juser && !(json_is_string(juser) && pl_proto_room_is_valid(json_string_value(juser))))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'user' must be 1-64 characters of [A-Za-z0-9_.-]");
	room = json_string_value(jroom);
	display = json_string_value(jdisp);
	user = juser ? json_string_value(juser) : NULL;
	s->has_claims = false;
	rc = join_auth(s, id, json_object_get(msg, "token"), room, &user, &display);
	if (rc != OK)
		return rc;
	r = pl_room_get_or_create(s->srv, room);
	if (!r) {
		s->srv->stats.rooms_full++;
		PL_LOG(PL_LOG_INFO, "sig", "[conn=%" PRIu64 " ip=%s] join refused: limits.max_rooms reached",
		       s->id, s->ip);
		return fail(s, id, PL_PROTO_ROOM_FULL, "the server's room limit is reached");
	}
	if ((int)r->members->len + r->pending_joins >= s->srv->cfg->limits.max_participants_per_room) {
		pl_room_release_if_empty(s->srv, r);
		s->srv->stats.room_full++;
		PL_LOG(PL_LOG_INFO, "sig", "[conn=%" PRIu64 " ip=%s room=%s] join refused: room full",
		       s->id, s->ip, room);
		return fail(s, id, PL_PROTO_ROOM_FULL, "room '%s' is full", room);
	}
	make_pid(s->pid);
	g_free(s->user), g_free(s->display), g_free(s->room_name);
	s->user = g_strdup(user ? user : s->pid);
	s->display = g_strdup(display);
	s->room_name = g_strdup(room);
	s->join_gen++;
	struct pending *p = pending_new(s, id);
	rc = pl_chat_store_last_seq(s->srv->store, room, join_done, p);
	if (rc < 0) {
		pending_free(p);
		pl_room_release_if_empty(s->srv, r);
		return fail(s, id, rc == PL_EBUSY ? PL_PROTO_RATE_LIMITED : PL_PROTO_INTERNAL,
			    "chat store: %s", pl_strerror(rc));
	}
	r->pending_joins++;
	s->state = PL_SESSION_JOINING;
	return OK;
}

/* Leaves the room (or abandons a join in flight). */
static void leave_room(struct pl_session *s)
{
	disarm_token_expiry(s);
	if (s->state == PL_SESSION_JOINED) {
		struct pl_room *r = s->room;
		pl_media_sig_leave(s); /* clears its tracks first */
		if (!s->srv->shutting_down)
			broadcast_participant(s, "left");
		PL_LOG(PL_LOG_INFO, "sig", "[room=%s p=%s] left", r->name, s->pid);
		s->room = NULL;
		pl_room_remove(s->srv, r, s);
	}
	s->state = PL_SESSION_IDLE;
	s->join_gen++;
}

static int handle_leave(struct pl_session *s, json_t *msg, json_t *id)
{
	if (s->state == PL_SESSION_IDLE)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	leave_room(s);
	if (id)
		pl_session_send(s, json_pack("{s:s, s:O}", "type", "left", "id", id));
	return OK;
}

void pl_session_on_close(struct pl_session *s)
{
	leave_room(s);
	g_free(s->user), g_free(s->display), g_free(s->room_name);
	s->user = s->display = s->room_name = NULL;
	json_decref(s->tracks), json_decref(s->pub_req_id), json_decref(s->sub_req_id);
	json_decref(s->pub_sources);
	s->tracks = s->pub_req_id = s->sub_req_id = s->pub_sources = NULL;
}

/* ---- chat ------------------------------------------------------------ */

static json_t *chat_json(const struct pl_chat_msg *m)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:s}, s:s?, s:s}", "type", "chat",
			 "room", m->room, "seq", (json_int_t)m->seq, "ts", (json_int_t)m->ts_ms,
			 "from", "id", m->from_pid, "user", m->from_user, "display", m->from_display,
			 "to", m->to_pid, "text", m->text);
}

static void fan_out_chat(struct pl_server *srv, const struct pl_chat_msg *m)
{
	struct pl_room *r = pl_room_find(srv, m->room);
	json_t *msg;
	struct pl_outbuf *b;

	if (!r)
		return;
	msg = chat_json(m);
	b = pl_outbuf_from_json(msg);
	json_decref(msg);
	for (guint i = 0; i < r->members->len; i++) {
		struct pl_session *o = g_ptr_array_index(r->members, i);
		if (!m->to_user || strcmp(o->user, m->from_user) == 0 || strcmp(o->user, m->to_user) == 0)
			pl_session_send_buf(o, b);
	}
	pl_outbuf_unref(b);
}

static void chat_done(void *ud, const struct pl_chat_result *res)
{
	struct pending *p = ud;
	struct pl_session *s = pl_server_find_session(p->srv, p->sid);

	if (res->err < 0) {
		p->srv->stats.chat_failed++;
		PL_LOG(PL_LOG_ERROR, "chat", "[room=%s] append failed: %s", p->room, pl_strerror(res->err));
		if (s)
			pl_session_error(s, p->id, PL_PROTO_INTERNAL, "message not stored");
		pending_free(p);
		return;
	}
	p->srv->stats.chat_acked++;
	if (s) {
		json_t *ack = json_pack("{s:s, s:I, s:I}", "type", "ack", "seq", (json_int_t)res->msg->seq,
					"ts", (json_int_t)res->msg->ts_ms);
		if (p->id)
			json_object_set(ack, "id", p->id);
		pl_session_send(s, ack);
	}
	if (!res->duplicate)
		fan_out_chat(p->srv, res->msg);
	pending_free(p);
}

static int handle_chat(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jtext = json_object_get(msg, "text"), *jto = json_object_get(msg, "to");
	json_t *jcmid = json_object_get(msg, "client_msg_id");
	struct pl_session *to = NULL;
	int rc;

	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (!json_is_string(jtext) || !pl_proto_text_is_valid(json_string_value(jtext)))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'text' must be 1-%d characters", PL_PROTO_TEXT_MAX);
	if (jto && !json_is_null(jto) && !json_is_string(jto))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'to' must be a participant id or null");
	if (jcmid && !json_is_null(jcmid) &&
	    !(json_is_string(jcmid) && json_string_length(jcmid) >= 1 && json_string_length(jcmid) <= 128))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'client_msg_id' must be a string of 1-128 bytes");
	if (s->has_claims && !s->claims.chat) {
		s->srv->stats.forbidden++;
		return fail(s, id, PL_PROTO_FORBIDDEN, "this token does not allow chat");
	}
	if (json_is_string(jto) && !(to = pl_room_find_member(s->room, json_string_value(jto))))
		return fail(s, id, PL_PROTO_NOT_FOUND, "no participant '%s' in this room", json_string_value(jto));
	if (!pl_session_take_chat(s)) {
		s->srv->stats.rate_limited++;
		pl_session_error(s, id, PL_PROTO_RATE_LIMITED, "chat rate limit exceeded");
		return PL_PROTO_RATE_LIMITED;
	}
	struct pl_chat_msg m = {
		.room = s->room->name, .from_pid = s->pid, .from_user = s->user,
		.from_display = s->display, .to_pid = to ? to->pid : NULL,
		.to_user = to ? to->user : NULL, .text = json_string_value(jtext),
		.client_msg_id = json_is_string(jcmid) ? json_string_value(jcmid) : NULL,
	};
	struct pending *p = pending_new(s, id);
	rc = pl_chat_store_append(s->srv->store, &m, chat_done, p);
	if (rc < 0) {
		pending_free(p);
		if (rc == PL_EBUSY)
			s->srv->stats.rate_limited++;
		return fail(s, id, rc == PL_EBUSY ? PL_PROTO_RATE_LIMITED : PL_PROTO_INTERNAL,
			    "chat store: %s", pl_strerror(rc));
	}
	return OK;
}

static void history_done(void *ud, const struct pl_chat_result *res)
{
	struct pending *p = ud;
	struct pl_session *s = pl_server_find_session(p->srv, p->sid);

	if (s && res->err < 0) {
		pl_session_error(s, p->id, PL_PROTO_INTERNAL, "history unavailable");
	} else if (s) {
		json_t *arr = json_array();
		for (size_t i = 0; i < res->n; i++)
			json_array_append_new(arr, chat_json(&res->msgs[i]));
		json_t *msg = json_pack("{s:s, s:o, s:b}", "type", "history", "messages", arr, "more",
					res->more);
		if (p->id)
			json_object_set(msg, "id", p->id);
		pl_session_send(s, msg);
	}
	pending_free(p);
}

static bool get_seq(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static int handle_history(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jb = json_object_get(msg, "before"), *ja = json_object_get(msg, "after");
	json_t *jl = json_object_get(msg, "limit");
	struct pl_chat_query q = { .limit = 50 };
	int rc;

	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (jb && ja)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "give 'before' or 'after', not both");
	if ((jb && !(q.has_before = get_seq(jb, &q.before))) || (ja && !(q.has_after = get_seq(ja, &q.after))))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "fields 'before'/'after' must be non-negative integers");
	if (jl) {
		if (!json_is_integer(jl) || json_integer_value(jl) < 1 || json_integer_value(jl) > PL_CHAT_PAGE_MAX)
			return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'limit' must be an integer 1-%d", PL_CHAT_PAGE_MAX);
		q.limit = (unsigned)json_integer_value(jl);
	}
	q.room = s->room->name;
	q.user = s->user;
	struct pending *p = pending_new(s, id);
	rc = pl_chat_store_history(s->srv->store, &q, history_done, p);
	if (rc < 0) {
		pending_free(p);
		return fail(s, id, rc == PL_EBUSY ? PL_PROTO_RATE_LIMITED : PL_PROTO_INTERNAL,
			    "chat store: %s", pl_strerror(rc));
	}
	return OK;
}

static int handle_typing(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *act = json_object_get(msg, "active");

	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (!json_is_boolean(act))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'active' must be a boolean");
	if (s->has_claims && !s->claims.chat) {
		s->srv->stats.forbidden++;
		return fail(s, id, PL_PROTO_FORBIDDEN, "this token does not allow chat");
	}
	json_t *out = json_pack("{s:s, s:s, s:b}", "type", "typing", "from", s->pid, "active",
				json_is_true(act));
	struct pl_outbuf *b = pl_outbuf_from_json(out);
	json_decref(out);
	pl_room_broadcast(s->room, b, s);
	pl_outbuf_unref(b);
	return OK;
}

static int handle_update(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jd = json_object_get(msg, "display");

	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (!json_is_string(jd) || !pl_proto_display_is_valid(json_string_value(jd)))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'display' must be 1-64 printable characters");
	if (!(s->has_claims && s->claims.name[0])) { /* a token's name is authoritative */
		g_free(s->display);
		s->display = g_strdup(json_string_value(jd));
	}
	broadcast_participant(s, "updated");
	if (id)
		pl_session_send(s, json_pack("{s:s, s:O}", "type", "updated", "id", id));
	return OK;
}

/* Extension `kick`: a participant whose token has `moderator: true`
 * removes another participant of its room.  The target is taken out of
 * the room at once through the same path as `leave` (its tracks are
 * removed from every subscriber and the others get `track` `removed` and
 * `participant` `left`), gets `forbidden`, and its connection is closed
 * with 4003 once that error is written. */
static int handle_kick(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jp = json_object_get(msg, "participant");
	struct pl_session *t;

	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (!json_is_string(jp))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'participant' must be a participant id");
	/* Rights before lookup: a participant without them learns nothing
	 * about who is in the room from the error. */
	if (!(s->has_claims && s->claims.moderator)) {
		s->srv->stats.forbidden++;
		return fail(s, id, PL_PROTO_FORBIDDEN, "this token does not allow kicking");
	}
	t = pl_room_find_member(s->room, json_string_value(jp));
	if (!t)
		return fail(s, id, PL_PROTO_NOT_FOUND, "no participant '%.40s' in this room", json_string_value(jp));
	if (t == s)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "use leave to leave the room");
	s->srv->stats.kicked++;
	PL_LOG(PL_LOG_INFO, "sig", "[room=%s p=%s] kicked by %s", s->room->name, t->pid, s->pid);
	json_t *reply = json_pack("{s:s, s:s}", "type", "kicked", "participant", t->pid);
	leave_room(t);
	pl_session_error(t, NULL, PL_PROTO_FORBIDDEN, "removed from the room by a moderator (%s)", s->pid);
	pl_session_close_after_flush(t, PL_CLOSE_KICKED);
	if (id)
		json_object_set(reply, "id", id);
	pl_session_send(s, reply);
	return OK;
}

static int handle_ping(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *out = json_pack("{s:s}", "type", "pong");

	if (id)
		json_object_set(out, "id", id);
	pl_session_send(s, out);
	return OK;
}

/* ---- dispatch -------------------------------------------------------- */

static const struct {
	const char *type;
	int (*fn)(struct pl_session *, json_t *, json_t *);
} handlers[] = {
	{ "join", handle_join }, { "leave", handle_leave }, { "chat", handle_chat },
	{ "history", handle_history }, { "typing", handle_typing }, { "update", handle_update },
	{ "ping", handle_ping }, { "offer", pl_media_sig_offer }, { "answer", pl_media_sig_answer },
	{ "candidate", pl_media_sig_candidate }, { "mute", pl_media_sig_mute },
	{ "subscribe", pl_media_sig_subscribe },
	{ "kick", handle_kick },
};

static int dispatch(struct pl_session *s, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *msg, *id, *type;
	int rc = PL_PROTO_BAD_REQUEST;

	if (!buf)
		return fail(s, NULL, PL_PROTO_BAD_REQUEST, "binary frames are not accepted");
	msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg)
		return fail(s, NULL, PL_PROTO_BAD_REQUEST, "invalid JSON: %s", jerr.text);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return fail(s, NULL, PL_PROTO_BAD_REQUEST, "a message must be a JSON object");
	}
	id = json_object_get(msg, "id");
	if (id && !json_is_integer(id) && !json_is_string(id)) {
		json_decref(msg);
		return fail(s, NULL, PL_PROTO_BAD_REQUEST, "field 'id' must be an integer or a string");
	}
	type = json_object_get(msg, "type");
	if (!pl_session_take_msg(s)) {
		s->srv->stats.rate_limited++;
		pl_session_error(s, id, PL_PROTO_RATE_LIMITED, "message rate limit exceeded");
		json_decref(msg);
		return PL_PROTO_RATE_LIMITED;
	}
	if (!json_is_string(type)) {
		rc = fail(s, id, PL_PROTO_BAD_REQUEST, "field 'type' must be a string");
	} else {
		size_t i;
		for (i = 0; i < G_N_ELEMENTS(handlers); i++)
			if (strcmp(handlers[i].type, json_string_value(type)) == 0)
				break;
		if (i < G_N_ELEMENTS(handlers))
			rc = handlers[i].fn(s, msg, id);
		else
			rc = fail(s, id, PL_PROTO_BAD_REQUEST, "unknown type '%.40s'", json_string_value(type));
	}
	json_decref(msg);
	return rc;
}

void pl_session_handle_text(struct pl_session *s, const char *buf, size_t len)
{
	int rc = dispatch(s, buf, len);

	if (rc == PL_PROTO_RATE_LIMITED)
		return; /* neither counts nor resets the error run */
	if (rc != PL_PROTO_BAD_REQUEST) {
		s->errors_in_row = 0;
		return;
	}
	s->srv->stats.protocol_errors++;
	if (++s->errors_in_row == 1)
		PL_LOG(PL_LOG_DEBUG, "sig", "[conn=%" PRIu64 " ip=%s] protocol error", s->id, s->ip);
	if (s->errors_in_row >= PL_PROTO_ERRORS_IN_ROW) {
		PL_LOG(PL_LOG_INFO, "sig", "[conn=%" PRIu64 " ip=%s] %d protocol errors in a row, closing 1008",
		       s->id, s->ip, s->errors_in_row);
		pl_session_close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
	}
}
