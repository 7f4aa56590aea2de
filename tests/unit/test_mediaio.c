/* tests/unit/test_mediaio.c: WAV, Y4M, IVF and Ogg Opus round trips and
 * damage, the Ogg CRC against known vectors and a third-party file, and
 * the generators' determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/mediaio.h"
#include "client/quality.h"
#include "codecs/opus.h"
#include "common/err.h"

static void tmp_path(char *buf, size_t cap, const char *ext)
{
	char tmpl[] = "/tmp/pl_mediaio_XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	close(fd);
	unlink(tmpl);
	snprintf(buf, cap, "%s%s", tmpl, ext);
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)len + 1);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

/* ---- WAV ------------------------------------------------------------ */

static void test_wav_round_trip(void **state)
{
	char path[64];
	int16_t *src = malloc(48000 * 2 * sizeof(int16_t)), *dst = malloc(48000 * 2 * sizeof(int16_t));
	struct pl_speech sp;
	struct pl_wav_writer *w;
	struct pl_wav_reader *r;
	struct pl_wav_info info;
	size_t got, total = 0;

	tmp_path(path, sizeof(path), ".wav");
	pl_speech_init(&sp, 3, 48000, 2);
	pl_speech_fill(&sp, src, 48000);
	assert_int_equal(pl_wav_writer_create(path, 48000, 2, &w), 0);
	assert_int_equal(pl_wav_writer_write(w, src, 1000), 0);
	assert_int_equal(pl_wav_writer_finish(w), 0);     /* valid mid-way */
	assert_int_equal(pl_wav_writer_write(w, src + 2000, 47000), 0);
	pl_wav_writer_destroy(w);

	assert_int_equal(pl_wav_reader_create(path, &r), 0);
	pl_wav_reader_info(r, &info);
	assert_int_equal(info.rate_hz, 48000);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.frames, 48000);
	while (pl_wav_reader_read(r, dst + total * 2, 4096, &got) == 0 && got)
		total += got;
	assert_int_equal(total, 48000);
	assert_memory_equal(src, dst, 48000 * 2 * sizeof(int16_t));
	assert_int_equal(pl_wav_reader_rewind(r), 0);
	assert_int_equal(pl_wav_reader_read(r, dst, 10, &got), 0);
	assert_int_equal(got, 10);
	assert_memory_equal(src, dst, 10 * 2 * sizeof(int16_t));
	pl_wav_reader_destroy(r);
	unlink(path);
	free(src);
	free(dst);
}

static void test_wav_extensible_with_extra_chunks(void **state)
{
	/* WAVE_FORMAT_EXTENSIBLE mono 16 kHz with a LIST chunk before the
	 * data and an odd-sized junk chunk (padded). */
	static const uint8_t wav[] = {
		'R', 'I', 'F', 'F', 100, 0, 0, 0, 'W', 'A', 'V', 'E',
		'j', 'u', 'n', 'k', 3, 0, 0, 0, 1, 2, 3, 0,
		'f', 'm', 't', ' ', 40, 0, 0, 0,
		0xfe, 0xff, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0,
		22, 0, 16, 0, 4, 0, 0, 0,
		1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
		'L', 'I', 'S', 'T', 4, 0, 0, 0, 'I', 'N', 'F', 'O',
		'd', 'a', 't', 'a', 6, 0, 0, 0, 0x01, 0x00, 0xff, 0xff, 0x00, 0x80,
	};
	char path[64];
	struct pl_wav_reader *r;
	struct pl_wav_info info;
	int16_t pcm[8];
	size_t got;

	tmp_path(path, sizeof(path), ".wav");
	write_file(path, wav, sizeof(wav));
	assert_int_equal(pl_wav_reader_create(path, &r), 0);
	pl_wav_reader_info(r, &info);
	assert_int_equal(info.rate_hz, 16000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.frames, 3);
	assert_int_equal(pl_wav_reader_read(r, pcm, 8, &got), 0);
	assert_int_equal(got, 3);
	assert_int_equal(pcm[0], 1);
	assert_int_equal(pcm[1], -1);
	assert_int_equal(pcm[2], -32768);
	pl_wav_reader_destroy(r);
	unlink(path);
}

