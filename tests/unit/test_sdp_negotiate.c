/* tests/unit/test_sdp_negotiate.c: SDP offer/answer.
 *
 * Each captured fixture offer (tests/fixtures/sdp, found through
 * $PL_FIXTURES) has a negotiation table saying which codecs, payload
 * types, extensions, feedback and directions the server's answer keeps;
 * small hand-written offers check directions, DTLS setup roles,
 * rejections and errors one at a time.  The server's own offers (to
 * subscribers) must carry the tracks they are given and round-trip.
 * Parsing is test_sdp_parse.c, the writer test_sdp_write.c.
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

/* ---- Negotiation ---------------------------------------------------------- */

static const struct pl_sdp_answer_params pub_params = {
	{ "SrvU", "ServerPassword0123456789", "sha-256",
	  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
	  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
	  42, 1 },
	PL_SDP_DIR_RECVONLY,
};

/* "96 97" */
static void join_fmts(const struct pl_sdp_media *m, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < m->fmt_count; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", i ? " " : "", m->fmts[i]);
}

/* "1 2 3" */
static void join_extmaps(const struct pl_sdp_media *m, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < m->extmap_count; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%u", i ? " " : "", m->extmaps[i].id);
}

/* "nack|nack pli|ccm fir" */
static void join_fbs(const struct pl_sdp_media *m, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < m->rtcp_fb_count; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s%s%s", i ? "|" : "",
			 m->rtcp_fbs[i].type, m->rtcp_fbs[i].param ? " " : "",
			 m->rtcp_fbs[i].param ? m->rtcp_fbs[i].param : "");
}

struct neg_row {
	const char *mid;
	uint16_t port;                  /* 9 accepted, 0 rejected */
	const char *fmts;
	const char *rtpmaps;            /* "opus/48000/2 rtx" style first names */
	const char *exts;
	const char *fbs;
	enum pl_sdp_dir dir;
	size_t rids;
};

struct neg_case {
	const char *fixture;
	const char *bundle;             /* the answer's group, "" for none */
	const char *tag_ufrag;          /* the remote transport to use */
	struct neg_row rows[5];         /* up to the first with mid NULL */
};

#define VP8_FB "nack|nack pli|ccm fir|transport-cc"

static const struct neg_case neg_cases[] = {
	{ "chromium_offer.sdp", "0 1 2", "Xb0F", {
		{ "0", 9, "111", "opus", "1 2 3 4", "transport-cc", PL_SDP_DIR_RECVONLY, 0 },
		{ "1", 9, "96 97", "VP8 rtx", "2 3 4 10 11", VP8_FB, PL_SDP_DIR_RECVONLY, 3 },
		{ "2", 9, "96 97", "VP8 rtx", "2 3 4 10 11", VP8_FB, PL_SDP_DIR_RECVONLY, 0 },
		{ "3", 0, "webrtc-datachannel", "", "", "", PL_SDP_DIR_UNSET, 0 } } },
	{ "aiortc_offer.sdp", "0 1", "Kq7B", {
		{ "0", 9, "96", "opus", "1 2", "", PL_SDP_DIR_RECVONLY, 0 },
		/* id 2 is audio-level already: abs-send-time is left out. */
		{ "1", 9, "97 98", "VP8 rtx", "1", "nack|nack pli", PL_SDP_DIR_RECVONLY, 0 } } },
	{ "gstreamer_offer.sdp", "video0 audio1", "KHsTHfjgtIXWqLXzFJTfYJrgXRIYvrAq", {
		{ "video0", 9, "96", "VP8", "", "nack|nack pli|ccm fir", PL_SDP_DIR_RECVONLY, 0 },
		/* port 0 with a=bundle-only is accepted, not rejected */
		{ "audio1", 9, "111", "opus", "", "", PL_SDP_DIR_RECVONLY, 0 } } },
};

