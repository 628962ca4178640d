#include "doctor-int.h"
#include "base/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/report/explain/explain.h"

/* ---- 9. sysctl ----------------------------------------------------------------------------- */

/* A finding's title and severity as the sysctls are looked at in turn: the first at the
 * highest severity leads. */
struct sysctl_verdict {
    enum doctor_severity sev;
    const char *title;
};

static void sysctl_panic_on_oom(const struct sysctls *k, struct sysctl_verdict *v, struct fb *b)
{
    bool always = k->panic_on_oom >= 2;
    v->sev = always ? DOCTOR_CRITICAL : DOCTOR_WARNING;
    v->title = always ? "vm.panic_on_oom=2: every OOM panics the machine, a container at its "
                        "limit included"
                      : "vm.panic_on_oom=1: a machine-wide OOM panics the machine instead of "
                        "killing a process";
    fb_ev(b,
          "vm.panic_on_oom=%" PRIu64 ": %s; the report is printed, then \"Kernel panic - not "
          "syncing: Out of memory: %s panic_on_oom is enabled\"",
          k->panic_on_oom,
          always ? "memory cgroup, cpuset and machine-wide OOMs all panic"
                 : "machine-wide OOMs (CONSTRAINT_NONE) panic; memory cgroup, cpuset and "
                   "mempolicy OOMs still kill",
          always ? "compulsory" : "system-wide");
    if (opt_has_i64(k->panic))
        fb_ev(b, "kernel.panic=%" PRId64 ": %s", k->panic,
              k->panic == 0  ? "the machine then hangs until someone resets it"
              : k->panic < 0 ? "the machine then reboots at once"
                             : "the machine then reboots after that many seconds");
    fb_fix(b, "sysctl -w vm.panic_on_oom=0, and make it stick: echo 'vm.panic_on_oom = 0' > "
              "/etc/sysctl.d/90-oom.conf (unless a reboot is what you want from an OOM)");
}

static void sysctl_allocating_task(const struct sysctls *k, struct sysctl_verdict *v, struct fb *b)
{
    if (v->sev < DOCTOR_WARNING) {
        v->sev = DOCTOR_WARNING;
        v->title = "vm.oom_kill_allocating_task=1: a machine-wide OOM kills whoever asked for "
                   "memory last, not the biggest";
    }
    fb_ev(b,
          "vm.oom_kill_allocating_task=%" PRIu64 ": in a machine-wide OOM the kernel "
          "kills the task that tried to allocate (\"Out of memory "
          "(oom_kill_allocating_task)\") unless it is at -1000 or unkillable; the "
          "badness ranking is not used, so the victim is whoever was unlucky",
          k->oom_kill_allocating_task);
    fb_fix(b, "sysctl -w vm.oom_kill_allocating_task=0 (and in /etc/sysctl.d/)");
}

static void sysctl_overcommit(const struct node *n, struct sysctl_verdict *v, struct fb *b)
{
    const struct sysctls *k = &n->sysctl;
    char a[24], c[24];
    if (opt_has(k->overcommit_memory) && k->overcommit_memory == 2) {
        uint64_t lim = or0(n->mem.commit_limit), as = or0(n->mem.committed_as);
        bool tight = lim && fmt_percent(as, lim) >= 90;
        if (tight && v->sev < DOCTOR_WARNING) {
            v->sev = DOCTOR_WARNING;
            v->title = "vm.overcommit_memory=2 and the commit limit is nearly reached: "
                       "allocations will fail with ENOMEM";
        } else if (!v->title) {
            v->title = "vm.overcommit_memory=2: allocations fail with ENOMEM at the commit limit "
                       "instead of ending in the OOM killer";
        }
        bool by_kbytes = opt_has(k->overcommit_kbytes) && k->overcommit_kbytes;
        fb_ev(b,
              "vm.overcommit_memory=2 (never overcommit): CommitLimit %s = swap + (RAM - huge "
              "pages) x %s; Committed_AS %s (%u%%); beyond it malloc/mmap fail with ENOMEM",
              szl(a, lim), by_kbytes ? "vm.overcommit_kbytes" : "vm.overcommit_ratio %", szl(c, as),
              fmt_percent(as, lim));
        if (opt_has(k->overcommit_ratio) && !by_kbytes)
            fb_ev(b, "vm.overcommit_ratio=%" PRIu64 "%%", k->overcommit_ratio);
    } else if (opt_has(k->overcommit_memory) && k->overcommit_memory == 1) {
        if (!v->title)
            v->title = "vm.overcommit_memory=1: allocations never fail, every shortfall ends in "
                       "the OOM killer";
        fb_ev(b, "vm.overcommit_memory=1 (always overcommit): mmap/malloc never fail for lack of "
                 "memory; a shortfall is found when pages are touched, and the OOM killer "
                 "settles it");
    }
}

