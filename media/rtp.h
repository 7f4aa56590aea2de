/* media/rtp.h: RTP packets (RFC 3550), their header extensions (RFC 8285)
 * and the demultiplexing of a bundled transport (RFC 7983, RFC 5761).
 *
 * Parsing borrows: a struct pl_rtp_view points into the caller's buffer and
 * is valid as long as that buffer is.  Writing fills a caller-provided
 * buffer of a given capacity.  Nothing here allocates, logs or keeps state,
 * so every function may be called from any thread; media workers call them
 * on the packet path.
 *
 * Errors: PL_ETRUNC when the bytes end before a length they announce,
 * PL_EPROTO when a field holds a value the format does not allow,
 * PL_EINVAL for bad arguments to a writer, PL_ETOOBIG when a writer's
 * output does not fit its buffer.
 */
#ifndef PL_MEDIA_RTP_H
#define PL_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Network byte order helpers.  They live here, in the lowest media header,
 * until common/ grows a bytes.h; rtcp.h includes this header. */
static inline uint16_t pl_rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t pl_rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t pl_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pl_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static inline void pl_wr24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}

static inline void pl_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

#define PL_RTP_HEADER_BYTES 12
#define PL_RTP_MAX_CSRC 15
/* Profiles of the header extension block (RFC 8285 section 4). */
#define PL_RTP_EXT_ONE_BYTE 0xBEDEu
#define PL_RTP_EXT_TWO_BYTE 0x1000u      /* the low 4 bits are "appbits" */
/* What a pl_rtp_ext_writer can hold: elements and their data bytes. */
#define PL_RTP_EXT_MAX_ELEMS 16
#define PL_RTP_EXT_MAX_DATA_BYTES 512

/* A parsed packet; every pointer borrows from the parsed buffer. */
struct pl_rtp_view {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t csrc_count;
	const uint8_t *csrc;            /* csrc_count 32-bit words, big-endian */
	uint16_t ext_profile;           /* 0 when there is no extension */
	const uint8_t *ext;             /* extension data after its 4-byte header */
	size_t ext_len;                 /* bytes, a multiple of 4 */
	const uint8_t *payload;
	size_t payload_len;
	uint8_t padding_len;            /* 0, or the padding bytes stripped */
	size_t header_len;              /* fixed header + CSRCs + extension */
};

/* Parses buf[0..len) as one RTP packet into *v.  Returns 0, PL_ETRUNC or
 * PL_EPROTO (version not 2, padding that is zero or longer than the
 * payload). */
int pl_rtp_parse(const uint8_t *buf, size_t len, struct pl_rtp_view *v);

/* The CSRC number i (< v->csrc_count) of a parsed packet. */
uint32_t pl_rtp_csrc(const struct pl_rtp_view *v, unsigned i);

/* One header extension element: a local id (1-14 in the one-byte form,
 * 1-255 in the two-byte form) and its data, borrowed from the packet. */
struct pl_rtp_ext_elem {
	uint8_t id;
	uint8_t len;
	const uint8_t *data;
};

/* Iteration over a packet's extension elements. */
struct pl_rtp_ext_iter {
	const uint8_t *p;
	size_t off, len;
	bool two_byte;
	bool done;
};

/* Starts iterating v's extension block.  Returns 0, PL_ENOENT when the
 * packet has no extension, PL_EUNSUP when its profile is neither the
 * one-byte nor the two-byte form (the iterator then yields nothing). */
int pl_rtp_ext_iter_init(struct pl_rtp_ext_iter *it, const struct pl_rtp_view *v);

/* Fills *e with the next element.  Returns 0, PL_ENOENT at the end,
 * PL_ETRUNC when an element's data runs past the block.  Padding bytes are
 * skipped; a one-byte id of 15 ends the block (RFC 8285 section 4.2). */
int pl_rtp_ext_next(struct pl_rtp_ext_iter *it, struct pl_rtp_ext_elem *e);

/* Finds the first element with the given id.  Returns 0 with *e filled,
 * PL_ENOENT, or an error of pl_rtp_ext_next() met on the way. */
int pl_rtp_ext_find(const struct pl_rtp_view *v, uint8_t id, struct pl_rtp_ext_elem *e);

/* Collects elements to write.  The form is chosen at write time: one-byte
 * when every id is 1-14 and every length 1-16, two-byte otherwise (or
 * always, when force_two_byte is set).  Storage is inline: init on the
 * stack, no release. */
struct pl_rtp_ext_writer {
	bool force_two_byte;
	uint8_t count;
	uint16_t data_len;
	struct {
		uint8_t id, len;
		uint16_t off;
	} elems[PL_RTP_EXT_MAX_ELEMS];
	uint8_t data[PL_RTP_EXT_MAX_DATA_BYTES];
};

void pl_rtp_ext_writer_init(struct pl_rtp_ext_writer *w);

/* Adds an element.  Returns 0, PL_EINVAL for id 0, a duplicate id or more
 * than 255 data bytes, PL_ETOOBIG when the writer is full.  Id 15 and
 * lengths 0 or 17-255 make the block two-byte. */
int pl_rtp_ext_writer_add(struct pl_rtp_ext_writer *w, uint8_t id,
			  const uint8_t *data, size_t len);

/* The header fields of a packet to write. */
struct pl_rtp_header {
	bool marker;
	uint8_t pt;                     /* 0-127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t csrc_count;             /* 0-15 */
	uint32_t csrc[PL_RTP_MAX_CSRC];
};

/* Writes header, extension (ext may be NULL or empty: no extension),
 * payload and pad_len bytes of padding (0, or 1-255 with the count in the
 * last byte) into buf[0..cap).  *out_len gets the packet length.
 * Returns 0, PL_EINVAL or PL_ETOOBIG. */
int pl_rtp_write(const struct pl_rtp_header *h, const struct pl_rtp_ext_writer *ext,
		 const uint8_t *payload, size_t payload_len, uint8_t pad_len,
		 uint8_t *buf, size_t cap, size_t *out_len);

/* What a datagram on a bundled ICE transport carries, from its first byte
 * (RFC 7983 section 7) and, for RTP/RTCP, its second (RFC 5761 section 4). */
enum pl_rtp_demux {
	PL_RTP_DEMUX_UNKNOWN = 0,       /* drop it */
	PL_RTP_DEMUX_STUN,              /* 0-3 */
	PL_RTP_DEMUX_ZRTP,              /* 16-19 */
	PL_RTP_DEMUX_DTLS,              /* 20-63 */
	PL_RTP_DEMUX_TURN,              /* 64-79: TURN channel data */
	PL_RTP_DEMUX_RTP,               /* 128-191, second byte outside 192-223 */
	PL_RTP_DEMUX_RTCP,              /* 128-191, second byte in 192-223 */
};

enum pl_rtp_demux pl_rtp_demux_classify(const uint8_t *buf, size_t len);

/* A static name for logs: "stun", "dtls", "rtp"... */
const char *pl_rtp_demux_name(enum pl_rtp_demux d);

#endif