static void check_neg_row(const struct pl_sdp_media *m, const struct neg_row *row)
{
	char buf[512], names[128] = "";

	assert_string_equal(m->mid, row->mid);
	assert_int_equal(m->port, row->port);
	join_fmts(m, buf, sizeof(buf));
	assert_string_equal(buf, row->fmts);
	for (size_t i = 0; i < m->rtpmap_count; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? " " : "", m->rtpmaps[i].name);
	assert_string_equal(names, row->rtpmaps);
	join_extmaps(m, buf, sizeof(buf));
	assert_string_equal(buf, row->exts);
	join_fbs(m, buf, sizeof(buf));
	assert_string_equal(buf, row->fbs);
	assert_int_equal(m->dir, row->dir);
	assert_int_equal(m->rid_count, row->rids);
	if (row->port == 0)
		return;
	assert_true(m->rtcp_mux);
	assert_int_equal(m->tp.setup, PL_SDP_SETUP_PASSIVE);
	assert_string_equal(m->tp.ice_ufrag, "SrvU");
	assert_string_equal(m->tp.fingerprints[0].hash, "sha-256");
	if (m->kind == PL_SDP_KIND_AUDIO) {
		const char *v;
		size_t n;

		assert_true(pl_sdp_fmtp_param(pl_sdp_media_fmtp(m, m->rtpmaps[0].pt)->params,
					      "useinbandfec", &v, &n));
		assert_int_equal(n, 1);
		assert_int_equal(v[0], '1');
		assert_int_equal(m->rtpmaps[0].channels, 2);
	}
}

/* Live captures (tests/fixtures/sdp/captured/README.md says how each was
 * made): every offer round-trips, and the answer to it accepts exactly one
 * Opus and one VP8 m-line, each into the bundle, with the offerer's
 * payload types. */
static void test_sdp_captured_offers(void **state)
{
	static const char *const names[] = {
		"captured/chromium_offer.sdp", "captured/chromium_simulcast_offer.sdp",
		"captured/aiortc_offer.sdp", "captured/gstreamer_offer.sdp",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pl_sdp *offer = fixture(names[i]), *answer = NULL;
		struct pl_sdp_error err = { 0, NULL };
		const struct pl_sdp_group *g;
		struct pl_sdp_remote r;
		int audio = 0, video = 0;

		assert_round_trip(offer);
		assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, &err), 0);
		g = pl_sdp_group_find(answer, "BUNDLE");
		assert_non_null(g);
		assert_int_equal(g->mid_count, 2);
		assert_int_equal(pl_sdp_bundle_transport(offer, g->mids[0], &r), 0);
		for (size_t m = 0; m < answer->media_count; m++) {
			const struct pl_sdp_media *am = answer->media[m];
			const struct pl_sdp_rtpmap *rm;
			if (am->port == 0)
				continue;
			assert_true(am->rtpmap_count >= 1);
			rm = &am->rtpmaps[0];
			/* The offerer's payload type for the codec is kept. */
			assert_non_null(pl_sdp_media_rtpmap(offer->media[m], rm->pt));
			if (strcmp(rm->name, "opus") == 0)
				audio++;
			else if (strcmp(rm->name, "VP8") == 0)
				video++;
		}
		assert_int_equal(audio, 1);
		assert_int_equal(video, 1);
		assert_round_trip(answer);
		pl_sdp_destroy(answer);
		pl_sdp_destroy(offer);
	}
}

static void test_sdp_negotiation_table(void **state)
{
	for (size_t c = 0; c < sizeof(neg_cases) / sizeof(neg_cases[0]); c++) {
		const struct neg_case *nc = &neg_cases[c];
		struct pl_sdp *offer = fixture(nc->fixture), *answer = NULL;
		struct pl_sdp_error err = { 0, NULL };
		const struct pl_sdp_group *g;
		struct pl_sdp_remote r;
		char mids[256] = "";
		size_t rows = 0;

		assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, &err), 0);
		g = pl_sdp_group_find(answer, "BUNDLE");
		for (size_t i = 0; g && i < g->mid_count; i++)
			snprintf(mids + strlen(mids), sizeof(mids) - strlen(mids), "%s%s",
				 i ? " " : "", g->mids[i]);
		assert_string_equal(mids, nc->bundle);
		assert_int_equal(pl_sdp_bundle_transport(offer, g->mids[0], &r), 0);
		assert_string_equal(r.ice_ufrag, nc->tag_ufrag);
		while (nc->rows[rows].mid)
			rows++;
		assert_int_equal(answer->media_count, rows);
		for (size_t i = 0; i < rows; i++)
			check_neg_row(answer->media[i], &nc->rows[i]);
		assert_true(answer->origin.sess_id == 42);
		assert_round_trip(answer);
		pl_sdp_destroy(answer);
		pl_sdp_destroy(offer);
	}
}

