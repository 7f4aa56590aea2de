/* tests/unit/test_rtcp.c: compound RTCP and every message type.
 *
 * Each writer's output is checked against hand-assembled bytes where the
 * layout is easy to get wrong (lengths in words minus one, the 24-bit
 * signed cumulative loss, REMB's exponent/mantissa, SDES chunk padding),
 * then parsed back.  Transport-cc uses the chunk examples of
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1 and a
 * seeded random round trip.  Truncation: every prefix of every valid
 * packet and compound must be refused, and for types whose header counts
 * announce their size, every shorter length field too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "media/rtcp.h"

/* The single packet of buf, asserting the datagram holds exactly one. */
static struct pl_rtcp_pkt one_pkt(const uint8_t *buf, size_t len)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;

	pl_rtcp_iter_init(&it, buf, len);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), 0);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), PL_ENOENT);
	pl_rtcp_iter_init(&it, buf, len);
	pl_rtcp_iter_next(&it, &p);
	return p;
}

/* ---- SR and RR ------------------------------------------------------------ */

static void assert_same_report(const struct pl_rtcp_report *a, const struct pl_rtcp_report *b)
{
	assert_int_equal(a->ssrc, b->ssrc);
	assert_int_equal(a->fraction_lost, b->fraction_lost);
	assert_int_equal(a->cumulative_lost, b->cumulative_lost);
	assert_int_equal(a->ext_highest_seq, b->ext_highest_seq);
	assert_int_equal(a->jitter, b->jitter);
	assert_int_equal(a->lsr, b->lsr);
	assert_int_equal(a->dlsr, b->dlsr);
}

static void test_rtcp_sr_bytes_and_round_trip(void **state)
{
	struct pl_rtcp_sr sr = { 0 }, out;
	struct pl_rtcp_pkt p;
	uint8_t buf[512];
	size_t len;

	sr.ssrc = 0x11223344;
	sr.ntp = 0xe8a1b2c3d4e5f607ull;
	sr.rtp_ts = 0x01020304, sr.packet_count = 1000, sr.octet_count = 120000;
	sr.report_count = 2;
	sr.reports[0] = (struct pl_rtcp_report){ 0xaabbccdd, 25, -3, 0x0001fffe, 77, 0x12345678, 65536 };
	sr.reports[1] = (struct pl_rtcp_report){ 0x55667788, 0, 0x123456, 9, 0, 0, 0 };
	assert_int_equal(pl_rtcp_sr_write(&sr, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4 + 24 + 48);
	assert_int_equal(buf[0], 0x82);                         /* V=2, RC=2 */
	assert_int_equal(buf[1], 200);
	assert_int_equal(pl_rd16(buf + 2), len / 4 - 1);
	/* cumulative lost -3 is 0xfffffd in 24 bits */
	assert_int_equal(buf[28 + 4], 25);
	assert_int_equal(pl_rd24(buf + 28 + 5), 0xfffffd);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_sr_parse(&p, &out), 0);
	assert_int_equal(out.ssrc, sr.ssrc);
	assert_true(out.ntp == sr.ntp);
	assert_int_equal(out.octet_count, 120000);
	assert_int_equal(out.report_count, 2);
	assert_same_report(&out.reports[0], &sr.reports[0]);
	assert_same_report(&out.reports[1], &sr.reports[1]);
	/* The wrong parser for the type. */
	{
		struct pl_rtcp_rr rr;

		assert_int_equal(pl_rtcp_rr_parse(&p, &rr), PL_EPROTO);
	}
	/* Loss beyond 24 bits is clamped. */
	sr.reports[0].cumulative_lost = -10000000;
	sr.reports[1].cumulative_lost = 10000000;
	assert_int_equal(pl_rtcp_sr_write(&sr, buf, sizeof(buf), &len), 0);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_sr_parse(&p, &out), 0);
	assert_int_equal(out.reports[0].cumulative_lost, -0x800000);
	assert_int_equal(out.reports[1].cumulative_lost, 0x7fffff);
}

static void test_rtcp_rr_round_trip(void **state)
{
	struct pl_rtcp_rr rr = { 0 }, out;
	struct pl_rtcp_pkt p;
	uint8_t buf[1024];
	size_t len;

	/* An empty RR (the usual head of a receiver's compound). */
	rr.ssrc = 1;
	assert_int_equal(pl_rtcp_rr_write(&rr, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, "\x80\xc9\x00\x01\x00\x00\x00\x01", 8);
	rr.report_count = PL_RTCP_MAX_REPORTS;
	for (int i = 0; i < PL_RTCP_MAX_REPORTS; i++)
		rr.reports[i] = (struct pl_rtcp_report){ (uint32_t)i, (uint8_t)i, -i, (uint32_t)i,
							 0, 0, 0 };
	assert_int_equal(pl_rtcp_rr_write(&rr, buf, sizeof(buf), &len), 0);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_rr_parse(&p, &out), 0);
	assert_int_equal(out.report_count, 31);
	assert_int_equal(out.reports[30].cumulative_lost, -30);
	rr.report_count = 32;
	assert_int_equal(pl_rtcp_rr_write(&rr, buf, sizeof(buf), &len), PL_EINVAL);
	rr.report_count = 1;
	assert_int_equal(pl_rtcp_rr_write(&rr, buf, 31, &len), PL_ETOOBIG);
}

