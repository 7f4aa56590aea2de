/* tests/unit/test_ice.c: the ICE transport over real libnice on loopback.
 *
 * One GMainContext and one pl_ice_agent per test; transports are paired
 * in the same process, one controlling and one controlled, and the
 * callbacks play the signaling server: credentials are exchanged up front
 * and each local candidate is handed to the peer as it is found (trickle).
 * Every candidate must be on 127.0.0.1 (see ../shared/TESTING.md), except
 * in the public-address case, whose candidates are only looked at, never
 * given to a peer, so nothing is ever sent to that address.
 *
 * Callbacks never assert: a failed cmocka assertion longjmps, and doing it
 * from inside libnice would leave libnice's lock held.  They count what is
 * wrong instead, and the test body asserts the counts.
 *
 * libnice timings these tests rely on (0.1.21, measured): connection in
 * 20-70 ms on loopback; a failed check list is declared after the 5 s idle
 * timeout; consent is lost about 10 s after the last answered consent
 * check.  The slowest case (consent) takes ~10 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "common/err.h"
#include "media/ice.h"

#define CONNECT_MS 5000
#define MAX_CANDS 16
#define BURST 1000
#define BIG 1200

struct side {
	const char *name;
	struct pl_ice_transport *t;
	struct side *peer;            /* gets our candidates; NULL = nobody */
	const char *expect_addr;      /* every local candidate's address */
	enum pl_ice_state state;
	int n_connected, n_failed, n_checking;
	bool gathered;
	int n_cands;
	char cands[MAX_CANDS][256];
	int cand_ports[MAX_CANDS];
	uint64_t rx_ok, rx_bytes;
	int errors;                   /* anything a callback found wrong */
	bool destroy_on_failed, destroy_on_recv;
};

struct pair {
	struct side a, b;             /* a controlling, b controlled */
	int want_connected;
};

struct fixture {
	GMainContext *ctx;
	struct pl_ice_agent *agent;
};

/* ---- datagrams: a sequence number, the length, then a pattern ---------- */

