/* client/mediaio_ivf.c: IVF reader and writer (the libvpx test container).
 *
 * Header, 32 bytes little-endian: "DKIF", version 0, header size 32,
 * fourcc, width, height (16 bits each), time-base denominator and
 * numerator (32 bits each: pts unit = num/den seconds), frame count, 4
 * unused bytes.  Then per frame: size (32 bits), pts (64 bits), data.
 * The reader owns one growing frame buffer (capped at
 * PL_IVF_MAX_FRAME_BYTES) that each returned frame borrows.  Each object
 * owns its FILE; one thread at a time.
 */
#include "client/mediaio.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pl_ivf_reader {
	FILE *f;
	struct pl_ivf_info info;
	uint8_t *buf;
	size_t cap;
};

struct pl_ivf_writer {
	FILE *f;
	uint32_t frames;
	bool io_error;
};

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

static void wr64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int pl_ivf_reader_create(const char *path, struct pl_ivf_reader **out)
{
	struct pl_ivf_reader *r;
	uint8_t h[32];
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
	if (fread(h, 1, sizeof(h), r->f) != sizeof(h)) {
		err = PL_ETRUNC;
		goto fail;
	}
	if (memcmp(h, "DKIF", 4) || (h[6] | (h[7] << 8)) < 32) {
		err = PL_EPROTO;
		goto fail;
	}
	memcpy(r->info.fourcc, h + 8, 4);
	r->info.fourcc[4] = '\0';
	r->info.width = h[12] | (h[13] << 8);
	r->info.height = h[14] | (h[15] << 8);
	r->info.tb_den = rd32(h + 16);
	r->info.tb_num = rd32(h + 20);
	r->info.frames = rd32(h + 24);
	/* A longer header (never seen in practice) is skipped. */
	if (fseek(r->f, h[6] | (h[7] << 8), SEEK_SET)) {
		err = PL_ETRUNC;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	pl_ivf_reader_destroy(r);
	return err;
}

void pl_ivf_reader_destroy(struct pl_ivf_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r);
}

void pl_ivf_reader_info(const struct pl_ivf_reader *r, struct pl_ivf_info *info)
{
	*info = r->info;
}

int pl_ivf_reader_read(struct pl_ivf_reader *r, struct pl_ivf_frame *f)
{
	uint8_t h[12];
	size_t n = fread(h, 1, sizeof(h), r->f);
	uint32_t len;

	memset(f, 0, sizeof(*f));
	if (n == 0)
		return PL_ECLOSED;
	if (n != sizeof(h))
		return PL_ETRUNC;
	len = rd32(h);
	if (len > PL_IVF_MAX_FRAME_BYTES) {
		fseek(r->f, (long)len, SEEK_CUR);  /* so that reading may go on */
		return PL_ETOOBIG;
	}
	if (len > r->cap) {
		uint8_t *nb = realloc(r->buf, len);
		if (!nb)
			return PL_ENOMEM;
		r->buf = nb, r->cap = len;
	}
	if (fread(r->buf, 1, len, r->f) != len)
		return PL_ETRUNC;
	f->data = r->buf;
	f->len = len;
	f->pts = (int64_t)((uint64_t)rd32(h + 4) | ((uint64_t)rd32(h + 8) << 32));
	return 0;
}

int pl_ivf_reader_rewind(struct pl_ivf_reader *r)
{
	clearerr(r->f);
	return fseek(r->f, 32, SEEK_SET) ? PL_EIO : 0;
}

static int write_header(struct pl_ivf_writer *w, const struct pl_ivf_info *info)
{
	uint8_t h[32] = { 'D', 'K', 'I', 'F' };

	wr16(h + 4, 0);
	wr16(h + 6, 32);
	memcpy(h + 8, info->fourcc[0] ? info->fourcc : "VP80", 4);
	wr16(h + 12, (uint16_t)info->width);
	wr16(h + 14, (uint16_t)info->height);
	wr32(h + 16, info->tb_den);
	wr32(h + 20, info->tb_num);
	wr32(h + 24, w->frames);
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
		return PL_EIO;
	return 0;
}

int pl_ivf_writer_create(const char *path, const struct pl_ivf_info *info,
                         struct pl_ivf_writer **out)
{
	struct pl_ivf_writer *w;
	int err;

	*out = NULL;
	if (info->width < 1 || info->width > 0xffff || info->height < 1 ||
	    info->height > 0xffff || info->tb_num == 0 || info->tb_den == 0)
		return PL_EINVAL;
	if (info->fourcc[0] && strlen(info->fourcc) != 4)
		return PL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PL_ENOMEM;
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w);
		return PL_ESYS;
	}
	err = write_header(w, info);
	if (err) {
		fclose(w->f);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int pl_ivf_writer_write(struct pl_ivf_writer *w, const uint8_t *data, size_t len, int64_t pts)
{
	uint8_t h[12];

	if (len == 0 || len > PL_IVF_MAX_FRAME_BYTES)
		return PL_EINVAL;
	wr32(h, (uint32_t)len);
	wr64(h + 4, (uint64_t)pts);
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) || fwrite(data, 1, len, w->f) != len) {
		w->io_error = true;
		return PL_EIO;
	}
	w->frames++;
	return 0;
}

int pl_ivf_writer_finish(struct pl_ivf_writer *w)
{
	uint8_t n[4];

	wr32(n, w->frames);
	if (fflush(w->f) || fseek(w->f, 24, SEEK_SET) || fwrite(n, 1, 4, w->f) != 4 ||
	    fseek(w->f, 0, SEEK_END) || fflush(w->f) || w->io_error)
		return PL_EIO;
	return 0;
}

void pl_ivf_writer_destroy(struct pl_ivf_writer *w)
{
	if (!w)
		return;
	pl_ivf_writer_finish(w);
	fclose(w->f);
	free(w);
}
