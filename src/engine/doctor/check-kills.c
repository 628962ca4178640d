#include "doctor-int.h"
#include "base/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. kill order ------------------------------------------------------------------------ */

/* What a machine-wide OOM's kill order says about the node-critical processes. */
struct kill_order {
    const struct victim_list *vl;
    size_t eligible;       /* victims the kernel could kill (rank > 0) */
    size_t first_workload; /* index of the first workload process, SIZE_MAX when none */
    size_t holder;         /* index of the workload process holding the most, SIZE_MAX */
    size_t ncrit;          /* node-critical processes among the eligible */
    size_t limit;          /* victims before the holder (all eligible when none) */
    size_t before, maybe;  /* node-critical before the holder for sure, only while it is small */
    size_t top_crit;       /* node-critical among the first 3 victims */
    int64_t holder_grown;  /* the holder's badness once it has grown into what reclaim frees */
    uint64_t weight;       /* pages one point of oom_score_adj is worth */
};

/* The holder's badness rises as it grows. By the time a machine-wide OOM comes it can have
 * taken everything but what cannot be reclaimed or swapped: anon (beyond free swap), shmem,
 * unreclaimable slab, kernel stacks, page tables. So a process ranked before it now dies
 * before it for sure only if its badness beats the holder's at that size. On the node
 * image (6.1) the kernel killed every adj-0 daemon before the growing -997 pod, and
 * journald (-250), dbus (-900) and containerd (-999), ranked before the small pod at the
 * start, after it; so did the seed incident's node (corpus 044). MemAvailable is too small
 * a bound: the pod grew by 742 MiB with 638 MiB available, reclaim took the rest. */
static int64_t holder_grown_badness(const struct node *n, const struct kill_order *k)
{
    const struct meminfo *m = &n->mem;
    uint64_t pinned = or0(m->anon_pages) + or0(m->shmem) + or0(m->sunreclaim) +
                      or0(m->kernel_stack) + or0(m->page_tables);
    if (!opt_has(m->anon_pages)) /* a meminfo without the breakdown: the processes' memory */
        for (size_t i = 0; i < k->vl->n; i++)
            pinned += proc_rss_swap(k->vl->v[i].proc);
    uint64_t total = or0(m->mem_total) + or0(m->swap_free);
    uint64_t room = (total > pinned ? total - pinned : 0) / n->sr->page_size;
    return k->vl->v[k->holder].badness + (int64_t)room;
}

static void kill_order_measure(const struct node *n, const struct doctor_opts *o,
                               struct kill_order *k)
{
    const struct victim_list *vl = &n->global;
    *k = (struct kill_order){.vl = vl, .first_workload = SIZE_MAX, .holder = SIZE_MAX};
    for (size_t i = 0; i < vl->n && vl->v[i].rank; i++) {
        k->eligible++;
        enum pclass c = classify(vl->v[i].proc, o);
        if (c == CLASS_WORKLOAD && k->first_workload == SIZE_MAX)
            k->first_workload = i;
        /* the workload process holding the most memory: the likely cause of a machine-wide
         * OOM, and what the kernel has to reach before the kills stop. A small workload process
         * ranked first (a BestEffort sidecar at 1000) changes nothing for the daemons ranked
         * between it and the -997 pod that holds the memory. */
        if (c == CLASS_WORKLOAD &&
            (k->holder == SIZE_MAX ||
             proc_rss_swap(vl->v[i].proc) > proc_rss_swap(vl->v[k->holder].proc)))
            k->holder = i;
        if (c == CLASS_CRITICAL)
            k->ncrit++;
    }
    if (k->holder != SIZE_MAX)
        k->holder_grown = holder_grown_badness(n, k);
    k->limit = k->holder == SIZE_MAX ? k->eligible : k->holder;
    for (size_t i = 0; i < k->limit; i++)
        if (classify(vl->v[i].proc, o) == CLASS_CRITICAL) {
            if (k->holder == SIZE_MAX || vl->v[i].badness > k->holder_grown)
                k->before++;
            else
                k->maybe++;
        }
    /* no workload: only the very first victims matter */
    for (size_t i = 0; i < k->eligible && i < 3; i++)
        k->top_crit += classify(vl->v[i].proc, o) == CLASS_CRITICAL;
    k->weight = vl->totalpages / 1000;
}

