/* tests/unit/test_quality.c: FFT, dominant frequency, delay, level, PSNR,
 * SSIM and the E-model against hand-computed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/mediaio.h"
#include "client/quality.h"
#include "common/err.h"

#define PI 3.14159265358979323846

static void test_fft_matches_naive_dft(void **state)
{
	static const double x_re[8] = { 1, -2, 3.5, 0, 0.25, 7, -1, 2 };
	static const double x_im[8] = { 0, 1, -1, 2, 0, 0.5, 3, -4 };
	double re[8], im[8];

	memcpy(re, x_re, sizeof(re));
	memcpy(im, x_im, sizeof(im));
	assert_int_equal(pl_quality_fft(re, im, 8, 0), 0);
	for (int k = 0; k < 8; k++) {
		double er = 0, ei = 0;
		for (int j = 0; j < 8; j++) {
			double a = -2 * PI * j * k / 8;
			er += x_re[j] * cos(a) - x_im[j] * sin(a);
			ei += x_re[j] * sin(a) + x_im[j] * cos(a);
		}
		assert_true(fabs(re[k] - er) < 1e-9 && fabs(im[k] - ei) < 1e-9);
	}
	/* X[0] is the plain sum: hand-checkable. */
	assert_true(fabs(re[0] - 10.75) < 1e-12 && fabs(im[0] - 1.5) < 1e-12);
	assert_int_equal(pl_quality_fft(re, im, 8, 1), 0);
	for (int j = 0; j < 8; j++)
		assert_true(fabs(re[j] - x_re[j]) < 1e-12 && fabs(im[j] - x_im[j]) < 1e-12);
	assert_int_equal(pl_quality_fft(re, im, 6, 0), PL_EINVAL);
	assert_int_equal(pl_quality_fft(re, im, 0, 0), PL_EINVAL);
}

static void test_dominant_hz_of_sines(void **state)
{
	static const double freqs[] = { 100, 440, 997.3, 1000, 3150.5, 11025 };
	int16_t *pcm = malloc(4800 * sizeof(*pcm));
	double hz;

	for (size_t f = 0; f < sizeof(freqs) / sizeof(freqs[0]); f++) {
		for (int i = 0; i < 4800; i++)
			pcm[i] = (int16_t)lrint(12000 * sin(2 * PI * freqs[f] * i / 48000.0));
		assert_int_equal(pl_quality_dominant_hz(pcm, 4800, 48000, &hz), 0);
		/* 100 ms of signal: 10 Hz bins, zero-padded to 5.9 Hz; the
		 * interpolation gets well inside a bin. */
		assert_true(fabs(hz - freqs[f]) < 1.0);
	}
	memset(pcm, 0, 4800 * sizeof(*pcm));
	assert_int_equal(pl_quality_dominant_hz(pcm, 4800, 48000, &hz), PL_EINVAL);
	assert_int_equal(pl_quality_dominant_hz(pcm, 10, 48000, &hz), PL_EINVAL);
	free(pcm);
}

static void test_dominant_hz_beats_weaker_tone(void **state)
{
	int16_t pcm[8192];
	double hz;

	for (int i = 0; i < 8192; i++)
		pcm[i] = (int16_t)lrint(8000 * sin(2 * PI * 1234 * i / 16000.0) +
		                        3000 * sin(2 * PI * 300 * i / 16000.0));
	assert_int_equal(pl_quality_dominant_hz(pcm, 8192, 16000, &hz), 0);
	assert_true(fabs(hz - 1234) < 0.5);
}

/* deg = ref delayed by d samples (d < 0: advanced), zero-filled. */
static void shifted(const int16_t *ref, int16_t *deg, size_t n, int d)
{
	for (size_t i = 0; i < n; i++) {
		long j = (long)i - d;
		deg[i] = (j >= 0 && j < (long)n) ? ref[j] : 0;
	}
}

static void test_delay_recovered_exactly(void **state)
{
	static const int delays[] = { 0, 1, 137, 960, 4801, -250, -3 };
	size_t n = 48000;
	int16_t *ref = malloc(n * sizeof(*ref)), *deg = malloc(n * sizeof(*deg));
	struct pl_speech sp;
	double corr;
	int lag;

	pl_speech_init(&sp, 7, 48000, 1);
	pl_speech_fill(&sp, ref, n);
	for (size_t k = 0; k < sizeof(delays) / sizeof(delays[0]); k++) {
		shifted(ref, deg, n, delays[k]);
		assert_int_equal(pl_quality_delay(ref, n, deg, n, 9600, &lag, &corr), 0);
		assert_int_equal(lag, delays[k]);
		assert_true(corr > 0.999999);
	}
	/* Scaled and noisy copy: still the exact lag, lower correlation. */
	srand(1);
	shifted(ref, deg, n, 333);
	for (size_t i = 0; i < n; i++)
		deg[i] = (int16_t)(deg[i] / 2 + (rand() % 801) - 400);
	assert_int_equal(pl_quality_delay(ref, n, deg, n, 9600, &lag, &corr), 0);
	assert_int_equal(lag, 333);
	assert_true(corr > 0.5 && corr < 0.9999);
	/* Different lengths: a short received stretch inside the reference. */
	assert_int_equal(pl_quality_delay(ref, n, ref + 2000, 9600, 4000, &lag, NULL), 0);
	assert_int_equal(lag, -2000);
	assert_int_equal(pl_quality_delay(ref, 0, deg, n, 10, &lag, NULL), PL_EINVAL);
	assert_int_equal(pl_quality_delay(ref, n, deg, n, -1, &lag, NULL), PL_EINVAL);
	memset(deg, 0, n * sizeof(*deg));
	assert_int_equal(pl_quality_delay(ref, n, deg, n, 100, &lag, NULL), PL_EINVAL);
	free(ref);
	free(deg);
}

