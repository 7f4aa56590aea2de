/* signaling/room.c: the in-memory registry of rooms and their members.
 *
 * A room exists while it has members or joins in flight; its chat history
 * lives in the chat store and outlives it.  Members are borrowed session
 * pointers: a session removes itself before it is freed.  Runs on the
 * signaling thread only.
 */
#include "signaling/internal.h"

#include <string.h>

struct pl_room *pl_room_find(struct pl_server *srv, const char *name)
{
	return g_hash_table_lookup(srv->rooms, name);
}

struct pl_room *pl_room_get_or_create(struct pl_server *srv, const char *name)
{
	struct pl_room *r = pl_room_find(srv, name);

	if (r)
		return r;
	if ((int)g_hash_table_size(srv->rooms) >= srv->cfg->limits.max_rooms)
		return NULL;
	r = g_new0(struct pl_room, 1);
	r->name = g_strdup(name);
	r->members = g_ptr_array_new();
	g_hash_table_insert(srv->rooms, r->name, r);
	return r;
}

static void room_free(struct pl_room *r)
{
	g_ptr_array_free(r->members, TRUE);
	g_free(r->name);
	g_free(r);
}

void pl_room_add(struct pl_room *r, struct pl_session *s)
{
	g_ptr_array_add(r->members, s);
}

void pl_room_release_if_empty(struct pl_server *srv, struct pl_room *r)
{
	if (r->members->len == 0 && r->pending_joins == 0) {
		g_hash_table_remove(srv->rooms, r->name);
		room_free(r);
	}
}

void pl_room_remove(struct pl_server *srv, struct pl_room *r, struct pl_session *s)
{
	g_ptr_array_remove(r->members, s);
	pl_room_release_if_empty(srv, r);
}

struct pl_session *pl_room_find_member(struct pl_room *r, const char *pid)
{
	for (guint i = 0; i < r->members->len; i++) {
		struct pl_session *m = g_ptr_array_index(r->members, i);
		if (strcmp(m->pid, pid) == 0)
			return m;
	}
	return NULL;
}

void pl_room_broadcast(struct pl_room *r, struct pl_outbuf *b, struct pl_session *except)
{
	for (guint i = 0; i < r->members->len; i++) {
		struct pl_session *m = g_ptr_array_index(r->members, i);
		if (m != except)
			pl_session_send_buf(m, b);
	}
}

void pl_room_destroy_all(struct pl_server *srv)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, srv->rooms);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_hash_table_iter_steal(&it);
		room_free(v);
	}
}
