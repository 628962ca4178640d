/*
 * oomwarden cgroup: where a cgroup's charged memory is, how close its limit is, and what happened
 * at it; without a path, every memory cgroup in one table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/sys/clock.h"
#include "base/cursor.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/cgroup/cgobserve.h"
#include "model/cgroup/cgoutlook.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/workload/identity.h"
#include "model/meminfo.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "model/pressure/workingset.h"
#include "cli.h"
#include "render/cgroup-text.h"

static const char usage[] =
    "Usage: oomwarden cgroup [OPTIONS] [PATH | pid:N]\n"
    "\n"
    "A cgroup's memory as the kernel charges it: limits and headroom, the split into anon, page\n"
    "cache, kernel and shmem, what reclaim can take, the working set, events at the limit, PSI,\n"
    "memory.oom.group and the workload it belongs to, then what follows from those numbers.\n"
    "PATH is the cgroup's path in its hierarchy (/system.slice/nginx.service) or under the\n"
    "mount point; pid:N is the memory cgroup of process N.\n"
    "Without PATH: one row per memory cgroup.\n"
    "\n"
    "  -s, --sort KEY        usage (default), headroom, psi, ooms\n"
    "  -t, --tree            the hierarchy, children under their parent\n"
    "  -n, --top N           only the first N rows\n"
    "      --no-headers      omit the header line\n"
    "      --interval D      with PATH: read memory.stat again after D to measure page-cache\n"
    "                        refaults per second (default 1s; 0: do not wait, no "
    "rate)\n" CLI_COMMON_HELP;

enum sort_key { SORT_USAGE, SORT_HEADROOM, SORT_PSI, SORT_OOMS };

enum { OPT_NO_HEADERS = OPT_FIRST_COMMAND_OPTION, OPT_INTERVAL };

struct cg_opts {
    enum sort_key sort;
    bool tree, headers;
    long top;
    const char *path;
    uint64_t interval_ms;
    bool interval_set;
};

static int cgroup_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct cg_opts *o = ctx;
    int r;
    switch (opt) {
    case 's':
        if (strcmp(value, "usage") == 0)
            o->sort = SORT_USAGE;
        else if (strcmp(value, "headroom") == 0)
            o->sort = SORT_HEADROOM;
        else if (strcmp(value, "psi") == 0)
            o->sort = SORT_PSI;
        else if (strcmp(value, "ooms") == 0)
            o->sort = SORT_OOMS;
        else
            return cli_usage_error(c, "--sort must be usage, headroom, psi or ooms, not '%s'",
                                   value);
        break;
    case 't':
        o->tree = true;
        break;
    case 'n':
        return cli_parse_count(c, "--top", value, &o->top);
    case OPT_NO_HEADERS:
        o->headers = false;
        break;
    case OPT_INTERVAL:
        if ((r = cli_parse_interval(c, value, &o->interval_ms)))
            return r;
        o->interval_set = true;
        break;
    }
    return 0;
}

static int parse_args(struct cli *c, struct cg_opts *o, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"sort", 's', ARGS_VALUE, 's'},
        {"tree", 't', ARGS_NO_VALUE, 't'},
        {"top", 'n', ARGS_VALUE, 'n'},
        {"no-headers", 0, ARGS_NO_VALUE, OPT_NO_HEADERS},
        {"interval", 0, ARGS_VALUE, OPT_INTERVAL},
        CLI_COMMON_OPTIONS,
    };
    struct args a;
    int r = cli_parse_options(c, &a, argc, argv, opts, usage, cgroup_option, o);
    if (r)
        return r;
    if ((r = cli_no_more_operands(c, &a, 1)))
        return r;
    if (a.noperands)
        o->path = a.operands[0];
    if (o->path && (o->tree || o->top || o->sort != SORT_USAGE))
        return cli_usage_error(c, "--tree, --top and --sort list every cgroup; they do not go "
                                  "with a PATH");
    if (o->tree && o->top)
        return cli_usage_error(c, "--top cannot be combined with --tree");
    if (!o->path && o->interval_set)
        return cli_usage_error(c, "--interval measures one cgroup's refaults: it goes with a PATH");
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void json_kv_bool_opt(struct json *j, const char *k, uint64_t v)
{
    if (opt_has(v))
        json_kv_bool(j, k, v != 0);
    else
        json_kv_null(j, k);
}

static void json_psi(struct json *j, const char *k, const struct psi *p, const char *source)
{
    json_key(j, k);
    if (!p) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    if (source)
        json_kv_str(j, "source", source);
    psi_json_fields(p, j);
    json_obj_end(j);
}

static void json_events(struct json *j, const char *k, const struct cgroup_events *e, bool present)
{
    json_key(j, k);
    if (!present) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_u64_opt(j, "low", e->low);
    json_kv_u64_opt(j, "high", e->high);
    json_kv_u64_opt(j, "max", e->max);
    json_kv_u64_opt(j, "oom", e->oom);
    json_kv_u64_opt(j, "oom_kill", e->oom_kill);
    json_kv_u64_opt(j, "oom_group_kill", e->oom_group_kill);
    json_obj_end(j);
}

static void json_stat(struct json *j, const struct cgroup_memstat *s)
{
    json_kv_obj_begin(j, "stat");
#define K(name) json_kv_u64_opt(j, #name, s->name)
    K(anon);
    K(file);
    K(kernel);
    K(kernel_stack);
    K(pagetables);
    K(sec_pagetables);
    K(percpu);
    K(sock);
    K(vmalloc);
    K(shmem);
    K(zswap);
    K(zswapped);
    K(file_mapped);
    K(file_dirty);
    K(file_writeback);
    K(swapcached);
    K(anon_thp);
    K(file_thp);
    K(shmem_thp);
    K(inactive_anon);
    K(active_anon);
    K(inactive_file);
    K(active_file);
    K(unevictable);
    K(slab_reclaimable);
    K(slab_unreclaimable);
    K(slab);
    K(workingset_refault_anon);
    K(workingset_refault_file);
    K(pgfault);
    K(pgmajfault);
    K(swap);
#undef K
    json_obj_end(j);
}

static void json_cgroup(struct json *j, const struct podnames *names,
                        const struct cgroup_memory *cg, const struct cgroup_binding *b, long depth)
{
    json_obj_begin(j);
    json_kv_str(j, "path", cg->path);
    json_kv_i64(j, "version", cg->version);
    if (depth >= 0)
        json_kv_i64(j, "depth", depth);
    struct identity id;
    podnames_identity(names, cg->path, &id);
    json_key(j, "identity");
    identity_to_json(&id, j);
    json_kv_u64_opt(j, "processes", cg->nprocs);
    json_kv_u64_opt(j, "processes_subtree", cg->nprocs_subtree);
    json_kv_u64_opt(j, "current", cg->current);
    json_kv_u64_opt(j, "peak", cg->peak);
    cgroup_limit_json(j, "max", cg->max);
    cgroup_limit_json(j, "high", cg->high);
    cgroup_limit_json(j, "low", cg->low);
    cgroup_limit_json(j, "min", cg->min);
    json_kv_u64_opt(j, "swap_current", cg->swap_current);
    cgroup_limit_json(j, "swap_max", cg->swap_max);
    cgroup_limit_json(j, "swap_high", cg->swap_high);
    json_kv_u64_opt(j, "swap_peak", cg->swap_peak);
    json_kv_u64_opt(j, "memsw_current", cg->memsw_current);
    cgroup_limit_json(j, "memsw_max", cg->memsw_max);
    json_kv_u64_opt(j, "kmem_current", cg->kmem_current);
    cgroup_limit_json(j, "soft_limit", cg->soft_limit);
    cgroup_limit_json(j, "binding_max", b->limit);
    json_kv_str(j, "binding_max_from", b->from);
    json_kv_u64_opt(j, "headroom", b->headroom);
    json_kv_u64_opt(j, "working_set", cgroup_working_set(cg));
    json_kv_u64_opt(j, "reclaimable", cgroup_reclaimable(cg));
    json_kv_u64_opt(j, "kernel", cgroup_kernel(cg));
    json_stat(j, &cg->stat);
    json_events(j, "events", &cg->events, true);
    json_events(j, "events_local", &cg->events_local, cg->version == 2);
    json_kv_bool_opt(j, "oom_kill_disable", cg->oom_control.oom_kill_disable);
    json_kv_bool_opt(j, "under_oom", cg->oom_control.under_oom);
    json_kv_bool_opt(j, "oom_group", cg->oom_group);
    json_kv_u64_opt(j, "swappiness", cg->swappiness);
    json_kv_bool_opt(j, "use_hierarchy", cg->use_hierarchy);
    json_psi(j, "psi", cg->has_psi ? &cg->psi : NULL, cg->psi_path);
    json_obj_end(j);
}

static void json_header(struct json *j, const struct cgroup_hier *h, const struct psi *sys)
{
    json_kv_str(j, "layout", cgroup_layout_name(h->layout));
    json_kv_i64(j, "memory_version", h->memory_version);
    json_kv_str(j, "memory_mount", h->memory.mountpoint);
    json_kv_str(j, "unified_mount", h->unified.mountpoint);
    json_kv_i64(j, "page_size", h->page_size);
    json_psi(j, "system_psi", sys, NULL);
}

/* ---- the list -------------------------------------------------------------------------------- */

