/* media/dtls.h: DTLS 1.2 for DTLS-SRTP (RFC 5763/5764) over any datagram
 * transport.
 *
 * A pl_dtls_cert is the server's identity: an ECDSA P-256 key and a
 * self-signed certificate, generated or loaded from PEM files, with its
 * SHA-256 fingerprint for SDP.  A pl_dtls is one association: OpenSSL runs
 * over memory BIOs, so incoming datagrams are fed in with pl_dtls_handle()
 * and outgoing records come out through the send callback, one datagram
 * per call.  The peer's certificate is accepted during the handshake
 * (self-signed, as WebRTC does) and then compared with the fingerprint
 * from its SDP; a mismatch fails the association.  use_srtp offers
 * SRTP_AEAD_AES_128_GCM first, then SRTP_AES128_CM_SHA1_80; the keys come
 * from SSL_export_keying_material("EXTRACTOR-dtls_srtp").
 * The retransmission timer belongs to the caller (so this file needs no
 * event loop): after every call, arm a timer for pl_dtls_timeout_ms() and
 * call pl_dtls_on_timeout() when it fires.
 * Threads: a cert is immutable once made and may be shared; a pl_dtls is
 * used by one thread.
 */
#ifndef PL_MEDIA_DTLS_H
#define PL_MEDIA_DTLS_H

#include "media/srtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_dtls_cert;
struct pl_dtls;

/* Generates a fresh key and certificate (valid 30 days back and 1 year
 * ahead).  Returns 0 or PL_EIO. */
int pl_dtls_cert_generate(struct pl_dtls_cert **out);
/* Narrows the DTLS-SRTP profiles offered (client) or accepted (server)
 * by associations created from c afterwards, in order of preference; the
 * default is AEAD_AES_128_GCM then AES128_CM_SHA1_80.  A load generator
 * uses it to measure AES-CM.  Returns 0, PL_EINVAL or PL_EIO. */
int pl_dtls_cert_set_srtp_profiles(struct pl_dtls_cert *c, const enum pl_srtp_profile *profiles,
				   size_t n);
/* Loads PEM files (certificate, private key).  Returns 0, PL_EIO. */
int pl_dtls_cert_load(const char *cert_path, const char *key_path, struct pl_dtls_cert **out);
/* Writes the PEM files (key file mode 0600).  Returns 0 or PL_EIO. */
int pl_dtls_cert_save(const struct pl_dtls_cert *c, const char *cert_path, const char *key_path);
/* "AB:CD:...": the SHA-256 fingerprint, upper-case hex, for
 * a=fingerprint:sha-256. */
const char *pl_dtls_cert_fingerprint(const struct pl_dtls_cert *c);
void pl_dtls_cert_destroy(struct pl_dtls_cert *c);

/* SRTP keying material for both directions, from the local point of view. */
struct pl_dtls_keys {
	enum pl_srtp_profile profile;
	uint8_t local_key[32], local_salt[14];   /* protect what we send */
	uint8_t remote_key[32], remote_salt[14]; /* unprotect what we receive */
	size_t key_len, salt_len;
};

struct pl_dtls_callbacks {
	/* One outgoing DTLS datagram.  Must not call back into this pl_dtls. */
	void (*send)(void *ud, const uint8_t *buf, size_t len);
	/* The handshake finished and the fingerprint matched. */
	void (*connected)(void *ud, const struct pl_dtls_keys *keys);
	/* The association failed or was closed: PL_EAUTH (fingerprint
	 * mismatch), PL_EPROTO (handshake error), PL_ECLOSED (close_notify).
	 * No further callbacks follow. */
	void (*failed)(void *ud, int err);
};
/* Callbacks run inside pl_dtls_start/handle/on_timeout/destroy; none may
 * destroy the pl_dtls (close it, free it at the end of the loop iteration).
 * keys is valid only during connected(): copy what you keep. */

enum pl_dtls_role {
	PL_DTLS_SERVER, /* a=setup:passive: waits for the ClientHello */
	PL_DTLS_CLIENT, /* a=setup:active: sends the ClientHello */
};

/* remote_fp_alg: "sha-256" (also "sha-1", "sha-384", "sha-512");
 * remote_fp: "AB:CD:..." as in the peer's SDP (case-insensitive).
 * Returns 0, PL_EINVAL (unknown algorithm, malformed fingerprint), PL_EIO. */
int pl_dtls_create(const struct pl_dtls_cert *cert, enum pl_dtls_role role,
		   const char *remote_fp_alg, const char *remote_fp,
		   const struct pl_dtls_callbacks *cb, void *ud, struct pl_dtls **out);
/* Starts the handshake (the client sends its ClientHello; the server just
 * waits).  Returns 0 or PL_EPROTO. */
int pl_dtls_start(struct pl_dtls *d);
/* Feeds one received DTLS datagram.  Returns 0 (consumed, maybe after
 * callbacks) or a negative code when it was dropped (also counted). */
int pl_dtls_handle(struct pl_dtls *d, const uint8_t *buf, size_t len);
/* Milliseconds until pl_dtls_on_timeout() is due, or -1 when no timer is
 * needed (connected, failed, or not started). */
int64_t pl_dtls_timeout_ms(struct pl_dtls *d);
void pl_dtls_on_timeout(struct pl_dtls *d);
bool pl_dtls_is_connected(const struct pl_dtls *d);
/* The retransmission timer on a GLib main context: after every
 * pl_dtls_start/pl_dtls_handle call pl_dtls_timer_arm(t, d, ctx) (ctx a
 * GMainContext *); when due it calls pl_dtls_on_timeout and re-arms
 * itself while pl_dtls_timeout_ms says a timer is needed.  Cancel it before
 * destroying d.  Zero-initialised storage is an idle timer. */
struct pl_dtls_timer {
	void *source;      /* GSource *, NULL when idle */
	struct pl_dtls *dtls;
	void *ctx;
};
void pl_dtls_timer_arm(struct pl_dtls_timer *t, struct pl_dtls *d, void *ctx);
void pl_dtls_timer_cancel(struct pl_dtls_timer *t);

/* Sends close_notify (when connected) and frees.  NULL is a no-op. */
void pl_dtls_destroy(struct pl_dtls *d);

/* Process-wide counters, summed over every association and thread. */
struct pl_dtls_stats {
	uint64_t handshakes_ok;          /* reached connected() */
	uint64_t handshakes_failed;      /* errors, timeouts, mismatches */
	uint64_t fingerprint_mismatches; /* also in handshakes_failed */
	uint64_t closed_by_peer;         /* close_notify received */
	uint64_t datagrams_dropped;      /* pl_dtls_handle() < 0 */
	uint64_t retransmits;            /* flights resent on timeout */
};

/* Thread-safe snapshot (relaxed: the counters are independent). */
void pl_dtls_stats_get(struct pl_dtls_stats *out);

#endif
