/* client/client_peer.c: one peer connection of a client (pub or sub).
 *
 * The client's side of the three layers media/peer.c joins on the server:
 * a libnice transport (media/ice.h; controlling on pub, which we offer,
 * controlled on sub, which the server offers), DTLS-SRTP (media/dtls.h) in
 * the client role on both -- the server answers our actpass with passive,
 * and we answer its actpass with active -- and two libsrtp sessions once
 * DTLS produced keys.  Datagrams are sorted by their first byte (RFC 7983):
 * DTLS to the association, RTP and RTCP unprotected here and handed to the
 * pub or sub half of the client.  The DTLS retransmission timer is a
 * GSource re-armed after every DTLS call, as on the server.  With an
 * impairment stage (client_impair.c), every datagram in or out -- DTLS
 * and SRTP/SRTCP, after protection -- passes it first; drop_in/drop_out
 * (the older test knob) still drop plain media packets on their own.
 * Runs on the client's loop thread; nothing here allocates per packet.
 */
#include "client/client_internal.h"
#include "media/rtp.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static const char *pc_name(const struct pl_client_peer *p)
{
	return p->pc == PL_CLIENT_PC_PUB ? "pub" : "sub";
}

/* Re-arms the DTLS retransmission timer after a DTLS call. */
static void arm_dtls_timer(struct pl_client_peer *p)
{
	pl_dtls_timer_arm(&p->dtls_timer, p->failed ? NULL : p->dtls, p->c->loop->ctx);
}

static void dtls_send(void *ud, const uint8_t *buf, size_t len)
{
	struct pl_client_peer *p = ud;

	if (!pl_client_impair_out(p, buf, len, true))
		pl_ice_transport_send(p->ice, buf, len);
}

void pl_client_peer_xmit(struct pl_client_peer *p, const uint8_t *buf, size_t len)
{
	pl_ice_transport_send(p->ice, buf, len);
}

static void dtls_connected(void *ud, const struct pl_dtls_keys *k)
{
	struct pl_client_peer *p = ud;
	int rc;

	rc = pl_srtp_create(k->profile, k->remote_key, k->key_len, k->remote_salt, k->salt_len, true,
			    &p->srtp_in);
	if (rc == 0)
		rc = pl_srtp_create(k->profile, k->local_key, k->key_len, k->local_salt, k->salt_len,
				    false, &p->srtp_out);
	if (rc < 0) {
		PL_LOG(PL_LOG_ERROR, "srtp", "[%s] cannot create SRTP sessions: %s", pc_name(p),
		       pl_strerror(rc));
		p->failed = true;
		pl_client_on_media_state(p->c, p->pc, rc);
		return;
	}
	p->profile = k->profile;
	p->connected = true;
	PL_LOG(PL_LOG_DEBUG, "dtls", "[%s] connected, %s", pc_name(p), pl_srtp_profile_name(k->profile));
	pl_client_on_media_state(p->c, p->pc, 0);
}

static void dtls_failed(void *ud, int err)
{
	struct pl_client_peer *p = ud;

	p->failed = true;
	PL_LOG(PL_LOG_WARN, "dtls", "[%s] DTLS failed: %s", pc_name(p), pl_strerror(err));
	pl_client_on_media_state(p->c, p->pc, err);
}

static const struct pl_dtls_callbacks dtls_cb = {
	.send = dtls_send, .connected = dtls_connected, .failed = dtls_failed,
};

static void on_rtp(struct pl_client_peer *p, uint8_t *buf, size_t len)
{
	int rc;

	if (p->pc != PL_CLIENT_PC_SUB)
		return; /* the server sends no media on pub */
	if (pl_client_drop(p->c, p->c->drop_in)) {
		p->c->dropped_in++;
		return;
	}
	rc = pl_srtp_unprotect(p->srtp_in, buf, &len);
	if (rc < 0) {
		if (rc != PL_EEXIST)
			p->c->sub.srtp_errors++;
		return;
	}
	pl_client_sub_on_rtp(p->c, buf, len);
}