static void test_sdp_answer_simulcast_mirrored(void **state)
{
	struct pl_sdp *offer = fixture("chromium_offer.sdp"), *answer;
	const struct pl_sdp_media *v;

	assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, NULL), 0);
	v = answer->media[1];
	assert_true(v->has_simulcast);
	assert_int_equal(v->simulcast.send_count, 0);
	assert_int_equal(v->simulcast.recv_count, 3);
	assert_string_equal(v->simulcast.recv[0].rid, "h");
	assert_int_equal(v->simulcast.recv[1].stream, 1);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(v->rids[i].dir, PL_SDP_RID_RECV);
	assert_true(answer->extmap_allow_mixed);
	pl_sdp_destroy(answer);
	pl_sdp_destroy(offer);
}

/* A small offer: one m-line with mid "a", rtpmaps for the formats 111
 * (Opus) and 96 (VP8) it lists; the %s slots take extra lines. */
static char *small_offer(const char *session_extra, const char *media_head, const char *media_extra)
{
	char *buf = malloc(4096);
	const char *fmts = strstr(media_head, "SAVPF") ? strstr(media_head, "SAVPF") : media_head;

	snprintf(buf, 4096,
		 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		 "%s"
		 "%s\r\n"
		 "c=IN IP4 0.0.0.0\r\na=mid:a\r\na=ice-ufrag:abcd\r\n"
		 "a=ice-pwd:0123456789abcdefghijkl\r\na=fingerprint:sha-256 AB:CD\r\n"
		 "a=rtcp-mux\r\n%s%s%s",
		 session_extra, media_head,
		 strstr(fmts, " 111") ? "a=rtpmap:111 opus/48000/2\r\n" : "",
		 strstr(fmts, " 96") ? "a=rtpmap:96 VP8/90000\r\n" : "", media_extra);
	return buf;
}

static struct pl_sdp *answer_of(const char *session_extra, const char *head, const char *extra,
				enum pl_sdp_dir local, int want_rc)
{
	char *text = small_offer(session_extra, head, extra);
	struct pl_sdp *offer = parse_ok(text), *answer = NULL;
	struct pl_sdp_answer_params p = pub_params;
	struct pl_sdp_error err = { 0, NULL };

	p.dir = local;
	assert_int_equal(pl_sdp_answer_create(offer, &p, &answer, &err), want_rc);
	if (want_rc)
		assert_non_null(err.reason);
	pl_sdp_destroy(offer);
	free(text);
	return answer;
}

#define BUNDLE_A "a=group:BUNDLE a\r\n"
#define AUDIO_HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111"

static void test_sdp_answer_directions(void **state)
{
	static const struct {
		const char *offer;
		enum pl_sdp_dir local, want;
	} rows[] = {
		{ "a=sendonly\r\n", PL_SDP_DIR_SENDRECV, PL_SDP_DIR_RECVONLY },
		{ "a=recvonly\r\n", PL_SDP_DIR_SENDRECV, PL_SDP_DIR_SENDONLY },
		{ "a=sendrecv\r\n", PL_SDP_DIR_SENDRECV, PL_SDP_DIR_SENDRECV },
		{ "a=inactive\r\n", PL_SDP_DIR_SENDRECV, PL_SDP_DIR_INACTIVE },
		{ "", PL_SDP_DIR_UNSET, PL_SDP_DIR_SENDRECV },
		{ "a=sendrecv\r\n", PL_SDP_DIR_RECVONLY, PL_SDP_DIR_RECVONLY },
		{ "a=recvonly\r\n", PL_SDP_DIR_RECVONLY, PL_SDP_DIR_INACTIVE },
		{ "a=sendrecv\r\n", PL_SDP_DIR_SENDONLY, PL_SDP_DIR_SENDONLY },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_sdp *a = answer_of(BUNDLE_A, AUDIO_HEAD, rows[i].offer, rows[i].local, 0);

		assert_int_equal(a->media[0]->port, 9);
		assert_int_equal(a->media[0]->dir, rows[i].want);
		pl_sdp_destroy(a);
	}
	/* A session-level direction applies to m-lines without their own. */
	{
		struct pl_sdp *a = answer_of(BUNDLE_A "a=sendonly\r\n", AUDIO_HEAD, "",
					     PL_SDP_DIR_SENDRECV, 0);

		assert_int_equal(a->media[0]->dir, PL_SDP_DIR_RECVONLY);
		pl_sdp_destroy(a);
	}
}

