/* client/mediaio_wav.c: WAV (RIFF/WAVE, 16-bit PCM) reader and writer.
 *
 * The reader walks the RIFF chunks for "fmt " and "data", accepting
 * WAVE_FORMAT_PCM and WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, and
 * skips any other chunk (LIST, fact, ...).  A data size of 0 or
 * 0xffffffff (left open by a streaming writer) means "to the end of the
 * file".  The writer emits the canonical 44-byte header and patches the
 * two sizes in _finish, so a recording that is finished now and then
 * stays a valid file even if the process dies later.  Each object owns
 * its FILE; one thread at a time.
 */
#include "client/mediaio.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pl_wav_reader {
	FILE *f;
	struct pl_wav_info info;
	long data_off;
	uint64_t data_bytes;     /* UINT64_MAX: to EOF */
	uint64_t read_bytes;
};

struct pl_wav_writer {
	FILE *f;
	int rate_hz, channels;
	uint64_t data_bytes;
	bool io_error;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int parse_fmt(struct pl_wav_reader *r, const uint8_t *c, uint32_t len)
{
	uint16_t tag, bits;

	if (len < 16)
		return PL_EPROTO;
	tag = rd16(c);
	r->info.channels = rd16(c + 2);
	r->info.rate_hz = (int)rd32(c + 4);
	bits = rd16(c + 14);
	if (tag == 0xfffe) {            /* WAVE_FORMAT_EXTENSIBLE */
		if (len < 40)
			return PL_EPROTO;
		tag = rd16(c + 24);     /* first two bytes of the sub-format GUID */
	}
	if (tag != 1 || bits != 16)
		return PL_EUNSUP;
	if (r->info.channels < 1 || r->info.channels > 8 || r->info.rate_hz < 1000 ||
	    r->info.rate_hz > 384000 || rd16(c + 12) != 2 * r->info.channels)
		return PL_EPROTO;
	return 0;
}

/* Walks the chunks after "RIFF....WAVE" until "data". */
static int parse_chunks(struct pl_wav_reader *r)
{
	uint8_t hdr[8], fmt[64];
	bool have_fmt = false;
	int err;

	for (;;) {
		uint32_t len;
		if (fread(hdr, 1, 8, r->f) != 8)
			return PL_ETRUNC;
		len = rd32(hdr + 4);
		if (!memcmp(hdr, "data", 4)) {
			if (!have_fmt)
				return PL_EPROTO;
			r->data_off = ftell(r->f);
			r->data_bytes = (len == 0 || len == 0xffffffffu) ? UINT64_MAX : len;
			return 0;
		}
		if (!memcmp(hdr, "fmt ", 4) && len <= sizeof(fmt)) {
			if (fread(fmt, 1, len, r->f) != len)
				return PL_ETRUNC;
			err = parse_fmt(r, fmt, len);
			if (err)
				return err;
			have_fmt = true;
			if (len & 1)
				fseek(r->f, 1, SEEK_CUR);
			continue;
		}
		if (fseek(r->f, (long)len + (len & 1), SEEK_CUR))
			return PL_ETRUNC;
	}
}

int pl_wav_reader_create(const char *path, struct pl_wav_reader **out)
{
	struct pl_wav_reader *r;
	uint8_t riff[12];
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return PL_ENOMEM;
	r->f = fopen(path, "rb");
	if (!r->f) {
		err = PL_ESYS;
		goto fail;
	}
	if (fread(riff, 1, 12, r->f) != 12) {
		err = PL_ETRUNC;
		goto fail;
	}
	if (memcmp(riff, "RIFF", 4) || memcmp(riff + 8, "WAVE", 4)) {
		err = PL_EPROTO;
		goto fail;
	}
	err = parse_chunks(r);
	if (err)
		goto fail;
	if (r->data_bytes != UINT64_MAX)
		r->info.frames = r->data_bytes / (2u * (unsigned)r->info.channels);
	*out = r;
	return 0;
fail:
	pl_wav_reader_destroy(r);
	return err;
}

void pl_wav_reader_destroy(struct pl_wav_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r);
}

