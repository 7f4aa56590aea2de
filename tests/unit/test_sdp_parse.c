/* tests/unit/test_sdp_parse.c: the SDP parser.
 *
 * Fixtures (tests/fixtures/sdp, found through $PL_FIXTURES) are offers in
 * the style of Chromium, aiortc and GStreamer webrtcbin; each must parse,
 * write, and parse again into the same model, and each parses into the
 * model the test spells out.  Malformed input is a table of one-line edits
 * to a small valid offer, each naming the line number and reason the
 * parser must report.  Limits, garbage bytes and mutated fixtures close
 * the file: every outcome must be an error code or a model that writes
 * and re-parses, never a crash (the sanitizer build checks the "never").
 * Offer/answer is test_sdp_negotiate.c, the writer test_sdp_write.c.
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

/* ---- Fixtures ------------------------------------------------------------- */

static void test_sdp_fixture_round_trips(void **state)
{
	static const char *const names[] = { "chromium_offer.sdp", "aiortc_offer.sdp",
					      "gstreamer_offer.sdp" };

	for (size_t i = 0; i < 3; i++) {
		struct pl_sdp *sdp = fixture(names[i]);

		assert_round_trip(sdp);
		pl_sdp_destroy(sdp);
	}
}

static void test_sdp_chromium_model(void **state)
{
	struct pl_sdp *sdp = fixture("chromium_offer.sdp");
	const struct pl_sdp_media *a, *v, *s, *d;
	const struct pl_sdp_group *g = pl_sdp_group_find(sdp, "BUNDLE");

	assert_true(sdp->origin.sess_id == 5498186869896684180ull);
	assert_true(sdp->origin.sess_version == 2);
	assert_non_null(g);
	assert_int_equal(g->mid_count, 4);
	assert_true(sdp->extmap_allow_mixed);
	assert_string_equal(sdp->msid_semantic, "WMS");
	assert_int_equal(sdp->msid_id_count, 1);
	assert_int_equal(sdp->media_count, 4);
	a = sdp->media[0], v = sdp->media[1], s = sdp->media[2], d = sdp->media[3];

	assert_int_equal(a->kind, PL_SDP_KIND_AUDIO);
	assert_int_equal(a->port, 54321);
	assert_string_equal(a->conn.address, "203.0.113.7");
	assert_string_equal(a->tp.ice_ufrag, "Xb0F");
	assert_int_equal(a->tp.setup, PL_SDP_SETUP_ACTPASS);
	assert_string_equal(a->tp.fingerprints[0].hash, "sha-256");
	assert_int_equal(a->dir, PL_SDP_DIR_SENDONLY);
	assert_true(a->rtcp_mux && a->rtcp_rsize);
	assert_int_equal(a->fmt_count, 8);
	assert_int_equal(a->extmap_count, 4);
	assert_int_equal(a->candidate_count, 3);
	assert_string_equal(a->candidates[0].address, "8e0b7f43-3a8b-4d36-a53c-6b3f5d0a1b2c.local");
	assert_int_equal(a->candidates[0].ext_count, 3);
	assert_string_equal(a->candidates[0].exts[0].name, "generation");
	assert_string_equal(a->candidates[1].transport, "tcp");
	assert_string_equal(a->candidates[1].exts[0].name, "tcptype");
	assert_string_equal(a->candidates[2].type, "srflx");
	assert_string_equal(a->candidates[2].raddr, "0.0.0.0");
	assert_true(a->candidates[2].has_rport);
	assert_int_equal(a->candidates[2].rport, 0);
	assert_int_equal(a->attr_count, 1);                     /* a=rtcp:9 IN IP4 0.0.0.0 */
	assert_string_equal(a->attrs[0].name, "rtcp");
	assert_string_equal(a->attrs[0].value, "9 IN IP4 0.0.0.0");

	assert_int_equal(v->fmt_count, 25);
	assert_int_equal(v->rtpmap_count, 25);
	assert_int_equal(v->extmap_count, 11);
	assert_int_equal(v->rid_count, 3);
	assert_int_equal(v->rids[0].dir, PL_SDP_RID_SEND);
	assert_true(v->has_simulcast);
	assert_int_equal(v->simulcast.send_count, 3);
	assert_string_equal(v->simulcast.send[2].rid, "l");
	assert_int_equal(v->simulcast.send[2].stream, 2);
	assert_int_equal(v->ssrc_count, 0);
	assert_string_equal(pl_sdp_media_rtpmap(v, 45)->name, "AV1");

	assert_int_equal(s->ssrc_group_count, 1);
	assert_string_equal(s->ssrc_groups[0].semantics, "FID");
	assert_int_equal(s->ssrc_groups[0].ssrcs[1], 632943048u);
	assert_int_equal(s->ssrc_count, 4);
	assert_string_equal(s->ssrcs[1].attr, "msid");

	assert_int_equal(d->kind, PL_SDP_KIND_APPLICATION);
	assert_string_equal(d->fmts[0], "webrtc-datachannel");
	assert_int_equal(d->attr_count, 2);
	pl_sdp_destroy(sdp);
}

