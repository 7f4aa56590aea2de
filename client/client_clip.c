/* client/client_clip.c: pre-encoded media and the player that loops it.
 *
 * A clip is a few seconds of a synthetic source encoded once, at start:
 * the numbered test pattern of client/mediaio.h encoded with codecs/vpx.h
 * (one-pass CBR at the target bitrate, no frame dropping, a keyframe at
 * frame 0 and nowhere else) and a tone (mediaio.h) encoded with
 * codecs/opus.h in 20 ms frames.  The frames are kept in memory and sent
 * as they are: a load generator spends nothing on encoding while it
 * measures.
 *
 * The player sends a clip on one client in real time from when its pub
 * connection is up: one Opus frame every 20 ms, one VP8 frame every
 * 1/fps s, looping (the loop restarts at the keyframe, so the stream stays
 * decodable).  A keyframe request restarts the video at frame 0.  Its
 * timer is a GSource with a ready time on the monotonic clock, so sends
 * follow an absolute schedule and never drift; a late wake-up catches up
 * (at most a few frames, then skips).
 * The clip is immutable after creation (any thread may read it); a player
 * runs on its client's loop thread.
 */
#include "client/client_internal.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/vpx.h"

#include <string.h>

#define OPUS_FRAME_SAMPLES PL_OPUS_FRAME_SAMPLES
#define MAX_CATCH_UP 4                  /* frames sent late in one go */

struct clip_frame {
	uint8_t *data;
	size_t len;
	bool key;
};

struct pl_client_clip {
	unsigned fps;
	struct clip_frame *video, *audio;
	size_t n_video, n_audio;
	double video_kbps, audio_kbps;
};

/* ---- encoding (codecs/vpx.h, codecs/opus.h) -------------------------------- */

static void keep(struct clip_frame *f, const void *data, size_t len, bool key)
{
	f->data = g_memdup2(data, len);
	f->len = len;
	f->key = key;
}

static int encode_video(const struct pl_client_clip_config *cfg, struct pl_client_clip *clip)
{
	struct pl_vpx_enc_config ec = {
		.width = (int)cfg->width, .height = (int)cfg->height, .fps = (int)cfg->fps,
		.bitrate_kbps = (int)cfg->video_kbps, .keyframe_interval = 1 << 30,
		.error_resilient = true,
	};
	size_t n = (size_t)cfg->fps * cfg->seconds, bytes = 0;
	struct pl_vpx_enc *enc = NULL;
	struct pl_i420 img = { 0 };
	int rc;

	if ((rc = pl_vpx_enc_create(&ec, &enc)) < 0 ||
	    (rc = pl_i420_init(&img, (int)cfg->width, (int)cfg->height)) < 0)
		goto out;
	clip->video = g_new0(struct clip_frame, n);
	for (size_t i = 0; i < n; i++) {
		struct pl_vpx_packet pkt;

		pl_pattern_draw(&img, (uint32_t)i, 0);
		rc = pl_vpx_enc_encode(enc, &img, (int64_t)(i * 90000 / cfg->fps), i == 0, &pkt);
		if (rc < 0)
			goto out;
		if (pkt.len == 0)
			continue;
		keep(&clip->video[clip->n_video++], pkt.data, pkt.len, pkt.keyframe);
		bytes += pkt.len;
	}
	clip->video_kbps = clip->n_video ? (double)bytes * 8.0 * cfg->fps / (double)clip->n_video / 1000.0 : 0;
	rc = clip->n_video && clip->video[0].key ? 0 : PL_EIO;
out:
	pl_i420_release(&img);
	pl_vpx_enc_destroy(enc);
	return rc;
}