static void test_wav_rejects_bad_files(void **state)
{
	static const uint8_t not_riff[] = "RIFX\x24\0\0\0WAVEfmt ";
	static const uint8_t float32[] = {
		'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'A', 'V', 'E',
		'f', 'm', 't', ' ', 16, 0, 0, 0, 3, 0, 1, 0, 0x80, 0xbb, 0, 0,
		0, 0xee, 2, 0, 4, 0, 32, 0, 'd', 'a', 't', 'a', 0, 0, 0, 0,
	};
	char path[64];
	struct pl_wav_reader *r;

	tmp_path(path, sizeof(path), ".wav");
	write_file(path, not_riff, sizeof(not_riff) - 1);
	assert_int_equal(pl_wav_reader_create(path, &r), PL_EPROTO);
	assert_null(r);
	write_file(path, float32, sizeof(float32));
	assert_int_equal(pl_wav_reader_create(path, &r), PL_EUNSUP);
	write_file(path, float32, 30);
	assert_int_equal(pl_wav_reader_create(path, &r), PL_ETRUNC);
	unlink(path);
	assert_int_equal(pl_wav_reader_create("/nonexistent/x.wav", &r), PL_ESYS);
}

/* ---- Y4M ------------------------------------------------------------ */

static void test_y4m_round_trip(void **state)
{
	struct pl_y4m_info info = { .width = 320, .height = 180, .fps_num = 30000, .fps_den = 1001 };
	struct pl_i420 src, dst;
	struct pl_y4m_writer *w;
	struct pl_y4m_reader *r;
	struct pl_y4m_info got;
	char path[64];

	tmp_path(path, sizeof(path), ".y4m");
	assert_int_equal(pl_i420_init(&src, 320, 180), 0);
	assert_int_equal(pl_i420_init(&dst, 320, 180), 0);
	assert_int_equal(pl_y4m_writer_create(path, &info, &w), 0);
	for (uint32_t f = 0; f < 3; f++) {
		assert_int_equal(pl_pattern_draw(&src, f, 1000 * f), 0);
		assert_int_equal(pl_y4m_writer_write(w, &src), 0);
	}
	assert_int_equal(pl_y4m_writer_finish(w), 0);
	pl_y4m_writer_destroy(w);

	assert_int_equal(pl_y4m_reader_create(path, &r), 0);
	pl_y4m_reader_info(r, &got);
	assert_int_equal(got.width, 320);
	assert_int_equal(got.height, 180);
	assert_int_equal(got.fps_num, 30000);
	assert_int_equal(got.fps_den, 1001);
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t f = 0; f < 3; f++) {
			struct pl_quality_psnr q;
			assert_int_equal(pl_y4m_reader_read(r, &dst), 0);
			pl_pattern_draw(&src, f, 1000 * f);
			assert_int_equal(pl_quality_psnr(&src, &dst, &q), 0);
			assert_true(q.yuv == PL_QUALITY_PSNR_MAX_DB);
		}
		assert_int_equal(pl_y4m_reader_read(r, &dst), PL_ECLOSED);
		assert_int_equal(pl_y4m_reader_rewind(r), 0);
	}
	pl_y4m_reader_destroy(r);
	unlink(path);
	pl_i420_release(&src);
	pl_i420_release(&dst);
}

