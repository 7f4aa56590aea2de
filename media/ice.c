/* media/ice.c: the ICE transport of ice.h, on libnice 0.1.21.
 *
 * A pl_ice_agent owns two NiceAgents on the worker's GMainContext, one
 * controlling and one controlled, because libnice keeps the ICE role per
 * agent, not per stream.  Each transport is one stream with one component
 * (BUNDLE + rtcp-mux) on the agent of its role.  libnice signals carry the
 * stream id, so each role keeps a table from stream id to transport and
 * every handler starts with that lookup: a signal for a stream that was
 * removed meanwhile simply misses.  Receiving uses nice_agent_attach_recv,
 * whose callback hands us libnice's own buffer; it goes to cb->recv as is.
 *
 * What libnice does for us: full ICE (RFC 5245 compatibility, trickle),
 * regular nomination when controlling (RFC 8445 dropped aggressive
 * nomination), keepalives that are binding requests, and RFC 7675 consent
 * freshness: a consent check roughly every 5 s, and the component goes to
 * FAILED when no check has been answered for about 10 s (measured with
 * 0.1.21; the RFC allows 30 s).  A failed check list is declared FAILED
 * after libnice's 5 s idle timeout.
 *
 * What we add on top of it:
 *   - gathering only on the configured addresses (libnice enumerates every
 *     interface but loopback when it is given none);
 *   - the 1:1 NAT mapping: host candidates are advertised with the public
 *     address in place of the local one, same port.  libnice has no way to
 *     add a server-reflexive candidate by hand, and rewriting the host
 *     candidate is what a 1:1 NAT means: checks sent to public:port arrive
 *     at local:port.  The private address is not advertised at all; it is
 *     useless to a peer outside the NAT;
 *   - strict checking of remote candidates (ice_candidate.c): libnice
 *     reads numbers with atoi() (port "99999" becomes 34463) and only
 *     parses "a=candidate:"; TCP, mDNS (.local) and RTCP-component
 *     candidates are refused;
 *   - ICE restart: nice_agent_restart_stream() gives new credentials and
 *     forgets the remote candidates but keeps the local ones and the
 *     selected pair, and a second nice_agent_gather_candidates() is a
 *     no-op.  So gathering after a restart replays the local candidates
 *     (and the end of gathering) through cb->candidate.  Data keeps
 *     flowing on the old pair meanwhile; the state is CHECKING until a pair
 *     of the new generation is selected;
 *   - a 2 MiB socket receive buffer (4 MiB once the kernel doubles it),
 *     since the 208 KiB default overflows on bursts of ~250 datagrams.
 *
 * Re-entrancy: libnice emits signals synchronously from inside its API
 * calls (gathering announces host candidates before it returns; adding a
 * remote candidate may move the state), and users may destroy a transport
 * from any callback.  No function touches a transport after calling a user
 * callback, except through hold()/release(): a destroy meanwhile unlinks at
 * once and leaves the free to release().  Destroying the agent from one of
 * its callbacks is not supported.
 *
 * Threads: everything runs on the owning worker's thread, from its
 * GMainContext; there are no locks here (libnice takes its own).
 */
#include "media/ice.h"
#include "media/ice_candidate.h"
#include "media/ice_direct.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <glib.h>
#include <nice/agent.h>
#include <nice/debug.h>

#include "common/err.h"
#include "common/log.h"

#define COMPONENT 1                  /* BUNDLE + rtcp-mux: one component */
#define RCVBUF_BYTES (2 << 20)       /* the kernel doubles it for overhead */
#define MAX_CANDIDATE_LEN 512
#define MAX_REMOTE_CANDIDATES 64     /* per ICE generation */
#define STUN_DEFAULT_PORT 3478

struct role {
	struct pl_ice_agent *agent;
	NiceAgent *nice;
	GHashTable *by_stream;        /* stream id -> transport, not owning */
	bool controlling;
};

struct pl_ice_agent {
	GMainContext *ctx;
	struct role roles[2];         /* [0] controlled, [1] controlling */
	NiceAddress public_addr;
	bool has_public_addr;
	guint port_min, port_max;     /* 0, 0: any port */
	bool rcvbuf_warned;
	int64_t consent_timeout_us;
	GSource *consent_timer;
};

