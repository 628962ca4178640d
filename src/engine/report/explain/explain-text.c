#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/cgroup/cgpath.h"
#include "model/workload/identity.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/workload/podnames.h"
#include "explain-int.h"

static void counter_text(struct out *o, const char *what, const struct oom_counter *c)
{
    char a[24], b[24];
    if (!opt_has(c->usage_kb))
        return;
    put(o, "%s %s", what, kb_str(a, c->usage_kb));
    if (unlimited(c->limit_kb))
        put(o, " (no limit)");
    else if (opt_has(c->limit_kb))
        put(o, " of %s", kb_str(b, c->limit_kb));
    if (opt_has(c->failcnt) && c->failcnt)
        put(o, ", failcnt %" PRIu64, c->failcnt);
}

/* Why a kill has no report of its own, in the words that fit the evidence. */
static const char *own_report_missing(const struct oom_event *e)
{
    return e->rate_limited ? "the kernel rate-limited this kill's own report"
                           : "this kill's own report is not in the text: rate-limited or cut";
}

/* A memory cgroup's limit: which cgroup, which knob, its usage, the victim's own cgroup, swap. */
static void memcg_scope_text(struct out *o, const struct oom_event *e)
{
    char a[24], b[24];
    const char *path = e->oom_memcg ? e->oom_memcg : e->stats_memcg;
    if (e->scope_inherited) {
        put(o, "a memory cgroup, as in the report before it (%s)\n", own_report_missing(e));
        return;
    }
    if (!path && e->rate_limited) {
        put(o, "a memory cgroup (the kill line says so; the report that would name it was "
               "rate-limited)\n");
        return;
    }
    put(o, "memory cgroup ");
    put_text(o, path ? path : "(path not shown)");
    bool memsw_hit = opt_has(e->memsw.usage_kb) && opt_has(e->memsw.limit_kb) &&
                     !unlimited(e->memsw.limit_kb) && e->memsw.usage_kb >= e->memsw.limit_kb;
    bool mem_hit = opt_has(e->mem.usage_kb) && opt_has(e->mem.limit_kb) &&
                   e->mem.usage_kb + 64 >= e->mem.limit_kb;
    if (memsw_hit && !mem_hit) {
        put(o, " hit memory.memsw.limit_in_bytes %s (memory+swap %s",
            kb_str(a, e->memsw.limit_kb), kb_str(b, e->memsw.usage_kb));
        if (e->memsw.failcnt && opt_has(e->memsw.failcnt))
            put(o, ", failcnt %" PRIu64, e->memsw.failcnt);
        put(o, ")\n");
    } else if (opt_has(e->mem.limit_kb)) {
        const char *knob = is_v1(e)   ? "memory.limit_in_bytes"
                           : is_v2(e) ? "memory.max"
                                      : "its memory limit";
        put(o, " hit %s %s", knob, kb_str(a, e->mem.limit_kb));
        if (opt_has(e->mem.usage_kb))
            put(o, " (usage %s", kb_str(b, e->mem.usage_kb));
        if (opt_has(e->mem.failcnt))
            put(o, "%sfailcnt %" PRIu64, opt_has(e->mem.usage_kb) ? ", " : " (",
                e->mem.failcnt);
        if (opt_has(e->mem.usage_kb) || opt_has(e->mem.failcnt))
            put(o, ")");
        put(o, "\n");
    } else {
        put(o, " hit its limit (the usage lines are not in the text)\n");
    }
    if (e->task_memcg && e->oom_memcg && strcmp(e->task_memcg, e->oom_memcg) != 0) {
        label(o, "");
        put(o, "the limit is on an ancestor: the victim's own cgroup is ");
        put_text(o, e->task_memcg);
        put(o, "\n");
    }
    /* memory+swap reads 0 when swap accounting is off (swapaccount=0) */
    bool memsw = opt_has(e->memsw.usage_kb) && opt_has(e->mem.usage_kb) &&
                 e->memsw.usage_kb >= e->mem.usage_kb;
    if (opt_has(e->swap.usage_kb) || memsw) {
        label(o, "");
        if (opt_has(e->swap.usage_kb))
            counter_text(o, "swap", &e->swap);
        else
            counter_text(o, "memory+swap", &e->memsw);
        if (opt_has(e->kmem.usage_kb)) {
            put(o, "; ");
            counter_text(o, "kmem", &e->kmem);
        }
        put(o, "\n");
    }
}

