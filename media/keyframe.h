/* media/keyframe.h: aggregation of keyframe requests toward a publisher.
 *
 * Every subscriber that joins, every PLI or FIR a subscriber sends and
 * every down track waiting for a keyframe asks for one; the publisher must
 * see at most one request per PL_KF_MIN_INTERVAL_US however many ask (50
 * subscribers joining at once cause one PLI, then at most one retry per
 * interval until a keyframe flows).  A value type, one per published
 * video track; no allocation, one thread.
 */
#ifndef PL_MEDIA_KEYFRAME_H
#define PL_MEDIA_KEYFRAME_H

#include <stdbool.h>
#include <stdint.h>

#define PL_KF_MIN_INTERVAL_US 500000

struct pl_kf_throttle {
	int64_t last_us;      /* when the last request went upstream, 0: never */
	uint64_t sent;        /* requests let through */
	uint64_t suppressed;  /* requests folded into an earlier one */
};

/* True when a request at now_us (monotonic, > 0) should go upstream; it is
 * then counted as sent, else as suppressed. */
bool pl_kf_throttle_allow(struct pl_kf_throttle *t, int64_t now_us);

#endif
