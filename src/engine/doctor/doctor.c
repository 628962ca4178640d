#include "doctor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/json.h"
#include "base/opt.h"
#include "model/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/critical.h"
#include "model/identity.h"
#include "model/proc/oomdomain.h"
#include "model/oomlog.h"
#include "model/pressure/psilevel.h"
#include "model/sysroot.h"
#include "engine/explain.h"
#include "model/node.h"

const struct doctor_check_info doctor_checks[CHECK_COUNT] = {
    [CHECK_KILL_ORDER] = {"kill-order",
                          "a machine-wide OOM kills node-critical processes before workloads"},
    [CHECK_LIMITS] = {"limits", "memory limits add up beyond RAM (+ swap)"},
    [CHECK_MEMORY_HIGH] = {"memory-high", "memory.max without memory.high on busy cgroups (v2)"},
    [CHECK_OOM_GROUP] = {"oom-group", "memory.oom.group=1: one kill takes a whole cgroup (v2)"},
    [CHECK_PAGE_CACHE] = {"page-cache", "page cache fills a cgroup to its limit"},
    [CHECK_PRESSURE] = {"pressure", "memory PSI and page-cache thrashing: node and cgroups"},
    [CHECK_PSI_CGROUPS] = {"psi-cgroups", "PSI unavailable; cgroup v1 and hybrid consequences"},
    [CHECK_SWAP] = {"swap", "swap, zram and zswap, and what they trade"},
    [CHECK_SYSCTL] = {"sysctl", "vm.panic_on_oom, vm.oom_kill_allocating_task, overcommit"},
    [CHECK_OOM_DAEMON] = {"oom-daemon", "no userspace OOM daemon running"},
    [CHECK_ADJ] = {"adj", "big processes at oom_score_adj -1000; tiny ones killed first"},
    [CHECK_RECENT_KILLS] = {"recent-kills", "OOM kills in the kernel log"},
    [CHECK_KERNEL_LOG] = {"kernel-log", "the kernel log cannot be read"},
};

/* The daemons a node does not survive losing: remote access, networking, name resolution, the
 * journal, D-Bus, the container runtime and kubelet, time. comm is cut to 15 bytes. */
int doctor_check_find(const char *id)
{
    for (int i = 0; i < CHECK_COUNT; i++)
        if (strcmp(doctor_checks[i].id, id) == 0)
            return i;
    return -1;
}

const char *doctor_severity_name(enum doctor_severity s)
{
    return s == DOCTOR_CRITICAL ? "critical" : s == DOCTOR_WARNING ? "warning" : "info";
}

/* ---- building findings ------------------------------------------------------------------- */

struct fb {
    struct finding f;
    size_t cap_e, cap_f;
    struct buf data;
    struct json j; /* compact: the finding's "data" object */
    int err;
};

