/* media/srtp_lib.c: the libsrtp2 SRTP engine (srtp_engine = libsrtp).
 *
 * Each session owns one libsrtp2 session with a single wildcard stream
 * template: ssrc_any_inbound for the receiving direction, whose first
 * authenticated packet from a new SSRC clones the template, and
 * ssrc_any_outbound for the sending direction.  Inbound sessions keep a
 * replay window of 1024 packets; outbound sessions allow the same index
 * to be protected again (a NACKed packet resent as it was).  libsrtp
 * wants the master key and the master salt as one buffer, key first.
 * libsrtp allocates once per new SSRC, when it clones the template;
 * nothing per packet.  Its log lines are routed to PL_LOG under "srtp".
 * The built-in engine (srtp_own.c) is the default; this one stays as the
 * reference the unit tests compare it with and as a fallback.
 */
#include "media/srtp_engine.h"
#include "media/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "common/err.h"
#include "common/log.h"

#define REPLAY_WINDOW_PACKETS 1024

/* The larger of the two profiles' key||salt lengths. */
#define MASTER_MAX_BYTES SRTP_AES_ICM_128_KEY_LEN_WSALT
_Static_assert(MASTER_MAX_BYTES >= SRTP_AES_GCM_128_KEY_LEN_WSALT, "master buffer too small");
_Static_assert(PL_SRTP_MAX_TRAILER >= SRTP_MAX_TRAILER_LEN + 4, "SRTCP trailer does not fit");

struct pl_srtp_lib {
	srtp_t session;
};

/* ---- process-wide initialisation ---------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

/* libsrtp reports per-packet conditions (SSRC collisions, key usage
 * limits) through this hook.  They are data-plane events, so they stay at
 * DEBUG unless libsrtp itself calls them errors. */
static void log_from_libsrtp(srtp_log_level_t level, const char *msg, void *data)
{
	enum pl_log_level l = level == srtp_log_level_error ? PL_LOG_WARN : PL_LOG_DEBUG;

	(void)data;
	PL_LOG(l, "srtp", "libsrtp: %s", msg);
}

static void init_libsrtp(void)
{
	init_status = srtp_init();
	if (init_status == srtp_err_status_ok)
		srtp_install_log_handler(log_from_libsrtp, NULL);
	else
		PL_LOG(PL_LOG_ERROR, "srtp", "srtp_init failed (libsrtp status %d)", (int)init_status);
}

int pl_srtp_lib_global_init(void)
{
	if (pthread_once(&init_once, init_libsrtp) != 0)
		return PL_EIO;
	return init_status == srtp_err_status_ok ? 0 : PL_EIO;
}

/* ---- sessions ----------------------------------------------------------- */

static bool set_crypto_policy(srtp_policy_t *pol, bool gcm)
{
	switch (gcm ? PL_SRTP_AEAD_AES_128_GCM : PL_SRTP_AES128_CM_SHA1_80) {
	case PL_SRTP_AES128_CM_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
		return true;
	case PL_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
		return true;
	}
	return false;
}

int pl_srtp_lib_create(bool gcm, const uint8_t *key, size_t key_len, const uint8_t *salt,
		       size_t salt_len, bool inbound, struct pl_srtp_lib **out)
{
	uint8_t master[MASTER_MAX_BYTES];
	srtp_policy_t pol;
	srtp_err_status_t st;
	struct pl_srtp_lib *s;

	if (pl_srtp_lib_global_init() != 0)
		return PL_EIO;
	memset(&pol, 0, sizeof(pol));
	if (!set_crypto_policy(&pol, gcm) || key_len + salt_len > sizeof(master))
		return PL_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PL_EIO;
	memcpy(master, key, key_len);
	memcpy(master + key_len, salt, salt_len);
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = master;
	pol.window_size = REPLAY_WINDOW_PACKETS;
	pol.allow_repeat_tx = inbound ? 0 : 1;
	pol.next = NULL;
	/* libsrtp derives its session keys from the master during
	 * srtp_create() and keeps no pointer to it. */
	st = srtp_create(&s->session, &pol);
	explicit_bzero(master, sizeof(master));
	if (st != srtp_err_status_ok) {
		PL_LOG(PL_LOG_WARN, "srtp", "srtp_create(%s) failed (libsrtp status %d)",
		       gcm ? "GCM" : "CM", (int)st);
		free(s);
		return PL_EIO;
	}
	*out = s;
	return 0;
}

void pl_srtp_lib_destroy(struct pl_srtp_lib *s)
{
	if (!s)
		return;
	if (s->session)
		srtp_dealloc(s->session);
	free(s);
}

/* ---- per packet --------------------------------------------------------- */

/* Authentication failures and replays are what an attacker or a confused
 * peer produces; callers count them apart from malformed packets. */
static int map_unprotect_status(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return PL_EAUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return PL_EEXIST;
	default:
		return PL_EPROTO;
	}
}

int pl_srtp_lib_protect(struct pl_srtp_lib *s, uint8_t *buf, size_t *len, bool rtcp)
{
	srtp_err_status_t st;
	int n;

	if (*len > (size_t)INT_MAX - PL_SRTP_MAX_TRAILER)
		return PL_EINVAL;
	n = (int)*len;
	st = rtcp ? srtp_protect_rtcp(s->session, buf, &n) : srtp_protect(s->session, buf, &n);
	if (st != srtp_err_status_ok)
		return PL_EPROTO;
	*len = (size_t)n;
	return 0;
}

int pl_srtp_lib_unprotect(struct pl_srtp_lib *s, uint8_t *buf, size_t *len, bool rtcp)
{
	srtp_err_status_t st;
	int n;

	if (*len > INT_MAX)
		return PL_EPROTO;
	n = (int)*len;
	st = rtcp ? srtp_unprotect_rtcp(s->session, buf, &n) : srtp_unprotect(s->session, buf, &n);
	if (st != srtp_err_status_ok)
		return map_unprotect_status(st);
	*len = (size_t)n;
	return 0;
}
