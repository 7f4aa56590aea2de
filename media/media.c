/* media/media.c: the pool of media workers and the command API of
 * media.h.
 *
 * Runs on the owner's thread (signaling).  It pins each room to a worker
 * (the one with the fewest participants when the room first appears),
 * remembers which worker holds each participant key, and turns API calls
 * into commands on that worker's bounded queue.  Workers answer through
 * one shared event queue.  The DTLS certificate is loaded or generated
 * here, once, and shared read-only by all workers.
 */
#include "media/internal.h"
#include "media/worker_cmd.h"
#include "common/err.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD_QUEUE_CAP 4096
#define EVENT_QUEUE_CAP 65536

struct room_pin {
	int worker;
	int parts;
};

struct pl_media {
	struct pl_worker **workers;
	int n_workers;
	struct pl_queue *events;
	struct pl_dtls_cert *cert;
	char fingerprint[160];
	GHashTable *keys;   /* uint64 key -> struct key_entry */
	GHashTable *rooms;  /* name -> struct room_pin */
	size_t max_sdp;
	_Atomic uint64_t events_dropped;
};

struct key_entry {
	uint64_t key;
	int worker;
	char *room;
};

static int load_cert(const struct pl_media_config *cfg, struct pl_dtls_cert **out)
{
	char *cert = cfg->cert_path ? g_strdup(cfg->cert_path)
				    : g_build_filename(cfg->data_dir ? cfg->data_dir : ".", "dtls-cert.pem", NULL);
	char *key = cfg->key_path ? g_strdup(cfg->key_path)
				  : g_build_filename(cfg->data_dir ? cfg->data_dir : ".", "dtls-key.pem", NULL);
	int rc;

	if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
		rc = pl_dtls_cert_load(cert, key, out);
		if (rc == 0)
			PL_LOG(PL_LOG_INFO, "dtls", "certificate loaded from %s", cert);
		else
			PL_LOG(PL_LOG_ERROR, "dtls", "cannot load certificate %s / %s", cert, key);
	} else if (cfg->cert_path || cfg->key_path) {
		PL_LOG(PL_LOG_ERROR, "dtls", "certificate %s or key %s not readable", cert, key);
		rc = PL_EIO;
	} else {
		rc = pl_dtls_cert_generate(out);
		if (rc == 0 && pl_dtls_cert_save(*out, cert, key) == 0)
			PL_LOG(PL_LOG_INFO, "dtls", "generated a certificate, saved to %s", cert);
		else if (rc == 0)
			PL_LOG(PL_LOG_WARN, "dtls", "generated a certificate; could not save it to %s", cert);
	}
	g_free(cert);
	g_free(key);
	return rc;
}

int pl_media_create(const struct pl_media_config *cfg, struct pl_media **out)
{
	struct pl_media *m = g_new0(struct pl_media, 1);
	int rc, n = cfg->workers > 0 ? cfg->workers : (int)g_get_num_processors();

	m->max_sdp = cfg->max_sdp_bytes ? cfg->max_sdp_bytes : 65536;
	m->keys = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, NULL);
	m->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	rc = pl_srtp_global_init();
	if (rc == 0 && cfg->srtp_engine) {
		enum pl_srtp_engine e;
		if ((rc = pl_srtp_engine_parse(cfg->srtp_engine, &e)) == 0)
			pl_srtp_set_engine(e);
		else
			PL_LOG(PL_LOG_ERROR, "media", "unknown SRTP engine '%s' (builtin, libsrtp)",
			       cfg->srtp_engine);
	}
	if (rc == 0)
		rc = load_cert(cfg, &m->cert);
	if (rc == 0)
		rc = pl_queue_create(EVENT_QUEUE_CAP, &m->events);
	if (rc < 0)
		goto fail;
	snprintf(m->fingerprint, sizeof(m->fingerprint), "sha-256 %s", pl_dtls_cert_fingerprint(m->cert));
	m->workers = g_new0(struct pl_worker *, (size_t)n);
	for (int i = 0; i < n; i++) {
		rc = pl_worker_create(m, i, cfg, CMD_QUEUE_CAP, &m->workers[i]);
		if (rc < 0)
			goto fail;
		m->n_workers++;
	}
	PL_LOG(PL_LOG_INFO, "media", "%d media worker(s); DTLS fingerprint %s", n, m->fingerprint);
	*out = m;
	return 0;
