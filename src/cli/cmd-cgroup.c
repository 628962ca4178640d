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
    "                        refaults per second (default 1s; 0: do not wait, no rate)\n"
    CLI_COMMON_HELP;

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
    int opt, r;
    cli_args_init(c, &a, argc, argv, opts);
    while ((opt = cli_next_option(c, &a, usage)) > 0) {
        switch (opt) {
        case 's':
            if (strcmp(a.value, "usage") == 0)
                o->sort = SORT_USAGE;
            else if (strcmp(a.value, "headroom") == 0)
                o->sort = SORT_HEADROOM;
            else if (strcmp(a.value, "psi") == 0)
                o->sort = SORT_PSI;
            else if (strcmp(a.value, "ooms") == 0)
                o->sort = SORT_OOMS;
            else
                return cli_usage_error(c, "--sort must be usage, headroom, psi or ooms, not '%s'",
                                       a.value);
            break;
        case 't':
            o->tree = true;
            break;
        case 'n':
            if ((r = cli_parse_count(c, "--top", a.value, &o->top)))
                return r;
            break;
        case OPT_NO_HEADERS:
            o->headers = false;
            break;
        case OPT_INTERVAL:
            if ((r = cli_parse_interval(c, a.value, &o->interval_ms)))
                return r;
            o->interval_set = true;
            break;
        }
    }
    if (opt < 0)
        return opt == CLI_ARGS_HELP ? -1 : EXIT_USAGE;
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

static void json_kv_limit(struct json *j, const char *k, uint64_t v)
{
    if (!opt_has(v))
        json_kv_null(j, k);
    else if (!cgroup_limit_set(v))
        json_kv_str(j, k, "max");
    else
        json_kv_u64(j, k, v);
}

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
    json_key(j, "stat");
    json_obj_begin(j);
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
    json_kv_limit(j, "max", cg->max);
    json_kv_limit(j, "high", cg->high);
    json_kv_limit(j, "low", cg->low);
    json_kv_limit(j, "min", cg->min);
    json_kv_u64_opt(j, "swap_current", cg->swap_current);
    json_kv_limit(j, "swap_max", cg->swap_max);
    json_kv_limit(j, "swap_high", cg->swap_high);
    json_kv_u64_opt(j, "swap_peak", cg->swap_peak);
    json_kv_u64_opt(j, "memsw_current", cg->memsw_current);
    json_kv_limit(j, "memsw_max", cg->memsw_max);
    json_kv_u64_opt(j, "kmem_current", cg->kmem_current);
    json_kv_limit(j, "soft_limit", cg->soft_limit);
    json_kv_limit(j, "binding_max", b->limit);
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
        struct buf name = BUF_INIT(8192);
        for (size_t d = 0; d < depth; d++)
            buf_puts(&name, "  ");
        const char *slash = strrchr(cg->path, '/');
        const char *last = depth == 0 || !slash ? cg->path : slash + 1;
        abbrev_ids(&name, last);
        table_cell_text(t, COL_CGROUP, buf_cstr(&name), name.len);
        buf_release(&name);
    } else {
        struct buf name = BUF_INIT(8192);
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
    struct buf w = BUF_INIT(1024);
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
        json_key(&j, "cgroups");
        json_arr_begin(&j);
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

static void report_text(const struct cli *c, const struct cgroup_hier *h,
                        const struct podnames *names, const struct cgroup_memory *cg,
                        const struct cgroup_binding *bd,
                        const struct psi *sys, const struct cgobserve *obs, struct buf *out)
{
    bool color = term_use_color(STDOUT_FILENO, c->color);
    bool show_bar = isatty(STDOUT_FILENO) || c->color == COLOR_ALWAYS;
    char a[24], b[24], a2[24], b2[24];
    bool v2 = cg->version == 2;
    const struct cgroup_memstat *s = &cg->stat;
    uint64_t use = cg->current;

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
    struct buf w = BUF_INIT(1024);
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

    /* limits */
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
        buf_printf(out, "  %-22s %8s\n", "soft_limit_in_bytes", cli_size_or(a, cg->soft_limit, "-"));
        if (opt_has(cg->memsw_current) || opt_has(cg->memsw_max))
            buf_printf(out, "  %-22s %8s  of memsw.limit_in_bytes %s\n", "memory+swap",
                       cli_size_or(a, cg->memsw_current, "-"), cli_size_or(b, cg->memsw_max, "-"));
        if (opt_has(cg->swappiness))
            buf_printf(out, "  %-22s %8" PRIu64 "\n", "swappiness", cg->swappiness);
        if (cg->use_hierarchy == 0)
            buf_printf(out, "  %-22s %8s  (its limit and OOM cover its own tasks, not its "
                            "children's)\n",
                       "use_hierarchy", "0");
    }
    if (show_bar) {
        buf_putc(out, '\n');
        size_t tw = term_width(STDOUT_FILENO);
        size_t bw = tw > 40 ? (tw - 30 > 60 ? 60 : tw - 30) : 50;
        bar(out, cg, cg->max, color, bw);
    }

    /* breakdown */
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
        line_size(out, "reclaim may drop", held + (opt_has(s->slab_reclaimable) ? s->slab_reclaimable : 0),
                  use, "mapped or dirty page cache, reclaimable slab: when cold, written, shrunk");
    }
    line_size(out, "working set", cgroup_working_set(cg), use,
              "usage - inactive file, as kubelet computes it (active cache counts as used)");

    /* events */
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

    /* pressure */
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

    if (obs->n) {
        buf_puts(out, "\nobservations\n");
        for (size_t i = 0; i < obs->n; i++) {
            buf_puts(out, "  - ");
            buf_puts(out, obs->v[i]);
            buf_putc(out, '\n');
        }
    }
}

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