static void fb_begin(struct fb *b, enum doctor_check_id check)
{
    *b = (struct fb){.f = {.check = check}, .data = BUF_INIT(1024 * 1024)};
    json_init(&b->j, &b->data, false);
    json_obj_begin(&b->j);
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static void fb_title(struct fb *b, enum doctor_severity s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fb_title(struct fb *b, enum doctor_severity s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(b->f.title);
    b->f.title = vfmt(fmt, ap);
    va_end(ap);
    b->f.severity = s;
    if (!b->f.title)
        b->err = -ENOMEM;
}

static void push_line(struct fb *b, char ***v, size_t *n, size_t *cap, char *s)
{
    if (!s) {
        b->err = -ENOMEM;
        return;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, nc * sizeof(*nv));
        if (!nv) {
            free(s);
            b->err = -ENOMEM;
            return;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = s;
}

static void fb_ev(struct fb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fb_ev(struct fb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    push_line(b, &b->f.evidence, &b->f.nevidence, &b->cap_e, s);
}

static void fb_fix(struct fb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fb_fix(struct fb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    push_line(b, &b->f.fix, &b->f.nfix, &b->cap_f, s);
}

static void finding_release(struct finding *f)
{
    free(f->title);
    for (size_t i = 0; i < f->nevidence; i++)
        free(f->evidence[i]);
    free(f->evidence);
    for (size_t i = 0; i < f->nfix; i++)
        free(f->fix[i]);
    free(f->fix);
    free(f->data);
    *f = (struct finding){0};
}

static void fb_discard(struct fb *b)
{
    finding_release(&b->f);
    buf_release(&b->data);
}

static int fb_commit(struct doctor_report *r, struct fb *b)
{
    json_obj_end(&b->j);
    if (!b->err)
        b->err = json_error(&b->j);
    if (!b->err && !b->f.title)
        b->err = -EINVAL;
    if (b->err) {
        int e = b->err;
        fb_discard(b);
        return e;
    }
    b->f.data = buf_detach(&b->data, NULL);
    struct finding *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v) {
        fb_discard(b);
        return -ENOMEM;
    }
    r->v = v;
    r->v[r->n++] = b->f;
    r->result[b->f.check] = RESULT_FINDING;
    r->count[b->f.severity]++;
    b->f = (struct finding){0};
    return 0;
}

static int note(struct doctor_report *r, enum doctor_check_id c, enum doctor_result res,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int note(struct doctor_report *r, enum doctor_check_id c, enum doctor_result res,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    if (!s)
        return -ENOMEM;
    free(r->note[c]);
    r->note[c] = s;
    r->result[c] = res;
    return 0;
}

/* ---- shared helpers ---------------------------------------------------------------------- */


static uint64_t or0(uint64_t v)
{
    return opt_has(v) ? v : 0;
}

/* "1.2G": for lists */
static const char *sz(char out[FMT_SIZE_LEN], uint64_t v)
{
    return fmt_size(out, v);
}

/* "1.2 GiB": for sentences */
static const char *szl(char out[24], uint64_t v)
{
    return fmt_size_long(out, v);
}

/* Resident memory + swap: what a kill gives back. */
static uint64_t proc_mem(const struct proc *p)
{
    return (p->has_mm ? proc_rss(p) : 0) + or0(p->swap);
}

enum pclass { CLASS_OTHER = PROC_CLASS_OTHER, CLASS_CRITICAL = PROC_CLASS_CRITICAL,
              CLASS_WORKLOAD = PROC_CLASS_WORKLOAD };

static const char *class_name(enum pclass c)
{
    return proc_class_name((enum proc_class)c);
}

static void proc_identity(const struct proc *p, struct identity *id)
{
    identity_from_cgroup(p->cgroup ? p->cgroup : "", id);
    if (id->kind == WORKLOAD_NONE && p->cgroup_unified)
        identity_from_cgroup(p->cgroup_unified, id);
}

static enum pclass classify(const struct proc *p, const struct doctor_opts *o)
{
    return (enum pclass)critical_classify(p->comm, p->cgroup, p->cgroup_unified, o->critical,
                                          o->ncritical);
}

/* "pod 0a1b2c3d (guaranteed)", "docker container 34186d9bd077", "ssh.service", "" */
static void workload_words(const struct identity *id, char *out, size_t n)
{
    out[0] = '\0';
    switch (id->kind) {
    case WORKLOAD_KUBERNETES:
        if (id->pod_uid[0])
            snprintf(out, n, "pod %.8s%s%s%s", id->pod_uid, qos_class_name(id->qos) ? " (" : "",
                     qos_class_name(id->qos) ? qos_class_name(id->qos) : "",
                     qos_class_name(id->qos) ? ")" : "");
        else
            snprintf(out, n, "kubepods");
        break;
    case WORKLOAD_DOCKER:
        snprintf(out, n, "docker container %.12s", id->container_id);
        break;
    case WORKLOAD_SYSTEMD:
        snprintf(out, n, "%s", id->systemd_unit[0] ? id->systemd_unit : id->systemd_slice);
        break;
    case WORKLOAD_NONE:
    default:
        break;
    }
}

static void cgroup_words(const char *path, char *out, size_t n)
{
    struct identity id;
    identity_from_cgroup(path, &id);
    workload_words(&id, out, n);
    if (!out[0])
        cgpath_short(path, 48, out, n);
}

static bool is_root(const struct cgroup_memory *cg)
{
    return cg->parent == SIZE_MAX;
}

/* End (exclusive) of the subtree of snapshot entry i (pre-order). */
static size_t subtree_end(const struct cgroup_snapshot *s, size_t i)
{
    size_t e = i + 1;
    while (e < s->n && s->v[e].depth > s->v[i].depth)
        e++;
    return e;
}

static bool have_cgroups(const struct node *n)
{
    return n->hier_err == 0 && n->cgroups_err == 0 && n->cgroups.n > 0;
}

static void json_victim(struct json *j, const struct victim *v, enum pclass c)
{
    const struct proc *p = v->proc;
    json_obj_begin(j);
    json_kv_u64(j, "rank", v->rank);
    json_kv_i64(j, "pid", p->pid);
    json_kv_str(j, "comm", p->comm);
    json_kv_i64(j, "oom_score_adj", p->oom_score_adj);
    json_kv_i64(j, "badness", v->badness);
    json_kv_u64(j, "memory", proc_mem(p));
    json_kv_str(j, "class", class_name(c));
    json_kv_str(j, "cgroup", proc_cgroup_path(p));
    json_obj_end(j);
}

/* ---- 1. kill order ------------------------------------------------------------------------ */

static int check_kill_order(const struct node *n, const struct doctor_opts *o,
                            struct doctor_report *r)
{
    const struct victim_list *vl = &n->global;
    size_t eligible = 0, first_workload = SIZE_MAX, holder = SIZE_MAX, ncrit = 0;
    for (size_t i = 0; i < vl->n && vl->v[i].rank; i++) {
        eligible++;
        enum pclass c = classify(vl->v[i].proc, o);
        if (c == CLASS_WORKLOAD && first_workload == SIZE_MAX)
            first_workload = i;
        /* the workload process holding the most memory: the likely cause of a machine-wide
         * OOM, and what the kernel has to reach before the kills stop. A small workload process
         * ranked first (a BestEffort sidecar at 1000) changes nothing for the daemons ranked
         * between it and the -997 pod that holds the memory. */
        if (c == CLASS_WORKLOAD && (holder == SIZE_MAX || proc_mem(vl->v[i].proc) >
                                                              proc_mem(vl->v[holder].proc)))
            holder = i;
        if (c == CLASS_CRITICAL)
            ncrit++;
    }
    /* The holder's badness rises as it grows. By the time a machine-wide OOM comes it can have
     * taken everything but what cannot be reclaimed or swapped: anon (beyond free swap), shmem,
     * unreclaimable slab, kernel stacks, page tables. So a process ranked before it now dies
     * before it for sure only if its badness beats the holder's at that size. On the node
     * image (6.1) the kernel killed every adj-0 daemon before the growing -997 pod, and
     * journald (-250), dbus (-900) and containerd (-999), ranked before the small pod at the
     * start, after it; so did the seed incident's node (corpus 044). MemAvailable is too small
     * a bound: the pod grew by 742 MiB with 638 MiB available, reclaim took the rest. */
    int64_t holder_grown = 0;
    if (holder != SIZE_MAX) {
        const struct meminfo *m = &n->mem;
        uint64_t pinned = or0(m->anon_pages) + or0(m->shmem) + or0(m->sunreclaim) +
                          or0(m->kernel_stack) + or0(m->page_tables);
        if (!opt_has(m->anon_pages)) /* a meminfo without the breakdown: the processes' memory */
            for (size_t i = 0; i < vl->n; i++)
                pinned += proc_mem(vl->v[i].proc);
        uint64_t total = or0(m->mem_total) + or0(m->swap_free);
        uint64_t room = (total > pinned ? total - pinned : 0) / n->sr->page_size;
        holder_grown = vl->v[holder].badness + (int64_t)room;
    }
    size_t before = 0, maybe = 0;
    size_t limit = holder == SIZE_MAX ? eligible : holder;
    for (size_t i = 0; i < limit; i++)
        if (classify(vl->v[i].proc, o) == CLASS_CRITICAL) {
            if (holder == SIZE_MAX || vl->v[i].badness > holder_grown)
                before++;
            else
                maybe++;
        }
    /* no workload: only the very first victims matter */
    size_t top_crit = 0;
    for (size_t i = 0; i < eligible && i < 3; i++)
        top_crit += classify(vl->v[i].proc, o) == CLASS_CRITICAL;
    if (eligible == 0)
        return note(r, CHECK_KILL_ORDER, RESULT_OK, "no process the kernel could kill");
    if (holder != SIZE_MAX && before == 0)
        return note(r, CHECK_KILL_ORDER, RESULT_OK,
                    "no node-critical process dies before the workload process holding the most "
                    "memory (%s, pid %d, #%zu)%s",
                    vl->v[holder].proc->comm, (int)vl->v[holder].proc->pid, vl->v[holder].rank,
                    maybe ? " once it has grown; some rank before it while it is small" : "");
    if (first_workload == SIZE_MAX && top_crit == 0)
        return note(r, CHECK_KILL_ORDER, RESULT_OK,
                    "no workload processes; no node-critical process among the first 3 victims "
                    "(%zu node-critical processes in all)",
                    ncrit);

    struct fb b;
    fb_begin(&b, CHECK_KILL_ORDER);
    char a[24], s1[FMT_SIZE_LEN], w[IDENTITY_NAME_MAX + 32];
    uint64_t weight = vl->totalpages / 1000;
    if (holder != SIZE_MAX && holder == first_workload) {
        const struct proc *fw = vl->v[first_workload].proc;
        fb_title(&b, DOCTOR_CRITICAL,
                 "a machine-wide OOM kills %zu node-critical process%s before the first workload "
                 "process (%s, #%zu)",
                 before, before == 1 ? "" : "es", fw->comm, vl->v[first_workload].rank);
    } else if (holder != SIZE_MAX) {
        const struct proc *h = vl->v[holder].proc;
        fb_title(&b, DOCTOR_CRITICAL,
                 "a machine-wide OOM kills %zu node-critical process%s before the workload "
                 "process holding the most memory (%s, #%zu)",
                 before, before == 1 ? "" : "es", h->comm, vl->v[holder].rank);
    } else {
        fb_title(&b, DOCTOR_WARNING,
                 "a machine-wide OOM kills node-critical processes first (%zu of the first %zu "
                 "victims)",
                 top_crit, eligible < 3 ? eligible : (size_t)3);
    }
    fb_ev(&b,
          "kill order of a machine-wide OOM now (oom_badness(): resident + swap + page-table "
          "pages, plus oom_score_adj x %" PRIu64 " pages = (RAM + swap) / 1000, one point = %s):",
          weight, szl(a, weight * (uint64_t)n->sr->page_size));
    size_t show = limit + 1 < 8 ? limit + 1 : 8;
    if (show < 3)
        show = 3;
    for (size_t i = 0; i < eligible && i < show; i++) {
        const struct victim *v = &vl->v[i];
        const struct proc *p = v->proc;
        enum pclass c = classify(p, o);
        struct identity id;
        proc_identity(p, &id);
        workload_words(&id, w, sizeof(w));
        fb_ev(&b, "  #%zu %s (pid %d) %s, oom_score_adj %d, badness %" PRId64 " pages: %s%s%s",
              v->rank, p->comm, (int)p->pid, sz(s1, proc_mem(p)), p->oom_score_adj, v->badness,
              c == CLASS_CRITICAL   ? "node-critical"
              : c == CLASS_WORKLOAD ? "workload"
                                    : "other",
              w[0] ? ", " : "", w);
    }
    if (limit + 1 > show && limit > show)
        fb_ev(&b, "  ... %zu more before the %s workload process", limit - show,
              holder == first_workload ? "first" : "largest");
    if (holder != SIZE_MAX) {
        /* the names, in order, and why the workload comes so late */
        struct buf names = BUF_INIT(64 * 1024);
        uint64_t freed = 0;
        struct buf later = BUF_INIT(64 * 1024);
        for (size_t i = 0; i < holder; i++) {
            const struct proc *p = vl->v[i].proc;
            if (classify(p, o) != CLASS_CRITICAL)
                continue;
            if (vl->v[i].badness <= holder_grown) {
                buf_printf(&later, "%s%s (#%zu)", later.len ? ", " : "", p->comm, vl->v[i].rank);
                continue;
            }
            buf_printf(&names, "%s%s (#%zu)", names.len ? ", " : "", p->comm, vl->v[i].rank);
            freed += proc_mem(p);
        }
        fb_ev(&b,
              "node-critical before the %s workload: %s; killing them all frees only %s, so "
              "while a workload keeps growing the kernel kills them one by one, as in the "
              "node-crash incidents",
              holder == first_workload ? "first" : "largest", buf_cstr(&names), szl(a, freed));
        buf_release(&names);
        if (later.len)
            fb_ev(&b,
                  "ranked before it now, but not once it has grown into what reclaim can free "
                  "(RAM + free swap - anon, shmem, unreclaimable slab, kernel stacks, page "
                  "tables: its badness then %" PRId64 " pages): %s",
                  holder_grown, buf_cstr(&later));
        buf_release(&later);
        const struct proc *fw = vl->v[first_workload].proc;
        struct identity id;
        proc_identity(fw, &id);
        workload_words(&id, w, sizeof(w));
        fb_ev(&b, "the first workload process is #%zu: %s (pid %d, %s, oom_score_adj %d%s%s)",
              vl->v[first_workload].rank, fw->comm, (int)fw->pid, sz(s1, proc_mem(fw)),
              fw->oom_score_adj, w[0] ? ", " : "", w);
        if (holder != first_workload) {
            fw = vl->v[holder].proc;
            proc_identity(fw, &id);
            workload_words(&id, w, sizeof(w));
            fb_ev(&b,
                  "the workload process holding the most memory is #%zu: %s (pid %d, %s, "
                  "oom_score_adj %d%s%s); while it keeps growing, every process ranked before "
                  "it dies first",
                  vl->v[holder].rank, fw->comm, (int)fw->pid, sz(s1, proc_mem(fw)),
                  fw->oom_score_adj, w[0] ? ", " : "", w);
        }
        const struct proc *big = NULL;
        for (size_t i = 0; i < vl->n; i++)
            if (classify(vl->v[i].proc, o) == CLASS_CRITICAL &&
                (!big || proc_mem(vl->v[i].proc) > proc_mem(big)))
                big = vl->v[i].proc;
        uint64_t minus = (uint64_t)(fw->oom_score_adj < 0 ? -fw->oom_score_adj : 0) * weight *
                         (uint64_t)n->sr->page_size;
        if (fw->oom_score_adj < 0 && big)
            fb_ev(&b,
                  "its oom_score_adj %d subtracts %d x %" PRIu64 " pages = %s from its badness "
                  "(Kubernetes gives Guaranteed pods -997)%s%s (pid %d, %s)",
                  fw->oom_score_adj, -fw->oom_score_adj, weight, szl(a, minus),
                  minus > proc_mem(big) ? ": more than the largest node-critical process holds, "
                                        : "; the largest node-critical process is ",
                  big->comm, (int)big->pid, sz(s1, proc_mem(big)));
    }
    fb_fix(&b,
           "give the node daemons an oom_score_adj below the workloads': a drop-in per unit, "
           "`systemctl edit ssh.service` -> [Service] OOMScoreAdjust=-999 (and the same for "
           "systemd-networkd, systemd-resolved...)%s",
           holder != SIZE_MAX ? "; kubelet and containerd run at -999 by default" : "");
    fb_fix(&b, "now, for running processes: echo -999 > /proc/PID/oom_score_adj (lowering it needs "
               "CAP_SYS_RESOURCE)");
    if (holder != SIZE_MAX)
        fb_fix(&b, "Kubernetes: reserve memory for the system so that kubepods gets a memory.max "
                   "below RAM and pods hit that limit (a cgroup OOM among pods) before the machine "
                   "runs out: kubelet systemReserved/kubeReserved memory with "
                   "enforceNodeAllocatable: [pods], and evictionHard memory.available");

    json_kv_u64(&b.j, "totalpages", vl->totalpages);
    json_kv_u64(&b.j, "adj_weight_pages", weight);
    json_key(&b.j, "first_victims");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < eligible && i < 10; i++)
        json_victim(&b.j, &vl->v[i], classify(vl->v[i].proc, o));
    json_arr_end(&b.j);
    json_key(&b.j, "first_workload");
    if (first_workload != SIZE_MAX)
        json_victim(&b.j, &vl->v[first_workload], CLASS_WORKLOAD);
    else
        json_null(&b.j);
    json_key(&b.j, "largest_workload");
    if (holder != SIZE_MAX)
        json_victim(&b.j, &vl->v[holder], CLASS_WORKLOAD);
    else
        json_null(&b.j);
    /* before the largest workload process (the first one when it is also the largest) */
    json_key(&b.j, "critical_before_workload");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < limit; i++)
        if (classify(vl->v[i].proc, o) == CLASS_CRITICAL &&
            (holder == SIZE_MAX || vl->v[i].badness > holder_grown))
            json_victim(&b.j, &vl->v[i], CLASS_CRITICAL);
    json_arr_end(&b.j);
    if (holder != SIZE_MAX)
        json_kv_i64(&b.j, "largest_workload_grown_badness", holder_grown);
    else
        json_kv_null(&b.j, "largest_workload_grown_badness");
    json_kv_u64(&b.j, "critical_before_workload_now", before + maybe);
    json_kv_u64(&b.j, "critical_total", ncrit);
    return fb_commit(r, &b);
}

/* ---- 2. limits over RAM -------------------------------------------------------------------- */

static bool has_limit(const struct cgroup_memory *cg)
{
    return !is_root(cg) && cgroup_limit_set(cg->max);
}

static int check_limits(const struct node *n, struct doctor_report *r)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    uint64_t ram = or0(n->mem.mem_total), swap = or0(n->mem.swap_total), cap = ram + swap;
    bool *under = calloc(s->n ? s->n : 1, sizeof(bool)); /* a limited ancestor above */
    uint64_t *commit = calloc(s->n ? s->n : 1, sizeof(uint64_t));
    uint64_t *kids_limits = calloc(s->n ? s->n : 1, sizeof(uint64_t));
    size_t *top = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!under || !commit || !kids_limits || !top) {
        free(under);
        free(commit);
        free(kids_limits);
        free(top);
        return -ENOMEM;
    }
    uint64_t sum = 0, biggest = 0;
    size_t ntop = 0, nlimited = 0, at_ram = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t p = s->v[i].parent;
        under[i] = p != SIZE_MAX && (has_limit(&s->v[p]) || under[p]);
        if (!has_limit(&s->v[i]))
            continue;
        nlimited++;
        uint64_t lim = s->v[i].max < cap ? s->v[i].max : cap;
        if (s->v[i].max >= ram)
            at_ram++;
        if (!under[i]) {
            sum += lim;
            top[ntop++] = i;
            if (lim > biggest)
                biggest = lim;
        }
    }
    /* What the cgroups can reach: each limited one at its limit, the others as they are now
     * (their own charge plus what their children can reach). Bottom-up over the pre-order. */
    for (size_t i = s->n; i-- > 0;) {
        const struct cgroup_memory *cg = &s->v[i];
        uint64_t kids_now = 0, kids_commit = 0;
        for (size_t c = i + 1; c < s->n && s->v[c].depth > cg->depth; c++)
            if (s->v[c].parent == i) {
                kids_now += or0(s->v[c].current);
                kids_commit += commit[c];
            }
        if (has_limit(cg)) {
            commit[i] = cg->max < cap ? cg->max : cap;
        } else {
            uint64_t own = or0(cg->current) > kids_now ? or0(cg->current) - kids_now : 0;
            commit[i] = own + kids_commit;
        }
        /* the limits of the top-most limited descendants, for nested overcommit */
        for (size_t c = i + 1; c < s->n && s->v[c].depth > cg->depth; c++)
            if (has_limit(&s->v[c])) {
                /* only those with no limited cgroup between them and i */
                bool direct = true;
                for (size_t a = s->v[c].parent; a != i && a != SIZE_MAX; a = s->v[a].parent)
                    if (has_limit(&s->v[a]))
                        direct = false;
                if (direct)
                    kids_limits[i] += s->v[c].max < cap ? s->v[c].max : cap;
            }
    }
    uint64_t committed = commit[0];
    size_t nested = 0, over = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++) {
        nested += has_limit(&s->v[i]) && kids_limits[i] > s->v[i].max;
        /* a top-most limit whose children's limits add up beyond RAM (+ swap) */
        if (has_limit(&s->v[i]) && !under[i] && kids_limits[i] > cap &&
            (over == SIZE_MAX || kids_limits[i] > kids_limits[over]))
            over = i;
    }

    int ret;
    char a[24], b2[24], c2[24], d[24];
    if (nlimited == 0) {
        ret = note(r, CHECK_LIMITS, RESULT_OK, "no memory cgroup has a limit");
        goto out;
    }
    enum doctor_severity sev;
    struct fb b;
    fb_begin(&b, CHECK_LIMITS);
    if (sum > cap) {
        sev = DOCTOR_WARNING;
        fb_title(&b, sev,
                 "memory limits add up to %s, more than RAM%s (%s): a machine-wide OOM can come "
                 "before any cgroup reaches its own limit",
                 szl(a, sum), swap ? " + swap" : "", szl(b2, cap));
    } else if (committed > cap) {
        sev = DOCTOR_WARNING;
        fb_title(&b, sev,
                 "the limited cgroups at their limits plus what the others use now need %s, more "
                 "than RAM%s (%s): a machine-wide OOM can come first",
                 szl(a, committed), swap ? " + swap" : "", szl(b2, cap));
    } else if (over != SIZE_MAX && sum >= ram / 100 * 95) {
        /* kubepods at 95%+ of RAM (little or nothing reserved) with pod limits beyond RAM: the
         * pods can take all but what is left, and a machine-wide OOM among the daemons comes
         * as soon as those need more (the seed incident's node had kubepods at 100%) */
        sev = DOCTOR_WARNING;
        fb_title(&b, sev,
                 "the limits under %s add up to %s, more than RAM%s (%s), and the top-most limits "
                 "take %u%% of RAM: %s is all the node's own daemons and the kernel have left",
                 s->v[over].path, szl(a, kids_limits[over]), swap ? " + swap" : "", szl(b2, cap),
                 fmt_percent(sum, ram), szl(c2, ram > sum ? ram - sum : 0));
    } else if (sum > ram) {
        sev = DOCTOR_INFO;
        fb_title(&b, sev,
                 "memory limits add up to %s, more than RAM (%s) but within RAM + swap: at their "
                 "limits together the machine swaps",
                 szl(a, sum), szl(b2, ram));
    } else if (nested) {
        sev = DOCTOR_INFO;
        fb_title(&b, sev,
                 "the limits of the cgroups under %zu limited cgroup%s add up to more than the "
                 "parent's limit",
                 nested, nested == 1 ? "" : "s");
    } else {
        fb_discard(&b);
        ret = note(r, CHECK_LIMITS, RESULT_OK,
                   "%zu limited cgroup%s; the top-most limits add up to %s, %u%% of RAM%s (%s); "
                   "at their limits with the other cgroups as they are now: %s",
                   nlimited, nlimited == 1 ? "" : "s", szl(a, sum), fmt_percent(sum, cap),
                   swap ? " + swap" : "", szl(b2, cap), szl(c2, committed));
        goto out;
    }
    fb_ev(&b,
          "RAM %s, swap %s; %zu memory cgroups have a limit, %zu of them top-most (no limited "
          "cgroup above them, so their children are not counted again)",
          szl(a, ram), szl(b2, swap), nlimited, ntop);
    fb_ev(&b,
          "top-most limits: %s in all (%u%% of RAM%s); with the unlimited cgroups at what they "
          "use now: %s",
          szl(a, sum), fmt_percent(sum, swap ? cap : ram), swap ? " + swap" : "", szl(b2, committed));
    /* the largest top-most limits */
    for (size_t k = 0; k < ntop && k < 6; k++) {
        size_t best = k;
        for (size_t m = k + 1; m < ntop; m++)
            if (s->v[top[m]].max > s->v[top[best]].max)
                best = m;
        size_t t = top[k];
        top[k] = top[best];
        top[best] = t;
        const struct cgroup_memory *cg = &s->v[top[k]];
        fb_ev(&b, "  %s %s (%u%% of RAM), using %s: %s",
              n->hier.memory_version == 2 ? "memory.max" : "limit_in_bytes", szl(a, cg->max),
              fmt_percent(cg->max, ram), szl(b2, or0(cg->current)), cg->path);
    }
    if (ntop > 6)
        fb_ev(&b, "  ... and %zu more", ntop - 6);
    if (at_ram)
        fb_ev(&b,
              "%zu limit%s at or above RAM (%s): such a limit protects nothing, the machine "
              "runs out first",
              at_ram, at_ram == 1 ? " is" : "s are", szl(a, ram));
    size_t shown = 0;
    for (size_t i = 0; i < s->n && shown < 3; i++)
        if (has_limit(&s->v[i]) && kids_limits[i] > s->v[i].max) {
            fb_ev(&b,
                  "the cgroups under %s have limits adding up to %s over its %s: its own OOM "
                  "(choosing among all of them) can come before any of them reaches its limit",
                  s->v[i].path, szl(c2, kids_limits[i]), szl(d, s->v[i].max));
            shown++;
        }
    fb_fix(&b, "lower the limits (memory.max; Kubernetes: resources.limits.memory; systemd: "
               "MemoryMax=) so that the top-most ones add up to less than RAM minus what the "
               "system itself needs");
    fb_fix(&b, "or put them under one parent whose memory.max is below RAM (Kubernetes: kubelet "
               "systemReserved/kubeReserved with enforceNodeAllocatable: [pods] limits "
               "kubepods): the OOM is then that parent's, among its children, not the machine's");
    json_kv_u64(&b.j, "ram", ram);
    json_kv_u64(&b.j, "swap", swap);
    json_kv_u64(&b.j, "limits_sum", sum);
    json_kv_u64(&b.j, "committed", committed);
    json_kv_u64(&b.j, "limited_cgroups", nlimited);
    json_key(&b.j, "top_limits");
    json_arr_begin(&b.j);
    for (size_t k = 0; k < ntop; k++) {
        const struct cgroup_memory *cg = &s->v[top[k]];
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "path", cg->path);
        json_kv_u64(&b.j, "max", cg->max);
        json_kv_u64_opt(&b.j, "current", cg->current);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    json_key(&b.j, "nested");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < s->n; i++)
        if (has_limit(&s->v[i]) && kids_limits[i] > s->v[i].max) {
            json_obj_begin(&b.j);
            json_kv_str(&b.j, "path", s->v[i].path);
            json_kv_u64(&b.j, "max", s->v[i].max);
            json_kv_u64(&b.j, "children_limits", kids_limits[i]);
            json_obj_end(&b.j);
        }
    json_arr_end(&b.j);
    ret = fb_commit(r, &b);
