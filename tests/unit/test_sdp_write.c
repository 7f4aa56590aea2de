/* tests/unit/test_sdp_write.c: the SDP writer and model builders.
 *
 * The writer refuses what would inject lines or could not be parsed back;
 * the builders (pl_sdp_*_add) keep their limits; a candidate line parses
 * and formats back to the same text, and fmtp parameters are found by
 * name.  The last tests are findings of
 * tests/fuzz/fuzz_sdp (docs/fuzzing.md), each a model the parser accepted
 * and the writer or the answer then could not write back.
 * Parsing is test_sdp_parse.c, offer/answer test_sdp_negotiate.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/sdp.h"
#include "common/err.h"
#include "tests/unit/sdp_util.h"

/* ---- Writer and helpers --------------------------------------------------- */

static void test_sdp_writer_refuses_injection(void **state)
{
	struct pl_sdp *sdp = pl_sdp_create();
	struct pl_sdp_media *m = pl_sdp_media_add(sdp, "audio", 9, "UDP/TLS/RTP/SAVPF");
	char *out = (char *)1;

	assert_int_equal(pl_sdp_fmt_add(m, "111"), 0);
	assert_int_equal(pl_sdp_rtpmap_add(m, 111, "opus", 48000, 2), 0);
	pl_sdp_str_set(&m->mid, "0");
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), 0);
	free(out);
	pl_sdp_str_set(&m->mid, "0\r\na=inject");
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), PL_EINVAL);
	assert_null(out);
	pl_sdp_str_set(&m->mid, "0");
	assert_int_equal(pl_sdp_ssrc_add(m, 1, "cname", "x\ny"), 0);
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), PL_EINVAL);
	pl_sdp_str_set(&m->ssrcs[0].value, "y");
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), 0);
	free(out);
	pl_sdp_str_set(&m->tp.ice_ufrag, "bad ufrag");
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), PL_EINVAL);
	pl_sdp_str_set(&m->tp.ice_ufrag, NULL);
	/* a codec attribute for a payload type the m= line does not list */
	assert_int_equal(pl_sdp_fmtp_add(m, 100, "apt=111"), 0);
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), PL_EINVAL);
	pl_sdp_destroy(sdp);
	pl_sdp_destroy(NULL);
}

static void test_sdp_builder_limits(void **state)
{
	struct pl_sdp *sdp = pl_sdp_create();
	struct pl_sdp_media *m = pl_sdp_media_add(sdp, "video", 9, "UDP/TLS/RTP/SAVPF");
	uint32_t ssrcs[PL_SDP_MAX_GROUP_SSRCS + 1] = { 0 };

	for (int i = 0; i < PL_SDP_MAX_RIDS; i++) {
		char id[8];

		snprintf(id, sizeof(id), "r%d", i);
		assert_int_equal(pl_sdp_rid_add(m, id, PL_SDP_RID_SEND, NULL), 0);
	}
	assert_int_equal(pl_sdp_rid_add(m, "x", PL_SDP_RID_SEND, NULL), PL_ETOOBIG);
	assert_int_equal(pl_sdp_ssrc_group_add(m, "SIM", ssrcs, PL_SDP_MAX_GROUP_SSRCS + 1),
			 PL_ETOOBIG);
	assert_int_equal(pl_sdp_extmap_add(&m->extmaps, &m->extmap_count, 0, 0, "u", NULL),
			 PL_EINVAL);
	assert_int_equal(pl_sdp_rtcp_fb_add(m, 128, "nack", NULL), PL_EINVAL);
	assert_int_equal(pl_sdp_msid_add(m, NULL, NULL), PL_EINVAL);
	assert_null(pl_sdp_media_add(sdp, NULL, 9, "x"));
	pl_sdp_destroy(sdp);
}

static void test_sdp_candidate_strings(void **state)
{
	static const char *const good[] = {
		"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
		"candidate:842163049 1 udp 1686052607 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0 "
		"generation 0 network-id 1",
		"candidate:2 1 TCP 1015021823 ::1 9 typ host tcptype active",
		"candidate:a+/b 2 udp 1 fe80::1%eth0 1 typ relay raddr 198.51.100.1 rport 3478",
	};
	static const char *const bad[] = {
		"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ",
		"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n",
		"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host raddr 1.1.1.1 raddr 2.2.2.2",
		"candidate:",
		"",
	};
	struct pl_sdp_candidate c;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *s;

		assert_int_equal(pl_sdp_candidate_parse(good[i], strlen(good[i]), &c), 0);
		s = pl_sdp_candidate_to_string(&c);
		assert_string_equal(s, good[i]);
		free(s);
		pl_sdp_candidate_release(&c);
		/* The a= form and the bare form are accepted too. */
		{
			char buf[256];

			snprintf(buf, sizeof(buf), "a=%s", good[i]);
			assert_int_equal(pl_sdp_candidate_parse(buf, strlen(buf), &c), 0);
			pl_sdp_candidate_release(&c);
			assert_int_equal(pl_sdp_candidate_parse(good[i] + 10, strlen(good[i]) - 10, &c), 0);
			pl_sdp_candidate_release(&c);
		}
	}
	assert_int_equal(pl_sdp_candidate_parse(good[1], strlen(good[1]), &c), 0);
	assert_string_equal(c.type, "srflx");
	assert_int_equal(c.priority, 1686052607u);
	assert_int_equal(c.ext_count, 2);
	assert_string_equal(c.exts[1].value, "1");
	pl_sdp_candidate_release(&c);
	pl_sdp_candidate_release(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pl_sdp_candidate_parse(bad[i], strlen(bad[i]), &c), PL_EPROTO);
	assert_int_equal(pl_sdp_candidate_parse(NULL, 0, &c), PL_EINVAL);
}

