/* tests/unit/test_dtls.c: DTLS-SRTP associations through media/dtls.h.
 *
 * Two pl_dtls (a server and a client) are wired together in memory: each
 * send callback queues the datagram, and a pump delivers the queues to the
 * other side until both settle, waiting for the real retransmission timer
 * when nothing is in flight.  Datagrams can be dropped on the way to prove
 * retransmission.  A raw OpenSSL client stands in for peers that offer only
 * AES-CM (aiortc) or no use_srtp at all.  The keys each side hands out are
 * then used with media/srtp.h for real, in both directions.
 * The counters are process-wide, so tests compare before and after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "media/dtls.h"
#include "media/srtp.h"

#define QCAP 64
#define DGRAM_CAP 2048

struct side {
	struct pl_dtls *d;
	struct side *peer;
	uint8_t q[QCAP][DGRAM_CAP];
	size_t qlen[QCAP], nq;
	bool overflow;
	int drop;               /* drop this many of the next datagrams */
	int drop_epoch1;        /* drop this many ChangeCipherSpec/epoch-1 datagrams */
	size_t sent, max_dgram;
	bool connected, failed;
	int err, n_connected, n_failed;
	struct pl_dtls_keys keys;
};

/* Certificates made once per run: server, client, and a stranger whose
 * fingerprint is the wrong one to expect. */
static struct pl_dtls_cert *srv_cert, *cli_cert, *other_cert;
static char tmpdir[64];
static char cli_cert_pem[128], cli_key_pem[128];

static void on_send(void *ud, const uint8_t *buf, size_t len)
{
	struct side *s = ud;

	s->sent++;
	if (len > s->max_dgram)
		s->max_dgram = len;
	if (s->drop > 0) {
		s->drop--;
		return;
	}
	if (s->drop_epoch1 > 0 && (buf[0] == 20 || (len > 4 && buf[3] == 0 && buf[4] == 1))) {
		s->drop_epoch1--;
		return;
	}
	if (s->nq == QCAP || len > DGRAM_CAP) {
		s->overflow = true;
		return;
	}
	memcpy(s->q[s->nq], buf, len);
	s->qlen[s->nq++] = len;
}

static void on_connected(void *ud, const struct pl_dtls_keys *keys)
{
	struct side *s = ud;

	s->connected = true;
	s->n_connected++;
	s->keys = *keys;
}

static void on_failed(void *ud, int err)
{
	struct side *s = ud;

	s->failed = true;
	s->n_failed++;
	s->err = err;
}

static const struct pl_dtls_callbacks callbacks = { on_send, on_connected, on_failed };

