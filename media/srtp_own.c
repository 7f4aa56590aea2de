/* media/srtp_own.c: the built-in SRTP/SRTCP engine, on OpenSSL's EVP.
 *
 * Why not libsrtp for every packet: Debian's libsrtp2 is built on NSS,
 * whose AES-CM path creates and destroys a PKCS#11 context for every
 * packet (malloc, a slot lock, a key lookup).  Measured on this machine,
 * one protect of a 1,200-byte packet costs about 4.8 µs there; the same
 * transform on OpenSSL with AES-NI and SHA-NI costs about 1 µs (AES-GCM:
 * 0.5 µs here, 1 µs in libsrtp).  On an SFU every forwarded packet is one
 * protect, so this was the single largest cost per packet.  libsrtp stays available (srtp_engine =
 * libsrtp) and is the oracle the unit tests check this engine against.
 *
 * What is implemented, and nothing more: the two profiles WebRTC uses,
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM (RFC 7714);
 * key derivation rate 0; no MKI; SRTCP always encrypted, on send and on
 * receipt (E flag clear: refused, as libsrtp refuses it for AES-CM; both
 * ends negotiated encryption, and nothing in WebRTC sends it); no index
 * ever reused (a stream whose 2^31 SRTCP or 2^48 RTP indices are spent
 * refuses to protect).  Per SSRC: the rollover counter
 * and index estimation of RFC 3711 Appendix A, a replay window of 1024
 * packets for RTP (wide enough for a burst of NACKed retransmissions) and
 * 128 for SRTCP.  Outbound sessions may protect the same index again (a
 * NACKed packet resent as it was); there is nothing to replay-check there.
 *
 * Per packet there is no allocation: one hash probe for the SSRC, one
 * cipher re-key of the IV and one MAC (or one AEAD pass).  A stream's
 * state is allocated when its SSRC is first seen -- inbound only after
 * the packet that names it has authenticated, so forged packets cannot
 * grow the table.  Key material is wiped on destroy and never logged.
 */
#include "media/srtp_engine.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/err.h"

#define RTP_HEADER_BYTES 12
#define RTCP_HEADER_BYTES 8
#define CM_TAG_BYTES 10
#define GCM_TAG_BYTES 16
#define SRTCP_INDEX_BYTES 4
#define RTP_WINDOW 1024 /* packets, a multiple of 64 */
#define RTCP_WINDOW 128
#define MAX_STREAMS 4096 /* SSRCs per session */
#define KEY_BYTES 16
#define AUTH_KEY_BYTES 20
#define CM_SALT_BYTES 14
#define GCM_SALT_BYTES 12
/* OpenSSL's EVP calls take int lengths: a longer packet would be cut
 * short silently by the casts below (part of it left in clear). */
#define MAX_PACKET_BYTES ((size_t)INT_MAX - 64)
#define SRTCP_INDEX_MAX 0x7fffffffu

struct own_stream {
	uint32_t ssrc;
	bool used;
	/* RTP: the highest index seen (48 bits: ROC << 16 | seq). */
	bool rtp_seen;
	uint64_t rtp_top;
	uint64_t rtp_win[RTP_WINDOW / 64]; /* bit (i % RTP_WINDOW): index i seen */
	/* SRTCP: outbound, the last index sent; inbound, the highest seen. */
	bool rtcp_seen;
	uint32_t rtcp_top;
	uint64_t rtcp_win[RTCP_WINDOW / 64];
};

/* The keys of one packet kind (RTP or RTCP). */
struct own_keys {
	EVP_CIPHER_CTX *cipher;   /* AES-128-CTR or AES-128-GCM, keyed */
	EVP_MAC_CTX *mac;         /* HMAC-SHA1, keyed (AES-CM only) */
	uint8_t salt[CM_SALT_BYTES];
};