static void sysctl_json(const struct node *n, struct json *j)
{
    const struct sysctls *k = &n->sysctl;
    json_kv_u64_opt(j, "panic_on_oom", k->panic_on_oom);
    json_kv_u64_opt(j, "oom_kill_allocating_task", k->oom_kill_allocating_task);
    json_kv_u64_opt(j, "overcommit_memory", k->overcommit_memory);
    json_kv_u64_opt(j, "overcommit_ratio", k->overcommit_ratio);
    json_kv_u64_opt(j, "overcommit_kbytes", k->overcommit_kbytes);
    json_kv_u64_opt(j, "oom_dump_tasks", k->oom_dump_tasks);
    json_kv_u64_opt(j, "commit_limit", n->mem.commit_limit);
    json_kv_u64_opt(j, "committed_as", n->mem.committed_as);
}

int check_sysctl(const struct node *n, struct doctor_report *r)
{
    const struct sysctls *k = &n->sysctl;
    struct fb b;
    fb_begin(&b, CHECK_SYSCTL);
    struct sysctl_verdict v = {.sev = DOCTOR_INFO};
    if (opt_has(k->panic_on_oom) && k->panic_on_oom)
        sysctl_panic_on_oom(k, &v, &b);
    if (opt_has(k->oom_kill_allocating_task) && k->oom_kill_allocating_task)
        sysctl_allocating_task(k, &v, &b);
    sysctl_overcommit(n, &v, &b);
    if (opt_has(k->oom_dump_tasks) && k->oom_dump_tasks == 0) {
        if (!v.title)
            v.title = "vm.oom_dump_tasks=0: OOM reports carry no task table";
        fb_ev(&b, "vm.oom_dump_tasks=0: the kernel's OOM reports do not list the candidates, so "
                  "`oomwarden explain` cannot show who else the killer weighed");
        fb_fix(&b, "sysctl -w vm.oom_dump_tasks=1 (the default)");
    }
    sysctl_json(n, &b.j);
    if (!v.title) {
        fb_discard(&b);
        if (!opt_has(k->panic_on_oom) && !opt_has(k->overcommit_memory))
            return doctor_note(r, CHECK_SYSCTL, RESULT_SKIPPED, "%s is not readable",
                               sysroot_path(n->sr, "/proc/sys/vm"));
        return doctor_note(
            r, CHECK_SYSCTL, RESULT_OK,
            "vm.panic_on_oom=0, vm.oom_kill_allocating_task=0, vm.overcommit_memory=%" PRIu64
            " (heuristic)",
            or0(k->overcommit_memory));
    }
    fb_title(&b, v.sev, "%s", v.title);
    return fb_commit(r, &b);
}

/* ---- 12. recent OOM kills ---------------------------------------------------------------------
 */

/* The kernel log's OOM events, counted. */
struct kill_counts {
    size_t kills, global, memcg, groups;
    uint64_t last_global_us; /* uptime of the last machine-wide OOM, OPT_ABSENT */
};

static void kill_counts_of(const struct oomlog *log, struct kill_counts *c)
{
    *c = (struct kill_counts){.last_global_us = OPT_ABSENT};
    for (size_t i = 0; i < log->nevents; i++) {
        const struct oom_event *e = &log->events[i];
        for (size_t k = 0; k < e->nvictims; k++)
            c->kills += e->victims[k].kind != OOM_VICTIM_EXITING;
        /* the group kill kills (and counts in vmstat) the victim a second time */
        c->groups += e->group_memcg != NULL;
        if (e->scope == OOM_SCOPE_GLOBAL) {
            c->global++;
            if (opt_has(e->uptime_us))
                c->last_global_us = e->uptime_us;
        } else if (e->scope == OOM_SCOPE_MEMCG) {
            c->memcg++;
        }
    }
}

/* One event: its line (how long ago, then explain's one-line form) and its JSON object. */
static void recent_kill(const struct node *n, const struct oom_event *e, struct fb *b)
{
    char a[24];
    struct buf line = BUF_INIT(CAP_TEXT_LINE);
    if (opt_has(e->uptime_us) && opt_has(n->now_us) && n->now_us >= e->uptime_us)
        buf_printf(&line, "  %s ago: ", fmt_duration(a, (double)(n->now_us - e->uptime_us) / 1e6));
    else if (e->time[0])
        buf_printf(&line, "  %s: ", e->time);
    else
        buf_puts(&line, "  ");
    explain_event_line(e, &n->names, false, &line);
    fb_ev(b, "%s", buf_cstr(&line));
    buf_release(&line);
    const struct oom_victim *v = oom_event_primary(e);
    struct json *j = &b->j;
    json_obj_begin(j);
    json_kv_str(j, "scope", oom_scope_name(e->scope));
    json_kv_u64_opt(j, "uptime_us", e->uptime_us);
    json_kv_str(j, "oom_memcg", e->oom_memcg);
    json_kv_str(j, "task_memcg", e->task_memcg);
    if (v) {
        json_kv_i64_opt(j, "pid", v->pid);
        json_kv_str(j, "comm", v->comm);
    } else {
        json_kv_null(j, "pid");
        json_kv_null(j, "comm");
    }
    json_obj_end(j);
}

