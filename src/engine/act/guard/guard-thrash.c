/* The guard's thrash trigger: the node and each watched cgroup sampled for PSI `full` and file
 * refaults (guardthrash.h decides), ended by the guard's own ranking when it is sustained. */
#include "guard-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/opt.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"

struct thrash_dom {
    char *path; /* a watched cgroup's */
    struct thrash_track t;
    bool present;
};

struct guard_thrash {
    struct thrash_track node;
    struct thrash_dom *v;
    size_t n;
};

void guard_thrash_free(struct guard *g)
{
    struct guard_thrash *th = g->thrash;
    if (!th)
        return;
    for (size_t i = 0; i < th->n; i++)
        free(th->v[i].path);
    free(th->v);
    free(th);
    g->thrash = NULL;
}

/* The track of a watched cgroup, made on first sight; NULL without memory. */
static struct thrash_track *track_of(struct guard_thrash *th, const char *path)
{
    for (size_t i = 0; i < th->n; i++) {
        if (strcmp(th->v[i].path, path) == 0) {
            th->v[i].present = true;
            return &th->v[i].t;
        }
    }
    struct thrash_dom *v = realloc(th->v, (th->n + 1) * sizeof(*v));
    if (!v)
        return NULL;
    th->v = v;
    v[th->n] = (struct thrash_dom){.path = strdup(path), .present = true};
    if (!v[th->n].path)
        return NULL;
    return &v[th->n++].t;
}

/* Cgroups no longer watched (their limit or the cgroup gone) are forgotten. */
static void sweep(struct guard_thrash *th)
{
    size_t k = 0;
    for (size_t i = 0; i < th->n; i++) {
        if (th->v[i].present) {
            th->v[i].present = false;
            th->v[k++] = th->v[i];
        } else {
            free(th->v[i].path);
        }
    }
    th->n = k;
}

static uint64_t full_total(const struct psi *p, int r)
{
    return r == 0 && p->full.present ? p->full.total : OPT_ABSENT;
}

/*
 * Adds the sample and, when the domain has been thrashing for the configured time and is not
 * cooling down after a kill, ends it. Returns whether the domain wants the checks sped up.
 */
static bool judge(struct guard *g, struct thrash_track *t, const struct thrash_sample *s,
                  const char *cgroup, uint64_t *cooldown_until, uint64_t t_us)
{
    const struct thrash_opts *o = &g->o->thrash_lines;
    enum thrash_state st = thrash_track_add(t, o, s, g->sr->page_size);
    if (st != THRASH_SUSTAINED || s->ms < *cooldown_until)
        return st != THRASH_CLEAR || thrash_track_warm(t, o);
    char why[192];
    snprintf(why, sizeof(why),
             "memory full stall %u%% of the last %" PRIu64 " ms, file refaults %" PRIu64
             " KiB/s, for %" PRIu64 " ms",
             t->full_percent, t->span_ms, t->refault_bytes_s / 1024, s->ms - t->since_ms);
    guard_decide(g, GUARD_REASON_THRASH, cgroup, why, t_us);
    *cooldown_until = s->ms + g->o->cooldown_ms;
    /* the next decision needs a window of its own, after the kill */
    thrash_track_reset(t);
    return false;
}

/* The node: its refaults count only when it is short itself (MemAvailable under a tenth of RAM,
 * as node_measure_refaults judges): otherwise they are a limited cgroup's, and that cgroup is
 * judged on its own. Read only while it is warm: PSI alone is cheap. */
static bool check_node(struct guard *g, struct thrash_track *t, uint64_t now_ms, uint64_t t_us)
{
    struct psi p;
    struct thrash_sample s = {.ms = now_ms, .full_us = full_total(&p, psi_read_system(g->sr, &p)),
                              .refaults = OPT_ABSENT};
    struct meminfo mi;
    struct vmstat vm;
    if (thrash_track_wants_refaults(t, &g->o->thrash_lines, now_ms, s.full_us) &&
        meminfo_read(g->sr, &mi) == 0 && opt_has(mi.mem_available) && opt_has(mi.mem_total) &&
        mi.mem_available * 10 < mi.mem_total && vmstat_read(g->sr, &vm) == 0)
        s.refaults = vm.workingset_refault_file;
    return judge(g, t, &s, NULL, &g->global_cooldown_until, t_us);
}

static bool check_cgroup(struct guard *g, struct gcg *c, struct thrash_track *t, uint64_t now_ms,
                         uint64_t t_us)
{
    struct psi p;
    int r = c->psi_dirfd >= 0 ? psi_read_at(c->psi_dirfd, "memory.pressure", &p) : -ENOENT;
    struct thrash_sample s = {.ms = now_ms, .full_us = full_total(&p, r), .refaults = OPT_ABSENT};
    struct cgroup_memstat st;
    if (thrash_track_wants_refaults(t, &g->o->thrash_lines, now_ms, s.full_us) &&
        cgroup_read_stat_at(&g->hier, c->dirfd, &st) == 0)
        s.refaults = st.workingset_refault_file;
    return judge(g, t, &s, c->path, &c->cooldown_until, t_us);
}

uint64_t guard_thrash_check(struct guard *g, uint64_t now_ms, uint64_t t_us)
{
    if (!g->o->thrash) {
        guard_thrash_free(g);
        return UINT64_MAX;
    }
    if (!g->thrash && !(g->thrash = calloc(1, sizeof(*g->thrash))))
        return UINT64_MAX;
    struct guard_thrash *th = g->thrash;
    const struct thrash_opts *o = &g->o->thrash_lines;
    bool warm = thrash_track_due(&th->node, o, now_ms) ? check_node(g, &th->node, now_ms, t_us)
                                                       : thrash_track_warm(&th->node, o);
    for (size_t i = 0; i < g->ncgs; i++) {
        struct thrash_track *t = track_of(th, g->cgs[i].path);
        if (t && thrash_track_due(t, o, now_ms))
            warm |= check_cgroup(g, &g->cgs[i], t, now_ms, t_us);
        else if (t)
            warm |= thrash_track_warm(t, o);
    }
    sweep(th);
    /* a quarter of the window while a domain is warm, so that a reference sample is never much
     * older than the window; otherwise the other triggers set the pace */
    return warm ? g->o->thrash_lines.window_ms / 4 : UINT64_MAX;
}
