/*
 * Parser for the kernel's "key value" files (/proc/meminfo, /proc/vmstat, memory.stat,
 * memory.events, /proc/PID/status numbers...): looked up by key, never by position, because
 * keys are added, removed and reordered between kernel versions.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct keyed_field {
    const char *key;  /* without the trailing ':' */
    size_t offset;    /* of a uint64_t in the output struct */
    uint64_t scale;   /* multiplier (1024 for "kB" files) */
};

#define KEYED_FIELD(type, key, member, scale) {key, offsetof(type, member), scale}

/*
 * Each line is "<key>[:] <number> [unit]". A listed key sets its field (value * scale); unknown
 * keys and lines that do not parse are skipped (a newer kernel may add any line). Fields whose
 * key does not appear are left as they were (callers pre-set them to OPT_ABSENT).
 * Returns the number of fields set.
 */
int keyed_parse(const char *buf, size_t len, const struct keyed_field *fields, size_t nfields,
                void *out);
