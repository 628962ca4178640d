#include "oomdomain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/opt.h"
#include "model/cgroup/cgroup.h"
#include "model/meminfo.h"
#include "procs.h"
#include "model/sysroot.h"

static uint64_t to_pages(uint64_t bytes, long page_size)
{
    /* "max" is PAGE_COUNTER_MAX pages in the kernel */
    if (!cgroup_limit_set(bytes))
        return (uint64_t)INT64_MAX / (uint64_t)page_size;
    return bytes / (uint64_t)page_size;
}

uint64_t oomdomain_memcg_totalpages(int version, uint64_t max, uint64_t memsw_max,
                                    uint64_t swap_max, uint64_t swappiness,
                                    uint64_t total_swap_pages, long page_size,
                                    uint64_t *ret_swap_pages)
{
    uint64_t pages = to_pages(max, page_size);
    uint64_t swap = 0;
    if (opt_has(swappiness) && swappiness != 0) {
        if (version == 1) {
            /* "swap excess capacity from memsw limit"; the kernel keeps memsw.max >= max. Without
             * the memsw files (swapaccount=0) nobody can set memsw.max: it is PAGE_COUNTER_MAX */
            uint64_t memsw = to_pages(opt_has(memsw_max) ? memsw_max : CGROUP_UNLIMITED, page_size);
            swap = memsw > pages ? memsw - pages : 0;
        } else {
            swap = opt_has(swap_max) ? to_pages(swap_max, page_size) : 0;
        }
        if (swap > total_swap_pages)
            swap = total_swap_pages;
    }
    if (ret_swap_pages)
        *ret_swap_pages = swap;
    uint64_t total = pages + swap;
    return total ? total : 1;
}

static bool limited(const struct cgroup_memory *cg)
{
    return cgroup_limit_set(cg->max) || (cg->version == 1 && cgroup_limit_set(cg->memsw_max));
}

static uint64_t headroom(const struct cgroup_memory *cg)
{
    uint64_t lim = cgroup_limit_set(cg->max) ? cg->max : cg->memsw_max;
    uint64_t use = cgroup_limit_set(cg->max) ? cg->current : cg->memsw_current;
    if (!opt_has(use))
        use = 0;
    return lim > use ? lim - use : 0;
}

size_t oomdomain_pick(const struct cgroup_memory *const *chain, size_t n)
{
    size_t best = SIZE_MAX;
    /* nearest first, so equal headroom goes to the nearest */
    for (size_t i = n; i-- > 0;) {
        const struct cgroup_memory *a = chain[i];
        if (i + 1 < n && !cgroup_charges_reach(a))
            break;
        if (!limited(a))
            continue;
        if (best == SIZE_MAX || headroom(a) < headroom(chain[best]))
            best = i;
    }
    return best;
}

size_t oomdomain_group_of(const struct cgroup_snapshot *s, size_t victim_memcg, size_t domain)
{
    size_t group = SIZE_MAX;
    for (size_t i = victim_memcg; i != SIZE_MAX && i < s->n; i = s->v[i].parent) {
        if (s->v[i].oom_group == 1)
            group = i;
        if (i == domain)
            break;
    }
    return group;
}

uint64_t oomdomain_vm_swappiness(const struct sysroot *sr)
{
    struct buf b = BUF_INIT(64);
    uint64_t v = OPT_ABSENT;
    if (read_virtual_at(sr->proc_fd, "sys/vm/swappiness", &b) >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        if (cursor_u64(&c, &v) < 0)
            v = OPT_ABSENT;
    }
    buf_release(&b);
    return v;
}

struct scan_ctx {
    const struct proc *const *procs;
    const size_t *memcg;
};

