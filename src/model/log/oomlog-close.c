#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oomlog-int.h"

void oom_event_init(struct oom_event *e)
{
    memset(e, 0, sizeof(*e));
    e->uptime_us = e->last_uptime_us = OPT_ABSENT;
    e->invoker_pid = OPT_ABSENT_I64;
    e->order = e->invoker_oom_score_adj = e->invoker_oom_adj = OPT_ABSENT_I64;
    e->summary_pid = e->summary_uid = OPT_ABSENT_I64;
    oom_counter_init(&e->mem);
    oom_counter_init(&e->swap);
    oom_counter_init(&e->memsw);
    oom_counter_init(&e->kmem);
    e->stat_anon = e->stat_file = e->stat_kernel = e->stat_shmem = e->stat_slab = OPT_ABSENT;
    e->stat_sock = e->stat_swap = OPT_ABSENT;
    e->min_protection_kb = e->low_protection_kb = OPT_ABSENT;
    e->page_kb = e->ram_pages = e->reserved_pages = e->free_swap_kb = e->total_swap_kb = OPT_ABSENT;
    e->mi_free = e->mi_active_anon = e->mi_inactive_anon = e->mi_active_file = OPT_ABSENT;
    e->mi_inactive_file = e->mi_shmem = e->mi_slab_reclaimable = OPT_ABSENT;
    e->mi_slab_unreclaimable = e->mi_unevictable = e->mi_pagetables = e->mi_slab = OPT_ABSENT;
    e->selected_pid = e->selected_score = OPT_ABSENT_I64;
    oom_task_init(&e->invoker_row);
    e->state = ST_HEADER;
}

void oom_event_release(struct oom_event *e)
{
    free(e->oom_memcg);
    free(e->task_memcg);
    free(e->stats_memcg);
    free(e->group_memcg);
    free(e->rows);
    free(e->victims);
    free(e->user);
}

static uint64_t row_base_pages(const struct oom_task *r, uint64_t page_kb)
{
    uint64_t pts = 0;
    if (opt_has(r->rss))
        pts += r->rss;
    if (opt_has(r->swapents))
        pts += r->swapents;
    if (opt_has(r->pgtables_bytes) && opt_has(page_kb) && page_kb)
        pts += r->pgtables_bytes / (page_kb * 1024);
    if (opt_has(r->nr_ptes))
        pts += r->nr_ptes;
    if (opt_has(r->nr_pmds))
        pts += r->nr_pmds;
    return pts;
}

