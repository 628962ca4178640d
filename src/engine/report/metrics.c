#include "metrics.h"


#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "base/limits.h"
#include "base/opt.h"
#include "base/prom.h"
#include "base/sys/clock.h"
#include "model/cgroup/cgroup.h"
#include "model/critical.h"
#include "model/workload/identity.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/log/oomlog.h"
#include "model/proc/procs.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"
#include "model/proc/victims.h"

#ifndef OOMWARDEN_VERSION
#define OOMWARDEN_VERSION "0.0.0"
#endif

void kill_counters_init(struct kill_counters *k, size_t max_series)
{
    *k = (struct kill_counters){.max_series = max_series ? max_series : 1};
    pthread_mutex_init(&k->lock, NULL);
}

void kill_counters_release(struct kill_counters *k)
{
    free(k->v);
    pthread_mutex_destroy(&k->lock);
}

static void copy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
}

static void count(struct kill_counters *k, const struct kill_series *key)
{
    double now = wall_now();
    for (size_t i = 0; i < k->n; i++) {
        struct kill_series *s = &k->v[i];
        if (!strcmp(s->scope, key->scope) && !strcmp(s->cgroup, key->cgroup) &&
            !strcmp(s->pod_uid, key->pod_uid) && !strcmp(s->container, key->container) &&
            !strcmp(s->comm, key->comm)) {
            s->count++;
            s->last = now;
            return;
        }
    }
    struct kill_series other = {.count = 0};
    const struct kill_series *add = key;
    if (k->n + 1 >= k->max_series) {
        /* the last slot is the overflow series */
        copy(other.scope, sizeof(other.scope), key->scope);
        copy(other.cgroup, sizeof(other.cgroup), "other");
        copy(other.comm, sizeof(other.comm), "other");
        for (size_t i = 0; i < k->n; i++)
            if (!strcmp(k->v[i].cgroup, "other") && !strcmp(k->v[i].comm, "other") &&
                !strcmp(k->v[i].scope, key->scope)) {
                k->v[i].count++;
                k->v[i].last = now;
                return;
            }
        if (k->n >= k->max_series + 8) /* one overflow series per scope at most */
            return;
        add = &other;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        struct kill_series *v = realloc(k->v, cap * sizeof(*v));
        if (!v)
            return;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n] = *add;
    k->v[k->n].count = 1;
    k->v[k->n].last = now;
    k->n++;
}

void kill_counters_add(struct kill_counters *k, const struct oom_event *e, const char *cgroup)
{
    struct kill_series key = {0};
    if (e->task_memcg)
        cgroup = e->task_memcg;
    copy(key.scope, sizeof(key.scope), oom_scope_name(e->scope));
    copy(key.cgroup, sizeof(key.cgroup), cgroup);
    if (cgroup) {
        struct identity id;
        identity_from_cgroup(cgroup, &id);
        copy(key.pod_uid, sizeof(key.pod_uid), id.pod_uid);
        snprintf(key.container, sizeof(key.container), "%.12s", id.container_id);
    }
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < e->nvictims; i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->kind == OOM_VICTIM_EXITING)
            continue;
        /* an oom.group kill may name the first victim twice (facts §2.2): count it once */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = e->victims[j].pid == v->pid && e->victims[j].kind != OOM_VICTIM_EXITING;
        if (dup)
            continue;
        copy(key.comm, sizeof(key.comm), v->comm);
        count(k, &key);
    }
    pthread_mutex_unlock(&k->lock);
}

bool metrics_cgroup_wanted(const struct metrics_config *cfg, const char *path, unsigned depth)
{
    if (depth > cfg->cgroup_depth)
        return false;
    if (cfg->exclude)
        for (size_t i = 0; i < cfg->exclude->n; i++)
            if (fnmatch(cfg->exclude->v[i], path, 0) == 0)
                return false;
    if (!cfg->include || cfg->include->n == 0 || strcmp(path, "/") == 0)
        return true;
    for (size_t i = 0; i < cfg->include->n; i++)
        if (fnmatch(cfg->include->v[i], path, 0) == 0)
            return true;
    return false;
}

/* ---- families ----------------------------------------------------------------------------- */

