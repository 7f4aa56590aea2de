/* media/rtp.c: RTP packets in and out, header extensions, transport demux.
 *
 * The parser is the shape every wire parser in Parley follows: bytes in, a
 * borrowed view out, every read preceded by a length check, no allocation.
 * Header extensions (RFC 8285) come in two forms that differ only in how an
 * element announces its id and length; one iterator walks both, and
 * lookup by id is a loop over it.  The writer is the inverse and picks the
 * smallest form that can carry the elements it was given.
 *
 * Demultiplexing follows RFC 7983: the first byte of a datagram on the
 * bundled ICE transport says STUN, DTLS or RTP/RTCP; RFC 5761 separates
 * RTCP from RTP by the packet type byte (RTCP 192-223, which an RTP packet
 * never has there as long as payload types 64-95 are not used).
 *
 * No state, no allocation, no logging: any thread may call these; the
 * media workers do, per packet.  Bad bytes are the caller's to count.
 */
#include "media/rtp.h"

#include <string.h>

#include "common/err.h"

int pl_rtp_parse(const uint8_t *buf, size_t len, struct pl_rtp_view *v)
{
	size_t off = PL_RTP_HEADER_BYTES, end = len;

	if (len < PL_RTP_HEADER_BYTES)
		return PL_ETRUNC;
	if ((buf[0] >> 6) != 2)
		return PL_EPROTO;
	v->csrc_count = buf[0] & 0x0f;
	v->csrc = buf + off;
	off += 4u * v->csrc_count;                      /* CSRC list */
	v->ext = NULL, v->ext_len = 0, v->ext_profile = 0;
	if (buf[0] & 0x10) {                            /* header extension */
		if (len < off + 4)
			return PL_ETRUNC;
		v->ext_profile = pl_rd16(buf + off);
		v->ext_len = 4u * pl_rd16(buf + off + 2);
		v->ext = buf + off + 4;
		off += 4 + v->ext_len;
	}
	if (len < off)
		return PL_ETRUNC;
	v->padding_len = 0;
	if (buf[0] & 0x20) {                            /* padding */
		if (len == off || buf[len - 1] == 0 || buf[len - 1] > len - off)
			return PL_EPROTO;
		v->padding_len = buf[len - 1];
		end -= buf[len - 1];
	}
	v->pt = buf[1] & 0x7f, v->marker = buf[1] >> 7;
	v->seq = pl_rd16(buf + 2), v->ts = pl_rd32(buf + 4), v->ssrc = pl_rd32(buf + 8);
	v->payload = buf + off, v->payload_len = end - off;
	v->header_len = off;
	return 0;
}

uint32_t pl_rtp_csrc(const struct pl_rtp_view *v, unsigned i)
{
	return i < v->csrc_count ? pl_rd32(v->csrc + 4u * i) : 0;
}

int pl_rtp_ext_iter_init(struct pl_rtp_ext_iter *it, const struct pl_rtp_view *v)
{
	it->p = v->ext, it->off = 0, it->len = v->ext_len;
	it->two_byte = false, it->done = true;
	if (!v->ext)
		return PL_ENOENT;
	if (v->ext_profile == PL_RTP_EXT_ONE_BYTE)
		it->done = false;
	else if ((v->ext_profile & 0xfff0u) == PL_RTP_EXT_TWO_BYTE)
		it->done = false, it->two_byte = true;
	else
		return PL_EUNSUP;
	return 0;
}

int pl_rtp_ext_next(struct pl_rtp_ext_iter *it, struct pl_rtp_ext_elem *e)
{
	size_t hdr = it->two_byte ? 2 : 1, n;

	while (!it->done && it->off < it->len) {
		const uint8_t *p = it->p + it->off;

		/* Padding between elements.  A one-byte header with id 0 is
		 * padding whatever its length bits say (id 0 is reserved, RFC
		 * 8285 4.2; libwebrtc skips it the same way). */
		if (p[0] == 0 || (!it->two_byte && (p[0] >> 4) == 0)) {
			it->off++;
			continue;
		}
		if (!it->two_byte && (p[0] >> 4) == 15)
			break;                          /* reserved id: stop here */
		if (it->two_byte && it->off + 2 > it->len)
			goto trunc;
		n = it->two_byte ? p[1] : (size_t)(p[0] & 0x0f) + 1;
		if (it->off + hdr + n > it->len)
			goto trunc;
		e->id = it->two_byte ? p[0] : p[0] >> 4;
		e->len = (uint8_t)n;
		e->data = p + hdr;
		it->off += hdr + n;
		return 0;
	}
	it->done = true;
	return PL_ENOENT;
trunc:
	it->done = true;
	return PL_ETRUNC;
}

int pl_rtp_ext_find(const struct pl_rtp_view *v, uint8_t id, struct pl_rtp_ext_elem *e)
{
	struct pl_rtp_ext_iter it;
	int rc = pl_rtp_ext_iter_init(&it, v);

	if (rc == PL_EUNSUP)
		return PL_ENOENT;
	while (rc == 0 && (rc = pl_rtp_ext_next(&it, e)) == 0)
		if (e->id == id)
			return 0;
	return rc;
}

void pl_rtp_ext_writer_init(struct pl_rtp_ext_writer *w)
{
	w->force_two_byte = false;
	w->count = 0;
	w->data_len = 0;
}

