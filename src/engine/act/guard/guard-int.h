/*
 * The running guard's insides, private to engine/act/: guard.c runs it (the timer, the PSI
 * triggers, the memory floor, prepare and fire), guard-headroom.c watches limited cgroups,
 * guard-event.c writes what a decision did. Choosing (guard-choose.c) and killing
 * (guard-kill.c) are pure or I/O-only pieces with their API in guard.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard.h"
#include "guardband.h"
#include "engine/act/killer.h"
#include "base/buf.h"
#include "base/limits.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/oomdomain.h"
#include "model/proc/procs.h"
#include "model/proc/victims.h"

#define HEAP_RESERVE (4 * MiB)
#define SCRATCH_LEN (256 * 1024)
#define PIN_TRIES 16
/* the cgroup tree walked for new and changed limits this often without inotify; with it, when
 * its events say so, and this often as a fallback (guard-tree.c) */
#define CGROUP_REFRESH_MS 2000
#define CGROUP_REFRESH_IDLE_MS 60000
/* armed when the floor is this close in time at the assumed fill rate; the armed decision is
 * made again this often (or at twice its own cost, whichever is longer) */
#define ARM_HORIZON_MS 250
#define ARM_REFRESH_MS 250
#define FILL_SAMPLES 32

/* A decision made and its victim pinned, not yet carried out. */
struct prep {
    bool valid;
    char *cgroup; /* NULL: the node */
    struct proc_table procs;
    struct victim_list global, sub;
    struct oomdomain dom;
    bool have_dom;
    const struct victim_list *vl;
    struct policy_verdict *verdicts;
    struct guard_candidate *cand;
    size_t *order, n, ncand;
    struct kill_target t;
    struct guard_kill k;
    struct meminfo mi;
    uint64_t prepared_us, ranked_us;
};

struct gcg {
    char *path;
    int dirfd, psi_dirfd;
    uint64_t max; /* the limit at the latest refresh (the band follows it) */
    /* woken by the kernel (guard-wake.c): an inotify watch of memory.events (v2) or a usage
     * threshold's eventfd (v1); wake_line: the usage at which the kernel says so, 0 when it
     * cannot (wake_why says why: the cgroup is polled) */
    int wake_wd, wake_efd;
    struct loop_source *wake_src;
    uint64_t wake_line;
    const char *wake_why;
    uint64_t last_stall_us, last_failcnt, last_ms;
    /* the working set at the latest checks (a ring), for its recent growth rate */
    struct { uint64_t ms, wset; } hist[FILL_SAMPLES];
    unsigned nhist;
    struct prep *armed;     /* decided ahead while the working set is near the line; NULL */
    uint64_t armed_cost_us;
    bool primed;
    uint64_t cooldown_until;
    bool present;
};

/* a memory cgroup directory watched for the list's changes (guard-tree.c) */
struct gtree_watch {
    int wd;
    char *path;
};

struct gtrig {
    struct guard *g;
    int fd;
    struct loop_source *src;
    char *cgroup; /* NULL: the node */
    uint64_t first_ms, last_ms;
};

struct guard {
    struct loop *loop;
    const struct sysroot *sr;
    const struct guard_opts *o;
    const struct policy *policy;
    struct guard_event_sink sink;
    struct kver kernel;
    struct cgroup_hier hier;
    bool hier_ok;
    struct loop_source *tick;
    uint64_t global_cooldown_until;
    struct gcg *cgs;
    size_t ncgs;
    uint64_t cgs_refreshed_ms;
    struct gtrig *trig;
    size_t ntrig, trig_cap;
    uint64_t kills[GUARD_REASON_COUNT];
    struct guard_self self;
    pid_t pid;
    /* near the memory floor the machine-wide decision is made ahead and its victim pinned, so
     * that crossing the floor costs one pidfd_send_signal(), not a read of every process */
    struct prep armed;
    uint64_t armed_cost_us;
    struct guard_band *band; /* v2: memory.high a band under memory.max; NULL on v1 */
    int wake_ifd;            /* v2: inotify for the cgroups' memory.events; -1 */
    struct loop_source *wake_src;
    size_t wake_logged[2];   /* cgroups woken and polled, as last logged */
    uint64_t last_check_ms;
    int tree_ifd;            /* inotify on the cgroup tree; -1: walked on the timer */
    struct loop_source *tree_src;
    struct gtree_watch *tree;
    size_t ntree;
    bool tree_stale;         /* its events say the list may have changed */
    struct guard_thrash *thrash; /* guard-thrash.c's domains; NULL until the trigger first runs */
    char *scratch; /* cgroup.procs on the kill path */
    struct buf table, line;
};