/* The whole machine: its RAM and swap as the report shows them. */
static void global_scope_text(struct out *o, const struct oom_event *e)
{
    char a[24], b[24], c[40];
    put(o, "the whole machine");
    if (e->constraint[0])
        put(o, " (%s)", e->constraint);
    if (e->scope_inherited)
        put(o, ", as in the report before it (%s)", own_report_missing(e));
    if (opt_has(e->ram_pages) && opt_has(e->page_kb)) {
        uint64_t ram =
            e->ram_pages - (opt_has(e->reserved_pages) && e->reserved_pages <= e->ram_pages
                                ? e->reserved_pages
                                : 0);
        put(o, ": %s RAM", pages_str(c, e, ram));
        if (opt_has(e->total_swap_kb)) {
            if (e->total_swap_kb == 0)
                put(o, ", no swap");
            else if (opt_has(e->free_swap_kb))
                put(o, ", swap %s free of %s", kb_str(a, e->free_swap_kb),
                    kb_str(b, e->total_swap_kb));
        }
    } else if (opt_has(e->total_swap_kb)) {
        if (e->total_swap_kb == 0)
            put(o, ": no swap");
        else if (opt_has(e->free_swap_kb))
            put(o, ": swap %s free of %s", kb_str(a, e->free_swap_kb),
                kb_str(b, e->total_swap_kb));
    }
    put(o, "\n");
}

static void scope_text(struct out *o, const struct oom_event *e)
{
    label(o, "Limit");
    switch (e->scope) {
    case OOM_SCOPE_MEMCG:
        memcg_scope_text(o, e);
        break;
    case OOM_SCOPE_GLOBAL:
        global_scope_text(o, e);
        break;
    case OOM_SCOPE_CPUSET:
        put(o, "cpuset ");
        put_text(o, e->cpuset[0] ? e->cpuset : "?");
        put(o, ": the NUMA nodes it allows (%s) ran out, not the whole machine\n",
            e->mems_allowed[0] ? e->mems_allowed : "?");
        break;
    case OOM_SCOPE_MEMPOLICY:
        put(o, "a NUMA memory policy (mbind/set_mempolicy");
        if (e->nodemask[0] && strcmp(e->nodemask, "(null)"))
            put(o, ", nodes %s", e->nodemask);
        put(o, ") ran out of its nodes, not the whole machine\n");
        break;
    case OOM_SCOPE_UNKNOWN:
        put(o, "not a memory cgroup limit; the whole machine, or a cpuset or memory policy: "
               "this report does not say which\n");
        break;
    }
}

