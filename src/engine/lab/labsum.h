/*
 * The lab's timeline and the arithmetic of its summary, kept pure (no I/O) so that recorded
 * samples give the same numbers in a unit test as they did live.
 *
 * A sample is what the cgroup showed at one instant: memory.current (v1 usage_in_bytes), the
 * event counters, and PSI (avg10 and the cumulative `total`). The stall *rate* between two
 * samples, Δtotal/Δt, is the share of that interval that tasks spent stalled: unlike avg10 (an
 * average the kernel updates every 2 s and decays over 10 s) it reacts within one sample.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/cgroup/cgroup.h"
#include "model/pressure/psi.h"

/* The line a person would act on: PSI `full` avg10 at or above 10%. */
#define LAB_PSI_WARN_CENTI 1000

struct lab_sample {
    double t;                /* seconds since the eater was let go (negative: before) */
    uint64_t current;        /* bytes */
    struct cgroup_events ev; /* OPT_ABSENT fields where the version has none */
    bool has_psi;                    /* psi holds both lines of the cgroup's memory.pressure */
    struct psi psi;
    double some_rate, full_rate;     /* percent of the interval since the previous sample; -1 */
};

struct lab_series {
    struct lab_sample *v;
    size_t n, cap;
};

/* Appends a sample, deriving its stall rates from the previous one. Returns 0 or -ENOMEM. */
int lab_series_add(struct lab_series *s, const struct lab_sample *x);
void lab_series_release(struct lab_series *s);

/* Where the usage at the kill comes from, the best first. */
enum labsum_usage_source {
    LABSUM_USAGE_REPORT, /* the kernel's report: its "memory: usage" line */
    LABSUM_USAGE_PEAK,   /* the cgroup's high-water mark (memory.peak, v1 max_usage_in_bytes):
                            an OOM kill happens at the limit, so the peak is where it came. For
                            a kill whose report the kernel rate-limited (no usage line) */
    LABSUM_USAGE_SAMPLE, /* the last sample before the kill (without a kill: the highest) */
};

struct lab_summary {
    bool killed;
    double kill_t;        /* seconds; valid when killed */
    double end_t;         /* the last sample's time */
    uint64_t limit, high; /* bytes; high 0 when not set */

    /* where it died */
    uint64_t usage_at_kill; /* as usage_source says */
    enum labsum_usage_source usage_source;
    double pct_of_limit;
    uint64_t last_before; /* the last sample before the kill */
    double last_before_t;
    uint64_t peak_sampled;

    /* warning */
    double full_cross_t;   /* first sample with full avg10 >= 10%; < 0 never */
    double some_cross_t;   /* same for some */
    double rate_cross_t;   /* first sample whose full stall rate >= 10% */
    double warning_s;      /* kill_t - full_cross_t (negative: it crossed after the kill) */
    double rate_warning_s; /* kill_t - rate_cross_t */
    bool has_warning;      /* full_cross_t >= 0 and killed */
    bool has_rate_warning;
    uint64_t peak_some10, peak_full10; /* up to the kill (or the end) */
    double peak_full_rate;

    /* memory.high */
    double high_first_t; /* when usage first went above high; < 0 never */
    double throttled_s;  /* time above high, up to the kill (interpolated between samples) */
    double growth_below; /* bytes/s while below high (first sample to the crossing); < 0 */
    double growth_above; /* bytes/s while above high (crossing to the last sample before) */

    /* counters: the first sample, and the last */
    struct cgroup_events ev_first, ev_last;
};

/*
 * Computes the summary. `kill_t` < 0: no kill. `report_usage` (bytes) is the memcg usage the
 * kernel's OOM report printed, OPT_ABSENT when there is none; `peak` the cgroup's high-water
 * mark read after the kill, OPT_ABSENT when the kernel has none.
 */
void labsum_compute(const struct lab_sample *v, size_t n, uint64_t limit, uint64_t high,
                    double kill_t, uint64_t report_usage, uint64_t peak, struct lab_summary *ret);

/*
 * The memory.high throttle of mem_cgroup_handle_over_high() (as read in 6.1's mm/memcontrol.c,
 * and measured in the 6.1 VM: tests/vm/scenarios/lab-run): every return to user space after a
 * charge of nr_pages above memory.high sleeps
 *   penalty = overage^2 * HZ >> 34 * nr_pages / 64 jiffies, overage = (usage-high) * 2^20 / high,
 * capped at 2 s and skipped when it is at most HZ/100. Charges come in batches of
 * MEMCG_CHARGE_BATCH (64 pages), one penalty per batch. This is the sleep, in seconds, of one
 * batch at `usage` (usage and high in pages); HZ cancels out except in the rounding.
 */
double labsum_high_penalty_s(uint64_t usage, uint64_t high, unsigned hz);

/*
 * How long a process growing at `rate` bytes/s takes from memory.high to `limit` under that
 * throttle (batches of 64 pages of `page_size`): the sum of each batch's own time at the rate
 * and its penalty. Anonymous memory without swap, which reclaim cannot shrink.
 */
double labsum_high_to_max_s(uint64_t high, uint64_t limit, uint64_t rate, long page_size,
                            unsigned hz);
