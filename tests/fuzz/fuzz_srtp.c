/* tests/fuzz/fuzz_srtp.c: SRTP/SRTCP (media/srtp.h), both engines, both
 * profiles.
 *
 * Sessions have fixed keys (KEY/SALT below; the seeds in corpus/srtp were
 * protected with them).  For AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM:
 *   1. the input is unprotected as SRTP and as SRTCP on the built-in
 *      engine and on libsrtp.  A refusal leaves the length alone; an
 *      acceptance strips exactly the tag (and the SRTCP index); the
 *      built-in engine accepts only what libsrtp accepts, with the same
 *      plaintext (libsrtp also takes GCM SRTCP without encryption, which
 *      the built-in engine refuses), and for SRTP the converse holds too;
 *      the same packet again is then a replay.
 *   2. the input, as a plaintext RTP packet (version forced to 2) and as
 *      an RTCP packet, is protected by the built-in engine and by libsrtp
 *      itself: they accept and refuse alike and produce the same bytes,
 *      and the protected packet unprotects on both to the input exactly.
 *
 * State: every input must see fresh streams, or a saved input would not
 * replay alike.  Built-in sessions are made per input (microseconds).
 * Debian's libsrtp2 costs milliseconds per session (NSS contexts), so its
 * sessions are kept: the pl_srtp receiver of step 1 is remade after it
 * accepted anything (rare: only intact seeds authenticate), and step 2
 * uses raw libsrtp sessions (configured as media/srtp_lib.c does) whose
 * per-SSRC stream is removed after each input -- which also keeps each
 * run's mallocs and frees balanced, or libFuzzer would run a leak scan
 * after every input (it did: 20 inputs a second instead of 1,000).
 */
#include "fuzz.h"

#include "common/err.h"
#include "media/srtp.h"

#include <stdbool.h>
#include <string.h>

#include <srtp2/srtp.h>

#define MAX_IN 4096
#define CAP (MAX_IN + PL_SRTP_MAX_TRAILER)

/* The seeds' keys: 16 bytes of key, then the salt (14 bytes for AES-CM,
 * the first 12 for GCM). */
static const uint8_t KEY[16] = { 0x70, 0x61, 0x72, 0x6c, 0x65, 0x79, 0x2d, 0x66,
				 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x21 };
static const uint8_t SALT[14] = { 0x5a, 0x17, 0x00, 0xff, 0x10, 0x20, 0x30,
				  0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0 };

static const enum pl_srtp_profile profiles[2] = { PL_SRTP_AES128_CM_SHA1_80,
						  PL_SRTP_AEAD_AES_128_GCM };

static uint8_t bufs[2][CAP], plain[CAP], prot[2][CAP];
/* libsrtp sessions kept across inputs, per profile: the pl_srtp receiver
 * of step 1, the raw sender and receiver of step 2. */
static struct pl_srtp *lib_rx[2];
static srtp_t raw_tx[2], raw_rx[2];

