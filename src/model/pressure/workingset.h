/*
 * Thrashing, from refaults: a refault is a page-cache page read again after reclaim dropped it
 * (mm/workingset.c: the eviction left a shadow entry, the next read finds it; counted in
 * workingset_refault_file, machine-wide in /proc/vmstat, per memcg in memory.stat on v2, and on
 * v1 where memory.stat prints it: Linux 6.1's memcg1_stats has it). Refaulted pages per second against the size of the page cache says whether the
 * cache is being re-read as fast as it is dropped, i.e. whether the working set fits.
 *
 * A rate needs two readings; the commands take the second after a short interval
 * (--interval, 1 s by default).
 *
 *   thrashing   >= 1 MiB/s re-read, and the whole file LRU is re-read within 10 s
 *   re-reading  >= 64 KiB/s re-read, and the whole file LRU within 60 s
 *   none        below
 *
 * Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct json;

enum thrash_level { THRASH_NONE, THRASH_REREADING, THRASH_THRASHING };

struct workingset {
    bool measured;        /* two readings of the counter, in order */
    double interval_s;    /* between them */
    uint64_t refaults;    /* pages refaulted in between */
    double bytes_per_s;   /* refaulted bytes per second */
    uint64_t cache;       /* the file LRUs (active + inactive file) at the second reading, bytes;
                             OPT_ABSENT when unknown */
    double turnover_s;    /* cache / bytes_per_s: how long a full re-read takes; < 0 when there
                             were no refaults or the cache is unknown */
    enum thrash_level level;
};

/*
 * From the counter read twice (pages; OPT_ABSENT when missing) interval_s apart. A counter that
 * went down (a cgroup removed and made again) or is missing leaves measured false.
 */
void workingset_assess(uint64_t refaults_before, uint64_t refaults_after, double interval_s,
                       long page_size, uint64_t cache, struct workingset *ret);

/* "none", "re-reading", "thrashing" */
const char *thrash_level_name(enum thrash_level l);

/* As a JSON object (docs/json/cgroup.md#refaults); null members when not measured. */
void workingset_json(const struct workingset *ws, struct json *j);
