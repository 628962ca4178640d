/*
 * oomwarden agent: the daemon. Options come from the config file and, with the same names,
 * from the command line (the command line wins).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "engine/agent.h"
#include "model/sysroot.h"
#include "cli.h"

#define EXIT_CONFIG 78 /* sysexits EX_CONFIG */

static void usage(FILE *f)
{
    fprintf(f, "Usage: oomwarden agent [--config FILE] [--check-config] [--root DIR] [--KEY VALUE]...\n"
               "\n"
               "The node agent: a Prometheus exporter (/metrics, collected at scrape time) and a\n"
               "follower of the kernel log that counts OOM kills. Every option of the config file\n"
               "(INI; sections below) is also a flag: --KEY VALUE or --KEY=VALUE; --KEY alone sets a\n"
               "yes/no option, --no-KEY clears it. Flags override the file. SIGHUP re-reads the file.\n"
               "\n"
               "  -c, --config FILE     the config file (e.g. /etc/oomwarden/oomwarden.conf)\n"
               "      --check-config    check the configuration, print it as it takes effect, exit\n"
               "      --root DIR        read /proc, /sys and /dev/kmsg under DIR (a host mounted at /host)\n"
               "  -v, --verbose         debug messages\n"
               "\n"
               "Options, as a config file with their defaults:\n");
    const struct config_schema *s = agent_schema();
    struct agent_config def;
    agent_config_defaults(&def);
    struct buf b = BUF_INIT(CAP_TEXT_BLOCK);
    (void)config_dump(s, &def, &b);
    /* indent the defaults dump under the heading */
    const char *p = buf_cstr(&b);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "  %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    buf_release(&b);
    agent_config_release(&def);
    fprintf(f, "\nExit status: 0 stopped by SIGTERM/SIGINT or config OK, 1 runtime failure,\n"
               "64 bad flag, 78 configuration error (the message names the file, line and key).\n");
}

enum { OPT_CONFIG = OPT_FIRST_COMMAND_OPTION, OPT_CHECK_CONFIG, OPT_SCHEMA };

/* The fixed options, then one per option of the config file (id OPT_SCHEMA + its index). */
static struct args_option *options(const struct config_schema *s, size_t *ret_n)
{
    static const struct args_option fixed[] = {
        {"config", 'c', ARGS_VALUE, OPT_CONFIG},
        {"check-config", 0, ARGS_NO_VALUE, OPT_CHECK_CONFIG},
        {"root", 0, ARGS_VALUE, OPT_ROOT},
        {"color", 0, ARGS_VALUE, OPT_COLOR},
        {"colour", 0, ARGS_VALUE, OPT_COLOR},
        {"verbose", 'v', ARGS_NO_VALUE, OPT_VERBOSE},
        {"help", 'h', ARGS_NO_VALUE, OPT_HELP},
    };
    size_t nf = sizeof(fixed) / sizeof(fixed[0]);
    struct args_option *v = calloc(nf + s->n, sizeof(*v));
    if (!v)
        return NULL;
    memcpy(v, fixed, sizeof(fixed));
    for (size_t i = 0; i < s->n; i++) {
        bool yes_no = s->opts[i].type == CONFIG_BOOL;
        /* --KEY alone sets a yes/no option, --no-KEY clears it, --KEY=no too */
        v[nf + i] = (struct args_option){s->opts[i].key, 0,
                                         yes_no ? ARGS_OPTIONAL_VALUE : ARGS_VALUE,
                                         OPT_SCHEMA + (int)i, yes_no};
    }
    *ret_n = nf + s->n;
    return v;
}

int cmd_agent(struct cli *c, int argc, char **argv)
{
    const char *config = NULL;
    bool check = false;
    const struct config_schema *s = agent_schema();
    struct agent_flag *flags = calloc((size_t)argc, sizeof(*flags));
    size_t nflags = 0, nopts = 0;
    struct args_option *opts = options(s, &nopts);
    int rc = 0;
    if (!flags || !opts) {
        rc = log_error_errno(EXIT_FAIL, "out of memory");
        goto out;
    }
    struct args a;
    int opt;
    cli_args_init_n(c, &a, argc, argv, opts, nopts);
    while ((opt = cli_next_option(c, &a, NULL)) > 0) {
        if (opt == OPT_HELP) {
            usage(stdout);
            goto out;
        } else if (opt == OPT_CONFIG) {
            config = a.value;
        } else if (opt == OPT_CHECK_CONFIG) {
            check = true;
        } else {
            const struct config_option *o = &s->opts[opt - OPT_SCHEMA];
            const char *val = a.value ? a.value : a.negated ? "no" : "yes";
            flags[nflags++] = (struct agent_flag){o->section, o->key, val};
        }
    }
    if (opt < 0) {
        rc = cli_args_exit(opt);
        goto out;
    }
    if ((rc = cli_no_more_operands(c, &a, 0)))
        goto out;

    /* the root first: the rules' user names are those of its passwd file */
    struct sysroot sr;
    if ((rc = cli_open_root(c, &sr)) != 0)
        goto out;
    struct agent_config cfg;
    struct buf err = BUF_INIT(CAP_MESSAGE);
    if (agent_config_load(&sr, config, flags, nflags, &cfg, &err) < 0) {
        log_error("%s", buf_cstr(&err));
        rc = EXIT_CONFIG;
    } else if (check) {
        struct buf dump = BUF_INIT(CAP_TEXT_BLOCK);
        (void)agent_config_dump(&cfg, &dump);
        printf("# configuration OK%s%s\n%s", config ? ": " : " (defaults and flags)",
               config ? config : "", buf_cstr(&dump));
        buf_release(&dump);
        agent_config_release(&cfg);
    } else {
        int r = agent_run(&sr, config, flags, nflags, &cfg);
        rc = r < 0 ? EXIT_FAIL : EXIT_OK;
        agent_config_release(&cfg);
    }
    buf_release(&err);
    sysroot_close(&sr);
out:
    free(opts);
    free(flags);
    return rc;
}
