/* common/clock.h: time sources.  Thread-safe. */
#ifndef PL_COMMON_CLOCK_H
#define PL_COMMON_CLOCK_H

#include <stdint.h>

/* Monotonic time in microseconds / milliseconds (CLOCK_MONOTONIC). */
int64_t pl_clock_mono_us(void);
int64_t pl_clock_mono_ms(void);

/* Wall-clock time in milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t pl_clock_wall_ms(void);

#endif