static void asked_text(struct out *o, const struct oom_event *e)
{
    char a[24];
    label(o, "Asked");
    if (!e->header) {
        if (e->rate_limited)
            put(o, "not printed: the kernel rate-limited this report\n");
        else if (e->suppressed_reports)
            put(o, "not in the text (the report's header is cut off)\n");
        else
            put(o, "not in the text (the report's header is cut off, or was rate-limited: "
                   "dump_header() prints at most 10 reports per 5 s)\n");
        return;
    }
    put_task(o, e->invoker_comm[0] ? e->invoker_comm : "(no name)", e->invoker_pid);
    if (opt_has_i64(e->order) && e->order == -1) {
        put(o, ": SysRq-f, a manual OOM kill\n");
        return;
    }
    if (e->gfp_mask_set && e->gfp_mask == 0)
        put(o, " in a page fault (gfp_mask 0x0: pagefault_out_of_memory)");
    else if (opt_has_i64(e->order)) {
        if (e->order == 0)
            put(o, " for one page (");
        else if (opt_has(e->page_kb) && e->order > 0 && e->order <= 20)
            put(o, " for %s of contiguous memory (order %" PRId64 ", ",
                kb_str(a, e->page_kb << (e->order < 20 ? e->order : 20)), e->order);
        else
            put(o, " for an order-%" PRId64 " block (", e->order);
        if (e->gfp_mask_set) {
            put(o, "gfp_mask %#" PRIx64, e->gfp_mask);
            if (e->gfp_flags[0]) {
                put(o, " ");
                put_text(o, e->gfp_flags);
            }
        } else {
            put(o, "gfp_mask not shown");
        }
        put(o, ")");
    }
    if (opt_has_i64(e->invoker_oom_score_adj))
        put(o, ", oom_score_adj %" PRId64, e->invoker_oom_score_adj);
    put(o, "\n");
}

static void victim_memory(struct out *o, const struct oom_victim *v)
{
    char a[24], b[24], c[24], d[24];
    if (!opt_has(v->anon_rss_kb) && !opt_has(v->file_rss_kb))
        return;
    label(o, "");
    put(o, "resident %s anon", opt_has(v->anon_rss_kb) ? kb_str(a, v->anon_rss_kb) : "?");
    if (opt_has(v->file_rss_kb))
        put(o, ", %s file", kb_str(b, v->file_rss_kb));
    if (opt_has(v->shmem_rss_kb))
        put(o, ", %s shmem", kb_str(c, v->shmem_rss_kb));
    if (opt_has(v->pgtables_kb))
        put(o, "; page tables %s", kb_str(d, v->pgtables_kb));
    if (opt_has(v->total_vm_kb))
        put(o, "; virtual %s", kb_str(a, v->total_vm_kb));
    put(o, "\n");
}

/* How sure the numbers are: the kill line as the text has it. */
static void line_damage_text(struct out *o, const struct oom_victim *v)
{
    if (v->line_cut) {
        label(o, "");
        put(o, "its kill line is cut off in the text (a terminal's width, or a copy): what comes "
               "after the cut is not known\n");
    }
    if (v->line_rejoined) {
        label(o, "");
        put(o, "its kill line was broken across lines in the text and is read joined: a number "
               "split at the break may be misread\n");
    }
}

static bool same_task(const struct oom_event *e, const struct oom_victim *v)
{
    if (!e->header)
        return false;
    if (opt_has_i64(e->invoker_pid))
        return v->pid == e->invoker_pid;
    return false;
}

