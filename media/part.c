/* media/part.c: a participant's two peer connections and its tracks.
 *
 * The `pub` connection: the client offers, we answer (receive only) and
 * learn the tracks it publishes from the offer (mid, payload types, SSRCs
 * from a=ssrc / ssrc-group FID, or later from the mid header extension).
 * The `sub` connection: we offer one sendonly m-line per forwarded track
 * (a down slot) and re-offer, with an increasing rev, whenever the slots
 * change; a change while an offer is out waits for its answer.  A local
 * description goes out once ICE gathering is done (immediate on host
 * candidates) or after 300 ms, whichever comes first; later candidates
 * are trickled.  Runs on the owning worker's thread.
 */
#include "media/internal.h"
#include "common/err.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_SDP_WAIT_MS 300

static const char *pc_name(enum pl_media_pc pc)
{
	return pc == PL_MEDIA_PC_PUB ? "pub" : "sub";
}

static void post_sdp(struct pl_mpart *p, enum pl_media_pc pc, struct pl_sdp *sdp)
{
	struct pl_media_event *ev;
	char *text = NULL;
	int rc = pl_sdp_write(sdp, &text, NULL);

	if (rc < 0) {
		pl_worker_post_error(p->w, p->key, pc, PL_EIO, "cannot write the %s description: %s",
				     pc_name(pc), pl_strerror(rc));
		return;
	}
	ev = g_new0(struct pl_media_event, 1);
	ev->type = pc == PL_MEDIA_PC_PUB ? PL_MEDIA_EV_ANSWER : PL_MEDIA_EV_OFFER;
	ev->key = p->key;
	ev->pc = pc;
	ev->rev = p->sub_rev;
	ev->sdp = g_strdup(text);
	free(text);
	pl_worker_post(p->w, ev);
}

static struct pl_sdp_media *first_bundled(struct pl_sdp *sdp)
{
	for (size_t i = 0; i < sdp->media_count; i++)
		if (sdp->media[i]->port != 0)
			return sdp->media[i];
	return NULL;
}

void pl_part_local_sdp_ready(struct pl_mpart *p, enum pl_media_pc pc)
{
	struct pl_sdp **pending = pc == PL_MEDIA_PC_PUB ? &p->pending_answer : &p->pending_offer;
	struct pl_peer *peer = pc == PL_MEDIA_PC_PUB ? p->pub : p->sub;
	struct pl_sdp_media *m;

	if (!*pending || !peer)
		return;
	m = first_bundled(*pending);
	if (m)
		pl_peer_fill_candidates(peer, m);
	else
		peer->local_sdp_sent = true;
	post_sdp(p, pc, *pending);
	pl_sdp_destroy(*pending);
	*pending = NULL;
}

static gboolean on_local_sdp_timer(gpointer ud)
{
	struct pl_mpart *p = ud;

	p->local_sdp_timer = 0;
	pl_part_local_sdp_ready(p, PL_MEDIA_PC_PUB);
	pl_part_local_sdp_ready(p, PL_MEDIA_PC_SUB);
	return G_SOURCE_REMOVE;
}

/* Sends the pending description now if gathering is done, else soon. */
static void release_local_sdp(struct pl_mpart *p, enum pl_media_pc pc)
{
	struct pl_peer *peer = pc == PL_MEDIA_PC_PUB ? p->pub : p->sub;

	if (peer->gathering_done) {
		pl_part_local_sdp_ready(p, pc);
		return;
	}
	if (!p->local_sdp_timer) {
		GSource *s = g_timeout_source_new(LOCAL_SDP_WAIT_MS);
		g_source_set_callback(s, on_local_sdp_timer, p, NULL);
		p->local_sdp_timer = g_source_attach(s, p->w->ctx);
		g_source_unref(s);
	}
}

static void local_params(struct pl_mpart *p, struct pl_peer *peer, struct pl_sdp_local *l)
{
	l->ice_ufrag = pl_ice_transport_ufrag(peer->ice);
	l->ice_pwd = pl_ice_transport_pwd(peer->ice);
	l->fingerprint_hash = "sha-256";
	l->fingerprint = pl_dtls_cert_fingerprint(pl_worker_cert(p->w));
	l->sess_id = p->sess_id;
	l->sess_version = ++p->sess_version;
}

/* ---- published tracks -------------------------------------------------- */

static struct pl_track *track_by_mid(struct pl_mpart *p, const char *mid)
{
	for (size_t i = 0; i < p->n_tracks; i++)
		if (strcmp(p->tracks[i]->mid, mid) == 0)
			return p->tracks[i];
	return NULL;
}

