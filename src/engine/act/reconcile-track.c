/* With the proc connector, what each process was matched as (its wanted oom_score_adj, its
 * memory cgroup), kept true by the events, and the drift check that reads only what can change
 * without one. */
#include "reconcile-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cursor.h"
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

/* An exit: the record stays as a tombstone (the array stays sorted for bsearch without a
 * memmove per exit) until there are many of them. */
#define TRACKED_GONE INT32_MAX
void reconcile_tracked_drop(struct reconcile *r, pid_t pid)
{
    struct tracked *t = tracked_find(r, pid);
    if (!t || t->want_adj == TRACKED_GONE)
        return;
    t->want_adj = TRACKED_GONE;
    if (++r->ngone > r->ntracked / 4) {
        size_t k = 0;
        for (size_t i = 0; i < r->ntracked; i++)
            if (r->tracked[i].want_adj != TRACKED_GONE)
                r->tracked[k++] = r->tracked[i];
        r->ntracked = k;
        r->ngone = 0;
    }
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

/*
 * Records what the rules want of the processes of `t` that `only` marks (NULL: all of them,
 * replacing every record: a full pass). Only with the connector, whose events keep the records
 * true between passes.
 */
void reconcile_track(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
                  const bool *only)
{
    if (r->pcfd < 0)
        return;
    if (!only) {
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
                              .cg = cg ? cg_intern(r, cg) : UINT32_MAX};
        struct tracked *old = before ? bsearch(&rec, r->tracked, before, sizeof(rec),
                                               cmp_tracked) : NULL;
        if (old) {
            r->ngone -= old->want_adj == TRACKED_GONE;
            *old = rec;
        } else {
            r->tracked[before + nadd++] = rec;
        }
    }
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

/*
 * The drift check with the connector, every recheck-interval. Its events say when a process
 * starts, execs, renames itself or changes uid, so what the rules match on cannot change
 * unseen, but for two things: its memory cgroup (a move without exec; one read of each cgroup's
 * cgroup.procs shows it) and its oom_score_adj written by someone else (one small read per
 * process a rule sets it for). Those are read and matched again. Against a full pass's four
 * files per process, this costs one (measured at 5,000 processes on the 6.18 test host: 0.6 s
 * for the full pass; bench/guard has the drift check).
 */
void reconcile_drift_check(struct reconcile *r)
{
    uint64_t t0 = clock_mono_us();
    pid_t *again = NULL;
    size_t nagain = 0, cap = 0;
    bool *moved = calloc(r->ntracked ? r->ntracked : 1, sizeof(*moved));
    if (!moved)
        return;
    struct cgroup_snapshot s;
    if (r->hier_ok && r->hier.memory_version &&
        cgroup_snapshot_read_limits(&r->hier, "/", CGROUP_WALK_MAX_DEPTH, &s) == 0) {
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
    for (size_t i = 0; i < r->ntracked; i++) {
        const struct tracked *t = &r->tracked[i];
        if (t->want_adj == TRACKED_GONE)
            continue;
        bool redo = moved[i];
        if (!redo && t->want_adj != POLICY_ADJ_UNSET) {
            char path[32], b[16];
            snprintf(path, sizeof(path), "%d/oom_score_adj", (int)t->pid);
            int n = read_small_at(r->sr->proc_fd, path, b, sizeof(b));
            int64_t adj;
            struct cursor c = cursor_make(b, n > 0 ? (size_t)n : 0);
            redo = n > 0 && cursor_i64(&c, &adj) == 0 && adj != t->want_adj;
        }
        if (!redo)
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
    free(r->tracked);
    for (size_t i = 0; i < r->ncgnames; i++)
        free(r->cgnames[i]);
    free(r->cgnames);
    r->tracked = NULL;
    r->cgnames = NULL;
    r->ntracked = r->tracked_cap = r->ngone = r->ncgnames = 0;
}
