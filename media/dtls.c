/* media/dtls.c: DTLS 1.2 for DTLS-SRTP (RFC 5763/5764) over any datagram
 * transport, with OpenSSL 3.0.
 *
 * A pl_dtls_cert is the server's identity: an ECDSA P-256 key, a
 * self-signed certificate, its SHA-256 fingerprint for SDP, and the one
 * SSL_CTX all associations with that identity share (a context per
 * association would redo the cipher, curve and use_srtp set-up per peer).
 * It is immutable once made, so any thread may create associations from
 * it; OpenSSL reference-counts context, key and certificate, so destroying
 * the cert while associations still run is safe.
 *
 * A pl_dtls is one association.  OpenSSL never sees a socket: received
 * datagrams go into a memory BIO (reporting "retry", not EOF, when empty),
 * and each record OpenSSL writes goes through a small custom BIO straight
 * to the send callback, so one BIO write is one datagram on the ICE
 * transport.  OpenSSL before 3.2 has no datagram memory BIO, and a plain
 * memory BIO would glue a flight together with no datagram boundaries.
 * The MTU is fixed at 1200 bytes (SSL_OP_NO_QUERY_MTU: no socket to ask),
 * which fits any path WebRTC runs over, TURN included.
 *
 * The peer's certificate is accepted during the handshake whatever it is
 * (WebRTC certificates are self-signed); when the handshake finishes it is
 * hashed and compared with the fingerprint from the peer's SDP, and a
 * mismatch fails the association with PL_EAUTH after a close_notify, so
 * the peer stops too.  use_srtp offers AEAD_AES_128_GCM first (several
 * times cheaper per packet in libsrtp), then AES128_CM_SHA1_80 (all aiortc
 * knows).  The SRTP keys come from the RFC 5705 exporter as client key,
 * server key, client salt, server salt (RFC 5764 4.2); they are handed to
 * connected() and wiped, never logged.
 *
 * Retransmission: OpenSSL keeps the timer; this file reads it
 * (pl_dtls_timeout_ms) and fires it (pl_dtls_on_timeout) for the caller's
 * event loop.  The first timeout is 100 ms instead of OpenSSL's 1 s,
 * doubling up to 3 s; OpenSSL gives up at the 13th timeout, about 27 s
 * after the first flight, inside ICE consent's 30 s.
 *
 * Threads: an association belongs to the media worker owning its
 * transport.  Callbacks run synchronously inside start, handle, on_timeout
 * and destroy, and must neither re-enter nor destroy the association.
 * OpenSSL's error queue is per thread and shared by every association on
 * it, so each entry point clears it around its OpenSSL calls.
 */
#include "media/dtls.h"
#include "media/dtls_internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/log.h"

#define LINK_MTU_BYTES 1200
#define TIMER_INITIAL_US 100000u
#define TIMER_MAX_US 3000000u
#define RECORD_HEADER_BYTES 13          /* DTLS record header (RFC 6347 4.1) */
#define DATAGRAM_MAX_BYTES 16384        /* far above any MTU; keeps BIO reads whole */
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
#define KEYING_MAX_BYTES (2 * (32 + 14))



enum dtls_state {
	ST_NEW,         /* created, not started */
	ST_HANDSHAKING, /* flights in progress; the retransmission timer runs */
	ST_CONNECTED,   /* fingerprint checked, keys handed out */
	ST_FAILED,      /* failed or closed; everything is dropped */
};

struct pl_dtls {
	SSL *ssl;
	BIO *rbio; /* owned by ssl */
	enum pl_dtls_role role;
	enum dtls_state state;
	struct pl_dtls_callbacks cb;
	void *ud;
	const EVP_MD *remote_md;
	uint8_t remote_fp[EVP_MAX_MD_SIZE];
	size_t remote_fp_len;
};

/* ---- counters ----------------------------------------------------------- */

static _Atomic uint64_t n_handshakes_ok, n_handshakes_failed, n_fp_mismatches;
static _Atomic uint64_t n_closed_by_peer, n_dropped, n_retransmits;

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void pl_dtls_stats_get(struct pl_dtls_stats *out)
{
#define LOAD(c) atomic_load_explicit(&(c), memory_order_relaxed)
	out->handshakes_ok = LOAD(n_handshakes_ok);
	out->handshakes_failed = LOAD(n_handshakes_failed);
	out->fingerprint_mismatches = LOAD(n_fp_mismatches);
	out->closed_by_peer = LOAD(n_closed_by_peer);
	out->datagrams_dropped = LOAD(n_dropped);
	out->retransmits = LOAD(n_retransmits);
#undef LOAD
}

