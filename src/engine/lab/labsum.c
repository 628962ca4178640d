#include "labsum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/opt.h"

int lab_series_add(struct lab_series *s, const struct lab_sample *x)
{
    if (ARRAY_GROW(s->v, s->n, s->cap, 128) < 0)
        return -ENOMEM;
    struct lab_sample y = *x;
    y.some_rate = y.full_rate = -1;
    if (s->n && y.has_psi && s->v[s->n - 1].has_psi) {
        const struct lab_sample *p = &s->v[s->n - 1];
        double dt = (y.t - p->t) * 1e6;
        if (dt > 0 && y.psi.some.total >= p->psi.some.total &&
            y.psi.full.total >= p->psi.full.total) {
            y.some_rate = 100.0 * (double)(y.psi.some.total - p->psi.some.total) / dt;
            y.full_rate = 100.0 * (double)(y.psi.full.total - p->psi.full.total) / dt;
            /* the totals come from per-CPU clocks read at slightly different moments */
            if (y.some_rate > 100)
                y.some_rate = 100;
            if (y.full_rate > 100)
                y.full_rate = 100;
        }
    }
    s->v[s->n++] = y;
    return 0;
}

void lab_series_release(struct lab_series *s)
{
    free(s->v);
    *s = (struct lab_series){0};
}

/*
 * When the usage crossed `level` between samples `from` and `to` (linear in between; either
 * direction, and `to` may be the earlier one: the result is measured from `from`'s time toward
 * `to`'s).
 */
static double crossing(const struct lab_sample *from, const struct lab_sample *to, uint64_t level)
{
    if (to->current == from->current)
        return to->t;
    double f =
        ((double)level - (double)from->current) / ((double)to->current - (double)from->current);
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return from->t + f * (to->t - from->t);
}

/* PSI over the samples before the kill [0, upto): the first crossings and the peaks */
static void psi_before_kill(const struct lab_sample *v, size_t n, size_t upto,
                            struct lab_summary *s)
{
    for (size_t i = 0; i < upto; i++) {
        const struct lab_sample *x = &v[i];
        if (!x->has_psi)
            continue;
        if (x->psi.full.avg10 >= LAB_PSI_WARN_CENTI && s->full_cross_t < 0)
            s->full_cross_t = x->t;
        if (x->psi.some.avg10 >= LAB_PSI_WARN_CENTI && s->some_cross_t < 0)
            s->some_cross_t = x->t;
        if (x->full_rate >= LAB_PSI_WARN_CENTI / 100.0 && s->rate_cross_t < 0)
            s->rate_cross_t = x->t;
        if (x->psi.some.avg10 > s->peak_some10)
            s->peak_some10 = x->psi.some.avg10;
        if (x->psi.full.avg10 > s->peak_full10)
            s->peak_full10 = x->psi.full.avg10;
        if (x->full_rate > s->peak_full_rate)
            s->peak_full_rate = x->full_rate;
    }
    /* avg10 lags: a crossing in the samples just after the kill is still worth telling */
    if (s->killed && s->full_cross_t < 0)
        for (size_t i = upto; i < n; i++)
            if (v[i].has_psi && v[i].psi.full.avg10 >= LAB_PSI_WARN_CENTI) {
                s->full_cross_t = v[i].t;
                break;
            }
}

/* The usage the kill came at: the kernel's report, else the high-water mark, else the last
 * sample before it */
static void usage_at_kill(uint64_t report_usage, uint64_t peak, struct lab_summary *s)
{
    if (s->killed && opt_has(report_usage)) {
        s->usage_at_kill = report_usage;
        s->usage_source = LABSUM_USAGE_REPORT;
    } else if (s->killed && opt_has(peak)) {
        s->usage_at_kill = peak;
        s->usage_source = LABSUM_USAGE_PEAK;
    } else {
        s->usage_at_kill = s->killed ? s->last_before : s->peak_sampled;
        s->usage_source = LABSUM_USAGE_SAMPLE;
    }
    s->pct_of_limit = s->limit ? 100.0 * (double)s->usage_at_kill / (double)s->limit : 0;
}

/* Time above memory.high before the kill, interval by interval with the crossings
 * interpolated, then up to the kill; the growth below and above it */
