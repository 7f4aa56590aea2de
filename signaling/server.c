/* signaling/server.c: libwebsockets on the GLib loop, HTTP and the
 * WebSocket plumbing of sessions.
 *
 * This file owns the lws context and turns lws callbacks into session
 * events: a connection becomes a pl_session at ESTABLISHED, fragments are
 * reassembled (capped at max_frame_bytes), checked for UTF-8 and handed to
 * session.c whole; outgoing messages wait in a bounded per-session ring of
 * shared buffers and are written one per WRITEABLE callback, as lws
 * requires.  A reader too slow to drain its ring is cut off rather than
 * allowed to grow memory.  It also serves /healthz and the web demo, and
 * watches the chat store's completion fd.  With [server] tls_cert/tls_key
 * the one listening vhost is TLS (https and wss, HTTP/1.1 only).  The
 * connection limits (total and per IP) are applied at the upgrade; the
 * per-IP entry also holds the rate buckets all of an address's
 * connections share.  Everything runs on the signaling thread.
 */
#include "signaling/server.h"
#include "signaling/internal.h"
#include "chat/chat.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/utf8.h"

#include <assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pss {
	struct pl_session *sess; /* WebSocket connections */
	char *body;              /* HTTP response: LWS_PRE headroom, then body_len bytes */
	size_t body_len;
};

/* ---- outgoing buffers and queues ------------------------------------ */

struct pl_outbuf *pl_outbuf_from_json(json_t *msg)
{
	assert(msg != NULL); /* json_pack only fails on a format/argument bug */
	size_t len = json_dumpb(msg, NULL, 0, JSON_COMPACT);
	struct pl_outbuf *b = g_malloc(sizeof(*b) + LWS_PRE + len);

	b->refs = 1;
	b->len = json_dumpb(msg, (char *)b->data + LWS_PRE, len, JSON_COMPACT);
	return b;
}

void pl_outbuf_unref(struct pl_outbuf *b)
{
	if (b && --b->refs == 0)
		g_free(b);
}

static void update_rx_flow(struct pl_session *s);

