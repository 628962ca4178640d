/* oomwarden ps: the views of its rows (see ps-view.h). */
#include "ps-view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/proc/badness.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/oomdomain.h"
#include "model/proc/procs.h"
#include "model/workload/identity.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "model/proc/users.h"
#include "model/proc/victims.h"
#include "cli/cli.h"

enum {
    COL_RANK,
    COL_PID,
    COL_PPID,
    COL_USER,
    COL_ANON,
    COL_FILE,
    COL_SHMEM,
    COL_SWAP,
    COL_PTE,
    COL_SCORE,   /* the global view: /proc/PID/oom_score as the kernel prints it now */
    COL_BADNESS, /* oom_badness() when the domain's OOM comes, as memory (pages x page size) */
    COL_ADJ,
    COL_KILLS, /* --cgroup: who dies with the victim through memory.oom.group */
    COL_CGROUP,
    COL_COMMAND,
    NCOLS,
};

static const struct table_column all_columns[NCOLS] = {
    [COL_RANK] = {"#", TABLE_RIGHT},          [COL_PID] = {"PID", TABLE_RIGHT},
    [COL_PPID] = {"PPID", TABLE_RIGHT},       [COL_USER] = {"USER", TABLE_LEFT},
    [COL_ANON] = {"ANON", TABLE_RIGHT},       [COL_FILE] = {"FILE", TABLE_RIGHT},
    [COL_SHMEM] = {"SHMEM", TABLE_RIGHT},     [COL_SWAP] = {"SWAP", TABLE_RIGHT},
    [COL_PTE] = {"PTE", TABLE_RIGHT},         [COL_SCORE] = {"OOM_SCORE", TABLE_RIGHT},
    [COL_BADNESS] = {"BADNESS", TABLE_RIGHT}, [COL_ADJ] = {"OOM_SCORE_ADJ", TABLE_RIGHT},
    [COL_KILLS] = {"KILLS", TABLE_RIGHT},     [COL_CGROUP] = {"CGROUP", TABLE_LEFT},
    [COL_COMMAND] = {"COMMAND", TABLE_LEFT},
};

/* The columns of a view, and where each one is in it (SIZE_MAX: not shown). */
struct cols {
    struct table_column v[NCOLS];
    size_t at[NCOLS];
};

static void cols_for(const struct oomdomain *d, struct cols *c)
{
    size_t n = 0;
    for (size_t i = 0; i < NCOLS; i++) {
        c->at[i] = SIZE_MAX;
        if ((i == COL_SCORE && d) || (i == COL_KILLS && !d))
            continue;
        c->at[i] = n;
        c->v[n++] = all_columns[i];
    }
}

/* The global ranking's one line above the table: what it is ranked by. */
void ps_render_global_note(const struct victim_list *vl, long page_size, struct buf *out)
{
    char a[FMT_SIZE_LEN];
    buf_printf(out,
               "ranked by BADNESS: oom_badness() when a machine-wide OOM comes, assuming reclaim "
               "has taken every file page but mlocked ones by then (anon + shmem + swap + page "
               "tables + oom_score_adj x %s); OOM_SCORE: /proc/PID/oom_score now, file pages "
               "included\n",
               fmt_size(a, vl->totalpages / 1000 * (uint64_t)page_size));
}

