/* client/client_srtp.c: choosing the DTLS-SRTP profiles a client offers.
 *
 * media/dtls.c offers AEAD_AES_128_GCM then AES128_CM_SHA1_80 on every
 * identity it makes, and the server picks the first it supports, so a
 * client of that module always gets GCM.  A load generator must also be
 * able to measure AES-CM (what aiortc and many deployed peers offer), and
 * media/dtls.h has no parameter for it yet.  Until it has one (the natural
 * form: a profile list given to pl_dtls_cert_generate(), or a setter on
 * the cert, since the SSL_CTX lives there), this file narrows the list at
 * the one place OpenSSL receives it: the link wraps
 * SSL_CTX_set_tlsext_use_srtp (-Wl,--wrap=..., set by client/meson.build
 * and parley-client.pc), and a thread-local override, set only around our
 * own pl_dtls_cert_generate() call, replaces the list.  Every other caller
 * in the process (a server in the same binary, a test) gets the original
 * behaviour.  Delete this file when media/dtls.h grows the option.
 * Thread-safe: the override is per thread and lives for one call.
 */
#include "client/client_internal.h"
#include "common/err.h"

#include <openssl/ssl.h>

int __real_SSL_CTX_set_tlsext_use_srtp(SSL_CTX *ctx, const char *profiles);
int __wrap_SSL_CTX_set_tlsext_use_srtp(SSL_CTX *ctx, const char *profiles);

static _Thread_local const char *forced_profiles;

int __wrap_SSL_CTX_set_tlsext_use_srtp(SSL_CTX *ctx, const char *profiles)
{
	return __real_SSL_CTX_set_tlsext_use_srtp(ctx, forced_profiles ? forced_profiles : profiles);
}

int pl_client_srtp_cert_generate(enum pl_client_srtp srtp, struct pl_dtls_cert **out)
{
	int rc;

	switch (srtp) {
	case PL_CLIENT_SRTP_GCM:
		forced_profiles = "SRTP_AEAD_AES_128_GCM";
		break;
	case PL_CLIENT_SRTP_CM:
		forced_profiles = "SRTP_AES128_CM_SHA1_80";
		break;
	case PL_CLIENT_SRTP_ANY:
		forced_profiles = NULL;
		break;
	}
	rc = pl_dtls_cert_generate(out);
	forced_profiles = NULL;
	return rc;
}
