/* codecs/sdp_parse.c: SDP text to model, strictly.
 *
 * The text arrives from a remote peer through signaling, so it is hostile
 * until proven otherwise.  Size limits come first (the whole text, each
 * line), then every line is checked for control bytes and UTF-8 before it
 * is split.  Lines must come in RFC 8866 grammar order (v o s i u e p c b
 * t r z k a, then per m= section m i c b k a); a type letter we do not know
 * fails the description, as RFC 8866 section 5 requires, while an unknown
 * attribute is kept verbatim.  Known attributes are parsed into the model
 * field for field and rejected when malformed, duplicated where only one
 * may appear, or at a level where they do not belong.  Cross-line rules
 * (rtpmap/fmtp/rtcp-fb name a payload type of their m= line, mids are
 * unique, group and simulcast names exist) are checked too.
 *
 * Every failure records the 1-based line number and a static reason in
 * the parser state, which becomes the caller's struct pl_sdp_error.
 * Each line is copied to a stack buffer, NUL-terminated and split in place;
 * the model gets its own copies through the helpers of sdp.c.
 */
#include "codecs/sdp.h"

#include <string.h>

#include "codecs/sdp_priv.h"
#include "common/err.h"
#include "common/utf8.h"

int pl_sdp_parser_fail(struct pl_sdp_parser *p, int rc, const char *reason)
{
	p->reason = reason;
	return rc;
}

/* ---- Lexical helpers ------------------------------------------------------ */

/* token-char of RFC 8866 section 9. */
bool pl_sdp_is_token_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
	       c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
	       (c >= 0x5e && c <= 0x7e);
}

bool pl_sdp_is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!pl_sdp_is_token_char((unsigned char)*s))
			return false;
	return true;
}

bool pl_sdp_is_ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return n >= min && n <= max;
}

/* Addresses: IPv4, IPv6 (with zone), FQDNs, multicast "/ttl/n". */
bool pl_sdp_is_address(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == ':' || c == '-' || c == '_' || c == '%' || c == '/'))
			return false;
	}
	return true;
}

bool pl_sdp_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (uint64_t)(*s - '0') > max)
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Splits off the next SP-separated field of *s in place; NULL when none is
 * left.  Two spaces in a row yield an empty field, which validators reject. */
char *pl_sdp_next_field(char **s)
{
	char *f = *s, *sp;

	if (!f)
		return NULL;
	sp = strchr(f, ' ');
	if (sp) {
		*sp = '\0';
		*s = sp + 1;
	} else {
		*s = NULL;
	}
	return f;
}

bool pl_sdp_is_rtp_proto(const char *proto)
{
	return strstr(proto, "RTP/") != NULL;
}

/* The payload type in s if it is one of m's formats, else -1. */
int pl_sdp_listed_pt(const struct pl_sdp_media *m, const char *s)
{
	uint64_t pt;

	if (!pl_sdp_parse_u64(s, 127, &pt))
		return -1;
	/* By value: "099" is payload type 99 (tests/fuzz/fuzz_sdp found "99 099"
	 * listed twice, and its rtpmap and fmtp then written twice). */
	for (size_t i = 0; i < m->fmt_count; i++) {
		uint64_t v;
		if (pl_sdp_parse_u64(m->fmts[i], 127, &v) && v == pt)
			return (int)pt;
	}
	return -1;
}

/* ---- Session-level lines -------------------------------------------------- */

static int line_origin(struct pl_sdp_parser *p, char *s)
{
	struct pl_sdp_origin *o = &p->sdp->origin;
	char *f[6];

	for (int i = 0; i < 6; i++)
		if (!(f[i] = pl_sdp_next_field(&s)))
			return PL_SDP_BAD(p, "bad o= line");
	if (s || !pl_sdp_is_token(f[0]) || !pl_sdp_parse_u64(f[1], UINT64_MAX, &o->sess_id) ||
	    !pl_sdp_parse_u64(f[2], UINT64_MAX, &o->sess_version) || !pl_sdp_is_token(f[3]) ||
	    !pl_sdp_is_token(f[4]) || !pl_sdp_is_address(f[5]))
		return PL_SDP_BAD(p, "bad o= line");
	pl_sdp_str_set(&o->username, f[0]);
	pl_sdp_str_set(&o->nettype, f[3]);
	pl_sdp_str_set(&o->addrtype, f[4]);
	pl_sdp_str_set(&o->address, f[5]);
	return 0;
}

