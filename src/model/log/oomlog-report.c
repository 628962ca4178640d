/*
 * The report state machine: what each kind of line does to the open event (or to a new one).
 * dump_header() prints a report in sections (the header and dump_stack, the memcg counters and
 * stats, Mem-Info, the task table, the summary) and oom_kill_process() the kill lines after it;
 * the event's `state` is the section the next unnamed line belongs to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "oomlog-int.h"

/* `*v` is within [lo, hi], or it is recorded as impossible and left absent. */
static void check_range(int64_t *v, int64_t lo, int64_t hi, const char *field,
                        struct oom_impossible *list, size_t *n)
{
    if (!opt_has_i64(*v) || (*v >= lo && *v <= hi))
        return;
    if (*n < OOMLOG_IMPOSSIBLE_MAX)
        list[(*n)++] = (struct oom_impossible){field, *v};
    *v = OPT_ABSENT_I64;
}

static int on_header(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct header h;
    if (!oom_header_parse(t, &h))
        return 0;
    struct oom_event *e = oomlog_open_event(p, l);
    if (!e)
        return -ENOMEM;
    e->header = true;
    copy_span(e->invoker_comm, sizeof(e->invoker_comm), (struct span){h.comm, strlen(h.comm)});
    e->gfp_mask_set = h.has_gfp;
    e->gfp_mask = h.gfp;
    memcpy(e->gfp_flags, h.flags, sizeof(e->gfp_flags));
    memcpy(e->nodemask, h.nodemask, sizeof(e->nodemask));
    e->order = h.order;
    e->invoker_oom_score_adj = h.adj;
    e->invoker_oom_adj = h.oom_adj;
    /* order -1 is SysRq-f; no allocation is larger than a 2^20-page block */
    check_range(&e->order, -1, 20, "order", e->impossible, &e->nimpossible);
    check_range(&e->invoker_oom_score_adj, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, "oom_score_adj",
                e->impossible, &e->nimpossible);
    check_range(&e->invoker_oom_adj, OOM_ADJ_MIN, OOM_ADJ_MAX, "oom_adj", e->impossible,
                &e->nimpossible);
    e->sysrq = h.order == -1;
    /* CONFIG_PRINTK_CALLER: the task printing the header is the one that asked */
    if (l->caller_tid > 0)
        e->invoker_pid = l->caller_tid;
    return 0;
}

static void victim_from_kill(struct oom_victim *v, const struct kill *k,
                             const struct oomlog_line *l, uint64_t segment)
{
    v->pid = k->pid;
    copy_span(v->comm, sizeof(v->comm), (struct span){k->comm, strlen(k->comm)});
    copy_span(v->message, sizeof(v->message), (struct span){k->msg, strlen(k->msg)});
    v->total_vm_kb = k->total_vm;
    v->anon_rss_kb = k->anon;
    v->file_rss_kb = k->file;
    v->shmem_rss_kb = k->shmem;
    v->pgtables_kb = k->pgtables;
    v->uid = k->uid;
    v->oom_score_adj = k->adj;
    check_range(&v->oom_score_adj, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, "oom_score_adj",
                v->impossible, &v->nimpossible);
    check_range(&v->uid, 0, UINT32_MAX - 1, "uid", v->impossible, &v->nimpossible);
    check_range(&v->pid, 1, PID_MAX_LIMIT, "pid", v->impossible, &v->nimpossible);
    v->uptime_us = l->uptime_us;
    v->line_rejoined = l->rejoined;
    v->line_cut = k->cut;
    if (l->time.n)
        copy_span(v->time, sizeof(v->time), l->time);
    v->segment = segment;
}

static bool same_kill(const struct oom_victim *v, const struct kill *k)
{
    return v->pid == k->pid && !strcmp(v->comm, k->comm) && v->total_vm_kb == k->total_vm &&
           v->anon_rss_kb == k->anon;
}

static void take_row(const struct oom_event *e, struct oom_victim *v)
{
    const struct oom_task *row = find_row(e, v->pid);
    if (row) {
        v->has_row = true;
        v->row = *row;
    }
}