static void test_sdp_aiortc_model(void **state)
{
	struct pl_sdp *sdp = fixture("aiortc_offer.sdp");
	struct pl_sdp_remote r;

	assert_int_equal(sdp->media_count, 2);
	/* Each section has its own transport; BUNDLE says the first wins. */
	assert_string_equal(sdp->media[0]->tp.ice_ufrag, "Kq7B");
	assert_string_equal(sdp->media[1]->tp.ice_ufrag, "Zr2L");
	assert_int_equal(sdp->media[1]->candidate_count, 3);
	assert_int_equal(pl_sdp_bundle_transport(sdp, NULL, &r), 0);
	assert_string_equal(r.ice_ufrag, "Kq7B");
	assert_string_equal(r.ice_pwd, "wq9G7fLx0RkS2aVbM3nT1c");
	assert_int_equal(r.setup, PL_SDP_SETUP_ACTPASS);
	assert_int_equal(pl_sdp_bundle_transport(sdp, "1", &r), 0);
	assert_string_equal(r.ice_ufrag, "Zr2L");
	assert_int_equal(pl_sdp_bundle_transport(sdp, "9", &r), PL_ENOENT);
	/* The quirk: id 2 means two things in one BUNDLE. */
	assert_int_equal(sdp->media[0]->extmaps[1].id, 2);
	assert_int_equal(sdp->media[1]->extmaps[1].id, 2);
	assert_string_not_equal(sdp->media[0]->extmaps[1].uri, sdp->media[1]->extmaps[1].uri);
	assert_true(sdp->media[0]->end_of_candidates);
	pl_sdp_destroy(sdp);
}

static void test_sdp_gstreamer_model(void **state)
{
	struct pl_sdp *sdp = fixture("gstreamer_offer.sdp");
	const struct pl_sdp_media *au = sdp->media[1];

	assert_string_equal(sdp->tp.ice_options, "trickle");
	assert_string_equal(sdp->media[0]->mid, "video0");
	assert_int_equal(au->port, 0);
	assert_string_equal(au->attrs[0].name, "bundle-only");
	assert_null(au->attrs[0].value);
	assert_string_equal(pl_sdp_media_rtpmap(au, 111)->name, "OPUS");
	assert_string_equal(au->ssrcs[0].value, "user3178513254@host-9d2b1c7e webrtctransceiver1");
	assert_string_equal(sdp->media[0]->candidates[1].transport, "TCP");
	pl_sdp_destroy(sdp);
}

/* ---- Malformed input ------------------------------------------------------ */

static const char *const base_lines[] = {
	"v=0",                                  /* 1 */
	"o=- 1 1 IN IP4 127.0.0.1",             /* 2 */
	"s=-",                                  /* 3 */
	"t=0 0",                                /* 4 */
	"a=group:BUNDLE 0",                     /* 5 */
	"m=audio 9 UDP/TLS/RTP/SAVPF 111",      /* 6 */
	"c=IN IP4 0.0.0.0",                     /* 7 */
	"a=mid:0",                              /* 8 */
	"a=ice-ufrag:abcd",                     /* 9 */
	"a=ice-pwd:0123456789abcdefghijkl",     /* 10 */
	"a=fingerprint:sha-256 AB:CD",          /* 11 */
	"a=setup:actpass",                      /* 12 */
	"a=rtcp-mux",                           /* 13 */
	"a=rtpmap:111 opus/48000/2",            /* 14 */
	"a=sendonly",                           /* 15 */
};

#define NBASE (sizeof(base_lines) / sizeof(base_lines[0]))

