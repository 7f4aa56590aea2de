/* media/ice_candidate.h: checking remote ICE candidates before libnice
 * sees them (private to media/ice.c).
 *
 * libnice reads a candidate's numbers with atoi() (port "99999" becomes
 * 34463) and only parses a whole "a=candidate:" line, so media/ice.c
 * checks every remote candidate here first (RFC 8839 section 5.1) and
 * refuses what it does not support.  Pure string functions: no state, no
 * allocation, any thread.
 */
#ifndef PL_MEDIA_ICE_CANDIDATE_H
#define PL_MEDIA_ICE_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many space-separated fields in a candidate. */
#define PL_ICE_CANDIDATE_MAX_FIELDS 40

/* s is an RFC 8839 ice-char string (letters, digits, '+', '/') of min to
 * max characters: ufrag 4-256, pwd 22-256, foundation 1-32.  NULL is not. */
bool pl_ice_str_is_valid(const char *s, size_t min, size_t max);

/* The candidate without its "a=" and "candidate:" prefixes, if any (a
 * pointer into cand). */
const char *pl_ice_candidate_body(const char *cand);

/* Copies the candidate body into buf (cap bytes) and splits it at single
 * spaces into f (PL_ICE_CANDIDATE_MAX_FIELDS pointers into buf).  Returns
 * the field count, or -1: too long, a control character, an empty field
 * or too many fields. */
int pl_ice_candidate_split(const char *cand, char *buf, size_t cap, char **f);

/* Checks the n fields of a candidate (foundation, component, transport,
 * priority, address, port, "typ", type, then name and value pairs).
 * Returns 0, PL_EINVAL for a syntax error (even when the candidate is also
 * unsupported), or PL_EUNSUP for a TCP candidate, an mDNS (.local) name or
 * a component other than `component`. */
int pl_ice_candidate_check(char **f, int n, unsigned component);

#endif
