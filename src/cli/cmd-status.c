/*
 * oomwarden status (and `oomwarden` alone): is this machine OK on memory? One screen: memory and
 * PSI, the cgroups nearest their limits and what fills them, who dies next (machine-wide and in
 * each of those cgroups), recent OOM kills one line each, and the top findings of doctor.
 *
 * One screen is 80x24: with three rows per section it is 23 lines (sections without blank lines
 * between them, one before the verdict), and lines are cut at the terminal's width.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/table.h"
#include "engine/doctor/doctor.h"
#include "engine/report/explain/explain.h"
#include "model/node.h"
#include "model/cgroup/cgpath.h"
#include "model/workload/identity.h"
#include "model/proc/oomdomain.h"
#include "model/log/oomlog.h"
#include "model/meminfo.h"
#include "model/pressure/psilevel.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "cli.h"
#include "render/status-screen.h"

static const char usage[] =
    "Usage: oomwarden status [OPTIONS]\n"
    "\n"
    "Is this machine OK on memory? One screen: RAM, swap and MemAvailable, memory pressure\n"
    "(PSI), the cgroups nearest their limits and what fills them, who the OOM killer takes next\n"
    "(machine-wide, and in each of those cgroups), the OOM kills still in the kernel log, and\n"
    "the top three findings of `oomwarden doctor`. `oomwarden` without a command shows this.\n"
    "Page-cache refaults per second need two readings: status waits --interval between them.\n"
    "\n"
    "  -n, --top N           rows per section (default 3)\n"
    "      --interval D      between the two readings of the refault counters (default 1s;\n"
    "                        0: do not wait, no rate)\n" CLI_COMMON_HELP;

struct status_opts {
    long top;
    uint64_t interval_ms;
};

enum { OPT_INTERVAL = OPT_FIRST_COMMAND_OPTION };

static int status_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct status_opts *o = ctx;
    switch (opt) {
    case 'n':
        return cli_parse_count(c, "--top", value, &o->top);
    case OPT_INTERVAL:
        return cli_parse_interval(c, value, &o->interval_ms);
    }
    return 0;
}

static int parse_args(struct cli *c, struct status_opts *o, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"top", 'n', ARGS_VALUE, 'n'},
        {"interval", 0, ARGS_VALUE, OPT_INTERVAL},
        CLI_COMMON_OPTIONS,
    };
    return cli_parse_options_only(c, argc, argv, opts, usage, status_option, o);
}

static uint64_t or0(uint64_t v)
{
    return opt_has(v) ? v : 0;
}

/* ---- text --------------------------------------------------------------------------------------
 */

struct out {
    struct buf *b;
    bool color;
    size_t width; /* 0: no cut */
    size_t line_start;
};

static void style(struct out *o, enum table_style s)
{
    if (o->color)
        buf_puts(o->b, style_ansi(s));
}

static void unstyle(struct out *o)
{
    if (o->color)
        buf_puts(o->b, STYLE_RESET);
}

/* Ends a line, cut at the terminal's width: colour sequences take no columns and are kept, so
 * a cut line still ends with a reset. */
static void endl(struct out *o)
{
    if (o->width) {
        const char *s = o->b->data + o->line_start;
        size_t len = o->b->len - o->line_start, cols = 0, i = 0, cut = SIZE_MAX;
        while (i < len) {
            unsigned char ch = (unsigned char)s[i];
            if (ch == 0x1b && i + 1 < len && s[i + 1] == '[') {
                while (i < len && s[i] != 'm')
                    i++;
                i++;
                continue;
            }
            /* room for the ellipsis: remember where column width-1 starts */
            if (cols == o->width - 1 && cut == SIZE_MAX)
                cut = i;
            cols++;
            i += ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
        }
        if (cols > o->width && cut != SIZE_MAX) {
            o->b->len = o->line_start + cut;
            o->b->data[o->b->len] = '\0';
            buf_puts(o->b, "…");
            if (o->color)
                buf_puts(o->b, STYLE_RESET);
        }
    }
    buf_putc(o->b, '\n');
    o->line_start = o->b->len;
}

