/* tests/fuzz/fuzz_rtcp.c: compound RTCP (media/rtcp.h), every packet
 * parser, generic NACK expansion and transport-cc feedback.
 *
 * One input is one RTCP datagram after SRTCP unprotect.  The compound
 * iterator must account for it (packets inside the buffer, each a multiple
 * of 4 bytes) and agree with pl_rtcp_compound_check().  Every packet goes
 * through every parser (a parser must refuse a packet of another type, not
 * misread it).  What parses and has a writer is written back and parsed
 * again: SR, RR and BYE must give the same fields, a NACK the same set of
 * sequence numbers, a transport-cc feedback the same per-packet statuses
 * and deltas (the writer picks its own chunk encoding).  Finally the
 * receive side of transport-cc (media/twcc.h) is driven with sequence
 * numbers and arrival times taken from the input, and the feedback it
 * builds must parse and report as received only what it was told
 * (inputs whose first byte has version 0, which no RTCP packet has).
 */
#include "fuzz.h"

#include "common/err.h"
#include "media/rtcp.h"
#include "media/twcc.h"

#include <stdbool.h>
#include <string.h>

#define OUT_CAP 300000

static uint8_t out[OUT_CAP];
static uint16_t seqs_a[17 * 65536], seqs_b[17 * 65536];
static struct pl_rtcp_tcc_status st_a[65536], st_b[65536];

/* The first packet of a datagram the writers produced. */
static void first_packet(const uint8_t *buf, size_t len, struct pl_rtcp_pkt *p)
{
	struct pl_rtcp_iter it;

	pl_rtcp_iter_init(&it, buf, len);
	FUZZ_CHECK(pl_rtcp_iter_next(&it, p) == 0);
	FUZZ_CHECK(p->len == len);
}

static bool same_reports(const struct pl_rtcp_report *a, const struct pl_rtcp_report *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].ssrc != b[i].ssrc || a[i].fraction_lost != b[i].fraction_lost ||
		    a[i].cumulative_lost != b[i].cumulative_lost ||
		    a[i].ext_highest_seq != b[i].ext_highest_seq || a[i].jitter != b[i].jitter ||
		    a[i].lsr != b[i].lsr || a[i].dlsr != b[i].dlsr)
			return false;
	return true;
}

static void check_sr_rr(const struct pl_rtcp_pkt *p)
{
	static struct pl_rtcp_sr sr, sr2;
	static struct pl_rtcp_rr rr, rr2;
	struct pl_rtcp_pkt q;
	size_t len;

	if (pl_rtcp_sr_parse(p, &sr) == 0) {
		FUZZ_CHECK(p->pt == PL_RTCP_SR && sr.report_count == p->count);
		FUZZ_CHECK(pl_rtcp_sr_write(&sr, out, OUT_CAP, &len) == 0);
		first_packet(out, len, &q);
		FUZZ_CHECK(pl_rtcp_sr_parse(&q, &sr2) == 0);
		FUZZ_CHECK(sr2.ssrc == sr.ssrc && sr2.ntp == sr.ntp && sr2.rtp_ts == sr.rtp_ts);
		FUZZ_CHECK(sr2.packet_count == sr.packet_count && sr2.octet_count == sr.octet_count);
		FUZZ_CHECK(sr2.report_count == sr.report_count);
		FUZZ_CHECK(same_reports(sr.reports, sr2.reports, sr.report_count));
	}
	if (pl_rtcp_rr_parse(p, &rr) == 0) {
		FUZZ_CHECK(p->pt == PL_RTCP_RR && rr.report_count == p->count);
		FUZZ_CHECK(pl_rtcp_rr_write(&rr, out, OUT_CAP, &len) == 0);
		first_packet(out, len, &q);
		FUZZ_CHECK(pl_rtcp_rr_parse(&q, &rr2) == 0);
		FUZZ_CHECK(rr2.ssrc == rr.ssrc && rr2.report_count == rr.report_count);
		FUZZ_CHECK(same_reports(rr.reports, rr2.reports, rr.report_count));
	}
}

