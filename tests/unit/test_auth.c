/* tests/unit/test_auth.c: HS256 JWT verification and creation (auth.h).
 *
 * The known vectors were computed outside Parley, with python3's hmac and
 * base64 modules and cross-checked with
 *   printf '%s.%s' H P | openssl dgst -sha256 -hmac KEY -binary | basenc --base64url
 * so a broken base64url or HMAC in auth.c cannot agree with them by
 * accident.  Hostile tokens are built by sign() below from arbitrary header
 * and payload text; it encodes with OpenSSL's plain base64 and converts the
 * alphabet, an implementation independent of the one under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signaling/auth.h"

#define SECRET "parley-test-secret"
#define NOW 1700000000
#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* room standup, sub alice, name Alice, exp 2000000000, publish true,
 * subscribe false, chat true; secret "parley-test-secret". */
static const char vector_alice[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJyb29tIjoic3RhbmR1cCIsInN1YiI6ImFsaWNlIiwibmFtZSI6IkFsaWNlIiwiZXhwIjoyMDAwMDAw"
	"MDAwLCJwdWJsaXNoIjp0cnVlLCJzdWJzY3JpYmUiOmZhbHNlLCJjaGF0Ijp0cnVlfQ."
	"fuh3VYNPdPYZv3VIjqvH3iVVTavTuxxBXUbknxa5Srw";

/* room "*", sub bob, no name, exp 1700000001, publish false, subscribe
 * true, chat false; secret "parley-test-secret". */
static const char vector_bob[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJyb29tIjoiKiIsInN1YiI6ImJvYiIsImV4cCI6MTcwMDAwMDAwMSwicHVibGlzaCI6ZmFsc2UsInN1"
	"YnNjcmliZSI6dHJ1ZSwiY2hhdCI6ZmFsc2V9."
	"By2oomNcmi3piLwVc9F6IeHPsKQVkvv4CGCwA0goBjQ";

/* Unpadded base64url of src[0..len), appended at out. */
static size_t b64url(const void *src, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, src, (int)len);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	return (size_t)n;
}

/* A token with exactly this header and payload text, signed with secret.
 * The caller frees it. */
static char *sign(const char *secret, const char *hdr, const char *payload)
{
	size_t hl = strlen(hdr), pl = strlen(payload), n;
	char *tok = malloc(hl * 2 + pl * 2 + 64);
	unsigned char mac[32];
	unsigned int mac_len = 0;

	assert_non_null(tok);
	n = b64url(hdr, hl, tok);
	tok[n++] = '.';
	n += b64url(payload, pl, tok + n);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
			     (unsigned char *)tok, n, mac, &mac_len));
	assert_int_equal(mac_len, 32);
	tok[n++] = '.';
	b64url(mac, sizeof(mac), tok + n);
	return tok;
}

/* pl_auth_verify() of a token with this header and payload. */
static int verify_parts(const char *hdr, const char *payload, struct pl_auth_claims *c)
{
	char *tok = sign(SECRET, hdr, payload);
	int rc = pl_auth_verify(SECRET, tok, NOW, c);

	free(tok);
	return rc;
}

static int verify_payload(const char *payload, struct pl_auth_claims *c)
{
	return verify_parts(HS256_HDR, payload, c);
}

static struct pl_auth_claims make_claims(const char *room, const char *sub, const char *name,
					 int64_t exp)
{
	struct pl_auth_claims c;

	memset(&c, 0, sizeof(c));
	snprintf(c.room, sizeof(c.room), "%s", room);
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.exp = exp;
	c.publish = c.subscribe = c.chat = true;
	return c;
}

static void test_auth_round_trip(void **state)
{
	struct pl_auth_claims in = make_claims("standup", "u-42", "Zo\xc3\xab \xf0\x9f\x8e\x89",
					       NOW + 3600);
	struct pl_auth_claims out;
	char *tok = NULL;

	in.subscribe = false;
	assert_int_equal(pl_auth_token_create(SECRET, &in, &tok), 0);
	assert_non_null(tok);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &out), 0);
	assert_string_equal(out.room, "standup");
	assert_string_equal(out.sub, "u-42");
	assert_string_equal(out.name, "Zo\xc3\xab \xf0\x9f\x8e\x89");
	assert_int_equal(out.exp, NOW + 3600);
	assert_true(out.publish);
	assert_false(out.subscribe);
	assert_true(out.chat);
	free(tok);
}

