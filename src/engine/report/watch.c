#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/sys/clock.h"
#include "base/sys/fileio.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"
#include "model/workload/identity.h"
#include "model/log/oomlog.h"
#include "model/workload/podnames.h"
#include "engine/report/explain/explain.h"
#include "engine/runtime/hooks.h"
#include "model/log/killobs.h"
#include "engine/runtime/loop.h"
#include "oomfollow.h"
#include "watch-int.h"

/* memory.events of one cgroup is reported at most this often, except OOM kills */
#define EVENTS_COALESCE_MS 1000
#define ALERT_INTERVAL_MS 2000

/* ---- memory.events ------------------------------------------------------------------------ */

static void remove_cgroup(struct watch *w, struct wcg *cg);

/* Reports what moved since the last report. */
static void report_events(struct watch *w, struct wcg *cg, bool force)
{
    struct cgroup_events now;
    int r = cgroup_read_events_at(&w->hier, cg->dirfd, &now);
    if (r < 0) {
        if (r == -ENOENT)
            remove_cgroup(w, cg);
        return;
    }
    if (w->hier.memory_version == 1)
        now.oom = cg->v1_ooms;
    (void)killobs_reading(&w->obs, cg->path, now.oom_kill, loop_now_ms());
    bool killed = false, any = false;
    for (size_t i = 0; i < CGROUP_EVENTS_N; i++) {
        uint64_t a = cgroup_event_value(&cg->reported, i), b = cgroup_event_value(&now, i);
        if (opt_has(a) && opt_has(b) && b > a) {
            any = true;
            if (strncmp(cgroup_event_name(i), "oom", 3) == 0)
                killed = true;
        }
    }
    if (!any) {
        cg->reported = now; /* counters that appeared (first read after creation) */
        return;
    }
    uint64_t t = loop_now_ms();
    if (!force && !killed && t - cg->reported_ms < EVENTS_COALESCE_MS) {
        /* busy cgroup (memory.high throttling fires constantly): one report per second */
        if (cg->flush_timer)
            loop_timer_arm(cg->flush_timer, EVENTS_COALESCE_MS - (t - cg->reported_ms));
        return;
    }
    struct wevent e;
    wevent_begin(&e, "memory_events");
    wevent_str(&e, "cgroup", "CGROUP", cg->path);
    struct identity id;
    wevent_names(w, &e, cg->path, &id);
    buf_printf(&e.text, "%s", cg->path);
    wevent_text_names(&e, &id);
    buf_putc(&e.text, ':');
    json_kv_obj_begin(&e.j, "changes");
    for (size_t i = 0; i < CGROUP_EVENTS_N; i++) {
        const char *name = cgroup_event_name(i);
        uint64_t a = cgroup_event_value(&cg->reported, i), b = cgroup_event_value(&now, i);
        if (!opt_has(a) || !opt_has(b) || b <= a)
            continue;
        json_kv_obj_begin(&e.j, name);
        json_kv_u64(&e.j, "delta", b - a);
        json_kv_u64(&e.j, "total", b);
        json_obj_end(&e.j);
        buf_printf(&e.text, " %s +%" PRIu64 " (now %" PRIu64 ")", name, b - a, b);
        char key[32], val[24];
        snprintf(key, sizeof(key), "%s", name);
        for (char *k = key; *k; k++)
            *k = (char)(*k >= 'a' && *k <= 'z' ? *k - 32 : *k);
        snprintf(val, sizeof(val), "%" PRIu64, b - a);
        wevent_env(&e, key, val);
    }
    json_obj_end(&e.j);
    json_kv_str(&e.j, "source",
                w->hier.memory_version == 2 ? "memory.events" : "memory.failcnt+oom_control");
    wevent_emit(w, &e);
    cg->reported = now;
    cg->reported_ms = t;
}

static int on_flush(struct loop *l, void *ctx)
{
    (void)l;
    struct wcg *cg = ctx;
    report_events(cg->w, cg, true);
    return 0;
}

static int on_eventfd(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    struct wcg *cg = ctx;
    uint64_t n = 0;
    if (read(fd, &n, sizeof(n)) == sizeof(n))
        cg->v1_ooms += n;
    report_events(cg->w, cg, false);
    /* the notification comes when the OOM starts; oom_kill moves only once the victim is
     * chosen, and nothing notifies that: look again shortly */
    if (cg->flush_timer)
        loop_timer_arm(cg->flush_timer, 250);
    return 0;
}

