/* media/peer.c: one peer connection on a media worker.
 *
 * A peer joins the three layers of a WebRTC transport: the ICE transport
 * (libnice, through ice.h) carries datagrams; the first byte of each
 * (RFC 7983) sends it to DTLS or, once DTLS has produced SRTP keys, to the
 * router as RTP or RTCP.  The DTLS retransmission timer is a GSource on
 * the worker's context, re-armed after every DTLS call.  Local candidates
 * gathered before the local description goes out are written into it;
 * later ones are trickled as events.  Runs on the owning worker's thread.
 */
#include "media/internal.h"
#include "media/rtp.h"
#include "common/err.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static void post_state(struct pl_peer *p, int err)
{
	struct pl_media_event *ev = g_new0(struct pl_media_event, 1);

	ev->type = PL_MEDIA_EV_STATE;
	ev->key = p->part->key;
	ev->pc = p->pc;
	ev->err = err;
	pl_worker_post(p->part->w, ev);
}

static void post_candidate(struct pl_peer *p, const char *cand)
{
	struct pl_media_event *ev = g_new0(struct pl_media_event, 1);

	ev->type = PL_MEDIA_EV_CANDIDATE;
	ev->key = p->part->key;
	ev->pc = p->pc;
	ev->cand = g_strdup(cand);
	ev->mid = g_strdup(p->bundle_mid ? p->bundle_mid : "0");
	pl_worker_post(p->part->w, ev);
}

/* Re-arms the DTLS retransmission timer after a DTLS call. */
static void arm_dtls_timer(struct pl_peer *p)
{
	pl_dtls_timer_arm(&p->dtls_timer, p->failed ? NULL : p->dtls, p->part->w->ctx);
}

static void dtls_send(void *ud, const uint8_t *buf, size_t len)
{
	struct pl_peer *p = ud;

	if (pl_ice_transport_send(p->ice, buf, len) < 0)
		PL_COUNT(p->part->w, send_errors);
}

static void dtls_connected(void *ud, const struct pl_dtls_keys *k)
{
	struct pl_peer *p = ud;
	int rc;

	rc = pl_srtp_create(k->profile, k->remote_key, k->key_len, k->remote_salt, k->salt_len, true,
			    &p->srtp_in);
	if (rc == 0)
		rc = pl_srtp_create(k->profile, k->local_key, k->key_len, k->local_salt, k->salt_len,
				    false, &p->srtp_out);
	if (rc < 0) {
		PL_LOG(PL_LOG_ERROR, "srtp", "[p=%s] cannot create SRTP sessions: %s", p->part->pid,
		       pl_strerror(rc));
		p->failed = true;
		post_state(p, rc);
		return;
	}
	p->connected = true;
	PL_LOG(PL_LOG_INFO, "dtls", "[w%d room=%s p=%s pc=%s] connected, %s", p->part->w->index,
	       p->part->room->name, p->part->pid, p->pc == PL_MEDIA_PC_PUB ? "pub" : "sub",
	       pl_srtp_profile_name(k->profile));
	post_state(p, 0);
	/* Whoever starts receiving needs a keyframe: ask the publishers. */
	if (p->pc == PL_MEDIA_PC_SUB) {
		for (size_t i = 0; i < p->part->n_down; i++)
			if (p->part->down[i].active && p->part->down[i].src)
				pl_router_request_keyframe(p->part->down[i].src);
	} else {
		for (size_t i = 0; i < p->part->n_tracks; i++)
			pl_router_request_keyframe(p->part->tracks[i]);
	}
}

static void dtls_failed(void *ud, int err)
{
	struct pl_peer *p = ud;

	p->failed = true;
	if (err == PL_ECLOSED) {
		/* close_notify: the peer hung up (a participant leaving), not
		 * a failure. */
		PL_LOG(PL_LOG_INFO, "dtls", "[room=%s p=%s pc=%s] DTLS closed by the peer",
		       p->part->room->name, p->part->pid, p->pc == PL_MEDIA_PC_PUB ? "pub" : "sub");
		post_state(p, err);
		return;
	}
	PL_COUNT(p->part->w, dtls_failures);
	if (err == PL_EAUTH)
		PL_COUNT(p->part->w, fingerprint_mismatches);
	PL_LOG(PL_LOG_WARN, "dtls", "[room=%s p=%s pc=%s] DTLS failed: %s", p->part->room->name,
	       p->part->pid, p->pc == PL_MEDIA_PC_PUB ? "pub" : "sub",
	       err == PL_EAUTH ? "certificate does not match the SDP fingerprint" : pl_strerror(err));
	post_state(p, err);
}

