/* chat/chat.h: room chat messages and their durable history.
 *
 * A pl_chat_store owns the persistent history of every room.  The
 * interface is asynchronous so that a networked backend (PostgreSQL) can
 * sit behind it without changing its callers: requests are queued from the
 * caller's thread (the signaling thread) and complete later through a
 * callback that runs on that same thread, inside pl_chat_store_dispatch(),
 * which the caller invokes whenever pl_chat_store_fd() becomes readable.
 *
 * Guarantees:
 *  - an append completes with err == 0 only after its transaction is
 *    durable on disk (SQLite: WAL with synchronous=FULL);
 *  - concurrent appends are batched into one transaction (group commit);
 *  - seq is assigned by the store: per room, starting at 1, increasing by
 *    one per stored message (room and direct messages share the counter),
 *    without gaps;
 *  - an append whose (room, from_user, client_msg_id) was stored before
 *    completes with duplicate = true and the original message (its seq and
 *    ts), and is not stored again;
 *  - requests complete in the order they were submitted.
 *
 * Threads: every function is called from one thread (the owner); the
 * backend may run its own threads internally.
 */
#ifndef PL_CHAT_CHAT_H
#define PL_CHAT_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_chat_store;

/* One chat message.  A value type of borrowed strings: in requests the
 * caller owns them until the call returns (the store copies what it
 * keeps); in results the store owns them until the callback returns. */
struct pl_chat_msg {
	const char *room;          /* room name */
	uint64_t seq;              /* assigned by the store; ignored in append */
	int64_t ts_ms;             /* wall clock ms, assigned by the store; ignored in append */
	const char *from_pid;      /* sender's participant id */
	const char *from_user;     /* sender's user id (dedupe and DM visibility key) */
	const char *from_display;  /* sender's display name */
	const char *to_pid;        /* direct message: recipient participant id, else NULL */
	const char *to_user;       /* direct message: recipient user id, else NULL */
	const char *text;          /* UTF-8 text */
	const char *client_msg_id; /* optional dedupe key, or NULL */
};

/* A history page request.  Messages come back in ascending seq order.
 * With has_before: the newest `limit` messages with seq < before.
 * With has_after: the oldest `limit` messages with seq > after.
 * With neither: the newest `limit` messages.
 * Only messages visible to `user` are returned: room messages, and direct
 * messages whose from_user or to_user equals user. */
struct pl_chat_query {
	const char *room;
	const char *user;
	bool has_before;
	uint64_t before;
	bool has_after;
	uint64_t after;
	unsigned limit; /* 1..PL_CHAT_PAGE_MAX */
};

#define PL_CHAT_PAGE_MAX 200

enum pl_chat_op {
	PL_CHAT_OP_APPEND,
	PL_CHAT_OP_HISTORY,
	PL_CHAT_OP_LAST_SEQ,
};

/* What a completed request gives back; valid only during the callback. */
struct pl_chat_result {
	enum pl_chat_op op;
	int err;                        /* 0 or a negative PL_E* code */
	/* PL_CHAT_OP_APPEND */
	const struct pl_chat_msg *msg;  /* the stored message (seq, ts set) */
	bool duplicate;                 /* stored earlier; msg is the original */
	/* PL_CHAT_OP_HISTORY */
	const struct pl_chat_msg *msgs; /* n messages, ascending seq */
	size_t n;
	bool more;                      /* more visible messages lie beyond this page */
	/* PL_CHAT_OP_LAST_SEQ */
	uint64_t last_seq;              /* 0 for a room with no messages */
};

typedef void (*pl_chat_cb)(void *ud, const struct pl_chat_result *res);

struct pl_chat_store_config {
	const char *backend;    /* "sqlite" (the default when NULL) */
	const char *path;       /* sqlite: the database file, created if missing */
	unsigned max_pending;   /* queued requests before PL_EBUSY; 0 = 65536 */
	unsigned max_batch;     /* appends per transaction; 0 = 1024 */
};

/* Opens (creating and migrating the schema when needed) the store.
 * Returns 0, PL_EINVAL (unknown backend), PL_EIO (cannot open/migrate). */
int pl_chat_store_open(const struct pl_chat_store_config *cfg, struct pl_chat_store **out);

/* Finishes every request already accepted (appends become durable),
 * runs the callbacks of every completion not dispatched yet (on the
 * calling thread, before returning), stops the backend's threads and
 * frees the store.  NULL is a no-op. */
void pl_chat_store_close(struct pl_chat_store *s);

/* A file descriptor that becomes readable when completions are ready. */
int pl_chat_store_fd(const struct pl_chat_store *s);

/* Runs the callbacks of all ready completions on the calling thread and
 * clears the fd's readiness.  Returns the number of callbacks run. */
int pl_chat_store_dispatch(struct pl_chat_store *s);

/* Queue requests.  Return 0 (the callback will run exactly once, from a
 * later pl_chat_store_dispatch), PL_EINVAL (bad arguments; text or ids
 * missing, limit out of range), PL_EBUSY (queue full), PL_ECLOSED. */
int pl_chat_store_append(struct pl_chat_store *s, const struct pl_chat_msg *m,
			 pl_chat_cb cb, void *ud);
int pl_chat_store_history(struct pl_chat_store *s, const struct pl_chat_query *q,
			  pl_chat_cb cb, void *ud);
int pl_chat_store_last_seq(struct pl_chat_store *s, const char *room, pl_chat_cb cb,
			   void *ud);

/* Counters since open, for logs and metrics. */
struct pl_chat_store_stats {
	uint64_t appends;        /* messages stored */
	uint64_t duplicates;     /* appends answered from dedupe */
	uint64_t transactions;   /* committed write transactions */
	uint64_t failures;       /* requests completed with an error */
	uint64_t max_batch_seen; /* largest batch committed at once */
};
void pl_chat_store_get_stats(const struct pl_chat_store *s, struct pl_chat_store_stats *out);

#endif