static int cmp_rss_desc(const void *a, const void *b)
{
    const struct oom_task *x = a, *y = b;
    uint64_t rx = opt_has(x->rss) ? x->rss : 0, ry = opt_has(y->rss) ? y->rss : 0;
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Keeps the largest rows and those the adjusted badness ranks highest. */
static void compact_rows(struct oom_event *e)
{
    if (e->nrows <= 2 * OOMLOG_TOP_TASKS)
        goto sort;
    uint64_t domain = OPT_ABSENT;
    if (opt_has(e->page_kb) && e->page_kb) {
        if (opt_has(e->mem.limit_kb) && (e->oom_memcg || opt_has(e->mem.usage_kb)))
            domain = e->mem.limit_kb / e->page_kb;
        else if (opt_has(e->ram_pages))
            domain = e->ram_pages - (opt_has(e->reserved_pages) ? e->reserved_pages : 0) +
                     (opt_has(e->total_swap_kb) ? e->total_swap_kb / e->page_kb : 0);
    }
    if (opt_has(domain) && domain > BADNESS_SANE_PAGES)
        domain = OPT_ABSENT;
    struct oom_task keep[2 * OOMLOG_TOP_TASKS];
    size_t nk = 0;
    /* top by rss */
    qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_rss_desc);
    for (size_t i = 0; i < e->nrows && nk < OOMLOG_TOP_TASKS; i++)
        keep[nk++] = e->rows[i];
    /* top by adjusted points, among the rest */
    if (opt_has(domain)) {
        for (int round = 0; round < OOMLOG_TOP_TASKS; round++) {
            size_t best = SIZE_MAX;
            int64_t best_pts = INT64_MIN;
            for (size_t i = OOMLOG_TOP_TASKS; i < e->nrows; i++) {
                const struct oom_task *r = &e->rows[i];
                if (r->pid == OPT_ABSENT_I64 || r->oom_score_adj == -1000)
                    continue;
                int64_t adj = opt_has_i64(r->oom_score_adj) ? r->oom_score_adj : 0;
                uint64_t base = row_base_pages(r, e->page_kb);
                /* garbage (a fuzzed or broken line) must not overflow: the kernel's adj is
                 * within +-1000 and no machine has 2^52 pages */
                if (adj < -1000 || adj > 1000 || base > BADNESS_SANE_PAGES)
                    continue;
                int64_t pts = (int64_t)base + adj * (int64_t)(domain / 1000);
                if (pts > best_pts) {
                    best_pts = pts;
                    best = i;
                }
            }
            if (best == SIZE_MAX)
                break;
            keep[nk++] = e->rows[best];
            e->rows[best].pid = OPT_ABSENT_I64; /* taken */
        }
    }
    memcpy(e->rows, keep, nk * sizeof(*keep));
    e->nrows = nk;
sort:
    if (e->nrows > 1)
        qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_rss_desc);
    if (e->nrows == 0) {
        free(e->rows);
        e->rows = NULL;
        e->row_cap = 0;
    } else {
        struct oom_task *n = realloc(e->rows, e->nrows * sizeof(*n));
        if (n) {
            e->rows = n;
            e->row_cap = e->nrows;
        }
    }
}

static bool single_node(const struct oom_event *e)
{
    return !strcmp(e->mems_allowed, "0") && !strcmp(e->cpuset, "/");
}

static void decide_scope(struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    const char *msg = v ? v->message : "";
    if (e->oom_memcg && e->summary) {
        /* a memcg OOM, whatever the constraint says: until 432b1de0de02 (5.1) it always
         * printed CONSTRAINT_NONE */
        e->scope = OOM_SCOPE_MEMCG;
    } else if (e->constraint[0]) {
        if (!strcmp(e->constraint, "CONSTRAINT_NONE"))
            e->scope = OOM_SCOPE_GLOBAL;
        else if (!strcmp(e->constraint, "CONSTRAINT_MEMCG"))
            e->scope = OOM_SCOPE_MEMCG;
        else if (!strcmp(e->constraint, "CONSTRAINT_CPUSET"))
            e->scope = OOM_SCOPE_CPUSET;
        else if (!strcmp(e->constraint, "CONSTRAINT_MEMORY_POLICY"))
            e->scope = OOM_SCOPE_MEMPOLICY;
        else
            e->scope = OOM_SCOPE_UNKNOWN;
    } else if (e->oom_memcg || opt_has(e->mem.usage_kb) || e->stats_memcg ||
               !strcmp(msg, "Memory cgroup out of memory")) {
        e->scope = OOM_SCOPE_MEMCG;
    } else if (!strncmp(msg, "No available memory (MPOL_BIND)", 31)) {
        e->scope = OOM_SCOPE_MEMPOLICY; /* 2.6.32 and before killed current for MPOL_BIND */
    } else if (e->global_oom || !strcmp(e->panic, "system-wide")) {
        /* panic_on_oom=1 panics only for CONSTRAINT_NONE */
        e->scope = OOM_SCOPE_GLOBAL;
    } else if (e->meminfo || !strncmp(msg, "Out of memory", 13) ||
               !strncmp(msg, "Out of Memory", 13)) {
        /* not a memcg; the whole machine unless a cpuset or mempolicy limited the nodes. The
         * root cpuset spans every node, and a machine whose root cpuset has node 0 only has
         * one node; with no nodemask (4.9-4.18 print "(null)") no mempolicy was involved. */
        bool root_cpuset = !strcmp(e->cpuset, "/");
        if (single_node(e) || (root_cpuset && !strcmp(e->nodemask, "(null)")))
            e->scope = OOM_SCOPE_GLOBAL;
        else
            e->scope = OOM_SCOPE_UNKNOWN;
    } else {
        e->scope = OOM_SCOPE_UNKNOWN;
    }
}