static void test_auth_known_vector_verify(void **state)
{
	struct pl_auth_claims c;

	assert_int_equal(pl_auth_verify(SECRET, vector_alice, NOW, &c), 0);
	assert_string_equal(c.room, "standup");
	assert_string_equal(c.sub, "alice");
	assert_string_equal(c.name, "Alice");
	assert_int_equal(c.exp, 2000000000);
	assert_true(c.publish);
	assert_false(c.subscribe);
	assert_true(c.chat);

	assert_int_equal(pl_auth_verify(SECRET, vector_bob, NOW, &c), 0);
	assert_string_equal(c.room, "*");
	assert_string_equal(c.sub, "bob");
	assert_string_equal(c.name, "");
	assert_int_equal(c.exp, 1700000001);
	assert_false(c.publish);
	assert_true(c.subscribe);
	assert_false(c.chat);
}

static void test_auth_known_vector_create(void **state)
{
	struct pl_auth_claims a = make_claims("standup", "alice", "Alice", 2000000000);
	struct pl_auth_claims b = make_claims("*", "bob", "", 1700000001);
	char *tok = NULL;

	a.subscribe = false;
	assert_int_equal(pl_auth_token_create(SECRET, &a, &tok), 0);
	assert_string_equal(tok, vector_alice);
	free(tok);

	/* An empty name is left out of the payload, not sent as "". */
	b.publish = b.chat = false;
	assert_int_equal(pl_auth_token_create(SECRET, &b, &tok), 0);
	assert_string_equal(tok, vector_bob);
	free(tok);
}

static void test_auth_wrong_secret(void **state)
{
	struct pl_auth_claims c;

	assert_int_equal(pl_auth_verify("parley-test-secreT", vector_alice, NOW, &c), PL_EAUTH);
	assert_int_equal(pl_auth_verify("parley-test-secret ", vector_alice, NOW, &c), PL_EAUTH);
	assert_int_equal(pl_auth_verify("x", vector_alice, NOW, &c), PL_EAUTH);
}

static void test_auth_tampered(void **state)
{
	struct pl_auth_claims c;
	char tok[sizeof(vector_alice)], *other, *spliced;
	size_t hdr_len = strchr(vector_alice, '.') - vector_alice;
	const char *sig = strrchr(vector_alice, '.');

	/* One flipped character in the payload. */
	memcpy(tok, vector_alice, sizeof(tok));
	tok[hdr_len + 10] ^= 0x01;
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);

	/* One flipped character in the signature. */
	memcpy(tok, vector_alice, sizeof(tok));
	tok[sig - vector_alice + 1] = tok[sig - vector_alice + 1] == 'A' ? 'B' : 'A';
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);

	/* Any single bit of the MAC matters, the last byte included (the last
	 * character carries 4 bits of it and 2 unused zero bits). */
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t s0 = sig - vector_alice + 1;
	assert_int_equal(strlen(sig + 1), 43);
	for (size_t i = s0; i < s0 + 43; i++) {
		memcpy(tok, vector_alice, sizeof(tok));
		int v = (int)(strchr(alpha, tok[i]) - alpha);
		tok[i] = alpha[v ^ (i == s0 + 42 ? 4 : 1)];
		if (pl_auth_verify(SECRET, tok, NOW, &c) != PL_EAUTH)
			fail_msg("signature character %zu altered and accepted", i - s0);
	}

	/* A well-formed payload granting a different room under the old signature. */
	other = sign(SECRET, HS256_HDR,
		     "{\"room\":\"*\",\"sub\":\"alice\",\"exp\":2000000000}");
	spliced = malloc(strlen(other) + sizeof(vector_alice));
	assert_non_null(spliced);
	memcpy(spliced, other, strrchr(other, '.') - other);
	strcpy(spliced + (strrchr(other, '.') - other), sig);
	assert_int_equal(pl_auth_verify(SECRET, spliced, NOW, &c), PL_EAUTH);
	free(spliced);
	free(other);
}