/* ---- the send BIO ------------------------------------------------------- */

static int send_bio_write(BIO *b, const char *buf, int len)
{
	struct pl_dtls *d = BIO_get_data(b);

	if (len <= 0 || !d)
		return 0;
	d->cb.send(d->ud, (const uint8_t *)buf, (size_t)len);
	return len;
}

static long send_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
		return LINK_MTU_BYTES;
	default: /* pending bytes, MTU overhead, peer address: none */
		return 0;
	}
}

static pthread_once_t send_method_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *send_method; /* lives as long as the process */

static void send_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pl_dtls_send");

	if (m && BIO_meth_set_write(m, send_bio_write) && BIO_meth_set_ctrl(m, send_bio_ctrl))
		send_method = m;
	else
		BIO_meth_free(m);
}

/* ---- associations ------------------------------------------------------- */

static unsigned int next_timer_us(SSL *ssl, unsigned int timer_us)
{
	(void)ssl;
	if (timer_us == 0)
		return TIMER_INITIAL_US;
	return timer_us >= TIMER_MAX_US / 2 ? TIMER_MAX_US : 2 * timer_us;
}

static const EVP_MD *md_by_sdp_name(const char *alg)
{
	static const struct {
		const char *name;
		const EVP_MD *(*md)(void);
	} algs[] = { { "sha-1", EVP_sha1 }, { "sha-256", EVP_sha256 },
		     { "sha-384", EVP_sha384 }, { "sha-512", EVP_sha512 } };

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcasecmp(alg, algs[i].name) == 0)
			return algs[i].md();
	return NULL;
}

static int hex_digit(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* "AB:CD:..." with exactly the digest's length, any case (RFC 8122). */
static int parse_fingerprint(struct pl_dtls *d, const char *alg, const char *fp)
{
	const EVP_MD *md = alg ? md_by_sdp_name(alg) : NULL;
	size_t n;

	if (!md || !fp)
		return PL_EINVAL;
	n = (size_t)EVP_MD_get_size(md);
	if (strlen(fp) != 3 * n - 1)
		return PL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(fp[3 * i]), lo = hex_digit(fp[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i + 1 < n && fp[3 * i + 2] != ':'))
			return PL_EINVAL;
		d->remote_fp[i] = (uint8_t)(hi << 4 | lo);
	}
	d->remote_md = md;
	d->remote_fp_len = n;
	return 0;
}

static int ssl_new(struct pl_dtls *d, const struct pl_dtls_cert *cert)
{
	BIO *rbio = NULL, *wbio = NULL;

	pthread_once(&send_method_once, send_method_init);
	if (!send_method)
		return PL_EIO;
	d->ssl = SSL_new(cert->ctx);
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(send_method);
	if (!d->ssl || !rbio || !wbio) {
		BIO_free(rbio);
		BIO_free(wbio);
		return PL_EIO;
	}
	BIO_set_mem_eof_return(rbio, -1); /* empty means "retry", not EOF */
	BIO_set_data(wbio, d);
	BIO_set_init(wbio, 1);
	SSL_set_bio(d->ssl, rbio, wbio);
	d->rbio = rbio; /* the SSL owns both BIOs now */
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	if (!DTLS_set_link_mtu(d->ssl, LINK_MTU_BYTES))
		return PL_EIO;
	DTLS_set_timer_cb(d->ssl, next_timer_us);
	if (d->role == PL_DTLS_CLIENT)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	return 0;
}

int pl_dtls_create(const struct pl_dtls_cert *cert, enum pl_dtls_role role,
		   const char *remote_fp_alg, const char *remote_fp,
		   const struct pl_dtls_callbacks *cb, void *ud, struct pl_dtls **out)
{
	struct pl_dtls *d;
	int err;

	if (!cert || !cb || !cb->send || !out ||
	    (role != PL_DTLS_SERVER && role != PL_DTLS_CLIENT))
		return PL_EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return PL_EIO;
	d->role = role, d->state = ST_NEW;
	d->cb = *cb, d->ud = ud;
	err = parse_fingerprint(d, remote_fp_alg, remote_fp);
	if (!err) {
		ERR_clear_error();
		err = ssl_new(d, cert);
		ERR_clear_error();
	}
	if (err) {
		pl_dtls_destroy(d);
		return err;
	}
	*out = d;
	return 0;
}

static void log_ssl_failure(const char *what)
{
	char msg[256];
	unsigned long e = ERR_peek_last_error();

	if (e == 0) {
		PL_LOG(PL_LOG_INFO, "dtls", "%s failed", what);
		return;
	}
	ERR_error_string_n(e, msg, sizeof(msg));
	PL_LOG(PL_LOG_INFO, "dtls", "%s failed: %s", what, msg);
}