static void psi_avgs(struct buf *b, const struct psi_line *l)
{
    buf_printf(b, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64,
               l->avg10 / 100, l->avg10 % 100, l->avg60 / 100, l->avg60 % 100, l->avg300 / 100,
               l->avg300 % 100);
}

/* The machine's page cache read again after reclaim: whether its working set fits. */
static void refaults_text(struct out *o, const struct node *n)
{
    const struct workingset *w = &n->refaults;
    char a[24], b[24], c[24], d[24];
    buf_puts(o->b, "refaults  ");
    if (!w->measured) {
        buf_puts(o->b, "not measured (--interval 0)");
        endl(o);
        return;
    }
    if (n->refaults_from_limits) {
        buf_printf(o->b,
                   "%s/s of page cache read again after reclaim, in cgroups at their limits "
                   "(the machine has %u%% of RAM available; over %s)",
                   fmt_size_long(a, (uint64_t)w->bytes_per_s),
                   fmt_percent(n->mem.mem_available, n->mem.mem_total),
                   fmt_duration(d, w->interval_s));
        endl(o);
        return;
    }
    if (w->level == THRASH_THRASHING) {
        style(o, STYLE_BOLD_RED);
        buf_puts(o->b, "thrashing");
        unstyle(o);
        buf_puts(o->b, ": the cache is being re-read as fast as it is dropped: the working set "
                       "does not fit; ");
    } else if (w->level == THRASH_REREADING) {
        style(o, STYLE_YELLOW);
        buf_puts(o->b, "re-reading");
        unstyle(o);
        buf_puts(o->b, ": ");
    } else {
        style(o, STYLE_GREEN);
        buf_puts(o->b, "none");
        unstyle(o);
        buf_puts(o->b, ": ");
    }
    buf_printf(o->b, "%s/s of %s page cache read again after reclaim",
               fmt_size_long(a, (uint64_t)w->bytes_per_s),
               opt_has(w->cache) ? fmt_size_long(b, w->cache) : "?");
    if (w->turnover_s >= 0 && w->level != THRASH_NONE)
        buf_printf(o->b, ", all of it every %s", fmt_duration(c, w->turnover_s));
    buf_printf(o->b, " (over %s)", fmt_duration(d, w->interval_s));
    endl(o);
}

static void header_text(struct out *o, const struct node *n)
{
    char a[24], b[24], c[24], d[24];
    const struct meminfo *m = &n->mem;
    style(o, STYLE_BOLD);
    buf_puts(o->b, "oomwarden status");
    unstyle(o);
    if (n->kernel.known)
        buf_printf(o->b, ": kernel %s", n->kernel.release);
    if (n->hier_err == 0)
        buf_printf(o->b, ", cgroup %s", cgroup_layout_name(n->hier.layout));
    else
        buf_puts(o->b, ", no memory cgroups");
    buf_printf(o->b, ", %zu processes", n->procs.n);
    endl(o);
    uint64_t ram = or0(m->mem_total), avail = or0(m->mem_available);
    buf_printf(o->b, "memory    RAM %s, available %s (%u%%)", fmt_size_long(a, ram),
               fmt_size_long(b, avail), fmt_percent(avail, ram));
    uint64_t st = or0(m->swap_total), sf = or0(m->swap_free);
    if (st)
        buf_printf(o->b, ", swap %s (%u%% used)", fmt_size_long(c, st),
                   fmt_percent(st > sf ? st - sf : 0, st));
    else
        buf_puts(o->b, ", no swap");
    endl(o);
    /* kernel versions and fixture trees without some lines: say only what is there */
    const char *sep = "          ";
    if (opt_has(m->anon_pages)) {
        buf_printf(o->b, "%sanon %s", sep, fmt_size_long(a, m->anon_pages));
        sep = ", ";
    }
    if (opt_has(m->cached)) {
        buf_printf(o->b, "%spage cache %s", sep, fmt_size_long(b, m->cached));
        if (opt_has(m->shmem))
            buf_printf(o->b, " (shmem %s)", fmt_size_long(c, m->shmem));
        sep = ", ";
    }
    if (opt_has(m->slab)) {
        buf_printf(o->b, "%skernel %s", sep, fmt_size_long(d, meminfo_kernel(m)));
        sep = ", ";
    }
    if (sep[0] == ',')
        endl(o);
    buf_puts(o->b, "pressure  ");
    if (n->psi_err == 0) {
        enum psi_level l = psi_level_of(&n->psi);
        buf_puts(o->b, "some ");
        psi_avgs(o->b, &n->psi.some);
        buf_puts(o->b, "  full ");
        psi_avgs(o->b, &n->psi.full);
        buf_puts(o->b, " (% avg10 60 300): ");
        style(o, l >= PSI_SUSTAINED ? STYLE_BOLD_RED
                 : l >= PSI_WAITING ? STYLE_YELLOW
                                    : STYLE_GREEN);
        buf_puts(o->b, psi_level_name(l));
        unstyle(o);
        if (l == PSI_HEALTHY)
            buf_puts(o->b, " (alert: full > 10% for 5 min)");
        else
            buf_printf(o->b, " (%s)", psi_level_rule(l));
    } else {
        buf_printf(o->b, "no memory PSI (%s)", strerror(-n->psi_err));
    }
    endl(o);
    refaults_text(o, n);
}

