/* media/worker.c: a media worker thread.
 *
 * Each worker runs its own GMainContext in a thread of its own.  Its ICE
 * agent, every peer connection and every room pinned to it live on that
 * thread; nothing else touches them.  Commands arrive on a bounded queue
 * (an fd source on the context); outcomes leave as events on the pool's
 * queue.  Packets never leave the thread: recv -> unprotect -> route ->
 * protect -> send all run in the ICE receive callback.
 */
#include "media/internal.h"
#include "media/worker_cmd.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct pl_cmd *pl_cmd_new(enum pl_cmd_type type, uint64_t key)
{
	struct pl_cmd *c = g_new0(struct pl_cmd, 1);

	c->type = type;
	c->key = key;
	return c;
}

void pl_cmd_free(struct pl_cmd *c)
{
	if (!c)
		return;
	g_free(c->room);
	g_free(c->str);
	g_free(c);
}

void pl_worker_post(struct pl_worker *w, struct pl_media_event *ev)
{
	pl_media_post_event(w->media, ev);
}

void pl_worker_post_error(struct pl_worker *w, uint64_t key, enum pl_media_pc pc, int err,
			  const char *fmt, ...)
{
	struct pl_media_event *ev = g_new0(struct pl_media_event, 1);
	va_list ap;

	if (pc == PL_MEDIA_PC_PUB || pc == PL_MEDIA_PC_SUB)
		PL_COUNT(w, sdp_rejected); /* every worker error answers an SDP or candidate */
	ev->type = PL_MEDIA_EV_ERROR;
	ev->key = key;
	ev->pc = pc;
	ev->err = err;
	va_start(ap, fmt);
	ev->message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	pl_worker_post(w, ev);
}

const struct pl_dtls_cert *pl_worker_cert(const struct pl_worker *w)
{
	return pl_media_cert(w->media);
}

size_t pl_worker_max_sdp(const struct pl_worker *w)
{
	return pl_media_max_sdp(w->media);
}

static struct pl_mroom *room_get(struct pl_worker *w, const char *name, bool echo)
{
	struct pl_mroom *r = g_hash_table_lookup(w->rooms, name);

	if (!r) {
		r = g_new0(struct pl_mroom, 1);
		r->name = g_strdup(name);
		r->echo = echo;
		r->parts = g_ptr_array_new();
		g_hash_table_insert(w->rooms, r->name, r);
	}
	return r;
}

static void room_leave(struct pl_worker *w, struct pl_mroom *r, struct pl_mpart *p)
{
	g_ptr_array_remove(r->parts, p);
	if (r->parts->len == 0) {
		g_hash_table_remove(w->rooms, r->name);
		g_ptr_array_free(r->parts, TRUE);
		g_free(r->name);
		g_free(r);
	}
}

static void cmd_add(struct pl_worker *w, struct pl_cmd *c)
{
	struct pl_mpart *p;

	if (g_hash_table_lookup(w->parts, &c->key))
		return;
	p = g_new0(struct pl_mpart, 1);
	p->key = c->key;
	p->pid = g_strdup(c->str);
	p->w = w;
	p->can_publish = c->can_publish;
	p->can_subscribe = c->can_subscribe;
	p->room = room_get(w, c->room, c->echo);
	p->rtcp_ssrc = g_random_int() | 1;
	p->sess_id = ((uint64_t)g_random_int() << 31) ^ g_random_int();
	g_ptr_array_add(p->room->parts, p);
	g_hash_table_insert(w->parts, &p->key, p);
	atomic_fetch_add(&w->n_parts, 1);
	if (p->can_subscribe)
		pl_router_attach_existing(p);
}

static void cmd_remove(struct pl_worker *w, struct pl_mpart *p)
{
	struct pl_mroom *r = p->room;

	g_hash_table_remove(w->parts, &p->key);
	pl_part_destroy(p); /* removes its tracks from every subscriber */
	room_leave(w, r, p);
	g_free(p->pid);
	g_free(p);
	atomic_fetch_sub(&w->n_parts, 1);
}

static void run_cmd(struct pl_worker *w, struct pl_cmd *c)
{
	struct pl_mpart *p;

	if (c->type == PL_CMD_ADD) {
		cmd_add(w, c);
		return;
	}
	p = g_hash_table_lookup(w->parts, &c->key);
	if (!p)
		return; /* it left while the command was queued */
	switch (c->type) {
	case PL_CMD_REMOVE:
		cmd_remove(w, p);
		break;
	case PL_CMD_OFFER:
		pl_part_on_offer(p, c->str);
		break;
	case PL_CMD_ANSWER:
		pl_part_on_answer(p, c->rev, c->str);
		break;
	case PL_CMD_CANDIDATE:
		pl_part_on_candidate(p, c->pc, c->str);
		break;
	case PL_CMD_MUTE:
		pl_part_on_mute(p, c->str, c->flag);
		break;
	case PL_CMD_SUBSCRIBE:
		pl_router_set_paused(p, c->str, !c->flag);
		break;
	case PL_CMD_ADD:
		break;
	}
}