/* guard.c */
void guard_prep_release(struct prep *p);
/* Snapshot, rank, order, pin. Returns 0 (p->k.chosen SIZE_MAX when nothing could be pinned) or
 * a negative errno. */
int guard_prepare(struct guard *g, const char *cgroup, struct prep *p);
/* Carries out a prepared decision: kill (unless dry-run), confirm, cooldown, log. Releases p. */
void guard_fire(struct guard *g, struct prep *p, enum guard_reason reason, const char *why,
                uint64_t trigger_us);
/* One decision in a domain, from scratch. */
void guard_decide(struct guard *g, enum guard_reason reason, const char *cgroup, const char *why,
                  uint64_t trigger_us);
/* Whether an armed decision is fresh enough to fire as it is. */
bool guard_armed_fresh(const struct prep *p, uint64_t cost_us, uint64_t t_us);
/* How often an armed decision is made again: ARM_REFRESH_MS, or twice what it costs. */
uint64_t guard_arm_refresh_us(uint64_t cost_us);

/* guard-headroom.c: the limited cgroups watched for headroom */
/* An empty list takes everything; else the first glob that matches. */
bool guard_glob_any(const struct config_list *l, const char *s);
/* The cgroups with a limit now, as the options select them (new ones opened, gone ones closed),
 * and their band brought to what the options say (put back where one is no longer watched). */
void guard_cgroups_refresh(struct guard *g);
void guard_cgroup_close(struct guard *g, struct gcg *c);
/* Headroom check of one cgroup; returns the ms until it could need a look again. */
uint64_t guard_cgroup_check(struct guard *g, struct gcg *c, uint64_t now_ms, uint64_t t_us);

/* guard.c: every check now, or at min-interval after the last one if that was sooner */
void guard_check_soon(struct guard *g);

/* guard-wake.c: the kernel's events for the watched cgroups */
int guard_wake_open(struct guard *g);
void guard_wake_close(struct guard *g);
/* (Re)arms a cgroup's event at its line (after the band is set: v2's line is memory.high). */
void guard_wake_watch(struct guard *g, struct gcg *c);
void guard_wake_unwatch(struct guard *g, struct gcg *c);
/* Whether the kernel will say when this cgroup needs a look (usage under its line, nothing
 * ranked ahead): then it needs no poll. */
bool guard_wake_covers(const struct gcg *c, const struct guard_look *l);
/* Logs how many cgroups are woken by events and how many polled, and why, when that changed. */
void guard_wake_summary(struct guard *g);

/* guard-tree.c: the cgroup tree's changes, so the list is walked when they happen */
void guard_tree_open(struct guard *g);
/* Watches the directories of `s` not watched yet (a walk's snapshot). */
void guard_tree_watch(struct guard *g, const struct cgroup_snapshot *s);
/* How often the tree is walked without an event saying so. */
uint64_t guard_tree_refresh_ms(const struct guard *g);
void guard_tree_close(struct guard *g);

/* guard-tree.c: the cgroup tree's changes, so the list is walked when they happen */
void guard_tree_open(struct guard *g);
/* Watches the directories of `s` not watched yet (a walk's snapshot). */
void guard_tree_watch(struct guard *g, const struct cgroup_snapshot *s);
/* How often the tree is walked without an event saying so. */
uint64_t guard_tree_refresh_ms(const struct guard *g);
void guard_tree_close(struct guard *g);

/* guard-thrash.c: the thrash trigger on the node and the watched cgroups (guardthrash.h); returns
 * the ms until it needs a look again */
uint64_t guard_thrash_check(struct guard *g, uint64_t now_ms, uint64_t t_us);
void guard_thrash_free(struct guard *g);

/* guard-event.c: what a decision did, as one JSON object and as text (with the table) */
void guard_event_write(const struct guard *g, const struct prep *p, enum guard_reason reason,
                       const char *why, uint64_t trigger_us, uint64_t avail_after,
                       struct buf *json, struct buf *text);
