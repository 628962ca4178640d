/*
 * The policy's reconciliation, private to engine/act/: reconcile.c runs it (passes, scans, new
 * cgroups), reconcile-procconn.c takes new processes from the proc connector, reconcile-track.c
 * keeps what was matched for the drift check, reconcile-verify.c looks again at new processes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "reconcile.h"
#include "policy.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "engine/runtime/taskstats.h"

struct loop;
struct loop_source;

/* a process or cgroup whose write failed: reported once, not at every pass */
struct failed {
    pid_t pid;
    uint64_t start_time;
    char *cgroup;
    int64_t after;
    bool seen; /* still there at the latest full pass */
};

/*
 * A process seen by a scan. Young ones are matched again at every scan: a new process usually
 * moves to its cgroup and execs its program in its first moments (runc init becomes the
 * container's entrypoint under the same PID; a shell moves itself and execs), after a scan may
 * already have seen it as what it was before.
 */
struct known {
    pid_t pid;
    uint64_t first_ms;
};
#define YOUNG_MS 5000

struct rwatch {
    int wd;
    char *path;
};

struct tracked {
    pid_t pid;
    int want_adj;   /* POLICY_ADJ_UNSET: no rule sets it */
    uint32_t cg;    /* index into cgnames */
    int adj_fd;     /* its oom_score_adj, kept open for the drift check; -1 */
};

/*
 * A process just matched whose oom_score_adj a rule sets, looked at again VERIFY_FIRST_MS and
 * VERIFY_SECOND_MS after the match (reconcile-verify.c): `round` looks done, the next at `due_ms`.
 */
struct recent {
    pid_t pid;
    int want_adj;
    unsigned round;
    uint64_t due_ms;
};
#define VERIFY_FIRST_MS 1000
#define VERIFY_SECOND_MS 5000
#define RECENT_MAX 4096

/*
 * With the proc connector, a process is read and matched PENDING_MS after its fork, exec, rename
 * or uid change: a fork is usually followed by an exec within that time (one read for both), and
 * a process that lived less is never read at all. The first event after a quiet spell starts a
 * batch, read PENDING_MS later; while events keep coming the timer repeats every PENDING_MS
 * (one wake-up a batch, the socket is not watched) and each tick reads the processes named
 * before the previous tick (so between PENDING_MS and twice that after their first event).
 * The wake-ups are most of what is left of the agent's CPU where taskstats names the new
 * processes: bench/guard on the 2-CPU test host measured 0.13-0.16% of a CPU at 100 ms against
 * 0.07-0.08% at 200 ms (20 new processes a second).
 */
#define PENDING_MS 200
/* A process named by an event: `parent` when it was a fork, 0 for an exec, rename or uid change
 * (which is always read); `old` once it has waited a tick. */
struct pend {
    pid_t pid, parent;
    bool old;
};
#define PENDING_MAX 65536
/* the initial PID namespace's /proc/PID/ns/pid inode, fixed since 3.8 (include/linux/proc_ns.h) */
#define PROC_PID_INIT_INO 0xEFFFFFFCu
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

struct reconcile {
    struct loop *loop;
    const struct sysroot *sr;
    const struct reconcile_opts *o;
    const struct policy *p;
    struct reconcile_sink sink;
    struct cgroup_hier hier;
    bool hier_ok;
    struct loop_source *scan_timer, *recheck_timer;
    struct known *known; /* the processes of the previous scan, sorted by pid */
    size_t nknown;
    uint64_t last_pid;   /* /proc/loadavg's at the previous scan; 0 unknown */
    uint64_t young_until_ms; /* a process of the previous scan is young until then */
    struct failed *failed;
    size_t nfailed;
    int ifd;
    struct rwatch *watches;
    size_t nwatches;
    /* the proc connector, when it can be used here (pcfd >= 0); else the scan timer */
    int pcfd;
    struct loop_source *pc_src, *pending_timer;
    struct pend *pending;
    size_t npending, pending_cap;
    bool pending_busy, pending_all; /* busy: the timer repeats, the socket is not watched */
    char source[256];
    /* the names of new processes from taskstats, where it can be asked (ts.fd >= 0), and why not */
    struct taskstats_conn ts;
    char names_why[160];
    /* with the connector: every process matched, what the rules wanted of it and the memory
     * cgroup it was matched in, for the drift check (sorted by pid; cgroup names interned) */
    struct tracked *tracked;
    size_t ntracked, tracked_cap, ngone;
    char **cgnames;
    size_t ncgnames;
    size_t nadj_fds, adj_fds_max; /* oom_score_adj files kept open, and how many may be */
    /* new processes to look at again (unsorted), and when the timer fires; UINT64_MAX: off */
    struct recent *recent;
    size_t nrecent, recent_cap;
    struct loop_source *verify_timer;
    uint64_t verify_due_ms;
    struct reconcile_stats stats;
    struct podnames names; /* for the cgroup rules that match on names */
};