struct pl_ice_transport {
	struct role *role;
	guint stream_id;
	struct pl_ice_callbacks cb;
	void *ud;
	enum pl_ice_state state;
	gchar *ufrag, *pwd;           /* local, of the current generation */
	bool gather_started;          /* libnice gathered: later gathers replay */
	bool gathering_done;          /* libnice said so (once per stream) */
	bool was_connected;           /* a pair was selected at least once */
	unsigned n_remote;            /* remote candidates this generation */
	unsigned busy;                /* hold() depth */
	bool dead;                    /* destroyed while held */
	int64_t last_rx_us;           /* last datagram from the peer (consent) */
	bool consent_optional;        /* no traffic is expected: never expire */
	struct pl_ice_stats stats;
	struct pl_ice_direct direct;  /* the selected pair's socket, for sends */
};

static const char *role_name(const struct pl_ice_transport *t)
{
	return t->role->controlling ? "ctl" : "ctd";
}

static const char *state_name(enum pl_ice_state st)
{
	switch (st) {
	case PL_ICE_NEW: return "new";
	case PL_ICE_CHECKING: return "checking";
	case PL_ICE_CONNECTED: return "connected";
	case PL_ICE_DISCONNECTED: return "disconnected";
	case PL_ICE_FAILED: return "failed";
	}
	return "?";
}

/* ---- lifetime under callbacks ------------------------------------------ */

static void free_transport(struct pl_ice_transport *t)
{
	pl_ice_direct_clear(&t->direct);
	g_free(t->ufrag);
	g_free(t->pwd);
	g_free(t);
}

/* Keeps t's memory alive across a call that may reach user callbacks. */
static void hold(struct pl_ice_transport *t)
{
	t->busy++;
}

/* Ends a hold(); false when t was destroyed meanwhile (freed by now if this
 * was the outermost hold), so the caller must not touch it again. */
static bool release(struct pl_ice_transport *t)
{
	bool alive = !t->dead;

	if (--t->busy == 0 && t->dead)
		free_transport(t);
	return alive;
}

static void set_state(struct pl_ice_transport *t, enum pl_ice_state st)
{
	if (st == t->state)
		return;
	PL_LOG(st == PL_ICE_FAILED ? PL_LOG_INFO : PL_LOG_DEBUG, "ice", "[s=%u %s] %s -> %s",
	       t->stream_id, role_name(t), state_name(t->state), state_name(st));
	t->state = st;
	if (t->cb.state)
		t->cb.state(t->ud, st); /* may destroy t: nothing after this */
}

/* ---- libnice signals ---------------------------------------------------- */

static struct pl_ice_transport *lookup(struct role *r, guint stream_id)
{
	return g_hash_table_lookup(r->by_stream, GUINT_TO_POINTER(stream_id));
}

/* The SDP attribute line of a local candidate, "a=candidate:...", with the
 * public address in place of a host candidate's own when one is set. */
static gchar *format_candidate(struct role *r, NiceCandidate *c)
{
	const struct pl_ice_agent *a = r->agent;
	NiceCandidate *mapped = NULL;
	gchar *sdp;

	if (a->has_public_addr && c->type == NICE_CANDIDATE_TYPE_HOST &&
	    nice_address_ip_version(&c->addr) == nice_address_ip_version(&a->public_addr)) {
		mapped = nice_candidate_copy(c);
		mapped->addr = a->public_addr;
		nice_address_set_port(&mapped->addr, nice_address_get_port(&c->addr));
		c = mapped;
	}
	sdp = nice_agent_generate_local_candidate_sdp(r->nice, c);
	if (mapped)
		nice_candidate_free(mapped);
	return sdp;
}

/* Hands one local candidate to the user.  Peer-reflexive ones are learnt
 * from checks, not gathered, and are not signalled (nor are TCP ones, which
 * are never gathered here). */