struct row {
    const struct cgroup_memory *cg;
    struct cgroup_binding b;
    size_t idx;
};

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    /* absent values last whatever the direction */
    if (!opt_has(a) || !opt_has(b))
        return opt_has(a) ? -1 : opt_has(b) ? 1 : 0;
    return (a < b) - (a > b);
}

static enum sort_key g_sort; /* qsort has no context argument */

static int cmp_rows(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;
    int r = 0;
    switch (g_sort) {
    case SORT_USAGE:
        r = cmp_u64_desc(a->cg->current, b->cg->current);
        break;
    case SORT_HEADROOM:
        r = -cmp_u64_desc(a->b.headroom, b->b.headroom);
        if (!opt_has(a->b.headroom) || !opt_has(b->b.headroom))
            r = -r; /* unlimited last */
        break;
    case SORT_PSI:
        r = cmp_u64_desc(a->cg->has_psi ? a->cg->psi.some.avg10 : OPT_ABSENT,
                         b->cg->has_psi ? b->cg->psi.some.avg10 : OPT_ABSENT);
        if (r == 0 && a->cg->has_psi && b->cg->has_psi)
            r = cmp_u64_desc(a->cg->psi.some.total, b->cg->psi.some.total);
        break;
    case SORT_OOMS:
        r = cmp_u64_desc(a->cg->events.oom_kill, b->cg->events.oom_kill);
        break;
    }
    if (r == 0)
        r = strcmp(a->cg->path, b->cg->path);
    return r;
}