/* The media and RTX SSRCs of an offered m-line (0 when not signalled). */
static void offered_ssrcs(const struct pl_sdp_media *m, uint32_t *ssrc, uint32_t *rtx)
{
	*ssrc = 0, *rtx = 0;
	for (size_t i = 0; i < m->ssrc_group_count; i++) {
		const struct pl_sdp_ssrc_group *g = &m->ssrc_groups[i];
		if (strcmp(g->semantics, "FID") == 0 && g->ssrc_count == 2) {
			*ssrc = g->ssrcs[0], *rtx = g->ssrcs[1];
			return;
		}
		if (strcmp(g->semantics, "SIM") == 0 && g->ssrc_count > 0) {
			*ssrc = g->ssrcs[0];
			return;
		}
	}
	if (m->ssrc_count > 0)
		*ssrc = m->ssrcs[0].ssrc;
}

/* The payload type of the accepted codec and its RTX, from the answer. */
static void answered_pts(const struct pl_sdp_media *am, uint8_t *pt, uint8_t *rtx_pt)
{
	*pt = 0, *rtx_pt = 0;
	for (size_t i = 0; i < am->rtpmap_count; i++) {
		const struct pl_sdp_rtpmap *r = &am->rtpmaps[i];
		if (g_ascii_strcasecmp(r->name, "rtx") != 0 && *pt == 0)
			*pt = r->pt;
	}
	for (size_t i = 0; i < am->rtpmap_count; i++) {
		const struct pl_sdp_rtpmap *r = &am->rtpmaps[i];
		const struct pl_sdp_fmtp *f = pl_sdp_media_fmtp(am, r->pt);
		const char *v;
		size_t vl;
		if (g_ascii_strcasecmp(r->name, "rtx") == 0 && f &&
		    pl_sdp_fmtp_param(f->params, "apt", &v, &vl) && (uint8_t)atoi(v) == *pt)
			*rtx_pt = r->pt;
	}
}

static void post_track(struct pl_mpart *p, struct pl_track *t, bool added)
{
	struct pl_media_event *ev = g_new0(struct pl_media_event, 1);

	ev->type = added ? PL_MEDIA_EV_TRACK_ADDED : PL_MEDIA_EV_TRACK_REMOVED;
	ev->key = p->key;
	ev->pc = PL_MEDIA_PC_PUB;
	ev->track_id = g_strdup(t->id);
	ev->mid = g_strdup(t->mid);
	ev->video = t->video;
	pl_worker_post(p->w, ev);
}

static void track_remove(struct pl_mpart *p, size_t i)
{
	struct pl_track *t = p->tracks[i];

	pl_router_track_removed(t);
	post_track(p, t, false);
	pl_router_track_release(t);
	g_free(t->mid);
	g_free(t);
	p->tracks[i] = p->tracks[--p->n_tracks];
}

/* Brings the published tracks in line with an accepted offer. */
static void update_tracks(struct pl_mpart *p, const struct pl_sdp *offer, const struct pl_sdp *answer)
{
	for (size_t i = 0; i < answer->media_count; i++) {
		const struct pl_sdp_media *am = answer->media[i], *om = offer->media[i];
		bool sending = am->port != 0 && am->mid &&
			       (om->dir == PL_SDP_DIR_SENDONLY || om->dir == PL_SDP_DIR_SENDRECV ||
				om->dir == PL_SDP_DIR_UNSET);
		struct pl_track *t = am->mid ? track_by_mid(p, am->mid) : NULL;

		for (size_t e = 0; e < am->extmap_count; e++) {
			if (strcmp(am->extmaps[e].uri, PL_SDP_EXT_MID) == 0)
				p->pub_mid_ext = (uint8_t)am->extmaps[e].id;
			if (strcmp(am->extmaps[e].uri, PL_SDP_EXT_TWCC) == 0)
				p->pub_twcc_ext = (uint8_t)am->extmaps[e].id;
		}
		if (!sending) {
			for (size_t k = 0; t && k < p->n_tracks; k++)
				if (p->tracks[k] == t)
					track_remove(p, k);
			continue;
		}
		uint32_t ssrc, rtx;
		offered_ssrcs(om, &ssrc, &rtx);
		if (t) {
			if (ssrc)
				t->ssrc = ssrc, t->rtx_ssrc = rtx;
			continue;
		}
		if (p->n_tracks == PL_MAX_TRACKS)
			break;
		t = g_new0(struct pl_track, 1);
		snprintf(t->id, sizeof(t->id), "t-%08x", g_random_int());
		t->video = am->kind == PL_SDP_KIND_VIDEO;
		t->mid = g_strdup(am->mid);
		t->ssrc = ssrc, t->rtx_ssrc = rtx;
		answered_pts(am, &t->pt, &t->rtx_pt);
		/* NACK only what the publisher agreed to retransmit (Chromium
		 * offers no NACK for Opus). */
		for (size_t f = 0; f < am->rtcp_fb_count; f++)
			if ((am->rtcp_fbs[f].pt == t->pt || am->rtcp_fbs[f].pt == -1) &&
			    strcmp(am->rtcp_fbs[f].type, "nack") == 0 && !am->rtcp_fbs[f].param)
				t->nack_ok = true;
		t->owner = p;
		pl_router_track_init(t);
		p->tracks[p->n_tracks++] = t;
		PL_LOG(PL_LOG_INFO, "media", "[w%d room=%s p=%s] publishes %s track %s (mid %s, ssrc %u, pt %u)",
		       p->w->index, p->room->name, p->pid, t->video ? "video" : "audio", t->id, t->mid,
		       t->ssrc, t->pt);
		post_track(p, t, true);
		pl_router_track_added(t);
	}
}