static void test_auth_alg_none(void **state)
{
	static const char payload[] = "{\"room\":\"*\",\"sub\":\"eve\",\"exp\":2000000000}";
	struct pl_auth_claims c;
	char tok[512], *signed_none;
	size_t n;

	/* The classic attack: alg none and an empty signature. */
	n = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27, tok);
	tok[n++] = '.';
	n += b64url(payload, strlen(payload), tok + n);
	tok[n++] = '.';
	tok[n] = '\0';
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);

	/* Even with a correct HMAC the header's alg must be HS256. */
	signed_none = sign(SECRET, "{\"alg\":\"none\"}", payload);
	assert_int_equal(pl_auth_verify(SECRET, signed_none, NOW, &c), PL_EAUTH);
	free(signed_none);
}

static void test_auth_bad_headers(void **state)
{
	static const char payload[] = "{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000}";
	static const char *const headers[] = {
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"alg\":\"HS256 \"}",
		"{\"typ\":\"JWT\"}",                     /* alg missing */
		"{\"alg\":null}",
		"{\"alg\":256}",
		"{\"alg\":[\"HS256\"]}",
		"{\"alg\":\"HS256\",\"alg\":\"none\"}",   /* duplicate key */
		"{\"alg\":\"HS256\",\"typ\":1}",
		"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
		"[\"HS256\"]",
		"\"HS256\"",
		"{\"alg\":\"HS256\"",                   /* truncated JSON */
		"{\"alg\":\"HS256\"} x",                /* trailing garbage */
		"",
	};
	struct pl_auth_claims c;

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		if (verify_parts(headers[i], payload, &c) != PL_EAUTH)
			fail_msg("header %zu (%s) accepted", i, headers[i]);
	}
	/* typ is optional, and alg alone is enough. */
	assert_int_equal(verify_parts("{\"alg\":\"HS256\"}", payload, &c), 0);
	assert_int_equal(verify_parts("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", payload, &c), 0);
}

static void test_auth_exp(void **state)
{
	struct pl_auth_claims c;

	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\"}", &c), PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1699999999}", &c),
			 PL_EEXPIRED);
	/* exp == now has expired: the token is valid strictly before exp. */
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1700000000}", &c),
			 PL_EEXPIRED);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":0}", &c),
			 PL_EEXPIRED);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":-5}", &c),
			 PL_EEXPIRED);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1700000001}", &c),
			 0);
	assert_int_equal(c.exp, 1700000001);

	/* A real NumericDate is accepted and rounds down. */
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1700000100.75}", &c),
			 0);
	assert_int_equal(c.exp, 1700000100);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1.7e9}", &c),
			 PL_EEXPIRED);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1700000000.5}", &c),
			 PL_EEXPIRED);

	/* Wrong types and out-of-range numbers are malformed, not expired. */
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":\"2000000000\"}", &c),
			 PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":null}", &c),
			 PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":true}", &c),
			 PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":[2000000000]}", &c),
			 PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1e300}", &c),
			 PL_EAUTH);
	assert_int_equal(
		verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":99999999999999999999}", &c),
		PL_EAUTH);
	/* An expired token with a malformed claim is reported as malformed. */
	assert_int_equal(verify_payload("{\"room\":1,\"sub\":\"s\",\"exp\":1}", &c), PL_EAUTH);
}