void pl_wav_reader_info(const struct pl_wav_reader *r, struct pl_wav_info *info)
{
	*info = r->info;
}

int pl_wav_reader_read(struct pl_wav_reader *r, int16_t *pcm, size_t frames, size_t *got)
{
	size_t frame_bytes = 2u * (size_t)r->info.channels, n;
	uint64_t left = r->data_bytes - r->read_bytes;
	uint8_t *raw = (uint8_t *)pcm;

	*got = 0;
	if ((uint64_t)frames * frame_bytes > left)
		frames = (size_t)(left / frame_bytes);
	n = fread(raw, frame_bytes, frames, r->f);
	if (n < frames && ferror(r->f))
		return PL_EIO;
	r->read_bytes += (uint64_t)n * frame_bytes;
	/* The samples are little-endian on disk; convert in place. */
	for (size_t i = 0; i < n * (size_t)r->info.channels; i++)
		pcm[i] = (int16_t)rd16(raw + 2 * i);
	*got = n;
	return 0;
}

int pl_wav_reader_rewind(struct pl_wav_reader *r)
{
	clearerr(r->f);
	if (fseek(r->f, r->data_off, SEEK_SET))
		return PL_EIO;
	r->read_bytes = 0;
	return 0;
}

static int write_header(struct pl_wav_writer *w)
{
	uint8_t h[44];
	uint32_t data = w->data_bytes > 0xffffffffu - 36 ? 0xffffffffu - 36 : (uint32_t)w->data_bytes;

	memcpy(h, "RIFF", 4);
	wr32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	wr32(h + 16, 16);
	wr16(h + 20, 1);                                  /* PCM */
	wr16(h + 22, (uint16_t)w->channels);
	wr32(h + 24, (uint32_t)w->rate_hz);
	wr32(h + 28, (uint32_t)w->rate_hz * 2u * (uint32_t)w->channels);
	wr16(h + 32, (uint16_t)(2 * w->channels));
	wr16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	wr32(h + 40, data);
	if (fseek(w->f, 0, SEEK_SET) || fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
		return PL_EIO;
	return 0;
}

int pl_wav_writer_create(const char *path, int rate_hz, int channels,
                         struct pl_wav_writer **out)
{
	struct pl_wav_writer *w;
	int err;

	*out = NULL;
	if (rate_hz < 1000 || rate_hz > 384000 || channels < 1 || channels > 8)
		return PL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PL_ENOMEM;
	w->rate_hz = rate_hz, w->channels = channels;
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w);
		return PL_ESYS;
	}
	err = write_header(w);
	if (err) {
		fclose(w->f);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int pl_wav_writer_write(struct pl_wav_writer *w, const int16_t *pcm, size_t frames)
{
	uint8_t buf[4096];
	size_t total = frames * (size_t)w->channels, done = 0;

	if (w->data_bytes + 2u * (uint64_t)total > 0xffffffffu - 36)
		return PL_ETOOBIG;
	while (done < total) {
		size_t n = total - done < sizeof(buf) / 2 ? total - done : sizeof(buf) / 2;
		for (size_t i = 0; i < n; i++)
			wr16(buf + 2 * i, (uint16_t)pcm[done + i]);
		if (fwrite(buf, 2, n, w->f) != n) {
			w->io_error = true;
			return PL_EIO;
		}
		done += n;
	}
	w->data_bytes += 2u * (uint64_t)total;
	return 0;
}

int pl_wav_writer_finish(struct pl_wav_writer *w)
{
	int err = write_header(w);

	if (err)
		return err;
	if (fseek(w->f, 0, SEEK_END) || fflush(w->f) || w->io_error)
		return PL_EIO;
	return 0;
}

void pl_wav_writer_destroy(struct pl_wav_writer *w)
{
	if (!w)
		return;
	pl_wav_writer_finish(w);
	fclose(w->f);
	free(w);
}