static int line_conn(struct pl_sdp_parser *p, struct pl_sdp_conn *c, char *s)
{
	char *net = pl_sdp_next_field(&s), *type = pl_sdp_next_field(&s), *addr = pl_sdp_next_field(&s);

	if (s || !pl_sdp_is_token(net) || !pl_sdp_is_token(type) || !pl_sdp_is_address(addr))
		return PL_SDP_BAD(p, "bad c= line");
	c->nettype = pl_sdp_strdup(net);
	c->addrtype = pl_sdp_strdup(type);
	c->address = pl_sdp_strdup(addr);
	return 0;
}

static int line_bandwidth(struct pl_sdp_parser *p, struct pl_sdp_bandwidth **list, size_t *n,
			  char *s)
{
	char *colon = strchr(s, ':');
	struct pl_sdp_bandwidth *b;
	uint64_t v;

	if (!colon)
		return PL_SDP_BAD(p, "bad b= line");
	*colon = '\0';
	if (!pl_sdp_is_token(s) || !pl_sdp_parse_u64(colon + 1, UINT64_MAX, &v))
		return PL_SDP_BAD(p, "bad b= line");
	b = PL_SDP_PUSH(*list, *n, PL_SDP_MAX_BANDWIDTHS);
	if (!b)
		return PL_SDP_BIG(p, "too many b= lines");
	b->type = pl_sdp_strdup(s);
	b->value = v;
	return 0;
}

static int line_time(struct pl_sdp_parser *p, char *s)
{
	char *start = pl_sdp_next_field(&s), *stop = pl_sdp_next_field(&s);
	struct pl_sdp_time t, *slot;

	if (s || !pl_sdp_parse_u64(start, UINT64_MAX, &t.start) ||
	    !pl_sdp_parse_u64(stop, UINT64_MAX, &t.stop))
		return PL_SDP_BAD(p, "bad t= line");
	slot = PL_SDP_PUSH(p->sdp->times, p->sdp->time_count, PL_SDP_MAX_TIMES);
	if (!slot)
		return PL_SDP_BIG(p, "too many t= lines");
	*slot = t;
	return 0;
}

static int line_keep(struct pl_sdp_parser *p, struct pl_sdp_line **list, size_t *n, char type,
		     const char *s)
{
	struct pl_sdp_line *l;

	if (!*s)
		return PL_SDP_BAD(p, "empty line value");
	l = PL_SDP_PUSH(*list, *n, PL_SDP_MAX_LINES);
	if (!l)
		return PL_SDP_BIG(p, "too many lines of one type");
	l->type = type;
	l->value = pl_sdp_strdup(s);
	return 0;
}

/* ---- m= ------------------------------------------------------------------- */

static int media_end(struct pl_sdp_parser *p);

static int line_media(struct pl_sdp_parser *p, char *s)
{
	char *media = pl_sdp_next_field(&s), *port = pl_sdp_next_field(&s);
	char *proto = pl_sdp_next_field(&s), *fmt;
	char *slash;
	uint64_t v, count = 0;
	struct pl_sdp_media *m;
	int rc;

	if (p->m && (rc = media_end(p)))
		return rc;
	if (p->sdp->time_count == 0)
		return PL_SDP_BAD(p, "missing t= line");
	if (!pl_sdp_is_token(media) || !port || !proto || !*proto || !s) /* "m=video 9  96": no proto */
		return PL_SDP_BAD(p, "bad m= line");
	if ((slash = strchr(port, '/'))) {
		*slash = '\0';
		if (!pl_sdp_parse_u64(slash + 1, 65535, &count) || count == 0)
			return PL_SDP_BAD(p, "bad m= port");
	}
	if (!pl_sdp_parse_u64(port, 65535, &v))
		return PL_SDP_BAD(p, "bad m= port");
	for (const char *c = proto; *c; c++)
		if (!pl_sdp_is_token_char((unsigned char)*c) && *c != '/')
			return PL_SDP_BAD(p, "bad m= proto");
	m = pl_sdp_media_add(p->sdp, media, (uint16_t)v, proto);
	if (!m)
		return PL_SDP_BIG(p, "too many m= lines");
	m->port_count = (uint16_t)count;
	p->m = m, p->rank = 0, p->simulcast_line = 0;
	while ((fmt = pl_sdp_next_field(&s))) {
		if (!pl_sdp_is_token(fmt))
			return PL_SDP_BAD(p, "bad m= format");
		if (pl_sdp_is_rtp_proto(m->proto) &&
		    (!pl_sdp_parse_u64(fmt, 127, &v) || pl_sdp_listed_pt(m, fmt) >= 0))
			return PL_SDP_BAD(p, "bad or duplicate payload type in m= line");
		if (pl_sdp_fmt_add(m, fmt))
			return PL_SDP_BIG(p, "too many formats in m= line");
	}
	return 0;
}

