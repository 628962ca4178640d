#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/sys/clock.h"
#include "model/proc/badness.h"
#include "model/log/kmsg.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/oomdomain.h"
#include "model/log/oomlog.h"
#include "model/proc/procs.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"
#include "engine/runtime/loop.h"

/* How long to wait for the kill's report after the eater's exit was seen: the report is printed
 * around the SIGKILL, so it is normally there already. */
#define LAB_REPORT_WAIT_MS 3000

const char *lab_end_name(enum lab_end e)
{
    switch (e) {
    case LAB_END_KILLED:
        return "oom_kill";
    case LAB_END_DIED:
        return "died";
    case LAB_END_TIMEOUT:
        return "timeout";
    case LAB_END_INTERRUPTED:
        return "interrupted";
    }
    return "?";
}

struct lab_ctx {
    struct lab_result *r;
    const struct lab_opts *o;
    const struct cgroup_hier *h;
    struct scratch_cgroup cg;
    struct eater eaters[LAB_MAX_EATERS];
    struct kmsg_reader *kr;
    char marker[96];
    uint64_t marker_usec; /* the kernel's clock at go */
    struct loop *loop;
    struct loop_source *report_timer;
    double t0; /* CLOCK_MONOTONIC seconds at go */
    bool going;
    bool ending; /* an eater died: waiting for its report */
    int err;
};

static int fail(struct lab_result *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct lab_result *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(r->error))
        snprintf(r->error + n, sizeof(r->error) - (size_t)n, ": %s", strerror(-err));
    return err;
}

/* ---- sampling ------------------------------------------------------------------------------ */

static int read_current(const struct lab_ctx *x, uint64_t *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    int r = read_virtual_at(x->cg.dirfd,
                            x->cg.version == 2 ? "memory.current" : "memory.usage_in_bytes", &b);
    if (r >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        r = cursor_u64(&c, ret);
    }
    buf_release(&b);
    return r;
}

static int take_sample(struct lab_ctx *x, double t)
{
    struct lab_sample s = {.t = t};
    int r = read_current(x, &s.current);
    if (r < 0)
        return r;
    if ((r = cgroup_read_events_at(x->h, x->cg.dirfd, &s.ev)) < 0)
        return r;
    if (x->cg.psi_dirfd >= 0) {
        struct psi p;
        if (psi_read_at(x->cg.psi_dirfd, "memory.pressure", &p) == 0 && p.some.present &&
            p.full.present) {
            s.has_psi = true;
            s.psi = p;
        }
    }
    if ((r = lab_series_add(&x->r->series, &s)) < 0)
        return r;
    if (x->o->on_sample)
        x->o->on_sample(x->r, &x->r->series.v[x->r->series.n - 1], x->o->ctx);
    return 0;
}

static int on_tick(struct loop *l, void *ctx)
{
    struct lab_ctx *x = ctx;
    int r = take_sample(x, clock_mono_s() - x->t0);
    if (r < 0) {
        x->err = fail(x->r, r, "cannot read the cgroup %s", x->r->cgroup);
        loop_quit(l, r);
    }
    return 0;
}

/* ---- the kernel log ------------------------------------------------------------------------ */

/* Marks which of our eaters the kernel has reported killing. True when the one that ended the
 * run is among them. */
static bool note_kills(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    bool ender = false;
    for (size_t e = 0; e < r->log->nevents; e++) {
        const struct oom_event *ev = &r->log->events[e];
        for (size_t v = 0; v < ev->nvictims; v++) {
            if (ev->victims[v].kind == OOM_VICTIM_EXITING)
                continue;
            for (size_t i = 0; i < r->neaters; i++)
                if (ev->victims[v].pid == r->eaters[i].pid) {
                    r->eaters[i].oom_killed = true;
                    if (r->eaters[i].exited)
                        ender = true;
                }
        }
    }
    return ender;
}

static int on_kmsg(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    (void)events;
    struct lab_ctx *x = ctx;
    struct kmsg_record rec;
    int n;
    while ((n = kmsg_reader_next(x->kr, &rec)) > 0) {
        if (!x->r->marker_seen && x->marker[0]) {
            /* only what comes after our marker is ours to read */
            if (rec.facility != KMSG_FACILITY_KERN && span_find(rec.text, x->marker)) {
                x->r->marker_seen = true;
                x->marker_usec = rec.usec;
                /* the parser sees the marker too: a kill line right after it, or after a
                 * record read since, with no report before it, was rate-limited (its own
                 * evidence: the log read without a gap) */
                (void)oomlog_feed_kmsg(x->r->log, &rec);
            }
            continue;
        }
        if (oomlog_feed_kmsg(x->r->log, &rec) < 0)
            break;
    }
    if (x->ending && note_kills(x))
        loop_quit(l, 0);
    return 0;
}

