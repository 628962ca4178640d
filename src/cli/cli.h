/* What every subcommand shares: common flags, exit codes, opening the root, writing output. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/args.h"
#include "base/buf.h"
#include "base/fmt.h"
#include "base/term.h"

/* Exit codes (documented in docs/oomwarden.1.md). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 64 /* sysexits EX_USAGE: a bad flag or argument */

struct sysroot;
struct table;

struct cli {
    const char *cmd; /* the subcommand, for messages */
    const char *root;
    enum color_when color;
    bool json;
    bool verbose;
};

/* ids of the common options (a command's own are letters or from OPT_FIRST_COMMAND_OPTION) */
enum {
    OPT_ROOT = 0x1000,
    OPT_JSON,
    OPT_COLOR,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_FIRST_COMMAND_OPTION = 0x1100,
};

/* the last entries of every command's option table */
#define CLI_COMMON_OPTIONS                                                                         \
    {"root", 0, ARGS_VALUE, OPT_ROOT}, {"json", 0, ARGS_NO_VALUE, OPT_JSON},                       \
        {"color", 0, ARGS_VALUE, OPT_COLOR}, {"colour", 0, ARGS_VALUE, OPT_COLOR},                 \
        {"verbose", 'v', ARGS_NO_VALUE, OPT_VERBOSE}, {"help", 'h', ARGS_NO_VALUE, OPT_HELP}

#define CLI_COMMON_HELP                                                                            \
    "      --json            machine-readable output (sizes in bytes)\n"                           \
    "      --root DIR        read /proc and /sys under DIR (also $OOMWARDEN_ROOT)\n"               \
    "      --color WHEN      auto (default: on a terminal, not with NO_COLOR), always, never\n"    \
    "  -v, --verbose         debug messages on stderr\n"                                           \
    "  -h, --help            this help\n"

/*
 * Every command reads its options the same way (base/args.h: GNU style, options anywhere before
 * `--`):
 *
 *     static const struct args_option opts[] = {{"dry-run", 'n', ARGS_NO_VALUE, 'n'},
 *                                               CLI_COMMON_OPTIONS};
 *     struct args a;
 *     int opt;
 *     cli_args_init(c, &a, argc, argv, opts);
 *     while ((opt = cli_next_option(c, &a, usage)) > 0)
 *         switch (opt) { case 'n': ...; a.value is the option's value }
 *     if (opt < 0)
 *         return cli_args_exit(opt);
 *     ... a.operands[0 .. a.noperands-1]
 *
 * cli_args_init looks ahead for --json first, so that an error in an option before it is
 * already reported as JSON.
 */
#define cli_args_init(c, a, argc, argv, opts)                                                     \
    cli_args_init_n(c, a, argc, argv, opts, sizeof(opts) / sizeof((opts)[0]))
void cli_args_init_n(struct cli *c, struct args *a, int argc, char **argv,
                     const struct args_option *opts, size_t nopts);

enum { CLI_ARGS_END = 0, CLI_ARGS_HELP = -1, CLI_ARGS_BAD = -2 };

/*
 * The command's next option (> 0), CLI_ARGS_END, or CLI_ARGS_HELP (the usage was printed) /
 * CLI_ARGS_BAD (a bad option or common value, said with the command's name). The common
 * options are handled here; with usage NULL, --help is returned as OPT_HELP instead.
 */
int cli_next_option(struct cli *c, struct args *a, const char *usage);

/* The exit code for a cli_next_option result below 0. */
static inline int cli_args_exit(int opt)
{
    return opt == CLI_ARGS_HELP ? EXIT_OK : EXIT_USAGE;
}

/*
 * The whole option loop above, for a command whose options each go through on_option: its own
 * options, in order, with their value (NULL for a flag); on_option returns 0, or an exit status
 * that stops the parse (cli_usage_error's, cli_parse_count's...). Returns 0 with the operands in
 * `a`, -1 when --help printed the usage, or an exit status.
 */
