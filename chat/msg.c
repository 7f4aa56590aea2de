/* chat/msg.c: owned copies of chat messages.
 *
 * struct pl_chat_msg is a view of borrowed strings.  Whenever the store has
 * to keep a message beyond the call that handed it over (a queued append,
 * a row read back from the database, a history page waiting for dispatch)
 * it copies the message here: all eight strings go into one heap block, so
 * a message costs one allocation and one free whatever its text length, and
 * no buffer has a fixed size that could truncate it.
 *
 * Pure functions over caller-owned memory: callable from any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "chat/store_backend.h"
#include "common/err.h"

/* The string fields of struct pl_chat_msg, in one table so that copying
 * cannot forget one when a field is added. */
static const size_t str_fields[] = {
	offsetof(struct pl_chat_msg, room),
	offsetof(struct pl_chat_msg, from_pid),
	offsetof(struct pl_chat_msg, from_user),
	offsetof(struct pl_chat_msg, from_display),
	offsetof(struct pl_chat_msg, to_pid),
	offsetof(struct pl_chat_msg, to_user),
	offsetof(struct pl_chat_msg, text),
	offsetof(struct pl_chat_msg, client_msg_id),
};

#define N_STR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static const char **field_at(struct pl_chat_msg *m, size_t i)
{
	return (const char **)((char *)m + str_fields[i]);
}

int pl_chat_owned_copy(struct pl_chat_owned *dst, const struct pl_chat_msg *src)
{
	struct pl_chat_msg tmp = *src;
	size_t len[N_STR_FIELDS], total = 0, off = 0;
	char *blob;

	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		const char *str = *field_at(&tmp, i);

		len[i] = str ? strlen(str) + 1 : 0;
		total += len[i];
	}
	blob = malloc(total ? total : 1);
	if (!blob) {
		memset(dst, 0, sizeof(*dst));
		return PL_ENOMEM;
	}
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		const char **field = field_at(&tmp, i);

		if (!*field)
			continue;
		memcpy(blob + off, *field, len[i]);
		*field = blob + off;
		off += len[i];
	}
	dst->m = tmp;
	dst->blob = blob;
	return 0;
}

void pl_chat_owned_release(struct pl_chat_owned *o)
{
	free(o->blob);
	memset(o, 0, sizeof(*o));
}

static int page_grow(struct pl_chat_page *p)
{
	size_t cap = p->cap ? 2 * p->cap : 16;
	struct pl_chat_msg *msgs;
	char **blobs;

	msgs = realloc(p->msgs, cap * sizeof(*msgs));
	if (!msgs)
		return PL_ENOMEM;
	p->msgs = msgs;
	blobs = realloc(p->blobs, cap * sizeof(*blobs));
	if (!blobs)
		return PL_ENOMEM;
	p->blobs = blobs;
	p->cap = cap;
	return 0;
}

int pl_chat_page_push(struct pl_chat_page *p, const struct pl_chat_msg *m)
{
	struct pl_chat_owned o;
	int rc;

	if (p->n == p->cap && (rc = page_grow(p)) != 0)
		return rc;
	if ((rc = pl_chat_owned_copy(&o, m)) != 0)
		return rc;
	p->msgs[p->n] = o.m;
	p->blobs[p->n] = o.blob;   /* ownership moves to the page */
	p->n++;
	return 0;
}

void pl_chat_page_reverse(struct pl_chat_page *p)
{
	for (size_t i = 0, j = p->n; i + 1 < j; i++, j--) {
		struct pl_chat_msg m = p->msgs[i];
		char *b = p->blobs[i];

		p->msgs[i] = p->msgs[j - 1], p->msgs[j - 1] = m;
		p->blobs[i] = p->blobs[j - 1], p->blobs[j - 1] = b;
	}
}

void pl_chat_page_release(struct pl_chat_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->blobs[i]);
	free(p->msgs);
	free(p->blobs);
	memset(p, 0, sizeof(*p));
}