static void fill(uint8_t *buf, size_t len, uint32_t seq)
{
	buf[0] = seq >> 24, buf[1] = seq >> 16, buf[2] = seq >> 8, buf[3] = seq;
	buf[4] = len >> 8, buf[5] = len;
	for (size_t i = 6; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
}

static bool is_intact(const uint8_t *buf, size_t len)
{
	uint32_t seq;

	if (len < 6 || ((size_t)buf[4] << 8 | buf[5]) != len)
		return false;
	seq = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	for (size_t i = 6; i < len; i++)
		if (buf[i] != (uint8_t)(seq * 7 + i))
			return false;
	return true;
}

static int send_one(struct side *s, uint32_t seq, size_t len)
{
	uint8_t buf[1500];

	fill(buf, len, seq);
	return pl_ice_transport_send(s->t, buf, len);
}

/* ---- callbacks: the signaling server of the test ------------------------ */

static void on_recv(void *ud, uint8_t *buf, size_t len)
{
	struct side *s = ud;

	if (!is_intact(buf, len)) {
		fprintf(stderr, "[%s] damaged datagram of %zu bytes\n", s->name, len);
		s->errors++;
		return;
	}
	s->rx_ok++;
	s->rx_bytes += len;
	if (s->destroy_on_recv) {
		pl_ice_transport_destroy(s->t);
		s->t = NULL;
	}
}

static void on_candidate(void *ud, const char *cand)
{
	struct side *s = ud;
	char addr[64] = "", type[16] = "";
	unsigned port = 0;
	int rc;

	if (!cand) {
		s->gathered = true;
		return;
	}
	if (strncmp(cand, "candidate:", 10) != 0 ||
	    sscanf(cand, "%*s %*s %*s %*s %63s %u typ %15s", addr, &port, type) != 3 ||
	    strcmp(addr, s->expect_addr) != 0 || strcmp(type, "host") != 0 ||
	    s->n_cands == MAX_CANDS) {
		fprintf(stderr, "[%s] unexpected candidate \"%s\"\n", s->name, cand);
		s->errors++;
		return;
	}
	snprintf(s->cands[s->n_cands], sizeof(s->cands[0]), "%s", cand);
	s->cand_ports[s->n_cands++] = (int)port;
	if (s->peer && s->peer->t) {
		rc = pl_ice_transport_add_remote_candidate(s->peer->t, cand);
		if (rc != 0) {
			fprintf(stderr, "[%s] peer refused \"%s\": %s\n", s->name, cand,
				pl_err_name(rc));
			s->errors++;
		}
	}
}

static void on_state(void *ud, enum pl_ice_state st)
{
	struct side *s = ud;

	s->state = st;
	s->n_connected += st == PL_ICE_CONNECTED;
	s->n_failed += st == PL_ICE_FAILED;
	s->n_checking += st == PL_ICE_CHECKING;
	if (st == PL_ICE_FAILED && s->destroy_on_failed) {
		pl_ice_transport_destroy(s->t);
		s->t = NULL;
	}
}

static const struct pl_ice_callbacks callbacks = { on_recv, on_candidate, on_state };

/* ---- driving the loop ---------------------------------------------------- */

static gboolean tick(gpointer unused)
{
	return G_SOURCE_CONTINUE;
}

/* Runs ctx until done(arg) or timeout_ms; a 5 ms tick bounds each wait. */
static bool run_until(GMainContext *ctx, bool (*done)(void *), void *arg, int timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	GSource *src = g_timeout_source_new(5);

	g_source_set_callback(src, tick, NULL, NULL);
	g_source_attach(src, ctx);
	while (!done(arg) && g_get_monotonic_time() < end)
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(src);
	g_source_unref(src);
	return done(arg);
}

static bool never(void *unused)
{
	return false;
}

static void run_for(GMainContext *ctx, int ms)
{
	run_until(ctx, never, NULL, ms);
}

static bool pair_is_connected(void *arg)
{
	struct pair *p = arg;

	return p->a.state == PL_ICE_CONNECTED && p->b.state == PL_ICE_CONNECTED &&
	       p->a.n_connected >= p->want_connected && p->b.n_connected >= p->want_connected;
}

static bool pair_both_failed(void *arg)
{
	struct pair *p = arg;

	return p->a.state == PL_ICE_FAILED && p->b.state == PL_ICE_FAILED;
}

static bool side_failed(void *arg)
{
	return ((struct side *)arg)->state == PL_ICE_FAILED;
}

struct rx_wait {
	struct side *s;
	uint64_t n;
};

static bool has_received(void *arg)
{
	struct rx_wait *w = arg;

	return w->s->rx_ok >= w->n;
}

static bool side_gathered(void *arg)
{
	return ((struct side *)arg)->gathered;
}

static bool side_destroyed(void *arg)
{
	return ((struct side *)arg)->t == NULL;
}

/* ---- pairs ----------------------------------------------------------------- */

static void side_init(struct side *s, const char *name, struct side *peer)
{
	memset(s, 0, sizeof(*s));
	s->name = name, s->peer = peer, s->expect_addr = "127.0.0.1";
}

static void pair_init(struct pair *p, const char *name_a, const char *name_b)
{
	side_init(&p->a, name_a, &p->b);
	side_init(&p->b, name_b, &p->a);
	p->want_connected = 1;
}

/* Both transports with each other's credentials; a_pwd overrides a's idea
 * of b's password. */
static void pair_create(struct fixture *fx, struct pair *p, const char *a_pwd)
{
	assert_int_equal(pl_ice_transport_create(fx->agent, true, &callbacks, &p->a, &p->a.t), 0);
	assert_int_equal(pl_ice_transport_create(fx->agent, false, &callbacks, &p->b, &p->b.t), 0);
	assert_int_equal(pl_ice_transport_set_remote(p->b.t, pl_ice_transport_ufrag(p->a.t),
						     pl_ice_transport_pwd(p->a.t)), 0);
	assert_int_equal(pl_ice_transport_set_remote(p->a.t, pl_ice_transport_ufrag(p->b.t),
						     a_pwd ? a_pwd : pl_ice_transport_pwd(p->b.t)), 0);
}

static void pair_connect(struct fixture *fx, struct pair *p)
{
	pair_create(fx, p, NULL);
	assert_int_equal(pl_ice_transport_gather(p->a.t), 0);
	assert_int_equal(pl_ice_transport_gather(p->b.t), 0);
	assert_true(run_until(fx->ctx, pair_is_connected, p, CONNECT_MS));
	assert_int_equal(p->a.errors, 0);
	assert_int_equal(p->b.errors, 0);
}

/* Sends one datagram of len bytes from s to its peer and waits for it. */
static void exchange(struct fixture *fx, struct side *s, uint32_t seq, size_t len)
{
	struct rx_wait w = { s->peer, s->peer->rx_ok + 1 };

	assert_int_equal(send_one(s, seq, len), 0);
	assert_true(run_until(fx->ctx, has_received, &w, 1000));
	assert_int_equal(s->peer->errors, 0);
}

/* ---- fixtures ---------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->ctx = g_main_context_new();
	/* A consent timeout short enough for the consent test, long enough
	 * for every test's quiet stretches. */
	static const struct pl_ice_config cfg = { .consent_timeout_ms = 8000 };

	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &fx->agent), 0);
	*state = fx;
	return 0;
}

