/*
 * oomwarden lab run|protect: cause an OOM kill on purpose, safely, and watch it happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/sys/clock.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/units.h"
#include "engine/report/explain/explain.h"
#include "engine/lab/lab.h"
#include "engine/lab/labplot.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/sysroot.h"
#include "cli.h"
#include "render/lab-json.h"

static const char usage[] =
    "Usage: oomwarden lab run [OPTIONS]\n"
    "       oomwarden lab protect [OPTIONS]\n"
    "\n"
    "Causes an OOM kill on purpose in a scratch memory cgroup (oomwarden-lab-<pid>, cgroup v2\n"
    "where the memory controller is there, v1 otherwise), with oomwarden's own memory eater in\n"
    "it, and shows it: usage, memory.events and memory PSI every sample, the prediction made\n"
    "before, where it died against the limit, how much warning PSI gave, and the kernel's\n"
    "report explained. The cgroup and its processes are removed afterwards, also on Ctrl-C;\n"
    "one left by a run that crashed is removed by the next run.\n"
    "\n"
    "  run       one eater grows into the limit\n"
    "  protect   two eaters; the bigger is protected with oom_score_adj -900 and the smaller\n"
    "            grows into the limit. Without CAP_SYS_RESOURCE (needed to go below 0), the\n"
    "            protected one stays at 0 and the other gets +900 instead.\n"
    "\n"
    "      --max SIZE        the memory limit (default: run 256M, protect 64M)\n"
    "      --high SIZE       memory.high, the throttle below the limit (cgroup v2 only)\n"
    "      --rate SIZE/s     how fast the eater grows (default 50M/s)\n"
    "      --kind KIND       anon (default), file (a file re-read as its range grows: page\n"
    "                        cache thrashes, no kill), mixed (anon plus a re-read file)\n"
    "      --file-dir DIR    file/mixed: where the scratch file goes (default /var/tmp;\n"
    "                        a disk file system, not tmpfs)\n"
    "      --timeout DUR     stop without a kill after DUR (default 60s)\n"
    "      --interval DUR    sampling period (default 500ms)\n"
    "      --svg FILE        write a plot of the run (SVG)\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 when the kernel killed the predicted eater (protect: and the protected one\n"
    "survived), 1 otherwise, 64 for a bad option.\n";

enum {
    OPT_MAX = OPT_FIRST_COMMAND_OPTION,
    OPT_HIGH,
    OPT_RATE,
    OPT_KIND,
    OPT_FILE_DIR,
    OPT_TIMEOUT,
    OPT_INTERVAL,
    OPT_SVG,
};

struct lab_cli {
    struct lab_opts o;
    const char *svg;
    struct cli *c;
    bool live_header;
    struct buf line;
};

static int parse_rate(const char *s, uint64_t *ret)
{
    char b[64];
    size_t n = strlen(s);
    if (n >= sizeof(b))
        return -EINVAL;
    memcpy(b, s, n + 1);
    if (n > 2 && strcmp(b + n - 2, "/s") == 0)
        b[n - 2] = '\0';
    return parse_size(b, ret);
}

/* One option's value into lc; 0, or the exit status of a usage error. */
static int lab_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct lab_cli *lc = ctx;
    struct lab_opts *o = &lc->o;
    switch (opt) {
    case OPT_MAX:
        if (parse_size(value, &o->max) < 0 || o->max < (4u << 20))
            return cli_usage_error(c, "--max takes a size of at least 4M (256M, 1G), not '%s'",
                                   value);
        break;
    case OPT_HIGH:
        if (parse_size(value, &o->high) < 0 || o->high == 0)
            return cli_usage_error(c, "--high takes a size (200M), not '%s'", value);
        break;
    case OPT_RATE:
        if (parse_rate(value, &o->rate) < 0 || o->rate < (64u << 10))
            return cli_usage_error(c,
                                   "--rate takes a size per second of at least 64K/s "
                                   "(50M/s), not '%s'",
                                   value);
        break;
    case OPT_KIND:
        if (eater_kind_parse(value, &o->kind) < 0)
            return cli_usage_error(c, "--kind is anon, file or mixed, not '%s'", value);
        break;
    case OPT_FILE_DIR:
        o->file_dir = value;
        break;
    case OPT_TIMEOUT:
        if (parse_duration_ms(value, &o->timeout_ms) < 0 || o->timeout_ms < 1000)
            return cli_usage_error(c,
                                   "--timeout takes a duration of at least 1s (60s, 5m), "
                                   "not '%s'",
                                   value);
        break;
    case OPT_INTERVAL:
        if (parse_duration_ms(value, &o->interval_ms) < 0 || o->interval_ms < 50 ||
            o->interval_ms > 60000)
            return cli_usage_error(c, "--interval takes a duration from 50ms to 60s, not '%s'",
                                   value);
        break;
    case OPT_SVG:
        lc->svg = value;
        break;
    }
    return 0;
}

