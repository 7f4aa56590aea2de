/* tests/fuzz/gen_seeds.c: writes the binary seed corpora of tests/fuzz.
 *
 *   build-fuzz/tests/fuzz/fuzz_gen_seeds tests/fuzz/corpus
 *
 * The seeds are what Parley meets on the wire, made with its own writers
 * and the vectors of the unit tests: RTP with the header extensions
 * Chromium sends (mid, transport-wide seq, abs-send-time, audio level),
 * the RFC 8285 one- and two-byte examples of tests/unit/test_rtp.c, CSRCs
 * and padding, RTX; compound RTCP as browsers send it (SR + SDES, RR +
 * REMB), NACK, PLI, FIR, BYE, the transport-cc examples of the draft
 * (tests/unit/test_rtcp.c) and feedback from the recorder of media/twcc.h;
 * a real DTLS ClientHello from media/dtls.c; VP8 payload descriptors of
 * every shape; Opus packets from libopus (mono, stereo, DTX) and the
 * four TOC codes.  The text corpora (SDP, JSON messages, JWTs) are copies
 * of real captures and `parleyd token` output; see docs/fuzzing.md.
 * Output is deterministic except the ClientHello's random.
 */
#include "codecs/opus.h"
#include "common/err.h"
#include "media/dtls.h"
#include "media/nack.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/twcc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *root;

static void put(const char *dir, const char *name, const uint8_t *b, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Writes to the target's corpus and, for datagrams, to the demux corpus. */
static void put2(const char *dir, const char *name, const uint8_t *b, size_t len)
{
	char n[256];

	put(dir, name, b, len);
	snprintf(n, sizeof(n), "%s_%s", dir, name);
	put("demux", n, b, len);
}

static void must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", what, pl_strerror(rc));
		exit(1);
	}
}

/* ---- RTP ---------------------------------------------------------------- */

static size_t rtp(uint8_t *out, uint8_t pt, uint16_t seq, bool marker, const struct pl_rtp_ext_writer *w,
		  const uint8_t *payload, size_t plen, uint8_t pad, uint8_t csrcs)
{
	struct pl_rtp_header h = { .marker = marker, .pt = pt, .seq = seq, .ts = 0x12345678u + seq * 960u,
				   .ssrc = 0x1a2b3c4du, .csrc_count = csrcs };
	size_t len;

	for (unsigned i = 0; i < csrcs; i++)
		h.csrc[i] = 0x01010101u * (i + 1);
	must(pl_rtp_write(&h, w, payload, plen, pad, out, 1500, &len), "rtp");
	return len;
}

