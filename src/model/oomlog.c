
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"
#include "oomlog-int.h"

struct oom_event *oomlog_current(struct oomlog *p)
{
    return p->open && p->nevents ? &p->events[p->nevents - 1] : NULL;
}

/* Lines further apart than OOMLOG_GAP_US, or going back in time, are not one report. */
bool oomlog_attachable(const struct oom_event *e, const struct oomlog_line *l)
{
    if (!opt_has(e->last_uptime_us) || !opt_has(l->uptime_us))
        return true;
    if (l->uptime_us + SEC_US < e->last_uptime_us)
        return false;
    return l->uptime_us <= e->last_uptime_us + OOMLOG_GAP_US;
}

static void touch(struct oom_event *e, const struct oomlog_line *l)
{
    if (!e->time[0] && l->time.n)
        copy_span(e->time, sizeof(e->time), l->time);
    if (opt_has(l->uptime_us)) {
        if (!opt_has(e->uptime_us))
            e->uptime_us = l->uptime_us;
        e->last_uptime_us = l->uptime_us;
    }
}

static struct oom_event *open_event(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *cur = oomlog_current(p);
    if (cur)
        oomlog_close_event(p, cur);
    p->open = false;
    if (p->nevents >= OOMLOG_MAX_EVENTS)
        return NULL;
    if (p->nevents == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct oom_event *n = realloc(p->events, cap * sizeof(*n));
        if (!n)
            return NULL;
        p->events = n;
        p->cap = cap;
    }
    struct oom_event *e = &p->events[p->nevents++];
    oom_event_init(e);
    e->suppressed_reports = p->suppressed_pending;
    p->suppressed_pending = 0;
    p->open = true;
    touch(e, l);
    return e;
}

/* The open event if this report line belongs to it, else a new (headerless) one. */
static struct oom_event *event_for_body(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *e = oomlog_current(p);
    if (e && e->state != ST_KILLED && !e->nvictims && oomlog_attachable(e, l)) {
        touch(e, l);
        return e;
    }
    return open_event(p, l);
}

