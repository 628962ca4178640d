#include "status-screen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/opt.h"
#include "model/cgroup/cgroup.h"
#include "model/log/oomlog.h"
#include "model/node.h"

static uint64_t or0(uint64_t v)
{
    return opt_has(v) ? v : 0;
}

/* Killable processes of the subtree of snapshot entry g, but `self` (mem_cgroup_scan_tasks()
 * order does not matter: only the count). */
static size_t group_others(const struct node *n, size_t g, const struct proc *self)
{
    size_t end = g + 1;
    while (end < n->cgroups.n && n->cgroups.v[end].depth > n->cgroups.v[g].depth)
        end++;
    size_t k = 0;
    for (size_t i = 0; i < n->procs.n; i++) {
        size_t m = n->proc_memcg[i];
        const struct proc *p = &n->procs.v[i];
        if (m == SIZE_MAX || m < g || m >= end || p == self || p->kernel_thread || !p->has_mm)
            continue;
        /* oom_kill_memcg_member(): not those at -1000, not global init */
        if (p->oom_score_adj != -1000 && p->pid != 1)
            k++;
    }
    return k;
}

/* The limited cgroups whose OOM some process meets first: the binding limit (the least room on
 * the way up, cgroup_binding_of()) of a cgroup that holds processes. A Kubernetes pod slice at
 * its one container's limit also holds the scope's own kernel memory and the pause container,
 * so it is the one the kernel reports the OOM in and the scope's row would say nothing true; a
 * parent whose children all run out first has no OOM of its own to show. */
static bool *oom_domains(const struct node *n)
{
    bool *meets = calloc(n->cgroups.n ? n->cgroups.n : 1, sizeof(bool));
    for (size_t i = 0; meets && i < n->cgroups.n; i++) {
        if (!opt_has(n->cgroups.v[i].nprocs) || n->cgroups.v[i].nprocs == 0)
            continue;
        size_t b = node_binder(n, i);
        if (b != SIZE_MAX)
            meets[b] = true;
    }
    return meets;
}

static const struct node *g_sort_node; /* qsort has no context argument */

static int cmp_fill(const void *pa, const void *pb)
{
    const struct cgroup_memory *a = &g_sort_node->cgroups.v[*(const size_t *)pa];
    const struct cgroup_memory *b = &g_sort_node->cgroups.v[*(const size_t *)pb];
    long double fa = (long double)or0(a->current) / (long double)a->max;
    long double fb = (long double)or0(b->current) / (long double)b->max;
    if (fa != fb)
        return fa > fb ? -1 : 1;
    return strcmp(a->path, b->path);
}

int status_screen_build(const struct node *n, size_t top, struct status_screen *s)
{
    *s = (struct status_screen){0};
    /* the cgroups nearest their own limits */
    size_t *lim = calloc(n->cgroups.n ? n->cgroups.n : 1, sizeof(size_t));
    bool *meets = oom_domains(n);
    if (!lim || !meets) {
        free(lim);
        free(meets);
        return -ENOMEM;
    }
    size_t nl = 0;
    for (size_t i = 0; i < n->cgroups.n; i++) {
        const struct cgroup_memory *cg = &n->cgroups.v[i];
        if (cg->parent == SIZE_MAX || !cgroup_limit_set(cg->max) || !opt_has(cg->current))
            continue;
        s->nlimited++;
        s->near += fmt_percent(cg->current, cg->max) >= 80;
        if (meets[i])
            lim[nl++] = i;
    }
    free(meets);
    g_sort_node = n;
    qsort(lim, nl, sizeof(*lim), cmp_fill);
    size_t want = nl < top ? nl : top;
    s->cg = calloc(want ? want : 1, sizeof(*s->cg));
    if (!s->cg) {
        free(lim);
        return -ENOMEM;
    }
    uint64_t swappiness = n->sysctl.swappiness;
    for (size_t k = 0; k < want; k++) {
        struct status_cgroup_row *row = &s->cg[s->ncg++];
        row->idx = lim[k];
        node_outlook(n, lim[k], &row->outlook);
        int r = oomdomain_build_at(&n->hier, &n->cgroups, lim[k], &n->procs, &n->kernel, &n->mem,
                                   swappiness, &row->dom);
        if (r == -ENOMEM) {
            free(lim);
            return r;
        }
        if (r < 0)
            continue;
        for (size_t i = 0; i < row->dom.victims.n; i++)
            if (row->dom.victims.v[i].rank == 1) {
                row->next = &row->dom.victims.v[i];
                row->next_dom = i;
            }
        if (row->next && row->dom.group[row->next_dom] != SIZE_MAX) {
            /* the domain's own snapshot: map the group back to the whole one */
            const char *gpath = row->dom.cgroups.v[row->dom.group[row->next_dom]].path;
            for (size_t g = 0; g < n->cgroups.n; g++)
                if (strcmp(n->cgroups.v[g].path, gpath) == 0)
                    row->with = group_others(n, g, row->next->proc);
        }
    }
    free(lim);
    /* the next victims of a machine-wide OOM; memory.oom.group counts up to the root */
    for (size_t i = 0; i < n->global.n && n->global.v[i].rank && s->ngv < top && s->ngv < 16; i++) {
        struct status_victim_row *g = &s->gv[s->ngv++];
        g->v = &n->global.v[i];
        size_t m = n->proc_memcg ? n->proc_memcg[node_proc_index(n, g->v->proc)] : SIZE_MAX;
        if (n->hier.memory_version == 2 && m != SIZE_MAX) {
            size_t grp = oomdomain_group_of(&n->cgroups, m, 0);
            if (grp != SIZE_MAX)
                g->with = group_others(n, grp, g->v->proc);
        }
    }
    if (n->log && n->log_err == 0) {
        for (size_t i = 0; i < n->log->nevents; i++)
            for (size_t k = 0; k < n->log->events[i].nvictims; k++)
                s->kills += n->log->events[i].victims[k].kind != OOM_VICTIM_EXITING;
        s->first_event = n->log->nevents > top ? n->log->nevents - top : 0;
    }
    return 0;
}

void status_screen_release(struct status_screen *s)
{
    for (size_t i = 0; i < s->ncg; i++)
        oomdomain_release(&s->cg[i].dom);
    free(s->cg);
}
