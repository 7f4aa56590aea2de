/* codecs/sdp_write.c: SDP model to CRLF text.
 *
 * Lines come out in RFC 8866 grammar order, and attributes in a fixed
 * order close to what browsers write (transport, mid, extensions,
 * direction, codecs grouped per payload type in m= order, rids, ssrcs,
 * candidates, then unknown attributes in their original order), so the
 * output of a parsed description parses again into the same model.
 *
 * Models can be built by hand, so the writer re-checks what the parser
 * would have: a token field holds a token, a text field holds no CR, LF
 * or other control byte.  A model that would produce text the parser
 * refuses is PL_EINVAL instead; that is what stops a participant id with
 * a CRLF in it from injecting lines into an offer.
 * Output grows in a heap buffer capped at PL_SDP_MAX_BYTES.
 */
#include "codecs/sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/sdp_priv.h"
#include "common/err.h"

struct out {
	char *buf;
	size_t len, cap;
	int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || o->len + (size_t)n >= o->cap) {
		o->err = PL_ETOOBIG;                    /* past PL_SDP_MAX_BYTES */
		return;
	}
	o->len += (size_t)n;
}

static void invalid(struct out *o)
{
	if (!o->err)
		o->err = PL_EINVAL;
}

/* A token field: returned as is, or "" with the error recorded. */
static const char *tok(struct out *o, const char *s)
{
	if (pl_sdp_is_token(s))
		return s;
	invalid(o);
	return "";
}

/* Free text: non-empty, no control bytes (so no CR or LF). */
static const char *text(struct out *o, const char *s)
{
	const char *c = s;

	for (; c && *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			break;
	if (s && *s && !*c)
		return s;
	invalid(o);
	return "";
}

/* A word: text without spaces (URIs, addresses, fmtp values...).  A tab
 * is allowed: the parser splits fields on spaces only, so a field it read
 * with a tab in it is written back as it came (tests/fuzz/fuzz_sdp). */
static const char *word(struct out *o, const char *s)
{
	s = text(o, s);
	if (strchr(s, ' '))
		invalid(o);
	return s;
}

static void put_attr(struct out *o, const char *name, const char *value)
{
	if (value && !*value)
		put(o, "a=%s:\r\n", tok(o, name));    /* "a=foo:" kept as it came */
	else if (value)
		put(o, "a=%s:%s\r\n", tok(o, name), text(o, value));
	else
		put(o, "a=%s\r\n", tok(o, name));
}

static void put_lines(struct out *o, const struct pl_sdp_line *l, size_t n, char type)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].type == type)
			put(o, "%c=%s\r\n", type, text(o, l[i].value));
}

static void put_conn(struct out *o, const struct pl_sdp_conn *c)
{
	if (!c->address)
		return;
	put(o, "c=%s %s %s\r\n", tok(o, c->nettype), tok(o, c->addrtype), word(o, c->address));
}

static void put_bandwidths(struct out *o, const struct pl_sdp_bandwidth *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, "b=%s:%llu\r\n", tok(o, b[i].type), (unsigned long long)b[i].value);
}

/* ICE credentials: ice-chars only (RFC 8839 section 5.4). */
static const char *ice(struct out *o, const char *s, size_t min)
{
	if (s && pl_sdp_is_ice_chars(s, min, 256))
		return s;
	invalid(o);
	return "";
}

static void put_transport(struct out *o, const struct pl_sdp_transport *tp)
{
	if (tp->ice_ufrag)
		put(o, "a=ice-ufrag:%s\r\n", ice(o, tp->ice_ufrag, 4));
	if (tp->ice_pwd)
		put(o, "a=ice-pwd:%s\r\n", ice(o, tp->ice_pwd, 22));
	if (tp->ice_options)
		put(o, "a=ice-options:%s\r\n", text(o, tp->ice_options));
	for (size_t i = 0; i < tp->fingerprint_count; i++)
		put(o, "a=fingerprint:%s %s\r\n", tok(o, tp->fingerprints[i].hash),
		    word(o, tp->fingerprints[i].value));
	if (tp->setup != PL_SDP_SETUP_UNSET)
		put(o, "a=setup:%s\r\n", pl_sdp_setup_name(tp->setup));
}