enum {
    COL_CGROUP,
    COL_USAGE,
    COL_LIMIT,
    COL_HEADROOM,
    COL_ANON,
    COL_FILE,
    COL_KERNEL,
    COL_WSET,
    COL_OOMS,
    COL_PSI,
    COL_PROCS,
    COL_WORKLOAD,
    NCOLS,
};

static const struct table_column list_columns[NCOLS] = {
    [COL_CGROUP] = {"CGROUP", TABLE_LEFT},  [COL_USAGE] = {"USAGE", TABLE_RIGHT},
    [COL_LIMIT] = {"LIMIT", TABLE_RIGHT},   [COL_HEADROOM] = {"HEADROOM", TABLE_RIGHT},
    [COL_ANON] = {"ANON", TABLE_RIGHT},     [COL_FILE] = {"FILE", TABLE_RIGHT},
    [COL_KERNEL] = {"KERNEL", TABLE_RIGHT}, [COL_WSET] = {"WSET", TABLE_RIGHT},
    [COL_OOMS] = {"OOMS", TABLE_RIGHT},     [COL_PSI] = {"PSI10", TABLE_RIGHT},
    [COL_PROCS] = {"PROCS", TABLE_RIGHT},   [COL_WORKLOAD] = {"WORKLOAD", TABLE_LEFT},
};