/* run or protect, the default limit, and the options that do not go together */
static int lab_mode(struct cli *c, struct lab_cli *lc, const struct args *a)
{
    struct lab_opts *o = &lc->o;
    if (a->noperands == 0)
        return cli_usage_error(c, "run or protect? (oomwarden lab run --max 256M)");
    if (strcmp(a->operands[0], "run") == 0)
        o->mode = LAB_RUN;
    else if (strcmp(a->operands[0], "protect") == 0)
        o->mode = LAB_PROTECT;
    else
        return cli_usage_error(c, "unknown lab '%s' (run, protect)", a->operands[0]);
    int r = cli_no_more_operands(c, a, 1);
    if (r)
        return r;
    if (!o->max)
        o->max = o->mode == LAB_RUN ? 256ull << 20 : 64ull << 20;
    if (o->high && o->high >= o->max)
        return cli_usage_error(c, "--high must be below --max");
    if (o->mode == LAB_PROTECT && o->kind != EATER_ANON)
        return cli_usage_error(c, "lab protect uses anonymous memory only (no --kind)");
    if (o->file_dir && o->kind == EATER_ANON)
        return cli_usage_error(c, "--file-dir goes with --kind file or mixed");
    return 0;
}

static int parse_args(struct cli *c, struct lab_cli *lc, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"max", 0, ARGS_VALUE, OPT_MAX},
        {"high", 0, ARGS_VALUE, OPT_HIGH},
        {"rate", 0, ARGS_VALUE, OPT_RATE},
        {"kind", 0, ARGS_VALUE, OPT_KIND},
        {"file-dir", 0, ARGS_VALUE, OPT_FILE_DIR},
        {"timeout", 0, ARGS_VALUE, OPT_TIMEOUT},
        {"interval", 0, ARGS_VALUE, OPT_INTERVAL},
        {"svg", 0, ARGS_VALUE, OPT_SVG},
        CLI_COMMON_OPTIONS,
    };
    struct lab_opts *o = &lc->o;
    o->rate = 50ull << 20;
    o->timeout_ms = 60000;
    o->interval_ms = 500;
    struct args a;
    int r = cli_parse_options(c, &a, argc, argv, opts, usage, lab_option, lc);
    if (r)
        return r;
    return lab_mode(c, lc, &a);
}

/* ---- text ---------------------------------------------------------------------------------- */

static void size_str(char out[24], uint64_t v)
{
    fmt_size_long(out, v);
}

/* the cgroup, its limits and the eaters as set up */
static void start_setup(const struct lab_result *r, struct buf *o)
{
    char a[24], b[24];
    for (size_t i = 0; i < r->nstale; i++)
        buf_printf(o, "removed %s, left by a lab run that did not finish\n", r->stale[i]);
    buf_printf(o, "lab: cgroup %s (cgroup v%d), %s %s", r->cgroup, r->version,
               cgroup_limit_file(r->version), (size_str(a, r->max), a));
    if (r->high)
        buf_printf(o, ", memory.high %s", (size_str(b, r->high), b));
    buf_puts(o, r->version == 1 ? ", memory.swappiness 0\n" : ", memory.swap.max 0\n");
    if (r->version == 1)
        buf_printf(o, "     PSI: %s\n",
                   r->psi_twin ? "from a twin cgroup at the same path in the unified (v2) tree, "
                                 "where the eaters are too (PSI is per cgroup of v2 only)"
                               : "none per cgroup (no unified tree to put a twin in)");
    if (r->enabled_memory)
        buf_puts(o, "     turned on +memory in the top cgroup's cgroup.subtree_control\n");
    for (size_t i = 0; i < r->neaters; i++) {
        const struct lab_eater_info *e = &r->eaters[i];
        buf_printf(o, "     eater %s: pid %d, oom_score_adj %d, holds %s", e->comm, (int)e->pid,
                   e->adj, (size_str(a, e->start_bytes), a));
        if (e->rate)
            buf_printf(o, ", grows %s at %s/s",
                       eater_kind_name(i == r->grower ? r->kind : EATER_ANON),
                       (size_str(b, e->rate), b));
        if (r->kind != EATER_ANON && i == r->grower)
            buf_printf(o, " (file of %s)", (size_str(b, r->file_bytes), b));
        buf_putc(o, '\n');
    }
    if (r->mode == LAB_PROTECT)
        buf_printf(o, "     variant: %s\n",
                   lab_variant_fallback(r)
                       ? "oom_score_adj -900 needs CAP_SYS_RESOURCE, which this process lacks: the "
                         "protected eater stays at 0 and the other gets +900 (raising is allowed)"
                       : "the protected eater at oom_score_adj -900");
}

