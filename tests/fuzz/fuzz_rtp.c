/* tests/fuzz/fuzz_rtp.c: RTP packets (media/rtp.h) and RTX (media/nack.h).
 *
 * One input is one datagram as it leaves SRTP unprotect.  For a packet
 * that parses: the view must stay inside the buffer and account for every
 * byte; header extension elements must lie inside the extension block;
 * writing the parsed fields back (pl_rtp_write) must parse to the same
 * fields and elements; and wrapping it as RTX and unwrapping it again
 * (pl_rtx_stream_write, pl_rtx_unwrap, as the retransmission path does)
 * must give back the original sequence number and payload.  Anything
 * else must be refused with PL_ETRUNC or PL_EPROTO.
 */
#include "fuzz.h"

#include "common/err.h"
#include "media/nack.h"
#include "media/rtp.h"

#include <stdbool.h>
#include <string.h>

#define BUF_CAP 70000 /* any datagram plus an extension written back */

struct elems {
	size_t n;
	bool complete;  /* iteration ended with PL_ENOENT */
	struct pl_rtp_ext_elem e[PL_RTP_EXT_MAX_ELEMS + 1];
};

static void collect_elems(const struct pl_rtp_view *v, struct elems *out)
{
	struct pl_rtp_ext_iter it;
	struct pl_rtp_ext_elem e;
	size_t steps = 0;
	int rc;

	out->n = 0;
	out->complete = false;
	rc = pl_rtp_ext_iter_init(&it, v);
	if (rc == PL_ENOENT) {
		FUZZ_CHECK(v->ext_profile == 0 && v->ext == NULL);
		out->complete = true;
		return;
	}
	if (rc != 0) {
		FUZZ_CHECK(rc == PL_EUNSUP);
		FUZZ_CHECK(pl_rtp_ext_next(&it, &e) == PL_ENOENT);
		return;
	}
	while ((rc = pl_rtp_ext_next(&it, &e)) == 0) {
		FUZZ_CHECK(++steps <= v->ext_len);
		FUZZ_CHECK(e.id != 0);
		FUZZ_CHECK(e.len == 0 || (e.data >= v->ext && e.data + e.len <= v->ext + v->ext_len));
		if (out->n < PL_RTP_EXT_MAX_ELEMS + 1)
			out->e[out->n] = e;
		out->n++;
	}
	FUZZ_CHECK(rc == PL_ENOENT || rc == PL_ETRUNC);
	out->complete = rc == PL_ENOENT && out->n <= PL_RTP_EXT_MAX_ELEMS;
	if (out->n > 0) { /* the first element is found by id */
		struct pl_rtp_ext_elem f;
		FUZZ_CHECK(pl_rtp_ext_find(v, out->e[0].id, &f) == 0);
		FUZZ_CHECK(f.data == out->e[0].data && f.len == out->e[0].len);
	}
}

static bool same_elems(const struct elems *a, const struct elems *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].id != b->e[i].id || a->e[i].len != b->e[i].len ||
		    (a->e[i].len && memcmp(a->e[i].data, b->e[i].data, a->e[i].len) != 0))
			return false;
	return true;
}