/* A victim killed along with the first (sharing its mm, or in its memory.oom.group): added to e
 * as `kind` unless its pid is listed already, when *ret is NULL. 0, or -ENOMEM. */
static int add_unlisted(struct oomlog *p, struct oom_event *e, const struct kill *k,
                        const struct oomlog_line *l, enum oom_victim_kind kind,
                        struct oom_victim **ret)
{
    *ret = NULL;
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].pid == k->pid)
            return 0;
    struct oom_victim *v = oomlog_add_victim(e);
    if (!v)
        return -ENOMEM;
    victim_from_kill(v, k, l, p->segment);
    v->kind = kind;
    *ret = v;
    return 0;
}

/* More processes on the victim's mm, killed with it ("Kill process N (c) sharing same memory",
 * <= 4.x). Printed in the same loop as the kill, but preemption can stretch that loop over
 * minutes (linux-mm, Sep 2015): no time limit. */
static int on_shared(struct oomlog *p, struct oom_event *e, const struct kill *k,
                     const struct oomlog_line *l)
{
    struct oom_victim *v;
    if (!e || !e->nvictims)
        return 0;
    return add_unlisted(p, e, k, l, OOM_VICTIM_SHARED_MM, &v);
}

/* "Kill process N (c) score S or sacrifice child" (<= 5.0): the task chosen */
static int on_select(struct oomlog *p, struct oom_event *e, const struct kill *k,
                     const struct oomlog_line *l)
{
    if (!e || e->nvictims || e->selected_set) {
        if (!(e = oomlog_open_event(p, l)))
            return -ENOMEM;
    }
    oomlog_touch(e, l);
    if (l->kmsg_next && !oom_event_report_printed(e))
        e->rate_limited = true;
    e->selected_set = true;
    e->selected_pid = k->pid;
    e->selected_score = k->score;
    memcpy(e->selected_msg, k->msg, sizeof(e->selected_msg));
    copy_span(e->selected_comm, sizeof(e->selected_comm), (struct span){k->comm, strlen(k->comm)});
    e->state = ST_TASKS;
    return 0;
}

/* A member of a memory.oom.group kill; the victim itself may be logged a second time, and a
 * member already dying is skipped by oom_kill_memcg_member() (not a kill). */
static int on_group_member(struct oomlog *p, struct oom_event *e, const struct kill *k,
                           const struct oomlog_line *l)
{
    struct oom_victim *v;
    if (k->kind == K_EXITING)
        return 0;
    int r = add_unlisted(p, e, k, l, OOM_VICTIM_GROUP, &v);
    if (v) {
        take_row(e, v);
        oomlog_touch(e, l);
    }
    return r;
}

/* "Killed process ..." and "OOM victim ... is already exiting" */
static int on_killed(struct oomlog *p, struct oom_event *e, const struct kill *k,
                     const struct oomlog_line *l)
{
    if (e && e->nvictims) {
        if (e->group_memcg)
            return on_group_member(p, e, k, l);
        if (same_kill(&e->victims[0], k) &&
            (!opt_has(l->uptime_us) || l->uptime_us == e->victims[0].uptime_us))
            return 0; /* the same line twice */
        e = NULL;
    }
    if (!e && !(e = oomlog_open_event(p, l)))
        return -ENOMEM;
    oomlog_touch(e, l);
    if (l->kmsg_next && !oom_event_report_printed(e))
        e->rate_limited = true;
    struct oom_victim *v = oomlog_add_victim(e);
    if (!v)
        return -ENOMEM;
    victim_from_kill(v, k, l, p->segment);
    if (k->kind == K_EXITING)
        v->kind = OOM_VICTIM_EXITING;
    else if (e->selected_set && e->selected_pid != k->pid)
        v->kind = OOM_VICTIM_CHILD;
    else
        v->kind = OOM_VICTIM_SELECTED;
    if (e->selected_set && e->selected_pid == k->pid)
        v->score = e->selected_score;
    if (!v->message[0] && e->selected_set)
        /* <= 5.0: the message is on the "Kill process" line before */
        memcpy(v->message, e->selected_msg, sizeof(v->message));
    take_row(e, v);
    e->state = ST_KILLED;
    return 0;
}

