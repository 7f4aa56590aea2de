/* media/nack.h: loss repair, both directions (RFC 4585 generic NACK,
 * RFC 4588 RTX).
 *
 *   struct pl_nack_rx    receive side, one per incoming stream: finds the
 *                        missing sequence numbers and says which to NACK
 *                        upstream, when, and when to give up;
 *   struct pl_rtx_buf    send side, one per outgoing stream: the last
 *                        packets sent, by sequence number, to answer a
 *                        subscriber's NACK;
 *   struct pl_rtx_stream an RTX sender (its SSRC, payload type and own
 *                        sequence counter) that wraps a stored packet;
 *   pl_rtx_unwrap()      turns a received RTX packet back into the
 *                        original, for the publisher's retransmissions.
 *
 * Fixed-size state (the retransmission buffer's storage is allocated once
 * by its owner), no allocation or logging per packet, no locks: each
 * object belongs to the worker thread of its stream.  Times are monotonic
 * microseconds given by the caller.
 */
#ifndef PL_MEDIA_NACK_H
#define PL_MEDIA_NACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Receive side: loss detection and NACK scheduling ----------------- */

/* Missing sequence numbers tracked per stream. */
#define PL_NACK_MAX_MISSING 256
/* Retry interval when the caller knows no RTT. */
#define PL_NACK_DEFAULT_RTT_MS 100
/* Further behind the newest than this is a probable restart of the
 * sender's numbering (RFC 3550 A.1's bad_seq rule). */
#define PL_NACK_MAX_MISORDER 3000

struct pl_nack_rx_config {
	int64_t reorder_us;             /* wait before the first NACK; 15 ms */
	unsigned max_retries;           /* NACKs per packet; 10 */
	int64_t max_age_us;             /* give up on a packet after; 1 s */
};

struct pl_nack_missing {
	uint32_t ext;                   /* extended sequence number */
	uint32_t retries;               /* NACKs sent for it */
	int64_t since_us;               /* when it was found missing */
	int64_t sent_us;                /* when last NACKed */
};

struct pl_nack_rx {
	struct pl_nack_rx_config cfg;
	bool started;
	bool has_bad;
	uint16_t bad_seq;
	uint32_t max_ext;               /* newest received, extended */
	int64_t max_us;                 /* when it arrived */
	uint16_t n;
	struct pl_nack_missing missing[PL_NACK_MAX_MISSING]; /* ascending */
	/* Counters for stats, never reset. */
	uint64_t nacked;                /* sequence numbers put in NACKs */
	uint64_t recovered;             /* missing packets that arrived */
	uint64_t given_up;              /* dropped after retries, age or room */
	uint64_t resets;                /* gaps too large to repair */
};

/* Starts an empty detector; cfg NULL (or any zero field) means defaults. */
void pl_nack_rx_init(struct pl_nack_rx *rx, const struct pl_nack_rx_config *cfg);

/* A packet of the stream arrived (media or the original of an RTX packet,
 * pl_rtx_unwrap).  Newer than the newest: the sequence numbers between
 * become missing; a missing one arriving late is forgotten.  The missing
 * packets' send times are taken as spread evenly between the arrivals of
 * the two packets around the gap, and those older than max_age_us are
 * given up at once: after an outage, what the sender no longer keeps is
 * not NACKed (ten times each) for nothing.  Returns 0, or PL_ETOOBIG when
 * packets were given up without NACKing them (a gap of more than
 * PL_NACK_MAX_MISSING, no room left, or too old): the caller should ask
 * for a keyframe. */
int pl_nack_rx_on_packet(struct pl_nack_rx *rx, uint16_t seq, int64_t now_us);

/* Fills seqs[0..*n) (ascending, at most cap) with the sequence numbers to
 * NACK now, for pl_rtcp_nack_write(), and counts a retry for each.  A
 * missing packet is first due reorder_us after it was found missing, then
 * every rtt_ms (0: PL_NACK_DEFAULT_RTT_MS; clamped to 10..1000 ms) until
 * max_retries NACKs went unanswered or it is max_age_us old; then it is
 * given up.  Due packets beyond cap stay due.  Returns 0 (*n may be 0). */
int pl_nack_rx_collect(struct pl_nack_rx *rx, int64_t now_us, uint32_t rtt_ms, uint16_t *seqs,
		       size_t cap, size_t *n);

/* When pl_nack_rx_collect() next has work (a NACK or a give-up), for a
 * timer; INT64_MAX when nothing is missing. */
int64_t pl_nack_rx_next_due_us(const struct pl_nack_rx *rx, uint32_t rtt_ms);

/* ---- Send side: retransmission buffer --------------------------------- */

/* The largest packet stored (the media path's datagram size). */
#define PL_RTX_MAX_PACKET_BYTES 1500
/* Packets older than this are not resent (default of max_age_us). */
#define PL_RTX_DEFAULT_MAX_AGE_US 1000000
/* A NACK for a packet resent less than max(rtt/2, this) ago is ignored. */
#define PL_RTX_MIN_RESEND_INTERVAL_US 20000