static void emit_candidate(struct pl_ice_transport *t, NiceCandidate *c)
{
	gchar *sdp;
	const char *val;

	if (c->type == NICE_CANDIDATE_TYPE_PEER_REFLEXIVE ||
	    c->transport != NICE_CANDIDATE_TRANSPORT_UDP || c->component_id != COMPONENT)
		return;
	sdp = format_candidate(t->role, c);
	if (!sdp)
		return;
	val = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
	PL_LOG(PL_LOG_DEBUG, "ice", "[s=%u %s] local %s", t->stream_id, role_name(t), val);
	if (t->cb.candidate)
		t->cb.candidate(t->ud, val); /* may destroy t */
	g_free(sdp);
}

static void on_new_candidate(NiceAgent *nice, NiceCandidate *c, gpointer data)
{
	struct pl_ice_transport *t = lookup(data, c->stream_id);

	if (t)
		emit_candidate(t, c);
}

static void on_gathering_done(NiceAgent *nice, guint stream_id, gpointer data)
{
	struct pl_ice_transport *t = lookup(data, stream_id);

	if (!t)
		return;
	t->gathering_done = true;
	if (t->cb.candidate)
		t->cb.candidate(t->ud, NULL); /* may destroy t */
}

/* libnice's component states to ours.  CONNECTED and READY both mean a
 * pair is selected; libnice reports one after the other and we report once.
 * A connected transport stays CONNECTED while libnice checks late trickled
 * candidates; FAILED covers both a failed check list and lost consent. */
static void on_component_state(NiceAgent *nice, guint stream_id, guint component_id,
			       guint nice_state, gpointer data)
{
	struct pl_ice_transport *t = lookup(data, stream_id);
	enum pl_ice_state st;

	if (!t || component_id != COMPONENT)
		return;
	st = t->state;
	switch ((NiceComponentState)nice_state) {
	case NICE_COMPONENT_STATE_CONNECTING:
		if (st == PL_ICE_NEW || st == PL_ICE_FAILED)
			st = PL_ICE_CHECKING;
		break;
	case NICE_COMPONENT_STATE_CONNECTED:
	case NICE_COMPONENT_STATE_READY:
		st = PL_ICE_CONNECTED;
		t->was_connected = true;
		if (t->state != PL_ICE_CONNECTED)
			t->last_rx_us = g_get_monotonic_time(); /* consent starts now */
		break;
	case NICE_COMPONENT_STATE_FAILED:
		st = PL_ICE_FAILED;
		break;
	default:              /* DISCONNECTED, GATHERING: nothing to tell */
		break;
	}
	set_state(t, st);
}

static void on_selected_pair(NiceAgent *nice, guint stream_id, guint component_id,
			     NiceCandidate *lc, NiceCandidate *rc, gpointer data)
{
	struct pl_ice_transport *t = lookup(data, stream_id);

	if (t && component_id == COMPONENT)
		pl_ice_direct_select(&t->direct, nice, stream_id, component_id, lc, rc);
}

static void on_recv(NiceAgent *nice, guint stream_id, guint component_id, guint len,
		    gchar *buf, gpointer data)
{
	struct pl_ice_transport *t = data;

	t->stats.packets_in++;
	t->stats.bytes_in += len;
	t->last_rx_us = g_get_monotonic_time();
	if (t->cb.recv)
		t->cb.recv(t->ud, (uint8_t *)buf, len); /* may destroy t */
}

/* ---- the agent ----------------------------------------------------------- */

/* An IP literal in its standard form that can be bound to (not 0.0.0.0 or
 * ::).  inet_pton() first: libnice would also take "10.1" for 10.0.0.1. */
static bool parse_bind_address(const char *s, NiceAddress *out)
{
	struct in6_addr a6;
	struct in_addr a4;

	nice_address_init(out);
	if (!s)
		return false;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		if (a4.s_addr == htonl(INADDR_ANY))
			return false;
	} else if (inet_pton(AF_INET6, s, &a6) != 1 || IN6_IS_ADDR_UNSPECIFIED(&a6)) {
		return false;
	}
	return nice_address_set_from_string(out, s);
}