out:
    free(under);
    free(commit);
    free(kids_limits);
    free(top);
    return ret;
}

/* ---- 3. memory.max without memory.high --------------------------------------------------------
 */

static int check_memory_high(const struct node *n, struct doctor_report *r)
{
    if (n->hier.memory_version != 2)
        return note(r, CHECK_MEMORY_HIGH, RESULT_SKIPPED,
                    "cgroup v1 has no memory.high (see psi-cgroups)");
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t *hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    size_t nhit = 0, quiet = 0, withhigh = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct cgroup_memory *cg = &s->v[i];
        if (!has_limit(cg))
            continue;
        bool high = false;
        for (size_t a = i; a != SIZE_MAX && !high; a = s->v[a].parent)
            high = !is_root(&s->v[a]) && cgroup_limit_set(s->v[a].high);
        if (high) {
            withhigh++;
            continue;
        }
        bool busy = fmt_percent(or0(cg->current), cg->max) >= 50 || or0(cg->events.max) > 0 ||
                    or0(cg->events.oom_kill) > 0;
        if (busy)
            hit[nhit++] = i;
        else
            quiet++;
    }
    int ret;
    if (nhit == 0 && withhigh + quiet == 0) {
        free(hit);
        return note(r, CHECK_MEMORY_HIGH, RESULT_OK, "no memory cgroup has a limit");
    }
    if (nhit == 0) {
        ret = note(
            r, CHECK_MEMORY_HIGH, RESULT_OK,
            "%zu limited cgroups with memory.high set on them or an ancestor; %zu without, under "
            "half full and never at their limit",
            withhigh, quiet);
        free(hit);
        return ret;
    }
    /* fullest first */
    for (size_t k = 0; k < nhit; k++)
        for (size_t m = k + 1; m < nhit; m++) {
            const struct cgroup_memory *x = &s->v[hit[k]], *y = &s->v[hit[m]];
            if ((long double)or0(y->current) / (long double)y->max >
                (long double)or0(x->current) / (long double)x->max) {
                size_t t = hit[k];
                hit[k] = hit[m];
                hit[m] = t;
            }
        }
    struct fb b;
    fb_begin(&b, CHECK_MEMORY_HIGH);
    char a[24], c[24];
    fb_title(&b, DOCTOR_WARNING,
             "%zu busy cgroup%s ha%s memory.max but no memory.high: nothing slows %s down before "
             "the OOM killer",
             nhit, nhit == 1 ? "" : "s", nhit == 1 ? "s" : "ve", nhit == 1 ? "it" : "them");
    fb_ev(&b, "busy: at least half of memory.max in use, or memory.events max/oom_kill above 0; "
              "memory.high on the cgroup or an ancestor would throttle and reclaim first");
    for (size_t k = 0; k < nhit && k < 6; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        fb_ev(&b,
              "  %s: %s of memory.max %s (%u%%), memory.events max %" PRIu64 " oom_kill %" PRIu64,
              cg->path, szl(a, or0(cg->current)), szl(c, cg->max), fmt_percent(or0(cg->current), cg->max),
              or0(cg->events.max), or0(cg->events.oom_kill));
    }
    if (nhit > 6)
        fb_ev(&b, "  ... and %zu more", nhit - 6);
    const struct cgroup_memory *e = &s->v[hit[0]];
    fb_fix(&b,
           "set memory.high below memory.max, e.g. 90%%: echo %" PRIu64
           " > /sys/fs/cgroup%s/memory.high (systemd: MemoryHigh=)",
           e->max / 10 * 9, e->path);
    fb_fix(&b, "Kubernetes: the MemoryQoS feature gate (alpha, cgroup v2) makes kubelet set "
               "memory.high on containers with a memory limit (memoryThrottlingFactor)");
    json_key(&b.j, "cgroups");
    json_arr_begin(&b.j);
    for (size_t k = 0; k < nhit; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "path", cg->path);
        json_kv_u64_opt(&b.j, "current", cg->current);
        json_kv_u64(&b.j, "max", cg->max);
        json_kv_u64_opt(&b.j, "events_max", cg->events.max);
        json_kv_u64_opt(&b.j, "oom_kill", cg->events.oom_kill);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    json_kv_u64(&b.j, "quiet_without_high", quiet);
    free(hit);
    return fb_commit(r, &b);
}

/* ---- 4. memory.oom.group ------------------------------------------------------------------- */

/* Processes whose memcg is snapshot entry i or below it. */
static size_t members(const struct node *n, size_t i, const struct proc **out, size_t cap,
                      size_t *killable)
{
    size_t end = subtree_end(&n->cgroups, i), k = 0;
    *killable = 0;
    for (size_t p = 0; p < n->procs.n; p++) {
        size_t m = n->proc_memcg ? n->proc_memcg[p] : SIZE_MAX;
        if (m == SIZE_MAX || m < i || m >= end)
            continue;
        const struct proc *pr = &n->procs.v[p];
        if (pr->kernel_thread)
            continue;
        if (k < cap)
            out[k] = pr;
        k++;
        /* oom_kill_memcg_member(): every member but -1000 and global init */
        if (pr->oom_score_adj != -1000 && pr->pid != 1 && pr->has_mm)
            (*killable)++;
    }
    return k;
}