int pl_rtp_ext_writer_add(struct pl_rtp_ext_writer *w, uint8_t id,
			  const uint8_t *data, size_t len)
{
	if (id == 0 || len > 255 || (len && !data))
		return PL_EINVAL;
	for (unsigned i = 0; i < w->count; i++)
		if (w->elems[i].id == id)
			return PL_EINVAL;
	if (w->count == PL_RTP_EXT_MAX_ELEMS || len > (size_t)PL_RTP_EXT_MAX_DATA_BYTES - w->data_len)
		return PL_ETOOBIG;
	w->elems[w->count].id = id;
	w->elems[w->count].len = (uint8_t)len;
	w->elems[w->count].off = w->data_len;
	if (len)
		memcpy(w->data + w->data_len, data, len);
	w->data_len = (uint16_t)(w->data_len + len);
	w->count++;
	return 0;
}

static bool ext_needs_two_byte(const struct pl_rtp_ext_writer *w)
{
	if (w->force_two_byte)
		return true;
	for (unsigned i = 0; i < w->count; i++)
		if (w->elems[i].id > 14 || w->elems[i].len == 0 || w->elems[i].len > 16)
			return true;
	return false;
}

/* Bytes of the extension block after its 4-byte header, padded to words. */
static size_t ext_block_len(const struct pl_rtp_ext_writer *w, bool two_byte)
{
	size_t n = w->data_len + (two_byte ? 2u : 1u) * w->count;

	return (n + 3) & ~(size_t)3;
}

static void ext_block_write(const struct pl_rtp_ext_writer *w, bool two_byte, uint8_t *p)
{
	size_t off = 0;

	for (unsigned i = 0; i < w->count; i++) {
		uint8_t id = w->elems[i].id, n = w->elems[i].len;

		if (two_byte)
			p[off++] = id, p[off++] = n;
		else
			p[off++] = (uint8_t)(id << 4 | (n - 1));
		memcpy(p + off, w->data + w->elems[i].off, n);
		off += n;
	}
	memset(p + off, 0, ext_block_len(w, two_byte) - off);
}

int pl_rtp_write(const struct pl_rtp_header *h, const struct pl_rtp_ext_writer *ext,
		 const uint8_t *payload, size_t payload_len, uint8_t pad_len,
		 uint8_t *buf, size_t cap, size_t *out_len)
{
	bool has_ext = ext && ext->count > 0;
	bool two_byte = has_ext && ext_needs_two_byte(ext);
	size_t blk = has_ext ? ext_block_len(ext, two_byte) : 0;
	size_t off = PL_RTP_HEADER_BYTES + 4u * h->csrc_count, need;

	if (h->pt > 127 || h->csrc_count > PL_RTP_MAX_CSRC || (payload_len && !payload))
		return PL_EINVAL;
	if (has_ext && blk / 4 > 0xffff)
		return PL_EINVAL;
	need = off + (has_ext ? 4 + blk : 0) + pad_len;
	if (payload_len > cap || need > cap - payload_len)
		return PL_ETOOBIG;
	/* The payload moves first: it may already sit in buf (in-place rewrite
	 * of a forwarded packet), and the new header could overlap it. */
	if (payload_len)
		memmove(buf + off + (has_ext ? 4 + blk : 0), payload, payload_len);
	buf[0] = (uint8_t)(0x80 | (pad_len ? 0x20 : 0) | (has_ext ? 0x10 : 0) | h->csrc_count);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	pl_wr16(buf + 2, h->seq);
	pl_wr32(buf + 4, h->ts);
	pl_wr32(buf + 8, h->ssrc);
	for (unsigned i = 0; i < h->csrc_count; i++)
		pl_wr32(buf + PL_RTP_HEADER_BYTES + 4 * i, h->csrc[i]);
	if (has_ext) {
		pl_wr16(buf + off, two_byte ? PL_RTP_EXT_TWO_BYTE : PL_RTP_EXT_ONE_BYTE);
		pl_wr16(buf + off + 2, (uint16_t)(blk / 4));
		ext_block_write(ext, two_byte, buf + off + 4);
		off += 4 + blk;
	}
	off += payload_len;
	if (pad_len) {
		memset(buf + off, 0, pad_len - 1u);
		buf[off + pad_len - 1] = pad_len;
		off += pad_len;
	}
	*out_len = off;
	return 0;
}

enum pl_rtp_demux pl_rtp_demux_classify(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return PL_RTP_DEMUX_UNKNOWN;
	if (buf[0] <= 3)
		return PL_RTP_DEMUX_STUN;
	if (buf[0] >= 16 && buf[0] <= 19)
		return PL_RTP_DEMUX_ZRTP;
	if (buf[0] >= 20 && buf[0] <= 63)
		return PL_RTP_DEMUX_DTLS;
	if (buf[0] >= 64 && buf[0] <= 79)
		return PL_RTP_DEMUX_TURN;
	if (buf[0] >= 128 && buf[0] <= 191) {
		if (len < 2)
			return PL_RTP_DEMUX_UNKNOWN;
		if (buf[1] >= 192 && buf[1] <= 223)
			return PL_RTP_DEMUX_RTCP;
		return PL_RTP_DEMUX_RTP;
	}
	return PL_RTP_DEMUX_UNKNOWN;
}

const char *pl_rtp_demux_name(enum pl_rtp_demux d)
{
	switch (d) {
	case PL_RTP_DEMUX_STUN:
		return "stun";
	case PL_RTP_DEMUX_ZRTP:
		return "zrtp";
	case PL_RTP_DEMUX_DTLS:
		return "dtls";
	case PL_RTP_DEMUX_TURN:
		return "turn";
	case PL_RTP_DEMUX_RTP:
		return "rtp";
	case PL_RTP_DEMUX_RTCP:
		return "rtcp";
	case PL_RTP_DEMUX_UNKNOWN:
		break;
	}
	return "unknown";
}
