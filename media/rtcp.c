/* media/rtcp.c: compound RTCP in and out.
 *
 * A compound datagram is a row of packets, each announcing its own length
 * in 32-bit words; the iterator checks every header against the bytes that
 * are really there before a type parser looks inside.  The type parsers
 * then check their own counts against the packet's length, so a lie in
 * either place ends in PL_ETRUNC or PL_EPROTO, never in a read past the
 * buffer.  Padding (the P bit) is only legal on the last packet of a
 * compound and is stripped by the iterator.
 *
 * Transport-wide congestion control feedback is the one involved format:
 * a header, then "packet chunks" that describe the arrival status of
 * status_count consecutive sequence numbers (a run-length chunk says "N
 * packets with status S", a status vector lists 14 one-bit or 7 two-bit
 * statuses), then one receive delta per received packet, one byte when the
 * status was "small delta", two signed bytes when "large".
 *
 * Writers produce one packet each and never set the P bit, so their
 * outputs can be concatenated into a compound in any order.
 *
 * No state, no allocation, no logging: any thread may call these.
 */
#include "media/rtcp.h"

#include <string.h>

#include "common/err.h"

void pl_rtcp_iter_init(struct pl_rtcp_iter *it, const uint8_t *buf, size_t len)
{
	it->buf = buf, it->len = len, it->off = 0, it->failed = false;
}

static int iter_fail(struct pl_rtcp_iter *it, int rc)
{
	it->failed = true;
	return rc;
}

int pl_rtcp_iter_next(struct pl_rtcp_iter *it, struct pl_rtcp_pkt *p)
{
	const uint8_t *b = it->buf + it->off;
	size_t rem = it->len - it->off, plen, body;

	if (it->failed || it->off >= it->len)
		return PL_ENOENT;
	if (rem < 4)
		return iter_fail(it, PL_ETRUNC);
	if ((b[0] >> 6) != 2 || b[1] < 192 || b[1] > 223)
		return iter_fail(it, PL_EPROTO);
	plen = 4u * ((size_t)pl_rd16(b + 2) + 1);
	if (plen > rem)
		return iter_fail(it, PL_ETRUNC);
	body = plen - 4;
	if (b[0] & 0x20) {                              /* padding */
		if (plen != rem || b[plen - 1] == 0 || b[plen - 1] > body)
			return iter_fail(it, PL_EPROTO);
		body -= b[plen - 1];
	}
	p->pt = b[1], p->count = b[0] & 0x1f;
	p->data = b, p->len = plen;
	p->body = b + 4, p->body_len = body;
	it->off += plen;
	return 0;
}

int pl_rtcp_compound_check(const uint8_t *buf, size_t len)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	int rc;

	if (len == 0)
		return PL_ETRUNC;
	pl_rtcp_iter_init(&it, buf, len);
	while ((rc = pl_rtcp_iter_next(&it, &p)) == 0)
		;
	return rc == PL_ENOENT ? 0 : rc;
}

/* Writes the common header of a packet of body_len bytes (a multiple of 4). */
static int put_header(uint8_t *buf, size_t cap, uint8_t count, uint8_t pt, size_t body_len,
		      size_t *out_len)
{
	size_t words = body_len / 4;

	if (body_len % 4 || words > 0xffff || count > 31)
		return PL_EINVAL;
	if (cap < 4 || body_len > cap - 4)
		return PL_ETOOBIG;
	buf[0] = (uint8_t)(0x80 | count);
	buf[1] = pt;
	pl_wr16(buf + 2, (uint16_t)words);
	*out_len = 4 + body_len;
	return 0;
}

/* ---- SR and RR ---------------------------------------------------------- */

static int32_t sign24(uint32_t v)
{
	return (v & 0x800000u) ? (int32_t)v - 0x1000000 : (int32_t)v;
}

