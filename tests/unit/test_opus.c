/* tests/unit/test_opus.c: the libopus wrapper: tone round trips checked by
 * FFT, bitrate, PLC and FEC recovery, TOC durations, bad arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/mediaio.h"
#include "client/quality.h"
#include "codecs/opus.h"
#include "common/err.h"

#define FRAMES 50                       /* one second */

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: the CI machine is shared */
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Encodes FRAMES frames of a tone and decodes them; returns the decoded
 * mono (left channel) signal and the mean packet size. */
static int16_t *tone_round_trip(int channels, double hz, int bitrate, double *mean_bytes)
{
	struct pl_opus_enc_config cfg = { .channels = channels, .bitrate_bps = bitrate };
	struct pl_opus_enc *enc;
	struct pl_opus_dec *dec;
	struct pl_tone tone;
	int16_t in[PL_OPUS_FRAME_SAMPLES * 2], out[PL_OPUS_MAX_FRAME_SAMPLES * 2];
	int16_t *mono = malloc(FRAMES * PL_OPUS_FRAME_SAMPLES * sizeof(*mono));
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
	size_t len, got, total = 0;

	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_opus_dec_create(channels, &dec), 0);
	assert_int_equal(pl_tone_init(&tone, hz, 0.5, 48000, channels), 0);
	for (int f = 0; f < FRAMES; f++) {
		int samples;
		pl_tone_fill(&tone, in, PL_OPUS_FRAME_SAMPLES);
		assert_int_equal(pl_opus_enc_encode(enc, in, pkt, sizeof(pkt), &len), 0);
		assert_int_equal(pl_opus_packet_samples(pkt, len, &samples), 0);
		assert_int_equal(samples, PL_OPUS_FRAME_SAMPLES);
		total += len;
		assert_int_equal(pl_opus_dec_decode(dec, pkt, len, out, PL_OPUS_MAX_FRAME_SAMPLES, &got), 0);
		assert_int_equal(got, PL_OPUS_FRAME_SAMPLES);
		for (size_t i = 0; i < got; i++)
			mono[f * PL_OPUS_FRAME_SAMPLES + (int)i] = out[i * (size_t)channels];
	}
	*mean_bytes = (double)total / FRAMES;
	pl_opus_enc_destroy(enc);
	pl_opus_dec_destroy(dec);
	return mono;
}

static void test_opus_tone_round_trip_mono(void **state)
{
	static const double freqs[] = { 300, 440, 1000, 3000 };

	for (size_t k = 0; k < sizeof(freqs) / sizeof(freqs[0]); k++) {
		double bytes, hz;
		int16_t *pcm = tone_round_trip(1, freqs[k], 32000, &bytes);
		/* Skip the first 100 ms (encoder start-up). */
		assert_int_equal(pl_quality_dominant_hz(pcm + 4800, 43200, 48000, &hz), 0);
		assert_true(fabs(hz - freqs[k]) < 5);
		/* Level kept: a -6 dBFS sine is -9 dBFS RMS. */
		assert_true(fabs(pl_quality_rms_dbfs(pcm + 4800, 43200) - -9.03) < 1.5);
		/* 32 kbit/s is 80 bytes per 20 ms; VBR stays near it. */
		assert_true(bytes > 40 && bytes < 120);
		free(pcm);
	}
}

static void test_opus_tone_round_trip_stereo(void **state)
{
	double bytes, hz;
	int16_t *pcm = tone_round_trip(2, 440, 64000, &bytes);

	assert_int_equal(pl_quality_dominant_hz(pcm + 4800, 43200, 48000, &hz), 0);
	assert_true(fabs(hz - 440) < 5);
	assert_true(bytes > 80 && bytes < 240);
	free(pcm);
}

static void test_opus_bitrate_changes_size(void **state)
{
	double lo, hi;
	int16_t *a = tone_round_trip(1, 1000, 12000, &lo), *b = tone_round_trip(1, 1000, 96000, &hi);

	assert_true(hi > 3 * lo);
	free(a);
	free(b);
}