int ps_render_ranked(const struct cli *c, const struct ps_opts *o, struct users *users,
                     const struct podnames *names, const struct oomdomain *d, long page_size,
                     const struct row *rows, size_t n, struct buf *out)
{
    struct cols cs;
    cols_for(d, &cs);
    struct table t;
    table_init(&t, cs.v, NCOLS - 1);
    struct buf cmd = BUF_INIT(CAP_CMDLINE + 64);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct proc *p = rows[i].p;
        const struct victim *v = rows[i].v;
        if ((r = table_add_row(&t)) < 0)
            break;
        if (v->rank) {
            table_cell_i64(&t, cs.at[COL_RANK], (int64_t)v->rank);
            if (v->rank == 1)
                table_cell_style(&t, cs.at[COL_RANK], STYLE_BOLD_RED);
        } else {
            table_cellf(&t, cs.at[COL_RANK], "never");
            table_cell_style(&t, cs.at[COL_RANK], STYLE_DIM);
        }
        table_cell_i64(&t, cs.at[COL_PID], p->pid);
        table_cell_i64(&t, cs.at[COL_PPID], p->ppid);
        const char *user = users_name(users, p->uid);
        table_cell_text(&t, cs.at[COL_USER], user, strlen(user));
        cli_size_cell(&t, cs.at[COL_ANON], p->rss_anon);
        cli_size_cell(&t, cs.at[COL_FILE], p->rss_file);
        cli_size_cell(&t, cs.at[COL_SHMEM], p->rss_shmem);
        cli_size_cell(&t, cs.at[COL_SWAP], p->swap);
        cli_size_cell(&t, cs.at[COL_PTE], p->pgtables);
        if (!d)
            table_cellf(&t, cs.at[COL_SCORE], "%ld", p->oom_score);
        if (v->eligible) {
            char sz[FMT_SIZE_LEN];
            uint64_t mag = (uint64_t)(v->badness < 0 ? -v->badness : v->badness);
            table_cellf(&t, cs.at[COL_BADNESS], "%s%s", v->badness < 0 ? "-" : "",
                        fmt_size(sz, mag * (uint64_t)page_size));
        } else {
            table_cellf(&t, cs.at[COL_BADNESS], "-");
        }
        table_cellf(&t, cs.at[COL_ADJ], "%d", p->oom_score_adj);
        if (d && v->eligible) {
            size_t k = oomdomain_kill_unit(d, rows[i].dom, NULL, 0);
            table_cellf(&t, cs.at[COL_KILLS], "%zu", k);
            if (k > 1)
                table_cell_style(&t, cs.at[COL_KILLS], STYLE_BOLD_RED);
        } else if (d) {
            table_cellf(&t, cs.at[COL_KILLS], "-");
        }
        if (p->oom_score_adj > 0)
            table_cell_style(&t, cs.at[COL_ADJ], STYLE_YELLOW);
        else if (p->oom_score_adj < 0)
            table_cell_style(&t, cs.at[COL_ADJ], STYLE_CYAN);
        char cg[128];
        podnames_cgroup_short(names, p->cgroup, 36, cg, sizeof(cg));
        table_cell_text(&t, cs.at[COL_CGROUP], cg, strlen(cg));
        buf_reset(&cmd);
        proc_format_command(p, &cmd);
        table_cell_text(&t, cs.at[COL_COMMAND], cmd.data ? cmd.data : "", cmd.len);
        if (p->kernel_thread)
            table_cell_style(&t, cs.at[COL_COMMAND], STYLE_DIM);
    }
    if (r == 0) {
        struct table_render_opts ro = {
            .color = term_use_color(STDOUT_FILENO, c->color),
            .header = o->headers,
            .max_width = term_width(STDOUT_FILENO),
        };
        r = table_render(&t, &ro, out);
    }
    buf_release(&cmd);
    table_release(&t);
    return r;
}

/* Depth-first order of the displayed processes: roots are those whose parent is not shown. */
struct tree {
    size_t *order;  /* indices into rows, in display order */
    size_t *depth;  /* per position in order */
    size_t n;
};

static int tree_build(const struct row *rows, size_t n, struct tree *ret)
{
    /* rows are sorted by pid; parent lookup by binary search */
    size_t *parent = malloc((n ? n : 1) * sizeof(size_t));
    size_t *nchild = calloc(n + 1, sizeof(size_t));
    size_t *first = calloc(n + 1, sizeof(size_t));
    size_t *kids = malloc((n ? n : 1) * sizeof(size_t));
    size_t *stack = malloc((n ? n : 1) * sizeof(size_t));
    size_t *sdepth = malloc((n ? n : 1) * sizeof(size_t));
    struct tree t = {
        .order = malloc((n ? n : 1) * sizeof(size_t)),
        .depth = malloc((n ? n : 1) * sizeof(size_t)),
    };
    int r = 0;
    if (!parent || !nchild || !first || !kids || !stack || !sdepth || !t.order || !t.depth) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        parent[i] = SIZE_MAX;
        pid_t pp = rows[i].p->ppid;
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rows[mid].p->pid == pp) {
                if (mid != i)
                    parent[i] = mid;
                break;
            }
            if (rows[mid].p->pid < pp)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (parent[i] != SIZE_MAX)
            nchild[parent[i]]++;
    }
    /* children of i are kids[first[i] .. first[i]+nchild[i]), in pid order */
    for (size_t i = 0, acc = 0; i < n; i++) {
        first[i] = acc;
        acc += nchild[i];
        nchild[i] = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (parent[i] != SIZE_MAX)
            kids[first[parent[i]] + nchild[parent[i]]++] = i;

    /* iterative DFS: a 10,000-deep fork chain must not overflow our stack */
    size_t sp = 0;
    for (size_t root = n; root-- > 0;)
        if (parent[root] == SIZE_MAX) {
            stack[sp] = root;
            sdepth[sp++] = 0;
        }
    while (sp > 0) {
        sp--;
        size_t i = stack[sp], d = sdepth[sp];
        t.order[t.n] = i;
        t.depth[t.n++] = d;
        for (size_t k = nchild[i]; k-- > 0;) {
            stack[sp] = kids[first[i] + k];
            sdepth[sp++] = d + 1;
        }
    }
out:
    free(parent);
    free(nchild);
    free(first);
    free(kids);
    free(stack);
    free(sdepth);
    if (r < 0) {
        free(t.order);
        free(t.depth);
        return r;
    }
    *ret = t;
    return 0;
}

