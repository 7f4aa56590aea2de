/* client/mediaio_ogg.c: Ogg Opus files (RFC 3533 pages, RFC 7845 mapping)
 * without libogg.
 *
 * A page is "OggS", version 0, flags (1 continued, 2 first, 4 last),
 * 64-bit granule position, serial, sequence number, CRC-32 of the whole
 * page with the CRC field zeroed, a segment count and a lacing table; a
 * packet is the concatenation of segments up to the first one shorter
 * than 255 bytes, possibly across pages.  An Opus stream starts with the
 * OpusHead packet alone on the first page, then OpusTags, then audio; an
 * audio page's granule position counts the 48 kHz samples of every
 * packet completed so far (pre-skip included).
 *
 * The writer keeps whole packets on one page and closes a page once it
 * holds a second of audio, when the next packet would not fit, and at
 * _finish (with the end-of-stream flag).  The reader follows the first
 * Opus stream's serial, verifies every page's CRC, reassembles packets
 * across pages, and owns one packet buffer that returned packets borrow.
 * Each object owns its FILE; one thread at a time.
 */
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_HDR 27
#define MAX_BODY (255 * 255)
#define PAGE_SAMPLES 48000        /* close a page after ~1 s of audio */
#define FLAG_CONT 0x01
#define FLAG_BOS 0x02
#define FLAG_EOS 0x04

struct pl_oggopus_writer {
	FILE *f;
	uint32_t serial, seq;
	int64_t granule;               /* samples of every packet written */
	uint8_t lacing[255];
	int nseg;
	uint8_t body[MAX_BODY];        /* the pending page */
	size_t body_len;
	int page_samples;
	bool finished, io_error;
};

struct pl_oggopus_reader {
	FILE *f;
	struct pl_oggopus_info info;
	uint64_t crc_errors;
	bool have_serial, eos;
	/* The current page. */
	uint8_t hdr[PAGE_HDR + 255];
	uint8_t body[MAX_BODY];
	int nseg, seg, last_end;       /* last_end: last segment ending a packet */
	size_t body_off;
	uint8_t flags;
	int64_t granule;
	/* The packet being assembled. */
	uint8_t *pkt;
	size_t pkt_len, pkt_cap;
	bool pkt_open;
	enum { KEEP, SKIP_ORPHAN, SKIP_TOOBIG } pkt_skip;
};

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

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

uint32_t pl_ogg_crc32(uint32_t crc, const uint8_t *buf, size_t len)
{
	/* Bit-serial: pages are small and rare (tens per second), and it
	 * needs no table to initialise. */
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)buf[i] << 24;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/* ---- writer ---------------------------------------------------------- */

static int write_page(struct pl_oggopus_writer *w, uint8_t flags, int64_t granule,
                      const uint8_t *lacing, int nseg, const uint8_t *body, size_t len)
{
	uint8_t h[PAGE_HDR + 255];
	size_t hlen = PAGE_HDR + (size_t)nseg;
	uint32_t crc;

	memcpy(h, "OggS", 4);
	h[4] = 0;
	h[5] = flags;
	wr64(h + 6, (uint64_t)granule);
	wr32(h + 14, w->serial);
	wr32(h + 18, w->seq++);
	wr32(h + 22, 0);
	h[26] = (uint8_t)nseg;
	memcpy(h + PAGE_HDR, lacing, (size_t)nseg);
	crc = pl_ogg_crc32(pl_ogg_crc32(0, h, hlen), body, len);
	wr32(h + 22, crc);
	if (fwrite(h, 1, hlen, w->f) != hlen || fwrite(body, 1, len, w->f) != len) {
		w->io_error = true;
		return PL_EIO;
	}
	return 0;
}

/* Writes one packet alone on a page (the two header packets). */
static int write_single(struct pl_oggopus_writer *w, uint8_t flags, const uint8_t *pkt, size_t len)
{
	uint8_t lacing[255];
	int nseg = (int)(len / 255) + 1;

	for (int i = 0; i < nseg - 1; i++)
		lacing[i] = 255;
	lacing[nseg - 1] = (uint8_t)(len % 255);
	return write_page(w, flags, 0, lacing, nseg, pkt, len);
}

