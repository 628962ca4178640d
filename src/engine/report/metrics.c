#include "metrics.h"


#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "base/array.h"
#include "base/limits.h"
#include "base/log.h"
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
#include "model/workload/podnames.h"

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
            !strcmp(s->pod_uid, key->pod_uid) && !strcmp(s->container_id, key->container_id) &&
            !strcmp(s->namespace, key->namespace) && !strcmp(s->pod, key->pod) &&
            !strcmp(s->container, key->container) && !strcmp(s->comm, key->comm)) {
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
    if (ARRAY_GROW(k->v, k->n, k->cap, 16) < 0)
        return;
    k->v[k->n] = *add;
    k->v[k->n].count = 1;
    k->v[k->n].last = now;
    k->n++;
}

void kill_counters_add(struct kill_counters *k, const struct oom_event *e, const char *cgroup,
                       const struct podnames *names)
{
    struct kill_series key = {0};
    if (e->task_memcg)
        cgroup = e->task_memcg;
    copy(key.scope, sizeof(key.scope), oom_scope_name(e->scope));
    copy(key.cgroup, sizeof(key.cgroup), cgroup);
    if (cgroup) {
        struct identity id;
        podnames_identity(names, cgroup, &id);
        copy(key.pod_uid, sizeof(key.pod_uid), id.pod_uid);
        snprintf(key.container_id, sizeof(key.container_id), "%.12s", id.container_id);
        copy(key.namespace, sizeof(key.namespace), id.pod_namespace);
        copy(key.pod, sizeof(key.pod), id.pod_name);
        copy(key.container, sizeof(key.container), id.conmon ? "" : id.container_name);
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

static const char *or_null(const char *s)
{
    return s && s[0] ? s : NULL;
}

static void collect_kills(struct collector *c, struct kill_counters *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->n; i++) {
        const struct kill_series *s = &k->v[i];
        struct prom_label l[] = {{"scope", s->scope},
                                 {"cgroup", or_null(s->cgroup)},
                                 {"namespace", or_null(s->namespace)},
                                 {"pod", or_null(s->pod)},
                                 {"container", or_null(s->container)},
                                 {"pod_uid", or_null(s->pod_uid)},
                                 {"container_id", or_null(s->container_id)},
                                 {"comm", s->comm}};
        size_t n = sizeof(l) / sizeof(l[0]);
        prom_sample_u64(&c->reg, c->fam[F_KILLS], l, n, s->count);
        prom_sample_double(&c->reg, c->fam[F_KILL_TS], l, n, s->last);
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
            podnames_identity(m->names, cg, &id);
            char adj[16];
            snprintf(adj, sizeof(adj), "%d", p->oom_score_adj);
            struct prom_label l[] = {{"comm", p->comm},
                                     {"cgroup", cg},
                                     {"namespace", or_null(id.pod_namespace)},
                                     {"pod", or_null(id.pod_name)},
                                     {"container", id.conmon ? NULL : or_null(id.container_name)},
                                     {"pod_uid", or_null(id.pod_uid)},
                                     {"oom_score_adj", adj}};
            prom_sample_u64(&c->reg, c->fam[F_VICTIM], l, sizeof(l) / sizeof(l[0]), 1);
            prom_sample_u64(&c->reg, c->fam[F_VICTIM_SCORE], NULL, 0, (uint64_t)p->oom_score);
            bool critical = critical_classify(p->comm, cg, NULL, NULL, 0) == PROC_CLASS_CRITICAL;
            prom_sample_u64(&c->reg, c->fam[F_VICTIM_CRITICAL], NULL, 0, critical);
            free(cg);
        }
        victim_list_release(&vl);
    }
    proc_table_release(&t);
}

static void collect_cgroup(struct collector *c, const struct podnames *names,
                           const struct cgroup_memory *cg)
{
    struct identity id;
    podnames_identity(names, cg->path, &id);
    /* a pod's and a container's series carry their names, the labels cAdvisor's and
     * kube-state-metrics' series join on; absent, never empty, when not known */
    const char *ns = or_null(id.pod_namespace), *pod = or_null(id.pod_name),
               *ctr = id.conmon ? NULL : or_null(id.container_name);
    struct prom_label l[] = {{"cgroup", cg->path}, {"namespace", ns}, {"pod", pod},
                             {"container", ctr}};
    const size_t nl = sizeof(l) / sizeof(l[0]);
    if (id.kind != WORKLOAD_NONE) {
        char cid[16];
        snprintf(cid, sizeof(cid), "%.12s", id.container_id);
        struct prom_label il[] = {{"cgroup", cg->path},
                                  {"namespace", ns},
                                  {"pod", pod},
                                  {"container", ctr},
                                  {"unit", or_null(id.systemd_unit)},
                                  {"pod_uid", or_null(id.pod_uid)},
                                  {"qos", qos_class_name(id.qos)},
                                  {"container_id", or_null(cid)},
                                  {"runtime", or_null(id.container_runtime)}};
        prom_sample_u64(&c->reg, c->fam[F_CG_INFO], il, sizeof(il) / sizeof(il[0]), 1);
    }
    u64(c, F_CG_CURRENT, l, nl, cg->current);
    if (cgroup_limit_set(cg->max))
        u64(c, F_CG_MAX, l, nl, cg->max);
    if (cgroup_limit_set(cg->high))
        u64(c, F_CG_HIGH, l, nl, cg->high);
    u64(c, F_CG_ANON, l, nl, cg->stat.anon);
    u64(c, F_CG_FILE, l, nl, cg->stat.file);
    u64(c, F_CG_FILE_INACTIVE, l, nl, cg->stat.inactive_file);
    u64(c, F_CG_SHMEM, l, nl, cg->stat.shmem);
    u64(c, F_CG_KERNEL, l, nl, cgroup_kernel(cg));
    u64(c, F_CG_SLAB, l, nl, cg->stat.slab);
    u64(c, F_CG_STACK, l, nl, cg->stat.kernel_stack);
    u64(c, F_CG_PAGETABLES, l, nl, cg->stat.pagetables);
    u64(c, F_CG_SOCK, l, nl, cg->stat.sock);
    if (opt_has(cg->current))
        u64(c, F_CG_WSET, l, nl, cgroup_working_set(cg));
    for (size_t i = 0; i < CGROUP_EVENTS_N; i++) {
        struct prom_label el[] = {{"cgroup", cg->path}, {"namespace", ns}, {"pod", pod},
                                  {"container", ctr}, {"event", cgroup_event_name(i)}};
        u64(c, F_CG_EVENTS, el, sizeof(el) / sizeof(el[0]), cgroup_event_value(&cg->events, i));
    }
    if (cg->has_psi) {
        if (cg->psi.some.present)
            seconds_from_us(c, F_CG_SOME, l, nl, cg->psi.some.total);
        if (cg->psi.full.present)
            seconds_from_us(c, F_CG_FULL, l, nl, cg->psi.full.total);
    }
    u64(c, F_CG_OOM_GROUP, l, nl, cg->oom_group);
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
                collect_cgroup(c, m->names, &s.v[i]);
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
        /* two stat()s when the kubelet's layout has not changed since the last scrape */
        if (m->names && podnames_refresh(m->sr, m->names) < 0)
            log_debug("out of memory reading the pods' names");
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