/* Long container and session IDs cut to 12 hex digits, as docker and crictl show them. */
static void abbrev_ids(struct buf *out, const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n) {
        size_t run = 0;
        while (i + run < n && ((s[i + run] >= '0' && s[i + run] <= '9') ||
                               (s[i + run] >= 'a' && s[i + run] <= 'f')))
            run++;
        bool word_start = i == 0 || !((s[i - 1] >= '0' && s[i - 1] <= '9') ||
                                      (s[i - 1] >= 'a' && s[i - 1] <= 'z'));
        if (run >= 32 && word_start) {
            buf_append(out, s + i, 12);
            i += run;
        } else if (run) {
            buf_append(out, s + i, run);
            i += run;
        } else {
            buf_putc(out, s[i++]);
        }
    }
}

static void list_row(struct table *t, const struct podnames *names, const struct row *rw,
                     size_t depth, bool tree)
{
    const struct cgroup_memory *cg = rw->cg;
    table_add_row(t);
    if (tree) {
        struct buf name = BUF_INIT(CAP_PATH);
        for (size_t d = 0; d < depth; d++)
            buf_puts(&name, "  ");
        const char *slash = strrchr(cg->path, '/');
        const char *last = depth == 0 || !slash ? cg->path : slash + 1;
        abbrev_ids(&name, last);
        table_cell_text(t, COL_CGROUP, buf_cstr(&name), name.len);
        buf_release(&name);
    } else {
        struct buf name = BUF_INIT(CAP_PATH);
        abbrev_ids(&name, cg->path);
        table_cell_text(t, COL_CGROUP, buf_cstr(&name), name.len);
        buf_release(&name);
    }
    cli_size_cell(t, COL_USAGE, cg->current);
    char s[FMT_SIZE_LEN];
    if (cgroup_limit_set(cg->max))
        table_cellf(t, COL_LIMIT, "%s", fmt_size(s, cg->max));
    else
        table_cellf(t, COL_LIMIT, "-");
    if (opt_has(rw->b.headroom)) {
        table_cellf(t, COL_HEADROOM, "%s%s", fmt_size(s, rw->b.headroom),
                    strcmp(rw->b.from, cg->path) == 0 ? "" : "*");
        if (rw->b.headroom * 10 < rw->b.limit)
            table_cell_style(t, COL_HEADROOM, STYLE_BOLD_RED);
    } else {
        table_cellf(t, COL_HEADROOM, "-");
    }
    cli_size_cell(t, COL_ANON, cg->stat.anon);
    cli_size_cell(t, COL_FILE, cg->stat.file);
    cli_size_cell(t, COL_KERNEL, cgroup_kernel(cg));
    cli_size_cell(t, COL_WSET, cgroup_working_set(cg));
    if (opt_has(cg->events.oom_kill)) {
        table_cellf(t, COL_OOMS, "%" PRIu64, cg->events.oom_kill);
        if (cg->events.oom_kill > 0)
            table_cell_style(t, COL_OOMS, STYLE_RED);
    } else {
        table_cellf(t, COL_OOMS, "-");
    }
    if (cg->has_psi && cg->psi.some.present)
        table_cellf(t, COL_PSI, "%" PRIu64 ".%02" PRIu64, cg->psi.some.avg10 / 100,
                    cg->psi.some.avg10 % 100);
    else
        table_cellf(t, COL_PSI, "-");
    if (opt_has(cg->nprocs_subtree))
        table_cellf(t, COL_PROCS, "%" PRIu64, cg->nprocs_subtree);
    else
        table_cellf(t, COL_PROCS, "-");
    struct identity id;
    podnames_identity(names, cg->path, &id);
    struct buf w = BUF_INIT(CAP_TEXT_LINE);
    identity_describe(&id, &w);
    table_cell_text(t, COL_WORKLOAD, buf_cstr(&w), w.len);
    buf_release(&w);
}

