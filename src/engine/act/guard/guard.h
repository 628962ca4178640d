/*
 * The guard: a userspace OOM killer that acts before the kernel's, and chooses as the kernel
 * would, minus the mistakes the policy names.
 *
 * Triggers (each checked on an adaptive timer, and at once when a PSI trigger fires):
 *   memory floor     MemAvailable below the floor and, when there is swap, SwapFree below its
 *                    floor (earlyoom's rule): a machine-wide kill
 *   cgroup headroom  a limited cgroup whose working set (usage minus inactive page cache, as
 *                    kubelet counts it) is within `headroom` of its limit AND stalling (its memory
 *                    PSI grew by `stall` of the time since the last check; v1: or its failcnt
 *                    grew): a kill in that memcg's OOM domain, ranked from that cgroup's own
 *                    processes
 *   psi              optional: a PSI trigger that keeps firing for `psi-kill-after`
 *   thrash           optional: the node or a watched cgroup frozen on its own page cache, PSI
 *                    `full` and file refaults together, sustained (guardthrash.h)
 *
 * Choice: the kernel's own ranking for the OOM domain in question (oom_badness() with the
 * domain's totalpages, the task-list or memcg scan order for ties: victims.h, oomdomain.h), then
 * the policy's weights as tiers: every `prefer` candidate before every normal one, `avoid` only
 * when nothing else is left; `protect`, oom_score_adj -1000, PID 1, kernel threads and oomwarden
 * itself never. The first candidates are pinned with pidfds before one is chosen, so a process
 * that exited (and a PID handed to someone else) is skipped, never hit.
 *
 * Kill: SIGKILL through the pidfd, process_mrelease(), wait for the exit, read memory again;
 * or the whole cgroup (cgroup.kill on v2 5.14+, else every process of cgroup.procs through its
 * own pidfd) when the rule says kill-unit = cgroup. After a kill the domain is left alone until
 * its trigger is seen clear (memory back above the floor, usage back under the headroom line:
 * the episode is over), or for `cooldown` while it is not: one episode, one kill; a second only
 * when the first freed too little for that long.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/config.h"
#include "engine/runtime/psitrig.h"
#include "engine/act/policy.h"
#include "guardthrash.h"

struct proc;
struct victim_list;
struct sysroot;
struct cgroup_hier;
struct loop;

enum guard_reason {
    GUARD_REASON_MEMORY_FLOOR,
    GUARD_REASON_CGROUP_HEADROOM,
    GUARD_REASON_PSI,
    GUARD_REASON_THRASH,
    GUARD_REASON_COUNT,
};
const char *guard_reason_name(enum guard_reason r);

/* "5%" or "256M": an amount given as a size or as a percentage of something. */
struct guard_amount {
    uint64_t bytes;
    unsigned percent; /* 1..100; 0 when bytes */
};
int guard_amount_parse(const char *s, struct guard_amount *ret);
uint64_t guard_amount_of(const struct guard_amount *a, uint64_t total);

struct guard_opts {
    bool dry_run;
    struct guard_amount memory_floor, swap_floor;
    uint64_t fill_rate;                      /* bytes/s assumed for the adaptive interval */
    uint64_t min_interval_ms, max_interval_ms;
    bool has_psi;
    struct psi_trigger_spec psi;
    const struct config_list *psi_cgroups;   /* cgroups that get the PSI trigger too */
    uint64_t psi_kill_after_ms;              /* 0: PSI only wakes the checks */
    const struct config_list *cgroups;       /* limited cgroups watched for headroom */
    struct guard_amount headroom;
    struct guard_amount band;                /* memory.high this far under memory.max (v2) */
    unsigned stall_percent;                  /* of the time since the last check */
    uint64_t cooldown_ms, kill_timeout_ms;
    unsigned table_rows;                     /* candidate rows logged per decision */
    bool thrash;                             /* the thrash trigger, with these lines */
    struct thrash_opts thrash_lines;
};

/* One row of the candidate table. */
struct guard_candidate {
    const struct proc *proc;
    bool eligible;      /* the kernel would consider it in this domain */
    int64_t badness;    /* in this domain (pages); valid when eligible */
    size_t kernel_rank; /* 1-based in the kernel's kill order; 0 = never */
    struct policy_verdict verdict;
    const char *excluded; /* static: why the guard never takes it; NULL for a candidate */
    size_t order;         /* 1-based in the guard's order; 0 when excluded */
};

/*
 * Fills the candidate rows from a domain's ranking (victims.v in kernel order) and the policy's
 * verdicts (`verdicts[k]` for vl->v[k]; NULL: no policy), and orders them: candidates by weight
 * tier, then kernel order; excluded rows last. `self` is the guard's own pid. `order` (n) gets
 * indices into `c`. Returns the number of candidates. Pure: no I/O.
 */
size_t guard_order(const struct victim_list *vl, const struct policy_verdict *verdicts, pid_t self,
                   struct guard_candidate *c, size_t *order);

