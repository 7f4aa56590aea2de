/* signaling/auth.c: HS256 JSON Web Tokens (RFC 7519, compact JWS of RFC 7515).
 *
 * A token is three base64url parts, "header.payload.signature".  Verifying
 * one goes outside in, trusting nothing before the signature is checked:
 * bound the length, split on the two dots, decode and parse the header and
 * insist on {"alg":"HS256"} (the "alg":"none" and algorithm-confusion
 * attacks are refused here), then compare HMAC-SHA256(secret, header "."
 * payload) with the signature in constant time, and only then parse the
 * claims.  Every claim is type-checked strictly; a claim of the wrong type is
 * a malformed token, not a default.  Expiry is checked last so that
 * PL_EEXPIRED means "a genuine token that has run out", which lets callers
 * tell the user something useful.
 *
 * The base64url decoder is strict on purpose: no padding, no characters
 * outside the URL-safe alphabet, no impossible lengths and no stray bits in
 * the last character.  Each token therefore has exactly one spelling, so a
 * signature cannot be re-encoded into a second "different" valid token.
 *
 * Nothing here keeps state; the functions are callable from any thread.
 * Tokens and the secret are never logged, and buffers that held decoded
 * claims are not shared with anyone.
 */
#include "signaling/auth.h"
#include "common/err.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 8192                       /* bytes, PROTOCOL.md "Auth" */
#define PART_MAX (TOKEN_MAX / 4 * 3 + 3)     /* decoded size of any part */
#define SIG_LEN 32                           /* HMAC-SHA256 */

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a base64url character, or -1 for anything else
 * (including '=' padding and the '+' '/' of plain base64). */
static int b64url_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

/* Decodes src[0..len) into out (cap bytes).  Returns the decoded length or
 * -1 when the input is not canonical unpadded base64url or does not fit. */
static long b64url_decode(const char *src, size_t len, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	if (len % 4 == 1 || len / 4 * 3 + 2 > cap)
		return -1; /* one leftover character cannot carry a byte */
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)src[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1; /* non-zero unused bits: a second spelling */
	return (long)n;
}

/* Encodes src[0..len) as unpadded base64url into out, which must hold
 * 4 * ceil(len / 3) + 1 bytes; returns the number of characters written. */
static size_t b64url_encode(const unsigned char *src, size_t len, char *out)
{
	size_t n = 0, i = 0;

	for (; i + 2 < len; i += 3) {
		uint32_t w = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		out[n++] = b64url_alphabet[(w >> 18) & 63];
		out[n++] = b64url_alphabet[(w >> 12) & 63];
		out[n++] = b64url_alphabet[(w >> 6) & 63];
		out[n++] = b64url_alphabet[w & 63];
	}
	if (i < len) {
		uint32_t w = (uint32_t)src[i] << 16;
		if (i + 1 < len)
			w |= (uint32_t)src[i + 1] << 8;
		out[n++] = b64url_alphabet[(w >> 18) & 63];
		out[n++] = b64url_alphabet[(w >> 12) & 63];
		if (i + 1 < len)
			out[n++] = b64url_alphabet[(w >> 6) & 63];
	}
	out[n] = '\0';
	return n;
}

/* HMAC-SHA256(secret, data[0..len)) into mac.  Returns 0 or PL_EINVAL. */
static int hs256(const char *secret, const char *data, size_t len, unsigned char mac[SIG_LEN])
{
	size_t key_len = strlen(secret);
	unsigned int mac_len = 0;

	if (key_len > INT_MAX)
		return PL_EINVAL;
	if (!HMAC(EVP_sha256(), secret, (int)key_len, (const unsigned char *)data, len, mac,
		  &mac_len) || mac_len != SIG_LEN)
		return PL_EINVAL;
	return 0;
}

/* Decodes one base64url part and parses it as a JSON object.  Duplicate keys
 * are refused: {"alg":"HS256","alg":"none"} must not mean whatever the
 * parser happened to keep.  Returns a new reference or NULL. */