static void test_y4m_headers_and_damage(void **state)
{
	/* Odd size, 420paldv, frame parameters, a truncated second frame. */
	static const char hdr[] = "YUV4MPEG2 W3 H3 F25:1 It A0:0 C420paldv XYSCSS=420PALDV\n"
	                          "FRAME Ixyz\n0123456789abcdefg" "FRAME\n0123";
	char path[64];
	struct pl_y4m_reader *r;
	struct pl_y4m_info info;
	struct pl_i420 img;

	tmp_path(path, sizeof(path), ".y4m");
	write_file(path, (const uint8_t *)hdr, sizeof(hdr) - 1);
	assert_int_equal(pl_y4m_reader_create(path, &r), 0);
	pl_y4m_reader_info(r, &info);
	assert_int_equal(info.width, 3);
	assert_int_equal(info.fps_num, 25);
	assert_int_equal(pl_i420_init(&img, 3, 3), 0);
	assert_int_equal(pl_y4m_reader_read(r, &img), 0);   /* 9 + 4 + 4 bytes */
	assert_int_equal(img.plane[0][8], '8');
	assert_int_equal(img.plane[1][3], 'c');
	assert_int_equal(img.plane[2][3], 'g');
	assert_int_equal(pl_y4m_reader_read(r, &img), PL_ETRUNC);
	pl_y4m_reader_destroy(r);
	pl_i420_release(&img);

	write_file(path, (const uint8_t *)"YUV4MPEG2 W4 H2 C444\n", 21);
	assert_int_equal(pl_y4m_reader_create(path, &r), PL_EUNSUP);
	write_file(path, (const uint8_t *)"YUV4MPEG2 W4 H2 C420p10\n", 24);
	assert_int_equal(pl_y4m_reader_create(path, &r), PL_EUNSUP);
	write_file(path, (const uint8_t *)"YUV4MPEG W4 H2\n", 15);
	assert_int_equal(pl_y4m_reader_create(path, &r), PL_EPROTO);
	write_file(path, (const uint8_t *)"YUV4MPEG2 W4 H2\nFRAME\n0123456789ab" "FRAM\n", 39);
	assert_int_equal(pl_y4m_reader_create(path, &r), 0);
	assert_int_equal(pl_i420_init(&img, 4, 2), 0);
	assert_int_equal(pl_y4m_reader_read(r, &img), 0);
	assert_int_equal(img.plane[0][5], '5');
	assert_int_equal(img.plane[1][1], '9');
	assert_int_equal(img.plane[2][0], 'a');
	assert_int_equal(pl_y4m_reader_read(r, &img), PL_EPROTO);
	pl_y4m_reader_destroy(r);
	pl_i420_release(&img);
	unlink(path);
}

/* ---- IVF ------------------------------------------------------------ */

static void test_ivf_round_trip(void **state)
{
	struct pl_ivf_info info = { .width = 640, .height = 360, .tb_num = 1, .tb_den = 90000 };
	struct pl_ivf_writer *w;
	struct pl_ivf_reader *r;
	struct pl_ivf_frame f;
	struct pl_ivf_info got;
	uint8_t frame[3000], *file;
	char path[64];
	size_t n;

	tmp_path(path, sizeof(path), ".ivf");
	assert_int_equal(pl_ivf_writer_create(path, &info, &w), 0);
	for (int i = 0; i < 20; i++) {
		memset(frame, i, sizeof(frame));
		assert_int_equal(pl_ivf_writer_write(w, frame, 100u + 137u * (unsigned)i,
		                                     3000LL * i + (1LL << 33)), 0);
	}
	assert_int_equal(pl_ivf_writer_write(w, frame, 0, 0), PL_EINVAL);
	pl_ivf_writer_destroy(w);

	/* The header, byte for byte. */
	file = read_file(path, &n);
	assert_memory_equal(file, "DKIF\0\0\x20\0VP80\x80\x02\x68\x01\x90\x5f\x01\0\x01\0\0\0\x14\0\0\0", 28);
	free(file);

	assert_int_equal(pl_ivf_reader_create(path, &r), 0);
	pl_ivf_reader_info(r, &got);
	assert_string_equal(got.fourcc, "VP80");
	assert_int_equal(got.width, 640);
	assert_int_equal(got.height, 360);
	assert_int_equal(got.tb_num, 1);
	assert_int_equal(got.tb_den, 90000);
	assert_int_equal(got.frames, 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(pl_ivf_reader_read(r, &f), 0);
		assert_int_equal(f.len, 100u + 137u * (unsigned)i);
		assert_true(f.pts == 3000LL * i + (1LL << 33));
		assert_int_equal(f.data[0], i);
		assert_int_equal(f.data[f.len - 1], i);
	}
	assert_int_equal(pl_ivf_reader_read(r, &f), PL_ECLOSED);
	assert_int_equal(pl_ivf_reader_rewind(r), 0);
	assert_int_equal(pl_ivf_reader_read(r, &f), 0);
	assert_int_equal(f.len, 100);
	pl_ivf_reader_destroy(r);

	/* A file cut inside a frame. */
	file = read_file(path, &n);
	write_file(path, file, 32 + 12 + 50);
	free(file);
	assert_int_equal(pl_ivf_reader_create(path, &r), 0);
	assert_int_equal(pl_ivf_reader_read(r, &f), PL_ETRUNC);
	pl_ivf_reader_destroy(r);
	write_file(path, (const uint8_t *)"DKIX", 4);
	assert_int_equal(pl_ivf_reader_create(path, &r), PL_ETRUNC);
	unlink(path);
}

/* ---- Ogg ------------------------------------------------------------ */