struct pl_srtp_own {
	bool gcm, inbound;
	struct own_keys rtp, rtcp;
	struct own_stream *streams; /* open addressing, cap a power of two */
	size_t cap, n;
	uint32_t hash_key;         /* random: SSRCs chosen to collide cannot be precomputed */
	struct own_stream *last;   /* the stream of the previous packet */
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* ---- key derivation (RFC 3711 4.3.1, rate 0; RFC 7714 11) --------------- */

/* The AES-CM PRF: keystream for IV = (master_salt XOR label at octet 7)
 * || 0x0000.  A 12-byte GCM salt is zero-padded to 14 octets first. */
static int kdf(const uint8_t *key, const uint8_t *salt, size_t salt_len, uint8_t label,
	       uint8_t *out, size_t n)
{
	static const uint8_t zero[32];
	uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl, ok;

	memcpy(iv, salt, salt_len);
	iv[7] ^= label;
	ok = c && n <= sizeof(zero) &&
	     EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(c, out, &outl, zero, (int)n) == 1 && outl == (int)n;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(iv, sizeof(iv));
	return ok ? 0 : PL_EIO;
}

static int keys_init(struct own_keys *k, bool gcm, bool inbound, const uint8_t *key,
		     const uint8_t *salt, size_t salt_len, uint8_t label_base)
{
	uint8_t ek[KEY_BYTES], ak[AUTH_KEY_BYTES];
	size_t sl = gcm ? GCM_SALT_BYTES : CM_SALT_BYTES;
	int rc = PL_EIO;

	if (kdf(key, salt, salt_len, label_base, ek, sizeof(ek)) < 0 ||
	    kdf(key, salt, salt_len, (uint8_t)(label_base + 2), k->salt, sl) < 0)
		goto out;
	if (!(k->cipher = EVP_CIPHER_CTX_new()))
		goto out;
	if (gcm) {
		const EVP_CIPHER *ci = EVP_aes_128_gcm();
		if ((inbound ? EVP_DecryptInit_ex(k->cipher, ci, NULL, ek, NULL)
			     : EVP_EncryptInit_ex(k->cipher, ci, NULL, ek, NULL)) != 1)
			goto out;
	} else {
		/* CTR mode is the same both ways; encrypt keeps one code path. */
		if (EVP_EncryptInit_ex(k->cipher, EVP_aes_128_ctr(), NULL, ek, NULL) != 1)
			goto out;
		if (kdf(key, salt, salt_len, (uint8_t)(label_base + 1), ak, sizeof(ak)) < 0)
			goto out;
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
			OSSL_PARAM_construct_end(),
		};
		if (!mac)
			goto out;
		k->mac = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		if (!k->mac || EVP_MAC_init(k->mac, ak, sizeof(ak), params) != 1)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(ek, sizeof(ek));
	OPENSSL_cleanse(ak, sizeof(ak));
	return rc;
}

static void keys_free(struct own_keys *k)
{
	EVP_CIPHER_CTX_free(k->cipher);
	EVP_MAC_CTX_free(k->mac);
	OPENSSL_cleanse(k->salt, sizeof(k->salt));
	k->cipher = NULL;
	k->mac = NULL;
}

int pl_srtp_own_create(bool gcm, const uint8_t *key, const uint8_t *salt, size_t salt_len,
		       bool inbound, struct pl_srtp_own **out)
{
	struct pl_srtp_own *s = calloc(1, sizeof(*s));

	if (!s)
		return PL_ENOMEM;
	s->gcm = gcm;
	s->inbound = inbound;
	s->cap = 16;
	s->streams = calloc(s->cap, sizeof(*s->streams));
	if (RAND_bytes((unsigned char *)&s->hash_key, sizeof(s->hash_key)) != 1)
		s->hash_key = 0x9e3779b9u; /* still correct, only predictable */
	/* RTP keys: labels 0 (cipher), 1 (auth), 2 (salt); SRTCP: 3, 4, 5. */
	if (!s->streams || keys_init(&s->rtp, gcm, inbound, key, salt, salt_len, 0) < 0 ||
	    keys_init(&s->rtcp, gcm, inbound, key, salt, salt_len, 3) < 0) {
		pl_srtp_own_destroy(s);
		return PL_EIO;
	}
	*out = s;
	return 0;
}

void pl_srtp_own_destroy(struct pl_srtp_own *s)
{
	if (!s)
		return;
	keys_free(&s->rtp);
	keys_free(&s->rtcp);
	free(s->streams);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* ---- streams ------------------------------------------------------------ */

/* Keyed per session, full avalanche (murmur3's finaliser).  The plain
 * (ssrc * 2654435761) >> 8 used before kept only product bits 8..20,
 * which depend on SSRC bits 0..20 alone: SSRCs differing only above bit
 * 20 shared one probe chain, so an authenticated peer could make every
 * lookup -- forged packets' included, which probe before they fail --
 * walk up to MAX_STREAMS slots. */
static size_t slot_of(const struct pl_srtp_own *s, uint32_t ssrc, size_t cap)
{
	uint32_t h = ssrc ^ s->hash_key;

	h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
	return (size_t)h & (cap - 1);
}

static struct own_stream *stream_find(struct pl_srtp_own *s, uint32_t ssrc)
{
	if (s->last && s->last->ssrc == ssrc)
		return s->last;
	for (size_t i = slot_of(s, ssrc, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (!s->streams[i].used)
			return NULL;
		if (s->streams[i].ssrc == ssrc)
			return s->last = &s->streams[i];
	}
}

/* Adds ssrc (known to be absent).  Grows the table at half full.
 * NULL when the session already has MAX_STREAMS or memory ran out. */
static struct own_stream *stream_add(struct pl_srtp_own *s, uint32_t ssrc)
{
	if (s->n + 1 > s->cap / 2) {
		size_t cap = s->cap * 2;
		struct own_stream *t;
		if (s->n >= MAX_STREAMS || !(t = calloc(cap, sizeof(*t))))
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->streams[i].used)
				continue;
			size_t j = slot_of(s, s->streams[i].ssrc, cap);
			while (t[j].used)
				j = (j + 1) & (cap - 1);
			t[j] = s->streams[i];
		}
		free(s->streams);
		s->streams = t;
		s->cap = cap;
	}
	size_t i = slot_of(s, ssrc, s->cap);
	while (s->streams[i].used)
		i = (i + 1) & (s->cap - 1);
	memset(&s->streams[i], 0, sizeof(s->streams[i]));
	s->streams[i].used = true;
	s->streams[i].ssrc = ssrc;
	s->n++;
	return s->last = &s->streams[i];
}

/* ---- RTP index estimation and replay (RFC 3711 3.3.1, Appendix A) ------ */

static uint64_t rtp_index_guess(const struct own_stream *st, uint16_t seq)
{
	if (!st || !st->rtp_seen)
		return seq; /* ROC 0 for a new stream */
	uint32_t roc = (uint32_t)(st->rtp_top >> 16), v = roc;
	uint16_t s_l = (uint16_t)st->rtp_top;

	if (s_l < 32768) {
		if (seq - s_l > 32768 && roc > 0)
			v = roc - 1;
	} else if (s_l - 32768 > seq) {
		v = roc + 1;
	}
	return (uint64_t)v << 16 | seq;
}

static bool win_test(const uint64_t *win, size_t bits, uint64_t top, bool seen, uint64_t idx)
{
	if (!seen || idx > top)
		return true;
	if (top - idx >= bits)
		return false; /* older than the window */
	size_t b = (size_t)(idx % bits);
	return !(win[b / 64] >> (b % 64) & 1);
}

static void win_set(uint64_t *win, size_t bits, uint64_t *top, bool *seen, uint64_t idx)
{
	if (!*seen || idx > *top) {
		if (!*seen || idx - *top >= bits) {
			memset(win, 0, bits / 8);
		} else {
			for (uint64_t i = *top + 1; i < idx; i++) {
				size_t b = (size_t)(i % bits);
				win[b / 64] &= ~((uint64_t)1 << (b % 64));
			}
		}
		*top = idx;
		*seen = true;
	}
	size_t b = (size_t)(idx % bits);
	win[b / 64] |= (uint64_t)1 << (b % 64);
}

/* ---- transforms ----------------------------------------------------------- */

/* Header length of an RTP packet (CSRCs and extension included), or 0. */
static size_t rtp_header_len(const uint8_t *buf, size_t len)
{
	size_t h;

	if (len < RTP_HEADER_BYTES || (buf[0] >> 6) != 2)
		return 0;
	h = RTP_HEADER_BYTES + 4u * (buf[0] & 0x0f);
	if (buf[0] & 0x10) {
		if (len < h + 4)
			return 0;
		h += 4 + 4u * ((size_t)buf[h + 2] << 8 | buf[h + 3]);
	}
	return h <= len ? h : 0;
}

/* AES-CM: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16). */
static int cm_crypt(struct own_keys *k, uint32_t ssrc, uint64_t index, uint8_t *p, size_t n)
{
	uint8_t iv[16];
	int outl;

	memcpy(iv, k->salt, CM_SALT_BYTES);
	iv[14] = iv[15] = 0;
	iv[4] ^= (uint8_t)(ssrc >> 24), iv[5] ^= (uint8_t)(ssrc >> 16);
	iv[6] ^= (uint8_t)(ssrc >> 8), iv[7] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
	if (EVP_EncryptInit_ex(k->cipher, NULL, NULL, NULL, iv) != 1)
		return PL_EIO;
	if (n && EVP_EncryptUpdate(k->cipher, p, &outl, p, (int)n) != 1)
		return PL_EIO;
	return 0;
}

/* HMAC-SHA1 over a || b, truncated to 80 bits. */
static int cm_tag(struct own_keys *k, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
		  uint8_t tag[CM_TAG_BYTES])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t fl;

