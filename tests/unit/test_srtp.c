/* tests/unit/test_srtp.c: SRTP/SRTCP sessions through media/srtp.h.
 *
 * Known answers come from libsrtp's own reference packets (test/srtp_driver.c
 * srtp_validate and srtp_validate_gcm): AES-CM with the RFC 3711 Appendix
 * B.3 master key and salt, AES-GCM with key 00..0f and salt a0..ab, for one
 * RTP and one RTCP packet each.  The rest are properties: round trips for
 * both profiles and both packet kinds, and each way an inbound packet can
 * be refused (tampered, replayed, too old, wrong key, malformed).  Every
 * test runs on both engines (the built-in one and libsrtp), and the
 * interop tests make one engine protect what the other unprotects:
 * CSRCs and header extensions, sequence wrap (rollover counter), loss,
 * reordering inside the window, many SSRCs, SRTCP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include <srtp2/srtp.h> /* a raw libsrtp sender for SRTCP without encryption */

#include "common/err.h"
#include "media/srtp.h"

#define PKT_CAP 1600

static const enum pl_srtp_profile profiles[] = {
	PL_SRTP_AES128_CM_SHA1_80,
	PL_SRTP_AEAD_AES_128_GCM,
};
#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

/* Bytes protect adds: RTP tag; RTCP tag + 4-byte E||index. */
static size_t rtp_overhead(enum pl_srtp_profile p)
{
	return p == PL_SRTP_AEAD_AES_128_GCM ? 16 : 10;
}

static size_t rtcp_overhead(enum pl_srtp_profile p)
{
	return rtp_overhead(p) + 4;
}

static void fill_key(uint8_t *key, uint8_t *salt, uint8_t seed)
{
	for (size_t i = 0; i < 16; i++)
		key[i] = (uint8_t)(seed + 3 * i);
	for (size_t i = 0; i < 14; i++)
		salt[i] = (uint8_t)(seed ^ (0x55 + i));
}

static struct pl_srtp *session(enum pl_srtp_profile p, uint8_t seed, bool inbound)
{
	uint8_t key[16], salt[14];
	struct pl_srtp *s = NULL;

	fill_key(key, salt, seed);
	assert_int_equal(pl_srtp_create(p, key, pl_srtp_key_len(p), salt, pl_srtp_salt_len(p),
					inbound, &s), 0);
	assert_non_null(s);
	return s;
}

/* V=2, PT=96, the given seq and SSRC, then payload_len bytes of a pattern. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
	const uint32_t ts = 90000u + seq * 3000u;

	buf[0] = 0x80, buf[1] = 96;
	buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24), buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8), buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24), buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8), buf[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload_len; i++)
		buf[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + payload_len;
}

/* A receiver report with one report block (RFC 3550 6.4.2). */
static size_t make_rtcp_rr(uint8_t *buf, uint32_t ssrc)
{
	static const uint8_t rr[32] = { 0x81, 201, 0x00, 0x07, 0, 0, 0, 0,
					0x11, 0x22, 0x33, 0x44, 0x01, 0x00, 0x00, 0x05,
					0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x20,
					0xAB, 0xCD, 0xEF, 0x01, 0x00, 0x00, 0x10, 0x00 };

	memcpy(buf, rr, sizeof(rr));
	buf[4] = (uint8_t)(ssrc >> 24), buf[5] = (uint8_t)(ssrc >> 16);
	buf[6] = (uint8_t)(ssrc >> 8), buf[7] = (uint8_t)ssrc;
	return sizeof(rr);
}

static int group_setup(void **state)
{
	return pl_srtp_global_init();
}

/* ---- lengths and creation ----------------------------------------------- */

static void test_srtp_key_salt_table(void **state)
{
	static const struct {
		enum pl_srtp_profile p;
		size_t key, salt;
		const char *name;
	} cases[] = {
		{ PL_SRTP_AES128_CM_SHA1_80, 16, 14, "SRTP_AES128_CM_SHA1_80" },
		{ PL_SRTP_AEAD_AES_128_GCM, 16, 12, "SRTP_AEAD_AES_128_GCM" },
		{ (enum pl_srtp_profile)0x0002, 0, 0, "unknown" }, /* SHA1_32: not ours */
		{ (enum pl_srtp_profile)0x0008, 0, 0, "unknown" }, /* AES_256_GCM */
		{ (enum pl_srtp_profile)0, 0, 0, "unknown" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pl_srtp_key_len(cases[i].p), cases[i].key);
		assert_int_equal(pl_srtp_salt_len(cases[i].p), cases[i].salt);
		assert_string_equal(pl_srtp_profile_name(cases[i].p), cases[i].name);
	}
	/* IANA values: they travel in use_srtp. */
	assert_int_equal(PL_SRTP_AES128_CM_SHA1_80, 0x0001);
	assert_int_equal(PL_SRTP_AEAD_AES_128_GCM, 0x0007);
}

static void test_srtp_create_rejects_bad_lengths(void **state)
{
	uint8_t key[32] = { 1 }, salt[14] = { 2 };
	struct pl_srtp *s = NULL;

	assert_int_equal(pl_srtp_create(PL_SRTP_AES128_CM_SHA1_80, key, 16, salt, 12, true, &s),
			 PL_EINVAL);
	assert_int_equal(pl_srtp_create(PL_SRTP_AEAD_AES_128_GCM, key, 16, salt, 14, true, &s),
			 PL_EINVAL);
	assert_int_equal(pl_srtp_create(PL_SRTP_AEAD_AES_128_GCM, key, 32, salt, 12, false, &s),
			 PL_EINVAL);
	assert_int_equal(pl_srtp_create((enum pl_srtp_profile)0x0002, key, 16, salt, 14, false, &s),
			 PL_EINVAL);
	assert_int_equal(pl_srtp_create(PL_SRTP_AES128_CM_SHA1_80, NULL, 16, salt, 14, false, &s),
			 PL_EINVAL);
	assert_int_equal(pl_srtp_create(PL_SRTP_AES128_CM_SHA1_80, key, 16, salt, 14, false, NULL),
			 PL_EINVAL);
	assert_null(s);
	pl_srtp_destroy(NULL);
	assert_int_equal(pl_srtp_global_init(), 0); /* idempotent */
}