static int encode_audio(const struct pl_client_clip_config *cfg, struct pl_client_clip *clip)
{
	struct pl_opus_enc_config oc = {
		.channels = 2, .bitrate_bps = (int)cfg->audio_kbps * 1000, .music = true,
	};
	size_t n = (size_t)cfg->seconds * 50, bytes = 0;
	int16_t pcm[PL_OPUS_FRAME_SAMPLES * 2];
	uint8_t out[PL_OPUS_MAX_PACKET_BYTES];
	struct pl_opus_enc *enc = NULL;
	struct pl_tone tone;
	int rc;

	if ((rc = pl_tone_init(&tone, cfg->tone_hz, 0.25, PL_OPUS_RATE_HZ, 2)) < 0 ||
	    (rc = pl_opus_enc_create(&oc, &enc)) < 0)
		return rc;
	clip->audio = g_new0(struct clip_frame, n);
	for (size_t i = 0; i < n; i++) {
		size_t len;

		pl_tone_fill(&tone, pcm, PL_OPUS_FRAME_SAMPLES);
		if ((rc = pl_opus_enc_encode(enc, pcm, out, sizeof(out), &len)) < 0)
			break;
		keep(&clip->audio[clip->n_audio++], out, len, false);
		bytes += len;
	}
	pl_opus_enc_destroy(enc);
	clip->audio_kbps = clip->n_audio ? (double)bytes * 8.0 * 50.0 / (double)clip->n_audio / 1000.0 : 0;
	return rc < 0 ? rc : 0;
}

int pl_client_clip_create(const struct pl_client_clip_config *cfg_in, struct pl_client_clip **out)
{
	struct pl_client_clip_config cfg = cfg_in ? *cfg_in : (struct pl_client_clip_config){ 0 };
	struct pl_client_clip *clip;
	int rc = 0;

	*out = NULL;
	cfg.width = cfg.width ? cfg.width : 640;
	cfg.height = cfg.height ? cfg.height : 360;
	cfg.fps = cfg.fps ? cfg.fps : 30;
	cfg.video_kbps = cfg.video_kbps ? cfg.video_kbps : 1000;
	cfg.audio_kbps = cfg.audio_kbps ? cfg.audio_kbps : 32;
	cfg.seconds = cfg.seconds ? cfg.seconds : 3;
	cfg.tone_hz = cfg.tone_hz > 0 ? cfg.tone_hz : 440;
	if (cfg.width % 2 || cfg.height % 2 || cfg.width > 4096 || cfg.height > 4096 || cfg.fps > 120 ||
	    cfg.seconds > 60 || (cfg.no_audio && cfg.no_video))
		return PL_EINVAL;
	clip = g_new0(struct pl_client_clip, 1);
	clip->fps = cfg.fps;
	if (!cfg.no_video)
		rc = encode_video(&cfg, clip);
	if (rc == 0 && !cfg.no_audio)
		rc = encode_audio(&cfg, clip);
	if (rc < 0) {
		pl_client_clip_destroy(clip);
		return rc;
	}
	*out = clip;
	return 0;
}

void pl_client_clip_destroy(struct pl_client_clip *clip)
{
	if (!clip)
		return;
	for (size_t i = 0; i < clip->n_video; i++)
		g_free(clip->video[i].data);
	for (size_t i = 0; i < clip->n_audio; i++)
		g_free(clip->audio[i].data);
	g_free(clip->video);
	g_free(clip->audio);
	g_free(clip);
}

void pl_client_clip_bitrates(const struct pl_client_clip *clip, double *video_kbps,
			     double *audio_kbps)
{
	if (video_kbps)
		*video_kbps = clip->video_kbps;
	if (audio_kbps)
		*audio_kbps = clip->audio_kbps;
}

/* ---- the player ------------------------------------------------------------ */

struct pl_client_player {
	struct pl_client *c;
	const struct pl_client_clip *clip;
	GSource *timer;
	bool running;
	size_t vi, ai;
	int64_t next_video_us, next_audio_us, video_period_us;
};

static gboolean player_dispatch(GSource *s, GSourceFunc cb, gpointer ud)
{
	return cb(ud);
}