static void victim_words(const struct node *n, const struct proc *p, char *out, size_t len)
{
    struct identity id;
    podnames_identity_proc(&n->names, p->cgroup, p->cgroup_unified, &id);
    identity_brief(&id, out, len);
    if (!out[0] && p->cgroup)
        cgpath_short(p->cgroup, 32, out, len);
}

enum { CG_NAME, CG_USE, CG_LIMIT, CG_ROOM, CG_ANON, CG_FILE, CG_NEXT, CG_NCOLS };
static const struct table_column cg_cols[CG_NCOLS] = {
    [CG_NAME] = {"CGROUP", TABLE_LEFT},
    [CG_USE] = {"USED", TABLE_RIGHT},
    [CG_LIMIT] = {"LIMIT", TABLE_RIGHT},
    [CG_ROOM] = {"ROOM", TABLE_RIGHT},
    [CG_ANON] = {"ANON", TABLE_RIGHT},
    [CG_FILE] = {"FILE", TABLE_RIGHT},
    [CG_NEXT] = {"NEXT VICTIM (+GROUP)", TABLE_LEFT},
};

enum { GV_RANK, GV_PID, GV_COMM, GV_MEM, GV_ADJ, GV_WHERE, GV_NCOLS };
static const struct table_column gv_cols[GV_NCOLS] = {
    [GV_RANK] = {"#", TABLE_RIGHT},      [GV_PID] = {"PID", TABLE_RIGHT},
    [GV_COMM] = {"COMMAND", TABLE_LEFT}, [GV_MEM] = {"MEMORY", TABLE_RIGHT},
    [GV_ADJ] = {"ADJ", TABLE_RIGHT},     [GV_WHERE] = {"WHERE", TABLE_LEFT},
};

static void table_out(struct out *o, struct table *t)
{
    /* the table is indented by two */
    struct table_render_opts ro = {
        .color = o->color, .header = true, .max_width = o->width > 2 ? o->width - 2 : 0};
    /* indent by two: render into a scratch buffer, then copy line by line */
    struct buf tmp = BUF_INIT(CAP_OUTPUT);
    table_render(t, &ro, &tmp);
    const char *p = buf_cstr(&tmp);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        buf_puts(o->b, "  ");
        buf_append(o->b, p, len);
        buf_putc(o->b, '\n');
        o->line_start = o->b->len;
        p += len + (nl ? 1 : 0);
    }
    buf_release(&tmp);
}