static struct oom_victim *add_victim(struct oom_event *e)
{
    struct oom_victim *n = realloc(e->victims, (e->nvictims + 1) * sizeof(*n));
    if (!n)
        return NULL;
    e->victims = n;
    struct oom_victim *v = &e->victims[e->nvictims++];
    memset(v, 0, sizeof(*v));
    v->pid = v->uid = v->oom_score_adj = v->score = OPT_ABSENT_I64;
    v->total_vm_kb = v->anon_rss_kb = v->file_rss_kb = v->shmem_rss_kb = v->pgtables_kb =
        OPT_ABSENT;
    v->reaped_anon_kb = v->reaped_file_kb = v->reaped_shmem_kb = OPT_ABSENT;
    v->uptime_us = OPT_ABSENT;
    v->reaped = -1;
    oom_task_init(&v->row);
    return v;
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

static int on_kill(struct oomlog *p, const struct kill *k, const struct oomlog_line *l)
{
    struct oom_event *e = oomlog_current(p);
    if (k->kind == K_SHARED) {
        /* printed in the same loop as the kill, but preemption can stretch that loop over
         * minutes (linux-mm, Sep 2015): no time limit */
        /* more processes on the victim's mm: part of the kill just printed */
        if (!e || !e->nvictims)
            return 0;
        for (size_t i = 0; i < e->nvictims; i++)
            if (e->victims[i].pid == k->pid)
                return 0;
        struct oom_victim *v = add_victim(e);
        if (!v)
            return -ENOMEM;
        victim_from_kill(v, k, l, p->segment);
        v->kind = OOM_VICTIM_SHARED_MM;
        return 0;
    }
    if (e && !oomlog_attachable(e, l))
        e = NULL;
    if (k->kind == K_SELECT) {
        if (!e || e->nvictims || e->selected_set) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        if (l->kmsg_next && !oom_event_report_printed(e))
            e->rate_limited = true;
        e->selected_set = true;
        e->selected_pid = k->pid;
        e->selected_score = k->score;
        memcpy(e->selected_msg, k->msg, sizeof(e->selected_msg));
        copy_span(e->selected_comm, sizeof(e->selected_comm),
                  (struct span){k->comm, strlen(k->comm)});
        e->state = ST_TASKS;
        return 0;
    }
    /* K_KILLED, K_EXITING */
    if (e && e->nvictims) {
        if (e->group_memcg) {
            /* a member already dying is skipped by oom_kill_memcg_member(): not a kill */
            if (k->kind == K_EXITING)
                return 0;
            /* the oom.group kill: the victim itself may be logged a second time */
            for (size_t i = 0; i < e->nvictims; i++)
                if (e->victims[i].pid == k->pid)
                    return 0;
            struct oom_victim *v = add_victim(e);
            if (!v)
                return -ENOMEM;
            victim_from_kill(v, k, l, p->segment);
            v->kind = OOM_VICTIM_GROUP;
            const struct oom_task *row = find_row(e, k->pid);
            if (row) {
                v->has_row = true;
                v->row = *row;
            }
            touch(e, l);
            return 0;
        }
        if (same_kill(&e->victims[0], k) &&
            (!opt_has(l->uptime_us) || l->uptime_us == e->victims[0].uptime_us))
            return 0; /* the same line twice */
        e = NULL;
    }
    if (!e && !(e = open_event(p, l)))
        return -ENOMEM;
    touch(e, l);
    if (l->kmsg_next && !oom_event_report_printed(e))
        e->rate_limited = true;
    struct oom_victim *v = add_victim(e);
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
    const struct oom_task *row = find_row(e, k->pid);
    if (row) {
        v->has_row = true;
        v->row = *row;
    }
    e->state = ST_KILLED;
    return 0;
}

static void on_reap(struct oomlog *p, const struct reap *r, bool reaped)
{
    /* the reaper runs after the kill (2 s later since ~5.18): look back a few events */
    size_t lo = p->nevents > 64 ? p->nevents - 64 : 0;
    for (size_t i = p->nevents; i-- > lo;) {
        struct oom_event *e = &p->events[i];
        for (size_t j = e->nvictims; j-- > 0;) {
            struct oom_victim *v = &e->victims[j];
            if (v->pid != r->pid || v->reaped == 1)
                continue;
            if (reaped) {
                v->reaped = 1;
                v->reaped_inferred = false;
                v->reaped_anon_kb = r->anon;
                v->reaped_file_kb = r->file;
                v->reaped_shmem_kb = r->shmem;
            } else {
                v->reaped = 0;
                v->unable_to_reap = true;
            }
            return;
        }
    }
}

static int segment_note(struct oomlog *p, uint64_t uptime)
{
    if (!opt_has(uptime))
        return 0;
    if (opt_has(p->last_uptime) && uptime + SEC_US < p->last_uptime)
        p->segment++; /* back in time: another boot, or logs pasted out of order */
    p->last_uptime = uptime;
    if (p->segment >= p->segment_cap) {
        size_t cap = p->segment_cap ? p->segment_cap * 2 : 16;
        while (cap <= p->segment)
            cap *= 2;
        uint64_t *n = realloc(p->segment_max, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t i = p->segment_cap; i < cap; i++)
            n[i] = OPT_ABSENT;
        p->segment_max = n;
        p->segment_cap = cap;
    }
    uint64_t *m = &p->segment_max[p->segment];
    if (!opt_has(*m) || uptime > *m)
        *m = uptime;
    return 0;
}

/* N reports were suppressed since the last one printed: the kill-only events since then are
 * those (the text may lack some of them; an elision ends the walk, it may hide a report). */
static void on_suppressed(struct oomlog *p, uint64_t n)
{
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
}

int oomlog_process(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    struct oom_event *e = oomlog_current(p);
    switch (kind) {
    case K_HEADER: {
        struct header h;
        if (!oom_header_parse(t, &h))
            return 0;
        if (!(e = open_event(p, l)))
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
        e->sysrq = h.order == -1;
        /* CONFIG_PRINTK_CALLER: the task printing the header is the one that asked */
        if (l->caller_tid > 0)
            e->invoker_pid = l->caller_tid;
        return 0;
    }
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED: {
        struct kill k;
        if (!oom_kill_parse(t, &k) || k.kind != kind)
            return 0;
        return on_kill(p, &k, l);
    }
    case K_SUMMARY: {
        struct summary s;
        if (!oom_summary_parse(t, &s))
            return 0;
        if (!e || e->summary || e->nvictims || !oomlog_attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
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
    case K_REAPED:
    case K_UNREAPABLE: {
        struct reap r;
        if (!oom_reap_parse(t, kind == K_REAPED, &r))
            return 0;
        p->saw_reaper = true;
        on_reap(p, &r, kind == K_REAPED);
        return 0;
    }
    case K_PINNED: {
        /* "oom killer %d (%s) has mm pinned by %d (%s)": init shares the mm, no reaping */
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
    case K_TASKIN: {
        struct span task, limit;
        if (oom_taskin_parse(t, &task, &limit) < 3)
            return 0;
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        if (set_path(&e->task_memcg, task) < 0 || set_path(&e->oom_memcg, limit) < 0)
            return -ENOMEM;
        e->state = ST_MEMCG;
        return 0;
    }
    case K_GROUP: {
        struct span path;
        if (oom_group_parse(t, &path) < 2)
            return 0;
        if (!e || !oomlog_attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        if (set_path(&e->group_memcg, path) < 0)
            return -ENOMEM;
        e->state = ST_KILLED;
        return 0;
    }
    case K_COUNTER: {
        struct oom_counter c;
        int which;
        if (!oom_counter_parse(t, &c, &which))
            return 0;
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        struct oom_counter *dst = which == 0   ? &e->mem
                                  : which == 1 ? &e->swap
                                  : which == 2 ? &e->memsw
                                               : &e->kmem;
        *dst = c;
        e->state = ST_MEMCG;
        return 0;
    }
    case K_STATS_FOR:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        oom_stats_for(e, t);
        return 0;
    case K_MEMINFO:
        if (p->sysrq_meminfo) {
            /* SysRq-m: a Mem-Info dump of its own, not an OOM report */
            p->sysrq_meminfo = false;
            if (e)
                oomlog_close_event(p, e);
            p->open = false;
            return 0;
        }
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        e->meminfo = true;
        e->state = ST_MEMINFO;
        return 0;
    case K_TASKS_STATE:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        e->state = ST_TASKS;
        return 0;
    case K_TABLE_HEADER:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        oom_table_header(e, t);
        e->state = ST_TASKS;
        return 0;
    case K_ROW: {
        struct oom_event *target = e;
        if (!target || target->state == ST_KILLED || target->nvictims || !oomlog_attachable(target, l)) {
            /* rows with no report around them: a table cut from its header */
            int cols[16], ncols = 0;
            bool inferred = false;
            struct oom_task r;
            if (oom_row_parse(cols, &ncols, &inferred, t, &r) < 0)
                return 0;
            if (!(target = open_event(p, l)))
                return -ENOMEM;
        }
        struct oom_task r;
        bool inferred = false;
        if (oom_row_parse(target->columns, &target->ncolumns, &inferred, t, &r) < 0)
            return 0;
        if (inferred) {
            target->table = true;
            target->table_inferred = true;
        }
        touch(target, l);
        target->state = ST_TASKS;
        return oom_event_add_row(target, &r);
    }
    case K_NO_KILLABLE:
        if (!e || e->nvictims || !oomlog_attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        e->no_killable = true;
        e->state = ST_KILLED;
        return 0;
    case K_PANIC: {
        const char *what = find(t, "deadlocked on memory")       ? "deadlocked"
                           : find(t, "no killable processes")    ? "no-killable"
                           : find(t, "system-wide panic_on_oom") ? "system-wide"
                           : find(t, "compulsory panic_on_oom")  ? "compulsory"
                           : find(t, "panic_on_oom is enabled")  ? "panic_on_oom"
                                                                 : "";
        if (!what[0])
            return 0;
        if (!e || e->nvictims || !oomlog_attachable(e, l)) {
            /* "System is deadlocked" follows "no killable processes" in the same event */
            if (!(e && !strcmp(what, "deadlocked") && e->no_killable && oomlog_attachable(e, l)))
                if (!(e = open_event(p, l)))
                    return -ENOMEM;
        }
        touch(e, l);
        copy_span(e->panic, sizeof(e->panic), (struct span){what, strlen(what)});
        if (!strcmp(what, "no-killable"))
            e->no_killable = true;
        e->state = ST_KILLED;
        return 0;
    }
    case K_SUPPRESSED: {
        uint64_t n;
        if (oom_suppressed_parse(t, &n) > 0)
            on_suppressed(p, n);
        return 0;
    }
    case K_SYSRQ_SHOWMEM:
        if (e)
            oomlog_close_event(p, e);
        p->open = false;
        p->sysrq_meminfo = true;
        return 0;
    case K_CPU:
        if (e && e->state == ST_HEADER && oomlog_attachable(e, l)) {
            oom_cpu_line(e, t);
            touch(e, l);
        }
        return 0;
    case K_MIN_PROTECTION:
        if (e && oomlog_attachable(e, l)) {
            (void)key_u64(t, "min protection ", &e->min_protection_kb);
            (void)key_u64(t, "low protection ", &e->low_protection_kb);
        }
        return 0;
    case K_NONE:
        break;
    }

    /* lines that mean something only inside a report */
    if (!e || !t.n || !oomlog_attachable(e, l))
        return 0;
    switch (e->state) {
    case ST_HEADER:
        if (find(t, " cpuset=") && !e->cpuset[0])
            oom_cpuset_line(e, t);
        break;
    case ST_STATS:
        oom_stats_kv(e, t);
        break;
    case ST_MEMINFO:
        oom_meminfo_line(e, t);
        break;
    default:
        break;
    }
    if (e->state != ST_KILLED)
        touch(e, l);
    return 0;
}

/* A line the recogniser did not know that a continuation could still make a message of: one
 * short enough to be a header cut in its words (a comm of TASK_COMM_LEN - 1 and " invoked
 * oom-killer:"), or the beginning of another message's first words (oomline_may_begin). Holding
 * only these keeps the other lines from being copied. */
static bool may_begin_message(struct span t)
{
    return t.n <= 36 || (t.n < 64 && strchr("KOMNTmsSko[", t.p[0]) && oomline_may_begin(t));
}

/* A line that starts with something else than a word or a task-table row: a vendor tag after
 * the stamp, a digit, punctuation; the OOM messages are looked for anywhere in it */
static bool odd_start(struct span t)
{
    unsigned char c = (unsigned char)t.p[0];
    return !((c | 32) >= 'a' && (c | 32) <= 'z') && c != '[';
}

/* The opaque prefix before a message: learnt (a bare line's), its time taken, then dropped. */
static void strip_prefix(struct oomlog *p, struct oomlog_line *l, struct span *t, size_t at)
{
    struct span prefix = {t->p, at};
    if (l->bare)
        oomline_prefix_learn(&p->prefix, prefix);
    if (!l->time.n && !opt_has(l->uptime_us))
        logline_prefix_time(prefix, &l->time);
    t->p += at;
    t->n -= at;
    l->bare = false;
}

/*
 * What the kernel said in a line: a message from its first word on, or (a bare line, or one that
 * starts oddly) behind a prefix the line reader did not know: the opaque prefix learnt from an
 * earlier line, else the OOM messages' fixed words anywhere. A prefix found here makes the line
 * a message of its own (not a continuation) and may give it a time.
 */
static enum kind recognise(struct oomlog *p, struct oomlog_line *l, struct span *t,
                           enum kind kind)
{
    if (kind == K_HEADER) {
        /* found anywhere in the line: the comm may have a prefix before it */
        size_t at;
        if (oomline_find(*t, &at) == K_HEADER && at)
            strip_prefix(p, l, t, at);
        return kind;
    }
    if (kind != K_NONE || !t->n || !p->hold_lines || (!l->bare && !odd_start(*t)))
        return kind;
    struct span s = *t;
    if (l->bare && oomline_prefix_strip(&p->prefix, &s)) {
        *t = trim(s);
        l->bare = false;
        kind = oomline_classify(*t);
        if (kind != K_NONE)
            return kind;
    }
    size_t at;
    kind = oomline_find(*t, &at);
    if (kind == K_NONE || !at)
        return kind;
    strip_prefix(p, l, t, at);
    return kind;
}

/*
 * A bare line after a held one: its continuation. When a mailer joined records on one line, only
 * what stands before the next message continues it, and *t is moved to that message. Returns 1
 * when the whole line was taken.
 */
static int continue_held(struct oomlog *p, const struct oomlog_line *line, struct span *t,
                         enum kind kind, struct span *time)
{
    struct span held = {p->held, p->held_len};
    bool marked = oomjoin_marked(held);
    if (!(kind == K_NONE || p->held_kind == K_NONE || marked))
        return 0;
    struct span next = *t;
    size_t at = 0;
    if (kind == K_NONE && !marked) {
        /* the next record's syslog tag, or the next message's words */
        const char *k = find(*t, " kernel: ");
        if (k)
            at = (size_t)(k + 9 - t->p);
        else if (oomline_find(*t, &at) == K_NONE)
            at = 0;
        if (at)
            next = trim((struct span){t->p, k ? (size_t)(k - t->p) : at});
    }
    if (marked && held.p[held.n - 1] == '=' && t->p == line->text.p) {
        /* quoted-printable: the continuation's first blank is text */
        next.p -= line->lead;
        next.n += line->lead;
    }
    bool joined;
    int r = oomlog_try_join(p, next, kind, &joined);
    if (r < 0 || !joined)
        return r;
    if (!at)
        return 1;
    logline_prefix_time((struct span){t->p, at}, time);
    t->p += at;
    t->n -= at;
    return 0;
}

int oomlog_feed_line(struct oomlog *p, const struct oomlog_line *line)
{
    struct span t = trim(line->text);
    p->kernel_lines++;
    int r = segment_note(p, line->uptime_us);
    if (r < 0)
        return r;
    enum kind kind = oomline_classify(t);
    /* a copy only for the lines whose prefix is looked into (copying each cost 5%) */
    struct oomlog_line copy;
    const struct oomlog_line *l = line;
    if (p->held_len && line->bare && t.n) {
        struct span before = t, time = {line->text.p, 0};
        if ((r = continue_held(p, line, &t, kind, &time)) != 0)
            return r < 0 ? r : 0;
        if (t.p != before.p) {
            /* a record of its own after the continuation */
            copy = *line;
            copy.time = time;
            copy.bare = false;
            l = &copy;
            kind = oomline_classify(t);
        }
    }
    if (kind == K_HEADER || (kind == K_NONE && t.n && p->hold_lines &&
                             (l->bare || odd_start(t)))) {
        if (l != &copy)
            copy = *line;
        kind = recognise(p, &copy, &t, kind);
        l = &copy;
    }
    if ((r = oomlog_flush_held(p)) < 0)
        return r;
    if (p->hold_lines && t.n &&
        (kind != K_NONE || may_begin_message(t) || oomjoin_marked(t)))
        return oomlog_hold(p, l, t, kind);
    return oomlog_process(p, l, t, kind);
}

static void note_elision(struct oomlog *p)
{
    p->segment++;
    struct oom_event *e = oomlog_current(p);
    if (e)
        e->elided = true;
}

int oomlog_feed_text(struct oomlog *p, const char *line, size_t len)
{
    struct logline ll;
    p->lines++;
    logline_parse(&p->ctx, line, len, &ll);
    if (ll.elision) {
        int r = oomlog_flush_held(p);
        note_elision(p);
        return r;
    }
    if (ll.source == LOGLINE_USER) {
        p->user_lines++;
        return 0;
    }
    p->hold_lines = true;
    if (ll.kmsg) {
        struct kmsg_record rec = {
            .facility = KMSG_FACILITY_KERN,
            .seq = ll.kmsg_seq,
            .usec = ll.uptime_us,
            .text = ll.text,
            .caller_tid = ll.caller_tid,
        };
        return oomlog_feed_kmsg(p, &rec);
    }
    p->kmsg_seq_known = false;
    /* the last command shown is the one whose output follows */
    if (ll.source == LOGLINE_BARE && memchr(ll.text.p, '|', ll.text.n) &&
        logline_grep_command(ll.text, p->grep_pattern, sizeof(p->grep_pattern), &p->grep_icase))
        p->grep_filter = true;
    struct oomlog_line l = {
        .time = ll.time,
        .uptime_us = ll.uptime_us,
        .text = ll.text,
        .bare = ll.source == LOGLINE_BARE,
        .caller_tid = ll.caller_tid,
    };
    while (l.lead < 8 && l.text.p - l.lead > line && (l.text.p[-1 - (int)l.lead] == ' ' ||
                                                     l.text.p[-1 - (int)l.lead] == '\t'))
        l.lead++;
    return oomlog_feed_line(p, &l);
}

int oomlog_feed_kmsg(struct oomlog *p, const struct kmsg_record *rec)
{
    /* the records are the kernel's whole log: a kill line right after a record we read, with
     * nothing of its report before it, had its report rate-limited */
    bool next = p->kmsg_seq_known && rec->seq == p->kmsg_seq_next;
    p->kmsg_seq_known = true;
    p->kmsg_seq_next = rec->seq + 1;
    if (rec->facility != KMSG_FACILITY_KERN) {
        p->user_lines++;
        return 0;
    }
    if (!p->unescape) {
        p->unescape = malloc(CAP_KMSG_RECORD);
        if (!p->unescape)
            return -ENOMEM;
    }
    size_t n = rec->text.n < CAP_KMSG_RECORD ? rec->text.n : CAP_KMSG_RECORD;
    n = kmsg_unescape(rec->text.p, n, p->unescape);
    /* one record may hold several lines (5.3-6.4 memcg stats, Mem-Info): same stamp for all */
    const char *s = p->unescape, *end = p->unescape + n;
    while (s <= end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        struct oomlog_line l = {
            .uptime_us = rec->usec,
            .text = {s, (size_t)(le - s)},
            .kmsg_next = next,
            .caller_tid = rec->caller_tid,
        };
        if (le > s || nl) {
            int r = oomlog_feed_line(p, &l);
            if (r < 0)
                return r;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    return 0;
}

int oomlog_end_source(struct oomlog *p)
{
    int r = oomlog_flush_held(p);
    struct oom_event *e = oomlog_current(p);
    if (e)
        oomlog_close_event(p, e);
    p->open = false;
    /* what needs the rest of this input: the reaper lines it would show */
    for (size_t i = p->source_first; i < p->nevents; i++)
        oomlog_infer_reaped(p, &p->events[i]);
    p->source_first = p->nevents;
    memset(&p->ctx, 0, sizeof(p->ctx));
    p->grep_filter = false;
    p->sysrq_meminfo = false;
    p->suppressed_pending = 0;
    p->kmsg_seq_known = false;
    p->last_uptime = OPT_ABSENT;
    p->segment++;
    return r;
}

int oomlog_finish(struct oomlog *p)
{
    int r = oomlog_end_source(p);
    size_t out = 0;
    for (size_t i = 0; i < p->nevents; i++) {
        struct oom_event *ev = &p->events[i];
        bool keep = oom_event_reportable(ev);
        for (size_t j = out; keep && j-- > 0 && out - j <= 16;)
            if (oom_event_duplicate(&p->events[j], ev))
                keep = false;
        if (!keep) {
            oom_event_release(ev);
            continue;
        }
        if (out != i)
            p->events[out] = *ev;
        out++;
    }
    p->nevents = out;
    p->source_first = out;
    return r;
}

void oomlog_init(struct oomlog *p)
{
    memset(p, 0, sizeof(*p));
    p->last_uptime = OPT_ABSENT;
}

void oomlog_release(struct oomlog *p)
{
    for (size_t i = 0; i < p->nevents; i++)
        oom_event_release(&p->events[i]);
    free(p->events);
    free(p->held);
    free(p->join);
    free(p->segment_max);
    free(p->unescape);
    memset(p, 0, sizeof(*p));
}

const char *oom_scope_name(enum oom_scope s)
{
    switch (s) {
    case OOM_SCOPE_GLOBAL:
        return "global";
    case OOM_SCOPE_MEMCG:
        return "memcg";
    case OOM_SCOPE_CPUSET:
        return "cpuset";
    case OOM_SCOPE_MEMPOLICY:
        return "mempolicy";
    case OOM_SCOPE_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *oom_victim_kind_name(enum oom_victim_kind k)
{
    switch (k) {
    case OOM_VICTIM_SELECTED:
        return "selected";
    case OOM_VICTIM_CHILD:
        return "child";
    case OOM_VICTIM_GROUP:
        return "group";
    case OOM_VICTIM_SHARED_MM:
        return "shared_mm";
    case OOM_VICTIM_EXITING:
        return "exiting";
    }
    return "selected";
}

const struct oom_victim *oom_event_primary(const struct oom_event *e)
{
    return e->nvictims ? &e->victims[0] : NULL;
}
