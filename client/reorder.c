/* client/reorder.c: the receiver's reorder buffer for VP8 frames.
 *
 * Packets sit in a ring of slots indexed by extended sequence number
 * modulo n_slots.  The window runs from next_ext (the oldest sequence
 * number not yet handed out or dropped) to max_ext (the newest received);
 * every sequence number in it owns its slot, either as a packet (media,
 * filler, bad) or as a hole that records when it was found missing (the
 * arrival of the packet that jumped over it).  That time is what a hole's
 * wait is measured from, so a hole repaired by NACK/RTX within wait_us
 * costs only its own delay, never the frame.
 *
 * pop walks from next_ext: a complete frame at the head comes out; a hole
 * older than the wait is given up; packets that cannot start a frame
 * (their frame's start is gone) are dropped.  "broken" says the head is
 * inside a frame already given up, so that a lost frame counts once however
 * many of its packets are dropped; need_key holds from a loss until a
 * keyframe comes out, and complete delta frames are dropped meanwhile.
 *
 * Owned by one thread; the caller passes the time.  Allocation: the ring
 * at create, the assembly buffer when a frame is larger than any before.
 */
#include "client/reorder.h"
#include "codecs/vp8.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

enum kind { K_HOLE, K_MEDIA, K_FILLER, K_BAD };

struct slot {
	uint32_t ext;                   /* the sequence number owning the slot */
	uint32_t ts;
	int64_t at_us;                  /* arrival, or when a hole was found */
	uint16_t len;                   /* VP8 payload bytes (descriptor removed) */
	uint8_t kind;                   /* enum kind */
	bool start, key, marker;        /* start: S=1 and PID 0 */
};

struct pl_reorder {
	struct slot *slots;
	uint8_t *data;                  /* n_slots * PL_REORDER_SLOT_BYTES */
	uint32_t mask;
	bool started;
	uint32_t next_ext, max_ext;     /* window: empty when next_ext > max_ext */
	bool need_key;
	bool broken;                    /* the head is inside a frame given up */
	bool drop_ts_known;
	uint32_t drop_ts;               /* the frame being dropped */
	uint8_t *frame;
	size_t frame_cap;
	struct pl_reorder_stats st;
};

enum step { ST_BLOCKED, ST_PROGRESS, ST_FRAME };

struct pl_reorder *pl_reorder_create(size_t n_slots)
{
	struct pl_reorder *r;

	if (n_slots < 16 || n_slots > 32768 || (n_slots & (n_slots - 1)))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r) {
		r->slots = calloc(n_slots, sizeof(*r->slots));
		r->data = malloc(n_slots * PL_REORDER_SLOT_BYTES);
	}
	if (!r || !r->slots || !r->data)
		abort();
	r->mask = (uint32_t)n_slots - 1;
	r->need_key = true;
	r->broken = true; /* what precedes the first frame start is not counted */
	return r;
}

void pl_reorder_destroy(struct pl_reorder *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r->data);
	free(r->frame);
	free(r);
}

bool pl_reorder_needs_keyframe(const struct pl_reorder *r)
{
	return r->need_key;
}

void pl_reorder_get_stats(const struct pl_reorder *r, struct pl_reorder_stats *st)
{
	*st = r->st;
}

static struct slot *slot_of(struct pl_reorder *r, uint32_t ext)
{
	return &r->slots[ext & r->mask];
}

static bool has_packet(struct pl_reorder *r, uint32_t ext)
{
	const struct slot *s = slot_of(r, ext);

	return ext <= r->max_ext && s->ext == ext && s->kind != K_HOLE;
}

/* ---- dropping ------------------------------------------------------------ */

/* A frame is lost: later deltas are undecodable. */
static void frame_lost(struct pl_reorder *r)
{
	r->st.frames_incomplete++;
	r->need_key = true;
	r->broken = true;
}

/* The head is a hole given up. */
static void drop_hole(struct pl_reorder *r)
{
	r->st.packets_given_up++;
	if (!r->broken) {
		frame_lost(r);
		r->drop_ts_known = false;
	}
	r->need_key = true;
	r->next_ext++;
}