static void test_sdp_answer_setup_roles(void **state)
{
	struct pl_sdp *a;

	a = answer_of(BUNDLE_A, AUDIO_HEAD, "a=setup:actpass\r\n", PL_SDP_DIR_SENDRECV, 0);
	assert_int_equal(a->media[0]->tp.setup, PL_SDP_SETUP_PASSIVE);
	pl_sdp_destroy(a);
	a = answer_of(BUNDLE_A, AUDIO_HEAD, "a=setup:active\r\n", PL_SDP_DIR_SENDRECV, 0);
	assert_int_equal(a->media[0]->tp.setup, PL_SDP_SETUP_PASSIVE);
	pl_sdp_destroy(a);
	a = answer_of(BUNDLE_A, AUDIO_HEAD, "a=setup:passive\r\n", PL_SDP_DIR_SENDRECV, 0);
	assert_int_equal(a->media[0]->tp.setup, PL_SDP_SETUP_ACTIVE);
	pl_sdp_destroy(a);
	a = answer_of(BUNDLE_A, AUDIO_HEAD, "", PL_SDP_DIR_SENDRECV, 0);
	assert_int_equal(a->media[0]->tp.setup, PL_SDP_SETUP_PASSIVE);
	pl_sdp_destroy(a);
	assert_null(answer_of(BUNDLE_A, AUDIO_HEAD, "a=setup:holdconn\r\n", PL_SDP_DIR_SENDRECV,
			      PL_EUNSUP));
}

static void test_sdp_answer_rejections(void **state)
{
	static const struct {
		const char *session, *head, *extra;
		const char *why;
	} rows[] = {
		/* no Opus in an audio m-line */
		{ BUNDLE_A, "m=audio 9 UDP/TLS/RTP/SAVPF 96", "", "no codec" },
		/* VP8 offered in an audio m-line is no audio codec either */
		{ BUNDLE_A, "m=audio 9 UDP/TLS/RTP/SAVPF 96 111", "a=inactive\r\n", NULL },
		/* not in the BUNDLE group */
		{ "a=group:BUNDLE\r\n", AUDIO_HEAD, "", "outside bundle" },
		/* a port 0 offer without bundle-only is already rejected */
		{ BUNDLE_A, "m=audio 0 UDP/TLS/RTP/SAVPF 111", "", "port 0" },
		/* plain RTP/AVP is no DTLS-SRTP */
		{ BUNDLE_A, "m=audio 9 RTP/AVP 111", "", "proto" },
		{ BUNDLE_A, "m=text 9 UDP/TLS/RTP/SAVPF 111", "", "kind" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_sdp *a = answer_of(rows[i].session, rows[i].head, rows[i].extra,
					     PL_SDP_DIR_SENDRECV, 0);

		if (rows[i].why) {
			assert_int_equal(a->media[0]->port, 0);
			assert_null(pl_sdp_group_find(a, "BUNDLE"));
			assert_string_equal(a->media[0]->mid, "a");
			assert_int_equal(a->media[0]->fmt_count, 1);
		} else {
			assert_int_equal(a->media[0]->port, 9);
			assert_string_equal(a->media[0]->fmts[0], "111");
		}
		assert_round_trip(a);
		pl_sdp_destroy(a);
	}
}

static void test_sdp_answer_rtcp_mux_required(void **state)
{
	const char *text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
			   "a=group:BUNDLE a\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
			   "a=mid:a\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
			   "a=fingerprint:sha-256 AB:CD\r\na=rtpmap:111 opus/48000/2\r\n";
	struct pl_sdp *offer = parse_ok(text), *answer;

	assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, NULL), 0);
	assert_int_equal(answer->media[0]->port, 0);
	pl_sdp_destroy(answer);
	pl_sdp_destroy(offer);
}