/* one row of the cgroup table */
static void cgroup_row_cells(struct table *t, const struct node *n,
                             const struct status_cgroup_row *row)
{
    const struct cgroup_memory *cg = &n->cgroups.v[row->idx];
    char a[FMT_SIZE_LEN], name[128];
    table_add_row(t);
    podnames_cgroup_short(&n->names, cg->path, 30, name, sizeof(name));
    table_cell_text(t, CG_NAME, name, strlen(name));
    unsigned u = fmt_percent(cg->current, cg->max);
    table_cellf(t, CG_USE, "%u%%", u);
    if (u >= 90)
        table_cell_style(t, CG_USE, STYLE_BOLD_RED);
    else if (u >= 80)
        table_cell_style(t, CG_USE, STYLE_YELLOW);
    table_cellf(t, CG_LIMIT, "%s", fmt_size(a, cg->max));
    /* growth before an OOM kill: headroom + what reclaim can take */
    if (row->outlook.verdict >= OUTLOOK_ROOM) {
        table_cellf(t, CG_ROOM, "%s", fmt_size(a, row->outlook.room));
        if (row->outlook.verdict == OUTLOOK_OOM_NEXT)
            table_cell_style(t, CG_ROOM, STYLE_BOLD_RED);
        else if (row->outlook.verdict == OUTLOOK_TIGHT)
            table_cell_style(t, CG_ROOM, STYLE_YELLOW);
    } else {
        table_cellf(t, CG_ROOM, "-");
    }
    table_cellf(t, CG_ANON, "%s", opt_has(cg->stat.anon) ? fmt_size(a, cg->stat.anon) : "-");
    table_cellf(t, CG_FILE, "%s", opt_has(cg->stat.file) ? fmt_size(a, cg->stat.file) : "-");
    if (row->next) {
        const struct proc *p = row->next->proc;
        struct buf v = BUF_INIT(CAP_TEXT_LINE);
        buf_printf(&v, "%d %s", (int)p->pid, p->comm);
        if (row->with) /* memory.oom.group */
            buf_printf(&v, " +%zu", row->with);
        table_cell_text(t, CG_NEXT, buf_cstr(&v), v.len);
        buf_release(&v);
    } else {
        table_cellf(t, CG_NEXT, "%s", row->dom.candidates ? "none killable" : "no processes");
    }
}

/* what the table cannot say in a cell: the next growth's OOM kill, thrashing */
static void cgroups_notes(struct out *o, const struct node *n, const struct status_screen *s)
{
    char name[128];
    for (size_t k = 0; k < s->ncg; k++) {
        const struct status_cgroup_row *row = &s->cg[k];
        const struct cgroup_memory *cg = &n->cgroups.v[row->idx];
        const struct workingset *w = n->cg_refaults ? &n->cg_refaults[row->idx] : NULL;
        bool thrash = w && w->measured && w->level == THRASH_THRASHING;
        if (row->outlook.verdict != OUTLOOK_OOM_NEXT && !thrash)
            continue;
        podnames_cgroup_short(&n->names, cg->path, 30, name, sizeof(name));
        buf_printf(o->b, "  %s: ", name);
        if (row->outlook.verdict == OUTLOOK_OOM_NEXT)
            buf_printf(o->b, "the next growth ends in an OOM kill (confidence %s)%s",
                       outlook_confidence_name(row->outlook.confidence), thrash ? "; " : "");
        if (thrash) {
            char b[24], c[24];
            buf_printf(o->b, "thrashing: %s/s of page cache read again, all of it every %s",
                       fmt_size_long(b, (uint64_t)w->bytes_per_s), fmt_duration(c, w->turnover_s));
        }
        endl(o);
    }
}

/* the cgroups whose memory.high the agent's guard band set */
static void band_text(struct out *o, const struct node *n)
{
    if (n->band_err < 0 || !n->band.n)
        return;
    buf_printf(o->b, "  guard band (memory.high set by the agent, %s):",
               sysroot_path(n->sr, "/" BAND_RECORD_PATH));
    endl(o);
    for (size_t i = 0; i < n->band.n; i++) {
        buf_puts(o->b, "    ");
        doctor_band_line(n, &n->band.v[i], o->b);
        endl(o);
    }
}