/* ---- pub: the client's offer ------------------------------------------- */

static int remote_transport(struct pl_mpart *p, enum pl_media_pc pc, const struct pl_sdp *sdp,
			    const char *mid, struct pl_sdp_remote *r)
{
	int rc = pl_sdp_bundle_transport(sdp, mid, r);

	if (rc < 0)
		pl_worker_post_error(p->w, p->key, pc, rc, "SDP: %s",
				     rc == PL_ENOENT ? "no BUNDLE group (max-bundle is required)"
						     : "the BUNDLE transport lacks ICE credentials or a fingerprint");
	return rc;
}

static struct pl_sdp *parse_sdp(struct pl_mpart *p, enum pl_media_pc pc, const char *text)
{
	struct pl_sdp_error err = { 0 };
	struct pl_sdp *sdp = NULL;
	size_t len = strlen(text);
	int rc;

	if (len > pl_worker_max_sdp(p->w)) {
		pl_worker_post_error(p->w, p->key, pc, PL_ETOOBIG, "SDP larger than %zu bytes",
				     pl_worker_max_sdp(p->w));
		return NULL;
	}
	rc = pl_sdp_parse(text, len, &sdp, &err);
	if (rc < 0) {
		if (err.line)
			pl_worker_post_error(p->w, p->key, pc, rc, "SDP line %u: %s", err.line,
					     err.reason ? err.reason : "malformed");
		else
			pl_worker_post_error(p->w, p->key, pc, rc, "SDP: %s",
					     err.reason ? err.reason : pl_strerror(rc));
		return NULL;
	}
	return sdp;
}

void pl_part_on_offer(struct pl_mpart *p, const char *text)
{
	struct pl_sdp_answer_params ap = { .dir = PL_SDP_DIR_RECVONLY };
	struct pl_sdp_error err = { 0 };
	struct pl_sdp_remote r;
	struct pl_sdp *offer, *answer = NULL;
	int rc;

	if (p->pending_answer) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_PUB, PL_EBUSY,
				     "the previous offer is still being answered");
		return;
	}
	offer = parse_sdp(p, PL_MEDIA_PC_PUB, text);
	if (!offer)
		return;
	if (!p->pub) {
		p->pub = pl_peer_create(p, PL_MEDIA_PC_PUB, false);
		if (!p->pub || pl_ice_transport_gather(p->pub->ice) < 0) {
			pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_PUB, PL_EIO, "cannot create an ICE transport");
			pl_peer_destroy(p->pub);
			p->pub = NULL;
			goto out;
		}
	}
	/* New ICE credentials in the offer: the client restarts ICE (network
	 * change).  Restart ours too, and the sub connection's with it. */
	struct pl_sdp_remote r0;
	if (pl_sdp_bundle_transport(offer, NULL, &r0) == 0 && pl_peer_remote_changed(p->pub, &r0)) {
		pl_peer_restart_ice(p->pub);
		if (p->sub) {
			p->sub_restart = true;
			pl_part_schedule_sub_offer(p);
		}
	}
	local_params(p, p->pub, &ap.local);
	rc = pl_sdp_answer_create(offer, &ap, &answer, &err);
	if (rc < 0) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_PUB, rc, "SDP: %s",
				     err.reason ? err.reason : pl_strerror(rc));
		goto out;
	}
	/* The transport is the one of the first m-line we accepted into the
	 * bundle, even when the offerer gave every m-line its own (aiortc). */
	const struct pl_sdp_group *g = pl_sdp_group_find(answer, "BUNDLE");
	if (!g || g->mid_count == 0) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_PUB, PL_EUNSUP,
				     "SDP: no m-line with a supported codec (Opus, VP8)");
		pl_sdp_destroy(answer);
		goto out;
	}
	if (remote_transport(p, PL_MEDIA_PC_PUB, offer, g->mids[0], &r) < 0) {
		pl_sdp_destroy(answer);
		goto out;
	}
	rc = pl_peer_set_remote(p->pub, &r);
	if (rc < 0) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_PUB, rc, "SDP: %s",
				     rc == PL_EINVAL ? "unusable ICE credentials or fingerprint" : pl_strerror(rc));
		pl_sdp_destroy(answer);
		goto out;
	}
	p->pending_answer = answer;
	update_tracks(p, offer, answer);
	release_local_sdp(p, PL_MEDIA_PC_PUB);
