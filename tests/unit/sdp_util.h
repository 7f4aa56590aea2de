/* tests/unit/sdp_util.h: helpers shared by the SDP unit tests
 * (test_sdp_parse.c, test_sdp_negotiate.c, test_sdp_write.c).
 *
 * Each helper fails the calling cmocka test with the reason (the parser's
 * line and reason, the writer's error name) rather than returning an
 * error, so the tests read as straight lines.  Test code only: linked
 * into the SDP test programs, never into a library.
 */
#ifndef PL_TESTS_UNIT_SDP_UTIL_H
#define PL_TESTS_UNIT_SDP_UTIL_H

#include "codecs/sdp.h"

#include <stddef.h>

/* tests/fixtures/sdp/NAME (the directory from $PL_FIXTURES), read whole
 * and NUL-terminated; *len is its length.  The caller frees it. */
char *read_fixture(const char *name, size_t *len);

/* pl_sdp_parse() that must succeed; the caller destroys the model. */
struct pl_sdp *parse_ok(const char *text);

/* The fixture NAME, parsed (read_fixture() then parse_ok()). */
struct pl_sdp *fixture(const char *name);

/* pl_sdp_write() that must succeed; the caller frees the text. */
char *write_ok(const struct pl_sdp *sdp);

/* parse -> write -> parse gives the same model, field by field, and
 * writing is a fixpoint (the second text equals the first). */
void assert_round_trip(const struct pl_sdp *sdp);

#endif
