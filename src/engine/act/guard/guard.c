/* The running guard: its timer and PSI triggers, the memory floor, and one decision from ranking
 * to the kill. The headroom trigger is in guard-headroom.c, the event in guard-event.c. */
#include "guard-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/fmt.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/sys/clock.h"
#include "engine/runtime/loop.h"
#include "model/sysroot.h"

uint64_t guard_kills(const struct guard *g, enum guard_reason r)
{
    return g ? __atomic_load_n(&g->kills[r], __ATOMIC_RELAXED) : 0;
}

void guard_self_state(const struct guard *g, struct guard_self *ret)
{
    *ret = g->self;
}

static void self_protect(struct guard *g)
{
    /* resident before it is needed: MCL_ONFAULT (4.4) locks pages as they are touched instead
     * of faulting in every mapping (thread stacks) now */
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0 ||
        (errno == EINVAL && mlockall(MCL_CURRENT | MCL_FUTURE) == 0)) {
        g->self.mlocked = true;
    } else {
        log_warn("guard: mlockall failed (%s): under memory pressure the guard's own pages can be "
                 "reclaimed and it may stall when it is needed most (needs CAP_IPC_LOCK or "
                 "LimitMEMLOCK=infinity)", strerror(errno));
    }
    /* freed memory stays in the (locked) heap and is reused by the next decision, instead of
     * going back to the kernel and being faulted in again under pressure */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    char *reserve = malloc(HEAP_RESERVE);
    if (reserve) {
        memset(reserve, 1, HEAP_RESERVE);
        free(reserve);
    }
    int fd = openat(g->sr->proc_fd, "self/oom_score_adj", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        g->self.own_adj = 0;
        return;
    }
    if (write(fd, "-1000", 5) == 5) {
        g->self.own_adj = -1000;
    } else {
        int e = errno;
        char b[16];
        ssize_t n = pread(fd, b, sizeof(b), 0);
        struct cursor c = cursor_make(b, n > 0 ? (size_t)n : 0);
        int64_t adj = 0;
        (void)cursor_i64(&c, &adj);
        g->self.own_adj = (int)adj;
        log_warn("guard: cannot set its own oom_score_adj to -1000 (%s%s): it stays at %d, so the "
                 "kernel's OOM killer could take the guard; the guard itself never chooses itself "
                 "and is mlocked. Give it CAP_SYS_RESOURCE (systemd: OOMScoreAdjust=-1000; "
                 "Kubernetes: capabilities add SYS_RESOURCE) to protect it",
                 strerror(e), e == EACCES ? ": lowering needs CAP_SYS_RESOURCE" : "",
                 g->self.own_adj);
    }
    close(fd);
}

static void emit(struct guard *g, struct buf *json, struct buf *text)
{
    if (g->sink.event)
        g->sink.event(g->sink.ctx, buf_cstr(json), buf_cstr(text));
}

void guard_prep_release(struct prep *p)
{
    if (p->valid && p->k.chosen != SIZE_MAX && p->t.pidfd >= 0)
        killer_close(&p->t);
    free(p->cgroup);
    free(p->verdicts);
    free(p->cand);
    free(p->order);
    free(p->sub.v);
    victim_list_release(&p->global);
    if (p->have_dom)
        oomdomain_release(&p->dom);
    proc_table_release(&p->procs);
    *p = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
}

static int cmp_proc_pid(const void *a, const void *b)
{
    pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
    return (x > y) - (x < y);
}

/*
 * The processes of one cgroup's subtree (and, for rules with `children = yes`, their ancestors,
 * which are matched but are not in the domain). Reading all of /proc cost ~60 us a process on
 * the 6.18 test host: 300 ms with 5,000 processes, between the trigger and the kill, while the
 * cgroup's last inactive file pages went; its own few cost well under a millisecond. Only on the
 * live root, where cgroup.procs and /proc speak of the same PID namespace. Returns 0 or a
 * negative errno (the caller then reads everything).
 */