/* A kill without its report (dump_header() is rate-limited: 10 per 5 s) right after a report of
 * the same kind was part of the same shortage: it takes that report's scope. */
static void inherit_scope(struct oomlog *p, struct oom_event *e)
{
    /* a header whose report was cut (elided) says no more than no header */
    if (e->scope != OOM_SCOPE_UNKNOWN || (e->header && !e->elided) || e->summary || e->meminfo ||
        e->table || !e->nvictims || p->nevents < 2 || e != &p->events[p->nevents - 1])
        return;
    const struct oom_event *prev = &p->events[p->nevents - 2];
    const struct oom_victim *a = oom_event_primary(prev), *b = oom_event_primary(e);
    if (!a || prev->scope == OOM_SCOPE_UNKNOWN || strcmp(a->message, b->message) ||
        !b->message[0] || !opt_has(a->uptime_us) || !opt_has(b->uptime_us) ||
        b->uptime_us < a->uptime_us || b->uptime_us - a->uptime_us > OOMLOG_GAP_US)
        return;
    e->scope = prev->scope;
    e->scope_inherited = true;
}

void oomlog_close_event(struct oomlog *p, struct oom_event *e)
{
    /* the page size: the victim's total-vm in kB over its task-table total_vm in pages */
    for (size_t i = 0; i < e->nvictims && !opt_has(e->page_kb); i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->has_row && opt_has(v->total_vm_kb) && opt_has(v->row.total_vm) && v->row.total_vm &&
            v->total_vm_kb % v->row.total_vm == 0) {
            uint64_t k = v->total_vm_kb / v->row.total_vm;
            if (k && k <= 1024 && (k & (k - 1)) == 0)
                e->page_kb = k;
        }
    }
    for (size_t i = 0; i < e->nvictims; i++) {
        struct oom_victim *v = &e->victims[i];
        /* early 5.4.y printed pgtables in bytes with a kB suffix (fixed in 5.5) */
        if (v->has_row && opt_has(v->pgtables_kb) && opt_has(v->row.pgtables_bytes) &&
            v->row.pgtables_bytes >= 4096 && v->pgtables_kb == v->row.pgtables_bytes) {
            v->pgtables_kb /= 1024;
            v->pgtables_were_bytes = true;
        }
    }
    if (opt_has_i64(e->invoker_pid)) {
        const struct oom_task *row = find_row(e, e->invoker_pid);
        if (row) {
            e->has_invoker_row = true;
            e->invoker_row = *row;
        }
    }
    /* the summary line alone (grepped for its memcg path, or the text cut before the kill line)
     * still names the task oom_kill_process() chose: the summary is printed (4.19+) right before
     * that task, or since 5.x its whole memcg, is killed */
    if (e->summary && !e->nvictims && !e->selected_set && opt_has_i64(e->summary_pid) &&
        e->summary_task[0]) {
        e->selected_set = true;
        e->selected_pid = e->summary_pid;
        memcpy(e->selected_comm, e->summary_task, sizeof(e->selected_comm));
    }
    compact_rows(e);
    decide_scope(e);
    inherit_scope(p, e);
    oomlog_user_absorb(p, e);
}