static void report_read(const uint8_t *b, struct pl_rtcp_report *r)
{
	r->ssrc = pl_rd32(b);
	r->fraction_lost = b[4];
	r->cumulative_lost = sign24(pl_rd24(b + 5));
	r->ext_highest_seq = pl_rd32(b + 8);
	r->jitter = pl_rd32(b + 12);
	r->lsr = pl_rd32(b + 16);
	r->dlsr = pl_rd32(b + 20);
}

static void report_write(uint8_t *b, const struct pl_rtcp_report *r)
{
	int32_t lost = r->cumulative_lost;

	/* Clamp to what 24 signed bits hold, as RFC 3550 A.3 suggests. */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	pl_wr32(b, r->ssrc);
	b[4] = r->fraction_lost;
	pl_wr24(b + 5, (uint32_t)lost & 0xffffffu);
	pl_wr32(b + 8, r->ext_highest_seq);
	pl_wr32(b + 12, r->jitter);
	pl_wr32(b + 16, r->lsr);
	pl_wr32(b + 20, r->dlsr);
}

int pl_rtcp_sr_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_sr *sr)
{
	const uint8_t *b = p->body;

	if (p->pt != PL_RTCP_SR)
		return PL_EPROTO;
	if (p->body_len < 24 + 24u * p->count)
		return PL_ETRUNC;
	sr->ssrc = pl_rd32(b);
	sr->ntp = (uint64_t)pl_rd32(b + 4) << 32 | pl_rd32(b + 8);
	sr->rtp_ts = pl_rd32(b + 12);
	sr->packet_count = pl_rd32(b + 16);
	sr->octet_count = pl_rd32(b + 20);
	sr->report_count = p->count;
	for (unsigned i = 0; i < p->count; i++)
		report_read(b + 24 + 24 * i, &sr->reports[i]);
	return 0;
}

int pl_rtcp_rr_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_rr *rr)
{
	if (p->pt != PL_RTCP_RR)
		return PL_EPROTO;
	if (p->body_len < 4 + 24u * p->count)
		return PL_ETRUNC;
	rr->ssrc = pl_rd32(p->body);
	rr->report_count = p->count;
	for (unsigned i = 0; i < p->count; i++)
		report_read(p->body + 4 + 24 * i, &rr->reports[i]);
	return 0;
}

int pl_rtcp_sr_write(const struct pl_rtcp_sr *sr, uint8_t *buf, size_t cap, size_t *out_len)
{
	uint8_t *b = buf + 4;
	int rc;

	if (sr->report_count > PL_RTCP_MAX_REPORTS)
		return PL_EINVAL;
	rc = put_header(buf, cap, sr->report_count, PL_RTCP_SR, 24 + 24u * sr->report_count, out_len);
	if (rc)
		return rc;
	pl_wr32(b, sr->ssrc);
	pl_wr32(b + 4, (uint32_t)(sr->ntp >> 32));
	pl_wr32(b + 8, (uint32_t)sr->ntp);
	pl_wr32(b + 12, sr->rtp_ts);
	pl_wr32(b + 16, sr->packet_count);
	pl_wr32(b + 20, sr->octet_count);
	for (unsigned i = 0; i < sr->report_count; i++)
		report_write(b + 24 + 24 * i, &sr->reports[i]);
	return 0;
}

int pl_rtcp_rr_write(const struct pl_rtcp_rr *rr, uint8_t *buf, size_t cap, size_t *out_len)
{
	int rc;

	if (rr->report_count > PL_RTCP_MAX_REPORTS)
		return PL_EINVAL;
	rc = put_header(buf, cap, rr->report_count, PL_RTCP_RR, 4 + 24u * rr->report_count, out_len);
	if (rc)
		return rc;
	pl_wr32(buf + 4, rr->ssrc);
	for (unsigned i = 0; i < rr->report_count; i++)
		report_write(buf + 8 + 24 * i, &rr->reports[i]);
	return 0;
}

/* ---- SDES --------------------------------------------------------------- */

/* Parses the chunk at body[*off]: SSRC, items, the terminating null octet
 * and the padding to the next word. */