/* ---- PSI triggers and alert rules --------------------------------------------------------- */

static int on_trigger(struct loop *l, int fd, uint32_t events, void *ctx)
{
    struct trigger *t = ctx;
    struct watch *w = t->w;
    if (events & EPOLLERR) {
        /* the cgroup is gone: the trigger is dead */
        loop_remove(l, t->src);
        t->src = NULL;
        return 0;
    }
    struct psi p = {0};
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    if (read_virtual_fd(fd, &b) > 0)
        (void)psi_parse(b.data, b.len, &p);
    buf_release(&b);
    struct wevent e;
    wevent_begin(&e, "psi_trigger");
    wevent_str(&e, "target", "TARGET", t->target);
    char spec[64];
    snprintf(spec, sizeof(spec), "%s %" PRIu64 "us %" PRIu64 "us", t->spec.full ? "full" : "some",
             t->spec.stall_us, t->spec.window_us);
    wevent_str(&e, "trigger", "TRIGGER", spec);
    wevent_json_psi(&e.j, "pressure", &p);
    buf_printf(&e.text,
               "%s: memory %s stall over %.0f ms in %.1f s (some avg10 %.2f%%, full avg10 %.2f%%)",
               t->target, t->spec.full ? "full" : "some", (double)t->spec.stall_us / 1000.0,
               (double)t->spec.window_us / 1e6, (double)p.some.avg10 / 100.0,
               (double)p.full.avg10 / 100.0);
    wevent_emit(w, &e);
    return 0;
}

static int open_triggers(struct watch *w, int dirfd, const char *path, const char *target,
                         struct trigger **ret, size_t *ret_n)
{
    const struct watch_opts *o = w->o;
    if (o->ntriggers == 0)
        return 0;
    struct trigger *v = calloc(o->ntriggers, sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    int err = 0;
    for (size_t i = 0; i < o->ntriggers; i++) {
        int fd = psi_trigger_open(dirfd, path, &o->triggers[i]);
        if (fd < 0) {
            err = fd;
            continue;
        }
        v[n] = (struct trigger){.fd = fd, .spec = o->triggers[i], .target = target, .w = w};
        int r = loop_add_fd(w->loop, fd, EPOLLPRI, on_trigger, &v[n], &v[n].src);
        if (r < 0) {
            close(fd);
            err = r;
            continue;
        }
        n++;
    }
    *ret = v;
    *ret_n = n;
    return n ? 0 : err;
}

static void close_triggers(struct watch *w, struct trigger *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].src)
            loop_remove(w->loop, v[i].src);
        close(v[i].fd);
    }
    free(v);
}

static void eval_rules(struct watch *w, const char *target, const struct psi *p,
                       struct alert_track *tracks)
{
    uint64_t now = loop_now_ms();
    for (size_t i = 0; i < w->o->nrules; i++) {
        const struct alert_rule *r = &w->o->rules[i];
        enum alert_change ch = alert_eval(r, &tracks[i], p, now);
        if (ch == ALERT_NO_CHANGE)
            continue;
        struct wevent e;
        wevent_begin(&e, "alert");
        wevent_str(&e, "target", "TARGET", target);
        wevent_str(&e, "rule", "RULE", r->text);
        wevent_str(&e, "state", "STATE", ch == ALERT_RAISED ? "firing" : "resolved");
        char v[24];
        snprintf(v, sizeof(v), "%.2f", (double)tracks[i].value / 100.0);
        json_kv_double(&e.j, "value", (double)tracks[i].value / 100.0, 2);
        wevent_env(&e, "VALUE", v);
        wevent_json_psi(&e.j, "pressure", p);
        buf_printf(&e.text, "%s %s: %s (now %s%%)", ch == ALERT_RAISED ? "FIRING" : "resolved",
                   target, r->text, v);
        wevent_emit(w, &e);
    }
}

static int on_alert_timer(struct loop *l, void *ctx)
{
    (void)l;
    struct watch *w = ctx;
    struct psi p = {0};
    if (psi_read_system(w->sr, &p) == 0)
        eval_rules(w, "system", &p, w->sys_tracks);
    for (size_t i = 0; i < w->ncgs; i++) {
        struct wcg *cg = w->cgs[i];
        if (cg->dead || !cg->selected || cg->psi_dirfd < 0 || !cg->tracks)
            continue;
        if (psi_read_at(cg->psi_dirfd, "memory.pressure", &p) == 0)
            eval_rules(w, cg->path, &p, cg->tracks);
    }
    return 0;
}

