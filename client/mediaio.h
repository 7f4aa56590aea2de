/* client/mediaio.h: media files and generated test media for the client
 * tools (parley-call, parley-bench quality and load).
 *
 * Files: WAV (PCM16), Y4M (I420), IVF (VP8 frames), Ogg Opus (RFC 7845,
 * pages and CRC written here, no libogg).  Generators: a sine tone, a
 * deterministic speech-like signal, and a test-pattern picture that
 * carries its frame number and send time as a bar code that survives
 * VP8 compression and reads back exactly.
 *
 * Readers and writers are opaque heap objects over one FILE each, owned
 * by the caller and used by one thread at a time.  Generators are value
 * types the caller keeps on the stack; they are pure functions of their
 * parameters and sample or frame index, so every run (and a receiver
 * that regenerates the reference) produces identical samples and pixels.
 *
 * Readers of frame-structured files (Y4M, IVF, Ogg) return PL_ECLOSED at
 * the clean end of the file and PL_ETRUNC when it ends inside a frame.
 * Writers' _finish brings the file to a complete, valid state (sizes and
 * counts patched, buffered data written) and may be called more than
 * once; _destroy finishes best-effort and closes.
 */
#ifndef PL_CLIENT_MEDIAIO_H
#define PL_CLIENT_MEDIAIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/vpx.h"

/* ---- WAV: RIFF/WAVE, 16-bit PCM, any rate, 1..8 channels -------------- */

struct pl_wav_reader;
struct pl_wav_writer;

struct pl_wav_info {
	int rate_hz;
	int channels;
	uint64_t frames;        /* sample frames in the data chunk (0 if the
	                         * writer left the size open: read to EOF) */
};

/* Parses the header (PCM or WAVE_FORMAT_EXTENSIBLE/PCM, 16 bits).
 * Returns 0, PL_ESYS (open), PL_EPROTO (not RIFF/WAVE), PL_EUNSUP (not
 * 16-bit PCM), PL_ETRUNC, PL_ENOMEM. */
int pl_wav_reader_create(const char *path, struct pl_wav_reader **out);
void pl_wav_reader_destroy(struct pl_wav_reader *r);
void pl_wav_reader_info(const struct pl_wav_reader *r, struct pl_wav_info *info);
/* Reads up to frames sample frames (interleaved) into pcm; *got is 0 at
 * the end.  Returns 0 or PL_EIO. */
int pl_wav_reader_read(struct pl_wav_reader *r, int16_t *pcm, size_t frames, size_t *got);
/* Back to the first sample, for looping sources.  Returns 0 or PL_EIO. */
int pl_wav_reader_rewind(struct pl_wav_reader *r);

/* Returns 0, PL_EINVAL, PL_ESYS (create), PL_EIO, PL_ENOMEM. */
int pl_wav_writer_create(const char *path, int rate_hz, int channels,
                         struct pl_wav_writer **out);
/* Appends frames sample frames.  Returns 0, PL_EIO, PL_ETOOBIG (past the
 * 4 GiB RIFF limit). */
int pl_wav_writer_write(struct pl_wav_writer *w, const int16_t *pcm, size_t frames);
/* Patches the RIFF and data sizes and flushes.  Returns 0 or PL_EIO. */
int pl_wav_writer_finish(struct pl_wav_writer *w);
void pl_wav_writer_destroy(struct pl_wav_writer *w);

/* ---- Y4M: YUV4MPEG2, 4:2:0 8-bit only -------------------------------- */

struct pl_y4m_reader;
struct pl_y4m_writer;

struct pl_y4m_info {
	int width, height;
	int fps_num, fps_den;   /* frame rate fps_num / fps_den */
};

/* Returns 0, PL_ESYS, PL_EPROTO (bad header), PL_EUNSUP (not 4:2:0),
 * PL_ENOMEM. */
int pl_y4m_reader_create(const char *path, struct pl_y4m_reader **out);
void pl_y4m_reader_destroy(struct pl_y4m_reader *r);
void pl_y4m_reader_info(const struct pl_y4m_reader *r, struct pl_y4m_info *info);
/* Reads the next frame into img, which must have the file's size (e.g.
 * from pl_i420_init).  Returns 0, PL_ECLOSED (end), PL_ETRUNC, PL_EPROTO
 * (no FRAME marker), PL_EINVAL (size mismatch). */
int pl_y4m_reader_read(struct pl_y4m_reader *r, struct pl_i420 *img);
int pl_y4m_reader_rewind(struct pl_y4m_reader *r);