static int sdes_chunk(const uint8_t *b, size_t len, size_t *off, struct pl_rtcp_sdes_chunk *c)
{
	size_t o = *off;

	if (len - o < 4)
		return PL_ETRUNC;
	c->ssrc = pl_rd32(b + o);
	c->cname = NULL, c->cname_len = 0;
	o += 4;
	for (;;) {
		if (o >= len)
			return PL_ETRUNC;
		if (b[o] == 0)                          /* END item */
			break;
		if (len - o < 2 || len - o - 2 < b[o + 1])
			return PL_ETRUNC;
		if (b[o] == 1 && !c->cname) {           /* CNAME */
			c->cname = (const char *)b + o + 2;
			c->cname_len = b[o + 1];
		}
		o += 2u + b[o + 1];
	}
	o = (o + 4) & ~(size_t)3;                       /* null octet(s) to the word */
	if (o > len)
		return PL_ETRUNC;
	*off = o;
	return 0;
}

int pl_rtcp_sdes_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_sdes *sdes)
{
	size_t off = 0;
	int rc;

	if (p->pt != PL_RTCP_SDES)
		return PL_EPROTO;
	sdes->chunk_count = 0;
	for (unsigned i = 0; i < p->count; i++) {
		rc = sdes_chunk(p->body, p->body_len, &off, &sdes->chunks[i]);
		if (rc)
			return rc;
		sdes->chunk_count++;
	}
	return 0;
}

int pl_rtcp_sdes_write(const struct pl_rtcp_sdes *sdes, uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t body = 0, off = 4;
	int rc;

	if (sdes->chunk_count > PL_RTCP_MAX_CHUNKS)
		return PL_EINVAL;
	for (unsigned i = 0; i < sdes->chunk_count; i++) {
		if (!sdes->chunks[i].cname || sdes->chunks[i].cname_len == 0)
			return PL_EINVAL;
		body += (4 + 2 + sdes->chunks[i].cname_len + 1 + 3) & ~(size_t)3;
	}
	rc = put_header(buf, cap, sdes->chunk_count, PL_RTCP_SDES, body, out_len);
	if (rc)
		return rc;
	memset(buf + 4, 0, body);
	for (unsigned i = 0; i < sdes->chunk_count; i++) {
		const struct pl_rtcp_sdes_chunk *c = &sdes->chunks[i];

		pl_wr32(buf + off, c->ssrc);
		buf[off + 4] = 1;
		buf[off + 5] = c->cname_len;
		memcpy(buf + off + 6, c->cname, c->cname_len);
		off += (4 + 2 + c->cname_len + 1 + 3) & ~(size_t)3;
	}
	return 0;
}

/* ---- BYE ---------------------------------------------------------------- */

int pl_rtcp_bye_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_bye *bye)
{
	size_t off = 4u * p->count;

	if (p->pt != PL_RTCP_BYE)
		return PL_EPROTO;
	if (p->body_len < off)
		return PL_ETRUNC;
	bye->ssrc_count = p->count;
	for (unsigned i = 0; i < p->count; i++)
		bye->ssrcs[i] = pl_rd32(p->body + 4 * i);
	bye->reason = NULL, bye->reason_len = 0;
	if (p->body_len > off) {
		if (p->body_len - off - 1 < p->body[off])
			return PL_ETRUNC;
		bye->reason = (const char *)p->body + off + 1;
		bye->reason_len = p->body[off];
	}
	return 0;
}

int pl_rtcp_bye_write(const struct pl_rtcp_bye *bye, uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t body = 4u * bye->ssrc_count, text = 0;
	int rc;

	if (bye->ssrc_count > PL_RTCP_MAX_CHUNKS || (bye->reason_len && !bye->reason))
		return PL_EINVAL;
	if (bye->reason)
		text = (1u + bye->reason_len + 3) & ~(size_t)3;
	rc = put_header(buf, cap, bye->ssrc_count, PL_RTCP_BYE, body + text, out_len);
	if (rc)
		return rc;
	for (unsigned i = 0; i < bye->ssrc_count; i++)
		pl_wr32(buf + 4 + 4 * i, bye->ssrcs[i]);
	if (text) {
		memset(buf + 4 + body, 0, text);
		buf[4 + body] = bye->reason_len;
		memcpy(buf + 5 + body, bye->reason, bye->reason_len);
	}
	return 0;
}

