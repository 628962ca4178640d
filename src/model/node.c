#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/sys/clock.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/limits.h"
#include "model/log/oomlog.h"
#include "sysroot.h"

static const struct cgroup_snapshot *g_sorted_snap; /* qsort has no context argument */

static int cmp_path(const void *a, const void *b)
{
    return strcmp(g_sorted_snap->v[*(const size_t *)a].path,
                  g_sorted_snap->v[*(const size_t *)b].path);
}

struct path_key {
    const struct cgroup_snapshot *s;
    const char *path;
};

static int cmp_key(const void *k, const void *e)
{
    const struct path_key *key = k;
    return strcmp(key->path, key->s->v[*(const size_t *)e].path);
}

/* The deepest cgroup of the snapshot at or above `path` (cgroup_snapshot_find_under(), but by
 * binary search on the sorted paths: 5,000 processes x 1,000 cgroups is too many strcmps). */
static size_t find_memcg(const struct cgroup_snapshot *s, const size_t *sorted, const char *path,
                         struct buf *tmp)
{
    buf_reset(tmp);
    if (buf_puts(tmp, path) < 0)
        return SIZE_MAX;
    char *p = tmp->data;
    for (;;) {
        struct path_key key = {s, p};
        const size_t *hit = bsearch(&key, sorted, s->n, sizeof(*sorted), cmp_key);
        if (hit)
            return *hit;
        char *slash = strrchr(p, '/');
        if (!slash)
            return SIZE_MAX;
        if (slash == p) {
            if (p[1] == '\0')
                return SIZE_MAX;
            p[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
}

static int map_procs(struct node *n)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    n->proc_memcg = malloc((n->procs.n ? n->procs.n : 1) * sizeof(size_t));
    size_t *sorted = malloc((s->n ? s->n : 1) * sizeof(size_t));
    struct buf tmp = BUF_INIT(CAP_PATH);
    if (!n->proc_memcg || !sorted) {
        free(sorted);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        sorted[i] = i;
    g_sorted_snap = s;
    qsort(sorted, s->n, sizeof(*sorted), cmp_path);
    for (size_t i = 0; i < n->procs.n; i++) {
        const struct proc *p = &n->procs.v[i];
        const char *path = proc_memcg_path(p, n->hier.memory_version);
        n->proc_memcg[i] = path && s->n ? find_memcg(s, sorted, path, &tmp) : SIZE_MAX;
    }
    buf_release(&tmp);
    free(sorted);
    return 0;
}

/* /proc/uptime's first number, for a saved kernel log under a fixture root. */
static uint64_t uptime_us(const struct sysroot *sr)
{
    struct buf b = BUF_INIT(CAP_KERNEL_VALUE);
    uint64_t v = OPT_ABSENT, centi;
    if (read_virtual_at(sr->proc_fd, "uptime", &b) > 0) {
        struct cursor c = cursor_make(b.data, b.len);
        if (cursor_centi(&c, &centi) == 0)
            v = centi * 10000;
    }
    buf_release(&b);
    return v;
}

static void read_log(struct node *n)
{
    n->log = malloc(sizeof(*n->log));
    if (!n->log) {
        n->log_err = -ENOMEM;
        return;
    }
    oomlog_init(n->log);
    /* the sysroot's directory: /dev/kmsg here, <root>/dev/kmsg under --root */
    n->log_err =
        logsource_feed_kernel_log(n->log, n->sr->root_fd, "dev/kmsg", &n->log_stats, &n->log_live);
    int r = oomlog_finish(n->log);
    if (n->log_err == 0 && r < 0)
        n->log_err = r;
    /* status and doctor count the kernel's OOM kills: a userspace killer's in a saved log under
     * --root (text, not /dev/kmsg's records) is not one */
    oomlog_drop_userspace_kills(n->log);
    if (n->log_live) {
        n->now_us = clock_mono_us();
        n->boot_wall = clock_boot_wall();
    } else {
        n->now_us = uptime_us(n->sr);
    }
}

int node_read(const struct sysroot *sr, unsigned parts, struct node *ret)
{
    struct node n = {
        .sr = sr,
        .parts = parts,
        .hier = {.memory = {.fd = -1}, .unified = {.fd = -1}},
        .hier_err = -ENOMEDIUM,
        .cgroups_err = -ENOMEDIUM,
        .band_err = -ENOENT,
        .log_err = -ENODATA,
        .now_us = OPT_ABSENT,
        .names = PODNAMES_INIT,
    };
    int r = kver_read(sr, &n.kernel);
    if (r < 0)
        log_debug("cannot read the kernel version (%s); assuming a current kernel", strerror(-r));
    if ((r = meminfo_read(sr, &n.mem)) < 0)
        return r;
    n.vmstat_ms = clock_mono_ms();
    n.vmstat_err = vmstat_read(sr, &n.vmstat);
    n.psi_err = psi_read_system(sr, &n.psi);
    sysctls_read(sr, &n.sysctl);
    n.swaps_err = swaps_read(sr, &n.swaps);
    struct buf b = BUF_INIT(CAP_CMDLINE);
    if (read_virtual_at(sr->proc_fd, "cmdline", &b) >= 0) {
        /* drop the trailing newline */
        while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
            b.data[--b.len] = '\0';
        n.cmdline = buf_detach(&b, NULL);
    }
    buf_release(&b);

    if (parts & NODE_READ_PROCS) {
        if ((r = procs_snapshot(sr, PROC_READ_ALL, &n.procs)) < 0)
            goto fail;
        if ((r = victims_rank_global(&n.procs, &n.kernel, &n.mem, sr->page_size, &n.global)) < 0)
            goto fail;
    }
    /* the layout is cheap (mountinfo); the walk of every cgroup is not */
    n.hier_err = cgroup_hier_open(sr, &n.hier);
    if (n.hier_err == 0 && n.hier.memory_version == 0)
        n.hier_err = -ENOMEDIUM;
    n.cgroups_ms = clock_mono_ms();
    if (n.hier_err == 0 && (parts & NODE_READ_CGROUPS)) {
        n.cgroups_err = cgroup_snapshot_read(&n.hier, NULL, &n.cgroups);
        n.band_err = band_records_read(sr, &n.band, &n.band_bad_line);
        if (n.band_err == 0 && n.band.n == 0)
            n.band_err = -ENOENT;
    }
    if ((r = map_procs(&n)) < 0)
        goto fail;
    if ((parts & (NODE_READ_PROCS | NODE_READ_CGROUPS)) && (r = podnames_read(sr, &n.names)) < 0)
        goto fail;
    if (parts & NODE_READ_KMSG)
        read_log(&n);
    *ret = n;
    return 0;
fail:
    node_release(&n);
    return r;
}

void node_release(struct node *n)
{
    swaps_release(&n->swaps);
    free(n->cmdline);
    victim_list_release(&n->global);
    proc_table_release(&n->procs);
    free(n->proc_memcg);
    free(n->cg_refaults);
    cgroup_snapshot_release(&n->cgroups);
    band_records_release(&n->band);
    cgroup_hier_close(&n->hier);
    podnames_release(&n->names);
    if (n->log) {
        oomlog_release(n->log);
        free(n->log);
    }
    *n = (struct node){.hier = {.memory = {.fd = -1}, .unified = {.fd = -1}}};
}

static uint64_t lru_bytes(uint64_t active, uint64_t inactive)
{
    return opt_has(active) && opt_has(inactive) ? active + inactive : OPT_ABSENT;
}

int node_measure_refaults(struct node *n, uint64_t interval_ms)
{
    size_t ncg = n->cgroups_err == 0 ? n->cgroups.n : 0;
    free(n->cg_refaults);
    n->cg_refaults = calloc(ncg ? ncg : 1, sizeof(*n->cg_refaults));
    if (!n->cg_refaults)
        return -ENOMEM;
    uint64_t cache = lru_bytes(n->mem.active_file, n->mem.inactive_file);
    long ps = n->sr->page_size;
    if (interval_ms == 0) {
        workingset_assess(OPT_ABSENT, OPT_ABSENT, 0, ps, cache, &n->refaults);
        for (size_t i = 0; i < ncg; i++)
            workingset_assess(OPT_ABSENT, OPT_ABSENT, 0, ps,
                              lru_bytes(n->cgroups.v[i].stat.active_file,
                                        n->cgroups.v[i].stat.inactive_file),
                              &n->cg_refaults[i]);
        return 0;
    }
    /* the later of the two first readings sets the wake-up: both intervals are then long enough */
    clock_sleep_until_ms((ncg ? n->cgroups_ms : n->vmstat_ms) + interval_ms);
    struct vmstat vm;
    uint64_t after = OPT_ABSENT;
    if (n->vmstat_err == 0 && vmstat_read(n->sr, &vm) == 0)
        after = vm.workingset_refault_file;
    uint64_t now = clock_mono_ms();
    workingset_assess(n->vmstat_err == 0 ? n->vmstat.workingset_refault_file : OPT_ABSENT, after,
                      (double)(now - n->vmstat_ms) / 1000.0, ps, cache, &n->refaults);
    /* /proc/vmstat counts every refault, a memcg's at its limit too. The machine itself reclaims
     * only when free memory falls under the zone watermarks (kswapd, then direct reclaim); with a
     * tenth of RAM available it is not short, and its refaults are the cgroups' */
    if (n->refaults.measured && opt_has(n->mem.mem_available) && opt_has(n->mem.mem_total) &&
        n->mem.mem_available * 10 >= n->mem.mem_total && n->refaults.refaults > 0) {
        n->refaults_from_limits = true;
        n->refaults.level = THRASH_NONE;
    }
    for (size_t i = 0; i < ncg; i++) {
        const struct cgroup_memory *cg = &n->cgroups.v[i];
        struct cgroup_memstat st;
        uint64_t again = OPT_ABSENT, lru = lru_bytes(cg->stat.active_file, cg->stat.inactive_file);
        if (cgroup_read_stat(&n->hier, cg->path, &st) == 0) {
            again = st.workingset_refault_file;
            if (opt_has(lru_bytes(st.active_file, st.inactive_file)))
                lru = lru_bytes(st.active_file, st.inactive_file);
        }
        workingset_assess(cg->stat.workingset_refault_file, again,
                          (double)(clock_mono_ms() - n->cgroups_ms) / 1000.0, n->hier.page_size,
                          lru, &n->cg_refaults[i]);
    }
    return 0;
}

size_t node_proc_index(const struct node *n, const struct proc *p)
{
    return (size_t)(p - n->procs.v);
}

const struct cgroup_memory *node_memcg_of(const struct node *n, const struct proc *p)
{
    if (!n->proc_memcg)
        return NULL;
    size_t m = n->proc_memcg[node_proc_index(n, p)];
    return m == SIZE_MAX ? NULL : &n->cgroups.v[m];
}

size_t node_binder(const struct node *n, size_t i)
{
    struct cgroup_binding bd;
    node_binding(n, i, &bd);
    for (size_t p = i; bd.from && p != SIZE_MAX; p = n->cgroups.v[p].parent)
        if (n->cgroups.v[p].path == bd.from)
            return p;
    return SIZE_MAX;
}

void node_outlook(const struct node *n, size_t i, struct cgroup_outlook *ret)
{
    struct cgroup_binding bd;
    node_binding(n, i, &bd);
    size_t b = node_binder(n, i);
    const struct cgroup_memory *binder = b == SIZE_MAX ? NULL : &n->cgroups.v[b];
    uint64_t room = 0;
    /* v2 memcg reclaim scans no anon at vm.swappiness 0 (get_scan_count(), Linux 6.1) */
    bool swap = binder && !(binder->version == 2 && n->sysctl.swappiness == 0) &&
                cgroup_swap_room(binder, n->mem.swap_free, &room);
    cgroup_outlook_of(binder, &bd, swap, room, ret);
}

void node_binding(const struct node *n, size_t i, struct cgroup_binding *ret)
{
    const struct cgroup_memory *chain[CGROUP_WALK_MAX_DEPTH + 2];
    size_t len = 0;
    for (size_t p = i; p != SIZE_MAX && len < CGROUP_WALK_MAX_DEPTH + 2; p = n->cgroups.v[p].parent)
        len++;
    size_t k = len;
    for (size_t p = i; p != SIZE_MAX && k > 0; p = n->cgroups.v[p].parent)
        chain[--k] = &n->cgroups.v[p];
    cgroup_binding_of(chain, len, ret);
}