static void test_opus_plc_and_fec(void **state)
{
	struct pl_opus_enc_config cfg = { .channels = 1, .bitrate_bps = 32000, .fec = true,
	                                  .expected_loss_pct = 20 };
	struct pl_opus_enc *enc;
	struct pl_opus_dec *dec;
	struct pl_speech sp;
	static uint8_t pkts[FRAMES][PL_OPUS_MAX_PACKET_BYTES];
	size_t lens[FRAMES], got;
	int16_t in[PL_OPUS_FRAME_SAMPLES], out[PL_OPUS_FRAME_SAMPLES];
	double fec_db, plc_db;

	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	pl_speech_init(&sp, 1, 48000, 1);
	for (int f = 0; f < FRAMES; f++) {
		pl_speech_fill(&sp, in, PL_OPUS_FRAME_SAMPLES);
		assert_int_equal(pl_opus_enc_encode(enc, in, pkts[f], sizeof(pkts[f]), &lens[f]), 0);
	}
	/* Concealment without any data: a full frame comes out. */
	assert_int_equal(pl_opus_dec_create(1, &dec), 0);
	for (int f = 0; f < 20; f++)
		assert_int_equal(pl_opus_dec_decode(dec, pkts[f], lens[f], out, PL_OPUS_FRAME_SAMPLES, &got), 0);
	assert_int_equal(pl_opus_dec_decode(dec, NULL, 0, out, PL_OPUS_FRAME_SAMPLES, &got), 0);
	assert_int_equal(got, PL_OPUS_FRAME_SAMPLES);
	plc_db = pl_quality_rms_dbfs(out, got);
	pl_opus_dec_destroy(dec);
	/* FEC: frame 20 is lost, recovered from the LBRR data in frame 21. */
	assert_int_equal(pl_opus_dec_create(1, &dec), 0);
	for (int f = 0; f < 20; f++)
		assert_int_equal(pl_opus_dec_decode(dec, pkts[f], lens[f], out, PL_OPUS_FRAME_SAMPLES, &got), 0);
	assert_int_equal(pl_opus_dec_decode_fec(dec, pkts[21], lens[21], out, PL_OPUS_FRAME_SAMPLES), 0);
	fec_db = pl_quality_rms_dbfs(out, PL_OPUS_FRAME_SAMPLES);
	assert_int_equal(pl_opus_dec_decode(dec, pkts[21], lens[21], out, PL_OPUS_FRAME_SAMPLES, &got), 0);
	assert_int_equal(got, PL_OPUS_FRAME_SAMPLES);
	print_message("lost frame: PLC %.1f dBFS, FEC %.1f dBFS\n", plc_db, fec_db);
	assert_true(fec_db > -60);
	assert_int_equal(pl_opus_dec_decode_fec(dec, pkts[22], lens[22], out, 100), PL_EINVAL);
	/* A corrupt packet is refused, not decoded. */
	{
		static const uint8_t bad[] = { 0xff, 0xff };  /* code 3, 63 frames: too long */
		assert_int_equal(pl_opus_dec_decode(dec, bad, sizeof(bad), out, PL_OPUS_FRAME_SAMPLES, &got),
		                 PL_EPROTO);
	}
	pl_opus_dec_destroy(dec);
	pl_opus_enc_destroy(enc);
}

static void test_opus_packet_samples_from_toc(void **state)
{
	/* TOC config 0 (SILK NB 10 ms), code 0: 480; config 3 (SILK NB 60
	 * ms): 2880; config 31 (CELT FB 20 ms), code 1 (two frames): 1920;
	 * code 3 with 3 frames of config 16 (CELT NB 2.5 ms): 360. */
	static const struct {
		uint8_t pkt[3];
		size_t len;
		int samples;
	} cases[] = {
		{ { 0x00, 0x11 }, 2, 480 },
		{ { 0x18, 0x11 }, 2, 2880 },
		{ { 0xf9, 0x11, 0x22 }, 3, 1920 },
		{ { 0x83, 0x03, 0x00 }, 3, 360 },
	};
	int s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pl_opus_packet_samples(cases[i].pkt, cases[i].len, &s), 0);
		assert_int_equal(s, cases[i].samples);
	}
	assert_int_equal(pl_opus_packet_samples(cases[0].pkt, 0, &s), PL_ETRUNC);
	assert_int_equal(pl_opus_packet_samples((const uint8_t *)"\x03", 1, &s), PL_EPROTO);
}

static void test_opus_bad_arguments(void **state)
{
	struct pl_opus_enc_config cfg = { .channels = 3 };
	struct pl_opus_enc *enc;
	struct pl_opus_dec *dec;
	uint8_t small[2];
	int16_t pcm[PL_OPUS_FRAME_SAMPLES] = { 0 };
	size_t len;

	assert_int_equal(pl_opus_enc_create(&cfg, &enc), PL_EINVAL);
	assert_null(enc);
	cfg.channels = 1, cfg.bitrate_bps = 1000;
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), PL_EINVAL);
	cfg.bitrate_bps = 0, cfg.complexity = 11;
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), PL_EINVAL);
	cfg.complexity = 0;
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_opus_enc_set_bitrate(enc, 5000), PL_EINVAL);
	assert_int_equal(pl_opus_enc_set_bitrate(enc, 24000), 0);
	assert_int_equal(pl_opus_enc_set_expected_loss(enc, 101), PL_EINVAL);
	assert_int_equal(pl_opus_enc_set_expected_loss(enc, 10), 0);
	/* The pre-skip for Ogg: 6.5 ms of look-ahead at 48 kHz. */
	assert_int_equal(pl_opus_enc_lookahead(enc), 312);
	/* A buffer too small for anything but DTX: the encoder says so. */
	for (int i = 0; i < PL_OPUS_FRAME_SAMPLES; i++)
		pcm[i] = (int16_t)((i * 7919) % 20000 - 10000);
	assert_int_equal(pl_opus_enc_encode(enc, pcm, small, 0, &len), PL_ETOOBIG);
	pl_opus_enc_destroy(enc);
	pl_opus_enc_destroy(NULL);
	assert_int_equal(pl_opus_dec_create(0, &dec), PL_EINVAL);
	pl_opus_dec_destroy(NULL);
	assert_non_null(pl_opus_version());
}

