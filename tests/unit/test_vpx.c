/* tests/unit/test_vpx.c: the libvpx VP8 wrapper: the numbered test pattern
 * through encode and decode (PSNR, SSIM, frame numbers read back exactly),
 * keyframes on demand, bitrate changes, frame headers, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/mediaio.h"
#include "client/quality.h"
#include "codecs/vpx.h"
#include "common/err.h"

#define W 640
#define H 360

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: the CI machine is shared */
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_i420_helpers(void **state)
{
	struct pl_i420 a, b;

	assert_int_equal(pl_i420_init(&a, 33, 17), 0);
	assert_int_equal(pl_i420_plane_width(&a, 0), 33);
	assert_int_equal(pl_i420_plane_width(&a, 1), 17);
	assert_int_equal(pl_i420_plane_height(&a, 2), 9);
	assert_int_equal(a.plane[0][0], 16);
	assert_int_equal(a.plane[2][17 * 9 - 1], 128);
	assert_int_equal(pl_i420_init(&b, 33, 17), 0);
	a.plane[1][5] = 7;
	assert_int_equal(pl_i420_copy(&b, &a), 0);
	assert_int_equal(b.plane[1][5], 7);
	pl_i420_release(&b);
	assert_int_equal(pl_i420_init(&b, 32, 17), 0);
	assert_int_equal(pl_i420_copy(&b, &a), PL_EINVAL);
	pl_i420_release(&a);
	pl_i420_release(&b);
	pl_i420_release(&b);                             /* twice: a no-op */
	assert_int_equal(pl_i420_init(&a, 0, 10), PL_EINVAL);
	assert_int_equal(pl_i420_init(&a, 10, PL_I420_MAX_DIM + 1), PL_EINVAL);
}

/* 100 frames of the pattern at 500 kbit/s, 30 fps, 640x360: every frame
 * decodes, reads back its number and time exactly, and stays close to
 * the source. */
static void test_vpx_pattern_round_trip(void **state)
{
	struct pl_vpx_enc_config cfg = { .width = W, .height = H, .fps = 30, .bitrate_kbps = 500 };
	struct pl_vpx_enc *enc;
	struct pl_vpx_dec *dec;
	struct pl_i420 src, ref, out;
	struct pl_vpx_packet pkt;
	double min_psnr = 1e9, sum_psnr = 0, min_ssim = 1, enc_s = 0, dec_s = 0, t;
	size_t bytes = 0;
	int keyframes = 0;

	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_vpx_dec_create(1, &dec), 0);
	assert_int_equal(pl_i420_init(&src, W, H), 0);
	assert_int_equal(pl_i420_init(&ref, W, H), 0);
	for (uint32_t f = 0; f < 100; f++) {
		uint64_t sent = 1700000000000000ull + f * 33333ull;
		uint32_t got_f;
		uint64_t got_t;
		bool has;
		struct pl_quality_psnr q;
		double ssim;
		assert_int_equal(pl_pattern_draw(&src, f, sent), 0);
		t = cpu_s();
		assert_int_equal(pl_vpx_enc_encode(enc, &src, f * 3000, false, &pkt), 0);
		enc_s += cpu_s() - t;
		assert_true(pkt.len > 0);                /* frame dropping is off */
		assert_true(pkt.pts == (int64_t)f * 3000);
		keyframes += pkt.keyframe;
		assert_true(pkt.keyframe == (f == 0));
		bytes += pkt.len;
		t = cpu_s();
		assert_int_equal(pl_vpx_dec_decode(dec, pkt.data, pkt.len, &out, &has), 0);
		dec_s += cpu_s() - t;
		assert_true(has);
		assert_int_equal(out.width, W);
		assert_int_equal(out.height, H);
		/* The receiver's side: read the code, redraw the reference. */
		assert_int_equal(pl_pattern_read(&out, &got_f, &got_t), 0);
		assert_int_equal(got_f, f);
		assert_true(got_t == sent);
		assert_int_equal(pl_pattern_draw(&ref, got_f, got_t), 0);
		assert_int_equal(pl_quality_psnr(&ref, &out, &q), 0);
		assert_int_equal(pl_quality_ssim(&ref, &out, &ssim), 0);
		min_psnr = q.y < min_psnr ? q.y : min_psnr;
		min_ssim = ssim < min_ssim ? ssim : min_ssim;
		sum_psnr += q.y;
	}
	print_message("VP8 %dx%d 500 kbit/s: %.0f kbit/s out, luma PSNR mean %.2f min %.2f dB, "
	              "SSIM min %.4f; encode %.0f fps, decode %.0f fps (CPU time)\n",
	              W, H, bytes * 8.0 * 30 / 100 / 1000, sum_psnr / 100, min_psnr, min_ssim,
	              100 / enc_s, 100 / dec_s);
	assert_int_equal(keyframes, 1);
	assert_true(min_psnr > 30);
	assert_true(min_ssim > 0.9);
	/* CBR: within 30 % of the target over 100 frames. */
	assert_true(bytes * 8.0 * 30 / 100 > 350e3 && bytes * 8.0 * 30 / 100 < 650e3);
	pl_i420_release(&src);
	pl_i420_release(&ref);
	pl_vpx_enc_destroy(enc);
	pl_vpx_dec_destroy(dec);
}