/* The base offer with line `at` (1-based) replaced by repl ("" deletes). */
static char *edited(unsigned at, const char *repl)
{
	char *buf = malloc(8192);

	buf[0] = '\0';
	for (unsigned i = 1; i <= NBASE; i++) {
		const char *l = i == at ? repl : base_lines[i - 1];

		if (*l)
			snprintf(buf + strlen(buf), 8192 - strlen(buf), "%s\r\n", l);
	}
	return buf;
}

struct bad_case {
	unsigned at;
	const char *repl;
	unsigned line;
	const char *reason;             /* a substring of the reported reason */
};

static const struct bad_case bad_cases[] = {
	{ 1, "v=1", 1, "version" },
	{ 1, "x=0", 1, "first line" },
	{ 1, "v=0\rx", 1, "control character" },
	{ 2, "o=- 1 1 IN IP4", 2, "bad o=" },
	{ 2, "o=- abc 1 IN IP4 127.0.0.1", 2, "bad o=" },
	{ 2, "o=- 99999999999999999999 1 IN IP4 127.0.0.1", 2, "bad o=" },
	{ 2, "o=- 1 1 IN IP4 127.0.0.1 extra", 2, "bad o=" },
	{ 2, "s=-", 2, "must open" },
	{ 3, "s=", 3, "empty s=" },
	{ 4, "t=0", 4, "bad t=" },
	{ 4, "t=0 x", 4, "bad t=" },
	{ 4, "", 5, "missing t=" },
	{ 4, "r=7d 1h 0 25h", 4, "r= line before t=" },
	{ 4, "t=0 0\r\nc=IN IP4 0.0.0.0", 5, "out of order" },
	{ 4, "t=0 0\r\nv=0", 5, "repeated" },
	{ 5, "a=group:BUNDLE 0 7", 5, "unknown mid" },
	{ 5, "a=group:BUNDLE 0 0", 5, "duplicate mid in group" },
	{ 5, "a=mid:0", 5, "not allowed at session level" },
	{ 5, "a=rtpmap:111 opus/48000/2", 5, "not allowed at session level" },
	{ 5, "a=msid-semantic:", 5, "needs a value" },
	{ 5, "a=bad name", 5, "bad attribute name" },
	{ 5, "a=group:BUNDLE 0\r\nx=unknown", 6, "unknown line type" },
	{ 6, "m=audio 70000 UDP/TLS/RTP/SAVPF 111", 6, "bad m= port" },
	{ 6, "m=audio 9/0 UDP/TLS/RTP/SAVPF 111", 6, "bad m= port" },
	{ 6, "m=audio 9 UDP/TLS/RTP/SAVPF 128", 6, "payload type" },
	{ 6, "m=audio 9 UDP/TLS/RTP/SAVPF 111 111", 6, "payload type" },
	{ 6, "m=audio 9 UDP/TLS/RTP/SAVPF", 6, "bad m= line" },
	{ 6, "m=audio 9 UDP/TLS/RTP/SAVPF  111", 6, "bad m= format" },
	{ 6, "m=audio 9 UDP/TLS\\RTP/SAVPF 111", 6, "proto" },
	{ 7, "c=IN IP4", 7, "bad c=" },
	{ 7, "c=IN IP4 0.0.0.0 x", 7, "bad c=" },
	{ 7, "c=IN IP4 0.0.0.0\r\nc=IN IP4 0.0.0.0", 8, "duplicate line" },
	{ 7, "c=IN IP4 0.0.0.0\r\ni=info", 8, "out of order" },
	{ 7, "u=http://example.com", 7, "not allowed in a media section" },
	{ 7, "b=AS", 7, "bad b=" },
	{ 8, "a=mid:", 8, "needs a value" },
	{ 8, "a=mid:0\r\na=mid:1", 9, "duplicate attribute" },
	{ 8, "a=mid:a b", 8, "bad mid" },
	{ 9, "a=ice-ufrag:ab", 9, "bad ice-ufrag" },
	{ 9, "a=ice-ufrag:ab_cd", 9, "bad ice-ufrag" },
	{ 10, "a=ice-pwd:short", 10, "bad ice-pwd" },
	{ 11, "a=fingerprint:sha-256 ABCD", 11, "bad fingerprint" },
	{ 11, "a=fingerprint:sha-256 AB:C", 11, "bad fingerprint" },
	{ 11, "a=fingerprint:sha-256 AB:CG", 11, "bad fingerprint" },
	{ 11, "a=fingerprint:sha-256", 11, "bad fingerprint" },
	{ 12, "a=setup:both", 12, "bad setup" },
	{ 12, "a=setup:active\r\na=setup:passive", 13, "duplicate attribute" },
	{ 13, "a=rtcp-mux:yes", 13, "takes no value" },
	{ 13, "a=rtcp-mux\r\na=rtcp-mux", 14, "duplicate attribute" },
	{ 14, "a=rtpmap:112 opus/48000/2", 14, "not in the m= line" },
	{ 14, "a=rtpmap:111 opus", 14, "bad rtpmap" },
	{ 14, "a=rtpmap:111 opus/0/2", 14, "bad rtpmap" },
	{ 14, "a=rtpmap:111 opus/48000/x", 14, "bad rtpmap" },
	{ 14, "a=rtpmap:111 opus/48000/2 x", 14, "bad rtpmap" },
	{ 14, "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2", 15, "duplicate rtpmap" },
	{ 15, "a=sendonly\r\na=recvonly", 16, "duplicate direction" },
	{ 15, "a=sendonly:1", 15, "takes no value" },
	{ 15, "a=extmap:0 urn:x", 15, "bad extmap id" },
	{ 15, "a=extmap:256 urn:x", 15, "bad extmap id" },
	{ 15, "a=extmap:x urn:x", 15, "bad extmap id" },
	{ 15, "a=extmap:1/sideways urn:x", 15, "bad extmap direction" },
	{ 15, "a=extmap:1", 15, "bad extmap" },
	{ 15, "a=extmap:1 urn:x\r\na=extmap:1 urn:y", 16, "duplicate extmap id" },
	{ 15, "a=candidate:1 1 udp 2122260223 127.0.0.1 5000 host", 15, "bad candidate" },
	{ 15, "a=candidate:1 1 udp 2122260223 127.0.0.1 70000 typ host", 15, "bad candidate" },
	{ 15, "a=candidate:1 0 udp 1 127.0.0.1 5000 typ host", 15, "bad candidate" },
	{ 15, "a=candidate:1 1 udp 99999999999 127.0.0.1 5000 typ host", 15, "bad candidate" },
	{ 15, "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host raddr", 15, "bad candidate" },
	{ 15, "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host rport x", 15, "bad candidate" },
	{ 15, "a=candidate:1 1 udp 1 127.0.0.1 5000 typ", 15, "bad candidate" },
	{ 15, "a=candidate:f#o 1 udp 1 127.0.0.1 5000 typ host", 15, "bad candidate" },
	{ 15, "a=ssrc:abc cname:x", 15, "bad ssrc" },
	{ 15, "a=ssrc:1", 15, "bad ssrc" },
	{ 15, "a=ssrc:1 cname:", 15, "bad ssrc" },
	{ 15, "a=ssrc:4294967296 cname:x", 15, "bad ssrc" },
	{ 15, "a=ssrc-group:FID", 15, "bad ssrc-group" },
	{ 15, "a=ssrc-group:FID 1 x", 15, "bad ssrc-group" },
	{ 15, "a=rid:h sideways", 15, "bad rid direction" },
	{ 15, "a=rid:h!x send", 15, "bad rid" },
	{ 15, "a=rid:h send\r\na=rid:h send", 16, "duplicate rid" },
	{ 15, "a=simulcast:send h", 15, "undeclared rid" },
	{ 15, "a=rid:h recv\r\na=simulcast:send h", 16, "undeclared rid" },
	{ 15, "a=rid:h send\r\na=simulcast:send h;;m", 16, "bad simulcast" },
	{ 15, "a=rid:h send\r\na=simulcast:sideways h", 16, "bad simulcast direction" },
	{ 15, "a=rid:h send\r\na=simulcast:send h send h", 16, "bad simulcast" },
	{ 15, "a=msid:a b c", 15, "bad msid" },
	{ 15, "a=rtcp-fb:112 nack", 15, "payload type not in" },
	{ 15, "a=rtcp-fb:111", 15, "bad rtcp-fb" },
	{ 15, "a=fmtp:111", 15, "bad fmtp" },
	{ 15, "a=fmtp:112 x=1", 15, "payload type not in" },
	{ 15, "a=fmtp:111 a=1\r\na=fmtp:111 b=2", 16, "duplicate fmtp" },
	{ 15, "a=group:BUNDLE 0", 15, "not allowed in a media section" },
	{ 15, "a=ice-lite", 15, "not allowed in a media section" },
	{ 15, "t=0 0", 15, "not allowed in a media section" },
	{ 15, "x=foo", 15, "unknown line type" },
	{ 15, "a sendonly", 15, "not a <type>=<value>" },
	{ 15, "A=sendonly", 15, "not a <type>=<value>" },
	{ 15, "a=sendonly\r\n", 16, "empty line" },
	{ 15, "a=send\x01only", 15, "control character" },
	{ 15, "a=x:\x7f", 15, "control character" },
	{ 15, "a=x:\xc3\x28", 15, "UTF-8" },
	{ 15, "a=x:\xed\xa0\x80", 15, "UTF-8" },
	{ 15, "a=sendonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0", 17, "duplicate mid" },
	{ 15, "a=sendonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\ni=late", 18,
	  "out of order" },
};

