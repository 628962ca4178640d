/*
 * oomwarden evict PATH...: how much of these files is in the page cache, and drop it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/table.h"
#include "engine/act/evict.h"
#include "cli.h"

static const char usage[] =
    "Usage: oomwarden evict [OPTIONS] PATH...\n"
    "\n"
    "Shows how much of each file (directories: every file below) is in the page cache, and\n"
    "drops it with posix_fadvise(POSIX_FADV_DONTNEED). Page cache is charged to the cgroup that\n"
    "read the file and counts toward its memory.max; dropping it gives that memory back.\n"
    "Dirty pages are written out first (fdatasync) so that they can go too; pages mapped by a\n"
    "process and tmpfs files stay. When a PATH does not open, nothing is dropped.\n"
    "\n"
    "  -n, --dry-run         measure only\n"
    "      --no-sync         do not write dirty pages first (they then stay cached)\n"
    "  -x, --one-file-system do not descend into other file systems\n"
    "  -a, --all             list every file (default: the 20 with the most cache)\n"
    CLI_COMMON_HELP;

enum { OPT_NO_SYNC = OPT_FIRST_COMMAND_OPTION };

static int cmp_before(const void *a, const void *b)
{
    const struct evict_file *x = a, *y = b;
    if (x->before != y->before)
        return x->before > y->before ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int render_json(const struct evict_result *res, const struct evict_opts *o, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_kv_bool(&j, "dry_run", o->dry_run);
    json_kv_bool(&j, "held_back", res->held_back);
    uint64_t size = 0, before = 0, after = 0;
    json_kv_arr_begin(&j, "files");
    for (size_t i = 0; i < res->n; i++) {
        const struct evict_file *f = &res->v[i];
        json_obj_begin(&j);
        json_kv_str(&j, "path", f->path);
        if (f->error) {
            json_kv_str(&j, "error", strerror(-f->error));
        } else {
            json_kv_u64(&j, "size", f->size);
            json_kv_u64(&j, "cached_before", f->before);
            json_kv_u64(&j, "cached_after", f->after);
            json_kv_bool(&j, "tmpfs", f->tmpfs);
            size += f->size;
            before += f->before;
            after += f->after;
        }
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_kv_obj_begin(&j, "total");
    json_kv_u64(&j, "files", res->n);
    json_kv_u64(&j, "size", size);
    json_kv_u64(&j, "cached_before", before);
    json_kv_u64(&j, "cached_after", after);
    json_kv_u64(&j, "dropped", before - (after < before ? after : before));
    json_kv_u64(&j, "skipped_not_regular", res->files_skipped);
    json_obj_end(&j);
    json_obj_end(&j);
    return json_error(&j);
}

static const struct table_column columns[] = {
    {"CACHED", TABLE_RIGHT}, {"AFTER", TABLE_RIGHT}, {"SIZE", TABLE_RIGHT},
    {"%", TABLE_RIGHT},      {"PATH", TABLE_LEFT},
};

static int render_text(const struct cli *c, const struct evict_result *res, bool all,
                       const struct evict_opts *o, struct buf *out)
{
    struct table t;
    table_init(&t, columns, 5);
    uint64_t size = 0, before = 0, after = 0;
    size_t shown = 0, errors = 0;
    for (size_t i = 0; i < res->n; i++) {
        const struct evict_file *f = &res->v[i];
        if (f->error) {
            errors++;
            continue;
        }
        size += f->size;
        before += f->before;
        after += f->after;
        if (!all && (shown >= 20 || (f->before == 0 && res->n > 1)))
            continue;
        shown++;
        char a[FMT_SIZE_LEN], b[FMT_SIZE_LEN], s[FMT_SIZE_LEN];
        table_add_row(&t);
        table_cellf(&t, 0, "%s", fmt_size(a, f->before));
        table_cellf(&t, 1, "%s", f->tmpfs ? "tmpfs" : fmt_size(b, f->after));
        table_cellf(&t, 2, "%s", fmt_size(s, f->size));
        table_cellf(&t, 3, "%.0f", f->size ? 100.0 * (double)f->before / (double)f->size : 0.0);
        table_cell_text(&t, 4, f->path, strlen(f->path));
    }
    struct table_render_opts ro = {.color = term_use_color(STDOUT_FILENO, c->color),
                                   .header = true,
                                   .max_width = term_width(STDOUT_FILENO)};
    int r = table_render(&t, &ro, out);
    table_release(&t);
    char a[24], b[24], s[24];
    buf_printf(out, "%zu file%s, %s; in page cache: %s", res->n - errors, res->n - errors == 1 ? "" : "s",
               fmt_size_long(s, size), fmt_size_long(a, before));
    if (o->dry_run)
        buf_printf(out, " (dry run: nothing dropped)\n");
    else if (res->held_back)
        buf_printf(out, " (nothing dropped: a path named did not open, see below)\n");
    else
        buf_printf(out, " before, %s after: %s dropped\n", fmt_size_long(b, after),
                   fmt_size_long(s, before > after ? before - after : 0));
    if (!o->dry_run && !res->held_back && after > 0)
        buf_printf(out, "what stayed is mapped by a process, on tmpfs%s\n",
                   o->sync ? "" : ", or dirty (--no-sync skipped the write-out)");
    if (!all && shown < res->n - errors)
        buf_printf(out, "(%zu more files not listed; --all lists them)\n", res->n - errors - shown);
    return r;
}

int cmd_evict(struct cli *c, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"dry-run", 'n', ARGS_NO_VALUE, 'n'},
        {"no-sync", 0, ARGS_NO_VALUE, OPT_NO_SYNC},
        {"one-file-system", 'x', ARGS_NO_VALUE, 'x'},
        {"all", 'a', ARGS_NO_VALUE, 'a'},
        CLI_COMMON_OPTIONS,
    };
    struct evict_opts o = {.sync = true};
    bool all = false;
    struct args a;
    int opt;
    cli_args_init(c, &a, argc, argv, opts);
    while ((opt = cli_next_option(c, &a, usage)) > 0) {
        switch (opt) {
        case 'n':
            o.dry_run = true;
            break;
        case OPT_NO_SYNC:
            o.sync = false;
            break;
        case 'x':
            o.one_fs = true;
            break;
        case 'a':
            all = true;
            break;
        }
    }
    if (opt < 0)
        return cli_args_exit(opt);
    if (a.noperands == 0)
        return cli_usage_error(c, "which files? (oomwarden evict PATH...)");
    struct evict_result res;
    int r = evict_paths(a.operands, (size_t)a.noperands, &o, &res);
    if (r < 0)
        return log_error_errno(EXIT_FAIL, "out of memory");
    qsort(res.v, res.n, sizeof(*res.v), cmp_before);
    struct buf out = BUF_INIT(CAP_OUTPUT);
    r = c->json ? render_json(&res, &o, &out) : render_text(c, &res, all, &o, &out);
    /* said before the output, so that under --json the document carries them too */
    bool failed = false;
    for (size_t i = 0; i < res.n; i++)
        if (res.v[i].error) {
            log_error("%s: %s", res.v[i].path, strerror(-res.v[i].error));
            failed = true;
        }
    int rc = r < 0 ? EXIT_FAIL : cli_emit(&out);
    if (failed)
        rc = EXIT_FAIL;
    buf_release(&out);
    evict_result_release(&res);
    return rc;
}
