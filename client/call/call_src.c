/* client/call/call_src.c: the media parley-call sends.
 *
 * Audio is a sequence of Opus packets: a generated tone or a 48 kHz WAV
 * file encoded here 20 ms at a time, or the packets of an Ogg Opus file
 * sent as they are (no re-encoding).  Video is a sequence of VP8 frames:
 * the numbered test pattern (frame number and wall-clock send time drawn
 * in, so receivers can check order and delay) or a Y4M file encoded here,
 * or the frames of an IVF file sent as they are, paced by their pts.
 * Files loop at their end.  Everything runs on parley-call's main thread.
 */
#include "client/call/call.h"
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/vpx.h"
#include "common/err.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && g_ascii_strcasecmp(s + n - k, suffix) == 0;
}

/* ---- audio ------------------------------------------------------------------ */

struct call_asrc {
	struct pl_opus_enc *enc;
	int channels;
	struct pl_tone tone;
	bool is_tone;
	struct pl_wav_reader *wav;
	struct pl_oggopus_reader *ogg;
	char *path;
	int16_t pcm[PL_OPUS_FRAME_SAMPLES * 2];
};

void call_asrc_close(struct call_asrc *s)
{
	if (!s)
		return;
	pl_opus_enc_destroy(s->enc);
	pl_wav_reader_destroy(s->wav);
	pl_oggopus_reader_destroy(s->ogg);
	g_free(s->path);
	g_free(s);
}

int call_asrc_open(const char *spec, int kbps, struct call_asrc **out, char *err, size_t errlen)
{
	struct call_asrc *s = g_new0(struct call_asrc, 1);
	struct pl_opus_enc_config oc = { .channels = 1 };
	int rc = 0;

	*out = NULL;
	s->channels = 1;
	if (strcmp(spec, "tone") == 0 || strncmp(spec, "tone:", 5) == 0) {
		char *end = NULL;
		double hz = spec[4] ? strtod(spec + 5, &end) : 440.0;

		if ((spec[4] && (!end || *end || end == spec + 5)) ||
		    pl_tone_init(&s->tone, hz, 0.3, PL_OPUS_RATE_HZ, 1) < 0) {
			snprintf(err, errlen, "--audio %s: the tone needs a frequency in 1..23999 Hz", spec);
			rc = PL_EINVAL;
			goto out;
		}
		s->is_tone = true;
	} else if (ends_with(spec, ".ogg") || ends_with(spec, ".opus")) {
		if ((rc = pl_oggopus_reader_create(spec, &s->ogg)) < 0) {
			snprintf(err, errlen, "--audio %s: not a readable Ogg Opus file (%s)", spec,
				 pl_strerror(rc));
			goto out;
		}
		s->path = g_strdup(spec);
		*out = s;
		return 0;
	} else if (ends_with(spec, ".wav")) {
		struct pl_wav_info wi;

		if ((rc = pl_wav_reader_create(spec, &s->wav)) < 0) {
			snprintf(err, errlen, "--audio %s: not a readable 16-bit PCM WAV file (%s)", spec,
				 pl_strerror(rc));
			goto out;
		}
		pl_wav_reader_info(s->wav, &wi);
		if (wi.rate_hz != PL_OPUS_RATE_HZ || wi.channels > 2) {
			snprintf(err, errlen, "--audio %s: %d Hz, %d channels; parley-call sends 48000 Hz "
				 "mono or stereo WAV (resample it first)", spec, wi.rate_hz, wi.channels);
			rc = PL_EUNSUP;
			goto out;
		}
		s->channels = oc.channels = wi.channels;
	} else {
		snprintf(err, errlen, "--audio %s: expected tone, tone:HZ, none, or a .wav, .ogg or "
			 ".opus file", spec);
		rc = PL_EINVAL;
		goto out;
	}
	oc.bitrate_bps = kbps > 0 ? kbps * 1000 : 0;
	if ((rc = pl_opus_enc_create(&oc, &s->enc)) < 0)
		snprintf(err, errlen, "--audio: cannot create the Opus encoder (%s)", pl_strerror(rc));
out:
	if (rc < 0)
		call_asrc_close(s);
	else
		*out = s;
	return rc;
}

