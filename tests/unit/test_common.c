/* tests/unit/test_common.c: error codes, UTF-8 validation and logging.
 *
 * The UTF-8 tables follow RFC 3629 section 4 and the classic "UTF-8 decoder
 * capability and stress test" cases (overlongs, surrogates, values past
 * U+10FFFF, truncated sequences, stray continuation bytes).  The logging
 * tests run in order because pl_log_configure() sets process-wide state;
 * each one configures what it relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/utf8.h"

/* ---- err.h ------------------------------------------------------------ */

struct err_case {
	int code;
	const char *name;
	const char *msg;
};

static const struct err_case err_cases[] = {
#define ERR_CASE(name, val, msg) { PL_##name, #name, msg },
	PL_ERRNO_MAP(ERR_CASE)
#undef ERR_CASE
};

static void test_err_every_code(void **state)
{
	size_t n = sizeof(err_cases) / sizeof(err_cases[0]);

	assert_int_equal(n, 15);
	for (size_t i = 0; i < n; i++) {
		assert_true(err_cases[i].code < 0);
		assert_string_equal(pl_strerror(err_cases[i].code), err_cases[i].msg);
		assert_string_equal(pl_err_name(err_cases[i].code), err_cases[i].name);
		assert_string_not_equal(pl_strerror(err_cases[i].code), "unknown error");
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(err_cases[i].code, err_cases[j].code);
	}
}

static void test_err_spot_checks(void **state)
{
	/* Fixed values: they are part of logs and counters. */
	assert_int_equal(PL_EINVAL, -1);
	assert_int_equal(PL_EAUTH, -11);
	assert_int_equal(PL_EEXPIRED, -12);
	assert_int_equal(PL_ESYS, -15);
	assert_string_equal(pl_err_name(PL_EPROTO), "EPROTO");
	assert_string_equal(pl_strerror(PL_EPROTO), "protocol violation");
	assert_string_equal(pl_err_name(PL_EBUSY), "EBUSY");
	assert_string_equal(pl_strerror(PL_ENOMEM), "out of memory");
}

static void test_err_ok_and_unknown(void **state)
{
	static const int unknown[] = { 1, 12, -16, -100, INT_MIN, INT_MAX };

	assert_string_equal(pl_strerror(PL_OK), "success");
	assert_string_equal(pl_err_name(PL_OK), "OK");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(pl_strerror(unknown[i]), "unknown error");
		assert_string_equal(pl_err_name(unknown[i]), "EUNKNOWN");
	}
}

/* ---- utf8.h ----------------------------------------------------------- */

struct utf8_case {
	const char *s;
	size_t len;
	const char *what;
};

#define U(lit, what) { lit, sizeof(lit) - 1, what }