/* Pre-order with siblings in sort order. */
static int tree_order(const struct row *rows, size_t n, size_t *order, size_t *depth)
{
    /* rows are sorted; children lists keep that order */
    size_t *first = malloc((n + 1) * sizeof(size_t)), *next = malloc((n + 1) * sizeof(size_t));
    size_t *last = malloc((n + 1) * sizeof(size_t)), *pos = malloc((n + 1) * sizeof(size_t));
    size_t *stack = malloc((n + 1) * sizeof(size_t)), *sd = malloc((n + 1) * sizeof(size_t));
    int r = 0;
    if (!first || !next || !last || !pos || !stack || !sd) {
        r = -ENOMEM;
        goto out;
    }
    /* pos: snapshot index → row index */
    for (size_t i = 0; i < n; i++)
        pos[rows[i].idx] = i;
    for (size_t i = 0; i <= n; i++)
        first[i] = last[i] = next[i] = SIZE_MAX;
    size_t nroots = 0;
    for (size_t i = 0; i < n; i++) {
        size_t p = rows[i].cg->parent;
        size_t key = p == SIZE_MAX ? n : pos[p];
        if (key == n)
            nroots++;
        if (first[key] == SIZE_MAX)
            first[key] = i;
        else
            next[last[key]] = i;
        last[key] = i;
    }
    size_t sp = 0, k = 0;
    /* push roots in reverse so the first pops first */
    size_t tmp_n = 0;
    for (size_t i = first[n]; i != SIZE_MAX; i = next[i])
        order[tmp_n++] = i;
    for (size_t i = tmp_n; i-- > 0;) {
        stack[sp] = order[i];
        sd[sp++] = 0;
    }
    while (sp > 0) {
        sp--;
        size_t i = stack[sp], d = sd[sp];
        order[k] = i;
        depth[k++] = d;
        size_t kids = 0;
        for (size_t c = first[i]; c != SIZE_MAX; c = next[c])
            kids++;
        size_t base = sp;
        for (size_t c = first[i]; c != SIZE_MAX; c = next[c])
            sp++;
        size_t at = base + kids;
        for (size_t c = first[i]; c != SIZE_MAX; c = next[c]) {
            stack[--at] = c;
            sd[at] = d + 1;
        }
    }
    (void)nroots;
out:
    free(first);
    free(next);
    free(last);
    free(pos);
    free(stack);
    free(sd);
    return r;
}

