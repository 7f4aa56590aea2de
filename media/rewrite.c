/* media/rewrite.c: continuous outgoing seq/ts across source changes.
 *
 * Sequence numbers are handled as 32-bit "extended" values on both sides,
 * compared only through signed differences, so 65535 -> 0 is just +1 and
 * nothing depends on where the counters start.  Within one source the
 * outgoing number of incoming packet e is
 *
 *     out(e) = e + seq_off - (packets skipped on purpose before e)
 *
 * The skipped packets are kept as a short list of inclusive ranges,
 * oldest first.  Skips can only be appended at the newest end (a packet
 * older than the newest already owns its place in the numbering), so the
 * list stays sorted and a whole mute, skipped packet after packet, grows
 * one range.  The common case, an in-order packet after every range,
 * costs one comparison; a reordered one walks back over the ranges newer
 * than itself.  The reverse map walks them forward.
 *
 * Why explicit skips and not "continue at last + 1 whenever a gap
 * appears": that would hide real losses, the subscriber could not NACK
 * them and a retransmission arriving later would have no number to go to.
 * Here the offset changes only for packets the caller dropped on purpose;
 * everything else keeps its gap.
 *
 * A new source (new SSRC, a resync, a jump of PL_REWRITE_MAX_DROPOUT or
 * more, or a confirmed jump backwards) restarts the incoming side: its
 * first packet gets the highest outgoing seq + 1, and its timestamp offset
 * is chosen so the first timestamp is the highest one sent plus the
 * wall-clock time since, converted to the RTP clock (at least one tick).
 *
 * No state outside the struct; called on the worker thread that owns it.
 */
#include "media/rewrite.h"

#include <string.h>

#include "common/err.h"

/* A start value for the extended incoming seq of a source: any value
 * works, this one keeps early reordered packets from looking negative in
 * a debugger. */
#define EXT_START 0x10000u
/* Elapsed time across a switch is capped so that the new timestamp stays
 * "ahead" in signed 32-bit comparisons (2^30 ticks: 3.3 h at 90 kHz). */
#define MAX_SWITCH_TICKS (1u << 30)