static int run_one(const struct cli *c, const struct cg_opts *o, const struct cgroup_hier *h,
                   const struct podnames *names, struct buf *out)
{
    char *path = NULL;
    int r = cli_resolve_cgroup(c, h, o->path, &path);
    if (r)
        return r;
    struct cgroup_memory cg;
    if ((r = cli_read_named_cgroup(h, path, &cg))) {
        free(path);
        return r;
    }
    free(path);
    uint64_t t0 = clock_mono_ms();
    (void)cgroup_psi_from_members(h, &cg);
    struct cgroup_snapshot anc = {0}, sub = {0};
    struct cgobserve obs = {0};
    (void)cgroup_read_ancestors(h, cg.path, &anc);
    /* the process count with descendants needs the subtree */
    if (cgroup_snapshot_read(h, cg.path, &sub) == 0 && sub.n > 0)
        cg.nprocs_subtree = sub.v[0].nprocs_subtree;
    const struct cgroup_memory *chain[CGROUP_WALK_MAX_DEPTH + 2];
    size_t nchain = 0;
    for (size_t i = 0; i < anc.n && nchain < CGROUP_WALK_MAX_DEPTH; i++)
        chain[nchain++] = &anc.v[i];
    chain[nchain++] = &cg;
    struct cgroup_binding bd;
    cgroup_binding_of(chain, nchain, &bd);
    /* mem_cgroup_get_oom_group(): up from this cgroup to the one whose limit binds (the root for
     * a machine-wide OOM) */
    const char *group_top = NULL;
    for (size_t i = nchain; h->memory_version == 2 && i-- > 0;) {
        if (chain[i]->oom_group == 1)
            group_top = chain[i]->path;
        if (bd.from && strcmp(chain[i]->path, bd.from) == 0)
            break;
    }
    /* what reclaim can take from the cgroup whose limit binds */
    const struct cgroup_memory *binder = NULL;
    for (size_t i = 0; bd.from && i < nchain; i++)
        if (strcmp(chain[i]->path, bd.from) == 0)
            binder = chain[i];
    struct meminfo mi;
    uint64_t swap_room = 0;
    bool swap = binder && meminfo_read(h->sr, &mi) == 0 &&
                cgroup_swap_room(binder, mi.swap_free, &swap_room);
    struct cgroup_outlook ol;
    cgroup_outlook_of(binder, &bd, swap, swap_room, &ol);
    struct workingset ws;
    measure_refaults(h, &cg, t0, o->interval_ms, &ws);
    if (cgobserve_make(&cg, &bd, group_top, &ol, &ws, &obs) < 0) {
        r = EXIT_FAIL;
        goto out;
    }
    struct psi sys;
    bool have_sys = psi_read_system(h->sr, &sys) == 0;
    if (c->json) {
        struct json j;
        json_init(&j, out, true);
        json_obj_begin(&j);
        json_header(&j, h, have_sys ? &sys : NULL);
        json_key(&j, "cgroup");
        json_cgroup(&j, names, &cg, &bd, -1);
        json_key(&j, "ancestors");
        json_arr_begin(&j);
        for (size_t i = 0; i < anc.n; i++) {
            json_obj_begin(&j);
            json_kv_str(&j, "path", anc.v[i].path);
            json_kv_u64_opt(&j, "current", anc.v[i].current);
            json_kv_limit(&j, "max", anc.v[i].max);
            json_kv_limit(&j, "high", anc.v[i].high);
            json_kv_bool_opt(&j, "oom_group", anc.v[i].oom_group);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_key(&j, "outlook");
        cgroup_outlook_json(&ol, &j);
        json_key(&j, "refaults");
        workingset_json(&ws, &j);
        json_key(&j, "observations");
        json_arr_begin(&j);
        for (size_t i = 0; i < obs.n; i++)
            json_str(&j, obs.v[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        r = json_error(&j) < 0 ? EXIT_FAIL : 0;
    } else {
        report_text(c, h, names, &cg, &bd, have_sys ? &sys : NULL, &obs, out);
    }
out:
    cgobserve_release(&obs);
    cgroup_snapshot_release(&anc);
    cgroup_snapshot_release(&sub);
    cgroup_memory_release(&cg);
    return r;
}

int cmd_cgroup(struct cli *c, int argc, char **argv)
{
    struct cg_opts o = {.headers = true, .interval_ms = 1000};
    int r = parse_args(c, &o, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    struct sysroot sr;
    if ((r = cli_open_root(c, &sr)))
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
