/* tests/unit/test_srtp_own.c: white-box checks of the built-in SRTP engine.
 *
 * media/srtp_own.c is compiled into this test (#include below) so its
 * static helpers and per-stream state can be driven directly: the index
 * estimation against a plain transcription of RFC 3711 Appendix A, the
 * replay windows against a naive model, the SSRC table (growth, the cached
 * `last` pointer, the MAX_STREAMS cap) and the ends of the index spaces
 * (2^31 SRTCP packets, 2^48 RTP packets), which no black-box test can
 * reach in reasonable time.  The black-box and libsrtp-comparison tests
 * are in test_srtp.c.  Linking: this object defines every pl_srtp_own_*
 * symbol and uses nothing else of libpl_media.a, so the archive's own copy
 * of srtp_own.o is never pulled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/srtp_own.c"

static const uint8_t test_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t test_salt[14] = { 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34 };

/* xorshift64: reproducible pseudo-random inputs. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

/* RFC 3711 Appendix A, signed arithmetic, with libsrtp's rule for
 * ROC 0: a guess of ROC-1 there would be 0xFFFFFFFF, so while the index
 * is at most 2^15 the ROC is taken as 0 (libsrtp
 * srtp_rdbx_estimate_index), which the other end also does. */
static uint64_t rfc_guess(uint64_t top, uint16_t seq)
{
	int64_t roc = (int64_t)(top >> 16), s_l = (int64_t)(top & 0xffff), v = roc;

	if (top <= 32768)
		return seq;
	if (s_l < 32768) {
		if ((int64_t)seq - s_l > 32768)
			v = roc - 1;
	} else if (s_l - 32768 > (int64_t)seq) {
		v = roc + 1;
	}
	return (uint64_t)(v & 0xffffffff) << 16 | seq;
}

static void test_own_index_guess_is_rfc3711(void **state)
{
	static const uint32_t rocs[] = { 0, 1, 2, 77, 0x7fffffff, 0xfffffffe };
	static const uint16_t tops[] = { 0, 1, 2, 1000, 32766, 32767, 32768, 32769, 40000, 65534, 65535 };
	struct own_stream st = { .rtp_seen = true };

	for (size_t r = 0; r < sizeof(rocs) / sizeof(rocs[0]); r++) {
		for (size_t t = 0; t < sizeof(tops) / sizeof(tops[0]) + 64; t++) {
			uint16_t s_l = t < sizeof(tops) / sizeof(tops[0]) ? tops[t] : (uint16_t)(t * 1021);
			st.rtp_top = (uint64_t)rocs[r] << 16 | s_l;
			for (uint32_t seq = 0; seq < 65536; seq++) {
				uint64_t g = rtp_index_guess(&st, (uint16_t)seq);
				assert_int_equal(g, rfc_guess(st.rtp_top, (uint16_t)seq));
				/* Past ROC 0 the guess is the index nearest the top. */
				if (st.rtp_top > 32768) {
					int64_t d = (int64_t)g - (int64_t)st.rtp_top;
					assert_true(d >= -32768 && d <= 32768);
				}
			}
		}
	}
	/* A stream never seen (or absent): ROC 0. */
	st.rtp_seen = false;
	assert_int_equal(rtp_index_guess(&st, 65535), 65535);
	assert_int_equal(rtp_index_guess(NULL, 7), 7);
}

/* The replay window against the obvious model: a set of every index
 * accepted so far and the highest; an index passes when it is above the
 * highest, or within `bits` below it and not in the set. */
static void window_vs_model(size_t bits, uint64_t seed)
{
	enum { SPAN = 1 << 26 };
	static uint8_t seen_set[SPAN / 8]; /* a bit per index */
	uint64_t win[RTP_WINDOW / 64] = { 0 }, top = 0, x = seed;
	bool seen = false;

	memset(seen_set, 0, sizeof(seen_set));
	for (int op = 0; op < 300000; op++) {
		uint64_t r = rng_next(&x), idx, back;
		/* Mostly in order or reordered/duplicated below the top; at
		 * both window edges; now and then a jump ahead of up to 3
		 * windows (one ahead of exactly bits-1, bits, bits+1). */
		switch (r % 32) {
		case 0:
			idx = top + 1 + (r >> 8) % (3 * bits);
			break;
		case 1:
			idx = top + bits - 1 + (r >> 8) % 3;
			break;
		case 2:
		case 3:
			back = bits - 1 + (r >> 8) % 3;
			idx = top >= back ? top - back : 0;
			break;
		default:
			if (r % 32 < 16) {
				idx = top + 1;
				break;
			}
			back = (r >> 8) % (bits + 3);
			idx = top >= back ? top - back : 0;
		}
		if (idx >= SPAN)
			break;
		bool in_set = seen_set[idx / 8] >> (idx % 8) & 1;
		bool want = !seen || idx > top || (top - idx < bits && !in_set);
		bool got = win_test(win, bits, top, seen, idx);
		assert_int_equal(got, want);
		if (got) {
			win_set(win, bits, &top, &seen, idx);
			seen_set[idx / 8] |= (uint8_t)(1u << (idx % 8));
			assert_false(win_test(win, bits, top, seen, idx)); /* now a replay */
		}
	}
	assert_true(top > 100000); /* the walk went somewhere */
}

