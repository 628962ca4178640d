/*
 * The text of `oomwarden cgroup PATH`: one cgroup's memory, limits, events and pressure,
 * sanitized for the terminal, with the breakdown bar on a terminal (or --color=always).
 */
#include "cgroup-text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fmt.h"
#include "base/opt.h"
#include "base/table.h"
#include "base/term.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "model/cgroup/cgobserve.h"
#include "model/cgroup/cgoutlook.h"
#include "model/cgroup/cgroup.h"
#include "model/pressure/psi.h"
#include "model/workload/identity.h"
#include "model/workload/podnames.h"

/* ---- text helpers ---------------------------------------------------------------------------- */

static void psi_text(struct buf *out, const struct psi_line *l)
{
    buf_printf(out,
               "avg10 %" PRIu64 ".%02" PRIu64 "%%  avg60 %" PRIu64 ".%02" PRIu64
               "%%  avg300 %" PRIu64 ".%02" PRIu64 "%%  total ",
               l->avg10 / 100, l->avg10 % 100, l->avg60 / 100, l->avg60 % 100, l->avg300 / 100,
               l->avg300 % 100);
    char d[24];
    buf_puts(out, fmt_duration(d, (double)l->total / 1e6));
}

static const char *opt_u64(char out[24], uint64_t v)
{
    if (!opt_has(v))
        return "-";
    snprintf(out, 24, "%" PRIu64, v);
    return out;
}

/* ---- one cgroup --------------------------------------------------------------------------------
 */

/* The breakdown bar: anon, page cache, kernel, the rest, against the limit (or the usage). */
static void bar(struct buf *out, const struct cgroup_memory *cg, uint64_t limit, bool color,
                size_t width)
{
    uint64_t use = opt_has(cg->current) ? cg->current : 0;
    uint64_t scale = cgroup_limit_set(limit) && limit > use ? limit : use;
    if (!scale)
        return;
    const struct cgroup_memstat *s = &cg->stat;
    uint64_t anon = opt_has(s->anon) ? s->anon : 0, file = opt_has(s->file) ? s->file : 0;
    uint64_t kern = opt_has(cgroup_kernel(cg)) ? cgroup_kernel(cg) : 0;
    uint64_t parts[4] = {anon, file, kern, 0};
    uint64_t sum = anon + file + kern;
    parts[3] = use > sum ? use - sum : 0;
    static const char *const glyph[4] = {"█", "▓", "▒", "░"};
    static const enum table_style style[4] = {STYLE_RED, STYLE_CYAN, STYLE_YELLOW, STYLE_DIM};
    /* cumulative rounding: the cells add up to the usage's share of the width exactly */
    size_t cells[4], used = 0;
    uint64_t cum = 0;
    for (int i = 0; i < 4; i++) {
        cum += parts[i];
        long double edge = (long double)cum * (long double)width / (long double)scale;
        size_t end = (size_t)(edge + 0.5L);
        if (end > width)
            end = width;
        cells[i] = end > used ? end - used : 0;
        used += cells[i];
    }
    buf_puts(out, "  [");
    for (int i = 0; i < 4; i++) {
        if (!cells[i])
            continue;
        if (color)
            buf_puts(out, style_ansi(style[i]));
        for (size_t k = 0; k < cells[i]; k++)
            buf_puts(out, glyph[i]);
        if (color)
            buf_puts(out, STYLE_RESET);
    }
    for (size_t k = used; k < width; k++)
        buf_putc(out, ' ');
    char a[FMT_SIZE_LEN], b[FMT_SIZE_LEN];
    buf_printf(out, "] %s / %s\n", fmt_size(a, use),
               cgroup_limit_set(limit) ? fmt_size(b, limit) : "no limit");
    buf_puts(out, "   ");
    static const char *const label[4] = {"anon", "page cache", "kernel", "other"};
    for (int i = 0; i < 4; i++) {
        if (color)
            buf_puts(out, style_ansi(style[i]));
        buf_printf(out, " %s", glyph[i]);
        if (color)
            buf_puts(out, STYLE_RESET);
        buf_printf(out, " %s", label[i]);
    }
    buf_putc(out, '\n');
}