/* ---- cgroups: adding, removing, following new ones ---------------------------------------- */

static bool selected(const struct watch *w, const char *path)
{
    for (size_t i = 0; i < w->o->ncgroups; i++)
        if (fnmatch(w->o->cgroups[i], path, 0) == 0)
            return true;
    return false;
}

static struct wcg *find_wd(struct watch *w, int wd, bool *is_events)
{
    for (size_t i = 0; i < w->ncgs; i++) {
        struct wcg *cg = w->cgs[i];
        if (cg->dead)
            continue;
        if (cg->wd_dir == wd) {
            *is_events = false;
            return cg;
        }
        if (cg->wd_events == wd) {
            *is_events = true;
            return cg;
        }
    }
    return NULL;
}

static int add_watch_at(struct watch *w, int dirfd, const char *name, uint32_t mask)
{
    char p[64];
    if (name)
        snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name);
    else
        snprintf(p, sizeof(p), "/proc/self/fd/%d", dirfd);
    int wd = inotify_add_watch(w->ifd, p, mask);
    return wd < 0 ? -errno : wd;
}

static void add_tree(struct watch *w, const char *path);

static int add_cgroup(struct watch *w, const char *path)
{
    for (size_t i = 0; i < w->ncgs; i++)
        if (!w->cgs[i]->dead && strcmp(w->cgs[i]->path, path) == 0)
            return 0;
    int dirfd = cgroup_open_dir(&w->hier, path);
    if (dirfd < 0)
        return dirfd;
    struct wcg *cg = calloc(1, sizeof(*cg));
    if (!cg || !(cg->path = strdup(path))) {
        free(cg);
        close(dirfd);
        return -ENOMEM;
    }
    cg->w = w;
    cg->dirfd = dirfd;
    cg->wd_dir = cg->wd_events = cg->efd = cg->ocfd = cg->psi_dirfd = -1;
    memset(&cg->reported, 0xff, sizeof(cg->reported));
    (void)cgroup_read_events_at(&w->hier, dirfd, &cg->reported);
    if (w->hier.memory_version == 1)
        cg->reported.oom = 0;
    (void)killobs_reading(&w->obs, path, cg->reported.oom_kill, loop_now_ms());
    cg->reported_ms = 0;
    if (ARRAY_GROW(w->cgs, w->ncgs, w->cap, 64) < 0) {
        close(dirfd);
        free(cg->path);
        free(cg);
        return -ENOMEM;
    }
    w->cgs[w->ncgs++] = cg;

    /* new children: their creation shows up here */
    cg->wd_dir = add_watch_at(w, dirfd, NULL, IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR);
    if (w->o->memory_events) {
        if (w->hier.memory_version == 2) {
            cg->wd_events = add_watch_at(w, dirfd, "memory.events", IN_MODIFY);
        } else {
            /* v1: the memory.oom_control notifier (cgroup-v1/memory.rst §10) */
            cg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            cg->ocfd = openat(dirfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
            if (cg->efd >= 0 && cg->ocfd >= 0) {
                char line[32];
                snprintf(line, sizeof(line), "%d %d", cg->efd, cg->ocfd);
                if (write_string_at(dirfd, "cgroup.event_control", line) == 0)
                    (void)loop_add_fd(w->loop, cg->efd, EPOLLIN, on_eventfd, cg, &cg->efd_src);
            }
        }
        (void)loop_add_timer(w->loop, EVENTS_COALESCE_MS, false, on_flush, cg, &cg->flush_timer);
        /* a one-shot timer created armed: idle until a busy cgroup needs it */
        if (cg->flush_timer)
            loop_timer_disarm(cg->flush_timer);
    }
    cg->selected = selected(w, path);
    if (cg->selected) {
        cg->psi_dirfd = cgroup_open_pressure_dir(&w->hier, path);
        if (cg->psi_dirfd >= 0) {
            (void)open_triggers(w, cg->psi_dirfd, "memory.pressure", cg->path, &cg->trig,
                                &cg->ntrig);
            if (w->o->nrules)
                cg->tracks = calloc(w->o->nrules, sizeof(*cg->tracks));
        }
    }
    return 0;
}

/* Adds `path` and everything below it (a new cgroup may already have children). */
static void add_tree(struct watch *w, const char *path)
{
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read(&w->hier, path, &s) < 0)
        return;
    for (size_t i = 0; i < s.n; i++)
        (void)add_cgroup(w, s.v[i].path);
    cgroup_snapshot_release(&s);
}

