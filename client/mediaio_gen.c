/* client/mediaio_gen.c: generated test audio: a sine tone and a
 * deterministic speech-like signal.
 *
 * Both are pure functions of their parameters and the absolute sample
 * index, so a sender and a receiver that regenerates the reference (for
 * cross-correlation delay, level and spectrum checks) agree sample for
 * sample, and pos can be set to seek.  No state beyond the caller's
 * struct; any thread.
 *
 * The speech-like signal is built to exercise a speech codec the way
 * speech does, not to sound like anyone: voiced syllables are harmonic
 * series (a gliding pitch, every harmonic weighted by three vowel
 * formants) under a raised-sine envelope at about four syllables a
 * second, some start with a short noise burst (a fricative), and about
 * one slot in six is a pause.  The slot pattern is drawn from a hash of
 * (seed, slot), so it never repeats with a short period, which is what
 * makes the cross-correlation peak in pl_quality_delay unambiguous.
 */
#include "client/mediaio.h"
#include "common/err.h"

#include <math.h>
#include <string.h>

#define PI 3.14159265358979323846
#define SLOTS_PER_S 4
#define SLOT_S (1.0 / SLOTS_PER_S)   /* one syllable slot */
#define MAX_HARMONICS 48
#define VOICED_RMS 0.16             /* of full scale, at the envelope's top */
#define CONTOUR_HZ 0.7              /* slow intonation across syllables */
#define CONTOUR_DEPTH 0.08

int pl_tone_init(struct pl_tone *t, double freq_hz, double amplitude, int rate_hz, int channels)
{
	memset(t, 0, sizeof(*t));
	if (rate_hz < 1000 || rate_hz > 384000 || channels < 1 || channels > 8)
		return PL_EINVAL;
	if (!(freq_hz >= 0 && freq_hz < rate_hz / 2.0) || !(amplitude >= 0 && amplitude <= 1))
		return PL_EINVAL;
	t->freq_hz = freq_hz, t->amplitude = amplitude;
	t->rate_hz = rate_hz, t->channels = channels;
	return 0;
}

void pl_tone_fill(struct pl_tone *t, int16_t *pcm, size_t frames)
{
	for (size_t i = 0; i < frames; i++, t->pos++) {
		/* The phase from the absolute index, reduced exactly enough:
		 * freq * pos stays far below 2^53 for any realistic run. */
		double cycles = fmod(t->freq_hz * (double)t->pos, (double)t->rate_hz) / t->rate_hz;
		double v = t->amplitude * 32767.0 * sin(2 * PI * cycles);
		int16_t s = (int16_t)lrint(v);
		for (int c = 0; c < t->channels; c++)
			pcm[i * (size_t)t->channels + (size_t)c] = s;
	}
}

/* lowbias32 (Chris Wellons): a well-mixed 32-bit integer hash. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t hash3(uint32_t a, uint64_t b, uint32_t c)
{
	return mix32(a ^ mix32((uint32_t)b ^ mix32((uint32_t)(b >> 32) ^ mix32(c + 0x9e3779b9u))));
}

static double unit(uint32_t h)        /* [0, 1) */
{
	return (h >> 8) * (1.0 / 16777216.0);
}

/* Formant frequencies and bandwidths of five vowels (Peterson & Barney
 * averages for adult male speakers, rounded). */
static const double vowels[5][3] = {
	{ 730, 1090, 2440 },  /* a */
	{ 530, 1840, 2480 },  /* e */
	{ 270, 2290, 3010 },  /* i */
	{ 570, 840, 2410 },   /* o */
	{ 300, 870, 2240 },   /* u */
};
static const double formant_bw[3] = { 90, 110, 170 };
static const double formant_gain[3] = { 1.0, 0.55, 0.25 };

struct syllable {
	bool voiced, fricative;
	double t0, len;                 /* start (absolute s) and length (s) */
	double f0;                      /* pitch at the start */
	int nharm;
	double amp[MAX_HARMONICS];      /* per harmonic, scaled to VOICED_RMS */
	double phase[MAX_HARMONICS];    /* fixed offsets: lower crest factor */
};

