/*
 * Proactive reclaim of one cgroup through memory.reclaim (cgroup v2, 5.19+, 94968384dde1):
 * writing N makes the kernel reclaim about N bytes from the cgroup and its descendants, as
 * memory pressure would, without a limit being hit. It returns EAGAIN when, after
 * MAX_RECLAIM_RETRIES (16) rounds without progress, it got less than N (6.1 mm/memcontrol.c
 * memory_reclaim()); anonymous memory can go only where there is swap (or zswap).
 *
 * cgroup v1 has no such file: memory.force_empty reclaims everything it can (no size) and is
 * meant for a cgroup about to be removed; this module does not use it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model/cgroup/cgroup.h"

struct reclaim_result {
    struct cgroup_memory before, after;
    uint64_t asked;
    int write_error; /* 0; -EAGAIN: the kernel got less than asked; another -errno */
    double seconds;  /* the write's duration */
    bool dry_run;
};

/*
 * Reads the cgroup, writes `bytes` to memory.reclaim (not with dry_run), reads it again.
 * Returns 0 (see ret->write_error), -ENOENT when there is no such cgroup, -EOPNOTSUPP when
 * the cgroup has no memory.reclaim (v1, or v2 before 5.19), another negative errno.
 */
int reclaim_cgroup(const struct cgroup_hier *h, const char *path, uint64_t bytes, bool dry_run,
                   struct reclaim_result *ret);
void reclaim_result_release(struct reclaim_result *r);