/* ---- SDES and BYE ---------------------------------------------------------- */

static void test_rtcp_sdes(void **state)
{
	/* Two chunks: CNAME "ab" (4+2+2+1 = 9, padded to 12); NAME "x" then
	 * CNAME "host" (4+3+6+1 = 14, padded to 16). */
	static const uint8_t pkt[] = {
		0x82, 202, 0x00, 0x07,
		0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 'a', 'b', 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 'x', 0x01, 0x04, 'h', 'o', 's', 't', 0x00,
		0x00, 0x00,
	};
	struct pl_rtcp_sdes sdes = { 0 }, out;
	struct pl_rtcp_pkt p = one_pkt(pkt, sizeof(pkt));
	uint8_t buf[256];
	size_t len;

	assert_int_equal(pl_rtcp_sdes_parse(&p, &out), 0);
	assert_int_equal(out.chunk_count, 2);
	assert_int_equal(out.chunks[0].ssrc, 1);
	assert_int_equal(out.chunks[0].cname_len, 2);
	assert_memory_equal(out.chunks[0].cname, "ab", 2);
	assert_int_equal(out.chunks[1].cname_len, 4);
	assert_memory_equal(out.chunks[1].cname, "host", 4);
	/* The writer: a CNAME of 2 bytes ends exactly like the first chunk. */
	sdes.chunk_count = 2;
	sdes.chunks[0] = (struct pl_rtcp_sdes_chunk){ 1, "ab", 2 };
	sdes.chunks[1] = (struct pl_rtcp_sdes_chunk){ 0xfeedface, "k3Pq9ZtV+2mWb7Lx", 16 };
	assert_int_equal(pl_rtcp_sdes_write(&sdes, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4 + 12 + 24);
	assert_memory_equal(buf + 4, pkt + 4, 12);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_sdes_parse(&p, &out), 0);
	assert_int_equal(out.chunks[1].ssrc, 0xfeedface);
	assert_memory_equal(out.chunks[1].cname, "k3Pq9ZtV+2mWb7Lx", 16);
	sdes.chunks[1].cname = NULL;
	assert_int_equal(pl_rtcp_sdes_write(&sdes, buf, sizeof(buf), &len), PL_EINVAL);
}

static void test_rtcp_bye(void **state)
{
	struct pl_rtcp_bye bye = { 2, { 10, 20 }, "gone", 4 }, out;
	struct pl_rtcp_pkt p;
	uint8_t buf[128];
	size_t len;

	assert_int_equal(pl_rtcp_bye_write(&bye, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4 + 8 + 8);                       /* 1 + 4 reason bytes padded */
	assert_int_equal(buf[0], 0x82);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_bye_parse(&p, &out), 0);
	assert_int_equal(out.ssrc_count, 2);
	assert_int_equal(out.ssrcs[1], 20);
	assert_int_equal(out.reason_len, 4);
	assert_memory_equal(out.reason, "gone", 4);
	bye.reason = NULL, bye.reason_len = 0;
	assert_int_equal(pl_rtcp_bye_write(&bye, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 12);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_bye_parse(&p, &out), 0);
	assert_null(out.reason);
	/* A reason length past the packet. */
	{
		uint8_t bad[] = { 0x81, 203, 0x00, 0x02, 0, 0, 0, 1, 9, 'a', 'b', 'c' };

		p = one_pkt(bad, sizeof(bad));
		assert_int_equal(pl_rtcp_bye_parse(&p, &out), PL_ETRUNC);
	}
}

/* ---- NACK, PLI, FIR, REMB -------------------------------------------------- */