static int check_oom_group(const struct node *n, struct doctor_report *r)
{
    if (n->hier.memory_version != 2)
        return note(r, CHECK_OOM_GROUP, RESULT_SKIPPED,
                    "cgroup v1 has no memory.oom.group: an OOM kills one process");
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t *tops = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!tops)
        return -ENOMEM;
    size_t ntops = 0, multi = 0, containers = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].oom_group != 1)
            continue;
        bool above = false;
        for (size_t a = s->v[i].parent; a != SIZE_MAX && !above; a = s->v[a].parent)
            above = s->v[a].oom_group == 1;
        if (above)
            continue;
        tops[ntops++] = i;
        size_t kill;
        members(n, i, NULL, 0, &kill);
        multi += kill >= 2;
        struct identity id;
        identity_from_cgroup(s->v[i].path, &id);
        containers += id.container_id[0] != '\0';
    }
    if (ntops == 0) {
        free(tops);
        return note(r, CHECK_OOM_GROUP, RESULT_OK,
                    "memory.oom.group is 0 everywhere: an OOM kill takes one process");
    }
    struct fb b;
    fb_begin(&b, CHECK_OOM_GROUP);
    char a[FMT_SIZE_LEN];
    fb_title(&b, multi ? DOCTOR_WARNING : DOCTOR_INFO,
             "memory.oom.group=1 on %zu cgroup%s (%zu container%s): an OOM kill of one process "
             "there kills every process of the cgroup%s",
             ntops, ntops == 1 ? "" : "s", containers, containers == 1 ? "" : "s",
             multi ? "" : " (each holds one killable process now)");
    fb_ev(&b, "the kernel kills the victim, then every other process of the highest cgroup with "
              "memory.oom.group=1 between it and the OOMing cgroup (the root, for a machine-wide "
              "OOM), except those at oom_score_adj -1000");
    json_key(&b.j, "groups");
    json_arr_begin(&b.j);
    size_t shown = 0;
    for (size_t k = 0; k < ntops; k++) {
        const struct cgroup_memory *cg = &s->v[tops[k]];
        const struct proc *m[5];
        size_t kill, nm = members(n, tops[k], m, 5, &kill);
        if (shown < 6 && (kill >= 2 || !multi)) {
            struct buf line = BUF_INIT(64 * 1024);
            char w[IDENTITY_NAME_MAX + 32];
            cgroup_words(cg->path, w, sizeof(w));
            buf_printf(&line, "  %s (%s): %zu process%s, %zu die%s together", cg->path, w, nm,
                       nm == 1 ? "" : "es", kill, kill == 1 ? "s" : "");
            for (size_t q = 0; q < nm && q < 5; q++)
                buf_printf(&line, "%s %s %d (%s)", q ? "," : ":", m[q]->comm, (int)m[q]->pid,
                           sz(a, proc_mem(m[q])));
            if (nm > 5)
                buf_printf(&line, ", ...");
            if (opt_has(cg->events.oom_group_kill) && cg->events.oom_group_kill)
                buf_printf(&line, "; %" PRIu64 " group kill%s so far (memory.events)",
                           cg->events.oom_group_kill, cg->events.oom_group_kill == 1 ? "" : "s");
            fb_ev(&b, "%s", buf_cstr(&line));
            buf_release(&line);
            shown++;
        }
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "path", cg->path);
        json_kv_u64(&b.j, "processes", nm);
        json_kv_u64(&b.j, "die_together", kill);
        const struct proc *all[64];
        size_t na = members(n, tops[k], all, 64, &kill);
        json_key(&b.j, "pids");
        json_arr_begin(&b.j);
        for (size_t q = 0; q < na && q < 64; q++)
            json_i64(&b.j, all[q]->pid);
        json_arr_end(&b.j);
        json_kv_u64_opt(&b.j, "oom_group_kill", cg->events.oom_group_kill);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    if (ntops > shown)
        fb_ev(&b, "  ... and %zu more", ntops - shown);
    if (containers)
        fb_ev(&b, "kubelet 1.28+ sets memory.oom.group=1 on every container cgroup on cgroup v2, "
                  "unless singleProcessOOMKill is true (1.32+); on cgroup v1 it kills single "
                  "processes");
    if (containers)
        fb_fix(&b, "Kubernetes 1.32+: singleProcessOOMKill: true in the kubelet configuration "
                   "brings back single-process kills on cgroup v2");
    size_t ex = tops[0];
    for (size_t k = 0; k < ntops; k++) {
        size_t kill;
        members(n, tops[k], NULL, 0, &kill);
        if (kill >= 2) {
            ex = tops[k];
            break;
        }
    }
    fb_fix(&b,
           "for one cgroup: echo 0 > /sys/fs/cgroup%s/memory.oom.group (kubelet writes it "
           "again for a new container; systemd sets it for OOMPolicy=kill)",
           s->v[ex].path);
    fb_fix(&b, "or keep it, deliberately: a group kill is right when the processes cannot work "
               "without each other");
    free(tops);
    return fb_commit(r, &b);
}

/* ---- 5. page cache at the limit -------------------------------------------------------------- */

static int check_page_cache(const struct node *n, struct doctor_report *r)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t *hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    size_t nhit = 0, sticky = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct cgroup_memory *cg = &s->v[i];
        if (!has_limit(cg) || !opt_has(cg->current) || !opt_has(cg->stat.file))
            continue;
        if (fmt_percent(cg->current, cg->max) < 90 || fmt_percent(cg->stat.file, cg->current) < 50)
            continue;
        hit[nhit++] = i;
        /* what reclaim can really take (active page cache too), not the working set */
        struct cgroup_outlook ol;
        node_outlook(n, i, &ol);
        if (ol.verdict == OUTLOOK_TIGHT || ol.verdict == OUTLOOK_OOM_NEXT)
            sticky++;
    }
    if (nhit == 0) {
        free(hit);
        return note(r, CHECK_PAGE_CACHE, RESULT_OK,
                    "no limited cgroup is at 90%% of its limit with page cache at half of it");
    }
    struct fb b;
    fb_begin(&b, CHECK_PAGE_CACHE);
    char a[24], c[24], d[24], e[24], f[24], g[24], h[24], i2[24], j2[24];
    fb_title(&b, sticky ? DOCTOR_WARNING : DOCTOR_INFO,
             "page cache fills %zu cgroup%s to 90%% or more of %s limit%s", nhit,
             nhit == 1 ? "" : "s", nhit == 1 ? "its" : "their",
             sticky ? ", and in some reclaim cannot make room"
                    : ": the kernel reclaims it, active pages too, before it OOM-kills");
    fb_ev(&b, "page cache counts toward a cgroup's limit; at the limit the kernel reclaims "
              "inactive file pages first, active ones only after they turn inactive, dirty ones "
              "after writeback, and shmem/tmpfs not at all without swap");
    json_key(&b.j, "cgroups");
    json_arr_begin(&b.j);
    for (size_t k = 0; k < nhit; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        const struct cgroup_memstat *st = &cg->stat;
        uint64_t ws = cgroup_working_set(cg);
        uint64_t dirty = or0(st->file_dirty) + or0(st->file_writeback);
        struct cgroup_outlook ol;
        node_outlook(n, hit[k], &ol);
        if (k < 6)
            fb_ev(&b,
                  "  %s: %s of %s (%u%%); page cache %s (%u%% of usage): inactive %s, active %s, "
                  "shmem %s, dirty+writeback %s; reclaim can drop %s: room before an OOM kill "
                  "%s (%s, confidence %s)",
                  cg->path, szl(a, cg->current), szl(c, cg->max), fmt_percent(cg->current, cg->max),
                  szl(d, st->file), fmt_percent(st->file, cg->current), szl(e, or0(st->inactive_file)),
                  szl(f, or0(st->active_file)), szl(g, or0(st->shmem)), szl(h, dirty),
                  szl(i2, ol.file_free), szl(j2, ol.room), outlook_verdict_name(ol.verdict),
                  outlook_confidence_name(ol.confidence));
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "path", cg->path);
        json_kv_u64(&b.j, "current", cg->current);
        json_kv_u64(&b.j, "max", cg->max);
        json_kv_u64_opt(&b.j, "file", st->file);
        json_kv_u64_opt(&b.j, "inactive_file", st->inactive_file);
        json_kv_u64_opt(&b.j, "active_file", st->active_file);
        json_kv_u64_opt(&b.j, "shmem", st->shmem);
        json_kv_u64(&b.j, "dirty_writeback", dirty);
        json_kv_u64_opt(&b.j, "working_set", ws);
        json_key(&b.j, "outlook");
        cgroup_outlook_json(&ol, &b.j);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    if (nhit > 6)
        fb_ev(&b, "  ... and %zu more", nhit - 6);
    /* the example is the cgroup where reclaim has the most to take */
    const struct cgroup_memory *first = NULL;
    uint64_t most = 0;
    for (size_t k = 0; k < nhit; k++) {
        struct cgroup_outlook ol;
        node_outlook(n, hit[k], &ol);
        if (ol.file_free > most) {
            most = ol.file_free;
            first = &s->v[hit[k]];
        }
    }
    if (n->hier.memory_version == 2 && first)
        fb_fix(&b, "reclaim now (5.19+): echo %" PRIu64 " > /sys/fs/cgroup%s/memory.reclaim", most,
               first->path);
    fb_fix(&b, "drop the cache of files you name: oomwarden evict FILE... (POSIX_FADV_DONTNEED)");
    if (n->hier.memory_version == 2)
        fb_fix(&b, "set memory.high a little below memory.max so that reclaim starts before the "
                   "limit");
    fb_fix(&b, "tmpfs/shmem: delete files or size the mount (Kubernetes emptyDir medium: Memory "
               "takes a sizeLimit); streaming readers and writers: posix_fadvise(DONTNEED) or "
               "O_DIRECT");
    free(hit);
    return fb_commit(r, &b);
}

/* ---- 6. pressure and thrashing ------------------------------------------------------------- */

void doctor_psi_averages_json(const struct psi *p, struct json *j)
{
    json_kv_double(j, "some_avg10", (double)p->some.avg10 / 100.0, 2);
    json_kv_double(j, "some_avg60", (double)p->some.avg60 / 100.0, 2);
    json_kv_double(j, "some_avg300", (double)p->some.avg300 / 100.0, 2);
    json_kv_double(j, "full_avg10", (double)p->full.avg10 / 100.0, 2);
    json_kv_double(j, "full_avg60", (double)p->full.avg60 / 100.0, 2);
    json_kv_double(j, "full_avg300", (double)p->full.avg300 / 100.0, 2);
}

static void json_psi(struct json *j, const struct psi *p)
{
    json_obj_begin(j);
    doctor_psi_averages_json(p, j);
    json_kv_str(j, "level", psi_level_name(psi_level_of(p)));
    json_obj_end(j);
}

/* A cgroup whose PSI is its own: not the machine's (the unified root), and the first cgroup
 * to carry a given unified cgroup's numbers (hybrid layouts share them). */
static bool own_psi(const struct cgroup_snapshot *s, size_t i)
{
    const struct cgroup_memory *cg = &s->v[i];
    if (!cg->has_psi || !cg->psi_path || strcmp(cg->psi_path, "/") == 0 || is_root(cg))
        return false;
    for (size_t k = 0; k < i; k++)
        if (s->v[k].has_psi && s->v[k].psi_path && strcmp(s->v[k].psi_path, cg->psi_path) == 0)
            return false;
    return true;
}

static const struct workingset *cg_refaults(const struct node *n, size_t i)
{
    return n->cg_refaults && n->cg_refaults[i].measured ? &n->cg_refaults[i] : NULL;
}

/* Thrashing in a cgroup that no descendant explains (memory.stat counts the subtree). */
static bool own_thrash(const struct node *n, size_t i)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    const struct workingset *w = cg_refaults(n, i);
    if (!w || w->level != THRASH_THRASHING || is_root(&s->v[i]))
        return false;
    for (size_t k = i + 1; k < s->n && s->v[k].depth > s->v[i].depth; k++)
        if (cg_refaults(n, k) && cg_refaults(n, k)->level == THRASH_THRASHING)
            return false;
    return true;
}

