/* client/call/call_rec.c: what parley-call receives, per remote track.
 *
 * Every track another participant announces gets an entry (for the
 * summary and the exit status); its frames are counted and, with a
 * recording directory, written out: Opus decoded to a 48 kHz mono WAV
 * (gaps in the RTP timestamps -- lost packets -- filled by the decoder's
 * concealment so the timeline stays right, up to two seconds), VP8 to an
 * IVF file from the first keyframe on (pts in the 90 kHz RTP clock), each
 * frame also decoded to count the decodable ones.  File names are
 * DISPLAY_PARTICIPANT_TRACK.wav/.ivf with anything but [A-Za-z0-9._-]
 * replaced.  Frames arrive on the client's loop thread; the main thread
 * reads the counters and finishes the files, hence the mutex.
 */
#include "client/call/call.h"
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/vpx.h"
#include "common/err.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define MAX_GAP_SAMPLES (2 * PL_OPUS_RATE_HZ)

struct rec_track {
	struct call_track t;
	struct pl_opus_dec *adec;
	struct pl_wav_writer *wav;
	struct pl_oggopus_writer *ogg;
	uint32_t next_ts;               /* audio: the RTP timestamp expected next */
	bool have_ts;
	struct pl_vpx_dec *vdec;
	struct pl_ivf_writer *ivf;
	uint32_t first_ts;
	bool got_key;                   /* video: a keyframe arrived */
	bool failed;                    /* the file could not be written */
};

struct call_rec {
	GMutex mu;
	char *dir;
	bool ogg;
	GPtrArray *tracks;              /* struct rec_track *, announcement order */
	GHashTable *displays;           /* participant id -> display */
	bool finished;
};

struct call_rec *call_rec_new(const char *dir, bool ogg, char *err, size_t errlen)
{
	struct call_rec *r;

	if (dir && g_mkdir_with_parents(dir, 0755) < 0) {
		snprintf(err, errlen, "--record %s: %s", dir, g_strerror(errno));
		return NULL;
	}
	r = g_new0(struct call_rec, 1);
	g_mutex_init(&r->mu);
	r->dir = g_strdup(dir);
	r->ogg = ogg && dir;
	r->tracks = g_ptr_array_new();
	r->displays = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return r;
}

static void track_close(struct rec_track *rt)
{
	if (rt->wav && pl_wav_writer_finish(rt->wav) < 0)
		rt->failed = true;
	if (rt->ivf && pl_ivf_writer_finish(rt->ivf) < 0)
		rt->failed = true;
	if (rt->ogg && pl_oggopus_writer_finish(rt->ogg) < 0)
		rt->failed = true;
}

void call_rec_finish(struct call_rec *r)
{
	g_mutex_lock(&r->mu);
	for (guint i = 0; i < r->tracks->len; i++)
		track_close(g_ptr_array_index(r->tracks, i));
	r->finished = true;
	g_mutex_unlock(&r->mu);
}

void call_rec_free(struct call_rec *r)
{
	if (!r)
		return;
	call_rec_finish(r);
	for (guint i = 0; i < r->tracks->len; i++) {
		struct rec_track *rt = g_ptr_array_index(r->tracks, i);

		pl_wav_writer_destroy(rt->wav);
		pl_ivf_writer_destroy(rt->ivf);
		pl_oggopus_writer_destroy(rt->ogg);
		pl_opus_dec_destroy(rt->adec);
		pl_vpx_dec_destroy(rt->vdec);
		g_free(rt);
	}
	g_ptr_array_free(r->tracks, TRUE);
	g_hash_table_destroy(r->displays);
	g_mutex_clear(&r->mu);
	g_free(r->dir);
	g_free(r);
}

void call_rec_participant(struct call_rec *r, const char *id, const char *display)
{
	if (!id)
		return;
	g_mutex_lock(&r->mu);
	g_hash_table_replace(r->displays, g_strdup(id), g_strdup(display ? display : id));
	g_mutex_unlock(&r->mu);
}

static struct rec_track *find(struct call_rec *r, const char *participant, const char *track)
{
	for (guint i = 0; i < r->tracks->len; i++) {
		struct rec_track *rt = g_ptr_array_index(r->tracks, i);

		if (strcmp(rt->t.participant, participant) == 0 && strcmp(rt->t.track, track) == 0)
			return rt;
	}
	return NULL;
}

static struct rec_track *add(struct call_rec *r, const char *participant, const char *track,
			     bool video)
{
	struct rec_track *rt = g_new0(struct rec_track, 1);
	const char *display = g_hash_table_lookup(r->displays, participant);

	g_strlcpy(rt->t.participant, participant, sizeof(rt->t.participant));
	g_strlcpy(rt->t.track, track, sizeof(rt->t.track));
	g_strlcpy(rt->t.display, display ? display : participant, sizeof(rt->t.display));
	rt->t.video = video;
	rt->t.added_us = g_get_monotonic_time();
	g_ptr_array_add(r->tracks, rt);
	return rt;
}

void call_rec_track(struct call_rec *r, enum pl_client_change ev, const struct pl_client_track *t)
{
	struct rec_track *rt;

	g_mutex_lock(&r->mu);
	rt = find(r, t->participant, t->id);
	if (ev == PL_CLIENT_ADDED && !rt)
		add(r, t->participant, t->id, t->kind == PL_CLIENT_VIDEO);
	else if (ev == PL_CLIENT_REMOVED && rt && !rt->t.removed_us)
		rt->t.removed_us = g_get_monotonic_time();
	g_mutex_unlock(&r->mu);
}

