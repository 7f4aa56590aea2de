/* media/srtp.h: SRTP/SRTCP protection for one direction of a transport.
 *
 * One session per direction, on one of two engines (media/srtp.c): the
 * built-in one on OpenSSL (default) or libsrtp2.  Inbound sessions unprotect
 * (replay protection on, window 1024 packets); outbound sessions protect
 * (any SSRC, repeated transmissions of the same index allowed so a NACKed
 * packet can be resent).  Packets are transformed in place.  A session is
 * used by exactly one thread (the media worker that owns its transport);
 * pl_srtp_global_init() must have run once before any session is created.
 * No allocation per packet.
 */
#ifndef PL_MEDIA_SRTP_H
#define PL_MEDIA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profiles (RFC 5764, RFC 7714), IANA values. */
enum pl_srtp_profile {
	PL_SRTP_AES128_CM_SHA1_80 = 0x0001,
	PL_SRTP_AEAD_AES_128_GCM = 0x0007,
};

/* Bytes a protect may add (auth tag, MKI, SRTCP index); callers keep this
 * much room after the packet. */
#define PL_SRTP_MAX_TRAILER 148

/* Key and salt lengths of a profile; 0 for an unknown profile. */
size_t pl_srtp_key_len(enum pl_srtp_profile p);
size_t pl_srtp_salt_len(enum pl_srtp_profile p);
const char *pl_srtp_profile_name(enum pl_srtp_profile p);

struct pl_srtp;

/* The engine new sessions use; chosen once at start-up (config
 * [media] srtp_engine), before sessions exist.  Both interoperate. */
enum pl_srtp_engine {
	PL_SRTP_ENGINE_BUILTIN = 0,     /* media/srtp_own.c, OpenSSL EVP */
	PL_SRTP_ENGINE_LIBSRTP = 1,     /* libsrtp2 */
};
void pl_srtp_set_engine(enum pl_srtp_engine e);
enum pl_srtp_engine pl_srtp_get_engine(void);
/* "builtin" or "libsrtp": 0 or PL_EINVAL. */
int pl_srtp_engine_parse(const char *name, enum pl_srtp_engine *out);
const char *pl_srtp_engine_name(enum pl_srtp_engine e);

/* Initialises libsrtp once per process; thread-safe, idempotent.
 * Returns 0 or PL_EIO. */
int pl_srtp_global_init(void);

/* Creates a session.  key/salt lengths must match the profile.
 * Returns 0, PL_EINVAL (lengths, profile), PL_EIO (libsrtp refused). */
int pl_srtp_create(enum pl_srtp_profile p, const uint8_t *key, size_t key_len,
		   const uint8_t *salt, size_t salt_len, bool inbound, struct pl_srtp **out);
/* The same with an explicit engine (tests compare the two). */
int pl_srtp_create_with(enum pl_srtp_engine e, enum pl_srtp_profile p, const uint8_t *key,
			size_t key_len, const uint8_t *salt, size_t salt_len, bool inbound,
			struct pl_srtp **out);
void pl_srtp_destroy(struct pl_srtp *s);

/* Outbound: protects the RTP/RTCP packet buf[0..*len) in place; cap is the
 * buffer's size (must be ≥ *len + PL_SRTP_MAX_TRAILER).  Updates *len.
 * Returns 0, PL_EINVAL (not outbound, room), PL_EPROTO (malformed, too
 * many SSRCs, engine error). */
int pl_srtp_protect(struct pl_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int pl_srtp_protect_rtcp(struct pl_srtp *s, uint8_t *buf, size_t *len, size_t cap);

/* Inbound: authenticates and decrypts in place, updating *len.  Returns 0,
 * PL_EAUTH (authentication failed), PL_EEXIST (replayed), PL_EPROTO
 * (anything else: malformed, unknown). */
int pl_srtp_unprotect(struct pl_srtp *s, uint8_t *buf, size_t *len);
int pl_srtp_unprotect_rtcp(struct pl_srtp *s, uint8_t *buf, size_t *len);

#endif
