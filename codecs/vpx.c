/* codecs/vpx.c: the libvpx VP8 encoder and decoder behind vpx.h, and the
 * I420 picture helpers.
 *
 * Each encoder owns one vpx_codec_ctx_t configured like WebRTC's VP8
 * (one-pass CBR, realtime deadline, g_lag_in_frames = 0, no alt-ref), so
 * every input picture yields at most one output frame and that frame
 * can be sent right away.  Each decoder owns one decoding context and
 * hands out views of libvpx's frame buffers.  The caller's thread runs
 * every call.
 */
#include "codecs/vpx.h"
#include "common/err.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

struct pl_vpx_enc {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	bool inited;
	bool keyframe_pending;
	unsigned long duration;       /* one frame in 90 kHz ticks */
};

struct pl_vpx_dec {
	vpx_codec_ctx_t ctx;
	bool inited;
};

int pl_i420_plane_width(const struct pl_i420 *img, int plane)
{
	return plane == 0 ? img->width : (img->width + 1) / 2;
}

int pl_i420_plane_height(const struct pl_i420 *img, int plane)
{
	return plane == 0 ? img->height : (img->height + 1) / 2;
}

int pl_i420_init(struct pl_i420 *img, int width, int height)
{
	size_t ysz, csz;
	uint8_t *buf;
	int cw = (width + 1) / 2, ch = (height + 1) / 2;

	memset(img, 0, sizeof(*img));
	if (width < 1 || height < 1 || width > PL_I420_MAX_DIM || height > PL_I420_MAX_DIM)
		return PL_EINVAL;
	ysz = (size_t)width * (size_t)height;
	csz = (size_t)cw * (size_t)ch;
	buf = malloc(ysz + 2 * csz);
	if (!buf)
		return PL_ENOMEM;
	memset(buf, 16, ysz);
	memset(buf + ysz, 128, 2 * csz);
	img->width = width, img->height = height;
	img->plane[0] = buf, img->stride[0] = width;
	img->plane[1] = buf + ysz, img->stride[1] = cw;
	img->plane[2] = buf + ysz + csz, img->stride[2] = cw;
	img->owned = buf;
	return 0;
}

void pl_i420_release(struct pl_i420 *img)
{
	if (!img)
		return;
	free(img->owned);
	memset(img, 0, sizeof(*img));
}

int pl_i420_copy(struct pl_i420 *dst, const struct pl_i420 *src)
{
	if (dst->width != src->width || dst->height != src->height)
		return PL_EINVAL;
	for (int p = 0; p < 3; p++) {
		int w = pl_i420_plane_width(src, p), h = pl_i420_plane_height(src, p);
		for (int y = 0; y < h; y++)
			memcpy(dst->plane[p] + (size_t)y * dst->stride[p],
			       src->plane[p] + (size_t)y * src->stride[p], (size_t)w);
	}
	return 0;
}

static int fill_config(vpx_codec_enc_cfg_t *c, const struct pl_vpx_enc_config *cfg)
{
	int fps = cfg->fps ? cfg->fps : 30;
	int kbps = cfg->bitrate_kbps ? cfg->bitrate_kbps : 500;

	if (cfg->width < 16 || cfg->height < 16 || cfg->width > 16383 || cfg->height > 16383)
		return PL_EINVAL;
	if (fps < 1 || fps > 1000 || kbps < 10 || kbps > 100000 || cfg->keyframe_interval < 0 ||
	    cfg->threads < 0 || cfg->threads > 64 || cfg->cpu_used < -16 || cfg->cpu_used > 16)
		return PL_EINVAL;
	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), c, 0) != VPX_CODEC_OK)
		return PL_EPROTO;
	c->g_w = (unsigned)cfg->width;
	c->g_h = (unsigned)cfg->height;
	c->g_timebase.num = 1;
	c->g_timebase.den = 90000;
	c->g_threads = cfg->threads ? (unsigned)cfg->threads : 1;
	c->g_pass = VPX_RC_ONE_PASS;
	c->g_lag_in_frames = 0;
	c->g_error_resilient = cfg->error_resilient ? VPX_ERROR_RESILIENT_DEFAULT : 0;
	c->rc_end_usage = VPX_CBR;
	c->rc_target_bitrate = (unsigned)kbps;
	c->rc_dropframe_thresh = cfg->allow_frame_drop ? 30 : 0;
	/* WebRTC's libvpx_vp8_encoder.cc values: a quantizer range that keeps
	 * a floor on quality, a buffer model tuned for interactive delay. */
	c->rc_min_quantizer = 2;
	c->rc_max_quantizer = 56;
	c->rc_undershoot_pct = 100;
	c->rc_overshoot_pct = 15;
	c->rc_buf_initial_sz = 500;
	c->rc_buf_optimal_sz = 600;
	c->rc_buf_sz = 1000;
	c->rc_resize_allowed = 0;
	c->kf_mode = VPX_KF_AUTO;
	c->kf_min_dist = 0;
	c->kf_max_dist = cfg->keyframe_interval ? (unsigned)cfg->keyframe_interval : 3000;
	return 0;
}

