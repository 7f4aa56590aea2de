/* common/err.h: the one list of Parley error codes.
 *
 * Every function that can fail returns int: 0 on success or a negative
 * PL_E* code from this list.  The list is an X-macro so that the codes and
 * their messages can never drift apart (libuv's UV_ERRNO_MAP).
 * Thread-safe: pure functions over static data.
 */
#ifndef PL_COMMON_ERR_H
#define PL_COMMON_ERR_H

#define PL_ERRNO_MAP(X)                                                   \
	X(EINVAL, -1, "invalid argument")                                 \
	X(ENOMEM, -2, "out of memory")                                    \
	X(ETRUNC, -3, "truncated input")                                  \
	X(EPROTO, -4, "protocol violation")                               \
	X(EBUSY, -5, "resource busy or queue full")                       \
	X(ENOENT, -6, "not found")                                        \
	X(EEXIST, -7, "already exists")                                   \
	X(EIO, -8, "input/output error")                                  \
	X(ETOOBIG, -9, "too large")                                       \
	X(EPERM, -10, "not permitted")                                    \
	X(EAUTH, -11, "authentication failed")                            \
	X(EEXPIRED, -12, "expired")                                       \
	X(ECLOSED, -13, "closed")                                         \
	X(EUNSUP, -14, "not supported")                                   \
	X(ESYS, -15, "system call failed")

enum pl_err {
	PL_OK = 0,
#define PL_ERR_ENUM(name, val, msg) PL_##name = (val),
	PL_ERRNO_MAP(PL_ERR_ENUM)
#undef PL_ERR_ENUM
};

/* A static, human-readable message for a PL_E* code (or "unknown error"). */
const char *pl_strerror(int err);

/* The symbolic name ("EPROTO") of a PL_E* code, for logs and counters. */
const char *pl_err_name(int err);

#endif