static void test_auth_claim_types(void **state)
{
	static const char *const payloads[] = {
		"{\"room\":7,\"sub\":\"s\",\"exp\":2000000000}",
		"{\"room\":null,\"sub\":\"s\",\"exp\":2000000000}",
		"{\"room\":[\"r\"],\"sub\":\"s\",\"exp\":2000000000}",
		"{\"sub\":\"s\",\"exp\":2000000000}",                   /* room missing */
		"{\"room\":\"\",\"sub\":\"s\",\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":42,\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":{},\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":true,\"exp\":2000000000}",
		"{\"room\":\"r\",\"exp\":2000000000}",                  /* sub missing */
		"{\"room\":\"r\",\"sub\":\"\",\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":\"s\",\"name\":5,\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":\"s\",\"name\":null,\"exp\":2000000000}",
		"{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"publish\":1}",
		"{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"publish\":\"false\"}",
		"{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"subscribe\":null}",
		"{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"chat\":0}",
		"{\"room\":\"r\",\"room\":\"*\",\"sub\":\"s\",\"exp\":2000000000}",
		"{\"room\":\"r\\u0000x\",\"sub\":\"s\",\"exp\":2000000000}",
		"[\"r\",\"s\",2000000000]",
		"\"room\"",
		"{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000",
		"",
	};
	struct pl_auth_claims c;

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		if (verify_payload(payloads[i], &c) != PL_EAUTH)
			fail_msg("payload %zu (%s) accepted", i, payloads[i]);
	}
	/* Claims Parley does not know are ignored. */
	assert_int_equal(verify_payload("{\"iss\":\"x\",\"iat\":1,\"room\":\"r\",\"sub\":\"s\","
					"\"exp\":2000000000,\"extra\":{\"a\":[1,2]}}",
					&c),
			 0);
}

/* A payload {"room":"<room_len x 'r'>","sub":"<sub_len x 's'>",
 * "name":"<name_len x 'n'>","exp":2000000000} verified. */
static int verify_sizes(size_t room_len, size_t sub_len, size_t name_len,
			struct pl_auth_claims *c)
{
	char payload[1024];
	int n = snprintf(payload, sizeof(payload),
			 "{\"room\":\"%0*d\",\"sub\":\"%0*d\",\"name\":\"%0*d\",\"exp\":2000000000}",
			 (int)room_len, 0, (int)sub_len, 0, (int)name_len, 0);

	assert_true(n > 0 && (size_t)n < sizeof(payload));
	if (name_len == 0) /* %0*d prints at least one digit */
		snprintf(payload, sizeof(payload),
			 "{\"room\":\"%0*d\",\"sub\":\"%0*d\",\"exp\":2000000000}",
			 (int)room_len, 0, (int)sub_len, 0);
	return verify_payload(payload, c);
}

static void test_auth_claim_sizes(void **state)
{
	struct pl_auth_claims c;

	assert_int_equal(verify_sizes(PL_AUTH_ROOM_MAX, PL_AUTH_SUB_MAX, PL_AUTH_NAME_MAX, &c), 0);
	assert_int_equal(strlen(c.room), PL_AUTH_ROOM_MAX);
	assert_int_equal(strlen(c.sub), PL_AUTH_SUB_MAX);
	assert_int_equal(strlen(c.name), PL_AUTH_NAME_MAX);
	assert_int_equal(verify_sizes(PL_AUTH_ROOM_MAX + 1, 1, 1, &c), PL_EAUTH);
	assert_int_equal(verify_sizes(1, PL_AUTH_SUB_MAX + 1, 1, &c), PL_EAUTH);
	assert_int_equal(verify_sizes(1, 1, PL_AUTH_NAME_MAX + 1, &c), PL_EAUTH);
	assert_int_equal(verify_sizes(1, 1, 0, &c), 0);
	assert_string_equal(c.name, "");

	/* The name limit is in bytes: 65 four-byte emoji are 260 bytes. */
	char payload[1024] = "{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"name\":\"";
	for (int i = 0; i < 65; i++)
		strcat(payload, "\xf0\x9f\x8e\x89");
	strcat(payload, "\"}");
	assert_int_equal(verify_payload(payload, &c), PL_EAUTH);
	/* An empty name claim is allowed and means no name. */
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"name\":\"\",\"exp\":2000000000}",
					&c),
			 0);
	assert_string_equal(c.name, "");
}

