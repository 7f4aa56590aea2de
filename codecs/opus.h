/* codecs/opus.h: a thin libopus wrapper for the client tools.
 *
 * Fixed shape, the one WebRTC uses: 48 kHz, mono or stereo, 20 ms frames
 * (960 samples per channel), interleaved signed 16-bit PCM.  The encoder
 * and decoder are opaque heap objects owned by the caller; neither is
 * thread-safe, but different objects may be used on different threads.
 * Never used on the forwarding path (parleyd does not decode media).
 * No libopus type appears here.
 */
#ifndef PL_CODECS_OPUS_H
#define PL_CODECS_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_OPUS_RATE_HZ 48000
#define PL_OPUS_FRAME_MS 20
#define PL_OPUS_FRAME_SAMPLES 960          /* per channel, 20 ms at 48 kHz */
#define PL_OPUS_MAX_PACKET_BYTES 1500      /* one 20 ms frame is <= 1275 */
#define PL_OPUS_MAX_FRAME_SAMPLES 5760     /* 120 ms: the longest packet */

struct pl_opus_enc;
struct pl_opus_dec;

/* Zero-initialised fields take the defaults in brackets. */
struct pl_opus_enc_config {
	int channels;          /* 1 or 2 [1] */
	int bitrate_bps;       /* 6000..510000 [32000 mono, 64000 stereo] */
	int complexity;        /* 1..10 [libopus default, 10] */
	bool fec;              /* in-band FEC (LBRR); needs expected_loss_pct > 0 */
	int expected_loss_pct; /* 0..100, tunes FEC redundancy [0] */
	bool dtx;              /* discontinuous transmission in silence */
	bool music;            /* OPUS_APPLICATION_AUDIO instead of VOIP */
};

/* Returns 0, PL_EINVAL (bad config), PL_ENOMEM. */
int pl_opus_enc_create(const struct pl_opus_enc_config *cfg, struct pl_opus_enc **out);
/* NULL is a no-op. */
void pl_opus_enc_destroy(struct pl_opus_enc *e);

/* Encodes one 20 ms frame: pcm holds PL_OPUS_FRAME_SAMPLES * channels
 * interleaved samples.  Writes the packet to out[0..cap) and its length to
 * *len (a DTX frame may be 1-2 bytes).  Returns 0, PL_ETOOBIG (cap too
 * small), PL_EPROTO (libopus failed). */
int pl_opus_enc_encode(struct pl_opus_enc *e, const int16_t *pcm,
                       uint8_t *out, size_t cap, size_t *len);

/* Run-time changes, e.g. from bandwidth estimation or RTCP loss reports.
 * Return 0 or PL_EINVAL. */
int pl_opus_enc_set_bitrate(struct pl_opus_enc *e, int bitrate_bps);
int pl_opus_enc_set_expected_loss(struct pl_opus_enc *e, int loss_pct);

/* The encoder's algorithmic delay in 48 kHz samples (the Ogg Opus
 * pre-skip; 312 for the default VOIP application). */
int pl_opus_enc_lookahead(const struct pl_opus_enc *e);

/* channels: 1 or 2 (the output layout; any packet decodes to it).
 * Returns 0, PL_EINVAL, PL_ENOMEM. */
int pl_opus_dec_create(int channels, struct pl_opus_dec **out);
/* NULL is a no-op. */
void pl_opus_dec_destroy(struct pl_opus_dec *d);

/* Decodes one packet into pcm (cap_samples per channel, interleaved);
 * *samples gets the samples per channel produced.  A packet that is NULL
 * or empty means "lost": the decoder conceals PL_OPUS_FRAME_SAMPLES (or
 * cap_samples if smaller) with PLC.  Returns 0, PL_ETOOBIG (cap_samples
 * below the packet's duration), PL_EPROTO (corrupt packet). */
int pl_opus_dec_decode(struct pl_opus_dec *d, const uint8_t *pkt, size_t len,
                       int16_t *pcm, size_t cap_samples, size_t *samples);

/* Recovers a lost frame of lost_samples per channel (a multiple of 120,
 * normally PL_OPUS_FRAME_SAMPLES) from the FEC data carried in the packet
 * that follows it; without FEC data in next_pkt this is PLC.  Call it
 * before decoding next_pkt itself.  Returns 0, PL_EINVAL, PL_EPROTO. */
int pl_opus_dec_decode_fec(struct pl_opus_dec *d, const uint8_t *next_pkt, size_t len,
                           int16_t *pcm, size_t lost_samples);

/* The duration of a packet in 48 kHz samples per channel, from its TOC
 * byte(s).  Pure.  Returns 0, PL_EPROTO (malformed), PL_ETRUNC (empty). */
int pl_opus_packet_samples(const uint8_t *pkt, size_t len, int *samples);

/* The libopus version string, for logs and reports. */
const char *pl_opus_version(void);

#endif