/* How bad one place is: its PSI level, and refaults that say the working set does not fit. */
static enum doctor_severity place_severity(enum psi_level l, bool has_psi,
                                           const struct workingset *w, bool *finding)
{
    *finding = true;
    if (l == PSI_SEVERE)
        return DOCTOR_CRITICAL;
    if (l == PSI_SUSTAINED)
        return DOCTOR_WARNING;
    bool thrash = w && w->level == THRASH_THRASHING;
    /* thrashing that tasks wait on (or that nothing else can show: no PSI) */
    if (thrash && (!has_psi || l >= PSI_WAITING))
        return DOCTOR_WARNING;
    if (thrash || l >= PSI_WAITING || (w && w->level == THRASH_REREADING))
        return DOCTOR_INFO;
    *finding = false;
    return DOCTOR_INFO;
}

/* `from_limits`: the machine's refaults while it has RAM to spare (node.h) */
static void refault_words(const struct workingset *w, bool from_limits, char *out, size_t n)
{
    char a[24], b[24], c[24], d[24];
    if (w && w->measured && from_limits) {
        snprintf(out, n, "%s/s of page cache read again after reclaim, in cgroups at their limits "
                         "(the machine has RAM to spare; over %s)",
                 szl(a, (uint64_t)w->bytes_per_s), fmt_duration(d, w->interval_s));
        return;
    }
    if (!w || !w->measured) {
        snprintf(out, n, "refaults not measured (--interval 0)");
        return;
    }
    if (w->refaults == 0) {
        snprintf(out, n, "no page cache read again after reclaim in %s",
                 fmt_duration(d, w->interval_s));
        return;
    }
    snprintf(out, n, "%s/s of page cache read again after reclaim, all %s of it every %s (over %s): %s",
             szl(a, (uint64_t)w->bytes_per_s), opt_has(w->cache) ? szl(b, w->cache) : "?",
             w->turnover_s >= 0 ? fmt_duration(c, w->turnover_s) : "?",
             fmt_duration(d, w->interval_s), thrash_level_name(w->level));
}

static int check_pressure(const struct node *n, struct doctor_report *r)
{
    bool node_psi = n->psi_err == 0;
    const struct workingset *node_ws = n->refaults.measured ? &n->refaults : NULL;
    if (!node_psi && !node_ws)
        return note(r, CHECK_PRESSURE, RESULT_SKIPPED,
                    "no memory PSI on this kernel (see psi-cgroups) and refaults not measured");
    const struct cgroup_snapshot *s = &n->cgroups;
    enum psi_level node_level = node_psi ? psi_level_of(&n->psi) : PSI_HEALTHY;
    bool node_hit;
    enum doctor_severity worst = place_severity(node_level, node_psi, node_ws, &node_hit);
    size_t nhit = 0, healthy = 0;
    size_t *hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    for (size_t i = 0; have_cgroups(n) && i < s->n; i++) {
        bool mine = own_psi(s, i);
        bool thrash = own_thrash(n, i);
        if (!mine && !thrash)
            continue;
        bool f;
        enum doctor_severity sev =
            place_severity(mine ? psi_level_of(&s->v[i].psi) : PSI_HEALTHY, mine,
                           cg_refaults(n, i), &f);
        if (!f) {
            healthy++;
            continue;
        }
        hit[nhit++] = i;
        if (!node_hit && nhit == 1)
            worst = sev;
        else if (sev > worst)
            worst = sev;
    }
    char w[160], rw[256];
    if (!node_hit && nhit == 0) {
        free(hit);
        refault_words(node_ws, n->refaults_from_limits, rw, sizeof(rw));
        if (node_psi)
            return note(r, CHECK_PRESSURE, RESULT_OK,
                        "node healthy (%s: %s) and %zu cgroups healthy; %s",
                        psi_words(&n->psi, w, sizeof(w)), psi_level_rule(PSI_HEALTHY), healthy,
                        rw);
        return note(r, CHECK_PRESSURE, RESULT_OK, "no memory PSI; %s", rw);
    }
    /* worst first: PSI full, then some */
    for (size_t k = 0; k < nhit; k++)
        for (size_t m = k + 1; m < nhit; m++) {
            const struct psi *x = &s->v[hit[k]].psi, *y = &s->v[hit[m]].psi;
            if (y->full.avg10 > x->full.avg10 ||
                (y->full.avg10 == x->full.avg10 && y->some.avg10 > x->some.avg10)) {
                size_t t = hit[k];
                hit[k] = hit[m];
                hit[m] = t;
            }
        }
    struct fb b;
    fb_begin(&b, CHECK_PRESSURE);
    bool node_thrash = node_ws && node_ws->level == THRASH_THRASHING;
    if (node_hit && node_thrash)
        fb_title(&b, worst,
                 "the machine's page cache is being re-read as fast as it is dropped: the working "
                 "set does not fit (memory pressure %s)",
                 node_psi ? psi_level_name(node_level) : "unknown: no PSI");
    else if (node_hit)
        fb_title(&b, worst, "memory pressure on the machine is %s (%s)",
                 psi_level_name(node_level), psi_level_rule(node_level));
    else {
        size_t nthrash = 0, first = SIZE_MAX;
        for (size_t k = 0; k < nhit; k++) {
            const struct workingset *t = cg_refaults(n, hit[k]);
            if (t && t->level == THRASH_THRASHING) {
                nthrash++;
                if (first == SIZE_MAX)
                    first = hit[k];
            }
        }
        if (nthrash)
            fb_title(&b, worst,
                     "%s%s: the cache is being re-read as fast as it is dropped: the working set "
                     "does not fit%s",
                     s->v[first].path, nthrash > 1 ? " and others" : "",
                     nhit > nthrash ? "; other cgroups stall on memory" : "");
        else
            fb_title(&b, worst, "%zu cgroup%s on memory", nhit, nhit == 1 ? " stalls" : "s stall");
    }
    fb_ev(&b, "levels (PSI, %% of time): severe = %s; sustained = %s; stalling = %s; waiting = "
              "%s; healthy below (some avg10 in low single digits is a healthy machine)",
          psi_level_rule(PSI_SEVERE), psi_level_rule(PSI_SUSTAINED), psi_level_rule(PSI_STALLING),
          psi_level_rule(PSI_WAITING));
    fb_ev(&b, "thrashing = at least 1 MiB/s of page cache read again after reclaim dropped it, "
              "enough to re-read all of it within 10 s (re-reading: 64 KiB/s, within 60 s)");
    refault_words(node_ws, n->refaults_from_limits, rw, sizeof(rw));
    if (node_psi)
        fb_ev(&b, "node (/proc/pressure/memory, %% avg10 avg60 avg300): %s: %s; %s",
              psi_words(&n->psi, w, sizeof(w)), psi_level_name(node_level), rw);
    else
        fb_ev(&b, "node: no memory PSI; %s", rw);
    for (size_t k = 0; k < nhit && k < 6; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        refault_words(cg_refaults(n, hit[k]), false, rw, sizeof(rw));
        if (own_psi(s, hit[k])) {
            bool other = strcmp(cg->psi_path, cg->path) != 0;
            fb_ev(&b, "  %s: %s%s%s%s: %s; %s", cg->path, psi_words(&cg->psi, w, sizeof(w)),
                  other ? " (the v2 tree's " : "", other ? cg->psi_path : "", other ? ")" : "",
                  psi_level_name(psi_level_of(&cg->psi)), rw);
        } else {
            fb_ev(&b, "  %s: %s", cg->path, rw);
        }
    }
    if (nhit > 6)
        fb_ev(&b, "  ... and %zu more", nhit - 6);
    if (have_cgroups(n))
        fb_ev(&b, "%zu cgroup%s stalled or thrashing, %zu healthy", nhit, nhit == 1 ? "" : "s",
              healthy);
    if (node_thrash || nhit)
        fb_fix(&b, "thrashing: give the cgroup (or the machine) room for its working set, or make "
                   "it smaller (a reader that streams: posix_fadvise DONTNEED, O_DIRECT); "
                   "oomwarden cgroup PATH shows what reclaim can take and what comes back");
    fb_fix(&b, "see who stalls and why: oomwarden cgroup --sort psi; /proc/vmstat pswpin "
               "(swap-ins)");
    fb_fix(&b, "give the stalled cgroup more memory, or throttle the one that takes it "
               "(memory.high), or let a userspace killer act on sustained pressure (systemd-oomd "
               "ManagedOOMMemoryPressure=kill at 60%% for 30 s, oomd)");
    json_key(&b.j, "node");
    if (node_psi)
        json_psi(&b.j, &n->psi);
    else
        json_null(&b.j);
    json_key(&b.j, "node_refaults");
    workingset_json(&n->refaults, &b.j);
    json_kv_u64(&b.j, "healthy_cgroups", healthy);
    json_key(&b.j, "cgroups");
    json_arr_begin(&b.j);
    for (size_t k = 0; k < nhit; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "path", cg->path);
        bool mine = own_psi(s, hit[k]);
        json_kv_str(&b.j, "psi_path", mine ? cg->psi_path : NULL);
        json_key(&b.j, "psi");
        if (mine)
            json_psi(&b.j, &cg->psi);
        else
            json_null(&b.j);
        json_key(&b.j, "refaults");
        if (n->cg_refaults)
            workingset_json(&n->cg_refaults[hit[k]], &b.j);
        else
            json_null(&b.j);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    free(hit);
    return fb_commit(r, &b);
}

/* ---- 7. PSI and the cgroup layout ---------------------------------------------------------------
 */

static bool cmdline_has(const struct node *n, const char *word)
{
    if (!n->cmdline)
        return false;
    size_t k = strlen(word);
    for (const char *p = n->cmdline; (p = strstr(p, word)); p += k)
        if ((p == n->cmdline || p[-1] == ' ') && (p[k] == ' ' || p[k] == '\0'))
            return true;
    return false;
}

static int check_psi_cgroups(const struct node *n, struct doctor_report *r)
{
    struct fb b;
    fb_begin(&b, CHECK_PSI_CGROUPS);
    enum doctor_severity sev = DOCTOR_INFO;
    const char *title = NULL;
    if (n->psi_err < 0) {
        sev = DOCTOR_WARNING;
        title = "no memory PSI: nothing shows the stalls that come before an OOM";
        if (n->psi_err == -EOPNOTSUPP || cmdline_has(n, "psi=0"))
            fb_ev(&b, "PSI is built in but switched off%s (reading /proc/pressure/memory: %s)",
                  cmdline_has(n, "psi=0") ? ": the kernel command line has psi=0" : "",
                  strerror(-n->psi_err));
        else
            fb_ev(&b,
                  "/proc/pressure/memory: %s: the kernel was built without CONFIG_PSI, or with "
                  "CONFIG_PSI_DEFAULT_DISABLED=y and booted without psi=1",
                  strerror(-n->psi_err));
        fb_fix(&b, "boot with psi=1 (add it to GRUB_CMDLINE_LINUX in /etc/default/grub, then "
                   "update-grub and reboot); a kernel without CONFIG_PSI needs another kernel");
    }
    if (cmdline_has(n, "cgroup_disable=pressure"))
        fb_ev(&b, "the kernel command line has cgroup_disable=pressure: no cgroup has a "
                  "memory.pressure file, only the machine does");
    switch (n->hier.layout) {
    case CGROUP_LAYOUT_NONE:
        sev = DOCTOR_WARNING;
        if (!title)
            title = "no cgroup memory controller: no per-workload limits, accounting or cgroup "
                    "OOMs";
        fb_ev(&b, "no cgroup hierarchy with the memory controller is mounted under %s",
              sysroot_path(n->sr, "/sys/fs/cgroup"));
        break;
    case CGROUP_LAYOUT_V1:
    case CGROUP_LAYOUT_HYBRID: {
        if (!title)
            title = n->hier.layout == CGROUP_LAYOUT_V1
                        ? "cgroup v1 memory controller: no memory.high, no memory.oom.group, no "
                          "per-cgroup PSI"
                        : "hybrid cgroups: the memory controller is v1; per-cgroup PSI only "
                          "where the v2 tree has the same cgroup";
        fb_ev(&b,
              "cgroup v1 memory controller at %s: no memory.high (nothing throttles before "
              "the hard limit), no memory.oom.group, no memory.events.local, and "
              "memory.oom_control can disable the OOM killer (tasks then hang at the limit)",
              n->hier.memory.mountpoint ? n->hier.memory.mountpoint : "?");
        if (n->hier.layout == CGROUP_LAYOUT_HYBRID) {
            size_t with = 0, all = 0;
            for (size_t i = 0; i < n->cgroups.n; i++) {
                if (is_root(&n->cgroups.v[i]))
                    continue;
                all++;
                with += n->cgroups.v[i].has_psi && n->cgroups.v[i].psi_path &&
                        strcmp(n->cgroups.v[i].psi_path, n->cgroups.v[i].path) == 0;
            }
            fb_ev(&b,
                  "the v2 tree at %s has no memory controller but carries memory.pressure: "
                  "%zu of %zu memory cgroups have a v2 cgroup of the same path (their PSI is "
                  "theirs); the others only get the machine's",
                  n->hier.unified.mountpoint ? n->hier.unified.mountpoint : "?", with, all);
        }
        size_t frozen = 0;
        for (size_t i = 0; i < n->cgroups.n; i++) {
            const struct cgroup_memory *cg = &n->cgroups.v[i];
            if (cg->oom_control.oom_kill_disable != 1)
                continue;
            if (frozen++ < 4)
                fb_ev(&b,
                      "%s has the OOM killer disabled (memory.oom_control oom_kill_disable 1)%s: "
                      "at its limit its tasks sleep until memory is freed, instead of one dying",
                      cg->path,
                      cg->oom_control.under_oom == 1 ? " and is under OOM now (under_oom 1)" : "");
        }
        if (frozen) {
            sev = DOCTOR_WARNING;
            if (n->psi_err == 0) /* else the missing PSI leads */
                title = "the OOM killer is disabled in a v1 memory cgroup: its tasks hang at the "
                        "limit";
            fb_fix(&b, "echo 0 > <cgroup>/memory.oom_control lets the kernel kill at the limit "
                       "again");
        }
        fb_ev(&b, "Kubernetes moved cgroup v1 support to maintenance mode in 1.31; on v1 "
                  "kubelet's MemoryQoS and the memory.oom.group default do not apply");
        fb_fix(&b, "switch to cgroup v2: boot with systemd.unified_cgroup_hierarchy=1 (Kubernetes "
                   "supports v2 since 1.25, with containerd 1.4+ or CRI-O 1.20+)");
        break;
    }
    case CGROUP_LAYOUT_V2:
        break;
    }
    if (!title) {
        fb_discard(&b);
        return note(r, CHECK_PSI_CGROUPS, RESULT_OK, "memory PSI available; cgroup v2");
    }
    fb_title(&b, sev, "%s", title);
    json_kv_str(&b.j, "layout", cgroup_layout_name(n->hier.layout));
    json_kv_bool(&b.j, "psi", n->psi_err == 0);
    if (n->psi_err < 0)
        json_kv_str(&b.j, "psi_error", strerror(-n->psi_err));
    return fb_commit(r, &b);
}

