/* client/impair.c: one direction of an emulated lossy, slow, late link.
 *
 * A datagram's fate is decided entirely when it is pushed: the loss model
 * draws, the token bucket computes when it leaves the rate queue (a
 * virtual clock: no per-byte work later), and the delay line adds the
 * delay and jitter.  What remains is a due time, so the waiting datagrams
 * sit in one binary min-heap ordered by (due time, arrival number); with
 * order kept the due times never decrease and the heap behaves as a FIFO.
 * The caller (client_impair.c on the client's GLib loop, or a unit test
 * with a fake clock) pops what is due.
 *
 * The rate queue's occupancy is derived from the virtual clock: the bytes
 * still to serialise are (free time - now) * rate.  That is exact for a
 * FIFO fed through one token bucket, which is what this is.
 *
 * Random numbers: splitmix64, one stream for losses and one for jitter,
 * both seeded from (seed, salt).  Owned by the caller; one thread.
 */
#include "client/impair.h"
#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 1000
#define DEFAULT_SEED 1

struct entry {
	int64_t due_us, in_us;
	uint64_t order;
	void *tag;
	uint8_t *data;
	uint32_t len;
};

struct pl_impair {
	struct pl_impair_config cfg;
	double p_gb, p_bg;            /* Gilbert-Elliott transitions */
	bool bad;                     /* in the bad (losing) state */
	uint64_t rng_loss, rng_jitter;
	/* Token bucket on a virtual clock. */
	double tokens;                /* bytes, at tb_time_us */
	int64_t tb_time_us, tb_free_us;
	int64_t last_due_us;
	uint64_t order;
	struct entry *heap;
	uint32_t n, cap;
	uint8_t **spare;              /* recycled buffers */
	uint32_t n_spare;
	struct pl_impair_stats st;
};

/* ---- spec parsing ---------------------------------------------------------- */

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return PL_EINVAL;
}

struct unit {
	const char *name;
	double mul;
};

static const struct unit time_units[] = { { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "", 1e3 }, { NULL, 0 } };
static const struct unit rate_units[] = {
	{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
	{ "bps", 1 }, { "kbps", 1e3 }, { "mbps", 1e6 }, { "", 1 }, { NULL, 0 },
};
static const struct unit byte_units[] = {
	{ "b", 1 }, { "kb", 1e3 }, { "kib", 1024 }, { "mb", 1e6 }, { "mib", 1048576 }, { "", 1 },
	{ NULL, 0 },
};
static const struct unit pct_units[] = { { "%", 0.01 }, { "", 0.01 }, { NULL, 0 } };

/* A non-negative decimal number followed by one of units (case-insensitive). */
static int parse_num(const char *v, const struct unit *units, double *out)
{
	char *end;
	double x;

	if (!isdigit((unsigned char)*v) && *v != '.')
		return PL_EINVAL;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || !isfinite(x) || x < 0)
		return PL_EINVAL;
	for (const struct unit *u = units; u->name; u++)
		if (strcasecmp(end, u->name) == 0) {
			*out = x * u->mul;
			return 0;
		}
	return PL_EINVAL;
}

static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
		*out = false;
	else
		return PL_EINVAL;
	return 0;
}

enum key { K_LOSS, K_BURST, K_DELAY, K_JITTER, K_RATE, K_QUEUE, K_BUCKET, K_LIMIT, K_SEED,
	   K_REORDER, K_SPARE, K_COUNT };
static const char *const key_names[K_COUNT] = {
	"loss", "burst", "delay", "jitter", "rate", "queue", "bucket", "limit", "seed", "reorder", "spare",
};

