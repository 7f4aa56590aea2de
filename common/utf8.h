/* common/utf8.h: UTF-8 validation and counting.  Pure functions. */
#ifndef PL_COMMON_UTF8_H
#define PL_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when buf[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool pl_utf8_is_valid(const char *buf, size_t len);

/* Number of code points in a NUL-terminated valid UTF-8 string. */
size_t pl_utf8_count(const char *s);

/* True when s is valid UTF-8 of printable characters only: no C0/C1
 * control characters and no DEL.  Used for display names. */
bool pl_utf8_is_printable(const char *s);

#endif