static int role_init(struct pl_ice_agent *a, struct role *r, bool controlling,
		     const struct pl_ice_config *cfg, const char *const *addrs, size_t n_addrs)
{
	r->agent = a;
	r->controlling = controlling;
	r->by_stream = g_hash_table_new(g_direct_hash, g_direct_equal);
	r->nice = nice_agent_new_full(a->ctx, NICE_COMPATIBILITY_RFC5245,
				      NICE_AGENT_OPTION_ICE_TRICKLE |
				      NICE_AGENT_OPTION_REGULAR_NOMINATION);
	/* Not NICE_AGENT_OPTION_CONSENT_FRESHNESS: libnice 0.1.21 sends one
	 * consent check every ~5 s without retransmission and fails the pair
	 * 10 s after the last answer, so one lost check in a 5 %-loss network
	 * kills a healthy call half the time (measured).  Consent is judged
	 * here instead (consent_tick): no traffic from the peer for
	 * consent_timeout_ms (RFC 7675's 30 s by default) fails the pair. */
	if (!r->nice)
		return PL_EIO;
	/* No UPnP: it would search the LAN for a router at every gathering. */
	g_object_set(r->nice, "controlling-mode", controlling, "upnp", FALSE, "ice-tcp", FALSE,
		     "ice-udp", TRUE, "keepalive-conncheck", TRUE, NULL);
	if (cfg->stun_host)
		g_object_set(r->nice, "stun-server", cfg->stun_host, "stun-server-port",
			     (guint)(cfg->stun_port ? cfg->stun_port : STUN_DEFAULT_PORT), NULL);
	for (size_t i = 0; i < n_addrs; i++) {
		NiceAddress addr;

		if (!parse_bind_address(addrs[i], &addr))
			return PL_EINVAL;
		if (!nice_agent_add_local_address(r->nice, &addr))
			return PL_EIO;
	}
	g_signal_connect(r->nice, "new-candidate-full", G_CALLBACK(on_new_candidate), r);
	g_signal_connect(r->nice, "candidate-gathering-done", G_CALLBACK(on_gathering_done), r);
	g_signal_connect(r->nice, "component-state-changed", G_CALLBACK(on_component_state), r);
	g_signal_connect(r->nice, "new-selected-pair-full", G_CALLBACK(on_selected_pair), r);
	return 0;
}

/* Everything in cfg that can be wrong, checked before anything is built. */
static int check_config(const struct pl_ice_config *cfg, struct pl_ice_agent *a)
{
	NiceAddress addr;

	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (!parse_bind_address(cfg->addresses[i], &addr))
			return PL_EINVAL;
	/* An IP only: resolving a name would block the worker. */
	if (cfg->stun_host && !parse_bind_address(cfg->stun_host, &addr))
		return PL_EINVAL;
	if (cfg->public_ip) {
		if (!parse_bind_address(cfg->public_ip, &a->public_addr))
			return PL_EINVAL;
		a->has_public_addr = true;
	}
	if (cfg->port_min || cfg->port_max) {
		a->port_min = cfg->port_min ? cfg->port_min : 1;
		a->port_max = cfg->port_max ? cfg->port_max : 65535;
		if (a->port_min > a->port_max)
			return PL_EINVAL;
	}
	return 0;
}

/* Once a second: a connected transport whose peer sent nothing (media,
 * RTCP, DTLS) for the consent timeout has lost consent: FAILED. */
static gboolean consent_tick(gpointer data)
{
	struct pl_ice_agent *a = data;
	int64_t now = g_get_monotonic_time();

	for (int i = 0; i < 2; i++) {
		GList *ts = g_hash_table_get_values(a->roles[i].by_stream);
		for (GList *l = ts; l; l = l->next) {
			struct pl_ice_transport *t = l->data;
			if (t->state == PL_ICE_CONNECTED && !t->consent_optional &&
			    now - t->last_rx_us > a->consent_timeout_us) {
				PL_LOG(PL_LOG_INFO, "ice", "[s=%u %s] no traffic from the peer for %" PRId64
				       " s: consent expired", t->stream_id, role_name(t),
				       (now - t->last_rx_us) / 1000000);
				set_state(t, PL_ICE_FAILED); /* may destroy t */
			}
		}
		g_list_free(ts);
	}
	return G_SOURCE_CONTINUE;
}

