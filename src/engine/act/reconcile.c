#include "reconcile-int.h"

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
#include <time.h>
#include <unistd.h>

#include "base/sys/fileio.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/sys/clock.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "engine/runtime/loop.h"

/* The pods' names for the cgroup rules, when one matches on them (two stat()s when unchanged). */
static const struct podnames *names_now(struct reconcile *r)
{
    if (!policy_needs_names(r->p))
        return NULL;
    if (podnames_refresh(r->sr, &r->names) < 0)
        log_debug("out of memory reading the pods' names");
    return &r->names;
}

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

/* `put_back`: the rules had asked this value of this same process already, and someone changed it
 * since (the process itself, just after its exec, most often) */
static void emit_change(struct reconcile *r, const struct policy_change *c, bool put_back)
{
    struct buf text = BUF_INIT(CAP_OUTPUT), json = BUF_INIT(CAP_OUTPUT);
    buf_puts(&text, put_back ? "policy: put back: " : "policy: ");
    (void)policy_change_text(r->p, c, &text);
    struct json j;
    json_init(&j, &json, false);
    json_obj_begin(&j);
    json_kv_str(&j, "event", "policy_change");
    json_kv_bool(&j, "put_back", put_back);
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
        bool put_back = reconcile_verify_put_back(r, c);
        if (f && f->after == c->after) {
            f->seen = true;
            continue; /* reported already; retried only when the wanted value changes */
        }
        if (c->state == CHANGE_SKIPPED) {
            failed_add(r, c); /* report a skip once too */
            emit_change(r, c, put_back);
            continue;
        }
        if (r->o->dry_run) {
            failed_add(r, c); /* dry run: each planned change is reported once, like a skip */
            emit_change(r, c, put_back);
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
        emit_change(r, c, put_back);
    }
}

int reconcile_cmp_pid(const void *a, const void *b)
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
    /* what the rules that set oom_score_adj match on; not oom_score_adj itself: read after the
     * rules, only where one sets it (reconcile_read_adj) */
    return policy_adj_proc_fields(r->p);
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