static void put_extmaps(struct out *o, const struct pl_sdp_extmap *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put(o, "a=extmap:%u", e[i].id);
		if (e[i].dir != PL_SDP_DIR_UNSET)
			put(o, "/%s", pl_sdp_dir_name(e[i].dir));
		put(o, " %s", word(o, e[i].uri));
		if (e[i].attrs)
			put(o, " %s", text(o, e[i].attrs));
		put(o, "\r\n");
	}
}

static void put_dir(struct out *o, enum pl_sdp_dir d)
{
	if (d != PL_SDP_DIR_UNSET)
		put(o, "a=%s\r\n", pl_sdp_dir_name(d));
}

static void put_candidate(struct out *o, const struct pl_sdp_candidate *c)
{
	put(o, "candidate:%s %u %s %lu %s %u typ %s", word(o, c->foundation), c->component,
	    tok(o, c->transport), (unsigned long)c->priority, word(o, c->address), c->port,
	    tok(o, c->type));
	if (c->raddr)
		put(o, " raddr %s", word(o, c->raddr));
	if (c->has_rport)
		put(o, " rport %u", c->rport);
	for (size_t i = 0; i < c->ext_count; i++)
		put(o, " %s %s", tok(o, c->exts[i].name), word(o, c->exts[i].value));
}

/* rtpmap, rtcp-fb and fmtp of one payload type, as browsers group them. */
static void put_codec(struct out *o, const struct pl_sdp_media *m, int pt)
{
	const struct pl_sdp_rtpmap *r = pt >= 0 ? pl_sdp_media_rtpmap(m, (uint8_t)pt) : NULL;
	const struct pl_sdp_fmtp *f = pt >= 0 ? pl_sdp_media_fmtp(m, (uint8_t)pt) : NULL;

	if (r) {
		put(o, "a=rtpmap:%d %s/%lu", pt, tok(o, r->name), (unsigned long)r->clock_hz);
		if (r->channels)
			put(o, "/%u", r->channels);
		put(o, "\r\n");
	}
	for (size_t i = 0; i < m->rtcp_fb_count; i++) {
		const struct pl_sdp_rtcp_fb *fb = &m->rtcp_fbs[i];

		if (fb->pt != pt)
			continue;
		if (pt < 0)
			put(o, "a=rtcp-fb:* %s", tok(o, fb->type));
		else
			put(o, "a=rtcp-fb:%d %s", pt, tok(o, fb->type));
		if (fb->param)
			put(o, " %s", text(o, fb->param));
		put(o, "\r\n");
	}
	if (f)
		put(o, "a=fmtp:%d %s\r\n", pt, text(o, f->params));
}

/* By value, as the parser compares them: "0111" lists payload type 111. */
static bool is_listed(const struct pl_sdp_media *m, int pt)
{
	for (size_t i = 0; i < m->fmt_count; i++) {
		uint64_t v;
		if (pl_sdp_parse_u64(m->fmts[i], 127, &v) && v == (uint64_t)pt)
			return true;
	}
	return false;
}

static void put_codecs(struct out *o, const struct pl_sdp_media *m)
{
	/* Every codec attribute must belong to a listed payload type, or it
	 * would silently vanish from the output. */
	for (size_t i = 0; i < m->rtpmap_count; i++)
		if (!is_listed(m, m->rtpmaps[i].pt))
			invalid(o);
	for (size_t i = 0; i < m->fmtp_count; i++)
		if (!is_listed(m, m->fmtps[i].pt))
			invalid(o);
	for (size_t i = 0; i < m->rtcp_fb_count; i++)
		if (m->rtcp_fbs[i].pt >= 0 && !is_listed(m, m->rtcp_fbs[i].pt))
			invalid(o);
	put_codec(o, m, -1);
	for (size_t i = 0; i < m->fmt_count; i++) {
		uint64_t pt;

		if (pl_sdp_parse_u64(m->fmts[i], 127, &pt))
			put_codec(o, m, (int)pt);
	}
}