static int set_key(enum key k, const char *v, struct pl_impair_config *cfg)
{
	double x;
	char *end;

	switch (k) {
	case K_LOSS:
		if (parse_num(v, pct_units, &x) < 0 || x > 0.99)
			return PL_EINVAL;
		cfg->loss = x;
		return 0;
	case K_BURST:
		if (parse_num(v, (const struct unit[]){ { "", 1 }, { NULL, 0 } }, &x) < 0 || x < 1 ||
		    x > 1000)
			return PL_EINVAL;
		cfg->burst = x;
		return 0;
	case K_DELAY:
	case K_JITTER:
		if (parse_num(v, time_units, &x) < 0 || x > 10e6)
			return PL_EINVAL;
		*(k == K_DELAY ? &cfg->delay_us : &cfg->jitter_us) = (int64_t)llround(x);
		return 0;
	case K_RATE:
		if (parse_num(v, rate_units, &x) < 0 || x < 8000 || x > 100e9)
			return PL_EINVAL;
		cfg->rate_bps = (uint64_t)llround(x);
		return 0;
	case K_QUEUE:
	case K_BUCKET:
		if (parse_num(v, byte_units, &x) < 0 || x < 1500 || x > 1e9)
			return PL_EINVAL;
		*(k == K_QUEUE ? &cfg->queue_bytes : &cfg->bucket_bytes) = (uint64_t)llround(x);
		return 0;
	case K_LIMIT:
		if (parse_num(v, (const struct unit[]){ { "", 1 }, { NULL, 0 } }, &x) < 0 || x < 1 ||
		    x > PL_IMPAIR_MAX_LIMIT || x != floor(x))
			return PL_EINVAL;
		cfg->limit = (uint32_t)x;
		return 0;
	case K_SEED:
		if (!isdigit((unsigned char)*v))
			return PL_EINVAL;
		errno = 0;
		cfg->seed = strtoull(v, &end, 10);
		cfg->has_seed = true;
		return errno || *end ? PL_EINVAL : 0;
	case K_REORDER:
		return parse_onoff(v, &cfg->reorder);
	case K_SPARE:
		if (strcmp(v, "dtls") != 0)
			return PL_EINVAL;
		cfg->spare_dtls = true;
		return 0;
	default:
		return PL_EINVAL;
	}
}

int pl_impair_parse(const char *spec, struct pl_impair_config *cfg, char *err, size_t err_cap)
{
	bool seen[K_COUNT] = { false };
	char item[128];
	const char *p = spec;

	memset(cfg, 0, sizeof(*cfg));
	if (err && err_cap)
		err[0] = '\0';
	if (!spec || !*spec)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *eq, *key, *val;
		int k;

		if (n == 0)
			return fail(err, err_cap, "empty item in '%s'", spec);
		if (n >= sizeof(item))
			return fail(err, err_cap, "item too long");
		memcpy(item, p, n);
		item[n] = '\0';
		p += n + (p[n] == ',');
		if (p[-1] == ',' && !*p)
			return fail(err, err_cap, "trailing ',' in '%s'", spec);
		if (!(eq = strchr(item, '=')))
			return fail(err, err_cap, "'%s' is not KEY=VALUE", item);
		*eq = '\0';
		key = item, val = eq + 1;
		for (k = 0; k < K_COUNT && strcmp(key, key_names[k]) != 0; k++)
			;
		if (k == K_COUNT)
			return fail(err, err_cap, "unknown key '%s' (loss burst delay jitter rate queue "
				    "bucket limit seed reorder spare)", key);
		if (seen[k])
			return fail(err, err_cap, "'%s' given twice", key);
		seen[k] = true;
		if (!*val || set_key((enum key)k, val, cfg) < 0)
			return fail(err, err_cap, "bad value '%s' for %s", val, key);
	}
	if (cfg->burst > 0 && cfg->loss > 0 && cfg->loss / (cfg->burst * (1 - cfg->loss)) > 1)
		return fail(err, err_cap, "loss %.1f%% is too high for a mean burst of %g",
			    cfg->loss * 100, cfg->burst);
	if (cfg->burst > 0 && cfg->loss == 0)
		return fail(err, err_cap, "burst needs loss");
	if ((seen[K_QUEUE] || seen[K_BUCKET]) && !cfg->rate_bps)
		return fail(err, err_cap, "queue and bucket need rate");
	return 0;
}

bool pl_impair_is_active(const struct pl_impair_config *cfg)
{
	return cfg->loss > 0 || cfg->delay_us > 0 || cfg->jitter_us > 0 || cfg->rate_bps > 0;
}

/* ---- random numbers --------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static double uniform(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* ---- the stage --------------------------------------------------------------- */