/* ---- 8. swap ------------------------------------------------------------------------------- */

static int check_swap(const struct node *n, struct doctor_report *r)
{
    uint64_t total = or0(n->mem.swap_total), free_ = or0(n->mem.swap_free);
    uint64_t used = total > free_ ? total - free_ : 0;
    struct fb b;
    fb_begin(&b, CHECK_SWAP);
    char a[24], c[24], d[24];
    size_t nzram = 0;
    for (size_t i = 0; i < n->swaps.n; i++)
        nzram += n->swaps.v[i].zram;
    if (total == 0) {
        fb_title(&b, DOCTOR_INFO,
                 "no swap: when memory runs out the OOM killer comes quickly (killed rather than "
                 "slow)");
        fb_ev(&b, "without swap, anonymous memory cannot be reclaimed: a leak or a spike reaches "
                  "the OOM killer soon after the page cache is gone, and the machine stays "
                  "responsive until then; cold anonymous pages keep RAM that could cache files");
        fb_ev(&b, "with swap, cold anonymous pages move out and the OOM killer comes later or not "
                  "at all, but a leak first makes everything slow (swap-in stalls, visible in "
                  "PSI): slow rather than killed");
        fb_fix(&b, "a choice, not a defect: add swap (a swap file, or zram: compressed RAM, e.g. "
                   "systemd's zram-generator) if slow is better than killed here; systemd-oomd "
                   "and oomd act best with swap");
    } else {
        bool full = fmt_percent(used, total) >= 90;
        fb_title(&b, full ? DOCTOR_WARNING : DOCTOR_INFO, "swap %s, %u%% used%s: %s", szl(a, total),
                 fmt_percent(used, total), nzram ? " (zram)" : "",
                 full ? "nearly full, the OOM killer is next"
                      : "memory pressure turns into slowness before it turns into kills");
        char sw[24] = "?";
        if (opt_has(n->sysctl.swappiness))
            snprintf(sw, sizeof(sw), "%" PRIu64, n->sysctl.swappiness);
        fb_ev(&b, "SwapTotal %s, SwapFree %s, used %s; vm.swappiness %s", szl(a, total),
              szl(c, free_), szl(d, used), sw);
        fb_ev(&b, "with swap, cold anonymous pages move out and the OOM killer comes later or "
                  "not at all, but a leak first makes everything slow (swap-in stalls show in "
                  "PSI): slow rather than killed; without it, killed rather than slow");
        fb_ev(&b, "swap is half of the machine's totalpages (RAM + swap): one point of "
                  "oom_score_adj weighs (RAM + swap) / 1000 pages in a machine-wide OOM");
        fb_fix(&b, "a choice, not a defect: watch swap-ins (/proc/vmstat pswpin) and memory PSI "
                   "to see whether swapping costs more than it saves");
    }
    for (size_t i = 0; i < n->swaps.n; i++) {
        const struct swap_device *sd = &n->swaps.v[i];
        if (sd->zram && opt_has(sd->zram_orig) && sd->zram_compr)
            fb_ev(&b,
                  "  %s (zram%s%s): %s, %s used; holds %s compressed into %s (%.1f:1), "
                  "using %s of RAM",
                  sd->name, sd->zram_algo[0] ? ", " : "", sd->zram_algo, szl(a, sd->size),
                  szl(c, sd->used), szl(d, sd->zram_orig),
                  fmt_size_long((char[24]){0}, sd->zram_compr),
                  (double)sd->zram_orig / (double)sd->zram_compr,
                  fmt_size_long((char[24]){0}, sd->zram_mem_used));
        else
            fb_ev(&b, "  %s (%s%s): %s, %s used, priority %" PRId64, sd->name, sd->type,
                  sd->zram ? ", zram" : "", szl(a, sd->size), szl(c, sd->used), sd->priority);
    }
    if (nzram)
        fb_ev(&b, "zram swaps into RAM: it buys room by compression (CPU), not by disk; its "
                  "compressed pages are RAM the OOM killer cannot free");
    if (n->swaps.zswap == 1)
        fb_ev(&b, "zswap is on: swapped pages are compressed in RAM first");
    json_kv_u64(&b.j, "swap_total", total);
    json_kv_u64(&b.j, "swap_used", used);
    json_kv_u64(&b.j, "devices", n->swaps.n);
    json_kv_u64(&b.j, "zram_devices", nzram);
    if (n->swaps.zswap >= 0)
        json_kv_bool(&b.j, "zswap", n->swaps.zswap == 1);
    else
        json_kv_null(&b.j, "zswap");
    json_kv_u64_opt(&b.j, "swappiness", n->sysctl.swappiness);
    return fb_commit(r, &b);
}

/* ---- 9. sysctl ----------------------------------------------------------------------------- */

static int check_sysctl(const struct node *n, struct doctor_report *r)
{
    const struct sysctls *k = &n->sysctl;
    struct fb b;
    fb_begin(&b, CHECK_SYSCTL);
    enum doctor_severity sev = DOCTOR_INFO;
    const char *title = NULL;
    char a[24], c[24];
    if (opt_has(k->panic_on_oom) && k->panic_on_oom) {
        bool always = k->panic_on_oom >= 2;
        sev = always ? DOCTOR_CRITICAL : DOCTOR_WARNING;
        title = always ? "vm.panic_on_oom=2: every OOM panics the machine, a container at its "
                         "limit included"
                       : "vm.panic_on_oom=1: a machine-wide OOM panics the machine instead of "
                         "killing a process";
        fb_ev(&b,
              "vm.panic_on_oom=%" PRIu64 ": %s; the report is printed, then \"Kernel panic - not "
              "syncing: Out of memory: %s panic_on_oom is enabled\"",
              k->panic_on_oom,
              always ? "memory cgroup, cpuset and machine-wide OOMs all panic"
                     : "machine-wide OOMs (CONSTRAINT_NONE) panic; memory cgroup, cpuset and "
                       "mempolicy OOMs still kill",
              always ? "compulsory" : "system-wide");
        if (opt_has_i64(k->panic))
            fb_ev(&b, "kernel.panic=%" PRId64 ": %s", k->panic,
                  k->panic == 0  ? "the machine then hangs until someone resets it"
                  : k->panic < 0 ? "the machine then reboots at once"
                                 : "the machine then reboots after that many seconds");
        fb_fix(&b, "sysctl -w vm.panic_on_oom=0, and make it stick: echo 'vm.panic_on_oom = 0' > "
                   "/etc/sysctl.d/90-oom.conf (unless a reboot is what you want from an OOM)");
    }
    if (opt_has(k->oom_kill_allocating_task) && k->oom_kill_allocating_task) {
        if (sev < DOCTOR_WARNING) {
            sev = DOCTOR_WARNING;
            title = "vm.oom_kill_allocating_task=1: a machine-wide OOM kills whoever asked for "
                    "memory last, not the biggest";
        }
        fb_ev(&b,
              "vm.oom_kill_allocating_task=%" PRIu64 ": in a machine-wide OOM the kernel "
              "kills the task that tried to allocate (\"Out of memory "
              "(oom_kill_allocating_task)\") unless it is at -1000 or unkillable; the "
              "badness ranking is not used, so the victim is whoever was unlucky",
              k->oom_kill_allocating_task);
        fb_fix(&b, "sysctl -w vm.oom_kill_allocating_task=0 (and in /etc/sysctl.d/)");
    }
    if (opt_has(k->overcommit_memory) && k->overcommit_memory == 2) {
        uint64_t lim = or0(n->mem.commit_limit), as = or0(n->mem.committed_as);
        bool tight = lim && fmt_percent(as, lim) >= 90;
        if (tight && sev < DOCTOR_WARNING) {
            sev = DOCTOR_WARNING;
            title = "vm.overcommit_memory=2 and the commit limit is nearly reached: allocations "
                    "will fail with ENOMEM";
        } else if (!title) {
            title = "vm.overcommit_memory=2: allocations fail with ENOMEM at the commit limit "
                    "instead of ending in the OOM killer";
        }
        fb_ev(&b,
              "vm.overcommit_memory=2 (never overcommit): CommitLimit %s = swap + (RAM - huge "
              "pages) x %s; Committed_AS %s (%u%%); beyond it malloc/mmap fail with ENOMEM",
              szl(a, lim),
              opt_has(k->overcommit_kbytes) && k->overcommit_kbytes ? "vm.overcommit_kbytes"
                                                                    : "vm.overcommit_ratio %",
              szl(c, as), fmt_percent(as, lim));
        if (opt_has(k->overcommit_ratio) &&
            !(opt_has(k->overcommit_kbytes) && k->overcommit_kbytes))
            fb_ev(&b, "vm.overcommit_ratio=%" PRIu64 "%%", k->overcommit_ratio);
    } else if (opt_has(k->overcommit_memory) && k->overcommit_memory == 1) {
        if (!title)
            title = "vm.overcommit_memory=1: allocations never fail, every shortfall ends in the "
                    "OOM killer";
        fb_ev(&b, "vm.overcommit_memory=1 (always overcommit): mmap/malloc never fail for lack of "
                  "memory; a shortfall is found when pages are touched, and the OOM killer "
                  "settles it");
    }
    if (opt_has(k->oom_dump_tasks) && k->oom_dump_tasks == 0) {
        if (!title)
            title = "vm.oom_dump_tasks=0: OOM reports carry no task table";
        fb_ev(&b, "vm.oom_dump_tasks=0: the kernel's OOM reports do not list the candidates, so "
                  "`oomwarden explain` cannot show who else the killer weighed");
        fb_fix(&b, "sysctl -w vm.oom_dump_tasks=1 (the default)");
    }
    json_kv_u64_opt(&b.j, "panic_on_oom", k->panic_on_oom);
    json_kv_u64_opt(&b.j, "oom_kill_allocating_task", k->oom_kill_allocating_task);
    json_kv_u64_opt(&b.j, "overcommit_memory", k->overcommit_memory);
    json_kv_u64_opt(&b.j, "overcommit_ratio", k->overcommit_ratio);
    json_kv_u64_opt(&b.j, "overcommit_kbytes", k->overcommit_kbytes);
    json_kv_u64_opt(&b.j, "oom_dump_tasks", k->oom_dump_tasks);
    json_kv_u64_opt(&b.j, "commit_limit", n->mem.commit_limit);
    json_kv_u64_opt(&b.j, "committed_as", n->mem.committed_as);
    if (!title) {
        fb_discard(&b);
        if (!opt_has(k->panic_on_oom) && !opt_has(k->overcommit_memory))
            return note(r, CHECK_SYSCTL, RESULT_SKIPPED, "%s is not readable",
                        sysroot_path(n->sr, "/proc/sys/vm"));
        return note(
            r, CHECK_SYSCTL, RESULT_OK,
            "vm.panic_on_oom=0, vm.oom_kill_allocating_task=0, vm.overcommit_memory=%" PRIu64
            " (heuristic)",
            or0(k->overcommit_memory));
    }
    fb_title(&b, sev, "%s", title);
    return fb_commit(r, &b);
}

