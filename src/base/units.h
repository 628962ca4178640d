/* Parsing the human units used in flags and config files: sizes and durations. */
#pragma once

#include <stdint.h>

/* "4096", "512K", "256M", "1.5G", "2T" (binary: K = 1024); also "KiB"/"MB" spellings. */
int parse_size(const char *s, uint64_t *ret_bytes);
/* "250ms", "10s", "5m", "2h", "1d", or a bare number of seconds; result in milliseconds. */
int parse_duration_ms(const char *s, uint64_t *ret_ms);