static void check_sdes_bye(const struct pl_rtcp_pkt *p)
{
	static struct pl_rtcp_sdes sdes;
	struct pl_rtcp_bye bye, bye2;
	struct pl_rtcp_pkt q;
	size_t len;

	if (pl_rtcp_sdes_parse(p, &sdes) == 0) {
		FUZZ_CHECK(p->pt == PL_RTCP_SDES && sdes.chunk_count == p->count);
		for (unsigned i = 0; i < sdes.chunk_count; i++) {
			const char *c = sdes.chunks[i].cname;
			FUZZ_CHECK(!c || ((const uint8_t *)c >= p->body &&
					  (const uint8_t *)c + sdes.chunks[i].cname_len <= p->body + p->body_len));
		}
	}
	if (pl_rtcp_bye_parse(p, &bye) == 0) {
		FUZZ_CHECK(p->pt == PL_RTCP_BYE && bye.ssrc_count == p->count);
		FUZZ_CHECK(!bye.reason || ((const uint8_t *)bye.reason + bye.reason_len <=
					   p->body + p->body_len));
		FUZZ_CHECK(pl_rtcp_bye_write(&bye, out, OUT_CAP, &len) == 0);
		first_packet(out, len, &q);
		FUZZ_CHECK(pl_rtcp_bye_parse(&q, &bye2) == 0);
		FUZZ_CHECK(bye2.ssrc_count == bye.ssrc_count &&
			   memcmp(bye2.ssrcs, bye.ssrcs, 4u * bye.ssrc_count) == 0);
		FUZZ_CHECK(bye2.reason_len == bye.reason_len && (!bye.reason) == (!bye2.reason));
		FUZZ_CHECK(!bye.reason_len || memcmp(bye.reason, bye2.reason, bye.reason_len) == 0);
	}
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static size_t sort_unique(uint16_t *s, size_t n)
{
	size_t k = 0;

	qsort(s, n, sizeof(*s), cmp_u16);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || s[k - 1] != s[i])
			s[k++] = s[i];
	return k;
}

static void check_nack(const struct pl_rtcp_pkt *p)
{
	struct pl_rtcp_nack nack, nack2;
	struct pl_rtcp_pkt q;
	size_t n, n2, len;

	if (pl_rtcp_nack_parse(p, &nack) != 0)
		return;
	FUZZ_CHECK(p->pt == PL_RTCP_RTPFB && p->count == PL_RTCP_FMT_NACK);
	FUZZ_CHECK(nack.items >= p->body && nack.items + 4 * nack.item_count <= p->body + p->body_len);
	FUZZ_CHECK(pl_rtcp_nack_seqs(&nack, seqs_a, 17 * nack.item_count, &n) == 0);
	if (nack.item_count > 0 && n > 1) /* too small a cap must be refused, not overrun */
		FUZZ_CHECK(pl_rtcp_nack_seqs(&nack, seqs_b, n - 1, &n2) == PL_ETOOBIG);
	if (n == 0)
		return;
	if (pl_rtcp_nack_write(nack.sender_ssrc, nack.media_ssrc, seqs_a, n, out, OUT_CAP, &len) != 0)
		return;
	first_packet(out, len, &q);
	FUZZ_CHECK(pl_rtcp_nack_parse(&q, &nack2) == 0);
	FUZZ_CHECK(nack2.sender_ssrc == nack.sender_ssrc && nack2.media_ssrc == nack.media_ssrc);
	FUZZ_CHECK(pl_rtcp_nack_seqs(&nack2, seqs_b, 17 * nack2.item_count, &n2) == 0);
	n = sort_unique(seqs_a, n);
	n2 = sort_unique(seqs_b, n2);
	FUZZ_CHECK(n == n2 && memcmp(seqs_a, seqs_b, n * sizeof(seqs_a[0])) == 0);
}

static void check_psfb(const struct pl_rtcp_pkt *p)
{
	static struct pl_rtcp_remb remb;
	struct pl_rtcp_fir fir;
	uint32_t a, b;

	if (pl_rtcp_pli_parse(p, &a, &b) == 0)
		FUZZ_CHECK(p->pt == PL_RTCP_PSFB && p->count == PL_RTCP_FMT_PLI);
	if (pl_rtcp_fir_parse(p, &fir) == 0) {
		FUZZ_CHECK(p->pt == PL_RTCP_PSFB && p->count == PL_RTCP_FMT_FIR);
		FUZZ_CHECK(fir.entries + 8 * fir.entry_count <= p->body + p->body_len);
		for (size_t i = 0; i < fir.entry_count; i++)
			(void)pl_rtcp_fir_entry(&fir, i);
	}
	if (pl_rtcp_remb_parse(p, &remb) == 0)
		FUZZ_CHECK(p->pt == PL_RTCP_PSFB && p->count == PL_RTCP_FMT_AFB);
}

