/* What every subcommand shares: common flags, exit codes, opening the root, writing output. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "../base/buf.h"
#include "../base/term.h"

/* Exit codes (documented in docs/oomwarden.1.md). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 64 /* sysexits EX_USAGE: a bad flag or argument */

struct sysroot;

struct cli {
    const char *cmd; /* the subcommand, for messages */
    const char *root;
    enum color_when color;
    bool json;
    bool verbose;
};

/* getopt_long values of the common options */
enum {
    OPT_ROOT = 0x1000,
    OPT_JSON,
    OPT_COLOR,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_FIRST_COMMAND_OPTION = 0x1100,
};

#define CLI_COMMON_LONG_OPTIONS                                                                    \
    {"root", required_argument, NULL, OPT_ROOT}, {"json", no_argument, NULL, OPT_JSON},            \
        {"color", required_argument, NULL, OPT_COLOR},                                             \
        {"colour", required_argument, NULL, OPT_COLOR},                                            \
        {"verbose", no_argument, NULL, OPT_VERBOSE}, {"help", no_argument, NULL, OPT_HELP}

#define CLI_COMMON_HELP                                                                            \
    "      --json            machine-readable output (sizes in bytes)\n"                           \
    "      --root DIR        read /proc and /sys under DIR (also $OOMWARDEN_ROOT)\n"               \
    "      --color WHEN      auto (default: on a terminal, not with NO_COLOR), always, never\n"    \
    "  -v, --verbose         debug messages on stderr\n"                                           \
    "  -h, --help            this help\n"

/*
 * Handles a common option (the `default:` of every command's getopt switch). Returns 0 when
 * handled, -1 when help was printed (exit 0), or an exit code to exit with now (a bad value,
 * or an option the command does not know: EXIT_USAGE, the message printed).
 */
int cli_common_option(struct cli *c, int opt, const char *arg, const char *usage);

/* Prints "oomwarden CMD: <message>" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the root; on failure says which path and why. Returns 0 or EXIT_FAIL. */
int cli_open_root(const struct cli *c, struct sysroot *sr);

/* Writes the buffer to stdout. Returns 0 or EXIT_FAIL. */
int cli_emit(struct buf *out);

/* Parses a positive count ("--top 15"). */
int cli_parse_count(const struct cli *c, const char *flag, const char *arg, long *ret);

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
