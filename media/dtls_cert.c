/* media/dtls_cert.c: the DTLS identity (media/dtls.h, pl_dtls_cert_*).
 *
 * An ECDSA P-256 key, a self-signed certificate (generated, or loaded from
 * PEM files and saved back with the key file at mode 0600), its SHA-256
 * fingerprint for SDP, and the one SSL_CTX all associations made with it
 * share: DTLS 1.2 only, the cipher suites below, the DTLS-SRTP profiles
 * (narrowable with pl_dtls_cert_set_srtp_profiles), the peer certificate
 * accepted whatever it is (dtls.c checks it against the SDP fingerprint
 * when the handshake ends).  Split from dtls.c, which keeps associations.
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

#define CERT_DAYS_BACK 30L
#define CERT_DAYS_AHEAD 365L

/* RFC 8827 requires TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; the others
 * cover peers with RSA certificates and older stacks. */
static const char cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
static const char srtp_profiles[] = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

/* ---- certificates ------------------------------------------------------- */

static void format_fp(const uint8_t *md, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		*out++ = hex[md[i] >> 4];
		*out++ = hex[md[i] & 0x0f];
		if (i + 1 < n)
			*out++ = ':';
	}
	*out = '\0';
}

int pl_dtls_cert_set_srtp_profiles(struct pl_dtls_cert *c, const enum pl_srtp_profile *profiles,
				   size_t n)
{
	char list[128] = "";
	size_t used = 0;

	if (!c || !profiles || n == 0 || n > 2)
		return PL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (pl_srtp_key_len(profiles[i]) == 0)
			return PL_EINVAL;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ":" : "",
					 pl_srtp_profile_name(profiles[i]));
	}
	/* 0 on success, unlike the rest of OpenSSL. */
	return SSL_CTX_set_tlsext_use_srtp(c->ctx, list) == 0 ? 0 : PL_EIO;
}

/* WebRTC certificates are self-signed and authenticated by the SDP
 * fingerprint instead, which handshake_done() checks. */
static int accept_any_cert(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok, (void)store;
	return 1;
}

static SSL_CTX *ctx_new(X509 *x509, EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

	if (!ctx)
		return NULL;
	/* SSL_CTX_set_tlsext_use_srtp() returns 0 on success, unlike the rest. */
	if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, cipher_list) ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, srtp_profiles) != 0 ||
	    !SSL_CTX_use_certificate(ctx, x509) || !SSL_CTX_use_PrivateKey(ctx, key) ||
	    !SSL_CTX_check_private_key(ctx)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_cert);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	return ctx;
}

/* Takes ownership of x509 and key, whatever happens. */
static int cert_wrap(X509 *x509, EVP_PKEY *key, struct pl_dtls_cert **out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	struct pl_dtls_cert *c = calloc(1, sizeof(*c));

	if (!c)
		goto fail;
	c->x509 = x509, c->key = key;
	x509 = NULL, key = NULL; /* c owns them now */
	if (!X509_digest(c->x509, EVP_sha256(), md, &n))
		goto fail;
	format_fp(md, n, c->fp);
	c->ctx = ctx_new(c->x509, c->key);
	if (!c->ctx)
		goto fail;
	*out = c;
	ERR_clear_error();
	return 0;
fail:
	X509_free(x509);
	EVP_PKEY_free(key);
	pl_dtls_cert_destroy(c);
	ERR_clear_error();
	return PL_EIO;
}

static X509 *self_sign(EVP_PKEY *key)
{
	uint8_t rnd[8];
	uint64_t serial = 0;
	X509_NAME *name;
	X509 *x = X509_new();

	if (!x || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto fail;
	for (size_t i = 0; i < sizeof(rnd); i++)
		serial = serial << 8 | rnd[i];
	serial &= INT64_MAX; /* a positive 63-bit serial (RFC 5280 4.1.2.2) */
	if (serial == 0)
		serial = 1;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -CERT_DAYS_BACK * 86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), CERT_DAYS_AHEAD * 86400))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"parley", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    !X509_sign(x, key, EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

int pl_dtls_cert_generate(struct pl_dtls_cert **out)
{
	EVP_PKEY *key;
	X509 *x509;

	if (!out)
		return PL_EINVAL;
	ERR_clear_error();
	key = EVP_EC_gen("P-256");
	x509 = key ? self_sign(key) : NULL;
	if (!x509) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		return PL_EIO;
	}
	return cert_wrap(x509, key, out);
}

/* An encrypted key file must fail, not prompt on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int pl_dtls_cert_load(const char *cert_path, const char *key_path, struct pl_dtls_cert **out)
{
	X509 *x509 = NULL;
	EVP_PKEY *key = NULL;
	FILE *f;

	if (!cert_path || !key_path || !out)
		return PL_EINVAL;
	ERR_clear_error();
	f = fopen(cert_path, "re");
	if (f) {
		x509 = PEM_read_X509(f, NULL, no_password, NULL);
		fclose(f);
	}
	f = fopen(key_path, "re");
	if (f) {
		key = PEM_read_PrivateKey(f, NULL, no_password, NULL);
		fclose(f);
	}
	if (!x509 || !key || X509_check_private_key(x509, key) != 1) {
		PL_LOG(PL_LOG_ERROR, "dtls", "cannot load certificate %s with key %s", cert_path,
		       key_path);
		X509_free(x509);
		EVP_PKEY_free(key);
		ERR_clear_error();
		return PL_EIO;
	}
	return cert_wrap(x509, key, out);
}

static int write_pem(const char *path, const struct pl_dtls_cert *c, bool private_key)
{
	int fd, ok;
	FILE *f;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_key ? 0600 : 0644);
	if (fd < 0)
		return PL_EIO;
	/* A leftover file keeps its old mode through O_CREAT. */
	if (private_key && fchmod(fd, 0600) != 0) {
		close(fd);
		return PL_EIO;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return PL_EIO;
	}
	ok = private_key ? PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL)
			 : PEM_write_X509(f, c->x509);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	ERR_clear_error();
	return ok ? 0 : PL_EIO;
}

/* Both files are written beside their targets and renamed into place only
 * when both are complete, so a failed write never leaves a new key next to
 * an old certificate. */
int pl_dtls_cert_save(const struct pl_dtls_cert *c, const char *cert_path, const char *key_path)
{
	char cert_tmp[PATH_MAX], key_tmp[PATH_MAX];
	int err = PL_EIO;

	if (!c || !cert_path || !key_path)
		return PL_EINVAL;
	if ((size_t)snprintf(cert_tmp, sizeof(cert_tmp), "%s.tmp", cert_path) >= sizeof(cert_tmp) ||
	    (size_t)snprintf(key_tmp, sizeof(key_tmp), "%s.tmp", key_path) >= sizeof(key_tmp))
		return PL_EIO;
	if (write_pem(key_tmp, c, true) != 0 || write_pem(cert_tmp, c, false) != 0)
		goto out;
	if (rename(key_tmp, key_path) != 0 || rename(cert_tmp, cert_path) != 0)
		goto out;
	err = 0;
out:
	if (err) {
		unlink(key_tmp);
		unlink(cert_tmp);
		PL_LOG(PL_LOG_ERROR, "dtls", "cannot save certificate %s with key %s", cert_path,
		       key_path);
	}
	return err;
}

const char *pl_dtls_cert_fingerprint(const struct pl_dtls_cert *c)
{
	return c->fp;
}

void pl_dtls_cert_destroy(struct pl_dtls_cert *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	free(c);
}