enum {
    F_BUILD, F_UP, F_SCRAPE, F_MEM_TOTAL, F_MEM_AVAIL, F_SWAP_TOTAL, F_SWAP_FREE, F_NODE_SOME,
    F_NODE_FULL, F_NODE_KILLS, F_KILLS, F_KILL_TS, F_VICTIM, F_VICTIM_SCORE, F_VICTIM_CRITICAL,
    F_CG_INFO, F_CG_CURRENT,
    F_CG_MAX, F_CG_HIGH, F_CG_ANON, F_CG_FILE, F_CG_FILE_INACTIVE, F_CG_SHMEM, F_CG_KERNEL,
    F_CG_SLAB, F_CG_STACK, F_CG_PAGETABLES, F_CG_SOCK, F_CG_WSET, F_CG_EVENTS, F_CG_SOME,
    F_CG_FULL, F_CG_OOM_GROUP, F_GUARD_KILLS, F_POLICY_CHANGES, F_POLICY_PASS, F_COUNT,
};

static const struct {
    const char *name;
    enum prom_type type;
    const char *help;
} families[F_COUNT] = {
    [F_BUILD] = {"oomwarden_build_info", PROM_GAUGE, "oomwarden version and the running kernel."},
    [F_UP] = {"oomwarden_up", PROM_GAUGE, "1 when this scrape could read /proc."},
    [F_SCRAPE] = {"oomwarden_scrape_duration_seconds", PROM_GAUGE, "How long this scrape took."},
    [F_MEM_TOTAL] = {"oomwarden_node_memory_total_bytes", PROM_GAUGE, "MemTotal."},
    [F_MEM_AVAIL] = {"oomwarden_node_memory_available_bytes", PROM_GAUGE, "MemAvailable."},
    [F_SWAP_TOTAL] = {"oomwarden_node_swap_total_bytes", PROM_GAUGE, "SwapTotal."},
    [F_SWAP_FREE] = {"oomwarden_node_swap_free_bytes", PROM_GAUGE, "SwapFree."},
    [F_NODE_SOME] = {"oomwarden_node_pressure_memory_some_seconds_total", PROM_COUNTER,
                     "Time at least one task was stalled on memory (/proc/pressure/memory some)."},
    [F_NODE_FULL] = {"oomwarden_node_pressure_memory_full_seconds_total", PROM_COUNTER,
                     "Time all non-idle tasks were stalled on memory at once (full)."},
    [F_NODE_KILLS] = {"oomwarden_node_oom_kills_total", PROM_COUNTER,
                      "OOM kills since boot, the kernel's own count (/proc/vmstat oom_kill)."},
    [F_KILLS] = {"oomwarden_oom_kills_seen_total", PROM_COUNTER,
                 "OOM kills read from the kernel log since the agent started."},
    /* a new label set starts at 1, which increase() cannot see: alerts use this instead */
    [F_KILL_TS] = {"oomwarden_oom_kill_last_timestamp_seconds", PROM_GAUGE,
                   "When the latest OOM kill of this label set was read from the kernel log."},
    [F_VICTIM] = {"oomwarden_next_victim_info", PROM_GAUGE,
                  "The process a global OOM would kill now (the kernel's badness order)."},
    [F_VICTIM_SCORE] = {"oomwarden_next_victim_oom_score", PROM_GAUGE,
                        "/proc/PID/oom_score of the next global victim."},
    [F_VICTIM_CRITICAL] = {"oomwarden_next_victim_node_critical", PROM_GAUGE,
                           "1 when the next global victim is a node-critical daemon (sshd, "
                           "systemd-*, the container runtime, the kubelet...) outside any workload."},
    [F_CG_INFO] = {"oomwarden_cgroup_info", PROM_GAUGE, "The workload behind a memory cgroup."},
    [F_CG_CURRENT] = {"oomwarden_cgroup_memory_current_bytes", PROM_GAUGE,
                      "Memory charged to the cgroup (memory.current, v1 usage_in_bytes)."},
    [F_CG_MAX] = {"oomwarden_cgroup_memory_max_bytes", PROM_GAUGE,
                  "memory.max (v1 limit_in_bytes); no sample when unlimited."},
    [F_CG_HIGH] = {"oomwarden_cgroup_memory_high_bytes", PROM_GAUGE,
                   "memory.high (v2); no sample when unset."},
    [F_CG_ANON] = {"oomwarden_cgroup_memory_anon_bytes", PROM_GAUGE, "Anonymous memory."},
    [F_CG_FILE] = {"oomwarden_cgroup_memory_file_bytes", PROM_GAUGE,
                   "Page cache charged to the cgroup (includes tmpfs)."},
    [F_CG_FILE_INACTIVE] = {"oomwarden_cgroup_memory_file_inactive_bytes", PROM_GAUGE,
                            "Inactive page cache: reclaimed first."},
    [F_CG_SHMEM] = {"oomwarden_cgroup_memory_shmem_bytes", PROM_GAUGE, "Shared memory (tmpfs, shm)."},
    [F_CG_KERNEL] = {"oomwarden_cgroup_memory_kernel_bytes", PROM_GAUGE,
                     "Kernel memory charged to the cgroup (slab, stacks, page tables...)."},
    [F_CG_SLAB] = {"oomwarden_cgroup_memory_slab_bytes", PROM_GAUGE, "Slab."},
    [F_CG_STACK] = {"oomwarden_cgroup_memory_kernel_stack_bytes", PROM_GAUGE, "Kernel stacks."},
    [F_CG_PAGETABLES] = {"oomwarden_cgroup_memory_pagetables_bytes", PROM_GAUGE, "Page tables."},
    [F_CG_SOCK] = {"oomwarden_cgroup_memory_sock_bytes", PROM_GAUGE, "Socket buffers."},
    [F_CG_WSET] = {"oomwarden_cgroup_memory_working_set_bytes", PROM_GAUGE,
                   "Usage minus inactive page cache, as kubelet computes it."},
    [F_CG_EVENTS] = {"oomwarden_cgroup_memory_events_total", PROM_COUNTER,
                     "memory.events counters (v1: max = failcnt, oom_kill from oom_control)."},
    [F_CG_SOME] = {"oomwarden_cgroup_pressure_memory_some_seconds_total", PROM_COUNTER,
                   "Time a task of the cgroup was stalled on memory."},
    [F_CG_FULL] = {"oomwarden_cgroup_pressure_memory_full_seconds_total", PROM_COUNTER,
                   "Time all non-idle tasks of the cgroup were stalled on memory."},
    [F_CG_OOM_GROUP] = {"oomwarden_cgroup_oom_group", PROM_GAUGE,
                        "memory.oom.group: 1 when an OOM kills the whole cgroup (v2)."},
    [F_GUARD_KILLS] = {"oomwarden_guard_kills_total", PROM_COUNTER,
                       "Kills by the guard since the agent started, by trigger (dry-run: the "
                       "kills it would have made)."},
    [F_POLICY_CHANGES] = {"oomwarden_policy_changes_total", PROM_COUNTER,
                          "Policy changes written since the agent started (result: done, "
                          "failed)."},
    [F_POLICY_PASS] = {"oomwarden_policy_pass_duration_seconds", PROM_GAUGE,
                       "How long the latest pass of policy reconciliation took (pass: scan, the "
                       "look for new processes; recheck, everything read again)."},
};