static void time_above_high(const struct lab_sample *v, size_t upto, struct lab_summary *s)
{
    uint64_t high = s->high;
    if (v[0].current > high)
        s->high_first_t = v[0].t;
    for (size_t i = 1; i < upto; i++) {
        const struct lab_sample *a = &v[i - 1], *b = &v[i];
        bool ua = a->current > high, ub = b->current > high;
        if (ua && ub) {
            s->throttled_s += b->t - a->t;
        } else if (ub) {
            double c = crossing(a, b, high);
            s->throttled_s += b->t - c;
            if (s->high_first_t < 0)
                s->high_first_t = c;
        } else if (ua) {
            s->throttled_s += crossing(b, a, high) - a->t;
        }
    }
    if (s->killed && v[upto - 1].current > high && s->kill_t > v[upto - 1].t)
        s->throttled_s += s->kill_t - v[upto - 1].t;
    const struct lab_sample *first = &v[0];
    double t_cross = s->high_first_t;
    if (t_cross > first->t)
        s->growth_below = ((double)high - (double)first->current) / (t_cross - first->t);
    if (t_cross >= 0 && s->last_before_t > t_cross)
        s->growth_above = ((double)s->last_before - (double)high) / (s->last_before_t - t_cross);
}

void labsum_compute(const struct lab_sample *v, size_t n, uint64_t limit, uint64_t high,
                    double kill_t, uint64_t report_usage, uint64_t peak, struct lab_summary *ret)
{
    struct lab_summary s = {
        .killed = kill_t >= 0,
        .kill_t = kill_t,
        .limit = limit,
        .high = high,
        .full_cross_t = -1,
        .some_cross_t = -1,
        .rate_cross_t = -1,
        .high_first_t = -1,
        .growth_below = -1,
        .growth_above = -1,
        .last_before_t = -1,
        .peak_full_rate = 0,
    };
    memset(&s.ev_first, 0xff, sizeof(s.ev_first));
    memset(&s.ev_last, 0xff, sizeof(s.ev_last));
    if (n == 0) {
        *ret = s;
        return;
    }
    s.ev_first = v[0].ev;
    s.ev_last = v[n - 1].ev;
    s.end_t = v[n - 1].t;
    /* samples up to the kill: [0, upto) */
    size_t upto = n;
    if (s.killed) {
        upto = 0;
        while (upto < n && v[upto].t <= kill_t)
            upto++;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].current > s.peak_sampled)
            s.peak_sampled = v[i].current;
    psi_before_kill(v, n, upto, &s);
    if (upto > 0) {
        s.last_before = v[upto - 1].current;
        s.last_before_t = v[upto - 1].t;
    }
    if (s.killed) {
        s.has_warning = s.full_cross_t >= 0;
        s.warning_s = s.has_warning ? kill_t - s.full_cross_t : 0;
        s.has_rate_warning = s.rate_cross_t >= 0;
        s.rate_warning_s = s.has_rate_warning ? kill_t - s.rate_cross_t : 0;
    }
    usage_at_kill(report_usage, peak, &s);
    if (high && cgroup_limit_set(high) && upto > 0)
        time_above_high(v, upto, &s);
    *ret = s;
}

double labsum_high_penalty_s(uint64_t usage, uint64_t high, unsigned hz)
{
    /* calculate_overage(), in pages */
    if (usage <= high || hz == 0)
        return 0;
    if (high == 0)
        high = 1;
    uint64_t overage = ((usage - high) << 20) / high;
    /* overage² overflows 64 bits beyond 4096x over: the cap has long applied by then */
    if (overage > (1ull << 32))
        return 2.0;
    unsigned long long jiffies = (unsigned long long)overage * overage * hz;
    jiffies >>= 20;
    jiffies >>= 14;
    /* × nr_pages / MEMCG_CHARGE_BATCH with nr_pages = one batch */
    if (jiffies > 2ull * hz)
        jiffies = 2ull * hz;
    if (jiffies <= hz / 100)
        return 0;
    return (double)jiffies / hz;
}

double labsum_high_to_max_s(uint64_t high, uint64_t limit, uint64_t rate, long page_size,
                            unsigned hz)
{
    if (!high || high >= limit || rate == 0 || page_size <= 0)
        return 0;
    uint64_t ps = (uint64_t)page_size, hp = high / ps, lp = limit / ps;
    double t = 0, batch_s = (double)(64 * ps) / (double)rate;
    for (uint64_t u = hp + 64; u <= lp; u += 64)
        t += batch_s + labsum_high_penalty_s(u, hp, hz);
    return t;
}
