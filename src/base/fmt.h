/* Human-readable formatting of sizes and durations for tables. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FMT_SIZE_LEN 16

/*
 * Binary units, like `ls -h`/`free -h`: 0, 512B, 4.0K, 148K, 1.9M, 23G. Values under 10 in a unit
 * keep one decimal so small differences stay visible. Returns `out`.
 */
char *fmt_size(char out[FMT_SIZE_LEN], uint64_t bytes);
/* Like fmt_size but with a unit suffix everywhere ("4.0 KiB", "1.9 GiB") for prose. */
char *fmt_size_long(char out[24], uint64_t bytes);
/* part as a whole percentage of whole, rounded half up; 0 when whole is 0. */
unsigned fmt_percent(uint64_t part, uint64_t whole);
/* Seconds as "850ms", "4.2s", "3m10s", "2h05m", "3d4h". */
char *fmt_duration(char out[24], double seconds);
