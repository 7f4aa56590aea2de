/* tests/unit/test_rtp.c: RTP parse and write, header extensions, demux.
 *
 * Vectors: the header extension examples of RFC 8285 sections 4.2 and 4.3
 * byte for byte, hand-assembled packets for every header feature, and the
 * RFC 7983 first-byte table for every value 0-255.  Truncation is tested
 * at every prefix of valid packets: inside the header it must fail, past
 * it the packet is valid with a shorter payload, and nothing may read out
 * of bounds (the sanitizer build checks that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "media/rtp.h"

/* V=2, M=1, PT=96, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, payload "abc". */
static const uint8_t plain[] = { 0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
				 0x01, 0x02, 0x03, 0x04, 'a', 'b', 'c' };

/* RFC 8285 section 4.2: one-byte form, ids 1 (1 byte), 2 (2 bytes), two
 * padding bytes, 3 (4 bytes); then payload "xy". */
static const uint8_t one_byte[] = { 0x90, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,
				    0x00, 0x00, 0x00, 0x20,
				    0xbe, 0xde, 0x00, 0x03,
				    0x10, 0xaa, 0x21, 0xbb, 0xcc, 0x00, 0x00, 0x33,
				    0x01, 0x02, 0x03, 0x04,
				    'x', 'y' };

/* RFC 8285 section 4.3: two-byte form (appbits 0), id 1 with no data, id 2
 * with 1 byte, a padding byte, id 3 with 4 bytes. */
static const uint8_t two_byte[] = { 0x90, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,
				    0x00, 0x00, 0x00, 0x20,
				    0x10, 0x00, 0x00, 0x03,
				    0x01, 0x00, 0x02, 0x01, 0xaa, 0x00, 0x03, 0x04,
				    0x01, 0x02, 0x03, 0x04,
				    'x', 'y' };

/* CC=2, P=1 with 3 padding bytes, payload "pq". */
static const uint8_t csrc_pad[] = { 0xa2, 0x08, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
				    0xaa, 0xbb, 0xcc, 0xdd,
				    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
				    'p', 'q', 0x00, 0x00, 0x03 };

static void test_rtp_parse_plain(void **state)
{
	struct pl_rtp_view v;

	assert_int_equal(pl_rtp_parse(plain, sizeof(plain), &v), 0);
	assert_true(v.marker);
	assert_int_equal(v.pt, 96);
	assert_int_equal(v.seq, 0x1234);
	assert_int_equal(v.ts, 0xdeadbeefu);
	assert_int_equal(v.ssrc, 0x01020304u);
	assert_int_equal(v.csrc_count, 0);
	assert_null(v.ext);
	assert_int_equal(v.header_len, 12);
	assert_int_equal(v.payload_len, 3);
	assert_memory_equal(v.payload, "abc", 3);
	assert_int_equal(v.padding_len, 0);
}

static void test_rtp_parse_csrc_and_padding(void **state)
{
	struct pl_rtp_view v;

	assert_int_equal(pl_rtp_parse(csrc_pad, sizeof(csrc_pad), &v), 0);
	assert_false(v.marker);
	assert_int_equal(v.pt, 8);
	assert_int_equal(v.seq, 0xffff);
	assert_int_equal(v.csrc_count, 2);
	assert_int_equal(pl_rtp_csrc(&v, 0), 0x11111111u);
	assert_int_equal(pl_rtp_csrc(&v, 1), 0x22222222u);
	assert_int_equal(pl_rtp_csrc(&v, 2), 0);
	assert_int_equal(v.padding_len, 3);
	assert_int_equal(v.payload_len, 2);
	assert_memory_equal(v.payload, "pq", 2);
}

static void test_rtp_truncated_extension(void **state)
{
	/* V=2 X=1; the extension header announces one word that is missing. */
	static const uint8_t pkt[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,
				       0xBE, 0xDE, 0x00, 0x01 };
	struct pl_rtp_view v;

	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), PL_ETRUNC);
	assert_int_equal(pl_rtp_parse(pkt, 11, &v), PL_ETRUNC);
}

