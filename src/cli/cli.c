#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/fmt.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/table.h"
#include "base/units.h"
#include "model/cgroup/cgroup.h"
#include "model/sysroot.h"
#include "errors.h"

void cli_args_init_n(struct cli *c, struct args *a, int argc, char **argv,
                     const struct args_option *opts, size_t nopts)
{
    int opt;
    args_init(a, argc, argv, opts, nopts, ARGS_KEEP_ARGV);
    while ((opt = args_next(a)) != 0)
        if (opt == OPT_JSON)
            c->json = true;
    args_init(a, argc, argv, opts, nopts, 0);
}

int cli_next_option(struct cli *c, struct args *a, const char *usage)
{
    for (;;) {
        int opt = args_next(a);
        char why[160];
        switch (opt) {
        case -EINVAL:
            cli_usage_error(c, "%s", args_error_text(a, why, sizeof(why)));
            return CLI_ARGS_BAD;
        case OPT_ROOT:
            c->root = a->value;
            break;
        case OPT_JSON:
            c->json = true;
            break;
        case OPT_COLOR:
            if (color_when_parse(a->value, &c->color) < 0) {
                cli_usage_error(c, "%s must be auto, always or never, not '%s'", a->spelled,
                                a->value);
                return CLI_ARGS_BAD;
            }
            break;
        case OPT_VERBOSE:
            c->verbose = true;
            log_set_level(LOG_DEBUG);
            break;
        case OPT_HELP:
            if (!usage)
                return opt;
            fputs(usage, stdout);
            return CLI_ARGS_HELP;
        default:
            return opt;
        }
    }
}

int cli_parse_options_n(struct cli *c, struct args *a, int argc, char **argv,
                        const struct args_option *opts, size_t nopts, const char *usage,
                        cli_option_fn on_option, void *ctx)
{
    int opt, r;
    cli_args_init_n(c, a, argc, argv, opts, nopts);
    while ((opt = cli_next_option(c, a, usage)) > 0)
        if ((r = on_option(c, opt, a->value, ctx)))
            return r;
    if (opt < 0)
        return opt == CLI_ARGS_HELP ? -1 : EXIT_USAGE;
    return 0;
}

int cli_parse_options_only_n(struct cli *c, int argc, char **argv, const struct args_option *opts,
                             size_t nopts, const char *usage, cli_option_fn on_option, void *ctx)
{
    struct args a;
    int r = cli_parse_options_n(c, &a, argc, argv, opts, nopts, usage, on_option, ctx);
    if (r)
        return r;
    return cli_no_more_operands(c, &a, 0);
}

int cli_no_more_operands(const struct cli *c, const struct args *a, int n)
{
    if (a->noperands <= n)
        return 0;
    return cli_usage_error(c, "unexpected argument '%s'", a->operands[n]);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *sp = c->cmd[0] ? " " : "";
    fprintf(stderr, "oomwarden%s%s: %s\nTry 'oomwarden%s%s --help'.\n", sp, c->cmd, msg, sp, c->cmd);
    cli_errors_add(msg, true);
    return EXIT_USAGE;
}

int cli_open_root(const struct cli *c, struct sysroot *sr)
{
    const char *failed = NULL;
    int r = sysroot_open(sr, c->root, &failed);
    if (r < 0) {
        log_error("cannot read %s: %s", failed ? failed : "/proc", strerror(-r));
        return EXIT_FAIL;
    }
    return 0;
}

bool cli_begin(const struct cli *c, int parsed, struct sysroot *sr, int *ret_exit)
{
    if (parsed) {
        *ret_exit = parsed < 0 ? EXIT_OK : parsed;
        return false;
    }
    *ret_exit = cli_open_root(c, sr);
    return *ret_exit == 0;
}

int cli_emit(struct buf *out)
{
    if (cli_errors_into_document(out) < 0)
        log_debug("no room for the errors in the output");
    const char *p = buf_cstr(out);
    size_t left = out->len;
    while (left > 0) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                return EXIT_OK; /* `oomwarden ps | head` */
            log_error("cannot write output: %s", strerror(errno));
            return EXIT_FAIL;
        }
        p += n;
        left -= (size_t)n;
    }
    return EXIT_OK;
}

