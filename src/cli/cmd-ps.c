/*
 * oomwarden ps: processes ranked by the kernel's own OOM choice, or as a tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/limits.h"
#include "base/log.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/oomdomain.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "model/proc/users.h"
#include "model/proc/victims.h"
#include "cli.h"
#include "render/ps-view.h"

static const char usage[] =
    "Usage: oomwarden ps [OPTIONS]\n"
    "\n"
    "Processes in the order the kernel's OOM killer would kill them if this machine ran out of\n"
    "memory now (highest badness first; 'never' for init, kernel threads and oom_score_adj -1000),\n"
    "with the memory the kernel counts: resident anon/file/shmem, swap and page tables.\n"
    "\n"
    "  -t, --tree            the process hierarchy: [pid] comm: oom_score (oom_score_adj, signed)\n"
    "  -x, --extended        with --tree: add the memory split and the command line\n"
    "  -k, --kernel          with --tree: include kernel threads\n"
    "  -n, --top N           only the first N processes\n"
    "  -s, --sort KEY        score (kill order, default), rss, pid\n"
    "  -p, --pid PID[,PID]   only these processes (repeatable)\n"
    "  -u, --user USER       only processes of this user (name or uid)\n"
    "      --cgroup-prefix P only processes whose cgroup is P or below it\n"
    "      --cgroup PATH     rank for an OOM in that memory cgroup (PATH or pid:N): the kernel's\n"
    "                        choice among its processes, scaled by its limit, and who dies with\n"
    "                        the victim through memory.oom.group\n"
    "      --no-headers      omit the header line\n" CLI_COMMON_HELP;

enum {
    OPT_CGROUP_PREFIX = OPT_FIRST_COMMAND_OPTION,
    OPT_NO_HEADERS,
    OPT_CGROUP,
};

static int add_pids(const struct cli *c, struct ps_opts *o, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        return EXIT_FAIL;
    int r = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (parse_u64(tok, &v) < 0 || v == 0 || v > 0x7fffffff) {
            r = cli_usage_error(c, "--pid needs process IDs, not '%s'", tok);
            break;
        }
        pid_t *n = realloc(o->pids, (o->npids + 1) * sizeof(*n));
        if (!n) {
            r = EXIT_FAIL;
            break;
        }
        o->pids = n;
        o->pids[o->npids++] = (pid_t)v;
    }
    free(copy);
    return r;
}

static int ps_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct ps_opts *o = ctx;
    switch (opt) {
    case 't':
        o->tree = true;
        break;
    case 'x':
        o->extended = true;
        break;
    case 'k':
        o->kernel = true;
        break;
    case 'n':
        return cli_parse_count(c, "--top", value, &o->top);
    case 's':
        if (strcmp(value, "score") == 0)
            o->sort = SORT_SCORE;
        else if (strcmp(value, "rss") == 0)
            o->sort = SORT_RSS;
        else if (strcmp(value, "pid") == 0)
            o->sort = SORT_PID;
        else
            return cli_usage_error(c, "--sort must be score, rss or pid, not '%s'", value);
        break;
    case 'p':
        return add_pids(c, o, value);
    case 'u':
        o->user = value;
        break;
    case OPT_CGROUP_PREFIX:
        o->cgroup_prefix = value;
        break;
    case OPT_NO_HEADERS:
        o->headers = false;
        break;
    case OPT_CGROUP:
        o->cgroup = value;
        break;
    }
    return 0;
}

static int parse_args(struct cli *c, struct ps_opts *o, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"tree", 't', ARGS_NO_VALUE, 't'},
        {"extended", 'x', ARGS_NO_VALUE, 'x'},
        {"kernel", 'k', ARGS_NO_VALUE, 'k'},
        {"top", 'n', ARGS_VALUE, 'n'},
        {"sort", 's', ARGS_VALUE, 's'},
        {"pid", 'p', ARGS_VALUE, 'p'},
        {"user", 'u', ARGS_VALUE, 'u'},
        {"cgroup-prefix", 0, ARGS_VALUE, OPT_CGROUP_PREFIX},
        {"no-headers", 0, ARGS_NO_VALUE, OPT_NO_HEADERS},
        {"cgroup", 0, ARGS_VALUE, OPT_CGROUP},
        CLI_COMMON_OPTIONS,
    };
    int r = cli_parse_options_only(c, argc, argv, opts, usage, ps_option, o);
    if (r)
        return r;
    if (o->extended && !o->tree)
        return cli_usage_error(c, "--extended goes with --tree");
    if (o->tree && o->top)
        return cli_usage_error(c, "--top cannot be combined with --tree");
    if (o->tree && o->cgroup)
        return cli_usage_error(c, "--cgroup ranks processes; it does not go with --tree");
    if (o->tree && o->sort != SORT_SCORE)
        return cli_usage_error(c, "--sort cannot be combined with --tree (the tree is in pid order)");
    return 0;
}

/* Only read what the chosen view shows: the tree needs three small files per process. */
static unsigned fields_for(const struct cli *c, const struct ps_opts *o)
{
    if (c->json || !o->tree || o->cgroup)
        return PROC_READ_ALL;
    unsigned f = PROC_READ_STAT | PROC_READ_OOM;
    if (o->extended)
        f |= PROC_READ_STATUS | PROC_READ_CMDLINE;
    if (o->user)
        f |= PROC_READ_STATUS;
    if (o->cgroup_prefix)
        f |= PROC_READ_CGROUP;
    return f;
}