struct collector {
    struct prom_registry reg;
    int fam[F_COUNT];
};

static void u64(struct collector *c, int f, const struct prom_label *l, size_t n, uint64_t v)
{
    if (opt_has(v) && v != CGROUP_UNLIMITED)
        prom_sample_u64(&c->reg, c->fam[f], l, n, v);
}

static void seconds_from_us(struct collector *c, int f, const struct prom_label *l, size_t n,
                            uint64_t us)
{
    if (opt_has(us))
        prom_sample_double(&c->reg, c->fam[f], l, n, (double)us / 1e6);
}

static void collect_node(struct collector *c, const struct metrics_ctx *m)
{
    struct meminfo mi;
    if (meminfo_read(m->sr, &mi) == 0) {
        u64(c, F_MEM_TOTAL, NULL, 0, mi.mem_total);
        u64(c, F_MEM_AVAIL, NULL, 0, mi.mem_available);
        u64(c, F_SWAP_TOTAL, NULL, 0, mi.swap_total);
        u64(c, F_SWAP_FREE, NULL, 0, mi.swap_free);
    }
    struct vmstat vs;
    if (vmstat_read(m->sr, &vs) == 0)
        u64(c, F_NODE_KILLS, NULL, 0, vs.oom_kill);
    struct psi p;
    if (psi_read_system(m->sr, &p) == 0) {
        if (p.some.present)
            seconds_from_us(c, F_NODE_SOME, NULL, 0, p.some.total);
        if (p.full.present)
            seconds_from_us(c, F_NODE_FULL, NULL, 0, p.full.total);
    }
}