static json_t *decode_json_part(const char *src, size_t len)
{
	unsigned char buf[PART_MAX];
	long n = b64url_decode(src, len, buf, sizeof(buf));
	json_t *obj;

	if (n <= 0)
		return NULL;
	obj = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	if (obj && !json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* The JOSE header must say HS256.  "crit" names extensions we would have to
 * understand (RFC 7515, 4.1.11), and we understand none, so it is refused. */
static bool header_is_hs256(const json_t *hdr)
{
	const json_t *alg = json_object_get(hdr, "alg");
	const json_t *typ = json_object_get(hdr, "typ");

	if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
		return false;
	if (typ && !json_is_string(typ))
		return false;
	return json_object_get(hdr, "crit") == NULL;
}

/* Copies the string claim `key` into dst (cap bytes with the NUL).  An
 * absent claim is an error only when required; a present one must be a
 * string of min_len..cap-1 bytes. */
static bool claim_string(const json_t *claims, const char *key, bool required,
			 size_t min_len, char *dst, size_t cap)
{
	const json_t *v = json_object_get(claims, key);
	size_t len;

	if (!v)
		return !required;
	if (!json_is_string(v))
		return false;
	len = json_string_length(v);
	if (len < min_len || len >= cap || memchr(json_string_value(v), '\0', len))
		return false;
	memcpy(dst, json_string_value(v), len + 1);
	return true;
}

/* An absent boolean claim takes its default; anything but a JSON boolean
 * is bad.  Rights a token has always had (publish, subscribe, chat)
 * default to true; new powers (moderator) default to false, so an old
 * token never gains them. */
static bool claim_bool_or(const json_t *claims, const char *key, bool dflt, bool *dst)
{
	const json_t *v = json_object_get(claims, key);

	if (!v) {
		*dst = dflt;
		return true;
	}
	if (!json_is_boolean(v))
		return false;
	*dst = json_is_true(v);
	return true;
}

/* exp is a NumericDate: an integer or a real.  A fractional expiry rounds
 * down, which can only make a token expire earlier, never later. */
static bool claim_exp(const json_t *claims, int64_t *dst)
{
	const json_t *v = json_object_get(claims, "exp");

	if (json_is_integer(v)) {
		*dst = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		int64_t i;

		if (!(d >= -9.2e18 && d <= 9.2e18))
			return false; /* NaN, infinite or beyond int64 */
		i = (int64_t)d; /* truncates toward zero ... */
		if ((double)i > d)
			i--; /* ... so step down for negative fractions */
		*dst = i;
		return true;
	}
	return false; /* absent, string, boolean, null, ... */
}

static bool parse_claims(const json_t *claims, struct pl_auth_claims *c)
{
	memset(c, 0, sizeof(*c));
	return claim_string(claims, "room", true, 1, c->room, sizeof(c->room)) &&
	       claim_string(claims, "sub", true, 1, c->sub, sizeof(c->sub)) &&
	       claim_string(claims, "name", false, 0, c->name, sizeof(c->name)) &&
	       claim_exp(claims, &c->exp) &&
	       claim_bool_or(claims, "publish", true, &c->publish) &&
	       claim_bool_or(claims, "subscribe", true, &c->subscribe) &&
	       claim_bool_or(claims, "chat", true, &c->chat) &&
	       claim_bool_or(claims, "moderator", false, &c->moderator);
}

/* Checks the signature of token[0..sig_dot) against token[sig_dot+1..len). */
static bool signature_is_valid(const char *secret, const char *token, size_t sig_dot,
			       size_t len)
{
	unsigned char want[SIG_LEN], got[SIG_LEN + 3];
	long n = b64url_decode(token + sig_dot + 1, len - sig_dot - 1, got, sizeof(got));
	bool ok;

	/* The length of a signature is public; only its bytes must not leak
	 * through timing. */
	if (n != SIG_LEN || hs256(secret, token, sig_dot, want) < 0)
		return false;
	ok = CRYPTO_memcmp(want, got, SIG_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int pl_auth_verify(const char *secret, const char *token, int64_t now_s,
		   struct pl_auth_claims *out)
{
	const char *end, *dot1, *dot2;
	struct pl_auth_claims c;
	json_t *hdr = NULL, *claims = NULL;
	size_t len;
	int rc = PL_EAUTH;

	if (!secret || !*secret || !token || !out)
		return PL_EINVAL;
	len = strnlen(token, TOKEN_MAX + 1);
	if (len > TOKEN_MAX)
		return PL_EAUTH; /* longer than 8 KiB */
	end = token + len;
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)))
		return PL_EAUTH; /* not exactly three parts */

	hdr = decode_json_part(token, (size_t)(dot1 - token));
	if (!hdr || !header_is_hs256(hdr))
		goto fail;
	if (!signature_is_valid(secret, token, (size_t)(dot2 - token), len))
		goto fail;
	claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!claims || !parse_claims(claims, &c))
		goto fail;
	if (c.exp <= now_s) {
		rc = PL_EEXPIRED;
		goto fail;
	}
	*out = c;
	rc = 0;
fail:
	json_decref(hdr);
	json_decref(claims);
	return rc;
}