static void line_size(struct buf *out, const char *label, uint64_t v, uint64_t of, const char *note)
{
    char s[FMT_SIZE_LEN];
    if (!opt_has(v))
        return;
    buf_printf(out, "  %-22s %8s", label, fmt_size(s, v));
    if (opt_has(of) && of > 0)
        buf_printf(out, "  %3u%%", (unsigned)((long double)v * 100.0L / (long double)of + 0.5L));
    else if (note)
        buf_puts(out, "      ");
    if (note)
        buf_printf(out, "  %s", note);
    buf_putc(out, '\n');
}

/* the path, the workload, the processes */
static void report_head(const struct cgroup_hier *h, const struct podnames *names,
                        const struct cgroup_memory *cg, bool color, struct buf *out)
{
    if (color)
        buf_puts(out, style_ansi(STYLE_BOLD));
    buf_puts(out, "cgroup ");
    text_sanitize_into(out, cg->path, strlen(cg->path));
    if (color)
        buf_puts(out, STYLE_RESET);
    buf_printf(out, "  (memory controller v%d, %s layout)\n", cg->version,
               cgroup_layout_name(h->layout));
    struct identity id;
    podnames_identity(names, cg->path, &id);
    struct buf w = BUF_INIT(CAP_TEXT_LINE);
    identity_describe(&id, &w);
    if (w.len) {
        buf_puts(out, "workload   ");
        text_sanitize_into(out, w.data, w.len);
        buf_putc(out, '\n');
    }
    buf_release(&w);
    if (opt_has(cg->nprocs))
        buf_printf(out, "processes  %" PRIu64 " in it, %" PRIu64 " with its descendants\n",
                   cg->nprocs, opt_has(cg->nprocs_subtree) ? cg->nprocs_subtree : cg->nprocs);
}

/* usage, the limits and what binds, the breakdown bar */
static void report_limits(const struct cgroup_memory *cg, const struct cgroup_binding *bd,
                          bool color, bool show_bar, struct buf *out)
{
    char a[24], b[24];
    bool v2 = cg->version == 2;
    uint64_t use = cg->current;
    buf_puts(out, "\nlimits\n");
    buf_printf(out, "  %-22s %8s", "usage", cli_size_or(a, use, "-"));
    if (opt_has(cg->peak))
        buf_printf(out, "  (peak %s)", fmt_size(b, cg->peak));
    buf_putc(out, '\n');
    buf_printf(out, "  %-22s %8s\n", v2 ? "memory.max" : "limit_in_bytes",
               cli_size_or(a, cg->max, "-"));
    if (bd->from && strcmp(bd->from, cg->path) == 0) {
        buf_printf(out, "  %-22s %8s  %u%% of the limit used\n", "headroom",
                   fmt_size(a, bd->headroom),
                   (unsigned)((long double)use * 100.0L / (long double)bd->limit + 0.5L));
    } else if (bd->from) {
        buf_printf(out, "  %-22s %8s  ", "headroom", fmt_size(a, bd->headroom));
        text_sanitize_into(out, bd->from, strlen(bd->from));
        buf_printf(out, "'s limit of %s binds it\n", fmt_size(b, bd->limit));
    }
    if (v2) {
        buf_printf(out, "  %-22s %8s\n", "memory.high", cli_size_or(a, cg->high, "-"));
        buf_printf(out, "  %-22s %8s\n", "memory.low", cli_size_or(a, cg->low, "-"));
        buf_printf(out, "  %-22s %8s\n", "memory.min", cli_size_or(a, cg->min, "-"));
        if (opt_has(cg->swap_current) || opt_has(cg->swap_max))
            buf_printf(out, "  %-22s %8s  of memory.swap.max %s\n", "swap",
                       cli_size_or(a, cg->swap_current, "-"), cli_size_or(b, cg->swap_max, "-"));
    } else {
        buf_printf(out, "  %-22s %8s\n", "soft_limit_in_bytes",
                   cli_size_or(a, cg->soft_limit, "-"));
        if (opt_has(cg->memsw_current) || opt_has(cg->memsw_max))
            buf_printf(out, "  %-22s %8s  of memsw.limit_in_bytes %s\n", "memory+swap",
                       cli_size_or(a, cg->memsw_current, "-"), cli_size_or(b, cg->memsw_max, "-"));
        if (opt_has(cg->swappiness))
            buf_printf(out, "  %-22s %8" PRIu64 "\n", "swappiness", cg->swappiness);
        if (cg->use_hierarchy == 0)
            buf_printf(out,
                       "  %-22s %8s  (its limit and OOM cover its own tasks, not its "
                       "children's)\n",
                       "use_hierarchy", "0");
    }
    if (show_bar) {
        buf_putc(out, '\n');
        size_t tw = term_width(STDOUT_FILENO);
        size_t bw = tw > 40 ? (tw - 30 > 60 ? 60 : tw - 30) : 50;
        bar(out, cg, cg->max, color, bw);
    }
}

