#include "doctor-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    [CHECK_GUARD_BAND] = {"guard-band", "memory.high set by oomwarden's guard band (the agent)"},
};

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
                      : doctor_note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_LIMITS:
            e = cgroups ? check_limits(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_MEMORY_HIGH:
            e = cgroups ? check_memory_high(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_OOM_GROUP:
            e = cgroups ? check_oom_group(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "%s", nocg);
            break;
        case CHECK_PAGE_CACHE:
            e = cgroups ? check_page_cache(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "%s", nocg);
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
            e = procs ? check_oom_daemon(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_ADJ:
            e = procs ? check_adj(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "processes not read");
            break;
        case CHECK_RECENT_KILLS:
            e = check_recent_kills(n, &r);
            break;
        case CHECK_KERNEL_LOG:
            e = check_kernel_log(n, &r);
            break;
        case CHECK_GUARD_BAND:
            e = cgroups ? check_guard_band(n, &r) : doctor_note(&r, c, RESULT_SKIPPED, "%s", nocg);
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
    json_kv_strv(j, "evidence", f->evidence, f->nevidence);
    json_kv_strv(j, "fix", f->fix, f->nfix);
    json_key(j, "data");
    json_raw(j, f->data ? f->data : "{}", f->data ? strlen(f->data) : 2);
    json_obj_end(j);
}