static void killed_text(struct out *o, const struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    label(o, "Killed");
    if (!v) {
        if (e->no_killable)
            put(o, "nothing: no process could be killed (all at oom_score_adj -1000, exiting, "
                   "or kernel threads)\n");
        else if (e->panic[0])
            put(o, "nothing: the kernel panicked instead (see below)\n");
        else if (e->selected_set) {
            put(o, "chose ");
            put_task(o, e->selected_comm, e->selected_pid);
            if (opt_has_i64(e->selected_score))
                put(o, ", score %" PRId64, e->selected_score);
            put(o, "; the kill line is not in the text\n");
        } else
            put(o, "not in the text (the report is cut before the kill line)\n");
        return;
    }
    if (v->kind == OOM_VICTIM_EXITING) {
        style(o, STYLE_BOLD);
        put_task(o, v->comm, v->pid);
        unstyle(o);
        put(o, " was chosen but was already exiting: the kernel let it finish instead of "
               "killing\n");
        return;
    }
    style(o, STYLE_BOLD_RED);
    put_task(o, v->comm, v->pid);
    unstyle(o);
    if (opt_has_i64(v->uid))
        put(o, ", uid %" PRId64, v->uid);
    if (opt_has_i64(v->oom_score_adj))
        put(o, ", oom_score_adj %" PRId64, v->oom_score_adj);
    else if (v->has_row && opt_has_i64(v->row.oom_score_adj))
        put(o, ", oom_score_adj %" PRId64 " (task table)", v->row.oom_score_adj);
    bool same_name = e->invoker_comm[0] && !strcmp(e->invoker_comm, v->comm);
    if (same_task(e, v))
        put(o, ": the task that asked");
    else if (e->header && v->kind != OOM_VICTIM_CHILD) {
        if (!opt_has_i64(e->invoker_pid) && same_name)
            put(o, ": the task that asked has the same name");
        else if (same_name)
            put(o, ": not the task that asked (pid %" PRId64 ", of the same name)", e->invoker_pid);
        else
            put(o, ": not the task that asked");
    }
    put(o, "\n");
    if (v->kind == OOM_VICTIM_CHILD) {
        label(o, "");
        put(o, "the killer chose ");
        put_task(o, e->selected_comm, e->selected_pid);
        if (opt_has_i64(e->selected_score))
            put(o, ", score %" PRId64, e->selected_score);
        put(o, ", and killed this child of it instead: until 5.1 the kernel sacrificed a child "
               "with memory of its own (the first one found before 2.6.36, the one with the "
               "highest badness after)\n");
    }
    victim_memory(o, v);
    line_damage_text(o, v);
}

static void memory_text(struct out *o, const struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    if (!v || v->kind == OOM_VICTIM_EXITING || !opt_has(v->anon_rss_kb))
        return;
    uint64_t anon = v->anon_rss_kb, file = opt_has(v->file_rss_kb) ? v->file_rss_kb : 0;
    uint64_t shmem = opt_has(v->shmem_rss_kb) ? v->shmem_rss_kb : 0;
    uint64_t total = anon + file + shmem;
    bool no_swap =
        (e->scope == OOM_SCOPE_GLOBAL && opt_has(e->free_swap_kb) && e->free_swap_kb == 0) ||
        (opt_has(e->swap.limit_kb) && e->swap.limit_kb == 0);
    label(o, "Memory");
    if (total < 1024) {
        char a[24];
        put(o, "it held only %s resident: killing it freed almost nothing\n", kb_str(a, total));
        return;
    }
    if (anon * 10 >= total * 9) {
        put(o, "anonymous memory (heap, stacks): %s; only the kill frees it\n",
            no_swap ? "nothing could reclaim it, there was no swap to move it to"
                    : "reclaim could only have swapped it out");
    } else if (file * 2 >= total) {
        put(o, "mostly file pages (mapped files): reclaim can drop clean ones, so these were in "
               "active use or dirty when reclaim gave up\n");
    } else if (shmem * 2 >= total) {
        put(o, "mostly shmem/tmpfs: it stays allocated while the files or segments exist, even "
               "after the kill\n");
    } else {
        char a[24], b[24];
        put(o, "anonymous memory, which only the kill frees");
        if (file * 10 >= total)
            put(o, "; %s of file pages, which reclaim could have dropped", kb_str(a, file));
        if (shmem * 10 >= total)
            put(o, "; %s of shmem, which stays while its tmpfs files or segments exist",
                kb_str(b, shmem));
        put(o, "\n");
    }
}

static void cgroup_text(struct out *o, const struct oom_event *e)
{
    char a[24];
    if (e->scope != OOM_SCOPE_MEMCG || (!opt_has(e->stat_anon) && !opt_has(e->stat_file)))
        return;
    label(o, "Cgroup");
    const char *sep = "";
    struct {
        const char *name;
        uint64_t v;
    } s[] = {{"anon", e->stat_anon}, {"file", e->stat_file},   {"kernel", e->stat_kernel},
             {"slab", e->stat_slab}, {"shmem", e->stat_shmem}, {"sock", e->stat_sock},
             {"swap", e->stat_swap}};
    put(o, "charged at the OOM: ");
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        if (!opt_has(s[i].v))
            continue;
        put(o, "%s%s %s", sep, s[i].name, fmt_size_long(a, s[i].v));
        sep = ", ";
    }
    put(o, "\n");
    if (opt_has(e->stat_kernel) && opt_has(e->stat_anon) &&
        e->stat_kernel * 4 > e->stat_anon + (opt_has(e->stat_file) ? e->stat_file : 0)) {
        label(o, "");
        put(o, "kernel memory (slab, stacks, page tables, sockets) is a large part of the "
               "charge, and killing a process frees little of it\n");
    }
}