static void test_rtcp_nack(void **state)
{
	static const uint16_t seqs[] = { 100, 101, 105, 116, 116, 117, 200, 65535, 0, 15 };
	static const uint16_t want[] = { 100, 101, 105, 116, 117, 200, 65535, 0, 15 };
	struct pl_rtcp_nack nack;
	struct pl_rtcp_pkt p;
	uint8_t buf[128];
	uint16_t got[64];
	size_t len, n;

	assert_int_equal(pl_rtcp_nack_write(1, 2, seqs, 10, buf, sizeof(buf), &len), 0);
	/* Items: 100 + {101,105,116}; 117; 200; 65535 + {0,15}. */
	assert_int_equal(len, 12 + 4 * 4);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 205);
	assert_int_equal(pl_rd16(buf + 12), 100);
	assert_int_equal(pl_rd16(buf + 14), (1u << 0) | (1u << 4) | (1u << 15));
	assert_int_equal(pl_rd16(buf + 16), 117);
	assert_int_equal(pl_rd16(buf + 18), 0);
	assert_int_equal(pl_rd16(buf + 24), 65535);
	assert_int_equal(pl_rd16(buf + 26), (1u << 0) | (1u << 15));
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_nack_parse(&p, &nack), 0);
	assert_int_equal(nack.sender_ssrc, 1);
	assert_int_equal(nack.media_ssrc, 2);
	assert_int_equal(nack.item_count, 4);
	assert_int_equal(pl_rtcp_nack_seqs(&nack, got, 64, &n), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(pl_rtcp_nack_seqs(&nack, got, 8, &n), PL_ETOOBIG);
	assert_int_equal(pl_rtcp_nack_write(1, 2, seqs, 0, buf, sizeof(buf), &len), PL_EINVAL);
	assert_int_equal(pl_rtcp_nack_write(1, 2, seqs, 10, buf, 27, &len), PL_ETOOBIG);
	/* A NACK without items. */
	{
		uint8_t bad[] = { 0x81, 205, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2 };

		p = one_pkt(bad, sizeof(bad));
		assert_int_equal(pl_rtcp_nack_parse(&p, &nack), PL_EPROTO);
	}
}

