/* codecs/sdp_attr.c: the a= lines of an SDP description, and candidates.
 *
 * One table maps each attribute the model knows to its handler, the levels
 * where it may appear (session, media or both) and whether it takes a
 * value.  A handler validates the value completely before it touches the
 * model, so a failure leaves nothing half-added that matters (the model is
 * destroyed on any parse error anyway).  Attributes allowed at both levels
 * (ICE, DTLS, direction, extmap) write through a struct level that points
 * at the session's or the current m= section's fields.
 *
 * Attributes outside the table are kept verbatim, as are rtpmap, fmtp and
 * rtcp-fb of non-RTP m= sections, whose formats are not payload types.
 * Called from sdp_parse.c on the signaling thread.
 */
#include "codecs/sdp.h"

#include <stdlib.h>
#include <string.h>

#include "codecs/sdp_priv.h"
#include "common/err.h"

/* ---- Candidates ----------------------------------------------------------- */

static int cand_ext(struct pl_sdp_candidate *c, const char *name, const char *value)
{
	struct pl_sdp_cand_ext *x;

	if (strcmp(name, "raddr") == 0) {
		if (c->raddr || !pl_sdp_is_address(value))
			return PL_EPROTO;
		c->raddr = pl_sdp_strdup(value);
		return 0;
	}
	if (strcmp(name, "rport") == 0) {
		uint64_t v;

		if (c->has_rport || !pl_sdp_parse_u64(value, 65535, &v))
			return PL_EPROTO;
		c->has_rport = true, c->rport = (uint16_t)v;
		return 0;
	}
	if (!pl_sdp_is_token(name) || !*value)
		return PL_EPROTO;
	x = PL_SDP_PUSH(c->exts, c->ext_count, PL_SDP_MAX_CAND_EXTS);
	if (!x)
		return PL_ETOOBIG;
	x->name = pl_sdp_strdup(name);
	x->value = pl_sdp_strdup(value);
	return 0;
}

/* candidate-attribute of RFC 8839 section 5.1, in place. */
int pl_sdp_candidate_parse_in_place(char *s, struct pl_sdp_candidate *c)
{
	char *f[8], *name, *value;
	uint64_t v;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 8; i++)
		if (!(f[i] = pl_sdp_next_field(&s)))
			return PL_EPROTO;
	if (!pl_sdp_is_ice_chars(f[0], 1, 32) || !pl_sdp_is_token(f[2]) || !pl_sdp_is_address(f[4]) ||
	    strcmp(f[6], "typ") != 0 || !pl_sdp_is_token(f[7]))
		return PL_EPROTO;
	c->foundation = pl_sdp_strdup(f[0]);
	c->transport = pl_sdp_strdup(f[2]);
	c->address = pl_sdp_strdup(f[4]);
	c->type = pl_sdp_strdup(f[7]);
	if (!pl_sdp_parse_u64(f[1], 256, &v) || v == 0)
		goto bad;
	c->component = (uint16_t)v;
	if (!pl_sdp_parse_u64(f[3], UINT32_MAX, &v))
		goto bad;
	c->priority = (uint32_t)v;
	if (!pl_sdp_parse_u64(f[5], 65535, &v))
		goto bad;
	c->port = (uint16_t)v;
	while ((name = pl_sdp_next_field(&s))) {
		if (!(value = pl_sdp_next_field(&s)))
			goto bad;
		if ((rc = cand_ext(c, name, value)))
			goto out;
	}
	return 0;
bad:
	rc = PL_EPROTO;
out:
	pl_sdp_candidate_release(c);
	return rc;
}

int pl_sdp_candidate_parse(const char *text, size_t len, struct pl_sdp_candidate *c)
{
	char buf[PL_SDP_MAX_LINE_BYTES + 1], *s = buf;

	memset(c, 0, sizeof(*c));
	if (!text)
		return PL_EINVAL;
	if (len > PL_SDP_MAX_LINE_BYTES)
		return PL_ETOOBIG;
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return PL_EPROTO;               /* NUL, CR, LF... */
	if (strncmp(s, "a=", 2) == 0)
		s += 2;
	if (strncmp(s, "candidate:", 10) == 0)
		s += 10;
	return pl_sdp_candidate_parse_in_place(s, c);
}


/* ---- Attribute handlers ---------------------------------------------------- */

