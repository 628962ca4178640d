#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/cursor.h"
#include "../base/log.h"
#include "../model/sysroot.h"

int cli_common_option(struct cli *c, int opt, const char *arg, const char *usage)
{
    switch (opt) {
    case OPT_ROOT:
        c->root = arg;
        return 0;
    case OPT_JSON:
        c->json = true;
        return 0;
    case OPT_COLOR:
        if (color_when_parse(arg, &c->color) < 0)
            return cli_usage_error(c, "--color must be auto, always or never, not '%s'", arg);
        return 0;
    case OPT_VERBOSE:
    case 'v':
        c->verbose = true;
        log_set_level(LOG_DEBUG);
        return 0;
    case OPT_HELP:
    case 'h':
        fputs(usage, stdout);
        return -1;
    case '?':
        /* getopt already said what was wrong */
        fprintf(stderr, "Try 'oomwarden %s --help'.\n", c->cmd);
        return EXIT_USAGE;
    default:
        return 1;
    }
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "oomwarden %s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'oomwarden %s --help'.\n", c->cmd);
    va_end(ap);
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

int cli_emit(struct buf *out)
{
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