static void test_vpx_keyframe_on_demand_and_frame_info(void **state)
{
	struct pl_vpx_enc_config cfg = { .width = 320, .height = 180, .bitrate_kbps = 300 };
	struct pl_vpx_enc *enc;
	struct pl_vpx_dec *dec;
	struct pl_i420 src, out;
	struct pl_vpx_packet pkt;
	uint8_t delta[65536];
	size_t delta_len = 0;
	bool key, has;
	int w, h;

	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_i420_init(&src, 320, 180), 0);
	for (uint32_t f = 0; f < 30; f++) {
		pl_pattern_draw(&src, f, f);
		if (f == 10)
			pl_vpx_enc_request_keyframe(enc);
		assert_int_equal(pl_vpx_enc_encode(enc, &src, f * 3000, f == 20, &pkt), 0);
		assert_true(pkt.keyframe == (f == 0 || f == 10 || f == 20));
		assert_int_equal(pl_vpx_frame_info(pkt.data, pkt.len, &key, &w, &h), 0);
		assert_true(key == pkt.keyframe);
		assert_int_equal(w, key ? 320 : 0);
		assert_int_equal(h, key ? 180 : 0);
		if (f == 25) {
			memcpy(delta, pkt.data, pkt.len);
			delta_len = pkt.len;
		}
	}
	/* A delta frame with no keyframe before it cannot be decoded. */
	assert_int_equal(pl_vpx_dec_create(0, &dec), 0);
	assert_int_not_equal(pl_vpx_dec_decode(dec, delta, delta_len, &out, &has) == 0 && has, 1);
	pl_vpx_dec_destroy(dec);
	/* Frame headers: too short, a keyframe without its start code. */
	assert_int_equal(pl_vpx_frame_info(delta, 2, &key, &w, &h), PL_ETRUNC);
	assert_int_equal(pl_vpx_frame_info((const uint8_t *)"\x10\x02\x00\x9d\x01\x2b\0\0\0\0", 10,
	                                   &key, &w, &h), PL_EPROTO);
	pl_i420_release(&src);
	pl_vpx_enc_destroy(enc);
}

static size_t encode_bytes(struct pl_vpx_enc *enc, struct pl_i420 *src, uint32_t first, int n)
{
	struct pl_vpx_packet pkt;
	size_t bytes = 0;

	for (uint32_t f = first; f < first + (uint32_t)n; f++) {
		pl_pattern_draw(src, f, f);
		assert_int_equal(pl_vpx_enc_encode(enc, src, f * 3000, false, &pkt), 0);
		bytes += pkt.len;
	}
	return bytes;
}

static void test_vpx_set_bitrate(void **state)
{
	struct pl_vpx_enc_config cfg = { .width = W, .height = H, .bitrate_kbps = 1500 };
	struct pl_vpx_enc *enc;
	struct pl_i420 src;
	size_t high, low;

	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_i420_init(&src, W, H), 0);
	encode_bytes(enc, &src, 0, 30);                  /* settle after the keyframe */
	high = encode_bytes(enc, &src, 30, 60);
	assert_int_equal(pl_vpx_enc_set_bitrate(enc, 200), 0);
	encode_bytes(enc, &src, 90, 30);
	low = encode_bytes(enc, &src, 120, 60);
	print_message("60 frames: %zu bytes at 1500 kbit/s, %zu at 200 kbit/s\n", high, low);
	assert_true(low * 3 < high);
	assert_int_equal(pl_vpx_enc_set_bitrate(enc, 1), PL_EINVAL);
	pl_i420_release(&src);
	pl_vpx_enc_destroy(enc);
}

static void test_vpx_bad_input(void **state)
{
	struct pl_vpx_enc_config cfg = { .width = W, .height = H };
	struct pl_vpx_enc *enc;
	struct pl_vpx_dec *dec;
	struct pl_i420 small, out;
	struct pl_vpx_packet pkt;
	static const uint8_t junk[64] = { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01 };
	bool has;

	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_i420_init(&small, 320, 180), 0);
	assert_int_equal(pl_vpx_enc_encode(enc, &small, 0, false, &pkt), PL_EINVAL);
	pl_vpx_enc_destroy(enc);
	pl_i420_release(&small);
	cfg.width = 8;
	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), PL_EINVAL);
	assert_null(enc);
	cfg.width = W, cfg.cpu_used = 17;
	assert_int_equal(pl_vpx_enc_create(&cfg, &enc), PL_EINVAL);
	pl_vpx_enc_destroy(NULL);

	assert_int_equal(pl_vpx_dec_create(1, &dec), 0);
	assert_int_equal(pl_vpx_dec_decode(dec, junk, 0, &out, &has), PL_EPROTO);
	assert_false(has);
	/* A keyframe header over garbage: refused or flagged, never a crash. */
	assert_int_not_equal(pl_vpx_dec_decode(dec, junk, sizeof(junk), &out, &has) == 0 && has, 1);
	assert_int_equal(pl_vpx_dec_decode(dec, (const uint8_t *)"\xff\xff", 2, &out, &has), PL_EPROTO);
	pl_vpx_dec_destroy(dec);
	pl_vpx_dec_destroy(NULL);
	assert_non_null(pl_vpx_version());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i420_helpers),
		cmocka_unit_test(test_vpx_pattern_round_trip),
		cmocka_unit_test(test_vpx_keyframe_on_demand_and_frame_info),
		cmocka_unit_test(test_vpx_set_bitrate),
		cmocka_unit_test(test_vpx_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