/* ---- Feedback messages (RFC 4585 section 6.1) --------------------------- */

/* Checks type and format and the two SSRCs every feedback message has. */
static int fb_check(const struct pl_rtcp_pkt *p, uint8_t pt, uint8_t fmt)
{
	if (p->pt != pt || p->count != fmt)
		return PL_EPROTO;
	if (p->body_len < 8)
		return PL_ETRUNC;
	return 0;
}

static int fb_header(uint8_t *buf, size_t cap, uint8_t pt, uint8_t fmt, uint32_t sender,
		     uint32_t media, size_t fci_len, size_t *out_len)
{
	int rc = put_header(buf, cap, fmt, pt, 8 + fci_len, out_len);

	if (rc)
		return rc;
	pl_wr32(buf + 4, sender);
	pl_wr32(buf + 8, media);
	return 0;
}

int pl_rtcp_nack_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_nack *nack)
{
	int rc = fb_check(p, PL_RTCP_RTPFB, PL_RTCP_FMT_NACK);

	if (rc)
		return rc;
	if (p->body_len == 8 || (p->body_len - 8) % 4)
		return PL_EPROTO;                       /* at least one whole item */
	nack->sender_ssrc = pl_rd32(p->body);
	nack->media_ssrc = pl_rd32(p->body + 4);
	nack->item_count = (p->body_len - 8) / 4;
	nack->items = p->body + 8;
	return 0;
}

int pl_rtcp_nack_seqs(const struct pl_rtcp_nack *nack, uint16_t *seqs, size_t cap, size_t *count)
{
	size_t n = 0;

	for (size_t i = 0; i < nack->item_count; i++) {
		uint16_t pid = pl_rd16(nack->items + 4 * i);
		uint16_t blp = pl_rd16(nack->items + 4 * i + 2);

		if (n == cap)
			return PL_ETOOBIG;
		seqs[n++] = pid;
		for (unsigned bit = 0; bit < 16; bit++) {
			if (!(blp & (1u << bit)))
				continue;
			if (n == cap)
				return PL_ETOOBIG;
			seqs[n++] = (uint16_t)(pid + bit + 1);
		}
	}
	*count = n;
	return 0;
}

int pl_rtcp_nack_write(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs, size_t n,
		       uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t off = 12;
	uint16_t pid = 0, blp = 0;

	if (n == 0 || !seqs)
		return PL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(seqs[i] - pid);

		if (off > 12 && d == 0)
			continue;                       /* a repeat */
		if (off > 12 && d <= 16) {
			blp |= (uint16_t)(1u << (d - 1));
			pl_wr16(buf + off - 2, blp);
			continue;
		}
		if (cap < off + 4)
			return PL_ETOOBIG;
		pid = seqs[i], blp = 0;
		pl_wr16(buf + off, pid);
		pl_wr16(buf + off + 2, 0);
		off += 4;
	}
	return fb_header(buf, cap, PL_RTCP_RTPFB, PL_RTCP_FMT_NACK, sender_ssrc, media_ssrc,
			 off - 12, out_len);
}

int pl_rtcp_pli_parse(const struct pl_rtcp_pkt *p, uint32_t *sender_ssrc, uint32_t *media_ssrc)
{
	int rc = fb_check(p, PL_RTCP_PSFB, PL_RTCP_FMT_PLI);

	if (rc)
		return rc;
	*sender_ssrc = pl_rd32(p->body);
	*media_ssrc = pl_rd32(p->body + 4);
	return 0;
}

int pl_rtcp_pli_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *buf, size_t cap,
		      size_t *out_len)
{
	return fb_header(buf, cap, PL_RTCP_PSFB, PL_RTCP_FMT_PLI, sender_ssrc, media_ssrc, 0, out_len);
}