	if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(k->mac, a, an) != 1 ||
	    (bn && EVP_MAC_update(k->mac, b, bn) != 1) ||
	    EVP_MAC_final(k->mac, full, &fl, sizeof(full)) != 1 || fl < CM_TAG_BYTES)
		return PL_EIO;
	memcpy(tag, full, CM_TAG_BYTES);
	return 0;
}

/* AES-GCM, one call: aad, then p[0..n) in place; the tag is written
 * (encrypt) or checked (decrypt).  Returns 0, PL_EAUTH or PL_EIO. */
static int gcm_crypt(struct own_keys *k, bool decrypt, const uint8_t iv[12], const uint8_t *aad,
		     size_t aad_n, const uint8_t *aad2, size_t aad2_n, uint8_t *p, size_t n,
		     uint8_t tag[GCM_TAG_BYTES])
{
	EVP_CIPHER_CTX *c = k->cipher;
	int outl;

	if (decrypt) {
		if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, tag) != 1 ||
		    EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_n) != 1 ||
		    (aad2_n && EVP_DecryptUpdate(c, NULL, &outl, aad2, (int)aad2_n) != 1) ||
		    (n && EVP_DecryptUpdate(c, p, &outl, p, (int)n) != 1))
			return PL_EIO;
		return EVP_DecryptFinal_ex(c, p + n, &outl) == 1 ? 0 : PL_EAUTH;
	}
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &outl, aad, (int)aad_n) != 1 ||
	    (aad2_n && EVP_EncryptUpdate(c, NULL, &outl, aad2, (int)aad2_n) != 1) ||
	    (n && EVP_EncryptUpdate(c, p, &outl, p, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(c, p + n, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, tag) != 1)
		return PL_EIO;
	return 0;
}