fail:
	pl_media_destroy(m);
	return rc;
}

static void free_key(gpointer v)
{
	struct key_entry *e = v;

	g_free(e->room);
	g_free(e);
}

void pl_media_destroy(struct pl_media *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n_workers; i++)
		pl_worker_destroy(m->workers[i]);
	g_free(m->workers);
	pl_queue_destroy(m->events, (void (*)(void *))pl_media_event_free);
	pl_dtls_cert_destroy(m->cert);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, m->keys);
	while (g_hash_table_iter_next(&it, &k, &v))
		free_key(v);
	g_hash_table_destroy(m->keys);
	g_hash_table_destroy(m->rooms);
	g_free(m);
}

int pl_media_event_fd(const struct pl_media *m)
{
	return pl_queue_fd(m->events);
}

struct pl_media_event *pl_media_event_next(struct pl_media *m)
{
	return pl_queue_pop(m->events);
}

void pl_media_event_free(struct pl_media_event *ev)
{
	if (!ev)
		return;
	g_free(ev->sdp);
	g_free(ev->cand);
	g_free(ev->mid);
	g_free(ev->message);
	g_free(ev->track_id);
	g_free(ev);
}

const char *pl_media_fingerprint(const struct pl_media *m)
{
	return m->fingerprint;
}

/* Called by workers (any thread). */
void pl_media_post_event(struct pl_media *m, struct pl_media_event *ev)
{
	if (pl_queue_push(m->events, ev) < 0) {
		atomic_fetch_add(&m->events_dropped, 1);
		PL_LOG(PL_LOG_ERROR, "media", "event queue full, event dropped");
		pl_media_event_free(ev);
	}
}

const struct pl_dtls_cert *pl_media_cert(const struct pl_media *m)
{
	return m->cert;
}

size_t pl_media_max_sdp(const struct pl_media *m)
{
	return m->max_sdp;
}

static int send_cmd(struct pl_media *m, int worker, struct pl_cmd *c)
{
	int rc = pl_worker_push(m->workers[worker], c);

	if (rc < 0)
		pl_cmd_free(c);
	return rc;
}

static struct key_entry *find_key(struct pl_media *m, uint64_t key)
{
	return g_hash_table_lookup(m->keys, &key);
}

int pl_media_participant_add(struct pl_media *m, uint64_t key, const char *room, const char *pid,
			     bool echo, bool can_publish, bool can_subscribe)
{
	struct room_pin *pin;
	struct key_entry *e;

	if (!room || !pid || find_key(m, key))
		return PL_EINVAL;
	pin = g_hash_table_lookup(m->rooms, room);
	if (!pin) {
		int best = 0;
		for (int i = 1; i < m->n_workers; i++)
			if (atomic_load(&m->workers[i]->n_parts) < atomic_load(&m->workers[best]->n_parts))
				best = i;
		pin = g_new0(struct room_pin, 1);
		pin->worker = best;
		g_hash_table_insert(m->rooms, g_strdup(room), pin);
	}
	struct pl_cmd *c = pl_cmd_new(PL_CMD_ADD, key);
	c->room = g_strdup(room);
	c->str = g_strdup(pid);
	c->echo = echo, c->can_publish = can_publish, c->can_subscribe = can_subscribe;
	int rc = send_cmd(m, pin->worker, c);
	if (rc < 0) {
		if (pin->parts == 0)
			g_hash_table_remove(m->rooms, room);
		return rc;
	}
	pin->parts++;
	e = g_new0(struct key_entry, 1);
	e->key = key;
	e->worker = pin->worker;
	e->room = g_strdup(room);
	g_hash_table_insert(m->keys, &e->key, e);
	return 0;
}

