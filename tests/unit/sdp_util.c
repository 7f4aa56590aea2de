/* tests/unit/sdp_util.c: helpers shared by the SDP unit tests: fixture
 * loading, parse and write that must succeed, and the field-by-field
 * model comparison behind every round trip (see sdp_util.h).
 *
 * The comparison is written out per part of the model (transport,
 * extmaps, attributes, candidates, codecs, streams) so that a failing
 * round trip names the field that changed.
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

char *read_fixture(const char *name, size_t *len)
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

struct pl_sdp *parse_ok(const char *text)
{
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0, NULL };
	int rc = pl_sdp_parse(text, strlen(text), &sdp, &err);

	if (rc)
		fail_msg("parse failed: %s at line %u: %s", pl_err_name(rc), err.line,
			 err.reason ? err.reason : "?");
	return sdp;
}

struct pl_sdp *fixture(const char *name)
{
	size_t len;
	char *text = read_fixture(name, &len);
	struct pl_sdp *sdp = parse_ok(text);

	free(text);
	return sdp;
}

char *write_ok(const struct pl_sdp *sdp)
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
void assert_round_trip(const struct pl_sdp *sdp)
{
	char *once = write_ok(sdp), *twice;
	struct pl_sdp *again = parse_ok(once);

	assert_same_model(sdp, again);
	twice = write_ok(again);
	assert_string_equal(once, twice);
	free(once), free(twice);
	pl_sdp_destroy(again);
}
