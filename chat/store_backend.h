/* chat/store_backend.h: what the store front (store.c) needs from a
 * backend, and the owned-message helpers both sides share.  Private to
 * chat/: nothing outside this folder includes it.
 *
 * The front owns the request queue, the worker thread, the completions and
 * the eventfd; a backend only executes requests, synchronously, on that
 * worker thread.  So a backend is a handle plus the table of operations
 * below, and a new one (PostgreSQL) gets group commit, ordering and
 * dispatch without touching the front or its callers.
 */
#ifndef PL_CHAT_STORE_BACKEND_H
#define PL_CHAT_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/chat.h"

/* A message whose strings all live in one heap block (blob).  The struct
 * points into the blob; releasing frees the blob and clears both. */
struct pl_chat_owned {
	struct pl_chat_msg m;
	char *blob;
};

/* Copies src's strings into a new blob; NULL strings stay NULL.
 * Returns 0 or PL_ENOMEM (dst is then left empty). */
int pl_chat_owned_copy(struct pl_chat_owned *dst, const struct pl_chat_msg *src);
void pl_chat_owned_release(struct pl_chat_owned *o);

/* A page of history: msgs[i]'s strings live in blobs[i]. */
struct pl_chat_page {
	struct pl_chat_msg *msgs;
	char **blobs;
	size_t n, cap;
	bool more;
};

/* Appends a copy of m.  Returns 0 or PL_ENOMEM. */
int pl_chat_page_push(struct pl_chat_page *p, const struct pl_chat_msg *m);
/* Reverses the order of the messages in place. */
void pl_chat_page_reverse(struct pl_chat_page *p);
/* Frees everything and leaves an empty page. */
void pl_chat_page_release(struct pl_chat_page *p);

/* One append of a batch.  In: msg is the request's copy.  Out, when the
 * batch committed: msg.seq and msg.ts_ms set, or duplicate = true and msg
 * replaced by the stored original.  After a failed batch the contents are
 * unspecified and the front does not look at them. */
struct pl_chat_append {
	struct pl_chat_owned msg;
	bool duplicate;
};

/* open and close run on the owner thread, before the worker starts and
 * after it was joined; the others run on the worker thread only. */
struct pl_chat_backend_ops {
	const char *name;
	/* Returns 0, PL_EINVAL (bad config) or PL_EIO. */
	int (*open)(const struct pl_chat_store_config *cfg, void **out);
	void (*close)(void *be);
	/* Stores the batch in one durable transaction, in order.  Returns 0
	 * when it committed, or PL_EIO when nothing of it was stored. */
	int (*append_batch)(void *be, struct pl_chat_append *const *v, size_t n);
	/* Fills an empty page per the contract of struct pl_chat_query (the
	 * front validated q).  Returns 0, PL_EIO or PL_ENOMEM. */
	int (*history)(void *be, const struct pl_chat_query *q, struct pl_chat_page *out);
	/* Returns 0 or PL_EIO; *out is 0 for an empty room. */
	int (*last_seq)(void *be, const char *room, uint64_t *out);
};

extern const struct pl_chat_backend_ops pl_chat_sqlite_ops;

#endif
