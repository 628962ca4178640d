/* Monotonic time for intervals (CLOCK_MONOTONIC: not moved by wall-clock changes). */
#pragma once

#include <stdint.h>

/* Milliseconds since an arbitrary point. */
uint64_t clock_mono_ms(void);

/* Sleeps until clock_mono_ms() reaches `when` (returns at once when it has), through signals. */
void clock_sleep_until_ms(uint64_t when);