static void gen_rtp(void)
{
	/* tests/unit/test_rtp.c: RFC 8285 sections 4.2 and 4.3, CSRC + padding. */
	static const uint8_t one_byte[] = { 0x90, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,
					    0x00, 0x00, 0x00, 0x20, 0xbe, 0xde, 0x00, 0x03,
					    0x10, 0xaa, 0x21, 0xbb, 0xcc, 0x00, 0x00, 0x33,
					    0x01, 0x02, 0x03, 0x04, 'x', 'y' };
	static const uint8_t two_byte[] = { 0x90, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,
					    0x00, 0x00, 0x00, 0x20, 0x10, 0x00, 0x00, 0x03,
					    0x01, 0x00, 0x02, 0x01, 0xaa, 0x00, 0x03, 0x04,
					    0x01, 0x02, 0x03, 0x04, 'x', 'y' };
	static const uint8_t csrc_pad[] = { 0xa2, 0x08, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
					    0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x11, 0x11, 0x11,
					    0x22, 0x22, 0x22, 0x22, 'p', 'q', 0x00, 0x00, 0x03 };
	/* A VP8 keyframe start: descriptor X=1 S=1, I with 15-bit picture id,
	 * then the first bytes of a VP8 keyframe header (P=0). */
	static const uint8_t vp8[] = { 0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a,
				       0x80, 0x02, 0xe0, 0x01 };
	static const uint8_t opus[] = { 0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x8d };
	struct pl_rtp_ext_writer w;
	struct pl_rtx_stream rtx;
	uint8_t b[1600], r[1600], d[3];
	size_t len, rlen;

	put2("rtp", "rfc8285_one_byte", one_byte, sizeof(one_byte));
	put2("rtp", "rfc8285_two_byte", two_byte, sizeof(two_byte));
	put2("rtp", "csrc_padding", csrc_pad, sizeof(csrc_pad));

	/* Chromium video: mid (id 4), abs-send-time (2), transport-cc (3). */
	pl_rtp_ext_writer_init(&w);
	d[0] = 0x12, d[1] = 0x34, d[2] = 0x56;
	must(pl_rtp_ext_writer_add(&w, 2, d, 3), "ext");
	d[0] = 0x00, d[1] = 0x2a;
	must(pl_rtp_ext_writer_add(&w, 3, d, 2), "ext");
	must(pl_rtp_ext_writer_add(&w, 4, (const uint8_t *)"1", 1), "ext");
	len = rtp(b, 96, 4242, true, &w, vp8, sizeof(vp8), 0, 0);
	put2("rtp", "chromium_vp8_keyframe", b, len);

	/* Its retransmission (RTX, RFC 4588) and a padding-only probe. */
	pl_rtx_stream_init(&rtx, 0x5eed0001u, 97, 100);
	must(pl_rtx_stream_write(&rtx, b, len, r, sizeof(r), &rlen), "rtx");
	put2("rtp", "chromium_vp8_rtx", r, rlen);
	len = rtp(b, 97, 101, false, &w, NULL, 0, 224, 0);
	put2("rtp", "rtx_padding_probe", b, len);

	/* Chromium audio: audio level (1, with V bit), mid, transport-cc. */
	pl_rtp_ext_writer_init(&w);
	d[0] = 0x80 | 42;
	must(pl_rtp_ext_writer_add(&w, 1, d, 1), "ext");
	d[0] = 0x00, d[1] = 0x2b;
	must(pl_rtp_ext_writer_add(&w, 3, d, 2), "ext");
	must(pl_rtp_ext_writer_add(&w, 4, (const uint8_t *)"0", 1), "ext");
	len = rtp(b, 111, 7, false, &w, opus, sizeof(opus), 0, 0);
	put2("rtp", "chromium_opus", b, len);

	/* Two-byte form forced (an id of 15 and an empty element). */
	pl_rtp_ext_writer_init(&w);
	must(pl_rtp_ext_writer_add(&w, 15, (const uint8_t *)"rid-h", 5), "ext");
	must(pl_rtp_ext_writer_add(&w, 200, NULL, 0), "ext");
	len = rtp(b, 100, 65535, true, &w, opus, sizeof(opus), 3, 2);
	put2("rtp", "two_byte_csrc_padding", b, len);
}

/* ---- RTCP --------------------------------------------------------------- */

