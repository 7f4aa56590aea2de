/* tests/fuzz/fuzz_vp8.c: the VP8 RTP payload descriptor (codecs/vp8.h).
 *
 * One input is one RTP payload of a VP8 stream.  A descriptor that parses
 * must end inside the payload with at least one byte of VP8 data after it
 * (header_len < size, and at most the 6 bytes RFC 7741 allows), its
 * fields must fit their widths, and the keyframe flag must follow from
 * S, PID and the P bit of the first VP8 byte.  Anything else is
 * PL_ETRUNC.
 */
#include "fuzz.h"

#include "codecs/vp8.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_vp8_desc d;
	int rc = pl_vp8_parse(data, size, &d);

	if (rc != 0) {
		FUZZ_CHECK(rc == PL_ETRUNC);
		return 0;
	}
	FUZZ_CHECK(d.header_len >= 1 && d.header_len <= 6 && d.header_len < size);
	FUZZ_CHECK(d.partition <= 7 && d.tid <= 3);
	FUZZ_CHECK(d.picture_id <= 0x7fff && (d.has_picture_id || d.picture_id == 0));
	FUZZ_CHECK(d.has_tl0picidx || d.tl0picidx == 0);
	FUZZ_CHECK(d.keyframe == (d.start && d.partition == 0 && !(data[d.header_len] & 1)));
	/* Without the X bit the descriptor is one byte. */
	FUZZ_CHECK((data[0] & 0x80) || d.header_len == 1);
	return 0;
}