static void tree_release(struct tree *t)
{
    free(t->order);
    free(t->depth);
}

int ps_render_tree(const struct cli *c, const struct ps_opts *o, const struct row *rows,
                   size_t n, struct buf *out)
{
    struct tree t;
    int r = tree_build(rows, n, &t);
    if (r < 0)
        return r;
    bool color = term_use_color(STDOUT_FILENO, c->color);
    size_t width = term_width(STDOUT_FILENO);
    struct buf line = BUF_INIT(CAP_CMDLINE + 4096);
    for (size_t k = 0; k < t.n && r == 0; k++) {
        const struct proc *p = rows[t.order[k]].p;
        buf_reset(&line);
        for (size_t d = 0; d < t.depth[k]; d++)
            buf_puts(&line, "  ");
        if (color && p->kernel_thread)
            buf_puts(&line, style_ansi(STYLE_DIM));
        buf_printf(&line, "[%d] ", (int)p->pid);
        text_sanitize_into(&line, p->comm, strlen(p->comm));
        buf_printf(&line, ": %ld (%+d)", p->oom_score, p->oom_score_adj);
        if (o->extended) {
            char a[FMT_SIZE_LEN], f[FMT_SIZE_LEN], s[FMT_SIZE_LEN], w[FMT_SIZE_LEN];
            if (p->has_mm)
                buf_printf(&line, "  anon %s file %s shmem %s swap %s",
                           fmt_size(a, opt_has(p->rss_anon) ? p->rss_anon : 0),
                           fmt_size(f, opt_has(p->rss_file) ? p->rss_file : 0),
                           fmt_size(s, opt_has(p->rss_shmem) ? p->rss_shmem : 0),
                           fmt_size(w, opt_has(p->swap) ? p->swap : 0));
            if (p->cmdline_len) {
                struct buf cmd = BUF_INIT(CAP_CMDLINE + 64);
                proc_format_command(p, &cmd);
                buf_puts(&line, "  ");
                text_sanitize_into(&line, buf_cstr(&cmd), cmd.len);
                buf_release(&cmd);
            }
        }
        if (color && p->kernel_thread)
            buf_puts(&line, STYLE_RESET);
        /* cut to the terminal like ps does; the escape codes only wrap the whole line */
        size_t len = line.len;
        if (width && !color && text_width(line.data, len) > width) {
            size_t cols = 0, i = 0;
            while (i < len && cols < width) {
                i++;
                while (i < len && ((unsigned char)line.data[i] & 0xc0) == 0x80)
                    i++;
                cols++;
            }
            len = i;
        }
        buf_append(out, line.data, len);
        r = buf_putc(out, '\n');
    }
    buf_release(&line);
    tree_release(&t);
    return r;
}

static void json_cmdline(struct json *j, const struct proc *p)
{
    json_kv_arr_begin(j, "cmdline");
    size_t i = 0;
    while (i < p->cmdline_len) {
        size_t n = strnlen(p->cmdline + i, p->cmdline_len - i);
        json_strn(j, p->cmdline + i, n);
        i += n + 1;
    }
    json_arr_end(j);
}