/* The head is a packet that cannot start a frame. */
static void drop_packet(struct pl_reorder *r, const struct slot *s)
{
	r->next_ext++;
	if (s->kind == K_FILLER)
		return;
	if (!r->broken)
		frame_lost(r);
	else if (s->kind == K_MEDIA && r->drop_ts_known && s->ts != r->drop_ts)
		frame_lost(r); /* a second frame without its start */
	if (s->kind == K_MEDIA) {
		r->drop_ts_known = true;
		r->drop_ts = s->ts;
	} else {
		r->need_key = true;
	}
}

/* The frame starting at the head cannot be completed: drop head..end-1. */
static void drop_frame(struct pl_reorder *r, uint32_t end)
{
	frame_lost(r);
	r->drop_ts_known = true;
	r->drop_ts = slot_of(r, r->next_ext)->ts;
	r->next_ext = end;
}

/* ---- handing out ---------------------------------------------------------- */

static bool hole_expired(struct pl_reorder *r, uint32_t ext, int64_t now_us, int64_t wait_us)
{
	return now_us - slot_of(r, ext)->at_us >= wait_us;
}

/* Copies head..last into the assembly buffer.  False when memory ran out. */
static bool assemble(struct pl_reorder *r, uint32_t last, struct pl_reorder_frame *f)
{
	const struct slot *h = slot_of(r, r->next_ext);
	size_t len = 0, off = 0;

	for (uint32_t x = r->next_ext; x <= last; x++)
		len += slot_of(r, x)->len;
	if (len > r->frame_cap) {
		uint8_t *p = realloc(r->frame, len);
		if (!p)
			return false;
		r->frame = p;
		r->frame_cap = len;
	}
	for (uint32_t x = r->next_ext; x <= last; x++) {
		const struct slot *s = slot_of(r, x);
		memcpy(r->frame + off, r->data + (size_t)(x & r->mask) * PL_REORDER_SLOT_BYTES, s->len);
		off += s->len;
	}
	f->data = r->frame;
	f->len = len;
	f->ts = h->ts;
	f->keyframe = h->key;
	f->first_seq = (uint16_t)r->next_ext;
	f->last_seq = (uint16_t)last;
	return true;
}

/* The head starts a frame, complete through `last`. */
static enum step frame_complete(struct pl_reorder *r, uint32_t last, bool force,
				struct pl_reorder_frame *f)
{
	const struct slot *h = slot_of(r, r->next_ext);

	if (r->need_key && !h->key) {
		r->st.frames_skipped++;
		r->next_ext = last + 1;
		return ST_PROGRESS;
	}
	if (force || !assemble(r, last, f)) {
		drop_frame(r, last + 1);
		return ST_PROGRESS;
	}
	r->next_ext = last + 1;
	r->st.frames++;
	if (h->key) {
		r->st.keyframes++;
		r->need_key = false;
	}
	return ST_FRAME;
}

/* One move at the head.  force: do not wait for holes (the window must
 * make room) and hand nothing out. */
static enum step step(struct pl_reorder *r, int64_t now_us, int64_t wait_us, bool force,
		      struct pl_reorder_frame *f)
{
	const struct slot *h, *s;
	uint32_t e;

	if (!r->started || r->next_ext > r->max_ext)
		return ST_BLOCKED;
	if (!has_packet(r, r->next_ext)) {
		if (!force && !hole_expired(r, r->next_ext, now_us, wait_us))
			return ST_BLOCKED;
		drop_hole(r);
		return ST_PROGRESS;
	}
	h = slot_of(r, r->next_ext);
	if (h->kind != K_MEDIA || !h->start) {
		drop_packet(r, h);
		return ST_PROGRESS;
	}
	r->broken = false;
	for (e = r->next_ext; has_packet(r, e); e++) {
		s = slot_of(r, e);
		if (s->kind != K_MEDIA || s->ts != h->ts || (e != r->next_ext && s->start)) {
			drop_frame(r, e); /* malformed: no marker before the next frame */
			return ST_PROGRESS;
		}
		if (s->marker)
			return frame_complete(r, e, force, f);
	}
	/* e is missing: not arrived yet (past max_ext), or a hole. */
	if (force) {
		drop_frame(r, e);
		return ST_PROGRESS;
	}
	if (e > r->max_ext || !hole_expired(r, e, now_us, wait_us))
		return ST_BLOCKED;
	drop_frame(r, e);
	return ST_PROGRESS;
}