static void test_own_replay_windows_match_model(void **state)
{
	window_vs_model(RTP_WINDOW, 0x9E3779B97F4A7C15ull);
	window_vs_model(RTCP_WINDOW, 0x0123456789ABCDEFull);
}

/* Growth moves every stream: `last` must follow it to the new table, and
 * every SSRC stays findable; the table stops at MAX_STREAMS. */
static void test_own_stream_table_growth_and_cap(void **state)
{
	struct pl_srtp_own *s = NULL;
	uint64_t x = 42;
	static uint32_t ssrcs[MAX_STREAMS];

	assert_int_equal(pl_srtp_own_create(false, test_key, test_salt, 14, false, &s), 0);
	for (size_t i = 0; i < MAX_STREAMS; i++) {
		/* Half of them collide in the hash's low bits (same slot chain). */
		uint32_t ssrc = (i & 1) ? (uint32_t)rng_next(&x) : (uint32_t)(i << 21) | 0x5a;
		while (stream_find(s, ssrc))
			ssrc = (uint32_t)rng_next(&x);
		ssrcs[i] = ssrc;
		/* Cache a stream in `last`, then add (maybe growing the table). */
		if (i)
			assert_non_null(stream_find(s, ssrcs[i / 2]));
		size_t cap_before = s->cap;
		struct own_stream *st = stream_add(s, ssrc);
		assert_non_null(st);
		assert_ptr_equal(s->last, st);
		assert_true(st >= s->streams && st < s->streams + s->cap);
		if (i && s->cap != cap_before) {
			/* `last` pointed into the freed table; lookups must not. */
			struct own_stream *again = stream_find(s, ssrcs[i / 2]);
			assert_non_null(again);
			assert_true(again >= s->streams && again < s->streams + s->cap);
			assert_int_equal(again->ssrc, ssrcs[i / 2]);
		}
		st->rtp_top = i; /* per-stream state survives the moves */
		st->rtp_seen = true;
	}
	assert_int_equal(s->n, MAX_STREAMS);
	assert_true(s->n <= s->cap / 2);
	for (size_t i = 0; i < MAX_STREAMS; i++) {
		struct own_stream *st = stream_find(s, ssrcs[i]);
		assert_non_null(st);
		assert_int_equal(st->ssrc, ssrcs[i]);
		assert_int_equal(st->rtp_top, i);
	}
	/* Full: one more is refused, the table and `last` are intact. */
	struct own_stream *last = s->last;
	size_t cap = s->cap;
	uint32_t extra = 0xF00DF00Du;
	while (stream_find(s, extra))
		extra++;
	assert_null(stream_add(s, extra));
	assert_int_equal(s->cap, cap);
	assert_int_equal(s->n, MAX_STREAMS);
	assert_ptr_equal(s->last, last);
	/* Through the packet path: an outbound packet for a new SSRC fails. */
	uint8_t buf[64 + 148] = { 0x80, 96, 0, 1, 0, 0, 0, 0 };
	size_t len = 64;
	wr32(buf + 8, extra);
	assert_int_equal(pl_srtp_own_protect(s, buf, &len), PL_EPROTO);
	assert_int_equal(len, 64);
	wr32(buf + 8, ssrcs[7]);
	assert_int_equal(pl_srtp_own_protect(s, buf, &len), 0);
	pl_srtp_own_destroy(s);
}

/* SSRCs that differ only in their high bits (chosen by a peer) must not
 * share one probe chain: the longest displacement stays short. */
static void test_own_stream_hash_spreads_structured_ssrcs(void **state)
{
	static const uint32_t keys[] = { 0, 1, 0x9e3779b9u, 0xdeadbeefu };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (uint32_t low = 0x5a; low < 0x100000; low += 0x7ffff) {
			struct pl_srtp_own *s = NULL;
			size_t worst = 0;

			assert_int_equal(pl_srtp_own_create(true, test_key, test_salt, 12, false, &s), 0);
			s->hash_key = keys[k];
			for (uint32_t i = 0; i < MAX_STREAMS; i++)
				assert_non_null(stream_add(s, i << 20 | low));
			for (size_t j = 0; j < s->cap; j++) {
				if (!s->streams[j].used)
					continue;
				size_t d = (j - slot_of(s, s->streams[j].ssrc, s->cap)) & (s->cap - 1);
				worst = d > worst ? d : worst;
			}
			assert_in_range(worst, 0, 128); /* was MAX_STREAMS - 1 */
			pl_srtp_own_destroy(s);
		}
	}
}

/* An SRTCP packet of one RR header, protected on stream ssrc. */
static int protect_rtcp8(struct pl_srtp_own *s, uint32_t ssrc, uint8_t *buf, size_t *len)
{
	memset(buf, 0, 8);
	buf[0] = 0x80, buf[1] = 201, buf[3] = 1;
	wr32(buf + 4, ssrc);
	*len = 8;
	return pl_srtp_own_protect_rtcp(s, buf, len);
}