/* Verifies tok with pad inserted after its payload part. */
static int verify_padded_payload(const char *tok, const char *pad)
{
	size_t d2 = strrchr(tok, '.') - tok;
	char *bad = malloc(strlen(tok) + strlen(pad) + 1);
	struct pl_auth_claims c;
	int rc;

	assert_non_null(bad);
	memcpy(bad, tok, d2);
	strcpy(bad + d2, pad);
	strcat(bad, tok + d2);
	rc = pl_auth_verify(SECRET, bad, NOW, &c);
	free(bad);
	return rc;
}

static void test_auth_base64_padding(void **state)
{
	struct pl_auth_claims c;
	char *tok, *bad;
	size_t d1, d2;

	/* A 40-byte payload: its base64 would end in "==". */
	tok = sign(SECRET, HS256_HDR, "{\"room\":\"rr\",\"sub\":\"s\",\"exp\":2000000000}");
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), 0);
	d1 = strchr(tok, '.') - tok;
	d2 = strrchr(tok, '.') - tok;
	assert_int_equal((d2 - d1 - 1) % 4, 2);
	assert_int_equal(verify_padded_payload(tok, "=="), PL_EAUTH);
	assert_int_equal(verify_padded_payload(tok, "="), PL_EAUTH);
	free(tok);

	/* A 41-byte payload: its base64 would end in "=". */
	tok = sign(SECRET, HS256_HDR, "{\"room\":\"rrr\",\"sub\":\"s\",\"exp\":2000000000}");
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), 0);
	d1 = strchr(tok, '.') - tok;
	d2 = strrchr(tok, '.') - tok;
	assert_int_equal((d2 - d1 - 1) % 4, 3);
	assert_int_equal(verify_padded_payload(tok, "="), PL_EAUTH);
	assert_int_equal(verify_padded_payload(tok, "=="), PL_EAUTH);

	/* Padding after the signature (43 characters, one '=' in base64). */
	bad = malloc(strlen(tok) + 2);
	assert_non_null(bad);
	sprintf(bad, "%s=", tok);
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);
	free(bad);
	free(tok);
}

static void test_auth_base64_alphabet(void **state)
{
	/* Characters of plain base64 and of no base64 at all. */
	static const char subst[] = { '+', '/', '=', ' ', '\n', '*', '\x80', '~', '.' };
	struct pl_auth_claims c;
	char *tok = sign(SECRET, HS256_HDR, "{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000}");
	char *bad = malloc(strlen(tok) + 1);
	size_t d1 = strchr(tok, '.') - tok, d2 = strrchr(tok, '.') - tok;
	const size_t at[] = { 3, d1 + 3, d2 + 3 }; /* in header, payload, signature */

	assert_non_null(bad);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), 0);
	for (size_t i = 0; i < sizeof(subst); i++) {
		for (size_t j = 0; j < 3; j++) {
			strcpy(bad, tok);
			bad[at[j]] = subst[i];
			if (pl_auth_verify(SECRET, bad, NOW, &c) != PL_EAUTH)
				fail_msg("0x%02x in part %zu accepted", (unsigned char)subst[i], j);
		}
	}
	free(bad);
	free(tok);
}

static void test_auth_signature_spelling(void **state)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct pl_auth_claims c;
	size_t len = strlen(vector_alice);
	char bad[sizeof(vector_alice) + 2];
	int v;

	/* The last signature character carries 2 unused bits; setting them
	 * gives a second spelling of the same bytes, which must be refused. */
	strcpy(bad, vector_alice);
	v = (int)(strchr(alpha, bad[len - 1]) - alpha);
	assert_int_equal(v & 3, 0);
	bad[len - 1] = alpha[v | 1];
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);
	bad[len - 1] = alpha[v | 2];
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);

	/* A signature one character short or long. */
	strcpy(bad, vector_alice);
	bad[len - 1] = '\0';
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);
	snprintf(bad, sizeof(bad), "%sA", vector_alice);
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);
	snprintf(bad, sizeof(bad), "%sAA", vector_alice);
	assert_int_equal(pl_auth_verify(SECRET, bad, NOW, &c), PL_EAUTH);
}