static void file_name(struct call_rec *r, struct rec_track *rt, const char *ext, char *path,
		      size_t cap)
{
	char *base = g_strdup_printf("%s_%s_%s.%s", rt->t.display, rt->t.participant, rt->t.track, ext);

	for (char *p = base; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
			*p = '_';
	snprintf(path, cap, "%s/%s", r->dir, base);
	g_free(base);
}

static void write_pcm(struct rec_track *rt, const int16_t *pcm, size_t n)
{
	if (rt->wav && pl_wav_writer_write(rt->wav, pcm, n) < 0)
		rt->failed = true;
}

static void on_audio(struct call_rec *r, struct rec_track *rt, const struct pl_client_frame *f)
{
	int16_t pcm[PL_OPUS_MAX_FRAME_SAMPLES];
	size_t n = 0;
	int samples = 0;

	if (!rt->adec && pl_opus_dec_create(1, &rt->adec) < 0)
		return;
	if (r->dir && !rt->wav && !rt->failed) {
		file_name(r, rt, "wav", rt->t.path, sizeof(rt->t.path));
		if (pl_wav_writer_create(rt->t.path, PL_OPUS_RATE_HZ, 1, &rt->wav) < 0)
			rt->failed = true;
	}
	if (r->ogg && !rt->ogg && !rt->failed) {
		/* Two output channels: WebRTC's Opus may be either. */
		struct pl_oggopus_info oi = { .channels = 2, .pre_skip = 312, .serial = g_random_int() };

		file_name(r, rt, "opus", rt->t.ogg_path, sizeof(rt->t.ogg_path));
		if (pl_oggopus_writer_create(rt->t.ogg_path, &oi, &rt->ogg) < 0)
			rt->failed = true;
	}
	if (rt->ogg && pl_oggopus_writer_write(rt->ogg, f->data, f->len) < 0)
		rt->t.ogg_path[0] = '\0'; /* a malformed packet: this file is not trustworthy */
	/* Lost packets: conceal them so that the recording keeps time. */
	if (rt->have_ts) {
		int32_t gap = (int32_t)(f->rtp_ts - rt->next_ts);

		for (int32_t left = gap; gap > 0 && gap <= MAX_GAP_SAMPLES && left > 0;) {
			size_t chunk = MIN((size_t)left, (size_t)PL_OPUS_FRAME_SAMPLES);

			if (pl_opus_dec_decode(rt->adec, NULL, 0, pcm, chunk, &n) < 0 || n == 0)
				break;
			write_pcm(rt, pcm, n);
			left -= (int32_t)n;
		}
	}
	if (pl_opus_dec_decode(rt->adec, f->data, f->len, pcm, PL_OPUS_MAX_FRAME_SAMPLES, &n) == 0 && n) {
		rt->t.decoded++;
		write_pcm(rt, pcm, n);
		rt->t.written++;
	}
	if (pl_opus_packet_samples(f->data, f->len, &samples) < 0 || samples <= 0)
		samples = (int)n;
	rt->next_ts = f->rtp_ts + (uint32_t)samples;
	rt->have_ts = true;
}

static void on_video(struct call_rec *r, struct rec_track *rt, const struct pl_client_frame *f)
{
	struct pl_i420 img;
	bool has, key;
	int w = 0, h = 0;

	if (!rt->vdec && pl_vpx_dec_create(1, &rt->vdec) < 0)
		return;
	if (pl_vpx_frame_info(f->data, f->len, &key, &w, &h) < 0)
		key = false;
	if (!rt->got_key && !key)
		return; /* nothing decodes before the first keyframe */
	rt->got_key = true;
	if (pl_vpx_dec_decode(rt->vdec, f->data, f->len, &img, &has) == 0 && has)
		rt->t.decoded++;
	if (r->dir && !rt->ivf && !rt->failed) {
		struct pl_ivf_info info = { .width = w, .height = h, .tb_num = 1, .tb_den = 90000 };

		file_name(r, rt, "ivf", rt->t.path, sizeof(rt->t.path));
		rt->first_ts = f->rtp_ts;
		if (pl_ivf_writer_create(rt->t.path, &info, &rt->ivf) < 0)
			rt->failed = true;
	}
	if (rt->ivf) {
		if (pl_ivf_writer_write(rt->ivf, f->data, f->len, (int64_t)(uint32_t)(f->rtp_ts - rt->first_ts)) < 0)
			rt->failed = true;
		else
			rt->t.written++;
	}
}

void call_rec_frame(struct call_rec *r, const struct pl_client_frame *f)
{
	struct rec_track *rt;

	if (!f->participant || !f->track || !f->participant[0])
		return;
	g_mutex_lock(&r->mu);
	if (r->finished) {
		g_mutex_unlock(&r->mu);
		return;
	}
	/* Frames may come before the track event (or without one). */
	rt = find(r, f->participant, f->track);
	if (!rt)
		rt = add(r, f->participant, f->track, f->kind == PL_CLIENT_VIDEO);
	rt->t.frames++;
	rt->t.bytes += f->len;
	if (rt->t.video)
		on_video(r, rt, f);
	else
		on_audio(r, rt, f);
	g_mutex_unlock(&r->mu);
}

size_t call_rec_tracks(struct call_rec *r, struct call_track **out)
{
	size_t n;

	g_mutex_lock(&r->mu);
	n = r->tracks->len;
	*out = g_new0(struct call_track, n + 1);
	for (size_t i = 0; i < n; i++) {
		struct rec_track *rt = g_ptr_array_index(r->tracks, (guint)i);

		(*out)[i] = rt->t;
		if (rt->failed)
			(*out)[i].path[0] = '\0';
	}
	g_mutex_unlock(&r->mu);
	return n;
}