static void on_rtcp(struct pl_client_peer *p, uint8_t *buf, size_t len)
{
	if (pl_srtp_unprotect_rtcp(p->srtp_in, buf, &len) < 0) {
		p->c->sub.srtp_errors++;
		return;
	}
	if (p->pc == PL_CLIENT_PC_PUB)
		pl_client_pub_on_rtcp(p->c, buf, len);
	else
		pl_client_sub_on_rtcp(p->c, buf, len);
}

/* A datagram from the network, past the impairment stage (at once, or
 * later from its timer). */
void pl_client_peer_recv(struct pl_client_peer *p, uint8_t *buf, size_t len)
{
	switch (pl_rtp_demux_classify(buf, len)) {
	case PL_RTP_DEMUX_DTLS:
		if (p->dtls && !p->failed) {
			pl_dtls_handle(p->dtls, buf, len);
			arm_dtls_timer(p);
		}
		break;
	case PL_RTP_DEMUX_RTP:
		if (p->connected)
			on_rtp(p, buf, len);
		break;
	case PL_RTP_DEMUX_RTCP:
		if (p->connected)
			on_rtcp(p, buf, len);
		break;
	default:
		break;
	}
}

static void ice_recv(void *ud, uint8_t *buf, size_t len)
{
	struct pl_client_peer *p = ud;
	bool dtls = pl_rtp_demux_classify(buf, len) == PL_RTP_DEMUX_DTLS;

	if (!pl_client_impair_in(p, buf, len, dtls))
		pl_client_peer_recv(p, buf, len);
}

static void ice_candidate(void *ud, const char *cand)
{
	struct pl_client_peer *p = ud;

	if (!cand) {
		p->gathering_done = true;
		if (p->local_sent)
			pl_client_on_local_candidate(p->c, p->pc, p->bundle_mid, NULL);
		else
			pl_client_on_gathered(p->c, p->pc);
		return;
	}
	if (p->n_cands == PL_CLIENT_MAX_CANDS)
		return;
	p->cands[p->n_cands++] = g_strdup(cand);
	if (p->local_sent)
		pl_client_on_local_candidate(p->c, p->pc, p->bundle_mid, cand);
}

static void start_dtls(struct pl_client_peer *p)
{
	if (p->dtls && !p->dtls_started && pl_ice_transport_state(p->ice) == PL_ICE_CONNECTED) {
		p->dtls_started = true;
		pl_dtls_start(p->dtls);
		arm_dtls_timer(p);
	}
}

static void ice_state(void *ud, enum pl_ice_state st)
{
	struct pl_client_peer *p = ud;

	if (st == PL_ICE_CONNECTED) {
		start_dtls(p);
	} else if (st == PL_ICE_FAILED && !p->failed) {
		p->failed = true;
		PL_LOG(PL_LOG_INFO, "ice", "[%s] ICE failed", pc_name(p));
		pl_client_on_media_state(p->c, p->pc, PL_EEXPIRED);
	}
}

static const struct pl_ice_callbacks ice_cb = {
	.recv = ice_recv, .candidate = ice_candidate, .state = ice_state,
};

struct pl_client_peer *pl_client_peer_create(struct pl_client *c, enum pl_client_pc pc)
{
	struct pl_client_peer *p = g_new0(struct pl_client_peer, 1);

	p->c = c;
	p->pc = pc;
	p->created_us = pl_clock_mono_us();
	/* We offer pub, so we control its ICE; the server controls sub's. */
	if (pl_ice_transport_create(c->loop->ice, pc == PL_CLIENT_PC_PUB, &ice_cb, p, &p->ice) < 0) {
		g_free(p);
		return NULL;
	}
	return p;
}

