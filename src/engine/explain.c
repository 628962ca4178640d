#include "explain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/fmt.h"
#include "../base/json.h"
#include "../base/limits.h"
#include "../base/opt.h"
#include "../base/table.h"
#include "../model/cgpath.h"
#include "../model/identity.h"
#include "../model/kver.h"
#include "../model/oomlog.h"

/* page_counter's "max" (PAGE_COUNTER_MAX pages, 2^53 kB and a bit less), and res_counter's
 * ULLONG_MAX bytes before 3.19: both mean "no limit" */
#define UNLIMITED_KB (1ull << 50)

static bool unlimited(uint64_t kb)
{
    return opt_has(kb) && kb >= UNLIMITED_KB;
}

static const char *kb_str(char out[24], uint64_t kb)
{
    return fmt_size_long(out, kb * 1024);
}

/* pages as a size when the page size is known, else as a count */
static const char *pages_str(char out[40], const struct oom_event *e, uint64_t pages)
{
    if (opt_has(e->page_kb)) {
        char s[24];
        snprintf(out, 40, "%s", fmt_size_long(s, pages * e->page_kb * 1024));
    } else {
        snprintf(out, 40, "%" PRIu64 " pages", pages);
    }
    return out;
}

/* cgroup v2: the "swap:" line (5.3+ prints it instead of memory+swap/kmem on v2), or
 * memory.oom.group, which exists only there */
static bool is_v2(const struct oom_event *e)
{
    return opt_has(e->swap.usage_kb) || e->group_memcg;
}

/* cgroup v1: memory+swap/kmem lines are v1-only from 5.3 on; before 4.5 there was no v2 memcg.
 * Between the two, kernels printed them for v2 as well. */
static bool is_v1(const struct oom_event *e)
{
    if (!opt_has(e->memsw.usage_kb) || is_v2(e))
        return false;
    struct kver k;
    if (e->kernel_release[0] && kver_parse(e->kernel_release, &k) == 0)
        return kver_at_least(&k, 5, 3, 0) || !kver_at_least(&k, 4, 5, 0);
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* badness inputs */

/* Which oom_badness() produced the choice: the task table can be compared with it only for the
 * page-based formula (3.5+); 2.6.36-3.4 scored per mille, and before 2.6.36 the score also
 * counted children's memory, CPU time and nice (so a parent with many children could win). */
enum algo { ALGO_UNKNOWN, ALGO_OLD, ALGO_PERMILLE, ALGO_PAGES };

static enum algo event_algo(const struct oom_event *e)
{
    struct kver k;
    if (e->kernel_release[0] && kver_parse(e->kernel_release, &k) == 0) {
        if (!kver_at_least(&k, 2, 6, 36))
            return ALGO_OLD;
        return kver_at_least(&k, 3, 5, 0) ? ALGO_PAGES : ALGO_PERMILLE;
    }
    /* the report's own format dates it */
    const struct oom_task *r = e->nrows ? &e->rows[0] : NULL;
    if (r && (opt_has(r->pgtables_bytes) || opt_has(r->nr_pmds) || opt_has(r->rss_anon)))
        return ALGO_PAGES; /* 4.0+ */
    if (e->summary || e->gfp_flags[0])
        return ALGO_PAGES; /* 5.0+, 4.6+ */
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].message[0] && opt_has(e->victims[i].pgtables_kb))
            return ALGO_PAGES; /* 5.4+ */
    return ALGO_UNKNOWN;
}

struct bad {
    uint64_t rss, swap, pt, base; /* pages */
    int64_t adj;
    bool adj_known;
    uint64_t total; /* the domain's pages, OPT_ABSENT when unknown */
    bool total_approx;
    int64_t adj_pages;
    int64_t points;
};

/* totalpages of the OOM domain: RAM + swap (global), the memcg limit (+ swap it may use) */
static uint64_t domain_pages(const struct oom_event *e, bool *approx)
{
    *approx = false;
    if (!opt_has(e->page_kb) || !e->page_kb)
        return OPT_ABSENT;
    if (e->scope == OOM_SCOPE_MEMCG) {
        if (!opt_has(e->mem.limit_kb) || unlimited(e->mem.limit_kb))
            return OPT_ABSENT;
        /* mem_cgroup_get_max() adds swap when the cgroup may swap; the report shows the swap
         * limit but not the machine's swap or the cgroup's swappiness */
        if ((opt_has(e->swap.limit_kb) && e->swap.limit_kb > 0) ||
            (opt_has(e->memsw.limit_kb) && e->memsw.limit_kb > e->mem.limit_kb))
            *approx = true;
        return e->mem.limit_kb / e->page_kb;
    }
    if (e->scope == OOM_SCOPE_GLOBAL && opt_has(e->ram_pages)) {
        uint64_t ram =
            e->ram_pages - (opt_has(e->reserved_pages) && e->reserved_pages <= e->ram_pages
                                ? e->reserved_pages
                                : 0);
        if (!opt_has(e->total_swap_kb))
            *approx = true;
        return ram + (opt_has(e->total_swap_kb) ? e->total_swap_kb / e->page_kb : 0);
    }
    return OPT_ABSENT;
}

