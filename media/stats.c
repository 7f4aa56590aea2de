/* media/stats.c: a worker's rooms as JSON, for GET /stats.
 *
 * Built once a second on the worker's thread (control plane: allocation
 * is fine here) from the counters the forwarding path keeps, and handed
 * to the signaling thread as text under a mutex.  No JSON library in
 * media/: the few fields are written with GString, and the only strings
 * (room names, ids) are validated tokens that need no escaping.
 */
#include "media/internal.h"

#include <inttypes.h>

static uint64_t lost_packets(const struct pl_rtcp_rx_stats *s)
{
	uint32_t ext_max = s->cycles + s->max_seq;
	int64_t expected = (int64_t)ext_max - (int64_t)s->base_seq + 1;
	int64_t lost = expected - (int64_t)s->received;

	return s->started && lost > 0 ? (uint64_t)lost : 0;
}

static void track_json(GString *o, const struct pl_track *t)
{
	g_string_append_printf(o,
		"{\"id\":\"%s\",\"kind\":\"%s\",\"mid\":\"%s\",\"ssrc\":%u,\"muted\":%s,\"packets\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"nacks_sent\":%" PRIu64 ",\"rtx_received\":%" PRIu64
		",\"plis\":%" PRIu64 ",\"keyframe_requests_folded\":%" PRIu64 ",\"unrepairable_gaps\":%" PRIu64 "}",
		t->id, t->video ? "video" : "audio", t->mid, t->ssrc, t->muted ? "true" : "false",
		t->packets, t->bytes, lost_packets(&t->rxs), t->nacks_sent, t->rtx_in, t->plis,
		t->kf.suppressed, t->keyframe_gaps);
}

static void down_json(GString *o, const struct pl_down *d)
{
	g_string_append_printf(o,
		"{\"mid\":\"%s\",\"track\":\"%s\",\"from\":\"%s\",\"active\":%s,\"paused\":%s,\"packets\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"keyframe_drops\":%" PRIu64 ",\"nacks\":%" PRIu64
		",\"retransmits\":%" PRIu64 ",\"nacks_refused\":%" PRIu64 ",\"rtt_ms\":%u}",
		d->mid, d->track_id, d->stream_id, d->active ? "true" : "false",
		d->paused ? "true" : "false", d->packets, d->bytes,
		d->keyframe_drops, d->nacks_in, d->retransmits, d->nacks_refused, d->rtt_ms);
}

static void part_json(GString *o, const struct pl_mpart *p)
{
	g_string_append_printf(o, "{\"id\":\"%s\",\"pub\":%s,\"sub\":%s,\"rtt_ms\":%u,\"tracks\":[",
			       p->pid, p->pub && p->pub->connected ? "true" : "false",
			       p->sub && p->sub->connected ? "true" : "false", p->rtt_ms);
	for (size_t i = 0; i < p->n_tracks; i++) {
		if (i)
			g_string_append_c(o, ',');
		track_json(o, p->tracks[i]);
	}
	g_string_append(o, "],\"receiving\":[");
	for (size_t i = 0; i < p->n_down; i++) {
		if (i)
			g_string_append_c(o, ',');
		down_json(o, &p->down[i]);
	}
	g_string_append(o, "]}");
}

char *pl_worker_snapshot_build(struct pl_worker *w, int64_t now_us)
{
	GString *o = g_string_new("");
	GHashTableIter it;
	gpointer k, v;
	bool first = true;

	g_hash_table_iter_init(&it, w->rooms);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct pl_mroom *r = v;
		if (!first)
			g_string_append_c(o, ',');
		first = false;
		g_string_append_printf(o, "{\"room\":\"%s\",\"worker\":%d,\"echo\":%s,\"participants\":[",
				       r->name, w->index, r->echo ? "true" : "false");
		for (guint i = 0; i < r->parts->len; i++) {
			if (i)
				g_string_append_c(o, ',');
			part_json(o, g_ptr_array_index(r->parts, i));
		}
		g_string_append(o, "]}");
	}
	return g_string_free(o, FALSE);
}
