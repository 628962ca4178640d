/* Monotonic time for intervals (CLOCK_MONOTONIC: not moved by wall-clock changes). */
#pragma once

#include <stdint.h>

/* Milliseconds since an arbitrary point. */
uint64_t clock_mono_ms(void);
/* Microseconds since the same point. */
uint64_t clock_mono_us(void);
/* Seconds since the same point, with the clock's resolution. */
double clock_mono_s(void);

/* The wall-clock time the monotonic clock started from (boot, less any suspend): what a
 * monotonic stamp, like the kernel log's, is added to for a wall-clock time. Seconds. */
double clock_boot_wall(void);

/* Sleeps until clock_mono_ms() reaches `when` (returns at once when it has), through signals. */
void clock_sleep_until_ms(uint64_t when);