/* where the memory is, and what reclaim can take */
static void report_breakdown(const struct cgroup_memory *cg, struct buf *out)
{
    bool v2 = cg->version == 2;
    const struct cgroup_memstat *s = &cg->stat;
    uint64_t use = cg->current;
    buf_printf(out, "\nwhere the memory is%*s%%usage\n", 17, "");
    line_size(out, "anon", s->anon, use, NULL);
    line_size(out, "page cache (file)", s->file, use, NULL);
    line_size(out, "  active", s->active_file, use, NULL);
    line_size(out, "  inactive", s->inactive_file, use, NULL);
    line_size(out, "  shmem/tmpfs", s->shmem, use, NULL);
    line_size(out, "  dirty + writeback",
              opt_has(s->file_dirty) && opt_has(s->file_writeback)
                  ? s->file_dirty + s->file_writeback
                  : OPT_ABSENT,
              use, NULL);
    uint64_t kern = cgroup_kernel(cg);
    line_size(out, "kernel", kern, use, v2 ? NULL : "memory.kmem.usage_in_bytes");
    line_size(out, "  slab reclaimable", s->slab_reclaimable, use, NULL);
    line_size(out, "  slab unreclaimable", s->slab_unreclaimable, use, NULL);
    line_size(out, "  kernel stack", s->kernel_stack, use, NULL);
    line_size(out, "  page tables", s->pagetables, use, NULL);
    line_size(out, "  percpu", s->percpu, use, NULL);
    line_size(out, "  vmalloc", s->vmalloc, use, NULL);
    line_size(out, "sock", s->sock, use, NULL);
    if (v2)
        line_size(out, "swapped out", cg->swap_current, OPT_ABSENT, NULL);
    else
        line_size(out, "swapped out", s->swap, OPT_ABSENT, NULL);
    buf_putc(out, '\n');
    if (opt_has(s->active_file) && opt_has(s->inactive_file)) {
        uint64_t lru, held, free_now;
        cgroup_reclaim_split(s, &lru, &held, &free_now);
        line_size(out, "reclaim can drop", free_now, use,
                  "page cache, active and inactive, not mapped, dirty or under writeback");
        line_size(out, "reclaim may drop",
                  held + (opt_has(s->slab_reclaimable) ? s->slab_reclaimable : 0), use,
                  "mapped or dirty page cache, reclaimable slab: when cold, written, shrunk");
    }
    line_size(out, "working set", cgroup_working_set(cg), use,
              "usage - inactive file, as kubelet computes it (active cache counts as used)");
}