out:
	pl_sdp_destroy(offer);
}

/* ---- sub: our offers and the client's answers ---------------------------- */

static void build_sub_offer(struct pl_mpart *p);

static gboolean on_sub_offer_idle(gpointer ud)
{
	struct pl_mpart *p = ud;

	p->sub_offer_idle = 0;
	build_sub_offer(p);
	return G_SOURCE_REMOVE;
}

/* Changes come in bursts (a publisher's audio and video, a room joining
 * at once): they are gathered into one offer at the end of the loop
 * iteration. */
void pl_part_schedule_sub_offer(struct pl_mpart *p)
{
	if (!p->can_subscribe || p->n_down == 0)
		return;
	if (p->sub_awaiting_answer || p->pending_offer) {
		p->sub_dirty = true;
		return;
	}
	if (!p->sub_offer_idle) {
		GSource *s = g_idle_source_new();
		g_source_set_callback(s, on_sub_offer_idle, p, NULL);
		p->sub_offer_idle = g_source_attach(s, p->w->ctx);
		g_source_unref(s);
	}
}

static void build_sub_offer(struct pl_mpart *p)
{
	struct pl_sdp_track tracks[PL_MAX_DOWN];
	struct pl_sdp_offer_params op = { 0 };
	struct pl_sdp *offer = NULL;
	int rc;

	if (p->sub_awaiting_answer || p->pending_offer) {
		p->sub_dirty = true;
		return;
	}
	if (!p->sub) {
		p->sub = pl_peer_create(p, PL_MEDIA_PC_SUB, true);
		if (!p->sub || pl_ice_transport_gather(p->sub->ice) < 0) {
			pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_SUB, PL_EIO, "cannot create an ICE transport");
			pl_peer_destroy(p->sub);
			p->sub = NULL;
			return;
		}
	}
	if (p->sub_restart) {
		p->sub_restart = false;
		pl_peer_restart_ice(p->sub);
	}
	for (size_t i = 0; i < p->n_down; i++) {
		struct pl_down *d = &p->down[i];
		d->offered_active = d->active;
		tracks[i] = (struct pl_sdp_track){
			.kind = d->video ? PL_SDP_KIND_VIDEO : PL_SDP_KIND_AUDIO, .mid = d->mid,
			.stream_id = d->stream_id, .track_id = d->track_id, .ssrc = d->ssrc,
			.rtx_ssrc = d->rtx_ssrc, .active = d->active,
		};
	}
	local_params(p, p->sub, &op.local);
	rc = pl_sdp_offer_create(tracks, p->n_down, &op, &offer);
	if (rc < 0) {
		PL_LOG(PL_LOG_ERROR, "media", "[p=%s] cannot build the sub offer: %s", p->pid, pl_strerror(rc));
		return;
	}
	p->sub_dirty = false;
	p->sub_rev++;
	p->sub_awaiting_answer = true;
	p->pending_offer = offer;
	release_local_sdp(p, PL_MEDIA_PC_SUB);
}