/* The association is over; failed() is the last callback it makes. */
static void fail(struct pl_dtls *d, int err)
{
	if (d->state == ST_HANDSHAKING)
		count(&n_handshakes_failed);
	if (err == PL_ECLOSED)
		count(&n_closed_by_peer);
	d->state = ST_FAILED;
	ERR_clear_error();
	if (d->cb.failed)
		d->cb.failed(d->ud, err);
}

/* An SSL call failed with SSL_get_error() == ssl_err. */
static void fail_ssl(struct pl_dtls *d, int ssl_err, const char *what)
{
	if (ssl_err == SSL_ERROR_ZERO_RETURN || (SSL_get_shutdown(d->ssl) & SSL_RECEIVED_SHUTDOWN)) {
		PL_LOG(PL_LOG_DEBUG, "dtls", "peer sent close_notify");
		fail(d, PL_ECLOSED);
		return;
	}
	log_ssl_failure(what);
	fail(d, PL_EPROTO);
}

static int verify_peer(struct pl_dtls *d)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *peer = SSL_get0_peer_certificate(d->ssl);

	if (!peer || !X509_digest(peer, d->remote_md, md, &n) || n != d->remote_fp_len ||
	    CRYPTO_memcmp(md, d->remote_fp, n) != 0) {
		/* The caller logs the PL_EAUTH it gets, with its context. */
		PL_LOG(PL_LOG_DEBUG, "dtls", "peer certificate does not match its SDP fingerprint");
		return PL_EAUTH;
	}
	return 0;
}

static int export_keys(struct pl_dtls *d, struct pl_dtls_keys *k)
{
	uint8_t km[KEYING_MAX_BYTES];
	const uint8_t *client_key, *server_key, *client_salt, *server_salt;
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(d->ssl);
	size_t kl, sl;

	memset(k, 0, sizeof(*k));
	if (!sp) {
		PL_LOG(PL_LOG_INFO, "dtls", "peer negotiated no SRTP protection profile");
		return PL_EPROTO;
	}
	if (sp->id == SRTP_AEAD_AES_128_GCM)
		k->profile = PL_SRTP_AEAD_AES_128_GCM;
	else if (sp->id == SRTP_AES128_CM_SHA1_80)
		k->profile = PL_SRTP_AES128_CM_SHA1_80;
	else
		return PL_EPROTO;
	kl = pl_srtp_key_len(k->profile), sl = pl_srtp_salt_len(k->profile);
	if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
		log_ssl_failure("keying material export");
		return PL_EPROTO;
	}
	client_key = km, server_key = km + kl;
	client_salt = km + 2 * kl, server_salt = client_salt + sl;
	memcpy(k->local_key, d->role == PL_DTLS_CLIENT ? client_key : server_key, kl);
	memcpy(k->local_salt, d->role == PL_DTLS_CLIENT ? client_salt : server_salt, sl);
	memcpy(k->remote_key, d->role == PL_DTLS_CLIENT ? server_key : client_key, kl);
	memcpy(k->remote_salt, d->role == PL_DTLS_CLIENT ? server_salt : client_salt, sl);
	k->key_len = kl, k->salt_len = sl;
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

/* OpenSSL finished the handshake; the association is up only if the
 * certificate is the one the peer's SDP announced. */
static void handshake_done(struct pl_dtls *d)
{
	struct pl_dtls_keys keys;
	int err = verify_peer(d);

	if (err)
		count(&n_fp_mismatches);
	else
		err = export_keys(d, &keys);
	if (err) {
		/* Tell the peer, or it would send media until consent fails. */
		(void)SSL_shutdown(d->ssl);
		fail(d, err);
		return;
	}
	d->state = ST_CONNECTED;
	count(&n_handshakes_ok);
	PL_LOG(PL_LOG_DEBUG, "dtls", "connected as %s: %s, %s",
	       d->role == PL_DTLS_CLIENT ? "client" : "server", SSL_get_cipher(d->ssl),
	       pl_srtp_profile_name(keys.profile));
	if (d->cb.connected)
		d->cb.connected(d->ud, &keys);
	OPENSSL_cleanse(&keys, sizeof(keys));
}

static void drive_handshake(struct pl_dtls *d)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(d->ssl);
	if (r == 1) {
		handshake_done(d);
		return;
	}
	e = SSL_get_error(d->ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		fail_ssl(d, e, "handshake");
}