/* explain's words for each cascade in the log; how many there are. */
static size_t recent_cascades(const struct node *n, struct fb *b)
{
    struct cascade *cas = NULL;
    size_t ncas = 0;
    if (explain_cascades(n->log->events, n->log->nevents, &n->names, &cas, &ncas) < 0)
        return 0;
    for (size_t i = 0; i < ncas; i++) {
        struct buf t = BUF_INIT(CAP_TEXT_LINE);
        if (explain_cascade_text(&cas[i], &t) == 0) {
            if (t.len && t.data[t.len - 1] == '\n')
                t.data[--t.len] = '\0';
            fb_ev(b, "cascade: %s", buf_cstr(&t));
        }
        buf_release(&t);
    }
    free(cas);
    return ncas;
}

int check_recent_kills(const struct node *n, struct doctor_report *r)
{
    if (!n->log || n->log_err < 0)
        return doctor_note(r, CHECK_RECENT_KILLS, RESULT_SKIPPED,
                           "the kernel log could not be read (see "
                           "kernel-log)");
    const struct oomlog *log = n->log;
    struct kill_counts c;
    kill_counts_of(log, &c);
    uint64_t since_boot = n->vmstat_err == 0 ? n->vmstat.oom_kill : OPT_ABSENT;
    if (log->nevents == 0 && (!opt_has(since_boot) || since_boot == 0))
        return doctor_note(r, CHECK_RECENT_KILLS, RESULT_OK, "no OOM kill since boot");
    struct fb b;
    fb_begin(&b, CHECK_RECENT_KILLS);
    bool recent_global = c.global && opt_has(c.last_global_us) && opt_has(n->now_us) &&
                         n->now_us >= c.last_global_us &&
                         n->now_us - c.last_global_us < 24ull * 3600 * 1000000;
    if (log->nevents == 0)
        fb_title(&b, DOCTOR_WARNING,
                 "%" PRIu64 " OOM kill%s since boot (/proc/vmstat oom_kill), none left in the "
                 "kernel log",
                 since_boot, since_boot == 1 ? "" : "s");
    else
        fb_title(&b, recent_global ? DOCTOR_CRITICAL : DOCTOR_WARNING,
                 "%zu OOM kill%s in the kernel log: %zu machine-wide OOM%s, %zu in "
                 "memory cgroups%s",
                 c.kills, c.kills == 1 ? "" : "s", c.global, c.global == 1 ? "" : "s", c.memcg,
                 recent_global ? ": the machine itself ran out of memory in the last 24 hours"
                               : "");
    if (opt_has(since_boot) && since_boot > c.kills + c.groups)
        fb_ev(&b,
              "/proc/vmstat oom_kill counts %" PRIu64 " since boot; the kernel log still "
              "holds %zu of them (older reports were overwritten)",
              since_boot, c.kills);
    size_t first = log->nevents > 6 ? log->nevents - 6 : 0;
    if (first)
        fb_ev(&b, "the last 6 of %zu events:", log->nevents);
    json_kv_arr_begin(&b.j, "events");
    for (size_t i = first; i < log->nevents; i++)
        recent_kill(n, &log->events[i], &b);
    json_arr_end(&b.j);
    size_t ncas = recent_cascades(n, &b);
    json_kv_u64(&b.j, "events", log->nevents);
    json_kv_u64(&b.j, "kills", c.kills);
    json_kv_u64(&b.j, "global", c.global);
    json_kv_u64(&b.j, "memcg", c.memcg);
    json_kv_u64(&b.j, "cascades", ncas);
    json_kv_u64_opt(&b.j, "vmstat_oom_kill", since_boot);
    fb_fix(&b, "each report in words: oomwarden explain (--since 1h, --json)");
    if (c.global)
        fb_fix(&b, "machine-wide OOMs: see the kill-order and limits findings for why the machine "
                   "and not a cgroup ran out");
    return fb_commit(r, &b);
}

/* ---- 13. the kernel log ------------------------------------------------------------------------
 */

int check_kernel_log(const struct node *n, struct doctor_report *r)
{
    if (n->log && n->log_err == 0) {
        if (n->log_live && n->log_stats.lost)
            return doctor_note(r, CHECK_KERNEL_LOG, RESULT_OK,
                               "readable; %" PRIu64 " records were overwritten while it was read",
                               n->log_stats.lost);
        return doctor_note(r, CHECK_KERNEL_LOG, RESULT_OK, "%s is readable (%s)",
                           sysroot_path(n->sr, "/dev/kmsg"),
                           n->log_live ? "the device" : "a saved copy");
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