static void put_simulcast_list(struct out *o, const char *dir,
			       const struct pl_sdp_simulcast_rid *r, size_t n)
{
	put(o, "%s ", dir);
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(o, "%c", r[i].stream != r[i - 1].stream ? ';' : ',');
		put(o, "%s%s", r[i].paused ? "~" : "", tok(o, r[i].rid));
	}
}

static void put_rids(struct out *o, const struct pl_sdp_media *m)
{
	const struct pl_sdp_simulcast *sc = &m->simulcast;

	for (size_t i = 0; i < m->rid_count; i++) {
		put(o, "a=rid:%s %s", tok(o, m->rids[i].id),
		    m->rids[i].dir == PL_SDP_RID_SEND ? "send" : "recv");
		if (m->rids[i].params)
			put(o, " %s", text(o, m->rids[i].params));
		put(o, "\r\n");
	}
	if (!m->has_simulcast)
		return;
	if (sc->send_count + sc->recv_count == 0)
		invalid(o);
	put(o, "a=simulcast:");
	if (sc->send_count)
		put_simulcast_list(o, "send", sc->send, sc->send_count);
	if (sc->send_count && sc->recv_count)
		put(o, " ");
	if (sc->recv_count)
		put_simulcast_list(o, "recv", sc->recv, sc->recv_count);
	put(o, "\r\n");
}

static void put_ssrcs(struct out *o, const struct pl_sdp_media *m)
{
	for (size_t i = 0; i < m->ssrc_group_count; i++) {
		const struct pl_sdp_ssrc_group *g = &m->ssrc_groups[i];

		put(o, "a=ssrc-group:%s", tok(o, g->semantics));
		if (g->ssrc_count == 0)
			invalid(o);
		for (size_t k = 0; k < g->ssrc_count; k++)
			put(o, " %lu", (unsigned long)g->ssrcs[k]);
		put(o, "\r\n");
	}
	for (size_t i = 0; i < m->ssrc_count; i++) {
		put(o, "a=ssrc:%lu %s", (unsigned long)m->ssrcs[i].ssrc, tok(o, m->ssrcs[i].attr));
		if (m->ssrcs[i].value)
			put(o, ":%s", text(o, m->ssrcs[i].value));
		put(o, "\r\n");
	}
}

static void put_media(struct out *o, const struct pl_sdp_media *m)
{
	put(o, "m=%s %u", tok(o, m->media), m->port);
	if (m->port_count)
		put(o, "/%u", m->port_count);
	put(o, " %s", word(o, m->proto));
	if (m->fmt_count == 0)
		invalid(o);
	for (size_t i = 0; i < m->fmt_count; i++)
		put(o, " %s", tok(o, m->fmts[i]));
	put(o, "\r\n");
	put_lines(o, m->lines, m->line_count, 'i');
	put_conn(o, &m->conn);
	put_bandwidths(o, m->bandwidths, m->bandwidth_count);
	put_lines(o, m->lines, m->line_count, 'k');
	put_transport(o, &m->tp);
	if (m->mid)
		put(o, "a=mid:%s\r\n", tok(o, m->mid));
	put_extmaps(o, m->extmaps, m->extmap_count);
	if (m->extmap_allow_mixed)
		put(o, "a=extmap-allow-mixed\r\n");
	put_dir(o, m->dir);
	for (size_t i = 0; i < m->msid_count; i++) {
		put(o, "a=msid:%s", tok(o, m->msids[i].stream));
		if (m->msids[i].track)
			put(o, " %s", tok(o, m->msids[i].track));
		put(o, "\r\n");
	}
	if (m->rtcp_mux)
		put(o, "a=rtcp-mux\r\n");
	if (m->rtcp_rsize)
		put(o, "a=rtcp-rsize\r\n");
	put_codecs(o, m);
	put_rids(o, m);
	put_ssrcs(o, m);
	for (size_t i = 0; i < m->candidate_count; i++) {
		put(o, "a=");
		put_candidate(o, &m->candidates[i]);
		put(o, "\r\n");
	}
	if (m->end_of_candidates)
		put(o, "a=end-of-candidates\r\n");
	for (size_t i = 0; i < m->attr_count; i++)
		put_attr(o, m->attrs[i].name, m->attrs[i].value);
}

