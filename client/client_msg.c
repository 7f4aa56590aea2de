/* client/client_msg.c: the protocol messages a client receives.
 *
 * One function per message type of docs/protocol.md, reading the JSON the
 * server sends and turning it into callbacks (joined, participant, track,
 * chat, ack, history, error) or into media actions (the pub answer, sub
 * offers, trickled candidates).  Anything malformed is logged at DEBUG and
 * ignored: the server is trusted to speak the protocol, but a client must
 * not crash on a message it does not understand.  Runs on the loop thread.
 */
#include "client/client_internal.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LISTED 256 /* participants passed to `joined`, history messages */

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A request id we sent (always an integer); 0 for anything else. */
static uint32_t req_id(json_t *msg)
{
	json_t *id = json_object_get(msg, "id");

	return json_is_integer(id) ? (uint32_t)json_integer_value(id) : 0;
}

static void participant_of(json_t *o, struct pl_client_participant *p)
{
	p->id = str(o, "id");
	p->display = str(o, "display");
	p->user = str(o, "user");
}

static enum pl_client_change change_of(const char *ev)
{
	if (ev && strcmp(ev, "added") == 0)
		return PL_CLIENT_ADDED;
	if (ev && strcmp(ev, "joined") == 0)
		return PL_CLIENT_ADDED;
	if (ev && (strcmp(ev, "removed") == 0 || strcmp(ev, "left") == 0))
		return PL_CLIENT_REMOVED;
	return PL_CLIENT_UPDATED;
}

static void emit_track(struct pl_client *c, enum pl_client_change ev, const char *participant,
		       json_t *t)
{
	const char *kind = str(t, "kind");
	struct pl_client_track tr = {
		.participant = participant, .id = str(t, "id"),
		.kind = kind && strcmp(kind, "video") == 0 ? PL_CLIENT_VIDEO : PL_CLIENT_AUDIO,
		.muted = json_is_true(json_object_get(t, "muted")),
	};

	if (c->cb.track && tr.participant && tr.id)
		c->cb.track(c, c->ud, ev, &tr);
}

static void on_joined(struct pl_client *c, json_t *msg)
{
	json_t *list = json_object_get(msg, "participants"), *o;
	struct pl_client_participant you, others[MAX_LISTED];
	size_t n = 0, i;

	participant_of(json_object_get(msg, "you"), &you);
	if (!you.id)
		return;
	g_free(c->pid);
	c->pid = g_strdup(you.id);
	g_free(c->room);
	c->room = g_strdup(str(msg, "room"));
	if (c->join_sent_us)
		c->join_us = pl_clock_mono_us() - c->join_sent_us;
	json_array_foreach(list, i, o) {
		if (n < MAX_LISTED)
			participant_of(o, &others[n++]);
	}
	if (c->cb.joined)
		c->cb.joined(c, c->ud, c->room, &you, others, n,
			     (uint64_t)json_integer_value(json_object_get(json_object_get(msg, "chat"),
									 "last_seq")));
	json_array_foreach(list, i, o) {
		json_t *tracks = json_object_get(o, "tracks"), *t;
		size_t k;

		json_array_foreach(tracks, k, t)
			emit_track(c, PL_CLIENT_ADDED, str(o, "id"), t);
	}
}

static void on_participant(struct pl_client *c, json_t *msg)
{
	struct pl_client_participant p;

	participant_of(json_object_get(msg, "participant"), &p);
	if (c->cb.participant && p.id)
		c->cb.participant(c, c->ud, change_of(str(msg, "event")), &p);
}

static void on_track(struct pl_client *c, json_t *msg)
{
	emit_track(c, change_of(str(msg, "event")), str(msg, "participant"),
		   json_object_get(msg, "track"));
}

static void chat_of(json_t *o, struct pl_client_chat_msg *m)
{
	json_t *from = json_object_get(o, "from");

	m->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	m->ts_ms = json_integer_value(json_object_get(o, "ts"));
	m->from_id = str(from, "id");
	m->from_user = str(from, "user");
	m->from_display = str(from, "display");
	m->to = str(o, "to");
	m->text = str(o, "text");
}