static void test_sdp_answer_errors(void **state)
{
	struct pl_sdp *offer, *answer = (struct pl_sdp *)1;
	struct pl_sdp_answer_params p = pub_params;
	const char *text;

	/* m-lines without BUNDLE */
	assert_null(answer_of("", AUDIO_HEAD, "", PL_SDP_DIR_SENDRECV, PL_EUNSUP));
	/* credentials missing on the BUNDLE tag */
	text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a\r\n"
	       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=ice-ufrag:abcd\r\n"
	       "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";
	offer = parse_ok(text);
	assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, NULL), PL_EPROTO);
	assert_null(answer);
	/* our own credentials missing */
	p.local.ice_pwd = NULL;
	assert_int_equal(pl_sdp_answer_create(offer, &p, &answer, NULL), PL_EINVAL);
	pl_sdp_destroy(offer);
}

static void test_sdp_answer_session_level_transport(void **state)
{
	const char *text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a\r\n"
			   "a=ice-ufrag:sess\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
			   "a=fingerprint:sha-1 AB:CD\r\na=fingerprint:SHA-256 EF:01\r\n"
			   "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=rtcp-mux\r\n"
			   "a=extmap:3/sendonly " PL_SDP_EXT_TWCC "\r\n"
			   "a=extmap:7 urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
			   "a=rtpmap:111 opus/48000/2\r\n";
	struct pl_sdp *offer = parse_ok(text), *answer;
	struct pl_sdp_remote r;

	assert_int_equal(pl_sdp_bundle_transport(offer, NULL, &r), 0);
	assert_string_equal(r.ice_ufrag, "sess");
	assert_string_equal(r.fingerprint, "EF:01");            /* sha-256 preferred */
	assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, NULL), 0);
	assert_int_equal(answer->media[0]->extmap_count, 1);
	assert_int_equal(answer->media[0]->extmaps[0].id, 3);
	assert_int_equal(answer->media[0]->extmaps[0].dir, PL_SDP_DIR_RECVONLY);
	pl_sdp_destroy(answer);
	pl_sdp_destroy(offer);
}

/* ---- Server offers -------------------------------------------------------- */

static const struct pl_sdp_offer_params sub_params = {
	{ "SrvU", "ServerPassword0123456789", "sha-256", "01:23", 77, 3 }, 0, 0, 0,
};

/* The first m-line carries the bundle's transport: when its track ends it
 * stays in the bundle, inactive and without msid or SSRCs (Chromium drops
 * the whole transport when the BUNDLE tag is rejected); later ended
 * m-lines get port 0 but keep ICE credentials (aiortc requires them). */
static void test_sdp_offer_keeps_bundle_tag(void **state)
{
	const struct pl_sdp_track tracks[] = {
		{ PL_SDP_KIND_AUDIO, "0", "p-gone", "t-1", 1111, 0, NULL, false },
		{ PL_SDP_KIND_VIDEO, "1", "p-gone", "t-2", 2222, 3333, NULL, false },
		{ PL_SDP_KIND_AUDIO, "2", "p-here", "t-3", 4444, 0, NULL, true },
	};
	struct pl_sdp *offer;
	const struct pl_sdp_group *g;

	assert_int_equal(pl_sdp_offer_create(tracks, 3, &sub_params, &offer), 0);
	g = pl_sdp_group_find(offer, "BUNDLE");
	assert_non_null(g);
	assert_int_equal(g->mid_count, 2);
	assert_string_equal(g->mids[0], "0");
	assert_string_equal(g->mids[1], "2");
	assert_int_equal(offer->media[0]->port, 9);
	assert_int_equal(offer->media[0]->dir, PL_SDP_DIR_INACTIVE);
	assert_int_equal(offer->media[0]->msid_count, 0);
	assert_int_equal(offer->media[0]->ssrc_count, 0);
	assert_int_equal(offer->media[1]->port, 0);
	assert_int_equal(offer->media[1]->dir, PL_SDP_DIR_INACTIVE);
	assert_string_equal(offer->media[1]->tp.ice_ufrag, "SrvU");
	assert_int_equal(offer->media[2]->port, 9);
	assert_int_equal(offer->media[2]->dir, PL_SDP_DIR_SENDONLY);
	assert_round_trip(offer);
	pl_sdp_destroy(offer);
}