static void machine_text(struct out *o, const struct oom_event *e)
{
    char a[40], b[40], c[40];
    if (e->scope == OOM_SCOPE_MEMCG || !e->meminfo || !opt_has(e->mi_active_anon))
        return;
    uint64_t anon = e->mi_active_anon + (opt_has(e->mi_inactive_anon) ? e->mi_inactive_anon : 0);
    uint64_t file = (opt_has(e->mi_active_file) ? e->mi_active_file : 0) +
                    (opt_has(e->mi_inactive_file) ? e->mi_inactive_file : 0);
    uint64_t slab = (opt_has(e->mi_slab_reclaimable) ? e->mi_slab_reclaimable : 0) +
                    (opt_has(e->mi_slab_unreclaimable) ? e->mi_slab_unreclaimable : 0);
    if (!opt_has(e->mi_slab_reclaimable) && opt_has(e->mi_slab))
        slab = e->mi_slab; /* before 2.6.3x: one "slab:" count */
    label(o, "Machine");
    put(o, "anon %s, file %s, slab %s", pages_str(a, e, anon), pages_str(b, e, file),
        pages_str(c, e, slab));
    if (opt_has(e->mi_shmem))
        put(o, ", shmem %s", pages_str(a, e, e->mi_shmem));
    if (opt_has(e->mi_free))
        put(o, ", free %s", pages_str(b, e, e->mi_free));
    put(o, "\n");
    if (opt_has(e->mi_slab_unreclaimable) && e->mi_slab_unreclaimable > anon + file) {
        label(o, "");
        put(o,
            "unreclaimable slab (%s) exceeds all user memory: kernel memory, not a "
            "process, filled the machine, and killing processes frees little of it\n",
            pages_str(a, e, e->mi_slab_unreclaimable));
    }
}

static void reaper_text(struct out *o, const struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    char a[24], b[24], c[24];
    if (!v || v->kind == OOM_VICTIM_EXITING)
        return;
    label(o, "Reaper");
    if (v->reaped == 1) {
        put(o, "the oom_reaper took its memory back");
        if (opt_has(v->reaped_anon_kb))
            put(o, " (left: anon %s, file %s, shmem %s)", kb_str(a, v->reaped_anon_kb),
                opt_has(v->reaped_file_kb) ? kb_str(b, v->reaped_file_kb) : "?",
                opt_has(v->reaped_shmem_kb) ? kb_str(c, v->reaped_shmem_kb) : "?");
        put(o, "\n");
    } else if (v->reaped == 0 && v->unable_to_reap) {
        put(o, "the oom_reaper could not take its memory: it came back only when the victim "
               "finished exiting\n");
    } else if (v->reaped == 0) {
        put(o, "no oom_reaper line where the text would show one: the victim exited and freed "
               "its memory itself\n");
    } else {
        put(o, "not shown in the text\n");
    }
}

