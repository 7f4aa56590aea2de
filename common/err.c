/* common/err.c: messages for the PL_E* codes of err.h. */
#include "common/err.h"

const char *pl_strerror(int err)
{
	switch (err) {
	case PL_OK:
		return "success";
#define PL_ERR_MSG(name, val, msg) case PL_##name: return msg;
	PL_ERRNO_MAP(PL_ERR_MSG)
#undef PL_ERR_MSG
	}
	return "unknown error";
}

const char *pl_err_name(int err)
{
	switch (err) {
	case PL_OK:
		return "OK";
#define PL_ERR_NAME(name, val, msg) case PL_##name: return #name;
	PL_ERRNO_MAP(PL_ERR_NAME)
#undef PL_ERR_NAME
	}
	return "EUNKNOWN";
}
