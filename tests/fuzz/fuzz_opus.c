/* tests/fuzz/fuzz_opus.c: the Opus TOC parser (codecs/opus.h,
 * pl_opus_packet_samples(), which asks libopus).
 *
 * One input is one Opus RTP payload.  The duration must agree with an
 * independent reading of the TOC byte and frame count byte of RFC 6716
 * section 3.1: config gives the frame size, code 0 is one frame, codes 1
 * and 2 are two, code 3 gives the count in its second byte; a packet over
 * 120 ms is malformed.  Empty is PL_ETRUNC, anything refused PL_EPROTO.
 */
#include "fuzz.h"

#include "codecs/opus.h"
#include "common/err.h"

/* Frame size in 48 kHz samples of each of the 32 TOC configurations. */
static int frame_samples(unsigned config)
{
	static const int silk[4] = { 480, 960, 1920, 2880 };  /* 10 20 40 60 ms */
	static const int celt[4] = { 120, 240, 480, 960 };    /* 2.5 5 10 20 ms */

	if (config < 12)
		return silk[config & 3];
	if (config < 16)
		return (config & 1) ? 960 : 480;                  /* hybrid 10, 20 ms */
	return celt[config & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int samples = -1, frames = -1, rc;

	rc = pl_opus_packet_samples(data, size, &samples);
	if (size == 0) {
		FUZZ_CHECK(rc == PL_ETRUNC && samples == 0);
		return 0;
	}
	switch (data[0] & 3) {
	case 0:
		frames = 1;
		break;
	case 1:
	case 2:
		frames = 2;
		break;
	default:
		frames = size >= 2 ? (data[1] & 0x3f) : -1;
		break;
	}
	if (rc != 0) {
		FUZZ_CHECK(rc == PL_EPROTO && samples == 0);
		/* Refused only when the count is missing or over 120 ms. */
		FUZZ_CHECK(frames < 0 || frames * frame_samples(data[0] >> 3) > 5760);
		return 0;
	}
	FUZZ_CHECK(frames >= 0);
	FUZZ_CHECK(samples == frames * frame_samples(data[0] >> 3));
	FUZZ_CHECK(samples <= PL_OPUS_MAX_FRAME_SAMPLES);
	return 0;
}