static void cgroups_text(struct out *o, const struct node *n, const struct status_screen *s)
{
    style(o, STYLE_BOLD);
    buf_puts(o->b, "cgroups nearest their limit");
    unstyle(o);
    if (n->hier_err == -ENOMEDIUM) {
        buf_puts(o->b, ": no memory controller");
        endl(o);
        return;
    }
    if (n->cgroups_err < 0) {
        buf_printf(o->b, ": cannot read them (%s)", strerror(-n->cgroups_err));
        endl(o);
        return;
    }
    if (s->nlimited == 0) {
        buf_printf(o->b, ": none of the %zu memory cgroups has a limit", n->cgroups.n);
        endl(o);
        return;
    }
    buf_printf(o->b, " (%zu limited, %zu at 80%% or more)", s->nlimited, s->near);
    endl(o);
    struct table t;
    table_init(&t, cg_cols, CG_NCOLS);
    for (size_t k = 0; k < s->ncg; k++)
        cgroup_row_cells(&t, n, &s->cg[k]);
    table_out(o, &t);
    table_release(&t);
    cgroups_notes(o, n, s);
    band_text(o, n);
}

static void victims_text(struct out *o, const struct node *n, const struct status_screen *s)
{
    style(o, STYLE_BOLD);
    buf_puts(o->b, "next victims of a machine-wide OOM");
    unstyle(o);
    if (s->ngv == 0) {
        buf_puts(o->b, ": no process the kernel could kill");
        endl(o);
        return;
    }
    buf_printf(o->b, " (one oom_score_adj point = %" PRIu64 " pages)", n->global.totalpages / 1000);
    endl(o);
    struct table t;
    table_init(&t, gv_cols, GV_NCOLS);
    char a[FMT_SIZE_LEN], w[IDENTITY_BRIEF_MAX + 32];
    for (size_t k = 0; k < s->ngv; k++) {
        const struct victim *v = s->gv[k].v;
        const struct proc *p = v->proc;
        table_add_row(&t);
        table_cellf(&t, GV_RANK, "%zu", v->rank);
        if (v->rank == 1)
            table_cell_style(&t, GV_RANK, STYLE_BOLD_RED);
        table_cellf(&t, GV_PID, "%d", (int)p->pid);
        table_cell_text(&t, GV_COMM, p->comm, strlen(p->comm));
        table_cellf(&t, GV_MEM, "%s", fmt_size(a, proc_rss_swap(p)));
        table_cellf(&t, GV_ADJ, "%d", p->oom_score_adj);
        victim_words(n, p, w, sizeof(w));
        struct buf where = BUF_INIT(CAP_TEXT_LINE);
        buf_puts(&where, w);
        if (s->gv[k].with)
            buf_printf(&where, "%s+%zu by oom.group", w[0] ? ", " : "", s->gv[k].with);
        table_cell_text(&t, GV_WHERE, buf_cstr(&where), where.len);
        buf_release(&where);
    }
    table_out(o, &t);
    table_release(&t);
}

