/* client/client_sig.c: the signaling WebSocket of a client, on lws.
 *
 * Every client of a loop has one client connection on the loop's lws
 * context (which runs on the loop's GMainContext through lws's GLib event
 * library).  Outgoing messages are JSON text queued here, each with lws's
 * LWS_PRE headroom, and written one per WRITEABLE callback; the queue is
 * bounded (a server that stops reading makes sends fail with PL_EBUSY).
 * Incoming messages are reassembled from fragments, parsed with jansson
 * and handed to client_msg.c.  The wsi carries its client as lws's opaque
 * user data; a client going away clears it first, so callbacks that lws
 * delivers while closing the socket find no client and do nothing.
 * Runs on the loop thread.
 */
#include "client/client_internal.h"
#include "common/err.h"
#include "common/log.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL_NAME "parley.v1"
#define RX_MAX_BYTES (1u << 20)
#define OUT_MAX_BYTES (4u << 20)

struct sig_msg {
	size_t len;
	unsigned char data[]; /* LWS_PRE bytes, then the text */
};

int pl_client_sig_init(struct pl_client_sig *s, const char *url, bool tls_insecure)
{
	char buf[1024];
	const char *prot, *addr, *path;
	int port;

	memset(s, 0, sizeof(*s));
	g_queue_init(&s->out);
	if (!url || strlen(url) >= sizeof(buf))
		return PL_EINVAL;
	strcpy(buf, url);
	if (lws_parse_uri(buf, &prot, &addr, &port, &path) != 0)
		return PL_EINVAL;
	if (strcmp(prot, "ws") == 0)
		s->tls = false;
	else if (strcmp(prot, "wss") == 0)
		s->tls = true;
	else
		return PL_EINVAL;
	if (!*addr || strlen(addr) >= sizeof(s->host) || strlen(path) + 2 > sizeof(s->path))
		return PL_EINVAL;
	/* lws_parse_uri() defaults the port to 80 or 443 from the scheme. */
	g_strlcpy(s->host, addr, sizeof(s->host));
	s->port = port;
	snprintf(s->path, sizeof(s->path), "/%s", path);
	s->tls_insecure = tls_insecure;
	s->rx = g_string_new(NULL);
	return 0;
}

void pl_client_sig_abort(struct pl_client_sig *s)
{
	if (s->wsi) {
		/* lws closes the socket on its next service; no callback of
		 * ours will see this wsi again. */
		lws_set_opaque_user_data(s->wsi, NULL);
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		s->wsi = NULL;
	}
	s->state = SIG_CLOSED;
}

static void drop_queue(struct pl_client_sig *s)
{
	struct sig_msg *m;

	while ((m = g_queue_pop_head(&s->out)) != NULL)
		g_free(m);
	s->out_bytes = 0;
}

void pl_client_sig_reset(struct pl_client_sig *s)
{
	pl_client_sig_abort(s);
	drop_queue(s);
	if (s->rx)
		g_string_truncate(s->rx, 0);
	s->close_code = 0;
	s->state = SIG_IDLE;
}

void pl_client_sig_release(struct pl_client_sig *s)
{
	pl_client_sig_abort(s);
	drop_queue(s);
	g_free(s->idle_policy);
	s->idle_policy = NULL;
	if (s->rx)
		g_string_free(s->rx, TRUE);
	s->rx = NULL;
	s->state = SIG_CLOSED;
}

int pl_client_sig_connect(struct pl_client *c)
{
	struct pl_client_sig *s = &c->sig;
	struct lws_client_connect_info ci;

	if (s->state != SIG_IDLE)
		return s->state == SIG_CLOSED ? PL_ECLOSED : 0;
	memset(&ci, 0, sizeof(ci));
	ci.context = pl_client_loop_lws(c->loop, s->tls);
	if (!ci.context) {
		s->state = SIG_CLOSED;
		return PL_EIO;
	}
	ci.address = s->host;
	ci.port = s->port;
	ci.path = s->path;
	ci.host = s->host;
	ci.origin = s->host;
	ci.protocol = PROTOCOL_NAME;
	ci.local_protocol_name = PROTOCOL_NAME;
	ci.opaque_user_data = c;
	ci.pwsi = &s->wsi;
	/* lws pings after a third of the idle timeout without valid traffic
	 * and hangs up after all of it (CLIENT_CLOSED: a reconnect). */
	if (!s->idle_policy) {
		lws_retry_bo_t *p = g_new0(lws_retry_bo_t, 1);

		p->secs_since_valid_ping = (uint16_t)MAX(1u, s->idle_timeout_s / 3);
		p->secs_since_valid_hangup = (uint16_t)MAX(2u, s->idle_timeout_s);
		s->idle_policy = p;
	}
	ci.retry_and_idle_policy = s->idle_policy;
	if (s->tls)
		ci.ssl_connection = LCCSCF_USE_SSL |
				    (s->tls_insecure ? LCCSCF_ALLOW_SELFSIGNED |
				     LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED : 0);
	s->state = SIG_CONNECTING;
	if (!lws_client_connect_via_info(&ci)) {
		/* The error callback may already have run and reported it. */
		s->wsi = NULL;
		if (s->state == SIG_CONNECTING) {
			s->state = SIG_CLOSED;
			return PL_EIO;
		}
	}
	return 0;
}

