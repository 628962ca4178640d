#include "victims.h"

#include <errno.h>
#include <stdlib.h>

#include "base/json.h"
#include "base/opt.h"
#include "model/meminfo.h"
#include "procs.h"

uint64_t victims_global_totalpages(const struct meminfo *mi, long page_size)
{
    uint64_t ram = opt_has(mi->mem_total) ? mi->mem_total / (uint64_t)page_size : 0;
    uint64_t swap = opt_has(mi->swap_total) ? mi->swap_total / (uint64_t)page_size : 0;
    return ram + swap;
}

/* The oom_score a reading predicts, or -1 when the process cannot be scored from it. */
static int64_t predicted_score(const struct proc *p, const struct victim_params *vp,
                               enum badness_algo algo, enum rss_source src)
{
    struct badness_input in;
    if (!badness_input_from_proc(p, vp->page_size, p->pid == 1, src, &in))
        return -1;
    int64_t pts = 0;
    bool e = badness_points(algo, &in, vp->global_totalpages, &pts);
    return (int64_t)badness_oom_score(algo, e, pts, vp->global_totalpages);
}

enum rss_source victims_detect_rss_source(const struct proc *const *procs, size_t n,
                                          const struct victim_params *vp, const char **ret_reason)
{
    const struct kver *k = vp->kernel;
    if (k->known && !kver_at_least(k, 6, 2, 0)) {
        *ret_reason = "before 6.2 stat and status read the same RSS counters the kernel scores";
        return RSS_FROM_STAT;
    }
    enum badness_algo algo = badness_algo_for(k);
    size_t votes_stat = 0, votes_status = 0;
    for (size_t i = 0; i < n; i++) {
        const struct proc *p = procs[i];
        if (!p->has_oom || !p->has_mm)
            continue;
        int64_t a = predicted_score(p, vp, algo, RSS_FROM_STAT);
        int64_t b = predicted_score(p, vp, algo, RSS_FROM_STATUS);
        if (a == b || a < 0)
            continue;
        if (a == p->oom_score)
            votes_stat++;
        else if (b == p->oom_score)
            votes_status++;
    }
    if (votes_stat > votes_status) {
        *ret_reason = "the kernel scores get_mm_rss(), the approximate per-CPU counters "
                      "(/proc/PID/stat rss; detected from oom_score)";
        return RSS_FROM_STAT;
    }
    if (votes_status > votes_stat) {
        *ret_reason = "the kernel scores the exact per-CPU sums (/proc/PID/status; detected from "
                      "oom_score)";
        return RSS_FROM_STATUS;
    }
    if (!k->known || kver_at_least(k, 6, 19, 0)) {
        *ret_reason = "6.19+ scores the exact per-CPU sums (/proc/PID/status)";
        return RSS_FROM_STATUS;
    }
    *ret_reason = "6.2-6.18: get_mm_rss(), the approximate per-CPU counters (/proc/PID/stat rss)";
    return RSS_FROM_STAT;
}

int victims_rank(const struct proc *const *procs, size_t n, const struct victim_params *vp,
                 struct victim_list *ret)
{
    const struct kver *k = vp->kernel;
    long page_size = vp->page_size;
    uint64_t totalpages = vp->totalpages, global_totalpages = vp->global_totalpages;
    struct victim_list l = {
        .totalpages = totalpages,
        .global_totalpages = global_totalpages,
        .algo = badness_algo_for(k),
        .later_wins_ties = badness_later_wins_ties(k),
        .at_global_oom = vp->at_global_oom,
    };
    l.rss_source = victims_detect_rss_source(procs, n, vp, &l.rss_source_reason);
    struct victim *tmp = calloc(n ? n : 1, sizeof(*tmp));
    struct badness_candidate *cand = calloc(n ? n : 1, sizeof(*cand));
    size_t *order = calloc(n ? n : 1, sizeof(*order));
    if (!tmp || !cand || !order) {
        free(tmp);
        free(cand);
        free(order);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct proc *p = procs[i];
        struct badness_input in;
        struct victim *v = &tmp[i];
        v->proc = p;
        v->scored = badness_input_from_proc(p, page_size, p->pid == 1, l.rss_source, &in);
        if (v->scored) {
            int64_t pts;
            v->eligible = badness_points(l.algo, &in, totalpages, &pts);
            v->badness = v->badness_now = v->eligible ? pts : 0;
            if (v->eligible && vp->at_global_oom) {
                struct badness_input then = in;
                badness_input_at_global_oom(&then);
                badness_points(l.algo, &then, totalpages, &v->badness);
            }
            /* oom_score is always relative to RAM + swap, whatever the domain */
            int64_t gpts = 0;
            bool ge = badness_points(l.algo, &in, global_totalpages, &gpts);
            v->oom_score_model = badness_oom_score(l.algo, ge, gpts, global_totalpages);
        }
        cand[i] = (struct badness_candidate){
            .eligible = v->eligible,
            .points = v->badness,
            .scan_key_hi = vp->scan_order ? vp->scan_order[i] : p->start_time,
            .scan_key_lo = (uint64_t)p->pid,
        };
    }
    badness_rank(cand, n, l.later_wins_ties, order);
    l.v = calloc(n ? n : 1, sizeof(*l.v));
    if (!l.v) {
        free(tmp);
        free(cand);
        free(order);
        return -ENOMEM;
    }
    size_t rank = 0;
    for (size_t i = 0; i < n; i++) {
        l.v[i] = tmp[order[i]];
        l.v[i].rank = l.v[i].eligible ? ++rank : 0;
    }
    l.n = n;
    free(tmp);
    free(cand);
    free(order);
    *ret = l;
    return 0;
}

int victims_rank_global(const struct proc_table *t, const struct kver *k, const struct meminfo *mi,
                        long page_size, struct victim_list *ret)
{
    const struct proc **ptrs = calloc(t->n ? t->n : 1, sizeof(*ptrs));
    if (!ptrs)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        ptrs[i] = &t->v[i];
    uint64_t total = victims_global_totalpages(mi, page_size);
    struct victim_params vp = {.kernel = k,
                               .page_size = page_size,
                               .totalpages = total,
                               .global_totalpages = total,
                               .at_global_oom = true};
    int r = victims_rank(ptrs, t->n, &vp, ret);
    free(ptrs);
    return r;
}

void victim_list_release(struct victim_list *l)
{
    free(l->v);
    *l = (struct victim_list){0};
}

void victim_json_fields(const struct victim *v, struct json *j)
{
    const struct proc *p = v->proc;
    json_kv_u64(j, "rank", v->rank);
    json_kv_i64(j, "pid", p->pid);
    json_kv_str(j, "comm", p->comm);
    json_kv_i64(j, "oom_score_adj", p->oom_score_adj);
    json_kv_i64(j, "badness", v->badness);
    json_kv_i64(j, "badness_now", v->badness_now);
    json_kv_u64(j, "memory", proc_rss_swap(p));
    json_kv_str(j, "cgroup", proc_cgroup_path(p));
}