static void drain(GMainContext *ctx)
{
	while (g_main_context_iteration(ctx, FALSE))
		;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pl_ice_agent_destroy(fx->agent); /* and every transport a test left open */
	drain(fx->ctx);
	g_main_context_unref(fx->ctx);
	free(fx);
	return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_ice_connect_and_send(void **state)
{
	struct fixture *fx = *state;
	struct pair p;
	struct pl_ice_stats st;
	struct rx_wait w;
	int sent = 0;

	pair_init(&p, "a", "b");
	pair_connect(fx, &p);
	/* Host candidates on loopback only, gathering finished on both sides. */
	assert_true(p.a.gathered && p.b.gathered);
	assert_true(p.a.n_cands >= 1 && p.b.n_cands >= 1);
	assert_true(strlen(pl_ice_transport_ufrag(p.a.t)) >= 4);
	assert_true(strlen(pl_ice_transport_pwd(p.a.t)) >= 22);
	assert_string_not_equal(pl_ice_transport_ufrag(p.a.t), pl_ice_transport_ufrag(p.b.t));
	assert_int_equal(p.a.n_connected, 1); /* libnice's CONNECTED + READY: one report */

	exchange(fx, &p.a, 1, 100);
	exchange(fx, &p.b, 2, 100);
	exchange(fx, &p.a, 3, BIG);
	exchange(fx, &p.b, 4, BIG);

	/* A burst both ways, sent without running the loop in between. */
	for (uint32_t i = 0; i < BURST; i++)
		sent += send_one(&p.a, 100 + i, BIG) == 0;
	assert_int_equal(sent, BURST);
	w = (struct rx_wait){ &p.b, 2 + BURST };
	run_until(fx->ctx, has_received, &w, 3000);
	fprintf(stderr, "burst a->b: %llu of %d delivered\n",
		(unsigned long long)(p.b.rx_ok - 2), BURST);
	assert_true(p.b.rx_ok - 2 >= BURST * 95 / 100);
	for (uint32_t i = 0; i < BURST; i++)
		assert_int_equal(send_one(&p.b, 5000 + i, BIG), 0);
	w = (struct rx_wait){ &p.a, 2 + BURST };
	run_until(fx->ctx, has_received, &w, 3000);
	assert_true(p.a.rx_ok - 2 >= BURST * 95 / 100);
	assert_int_equal(p.a.errors + p.b.errors, 0);

	/* Counters: only datagrams of ours, STUN is libnice's. */
	pl_ice_transport_get_stats(p.a.t, &st);
	assert_int_equal(st.packets_out, 2 + BURST);
	/* Host pair on loopback: every datagram went out directly. */
	assert_int_equal(st.packets_out_direct, st.packets_out);
	assert_int_equal(st.bytes_out, 100 + BIG + (uint64_t)BURST * BIG);
	assert_int_equal(st.packets_in, p.a.rx_ok);
	assert_int_equal(st.bytes_in, p.a.rx_bytes);
	assert_int_equal(st.send_errors, 0);
	pl_ice_transport_get_stats(p.b.t, &st);
	assert_int_equal(st.packets_in, p.b.rx_ok);
	assert_int_equal(st.bytes_in, p.b.rx_bytes);
}

static void test_ice_send_before_connected(void **state)
{
	struct fixture *fx = *state;
	struct pl_ice_stats st;
	struct pair p;
	uint8_t buf[16] = { 0 };

	pair_init(&p, "a", "b");
	p.a.peer = NULL;
	assert_int_equal(pl_ice_transport_create(fx->agent, true, &callbacks, &p.a, &p.a.t), 0);
	assert_int_equal(pl_ice_transport_state(p.a.t), PL_ICE_NEW);
	assert_int_equal(pl_ice_transport_send(p.a.t, buf, sizeof(buf)), PL_EBUSY);
	assert_int_equal(pl_ice_transport_gather(p.a.t), 0);
	assert_true(run_until(fx->ctx, side_gathered, &p.a, 1000));
	run_for(fx->ctx, 50);
	assert_int_equal(pl_ice_transport_send(p.a.t, buf, sizeof(buf)), PL_EBUSY);
	pl_ice_transport_get_stats(p.a.t, &st);
	assert_int_equal(st.packets_out + st.send_errors, 0);
	pl_ice_transport_destroy(p.a.t);
	pl_ice_transport_destroy(NULL);
	pl_ice_agent_destroy(NULL);
}

/* a has the wrong password for b: a's checks get 401 from b.  b's checks
 * are answered (a validates them with its own password) but b is
 * controlled and a never nominates, so libnice fails both at its 5 s idle
 * timeout.  a is destroyed from inside its FAILED callback. */
static void test_ice_wrong_password_fails(void **state)
{
	struct fixture *fx = *state;
	struct pair p;

	pair_init(&p, "a", "b");
	p.a.destroy_on_failed = true;
	pair_create(fx, &p, "wrongwrongwrongwrongwrong");
	assert_int_equal(pl_ice_transport_gather(p.a.t), 0);
	assert_int_equal(pl_ice_transport_gather(p.b.t), 0);
	assert_true(run_until(fx->ctx, pair_both_failed, &p, 10000));
	assert_int_equal(p.a.n_connected + p.b.n_connected, 0);
	assert_int_equal(p.a.n_failed, 1);
	assert_null(p.a.t);
	assert_int_equal(p.a.errors + p.b.errors, 0);
}

struct cand_case {
	const char *cand;
	int want;
};

static const struct cand_case cand_cases[] = {
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", 0 },
	{ "1 1 UDP 2122260223 127.0.0.1 50001 typ host", 0 },
	{ "a=candidate:1 1 udp 2122260223 127.0.0.1 50002 typ host", 0 },
	{ "candidate:842163049 1 udp 1677729535 127.0.0.1 50003 typ srflx raddr 127.0.0.1 "
	  "rport 50000 generation 0 ufrag EsAw network-cost 999", 0 },
	{ "candidate:3 1 udp 2122262783 ::1 50004 typ host generation 0", 0 },
	{ "candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active", PL_EUNSUP },
	{ "candidate:1 1 TCP 1518280447 127.0.0.1 50005 typ host tcptype passive", PL_EUNSUP },
	{ "candidate:1 1 udp 2122260223 3a5f8d1c-0b1e-4c1e-9b7e-2f5d3c4b1a09.local 50006 "
	  "typ host generation 0", PL_EUNSUP },
	{ "candidate:1 1 tcp 1518280447 3a5f8d1c.local 9 typ host tcptype active", PL_EUNSUP },
	{ "candidate:1 2 udp 2122260222 127.0.0.1 50007 typ host", PL_EUNSUP },
	{ "", PL_EINVAL },
	{ "candidate:", PL_EINVAL },
	{ "garbage", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 99999 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 0 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 5x typ host", PL_EINVAL },
	{ "candidate:1 1 udp x 127.0.0.1 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 0 127.0.0.1 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 4294967296 127.0.0.1 50000 typ host", PL_EINVAL },
	{ "candidate:1 0 udp 2122260223 127.0.0.1 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 sctp 2122260223 127.0.0.1 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ bogus", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 type host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 stun.example.org 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.256 50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1  50000 typ host", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host ", PL_EINVAL },
	{ "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation", PL_EINVAL },
	{ "candidate:123456789012345678901234567890123 1 udp 1 127.0.0.1 5 typ host",
	  PL_EINVAL },
	{ "candidate:1:2 1 udp 2122260223 127.0.0.1 50000 typ host", PL_EINVAL },
};

static void test_ice_remote_candidates(void **state)
{
	struct fixture *fx = *state;
	struct side s;
	char buf[700], cand[128];
	int rc;

	side_init(&s, "s", NULL);
	assert_int_equal(pl_ice_transport_create(fx->agent, false, &callbacks, &s, &s.t), 0);
	for (size_t i = 0; i < sizeof(cand_cases) / sizeof(cand_cases[0]); i++) {
		rc = pl_ice_transport_add_remote_candidate(s.t, cand_cases[i].cand);
		if (rc != cand_cases[i].want)
			fail_msg("\"%s\": %s, want %s", cand_cases[i].cand, pl_err_name(rc),
				 pl_err_name(cand_cases[i].want));
	}
	assert_int_equal(pl_ice_transport_add_remote_candidate(s.t, NULL), PL_EINVAL);
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(pl_ice_transport_add_remote_candidate(s.t, buf), PL_EINVAL);

	/* At most 64 per generation (5 were added by the table). */
	for (int i = 0; i < 59; i++) {
		snprintf(cand, sizeof(cand), "candidate:9 1 udp 2122260223 127.0.0.1 %d typ host",
			 51000 + i);
		assert_int_equal(pl_ice_transport_add_remote_candidate(s.t, cand), 0);
	}
	assert_int_equal(pl_ice_transport_add_remote_candidate(s.t, cand), PL_ETOOBIG);

	/* Credentials: RFC 8839 lengths and characters. */
	assert_int_equal(pl_ice_transport_set_remote(s.t, NULL, "0123456789012345678901"), PL_EINVAL);
	assert_int_equal(pl_ice_transport_set_remote(s.t, "abc", "0123456789012345678901"), PL_EINVAL);
	assert_int_equal(pl_ice_transport_set_remote(s.t, "abcd", "012345678901234567890"), PL_EINVAL);
	assert_int_equal(pl_ice_transport_set_remote(s.t, "ab:d", "0123456789012345678901"), PL_EINVAL);
	assert_int_equal(pl_ice_transport_set_remote(s.t, "abcd", "01234567890123456789 1"), PL_EINVAL);
	assert_int_equal(pl_ice_transport_set_remote(s.t, "ab+/", "0123456789012345678901"), 0);
	assert_int_equal(s.errors, 0);
	/* Left open: the agent destroys it. */
}

static void test_ice_restart(void **state)
{
	struct fixture *fx = *state;
	char *ufrag_a, *pwd_a, *ufrag_b;
	struct pair p;

	pair_init(&p, "a", "b");
	pair_connect(fx, &p);
	ufrag_a = strdup(pl_ice_transport_ufrag(p.a.t));
	pwd_a = strdup(pl_ice_transport_pwd(p.a.t));
	ufrag_b = strdup(pl_ice_transport_ufrag(p.b.t));

	assert_int_equal(pl_ice_transport_restart(p.a.t), 0);
	assert_string_not_equal(pl_ice_transport_ufrag(p.a.t), ufrag_a);
	assert_string_not_equal(pl_ice_transport_pwd(p.a.t), pwd_a);
	assert_int_equal(pl_ice_transport_state(p.a.t), PL_ICE_CHECKING);
	assert_int_equal(p.a.n_checking, 2); /* the first was before connecting */
	/* The old pair carries data until a new one is selected. */
	exchange(fx, &p.a, 1, BIG);
	exchange(fx, &p.b, 2, BIG);

	/* The answerer restarts too, and the new credentials and candidates
	 * travel as in a renegotiation. */
	assert_int_equal(pl_ice_transport_restart(p.b.t), 0);
	assert_string_not_equal(pl_ice_transport_ufrag(p.b.t), ufrag_b);
	assert_int_equal(pl_ice_transport_set_remote(p.b.t, pl_ice_transport_ufrag(p.a.t),
						     pl_ice_transport_pwd(p.a.t)), 0);
	assert_int_equal(pl_ice_transport_set_remote(p.a.t, pl_ice_transport_ufrag(p.b.t),
						     pl_ice_transport_pwd(p.b.t)), 0);
	p.a.gathered = p.b.gathered = false;
	p.a.n_cands = p.b.n_cands = 0;
	assert_int_equal(pl_ice_transport_gather(p.a.t), 0);
	assert_int_equal(pl_ice_transport_gather(p.b.t), 0);
	assert_true(p.a.gathered && p.b.gathered); /* replayed at once */
	assert_true(p.a.n_cands >= 1 && p.b.n_cands >= 1);
	p.want_connected = 2;
	assert_true(run_until(fx->ctx, pair_is_connected, &p, CONNECT_MS));
	exchange(fx, &p.a, 3, BIG);
	exchange(fx, &p.b, 4, BIG);
	{
		/* After the restart the new pair's socket carries them. */
		struct pl_ice_stats st;
		pl_ice_transport_get_stats(p.a.t, &st);
		assert_true(st.packets_out_direct >= 2 && st.packets_out_direct == st.packets_out);
	}
	assert_int_equal(p.a.n_failed + p.b.n_failed, 0);
	assert_int_equal(p.a.errors + p.b.errors, 0);
	free(ufrag_a);
	free(pwd_a);
	free(ufrag_b);
}

/* Two pairs share the agent's two NiceAgents.  Destroying one end of the
 * first leaves the second alone, and signals and datagrams keep finding
 * their own transport by stream id.  Then a transport is destroyed from
 * inside its own receive callback. */
static void test_ice_destroy_isolated(void **state)
{
	struct fixture *fx = *state;
	struct pair p, q;
	uint64_t p_rx;

	pair_init(&p, "p.a", "p.b");
	pair_init(&q, "q.a", "q.b");
	pair_connect(fx, &p);
	pair_connect(fx, &q);
	exchange(fx, &p.a, 1, 100);

	pl_ice_transport_destroy(p.a.t);
	p.a.t = NULL;
	p_rx = p.b.rx_ok;
	run_for(fx->ctx, 200);
	assert_int_equal(q.a.state, PL_ICE_CONNECTED);
	assert_int_equal(q.b.state, PL_ICE_CONNECTED);
	exchange(fx, &q.a, 2, BIG);
	exchange(fx, &q.b, 3, BIG);
	assert_int_equal(p.b.rx_ok, p_rx);
	assert_int_equal(q.a.n_connected + q.b.n_connected, 2);

	q.b.destroy_on_recv = true;
	assert_int_equal(send_one(&q.a, 4, 100), 0);
	assert_int_equal(send_one(&q.a, 5, 100), 0); /* arrives after the destroy */
	assert_true(run_until(fx->ctx, side_destroyed, &q.b, 1000));
	run_for(fx->ctx, 50);
	assert_int_equal(q.b.rx_ok, 2); /* seq 2, then seq 4 and the destroy */
	assert_int_equal(p.a.errors + p.b.errors + q.a.errors + q.b.errors, 0);
}

/* RFC 7675: b goes away without a word; a stops getting answers to its
 * consent checks and must fail within 30 s (the agent's consent timeout, 8 s
 * here: no traffic from the peer for that long). */
static void test_ice_consent_expires(void **state)
{
	struct fixture *fx = *state;
	struct pl_ice_stats st;
	struct pair p;
	gint64 t0;
	double secs;

	pair_init(&p, "a", "b");
	pair_connect(fx, &p);
	exchange(fx, &p.a, 1, 100);
	pl_ice_transport_destroy(p.b.t);
	p.b.t = NULL;
	t0 = g_get_monotonic_time();
	assert_true(run_until(fx->ctx, side_failed, &p.a, 30000));
	secs = (g_get_monotonic_time() - t0) / 1e6;
	fprintf(stderr, "consent lost after %.1f s\n", secs);
	assert_true(secs < 30);
	assert_int_equal(p.a.n_failed, 1);
	assert_int_equal(send_one(&p.a, 2, 100), PL_EIO);
	pl_ice_transport_get_stats(p.a.t, &st);
	assert_int_equal(st.send_errors, 1);
	assert_int_equal(p.a.errors, 0);
}

static void test_ice_config_errors(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad_addr[] = { "127.0.0.1", "not-an-ip" };
	static const char *const any_addr[] = { "0.0.0.0" };
	struct pl_ice_config cfg;
	struct pl_ice_agent *a = (struct pl_ice_agent *)&cfg;

	assert_int_equal(pl_ice_agent_create(NULL, NULL, &a), PL_EINVAL);
	assert_null(a);
	cfg = (struct pl_ice_config){ .addresses = bad_addr, .n_addresses = 2 };
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), PL_EINVAL);
	cfg = (struct pl_ice_config){ .addresses = any_addr, .n_addresses = 1 };
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), PL_EINVAL);
	cfg = (struct pl_ice_config){ .public_ip = "203.0.113" };
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), PL_EINVAL);
	cfg = (struct pl_ice_config){ .stun_host = "stun.example.org", .stun_port = 3478 };
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), PL_EINVAL);
	cfg = (struct pl_ice_config){ .port_min = 5000, .port_max = 4000 };
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), PL_EINVAL);
	assert_null(a);
}

