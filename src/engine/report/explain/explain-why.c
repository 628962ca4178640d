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
#include "explain-int.h"

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

/* A child killed instead of the chosen parent (<= 5.0): the parent was scored. */
static void why_child(struct out *o, const struct oom_event *e, enum algo algo)
{
    put(o, "the killer scored ");
    put_task(o, e->selected_comm, e->selected_pid);
    put(o, " highest");
    if (opt_has_i64(e->selected_score))
        put(o, " (score %" PRId64 ")", e->selected_score);
    if (algo == ALGO_OLD || algo == ALGO_UNKNOWN)
        put(o, "; kernels before 2.6.36 added half of each child's memory to a parent's "
               "score, so a parent of many children can win");
    put(o, "\n");
}

/* No task-table row to add it up from: the printed score and the adjustment, if shown. */
static void why_without_row(struct out *o, const struct oom_event *e,
                            const struct oom_victim *v, int64_t adj, bool compact)
{
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
}

/* oom_badness()'s sum and what oom_score_adj did to it */
static void why_points(struct out *o, const struct oom_event *e, const struct oom_victim *v,
                       const struct bad *vb, enum algo algo)
{
    char a[40];
    put(o, "badness ");
    put_int(o, (int64_t)vb->base);
    put(o, " pages = ");
    put_int(o, (int64_t)vb->rss);
    put(o, " resident + ");
    put_int(o, (int64_t)vb->swap);
    put(o, " swapped + ");
    put_int(o, (int64_t)vb->pt);
    put(o, " page-table pages");
    if (opt_has_i64(v->score))
        put(o, " (printed score %" PRId64 ")", v->score);
    put(o, "\n");
    if (!vb->adj_known || vb->adj == 0)
        return;
    label(o, "");
    if (algo == ALGO_PAGES && opt_has(vb->total)) {
        put(o, "oom_score_adj %" PRId64 " adds %" PRId64 " x ", vb->adj, vb->adj);
        put_int(o, (int64_t)vb->total);
        put(o, "/1000 = ");
        put_int(o, vb->adj_pages);
        put(o, " pages (%s%s) -> ", vb->adj_pages < 0 ? "-" : "",
            pages_str(a, e, (uint64_t)(vb->adj_pages < 0 ? -vb->adj_pages : vb->adj_pages)));
        put_int(o, vb->points);
        put(o, " points%s\n", vb->total_approx ? " (about: the domain may include swap)" : "");
    } else {
        put(o,
            "oom_score_adj %" PRId64 " %s %" PRId64 "/1000 of the OOM domain's pages "
            "(%s; its size is not in the text)\n",
            vb->adj, vb->adj > 0 ? "adds" : "takes off", vb->adj > 0 ? vb->adj : -vb->adj,
            e->scope == OOM_SCOPE_MEMCG ? "the cgroup's limit" : "RAM + swap");
    }
}

/* The runner-up by points, and the largest task if the adjustment beat it. */
static void why_others(struct out *o, const struct oom_event *e, const struct oom_victim *v,
                       const struct bad *vb)
{
    char a[40], b[40];
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
        if (rb.base > vb->base && (!larger || rb.base > lb.base)) {
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
        pages_str(b, e, vb->base));
    if (lb.adj_known && vb->adj_known && lb.adj < vb->adj)
        put(o, " but oom_score_adj decided it: %" PRId64 " vs %" PRId64 "\n", lb.adj, vb->adj);
    else if (e->scope == OOM_SCOPE_MEMCG)
        put(o, " but was not a candidate: not in the cgroup's subtree, or already exiting\n");
    else
        put(o, " but was not a candidate: exiting, or outside the allowed nodes\n");
}

void why_text(struct out *o, const struct oom_event *e, bool compact)
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
        why_child(o, e, algo);
        return;
    }
    if (!have) {
        why_without_row(o, e, v, adj, compact);
        return;
    }
    why_points(o, e, v, &vb, algo);
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
    why_others(o, e, v, &vb);
}