/* Checks what needs the whole section: simulcast names declared rids. */
static int media_end(struct pl_sdp_parser *p)
{
	const struct pl_sdp_media *m = p->m;
	const struct pl_sdp_simulcast *sc = &m->simulcast;

	for (size_t i = 0; i < sc->send_count + sc->recv_count; i++) {
		bool send = i < sc->send_count;
		const char *rid = send ? sc->send[i].rid : sc->recv[i - sc->send_count].rid;
		bool found = false;

		for (size_t k = 0; k < m->rid_count && !found; k++)
			found = strcmp(m->rids[k].id, rid) == 0 &&
				m->rids[k].dir == (send ? PL_SDP_RID_SEND : PL_SDP_RID_RECV);
		if (!found) {
			p->line = p->simulcast_line;
			return PL_SDP_BAD(p, "simulcast names an undeclared rid");
		}
		/* "send l;m;l": a rid names one stream (RFC 8853 5.1); an answer
		 * mirroring it would declare the rid twice (tests/fuzz/fuzz_sdp). */
		for (size_t k = send ? 0 : sc->send_count; k < i; k++)
			if (strcmp(k < sc->send_count ? sc->send[k].rid : sc->recv[k - sc->send_count].rid,
				   rid) == 0) {
				p->line = p->simulcast_line;
				return PL_SDP_BAD(p, "simulcast names a rid twice");
			}
	}
	return 0;
}

/* ---- Ordering ------------------------------------------------------------- */

/* Grammar position of a line type at session level (after v o s) or in a
 * media section; -1 when the type does not belong there. */
static int line_rank(char type, bool media)
{
	static const char session[] = "iuepcbtzka", in_media[] = "icbka";
	const char *order = media ? in_media : session, *at;

	if (!media && type == 'r')
		type = 't';                     /* r= lines go with t= lines */
	at = strchr(order, type);
	return at && type ? (int)(at - order) + 1 : -1;
}

static bool is_repeatable(char type, bool media)
{
	return strchr(media ? "ba" : "epbtra", type) != NULL;
}

static int session_line(struct pl_sdp_parser *p, char type, char *val)
{
	struct pl_sdp *sdp = p->sdp;

	switch (type) {
	case 'c':
		return line_conn(p, &sdp->conn, val);
	case 'b':
		return line_bandwidth(p, &sdp->bandwidths, &sdp->bandwidth_count, val);
	case 't':
		return line_time(p, val);
	case 'r':
		if (sdp->time_count == 0)
			return PL_SDP_BAD(p, "r= line before t=");
		return line_keep(p, &sdp->lines, &sdp->line_count, type, val);
	case 'a':
		return pl_sdp_attr_line(p, val);
	default:
		return line_keep(p, &sdp->lines, &sdp->line_count, type, val);
	}
}

static int media_line(struct pl_sdp_parser *p, char type, char *val)
{
	struct pl_sdp_media *m = p->m;

	switch (type) {
	case 'c':
		return line_conn(p, &m->conn, val);
	case 'b':
		return line_bandwidth(p, &m->bandwidths, &m->bandwidth_count, val);
	case 'a':
		return pl_sdp_attr_line(p, val);
	default:
		return line_keep(p, &m->lines, &m->line_count, type, val);
	}
}