/* ---- 10. userspace OOM daemons -------------------------------------------------------------- */

/* argv[i] of a process, or NULL */
static const char *arg(const struct proc *p, int i)
{
    const char *s = p->cmdline, *end = p->cmdline ? p->cmdline + p->cmdline_len : NULL;
    for (int k = 0; s && s < end; k++) {
        if (k == i)
            return s;
        const char *z = memchr(s, '\0', (size_t)(end - s));
        if (!z)
            return NULL;
        s = z + 1;
    }
    return NULL;
}

static bool arg_is(const struct proc *p, int i, const char *base)
{
    const char *a = arg(p, i);
    if (!a)
        return false;
    const char *end = p->cmdline + p->cmdline_len;
    size_t n = strnlen(a, (size_t)(end - a));
    const char *slash = memrchr(a, '/', n);
    const char *b = slash ? slash + 1 : a;
    size_t bn = n - (size_t)(b - a);
    return bn == strlen(base) && memcmp(b, base, bn) == 0;
}

/* Which userspace OOM daemon this process is, or NULL. */
static const char *oom_daemon(const struct proc *p)
{
    static const char *const names[] = {"earlyoom", "systemd-oomd", "oomd", "nohang"};
    if (p->kernel_thread)
        return NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(p->comm, names[i]) == 0)
            return names[i];
    /* nohang is a Python script: "python3 /usr/sbin/nohang --config ..." */
    if ((strncmp(p->comm, "python", 6) == 0) && arg_is(p, 1, "nohang"))
        return "nohang";
    if (strcmp(p->comm, "oomwarden") == 0) {
        /* "oomwarden [global options] agent ..." */
        for (int i = 1; i < 8 && arg(p, i); i++)
            if (strcmp(arg(p, i), "agent") == 0)
                return "oomwarden agent";
    }
    return NULL;
}

static int check_oom_daemon(const struct node *n, struct doctor_report *r)
{
    const struct proc *found[8];
    const char *what[8];
    size_t nf = 0;
    const struct proc *kubelet = NULL;
    for (size_t i = 0; i < n->procs.n; i++) {
        const struct proc *p = &n->procs.v[i];
        const char *d = oom_daemon(p);
        if (d && nf < 8) {
            found[nf] = p;
            what[nf++] = d;
        }
        if (!kubelet && strcmp(p->comm, "kubelet") == 0)
            kubelet = p;
    }
    struct fb b;
    fb_begin(&b, CHECK_OOM_DAEMON);
    bool caveat = false;
    if (nf == 0) {
        fb_title(&b, DOCTOR_WARNING,
                 "no userspace OOM daemon: nothing acts before the kernel's OOM killer, which "
                 "fires only when reclaim has failed");
        fb_ev(&b,
              "looked for earlyoom, systemd-oomd, oomd, nohang and oomwarden agent among %zu "
              "processes: none runs",
              n->procs.n);
        fb_ev(&b, "the kernel kills only when an allocation cannot be satisfied at all; before "
                  "that a machine can thrash for minutes (PSI shows it) with every process slow");
        if (kubelet)
            fb_ev(&b,
                  "kubelet (pid %d) runs: its eviction (evictionHard memory.available) acts on "
                  "pods only, at its housekeeping interval, and protects no system process",
                  (int)kubelet->pid);
        fb_fix(&b,
               "systemd: systemctl enable --now systemd-oomd, with ManagedOOMMemoryPressure=kill "
               "(and ManagedOOMSwap=kill) on the slices to watch; it needs cgroup v2 and PSI");
        fb_fix(&b, "or earlyoom (apt install earlyoom): acts on MemAvailable and SwapFree, knows "
                   "no cgroups");
    } else {
        struct buf names = BUF_INIT(4096);
        for (size_t i = 0; i < nf; i++)
            buf_printf(&names, "%s%s (pid %d)", i ? ", " : "", what[i], (int)found[i]->pid);
        for (size_t i = 0; i < nf; i++) {
            if (strcmp(what[i], "systemd-oomd") == 0 && n->hier.memory_version != 2) {
                fb_ev(&b, "systemd-oomd runs but this machine's memory controller is cgroup v1: "
                          "it needs the unified hierarchy and acts on nothing here");
                caveat = true;
            }
            if ((strcmp(what[i], "systemd-oomd") == 0 || strcmp(what[i], "oomd") == 0) &&
                n->psi_err < 0) {
                fb_ev(&b, "%s runs but there is no PSI: its pressure rules cannot fire", what[i]);
                caveat = true;
            }
            if (strcmp(what[i], "earlyoom") == 0)
                fb_ev(&b, "earlyoom watches the machine's MemAvailable and SwapFree only: a "
                          "cgroup at its own limit is left to the kernel");
        }
        fb_title(&b, caveat ? DOCTOR_WARNING : DOCTOR_INFO, "userspace OOM daemon%s: %s%s",
                 nf == 1 ? "" : "s", buf_cstr(&names),
                 caveat ? ", but it cannot act on this machine" : "");
        buf_release(&names);
        if (caveat)
            fb_fix(&b, "switch to cgroup v2 with PSI on (see psi-cgroups), or use earlyoom");
        if (!caveat && b.f.nevidence == 0) {
            fb_discard(&b);
            return note(r, CHECK_OOM_DAEMON, RESULT_OK, "%s runs", what[0]);
        }
    }
    json_key(&b.j, "daemons");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < nf; i++) {
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "name", what[i]);
        json_kv_i64(&b.j, "pid", found[i]->pid);
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    return fb_commit(r, &b);
}

/* ---- 11. oom_score_adj extremes -------------------------------------------------------------- */

static int check_adj(const struct node *n, struct doctor_report *r)
{
    uint64_t ram = or0(n->mem.mem_total);
    uint64_t big = ram / 20 > 16 * 1024 * 1024 ? ram / 20 : 16 * 1024 * 1024;
    const struct proc *hogs[16];
    size_t nh = 0;
    uint64_t hog_sum = 0;
    for (size_t i = 0; i < n->procs.n; i++) {
        const struct proc *p = &n->procs.v[i];
        if (p->kernel_thread || p->pid == 1 || !p->has_mm || p->oom_score_adj != -1000 ||
            proc_mem(p) < big)
            continue;
        if (nh < 16)
            hogs[nh++] = p;
        hog_sum += proc_mem(p);
    }
    /* tiny processes at positive adj among the first victims, ahead of a much bigger one */
    const struct victim_list *vl = &n->global;
    const struct victim *tiny[5];
    size_t nt = 0;
    uint64_t largest = 0;
    const struct victim *largest_v = NULL;
    for (size_t i = 0; i < vl->n && vl->v[i].rank; i++)
        if (proc_mem(vl->v[i].proc) > largest) {
            largest = proc_mem(vl->v[i].proc);
            largest_v = &vl->v[i];
        }
    for (size_t i = 0; i < vl->n && vl->v[i].rank && i < 5; i++) {
        const struct proc *p = vl->v[i].proc;
        if (p->oom_score_adj > 0 && proc_mem(p) < 64ull * 1024 * 1024 &&
            proc_mem(p) * 8 < largest && largest_v && largest_v->rank > vl->v[i].rank)
            tiny[nt++] = &vl->v[i];
    }
    if (nh == 0 && nt == 0)
        return note(r, CHECK_ADJ, RESULT_OK,
                    "no process of %s or more at -1000; no tiny process at a positive "
                    "oom_score_adj among the first 5 victims",
                    fmt_size_long((char[24]){0}, big));
    struct fb b;
    fb_begin(&b, CHECK_ADJ);
    char a[24], c[FMT_SIZE_LEN];
    if (nh)
        fb_title(&b, DOCTOR_WARNING, "%zu process%s of %s at oom_score_adj -1000 (never killed)%s",
                 nh, nh == 1 ? "" : "es", szl(a, hog_sum),
                 nt ? "; tiny processes with a positive adj are the first victims" : "");
    else
        fb_title(&b, DOCTOR_WARNING,
                 "%zu tiny process%s with a positive oom_score_adj %s among the first victims: "
                 "each kill frees almost nothing",
                 nt, nt == 1 ? "" : "es", nt == 1 ? "is" : "are");
    for (size_t i = 0; i < nh; i++) {
        char w[IDENTITY_NAME_MAX + 32];
        struct identity id;
        proc_identity(hogs[i], &id);
        workload_words(&id, w, sizeof(w));
        fb_ev(&b, "  %s (pid %d): %s (%u%% of RAM), oom_score_adj -1000%s%s", hogs[i]->comm,
              (int)hogs[i]->pid, sz(c, proc_mem(hogs[i])), fmt_percent(proc_mem(hogs[i]), ram),
              w[0] ? ", " : "", w);
    }
    if (nh)
        fb_ev(&b, "-1000 makes the kernel skip a process: if it grows, every other process is "
                  "killed first, and then \"Out of memory and no killable processes\" (a "
                  "machine-wide OOM then panics: \"System is deadlocked on memory\")");
    for (size_t i = 0; i < nt; i++) {
        const struct proc *p = tiny[i]->proc;
        fb_ev(&b, "  #%zu %s (pid %d): %s, oom_score_adj %d adds %" PRId64 " pages to its badness",
              tiny[i]->rank, p->comm, (int)p->pid, sz(c, proc_mem(p)), p->oom_score_adj,
              (int64_t)p->oom_score_adj * (int64_t)(vl->totalpages / 1000));
    }
    if (nt)
        fb_ev(&b,
              "the largest process, %s (pid %d, %s), is #%zu: the kills before it free "
              "little each, so the killer fires again and again (a cascade)",
              largest_v->proc->comm, (int)largest_v->proc->pid, szl(a, largest), largest_v->rank);
    if (nh)
        fb_fix(&b, "-999 keeps a process last without making it unkillable: echo -999 > "
                   "/proc/PID/oom_score_adj, systemd OOMScoreAdjust=-999; or give it a memory "
                   "limit of its own");
    if (nt)
        fb_fix(&b, "leave small helpers at oom_score_adj 0 (systemd: OOMScoreAdjust=0); "
                   "Kubernetes sets it from the QoS class: BestEffort 1000, Burstable 2-999 by "
                   "memory request");
    json_key(&b.j, "unkillable");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < nh; i++) {
        json_obj_begin(&b.j);
        json_kv_i64(&b.j, "pid", hogs[i]->pid);
        json_kv_str(&b.j, "comm", hogs[i]->comm);
        json_kv_u64(&b.j, "memory", proc_mem(hogs[i]));
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    json_key(&b.j, "tiny_first");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < nt; i++)
        json_victim(&b.j, tiny[i], CLASS_OTHER);
    json_arr_end(&b.j);
    return fb_commit(r, &b);
}

/* ---- 12. recent OOM kills ---------------------------------------------------------------------
 */

