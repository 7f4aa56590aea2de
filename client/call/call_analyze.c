/* client/call/call_analyze.c: checks of parley-call's recordings, for the
 * proof tests (and for people curious about a recording).
 *
 * --analyze-wav FILE [--expect-hz HZ]: the dominant frequency (Hann
 * window, FFT, client/quality.h) of each whole second of the recording
 * after the first half second (the call's start), mixed to mono, and its
 * level.  Passes when at least two seconds were analysable and most of
 * them are within the tolerance of HZ.
 *
 * --analyze-ivf FILE [--min-frames N] [--expect-pattern]: decodes every
 * frame (codecs/vpx.h); with --expect-pattern reads the number the test
 * pattern carries (client/mediaio.h) and requires the numbers to increase
 * from frame to frame (--max-restarts N: but for N steps back, a looping
 * source starting over).  Passes when at least N frames decoded.
 *
 * Both print one line per finding and a verdict; exit status 0 (pass), 1
 * (fail), 2 (unreadable file).
 */
#include "client/call/call.h"
#include "client/mediaio.h"
#include "client/quality.h"
#include "codecs/vpx.h"
#include "common/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int call_analyze_wav(const char *path, double expect_hz, double tol_hz)
{
	struct pl_wav_reader *r = NULL;
	struct pl_wav_info wi;
	int16_t *buf, *mono;
	size_t got, secs = 0, good = 0;
	int rc;

	if ((rc = pl_wav_reader_create(path, &r)) < 0) {
		fprintf(stderr, "%s: cannot read as WAV: %s\n", path, pl_strerror(rc));
		return 2;
	}
	pl_wav_reader_info(r, &wi);
	buf = malloc((size_t)wi.rate_hz * (size_t)wi.channels * sizeof(int16_t));
	mono = malloc((size_t)wi.rate_hz * sizeof(int16_t));
	if (!buf || !mono) {
		free(buf);
		free(mono);
		pl_wav_reader_destroy(r);
		return 2;
	}
	/* Skip the first half second: the call was still starting. */
	pl_wav_reader_read(r, buf, (size_t)wi.rate_hz / 2, &got);
	printf("%s: %d Hz, %d channel(s), %llu frames (%.2f s)\n", path, wi.rate_hz, wi.channels,
	       (unsigned long long)wi.frames, (double)wi.frames / wi.rate_hz);
	while (pl_wav_reader_read(r, buf, (size_t)wi.rate_hz, &got) == 0 && got == (size_t)wi.rate_hz) {
		double hz = 0, dbfs;

		for (size_t i = 0; i < got; i++) {
			int sum = 0;
			for (int ch = 0; ch < wi.channels; ch++)
				sum += buf[i * (size_t)wi.channels + (size_t)ch];
			mono[i] = (int16_t)(sum / wi.channels);
		}
		dbfs = pl_quality_rms_dbfs(mono, got);
		secs++;
		if (pl_quality_dominant_hz(mono, got, wi.rate_hz, &hz) < 0 || dbfs < -60) {
			printf("  second %zu: silent (%.1f dBFS)\n", secs, dbfs);
			continue;
		}
		printf("  second %zu: dominant %.1f Hz, %.1f dBFS\n", secs, hz, dbfs);
		if (expect_hz > 0 && fabs(hz - expect_hz) <= tol_hz)
			good++;
	}
	free(buf);
	free(mono);
	pl_wav_reader_destroy(r);
	if (expect_hz <= 0)
		return secs > 0 ? 0 : 1;
	printf("%s: %zu of %zu seconds at %.0f +- %.0f Hz: %s\n", path, good, secs, expect_hz, tol_hz,
	       secs >= 2 && good * 2 > secs ? "PASS" : "FAIL");
	return secs >= 2 && good * 2 > secs ? 0 : 1;
}

int call_analyze_ivf(const char *path, int min_frames, bool pattern, int max_restarts)
{
	struct pl_ivf_reader *r = NULL;
	struct pl_vpx_dec *d = NULL;
	struct pl_ivf_info info;
	struct pl_ivf_frame f;
	size_t frames = 0, decoded = 0, numbered = 0, unreadable = 0, backwards = 0;
	uint32_t first = 0, last = 0;
	int rc;

	if ((rc = pl_ivf_reader_create(path, &r)) < 0 || (rc = pl_vpx_dec_create(1, &d)) < 0) {
		fprintf(stderr, "%s: cannot read as IVF: %s\n", path, pl_strerror(rc));
		pl_ivf_reader_destroy(r);
		return 2;
	}
	pl_ivf_reader_info(r, &info);
	while (pl_ivf_reader_read(r, &f) == 0) {
		struct pl_i420 img;
		uint64_t sent;
		uint32_t no;
		bool has;

		frames++;
		if (pl_vpx_dec_decode(d, f.data, f.len, &img, &has) < 0 || !has)
			continue;
		decoded++;
		if (!pattern)
			continue;
		if (pl_pattern_read(&img, &no, &sent) < 0) {
			unreadable++;
			continue;
		}
		if (numbered == 0)
			first = no;
		else if (no <= last)
			backwards++;
		last = no;
		numbered++;
	}
	printf("%s: %s %dx%d, %zu frames, %zu decoded", path, info.fourcc, info.width, info.height,
	       frames, decoded);
	if (pattern)
		printf(", %zu numbered (%u..%u), %zu unreadable, %zu out of order", numbered, first, last,
		       unreadable, backwards);
	printf("\n");
	pl_vpx_dec_destroy(d);
	pl_ivf_reader_destroy(r);
	rc = decoded >= (size_t)min_frames &&
	     (!pattern || (numbered >= (size_t)min_frames && backwards <= (size_t)max_restarts &&
			   (last > first || backwards > 0)));
	printf("%s: %s\n", path, rc ? "PASS" : "FAIL");
	return rc ? 0 : 1;
}