static void json_kill_unit(struct json *j, const struct oomdomain *d, size_t i)
{
    if (d->group[i] == SIZE_MAX || !d->victims.v[i].eligible) {
        json_null(j);
        return;
    }
    size_t n = oomdomain_kill_unit(d, i, NULL, 0);
    size_t *m = calloc(n ? n : 1, sizeof(size_t));
    json_obj_begin(j);
    json_kv_str(j, "cgroup", d->cgroups.v[d->group[i]].path);
    json_kv_arr_begin(j, "pids");
    if (m) {
        oomdomain_kill_unit(d, i, m, n);
        for (size_t k = 0; k < n; k++)
            json_i64(j, d->victims.v[m[k]].proc->pid);
    }
    json_arr_end(j);
    json_obj_end(j);
    free(m);
}

static void json_process(struct json *j, struct users *users, const struct podnames *names,
                         const struct oomdomain *d, const struct row *row, long depth)
{
    const struct proc *p = row->p;
    const struct victim *v = row->v;
    json_obj_begin(j);
    json_kv_i64(j, "pid", p->pid);
    json_kv_i64(j, "ppid", p->ppid);
    if (p->uid >= 0) {
        json_kv_i64(j, "uid", p->uid);
        json_kv_str(j, "user", users_name(users, p->uid));
    } else {
        json_kv_null(j, "uid");
        json_kv_null(j, "user");
    }
    json_kv_str(j, "comm", p->comm);
    json_cmdline(j, p);
    json_kv_strn(j, "state", &p->state, 1);
    json_kv_bool(j, "kernel_thread", p->kernel_thread);
    if (p->nthreads >= 0)
        json_kv_i64(j, "threads", p->nthreads);
    else
        json_kv_null(j, "threads");
    json_kv_u64_opt(j, "rss_anon", p->rss_anon);
    json_kv_u64_opt(j, "rss_file", p->rss_file);
    json_kv_u64_opt(j, "rss_shmem", p->rss_shmem);
    json_kv_u64_opt(j, "rss", p->has_mm ? proc_rss(p) : OPT_ABSENT);
    json_kv_u64_opt(j, "swap", p->swap);
    json_kv_u64_opt(j, "pgtables", p->pgtables);
    json_kv_i64(j, "oom_score_adj", p->oom_score_adj);
    json_kv_i64(j, "oom_score", p->oom_score);
    if (v && v->eligible) {
        json_kv_i64(j, "badness", v->badness);
        json_kv_i64(j, "badness_now", v->badness_now);
    } else {
        json_kv_null(j, "badness");
        json_kv_null(j, "badness_now");
    }
    if (v && v->scored)
        json_kv_u64(j, "oom_score_model", v->oom_score_model);
    else
        json_kv_null(j, "oom_score_model");
    json_kv_bool(j, "eligible", v && v->eligible);
    if (v && v->rank)
        json_kv_u64(j, "rank", v->rank);
    else
        json_kv_null(j, "rank");
    json_kv_str(j, "cgroup", p->cgroup);
    json_kv_str(j, "cgroup_unified", p->cgroup_unified);
    struct identity id;
    podnames_identity_proc(names, p->cgroup, p->cgroup_unified, &id);
    identity_names_json_fields(&id, j);
    if (d) {
        json_key(j, "kill_unit");
        json_kill_unit(j, d, row->dom);
    }
    if (depth >= 0)
        json_kv_i64(j, "depth", depth);
    json_obj_end(j);
}

static const char *why_name(enum oomdomain_why w)
{
    if (w == OOMDOMAIN_OWN_LIMIT)
        return "own_limit";
    return w == OOMDOMAIN_ANCESTOR ? "ancestor" : "machine";
}