static const struct utf8_case utf8_valid[] = {
	U("", "empty"),
	U("hello, world", "ASCII"),
	U("\x01\x1f\x7f", "ASCII controls are valid UTF-8"),
	U("a\0b", "embedded NUL counted by length"),
	U("\xc2\x80", "U+0080, smallest 2-byte"),
	U("\xdf\xbf", "U+07FF, largest 2-byte"),
	U("\xe0\xa0\x80", "U+0800, smallest 3-byte"),
	U("\xed\x9f\xbf", "U+D7FF, just below the surrogates"),
	U("\xee\x80\x80", "U+E000, just above the surrogates"),
	U("\xef\xbf\xbd", "U+FFFD"),
	U("\xef\xbf\xbf", "U+FFFF"),
	U("\xf0\x90\x80\x80", "U+10000, smallest 4-byte"),
	U("\xf4\x8f\xbf\xbf", "U+10FFFF, largest code point"),
	U("Zo\xc3\xab \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "mixed"),
};

static const struct utf8_case utf8_invalid[] = {
	U("\xc0\x80", "overlong NUL, 2 bytes"),
	U("\xc0\xaf", "overlong '/', 2 bytes"),
	U("\xc1\xbf", "overlong U+007F"),
	U("\xe0\x80\x80", "overlong NUL, 3 bytes"),
	U("\xe0\x80\xaf", "overlong '/', 3 bytes"),
	U("\xe0\x9f\xbf", "overlong U+07FF"),
	U("\xf0\x80\x80\x80", "overlong NUL, 4 bytes"),
	U("\xf0\x8f\xbf\xbf", "overlong U+FFFF"),
	U("\xed\xa0\x80", "U+D800, high surrogate"),
	U("\xed\xaf\xbf", "U+DBFF"),
	U("\xed\xb0\x80", "U+DC00, low surrogate"),
	U("\xed\xbf\xbf", "U+DFFF"),
	U("\xed\xa0\xbd\xed\xb8\x80", "CESU-8 surrogate pair"),
	U("\xf4\x90\x80\x80", "U+110000"),
	U("\xf5\x80\x80\x80", "lead F5"),
	U("\xf7\xbf\xbf\xbf", "lead F7, U+1FFFFF"),
	U("\xf8\x88\x80\x80\x80", "5-byte form"),
	U("\xfc\x84\x80\x80\x80\x80", "6-byte form"),
	U("\xfe", "FE"),
	U("\xff", "FF"),
	U("\xc3", "truncated 2-byte"),
	U("\xe2\x82", "truncated 3-byte"),
	U("\xe2", "3-byte lead alone"),
	U("\xf0\x9f\x98", "truncated 4-byte"),
	U("\xf0\x9f", "truncated 4-byte, 2 of 4"),
	U("a\xe2\x82" "b", "truncated 3-byte before ASCII"),
	U("\xc3" "A", "2-byte lead followed by ASCII"),
	U("\xc3\xc3\xa9", "2-byte lead followed by a lead"),
	U("\x80", "stray continuation 80"),
	U("\xbf", "stray continuation BF"),
	U("a\x80" "b", "continuation between ASCII"),
	U("\xc3\xa9\xa9", "extra continuation after a 2-byte"),
	U("\xf0\x9f\x98\x80\x80", "extra continuation after a 4-byte"),
	U("abc\xff", "invalid byte at the end"),
};

static void test_utf8_valid(void **state)
{
	for (size_t i = 0; i < sizeof(utf8_valid) / sizeof(utf8_valid[0]); i++) {
		if (!pl_utf8_is_valid(utf8_valid[i].s, utf8_valid[i].len))
			fail_msg("valid case %zu (%s) refused", i, utf8_valid[i].what);
	}
}

static void test_utf8_invalid(void **state)
{
	for (size_t i = 0; i < sizeof(utf8_invalid) / sizeof(utf8_invalid[0]); i++) {
		if (pl_utf8_is_valid(utf8_invalid[i].s, utf8_invalid[i].len))
			fail_msg("invalid case %zu (%s) accepted", i, utf8_invalid[i].what);
		/* A bad sequence poisons any string it is part of. */
		char buf[32];
		size_t n = utf8_invalid[i].len;
		memcpy(buf, "ok ", 3);
		memcpy(buf + 3, utf8_invalid[i].s, n);
		memcpy(buf + 3 + n, " ok", 3);
		if (pl_utf8_is_valid(buf, n + 6))
			fail_msg("invalid case %zu (%s) accepted inside text", i,
				 utf8_invalid[i].what);
	}
}

static void test_utf8_length_is_respected(void **state)
{
	/* A sequence cut by len is truncated even when more bytes follow. */
	assert_false(pl_utf8_is_valid("\xc3\xa9", 1));
	assert_false(pl_utf8_is_valid("\xe2\x82\xac", 2));
	assert_false(pl_utf8_is_valid("\xf0\x9f\x98\x80", 3));
	assert_true(pl_utf8_is_valid("\xc3\xa9\xff", 2));
	assert_true(pl_utf8_is_valid("ab\xff", 2));
}

static void test_utf8_count(void **state)
{
	assert_int_equal(pl_utf8_count(""), 0);
	assert_int_equal(pl_utf8_count("abc"), 3);
	assert_int_equal(pl_utf8_count("h\xc3\xa9llo"), 5);
	assert_int_equal(pl_utf8_count("\xe4\xb8\xad\xe6\x96\x87"), 2);        /* 中文 */
	assert_int_equal(pl_utf8_count("\xe2\x82\xac\xf0\x9f\x98\x80"), 2);    /* €😀 */
	assert_int_equal(pl_utf8_count("\xf4\x8f\xbf\xbf" "a\xc2\x80"), 3);
	/* 64 four-byte code points: the display-name worst case. */
	char name[64 * 4 + 1] = "";
	for (int i = 0; i < 64; i++)
		strcat(name, "\xf0\x9f\x8e\x89");
	assert_int_equal(pl_utf8_count(name), 64);
	assert_int_equal(strlen(name), 256);
}

static void test_utf8_printable(void **state)
{
	static const char *const yes[] = {
		"Alice",
		"",
		"Zo\xc3\xab",
		"\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d",         /* CJK */
		"\xf0\x9f\x98\x80\xf0\x9f\x8e\x89",             /* emoji */
		"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",             /* emoji + skin tone */
		"\xc2\xa0",                                    /* U+00A0, first after C1 */
		" ~",
	};
	static const char *const no[] = {
		"line\nbreak",
		"\r",
		"tab\t",
		"\x1b[31mred",
		"\x01",
		"\x1f",
		"del\x7f",
		"\xc2\x80",          /* U+0080, C1 */
		"next\xc2\x85line",  /* U+0085 NEL */
		"\xc2\x9b" "31m",    /* U+009B CSI */
		"\xc2\x9f",          /* U+009F, last C1 */
		"\xc0\x80",          /* overlong NUL */
		"\xed\xa0\x80",      /* surrogate */
		"caf\xc3",           /* truncated */
		"\xff",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!pl_utf8_is_printable(yes[i]))
			fail_msg("printable case %zu refused", i);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (pl_utf8_is_printable(no[i]))
			fail_msg("non-printable case %zu accepted", i);
	}
}