int pl_media_participant_remove(struct pl_media *m, uint64_t key)
{
	struct key_entry *e = find_key(m, key);
	struct room_pin *pin;

	if (!e)
		return PL_ENOENT;
	/* Removal must not be lost: retry briefly on a full queue. */
	struct pl_cmd *c = pl_cmd_new(PL_CMD_REMOVE, key);
	for (int tries = 0; pl_worker_push(m->workers[e->worker], c) < 0; tries++) {
		if (tries == 1000) {
			PL_LOG(PL_LOG_ERROR, "media", "worker %d queue stuck; participant leaks", e->worker);
			pl_cmd_free(c);
			break;
		}
		g_usleep(1000);
	}
	pin = g_hash_table_lookup(m->rooms, e->room);
	if (pin && --pin->parts == 0)
		g_hash_table_remove(m->rooms, e->room);
	g_hash_table_remove(m->keys, &key);
	free_key(e);
	return 0;
}

static int keyed(struct pl_media *m, uint64_t key, struct pl_cmd *c)
{
	struct key_entry *e = find_key(m, key);

	if (!e) {
		pl_cmd_free(c);
		return PL_ENOENT;
	}
	return send_cmd(m, e->worker, c);
}

int pl_media_offer(struct pl_media *m, uint64_t key, const char *sdp)
{
	struct pl_cmd *c = pl_cmd_new(PL_CMD_OFFER, key);

	c->pc = PL_MEDIA_PC_PUB;
	c->str = g_strdup(sdp);
	return keyed(m, key, c);
}

int pl_media_answer(struct pl_media *m, uint64_t key, uint32_t rev, const char *sdp)
{
	struct pl_cmd *c = pl_cmd_new(PL_CMD_ANSWER, key);

	c->pc = PL_MEDIA_PC_SUB;
	c->rev = rev;
	c->str = g_strdup(sdp);
	return keyed(m, key, c);
}

int pl_media_candidate(struct pl_media *m, uint64_t key, enum pl_media_pc pc, const char *cand)
{
	struct pl_cmd *c = pl_cmd_new(PL_CMD_CANDIDATE, key);

	c->pc = pc;
	c->str = cand ? g_strdup(cand) : NULL;
	return keyed(m, key, c);
}

int pl_media_mute(struct pl_media *m, uint64_t key, const char *track_id, bool muted)
{
	struct pl_cmd *c = pl_cmd_new(PL_CMD_MUTE, key);

	c->str = g_strdup(track_id);
	c->flag = muted;
	return keyed(m, key, c);
}

int pl_media_subscribe(struct pl_media *m, uint64_t key, const char *track_id, bool enabled)
{
	struct pl_cmd *c;

	if (!track_id)
		return PL_EINVAL;
	c = pl_cmd_new(PL_CMD_SUBSCRIBE, key);
	c->str = g_strdup(track_id);
	c->flag = enabled;
	return keyed(m, key, c);
}

char *pl_media_rooms_json(struct pl_media *m)
{
	GString *out = g_string_new("[");
	bool first = true;

	for (int i = 0; i < m->n_workers; i++) {
		struct pl_worker *w = m->workers[i];
		g_mutex_lock(&w->snap_mu);
		if (w->snapshot && *w->snapshot) {
			if (!first)
				g_string_append_c(out, ',');
			g_string_append(out, w->snapshot);
			first = false;
		}
		g_mutex_unlock(&w->snap_mu);
	}
	g_string_append_c(out, ']');
	return g_string_free(out, FALSE);
}

void pl_media_get_stats(const struct pl_media *m, struct pl_media_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < m->n_workers; i++) {
		const struct pl_worker_stats *s = &m->workers[i]->stats;
#define ADD(f) out->f += atomic_load_explicit(&s->f, memory_order_relaxed)
		ADD(peers); ADD(rtp_in); ADD(rtcp_in); ADD(dtls_in); ADD(other_in);
		ADD(rtp_forwarded); ADD(rtcp_out); ADD(srtp_errors); ADD(send_errors);
		ADD(dtls_failures); ADD(fingerprint_mismatches); ADD(plis_sent);
		ADD(sdp_rejected); ADD(nacks_sent); ADD(nacks_received); ADD(retransmits);
		ADD(rtx_received); ADD(twcc_feedbacks);
		ADD(drops_not_connected); ADD(drops_on_sub); ADD(drops_malformed);
		ADD(drops_unknown_ssrc); ADD(drops_oversize); ADD(drops_stale);
#undef ADD
	}
	out->drops = out->drops_not_connected + out->drops_on_sub + out->drops_malformed +
		     out->drops_unknown_ssrc + out->drops_oversize + out->drops_stale;
}
