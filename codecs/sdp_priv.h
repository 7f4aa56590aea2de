/* codecs/sdp_priv.h: helpers shared by the SDP files, not part of the API. */
#ifndef PL_CODECS_SDP_PRIV_H
#define PL_CODECS_SDP_PRIV_H

#include <stddef.h>
#include <string.h>

#include "codecs/sdp.h"

/* Returns vec grown (if needed) to hold count + 1 elements of size bytes.
 * Capacities are implicit: 4, then powers of two.  Aborts on OOM. */
void *pl_sdp_vec_reserve(void *vec, size_t count, size_t size);

/* Appends one zeroed element to the array arr of count elements and yields
 * its address, or NULL when count has reached max. */
#define PL_SDP_PUSH(arr, count, max)                                           \
	((count) >= (max) ? NULL                                               \
	 : ((arr) = pl_sdp_vec_reserve((arr), (count), sizeof(*(arr))),        \
	    memset(&(arr)[(count)], 0, sizeof(*(arr))), &(arr)[(count)++]))

/* strdup/strndup that abort on OOM; NULL in, NULL out. */
char *pl_sdp_strdup(const char *s);
char *pl_sdp_strndup(const char *s, size_t n);

/* Names of enum values as written in SDP. */
const char *pl_sdp_dir_name(enum pl_sdp_dir d);
const char *pl_sdp_setup_name(enum pl_sdp_setup s);

/* ---- Parser state and lexical helpers (sdp_parse.c, sdp_attr.c) ---------- */

struct pl_sdp_parser {
	struct pl_sdp *sdp;
	struct pl_sdp_media *m;         /* the current m= section, or NULL */
	unsigned line;                  /* 1-based number of the current line */
	int rank;                       /* grammar position of the last line */
	const char *reason;
	unsigned group_line[PL_SDP_MAX_GROUPS];
	unsigned simulcast_line;
};

/* Records reason and returns rc. */
int pl_sdp_parser_fail(struct pl_sdp_parser *p, int rc, const char *reason);
#define PL_SDP_BAD(p, why) pl_sdp_parser_fail((p), PL_EPROTO, (why))
#define PL_SDP_BIG(p, why) pl_sdp_parser_fail((p), PL_ETOOBIG, (why))

/* token-char and token of RFC 8866 section 9. */
bool pl_sdp_is_token_char(unsigned char c);
bool pl_sdp_is_token(const char *s);
/* ice-char = ALPHA / DIGIT / "+" / "/", min..max of them. */
bool pl_sdp_is_ice_chars(const char *s, size_t min, size_t max);
/* IPv4, IPv6 (with zone), FQDN, multicast "/ttl/n". */
bool pl_sdp_is_address(const char *s);
/* Decimal digits only, at most max. */
bool pl_sdp_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Splits off the next SP-separated field of *s in place; NULL when none is
 * left.  Two spaces in a row yield an empty field, which validators reject. */
char *pl_sdp_next_field(char **s);
bool pl_sdp_is_rtp_proto(const char *proto);
/* The payload type in s if it is one of m's formats, else -1. */
int pl_sdp_listed_pt(const struct pl_sdp_media *m, const char *s);

/* One a= line's text after "a=" (sdp_attr.c). */
int pl_sdp_attr_line(struct pl_sdp_parser *p, char *s);
/* The candidate-attribute value in s, split in place (sdp_attr.c). */
int pl_sdp_candidate_parse_in_place(char *s, struct pl_sdp_candidate *c);

#endif
