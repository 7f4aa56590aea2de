/* signaling/internal.h: types shared by the files of the signaling module
 * (server.c, session.c, room.c).  Not a public header: nothing outside
 * signaling/ includes it.
 *
 * Ownership: the server owns sessions (one per WebSocket) and rooms; a
 * room holds borrowed pointers to the sessions joined to it.  Everything
 * here lives on the signaling thread (the GLib main loop that also runs
 * libwebsockets).  Asynchronous completions (chat store) find their
 * session again by id, never by a pointer kept across the wait.
 */
#ifndef PL_SIGNALING_INTERNAL_H
#define PL_SIGNALING_INTERNAL_H

#include "signaling/auth.h"
#include "signaling/config.h"
#include "signaling/proto.h"

#include <glib.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

/* WebSocket close status (application range) for a participant ended
 * because its media connection was lost. */
#define PL_CLOSE_MEDIA_LOST 4001
/* ... because the token it joined with expired (its `exp`): a session is
 * never extended past its token. */
#define PL_CLOSE_TOKEN_EXPIRED 4002
/* ... because a moderator removed it from the room (`kick`). */
#define PL_CLOSE_KICKED 4003

struct pl_chat_store;
struct pl_media;
struct pl_room;

/* A serialized outgoing message, shared by every recipient of a fan-out.
 * data holds LWS_PRE bytes of headroom, then len bytes of JSON. */
struct pl_outbuf {
	unsigned refs;
	size_t len;
	unsigned char data[];
};

enum pl_session_state {
	PL_SESSION_IDLE,    /* connected, not in a room */
	PL_SESSION_JOINING, /* join accepted, waiting for the store */
	PL_SESSION_JOINED,
};

/* What the connections of one source address share: their count and the
 * per-IP rate buckets (limits.ip_*), so that opening more connections
 * does not buy a client more messages per second. */
struct pl_ip_entry {
	int conns;
	struct pl_bucket msg_bucket, chat_bucket;
};

struct pl_session {
	uint64_t id;
	struct pl_server *srv;
	struct lws *wsi;
	char ip[64];
	struct pl_ip_entry *ip_entry; /* owned by srv->per_ip, outlives the session */

	/* Reassembly of one incoming message (fragments), capped. */
	char *rx;
	size_t rx_len;
	bool rx_binary;
	bool rx_too_large;

	/* Outgoing queue: a ring of shared buffers, cap = send_queue_max. */
	struct pl_outbuf **txq;
	unsigned tx_head, tx_len, tx_cap;

	/* Closing: after the queue drains, close with this status. */
	bool close_after_flush;
	int close_code;
	bool dead; /* being torn down: send nothing more */
	bool rx_paused; /* reading stopped until the queue drains */

	int errors_in_row;
	struct pl_bucket msg_bucket, chat_bucket;

	enum pl_session_state state;
	uint64_t join_gen; /* bumps on every join attempt and leave */
	struct pl_room *room;
	char *room_name;   /* set from JOINING on */
	char pid[24];      /* participant id while joined */
	char *user;
	char *display;
	bool has_claims;
	struct pl_auth_claims claims;
	guint expiry_timer;  /* ends the session at the token's exp; 0 = none */
	/* Media (see media_sig.c). */
	bool in_media;       /* registered with the media workers */
	json_t *tracks;      /* published tracks, as announced to others */
	json_t *pub_req_id;  /* id of the offer being answered */
	json_t *pub_sources; /* the last offer's `sources` (mid -> source) */
	json_t *sub_req_id;  /* id of the last sub answer */
};

struct pl_room {
	char *name;
	GPtrArray *members; /* struct pl_session *, borrowed */
	int pending_joins;  /* JOINING sessions counted against the room's cap */
};

struct pl_server_stats {
	uint64_t connections_total;
	uint64_t messages_in;
	uint64_t messages_out;
	uint64_t protocol_errors;
	uint64_t rate_limited;
	uint64_t too_large;
	uint64_t bad_utf8;
	uint64_t slow_readers_cut;
	uint64_t rejected_connections;
	uint64_t chat_acked;
	uint64_t chat_failed;
	/* Limits and security events (docs/security.md). */
	uint64_t rejected_connections_per_ip; /* of rejected_connections */
	uint64_t room_full;         /* joins refused: max_participants_per_room */
	uint64_t rooms_full;        /* joins refused: max_rooms */
	uint64_t sdp_too_large;     /* offers/answers over media.max_sdp_bytes */
	uint64_t sdp_too_many_mlines; /* pub offers over limits.max_sdp_mlines */
	uint64_t unauthorized;      /* joins refused for their token */
	uint64_t forbidden;         /* requests the token does not allow */
	uint64_t tokens_expired;    /* live sessions ended at their token's exp */
	uint64_t kicked;            /* participants removed by a moderator */
};