/* Cuts a connection off without a closing handshake (slow reader). */
static void session_kill(struct pl_session *s)
{
	if (s->dead)
		return;
	s->dead = true;
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void pl_session_send_buf(struct pl_session *s, struct pl_outbuf *b)
{
	if (s->dead || s->srv->shutting_down)
		return;
	if (s->tx_len == s->tx_cap) {
		s->srv->stats.slow_readers_cut++;
		PL_LOG(PL_LOG_WARN, "sig", "[conn=%" PRIu64 " ip=%s] send queue full (%u), cutting off slow reader",
		       s->id, s->ip, s->tx_cap);
		session_kill(s);
		return;
	}
	b->refs++;
	s->txq[(s->tx_head + s->tx_len) % s->tx_cap] = b;
	s->tx_len++;
	update_rx_flow(s);
	lws_callback_on_writable(s->wsi);
}

void pl_session_send(struct pl_session *s, json_t *msg)
{
	struct pl_outbuf *b = pl_outbuf_from_json(msg);

	json_decref(msg);
	pl_session_send_buf(s, b);
	pl_outbuf_unref(b);
}

/* Both buckets are checked before either is charged, so a message refused
 * by one does not use up the other.  ip is NULL for a session that was
 * never registered by session_create (the unit tests build such ones). */
static bool take_both(struct pl_bucket *conn, struct pl_bucket *ip)
{
	int64_t now = pl_clock_mono_us();
	struct pl_bucket c = *conn, i;

	if (!pl_bucket_take(&c, now))
		return false;
	if (ip) {
		i = *ip;
		if (!pl_bucket_take(&i, now))
			return false;
		*ip = i;
	}
	*conn = c;
	return true;
}

bool pl_session_take_msg(struct pl_session *s)
{
	return take_both(&s->msg_bucket, s->ip_entry ? &s->ip_entry->msg_bucket : NULL);
}

bool pl_session_take_chat(struct pl_session *s)
{
	return take_both(&s->chat_bucket, s->ip_entry ? &s->ip_entry->chat_bucket : NULL);
}

void pl_session_error(struct pl_session *s, json_t *id, enum pl_proto_error code,
		      const char *fmt, ...)
{
	char text[256];
	va_list ap;
	json_t *msg;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The text may quote the client (jansson's error excerpt, a type or
	 * participant id) cut in the middle of a character, by jansson,
	 * "%.40s" or the size above; json_pack refuses invalid UTF-8, so keep
	 * the longest valid prefix (found by tests/fuzz/fuzz_signaling). */
	for (n = strlen(text); n > 0 && !pl_utf8_is_valid(text, n); n--)
		text[n - 1] = '\0';
	msg = json_pack("{s:s, s:s, s:s}", "type", "error", "code",
			pl_proto_error_name(code), "message", text);
	if (id)
		json_object_set(msg, "id", id);
	pl_session_send(s, msg);
}

void pl_session_close_after_flush(struct pl_session *s, int code)
{
	s->close_after_flush = true;
	s->close_code = code;
	lws_callback_on_writable(s->wsi);
}

struct pl_session *pl_server_find_session(struct pl_server *srv, uint64_t id)
{
	return g_hash_table_lookup(srv->sessions, &id);
}

/* Back-pressure: a connection whose replies pile up is not read from
 * until its queue drains, so only a peer that stops reading altogether
 * (while others keep sending to it) fills the queue and is cut off. */
static void update_rx_flow(struct pl_session *s)
{
	if (!s->rx_paused && s->tx_len >= s->tx_cap / 2) {
		s->rx_paused = true;
		lws_rx_flow_control(s->wsi, 0);
	} else if (s->rx_paused && s->tx_len <= s->tx_cap / 4) {
		s->rx_paused = false;
		lws_rx_flow_control(s->wsi, 1);
	}
}

json_t *pl_server_stats_json(const struct pl_server *srv)
{
	const struct pl_server_stats *st = &srv->stats;
	const struct { const char *name; uint64_t v; } extra[] = {
		{ "rejected_connections_per_ip", st->rejected_connections_per_ip },
		{ "room_full", st->room_full }, { "rooms_full", st->rooms_full },
		{ "sdp_too_large", st->sdp_too_large }, { "sdp_too_many_mlines", st->sdp_too_many_mlines },
		{ "unauthorized", st->unauthorized }, { "forbidden", st->forbidden },
		{ "tokens_expired", st->tokens_expired }, { "kicked", st->kicked },
	};
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "connections_total", (json_int_t)st->connections_total,
			 "messages_in", (json_int_t)st->messages_in, "messages_out", (json_int_t)st->messages_out,
			 "protocol_errors", (json_int_t)st->protocol_errors,
			 "rate_limited", (json_int_t)st->rate_limited, "too_large", (json_int_t)st->too_large,
			 "bad_utf8", (json_int_t)st->bad_utf8, "slow_readers_cut", (json_int_t)st->slow_readers_cut,
			 "rejected_connections", (json_int_t)st->rejected_connections,
			 "chat_acked", (json_int_t)st->chat_acked, "chat_failed", (json_int_t)st->chat_failed);

	for (size_t i = 0; i < G_N_ELEMENTS(extra); i++)
		json_object_set_new(o, extra[i].name, json_integer((json_int_t)extra[i].v));
	return o;
}

static int write_queued(struct pl_session *s);

/* Writes queued messages while the socket takes them (a bounded number
 * per callback, to stay fair to other connections); returns -1 to close. */
static int session_writable(struct pl_session *s)
{
	/* Several frames at once: cork the socket so they leave as full TCP
	 * segments (one loopback delivery and one wakeup of the reader
	 * instead of one per frame: most of a busy room's cost). */
	int fd = lws_get_socket_fd(s->wsi), on = 1, off = 0;
	bool cork = s->tx_len > 1 && fd >= 0;

	if (cork)
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	int rc = write_queued(s);
	if (cork)
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return rc;
}

static int write_queued(struct pl_session *s)
{
	for (int i = 0; i < 64 && s->tx_len > 0; i++) {
		struct pl_outbuf *b = s->txq[s->tx_head];
		int n = lws_write(s->wsi, b->data + LWS_PRE, b->len, LWS_WRITE_TEXT);

		s->tx_head = (s->tx_head + 1) % s->tx_cap;
		s->tx_len--;
		pl_outbuf_unref(b);
		if (n < 0)
			return -1;
		s->srv->stats.messages_out++;
		if (lws_send_pipe_choked(s->wsi))
			break;
	}
	update_rx_flow(s);
	if (s->tx_len > 0) {
		lws_callback_on_writable(s->wsi);
	} else if (s->close_after_flush) {
		lws_close_reason(s->wsi, (enum lws_close_status)s->close_code, NULL, 0);
		return -1;
	}
	return 0;
}

