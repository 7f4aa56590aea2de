/* codecs/sdp_negotiate.c: the server's answers and offers.
 *
 * Parley forwards exactly two codecs, Opus/48000/2 and VP8/90000 (with RTX
 * for VP8), over one max-bundle, rtcp-mux, DTLS-SRTP transport per peer
 * connection (docs/PROTOCOL.md).  Negotiation is therefore a filter, not a
 * search: for each offered m-line keep the offerer's payload type of the
 * one codec we forward, the feedback and header extensions we support
 * (with the offerer's ids, RFC 8285 section 6), mirror the direction and
 * the simulcast rids, and reject everything else with port 0 so that the
 * client sees its H264/VP9/AV1 or data channel refused rather than
 * silently accepted (RFC 3264 section 6).
 *
 * Offers for the sub connection come from a list of tracks.  Their header
 * extension ids come from one table, so one id means one extension across
 * the whole BUNDLE (aiortc's offers break that rule; ours must not).
 *
 * Input models are only read; outputs are new models the caller destroys.
 * Runs on the signaling thread.
 */
#include "codecs/sdp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codecs/sdp_priv.h"
#include "common/err.h"

#define BUNDLE_PROTO "UDP/TLS/RTP/SAVPF"

/* Feedback the server understands, per kind. */
static const struct fb {
	enum pl_sdp_kind kind;
	const char *type, *param;
} supported_fb[] = {
	{ PL_SDP_KIND_AUDIO, "transport-cc", NULL },
	/* Opus NACK (plain retransmission: no RTX for audio), where the
	 * peer offers or accepts it; Chromium does when offered. */
	{ PL_SDP_KIND_AUDIO, "nack", NULL },
	{ PL_SDP_KIND_VIDEO, "nack", NULL },
	{ PL_SDP_KIND_VIDEO, "nack", "pli" },
	{ PL_SDP_KIND_VIDEO, "ccm", "fir" },
	{ PL_SDP_KIND_VIDEO, "transport-cc", NULL },
};

/* Header extensions, with the ids of server offers: one table for every
 * m-line keeps ids unique across the BUNDLE. */
