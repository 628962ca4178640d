/* /proc/meminfo and /proc/vmstat: the machine-wide memory picture. Sizes in bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sysroot;

struct meminfo {
    uint64_t mem_total, mem_free, mem_available, buffers, cached, swap_cached;
    uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable;
    uint64_t swap_total, swap_free, dirty, writeback, anon_pages, mapped, shmem;
    uint64_t kreclaimable, slab, sreclaimable, sunreclaim, kernel_stack, page_tables;
    uint64_t commit_limit, committed_as, vmalloc_used, percpu, hugetlb, zswap, zswapped;
};

struct vmstat {
    uint64_t oom_kill; /* since 4.13 */
    uint64_t pgmajfault, pswpin, pswpout;
    uint64_t pgscan_kswapd, pgscan_direct, pgsteal_kswapd, pgsteal_direct;
    uint64_t workingset_refault_anon, workingset_refault_file;
};

/* Fields not in the text stay OPT_ABSENT. */
int meminfo_parse(const char *buf, size_t len, struct meminfo *ret);
int meminfo_read(const struct sysroot *sr, struct meminfo *ret);
/* The kernel's own memory as the machine's summary shows it: Slab + KernelStack + PageTables
 * (an absent line counts 0). */
uint64_t meminfo_kernel(const struct meminfo *m);
int vmstat_parse(const char *buf, size_t len, struct vmstat *ret);
int vmstat_read(const struct sysroot *sr, struct vmstat *ret);