static void remove_cgroup(struct watch *w, struct wcg *cg)
{
    if (cg->dead)
        return;
    cg->dead = true;
    killobs_forget(&w->obs, cg->path);
    if (cg->wd_dir >= 0)
        (void)inotify_rm_watch(w->ifd, cg->wd_dir);
    if (cg->wd_events >= 0)
        (void)inotify_rm_watch(w->ifd, cg->wd_events);
    if (cg->efd_src)
        loop_remove(w->loop, cg->efd_src);
    if (cg->flush_timer)
        loop_remove(w->loop, cg->flush_timer);
    close_triggers(w, cg->trig, cg->ntrig);
    cg->trig = NULL;
    cg->ntrig = 0;
    if (cg->efd >= 0)
        close(cg->efd);
    if (cg->ocfd >= 0)
        close(cg->ocfd);
    if (cg->psi_dirfd >= 0)
        close(cg->psi_dirfd);
    close(cg->dirfd);
    free(cg->tracks);
    cg->tracks = NULL;
}

static void on_cgroup_event(void *ctx, const struct inotify_event *ie)
{
    struct watch *w = ctx;
    if (ie->mask & IN_Q_OVERFLOW) {
        /* events were lost: pick up every cgroup again, report counters that moved */
        add_tree(w, "/");
        for (size_t i = 0; i < w->ncgs; i++)
            if (!w->cgs[i]->dead)
                report_events(w, w->cgs[i], true);
        return;
    }
    bool is_events;
    struct wcg *cg = find_wd(w, ie->wd, &is_events);
    if (!cg)
        return;
    if (is_events && (ie->mask & IN_MODIFY)) {
        report_events(w, cg, false);
    } else if (!is_events && (ie->mask & IN_CREATE) && (ie->mask & IN_ISDIR) && ie->len) {
        char *child = cgpath_child(cg->path, ie->name);
        if (child) {
            add_tree(w, child);
            free(child);
        }
    } else if (ie->mask & (IN_DELETE_SELF | IN_IGNORED)) {
        remove_cgroup(w, cg);
    }
}

static int on_inotify(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    struct watch *w = ctx;
    inotify_drain(fd, on_cgroup_event, w);
    /* forget cgroups that are gone; pointers stay valid until here */
    size_t k = 0;
    for (size_t i = 0; i < w->ncgs; i++) {
        if (w->cgs[i]->dead) {
            free(w->cgs[i]->path);
            free(w->cgs[i]);
        } else {
            w->cgs[k++] = w->cgs[i];
        }
    }
    w->ncgs = k;
    return 0;
}

/* ---- OOM kills from the kernel log -------------------------------------------------------- */

/* Where the kill was, by the cgroups' own counters, for a report that does not say: every
 * watched cgroup's oom_kill is read now (the kernel moves it right after the kill line, so it
 * has moved by the time the report has settled), then the movement is matched with the kill. */
static void observe_kill(struct watch *w, const struct oom_event *oe, struct oom_observed *ret)
{
    for (size_t i = 0; i < w->ncgs; i++) {
        struct wcg *cg = w->cgs[i];
        struct cgroup_events now;
        if (!cg->dead && cgroup_read_events_at(&w->hier, cg->dirfd, &now) == 0)
            (void)killobs_reading(&w->obs, cg->path, now.oom_kill, loop_now_ms());
    }
    if (killobs_match(&w->obs, oe, loop_now_ms(), ret) == 1)
        (void)oom_observed_read_limit(&w->hier, ret);
}