bool pl_reorder_pop(struct pl_reorder *r, int64_t now_us, int64_t wait_us, struct pl_reorder_frame *f)
{
	for (;;) {
		switch (step(r, now_us, wait_us, false, f)) {
		case ST_FRAME:
			return true;
		case ST_BLOCKED:
			return false;
		case ST_PROGRESS:
			break;
		}
	}
}

/* ---- taking packets in ----------------------------------------------------- */

/* ext is a whole window or more ahead of everything held: start over
 * from it. */
static void window_reset(struct pl_reorder *r, uint32_t ext)
{
	bool pending = false;

	for (uint32_t x = r->next_ext; x <= r->max_ext; x++) {
		if (!has_packet(r, x))
			r->st.packets_given_up++;
		pending = true;
	}
	if (pending && !r->broken)
		frame_lost(r);
	r->need_key = r->broken = true;
	r->drop_ts_known = false;
	r->next_ext = r->max_ext = ext;
	r->st.resets++;
}

/* ext (> max_ext) arrives: room for it, and the sequence numbers it jumps
 * over become holes found now. */
static void advance(struct pl_reorder *r, uint32_t ext, int64_t now_us)
{
	struct pl_reorder_frame unused;
	uint32_t n_slots = r->mask + 1;

	if (ext - r->max_ext >= n_slots) {
		window_reset(r, ext);
		return;
	}
	while (ext - r->next_ext >= n_slots)
		(void)step(r, now_us, 0, true, &unused);
	for (uint32_t x = r->max_ext + 1; x != ext; x++) {
		struct slot *s = slot_of(r, x);
		s->ext = x;
		s->kind = K_HOLE;
		s->at_us = now_us;
	}
	r->max_ext = ext;
}

int pl_reorder_push(struct pl_reorder *r, uint16_t seq, uint32_t ts, bool marker,
		    const uint8_t *payload, size_t len, int64_t now_us)
{
	struct pl_vp8_desc d = { 0 };
	struct slot *s;
	uint32_t ext;
	int rc = 0;

	if (!r->started) {
		r->started = true;
		ext = 0x10000u + seq; /* room below for wrap arithmetic */
		r->next_ext = ext;
		r->max_ext = ext - 1;
	} else {
		ext = r->max_ext + (uint32_t)(int32_t)(int16_t)(seq - (uint16_t)r->max_ext);
	}
	if ((int32_t)(ext - r->next_ext) < 0) {
		r->st.late++;
		return PL_EEXPIRED;
	}
	if (ext > r->max_ext) {
		advance(r, ext, now_us);
	} else if (has_packet(r, ext)) {
		r->st.duplicates++;
		return PL_EEXIST;
	} else {
		r->st.reordered++;
	}
	s = slot_of(r, ext);
	s->ext = ext;
	s->ts = ts;
	s->at_us = now_us;
	s->marker = marker;
	s->len = 0;
	s->start = s->key = false;
	if (len == 0) {
		s->kind = K_FILLER;
		return 0;
	}
	if (len > PL_REORDER_SLOT_BYTES)
		rc = PL_ETOOBIG;
	else
		rc = pl_vp8_parse(payload, len, &d);
	if (rc < 0) {
		s->kind = K_BAD;
		r->st.bad++;
		return rc;
	}
	s->kind = K_MEDIA;
	s->start = d.start && d.partition == 0;
	s->key = d.keyframe;
	s->len = (uint16_t)(len - d.header_len);
	memcpy(r->data + (size_t)(ext & r->mask) * PL_REORDER_SLOT_BYTES, payload + d.header_len, s->len);
	return 0;
}

/* ---- keyframe requests ------------------------------------------------------ */

bool pl_reorder_pli_due(struct pl_reorder_pli *p, const struct pl_reorder *r, int64_t now_us)
{
	int64_t interval = PL_REORDER_PLI_MIN_US;

	if (!r->need_key) {
		p->waiting = false;
		return false;
	}
	if (p->waiting)
		interval = r->st.frames_incomplete > p->incomplete_at || !r->st.keyframes
				   ? PL_REORDER_PLI_AGAIN_US
				   : PL_REORDER_PLI_RETRY_US;
	return !p->last_us || now_us - p->last_us >= interval;
}

void pl_reorder_pli_sent(struct pl_reorder_pli *p, const struct pl_reorder *r, int64_t now_us)
{
	p->last_us = now_us;
	p->waiting = true;
	p->incomplete_at = r->st.frames_incomplete;
	p->sent++;
}