int cli_parse_count(const struct cli *c, const char *flag, const char *arg, long *ret)
{
    uint64_t v;
    if (parse_u64(arg, &v) < 0 || v == 0 || v > 100000000)
        return cli_usage_error(c, "%s needs a positive number, not '%s'", flag, arg);
    *ret = (long)v;
    return 0;
}

int cli_parse_interval(const struct cli *c, const char *arg, uint64_t *ret_ms)
{
    if (parse_duration_ms(arg, ret_ms) < 0 || *ret_ms > 60000)
        return cli_usage_error(c, "--interval takes a duration up to 60s (1s, 500ms, 0), not '%s'",
                               arg);
    return 0;
}

/* ---- cgroups, for `cgroup` and `ps --cgroup` ---------------------------------------------- */

int cli_open_cgroups(const struct cli *c, const struct sysroot *sr, struct cgroup_hier *h)
{
    (void)c;
    int r = cgroup_hier_open(sr, h);
    if (r < 0)
        return log_error_errno(EXIT_FAIL, "cannot read the cgroup mounts: %s", strerror(-r));
    if (h->memory_version == 0) {
        log_error("no cgroup memory controller is mounted under %s",
                  sysroot_path(sr, "/sys/fs/cgroup"));
        cgroup_hier_close(h);
        return EXIT_FAIL;
    }
    return 0;
}

int cli_resolve_cgroup(const struct cli *c, const struct cgroup_hier *h, const char *arg,
                       char **ret)
{
    int r;
    if (strncmp(arg, "pid:", 4) == 0) {
        uint64_t pid;
        if (parse_u64(arg + 4, &pid) < 0 || pid == 0 || pid > 0x7fffffff)
            return cli_usage_error(c, "pid:N needs a process ID, not '%s'", arg + 4);
        r = cgroup_of_pid(h, (int)pid, ret);
        if (r == -ESRCH || r == -ENOENT) {
            log_error("no process %" PRIu64 " (%s)", pid, sysroot_path(h->sr, "/proc"));
            return EXIT_FAIL;
        }
        if (r == -ENOMEDIUM) {
            log_error("process %" PRIu64 " is in no memory cgroup", pid);
            return EXIT_FAIL;
        }
        if (r < 0)
            return log_error_errno(EXIT_FAIL, "cannot read the cgroup of process %" PRIu64 ": %s",
                                   pid, strerror(-r));
        return 0;
    }
    r = cgroup_path_normalize(h, arg, ret);
    if (r == -EINVAL)
        return cli_usage_error(c, "a cgroup path cannot contain '.' or '..' components: '%s'", arg);
    if (r < 0)
        return EXIT_FAIL;
    return 0;
}

/* The directory of a cgroup path, for messages. */
static void cgroup_dir_name(const struct cgroup_hier *h, const char *path, char *out, size_t n)
{
    const char *root = h->memory.root && strcmp(h->memory.root, "/") != 0 ? h->memory.root : "";
    size_t rn = strlen(root);
    const char *rel = strncmp(path, root, rn) == 0 ? path + rn : path;
    snprintf(out, n, "%s%s", sysroot_path(h->sr, h->memory.mountpoint),
             strcmp(rel, "/") == 0 ? "" : rel);
}

int cli_read_named_cgroup(const struct cgroup_hier *h, const char *path, struct cgroup_memory *ret)
{
    int r = cgroup_read(h, path, ret);
    if (r == 0)
        return 0;
    char dir[8192];
    cgroup_dir_name(h, path, dir, sizeof(dir));
    if (r == -ENOENT)
        log_error("no memory cgroup %s (%s does not exist)", path, dir);
    else if (r == -ENOMEDIUM)
        log_error("%s has no memory controller (it is not in its parent's "
                  "cgroup.subtree_control): its memory is charged to the nearest ancestor that "
                  "has one",
                  path);
    else
        log_error("cannot read the cgroup %s: %s", dir, strerror(-r));
    return EXIT_FAIL;
}

const char *cli_size_or(char out[FMT_SIZE_LEN], uint64_t v, const char *none)
{
    if (!opt_has(v))
        return none;
    if (!cgroup_limit_set(v))
        return "max";
    return fmt_size(out, v);
}

int cli_size_cell(struct table *t, size_t col, uint64_t v)
{
    char s[FMT_SIZE_LEN];
    const char *txt = cli_size_or(s, v, "-");
    return table_cell_text(t, col, txt, strlen(txt));
}