static void test_rtp_bad_version_and_padding(void **state)
{
	uint8_t pkt[sizeof(csrc_pad)];
	struct pl_rtp_view v;

	memcpy(pkt, plain, sizeof(plain));
	pkt[0] = 0x40;                                  /* V=1 */
	assert_int_equal(pl_rtp_parse(pkt, sizeof(plain), &v), PL_EPROTO);
	pkt[0] = 0xc0;                                  /* V=3 */
	assert_int_equal(pl_rtp_parse(pkt, sizeof(plain), &v), PL_EPROTO);
	memcpy(pkt, csrc_pad, sizeof(csrc_pad));
	pkt[sizeof(pkt) - 1] = 0;                       /* padding count 0 */
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), PL_EPROTO);
	pkt[sizeof(pkt) - 1] = 6;                       /* more than the 5 payload bytes */
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), PL_EPROTO);
	pkt[sizeof(pkt) - 1] = 5;                       /* all of them: empty payload */
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), 0);
	assert_int_equal(v.payload_len, 0);
	/* P=1 and nothing after the header: no byte to hold the count. */
	assert_int_equal(pl_rtp_parse(pkt, 20, &v), PL_EPROTO);
}

/* Collects the elements of a packet as "id:len" pairs. */
static int collect(const uint8_t *pkt, size_t len, struct pl_rtp_ext_elem *out, size_t cap,
		   size_t *n)
{
	struct pl_rtp_view v;
	struct pl_rtp_ext_iter it;
	int rc;

	*n = 0;
	assert_int_equal(pl_rtp_parse(pkt, len, &v), 0);
	if ((rc = pl_rtp_ext_iter_init(&it, &v)))
		return rc;
	while ((rc = pl_rtp_ext_next(&it, &out[*n])) == 0)
		if (++*n == cap)
			break;
	return rc == PL_ENOENT ? 0 : rc;
}

static void test_rtp_ext_one_byte_rfc8285(void **state)
{
	struct pl_rtp_ext_elem e[8];
	struct pl_rtp_view v;
	size_t n;

	assert_int_equal(collect(one_byte, sizeof(one_byte), e, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].id, 1);
	assert_int_equal(e[0].len, 1);
	assert_int_equal(e[0].data[0], 0xaa);
	assert_int_equal(e[1].id, 2);
	assert_int_equal(e[1].len, 2);
	assert_int_equal(e[1].data[1], 0xcc);
	assert_int_equal(e[2].id, 3);
	assert_int_equal(e[2].len, 4);
	assert_memory_equal(e[2].data, "\x01\x02\x03\x04", 4);
	assert_int_equal(pl_rtp_parse(one_byte, sizeof(one_byte), &v), 0);
	assert_int_equal(v.ext_profile, PL_RTP_EXT_ONE_BYTE);
	assert_int_equal(v.ext_len, 12);
	assert_memory_equal(v.payload, "xy", 2);
	assert_int_equal(pl_rtp_ext_find(&v, 2, &e[0]), 0);
	assert_int_equal(e[0].data[0], 0xbb);
	assert_int_equal(pl_rtp_ext_find(&v, 9, &e[0]), PL_ENOENT);
}

static void test_rtp_ext_two_byte_rfc8285(void **state)
{
	struct pl_rtp_ext_elem e[8];
	struct pl_rtp_view v;
	size_t n;
	uint8_t pkt[sizeof(two_byte)];

	assert_int_equal(collect(two_byte, sizeof(two_byte), e, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].id, 1);
	assert_int_equal(e[0].len, 0);
	assert_int_equal(e[1].id, 2);
	assert_int_equal(e[1].len, 1);
	assert_int_equal(e[1].data[0], 0xaa);
	assert_int_equal(e[2].id, 3);
	assert_int_equal(e[2].len, 4);
	/* appbits in the low nibble do not change the form */
	memcpy(pkt, two_byte, sizeof(pkt));
	pkt[13] = 0x0f;
	assert_int_equal(collect(pkt, sizeof(pkt), e, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), 0);
	assert_int_equal(pl_rtp_ext_find(&v, 3, &e[0]), 0);
	assert_int_equal(e[0].data[3], 0x04);
}

