/* signaling/proto.c: validation and rate limiting for the signaling
 * protocol.  Pure functions; see proto.h. */
#include "signaling/proto.h"
#include "common/utf8.h"

#include <string.h>

static const char *const error_names[PL_PROTO_ERROR_COUNT] = {
	"bad_request", "unauthorized", "forbidden", "not_found", "room_full",
	"rate_limited", "too_large", "conflict", "internal",
};

const char *pl_proto_error_name(enum pl_proto_error e)
{
	return (unsigned)e < PL_PROTO_ERROR_COUNT ? error_names[e] : NULL;
}

bool pl_proto_room_is_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok || n >= PL_PROTO_ROOM_MAX)
			return false;
	}
	return n > 0;
}

bool pl_proto_display_is_valid(const char *s)
{
	size_t n;

	if (!s || !*s || !pl_utf8_is_valid(s, strlen(s)) || !pl_utf8_is_printable(s))
		return false;
	n = pl_utf8_count(s);
	return n >= 1 && n <= PL_PROTO_DISPLAY_MAX;
}

bool pl_proto_text_is_valid(const char *s)
{
	size_t n;

	if (!s || !*s || !pl_utf8_is_valid(s, strlen(s)))
		return false;
	n = pl_utf8_count(s);
	return n >= 1 && n <= PL_PROTO_TEXT_MAX;
}

void pl_bucket_init(struct pl_bucket *b, double rate, double burst, int64_t now_us)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last_us = now_us;
}

bool pl_bucket_take(struct pl_bucket *b, int64_t now_us)
{
	if (b->rate <= 0)
		return true;
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_us = now_us;
	}
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}
