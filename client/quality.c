/* client/quality.c: the measurements of quality.h.
 *
 * Audio analysis runs on one radix-2 FFT (iterative, bit-reversed, with a
 * per-call twiddle table: exact enough for a 2^24-point transform of
 * 16-bit samples).  The delay search correlates both signals in one
 * complex FFT (ref in the real part, deg in the imaginary part, split by
 * conjugate symmetry), so ten seconds of 48 kHz audio against ten more
 * take two 2^20-point transforms and 32 MiB of scratch.
 *
 * The E-model here is G.107 with every parameter at its default except
 * delay, loss and codec, the common "simplified E-model":
 *   - Ro - Is = 93.2, A = 0 (G.107 defaults).
 *   - Id from the one-way mouth-to-ear delay d (ms) by Cole and
 *     Rosenbluth's fit of G.107's Idte + Idd at default echo loss
 *     (TELR 65 dB): Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)
 *     ("Voice over IP performance monitoring", ACM SIGCOMM CCR 31(2),
 *     2001).
 *   - Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl) (G.107 since
 *     2005), with Ie and Bpl from ITU-T G.113 Appendix I: G.711 Ie 0,
 *     Bpl 4.3 without and 25.1 with packet-loss concealment.  ITU-T
 *     publishes no narrowband Ie/Bpl for Opus; Opus takes Ie 0 (at the
 *     bitrates WebRTC uses it is at least as good as G.711, the top of
 *     the narrowband scale) and G.711+PLC's Bpl 25.1 as a conservative
 *     stand-in for its concealment (in-band FEC only does better), so
 *     the MOS under loss is a lower estimate.
 *   - MOS from R by G.107 Annex B.
 * Pure functions; any thread.
 */
#include "client/quality.h"
#include "common/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static size_t next_pow2(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

int pl_quality_fft(double *re, double *im, size_t n, int inverse)
{
	double *tw;

	if (n < 1 || n > PL_QUALITY_FFT_MAX || (n & (n - 1)))
		return PL_EINVAL;
	if (n == 1)
		return 0;
	tw = malloc(n * sizeof(*tw));      /* cos, sin of 2 pi k / n, k < n/2 */
	if (!tw)
		return PL_ENOMEM;
	for (size_t k = 0; k < n / 2; k++) {
		tw[2 * k] = cos(2 * PI * (double)k / (double)n);
		tw[2 * k + 1] = (inverse ? 1 : -1) * sin(2 * PI * (double)k / (double)n);
	}
	for (size_t i = 1, j = 0; i < n; i++) {  /* bit-reversal permutation */
		size_t bit = n >> 1;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j |= bit;
		if (i < j) {
			double t = re[i]; re[i] = re[j]; re[j] = t;
			t = im[i]; im[i] = im[j]; im[j] = t;
		}
	}
	for (size_t len = 2; len <= n; len <<= 1) {
		size_t half = len / 2, step = n / len;
		for (size_t s = 0; s < n; s += len) {
			for (size_t k = 0; k < half; k++) {
				double wr = tw[2 * k * step], wi = tw[2 * k * step + 1];
				size_t a = s + k, b = a + half;
				double xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
				re[b] = re[a] - xr, im[b] = im[a] - xi;
				re[a] += xr, im[a] += xi;
			}
		}
	}
	free(tw);
	if (inverse)
		for (size_t i = 0; i < n; i++)
			re[i] /= (double)n, im[i] /= (double)n;
	return 0;
}

