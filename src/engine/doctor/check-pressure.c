#include "doctor-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

/* ---- 6. pressure and thrashing ------------------------------------------------------------- */

static void json_psi(struct json *j, const struct psi *p)
{
    json_obj_begin(j);
    psi_json_fields(p, j);
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
        snprintf(out, n,
                 "%s/s of page cache read again after reclaim, in cgroups at their limits "
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
    snprintf(out, n,
             "%s/s of page cache read again after reclaim, all %s of it every %s (over %s): %s",
             szl(a, (uint64_t)w->bytes_per_s), opt_has(w->cache) ? szl(b, w->cache) : "?",
             w->turnover_s >= 0 ? fmt_duration(c, w->turnover_s) : "?",
             fmt_duration(d, w->interval_s), thrash_level_name(w->level));
}

/* Where memory stalls or thrashes: the machine, and the cgroups (indexes in hit[]). */
struct pressure_scan {
    bool node_psi;                    /* the machine has memory PSI */
    const struct workingset *node_ws; /* the machine's refaults, NULL when not measured */
    enum psi_level node_level;
    bool node_hit; /* the machine itself is a finding */
    enum doctor_severity worst;
    size_t *hit;
    size_t nhit, healthy;
};

static void pressure_scan_cgroups(const struct node *n, struct pressure_scan *p)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    for (size_t i = 0; have_cgroups(n) && i < s->n; i++) {
        bool mine = own_psi(s, i);
        bool thrash = own_thrash(n, i);
        if (!mine && !thrash)
            continue;
        bool f;
        enum doctor_severity sev = place_severity(mine ? psi_level_of(&s->v[i].psi) : PSI_HEALTHY,
                                                  mine, cg_refaults(n, i), &f);
        if (!f) {
            p->healthy++;
            continue;
        }
        p->hit[p->nhit++] = i;
        if (!p->node_hit && p->nhit == 1)
            p->worst = sev;
        else if (sev > p->worst)
            p->worst = sev;
    }
}

/* worst first: PSI full, then some */
static void sort_worst_psi_first(const struct cgroup_snapshot *s, size_t *hit, size_t nhit)
{
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
}

static void pressure_title(const struct node *n, const struct pressure_scan *p, struct fb *b)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    bool node_thrash = p->node_ws && p->node_ws->level == THRASH_THRASHING;
    if (p->node_hit && node_thrash) {
        fb_title(b, p->worst,
                 "the machine's page cache is being re-read as fast as it is dropped: the working "
                 "set does not fit (memory pressure %s)",
                 p->node_psi ? psi_level_name(p->node_level) : "unknown: no PSI");
        return;
    }
    if (p->node_hit) {
        fb_title(b, p->worst, "memory pressure on the machine is %s (%s)",
                 psi_level_name(p->node_level), psi_level_rule(p->node_level));
        return;
    }
    size_t nthrash = 0, first = SIZE_MAX;
    for (size_t k = 0; k < p->nhit; k++) {
        const struct workingset *t = cg_refaults(n, p->hit[k]);
        if (t && t->level == THRASH_THRASHING) {
            nthrash++;
            if (first == SIZE_MAX)
                first = p->hit[k];
        }
    }
    if (nthrash)
        fb_title(b, p->worst,
                 "%s%s: the cache is being re-read as fast as it is dropped: the working set "
                 "does not fit%s",
                 s->v[first].path, nthrash > 1 ? " and others" : "",
                 p->nhit > nthrash ? "; other cgroups stall on memory" : "");
    else
        fb_title(b, p->worst, "%zu cgroup%s on memory", p->nhit,
                 p->nhit == 1 ? " stalls" : "s stall");
}

static void pressure_evidence(const struct node *n, const struct pressure_scan *p, struct fb *b)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    char w[160], rw[256];
    fb_ev(b,
          "levels (PSI, %% of time): severe = %s; sustained = %s; stalling = %s; waiting = "
          "%s; healthy below (some avg10 in low single digits is a healthy machine)",
          psi_level_rule(PSI_SEVERE), psi_level_rule(PSI_SUSTAINED), psi_level_rule(PSI_STALLING),
          psi_level_rule(PSI_WAITING));
    fb_ev(b, "thrashing = at least 1 MiB/s of page cache read again after reclaim dropped it, "
             "enough to re-read all of it within 10 s (re-reading: 64 KiB/s, within 60 s)");
    refault_words(p->node_ws, n->refaults_from_limits, rw, sizeof(rw));
    if (p->node_psi)
        fb_ev(b, "node (/proc/pressure/memory, %% avg10 avg60 avg300): %s: %s; %s",
              psi_words(&n->psi, w, sizeof(w)), psi_level_name(p->node_level), rw);
    else
        fb_ev(b, "node: no memory PSI; %s", rw);
    for (size_t k = 0; k < p->nhit && k < 6; k++) {
        const struct cgroup_memory *cg = &s->v[p->hit[k]];
        refault_words(cg_refaults(n, p->hit[k]), false, rw, sizeof(rw));
        if (own_psi(s, p->hit[k])) {
            bool other = strcmp(cg->psi_path, cg->path) != 0;
            fb_ev(b, "  %s: %s%s%s%s: %s; %s", cg->path, psi_words(&cg->psi, w, sizeof(w)),
                  other ? " (the v2 tree's " : "", other ? cg->psi_path : "", other ? ")" : "",
                  psi_level_name(psi_level_of(&cg->psi)), rw);
        } else {
            fb_ev(b, "  %s: %s", cg->path, rw);
        }
    }
    fb_more(b, p->nhit, 6);
    if (have_cgroups(n))
        fb_ev(b, "%zu cgroup%s stalled or thrashing, %zu healthy", p->nhit, p->nhit == 1 ? "" : "s",
              p->healthy);
}