/* pl_rtp_write() of what was parsed must parse back to the same packet. */
static void check_rewrite(const struct pl_rtp_view *v, const struct elems *el)
{
	static uint8_t out[BUF_CAP];
	struct pl_rtp_ext_writer w;
	struct pl_rtp_header h = {
		.marker = v->marker, .pt = v->pt, .seq = v->seq, .ts = v->ts, .ssrc = v->ssrc,
		.csrc_count = v->csrc_count,
	};
	struct pl_rtp_view v2;
	struct elems el2;
	size_t len;

	if (!el->complete)
		return;
	for (unsigned i = 0; i < v->csrc_count; i++)
		h.csrc[i] = pl_rtp_csrc(v, i);
	pl_rtp_ext_writer_init(&w);
	for (size_t i = 0; i < el->n; i++)
		if (pl_rtp_ext_writer_add(&w, el->e[i].id, el->e[i].data, el->e[i].len) != 0)
			return; /* duplicate ids, or more than the writer holds */
	FUZZ_CHECK(pl_rtp_write(&h, &w, v->payload, v->payload_len, v->padding_len, out,
				sizeof(out), &len) == 0);
	FUZZ_CHECK(pl_rtp_parse(out, len, &v2) == 0);
	FUZZ_CHECK(v2.marker == v->marker && v2.pt == v->pt && v2.seq == v->seq);
	FUZZ_CHECK(v2.ts == v->ts && v2.ssrc == v->ssrc && v2.csrc_count == v->csrc_count);
	FUZZ_CHECK(v2.csrc_count == 0 || memcmp(v2.csrc, v->csrc, 4u * v->csrc_count) == 0);
	FUZZ_CHECK(v2.payload_len == v->payload_len && v2.padding_len == v->padding_len);
	FUZZ_CHECK(v->payload_len == 0 || memcmp(v2.payload, v->payload, v->payload_len) == 0);
	collect_elems(&v2, &el2);
	FUZZ_CHECK(el2.complete && same_elems(el, &el2));
}

/* RTX round trip: the retransmission path wraps a stored packet, the
 * publisher side unwraps one; both must agree on every field. */
static void check_rtx(const uint8_t *data, size_t size, const struct pl_rtp_view *v)
{
	static uint8_t rtx[BUF_CAP];
	struct pl_rtx_stream s;
	struct pl_rtp_view r, o;
	size_t len;

	pl_rtx_stream_init(&s, v->ssrc ^ 0x5a5a5a5au, (uint8_t)((v->pt + 1) & 0x7f), v->seq ^ 0x1234);
	if (pl_rtx_stream_write(&s, data, size, rtx, sizeof(rtx), &len) != 0)
		return;
	FUZZ_CHECK(pl_rtp_parse(rtx, len, &r) == 0);
	FUZZ_CHECK(r.ssrc == (v->ssrc ^ 0x5a5a5a5au) && r.padding_len == 0);
	FUZZ_CHECK(pl_rtx_unwrap(rtx, &len, v->ssrc, v->pt) == 0);
	FUZZ_CHECK(pl_rtp_parse(rtx, len, &o) == 0);
	FUZZ_CHECK(o.seq == v->seq && o.ssrc == v->ssrc && o.pt == v->pt && o.ts == v->ts);
	FUZZ_CHECK(o.marker == v->marker && o.payload_len == v->payload_len);
	FUZZ_CHECK(v->payload_len == 0 || memcmp(o.payload, v->payload, v->payload_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[BUF_CAP];
	struct pl_rtp_view v;
	struct elems el;
	size_t len = size;
	int rc;

	if (size > BUF_CAP - 16)
		return 0;
	rc = pl_rtp_parse(data, size, &v);
	if (rc == 0) {
		FUZZ_CHECK(v.header_len >= PL_RTP_HEADER_BYTES && v.csrc_count <= PL_RTP_MAX_CSRC);
		FUZZ_CHECK(v.header_len + v.payload_len + v.padding_len == size);
		FUZZ_CHECK(v.payload == data + v.header_len);
		FUZZ_CHECK(v.ext_len % 4 == 0);
		FUZZ_CHECK(v.ext == NULL || (v.ext >= data && v.ext + v.ext_len <= data + v.header_len));
		collect_elems(&v, &el);
		check_rewrite(&v, &el);
		check_rtx(data, size, &v);
	} else {
		FUZZ_CHECK(rc == PL_ETRUNC || rc == PL_EPROTO);
	}
	/* Unwrapping arbitrary bytes as RTX must fail cleanly or stay in bounds. */
	memcpy(copy, data, size);
	rc = pl_rtx_unwrap(copy, &len, 0x11223344u, 96);
	if (rc == 0) {
		FUZZ_CHECK(len + 2 <= size);
		FUZZ_CHECK(pl_rtp_parse(copy, len, &v) == 0);
	}
	return 0;
}