/* A whole Ogg Opus file made by GStreamer 1.22 (opusenc ! oggmux): one
 * OpusHead page, one OpusTags page with a comment, one end-of-stream page
 * with two packets (19 and 31 bytes) whose granule position, 1272, trims
 * the end. */
static const uint8_t gst_ogg[] = {
	0x4f, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x78, 0x14, 0xeb, 0x69, 0x00, 0x00, 0x00, 0x00, 0xa1, 0xfe,
	0x06, 0x12, 0x01, 0x13, 0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64,
	0x01, 0x01, 0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f,
	0x67, 0x67, 0x53, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x78, 0x14, 0xeb, 0x69, 0x01, 0x00, 0x00, 0x00, 0x1b, 0x84, 0x7b,
	0xdb, 0x01, 0x4d, 0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73, 0x1e,
	0x00, 0x00, 0x00, 0x45, 0x6e, 0x63, 0x6f, 0x64, 0x65, 0x64, 0x20, 0x77,
	0x69, 0x74, 0x68, 0x20, 0x47, 0x53, 0x74, 0x72, 0x65, 0x61, 0x6d, 0x65,
	0x72, 0x20, 0x6f, 0x70, 0x75, 0x73, 0x65, 0x6e, 0x63, 0x01, 0x00, 0x00,
	0x00, 0x1a, 0x00, 0x00, 0x00, 0x44, 0x45, 0x53, 0x43, 0x52, 0x49, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x3d, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x74, 0x65,
	0x73, 0x74, 0x20, 0x77, 0x61, 0x76, 0x65, 0x01, 0x4f, 0x67, 0x67, 0x53,
	0x00, 0x04, 0xf8, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x14,
	0xeb, 0x69, 0x02, 0x00, 0x00, 0x00, 0x15, 0xc4, 0xff, 0x03, 0x02, 0x13,
	0x1f, 0x78, 0x85, 0x90, 0xd3, 0xae, 0xd6, 0x8b, 0x92, 0xa6, 0x71, 0xb4,
	0x9d, 0xe3, 0x00, 0x49, 0xed, 0xd2, 0x31, 0x04, 0x78, 0xbd, 0x62, 0xbb,
	0x83, 0xc2, 0xb9, 0x57, 0x81, 0x7b, 0x61, 0x76, 0xb8, 0x0c, 0xb3, 0x55,
	0xd7, 0xf4, 0xa1, 0xe0, 0x28, 0x31, 0x49, 0xb8, 0x0a, 0x2f, 0x35, 0x7e,
	0xbf, 0x68, 0xe1,
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Checks every page's CRC in an Ogg byte stream; returns the page count. */
static int check_page_crcs(const uint8_t *b, size_t n)
{
	size_t off = 0;
	int pages = 0;

	while (off < n) {
		uint8_t hdr[27 + 255];
		size_t hlen, body = 0;
		assert_true(n - off >= 27);
		assert_memory_equal(b + off, "OggS", 4);
		hlen = 27 + b[off + 26];
		for (size_t i = 27; i < hlen; i++)
			body += b[off + i];
		assert_true(off + hlen + body <= n);
		memcpy(hdr, b + off, hlen);
		memset(hdr + 22, 0, 4);
		assert_int_equal(pl_ogg_crc32(pl_ogg_crc32(0, hdr, hlen), b + off + hlen, body),
		                 rd32(b + off + 22));
		off += hlen + body;
		pages++;
	}
	return pages;
}

static void test_ogg_crc_vectors(void **state)
{
	/* CRC-32 with polynomial 0x04c11db7, init 0, no reflection, no final
	 * xor: the "check" value of "123456789" is ~0x765e7680 (CRC-32/CKSUM
	 * differs only by the final xor). */
	assert_int_equal(pl_ogg_crc32(0, (const uint8_t *)"123456789", 9), 0x89a1897f);
	assert_int_equal(pl_ogg_crc32(0, (const uint8_t *)"", 0), 0);
	/* Incremental equals one-shot. */
	assert_int_equal(pl_ogg_crc32(pl_ogg_crc32(0, (const uint8_t *)"1234", 4),
	                              (const uint8_t *)"56789", 5), 0x89a1897f);
	/* Every page of a file written by libogg verifies. */
	assert_int_equal(check_page_crcs(gst_ogg, sizeof(gst_ogg)), 3);
}

static void test_ogg_reads_third_party_file(void **state)
{
	char path[64];
	struct pl_oggopus_reader *r;
	struct pl_oggopus_info info;
	struct pl_oggopus_packet p;

	tmp_path(path, sizeof(path), ".opus");
	write_file(path, gst_ogg, sizeof(gst_ogg));
	assert_int_equal(pl_oggopus_reader_create(path, &r), 0);
	pl_oggopus_reader_info(r, &info);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.pre_skip, 312);
	assert_int_equal(info.input_rate_hz, 48000);
	assert_int_equal(info.serial, 0x69eb1478);
	assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
	assert_int_equal(p.len, 19);
	assert_int_equal(p.samples, 960);
	assert_true(p.granule == -1);
	assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
	assert_int_equal(p.len, 31);
	assert_true(p.granule == 1272);
	assert_int_equal(pl_oggopus_reader_read(r, &p), PL_ECLOSED);
	assert_int_equal(pl_oggopus_reader_crc_errors(r), 0);
	pl_oggopus_reader_destroy(r);
	unlink(path);
}