static void pressure_fixes(const struct pressure_scan *p, struct fb *b)
{
    bool node_thrash = p->node_ws && p->node_ws->level == THRASH_THRASHING;
    if (node_thrash || p->nhit)
        fb_fix(b, "thrashing: give the cgroup (or the machine) room for its working set, or make "
                  "it smaller (a reader that streams: posix_fadvise DONTNEED, O_DIRECT); "
                  "oomwarden cgroup PATH shows what reclaim can take and what comes back");
    fb_fix(b, "see who stalls and why: oomwarden cgroup --sort psi; /proc/vmstat pswpin "
              "(swap-ins)");
    fb_fix(b, "give the stalled cgroup more memory, or throttle the one that takes it "
              "(memory.high), or let a userspace killer act on sustained pressure (systemd-oomd "
              "ManagedOOMMemoryPressure=kill at 60%% for 30 s, oomd)");
}

static void pressure_json(const struct node *n, const struct pressure_scan *p, struct json *j)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    json_key(j, "node");
    if (p->node_psi)
        json_psi(j, &n->psi);
    else
        json_null(j);
    json_key(j, "node_refaults");
    workingset_json(&n->refaults, j);
    json_kv_u64(j, "healthy_cgroups", p->healthy);
    json_kv_arr_begin(j, "cgroups");
    for (size_t k = 0; k < p->nhit; k++) {
        const struct cgroup_memory *cg = &s->v[p->hit[k]];
        json_obj_begin(j);
        json_kv_str(j, "path", cg->path);
        bool mine = own_psi(s, p->hit[k]);
        json_kv_str(j, "psi_path", mine ? cg->psi_path : NULL);
        json_key(j, "psi");
        if (mine)
            json_psi(j, &cg->psi);
        else
            json_null(j);
        json_key(j, "refaults");
        if (n->cg_refaults)
            workingset_json(&n->cg_refaults[p->hit[k]], j);
        else
            json_null(j);
        json_obj_end(j);
    }
    json_arr_end(j);
}