/* ---- log.h ------------------------------------------------------------ */

static void test_log_level_parse(void **state)
{
	static const struct {
		const char *s;
		enum pl_log_level lv;
	} ok[] = {
		{ "error", PL_LOG_ERROR }, { "warn", PL_LOG_WARN },   { "info", PL_LOG_INFO },
		{ "debug", PL_LOG_DEBUG }, { "trace", PL_LOG_TRACE }, { "INFO", PL_LOG_INFO },
		{ "Warn", PL_LOG_WARN },   { "TrAcE", PL_LOG_TRACE },
	};
	static const char *const bad[] = { "", "warning", "err", "inf", "debug ", " info",
					   "5", "fatal", "info\n" };
	enum pl_log_level lv;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		lv = (enum pl_log_level)-1;
		assert_int_equal(pl_log_level_parse(ok[i].s, &lv), 0);
		assert_int_equal(lv, ok[i].lv);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lv = PL_LOG_DEBUG;
		assert_int_equal(pl_log_level_parse(bad[i], &lv), PL_EINVAL);
		assert_int_equal(lv, PL_LOG_DEBUG); /* untouched on error */
	}
	assert_int_equal(pl_log_level_parse(NULL, &lv), PL_EINVAL);
}

/* Must run before any other test calls pl_log_configure(). */
static void test_log_defaults(void **state)
{
	assert_true(pl_log_enabled(PL_LOG_ERROR, "sig"));
	assert_true(pl_log_enabled(PL_LOG_WARN, "rtp"));
	assert_true(pl_log_enabled(PL_LOG_INFO, "chat"));
	assert_false(pl_log_enabled(PL_LOG_DEBUG, "sig"));
	assert_false(pl_log_enabled(PL_LOG_TRACE, "sig"));
}