static void json_domain(struct json *j, const struct oomdomain *d)
{
    json_kv_obj_begin(j, "oom_domain");
    json_kv_str(j, "cgroup", d->path);
    json_kv_str(j, "oom_cgroup", d->oom_cgroup);
    json_kv_str(j, "reason", why_name(d->why));
    cgroup_limit_json(j, "own_limit", d->own_limit);
    json_kv_u64_opt(j, "own_usage", d->own_usage);
    json_kv_bool(j, "own_tasks_only", d->own_tasks_only);
    json_kv_i64(j, "memory_version", d->version);
    cgroup_limit_json(j, "limit", d->limit);
    cgroup_limit_json(j, d->version == 1 ? "memsw_limit" : "swap_limit",
               d->version == 1 ? d->memsw_limit : d->swap_limit);
    json_kv_u64_opt(j, "usage", d->usage);
    json_kv_u64_opt(j, "swappiness", d->swappiness);
    json_kv_u64(j, "swap_pages", d->swap_pages);
    json_kv_u64(j, "totalpages", d->totalpages);
    json_kv_u64(j, "candidates", d->candidates);
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < d->victims.n && first == SIZE_MAX; i++)
        if (d->victims.v[i].rank == 1)
            first = i;
    if (first != SIZE_MAX) {
        json_kv_i64(j, "next_victim", d->victims.v[first].proc->pid);
        json_key(j, "next_kill_unit");
        json_kill_unit(j, d, first);
    } else {
        json_kv_null(j, "next_victim");
        json_kv_null(j, "next_kill_unit");
    }
    json_obj_end(j);
}