int pl_client_sig_send(struct pl_client *c, json_t *msg)
{
	struct pl_client_sig *s = &c->sig;
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	struct sig_msg *m;

	json_decref(msg);
	if (!text)
		return PL_EINVAL;
	if (s->state == SIG_CLOSED || s->out_bytes + len > OUT_MAX_BYTES) {
		free(text);
		return s->state == SIG_CLOSED ? PL_ECLOSED : PL_EBUSY;
	}
	m = g_malloc(sizeof(*m) + LWS_PRE + len);
	m->len = len;
	memcpy(m->data + LWS_PRE, text, len);
	free(text);
	g_queue_push_tail(&s->out, m);
	s->out_bytes += len;
	if (s->state == SIG_OPEN && s->wsi)
		lws_callback_on_writable(s->wsi);
	return 0;
}

static int on_writeable(struct pl_client *c, struct lws *wsi)
{
	struct pl_client_sig *s = &c->sig;
	struct sig_msg *m = g_queue_pop_head(&s->out);
	int n;

	if (!m)
		return 0;
	s->out_bytes -= m->len;
	n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
	g_free(m);
	if (n < 0)
		return -1;
	if (!g_queue_is_empty(&s->out))
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_receive(struct pl_client *c, struct lws *wsi, const char *in, size_t len)
{
	struct pl_client_sig *s = &c->sig;
	json_error_t jerr;
	json_t *msg;

	if (lws_frame_is_binary(wsi))
		return;
	if (s->rx->len + len > RX_MAX_BYTES) {
		g_string_truncate(s->rx, 0);
		PL_LOG(PL_LOG_WARN, "sig", "a server message over %u bytes was dropped", RX_MAX_BYTES);
		return;
	}
	g_string_append_len(s->rx, in, (gssize)len);
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return;
	msg = json_loadb(s->rx->str, s->rx->len, 0, &jerr);
	g_string_truncate(s->rx, 0);
	if (!msg || !json_is_object(msg)) {
		PL_LOG(PL_LOG_WARN, "sig", "unparsable server message: %s", jerr.text);
		json_decref(msg);
		return;
	}
	pl_client_msg_dispatch(c, msg);
	/* After the application saw it (`joined` before RECONNECTED); the
	 * reconnect logic may close this socket, which is safe here: the wsi
	 * is only marked for closing. */
	pl_client_on_message(c, json_string_value(json_object_get(msg, "type")), msg);
	json_decref(msg);
}

static void on_lost(struct pl_client *c, int err, const char *why, size_t len)
{
	struct pl_client_sig *s = &c->sig;

	if (s->state == SIG_CLOSED)
		return;
	s->state = SIG_CLOSED;
	s->wsi = NULL;
	PL_LOG(PL_LOG_INFO, "sig", "connection to %s:%d %s: %.*s", s->host, s->port,
	       err == PL_EIO ? "failed" : "closed", why ? (int)len : 1, why ? why : "-");
	if (c->cb.disconnected)
		c->cb.disconnected(c, c->ud, err);
	pl_client_on_sig_lost(c);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct pl_client *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->sig.state = SIG_OPEN;
		c->ever_open = true;
		if (!g_queue_is_empty(&c->sig.out))
			lws_callback_on_writable(wsi);
		if (c->cb.connected)
			c->cb.connected(c, c->ud);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		on_receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_lost(c, PL_EIO, in, in ? strnlen(in, len ? len : 128) : 0);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* The payload starts with the status code (RFC 6455 5.5.1). */
		if (in && len >= 2)
			c->sig.close_code = (uint16_t)(((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1]);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_lost(c, PL_ECLOSED, "closed", 6);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ PROTOCOL_NAME, ws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

const struct lws_protocols *pl_client_sig_protocols(void)
{
	return protocols;
}
