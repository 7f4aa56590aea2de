/* client/reorder.h: a receiver's reorder (jitter) buffer for VP8 frames.
 *
 * Packets of one received video stream go in by sequence number, in any
 * order (a NACK repair arrives late, after newer packets); whole frames
 * come out, in sequence order.  A frame is the payloads (VP8 descriptors
 * removed) of consecutive packets from a start of partition 0 (S=1,
 * PID=0) through the marker, all of one RTP timestamp.
 *
 * A missing sequence number is waited for: until wait_us after the first
 * newer packet arrived (that is when the hole showed, and when the NACK
 * machinery started asking for it).  Then it is given up with the frame it
 * belongs to.  A decoder cannot use the delta frames that follow a lost
 * frame, so from then on complete delta frames are dropped (counted as
 * skipped) until a keyframe comes out: pl_reorder_needs_keyframe() says
 * when the owner should ask the sender for one (RTCP PLI).  The stream
 * also starts in that state: the first frame handed out is a keyframe.
 *
 * Memory: n_slots packet slots of PL_REORDER_SLOT_BYTES each, allocated by
 * pl_reorder_create(), plus an assembly buffer that grows to the largest
 * frame once; nothing is allocated per packet.  The window is n_slots
 * sequence numbers from the oldest packet not yet handed out: a packet
 * further ahead forces the oldest ones out (given up).
 *
 * Nothing reads a clock: the caller passes monotonic microseconds.  An
 * object belongs to one thread.  Errors: 0 or a negative PL_E* code.
 */
#ifndef PL_CLIENT_REORDER_H
#define PL_CLIENT_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest VP8 payload (descriptor included) a slot holds. */
#define PL_REORDER_SLOT_BYTES 1500
/* Slots for a video stream: over 1 s of packets at 5 Mbps. */
#define PL_REORDER_DEFAULT_SLOTS 512

struct pl_reorder;

struct pl_reorder_frame {
	const uint8_t *data;            /* borrowed until the next push/pop */
	size_t len;
	uint32_t ts;                    /* RTP timestamp */
	bool keyframe;
	uint16_t first_seq, last_seq;
};

/* Counters, never reset. */
struct pl_reorder_stats {
	uint64_t frames;                /* handed out */
	uint64_t keyframes;             /* of which keyframes */
	uint64_t frames_incomplete;     /* given up with packets missing, or malformed */
	uint64_t frames_skipped;        /* complete deltas dropped while waiting for a keyframe */
	uint64_t packets_given_up;      /* sequence numbers waited for in vain */
	uint64_t reordered;             /* packets that filled a hole in time */
	uint64_t late;                  /* arrived after their sequence number was passed */
	uint64_t duplicates;
	uint64_t bad;                   /* not a VP8 payload, or too big for a slot */
	uint64_t resets;                /* jumps ahead of the whole window */
};

/* n_slots: a power of two, 16..32768.  NULL for a bad size (aborts when
 * out of memory, like other control objects).  destroy(NULL) is a no-op. */
struct pl_reorder *pl_reorder_create(size_t n_slots);
void pl_reorder_destroy(struct pl_reorder *r);

/* One received RTP packet of the stream: its sequence number, timestamp,
 * marker bit and payload (VP8 descriptor first; an empty payload, e.g. a
 * padding-only packet, only fills its sequence number).  Copied.
 * Returns 0 (kept), PL_EEXIST (a duplicate), PL_EEXPIRED (too late: its
 * place in the order was passed), PL_ETRUNC/PL_EPROTO (not VP8; its
 * sequence number counts as present but breaks its frame) or PL_ETOOBIG
 * (over PL_REORDER_SLOT_BYTES: the same).  Call pl_reorder_pop() after. */
int pl_reorder_push(struct pl_reorder *r, uint16_t seq, uint32_t ts, bool marker,
		    const uint8_t *payload, size_t len, int64_t now_us);

/* The next frame in order, if it is complete, or once what blocks it was
 * given up (a hole older than wait_us).  Returns true with *f (valid until
 * the next push or pop), false when nothing is ready.  Call it until it
 * returns false after each push, and periodically (every 20 ms or so) for
 * the waits to expire when no packets come. */
bool pl_reorder_pop(struct pl_reorder *r, int64_t now_us, int64_t wait_us, struct pl_reorder_frame *f);

/* True from the start and after a frame was given up, until a keyframe
 * was handed out. */
bool pl_reorder_needs_keyframe(const struct pl_reorder *r);

void pl_reorder_get_stats(const struct pl_reorder *r, struct pl_reorder_stats *st);

/* ---- keyframe requests ------------------------------------------------------
 *
 * When to ask the sender for a keyframe (RTCP PLI) about a stream whose
 * buffer needs one: at most one per PL_REORDER_PLI_MIN_US; while the
 * keyframe asked for does not come (the PLI or the keyframe may be lost,
 * or a server folded the request into an earlier one), again after
 * PL_REORDER_PLI_RETRY_US, or after PL_REORDER_PLI_AGAIN_US when a frame
 * was given up since (it may have been that keyframe) or while the stream
 * has shown no picture yet (start-up: our first request may well have
 * been folded into the server's own at subscription).  AGAIN is the
 * interval at which parleyd lets a request through to the publisher
 * (PL_KF_MIN_INTERVAL_US): asking sooner would be folded away. */
#define PL_REORDER_PLI_MIN_US 300000
#define PL_REORDER_PLI_AGAIN_US 500000
#define PL_REORDER_PLI_RETRY_US 1000000

struct pl_reorder_pli {
	int64_t last_us;                /* our last PLI, 0: none yet */
	bool waiting;                   /* sent; no keyframe handed out since */
	uint64_t incomplete_at;         /* frames_incomplete when it was sent */
	uint64_t sent;
};

/* True when a PLI about r's stream is due at now_us; the caller then sends
 * it and calls pl_reorder_pli_sent().  p starts zeroed. */
bool pl_reorder_pli_due(struct pl_reorder_pli *p, const struct pl_reorder *r, int64_t now_us);
void pl_reorder_pli_sent(struct pl_reorder_pli *p, const struct pl_reorder *r, int64_t now_us);

#endif
