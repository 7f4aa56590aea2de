/* media/dtls_internal.h: what dtls.c and dtls_cert.c share (private). */
#ifndef PL_MEDIA_DTLS_INTERNAL_H
#define PL_MEDIA_DTLS_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Immutable once made; associations take references on ctx. */
struct pl_dtls_cert {
	X509 *x509;
	EVP_PKEY *key;
	SSL_CTX *ctx;
	char fp[3 * EVP_MAX_MD_SIZE];
};

#endif
