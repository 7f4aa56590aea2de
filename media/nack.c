/* media/nack.c: NACK generation, the retransmission buffer and RTX.
 *
 * Receive side.  The detector keeps the newest sequence number received,
 * extended to 32 bits, and a sorted array of the extended numbers missing
 * below it.  A packet newer than the newest appends the gap; a late one is
 * found by binary search and removed.  The array is bounded
 * (PL_NACK_MAX_MISSING): a gap larger than that is not worth repairing
 * (the caller asks for a keyframe instead), and when the array is full the
 * oldest entries, the least likely to arrive in time, make room.  Each
 * entry remembers when it went missing and when it was last NACKed, which
 * is all the scheduling needs: the first NACK waits out the reordering
 * tolerance, the next ones wait an RTT, and an entry leaves after
 * max_retries unanswered NACKs or max_age_us.  Removal from the middle is
 * a memmove of at most 6 KiB and happens once per recovered packet.
 *
 * Send side.  The buffer indexes packets by sequence number modulo a
 * power-of-two slot count and stores their bytes in a ring arena.  Bytes
 * are written at a monotonically growing absolute offset (a packet that
 * would straddle the end of the arena starts again at its beginning), so
 * a stored packet at offset pos is intact exactly while head - pos <=
 * arena_bytes: any write that reaches its bytes again must start at or
 * after pos + arena_bytes.  Slots remember the extended sequence number,
 * so a slot left over from an older lap never answers for a newer one.
 *
 * RTX.  RFC 4588 section 4: the retransmission carries the original
 * header except payload type, SSRC and sequence number (those of the RTX
 * stream), and the payload is the original sequence number followed by
 * the original payload.
 *
 * Every object belongs to the worker thread of its stream.
 */
#include "media/nack.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "media/rtp.h"

#define EXT_START 0x10000u
#define DEFAULT_REORDER_US 15000
#define DEFAULT_MAX_RETRIES 10
#define DEFAULT_MAX_AGE_US 1000000