static gboolean on_commands(gint fd, GIOCondition cond, gpointer ud)
{
	struct pl_worker *w = ud;
	struct pl_cmd *c;

	while ((c = pl_queue_pop(w->cmdq)) != NULL) {
		run_cmd(w, c);
		pl_cmd_free(c);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer ud)
{
	struct pl_worker *w = ud;
	int64_t now = pl_clock_mono_us();
	bool reports = ++w->ticks % 50 == 0; /* once a second */
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, w->parts);
	while (g_hash_table_iter_next(&it, &k, &v))
		pl_router_tick(v, now, reports);
	if (reports) {
		char *snap = pl_worker_snapshot_build(w, now), *old;
		g_mutex_lock(&w->snap_mu);
		old = w->snapshot;
		w->snapshot = snap;
		g_mutex_unlock(&w->snap_mu);
		g_free(old);
	}
	return G_SOURCE_CONTINUE;
}

static gpointer worker_main(gpointer ud)
{
	struct pl_worker *w = ud;

	g_main_context_push_thread_default(w->ctx);
	g_main_loop_run(w->loop);
	/* Tear down on this thread: libnice and the peers belong to it. */
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, w->parts);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_hash_table_iter_steal(&it);
		struct pl_mpart *p = v;
		struct pl_mroom *r = p->room;
		pl_part_destroy(p);
		room_leave(w, r, p);
		g_free(p->pid);
		g_free(p);
	}
	pl_ice_agent_destroy(w->ice);
	w->ice = NULL;
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

int pl_worker_create(struct pl_media *m, int index, const struct pl_media_config *cfg,
		     size_t queue_cap, struct pl_worker **out)
{
	struct pl_worker *w = g_new0(struct pl_worker, 1);
	struct pl_ice_config ic = {
		.addresses = cfg->ice_addresses, .n_addresses = cfg->n_ice_addresses,
		.stun_host = cfg->stun_host, .stun_port = cfg->stun_port,
		.public_ip = cfg->public_ip, .port_min = cfg->port_min, .port_max = cfg->port_max,
	};
	char name[16];
	int rc;

	w->index = index;
	w->media = m;
	g_mutex_init(&w->snap_mu);
	w->ctx = g_main_context_new();
	w->loop = g_main_loop_new(w->ctx, FALSE);
	w->parts = g_hash_table_new(g_int64_hash, g_int64_equal);
	w->rooms = g_hash_table_new(g_str_hash, g_str_equal);
	rc = pl_queue_create(queue_cap, &w->cmdq);
	if (rc == 0)
		rc = pl_ice_agent_create(w->ctx, &ic, &w->ice);
	if (rc < 0) {
		pl_worker_destroy(w);
		return rc;
	}
	pl_rtcp_ntp_clock_init(&w->ntp, pl_clock_mono_us(), pl_clock_wall_ms() * 1000);
	w->tick = g_timeout_source_new(20);
	g_source_set_callback(w->tick, on_tick, w, NULL);
	g_source_attach(w->tick, w->ctx);
	w->cmd_source = g_unix_fd_source_new(pl_queue_fd(w->cmdq), G_IO_IN);
	g_source_set_callback(w->cmd_source, (GSourceFunc)(void (*)(void))on_commands, w, NULL);
	g_source_attach(w->cmd_source, w->ctx);
	snprintf(name, sizeof(name), "media-%d", index);
	w->thread = g_thread_new(name, worker_main, w);
	*out = w;
	return 0;
}

static gboolean quit_loop(gpointer ud)
{
	g_main_loop_quit(ud);
	return G_SOURCE_REMOVE;
}

void pl_worker_destroy(struct pl_worker *w)
{
	if (!w)
		return;
	if (w->thread) {
		GSource *s = g_idle_source_new();
		g_source_set_callback(s, quit_loop, w->loop, NULL);
		g_source_attach(s, w->ctx);
		g_source_unref(s);
		g_thread_join(w->thread);
	} else {
		pl_ice_agent_destroy(w->ice);
	}
	if (w->tick) {
		g_source_destroy(w->tick);
		g_source_unref(w->tick);
	}
	if (w->cmd_source) {
		g_source_destroy(w->cmd_source);
		g_source_unref(w->cmd_source);
	}
	pl_queue_destroy(w->cmdq, (void (*)(void *))pl_cmd_free);
	g_hash_table_destroy(w->parts);
	g_hash_table_destroy(w->rooms);
	g_main_loop_unref(w->loop);
	g_main_context_unref(w->ctx);
	g_free(w->snapshot);
	g_mutex_clear(&w->snap_mu);
	g_free(w);
}

int pl_worker_push(struct pl_worker *w, struct pl_cmd *c)
{
	return pl_queue_push(w->cmdq, c);
}
