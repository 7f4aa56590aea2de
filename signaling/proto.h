/* signaling/proto.h: pure pieces of the signaling protocol (PROTOCOL.md).
 *
 * Name validation, the protocol's error codes and the per-connection token
 * bucket.  No I/O, no JSON library types; callable from any thread.
 */
#ifndef PL_SIGNALING_PROTO_H
#define PL_SIGNALING_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#define PL_PROTO_ROOM_MAX 64      /* characters of [A-Za-z0-9_.-] */
#define PL_PROTO_DISPLAY_MAX 64   /* code points */
#define PL_PROTO_TEXT_MAX 4000    /* code points */
#define PL_PROTO_ERRORS_IN_ROW 10 /* protocol errors before close 1008 */

/* The error codes of PROTOCOL.md, in its order. */
enum pl_proto_error {
	PL_PROTO_BAD_REQUEST,
	PL_PROTO_UNAUTHORIZED,
	PL_PROTO_FORBIDDEN,
	PL_PROTO_NOT_FOUND,
	PL_PROTO_ROOM_FULL,
	PL_PROTO_RATE_LIMITED,
	PL_PROTO_TOO_LARGE,
	PL_PROTO_CONFLICT,
	PL_PROTO_INTERNAL,
	PL_PROTO_ERROR_COUNT
};

/* "bad_request", ...; NULL for an out-of-range value. */
const char *pl_proto_error_name(enum pl_proto_error e);

/* Room names and user ids: 1-64 characters of [A-Za-z0-9_.-]. */
bool pl_proto_room_is_valid(const char *s);
/* Display names: valid UTF-8, 1-64 printable code points. */
bool pl_proto_display_is_valid(const char *s);
/* Chat text: valid UTF-8, 1-4000 code points. */
bool pl_proto_text_is_valid(const char *s);

/* A token bucket: `rate` tokens per second up to `burst`.  rate == 0 means
 * unlimited (every take succeeds). */
struct pl_bucket {
	double rate, burst, tokens;
	int64_t last_us;
};
void pl_bucket_init(struct pl_bucket *b, double rate, double burst, int64_t now_us);
/* Takes one token; false when the bucket is empty (the caller rejects). */
bool pl_bucket_take(struct pl_bucket *b, int64_t now_us);

#endif