static void test_rtcp_pli_fir(void **state)
{
	static const struct pl_rtcp_fir_entry entries[] = { { 0xabcdef01, 7 }, { 5, 255 } };
	struct pl_rtcp_fir fir;
	struct pl_rtcp_pkt p;
	uint32_t s, m;
	uint8_t buf[64];
	size_t len;

	assert_int_equal(pl_rtcp_pli_write(0x01020304, 0x05060708, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(buf, "\x81\xce\x00\x02\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_pli_parse(&p, &s, &m), 0);
	assert_int_equal(s, 0x01020304);
	assert_int_equal(m, 0x05060708);
	assert_int_equal(pl_rtcp_fir_parse(&p, &fir), PL_EPROTO);       /* FMT 1 is not FIR */

	assert_int_equal(pl_rtcp_fir_write(9, entries, 2, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 12 + 16);
	assert_int_equal(buf[0], 0x84);
	assert_int_equal(pl_rd32(buf + 8), 0);                  /* media SSRC unused */
	assert_int_equal(buf[16], 7);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_fir_parse(&p, &fir), 0);
	assert_int_equal(fir.sender_ssrc, 9);
	assert_int_equal(fir.entry_count, 2);
	assert_int_equal(pl_rtcp_fir_entry(&fir, 0).ssrc, 0xabcdef01);
	assert_int_equal(pl_rtcp_fir_entry(&fir, 1).seq, 255);
	assert_int_equal(pl_rtcp_fir_entry(&fir, 2).ssrc, 0);
	assert_int_equal(pl_rtcp_pli_parse(&p, &s, &m), PL_EPROTO);
	assert_int_equal(pl_rtcp_fir_write(9, entries, 0, buf, sizeof(buf), &len), PL_EINVAL);
}

static void test_rtcp_remb(void **state)
{
	/* 1,000,000 bps = 250000 << 2: exp 2, mantissa 0x3d090 -> 0x0bd090. */
	static const uint8_t pkt[] = { 0x8f, 206, 0x00, 0x05, 0x00, 0x00, 0x00, 0x2a, 0, 0, 0, 0,
				       'R', 'E', 'M', 'B', 0x01, 0x0b, 0xd0, 0x90,
				       0x11, 0x22, 0x33, 0x44 };
	struct pl_rtcp_remb remb = { 0 }, out;
	struct pl_rtcp_pkt p = one_pkt(pkt, sizeof(pkt));
	uint8_t buf[64], bad[sizeof(pkt)];
	size_t len;

	assert_int_equal(pl_rtcp_remb_parse(&p, &out), 0);
	assert_int_equal(out.sender_ssrc, 42);
	assert_true(out.bitrate_bps == 1000000);
	assert_int_equal(out.ssrc_count, 1);
	assert_int_equal(out.ssrcs[0], 0x11223344);
	remb.sender_ssrc = 42, remb.bitrate_bps = 1000000, remb.ssrc_count = 1;
	remb.ssrcs[0] = 0x11223344;
	assert_int_equal(pl_rtcp_remb_write(&remb, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(pkt));
	assert_memory_equal(buf, pkt, sizeof(pkt));
	/* Rounded down to an 18-bit mantissa; huge rates survive. */
	remb.bitrate_bps = 123456789;
	assert_int_equal(pl_rtcp_remb_write(&remb, buf, sizeof(buf), &len), 0);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_remb_parse(&p, &out), 0);
	assert_true(out.bitrate_bps <= 123456789 && out.bitrate_bps > 123456789 - (1 << 9));
	remb.bitrate_bps = UINT64_MAX;
	assert_int_equal(pl_rtcp_remb_write(&remb, buf, sizeof(buf), &len), 0);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_remb_parse(&p, &out), 0);
	assert_true(out.bitrate_bps > UINT64_MAX / 2);
	/* An exponent that overflows 64 bits, another AFB, a lying count. */
	memcpy(bad, pkt, sizeof(pkt));
	bad[17] = 0xff;                                          /* exp 63 */
	p = one_pkt(bad, sizeof(bad));
	assert_int_equal(pl_rtcp_remb_parse(&p, &out), PL_EPROTO);
	memcpy(bad, pkt, sizeof(pkt));
	bad[12] = 'X';
	assert_int_equal(pl_rtcp_remb_parse(&p, &out), PL_EPROTO);
	memcpy(bad, pkt, sizeof(pkt));
	bad[16] = 2;
	assert_int_equal(pl_rtcp_remb_parse(&p, &out), PL_ETRUNC);
}

/* ---- Transport-wide congestion control ------------------------------------ */

/* Header for a TCC packet: sender 1, media 2, base, count, ref, fb count. */
static size_t tcc_head(uint8_t *b, uint16_t base, uint16_t count, uint32_t ref24, uint8_t fbc)
{
	b[0] = 0x8f, b[1] = 205;
	pl_wr32(b + 4, 1), pl_wr32(b + 8, 2);
	pl_wr16(b + 12, base), pl_wr16(b + 14, count);
	pl_wr24(b + 16, ref24), b[19] = fbc;
	return 20;
}

static void tcc_finish(uint8_t *b, size_t *len)
{
	while (*len % 4)
		b[(*len)++] = 0;
	pl_wr16(b + 2, (uint16_t)(*len / 4 - 1));
}

static void test_rtcp_tcc_draft_examples(void **state)
{
	struct pl_rtcp_tcc_status st[300];
	struct pl_rtcp_tcc h;
	struct pl_rtcp_pkt p;
	uint8_t b[600];
	size_t len;

	/* Section 3.1.3: run length chunk, 221 packets "received, small delta":
	 * 0 01 0000011011101 = 0x20dd. */
	len = tcc_head(b, 65500, 221, 0xfffffe, 3);
	pl_wr16(b + len, 0x20dd), len += 2;
	for (int i = 0; i < 221; i++)
		b[len++] = (uint8_t)i;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 300), 0);
	assert_int_equal(h.base_seq, 65500);
	assert_int_equal(h.status_count, 221);
	assert_int_equal(h.ref_time_64ms, -2);
	assert_int_equal(h.fb_count, 3);
	assert_int_equal(st[0].seq, 65500);
	assert_int_equal(st[36].seq, 0);                        /* wraps */
	assert_true(st[220].received);
	assert_int_equal(st[220].delta_us, 220 * 250);

	/* Section 3.1.4: 1-bit vector 1 0 00111110001110 0 = 0x9f1c: not received,
	 * 5 received, 3 not, 3 received, 2 not. */
	len = tcc_head(b, 10, 14, 100, 0);
	pl_wr16(b + len, 0x9f1c), len += 2;
	for (int i = 0; i < 8; i++)
		b[len++] = 4;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 300), 0);
	{
		static const bool rx[14] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0 };

		for (int i = 0; i < 14; i++) {
			assert_int_equal(st[i].received, rx[i]);
			assert_int_equal(st[i].delta_us, rx[i] ? 1000 : 0);
		}
	}

	/* 2-bit vector 11 00 01 10 01 00 00 00 = 0xc640 for 4 packets: not
	 * received, small, large (-1 tick), small; the other symbols pad. */
	len = tcc_head(b, 0, 4, 0, 0);
	pl_wr16(b + len, 0xc640), len += 2;
	b[len++] = 8;
	pl_wr16(b + len, 0xffff), len += 2;
	b[len++] = 255;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 300), 0);
	assert_false(st[0].received);
	assert_int_equal(st[1].delta_us, 2000);
	assert_int_equal(st[2].delta_us, -250);
	assert_int_equal(st[3].delta_us, 255 * 250);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 3), PL_ETOOBIG);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, NULL, 0), 0);   /* header only */
}