static void gen_rtcp(void)
{
	static const uint8_t remb[] = { 0x8f, 206, 0x00, 0x05, 0x00, 0x00, 0x00, 0x2a, 0, 0, 0, 0,
					'R', 'E', 'M', 'B', 0x01, 0x0b, 0xd0, 0x90,
					0x11, 0x22, 0x33, 0x44 };
	struct pl_rtcp_sr sr = { .ssrc = 0x1a2b3c4du, .ntp = 0xe9a1b2c3d4e5f607ull,
				 .rtp_ts = 123456, .packet_count = 100, .octet_count = 64000,
				 .report_count = 1 };
	struct pl_rtcp_rr rr = { .ssrc = 1, .report_count = 2 };
	struct pl_rtcp_sdes sdes = { .chunk_count = 1 };
	struct pl_rtcp_bye bye = { .ssrc_count = 1, .ssrcs = { 0x1a2b3c4du }, .reason = "bye",
				   .reason_len = 3 };
	struct pl_rtcp_fir_entry fe = { .ssrc = 0x1a2b3c4du, .seq = 7 };
	static const uint16_t lost[] = { 100, 101, 103, 116, 117, 500 };
	struct pl_rtcp_report rep = { .ssrc = 0x1a2b3c4du, .fraction_lost = 12,
				      .cumulative_lost = -3, .ext_highest_seq = 0x10005,
				      .jitter = 40, .lsr = 0xb2c3d4e5, .dlsr = 65536 };
	static struct pl_twcc_rx twcc;
	struct pl_rtcp_tcc_status st[40];
	struct pl_rtcp_tcc tcc = { .sender_ssrc = 1, .media_ssrc = 2, .ref_time_64ms = 1000,
				   .fb_count = 9 };
	uint8_t b[1500];
	size_t len, n;

	sr.reports[0] = rep;
	sdes.chunks[0] = (struct pl_rtcp_sdes_chunk){ .ssrc = 0x1a2b3c4du, .cname = "4TOk42mSjXCkVIa6",
						      .cname_len = 16 };
	must(pl_rtcp_sr_write(&sr, b, sizeof(b), &len), "sr");
	must(pl_rtcp_sdes_write(&sdes, b + len, sizeof(b) - len, &n), "sdes");
	put2("rtcp", "sr_sdes", b, len + n);
	rr.reports[0] = rep, rr.reports[1] = rep;
	rr.reports[1].ssrc = 0x5eed0001u;
	must(pl_rtcp_rr_write(&rr, b, sizeof(b), &len), "rr");
	memcpy(b + len, remb, sizeof(remb));
	put2("rtcp", "rr_remb", b, len + sizeof(remb));
	must(pl_rtcp_bye_write(&bye, b, sizeof(b), &len), "bye");
	put2("rtcp", "bye", b, len);
	must(pl_rtcp_nack_write(1, 0x1a2b3c4du, lost, 6, b, sizeof(b), &len), "nack");
	put2("rtcp", "nack", b, len);
	must(pl_rtcp_pli_write(1, 0x1a2b3c4du, b, sizeof(b), &len), "pli");
	must(pl_rtcp_fir_write(1, &fe, 1, b + len, sizeof(b) - len, &n), "fir");
	put2("rtcp", "pli_fir", b, len + n);

	/* Transport-cc: a run, a 1-bit vector, a 2-bit vector with a negative
	 * delta (the draft's examples, as tests/unit/test_rtcp.c has them). */
	for (int i = 0; i < 40; i++) {
		st[i].seq = (uint16_t)(65530 + i);
		st[i].received = i < 20 || (i % 3) != 0;
		st[i].delta_us = !st[i].received ? 0 : i == 25 ? -250 : i == 30 ? 70000 : 250 * (i % 5);
	}
	tcc.base_seq = 65530;
	must(pl_rtcp_tcc_write(&tcc, st, 40, b, sizeof(b), &len), "tcc");
	put2("rtcp", "tcc_mixed", b, len);

	/* What the recorder sends for a stream with a lost and a late packet. */
	pl_twcc_rx_init(&twcc);
	for (int i = 0; i < 30; i++)
		if (i != 7)
			pl_twcc_rx_on_packet(&twcc, (uint16_t)(1000 + i), 5000000 + i * 20000 + (i % 4) * 300);
	must(pl_twcc_rx_build(&twcc, 1, 2, b, sizeof(b), &len), "twcc");
	put2("rtcp", "twcc_feedback", b, len);

	/* Version 0 inputs drive the recorder in fuzz_rtcp: (seq, gap) triples. */
	{
		static const uint8_t rec[] = { 0x00, 0x03, 0xe8, 0x14, 0x03, 0xe9, 0x14, 0x03, 0xeb,
					       0x20, 0x03, 0xea, 0x01, 0x10, 0x00, 0xff };
		put("rtcp", "twcc_recorder", rec, sizeof(rec));
	}
}

/* ---- DTLS, STUN, TURN: the other demux classes ------------------------- */

static uint8_t hello[4096];
static size_t hello_len;

static void capture(void *ud, const uint8_t *buf, size_t len)
{
	if (!hello_len && len <= sizeof(hello))
		memcpy(hello, buf, len), hello_len = len;
}

static void nop_connected(void *ud, const struct pl_dtls_keys *k)
{
}

static void nop_failed(void *ud, int err)
{
}