int pl_ice_agent_create(void *ctx, const struct pl_ice_config *cfg, struct pl_ice_agent **out)
{
	static const char *const loopback[] = { "127.0.0.1" };
	static const struct pl_ice_config defaults = { 0 };
	const char *const *addrs = loopback;
	size_t n_addrs = 1;
	struct pl_ice_agent *a;
	int err;

	*out = NULL;
	if (!ctx)
		return PL_EINVAL;
	if (!cfg)
		cfg = &defaults;
	if (cfg->addresses && cfg->n_addresses)
		addrs = cfg->addresses, n_addrs = cfg->n_addresses;
	a = g_new0(struct pl_ice_agent, 1);
	err = check_config(cfg, a);
	if (err)
		goto fail;
	a->ctx = g_main_context_ref(ctx);
	for (int i = 0; i < 2; i++) {
		err = role_init(a, &a->roles[i], i == 1, cfg, addrs, n_addrs);
		if (err)
			goto fail;
	}
	/* libnice's debug output (NICE_DEBUG, G_MESSAGES_DEBUG) traces STUN
	 * checks with the ICE passwords in clear.  It reads the environment
	 * when its first agent is made; turning it off afterwards keeps any
	 * program using media/ (parleyd, libparley-client) from logging them. */
	nice_debug_disable(TRUE);
	a->consent_timeout_us = (int64_t)(cfg->consent_timeout_ms ? cfg->consent_timeout_ms : 30000) * 1000;
	a->consent_timer = g_timeout_source_new(1000);
	g_source_set_callback(a->consent_timer, consent_tick, a, NULL);
	g_source_attach(a->consent_timer, a->ctx);
	PL_LOG(PL_LOG_DEBUG, "ice", "agent on %zu address(es)%s", n_addrs,
	       a->has_public_addr ? ", host candidates mapped to the public address" : "");
	*out = a;
	return 0;
fail:
	pl_ice_agent_destroy(a);
	return err;
}

static void role_release(struct role *r)
{
	if (r->by_stream) {
		GList *ts = g_hash_table_get_values(r->by_stream);

		for (GList *l = ts; l; l = l->next)
			pl_ice_transport_destroy(l->data);
		g_list_free(ts);
		g_hash_table_destroy(r->by_stream);
	}
	if (r->nice) {
		g_signal_handlers_disconnect_by_data(r->nice, r);
		g_object_unref(r->nice);
	}
}

void pl_ice_agent_destroy(struct pl_ice_agent *a)
{
	if (!a)
		return;
	if (a->consent_timer) {
		g_source_destroy(a->consent_timer);
		g_source_unref(a->consent_timer);
	}
	role_release(&a->roles[0]);
	role_release(&a->roles[1]);
	if (a->ctx)
		g_main_context_unref(a->ctx);
	g_free(a);
}

/* ---- transports ------------------------------------------------------- */

static int fetch_credentials(struct pl_ice_transport *t)
{
	gchar *ufrag = NULL, *pwd = NULL;

	if (!nice_agent_get_local_credentials(t->role->nice, t->stream_id, &ufrag, &pwd))
		return PL_EIO;
	g_free(t->ufrag);
	g_free(t->pwd);
	t->ufrag = ufrag, t->pwd = pwd;
	return 0;
}

int pl_ice_transport_create(struct pl_ice_agent *a, bool controlling,
			    const struct pl_ice_callbacks *cb, void *ud,
			    struct pl_ice_transport **out)
{
	struct pl_ice_transport *t;
	struct role *r;

	*out = NULL;
	if (!a || !cb)
		return PL_EINVAL;
	r = &a->roles[controlling ? 1 : 0];
	t = g_new0(struct pl_ice_transport, 1);
	t->role = r, t->cb = *cb, t->ud = ud, t->state = PL_ICE_NEW;
	t->stream_id = nice_agent_add_stream(r->nice, 1);
	if (!t->stream_id)
		goto fail;
	g_hash_table_insert(r->by_stream, GUINT_TO_POINTER(t->stream_id), t);
	if (a->port_min)
		nice_agent_set_port_range(r->nice, t->stream_id, COMPONENT, a->port_min, a->port_max);
	if (!nice_agent_attach_recv(r->nice, t->stream_id, COMPONENT, a->ctx, on_recv, t))
		goto fail;
	if (fetch_credentials(t) < 0)
		goto fail;
	PL_LOG(PL_LOG_DEBUG, "ice", "[s=%u %s] created", t->stream_id, role_name(t));
	*out = t;
	return 0;
fail:
	pl_ice_transport_destroy(t);
	return PL_EIO;
}