static void test_sdp_offer_tracks(void **state)
{
	const struct pl_sdp_track tracks[] = {
		{ PL_SDP_KIND_AUDIO, "0", "p-7f3a", "t-1", 1111, 0, NULL, true },
		{ PL_SDP_KIND_VIDEO, "1", "p-7f3a", "t-2", 2222, 3333, "cn", true },
		{ PL_SDP_KIND_VIDEO, "2", "p-1c2d", "t-9", 4444, 5555, NULL, false },
		{ PL_SDP_KIND_VIDEO, "3", "p-1c2d", "t-10", 6666, 0, NULL, true },
	};
	struct pl_sdp *offer, *answer;
	const struct pl_sdp_group *g;
	const char *uri_of[256] = { NULL };
	char *text;

	assert_int_equal(pl_sdp_offer_create(tracks, 4, &sub_params, &offer), 0);
	g = pl_sdp_group_find(offer, "BUNDLE");
	assert_non_null(g);
	assert_int_equal(g->mid_count, 3);                      /* the inactive one is out */
	assert_string_equal(g->mids[2], "3");
	assert_true(offer->origin.sess_version == 3);
	for (size_t i = 0; i < offer->media_count; i++) {
		const struct pl_sdp_media *m = offer->media[i];

		/* One id, one extension, across the whole bundle. */
		for (size_t k = 0; k < m->extmap_count; k++) {
			const struct pl_sdp_extmap *e = &m->extmaps[k];

			if (uri_of[e->id])
				assert_string_equal(uri_of[e->id], e->uri);
			uri_of[e->id] = e->uri;
			for (size_t j = 0; j < 256; j++)
				if (uri_of[j] && j != e->id)
					assert_string_not_equal(uri_of[j], e->uri);
		}
	}
	assert_non_null(uri_of[4]);                             /* audio-level, audio only */
	assert_int_equal(offer->media[0]->dir, PL_SDP_DIR_SENDONLY);
	assert_string_equal(offer->media[0]->msids[0].stream, "p-7f3a");
	assert_string_equal(offer->media[0]->msids[0].track, "t-1");
	assert_int_equal(offer->media[0]->tp.setup, PL_SDP_SETUP_ACTPASS);
	assert_string_equal(offer->media[1]->ssrc_groups[0].semantics, "FID");
	assert_int_equal(offer->media[1]->ssrc_groups[0].ssrcs[1], 3333);
	assert_string_equal(offer->media[1]->ssrcs[0].value, "cn");
	assert_string_equal(pl_sdp_media_fmtp(offer->media[1], 97)->params, "apt=96");
	assert_int_equal(offer->media[2]->port, 0);
	assert_int_equal(offer->media[2]->dir, PL_SDP_DIR_INACTIVE);
	assert_int_equal(offer->media[2]->msid_count, 0);
	assert_int_equal(offer->media[3]->ssrc_group_count, 0);
	text = write_ok(offer);
	assert_non_null(strstr(text, "a=msid:p-1c2d t-10\r\n"));
	free(text);
	assert_round_trip(offer);
	/* Our own answerer accepts our offer as it is (a sanity check that
	 * the two sides agree on codecs and feedback). */
	assert_int_equal(pl_sdp_answer_create(offer, &pub_params, &answer, NULL), 0);
	assert_int_equal(answer->media[0]->port, 9);
	assert_int_equal(answer->media[1]->fmt_count, 2);
	assert_int_equal(answer->media[1]->rtcp_fb_count, 4);
	assert_int_equal(answer->media[2]->port, 0);
	assert_int_equal(answer->media[3]->dir, PL_SDP_DIR_RECVONLY);
	pl_sdp_destroy(answer);
	pl_sdp_destroy(offer);
}

