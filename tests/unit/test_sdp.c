/* tests/unit/test_sdp.c: SDP parse, write, offer/answer.
 *
 * Fixtures (tests/fixtures/sdp, found through $PL_FIXTURES) are offers in
 * the style of Chromium, aiortc and GStreamer webrtcbin; each must parse,
 * write, and parse again into the same model, and each has a negotiation
 * table saying which codecs, payload types, extensions, feedback and
 * directions the server's answer keeps.  Malformed input is a table of
 * one-line edits to a small valid offer, each naming the line number and
 * reason the parser must report.  Limits, garbage bytes and mutated
 * fixtures close the file: every outcome must be an error code or a model
 * that writes and re-parses, never a crash (the sanitizer build checks the
 * "never").
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

/* ---- Helpers -------------------------------------------------------------- */

static char *read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("PL_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/sdp/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct pl_sdp *parse_ok(const char *text)
{
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0, NULL };
	int rc = pl_sdp_parse(text, strlen(text), &sdp, &err);

	if (rc)
		fail_msg("parse failed: %s at line %u: %s", pl_err_name(rc), err.line,
			 err.reason ? err.reason : "?");
	return sdp;
}

static struct pl_sdp *fixture(const char *name)
{
	size_t len;
	char *text = read_fixture(name, &len);
	struct pl_sdp *sdp = parse_ok(text);

	free(text);
	return sdp;
}

static char *write_ok(const struct pl_sdp *sdp)
{
	char *out = NULL;
	size_t len = 0;
	int rc = pl_sdp_write(sdp, &out, &len);

	if (rc)
		fail_msg("write failed: %s", pl_err_name(rc));
	assert_int_equal(strlen(out), len);
	return out;
}

static void assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_transport(const struct pl_sdp_transport *a,
				  const struct pl_sdp_transport *b)
{
	assert_str_eq_null(a->ice_ufrag, b->ice_ufrag);
	assert_str_eq_null(a->ice_pwd, b->ice_pwd);
	assert_str_eq_null(a->ice_options, b->ice_options);
	assert_int_equal(a->setup, b->setup);
	assert_int_equal(a->fingerprint_count, b->fingerprint_count);
	for (size_t i = 0; i < a->fingerprint_count; i++) {
		assert_string_equal(a->fingerprints[i].hash, b->fingerprints[i].hash);
		assert_string_equal(a->fingerprints[i].value, b->fingerprints[i].value);
	}
}

static void assert_same_extmaps(const struct pl_sdp_extmap *a, size_t na,
				const struct pl_sdp_extmap *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].id, b[i].id);
		assert_int_equal(a[i].dir, b[i].dir);
		assert_string_equal(a[i].uri, b[i].uri);
		assert_str_eq_null(a[i].attrs, b[i].attrs);
	}
}

static void assert_same_attrs(const struct pl_sdp_attr *a, size_t na, const struct pl_sdp_attr *b,
			      size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].name, b[i].name);
		assert_str_eq_null(a[i].value, b[i].value);
	}
}

static void assert_same_candidates(const struct pl_sdp_media *a, const struct pl_sdp_media *b)
{
	assert_int_equal(a->candidate_count, b->candidate_count);
	for (size_t i = 0; i < a->candidate_count; i++) {
		const struct pl_sdp_candidate *x = &a->candidates[i], *y = &b->candidates[i];

		assert_string_equal(x->foundation, y->foundation);
		assert_int_equal(x->component, y->component);
		assert_string_equal(x->transport, y->transport);
		assert_int_equal(x->priority, y->priority);
		assert_string_equal(x->address, y->address);
		assert_int_equal(x->port, y->port);
		assert_string_equal(x->type, y->type);
		assert_str_eq_null(x->raddr, y->raddr);
		assert_int_equal(x->has_rport, y->has_rport);
		assert_int_equal(x->rport, y->rport);
		assert_int_equal(x->ext_count, y->ext_count);
		for (size_t k = 0; k < x->ext_count; k++) {
			assert_string_equal(x->exts[k].name, y->exts[k].name);
			assert_string_equal(x->exts[k].value, y->exts[k].value);
		}
	}
}