static void test_rtcp_tcc_bad(void **state)
{
	struct pl_rtcp_tcc_status st[64];
	struct pl_rtcp_tcc h;
	struct pl_rtcp_pkt p;
	uint8_t b[64];
	size_t len;

	/* A reserved 2-bit symbol. */
	len = tcc_head(b, 0, 2, 0, 0);
	pl_wr16(b + len, 0xf000), len += 2;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
	/* A run with the reserved status, a zero run, a run past the count. */
	len = tcc_head(b, 0, 2, 0, 0);
	pl_wr16(b + len, 0x6002), len += 2;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
	pl_wr16(b + 20, 0x0000);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
	pl_wr16(b + 20, 0x0003);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
	/* A zero status count. */
	pl_wr16(b + 14, 0);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
	/* Chunks announce more deltas than there are bytes. */
	len = tcc_head(b, 0, 8, 0, 0);
	pl_wr16(b + len, 0x2008), len += 2;                     /* 8 x small */
	b[len++] = 1, b[len++] = 2;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_ETRUNC);
	/* Chunks missing: two chunks describe 10 of 20 packets, and the packet
	 * ends on a word boundary right after them. */
	len = tcc_head(b, 0, 20, 0, 0);
	pl_wr16(b + len, 0x0005), len += 2;
	pl_wr16(b + len, 0x0005), len += 2;
	tcc_finish(b, &len);
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_ETRUNC);
	/* Not a TCC. */
	b[0] = 0x81;
	p = one_pkt(b, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 64), PL_EPROTO);
}

static uint32_t rng = 99;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void tcc_round_trip(const struct pl_rtcp_tcc *h, const struct pl_rtcp_tcc_status *st,
			   size_t n, size_t *out_len)
{
	static struct pl_rtcp_tcc_status got[70000];
	static uint8_t buf[300000];
	struct pl_rtcp_tcc gh;
	struct pl_rtcp_pkt p;
	size_t len, dummy;

	assert_int_equal(pl_rtcp_tcc_write(h, st, n, buf, sizeof(buf), &len), 0);
	assert_int_equal(len % 4, 0);
	p = one_pkt(buf, len);
	assert_int_equal(pl_rtcp_tcc_parse(&p, &gh, got, n), 0);
	assert_int_equal(gh.sender_ssrc, h->sender_ssrc);
	assert_int_equal(gh.media_ssrc, h->media_ssrc);
	assert_int_equal(gh.base_seq, st[0].seq);
	assert_int_equal(gh.status_count, n);
	assert_int_equal(gh.ref_time_64ms, h->ref_time_64ms);
	assert_int_equal(gh.fb_count, h->fb_count);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].seq, st[i].seq);
		assert_int_equal(got[i].received, st[i].received);
		assert_int_equal(got[i].delta_us, st[i].received ? st[i].delta_us : 0);
	}
	/* Every capacity short of the packet is refused. */
	for (size_t cap = 0; cap < len; cap += 1 + len / 64)
		assert_int_equal(pl_rtcp_tcc_write(h, st, n, buf, cap, &dummy), PL_ETOOBIG);
	if (out_len)
		*out_len = len;
}

static void test_rtcp_tcc_round_trips(void **state)
{
	static struct pl_rtcp_tcc_status st[65535];
	struct pl_rtcp_tcc h = { 0x1234, 0x5678, 0, 0, -8388608, 200 };
	size_t len;

	for (int iter = 0; iter < 400; iter++) {
		size_t n = 1 + next_rand() % 300;
		unsigned mode = next_rand() % 4;        /* runs, sparse, mixed, large */
		uint16_t base = (uint16_t)next_rand();

		for (size_t i = 0; i < n; i++) {
			st[i].seq = (uint16_t)(base + i);
			st[i].received = mode == 0 ? (i / 20) % 2 : next_rand() % 3 != 0;
			if (mode == 3)
				st[i].delta_us = 250 * ((int32_t)(next_rand() % 65536) - 32768);
			else if (mode == 2 && next_rand() % 5 == 0)
				st[i].delta_us = -250 * (int32_t)(next_rand() % 100);
			else
				st[i].delta_us = 250 * (int32_t)(next_rand() % 256);
		}
		h.ref_time_64ms = (int32_t)(next_rand() % 0x1000000) - 0x800000;
		tcc_round_trip(&h, st, n, NULL);
	}
	/* 1000 received packets with small deltas: one run chunk. */
	for (size_t i = 0; i < 1000; i++)
		st[i] = (struct pl_rtcp_tcc_status){ (uint16_t)(65000 + i), true, 250 };
	tcc_round_trip(&h, st, 1000, &len);
	assert_int_equal(len, 20 + 2 + 1000 + 2);
	/* The maximum count, nothing received: ceil(65535 / 8191) run chunks. */
	for (size_t i = 0; i < 65535; i++)
		st[i] = (struct pl_rtcp_tcc_status){ (uint16_t)i, false, 0 };
	tcc_round_trip(&h, st, 65535, &len);
	assert_int_equal(len, 20 + 2 * 9 + 2);
}