static void test_rtp_ext_edge_cases(void **state)
{
	uint8_t pkt[sizeof(one_byte)];
	struct pl_rtp_ext_elem e[8];
	struct pl_rtp_view v;
	struct pl_rtp_ext_iter it;
	size_t n;

	/* An id of 15 ends the block (RFC 8285 section 4.2). */
	memcpy(pkt, one_byte, sizeof(pkt));
	pkt[18] = 0xf1;
	assert_int_equal(collect(pkt, sizeof(pkt), e, 8, &n), 0);
	assert_int_equal(n, 1);
	/* An element longer than the block. */
	memcpy(pkt, one_byte, sizeof(pkt));
	pkt[23] = 0x3f;                                 /* id 3, 16 bytes */
	assert_int_equal(collect(pkt, sizeof(pkt), e, 8, &n), PL_ETRUNC);
	assert_int_equal(n, 2);
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), 0);
	assert_int_equal(pl_rtp_ext_find(&v, 3, &e[0]), PL_ETRUNC);
	/* A two-byte element header cut by the block end. */
	memcpy(pkt, two_byte, sizeof(two_byte));
	memset(pkt + 16, 0, 11);
	pkt[27] = 0x05;                                 /* last byte of the block: an id */
	assert_int_equal(collect(pkt, sizeof(two_byte), e, 8, &n), PL_ETRUNC);
	/* Unknown profile: no elements, PL_EUNSUP; no extension: PL_ENOENT. */
	memcpy(pkt, one_byte, sizeof(pkt));
	pkt[12] = 0x12;
	assert_int_equal(pl_rtp_parse(pkt, sizeof(pkt), &v), 0);
	assert_int_equal(pl_rtp_ext_iter_init(&it, &v), PL_EUNSUP);
	assert_int_equal(pl_rtp_ext_next(&it, &e[0]), PL_ENOENT);
	assert_int_equal(pl_rtp_ext_find(&v, 1, &e[0]), PL_ENOENT);
	assert_int_equal(pl_rtp_parse(plain, sizeof(plain), &v), 0);
	assert_int_equal(pl_rtp_ext_iter_init(&it, &v), PL_ENOENT);
	assert_int_equal(pl_rtp_ext_find(&v, 1, &e[0]), PL_ENOENT);
	/* Padding only. */
	memcpy(pkt, one_byte, sizeof(pkt));
	memset(pkt + 16, 0, 12);
	assert_int_equal(collect(pkt, sizeof(pkt), e, 8, &n), 0);
	assert_int_equal(n, 0);
}

/* Found by tests/fuzz/fuzz_rtp (corpus/rtp/crash_ext_id0_with_length): a
 * one-byte header with id 0 but non-zero length bits was returned as an
 * element with id 0 and swallowed the bytes after it.  It is padding. */
static void test_rtp_ext_id0_is_padding(void **state)
{
	uint8_t pkt[sizeof(one_byte)];
	struct pl_rtp_ext_elem e[8];
	size_t n;

	memcpy(pkt, one_byte, sizeof(pkt));
	pkt[21] = 0x02;                                 /* id 0, L=2 where 0x00 was */
	assert_int_equal(collect(pkt, sizeof(pkt), e, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].id, 1);
	assert_int_equal(e[1].id, 2);
	assert_int_equal(e[2].id, 3);
	assert_int_equal(e[2].len, 4);
	assert_memory_equal(e[2].data, one_byte + 24, 4);
}

static void assert_parsed_equals(const uint8_t *buf, size_t len, const struct pl_rtp_header *h,
				 const uint8_t *payload, size_t payload_len)
{
	struct pl_rtp_view v;

	assert_int_equal(pl_rtp_parse(buf, len, &v), 0);
	assert_int_equal(v.marker, h->marker);
	assert_int_equal(v.pt, h->pt);
	assert_int_equal(v.seq, h->seq);
	assert_int_equal(v.ts, h->ts);
	assert_int_equal(v.ssrc, h->ssrc);
	assert_int_equal(v.csrc_count, h->csrc_count);
	for (unsigned i = 0; i < h->csrc_count; i++)
		assert_int_equal(pl_rtp_csrc(&v, i), h->csrc[i]);
	assert_int_equal(v.payload_len, payload_len);
	if (payload_len)
		assert_memory_equal(v.payload, payload, payload_len);
}