static struct side *side_new(void)
{
	struct side *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static void side_free(struct side *s)
{
	if (!s)
		return;
	pl_dtls_destroy(s->d);
	free(s);
}

static void side_create(struct side *s, const struct pl_dtls_cert *own, enum pl_dtls_role role,
			const char *alg, const char *expected_fp)
{
	assert_int_equal(pl_dtls_create(own, role, alg, expected_fp, &callbacks, s, &s->d), 0);
	assert_non_null(s->d);
}

/* Hands everything s sent to its peer, one datagram per call. */
static size_t deliver(struct side *s)
{
	size_t n = s->nq;

	s->nq = 0;
	for (size_t i = 0; i < n; i++)
		(void)pl_dtls_handle(s->peer->d, s->q[i], s->qlen[i]);
	return n;
}

static bool settled(const struct side *s)
{
	return s->connected || s->failed;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Delivers until both sides settle; when nothing is in flight, waits for
 * the earlier retransmission timer and fires both. */
static void pump(struct side *a, struct side *b)
{
	for (int round = 0; round < 200; round++) {
		size_t moved = deliver(a) + deliver(b);
		int64_t ta, tb, t;

		if (settled(a) && settled(b) && a->nq == 0 && b->nq == 0)
			return;
		if (moved)
			continue;
		ta = pl_dtls_timeout_ms(a->d), tb = pl_dtls_timeout_ms(b->d);
		t = ta < 0 ? tb : (tb < 0 || ta < tb ? ta : tb);
		if (t < 0)
			return; /* stuck: nothing in flight, no timer */
		sleep_ms(t + 1);
		pl_dtls_on_timeout(a->d);
		pl_dtls_on_timeout(b->d);
	}
}

static void link_sides(struct side *a, struct side *b)
{
	a->peer = b, b->peer = a;
}

static void lower(char *dst, const char *src)
{
	while ((*dst++ = (char)tolower((unsigned char)*src++)))
		;
}

/* A server (expecting the client's certificate) and a started client. */
static void make_pair(struct side *srv, struct side *cli, const char *srv_expects,
		      const char *cli_expects)
{
	link_sides(srv, cli);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", srv_expects);
	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", cli_expects);
	assert_int_equal(pl_dtls_start(srv->d), 0);
	assert_int_equal(pl_dtls_start(cli->d), 0);
}

static int group_setup(void **state)
{
	char *dir;

	if (pl_srtp_global_init() != 0)
		return -1;
	if (pl_dtls_cert_generate(&srv_cert) || pl_dtls_cert_generate(&cli_cert) ||
	    pl_dtls_cert_generate(&other_cert))
		return -1;
	strcpy(tmpdir, "/tmp/pl-test-dtls-XXXXXX");
	dir = mkdtemp(tmpdir);
	if (!dir)
		return -1;
	snprintf(cli_cert_pem, sizeof(cli_cert_pem), "%s/cli.crt", tmpdir);
	snprintf(cli_key_pem, sizeof(cli_key_pem), "%s/cli.key", tmpdir);
	return pl_dtls_cert_save(cli_cert, cli_cert_pem, cli_key_pem) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	unlink(cli_cert_pem);
	unlink(cli_key_pem);
	rmdir(tmpdir);
	pl_dtls_cert_destroy(srv_cert);
	pl_dtls_cert_destroy(cli_cert);
	pl_dtls_cert_destroy(other_cert);
	return 0;
}

/* ---- SRTP with the exported keys ---------------------------------------- */

/* from protects with its local keys; to unprotects with its remote keys. */
static void srtp_one_way(const struct pl_dtls_keys *from, const struct pl_dtls_keys *to)
{
	struct pl_srtp *tx = NULL, *rx = NULL;
	alignas(8) uint8_t buf[1200 + PL_SRTP_MAX_TRAILER], plain[1200];
	size_t len = 1200;

	assert_int_equal(pl_srtp_create(from->profile, from->local_key, from->key_len,
					from->local_salt, from->salt_len, false, &tx), 0);
	assert_int_equal(pl_srtp_create(to->profile, to->remote_key, to->key_len, to->remote_salt,
					to->salt_len, true, &rx), 0);
	memset(buf, 0x5A, sizeof(buf));
	buf[0] = 0x80, buf[1] = 111, buf[3] = 1, buf[11] = 0x42;
	memcpy(plain, buf, len);
	assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
	assert_int_equal(len, 1200);
	assert_memory_equal(buf, plain, len);
	pl_srtp_destroy(tx);
	pl_srtp_destroy(rx);
}

static void assert_keys_mirror(const struct pl_dtls_keys *a, const struct pl_dtls_keys *b)
{
	assert_int_equal(a->profile, b->profile);
	assert_int_equal(a->key_len, b->key_len);
	assert_int_equal(a->salt_len, b->salt_len);
	assert_memory_equal(a->local_key, b->remote_key, a->key_len);
	assert_memory_equal(a->local_salt, b->remote_salt, a->salt_len);
	assert_memory_equal(a->remote_key, b->local_key, a->key_len);
	assert_memory_equal(a->remote_salt, b->local_salt, a->salt_len);
	assert_memory_not_equal(a->local_key, a->remote_key, a->key_len);
}

/* ---- tests -------------------------------------------------------------- */

static void test_dtls_cert_fingerprint_format(void **state)
{
	const char *fp = pl_dtls_cert_fingerprint(srv_cert);

	assert_int_equal(strlen(fp), 32 * 3 - 1);
	for (size_t i = 0; i < strlen(fp); i++) {
		if (i % 3 == 2)
			assert_int_equal(fp[i], ':');
		else
			assert_true(isdigit((unsigned char)fp[i]) || (fp[i] >= 'A' && fp[i] <= 'F'));
	}
	assert_string_not_equal(fp, pl_dtls_cert_fingerprint(cli_cert));
}

static void test_dtls_handshake_gcm_and_srtp(void **state)
{
	struct side *srv = side_new(), *cli = side_new();
	struct pl_dtls_stats before, after;
	char lower_fp[128];

	pl_dtls_stats_get(&before);
	/* SDP fingerprints compare case-insensitively. */
	lower(lower_fp, pl_dtls_cert_fingerprint(srv_cert));
	make_pair(srv, cli, pl_dtls_cert_fingerprint(cli_cert), lower_fp);
	assert_false(pl_dtls_is_connected(cli->d));
	pump(srv, cli);

	assert_true(srv->connected && cli->connected);
	assert_false(srv->failed || cli->failed || srv->overflow || cli->overflow);
	assert_true(pl_dtls_is_connected(srv->d) && pl_dtls_is_connected(cli->d));
	assert_int_equal(srv->n_connected, 1);
	assert_int_equal(cli->n_connected, 1);
	assert_int_equal(cli->keys.profile, PL_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(cli->keys.key_len, 16);
	assert_int_equal(cli->keys.salt_len, 12);
	assert_keys_mirror(&cli->keys, &srv->keys);
	assert_true(srv->max_dgram <= 1200 && cli->max_dgram <= 1200);
	assert_int_equal(pl_dtls_timeout_ms(srv->d), -1);
	assert_int_equal(pl_dtls_timeout_ms(cli->d), -1);

	srtp_one_way(&cli->keys, &srv->keys);
	srtp_one_way(&srv->keys, &cli->keys);

	pl_dtls_stats_get(&after);
	assert_int_equal(after.handshakes_ok - before.handshakes_ok, 2);
	assert_int_equal(after.handshakes_failed, before.handshakes_failed);

	/* Destroying the client sends close_notify; the server learns of it. */
	pl_dtls_destroy(cli->d);
	cli->d = NULL;
	assert_int_equal(cli->nq, 1);
	deliver(cli);
	assert_true(srv->failed);
	assert_int_equal(srv->err, PL_ECLOSED);
	assert_false(pl_dtls_is_connected(srv->d));
	pl_dtls_stats_get(&after);
	assert_int_equal(after.closed_by_peer - before.closed_by_peer, 1);
	/* Nothing more is accepted, or reported. */
	assert_int_equal(pl_dtls_handle(srv->d, (const uint8_t[13]){ 23, 0xfe, 0xfd }, 13),
			 PL_ECLOSED);
	assert_int_equal(srv->n_failed, 1);
	side_free(srv);
	side_free(cli);
}

static void test_dtls_wrong_fingerprint_client_side(void **state)
{
	struct side *srv = side_new(), *cli = side_new();
	struct pl_dtls_stats before, after;

	pl_dtls_stats_get(&before);
	make_pair(srv, cli, pl_dtls_cert_fingerprint(cli_cert),
		  pl_dtls_cert_fingerprint(other_cert));
	pump(srv, cli);
	assert_true(cli->failed);
	assert_false(cli->connected);
	assert_int_equal(cli->err, PL_EAUTH);
	assert_false(pl_dtls_is_connected(cli->d));
	/* The server saw a good handshake, then the client's close_notify. */
	assert_true(srv->failed);
	assert_int_equal(srv->err, PL_ECLOSED);
	pl_dtls_stats_get(&after);
	assert_int_equal(after.fingerprint_mismatches - before.fingerprint_mismatches, 1);
	side_free(srv);
	side_free(cli);
}

static void test_dtls_wrong_fingerprint_server_side(void **state)
{
	struct side *srv = side_new(), *cli = side_new();

	make_pair(srv, cli, pl_dtls_cert_fingerprint(other_cert),
		  pl_dtls_cert_fingerprint(srv_cert));
	pump(srv, cli);
	assert_true(srv->failed);
	assert_false(srv->connected);
	assert_int_equal(srv->err, PL_EAUTH);
	assert_int_equal(srv->n_failed, 1);
	/* The client finished its side, then got the server's close_notify. */
	assert_true(cli->failed);
	assert_int_equal(cli->err, PL_ECLOSED);
	assert_int_equal(pl_dtls_timeout_ms(srv->d), -1);
	side_free(srv);
	side_free(cli);
}

static void test_dtls_lost_client_hello_is_retransmitted(void **state)
{
	struct side *srv = side_new(), *cli = side_new();
	struct pl_dtls_stats before, after;
	int64_t t;

	pl_dtls_stats_get(&before);
	link_sides(srv, cli);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
	assert_int_equal(pl_dtls_timeout_ms(cli->d), -1); /* not started */
	cli->drop = 1;
	/* The server is not started: the ClientHello starts it. */
	assert_int_equal(pl_dtls_start(cli->d), 0);
	assert_int_equal(cli->sent, 1);
	assert_int_equal(cli->nq, 0);
	t = pl_dtls_timeout_ms(cli->d);
	assert_true(t >= 0 && t <= 100); /* our 100 ms first timer, not OpenSSL's 1 s */
	assert_int_equal(pl_dtls_timeout_ms(srv->d), -1);
	pl_dtls_on_timeout(cli->d); /* early: nothing happens */
	assert_int_equal(cli->sent, 1);
	pump(srv, cli);
	assert_true(srv->connected && cli->connected);
	assert_true(cli->sent >= 3);
	assert_keys_mirror(&cli->keys, &srv->keys);
	pl_dtls_stats_get(&after);
	assert_true(after.retransmits - before.retransmits >= 1);
	side_free(srv);
	side_free(cli);
}

static void test_dtls_lost_server_flight_is_retransmitted(void **state)
{
	struct side *srv = side_new(), *cli = side_new();

	link_sides(srv, cli);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
	srv->drop = 2; /* ServerHello and Certificate */
	assert_int_equal(pl_dtls_start(srv->d), 0);
	assert_int_equal(pl_dtls_start(cli->d), 0);
	pump(srv, cli);
	assert_true(srv->connected && cli->connected);
	assert_keys_mirror(&srv->keys, &cli->keys);
	side_free(srv);
	side_free(cli);
}

/* The server's last flight is lost: the server is already up, the client
 * resends its flight, and the connected server must answer it again. */
static void test_dtls_lost_final_flight_is_retransmitted(void **state)
{
	struct side *srv = side_new(), *cli = side_new();

	link_sides(srv, cli);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
	srv->drop_epoch1 = 2; /* ChangeCipherSpec and Finished */
	assert_int_equal(pl_dtls_start(cli->d), 0);
	pump(srv, cli);
	assert_int_equal(srv->drop_epoch1, 0);
	assert_true(srv->connected && cli->connected);
	assert_int_equal(srv->n_connected, 1);
	assert_keys_mirror(&srv->keys, &cli->keys);
	side_free(srv);
	side_free(cli);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
	return *s;
}

/* Random datagrams, some dressed as DTLS records, the lengths all wrong. */
static void feed_garbage(struct pl_dtls *d, uint32_t *seed, int n)
{
	uint8_t buf[1500];

	for (int i = 0; i < n; i++) {
		size_t len = 13 + xorshift(seed) % 1200;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)xorshift(seed);
		buf[0] = (uint8_t)(20 + xorshift(seed) % 4); /* CCS, alert, handshake, data */
		if (i % 2)
			buf[1] = 0xfe, buf[2] = 0xfd; /* DTLS 1.2 */
		assert_int_equal(pl_dtls_handle(d, buf, len), 0);
	}
}

static void test_dtls_garbage_is_dropped(void **state)
{
	struct side *srv = side_new(), *cli = side_new();
	static uint8_t big[20000];
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	static const uint8_t rtp[20] = { 0x80, 0x60, 0x00, 0x01 };
	struct pl_dtls_stats before, after;
	uint32_t seed = 0x12345678;

	pl_dtls_stats_get(&before);
	make_pair(srv, cli, pl_dtls_cert_fingerprint(cli_cert), pl_dtls_cert_fingerprint(srv_cert));
	/* Refused outright (RFC 7983 demux, sizes). */
	assert_int_equal(pl_dtls_handle(srv->d, stun, sizeof(stun)), PL_EPROTO);
	assert_int_equal(pl_dtls_handle(srv->d, rtp, sizeof(rtp)), PL_EPROTO);
	assert_int_equal(pl_dtls_handle(srv->d, (const uint8_t[5]){ 22, 0xfe, 0xfd }, 5), PL_ETRUNC);
	assert_int_equal(pl_dtls_handle(srv->d, stun, 0), PL_ETRUNC);
	big[0] = 22;
	assert_int_equal(pl_dtls_handle(srv->d, big, sizeof(big)), PL_ETOOBIG);
	pl_dtls_stats_get(&after);
	assert_int_equal(after.datagrams_dropped - before.datagrams_dropped, 5);

	/* Consumed and discarded by OpenSSL, before, during and after the
	 * handshake, on both sides. */
	feed_garbage(srv->d, &seed, 50);
	deliver(cli); /* ClientHello */
	feed_garbage(cli->d, &seed, 50);
	pump(srv, cli);
	assert_true(srv->connected && cli->connected);
	feed_garbage(srv->d, &seed, 50);
	feed_garbage(cli->d, &seed, 50);
	assert_false(srv->failed || cli->failed);
	assert_true(pl_dtls_is_connected(srv->d) && pl_dtls_is_connected(cli->d));
	side_free(srv);
	side_free(cli);
}

static void test_dtls_create_rejects(void **state)
{
	struct side *s = side_new();
	const char *good = pl_dtls_cert_fingerprint(cli_cert);
	char bad[128];
	struct pl_dtls *d = NULL;
	static const struct pl_dtls_callbacks no_send = { NULL, on_connected, on_failed };

	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "md5", good, &callbacks, s, &d),
			 PL_EINVAL);
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-1", good, &callbacks, s, &d),
			 PL_EINVAL); /* a SHA-256 length for SHA-1 */
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, NULL, good, &callbacks, s, &d),
			 PL_EINVAL);
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", NULL, &callbacks, s, &d),
			 PL_EINVAL);
	strcpy(bad, good);
	bad[2] = '-';
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", bad, &callbacks, s, &d),
			 PL_EINVAL);
	strcpy(bad, good);
	bad[0] = 'G';
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", bad, &callbacks, s, &d),
			 PL_EINVAL);
	strcpy(bad, good);
	bad[strlen(bad) - 3] = '\0'; /* one byte short */
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", bad, &callbacks, s, &d),
			 PL_EINVAL);
	snprintf(bad, sizeof(bad), "%s:00", good); /* one byte long */
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", bad, &callbacks, s, &d),
			 PL_EINVAL);
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "sha-256", good, &no_send, s, &d),
			 PL_EINVAL);
	assert_int_equal(pl_dtls_create(NULL, PL_DTLS_SERVER, "sha-256", good, &callbacks, s, &d),
			 PL_EINVAL);
	assert_null(d);
	/* Algorithm names are case-insensitive too. */
	assert_int_equal(pl_dtls_create(srv_cert, PL_DTLS_SERVER, "SHA-256", good, &callbacks, s, &d),
			 0);
	pl_dtls_destroy(d);
	pl_dtls_destroy(NULL);
	pl_dtls_cert_destroy(NULL);
	free(s);
}