static void test_sdp_malformed_lines(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *text = edited(c->at, c->repl);
		struct pl_sdp *sdp = (struct pl_sdp *)1;
		struct pl_sdp_error err = { 99, NULL };
		int rc = pl_sdp_parse(text, strlen(text), &sdp, &err);

		if (rc != PL_EPROTO || err.line != c->line || !err.reason ||
		    !strstr(err.reason, c->reason))
			fail_msg("case %zu (%s): rc %s line %u reason '%s', want line %u '%s'", i,
				 c->repl, pl_err_name(rc), err.line, err.reason ? err.reason : "",
				 c->line, c->reason);
		assert_null(sdp);
		free(text);
	}
}

static void test_sdp_base_is_valid(void **state)
{
	char *text = edited(0, "");
	struct pl_sdp *sdp = parse_ok(text);

	assert_int_equal(sdp->media_count, 1);
	assert_round_trip(sdp);
	pl_sdp_destroy(sdp);
	free(text);
}

static void test_sdp_whole_document_errors(void **state)
{
	const char *text;
	struct pl_sdp *sdp;
	struct pl_sdp_error err;

	assert_int_equal(pl_sdp_parse("", 0, &sdp, &err), PL_EPROTO);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "missing v="));
	text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n";
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_EPROTO);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "missing t="));
	assert_int_equal(pl_sdp_parse(NULL, 0, &sdp, &err), PL_EINVAL);
	assert_null(sdp);
	/* An embedded NUL is a control byte like any other. */
	assert_int_equal(pl_sdp_parse("v=0\0\r\n", 6, &sdp, &err), PL_EPROTO);
	assert_int_equal(err.line, 1);
	/* err may be NULL */
	assert_int_equal(pl_sdp_parse("garbage", 7, &sdp, NULL), PL_EPROTO);
}