/* ---- known answers ------------------------------------------------------ */

struct kat {
	enum pl_srtp_profile p;
	uint8_t key[16], salt[14];
	uint8_t srtp[44];
	size_t srtp_len;
	uint8_t srtcp[44];
	size_t srtcp_len;
};

static const uint8_t kat_rtp_plain[28] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t kat_rtcp_plain[24] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};

static const struct kat kats[] = {
	{
		.p = PL_SRTP_AES128_CM_SHA1_80,
		.key = { 0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c,
			 0x06, 0xde, 0x41, 0x39 },
		.salt = { 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a,
			  0xab, 0xe6 },
		.srtp = { 0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe,
			  0x4e, 0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15,
			  0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b,
			  0x8d, 0xbb },
		.srtp_len = 38,
		.srtcp = { 0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b,
			   0xe4, 0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8,
			   0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23,
			   0x07, 0x98 },
		.srtcp_len = 38,
	},
	{
		.p = PL_SRTP_AEAD_AES_128_GCM,
		.key = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
			 0x0c, 0x0d, 0x0e, 0x0f },
		.salt = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab },
		.srtp = { 0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe,
			  0xc5, 0x00, 0x2e, 0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0,
			  0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97, 0x68, 0x26, 0xf7, 0x96, 0xb2, 0x01,
			  0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92 },
		.srtp_len = 44,
		.srtcp = { 0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b, 0x5d,
			   0xf0, 0x39, 0x2a, 0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e, 0x70, 0x25,
			   0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3, 0xb4, 0x46, 0xea, 0x31, 0x12, 0x3b,
			   0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00, 0x00, 0x01 },
		.srtcp_len = 44,
	},
};

static void test_srtp_known_answers(void **state)
{
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		const struct kat *k = &kats[i];
		size_t kl = pl_srtp_key_len(k->p), sl = pl_srtp_salt_len(k->p), len;
		alignas(8) uint8_t buf[PKT_CAP];
		struct pl_srtp *tx = NULL, *rx = NULL;

		assert_int_equal(pl_srtp_create(k->p, k->key, kl, k->salt, sl, false, &tx), 0);
		assert_int_equal(pl_srtp_create(k->p, k->key, kl, k->salt, sl, true, &rx), 0);

		memcpy(buf, kat_rtp_plain, len = sizeof(kat_rtp_plain));
		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(len, k->srtp_len);
		assert_memory_equal(buf, k->srtp, len);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
		assert_int_equal(len, sizeof(kat_rtp_plain));
		assert_memory_equal(buf, kat_rtp_plain, len);

		memcpy(buf, kat_rtcp_plain, len = sizeof(kat_rtcp_plain));
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(len, k->srtcp_len);
		assert_memory_equal(buf, k->srtcp, len);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), 0);
		assert_int_equal(len, sizeof(kat_rtcp_plain));
		assert_memory_equal(buf, kat_rtcp_plain, len);

		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* ---- round trips -------------------------------------------------------- */

static void test_srtp_rtp_round_trip(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 7, false), *rx = session(p, 7, true);
		alignas(8) uint8_t buf[PKT_CAP], plain[PKT_CAP];

		for (uint16_t seq = 65530; seq != 10; seq++) { /* across the rollover */
			size_t len = make_rtp(buf, seq, 0x11223344, 1188), plain_len = len;

			memcpy(plain, buf, len);
			assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
			assert_int_equal(len, plain_len + rtp_overhead(p));
			assert_memory_equal(buf, plain, 12); /* header stays clear */
			assert_memory_not_equal(buf + 12, plain + 12, plain_len - 12);
			assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
			assert_int_equal(len, plain_len);
			assert_memory_equal(buf, plain, len);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

static void test_srtp_rtcp_round_trip(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 9, false), *rx = session(p, 9, true);
		alignas(8) uint8_t buf[PKT_CAP], plain[PKT_CAP];

		for (int n = 0; n < 5; n++) {
			size_t len = make_rtcp_rr(buf, 0xCAFE0001), plain_len = len;

			memcpy(plain, buf, len);
			assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
			assert_int_equal(len, plain_len + rtcp_overhead(p));
			assert_memory_equal(buf, plain, 8); /* first header stays clear */
			assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), 0);
			assert_int_equal(len, plain_len);
			assert_memory_equal(buf, plain, len);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* One inbound session serves every SSRC the peer sends (ssrc_any_inbound). */
static void test_srtp_many_ssrcs_one_session(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 3, false), *rx = session(p, 3, true);
		alignas(8) uint8_t buf[PKT_CAP];

		for (uint32_t ssrc = 1; ssrc <= 8; ssrc++) {
			size_t len = make_rtp(buf, (uint16_t)(100 + ssrc), ssrc * 0x01010101u, 160);

			assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
			assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
			assert_int_equal(len, 12 + 160);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* ---- refusals ----------------------------------------------------------- */

static void test_srtp_tampered_is_eauth(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 1, false), *rx = session(p, 1, true);
		alignas(8) uint8_t buf[PKT_CAP];
		static const size_t flip_at[] = { 2, 20, 200 }; /* header, payload, payload */

		for (size_t f = 0; f < 3; f++) {
			size_t len = make_rtp(buf, (uint16_t)(10 + f), 0xABCD, 400);

			assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
			buf[flip_at[f]] ^= 0x01;
			assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EAUTH);
		}
		{ /* the tag itself */
			size_t len = make_rtp(buf, 50, 0xABCD, 400);

			assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
			buf[len - 1] ^= 0x80;
			assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EAUTH);
		}
		{ /* RTCP */
			size_t len = make_rtcp_rr(buf, 0xABCD);

			assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
			buf[12] ^= 0x10;
			assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), PL_EAUTH);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