typedef int (*cli_option_fn)(struct cli *c, int opt, const char *value, void *ctx);
#define cli_parse_options(c, a, argc, argv, opts, usage, on_option, ctx)                           \
    cli_parse_options_n(c, a, argc, argv, opts, sizeof(opts) / sizeof((opts)[0]), usage,        \
                        on_option, ctx)
int cli_parse_options_n(struct cli *c, struct args *a, int argc, char **argv,
                        const struct args_option *opts, size_t nopts, const char *usage,
                        cli_option_fn on_option, void *ctx);

/* cli_parse_options for a command that takes no operands: one is "unexpected argument". */
#define cli_parse_options_only(c, argc, argv, opts, usage, on_option, ctx)                         \
    cli_parse_options_only_n(c, argc, argv, opts, sizeof(opts) / sizeof((opts)[0]), usage,      \
                             on_option, ctx)
int cli_parse_options_only_n(struct cli *c, int argc, char **argv, const struct args_option *opts,
                             size_t nopts, const char *usage, cli_option_fn on_option, void *ctx);

/* "unexpected argument 'X'" for the first operand past the n a command takes. */
int cli_no_more_operands(const struct cli *c, const struct args *a, int n);

/* Prints "oomwarden CMD: <message>" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the root; on failure says which path and why. Returns 0 or EXIT_FAIL. */
int cli_open_root(const struct cli *c, struct sysroot *sr);

/*
 * A command's start once its options are parsed (`parsed`: cli_parse_options's result, 0, -1
 * after --help, or an exit status): opens the root. True with sr open; false with *ret_exit the
 * command's exit status (EXIT_OK after --help). Once the parse went through, sr is set up either
 * way, as cli_open_root leaves it.
 */
bool cli_begin(const struct cli *c, int parsed, struct sysroot *sr, int *ret_exit);

/* Writes the buffer to stdout. Returns 0 or EXIT_FAIL. */
int cli_emit(struct buf *out);

/* Parses a positive count ("--top 15"). */
int cli_parse_count(const struct cli *c, const char *flag, const char *arg, long *ret);

/* Parses --interval: a duration from 0 to 60 s, in milliseconds. */
int cli_parse_interval(const struct cli *c, const char *arg, uint64_t *ret_ms);

/* Cgroups, shared by `cgroup` and `ps --cgroup`. Each returns 0 or an exit code
 * after saying what was wrong. */
struct cgroup_hier;
struct cgroup_memory;
/* Opens the hierarchies; fails when no memory controller is mounted. */
int cli_open_cgroups(const struct cli *c, const struct sysroot *sr, struct cgroup_hier *h);
/* A user's PATH or pid:N → the memory cgroup's path (malloc'd). */
int cli_resolve_cgroup(const struct cli *c, const struct cgroup_hier *h, const char *arg,
                       char **ret);
/* Reads the cgroup the user named; a missing one is an error that names the directory. */
int cli_read_named_cgroup(const struct cgroup_hier *h, const char *path, struct cgroup_memory *ret);

/* Subcommands */
/* A size for a table or a sentence: `none` when absent (opt.h), "max" for a limit that is not
 * set (CGROUP_UNLIMITED), else fmt_size's "1.9G". */
const char *cli_size_or(char out[FMT_SIZE_LEN], uint64_t v, const char *none);
/* cli_size_or(..., "-") as a table cell. */
int cli_size_cell(struct table *t, size_t col, uint64_t v);

int cmd_ps(struct cli *c, int argc, char **argv);
int cmd_evict(struct cli *c, int argc, char **argv);
int cmd_cgroup(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_agent(struct cli *c, int argc, char **argv);
int cmd_explain(struct cli *c, int argc, char **argv);
int cmd_lab(struct cli *c, int argc, char **argv);
int cmd_reclaim(struct cli *c, int argc, char **argv);
int cmd_doctor(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_apply(struct cli *c, int argc, char **argv);