static void test_rtcp_tcc_writer_errors(void **state)
{
	struct pl_rtcp_tcc_status st[2] = { { 5, true, 250 }, { 6, true, 1000 } };
	struct pl_rtcp_tcc h = { 1, 2, 0, 0, 0, 0 };
	uint8_t buf[64];
	size_t len;

	assert_int_equal(pl_rtcp_tcc_write(&h, st, 0, buf, sizeof(buf), &len), PL_EINVAL);
	st[1].delta_us = 1001;                                  /* not a multiple of 250 */
	assert_int_equal(pl_rtcp_tcc_write(&h, st, 2, buf, sizeof(buf), &len), PL_EINVAL);
	st[1].delta_us = 250 * 32768;                           /* past 16 signed bits */
	assert_int_equal(pl_rtcp_tcc_write(&h, st, 2, buf, sizeof(buf), &len), PL_EINVAL);
	st[1].delta_us = 250, st[1].seq = 7;                    /* a gap */
	assert_int_equal(pl_rtcp_tcc_write(&h, st, 2, buf, sizeof(buf), &len), PL_EINVAL);
	st[1].seq = 6, h.ref_time_64ms = 0x800000;
	assert_int_equal(pl_rtcp_tcc_write(&h, st, 2, buf, sizeof(buf), &len), PL_EINVAL);
	h.ref_time_64ms = 0;
	assert_int_equal(pl_rtcp_tcc_write(&h, st, 2, buf, sizeof(buf), &len), 0);
}

/* ---- Compound, padding, iteration ------------------------------------------ */

/* SR, SDES, PLI, NACK, TCC, REMB, FIR, RR, BYE in one datagram. */
static size_t build_compound(uint8_t *buf, size_t cap, size_t *offsets, size_t *count)
{
	struct pl_rtcp_sr sr = { 0 };
	struct pl_rtcp_sdes sdes = { 1, { { 7, "cname", 5 } } };
	struct pl_rtcp_remb remb = { 7, 500000, 2, { 8, 9 } };
	struct pl_rtcp_tcc h = { 7, 8, 0, 0, 1, 2 };
	struct pl_rtcp_tcc_status st[3] = { { 1, true, 500 }, { 2, false, 0 }, { 3, true, -750 } };
	struct pl_rtcp_fir_entry fe = { 8, 3 };
	struct pl_rtcp_rr rr = { 7, 0, { { 0 } } };
	struct pl_rtcp_bye bye = { 1, { 7 }, NULL, 0 };
	uint16_t seqs[] = { 10, 12 };
	size_t off = 0, len;

	sr.ssrc = 7, sr.report_count = 1, sr.reports[0].ssrc = 8;
	*count = 0;
#define ADD(call)                                                       \
	do {                                                            \
		offsets[(*count)++] = off;                              \
		assert_int_equal((call), 0);                            \
		off += len;                                             \
	} while (0)
	ADD(pl_rtcp_sr_write(&sr, buf + off, cap - off, &len));
	ADD(pl_rtcp_sdes_write(&sdes, buf + off, cap - off, &len));
	ADD(pl_rtcp_pli_write(7, 8, buf + off, cap - off, &len));
	ADD(pl_rtcp_nack_write(7, 8, seqs, 2, buf + off, cap - off, &len));
	ADD(pl_rtcp_tcc_write(&h, st, 3, buf + off, cap - off, &len));
	ADD(pl_rtcp_remb_write(&remb, buf + off, cap - off, &len));
	ADD(pl_rtcp_fir_write(7, &fe, 1, buf + off, cap - off, &len));
	ADD(pl_rtcp_rr_write(&rr, buf + off, cap - off, &len));
	ADD(pl_rtcp_bye_write(&bye, buf + off, cap - off, &len));
#undef ADD
	offsets[*count] = off;
	return off;
}