int pl_quality_dominant_hz(const int16_t *pcm, size_t n, int rate_hz, double *hz)
{
	size_t N = next_pow2(n) * 2, best = 0;
	double *re, *im, peak = 0, a, b, c, delta;
	int err;

	*hz = 0;
	if (n < 64 || rate_hz <= 0 || N > PL_QUALITY_FFT_MAX)
		return PL_EINVAL;
	re = calloc(N, sizeof(*re));
	im = calloc(N, sizeof(*im));
	if (!re || !im) {
		err = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		re[i] = pcm[i] * (0.5 - 0.5 * cos(2 * PI * (double)i / (double)(n - 1)));
	err = pl_quality_fft(re, im, N, 0);
	if (err)
		goto out;
	for (size_t k = 1; k < N / 2; k++) {   /* power, kept in re[] */
		re[k] = re[k] * re[k] + im[k] * im[k];
		if (re[k] > peak)
			peak = re[k], best = k;
	}
	if (peak <= 0 || best < 2 || best >= N / 2 - 1) {
		err = PL_EINVAL;
		goto out;
	}
	/* Parabola through the log magnitudes around the peak (0.5 * log of
	 * power); for a Hann window this is accurate to a few % of a bin. */
	a = 0.5 * log(re[best - 1] + 1e-300);
	b = 0.5 * log(re[best]);
	c = 0.5 * log(re[best + 1] + 1e-300);
	delta = (a - 2 * b + c) != 0 ? 0.5 * (a - c) / (a - 2 * b + c) : 0;
	*hz = ((double)best + delta) * rate_hz / (double)N;
out:
	free(re);
	free(im);
	return err;
}

/* Prefix sums of squares: e[i] = sum of x[0..i)^2. */
static double *energy_prefix(const int16_t *x, size_t n)
{
	double *e = malloc((n + 1) * sizeof(*e));

	if (!e)
		return NULL;
	e[0] = 0;
	for (size_t i = 0; i < n; i++)
		e[i + 1] = e[i] + (double)x[i] * x[i];
	return e;
}

/* Cross-correlation c[m] = sum ref[i] deg[i + m] at re[m mod N]. */
static int xcorr(const int16_t *ref, size_t ref_n, const int16_t *deg, size_t deg_n,
                 double *re, double *im, size_t N)
{
	int err;

	for (size_t i = 0; i < ref_n; i++)
		re[i] = ref[i];
	for (size_t i = 0; i < deg_n; i++)
		im[i] = deg[i];
	err = pl_quality_fft(re, im, N, 0);
	if (err)
		return err;
	/* Z = R + iD with R, D the spectra of the real inputs:
	 * R[k] = (Z[k] + conj Z[-k]) / 2, D[k] = (Z[k] - conj Z[-k]) / 2i,
	 * and the product wanted is conj(R[k]) D[k].  k and N-k are done
	 * together so the input can be overwritten in place. */
	for (size_t k = 0; k <= N / 2; k++) {
		size_t m = (N - k) & (N - 1);
		double zr = re[k], zi = im[k], wr = re[m], wi = im[m];
		double rr = (zr + wr) / 2, ri = (zi - wi) / 2;     /* R[k] */
		double dr = (zi + wi) / 2, di = (wr - zr) / 2;     /* D[k] */
		double pr = rr * dr + ri * di, pi = rr * di - ri * dr;
		/* R[N-k] = conj R[k] and D[N-k] = conj D[k] for real inputs. */
		re[k] = pr, im[k] = pi;
		re[m] = pr, im[m] = -pi;
	}
	return pl_quality_fft(re, im, N, 1);
}

int pl_quality_delay(const int16_t *ref, size_t ref_n, const int16_t *deg, size_t deg_n,
                     int max_lag, int *lag, double *corr)
{
	size_t N = next_pow2(ref_n + deg_n), min_overlap;
	double *re = NULL, *im = NULL, *eref = NULL, *edeg = NULL, best = -2;
	int err, found = 0;

	*lag = 0;
	if (corr)
		*corr = 0;
	if (ref_n == 0 || deg_n == 0 || max_lag < 0 || N > PL_QUALITY_FFT_MAX)
		return PL_EINVAL;
	if ((size_t)max_lag > ref_n + deg_n)
		max_lag = (int)(ref_n + deg_n < 0x7fffffff ? ref_n + deg_n : 0x7fffffff);
	min_overlap = (ref_n < deg_n ? ref_n : deg_n) / 2;
	min_overlap = min_overlap ? min_overlap : 1;
	re = calloc(N, sizeof(*re));
	im = calloc(N, sizeof(*im));
	eref = energy_prefix(ref, ref_n);
	edeg = energy_prefix(deg, deg_n);
	if (!re || !im || !eref || !edeg) {
		err = PL_ENOMEM;
		goto out;
	}
	err = xcorr(ref, ref_n, deg, deg_n, re, im, N);
	if (err)
		goto out;
	for (long m = -(long)max_lag; m <= (long)max_lag; m++) {
		long lo = m < 0 ? -m : 0;
		long hi = (long)ref_n < (long)deg_n - m ? (long)ref_n : (long)deg_n - m;
		double er, ed, c;
		if (hi - lo < (long)min_overlap)
			continue;
		er = eref[hi] - eref[lo];
		ed = edeg[hi + m] - edeg[lo + m];
		if (er <= 0 || ed <= 0)
			continue;
		c = re[(size_t)m & (N - 1)] / sqrt(er * ed);
		if (c > best)
			best = c, *lag = (int)m, found = 1;
	}
	if (!found) {
		err = PL_EINVAL;
		goto out;
	}
	if (corr)
		*corr = best;
out:
	free(re);
	free(im);
	free(eref);
	free(edeg);
	return err;
}

double pl_quality_rms_dbfs(const int16_t *pcm, size_t n)
{
	double sum = 0, db;

	if (n == 0)
		return PL_QUALITY_DBFS_FLOOR;
	for (size_t i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];
	if (sum == 0)
		return PL_QUALITY_DBFS_FLOOR;
	db = 10 * log10(sum / (double)n / (32768.0 * 32768.0));
	return db < PL_QUALITY_DBFS_FLOOR ? PL_QUALITY_DBFS_FLOOR : db;
}

static double psnr_db(double sse, double count)
{
	double db;

	if (sse <= 0)
		return PL_QUALITY_PSNR_MAX_DB;
	db = 10 * log10(255.0 * 255.0 * count / sse);
	return db > PL_QUALITY_PSNR_MAX_DB ? PL_QUALITY_PSNR_MAX_DB : db;
}

int pl_quality_psnr(const struct pl_i420 *a, const struct pl_i420 *b, struct pl_quality_psnr *out)
{
	double sse[3] = { 0 }, cnt[3] = { 0 }, *db[3] = { &out->y, &out->u, &out->v };

	memset(out, 0, sizeof(*out));
	if (a->width != b->width || a->height != b->height)
		return PL_EINVAL;
	for (int p = 0; p < 3; p++) {
		int w = pl_i420_plane_width(a, p), h = pl_i420_plane_height(a, p);
		for (int y = 0; y < h; y++) {
			const uint8_t *ra = a->plane[p] + (size_t)y * a->stride[p];
			const uint8_t *rb = b->plane[p] + (size_t)y * b->stride[p];
			uint64_t row = 0;
			for (int x = 0; x < w; x++) {
				int d = ra[x] - rb[x];
				row += (uint64_t)(d * d);
			}
			sse[p] += (double)row;
		}
		cnt[p] = (double)w * h;
		*db[p] = psnr_db(sse[p], cnt[p]);
	}
	out->yuv = psnr_db(sse[0] + sse[1] + sse[2], cnt[0] + cnt[1] + cnt[2]);
	return 0;
}

static double ssim_window(const uint8_t *pa, int sa, const uint8_t *pb, int sb)
{
	const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
	uint32_t sum_a = 0, sum_b = 0, sum_aa = 0, sum_bb = 0, sum_ab = 0;
	double ma, mb, va, vb, cov;

	for (int y = 0; y < 8; y++) {
		for (int x = 0; x < 8; x++) {
			uint32_t va8 = pa[y * sa + x], vb8 = pb[y * sb + x];
			sum_a += va8, sum_b += vb8;
			sum_aa += va8 * va8, sum_bb += vb8 * vb8, sum_ab += va8 * vb8;
		}
	}
	ma = sum_a / 64.0, mb = sum_b / 64.0;
	va = sum_aa / 64.0 - ma * ma;
	vb = sum_bb / 64.0 - mb * mb;
	cov = sum_ab / 64.0 - ma * mb;
	return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
}

int pl_quality_ssim(const struct pl_i420 *a, const struct pl_i420 *b, double *ssim)
{
	double sum = 0;
	long n = 0;

	*ssim = 0;
	if (a->width != b->width || a->height != b->height || a->width < 8 || a->height < 8)
		return PL_EINVAL;
	for (int y = 0; y + 8 <= a->height; y += 4) {
		for (int x = 0; x + 8 <= a->width; x += 4) {
			sum += ssim_window(a->plane[0] + (size_t)y * a->stride[0] + x, a->stride[0],
			                   b->plane[0] + (size_t)y * b->stride[0] + x, b->stride[0]);
			n++;
		}
	}
	*ssim = sum / (double)n;
	return 0;
}

static const struct {
	double ie, bpl;
} codec_params[] = {
	[PL_QUALITY_CODEC_OPUS] = { 0, 25.1 },
	[PL_QUALITY_CODEC_G711_PLC] = { 0, 25.1 },
	[PL_QUALITY_CODEC_G711] = { 0, 4.3 },
};

double pl_quality_r_to_mos(double r)
{
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

int pl_quality_emodel(const struct pl_quality_emodel_in *in, struct pl_quality_emodel *out)
{
	double d = in->one_way_delay_ms, ppl = in->loss_pct;
	double burst = in->burst_ratio > 0 ? in->burst_ratio : 1, ie, bpl;

	memset(out, 0, sizeof(*out));
	if (!(d >= 0 && d < 1e6) || !(ppl >= 0 && ppl <= 100) || !(burst < 1e6) ||
	    (unsigned)in->codec >= sizeof(codec_params) / sizeof(codec_params[0]))
		return PL_EINVAL;
	ie = codec_params[in->codec].ie;
	bpl = codec_params[in->codec].bpl;
	out->id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
	out->ie_eff = ie + (95 - ie) * ppl / (ppl / burst + bpl);
	out->r = 93.2 - out->id - out->ie_eff;
	out->r = out->r < 0 ? 0 : out->r > 100 ? 100 : out->r;
	out->mos = pl_quality_r_to_mos(out->r);
	return 0;
}