static void test_srtp_replay_is_eexist(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 2, false), *rx = session(p, 2, true);
		alignas(8) uint8_t buf[PKT_CAP], copy[PKT_CAP], old[PKT_CAP];
		size_t len, copy_len, old_len;

		/* The same packet twice. */
		len = make_rtp(buf, 1, 0x5555, 100);
		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
		memcpy(old, buf, old_len = len);
		memcpy(copy, buf, copy_len = len);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
		assert_int_equal(pl_srtp_unprotect(rx, copy, &copy_len), PL_EEXIST);

		/* Far behind the 1024-packet window: too old (replay_old). */
		len = make_rtp(buf, 3000, 0x5555, 100);
		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
		memcpy(buf, old, len = old_len);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EEXIST);

		/* Reordered inside the window is fine. */
		len = make_rtp(buf, 2990, 0x5555, 100);
		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);

		/* SRTCP replay. */
		len = make_rtcp_rr(buf, 0x5555);
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
		memcpy(copy, buf, copy_len = len);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), 0);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, copy, &copy_len), PL_EEXIST);

		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

static void test_srtp_wrong_key_is_eauth(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 4, false), *rx = session(p, 5, true);
		alignas(8) uint8_t buf[PKT_CAP];
		size_t len = make_rtp(buf, 77, 0x1234, 300);

		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EAUTH);
		len = make_rtcp_rr(buf, 0x1234);
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), PL_EAUTH);
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

static void test_srtp_room_and_direction(void **state)
{
	struct pl_srtp *tx = session(PL_SRTP_AEAD_AES_128_GCM, 6, false);
	struct pl_srtp *rx = session(PL_SRTP_AEAD_AES_128_GCM, 6, true);
	alignas(8) uint8_t buf[PKT_CAP];
	size_t len = make_rtp(buf, 1, 1, 200), before = len;

	assert_int_equal(pl_srtp_protect(tx, buf, &len, len + PL_SRTP_MAX_TRAILER - 1), PL_EINVAL);
	assert_int_equal(len, before);
	assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, len), PL_EINVAL);
	assert_int_equal(pl_srtp_protect(rx, buf, &len, sizeof(buf)), PL_EINVAL);   /* inbound */
	assert_int_equal(pl_srtp_unprotect(tx, buf, &len), PL_EINVAL);              /* outbound */
	assert_int_equal(pl_srtp_unprotect_rtcp(tx, buf, &len), PL_EINVAL);
	assert_int_equal(pl_srtp_protect(tx, buf, &len, len + PL_SRTP_MAX_TRAILER), 0);
	pl_srtp_destroy(tx);
	pl_srtp_destroy(rx);
}

static void test_srtp_malformed_is_eproto(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 8, false), *rx = session(p, 8, true);
		alignas(8) uint8_t buf[PKT_CAP];
		size_t len;

		memset(buf, 0, sizeof(buf));
		buf[0] = 0x80;
		len = 11; /* shorter than an RTP header */
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EPROTO);
		assert_int_equal(pl_srtp_protect(tx, buf, &len, sizeof(buf)), PL_EPROTO);
		len = 7; /* shorter than an RTCP header */
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), PL_EPROTO);
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), PL_EPROTO);
		/* CSRC count 15 announces 60 bytes the packet does not have. */
		len = make_rtp(buf, 9, 9, 20);
		buf[0] = 0x8f;
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EPROTO);
		/* SRTCP too short for its index and tag. */
		make_rtcp_rr(buf, 9);
		len = 10;
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), PL_EPROTO);
		/* SRTP too short for its tag. */
		len = make_rtp(buf, 9, 9, 4);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), PL_EPROTO);
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* A NACKed packet is resent with its original sequence number. */
static void test_srtp_outbound_repeat_allowed(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 10, false), *rx = session(p, 10, true);
		alignas(8) uint8_t a[PKT_CAP], b[PKT_CAP];
		size_t la = make_rtp(a, 500, 0x77, 600), lb = make_rtp(b, 500, 0x77, 600);

		assert_int_equal(pl_srtp_protect(tx, a, &la, sizeof(a)), 0);
		assert_int_equal(pl_srtp_protect(tx, b, &lb, sizeof(b)), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la); /* same key, same index, same bytes */
		assert_int_equal(pl_srtp_unprotect(rx, a, &la), 0);
		assert_int_equal(pl_srtp_unprotect(rx, b, &lb), PL_EEXIST); /* the receiver still refuses */
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* ---- the two engines against each other --------------------------------- */

static struct pl_srtp *engine_session(enum pl_srtp_engine e, enum pl_srtp_profile p, bool inbound)
{
	uint8_t key[16], salt[14];
	struct pl_srtp *s = NULL;

	fill_key(key, salt, 42);
	assert_int_equal(pl_srtp_create_with(e, p, key, 16, salt, pl_srtp_salt_len(p), inbound, &s), 0);
	return s;
}

/* An RTP packet with two CSRCs and a one-byte-header extension. */
static size_t make_rtp_ext(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
	size_t n = make_rtp(buf, seq, ssrc, 0), h;

	buf[0] = 0x80 | 0x10 | 2;
	memset(buf + 12, 0xC5, 8); /* CSRCs */
	h = 20;
	buf[h] = 0xBE, buf[h + 1] = 0xDE, buf[h + 2] = 0, buf[h + 3] = 2;
	buf[h + 4] = 0x10, buf[h + 5] = (uint8_t)seq; /* id 1, len 1 */
	buf[h + 6] = buf[h + 7] = 0;
	buf[h + 8] = 0x31, buf[h + 9] = 0xAA, buf[h + 10] = (uint8_t)(seq >> 8), buf[h + 11] = 0;
	h += 12;
	for (size_t i = 0; i < payload_len; i++)
		buf[h + i] = (uint8_t)(i * 13 + seq);
	(void)n;
	return h + payload_len;
}