static double formant_response(const double *f, double hz)
{
	double g = 0;

	for (int i = 0; i < 3; i++) {
		double d = (hz - f[i]) / formant_bw[i];
		g += formant_gain[i] / (1 + d * d);
	}
	return g;
}

static void syllable_plan(uint32_t seed, uint64_t slot, struct syllable *s)
{
	double speaker_f0 = 100 + 60 * unit(hash3(seed, 0, 0xf0));   /* 100..160 Hz */
	double frac = 0.55 + 0.40 * unit(hash3(seed, slot, 2));       /* of the slot */
	const double *f = vowels[hash3(seed, slot, 4) % 5];
	double energy = 0, scale;

	memset(s, 0, sizeof(*s));
	s->voiced = hash3(seed, slot, 1) % 100 >= 17;
	s->fricative = hash3(seed, slot, 5) % 100 < 35;
	s->len = frac * SLOT_S;
	s->t0 = (double)slot * SLOT_S + (SLOT_S - s->len) * unit(hash3(seed, slot, 3));
	s->f0 = speaker_f0 * (0.85 + 0.35 * unit(hash3(seed, slot, 6)));
	if (!s->voiced)
		return;
	for (int k = 1; k <= MAX_HARMONICS && k * s->f0 < 3800; k++) {
		double a = formant_response(f, k * s->f0);
		s->amp[k - 1] = a;
		s->phase[k - 1] = 2 * PI * unit(hash3(seed, (uint64_t)k, 7));
		energy += a * a / 2;
		s->nharm = k;
	}
	scale = VOICED_RMS * 32767.0 * (0.7 + 0.3 * unit(hash3(seed, slot, 8))) / sqrt(energy);
	for (int k = 0; k < s->nharm; k++)
		s->amp[k] *= scale;
}

static double speech_sample(uint32_t seed, const struct syllable *s, uint64_t n, double t)
{
	double tau = t - s->t0, v = 0, env, phi;

	if (!s->voiced || tau < 0 || tau >= s->len)
		return 0;
	env = sin(PI * tau / s->len);
	/* Pitch: falls 10 % across the syllable on top of a slow contour;
	 * phi is its exact integral from the syllable's start. */
	phi = 2 * PI * s->f0 *
	      (tau - 0.05 * tau * tau / s->len -
	       CONTOUR_DEPTH / (2 * PI * CONTOUR_HZ) *
	               (cos(2 * PI * CONTOUR_HZ * t) - cos(2 * PI * CONTOUR_HZ * s->t0)));
	for (int k = 0; k < s->nharm; k++)
		v += s->amp[k] * sin((k + 1) * phi + s->phase[k]);
	v *= env;
	if (s->fricative && tau < 0.04) {
		double noise = unit(hash3(seed, n, 9)) * 2 - 1;
		v += 0.06 * 32767.0 * noise * sin(PI * tau / 0.04);
	}
	return v;
}

int pl_speech_init(struct pl_speech *s, uint32_t seed, int rate_hz, int channels)
{
	memset(s, 0, sizeof(*s));
	if (rate_hz < 8000 || rate_hz > 192000 || channels < 1 || channels > 8)
		return PL_EINVAL;
	s->seed = seed, s->rate_hz = rate_hz, s->channels = channels;
	return 0;
}

void pl_speech_fill(struct pl_speech *sp, int16_t *pcm, size_t frames)
{
	struct syllable syl;
	uint64_t planned = UINT64_MAX;

	for (size_t i = 0; i < frames; i++, sp->pos++) {
		uint64_t slot = sp->pos * SLOTS_PER_S / (uint64_t)sp->rate_hz;
		double v;
		int16_t out;
		if (slot != planned) {
			syllable_plan(sp->seed, slot, &syl);
			planned = slot;
		}
		v = speech_sample(sp->seed, &syl, sp->pos, (double)sp->pos / sp->rate_hz);
		v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
		out = (int16_t)lrint(v);
		for (int c = 0; c < sp->channels; c++)
			pcm[i * (size_t)sp->channels + (size_t)c] = out;
	}
}