static void collect_kills(struct collector *c, struct kill_counters *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->n; i++) {
        const struct kill_series *s = &k->v[i];
        struct prom_label l[] = {{"scope", s->scope},
                                 {"cgroup", s->cgroup[0] ? s->cgroup : NULL},
                                 {"pod_uid", s->pod_uid[0] ? s->pod_uid : NULL},
                                 {"container", s->container[0] ? s->container : NULL},
                                 {"comm", s->comm}};
        prom_sample_u64(&c->reg, c->fam[F_KILLS], l, 5, s->count);
        prom_sample_double(&c->reg, c->fam[F_KILL_TS], l, 5, s->last);
    }
    pthread_mutex_unlock(&k->lock);
}

/* The winner's cgroup, read after the ranking rather than for every process: only its labels
 * need it. False when the process has gone (or its PID was reused) since the snapshot; *ret is
 * NULL when the kernel shows no cgroup. */
static bool winner_cgroup(const struct sysroot *sr, const struct proc *p, char **ret)
{
    struct buf scratch = BUF_INIT(CAP_KERNEL_FILE);
    struct proc now;
    bool alive = false;
    *ret = NULL;
    if (procs_read_one(sr, p->pid, PROC_READ_STAT | PROC_READ_CGROUP, &scratch, &now) == 0) {
        alive = now.start_time == p->start_time;
        if (alive && now.cgroup)
            *ret = strdup(now.cgroup);
        proc_release(&now);
    }
    buf_release(&scratch);
    return alive;
}

static void collect_next_victim(struct collector *c, const struct metrics_ctx *m)
{
    struct meminfo mi;
    struct proc_table t;
    if (meminfo_read(m->sr, &mi) < 0 ||
        procs_snapshot(m->sr, PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM |
                                  PROC_USER_TASKS_ONLY,
                       &t) < 0)
        return;
    struct victim_list vl;
    if (victims_rank_global(&t, m->kernel, &mi, m->sr->page_size, &vl) == 0) {
        /* the first in the kernel's order still there when its cgroup is read */
        char *cg = NULL;
        size_t i = 0;
        while (i < vl.n && vl.v[i].eligible && !winner_cgroup(m->sr, vl.v[i].proc, &cg))
            i++;
        if (i < vl.n && vl.v[i].eligible) {
            const struct proc *p = vl.v[i].proc;
            struct identity id;
            identity_from_cgroup(cg, &id);
            char adj[16];
            snprintf(adj, sizeof(adj), "%d", p->oom_score_adj);
            struct prom_label l[] = {{"comm", p->comm},
                                     {"cgroup", cg},
                                     {"pod_uid", id.pod_uid[0] ? id.pod_uid : NULL},
                                     {"oom_score_adj", adj}};
            prom_sample_u64(&c->reg, c->fam[F_VICTIM], l, 4, 1);
            prom_sample_u64(&c->reg, c->fam[F_VICTIM_SCORE], NULL, 0, (uint64_t)p->oom_score);
            bool critical = critical_classify(p->comm, cg, NULL, NULL, 0) == PROC_CLASS_CRITICAL;
            prom_sample_u64(&c->reg, c->fam[F_VICTIM_CRITICAL], NULL, 0, critical);
            free(cg);
        }
        victim_list_release(&vl);
    }
    proc_table_release(&t);
}

static void collect_cgroup(struct collector *c, const struct cgroup_memory *cg)
{
    struct prom_label l[] = {{"cgroup", cg->path}};
    struct identity id;
    identity_from_cgroup(cg->path, &id);
    if (id.kind != WORKLOAD_NONE) {
        char cid[16];
        snprintf(cid, sizeof(cid), "%.12s", id.container_id);
        struct prom_label il[] = {{"cgroup", cg->path},
                                  {"unit", id.systemd_unit[0] ? id.systemd_unit : NULL},
                                  {"pod_uid", id.pod_uid[0] ? id.pod_uid : NULL},
                                  {"qos", qos_class_name(id.qos)},
                                  {"container_id", cid[0] ? cid : NULL},
                                  {"runtime", id.container_runtime[0] ? id.container_runtime : NULL}};
        prom_sample_u64(&c->reg, c->fam[F_CG_INFO], il, 6, 1);
    }
    u64(c, F_CG_CURRENT, l, 1, cg->current);
    if (cgroup_limit_set(cg->max))
        u64(c, F_CG_MAX, l, 1, cg->max);
    if (cgroup_limit_set(cg->high))
        u64(c, F_CG_HIGH, l, 1, cg->high);
    u64(c, F_CG_ANON, l, 1, cg->stat.anon);
    u64(c, F_CG_FILE, l, 1, cg->stat.file);
    u64(c, F_CG_FILE_INACTIVE, l, 1, cg->stat.inactive_file);
    u64(c, F_CG_SHMEM, l, 1, cg->stat.shmem);
    u64(c, F_CG_KERNEL, l, 1, cgroup_kernel(cg));
    u64(c, F_CG_SLAB, l, 1, cg->stat.slab);
    u64(c, F_CG_STACK, l, 1, cg->stat.kernel_stack);
    u64(c, F_CG_PAGETABLES, l, 1, cg->stat.pagetables);
    u64(c, F_CG_SOCK, l, 1, cg->stat.sock);
    if (opt_has(cg->current))
        u64(c, F_CG_WSET, l, 1, cgroup_working_set(cg));
    for (size_t i = 0; i < CGROUP_EVENTS_N; i++) {
        struct prom_label el[] = {{"cgroup", cg->path}, {"event", cgroup_event_name(i)}};
        u64(c, F_CG_EVENTS, el, 2, cgroup_event_value(&cg->events, i));
    }
    if (cg->has_psi) {
        if (cg->psi.some.present)
            seconds_from_us(c, F_CG_SOME, l, 1, cg->psi.some.total);
        if (cg->psi.full.present)
            seconds_from_us(c, F_CG_FULL, l, 1, cg->psi.full.total);
    }
    u64(c, F_CG_OOM_GROUP, l, 1, cg->oom_group);
}