/* reconcile.c */
/* Reads the processes `pids` (and, for `children` rules, their ancestors) and applies what the
 * rules ask for them. */
void reconcile_match_pids(struct reconcile *r, const pid_t *pids, size_t npids);
/* Everything, again: processes, cgroups, and the failures that are no longer there forgotten. */
void reconcile_full_pass(struct reconcile *r);
int reconcile_cmp_pid(const void *a, const void *b);

/* reconcile-track.c: with the connector, what each process was matched as */
/* The oom_score_adj of the processes of `t` that `only` marks (NULL: all) and a rule sets it for,
 * into their struct proc (has_adj); the others' is not read, no rule writes it. With the
 * connector each file read is left open in adj_fds[i] (one per process of `t`, -1 when none) for
 * reconcile_track; what it does not take, reconcile_adj_fds_close closes. */
void reconcile_read_adj(struct reconcile *r, struct policy_eval *e, struct proc_table *t,
                        const bool *only, int *adj_fds);
void reconcile_adj_fds_close(struct reconcile *r, int *adj_fds, size_t n);
/* Records what the rules want of the processes of `t` that `only` marks (NULL: all of them,
 * replacing every record), each with the file of adj_fds[i] (NULL: none), which it takes. */
void reconcile_track(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
                     const bool *only, int *adj_fds);
/* The oom_score_adj of `pid` now: through its record's open file when it has one, else by name.
 * 0 or a negative errno (gone: -ESRCH, -ENOENT). */
int reconcile_adj_now(struct reconcile *r, pid_t pid, int *ret);
void reconcile_tracked_drop(struct reconcile *r, pid_t pid);
/* Forked children (pid, parent; nothing else happened to them in the batch) recorded as their
 * parent was matched, when it is tracked: a child has its parent's comm, exe, command line, uid,
 * cgroup and oom_score_adj, so without `children` rules its verdict is the parent's and it need
 * not be read. The pid of each one recorded is set to 0. */
void reconcile_track_forks(struct reconcile *r, struct pend *forks, size_t n);
/* The oom_score_adj the rules wanted of `pid` when it was last matched; POLICY_ADJ_UNSET when
 * none, or when it is not tracked. */
int reconcile_tracked_want(struct reconcile *r, pid_t pid);
/* The recheck with the connector: what can change without an event, read and matched again. */
void reconcile_drift_check(struct reconcile *r);
/* Raises the open-file limit for the files the drift check keeps open. */
void reconcile_track_init(struct reconcile *r);
void reconcile_track_release(struct reconcile *r);

/* reconcile-verify.c: the second look at new processes */
/* Notes the processes of `t` that `only` marks whose oom_score_adj a rule sets, for a look again
 * soon (one already noted with the same wish keeps its schedule). */
void reconcile_verify_note(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
                           const bool *only);
/* Whether a change puts back a value the rules had already asked of that same process (noted
 * just now, or tracked with the connector) and that someone changed since. */
bool reconcile_verify_put_back(struct reconcile *r, const struct policy_change *c);
/* The timer: the looks that are due. */
int reconcile_on_verify(struct loop *l, void *ctx);
/* The rules changed: no more looks at what the old ones wanted. */
void reconcile_verify_forget(struct reconcile *r);
void reconcile_verify_release(struct reconcile *r);

/* reconcile-names.c: with the connector, new processes told apart by taskstats' answer */
/* Opens taskstats (r->ts), or notes why it cannot be used (r->names_why). */
void reconcile_names_open(struct reconcile *r);
void reconcile_names_close(struct reconcile *r);
/* For the log: "names from taskstats", or why /proc (taskstats cannot be asked, or the rules
 * match on more than it says). */
const char *reconcile_names_source(const struct reconcile *r);
/* Where the rules that set oom_score_adj match on nothing taskstats does not say: the processes
 * of pids[0..n) that no rule changes, recorded as matched (reconcile_track) without a read of
 * /proc, and the gone ones, taken out of pids; the others are left at its start, for
 * reconcile_match_pids. Returns how many are left. */
size_t reconcile_names_settle(struct reconcile *r, pid_t *pids, size_t n);

/* reconcile-procconn.c: new processes from the proc connector, or the scan */
/* The connector where it can be used, else the scan timer; r->source says which and why. */
void reconcile_choose_source(struct reconcile *r);
void reconcile_use_scan(struct reconcile *r, const char *why);
/* r->source with the connector: its events, the batch, where the names come from (the rules
 * decide: after a reload too) */
void reconcile_connector_source(struct reconcile *r);
/* The pending timer: the processes the connector named a tick ago or more, read at once. */
int reconcile_on_pending(struct loop *l, void *ctx);
