/* media/ice_candidate.c: the checks media/ice.c runs on a remote ICE
 * candidate before handing it to libnice (see ice_candidate.h for why).
 *
 * Strict on purpose: numbers are decimal digits within their RFC ranges,
 * the address must be a literal IPv4 or IPv6 address (or an mDNS name,
 * which is refused as unsupported rather than as malformed), and the line
 * may hold no control characters, so what reaches libnice's lenient
 * parser is what we checked.  Pure functions, any thread.
 */
#include "media/ice_candidate.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* RFC 8839 ice-char strings: ufrag 4-256, pwd 22-256 characters. */
bool pl_ice_str_is_valid(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (n == max || !(g_ascii_isalnum(s[n]) || s[n] == '+' || s[n] == '/'))
			return false;
	return n >= min;
}

/* Decimal digits only, at most max_digits of them (no sign, no blanks). */
static bool parse_number(const char *s, size_t max_digits, unsigned long *out)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > max_digits || s[n])
		return false;
	*out = strtoul(s, NULL, 10);
	return true;
}

/* Checks the fields of a candidate (RFC 8839 section 5.1: foundation,
 * component, transport, priority, address, port, "typ", type, then name and
 * value pairs).  Syntax errors give PL_EINVAL even when the candidate is
 * also unsupported (TCP, an mDNS name, another component): PL_EUNSUP. */
int pl_ice_candidate_check(char **f, int n, unsigned component)
{
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };
	unsigned long comp, prio, port;
	unsigned char ip[sizeof(struct in6_addr)];
	bool unsup = false, typed = false;
	size_t alen;

	if (n < 8 || (n - 8) % 2 || !pl_ice_str_is_valid(f[0], 1, 32) ||
	    !parse_number(f[1], 3, &comp) || comp < 1 || comp > 256 ||
	    !parse_number(f[3], 10, &prio) || prio < 1 || prio > 0xffffffffUL ||
	    !parse_number(f[5], 5, &port) || port > 65535 || strcmp(f[6], "typ") != 0)
		return PL_EINVAL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		typed |= strcmp(f[7], types[i]) == 0;
	if (!typed)
		return PL_EINVAL;
	if (g_ascii_strcasecmp(f[2], "tcp") == 0)
		unsup = true;
	else if (g_ascii_strcasecmp(f[2], "udp") != 0)
		return PL_EINVAL;
	alen = strlen(f[4]);
	if (alen > 6 && g_ascii_strcasecmp(f[4] + alen - 6, ".local") == 0)
		unsup = true;
	else if (inet_pton(AF_INET, f[4], ip) != 1 && inet_pton(AF_INET6, f[4], ip) != 1)
		return PL_EINVAL;
	if (!unsup && port == 0)
		return PL_EINVAL;
	return unsup || comp != component ? PL_EUNSUP : 0;
}

/* The candidate without its "a=" and "candidate:" prefixes, if any. */
const char *pl_ice_candidate_body(const char *cand)
{
	if (g_str_has_prefix(cand, "a="))
		cand += strlen("a=");
	if (g_str_has_prefix(cand, "candidate:"))
		cand += strlen("candidate:");
	return cand;
}

/* Copies the candidate body into buf (cap bytes) and splits it at single
 * spaces.  Returns the field count, or -1. */
int pl_ice_candidate_split(const char *cand, char *buf, size_t cap, char **f)
{
	int n = 0;
	char *p;

	if (strlen(cand) >= cap)
		return -1;
	strcpy(buf, cand);
	for (p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return -1;
	for (p = buf; n < PL_ICE_CANDIDATE_MAX_FIELDS; p++) {
		f[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			return f[n - 1][0] ? n : -1;
		*p = '\0';
		if (p == f[n - 1])
			return -1; /* empty field: two spaces in a row */
	}
	return -1;
}