static void on_chat(struct pl_client *c, json_t *msg)
{
	struct pl_client_chat_msg m;

	chat_of(msg, &m);
	if (c->cb.chat && m.text)
		c->cb.chat(c, c->ud, &m);
}

static void on_ack(struct pl_client *c, json_t *msg)
{
	if (c->cb.chat_ack)
		c->cb.chat_ack(c, c->ud, req_id(msg),
			       (uint64_t)json_integer_value(json_object_get(msg, "seq")),
			       json_integer_value(json_object_get(msg, "ts")));
}

static void on_history(struct pl_client *c, json_t *msg)
{
	json_t *list = json_object_get(msg, "messages"), *o;
	struct pl_client_chat_msg *msgs;
	size_t n = 0, i;

	if (!c->cb.history)
		return;
	msgs = g_new0(struct pl_client_chat_msg, json_array_size(list) + 1);
	json_array_foreach(list, i, o)
		chat_of(o, &msgs[n++]);
	c->cb.history(c, c->ud, req_id(msg), msgs, n, json_is_true(json_object_get(msg, "more")));
	g_free(msgs);
}

static void on_error(struct pl_client *c, json_t *msg)
{
	const char *code = str(msg, "code"), *text = str(msg, "message");

	PL_LOG(PL_LOG_INFO, "sig", "[p=%s] server error %s: %s", c->pid ? c->pid : "-",
	       code ? code : "?", text ? text : "");
	if (c->cb.error)
		c->cb.error(c, c->ud, req_id(msg), code ? code : "internal", text ? text : "");
}

static void on_candidate(struct pl_client *c, json_t *msg)
{
	const char *pc = str(msg, "pc");
	json_t *cand = json_object_get(msg, "candidate");
	struct pl_client_peer *p = NULL;

	if (pc && strcmp(pc, "pub") == 0)
		p = c->pub.peer;
	else if (pc && strcmp(pc, "sub") == 0)
		p = c->sub.peer;
	if (p && json_is_object(cand))
		pl_client_peer_add_candidate(p, str(cand, "candidate"));
}

static void on_sdp(struct pl_client *c, json_t *msg, bool offer)
{
	const char *pc = str(msg, "pc"), *sdp = str(msg, "sdp");
	json_t *rev = json_object_get(msg, "rev");

	if (!pc || !sdp)
		return;
	if (!offer && strcmp(pc, "pub") == 0)
		pl_client_pub_on_answer(c, sdp);
	else if (offer && strcmp(pc, "sub") == 0 && json_is_integer(rev))
		pl_client_sub_on_offer(c, (uint32_t)json_integer_value(rev), sdp);
}

void pl_client_msg_dispatch(struct pl_client *c, json_t *msg)
{
	const char *type = str(msg, "type");

	if (!type)
		return;
	if (strcmp(type, "joined") == 0)
		on_joined(c, msg);
	else if (strcmp(type, "participant") == 0)
		on_participant(c, msg);
	else if (strcmp(type, "track") == 0)
		on_track(c, msg);
	else if (strcmp(type, "chat") == 0)
		on_chat(c, msg);
	else if (strcmp(type, "ack") == 0)
		on_ack(c, msg);
	else if (strcmp(type, "history") == 0)
		on_history(c, msg);
	else if (strcmp(type, "error") == 0)
		on_error(c, msg);
	else if (strcmp(type, "candidate") == 0)
		on_candidate(c, msg);
	else if (strcmp(type, "offer") == 0)
		on_sdp(c, msg, true);
	else if (strcmp(type, "answer") == 0)
		on_sdp(c, msg, false);
	else
		PL_LOG(PL_LOG_DEBUG, "sig", "[p=%s] ignored message %s", c->pid ? c->pid : "-", type);
}