static void gen_demux(void)
{
	static const struct pl_dtls_callbacks cb = { .send = capture, .connected = nop_connected,
						     .failed = nop_failed };
	/* A STUN binding request (RFC 5389) with USERNAME, as browsers send. */
	static const uint8_t stun[] = { 0x00, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42,
					1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					0x00, 0x06, 0x00, 0x08, 'a', 'b', 'c', 'd', ':', 'e', 'f', 'g' };
	/* TURN ChannelData (RFC 8656) carrying 4 bytes. */
	static const uint8_t turn[] = { 0x40, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef };
	struct pl_dtls_cert *cert;
	struct pl_dtls *d;

	must(pl_dtls_cert_generate(&cert), "cert");
	must(pl_dtls_create(cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(cert), &cb, NULL, &d),
	     "dtls");
	must(pl_dtls_start(d), "dtls start");
	if (!hello_len) {
		fprintf(stderr, "no ClientHello\n");
		exit(1);
	}
	put("demux", "dtls_client_hello", hello, hello_len);
	put("demux", "stun_binding_request", stun, sizeof(stun));
	put("demux", "turn_channel_data", turn, sizeof(turn));
	pl_dtls_destroy(d);
	pl_dtls_cert_destroy(cert);
}

/* ---- VP8 and Opus payloads -------------------------------------------- */

static void gen_vp8(void)
{
	static const struct {
		const char *name;
		uint8_t b[12];
		size_t len;
	} s[] = {
		{ "minimal_keyframe", { 0x10, 0x00, 0x9d, 0x01, 0x2a }, 5 },
		{ "picture_id_7bit", { 0x90, 0x80, 0x05, 0x31, 0x00 }, 5 },
		{ "picture_id_15bit_keyframe", { 0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x00, 0x9d }, 8 },
		{ "all_fields", { 0x90, 0xf0, 0xff, 0xfe, 0x11, 0xa5, 0x00, 0x9d, 0x01, 0x2a }, 10 },
		{ "middle_partition", { 0x03, 0x55, 0x66 }, 3 },
		{ "interframe_tid", { 0x90, 0xa0, 0x4e, 0x00 }, 4 },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		put("vp8", s[i].name, s[i].b, s[i].len);
}

static void gen_opus(void)
{
	static const struct {
		const char *name;
		uint8_t b[4];
		size_t len;
	} toc[] = {
		{ "code1_celt_fb_20ms", { 0xfd, 0x11, 0x22 }, 3 },
		{ "code2_silk_nb_10ms", { 0x02, 0x01, 0xaa, 0xbb }, 4 },
		{ "code3_3frames_hybrid", { 0x7b, 0x03, 0x01, 0x02 }, 4 },
		{ "code3_vbr_padding", { 0x0b, 0xc2, 0x01, 0x02 }, 4 },
	};
	struct pl_opus_enc_config cfg[] = {
		{ .channels = 1 },
		{ .channels = 2, .bitrate_bps = 96000, .music = true },
		{ .channels = 1, .bitrate_bps = 12000, .fec = true, .expected_loss_pct = 10 },
	};
	static const char *names[] = { "libopus_mono_voip", "libopus_stereo_music", "libopus_fec" };
	int16_t pcm[PL_OPUS_FRAME_SAMPLES * 2];
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
	size_t len;

	for (size_t i = 0; i < sizeof(toc) / sizeof(toc[0]); i++)
		put("opus", toc[i].name, toc[i].b, toc[i].len);
	for (size_t c = 0; c < 3; c++) {
		struct pl_opus_enc *e;
		must(pl_opus_enc_create(&cfg[c], &e), "opus");
		for (int f = 0; f < 3; f++) { /* the third frame is past the start-up */
			for (int i = 0; i < PL_OPUS_FRAME_SAMPLES * cfg[c].channels; i++)
				pcm[i] = (int16_t)(8000 * sin((f * PL_OPUS_FRAME_SAMPLES + i) * 0.0571));
			must(pl_opus_enc_encode(e, pcm, pkt, sizeof(pkt), &len), "encode");
		}
		put("opus", names[c], pkt, len);
		pl_opus_enc_destroy(e);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_ROOT (tests/fuzz/corpus)\n", argv[0]);
		return 2;
	}
	root = argv[1];
	gen_rtp();
	gen_rtcp();
	gen_demux();
	gen_vp8();
	gen_opus();
	return 0;
}