static void kills_text(struct out *o, const struct node *n, const struct status_screen *s)
{
    style(o, STYLE_BOLD);
    buf_puts(o->b, "recent OOM kills");
    unstyle(o);
    uint64_t vm = n->vmstat_err == 0 ? n->vmstat.oom_kill : OPT_ABSENT;
    if (!n->log || n->log_err < 0) {
        if (n->log_err == -ENOENT)
            buf_printf(o->b, ": no kernel log (%s)", sysroot_path(n->sr, "/dev/kmsg"));
        else if (n->log_err == -EPERM || n->log_err == -EACCES)
            buf_puts(o->b, ": the kernel log is not readable (dmesg_restrict, no CAP_SYSLOG)");
        else
            buf_printf(o->b, ": the kernel log is not readable (%s)",
                       strerror(n->log_err < 0 ? -n->log_err : EIO));
        if (opt_has(vm))
            buf_printf(o->b, "; /proc/vmstat counts %" PRIu64 " since boot", vm);
        endl(o);
        return;
    }
    if (n->log->nevents == 0) {
        buf_puts(o->b, ": none in the kernel log");
        if (opt_has(vm) && vm)
            buf_printf(o->b, " (/proc/vmstat counts %" PRIu64 " since boot)", vm);
        endl(o);
        return;
    }
    buf_printf(o->b, ": %zu in the kernel log", s->kills);
    if (opt_has(vm))
        buf_printf(o->b, ", %" PRIu64 " since boot (/proc/vmstat)", vm);
    endl(o);
    char a[24];
    for (size_t i = s->first_event; i < n->log->nevents; i++) {
        const struct oom_event *e = &n->log->events[i];
        buf_puts(o->b, "  ");
        if (opt_has(e->uptime_us) && opt_has(n->now_us) && n->now_us >= e->uptime_us)
            buf_printf(o->b, "%7s ago  ",
                       fmt_duration(a, (double)(n->now_us - e->uptime_us) / 1e6));
        else if (e->time[0])
            buf_printf(o->b, "%s  ", e->time);
        explain_event_line(e, &n->names, true, o->b);
        endl(o);
    }
}

static void findings_text(struct out *o, const struct doctor_report *rep, size_t top)
{
    buf_putc(o->b, '\n');
    style(o, STYLE_BOLD);
    buf_puts(o->b, "doctor");
    unstyle(o);
    buf_printf(o->b, ": %zu critical, %zu warning%s, %zu info", rep->count[DOCTOR_CRITICAL],
               rep->count[DOCTOR_WARNING], rep->count[DOCTOR_WARNING] == 1 ? "" : "s",
               rep->count[DOCTOR_INFO]);
    if (rep->n)
        buf_puts(o->b, " (oomwarden doctor: evidence and fixes)");
    endl(o);
    for (size_t i = 0; i < rep->n && i < top; i++) {
        const struct finding *f = &rep->v[i];
        buf_puts(o->b, "  ");
        style(o, f->severity == DOCTOR_CRITICAL  ? STYLE_BOLD_RED
                 : f->severity == DOCTOR_WARNING ? STYLE_YELLOW
                                                 : STYLE_CYAN);
        buf_printf(o->b, "%-8s",
                   f->severity == DOCTOR_CRITICAL  ? "CRITICAL"
                   : f->severity == DOCTOR_WARNING ? "WARNING"
                                                   : "INFO");
        unstyle(o);
        buf_printf(o->b, " %s: ", doctor_checks[f->check].id);
        text_sanitize_into(o->b, f->title, strlen(f->title));
        endl(o);
    }
}

/* ---- JSON --------------------------------------------------------------------------------------
 */

static void json_psi_obj(struct json *j, const struct psi *p)
{
    enum psi_level l = psi_level_of(p);
    json_obj_begin(j);
    psi_json_fields(p, j);
    json_kv_str(j, "level", psi_level_name(l));
    json_kv_str(j, "rule", psi_level_rule(l));
    json_kv_bool(j, "sick", l >= PSI_STALLING);
    json_obj_end(j);
}

static void json_victim_obj(struct json *j, const struct node *n, const struct victim *v,
                            size_t with)
{
    const struct proc *p = v->proc;
    char w[IDENTITY_BRIEF_MAX + 32];
    json_obj_begin(j);
    victim_json_fields(v, j);
    struct identity id;
    podnames_identity_proc(&n->names, p->cgroup, p->cgroup_unified, &id);
    identity_names_json_fields(&id, j);
    victim_words(n, p, w, sizeof(w));
    json_kv_str(j, "workload", w[0] ? w : NULL);
    json_kv_u64(j, "oom_group_others", with);
    json_obj_end(j);
}

#define MI(key, member) JSON_U64_FIELD(struct meminfo, key, member)
/* "memory": these, the kernel's total (meminfo_kernel), then the swap ones */
static const struct json_u64_field memory_fields[] = {
    MI("mem_total", mem_total), MI("mem_available", mem_available), MI("anon", anon_pages),
    MI("page_cache", cached),   MI("shmem", shmem),
};
static const struct json_u64_field swap_fields[] = {
    MI("swap_total", swap_total),
    MI("swap_free", swap_free),
};

