/* signaling/auth.h: HS256 JSON Web Tokens for room access.
 *
 * parleyd verifies the token a client presents in `join` (PROTOCOL.md,
 * "Auth") and `parleyd token` creates one.  HMAC-SHA256 is computed with
 * OpenSSL; the comparison of signatures is constant-time.  Pure functions,
 * callable from any thread.  Never log a token or the secret.
 */
#ifndef PL_SIGNALING_AUTH_H
#define PL_SIGNALING_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#define PL_AUTH_ROOM_MAX 64     /* bytes, as PROTOCOL.md's room names */
#define PL_AUTH_SUB_MAX 128     /* bytes */
#define PL_AUTH_NAME_MAX 256    /* bytes (64 code points of up to 4 bytes) */

struct pl_auth_claims {
	char room[PL_AUTH_ROOM_MAX + 1]; /* a room name, or "*" for any room */
	char sub[PL_AUTH_SUB_MAX + 1];   /* user id, non-empty */
	char name[PL_AUTH_NAME_MAX + 1]; /* display name, "" when absent */
	int64_t exp;                     /* expiry, seconds since the epoch */
	bool publish;                    /* default true when absent */
	bool subscribe;                  /* default true when absent */
	bool chat;                       /* default true when absent */
	bool moderator;                  /* may `kick`; default false when absent */
};

/* Verifies a compact JWS: header {"alg":"HS256"} (typ optional, any other
 * alg refused, "none" included), base64url without padding, signature
 * HMAC-SHA256(secret) over "header.payload", then the claims: room and sub
 * strings (required), exp a number (required), name string (optional),
 * publish/subscribe/chat booleans (optional, default true), moderator
 * boolean (optional, default false).  now_s is the current time.
 * Returns 0 and fills *out; PL_EAUTH for anything malformed, a bad
 * signature, a claim of the wrong type or too long; PL_EEXPIRED when
 * exp <= now_s.  The token must be at most 8 KiB. */
int pl_auth_verify(const char *secret, const char *token, int64_t now_s,
		   struct pl_auth_claims *out);

/* True when the claims allow joining `room` ("*" allows any room). */
bool pl_auth_claims_allow_room(const struct pl_auth_claims *c, const char *room);

/* Creates a token carrying every field of *c (name only when non-empty,
 * moderator only when true; publish, subscribe and chat always).  *out is malloc'd; the caller
 * frees it.  Returns 0, PL_EINVAL (empty secret, empty sub or room). */
int pl_auth_token_create(const char *secret, const struct pl_auth_claims *c, char **out);

#endif