static int run_list(const struct cli *c, const struct cg_opts *o, const struct cgroup_hier *h,
                    const struct podnames *names, struct buf *out)
{
    struct cgroup_snapshot s;
    int r = cgroup_snapshot_read(h, NULL, &s);
    if (r < 0)
        return log_error_errno(EXIT_FAIL, "cannot read the cgroups under %s: %s",
                               sysroot_path(h->sr, h->memory.mountpoint), strerror(-r));
    struct row *rows = calloc(s.n ? s.n : 1, sizeof(*rows));
    size_t *order = calloc(s.n ? s.n : 1, sizeof(size_t));
    size_t *depth = calloc(s.n ? s.n : 1, sizeof(size_t));
    if (!rows || !order || !depth) {
        r = EXIT_FAIL;
        goto out;
    }
    const struct cgroup_memory *chain[CGROUP_WALK_MAX_DEPTH + 2];
    for (size_t i = 0; i < s.n; i++) {
        const struct cgroup_memory *cg = &s.v[i];
        size_t len = cg->depth + 1, k = len;
        for (size_t p = i; p != SIZE_MAX && k > 0; p = s.v[p].parent)
            chain[--k] = &s.v[p];
        rows[i] = (struct row){.cg = cg, .idx = i};
        cgroup_binding_of(chain + k, len - k, &rows[i].b);
    }
    g_sort = o->sort;
    qsort(rows, s.n, sizeof(*rows), cmp_rows);
    size_t n = s.n;
    if (o->tree) {
        if (tree_order(rows, n, order, depth) < 0) {
            r = EXIT_FAIL;
            goto out;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        if (o->top && (size_t)o->top < n)
            n = (size_t)o->top;
    }

    if (c->json) {
        struct psi sys;
        bool have_sys = psi_read_system(h->sr, &sys) == 0;
        struct json j;
        json_init(&j, out, true);
        json_obj_begin(&j);
        json_header(&j, h, have_sys ? &sys : NULL);
        json_kv_str(&j, "view", o->tree ? "tree" : "list");
        json_kv_arr_begin(&j, "cgroups");
        for (size_t k = 0; k < n; k++) {
            const struct row *rw = &rows[order[k]];
            json_cgroup(&j, names, rw->cg, &rw->b, o->tree ? (long)depth[k] : -1);
        }
        json_arr_end(&j);
        json_obj_end(&j);
        r = json_error(&j) < 0 ? EXIT_FAIL : 0;
    } else {
        struct table t;
        table_init(&t, list_columns, NCOLS);
        for (size_t k = 0; k < n; k++)
            list_row(&t, names, &rows[order[k]], depth[k], o->tree);
        struct table_render_opts ro = {
            .color = term_use_color(STDOUT_FILENO, c->color),
            .header = o->headers,
            .max_width = term_width(STDOUT_FILENO),
        };
        r = table_render(&t, &ro, out) < 0 ? EXIT_FAIL : 0;
        table_release(&t);
    }
out:
    free(rows);
    free(order);
    free(depth);
    cgroup_snapshot_release(&s);
    return r;
}

/* ---- one cgroup ------------------------------------------------------------------------------ */

/*
 * Page cache re-read after reclaim dropped it, per second: workingset_refault_file read again
 * interval_ms after the cgroup was read at t0. The LRUs of the second reading are the cache.
 */
static void measure_refaults(const struct cgroup_hier *h, const struct cgroup_memory *cg,
                             uint64_t t0, uint64_t interval_ms, struct workingset *ret)
{
    uint64_t cache = opt_has(cg->stat.active_file) && opt_has(cg->stat.inactive_file)
                         ? cg->stat.active_file + cg->stat.inactive_file
                         : OPT_ABSENT;
    if (interval_ms == 0) {
        workingset_assess(OPT_ABSENT, OPT_ABSENT, 0, h->page_size, cache, ret);
        return;
    }
    clock_sleep_until_ms(t0 + interval_ms);
    struct cgroup_memstat again;
    uint64_t after = OPT_ABSENT;
    if (cgroup_read_stat(h, cg->path, &again) == 0) {
        after = again.workingset_refault_file;
        if (opt_has(again.active_file) && opt_has(again.inactive_file))
            cache = again.active_file + again.inactive_file;
    }
    double dt = (double)(clock_mono_ms() - t0) / 1000.0;
    workingset_assess(cg->stat.workingset_refault_file, after, dt, h->page_size, cache, ret);
}

/* What follows from a cgroup's ancestors: the limit that binds it, the top of an oom.group
 * kill, and the outlook of the cgroup whose limit binds. */
static void one_chain(const struct cgroup_hier *h, const struct cgroup_snapshot *anc,
                      const struct cgroup_memory *cg, struct cgroup_binding *bd,
                      const char **group_top, struct cgroup_outlook *ol)
{
    const struct cgroup_memory *chain[CGROUP_WALK_MAX_DEPTH + 2];
    size_t nchain = 0;
    for (size_t i = 0; i < anc->n && nchain < CGROUP_WALK_MAX_DEPTH; i++)
        chain[nchain++] = &anc->v[i];
    chain[nchain++] = cg;
    cgroup_binding_of(chain, nchain, bd);
    /* mem_cgroup_get_oom_group(): up from this cgroup to the one whose limit binds (the root for
     * a machine-wide OOM) */
    *group_top = NULL;
    for (size_t i = nchain; h->memory_version == 2 && i-- > 0;) {
        if (chain[i]->oom_group == 1)
            *group_top = chain[i]->path;
        if (bd->from && strcmp(chain[i]->path, bd->from) == 0)
            break;
    }
    /* what reclaim can take from the cgroup whose limit binds */
    const struct cgroup_memory *binder = NULL;
    for (size_t i = 0; bd->from && i < nchain; i++)
        if (strcmp(chain[i]->path, bd->from) == 0)
            binder = chain[i];
    struct meminfo mi;
    uint64_t swap_room = 0;
    bool swap = binder && meminfo_read(h->sr, &mi) == 0 &&
                cgroup_swap_room(binder, mi.swap_free, &swap_room);
    cgroup_outlook_of(binder, bd, swap, swap_room, ol);
}

static int one_json(const struct cgroup_hier *h, const struct podnames *names,
                    const struct cgroup_memory *cg, const struct cgroup_binding *bd,
                    const struct cgroup_snapshot *anc, const struct psi *sys,
                    const struct cgroup_outlook *ol, const struct workingset *ws,
                    const struct cgobserve *obs, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_header(&j, h, sys);
    json_key(&j, "cgroup");
    json_cgroup(&j, names, cg, bd, -1);
    json_kv_arr_begin(&j, "ancestors");
    for (size_t i = 0; i < anc->n; i++) {
        json_obj_begin(&j);
        json_kv_str(&j, "path", anc->v[i].path);
        json_kv_u64_opt(&j, "current", anc->v[i].current);
        cgroup_limit_json(&j, "max", anc->v[i].max);
        cgroup_limit_json(&j, "high", anc->v[i].high);
        json_kv_bool_opt(&j, "oom_group", anc->v[i].oom_group);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "outlook");
    cgroup_outlook_json(ol, &j);
    json_key(&j, "refaults");
    workingset_json(ws, &j);
    json_kv_strv(&j, "observations", obs->v, obs->n);
    json_obj_end(&j);
    return json_error(&j) < 0 ? EXIT_FAIL : 0;
}

static int run_one(const struct cli *c, const struct cg_opts *o, const struct cgroup_hier *h,
                   const struct podnames *names, struct buf *out)
{
    _cleanup_free_ char *path = NULL;
    int r = cli_resolve_cgroup(c, h, o->path, &path);
    if (r)
        return r;
    _cleanup_(cgroup_memory_release) struct cgroup_memory cg;
    if ((r = cli_read_named_cgroup(h, path, &cg))) {
        cg = (struct cgroup_memory){0};
        return r;
    }
    uint64_t t0 = clock_mono_ms();
    (void)cgroup_psi_from_members(h, &cg);
    _cleanup_(cgroup_snapshot_release) struct cgroup_snapshot anc = {0}, sub = {0};
    _cleanup_(cgobserve_release) struct cgobserve obs = {0};
    (void)cgroup_read_ancestors(h, cg.path, &anc);
    /* the process count with descendants needs the subtree */
    if (cgroup_snapshot_read(h, cg.path, &sub) == 0 && sub.n > 0)
        cg.nprocs_subtree = sub.v[0].nprocs_subtree;
    struct cgroup_binding bd;
    const char *group_top;
    struct cgroup_outlook ol;
    one_chain(h, &anc, &cg, &bd, &group_top, &ol);
    struct workingset ws;
    measure_refaults(h, &cg, t0, o->interval_ms, &ws);
    if (cgobserve_make(&cg, &bd, group_top, &ol, &ws, &obs) < 0)
        return EXIT_FAIL;
    struct psi sys;
    bool have_sys = psi_read_system(h->sr, &sys) == 0;
    if (c->json)
        return one_json(h, names, &cg, &bd, &anc, have_sys ? &sys : NULL, &ol, &ws, &obs, out);
    cgroup_report_text(c, h, names, &cg, &bd, have_sys ? &sys : NULL, &obs, out);
    return 0;
}

int cmd_cgroup(struct cli *c, int argc, char **argv)
{
    struct cg_opts o = {.headers = true, .interval_ms = 1000};
    struct sysroot sr;
    int r;
    if (!cli_begin(c, parse_args(c, &o, argc, argv), &sr, &r))
        return r;
    struct cgroup_hier h;
    if ((r = cli_open_cgroups(c, &sr, &h))) {
        sysroot_close(&sr);
        return r;
    }
    struct podnames names;
    if (podnames_read(&sr, &names) < 0) {
        cgroup_hier_close(&h);
        sysroot_close(&sr);
        return log_error_errno(EXIT_FAIL, "out of memory reading the pods' names");
    }
    struct buf out = BUF_INIT(CAP_OUTPUT);
    r = o.path ? run_one(c, &o, &h, &names, &out) : run_list(c, &o, &h, &names, &out);
    if (r == 0)
        r = cli_emit(&out);
    buf_release(&out);
    podnames_release(&names);
    cgroup_hier_close(&h);
    sysroot_close(&sr);
    return r;
}