static void on_oom_event(void *ctx, const struct oom_event *oe)
{
    struct watch *w = ctx;
    struct oom_observed obs = {
        .oom_kill_before = OPT_ABSENT, .oom_kill_after = OPT_ABSENT, .limit = OPT_ABSENT};
    if (w->o->memory_events && w->hier.memory_version)
        observe_kill(w, oe, &obs);
    /* the victim's cgroup: the kernel's, else ours */
    const char *cgroup = oe->task_memcg ? oe->task_memcg : obs.cgroup;
    struct wevent e;
    wevent_begin(&e, "oom_kill");
    const struct oom_victim *v = oom_event_primary(oe);
    const char *scope = oom_scope_name(oe->scope);
    wevent_str(&e, "scope", "SCOPE", scope);
    if (v) {
        json_kv_i64_opt(&e.j, "pid", v->pid);
        wevent_i64(&e, "PID", v->pid);
        wevent_str(&e, "comm", "COMM", v->comm);
    }
    wevent_str(&e, "oom_memcg", "OOM_CGROUP", oe->oom_memcg);
    json_kv_str(&e.j, "task_memcg", oe->task_memcg);
    wevent_env(&e, "CGROUP", cgroup);
    wevent_env(&e, "CGROUP_SOURCE", oe->task_memcg ? "kernel" : cgroup ? "observed" : NULL);
    json_key(&e.j, "observed");
    oom_observed_json(&obs, oe->rate_limited, &e.j);
    struct identity id;
    wevent_names(w, &e, cgroup, &id);
    if (cgroup) {
        if (id.pod_uid[0])
            wevent_env(&e, "POD_UID", id.pod_uid);
        if (id.container_id[0])
            wevent_env(&e, "CONTAINER_ID", id.container_id);
        if (id.systemd_unit[0])
            wevent_env(&e, "UNIT", id.systemd_unit);
    }
    wevent_u64(&e, "victims", "VICTIMS", oe->nvictims);
    json_key(&e.j, "report");
    (void)explain_event_json(oe, &w->names, &e.j);
    /* text: the same block `explain` prints, under one event line */
    if (v)
        buf_printf(&e.text, "%s: killed %s (pid %" PRId64 ")%s", scope, v->comm, v->pid,
                   oe->nvictims > 1 ? " and others" : "");
    else
        buf_printf(&e.text, "%s: OOM killer ran (no victim in the report)", scope);
    if (cgroup) {
        buf_printf(&e.text, " in %s%s", cgroup, oe->task_memcg ? "" : " (observed)");
        wevent_text_names(&e, &id);
    }
    if (obs.source != OOM_OBSERVED_NONE) {
        buf_puts(&e.text, "\n    Observed ");
        oom_observed_text(&obs, oe->rate_limited, &e.text);
    }
    struct buf block = BUF_INIT(CAP_OUTPUT);
    struct explain_style style = {
        .color = w->color, .boot_wall = clock_boot_wall(), .names = &w->names};
    if (explain_event_text(oe, 0, 1, &style, &block) == 0 && block.len) {
        buf_putc(&e.text, '\n');
        /* indent the block under the event line; drop its final newline (wevent_emit adds one) */
        const char *s = buf_cstr(&block);
        while (*s) {
            const char *nl = strchr(s, '\n');
            size_t n = nl ? (size_t)(nl - s) : strlen(s);
            buf_puts(&e.text, "    ");
            buf_append(&e.text, s, n);
            s += n;
            if (*s == '\n')
                s++;
            if (*s)
                buf_putc(&e.text, '\n');
        }
    }
    buf_release(&block);
    wevent_emit(w, &e);
    oom_observed_release(&obs);
}

static void on_kmsg_lost(void *ctx, uint64_t records)
{
    struct watch *w = ctx;
    struct wevent e;
    wevent_begin(&e, "kmsg_lost");
    wevent_u64(&e, "records", "RECORDS", records);
    buf_printf(&e.text,
               "the kernel log overran: %" PRIu64 " records lost before they were read "
               "(an OOM report may be among them)",
               records);
    wevent_emit(w, &e);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int on_stop(struct loop *l, int signo, void *ctx)
{
    (void)signo;
    (void)ctx;
    loop_quit(l, 0);
    return 0;
}

static int on_duration(struct loop *l, void *ctx)
{
    (void)ctx;
    loop_quit(l, 0);
    return 0;
}

/* System-wide triggers: /proc/pressure/memory, or the v2 root cgroup's memory.pressure, the same
 * PSI group, when the former refuses them (seen on 6.18: docs/kernel-notes.md). */
static int system_triggers(struct watch *w)
{
    int r =
        open_triggers(w, w->sr->proc_fd, "pressure/memory", "system", &w->sys_trig, &w->nsys_trig);
    if (r == 0 || w->o->ntriggers == 0)
        return r;
    free(w->sys_trig);
    w->sys_trig = NULL;
    int dirfd = cgroup_open_pressure_dir(&w->hier, "/");
    if (dirfd < 0)
        return r;
    int q = open_triggers(w, dirfd, "memory.pressure", "system", &w->sys_trig, &w->nsys_trig);
    close(dirfd);
    if (q == 0)
        log_info("system-wide PSI triggers are on the root cgroup's memory.pressure "
                 "(/proc/pressure/memory refused them: %s)",
                 strerror(-r));
    return q;
}

/* inotify over the memory hierarchy: memory.events and cgroups that come and go */
static int watch_cgroups(struct watch *w)
{
    if (!w->hier.memory_version) {
        if (w->o->memory_events)
            log_warn("no memory cgroup hierarchy: memory.events are not watched");
        return 0;
    }
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0)
        return -errno;
    int r = loop_add_fd(w->loop, w->ifd, EPOLLIN, on_inotify, w, NULL);
    if (r < 0)
        return r;
    add_tree(w, "/");
    return 0;
}