static void test_sdp_line_endings(void **state)
{
	const char *lf = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\nm=audio 9 RTP/AVP 0\na=x";
	struct pl_sdp *sdp = parse_ok(lf);

	assert_int_equal(sdp->media_count, 1);
	assert_string_equal(sdp->media[0]->attrs[0].name, "x");
	assert_round_trip(sdp);
	pl_sdp_destroy(sdp);
}

static void test_sdp_unknown_and_optional_lines_kept(void **state)
{
	const char *text = "v=0\r\no=alice 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
			   "s= \r\ni=A Seminar\r\nu=http://www.example.com/seminars/sdp.pdf\r\n"
			   "e=j.doe@example.com (Jane Doe)\r\nc=IN IP4 224.2.17.12/127\r\n"
			   "b=AS:2000\r\nt=2873397496 2873404696\r\nr=7d 1h 0 25h\r\n"
			   "t=0 0\r\nz=2882844526 -1h\r\nk=prompt\r\na=recvonly\r\na=foo\r\n"
			   "a=bar:\r\na=end-of-candidates\r\n"
			   "m=audio 49170/2 RTP/AVP 0\r\ni=voice\r\nb=TIAS:64000\r\n"
			   "m=video 51372 RTP/AVP 99\r\na=rtpmap:99 h263-1998/90000\r\n"
			   "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
			   "a=rtpmap:5000 anything goes here\r\na=fmtp:x y\r\n";
	struct pl_sdp *sdp = parse_ok(text);

	/* RFC 8866 section 5 example, with extras */
	assert_string_equal(sdp->origin.username, "alice");
	assert_string_equal(sdp->name, " ");
	assert_int_equal(sdp->line_count, 6);                   /* i u e r z k */
	assert_int_equal(sdp->time_count, 2);
	assert_true(sdp->times[0].start == 2873397496ull);
	assert_string_equal(sdp->conn.address, "224.2.17.12/127");
	assert_int_equal(sdp->bandwidths[0].value, 2000);
	assert_int_equal(sdp->dir, PL_SDP_DIR_RECVONLY);
	assert_int_equal(sdp->attr_count, 3);
	assert_string_equal(sdp->attrs[1].value, "");
	assert_string_equal(sdp->attrs[2].name, "end-of-candidates");
	assert_int_equal(sdp->media[0]->port_count, 2);
	assert_string_equal(sdp->media[0]->bandwidths[0].type, "TIAS");
	assert_int_equal(sdp->media[2]->attr_count, 2);         /* non-RTP rtpmap/fmtp kept */
	assert_round_trip(sdp);
	pl_sdp_destroy(sdp);
}