static int check_recent_kills(const struct node *n, struct doctor_report *r)
{
    if (!n->log || n->log_err < 0)
        return note(r, CHECK_RECENT_KILLS, RESULT_SKIPPED,
                    "the kernel log could not be read (see "
                    "kernel-log)");
    const struct oomlog *log = n->log;
    size_t kills = 0, global = 0, memcg = 0, groups = 0;
    uint64_t last_global_us = OPT_ABSENT;
    for (size_t i = 0; i < log->nevents; i++) {
        const struct oom_event *e = &log->events[i];
        for (size_t k = 0; k < e->nvictims; k++)
            kills += e->victims[k].kind != OOM_VICTIM_EXITING;
        /* the group kill kills (and counts in vmstat) the victim a second time */
        groups += e->group_memcg != NULL;
        if (e->scope == OOM_SCOPE_GLOBAL) {
            global++;
            if (opt_has(e->uptime_us))
                last_global_us = e->uptime_us;
        } else if (e->scope == OOM_SCOPE_MEMCG) {
            memcg++;
        }
    }
    uint64_t since_boot = n->vmstat_err == 0 ? n->vmstat.oom_kill : OPT_ABSENT;
    if (log->nevents == 0 && (!opt_has(since_boot) || since_boot == 0))
        return note(r, CHECK_RECENT_KILLS, RESULT_OK, "no OOM kill since boot");
    struct fb b;
    fb_begin(&b, CHECK_RECENT_KILLS);
    char a[24];
    bool recent_global = global && opt_has(last_global_us) && opt_has(n->now_us) &&
                         n->now_us >= last_global_us &&
                         n->now_us - last_global_us < 24ull * 3600 * 1000000;
    if (log->nevents == 0) {
        fb_title(&b, DOCTOR_WARNING,
                 "%" PRIu64 " OOM kill%s since boot (/proc/vmstat oom_kill), none left in the "
                 "kernel log",
                 since_boot, since_boot == 1 ? "" : "s");
    } else {
        enum doctor_severity sev = recent_global ? DOCTOR_CRITICAL : DOCTOR_WARNING;
        fb_title(&b, sev,
                 "%zu OOM kill%s in the kernel log: %zu machine-wide OOM%s, %zu in "
                 "memory cgroups%s",
                 kills, kills == 1 ? "" : "s", global, global == 1 ? "" : "s", memcg,
                 recent_global ? ": the machine itself ran out of memory in the last 24 hours"
                               : "");
    }
    if (opt_has(since_boot) && since_boot > kills + groups)
        fb_ev(&b,
              "/proc/vmstat oom_kill counts %" PRIu64 " since boot; the kernel log still "
              "holds %zu of them (older reports were overwritten)",
              since_boot, kills);
    size_t first = log->nevents > 6 ? log->nevents - 6 : 0;
    if (first)
        fb_ev(&b, "the last 6 of %zu events:", log->nevents);
    json_key(&b.j, "events");
    json_arr_begin(&b.j);
    for (size_t i = first; i < log->nevents; i++) {
        const struct oom_event *e = &log->events[i];
        struct buf line = BUF_INIT(64 * 1024);
        if (opt_has(e->uptime_us) && opt_has(n->now_us) && n->now_us >= e->uptime_us)
            buf_printf(&line,
                       "  %s ago: ", fmt_duration(a, (double)(n->now_us - e->uptime_us) / 1e6));
        else if (e->time[0])
            buf_printf(&line, "  %s: ", e->time);
        else
            buf_puts(&line, "  ");
        explain_event_line(e, false, &line);
        fb_ev(&b, "%s", buf_cstr(&line));
        buf_release(&line);
        const struct oom_victim *v = oom_event_primary(e);
        json_obj_begin(&b.j);
        json_kv_str(&b.j, "scope", oom_scope_name(e->scope));
        json_kv_u64_opt(&b.j, "uptime_us", e->uptime_us);
        json_kv_str(&b.j, "oom_memcg", e->oom_memcg);
        json_kv_str(&b.j, "task_memcg", e->task_memcg);
        if (v) {
            json_kv_i64_opt(&b.j, "pid", v->pid);
            json_kv_str(&b.j, "comm", v->comm);
        } else {
            json_kv_null(&b.j, "pid");
            json_kv_null(&b.j, "comm");
        }
        json_obj_end(&b.j);
    }
    json_arr_end(&b.j);
    struct cascade *cas = NULL;
    size_t ncas = 0;
    if (explain_cascades(log->events, log->nevents, &cas, &ncas) == 0) {
        for (size_t i = 0; i < ncas; i++) {
            struct buf t = BUF_INIT(64 * 1024);
            if (explain_cascade_text(&cas[i], &t) == 0) {
                if (t.len && t.data[t.len - 1] == '\n')
                    t.data[--t.len] = '\0';
                fb_ev(&b, "cascade: %s", buf_cstr(&t));
            }
            buf_release(&t);
        }
        free(cas);
    }
    json_kv_u64(&b.j, "events", log->nevents);
    json_kv_u64(&b.j, "kills", kills);
    json_kv_u64(&b.j, "global", global);
    json_kv_u64(&b.j, "memcg", memcg);
    json_kv_u64(&b.j, "cascades", ncas);
    json_kv_u64_opt(&b.j, "vmstat_oom_kill", since_boot);
    fb_fix(&b, "each report in words: oomwarden explain (--since 1h, --json)");
    if (global)
        fb_fix(&b, "machine-wide OOMs: see the kill-order and limits findings for why the machine "
                   "and not a cgroup ran out");
    return fb_commit(r, &b);
}

/* ---- 13. the kernel log ------------------------------------------------------------------------
 */

static int check_kernel_log(const struct node *n, struct doctor_report *r)
{
    if (n->log && n->log_err == 0) {
        if (n->log_live && n->log_stats.lost)
            return note(r, CHECK_KERNEL_LOG, RESULT_OK,
                        "readable; %" PRIu64 " records were overwritten while it was read",
                        n->log_stats.lost);
        return note(r, CHECK_KERNEL_LOG, RESULT_OK, "%s is readable (%s)",
                    sysroot_path(n->sr, "/dev/kmsg"), n->log_live ? "the device" : "a saved copy");
    }
    struct fb b;
    fb_begin(&b, CHECK_KERNEL_LOG);
    int e = n->log_err;
    const char *path = sysroot_path(n->sr, "/dev/kmsg");
    char pathcopy[4096];
    snprintf(pathcopy, sizeof(pathcopy), "%s", path);
    if (e == -EPERM || e == -EACCES) {
        fb_title(&b, DOCTOR_WARNING,
                 "the kernel log is not readable here (dmesg_restrict): who the kernel killed "
                 "and why cannot be seen");
        fb_ev(&b, "%s: %s; kernel.dmesg_restrict=%s lets only processes with CAP_SYSLOG read it",
              pathcopy, strerror(-e),
              opt_has(n->sysctl.dmesg_restrict) ? (n->sysctl.dmesg_restrict ? "1" : "0") : "?");
        fb_fix(&b, "run as root, or grant CAP_SYSLOG (systemd: AmbientCapabilities=CAP_SYSLOG; "
                   "Kubernetes: securityContext.capabilities.add: [\"SYSLOG\"])");
        fb_fix(&b, "or sysctl -w kernel.dmesg_restrict=0 (lets every user read the kernel log)");
    } else if (e == -ENOENT) {
        fb_title(&b, DOCTOR_WARNING,
                 "no kernel log device (%s): who the kernel killed and why "
                 "cannot be seen",
                 pathcopy);
        fb_ev(&b, "%s does not exist: a container without the host's /dev/kmsg", pathcopy);
        fb_fix(&b, "mount it: Kubernetes hostPath /dev/kmsg (type CharDevice); docker --device "
                   "/dev/kmsg");
    } else {
        fb_title(&b, DOCTOR_WARNING, "the kernel log cannot be read (%s)", strerror(-e));
        fb_ev(&b, "%s: %s", pathcopy, strerror(-e));
    }
    fb_ev(&b,
          "lost: the OOM reports (victim, scope, the other candidates, cascades), so "
          "recent-kills cannot run and status shows no kill history; still counted: "
          "/proc/vmstat oom_kill (%s since boot) and each cgroup's memory.events oom_kill",
          n->vmstat_err == 0 && opt_has(n->vmstat.oom_kill)
              ? (snprintf(pathcopy, sizeof(pathcopy), "%" PRIu64, n->vmstat.oom_kill), pathcopy)
              : "?");
    json_kv_str(&b.j, "error", strerror(-e));
    json_kv_u64_opt(&b.j, "dmesg_restrict", n->sysctl.dmesg_restrict);
    return fb_commit(r, &b);
}

/* ---- running ------------------------------------------------------------------------------------
 */

static int cmp_findings(const void *pa, const void *pb)
{
    const struct finding *a = pa, *b = pb;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    return (a->check > b->check) - (a->check < b->check);
}

int doctor_run(const struct node *n, const struct doctor_opts *o, struct doctor_report *ret)
{
    struct doctor_report r = {0};
    struct doctor_opts opts = *o;
    if (!opts.critical) {
        opts.critical = critical_default_names;
        opts.ncritical = 0;
        while (critical_default_names[opts.ncritical])
            opts.ncritical++;
    }
    bool procs = n->parts & NODE_READ_PROCS;
    bool cgroups = have_cgroups(n);
    const char *nocg =
        n->hier_err == -ENOMEDIUM ? "no cgroup memory controller" : "the cgroups could not be read";
    int e = 0;
    for (int c = 0; c < CHECK_COUNT && e == 0; c++) {
        if (!opts.run[c])
            continue;
        switch (c) {
        case CHECK_KILL_ORDER:
            e = procs ? check_kill_order(n, &opts, &r)
                      : note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_LIMITS:
            e = cgroups ? check_limits(n, &r) : note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_MEMORY_HIGH:
            e = cgroups ? check_memory_high(n, &r) : note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_OOM_GROUP:
            e = cgroups ? check_oom_group(n, &r) : note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_PAGE_CACHE:
            e = cgroups ? check_page_cache(n, &r) : note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_PRESSURE:
            e = check_pressure(n, &r);
            break;
        case CHECK_PSI_CGROUPS:
            e = check_psi_cgroups(n, &r);
            break;
        case CHECK_SWAP:
            e = check_swap(n, &r);
            break;
        case CHECK_SYSCTL:
            e = check_sysctl(n, &r);
            break;
        case CHECK_OOM_DAEMON:
            e = procs ? check_oom_daemon(n, &r) : note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_ADJ:
            e = procs ? check_adj(n, &r) : note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_RECENT_KILLS:
            e = check_recent_kills(n, &r);
            break;
        case CHECK_KERNEL_LOG:
            e = check_kernel_log(n, &r);
            break;
        }
    }
    if (e < 0) {
        doctor_report_release(&r);
        return e;
    }
    if (r.n > 1) /* r.v is NULL when there is no finding */
        qsort(r.v, r.n, sizeof(*r.v), cmp_findings);
    *ret = r;
    return 0;
}

void doctor_report_release(struct doctor_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        finding_release(&r->v[i]);
    free(r->v);
    for (int c = 0; c < CHECK_COUNT; c++)
        free(r->note[c]);
    *r = (struct doctor_report){0};
}

int doctor_worst(const struct doctor_report *r)
{
    return r->n ? (int)r->v[0].severity : -1;
}

void doctor_finding_json(const struct finding *f, struct json *j)
{
    json_obj_begin(j);
    json_kv_str(j, "id", doctor_checks[f->check].id);
    json_kv_str(j, "severity", doctor_severity_name(f->severity));
    json_kv_str(j, "title", f->title);
    json_key(j, "evidence");
    json_arr_begin(j);
    for (size_t i = 0; i < f->nevidence; i++)
        json_str(j, f->evidence[i]);
    json_arr_end(j);
    json_key(j, "fix");
    json_arr_begin(j);
    for (size_t i = 0; i < f->nfix; i++)
        json_str(j, f->fix[i]);
    json_arr_end(j);
    json_key(j, "data");
    json_raw(j, f->data ? f->data : "{}", f->data ? strlen(f->data) : 2);
    json_obj_end(j);
}