/* ---- sessions -------------------------------------------------------- */

static struct pl_session *session_create(struct pl_server *srv, struct lws *wsi)
{
	struct pl_session *s = g_new0(struct pl_session, 1);
	int64_t now = pl_clock_mono_us();
	const struct pl_limits *lim = &srv->cfg->limits;

	s->id = ++srv->next_session_id;
	s->srv = srv;
	s->wsi = wsi;
	lws_get_peer_simple(wsi, s->ip, sizeof(s->ip));
	s->rx = g_malloc((size_t)srv->cfg->max_frame_bytes);
	s->tx_cap = (unsigned)lim->send_queue_max;
	s->txq = g_new0(struct pl_outbuf *, s->tx_cap);
	s->tracks = json_array();
	pl_bucket_init(&s->msg_bucket, lim->messages_per_s, lim->messages_burst, now);
	pl_bucket_init(&s->chat_bucket, lim->chat_per_s, lim->chat_burst, now);
	g_hash_table_insert(srv->sessions, &s->id, s);
	s->ip_entry = g_hash_table_lookup(srv->per_ip, s->ip);
	if (!s->ip_entry) {
		s->ip_entry = g_new0(struct pl_ip_entry, 1);
		pl_bucket_init(&s->ip_entry->msg_bucket, lim->ip_messages_per_s, lim->ip_messages_burst, now);
		pl_bucket_init(&s->ip_entry->chat_bucket, lim->ip_chat_per_s, lim->ip_chat_burst, now);
		g_hash_table_insert(srv->per_ip, g_strdup(s->ip), s->ip_entry);
	}
	s->ip_entry->conns++;
	srv->stats.connections_total++;
	PL_LOG(PL_LOG_DEBUG, "sig", "[conn=%" PRIu64 " ip=%s] connected", s->id, s->ip);
	return s;
}

static void session_destroy(struct pl_session *s)
{
	struct pl_server *srv = s->srv;

	s->dead = true;
	pl_session_on_close(s);
	/* The entry (and its buckets) goes with the address's last
	 * connection; the address's next connection starts with full
	 * buckets, as any new connection does with its own. */
	if (--s->ip_entry->conns <= 0)
		g_hash_table_remove(srv->per_ip, s->ip);
	s->ip_entry = NULL;
	g_hash_table_remove(srv->sessions, &s->id);
	if (srv->draining && g_hash_table_size(srv->sessions) == 0)
		g_main_loop_quit(srv->loop);
	while (s->tx_len > 0) {
		pl_outbuf_unref(s->txq[s->tx_head]);
		s->tx_head = (s->tx_head + 1) % s->tx_cap;
		s->tx_len--;
	}
	PL_LOG(PL_LOG_DEBUG, "sig", "[conn=%" PRIu64 "] closed", s->id);
	g_free(s->txq);
	g_free(s->rx);
	g_free(s);
}

/* Accumulates one fragment; hands complete messages to session.c.
 * Returns -1 to close the connection now. */
static int session_receive(struct pl_session *s, const void *in, size_t len)
{
	struct lws *wsi = s->wsi;
	size_t cap = (size_t)s->srv->cfg->max_frame_bytes;

	if (s->dead)
		return 0;
	if (lws_is_first_fragment(wsi)) {
		s->rx_len = 0;
		s->rx_too_large = false;
		s->rx_binary = lws_frame_is_binary(wsi);
	}
	if (!s->rx_too_large && s->rx_len + len > cap) {
		s->rx_too_large = true;
		s->srv->stats.too_large++;
		PL_LOG(PL_LOG_INFO, "sig", "[conn=%" PRIu64 " ip=%s] message over %zu bytes", s->id, s->ip, cap);
		pl_session_error(s, NULL, PL_PROTO_TOO_LARGE, "message larger than %zu bytes", cap);
		pl_session_close_after_flush(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
	}
	if (s->rx_too_large || s->close_after_flush)
		return 0; /* drop the rest; we are closing */
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return 0;
	s->srv->stats.messages_in++;
	if (s->rx_binary) {
		pl_session_handle_text(s, NULL, 0); /* NULL means "binary": refused */
		return 0;
	}
	if (!pl_utf8_is_valid(s->rx, s->rx_len)) {
		s->srv->stats.bad_utf8++;
		PL_LOG(PL_LOG_INFO, "sig", "[conn=%" PRIu64 " ip=%s] invalid UTF-8, closing 1007", s->id, s->ip);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, NULL, 0);
		return -1;
	}
	pl_session_handle_text(s, s->rx, s->rx_len);
	return 0;
}