static int write_headers(struct pl_oggopus_writer *w, const struct pl_oggopus_info *info)
{
	static const char vendor[] = "parley";
	uint8_t head[19], tags[8 + 4 + sizeof(vendor) - 1 + 4];
	int err;

	memcpy(head, "OpusHead", 8);
	head[8] = 1;                                      /* version */
	head[9] = (uint8_t)info->channels;
	head[10] = (uint8_t)info->pre_skip, head[11] = (uint8_t)(info->pre_skip >> 8);
	wr32(head + 12, info->input_rate_hz ? info->input_rate_hz : 48000);
	head[16] = (uint8_t)info->output_gain_q8;
	head[17] = (uint8_t)((uint16_t)info->output_gain_q8 >> 8);
	head[18] = 0;                                     /* mapping family */
	memcpy(tags, "OpusTags", 8);
	wr32(tags + 8, sizeof(vendor) - 1);
	memcpy(tags + 12, vendor, sizeof(vendor) - 1);
	wr32(tags + 12 + sizeof(vendor) - 1, 0);          /* no user comments */
	err = write_single(w, FLAG_BOS, head, sizeof(head));
	if (!err)
		err = write_single(w, 0, tags, sizeof(tags));
	return err;
}

int pl_oggopus_writer_create(const char *path, const struct pl_oggopus_info *info,
                             struct pl_oggopus_writer **out)
{
	struct pl_oggopus_writer *w;
	int err;