/* the kernel's choice, predicted from the eaters' badness */
static void start_prediction(const struct lab_result *r, uint64_t timeout_ms, struct buf *o)
{
    char a[24], b[24];
    const struct lab_prediction *p = &r->pred;
    if (!p->made) {
        buf_printf(o, "prediction: none (%s)\n", p->why_not);
    } else {
        uint64_t unit = p->totalpages / 1000;
        buf_printf(o,
                   "prediction (%s's OOM domain: totalpages %" PRIu64
                   ", one oom_score_adj point = %" PRIu64 " pages):\n",
                   r->cgroup, p->totalpages, unit);
        for (size_t i = 0; i < p->n; i++) {
            const struct lab_candidate *cd = &p->c[i];
            buf_printf(o,
                       "  rank %zu: pid %d %-14s oom_score_adj %4d  rss %9s  badness %7" PRId64
                       " pages%s\n",
                       cd->rank, (int)cd->pid, cd->comm, cd->adj, (size_str(a, cd->rss), a),
                       cd->badness, i == p->victim ? "  <- the victim" : "");
        }
        if (p->victim != SIZE_MAX) {
            const struct lab_candidate *v = &p->c[p->victim];
            buf_printf(o, "  the kernel kills pid %d (%s) when usage reaches %s %s", (int)v->pid,
                       v->comm, cgroup_limit_file(r->version), (size_str(a, r->max), a));
            if (r->mode == LAB_RUN)
                buf_puts(o, ": the only process of the cgroup");
            buf_puts(o, "\n");
        }
        if (r->mode == LAB_PROTECT && p->victim != SIZE_MAX && p->victim_no_adj != p->victim) {
            const struct lab_candidate *w = &p->c[p->victim_no_adj], *v = &p->c[p->victim];
            buf_printf(o,
                       "  without oom_score_adj it would be pid %d (%s): badness %" PRId64
                       " > %" PRId64 " pages\n",
                       (int)w->pid, w->comm, w->badness_no_adj, v->badness_no_adj);
        }
        if (p->high_to_max_s > 0)
            buf_printf(o,
                       "  above memory.high the kernel sleeps the eater ((usage-high)/high)^2 x "
                       "64 s per 64 pages charged (at most 2 s): from %s to %s at this rate "
                       "that takes about %.1fs%s\n",
                       (size_str(a, r->high), a), (size_str(b, r->max), b), p->high_to_max_s,
                       p->high_to_max_s * 1000 > (double)timeout_ms ? ", longer than --timeout"
                                                                    : "");
    }
}

static void text_start(const struct lab_result *r, void *ctx)
{
    struct lab_cli *lc = ctx;
    if (lc->c->json)
        return;
    struct buf *o = &lc->line;
    buf_reset(o);
    start_setup(r, o);
    start_prediction(r, lc->o.timeout_ms, o);
    if (r->high && r->kind != EATER_ANON)
        buf_puts(o, "  (file pages above memory.high are reclaimed first, so the throttle "
                    "depends on the refaults: no time is predicted)\n");
    bool v2 = r->version == 2;
    buf_printf(o, "\n%7s %10s %6s %8s %5s %5s%s %7s %7s %7s %7s\n", "time", "usage", "limit",
               v2 ? "max" : "failcnt", "oom", "kill", r->high ? "   high" : "", "some10", "full10",
               "some/s", "full/s");
    fwrite(o->data, 1, o->len, stdout);
    fflush(stdout);
}