/* ---- HTTP ------------------------------------------------------------ */

static char *health_body(struct pl_server *srv)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:i, s:i}", "status", "ok", "version", PL_VERSION,
				 "uptime_s", (json_int_t)((pl_clock_mono_ms() - srv->started_ms) / 1000),
				 "connections", (int)g_hash_table_size(srv->sessions), "rooms",
				 (int)g_hash_table_size(srv->rooms));
	char *text;

	json_object_set_new(body, "signaling", pl_server_stats_json(srv));
	json_object_set_new(body, "media", pl_media_sig_stats_json(srv));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* GET /healthz: liveness and global counters.  GET /stats: every room's
 * participants and streams with their counters (refreshed each second by
 * the media workers).  Anything else the file mount could not serve: 404. */
static int http_request(struct lws *wsi, struct pss *pss, struct pl_server *srv)
{
	unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
	char uri[32] = "", *text = NULL;

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
		uri[0] = '\0';
	if (strcmp(uri, "/healthz") == 0)
		text = health_body(srv);
	else if (strcmp(uri, "/stats") == 0)
		text = pl_media_sig_rooms_json(srv);
	if (!text) {
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	size_t n = strlen(text);
	pss->body = g_malloc(LWS_PRE + n + 1);
	memcpy(pss->body + LWS_PRE, text, n);
	pss->body[LWS_PRE + n] = '\n';
	pss->body_len = n + 1;
	free(text);
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", pss->body_len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_write(struct lws *wsi, struct pss *pss)
{
	int n = lws_write(wsi, (unsigned char *)pss->body + LWS_PRE, pss->body_len, LWS_WRITE_HTTP_FINAL);

	g_free(pss->body);
	pss->body = NULL;
	pss->body_len = 0;
	if (n < 0)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Accepts an upgrade only at /ws and within the connection limits. */
static int filter_connection(struct pl_server *srv, struct lws *wsi)
{
	char uri[64] = "", ip[64] = "";
	const struct pl_limits *lim = &srv->cfg->limits;

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0)
		return -1;
	lws_get_peer_simple(wsi, ip, sizeof(ip));
	if ((int)g_hash_table_size(srv->sessions) >= lim->max_connections) {
		srv->stats.rejected_connections++;
		PL_LOG(PL_LOG_WARN, "sig", "[ip=%s] connection refused: limits.max_connections reached", ip);
		return -1;
	}
	struct pl_ip_entry *e = g_hash_table_lookup(srv->per_ip, ip);
	if (e && e->conns >= lim->max_connections_per_ip) {
		srv->stats.rejected_connections++;
		srv->stats.rejected_connections_per_ip++;
		PL_LOG(PL_LOG_WARN, "sig", "[ip=%s] connection refused: limits.max_connections_per_ip reached", ip);
		return -1;
	}
	return 0;
}

static int cb_parley(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	struct pss *pss = user;
	struct pl_server *srv = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(wsi, pss, srv);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss && pss->body)
			return http_write(wsi, pss);
		break;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss) {
			g_free(pss->body);
			pss->body = NULL;
		}
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_connection(srv, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		pss->sess = session_create(srv, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return pss->sess ? session_receive(pss->sess, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->sess ? session_writable(pss->sess) : 0;
	case LWS_CALLBACK_CLOSED:
		if (pss->sess)
			session_destroy(pss->sess);
		pss->sess = NULL;
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "parley.v1", cb_parley, sizeof(struct pss), 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static const struct lws_protocol_vhost_options mime_wasm = { NULL, NULL, ".wasm", "application/wasm" };
static const struct lws_protocol_vhost_options mime_mjs = { &mime_wasm, NULL, ".mjs", "text/javascript" };

/* ---- lifecycle ------------------------------------------------------- */

static gboolean on_store_ready(gint fd, GIOCondition cond, gpointer ud)
{
	struct pl_server *srv = ud;

	pl_chat_store_dispatch(srv->store);
	return G_SOURCE_CONTINUE;
}

static int open_store(struct pl_server *srv)
{
	const struct pl_config *cfg = srv->cfg;
	char *path;
	int rc;

	if (g_mkdir_with_parents(cfg->data_dir, 0700) < 0) {
		PL_LOG(PL_LOG_ERROR, "chat", "cannot create data dir %s", cfg->data_dir);
		return PL_EIO;
	}
	path = g_build_filename(cfg->data_dir, "chat.db", NULL);
	struct pl_chat_store_config sc = { .backend = cfg->chat_backend, .path = path };
	rc = pl_chat_store_open(&sc, &srv->store);
	if (rc < 0)
		PL_LOG(PL_LOG_ERROR, "chat", "cannot open chat store %s: %s", path, pl_strerror(rc));
	else
		PL_LOG(PL_LOG_INFO, "chat", "chat store %s (%s)", path, cfg->chat_backend);
	g_free(path);
	if (rc < 0)
		return rc;
	srv->store_watch = g_unix_fd_add(pl_chat_store_fd(srv->store), G_IO_IN, on_store_ready, srv);
	return 0;
}

static int start_lws(struct pl_server *srv, void *loop)
{
	static lws_retry_bo_t retry;
	static struct lws_http_mount mount_root, mount_health, mount_stats;
	const struct pl_config *cfg = srv->cfg;
	struct lws_context_creation_info info;
	void *foreign_loops[1] = { loop };

	retry.secs_since_valid_ping = (uint16_t)cfg->ws_ping_interval_s;
	retry.secs_since_valid_hangup = (uint16_t)cfg->ws_timeout_s;
	mount_root = (struct lws_http_mount){
		.mountpoint = "/", .mountpoint_len = 1, .origin = cfg->web_root,
		.def = "index.html", .origin_protocol = LWSMPRO_FILE, .extra_mimetypes = &mime_mjs,
	};
	mount_stats = (struct lws_http_mount){
		.mount_next = &mount_root, .mountpoint = "/stats", .mountpoint_len = 6,
		.origin = "parley.v1", .origin_protocol = LWSMPRO_CALLBACK,
	};
	mount_health = (struct lws_http_mount){
		.mount_next = &mount_stats, .mountpoint = "/healthz", .mountpoint_len = 8,
		.origin = "parley.v1", .origin_protocol = LWSMPRO_CALLBACK,
	};
	memset(&info, 0, sizeof(info));
	info.port = cfg->listen_port;
	info.iface = cfg->listen_host;
	info.protocols = protocols;
	info.mounts = &mount_health;
	info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = foreign_loops;
	info.user = srv;
	info.retry_and_idle_policy = &retry;
	info.max_http_header_pool = 64;
	if (cfg->tls_cert) {
		/* One TLS listener: https for the demo and /healthz, wss for /ws.
		 * A plain-text client on this port is refused by lws (no
		 * ALLOW_NON_SSL_ON_SSL_PORT): nothing is served in the clear. */
		if (access(cfg->tls_cert, R_OK) < 0 || access(cfg->tls_key, R_OK) < 0) {
			PL_LOG(PL_LOG_ERROR, "sig", "TLS certificate %s or key %s not readable",
			       cfg->tls_cert, cfg->tls_key);
			return PL_EINVAL;
		}
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		/* HTTP/1.1 only: browsers would otherwise pick h2 through ALPN,
		 * a second code path for the demo, /healthz and the upgrade that
		 * nothing here needs (and lws 4.1 leaks a buffer per h2
		 * connection under LeakSanitizer). */
		info.alpn = "http/1.1";
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	srv->lws = lws_create_context(&info);
	if (!srv->lws) {
		PL_LOG(PL_LOG_ERROR, "sig", "cannot listen on %s:%d%s", cfg->listen_host, cfg->listen_port,
		       cfg->tls_cert ? " (or the TLS certificate and key do not load or match)" : "");
		return PL_ESYS;
	}
	srv->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(srv->lws, "default"));
	return 0;
}

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	PL_LOG(level == LLL_ERR ? PL_LOG_WARN : PL_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

/* Memory back to the system after churn.  glibc keeps what a thread frees
 * in that thread's arena and returns only the free space at the top of
 * each heap, so after participants come and go the RSS stays near its
 * high-water mark and creeps up with fragmentation: after the churn soak
 * (tests/soak/churn.mjs, 50 clients joining, publishing and leaving for a
 * minute) parleyd held ~56 MiB of RSS with ~2.5 MiB in use; malloc_trim(0)
 * returns every free page of every arena and brought it to ~25 MiB, the
 * same after each further minute.  So each TRIM_INTERVAL_S, when sessions
 * closed since the last look, trim -- and once more a tick later, because
 * the media workers free a participant's peers just after its session
 * closes.  The media path does not allocate per packet, so the arena locks
 * the trim takes for a few milliseconds do not stall forwarding. */
#define TRIM_INTERVAL_S 5

static gboolean trim_tick(gpointer ud)
{
	struct pl_server *srv = ud;
	uint64_t closed = srv->stats.connections_total - g_hash_table_size(srv->sessions);
	bool trim = closed != srv->trim_closed || srv->trim_again;

	srv->trim_again = closed != srv->trim_closed;
	srv->trim_closed = closed;
#ifdef __GLIBC__
	if (trim)
		malloc_trim(0);
#else
	(void)trim;
#endif
	return G_SOURCE_CONTINUE;
}

int pl_server_create(const struct pl_config *cfg, void *loop, struct pl_server **out)
{
	struct pl_server *srv = g_new0(struct pl_server, 1);
	int rc;

	srv->cfg = cfg;
	srv->loop = loop;
	srv->started_ms = pl_clock_mono_ms();
	srv->sessions = g_hash_table_new(g_int64_hash, g_int64_equal);
	srv->rooms = g_hash_table_new(g_str_hash, g_str_equal);
	srv->per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
	rc = open_store(srv);
	if (rc == 0)
		rc = pl_media_sig_start(srv);
	if (rc == 0)
		rc = start_lws(srv, loop);
	if (rc < 0) {
		pl_server_destroy(srv);
		return rc;
	}
	srv->trim_timer = g_timeout_add_seconds(TRIM_INTERVAL_S, trim_tick, srv);
	*out = srv;
	return 0;
}

static gboolean shutdown_deadline(gpointer ud)
{
	struct pl_server *srv = ud;

	srv->shutdown_timer = 0;
	g_main_loop_quit(srv->loop);
	return G_SOURCE_REMOVE;
}

void pl_server_begin_shutdown(struct pl_server *srv)
{
	GHashTableIter it;
	gpointer k, v;

	if (srv->draining) {
		g_main_loop_quit(srv->loop); /* a second signal: stop now */
		return;
	}
	srv->draining = true;
	g_hash_table_iter_init(&it, srv->sessions);
	while (g_hash_table_iter_next(&it, &k, &v))
		pl_session_close_after_flush(v, LWS_CLOSE_STATUS_GOINGAWAY);
	if (g_hash_table_size(srv->sessions) == 0)
		g_main_loop_quit(srv->loop);
	else
		srv->shutdown_timer = g_timeout_add(1000, shutdown_deadline, srv);
}

int pl_server_port(const struct pl_server *srv)
{
	return srv->port;
}

void pl_server_destroy(struct pl_server *srv)
{
	if (!srv)
		return;
	srv->shutting_down = true;
	if (srv->shutdown_timer)
		g_source_remove(srv->shutdown_timer);
	if (srv->trim_timer)
		g_source_remove(srv->trim_timer);
	if (srv->lws)
		lws_context_destroy(srv->lws); /* closes every connection */
	pl_media_sig_stop(srv); /* joins the media workers */
	if (srv->store_watch)
		g_source_remove(srv->store_watch);
	pl_chat_store_close(srv->store); /* finishes accepted appends */
	pl_room_destroy_all(srv);
	g_hash_table_destroy(srv->rooms);
	g_hash_table_destroy(srv->sessions);
	g_hash_table_destroy(srv->per_ip);
	PL_LOG(PL_LOG_INFO, "sig", "stopped: %" PRIu64 " connections, %" PRIu64 " messages in, %" PRIu64
	       " out, %" PRIu64 " chat acked, %" PRIu64 " protocol errors, %" PRIu64 " rate limited",
	       srv->stats.connections_total, srv->stats.messages_in, srv->stats.messages_out,
	       srv->stats.chat_acked, srv->stats.protocol_errors, srv->stats.rate_limited);
	g_free(srv);
}
