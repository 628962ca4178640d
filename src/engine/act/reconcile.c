#include "reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/sys/clock.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "engine/runtime/loop.h"
#include "engine/runtime/procconn.h"

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
};

/*
 * With the proc connector, a process is read and matched PENDING_MS after its fork, exec, rename
 * or uid change: a fork is usually followed by an exec within that time (one read for both), and
 * a process that lived less is never read at all.
 */
#define PENDING_MS 100
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
    pid_t *pending;
    size_t npending, pending_cap;
    bool pending_armed, pending_all;
    char source[256];
    /* with the connector: every process matched, what the rules wanted of it and the memory
     * cgroup it was matched in, for the drift check (sorted by pid; cgroup names interned) */
    struct tracked *tracked;
    size_t ntracked, tracked_cap, ngone;
    char **cgnames;
    size_t ncgnames;
    struct reconcile_stats stats;
};

static struct failed *failed_find(struct reconcile *r, const struct policy_change *c)
{
    for (size_t i = 0; i < r->nfailed; i++) {
        struct failed *f = &r->failed[i];
        if (c->kind == CHANGE_ADJ ? (f->pid == c->pid && f->start_time == c->start_time)
                                  : (f->cgroup && c->cgroup && !strcmp(f->cgroup, c->cgroup)))
            return f;
    }
    return NULL;
}

static void failed_add(struct reconcile *r, const struct policy_change *c)
{
    struct failed *v = realloc(r->failed, (r->nfailed + 1) * sizeof(*v));
    if (!v)
        return;
    r->failed = v;
    r->failed[r->nfailed++] = (struct failed){
        .pid = c->kind == CHANGE_ADJ ? c->pid : 0, .start_time = c->start_time,
        .cgroup = c->kind != CHANGE_ADJ && c->cgroup ? strdup(c->cgroup) : NULL,
        .after = c->after, .seen = true};
}

static void emit_change(struct reconcile *r, const struct policy_change *c)
{
    struct buf text = BUF_INIT(CAP_OUTPUT), json = BUF_INIT(CAP_OUTPUT);
    buf_puts(&text, "policy: ");
    (void)policy_change_text(r->p, c, &text);
    struct json j;
    json_init(&j, &json, false);
    json_obj_begin(&j);
    json_kv_str(&j, "event", "policy_change");
    json_key(&j, "change");
    policy_change_json(r->p, c, &j);
    json_obj_end(&j);
    if (r->sink.event)
        r->sink.event(r->sink.ctx, buf_cstr(&json), buf_cstr(&text));
    buf_release(&text);
    buf_release(&json);
}

static void apply_plan(struct reconcile *r, struct policy_plan *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        struct policy_change *c = &pl->v[i];
        struct failed *f = failed_find(r, c);
        if (f && f->after == c->after) {
            f->seen = true;
            continue; /* reported already; retried only when the wanted value changes */
        }
        if (c->state == CHANGE_SKIPPED) {
            failed_add(r, c); /* report a skip once too */
            emit_change(r, c);
            continue;
        }
        if (r->o->dry_run) {
            failed_add(r, c); /* dry run: each planned change is reported once, like a skip */
            emit_change(r, c);
            continue;
        }
        (void)policy_apply_change(r->sr, &r->hier, c);
        if (c->state == CHANGE_VANISHED)
            continue;
        if (c->state == CHANGE_FAILED) {
            __atomic_add_fetch(&r->stats.failed, 1, __ATOMIC_RELAXED);
            failed_add(r, c);
        } else if (c->state == CHANGE_DONE) {
            __atomic_add_fetch(&r->stats.done, 1, __ATOMIC_RELAXED);
        }
        emit_change(r, c);
    }
}