static void test_ogg_round_trip_and_damage(void **state)
{
	struct pl_oggopus_info info = { .channels = 1, .pre_skip = 312, .serial = 0x1234 };
	struct pl_opus_enc_config cfg = { .channels = 1 };
	struct pl_oggopus_writer *w;
	struct pl_oggopus_reader *r;
	struct pl_oggopus_packet p;
	struct pl_oggopus_info got;
	struct pl_opus_enc *enc;
	struct pl_tone tone;
	static uint8_t pkts[150][PL_OPUS_MAX_PACKET_BYTES];
	size_t lens[150], n;
	int16_t pcm[PL_OPUS_FRAME_SAMPLES];
	int64_t last_granule = 0;
	uint8_t *file;
	char path[64];
	int i, err, errors = 0;

	tmp_path(path, sizeof(path), ".opus");
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	pl_tone_init(&tone, 600, 0.3, 48000, 1);
	assert_int_equal(pl_oggopus_writer_create(path, &info, &w), 0);
	for (i = 0; i < 150; i++) {
		pl_tone_fill(&tone, pcm, PL_OPUS_FRAME_SAMPLES);
		assert_int_equal(pl_opus_enc_encode(enc, pcm, pkts[i], sizeof(pkts[i]), &lens[i]), 0);
		assert_int_equal(pl_oggopus_writer_write(w, pkts[i], lens[i]), 0);
	}
	assert_int_equal(pl_oggopus_writer_write(w, pkts[0], 0), PL_EINVAL);
	assert_int_equal(pl_oggopus_writer_finish(w), 0);
	assert_int_equal(pl_oggopus_writer_write(w, pkts[0], lens[0]), PL_ECLOSED);
	pl_oggopus_writer_destroy(w);
	pl_opus_enc_destroy(enc);

	/* Pages: head, tags, and 150 x 20 ms = 3 s in ~1 s pages. */
	file = read_file(path, &n);
	assert_int_equal(check_page_crcs(file, n), 2 + 3);
	assert_int_equal(file[5], 0x02);                  /* BOS on the head */

	assert_int_equal(pl_oggopus_reader_create(path, &r), 0);
	pl_oggopus_reader_info(r, &got);
	assert_int_equal(got.channels, 1);
	assert_int_equal(got.pre_skip, 312);
	assert_int_equal(got.serial, 0x1234);
	for (i = 0; i < 150; i++) {
		assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
		assert_int_equal(p.len, lens[i]);
		assert_memory_equal(p.data, pkts[i], lens[i]);
		if (p.granule >= 0) {
			assert_true(p.granule == (int64_t)(i + 1) * 960);
			last_granule = p.granule;
		}
	}
	assert_true(last_granule == 150 * 960);
	assert_int_equal(pl_oggopus_reader_read(r, &p), PL_ECLOSED);
	pl_oggopus_reader_destroy(r);

	/* One flipped byte in the last audio page: its 50 packets are lost,
	 * reported once as PL_EPROTO, and the reader still ends cleanly. */
	file[n - 100] ^= 0x40;
	write_file(path, file, n);
	assert_int_equal(pl_oggopus_reader_create(path, &r), 0);
	for (i = 0; (err = pl_oggopus_reader_read(r, &p)) != PL_ECLOSED; i++)
		errors += err == PL_EPROTO;
	assert_int_equal(errors, 1);
	assert_int_equal(pl_oggopus_reader_crc_errors(r), 1);
	assert_int_equal(i, 100 + 1);
	pl_oggopus_reader_destroy(r);
	free(file);
	unlink(path);
}

