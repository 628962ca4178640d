/* Parsing the human units used in flags and config files: sizes and durations. */
#pragma once

#include <stdint.h>

/* "4096", "512K", "256M", "1.5G", "2T" (binary: K = 1024); also "KiB"/"MB" spellings. */
int parse_size(const char *s, uint64_t *ret_bytes);
/* "250ms", "10s", "5m", "2h", "1d", or a bare number of seconds; result in milliseconds. */
int parse_duration_ms(const char *s, uint64_t *ret_ms);

/* floor(v * pct / 100) for pct <= 100, without overflow and without first rounding v down to a
 * multiple of 100 (50% of 256M is 128M exactly, a whole number of pages). */
static inline uint64_t percent_of(uint64_t v, unsigned pct)
{
    return v / 100 * pct + v % 100 * pct / 100;
}