static const struct pl_dtls_callbacks dtls_cb = {
	.send = dtls_send, .connected = dtls_connected, .failed = dtls_failed,
};

static void ice_recv(void *ud, uint8_t *buf, size_t len)
{
	struct pl_peer *p = ud;
	struct pl_worker *w = p->part->w;

	switch (pl_rtp_demux_classify(buf, len)) {
	case PL_RTP_DEMUX_DTLS:
		PL_COUNT(w, dtls_in);
		if (p->dtls && !p->failed) {
			pl_dtls_handle(p->dtls, buf, len);
			arm_dtls_timer(p);
		}
		break;
	case PL_RTP_DEMUX_RTP:
		PL_COUNT(w, rtp_in);
		if (p->connected)
			pl_router_on_rtp(p, buf, len);
		else
			PL_DROP(w, not_connected);
		break;
	case PL_RTP_DEMUX_RTCP:
		PL_COUNT(w, rtcp_in);
		if (p->connected)
			pl_router_on_rtcp(p, buf, len);
		else
			PL_DROP(w, not_connected);
		break;
	default:
		PL_COUNT(w, other_in);
		break;
	}
}

static void ice_candidate(void *ud, const char *cand)
{
	struct pl_peer *p = ud;

	if (!cand) {
		p->gathering_done = true;
		if (p->local_sdp_sent)
			post_candidate(p, NULL);
		else
			pl_part_local_sdp_ready(p->part, p->pc);
		return;
	}
	if (p->n_cands == PL_MAX_LOCAL_CANDS)
		return;
	p->cands[p->n_cands++] = g_strdup(cand);
	if (p->local_sdp_sent)
		post_candidate(p, cand);
}

static void ice_state(void *ud, enum pl_ice_state st)
{
	struct pl_peer *p = ud;

	if (st == PL_ICE_CONNECTED && p->dtls && p->dtls_client && !p->dtls_started) {
		p->dtls_started = true;
		pl_dtls_start(p->dtls);
		arm_dtls_timer(p);
	} else if (st == PL_ICE_FAILED && !p->failed) {
		p->failed = true;
		PL_LOG(PL_LOG_INFO, "ice", "[room=%s p=%s pc=%s] ICE failed (no pair or consent expired)",
		       p->part->room->name, p->part->pid, p->pc == PL_MEDIA_PC_PUB ? "pub" : "sub");
		post_state(p, PL_EEXPIRED);
	}
}

static const struct pl_ice_callbacks ice_cb = {
	.recv = ice_recv, .candidate = ice_candidate, .state = ice_state,
};

struct pl_peer *pl_peer_create(struct pl_mpart *part, enum pl_media_pc pc, bool controlling)
{
	struct pl_peer *p = g_new0(struct pl_peer, 1);

	p->part = part;
	p->pc = pc;
	if (pl_ice_transport_create(part->w->ice, controlling, &ice_cb, p, &p->ice) < 0) {
		g_free(p);
		return NULL;
	}
	PL_COUNT(part->w, peers);
	return p;
}

void pl_peer_destroy(struct pl_peer *p)
{
	if (!p)
		return;
	pl_dtls_timer_cancel(&p->dtls_timer);
	pl_dtls_destroy(p->dtls);
	pl_srtp_destroy(p->srtp_in);
	pl_srtp_destroy(p->srtp_out);
	pl_ice_transport_destroy(p->ice);
	for (size_t i = 0; i < p->n_cands; i++)
		g_free(p->cands[i]);
	g_free(p->bundle_mid);
	g_free(p->remote_ufrag);
	atomic_fetch_sub(&p->part->w->stats.peers, 1);
	g_free(p);
}

