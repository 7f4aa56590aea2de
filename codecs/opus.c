/* codecs/opus.c: the libopus encoder and decoder behind opus.h.
 *
 * Each object owns one OpusEncoder or OpusDecoder and nothing else; the
 * caller's thread runs every call.  The wrapper exists so that the client
 * library and the tools share one set of WebRTC-like encoder settings
 * (VOIP application, 20 ms frames, optional in-band FEC tuned by the
 * expected loss) and one mapping of libopus errors to PL_E* codes.
 */
#include "codecs/opus.h"
#include "common/err.h"

#include <opus/opus.h>      /* not <opus.h>: codecs/opus.h would shadow it */
#include <stdlib.h>

struct pl_opus_enc {
	OpusEncoder *enc;
	int channels;
};

struct pl_opus_dec {
	OpusDecoder *dec;
	int channels;
};

static int map_err(int oerr)
{
	switch (oerr) {
	case OPUS_BAD_ARG:
		return PL_EINVAL;
	case OPUS_BUFFER_TOO_SMALL:
		return PL_ETOOBIG;
	case OPUS_ALLOC_FAIL:
		return PL_ENOMEM;
	case OPUS_UNIMPLEMENTED:
		return PL_EUNSUP;
	default:
		return PL_EPROTO; /* OPUS_INVALID_PACKET, OPUS_INTERNAL_ERROR */
	}
}

static int apply_config(OpusEncoder *enc, const struct pl_opus_enc_config *cfg, int channels)
{
	int bitrate = cfg->bitrate_bps ? cfg->bitrate_bps : (channels == 2 ? 64000 : 32000);

	if (bitrate < 6000 || bitrate > 510000)
		return PL_EINVAL;
	if (cfg->complexity < 0 || cfg->complexity > 10)
		return PL_EINVAL;
	if (cfg->expected_loss_pct < 0 || cfg->expected_loss_pct > 100)
		return PL_EINVAL;
	if (opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate)) != OPUS_OK)
		return PL_EINVAL;
	if (cfg->complexity &&
	    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(cfg->complexity)) != OPUS_OK)
		return PL_EINVAL;
	/* VBR, as browsers use it; the constraint keeps packet sizes near the
	 * target so that a rate limit in a test behaves predictably. */
	opus_encoder_ctl(enc, OPUS_SET_VBR(1));
	opus_encoder_ctl(enc, OPUS_SET_VBR_CONSTRAINT(1));
	opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(cfg->fec ? 1 : 0));
	opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(cfg->expected_loss_pct));
	opus_encoder_ctl(enc, OPUS_SET_DTX(cfg->dtx ? 1 : 0));
	opus_encoder_ctl(enc, OPUS_SET_SIGNAL(cfg->music ? OPUS_SIGNAL_MUSIC : OPUS_SIGNAL_VOICE));
	return 0;
}

int pl_opus_enc_create(const struct pl_opus_enc_config *cfg, struct pl_opus_enc **out)
{
	struct pl_opus_enc *e;
	int channels = cfg->channels ? cfg->channels : 1;
	int app = cfg->music ? OPUS_APPLICATION_AUDIO : OPUS_APPLICATION_VOIP;
	int oerr, err;

	*out = NULL;
	if (channels != 1 && channels != 2)
		return PL_EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return PL_ENOMEM;
	e->channels = channels;
	e->enc = opus_encoder_create(PL_OPUS_RATE_HZ, channels, app, &oerr);
	if (!e->enc) {
		free(e);
		return map_err(oerr);
	}
	err = apply_config(e->enc, cfg, channels);
	if (err) {
		pl_opus_enc_destroy(e);
		return err;
	}
	*out = e;
	return 0;
}

void pl_opus_enc_destroy(struct pl_opus_enc *e)
{
	if (!e)
		return;
	if (e->enc)
		opus_encoder_destroy(e->enc);
	free(e);
}

int pl_opus_enc_encode(struct pl_opus_enc *e, const int16_t *pcm,
                       uint8_t *out, size_t cap, size_t *len)
{
	opus_int32 n;

	*len = 0;
	if (cap == 0)
		return PL_ETOOBIG;
	if (cap > 0x7fffffff)
		cap = 0x7fffffff;
	n = opus_encode(e->enc, pcm, PL_OPUS_FRAME_SAMPLES, out, (opus_int32)cap);
	if (n < 0)
		return map_err(n);
	*len = (size_t)n;
	return 0;
}

