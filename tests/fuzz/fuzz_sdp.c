/* tests/fuzz/fuzz_sdp.c: session descriptions (codecs/sdp.h), from text to
 * model to answer and back.
 *
 * One input is one SDP as a client sends it in an `offer` or `answer`.
 * For a description that parses:
 *   - pl_sdp_write() must serialize it (or refuse it as too big), and
 *     that text must parse again and serialize to the very same bytes
 *     (the parser and the writer agree on the whole grammar);
 *   - the lookups the media code uses (BUNDLE transport, rtpmap, fmtp
 *     parameters, media by mid) must not misbehave;
 *   - pl_sdp_answer_create() must either refuse it or build an answer
 *     that itself writes and parses, as parleyd does for every pub offer.
 * A description that does not parse must come with a reason.  Each
 * a=candidate value is also fed to the trickle candidate parser, whose
 * output must round-trip through pl_sdp_candidate_to_string().
 */
#include "fuzz.h"

#include "codecs/sdp.h"
#include "common/err.h"

#include <string.h>

static const struct pl_sdp_local local = {
	.ice_ufrag = "fzUf",
	.ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz",
	.fingerprint_hash = "sha-256",
	.fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
		       "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
	.sess_id = 1234,
	.sess_version = 2,
};

/* write(model) parses back and writes the same bytes again. */
static void check_write(const struct pl_sdp *sdp)
{
	struct pl_sdp *again = NULL;
	struct pl_sdp_error err;
	char *text = NULL, *text2 = NULL;
	size_t len, len2;
	int rc = pl_sdp_write(sdp, &text, &len);

	FUZZ_CHECK(rc == 0 || rc == PL_ETOOBIG);
	if (rc != 0)
		return;
	FUZZ_CHECK(strlen(text) == len);
	rc = pl_sdp_parse(text, len, &again, &err);
	if (rc != 0)
		fprintf(stderr, "written SDP refused, line %u: %s\n%s\n", err.line, err.reason, text);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(pl_sdp_write(again, &text2, &len2) == 0);
	FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
	free(text), free(text2);
	pl_sdp_destroy(again);
}

static void check_lookups(const struct pl_sdp *sdp)
{
	struct pl_sdp_remote r;
	const char *val;
	size_t vlen;

	if (pl_sdp_bundle_transport(sdp, NULL, &r) == 0)
		FUZZ_CHECK(r.media && r.ice_ufrag && r.ice_pwd && r.fingerprint && r.fingerprint_hash);
	(void)pl_sdp_group_find(sdp, "BUNDLE");
	for (size_t i = 0; i < sdp->media_count; i++) {
		const struct pl_sdp_media *m = sdp->media[i];
		if (m->mid)
			FUZZ_CHECK(pl_sdp_media_by_mid(sdp, m->mid) != NULL);
		for (size_t k = 0; k < m->rtpmap_count; k++)
			FUZZ_CHECK(pl_sdp_media_rtpmap(m, m->rtpmaps[k].pt) != NULL);
		for (size_t k = 0; k < m->fmtp_count; k++) {
			const char *params = m->fmtps[k].params;
			FUZZ_CHECK(pl_sdp_media_fmtp(m, m->fmtps[k].pt) != NULL);
			if (params && pl_sdp_fmtp_param(params, "apt", &val, &vlen))
				FUZZ_CHECK(val >= params && val + vlen <= params + strlen(params));
			if (params && pl_sdp_fmtp_param(params, "profile-level-id", &val, &vlen))
				FUZZ_CHECK(val >= params && val + vlen <= params + strlen(params));
		}
	}
}

static void check_answer(const struct pl_sdp *offer, enum pl_sdp_dir dir)
{
	struct pl_sdp_answer_params p = { .local = local, .dir = dir };
	struct pl_sdp *answer = NULL;
	struct pl_sdp_error err = { 0 };
	struct pl_sdp_remote r;
	int rc = pl_sdp_answer_create(offer, &p, &answer, &err);

	if (rc != 0) {
		FUZZ_CHECK(answer == NULL);
		FUZZ_CHECK(rc == PL_EUNSUP || rc == PL_EPROTO || rc == PL_EINVAL || rc == PL_ETOOBIG);
		return;
	}
	FUZZ_CHECK(answer && answer->media_count == offer->media_count);
	check_write(answer);
	if (answer->group_count && answer->groups[0].mid_count)
		(void)pl_sdp_bundle_transport(offer, answer->groups[0].mids[0], &r);
	pl_sdp_destroy(answer);
}

static void check_candidate(const char *text, size_t len)
{
	struct pl_sdp_candidate c, c2;
	char *s;

	memset(&c, 0, sizeof(c));
	if (pl_sdp_candidate_parse(text, len, &c) != 0) {
		pl_sdp_candidate_release(&c);
		return;
	}
	s = pl_sdp_candidate_to_string(&c);
	FUZZ_CHECK(s != NULL);
	memset(&c2, 0, sizeof(c2));
	FUZZ_CHECK(pl_sdp_candidate_parse(s, strlen(s), &c2) == 0);
	FUZZ_CHECK(c2.component == c.component && c2.priority == c.priority && c2.port == c.port);
	FUZZ_CHECK(strcmp(c2.address, c.address) == 0 && strcmp(c2.type, c.type) == 0);
	FUZZ_CHECK(c2.ext_count == c.ext_count);
	free(s);
	pl_sdp_candidate_release(&c);
	pl_sdp_candidate_release(&c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_sdp *sdp = NULL;
	struct pl_sdp_error err = { 0 };
	int rc = pl_sdp_parse((const char *)data, size, &sdp, &err);

	if (rc != 0) {
		FUZZ_CHECK(sdp == NULL && err.reason != NULL);
		FUZZ_CHECK(rc == PL_EPROTO || rc == PL_ETOOBIG);
		/* Short inputs are also tried as one trickled candidate. */
		if (size < 1024)
			check_candidate((const char *)data, size);
		return 0;
	}
	check_write(sdp);
	check_lookups(sdp);
	check_answer(sdp, PL_SDP_DIR_RECVONLY);   /* the pub connection */
	check_answer(sdp, PL_SDP_DIR_UNSET);
	for (size_t i = 0; i < sdp->media_count; i++)
		for (size_t k = 0; k < sdp->media[i]->candidate_count; k++) {
			char *s = pl_sdp_candidate_to_string(&sdp->media[i]->candidates[k]);
			if (s)
				check_candidate(s, strlen(s));
			free(s);
		}
	pl_sdp_destroy(sdp);
	return 0;
}