void pl_part_on_answer(struct pl_mpart *p, uint32_t rev, const char *text)
{
	struct pl_sdp_remote r;
	struct pl_sdp *answer;
	int rc;

	if (!p->sub || !p->sub_awaiting_answer || p->pending_offer || rev != p->sub_rev) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_SUB, PL_EEXIST,
				     "no offer with rev %u is waiting for an answer", rev);
		return;
	}
	answer = parse_sdp(p, PL_MEDIA_PC_SUB, text);
	if (!answer)
		return;
	if (remote_transport(p, PL_MEDIA_PC_SUB, answer, NULL, &r) < 0) {
		pl_sdp_destroy(answer);
		return;
	}
	rc = pl_peer_set_remote(p->sub, &r);
	if (rc < 0) {
		pl_worker_post_error(p->w, p->key, PL_MEDIA_PC_SUB, rc, "SDP: unusable ICE credentials or fingerprint");
		pl_sdp_destroy(answer);
		return;
	}
	for (size_t i = 0; i < p->n_down; i++) {
		struct pl_down *d = &p->down[i];
		struct pl_sdp_media *m = pl_sdp_media_by_mid(answer, d->mid);
		/* Only slots that were active in the answered offer are judged
		 * (later ones wait for the next rev). */
		if (m && d->video)
			for (size_t k = 0; k < m->rtpmap_count; k++)
				if (m->rtpmaps[k].pt == PL_SDP_PT_RTX && g_ascii_strcasecmp(m->rtpmaps[k].name, "rtx") == 0)
					d->rtx_ok = true;
		if (d->offered_active && d->active && (!m || m->port == 0 || m->dir == PL_SDP_DIR_INACTIVE)) {
			PL_LOG(PL_LOG_INFO, "media", "[p=%s] the client refused m-line %s", p->pid, d->mid);
			d->active = false;
		}
	}
	pl_sdp_destroy(answer);
	p->sub_awaiting_answer = false;
	if (p->sub_dirty)
		pl_part_schedule_sub_offer(p);
}

void pl_part_on_candidate(struct pl_mpart *p, enum pl_media_pc pc, const char *cand)
{
	struct pl_peer *peer = pc == PL_MEDIA_PC_PUB ? p->pub : p->sub;
	int rc;

	if (!peer)
		return; /* a candidate for a connection not negotiated (yet) */
	rc = pl_peer_add_candidate(peer, cand);
	if (rc == PL_EINVAL)
		pl_worker_post_error(p->w, p->key, pc, rc, "malformed candidate");
}

void pl_part_on_mute(struct pl_mpart *p, const char *track_id, bool muted)
{
	for (size_t i = 0; i < p->n_tracks; i++) {
		struct pl_track *t = p->tracks[i];
		if (strcmp(t->id, track_id) == 0) {
			bool was = t->muted;
			t->muted = muted;
			if (was && !muted)
				pl_router_track_unmuted(t);
			return;
		}
	}
}

void pl_part_destroy(struct pl_mpart *p)
{
	for (size_t i = 0; i < p->n_tracks; i++) {
		struct pl_track *t = p->tracks[i];
		PL_LOG(PL_LOG_INFO, "media", "[w%d room=%s p=%s] track %s (%s): %" PRIu64 " packets in, %"
		       PRIu64 " bytes, %" PRIu64 " NACKed upstream, %" PRIu64 " RTX received, %" PRIu64
		       " PLIs, %" PRIu64 " unrepairable gaps", p->w->index, p->room->name, p->pid, t->id,
		       t->video ? "video" : "audio", t->packets, t->bytes, t->nacks_sent, t->rtx_in, t->plis,
		       t->keyframe_gaps);
	}
	for (size_t i = 0; i < p->n_down; i++) {
		struct pl_down *d = &p->down[i];
		PL_LOG(PL_LOG_INFO, "media", "[w%d room=%s p=%s] down mid %s (%s of %s): %" PRIu64
		       " packets out, %" PRIu64 " dropped waiting for a keyframe, %" PRIu64 " NACKed, %" PRIu64
		       " resent, %" PRIu64 " refused, rtt %u ms", p->w->index, p->room->name, p->pid, d->mid,
		       d->track_id, d->stream_id, d->packets, d->keyframe_drops, d->nacks_in, d->retransmits,
		       d->nacks_refused, d->rtt_ms);
	}
	while (p->n_tracks > 0)
		track_remove(p, p->n_tracks - 1);
	if (p->sub_offer_idle) {
		GSource *s = g_main_context_find_source_by_id(p->w->ctx, p->sub_offer_idle);
		if (s)
			g_source_destroy(s);
		p->sub_offer_idle = 0;
	}
	if (p->local_sdp_timer) {
		GSource *s = g_main_context_find_source_by_id(p->w->ctx, p->local_sdp_timer);
		if (s)
			g_source_destroy(s);
		p->local_sdp_timer = 0;
	}
	pl_sdp_destroy(p->pending_answer);
	pl_sdp_destroy(p->pending_offer);
	pl_peer_destroy(p->pub);
	pl_peer_destroy(p->sub);
	p->pub = p->sub = NULL;
}