/* ---- Limits --------------------------------------------------------------- */

static char *repeat_media(size_t n, size_t *len)
{
	const char *head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
	const char *line = "m=audio 9 RTP/AVP 0\r\n";
	char *buf = malloc(strlen(head) + n * strlen(line) + 1);

	strcpy(buf, head);
	for (size_t i = 0; i < n; i++)
		strcat(buf, line);
	*len = strlen(buf);
	return buf;
}

static void test_sdp_limit_media_lines(void **state)
{
	size_t len;
	char *text = repeat_media(1000, &len);
	struct pl_sdp *sdp;
	struct pl_sdp_error err;

	assert_int_equal(pl_sdp_parse(text, len, &sdp, &err), PL_ETOOBIG);
	assert_int_equal(err.line, 4 + PL_SDP_MAX_MEDIA + 1);
	assert_non_null(strstr(err.reason, "too many m="));
	assert_null(sdp);
	free(text);
	text = repeat_media(PL_SDP_MAX_MEDIA, &len);
	assert_int_equal(pl_sdp_parse(text, len, &sdp, &err), 0);
	assert_int_equal(sdp->media_count, PL_SDP_MAX_MEDIA);
	assert_null(pl_sdp_media_add(sdp, "audio", 9, "RTP/AVP"));
	pl_sdp_destroy(sdp);
	free(text);
}

static void test_sdp_limit_long_lines(void **state)
{
	size_t big = 100 * 1024;
	char *text = malloc(big + 200), *p;
	struct pl_sdp *sdp;
	struct pl_sdp_error err;

	/* A 100 KiB line: the whole text is over 64 KiB. */
	strcpy(text, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=x:");
	p = text + strlen(text);
	memset(p, 'y', big);
	strcpy(p + big, "\r\n");
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_ETOOBIG);
	assert_null(sdp);
	assert_non_null(strstr(err.reason, "64 KiB"));
	/* A 5 KiB line in a small text: that line is named. */
	strcpy(p + 5000, "\r\n");
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_ETOOBIG);
	assert_int_equal(err.line, 5);
	assert_non_null(strstr(err.reason, "4 KiB"));
	/* A line of exactly PL_SDP_MAX_LINE_BYTES passes, one more byte fails. */
	strcpy(p + PL_SDP_MAX_LINE_BYTES - 4, "\r\n");
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), 0);
	pl_sdp_destroy(sdp);
	strcpy(p + PL_SDP_MAX_LINE_BYTES - 3, "\r\n");
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_ETOOBIG);
	free(text);
}

static void test_sdp_limit_total_bytes(void **state)
{
	size_t len = PL_SDP_MAX_BYTES + 1;
	char *text = malloc(len);
	struct pl_sdp *sdp;
	struct pl_sdp_error err;

	memset(text, 'a', len);
	assert_int_equal(pl_sdp_parse(text, len, &sdp, &err), PL_ETOOBIG);
	assert_int_equal(err.line, 0);
	free(text);
}