/* Writes the stream header (C420jpeg, progressive, square pixels).
 * Returns 0, PL_EINVAL, PL_ESYS, PL_EIO, PL_ENOMEM. */
int pl_y4m_writer_create(const char *path, const struct pl_y4m_info *info,
                         struct pl_y4m_writer **out);
/* Returns 0, PL_EINVAL (size mismatch), PL_EIO. */
int pl_y4m_writer_write(struct pl_y4m_writer *w, const struct pl_i420 *img);
int pl_y4m_writer_finish(struct pl_y4m_writer *w);
void pl_y4m_writer_destroy(struct pl_y4m_writer *w);

/* ---- IVF: 32-byte header, then (size, pts, frame) records ------------ */

#define PL_IVF_MAX_FRAME_BYTES (16u << 20)

struct pl_ivf_reader;
struct pl_ivf_writer;

struct pl_ivf_info {
	char fourcc[5];         /* "VP80" */
	int width, height;
	uint32_t tb_num, tb_den; /* pts unit: tb_num / tb_den seconds */
	uint32_t frames;        /* frame count from the header */
};

/* One frame, borrowed from the reader until its next call. */
struct pl_ivf_frame {
	const uint8_t *data;
	size_t len;
	int64_t pts;
};

/* Returns 0, PL_ESYS, PL_EPROTO (no DKIF signature), PL_ETRUNC, PL_ENOMEM. */
int pl_ivf_reader_create(const char *path, struct pl_ivf_reader **out);
void pl_ivf_reader_destroy(struct pl_ivf_reader *r);
void pl_ivf_reader_info(const struct pl_ivf_reader *r, struct pl_ivf_info *info);
/* Returns 0, PL_ECLOSED (end), PL_ETRUNC, PL_ETOOBIG (frame larger than
 * PL_IVF_MAX_FRAME_BYTES), PL_ENOMEM. */
int pl_ivf_reader_read(struct pl_ivf_reader *r, struct pl_ivf_frame *f);
int pl_ivf_reader_rewind(struct pl_ivf_reader *r);

/* info->frames is ignored; the count is kept by the writer.  An empty
 * fourcc means "VP80".  Returns 0, PL_EINVAL, PL_ESYS, PL_EIO,
 * PL_ENOMEM. */
int pl_ivf_writer_create(const char *path, const struct pl_ivf_info *info,
                         struct pl_ivf_writer **out);
/* Returns 0, PL_EINVAL (len 0 or too big), PL_EIO. */
int pl_ivf_writer_write(struct pl_ivf_writer *w, const uint8_t *data, size_t len, int64_t pts);
/* Patches the frame count and flushes.  Returns 0 or PL_EIO. */
int pl_ivf_writer_finish(struct pl_ivf_writer *w);
void pl_ivf_writer_destroy(struct pl_ivf_writer *w);

/* ---- Ogg Opus (RFC 3533 pages, RFC 7845 mapping) ---------------------- */

#define PL_OGG_MAX_PACKET_BYTES (1u << 20)

struct pl_oggopus_reader;
struct pl_oggopus_writer;

struct pl_oggopus_info {
	int channels;           /* 1 or 2 (mapping family 0) */
	int pre_skip;           /* 48 kHz samples to drop at the start */
	uint32_t input_rate_hz; /* informational; 0 means 48000 */
	int16_t output_gain_q8; /* dB in Q7.8 */
	uint32_t serial;        /* logical stream serial number */
};

/* One packet, borrowed from the reader until its next call. */
struct pl_oggopus_packet {
	const uint8_t *data;
	size_t len;
	int samples;            /* 48 kHz duration from the TOC byte(s) */
	int64_t granule;        /* the page's granule position if this packet
	                         * is the last one completed on its page, else -1 */
};

/* The Ogg page checksum: CRC-32, polynomial 0x04c11db7, initial value 0,
 * no reflection, no final xor.  Pure. */
uint32_t pl_ogg_crc32(uint32_t crc, const uint8_t *buf, size_t len);

/* Reads up to the end of the OpusHead and OpusTags packets of the first
 * Opus stream; pages of other streams are skipped.  Returns 0, PL_ESYS,
 * PL_EPROTO (no Opus stream, bad header), PL_EUNSUP (mapping family > 1
 * or more than 2 channels), PL_ETRUNC, PL_ENOMEM. */