static void open_kmsg(struct lab_ctx *x, const struct sysroot *sr)
{
    struct lab_result *r = x->r;
    x->kr = malloc(sizeof(*x->kr));
    r->log = malloc(sizeof(*r->log));
    if (!x->kr || !r->log) {
        snprintf(r->kmsg_error, sizeof(r->kmsg_error), "out of memory");
        return;
    }
    oomlog_init(r->log);
    int q = kmsg_reader_open_at(x->kr, sr->root_fd, "dev/kmsg");
    if (q < 0) {
        snprintf(r->kmsg_error, sizeof(r->kmsg_error), "cannot read /dev/kmsg: %s", strerror(-q));
        free(x->kr);
        x->kr = NULL;
        return;
    }
    /* from now on only: the reports already in the buffer are other people's */
    if (lseek(x->kr->fd, 0, SEEK_END) < 0) {
        snprintf(r->kmsg_error, sizeof(r->kmsg_error), "cannot seek /dev/kmsg: %s",
                 strerror(errno));
        kmsg_reader_close(x->kr);
        free(x->kr);
        x->kr = NULL;
        return;
    }
    r->kmsg = true;
}

/* The marker: a userspace record in the kernel log, whose stamp is the kernel's clock at go. */
static void write_marker(struct lab_ctx *x, const struct sysroot *sr)
{
    snprintf(x->marker, sizeof(x->marker), "oomwarden lab %d: eaters go in %s", (int)getpid(),
             x->r->cgroup);
    _cleanup_close_ int fd = openat(sr->root_fd, "dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || write(fd, x->marker, strlen(x->marker)) < 0)
        x->marker[0] = '\0';
}

/* ---- the eaters ---------------------------------------------------------------------------- */

static void reap(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    for (size_t i = 0; i < r->neaters; i++) {
        struct lab_eater_info *e = &r->eaters[i];
        if (e->exited || e->pid <= 0)
            continue;
        int st;
        pid_t p = waitpid(e->pid, &st, WNOHANG);
        if (p != e->pid)
            continue;
        e->exited = true;
        e->exit_t = x->going ? clock_mono_s() - x->t0 : 0;
        if (WIFSIGNALED(st))
            e->exit_signal = WTERMSIG(st);
        else
            e->exit_status = WEXITSTATUS(st);
    }
}

static int on_report_timeout(struct loop *l, void *ctx)
{
    (void)ctx;
    loop_quit(l, 0);
    return 0;
}

static int on_signal(struct loop *l, int signo, void *ctx)
{
    struct lab_ctx *x = ctx;
    if (signo == SIGCHLD) {
        reap(x);
        bool died = false;
        for (size_t i = 0; i < x->r->neaters; i++)
            died |= x->r->eaters[i].exited;
        if (died && !x->ending) {
            x->ending = true;
            /* right after the exit: the victim's memory is uncharged by now */
            (void)take_sample(x, clock_mono_s() - x->t0);
            if (x->kr) {
                on_kmsg(l, x->kr->fd, EPOLLIN, x);
                if (x->ending && loop_add_timer(l, LAB_REPORT_WAIT_MS, false, on_report_timeout, x,
                                                &x->report_timer) < 0)
                    loop_quit(l, 0);
            } else {
                loop_quit(l, 0);
            }
        }
        return 0;
    }
    x->r->end = LAB_END_INTERRUPTED;
    x->r->end_signal = signo;
    loop_quit(l, 0);
    return 0;
}

static int on_timeout(struct loop *l, void *ctx)
{
    struct lab_ctx *x = ctx;
    if (!x->ending)
        x->r->end = LAB_END_TIMEOUT;
    loop_quit(l, 0);
    return 0;
}

/* ---- prediction ---------------------------------------------------------------------------- */

static int cmp_rank(const void *a, const void *b)
{
    const struct lab_candidate *x = a, *y = b;
    size_t rx = x->rank ? x->rank : SIZE_MAX, ry = y->rank ? y->rank : SIZE_MAX;
    return rx < ry ? -1 : rx > ry;
}

static void predict(struct lab_ctx *x, const struct sysroot *sr, const struct kver *k)
{
    struct lab_prediction *p = &x->r->pred;
    p->victim = p->victim_no_adj = SIZE_MAX;
    struct meminfo mi;
    struct proc_table t = {0};
    struct oomdomain d = {0};
    int q = meminfo_read(sr, &mi);
    if (q == 0)
        q = procs_snapshot(sr, PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP,
                           &t);
    if (q == 0)
        q = oomdomain_build(x->h, x->r->cgroup, &t, k, &mi, oomdomain_vm_swappiness(sr), &d);
    if (q < 0) {
        snprintf(p->why_not, sizeof(p->why_not), "the model could not read the machine: %s",
                 strerror(-q));
        goto out;
    }
    p->totalpages = d.totalpages;
    p->usage = d.usage;
    enum badness_algo algo = badness_algo_for(k);
    for (size_t i = 0; i < d.victims.n && p->n < LAB_MAX_EATERS; i++) {
        const struct victim *v = &d.victims.v[i];
        for (size_t e = 0; e < x->r->neaters; e++) {
            if (v->proc->pid != x->r->eaters[e].pid)
                continue;
            struct lab_candidate *c = &p->c[p->n++];
            c->pid = v->proc->pid;
            /* comm is 16 bytes in the kernel; ours are shorter still */
            size_t cn = strnlen(v->proc->comm, sizeof(c->comm) - 1);
            memcpy(c->comm, v->proc->comm, cn);
            c->comm[cn] = '\0';
            c->adj = v->proc->oom_score_adj;
            c->rss = proc_rss(v->proc);
            c->eligible = v->eligible;
            c->badness = v->badness;
            c->rank = v->rank;
            /* the counterfactual: the same process at oom_score_adj 0 */
            struct badness_input in;
            c->badness_no_adj = c->badness;
            if (badness_input_from_proc(v->proc, sr->page_size, false, d.victims.rss_source, &in)) {
                in.adj = 0;
                in.eligible = true;
                int64_t pts;
                if (badness_points(algo, &in, d.totalpages, &pts))
                    c->badness_no_adj = pts;
            }
        }
    }
    if (p->n < x->r->neaters) {
        snprintf(p->why_not, sizeof(p->why_not),
                 "the model did not find the eaters in %s's OOM domain", x->r->cgroup);
        goto out;
    }
    qsort(p->c, p->n, sizeof(p->c[0]), cmp_rank);
    if (p->c[0].rank == 1)
        p->victim = 0;
    /* ties at adj 0: the kernel's scan order, which the ranking already encodes */
    p->victim_no_adj = 0;
    for (size_t i = 1; i < p->n; i++)
        if (p->c[i].badness_no_adj > p->c[p->victim_no_adj].badness_no_adj)
            p->victim_no_adj = i;
    if (x->r->high && x->r->kind == EATER_ANON)
        p->high_to_max_s =
            labsum_high_to_max_s(x->r->high, x->r->max, x->r->rate, sr->page_size, LAB_HZ);
    p->made = true;
out:
    oomdomain_release(&d);
    proc_table_release(&t);
}

/* ---- the run ------------------------------------------------------------------------------- */

static void plan_eaters(const struct lab_opts *o, struct lab_result *r)
{
    if (o->mode == LAB_RUN) {
        r->neaters = 1;
        r->grower = 0;
        r->eaters[0] = (struct lab_eater_info){.start_bytes = 1 << 20, .rate = o->rate};
        snprintf(r->eaters[0].comm, sizeof(r->eaters[0].comm), "ow-lab-eater");
        return;
    }
    /* the protected one is the bigger: without oom_score_adj it would be the victim */
    r->neaters = 2;
    r->grower = 1;
    r->eaters[0] =
        (struct lab_eater_info){.start_bytes = o->max / 100 * 55, .rate = 0, .protected_one = true};
    snprintf(r->eaters[0].comm, sizeof(r->eaters[0].comm), "ow-protected");
    r->eaters[1] = (struct lab_eater_info){.start_bytes = o->max / 100 * 5, .rate = o->rate};
    snprintf(r->eaters[1].comm, sizeof(r->eaters[1].comm), "ow-unprotected");
}

static int start_eaters(struct lab_ctx *x, int file_fd)
{
    struct lab_result *r = x->r;
    bool fell_back = false;
    for (size_t i = 0; i < r->neaters; i++) {
        struct lab_eater_info *e = &r->eaters[i];
        struct eater_spec sp = {
            .comm = e->comm,
            .adj = 0,
            .adj_fallback = EATER_NO_ADJ,
            .start_bytes = e->start_bytes,
            .rate = e->rate,
            .kind = i == r->grower ? r->kind : EATER_ANON,
            .file_fd = i == r->grower ? file_fd : -1,
            .file_bytes = r->file_bytes,
        };
        if (r->mode == LAB_PROTECT) {
            if (e->protected_one) {
                sp.adj = LAB_PROTECT_ADJ;
                sp.adj_fallback = 0;
            } else {
                /* without CAP_SYS_RESOURCE the protection is the other one's +900 */
                sp.adj = fell_back ? LAB_UNPROTECT_ADJ : 0;
            }
        }
        int q = eater_spawn(&sp, &x->cg, &x->eaters[i]);
        if (q < 0)
            return fail(r, q, "cannot start the eater");
        e->pid = x->eaters[i].pid;
        enum eater_stage stage;
        q = eater_wait_ready(&x->eaters[i], 60000, &stage);
        e->adj = x->eaters[i].adj;
        e->adj_fallback = x->eaters[i].adj_fallback;
        if (q < 0)
            return q == -ECHILD
                       ? fail(r, q,
                              "the eater %s died before it was ready (killed while it "
                              "touched its first %" PRIu64 " bytes?)",
                              e->comm, e->start_bytes)
                       : fail(r, q, "the eater %s failed %s", e->comm, eater_stage_name(stage));
        fell_back |= e->adj_fallback;
    }
    return 0;
}

static void stop_eaters(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    /* our own children, not yet reaped: their pids cannot have been reused */
    for (size_t i = 0; i < r->neaters; i++)
        if (r->eaters[i].pid > 0 && !r->eaters[i].exited)
            (void)kill(r->eaters[i].pid, SIGKILL);
    for (size_t i = 0; i < r->neaters; i++) {
        if (r->eaters[i].pid > 0 && !r->eaters[i].exited)
            (void)waitpid(r->eaters[i].pid, NULL, 0);
        eater_close(&x->eaters[i]);
    }
}

static void read_final(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    r->peak = OPT_ABSENT;
    const char *f = r->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes";
    if (read_virtual_at(x->cg.dirfd, f, &b) >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        uint64_t v;
        if (cursor_u64(&c, &v) == 0)
            r->peak = v;
    }
    buf_release(&b);
    (void)cgroup_read_events_at(x->h, x->cg.dirfd, &r->ev_after);
    /* what the lab itself knows of a kill in its cgroup, should the kernel's report not say */
    r->observed.version = r->version;
    r->observed.oom_kill_before = r->ev_before.oom_kill;
    r->observed.oom_kill_after = r->ev_after.oom_kill;
    r->observed.cgroup = strdup(r->cgroup);
    if (r->observed.cgroup)
        (void)oom_observed_read_limit(x->h, &r->observed);
}

static void find_event(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    r->killed = SIZE_MAX;
    r->kill_t = -1;
    if (!r->log)
        return;
    (void)oomlog_finish(r->log);
    note_kills(x);
    for (size_t e = r->log->nevents; e-- > 0 && !r->event;) {
        const struct oom_event *ev = &r->log->events[e];
        for (size_t v = 0; v < ev->nvictims && !r->event; v++) {
            const struct oom_victim *vi = &ev->victims[v];
            if (vi->kind == OOM_VICTIM_EXITING)
                continue;
            for (size_t i = 0; i < r->neaters; i++)
                if (vi->pid == r->eaters[i].pid && r->eaters[i].exited) {
                    r->event = ev;
                    r->killed = i;
                    if (r->marker_seen && opt_has(vi->uptime_us) &&
                        vi->uptime_us >= x->marker_usec) {
                        r->kill_t = (double)(vi->uptime_us - x->marker_usec) / 1e6;
                        r->kill_t_from_log = true;
                    }
                }
        }
    }
}

static void conclude(struct lab_ctx *x)
{
    struct lab_result *r = x->r;
    find_event(x);
    if (r->end == LAB_END_INTERRUPTED || r->end == LAB_END_TIMEOUT) {
        /* a kill may still have come first */
        if (r->killed == SIZE_MAX)
            goto summary;
    }
    if (r->killed != SIZE_MAX) {
        r->end = LAB_END_KILLED;
        if (!r->kill_t_from_log)
            r->kill_t = r->eaters[r->killed].exit_t;
    } else {
        bool died = false;
        for (size_t i = 0; i < r->neaters; i++)
            if (r->eaters[i].exited) {
                died = true;
                /* SIGKILL with the oom_kill counter moving, but no report to read */
                if (!r->kmsg && r->eaters[i].exit_signal == SIGKILL &&
                    opt_has(r->ev_after.oom_kill) && opt_has(r->ev_before.oom_kill) &&
                    r->ev_after.oom_kill > r->ev_before.oom_kill) {
                    r->end = LAB_END_KILLED;
                    r->killed = i;
                    r->kill_t = r->eaters[i].exit_t;
                }
            }
        if (died && r->end != LAB_END_KILLED)
            r->end = LAB_END_DIED;
    }
summary:;
    /* the kernel's text names the cgroup: nothing to add of our own */
    if (r->end == LAB_END_KILLED && r->observed.cgroup &&
        !(r->event && oom_event_names_cgroup(r->event)))
        r->observed.source = OOM_OBSERVED_LAB_CGROUP;
    else
        oom_observed_release(&r->observed);
    uint64_t report_usage = OPT_ABSENT;
    if (r->event && opt_has(r->event->mem.usage_kb))
        report_usage = r->event->mem.usage_kb * 1024;
    labsum_compute(r->series.v, r->series.n, r->max, r->high,
                   r->end == LAB_END_KILLED ? r->kill_t : -1, report_usage, r->peak, &r->sum);
}

static void result_init(const struct lab_opts *o, struct lab_result *ret)
{
    *ret = (struct lab_result){
        .mode = o->mode,
        .max = o->max,
        .high = o->high,
        .rate = o->rate,
        .kind = o->kind,
        .killed = SIZE_MAX,
        .kill_t = -1,
        .peak = OPT_ABSENT,
        .observed = {.oom_kill_before = OPT_ABSENT,
                     .oom_kill_after = OPT_ABSENT,
                     .limit = OPT_ABSENT},
    };
    memset(&ret->ev_before, 0xff, sizeof(ret->ev_before));
    memset(&ret->ev_after, 0xff, sizeof(ret->ev_after));
}

/* file and mixed: the file the eater re-reads, on a disk file system */
static int make_scratch_file(const struct lab_opts *o, struct lab_result *ret, int *file_fd)
{
    ret->file_bytes = o->file_bytes            ? o->file_bytes
                      : o->kind == EATER_MIXED ? o->max / 2
                                               : o->max + o->max / 2;
    const char *dir = o->file_dir ? o->file_dir : "/var/tmp";
    int r = eater_file_create(dir, ret->file_bytes, file_fd);
    if (r == -EXDEV)
        return fail(ret, r,
                    "%s is on tmpfs, whose pages are shmem: without swap they "
                    "cannot be evicted, so --kind %s would only eat anonymous "
                    "memory; give --file-dir a directory on disk",
                    dir, eater_kind_name(o->kind));
    if (r < 0)
        return fail(ret, r, "cannot write the scratch file in %s", dir);
    return 0;
}

/* signals go through the loop; blocked before the fork, so no exit is missed */
static int loop_with_signals(struct lab_ctx *x)
{
    int r;
    if ((r = loop_new(&x->loop)) < 0)
        return fail(x->r, r, "cannot set up the event loop");
    if ((r = loop_add_signal(x->loop, SIGCHLD, on_signal, x)) < 0 ||
        (r = loop_add_signal(x->loop, SIGINT, on_signal, x)) < 0 ||
        (r = loop_add_signal(x->loop, SIGTERM, on_signal, x)) < 0 ||
        (r = loop_add_signal(x->loop, SIGHUP, on_signal, x)) < 0)
        return fail(x->r, r, "cannot set up signal handling");
    return 0;
}

/* The first sample, the kernel-log marker, the eaters let go, the sampling and timeout timers. */
static int let_go(struct lab_ctx *x, const struct sysroot *sr)
{
    struct lab_result *ret = x->r;
    const struct lab_opts *o = x->o;
    int r;
    if ((r = take_sample(x, 0)) < 0)
        return fail(ret, r, "cannot read the cgroup %s", ret->cgroup);
    ret->ev_before = ret->series.v[0].ev;
    if (x->kr)
        write_marker(x, sr);
    x->t0 = clock_mono_s();
    x->going = true;
    for (size_t i = 0; i < ret->neaters; i++)
        if ((r = eater_go(&x->eaters[i])) < 0)
            return fail(ret, r, "cannot start the eater %s", ret->eaters[i].comm);
    if ((r = loop_add_timer(x->loop, o->interval_ms, true, on_tick, x, NULL)) < 0 ||
        (r = loop_add_timer(x->loop, o->timeout_ms, false, on_timeout, x, NULL)) < 0 ||
        (x->kr && (r = loop_add_fd(x->loop, x->kr->fd, EPOLLIN, on_kmsg, x, NULL)) < 0))
        return fail(ret, r, "cannot set up the event loop");
    return 0;
}

int lab_run(const struct sysroot *sr, const struct cgroup_hier *h, const struct kver *k,
            const struct lab_opts *o, struct lab_result *ret)
{
    result_init(o, ret);
    struct lab_ctx x = {.r = ret, .o = o, .h = h};
    x.cg.dirfd = x.cg.twin_dirfd = x.cg.psi_dirfd = -1;
    for (size_t i = 0; i < LAB_MAX_EATERS; i++)
        x.eaters[i] = (struct eater){.pid = -1, .sock = -1};
    int file_fd = -1;
    int r;

    if (!sr->live)
        return fail(ret, -EINVAL, "the lab runs on this machine only, not under --root");
    if (h->memory_version == 0)
        return fail(ret, -ENOMEDIUM, "no memory controller is mounted");
    (void)scratch_sweep_stale(h, sr, LAB_PREFIX, "oomwarden", ret->stale, 4, &ret->nstale);
    if (o->kind != EATER_ANON && (r = make_scratch_file(o, ret, &file_fd)) < 0)
        return r;

    char name[SCRATCH_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s-%d", LAB_PREFIX, (int)getpid());
    r = scratch_create(h, name, &x.cg, &ret->enabled_memory);
    if (r < 0) {
        if (file_fd >= 0)
            close(file_fd);
        return fail(ret, r, "cannot create the cgroup %s", name);
    }
    snprintf(ret->cgroup, sizeof(ret->cgroup), "%s", x.cg.path);
    ret->version = x.cg.version;
    ret->psi_twin = x.cg.psi_dirfd >= 0 && x.cg.psi_dirfd == x.cg.twin_dirfd;
    if ((r = scratch_set_limits(&x.cg, o->max, o->high)) < 0) {
        fail(ret, r, "cannot set the limits of %s", ret->cgroup);
        goto out;
    }
    if ((r = loop_with_signals(&x)) < 0)
        goto out;
    open_kmsg(&x, sr);

    plan_eaters(o, ret);
    if ((r = start_eaters(&x, file_fd)) < 0)
        goto out;
    if (file_fd >= 0) {
        close(file_fd); /* the eater has it mapped */
        file_fd = -1;
    }
    predict(&x, sr, k);
    ret->psi = x.cg.psi_dirfd >= 0;
    if (o->on_start)
        o->on_start(ret, o->ctx);
    if ((r = let_go(&x, sr)) < 0)
        goto out;
    r = loop_run(x.loop);
    if (r == 0 && x.err)
        r = x.err;
    if (r < 0 && !ret->error[0])
        fail(ret, r, "the event loop failed");
    if (x.kr) /* whatever came in since the last wakeup */
        on_kmsg(x.loop, x.kr->fd, EPOLLIN, &x);
    read_final(&x);

out:
    if (file_fd >= 0)
        close(file_fd);
    stop_eaters(&x);
    if (scratch_destroy(&x.cg) < 0)
        ret->cleanup_failed = true;
    if (x.kr) {
        kmsg_reader_close(x.kr);
        free(x.kr);
    }
    loop_free(x.loop);
    if (r >= 0)
        conclude(&x);
    return r < 0 ? r : 0;
}

void lab_result_release(struct lab_result *r)
{
    lab_series_release(&r->series);
    oom_observed_release(&r->observed);
    if (r->log) {
        oomlog_release(r->log);
        free(r->log);
    }
    r->log = NULL;
    r->event = NULL;
}