/* RFC 7714 8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt. */
static void gcm_rtp_iv(const struct own_keys *k, uint32_t ssrc, uint64_t index, uint8_t iv[12])
{
	uint8_t v[12] = { 0, 0 };

	wr32(v + 2, ssrc);
	wr32(v + 6, (uint32_t)(index >> 16));
	v[10] = (uint8_t)(index >> 8), v[11] = (uint8_t)index;
	for (int i = 0; i < 12; i++)
		iv[i] = v[i] ^ k->salt[i];
}

/* RFC 7714 9.1: IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt. */
static void gcm_rtcp_iv(const struct own_keys *k, uint32_t ssrc, uint32_t index, uint8_t iv[12])
{
	uint8_t v[12] = { 0 };

	wr32(v + 2, ssrc);
	wr32(v + 8, index & 0x7fffffffu);
	for (int i = 0; i < 12; i++)
		iv[i] = v[i] ^ k->salt[i];
}

int pl_srtp_own_protect(struct pl_srtp_own *s, uint8_t *buf, size_t *len)
{
	size_t h = rtp_header_len(buf, *len), n;
	uint32_t ssrc;
	uint16_t seq;
	uint64_t index;
	struct own_stream *st;
	uint8_t roc[4];

	if (!h || *len > MAX_PACKET_BYTES)
		return PL_EPROTO;
	n = *len - h;
	ssrc = rd32(buf + 8);
	seq = (uint16_t)(buf[2] << 8 | buf[3]);
	if (!(st = stream_find(s, ssrc)) && !(st = stream_add(s, ssrc)))
		return PL_EPROTO;
	index = rtp_index_guess(st, seq);
	/* The 48-bit index is spent (the ROC would wrap to 0): going on would
	 * reuse keystream; libsrtp stops at its key limit as well. */
	if (st->rtp_seen && (st->rtp_top >> 16) == UINT32_MAX && (index >> 16) == 0)
		return PL_EPROTO;
	/* The sender only moves forward; a resend of an older index keeps
	 * the top (no window is kept on this side). */
	if (!st->rtp_seen || index > st->rtp_top) {
		st->rtp_top = index;
		st->rtp_seen = true;
	}
	if (s->gcm) {
		uint8_t iv[12];
		gcm_rtp_iv(&s->rtp, ssrc, index, iv);
		if (gcm_crypt(&s->rtp, false, iv, buf, h, NULL, 0, buf + h, n, buf + *len) < 0)
			return PL_EPROTO;
		*len += GCM_TAG_BYTES;
		return 0;
	}
	if (cm_crypt(&s->rtp, ssrc, index, buf + h, n) < 0)
		return PL_EPROTO;
	wr32(roc, (uint32_t)(index >> 16));
	if (cm_tag(&s->rtp, buf, *len, roc, 4, buf + *len) < 0)
		return PL_EPROTO;
	*len += CM_TAG_BYTES;
	return 0;
}