	*out = NULL;
	if ((info->channels != 1 && info->channels != 2) || info->pre_skip < 0 ||
	    info->pre_skip > 0xffff)
		return PL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PL_ENOMEM;
	w->serial = info->serial;
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w);
		return PL_ESYS;
	}
	err = write_headers(w, info);
	if (err) {
		fclose(w->f);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

static int flush_page(struct pl_oggopus_writer *w, uint8_t flags)
{
	int err = write_page(w, flags, w->granule, w->lacing, w->nseg, w->body, w->body_len);

	w->nseg = 0, w->body_len = 0, w->page_samples = 0;
	return err;
}

int pl_oggopus_writer_write(struct pl_oggopus_writer *w, const uint8_t *pkt, size_t len)
{
	int samples, nseg, err;

	if (w->finished)
		return PL_ECLOSED;
	if (len == 0 || len > 254 * 255 || pl_opus_packet_samples(pkt, len, &samples))
		return PL_EINVAL;
	nseg = (int)(len / 255) + 1;
	/* The pending page is closed only when another packet arrives, so
	 * the end-of-stream page written by _finish is never empty. */
	if (w->nseg && (w->nseg + nseg > 255 || w->page_samples >= PAGE_SAMPLES)) {
		err = flush_page(w, 0);
		if (err)
			return err;
	}
	for (int i = 0; i < nseg - 1; i++)
		w->lacing[w->nseg++] = 255;
	w->lacing[w->nseg++] = (uint8_t)(len % 255);
	memcpy(w->body + w->body_len, pkt, len);
	w->body_len += len;
	w->granule += samples;
	w->page_samples += samples;
	return 0;
}

int pl_oggopus_writer_finish(struct pl_oggopus_writer *w)
{
	int err = 0;

	if (!w->finished) {
		w->finished = true;
		err = flush_page(w, FLAG_EOS);
	}
	if (fflush(w->f) || w->io_error)
		return PL_EIO;
	return err;
}

void pl_oggopus_writer_destroy(struct pl_oggopus_writer *w)
{
	if (!w)
		return;
	pl_oggopus_writer_finish(w);
	fclose(w->f);
	free(w);
}

/* ---- reader ---------------------------------------------------------- */

/* Finds the next "OggS" (skipping garbage) and reads one whole page into
 * r->hdr/r->body.  Returns 0, PL_ECLOSED (EOF before a page), PL_ETRUNC,
 * PL_EPROTO (CRC or version: the page is consumed and dropped). */
static int load_page(struct pl_oggopus_reader *r)
{
	uint32_t want, crc;
	size_t body_len = 0, got;
	int c;

	/* Resynchronise on the capture pattern byte by byte. */
	got = 0;
	while (got < 4) {
		if ((c = fgetc(r->f)) == EOF)
			return got ? PL_ETRUNC : PL_ECLOSED;
		if (c == "OggS"[got])
			r->hdr[got++] = (uint8_t)c;
		else
			got = (c == 'O') ? (r->hdr[0] = 'O', 1) : 0;
	}
	if (fread(r->hdr + 4, 1, PAGE_HDR - 4, r->f) != PAGE_HDR - 4)
		return PL_ETRUNC;
	r->nseg = r->hdr[26];
	if (fread(r->hdr + PAGE_HDR, 1, (size_t)r->nseg, r->f) != (size_t)r->nseg)
		return PL_ETRUNC;
	for (int i = 0; i < r->nseg; i++)
		body_len += r->hdr[PAGE_HDR + i];
	if (fread(r->body, 1, body_len, r->f) != body_len)
		return PL_ETRUNC;
	want = rd32(r->hdr + 22);
	memset(r->hdr + 22, 0, 4);
	crc = pl_ogg_crc32(pl_ogg_crc32(0, r->hdr, PAGE_HDR + (size_t)r->nseg), r->body, body_len);
	wr32(r->hdr + 22, want);
	if (crc != want || r->hdr[4] != 0) {
		r->crc_errors += crc != want;
		r->nseg = 0;
		return PL_EPROTO;
	}
	r->flags = r->hdr[5];
	r->granule = (int64_t)rd64(r->hdr + 6);
	r->seg = 0;
	r->body_off = 0;
	r->last_end = -1;
	for (int i = 0; i < r->nseg; i++)
		if (r->hdr[PAGE_HDR + i] < 255)
			r->last_end = i;
	return 0;
}

static int pkt_append(struct pl_oggopus_reader *r, const uint8_t *p, size_t n)
{
	if (r->pkt_skip != KEEP)
		return 0;
	if (r->pkt_len + n > PL_OGG_MAX_PACKET_BYTES) {
		r->pkt_skip = SKIP_TOOBIG;
		return 0;
	}
	if (r->pkt_len + n > r->pkt_cap) {
		size_t cap = r->pkt_cap ? r->pkt_cap : 4096;
		uint8_t *nb;
		while (cap < r->pkt_len + n)
			cap *= 2;
		nb = realloc(r->pkt, cap);
		if (!nb)
			return PL_ENOMEM;
		r->pkt = nb, r->pkt_cap = cap;
	}
	memcpy(r->pkt + r->pkt_len, p, n);
	r->pkt_len += n;
	return 0;
}

/* Loads the next page of our stream and reconciles the continuation
 * state: a packet left open needs a continued page (else it is dropped),
 * and a continued page with no open packet (after a dropped page) starts
 * with the tail of a packet we never saw, which is skipped. */
static int next_page(struct pl_oggopus_reader *r)
{
	int err;

	do {
		if (r->eos)
			return PL_ECLOSED;
		err = load_page(r);
		if (err == PL_EPROTO)
			r->pkt_open = false;
		if (err)
			return err;
	} while (r->have_serial && rd32(r->hdr + 14) != r->info.serial);
	if (r->have_serial && (r->flags & FLAG_EOS))
		r->eos = true;
	if (!(r->flags & FLAG_CONT))
		r->pkt_open = false;
	else if (!r->pkt_open)
		r->pkt_open = true, r->pkt_len = 0, r->pkt_skip = SKIP_ORPHAN;
	return 0;
}

/* Assembles the next complete packet into r->pkt.  Orphaned tails are
 * skipped silently; an oversized packet is skipped and reported. */
static int next_packet(struct pl_oggopus_reader *r, int64_t *granule)
{
	int err;

	for (;;) {
		while (r->seg < r->nseg) {
			int idx = r->seg++;
			uint8_t lace = r->hdr[PAGE_HDR + idx];
			if (!r->pkt_open)
				r->pkt_open = true, r->pkt_len = 0, r->pkt_skip = KEEP;
			err = pkt_append(r, r->body + r->body_off, lace);
			if (err)
				return err;
			r->body_off += lace;
			if (lace == 255)
				continue;
			r->pkt_open = false;
			*granule = idx == r->last_end ? r->granule : -1;
			if (r->pkt_skip == SKIP_TOOBIG)
				return PL_ETOOBIG;
			if (r->pkt_skip == KEEP)
				return 0;
		}
		err = next_page(r);
		if (err)
			return err;
	}
}

static int parse_head(struct pl_oggopus_reader *r)
{
	const uint8_t *h = r->pkt;
	int family;

	if (r->pkt_len < 19 || memcmp(h, "OpusHead", 8) || (h[8] & 0xf0))
		return PL_EPROTO;               /* major version must be 0 */
	r->info.channels = h[9];
	r->info.pre_skip = h[10] | (h[11] << 8);
	r->info.input_rate_hz = rd32(h + 12);
	r->info.output_gain_q8 = (int16_t)(h[16] | (h[17] << 8));
	family = h[18];
	if (r->info.channels < 1)
		return PL_EPROTO;
	if (family > 1 || r->info.channels > 2)
		return PL_EUNSUP;
	/* Family 1 with one or two channels is still a single Opus stream. */
	if (family == 1 && (r->pkt_len < 21u + (size_t)r->info.channels || h[19] != 1))
		return PL_EUNSUP;
	return 0;
}

/* Finds the first page that begins an Opus stream and adopts its serial. */
static int find_stream(struct pl_oggopus_reader *r)
{
	for (;;) {
		int err = load_page(r);
		if (err == PL_EPROTO)
			continue;
		if (err)
			return err == PL_ECLOSED ? PL_EPROTO : err;
		if ((r->flags & FLAG_BOS) && r->nseg > 0 && r->hdr[PAGE_HDR] >= 8 &&
		    !memcmp(r->body, "OpusHead", 8))
			break;
	}
	r->info.serial = rd32(r->hdr + 14);
	r->have_serial = true;
	if (r->flags & FLAG_EOS)
		r->eos = true;
	return 0;
}

int pl_oggopus_reader_create(const char *path, struct pl_oggopus_reader **out)
{
	struct pl_oggopus_reader *r;
	int64_t granule;
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
	err = find_stream(r);
	if (!err)
		err = next_packet(r, &granule);
	if (!err)
		err = parse_head(r);
	if (!err) {
		err = next_packet(r, &granule);
		/* Huge tags (cover art) are skipped unread. */
		if (!err && (r->pkt_len < 16 || memcmp(r->pkt, "OpusTags", 8)))
			err = PL_EPROTO;
		if (err == PL_ETOOBIG)
			err = 0;
	}
	if (err == PL_ECLOSED)
		err = PL_ETRUNC;
	if (err)
		goto fail;
	*out = r;
	return 0;
fail:
	pl_oggopus_reader_destroy(r);
	return err;
}

void pl_oggopus_reader_destroy(struct pl_oggopus_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->pkt);
	free(r);
}

void pl_oggopus_reader_info(const struct pl_oggopus_reader *r, struct pl_oggopus_info *info)
{
	*info = r->info;
}

int pl_oggopus_reader_read(struct pl_oggopus_reader *r, struct pl_oggopus_packet *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	err = next_packet(r, &p->granule);
	if (err)
		return err;
	p->data = r->pkt;
	p->len = r->pkt_len;
	if (pl_opus_packet_samples(r->pkt, r->pkt_len, &p->samples))
		return PL_EPROTO;
	return 0;
}

uint64_t pl_oggopus_reader_crc_errors(const struct pl_oggopus_reader *r)
{
	return r->crc_errors;
}
