/* With the proc connector, what each process was matched as (its wanted oom_score_adj, its
 * memory cgroup), kept true by the events, and the drift check that reads only what can change
 * without one. */
#include "reconcile-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/limits.h"
#include "base/sys/clock.h"
#include "base/sys/fileio.h"
#include "model/sysroot.h"

static uint32_t cg_intern(struct reconcile *r, const char *path)
{
    /* a handful of paths per node; a linear look is cheaper than keeping an index */
    for (size_t i = 0; i < r->ncgnames; i++)
        if (strcmp(r->cgnames[i], path) == 0)
            return (uint32_t)i;
    char **v = realloc(r->cgnames, (r->ncgnames + 1) * sizeof(*v));
    char *d = strdup(path);
    if (!v || !d) {
        free(d);
        if (v)
            r->cgnames = v;
        return UINT32_MAX;
    }
    r->cgnames = v;
    r->cgnames[r->ncgnames] = d;
    return (uint32_t)r->ncgnames++;
}

static int cmp_tracked(const void *a, const void *b)
{
    const struct tracked *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static struct tracked *tracked_find(struct reconcile *r, pid_t pid)
{
    struct tracked key = {.pid = pid};
    return r->ntracked ? bsearch(&key, r->tracked, r->ntracked, sizeof(key), cmp_tracked) : NULL;
}

static void tracked_close(struct reconcile *r, struct tracked *t)
{
    if (t->adj_fd >= 0) {
        close(t->adj_fd);
        r->nadj_fds--;
    }
    t->adj_fd = -1;
}

static void tracked_close_all(struct reconcile *r)
{
    for (size_t i = 0; i < r->ntracked; i++)
        tracked_close(r, &r->tracked[i]);
}

/* An exit: the record stays as a tombstone (the array stays sorted for bsearch without a
 * memmove per exit) until there are many of them. */
#define TRACKED_GONE INT32_MAX
void reconcile_tracked_drop(struct reconcile *r, pid_t pid)
{
    struct tracked *t = tracked_find(r, pid);
    if (!t || t->want_adj == TRACKED_GONE)
        return;
    t->want_adj = TRACKED_GONE;
    tracked_close(r, t);
    if (++r->ngone > r->ntracked / 4) {
        size_t k = 0;
        for (size_t i = 0; i < r->ntracked; i++)
            if (r->tracked[i].want_adj != TRACKED_GONE)
                r->tracked[k++] = r->tracked[i];
        r->ntracked = k;
        r->ngone = 0;
    }
}

int reconcile_tracked_want(struct reconcile *r, pid_t pid)
{
    const struct tracked *t = tracked_find(r, pid);
    return t && t->want_adj != TRACKED_GONE ? t->want_adj : POLICY_ADJ_UNSET;
}

static bool tracked_reserve(struct reconcile *r, size_t n)
{
    if (n <= r->tracked_cap)
        return true;
    size_t cap = r->tracked_cap ? r->tracked_cap : 1024;
    while (cap < n)
        cap *= 2;
    struct tracked *v = realloc(r->tracked, cap * sizeof(*v));
    if (!v)
        return false;
    r->tracked = v;
    r->tracked_cap = cap;
    return true;
}

/* The `nadd` records after the sorted `before` ones, sorted and merged in, from the back. */
static void tracked_merge(struct reconcile *r, size_t before, size_t nadd)
{
    if (!nadd)
        return;
    struct tracked *add = r->tracked + before;
    qsort(add, nadd, sizeof(*add), cmp_tracked);
    /* the new ones are copied out so the merge can write over their place */
    struct tracked *tmp = malloc(nadd * sizeof(*tmp));
    if (!tmp) {
        r->ntracked = before;
        return;
    }
    memcpy(tmp, add, nadd * sizeof(*tmp));
    size_t i = before, k = nadd, o = before + nadd;
    while (k > 0) {
        if (i > 0 && r->tracked[i - 1].pid > tmp[k - 1].pid)
            r->tracked[--o] = r->tracked[--i];
        else
            r->tracked[--o] = tmp[--k];
    }
    free(tmp);
    r->ntracked = before + nadd;
}

void reconcile_track_forks(struct reconcile *r, struct pend *forks, size_t n)
{
    if (r->pcfd < 0 || !n || !tracked_reserve(r, r->ntracked + n))
        return;
    size_t before = r->ntracked, nadd = 0;
    for (size_t i = 0; i < n; i++) {
        struct tracked *pt = before ? bsearch(&(struct tracked){.pid = forks[i].parent},
                                              r->tracked, before, sizeof(*pt), cmp_tracked) : NULL;
        if (!pt || pt->want_adj == TRACKED_GONE)
            continue;
        struct tracked rec = {.pid = forks[i].pid, .want_adj = pt->want_adj, .cg = pt->cg,
                              .adj_fd = -1};
        struct tracked *old = bsearch(&rec, r->tracked, before, sizeof(rec), cmp_tracked);
        if (old) {
            /* a record of an earlier process of that pid whose exit was not seen */
            r->ngone -= old->want_adj == TRACKED_GONE;
            tracked_close(r, old);
            *old = rec;
        } else {
            r->tracked[before + nadd++] = rec;
        }
        forks[i].pid = 0;
    }
    tracked_merge(r, before, nadd);
}

/*
 * Records what the rules want of the processes of `t` that `only` marks (NULL: all of them,
 * replacing every record: a full pass). Only with the connector, whose events keep the records
 * true between passes.
 */
void reconcile_track(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
                     const bool *only, int *adj_fds)
{
    if (r->pcfd < 0)
        return;
    if (!only) {
        tracked_close_all(r);
        r->ntracked = r->ngone = 0;
        for (size_t i = 0; i < r->ncgnames; i++)
            free(r->cgnames[i]);
        r->ncgnames = 0;
    }
    size_t before = r->ntracked, nadd = 0;
    if (!tracked_reserve(r, before + t->n))
        return;
    /* updates in place; new ones after the sorted part, sorted, then merged from the back */
    for (size_t i = 0; i < t->n; i++) {
        if (only && !only[i])
            continue;
        const struct proc *p = &t->v[i];
        struct policy_verdict v;
        policy_eval_proc(e, i, &v);
        const char *cg = proc_memcg_path(p, r->hier.memory_version);
        struct tracked rec = {.pid = p->pid, .want_adj = v.adj,
                              .cg = cg ? cg_intern(r, cg) : UINT32_MAX, .adj_fd = -1};
        /* the file the match read its oom_score_adj through is the record's from now on */
        if (adj_fds && adj_fds[i] >= 0) {
            rec.adj_fd = adj_fds[i];
            adj_fds[i] = -1;
        }
        struct tracked *old = before ? bsearch(&rec, r->tracked, before, sizeof(rec),
                                               cmp_tracked) : NULL;
        if (old) {
            r->ngone -= old->want_adj == TRACKED_GONE;
            /* the same process (an exit event would have closed it): its file stays open while
             * a rule sets its oom_score_adj */
            if (rec.want_adj != POLICY_ADJ_UNSET && rec.adj_fd < 0) {
                rec.adj_fd = old->adj_fd;
                old->adj_fd = -1;
            }
            tracked_close(r, old);
            *old = rec;
        } else {
            r->tracked[before + nadd++] = rec;
        }
    }
    tracked_merge(r, before, nadd);
}

/* Marks in `moved` the tracked processes that are in another memory cgroup than they were
 * matched in: one read of each cgroup's cgroup.procs. */
static void find_moved(struct reconcile *r, bool *moved)
{
    struct cgroup_snapshot s;
    /* no rule that sets oom_score_adj matches on the cgroup: a move changes no verdict */
    if (!(policy_adj_proc_fields(r->p) & PROC_READ_CGROUP))
        return;
    if (!r->hier_ok || !r->hier.memory_version ||
        cgroup_snapshot_read_limits(&r->hier, "/", CGROUP_WALK_MAX_DEPTH, &s) < 0)
        return;
    pid_t *pids = NULL;
    size_t pcap = 0;
    for (size_t i = 0; i < s.n; i++) {
        int dfd = cgroup_open_dir(&r->hier, s.v[i].path);
        size_t np = 0;
        if (dfd < 0)
            continue;
        (void)cgroup_procs_append_at(dfd, &pids, &np, &pcap);
        close(dfd);
        for (size_t k = 0; k < np; k++) {
            struct tracked *t = tracked_find(r, pids[k]);
            if (t && t->want_adj != TRACKED_GONE &&
                (t->cg == UINT32_MAX || strcmp(r->cgnames[t->cg], s.v[i].path) != 0))
                moved[t - r->tracked] = true;
        }
    }
    free(pids);
    cgroup_snapshot_release(&s);
}

/*
 * A process's oom_score_adj now, through *fd when it is open; else the file is opened and kept in
 * *fd while fewer than adj_fds_max are (a pread of an open /proc file costs a fraction of a lookup
 * of /proc/PID by name, and an open file of a process that exited reads ESRCH, never another
 * process's value), or read by name when fd is NULL or no file may be kept. 0, or a negative errno
 * (-ESRCH, -ENOENT: gone).
 */
static int adj_read(struct reconcile *r, pid_t pid, int *fd, int *ret)
{
    char b[16];
    int n = -1;
    if (!fd || *fd < 0) {
        char path[32];
        snprintf(path, sizeof(path), "%d/oom_score_adj", (int)pid);
        if (fd && r->nadj_fds < r->adj_fds_max &&
            (*fd = openat(r->sr->proc_fd, path, O_RDONLY | O_CLOEXEC)) >= 0)
            r->nadj_fds++;
        else
            n = read_small_at(r->sr->proc_fd, path, b, sizeof(b));
    }
    if (fd && *fd >= 0) {
        ssize_t k = pread(*fd, b, sizeof(b), 0);
        n = k < 0 ? -errno : (int)k;
    }
    if (n <= 0)
        return n < 0 ? n : -ESRCH; /* empty: a task exiting */
    int64_t adj;
    struct cursor c = cursor_make(b, (size_t)n);
    if (cursor_i64(&c, &adj) < 0 || adj < -1000 || adj > 1000)
        return -EBADMSG;
    *ret = (int)adj;
    return 0;
}

/* The cgroup of a process read without it (PROC_READ_CGROUP); left unknown when it is gone. */
static void read_cgroup(struct reconcile *r, struct proc *p)
{
    struct buf scratch = BUF_INIT(CAP_KERNEL_FILE);
    struct proc c;
    if (procs_read_one(r->sr, p->pid, PROC_READ_CGROUP, &scratch, &c) == 0) {
        free(p->cgroup);
        free(p->cgroup_unified);
        p->cgroup = c.cgroup;
        p->cgroup_unified = c.cgroup_unified;
        p->cgroup_is_v1 = c.cgroup_is_v1;
        c.cgroup = c.cgroup_unified = NULL;
        proc_release(&c);
    }
    buf_release(&scratch);
}

void reconcile_read_adj(struct reconcile *r, struct policy_eval *e, struct proc_table *t,
                        const bool *only, int *adj_fds)
{
    for (size_t i = 0; i < t->n; i++) {
        adj_fds[i] = -1;
        struct proc *p = &t->v[i];
        if ((only && !only[i]) || p->kernel_thread)
            continue;
        struct policy_verdict v;
        policy_eval_proc(e, i, &v);
        if (v.adj == POLICY_ADJ_UNSET)
            continue;
        /* with the connector the file is kept for the record (reconcile_track); a scan keeps
         * no records */
        p->has_adj = adj_read(r, p->pid, r->pcfd >= 0 ? &adj_fds[i] : NULL,
                              &p->oom_score_adj) == 0;
        /* a change names the process's cgroup: read for it when the rules did not need it */
        if (p->has_adj && p->oom_score_adj != v.adj && !(t->fields & PROC_READ_CGROUP))
            read_cgroup(r, p);
    }
}

void reconcile_adj_fds_close(struct reconcile *r, int *adj_fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (adj_fds[i] >= 0) {
            close(adj_fds[i]);
            r->nadj_fds--;
        }
        adj_fds[i] = -1;
    }
}