void pl_client_peer_destroy(struct pl_client_peer *p)
{
	if (!p)
		return;
	pl_client_impair_forget(p);
	pl_dtls_timer_cancel(&p->dtls_timer);
	pl_dtls_destroy(p->dtls);
	pl_srtp_destroy(p->srtp_in);
	pl_srtp_destroy(p->srtp_out);
	pl_ice_transport_destroy(p->ice);
	for (size_t i = 0; i < p->n_cands; i++)
		g_free(p->cands[i]);
	g_free(p->remote_ufrag);
	g_free(p->bundle_mid);
	g_free(p);
}

int pl_client_peer_set_remote(struct pl_client_peer *p, const struct pl_sdp_remote *r)
{
	int rc;

	if (p->remote_ufrag && strcmp(p->remote_ufrag, r->ice_ufrag) == 0)
		return 0; /* a renegotiation on the same transport */
	if (p->remote_ufrag) {
		/* The server restarted ICE: new credentials on both sides, and
		 * the local candidates are announced again by the new gathering. */
		for (size_t i = 0; i < p->n_cands; i++)
			g_free(p->cands[i]);
		p->n_cands = 0;
		p->gathering_done = p->local_sent = false;
		rc = pl_ice_transport_restart(p->ice);
		if (rc == 0)
			rc = pl_ice_transport_gather(p->ice);
		if (rc < 0)
			return rc;
	}
	rc = pl_ice_transport_set_remote(p->ice, r->ice_ufrag, r->ice_pwd);
	if (rc < 0)
		return rc;
	g_free(p->remote_ufrag);
	p->remote_ufrag = g_strdup(r->ice_ufrag);
	for (size_t i = 0; i < r->media->candidate_count; i++) {
		char *cand = pl_sdp_candidate_to_string(&r->media->candidates[i]);
		if (cand)
			pl_ice_transport_add_remote_candidate(p->ice, cand);
		free(cand);
	}
	if (p->dtls)
		return 0; /* an ICE restart keeps the DTLS association */
	rc = pl_dtls_create(p->c->cert, PL_DTLS_CLIENT, r->fingerprint_hash, r->fingerprint, &dtls_cb,
			    p, &p->dtls);
	if (rc < 0)
		return rc;
	start_dtls(p);
	return 0;
}

int pl_client_peer_add_candidate(struct pl_client_peer *p, const char *cand)
{
	if (!cand || !*cand)
		return 0; /* end of candidates: libnice needs no signal */
	return pl_ice_transport_add_remote_candidate(p->ice, cand);
}

void pl_client_peer_fill_candidates(struct pl_client_peer *p, struct pl_sdp_media *m)
{
	for (size_t i = 0; i < p->n_cands; i++) {
		struct pl_sdp_candidate cand;
		const char *s = p->cands[i];

		if (pl_sdp_candidate_parse(s, strlen(s), &cand) == 0) {
			pl_sdp_candidate_add(m, &cand);
			pl_sdp_candidate_release(&cand);
		}
	}
	m->end_of_candidates = p->gathering_done;
	p->local_sent = true;
	g_free(p->bundle_mid);
	p->bundle_mid = g_strdup(m->mid ? m->mid : "0");
}

static int send_protected(struct pl_client_peer *p, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
	int rc;

	if (!p->connected)
		return PL_EBUSY;
	rc = rtcp ? pl_srtp_protect_rtcp(p->srtp_out, buf, &len, cap)
		  : pl_srtp_protect(p->srtp_out, buf, &len, cap);
	if (rc < 0)
		return rc;
	if (pl_client_impair_out(p, buf, len, false))
		return 0; /* queued, or lost as the network would */
	return pl_ice_transport_send(p->ice, buf, len);
}

int pl_client_peer_send_rtp(struct pl_client_peer *p, uint8_t *buf, size_t len, size_t cap)
{
	if (p->connected && pl_client_drop(p->c, p->c->drop_out)) {
		p->c->dropped_out++;
		return 0; /* as if the network lost it */
	}
	return send_protected(p, buf, len, cap, false);
}

int pl_client_peer_send_rtcp(struct pl_client_peer *p, uint8_t *buf, size_t len, size_t cap)
{
	return send_protected(p, buf, len, cap, true);
}