/* Builds one Ogg page around a lacing table and body. */
static size_t make_page(uint8_t *out, uint8_t flags, uint32_t seq, int64_t granule,
                        const uint8_t *lacing, int nseg, const uint8_t *body, size_t len)
{
	size_t h = 27 + (size_t)nseg;
	uint32_t crc;

	memcpy(out, "OggS", 4);
	out[4] = 0, out[5] = flags;
	for (int i = 0; i < 8; i++)
		out[6 + i] = (uint8_t)((uint64_t)granule >> (8 * i));
	memcpy(out + 14, "\x07\0\0\0", 4);
	for (int i = 0; i < 4; i++)
		out[18 + i] = (uint8_t)(seq >> (8 * i));
	memset(out + 22, 0, 4);
	out[26] = (uint8_t)nseg;
	memcpy(out + 27, lacing, (size_t)nseg);
	memcpy(out + h, body, len);
	crc = pl_ogg_crc32(0, out, h + len);
	for (int i = 0; i < 4; i++)
		out[22 + i] = (uint8_t)(crc >> (8 * i));
	return h + len;
}

static void test_ogg_packet_across_pages(void **state)
{
	/* Head, tags, then a 600-byte packet split 510 | 90 over two pages
	 * (the second flagged continued), followed by a 3-byte packet. */
	static uint8_t file[4096], body[600];
	static const uint8_t head[19] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 2, 0, 0,
	                                  0x44, 0xac, 0, 0, 0, 0, 0 };
	static const uint8_t tags[16] = { 'O', 'p', 'u', 's', 'T', 'a', 'g', 's' };
	uint8_t lace[3] = { 19 }, big[3] = { 255, 255 }, tail[2] = { 90, 3 };
	struct pl_oggopus_reader *r;
	struct pl_oggopus_packet p;
	struct pl_oggopus_info info;
	uint8_t rest[93];
	size_t off = 0;
	char path[64];

	for (int i = 0; i < 600; i++)
		body[i] = (uint8_t)(i * 7);
	body[0] = 0xfc;                       /* TOC: CELT FB 20 ms, code 0 */
	off += make_page(file + off, 0x02, 0, 0, lace, 1, head, 19);
	lace[0] = 16;
	off += make_page(file + off, 0, 1, 0, lace, 1, tags, 16);
	off += make_page(file + off, 0, 2, -1, big, 2, body, 510);
	memcpy(rest, body + 510, 90);
	rest[90] = 0xfc, rest[91] = 1, rest[92] = 2;
	off += make_page(file + off, 0x05, 3, 1920, tail, 2, rest, 93);

	tmp_path(path, sizeof(path), ".opus");
	write_file(path, file, off);
	assert_int_equal(pl_oggopus_reader_create(path, &r), 0);
	pl_oggopus_reader_info(r, &info);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.input_rate_hz, 44100);
	assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
	assert_int_equal(p.len, 600);
	assert_memory_equal(p.data, body, 600);
	assert_int_equal(p.samples, 960);
	assert_true(p.granule == -1);
	assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
	assert_int_equal(p.len, 3);
	assert_true(p.granule == 1920);
	assert_int_equal(pl_oggopus_reader_read(r, &p), PL_ECLOSED);
	pl_oggopus_reader_destroy(r);

	/* Without the first half, the orphaned tail is skipped silently. */
	off = 0;
	lace[0] = 19;
	off += make_page(file + off, 0x02, 0, 0, lace, 1, head, 19);
	lace[0] = 16;
	off += make_page(file + off, 0, 1, 0, lace, 1, tags, 16);
	off += make_page(file + off, 0x05, 3, 1920, tail, 2, rest, 93);
	write_file(path, file, off);
	assert_int_equal(pl_oggopus_reader_create(path, &r), 0);
	assert_int_equal(pl_oggopus_reader_read(r, &p), 0);
	assert_int_equal(p.len, 3);
	assert_int_equal(pl_oggopus_reader_read(r, &p), PL_ECLOSED);
	pl_oggopus_reader_destroy(r);

	/* Not Opus at all. */
	write_file(path, (const uint8_t *)"OggS", 4);
	assert_int_equal(pl_oggopus_reader_create(path, &r), PL_ETRUNC);
	write_file(path, gst_ogg, 47 + 20);               /* head, cut tags */
	assert_int_equal(pl_oggopus_reader_create(path, &r), PL_ETRUNC);
	unlink(path);
}