static void u64_col(struct buf *o, int w, uint64_t v)
{
    if (opt_has(v))
        buf_printf(o, " %*" PRIu64, w, v);
    else
        buf_printf(o, " %*s", w, "-");
}

static void text_sample(const struct lab_result *r, const struct lab_sample *s, void *ctx)
{
    struct lab_cli *lc = ctx;
    if (lc->c->json)
        return;
    struct buf *o = &lc->line;
    buf_reset(o);
    char a[FMT_SIZE_LEN];
    buf_printf(o, "%6.1fs %10s %5.1f%%", s->t, fmt_size(a, s->current),
               r->max ? 100.0 * (double)s->current / (double)r->max : 0);
    u64_col(o, 8, s->ev.max);
    u64_col(o, 5, s->ev.oom);
    u64_col(o, 5, s->ev.oom_kill);
    if (r->high)
        u64_col(o, 6, s->ev.high);
    if (s->has_psi) {
        buf_printf(o, " %7.2f %7.2f", (double)s->psi.some.avg10 / 100,
                   (double)s->psi.full.avg10 / 100);
        if (s->some_rate >= 0)
            buf_printf(o, " %6.1f%% %6.1f%%", s->some_rate, s->full_rate);
        else
            buf_printf(o, " %7s %7s", "-", "-");
    } else {
        buf_printf(o, " %7s %7s %7s %7s", "-", "-", "-", "-");
    }
    buf_putc(o, '\n');
    fwrite(o->data, 1, o->len, stdout);
    fflush(stdout);
}

static void events_line(struct buf *o, const char *name, uint64_t a, uint64_t b)
{
    if (!opt_has(a) || !opt_has(b))
        return;
    buf_printf(o, "%s %s %" PRIu64 " -> %" PRIu64, o->len && o->data[o->len - 1] != ' ' ? "," : "",
               name, a, b);
}

/* The outcome, in one sentence; true when it is what the lab set out to show. */
static bool outcome(const struct lab_result *r, struct buf *o)
{
    const struct lab_prediction *p = &r->pred;
    bool as_predicted = r->end == LAB_END_KILLED && p->made && p->victim != SIZE_MAX &&
                        r->eaters[r->killed].pid == p->c[p->victim].pid;
    switch (r->end) {
    case LAB_END_KILLED: {
        const struct lab_eater_info *k = &r->eaters[r->killed];
        buf_printf(o, "OOM kill: pid %d (%s) at %.2fs, %s", (int)k->pid, k->comm, r->kill_t,
                   as_predicted ? "as predicted" : "NOT the predicted victim");
        if (r->mode == LAB_PROTECT) {
            const struct lab_eater_info *other = &r->eaters[r->killed == 0 ? 1 : 0];
            bool survived = !other->oom_killed;
            buf_printf(o, "; %s (pid %d, oom_score_adj %d) %s", other->comm, (int)other->pid,
                       other->adj, survived ? "survived" : "was killed too");
            as_predicted &= survived && !k->protected_one;
        }
        buf_putc(o, '\n');
        return as_predicted;
    }
    case LAB_END_DIED:
        for (size_t i = 0; i < r->neaters; i++)
            if (r->eaters[i].exited)
                buf_printf(o, "no OOM kill: %s (pid %d) %s %d without an OOM report%s\n",
                           r->eaters[i].comm, (int)r->eaters[i].pid,
                           r->eaters[i].exit_signal ? "died of signal" : "exited with status",
                           r->eaters[i].exit_signal ? r->eaters[i].exit_signal
                                                    : r->eaters[i].exit_status,
                           r->kmsg ? " in the kernel log" : " (the kernel log was not readable)");
        return false;
    case LAB_END_TIMEOUT:
        buf_printf(o, "no OOM kill within %.0fs", r->sum.end_t);
        if (r->kind == EATER_FILE)
            buf_puts(o, ": page cache can always be evicted, so the kernel reclaimed (and the "
                        "eater stalled) instead of killing");
        else if (r->high)
            buf_puts(o, ": memory.high throttled the eater before it reached the limit");
        buf_putc(o, '\n');
        return false;
    case LAB_END_INTERRUPTED:
        buf_printf(o, "interrupted by signal %d (%s) at %.1fs; cleaned up\n", r->end_signal,
                   strsignal(r->end_signal), r->sum.end_t);
        return false;
    }
    return false;
}