static void report_events(const struct cgroup_memory *cg, struct buf *out)
{
    char a[24], b[24], a2[24], b2[24];
    bool v2 = cg->version == 2;
    const struct cgroup_events *e = &cg->events;
    buf_puts(out, "\nevents since creation\n");
    if (v2) {
        buf_printf(out, "  high %" PRIu64 "  max %" PRIu64 "  oom %" PRIu64 "  oom_kill %" PRIu64,
                   opt_has(e->high) ? e->high : 0, opt_has(e->max) ? e->max : 0,
                   opt_has(e->oom) ? e->oom : 0, opt_has(e->oom_kill) ? e->oom_kill : 0);
        if (opt_has(e->oom_group_kill))
            buf_printf(out, "  oom_group_kill %" PRIu64, e->oom_group_kill);
        buf_puts(out, "  (memory.events, with descendants)\n");
        const struct cgroup_events *l = &cg->events_local;
        if (opt_has(l->max))
            buf_printf(out,
                       "  max %" PRIu64 "  oom %" PRIu64 "  oom_kill %" PRIu64
                       "  (memory.events.local, this cgroup alone)\n",
                       l->max, opt_has(l->oom) ? l->oom : 0,
                       opt_has(l->oom_kill) ? l->oom_kill : 0);
        buf_printf(out, "  memory.oom.group %s\n",
                   opt_has(cg->oom_group) ? (cg->oom_group ? "1" : "0") : "-");
    } else {
        const struct cgroup_oom_control *oc = &cg->oom_control;
        buf_printf(out, "  failcnt %s  oom_kill %s  under_oom %s  oom_kill_disable %s\n",
                   opt_u64(a, e->max), opt_u64(b, oc->oom_kill), opt_u64(a2, oc->under_oom),
                   opt_u64(b2, oc->oom_kill_disable));
        buf_puts(out, "  memory.oom.group does not exist on cgroup v1: an OOM kills one process\n");
    }
}

static void report_pressure(const struct cgroup_hier *h, const struct cgroup_memory *cg,
                            const struct psi *sys, struct buf *out)
{
    buf_puts(out, "\npressure (PSI)\n");
    if (cg->has_psi) {
        bool machine = strcmp(cg->psi_path, "/") == 0;
        if (cg->psi.some.present) {
            buf_puts(out, "  some  ");
            psi_text(out, &cg->psi.some);
            buf_putc(out, '\n');
        }
        if (cg->psi.full.present) {
            buf_puts(out, "  full  ");
            psi_text(out, &cg->psi.full);
            buf_putc(out, '\n');
        }
        if (machine)
            buf_puts(out, "  (the unified root's memory.pressure: the whole machine)\n");
        else if (strcmp(cg->psi_path, cg->path) != 0 || h->memory_version == 1) {
            buf_puts(out, "  (from the unified tree's ");
            text_sanitize_into(out, cg->psi_path, strlen(cg->psi_path));
            buf_puts(out, ")\n");
        }
    } else {
        buf_puts(out, h->memory_version == 1
                          ? "  none for this cgroup: the unified tree has no cgroup of this path "
                            "and its processes are not in one of their own\n"
                          : "  none: PSI is off (psi=0, cgroup.pressure 0) or not built in\n");
        if (sys) {
            buf_puts(out, "  machine: some  ");
            psi_text(out, &sys->some);
            buf_putc(out, '\n');
        }
    }
}

void cgroup_report_text(const struct cli *c, const struct cgroup_hier *h,
                        const struct podnames *names, const struct cgroup_memory *cg,
                        const struct cgroup_binding *bd, const struct psi *sys,
                        const struct cgobserve *obs, struct buf *out)
{
    bool color = term_use_color(STDOUT_FILENO, c->color);
    bool show_bar = isatty(STDOUT_FILENO) || c->color == COLOR_ALWAYS;
    report_head(h, names, cg, color, out);
    report_limits(cg, bd, color, show_bar, out);
    report_breakdown(cg, out);
    report_events(cg, out);
    report_pressure(h, cg, sys, out);
    if (obs->n) {
        buf_puts(out, "\nobservations\n");
        for (size_t i = 0; i < obs->n; i++) {
            buf_puts(out, "  - ");
            buf_puts(out, obs->v[i]);
            buf_putc(out, '\n');
        }
    }
}