int pl_rtcp_fir_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_fir *fir)
{
	int rc = fb_check(p, PL_RTCP_PSFB, PL_RTCP_FMT_FIR);

	if (rc)
		return rc;
	if (p->body_len == 8 || (p->body_len - 8) % 8)
		return PL_EPROTO;                       /* at least one whole entry */
	fir->sender_ssrc = pl_rd32(p->body);
	fir->entry_count = (p->body_len - 8) / 8;
	fir->entries = p->body + 8;
	return 0;
}

struct pl_rtcp_fir_entry pl_rtcp_fir_entry(const struct pl_rtcp_fir *fir, size_t i)
{
	struct pl_rtcp_fir_entry e = { 0, 0 };

	if (i < fir->entry_count) {
		e.ssrc = pl_rd32(fir->entries + 8 * i);
		e.seq = fir->entries[8 * i + 4];
	}
	return e;
}

int pl_rtcp_fir_write(uint32_t sender_ssrc, const struct pl_rtcp_fir_entry *entries, size_t n,
		      uint8_t *buf, size_t cap, size_t *out_len)
{
	int rc;

	if (n == 0 || !entries || n > 0x7fff)
		return PL_EINVAL;
	/* RFC 5104 section 4.3.1.2: the media source SSRC field is unused, 0. */
	rc = fb_header(buf, cap, PL_RTCP_PSFB, PL_RTCP_FMT_FIR, sender_ssrc, 0, 8 * n, out_len);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		pl_wr32(buf + 12 + 8 * i, entries[i].ssrc);
		pl_wr32(buf + 16 + 8 * i, (uint32_t)entries[i].seq << 24);
	}
	return 0;
}

/* ---- REMB --------------------------------------------------------------- */

int pl_rtcp_remb_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_remb *remb)
{
	const uint8_t *f = p->body + 8;
	size_t fci_len;
	unsigned exp;
	uint64_t mantissa;
	int rc = fb_check(p, PL_RTCP_PSFB, PL_RTCP_FMT_AFB);

	if (rc)
		return rc;
	fci_len = p->body_len - 8;
	if (fci_len < 4)
		return PL_ETRUNC;
	if (memcmp(f, "REMB", 4) != 0)
		return PL_EPROTO;                       /* another AFB message */
	if (fci_len < 8 || fci_len - 8 < 4u * f[4])
		return PL_ETRUNC;
	exp = f[5] >> 2;
	mantissa = pl_rd24(f + 5) & 0x3ffffu;
	if (mantissa && exp > 63 - 17 && (mantissa >> (64 - exp)) != 0)
		return PL_EPROTO;                       /* does not fit 64 bits */
	remb->sender_ssrc = pl_rd32(p->body);
	remb->bitrate_bps = mantissa << exp;
	remb->ssrc_count = f[4];
	for (unsigned i = 0; i < f[4]; i++)
		remb->ssrcs[i] = pl_rd32(f + 8 + 4 * i);
	return 0;
}

int pl_rtcp_remb_write(const struct pl_rtcp_remb *remb, uint8_t *buf, size_t cap, size_t *out_len)
{
	unsigned exp = 0;
	int rc;

	while ((remb->bitrate_bps >> exp) > 0x3ffffu)
		exp++;
	/* The media source SSRC of a REMB is 0; the SSRCs it applies to follow. */
	rc = fb_header(buf, cap, PL_RTCP_PSFB, PL_RTCP_FMT_AFB, remb->sender_ssrc, 0,
		       8 + 4u * remb->ssrc_count, out_len);
	if (rc)
		return rc;
	memcpy(buf + 12, "REMB", 4);
	buf[16] = remb->ssrc_count;
	pl_wr24(buf + 17, (uint32_t)exp << 18 | (uint32_t)(remb->bitrate_bps >> exp));
	for (unsigned i = 0; i < remb->ssrc_count; i++)
		pl_wr32(buf + 20 + 4 * i, remb->ssrcs[i]);
	return 0;
}