static void kill_order_title(const struct kill_order *k, struct fb *b)
{
    const struct victim_list *vl = k->vl;
    if (k->holder != SIZE_MAX && k->holder == k->first_workload) {
        const struct proc *fw = vl->v[k->first_workload].proc;
        fb_title(b, DOCTOR_CRITICAL,
                 "a machine-wide OOM kills %zu node-critical process%s before the first workload "
                 "process (%s, #%zu)",
                 k->before, k->before == 1 ? "" : "es", fw->comm, vl->v[k->first_workload].rank);
    } else if (k->holder != SIZE_MAX) {
        const struct proc *h = vl->v[k->holder].proc;
        fb_title(b, DOCTOR_CRITICAL,
                 "a machine-wide OOM kills %zu node-critical process%s before the workload "
                 "process holding the most memory (%s, #%zu)",
                 k->before, k->before == 1 ? "" : "es", h->comm, vl->v[k->holder].rank);
    } else {
        fb_title(b, DOCTOR_WARNING,
                 "a machine-wide OOM kills node-critical processes first (%zu of the first %zu "
                 "victims)",
                 k->top_crit, k->eligible < 3 ? k->eligible : (size_t)3);
    }
}

/* The first victims in the kernel's order, as far as the workload process (at least 3). */
static void kill_order_ranks(const struct node *n, const struct doctor_opts *o,
                             const struct kill_order *k, struct fb *b)
{
    char a[24], s1[FMT_SIZE_LEN], w[IDENTITY_BRIEF_MAX];
    fb_ev(b,
          "kill order of a machine-wide OOM (oom_badness() when it comes: anon + shmem + swap + "
          "page-table pages, the file pages taken by reclaim first but for mlocked ones, plus "
          "oom_score_adj x %" PRIu64 " pages = (RAM + swap) / 1000, one point = %s):",
          k->weight, szl(a, k->weight * (uint64_t)n->sr->page_size));
    size_t show = k->limit + 1 < 8 ? k->limit + 1 : 8;
    if (show < 3)
        show = 3;
    for (size_t i = 0; i < k->eligible && i < show; i++) {
        const struct victim *v = &k->vl->v[i];
        const struct proc *p = v->proc;
        enum pclass c = classify(p, o);
        struct identity id;
        proc_identity(n, p, &id);
        identity_brief(&id, w, sizeof(w));
        fb_ev(b, "  #%zu %s (pid %d) %s, oom_score_adj %d, badness %" PRId64 " pages: %s%s%s",
              v->rank, p->comm, (int)p->pid, sz(s1, proc_rss_swap(p)), p->oom_score_adj, v->badness,
              c == CLASS_CRITICAL   ? "node-critical"
              : c == CLASS_WORKLOAD ? "workload"
                                    : "other",
              w[0] ? ", " : "", w);
    }
    if (k->limit + 1 > show && k->limit > show)
        fb_ev(b, "  ... %zu more before the %s workload process", k->limit - show,
              k->holder == k->first_workload ? "first" : "largest");
}

/* Which node-critical processes die before the holder, now and once it has grown. */
static void kill_order_before_holder(const struct doctor_opts *o, const struct kill_order *k,
                                     struct fb *b)
{
    const struct victim_list *vl = k->vl;
    char a[24];
    struct buf names = BUF_INIT(CAP_TEXT_LINE);
    uint64_t freed = 0;
    struct buf later = BUF_INIT(CAP_TEXT_LINE);
    for (size_t i = 0; i < k->holder; i++) {
        const struct proc *p = vl->v[i].proc;
        if (classify(p, o) != CLASS_CRITICAL)
            continue;
        if (vl->v[i].badness <= k->holder_grown) {
            buf_printf(&later, "%s%s (#%zu)", later.len ? ", " : "", p->comm, vl->v[i].rank);
            continue;
        }
        buf_printf(&names, "%s%s (#%zu)", names.len ? ", " : "", p->comm, vl->v[i].rank);
        freed += proc_rss_swap(p);
    }
    fb_ev(b,
          "node-critical before the %s workload: %s; killing them all frees only %s, so "
          "while a workload keeps growing the kernel kills them one by one, as in the "
          "node-crash incidents",
          k->holder == k->first_workload ? "first" : "largest", buf_cstr(&names), szl(a, freed));
    buf_release(&names);
    if (later.len)
        fb_ev(b,
              "ranked before it now, but not once it has grown into what reclaim can free "
              "(RAM + free swap - anon, shmem, unreclaimable slab, kernel stacks, page "
              "tables: its badness then %" PRId64 " pages): %s",
              k->holder_grown, buf_cstr(&later));
    buf_release(&later);
}