/* A token whose parts keep base64's '=' padding, signed over exactly that
 * text, as a sloppy issuer would make it. */
static char *sign_padded(const char *hdr, const char *payload, bool pad_sig)
{
	size_t hl = strlen(hdr), pl = strlen(payload), n;
	char *tok = malloc(hl * 2 + pl * 2 + 64);
	unsigned char mac[32];
	unsigned int mac_len = 0;

	assert_non_null(tok);
	n = (size_t)EVP_EncodeBlock((unsigned char *)tok, (const unsigned char *)hdr, (int)hl);
	tok[n++] = '.';
	n += (size_t)EVP_EncodeBlock((unsigned char *)tok + n, (const unsigned char *)payload,
				     (int)pl);
	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)tok, n,
			     mac, &mac_len));
	tok[n++] = '.';
	b64url(mac, sizeof(mac), tok + n);
	if (pad_sig)
		strcat(tok, "=");
	return tok;
}

static void test_auth_padding_even_when_signed(void **state)
{
	/* A 28-byte header ("=") and a 40-byte payload ("=="). */
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\" }";
	static const char payload[] = "{\"room\":\"rr\",\"sub\":\"s\",\"exp\":2000000000}";
	struct pl_auth_claims c;
	char *tok;

	tok = sign(SECRET, hdr, payload);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), 0); /* control */
	free(tok);
	for (int pad_sig = 0; pad_sig <= 1; pad_sig++) {
		tok = sign_padded(hdr, payload, pad_sig);
		assert_non_null(strstr(tok, "=."));
		assert_null(strchr(tok, '+'));
		assert_null(strchr(tok, '/'));
		assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);
		free(tok);
	}
}

static void test_auth_garbage(void **state)
{
	static const char *const tokens[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "..c",
		"eyJhbGciOiJIUzI1NiJ9..", "!!!.$$$.%%%", "\xff\xfe.\xfd.\xfc",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
		" eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA",
		"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA",
	};
	struct pl_auth_claims c;
	char buf[sizeof(vector_alice) + 2];

	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		if (pl_auth_verify(SECRET, tokens[i], NOW, &c) != PL_EAUTH)
			fail_msg("token %zu (%s) accepted", i, tokens[i]);
	}
	/* A valid token with anything around it. */
	snprintf(buf, sizeof(buf), "%s.", vector_alice);
	assert_int_equal(pl_auth_verify(SECRET, buf, NOW, &c), PL_EAUTH);
	snprintf(buf, sizeof(buf), ".%s", vector_alice);
	assert_int_equal(pl_auth_verify(SECRET, buf, NOW, &c), PL_EAUTH);
	snprintf(buf, sizeof(buf), "%s\n", vector_alice);
	assert_int_equal(pl_auth_verify(SECRET, buf, NOW, &c), PL_EAUTH);
}

/* A correctly signed token of exactly `want` characters, padded with an
 * extra claim, or NULL when no padding size gives that length. */
static char *token_of_length(size_t want)
{
	char *payload = malloc(want + 64);

	assert_non_null(payload);
	for (size_t pad = want / 2; pad < want; pad++) {
		int n = snprintf(payload, want + 64,
				 "{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"pad\":\"");
		memset(payload + n, 'x', pad);
		strcpy(payload + n + pad, "\"}");
		char *tok = sign(SECRET, HS256_HDR, payload);
		if (strlen(tok) == want) {
			free(payload);
			return tok;
		}
		free(tok);
	}
	free(payload);
	return NULL;
}

static void test_auth_token_size_limit(void **state)
{
	struct pl_auth_claims c;
	char *tok;

	tok = token_of_length(8192);
	assert_non_null(tok);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), 0);
	free(tok);

	tok = token_of_length(8193);
	assert_non_null(tok);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);
	free(tok);

	tok = token_of_length(9 * 1024);
	assert_non_null(tok);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &c), PL_EAUTH);
	free(tok);

	/* 9 KiB of junk with no dot at all. */
	char *junk = malloc(9 * 1024 + 1);
	assert_non_null(junk);
	memset(junk, 'A', 9 * 1024);
	junk[9 * 1024] = '\0';
	assert_int_equal(pl_auth_verify(SECRET, junk, NOW, &c), PL_EAUTH);
	free(junk);
}