/* ---- Transport-wide congestion control feedback ------------------------- */

enum { TCC_NOT_RECEIVED = 0, TCC_SMALL = 1, TCC_LARGE = 2, TCC_RESERVED = 3 };

/* Records `run` packets of status `sym` starting at st[*n]; a vector's
 * symbols past status_count are padding and are dropped. */
static int tcc_put(struct pl_rtcp_tcc_status *st, size_t *n, size_t total, unsigned sym,
		   bool vector)
{
	if (sym == TCC_RESERVED)
		return PL_EPROTO;
	if (*n == total)
		return vector ? 0 : PL_EPROTO;
	st[*n].received = sym != TCC_NOT_RECEIVED;
	st[*n].delta_us = (int32_t)sym;                 /* the symbol, until deltas */
	(*n)++;
	return 0;
}

/* Reads packet chunks at b[*off] until status_count packets are described. */
static int tcc_chunks(const uint8_t *b, size_t len, size_t *off, struct pl_rtcp_tcc_status *st,
		      size_t total)
{
	size_t n = 0;
	int rc = 0;

	while (n < total) {
		uint16_t c;

		if (len - *off < 2)
			return PL_ETRUNC;
		c = pl_rd16(b + *off);
		*off += 2;
		if (!(c & 0x8000)) {                    /* run length */
			unsigned run = c & 0x1fff;

			if (run == 0)
				return PL_EPROTO;
			for (unsigned i = 0; i < run && rc == 0; i++)
				rc = tcc_put(st, &n, total, (c >> 13) & 3, false);
		} else if (!(c & 0x4000)) {             /* 14 one-bit symbols */
			for (int i = 13; i >= 0 && rc == 0; i--)
				rc = tcc_put(st, &n, total, (c >> i) & 1, true);
		} else {                                /* 7 two-bit symbols */
			for (int i = 12; i >= 0 && rc == 0; i -= 2)
				rc = tcc_put(st, &n, total, (c >> i) & 3, true);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int tcc_deltas(const uint8_t *b, size_t len, size_t off, struct pl_rtcp_tcc_status *st,
		      size_t total)
{
	for (size_t i = 0; i < total; i++) {
		int32_t sym = st[i].delta_us;

		if (sym == TCC_SMALL) {
			if (len - off < 1)
				return PL_ETRUNC;
			st[i].delta_us = 250 * (int32_t)b[off];
			off += 1;
		} else if (sym == TCC_LARGE) {
			if (len - off < 2)
				return PL_ETRUNC;
			st[i].delta_us = 250 * (int32_t)(int16_t)pl_rd16(b + off);
			off += 2;
		} else {
			st[i].delta_us = 0;
		}
	}
	return 0;
}

int pl_rtcp_tcc_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_tcc *tcc,
		      struct pl_rtcp_tcc_status *st, size_t cap)
{
	const uint8_t *b = p->body;
	size_t off = 16;
	int rc = fb_check(p, PL_RTCP_RTPFB, PL_RTCP_FMT_TCC);

	if (rc)
		return rc;
	if (p->body_len < 16)
		return PL_ETRUNC;
	tcc->sender_ssrc = pl_rd32(b);
	tcc->media_ssrc = pl_rd32(b + 4);
	tcc->base_seq = pl_rd16(b + 8);
	tcc->status_count = pl_rd16(b + 10);
	tcc->ref_time_64ms = sign24(pl_rd24(b + 12));
	tcc->fb_count = b[15];
	if (tcc->status_count == 0)
		return PL_EPROTO;
	if (!st)
		return 0;
	if (cap < tcc->status_count)
		return PL_ETOOBIG;
	for (size_t i = 0; i < tcc->status_count; i++)
		st[i].seq = (uint16_t)(tcc->base_seq + i);
	rc = tcc_chunks(b, p->body_len, &off, st, tcc->status_count);
	if (rc)
		return rc;
	return tcc_deltas(b, p->body_len, off, st, tcc->status_count);
}

/* The status symbol of a packet, or -1 when its delta cannot be encoded. */
static int tcc_symbol(const struct pl_rtcp_tcc_status *s)
{
	int32_t ticks;

	if (!s->received)
		return TCC_NOT_RECEIVED;
	if (s->delta_us % 250)
		return -1;
	ticks = s->delta_us / 250;
	if (ticks >= 0 && ticks <= 255)
		return TCC_SMALL;
	if (ticks >= -32768 && ticks <= 32767)
		return TCC_LARGE;
	return -1;
}

/* Encodes one chunk starting at packet i of n (whose symbols are valid);
 * returns how many packets it describes. */
static size_t tcc_chunk(const struct pl_rtcp_tcc_status *st, size_t i, size_t n, uint16_t *chunk)
{
	size_t run = 1, vec = n - i < 14 ? n - i : 14, small = 0;
	int first = tcc_symbol(&st[i]);
	uint16_t c;

	while (i + run < n && run < 0x1fff && tcc_symbol(&st[i + run]) == first)
		run++;
	while (small < vec && tcc_symbol(&st[i + small]) <= TCC_SMALL)
		small++;
	/* A run chunk when the run is at least as long as the vector that
	 * could replace it, or when it ends the list. */
	if (run >= 14 || run == n - i || (small < vec && run >= 7)) {
		*chunk = (uint16_t)(first << 13 | (int)run);
		return run;
	}
	c = 0x8000;
	if (small == vec) {                             /* 14 one-bit symbols */
		for (size_t k = 0; k < vec; k++)
			c |= (uint16_t)(tcc_symbol(&st[i + k]) << (13 - k));
		*chunk = c;
		return vec;
	}
	vec = n - i < 7 ? n - i : 7;                    /* 7 two-bit symbols */
	c |= 0x4000;
	for (size_t k = 0; k < vec; k++)
		c |= (uint16_t)(tcc_symbol(&st[i + k]) << (12 - 2 * k));
	*chunk = c;
	return vec;
}

int pl_rtcp_tcc_write(const struct pl_rtcp_tcc *h, const struct pl_rtcp_tcc_status *st, size_t n,
		      uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t off = 20, i;
	uint16_t chunk;
	int sym;

	if (n == 0 || n > 0xffff || !st || h->ref_time_64ms < -0x800000 ||
	    h->ref_time_64ms > 0x7fffff)
		return PL_EINVAL;
	for (i = 0; i < n; i++)
		if (st[i].seq != (uint16_t)(st[0].seq + i) || tcc_symbol(&st[i]) < 0)
			return PL_EINVAL;
	if (cap < off)
		return PL_ETOOBIG;
	for (i = 0; i < n;) {
		i += tcc_chunk(st, i, n, &chunk);
		if (cap < off + 2)
			return PL_ETOOBIG;
		pl_wr16(buf + off, chunk);
		off += 2;
	}
	for (i = 0; i < n; i++) {
		sym = tcc_symbol(&st[i]);
		if (sym == TCC_NOT_RECEIVED)
			continue;
		if (cap < off + (size_t)sym)
			return PL_ETOOBIG;
		if (sym == TCC_SMALL)
			buf[off] = (uint8_t)(st[i].delta_us / 250);
		else
			pl_wr16(buf + off, (uint16_t)(int16_t)(st[i].delta_us / 250));
		off += (size_t)sym;
	}
	/* Zero padding to the word, inside the body: no P bit, so the packet
	 * can sit anywhere in a compound. */
	for (; off % 4; off++) {
		if (cap < off + 1)
			return PL_ETOOBIG;
		buf[off] = 0;
	}
	pl_wr16(buf + 12, st[0].seq);
	pl_wr16(buf + 14, (uint16_t)n);
	pl_wr24(buf + 16, (uint32_t)h->ref_time_64ms & 0xffffffu);
	buf[19] = h->fb_count;
	return fb_header(buf, cap, PL_RTCP_RTPFB, PL_RTCP_FMT_TCC, h->sender_ssrc, h->media_ssrc,
			 off - 12, out_len);
}
