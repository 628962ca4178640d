/*
 * Command-line options, GNU style, for every subcommand: options anywhere before `--`,
 * `--name=VALUE` and `--name VALUE`, an unambiguous prefix of a long name, short options alone
 * (`-n 5`, `-n5`) or clustered (`-tn5`), `-` alone is an operand (standard input), `--` ends the
 * options. POSIXLY_CORRECT is not honoured: `oomwarden evict FILE --dry-run` must never take
 * `--dry-run` for a file name.
 *
 * Pure: no output, no allocation. The caller says what was wrong (args_error_text).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum args_value {
    ARGS_NO_VALUE,
    ARGS_VALUE,          /* --name VALUE, --name=VALUE, -n VALUE, -nVALUE */
    ARGS_OPTIONAL_VALUE, /* --name alone or --name=VALUE (never the next argument) */
};

struct args_option {
    const char *name;    /* long name without the dashes; NULL: a short option only */
    int short_name;      /* 'n', or 0 */
    enum args_value value;
    int id;              /* what args_next returns for it: > 0 */
    bool negatable;      /* --no-NAME is accepted too (no value): args.negated says so */
};

enum args_error {
    ARGS_OK,
    ARGS_UNKNOWN,       /* no such option */
    ARGS_AMBIGUOUS,     /* a prefix of several long names */
    ARGS_MISSING_VALUE, /* the option needs a value and the arguments ended */
    ARGS_EXTRA_VALUE,   /* --name=VALUE for an option that takes none */
};

struct args {
    /* in */
    int argc;
    char **argv;
    const struct args_option *opts;
    size_t nopts;
    /* state */
    int next;            /* the argv index read next */
    const char *cluster; /* the rest of a cluster of short options, or NULL */
    bool ended;          /* after `--` */
    unsigned flags;      /* ARGS_* */
    /* the option just returned */
    const char *value;   /* its value, or NULL */
    bool negated;        /* it was spelled --no-NAME */
    const struct args_option *opt;
    /* the operands, in order, once args_next returned 0 (NULL with ARGS_KEEP_ARGV) */
    char **operands;
    int noperands;
    /* the option just returned, or the one at fault, as written without its value: "--dry",
     * "-n" (cut at 63 bytes) */
    char spelled[64];
    /* what was wrong, once args_next returned -EINVAL */
    enum args_error error;
    const struct args_option *candidates[2]; /* two of the names an ambiguous prefix matched */
    bool candidate_negated[2];               /* ... as --no-NAME */
};

enum {
    ARGS_KEEP_ARGV = 1 << 0,        /* a look-ahead that must not disturb the real pass */
    ARGS_STOP_AT_OPERAND = 1 << 1,  /* options end at the first operand (`oomwarden --root D ps`) */
};

/*
 * Reads argv[1..argc-1] (argv[0] is the program). Operands are moved to the front, argv[1..],
 * in their order, unless ARGS_KEEP_ARGV. With ARGS_STOP_AT_OPERAND the operands are the first
 * one and everything after it, unread.
 */
void args_init(struct args *a, int argc, char **argv, const struct args_option *opts, size_t nopts,
               unsigned flags);

/*
 * The next option: its id (> 0, with a->value and a->negated), 0 when the options have ended
 * (a->operands, a->noperands), or -EINVAL for a malformed one (a->error, a->spelled; the next
 * call goes on after it).
 */
int args_next(struct args *a);

/* "unknown option '--frob'" and the like, for a->error. Returns out. */
char *args_error_text(const struct args *a, char *out, size_t n);
