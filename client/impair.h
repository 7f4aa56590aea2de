/* client/impair.h: a deterministic network impairment stage.
 *
 * One direction of an emulated link (this kernel has no netem): datagrams
 * go in with pl_impair_push() and come out, later or never, through
 * pl_impair_pop().  The stages, in the order a datagram meets them:
 *
 *   1. loss: independent (Bernoulli) with probability loss, or, when a
 *      mean burst length is given, a two-state Gilbert-Elliott chain whose
 *      bad state loses every datagram and good state none, with
 *      P(bad -> good) = 1 / burst and P(good -> bad) = loss / (burst (1 -
 *      loss)), so that the long-run loss is `loss` and the mean run of
 *      consecutive losses is `burst` datagrams;
 *   2. rate: a token bucket of `rate` bit/s and `bucket` bytes feeding a
 *      FIFO bounded at `queue` bytes; a datagram that does not fit is
 *      dropped (tail drop, counted as overflow);
 *   3. delay line: each datagram leaves its rate queue, then waits delay
 *      plus a uniform jitter in [-jitter, +jitter] (never below zero).
 *      By default order is kept, as in a real queue: a datagram never
 *      leaves before the one ahead of it (so it may wait a little longer
 *      than its own draw, never longer than delay + jitter).  `reorder=on`
 *      releases each datagram at its own time instead.
 *
 * Determinism: every random draw comes from a generator seeded by `seed`
 * (default 1) and a salt for the direction; losses and jitter use separate
 * streams, so the same seed gives the same losses whatever the delay
 * settings.  Nothing reads a clock: the caller passes the time.
 *
 * Memory is bounded: at most `limit` datagrams (default 1000) of at most
 * PL_IMPAIR_MAX_DGRAM bytes wait in the stage; buffers are recycled.
 *
 * Spec strings: "loss=5%,burst=3,delay=50ms,jitter=20ms,rate=1mbit,seed=N"
 * and also queue=BYTES (b, kb, kib, mb; default 200 ms at the rate, at
 * least 6000 bytes), bucket=BYTES (default 5 ms at the rate, at least
 * 1500), limit=N, reorder=on|off, spare=dtls (a flag the client reads:
 * leave the DTLS handshake unimpaired).  Times take us, ms or s (a bare
 * number is milliseconds); rates bit, kbit, mbit, gbit (bare: bit/s);
 * loss takes an optional % (always a percentage).  Keys may not repeat.
 *
 * An object belongs to one thread; functions are not reentrant.
 * Errors: 0 or a negative PL_E* code (common/err.h).
 */
#ifndef PL_CLIENT_IMPAIR_H
#define PL_CLIENT_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_IMPAIR_MAX_DGRAM 2048
#define PL_IMPAIR_MAX_LIMIT 100000

struct pl_impair;

struct pl_impair_config {
	double loss;                 /* probability 0..1 (parsed from a %) */
	double burst;                /* mean loss burst, datagrams; 0: random loss */
	int64_t delay_us, jitter_us;
	uint64_t rate_bps;           /* 0: unlimited */
	uint64_t queue_bytes;        /* 0: the default for the rate */
	uint64_t bucket_bytes;       /* 0: the default for the rate */
	uint32_t limit;              /* 0: 1000 */
	uint64_t seed;               /* 0 is a valid seed; see has_seed */
	bool has_seed;
	bool reorder;
	bool spare_dtls;
};

/* Parses spec into *cfg (zeroed first).  NULL or "" is no impairment.
 * On error, err (may be NULL) gets a one-line reason.  Returns 0 or
 * PL_EINVAL. */
int pl_impair_parse(const char *spec, struct pl_impair_config *cfg, char *err, size_t err_cap);

/* True when cfg changes anything (loss, delay, jitter or rate). */
bool pl_impair_is_active(const struct pl_impair_config *cfg);

/* salt separates the random streams of stages sharing a seed (e.g. the
 * two directions of one link).  Returns 0, PL_EINVAL (out of range, e.g.
 * loss too high for the burst length) or PL_ENOMEM. */
int pl_impair_create(const struct pl_impair_config *cfg, uint64_t salt, struct pl_impair **out);
/* NULL is a no-op.  Queued datagrams are discarded. */
void pl_impair_destroy(struct pl_impair *im);

enum pl_impair_verdict {
	PL_IMPAIR_PASS = 0,          /* due now and nothing ahead: deliver it now */
	PL_IMPAIR_QUEUED,            /* copied; pl_impair_pop() returns it later */
	PL_IMPAIR_LOST,              /* dropped by the loss model */
	PL_IMPAIR_OVERFLOW,          /* dropped: rate queue or delay line full */
};

/* Offers one datagram at now_us.  tag is returned with it (and used by
 * pl_impair_purge).  The caller keeps buf. */
enum pl_impair_verdict pl_impair_push(struct pl_impair *im, int64_t now_us, const uint8_t *buf,
				      size_t len, void *tag);

/* When the next queued datagram is due; INT64_MAX when none waits. */
int64_t pl_impair_next_us(const struct pl_impair *im);

/* Takes the next datagram due at or before now_us: copies it to buf (cap
 * at least PL_IMPAIR_MAX_DGRAM), *tag gets its tag.  Returns its length,
 * 0 when none is due. */
size_t pl_impair_pop(struct pl_impair *im, int64_t now_us, uint8_t *buf, size_t cap, void **tag);

/* Discards every queued datagram carrying tag (its sender went away).
 * Returns how many. */
size_t pl_impair_purge(struct pl_impair *im, const void *tag);

struct pl_impair_stats {
	uint64_t packets;            /* offered */
	uint64_t delivered;          /* passed at once or popped */
	uint64_t lost, overflow, purged;
	uint64_t bytes_delivered;
	uint64_t delay_sum_us;       /* over delivered datagrams */
	uint64_t delay_max_us;
	uint32_t queued, queued_max; /* datagrams waiting now / at most */
};

void pl_impair_get_stats(const struct pl_impair *im, struct pl_impair_stats *st);

#endif
