/* client/mediaio_y4m.c: YUV4MPEG2 reader and writer, 4:2:0 8-bit.
 *
 * A stream header line ("YUV4MPEG2 W640 H360 F30:1 Ip A1:1 C420jpeg"),
 * then per frame a "FRAME" line (parameters ignored) and the three planes
 * packed.  The 4:2:0 chroma siting variants (420jpeg, 420paldv, 420mpeg2,
 * plain 420) all carry the same samples and are accepted; a missing C
 * tag means 420jpeg.  This is the format Chromium's fake camera reads
 * (--use-file-for-fake-video-capture).  Each object owns its FILE; one
 * thread at a time.
 */
#include "client/mediaio.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_MAX 512

struct pl_y4m_reader {
	FILE *f;
	struct pl_y4m_info info;
	long data_off;
};

struct pl_y4m_writer {
	FILE *f;
	struct pl_y4m_info info;
};

/* Reads one '\n'-terminated line of at most cap-1 bytes.  Returns its
 * length (without the newline), PL_ECLOSED at EOF before any byte,
 * PL_ETRUNC at EOF inside the line, PL_EPROTO when it is too long. */
static int read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int c;

	while ((c = fgetc(f)) != EOF) {
		if (c == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
		if (n + 1 >= cap)
			return PL_EPROTO;
		buf[n++] = (char)c;
	}
	return n ? PL_ETRUNC : PL_ECLOSED;
}

static int parse_ratio(const char *s, int *num, int *den)
{
	char *end;
	long a = strtol(s, &end, 10), b;

	if (*end != ':')
		return PL_EPROTO;
	b = strtol(end + 1, &end, 10);
	if (a <= 0 || b <= 0 || a > 1000000 || b > 1000000)
		return PL_EPROTO;
	*num = (int)a, *den = (int)b;
	return 0;
}

/* The 8-bit 4:2:0 colour spaces; "420p10" and the like are not. */
static bool is_420_8bit(const char *c)
{
	return !strcmp(c, "420") || !strcmp(c, "420jpeg") || !strcmp(c, "420paldv") ||
	       !strcmp(c, "420mpeg2");
}

static int parse_header(struct pl_y4m_reader *r, char *line)
{
	char *save = NULL, *tok = strtok_r(line, " ", &save);

	if (!tok || strcmp(tok, "YUV4MPEG2"))
		return PL_EPROTO;
	r->info.fps_num = 30, r->info.fps_den = 1;
	while ((tok = strtok_r(NULL, " ", &save))) {
		switch (tok[0]) {
		case 'W':
			r->info.width = atoi(tok + 1);
			break;
		case 'H':
			r->info.height = atoi(tok + 1);
			break;
		case 'F':
			if (parse_ratio(tok + 1, &r->info.fps_num, &r->info.fps_den))
				return PL_EPROTO;
			break;
		case 'C':
			if (!is_420_8bit(tok + 1))
				return PL_EUNSUP;
			break;
		default:                /* I (interlace), A (aspect), X (extension) */
			break;
		}
	}
	if (r->info.width < 1 || r->info.height < 1 || r->info.width > PL_I420_MAX_DIM ||
	    r->info.height > PL_I420_MAX_DIM)
		return PL_EPROTO;
	return 0;
}

int pl_y4m_reader_create(const char *path, struct pl_y4m_reader **out)
{
	struct pl_y4m_reader *r;
	char line[HEADER_MAX];
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
	err = read_line(r->f, line, sizeof(line));
	if (err < 0) {
		err = err == PL_ECLOSED ? PL_ETRUNC : err;
		goto fail;
	}
	err = parse_header(r, line);
	if (err)
		goto fail;
	r->data_off = ftell(r->f);
	*out = r;
	return 0;
fail:
	pl_y4m_reader_destroy(r);
	return err;
}

void pl_y4m_reader_destroy(struct pl_y4m_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r);
}

void pl_y4m_reader_info(const struct pl_y4m_reader *r, struct pl_y4m_info *info)
{
	*info = r->info;
}

int pl_y4m_reader_read(struct pl_y4m_reader *r, struct pl_i420 *img)
{
	char line[HEADER_MAX];
	int n;

	if (img->width != r->info.width || img->height != r->info.height)
		return PL_EINVAL;
	n = read_line(r->f, line, sizeof(line));
	if (n < 0)
		return n;
	if (strncmp(line, "FRAME", 5) || (line[5] != '\0' && line[5] != ' '))
		return PL_EPROTO;
	for (int p = 0; p < 3; p++) {
		size_t w = (size_t)pl_i420_plane_width(img, p);
		int h = pl_i420_plane_height(img, p);
		for (int y = 0; y < h; y++)
			if (fread(img->plane[p] + (size_t)y * img->stride[p], 1, w, r->f) != w)
				return PL_ETRUNC;
	}
	return 0;
}

int pl_y4m_reader_rewind(struct pl_y4m_reader *r)
{
	clearerr(r->f);
	return fseek(r->f, r->data_off, SEEK_SET) ? PL_EIO : 0;
}

int pl_y4m_writer_create(const char *path, const struct pl_y4m_info *info,
                         struct pl_y4m_writer **out)
{
	struct pl_y4m_writer *w;

	*out = NULL;
	if (info->width < 1 || info->height < 1 || info->width > PL_I420_MAX_DIM ||
	    info->height > PL_I420_MAX_DIM || info->fps_num < 1 || info->fps_den < 1)
		return PL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PL_ENOMEM;
	w->info = *info;
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w);
		return PL_ESYS;
	}
	if (fprintf(w->f, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg\n", info->width,
	            info->height, info->fps_num, info->fps_den) < 0) {
		fclose(w->f);
		free(w);
		return PL_EIO;
	}
	*out = w;
	return 0;
}

int pl_y4m_writer_write(struct pl_y4m_writer *w, const struct pl_i420 *img)
{
	if (img->width != w->info.width || img->height != w->info.height)
		return PL_EINVAL;
	if (fputs("FRAME\n", w->f) == EOF)
		return PL_EIO;
	for (int p = 0; p < 3; p++) {
		size_t pw = (size_t)pl_i420_plane_width(img, p);
		int h = pl_i420_plane_height(img, p);
		for (int y = 0; y < h; y++)
			if (fwrite(img->plane[p] + (size_t)y * img->stride[p], 1, pw, w->f) != pw)
				return PL_EIO;
	}
	return 0;
}

int pl_y4m_writer_finish(struct pl_y4m_writer *w)
{
	return fflush(w->f) || ferror(w->f) ? PL_EIO : 0;
}

void pl_y4m_writer_destroy(struct pl_y4m_writer *w)
{
	if (!w)
		return;
	fclose(w->f);
	free(w);
}