const char *pl_ice_transport_ufrag(const struct pl_ice_transport *t)
{
	return t->ufrag;
}

const char *pl_ice_transport_pwd(const struct pl_ice_transport *t)
{
	return t->pwd;
}

/* Asks for a bigger receive buffer on each of the stream's sockets.  The
 * kernel caps SO_RCVBUF at net.core.rmem_max; SO_RCVBUFFORCE passes the cap
 * when we have CAP_NET_ADMIN and fails harmlessly when we do not. */
static void enlarge_rcvbuf(struct pl_ice_transport *t)
{
	GPtrArray *socks = nice_agent_get_sockets(t->role->nice, t->stream_id, COMPONENT);
	struct pl_ice_agent *a = t->role->agent;

	for (guint i = 0; socks && i < socks->len; i++) {
		int fd = g_socket_get_fd(socks->pdata[i]);
		int want = RCVBUF_BYTES, got = 0;
		socklen_t len = sizeof(got);

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got < want)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
		len = sizeof(got);
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got < want &&
		    !a->rcvbuf_warned) {
			a->rcvbuf_warned = true;
			PL_LOG(PL_LOG_WARN, "ice", "UDP receive buffer is %d bytes, asked for %d: "
			       "raise net.core.rmem_max", got, want);
		}
	}
	if (socks)
		g_ptr_array_unref(socks);
}

/* After a restart libnice keeps its local candidates and will not gather
 * again, so the peer, which forgot ours, is told them once more. */
static void replay_candidates(struct pl_ice_transport *t)
{
	GSList *cands = nice_agent_get_local_candidates(t->role->nice, t->stream_id, COMPONENT);
	bool alive = true;

	hold(t);
	for (GSList *l = cands; l && alive; l = l->next) {
		emit_candidate(t, l->data);
		alive = !t->dead;
	}
	if (alive && t->gathering_done && t->cb.candidate)
		t->cb.candidate(t->ud, NULL);
	release(t);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
}

int pl_ice_transport_gather(struct pl_ice_transport *t)
{
	gboolean ok;

	if (t->gather_started) {
		replay_candidates(t);
		return 0;
	}
	t->gather_started = true;
	hold(t); /* host candidates are announced before libnice returns */
	ok = nice_agent_gather_candidates(t->role->nice, t->stream_id);
	if (!release(t))
		return 0;
	if (!ok) {
		PL_LOG(PL_LOG_WARN, "ice", "[s=%u %s] gathering failed (ports?)", t->stream_id,
		       role_name(t));
		return PL_EIO;
	}
	enlarge_rcvbuf(t);
	return 0;
}

int pl_ice_transport_set_remote(struct pl_ice_transport *t, const char *ufrag, const char *pwd)
{
	if (!pl_ice_str_is_valid(ufrag, 4, 256) || !pl_ice_str_is_valid(pwd, 22, 256))
		return PL_EINVAL;
	/* Checks may start at once and report a state: t is not touched after. */
	return nice_agent_set_remote_credentials(t->role->nice, t->stream_id, ufrag, pwd)
		       ? 0 : PL_EINVAL;
}