static void test_opus_speed(void **state)
{
	struct pl_opus_enc_config cfg = { .channels = 1, .bitrate_bps = 32000 };
	struct pl_opus_enc *enc;
	struct pl_opus_dec *dec;
	struct pl_speech sp;
	int16_t *in = malloc(500 * PL_OPUS_FRAME_SAMPLES * sizeof(*in)), out[PL_OPUS_FRAME_SAMPLES];
	static uint8_t pkts[500][PL_OPUS_MAX_PACKET_BYTES];
	size_t lens[500], got;
	double t0, t1, t2;

	pl_speech_init(&sp, 9, 48000, 1);
	pl_speech_fill(&sp, in, 500 * PL_OPUS_FRAME_SAMPLES);
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_opus_dec_create(1, &dec), 0);
	t0 = cpu_s();
	for (int f = 0; f < 500; f++)
		assert_int_equal(pl_opus_enc_encode(enc, in + f * PL_OPUS_FRAME_SAMPLES, pkts[f],
		                                    sizeof(pkts[f]), &lens[f]), 0);
	t1 = cpu_s();
	for (int f = 0; f < 500; f++)
		assert_int_equal(pl_opus_dec_decode(dec, pkts[f], lens[f], out, PL_OPUS_FRAME_SAMPLES, &got), 0);
	t2 = cpu_s();
	print_message("%s mono 32 kbit/s speech: encode %.0f frames/s, decode %.0f frames/s\n",
	              pl_opus_version(), 500 / (t1 - t0), 500 / (t2 - t1));
	pl_opus_enc_destroy(enc);
	pl_opus_dec_destroy(dec);
	free(in);
}

static void test_opus_codec_delay(void **state)
{
	/* The decoded signal lags the input by the encoder's look-ahead;
	 * parley-bench subtracts it from the measured audio delay. */
	struct pl_opus_enc_config cfg = { .channels = 1, .bitrate_bps = 32000 };
	struct pl_opus_enc *enc;
	struct pl_opus_dec *dec;
	struct pl_speech sp;
	size_t n = FRAMES * PL_OPUS_FRAME_SAMPLES, got, len;
	int16_t *in = malloc(n * sizeof(*in)), *out = malloc(n * sizeof(*out));
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
	double corr;
	int lag;

	pl_speech_init(&sp, 4, 48000, 1);
	pl_speech_fill(&sp, in, n);
	assert_int_equal(pl_opus_enc_create(&cfg, &enc), 0);
	assert_int_equal(pl_opus_dec_create(1, &dec), 0);
	for (size_t f = 0; f < FRAMES; f++) {
		assert_int_equal(pl_opus_enc_encode(enc, in + f * PL_OPUS_FRAME_SAMPLES, pkt, sizeof(pkt), &len), 0);
		assert_int_equal(pl_opus_dec_decode(dec, pkt, len, out + f * PL_OPUS_FRAME_SAMPLES,
		                                    PL_OPUS_FRAME_SAMPLES, &got), 0);
	}
	assert_int_equal(pl_quality_delay(in, n, out, n, 4800, &lag, &corr), 0);
	print_message("opus codec delay %d samples, correlation %.3f\n", lag, corr);
	assert_true(abs(lag - pl_opus_enc_lookahead(enc)) <= 8);
	assert_true(corr > 0.8);
	pl_opus_enc_destroy(enc);
	pl_opus_dec_destroy(dec);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opus_tone_round_trip_mono),
		cmocka_unit_test(test_opus_tone_round_trip_stereo),
		cmocka_unit_test(test_opus_bitrate_changes_size),
		cmocka_unit_test(test_opus_plc_and_fec),
		cmocka_unit_test(test_opus_packet_samples_from_toc),
		cmocka_unit_test(test_opus_bad_arguments),
		cmocka_unit_test(test_opus_codec_delay),
		cmocka_unit_test(test_opus_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