static void group_text(struct out *o, const struct oom_event *e)
{
    if (!e->group_memcg)
        return;
    label(o, "Group");
    put(o, "memory.oom.group is set on ");
    put_text(o, e->group_memcg);
    size_t n = 0;
    for (size_t i = 0; i < e->nvictims; i++)
        n += e->victims[i].kind == OOM_VICTIM_GROUP;
    /* oom_kill_memcg_member() (4.19+) skips oom_score_adj -1000: the cgroup is gone only when
     * the task table, which lists every task the OOM could see, has none at -1000 */
    if (e->table && !e->table_inferred && e->ntasks_adj_min == 0)
        put(o, ": the whole cgroup went, %zu more process%s", n, n == 1 ? "" : "es");
    else
        put(o, ": every process in it went but any at oom_score_adj -1000, %zu more", n);
    size_t shown = 0;
    for (size_t i = 0; i < e->nvictims && shown < 8; i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->kind != OOM_VICTIM_GROUP)
            continue;
        put(o, "%s", shown ? ", " : ": ");
        put_task(o, v->comm, v->pid);
        shown++;
    }
    if (n > shown)
        put(o, ", ...");
    put(o, "\n");
    if (e->ntasks_adj_min > 0) {
        size_t m = e->ntasks_adj_min;
        label(o, "");
        put(o, "the task table lists %zu task%s at oom_score_adj -1000", m, m == 1 ? "" : "s");
        size_t named = 0;
        for (size_t i = 0; i < e->nrows && named < 4; i++) {
            const struct oom_task *r = &e->rows[i];
            if (r->oom_score_adj != -1000)
                continue;
            put(o, ", ");
            put_task(o, r->name, r->pid);
            named++;
        }
        if (named && named < m)
            put(o, ", ...");
        put(o, m == 1 ? ": the kernel spares it, so if it is in the cgroup it is still there\n"
                      : ": the kernel spares them, so those in the cgroup are still there\n");
    }
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].kind == OOM_VICTIM_GROUP && e->victims[i].pid == 1) {
            label(o, "");
            put(o, "the group kill took pid 1 (init), which was in the cgroup: the machine "
                   "panics (\"Attempted to kill init!\"); later kernels spare init here\n");
            break;
        }
}

static void shared_text(struct out *o, const struct oom_event *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nvictims; i++)
        n += e->victims[i].kind == OOM_VICTIM_SHARED_MM;
    if (!n)
        return;
    label(o, "Shared");
    put(o, "%zu more process%s sharing its memory (CLONE_VM) killed with it\n", n,
        n == 1 ? "" : "es");
}

static void workload_text(struct out *o, const struct oom_event *e, const struct podnames *names)
{
    const char *cg = e->task_memcg ? e->task_memcg : e->oom_memcg;
    if (!cg)
        return;
    struct identity id;
    podnames_identity(names, cg, &id);
    struct buf d = BUF_INIT(1024);
    if (identity_describe(&id, &d) == 0 && d.len) {
        label(o, "Workload");
        put_text(o, buf_cstr(&d));
        put(o, "\n");
    }
    buf_release(&d);
}

static void table_text(struct out *o, const struct oom_event *e)
{
    char a[40];
    if (!e->table || !e->ntasks)
        return;
    label(o, "Tasks");
    put(o, "%zu listed", e->ntasks);
    if (e->ntasks_adj_min)
        put(o, " (%zu at oom_score_adj -1000, never killed)", e->ntasks_adj_min);
    size_t shown = 0;
    for (size_t i = 0; i < e->nrows && shown < 3; i++) {
        const struct oom_task *r = &e->rows[i];
        if (!opt_has(r->rss))
            continue;
        put(o, "%s", shown ? ", " : "; largest: ");
        put_text(o, r->name);
        put(o, " %s", pages_str(a, e, r->rss));
        shown++;
    }
    put(o, "\n");
}