/* The fields an attribute allowed at both levels writes to. */
struct level {
	struct pl_sdp_transport *tp;
	enum pl_sdp_dir *dir;
	struct pl_sdp_extmap **extmaps;
	size_t *extmap_count;
	bool *allow_mixed;
	struct pl_sdp_attr **attrs;
	size_t *attr_count;
};

static int keep_unknown(struct pl_sdp_parser *p, const struct level *l, const char *name,
			char *v)
{
	if (pl_sdp_attr_add(l->attrs, l->attr_count, name, v))
		return PL_SDP_BIG(p, "too many attributes");
	return 0;
}

static int set_flag(struct pl_sdp_parser *p, bool *flag)
{
	if (*flag)
		return PL_SDP_BAD(p, "duplicate attribute");
	*flag = true;
	return 0;
}

static int set_str(struct pl_sdp_parser *p, char **field, const char *v)
{
	if (*field)
		return PL_SDP_BAD(p, "duplicate attribute");
	*field = pl_sdp_strdup(v);
	return 0;
}

/* Tokens separated by single spaces, nothing else. */
static bool is_token_list(const char *s)
{
	bool prev_space = true;

	for (; *s; s++) {
		if (*s == ' ') {
			if (prev_space)
				return false;
			prev_space = true;
		} else if (pl_sdp_is_token_char((unsigned char)*s)) {
			prev_space = false;
		} else {
			return false;
		}
	}
	return !prev_space;
}

static bool is_short_token(const char *s, size_t max)
{
	return pl_sdp_is_token(s) && strlen(s) <= max;
}

/* rid-id = 1*(alpha-numeric / "-" / "_") (RFC 8851), at most 32 here. */
static bool is_rid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
			return false;
	return n >= 1 && n <= 32;
}

static enum pl_sdp_dir dir_parse(const char *s)
{
	for (int d = PL_SDP_DIR_SENDRECV; d <= PL_SDP_DIR_INACTIVE; d++)
		if (strcmp(s, pl_sdp_dir_name((enum pl_sdp_dir)d)) == 0)
			return (enum pl_sdp_dir)d;
	return PL_SDP_DIR_UNSET;
}

static int a_group(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *sem = pl_sdp_next_field(&v), *mids[PL_SDP_MAX_GROUP_MIDS], *mid;
	size_t n = 0;

	if (!pl_sdp_is_token(sem))
		return PL_SDP_BAD(p, "bad group");
	while ((mid = pl_sdp_next_field(&v))) {
		if (!pl_sdp_is_token(mid))
			return PL_SDP_BAD(p, "bad group");
		for (size_t i = 0; i < n; i++)
			if (strcmp(mids[i], mid) == 0)
				return PL_SDP_BAD(p, "duplicate mid in group");
		if (n == PL_SDP_MAX_GROUP_MIDS)
			return PL_SDP_BIG(p, "too many mids in group");
		mids[n++] = mid;
	}
	if (pl_sdp_group_add(p->sdp, sem, (const char *const *)mids, n))
		return PL_SDP_BIG(p, "too many groups");
	p->group_line[p->sdp->group_count - 1] = p->line;
	return 0;
}

static int a_msid_semantic(struct pl_sdp_parser *p, const struct level *l, const char *name,
			   char *v)
{
	char *sem, *id;

	while (*v == ' ')                       /* Chrome writes "msid-semantic: WMS" */
		v++;
	sem = pl_sdp_next_field(&v);
	if (p->sdp->msid_semantic)
		return PL_SDP_BAD(p, "duplicate attribute");
	if (!pl_sdp_is_token(sem))
		return PL_SDP_BAD(p, "bad msid-semantic");
	p->sdp->msid_semantic = pl_sdp_strdup(sem);
	while ((id = pl_sdp_next_field(&v))) {
		char **slot;

		if (!is_short_token(id, 64))
			return PL_SDP_BAD(p, "bad msid-semantic");
		slot = PL_SDP_PUSH(p->sdp->msid_ids, p->sdp->msid_id_count, PL_SDP_MAX_IDS);
		if (!slot)
			return PL_SDP_BIG(p, "too many msid-semantic ids");
		*slot = pl_sdp_strdup(id);
	}
	return 0;
}

static int a_ice_lite(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	return set_flag(p, &p->sdp->ice_lite);
}