static void test_rtp_write_round_trip(void **state)
{
	struct pl_rtp_header h = { true, 111, 65535, 123456789, 0xcafebabe, 2, { 7, 8 } };
	struct pl_rtp_ext_writer w;
	struct pl_rtp_ext_elem e;
	struct pl_rtp_view v;
	uint8_t buf[256], level = 0x8a, mid[] = { '0' }, tcc[] = { 0x01, 0x02 };
	size_t len;

	/* Plain, then with padding. */
	assert_int_equal(pl_rtp_write(&h, NULL, (const uint8_t *)"hello", 5, 0, buf, sizeof(buf),
				      &len), 0);
	assert_int_equal(len, 12 + 8 + 5);
	assert_parsed_equals(buf, len, &h, (const uint8_t *)"hello", 5);
	assert_int_equal(pl_rtp_write(&h, NULL, (const uint8_t *)"hello", 5, 7, buf, sizeof(buf),
				      &len), 0);
	assert_int_equal(len, 12 + 8 + 5 + 7);
	assert_parsed_equals(buf, len, &h, (const uint8_t *)"hello", 5);
	/* One-byte extensions: audio level, mid, transport-cc. */
	pl_rtp_ext_writer_init(&w);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, &level, 1), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 4, mid, 1), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 3, tcc, 2), 0);
	assert_int_equal(pl_rtp_write(&h, &w, (const uint8_t *)"x", 1, 0, buf, sizeof(buf), &len),
			 0);
	assert_int_equal(pl_rtp_parse(buf, len, &v), 0);
	assert_int_equal(v.ext_profile, PL_RTP_EXT_ONE_BYTE);
	assert_int_equal(v.ext_len, 8);                 /* 2 + 2 + 3 = 7, padded */
	assert_int_equal(pl_rtp_ext_find(&v, 3, &e), 0);
	assert_int_equal(e.len, 2);
	assert_memory_equal(e.data, tcc, 2);
	assert_int_equal(pl_rtp_ext_find(&v, 1, &e), 0);
	assert_int_equal(e.data[0], 0x8a);
	assert_parsed_equals(buf, len, &h, (const uint8_t *)"x", 1);
	/* No payload at all is fine. */
	assert_int_equal(pl_rtp_write(&h, &w, NULL, 0, 0, buf, sizeof(buf), &len), 0);
	assert_parsed_equals(buf, len, &h, NULL, 0);
}

static void test_rtp_write_two_byte_when_needed(void **state)
{
	static const struct {
		uint8_t id;
		size_t len;
	} rows[] = { { 15, 1 }, { 200, 3 }, { 2, 0 }, { 2, 17 }, { 3, 255 } };
	const struct pl_rtp_header h = { false, 96, 1, 2, 3, 0, { 0 } };
	uint8_t data[255], buf[600];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct pl_rtp_ext_writer w;
		struct pl_rtp_ext_elem e;
		struct pl_rtp_view v;
		size_t len;

		pl_rtp_ext_writer_init(&w);
		assert_int_equal(pl_rtp_ext_writer_add(&w, 1, data, 1), 0);
		assert_int_equal(pl_rtp_ext_writer_add(&w, rows[r].id, data, rows[r].len), 0);
		assert_int_equal(pl_rtp_write(&h, &w, NULL, 0, 0, buf, sizeof(buf), &len), 0);
		assert_int_equal(pl_rtp_parse(buf, len, &v), 0);
		assert_int_equal(v.ext_profile, PL_RTP_EXT_TWO_BYTE);
		assert_int_equal(v.ext_len % 4, 0);
		assert_int_equal(pl_rtp_ext_find(&v, rows[r].id, &e), 0);
		assert_int_equal(e.len, rows[r].len);
		if (rows[r].len)
			assert_memory_equal(e.data, data, rows[r].len);
		assert_int_equal(pl_rtp_ext_find(&v, 1, &e), 0);
		assert_int_equal(e.len, 1);
	}
	/* Forced two-byte with small elements. */
	{
		struct pl_rtp_ext_writer w;
		struct pl_rtp_view v;
		size_t len;

		pl_rtp_ext_writer_init(&w);
		w.force_two_byte = true;
		assert_int_equal(pl_rtp_ext_writer_add(&w, 1, data, 1), 0);
		assert_int_equal(pl_rtp_write(&h, &w, NULL, 0, 0, buf, sizeof(buf), &len), 0);
		assert_int_equal(pl_rtp_parse(buf, len, &v), 0);
		assert_int_equal(v.ext_profile, PL_RTP_EXT_TWO_BYTE);
	}
}

