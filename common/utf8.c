/* common/utf8.c: a strict UTF-8 decoder used for validation only. */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

/* Decodes one code point at s (n bytes available); returns its length or 0
 * when the sequence is malformed. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool pl_utf8_is_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	uint32_t cp;

	while (len > 0) {
		size_t k = decode(s, len, &cp);
		if (k == 0)
			return false;
		s += k, len -= k;
	}
	return true;
}

size_t pl_utf8_count(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0;

	for (; *s; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return n;
}

bool pl_utf8_is_printable(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str);
	uint32_t cp;

	while (len > 0) {
		size_t k = decode(s, len, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return false;
		s += k, len -= k;
	}
	return true;
}