/* After 2^31-1 the SRTCP index must not wrap: index 1 again would encrypt
 * a new packet with the keystream of the session's first one. */
static void test_own_srtcp_index_exhaustion(void **state)
{
	for (int gcm = 0; gcm < 2; gcm++) {
		struct pl_srtp_own *tx = NULL, *rx = NULL;
		uint8_t buf[8 + 148], first[8 + 148];
		size_t len, first_len, tr = gcm ? 8 + 16 : 8; /* offset of E||index */

		assert_int_equal(pl_srtp_own_create(gcm, test_key, test_salt, gcm ? 12 : 14, false, &tx), 0);
		assert_int_equal(pl_srtp_own_create(gcm, test_key, test_salt, gcm ? 12 : 14, true, &rx), 0);
		assert_int_equal(protect_rtcp8(tx, 0xAB, first, &first_len), 0);
		assert_int_equal(rd32(first + tr), 0x80000001u); /* index 1 first */
		stream_find(tx, 0xAB)->rtcp_top = SRTCP_INDEX_MAX - 1;
		assert_int_equal(protect_rtcp8(tx, 0xAB, buf, &len), 0);
		assert_int_equal(rd32(buf + tr), 0x80000000u | SRTCP_INDEX_MAX);
		assert_int_equal(pl_srtp_own_unprotect_rtcp(rx, buf, &len), 0);
		/* Spent: refused, now and later, nothing written. */
		for (int k = 0; k < 3; k++) {
			assert_int_equal(protect_rtcp8(tx, 0xAB, buf, &len), PL_EPROTO);
			assert_int_equal(len, 8);
		}
		/* Other SSRCs of the session are unaffected. */
		assert_int_equal(protect_rtcp8(tx, 0xAC, buf, &len), 0);
		assert_int_equal(rd32(buf + tr), 0x80000001u);
		pl_srtp_own_destroy(tx);
		pl_srtp_own_destroy(rx);
	}
}

/* The same at the end of the 48-bit RTP index: the ROC must not wrap to 0. */
static void test_own_rtp_index_exhaustion(void **state)
{
	for (int gcm = 0; gcm < 2; gcm++) {
		struct pl_srtp_own *tx = NULL;
		uint8_t buf[40 + 148] = { 0x80, 96 };
		size_t len = 40;

		assert_int_equal(pl_srtp_own_create(gcm, test_key, test_salt, gcm ? 12 : 14, false, &tx), 0);
		wr32(buf + 8, 0x1234);
		assert_int_equal(pl_srtp_own_protect(tx, buf, &len), 0);
		struct own_stream *st = stream_find(tx, 0x1234);
		st->rtp_top = (uint64_t)UINT32_MAX << 16 | 65500;
		/* The last indices are usable, a resend of an earlier one too. */
		for (uint32_t seq = 65501; seq <= 65535; seq++) {
			buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq, len = 40;
			assert_int_equal(pl_srtp_own_protect(tx, buf, &len), 0);
		}
		assert_int_equal(st->rtp_top, (uint64_t)UINT32_MAX << 16 | 65535);
		buf[2] = 0xff, buf[3] = 0x00, len = 40;
		assert_int_equal(pl_srtp_own_protect(tx, buf, &len), 0);
		/* Seq 0 would be ROC 2^32 = 0: refused, state kept. */
		buf[2] = 0, buf[3] = 0, len = 40;
		assert_int_equal(pl_srtp_own_protect(tx, buf, &len), PL_EPROTO);
		assert_int_equal(len, 40);
		assert_int_equal(st->rtp_top, (uint64_t)UINT32_MAX << 16 | 65535);
		pl_srtp_own_destroy(tx);
	}
}

/* Derived salts are wiped with their keys; destroy takes half-built
 * sessions (what a failed create leaves). */
static void test_own_key_wipe_and_half_built(void **state)
{
	static const uint8_t zero[CM_SALT_BYTES];
	struct pl_srtp_own *s = NULL;

	assert_int_equal(pl_srtp_own_create(false, test_key, test_salt, 14, true, &s), 0);
	assert_memory_not_equal(s->rtp.salt, zero, CM_SALT_BYTES);
	keys_free(&s->rtp);
	assert_memory_equal(s->rtp.salt, zero, CM_SALT_BYTES);
	assert_null(s->rtp.cipher);
	pl_srtp_own_destroy(s); /* one kind already freed */
	pl_srtp_own_destroy(NULL);
	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pl_srtp_own_destroy(s); /* nothing allocated inside */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_index_guess_is_rfc3711),
		cmocka_unit_test(test_own_replay_windows_match_model),
		cmocka_unit_test(test_own_stream_table_growth_and_cap),
		cmocka_unit_test(test_own_stream_hash_spreads_structured_ssrcs),
		cmocka_unit_test(test_own_srtcp_index_exhaustion),
		cmocka_unit_test(test_own_rtp_index_exhaustion),
		cmocka_unit_test(test_own_key_wipe_and_half_built),
	};

	return cmocka_run_group_tests_name("srtp_own", tests, NULL, NULL);
}