int check_pressure(const struct node *n, struct doctor_report *r)
{
    struct pressure_scan p = {
        .node_psi = n->psi_err == 0,
        .node_ws = n->refaults.measured ? &n->refaults : NULL,
    };
    if (!p.node_psi && !p.node_ws)
        return doctor_note(r, CHECK_PRESSURE, RESULT_SKIPPED,
                           "no memory PSI on this kernel (see psi-cgroups) and refaults not "
                           "measured");
    const struct cgroup_snapshot *s = &n->cgroups;
    p.node_level = p.node_psi ? psi_level_of(&n->psi) : PSI_HEALTHY;
    p.worst = place_severity(p.node_level, p.node_psi, p.node_ws, &p.node_hit);
    _cleanup_free_ size_t *hit = p.hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    pressure_scan_cgroups(n, &p);
    if (!p.node_hit && p.nhit == 0) {
        char w[160], rw[256];
        refault_words(p.node_ws, n->refaults_from_limits, rw, sizeof(rw));
        if (p.node_psi)
            return doctor_note(
                r, CHECK_PRESSURE, RESULT_OK, "node healthy (%s: %s) and %zu cgroups healthy; %s",
                psi_words(&n->psi, w, sizeof(w)), psi_level_rule(PSI_HEALTHY), p.healthy, rw);
        return doctor_note(r, CHECK_PRESSURE, RESULT_OK, "no memory PSI; %s", rw);
    }
    sort_worst_psi_first(s, p.hit, p.nhit);
    struct fb b;
    fb_begin(&b, CHECK_PRESSURE);
    pressure_title(n, &p, &b);
    pressure_evidence(n, &p, &b);
    pressure_fixes(&p, &b);
    pressure_json(n, &p, &b.j);
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

/* Why there is no memory PSI, when there is none: its title, or NULL. */
static const char *psi_missing(const struct node *n, struct fb *b)
{
    if (n->psi_err >= 0)
        return NULL;
    if (n->psi_err == -EOPNOTSUPP || cmdline_has(n, "psi=0"))
        fb_ev(b, "PSI is built in but switched off%s (reading /proc/pressure/memory: %s)",
              cmdline_has(n, "psi=0") ? ": the kernel command line has psi=0" : "",
              strerror(-n->psi_err));
    else
        fb_ev(b,
              "/proc/pressure/memory: %s: the kernel was built without CONFIG_PSI, or with "
              "CONFIG_PSI_DEFAULT_DISABLED=y and booted without psi=1",
              strerror(-n->psi_err));
    fb_fix(b, "boot with psi=1 (add it to GRUB_CMDLINE_LINUX in /etc/default/grub, then "
              "update-grub and reboot); a kernel without CONFIG_PSI needs another kernel");
    return "no memory PSI: nothing shows the stalls that come before an OOM";
}

/* Hybrid: which v1 memory cgroups have a v2 cgroup of the same path, and so PSI of their own. */
static void hybrid_psi_coverage(const struct node *n, struct fb *b)
{
    size_t with = 0, all = 0;
    for (size_t i = 0; i < n->cgroups.n; i++) {
        if (is_root(&n->cgroups.v[i]))
            continue;
        all++;
        with += n->cgroups.v[i].has_psi && n->cgroups.v[i].psi_path &&
                strcmp(n->cgroups.v[i].psi_path, n->cgroups.v[i].path) == 0;
    }
    fb_ev(b,
          "the v2 tree at %s has no memory controller but carries memory.pressure: "
          "%zu of %zu memory cgroups have a v2 cgroup of the same path (their PSI is "
          "theirs); the others only get the machine's",
          n->hier.unified.mountpoint ? n->hier.unified.mountpoint : "?", with, all);
}

/* v1 cgroups with the OOM killer disabled (the first 4 said); how many. */
static size_t oom_killer_disabled(const struct node *n, struct fb *b)
{
    size_t frozen = 0;
    for (size_t i = 0; i < n->cgroups.n; i++) {
        const struct cgroup_memory *cg = &n->cgroups.v[i];
        if (cg->oom_control.oom_kill_disable != 1)
            continue;
        if (frozen++ < 4)
            fb_ev(b,
                  "%s has the OOM killer disabled (memory.oom_control oom_kill_disable 1)%s: "
                  "at its limit its tasks sleep until memory is freed, instead of one dying",
                  cg->path,
                  cg->oom_control.under_oom == 1 ? " and is under OOM now (under_oom 1)" : "");
    }
    return frozen;
}

/* What the v1 memory controller lacks; the title, `title` unless it has none yet or a disabled
 * OOM killer leads. */
static const char *v1_controller(const struct node *n, struct fb *b, const char *title,
                                 enum doctor_severity *sev)
{
    if (!title)
        title = n->hier.layout == CGROUP_LAYOUT_V1
                    ? "cgroup v1 memory controller: no memory.high, no memory.oom.group, no "
                      "per-cgroup PSI"
                    : "hybrid cgroups: the memory controller is v1; per-cgroup PSI only "
                      "where the v2 tree has the same cgroup";
    fb_ev(b,
          "cgroup v1 memory controller at %s: no memory.high (nothing throttles before "
          "the hard limit), no memory.oom.group, no memory.events.local, and "
          "memory.oom_control can disable the OOM killer (tasks then hang at the limit)",
          n->hier.memory.mountpoint ? n->hier.memory.mountpoint : "?");
    if (n->hier.layout == CGROUP_LAYOUT_HYBRID)
        hybrid_psi_coverage(n, b);
    if (oom_killer_disabled(n, b)) {
        *sev = DOCTOR_WARNING;
        if (n->psi_err == 0) /* else the missing PSI leads */
            title = "the OOM killer is disabled in a v1 memory cgroup: its tasks hang at the "
                    "limit";
        fb_fix(b, "echo 0 > <cgroup>/memory.oom_control lets the kernel kill at the limit "
                  "again");
    }
    fb_ev(b, "Kubernetes moved cgroup v1 support to maintenance mode in 1.31; on v1 "
             "kubelet's MemoryQoS and the memory.oom.group default do not apply");
    fb_fix(b, "switch to cgroup v2: boot with systemd.unified_cgroup_hierarchy=1 (Kubernetes "
              "supports v2 since 1.25, with containerd 1.4+ or CRI-O 1.20+)");
    return title;
}

int check_psi_cgroups(const struct node *n, struct doctor_report *r)
{
    struct fb b;
    fb_begin(&b, CHECK_PSI_CGROUPS);
    const char *title = psi_missing(n, &b);
    enum doctor_severity sev = title ? DOCTOR_WARNING : DOCTOR_INFO;
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
    case CGROUP_LAYOUT_HYBRID:
        title = v1_controller(n, &b, title, &sev);
        break;
    case CGROUP_LAYOUT_V2:
        break;
    }
    if (!title) {
        fb_discard(&b);
        return doctor_note(r, CHECK_PSI_CGROUPS, RESULT_OK, "memory PSI available; cgroup v2");
    }
    fb_title(&b, sev, "%s", title);
    json_kv_str(&b.j, "layout", cgroup_layout_name(n->hier.layout));
    json_kv_bool(&b.j, "psi", n->psi_err == 0);
    if (n->psi_err < 0)
        json_kv_str(&b.j, "psi_error", strerror(-n->psi_err));
    return fb_commit(r, &b);
}

/* ---- 8. swap ------------------------------------------------------------------------------- */

int check_swap(const struct node *n, struct doctor_report *r)
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
