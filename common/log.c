/* common/log.c: the implementation of log.h.
 *
 * Configuration is written once at start-up and read by every thread
 * afterwards without locks; each line is formatted into a stack buffer and
 * written with a single fputs() so lines from different threads never mix.
 */
#include "common/log.h"
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_TAGS 32
#define TAG_LEN 16

static enum pl_log_level threshold = PL_LOG_INFO;
static char tags[MAX_TAGS][TAG_LEN];
static int ntags; /* 0 means every tag */

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

int pl_log_level_parse(const char *s, enum pl_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (s && strcasecmp(s, level_names[i]) == 0) {
			*out = (enum pl_log_level)i;
			return 0;
		}
	}
	return PL_EINVAL;
}

int pl_log_configure(const char *level, const char *taglist)
{
	enum pl_log_level lv = threshold;

	if (level && pl_log_level_parse(level, &lv) < 0)
		return PL_EINVAL;
	threshold = lv;
	ntags = 0;
	if (!taglist || !*taglist || strcmp(taglist, "all") == 0)
		return 0;
	const char *p = taglist;
	while (*p && ntags < MAX_TAGS) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, ",");
		size_t k = n;
		while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		if (k >= TAG_LEN)
			return PL_EINVAL; /* never widen a filter the operator asked for */
		if (k == 0) {
			p += n + (p[n] == ',');
			continue;
		}
		memcpy(tags[ntags], p, k);
		tags[ntags][k] = '\0';
		ntags++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (ntags == 0 || *p) {
		ntags = 0;
		return PL_EINVAL; /* only empty entries, or more than MAX_TAGS */
	}
	return 0;
}

bool pl_log_enabled(enum pl_log_level level, const char *tag)
{
	if (level > threshold)
		return false;
	if (!tag)
		return ntags == 0;
	if (ntags == 0 || level <= PL_LOG_WARN)
		return true; /* errors and warnings are never filtered by tag */
	for (int i = 0; i < ntags; i++)
		if (strcmp(tags[i], tag) == 0)
			return true;
	return false;
}

void pl_log_write(enum pl_log_level level, const char *tag, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if ((unsigned)level > PL_LOG_TRACE)
		level = PL_LOG_TRACE;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-5s %-5s ", tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], tag);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* an absurdly long tag: keep the newline */
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	line[len] = '\n';
	line[len + 1] = '\0';
	fputs(line, stderr);
}