static void test_sdp_limit_counts(void **state)
{
	static const struct {
		const char *line;
		size_t n;
		const char *reason;
	} rows[] = {
		{ "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host", PL_SDP_MAX_CANDIDATES + 1,
		  "too many candidates" },
		{ "a=x", PL_SDP_MAX_ATTRS + 1, "too many attributes" },
		{ "a=rtcp-fb:* nack", PL_SDP_MAX_RTCP_FBS + 1, "too many rtcp-fb" },
		{ "a=ssrc:1 cname:x", PL_SDP_MAX_SSRCS + 1, "too many ssrc lines" },
		{ "a=msid:s t", PL_SDP_MAX_MSIDS + 1, "too many msids" },
		{ "a=fingerprint:sha-1 AB", PL_SDP_MAX_FINGERPRINTS + 1, "too many fingerprints" },
		{ "a=ssrc-group:FID 1 2", PL_SDP_MAX_SSRC_GROUPS + 1, "too many ssrc-groups" },
		{ "b=AS:1", PL_SDP_MAX_BANDWIDTHS + 1, "too many b= lines" },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		char *text = malloc(65536);
		struct pl_sdp *sdp;
		struct pl_sdp_error err;

		strcpy(text, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
			     "m=audio 9 RTP/AVP 0\r\n");
		for (size_t i = 0; i < rows[r].n; i++)
			strcat(text, rows[r].line), strcat(text, "\r\n");
		assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_ETOOBIG);
		assert_int_equal(err.line, 5 + rows[r].n);
		assert_string_equal(err.reason, rows[r].reason);
		free(text);
	}
}

static void test_sdp_limit_formats(void **state)
{
	char text[4096] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 X";
	struct pl_sdp *sdp;
	struct pl_sdp_error err;

	for (int i = 0; i <= PL_SDP_MAX_FMTS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " f%d", i);
	strcat(text, "\r\n");
	assert_int_equal(pl_sdp_parse(text, strlen(text), &sdp, &err), PL_ETOOBIG);
	assert_int_equal(err.line, 5);
}

/* ---- Garbage and mutations ------------------------------------------------ */

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Whatever the input, the parser returns an error or a model that writes
 * and parses again. */
static void parse_anything(const char *buf, size_t len)
{
	struct pl_sdp *sdp = NULL, *again = NULL;
	struct pl_sdp_error err;
	char *out;
	int rc = pl_sdp_parse(buf, len, &sdp, &err);

	if (rc) {
		assert_true(rc == PL_EPROTO || rc == PL_ETOOBIG);
		assert_null(sdp);
		assert_non_null(err.reason);
		return;
	}
	assert_int_equal(pl_sdp_write(sdp, &out, NULL), 0);
	assert_int_equal(pl_sdp_parse(out, strlen(out), &again, &err), 0);
	free(out);
	pl_sdp_destroy(again);
	pl_sdp_destroy(sdp);
}

static void test_sdp_garbage_bytes(void **state)
{
	char buf[2048];

	for (int iter = 0; iter < 2000; iter++) {
		size_t len = next_rand() % sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)next_rand();
		parse_anything(buf, len);
	}
}

static void test_sdp_mutated_fixtures(void **state)
{
	static const char *const names[] = { "chromium_offer.sdp", "aiortc_offer.sdp",
					      "gstreamer_offer.sdp" };
	static const char alphabet[] = " :=/;,~\r\n0123456789aAzZ-*\x01\xff";

	for (size_t f = 0; f < 3; f++) {
		size_t len;
		char *orig = read_fixture(names[f], &len), *buf = malloc(len);

		for (int iter = 0; iter < 1500; iter++) {
			memcpy(buf, orig, len);
			for (int k = 1 + (int)(next_rand() % 3); k > 0; k--)
				buf[next_rand() % len] = alphabet[next_rand() % (sizeof(alphabet) - 1)];
			parse_anything(buf, len);
		}
		for (size_t cut = 0; cut < len; cut += 7)
			parse_anything(orig, cut);
		free(buf);
		free(orig);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_fixture_round_trips),
		cmocka_unit_test(test_sdp_chromium_model),
		cmocka_unit_test(test_sdp_aiortc_model),
		cmocka_unit_test(test_sdp_gstreamer_model),
		cmocka_unit_test(test_sdp_base_is_valid),
		cmocka_unit_test(test_sdp_malformed_lines),
		cmocka_unit_test(test_sdp_whole_document_errors),
		cmocka_unit_test(test_sdp_line_endings),
		cmocka_unit_test(test_sdp_unknown_and_optional_lines_kept),
		cmocka_unit_test(test_sdp_limit_media_lines),
		cmocka_unit_test(test_sdp_limit_long_lines),
		cmocka_unit_test(test_sdp_limit_total_bytes),
		cmocka_unit_test(test_sdp_limit_counts),
		cmocka_unit_test(test_sdp_limit_formats),
		cmocka_unit_test(test_sdp_garbage_bytes),
		cmocka_unit_test(test_sdp_mutated_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
