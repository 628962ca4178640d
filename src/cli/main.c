/*
 * oomwarden: who was OOM-killed and why, who dies next, which cgroup is really full, and how to
 * keep the wrong process from dying. One binary, one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli.h"
#include "errors.h"

#ifndef OOMWARDEN_VERSION
#define OOMWARDEN_VERSION "0.0.0"
#endif

struct command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"status", cmd_status, "is this machine OK on memory? (the default command)"},
    {"doctor", cmd_doctor, "what will go wrong when memory runs out, ranked, with the fix"},
    {"ps", cmd_ps, "processes ranked by who the OOM killer takes first, or as a tree"},
    {"cgroup", cmd_cgroup, "a cgroup's memory: limits, breakdown, events, PSI; or every cgroup"},
    {"watch", cmd_watch, "OOM kills, memory.events, PSI triggers and alerts as they happen"},
    {"apply", cmd_apply, "set oom_score_adj, memory.oom.group, memory.high by the config's rules"},
    {"agent", cmd_agent, "the node agent: policy, OOM guard, Prometheus exporter (daemon)"},
    {"evict", cmd_evict, "show and drop the page cache of files"},
    {"explain", cmd_explain, "kernel OOM-killer reports in words (kernel log, files, stdin)"},
    {"lab", cmd_lab, "cause an OOM kill safely in a scratch cgroup and watch it (run, protect)"},
    {"reclaim", cmd_reclaim, "ask a cgroup to reclaim memory (memory.reclaim) and show what went"},
};

/* `oomwarden` alone runs the main job. */
static const char *const default_command[] = {"status"};

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: oomwarden [--root DIR] [COMMAND] [OPTIONS]\n"
               "\n"
               "Linux memory pressure and the OOM killer: who was killed and why, who dies next,\n"
               "which cgroup is really full, and how to keep the wrong process from dying.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nWithout a command: %s.\n"
               "'oomwarden COMMAND --help' describes each command.\n",
            default_command[0]);
}

/* `oomwarden frobnicate --json`: the command is unknown, the wish for JSON is not */
static bool json_anywhere(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            return true;
    return false;
}

static int run(struct cli *c, int argc, char **argv);

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

/* The command the global options are given to (the first operand), or "". */
static const char *command_ahead(int argc, char **argv, const struct args_option *opts, size_t n)
{
    struct args a;
    args_init(&a, argc, argv, opts, n, ARGS_KEEP_ARGV | ARGS_STOP_AT_OPERAND);
    int r;
    while ((r = args_next(&a)) != 0)
        ;
    const struct command *cmd = a.noperands ? find_command(a.operands[0]) : NULL;
    return cmd ? cmd->name : "";
}

/* `oomwarden help [COMMAND]`: the command list, or that command's --help. */
static int help(struct cli *c, int argc, char **argv)
{
    c->cmd = "help";
    if (argc == 1 || (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))) {
        print_usage(stdout);
        return EXIT_OK;
    }
    const struct command *cmd = find_command(argv[1]);
    if (argv[1][0] == '-' && strcmp(argv[1], "-") != 0)
        return cli_usage_error(c, "unknown option '%s'", argv[1]);
    if (!cmd)
        return cli_usage_error(c, "no command '%s' (the commands: oomwarden help)", argv[1]);
    if (argc > 2)
        return cli_usage_error(c, "unexpected argument '%s'", argv[2]);
    c->cmd = cmd->name;
    char *args[] = {argv[1], (char *)"--help", NULL};
    return cmd->run(c, 2, args);
}

int main(int argc, char **argv)
{
    struct cli c = {.color = COLOR_AUTO, .cmd = ""};
    cli_errors_begin(&c);
    return cli_errors_end(run(&c, argc, argv));
}

static int run(struct cli *c, int argc, char **argv)
{
    /* global options before the command: --root, --color, --verbose, --help, --version */
    static const struct args_option opts[] = {
        {"root", 0, ARGS_VALUE, OPT_ROOT},
        {"color", 0, ARGS_VALUE, 'C'},
        {"colour", 0, ARGS_VALUE, 'C'},
        {"verbose", 'v', ARGS_NO_VALUE, OPT_VERBOSE},
        {"help", 'h', ARGS_NO_VALUE, 'h'},
        {"version", 'V', ARGS_NO_VALUE, 'V'},
    };
    struct args a;
    int opt;
    args_init(&a, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), ARGS_STOP_AT_OPERAND);
    while ((opt = cli_next_option(c, &a, NULL)) > 0) {
        switch (opt) {
        case 'h':
            print_usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("oomwarden %s\n", OOMWARDEN_VERSION);
            return EXIT_OK;
        case 'C':
            /* a bad value is an error of the command it was given to: `oomwarden --color
             * sometimes ps` says "oomwarden ps: ..." and points to `oomwarden ps --help` */
            if (color_when_parse(a.value, &c->color) < 0) {
                c->cmd = command_ahead(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
                return cli_usage_error(c, "%s must be auto, always or never, not '%s'", a.spelled,
                                       a.value);
            }
            break;
        }
    }
    if (opt < 0)
        return cli_args_exit(opt);

    int cargc = a.noperands;
    char **cargv = a.operands;
    char *defaults[sizeof(default_command) / sizeof(default_command[0]) + 1];
    if (cargc == 0) {
        for (size_t i = 0; i < sizeof(default_command) / sizeof(default_command[0]); i++)
            defaults[i] = (char *)default_command[i];
        cargc = (int)(sizeof(default_command) / sizeof(default_command[0]));
        defaults[cargc] = NULL;
        cargv = defaults;
    }
    if (strcmp(cargv[0], "help") == 0)
        return help(c, cargc, cargv);
    const struct command *cmd = find_command(cargv[0]);
    if (cmd) {
        c->cmd = cmd->name;
        return cmd->run(c, cargc, cargv);
    }
    c->cmd = "";
    c->json = json_anywhere(argc, argv);
    fprintf(stderr, "oomwarden: unknown command '%s'\n", cargv[0]);
    print_usage(stderr);
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown command '%.100s'", cargv[0]);
    cli_errors_add(msg, true);
    return EXIT_USAGE;
}