static void test_rtcp_compound_dispatch(void **state)
{
	uint8_t buf[1024];
	size_t offs[16], n, len = build_compound(buf, sizeof(buf), offs, &n);
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	size_t i = 0;

	assert_int_equal(pl_rtcp_compound_check(buf, len), 0);
	pl_rtcp_iter_init(&it, buf, len);
	while (pl_rtcp_iter_next(&it, &p) == 0) {
		assert_ptr_equal(p.data, buf + offs[i]);
		assert_int_equal(p.len, offs[i + 1] - offs[i]);
		switch (p.pt) {
		case PL_RTCP_SR: {
			struct pl_rtcp_sr sr;

			assert_int_equal(pl_rtcp_sr_parse(&p, &sr), 0);
			assert_int_equal(sr.reports[0].ssrc, 8);
			break;
		}
		case PL_RTCP_SDES: {
			struct pl_rtcp_sdes s;

			assert_int_equal(pl_rtcp_sdes_parse(&p, &s), 0);
			assert_memory_equal(s.chunks[0].cname, "cname", 5);
			break;
		}
		case PL_RTCP_RTPFB:
			if (p.count == PL_RTCP_FMT_NACK) {
				struct pl_rtcp_nack nk;
				uint16_t seqs[8];
				size_t k;

				assert_int_equal(pl_rtcp_nack_parse(&p, &nk), 0);
				assert_int_equal(pl_rtcp_nack_seqs(&nk, seqs, 8, &k), 0);
				assert_int_equal(k, 2);
				assert_int_equal(seqs[1], 12);
			} else {
				struct pl_rtcp_tcc h;
				struct pl_rtcp_tcc_status st[3];

				assert_int_equal(pl_rtcp_tcc_parse(&p, &h, st, 3), 0);
				assert_int_equal(st[2].delta_us, -750);
			}
			break;
		case PL_RTCP_PSFB:
			if (p.count == PL_RTCP_FMT_AFB) {
				struct pl_rtcp_remb r;

				assert_int_equal(pl_rtcp_remb_parse(&p, &r), 0);
				assert_true(r.bitrate_bps == 500000);
			} else if (p.count == PL_RTCP_FMT_FIR) {
				struct pl_rtcp_fir f;

				assert_int_equal(pl_rtcp_fir_parse(&p, &f), 0);
				assert_int_equal(pl_rtcp_fir_entry(&f, 0).seq, 3);
			} else {
				uint32_t s, m;

				assert_int_equal(pl_rtcp_pli_parse(&p, &s, &m), 0);
			}
			break;
		case PL_RTCP_RR: {
			struct pl_rtcp_rr rr;

			assert_int_equal(pl_rtcp_rr_parse(&p, &rr), 0);
			break;
		}
		case PL_RTCP_BYE: {
			struct pl_rtcp_bye b;

			assert_int_equal(pl_rtcp_bye_parse(&p, &b), 0);
			assert_int_equal(b.ssrcs[0], 7);
			break;
		}
		default:
			fail();
		}
		i++;
	}
	assert_int_equal(i, n);
}

static void test_rtcp_padding_and_header_errors(void **state)
{
	/* RR with 4 bytes of padding (P=1, length 2 words + 1). */
	uint8_t rr[] = { 0xa0, 201, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4 };
	uint8_t two[sizeof(rr) * 2];
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	struct pl_rtcp_rr out;

	p = one_pkt(rr, sizeof(rr));
	assert_int_equal(p.body_len, 4);
	assert_int_equal(pl_rtcp_rr_parse(&p, &out), 0);
	rr[11] = 0;                                             /* zero padding count */
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_EPROTO);
	rr[11] = 9;                                             /* past the body */
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_EPROTO);
	rr[11] = 8;                                             /* the whole body */
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), 0);
	p = one_pkt(rr, sizeof(rr));
	assert_int_equal(pl_rtcp_rr_parse(&p, &out), PL_ETRUNC);
	/* Padding on a packet that is not the last. */
	rr[11] = 4;
	memcpy(two, rr, sizeof(rr));
	memcpy(two + sizeof(rr), rr, sizeof(rr));
	assert_int_equal(pl_rtcp_compound_check(two, sizeof(two)), PL_EPROTO);
	two[0] = 0x80;
	assert_int_equal(pl_rtcp_compound_check(two, sizeof(two)), 0);
	/* Version, packet type. */
	rr[0] = 0x40;
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_EPROTO);
	rr[0] = 0x80, rr[1] = 96;                               /* an RTP payload type */
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_EPROTO);
	rr[1] = 224;
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_EPROTO);
	rr[1] = 201, rr[3] = 3;                                 /* one word too many */
	assert_int_equal(pl_rtcp_compound_check(rr, sizeof(rr)), PL_ETRUNC);
	/* An error ends the iteration for good. */
	pl_rtcp_iter_init(&it, rr, sizeof(rr));
	assert_int_equal(pl_rtcp_iter_next(&it, &p), PL_ETRUNC);
	assert_int_equal(pl_rtcp_iter_next(&it, &p), PL_ENOENT);
	assert_int_equal(pl_rtcp_compound_check(rr, 0), PL_ETRUNC);
	assert_int_equal(pl_rtcp_compound_check(rr, 3), PL_ETRUNC);
}

/* ---- Truncation everywhere ------------------------------------------------ */

/* Parses p with the parser of its type. */
static int parse_any(const struct pl_rtcp_pkt *p)
{
	struct pl_rtcp_sr sr;
	struct pl_rtcp_rr rr;
	struct pl_rtcp_sdes sdes;
	struct pl_rtcp_bye bye;
	struct pl_rtcp_nack nack;
	struct pl_rtcp_fir fir;
	struct pl_rtcp_remb remb;
	struct pl_rtcp_tcc tcc;
	static struct pl_rtcp_tcc_status st[65536];
	uint32_t s, m;

	switch (p->pt) {
	case PL_RTCP_SR:
		return pl_rtcp_sr_parse(p, &sr);
	case PL_RTCP_RR:
		return pl_rtcp_rr_parse(p, &rr);
	case PL_RTCP_SDES:
		return pl_rtcp_sdes_parse(p, &sdes);
	case PL_RTCP_BYE:
		return pl_rtcp_bye_parse(p, &bye);
	case PL_RTCP_RTPFB:
		if (p->count == PL_RTCP_FMT_NACK)
			return pl_rtcp_nack_parse(p, &nack);
		return pl_rtcp_tcc_parse(p, &tcc, st, 65536);
	case PL_RTCP_PSFB:
		if (p->count == PL_RTCP_FMT_PLI)
			return pl_rtcp_pli_parse(p, &s, &m);
		if (p->count == PL_RTCP_FMT_FIR)
			return pl_rtcp_fir_parse(p, &fir);
		return pl_rtcp_remb_parse(p, &remb);
	}
	return PL_EUNSUP;
}