static int parse_line(struct pl_sdp_parser *p, char type, char *val)
{
	static const char head[] = "vos";
	int rank;

	if (p->line <= 3) {
		if (type != head[p->line - 1])
			return PL_SDP_BAD(p, p->line == 1 ? "first line must be v=0"
					       : "v=, o=, s= must open the description");
		if (p->line == 1)
			return strcmp(val, "0") == 0 ? 0 : PL_SDP_BAD(p, "unsupported SDP version");
		if (p->line == 2)
			return line_origin(p, val);
		if (!*val)
			return PL_SDP_BAD(p, "empty s= line");
		pl_sdp_str_set(&p->sdp->name, val);
		return 0;
	}
	if (type == 'm')
		return line_media(p, val);
	if (type == 'v' || type == 'o' || type == 's')
		return PL_SDP_BAD(p, "repeated v=, o= or s= line");
	rank = line_rank(type, p->m != NULL);
	if (rank < 0)
		return PL_SDP_BAD(p, p->m && strchr("uepzrt", type) ? "line not allowed in a media section"
							      : "unknown line type");
	if (rank < p->rank)
		return PL_SDP_BAD(p, "line out of order");
	if (rank == p->rank && !is_repeatable(type, p->m != NULL))
		return PL_SDP_BAD(p, "duplicate line");
	p->rank = rank;
	return p->m ? media_line(p, type, val) : session_line(p, type, val);
}

/* ---- Driver ------------------------------------------------------------- */

/* Checks one raw line (no CR/LF) for bytes SDP text may not hold. */
static int check_bytes(struct pl_sdp_parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return PL_SDP_BAD(p, "control character in line");
	}
	if (!pl_utf8_is_valid(s, n))
		return PL_SDP_BAD(p, "line is not valid UTF-8");
	return 0;
}

/* Final checks: a t= line exists, groups name existing mids. */
static int finish(struct pl_sdp_parser *p)
{
	const struct pl_sdp *sdp = p->sdp;
	int rc;

	if (p->line < 3)
		return p->line = 0, PL_SDP_BAD(p, "missing v=, o= or s= line");
	if (p->m && (rc = media_end(p)))
		return rc;
	if (sdp->time_count == 0)
		return p->line = 0, PL_SDP_BAD(p, "missing t= line");
	for (size_t g = 0; g < sdp->group_count; g++)
		for (size_t i = 0; i < sdp->groups[g].mid_count; i++)
			if (!pl_sdp_media_by_mid(sdp, sdp->groups[g].mids[i])) {
				p->line = p->group_line[g];
				return PL_SDP_BAD(p, "group names an unknown mid");
			}
	return 0;
}

static int parse_all(struct pl_sdp_parser *p, const char *text, size_t len)
{
	char buf[PL_SDP_MAX_LINE_BYTES + 1];
	size_t off = 0;
	int rc;

	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		p->line++;
		off += n + (nl ? 1 : 0);
		if (n && s[n - 1] == '\r')
			n--;
		if (n > PL_SDP_MAX_LINE_BYTES)
			return PL_SDP_BIG(p, "line longer than 4 KiB");
		if ((rc = check_bytes(p, s, n)))
			return rc;
		if (n < 2 || s[0] < 'a' || s[0] > 'z' || s[1] != '=')
			return PL_SDP_BAD(p, n ? "not a <type>=<value> line" : "empty line");
		memcpy(buf, s + 2, n - 2);
		buf[n - 2] = '\0';
		if ((rc = parse_line(p, s[0], buf)))
			return rc;
	}
	return finish(p);
}

int pl_sdp_parse(const char *text, size_t len, struct pl_sdp **out, struct pl_sdp_error *err)
{
	struct pl_sdp_parser p;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	if (!text) {
		rc = PL_EINVAL, p.reason = "no SDP text";
		goto done;
	}
	if (len > PL_SDP_MAX_BYTES) {
		rc = PL_ETOOBIG, p.reason = "SDP larger than 64 KiB";
		goto done;
	}
	p.sdp = pl_sdp_create();
	p.sdp->time_count = 0;                          /* the parse supplies t= */
	rc = parse_all(&p, text, len);
	if (rc) {
		pl_sdp_destroy(p.sdp);
		goto done;
	}
	*out = p.sdp;
	p.line = 0, p.reason = NULL;
done:
	if (err)
		err->line = p.line, err->reason = p.reason;
	return rc;
}