static void test_rtp_writer_errors(void **state)
{
	struct pl_rtp_header h = { false, 96, 1, 2, 3, 0, { 0 } };
	struct pl_rtp_ext_writer w;
	uint8_t buf[64], d[PL_RTP_EXT_MAX_DATA_BYTES] = { 0 };
	size_t len, need;

	pl_rtp_ext_writer_init(&w);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 0, d, 1), PL_EINVAL);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, d, 256), PL_EINVAL);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, NULL, 1), PL_EINVAL);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, d, 4), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, d, 4), PL_EINVAL);       /* duplicate */
	for (uint8_t id = 2; id <= PL_RTP_EXT_MAX_ELEMS; id++)
		assert_int_equal(pl_rtp_ext_writer_add(&w, id, d, 1), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 100, d, 1), PL_ETOOBIG);
	pl_rtp_ext_writer_init(&w);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 1, d, 255), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 2, d, 255), 0);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 3, d, 3), PL_ETOOBIG);
	h.pt = 128;
	assert_int_equal(pl_rtp_write(&h, NULL, NULL, 0, 0, buf, sizeof(buf), &len), PL_EINVAL);
	h.pt = 96, h.csrc_count = 16;
	assert_int_equal(pl_rtp_write(&h, NULL, NULL, 0, 0, buf, sizeof(buf), &len), PL_EINVAL);
	h.csrc_count = 1;
	/* Every capacity short of the packet fails without writing past it. */
	pl_rtp_ext_writer_init(&w);
	assert_int_equal(pl_rtp_ext_writer_add(&w, 5, d, 3), 0);
	assert_int_equal(pl_rtp_write(&h, &w, d, 10, 4, buf, sizeof(buf), &need), 0);
	assert_int_equal(need, 12 + 4 + 4 + 4 + 10 + 4);
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *small = malloc(cap ? cap : 1);

		assert_int_equal(pl_rtp_write(&h, &w, d, 10, 4, small, cap, &len), PL_ETOOBIG);
		free(small);
	}
	assert_int_equal(pl_rtp_write(&h, NULL, d, SIZE_MAX, 0, buf, sizeof(buf), &len),
			 PL_ETOOBIG);
}

static void test_rtp_write_in_place(void **state)
{
	/* Forwarding rewrites a packet in its own buffer: new SSRC and a
	 * header grown by a CSRC, the payload moving under it. */
	uint8_t buf[64];
	struct pl_rtp_view v;
	struct pl_rtp_header h = { false, 100, 9, 10, 0x55555555, 1, { 0x66666666 } };
	size_t len;

	memcpy(buf, plain, sizeof(plain));
	assert_int_equal(pl_rtp_parse(buf, sizeof(plain), &v), 0);
	assert_int_equal(pl_rtp_write(&h, NULL, v.payload, v.payload_len, 0, buf, sizeof(buf), &len),
			 0);
	assert_parsed_equals(buf, len, &h, (const uint8_t *)"abc", 3);
}

static void check_prefixes(const uint8_t *pkt, size_t len)
{
	struct pl_rtp_view full, v;

	assert_int_equal(pl_rtp_parse(pkt, len, &full), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int rc;

		memcpy(copy, pkt, n);
		rc = pl_rtp_parse(copy, n, &v);
		if (n < full.header_len) {
			assert_true(rc == PL_ETRUNC || rc == PL_EPROTO);
		} else if (rc == 0) {
			struct pl_rtp_ext_iter it;
			struct pl_rtp_ext_elem e;

			assert_true(v.payload + v.payload_len <= copy + n);
			if (pl_rtp_ext_iter_init(&it, &v) == 0)
				while (pl_rtp_ext_next(&it, &e) == 0)
					assert_true(e.data + e.len <= copy + n);
		} else {
			/* Only a padded packet may fail past its header: the
			 * cut leaves a payload byte where the count was. */
			assert_int_equal(rc, PL_EPROTO);
			assert_true(pkt[0] & 0x20);
		}
		free(copy);
	}
}

static void test_rtp_every_truncation(void **state)
{
	check_prefixes(plain, sizeof(plain));
	check_prefixes(one_byte, sizeof(one_byte));
	check_prefixes(two_byte, sizeof(two_byte));
	check_prefixes(csrc_pad, sizeof(csrc_pad));
}

