/* The guard's headroom trigger: limited cgroups watched for their working set nearing the
 * limit while it stalls, hits the limit or grows fast toward it. */
#include "guard-int.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/opt.h"
#include "base/sys/clock.h"
#include "base/sys/fileio.h"
#include "engine/runtime/loop.h"
#include "model/pressure/psi.h"

bool guard_glob_any(const struct config_list *l, const char *s)
{
    if (!l || !l->n)
        return true;
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], s, 0) == 0)
            return true;
    return false;
}

static void gcg_disarm(struct gcg *c)
{
    if (c->armed) {
        guard_prep_release(c->armed);
        free(c->armed);
        c->armed = NULL;
    }
}

void guard_cgroup_close(struct guard *g, struct gcg *c)
{
    guard_wake_unwatch(g, c);
    gcg_disarm(c);
    if (c->dirfd >= 0)
        close(c->dirfd);
    if (c->psi_dirfd >= 0)
        close(c->psi_dirfd);
    free(c->path);
}

static bool band_keep(void *ctx, const char *path)
{
    const struct guard *g = ctx;
    for (size_t i = 0; i < g->ncgs; i++)
        if (strcmp(g->cgs[i].path, path) == 0)
            return true;
    return false;
}

/* Each watched cgroup's band as the options want it now (set, moved with a changed limit, or put
 * back when the band is off); a recorded cgroup no longer watched (its limit gone, the globs
 * changed, the cgroup removed) gets its old memory.high back. */
static void band_refresh(struct guard *g)
{
    if (!g->band)
        return;
    for (size_t i = 0; i < g->ncgs; i++) {
        struct gcg *c = &g->cgs[i];
        guard_band_sync(g->band, c->path, c->dirfd, guard_amount_of(&g->o->band, c->max));
    }
    guard_band_sweep(g->band, band_keep, g);
}

void guard_cgroups_refresh(struct guard *g)
{
    g->cgs_refreshed_ms = loop_now_ms();
    /* an event from now on is news to this walk */
    g->tree_stale = false;
    if (!g->hier_ok || !g->hier.memory_version)
        return;
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read_limits(&g->hier, "/", 16, &s) < 0)
        return;
    guard_tree_watch(g, &s);
    for (size_t i = 0; i < g->ncgs; i++)
        g->cgs[i].present = false;
    for (size_t i = 0; i < s.n; i++) {
        const struct cgroup_memory *cg = &s.v[i];
        if (!cgroup_limit_set(cg->max) || !guard_glob_any(g->o->cgroups, cg->path))
            continue;
        bool found = false;
        for (size_t k = 0; k < g->ncgs; k++) {
            struct gcg *c = &g->cgs[k];
            if (strcmp(c->path, cg->path) != 0)
                continue;
            found = c->present = true;
            if (c->max != cg->max)
                log_debug("guard: %s: limit now %" PRIu64, c->path, cg->max);
            c->max = cg->max;
            /* v1: a unified twin made after the memory cgroup (systemd makes both) */
            if (c->psi_dirfd < 0 &&
                (c->psi_dirfd = cgroup_open_pressure_dir(&g->hier, c->path)) >= 0)
                log_debug("guard: %s has PSI now (a twin in the unified tree)", c->path);
        }
        if (found)
            continue;
        struct gcg *v = realloc(g->cgs, (g->ncgs + 1) * sizeof(*v));
        if (!v)
            break;
        g->cgs = v;
        struct gcg *c = &g->cgs[g->ncgs];
        *c = (struct gcg){
            .dirfd = cgroup_open_dir(&g->hier, cg->path), .psi_dirfd = -1, .max = cg->max,
            .wake_wd = -1, .wake_efd = -1,
            .present = true};
        if (c->dirfd < 0 || !(c->path = strdup(cg->path))) {
            if (c->dirfd >= 0)
                close(c->dirfd);
            continue;
        }
        c->psi_dirfd = cgroup_open_pressure_dir(&g->hier, cg->path);
        g->ncgs++;
        log_debug("guard: watching %s (limit %" PRIu64 ")%s", cg->path, cg->max,
                  c->psi_dirfd >= 0 ? "" : " without PSI: limit hits only");
    }
    cgroup_snapshot_release(&s);
    size_t k = 0;
    for (size_t i = 0; i < g->ncgs; i++) {
        if (g->cgs[i].present) {
            g->cgs[k++] = g->cgs[i];
        } else {
            log_debug("guard: no longer watching %s", g->cgs[i].path);
            guard_cgroup_close(g, &g->cgs[i]);
        }
    }
    g->ncgs = k;
    band_refresh(g);
    for (size_t i = 0; i < g->ncgs; i++)
        guard_wake_watch(g, &g->cgs[i]);
    guard_wake_summary(g);
}

/* inactive_file of a cgroup's memory.stat (v1: total_inactive_file, the subtree's), or
 * OPT_ABSENT. On the stack: this runs every few ms while a cgroup is near its limit. */