int ps_render_json(const struct ps_opts *o, const struct sysroot *sr, const struct kver *k,
                   const struct meminfo *mi, const struct victim_list *vl, struct users *users,
                   const struct podnames *names, const struct oomdomain *d,
                   const struct row *rows, size_t n, struct buf *out)
{
    uint64_t err = badness_counter_error_pages(k, sysroot_ncpus(sr));
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_kv_str(&j, "kernel_release", k->known ? k->release : NULL);
    json_kv_i64(&j, "page_size", sr->page_size);
    json_kv_u64(&j, "totalram_pages", mi->mem_total / (uint64_t)sr->page_size);
    json_kv_u64(&j, "total_swap_pages",
                opt_has(mi->swap_total) ? mi->swap_total / (uint64_t)sr->page_size : 0);
    json_kv_u64(&j, "totalpages", vl->totalpages);
    json_kv_str(&j, "domain", d && d->oom_cgroup ? "memcg" : "global");
    if (d)
        json_domain(&j, d);
    json_kv_str(&j, "badness_formula", badness_algo_name(vl->algo));
    json_kv_bool(&j, "badness_at_global_oom", vl->at_global_oom);
    json_kv_str(&j, "rss_source", vl->rss_source == RSS_FROM_STAT ? "stat" : "status");
    json_kv_str(&j, "rss_source_reason", vl->rss_source_reason);
    /* how far apart the two RSS readings can be on this kernel (per-CPU counter slack) */
    json_kv_u64(&j, "counter_error_pages", err);
    json_kv_str(&j, "view", o->tree ? "tree" : "ranked");
    json_kv_arr_begin(&j, "processes");
    if (o->tree) {
        struct tree t;
        int r = tree_build(rows, n, &t);
        if (r < 0)
            return r;
        for (size_t i = 0; i < t.n; i++)
            json_process(&j, users, names, d, &rows[t.order[i]], (long)t.depth[i]);
        tree_release(&t);
    } else {
        for (size_t i = 0; i < n; i++)
            json_process(&j, users, names, d, &rows[i], -1);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    return json_error(&j);
}

/* The domain's next victim, and who dies with it through memory.oom.group. */
static void render_next_victim(const struct cli *c, const struct oomdomain *d, size_t first,
                               struct buf *out)
{
    bool color = term_use_color(STDOUT_FILENO, c->color);
    const struct proc *v = d->victims.v[first].proc;
    buf_puts(out, "next victim: ");
    if (color)
        buf_puts(out, style_ansi(STYLE_BOLD_RED));
    buf_printf(out, "%d ", (int)v->pid);
    text_sanitize_into(out, v->comm, strlen(v->comm));
    if (color)
        buf_puts(out, STYLE_RESET);
    if (!oomdomain_in(d, first, d->path))
        buf_puts(out, " (outside the cgroup you named)");
    buf_putc(out, '\n');
    if (d->group[first] != SIZE_MAX) {
        size_t n = oomdomain_kill_unit(d, first, NULL, 0);
        size_t *m = calloc(n ? n : 1, sizeof(size_t));
        if (m)
            oomdomain_kill_unit(d, first, m, n);
        buf_puts(out, "  memory.oom.group is set on ");
        const char *g = d->cgroups.v[d->group[first]].path;
        text_sanitize_into(out, g, strlen(g));
        buf_printf(out, ": %zu %s with it:", n, n == 1 ? "process dies" : "processes die");
        for (size_t k = 0; m && k < n; k++) {
            const struct proc *p = d->victims.v[m[k]].proc;
            buf_printf(out, " %d ", (int)p->pid);
            text_sanitize_into(out, p->comm, strlen(p->comm));
        }
        buf_puts(out, " (not those at oom_score_adj -1000)\n");
        free(m);
    } else if (d->version == 1) {
        buf_puts(out, "  it dies alone: cgroup v1 has no memory.oom.group\n");
    } else {
        buf_puts(out, "  it dies alone: memory.oom.group is 0 from its cgroup up to the OOM "
                      "domain\n");
    }
    buf_putc(out, '\n');
}

/* What an OOM in the --cgroup domain means, before the table. */
void ps_render_domain(const struct cli *c, const struct oomdomain *d, struct buf *out)
{
    char a[24], b[24];
    const char *maxname = cgroup_limit_file(d->version);
    size_t outside = 0, eligible = 0, first = SIZE_MAX;
    for (size_t i = 0; i < d->victims.n; i++) {
        if (!oomdomain_in(d, i, d->path))
            outside++;
        if (d->victims.v[i].eligible)
            eligible++;
        if (d->victims.v[i].rank == 1)
            first = i;
    }
    buf_puts(out, "OOM domain: ");
    switch (d->why) {
    case OOMDOMAIN_OWN_LIMIT:
        text_sanitize_into(out, d->path, strlen(d->path));
        buf_printf(out, " (%s %s", maxname, fmt_size_long(a, d->limit));
        break;
    case OOMDOMAIN_ANCESTOR:
        text_sanitize_into(out, d->oom_cgroup, strlen(d->oom_cgroup));
        buf_printf(out, " (%s %s", maxname, fmt_size_long(a, d->limit));
        if (opt_has(d->usage))
            buf_printf(out, ", %s left",
                       fmt_size_long(b, d->limit > d->usage ? d->limit - d->usage : 0));
        break;
    case OOMDOMAIN_MACHINE:
        buf_puts(out, "the whole machine (RAM + swap");
        break;
    }
    buf_printf(out, "): totalpages %" PRIu64, d->totalpages);
    if (d->oom_cgroup) {
        if (d->swap_pages)
            buf_printf(out, " including %" PRIu64 " pages of swap", d->swap_pages);
        else if (opt_has(d->swappiness) && d->swappiness == 0)
            buf_puts(out, " (swappiness 0: no swap counted)");
    }
    buf_printf(out, "; one point of oom_score_adj weighs %" PRIu64 " pages\n",
               d->totalpages / 1000);
    if (d->why == OOMDOMAIN_ANCESTOR) {
        buf_puts(out, "  ");
        text_sanitize_into(out, d->path, strlen(d->path));
        if (cgroup_limit_set(d->own_limit) && opt_has(d->own_limit))
            buf_printf(out, " has %s left under its own limit (%s); this ancestor has less and "
                            "runs out first (its usage includes its children's and its own)",
                       fmt_size_long(a, opt_has(d->own_usage) && d->own_limit > d->own_usage
                                            ? d->own_limit - d->own_usage
                                            : 0),
                       fmt_size_long(b, d->own_limit));
        else
            buf_puts(out, " has no limit of its own; this ancestor's is the first to run out");
        buf_puts(out, ", and the kernel then chooses among all of its processes");
        if (outside)
            buf_printf(out, " (%zu of them outside it)", outside);
        buf_putc(out, '\n');
    } else if (d->why == OOMDOMAIN_MACHINE) {
        buf_puts(out, "  no memory limit on it or above: only a machine-wide OOM kills its "
                      "processes; the ranks are the global ones\n");
    }
    if (d->own_tasks_only)
        buf_puts(out, "  memory.use_hierarchy is 0 there: the kernel chooses among its own "
                      "processes only, not its children's\n");
    buf_printf(out, "  %zu %s in the domain, %zu the kernel may choose\n", d->victims.n,
               d->victims.n == 1 ? "process" : "processes", eligible);
    if (first == SIZE_MAX) {
        buf_puts(out, "  nothing to kill: \"Out of memory and no killable processes\"\n\n");
        return;
    }
    render_next_victim(c, d, first, out);
}
