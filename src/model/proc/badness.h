/*
 * The kernel's OOM victim arithmetic: oom_badness() (mm/oom_kill.c) and the /proc/PID/oom_score
 * that proc_oom_score() (fs/proc/base.c) derives from it, in each form the kernel has had.
 *
 * `totalpages` is a parameter because it is the size of the OOM domain: RAM + swap for a global
 * OOM and for /proc/PID/oom_score, the memcg's limit (+ swap) for a memcg OOM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kver;
struct proc;

enum badness_algo {
    BADNESS_PERMILLE,        /* 2.6.36 - 3.4: 0..1000 per-mille of totalpages, -30 for root */
    BADNESS_PAGES_ROOTBONUS, /* 3.5 - 4.16: pages, -3% for CAP_SYS_ADMIN, floor 1 */
    BADNESS_PAGES,           /* 4.17 - 5.8: pages, floor 1 */
    BADNESS_SIGNED,          /* 5.9+: signed pages, no floor, LONG_MIN = ineligible */
};

/* Which variant a kernel uses. */
enum badness_algo badness_algo_for(const struct kver *k);
const char *badness_algo_name(enum badness_algo a);

/*
 * How the kernel breaks ties between equal points. Since 5.1 a later task in the scan replaces
 * the chosen one on a tie (`points < chosen_points` skips only lower ones); before, a chosen
 * thread-group leader was kept ("Prefer thread group leaders for display purposes").
 */
bool badness_later_wins_ties(const struct kver *k);

struct badness_input {
    bool eligible;        /* not init, not a kernel thread, has an mm, adj > -1000 */
    uint64_t rss_pages;   /* MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES */
    uint64_t swap_pages;  /* MM_SWAPENTS */
    uint64_t pgtables_pages;
    int adj;              /* oom_score_adj */
    bool cap_sys_admin;   /* only used by the pre-4.17 root bonus */
    uint64_t file_pages;   /* MM_FILEPAGES, part of rss_pages (RssFile) */
    uint64_t locked_pages; /* mm->locked_vm (VmLck): what mlock() keeps resident */
};

/*
 * Which reading of a task's RSS the kernel's oom_badness() uses.
 *
 * Since 6.2 (f1a7941243c1) the mm RSS counters are per-CPU. get_mm_rss() reads the approximate
 * global part, and that is what oom_badness() scored with, and what /proc/PID/stat's rss field
 * (24) prints. /proc/PID/status may instead print the exact per-CPU sums: on this project's
 * 6.18 test kernel it does, and a 600 MiB allocation scored from status mispredicted
 * /proc/PID/oom_score at 509 of 153,600 steps while stat's rss got all of them right.
 * "mm: fix OOM killer inaccuracy on large many-core systems" (mainline 6.19, Jan 2026, taken into
 * stable trees) switched oom_badness() to the exact sums. So:
 *   RSS_FROM_STAT:   get_mm_rss(), /proc/PID/stat field 24 (every kernel without that fix; before
 *                    6.2 both files read the same counters)
 *   RSS_FROM_STATUS: the exact sums /proc/PID/status shows on recent kernels
 */
enum rss_source { RSS_FROM_STAT, RSS_FROM_STATUS };

/*
 * Fills `in` from a snapshot entry (read with STAT|STATUS|OOM). `is_init` marks the namespace's
 * global init (pid 1 of the machine being read). Returns false when the process lacks the data
 * to score it.
 */
bool badness_input_from_proc(const struct proc *p, long page_size, bool is_init,
                             enum rss_source src, struct badness_input *in);

/*
 * What oom_badness() counts when a machine-wide OOM comes, from what it counts now: the file
 * pages but for those mlock() keeps are assumed gone. out_of_memory() runs only once direct
 * reclaim has failed at every priority, and reclaim unmaps mapped file pages too (try_to_unmap()
 * drops MM_FILEPAGES): in the kill lines of the node image's cascades (tests/vm/node,
 * node-global-oom) every idle daemon showed file-rss:0kB while anon, shmem, swap entries and page
 * tables were what they had been before the squeeze. An assumption, not a reading: a process
 * that keeps executing while memory runs out can keep its hot text pages (reclaim gives
 * referenced VM_EXEC pages another trip on the active list), and with swap, shmem can be swapped
 * out and then counts nowhere in the mm. Mlocked pages sit on the unevictable list: at most
 * min(RssFile, VmLck) file pages stay. A memcg OOM is scored with the counters as they are: its
 * reclaim takes only the pages charged to that memcg, and /proc does not say which of a
 * process's mapped file pages those are.
 */
void badness_input_at_global_oom(struct badness_input *in);

/*
 * How far apart the two readings can be, in pages, on a 6.2+ kernel: each of the four counters
 * (file, anon, shmem, swap) holds up to batch - 1 unflushed pages per CPU, batch being
 * max(32, 2 * ncpus) (lib/percpu_counter.c). 0 before 6.2. The swap count is always taken from
 * status, so this also bounds the model's error when swap is in use.
 */
uint64_t badness_counter_error_pages(const struct kver *k, unsigned ncpus);

/*
 * oom_badness(). Returns false for an ineligible task (the kernel's LONG_MIN or 0), else true with
 * the points in *ret (pages for the page-based variants, 1..1000 for BADNESS_PERMILLE).
 */
bool badness_points(enum badness_algo a, const struct badness_input *in, uint64_t totalpages,
                    int64_t *ret);

/* The value /proc/PID/oom_score shows for these points (0 when ineligible). */
uint64_t badness_oom_score(enum badness_algo a, bool eligible, int64_t points, uint64_t totalpages);

/*
 * Ranks candidates the way the OOM killer picks them, repeatedly: highest points first; equal
 * points ordered by the task-list scan (start time, then pid) per badness_later_wins_ties();
 * ineligible ones last, by pid. `order` receives indices into the arrays.
 */
struct badness_candidate {
    bool eligible;
    int64_t points;
    uint64_t scan_key_hi; /* start time */
    uint64_t scan_key_lo; /* pid */
};
void badness_rank(const struct badness_candidate *c, size_t n, bool later_wins, size_t *order);
