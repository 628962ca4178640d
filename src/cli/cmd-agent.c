/*
 * oomwarden agent: the daemon. Options come from the config file and, with the same names,
 * from the command line (the command line wins).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../engine/agent.h"
#include "../model/sysroot.h"
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
    struct buf b = BUF_INIT(1 << 16);
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

int cmd_agent(struct cli *c, int argc, char **argv)
{
    const char *config = NULL;
    bool check = false;
    struct agent_flag *flags = calloc((size_t)argc, sizeof(*flags));
    size_t nflags = 0;
    int rc = 0;
    if (!flags) {
        rc = EXIT_FAIL;
        goto out;
    }
    const struct config_schema *s = agent_schema();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 && !(a[0] == '-' && a[1] && !a[2])) {
            rc = cli_usage_error(c, "unexpected argument '%s'", a);
            goto out;
        }
        /* --key=value, --key value, -c value */
        char key[64];
        const char *val = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            snprintf(key, sizeof(key), "%.*s", (int)n, a + 2);
            if (eq)
                val = eq + 1;
        } else {
            snprintf(key, sizeof(key), "%s", a[1] == 'c' ? "config" : a[1] == 'v' ? "verbose"
                                             : a[1] == 'h' ? "help" : a);
        }
        if (strcmp(key, "help") == 0) {
            usage(stdout);
            goto out;
        }
        if (strcmp(key, "verbose") == 0) {
            log_set_level(LOG_DEBUG);
            continue;
        }
        if (strcmp(key, "check-config") == 0) {
            check = true;
            continue;
        }
        bool takes_value = strcmp(key, "config") == 0 || strcmp(key, "root") == 0 ||
                           strcmp(key, "color") == 0;
        const struct config_option *o = NULL;
        bool negated = false;
        if (!takes_value) {
            o = config_find_flag(s, key);
            if (!o && strncmp(key, "no-", 3) == 0 && (o = config_find_flag(s, key + 3)) &&
                o->type == CONFIG_BOOL)
                negated = true;
            else if (!o || (strncmp(key, "no-", 3) == 0 && o->type != CONFIG_BOOL)) {
                rc = cli_usage_error(c, "unknown option '%s'", a);
                goto out;
            }
        }
        if (!val && (takes_value || (o->type != CONFIG_BOOL))) {
            if (i + 1 >= argc) {
                rc = cli_usage_error(c, "%s needs a value", a);
                goto out;
            }
            val = argv[++i];
        }
        if (strcmp(key, "config") == 0) {
            config = val;
        } else if (strcmp(key, "root") == 0) {
            c->root = val;
        } else if (strcmp(key, "color") == 0) {
            if (color_when_parse(val, &c->color) < 0) {
                rc = cli_usage_error(c, "--color must be auto, always or never");
                goto out;
            }
        } else {
            if (!val)
                val = negated ? "no" : "yes";
            flags[nflags++] = (struct agent_flag){o->section, o->key, val};
        }
    }

    struct agent_config cfg;
    struct buf err = BUF_INIT(4096);
    if (agent_config_load(config, flags, nflags, &cfg, &err) < 0) {
        log_error("%s", buf_cstr(&err));
        buf_release(&err);
        rc = EXIT_CONFIG;
        goto out;
    }
    buf_release(&err);
    if (check) {
        struct buf dump = BUF_INIT(1 << 20);
        (void)agent_config_dump(&cfg, &dump);
        printf("# configuration OK%s%s\n%s", config ? ": " : " (defaults and flags)",
               config ? config : "", buf_cstr(&dump));
        buf_release(&dump);
        agent_config_release(&cfg);
        goto out;
    }
    struct sysroot sr;
    if ((rc = cli_open_root(c, &sr)) == 0) {
        int r = agent_run(&sr, config, flags, nflags, &cfg);
        rc = r < 0 ? EXIT_FAIL : EXIT_OK;
        sysroot_close(&sr);
    }
    agent_config_release(&cfg);
out:
    free(flags);
    return rc;
}