static int on_kill(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    struct kill k;
    if (!oom_kill_parse(t, &k) || k.kind != kind)
        return 0;
    struct oom_event *e = oomlog_current(p);
    if (k.kind == K_SHARED)
        return on_shared(p, e, &k, l);
    if (e && !oomlog_attachable(e, l))
        e = NULL;
    if (k.kind == K_SELECT)
        return on_select(p, e, &k, l);
    return on_killed(p, e, &k, l);
}

static int on_summary(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct summary s;
    if (!oom_summary_parse(t, &s))
        return 0;
    struct oom_event *e = oomlog_current(p);
    if (!e || e->summary || e->nvictims || !oomlog_attachable(e, l)) {
        if (!(e = oomlog_open_event(p, l)))
            return -ENOMEM;
    }
    oomlog_touch(e, l);
    e->summary = true;
    memcpy(e->constraint, s.constraint, sizeof(e->constraint));
    if (s.nodemask[0])
        memcpy(e->nodemask, s.nodemask, sizeof(e->nodemask));
    if (s.cpuset[0])
        memcpy(e->cpuset, s.cpuset, sizeof(e->cpuset));
    if (s.mems[0])
        memcpy(e->mems_allowed, s.mems, sizeof(e->mems_allowed));
    e->global_oom = s.global;
    if (s.oom_memcg.p && set_path(&e->oom_memcg, s.oom_memcg) < 0)
        return -ENOMEM;
    if (s.task_memcg.p && set_path(&e->task_memcg, s.task_memcg) < 0)
        return -ENOMEM;
    memcpy(e->summary_task, s.task, sizeof(e->summary_task));
    e->summary_pid = s.pid;
    e->summary_uid = s.uid;
    return 0;
}

/* The reaper runs after the kill (2 s later since ~5.18): a few events back are looked at. */
static int on_reap(struct oomlog *p, struct span t, bool reaped)
{
    struct reap r;
    if (!oom_reap_parse(t, reaped, &r))
        return 0;
    p->saw_reaper = true;
    size_t lo = p->nevents > 64 ? p->nevents - 64 : 0;
    for (size_t i = p->nevents; i-- > lo;) {
        struct oom_event *e = &p->events[i];
        for (size_t j = e->record == OOM_RECORD_KERNEL ? e->nvictims : 0; j-- > 0;) {
            struct oom_victim *v = &e->victims[j];
            if (v->pid != r.pid || v->reaped == 1)
                continue;
            if (reaped) {
                v->reaped = 1;
                v->reaped_inferred = false;
                v->reaped_anon_kb = r.anon;
                v->reaped_file_kb = r.file;
                v->reaped_shmem_kb = r.shmem;
            } else {
                v->reaped = 0;
                v->unable_to_reap = true;
            }
            return 0;
        }
    }
    return 0;
}

/* "oom killer %d (%s) has mm pinned by %d (%s)": init shares the mm, no reaping */
static int on_pinned(struct oomlog *p, struct span t)
{
    struct oom_event *e = oomlog_current(p);
    struct cursor c = cursor_make(t.p + 11, t.n - 11);
    uint64_t pid;
    if (e && cursor_u64(&c, &pid) == 0)
        for (size_t i = 0; i < e->nvictims; i++)
            if (e->victims[i].pid == (int64_t)pid) {
                e->victims[i].reaped = 0;
                e->victims[i].unable_to_reap = true;
            }
    return 0;
}

/* "Task in /a killed as a result of limit of /b" (<= 4.19) */
static int on_taskin(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct span task, limit;
    if (oom_taskin_parse(t, &task, &limit) < 3)
        return 0;
    struct oom_event *e = oomlog_event_for_body(p, l);
    if (!e)
        return -ENOMEM;
    if (set_path(&e->task_memcg, task) < 0 || set_path(&e->oom_memcg, limit) < 0)
        return -ENOMEM;
    e->state = ST_MEMCG;
    return 0;
}

