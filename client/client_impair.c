/* client/client_impair.c: the impairment stage (impair.h) on a client.
 *
 * A client with pl_client_config.impair has one emulated link: an `out`
 * stage for every datagram its two peer connections send and an `in`
 * stage for every datagram they receive, as one access link would carry
 * both (its rate limit is shared by pub and sub).  Each stage has one
 * GSource on the client's loop whose ready time is the next due
 * datagram; its dispatch sends or receives everything due, then re-arms.
 * No thread, no allocation per packet (the stage recycles its buffers),
 * memory bounded by the stage's limit.
 *
 * What passes: RTP, RTCP and DTLS (unless spare=dtls).  STUN (ICE checks
 * and consent) is sent and consumed inside libnice and never reaches this
 * layer, so it is not impaired; `parley-bench quality --impair-kernel`
 * impairs everything at the kernel instead.
 *
 * Waiting datagrams carry their peer connection as tag; a peer being
 * destroyed forgets them (pl_client_impair_forget).  Loop thread only,
 * except init, which runs in pl_client_create before the client is used.
 */
#include "client/client_internal.h"
#include "client/impair.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

struct stage {
	struct pl_client_impair *ci;
	struct pl_impair *im;
	bool out;
	GSource *timer;
};

struct pl_client_impair {
	struct pl_client *c;
	struct pl_impair_config cfg;
	struct stage out, in;
};

struct timer_source {
	GSource base;
	struct stage *s;
};

static void arm(struct stage *s);

static gboolean timer_dispatch(GSource *src, GSourceFunc cb, gpointer ud)
{
	struct stage *s = ((struct timer_source *)src)->s;
	uint8_t buf[PL_IMPAIR_MAX_DGRAM];
	int64_t now = pl_clock_mono_us();
	void *tag;
	size_t len;

	(void)cb, (void)ud;
	/* Pop before handing over: the handler may destroy the peer, whose
	 * forget() then only touches datagrams still waiting. */
	while ((len = pl_impair_pop(s->im, now, buf, sizeof(buf), &tag)) > 0) {
		if (s->out)
			pl_client_peer_xmit(tag, buf, len);
		else
			pl_client_peer_recv(tag, buf, len);
	}
	arm(s);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = { .dispatch = timer_dispatch };

/* Sets the timer to the next due datagram (creating it on first use, on
 * the loop thread), or disarms it. */
static void arm(struct stage *s)
{
	int64_t next = pl_impair_next_us(s->im);

	if (!s->timer) {
		if (next == INT64_MAX)
			return;
		s->timer = g_source_new(&timer_funcs, sizeof(struct timer_source));
		((struct timer_source *)s->timer)->s = s;
		g_source_set_priority(s->timer, G_PRIORITY_HIGH);
		g_source_attach(s->timer, s->ci->c->loop->ctx);
	}
	/* pl_clock_mono_us and GLib's ready time are both CLOCK_MONOTONIC
	 * microseconds. */
	g_source_set_ready_time(s->timer, next == INT64_MAX ? -1 : next);
}

int pl_client_impair_init(struct pl_client *c, const char *spec)
{
	struct pl_client_impair *ci;
	char err[160];
	int rc;

	c->impair = NULL;
	if (!spec || !*spec)
		return 0;
	ci = g_new0(struct pl_client_impair, 1);
	ci->c = c;
	if ((rc = pl_impair_parse(spec, &ci->cfg, err, sizeof(err))) < 0) {
		PL_LOG(PL_LOG_WARN, "client", "bad impairment '%s': %s", spec, err);
		g_free(ci);
		return rc;
	}
	ci->out = (struct stage){ .ci = ci, .out = true };
	ci->in = (struct stage){ .ci = ci, .out = false };
	/* Different salts: the two directions lose independently. */
	if ((rc = pl_impair_create(&ci->cfg, 1, &ci->out.im)) < 0 ||
	    (rc = pl_impair_create(&ci->cfg, 2, &ci->in.im)) < 0) {
		pl_impair_destroy(ci->out.im);
		g_free(ci);
		return rc;
	}
	c->impair = ci;
	return 0;
}

static void stage_release(struct stage *s)
{
	if (s->timer) {
		g_source_destroy(s->timer);
		g_source_unref(s->timer);
	}
	pl_impair_destroy(s->im);
}

void pl_client_impair_release(struct pl_client *c)
{
	if (!c->impair)
		return;
	stage_release(&c->impair->out);
	stage_release(&c->impair->in);
	g_free(c->impair);
	c->impair = NULL;
}

static bool take(struct stage *s, struct pl_client_peer *p, const uint8_t *buf, size_t len)
{
	switch (pl_impair_push(s->im, pl_clock_mono_us(), buf, len, p)) {
	case PL_IMPAIR_PASS:
		return false;
	case PL_IMPAIR_QUEUED:
		arm(s);
		return true;
	default:
		return true; /* lost or overflow: as the network would */
	}
}

bool pl_client_impair_out(struct pl_client_peer *p, const uint8_t *buf, size_t len, bool dtls)
{
	struct pl_client_impair *ci = p->c->impair;

	if (!ci || (dtls && ci->cfg.spare_dtls))
		return false;
	return take(&ci->out, p, buf, len);
}

bool pl_client_impair_in(struct pl_client_peer *p, const uint8_t *buf, size_t len, bool dtls)
{
	struct pl_client_impair *ci = p->c->impair;

	if (!ci || (dtls && ci->cfg.spare_dtls))
		return false;
	return take(&ci->in, p, buf, len);
}

void pl_client_impair_forget(struct pl_client_peer *p)
{
	struct pl_client_impair *ci = p->c->impair;

	if (!ci)
		return;
	pl_impair_purge(ci->out.im, p);
	pl_impair_purge(ci->in.im, p);
	arm(&ci->out);
	arm(&ci->in);
}

static void fill(const struct stage *s, struct pl_client_impair_stats *o)
{
	struct pl_impair_stats st;

	pl_impair_get_stats(s->im, &st);
	o->packets = st.packets;
	o->delivered = st.delivered;
	o->lost = st.lost;
	o->overflow = st.overflow;
	o->purged = st.purged;
	o->delay_mean_ms = st.delivered ? (double)st.delay_sum_us / (double)st.delivered / 1000.0 : 0;
	o->delay_max_ms = (double)st.delay_max_us / 1000.0;
	o->queued_max = st.queued_max;
}

void pl_client_impair_stats(struct pl_client *c, struct pl_client_stats *st)
{
	if (!c->impair)
		return;
	fill(&c->impair->out, &st->impair_out);
	fill(&c->impair->in, &st->impair_in);
}
