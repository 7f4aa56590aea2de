/* client/client_sdp.c: the client's side of the two SDP exchanges.
 *
 * pub: we build our offer as a codecs/sdp.h model and write it -- one
 * sendonly m-line per published track (audio mid 0: Opus/48000/2, video
 * mid 1: VP8/90000 with RTX), both in one BUNDLE group with rtcp-mux, our
 * SSRCs announced with a=ssrc (and ssrc-group FID for RTX) so the server
 * knows them before the first packet, setup:actpass.  No header
 * extensions: the server reads none it needs from a client that signals
 * its SSRCs, and each one would cost bytes and parsing per packet.
 *
 * sub: the server's offer is answered with pl_sdp_answer_create() (the
 * filter the server applies to offers works the other way round too: keep
 * Opus and VP8 with their RTX and feedback, mirror mids and directions,
 * reject the rest), then the DTLS role is set to active: the server offers
 * actpass and we stay the DTLS client on both connections.  The helper
 * belongs upstream as an option of pl_sdp_answer_create() (an answerer's
 * preferred setup role).
 *
 * Pure functions over models; they run on the loop thread.
 */
#include "client/client_internal.h"

#include <stdio.h>

#define PROTO "UDP/TLS/RTP/SAVPF"

static void media_common(struct pl_sdp_media *m, const struct pl_client_out *o,
			 const struct pl_client_sdp_local *l)
{
	pl_sdp_str_set(&m->conn.nettype, "IN");
	pl_sdp_str_set(&m->conn.addrtype, "IP4");
	pl_sdp_str_set(&m->conn.address, "0.0.0.0");
	pl_sdp_str_set(&m->mid, o->mid);
	pl_sdp_str_set(&m->tp.ice_ufrag, l->ufrag);
	pl_sdp_str_set(&m->tp.ice_pwd, l->pwd);
	pl_sdp_fingerprint_add(&m->tp, "sha-256", l->fingerprint);
	m->tp.setup = PL_SDP_SETUP_ACTPASS;
	m->dir = PL_SDP_DIR_SENDONLY;
	m->rtcp_mux = m->rtcp_rsize = true;
}

static void media_ssrc(struct pl_sdp_media *m, const char *stream, const char *track,
		       uint32_t ssrc)
{
	char msid[96];

	snprintf(msid, sizeof(msid), "%s %s", stream, track);
	pl_sdp_ssrc_add(m, ssrc, "cname", stream);
	pl_sdp_ssrc_add(m, ssrc, "msid", msid);
}

static void audio_media(struct pl_sdp *sdp, const struct pl_client_out *o,
			const struct pl_client_sdp_local *l, const char *stream)
{
	struct pl_sdp_media *m = pl_sdp_media_add(sdp, "audio", 9, PROTO);
	char pt[8];

	snprintf(pt, sizeof(pt), "%u", o->pt);
	pl_sdp_fmt_add(m, pt);
	media_common(m, o, l);
	pl_sdp_rtpmap_add(m, o->pt, "opus", 48000, 2);
	pl_sdp_fmtp_add(m, o->pt, "minptime=10;useinbandfec=1");
	/* Opus NACK: the server repairs our audio from the buffer it is kept
	 * in (plain retransmission, no RTX for audio). */
	pl_sdp_rtcp_fb_add(m, o->pt, "nack", NULL);
	pl_sdp_msid_add(m, stream, o->track);
	media_ssrc(m, stream, o->track, o->ssrc);
}

static void video_media(struct pl_sdp *sdp, const struct pl_client_out *o,
			const struct pl_client_sdp_local *l, const char *stream)
{
	struct pl_sdp_media *m = pl_sdp_media_add(sdp, "video", 9, PROTO);
	uint32_t fid[2] = { o->ssrc, o->rtx_ssrc };
	char s[16];

	snprintf(s, sizeof(s), "%u", o->pt);
	pl_sdp_fmt_add(m, s);
	snprintf(s, sizeof(s), "%u", o->rtx_pt);
	pl_sdp_fmt_add(m, s);
	media_common(m, o, l);
	pl_sdp_rtpmap_add(m, o->pt, "VP8", 90000, 0);
	pl_sdp_rtcp_fb_add(m, o->pt, "nack", NULL);
	pl_sdp_rtcp_fb_add(m, o->pt, "nack", "pli");
	pl_sdp_rtcp_fb_add(m, o->pt, "ccm", "fir");
	pl_sdp_rtpmap_add(m, o->rtx_pt, "rtx", 90000, 0);
	snprintf(s, sizeof(s), "apt=%u", o->pt);
	pl_sdp_fmtp_add(m, o->rtx_pt, s);
	pl_sdp_msid_add(m, stream, o->track);
	pl_sdp_ssrc_group_add(m, "FID", fid, 2);
	media_ssrc(m, stream, o->track, o->ssrc);
	media_ssrc(m, stream, o->track, o->rtx_ssrc);
}

struct pl_sdp *pl_client_sdp_pub_offer(const struct pl_client_pub *pub,
				       const struct pl_client_sdp_local *l)
{
	struct pl_sdp *sdp = pl_sdp_create();
	const char *mids[2];
	size_t n = 0;
	char stream[32];

	sdp->origin.sess_id = l->sess_id;
	sdp->origin.sess_version = l->sess_version;
	pl_sdp_str_set(&sdp->tp.ice_options, "trickle");
	snprintf(stream, sizeof(stream), "s-%08x", pub->audio.ssrc ^ pub->video.ssrc);
	if (pub->has_audio)
		mids[n++] = pub->audio.mid;
	if (pub->has_video)
		mids[n++] = pub->video.mid;
	pl_sdp_group_add(sdp, "BUNDLE", mids, n);
	pl_sdp_str_set(&sdp->msid_semantic, "WMS");
	if (pub->has_audio)
		audio_media(sdp, &pub->audio, l, stream);
	if (pub->has_video)
		video_media(sdp, &pub->video, l, stream);
	return sdp;
}

int pl_client_sdp_sub_answer(const struct pl_sdp *offer, const struct pl_client_sdp_local *l,
			     struct pl_sdp **out)
{
	struct pl_sdp_answer_params ap = {
		.local = {
			.ice_ufrag = l->ufrag, .ice_pwd = l->pwd, .fingerprint_hash = "sha-256",
			.fingerprint = l->fingerprint, .sess_id = l->sess_id,
			.sess_version = l->sess_version,
		},
		.dir = PL_SDP_DIR_RECVONLY,
	};
	struct pl_sdp_error err = { 0 };
	int rc = pl_sdp_answer_create(offer, &ap, out, &err);

	if (rc < 0)
		return rc;
	/* pl_sdp_answer_create() answers actpass with passive, the server's
	 * choice; a client stays the DTLS client. */
	for (size_t i = 0; i < (*out)->media_count; i++)
		if ((*out)->media[i]->tp.setup != PL_SDP_SETUP_UNSET)
			(*out)->media[i]->tp.setup = PL_SDP_SETUP_ACTIVE;
	return 0;
}

struct pl_sdp_media *pl_client_sdp_bundle_media(struct pl_sdp *sdp)
{
	const struct pl_sdp_group *g = pl_sdp_group_find(sdp, "BUNDLE");

	if (!g || g->mid_count == 0)
		return NULL;
	return pl_sdp_media_by_mid(sdp, g->mids[0]);
}