/* the machine's memory, PSI and refaults */
static void json_machine(struct json *j, const struct node *n)
{
    const struct meminfo *m = &n->mem;
    json_kv_obj_begin(j, "memory");
    json_kv_u64_fields(j, m, memory_fields, ARRAY_SIZE(memory_fields));
    json_kv_u64(j, "kernel", meminfo_kernel(m));
    json_kv_u64_fields(j, m, swap_fields, ARRAY_SIZE(swap_fields));
    json_obj_end(j);
    json_key(j, "psi");
    if (n->psi_err == 0)
        json_psi_obj(j, &n->psi);
    else
        json_null(j);
    json_key(j, "refaults");
    workingset_json(&n->refaults, j);
    json_kv_bool(j, "refaults_from_limits", n->refaults_from_limits);
}

static void json_cgroup_row(struct json *j, const struct node *n,
                            const struct status_cgroup_row *row)
{
    const struct cgroup_memory *cg = &n->cgroups.v[row->idx];
    json_obj_begin(j);
    json_kv_str(j, "path", cg->path);
    struct identity id;
    podnames_identity(&n->names, cg->path, &id);
    identity_names_json_fields(&id, j);
    json_kv_u64_opt(j, "current", cg->current);
    json_kv_u64(j, "max", cg->max);
    json_kv_u64_opt(j, "anon", cg->stat.anon);
    json_kv_u64_opt(j, "file", cg->stat.file);
    json_kv_u64_opt(j, "inactive_file", cg->stat.inactive_file);
    json_kv_u64_opt(j, "kernel", cgroup_kernel(cg));
    json_kv_u64_opt(j, "working_set", cgroup_working_set(cg));
    json_kv_u64(j, "totalpages", row->dom.totalpages);
    json_key(j, "outlook");
    cgroup_outlook_json(&row->outlook, j);
    json_key(j, "refaults");
    if (n->cg_refaults)
        workingset_json(&n->cg_refaults[row->idx], j);
    else
        json_null(j);
    json_key(j, "next_victim");
    if (row->next)
        json_victim_obj(j, n, row->next, row->with);
    else
        json_null(j);
    json_obj_end(j);
}

/* the limited cgroups nearest their limits */
static void json_cgroups(struct json *j, const struct node *n, const struct status_screen *s)
{
    json_kv_obj_begin(j, "cgroups");
    json_kv_u64(j, "limited", s->nlimited);
    json_kv_u64(j, "at_80_percent", s->near);
    json_kv_arr_begin(j, "nearest_limit");
    for (size_t k = 0; k < s->ncg; k++) {
        json_cgroup_row(j, n, &s->cg[k]);
    }
    json_arr_end(j);
    json_key(j, "guard_band");
    json_arr_begin(j);
    for (size_t i = 0; n->band_err == 0 && i < n->band.n; i++)
        doctor_band_json(n, &n->band.v[i], j);
    json_arr_end(j);
    json_obj_end(j);
}

static void json_recent_kills(struct json *j, const struct node *n, const struct status_screen *s)
{
    json_kv_obj_begin(j, "recent_kills");
    json_kv_u64_opt(j, "vmstat_oom_kill", n->vmstat_err == 0 ? n->vmstat.oom_kill : OPT_ABSENT);
    bool log = n->log && n->log_err == 0;
    json_kv_bool(j, "kernel_log_readable", log);
    if (log) {
        json_kv_u64(j, "events", n->log->nevents);
        json_kv_u64(j, "kills", s->kills);
    } else {
        json_kv_null(j, "events");
        json_kv_null(j, "kills");
    }
    json_kv_arr_begin(j, "last");
    for (size_t i = s->first_event; log && i < n->log->nevents; i++) {
        const struct oom_event *e = &n->log->events[i];
        const struct oom_victim *v = oom_event_primary(e);
        struct buf line = BUF_INIT(CAP_TEXT_LINE);
        explain_event_line(e, &n->names, false, &line);
        json_obj_begin(j);
        json_kv_str(j, "scope", oom_scope_name(e->scope));
        if (opt_has(e->uptime_us) && opt_has(n->now_us) && n->now_us >= e->uptime_us)
            json_kv_double(j, "seconds_ago", (double)(n->now_us - e->uptime_us) / 1e6, 1);
        else
            json_kv_null(j, "seconds_ago");
        json_kv_i64_opt(j, "pid", v ? v->pid : OPT_ABSENT_I64);
        json_kv_str(j, "comm", v ? v->comm : NULL);
        json_kv_str(j, "summary", buf_cstr(&line));
        json_obj_end(j);
        buf_release(&line);
    }
    json_arr_end(j);
    json_obj_end(j);
}