/* ---- generators ----------------------------------------------------- */

static void test_tone_deterministic_and_seekable(void **state)
{
	int16_t a[4800], b[4800];
	struct pl_tone t1, t2;
	double hz;

	assert_int_equal(pl_tone_init(&t1, 1000, 0.5, 48000, 1), 0);
	pl_tone_fill(&t1, a, 4800);
	assert_int_equal(pl_tone_init(&t2, 1000, 0.5, 48000, 1), 0);
	for (int i = 0; i < 4800; i += 480)
		pl_tone_fill(&t2, b + i, 480);
	assert_memory_equal(a, b, sizeof(a));
	t2.pos = 2400;
	pl_tone_fill(&t2, b, 100);
	assert_memory_equal(a + 2400, b, 100 * sizeof(int16_t));
	assert_int_equal(a[0], 0);
	assert_int_equal(a[12], 16384);                   /* quarter period: peak */
	assert_int_equal(pl_quality_dominant_hz(a, 4800, 48000, &hz), 0);
	assert_true(fabs(hz - 1000) < 0.5);
	assert_int_equal(pl_tone_init(&t1, 24000, 0.5, 48000, 1), PL_EINVAL);
	assert_int_equal(pl_tone_init(&t1, 440, 1.5, 48000, 1), PL_EINVAL);
	assert_int_equal(pl_tone_init(&t1, 440, 0.5, 48000, 0), PL_EINVAL);
}

static void test_speech_deterministic_and_speechlike(void **state)
{
	size_t n = 48000 * 4;
	int16_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	struct pl_speech s1, s2;
	double db;
	int peak = 0, quiet = 0, loud = 0;

	assert_int_equal(pl_speech_init(&s1, 42, 48000, 1), 0);
	pl_speech_fill(&s1, a, n);
	/* Chunked (20 ms frames) and seeking give the same samples. */
	assert_int_equal(pl_speech_init(&s2, 42, 48000, 1), 0);
	for (size_t i = 0; i < n; i += 960)
		pl_speech_fill(&s2, b + i, 960);
	assert_memory_equal(a, b, n * sizeof(*a));
	s2.pos = 100000;
	pl_speech_fill(&s2, b, 5000);
	assert_memory_equal(a + 100000, b, 5000 * sizeof(*a));
	/* Another seed is another signal. */
	assert_int_equal(pl_speech_init(&s2, 43, 48000, 1), 0);
	pl_speech_fill(&s2, b, n);
	assert_memory_not_equal(a, b, n * sizeof(*a));
	/* Speech-like: a plausible level, no clipping, syllables and pauses
	 * (per 50 ms window: some silent, many loud). */
	db = pl_quality_rms_dbfs(a, n);
	assert_true(db > -32 && db < -18);
	for (size_t i = 0; i < n; i++)
		peak = abs(a[i]) > peak ? abs(a[i]) : peak;
	assert_true(peak < 32767 * 0.75 && peak > 3000);
	for (size_t w = 0; w + 2400 <= n; w += 2400) {
		double wdb = pl_quality_rms_dbfs(a + w, 2400);
		quiet += wdb < -60;
		loud += wdb > -30;
	}
	assert_true(quiet >= 4 && loud >= 20);
	print_message("speech: %.1f dBFS rms, peak %d, %d/%zu windows silent, %d loud\n",
	              db, peak, quiet, n / 2400, loud);
	/* Stereo duplicates the mono samples. */
	assert_int_equal(pl_speech_init(&s2, 42, 48000, 2), 0);
	pl_speech_fill(&s2, b, 1000);
	for (int i = 0; i < 1000; i++)
		assert_true(b[2 * i] == a[i] && b[2 * i + 1] == a[i]);
	free(a);
	free(b);
}

/* ---- test pattern --------------------------------------------------- */