static uint64_t inactive_file(int dirfd, int version, long page_size)
{
    char b[16384];
    int n = read_small_at(dirfd, "memory.stat", b, sizeof(b));
    struct cgroup_memstat st;
    if (n <= 0 || cgroup_memstat_parse(b, (size_t)n, version, page_size, &st) <= 0)
        return OPT_ABSENT;
    return st.inactive_file;
}

int guard_look_at(const struct cgroup_hier *h, int dirfd, int psi_dirfd,
                  const struct guard_amount *headroom, struct guard_look *ret)
{
    uint64_t cur, max;
    int r = cgroup_read_usage_at(h, dirfd, &cur);
    if (r == 0)
        r = cgroup_read_limit_at(h, dirfd, &max);
    if (r < 0)
        return r;
    if (!cgroup_limit_set(max))
        return -ENODATA;
    *ret = (struct guard_look){
        .usage = cur, .limit = max, .wset = cur, .stall_us = OPT_ABSENT, .failcnt = OPT_ABSENT};
    struct psi p;
    if (psi_dirfd >= 0 && psi_read_at(psi_dirfd, "memory.pressure", &p) == 0 && p.some.present)
        ret->stall_us = p.some.total;
    /* the limit being hit (v1 failcnt, v2 memory.events max) counts too, PSI or not: anon
     * growing into the limit without swap stalls for a few ms before the OOM, too short for PSI
     * to show (measured on the 6.18 v1 host: a twin's PSI stayed under 10% per check until the
     * kernel's kill, every time; tests/vm/scenarios/guard-cgroup: the same on v2) */
    struct cgroup_events ev;
    if (cgroup_read_events_at(h, dirfd, &ev) == 0)
        ret->failcnt = ev.max;
    ret->room = guard_amount_of(headroom, max);
    /* memory.stat only when usage is near the line: the working set is never above usage */
    if (cur + 2 * ret->room >= max) {
        uint64_t inactive = inactive_file(dirfd, h->memory_version, h->page_size);
        if (opt_has(inactive))
            ret->wset = cur > inactive ? cur - inactive : 0;
    }
    return 0;
}

/*
 * Near the limit is measured on the working set (usage minus inactive page cache, as kubelet
 * counts it), not on usage: a cgroup full of clean page cache sits at its limit for good, and
 * reclaiming that cache is what the limit is for. Measured on the v1 host (6.18) with usage:
 * a process that had read a 300 MiB file into a 64 MiB cgroup, with 8 MiB of anon, was killed
 * for "failcnt +2" (no PSI) and, with a unified twin, for "memory stall 41% of the last 20 ms";
 * both kills freed nothing, and the kernel would never have OOM-killed it.
 *
 * Stalling or hitting the limit comes too late for memory nothing can reclaim: anon growing into
 * the limit without swap shows neither until it is at the limit, and the kernel's OOM comes a
 * few ms later (tests/vm/scenarios/guard-cgroup: at 32 MiB/s under emulation the kernel won
 * every race that began at the limit). So a working set inside the headroom that grows, over
 * the checks of the last FILL_WINDOW_MS (at least FILL_MIN_CHECKS of them), at a rate that
 * reaches the limit within FILL_HORIZON_MS counts too. A window, not check to check: programs
 * grow in steps (an allocator's chunk at a time), and most checks see no growth at all. A
 * process that sits inside the headroom without growing is left alone.
 */
#define FILL_HORIZON_MS 500
#define FILL_WINDOW_MS 200
#define FILL_MIN_CHECKS 3

/* The working set's growth over the window (bytes/s) when it reaches the limit within
 * FILL_HORIZON_MS at that rate; 0 otherwise. */
static uint64_t filling_rate(const struct gcg *c, const struct guard_look *l, uint64_t now_ms)
{
    /* the oldest sample of the window, and the rate since */
    uint64_t from_ms = 0, from_wset = 0;
    unsigned checks = 0;
    for (unsigned i = 0; i < c->nhist && i < FILL_SAMPLES; i++) {
        unsigned k = (c->nhist - 1 - i) % FILL_SAMPLES; /* newest first */
        if (now_ms - c->hist[k].ms > FILL_WINDOW_MS)
            break;
        from_ms = c->hist[k].ms;
        from_wset = c->hist[k].wset;
        checks++;
    }
    uint64_t span_ms = checks ? now_ms - from_ms : 0, wset = l->wset, max = l->limit;
    if (checks >= FILL_MIN_CHECKS && span_ms && wset > from_wset &&
        (max > wset ? max - wset : 0) * span_ms < (wset - from_wset) * FILL_HORIZON_MS)
        return (wset - from_wset) * 1000 / span_ms;
    return 0;
}

/* Whether the cgroup is in trouble since the last look: it stalled (PSI), hit its limit, or
 * fills toward it (only counted when close to it). Says why in `why`. */