static inline int32_t diff32(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* ---- Receive side ------------------------------------------------------- */

void pl_nack_rx_init(struct pl_nack_rx *rx, const struct pl_nack_rx_config *cfg)
{
	memset(rx, 0, sizeof(*rx));
	if (cfg)
		rx->cfg = *cfg;
	if (rx->cfg.reorder_us <= 0)
		rx->cfg.reorder_us = DEFAULT_REORDER_US;
	if (rx->cfg.max_retries == 0)
		rx->cfg.max_retries = DEFAULT_MAX_RETRIES;
	if (rx->cfg.max_age_us <= 0)
		rx->cfg.max_age_us = DEFAULT_MAX_AGE_US;
}

static void rx_restart(struct pl_nack_rx *rx, uint16_t seq)
{
	rx->given_up += rx->n;
	rx->n = 0;
	rx->started = true;
	rx->has_bad = false;
	rx->max_ext = EXT_START + seq;
}

/* Index of the first entry >= ext. */
static size_t rx_lower_bound(const struct pl_nack_rx *rx, uint32_t ext)
{
	size_t lo = 0, hi = rx->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (diff32(rx->missing[mid].ext, ext) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void rx_remove(struct pl_nack_rx *rx, size_t i)
{
	memmove(rx->missing + i, rx->missing + i + 1, sizeof(rx->missing[0]) * (rx->n - i - 1));
	rx->n--;
}

/* Appends the gap (max_ext, ext) as missing; PL_ETOOBIG when some of it,
 * or older entries, had to be given up.  The k-th of the gap's g packets
 * is taken to have been due at max_us + (now - max_us) * k / (g + 1);
 * those already max_age_us old are given up, not tracked. */
static int rx_add_gap(struct pl_nack_rx *rx, uint32_t ext, int64_t now_us)
{
	uint32_t gap = ext - rx->max_ext - 1;
	int64_t span = now_us - rx->max_us;
	uint32_t stale = 0;
	int rc = 0;

	if (gap == 0)
		return 0;
	if (span > rx->cfg.max_age_us) {
		/* due(k) <= now - max_age  <=>  k <= (span - max_age) (g + 1) / span */
		stale = (uint32_t)(((span - rx->cfg.max_age_us) * (int64_t)(gap + 1)) / span);
		if (stale > gap)
			stale = gap;
		rx->given_up += stale;
		gap -= stale;
		rc = stale ? PL_ETOOBIG : 0;
	}

	if (gap > PL_NACK_MAX_MISSING) {
		rx->resets++;
		rx->given_up += rx->n;
		rx->n = 0;
		return PL_ETOOBIG;
	}
	if (rx->n + gap > PL_NACK_MAX_MISSING) {
		size_t drop = rx->n + gap - PL_NACK_MAX_MISSING;

		memmove(rx->missing, rx->missing + drop, sizeof(rx->missing[0]) * (rx->n - drop));
		rx->n = (uint16_t)(rx->n - drop);
		rx->given_up += drop;
		rc = PL_ETOOBIG;
	}
	for (uint32_t s = rx->max_ext + 1 + stale; s != ext; s++)
		rx->missing[rx->n++] = (struct pl_nack_missing){ s, 0, now_us, 0 };
	return rc;
}

int pl_nack_rx_on_packet(struct pl_nack_rx *rx, uint16_t seq, int64_t now_us)
{
	uint32_t ext;
	int16_t d;
	size_t i;
	int rc;

	if (!rx->started) {
		rx_restart(rx, seq);
		rx->max_us = now_us;
		return 0;
	}
	d = (int16_t)(seq - (uint16_t)rx->max_ext);
	ext = rx->max_ext + (uint32_t)(int32_t)d;
	if (d > 0) {
		rc = rx_add_gap(rx, ext, now_us);
		rx->max_ext = ext;
		rx->max_us = now_us;
		rx->has_bad = false;
		return rc;
	}
	if (d < -PL_NACK_MAX_MISORDER) {
		/* Far behind: a restart of the numbering if the next packet
		 * follows this one, else a stray. */
		if (rx->has_bad && seq == rx->bad_seq) {
			rx->resets++;
			rx_restart(rx, seq);
			rx->max_us = now_us;
			return PL_ETOOBIG;
		}
		rx->bad_seq = (uint16_t)(seq + 1);
		rx->has_bad = true;
		return 0;
	}
	i = rx_lower_bound(rx, ext);
	if (i < rx->n && rx->missing[i].ext == ext) {
		rx_remove(rx, i);
		rx->recovered++;
	}
	return 0;
}

static int64_t retry_interval_us(uint32_t rtt_ms)
{
	if (rtt_ms == 0)
		rtt_ms = PL_NACK_DEFAULT_RTT_MS;
	if (rtt_ms < 10)
		rtt_ms = 10;
	if (rtt_ms > 1000)
		rtt_ms = 1000;
	return (int64_t)rtt_ms * 1000;
}

/* When entry m next needs attention: its next NACK, or its end. */
static int64_t entry_due_us(const struct pl_nack_rx *rx, const struct pl_nack_missing *m,
			    int64_t interval_us)
{
	int64_t due = m->retries == 0 ? m->since_us + rx->cfg.reorder_us : m->sent_us + interval_us;
	int64_t end = m->since_us + rx->cfg.max_age_us;

	return due < end ? due : end;
}

int pl_nack_rx_collect(struct pl_nack_rx *rx, int64_t now_us, uint32_t rtt_ms, uint16_t *seqs,
		       size_t cap, size_t *n)
{
	int64_t interval = retry_interval_us(rtt_ms);
	size_t out = 0, keep = 0;

	for (size_t i = 0; i < rx->n; i++) {
		struct pl_nack_missing m = rx->missing[i];

		if (now_us - m.since_us >= rx->cfg.max_age_us) {
			rx->given_up++;
			continue;
		}
		if (out < cap && now_us >= entry_due_us(rx, &m, interval)) {
			if (m.retries >= rx->cfg.max_retries) {
				rx->given_up++;         /* the last NACK went unanswered */
				continue;
			}
			seqs[out++] = (uint16_t)m.ext;
			m.retries++;
			m.sent_us = now_us;
		}
		rx->missing[keep++] = m;
	}
	rx->n = (uint16_t)keep;
	rx->nacked += out;
	*n = out;
	return 0;
}

int64_t pl_nack_rx_next_due_us(const struct pl_nack_rx *rx, uint32_t rtt_ms)
{
	int64_t interval = retry_interval_us(rtt_ms), next = INT64_MAX;

	for (size_t i = 0; i < rx->n; i++) {
		int64_t due = entry_due_us(rx, &rx->missing[i], interval);

		if (due < next)
			next = due;
	}
	return next;
}

/* ---- Send side ---------------------------------------------------------- */

static bool valid_sizes(size_t n_slots, size_t arena_bytes)
{
	return n_slots >= 16 && n_slots <= 32768 && (n_slots & (n_slots - 1)) == 0 &&
	       arena_bytes >= PL_RTX_MAX_PACKET_BYTES;
}

int pl_rtx_buf_init(struct pl_rtx_buf *b, struct pl_rtx_slot *slots, size_t n_slots,
		    uint8_t *arena, size_t arena_bytes)
{
	if (!slots || !arena || !valid_sizes(n_slots, arena_bytes))
		return PL_EINVAL;
	memset(b, 0, sizeof(*b));
	memset(slots, 0, sizeof(slots[0]) * n_slots);
	b->slots = slots;
	b->n_slots = n_slots;
	b->arena = arena;
	b->arena_bytes = arena_bytes;
	b->max_age_us = PL_RTX_DEFAULT_MAX_AGE_US;
	return 0;
}

struct pl_rtx_buf *pl_rtx_buf_create(size_t n_slots, size_t arena_bytes)
{
	struct pl_rtx_buf *b;
	struct pl_rtx_slot *slots;

	if (!valid_sizes(n_slots, arena_bytes))
		return NULL;
	/* One block: the struct, the slots, the arena.  The struct's size
	 * is a multiple of its 8-byte alignment, which the slots need. */
	b = malloc(sizeof(*b) + sizeof(*slots) * n_slots + arena_bytes);
	if (!b)
		abort();
	slots = (struct pl_rtx_slot *)(b + 1);
	pl_rtx_buf_init(b, slots, n_slots, (uint8_t *)(slots + n_slots), arena_bytes);
	b->owned = true;
	return b;
}

void pl_rtx_buf_destroy(struct pl_rtx_buf *b)
{
	if (b && b->owned)
		free(b);
}

/* Extends seq against the newest stored. */
static uint32_t buf_ext(const struct pl_rtx_buf *b, uint16_t seq)
{
	return b->max_ext + (uint32_t)(int32_t)(int16_t)(seq - (uint16_t)b->max_ext);
}

int pl_rtx_buf_put(struct pl_rtx_buf *b, uint16_t seq, const uint8_t *pkt, size_t len,
		   int64_t now_us)
{
	struct pl_rtx_slot *s;
	size_t at;
	uint32_t ext;

	if (len == 0)
		return PL_EINVAL;
	if (len > PL_RTX_MAX_PACKET_BYTES)
		return PL_ETOOBIG;
	if (!b->has_max) {
		b->has_max = true;
		b->max_ext = EXT_START + seq;
	}
	ext = buf_ext(b, seq);
	if (diff32(b->max_ext, ext) >= (int32_t)b->n_slots)
		return PL_EEXPIRED;
	if (diff32(ext, b->max_ext) > 0)
		b->max_ext = ext;
	at = (size_t)(b->head % b->arena_bytes);
	if (at + len > b->arena_bytes)
		b->head += b->arena_bytes - at;         /* wrap to the start */
	s = &b->slots[seq & (b->n_slots - 1)];
	s->pos = b->head;
	s->sent_us = now_us;
	s->resent = false;
	s->ext = ext;
	s->len = (uint16_t)len;
	memcpy(b->arena + b->head % b->arena_bytes, pkt, len);
	b->head += len;
	return 0;
}

static int buf_refuse(uint64_t *counter, int rc)
{
	(*counter)++;
	return rc;
}

/* The slot holding seq, or an error (counted) when it is not held. */
static int buf_lookup(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, struct pl_rtx_slot **out)
{
	struct pl_rtx_slot *s;
	uint32_t ext;

	if (!b->has_max)
		return buf_refuse(&b->refused_unknown, PL_ENOENT);
	ext = buf_ext(b, seq);
	if (diff32(ext, b->max_ext) > 0)
		return buf_refuse(&b->refused_unknown, PL_ENOENT);
	if (diff32(b->max_ext, ext) >= (int32_t)b->n_slots)
		return buf_refuse(&b->refused_old, PL_EEXPIRED);
	s = &b->slots[seq & (b->n_slots - 1)];
	if (s->len == 0 || s->ext != ext)
		return buf_refuse(&b->refused_unknown, PL_ENOENT);
	if (b->head - s->pos > b->arena_bytes || now_us - s->sent_us > b->max_age_us)
		return buf_refuse(&b->refused_old, PL_EEXPIRED);
	*out = s;
	return 0;
}

int pl_rtx_buf_get(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, uint32_t rtt_ms,
		   const uint8_t **pkt, size_t *len)
{
	int64_t window = (int64_t)rtt_ms * 500;
	struct pl_rtx_slot *s;
	int rc = buf_lookup(b, seq, now_us, &s);

	if (rc < 0)
		return rc;
	if (window < PL_RTX_MIN_RESEND_INTERVAL_US)
		window = PL_RTX_MIN_RESEND_INTERVAL_US;
	if (s->resent && now_us - s->resent_us < window)
		return buf_refuse(&b->refused_dup, PL_EEXIST);
	s->resent = true;
	s->resent_us = now_us;
	b->resent++;
	*pkt = b->arena + s->pos % b->arena_bytes;
	*len = s->len;
	return 0;
}

int pl_rtx_buf_peek(struct pl_rtx_buf *b, uint16_t seq, int64_t now_us, const uint8_t **pkt,
		    size_t *len)
{
	struct pl_rtx_slot *s;
	int rc = buf_lookup(b, seq, now_us, &s);

	if (rc < 0)
		return rc;
	*pkt = b->arena + s->pos % b->arena_bytes;
	*len = s->len;
	return 0;
}

/* ---- RTX packets -------------------------------------------------------- */

void pl_rtx_stream_init(struct pl_rtx_stream *s, uint32_t ssrc, uint8_t pt, uint16_t first_seq)
{
	s->ssrc = ssrc;
	s->pt = pt;
	s->seq = first_seq;
}

int pl_rtx_stream_write(struct pl_rtx_stream *s, const uint8_t *pkt, size_t len, uint8_t *buf,
			size_t cap, size_t *out_len)
{
	struct pl_rtp_view v;
	size_t total;
	int rc;

	rc = pl_rtp_parse(pkt, len, &v);
	if (rc)
		return rc;
	total = v.header_len + 2 + v.payload_len;
	if (total > cap)
		return PL_ETOOBIG;
	memmove(buf + v.header_len + 2, v.payload, v.payload_len); /* buf may be pkt */
	if (buf != pkt)
		memcpy(buf, pkt, v.header_len);
	buf[0] &= (uint8_t)~0x20;                       /* no padding */
	buf[1] = (uint8_t)((v.marker ? 0x80 : 0) | (s->pt & 0x7f));
	pl_wr16(buf + 2, s->seq);
	pl_wr32(buf + 8, s->ssrc);
	pl_wr16(buf + v.header_len, v.seq);             /* OSN */
	s->seq++;
	*out_len = total;
	return 0;
}

int pl_rtx_unwrap(uint8_t *buf, size_t *len, uint32_t media_ssrc, uint8_t media_pt)
{
	struct pl_rtp_view v;
	int rc;

	rc = pl_rtp_parse(buf, *len, &v);
	if (rc)
		return rc;
	if (v.payload_len < 2)
		return PL_ETRUNC;
	buf[0] &= (uint8_t)~0x20;
	buf[1] = (uint8_t)((v.marker ? 0x80 : 0) | (media_pt & 0x7f));
	memcpy(buf + 2, v.payload, 2);                  /* OSN -> seq */
	pl_wr32(buf + 8, media_ssrc);
	memmove(buf + v.header_len, v.payload + 2, v.payload_len - 2);
	*len = v.header_len + v.payload_len - 2;
	return 0;
}