static void notes_text(struct out *o, const struct oom_event *e)
{
    if (e->no_killable && !oom_event_primary(e)) {
        label(o, "Outcome");
        if (e->scope == OOM_SCOPE_MEMCG)
            put(o, "nothing killable in the cgroup: its tasks wait in the OOM loop until memory "
                   "is freed or the limit is raised\n");
        else
            put(o, "nothing killable: a global OOM with no victim panics (\"System is "
                   "deadlocked on memory\")\n");
    }
    if (e->panic[0]) {
        label(o, "Panic");
        if (!strcmp(e->panic, "system-wide"))
            put(o, "vm.panic_on_oom=1: the kernel panicked instead of killing\n");
        else if (!strcmp(e->panic, "compulsory"))
            put(o, "vm.panic_on_oom=2: the kernel panicked instead of killing, cgroup OOMs "
                   "included\n");
        else if (!strcmp(e->panic, "panic_on_oom"))
            put(o, "vm.panic_on_oom is set: the kernel panicked instead of killing\n");
        else
            put(o, "the kernel panicked: \"System is deadlocked on memory\"\n");
    }
    if (e->header && e->gfp_mask_set && e->gfp_mask == 0 && e->scope != OOM_SCOPE_MEMCG &&
        opt_has(e->mi_free) && opt_has(e->ram_pages) && e->mi_free * 10 > e->ram_pages) {
        /* pagefault_out_of_memory(): before 5.16 (60e2793d440a) a page fault that got
         * VM_FAULT_OOM invoked the global killer when no memcg OOM was pending, for instance
         * when a cgroup's kernel-memory charge failed */
        char a[40];
        label(o, "Note");
        put(o,
            "%s was free: RAM was not short. A page fault failed to get memory (gfp_mask 0x0) "
            "and, before 5.16, that invoked the machine-wide killer anyway; a cgroup's failed "
            "kernel-memory (kmem) charge can do this (look for \"SLUB: Unable to allocate\" "
            "lines)\n",
            pages_str(a, e, e->mi_free));
    }
    if (e->rate_limited) {
        label(o, "Report");
        put(o, "rate-limited by the kernel (dump_header() prints at most 10 OOM reports per 5 s): "
               "only the kill line was printed, so the limit, the task that asked and the other "
               "candidates are not in the log\n");
    }
    if (e->suppressed_reports) {
        label(o, "Note");
        put(o,
            "%" PRIu64 " earlier report%s were rate-limited just before this one (their kills "
            "printed only the kill line)\n",
            e->suppressed_reports, e->suppressed_reports == 1 ? "" : "s");
    }
    if (e->elided) {
        label(o, "Note");
        put(o, "the text has gaps inside this report (elided lines)\n");
    }
    const struct oom_victim *v = oom_event_primary(e);
    if (v && v->pgtables_were_bytes) {
        label(o, "Note");
        put(o, "the kill line printed pgtables in bytes (an early 5.4.y bug); shown in kB\n");
    }
}

static const char *range_of(const char *field)
{
    return !strcmp(field, "oom_score_adj") ? "-1000..1000"
           : !strcmp(field, "oom_adj")     ? "-17..15"
           : !strcmp(field, "uid")         ? "0..4294967294"
           : !strcmp(field, "pid")         ? "1..4194304"
           : !strcmp(field, "order")       ? "-1..20"
                                           : "its range";
}

static void impossible_list(struct out *o, const char *where, const struct oom_impossible *list,
                            size_t n, bool *first)
{
    for (size_t i = 0; i < n; i++) {
        put(o, "%s%s %s %" PRId64 " (outside %s)", *first ? "" : "; ", where, list[i].field,
            list[i].value, range_of(list[i].field));
        *first = false;
    }
}

/* Numbers no kernel prints: said as damage, not as facts (the fields are left out). */
static void impossible_text(struct out *o, const struct oom_event *e)
{
    size_t nv = 0;
    for (size_t i = 0; i < e->nvictims; i++)
        nv += e->victims[i].nimpossible;
    if (!nv && !e->nimpossible && !e->impossible_rows)
        return;
    label(o, "Damaged");
    put(o, "values no kernel prints, so the text is damaged there and they are left out: ");
    bool first = true;
    impossible_list(o, "the header's", e->impossible, e->nimpossible, &first);
    for (size_t i = 0; i < e->nvictims; i++)
        impossible_list(o, "a kill line's", e->victims[i].impossible, e->victims[i].nimpossible,
                        &first);
    if (e->impossible_rows)
        put(o, "%s%zu task-table row%s oom_score_adj (outside -1000..1000)", first ? "" : "; ",
            e->impossible_rows, e->impossible_rows == 1 ? "'s" : "s'");
    put(o, "\n");
}