static void test_dtls_client_ignores_datagrams_before_start(void **state)
{
	struct side *cli = side_new();
	static const uint8_t rec[13] = { 22, 0xfe, 0xfd };

	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
	assert_int_equal(pl_dtls_handle(cli->d, rec, sizeof(rec)), PL_EPROTO);
	assert_int_equal(pl_dtls_timeout_ms(cli->d), -1);
	pl_dtls_on_timeout(cli->d);
	assert_int_equal(cli->sent, 0);
	assert_false(cli->failed);
	side_free(cli);
}

static void test_dtls_cert_save_load_round_trip(void **state)
{
	struct pl_dtls_cert *loaded = NULL, *mixed = NULL;
	char crt[128], key[128], other_crt[128], other_key[160];
	struct stat st;

	snprintf(crt, sizeof(crt), "%s/srv.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/srv.key", tmpdir);
	snprintf(other_crt, sizeof(other_crt), "%s/other.crt", tmpdir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", tmpdir);
	assert_int_equal(pl_dtls_cert_save(srv_cert, crt, key), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pl_dtls_cert_load(crt, key, &loaded), 0);
	assert_string_equal(pl_dtls_cert_fingerprint(loaded), pl_dtls_cert_fingerprint(srv_cert));

	/* A key file somebody made readable is replaced by a 0600 one, and so
	 * is a leftover temporary file. */
	assert_int_equal(chmod(key, 0644), 0);
	snprintf(other_key, sizeof(other_key), "%s.tmp", key);
	assert_int_equal(close(open(other_key, O_WRONLY | O_CREAT, 0644)), 0);
	assert_int_equal(pl_dtls_cert_save(srv_cert, crt, key), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_not_equal(stat(other_key, &st), 0); /* renamed away */
	snprintf(other_key, sizeof(other_key), "%s/other.key", tmpdir);

	/* A certificate with somebody else's key, and missing files. */
	assert_int_equal(pl_dtls_cert_save(other_cert, other_crt, other_key), 0);
	assert_int_equal(pl_dtls_cert_load(crt, other_key, &mixed), PL_EIO);
	assert_int_equal(pl_dtls_cert_load(crt, "/nonexistent/x.key", &mixed), PL_EIO);
	assert_int_equal(pl_dtls_cert_load(key, key, &mixed), PL_EIO); /* a key is no cert */
	assert_null(mixed);
	/* A failed save leaves the old pair as it was. */
	assert_int_equal(pl_dtls_cert_save(other_cert, "/nonexistent/dir/x.crt", key), PL_EIO);
	assert_int_equal(pl_dtls_cert_load(crt, key, &mixed), 0);
	assert_string_equal(pl_dtls_cert_fingerprint(mixed), pl_dtls_cert_fingerprint(srv_cert));
	pl_dtls_cert_destroy(mixed);
	snprintf(other_key, sizeof(other_key), "%s.tmp", key);
	assert_int_not_equal(stat(other_key, &st), 0);
	snprintf(other_key, sizeof(other_key), "%s/other.key", tmpdir);

	/* The loaded identity works in a handshake. */
	{
		struct side *srv = side_new(), *cli = side_new();

		link_sides(srv, cli);
		side_create(srv, loaded, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
		side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
		assert_int_equal(pl_dtls_start(cli->d), 0);
		/* The association keeps what it needs from the cert. */
		pl_dtls_cert_destroy(loaded);
		loaded = NULL;
		pump(srv, cli);
		assert_true(srv->connected && cli->connected);
		side_free(srv);
		side_free(cli);
	}
	unlink(crt);
	unlink(key);
	unlink(other_crt);
	unlink(other_key);
}

/* ---- a raw OpenSSL client ----------------------------------------------- */

struct raw {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
};

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

static void raw_client_init(struct raw *r, const char *srtp_profiles)
{
	r->ctx = SSL_CTX_new(DTLS_client_method());
	assert_non_null(r->ctx);
	assert_int_equal(SSL_CTX_use_certificate_file(r->ctx, cli_cert_pem, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(r->ctx, cli_key_pem, SSL_FILETYPE_PEM), 1);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, accept_any);
	if (srtp_profiles)
		assert_int_equal(SSL_CTX_set_tlsext_use_srtp(r->ctx, srtp_profiles), 0);
	r->ssl = SSL_new(r->ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(r->rbio, -1);
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_options(r->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(r->ssl, 1200);
	SSL_set_connect_state(r->ssl);
}

static void raw_client_free(struct raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
}

/* The raw client's output goes to srv as one datagram per flight (records
 * back to back, as a DTLS stack may pack them); srv's datagrams go into
 * the client's memory BIO. */
static void raw_pump(struct raw *r, struct side *srv)
{
	uint8_t buf[8192];

	for (int round = 0; round < 50; round++) {
		int n;

		(void)SSL_do_handshake(r->ssl);
		n = BIO_read(r->wbio, buf, sizeof(buf));
		if (n > 0)
			(void)pl_dtls_handle(srv->d, buf, (size_t)n);
		for (size_t i = 0; i < srv->nq; i++)
			BIO_write(r->rbio, srv->q[i], (int)srv->qlen[i]);
		srv->nq = 0;
		if (SSL_is_init_finished(r->ssl) && settled(srv) && BIO_ctrl_pending(r->wbio) == 0)
			break;
	}
	ERR_clear_error();
}

static void test_dtls_aes_cm_only_peer(void **state)
{
	struct side *srv = side_new();
	struct raw r;
	uint8_t km[2 * (16 + 14)];
	const SRTP_PROTECTION_PROFILE *p;

	raw_client_init(&r, "SRTP_AES128_CM_SHA1_80");
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
	assert_int_equal(pl_dtls_start(srv->d), 0);
	raw_pump(&r, srv);
	assert_true(SSL_is_init_finished(r.ssl));
	assert_true(srv->connected);
	assert_int_equal(srv->keys.profile, PL_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(srv->keys.key_len, 16);
	assert_int_equal(srv->keys.salt_len, 14);
	p = SSL_get_selected_srtp_profile(r.ssl);
	assert_non_null(p);
	assert_int_equal(p->id, SRTP_AES128_CM_SHA1_80);
	/* RFC 5764 4.2 layout from the client's side: client_key, server_key,
	 * client_salt, server_salt. */
	assert_int_equal(SSL_export_keying_material(r.ssl, km, sizeof(km), "EXTRACTOR-dtls_srtp",
						    19, NULL, 0, 0), 1);
	assert_memory_equal(srv->keys.remote_key, km, 16);
	assert_memory_equal(srv->keys.local_key, km + 16, 16);
	assert_memory_equal(srv->keys.remote_salt, km + 32, 14);
	assert_memory_equal(srv->keys.local_salt, km + 46, 14);
	raw_client_free(&r);
	side_free(srv);
}

static void test_dtls_peer_without_use_srtp_fails(void **state)
{
	struct side *srv = side_new();
	struct raw r;

	raw_client_init(&r, NULL);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cli_cert));
	raw_pump(&r, srv);
	assert_true(srv->failed);
	assert_false(srv->connected);
	assert_int_equal(srv->err, PL_EPROTO);
	raw_client_free(&r);
	side_free(srv);
}

/* Fingerprints in other hashes, as some SDPs carry them. */
static void test_dtls_sha1_fingerprint(void **state)
{
	struct side *srv = side_new(), *cli = side_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char fp[3 * EVP_MAX_MD_SIZE];
	X509 *x;
	FILE *f = fopen(cli_cert_pem, "r");

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	assert_int_equal(X509_digest(x, EVP_sha1(), md, &n), 1);
	X509_free(x);
	for (unsigned int i = 0; i < n; i++)
		sprintf(fp + 3 * i, "%02x%s", md[i], i + 1 < n ? ":" : "");

	link_sides(srv, cli);
	side_create(srv, srv_cert, PL_DTLS_SERVER, "SHA-1", fp);
	side_create(cli, cli_cert, PL_DTLS_CLIENT, "sha-256", pl_dtls_cert_fingerprint(srv_cert));
	assert_int_equal(pl_dtls_start(cli->d), 0);
	pump(srv, cli);
	assert_true(srv->connected && cli->connected);
	side_free(srv);
	side_free(cli);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dtls_cert_fingerprint_format),
		cmocka_unit_test(test_dtls_handshake_gcm_and_srtp),
		cmocka_unit_test(test_dtls_wrong_fingerprint_client_side),
		cmocka_unit_test(test_dtls_wrong_fingerprint_server_side),
		cmocka_unit_test(test_dtls_lost_client_hello_is_retransmitted),
		cmocka_unit_test(test_dtls_lost_server_flight_is_retransmitted),
		cmocka_unit_test(test_dtls_lost_final_flight_is_retransmitted),
		cmocka_unit_test(test_dtls_garbage_is_dropped),
		cmocka_unit_test(test_dtls_create_rejects),
		cmocka_unit_test(test_dtls_client_ignores_datagrams_before_start),
		cmocka_unit_test(test_dtls_cert_save_load_round_trip),
		cmocka_unit_test(test_dtls_aes_cm_only_peer),
		cmocka_unit_test(test_dtls_peer_without_use_srtp_fails),
		cmocka_unit_test(test_dtls_sha1_fingerprint),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