static int snapshot_cgroup(struct guard *g, const char *cgroup, unsigned fields,
                           struct proc_table *ret)
{
    if (!g->sr->live || !g->hier_ok)
        return -EOPNOTSUPP;
    pid_t *pids;
    size_t n;
    int r = cgroup_subtree_pids(&g->hier, cgroup, &pids, &n);
    if (r < 0)
        return r;
    r = procs_snapshot_pids(g->sr, pids, n, fields, ret);
    free(pids);
    if (r < 0)
        return r;
    bool children = false;
    for (size_t i = 0; i < g->policy->n; i++)
        children |= g->policy->v[i].children;
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    for (int depth = 0; children && r == 0 && depth < 64; depth++) {
        size_t before = ret->n;
        for (size_t i = 0; i < before && r == 0; i++) {
            pid_t pp = ret->v[i].ppid;
            /* [0, before) is sorted; what this round added is looked through below */
            const struct proc_table sorted = {.v = ret->v, .n = before, .cap = before};
            if (pp <= 0 || proc_table_find(&sorted, pp))
                continue;
            bool queued = false;
            for (size_t k = before; k < ret->n && !queued; k++)
                queued = ret->v[k].pid == pp;
            if (queued)
                continue;
            if (ret->n == ret->cap) {
                size_t cap = ret->cap * 2;
                struct proc *v = realloc(ret->v, cap * sizeof(*v));
                if (!v) {
                    r = -ENOMEM;
                    break;
                }
                ret->v = v;
                ret->cap = cap;
            }
            int q = procs_read_one(g->sr, pp, fields, &b, &ret->v[ret->n]);
            if (q == 0)
                ret->n++;
            else if (q == -ENOMEM)
                r = q;
        }
        if (ret->n == before)
            break;
        qsort(ret->v, ret->n, sizeof(*ret->v), cmp_proc_pid);
    }
    buf_release(&b);
    if (r < 0)
        proc_table_release(ret);
    return r;
}

int guard_prepare(struct guard *g, const char *cgroup, struct prep *p)
{
    *p = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
    uint64_t t0 = clock_mono_us();
    if (cgroup && !(p->cgroup = strdup(cgroup)))
        return -ENOMEM;
    unsigned fields = PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP |
                      policy_proc_fields(g->policy);
    /* a cgroup's own OOM chooses among its own processes: read those, not the machine's */
    bool subset = cgroup && snapshot_cgroup(g, cgroup, fields, &p->procs) == 0;
    int r = subset ? 0 : procs_snapshot(g->sr, fields, &p->procs);
    if (r < 0)
        goto fail;
    (void)meminfo_read(g->sr, &p->mi);
    if (!cgroup) {
        r = victims_rank_global(&p->procs, &g->kernel, &p->mi, g->sr->page_size, &p->global);
        p->vl = &p->global;
    } else {
        r = oomdomain_build(&g->hier, cgroup, &p->procs, &g->kernel, &p->mi,
                            oomdomain_vm_swappiness(g->sr), &p->dom);
        if (r == 0 && subset && p->dom.why != OOMDOMAIN_OWN_LIMIT) {
            /* its limit went away since it was watched: the domain is wider than what was read */
            oomdomain_release(&p->dom);
            proc_table_release(&p->procs);
            if ((r = procs_snapshot(g->sr, fields, &p->procs)) < 0)
                goto fail;
            r = oomdomain_build(&g->hier, cgroup, &p->procs, &g->kernel, &p->mi,
                                oomdomain_vm_swappiness(g->sr), &p->dom);
        }
        p->have_dom = r == 0;
        p->vl = &p->dom.victims;
    }
    if (r < 0)
        goto fail;
    /* a cgroup domain that is the whole machine (no limit above it): only its own processes */
    if (p->have_dom && p->dom.why == OOMDOMAIN_MACHINE) {
        const struct victim_list *all = p->vl;
        p->sub = (struct victim_list){.v = calloc(all->n ? all->n : 1, sizeof(*p->sub.v))};
        if (!p->sub.v) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < all->n; i++)
            if (oomdomain_in(&p->dom, i, cgroup))
                p->sub.v[p->sub.n++] = all->v[i];
        p->vl = &p->sub;
    }
    size_t n = p->n = p->vl->n;
    p->verdicts = calloc(n ? n : 1, sizeof(*p->verdicts));
    p->cand = calloc(n ? n : 1, sizeof(*p->cand));
    p->order = calloc(n ? n : 1, sizeof(*p->order));
    struct policy_eval ev;
    if (!p->verdicts || !p->cand || !p->order ||
        policy_eval_init(&ev, g->policy, g->sr, &p->procs) < 0) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        policy_eval_proc(&ev, (size_t)(p->vl->v[i].proc - p->procs.v), &p->verdicts[i]);
    policy_eval_release(&ev);
    p->ncand = guard_order(p->vl, p->verdicts, g->pid, p->cand, p->order);
    p->ranked_us = clock_mono_us();
    size_t tries = p->n < PIN_TRIES ? p->n : PIN_TRIES;
    (void)guard_pin_first(g->sr, p->cand, p->order, tries, g->pid, &p->t, &p->k);
    p->valid = true;
    p->prepared_us = t0;
    return 0;
