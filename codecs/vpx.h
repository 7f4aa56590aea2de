/* codecs/vpx.h: a thin libvpx VP8 wrapper for the client tools, and the
 * I420 picture type the client's media code shares.
 *
 * The encoder is set up the way WebRTC runs VP8: one-pass CBR, realtime
 * deadline, no lag, no alt-ref, keyframes on demand (PLI/FIR) and rarely
 * otherwise.  Input and output are I420 pictures (struct pl_i420).
 * Encoder and decoder are opaque heap objects owned by the caller; neither
 * is thread-safe, but different objects may be used on different threads.
 * Never used on the forwarding path.  No libvpx type appears here.
 */
#ifndef PL_CODECS_VPX_H
#define PL_CODECS_VPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of an 8-bit I420 picture: plane[0] is luma (width x height),
 * plane[1] and plane[2] are Cb and Cr ((width+1)/2 x (height+1)/2), each
 * row stride[i] bytes apart.  A value type: it owns nothing unless it was
 * set up by pl_i420_init, which allocates one block the caller frees with
 * pl_i420_release. */
struct pl_i420 {
	int width, height;
	uint8_t *plane[3];
	int stride[3];
	void *owned;            /* the block pl_i420_init allocated, or NULL */
};

#define PL_I420_MAX_DIM 8192

/* Allocates a width x height picture, tightly packed and black (Y=16,
 * Cb=Cr=128).  Returns 0, PL_EINVAL (dimension not in 1..PL_I420_MAX_DIM),
 * PL_ENOMEM. */
int pl_i420_init(struct pl_i420 *img, int width, int height);
/* Frees what pl_i420_init allocated; a zeroed or view-only struct is a
 * no-op. */
void pl_i420_release(struct pl_i420 *img);
/* Copies the pixels of src into dst.  Returns 0 or PL_EINVAL (sizes
 * differ). */
int pl_i420_copy(struct pl_i420 *dst, const struct pl_i420 *src);
/* The width and height of chroma plane 1 or 2 (luma for 0). */
int pl_i420_plane_width(const struct pl_i420 *img, int plane);
int pl_i420_plane_height(const struct pl_i420 *img, int plane);

struct pl_vpx_enc;
struct pl_vpx_dec;

/* Zero-initialised fields take the defaults in brackets. */
struct pl_vpx_enc_config {
	int width, height;        /* required, even values recommended */
	int fps;                  /* nominal frame rate [30] */
	int bitrate_kbps;         /* CBR target [500] */
	int keyframe_interval;    /* max frames between keyframes [3000] */
	int threads;              /* encoder threads [1] */
	int cpu_used;             /* VP8E_SET_CPUUSED, -16..16, higher is
	                           * faster [0 means -6, WebRTC's desktop speed] */
	bool error_resilient;     /* VPX_ERROR_RESILIENT_DEFAULT */
	bool allow_frame_drop;    /* let rate control drop frames (len 0) */
};

/* One encoded frame, borrowed from the encoder until its next call. */
struct pl_vpx_packet {
	const uint8_t *data;
	size_t len;              /* 0: rate control dropped the frame */
	bool keyframe;
	int64_t pts;             /* the pts given to pl_vpx_enc_encode */
};

/* Returns 0, PL_EINVAL (bad config), PL_ENOMEM, PL_EPROTO (libvpx). */
int pl_vpx_enc_create(const struct pl_vpx_enc_config *cfg, struct pl_vpx_enc **out);
/* NULL is a no-op. */
void pl_vpx_enc_destroy(struct pl_vpx_enc *e);

/* Encodes one picture of the configured size.  pts is in 90 kHz units
 * (the RTP clock) and only passed through.  The next frame is a keyframe
 * if force_keyframe is set or pl_vpx_enc_request_keyframe was called.
 * Returns 0, PL_EINVAL (size mismatch), PL_EPROTO (libvpx). */
int pl_vpx_enc_encode(struct pl_vpx_enc *e, const struct pl_i420 *img, int64_t pts,
                      bool force_keyframe, struct pl_vpx_packet *out);

/* Makes the next encoded frame a keyframe (PLI/FIR).  Any thread that
 * owns the encoder; idempotent. */
void pl_vpx_enc_request_keyframe(struct pl_vpx_enc *e);

/* Changes the target bitrate at run time.  Returns 0, PL_EINVAL,
 * PL_EPROTO. */
int pl_vpx_enc_set_bitrate(struct pl_vpx_enc *e, int bitrate_kbps);

/* threads: decoder threads (0 means 1).  Returns 0, PL_ENOMEM,
 * PL_EPROTO. */
int pl_vpx_dec_create(int threads, struct pl_vpx_dec **out);
/* NULL is a no-op. */
void pl_vpx_dec_destroy(struct pl_vpx_dec *d);

/* Decodes one VP8 frame.  On success *has_frame says whether a picture
 * came out; *img is then a view into the decoder's memory, valid until the
 * next call on d.  Returns 0, PL_EPROTO (corrupt data or a delta frame
 * whose references are missing), PL_EUNSUP (not I420). */
int pl_vpx_dec_decode(struct pl_vpx_dec *d, const uint8_t *data, size_t len,
                      struct pl_i420 *img, bool *has_frame);

/* Reads the VP8 frame header (RFC 6386 9.1) of an encoded frame: whether
 * it is a keyframe and, for keyframes, the picture size (0 otherwise).
 * Pure, for senders of pre-encoded IVF files.  Returns 0, PL_ETRUNC,
 * PL_EPROTO (bad keyframe start code). */
int pl_vpx_frame_info(const uint8_t *data, size_t len, bool *keyframe, int *width, int *height);

/* The libvpx version string, for logs and reports. */
const char *pl_vpx_version(void);

#endif