static int cmp_scan(const void *pa, const void *pb, void *arg)
{
    const struct scan_ctx *c = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (c->memcg[a] != c->memcg[b])
        return c->memcg[a] < c->memcg[b] ? -1 : 1;
    const struct proc *x = c->procs[a], *y = c->procs[b];
    if (x->start_time != y->start_time)
        return x->start_time < y->start_time ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The domain's limits and totalpages from `dom` (the OOMing memcg; NULL for the machine). */
static int domain_limits(const struct cgroup_hier *h, const struct cgroup_memory *dom,
                         const struct meminfo *mi, uint64_t vm_swappiness, struct oomdomain *d)
{
    long ps = h->page_size;
    uint64_t total_swap = opt_has(mi->swap_total) ? mi->swap_total / (uint64_t)ps : 0;
    if (dom) {
        if (!(d->oom_cgroup = strdup(dom->path)))
            return -ENOMEM;
        d->limit = dom->max;
        d->memsw_limit = dom->memsw_max;
        d->swap_limit = dom->swap_max;
        d->usage = dom->current;
        d->swappiness = h->memory_version == 1 ? dom->swappiness : vm_swappiness;
        d->own_tasks_only = !cgroup_charges_reach(dom);
        d->totalpages =
            oomdomain_memcg_totalpages(h->memory_version, dom->max, dom->memsw_max, dom->swap_max,
                                       d->swappiness, total_swap, ps, &d->swap_pages);
    } else {
        d->limit = d->memsw_limit = d->swap_limit = CGROUP_UNLIMITED;
        d->usage = OPT_ABSENT;
        d->swappiness = vm_swappiness;
        d->swap_pages = total_swap;
        d->totalpages = victims_global_totalpages(mi, ps);
    }
    return 0;
}

/* Fills the domain's limits from `dom` (the OOMing memcg; NULL for the machine), then ranks the
 * processes of `procs` that d->cgroups holds. d->cgroups, path, version and page_size are set. */
static int domain_rank(const struct cgroup_hier *h, const struct cgroup_memory *dom,
                       const struct proc_table *procs, const struct kver *k,
                       const struct meminfo *mi, uint64_t vm_swappiness, struct oomdomain *d)
{
    long ps = h->page_size;
    uint64_t global_total = victims_global_totalpages(mi, ps);
    int r = domain_limits(h, dom, mi, vm_swappiness, d);
    if (r < 0)
        return r;

    size_t n = procs->n;
    const struct proc **cand = calloc(n ? n : 1, sizeof(*cand));
    size_t *memcg = calloc(n ? n : 1, sizeof(*memcg));
    size_t *idx = calloc(n ? n : 1, sizeof(*idx));
    uint64_t *scan = calloc(n ? n : 1, sizeof(*scan));
    if (!cand || !memcg || !idx || !scan) {
        r = -ENOMEM;
        goto out;
    }
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct proc *p = &procs->v[i];
        const char *cg = proc_memcg_path(p, h->memory_version);
        size_t m = cg ? cgroup_snapshot_find_under(&d->cgroups, cg) : SIZE_MAX;
        if (dom && (m == SIZE_MAX || (d->own_tasks_only && m != 0)))
            continue; /* outside the memcg: mem_cgroup_scan_tasks() never sees it */
        cand[nc] = p;
        memcg[nc] = m;
        idx[nc] = nc;
        nc++;
    }
    d->candidates = nc;
    struct victim_params vp = {.kernel = k,
                               .page_size = ps,
                               .totalpages = d->totalpages,
                               .global_totalpages = global_total,
                               .at_global_oom = !dom};
    if (dom) {
        struct scan_ctx sc = {cand, memcg};
        qsort_r(idx, nc, sizeof(*idx), cmp_scan, &sc);
        for (size_t i = 0; i < nc; i++)
            scan[idx[i]] = i;
        vp.scan_order = scan;
    }
    if ((r = victims_rank(cand, nc, &vp, &d->victims)) < 0)
        goto out;
    d->memcg = calloc(nc ? nc : 1, sizeof(size_t));
    d->group = calloc(nc ? nc : 1, sizeof(size_t));
    if (!d->memcg || !d->group) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nc; i++) {
        const struct proc *p = d->victims.v[i].proc;
        const char *cg = proc_memcg_path(p, h->memory_version);
        d->memcg[i] = cg ? cgroup_snapshot_find_under(&d->cgroups, cg) : SIZE_MAX;
        /* v1 has no oom.group (mem_cgroup_get_oom_group() returns NULL off the default
         * hierarchy); the root memcg never has one */
        d->group[i] = SIZE_MAX;
        if (h->memory_version == 2 && d->memcg[i] != SIZE_MAX)
            d->group[i] = oomdomain_group_of(&d->cgroups, d->memcg[i], 0);
    }
out:
    free(cand);
    free(memcg);
    free(idx);
    free(scan);
    return r;
}