static void collect_cgroups(struct collector *c, const struct metrics_ctx *m)
{
    struct cgroup_hier h;
    if (cgroup_hier_open(m->sr, &h) < 0)
        return;
    struct cgroup_snapshot s;
    if (h.memory_version && cgroup_snapshot_read_depth(&h, NULL, m->cfg->cgroup_depth, &s) == 0) {
        for (size_t i = 0; i < s.n; i++)
            if (metrics_cgroup_wanted(m->cfg, s.v[i].path, s.v[i].depth))
                collect_cgroup(c, &s.v[i]);
        cgroup_snapshot_release(&s);
    }
    cgroup_hier_close(&h);
}

static void collect_agent(struct collector *c, const struct metrics_agent *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_guard_kills; i++) {
        struct prom_label l[] = {{"reason", a->guard_kills[i].label}};
        prom_sample_u64(&c->reg, c->fam[F_GUARD_KILLS], l, 1, a->guard_kills[i].value);
    }
    if (a->policy_applied) {
        struct prom_label d[] = {{"result", "done"}}, f[] = {{"result", "failed"}};
        prom_sample_u64(&c->reg, c->fam[F_POLICY_CHANGES], d, 1, a->policy_done);
        prom_sample_u64(&c->reg, c->fam[F_POLICY_CHANGES], f, 1, a->policy_failed);
        struct prom_label sc[] = {{"pass", "scan"}}, rc[] = {{"pass", "recheck"}};
        if (a->scans)
            prom_sample_double(&c->reg, c->fam[F_POLICY_PASS], sc, 1, a->last_scan_us / 1e6);
        if (a->rechecks)
            prom_sample_double(&c->reg, c->fam[F_POLICY_PASS], rc, 1, a->last_recheck_us / 1e6);
    }
}

int metrics_collect(const struct metrics_ctx *m, struct buf *out)
{
    double t0 = clock_mono_s();
    struct collector c;
    prom_init(&c.reg);
    for (int i = 0; i < F_COUNT; i++)
        c.fam[i] = prom_family(&c.reg, families[i].name, families[i].type, families[i].help);
    struct prom_label bl[] = {{"version", OOMWARDEN_VERSION},
                              {"kernel", m->kernel->known ? m->kernel->release : NULL}};
    prom_sample_u64(&c.reg, c.fam[F_BUILD], bl, 2, 1);
    /* up: /proc readable now (under --root it may be a host mount that went away) */
    bool up = faccessat(m->sr->proc_fd, "meminfo", R_OK, 0) == 0;
    prom_sample_u64(&c.reg, c.fam[F_UP], NULL, 0, up ? 1 : 0);
    if (up) {
        collect_node(&c, m);
        collect_kills(&c, m->kills);
        collect_agent(&c, m->agent);
        if (m->cfg->next_victim)
            collect_next_victim(&c, m);
        collect_cgroups(&c, m);
    } else {
        collect_kills(&c, m->kills);
    }
    prom_sample_double(&c.reg, c.fam[F_SCRAPE], NULL, 0, clock_mono_s() - t0);
    int r = prom_render(&c.reg, out);
    prom_release(&c.reg);
    return r;
}