static void interop_one_way(enum pl_srtp_engine te, enum pl_srtp_engine re, enum pl_srtp_profile p)
{
	struct pl_srtp *tx = engine_session(te, p, false), *rx = engine_session(re, p, true);
	alignas(8) uint8_t buf[PKT_CAP], want[PKT_CAP];
	/* From 65000 across the wrap to past 66000, with ~5 % never sent and
	 * each run of 8 delivered backwards (reordering inside the window). */
	uint16_t seqs[1200];
	size_t n = 0;

	for (uint32_t i = 0; i < 1200; i++) {
		uint16_t seq = (uint16_t)(65000u + i);
		if (i % 19 == 7)
			continue;
		seqs[n++] = seq;
	}
	for (size_t base = 0; base < n; base += 8) {
		size_t end = base + 8 < n ? base + 8 : n;
		uint8_t pkts[8][PKT_CAP];
		size_t lens[8];
		for (size_t i = base; i < end; i++) {
			size_t l = (i & 1) ? make_rtp_ext(pkts[i - base], seqs[i], 0xA1B2C3D4u, 100 + i % 900)
					   : make_rtp(pkts[i - base], seqs[i], 0xA1B2C3D4u, 100 + i % 900);
			assert_int_equal(pl_srtp_protect(tx, pkts[i - base], &l, PKT_CAP), 0);
			lens[i - base] = l;
		}
		for (size_t i = end; i-- > base;) {
			size_t l = lens[i - base];
			size_t wl = (i & 1) ? make_rtp_ext(want, seqs[i], 0xA1B2C3D4u, 100 + i % 900)
					    : make_rtp(want, seqs[i], 0xA1B2C3D4u, 100 + i % 900);
			memcpy(buf, pkts[i - base], l);
			assert_int_equal(pl_srtp_unprotect(rx, buf, &l), 0);
			assert_int_equal(l, wl);
			assert_memory_equal(buf, want, l);
		}
	}
	/* Many SSRCs on one session, and SRTCP both ways of the pair. */
	for (uint32_t k = 0; k < 100; k++) {
		size_t l = make_rtp(buf, (uint16_t)(k * 7), 0x1000 + k, 200);
		assert_int_equal(pl_srtp_protect(tx, buf, &l, PKT_CAP), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &l), 0);
		l = make_rtcp_rr(buf, 0x2000 + k % 5);
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &l, PKT_CAP), 0);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &l), 0);
		make_rtcp_rr(want, 0x2000 + k % 5);
		assert_int_equal(l, 32);
		assert_memory_equal(buf, want, l);
	}
	pl_srtp_destroy(tx);
	pl_srtp_destroy(rx);
}

static void test_srtp_engines_interoperate(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		interop_one_way(PL_SRTP_ENGINE_BUILTIN, PL_SRTP_ENGINE_LIBSRTP, profiles[i]);
		interop_one_way(PL_SRTP_ENGINE_LIBSRTP, PL_SRTP_ENGINE_BUILTIN, profiles[i]);
		interop_one_way(PL_SRTP_ENGINE_BUILTIN, PL_SRTP_ENGINE_BUILTIN, profiles[i]);
	}
}

/* Both engines turn the same packet into the same bytes. */
static void test_srtp_engines_same_bytes(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		struct pl_srtp *a = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], false);
		struct pl_srtp *b = engine_session(PL_SRTP_ENGINE_LIBSRTP, profiles[i], false);
		for (uint32_t k = 0; k < 300; k++) {
			alignas(8) uint8_t x[PKT_CAP], y[PKT_CAP];
			uint16_t seq = (uint16_t)(65400u + k * 3);
			size_t lx = make_rtp_ext(x, seq, 0xFEEDu, 1 + k), ly = make_rtp_ext(y, seq, 0xFEEDu, 1 + k);
			assert_int_equal(pl_srtp_protect(a, x, &lx, PKT_CAP), 0);
			assert_int_equal(pl_srtp_protect(b, y, &ly, PKT_CAP), 0);
			assert_int_equal(lx, ly);
			assert_memory_equal(x, y, lx);
		}
		pl_srtp_destroy(a);
		pl_srtp_destroy(b);
	}
}

/* Forged packets from unknown SSRCs are refused and leave no state: the
 * real stream that follows is unaffected. */
static void test_srtp_forged_ssrcs_refused(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		struct pl_srtp *tx = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], false);
		struct pl_srtp *rx = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], true);
		alignas(8) uint8_t buf[PKT_CAP];
		for (uint32_t k = 0; k < 20000; k++) {
			size_t l = make_rtp(buf, (uint16_t)k, 0x9000000u + k, 60);
			l += rtp_overhead(profiles[i]);
			assert_int_equal(pl_srtp_unprotect(rx, buf, &l), PL_EAUTH);
		}
		size_t l = make_rtp(buf, 5, 0x42, 60);
		assert_int_equal(pl_srtp_protect(tx, buf, &l, PKT_CAP), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &l), 0);
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* ---- edges, against libsrtp as the reference ----------------------------- */

/* xorshift64: reproducible pseudo-random scenarios. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

/* One received packet through a built-in and a libsrtp inbound session:
 * the same verdict and, when accepted, the same plaintext. */