static bool badness_of(const struct oom_event *e, const struct oom_task *r, struct bad *b)
{
    if (!opt_has(r->rss))
        return false;
    memset(b, 0, sizeof(*b));
    b->rss = r->rss;
    b->swap = opt_has(r->swapents) ? r->swapents : 0;
    if (opt_has(r->pgtables_bytes)) {
        if (!opt_has(e->page_kb))
            return false;
        b->pt = r->pgtables_bytes / (e->page_kb * 1024);
    } else {
        b->pt = (opt_has(r->nr_ptes) ? r->nr_ptes : 0) + (opt_has(r->nr_pmds) ? r->nr_pmds : 0);
    }
    b->base = b->rss + b->swap + b->pt;
    b->adj_known = opt_has_i64(r->oom_score_adj);
    b->adj = b->adj_known ? r->oom_score_adj : 0;
    b->total = domain_pages(e, &b->total_approx);
    /* text that no kernel prints (adj beyond +-1000, more than 2^52 pages) gets no points:
     * the arithmetic would overflow */
    if (b->adj < -1000 || b->adj > 1000 || b->base > (1ull << 52) ||
        (opt_has(b->total) && b->total > (1ull << 52)))
        b->total = OPT_ABSENT;
    if (opt_has(b->total)) {
        /* oom_badness(): adj *= totalpages / 1000 (integer division first) */
        b->adj_pages = b->adj * (int64_t)(b->total / 1000);
        b->points = (int64_t)b->base + b->adj_pages;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* text */

struct out {
    struct buf *b;
    const struct explain_style *st;
    int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(o->b, fmt, ap);
    va_end(ap);
    if (r < 0 && !o->err)
        o->err = r;
}

/* kernel text in prose: control bytes and invalid UTF-8 become '?' */
static void put_text(struct out *o, const char *s)
{
    int r = text_sanitize_into(o->b, s, strlen(s));
    if (r < 0 && !o->err)
        o->err = r;
}

static void label(struct out *o, const char *name)
{
    put(o, "  %-8s ", name);
}

static void style(struct out *o, enum table_style s)
{
    if (o->st && o->st->color)
        put(o, "%s", style_ansi(s));
}

static void unstyle(struct out *o)
{
    if (o->st && o->st->color)
        put(o, "%s", STYLE_RESET);
}

static void put_task(struct out *o, const char *comm, int64_t pid)
{
    put_text(o, comm[0] ? comm : "?");
    if (opt_has_i64(pid))
        put(o, " (pid %" PRId64 ")", pid);
}

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

static void scope_text(struct out *o, const struct oom_event *e)
{
    char a[24], b[24], c[40];
    label(o, "Limit");
    switch (e->scope) {
    case OOM_SCOPE_MEMCG: {
        const char *path = e->oom_memcg ? e->oom_memcg : e->stats_memcg;
        if (e->scope_inherited) {
            put(o, "a memory cgroup, as in the report before it (%s)\n", own_report_missing(e));
            break;
        }
        if (!path && e->rate_limited) {
            put(o, "a memory cgroup (the kill line says so; the report that would name it was "
                   "rate-limited)\n");
            break;
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
        break;
    }
    case OOM_SCOPE_GLOBAL:
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

static void put_int(struct out *o, int64_t v)
{
    /* thousands separators make page counts readable: 1,795,214 */
    char tmp[32], res[48];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v < 0 ? -v : v);
    size_t k = 0;
    if (v < 0)
        res[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            res[k++] = ',';
        res[k++] = tmp[i];
    }
    res[k] = '\0';
    put(o, "%s", res);
}

static void why_unknown_others(struct out *o, const struct oom_event *e)
{
    label(o, "");
    if (!e->table)
        put(o, "the report has no task table here (cut, rate-limited or vm.oom_dump_tasks=0): "
               "the other candidates are not known\n");
    else if (e->table_inferred)
        put(o, "only part of the task table is in the text: the other candidates are not known\n");
    else
        put(o, "its row is not in the text's task table\n");
}

static void why_text(struct out *o, const struct oom_event *e, bool compact)
{
    const struct oom_victim *v = oom_event_primary(e);
    if (!v || v->kind == OOM_VICTIM_EXITING)
        return;
    enum algo algo = event_algo(e);
    /* the task the killer scored: the victim, or the parent it sacrificed a child for */
    const struct oom_task *scored = NULL;
    if (v->kind == OOM_VICTIM_CHILD) {
        for (size_t i = 0; i < e->nrows && !scored; i++)
            if (e->rows[i].pid == e->selected_pid)
                scored = &e->rows[i];
    } else if (v->has_row) {
        scored = &v->row;
    }
    int64_t adj = opt_has_i64(v->oom_score_adj) ? v->oom_score_adj
                  : v->has_row                  ? v->row.oom_score_adj
                                                : OPT_ABSENT_I64;
    struct bad vb;
    bool have = scored && badness_of(e, scored, &vb);
    if (compact && !have && !(opt_has_i64(adj) && adj > 0) && !opt_has_i64(v->score))
        return;
    label(o, "Why");
    if (v->kind == OOM_VICTIM_CHILD) {
        put(o, "the killer scored ");
        put_task(o, e->selected_comm, e->selected_pid);
        put(o, " highest");
        if (opt_has_i64(e->selected_score))
            put(o, " (score %" PRId64 ")", e->selected_score);
        if (algo == ALGO_OLD || algo == ALGO_UNKNOWN)
            put(o, "; kernels before 2.6.36 added half of each child's memory to a parent's "
                   "score, so a parent of many children can win");
        put(o, "\n");
        return;
    }
    if (!have) {
        if (opt_has_i64(v->score))
            put(o, "the highest badness: score %" PRId64 " (thousandths of the OOM domain)",
                v->score);
        else
            put(o, "the highest badness in the OOM domain");
        if (opt_has_i64(adj) && adj > 0)
            put(o,
                "; oom_score_adj %" PRId64 " added %" PRId64 "/1000 of the domain to it, so "
                "a small process outranks larger ones",
                adj, adj);
        else if (opt_has_i64(adj) && adj < 0)
            put(o, "; its oom_score_adj %" PRId64 " lowered it, yet it still ranked first", adj);
        put(o, "\n");
        if (!compact)
            why_unknown_others(o, e);
        return;
    }
    char a[40], b[40];
    put(o, "badness ");
    put_int(o, (int64_t)vb.base);
    put(o, " pages = ");
    put_int(o, (int64_t)vb.rss);
    put(o, " resident + ");
    put_int(o, (int64_t)vb.swap);
    put(o, " swapped + ");
    put_int(o, (int64_t)vb.pt);
    put(o, " page-table pages");
    if (opt_has_i64(v->score))
        put(o, " (printed score %" PRId64 ")", v->score);
    put(o, "\n");
    bool pages = algo == ALGO_PAGES && opt_has(vb.total);
    if (vb.adj_known && vb.adj != 0) {
        label(o, "");
        if (pages) {
            put(o, "oom_score_adj %" PRId64 " adds %" PRId64 " x ", vb.adj, vb.adj);
            put_int(o, (int64_t)vb.total);
            put(o, "/1000 = ");
            put_int(o, vb.adj_pages);
            put(o, " pages (%s%s) -> ", vb.adj_pages < 0 ? "-" : "",
                pages_str(a, e, (uint64_t)(vb.adj_pages < 0 ? -vb.adj_pages : vb.adj_pages)));
            put_int(o, vb.points);
            put(o, " points%s\n", vb.total_approx ? " (about: the domain may include swap)" : "");
        } else {
            put(o,
                "oom_score_adj %" PRId64 " %s %" PRId64 "/1000 of the OOM domain's pages "
                "(%s; its size is not in the text)\n",
                vb.adj, vb.adj > 0 ? "adds" : "takes off", vb.adj > 0 ? vb.adj : -vb.adj,
                e->scope == OOM_SCOPE_MEMCG ? "the cgroup's limit" : "RAM + swap");
        }
    }
    if (e->table_inferred) {
        why_unknown_others(o, e);
        return;
    }
    if (algo != ALGO_PAGES) {
        label(o, "");
        put(o, "%s\n",
            algo == ALGO_PERMILLE ? "this kernel (2.6.36-3.4) scores in thousandths of the domain"
            : algo == ALGO_OLD ? "before 2.6.36 the score also counted children's memory, CPU time "
                                 "and nice, so the table's sizes alone do not decide it"
                               : "the kernel version is not in the text, so which badness formula "
                                 "chose (it changed in 2.6.36 and 3.5) is not known");
        return;
    }
    /* the runner-up by points, and the largest task if the adjustment beat it */
    const struct oom_task *next = NULL, *larger = NULL;
    struct bad nb = {0}, lb = {0};
    for (size_t i = 0; i < e->nrows; i++) {
        const struct oom_task *r = &e->rows[i];
        struct bad rb;
        if (r->pid == v->pid || r->oom_score_adj == -1000 || !badness_of(e, r, &rb))
            continue;
        int64_t pts = opt_has(rb.total) ? rb.points : (int64_t)rb.base;
        if (!next || pts > (opt_has(nb.total) ? nb.points : (int64_t)nb.base)) {
            next = r;
            nb = rb;
        }
        if (rb.base > vb.base && (!larger || rb.base > lb.base)) {
            larger = r;
            lb = rb;
        }
    }
    label(o, "");
    if (!next) {
        put(o, "%s\n",
            e->ntasks <= 1 ? "it was the only candidate in the task table"
                           : "every other task in the table was at oom_score_adj -1000");
        return;
    }
    put(o, "next in line: ");
    put_task(o, next->name, next->pid);
    put(o, ", badness ");
    put_int(o, (int64_t)nb.base);
    put(o, " pages");
    if (nb.adj_known && nb.adj) {
        put(o, ", oom_score_adj %" PRId64, nb.adj);
        if (opt_has(nb.total)) {
            put(o, " -> ");
            put_int(o, nb.points);
            put(o, " points");
        }
    }
    put(o, "\n");
    if (!larger)
        return;
    label(o, "");
    put_text(o, larger->name);
    put(o, " (pid %" PRId64 ") holds more (%s vs %s)", larger->pid, pages_str(a, e, lb.base),
        pages_str(b, e, vb.base));
    if (lb.adj_known && vb.adj_known && lb.adj < vb.adj)
        put(o, " but oom_score_adj decided it: %" PRId64 " vs %" PRId64 "\n", lb.adj, vb.adj);
    else if (e->scope == OOM_SCOPE_MEMCG)
        put(o, " but was not a candidate: not in the cgroup's subtree, or already exiting\n");
    else
        put(o, " but was not a candidate: exiting, or outside the allowed nodes\n");
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

static void workload_text(struct out *o, const struct oom_event *e)
{
    const char *cg = e->task_memcg ? e->task_memcg : e->oom_memcg;
    if (!cg)
        return;
    struct identity id;
    identity_from_cgroup(cg, &id);
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

static void title_text(struct out *o, const struct oom_event *e, size_t index, size_t total)
{
    style(o, STYLE_BOLD);
    const struct oom_victim *v = oom_event_primary(e);
    /* index 0: a single event in a stream (watch), not numbered */
    if (v && v->kind != OOM_VICTIM_EXITING)
        put(o, index ? "OOM kill %zu of %zu" : "OOM kill", index, total);
    else
        put(o, index ? "OOM %zu of %zu (no kill)" : "OOM (no kill)", index, total);
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
    if (!compact || e->scope != OOM_SCOPE_UNKNOWN)
        scope_text(&o, e);
    if (!compact)
        asked_text(&o, e);
    killed_text(&o, e);
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
    workload_text(&o, e);
    notes_text(&o, e);
    return o.err;
}

static void put_path(struct out *o, const char *path, bool short_paths)
{
    char s[128];
    if (short_paths) {
        cgpath_short(path, 40, s, sizeof(s));
        put_text(o, s);
    } else {
        put_text(o, path);
    }
}

int explain_event_line(const struct oom_event *e, bool short_paths, struct buf *b)
{
    struct out o = {.b = b};
    char a[24];
    switch (e->scope) {
    case OOM_SCOPE_GLOBAL:
        put(&o, "machine-wide");
        break;
    case OOM_SCOPE_MEMCG: {
        const char *path = e->oom_memcg ? e->oom_memcg : e->stats_memcg;
        put(&o, "memory cgroup ");
        if (path)
            put_path(&o, path, short_paths);
        else
            put(&o, "(path not in the report)");
        break;
    }
    case OOM_SCOPE_CPUSET:
        put(&o, "cpuset");
        break;
    case OOM_SCOPE_MEMPOLICY:
        put(&o, "memory policy");
        break;
    case OOM_SCOPE_UNKNOWN:
    default:
        put(&o, "scope unknown");
        break;
    }
    const struct oom_victim *v = oom_event_primary(e);
    if (!v) {
        put(&o, e->no_killable ? ": nothing could be killed" : ": no kill line in the text");
        if (e->panic[0])
            put(&o, ", kernel panic (%s)", e->panic);
        return o.err;
    }
    put(&o, v->kind == OOM_VICTIM_EXITING ? ": chose " : ": killed ");
    put_task(&o, v->comm, v->pid);
    uint64_t rss = 0;
    bool known = false;
    const uint64_t parts[3] = {v->anon_rss_kb, v->file_rss_kb, v->shmem_rss_kb};
    for (int i = 0; i < 3; i++)
        if (opt_has(parts[i])) {
            rss += parts[i];
            known = true;
        }
    if (known)
        put(&o, ", %s", kb_str(a, rss));
    int64_t adj = opt_has_i64(v->oom_score_adj) ? v->oom_score_adj
                  : v->has_row                  ? v->row.oom_score_adj
                                                : OPT_ABSENT_I64;
    if (opt_has_i64(adj))
        put(&o, short_paths ? ", adj %" PRId64 : ", oom_score_adj %" PRId64, adj);
    if (v->kind == OOM_VICTIM_EXITING)
        put(&o, " (already exiting: not killed)");
    size_t group = 0;
    for (size_t i = 1; i < e->nvictims; i++)
        group += e->victims[i].kind == OOM_VICTIM_GROUP;
    if (group)
        put(&o, ", and %zu more by memory.oom.group", group);
    if (e->task_memcg && e->scope == OOM_SCOPE_GLOBAL) {
        put(&o, " in ");
        put_path(&o, e->task_memcg, short_paths);
    }
    return o.err;
}

/* ------------------------------------------------------------------------------------------ */
/* cascades */

static bool same_domain(const struct oom_event *a, const struct oom_event *b)
{
    /* a report cut down to its header or kill line says nothing against it */
    if (a->scope == OOM_SCOPE_UNKNOWN || b->scope == OOM_SCOPE_UNKNOWN)
        return true;
    if (a->scope != b->scope)
        return false;
    if (a->scope == OOM_SCOPE_MEMCG && a->oom_memcg && b->oom_memcg && !b->scope_inherited)
        return strcmp(a->oom_memcg, b->oom_memcg) == 0;
    return true;
}

static uint64_t freed_kb(const struct oom_victim *v)
{
    uint64_t k = 0;
    if (opt_has(v->anon_rss_kb))
        k += v->anon_rss_kb;
    if (opt_has(v->shmem_rss_kb))
        k += v->shmem_rss_kb;
    return k;
}

int explain_cascades(const struct oom_event *ev, size_t n, struct cascade **ret, size_t *nret)
{
    *ret = NULL;
    *nret = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < n) {
        const struct oom_victim *v = oom_event_primary(&ev[i]);
        if (!v || v->kind == OOM_VICTIM_EXITING || !opt_has(v->uptime_us)) {
            i++;
            continue;
        }
        size_t j = i;
        uint64_t prev = v->uptime_us;
        while (j + 1 < n) {
            const struct oom_victim *w = oom_event_primary(&ev[j + 1]);
            if (!w || w->kind == OOM_VICTIM_EXITING || !opt_has(w->uptime_us) ||
                w->uptime_us < prev || w->uptime_us - prev > EXPLAIN_CASCADE_GAP_US ||
                !same_domain(&ev[i], &ev[j + 1]))
                break;
            prev = w->uptime_us;
            j++;
        }
        if (j > i) {
            struct cascade c = {.first = i,
                                .last = j,
                                .min_invoker_adj = OPT_ABSENT_I64,
                                .asker_event = SIZE_MAX,
                                .sizes_known = true};
            c.span_us = prev - v->uptime_us;
            for (size_t k = i; k <= j; k++) {
                const struct oom_event *e = &ev[k];
                const struct oom_victim *w = oom_event_primary(e);
                c.kills += 1;
                for (size_t q = 1; q < e->nvictims; q++)
                    c.kills += e->victims[q].kind == OOM_VICTIM_GROUP;
                int64_t adj = opt_has_i64(w->oom_score_adj) ? w->oom_score_adj
                              : w->has_row                  ? w->row.oom_score_adj
                                                            : OPT_ABSENT_I64;
                if (opt_has_i64(adj) && adj > 0)
                    c.positive_adj++;
                if (!opt_has(w->anon_rss_kb))
                    c.sizes_known = false;
                if (k < j && freed_kb(w) > c.max_freed_kb)
                    c.max_freed_kb = freed_kb(w);
                if (k == j)
                    c.last_freed_kb = freed_kb(w);
                if (e->header && opt_has_i64(e->invoker_oom_score_adj) &&
                    (!opt_has_i64(c.min_invoker_adj) ||
                     e->invoker_oom_score_adj < c.min_invoker_adj))
                    c.min_invoker_adj = e->invoker_oom_score_adj;
                if (e->header && opt_has_i64(e->invoker_oom_score_adj) && e->has_invoker_row &&
                    opt_has(e->invoker_row.rss) &&
                    (c.asker_event == SIZE_MAX ||
                     e->invoker_row.rss > ev[c.asker_event].invoker_row.rss))
                    c.asker_event = k;
            }
            if (*nret == cap) {
                cap = cap ? cap * 2 : 4;
                struct cascade *nc = realloc(*ret, cap * sizeof(*nc));
                if (!nc) {
                    free(*ret);
                    *ret = NULL;
                    *nret = 0;
                    return -ENOMEM;
                }
                *ret = nc;
            }
            (*ret)[(*nret)++] = c;
        }
        i = j + 1;
    }
    return 0;
}

/* a round size above x: "2 MiB" for 1.7 MiB */
static const char *under_str(char out[24], uint64_t kb)
{
    uint64_t step = 1;
    while (step < (1ull << 50) && step * 2 <= kb + 1)
        step *= 2;
    uint64_t up = step <= kb ? step * 2 : step;
    if (up < 4)
        up = 4;
    return fmt_size_long(out, up * 1024);
}

/* The OOM domain's size in kB as the report shows it (the memcg's limit, the machine's RAM),
 * OPT_ABSENT when it does not. */
static uint64_t domain_kb(const struct oom_event *e)
{
    if (e->scope == OOM_SCOPE_MEMCG)
        return e->mem.limit_kb;
    if (e->scope == OOM_SCOPE_GLOBAL && opt_has(e->ram_pages) && opt_has(e->page_kb)) {
        uint64_t res =
            opt_has(e->reserved_pages) && e->reserved_pages <= e->ram_pages ? e->reserved_pages : 0;
        return (e->ram_pages - res) * e->page_kb;
    }
    return OPT_ABSENT;
}

int explain_cascade_text(const struct oom_event *ev, const struct cascade *c, struct buf *b)
{
    struct out o = {.b = b};
    char a[24], d[24], s[24], pg[40];
    const struct oom_event *first = &ev[c->first];
    const struct oom_victim *last = oom_event_primary(&ev[c->last]);
    put(&o, "%zu kills in %s", c->kills, fmt_duration(d, (double)c->span_us / 1e6));
    if (first->scope == OOM_SCOPE_MEMCG && first->oom_memcg) {
        put(&o, " in ");
        put_text(&o, first->oom_memcg);
    } else if (first->scope == OOM_SCOPE_GLOBAL) {
        put(&o, " (whole machine)");
    }
    size_t n = c->last - c->first + 1;
    /* "Small" is relative to what ran out: 21 MiB of a 48 MiB memcg is not (the VM's second-kill
     * race, corpus 056: the allocator outran the victim's uncharge); of 295 MiB of RAM it is */
    uint64_t dom = domain_kb(first);
    bool small = c->max_freed_kb < 64 * 1024 && (!opt_has(dom) || c->max_freed_kb * 8 < dom);
    if (n > 1 && c->sizes_known && small) {
        if (n == 2)
            put(&o, ": the first freed under %s", under_str(a, c->max_freed_kb));
        else
            put(&o, ": each of the first %zu freed under %s", n - 1, under_str(a, c->max_freed_kb));
        if (c->positive_adj)
            put(&o, " because positive oom_score_adj picked tiny processes first");
        else
            put(&o, ", so the killer fired again");
        if (c->last_freed_kb >= 2 * c->max_freed_kb && c->last_freed_kb >= 16 * 1024) {
            put(&o, "; memory came back only when ");
            put_text(&o, last->comm);
            put(&o, " (%s) was killed", kb_str(s, c->last_freed_kb));
        } else {
            put(&o,
                "; the last kill freed %s too: whatever holds the memory was never chosen "
                "(oom_score_adj -1000 or strongly negative, or kernel memory)",
                kb_str(s, c->last_freed_kb));
        }
    } else {
        put(&o, ": the killer fired again after each kill");
    }
    /* Only the asker that holds the memory explains why the others went first: in the VM's
     * node-crash cascade (corpus 055) a busybox sh at -1000, forking, invoked two of the OOMs
     * the -997 pod caused. Without task-table rows the lowest adj of any asker is all we have. */
    if (c->asker_event != SIZE_MAX) {
        const struct oom_event *a_ev = &ev[c->asker_event];
        if (a_ev->invoker_oom_score_adj < -500) {
            put(&o, "; the task asking for memory, ");
            put_text(&o, a_ev->invoker_comm[0] ? a_ev->invoker_comm : "(no name)");
            put(&o,
                " (pid %" PRId64 ", %s), ran at oom_score_adj %" PRId64
                ", so the killer took the others first",
                a_ev->invoker_pid, pages_str(pg, a_ev, a_ev->invoker_row.rss),
                a_ev->invoker_oom_score_adj);
        }
    } else if (opt_has_i64(c->min_invoker_adj) && c->min_invoker_adj < -500) {
        put(&o,
            "; a task asking for memory ran at oom_score_adj %" PRId64 ", so the killer took "
            "the others first",
            c->min_invoker_adj);
    }
    put(&o, ".\n");
    return o.err;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON */

static void json_opt_str(struct json *j, const char *k, const char *v)
{
    json_kv_str(j, k, v && v[0] ? v : NULL);
}

static void json_uptime(struct json *j, const char *k, uint64_t us)
{
    if (!opt_has(us)) {
        json_kv_null(j, k);
        return;
    }
    json_key(j, k);
    json_double(j, (double)us / 1e6, 6);
}

static void json_counter(struct json *j, const char *k, const struct oom_counter *c)
{
    json_key(j, k);
    if (!opt_has(c->usage_kb) && !opt_has(c->limit_kb)) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_u64_opt(j, "usage_kb", c->usage_kb);
    json_kv_u64_opt(j, "limit_kb", c->limit_kb);
    json_kv_u64_opt(j, "failcnt", c->failcnt);
    json_obj_end(j);
}

static void json_task(struct json *j, const struct oom_task *r)
{
    json_obj_begin(j);
    json_kv_i64_opt(j, "pid", r->pid);
    json_kv_i64_opt(j, "uid", r->uid);
    json_kv_i64_opt(j, "tgid", r->tgid);
    json_kv_u64_opt(j, "total_vm_pages", r->total_vm);
    json_kv_u64_opt(j, "rss_pages", r->rss);
    json_kv_u64_opt(j, "rss_anon_pages", r->rss_anon);
    json_kv_u64_opt(j, "rss_file_pages", r->rss_file);
    json_kv_u64_opt(j, "rss_shmem_pages", r->rss_shmem);
    json_kv_u64_opt(j, "pgtables_bytes", r->pgtables_bytes);
    json_kv_u64_opt(j, "nr_ptes", r->nr_ptes);
    json_kv_u64_opt(j, "nr_pmds", r->nr_pmds);
    json_kv_u64_opt(j, "swapents", r->swapents);
    json_kv_i64_opt(j, "cpu", r->cpu);
    json_kv_i64_opt(j, "oom_adj", r->oom_adj);
    json_kv_i64_opt(j, "oom_score_adj", r->oom_score_adj);
    json_kv_str(j, "name", r->name);
    json_obj_end(j);
}

static void json_badness(struct json *j, const struct oom_event *e, const struct oom_victim *v)
{
    struct bad b;
    json_key(j, "badness");
    if (!v->has_row || !badness_of(e, &v->row, &b)) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_u64(j, "rss_pages", b.rss);
    json_kv_u64(j, "swap_pages", b.swap);
    json_kv_u64(j, "pgtables_pages", b.pt);
    json_kv_u64(j, "base_pages", b.base);
    if (b.adj_known)
        json_kv_i64(j, "oom_score_adj", b.adj);
    else
        json_kv_null(j, "oom_score_adj");
    json_kv_u64_opt(j, "totalpages", b.total);
    json_kv_bool(j, "totalpages_approximate", b.total_approx);
    if (opt_has(b.total)) {
        json_kv_i64(j, "adj_pages", b.adj_pages);
        json_kv_i64(j, "points", b.points);
    } else {
        json_kv_null(j, "adj_pages");
        json_kv_null(j, "points");
    }
    json_obj_end(j);
}

static void json_victim(struct json *j, const struct oom_event *e, const struct oom_victim *v)
{
    json_obj_begin(j);
    json_kv_i64_opt(j, "pid", v->pid);
    json_opt_str(j, "comm", v->comm);
    json_kv_u64_opt(j, "total_vm_kb", v->total_vm_kb);
    json_kv_u64_opt(j, "anon_rss_kb", v->anon_rss_kb);
    json_kv_u64_opt(j, "file_rss_kb", v->file_rss_kb);
    json_kv_u64_opt(j, "shmem_rss_kb", v->shmem_rss_kb);
    json_kv_i64_opt(j, "uid", v->uid);
    json_kv_u64_opt(j, "pgtables_kb", v->pgtables_kb);
    json_kv_i64_opt(j, "oom_score_adj", v->oom_score_adj);
    json_kv_i64_opt(j, "score", v->score);
    json_key(j, "reaped");
    if (v->reaped < 0)
        json_null(j);
    else
        json_bool(j, v->reaped == 1);
    json_kv_bool(j, "reaped_inferred", v->reaped_inferred);
    json_kv_bool(j, "group_kill", v->kind == OOM_VICTIM_GROUP);
    json_kv_str(j, "kind", oom_victim_kind_name(v->kind));
    json_opt_str(j, "message", v->message);
    json_opt_str(j, "time", v->time);
    json_uptime(j, "uptime_s", v->uptime_us);
    json_key(j, "after_reap");
    if (v->reaped == 1 && opt_has(v->reaped_anon_kb)) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "anon_rss_kb", v->reaped_anon_kb);
        json_kv_u64_opt(j, "file_rss_kb", v->reaped_file_kb);
        json_kv_u64_opt(j, "shmem_rss_kb", v->reaped_shmem_kb);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_kv_bool(j, "pgtables_printed_in_bytes", v->pgtables_were_bytes);
    json_kv_bool(j, "line_rejoined", v->line_rejoined);
    json_kv_bool(j, "line_cut", v->line_cut);
    json_key(j, "task");
    if (v->has_row)
        json_task(j, &v->row);
    else
        json_null(j);
    json_badness(j, e, v);
    json_obj_end(j);
}

int explain_event_json(const struct oom_event *e, struct json *j)
{
    json_obj_begin(j);
    json_opt_str(j, "time", e->time);
    json_uptime(j, "uptime_s", e->uptime_us);
    json_opt_str(j, "kernel_release", e->kernel_release);
    json_kv_bool(j, "header", e->header);
    json_key(j, "invoker");
    if (e->header) {
        json_obj_begin(j);
        json_opt_str(j, "comm", e->invoker_comm);
        json_kv_i64_opt(j, "pid", e->invoker_pid);
        if (e->gfp_mask_set) {
            char g[24];
            snprintf(g, sizeof(g), "%#" PRIx64, e->gfp_mask);
            json_kv_str(j, "gfp_mask", e->gfp_mask ? g : "0x0");
        } else {
            json_kv_null(j, "gfp_mask");
        }
        json_opt_str(j, "gfp_flags", e->gfp_flags);
        json_kv_i64_opt(j, "order", e->order);
        json_kv_i64_opt(j, "oom_score_adj", e->invoker_oom_score_adj);
        json_kv_i64_opt(j, "oom_adj", e->invoker_oom_adj);
        json_key(j, "task");
        if (e->has_invoker_row)
            json_task(j, &e->invoker_row);
        else
            json_null(j);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_opt_str(j, "constraint", e->constraint);
    json_kv_str(j, "scope", oom_scope_name(e->scope));
    json_kv_bool(j, "scope_inherited", e->scope_inherited);
    json_opt_str(j, "nodemask", e->nodemask);
    json_opt_str(j, "cpuset", e->cpuset);
    json_opt_str(j, "mems_allowed", e->mems_allowed);
    json_kv_bool(j, "global_oom", e->global_oom);
    json_kv_str(j, "oom_memcg", e->oom_memcg);
    json_kv_str(j, "task_memcg", e->task_memcg);
    json_key(j, "memcg");
    bool memcg = opt_has(e->mem.usage_kb) || opt_has(e->mem.limit_kb) || e->stats_memcg;
    if (memcg) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "usage_kb", e->mem.usage_kb);
        json_kv_u64_opt(j, "limit_kb", e->mem.limit_kb);
        json_kv_u64_opt(j, "failcnt", e->mem.failcnt);
        json_counter(j, "swap", &e->swap);
        json_counter(j, "memsw", &e->memsw);
        json_counter(j, "kmem", &e->kmem);
        json_kv_str(j, "stats_for", e->stats_memcg);
        json_key(j, "stats");
        json_obj_begin(j);
        json_kv_u64_opt(j, "anon_bytes", e->stat_anon);
        json_kv_u64_opt(j, "file_bytes", e->stat_file);
        json_kv_u64_opt(j, "kernel_bytes", e->stat_kernel);
        json_kv_u64_opt(j, "slab_bytes", e->stat_slab);
        json_kv_u64_opt(j, "shmem_bytes", e->stat_shmem);
        json_kv_u64_opt(j, "sock_bytes", e->stat_sock);
        json_kv_u64_opt(j, "swap_bytes", e->stat_swap);
        json_obj_end(j);
        json_kv_u64_opt(j, "min_protection_kb", e->min_protection_kb);
        json_kv_u64_opt(j, "low_protection_kb", e->low_protection_kb);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_key(j, "machine");
    if (e->meminfo) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "page_kb", e->page_kb);
        json_kv_u64_opt(j, "ram_pages", e->ram_pages);
        json_kv_u64_opt(j, "reserved_pages", e->reserved_pages);
        json_kv_u64_opt(j, "free_swap_kb", e->free_swap_kb);
        json_kv_u64_opt(j, "total_swap_kb", e->total_swap_kb);
        json_kv_u64_opt(j, "free_pages", e->mi_free);
        json_kv_u64_opt(j, "active_anon_pages", e->mi_active_anon);
        json_kv_u64_opt(j, "inactive_anon_pages", e->mi_inactive_anon);
        json_kv_u64_opt(j, "active_file_pages", e->mi_active_file);
        json_kv_u64_opt(j, "inactive_file_pages", e->mi_inactive_file);
        json_kv_u64_opt(j, "shmem_pages", e->mi_shmem);
        json_kv_u64_opt(j, "slab_reclaimable_pages", e->mi_slab_reclaimable);
        json_kv_u64_opt(j, "slab_unreclaimable_pages", e->mi_slab_unreclaimable);
        json_kv_u64_opt(j, "slab_pages", e->mi_slab);
        json_kv_u64_opt(j, "unevictable_pages", e->mi_unevictable);
        json_kv_u64_opt(j, "pagetables_pages", e->mi_pagetables);
        json_kv_bool(j, "unreclaimable_slab_dump", e->unreclaimable_slab);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_key(j, "victims");
    json_arr_begin(j);
    for (size_t i = 0; i < e->nvictims; i++)
        json_victim(j, e, &e->victims[i]);
    json_arr_end(j);
    json_key(j, "selected");
    if (e->selected_set) {
        json_obj_begin(j);
        json_kv_i64_opt(j, "pid", e->selected_pid);
        json_kv_str(j, "comm", e->selected_comm);
        json_kv_i64_opt(j, "score", e->selected_score);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_kv_str(j, "group_memcg", e->group_memcg);
    json_kv_bool(j, "no_killable", e->no_killable);
    json_opt_str(j, "panic", e->panic);
    json_kv_u64(j, "suppressed_reports", e->suppressed_reports);
    json_kv_bool(j, "rate_limited", e->rate_limited);
    json_kv_bool(j, "elided", e->elided);
    json_kv_bool(j, "sysrq", e->sysrq);
    if (e->table) {
        json_kv_u64(j, "tasks_listed", e->ntasks);
        json_kv_u64(j, "tasks_oom_score_adj_min", e->ntasks_adj_min);
    } else {
        json_kv_null(j, "tasks_listed");
        json_kv_null(j, "tasks_oom_score_adj_min");
    }
    json_kv_bool(j, "task_table_layout_inferred", e->table_inferred);
    json_key(j, "top_tasks");
    json_arr_begin(j);
    for (size_t i = 0; i < e->nrows; i++)
        json_task(j, &e->rows[i]);
    json_arr_end(j);
    json_key(j, "identity");
    const char *cg = e->task_memcg ? e->task_memcg : e->oom_memcg;
    if (cg) {
        struct identity id;
        identity_from_cgroup(cg, &id);
        identity_to_json(&id, j);
    } else {
        json_null(j);
    }
    struct buf text = BUF_INIT(CAP_OUTPUT);
    struct explain_style plain = {.color = false};
    int r = explain_event_text(e, 1, 1, &plain, &text);
    if (r < 0) {
        buf_release(&text);
        return r;
    }
    /* without the title line: time and number are fields of their own */
    const char *body = buf_cstr(&text);
    const char *nl = strchr(body, '\n');
    json_kv_str(j, "explanation", nl ? nl + 1 : body);
    buf_release(&text);
    json_obj_end(j);
    return json_error(j);
}
