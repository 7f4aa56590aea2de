/* codecs/vp8.c: the VP8 payload descriptor parser of vp8.h.
 *
 * Layout (RFC 7741 4.2): X|R|N|S|R|PID, then if X: I|L|T|K|RSV, then
 * PictureID (1 byte, or 2 when its top bit M is set), TL0PICIDX (if L),
 * TID|Y|KEYIDX (if T or K).  A keyframe is recognised from the first byte
 * of the VP8 payload header (its P bit is 0) in the packet that starts
 * partition 0 (S = 1, PID = 0).
 */
#include "codecs/vp8.h"
#include "common/err.h"

#include <string.h>

int pl_vp8_parse(const uint8_t *p, size_t len, struct pl_vp8_desc *d)
{
	size_t off = 1;

	memset(d, 0, sizeof(*d));
	if (len < 1)
		return PL_ETRUNC;
	d->start = p[0] & 0x10;
	d->partition = p[0] & 0x07;
	if (p[0] & 0x80) {
		uint8_t x;
		if (len < 2)
			return PL_ETRUNC;
		x = p[1];
		off = 2;
		if (x & 0x80) { /* I: picture id */
			if (len < off + 1)
				return PL_ETRUNC;
			d->has_picture_id = true;
			if (p[off] & 0x80) {
				if (len < off + 2)
					return PL_ETRUNC;
				d->picture_id = (uint16_t)(((p[off] & 0x7f) << 8) | p[off + 1]);
				off += 2;
			} else {
				d->picture_id = p[off] & 0x7f;
				off += 1;
			}
		}
		if (x & 0x40) { /* L: TL0PICIDX */
			if (len < off + 1)
				return PL_ETRUNC;
			d->has_tl0picidx = true;
			d->tl0picidx = p[off++];
		}
		if (x & 0x30) { /* T or K: TID|Y|KEYIDX */
			if (len < off + 1)
				return PL_ETRUNC;
			if (x & 0x20) {
				d->has_tid = true;
				d->tid = p[off] >> 6;
				d->layer_sync = p[off] & 0x20;
			}
			off++;
		}
	}
	if (len <= off)
		return PL_ETRUNC;
	d->header_len = off;
	d->keyframe = d->start && d->partition == 0 && (p[off] & 0x01) == 0;
	return 0;
}