static void test_auth_allow_room(void **state)
{
	struct pl_auth_claims any = make_claims("*", "u", "", NOW + 1);
	struct pl_auth_claims one = make_claims("standup", "u", "", NOW + 1);

	assert_true(pl_auth_claims_allow_room(&any, "standup"));
	assert_true(pl_auth_claims_allow_room(&any, "*"));
	assert_true(pl_auth_claims_allow_room(&any, "x"));
	assert_true(pl_auth_claims_allow_room(&one, "standup"));
	assert_false(pl_auth_claims_allow_room(&one, "standup2"));
	assert_false(pl_auth_claims_allow_room(&one, "standu"));
	assert_false(pl_auth_claims_allow_room(&one, "Standup"));
	assert_false(pl_auth_claims_allow_room(&one, ""));
	assert_false(pl_auth_claims_allow_room(&one, "*"));

	/* The same through a verified token. */
	struct pl_auth_claims c;
	assert_int_equal(pl_auth_verify(SECRET, vector_bob, NOW, &c), 0);
	assert_true(pl_auth_claims_allow_room(&c, "anything"));
	assert_int_equal(pl_auth_verify(SECRET, vector_alice, NOW, &c), 0);
	assert_true(pl_auth_claims_allow_room(&c, "standup"));
	assert_false(pl_auth_claims_allow_room(&c, "other"));
}

static void test_auth_permission_defaults(void **state)
{
	struct pl_auth_claims c;

	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000}", &c), 0);
	assert_true(c.publish);
	assert_true(c.subscribe);
	assert_true(c.chat);

	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,"
					"\"publish\":false}",
					&c),
			 0);
	assert_false(c.publish);
	assert_true(c.subscribe);
	assert_true(c.chat);

	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,"
					"\"publish\":true,\"subscribe\":false,\"chat\":false}",
					&c),
			 0);
	assert_true(c.publish);
	assert_false(c.subscribe);
	assert_false(c.chat);
}

/* moderator is a power no token had before it existed: absent means
 * false, a non-boolean refuses the token, and pl_auth_token_create writes
 * it only when true (older tokens keep their exact bytes). */
static void test_auth_moderator_claim(void **state)
{
	struct pl_auth_claims c, m = make_claims("r", "mod", "", NOW + 60), back;
	char *tok = NULL;

	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000}", &c), 0);
	assert_false(c.moderator);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"moderator\":true}", &c), 0);
	assert_true(c.moderator);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"moderator\":false}", &c), 0);
	assert_false(c.moderator);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"moderator\":\"true\"}", &c), PL_EAUTH);
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":2000000000,\"moderator\":1}", &c), PL_EAUTH);

	m.moderator = true;
	assert_int_equal(pl_auth_token_create(SECRET, &m, &tok), 0);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &back), 0);
	assert_true(back.moderator);
	free(tok);
	m.moderator = false;
	assert_int_equal(pl_auth_token_create(SECRET, &m, &tok), 0);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &back), 0);
	assert_false(back.moderator);
	free(tok);
}

