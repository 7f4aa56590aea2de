/* codecs/vp8.h: the VP8 RTP payload descriptor (RFC 7741 section 4.2).
 *
 * Enough of it for an SFU: where the VP8 payload starts, the picture id
 * and temporal layer fields, and whether a packet starts a keyframe.  Pure
 * functions over a borrowed buffer; every read is bounds-checked.
 */
#ifndef PL_CODECS_VP8_H
#define PL_CODECS_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_vp8_desc {
	bool start;            /* S: first packet of a VP8 partition */
	uint8_t partition;     /* PID */
	bool has_picture_id;
	uint16_t picture_id;   /* 7 or 15 bits */
	bool has_tl0picidx;
	uint8_t tl0picidx;
	bool has_tid;
	uint8_t tid;           /* temporal layer */
	bool layer_sync;       /* Y */
	size_t header_len;     /* bytes of descriptor before the VP8 payload */
	bool keyframe;         /* start of partition 0 of a keyframe */
};

/* Parses the descriptor at the front of an RTP payload.  Returns 0,
 * PL_ETRUNC (too short, or no payload after the descriptor). */
int pl_vp8_parse(const uint8_t *payload, size_t len, struct pl_vp8_desc *d);

#endif
