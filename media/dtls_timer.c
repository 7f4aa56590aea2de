/* media/dtls_timer.c: a pl_dtls association's retransmission timer on a
 * GLib main context (dtls.h keeps no event loop of its own).  Shared by
 * the server's peers (media/peer.c) and the client library's. */
#include "media/dtls.h"

#include <glib.h>

static gboolean on_timer(gpointer ud)
{
	struct pl_dtls_timer *t = ud;

	g_source_unref(t->source);
	t->source = NULL;
	pl_dtls_on_timeout(t->dtls);
	pl_dtls_timer_arm(t, t->dtls, t->ctx);
	return G_SOURCE_REMOVE;
}

void pl_dtls_timer_arm(struct pl_dtls_timer *t, struct pl_dtls *d, void *ctx)
{
	int64_t ms = d ? pl_dtls_timeout_ms(d) : -1;

	pl_dtls_timer_cancel(t);
	if (ms < 0)
		return;
	t->dtls = d;
	t->ctx = ctx;
	t->source = g_timeout_source_new((guint)ms);
	g_source_set_callback(t->source, on_timer, t, NULL);
	g_source_attach(t->source, ctx);
}

void pl_dtls_timer_cancel(struct pl_dtls_timer *t)
{
	if (t->source) {
		g_source_destroy(t->source);
		g_source_unref(t->source);
		t->source = NULL;
	}
}
