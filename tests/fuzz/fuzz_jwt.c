/* tests/fuzz/fuzz_jwt.c: HS256 token verification (signaling/auth.h).
 *
 * One input is one token string as a client puts it in `join`.  It is
 * verified with a fixed secret (the seeds were made with `parleyd token
 * --auth-secret fuzz-secret`).  Forged signatures cannot be found by a
 * fuzzer, so besides "never crashes" the target checks the verifier's
 * contract on what does verify: claims within their sizes, and creating a
 * token from those claims and verifying it gives the same claims back
 * (so the creator and the verifier agree on every field).  The input is
 * also verified with a second secret and must never pass there.
 */
#include "fuzz.h"

#include "common/err.h"
#include "signaling/auth.h"

#include <string.h>

#define SECRET "fuzz-secret"
#define NOW_S 1800000000 /* 2027-01-15: the seeds expire later */

static char buf[16384];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_auth_claims c, c2;
	char *tok = NULL;
	int rc;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	rc = pl_auth_verify(SECRET, buf, NOW_S, &c);
	FUZZ_CHECK(rc == 0 || rc == PL_EAUTH || rc == PL_EEXPIRED);
	FUZZ_CHECK(pl_auth_verify("another-secret", buf, NOW_S, &c2) != 0);
	if (rc != 0)
		return 0;
	FUZZ_CHECK(strlen(buf) <= 8192); /* a NUL ends the token, as in a C string */
	FUZZ_CHECK(c.room[0] && c.sub[0] && c.exp > NOW_S);
	FUZZ_CHECK(strlen(c.room) <= PL_AUTH_ROOM_MAX && strlen(c.sub) <= PL_AUTH_SUB_MAX);
	FUZZ_CHECK(strlen(c.name) <= PL_AUTH_NAME_MAX);
	(void)pl_auth_claims_allow_room(&c, "room-a");
	FUZZ_CHECK(pl_auth_token_create(SECRET, &c, &tok) == 0);
	FUZZ_CHECK(pl_auth_verify(SECRET, tok, NOW_S, &c2) == 0);
	FUZZ_CHECK(strcmp(c.room, c2.room) == 0 && strcmp(c.sub, c2.sub) == 0);
	FUZZ_CHECK(strcmp(c.name, c2.name) == 0 && c.exp == c2.exp);
	FUZZ_CHECK(c.publish == c2.publish && c.subscribe == c2.subscribe && c.chat == c2.chat);
	FUZZ_CHECK(c.moderator == c2.moderator);
	free(tok);
	return 0;
}