static void test_pattern_reads_back(void **state)
{
	static const struct {
		int w, h;
	} sizes[] = { { 640, 360 }, { 320, 180 }, { 1280, 720 }, { 176, 144 }, { 642, 362 }, { 1920, 1080 } };
	static const uint32_t frames[] = { 0, 1, 29, 12345, 0xfffffffe, 0xffffffff };
	static const uint64_t times[] = { 0, 1, 1700000000123456ull, UINT64_MAX };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct pl_i420 a, b;
		assert_int_equal(pl_i420_init(&a, sizes[s].w, sizes[s].h), 0);
		assert_int_equal(pl_i420_init(&b, sizes[s].w, sizes[s].h), 0);
		for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
			for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
				uint32_t fn;
				uint64_t ts;
				struct pl_quality_psnr q;
				assert_int_equal(pl_pattern_draw(&a, frames[f], times[t]), 0);
				assert_int_equal(pl_pattern_read(&a, &fn, &ts), 0);
				assert_int_equal(fn, frames[f]);
				assert_true(ts == times[t]);
				/* Deterministic: drawing again gives the same pixels. */
				assert_int_equal(pl_pattern_draw(&b, frames[f], times[t]), 0);
				assert_int_equal(pl_quality_psnr(&a, &b, &q), 0);
				assert_true(q.yuv == PL_QUALITY_PSNR_MAX_DB);
			}
		}
		pl_i420_release(&a);
		pl_i420_release(&b);
	}
}

static void test_pattern_frames_differ(void **state)
{
	struct pl_i420 a, b;
	struct pl_quality_psnr q;

	assert_int_equal(pl_i420_init(&a, 640, 360), 0);
	assert_int_equal(pl_i420_init(&b, 640, 360), 0);
	pl_pattern_draw(&a, 10, 0);
	pl_pattern_draw(&b, 11, 0);
	assert_int_equal(pl_quality_psnr(&a, &b, &q), 0);
	assert_true(q.y < 40);                         /* the picture moves */
	pl_i420_release(&a);
	pl_i420_release(&b);
}

static void test_pattern_survives_noise_not_damage(void **state)
{
	struct pl_i420 img;
	uint32_t fn;
	uint64_t ts;
	int h = pl_pattern_code_height(640);

	assert_int_equal(h, 48);                       /* 16-pixel blocks, 3 rows */
	assert_int_equal(pl_i420_init(&img, 640, 360), 0);
	pl_pattern_draw(&img, 4242, 987654321);
	/* Heavy noise (+-80) everywhere still reads. */
	srand(5);
	for (int y = 0; y < 360; y++)
		for (int x = 0; x < 640; x++) {
			int v = img.plane[0][y * img.stride[0] + x] + rand() % 161 - 80;
			img.plane[0][y * img.stride[0] + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	assert_int_equal(pl_pattern_read(&img, &fn, &ts), 0);
	assert_int_equal(fn, 4242);
	assert_true(ts == 987654321);
	/* Inverting one block breaks the CRC. */
	pl_pattern_draw(&img, 4242, 987654321);
	for (int y = 16; y < 32; y++)
		for (int x = 160; x < 176; x++)
			img.plane[0][y * img.stride[0] + x] ^= 0xff;
	assert_int_equal(pl_pattern_read(&img, &fn, &ts), PL_EPROTO);
	/* A picture that is not a pattern. */
	memset(img.plane[0], 128, (size_t)img.stride[0] * 360);
	assert_int_equal(pl_pattern_read(&img, &fn, &ts), PL_EPROTO);
	pl_i420_release(&img);
	/* Too small for the code. */
	assert_int_equal(pl_i420_init(&img, 64, 100), 0);
	assert_int_equal(pl_pattern_draw(&img, 1, 1), PL_EINVAL);
	assert_int_equal(pl_pattern_read(&img, &fn, &ts), PL_EINVAL);
	pl_i420_release(&img);
	assert_int_equal(pl_pattern_code_height(32), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_round_trip),
		cmocka_unit_test(test_wav_extensible_with_extra_chunks),
		cmocka_unit_test(test_wav_rejects_bad_files),
		cmocka_unit_test(test_y4m_round_trip),
		cmocka_unit_test(test_y4m_headers_and_damage),
		cmocka_unit_test(test_ivf_round_trip),
		cmocka_unit_test(test_ogg_crc_vectors),
		cmocka_unit_test(test_ogg_reads_third_party_file),
		cmocka_unit_test(test_ogg_round_trip_and_damage),
		cmocka_unit_test(test_ogg_packet_across_pages),
		cmocka_unit_test(test_tone_deterministic_and_seekable),
		cmocka_unit_test(test_speech_deterministic_and_speechlike),
		cmocka_unit_test(test_pattern_reads_back),
		cmocka_unit_test(test_pattern_frames_differ),
		cmocka_unit_test(test_pattern_survives_noise_not_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