static void check_tcc(const struct pl_rtcp_pkt *p)
{
	struct pl_rtcp_tcc tcc, tcc2;
	struct pl_rtcp_pkt q;
	size_t len;
	int rc;

	rc = pl_rtcp_tcc_parse(p, &tcc, NULL, 0);
	if (rc != 0)
		return;
	FUZZ_CHECK(p->pt == PL_RTCP_RTPFB && p->count == PL_RTCP_FMT_TCC && tcc.status_count > 0);
	if (tcc.status_count > 1) /* a cap below status_count is refused */
		FUZZ_CHECK(pl_rtcp_tcc_parse(p, &tcc2, st_a, tcc.status_count - 1u) == PL_ETOOBIG);
	if (pl_rtcp_tcc_parse(p, &tcc, st_a, 65536) != 0)
		return;
	for (size_t i = 0; i < tcc.status_count; i++) {
		FUZZ_CHECK(st_a[i].seq == (uint16_t)(tcc.base_seq + i));
		FUZZ_CHECK(st_a[i].delta_us % 250 == 0);
		FUZZ_CHECK(st_a[i].received || st_a[i].delta_us == 0);
	}
	/* Every parsed delta is encodable, so the writer must take it back. */
	rc = pl_rtcp_tcc_write(&tcc, st_a, tcc.status_count, out, OUT_CAP, &len);
	FUZZ_CHECK(rc == 0);
	first_packet(out, len, &q);
	FUZZ_CHECK(pl_rtcp_tcc_parse(&q, &tcc2, st_b, 65536) == 0);
	FUZZ_CHECK(tcc2.base_seq == tcc.base_seq && tcc2.status_count == tcc.status_count);
	FUZZ_CHECK(tcc2.ref_time_64ms == tcc.ref_time_64ms && tcc2.fb_count == tcc.fb_count);
	for (size_t i = 0; i < tcc.status_count; i++)
		FUZZ_CHECK(st_b[i].received == st_a[i].received && st_b[i].delta_us == st_a[i].delta_us);
}

/* The transport-cc recorder, fed (seq, gap) pairs from the input. */
static void check_twcc_rx(const uint8_t *data, size_t size)
{
	static struct pl_twcc_rx rx;
	static bool got[65536];
	struct pl_rtcp_pkt q;
	struct pl_rtcp_tcc tcc;
	int64_t now = 1000000;
	size_t len, rounds = 0;

	pl_twcc_rx_init(&rx);
	memset(got, 0, sizeof(got));
	for (size_t i = 0; i + 3 <= size && i < 3 * 128; i += 3) {
		uint16_t seq = (uint16_t)(data[i] << 8 | data[i + 1]);
		now += (int64_t)data[i + 2] * 997; /* 0-254 ms steps, not multiples of 250 us */
		pl_twcc_rx_on_packet(&rx, seq, now);
		got[seq] = true;
	}
	while (pl_twcc_rx_build(&rx, 1, 2, out, 1500, &len) == 0) {
		FUZZ_CHECK(++rounds <= 2048);
		first_packet(out, len, &q);
		FUZZ_CHECK(pl_rtcp_tcc_parse(&q, &tcc, st_a, 65536) == 0);
		FUZZ_CHECK(tcc.status_count <= PL_TWCC_MAX_PER_FB);
		for (size_t i = 0; i < tcc.status_count; i++)
			if (st_a[i].received) /* only what was recorded can be reported */
				FUZZ_CHECK(got[st_a[i].seq]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	size_t total = 0, packets = 0;
	int rc, check;

	check = pl_rtcp_compound_check(data, size);
	pl_rtcp_iter_init(&it, data, size);
	while ((rc = pl_rtcp_iter_next(&it, &p)) == 0) {
		FUZZ_CHECK(++packets <= size / 4);
		FUZZ_CHECK(p.data == data + total && p.len % 4 == 0 && p.len >= 4);
		FUZZ_CHECK(p.body == p.data + 4 && p.body_len <= p.len - 4);
		FUZZ_CHECK(p.pt >= 192 && p.pt <= 223 && p.count < 32);
		total += p.len;
		FUZZ_CHECK(total <= size);
		check_sr_rr(&p);
		check_sdes_bye(&p);
		check_nack(&p);
		check_psfb(&p);
		check_tcc(&p);
	}
	FUZZ_CHECK(rc != 0);
	if (rc == PL_ENOENT)
		FUZZ_CHECK(total == size && check == (size ? 0 : PL_ETRUNC));
	else
		FUZZ_CHECK(check == rc && (rc == PL_ETRUNC || rc == PL_EPROTO));
	FUZZ_CHECK(pl_rtcp_iter_next(&it, &p) != 0); /* an iterator stays at its end */
	/* Version 0 cannot be RTCP: such inputs drive the recorder instead, so
	 * its cost (a window scan per feedback) is paid by a quarter of them. */
	if (size > 0 && (data[0] >> 6) == 0)
		check_twcc_rx(data + 1, size - 1);
	return 0;
}
