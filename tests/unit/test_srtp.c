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
	};

	pl_srtp_set_engine(e);
	return cmocka_run_group_tests_name(pl_srtp_engine_name(e), tests, group_setup, NULL);
}

int main(void)
{
	int failed = run_all(PL_SRTP_ENGINE_BUILTIN);

	return failed + run_all(PL_SRTP_ENGINE_LIBSRTP);
}