static void test_rtp_garbage(void **state)
{
	uint32_t r = 7;
	uint8_t buf[128];

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (r = r * 1103515245u + 12345u) >> 8 & 127;
		struct pl_rtp_view v;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 16);
		buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));     /* mostly version 2 */
		if (pl_rtp_parse(buf, len, &v) == 0) {
			struct pl_rtp_ext_iter it;
			struct pl_rtp_ext_elem e;

			assert_true(v.payload + v.payload_len <= buf + len);
			if (pl_rtp_ext_iter_init(&it, &v) == 0)
				while (pl_rtp_ext_next(&it, &e) == 0)
					assert_true(e.data + e.len <= buf + len);
		}
	}
}

static void test_rtp_demux_rfc7983(void **state)
{
	uint8_t b[2] = { 0, 0x60 };

	for (unsigned first = 0; first < 256; first++) {
		enum pl_rtp_demux want = PL_RTP_DEMUX_UNKNOWN;

		if (first <= 3)
			want = PL_RTP_DEMUX_STUN;
		else if (first >= 16 && first <= 19)
			want = PL_RTP_DEMUX_ZRTP;
		else if (first >= 20 && first <= 63)
			want = PL_RTP_DEMUX_DTLS;
		else if (first >= 64 && first <= 79)
			want = PL_RTP_DEMUX_TURN;
		else if (first >= 128 && first <= 191)
			want = PL_RTP_DEMUX_RTP;
		b[0] = (uint8_t)first;
		assert_int_equal(pl_rtp_demux_classify(b, 2), want);
	}
	/* RTP vs RTCP by the second byte (RFC 5761 section 4). */
	for (unsigned second = 0; second < 256; second++) {
		b[0] = 0x80, b[1] = (uint8_t)second;
		assert_int_equal(pl_rtp_demux_classify(b, 2), second >= 192 && second <= 223
									? PL_RTP_DEMUX_RTCP
									: PL_RTP_DEMUX_RTP);
	}
	b[0] = 0x80;
	assert_int_equal(pl_rtp_demux_classify(b, 1), PL_RTP_DEMUX_UNKNOWN);
	assert_int_equal(pl_rtp_demux_classify(b, 0), PL_RTP_DEMUX_UNKNOWN);
	b[0] = 0x00;
	assert_int_equal(pl_rtp_demux_classify(b, 1), PL_RTP_DEMUX_STUN);
	assert_string_equal(pl_rtp_demux_name(PL_RTP_DEMUX_DTLS), "dtls");
	assert_string_equal(pl_rtp_demux_name(PL_RTP_DEMUX_RTCP), "rtcp");
	assert_string_equal(pl_rtp_demux_name(PL_RTP_DEMUX_UNKNOWN), "unknown");
}

static void test_rtp_byte_order_helpers(void **state)
{
	uint8_t b[4];

	pl_wr16(b, 0xabcd);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(pl_rd16(b), 0xabcd);
	pl_wr24(b, 0x123456);
	assert_int_equal(pl_rd24(b), 0x123456);
	pl_wr32(b, 0xfedcba98u);
	assert_int_equal(b[3], 0x98);
	assert_int_equal(pl_rd32(b), 0xfedcba98u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_parse_plain),
		cmocka_unit_test(test_rtp_parse_csrc_and_padding),
		cmocka_unit_test(test_rtp_truncated_extension),
		cmocka_unit_test(test_rtp_bad_version_and_padding),
		cmocka_unit_test(test_rtp_ext_one_byte_rfc8285),
		cmocka_unit_test(test_rtp_ext_two_byte_rfc8285),
		cmocka_unit_test(test_rtp_ext_edge_cases),
		cmocka_unit_test(test_rtp_ext_id0_is_padding),
		cmocka_unit_test(test_rtp_write_round_trip),
		cmocka_unit_test(test_rtp_write_two_byte_when_needed),
		cmocka_unit_test(test_rtp_writer_errors),
		cmocka_unit_test(test_rtp_write_in_place),
		cmocka_unit_test(test_rtp_every_truncation),
		cmocka_unit_test(test_rtp_garbage),
		cmocka_unit_test(test_rtp_demux_rfc7983),
		cmocka_unit_test(test_rtp_byte_order_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