static void json_doctor(struct json *j, const struct doctor_report *rep, size_t top)
{
    json_kv_obj_begin(j, "doctor");
    json_kv_u64(j, "critical", rep->count[DOCTOR_CRITICAL]);
    json_kv_u64(j, "warning", rep->count[DOCTOR_WARNING]);
    json_kv_u64(j, "info", rep->count[DOCTOR_INFO]);
    json_kv_arr_begin(j, "top");
    for (size_t i = 0; i < rep->n && i < top; i++)
        doctor_finding_json(&rep->v[i], j);
    json_arr_end(j);
    json_obj_end(j);
}

static void render_json(const struct node *n, const struct status_screen *s,
                        const struct doctor_report *rep, size_t top, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_kv_str(&j, "kernel_release", n->kernel.known ? n->kernel.release : NULL);
    json_kv_str(&j, "cgroup_layout", n->hier_err == 0 ? cgroup_layout_name(n->hier.layout) : NULL);
    json_kv_u64(&j, "processes", n->procs.n);
    json_machine(&j, n);
    json_cgroups(&j, n, s);
    json_kv_arr_begin(&j, "global_victims");
    for (size_t k = 0; k < s->ngv; k++)
        json_victim_obj(&j, n, s->gv[k].v, s->gv[k].with);
    json_arr_end(&j);
    json_recent_kills(&j, n, s);
    json_doctor(&j, rep, top);
    json_obj_end(&j);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    struct status_opts o = {.top = 3, .interval_ms = 1000};
    struct sysroot sr;
    int r;
    if (!cli_begin(c, parse_args(c, &o, argc, argv), &sr, &r))
        return r;
    struct node n;
    int q = node_read(&sr, NODE_READ_ALL, &n);
    if (q < 0) {
        log_error("cannot read %s: %s", sysroot_path(&sr, "/proc"), strerror(-q));
        sysroot_close(&sr);
        return EXIT_FAIL;
    }
    struct doctor_opts dopts = {0};
    for (int i = 0; i < CHECK_COUNT; i++)
        dopts.run[i] = true;
    struct doctor_report rep = {0};
    struct status_screen s = {0};
    struct buf out = BUF_INIT(CAP_OUTPUT);
    if ((q = node_measure_refaults(&n, o.interval_ms)) < 0 ||
        (q = doctor_run(&n, &dopts, &rep)) < 0 ||
        (q = status_screen_build(&n, (size_t)o.top, &s)) < 0) {
        log_error("status: %s", strerror(-q));
        r = EXIT_FAIL;
        goto out;
    }
    if (c->json) {
        render_json(&n, &s, &rep, (size_t)o.top, &out);
    } else {
        struct out to = {.b = &out,
                         .color = term_use_color(STDOUT_FILENO, c->color),
                         .width = term_width(STDOUT_FILENO)};
        header_text(&to, &n);
        cgroups_text(&to, &n, &s);
        victims_text(&to, &n, &s);
        kills_text(&to, &n, &s);
        findings_text(&to, &rep, (size_t)o.top);
    }
    r = cli_emit(&out);
out:
    buf_release(&out);
    status_screen_release(&s);
    doctor_report_release(&rep);
    node_release(&n);
    sysroot_close(&sr);
    return r;
}
