/* client/quality.h: call-quality analysis for parley-bench quality and the
 * parley-call proof tests.
 *
 * Audio: an FFT, the dominant frequency of a PCM block, the delay between
 * a reference and a received signal by normalised cross-correlation, RMS
 * level.  Video: PSNR per plane and SSIM on luma between two I420
 * pictures.  Voice: the ITU-T G.107 E-model reduced to one-way delay,
 * packet loss and codec, mapped to a MOS.
 *
 * Pure functions of their arguments (some allocate scratch memory and
 * return PL_ENOMEM); any thread.
 */
#ifndef PL_CLIENT_QUALITY_H
#define PL_CLIENT_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "codecs/vpx.h"

#define PL_QUALITY_PSNR_MAX_DB 100.0     /* identical planes */
#define PL_QUALITY_DBFS_FLOOR (-120.0)   /* digital silence */
#define PL_QUALITY_FFT_MAX (1u << 24)

/* In-place radix-2 complex FFT of n points (a power of two, at most
 * PL_QUALITY_FFT_MAX): X[k] = sum x[j] e^(-2 pi i jk/n); inverse != 0
 * computes sum X[j] e^(+2 pi i jk/n) / n.  Returns 0 or PL_EINVAL. */
int pl_quality_fft(double *re, double *im, size_t n, int inverse);

/* The frequency with the most energy in mono pcm[0..n) (n >= 64) sampled
 * at rate_hz: Hann window, zero-padded FFT, DC excluded, refined by
 * parabolic interpolation of the log magnitude (error well under one
 * bin).  Returns 0, PL_EINVAL (too short, too long, silent), PL_ENOMEM. */
int pl_quality_dominant_hz(const int16_t *pcm, size_t n, int rate_hz, double *hz);

/* The lag, in samples, at which deg best matches ref: deg[i + lag] ~
 * ref[i], so a positive lag means deg is late.  Searches
 * -max_lag..max_lag by FFT cross-correlation, normalised by the energy
 * of the overlapping parts, considering only lags whose overlap is at
 * least half the shorter signal.  *corr (may be NULL) gets the
 * normalised correlation at the peak (1.0 for an exact shifted copy,
 * negative if inverted).  Returns 0, PL_EINVAL (empty input, max_lag
 * negative or with no admissible lag, silent input), PL_ENOMEM. */
int pl_quality_delay(const int16_t *ref, size_t ref_n, const int16_t *deg, size_t deg_n,
                     int max_lag, int *lag, double *corr);

/* RMS level relative to a full-scale square wave (so a full-scale sine
 * is -3.01 dBFS, as WebRTC's audio level); PL_QUALITY_DBFS_FLOOR for
 * silence or n == 0. */
double pl_quality_rms_dbfs(const int16_t *pcm, size_t n);

struct pl_quality_psnr {
	double y, u, v;          /* per plane, dB, capped at PSNR_MAX */
	double yuv;              /* from the MSE over all samples (4:1:1) */
};

/* Returns 0 or PL_EINVAL (sizes differ). */
int pl_quality_psnr(const struct pl_i420 *a, const struct pl_i420 *b, struct pl_quality_psnr *out);

/* Mean SSIM (Wang et al. 2004, K1 = 0.01, K2 = 0.03, L = 255) of the luma
 * planes over 8x8 windows every 4 pixels, unweighted.  1.0 for identical
 * pictures.  Returns 0 or PL_EINVAL (sizes differ or smaller than 8x8). */
int pl_quality_ssim(const struct pl_i420 *a, const struct pl_i420 *b, double *ssim);

/* Codec impairment values for the E-model.  Ie is the equipment
 * impairment factor, Bpl the packet-loss robustness factor. */
enum pl_quality_codec {
	PL_QUALITY_CODEC_OPUS,       /* Ie 0, Bpl 25.1: see quality.c */
	PL_QUALITY_CODEC_G711_PLC,   /* Ie 0, Bpl 25.1 (G.113 Appendix I) */
	PL_QUALITY_CODEC_G711,       /* Ie 0, Bpl 4.3 (no concealment) */
};

struct pl_quality_emodel_in {
	double one_way_delay_ms;     /* mouth to ear, >= 0 */
	double loss_pct;             /* packet loss, 0..100 */
	double burst_ratio;          /* G.107 BurstR; 0 or 1 for random loss */
	enum pl_quality_codec codec;
};

struct pl_quality_emodel {
	double r;                    /* transmission rating, 0..100 */
	double mos;                  /* conversational MOS-CQE, 1..4.5 */
	double id;                   /* delay impairment */
	double ie_eff;               /* effective equipment impairment */
};

/* R = Ro - Is - Id - Ie,eff + A with every G.107 default, which gives
 * Ro - Is = 93.2 and A = 0; Id from the one-way delay (see quality.c);
 * Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl) (G.107 7-29).
 * Returns 0 or PL_EINVAL (out of range, unknown codec). */
int pl_quality_emodel(const struct pl_quality_emodel_in *in, struct pl_quality_emodel *out);

/* G.107 Annex B: R to MOS (1 below R = 0, 4.5 above R = 100). */
double pl_quality_r_to_mos(double r);

#endif