static void test_auth_out_untouched_on_failure(void **state)
{
	struct pl_auth_claims c, before;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_int_equal(verify_payload("{\"room\":\"r\",\"sub\":\"s\",\"exp\":1}", &c), PL_EEXPIRED);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(pl_auth_verify("nope", vector_alice, NOW, &c), PL_EAUTH);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_auth_bad_arguments(void **state)
{
	struct pl_auth_claims ok = make_claims("r", "s", "", NOW + 60), c;
	char *tok = (char *)"sentinel";

	assert_int_equal(pl_auth_verify(NULL, vector_alice, NOW, &c), PL_EINVAL);
	assert_int_equal(pl_auth_verify("", vector_alice, NOW, &c), PL_EINVAL);
	assert_int_equal(pl_auth_verify(SECRET, NULL, NOW, &c), PL_EINVAL);
	assert_int_equal(pl_auth_verify(SECRET, vector_alice, NOW, NULL), PL_EINVAL);

	assert_int_equal(pl_auth_token_create("", &ok, &tok), PL_EINVAL);
	assert_null(tok);
	assert_int_equal(pl_auth_token_create(NULL, &ok, &tok), PL_EINVAL);
	assert_int_equal(pl_auth_token_create(SECRET, NULL, &tok), PL_EINVAL);
	assert_int_equal(pl_auth_token_create(SECRET, &ok, NULL), PL_EINVAL);

	struct pl_auth_claims bad = make_claims("", "s", "", NOW + 60);
	assert_int_equal(pl_auth_token_create(SECRET, &bad, &tok), PL_EINVAL);
	bad = make_claims("r", "", "", NOW + 60);
	assert_int_equal(pl_auth_token_create(SECRET, &bad, &tok), PL_EINVAL);
	/* Unterminated fields and invalid UTF-8 would never verify. */
	bad = make_claims("r", "s", "", NOW + 60);
	memset(bad.room, 'r', sizeof(bad.room));
	assert_int_equal(pl_auth_token_create(SECRET, &bad, &tok), PL_EINVAL);
	bad = make_claims("r", "s", "", NOW + 60);
	memset(bad.name, 'n', sizeof(bad.name));
	assert_int_equal(pl_auth_token_create(SECRET, &bad, &tok), PL_EINVAL);
	bad = make_claims("r", "s\xc0\x80", "", NOW + 60);
	assert_int_equal(pl_auth_token_create(SECRET, &bad, &tok), PL_EINVAL);
	assert_null(tok);
}

static void test_auth_create_limits(void **state)
{
	struct pl_auth_claims in = make_claims("", "", "", NOW + 60), out;
	char *tok = NULL;

	/* The largest claims create a token that verifies. */
	memset(in.room, 'r', PL_AUTH_ROOM_MAX);
	memset(in.sub, 's', PL_AUTH_SUB_MAX);
	memset(in.name, 'n', PL_AUTH_NAME_MAX);
	assert_int_equal(pl_auth_token_create(SECRET, &in, &tok), 0);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(tok);

	/* Characters JSON must escape survive the trip. */
	in = make_claims("a\"b\\c/d", "tab\there", "line\nbreak", NOW + 60);
	assert_int_equal(pl_auth_token_create(SECRET, &in, &tok), 0);
	assert_int_equal(pl_auth_verify(SECRET, tok, NOW, &out), 0);
	assert_string_equal(out.room, "a\"b\\c/d");
	assert_string_equal(out.sub, "tab\there");
	assert_string_equal(out.name, "line\nbreak");
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_round_trip),
		cmocka_unit_test(test_auth_known_vector_verify),
		cmocka_unit_test(test_auth_known_vector_create),
		cmocka_unit_test(test_auth_wrong_secret),
		cmocka_unit_test(test_auth_tampered),
		cmocka_unit_test(test_auth_alg_none),
		cmocka_unit_test(test_auth_bad_headers),
		cmocka_unit_test(test_auth_exp),
		cmocka_unit_test(test_auth_claim_types),
		cmocka_unit_test(test_auth_claim_sizes),
		cmocka_unit_test(test_auth_base64_padding),
		cmocka_unit_test(test_auth_base64_alphabet),
		cmocka_unit_test(test_auth_signature_spelling),
		cmocka_unit_test(test_auth_padding_even_when_signed),
		cmocka_unit_test(test_auth_garbage),
		cmocka_unit_test(test_auth_token_size_limit),
		cmocka_unit_test(test_auth_allow_room),
		cmocka_unit_test(test_auth_permission_defaults),
		cmocka_unit_test(test_auth_moderator_claim),
		cmocka_unit_test(test_auth_out_untouched_on_failure),
		cmocka_unit_test(test_auth_bad_arguments),
		cmocka_unit_test(test_auth_create_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