bool pl_auth_claims_allow_room(const struct pl_auth_claims *c, const char *room)
{
	if (!c || !room)
		return false;
	return strcmp(c->room, "*") == 0 || strcmp(c->room, room) == 0;
}

/* Builds the claims object in the order room, sub, name, exp, publish,
 * subscribe, chat, moderator (jansson keeps insertion order), or NULL. */
static json_t *claims_to_json(const struct pl_auth_claims *c)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_object_set_new(o, "room", json_string(c->room));
	bad |= json_object_set_new(o, "sub", json_string(c->sub));
	if (c->name[0])
		bad |= json_object_set_new(o, "name", json_string(c->name));
	bad |= json_object_set_new(o, "exp", json_integer((json_int_t)c->exp));
	bad |= json_object_set_new(o, "publish", json_boolean(c->publish));
	bad |= json_object_set_new(o, "subscribe", json_boolean(c->subscribe));
	bad |= json_object_set_new(o, "chat", json_boolean(c->chat));
	if (c->moderator)
		bad |= json_object_set_new(o, "moderator", json_true());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* True when the string fields are terminated inside their arrays, non-empty
 * where required, and so would pass pl_auth_verify. */
static bool claims_are_valid(const struct pl_auth_claims *c)
{
	size_t room = strnlen(c->room, sizeof(c->room));
	size_t sub = strnlen(c->sub, sizeof(c->sub));
	size_t name = strnlen(c->name, sizeof(c->name));

	return room > 0 && room < sizeof(c->room) && sub > 0 && sub < sizeof(c->sub) &&
	       name < sizeof(c->name);
}

int pl_auth_token_create(const char *secret, const struct pl_auth_claims *c, char **out)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char mac[SIG_LEN];
	json_t *claims = NULL;
	char *payload = NULL, *tok = NULL;
	size_t hlen, plen, n;
	int rc;

	if (!out)
		return PL_EINVAL;
	*out = NULL;
	if (!secret || !*secret || !c || !claims_are_valid(c))
		return PL_EINVAL;
	claims = claims_to_json(c);
	if (!claims) {
		rc = PL_EINVAL; /* json_string() refuses invalid UTF-8 */
		goto fail;
	}
	payload = json_dumps(claims, JSON_COMPACT);
	if (!payload) {
		rc = PL_ENOMEM;
		goto fail;
	}
	hlen = sizeof(header) - 1;
	plen = strlen(payload);
	/* Each part grows by 4/3; two dots, a 43-character signature, a NUL. */
	tok = malloc((hlen + 2) / 3 * 4 + (plen + 2) / 3 * 4 + 2 + (SIG_LEN + 2) / 3 * 4 + 1);
	if (!tok) {
		rc = PL_ENOMEM;
		goto fail;
	}
	n = b64url_encode((const unsigned char *)header, hlen, tok);
	tok[n++] = '.';
	n += b64url_encode((const unsigned char *)payload, plen, tok + n);
	rc = hs256(secret, tok, n, mac);
	if (rc < 0)
		goto fail;
	tok[n++] = '.';
	n += b64url_encode(mac, SIG_LEN, tok + n);
	if (n > TOKEN_MAX) {
		rc = PL_EINVAL; /* cannot happen with the claim limits above */
		goto fail;
	}
	*out = tok;
	tok = NULL; /* ownership passed to the caller */
	rc = 0;
fail:
	free(tok);
	free(payload);
	json_decref(claims);
	return rc;
}