static bool in_trouble(const struct guard *g, const struct gcg *c, const struct guard_look *l,
                       bool close_to, uint64_t now_ms, char why[192])
{
    uint64_t dt_us = (now_ms - c->last_ms) * 1000, cur = l->usage, max = l->limit, wset = l->wset;
    bool stalling = false;
    if (opt_has(l->stall_us) && opt_has(c->last_stall_us) && l->stall_us >= c->last_stall_us) {
        uint64_t d = l->stall_us - c->last_stall_us;
        stalling = d * 100 >= dt_us * g->o->stall_percent && d > 0;
        snprintf(why, 192,
                 "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64
                 ", memory stall %.0f%% of the last %" PRIu64 " ms",
                 cur, max, wset, (double)d * 100.0 / (double)dt_us, now_ms - c->last_ms);
    }
    if (!stalling && opt_has(l->failcnt) && opt_has(c->last_failcnt) &&
        l->failcnt > c->last_failcnt) {
        /* the limit was hit since the last look: with the working set at the line, reclaim has
         * only what the cgroup is using left to take */
        snprintf(why, 192,
                 "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64 ", %s +%" PRIu64 "%s",
                 cur, max, wset, g->hier.memory_version == 2 ? "memory.events max" : "failcnt",
                 l->failcnt - c->last_failcnt,
                 opt_has(l->stall_us) ? "" : " (no PSI for this cgroup)");
        return true;
    }
    uint64_t rate = close_to && !stalling ? filling_rate(c, l, now_ms) : 0;
    if (rate) {
        snprintf(why, 192,
                 "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64 " growing %" PRIu64
                 " KiB/s, at the limit in %" PRIu64 " ms",
                 cur, max, wset, rate / 1024, (max > wset ? max - wset : 0) * 1000 / rate);
        return true;
    }
    return stalling;
}

static void remember(struct gcg *c, const struct guard_look *l, uint64_t now_ms)
{
    c->last_stall_us = l->stall_us;
    c->last_failcnt = l->failcnt;
    c->hist[c->nhist % FILL_SAMPLES].ms = now_ms;
    c->hist[c->nhist % FILL_SAMPLES].wset = l->wset;
    c->nhist++;
    c->last_ms = now_ms;
    c->primed = true;
}

/* Armed within twice the headroom (and not cooling down): ranked and the victim pinned, so that
 * when the trigger comes only the kill is left to do. */
static void arm(struct guard *g, struct gcg *c, const struct guard_look *l, uint64_t now_ms,
                uint64_t t_us)
{
    bool near = l->wset + 2 * l->room >= l->limit && now_ms >= c->cooldown_until;
    if (!near) {
        gcg_disarm(c);
    } else if (!c->armed ||
               t_us - c->armed->prepared_us >= guard_arm_refresh_us(c->armed_cost_us)) {
        gcg_disarm(c);
        uint64_t t0 = clock_mono_us();
        if ((c->armed = malloc(sizeof(*c->armed))) && guard_prepare(g, c->path, c->armed) < 0) {
            free(c->armed);
            c->armed = NULL;
        }
        c->armed_cost_us = clock_mono_us() - t0;
    }
}

uint64_t guard_cgroup_check(struct guard *g, struct gcg *c, uint64_t now_ms, uint64_t t_us)
{
    const struct guard_opts *o = g->o;
    struct guard_look l;
    if (guard_look_at(&g->hier, c->dirfd, c->psi_dirfd, &o->headroom, &l) < 0)
        return o->max_interval_ms;
    bool close_to = l.wset + l.room >= l.limit;
    char why[192] = "";
    bool trouble = c->primed && now_ms > c->last_ms && in_trouble(g, c, &l, close_to, now_ms, why);
    remember(c, &l, now_ms);
    if (!close_to)
        c->cooldown_until = 0; /* back under the line: the episode is over */
    if (close_to && trouble && now_ms >= c->cooldown_until) {
        /* the decision made ahead, when it is fresh; else one from scratch */
        if (c->armed && guard_armed_fresh(c->armed, c->armed_cost_us, t_us)) {
            guard_fire(g, c->armed, GUARD_REASON_CGROUP_HEADROOM, why, t_us);
            gcg_disarm(c);
        } else {
            gcg_disarm(c);
            guard_decide(g, GUARD_REASON_CGROUP_HEADROOM, c->path, why, t_us);
        }
        return o->min_interval_ms;
    }
    arm(g, c, &l, now_ms, t_us);
    /* the kernel says when it crosses its line: no poll until then */
    if (guard_wake_covers(c, &l))
        return o->max_interval_ms;
    uint64_t left = l.limit > l.wset + l.room ? l.limit - l.wset - l.room : 0;
    return o->fill_rate ? left * 1000 / o->fill_rate : o->max_interval_ms;
}
