/* client/client_srtp.c: the DTLS-SRTP profiles a client offers.
 *
 * media/dtls.c offers AEAD_AES_128_GCM then AES128_CM_SHA1_80 and a
 * server picks the first it supports, so by default a client gets GCM.  A
 * load generator must also be able to measure AES-CM (what aiortc and many
 * deployed peers offer): the client's own certificate (its SSL_CTX) is
 * narrowed to one profile with pl_dtls_cert_set_srtp_profiles().
 */
#include "client/client_internal.h"
#include "common/err.h"

int pl_client_srtp_cert_generate(enum pl_client_srtp srtp, struct pl_dtls_cert **out)
{
	enum pl_srtp_profile only;
	int rc = pl_dtls_cert_generate(out);

	if (rc < 0 || srtp == PL_CLIENT_SRTP_ANY)
		return rc;
	only = srtp == PL_CLIENT_SRTP_GCM ? PL_SRTP_AEAD_AES_128_GCM : PL_SRTP_AES128_CM_SHA1_80;
	if ((rc = pl_dtls_cert_set_srtp_profiles(*out, &only, 1)) < 0) {
		pl_dtls_cert_destroy(*out);
		*out = NULL;
	}
	return rc;
}