static void test_delay_hand_computed(void **state)
{
	/* ref = [1 2 3 0 0 0], deg = [0 0 1 2 3 0]: lag 2, correlation 1. */
	static const int16_t ref[6] = { 1, 2, 3, 0, 0, 0 }, deg[6] = { 0, 0, 1, 2, 3, 0 };
	double corr;
	int lag;

	assert_int_equal(pl_quality_delay(ref, 6, deg, 6, 3, &lag, &corr), 0);
	assert_int_equal(lag, 2);
	assert_true(fabs(corr - 1.0) < 1e-12);
}

static void test_rms_dbfs(void **state)
{
	int16_t pcm[4800];

	for (int i = 0; i < 4800; i++)
		pcm[i] = (i & 1) ? 16384 : -16384;    /* square wave at half scale */
	assert_true(fabs(pl_quality_rms_dbfs(pcm, 4800) - 20 * log10(0.5)) < 1e-9);
	for (int i = 0; i < 4800; i++)
		pcm[i] = (int16_t)lrint(32767 * sin(2 * PI * 1000 * i / 48000.0));
	assert_true(fabs(pl_quality_rms_dbfs(pcm, 4800) - (-3.0103)) < 0.01);
	memset(pcm, 0, sizeof(pcm));
	assert_true(pl_quality_rms_dbfs(pcm, 4800) == PL_QUALITY_DBFS_FLOOR);
	assert_true(pl_quality_rms_dbfs(pcm, 0) == PL_QUALITY_DBFS_FLOOR);
}

static void fill_plane(struct pl_i420 *img, int p, int v)
{
	for (int y = 0; y < pl_i420_plane_height(img, p); y++)
		memset(img->plane[p] + (size_t)y * img->stride[p], v, (size_t)pl_i420_plane_width(img, p));
}

static void test_psnr_identical_and_hand_computed(void **state)
{
	struct pl_i420 a, b, c;
	struct pl_quality_psnr q;

	assert_int_equal(pl_i420_init(&a, 320, 180), 0);
	assert_int_equal(pl_i420_init(&b, 320, 180), 0);
	assert_int_equal(pl_pattern_draw(&a, 12, 34), 0);
	assert_int_equal(pl_pattern_draw(&b, 12, 34), 0);
	assert_int_equal(pl_quality_psnr(&a, &b, &q), 0);
	assert_true(q.y == PL_QUALITY_PSNR_MAX_DB && q.u == PL_QUALITY_PSNR_MAX_DB &&
	            q.v == PL_QUALITY_PSNR_MAX_DB && q.yuv == PL_QUALITY_PSNR_MAX_DB);
	/* Luma 100 vs 110: MSE 100, PSNR = 10 log10(255^2 / 100) = 28.1308;
	 * chroma equal; all samples: MSE = 100 * 4/6 -> 29.8917. */
	fill_plane(&a, 0, 100), fill_plane(&b, 0, 110);
	fill_plane(&a, 1, 128), fill_plane(&b, 1, 128);
	fill_plane(&a, 2, 128), fill_plane(&b, 2, 128);
	assert_int_equal(pl_quality_psnr(&a, &b, &q), 0);
	assert_true(fabs(q.y - 28.1308) < 1e-4);
	assert_true(q.u == PL_QUALITY_PSNR_MAX_DB && q.v == PL_QUALITY_PSNR_MAX_DB);
	assert_true(fabs(q.yuv - 29.8917) < 1e-4);
	assert_int_equal(pl_i420_init(&c, 320, 182), 0);
	assert_int_equal(pl_quality_psnr(&a, &c, &q), PL_EINVAL);
	pl_i420_release(&a);
	pl_i420_release(&b);
	pl_i420_release(&c);
}