static void test_log_threshold(void **state)
{
	assert_int_equal(pl_log_configure("trace", NULL), 0);
	assert_true(pl_log_enabled(PL_LOG_TRACE, "rtp"));
	assert_true(pl_log_enabled(PL_LOG_DEBUG, "ice"));

	assert_int_equal(pl_log_configure("warn", NULL), 0);
	assert_true(pl_log_enabled(PL_LOG_ERROR, "sig"));
	assert_true(pl_log_enabled(PL_LOG_WARN, "sig"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "sig"));
	assert_false(pl_log_enabled(PL_LOG_DEBUG, "sig"));

	assert_int_equal(pl_log_configure("error", ""), 0);
	assert_true(pl_log_enabled(PL_LOG_ERROR, "sig"));
	assert_false(pl_log_enabled(PL_LOG_WARN, "sig"));

	/* A NULL level keeps the threshold and still resets the tags. */
	assert_int_equal(pl_log_configure("debug", "sig"), 0);
	assert_false(pl_log_enabled(PL_LOG_DEBUG, "rtp"));
	assert_int_equal(pl_log_configure(NULL, NULL), 0);
	assert_true(pl_log_enabled(PL_LOG_DEBUG, "rtp"));
	assert_false(pl_log_enabled(PL_LOG_TRACE, "rtp"));
}

static void test_log_bad_level_changes_nothing(void **state)
{
	assert_int_equal(pl_log_configure("debug", "sig"), 0);
	assert_int_equal(pl_log_configure("verbose", "all"), PL_EINVAL);
	assert_int_equal(pl_log_configure("", NULL), PL_EINVAL);
	/* Still debug, still only "sig". */
	assert_true(pl_log_enabled(PL_LOG_DEBUG, "sig"));
	assert_false(pl_log_enabled(PL_LOG_DEBUG, "rtp"));
	assert_false(pl_log_enabled(PL_LOG_TRACE, "sig"));
}

static void test_log_tags(void **state)
{
	assert_int_equal(pl_log_configure("debug", "sig,chat"), 0);
	assert_true(pl_log_enabled(PL_LOG_INFO, "sig"));
	assert_true(pl_log_enabled(PL_LOG_DEBUG, "chat"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "rtp"));
	assert_false(pl_log_enabled(PL_LOG_DEBUG, "ice"));
	/* Tags filter info and below only: errors and warnings always pass. */
	assert_true(pl_log_enabled(PL_LOG_ERROR, "rtp"));
	assert_true(pl_log_enabled(PL_LOG_WARN, "dtls"));
	/* The threshold still applies to tags in the list. */
	assert_false(pl_log_enabled(PL_LOG_TRACE, "sig"));
	/* Whole-tag matches only. */
	assert_false(pl_log_enabled(PL_LOG_INFO, "si"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "sigx"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "SIG"));
	assert_false(pl_log_enabled(PL_LOG_INFO, ""));

	/* Empty entries are skipped. */
	assert_int_equal(pl_log_configure("info", ",rtp,,rtcp,"), 0);
	assert_true(pl_log_enabled(PL_LOG_INFO, "rtp"));
	assert_true(pl_log_enabled(PL_LOG_INFO, "rtcp"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "sig"));

	/* "all", "" and NULL lift the filter. */
	static const char *const all[] = { "all", "", NULL };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(pl_log_configure("info", "sig"), 0);
		assert_false(pl_log_enabled(PL_LOG_INFO, "rtp"));
		assert_int_equal(pl_log_configure("info", all[i]), 0);
		assert_true(pl_log_enabled(PL_LOG_INFO, "rtp"));
	}
}

