/*
 * oomwarden watch: OOM kills, memory.events, PSI triggers and alert rules as they happen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/units.h"
#include "engine/report/watch.h"
#include "model/sysroot.h"
#include "cli.h"

static const char usage[] =
    "Usage: oomwarden watch [OPTIONS]\n"
    "\n"
    "Follows the kernel's memory signals and prints one line per event (--json: JSON Lines):\n"
    "  oom_kill       a kernel OOM kill, parsed and explained (from /dev/kmsg)\n"
    "  memory_events  a cgroup's memory.events moved (max, oom, oom_kill, high...)\n"
    "  psi_trigger    a PSI trigger fired (--psi)\n"
    "  alert          a pressure rule started or stopped firing (--alert)\n"
    "  kmsg_lost      the kernel log overran before it was read\n"
    "Everything is notification-driven (inotify, eventfd, PSI triggers, /dev/kmsg); nothing "
    "polls.\n"
    "\n"
    "  -p, --psi SPEC        register a PSI trigger: \"some|full STALL WINDOW\", e.g.\n"
    "                        \"some 150ms 1s\" or \"full 10% 2s\"; system-wide, and on --cgroup "
    "ones\n"
    "  -a, --alert RULE      \"some|full avg10|avg60|avg300 >|>= PERCENT [for DURATION]\n"
    "                        [clear PERCENT]\"; raised after DURATION, cleared below the clear\n"
    "                        level (default 80% of the threshold); evaluated every 2 s.\n"
    "                        Default: \"full avg10 > 10 for 5m\" (give --alert none for none)\n"
    "  -c, --cgroup GLOB     also apply --psi and --alert to these cgroups (repeatable)\n"
    "  -e, --exec CMD        run CMD (via /bin/sh) per event: the event as JSON on stdin and in\n"
    "                        OOMWARDEN_* environment variables; never blocks the watch\n"
    "      --exec-max N      at most N hooks at once (default 4; more events are not hooked)\n"
    "      --exec-timeout D  kill a hook after D (default 30s)\n"
    "      --no-kmsg         do not read the kernel log\n"
    "      --no-events       do not watch memory.events\n"
    "      --from-start      also report OOM kills already in the kernel log\n"
    "      --duration D      stop after D (e.g. 10m)\n"
    "      --count N         stop after N events\n" CLI_COMMON_HELP;

enum {
    OPT_EXEC_MAX = OPT_FIRST_COMMAND_OPTION,
    OPT_EXEC_TIMEOUT,
    OPT_NO_KMSG,
    OPT_NO_EVENTS,
    OPT_FROM_START,
    OPT_DURATION,
    OPT_COUNT,
};

struct watch_args {
    struct watch_opts o;
    bool no_default_alert;
};

static int add_item(void **v, size_t *n, size_t size, const void *item)
{
    void *p = realloc(*v, (*n + 1) * size);
    if (!p)
        return -ENOMEM;
    memcpy((char *)p + *n * size, item, size);
    *v = p;
    (*n)++;
    return 0;
}

/* add_item for an option: EXIT_FAIL (said) when out of memory */
static int add_option_item(void **v, size_t *n, size_t size, const void *item)
{
    return add_item(v, n, size, item) < 0 ? log_error_errno(EXIT_FAIL, "out of memory") : 0;
}

/* One option into a (struct watch_args); 0 or the exit status to stop with. */
static int watch_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct watch_args *a = ctx;
    struct watch_opts *o = &a->o;
    int rc;
    switch (opt) {
    case 'p': {
        struct psi_trigger_spec s;
        if (psi_trigger_spec_parse(value, &s) < 0)
            return cli_usage_error(c,
                                   "--psi '%s': expected \"some|full STALL WINDOW\" with "
                                   "STALL <= WINDOW <= 10s, e.g. \"some 150ms 1s\"",
                                   value);
        return add_option_item((void **)&o->triggers, &o->ntriggers, sizeof(s), &s);
    }
    case 'a': {
        if (strcmp(value, "none") == 0) {
            a->no_default_alert = true;
            return 0;
        }
        struct alert_rule rule;
        if (alert_rule_parse(value, &rule) < 0)
            return cli_usage_error(c, "--alert '%s': expected e.g. \"full avg10 > 10 for 5m\"",
                                   value);
        return add_option_item((void **)&o->rules, &o->nrules, sizeof(rule), &rule);
    }
    case 'c':
        return add_option_item((void **)&o->cgroups, &o->ncgroups, sizeof(char *), &value);
    case 'e':
        o->exec = value;
        return 0;
    case OPT_EXEC_MAX: {
        long n;
        if ((rc = cli_parse_count(c, "--exec-max", value, &n)))
            return rc;
        o->exec_max = (unsigned)n;
        return 0;
    }
    case OPT_EXEC_TIMEOUT:
        if (parse_duration_ms(value, &o->exec_timeout_ms) < 0)
            return cli_usage_error(c, "--exec-timeout needs a duration (e.g. 30s), not '%s'",
                                   value);
        return 0;
    case OPT_NO_KMSG:
        o->kmsg = false;
        return 0;
    case OPT_NO_EVENTS:
        o->memory_events = false;
        return 0;
    case OPT_FROM_START:
        o->kmsg_from_start = true;
        return 0;
    case OPT_DURATION:
        if (parse_duration_ms(value, &o->duration_ms) < 0 || o->duration_ms == 0)
            return cli_usage_error(c, "--duration needs a duration (e.g. 10m), not '%s'", value);
        return 0;
    case OPT_COUNT: {
        long n;
        if ((rc = cli_parse_count(c, "--count", value, &n)))
            return rc;
        o->max_events = (uint64_t)n;
        return 0;
    }
    }
    return 0;
}