static void test_ssim_identical_and_hand_computed(void **state)
{
	struct pl_i420 a, b;
	double s, c1 = 6.5025, c2 = 58.5225;

	assert_int_equal(pl_i420_init(&a, 320, 180), 0);
	assert_int_equal(pl_i420_init(&b, 320, 180), 0);
	assert_int_equal(pl_pattern_draw(&a, 5, 6), 0);
	assert_int_equal(pl_i420_copy(&b, &a), 0);
	assert_int_equal(pl_quality_ssim(&a, &b, &s), 0);
	assert_true(fabs(s - 1.0) < 1e-12);
	/* Flat 100 vs flat 110: no variance, only the luminance term:
	 * (2*100*110 + C1) / (100^2 + 110^2 + C1). */
	fill_plane(&a, 0, 100), fill_plane(&b, 0, 110);
	assert_int_equal(pl_quality_ssim(&a, &b, &s), 0);
	assert_true(fabs(s - (22000 + c1) / (22100 + c1)) < 1e-12);
	/* Columns alternating 50/150 vs flat 100: equal means, variance
	 * 2500 vs 0, no covariance: C2 / (2500 + C2). */
	for (int y = 0; y < 180; y++)
		for (int x = 0; x < 320; x++)
			a.plane[0][y * a.stride[0] + x] = (x & 1) ? 150 : 50;
	fill_plane(&b, 0, 100);
	assert_int_equal(pl_quality_ssim(&a, &b, &s), 0);
	assert_true(fabs(s - c2 / (2500 + c2)) < 1e-12);
	pl_i420_release(&a);
	pl_i420_release(&b);
}

static void test_emodel_values(void **state)
{
	struct pl_quality_emodel_in in = { .one_way_delay_ms = 20, .codec = PL_QUALITY_CODEC_OPUS };
	struct pl_quality_emodel m;
	double prev;

	/* R = 93.2 - 0.024 * 20 = 92.72 -> MOS = 1 + 0.035 R +
	 * R (R - 60)(100 - R) 7e-6 = 4.39980. */
	assert_int_equal(pl_quality_emodel(&in, &m), 0);
	assert_true(fabs(m.r - 92.72) < 1e-9);
	assert_true(fabs(m.mos - 4.3998024) < 1e-6);
	assert_true(m.mos > 4.0);
	/* 5 % random loss: Ie,eff = 95 * 5 / (5 + 25.1) = 15.7807. */
	in.loss_pct = 5;
	assert_int_equal(pl_quality_emodel(&in, &m), 0);
	assert_true(fabs(m.ie_eff - 95.0 * 5 / 30.1) < 1e-9);
	assert_true(fabs(m.r - (92.72 - 95.0 * 5 / 30.1)) < 1e-9);
	/* MOS falls with every step of loss, and bursts hurt more. */
	prev = 5;
	for (double loss = 0; loss <= 30; loss += 1) {
		in.loss_pct = loss;
		assert_int_equal(pl_quality_emodel(&in, &m), 0);
		assert_true(m.mos < prev);
		prev = m.mos;
	}
	in.loss_pct = 5, in.burst_ratio = 2;
	assert_int_equal(pl_quality_emodel(&in, &m), 0);
	assert_true(m.ie_eff > 95.0 * 5 / 30.1);
	/* 300 ms: Id = 7.2 + 0.11 * 122.7 = 20.697. */
	in.loss_pct = 0, in.burst_ratio = 0, in.one_way_delay_ms = 300;
	assert_int_equal(pl_quality_emodel(&in, &m), 0);
	assert_true(fabs(m.id - 20.697) < 1e-9);
	/* G.711 without concealment is far less robust. */
	in.one_way_delay_ms = 20, in.loss_pct = 2, in.codec = PL_QUALITY_CODEC_G711;
	assert_int_equal(pl_quality_emodel(&in, &m), 0);
	assert_true(fabs(m.ie_eff - 95.0 * 2 / 6.3) < 1e-9);
	in.loss_pct = 101;
	assert_int_equal(pl_quality_emodel(&in, &m), PL_EINVAL);
	in.loss_pct = 0, in.one_way_delay_ms = -1;
	assert_int_equal(pl_quality_emodel(&in, &m), PL_EINVAL);
}

static void test_r_to_mos(void **state)
{
	assert_true(pl_quality_r_to_mos(-5) == 1.0);
	assert_true(pl_quality_r_to_mos(0) == 1.0);
	assert_true(pl_quality_r_to_mos(100) == 4.5);
	/* R = 50: 1 + 1.75 + 50 * -10 * 50 * 7e-6 = 2.575. */
	assert_true(fabs(pl_quality_r_to_mos(50) - 2.575) < 1e-12);
	/* R = 93.2 (no impairment at all): 4.40929. */
	assert_true(fabs(pl_quality_r_to_mos(93.2) - 4.4092858) < 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fft_matches_naive_dft),
		cmocka_unit_test(test_dominant_hz_of_sines),
		cmocka_unit_test(test_dominant_hz_beats_weaker_tone),
		cmocka_unit_test(test_delay_recovered_exactly),
		cmocka_unit_test(test_delay_hand_computed),
		cmocka_unit_test(test_rms_dbfs),
		cmocka_unit_test(test_psnr_identical_and_hand_computed),
		cmocka_unit_test(test_ssim_identical_and_hand_computed),
		cmocka_unit_test(test_emodel_values),
		cmocka_unit_test(test_r_to_mos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