/* "Tasks in /x are going to be killed due to memory.oom.group set" */
static int on_group(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct span path;
    if (oom_group_parse(t, &path) < 2)
        return 0;
    struct oom_event *e = oomlog_current(p);
    if (!e || !oomlog_attachable(e, l)) {
        if (!(e = oomlog_open_event(p, l)))
            return -ENOMEM;
    }
    oomlog_touch(e, l);
    if (set_path(&e->group_memcg, path) < 0)
        return -ENOMEM;
    e->state = ST_KILLED;
    return 0;
}

static int on_counter(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct oom_counter c;
    int which;
    if (!oom_counter_parse(t, &c, &which))
        return 0;
    struct oom_event *e = oomlog_event_for_body(p, l);
    if (!e)
        return -ENOMEM;
    struct oom_counter *dst = which == 0   ? &e->mem
                              : which == 1 ? &e->swap
                              : which == 2 ? &e->memsw
                                           : &e->kmem;
    *dst = c;
    e->state = ST_MEMCG;
    return 0;
}

/* The headers of a report's later sections: each opens the event if the text starts there. */
static int on_section(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    struct oom_event *e = oomlog_current(p);
    if (kind == K_MEMINFO && p->sysrq_meminfo) {
        /* SysRq-m: a Mem-Info dump of its own, not an OOM report */
        p->sysrq_meminfo = false;
        if (e)
            oomlog_close_event(p, e);
        p->open = false;
        return 0;
    }
    if (!(e = oomlog_event_for_body(p, l)))
        return -ENOMEM;
    switch (kind) {
    case K_STATS_FOR:
        oom_stats_for(e, t);
        break;
    case K_MEMINFO:
        e->meminfo = true;
        e->state = ST_MEMINFO;
        break;
    case K_TABLE_HEADER:
        oom_table_header(e, t);
        /* fall through */
    default:
        e->state = ST_TASKS;
        break;
    }
    return 0;
}

/* A task-table row; rows with no report around them are a table cut from its header. */
static int on_row(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    struct oom_event *target = oomlog_current(p);
    struct oom_task r;
    bool inferred = false;
    if (!target || target->state == ST_KILLED || target->nvictims ||
        !oomlog_attachable(target, l)) {
        int cols[16], ncols = 0;
        if (oom_row_parse(cols, &ncols, &inferred, t, &r) < 0)
            return 0;
        if (!(target = oomlog_open_event(p, l)))
            return -ENOMEM;
        inferred = false;
    }
    if (oom_row_parse(target->columns, &target->ncolumns, &inferred, t, &r) < 0)
        return 0;
    if (opt_has_i64(r.oom_score_adj) &&
        (r.oom_score_adj < OOM_SCORE_ADJ_MIN || r.oom_score_adj > OOM_SCORE_ADJ_MAX)) {
        r.oom_score_adj = OPT_ABSENT_I64;
        target->impossible_rows++;
    }
    if (inferred) {
        target->table = true;
        target->table_inferred = true;
    }
    oomlog_touch(target, l);
    target->state = ST_TASKS;
    return oom_event_add_row(target, &r);
}

/* "Out of memory and no killable processes...", and the panics that end a report */
static int on_outcome(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    const char *what = kind == K_NO_KILLABLE                 ? "no-killable"
                       : find(t, "deadlocked on memory")     ? "deadlocked"
                       : find(t, "no killable processes")    ? "no-killable"
                       : find(t, "system-wide panic_on_oom") ? "system-wide"
                       : find(t, "compulsory panic_on_oom")  ? "compulsory"
                       : find(t, "panic_on_oom is enabled")  ? "panic_on_oom"
                                                             : "";
    if (!what[0])
        return 0;
    struct oom_event *e = oomlog_current(p);
    if (!e || e->nvictims || !oomlog_attachable(e, l)) {
        /* "System is deadlocked" follows "no killable processes" in the same event */
        if (!(e && !strcmp(what, "deadlocked") && e->no_killable && oomlog_attachable(e, l)))
            if (!(e = oomlog_open_event(p, l)))
                return -ENOMEM;
    }
    oomlog_touch(e, l);
    if (kind == K_PANIC)
        copy_span(e->panic, sizeof(e->panic), (struct span){what, strlen(what)});
    if (!strcmp(what, "no-killable"))
        e->no_killable = true;
    e->state = ST_KILLED;
    return 0;
}