static void test_sdp_offer_invalid_tracks(void **state)
{
	struct pl_sdp_track t[2] = {
		{ PL_SDP_KIND_AUDIO, "0", "p-1", "t-1", 1, 0, NULL, true },
		{ PL_SDP_KIND_AUDIO, "1", "p-1", "t-2", 2, 0, NULL, true },
	};
	struct pl_sdp_track many[PL_SDP_MAX_MEDIA + 1];
	struct pl_sdp *o = NULL;
	struct pl_sdp_offer_params p = sub_params;

	t[1].mid = "0";
	assert_int_equal(pl_sdp_offer_create(t, 2, &sub_params, &o), PL_EINVAL);
	t[1].mid = "a b";
	assert_int_equal(pl_sdp_offer_create(t, 2, &sub_params, &o), PL_EINVAL);
	t[1].mid = "1";
	t[1].stream_id = "p-1\r\na=inject";
	assert_int_equal(pl_sdp_offer_create(t, 2, &sub_params, &o), PL_EINVAL);
	t[1].stream_id = "p-1";
	t[1].kind = PL_SDP_KIND_APPLICATION;
	assert_int_equal(pl_sdp_offer_create(t, 2, &sub_params, &o), PL_EINVAL);
	t[1].kind = PL_SDP_KIND_AUDIO;
	p.local.fingerprint = NULL;
	assert_int_equal(pl_sdp_offer_create(t, 2, &p, &o), PL_EINVAL);
	assert_null(o);
	for (size_t i = 0; i < PL_SDP_MAX_MEDIA + 1; i++)
		many[i] = t[0];
	assert_int_equal(pl_sdp_offer_create(many, PL_SDP_MAX_MEDIA + 1, &sub_params, &o),
			 PL_ETOOBIG);
	/* No tracks at all is a valid (empty) offer. */
	assert_int_equal(pl_sdp_offer_create(NULL, 0, &sub_params, &o), 0);
	assert_int_equal(o->media_count, 0);
	assert_null(pl_sdp_group_find(o, "BUNDLE"));
	assert_round_trip(o);
	pl_sdp_destroy(o);
}

static void test_sdp_offer_custom_pts(void **state)
{
	const struct pl_sdp_track t = { PL_SDP_KIND_VIDEO, "v", "p", "t", 1, 2, NULL, true };
	struct pl_sdp_offer_params p = sub_params;
	struct pl_sdp *o;

	p.vp8_pt = 100, p.rtx_pt = 101;
	assert_int_equal(pl_sdp_offer_create(&t, 1, &p, &o), 0);
	assert_string_equal(o->media[0]->fmts[0], "100");
	assert_string_equal(pl_sdp_media_fmtp(o->media[0], 101)->params, "apt=100");
	pl_sdp_destroy(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_captured_offers),
		cmocka_unit_test(test_sdp_negotiation_table),
		cmocka_unit_test(test_sdp_answer_simulcast_mirrored),
		cmocka_unit_test(test_sdp_answer_directions),
		cmocka_unit_test(test_sdp_answer_setup_roles),
		cmocka_unit_test(test_sdp_answer_rejections),
		cmocka_unit_test(test_sdp_answer_rtcp_mux_required),
		cmocka_unit_test(test_sdp_answer_errors),
		cmocka_unit_test(test_sdp_answer_session_level_transport),
		cmocka_unit_test(test_sdp_offer_tracks),
		cmocka_unit_test(test_sdp_offer_keeps_bundle_tag),
		cmocka_unit_test(test_sdp_offer_invalid_tracks),
		cmocka_unit_test(test_sdp_offer_custom_pts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
