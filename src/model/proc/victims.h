/*
 * "Who dies next": the processes of an OOM domain in the order the kernel's OOM killer would
 * kill them, with each one's badness and the oom_score the model derives from it.
 *
 * The order is the kernel's repeated choice (highest badness, ties by task-list order), which is
 * also the cascade order when each kill frees too little, as in the node-crash incidents. For a
 * machine-wide OOM the badness is the one the OOM will find: reclaim has taken the file pages
 * by then (badness_input_at_global_oom()); /proc/PID/oom_score is of the counters as they are.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "badness.h"
#include "model/kver.h"

struct proc;
struct proc_table;
struct meminfo;

struct victim {
    const struct proc *proc;
    bool scored;    /* the snapshot had what the formula needs (status + oom files) */
    bool eligible;  /* the kernel would consider it */
    int64_t badness;     /* pages (or per-mille on 2.6.36-3.4) when the domain's OOM comes, the
                            rank's key; valid when eligible */
    int64_t badness_now; /* the same with the counters as read (oom_score's); equal to badness
                            but for a machine-wide OOM */
    uint64_t oom_score_model;  /* what /proc/PID/oom_score should say, for the *global* domain */
    size_t rank;               /* 1-based kill order in this domain; 0 = never */
};

struct victim_list {
    struct victim *v; /* kill order: eligible first, then the rest by pid */
    size_t n;
    uint64_t totalpages;        /* the domain's size in pages */
    uint64_t global_totalpages; /* RAM + swap, what oom_score is relative to */
    enum badness_algo algo;
    bool later_wins_ties;
    enum rss_source rss_source;
    const char *rss_source_reason; /* static text: why this source */
    bool at_global_oom; /* badness is at a machine-wide OOM (file pages reclaimed) */
};

/* What victims_rank() needs besides the processes. */
struct victim_params {
    const struct kver *kernel;
    long page_size;
    uint64_t totalpages;        /* the OOM domain */
    uint64_t global_totalpages; /* RAM + swap */
    /* Optional, per process: its position in the kernel's scan, which breaks ties between equal
     * points. NULL: the global task list (start time, then pid). A memcg OOM scans cgroup by
     * cgroup instead (mem_cgroup_scan_tasks(): the memcg subtree in pre-order). */
    const uint64_t *scan_order;
    /* A machine-wide OOM: rank by the badness once reclaim has taken the file pages
     * (badness_input_at_global_oom()). */
    bool at_global_oom;
};

/* totalram_pages() + total_swap_pages, from /proc/meminfo. */
uint64_t victims_global_totalpages(const struct meminfo *mi, long page_size);

/*
 * Which RSS reading the kernel scores with (see enum rss_source). It depends on a backport, so it
 * is decided by the processes whose two readings predict different oom_score values: the
 * kernel's own /proc/PID/oom_score says which one it used (a property of the kernel, like a
 * feature probe; each process is then scored from its own counters). Without such a process,
 * by version: the exact sums from 6.19 on. *ret_reason gets a static explanation.
 */
enum rss_source victims_detect_rss_source(const struct proc *const *procs, size_t n,
                                          const struct victim_params *vp, const char **ret_reason);

/*
 * Ranks `procs` (pointers into a snapshot taken with STAT|STATUS|OOM, optionally SMAPS) for an
 * OOM domain of vp->totalpages pages: the global size for a machine-wide OOM, a memcg's limit
 * (+ swap) for a memcg OOM. Returns 0 or -ENOMEM.
 */
int victims_rank(const struct proc *const *procs, size_t n, const struct victim_params *vp,
                 struct victim_list *ret);

/* Every process of the snapshot, global domain. */
int victims_rank_global(const struct proc_table *t, const struct kver *k, const struct meminfo *mi,
                        long page_size, struct victim_list *ret);

void victim_list_release(struct victim_list *l);

struct json;
/* A victim in JSON, the members every output shares, into the object being written: "rank",
 * "pid", "comm", "oom_score_adj", "badness" (pages, at the OOM), "badness_now" (pages, the
 * counters as read), "memory" (resident + swap, bytes: what the kill gives back) and "cgroup"
 * (proc_cgroup_path). */
void victim_json_fields(const struct victim *v, struct json *j);
