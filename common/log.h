/* common/log.h: leveled, tagged logging.
 *
 * PL_LOG(PL_LOG_INFO, "sig", "[room=%s] joined", name) writes one line to
 * stderr: time, level, tag, message.  The level threshold and the set of
 * enabled tags are chosen at run time (pl_log_configure).  DEBUG and TRACE
 * compile out when PL_LOG_NO_DEBUG is defined.  Never log keys, ICE
 * passwords or tokens.
 * Thread-safe: each line is written with one fputs() under stdio's lock.
 */
#ifndef PL_COMMON_LOG_H
#define PL_COMMON_LOG_H

#include <stdbool.h>

enum pl_log_level {
	PL_LOG_ERROR = 0,
	PL_LOG_WARN,
	PL_LOG_INFO,
	PL_LOG_DEBUG,
	PL_LOG_TRACE,
};

/* Sets the threshold and the tags.  tags is NULL or "" or "all" for every
 * tag, else a comma-separated list ("sig,chat").  Call once at start-up,
 * before any other thread logs.  Returns 0, or PL_EINVAL for a bad level
 * or a tag list with an empty or over-long (15+ bytes) tag. */
int pl_log_configure(const char *level, const char *tags);

/* Parses "error|warn|info|debug|trace"; returns 0 or PL_EINVAL. */
int pl_log_level_parse(const char *s, enum pl_log_level *out);

bool pl_log_enabled(enum pl_log_level level, const char *tag);

void pl_log_write(enum pl_log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef PL_LOG_NO_DEBUG
#define PL_LOG_MAX PL_LOG_INFO
#else
#define PL_LOG_MAX PL_LOG_TRACE
#endif

#define PL_LOG(level, tag, ...)                                             \
	do {                                                                \
		if ((level) <= PL_LOG_MAX && pl_log_enabled((level), (tag))) \
			pl_log_write((level), (tag), __VA_ARGS__);         \
	} while (0)

#endif