int pl_ice_transport_add_remote_candidate(struct pl_ice_transport *t, const char *cand)
{
	char buf[MAX_CANDIDATE_LEN], line[MAX_CANDIDATE_LEN + 16];
	char *f[PL_ICE_CANDIDATE_MAX_FIELDS];
	NiceCandidate *nc;
	GSList *list;
	int n, err;

	if (!cand)
		return PL_EINVAL;
	cand = pl_ice_candidate_body(cand);
	n = pl_ice_candidate_split(cand, buf, sizeof(buf), f);
	if (n < 0)
		return PL_EINVAL;
	err = pl_ice_candidate_check(f, n, COMPONENT);
	if (err) {
		PL_LOG(PL_LOG_DEBUG, "ice", "[s=%u %s] remote candidate refused (%s)", t->stream_id,
		       role_name(t), pl_err_name(err));
		return err;
	}
	if (t->n_remote >= MAX_REMOTE_CANDIDATES)
		return PL_ETOOBIG;
	/* libnice parses only the whole attribute line. */
	g_snprintf(line, sizeof(line), "a=candidate:%s", cand);
	nc = nice_agent_parse_remote_candidate_sdp(t->role->nice, t->stream_id, line);
	if (!nc)
		return PL_EINVAL;
	t->n_remote++;
	list = g_slist_prepend(NULL, nc);
	/* Checks may start at once and report a state: t is not touched after. */
	n = nice_agent_set_remote_candidates(t->role->nice, t->stream_id, COMPONENT, list);
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	return n < 0 ? PL_EIO : 0;
}

int pl_ice_transport_send(struct pl_ice_transport *t, const uint8_t *buf, size_t len)
{
	gint n;
	bool alive;

	if (!t->was_connected)
		return PL_EBUSY;
	if (len > 65535 || t->state == PL_ICE_FAILED) {
		/* Consent lost: RFC 7675 forbids sending more. */
		t->stats.send_errors++;
		return PL_EIO;
	}
	/* The hot path: one sendto() on the selected pair's socket. */
	switch (pl_ice_direct_send(&t->direct, buf, len)) {
	case 1:
		t->stats.packets_out++;
		t->stats.packets_out_direct++;
		t->stats.bytes_out += len;
		return 0;
	case 0:
		break;
	default:
		t->stats.send_errors++; /* full socket buffer, unreachable */
		return PL_EIO;
	}
	hold(t);
	n = nice_agent_send(t->role->nice, t->stream_id, COMPONENT, (guint)len,
			    (const gchar *)buf);
	alive = release(t);
	if (!alive)
		return PL_EIO;
	if (n != (gint)len) {
		/* No selected pair (consent lost) or a full socket buffer. */
		t->stats.send_errors++;
		return PL_EIO;
	}
	t->stats.packets_out++;
	t->stats.bytes_out += len;
	return 0;
}

int pl_ice_transport_restart(struct pl_ice_transport *t)
{
	gboolean ok;

	hold(t);
	ok = nice_agent_restart_stream(t->role->nice, t->stream_id);
	if (!release(t))
		return 0;
	if (!ok || fetch_credentials(t) < 0)
		return PL_EIO;
	t->n_remote = 0;
	PL_LOG(PL_LOG_DEBUG, "ice", "[s=%u %s] restart", t->stream_id, role_name(t));
	if (t->state != PL_ICE_NEW)
		set_state(t, PL_ICE_CHECKING); /* may destroy t */
	return 0;
}

enum pl_ice_state pl_ice_transport_state(const struct pl_ice_transport *t)
{
	return t->state;
}

void pl_ice_transport_set_consent_required(struct pl_ice_transport *t, bool required)
{
	if (t->consent_optional && required)
		t->last_rx_us = g_get_monotonic_time(); /* the clock starts now */
	t->consent_optional = !required;
}

void pl_ice_transport_get_stats(const struct pl_ice_transport *t, struct pl_ice_stats *out)
{
	*out = t->stats;
}

/* Unlinks at once, so no signal or datagram reaches t again; frees now, or
 * at the end of the hold() in progress when called from a callback. */
void pl_ice_transport_destroy(struct pl_ice_transport *t)
{
	struct role *r;

	if (!t || t->dead)
		return;
	r = t->role;
	pl_ice_direct_clear(&t->direct);
	if (t->stream_id) {
		g_hash_table_remove(r->by_stream, GUINT_TO_POINTER(t->stream_id));
		nice_agent_remove_stream(r->nice, t->stream_id);
		PL_LOG(PL_LOG_DEBUG, "ice", "[s=%u %s] destroyed", t->stream_id, role_name(t));
	}
	t->dead = true;
	if (t->busy == 0)
		free_transport(t);
}