/* Host candidates carry the public address in place of 127.0.0.1.  They
 * are only looked at: nothing may ever be sent to that address here. */
static void test_ice_public_address(void **state)
{
	struct fixture *fx = *state;
	static const char *const lo[] = { "127.0.0.1" };
	struct pl_ice_config cfg = { .addresses = lo, .n_addresses = 1, .public_ip = "203.0.113.7" };
	struct pl_ice_agent *a;
	struct side s;

	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), 0);
	side_init(&s, "nat", NULL);
	s.expect_addr = "203.0.113.7";
	assert_int_equal(pl_ice_transport_create(a, true, &callbacks, &s, &s.t), 0);
	assert_int_equal(pl_ice_transport_gather(s.t), 0);
	assert_true(s.gathered);
	assert_true(s.n_cands >= 1);
	assert_int_equal(s.errors, 0);
	pl_ice_agent_destroy(a);
}

/* A free loopback UDP port, found by binding to port 0. */
static int free_udp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* A range of one port: the first transport gets it, the second cannot. */
static void test_ice_port_range(void **state)
{
	struct fixture *fx = *state;
	struct pl_ice_config cfg = { 0 };
	struct pl_ice_agent *a;
	struct side s1, s2;
	int port = free_udp_port();

	cfg.port_min = cfg.port_max = (uint16_t)port;
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), 0);
	side_init(&s1, "s1", NULL);
	side_init(&s2, "s2", NULL);
	assert_int_equal(pl_ice_transport_create(a, true, &callbacks, &s1, &s1.t), 0);
	assert_int_equal(pl_ice_transport_create(a, false, &callbacks, &s2, &s2.t), 0);
	assert_int_equal(pl_ice_transport_gather(s1.t), 0);
	assert_int_equal(s1.n_cands, 1);
	assert_int_equal(s1.cand_ports[0], port);
	assert_int_equal(pl_ice_transport_gather(s2.t), PL_EIO);
	assert_int_equal(s2.n_cands, 0);
	assert_int_equal(s1.errors + s2.errors, 0);
	pl_ice_agent_destroy(a);
}