int pl_opus_enc_set_bitrate(struct pl_opus_enc *e, int bitrate_bps)
{
	if (bitrate_bps < 6000 || bitrate_bps > 510000)
		return PL_EINVAL;
	return opus_encoder_ctl(e->enc, OPUS_SET_BITRATE(bitrate_bps)) == OPUS_OK ? 0 : PL_EINVAL;
}

int pl_opus_enc_set_expected_loss(struct pl_opus_enc *e, int loss_pct)
{
	if (loss_pct < 0 || loss_pct > 100)
		return PL_EINVAL;
	return opus_encoder_ctl(e->enc, OPUS_SET_PACKET_LOSS_PERC(loss_pct)) == OPUS_OK ? 0 : PL_EINVAL;
}

int pl_opus_enc_lookahead(const struct pl_opus_enc *e)
{
	opus_int32 la = 0;

	opus_encoder_ctl(e->enc, OPUS_GET_LOOKAHEAD(&la));
	return (int)la;
}

int pl_opus_dec_create(int channels, struct pl_opus_dec **out)
{
	struct pl_opus_dec *d;
	int oerr;

	*out = NULL;
	if (channels != 1 && channels != 2)
		return PL_EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return PL_ENOMEM;
	d->channels = channels;
	d->dec = opus_decoder_create(PL_OPUS_RATE_HZ, channels, &oerr);
	if (!d->dec) {
		free(d);
		return map_err(oerr);
	}
	*out = d;
	return 0;
}

void pl_opus_dec_destroy(struct pl_opus_dec *d)
{
	if (!d)
		return;
	if (d->dec)
		opus_decoder_destroy(d->dec);
	free(d);
}

int pl_opus_dec_decode(struct pl_opus_dec *d, const uint8_t *pkt, size_t len,
                       int16_t *pcm, size_t cap_samples, size_t *samples)
{
	int n;

	*samples = 0;
	if (cap_samples > PL_OPUS_MAX_FRAME_SAMPLES)
		cap_samples = PL_OPUS_MAX_FRAME_SAMPLES;
	if (!pkt || len == 0) {
		/* PLC: libopus wants the gap's duration, in 2.5 ms steps. */
		size_t want = cap_samples < PL_OPUS_FRAME_SAMPLES ? cap_samples
		                                                   : PL_OPUS_FRAME_SAMPLES;
		want -= want % 120;
		if (want == 0)
			return PL_ETOOBIG;
		n = opus_decode(d->dec, NULL, 0, pcm, (int)want, 0);
	} else {
		if (len > 0x7fffffff)
			return PL_EPROTO;
		n = opus_decode(d->dec, pkt, (opus_int32)len, pcm, (int)cap_samples, 0);
	}
	if (n < 0)
		return map_err(n);
	*samples = (size_t)n;
	return 0;
}

int pl_opus_dec_decode_fec(struct pl_opus_dec *d, const uint8_t *next_pkt, size_t len,
                           int16_t *pcm, size_t lost_samples)
{
	int n;

	if (lost_samples == 0 || lost_samples % 120 || lost_samples > PL_OPUS_MAX_FRAME_SAMPLES)
		return PL_EINVAL;
	if (len > 0x7fffffff)
		return PL_EPROTO;
	n = opus_decode(d->dec, len ? next_pkt : NULL, (opus_int32)len, pcm, (int)lost_samples, 1);
	if (n < 0)
		return map_err(n);
	return 0;
}

int pl_opus_packet_samples(const uint8_t *pkt, size_t len, int *samples)
{
	int n;

	*samples = 0;
	if (!pkt || len == 0)
		return PL_ETRUNC;
	if (len > 0x7fffffff)
		return PL_EPROTO;
	n = opus_packet_get_nb_samples(pkt, (opus_int32)len, PL_OPUS_RATE_HZ);
	if (n < 0)
		return PL_EPROTO;
	*samples = n;
	return 0;
}

const char *pl_opus_version(void)
{
	return opus_get_version_string();
}