static int rx_both(struct pl_srtp *own, struct pl_srtp *lib, const uint8_t *pkt, size_t len,
		   bool rtcp)
{
	alignas(8) uint8_t a[PKT_CAP], b[PKT_CAP];
	size_t la = len, lb = len;
	int ra, rb;

	memcpy(a, pkt, len), memcpy(b, pkt, len);
	ra = rtcp ? pl_srtp_unprotect_rtcp(own, a, &la) : pl_srtp_unprotect(own, a, &la);
	rb = rtcp ? pl_srtp_unprotect_rtcp(lib, b, &lb) : pl_srtp_unprotect(lib, b, &lb);
	if (ra != rb)
		print_error("own %d lib %d len %zu rtcp %d\n", ra, rb, len, rtcp);
	assert_int_equal(ra, rb);
	if (ra == 0) {
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
	} else {
		assert_int_equal(la, len); /* a refused packet keeps its length */
	}
	return ra;
}

/* A malformed packet: both engines refuse it (their codes may differ:
 * which check comes first is theirs to choose). */
static void rx_refused(struct pl_srtp *own, struct pl_srtp *lib, const uint8_t *pkt, size_t len,
		       bool rtcp)
{
	alignas(8) uint8_t a[PKT_CAP];
	struct pl_srtp *ss[2] = { own, lib };

	for (int k = 0; k < 2; k++) {
		size_t l = len;
		memcpy(a, pkt, len);
		assert_true((rtcp ? pl_srtp_unprotect_rtcp(ss[k], a, &l) : pl_srtp_unprotect(ss[k], a, &l)) < 0);
		assert_int_equal(l, len);
	}
}

struct sent {
	uint8_t pkt[PKT_CAP];
	size_t len;
};

/* A seeded walk: a libsrtp sender (a browser's engine) on two SSRCs with
 * loss, jumps of up to 32000 and seq wraps; the network delivers in
 * order, late (reordered around the 1024-packet window edge), twice,
 * tampered or truncated.  Both receivers must agree on every packet. */
static void differential_walk(enum pl_srtp_profile p, uint64_t seed, uint16_t first_seq)
{
	struct pl_srtp *tx = engine_session(PL_SRTP_ENGINE_LIBSRTP, p, false);
	struct pl_srtp *own = engine_session(PL_SRTP_ENGINE_BUILTIN, p, true);
	struct pl_srtp *lib = engine_session(PL_SRTP_ENGINE_LIBSRTP, p, true);
	static struct sent hist[2048];
	uint64_t x = seed, next[2] = { first_seq, (uint16_t)(first_seq + 30000) };
	size_t n_hist = 0, ok = 0, replay = 0, auth = 0;

	for (int step = 0; step < 6000; step++) {
		uint64_t r = rng_next(&x);
		int k = (int)(r >> 40 & 1);
		if (r % 100 < 3)
			next[k] += 1 + (r >> 8) % (r % 100 == 0 ? 32000 : 1500); /* lost / jumped */
		struct sent *s = &hist[n_hist++ % 2048];
		s->len = make_rtp(s->pkt, (uint16_t)next[k]++, 0xD1F0 + (uint32_t)k, 40 + (r >> 16) % 200);
		assert_int_equal(pl_srtp_protect(tx, s->pkt, &s->len, PKT_CAP), 0);
		if (r % 10 < 7) { /* delivered now (else: late, or never) */
			int rc = rx_both(own, lib, s->pkt, s->len, false);
			ok += rc == 0, replay += rc == PL_EEXIST, auth += rc == PL_EAUTH;
		}
		if (r % 7 < 2 && n_hist > 1) { /* something from the past */
			size_t back = (r >> 20) % (n_hist < 2048 ? n_hist : 2048);
			if (r % 13 == 0)
				back = 1020 + (r >> 20) % 10; /* around the window edge */
			if (back >= n_hist || back >= 2048)
				back = n_hist - 1;
			struct sent *o = &hist[(n_hist - 1 - back) % 2048];
			uint8_t pkt[PKT_CAP];
			size_t len = o->len;
			memcpy(pkt, o->pkt, len);
			if (r % 11 == 0)
				pkt[12 + (r >> 30) % (len - 12)] ^= 0x04; /* tampered */
			if (r % 17 == 0) { /* truncated */
				rx_refused(own, lib, pkt, (r >> 30) % len, false);
				continue;
			}
			int rc = rx_both(own, lib, pkt, len, false);
			ok += rc == 0, replay += rc == PL_EEXIST, auth += rc == PL_EAUTH;
		}
	}
	assert_true(ok > 3000 && replay > 300 && auth > 30); /* every branch was taken */
	pl_srtp_destroy(tx);
	pl_srtp_destroy(own);
	pl_srtp_destroy(lib);
}

static void test_srtp_differential_walk(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		differential_walk(profiles[i], 0x1234567887654321ull, 65000);
		differential_walk(profiles[i], 0xA5A5A5A55A5A5A5Aull, 0);
		differential_walk(profiles[i], 0x0F0F0F0FF0F0F0F0ull, 32768);
	}
}

/* Index estimation at ROC 0 and at wraps (RFC 3711 Appendix A; libsrtp
 * takes ROC 0 rather than ROC-1 = 2^32-1 while the index is at most
 * 2^15): both senders give the same bytes for each index and both
 * receivers the same verdict, for packets delivered in the given order
 * (sent in that order too: senders estimate like receivers). */