int pl_vpx_enc_create(const struct pl_vpx_enc_config *cfg, struct pl_vpx_enc **out)
{
	struct pl_vpx_enc *e;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return PL_ENOMEM;
	err = fill_config(&e->cfg, cfg);
	if (err)
		goto fail;
	e->duration = 90000ul / (unsigned long)(cfg->fps ? cfg->fps : 30);
	if (vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg, 0) != VPX_CODEC_OK) {
		err = PL_EPROTO;
		goto fail;
	}
	e->inited = true;
	vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, cfg->cpu_used ? cfg->cpu_used : -6);
	vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0u);
	vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1u);
	vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, (int)VP8_ONE_TOKENPARTITION);
	vpx_codec_control(&e->ctx, VP8E_SET_ENABLEAUTOALTREF, 0u);
	/* Cap a keyframe at 9x an average frame (WebRTC: 0.5 * optimal buffer
	 * * fps / 10 with a 600 ms buffer at 30 fps) so it does not burst. */
	vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 900u);
	*out = e;
	return 0;
fail:
	pl_vpx_enc_destroy(e);
	return err;
}

void pl_vpx_enc_destroy(struct pl_vpx_enc *e)
{
	if (!e)
		return;
	if (e->inited)
		vpx_codec_destroy(&e->ctx);
	free(e);
}

void pl_vpx_enc_request_keyframe(struct pl_vpx_enc *e)
{
	e->keyframe_pending = true;
}

int pl_vpx_enc_set_bitrate(struct pl_vpx_enc *e, int bitrate_kbps)
{
	if (bitrate_kbps < 10 || bitrate_kbps > 100000)
		return PL_EINVAL;
	e->cfg.rc_target_bitrate = (unsigned)bitrate_kbps;
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg) == VPX_CODEC_OK ? 0 : PL_EPROTO;
}

int pl_vpx_enc_encode(struct pl_vpx_enc *e, const struct pl_i420 *img, int64_t pts,
                      bool force_keyframe, struct pl_vpx_packet *out)
{
	vpx_image_t vimg;
	vpx_codec_iter_t iter = NULL;
	const vpx_codec_cx_pkt_t *pkt;
	vpx_enc_frame_flags_t flags = 0;

	memset(out, 0, sizeof(*out));
	out->pts = pts;
	if ((unsigned)img->width != e->cfg.g_w || (unsigned)img->height != e->cfg.g_h)
		return PL_EINVAL;
	/* Wrap the caller's planes without copying: vpx_img_wrap computes a
	 * packed layout, which is then pointed at the real planes. */
	vpx_img_wrap(&vimg, VPX_IMG_FMT_I420, (unsigned)img->width, (unsigned)img->height, 1,
	             img->plane[0]);
	for (int p = 0; p < 3; p++) {
		vimg.planes[p] = img->plane[p];
		vimg.stride[p] = img->stride[p];
	}
	if (force_keyframe || e->keyframe_pending)
		flags |= VPX_EFLAG_FORCE_KF;
	if (vpx_codec_encode(&e->ctx, &vimg, pts, e->duration, flags, VPX_DL_REALTIME) !=
	    VPX_CODEC_OK)
		return PL_EPROTO;
	e->keyframe_pending = false;
	/* With no lag and no alt-ref there is at most one frame packet. */
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &iter))) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT || out->len)
			continue;
		out->data = pkt->data.frame.buf;
		out->len = pkt->data.frame.sz;
		out->keyframe = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
	}
	return 0;
}

int pl_vpx_dec_create(int threads, struct pl_vpx_dec **out)
{
	struct pl_vpx_dec *d;
	vpx_codec_dec_cfg_t cfg = { 0 };

	*out = NULL;
	if (threads < 0 || threads > 64)
		return PL_EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return PL_ENOMEM;
	cfg.threads = threads ? (unsigned)threads : 1;
	if (vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
		free(d);
		return PL_EPROTO;
	}
	d->inited = true;
	*out = d;
	return 0;
}

void pl_vpx_dec_destroy(struct pl_vpx_dec *d)
{
	if (!d)
		return;
	if (d->inited)
		vpx_codec_destroy(&d->ctx);
	free(d);
}

int pl_vpx_dec_decode(struct pl_vpx_dec *d, const uint8_t *data, size_t len,
                      struct pl_i420 *img, bool *has_frame)
{
	vpx_codec_iter_t iter = NULL;
	vpx_image_t *vimg;
	int corrupt = 0;

	*has_frame = false;
	memset(img, 0, sizeof(*img));
	if (!data || len == 0 || len > UINT_MAX)
		return PL_EPROTO;
	if (vpx_codec_decode(&d->ctx, data, (unsigned)len, NULL, 0) != VPX_CODEC_OK)
		return PL_EPROTO;
	if (vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &corrupt) == VPX_CODEC_OK &&
	    corrupt)
		return PL_EPROTO;
	vimg = vpx_codec_get_frame(&d->ctx, &iter);
	if (!vimg)
		return 0;
	if (vimg->fmt != VPX_IMG_FMT_I420)
		return PL_EUNSUP;
	img->width = (int)vimg->d_w;
	img->height = (int)vimg->d_h;
	for (int p = 0; p < 3; p++) {
		img->plane[p] = vimg->planes[p];
		img->stride[p] = vimg->stride[p];
	}
	*has_frame = true;
	return 0;
}

int pl_vpx_frame_info(const uint8_t *data, size_t len, bool *keyframe, int *width, int *height)
{
	*keyframe = false;
	*width = *height = 0;
	if (len < 3)
		return PL_ETRUNC;
	if (data[0] & 0x01)         /* frame type 1: interframe */
		return 0;
	if (len < 10)
		return PL_ETRUNC;
	if (data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a)
		return PL_EPROTO;
	*keyframe = true;
	*width = (data[6] | (data[7] << 8)) & 0x3fff;   /* top 2 bits: scaling */
	*height = (data[8] | (data[9] << 8)) & 0x3fff;
	return 0;
}

const char *pl_vpx_version(void)
{
	return vpx_codec_version_str();
}
