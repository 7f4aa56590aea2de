/* tests/unit/test_vp8.c: the VP8 payload descriptor (RFC 7741 4.2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "codecs/vp8.h"
#include "common/err.h"

static void test_vp8_minimal_keyframe(void **state)
{
	/* S=1 PID=0, no extension; VP8 header byte with P=0 (keyframe). */
	static const uint8_t pkt[] = { 0x10, 0x9c, 0x01, 0x2a };
	struct pl_vp8_desc d;

	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
	assert_true(d.start);
	assert_int_equal(d.header_len, 1);
	assert_true(d.keyframe);
}

static void test_vp8_delta_frame(void **state)
{
	static const uint8_t pkt[] = { 0x10, 0x01, 0x00 };
	struct pl_vp8_desc d;

	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
	assert_false(d.keyframe);
}

static void test_vp8_continuation_is_not_keyframe(void **state)
{
	/* S=0: a later packet of the frame, whatever its first byte says. */
	static const uint8_t pkt[] = { 0x00, 0x00, 0x00 };
	struct pl_vp8_desc d;

	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
	assert_false(d.start);
	assert_false(d.keyframe);
}

static void test_vp8_extended_fields(void **state)
{
	/* X=1 S=1; I L T K all set; 15-bit picture id 0x1234; TL0PICIDX 7;
	 * TID 2, Y=1; then a keyframe header byte. */
	static const uint8_t pkt[] = { 0x90, 0xf0, 0x92, 0x34, 0x07, 0xa0 | 0x05, 0x10 };
	struct pl_vp8_desc d;

	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
	assert_true(d.has_picture_id);
	assert_int_equal(d.picture_id, 0x1234);
	assert_true(d.has_tl0picidx);
	assert_int_equal(d.tl0picidx, 7);
	assert_true(d.has_tid);
	assert_int_equal(d.tid, 2);
	assert_true(d.layer_sync);
	assert_int_equal(d.header_len, 6);
	assert_true(d.keyframe);
}

static void test_vp8_short_picture_id(void **state)
{
	static const uint8_t pkt[] = { 0x90, 0x80, 0x45, 0x01 };
	struct pl_vp8_desc d;

	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
	assert_int_equal(d.picture_id, 0x45);
	assert_int_equal(d.header_len, 3);
	assert_false(d.keyframe);
}

static void test_vp8_truncations(void **state)
{
	static const uint8_t pkt[] = { 0x90, 0xf0, 0x92, 0x34, 0x07, 0xa0, 0x10 };
	struct pl_vp8_desc d;

	/* Every prefix shorter than descriptor + one payload byte fails. */
	for (size_t n = 0; n < sizeof(pkt); n++)
		assert_int_equal(pl_vp8_parse(pkt, n, &d), PL_ETRUNC);
	assert_int_equal(pl_vp8_parse(pkt, sizeof(pkt), &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vp8_minimal_keyframe),
		cmocka_unit_test(test_vp8_delta_frame),
		cmocka_unit_test(test_vp8_continuation_is_not_keyframe),
		cmocka_unit_test(test_vp8_extended_fields),
		cmocka_unit_test(test_vp8_short_picture_id),
		cmocka_unit_test(test_vp8_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