int reconcile_adj_now(struct reconcile *r, pid_t pid, int *ret)
{
    struct tracked *t = tracked_find(r, pid);
    return adj_read(r, pid, t && t->want_adj != TRACKED_GONE ? &t->adj_fd : NULL, ret);
}

/* Whether a process's oom_score_adj is no longer what its rule wants. */
static bool adj_drifted(struct reconcile *r, struct tracked *t)
{
    int adj;
    return adj_read(r, t->pid, &t->adj_fd, &adj) == 0 && adj != t->want_adj;
}

/*
 * The drift check with the connector, every recheck-interval. Its events say when a process
 * starts, execs, renames itself or changes uid, so what the rules match on cannot change
 * unseen, but for two things: its memory cgroup (a move without exec) and its oom_score_adj
 * written by someone else (one pread per process a rule sets it for). Those are read and matched
 * again. A full pass reads four files per process by name (0.6 s at 5,000 processes on the 6.18
 * test host); bench/guard has this one's cost.
 */
void reconcile_drift_check(struct reconcile *r)
{
    uint64_t t0 = clock_mono_us();
    pid_t *again = NULL;
    size_t nagain = 0, cap = 0;
    bool *moved = calloc(r->ntracked ? r->ntracked : 1, sizeof(*moved));
    if (!moved)
        return;
    find_moved(r, moved);
    for (size_t i = 0; i < r->ntracked; i++) {
        struct tracked *t = &r->tracked[i];
        if (t->want_adj == TRACKED_GONE)
            continue;
        if (!moved[i] && (t->want_adj == POLICY_ADJ_UNSET || !adj_drifted(r, t)))
            continue;
        if (nagain == cap) {
            cap = cap ? cap * 2 : 64;
            pid_t *v = realloc(again, cap * sizeof(*v));
            if (!v)
                break;
            again = v;
        }
        again[nagain++] = t->pid;
    }
    free(moved);
    if (nagain)
        reconcile_match_pids(r, again, nagain);
    free(again);
    r->stats.rechecks++;
    r->stats.last_recheck_us = clock_mono_us() - t0;
}

void reconcile_track_release(struct reconcile *r)
{
    tracked_close_all(r);
    free(r->tracked);
    for (size_t i = 0; i < r->ncgnames; i++)
        free(r->cgnames[i]);
    free(r->cgnames);
    r->tracked = NULL;
    r->cgnames = NULL;
    r->ntracked = r->tracked_cap = r->ngone = r->ncgnames = 0;
}

void reconcile_track_init(struct reconcile *r)
{
    /* the soft limit up to the hard one (a systemd service's is 524288), for the kept files; the
     * agent itself needs a few hundred at most (cgroup directories, HTTP clients) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    r->adj_fds_max = rl.rlim_cur > 1024 ? (size_t)(rl.rlim_cur - 1024) / 2 : 0;
}