static void test_srtp_roc_edges(void **state)
{
	static const uint16_t cases[][6] = {
		{ 65535, 0, 1, 65534, 2, 65533 },      /* first packet just before the wrap */
		{ 0, 65535, 1, 65534, 32768, 0 },      /* ROC 0: 65535 is ahead, not ROC -1 */
		{ 100, 33000, 100, 101, 65535, 0 },    /* forward half a cycle, then wrap */
		{ 40000, 5000, 39999, 7232, 7233, 1 }, /* s_l >= 2^15: 5000 is ROC 1 */
		{ 32767, 65535, 0, 32767, 32768, 65535 },
		{ 1, 32769, 32770, 1, 2, 0 },
	};

	for (size_t i = 0; i < N_PROFILES; i++) {
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct pl_srtp *txo = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], false);
			struct pl_srtp *txl = engine_session(PL_SRTP_ENGINE_LIBSRTP, profiles[i], false);
			struct pl_srtp *own = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], true);
			struct pl_srtp *lib = engine_session(PL_SRTP_ENGINE_LIBSRTP, profiles[i], true);
			size_t accepted = 0;
			for (size_t k = 0; k < 6; k++) {
				alignas(8) uint8_t a[PKT_CAP], b[PKT_CAP];
				size_t la = make_rtp(a, cases[c][k], 0x0ED6E, 50), lb = la;
				memcpy(b, a, la);
				int ra = pl_srtp_protect(txo, a, &la, PKT_CAP);
				int rb = pl_srtp_protect(txl, b, &lb, PKT_CAP);
				assert_int_equal(ra, 0);
				if (rb != 0)
					continue; /* libsrtp refuses a resend older than its window */
				assert_int_equal(la, lb);
				assert_memory_equal(a, b, la);
				accepted += rx_both(own, lib, a, la, false) == 0;
			}
			assert_true(accepted >= 3);
			pl_srtp_destroy(txo);
			pl_srtp_destroy(txl);
			pl_srtp_destroy(own);
			pl_srtp_destroy(lib);
		}
	}
}

/* The windows' edges exactly: RTP 1024 packets, SRTCP 128, on the session's
 * engine (run_all runs this once per engine). */
static void test_srtp_window_edges(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 11, false), *rx = session(p, 11, true);
		static struct sent rtp[4000], rtcp[400];

		/* Seq 64000 + i: the window's edges straddle the wrap. */
		for (int s = 0; s < 4000; s++) {
			rtp[s].len = make_rtp(rtp[s].pkt, (uint16_t)(64000 + s), 0xED6E, 20);
			assert_int_equal(pl_srtp_protect(tx, rtp[s].pkt, &rtp[s].len, PKT_CAP), 0);
		}
#define RX(i, want)                                                                  \
	do {                                                                         \
		uint8_t b_[PKT_CAP];                                                 \
		size_t l_ = rtp[i].len;                                              \
		memcpy(b_, rtp[i].pkt, l_);                                          \
		assert_int_equal(pl_srtp_unprotect(rx, b_, &l_), want);              \
	} while (0)
		RX(1500, 0);
		RX(1500 - 1023, 0);        /* oldest still inside */
		RX(1500 - 1024, PL_EEXIST); /* just out */
		RX(1500 - 1023, PL_EEXIST); /* duplicate at the edge */
		RX(1500 - 1, 0);
		RX(1500 + 1024, 0);         /* a jump of exactly the window */
		RX(1500, PL_EEXIST);        /* now 1024 behind: out */
		RX(1500 + 1, 0);            /* 1023 behind: in, never seen */
		RX(1500 + 1024 + 1023, 0);  /* a jump of window - 1 */
		RX(1500 + 1024, PL_EEXIST); /* still in, seen */
		RX(1500 + 1025, 0);         /* its slot held 1501: the jump cleared it */
		RX(1500 + 1025, PL_EEXIST);
		RX(3999, 0);
		RX(3999 - 1023, 0);
		RX(3999 - 1024, PL_EEXIST);
#undef RX
		for (int s = 0; s < 400; s++) {
			rtcp[s].len = make_rtcp_rr(rtcp[s].pkt, 0xED6E);
			assert_int_equal(pl_srtp_protect_rtcp(tx, rtcp[s].pkt, &rtcp[s].len, PKT_CAP), 0);
		}
		static const struct { int i, want; } rc[] = {
			{ 200, 0 }, { 200 - 127, 0 }, { 200 - 128, PL_EEXIST }, { 200 - 127, PL_EEXIST },
			{ 200 + 128, 0 }, { 200, PL_EEXIST }, { 201, 0 }, { 201, PL_EEXIST },
			{ 399, 0 }, { 399 - 127, 0 }, { 399 - 128, PL_EEXIST }, { 0, PL_EEXIST },
		};
		for (size_t k = 0; k < sizeof(rc) / sizeof(rc[0]); k++) {
			uint8_t b[PKT_CAP];
			size_t l = rtcp[rc[k].i].len;
			memcpy(b, rtcp[rc[k].i].pkt, l);
			assert_int_equal(pl_srtp_unprotect_rtcp(rx, b, &l), rc[k].want);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* A packet that fails authentication changes nothing: not the window (a
 * forged jump ahead must not push real packets out), not the stream table,
 * and with AES-CM not even the buffer (the tag is checked first). */
static void test_srtp_failed_auth_changes_nothing(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = session(p, 12, false), *rx = session(p, 12, true);
		alignas(8) uint8_t buf[PKT_CAP], forged[PKT_CAP], keep[PKT_CAP];
		size_t len, flen;

		len = make_rtp(buf, 5000, 0xF00D, 80);
		assert_int_equal(pl_srtp_protect(tx, buf, &len, PKT_CAP), 0);
		assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
		/* Forged: seq 7000 (2000 ahead) and 4100, with a bad tag. */
		for (uint16_t seq = 7000; seq >= 4100; seq -= 2900) {
			flen = make_rtp(forged, seq, 0xF00D, 80) + rtp_overhead(p);
			memset(forged + flen - rtp_overhead(p), 0x5A, rtp_overhead(p));
			memcpy(keep, forged, flen);
			assert_int_equal(pl_srtp_unprotect(rx, forged, &flen), PL_EAUTH);
			if (p == PL_SRTP_AES128_CM_SHA1_80)
				assert_memory_equal(forged, keep, flen);
		}
		/* The real 4100 (900 behind the real top) and 7000 still pass. */
		for (uint16_t seq = 4100; seq <= 7000; seq += 2900) {
			len = make_rtp(buf, seq, 0xF00D, 80);
			assert_int_equal(pl_srtp_protect(tx, buf, &len, PKT_CAP), 0);
			assert_int_equal(pl_srtp_unprotect(rx, buf, &len), 0);
		}
		/* SRTCP: a forged index far ahead does not move the window. */
		len = make_rtcp_rr(buf, 0xF00D);
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, PKT_CAP), 0);
		memcpy(forged, buf, flen = len);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), 0);
		for (int k = 0; k < 3; k++) {
			len = make_rtcp_rr(buf, 0xF00D);
			assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, PKT_CAP), 0);
		}
		size_t ix = p == PL_SRTP_AEAD_AES_128_GCM ? flen - 4 : flen - 14;
		forged[ix] = 0x80, forged[ix + 1] = 0x7f; /* E, index 0x7f0001 */
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, forged, &flen), PL_EAUTH);
		assert_int_equal(pl_srtp_unprotect_rtcp(rx, buf, &len), 0); /* index 4 */
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* SRTCP with the E flag clear (authenticated, not encrypted; RFC 3711
 * 3.4), made by a raw libsrtp session since ours always encrypt.  The
 * sessions negotiated encryption, so the built-in engine refuses it
 * before any other check, as libsrtp does for AES-CM (cant_check);
 * libsrtp accepts it with GCM (all of the packet as AAD), where the
 * built-in engine is the stricter of the two.  Clearing E on an
 * encrypted packet is refused by both. */