/* where the kill came against the limit, or how high usage went */
static void text_where(const struct lab_result *r, struct buf *o)
{
    const struct lab_summary *s = &r->sum;
    char a[24], b[24];
    if (r->end == LAB_END_KILLED) {
        buf_printf(o, "  where:    usage %s = %.1f%% of %s %s", (size_str(a, s->usage_at_kill), a),
                   s->pct_of_limit, cgroup_limit_file(r->version), (size_str(b, r->max), b));
        if (s->usage_source == LABSUM_USAGE_REPORT)
            buf_printf(o,
                       " (the kernel's report: usage %" PRIu64 "kB, limit %" PRIu64
                       "kB, failcnt %" PRIu64 ")",
                       r->event->mem.usage_kb, r->event->mem.limit_kb, r->event->mem.failcnt);
        else if (s->usage_source == LABSUM_USAGE_PEAK)
            buf_printf(o,
                       " (%s: the cgroup's high-water mark, where the OOM came; the kernel's "
                       "report has no usage line)",
                       r->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes");
        buf_putc(o, '\n');
        if (s->last_before_t >= 0)
            buf_printf(o, "            last sample %.2fs before: %s\n",
                       r->kill_t - s->last_before_t, (size_str(a, s->last_before), a));
        if (!r->kill_t_from_log)
            buf_puts(o, "            (the time is when the eater's exit was seen: no kernel "
                        "log stamp)\n");
        if (r->observed.source != OOM_OBSERVED_NONE) {
            buf_puts(o, "  cgroup:   ");
            oom_observed_text(&r->observed, r->event && r->event->rate_limited, o);
            buf_putc(o, '\n');
        }
    } else if (r->series.n) {
        buf_printf(o, "  usage:    peaked at %s = %.1f%% of %s %s\n",
                   (size_str(a, s->peak_sampled), a),
                   r->max ? 100.0 * (double)s->peak_sampled / (double)r->max : 0,
                   cgroup_limit_file(r->version), (size_str(b, r->max), b));
    }
    if (opt_has(r->peak))
        buf_printf(o, "  peak:     %s (%s)\n", (size_str(a, r->peak), a),
                   r->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes");
}

/* memory.events (v1: failcnt, oom_control) before and after */
static void text_counters(const struct lab_result *r, struct buf *o)
{
    struct buf ev = BUF_INIT(CAP_TEXT_LINE);
    events_line(&ev, r->version == 2 ? "max" : "failcnt", r->ev_before.max, r->ev_after.max);
    events_line(&ev, "oom", r->ev_before.oom, r->ev_after.oom);
    events_line(&ev, "oom_kill", r->ev_before.oom_kill, r->ev_after.oom_kill);
    events_line(&ev, "high", r->ev_before.high, r->ev_after.high);
    buf_printf(o, "  counters:%s (%s)\n", buf_cstr(&ev),
               r->version == 2 ? "memory.events" : "memory.failcnt, memory.oom_control");
    buf_release(&ev);
}

/* how much warning PSI gave */
static void text_psi(const struct lab_result *r, struct buf *o)
{
    const struct lab_summary *s = &r->sum;
    if (!r->psi) {
        buf_puts(o, "  PSI:      not available for this cgroup\n");
    } else if (r->end == LAB_END_KILLED) {
        if (s->has_warning && s->warning_s > 0)
            buf_printf(o,
                       "  PSI:      full avg10 crossed 10%% at %.2fs: %.2fs of warning before "
                       "the kill (peak full %.2f%%, some %.2f%%)\n",
                       s->full_cross_t, s->warning_s, (double)s->peak_full10 / 100,
                       (double)s->peak_some10 / 100);
        else if (s->has_warning)
            buf_printf(o,
                       "  PSI:      full avg10 crossed 10%% only at %.2fs, %.2fs after the "
                       "kill: no warning\n",
                       s->full_cross_t, -s->warning_s);
        else
            buf_printf(o,
                       "  PSI:      full avg10 stayed below 10%% (peak %.2f%%, some %.2f%%): "
                       "no warning%s\n",
                       (double)s->peak_full10 / 100, (double)s->peak_some10 / 100,
                       r->kind == EATER_ANON && !r->high
                           ? ". Anonymous memory without swap gives reclaim nothing to do, so "
                             "tasks barely stall before the kill"
                           : "");
        if (s->has_rate_warning)
            buf_printf(o,
                       "            the full stall rate (Δtotal/Δt) crossed 10%% at %.2fs: "
                       "%.2fs before the kill (peak %.1f%%)\n",
                       s->rate_cross_t, s->rate_warning_s, s->peak_full_rate);
        else
            buf_printf(o, "            the full stall rate (Δtotal/Δt) peaked at %.1f%%\n",
                       s->peak_full_rate);
    } else {
        buf_printf(o, "  PSI:      peak full avg10 %.2f%%, some %.2f%%, full stall rate %.1f%%%s\n",
                   (double)s->peak_full10 / 100, (double)s->peak_some10 / 100, s->peak_full_rate,
                   s->full_cross_t >= 0 ? "" : "");
        if (s->full_cross_t >= 0)
            buf_printf(o, "            full avg10 crossed 10%% at %.2fs\n", s->full_cross_t);
    }
}

/* time above memory.high, and the growth below and above it */
static void text_high(const struct lab_result *r, struct buf *o)
{
    const struct lab_summary *s = &r->sum;
    char a[24], b[24];
    if (r->high) {
        if (s->high_first_t >= 0) {
            buf_printf(o, "  high:     above memory.high %s for %.2fs%s (first at %.2fs)",
                       (size_str(a, r->high), a), s->throttled_s,
                       r->end == LAB_END_KILLED ? " before the kill" : "", s->high_first_t);
            if (s->growth_below > 0 && s->growth_above >= 0)
                buf_printf(o, "; grew %s/s below it, %s/s above",
                           (size_str(a, (uint64_t)s->growth_below), a),
                           (size_str(b, (uint64_t)s->growth_above), b));
            buf_putc(o, '\n');
            if (r->pred.high_to_max_s > 0 && r->end == LAB_END_KILLED)
                buf_printf(o,
                           "            predicted from the kernel's throttle formula: %.1fs "
                           "from memory.high to the limit\n",
                           r->pred.high_to_max_s);
        } else {
            buf_printf(o, "  high:     usage never went above memory.high %s\n",
                       (size_str(a, r->high), a));
        }
    }
}

/* the kernel's report of the kill, explained and indented under the summary */
static int text_report(const struct lab_result *r, struct buf *o)
{
    if (r->end == LAB_END_KILLED && !r->event)
        buf_printf(o, "  report:   %s\n",
                   r->kmsg ? "the kernel's report of this kill was not found in the log"
                           : r->kmsg_error);
    if (r->event) {
        buf_puts(o, "\nthe kernel's report, explained:\n");
        struct explain_style st = {.color = false};
        st.boot_wall = clock_boot_wall();
        struct buf t = BUF_INIT(CAP_TEXT_BLOCK);
        int q = explain_event_text(r->event, 1, 1, &st, &t);
        if (q < 0) {
            buf_release(&t);
            return q;
        }
        /* indented under the summary */
        const char *p = buf_cstr(&t);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            buf_puts(o, "  ");
            buf_append(o, p, n);
            buf_putc(o, '\n');
            p += n + (nl ? 1 : 0);
        }
        buf_release(&t);
    }
    return 0;
}

static int render_text(const struct lab_result *r, struct buf *o, bool *ret_ok)
{
    buf_putc(o, '\n');
    *ret_ok = outcome(r, o);
    text_where(r, o);
    text_counters(r, o);
    text_psi(r, o);
    text_high(r, o);
    int q = text_report(r, o);
    if (q < 0)
        return q;
    if (r->cleanup_failed)
        buf_printf(o, "\nwarning: could not remove %s; the next lab run removes it\n", r->cgroup);
    return 0;
}

static int write_svg(const struct lab_cli *lc, const struct lab_result *r)
{
    char title[160], sub[200], kill[96];
    snprintf(title, sizeof(title), "oomwarden lab %s: %s (cgroup v%d)",
             r->mode == LAB_RUN ? "run" : "protect", r->cgroup, r->version);
    char a[24], b[24];
    snprintf(sub, sizeof(sub), "%s eater at %s/s, %s %s%s%s", eater_kind_name(r->kind),
             (size_str(a, r->rate), a), cgroup_limit_file(r->version), (size_str(b, r->max), b),
             r->version == 1 && r->psi ? "; PSI from the unified twin" : "",
             r->end == LAB_END_KILLED ? "" : "; no OOM kill");
    struct labplot_input in = {
        .title = title,
        .subtitle = sub,
        .v = r->series.v,
        .n = r->series.n,
        .limit = r->max,
        .high = r->high,
        .limit_name = cgroup_limit_file(r->version),
        .kill_t = r->end == LAB_END_KILLED ? r->kill_t : -1,
        .kill_label = kill,
        .warn_t = r->sum.full_cross_t,
    };
    if (r->end == LAB_END_KILLED)
        snprintf(kill, sizeof(kill), "OOM kill: pid %d (%s)", (int)r->eaters[r->killed].pid,
                 r->eaters[r->killed].comm);
    struct buf out = BUF_INIT(CAP_OUTPUT);
    int q = labplot_svg(&in, &out);
    if (q == 0) {
        FILE *f = fopen(lc->svg, "we");
        if (!f)
            q = -errno;
        else {
            if (fwrite(out.data, 1, out.len, f) != out.len)
                q = -EIO;
            if (fclose(f) != 0 && q == 0)
                q = -errno;
        }
    }
    buf_release(&out);
    return q;
}

/* The run's report (text or JSON) and its plot; the exit status: 0 when the run showed what it
 * set out to. */
static int report(const struct cli *c, const struct lab_cli *lc, const struct lab_result *res)
{
    _cleanup_(buf_release) struct buf out = BUF_INIT(CAP_OUTPUT);
    bool ok = false;
    int q, rc = EXIT_FAIL;
    if (c->json) {
        struct buf tmp = BUF_INIT(CAP_TEXT_LINE);
        ok = outcome(res, &tmp);
        buf_release(&tmp);
        q = lab_result_json(res, ok, &out);
    } else {
        q = render_text(res, &out, &ok);
    }
    if (q < 0)
        log_error("cannot format the output: %s", strerror(-q));
    else if (cli_emit(&out) == 0)
        rc = ok ? EXIT_OK : EXIT_FAIL;
    if (lc->svg && (q = write_svg(lc, res)) < 0) {
        log_error("cannot write %s: %s", lc->svg, strerror(-q));
        rc = EXIT_FAIL;
    }
    return rc;
}

static void lab_cli_release(struct lab_cli *lc)
{
    buf_release(&lc->line);
}

int cmd_lab(struct cli *c, int argc, char **argv)
{
    _cleanup_(lab_cli_release) struct lab_cli lc = {.c = c, .line = BUF_INIT(CAP_TEXT_BLOCK)};
    int r = parse_args(c, &lc, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    /* a closed pipe (| head) must not kill us before the cgroup is removed: writes fail instead */
    signal(SIGPIPE, SIG_IGN);
    lc.o.on_start = text_start;
    lc.o.on_sample = text_sample;
    lc.o.ctx = &lc;

    _cleanup_(sysroot_close) struct sysroot sr; /* cli_open_root sets it up, failing or not */
    if ((r = cli_open_root(c, &sr)))
        return r;
    if (!sr.live)
        return log_error_errno(EXIT_FAIL, "the lab creates cgroups and processes on this machine: "
                                          "it does not run under --root");
    _cleanup_(cgroup_hier_close) struct cgroup_hier h = {.memory = {.fd = -1},
                                                        .unified = {.fd = -1}};
    if (cli_open_cgroups(c, &sr, &h))
        return EXIT_FAIL;
    if (lc.o.high && h.memory_version != 2)
        return log_error_errno(EXIT_FAIL,
                               "--high needs cgroup v2 (memory.high): this machine's memory "
                               "controller is cgroup v1, whose limits do not throttle below the "
                               "hard limit");
    struct kver k = {0};
    (void)kver_read(&sr, &k);
    struct lab_result res;
    r = lab_run(&sr, &h, &k, &lc.o, &res);
    if (r < 0) {
        log_error("%s", res.error);
        if (res.cleanup_failed)
            log_error("could not remove %s; the next lab run removes it", res.cgroup);
        lab_result_release(&res);
        return EXIT_FAIL;
    }
    int rc = report(c, &lc, &res);
    lab_result_release(&res);
    return rc;
}