/* Connected: records are alerts, the peer's retransmitted last flight
 * (OpenSSL answers it) and application data, which has no consumer while
 * no data channel is negotiated and is discarded. */
static void drain_records(struct pl_dtls *d)
{
	uint8_t scratch[2048];

	for (;;) {
		int r, e;

		ERR_clear_error();
		r = SSL_read(d->ssl, scratch, sizeof(scratch));
		if (r > 0)
			continue;
		e = SSL_get_error(d->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			fail_ssl(d, e, "read");
		return;
	}
}

int pl_dtls_start(struct pl_dtls *d)
{
	int r, e;

	if (!d)
		return PL_EINVAL;
	switch (d->state) {
	case ST_NEW:
		break;
	case ST_HANDSHAKING:
	case ST_CONNECTED:
		return 0;
	case ST_FAILED:
		return PL_EPROTO;
	}
	d->state = ST_HANDSHAKING;
	if (d->role == PL_DTLS_SERVER)
		return 0;
	/* The ClientHello goes out now.  A failure here is a configuration
	 * error the caller learns from the return value, so failed() is not
	 * called for it. */
	ERR_clear_error();
	r = SSL_do_handshake(d->ssl);
	e = SSL_get_error(d->ssl, r);
	if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		log_ssl_failure("ClientHello");
		count(&n_handshakes_failed);
		d->state = ST_FAILED;
		ERR_clear_error();
		return PL_EPROTO;
	}
	return 0;
}

/* RFC 7983: a DTLS datagram starts with a content type in 20..63 and holds
 * at least one record header. */
static int check_datagram(const struct pl_dtls *d, const uint8_t *buf, size_t len)
{
	if (d->state == ST_FAILED)
		return PL_ECLOSED;
	if (d->state == ST_NEW && d->role == PL_DTLS_CLIENT)
		return PL_EPROTO; /* nothing is expected before our ClientHello */
	if (len < RECORD_HEADER_BYTES)
		return PL_ETRUNC;
	if (buf[0] < 20 || buf[0] > 63)
		return PL_EPROTO;
	if (len > DATAGRAM_MAX_BYTES)
		return PL_ETOOBIG;
	return 0;
}

int pl_dtls_handle(struct pl_dtls *d, const uint8_t *buf, size_t len)
{
	int err;

	if (!d || !buf)
		return PL_EINVAL;
	err = check_datagram(d, buf, len);
	if (err) {
		count(&n_dropped);
		PL_LOG(PL_LOG_DEBUG, "dtls", "dropped a %zu-byte datagram: %s", len, pl_strerror(err));
		return err;
	}
	/* A server's ClientHello may arrive before ICE told the caller the
	 * transport is up; answering it is what a started server would do. */
	if (d->state == ST_NEW)
		d->state = ST_HANDSHAKING;
	ERR_clear_error();
	if (BIO_write(d->rbio, buf, (int)len) != (int)len) {
		count(&n_dropped);
		ERR_clear_error();
		return PL_EIO;
	}
	if (d->state == ST_HANDSHAKING)
		drive_handshake(d);
	if (d->state == ST_CONNECTED)
		drain_records(d);
	/* OpenSSL reads a datagram whole; should anything remain, it must not
	 * run into the next datagram. */
	if (BIO_ctrl_pending(d->rbio) > 0)
		(void)BIO_reset(d->rbio);
	ERR_clear_error();
	return 0;
}

int64_t pl_dtls_timeout_ms(struct pl_dtls *d)
{
	struct timeval tv;

	if (!d || d->state != ST_HANDSHAKING)
		return -1;
	if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return -1;
	return (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

void pl_dtls_on_timeout(struct pl_dtls *d)
{
	long r;

	if (!d || d->state != ST_HANDSHAKING)
		return;
	ERR_clear_error();
	r = DTLSv1_handle_timeout(d->ssl);
	if (r > 0) {
		count(&n_retransmits);
	} else if (r < 0) {
		PL_LOG(PL_LOG_INFO, "dtls", "handshake timed out");
		fail(d, PL_EPROTO);
	}
	ERR_clear_error();
}

bool pl_dtls_is_connected(const struct pl_dtls *d)
{
	return d && d->state == ST_CONNECTED;
}

void pl_dtls_destroy(struct pl_dtls *d)
{
	if (!d)
		return;
	if (d->ssl) {
		ERR_clear_error();
		if (d->state == ST_CONNECTED)
			(void)SSL_shutdown(d->ssl); /* close_notify through send() */
		SSL_free(d->ssl);
		ERR_clear_error();
	}
	free(d);
}