static void test_rtcp_every_truncation(void **state)
{
	uint8_t buf[1024];
	size_t offs[16], n, len = build_compound(buf, sizeof(buf), offs, &n);

	/* Each packet alone: every prefix of the datagram is refused. */
	for (size_t k = 0; k < n; k++) {
		const uint8_t *pkt = buf + offs[k];
		size_t plen = offs[k + 1] - offs[k];
		struct pl_rtcp_pkt p = one_pkt(pkt, plen);

		assert_int_equal(parse_any(&p), 0);
		for (size_t cut = 0; cut < plen; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);

			memcpy(copy, pkt, cut);
			assert_int_equal(pl_rtcp_compound_check(copy, cut), PL_ETRUNC);
			free(copy);
		}
	}
	/* The compound: a cut inside a packet is refused, a cut on a packet
	 * boundary leaves a shorter valid compound. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		bool boundary = false;

		for (size_t k = 1; k < n; k++)
			boundary |= offs[k] == cut;
		memcpy(copy, buf, cut);
		assert_int_equal(pl_rtcp_compound_check(copy, cut), boundary ? 0 : PL_ETRUNC);
		free(copy);
	}
}

static void test_rtcp_every_shorter_length_field(void **state)
{
	/* Types whose header counts announce their size: a packet whose length
	 * field is any smaller number of words is refused by its parser. */
	uint8_t buf[1024];
	size_t offs[16], n;

	build_compound(buf, sizeof(buf), offs, &n);
	for (size_t k = 0; k < n; k++) {
		uint8_t *pkt = buf + offs[k];
		size_t words = (offs[k + 1] - offs[k]) / 4;

		if (pkt[1] == PL_RTCP_BYE || (pkt[1] == PL_RTCP_RTPFB && (pkt[0] & 0x1f) == 1) ||
		    (pkt[1] == PL_RTCP_PSFB && (pkt[0] & 0x1f) != PL_RTCP_FMT_AFB))
			continue;       /* NACK/FIR item lists and PLI have no count */
		for (size_t w = 1; w < words; w++) {
			uint8_t copy[1024];
			struct pl_rtcp_pkt p;
			int rc;

			memcpy(copy, pkt, 4 * w);
			pl_wr16(copy + 2, (uint16_t)(w - 1));
			p = one_pkt(copy, 4 * w);
			rc = parse_any(&p);
			assert_true(rc == PL_ETRUNC || rc == PL_EPROTO);
		}
	}
}

static void test_rtcp_garbage(void **state)
{
	uint8_t buf[256];

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = next_rand() % sizeof(buf);
		struct pl_rtcp_iter it;
		struct pl_rtcp_pkt p;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next_rand();
		if (len >= 4) {                         /* plausible headers, lengths */
			buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));
			buf[1] = (uint8_t)(200 + buf[1] % 7);
			buf[2] = 0;
			buf[3] = (uint8_t)(buf[3] % (len / 4 + 1));
		}
		pl_rtcp_iter_init(&it, buf, len);
		while (pl_rtcp_iter_next(&it, &p) == 0) {
			assert_true(p.data + p.len <= buf + len);
			parse_any(&p);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtcp_sr_bytes_and_round_trip),
		cmocka_unit_test(test_rtcp_rr_round_trip),
		cmocka_unit_test(test_rtcp_sdes),
		cmocka_unit_test(test_rtcp_bye),
		cmocka_unit_test(test_rtcp_nack),
		cmocka_unit_test(test_rtcp_pli_fir),
		cmocka_unit_test(test_rtcp_remb),
		cmocka_unit_test(test_rtcp_tcc_draft_examples),
		cmocka_unit_test(test_rtcp_tcc_bad),
		cmocka_unit_test(test_rtcp_tcc_round_trips),
		cmocka_unit_test(test_rtcp_tcc_writer_errors),
		cmocka_unit_test(test_rtcp_compound_dispatch),
		cmocka_unit_test(test_rtcp_padding_and_header_errors),
		cmocka_unit_test(test_rtcp_every_truncation),
		cmocka_unit_test(test_rtcp_every_shorter_length_field),
		cmocka_unit_test(test_rtcp_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
