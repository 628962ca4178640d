/*
 * Optional numbers in the model. A value the kernel did not give us (a v1 field with no v2
 * twin, a line the report did not print) is absent, never 0.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define OPT_ABSENT UINT64_MAX
#define OPT_ABSENT_I64 INT64_MIN

static inline bool opt_has(uint64_t v)
{
    return v != OPT_ABSENT;
}

static inline bool opt_has_i64(int64_t v)
{
    return v != OPT_ABSENT_I64;
}