static srtp_t raw_session(enum pl_srtp_profile p, bool inbound)
{
	uint8_t master[30];
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	if (p == PL_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	memcpy(master, KEY, 16);
	memcpy(master + 16, SALT, pl_srtp_salt_len(p));
	pol.key = master;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 1024;
	pol.allow_repeat_tx = !inbound;
	FUZZ_CHECK(srtp_create(&s, &pol) == srtp_err_status_ok);
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	FUZZ_CHECK(pl_srtp_global_init() == 0);
	for (int i = 0; i < 2; i++) {
		raw_tx[i] = raw_session(profiles[i], false);
		raw_rx[i] = raw_session(profiles[i], true);
	}
	return 0;
}

static struct pl_srtp *make(enum pl_srtp_engine e, enum pl_srtp_profile p, bool inbound)
{
	struct pl_srtp *s = NULL;

	FUZZ_CHECK(pl_srtp_create_with(e, p, KEY, 16, SALT, pl_srtp_salt_len(p), inbound, &s) == 0);
	return s;
}

static int unprotect(struct pl_srtp *s, uint8_t *b, size_t *len, bool rtcp)
{
	return rtcp ? pl_srtp_unprotect_rtcp(s, b, len) : pl_srtp_unprotect(s, b, len);
}

static int protect(struct pl_srtp *s, uint8_t *b, size_t *len, bool rtcp)
{
	return rtcp ? pl_srtp_protect_rtcp(s, b, len, CAP) : pl_srtp_protect(s, b, len, CAP);
}

/* 1: the input as received. */
static void check_unprotect(int pi, const uint8_t *data, size_t size, bool rtcp)
{
	enum pl_srtp_profile p = profiles[pi];
	struct pl_srtp *rx[2];
	size_t len[2], over = (p == PL_SRTP_AEAD_AES_128_GCM ? 16 : 10) + (rtcp ? 4 : 0);
	int rc[2];

	if (!lib_rx[pi])
		lib_rx[pi] = make(PL_SRTP_ENGINE_LIBSRTP, p, true);
	rx[0] = make(PL_SRTP_ENGINE_BUILTIN, p, true);
	rx[1] = lib_rx[pi];
	for (int e = 0; e < 2; e++) {
		memcpy(bufs[e], data, size);
		len[e] = size;
		rc[e] = unprotect(rx[e], bufs[e], &len[e], rtcp);
		FUZZ_CHECK(rc[e] <= 0);
		FUZZ_CHECK(rc[e] == 0 ? len[e] + over == size : len[e] == size);
	}
	if (rc[0] == 0)
		FUZZ_CHECK(rc[1] == 0 && memcmp(bufs[0], bufs[1], len[0]) == 0);
	if (rc[1] == 0 && !rtcp)
		FUZZ_CHECK(rc[0] == 0);
	for (int e = 0; e < 2; e++) {
		if (rc[e] != 0)
			continue;
		memcpy(bufs[e], data, size);
		len[e] = size;
		FUZZ_CHECK(unprotect(rx[e], bufs[e], &len[e], rtcp) == PL_EEXIST);
		FUZZ_CHECK(len[e] == size);
	}
	pl_srtp_destroy(rx[0]);
	if (rc[1] == 0) { /* it has a stream now: the next input needs none */
		pl_srtp_destroy(lib_rx[pi]);
		lib_rx[pi] = NULL;
	}
}

/* 2: the input as sent. */
static void check_round_trip(int pi, const uint8_t *data, size_t size, bool rtcp)
{
	enum pl_srtp_profile p = profiles[pi];
	struct pl_srtp *tx = make(PL_SRTP_ENGINE_BUILTIN, p, false);
	struct pl_srtp *rx = make(PL_SRTP_ENGINE_BUILTIN, p, true);
	size_t len = size, at = rtcp ? 4 : 8;
	int n = (int)size, rc;
	srtp_err_status_t st;

	memcpy(plain, data, size);
	if (!rtcp && size > 0)
		plain[0] = (uint8_t)((plain[0] & 0x3f) | 0x80);
	memcpy(prot[0], plain, size);
	memcpy(prot[1], plain, size);
	rc = protect(tx, prot[0], &len, rtcp);
	FUZZ_CHECK(rc == 0 || len == size);
	st = rtcp ? srtp_protect_rtcp(raw_tx[pi], prot[1], &n) : srtp_protect(raw_tx[pi], prot[1], &n);
	FUZZ_CHECK((rc == 0) == (st == srtp_err_status_ok));
	if (rc == 0) {
		FUZZ_CHECK(len == (size_t)n && memcmp(prot[0], prot[1], len) == 0);
		memcpy(bufs[0], prot[0], len);
		FUZZ_CHECK(unprotect(rx, bufs[0], &len, rtcp) == 0);
		FUZZ_CHECK(len == size && memcmp(bufs[0], plain, size) == 0);
		st = rtcp ? srtp_unprotect_rtcp(raw_rx[pi], prot[1], &n)
			  : srtp_unprotect(raw_rx[pi], prot[1], &n);
		FUZZ_CHECK(st == srtp_err_status_ok);
		FUZZ_CHECK((size_t)n == size && memcmp(prot[1], plain, size) == 0);
	}
	if (size >= at + 4) { /* forget the stream: the next input starts afresh */
		uint32_t ssrc;
		memcpy(&ssrc, plain + at, 4); /* network order, as libsrtp wants */
		(void)srtp_remove_stream(raw_tx[pi], ssrc);
		(void)srtp_remove_stream(raw_rx[pi], ssrc);
	}
	pl_srtp_destroy(tx);
	pl_srtp_destroy(rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_IN)
		size = MAX_IN;
	for (int i = 0; i < 2; i++) {
		for (int rtcp = 0; rtcp < 2; rtcp++) {
			check_unprotect(i, data, size, rtcp);
			check_round_trip(i, data, size, rtcp);
		}
	}
	return 0;
}