static void put_session_attrs(struct out *o, const struct pl_sdp *sdp)
{
	for (size_t i = 0; i < sdp->group_count; i++) {
		put(o, "a=group:%s", tok(o, sdp->groups[i].semantics));
		for (size_t k = 0; k < sdp->groups[i].mid_count; k++)
			put(o, " %s", tok(o, sdp->groups[i].mids[k]));
		put(o, "\r\n");
	}
	if (sdp->ice_lite)
		put(o, "a=ice-lite\r\n");
	put_transport(o, &sdp->tp);
	put_dir(o, sdp->dir);
	if (sdp->extmap_allow_mixed)
		put(o, "a=extmap-allow-mixed\r\n");
	if (sdp->msid_semantic) {
		put(o, "a=msid-semantic:%s", tok(o, sdp->msid_semantic));
		for (size_t i = 0; i < sdp->msid_id_count; i++)
			put(o, " %s", tok(o, sdp->msid_ids[i]));
		put(o, "\r\n");
	}
	put_extmaps(o, sdp->extmaps, sdp->extmap_count);
	for (size_t i = 0; i < sdp->attr_count; i++)
		put_attr(o, sdp->attrs[i].name, sdp->attrs[i].value);
}

static void put_session(struct out *o, const struct pl_sdp *sdp)
{
	const struct pl_sdp_origin *og = &sdp->origin;

	put(o, "v=0\r\n");
	put(o, "o=%s %llu %llu %s %s %s\r\n", tok(o, og->username),
	    (unsigned long long)og->sess_id, (unsigned long long)og->sess_version,
	    tok(o, og->nettype), tok(o, og->addrtype), word(o, og->address));
	put(o, "s=%s\r\n", text(o, sdp->name));
	put_lines(o, sdp->lines, sdp->line_count, 'i');
	put_lines(o, sdp->lines, sdp->line_count, 'u');
	put_lines(o, sdp->lines, sdp->line_count, 'e');
	put_lines(o, sdp->lines, sdp->line_count, 'p');
	put_conn(o, &sdp->conn);
	put_bandwidths(o, sdp->bandwidths, sdp->bandwidth_count);
	if (sdp->time_count == 0)
		invalid(o);
	for (size_t i = 0; i < sdp->time_count; i++)
		put(o, "t=%llu %llu\r\n", (unsigned long long)sdp->times[i].start,
		    (unsigned long long)sdp->times[i].stop);
	put_lines(o, sdp->lines, sdp->line_count, 'r');
	put_lines(o, sdp->lines, sdp->line_count, 'z');
	put_lines(o, sdp->lines, sdp->line_count, 'k');
	put_session_attrs(o, sdp);
}

int pl_sdp_write(const struct pl_sdp *sdp, char **out, size_t *out_len)
{
	struct out o = { NULL, 0, PL_SDP_MAX_BYTES + 1, 0 };

	*out = NULL;
	if (!sdp)
		return PL_EINVAL;
	o.buf = malloc(o.cap);
	if (!o.buf)
		abort();
	put_session(&o, sdp);
	for (size_t i = 0; i < sdp->media_count; i++)
		put_media(&o, sdp->media[i]);
	if (o.err) {
		free(o.buf);
		return o.err;
	}
	*out = realloc(o.buf, o.len + 1);
	if (!*out)
		*out = o.buf;
	if (out_len)
		*out_len = o.len;
	return 0;
}

char *pl_sdp_candidate_to_string(const struct pl_sdp_candidate *c)
{
	struct out o = { NULL, 0, PL_SDP_MAX_LINE_BYTES + 1, 0 };

	o.buf = malloc(o.cap);
	if (!o.buf)
		abort();
	put_candidate(&o, c);
	if (o.err) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