int pl_oggopus_reader_create(const char *path, struct pl_oggopus_reader **out);
void pl_oggopus_reader_destroy(struct pl_oggopus_reader *r);
void pl_oggopus_reader_info(const struct pl_oggopus_reader *r, struct pl_oggopus_info *info);
/* Returns 0, PL_ECLOSED (end), PL_ETRUNC, PL_EPROTO (a page failed its
 * CRC or a packet is malformed: the page is dropped, reading may go on),
 * PL_ETOOBIG (packet above PL_OGG_MAX_PACKET_BYTES, dropped). */
int pl_oggopus_reader_read(struct pl_oggopus_reader *r, struct pl_oggopus_packet *p);
/* Pages that failed their CRC so far. */
uint64_t pl_oggopus_reader_crc_errors(const struct pl_oggopus_reader *r);

/* Writes the OpusHead page (BOS) and the OpusTags page.  Returns 0,
 * PL_EINVAL, PL_ESYS, PL_EIO, PL_ENOMEM. */
int pl_oggopus_writer_create(const char *path, const struct pl_oggopus_info *info,
                             struct pl_oggopus_writer **out);
/* Appends one Opus packet; its duration comes from its TOC.  A lost
 * packet can be recorded as the 1-byte packet holding only the TOC of a
 * code-0 frame (an empty frame: the decoder conceals it).  Pages hold
 * up to about one second.  Returns 0, PL_EINVAL (empty, too big or
 * malformed), PL_EIO. */
int pl_oggopus_writer_write(struct pl_oggopus_writer *w, const uint8_t *pkt, size_t len);
/* Writes the pending page with the end-of-stream flag and flushes.  Later
 * writes return PL_ECLOSED.  Returns 0 or PL_EIO. */
int pl_oggopus_writer_finish(struct pl_oggopus_writer *w);
void pl_oggopus_writer_destroy(struct pl_oggopus_writer *w);

/* ---- Generated audio ------------------------------------------------- */

/* A sine tone.  pos is the next sample index; set it to seek. */
struct pl_tone {
	double freq_hz;
	double amplitude;       /* 0..1 of full scale */
	int rate_hz;
	int channels;           /* the same sample goes to every channel */
	uint64_t pos;
};

/* Returns 0 or PL_EINVAL (frequency not below rate/2, amplitude not in
 * 0..1, rate or channels out of range). */
int pl_tone_init(struct pl_tone *t, double freq_hz, double amplitude, int rate_hz, int channels);
void pl_tone_fill(struct pl_tone *t, int16_t *pcm, size_t frames);

/* A deterministic speech-like signal: 250 ms syllable slots, each either
 * a pause or a voiced syllable (harmonics of a gliding 90-220 Hz pitch
 * shaped by one of five vowel formant sets) with a raised-sine envelope
 * and sometimes a noise onset, all drawn from a hash of (seed, slot).
 * Every sample is a function of (seed, rate, sample index), so pos can
 * be set to seek and a receiver can regenerate any stretch of it.
 * Long-term RMS is about -24 dBFS, peaks stay below -3 dBFS. */
struct pl_speech {
	uint32_t seed;
	int rate_hz;
	int channels;
	uint64_t pos;
};

/* Returns 0 or PL_EINVAL (rate not in 8000..192000, channels not 1..8). */
int pl_speech_init(struct pl_speech *s, uint32_t seed, int rate_hz, int channels);
void pl_speech_fill(struct pl_speech *s, int16_t *pcm, size_t frames);

/* ---- Generated video: the numbered test pattern ----------------------- */

/* The picture is a moving, deterministic pattern (gradients, expanding
 * rings, a bouncing box, a checkerboard, the frame number in large
 * digits) under a top band of black and white blocks that encodes a
 * magic byte, the 32-bit frame number, a 64-bit send time and a CRC-16.  Blocks are 8, 16, 24...
 * pixels square (width / 40, rounded down to a multiple of 8, at least 8)
 * and aligned to VP8 macroblocks, so the code reads back exactly after
 * VP8 compression at ordinary bitrates.  Pure functions of their
 * arguments. */

/* The height of the bar-code band for a picture width (0 if too narrow). */
int pl_pattern_code_height(int width);

/* Draws frame frame_no carrying send_time (any clock, e.g. wall-clock
 * microseconds) into img.  Returns 0 or PL_EINVAL (picture smaller than
 * 64 x 2 * code height). */
int pl_pattern_draw(struct pl_i420 *img, uint32_t frame_no, uint64_t send_time);

/* Reads the code back.  Returns 0, PL_EINVAL (too small), PL_EPROTO (no
 * code: wrong magic or CRC, e.g. a picture that is not a test pattern or
 * is damaged beyond reading). */
int pl_pattern_read(const struct pl_i420 *img, uint32_t *frame_no, uint64_t *send_time);

#endif