/* The default alert rule, and trigger windows raised as an unprivileged process needs them.
 * 0 or -ENOMEM. */
static int watch_defaults(struct watch_args *a)
{
    struct watch_opts *o = &a->o;
    if (o->nrules == 0 && !a->no_default_alert) {
        struct alert_rule rule;
        (void)alert_rule_parse("full avg10 > 10 for 5m", &rule);
        if (add_item((void **)&o->rules, &o->nrules, sizeof(rule), &rule) < 0)
            return -ENOMEM;
    }
    /* without CAP_SYS_RESOURCE (6.4+) a trigger window must be a multiple of 2 s */
    if (o->ntriggers && psi_trigger_unprivileged()) {
        for (size_t i = 0; i < o->ntriggers; i++) {
            struct psi_trigger_spec before = o->triggers[i];
            psi_trigger_spec_unprivileged(&o->triggers[i]);
            if (before.window_us != o->triggers[i].window_us)
                log_notice("no CAP_SYS_RESOURCE: PSI trigger window %.1f s raised to %.0f s "
                           "(threshold %.0f ms → %.0f ms, the same share)",
                           (double)before.window_us / 1e6, (double)o->triggers[i].window_us / 1e6,
                           (double)before.stall_us / 1e3, (double)o->triggers[i].stall_us / 1e3);
        }
    }
    return 0;
}

int cmd_watch(struct cli *c, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"psi", 'p', ARGS_VALUE, 'p'},
        {"alert", 'a', ARGS_VALUE, 'a'},
        {"cgroup", 'c', ARGS_VALUE, 'c'},
        {"exec", 'e', ARGS_VALUE, 'e'},
        {"exec-max", 0, ARGS_VALUE, OPT_EXEC_MAX},
        {"exec-timeout", 0, ARGS_VALUE, OPT_EXEC_TIMEOUT},
        {"no-kmsg", 0, ARGS_NO_VALUE, OPT_NO_KMSG},
        {"no-events", 0, ARGS_NO_VALUE, OPT_NO_EVENTS},
        {"from-start", 0, ARGS_NO_VALUE, OPT_FROM_START},
        {"duration", 0, ARGS_VALUE, OPT_DURATION},
        {"count", 0, ARGS_VALUE, OPT_COUNT},
        CLI_COMMON_OPTIONS,
    };
    struct watch_args a = {
        .o = {.kmsg = true, .memory_events = true, .exec_max = 4, .exec_timeout_ms = 30000}};
    struct watch_opts *o = &a.o;
    int rc;
    struct args args;
    rc = cli_parse_options(c, &args, argc, argv, opts, usage, watch_option, &a);
    if (rc) {
        rc = rc < 0 ? EXIT_OK : rc;
        goto out;
    }
    if ((rc = cli_no_more_operands(c, &args, 0)))
        goto out;
    o->json = c->json;
    o->color = term_use_color(STDOUT_FILENO, c->color);
    if (watch_defaults(&a) < 0) {
        rc = log_error_errno(EXIT_FAIL, "out of memory");
        goto out;
    }
    struct sysroot sr;
    if ((rc = cli_open_root(c, &sr)))
        goto out;
    int r = watch_run(&sr, o);
    sysroot_close(&sr);
    rc = r < 0 ? EXIT_FAIL : EXIT_OK;
out:
    free(o->triggers);
    free(o->rules);
    free(o->cgroups);
    return rc;
}