static void test_srtp_srtcp_unencrypted(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		bool gcm = p == PL_SRTP_AEAD_AES_128_GCM;
		uint8_t key[16], salt[14], master[30];
		srtp_policy_t pol;
		srtp_t raw;

		fill_key(key, salt, 42);
		memcpy(master, key, 16), memcpy(master + 16, salt, pl_srtp_salt_len(p));
		memset(&pol, 0, sizeof(pol));
		if (gcm) {
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
		} else {
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
		}
		pol.rtcp.sec_serv = sec_serv_auth;
		pol.ssrc.type = ssrc_any_outbound;
		pol.key = master;
		assert_int_equal(srtp_create(&raw, &pol), srtp_err_status_ok);
		struct pl_srtp *own = engine_session(PL_SRTP_ENGINE_BUILTIN, p, true);
		struct pl_srtp *lib = engine_session(PL_SRTP_ENGINE_LIBSRTP, p, true);
		struct pl_srtp *tx = engine_session(PL_SRTP_ENGINE_BUILTIN, p, false);
		for (int k = 0; k < 3; k++) {
			alignas(8) uint8_t buf[PKT_CAP], plain[PKT_CAP], copy[PKT_CAP];
			int n = (int)make_rtcp_rr(buf, 0xE0E0);
			memcpy(plain, buf, (size_t)n);
			assert_int_equal(srtp_protect_rtcp(raw, buf, &n), srtp_err_status_ok);
			size_t len = (size_t)n, l = len, ix = gcm ? len - 4 : len - 14;
			assert_int_equal(buf[ix] & 0x80, 0);             /* E clear */
			assert_memory_equal(buf + 8, plain + 8, 32 - 8); /* in clear */
			buf[ix] |= 0x80; /* claims E: the tag no longer matches */
			assert_int_equal(rx_both(own, lib, buf, len, true), PL_EAUTH);
			buf[ix] &= 0x7f;
			memcpy(copy, buf, len);
			assert_int_equal(pl_srtp_unprotect_rtcp(own, copy, &l), PL_EPROTO);
			assert_int_equal(l, len);
			assert_memory_equal(copy, buf, len);
			memcpy(copy, buf, l = len);
			assert_int_equal(pl_srtp_unprotect_rtcp(lib, copy, &l), gcm ? 0 : PL_EPROTO);
			/* An encrypted one (another SSRC) with E cleared. */
			len = make_rtcp_rr(buf, 0xE0E1);
			assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, PKT_CAP), 0);
			memcpy(copy, buf, len);
			buf[gcm ? len - 4 : len - 14] &= 0x7f;
			rx_refused(own, lib, buf, len, true);
			assert_int_equal(rx_both(own, lib, copy, len, true), 0); /* as sent */
		}
		pl_srtp_destroy(tx);
		srtp_dealloc(raw);
		pl_srtp_destroy(own);
		pl_srtp_destroy(lib);
	}
}

/* Short and inconsistent packets: lengths that header fields point past,
 * and the exact minimums.  Both engines refuse the same ones (or accept
 * them the same way). */
static void test_srtp_short_and_inconsistent(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		enum pl_srtp_profile p = profiles[i];
		struct pl_srtp *tx = engine_session(PL_SRTP_ENGINE_LIBSRTP, p, false);
		struct pl_srtp *own = engine_session(PL_SRTP_ENGINE_BUILTIN, p, true);
		struct pl_srtp *lib = engine_session(PL_SRTP_ENGINE_LIBSRTP, p, true);
		size_t tag = rtp_overhead(p);
		alignas(8) uint8_t buf[PKT_CAP];
		size_t len;

		/* CC=15 and nothing after the CSRCs: a valid empty payload. */
		len = make_rtp(buf, 1, 0xC0C0, 60);
		buf[0] = 0x8f;
		assert_int_equal(pl_srtp_protect(tx, buf, &len, PKT_CAP), 0);
		assert_int_equal(rx_both(own, lib, buf, len, false), 0);
		/* One byte short of the CSRCs, or of the tag after them. */
		rx_refused(own, lib, buf, 72 + tag - 1, false);
		/* Extension whose length word points exactly to the tag, and one
		 * word past it. */
		len = make_rtp(buf, 2, 0xC0C0, 0);
		buf[0] = 0x90, buf[12] = 0xBE, buf[13] = 0xDE, buf[14] = 0, buf[15] = 2;
		memset(buf + 16, 0, 8);
		len = 24;
		assert_int_equal(pl_srtp_protect(tx, buf, &len, PKT_CAP), 0);
		assert_int_equal(rx_both(own, lib, buf, len, false), 0);
		len = make_rtp(buf, 3, 0xC0C0, 0);
		buf[0] = 0x90, buf[12] = 0xBE, buf[13] = 0xDE, buf[14] = 0, buf[15] = 2;
		memset(buf + 16, 0, 8);
		len = 24;
		assert_int_equal(pl_srtp_protect(tx, buf, &len, PKT_CAP), 0);
		buf[15] = 3; /* now 4 bytes of it lie in the tag */
		rx_refused(own, lib, buf, len, false);
		buf[14] = 0xff, buf[15] = 0xff; /* 256 KiB of extension */
		rx_refused(own, lib, buf, len, false);
		/* X set but not even the extension header before the tag. */
		len = make_rtp(buf, 4, 0xC0C0, 0);
		buf[0] = 0x90;
		memset(buf + 12, 0xAA, tag + 3);
		rx_refused(own, lib, buf, 12 + tag + 3, false);
		/* SRTCP: the smallest valid one (header only), then one byte less. */
		len = 8;
		make_rtcp_rr(buf, 0xC0C0);
		buf[3] = 0;
		assert_int_equal(pl_srtp_protect_rtcp(tx, buf, &len, PKT_CAP), 0);
		assert_int_equal(len, 8 + tag + 4);
		for (size_t l = 8; l < len; l++)
			rx_refused(own, lib, buf, l, true);
		assert_int_equal(rx_both(own, lib, buf, len, true), 0);
		pl_srtp_destroy(tx);
		pl_srtp_destroy(own);
		pl_srtp_destroy(lib);
	}
}

