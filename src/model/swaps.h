/*
 * Swap: the devices in /proc/swaps, zram's compression figures (Documentation/admin-guide/
 * blockdev/zram.rst: /sys/block/zramN/mm_stat) and whether zswap is on. Swap changes OOM
 * behaviour twice: it is reclaim's only way to free anonymous memory, and it is half of the
 * machine's totalpages (RAM + swap) that oom_score_adj is scaled by.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sysroot;

#define SWAPS_NAME_MAX 256

struct swap_device {
    char name[SWAPS_NAME_MAX]; /* as /proc/swaps prints it (octal escapes kept) */
    char type[16];             /* "partition", "file" */
    uint64_t size, used;       /* bytes */
    int64_t priority;
    /* zram: OPT_ABSENT when not zram or not readable */
    bool zram;
    uint64_t zram_orig, zram_compr, zram_mem_used; /* mm_stat: bytes stored, compressed, RAM used */
    char zram_algo[32];                            /* the [selected] comp_algorithm, "" unknown */
};

struct swaps {
    struct swap_device *v;
    size_t n;
    int zswap; /* /sys/module/zswap/parameters/enabled: 1 Y, 0 N, -1 unknown */
};

/* Parses /proc/swaps text (header line, then one device per line). Returns 0 or -ENOMEM. */
int swaps_parse(const char *buf, size_t len, struct swaps *ret);
/* Reads /proc/swaps, and zram and zswap under <root>/sys. Returns 0 or a negative errno (the
 * /proc/swaps read). */
int swaps_read(const struct sysroot *sr, struct swaps *ret);
void swaps_release(struct swaps *s);