/* With a STUN server that does not answer (a closed loopback port), the
 * host candidate still comes at once and gathering still ends. */
static void test_ice_stun_unanswered(void **state)
{
	struct fixture *fx = *state;
	struct pl_ice_config cfg = { .stun_host = "127.0.0.1" };
	struct pl_ice_agent *a;
	struct side s;
	gint64 t0;

	cfg.stun_port = (uint16_t)free_udp_port();
	assert_int_equal(pl_ice_agent_create(fx->ctx, &cfg, &a), 0);
	side_init(&s, "stun", NULL);
	assert_int_equal(pl_ice_transport_create(a, true, &callbacks, &s, &s.t), 0);
	assert_int_equal(pl_ice_transport_gather(s.t), 0);
	assert_int_equal(s.n_cands, 1);
	t0 = g_get_monotonic_time();
	assert_true(run_until(fx->ctx, side_gathered, &s, 10000));
	fprintf(stderr, "gathering with an unanswered STUN server ended after %.1f s\n",
		(g_get_monotonic_time() - t0) / 1e6);
	assert_int_equal(s.n_cands, 1);
	assert_int_equal(s.errors, 0);
	pl_ice_agent_destroy(a);
}

/* libnice debug output is on in this process (main sets NICE_DEBUG and
 * G_MESSAGES_DEBUG before the first agent): no libnice message may carry
 * an ICE password once an agent exists. */
static unsigned nice_msgs, nice_password_msgs;

static void count_libnice(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud)
{
	nice_msgs++;
	if (strstr(msg, "password") || strstr(msg, "pwd"))
		nice_password_msgs++;
}

static void test_ice_no_passwords_in_debug_output(void **state)
{
	fprintf(stderr, "libnice messages: %u, with a password: %u\n", nice_msgs, nice_password_msgs);
	assert_int_equal(nice_password_msgs, 0);
}

int main(void)
{
	static const char *const domains[] = { "libnice", "libnice-stun", "libnice-socket",
					       "libnice-verbose", "libnice-pseudotcp" };

	setenv("NICE_DEBUG", "all", 1);
	setenv("G_MESSAGES_DEBUG", "all", 1);
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		g_log_set_handler(domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
				  count_libnice, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ice_connect_and_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_send_before_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_wrong_password_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_remote_candidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_destroy_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_consent_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_public_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_port_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_stun_unanswered, setup, teardown),
		cmocka_unit_test(test_ice_no_passwords_in_debug_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
