/* media/rewrite.h: sequence number and timestamp rewriting for one
 * outgoing RTP stream (one down slot of a subscriber).
 *
 * The stream a subscriber receives must look like one continuous sender
 * even though what feeds it changes: a publisher restarts with a new SSRC,
 * a simulcast layer switch (later) changes the source, a mute drops
 * packets.  A struct pl_rewrite maps each incoming (ssrc, seq, ts) of the
 * current source to an outgoing (seq, ts):
 *
 *   - Within one source the mapping is a fixed offset (minus the packets
 *     skipped on purpose before it, see pl_rewrite_skip), so reordered,
 *     duplicated and retransmitted packets map to the same outgoing numbers
 *     as their first copy, and a real loss stays a gap the subscriber can
 *     NACK.
 *   - A new source continues the outgoing sequence at the highest number
 *     sent + 1 and the timestamp at the highest timestamp sent + the time
 *     elapsed since it was sent, in RTP clock units (at least 1), so
 *     timestamps never go backwards.
 *   - Packets of a source from before it became current (a late packet of
 *     the previous SSRC, or one of the new source older than its first
 *     packet) are refused: their outgoing numbers belong to someone else.
 *
 * Value type, fixed size (208 bytes on x86-64), no allocation, no logging, no
 * locks: the worker that owns the down slot calls it on the packet path.
 *
 * Errors (each one means "do not forward this packet"):
 *   PL_EEXPIRED  from before the current source started, or older than the
 *                rewriter still remembers (PL_REWRITE_MAX_SKIPS ranges of
 *                skipped packets ago, or PL_REWRITE_MAX_MISORDER behind);
 *   PL_EEXIST    the packet (a duplicate or retransmission) was skipped on
 *                purpose earlier;
 *   PL_EPROTO    a jump far behind the newest packet of the same SSRC: held
 *                on probation; if the next packet follows it, the source
 *                is taken as restarted (RFC 3550 A.1's bad_seq rule).
 */
#ifndef PL_MEDIA_REWRITE_H
#define PL_MEDIA_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

/* Ranges of skipped incoming sequence numbers remembered per source; a
 * contiguous run (a whole mute) takes one.  When a new range would not fit
 * the oldest is forgotten and packets before its end become PL_EEXPIRED. */
#define PL_REWRITE_MAX_SKIPS 16
/* A packet this far ahead of the newest of its SSRC is a restart: the
 * outgoing stream continues at +1 instead of showing a huge gap. */
#define PL_REWRITE_MAX_DROPOUT 3000
/* Further behind the newest than this is a probable restart (probation). */
#define PL_REWRITE_MAX_MISORDER 2048

/* A run of skipped incoming sequence numbers, extended to 32 bits,
 * inclusive at both ends. */
struct pl_rewrite_skip_range {
	uint32_t first, last;
};

struct pl_rewrite {
	uint32_t clock_hz;
	uint16_t seq_base;              /* the first outgoing seq */
	uint32_t ts_base;               /* the first outgoing timestamp */
	bool has_src;                   /* a source is current */
	bool resync;                    /* the next packet starts a new source */
	bool has_out;                   /* at least one packet was mapped */
	uint32_t ssrc, prev_ssrc;
	bool has_prev;
	/* The current source, in extended (32-bit) incoming seqs. */
	uint32_t in_max;                /* newest seen, mapped or skipped */
	uint32_t floor;                 /* newest that can no longer be mapped */
	uint32_t seq_off;               /* out = in + seq_off - skipped before in */
	uint32_t skipped;               /* skipped since the source began */
	uint32_t ts_off;                /* out ts = in ts + ts_off */
	uint32_t bad_seq;               /* probation, see PL_EPROTO */
	bool has_bad;
	uint8_t n_skips;
	struct pl_rewrite_skip_range skips[PL_REWRITE_MAX_SKIPS]; /* oldest first */
	/* The outgoing stream, extended to 32 bits. */
	uint32_t out_first;             /* first outgoing seq of this source */
	uint32_t out_max;               /* highest outgoing seq mapped */
	uint32_t out_ts;                /* highest outgoing timestamp mapped */
	int64_t out_ts_us;              /* when out_ts was mapped */
};

/* Starts a stream whose first outgoing packet will carry seq_base and
 * ts_base (the caller draws them at random, RFC 3550 section 5.1).
 * clock_hz is the RTP clock of every source it will carry (90000 for
 * video, 48000 for Opus). */
void pl_rewrite_init(struct pl_rewrite *rw, uint32_t clock_hz, uint16_t seq_base,
		     uint32_t ts_base);

/* Maps one incoming packet received at now_us (monotonic) to *out_seq and
 * *out_ts.  A packet from an SSRC other than the current one makes it the
 * current source, except the SSRC it replaced (a late packet: PL_EEXPIRED)
 * unless pl_rewrite_resync() was called.  Returns 0 or an error above. */
int pl_rewrite_map(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   int64_t now_us, uint16_t *out_seq, uint32_t *out_ts);

/* Tells the rewriter that this packet of the source is dropped on purpose
 * (muted track, padding-only probe, a layer not forwarded): it takes no
 * outgoing sequence number, so the outgoing stream shows no gap for it.
 * Only a packet newer than every packet seen so far can be absorbed; an
 * older one already has its place in the outgoing numbering (the gap it
 * leaves looks like a loss), and PL_EEXPIRED says so.  Returns 0 when
 * absorbed, or an error above (the packet is dropped either way).
 * Losses are never absorbed: a hole between two skipped packets stays a
 * hole, because it may be a packet the caller would have forwarded. */
int pl_rewrite_skip(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    int64_t now_us);

/* The next packet (mapped or skipped), whatever its SSRC, starts a new
 * source that continues the outgoing stream.  For a layer switch back to
 * an SSRC used before, or to end a long mute without counting its
 * packets. */
void pl_rewrite_resync(struct pl_rewrite *rw);

/* The reverse map, for a subscriber's NACK: the incoming seq of the
 * current source that was sent as out_seq.  Returns 0, PL_ENOENT when
 * out_seq was never sent (ahead of the stream, or nothing sent yet),
 * PL_EEXPIRED when it was sent for a previous source or is older than the
 * rewriter remembers. */
int pl_rewrite_unmap(const struct pl_rewrite *rw, uint16_t out_seq, uint16_t *in_seq);

/* The highest outgoing seq and timestamp mapped so far (for an SR or a
 * padding packet); false when nothing was mapped yet. */
bool pl_rewrite_last(const struct pl_rewrite *rw, uint16_t *out_seq, uint32_t *out_ts);

#endif