int pl_peer_set_remote(struct pl_peer *p, const struct pl_sdp_remote *r)
{
	enum pl_dtls_role role;
	int rc;

	if (p->remote_set && strcmp(p->remote_ufrag, r->ice_ufrag) == 0)
		return 0; /* a renegotiation on the same transport */
	rc = pl_ice_transport_set_remote(p->ice, r->ice_ufrag, r->ice_pwd);
	if (rc < 0)
		return rc;
	p->remote_set = true;
	g_free(p->remote_ufrag);
	p->remote_ufrag = g_strdup(r->ice_ufrag);
	for (size_t i = 0; i < r->media->candidate_count; i++) {
		char *c = pl_sdp_candidate_to_string(&r->media->candidates[i]);
		if (c)
			pl_ice_transport_add_remote_candidate(p->ice, c);
		free(c);
	}
	if (p->dtls)
		return 0; /* an ICE restart keeps the DTLS association */
	/* We answer actpass/active with passive (DTLS server); to our actpass
	 * offer an active answer makes us the server, a passive one the client. */
	role = r->setup == PL_SDP_SETUP_PASSIVE ? PL_DTLS_CLIENT : PL_DTLS_SERVER;
	p->dtls_client = role == PL_DTLS_CLIENT;
	rc = pl_dtls_create(pl_worker_cert(p->part->w), role, r->fingerprint_hash, r->fingerprint,
			    &dtls_cb, p, &p->dtls);
	if (rc < 0)
		return rc;
	if (p->dtls_client && pl_ice_transport_state(p->ice) == PL_ICE_CONNECTED) {
		p->dtls_started = true;
		pl_dtls_start(p->dtls);
		arm_dtls_timer(p);
	}
	return 0;
}

bool pl_peer_remote_changed(const struct pl_peer *p, const struct pl_sdp_remote *r)
{
	return p->remote_set && strcmp(p->remote_ufrag, r->ice_ufrag) != 0;
}

int pl_peer_restart_ice(struct pl_peer *p)
{
	int rc = pl_ice_transport_restart(p->ice);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < p->n_cands; i++)
		g_free(p->cands[i]);
	p->n_cands = 0;
	p->gathering_done = false;
	p->local_sdp_sent = false;
	p->failed = false;
	PL_LOG(PL_LOG_INFO, "ice", "[room=%s p=%s pc=%s] ICE restart", p->part->room->name, p->part->pid,
	       p->pc == PL_MEDIA_PC_PUB ? "pub" : "sub");
	return pl_ice_transport_gather(p->ice);
}

int pl_peer_add_candidate(struct pl_peer *p, const char *cand)
{
	if (!cand)
		return 0; /* end of candidates: libnice needs no signal */
	return pl_ice_transport_add_remote_candidate(p->ice, cand);
}

void pl_peer_fill_candidates(struct pl_peer *p, struct pl_sdp_media *m)
{
	for (size_t i = 0; i < p->n_cands; i++) {
		struct pl_sdp_candidate c;
		const char *s = p->cands[i];
		if (pl_sdp_candidate_parse(s, strlen(s), &c) == 0) {
			pl_sdp_candidate_add(m, &c);
			pl_sdp_candidate_release(&c);
		}
	}
	m->end_of_candidates = p->gathering_done;
	p->local_sdp_sent = true;
	g_free(p->bundle_mid);
	p->bundle_mid = g_strdup(m->mid);
}

static int send_protected(struct pl_peer *p, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
	int rc;

	if (!p->connected)
		return PL_EBUSY;
	rc = rtcp ? pl_srtp_protect_rtcp(p->srtp_out, buf, &len, cap)
		  : pl_srtp_protect(p->srtp_out, buf, &len, cap);
	if (rc < 0) {
		PL_COUNT(p->part->w, srtp_errors);
		return rc;
	}
	rc = pl_ice_transport_send(p->ice, buf, len);
	if (rc < 0)
		PL_COUNT(p->part->w, send_errors);
	return rc;
}

int pl_peer_send_rtp(struct pl_peer *p, uint8_t *buf, size_t len, size_t cap)
{
	return send_protected(p, buf, len, cap, false);
}

int pl_peer_send_rtcp(struct pl_peer *p, uint8_t *buf, size_t len, size_t cap)
{
	int rc = send_protected(p, buf, len, cap, true);

	if (rc == 0)
		PL_COUNT(p->part->w, rtcp_out);
	return rc;
}