/* N reports were suppressed since the last one printed: the kill-only events since then are
 * those (the text may lack some of them; an elision ends the walk, it may hide a report). */
static int on_suppressed(struct oomlog *p, struct span t)
{
    uint64_t n;
    if (oom_suppressed_parse(t, &n) < 2)
        return 0;
    p->suppressed_reports += n;
    p->suppressed_pending = n;
    for (size_t i = p->nevents; n && i-- > p->source_first;) {
        struct oom_event *e = &p->events[i];
        const struct oom_victim *v = oom_event_primary(e);
        if (oom_event_report_printed(e) || (v && v->segment != p->segment))
            break;
        if (!v && !e->selected_set)
            continue;
        e->rate_limited = true;
        n--;
    }
    return 0;
}

/* The lines that mean something only inside a report: its sections' bodies. */
static int on_body(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    struct oom_event *e = oomlog_current(p);
    if (!e || !t.n || !oomlog_attachable(e, l))
        return 0;
    switch (kind) {
    case K_CPU:
        if (e->state == ST_HEADER)
            oom_cpu_line(e, t);
        break;
    case K_MIN_PROTECTION:
        (void)key_u64(t, "min protection ", &e->min_protection_kb);
        (void)key_u64(t, "low protection ", &e->low_protection_kb);
        break;
    default:
        if (e->state == ST_HEADER && find(t, " cpuset=") && !e->cpuset[0])
            oom_cpuset_line(e, t);
        else if (e->state == ST_STATS)
            oom_stats_kv(e, t);
        else if (e->state == ST_STATS1 && !oom_stats1_more(e, t))
            e->state = ST_MEMCG;
        else if (e->state == ST_MEMINFO)
            oom_meminfo_line(e, t);
        break;
    }
    if (e->state != ST_KILLED)
        oomlog_touch(e, l);
    return 0;
}

int oomlog_process(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    if (kind != K_ROW && kind != K_NONE && t.n <= CAP_INPUT_LINE && oomjoin_padded(t)) {
        if (t.n > p->unpad_cap) {
            char *b = realloc(p->unpad, 2 * t.n);
            if (!b)
                return -ENOMEM;
            p->unpad = b;
            p->unpad_cap = t.n;
        }
        size_t n = oomjoin_unpad(t, kind, p->unpad, p->unpad_cap, &kind);
        if (n)
            t = (struct span){p->unpad, n};
    }
    switch (kind) {
    case K_HEADER:
        return on_header(p, l, t);
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED:
        return on_kill(p, l, t, kind);
    case K_SUMMARY:
        return on_summary(p, l, t);
    case K_REAPED:
    case K_UNREAPABLE:
        return on_reap(p, t, kind == K_REAPED);
    case K_PINNED:
        return on_pinned(p, t);
    case K_TASKIN:
        return on_taskin(p, l, t);
    case K_GROUP:
        return on_group(p, l, t);
    case K_COUNTER:
        return on_counter(p, l, t);
    case K_STATS_FOR:
    case K_MEMINFO:
    case K_TASKS_STATE:
    case K_TABLE_HEADER:
        return on_section(p, l, t, kind);
    case K_ROW:
        return on_row(p, l, t);
    case K_NO_KILLABLE:
    case K_PANIC:
        return on_outcome(p, l, t, kind);
    case K_SUPPRESSED:
        return on_suppressed(p, t);
    case K_SYSRQ_SHOWMEM:
        if (oomlog_current(p))
            oomlog_close_event(p, oomlog_current(p));
        p->open = false;
        p->sysrq_meminfo = true;
        return 0;
    case K_CPU:
    case K_MIN_PROTECTION:
    case K_NONE:
        break;
    }
    return on_body(p, l, t, kind);
}