static void title_text(struct out *o, const struct oom_event *e, size_t index, size_t total)
{
    style(o, STYLE_BOLD);
    const struct oom_victim *v = oom_event_primary(e);
    /* index 0: a single event in a stream (watch), not numbered */
    if (e->record != OOM_RECORD_KERNEL)
        put(o, !index ? "OOM kill" : total ? "OOM kill %zu of %zu" : "OOM kill %zu", index, total);
    else if (v && v->kind != OOM_VICTIM_EXITING)
        put(o, !index ? "OOM kill" : total ? "OOM kill %zu of %zu" : "OOM kill %zu", index, total);
    else if (!v && e->selected_set)
        /* a task was chosen: the kill line was cut or left out of the text, not missing */
        put(o,
            !index  ? "OOM kill (kill line not in the text)"
            : total ? "OOM kill %zu of %zu (kill line not in the text)"
                    : "OOM kill %zu (kill line not in the text)",
            index, total);
    else
        put(o, !index ? "OOM (no kill)" : total ? "OOM %zu of %zu (no kill)" : "OOM %zu (no kill)",
            index, total);
    if (e->record == OOM_RECORD_SYSTEMD)
        put(o, ", systemd's record");
    else if (e->record != OOM_RECORD_KERNEL)
        put(o, " by %s", explain_killer_name(e));
    unstyle(o);
    if (e->time[0]) {
        put(o, ": ");
        put_text(o, e->time);
    }
    if (opt_has(e->uptime_us)) {
        put(o, "%suptime %" PRIu64 ".%06" PRIu64 " s", e->time[0] ? " (" : ": ",
            e->uptime_us / 1000000, e->uptime_us % 1000000);
        if (!e->time[0] && o->st && o->st->boot_wall > 0) {
            /* printk stamps stop during suspend, like CLOCK_MONOTONIC: "about" */
            time_t t = (time_t)(o->st->boot_wall + (double)e->uptime_us / 1e6);
            struct tm tm;
            char when[64];
            if (localtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm))
                put(o, ", about %s", when);
        }
        if (e->time[0])
            put(o, ")");
    }
    if (!e->time[0] && !opt_has(e->uptime_us))
        put(o, ": no time in the text");
    if (e->kernel_release[0])
        put(o, ", kernel %s", e->kernel_release);
    put(o, "\n");
}

/* A kill line whose report was rate-limited or cut: only what it says. */
static bool compact_event(const struct oom_event *e)
{
    return e->nvictims && !e->header && !e->table && !e->meminfo && !e->summary &&
           !opt_has(e->mem.usage_kb) && !e->oom_memcg;
}

int explain_event_text(const struct oom_event *e, size_t index, size_t total,
                       const struct explain_style *st, struct buf *b)
{
    struct out o = {.b = b, .st = st};
    bool compact = compact_event(e);
    title_text(&o, e, index, total);
    if (e->record != OOM_RECORD_KERNEL) {
        user_event_text(&o, e);
        return o.err;
    }
    if (!compact || e->scope != OOM_SCOPE_UNKNOWN)
        scope_text(&o, e);
    if (!compact)
        asked_text(&o, e);
    killed_text(&o, e);
    unit_text(&o, e);
    why_text(&o, e, compact);
    if (!compact)
        memory_text(&o, e);
    if (!compact || oom_event_primary(e)->reaped >= 0)
        reaper_text(&o, e);
    group_text(&o, e);
    shared_text(&o, e);
    cgroup_text(&o, e);
    machine_text(&o, e);
    table_text(&o, e);
    workload_text(&o, e, st->names);
    notes_text(&o, e);
    impossible_text(&o, e);
    return o.err;
}