int oomdomain_build(const struct cgroup_hier *h, const char *path, const struct proc_table *procs,
                    const struct kver *k, const struct meminfo *mi, uint64_t vm_swappiness,
                    struct oomdomain *ret)
{
    struct oomdomain d = {.version = h->memory_version, .page_size = h->page_size};
    struct cgroup_memory self;
    struct cgroup_snapshot anc = {0};
    int r = cgroup_read(h, path, &self);
    if (r < 0)
        return r;
    if ((r = cgroup_read_ancestors(h, path, &anc)) < 0)
        goto out;
    const struct cgroup_memory *chain[CGROUP_WALK_MAX_DEPTH + 2];
    size_t n = 0;
    for (size_t i = anc.n > CGROUP_WALK_MAX_DEPTH ? anc.n - CGROUP_WALK_MAX_DEPTH : 0; i < anc.n;
         i++)
        chain[n++] = &anc.v[i];
    chain[n++] = &self;
    size_t pick = oomdomain_pick(chain, n);
    const struct cgroup_memory *dom = pick == SIZE_MAX ? NULL : chain[pick];
    d.why = pick == SIZE_MAX   ? OOMDOMAIN_MACHINE
            : pick == n - 1    ? OOMDOMAIN_OWN_LIMIT
                               : OOMDOMAIN_ANCESTOR;
    d.own_limit = self.max;
    d.own_usage = self.current;
    d.path = strdup(path);
    if (!d.path) {
        r = -ENOMEM;
        goto out;
    }
    /* global: the whole hierarchy, for memory.oom.group up to the root */
    r = cgroup_snapshot_read(h, dom ? dom->path : NULL, &d.cgroups);
    if (r == 0)
        r = domain_rank(h, dom, procs, k, mi, vm_swappiness, &d);
out:
    cgroup_snapshot_release(&anc);
    cgroup_memory_release(&self);
    if (r < 0) {
        oomdomain_release(&d);
        return r;
    }
    *ret = d;
    return 0;
}

int oomdomain_build_at(const struct cgroup_hier *h, const struct cgroup_snapshot *all, size_t idx,
                       const struct proc_table *procs, const struct kver *k,
                       const struct meminfo *mi, uint64_t vm_swappiness, struct oomdomain *ret)
{
    if (idx >= all->n || !limited(&all->v[idx]))
        return -EINVAL;
    struct oomdomain d = {.version = h->memory_version,
                          .page_size = h->page_size,
                          .why = OOMDOMAIN_OWN_LIMIT,
                          .own_limit = all->v[idx].max,
                          .own_usage = all->v[idx].current};
    int r = 0;
    if (!(d.path = strdup(all->v[idx].path)))
        r = -ENOMEM;
    if (r == 0)
        r = cgroup_snapshot_copy_subtree(all, idx, &d.cgroups);
    if (r == 0)
        r = domain_rank(h, &d.cgroups.v[0], procs, k, mi, vm_swappiness, &d);
    if (r < 0) {
        oomdomain_release(&d);
        return r;
    }
    *ret = d;
    return 0;
}

void oomdomain_release(struct oomdomain *d)
{
    free(d->path);
    free(d->oom_cgroup);
    free(d->memcg);
    free(d->group);
    cgroup_snapshot_release(&d->cgroups);
    victim_list_release(&d->victims);
    *d = (struct oomdomain){0};
}

bool oomdomain_in(const struct oomdomain *d, size_t i, const char *path)
{
    size_t m = d->memcg[i];
    const char *cg = m != SIZE_MAX ? d->cgroups.v[m].path : NULL;
    const struct proc *p = d->victims.v[i].proc;
    /* v2: the process's own cgroup may sit below its memcg; judge by its real path */
    const char *own = d->version == 1 ? p->cgroup : p->cgroup_unified;
    if (!own)
        own = cg;
    if (!own)
        return false;
    size_t n = strlen(path);
    if (n == 1 && path[0] == '/')
        return true;
    return strncmp(own, path, n) == 0 && (own[n] == '\0' || own[n] == '/');
}

bool oomdomain_group_kills(const struct proc *p)
{
    return p->oom_score_adj != -1000 && p->pid != 1 && p->has_mm && !p->kernel_thread;
}

size_t oomdomain_kill_unit(const struct oomdomain *d, size_t i, size_t *members, size_t cap)
{
    size_t g = d->group[i], n = 0;
    if (g == SIZE_MAX) {
        if (cap)
            members[0] = i;
        return 1;
    }
    const char *gpath = d->cgroups.v[g].path;
    for (size_t j = 0; j < d->victims.n; j++) {
        if (j != i &&
            (!oomdomain_group_kills(d->victims.v[j].proc) || !oomdomain_in(d, j, gpath)))
            continue;
        if (n < cap)
            members[n] = j;
        n++;
    }
    return n;
}