int pl_impair_create(const struct pl_impair_config *cfg, uint64_t salt, struct pl_impair **out)
{
	struct pl_impair *im;
	uint64_t seed;

	*out = NULL;
	if (cfg->loss < 0 || cfg->loss >= 1 || (cfg->burst != 0 && cfg->burst < 1) ||
	    cfg->delay_us < 0 || cfg->jitter_us < 0 || cfg->limit > PL_IMPAIR_MAX_LIMIT)
		return PL_EINVAL;
	if (cfg->burst >= 1 && cfg->loss / (cfg->burst * (1 - cfg->loss)) > 1)
		return PL_EINVAL;
	if (!(im = calloc(1, sizeof(*im))))
		return PL_ENOMEM;
	im->cfg = *cfg;
	if (!im->cfg.limit)
		im->cfg.limit = DEFAULT_LIMIT;
	if (im->cfg.rate_bps) {
		/* 200 ms of queue and 5 ms of burst at the rate, as a modest
		 * access router would have. */
		if (!im->cfg.queue_bytes)
			im->cfg.queue_bytes = cfg->rate_bps / 40 > 6000 ? cfg->rate_bps / 40 : 6000;
		if (!im->cfg.bucket_bytes)
			im->cfg.bucket_bytes = cfg->rate_bps / 1600 > 1500 ? cfg->rate_bps / 1600 : 1500;
		im->tokens = (double)im->cfg.bucket_bytes;
	}
	if (cfg->burst >= 1) {
		im->p_bg = 1.0 / cfg->burst;
		im->p_gb = cfg->loss / (cfg->burst * (1 - cfg->loss));
	}
	seed = cfg->has_seed ? cfg->seed : DEFAULT_SEED;
	im->rng_loss = seed ^ (salt * 0x9e3779b97f4a7c15ull);
	splitmix64(&im->rng_loss);
	im->rng_jitter = im->rng_loss ^ 0xd1b54a32d192ed03ull;
	im->tb_time_us = im->tb_free_us = INT64_MIN;
	im->last_due_us = INT64_MIN;
	im->cap = im->cfg.limit;
	im->heap = calloc(im->cap, sizeof(*im->heap));
	im->spare = calloc(im->cap, sizeof(*im->spare));
	if (!im->heap || !im->spare) {
		pl_impair_destroy(im);
		return PL_ENOMEM;
	}
	*out = im;
	return 0;
}

void pl_impair_destroy(struct pl_impair *im)
{
	if (!im)
		return;
	for (uint32_t i = 0; im->heap && i < im->n; i++)
		free(im->heap[i].data);
	for (uint32_t i = 0; i < im->n_spare; i++)
		free(im->spare[i]);
	free(im->heap);
	free(im->spare);
	free(im);
}

static bool lose(struct pl_impair *im)
{
	if (im->cfg.loss <= 0)
		return false;
	if (im->cfg.burst < 1)
		return uniform(&im->rng_loss) < im->cfg.loss;
	/* Transition first, then the state decides: the chain's stationary
	 * loss is p_gb / (p_gb + p_bg) = loss. */
	if (im->bad)
		im->bad = uniform(&im->rng_loss) >= im->p_bg;
	else
		im->bad = uniform(&im->rng_loss) < im->p_gb;
	return im->bad;
}

/* When a datagram of len bytes arriving at now leaves the token bucket,
 * or -1 when the rate queue cannot take it.  Commits the bucket state. */
static int64_t rate_depart(struct pl_impair *im, int64_t now, size_t len)
{
	double rate_Bpus = (double)im->cfg.rate_bps / 8e6, tokens;
	int64_t start, depart;

	if (!im->cfg.rate_bps)
		return now;
	if (im->tb_free_us > now &&
	    (double)(im->tb_free_us - now) * rate_Bpus + (double)len > (double)im->cfg.queue_bytes)
		return -1;
	start = im->tb_free_us > now ? im->tb_free_us : now;
	tokens = im->tokens;
	if (im->tb_time_us != INT64_MIN)
		tokens += (double)(start - im->tb_time_us) * rate_Bpus;
	if (tokens > (double)im->cfg.bucket_bytes)
		tokens = (double)im->cfg.bucket_bytes;
	if (tokens >= (double)len) {
		depart = start;
		tokens -= (double)len;
	} else {
		depart = start + (int64_t)ceil(((double)len - tokens) / rate_Bpus);
		tokens = 0;
	}
	im->tokens = tokens;
	im->tb_time_us = im->tb_free_us = depart;
	return depart;
}

static bool before(const struct entry *a, const struct entry *b)
{
	return a->due_us < b->due_us || (a->due_us == b->due_us && a->order < b->order);
}