/* The first and the largest workload process, and what a negative oom_score_adj takes off. */
static void kill_order_workloads(const struct node *n, const struct doctor_opts *o,
                                 const struct kill_order *k, struct fb *b)
{
    const struct victim_list *vl = k->vl;
    char a[24], s1[FMT_SIZE_LEN], w[IDENTITY_BRIEF_MAX];
    const struct proc *fw = vl->v[k->first_workload].proc;
    struct identity id;
    proc_identity(n, fw, &id);
    identity_brief(&id, w, sizeof(w));
    fb_ev(b, "the first workload process is #%zu: %s (pid %d, %s, oom_score_adj %d%s%s)",
          vl->v[k->first_workload].rank, fw->comm, (int)fw->pid, sz(s1, proc_rss_swap(fw)),
          fw->oom_score_adj, w[0] ? ", " : "", w);
    if (k->holder != k->first_workload) {
        fw = vl->v[k->holder].proc;
        proc_identity(n, fw, &id);
        identity_brief(&id, w, sizeof(w));
        fb_ev(b,
              "the workload process holding the most memory is #%zu: %s (pid %d, %s, "
              "oom_score_adj %d%s%s); while it keeps growing, every process ranked before "
              "it dies first",
              vl->v[k->holder].rank, fw->comm, (int)fw->pid, sz(s1, proc_rss_swap(fw)),
              fw->oom_score_adj, w[0] ? ", " : "", w);
    }
    const struct proc *big = NULL;
    for (size_t i = 0; i < vl->n; i++)
        if (classify(vl->v[i].proc, o) == CLASS_CRITICAL &&
            (!big || proc_rss_swap(vl->v[i].proc) > proc_rss_swap(big)))
            big = vl->v[i].proc;
    uint64_t minus = (uint64_t)(fw->oom_score_adj < 0 ? -fw->oom_score_adj : 0) * k->weight *
                     (uint64_t)n->sr->page_size;
    if (fw->oom_score_adj < 0 && big)
        fb_ev(b,
              "its oom_score_adj %d subtracts %d x %" PRIu64 " pages = %s from its badness "
              "(Kubernetes gives Guaranteed pods -997)%s%s (pid %d, %s)",
              fw->oom_score_adj, -fw->oom_score_adj, k->weight, szl(a, minus),
              minus > proc_rss_swap(big) ? ": more than the largest node-critical process holds, "
                                         : "; the largest node-critical process is ",
              big->comm, (int)big->pid, sz(s1, proc_rss_swap(big)));
}

static void kill_order_fixes(const struct kill_order *k, struct fb *b)
{
    fb_fix(b,
           "give the node daemons an oom_score_adj below the workloads': a drop-in per unit, "
           "`systemctl edit ssh.service` -> [Service] OOMScoreAdjust=-999 (and the same for "
           "systemd-networkd, systemd-resolved...)%s",
           k->holder != SIZE_MAX ? "; kubelet and containerd run at -999 by default" : "");
    fb_fix(b, "now, for running processes: echo -999 > /proc/PID/oom_score_adj (lowering it needs "
              "CAP_SYS_RESOURCE)");
    if (k->holder != SIZE_MAX)
        fb_fix(b, "Kubernetes: reserve memory for the system so that kubepods gets a memory.max "
                  "below RAM and pods hit that limit (a cgroup OOM among pods) before the machine "
                  "runs out: kubelet systemReserved/kubeReserved memory with "
                  "enforceNodeAllocatable: [pods], and evictionHard memory.available");
}

/* A victim by index, or null when there is none (SIZE_MAX). */
static void victim_or_null(struct json *j, const struct node *n, const struct kill_order *k,
                           size_t i, enum pclass c)
{
    if (i != SIZE_MAX)
        doctor_victim_json(j, n, &k->vl->v[i], c);
    else
        json_null(j);
}