/* Codec attributes may come back in another order (grouped per payload
 * type); compare them by payload type. */
static void assert_same_codecs(const struct pl_sdp_media *a, const struct pl_sdp_media *b)
{
	assert_int_equal(a->rtpmap_count, b->rtpmap_count);
	for (size_t i = 0; i < a->rtpmap_count; i++) {
		const struct pl_sdp_rtpmap *y = pl_sdp_media_rtpmap(b, a->rtpmaps[i].pt);

		assert_non_null(y);
		assert_string_equal(a->rtpmaps[i].name, y->name);
		assert_int_equal(a->rtpmaps[i].clock_hz, y->clock_hz);
		assert_int_equal(a->rtpmaps[i].channels, y->channels);
	}
	assert_int_equal(a->fmtp_count, b->fmtp_count);
	for (size_t i = 0; i < a->fmtp_count; i++) {
		const struct pl_sdp_fmtp *y = pl_sdp_media_fmtp(b, a->fmtps[i].pt);

		assert_non_null(y);
		assert_string_equal(a->fmtps[i].params, y->params);
	}
	assert_int_equal(a->rtcp_fb_count, b->rtcp_fb_count);
	for (size_t i = 0; i < a->rtcp_fb_count; i++) {
		bool found = false;

		for (size_t k = 0; k < b->rtcp_fb_count && !found; k++)
			found = a->rtcp_fbs[i].pt == b->rtcp_fbs[k].pt &&
				strcmp(a->rtcp_fbs[i].type, b->rtcp_fbs[k].type) == 0 &&
				(a->rtcp_fbs[i].param ? b->rtcp_fbs[k].param &&
				 strcmp(a->rtcp_fbs[i].param, b->rtcp_fbs[k].param) == 0
						      : !b->rtcp_fbs[k].param);
		assert_true(found);
	}
}

static void assert_same_streams(const struct pl_sdp_media *a, const struct pl_sdp_media *b)
{
	assert_int_equal(a->msid_count, b->msid_count);
	for (size_t i = 0; i < a->msid_count; i++) {
		assert_string_equal(a->msids[i].stream, b->msids[i].stream);
		assert_str_eq_null(a->msids[i].track, b->msids[i].track);
	}
	assert_int_equal(a->ssrc_count, b->ssrc_count);
	for (size_t i = 0; i < a->ssrc_count; i++) {
		assert_int_equal(a->ssrcs[i].ssrc, b->ssrcs[i].ssrc);
		assert_string_equal(a->ssrcs[i].attr, b->ssrcs[i].attr);
		assert_str_eq_null(a->ssrcs[i].value, b->ssrcs[i].value);
	}
	assert_int_equal(a->ssrc_group_count, b->ssrc_group_count);
	for (size_t i = 0; i < a->ssrc_group_count; i++) {
		assert_string_equal(a->ssrc_groups[i].semantics, b->ssrc_groups[i].semantics);
		assert_int_equal(a->ssrc_groups[i].ssrc_count, b->ssrc_groups[i].ssrc_count);
		assert_memory_equal(a->ssrc_groups[i].ssrcs, b->ssrc_groups[i].ssrcs,
				    a->ssrc_groups[i].ssrc_count * sizeof(uint32_t));
	}
	assert_int_equal(a->rid_count, b->rid_count);
	for (size_t i = 0; i < a->rid_count; i++) {
		assert_string_equal(a->rids[i].id, b->rids[i].id);
		assert_int_equal(a->rids[i].dir, b->rids[i].dir);
		assert_str_eq_null(a->rids[i].params, b->rids[i].params);
	}
	assert_int_equal(a->has_simulcast, b->has_simulcast);
	assert_int_equal(a->simulcast.send_count, b->simulcast.send_count);
	assert_int_equal(a->simulcast.recv_count, b->simulcast.recv_count);
	for (size_t i = 0; i < a->simulcast.send_count; i++) {
		assert_string_equal(a->simulcast.send[i].rid, b->simulcast.send[i].rid);
		assert_int_equal(a->simulcast.send[i].paused, b->simulcast.send[i].paused);
		assert_int_equal(a->simulcast.send[i].stream, b->simulcast.send[i].stream);
	}
	for (size_t i = 0; i < a->simulcast.recv_count; i++) {
		assert_string_equal(a->simulcast.recv[i].rid, b->simulcast.recv[i].rid);
		assert_int_equal(a->simulcast.recv[i].stream, b->simulcast.recv[i].stream);
	}
}