/* One stored packet; len 0 marks an empty slot. */
struct pl_rtx_slot {
	uint64_t pos;                   /* absolute byte offset in the arena */
	int64_t sent_us;
	int64_t resent_us;
	uint32_t ext;                   /* extended sequence number */
	uint16_t len;
	bool resent;
};

/* Packets are kept by sequence number in n_slots slots (a power of two;
 * slot = seq mod n_slots) and their bytes back to back in a ring "arena",
 * so memory follows the bitrate rather than n_slots * 1500.  A packet is
 * held while it is among the last n_slots sequence numbers, its bytes are
 * not overwritten and it is younger than max_age_us. */
struct pl_rtx_buf {
	struct pl_rtx_slot *slots;
	size_t n_slots;
	uint8_t *arena;
	size_t arena_bytes;
	uint64_t head;                  /* absolute offset of the next write */
	bool has_max;
	uint32_t max_ext;               /* newest stored, extended */
	int64_t max_age_us;             /* the caller may change it after init */
	bool owned;                     /* storage from pl_rtx_buf_create() */
	/* Counters for stats, never reset. */
	uint64_t resent;
	uint64_t refused_dup, refused_old, refused_unknown;
};

/* Sets b up over caller storage: slots[n_slots] (n_slots a power of two,
 * 16..32768) and arena[arena_bytes] (at least PL_RTX_MAX_PACKET_BYTES),
 * both owned by the caller and outliving b.  Returns 0 or PL_EINVAL.
 * Memory: 32 bytes per slot plus the arena.  Sizing for >= 1 s: video,
 * 512 slots and bitrate/8 bytes (128 KiB at 1 Mbps, 256 KiB at 2 Mbps);
 * Opus, 64 slots (50 packets/s) and 16 KiB. */
int pl_rtx_buf_init(struct pl_rtx_buf *b, struct pl_rtx_slot *slots, size_t n_slots,
		    uint8_t *arena, size_t arena_bytes);

/* The same with storage from one allocation (control plane: aborts when
 * out of memory).  NULL for bad sizes.  pl_rtx_buf_destroy(NULL) is a
 * no-op. */
struct pl_rtx_buf *pl_rtx_buf_create(size_t n_slots, size_t arena_bytes);
void pl_rtx_buf_destroy(struct pl_rtx_buf *b);

/* Copies a packet as sent (plaintext, before SRTP) under its sequence
 * number.  A packet already stored under seq is replaced.  Returns 0,
 * PL_EINVAL for len 0, PL_ETOOBIG over PL_RTX_MAX_PACKET_BYTES,
 * PL_EEXPIRED when seq is n_slots or more behind the newest (not kept). */
int pl_rtx_buf_put(struct pl_rtx_buf *b, uint16_t seq, const uint8_t *pkt, size_t len,
		   int64_t now_us);

/* For a NACKed seq: *pkt and *len get the stored packet (borrowed from the
 * buffer, valid until the next put) and it is marked resent at now_us.
 * Returns 0, PL_ENOENT when seq was never stored (ahead of the newest, or
 * a hole), PL_EEXPIRED when it is no longer held, PL_EEXIST when it was
 * resent less than max(rtt_ms / 2, 20 ms) ago (a duplicate NACK). */
int pl_rtx_buf_get(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, uint32_t rtt_ms,
		   const uint8_t **pkt, size_t *len);

/* The same lookup without the duplicate check and without marking the
 * packet resent: for a buffer shared by several subscribers, each of
 * which keeps its own duplicate check.  Returns 0, PL_ENOENT, PL_EEXPIRED. */
int pl_rtx_buf_peek(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, const uint8_t **pkt,
		    size_t *len);

/* ---- RTX packets (RFC 4588) ------------------------------------------- */

struct pl_rtx_stream {
	uint32_t ssrc;
	uint8_t pt;
	uint16_t seq;                   /* the next RTX sequence number */
};

void pl_rtx_stream_init(struct pl_rtx_stream *s, uint32_t ssrc, uint8_t pt, uint16_t first_seq);

/* Writes the RTX packet for the RTP packet pkt into buf[0..cap) (buf may
 * be pkt itself, to convert in place, but may not overlap it otherwise): pkt's
 * header (marker, timestamp, CSRCs and extension kept, padding dropped)
 * with s's payload type, SSRC and next sequence number, then the original
 * sequence number (OSN, 2 bytes) and the original payload.  The counter
 * advances only on success.  Returns 0, a pl_rtp_parse() error for pkt, or
 * PL_ETOOBIG. */
int pl_rtx_stream_write(struct pl_rtx_stream *s, const uint8_t *pkt, size_t len, uint8_t *buf,
			size_t cap, size_t *out_len);

/* Turns the RTX packet in buf[0..*len) back into the original in place:
 * sequence number from the OSN, media_ssrc and media_pt, payload moved
 * over the OSN, padding dropped; *len gets the new length.  Returns 0, a
 * pl_rtp_parse() error, or PL_ETRUNC when there is no OSN (a padding-only
 * probe on the RTX SSRC: drop it). */
int pl_rtx_unwrap(uint8_t *buf, size_t *len, uint32_t media_ssrc, uint8_t media_pt);

#endif