static void kill_order_json(const struct node *n, const struct doctor_opts *o,
                            const struct kill_order *k, struct json *j)
{
    const struct victim_list *vl = k->vl;
    json_kv_u64(j, "totalpages", vl->totalpages);
    json_kv_u64(j, "adj_weight_pages", k->weight);
    json_kv_arr_begin(j, "first_victims");
    for (size_t i = 0; i < k->eligible && i < 10; i++)
        doctor_victim_json(j, n, &vl->v[i], classify(vl->v[i].proc, o));
    json_arr_end(j);
    json_key(j, "first_workload");
    victim_or_null(j, n, k, k->first_workload, CLASS_WORKLOAD);
    json_key(j, "largest_workload");
    victim_or_null(j, n, k, k->holder, CLASS_WORKLOAD);
    /* before the largest workload process (the first one when it is also the largest) */
    json_kv_arr_begin(j, "critical_before_workload");
    for (size_t i = 0; i < k->limit; i++)
        if (classify(vl->v[i].proc, o) == CLASS_CRITICAL &&
            (k->holder == SIZE_MAX || vl->v[i].badness > k->holder_grown))
            doctor_victim_json(j, n, &vl->v[i], CLASS_CRITICAL);
    json_arr_end(j);
    if (k->holder != SIZE_MAX)
        json_kv_i64(j, "largest_workload_grown_badness", k->holder_grown);
    else
        json_kv_null(j, "largest_workload_grown_badness");
    json_kv_u64(j, "critical_before_workload_now", k->before + k->maybe);
    json_kv_u64(j, "critical_total", k->ncrit);
}

int check_kill_order(const struct node *n, const struct doctor_opts *o, struct doctor_report *r)
{
    struct kill_order k;
    kill_order_measure(n, o, &k);
    const struct victim_list *vl = k.vl;
    if (k.eligible == 0)
        return doctor_note(r, CHECK_KILL_ORDER, RESULT_OK, "no process the kernel could kill");
    if (k.holder != SIZE_MAX && k.before == 0)
        return doctor_note(
            r, CHECK_KILL_ORDER, RESULT_OK,
            "no node-critical process dies before the workload process holding the "
            "most memory (%s, pid %d, #%zu)%s",
            vl->v[k.holder].proc->comm, (int)vl->v[k.holder].proc->pid, vl->v[k.holder].rank,
            k.maybe ? " once it has grown; some rank before it while it is small" : "");
    if (k.first_workload == SIZE_MAX && k.top_crit == 0)
        return doctor_note(r, CHECK_KILL_ORDER, RESULT_OK,
                           "no workload processes; no node-critical process among the first 3 "
                           "victims (%zu node-critical processes in all)",
                           k.ncrit);

    struct fb b;
    fb_begin(&b, CHECK_KILL_ORDER);
    kill_order_title(&k, &b);
    kill_order_ranks(n, o, &k, &b);
    if (k.holder != SIZE_MAX) {
        kill_order_before_holder(o, &k, &b);
        kill_order_workloads(n, o, &k, &b);
    }
    kill_order_fixes(&k, &b);
    kill_order_json(n, o, &k, &b.j);
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

int check_oom_daemon(const struct node *n, struct doctor_report *r)
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
        struct buf names = BUF_INIT(CAP_TEXT_LINE);
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
            return doctor_note(r, CHECK_OOM_DAEMON, RESULT_OK, "%s runs", what[0]);
        }
    }
    json_kv_arr_begin(&b.j, "daemons");
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

/* The oom_score_adj extremes: big processes the kernel never kills (-1000), tiny ones it kills
 * first (positive adj, ahead of a much bigger process). */
struct adj_extremes {
    uint64_t ram, big; /* big: what counts as a big process */
    const struct proc *hogs[16];
    size_t nh;
    uint64_t hog_sum;
    const struct victim *tiny[5];
    size_t nt;
    const struct victim *largest_v; /* the eligible process holding the most */
    uint64_t largest;
};

static void adj_extremes_find(const struct node *n, struct adj_extremes *x)
{
    x->ram = or0(n->mem.mem_total);
    x->big = x->ram / 20 > 16 * 1024 * 1024 ? x->ram / 20 : 16 * 1024 * 1024;
    for (size_t i = 0; i < n->procs.n; i++) {
        const struct proc *p = &n->procs.v[i];
        if (p->kernel_thread || p->pid == 1 || !p->has_mm || p->oom_score_adj != -1000 ||
            proc_rss_swap(p) < x->big)
            continue;
        if (x->nh < 16)
            x->hogs[x->nh++] = p;
        x->hog_sum += proc_rss_swap(p);
    }
    /* tiny processes at positive adj among the first victims, ahead of a much bigger one */
    const struct victim_list *vl = &n->global;
    for (size_t i = 0; i < vl->n && vl->v[i].rank; i++)
        if (proc_rss_swap(vl->v[i].proc) > x->largest) {
            x->largest = proc_rss_swap(vl->v[i].proc);
            x->largest_v = &vl->v[i];
        }
    for (size_t i = 0; i < vl->n && vl->v[i].rank && i < 5; i++) {
        const struct proc *p = vl->v[i].proc;
        if (p->oom_score_adj > 0 && proc_rss_swap(p) < 64ull * 1024 * 1024 &&
            proc_rss_swap(p) * 8 < x->largest && x->largest_v && x->largest_v->rank > vl->v[i].rank)
            x->tiny[x->nt++] = &vl->v[i];
    }
}

