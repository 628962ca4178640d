/* base/args: the option parser every command uses (GNU style, options anywhere before `--`). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>

#include "base/args.h"

enum { DRY = 1, TOP, SORT, TREE, COLOR, NO_SYNC, NEXT_VICTIM, NEXT_DAY, LISTEN };

static const struct args_option opts[] = {
    {"dry-run", 'n', ARGS_NO_VALUE, DRY},
    {"top", 'N', ARGS_VALUE, TOP},
    {"sort", 's', ARGS_VALUE, SORT},
    {"tree", 't', ARGS_NO_VALUE, TREE},
    {"color", 0, ARGS_VALUE, COLOR},
    {"colour", 0, ARGS_VALUE, COLOR},
    {"no-sync", 0, ARGS_NO_VALUE, NO_SYNC},
    {"next-victim", 0, ARGS_OPTIONAL_VALUE, NEXT_VICTIM, true},
    {"next-day", 0, ARGS_VALUE, NEXT_DAY},
    {"listen", 0, ARGS_VALUE, LISTEN},
};

/*
 * Parses a command line given as one string (words split at spaces) and writes what the parser
 * saw: "name=value" per option ("no-name=" when negated), "!error:spelled" per error, then
 * "| operand operand".
 */
static void parse(const char *line, unsigned flags, char *out, size_t n)
{
    char copy[256];
    char *argv[32];
    int argc = 0;
    snprintf(copy, sizeof(copy), "prog %s", line);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w && argc < 31;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    struct args a;
    args_init(&a, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), flags);
    size_t len = 0;
    out[0] = '\0';
    int id;
    while ((id = args_next(&a)) != 0) {
        static const char *const errors[] = {"ok", "unknown", "ambiguous", "missing", "extra"};
        if (id < 0)
            len += (size_t)snprintf(out + len, n - len, "!%s:%s ", errors[a.error], a.spelled);
        else
            len += (size_t)snprintf(out + len, n - len, "%s%s=%s ", a.negated ? "no-" : "",
                                    a.opt->name, a.value ? a.value : "");
    }
    len += (size_t)snprintf(out + len, n - len, "|");
    for (int i = 0; i < a.noperands; i++)
        len += (size_t)snprintf(out + len, n - len, " %s",
                                a.operands ? a.operands[i] : "?");
    assert_true(len < n);
}

#define assert_parse(line, flags, want)                                                            \
    do {                                                                                           \
        char _got[512];                                                                            \
        parse(line, flags, _got, sizeof(_got));                                                    \
        assert_string_equal(_got, want);                                                           \
    } while (0)

static void options_anywhere_before_dashdash(void **state)
{
    (void)state;
    /* the incident: a flag after a file name is a flag, not a file */
    assert_parse("big.dat --dry-run", 0, "dry-run= | big.dat");
    assert_parse("a --dry-run b -t c", 0, "dry-run= tree= | a b c");
    assert_parse("a -- --dry-run -t", 0, "| a --dry-run -t");
    assert_parse("-- -n", 0, "| -n");
    /* `-` alone is an operand (standard input) */
    assert_parse("- -n", 0, "dry-run= | -");
    assert_parse("", 0, "|");
}

static void values(void **state)
{
    (void)state;
    assert_parse("--top 5 --top=6 --top= -N7 -N 8", 0, "top=5 top=6 top= top=7 top=8 |");
    /* a value may start with a dash; it is taken as GNU getopt takes it */
    assert_parse("--sort -n x", 0, "sort=-n | x");
    /* clusters: flags, then the rest of the cluster as the value */
    assert_parse("-tnN5", 0, "tree= dry-run= top=5 |");
    assert_parse("-tns rss", 0, "tree= dry-run= sort=rss |");
    /* missing and extra values */
    assert_parse("--top", 0, "!missing:--top |");
    assert_parse("x -N", 0, "!missing:-N | x");
    assert_parse("--dry-run=yes a", 0, "!extra:--dry-run | a");
    /* an optional value is never the next word */
    assert_parse("--next-victim no", 0, "next-victim= | no");
    assert_parse("--next-victim=no", 0, "next-victim=no |");
}

static void long_names(void **state)
{
    (void)state;
    /* an unambiguous prefix; an exact name beats a longer one it prefixes */
    assert_parse("--dry --tr --li=[::1]:9", 0, "dry-run= tree= listen=[::1]:9 |");
    /* two names of one option are not ambiguous */
    assert_parse("--col never", 0, "color=never |");
    /* several options: ambiguous, and the two are named */
    assert_parse("--next x", 0, "!ambiguous:--next | x");
    /* --no-NAME only for negatable options; no-sync is a name of its own */
    assert_parse("--no-next-victim --no-sync", 0, "no-next-victim= no-sync= |");
    assert_parse("--no-tree", 0, "!unknown:--no-tree |");
    assert_parse("--no-next-victim=1", 0, "!extra:--no-next-victim |");
    assert_parse("--frob -q --=x", 0, "!unknown:--frob !unknown:-q !unknown:-- |");
}

static void error_texts(void **state)
{
    (void)state;
    char *argv[] = {"prog", "--next", "--top", NULL};
    struct args a;
    char why[160];
    args_init(&a, 3, argv, opts, sizeof(opts) / sizeof(opts[0]), 0);
    assert_int_equal(args_next(&a), -EINVAL);
    assert_string_equal(args_error_text(&a, why, sizeof(why)),
                        "option '--next' is ambiguous: --next-victim or --next-day?");
    assert_int_equal(args_next(&a), -EINVAL);
    assert_string_equal(args_error_text(&a, why, sizeof(why)), "option '--top' needs a value");
    assert_int_equal(args_next(&a), 0);

    char *argv2[] = {"prog", "--no-nex", NULL};
    args_init(&a, 2, argv2, opts, sizeof(opts) / sizeof(opts[0]), 0);
    assert_int_equal(args_next(&a), NEXT_VICTIM);
    assert_true(a.negated);
}

static void look_ahead_and_stop(void **state)
{
    (void)state;
    /* a look-ahead leaves argv as it was */
    char *argv[] = {"prog", "a", "--dry-run", "b", NULL};
    struct args a;
    args_init(&a, 4, argv, opts, sizeof(opts) / sizeof(opts[0]), ARGS_KEEP_ARGV);
    assert_int_equal(args_next(&a), DRY);
    assert_int_equal(args_next(&a), 0);
    assert_int_equal(a.noperands, 2);
    assert_null(a.operands);
    assert_string_equal(argv[1], "a");
    assert_string_equal(argv[2], "--dry-run");
    /* global options stop at the command; the command's own are not read */
    assert_parse("--color never ps --top 3", ARGS_STOP_AT_OPERAND, "color=never | ps --top 3");
    assert_parse("-- ps", ARGS_STOP_AT_OPERAND, "| ps");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_anywhere_before_dashdash),
        cmocka_unit_test(values),
        cmocka_unit_test(long_names),
        cmocka_unit_test(error_texts),
        cmocka_unit_test(look_ahead_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