int pl_srtp_own_unprotect(struct pl_srtp_own *s, uint8_t *buf, size_t *len)
{
	size_t tag_n = s->gcm ? GCM_TAG_BYTES : CM_TAG_BYTES, h, n;
	uint32_t ssrc;
	uint16_t seq;
	uint64_t index;
	struct own_stream *st;
	int rc;

	if (*len < RTP_HEADER_BYTES + tag_n || *len > MAX_PACKET_BYTES ||
	    !(h = rtp_header_len(buf, *len - tag_n)))
		return PL_EPROTO;
	n = *len - tag_n - h;
	ssrc = rd32(buf + 8);
	seq = (uint16_t)(buf[2] << 8 | buf[3]);
	st = stream_find(s, ssrc);
	index = rtp_index_guess(st, seq);
	if (st && !win_test(st->rtp_win, RTP_WINDOW, st->rtp_top, st->rtp_seen, index))
		return PL_EEXIST;
	if (s->gcm) {
		uint8_t iv[12];
		gcm_rtp_iv(&s->rtp, ssrc, index, iv);
		rc = gcm_crypt(&s->rtp, true, iv, buf, h, NULL, 0, buf + h, n, buf + h + n);
		if (rc < 0)
			return rc == PL_EAUTH ? PL_EAUTH : PL_EPROTO;
	} else {
		uint8_t roc[4], tag[CM_TAG_BYTES];
		wr32(roc, (uint32_t)(index >> 16));
		if (cm_tag(&s->rtp, buf, h + n, roc, 4, tag) < 0)
			return PL_EPROTO;
		if (CRYPTO_memcmp(tag, buf + h + n, CM_TAG_BYTES) != 0)
			return PL_EAUTH;
		if (cm_crypt(&s->rtp, ssrc, index, buf + h, n) < 0)
			return PL_EPROTO;
	}
	/* Authenticated: only now may the SSRC take a slot. */
	if (!st && !(st = stream_add(s, ssrc)))
		return PL_EPROTO;
	win_set(st->rtp_win, RTP_WINDOW, &st->rtp_top, &st->rtp_seen, index);
	*len = h + n;
	return 0;
}