/* the machine's PSI triggers and the alert rules' timer */
static int watch_pressure(struct watch *w)
{
    const struct watch_opts *o = w->o;
    int r;
    if (o->ntriggers && (r = system_triggers(w)) < 0) {
        log_error("cannot register PSI triggers on %s: %s%s",
                  sysroot_path(w->sr, "/proc/pressure/memory"), strerror(-r),
                  r == -ENOENT || r == -EOPNOTSUPP ? " (PSI is off: boot with psi=1)" : "");
        return r;
    }
    if (o->nrules) {
        w->sys_tracks = calloc(o->nrules, sizeof(*w->sys_tracks));
        if (!w->sys_tracks)
            return -ENOMEM;
        if ((r = loop_add_timer(w->loop, ALERT_INTERVAL_MS, true, on_alert_timer, w, NULL)) < 0)
            return r;
    }
    return 0;
}

/* OOM kills from /dev/kmsg; without it the rest is still watched */
static void watch_kernel_log(struct watch *w)
{
    struct oomfollow_callbacks cb = {.event = on_oom_event, .lost = on_kmsg_lost, .ctx = w};
    int q = oomfollow_start(w->loop, w->sr, w->o->kmsg_from_start, &cb, &w->follow);
    if (q == -EPERM || q == -EACCES)
        log_warn("cannot read %s: %s; OOM kills will not be reported (kernel.dmesg_restrict=1 "
                 "needs CAP_SYSLOG); memory.events and PSI still are",
                 sysroot_path(w->sr, "/dev/kmsg"), strerror(-q));
    else if (q < 0)
        log_warn("cannot follow %s: %s; OOM kills will not be reported",
                 sysroot_path(w->sr, "/dev/kmsg"), strerror(-q));
}

static void watch_release(struct watch *w)
{
    for (size_t i = 0; i < w->ncgs; i++) {
        remove_cgroup(w, w->cgs[i]);
        free(w->cgs[i]->path);
        free(w->cgs[i]);
    }
    free(w->cgs);
    close_triggers(w, w->sys_trig, w->nsys_trig);
    free(w->sys_tracks);
    hooks_free(w->hooks);
    if (w->ifd >= 0)
        close(w->ifd);
    cgroup_hier_close(&w->hier);
    killobs_release(&w->obs);
    podnames_release(&w->names);
    loop_free(w->loop);
}

int watch_run(const struct sysroot *sr, const struct watch_opts *o)
{
    struct watch w = {.sr = sr, .o = o, .ifd = -1, .color = o->color, .names = PODNAMES_INIT};
    int r = loop_new(&w.loop);
    if (r < 0)
        return r;
    r = cgroup_hier_open(sr, &w.hier);
    if (r < 0) {
        log_error("cannot find the cgroup hierarchies: %s", strerror(-r));
        goto out;
    }
    killobs_init(&w.obs, w.hier.memory_version);
    (void)loop_add_signal(w.loop, SIGTERM, on_stop, &w);
    (void)loop_add_signal(w.loop, SIGINT, on_stop, &w);
    signal(SIGPIPE, SIG_IGN);
    if (o->exec && (r = hooks_new(w.loop, o->exec, o->exec_max, o->exec_timeout_ms, &w.hooks)) < 0)
        goto out;
    if ((r = watch_cgroups(&w)) < 0 || (r = watch_pressure(&w)) < 0)
        goto out;
    if (o->duration_ms)
        (void)loop_add_timer(w.loop, o->duration_ms, false, on_duration, &w, NULL);
    if (o->kmsg)
        watch_kernel_log(&w);
    r = loop_run(w.loop);
    /* a report still settling is reported before we go */
    oomfollow_stop(w.follow);
    w.follow = NULL;
out:
    watch_release(&w);
    return r;
}
