/* client/client_reconnect.c: coming back after the WebSocket was lost.
 *
 * The server forgets a participant whose WebSocket closes (its pub, its
 * sub, its tracks), so a reconnection is a new session: a new socket, the
 * same join, a new pub offer for the same tracks (same SSRCs, sequence
 * numbers going on) and the server's new sub offer answered on a new sub
 * connection.  Retries back off exponentially with jitter so that the
 * clients of a restarted server do not all come back in the same instant
 * (as web-demo/parley.js does).  The state lives in struct pl_client's
 * reconnect fields (client_internal.h); the join to repeat is the one
 * client.c last sent for the application.
 *
 * Threads: the loop thread only (signaling callbacks and a GLib timer on
 * the loop's context).
 */
#include "client/client_internal.h"
#include "common/log.h"

#include <string.h>

void pl_client_rejoin_forget(struct pl_client *c)
{
	g_free(c->rj_room);
	g_free(c->rj_display);
	g_free(c->rj_token);
	g_free(c->rj_user);
	c->rj_room = c->rj_display = c->rj_token = c->rj_user = NULL;
}

void pl_client_reconnect_cancel(struct pl_client *c)
{
	if (c->rc_timer) {
		g_source_destroy(c->rc_timer);
		g_source_unref(c->rc_timer);
		c->rc_timer = NULL;
	}
}

static void rc_emit(struct pl_client *c, enum pl_client_reconnect ev, unsigned delay_ms)
{
	if (c->cb.reconnect)
		c->cb.reconnect(c, c->ud, ev, c->rc_attempt, delay_ms);
}

static void rc_schedule(struct pl_client *c);

static gboolean on_rc_timer(gpointer ud)
{
	struct pl_client *c = ud;

	g_source_unref(c->rc_timer); /* the context keeps it while it runs */
	c->rc_timer = NULL;
	if (!c->reconnecting || c->closing)
		return G_SOURCE_REMOVE;
	pl_client_sig_reset(&c->sig);
	/* Queued first, so it goes out as soon as the socket opens. */
	pl_client_join_send(c, c->rj_room, c->rj_display, c->rj_token, c->rj_user, NULL);
	/* A synchronous failure has already gone through on_sig_lost (and
	 * scheduled the next attempt) when the state is SIG_CLOSED. */
	if (pl_client_sig_connect(c) < 0 && !c->rc_timer)
		rc_schedule(c);
	return G_SOURCE_REMOVE;
}

static void rc_schedule(struct pl_client *c)
{
	unsigned raw = c->rc_min_ms, delay;

	for (unsigned i = 0; i < c->rc_attempt && raw < c->rc_max_ms; i++)
		raw *= 2;
	raw = MIN(raw, c->rc_max_ms);
	delay = (unsigned)g_random_int_range((gint32)(raw * 3 / 4), (gint32)(raw * 5 / 4) + 1);
	delay = MIN(delay, c->rc_max_ms);
	c->rc_attempt++;
	pl_client_reconnect_cancel(c);
	c->rc_timer = g_timeout_source_new(delay);
	g_source_set_callback(c->rc_timer, on_rc_timer, c, NULL);
	g_source_attach(c->rc_timer, c->loop->ctx);
	PL_LOG(PL_LOG_DEBUG, "sig", "reconnecting to %s:%d in %u ms (attempt %u)", c->sig.host,
	       c->sig.port, delay, c->rc_attempt);
	rc_emit(c, PL_CLIENT_RECONNECTING, delay);
}

void pl_client_on_sig_lost(struct pl_client *c)
{
	if (c->closing || c->reconnect_off || c->left || !c->rj_room)
		return;
	if (!c->reconnecting && !c->ever_open)
		return; /* never got in: the application hears `disconnected` */
	/* The server ended the session for good, after an `error` saying why:
	 * the token expired (close 4002) or a moderator removed us (4003).
	 * Coming back would be refused, or unwanted. */
	if (c->sig.close_code == 4002 || c->sig.close_code == 4003) {
		c->reconnecting = false;
		rc_emit(c, PL_CLIENT_RECONNECT_FAILED, 0);
		return;
	}
	if (!c->reconnecting) {
		/* Everything of the old session goes; the tracks stay. */
		c->reconnecting = true;
		c->rc_attempt = 0;
		pl_client_pub_detach(c);
		pl_client_sub_reset(c);
		g_free(c->pid);
		c->pid = NULL;
	}
	rc_schedule(c);
}

/* `joined`: a pub offer that waited for it goes out; the rejoin's reply:
 * joined (publish again) or a refusal. */
void pl_client_on_message(struct pl_client *c, const char *type, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	const char *code;

	if (type && strcmp(type, "joined") == 0 && !c->reconnecting && c->pub.peer &&
	    c->pub.peer->gathering_done)
		pl_client_pub_send_offer(c); /* a publish made before `joined` */
	if (!c->reconnecting || !type || !json_is_integer(id) ||
	    (uint32_t)json_integer_value(id) != c->join_req)
		return;
	if (strcmp(type, "joined") == 0) {
		c->reconnecting = false;
		c->reconnects++;
		pl_client_pub_detach(c); /* a publish made while we were away */
		if (pl_client_pub_restart(c) < 0)
			PL_LOG(PL_LOG_WARN, "sig", "[p=%s] cannot publish again", c->pid ? c->pid : "-");
		rc_emit(c, PL_CLIENT_RECONNECTED, 0);
		c->rc_attempt = 0;
	} else if (strcmp(type, "error") == 0) {
		code = json_string_value(json_object_get(msg, "code"));
		if (code && (strcmp(code, "unauthorized") == 0 || strcmp(code, "bad_request") == 0 ||
			     strcmp(code, "forbidden") == 0)) {
			c->reconnecting = false;
			pl_client_sig_abort(&c->sig);
			rc_emit(c, PL_CLIENT_RECONNECT_FAILED, 0);
		} else {
			/* room_full, rate_limited, internal: try again later. */
			pl_client_sig_abort(&c->sig);
			rc_schedule(c);
		}
	}
}