/* Everything, again: processes, cgroups, and the failures that are no longer there forgotten. */
void reconcile_full_pass(struct reconcile *r)
{
    uint64_t t0 = clock_mono_us();
    for (size_t i = 0; i < r->nfailed; i++)
        r->failed[i].seen = false;
    if (policy_has_process_actions(r->p)) {
        struct proc_table t;
        if (procs_snapshot(r->sr, proc_fields(r), &t) == 0) {
            struct policy_eval e;
            struct policy_plan pl = {0};
            int *fds = malloc((t.n ? t.n : 1) * sizeof(*fds));
            if (fds && policy_eval_init(&e, r->p, r->sr, &t) == 0) {
                reconcile_read_adj(r, &e, &t, NULL, fds);
                if (policy_plan_procs(&e, NULL, &pl) == 0)
                    apply_plan(r, &pl);
                reconcile_track(r, &e, &t, NULL, fds);
                reconcile_adj_fds_close(r, fds, t.n);
                policy_eval_release(&e);
            }
            free(fds);
            policy_plan_release(&pl);
            set_known(r, &t);
            proc_table_release(&t);
        }
    }
    if (r->hier_ok && r->hier.memory_version && policy_has_cgroup_actions(r->p)) {
        struct cgroup_snapshot s;
        if (cgroup_snapshot_read(&r->hier, "/", &s) == 0) {
            struct policy_plan pl = {0};
            if (policy_plan_cgroups(r->p, names_now(r), &s, r->hier.memory_version,
                                    r->hier.page_size, &pl) == 0)
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
void reconcile_match_pids(struct reconcile *r, const pid_t *pids, size_t npids)
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
            qsort(newpids, nnew, sizeof(*newpids), reconcile_cmp_pid);
            qsort(t.v, t.n, sizeof(*t.v), cmp_proc);
            for (size_t i = 0; i < t.n; i++)
                only[i] = bsearch(&t.v[i].pid, newpids, nnew, sizeof(pid_t), reconcile_cmp_pid) != NULL;
            free(newpids);
            struct policy_eval e;
            struct policy_plan pl = {0};
            int *fds = malloc(t.n * sizeof(*fds));
            if (fds && policy_eval_init(&e, r->p, r->sr, &t) == 0) {
                reconcile_read_adj(r, &e, &t, only, fds);
                if (policy_plan_procs(&e, only, &pl) == 0)
                    apply_plan(r, &pl);
                reconcile_verify_note(r, &e, &t, only);
                reconcile_track(r, &e, &t, only, fds);
                reconcile_adj_fds_close(r, fds, t.n);
                policy_eval_release(&e);
            }
            free(fds);
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
        reconcile_match_pids(r, young, nyoung);
    free(young);
    free(r->known);
    r->known = now;
    r->nknown = n;
    r->last_pid = last_pid;
    r->stats.scans++;
    r->stats.last_scan_us = clock_mono_us() - t0;
}

/* ---- new cgroups ---------------------------------------------------------------------------- */

static void watch_tree(struct reconcile *r, const char *top);

static void plan_cgroup_tree(struct reconcile *r, const char *top)
{
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read(&r->hier, top, &s) < 0)
        return;
    struct policy_plan pl = {0};
    if (policy_plan_cgroups(r->p, names_now(r), &s, r->hier.memory_version, r->hier.page_size,
                            &pl) == 0)
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
        reconcile_drift_check(r);
        if (r->hier_ok && r->hier.memory_version && policy_has_cgroup_actions(r->p))
            plan_cgroup_tree(r, "/");
    } else {
        reconcile_full_pass(r);
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
                            .pcfd = -1, .ts = {.fd = -1}, .names = PODNAMES_INIT,
                            .verify_due_ms = UINT64_MAX};
    r->hier_ok = cgroup_hier_open(sr, &r->hier) == 0;
    int q;
    if ((q = loop_add_timer(l, o->scan_interval_ms, true, on_scan, r, &r->scan_timer)) < 0 ||
        (q = loop_add_timer(l, o->recheck_interval_ms, true, on_recheck, r, &r->recheck_timer)) <
            0 ||
        (q = loop_add_timer(l, PENDING_MS, true, reconcile_on_pending, r, &r->pending_timer)) < 0 ||
        (q = loop_timer_disarm(r->pending_timer)) < 0 ||
        (q = loop_add_timer(l, VERIFY_FIRST_MS, false, reconcile_on_verify, r, &r->verify_timer)) <
            0 ||
        (q = loop_timer_disarm(r->verify_timer)) < 0) {
        reconcile_stop(r);
        return q;
    }
    /* subscribed before the first full pass: what starts during it is an event, not missed */
    reconcile_choose_source(r);
    reconcile_track_init(r);
    if (r->hier_ok && r->hier.memory_version) {
        r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->ifd >= 0 && loop_add_fd(l, r->ifd, EPOLLIN, on_inotify, r, NULL) == 0)
            watch_tree(r, "/");
    }
    reconcile_full_pass(r);
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
    reconcile_verify_forget(r);
    if (r->pcfd >= 0 && !o->proc_connector)
        reconcile_use_scan(r, "new-processes = scan");
    else if (r->pcfd < 0)
        reconcile_choose_source(r);
    else
        reconcile_connector_source(r);
    loop_timer_arm(r->recheck_timer, o->recheck_interval_ms);
    reconcile_full_pass(r);
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
    if (r->verify_timer)
        loop_remove(r->loop, r->verify_timer);
    reconcile_verify_release(r);
    if (r->pc_src)
        loop_remove(r->loop, r->pc_src);
    if (r->pcfd >= 0)
        close(r->pcfd);
    reconcile_names_close(r);
    free(r->pending);
    reconcile_track_release(r);
    if (r->ifd >= 0)
        close(r->ifd);
    for (size_t i = 0; i < r->nwatches; i++)
        free(r->watches[i].path);
    free(r->watches);
    for (size_t i = 0; i < r->nfailed; i++)
        free(r->failed[i].cgroup);
    free(r->failed);
    free(r->known);
    podnames_release(&r->names);
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