static int a_ice_ufrag(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	if (!pl_sdp_is_ice_chars(v, 4, 256))
		return PL_SDP_BAD(p, "bad ice-ufrag");
	return set_str(p, &l->tp->ice_ufrag, v);
}

static int a_ice_pwd(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	if (!pl_sdp_is_ice_chars(v, 22, 256))
		return PL_SDP_BAD(p, "bad ice-pwd");
	return set_str(p, &l->tp->ice_pwd, v);
}

static int a_ice_options(struct pl_sdp_parser *p, const struct level *l, const char *name,
			 char *v)
{
	if (!is_token_list(v))
		return PL_SDP_BAD(p, "bad ice-options");
	return set_str(p, &l->tp->ice_options, v);
}

/* hash-func SP 2UHEX *(":" 2UHEX) (RFC 8122), either case accepted. */
static int a_fingerprint(struct pl_sdp_parser *p, const struct level *l, const char *name,
			 char *v)
{
	char *hash = pl_sdp_next_field(&v), *fp = pl_sdp_next_field(&v);
	size_t n = fp ? strlen(fp) : 0;

	if (v || !pl_sdp_is_token(hash) || n < 2 || n > 3 * 64 - 1 || (n + 1) % 3)
		return PL_SDP_BAD(p, "bad fingerprint");
	for (size_t i = 0; i < n; i++) {
		bool hex = (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F') ||
			   (fp[i] >= 'a' && fp[i] <= 'f');

		if (i % 3 == 2 ? fp[i] != ':' : !hex)
			return PL_SDP_BAD(p, "bad fingerprint");
	}
	if (pl_sdp_fingerprint_add(l->tp, hash, fp))
		return PL_SDP_BIG(p, "too many fingerprints");
	return 0;
}

static int a_setup(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	enum pl_sdp_setup s = PL_SDP_SETUP_UNSET;

	for (int i = PL_SDP_SETUP_ACTPASS; i <= PL_SDP_SETUP_HOLDCONN; i++)
		if (strcmp(v, pl_sdp_setup_name((enum pl_sdp_setup)i)) == 0)
			s = (enum pl_sdp_setup)i;
	if (s == PL_SDP_SETUP_UNSET)
		return PL_SDP_BAD(p, "bad setup");
	if (l->tp->setup != PL_SDP_SETUP_UNSET)
		return PL_SDP_BAD(p, "duplicate attribute");
	l->tp->setup = s;
	return 0;
}

static int a_dir(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	if (*l->dir != PL_SDP_DIR_UNSET)
		return PL_SDP_BAD(p, "duplicate direction");
	*l->dir = dir_parse(name);
	return 0;
}

static int a_extmap(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *idf = pl_sdp_next_field(&v), *uri = pl_sdp_next_field(&v), *slash;
	enum pl_sdp_dir dir = PL_SDP_DIR_UNSET;
	uint64_t id;

	if ((slash = strchr(idf, '/'))) {
		*slash = '\0';
		if ((dir = dir_parse(slash + 1)) == PL_SDP_DIR_UNSET)
			return PL_SDP_BAD(p, "bad extmap direction");
	}
	if (!pl_sdp_parse_u64(idf, 255, &id) || id == 0)
		return PL_SDP_BAD(p, "bad extmap id");
	if (!uri || !*uri || (v && !*v))
		return PL_SDP_BAD(p, "bad extmap");
	for (size_t i = 0; i < *l->extmap_count; i++)
		if ((*l->extmaps)[i].id == id)
			return PL_SDP_BAD(p, "duplicate extmap id");
	if (pl_sdp_extmap_add(l->extmaps, l->extmap_count, (uint16_t)id, dir, uri, v))
		return PL_SDP_BIG(p, "too many extmaps");
	return 0;
}

static int a_allow_mixed(struct pl_sdp_parser *p, const struct level *l, const char *name,
			 char *v)
{
	return set_flag(p, l->allow_mixed);
}

static int a_end_of_candidates(struct pl_sdp_parser *p, const struct level *l,
			       const char *name, char *v)
{
	if (!p->m)                              /* RFC 8840 allows it here too */
		return keep_unknown(p, l, name, v);
	return set_flag(p, &p->m->end_of_candidates);
}

static int a_mid(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	if (!is_short_token(v, 64))
		return PL_SDP_BAD(p, "bad mid");
	if (pl_sdp_media_by_mid(p->sdp, v))
		return PL_SDP_BAD(p, "duplicate mid");
	return set_str(p, &p->m->mid, v);
}

static int a_rtcp_mux(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	return set_flag(p, &p->m->rtcp_mux);
}

static int a_rtcp_rsize(struct pl_sdp_parser *p, const struct level *l, const char *name,
			char *v)
{
	return set_flag(p, &p->m->rtcp_rsize);
}

static int a_candidate(struct pl_sdp_parser *p, const struct level *l, const char *name,
		       char *v)
{
	struct pl_sdp_candidate c;
	int rc = pl_sdp_candidate_parse_in_place(v, &c);

	if (rc)
		return rc == PL_ETOOBIG ? PL_SDP_BIG(p, "too many candidate extensions")
					: PL_SDP_BAD(p, "bad candidate");
	rc = pl_sdp_candidate_add(p->m, &c);
	pl_sdp_candidate_release(&c);
	return rc ? PL_SDP_BIG(p, "too many candidates") : 0;
}

static int a_rtpmap(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *ptf, *enc, *clock, *ch = NULL;
	uint64_t hz, channels = 0;
	int pt;

	if (!pl_sdp_is_rtp_proto(p->m->proto))
		return keep_unknown(p, l, name, v);
	ptf = pl_sdp_next_field(&v);
	enc = pl_sdp_next_field(&v);
	if (!enc || v || !(clock = strchr(enc, '/')))
		return PL_SDP_BAD(p, "bad rtpmap");
	*clock++ = '\0';
	if ((ch = strchr(clock, '/')))
		*ch++ = '\0';
	if (!pl_sdp_is_token(enc) || !pl_sdp_parse_u64(clock, UINT32_MAX, &hz) || hz == 0 ||
	    (ch && (!pl_sdp_parse_u64(ch, 65535, &channels) || channels == 0)))
		return PL_SDP_BAD(p, "bad rtpmap");
	if ((pt = pl_sdp_listed_pt(p->m, ptf)) < 0)
		return PL_SDP_BAD(p, "rtpmap for a payload type not in the m= line");
	if (pl_sdp_media_rtpmap(p->m, (uint8_t)pt))
		return PL_SDP_BAD(p, "duplicate rtpmap");
	if (pl_sdp_rtpmap_add(p->m, (uint8_t)pt, enc, (uint32_t)hz, (uint16_t)channels))
		return PL_SDP_BIG(p, "too many rtpmaps");
	return 0;
}

static int a_fmtp(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *whole = v, *ptf;
	int pt;

	if (!pl_sdp_is_rtp_proto(p->m->proto))
		return keep_unknown(p, l, name, whole);
	ptf = pl_sdp_next_field(&v);
	if (!v || !*v)
		return PL_SDP_BAD(p, "bad fmtp");
	if ((pt = pl_sdp_listed_pt(p->m, ptf)) < 0)
		return PL_SDP_BAD(p, "fmtp for a payload type not in the m= line");
	if (pl_sdp_media_fmtp(p->m, (uint8_t)pt))
		return PL_SDP_BAD(p, "duplicate fmtp");
	if (pl_sdp_fmtp_add(p->m, (uint8_t)pt, v))
		return PL_SDP_BIG(p, "too many fmtps");
	return 0;
}

static int a_rtcp_fb(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *whole = v, *ptf, *type;
	int pt = -1;

	if (!pl_sdp_is_rtp_proto(p->m->proto))
		return keep_unknown(p, l, name, whole);
	ptf = pl_sdp_next_field(&v);
	type = pl_sdp_next_field(&v);
	if (!pl_sdp_is_token(type) || (v && !*v))
		return PL_SDP_BAD(p, "bad rtcp-fb");
	if (strcmp(ptf, "*") != 0 && (pt = pl_sdp_listed_pt(p->m, ptf)) < 0)
		return PL_SDP_BAD(p, "rtcp-fb for a payload type not in the m= line");
	if (pl_sdp_rtcp_fb_add(p->m, pt, type, v))
		return PL_SDP_BIG(p, "too many rtcp-fb");
	return 0;
}

static int a_msid(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *stream = pl_sdp_next_field(&v), *track = pl_sdp_next_field(&v);

	if (v || !is_short_token(stream, 64) || (track && !is_short_token(track, 64)))
		return PL_SDP_BAD(p, "bad msid");
	if (pl_sdp_msid_add(p->m, stream, track))
		return PL_SDP_BIG(p, "too many msids");
	return 0;
}

static int a_ssrc(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *ssrcf = pl_sdp_next_field(&v), *colon;
	uint64_t ssrc;

	if (!pl_sdp_parse_u64(ssrcf, UINT32_MAX, &ssrc) || !v)
		return PL_SDP_BAD(p, "bad ssrc");
	if ((colon = strchr(v, ':')))
		*colon++ = '\0';
	if (!pl_sdp_is_token(v) || (colon && !*colon))
		return PL_SDP_BAD(p, "bad ssrc");
	if (pl_sdp_ssrc_add(p->m, (uint32_t)ssrc, v, colon))
		return PL_SDP_BIG(p, "too many ssrc lines");
	return 0;
}

static int a_ssrc_group(struct pl_sdp_parser *p, const struct level *l, const char *name,
			char *v)
{
	char *sem = pl_sdp_next_field(&v), *f;
	uint32_t ssrcs[PL_SDP_MAX_GROUP_SSRCS];
	size_t n = 0;
	uint64_t ssrc;

	if (!pl_sdp_is_token(sem) || !v)
		return PL_SDP_BAD(p, "bad ssrc-group");
	while ((f = pl_sdp_next_field(&v))) {
		if (!pl_sdp_parse_u64(f, UINT32_MAX, &ssrc))
			return PL_SDP_BAD(p, "bad ssrc-group");
		if (n == PL_SDP_MAX_GROUP_SSRCS)
			return PL_SDP_BIG(p, "too many ssrcs in ssrc-group");
		ssrcs[n++] = (uint32_t)ssrc;
	}
	if (pl_sdp_ssrc_group_add(p->m, sem, ssrcs, n))
		return PL_SDP_BIG(p, "too many ssrc-groups");
	return 0;
}

static int a_rid(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v)
{
	char *id = pl_sdp_next_field(&v), *dir = pl_sdp_next_field(&v);
	enum pl_sdp_rid_dir d;

	if (!is_rid(id) || !dir || (v && !*v))
		return PL_SDP_BAD(p, "bad rid");
	if (strcmp(dir, "send") == 0)
		d = PL_SDP_RID_SEND;
	else if (strcmp(dir, "recv") == 0)
		d = PL_SDP_RID_RECV;
	else
		return PL_SDP_BAD(p, "bad rid direction");
	for (size_t i = 0; i < p->m->rid_count; i++)
		if (strcmp(p->m->rids[i].id, id) == 0)
			return PL_SDP_BAD(p, "duplicate rid");
	if (pl_sdp_rid_add(p->m, id, d, v))
		return PL_SDP_BIG(p, "too many rids");
	return 0;
}

/* sc-str-list = sc-alt-list *(";" sc-alt-list), sc-alt-list = sc-id *("," sc-id),
 * sc-id = ["~"] rid-id (RFC 8853 section 5.1). */
static int simulcast_list(struct pl_sdp_parser *p, const char *dir, char *list)
{
	bool send = strcmp(dir, "send") == 0;
	uint16_t stream = 0;
	char *alt = list;

	if (!send && strcmp(dir, "recv") != 0)
		return PL_SDP_BAD(p, "bad simulcast direction");
	if ((send ? p->m->simulcast.send_count : p->m->simulcast.recv_count) > 0)
		return PL_SDP_BAD(p, "bad simulcast");
	for (;;) {
		size_t n = strcspn(alt, ",;");
		char sep = alt[n];
		bool paused = alt[0] == '~';

		alt[n] = '\0';
		if (!is_rid(alt + paused))
			return PL_SDP_BAD(p, "bad simulcast");
		if (pl_sdp_simulcast_add(p->m, send, alt + paused, paused, stream))
			return PL_SDP_BIG(p, "too many simulcast rids");
		if (!sep)
			return 0;
		if (sep == ';')
			stream++;
		alt += n + 1;
	}
}

static int a_simulcast(struct pl_sdp_parser *p, const struct level *l, const char *name,
		       char *v)
{
	char *d1 = pl_sdp_next_field(&v), *l1 = pl_sdp_next_field(&v);
	char *d2 = pl_sdp_next_field(&v), *l2 = pl_sdp_next_field(&v);
	int rc;

	if (p->m->has_simulcast)
		return PL_SDP_BAD(p, "duplicate attribute");
	if (!l1 || (d2 && !l2) || v)
		return PL_SDP_BAD(p, "bad simulcast");
	p->simulcast_line = p->line;
	if ((rc = simulcast_list(p, d1, l1)) || !d2)
		return rc;
	return simulcast_list(p, d2, l2);
}

enum { AT_SESSION = 1, AT_MEDIA = 2, AT_BOTH = 3 };

static const struct attr_rule {
	const char *name;
	unsigned scope;
	bool has_value;
	int (*fn)(struct pl_sdp_parser *p, const struct level *l, const char *name, char *v);
} rules[] = {
	{ "group", AT_SESSION, true, a_group },
	{ "msid-semantic", AT_SESSION, true, a_msid_semantic },
	{ "ice-lite", AT_SESSION, false, a_ice_lite },
	{ "ice-ufrag", AT_BOTH, true, a_ice_ufrag },
	{ "ice-pwd", AT_BOTH, true, a_ice_pwd },
	{ "ice-options", AT_BOTH, true, a_ice_options },
	{ "fingerprint", AT_BOTH, true, a_fingerprint },
	{ "setup", AT_BOTH, true, a_setup },
	{ "sendrecv", AT_BOTH, false, a_dir },
	{ "sendonly", AT_BOTH, false, a_dir },
	{ "recvonly", AT_BOTH, false, a_dir },
	{ "inactive", AT_BOTH, false, a_dir },
	{ "extmap", AT_BOTH, true, a_extmap },
	{ "extmap-allow-mixed", AT_BOTH, false, a_allow_mixed },
	{ "end-of-candidates", AT_BOTH, false, a_end_of_candidates },
	{ "mid", AT_MEDIA, true, a_mid },
	{ "rtcp-mux", AT_MEDIA, false, a_rtcp_mux },
	{ "rtcp-rsize", AT_MEDIA, false, a_rtcp_rsize },
	{ "candidate", AT_MEDIA, true, a_candidate },
	{ "rtpmap", AT_MEDIA, true, a_rtpmap },
	{ "fmtp", AT_MEDIA, true, a_fmtp },
	{ "rtcp-fb", AT_MEDIA, true, a_rtcp_fb },
	{ "msid", AT_MEDIA, true, a_msid },
	{ "ssrc", AT_MEDIA, true, a_ssrc },
	{ "ssrc-group", AT_MEDIA, true, a_ssrc_group },
	{ "rid", AT_MEDIA, true, a_rid },
	{ "simulcast", AT_MEDIA, true, a_simulcast },
};

static struct level level_of(struct pl_sdp_parser *p)
{
	struct pl_sdp *s = p->sdp;
	struct pl_sdp_media *m = p->m;

	if (m)
		return (struct level){ &m->tp, &m->dir, &m->extmaps, &m->extmap_count,
				       &m->extmap_allow_mixed, &m->attrs, &m->attr_count };
	return (struct level){ &s->tp, &s->dir, &s->extmaps, &s->extmap_count,
			       &s->extmap_allow_mixed, &s->attrs, &s->attr_count };
}

int pl_sdp_attr_line(struct pl_sdp_parser *p, char *s)
{
	char *colon = strchr(s, ':'), *value = NULL;
	struct level l = level_of(p);

	if (colon) {
		*colon = '\0';
		value = colon + 1;
	}
	if (!pl_sdp_is_token(s))
		return PL_SDP_BAD(p, "bad attribute name");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct attr_rule *r = &rules[i];

		if (strcmp(r->name, s) != 0)
			continue;
		if (!(r->scope & (p->m ? AT_MEDIA : AT_SESSION)))
			return PL_SDP_BAD(p, p->m ? "attribute not allowed in a media section"
					   : "attribute not allowed at session level");
		if (r->has_value && (!value || !*value))
			return PL_SDP_BAD(p, "attribute needs a value");
		if (!r->has_value && value)
			return PL_SDP_BAD(p, "attribute takes no value");
		return r->fn(p, &l, s, value);
	}
	return keep_unknown(p, &l, s, value);
}