static void adj_evidence(const struct node *n, const struct adj_extremes *x, struct fb *b)
{
    char a[24], c[FMT_SIZE_LEN];
    for (size_t i = 0; i < x->nh; i++) {
        char w[IDENTITY_BRIEF_MAX];
        struct identity id;
        proc_identity(n, x->hogs[i], &id);
        identity_brief(&id, w, sizeof(w));
        fb_ev(b, "  %s (pid %d): %s (%u%% of RAM), oom_score_adj -1000%s%s", x->hogs[i]->comm,
              (int)x->hogs[i]->pid, sz(c, proc_rss_swap(x->hogs[i])),
              fmt_percent(proc_rss_swap(x->hogs[i]), x->ram), w[0] ? ", " : "", w);
    }
    if (x->nh)
        fb_ev(b, "-1000 makes the kernel skip a process: if it grows, every other process is "
                 "killed first, and then \"Out of memory and no killable processes\" (a "
                 "machine-wide OOM then panics: \"System is deadlocked on memory\")");
    for (size_t i = 0; i < x->nt; i++) {
        const struct proc *p = x->tiny[i]->proc;
        fb_ev(b, "  #%zu %s (pid %d): %s, oom_score_adj %d adds %" PRId64 " pages to its badness",
              x->tiny[i]->rank, p->comm, (int)p->pid, sz(c, proc_rss_swap(p)), p->oom_score_adj,
              (int64_t)p->oom_score_adj * (int64_t)(n->global.totalpages / 1000));
    }
    if (x->nt)
        fb_ev(b,
              "the largest process, %s (pid %d, %s), is #%zu: the kills before it free "
              "little each, so the killer fires again and again (a cascade)",
              x->largest_v->proc->comm, (int)x->largest_v->proc->pid, szl(a, x->largest),
              x->largest_v->rank);
}

static void adj_json(const struct node *n, const struct adj_extremes *x, struct json *j)
{
    json_kv_arr_begin(j, "unkillable");
    for (size_t i = 0; i < x->nh; i++) {
        json_obj_begin(j);
        json_kv_i64(j, "pid", x->hogs[i]->pid);
        json_kv_str(j, "comm", x->hogs[i]->comm);
        json_kv_u64(j, "memory", proc_rss_swap(x->hogs[i]));
        json_obj_end(j);
    }
    json_arr_end(j);
    json_kv_arr_begin(j, "tiny_first");
    for (size_t i = 0; i < x->nt; i++)
        doctor_victim_json(j, n, x->tiny[i], CLASS_OTHER);
    json_arr_end(j);
}

int check_adj(const struct node *n, struct doctor_report *r)
{
    struct adj_extremes x = {0};
    adj_extremes_find(n, &x);
    size_t nh = x.nh, nt = x.nt;
    if (nh == 0 && nt == 0)
        return doctor_note(r, CHECK_ADJ, RESULT_OK,
                           "no process of %s or more at -1000; no tiny process at a positive "
                           "oom_score_adj among the first 5 victims",
                           fmt_size_long((char[24]){0}, x.big));
    struct fb b;
    fb_begin(&b, CHECK_ADJ);
    char a[24];
    if (nh)
        fb_title(&b, DOCTOR_WARNING, "%zu process%s of %s at oom_score_adj -1000 (never killed)%s",
                 nh, nh == 1 ? "" : "es", szl(a, x.hog_sum),
                 nt ? "; tiny processes with a positive adj are the first victims" : "");
    else
        fb_title(&b, DOCTOR_WARNING,
                 "%zu tiny process%s with a positive oom_score_adj %s among the first victims: "
                 "each kill frees almost nothing",
                 nt, nt == 1 ? "" : "es", nt == 1 ? "is" : "are");
    adj_evidence(n, &x, &b);
    if (nh)
        fb_fix(&b, "-999 keeps a process last without making it unkillable: echo -999 > "
                   "/proc/PID/oom_score_adj, systemd OOMScoreAdjust=-999; or give it a memory "
                   "limit of its own");
    if (nt)
        fb_fix(&b, "leave small helpers at oom_score_adj 0 (systemd: OOMScoreAdjust=0); "
                   "Kubernetes sets it from the QoS class: BestEffort 1000, Burstable 2-999 by "
                   "memory request");
    adj_json(n, &x, &b.j);
    return fb_commit(r, &b);
}