static bool want(const struct ps_opts *o, const struct proc *p, bool have_uid, int64_t uid)
{
    if (o->npids) {
        bool hit = false;
        for (size_t i = 0; i < o->npids && !hit; i++)
            hit = o->pids[i] == p->pid;
        if (!hit)
            return false;
    }
    if (have_uid && p->uid != uid)
        return false;
    if (o->cgroup_prefix) {
        bool in = (p->cgroup && cgpath_is_under(p->cgroup, o->cgroup_prefix)) ||
                  (p->cgroup_unified && cgpath_is_under(p->cgroup_unified, o->cgroup_prefix));
        if (!in)
            return false;
    }
    /* The tree hides kernel threads unless asked; the ranking lists them last as "never". */
    if (o->tree && !o->kernel && p->kernel_thread && !o->npids)
        return false;
    return true;
}

static int cmp_rss(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    uint64_t rx = proc_rss(x->p), ry = proc_rss(y->p);
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return (x->p->pid > y->p->pid) - (x->p->pid < y->p->pid);
}

static int cmp_pid(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return (x->p->pid > y->p->pid) - (x->p->pid < y->p->pid);
}

/* The rows shown, before --top: the domain's or the global ranking's (in the order asked), or
 * for the tree every process in pid order, with its ranking's entry when there is one. */
static size_t select_rows(const struct ps_opts *o, const struct oomdomain *d,
                          const struct victim_list *vl, const struct proc_table *t, bool ranked,
                          int64_t uid, struct row *rows)
{
    size_t n = 0;
    if (d || (ranked && !o->tree)) {
        const struct victim_list *from = d ? &d->victims : vl;
        for (size_t i = 0; i < from->n; i++)
            if ((!d || oomdomain_in(d, i, d->path)) &&
                want(o, from->v[i].proc, o->user != NULL, uid))
                rows[n++] = (struct row){from->v[i].proc, &from->v[i], d ? i : 0};
        if (o->sort == SORT_RSS)
            qsort(rows, n, sizeof(*rows), cmp_rss);
        else if (o->sort == SORT_PID)
            qsort(rows, n, sizeof(*rows), cmp_pid);
        return n;
    }
    /* the tree works in pid order; attach model entries when we have them */
    for (size_t i = 0; i < t->n; i++)
        if (want(o, &t->v[i], o->user != NULL, uid))
            rows[n++] = (struct row){&t->v[i], NULL, 0};
    if (ranked)
        for (size_t i = 0; i < vl->n; i++) {
            struct row key = {.p = vl->v[i].proc};
            struct row *hit = bsearch(&key, rows, n, sizeof(*rows), cmp_pid);
            if (hit)
                hit->v = &vl->v[i];
        }
    return n;
}

/* --cgroup: the OOM domain of the cgroup the user named. Returns 0 or an exit status. */
static int rank_domain(const struct cli *c, const struct ps_opts *o, const struct sysroot *sr,
                       const struct proc_table *t, const struct kver *k, const struct meminfo *mi,
                       struct cgroup_hier *h, struct oomdomain *dom)
{
    char *path = NULL;
    struct cgroup_memory named;
    int r;
    if ((r = cli_open_cgroups(c, sr, h)))
        return r;
    if ((r = cli_resolve_cgroup(c, h, o->cgroup, &path)))
        return r;
    if ((r = cli_read_named_cgroup(h, path, &named))) {
        free(path);
        return r;
    }
    cgroup_memory_release(&named);
    int q = oomdomain_build(h, path, t, k, mi, oomdomain_vm_swappiness(sr), dom);
    free(path);
    if (q < 0)
        return log_error_errno(EXIT_FAIL, "cannot rank the cgroup's OOM domain: %s", strerror(-q));
    return 0;
}

/* --user: a name or a uid, to a uid. Returns 0 or an exit status. */
static int resolve_user(const struct cli *c, struct users *users, const char *user, int64_t *uid)
{
    int q = users_parse(users, user, uid);
    if (q == -ERANGE)
        return cli_usage_error(c, "--user %s: not a uid (0..4294967294)", user);
    if (q < 0)
        return cli_usage_error(c, "--user: no user '%s' in %s", user, users_file(users));
    return 0;
}