static void test_sdp_fmtp_params(void **state)
{
	const char *v;
	size_t n;

	assert_true(pl_sdp_fmtp_param("minptime=10;useinbandfec=1", "useinbandfec", &v, &n));
	assert_int_equal(n, 1);
	assert_memory_equal(v, "1", 1);
	assert_true(pl_sdp_fmtp_param("a=1; APT=96 ", "apt", &v, &n));
	assert_int_equal(n, 2);
	assert_memory_equal(v, "96", 2);
	assert_false(pl_sdp_fmtp_param("111/111", "apt", &v, &n));
	assert_false(pl_sdp_fmtp_param("xapt=1", "apt", &v, &n));
	assert_false(pl_sdp_fmtp_param("", "apt", &v, &n));
}

/* Found by tests/fuzz/fuzz_sdp (corpus/sdp/crash_extmap_uri_tab): the
 * parser splits fields on spaces only, so it accepted a tab inside an
 * extmap URI, which pl_sdp_write() then refused (PL_EINVAL): a parsed
 * model must write, and its text parse to the same values. */
static void test_sdp_tab_inside_word_round_trips(void **state)
{
	struct pl_sdp *sdp = parse_ok("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
				      "a=extmap:12 htt\t\tps://x\r\n");
	struct pl_sdp *again;
	char *text;
	size_t len;

	assert_int_equal(pl_sdp_write(sdp, &text, &len), 0);
	again = parse_ok(text);
	assert_int_equal(again->media[0]->extmap_count, 1);
	assert_string_equal(again->media[0]->extmaps[0].uri, "htt\t\tps://x");
	free(text);
	pl_sdp_destroy(again);
	pl_sdp_destroy(sdp);
}

/* Found by tests/fuzz/fuzz_sdp (corpus/sdp/crash_m_line_empty_proto): two
 * spaces after the port gave an m= line an empty proto, which parsed but
 * could not be written.  It is malformed. */
static void test_sdp_m_line_empty_proto(void **state)
{
	static const char text[] = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "m=video 9  96\r\n";
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0 };

	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_EPROTO);
	assert_null(sdp);
	assert_int_equal(err.line, 5);
}

/* Found by tests/fuzz/fuzz_sdp (corpus/sdp/crash_simulcast_rid_twice):
 * "a=simulcast:send l;m;l" parsed, and the answer mirrored it into two
 * "a=rid:l recv" lines that its own parser refused. */
static void test_sdp_simulcast_rid_twice(void **state)
{
	static const char text[] = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
				   "a=rid:l send\r\na=rid:m send\r\n"
				   "a=simulcast:send l;m;l\r\n";
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0 };

	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_EPROTO);
	assert_null(sdp);
	assert_int_equal(err.line, 8);
	assert_string_equal(err.reason, "simulcast names a rid twice");
}

/* Found by tests/fuzz/fuzz_sdp (corpus/sdp/crash_pt_listed_twice): "99 099"
 * passed the duplicate check (it compared strings), so the writer gave
 * payload type 99 its rtpmap and fmtp twice and the text did not parse. */
static void test_sdp_pt_listed_twice_by_value(void **state)
{
	static const char text[] = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "m=video 9 UDP/TLS/RTP/SAVPF 99 099\r\n";
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0 };

	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_EPROTO);
	assert_null(sdp);
	assert_int_equal(err.line, 5);
}

/* Found by fuzz_sdp: "0111" on the m= line lists payload type 111 for the
 * parser, so the writer must accept its rtpmap too (it compared text). */
static void test_sdp_pt_with_leading_zero_writes(void **state)
{
	static const char text[] = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "m=audio 9 UDP/TLS/RTP/SAVPF 0111\r\n"
				   "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 nack\r\n";
	struct pl_sdp *sdp = NULL, *again = NULL;
	struct pl_sdp_error err = { 0 };
	char *out = NULL, *out2 = NULL;
	size_t len, len2;

	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), 0);
	assert_int_equal(pl_sdp_write(sdp, &out, &len), 0);
	assert_non_null(strstr(out, "a=rtpmap:111 opus/48000/2\r\n"));
	assert_int_equal(pl_sdp_parse(out, len, &again, &err), 0);
	assert_int_equal(pl_sdp_write(again, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	free(out);
	free(out2);
	pl_sdp_destroy(sdp);
	pl_sdp_destroy(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_writer_refuses_injection),
		cmocka_unit_test(test_sdp_builder_limits),
		cmocka_unit_test(test_sdp_candidate_strings),
		cmocka_unit_test(test_sdp_fmtp_params),
		cmocka_unit_test(test_sdp_tab_inside_word_round_trips),
		cmocka_unit_test(test_sdp_m_line_empty_proto),
		cmocka_unit_test(test_sdp_pt_listed_twice_by_value),
		cmocka_unit_test(test_sdp_simulcast_rid_twice),
		cmocka_unit_test(test_sdp_pt_with_leading_zero_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