static GSourceFuncs player_funcs = { NULL, NULL, player_dispatch, NULL, NULL, NULL };

/* Sends what is due at now; returns when the next frame is due. */
static int64_t player_run(struct pl_client_player *p, int64_t now)
{
	const struct pl_client_clip *clip = p->clip;

	for (int k = 0; clip->n_audio && p->next_audio_us <= now; k++) {
		const struct clip_frame *f = &clip->audio[p->ai];
		if (k < MAX_CATCH_UP)
			pl_client_pub_send_opus(p->c, f->data, f->len, OPUS_FRAME_SAMPLES);
		p->ai = (p->ai + 1) % clip->n_audio;
		p->next_audio_us += 20000;
	}
	for (int k = 0; clip->n_video && p->next_video_us <= now; k++) {
		const struct clip_frame *f = &clip->video[p->vi];
		if (k < MAX_CATCH_UP)
			pl_client_pub_send_vp8(p->c, f->data, f->len, f->key, p->next_video_us);
		p->vi = (p->vi + 1) % clip->n_video;
		p->next_video_us += p->video_period_us;
	}
	if (!clip->n_audio)
		return p->next_video_us;
	if (!clip->n_video)
		return p->next_audio_us;
	return MIN(p->next_audio_us, p->next_video_us);
}

static gboolean on_player_timer(gpointer ud)
{
	struct pl_client_player *p = ud;

	g_source_set_ready_time(p->timer, player_run(p, pl_clock_mono_us()));
	return G_SOURCE_CONTINUE;
}

void pl_client_player_start(struct pl_client_player *p)
{
	int64_t now = pl_clock_mono_us();

	if (!p || p->running)
		return;
	p->running = true;
	/* Offset the video by a random part of a frame so that clients started
	 * together do not send their frames in the same millisecond. */
	p->next_audio_us = now;
	p->next_video_us = now + g_random_int_range(0, (gint32)p->video_period_us);
	p->timer = g_source_new(&player_funcs, sizeof(GSource));
	g_source_set_callback(p->timer, on_player_timer, p, NULL);
	g_source_set_ready_time(p->timer, now);
	g_source_attach(p->timer, p->c->loop->ctx);
}

void pl_client_player_keyframe(struct pl_client_player *p)
{
	if (p)
		p->vi = 0;
}

void pl_client_player_destroy(struct pl_client_player *p)
{
	if (!p)
		return;
	if (p->timer) {
		g_source_destroy(p->timer);
		g_source_unref(p->timer);
	}
	g_free(p);
}

struct call_play {
	struct pl_client *c;
	const struct pl_client_clip *clip;
	int rc;
};

static void play_on_loop(void *ud)
{
	struct call_play *a = ud;
	struct pl_client *c = a->c;
	struct pl_client_player *p;

	if ((a->clip->n_audio && !c->pub.has_audio) || (a->clip->n_video && !c->pub.has_video)) {
		a->rc = PL_EINVAL; /* publish the clip's tracks first */
		return;
	}
	pl_client_player_destroy(c->player);
	p = g_new0(struct pl_client_player, 1);
	p->c = c;
	p->clip = a->clip;
	p->video_period_us = 1000000 / (a->clip->fps ? a->clip->fps : 30);
	c->player = p;
	if (c->pub.peer && c->pub.peer->connected)
		pl_client_player_start(p);
	a->rc = 0;
}

int pl_client_play(struct pl_client *c, const struct pl_client_clip *clip)
{
	struct call_play a = { .c = c, .clip = clip };

	if (!clip)
		return PL_EINVAL;
	pl_client_loop_call(c->loop, play_on_loop, &a);
	return a.rc;
}

static void stop_on_loop(void *ud)
{
	struct pl_client *c = ud;

	pl_client_player_destroy(c->player);
	c->player = NULL;
}

void pl_client_stop(struct pl_client *c)
{
	pl_client_loop_call(c->loop, stop_on_loop, c);
}