/* Shows the rows as the options ask. Returns 0 or an exit status. */
static int show(const struct cli *c, const struct ps_opts *o, const struct sysroot *sr,
                const struct kver *k, const struct meminfo *mi, const struct oomdomain *d,
                const struct victim_list *vl, struct users *users, const struct row *rows,
                size_t n)
{
    /* the pods' and containers' names, for the CGROUP column and the JSON */
    struct podnames names = PODNAMES_INIT;
    int q, r;
    if ((c->json || !o->tree) && (q = podnames_read(sr, &names)) < 0)
        return log_error_errno(EXIT_FAIL, "out of memory reading the pods' names");
    struct buf out = BUF_INIT(CAP_OUTPUT);
    if (c->json)
        q = ps_render_json(o, sr, k, mi, d ? &d->victims : vl, users, &names, d, rows, n, &out);
    else if (o->tree)
        q = ps_render_tree(c, o, rows, n, &out);
    else {
        if (d && o->headers)
            ps_render_domain(c, d, &out);
        else if (o->headers)
            ps_render_global_note(vl, sr->page_size, &out);
        q = ps_render_ranked(c, o, users, &names, d, sr->page_size, rows, n, &out);
    }
    if (q < 0)
        r = log_error_errno(EXIT_FAIL, "cannot format output: %s", strerror(-q));
    else
        r = cli_emit(&out);
    if (r == 0 && n == 0 && (o->npids || o->user || o->cgroup_prefix || o->cgroup)) {
        log_notice("no process matches");
        r = EXIT_FAIL;
    }
    buf_release(&out);
    podnames_release(&names);
    return r;
}

int cmd_ps(struct cli *c, int argc, char **argv)
{
    struct ps_opts o = {.headers = true};
    struct sysroot sr;
    int r;
    if (!cli_begin(c, parse_args(c, &o, argc, argv), &sr, &r))
        goto out_opts;

    struct kver k = {0};
    int q = kver_read(&sr, &k);
    if (q < 0)
        log_debug("cannot read %s (%s); assuming a current kernel",
                  sysroot_path(&sr, "/proc/sys/kernel/osrelease"), strerror(-q));

    struct users users;
    users_init(&users, &sr);
    int64_t uid = -1;
    if (o.user && (r = resolve_user(c, &users, o.user, &uid)))
        goto out_users;

    unsigned fields = fields_for(c, &o);
    /* the ranking needs status + oom files of every process; the plain tree does not */
    bool ranked = !o.tree || c->json;
    struct meminfo mi;
    if (ranked && (q = meminfo_read(&sr, &mi)) < 0) {
        r = log_error_errno(EXIT_FAIL, "cannot read %s: %s", sysroot_path(&sr, "/proc/meminfo"),
                            strerror(-q));
        goto out_users;
    }

    struct proc_table t = {0};
    if ((q = procs_snapshot(&sr, fields, &t)) < 0) {
        r = log_error_errno(EXIT_FAIL, "cannot read %s: %s", sysroot_path(&sr, "/proc"),
                            strerror(-q));
        goto out_users;
    }

    struct victim_list vl = {0};
    struct row *rows = NULL;
    size_t n = 0;
    struct oomdomain dom = {0};
    struct cgroup_hier h = {.memory = {.fd = -1}, .unified = {.fd = -1}};
    if (o.cgroup) {
        if ((r = rank_domain(c, &o, &sr, &t, &k, &mi, &h, &dom)))
            goto out_table;
    } else if (ranked && (q = victims_rank_global(&t, &k, &mi, sr.page_size, &vl)) < 0) {
        r = log_error_errno(EXIT_FAIL, "out of memory ranking processes");
        goto out_table;
    }
    const struct oomdomain *d = o.cgroup ? &dom : NULL;
    rows = calloc(t.n ? t.n : 1, sizeof(*rows));
    if (!rows) {
        r = EXIT_FAIL;
        goto out_table;
    }
    n = select_rows(&o, d, &vl, &t, ranked, uid, rows);
    if (o.top && (size_t)o.top < n)
        n = (size_t)o.top;

    r = show(c, &o, &sr, &k, &mi, d, &vl, &users, rows, n);
out_table:
    oomdomain_release(&dom);
    cgroup_hier_close(&h);
    free(rows);
    victim_list_release(&vl);
    proc_table_release(&t);
out_users:
    users_release(&users);
    sysroot_close(&sr);
out_opts:
    free(o.pids);
    return r < 0 ? EXIT_FAIL : r;
}