static bool kernel_has_reaper(const struct oomlog *p, const struct oom_event *e)
{
    if (p->saw_reaper)
        return true;
    /* symbolic GFP flags in the header came with the reaper (4.6); the summary line is 5.0,
     * the "<msg>: Killed process" form 5.1 */
    if (e->gfp_flags[0] || e->summary)
        return true;
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].message[0] && opt_has(e->victims[i].pgtables_kb))
            return true; /* the 5.4+ kill line */
    if (e->kernel_release[0]) {
        unsigned maj = 0, min = 0;
        const char *s = e->kernel_release;
        while (is_digit(*s))
            maj = maj * 10 + (unsigned)(*s++ - '0');
        if (*s == '.')
            s++;
        while (is_digit(*s))
            min = min * 10 + (unsigned)(*s++ - '0');
        return maj > 4 || (maj == 4 && min >= 6);
    }
    return false;
}

static bool contains_folded(const char *hay, const char *needle, bool icase)
{
    size_t n = strlen(needle), h = strlen(hay);
    for (size_t i = 0; i + n <= h; i++) {
        size_t j = 0;
        for (; j < n; j++) {
            char a = hay[i + j], b = needle[j];
            if (icase) {
                a = (char)(a >= 'A' && a <= 'Z' ? a + 32 : a);
                b = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            }
            if (a != b)
                break;
        }
        if (j == n)
            return true;
    }
    return false;
}

/* No reaper line, where the text would show one: the reaper did not reap (the victim exited
 * and freed its memory first, which sets MMF_OOM_SKIP and silences the reaper). */
void oomlog_infer_reaped(struct oomlog *p, struct oom_event *e)
{
    if (e->record != OOM_RECORD_KERNEL || !kernel_has_reaper(p, e))
        return;
    /* a kill line alone in text (no report, not known to be rate-limited) is most likely a
     * selection of lines (grep, a quote): what is between the lines is not known */
    if (!p->grep_filter && !oom_event_report_printed(e) && !e->rate_limited)
        return;
    for (size_t i = 0; i < e->nvictims; i++) {
        struct oom_victim *v = &e->victims[i];
        if (v->reaped != -1 || v->kind == OOM_VICTIM_EXITING)
            continue;
        bool covered = false;
        if (p->grep_filter) {
            /* grep would have kept "oom_reaper: reaped process <pid> (<comm>), now ..." */
            char line[160];
            snprintf(line, sizeof(line),
                     "oom_reaper: reaped process %lld (%s), now anon-rss:", (long long)v->pid,
                     v->comm);
            covered = contains_folded(line, p->grep_pattern, p->grep_icase);
        } else if (opt_has(v->uptime_us) && v->segment < p->segment_cap &&
                   opt_has(p->segment_max[v->segment])) {
            covered = p->segment_max[v->segment] >= v->uptime_us + REAPER_WINDOW_US;
        }
        if (covered) {
            v->reaped = 0;
            v->reaped_inferred = true;
        }
    }
}

bool oom_event_reportable(const struct oom_event *e)
{
    if (e->record != OOM_RECORD_KERNEL)
        return !e->merged && e->user;
    return e->header || e->nvictims || e->selected_set || e->no_killable || e->panic[0];
}

bool oom_victim_duplicate(const struct oom_victim *x, const struct oom_victim *y)
{
    if (x->pid != y->pid || strcmp(x->comm, y->comm) || x->total_vm_kb != y->total_vm_kb ||
        x->anon_rss_kb != y->anon_rss_kb || x->file_rss_kb != y->file_rss_kb)
        return false;
    /* the same kill pasted twice, or in two forms (syslog's time, dmesg's uptime): stamps of
     * one kind must agree; of different kinds they cannot be compared */
    if (opt_has(x->uptime_us) && opt_has(y->uptime_us))
        return x->uptime_us == y->uptime_us;
    if (x->time[0] && y->time[0])
        return !strcmp(x->time, y->time);
    return true;
}

bool oom_event_duplicate(const struct oom_event *a, const struct oom_event *b)
{
    if (!a->nvictims || !b->nvictims)
        return false;
    return oom_victim_duplicate(&a->victims[0], &b->victims[0]);
}