static void assert_same_media(const struct pl_sdp_media *a, const struct pl_sdp_media *b)
{
	assert_string_equal(a->media, b->media);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->port_count, b->port_count);
	assert_string_equal(a->proto, b->proto);
	assert_int_equal(a->fmt_count, b->fmt_count);
	for (size_t i = 0; i < a->fmt_count; i++)
		assert_string_equal(a->fmts[i], b->fmts[i]);
	assert_str_eq_null(a->conn.address, b->conn.address);
	assert_int_equal(a->bandwidth_count, b->bandwidth_count);
	assert_int_equal(a->line_count, b->line_count);
	assert_str_eq_null(a->mid, b->mid);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->rtcp_mux, b->rtcp_mux);
	assert_int_equal(a->rtcp_rsize, b->rtcp_rsize);
	assert_int_equal(a->end_of_candidates, b->end_of_candidates);
	assert_int_equal(a->extmap_allow_mixed, b->extmap_allow_mixed);
	assert_same_transport(&a->tp, &b->tp);
	assert_same_candidates(a, b);
	assert_same_codecs(a, b);
	assert_same_extmaps(a->extmaps, a->extmap_count, b->extmaps, b->extmap_count);
	assert_same_streams(a, b);
	assert_same_attrs(a->attrs, a->attr_count, b->attrs, b->attr_count);
}

static void assert_same_model(const struct pl_sdp *a, const struct pl_sdp *b)
{
	assert_string_equal(a->origin.username, b->origin.username);
	assert_true(a->origin.sess_id == b->origin.sess_id);
	assert_true(a->origin.sess_version == b->origin.sess_version);
	assert_string_equal(a->origin.address, b->origin.address);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->line_count, b->line_count);
	assert_int_equal(a->time_count, b->time_count);
	assert_int_equal(a->group_count, b->group_count);
	for (size_t i = 0; i < a->group_count; i++) {
		assert_string_equal(a->groups[i].semantics, b->groups[i].semantics);
		assert_int_equal(a->groups[i].mid_count, b->groups[i].mid_count);
		for (size_t k = 0; k < a->groups[i].mid_count; k++)
			assert_string_equal(a->groups[i].mids[k], b->groups[i].mids[k]);
	}
	assert_int_equal(a->ice_lite, b->ice_lite);
	assert_int_equal(a->extmap_allow_mixed, b->extmap_allow_mixed);
	assert_int_equal(a->dir, b->dir);
	assert_same_transport(&a->tp, &b->tp);
	assert_str_eq_null(a->msid_semantic, b->msid_semantic);
	assert_int_equal(a->msid_id_count, b->msid_id_count);
	assert_same_extmaps(a->extmaps, a->extmap_count, b->extmaps, b->extmap_count);
	assert_same_attrs(a->attrs, a->attr_count, b->attrs, b->attr_count);
	assert_int_equal(a->media_count, b->media_count);
	for (size_t i = 0; i < a->media_count; i++)
		assert_same_media(a->media[i], b->media[i]);
}

/* parse -> write -> parse gives the same model, and writing is a fixpoint. */
static void assert_round_trip(const struct pl_sdp *sdp)
{
	char *once = write_ok(sdp), *twice;
	struct pl_sdp *again = parse_ok(once);

	assert_same_model(sdp, again);
	twice = write_ok(again);
	assert_string_equal(once, twice);
	free(once), free(twice);
	pl_sdp_destroy(again);
}

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
		cmocka_unit_test(test_sdp_fixture_round_trips),
		cmocka_unit_test(test_sdp_captured_offers),
		cmocka_unit_test(test_sdp_chromium_model),
		cmocka_unit_test(test_sdp_aiortc_model),
		cmocka_unit_test(test_sdp_gstreamer_model),
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
