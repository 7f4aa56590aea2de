/* media/srtp_engine.h: the two SRTP engines behind media/srtp.h (internal).
 *
 * srtp_own.c is Parley's own transform on OpenSSL (the default);
 * srtp_lib.c wraps libsrtp2.  Both get validated arguments from srtp.c:
 * key and salt lengths that match the profile, a buffer with
 * PL_SRTP_MAX_TRAILER bytes of room after the packet, a packet at least
 * one header long.  Both return 0, PL_EAUTH, PL_EEXIST (replay),
 * PL_EPROTO or PL_EIO as media/srtp.h describes.
 */
#ifndef PL_MEDIA_SRTP_ENGINE_H
#define PL_MEDIA_SRTP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_srtp_own;
int pl_srtp_own_create(bool gcm, const uint8_t *key, const uint8_t *salt, size_t salt_len,
		       bool inbound, struct pl_srtp_own **out);
void pl_srtp_own_destroy(struct pl_srtp_own *s);
int pl_srtp_own_protect(struct pl_srtp_own *s, uint8_t *buf, size_t *len);
int pl_srtp_own_protect_rtcp(struct pl_srtp_own *s, uint8_t *buf, size_t *len);
int pl_srtp_own_unprotect(struct pl_srtp_own *s, uint8_t *buf, size_t *len);
int pl_srtp_own_unprotect_rtcp(struct pl_srtp_own *s, uint8_t *buf, size_t *len);

struct pl_srtp_lib;
int pl_srtp_lib_global_init(void);
int pl_srtp_lib_create(bool gcm, const uint8_t *key, size_t key_len, const uint8_t *salt,
		       size_t salt_len, bool inbound, struct pl_srtp_lib **out);
void pl_srtp_lib_destroy(struct pl_srtp_lib *s);
int pl_srtp_lib_protect(struct pl_srtp_lib *s, uint8_t *buf, size_t *len, bool rtcp);
int pl_srtp_lib_unprotect(struct pl_srtp_lib *s, uint8_t *buf, size_t *len, bool rtcp);

#endif