static int cmp_pid_t(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_known(const void *a, const void *b)
{
    const struct known *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_proc(const void *a, const void *b)
{
    const struct proc *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct known *known_find(const struct reconcile *r, pid_t pid)
{
    size_t lo = 0, hi = r->nknown;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->known[mid].pid == pid)
            return &r->known[mid];
        if (r->known[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static unsigned proc_fields(const struct reconcile *r)
{
    return PROC_READ_STAT | PROC_READ_OOM | PROC_READ_CGROUP | policy_proc_fields(r->p);
}

/* After a full pass: everything read is known, and old enough not to be looked at again
 * before the next full pass. */
static void set_known(struct reconcile *r, const struct proc_table *t)
{
    struct known *v = malloc((t->n ? t->n : 1) * sizeof(*v));
    if (!v)
        return;
    uint64_t now = loop_now_ms();
    for (size_t i = 0; i < t->n; i++)
        v[i] = (struct known){t->v[i].pid, now > YOUNG_MS ? now - YOUNG_MS : 0};
    free(r->known);
    r->known = v;
    r->nknown = t->n;
}

/* ---- what was matched, for the drift check (connector) ------------------------------------- */

static void match_pids(struct reconcile *r, const pid_t *pids, size_t npids);

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
static void tracked_drop(struct reconcile *r, pid_t pid)
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
static void track(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
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
static void drift_check(struct reconcile *r)
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
        match_pids(r, again, nagain);
    free(again);
    r->stats.rechecks++;
    r->stats.last_recheck_us = clock_mono_us() - t0;
}

/* Everything, again: processes, cgroups, and the failures that are no longer there forgotten. */
static void full_pass(struct reconcile *r)
{
    uint64_t t0 = clock_mono_us();
    for (size_t i = 0; i < r->nfailed; i++)
        r->failed[i].seen = false;
    if (policy_has_process_actions(r->p)) {
        struct proc_table t;
        if (procs_snapshot(r->sr, proc_fields(r), &t) == 0) {
            struct policy_eval e;
            struct policy_plan pl = {0};
            if (policy_eval_init(&e, r->p, r->sr, &t) == 0) {
                if (policy_plan_procs(&e, NULL, &pl) == 0)
                    apply_plan(r, &pl);
                track(r, &e, &t, NULL);
                policy_eval_release(&e);
            }
            policy_plan_release(&pl);
            set_known(r, &t);
            proc_table_release(&t);
        }
    }
    if (r->hier_ok && r->hier.memory_version && policy_has_cgroup_actions(r->p)) {
        struct cgroup_snapshot s;
        if (cgroup_snapshot_read(&r->hier, "/", &s) == 0) {
            struct policy_plan pl = {0};
            if (policy_plan_cgroups(r->p, &s, r->hier.memory_version, r->hier.page_size, &pl) == 0)
                apply_plan(r, &pl);
            policy_plan_release(&pl);
            cgroup_snapshot_release(&s);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < r->nfailed; i++) {
        if (r->failed[i].seen)
            r->failed[k++] = r->failed[i];
        else
            free(r->failed[i].cgroup);
    }
    r->nfailed = k;
    r->stats.rechecks++;
    r->stats.last_recheck_us = clock_mono_us() - t0;
}

static bool parse_pid(const char *s, pid_t *ret)
{
    long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1 << 22)
            return false;
        v = v * 10 + (*s - '0');
    }
    *ret = (pid_t)v;
    return v > 0;
}

/* Reads the processes `pids` (and, for `children` rules, their ancestors) and applies what the
 * rules ask for them; the ancestors are matched, not changed. */
static void match_pids(struct reconcile *r, const pid_t *pids, size_t npids)
{
    struct proc_table t = {.fields = proc_fields(r)};
    struct buf scratch = BUF_INIT(CAP_KERNEL_FILE);
    bool any_children = false;
    for (size_t i = 0; i < r->p->n; i++)
        any_children |= r->p->v[i].children;
    bool *only = NULL;
    for (size_t i = 0; i < npids; i++) {
        if (t.n == t.cap) {
            size_t c = t.cap ? t.cap * 2 : 64;
            struct proc *v = realloc(t.v, c * sizeof(*v));
            if (!v)
                break;
            t.v = v;
            t.cap = c;
        }
        if (procs_read_one(r->sr, pids[i], t.fields, &scratch, &t.v[t.n]) == 0)
            t.n++;
    }
    size_t nnew = t.n;
    r->stats.new_processes += nnew;
    /* ancestors, for rules that match children: read, matched, but not changed themselves */
    for (size_t i = 0; any_children && i < t.n && t.n < 4096; i++) {
        pid_t pp = t.v[i].ppid;
        bool have = pp <= 0;
        for (size_t k = 0; k < t.n && !have; k++)
            have = t.v[k].pid == pp;
        if (have)
            continue;
        if (t.n == t.cap) {
            size_t c = t.cap * 2;
            struct proc *v = realloc(t.v, c * sizeof(*v));
            if (!v)
                break;
            t.v = v;
            t.cap = c;
        }
        if (procs_read_one(r->sr, pp, t.fields, &scratch, &t.v[t.n]) == 0)
            t.n++;
    }
    buf_release(&scratch);
    if (nnew && policy_has_process_actions(r->p) && (only = calloc(t.n, sizeof(*only)))) {
        /* sorted by pid for proc_table_find; `only` marks the new ones (not their ancestors) */
        pid_t *newpids = malloc(nnew * sizeof(*newpids));
        if (newpids) {
            for (size_t i = 0; i < nnew; i++)
                newpids[i] = t.v[i].pid;
            qsort(newpids, nnew, sizeof(*newpids), cmp_pid_t);
            qsort(t.v, t.n, sizeof(*t.v), cmp_proc);
            for (size_t i = 0; i < t.n; i++)
                only[i] = bsearch(&t.v[i].pid, newpids, nnew, sizeof(pid_t), cmp_pid_t) != NULL;
            free(newpids);
            struct policy_eval e;
            struct policy_plan pl = {0};
            if (policy_eval_init(&e, r->p, r->sr, &t) == 0) {
                if (policy_plan_procs(&e, only, &pl) == 0)
                    apply_plan(r, &pl);
                track(r, &e, &t, only);
                policy_eval_release(&e);
            }
            policy_plan_release(&pl);
        }
    }
    free(only);
    proc_table_release(&t);
}

/* New PIDs since the last scan: read those (and, for `children` rules, their ancestors). */
static void scan_pass(struct reconcile *r)
{
    uint64_t t0 = clock_mono_us();
    /* nothing was created since the last scan (the last PID handed out is the same) and nothing
     * seen is young enough to be matched again: the readdir of /proc, most of a scan's cost,
     * would find nothing new */
    uint64_t last_pid = 0;
    if (procs_last_pid(r->sr, &last_pid) < 0)
        last_pid = 0;
    if (last_pid && last_pid == r->last_pid && loop_now_ms() >= r->young_until_ms) {
        r->stats.scans++;
        r->stats.last_scan_us = clock_mono_us() - t0;
        return;
    }

    int dfd = openat(r->sr->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct known *now = NULL;
    size_t n = 0, cap = 0;
    uint64_t now_ms = loop_now_ms();
    struct dirent *de;
    while ((de = readdir(d))) {
        pid_t pid;
        if (!parse_pid(de->d_name, &pid))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            struct known *v = realloc(now, cap * sizeof(*v));
            if (!v)
                break;
            now = v;
        }
        const struct known *k = known_find(r, pid);
        now[n++] = (struct known){pid, k ? k->first_ms : now_ms};
        if (now[n - 1].first_ms + YOUNG_MS > r->young_until_ms)
            r->young_until_ms = now[n - 1].first_ms + YOUNG_MS;
    }
    closedir(d);
    qsort(now, n, sizeof(*now), cmp_known);
    pid_t *young = malloc((n ? n : 1) * sizeof(*young));
    size_t nyoung = 0;
    for (size_t i = 0; young && i < n; i++)
        if (now_ms - now[i].first_ms < YOUNG_MS)
            young[nyoung++] = now[i].pid;
    if (young)
        match_pids(r, young, nyoung);
    free(young);
    free(r->known);
    r->known = now;
    r->nknown = n;
    r->last_pid = last_pid;
    r->stats.scans++;
    r->stats.last_scan_us = clock_mono_us() - t0;
}

/* ---- new processes from the proc connector --------------------------------------------------- */

static void pending_add(struct reconcile *r, pid_t pid)
{
    if (r->npending == r->pending_cap) {
        size_t cap = r->pending_cap ? r->pending_cap * 2 : 64;
        pid_t *v = cap <= PENDING_MAX ? realloc(r->pending, cap * sizeof(*v)) : NULL;
        if (!v) {
            /* a burst beyond any use of reading one by one: everything at the batch instead */
            r->pending_all = true;
            return;
        }
        r->pending = v;
        r->pending_cap = cap;
    }
    r->pending[r->npending++] = pid;
}

static void on_proc_event(void *ctx, const struct procconn_event *e)
{
    struct reconcile *r = ctx;
    switch (e->kind) {
    case PROCCONN_FORK:
    case PROCCONN_EXEC:
    case PROCCONN_COMM:
    case PROCCONN_UID:
        pending_add(r, e->pid);
        break;
    case PROCCONN_EXIT:
        tracked_drop(r, e->pid);
        /* gone before it was read: a short-lived process costs nothing (only the latest few are
         * looked through; an older one fails its read, which is cheap too) */
        for (size_t i = r->npending, k = 0; i-- > 0 && k < 64; k++) {
            if (r->pending[i] == e->pid) {
                r->pending[i] = r->pending[--r->npending];
                break;
            }
        }
        break;
    case PROCCONN_ACK:
        break;
    }
}

static void use_scan(struct reconcile *r, const char *why);

static int on_procconn(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    (void)events;
    struct reconcile *r = ctx;
    /* the first event of a batch: the socket is left alone until the batch is read, so a busy
     * machine's thousands of events a second cost a wake-up per PENDING_MS, not one each */
    loop_fd_events(l, r->pc_src, 0);
    if (!r->pending_armed && loop_timer_arm(r->pending_timer, PENDING_MS) == 0)
        r->pending_armed = true;
    return 0;
}

static int cmp_pid_t(const void *a, const void *b);

static int on_pending(struct loop *l, void *ctx)
{
    (void)l;
    struct reconcile *r = ctx;
    uint64_t t0 = clock_mono_us();
    r->pending_armed = false;
    int q = r->pcfd >= 0 ? procconn_drain(r->pcfd, on_proc_event, r) : 0;
    if (q == -ENOBUFS) {
        /* events were lost: which processes are new is not known any more */
        log_info("policy: the proc connector dropped events (a burst of new processes): "
                 "everything is read again");
        r->pending_all = true;
    } else if (q < 0) {
        log_warn("policy: the proc connector failed (%s): new processes by a scan of /proc from "
                 "now on", strerror(-q));
        use_scan(r, "it failed");
        r->pending_all = true;
    }
    if (r->pc_src)
        loop_fd_events(r->loop, r->pc_src, EPOLLIN);
    if (r->pending_all) {
        r->pending_all = false;
        r->npending = 0;
        full_pass(r);
        return 0;
    }
    /* once each, however many events it had */
    size_t n = r->npending, k = 0;
    qsort(r->pending, n, sizeof(*r->pending), cmp_pid_t);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || r->pending[i] != r->pending[k - 1])
            r->pending[k++] = r->pending[i];
    r->npending = 0;
    if (policy_has_process_actions(r->p))
        match_pids(r, r->pending, k);
    r->stats.scans++;
    r->stats.last_scan_us = clock_mono_us() - t0;
    return 0;
}

/* Whether the root's /proc speaks of the PIDs the connector reports: a procfs of the initial
 * PID namespace (the live root, or the host's /proc under --root /host with hostPID). */
static bool proc_is_initial(const struct sysroot *sr)
{
    struct statfs fs;
    struct stat st;
    return fstatfs(sr->proc_fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC &&
           fstatat(sr->proc_fd, "self/ns/pid", &st, 0) == 0 && st.st_ino == PROC_PID_INIT_INO;
}

static void use_scan(struct reconcile *r, const char *why)
{
    if (r->pc_src)
        loop_remove(r->loop, r->pc_src);
    r->pc_src = NULL;
    if (r->pcfd >= 0)
        close(r->pcfd);
    r->pcfd = -1;
    snprintf(r->source, sizeof(r->source), "a scan of /proc every %" PRIu64 " ms (no proc "
             "connector: %s)", r->o->scan_interval_ms, why);
    loop_timer_arm(r->scan_timer, r->o->scan_interval_ms);
}

static void choose_source(struct reconcile *r)
{
    const char *why = NULL;
    int fd = -1;
    if (!r->o->proc_connector)
        why = "new-processes = scan";
    else if (!proc_is_initial(r->sr))
        why = "the root's /proc is not the initial PID namespace's";
    else
        fd = procconn_open(1000, &why);
    if (fd >= 0 && loop_add_fd(r->loop, fd, EPOLLIN, on_procconn, r, &r->pc_src) < 0) {
        close(fd);
        fd = -1;
        why = "cannot watch its socket";
    }
    if (fd < 0) {
        use_scan(r, why ? why : "?");
        return;
    }
    r->pcfd = fd;
    loop_timer_disarm(r->scan_timer);
    snprintf(r->source, sizeof(r->source), "the netlink proc connector (fork, exec, comm and uid "
             "events; read %d ms later)", PENDING_MS);
}

const char *reconcile_source(const struct reconcile *r)
{
    return r->source;
}

/* ---- new cgroups ---------------------------------------------------------------------------- */

static void watch_tree(struct reconcile *r, const char *top);

static void plan_cgroup_tree(struct reconcile *r, const char *top)
{
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read(&r->hier, top, &s) < 0)
        return;
    struct policy_plan pl = {0};
    if (policy_plan_cgroups(r->p, &s, r->hier.memory_version, r->hier.page_size, &pl) == 0)
        apply_plan(r, &pl);
    policy_plan_release(&pl);
    cgroup_snapshot_release(&s);
}

static void add_watch(struct reconcile *r, const char *path)
{
    for (size_t i = 0; i < r->nwatches; i++)
        if (strcmp(r->watches[i].path, path) == 0)
            return;
    int dfd = cgroup_open_dir(&r->hier, path);
    if (dfd < 0)
        return;
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", dfd);
    int wd = inotify_add_watch(r->ifd, p, IN_CREATE | IN_ONLYDIR | IN_DELETE_SELF);
    close(dfd);
    if (wd < 0)
        return;
    struct rwatch *v = realloc(r->watches, (r->nwatches + 1) * sizeof(*v));
    if (!v)
        return;
    r->watches = v;
    r->watches[r->nwatches++] = (struct rwatch){.wd = wd, .path = strdup(path)};
}

static void watch_tree(struct reconcile *r, const char *top)
{
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read_limits(&r->hier, top, 32, &s) < 0)
        return;
    for (size_t i = 0; i < s.n; i++)
        add_watch(r, s.v[i].path);
    cgroup_snapshot_release(&s);
}

static void on_cgroup_event(void *ctx, const struct inotify_event *ie)
{
    struct reconcile *r = ctx;
    if (ie->mask & IN_Q_OVERFLOW) {
        watch_tree(r, "/");
        plan_cgroup_tree(r, "/");
        return;
    }
    for (size_t i = 0; i < r->nwatches; i++) {
        if (r->watches[i].wd != ie->wd)
            continue;
        if ((ie->mask & IN_CREATE) && (ie->mask & IN_ISDIR) && ie->len) {
            char *child = cgpath_child(r->watches[i].path, ie->name);
            if (child) {
                watch_tree(r, child);
                plan_cgroup_tree(r, child);
                free(child);
            }
        } else if (ie->mask & (IN_DELETE_SELF | IN_IGNORED)) {
            free(r->watches[i].path);
            r->watches[i] = r->watches[--r->nwatches];
        }
        return;
    }
}

static int on_inotify(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    inotify_drain(fd, on_cgroup_event, ctx);
    return 0;
}

static int on_scan(struct loop *l, void *ctx)
{
    (void)l;
    struct reconcile *r = ctx;
    if (policy_has_process_actions(r->p))
        scan_pass(r);
    return 0;
}

static int on_recheck(struct loop *l, void *ctx)
{
    (void)l;
    struct reconcile *r = ctx;
    /* the connector's records are only as good as its events: after a loss, a full pass */
    if (r->pcfd >= 0 && r->ntracked && !r->pending_all && policy_has_process_actions(r->p)) {
        drift_check(r);
        if (r->hier_ok && r->hier.memory_version && policy_has_cgroup_actions(r->p))
            plan_cgroup_tree(r, "/");
    } else {
        full_pass(r);
    }
    return 0;
}

int reconcile_start(struct loop *l, const struct sysroot *sr, const struct reconcile_opts *o,
                    const struct policy *p, const struct reconcile_sink *sink,
                    struct reconcile **ret)
{
    struct reconcile *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    *r = (struct reconcile){.loop = l, .sr = sr, .o = o, .p = p, .sink = *sink, .ifd = -1,
                            .pcfd = -1};
    r->hier_ok = cgroup_hier_open(sr, &r->hier) == 0;
    int q;
    if ((q = loop_add_timer(l, o->scan_interval_ms, true, on_scan, r, &r->scan_timer)) < 0 ||
        (q = loop_add_timer(l, o->recheck_interval_ms, true, on_recheck, r, &r->recheck_timer)) <
            0 ||
        (q = loop_add_timer(l, PENDING_MS, false, on_pending, r, &r->pending_timer)) < 0 ||
        (q = loop_timer_disarm(r->pending_timer)) < 0) {
        reconcile_stop(r);
        return q;
    }
    /* subscribed before the first full pass: what starts during it is an event, not missed */
    choose_source(r);
    if (r->hier_ok && r->hier.memory_version) {
        r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->ifd >= 0 && loop_add_fd(l, r->ifd, EPOLLIN, on_inotify, r, NULL) == 0)
            watch_tree(r, "/");
    }
    full_pass(r);
    *ret = r;
    return 0;
}

void reconcile_reconfigure(struct reconcile *r, const struct reconcile_opts *o,
                           const struct policy *p)
{
    r->o = o;
    r->p = p;
    for (size_t i = 0; i < r->nfailed; i++)
        free(r->failed[i].cgroup);
    r->nfailed = 0;
    if (r->pcfd >= 0 && !o->proc_connector)
        use_scan(r, "new-processes = scan");
    else if (r->pcfd < 0)
        choose_source(r);
    loop_timer_arm(r->recheck_timer, o->recheck_interval_ms);
    full_pass(r);
}

void reconcile_stop(struct reconcile *r)
{
    if (!r)
        return;
    if (r->scan_timer)
        loop_remove(r->loop, r->scan_timer);
    if (r->recheck_timer)
        loop_remove(r->loop, r->recheck_timer);
    if (r->pending_timer)
        loop_remove(r->loop, r->pending_timer);
    if (r->pc_src)
        loop_remove(r->loop, r->pc_src);
    if (r->pcfd >= 0)
        close(r->pcfd);
    free(r->pending);
    free(r->tracked);
    for (size_t i = 0; i < r->ncgnames; i++)
        free(r->cgnames[i]);
    free(r->cgnames);
    if (r->ifd >= 0)
        close(r->ifd);
    for (size_t i = 0; i < r->nwatches; i++)
        free(r->watches[i].path);
    free(r->watches);
    for (size_t i = 0; i < r->nfailed; i++)
        free(r->failed[i].cgroup);
    free(r->failed);
    free(r->known);
    if (r->hier_ok)
        cgroup_hier_close(&r->hier);
    free(r);
}

void reconcile_get_stats(const struct reconcile *r, struct reconcile_stats *ret)
{
    /* read by the HTTP thread while the loop thread counts */
    ret->done = __atomic_load_n(&r->stats.done, __ATOMIC_RELAXED);
    ret->failed = __atomic_load_n(&r->stats.failed, __ATOMIC_RELAXED);
    ret->scans = __atomic_load_n(&r->stats.scans, __ATOMIC_RELAXED);
    ret->rechecks = __atomic_load_n(&r->stats.rechecks, __ATOMIC_RELAXED);
    ret->new_processes = __atomic_load_n(&r->stats.new_processes, __ATOMIC_RELAXED);
    ret->last_scan_us = __atomic_load_n(&r->stats.last_scan_us, __ATOMIC_RELAXED);
    ret->last_recheck_us = __atomic_load_n(&r->stats.last_recheck_us, __ATOMIC_RELAXED);
}