static inline int32_t diff32(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static uint32_t range_len(const struct pl_rewrite_skip_range *r)
{
	return r->last - r->first + 1;
}

void pl_rewrite_init(struct pl_rewrite *rw, uint32_t clock_hz, uint16_t seq_base,
		     uint32_t ts_base)
{
	memset(rw, 0, sizeof(*rw));
	rw->clock_hz = clock_hz;
	rw->seq_base = seq_base;
	rw->ts_base = ts_base;
	rw->out_max = (uint32_t)seq_base - 1;
	rw->out_first = seq_base;
}

void pl_rewrite_resync(struct pl_rewrite *rw)
{
	rw->resync = true;
}

/* RTP clock ticks in elapsed_us, at least 1, at most MAX_SWITCH_TICKS. */
static uint32_t elapsed_ticks(uint32_t clock_hz, int64_t elapsed_us)
{
	uint64_t t;

	if (elapsed_us <= 0)
		return 1;
	if ((uint64_t)elapsed_us > (uint64_t)MAX_SWITCH_TICKS * 1000000u / (clock_hz ? clock_hz : 1))
		return MAX_SWITCH_TICKS;
	t = (uint64_t)elapsed_us * clock_hz / 1000000u;
	return t ? (uint32_t)t : 1;
}

/* Makes (ssrc, seq, ts) the first packet of a new current source and
 * returns its extended seq. */
static uint32_t begin_source(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
			     int64_t now_us)
{
	uint32_t ext = EXT_START + seq;

	if (rw->has_src && ssrc != rw->ssrc) {
		rw->prev_ssrc = rw->ssrc;
		rw->has_prev = true;
	}
	rw->ssrc = ssrc;
	rw->has_src = true;
	rw->resync = false;
	rw->has_bad = false;
	rw->in_max = ext;
	rw->floor = ext - 1;
	rw->skipped = 0;
	rw->n_skips = 0;
	rw->out_first = rw->out_max + 1;
	rw->seq_off = rw->out_first - ext;
	if (!rw->has_out)
		rw->ts_off = rw->ts_base - ts;
	else
		rw->ts_off = rw->out_ts + elapsed_ticks(rw->clock_hz, now_us - rw->out_ts_us) - ts;
	return ext;
}

/* Places a packet in the current source, starting a new source when it
 * begins one.  *ext gets its extended seq; *fresh is true when it is the
 * first packet of a new source. */
static int locate(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts, int64_t now_us,
		  uint32_t *ext, bool *fresh)
{
	int16_t d;

	*fresh = false;
	if (rw->has_src && !rw->resync && ssrc != rw->ssrc && rw->has_prev && ssrc == rw->prev_ssrc)
		return PL_EEXPIRED;             /* a late packet of the replaced source */
	if (!rw->has_src || rw->resync || ssrc != rw->ssrc)
		goto restart;
	d = (int16_t)(seq - (uint16_t)rw->in_max);
	if (d >= PL_REWRITE_MAX_DROPOUT)
		goto restart;
	if (d < -PL_REWRITE_MAX_MISORDER) {
		if (rw->has_bad && seq == (uint16_t)rw->bad_seq)
			goto restart;
		rw->bad_seq = (uint16_t)(seq + 1);
		rw->has_bad = true;
		return PL_EPROTO;
	}
	*ext = rw->in_max + (uint32_t)(int32_t)d;
	if (diff32(*ext, rw->floor) <= 0)
		return PL_EEXPIRED;
	return 0;
restart:
	*ext = begin_source(rw, ssrc, seq, ts, now_us);
	*fresh = true;
	return 0;
}

/* The number of skipped packets after ext, or PL_EEXIST (as a negative
 * value) when ext itself was skipped. */
static int64_t skipped_after(const struct pl_rewrite *rw, uint32_t ext)
{
	int64_t k = 0;

	for (int i = rw->n_skips - 1; i >= 0; i--) {
		const struct pl_rewrite_skip_range *r = &rw->skips[i];

		if (diff32(r->first, ext) > 0) {
			k += range_len(r);
			continue;
		}
		if (diff32(ext, r->last) <= 0)
			return PL_EEXIST;
		break;
	}
	return k;
}

int pl_rewrite_map(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   int64_t now_us, uint16_t *out_seq, uint32_t *out_ts)
{
	uint32_t ext, o, ots;
	int64_t after;
	bool fresh;
	int rc;

	rc = locate(rw, ssrc, seq, ts, now_us, &ext, &fresh);
	if (rc)
		return rc;
	after = skipped_after(rw, ext);
	if (after < 0)
		return (int)after;
	if (diff32(ext, rw->in_max) > 0)
		rw->in_max = ext;
	o = ext + rw->seq_off - (rw->skipped - (uint32_t)after);
	ots = ts + rw->ts_off;
	if (!rw->has_out || diff32(o, rw->out_max) > 0)
		rw->out_max = o;
	if (!rw->has_out || diff32(ots, rw->out_ts) > 0) {
		rw->out_ts = ots;
		rw->out_ts_us = now_us;
	}
	rw->has_out = true;
	*out_seq = (uint16_t)o;
	*out_ts = ots;
	return 0;
}

int pl_rewrite_skip(struct pl_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    int64_t now_us)
{
	struct pl_rewrite_skip_range *last;
	uint32_t ext;
	bool fresh;
	int rc;

	rc = locate(rw, ssrc, seq, ts, now_us, &ext, &fresh);
	if (rc)
		return rc;
	if (!fresh && diff32(ext, rw->in_max) <= 0)
		return skipped_after(rw, ext) < 0 ? PL_EEXIST : PL_EEXPIRED;
	rw->in_max = ext;
	rw->skipped++;
	last = rw->n_skips ? &rw->skips[rw->n_skips - 1] : NULL;
	if (last && last->last + 1 == ext) {
		last->last = ext;
		return 0;
	}
	if (rw->n_skips == PL_REWRITE_MAX_SKIPS) {
		/* Forget the oldest range; what came before its end can no
		 * longer be placed. */
		rw->floor = rw->skips[0].last;
		memmove(rw->skips, rw->skips + 1, sizeof(rw->skips[0]) * (PL_REWRITE_MAX_SKIPS - 1));
		rw->n_skips--;
	}
	rw->skips[rw->n_skips++] = (struct pl_rewrite_skip_range){ ext, ext };
	return 0;
}

int pl_rewrite_unmap(const struct pl_rewrite *rw, uint16_t out_seq, uint16_t *in_seq)
{
	uint32_t o, in, retained = 0;
	int16_t d;

	if (!rw->has_out)
		return PL_ENOENT;
	d = (int16_t)(out_seq - (uint16_t)rw->out_max);
	if (d > 0)
		return PL_ENOENT;
	o = rw->out_max + (uint32_t)(int32_t)d;
	if (!rw->has_src || diff32(o, rw->out_first) < 0)
		return PL_EEXPIRED;
	for (unsigned i = 0; i < rw->n_skips; i++)
		retained += range_len(&rw->skips[i]);
	/* Undo the offset as if only the forgotten ranges were before it,
	 * then step over every retained range that starts at or before the
	 * candidate. */
	in = o - rw->seq_off + (rw->skipped - retained);
	for (unsigned i = 0; i < rw->n_skips; i++) {
		if (diff32(rw->skips[i].first, in) > 0)
			break;
		in += range_len(&rw->skips[i]);
	}
	if (diff32(in, rw->floor) <= 0 || diff32(rw->in_max, in) > PL_REWRITE_MAX_MISORDER)
		return PL_EEXPIRED;
	*in_seq = (uint16_t)in;
	return 0;
}

bool pl_rewrite_last(const struct pl_rewrite *rw, uint16_t *out_seq, uint32_t *out_ts)
{
	if (!rw->has_out)
		return false;
	*out_seq = (uint16_t)rw->out_max;
	*out_ts = rw->out_ts;
	return true;
}
