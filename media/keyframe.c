/* media/keyframe.c: the keyframe request throttle of keyframe.h. */
#include "media/keyframe.h"

bool pl_kf_throttle_allow(struct pl_kf_throttle *t, int64_t now_us)
{
	if (t->last_us && now_us - t->last_us < PL_KF_MIN_INTERVAL_US) {
		t->suppressed++;
		return false;
	}
	t->last_us = now_us;
	t->sent++;
	return true;
}