static void sift_up(struct pl_impair *im, uint32_t i)
{
	struct entry e = im->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(&e, &im->heap[parent]))
			break;
		im->heap[i] = im->heap[parent];
		i = parent;
	}
	im->heap[i] = e;
}

static void sift_down(struct pl_impair *im, uint32_t i)
{
	struct entry e = im->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		const struct entry *best = &e;

		if (l < im->n && before(&im->heap[l], best))
			m = l, best = &im->heap[l];
		if (l + 1 < im->n && before(&im->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		im->heap[i] = im->heap[m];
		i = m;
	}
	im->heap[i] = e;
}

static void delivered(struct pl_impair *im, int64_t in_us, int64_t out_us, size_t len)
{
	uint64_t d = out_us > in_us ? (uint64_t)(out_us - in_us) : 0;

	im->st.delivered++;
	im->st.bytes_delivered += len;
	im->st.delay_sum_us += d;
	if (d > im->st.delay_max_us)
		im->st.delay_max_us = d;
}

enum pl_impair_verdict pl_impair_push(struct pl_impair *im, int64_t now_us, const uint8_t *buf,
				      size_t len, void *tag)
{
	int64_t depart, due, j = im->cfg.jitter_us;
	struct entry *e;

	im->st.packets++;
	if (lose(im)) {
		im->st.lost++;
		return PL_IMPAIR_LOST;
	}
	if (len > PL_IMPAIR_MAX_DGRAM || (im->n == im->cap) ||
	    (depart = rate_depart(im, now_us, len)) < 0) {
		im->st.overflow++;
		return PL_IMPAIR_OVERFLOW;
	}
	due = depart + im->cfg.delay_us;
	if (j > 0)
		due += (int64_t)floor(uniform(&im->rng_jitter) * (double)(2 * j + 1)) - j;
	if (due < depart)
		due = depart;
	if (!im->cfg.reorder && due < im->last_due_us)
		due = im->last_due_us;      /* a queue keeps its order */
	im->last_due_us = due;
	if (due <= now_us && im->n == 0) {
		delivered(im, now_us, now_us, len);
		return PL_IMPAIR_PASS;
	}
	e = &im->heap[im->n];
	e->data = im->n_spare ? im->spare[--im->n_spare] : malloc(PL_IMPAIR_MAX_DGRAM);
	if (!e->data) {
		im->st.overflow++;
		return PL_IMPAIR_OVERFLOW;
	}
	memcpy(e->data, buf, len);
	e->len = (uint32_t)len;
	e->due_us = due;
	e->in_us = now_us;
	e->order = im->order++;
	e->tag = tag;
	im->n++;
	sift_up(im, im->n - 1);
	if (im->n > im->st.queued_max)
		im->st.queued_max = im->n;
	return PL_IMPAIR_QUEUED;
}

int64_t pl_impair_next_us(const struct pl_impair *im)
{
	return im->n ? im->heap[0].due_us : INT64_MAX;
}

/* Removes the heap's root, recycling its buffer. */
static void pop_root(struct pl_impair *im)
{
	im->spare[im->n_spare++] = im->heap[0].data;
	im->heap[0] = im->heap[--im->n];
	if (im->n)
		sift_down(im, 0);
}

size_t pl_impair_pop(struct pl_impair *im, int64_t now_us, uint8_t *buf, size_t cap, void **tag)
{
	struct entry *e = &im->heap[0];
	size_t len;

	if (!im->n || e->due_us > now_us || cap < e->len)
		return 0;
	len = e->len;
	memcpy(buf, e->data, len);
	*tag = e->tag;
	delivered(im, e->in_us, now_us, len);
	pop_root(im);
	return len;
}

size_t pl_impair_purge(struct pl_impair *im, const void *tag)
{
	size_t gone = 0;
	uint32_t i = 0;

	while (i < im->n) {
		if (im->heap[i].tag != tag) {
			i++;
			continue;
		}
		im->spare[im->n_spare++] = im->heap[i].data;
		im->heap[i] = im->heap[--im->n];
		gone++;
	}
	/* Rebuild the heap (purges are rare: a connection closing). */
	for (uint32_t k = im->n / 2; k-- > 0;)
		sift_down(im, k);
	im->st.purged += gone;
	return gone;
}

void pl_impair_get_stats(const struct pl_impair *im, struct pl_impair_stats *st)
{
	*st = im->st;
	st->queued = im->n;
}