static const struct ext {
	const char *uri;
	uint16_t offer_id;
	bool audio, video;              /* offered on these kinds */
} supported_ext[] = {
	{ PL_SDP_EXT_MID, 1, true, true },
	{ PL_SDP_EXT_ABS_SEND_TIME, 2, true, true },
	{ PL_SDP_EXT_TWCC, 3, true, true },
	{ PL_SDP_EXT_AUDIO_LEVEL, 4, true, false },
	{ PL_SDP_EXT_RID, 5, false, false },
	{ PL_SDP_EXT_RRID, 6, false, false },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int set_err(struct pl_sdp_error *err, int rc, const char *reason)
{
	if (err)
		err->line = 0, err->reason = reason;
	return rc;
}

/* ---- Directions --------------------------------------------------------- */

enum { SEND = 1, RECV = 2 };

static unsigned dir_bits(enum pl_sdp_dir d)
{
	switch (d) {
	case PL_SDP_DIR_SENDONLY:
		return SEND;
	case PL_SDP_DIR_RECVONLY:
		return RECV;
	case PL_SDP_DIR_INACTIVE:
		return 0;
	case PL_SDP_DIR_SENDRECV:
	case PL_SDP_DIR_UNSET:
		break;
	}
	return SEND | RECV;
}

static enum pl_sdp_dir dir_of_bits(unsigned b)
{
	static const enum pl_sdp_dir dirs[] = { PL_SDP_DIR_INACTIVE, PL_SDP_DIR_SENDONLY,
						PL_SDP_DIR_RECVONLY, PL_SDP_DIR_SENDRECV };
	return dirs[b & 3];
}

static unsigned mirror(unsigned b)
{
	return ((b & SEND) ? RECV : 0) | ((b & RECV) ? SEND : 0);
}

/* ---- Transport ---------------------------------------------------------- */

static const struct pl_sdp_fingerprint *pick_fingerprint(const struct pl_sdp_transport *tp)
{
	for (size_t i = 0; i < tp->fingerprint_count; i++)
		if (strcasecmp(tp->fingerprints[i].hash, "sha-256") == 0)
			return &tp->fingerprints[i];
	return tp->fingerprint_count ? &tp->fingerprints[0] : NULL;
}

int pl_sdp_bundle_transport(const struct pl_sdp *sdp, const char *mid, struct pl_sdp_remote *out)
{
	const struct pl_sdp_group *g = pl_sdp_group_find(sdp, "BUNDLE");
	const struct pl_sdp_media *m;
	const struct pl_sdp_fingerprint *fp;

	memset(out, 0, sizeof(*out));
	if (!mid && (!g || g->mid_count == 0))
		return PL_ENOENT;
	m = pl_sdp_media_by_mid(sdp, mid ? mid : g->mids[0]);
	if (!m)
		return PL_ENOENT;
	out->media = m;
	out->ice_ufrag = m->tp.ice_ufrag ? m->tp.ice_ufrag : sdp->tp.ice_ufrag;
	out->ice_pwd = m->tp.ice_pwd ? m->tp.ice_pwd : sdp->tp.ice_pwd;
	fp = pick_fingerprint(m->tp.fingerprint_count ? &m->tp : &sdp->tp);
	out->setup = m->tp.setup != PL_SDP_SETUP_UNSET ? m->tp.setup : sdp->tp.setup;
	if (!out->ice_ufrag || !out->ice_pwd || !fp)
		return PL_EPROTO;
	out->fingerprint_hash = fp->hash;
	out->fingerprint = fp->value;
	return 0;
}

/* ---- Answer ------------------------------------------------------------- */

static bool has_attr(const struct pl_sdp_media *m, const char *name)
{
	for (size_t i = 0; i < m->attr_count; i++)
		if (strcmp(m->attrs[i].name, name) == 0)
			return true;
	return false;
}

static bool in_group(const struct pl_sdp_group *g, const char *mid)
{
	for (size_t i = 0; g && mid && i < g->mid_count; i++)
		if (strcmp(g->mids[i], mid) == 0)
			return true;
	return false;
}

/* The first format (offerer's preference order) with this encoding. */
static int find_codec(const struct pl_sdp_media *m, const char *name, uint32_t clock_hz,
		      uint16_t channels)
{
	for (size_t i = 0; i < m->fmt_count; i++) {
		uint64_t pt;
		const struct pl_sdp_rtpmap *r;

		if (!pl_sdp_parse_u64(m->fmts[i], 127, &pt) || !(r = pl_sdp_media_rtpmap(m, (uint8_t)pt)))
			continue;
		if (strcasecmp(r->name, name) == 0 && r->clock_hz == clock_hz &&
		    r->channels == channels)
			return (int)pt;
	}
	return -1;
}

/* The RTX payload type whose apt names pt, or -1. */
static int find_rtx(const struct pl_sdp_media *m, int pt)
{
	for (size_t i = 0; i < m->rtpmap_count; i++) {
		const struct pl_sdp_rtpmap *r = &m->rtpmaps[i];
		const struct pl_sdp_fmtp *f = pl_sdp_media_fmtp(m, r->pt);
		const char *apt;
		size_t n;
		char want[8];

		if (strcasecmp(r->name, "rtx") != 0 || r->clock_hz != 90000 || !f ||
		    !pl_sdp_fmtp_param(f->params, "apt", &apt, &n))
			continue;
		snprintf(want, sizeof(want), "%d", pt);
		if (n == strlen(want) && strncmp(apt, want, n) == 0)
			return r->pt;
	}
	return -1;
}

static bool offers_fb(const struct pl_sdp_media *m, int pt, const struct fb *fb)
{
	for (size_t i = 0; i < m->rtcp_fb_count; i++) {
		const struct pl_sdp_rtcp_fb *o = &m->rtcp_fbs[i];

		if ((o->pt == pt || o->pt == -1) && strcmp(o->type, fb->type) == 0 &&
		    (fb->param ? o->param && strcmp(o->param, fb->param) == 0 : !o->param))
			return true;
	}
	return false;
}

/* The payload type of the codec we forward for this m-line, or -1. */
static int pick_codec(const struct pl_sdp_media *om)
{
	if (om->kind == PL_SDP_KIND_AUDIO)
		return find_codec(om, "opus", 48000, 2);
	if (om->kind == PL_SDP_KIND_VIDEO)
		return find_codec(om, "VP8", 90000, 0);
	return -1;
}

static bool is_acceptable(const struct pl_sdp_media *om, const struct pl_sdp_group *bundle)
{
	return (om->kind == PL_SDP_KIND_AUDIO || om->kind == PL_SDP_KIND_VIDEO) &&
	       strcmp(om->proto, BUNDLE_PROTO) == 0 &&
	       (om->port != 0 || has_attr(om, "bundle-only")) &&
	       in_group(bundle, om->mid) && om->rtcp_mux && pick_codec(om) >= 0;
}

static void answer_codecs(struct pl_sdp_media *am, const struct pl_sdp_media *om)
{
	int pt = pick_codec(om), rtx = om->kind == PL_SDP_KIND_VIDEO ? find_rtx(om, pt) : -1;
	char s[16];

	snprintf(s, sizeof(s), "%d", pt);
	pl_sdp_fmt_add(am, s);
	if (om->kind == PL_SDP_KIND_AUDIO)
		pl_sdp_rtpmap_add(am, (uint8_t)pt, "opus", 48000, 2);
	else
		pl_sdp_rtpmap_add(am, (uint8_t)pt, "VP8", 90000, 0);
	for (size_t i = 0; i < COUNT(supported_fb); i++)
		if (supported_fb[i].kind == om->kind && offers_fb(om, pt, &supported_fb[i]))
			pl_sdp_rtcp_fb_add(am, pt, supported_fb[i].type, supported_fb[i].param);
	if (om->kind == PL_SDP_KIND_AUDIO)
		pl_sdp_fmtp_add(am, (uint8_t)pt, "minptime=10;useinbandfec=1");
	if (rtx >= 0) {
		snprintf(s, sizeof(s), "%d", rtx);
		pl_sdp_fmt_add(am, s);
		pl_sdp_rtpmap_add(am, (uint8_t)rtx, "rtx", 90000, 0);
		snprintf(s, sizeof(s), "apt=%d", pt);
		pl_sdp_fmtp_add(am, (uint8_t)rtx, s);
	}
}

/* The URI each header extension id has in the answer's bundle so far. */
struct ext_ids {
	const char *uri[256];
};

/* Keeps the supported extensions with the offerer's ids.  One id must mean
 * one extension across a BUNDLE (RFC 8843 section 9.2): the server reads
 * extensions before it knows the m-line.  aiortc 1.4 offers id 2 for
 * audio-level in audio and for abs-send-time in video, so an id already
 * taken by another URI in an earlier m-line of the answer is left out. */
static void answer_extmaps(struct pl_sdp_media *am, const struct pl_sdp_media *om,
			   struct ext_ids *ids)
{
	for (size_t i = 0; i < om->extmap_count; i++) {
		const struct pl_sdp_extmap *e = &om->extmaps[i];
		enum pl_sdp_dir dir = e->dir;

		for (size_t k = 0; k < COUNT(supported_ext); k++) {
			if (strcmp(e->uri, supported_ext[k].uri) != 0)
				continue;
			if (ids->uri[e->id] && strcmp(ids->uri[e->id], e->uri) != 0)
				break;
			ids->uri[e->id] = supported_ext[k].uri;
			if (dir != PL_SDP_DIR_UNSET)
				dir = dir_of_bits(mirror(dir_bits(dir)));
			pl_sdp_extmap_add(&am->extmaps, &am->extmap_count, e->id, dir, e->uri, NULL);
		}
	}
}

/* The offerer's send rids become our recv rids, with the same simulcast
 * layout; params (pt restrictions, resolutions) are the sender's business. */
static void answer_simulcast(struct pl_sdp_media *am, const struct pl_sdp_media *om)
{
	if (!om->has_simulcast || !(dir_bits(am->dir) & RECV))
		return;
	for (size_t i = 0; i < om->simulcast.send_count; i++) {
		const struct pl_sdp_simulcast_rid *r = &om->simulcast.send[i];

		pl_sdp_rid_add(am, r->rid, PL_SDP_RID_RECV, NULL);
		pl_sdp_simulcast_add(am, false, r->rid, r->paused, r->stream);
	}
}

static void reject_media(struct pl_sdp_media *am, const struct pl_sdp_media *om)
{
	am->port = 0;
	pl_sdp_fmt_add(am, om->fmts[0]);
	pl_sdp_str_set(&am->mid, om->mid);
}

static void set_local_transport(struct pl_sdp_transport *tp, const struct pl_sdp_local *l,
				enum pl_sdp_setup setup)
{
	pl_sdp_str_set(&tp->ice_ufrag, l->ice_ufrag);
	pl_sdp_str_set(&tp->ice_pwd, l->ice_pwd);
	pl_sdp_fingerprint_add(tp, l->fingerprint_hash, l->fingerprint);
	tp->setup = setup;
}

static void accept_media(struct pl_sdp_media *am, const struct pl_sdp_media *om,
			 const struct pl_sdp *offer, const struct pl_sdp_answer_params *p,
			 enum pl_sdp_setup setup, struct ext_ids *ids)
{
	enum pl_sdp_dir odir = om->dir != PL_SDP_DIR_UNSET ? om->dir : offer->dir;
	unsigned local = dir_bits(p->dir);

	set_local_transport(&am->tp, &p->local, setup);
	pl_sdp_str_set(&am->mid, om->mid);
	answer_extmaps(am, om, ids);
	am->dir = dir_of_bits(mirror(dir_bits(odir)) & local);
	am->rtcp_mux = true;
	am->rtcp_rsize = om->rtcp_rsize;
	answer_codecs(am, om);
	answer_simulcast(am, om);
}

static bool local_is_valid(const struct pl_sdp_local *l)
{
	return l->ice_ufrag && l->ice_pwd && l->fingerprint_hash && l->fingerprint;
}

static struct pl_sdp *session_new(const struct pl_sdp_local *l)
{
	struct pl_sdp *sdp = pl_sdp_create();

	sdp->origin.sess_id = l->sess_id;
	sdp->origin.sess_version = l->sess_version;
	pl_sdp_str_set(&sdp->tp.ice_options, "trickle");
	return sdp;
}

/* The DTLS role answering the offer's a=setup (RFC 8842 section 5.3). */
static int answer_setup(const struct pl_sdp_remote *r, enum pl_sdp_setup *out)
{
	switch (r->setup) {
	case PL_SDP_SETUP_PASSIVE:
		*out = PL_SDP_SETUP_ACTIVE;
		return 0;
	case PL_SDP_SETUP_HOLDCONN:
		return PL_EUNSUP;
	case PL_SDP_SETUP_ACTPASS:
	case PL_SDP_SETUP_ACTIVE:
	case PL_SDP_SETUP_UNSET:
		break;
	}
	*out = PL_SDP_SETUP_PASSIVE;
	return 0;
}

int pl_sdp_answer_create(const struct pl_sdp *offer, const struct pl_sdp_answer_params *p,
			 struct pl_sdp **answer, struct pl_sdp_error *err)
{
	const struct pl_sdp_group *bundle;
	const char *mids[PL_SDP_MAX_MEDIA];
	size_t n = 0;
	struct pl_sdp_remote remote;
	enum pl_sdp_setup setup = PL_SDP_SETUP_PASSIVE;
	struct ext_ids ids = { { NULL } };
	struct pl_sdp *a;
	int rc;

	*answer = NULL;
	if (!offer || !p || !local_is_valid(&p->local))
		return set_err(err, PL_EINVAL, "missing offer or local credentials");
	bundle = pl_sdp_group_find(offer, "BUNDLE");
	if (offer->media_count && !bundle)
		return set_err(err, PL_EUNSUP, "offer has no BUNDLE group");
	/* Accepted mids in BUNDLE group order: the first is the tag whose
	 * transport carries the whole bundle. */
	for (size_t i = 0; bundle && i < bundle->mid_count; i++) {
		const struct pl_sdp_media *om = pl_sdp_media_by_mid(offer, bundle->mids[i]);

		if (om && is_acceptable(om, bundle))
			mids[n++] = om->mid;
	}
	if (n) {
		rc = pl_sdp_bundle_transport(offer, mids[0], &remote);
		if (rc)
			return set_err(err, PL_EPROTO, "offer lacks ICE credentials or fingerprint");
		if (answer_setup(&remote, &setup))
			return set_err(err, PL_EUNSUP, "offer has setup:holdconn");
	}
	a = session_new(&p->local);
	a->extmap_allow_mixed = offer->extmap_allow_mixed;
	if (n)
		pl_sdp_group_add(a, "BUNDLE", mids, n);
	for (size_t i = 0; i < offer->media_count; i++) {
		const struct pl_sdp_media *om = offer->media[i];
		struct pl_sdp_media *am = pl_sdp_media_add(a, om->media, 9, om->proto);

		pl_sdp_str_set(&am->conn.nettype, "IN");
		pl_sdp_str_set(&am->conn.addrtype, "IP4");
		pl_sdp_str_set(&am->conn.address, "0.0.0.0");
		if (is_acceptable(om, bundle))
			accept_media(am, om, offer, p, setup, &ids);
		else
			reject_media(am, om);
	}
	*answer = a;
	return 0;
}

/* ---- Offer -------------------------------------------------------------- */

static bool track_is_valid(const struct pl_sdp_track *t)
{
	return (t->kind == PL_SDP_KIND_AUDIO || t->kind == PL_SDP_KIND_VIDEO) &&
	       pl_sdp_is_token(t->mid) && strlen(t->mid) <= 64 && pl_sdp_is_token(t->stream_id) &&
	       strlen(t->stream_id) <= 64 && pl_sdp_is_token(t->track_id) &&
	       strlen(t->track_id) <= 64 && (!t->cname || pl_sdp_is_token(t->cname));
}

static void offer_ssrc(struct pl_sdp_media *m, const struct pl_sdp_track *t, uint32_t ssrc)
{
	char msid[2 * 64 + 2];

	snprintf(msid, sizeof(msid), "%s %s", t->stream_id, t->track_id);
	pl_sdp_ssrc_add(m, ssrc, "cname", t->cname ? t->cname : t->stream_id);
	pl_sdp_ssrc_add(m, ssrc, "msid", msid);
}

static void offer_codecs(struct pl_sdp_media *m, const struct pl_sdp_track *t,
			 const struct pl_sdp_offer_params *p)
{
	uint8_t opus = p->opus_pt ? p->opus_pt : PL_SDP_PT_OPUS;
	uint8_t vp8 = p->vp8_pt ? p->vp8_pt : PL_SDP_PT_VP8;
	uint8_t rtx = p->rtx_pt ? p->rtx_pt : PL_SDP_PT_RTX;
	uint8_t pt = t->kind == PL_SDP_KIND_AUDIO ? opus : vp8;
	char s[16];

	snprintf(s, sizeof(s), "%u", pt);
	pl_sdp_fmt_add(m, s);
	if (t->kind == PL_SDP_KIND_AUDIO) {
		pl_sdp_rtpmap_add(m, pt, "opus", 48000, 2);
		pl_sdp_fmtp_add(m, pt, "minptime=10;useinbandfec=1");
	} else {
		pl_sdp_rtpmap_add(m, pt, "VP8", 90000, 0);
	}
	for (size_t i = 0; i < COUNT(supported_fb); i++)
		if (supported_fb[i].kind == t->kind)
			pl_sdp_rtcp_fb_add(m, pt, supported_fb[i].type, supported_fb[i].param);
	if (t->kind == PL_SDP_KIND_VIDEO) {
		snprintf(s, sizeof(s), "%u", rtx);
		pl_sdp_fmt_add(m, s);
		pl_sdp_rtpmap_add(m, rtx, "rtx", 90000, 0);
		snprintf(s, sizeof(s), "apt=%u", vp8);
		pl_sdp_fmtp_add(m, rtx, s);
	}
}

/* tag: the first m-line, which carries the bundle's transport.  It stays
 * in the bundle even when its track ended (inactive, no msid): rejecting
 * the BUNDLE-tagged m-line makes Chromium tear the whole transport down.
 * Other ended m-lines get port 0 but keep the transport attributes, since
 * aiortc refuses any m-line without ICE credentials. */
static void offer_media(struct pl_sdp_media *m, const struct pl_sdp_track *t,
			const struct pl_sdp_offer_params *p, bool tag)
{
	bool audio = t->kind == PL_SDP_KIND_AUDIO;

	pl_sdp_str_set(&m->conn.nettype, "IN");
	pl_sdp_str_set(&m->conn.addrtype, "IP4");
	pl_sdp_str_set(&m->conn.address, "0.0.0.0");
	pl_sdp_str_set(&m->mid, t->mid);
	m->rtcp_mux = m->rtcp_rsize = true;
	offer_codecs(m, t, p);
	set_local_transport(&m->tp, &p->local, PL_SDP_SETUP_ACTPASS);
	if (!t->active && !tag) {
		m->port = 0;
		m->dir = PL_SDP_DIR_INACTIVE;
		return;
	}
	for (size_t k = 0; k < COUNT(supported_ext); k++)
		if (audio ? supported_ext[k].audio : supported_ext[k].video)
			pl_sdp_extmap_add(&m->extmaps, &m->extmap_count, supported_ext[k].offer_id,
					  PL_SDP_DIR_UNSET, supported_ext[k].uri, NULL);
	if (!t->active) {
		m->dir = PL_SDP_DIR_INACTIVE;
		return;
	}
	m->dir = PL_SDP_DIR_SENDONLY;
	pl_sdp_msid_add(m, t->stream_id, t->track_id);
	if (!audio && t->rtx_ssrc) {
		uint32_t fid[2] = { t->ssrc, t->rtx_ssrc };

		pl_sdp_ssrc_group_add(m, "FID", fid, 2);
	}
	offer_ssrc(m, t, t->ssrc);
	if (!audio && t->rtx_ssrc)
		offer_ssrc(m, t, t->rtx_ssrc);
}

int pl_sdp_offer_create(const struct pl_sdp_track *tracks, size_t n,
			const struct pl_sdp_offer_params *p, struct pl_sdp **offer)
{
	const char *mids[PL_SDP_MAX_MEDIA];
	size_t active = 0;
	struct pl_sdp *o;

	*offer = NULL;
	if (!p || !local_is_valid(&p->local) || (n && !tracks))
		return PL_EINVAL;
	if (n > PL_SDP_MAX_MEDIA)
		return PL_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (!track_is_valid(&tracks[i]))
			return PL_EINVAL;
		for (size_t k = 0; k < i; k++)
			if (strcmp(tracks[k].mid, tracks[i].mid) == 0)
				return PL_EINVAL;
		if (tracks[i].active || i == 0)
			mids[active++] = tracks[i].mid;
	}
	o = session_new(&p->local);
	if (active)
		pl_sdp_group_add(o, "BUNDLE", mids, active);
	pl_sdp_str_set(&o->msid_semantic, "WMS");
	*(char **)PL_SDP_PUSH(o->msid_ids, o->msid_id_count, PL_SDP_MAX_IDS) = pl_sdp_strdup("*");
	for (size_t i = 0; i < n; i++) {
		const struct pl_sdp_track *t = &tracks[i];

		offer_media(pl_sdp_media_add(o, t->kind == PL_SDP_KIND_AUDIO ? "audio" : "video", 9,
					     BUNDLE_PROTO), t, p, i == 0);
	}
	*offer = o;
	return 0;
}