int pl_srtp_own_protect_rtcp(struct pl_srtp_own *s, uint8_t *buf, size_t *len)
{
	size_t n = *len - RTCP_HEADER_BYTES;
	uint32_t ssrc = rd32(buf + 4), index;
	struct own_stream *st;
	uint8_t trailer[SRTCP_INDEX_BYTES];

	if (*len > MAX_PACKET_BYTES)
		return PL_EPROTO;
	if (!(st = stream_find(s, ssrc)) && !(st = stream_add(s, ssrc)))
		return PL_EPROTO;
	/* 31-bit SRTCP index, first packet 1.  After 2^31-1 the index space
	 * is spent: wrapping to 0 would reuse the keystream of earlier
	 * packets (a two-time pad), and WebRTC never rekeys an SRTP session,
	 * so refuse from then on, as libsrtp does (key_expired). */
	if (st->rtcp_seen && st->rtcp_top >= SRTCP_INDEX_MAX)
		return PL_EPROTO;
	st->rtcp_top = st->rtcp_seen ? st->rtcp_top + 1 : 1;
	st->rtcp_seen = true;
	index = st->rtcp_top;
	wr32(trailer, index | 0x80000000u);
	if (s->gcm) {
		uint8_t iv[12];
		gcm_rtcp_iv(&s->rtcp, ssrc, index, iv);
		/* header(8) | ciphertext | tag(16) | E||index(4) */
		if (gcm_crypt(&s->rtcp, false, iv, buf, RTCP_HEADER_BYTES, trailer, 4,
			      buf + RTCP_HEADER_BYTES, n, buf + *len) < 0)
			return PL_EPROTO;
		memcpy(buf + *len + GCM_TAG_BYTES, trailer, 4);
		*len += GCM_TAG_BYTES + 4;
		return 0;
	}
	/* header(8) | ciphertext | E||index(4) | tag(10) over all before it */
	if (cm_crypt(&s->rtcp, ssrc, index, buf + RTCP_HEADER_BYTES, n) < 0)
		return PL_EPROTO;
	memcpy(buf + *len, trailer, 4);
	if (cm_tag(&s->rtcp, buf, *len + 4, NULL, 0, buf + *len + 4) < 0)
		return PL_EPROTO;
	*len += 4 + CM_TAG_BYTES;
	return 0;
}

int pl_srtp_own_unprotect_rtcp(struct pl_srtp_own *s, uint8_t *buf, size_t *len)
{
	size_t tag_n = s->gcm ? GCM_TAG_BYTES : CM_TAG_BYTES, n;
	uint32_t ssrc, word, index;
	struct own_stream *st;
	const uint8_t *trailer;
	uint8_t *tag;

	if (*len < RTCP_HEADER_BYTES + tag_n + SRTCP_INDEX_BYTES || *len > MAX_PACKET_BYTES)
		return PL_EPROTO;
	n = *len - RTCP_HEADER_BYTES - tag_n - SRTCP_INDEX_BYTES;
	ssrc = rd32(buf + 4);
	if (s->gcm) {
		tag = buf + RTCP_HEADER_BYTES + n;
		trailer = tag + GCM_TAG_BYTES;
	} else {
		trailer = buf + RTCP_HEADER_BYTES + n;
		tag = (uint8_t *)trailer + SRTCP_INDEX_BYTES;
	}
	word = rd32(trailer);
	if (!(word >> 31))
		return PL_EPROTO; /* E clear: not what was negotiated */
	index = word & SRTCP_INDEX_MAX;
	st = stream_find(s, ssrc);
	if (st && !win_test(st->rtcp_win, RTCP_WINDOW, st->rtcp_top, st->rtcp_seen, index))
		return PL_EEXIST;
	if (s->gcm) {
		uint8_t iv[12], tr[4];
		int rc;
		memcpy(tr, trailer, 4);
		gcm_rtcp_iv(&s->rtcp, ssrc, index, iv);
		/* AAD: header(8) | E||index(4) (RFC 7714 9.2) */
		rc = gcm_crypt(&s->rtcp, true, iv, buf, RTCP_HEADER_BYTES, tr, 4,
			       buf + RTCP_HEADER_BYTES, n, tag);
		if (rc < 0)
			return rc == PL_EAUTH ? PL_EAUTH : PL_EPROTO;
	} else {
		uint8_t want[CM_TAG_BYTES];
		if (cm_tag(&s->rtcp, buf, RTCP_HEADER_BYTES + n + SRTCP_INDEX_BYTES, NULL, 0, want) < 0)
			return PL_EPROTO;
		if (CRYPTO_memcmp(want, tag, CM_TAG_BYTES) != 0)
			return PL_EAUTH;
		if (cm_crypt(&s->rtcp, ssrc, index, buf + RTCP_HEADER_BYTES, n) < 0)
			return PL_EPROTO;
	}
	if (!st && !(st = stream_add(s, ssrc)))
		return PL_EPROTO;
	uint64_t top = st->rtcp_top;
	win_set(st->rtcp_win, RTCP_WINDOW, &top, &st->rtcp_seen, index);
	st->rtcp_top = (uint32_t)top;
	*len = RTCP_HEADER_BYTES + n;
	return 0;
}