fail:
    guard_prep_release(p);
    return r;
}


void guard_fire(struct guard *g, struct prep *p, enum guard_reason reason, const char *why,
                uint64_t trigger_us)
{
    const struct guard_opts *o = g->o;
    struct guard_kill *k = &p->k;
    if (k->chosen != SIZE_MAX && !o->dry_run) {
        int r = guard_kill_pinned(g->sr, &g->hier, p->cand, p->n, g->pid, &p->t,
                                  o->kill_timeout_ms, g->scratch, SCRATCH_LEN, k);
        if (r == -ESRCH) {
            /* it exited after it was pinned (maybe the kernel took it): nothing was killed */
            k->vanished++;
            k->chosen = SIZE_MAX;
        }
    }
    /* after the kill: the machine now, and the log (allocation is fine from here on) */
    uint64_t avail_after = OPT_ABSENT;
    struct meminfo mi_after = {0};
    if (!o->dry_run && k->signalled && meminfo_read(g->sr, &mi_after) == 0)
        avail_after = mi_after.mem_available;
    uint64_t now_ms = loop_now_ms();
    if (p->cgroup) {
        for (size_t i = 0; i < g->ncgs; i++)
            if (strcmp(g->cgs[i].path, p->cgroup) == 0)
                g->cgs[i].cooldown_until = now_ms + o->cooldown_ms;
    } else {
        g->global_cooldown_until = now_ms + o->cooldown_ms;
    }
    if (k->chosen != SIZE_MAX)
        __atomic_add_fetch(&g->kills[reason], 1, __ATOMIC_RELAXED);
    buf_reset(&g->table);
    (void)guard_table_text(g->policy, p->cand, p->order, p->n, o->table_rows, g->sr->page_size,
                           &g->table);
    struct buf text = BUF_INIT(CAP_OUTPUT), json = BUF_INIT(CAP_OUTPUT);
    guard_event_write(g, p, reason, why, trigger_us, avail_after, &json, &text);
    emit(g, &json, &text);
    buf_release(&text);
    buf_release(&json);
    guard_prep_release(p);
}

bool guard_armed_fresh(const struct prep *p, uint64_t cost_us, uint64_t t_us)
{
    return p->valid && p->k.chosen != SIZE_MAX &&
           t_us - p->prepared_us < 2 * ARM_REFRESH_MS * 1000 + 2 * cost_us;
}

uint64_t guard_arm_refresh_us(uint64_t cost_us)
{
    return ARM_REFRESH_MS * 1000 > 2 * cost_us ? ARM_REFRESH_MS * 1000 : 2 * cost_us;
}