/* The outcome of one kill attempt. */
struct guard_kill {
    size_t chosen;          /* index into the candidates; SIZE_MAX when none could be pinned */
    size_t vanished;        /* candidates skipped because they exited or their PID was reused */
    enum kill_unit unit;
    bool cgroup_kill_file;  /* cgroup.kill was used */
    unsigned signalled;     /* processes sent SIGKILL */
    bool exited;            /* the chosen process exited within the timeout */
    int mrelease;           /* process_mrelease() result: 0, or -errno */
    int error;              /* the signal failed: -errno */
    uint64_t signal_us, exit_us; /* CLOCK_MONOTONIC microseconds */
    /* usage of the victim's memory cgroup just before the signal and once it exited; OPT_ABSENT
     * when not read (the root cgroup, no memory controller there, no exit) */
    uint64_t cg_usage_before, cg_usage_after;
};

/*
 * What a kill gave back: the drop of the victim's memory cgroup's usage from just before the
 * signal to its exit ("cgroup"), or, when that was not read or did not drop (others charged more
 * meanwhile), what the victim held at the decision, resident + swap ("process"). Never a
 * machine-wide MemAvailable difference: that moves with every other process, and said 232K came
 * back for a 27 MiB kill. Pure.
 */
void guard_freed(const struct guard_kill *k, const struct proc *victim, uint64_t *bytes,
                 const char **from);

/*
 * Pins the candidates in order (pidfd, then the start time from the snapshot compared), takes
 * the first that is still the process that was ranked, and kills it (its kill unit), unless
 * `dry_run`. `n` is every row guard_order() filled (vl->n), excluded ones included: a cgroup kill
 * spares those. `scratch` is space for reading cgroup.procs (no allocation here).
 * Returns 0 (also when nothing could be pinned: k->chosen SIZE_MAX) or a negative errno.
 */
int guard_kill_first(const struct sysroot *sr, const struct cgroup_hier *h,
                     struct guard_candidate *c, const size_t *order, size_t n, pid_t self,
                     bool dry_run, uint64_t timeout_ms, char *scratch, size_t scratch_len,
                     struct guard_kill *k);

/* The two halves of guard_kill_first(): pinning (-ESRCH when no candidate could be pinned; `t`
 * gets the pidfd), and the kill of k->chosen through that pidfd. */
struct kill_target;
int guard_pin_first(const struct sysroot *sr, struct guard_candidate *c, const size_t *order,
                    size_t ncand, pid_t self, struct kill_target *t, struct guard_kill *k);
int guard_kill_pinned(const struct sysroot *sr, const struct cgroup_hier *h,
                      struct guard_candidate *c, size_t n, pid_t self, struct kill_target *t,
                      uint64_t timeout_ms, char *scratch, size_t scratch_len, struct guard_kill *k);

/* Writes the candidate table (first `rows` in guard order, then a count of the rest). */
int guard_table_text(const struct policy *p, const struct guard_candidate *c, const size_t *order,
                     size_t n, size_t rows, long page_size, struct buf *out);

/*
 * One look at a cgroup the guard watches for headroom: usage and its limit, the headroom that
 * limit gives (guard_amount_of()), the working set (usage minus inactive page cache, read from
 * memory.stat only when usage is within twice the headroom of the limit; else usage), the
 * cumulative `some` memory stall (µs; OPT_ABSENT without PSI for it) and the limit-hit counter
 * (v2 memory.events max, v1 memory.failcnt; OPT_ABSENT when unread).
 */
struct guard_look {
    uint64_t usage, limit, room, wset, stall_us, failcnt;
};
/* Reads one look from an open cgroup directory (`psi_dirfd`: the directory of its
 * memory.pressure, or -1). Returns 0; -ENODATA when the cgroup has no limit now (v2 "max", v1
 * PAGE_COUNTER_MAX pages, as cgroup_read_limit_at() reads them); or a read's negative errno. */
int guard_look_at(const struct cgroup_hier *h, int dirfd, int psi_dirfd,
                  const struct guard_amount *headroom, struct guard_look *ret);

/* ---- the running guard (agent) --------------------------------------------------------------- */

struct guard;

struct guard_event_sink {
    /* one event as a JSON object (no newline) and as one line of text */
    void (*event)(void *ctx, const char *json, const char *text);
    void *ctx;
};

/*
 * Starts the guard on the loop: self-protection (mlockall, oom_score_adj -1000, a heap reserve),
 * the adaptive check timer and the PSI triggers. `policy` and `o` must outlive it (the agent swaps
 * them only through guard_reconfigure()). Returns 0 or a negative errno.
 */
int guard_start(struct loop *l, const struct sysroot *sr, const struct guard_opts *o,
                const struct policy *policy, const struct guard_event_sink *sink,
                struct guard **ret);
void guard_reconfigure(struct guard *g, const struct guard_opts *o, const struct policy *policy);
void guard_stop(struct guard *g);
/* Kills so far by reason (read from any thread). Dry-run decisions count as kills. */
uint64_t guard_kills(const struct guard *g, enum guard_reason r);
/* What self-protection achieved, for /healthz and the log. */
struct guard_self {
    bool mlocked;
    int own_adj;
};
void guard_self_state(const struct guard *g, struct guard_self *ret);