/* The next 20 ms of the WAV file, looping (and padding its tail). */
static int wav_fill(struct call_asrc *s)
{
	size_t need = PL_OPUS_FRAME_SAMPLES, have = 0, got;
	int rc;

	while (have < need) {
		if ((rc = pl_wav_reader_read(s->wav, s->pcm + have * s->channels, need - have, &got)) < 0)
			return rc;
		if (got == 0) {
			if (have == 0 && (rc = pl_wav_reader_rewind(s->wav)) == 0 &&
			    (rc = pl_wav_reader_read(s->wav, s->pcm, need, &got)) == 0 && got > 0) {
				have = got;
				continue;
			}
			if (rc < 0)
				return rc;
			if (have == 0)
				return PL_EIO; /* an empty file */
			memset(s->pcm + have * s->channels, 0, (need - have) * s->channels * sizeof(int16_t));
			break;
		}
		have += got;
	}
	return 0;
}

static int ogg_next(struct call_asrc *s, uint8_t *pkt, size_t cap, size_t *len, uint32_t *samples)
{
	struct pl_oggopus_packet p;
	int rc;

	for (int tries = 0; tries < 1000; tries++) {
		rc = pl_oggopus_reader_read(s->ogg, &p);
		if (rc == PL_ECLOSED || rc == PL_ETRUNC) {
			/* Loop: no rewind for Ogg, open it again. */
			pl_oggopus_reader_destroy(s->ogg);
			s->ogg = NULL;
			if ((rc = pl_oggopus_reader_create(s->path, &s->ogg)) < 0 || tries > 0)
				return rc < 0 ? rc : PL_EIO;
			continue;
		}
		if (rc == PL_EPROTO || rc == PL_ETOOBIG)
			continue; /* a damaged page or packet: the next one */
		if (rc < 0)
			return rc;
		if (p.len == 0 || p.len > cap || p.samples <= 0)
			continue;
		memcpy(pkt, p.data, p.len);
		*len = p.len;
		*samples = (uint32_t)p.samples;
		return 0;
	}
	return PL_EIO;
}

int call_asrc_next(struct call_asrc *s, uint8_t *pkt, size_t cap, size_t *len, uint32_t *samples)
{
	int rc;

	if (s->ogg || s->path)
		return ogg_next(s, pkt, cap, len, samples);
	if (s->is_tone)
		pl_tone_fill(&s->tone, s->pcm, PL_OPUS_FRAME_SAMPLES);
	else if ((rc = wav_fill(s)) < 0)
		return rc;
	*samples = PL_OPUS_FRAME_SAMPLES;
	return pl_opus_enc_encode(s->enc, s->pcm, pkt, cap, len);
}

/* ---- video ------------------------------------------------------------------ */

struct call_vsrc {
	struct pl_vpx_enc *enc;
	struct pl_i420 img;
	int fps;
	uint32_t frame_no;
	bool pattern;
	struct pl_y4m_reader *y4m;
	struct pl_ivf_reader *ivf;
	struct pl_ivf_info ivf_info;
	int64_t ivf_last_pts;
	bool ivf_have_last;
};

void call_vsrc_close(struct call_vsrc *s)
{
	if (!s)
		return;
	pl_vpx_enc_destroy(s->enc);
	pl_i420_release(&s->img);
	pl_y4m_reader_destroy(s->y4m);
	pl_ivf_reader_destroy(s->ivf);
	g_free(s);
}

