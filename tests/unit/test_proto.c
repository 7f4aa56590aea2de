/* tests/unit/test_proto.c: name validation, error names and the token
 * bucket of signaling/proto.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "signaling/proto.h"
#include "signaling/internal.h"

static void test_room_names(void **state)
{
	static const char *good[] = { "a", "standup", "A-b_c.9",
		"0123456789012345678901234567890123456789012345678901234567890123" };
	static const char *bad[] = { "", "a b", "ä", "a/b", "room!", "\t",
		"01234567890123456789012345678901234567890123456789012345678901234" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(pl_proto_room_is_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(pl_proto_room_is_valid(bad[i]));
	assert_false(pl_proto_room_is_valid(NULL));
}

static void test_display_names(void **state)
{
	char s[300];

	assert_true(pl_proto_display_is_valid("Alice"));
	assert_true(pl_proto_display_is_valid("Zoë 🎉 李"));
	assert_false(pl_proto_display_is_valid(""));
	assert_false(pl_proto_display_is_valid("a\nb"));
	assert_false(pl_proto_display_is_valid("a\x7f"));
	assert_false(pl_proto_display_is_valid("\xc3\x28"));
	/* 64 two-byte code points are fine, 65 are not. */
	for (int i = 0; i < 64; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[128] = '\0';
	assert_true(pl_proto_display_is_valid(s));
	memcpy(s + 128, "\xc3\xa9", 3);
	assert_false(pl_proto_display_is_valid(s));
}

static void test_text(void **state)
{
	static char s[4002 * 3];

	assert_false(pl_proto_text_is_valid(""));
	assert_true(pl_proto_text_is_valid("line one\nline two"));
	memset(s, 'x', 4000);
	s[4000] = '\0';
	assert_true(pl_proto_text_is_valid(s));
	s[4000] = 'x';
	s[4001] = '\0';
	assert_false(pl_proto_text_is_valid(s));
}

static void test_error_names(void **state)
{
	assert_string_equal(pl_proto_error_name(PL_PROTO_BAD_REQUEST), "bad_request");
	assert_string_equal(pl_proto_error_name(PL_PROTO_ROOM_FULL), "room_full");
	assert_string_equal(pl_proto_error_name(PL_PROTO_INTERNAL), "internal");
	assert_null(pl_proto_error_name(PL_PROTO_ERROR_COUNT));
}

static void test_bucket(void **state)
{
	struct pl_bucket b;
	int64_t t = 1000000;
	int n = 0;

	pl_bucket_init(&b, 10, 5, t);
	while (pl_bucket_take(&b, t))
		n++;
	assert_int_equal(n, 5);            /* the burst */
	assert_false(pl_bucket_take(&b, t + 50000));  /* 0.5 token after 50 ms */
	assert_true(pl_bucket_take(&b, t + 100000));  /* one token after 100 ms */
	assert_false(pl_bucket_take(&b, t + 100000));
	/* A long idle refills only up to the burst. */
	n = 0;
	while (pl_bucket_take(&b, t + 100000000))
		n++;
	assert_int_equal(n, 5);
	/* Rate 0 is unlimited. */
	pl_bucket_init(&b, 0, 1, t);
	for (int i = 0; i < 10000; i++)
		assert_true(pl_bucket_take(&b, t));
}

/* Found by tests/fuzz/fuzz_signaling (corpus/signaling/crash_error_text_
 * cut_utf8): an error message quoting the client cut inside a UTF-8
 * character (jansson's "near '...'" excerpt, "unknown type '%.40s'") made
 * json_pack fail and parleyd abort.  The session is dead so nothing is
 * queued to a socket; the message must simply be answered and counted. */
static void test_error_text_cut_inside_utf8(void **state)
{
	static const char bad_escape[] = "{\"tre\xda\x89\xdd\xadr\\\xda\x89\xdd\xbb\"}";
	static const char long_type[] = "{\"type\":\"012345678901234567890123456789012345678\xc3\xa9\"}";
	struct pl_config cfg;
	struct pl_server srv = { .cfg = &cfg };
	struct pl_session s = { .id = 1, .srv = &srv, .dead = true };

	pl_config_init(&cfg);
	pl_bucket_init(&s.msg_bucket, 0, 0, 0);
	pl_session_handle_text(&s, bad_escape, strlen(bad_escape));
	assert_int_equal(srv.stats.protocol_errors, 1);
	pl_session_handle_text(&s, long_type, strlen(long_type));
	assert_int_equal(srv.stats.protocol_errors, 2);
	pl_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_names),
		cmocka_unit_test(test_display_names),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_error_text_cut_inside_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