/* A length the EVP calls' int cannot hold is refused before the buffer
 * is read (the buffer here is small: any read past it is an ASan error,
 * and the cast would have processed a wrapped length). */
static void test_srtp_huge_length_refused(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		struct pl_srtp *tx = session(profiles[i], 13, false), *rx = session(profiles[i], 13, true);
		alignas(8) uint8_t buf[PKT_CAP];
		static const size_t lens[] = { (size_t)INT32_MAX + 1, (size_t)UINT32_MAX + 20 };

		for (size_t k = 0; k < 2; k++) {
			size_t len = lens[k];
			make_rtp(buf, 1, 1, 100);
			assert_true(pl_srtp_unprotect(rx, buf, &len) < 0);
			assert_true(pl_srtp_unprotect_rtcp(rx, buf, &len) < 0);
			assert_true(pl_srtp_protect(tx, buf, &len, len + PL_SRTP_MAX_TRAILER) < 0);
			assert_true(pl_srtp_protect_rtcp(tx, buf, &len, len + PL_SRTP_MAX_TRAILER) < 0);
			assert_int_equal(len, lens[k]);
		}
		pl_srtp_destroy(tx);
		pl_srtp_destroy(rx);
	}
}

/* SRTCP bytes are the same on both engines too: per-SSRC indices from 1,
 * SSRCs interleaved. */
static void test_srtp_engines_same_rtcp_bytes(void **state)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		struct pl_srtp *a = engine_session(PL_SRTP_ENGINE_BUILTIN, profiles[i], false);
		struct pl_srtp *b = engine_session(PL_SRTP_ENGINE_LIBSRTP, profiles[i], false);
		for (uint32_t k = 0; k < 200; k++) {
			alignas(8) uint8_t x[PKT_CAP], y[PKT_CAP];
			size_t lx = make_rtcp_rr(x, 0x3000 + (k * 7) % 3), ly;
			lx -= (k % 4) * 8; /* 32, 24, 16 or 8 bytes */
			x[3] = (uint8_t)(lx / 4 - 1);
			memcpy(y, x, ly = lx);
			assert_int_equal(pl_srtp_protect_rtcp(a, x, &lx, PKT_CAP), 0);
			assert_int_equal(pl_srtp_protect_rtcp(b, y, &ly, PKT_CAP), 0);
			assert_int_equal(lx, ly);
			assert_memory_equal(x, y, lx);
		}
		pl_srtp_destroy(a);
		pl_srtp_destroy(b);
	}
}

static int run_all(enum pl_srtp_engine e)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srtp_key_salt_table),
		cmocka_unit_test(test_srtp_create_rejects_bad_lengths),
		cmocka_unit_test(test_srtp_known_answers),
		cmocka_unit_test(test_srtp_rtp_round_trip),
		cmocka_unit_test(test_srtp_rtcp_round_trip),
		cmocka_unit_test(test_srtp_many_ssrcs_one_session),
		cmocka_unit_test(test_srtp_tampered_is_eauth),
		cmocka_unit_test(test_srtp_replay_is_eexist),
		cmocka_unit_test(test_srtp_wrong_key_is_eauth),
		cmocka_unit_test(test_srtp_room_and_direction),
		cmocka_unit_test(test_srtp_malformed_is_eproto),
		cmocka_unit_test(test_srtp_outbound_repeat_allowed),
		cmocka_unit_test(test_srtp_engines_interoperate),
		cmocka_unit_test(test_srtp_engines_same_bytes),
		cmocka_unit_test(test_srtp_forged_ssrcs_refused),
		cmocka_unit_test(test_srtp_differential_walk),
		cmocka_unit_test(test_srtp_roc_edges),
		cmocka_unit_test(test_srtp_window_edges),
		cmocka_unit_test(test_srtp_failed_auth_changes_nothing),
		cmocka_unit_test(test_srtp_srtcp_unencrypted),
		cmocka_unit_test(test_srtp_short_and_inconsistent),
		cmocka_unit_test(test_srtp_huge_length_refused),
		cmocka_unit_test(test_srtp_engines_same_rtcp_bytes),
	};

	pl_srtp_set_engine(e);
	return cmocka_run_group_tests_name(pl_srtp_engine_name(e), tests, group_setup, NULL);
}

int main(void)
{
	int failed = run_all(PL_SRTP_ENGINE_BUILTIN);

	return failed + run_all(PL_SRTP_ENGINE_LIBSRTP);
}