int call_vsrc_open(const char *spec, const struct call_video_opts *o, struct call_vsrc **out,
		   char *err, size_t errlen)
{
	struct call_vsrc *s = g_new0(struct call_vsrc, 1);
	struct pl_vpx_enc_config vc = { .width = o->width, .height = o->height, .fps = o->fps,
					.bitrate_kbps = o->kbps };
	int rc = 0;

	*out = NULL;
	s->fps = o->fps > 0 ? o->fps : 30;
	if (strcmp(spec, "pattern") == 0) {
		s->pattern = true;
		if (pl_pattern_code_height(o->width) == 0 || o->height < 2 * pl_pattern_code_height(o->width)) {
			snprintf(err, errlen, "--video pattern: %dx%d is too small for the test pattern",
				 o->width, o->height);
			rc = PL_EINVAL;
			goto out;
		}
	} else if (ends_with(spec, ".y4m")) {
		struct pl_y4m_info yi;

		if ((rc = pl_y4m_reader_create(spec, &s->y4m)) < 0) {
			snprintf(err, errlen, "--video %s: not a readable 4:2:0 Y4M file (%s)", spec,
				 pl_strerror(rc));
			goto out;
		}
		pl_y4m_reader_info(s->y4m, &yi);
		vc.width = yi.width;
		vc.height = yi.height;
		if (yi.fps_num > 0 && yi.fps_den > 0)
			s->fps = vc.fps = MAX(1, (yi.fps_num + yi.fps_den / 2) / yi.fps_den);
	} else if (ends_with(spec, ".ivf")) {
		if ((rc = pl_ivf_reader_create(spec, &s->ivf)) < 0) {
			snprintf(err, errlen, "--video %s: not a readable IVF file (%s)", spec, pl_strerror(rc));
			goto out;
		}
		pl_ivf_reader_info(s->ivf, &s->ivf_info);
		if (strcmp(s->ivf_info.fourcc, "VP80") != 0) {
			snprintf(err, errlen, "--video %s: %s, parley-call sends VP8 (VP80) only", spec,
				 s->ivf_info.fourcc);
			rc = PL_EUNSUP;
		}
		goto out;
	} else {
		snprintf(err, errlen, "--video %s: expected pattern, none, or a .y4m or .ivf file", spec);
		rc = PL_EINVAL;
		goto out;
	}
	if ((rc = pl_i420_init(&s->img, vc.width, vc.height)) < 0 ||
	    (rc = pl_vpx_enc_create(&vc, &s->enc)) < 0)
		snprintf(err, errlen, "--video: cannot create the VP8 encoder for %dx%d (%s)", vc.width,
			 vc.height, pl_strerror(rc));
out:
	if (rc < 0)
		call_vsrc_close(s);
	else
		*out = s;
	return rc;
}

static int ivf_next(struct call_vsrc *s, bool keyframe, const uint8_t **data, size_t *len,
		    bool *is_key, int64_t *period_us)
{
	struct pl_ivf_frame f;
	int64_t period = 1000000 / s->fps;
	int rc;

	if (keyframe) /* the first frame of a file is a keyframe */
		pl_ivf_reader_rewind(s->ivf), s->ivf_have_last = false;
	rc = pl_ivf_reader_read(s->ivf, &f);
	if (rc == PL_ECLOSED || rc == PL_ETRUNC) {
		if ((rc = pl_ivf_reader_rewind(s->ivf)) < 0 || (rc = pl_ivf_reader_read(s->ivf, &f)) < 0)
			return rc;
		s->ivf_have_last = false;
	} else if (rc < 0) {
		return rc;
	}
	/* Pace by the pts steps when they make sense, else by --fps. */
	if (s->ivf_have_last && s->ivf_info.tb_den > 0 && f.pts > s->ivf_last_pts) {
		int64_t us = (f.pts - s->ivf_last_pts) * (int64_t)s->ivf_info.tb_num * 1000000 /
			     (int64_t)s->ivf_info.tb_den;
		if (us > 0 && us <= 1000000)
			period = us;
	}
	s->ivf_last_pts = f.pts;
	s->ivf_have_last = true;
	*data = f.data;
	*len = f.len;
	*period_us = period;
	{
		int w, h;

		if (pl_vpx_frame_info(f.data, f.len, is_key, &w, &h) < 0)
			*is_key = false;
	}
	return 0;
}

int call_vsrc_next(struct call_vsrc *s, bool keyframe, const uint8_t **data, size_t *len,
		   bool *is_key, int64_t *period_us)
{
	struct pl_vpx_packet p;
	int rc;

	if (s->ivf)
		return ivf_next(s, keyframe, data, len, is_key, period_us);
	*period_us = 1000000 / s->fps;
	if (s->pattern) {
		pl_pattern_draw(&s->img, s->frame_no, (uint64_t)g_get_real_time());
	} else {
		rc = pl_y4m_reader_read(s->y4m, &s->img);
		if ((rc == PL_ECLOSED || rc == PL_ETRUNC) && (rc = pl_y4m_reader_rewind(s->y4m)) == 0)
			rc = pl_y4m_reader_read(s->y4m, &s->img);
		if (rc < 0)
			return rc;
	}
	rc = pl_vpx_enc_encode(s->enc, &s->img, (int64_t)s->frame_no * 90000 / s->fps, keyframe, &p);
	s->frame_no++;
	if (rc < 0)
		return rc;
	*data = p.data;
	*len = p.len;
	*is_key = p.keyframe;
	return 0;
}
