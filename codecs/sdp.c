/* codecs/sdp.c: the SDP model's lifecycle, its building helpers and lookups.
 *
 * A model is a tree of malloc'd arrays and strings hanging off one struct
 * pl_sdp; this file is the only place that knows how to free it, and every
 * way of adding to it (the parser included) goes through the helpers here,
 * so the limits of sdp.h hold for parsed and built models alike.  Arrays
 * grow by doubling from four; counts are the only bookkeeping.
 *
 * Allocation failure aborts: a model is a control-plane object of bounded
 * size (STYLE.md), and threading ENOMEM through every helper would buy
 * nothing.  Thread: whichever owns the model; no shared state.
 */
#include "codecs/sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codecs/sdp_priv.h"
#include "common/err.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("parley: out of memory in codecs/sdp\n", stderr);
		abort();
	}
	return p;
}

void *pl_sdp_vec_reserve(void *vec, size_t count, size_t size)
{
	if (count == 0)
		return xrealloc(vec, 4 * size);
	if (count >= 4 && (count & (count - 1)) == 0)
		return xrealloc(vec, 2 * count * size);
	return vec;
}

char *pl_sdp_strndup(const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = xrealloc(NULL, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *pl_sdp_strdup(const char *s)
{
	return s ? pl_sdp_strndup(s, strlen(s)) : NULL;
}

void pl_sdp_str_set(char **field, const char *value)
{
	char *copy = pl_sdp_strdup(value);

	free(*field);
	*field = copy;
}

const char *pl_sdp_dir_name(enum pl_sdp_dir d)
{
	switch (d) {
	case PL_SDP_DIR_SENDRECV:
		return "sendrecv";
	case PL_SDP_DIR_SENDONLY:
		return "sendonly";
	case PL_SDP_DIR_RECVONLY:
		return "recvonly";
	case PL_SDP_DIR_INACTIVE:
		return "inactive";
	case PL_SDP_DIR_UNSET:
		break;
	}
	return NULL;
}

const char *pl_sdp_setup_name(enum pl_sdp_setup s)
{
	switch (s) {
	case PL_SDP_SETUP_ACTPASS:
		return "actpass";
	case PL_SDP_SETUP_ACTIVE:
		return "active";
	case PL_SDP_SETUP_PASSIVE:
		return "passive";
	case PL_SDP_SETUP_HOLDCONN:
		return "holdconn";
	case PL_SDP_SETUP_UNSET:
		break;
	}
	return NULL;
}

/* ---- Freeing ------------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_lines(struct pl_sdp_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].value);
	free(l);
}

static void free_conn(struct pl_sdp_conn *c)
{
	free(c->nettype), free(c->addrtype), free(c->address);
}

static void free_bandwidths(struct pl_sdp_bandwidth *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].type);
	free(b);
}

static void free_attrs(struct pl_sdp_attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].name), free(a[i].value);
	free(a);
}

static void free_extmaps(struct pl_sdp_extmap *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].uri), free(e[i].attrs);
	free(e);
}

static void free_transport(struct pl_sdp_transport *tp)
{
	free(tp->ice_ufrag), free(tp->ice_pwd), free(tp->ice_options);
	for (size_t i = 0; i < tp->fingerprint_count; i++)
		free(tp->fingerprints[i].hash), free(tp->fingerprints[i].value);
	free(tp->fingerprints);
}

void pl_sdp_candidate_release(struct pl_sdp_candidate *c)
{
	if (!c)
		return;
	free(c->foundation), free(c->transport), free(c->address);
	free(c->type), free(c->raddr);
	for (size_t i = 0; i < c->ext_count; i++)
		free(c->exts[i].name), free(c->exts[i].value);
	free(c->exts);
	memset(c, 0, sizeof(*c));
}

static void free_codecs(struct pl_sdp_media *m)
{
	for (size_t i = 0; i < m->rtpmap_count; i++)
		free(m->rtpmaps[i].name);
	free(m->rtpmaps);
	for (size_t i = 0; i < m->fmtp_count; i++)
		free(m->fmtps[i].params);
	free(m->fmtps);
	for (size_t i = 0; i < m->rtcp_fb_count; i++)
		free(m->rtcp_fbs[i].type), free(m->rtcp_fbs[i].param);
	free(m->rtcp_fbs);
}

static void free_streams(struct pl_sdp_media *m)
{
	for (size_t i = 0; i < m->msid_count; i++)
		free(m->msids[i].stream), free(m->msids[i].track);
	free(m->msids);
	for (size_t i = 0; i < m->ssrc_count; i++)
		free(m->ssrcs[i].attr), free(m->ssrcs[i].value);
	free(m->ssrcs);
	for (size_t i = 0; i < m->ssrc_group_count; i++)
		free(m->ssrc_groups[i].semantics), free(m->ssrc_groups[i].ssrcs);
	free(m->ssrc_groups);
	for (size_t i = 0; i < m->rid_count; i++)
		free(m->rids[i].id), free(m->rids[i].params);
	free(m->rids);
	for (size_t i = 0; i < m->simulcast.send_count; i++)
		free(m->simulcast.send[i].rid);
	for (size_t i = 0; i < m->simulcast.recv_count; i++)
		free(m->simulcast.recv[i].rid);
	free(m->simulcast.send), free(m->simulcast.recv);
}

static void free_media(struct pl_sdp_media *m)
{
	if (!m)
		return;
	free(m->media), free(m->proto), free(m->mid);
	free_strv(m->fmts, m->fmt_count);
	free_lines(m->lines, m->line_count);
	free_conn(&m->conn);
	free_bandwidths(m->bandwidths, m->bandwidth_count);
	free_transport(&m->tp);
	for (size_t i = 0; i < m->candidate_count; i++)
		pl_sdp_candidate_release(&m->candidates[i]);
	free(m->candidates);
	free_codecs(m);
	free_extmaps(m->extmaps, m->extmap_count);
	free_streams(m);
	free_attrs(m->attrs, m->attr_count);
	free(m);
}

void pl_sdp_destroy(struct pl_sdp *sdp)
{
	if (!sdp)
		return;
	free(sdp->origin.username), free(sdp->origin.nettype);
	free(sdp->origin.addrtype), free(sdp->origin.address);
	free(sdp->name);
	free_lines(sdp->lines, sdp->line_count);
	free_conn(&sdp->conn);
	free_bandwidths(sdp->bandwidths, sdp->bandwidth_count);
	free(sdp->times);
	for (size_t i = 0; i < sdp->group_count; i++) {
		free(sdp->groups[i].semantics);
		free_strv(sdp->groups[i].mids, sdp->groups[i].mid_count);
	}
	free(sdp->groups);
	free_transport(&sdp->tp);
	free(sdp->msid_semantic);
	free_strv(sdp->msid_ids, sdp->msid_id_count);
	free_extmaps(sdp->extmaps, sdp->extmap_count);
	free_attrs(sdp->attrs, sdp->attr_count);
	for (size_t i = 0; i < sdp->media_count; i++)
		free_media(sdp->media[i]);
	free(sdp->media);
	free(sdp);
}

/* ---- Building ----------------------------------------------------------- */

struct pl_sdp *pl_sdp_create(void)
{
	struct pl_sdp *sdp = xrealloc(NULL, sizeof(*sdp));
	struct pl_sdp_time *t;

	memset(sdp, 0, sizeof(*sdp));
	sdp->origin.username = pl_sdp_strdup("-");
	sdp->origin.nettype = pl_sdp_strdup("IN");
	sdp->origin.addrtype = pl_sdp_strdup("IP4");
	sdp->origin.address = pl_sdp_strdup("127.0.0.1");
	sdp->name = pl_sdp_strdup("-");
	t = PL_SDP_PUSH(sdp->times, sdp->time_count, PL_SDP_MAX_TIMES);
	t->start = t->stop = 0;
	return sdp;
}

static enum pl_sdp_kind kind_of(const char *media)
{
	if (strcmp(media, "audio") == 0)
		return PL_SDP_KIND_AUDIO;
	if (strcmp(media, "video") == 0)
		return PL_SDP_KIND_VIDEO;
	if (strcmp(media, "application") == 0)
		return PL_SDP_KIND_APPLICATION;
	return PL_SDP_KIND_OTHER;
}

struct pl_sdp_media *pl_sdp_media_add(struct pl_sdp *sdp, const char *media, uint16_t port,
				      const char *proto)
{
	struct pl_sdp_media **slot, *m;

	if (!media || !proto)
		return NULL;
	slot = PL_SDP_PUSH(sdp->media, sdp->media_count, PL_SDP_MAX_MEDIA);
	if (!slot)
		return NULL;
	m = xrealloc(NULL, sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->media = pl_sdp_strdup(media);
	m->kind = kind_of(media);
	m->port = port;
	m->proto = pl_sdp_strdup(proto);
	*slot = m;
	return m;
}

static int push_str(char ***v, size_t *n, size_t max, const char *s)
{
	char **slot;

	if (!s)
		return PL_EINVAL;
	slot = PL_SDP_PUSH(*v, *n, max);
	if (!slot)
		return PL_ETOOBIG;
	*slot = pl_sdp_strdup(s);
	return 0;
}

int pl_sdp_fmt_add(struct pl_sdp_media *m, const char *fmt)
{
	return push_str(&m->fmts, &m->fmt_count, PL_SDP_MAX_FMTS, fmt);
}

int pl_sdp_rtpmap_add(struct pl_sdp_media *m, uint8_t pt, const char *name, uint32_t clock_hz,
		      uint16_t channels)
{
	struct pl_sdp_rtpmap *r;

	if (!name)
		return PL_EINVAL;
	r = PL_SDP_PUSH(m->rtpmaps, m->rtpmap_count, PL_SDP_MAX_RTPMAPS);
	if (!r)
		return PL_ETOOBIG;
	r->pt = pt, r->clock_hz = clock_hz, r->channels = channels;
	r->name = pl_sdp_strdup(name);
	return 0;
}

int pl_sdp_fmtp_add(struct pl_sdp_media *m, uint8_t pt, const char *params)
{
	struct pl_sdp_fmtp *f;

	if (!params)
		return PL_EINVAL;
	f = PL_SDP_PUSH(m->fmtps, m->fmtp_count, PL_SDP_MAX_FMTPS);
	if (!f)
		return PL_ETOOBIG;
	f->pt = pt;
	f->params = pl_sdp_strdup(params);
	return 0;
}

int pl_sdp_rtcp_fb_add(struct pl_sdp_media *m, int pt, const char *type, const char *param)
{
	struct pl_sdp_rtcp_fb *f;

	if (!type || pt < -1 || pt > 127)
		return PL_EINVAL;
	f = PL_SDP_PUSH(m->rtcp_fbs, m->rtcp_fb_count, PL_SDP_MAX_RTCP_FBS);
	if (!f)
		return PL_ETOOBIG;
	f->pt = (int16_t)pt;
	f->type = pl_sdp_strdup(type);
	f->param = pl_sdp_strdup(param);
	return 0;
}

int pl_sdp_extmap_add(struct pl_sdp_extmap **list, size_t *count, uint16_t id, enum pl_sdp_dir dir,
		      const char *uri, const char *attrs)
{
	struct pl_sdp_extmap *e;

	if (!uri || id == 0 || id > 255)
		return PL_EINVAL;
	e = PL_SDP_PUSH(*list, *count, PL_SDP_MAX_EXTMAPS);
	if (!e)
		return PL_ETOOBIG;
	e->id = id, e->dir = dir;
	e->uri = pl_sdp_strdup(uri);
	e->attrs = pl_sdp_strdup(attrs);
	return 0;
}

int pl_sdp_candidate_add(struct pl_sdp_media *m, const struct pl_sdp_candidate *c)
{
	struct pl_sdp_candidate *d;

	if (!c->foundation || !c->transport || !c->address || !c->type)
		return PL_EINVAL;
	if (c->ext_count > PL_SDP_MAX_CAND_EXTS)
		return PL_ETOOBIG;
	d = PL_SDP_PUSH(m->candidates, m->candidate_count, PL_SDP_MAX_CANDIDATES);
	if (!d)
		return PL_ETOOBIG;
	*d = *c;
	d->foundation = pl_sdp_strdup(c->foundation);
	d->transport = pl_sdp_strdup(c->transport);
	d->address = pl_sdp_strdup(c->address);
	d->type = pl_sdp_strdup(c->type);
	d->raddr = pl_sdp_strdup(c->raddr);
	d->exts = NULL, d->ext_count = 0;
	for (size_t i = 0; i < c->ext_count; i++) {
		struct pl_sdp_cand_ext *x = PL_SDP_PUSH(d->exts, d->ext_count, PL_SDP_MAX_CAND_EXTS);

		x->name = pl_sdp_strdup(c->exts[i].name);
		x->value = pl_sdp_strdup(c->exts[i].value);
	}
	return 0;
}

int pl_sdp_msid_add(struct pl_sdp_media *m, const char *stream, const char *track)
{
	struct pl_sdp_msid *s;

	if (!stream)
		return PL_EINVAL;
	s = PL_SDP_PUSH(m->msids, m->msid_count, PL_SDP_MAX_MSIDS);
	if (!s)
		return PL_ETOOBIG;
	s->stream = pl_sdp_strdup(stream);
	s->track = pl_sdp_strdup(track);
	return 0;
}

int pl_sdp_ssrc_add(struct pl_sdp_media *m, uint32_t ssrc, const char *attr, const char *value)
{
	struct pl_sdp_ssrc *s;

	if (!attr)
		return PL_EINVAL;
	s = PL_SDP_PUSH(m->ssrcs, m->ssrc_count, PL_SDP_MAX_SSRCS);
	if (!s)
		return PL_ETOOBIG;
	s->ssrc = ssrc;
	s->attr = pl_sdp_strdup(attr);
	s->value = pl_sdp_strdup(value);
	return 0;
}

int pl_sdp_ssrc_group_add(struct pl_sdp_media *m, const char *semantics, const uint32_t *ssrcs,
			  size_t n)
{
	struct pl_sdp_ssrc_group *g;

	if (!semantics || (n && !ssrcs))
		return PL_EINVAL;
	if (n > PL_SDP_MAX_GROUP_SSRCS)
		return PL_ETOOBIG;
	g = PL_SDP_PUSH(m->ssrc_groups, m->ssrc_group_count, PL_SDP_MAX_SSRC_GROUPS);
	if (!g)
		return PL_ETOOBIG;
	g->semantics = pl_sdp_strdup(semantics);
	g->ssrcs = xrealloc(NULL, (n ? n : 1) * sizeof(*ssrcs));
	if (n)
		memcpy(g->ssrcs, ssrcs, n * sizeof(*ssrcs));
	g->ssrc_count = n;
	return 0;
}

int pl_sdp_rid_add(struct pl_sdp_media *m, const char *id, enum pl_sdp_rid_dir dir,
		   const char *params)
{
	struct pl_sdp_rid *r;

	if (!id || (dir != PL_SDP_RID_SEND && dir != PL_SDP_RID_RECV))
		return PL_EINVAL;
	r = PL_SDP_PUSH(m->rids, m->rid_count, PL_SDP_MAX_RIDS);
	if (!r)
		return PL_ETOOBIG;
	r->id = pl_sdp_strdup(id);
	r->dir = dir;
	r->params = pl_sdp_strdup(params);
	return 0;
}

int pl_sdp_simulcast_add(struct pl_sdp_media *m, bool send, const char *rid, bool paused,
			 uint16_t stream)
{
	struct pl_sdp_simulcast *s = &m->simulcast;
	struct pl_sdp_simulcast_rid *r;

	if (!rid)
		return PL_EINVAL;
	if (send)
		r = PL_SDP_PUSH(s->send, s->send_count, PL_SDP_MAX_SIMULCAST_RIDS);
	else
		r = PL_SDP_PUSH(s->recv, s->recv_count, PL_SDP_MAX_SIMULCAST_RIDS);
	if (!r)
		return PL_ETOOBIG;
	r->rid = pl_sdp_strdup(rid);
	r->paused = paused;
	r->stream = stream;
	m->has_simulcast = true;
	return 0;
}

int pl_sdp_group_add(struct pl_sdp *sdp, const char *semantics, const char *const *mids, size_t n)
{
	struct pl_sdp_group *g;

	if (!semantics || (n && !mids))
		return PL_EINVAL;
	if (n > PL_SDP_MAX_GROUP_MIDS)
		return PL_ETOOBIG;
	g = PL_SDP_PUSH(sdp->groups, sdp->group_count, PL_SDP_MAX_GROUPS);
	if (!g)
		return PL_ETOOBIG;
	g->semantics = pl_sdp_strdup(semantics);
	for (size_t i = 0; i < n; i++)
		push_str(&g->mids, &g->mid_count, PL_SDP_MAX_GROUP_MIDS, mids[i]);
	return 0;
}

int pl_sdp_fingerprint_add(struct pl_sdp_transport *tp, const char *hash, const char *value)
{
	struct pl_sdp_fingerprint *f;

	if (!hash || !value)
		return PL_EINVAL;
	f = PL_SDP_PUSH(tp->fingerprints, tp->fingerprint_count, PL_SDP_MAX_FINGERPRINTS);
	if (!f)
		return PL_ETOOBIG;
	f->hash = pl_sdp_strdup(hash);
	f->value = pl_sdp_strdup(value);
	return 0;
}

int pl_sdp_attr_add(struct pl_sdp_attr **list, size_t *count, const char *name, const char *value)
{
	struct pl_sdp_attr *a;

	if (!name)
		return PL_EINVAL;
	a = PL_SDP_PUSH(*list, *count, PL_SDP_MAX_ATTRS);
	if (!a)
		return PL_ETOOBIG;
	a->name = pl_sdp_strdup(name);
	a->value = pl_sdp_strdup(value);
	return 0;
}

/* ---- Lookups ------------------------------------------------------------ */

const struct pl_sdp_rtpmap *pl_sdp_media_rtpmap(const struct pl_sdp_media *m, uint8_t pt)
{
	for (size_t i = 0; i < m->rtpmap_count; i++)
		if (m->rtpmaps[i].pt == pt)
			return &m->rtpmaps[i];
	return NULL;
}

const struct pl_sdp_fmtp *pl_sdp_media_fmtp(const struct pl_sdp_media *m, uint8_t pt)
{
	for (size_t i = 0; i < m->fmtp_count; i++)
		if (m->fmtps[i].pt == pt)
			return &m->fmtps[i];
	return NULL;
}

struct pl_sdp_media *pl_sdp_media_by_mid(const struct pl_sdp *sdp, const char *mid)
{
	for (size_t i = 0; mid && i < sdp->media_count; i++)
		if (sdp->media[i]->mid && strcmp(sdp->media[i]->mid, mid) == 0)
			return sdp->media[i];
	return NULL;
}

const struct pl_sdp_group *pl_sdp_group_find(const struct pl_sdp *sdp, const char *semantics)
{
	for (size_t i = 0; i < sdp->group_count; i++)
		if (strcmp(sdp->groups[i].semantics, semantics) == 0)
			return &sdp->groups[i];
	return NULL;
}

bool pl_sdp_fmtp_param(const char *params, const char *key, const char **val, size_t *val_len)
{
	size_t klen = strlen(key);
	const char *p = params;

	while (p && *p) {
		const char *end = strchr(p, ';'), *eq;
		size_t n;

		while (*p == ' ')
			p++;
		n = end ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (eq && (size_t)(eq - p) == klen && strncasecmp(p, key, klen) == 0) {
			size_t vlen = n - klen - 1;

			while (vlen && p[klen + vlen] == ' ')
				vlen--;
			*val = eq + 1;
			*val_len = vlen;
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}
