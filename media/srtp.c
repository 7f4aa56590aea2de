/* media/srtp.c: SRTP/SRTCP sessions (media/srtp.h), dispatching to one of
 * two engines (media/srtp_engine.h): Parley's own on OpenSSL
 * (srtp_own.c, the default: several times cheaper per packet than
 * Debian's NSS-backed libsrtp2) or libsrtp2 (srtp_lib.c).  The engine is
 * chosen once per process, before the first session; both produce the
 * same bytes, so the two ends of a call need not agree on it.  Arguments
 * are checked here once for both engines.
 */
#include "media/srtp.h"
#include "media/srtp_engine.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define RTP_HEADER_BYTES 12
#define RTCP_HEADER_BYTES 8

struct pl_srtp {
	enum pl_srtp_profile profile;
	bool inbound;
	struct pl_srtp_own *own;        /* exactly one of own, lib */
	struct pl_srtp_lib *lib;
};

static atomic_int engine = PL_SRTP_ENGINE_BUILTIN;

size_t pl_srtp_key_len(enum pl_srtp_profile p)
{
	switch (p) {
	case PL_SRTP_AES128_CM_SHA1_80:
	case PL_SRTP_AEAD_AES_128_GCM:
		return 16;
	}
	return 0;
}

size_t pl_srtp_salt_len(enum pl_srtp_profile p)
{
	switch (p) {
	case PL_SRTP_AES128_CM_SHA1_80:
		return 14;
	case PL_SRTP_AEAD_AES_128_GCM:
		return 12;
	}
	return 0;
}

const char *pl_srtp_profile_name(enum pl_srtp_profile p)
{
	switch (p) {
	case PL_SRTP_AES128_CM_SHA1_80:
		return "SRTP_AES128_CM_SHA1_80";
	case PL_SRTP_AEAD_AES_128_GCM:
		return "SRTP_AEAD_AES_128_GCM";
	}
	return "unknown";
}

int pl_srtp_engine_parse(const char *name, enum pl_srtp_engine *out)
{
	if (!name || !out)
		return PL_EINVAL;
	if (strcmp(name, "builtin") == 0)
		*out = PL_SRTP_ENGINE_BUILTIN;
	else if (strcmp(name, "libsrtp") == 0)
		*out = PL_SRTP_ENGINE_LIBSRTP;
	else
		return PL_EINVAL;
	return 0;
}

const char *pl_srtp_engine_name(enum pl_srtp_engine e)
{
	return e == PL_SRTP_ENGINE_LIBSRTP ? "libsrtp" : "builtin";
}

void pl_srtp_set_engine(enum pl_srtp_engine e)
{
	atomic_store(&engine, e == PL_SRTP_ENGINE_LIBSRTP ? PL_SRTP_ENGINE_LIBSRTP
							 : PL_SRTP_ENGINE_BUILTIN);
}

enum pl_srtp_engine pl_srtp_get_engine(void)
{
	return (enum pl_srtp_engine)atomic_load(&engine);
}

int pl_srtp_global_init(void)
{
	/* libsrtp is initialised even when unused: cheap, and a session of
	 * either engine can then be made at any time (the tests do). */
	return pl_srtp_lib_global_init();
}

int pl_srtp_create(enum pl_srtp_profile p, const uint8_t *key, size_t key_len,
		   const uint8_t *salt, size_t salt_len, bool inbound, struct pl_srtp **out)
{
	return pl_srtp_create_with(pl_srtp_get_engine(), p, key, key_len, salt, salt_len, inbound,
				   out);
}

int pl_srtp_create_with(enum pl_srtp_engine e, enum pl_srtp_profile p, const uint8_t *key,
			size_t key_len, const uint8_t *salt, size_t salt_len, bool inbound,
			struct pl_srtp **out)
{
	bool gcm = p == PL_SRTP_AEAD_AES_128_GCM;
	struct pl_srtp *s;
	int rc;

	if (!out || !key || !salt || pl_srtp_key_len(p) == 0)
		return PL_EINVAL;
	if (key_len != pl_srtp_key_len(p) || salt_len != pl_srtp_salt_len(p))
		return PL_EINVAL;
	if (!(s = calloc(1, sizeof(*s))))
		return PL_EIO;
	s->profile = p;
	s->inbound = inbound;
	if (e == PL_SRTP_ENGINE_LIBSRTP)
		rc = pl_srtp_lib_create(gcm, key, key_len, salt, salt_len, inbound, &s->lib);
	else
		rc = pl_srtp_own_create(gcm, key, salt, salt_len, inbound, &s->own);
	if (rc < 0) {
		free(s);
		return rc == PL_EINVAL ? PL_EINVAL : PL_EIO;
	}
	*out = s;
	return 0;
}

void pl_srtp_destroy(struct pl_srtp *s)
{
	if (!s)
		return;
	pl_srtp_own_destroy(s->own);
	pl_srtp_lib_destroy(s->lib);
	free(s);
}

static int protect(struct pl_srtp *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
	if (!s || !buf || !len || s->inbound)
		return PL_EINVAL;
	if (*len > SIZE_MAX - PL_SRTP_MAX_TRAILER || cap < *len + PL_SRTP_MAX_TRAILER)
		return PL_EINVAL;
	if (*len < (rtcp ? RTCP_HEADER_BYTES : RTP_HEADER_BYTES))
		return PL_EPROTO;
	if (s->lib)
		return pl_srtp_lib_protect(s->lib, buf, len, rtcp);
	return rtcp ? pl_srtp_own_protect_rtcp(s->own, buf, len) : pl_srtp_own_protect(s->own, buf, len);
}

static int unprotect(struct pl_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
	if (!s || !buf || !len || !s->inbound)
		return PL_EINVAL;
	if (*len < (rtcp ? RTCP_HEADER_BYTES : RTP_HEADER_BYTES))
		return PL_EPROTO;
	if (s->lib)
		return pl_srtp_lib_unprotect(s->lib, buf, len, rtcp);
	return rtcp ? pl_srtp_own_unprotect_rtcp(s->own, buf, len)
		    : pl_srtp_own_unprotect(s->own, buf, len);
}

int pl_srtp_protect(struct pl_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	return protect(s, buf, len, cap, false);
}

int pl_srtp_protect_rtcp(struct pl_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	return protect(s, buf, len, cap, true);
}

int pl_srtp_unprotect(struct pl_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, false);
}

int pl_srtp_unprotect_rtcp(struct pl_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, true);
}