static void test_log_tag_limits(void **state)
{
	char list[32 * 4 + 16] = "";

	/* Tags up to 15 bytes are kept; a longer one is refused rather than
	 * silently dropped (which could widen the filter to everything). */
	assert_int_equal(pl_log_configure("info", "abcdefghijklmno, sig"), 0);
	assert_true(pl_log_enabled(PL_LOG_INFO, "abcdefghijklmno"));
	assert_true(pl_log_enabled(PL_LOG_INFO, "sig")); /* blanks trimmed */
	assert_int_equal(pl_log_configure("info", "abcdefghijklmnop,sig"), PL_EINVAL);
	assert_int_equal(pl_log_configure("info", ","), PL_EINVAL);

	/* At most 32 tags. */
	for (int i = 0; i < 32; i++)
		sprintf(list + strlen(list), "%st%02d", i ? "," : "", i);
	assert_int_equal(pl_log_configure("info", list), 0);
	assert_true(pl_log_enabled(PL_LOG_INFO, "t00"));
	assert_true(pl_log_enabled(PL_LOG_INFO, "t31"));
	assert_false(pl_log_enabled(PL_LOG_INFO, "sig"));
	strcat(list, ",t32");
	assert_int_equal(pl_log_configure("info", list), PL_EINVAL);
}

/* Runs fn with stderr redirected to a temporary file; returns what it
 * wrote (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved;
	long n;
	char *out;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = ftell(tmp);
	assert_true(n >= 0);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	rewind(tmp);
	assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void write_two_lines(void)
{
	pl_log_write(PL_LOG_WARN, "sig", "[room=%s] joined %d", "standup", 42);
	pl_log_write(PL_LOG_ERROR, "dtls", "handshake failed");
}

static void write_filtered(void)
{
	PL_LOG(PL_LOG_INFO, "sig", "kept %d", 1);
	PL_LOG(PL_LOG_INFO, "rtp", "dropped by tag");
	PL_LOG(PL_LOG_DEBUG, "sig", "dropped by level");
	PL_LOG(PL_LOG_WARN, "rtp", "kept %d", 2);
}

static void write_long(void)
{
	char msg[3000];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	pl_log_write(PL_LOG_INFO, "chat", "%s", msg);
}

static void test_log_write_format(void **state)
{
	char *out = capture_stderr(write_two_lines);
	char *nl = strchr(out, '\n');

	/* "HH:MM:SS.mmm level tag   message\n", level and tag padded to 5. */
	assert_non_null(nl);
	assert_int_equal(strlen(out), 2 * 13 + strlen("warn  sig   [room=standup] joined 42\n") +
					       strlen("error dtls  handshake failed\n"));
	assert_true(out[2] == ':' && out[5] == ':' && out[8] == '.' && out[12] == ' ');
	assert_memory_equal(out + 13, "warn  sig   [room=standup] joined 42\n", nl - out - 12);
	assert_string_equal(nl + 1 + 13, "error dtls  handshake failed\n");
	free(out);
}

static void test_log_macro_filters(void **state)
{
	char *out;

	assert_int_equal(pl_log_configure("info", "sig"), 0);
	out = capture_stderr(write_filtered);
	assert_non_null(strstr(out, "info  sig   kept 1\n"));
	assert_non_null(strstr(out, "warn  rtp   kept 2\n"));
	assert_null(strstr(out, "dropped"));
	assert_int_equal(strchr(out, '\n') - out + 1 + 13 + strlen("warn  rtp   kept 2\n"),
			 strlen(out));
	free(out);
	assert_int_equal(pl_log_configure("info", NULL), 0);
}

static void test_log_long_message_truncated(void **state)
{
	char *out = capture_stderr(write_long);
	size_t len = strlen(out);

	/* One line, cut to fit the 1 KiB line buffer, still newline-terminated. */
	assert_true(len > 900 && len <= 1023);
	assert_int_equal(out[len - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_every_code),
		cmocka_unit_test(test_err_spot_checks),
		cmocka_unit_test(test_err_ok_and_unknown),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_length_is_respected),
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_utf8_printable),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test(test_log_defaults), /* before any pl_log_configure() */
		cmocka_unit_test(test_log_threshold),
		cmocka_unit_test(test_log_bad_level_changes_nothing),
		cmocka_unit_test(test_log_tags),
		cmocka_unit_test(test_log_tag_limits),
		cmocka_unit_test(test_log_write_format),
		cmocka_unit_test(test_log_macro_filters),
		cmocka_unit_test(test_log_long_message_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