void guard_decide(struct guard *g, enum guard_reason reason, const char *cgroup,
                   const char *why, uint64_t trigger_us)
{
    struct prep p;
    int r = guard_prepare(g, cgroup, &p);
    if (r < 0) {
        if (r != -ENOENT)
            log_error("guard: cannot rank the OOM domain of %s: %s", cgroup ? cgroup : "the node",
                      strerror(-r));
        return;
    }
    guard_fire(g, &p, reason, why, trigger_us);
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The machine-wide trigger: MemAvailable under its floor (and swap under its own, if any).
 * Returns the ms until it could need a look again. */
static uint64_t check_floor(struct guard *g, uint64_t t_us, uint64_t now_ms)
{
    const struct guard_opts *o = g->o;
    uint64_t next = o->max_interval_ms;
    struct meminfo mi;
    if (meminfo_read(g->sr, &mi) < 0 || !opt_has(mi.mem_available) || !opt_has(mi.mem_total))
        return next;
    uint64_t floor = guard_amount_of(&o->memory_floor, mi.mem_total);
    bool has_swap = opt_has(mi.swap_total) && mi.swap_total > 0;
    uint64_t sfloor = has_swap ? guard_amount_of(&o->swap_floor, mi.swap_total) : 0;
    bool mem_low = floor && mi.mem_available < floor;
    bool swap_low = !has_swap || (opt_has(mi.swap_free) && mi.swap_free < sfloor);
    if (mem_low && swap_low && now_ms >= g->global_cooldown_until) {
        char why[160];
        char a[FMT_SIZE_LEN], f[FMT_SIZE_LEN];
        snprintf(why, sizeof(why), "MemAvailable %s < floor %s%s", fmt_size(a, mi.mem_available),
                 fmt_size(f, floor), has_swap ? " and SwapFree under its floor" : "");
        if (guard_armed_fresh(&g->armed, g->armed_cost_us, t_us))
            guard_fire(g, &g->armed, GUARD_REASON_MEMORY_FLOOR, why, t_us);
        else
            guard_decide(g, GUARD_REASON_MEMORY_FLOOR, NULL, why, t_us);
        guard_prep_release(&g->armed);
        return o->min_interval_ms;
    }
    if (!floor)
        return next;
    /* memory is back above the floor (or swap is left): the episode is over, and the next time
     * it runs low is a new one */
    if (!(mem_low && swap_low))
        g->global_cooldown_until = 0;
    uint64_t left = mi.mem_available > floor ? mi.mem_available - floor : 0;
    if (o->fill_rate)
        next = left * 1000 / o->fill_rate;
    /* armed: the floor could be reached within ARM_HORIZON_MS at the assumed fill rate */
    bool near = o->fill_rate && left < o->fill_rate / 1000 * ARM_HORIZON_MS;
    if (!near) {
        if (g->armed.valid)
            guard_prep_release(&g->armed);
    } else if (!g->armed.valid ||
               t_us - g->armed.prepared_us >= guard_arm_refresh_us(g->armed_cost_us)) {
        guard_prep_release(&g->armed);
        uint64_t t0 = clock_mono_us();
        (void)guard_prepare(g, NULL, &g->armed);
        g->armed_cost_us = clock_mono_us() - t0;
    }
    return next;
}

/* Every trigger that polls, once; re-arms the timer adaptively. */
static void check_all(struct guard *g)
{
    const struct guard_opts *o = g->o;
    uint64_t t_us = clock_mono_us();
    uint64_t now_ms = loop_now_ms();
    g->last_check_ms = now_ms;
    uint64_t next = check_floor(g, t_us, now_ms);
    if (g->tree_stale || now_ms - g->cgs_refreshed_ms >= guard_tree_refresh_ms(g))
        guard_cgroups_refresh(g);
    for (size_t i = 0; i < g->ncgs; i++) {
        uint64_t n = guard_cgroup_check(g, &g->cgs[i], loop_now_ms(), t_us);
        if (n < next)
            next = n;
    }
    uint64_t nt = guard_thrash_check(g, loop_now_ms(), t_us);
    if (nt < next)
        next = nt;
    /* the cgroup list is refreshed on this timer too (at once again when the walk found
     * directories it had not watched yet) */
    uint64_t refresh = g->tree_stale ? o->min_interval_ms : guard_tree_refresh_ms(g);
    if (next > refresh)
        next = refresh;
    loop_timer_arm(g->tick, clamp(next, o->min_interval_ms, o->max_interval_ms));
}

void guard_check_soon(struct guard *g)
{
    uint64_t since = loop_now_ms() - g->last_check_ms;
    if (since >= g->o->min_interval_ms)
        check_all(g);
    else
        loop_timer_arm(g->tick, g->o->min_interval_ms - since);
}

static int on_tick(struct loop *l, void *ctx)
{
    (void)l;
    check_all(ctx);
    return 0;
}

static int on_psi(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    struct gtrig *t = ctx;
    struct guard *g = t->g;
    if (events & EPOLLERR) {
        loop_remove(l, t->src);
        t->src = NULL;
        return 0;
    }
    uint64_t now = loop_now_ms();
    uint64_t window_ms = g->o->psi.window_us / 1000;
    /* consecutive windows make one episode; a gap of two windows ends it */
    if (!t->first_ms || now - t->last_ms > 2 * window_ms + 100)
        t->first_ms = now;
    t->last_ms = now;
    log_debug("guard: PSI trigger on %s", t->cgroup ? t->cgroup : "the node");
    check_all(g);
    uint64_t *cool = &g->global_cooldown_until;
    for (size_t i = 0; t->cgroup && i < g->ncgs; i++)
        if (strcmp(g->cgs[i].path, t->cgroup) == 0)
            cool = &g->cgs[i].cooldown_until;
    if (g->o->psi_kill_after_ms && now - t->first_ms >= g->o->psi_kill_after_ms &&
        now >= *cool) {
        char why[128];
        snprintf(why, sizeof(why), "memory %s stall over %" PRIu64 " ms per %" PRIu64
                 " ms window for %" PRIu64 " ms", g->o->psi.full ? "full" : "some",
                 g->o->psi.stall_us / 1000, window_ms, now - t->first_ms);
        guard_decide(g, GUARD_REASON_PSI, t->cgroup, why, clock_mono_us());
        t->first_ms = 0;
        *cool = loop_now_ms() + g->o->cooldown_ms;
    }
    return 0;
}

static void add_trigger(struct guard *g, int dirfd, const char *file, const char *cgroup)
{
    struct psi_trigger_spec spec = g->o->psi;
    if (psi_trigger_unprivileged())
        psi_trigger_spec_unprivileged(&spec);
    int fd = psi_trigger_open(dirfd, file, &spec);
    if (fd < 0) {
        log_debug("guard: no PSI trigger on %s: %s", cgroup ? cgroup : file, strerror(-fd));
        return;
    }
    /* the loop holds pointers into the array: it is sized once, never moved */
    if (g->ntrig >= g->trig_cap) {
        close(fd);
        return;
    }
    struct gtrig *t = &g->trig[g->ntrig];
    *t = (struct gtrig){.g = g, .fd = fd, .cgroup = cgroup ? strdup(cgroup) : NULL};
    if (loop_add_fd(g->loop, fd, EPOLLPRI, on_psi, t, &t->src) < 0) {
        close(fd);
        free(t->cgroup);
        return;
    }
    g->ntrig++;
}

static void close_triggers(struct guard *g)
{
    for (size_t i = 0; i < g->ntrig; i++) {
        if (g->trig[i].src)
            loop_remove(g->loop, g->trig[i].src);
        close(g->trig[i].fd);
        free(g->trig[i].cgroup);
    }
    free(g->trig);
    g->trig = NULL;
    g->ntrig = g->trig_cap = 0;
}

static void open_triggers(struct guard *g)
{
    if (!g->o->has_psi)
        return;
    /* node + every cgroup asked for */
    size_t want = 1;
    struct cgroup_snapshot s = {0};
    bool snap = g->hier_ok && g->o->psi_cgroups && g->o->psi_cgroups->n &&
                cgroup_snapshot_read_limits(&g->hier, "/", 16, &s) == 0;
    for (size_t i = 0; snap && i < s.n; i++)
        if (guard_glob_any(g->o->psi_cgroups, s.v[i].path))
            want++;
    g->trig = calloc(want, sizeof(*g->trig));
    if (!g->trig) {
        cgroup_snapshot_release(&s);
        return;
    }
    g->trig_cap = want;
    size_t before = g->ntrig;
    add_trigger(g, g->sr->proc_fd, "pressure/memory", NULL);
    if (g->ntrig == before && g->hier_ok) {
        /* 6.18 refuses triggers on /proc/pressure/memory where the v2 root's file takes them
         * (docs/kernel-notes.md): the same PSI group */
        int dfd = cgroup_open_pressure_dir(&g->hier, "/");
        if (dfd >= 0) {
            add_trigger(g, dfd, "memory.pressure", NULL);
            close(dfd);
        }
    }
    for (size_t i = 0; snap && i < s.n && g->ntrig < want; i++) {
        if (strcmp(s.v[i].path, "/") == 0 || !guard_glob_any(g->o->psi_cgroups, s.v[i].path))
            continue;
        int dfd = cgroup_open_pressure_dir(&g->hier, s.v[i].path);
        if (dfd >= 0) {
            add_trigger(g, dfd, "memory.pressure", s.v[i].path);
            close(dfd);
        }
    }
    cgroup_snapshot_release(&s);
}

/* The band's record is taken over (or, when the dry-run setting changed, the old band put back
 * and a new one begun: a dry run never takes over what it could not have written). */
static int band_open(struct guard *g)
{
    bool want = g->o->band.bytes || g->o->band.percent;
    if (g->band && guard_band_dry_run(g->band) != g->o->dry_run) {
        guard_band_sweep(g->band, NULL, NULL);
        guard_band_close(g->band);
        g->band = NULL;
    }
    if (g->band)
        return 0;
    if (!g->hier_ok || g->hier.memory_version != 2) {
        /* v1's soft limit only steers global reclaim; nothing throttles a grower there */
        if (want)
            log_notice("guard: band: off: %s", g->hier_ok ? "cgroup v1 has no memory.high"
                                                          : "no memory cgroup hierarchy");
        return 0;
    }
    struct guard_band_sink bs = {g->sink.event, g->sink.ctx};
    return guard_band_open(g->sr, &g->hier, g->o->dry_run, &bs, &g->band);
}

int guard_start(struct loop *l, const struct sysroot *sr, const struct guard_opts *o,
                const struct policy *policy, const struct guard_event_sink *sink,
                struct guard **ret)
{
    struct guard *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->loop = l;
    g->wake_ifd = -1;
    g->tree_ifd = -1;
    g->sr = sr;
    g->o = o;
    g->policy = policy;
    g->sink = *sink;
    g->pid = getpid();
    g->armed = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
    buf_init(&g->table, CAP_OUTPUT);
    buf_init(&g->line, CAP_OUTPUT);
    (void)kver_read(sr, &g->kernel);
    g->hier_ok = cgroup_hier_open(sr, &g->hier) == 0;
    g->scratch = malloc(SCRATCH_LEN);
    if (!g->scratch) {
        guard_stop(g);
        return -ENOMEM;
    }
    memset(g->scratch, 0, SCRATCH_LEN);
    self_protect(g);
    int r = band_open(g);
    if (r == 0)
        r = loop_add_timer(l, o->min_interval_ms, false, on_tick, g, &g->tick);
    if (r == 0)
        r = guard_wake_open(g);
    if (r < 0) {
        guard_stop(g);
        return r;
    }
    guard_tree_open(g);
    guard_cgroups_refresh(g);
    open_triggers(g);
    *ret = g;
    return 0;
}

void guard_reconfigure(struct guard *g, const struct guard_opts *o, const struct policy *policy)
{
    g->o = o;
    g->policy = policy;
    guard_prep_release(&g->armed); /* made under the old rules */
    close_triggers(g);
    open_triggers(g);
    for (size_t i = 0; i < g->ncgs; i++)
        guard_cgroup_close(g, &g->cgs[i]);
    g->ncgs = 0;
    if (band_open(g) < 0)
        log_warn("guard: band: out of memory: the band is off, what it set is left as it is");
    guard_cgroups_refresh(g);
}

void guard_stop(struct guard *g)
{
    if (!g)
        return;
    close_triggers(g);
    guard_prep_release(&g->armed);
    if (g->tick)
        loop_remove(g->loop, g->tick);
    for (size_t i = 0; i < g->ncgs; i++)
        guard_cgroup_close(g, &g->cgs[i]);
    free(g->cgs);
    guard_wake_close(g);
    guard_tree_close(g);
    guard_thrash_free(g);
    /* every memory.high the band set goes back to what it was */
    guard_band_sweep(g->band, NULL, NULL);
    guard_band_close(g->band);
    if (g->hier_ok)
        cgroup_hier_close(&g->hier);
    free(g->scratch);
    buf_release(&g->table);
    buf_release(&g->line);
    free(g);
}