struct pl_server {
	const struct pl_config *cfg;
	struct lws_context *lws;
	GMainLoop *loop;
	struct pl_chat_store *store;
	guint store_watch;
	struct pl_media *media;
	guint media_watch;
	GHashTable *sessions;  /* uint64 id -> struct pl_session * */
	GHashTable *rooms;     /* name -> struct pl_room * */
	GHashTable *per_ip;    /* ip -> struct pl_ip_entry * (owned) */
	uint64_t next_session_id;
	int64_t started_ms;
	bool shutting_down;  /* in pl_server_destroy */
	bool draining;       /* closing connections before the loop stops */
	guint shutdown_timer;
	guint trim_timer;      /* gives freed memory back (server.c, trim_tick) */
	uint64_t trim_closed;  /* sessions closed as of the last trim */
	bool trim_again;       /* trim once more: workers free after the close */
	struct pl_server_stats stats;
	int port;
};

/* server.c: sending and closing. */
struct pl_outbuf *pl_outbuf_from_json(json_t *msg); /* steals nothing */
void pl_outbuf_unref(struct pl_outbuf *b);
/* Queues b (taking a new reference) and asks for a writable callback.  A
 * full queue cuts the slow reader off. */
void pl_session_send_buf(struct pl_session *s, struct pl_outbuf *b);
/* Serializes and sends; decrefs msg. */
void pl_session_send(struct pl_session *s, json_t *msg);
/* Sends {"type":"error",...} (echoing id when non-NULL). */
/* Takes a token from the session's bucket and its IP's (either may be
 * unlimited); false when one is empty: the caller answers rate_limited. */
bool pl_session_take_msg(struct pl_session *s);
bool pl_session_take_chat(struct pl_session *s);
void pl_session_error(struct pl_session *s, json_t *id, enum pl_proto_error code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Closes after the queued messages are written. */
void pl_session_close_after_flush(struct pl_session *s, int code);
struct pl_session *pl_server_find_session(struct pl_server *srv, uint64_t id);
/* Counters as JSON, for /healthz. */
json_t *pl_server_stats_json(const struct pl_server *srv);

/* session.c: the protocol's messages. */
void pl_session_handle_text(struct pl_session *s, const char *buf, size_t len);
void pl_session_on_close(struct pl_session *s);

/* media_sig.c: the media messages and the workers' events. */
int pl_media_sig_start(struct pl_server *srv);
void pl_media_sig_stop(struct pl_server *srv);
/* Registers a joined session with the media plane / removes it. */
void pl_media_sig_join(struct pl_session *s);
void pl_media_sig_leave(struct pl_session *s);
int pl_media_sig_offer(struct pl_session *s, json_t *msg, json_t *id);
int pl_media_sig_answer(struct pl_session *s, json_t *msg, json_t *id);
int pl_media_sig_candidate(struct pl_session *s, json_t *msg, json_t *id);
int pl_media_sig_mute(struct pl_session *s, json_t *msg, json_t *id);
int pl_media_sig_subscribe(struct pl_session *s, json_t *msg, json_t *id);
json_t *pl_media_sig_ice_servers(const struct pl_server *srv);
json_t *pl_media_sig_stats_json(const struct pl_server *srv);
/* The media rooms as JSON text (malloc'd), or NULL without media. */
char *pl_media_sig_rooms_json(struct pl_server *srv);

/* session.c, for media_sig.c. */
json_t *pl_session_participant_json(const struct pl_session *m);

/* room.c: the registry of rooms. */
struct pl_room *pl_room_find(struct pl_server *srv, const char *name);
struct pl_room *pl_room_get_or_create(struct pl_server *srv, const char *name);
void pl_room_add(struct pl_room *r, struct pl_session *s);
/* Removes s; destroys the room when it becomes empty with no pending joins. */
void pl_room_remove(struct pl_server *srv, struct pl_room *r, struct pl_session *s);
void pl_room_release_if_empty(struct pl_server *srv, struct pl_room *r);
struct pl_session *pl_room_find_member(struct pl_room *r, const char *pid);
/* Sends b to every member except `except` (may be NULL). */
void pl_room_broadcast(struct pl_room *r, struct pl_outbuf *b, struct pl_session *except);
void pl_room_destroy_all(struct pl_server *srv);

#endif
