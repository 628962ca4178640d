/* Units and the table-driven config loader. */
#include "testlib.h"

#include <errno.h>
#include <malloc.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/ere.h"
#include "engine/agent.h"
#include "base/units.h"

static void sizes_and_durations(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(parse_size("512K", &v), 0);
    assert_int_equal(v, 512 * 1024);
    assert_int_equal(parse_size("256M", &v), 0);
    assert_int_equal(v, 256ull << 20);
    assert_int_equal(parse_size("1.5G", &v), 0);
    assert_int_equal(v, 3ull << 29);
    assert_int_equal(parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(parse_size("1 MB", &v), 0);
    assert_int_equal(v, 1ull << 20);
    assert_int_equal(parse_size("1.5", &v), -EINVAL);
    assert_int_equal(parse_size("12X", &v), -EINVAL);
    assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
    assert_int_equal(parse_size("3kib", &v), 0);
    assert_int_equal(v, 3 * 1024);
    assert_int_equal(parse_size("1KIB", &v), -EINVAL);
    assert_int_equal(parse_size("2b", &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(parse_size("0.5B", &v), -EINVAL); /* half a byte */
    assert_int_equal(parse_size("0.001K", &v), 0);     /* a fraction of a K is cut */
    assert_int_equal(v, 1);
    /* the multiplier applies to thousandths: 16777.216T is the last that fits */
    assert_int_equal(parse_size("16777.215T", &v), 0);
    assert_int_equal(v, (16777215ull << 40) / 1000);
    assert_int_equal(parse_size("16777.216T", &v), -ERANGE);
    assert_int_equal(parse_duration_ms("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(parse_duration_ms("10s", &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(parse_duration_ms("10", &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(parse_duration_ms("1.5s", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(parse_duration_ms("5m", &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(parse_duration_ms("2h", &v), 0);
    assert_int_equal(v, 7200000);
    assert_int_equal(parse_duration_ms("1.5ms", &v), 0); /* a fraction of a ms is cut */
    assert_int_equal(v, 1);
    assert_int_equal(parse_duration_ms("1d", &v), 0);
    assert_int_equal(v, 86400000);
    assert_int_equal(parse_duration_ms("1 s", &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(parse_duration_ms("1S", &v), -EINVAL);
    assert_int_equal(parse_duration_ms("5min", &v), -EINVAL);
    assert_int_equal(parse_duration_ms("", &v), -EINVAL);
    /* thousandths past UINT64_MAX: out of range, not wrapped to a short duration */
    assert_int_equal(parse_duration_ms("18446744073709551.999s", &v), -ERANGE);
}

struct cfg {
    char *listen;
    bool guard;
    uint64_t depth;
    uint64_t interval;
    uint64_t floor;
    struct config_list include;
    int rules;
};

static int on_rule(void *ctx, const char *section, int section_line, const char *key,
                   const char *value, struct buf *err)
{
    struct cfg *c = ctx;
    (void)section_line;
    if (strncmp(section, "rule ", 5) != 0) {
        buf_printf(err, "unknown section [%s]", section);
        return -ENOENT;
    }
    if (strcmp(key, "match") != 0) {
        buf_printf(err, "rule '%s': unknown key '%s'", section + 5, key);
        return -ENOENT;
    }
    (void)value;
    c->rules++;
    return 0;
}

static const struct config_option opts[] = {
    {"agent", "listen", CONFIG_STRING, offsetof(struct cfg, listen), 0, 0, "address:port"},
    {"agent", "guard", CONFIG_BOOL, offsetof(struct cfg, guard), 0, 0, "kill before the kernel"},
    {"exporter", "cgroup-depth", CONFIG_UINT, offsetof(struct cfg, depth), 1, 32, NULL},
    {"exporter", "include", CONFIG_GLOBS, offsetof(struct cfg, include), 0, 0, NULL},
    {"guard", "interval", CONFIG_DURATION, offsetof(struct cfg, interval), 100, 60000, NULL},
    {"guard", "mem-floor", CONFIG_SIZE, offsetof(struct cfg, floor), 0, UINT64_MAX, NULL},
};

static void loads_and_reports_file_line_key(void **state)
{
    (void)state;
    struct cfg c = {0};
    struct config_schema s = {opts, sizeof(opts) / sizeof(opts[0]), on_rule, &c};
    struct buf err = BUF_INIT(4096);
    const char *text = "; comment\n[agent]\nlisten = 127.0.0.1:10090\nguard = yes\n\n"
                       "[exporter]\ncgroup-depth = 4\ninclude = /kubepods*, /system.slice/*, "
                       "/user.slice\n[guard]\ninterval = 250ms\nmem-floor = 256M\n"
                       "[rule protect-sshd]\nmatch = comm=sshd\n";
    assert_int_equal(config_load_text(&s, &c, text, strlen(text), "test.conf", &err), 0);
    assert_string_equal(c.listen, "127.0.0.1:10090");
    assert_true(c.guard);
    assert_int_equal(c.depth, 4);
    assert_int_equal(c.include.n, 3);
    assert_string_equal(c.include.v[1], "/system.slice/*");
    assert_int_equal(c.interval, 250);
    assert_int_equal(c.floor, 256ull << 20);
    assert_int_equal(c.rules, 1);

    struct buf dump = BUF_INIT(4096);
    assert_int_equal(config_dump(&s, &c, &dump), 0);
    assert_non_null(strstr(buf_cstr(&dump), "[exporter]\ncgroup-depth = 4\ninclude = /kubepods*, "
                                            "/system.slice/*, /user.slice\n"));
    assert_non_null(strstr(buf_cstr(&dump), "interval = 250ms\n"));
    buf_release(&dump);

    /* errors name the file, the line and the key */
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[agent]\nguard = maybe\n", "test.conf:2: guard: 'maybe' is not a boolean"},
        {"[agent]\nlisten = x\n\n[exporter]\ncgroup-depth = 40\n",
         "test.conf:5: cgroup-depth: 40 is out of range (1..32)"},
        {"[agent]\nlistne = x\n", "test.conf:2: unknown key 'listne' in section [agent]"},
        {"[nope]\nx = 1\n", "test.conf:2: unknown section [nope]"},
        {"[guard]\ninterval = soon\n", "test.conf:2: interval: 'soon' is not a duration"},
        {"[agent]\nthis line has no equals sign\n", "test.conf:2: syntax error"},
        {"listen = 1\n", "test.conf:1: 'listen' is outside any [section]"},
        {"[rule x]\nkill = yes\n", "test.conf:2: rule 'x': unknown key 'kill'"},
        /* a key or a section given twice: an error with both lines, not the last one winning */
        {"[agent]\nlisten = a\nguard = yes\nlisten = b\n",
         "test.conf:4: listen: given twice in [agent] (lines 2 and 4)"},
        {"[exporter]\ninclude = /a\ninclude = /b\n",
         "test.conf:3: include: given twice in [exporter] (lines 2 and 3)"},
        {"[agent]\nlisten = a\n[guard]\ninterval = 1s\n\n[agent]\nguard = no\n",
         "test.conf:6: [agent] given twice (lines 1 and 6): one section each"},
        {"[rule x]\nmatch = a\n[rule y]\nmatch = b\n[rule x]\nmatch = c\n",
         "test.conf:5: [rule x] given twice (lines 1 and 5)"},
        {"\xef\xbb\xbf[agent]\nlisten = a\n[agent]\nguard = no\n",
         "test.conf:3: [agent] given twice (lines 1 and 3)"},
        {"[agent\nlisten = a\n", "test.conf:1: a section header without its ']'"},
        /* inih keeps 49 characters of a section name: a longer one would be another name */
        {"[rule aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee]\nmatch = x\n",
         "test.conf:1: a section name of 55 characters: libinih keeps 49"},
        /* globs that can match no cgroup path */
        {"[exporter]\ninclude = /a, [\n",
         "test.conf:2: include: '[': not a cgroup path glob (they start with '/'"},
        {"[exporter]\ninclude = /kubepods[\n",
         "test.conf:2: include: '/kubepods[': an unclosed '[' (a literal '[' is written [[])"},
        {"[exporter]\ninclude = /a\\\n",
         "test.conf:2: include: '/a\\': a trailing backslash"},
        {"[exporter]\ninclude = kubepods*\n", "test.conf:2: include: 'kubepods*': not a cgroup"},
        /* ";x" after "=" with no space is a value; written back as "key = ;x", a comment */
        {"[agent]\nlisten =;x\n", "test.conf:2: listen: a value cannot start with ';'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_reset(&err);
        assert_int_not_equal(
            config_load_text(&s, &c, bad[i].text, strlen(bad[i].text), "test.conf", &err), 0);
        if (strncmp(buf_cstr(&err), bad[i].msg, strlen(bad[i].msg)) != 0)
            fail_msg("got '%s', want '%s...'", buf_cstr(&err), bad[i].msg);
    }
    buf_reset(&err);
    assert_int_equal(config_load_file(&s, &c, "/nonexistent/oomwarden.conf", &err), -ENOENT);
    assert_string_equal(buf_cstr(&err), "/nonexistent/oomwarden.conf: No such file or directory");

    /* flags go through the same table */
    const struct config_option *o = config_find_flag(&s, "cgroup-depth");
    assert_non_null(o);
    buf_reset(&err);
    assert_int_equal(config_set(&s, &c, o->section, o->key, "7", &err), 0);
    assert_int_equal(c.depth, 7);
    assert_null(config_find_flag(&s, "nope"));
    config_release(&s, &c);
    assert_null(c.listen);
    assert_int_equal(c.include.n, 0);
    buf_release(&err);
}

static const struct config_option one_string[] = {
    {"agent", "listen", CONFIG_STRING, offsetof(struct cfg, listen), 0, 0, NULL},
    {"agent", "guard", CONFIG_BOOL, offsetof(struct cfg, guard), 0, 0, NULL},
    {"exporter", "cgroup-depth", CONFIG_UINT, offsetof(struct cfg, depth), 0, 100, NULL},
    {"exporter", "include", CONFIG_GLOBS, offsetof(struct cfg, include), 0, 0, NULL},
};

/* Debian's libinih cut lines at 200 bytes and read the rest as a line of its own: a long value
 * was silently truncated, and its tail could parse as another key. Every length loads whole. */
static void lines_are_never_cut(void **state)
{
    (void)state;
    static const size_t lengths[] = {1,    150,  189,  190,  195,  196,  197,  198,  199,
                                     200,  201,  202,  203,  250,  398,  399,  400,  401,
                                     402,  4093, 4094, 4095, 4096, 4097, 65536, 500000};
    struct buf text = BUF_INIT(1 << 20), err = BUF_INIT(4096);
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        for (int crlf = 0; crlf < 2; crlf++) {
            size_t n = lengths[i];
            buf_reset(&text);
            buf_puts(&text, "[agent]\nlisten = ");
            for (size_t k = 0; k < n; k++) /* the tail of a cut line parsed as a key once */
                buf_putc(&text, k + 12 == n ? ' ' : k + 11 == n ? '=' : 'a' + (char)(k % 26));
            buf_puts(&text, crlf ? "\r\nguard = yes\r\n" : "\nguard = yes\n");
            struct cfg c = {0};
            struct config_schema s = {one_string, 4, NULL, NULL, NULL};
            buf_reset(&err);
            if (config_load_text(&s, &c, text.data, text.len, "t.conf", &err) != 0)
                fail_msg("%zu bytes: %s", n, buf_cstr(&err));
            assert_non_null(c.listen);
            if (strlen(c.listen) != n)
                fail_msg("a value of %zu bytes came back as %zu", n, strlen(c.listen));
            assert_true(c.guard);
            config_release(&s, &c);
        }
    }
    buf_release(&text);
    buf_release(&err);
}

/* What inih reads differently from what the file says is an error, or read as written. */
static void lines_as_written(void **state)
{
    (void)state;
    int lines[4] = {0};
    struct cfg c = {0};
    struct config_schema s = {one_string, 4, NULL, NULL, lines};
    struct buf err = BUF_INIT(4096);
    /* an indented key is a key, not the continuation of the value above */
    const char *text = "[exporter]\ninclude = /a\n   cgroup-depth = 7\n\n[agent]\n  listen = x\n";
    assert_int_equal(config_load_text(&s, &c, text, strlen(text), "t.conf", &err), 0);
    assert_int_equal(c.include.n, 1);
    assert_string_equal(c.include.v[0], "/a");
    assert_int_equal(c.depth, 7);
    assert_string_equal(c.listen, "x");
    /* each option's line, for messages about values that only fail together */
    assert_int_equal(lines[0], 6);
    assert_int_equal(lines[1], 0);
    assert_int_equal(lines[2], 3);
    assert_int_equal(lines[3], 2);
    config_release(&s, &c);
    /* a NUL ends a line for inih: the rest of the file would be read short */
    static const char nul[] = "[agent]\nguard = yes\nlisten = a\0b\n";
    buf_reset(&err);
    assert_int_equal(config_load_text(&s, &c, nul, sizeof(nul) - 1, "t.conf", &err), -EINVAL);
    assert_string_equal(buf_cstr(&err), "t.conf:3: a NUL byte (is this a binary file?)");
    config_release(&s, &c);
    buf_release(&err);
}

/* Only a regular file is read, and not a large one: a directory read as empty and FIFOs or
 * /dev/zero hung --check-config. */
static void config_files_only(void **state)
{
    (void)state;
    struct cfg c = {0};
    struct config_schema s = {one_string, 4, NULL, NULL, NULL};
    struct buf err = BUF_INIT(4096);
    assert_int_equal(config_load_file(&s, &c, "/tmp", &err), -EISDIR);
    assert_string_equal(buf_cstr(&err), "/tmp: a directory, not a config file");
    buf_reset(&err);
    assert_int_equal(config_load_file(&s, &c, "/dev/zero", &err), -EINVAL);
    assert_string_equal(buf_cstr(&err), "/dev/zero: not a regular file (a FIFO, a device or a "
                                        "socket is not read)");
    char dir[] = "/tmp/oomwarden-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    buf_reset(&err);
    assert_int_equal(config_load_file(&s, &c, path, &err), -EINVAL); /* without waiting */
    unlink(path);
    snprintf(path, sizeof(path), "%s/big.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[agent]\n", f);
    for (int i = 0; i < 40000; i++)
        fputs("# a comment line, thirty bytes\n", f);
    fclose(f);
    buf_reset(&err);
    assert_int_equal(config_load_file(&s, &c, path, &err), -EFBIG);
    char want[128];
    snprintf(want, sizeof(want), "%s: larger than 1024 KiB, the limit for a config file", path);
    assert_string_equal(buf_cstr(&err), want);
    unlink(path);
    rmdir(dir);
    buf_release(&err);
}

static uint64_t ere_cost_of(const char *re)
{
    return ere_cost(re, NULL);
}

/* The regex cost estimate follows what regcomp() allocates: within a bound per estimated node
 * for patterns of every shape, and stacked repetitions (which double regcomp's tree each) above
 * the limit long before they cost memory. */
static void regex_cost_follows_regcomp(void **state)
{
    (void)state;
    assert_int_equal(ere_cost_of("abc"), 3);
    assert_int_equal(ere_cost_of("a+"), 3);
    assert_int_equal(ere_cost_of("a*"), 2);
    assert_int_equal(ere_cost_of("(a|b)"), 4);
    assert_int_equal(ere_cost_of("[]a-z[:alpha:]]x"), 2);
    assert_true(ere_cost_of("a{100}") >= 100);
    assert_true(ere_cost_of("(a{100}){100}") >= 10000);
    assert_true(ere_cost_of("a++++++++++++++++++++") > 1000000);
    assert_true(ere_cost_of("((((((((((a{9}){9}){9}){9}){9}){9}){9}){9}){9}){9})") >= 3486784401u);
    char deep[100001];
    memset(deep, '(', sizeof(deep) - 1); /* fuzz-config overflowed the stack with this */
    deep[sizeof(deep) - 1] = '\0';
    assert_int_equal(ere_cost_of(deep), UINT32_MAX);
    assert_true(ere_cost_of("(") >= 1);   /* not a regex: regcomp says why */
    bool stacked;
    static const char *const stacks[] = {"a++", ".*?", "a{2}*", "(x)+{3}", "a**"};
    for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++) {
        (void)ere_cost(stacks[i], &stacked);
        if (!stacked)
            fail_msg("'%s' repeats a repetition", stacks[i]);
    }
    static const char *const single[] = {"a+b*c?", "(a+)+", "[+*]+", "a\\++", "x{2}y{3,}z*",
                                         "a{", "a{x}+"};
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        (void)ere_cost(single[i], &stacked);
        if (stacked)
            fail_msg("'%s' repeats nothing twice", single[i]);
    }
    assert_true(ere_cost_of("a{") >= 1);
    assert_true(ere_cost_of("\\") >= 1);
#ifndef __SANITIZE_ADDRESS__ /* mallinfo2 does not see ASan's allocator */
    static const char *const shapes[] = {
        "^(Xorg|Xwayland|gnome-shell|kwin_wayland|sway|pipewire)$",
        "a{1000}",
        "(ab|cd){300}",
        "(a{30}){30}",
        "((x|y)+z?){50}[0-9]{20}",
        "^/usr/bin/java .*-Dapp=(orders|billing|shipping)-service( |$).*",
        "(a{10}){10}{10}",
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct mallinfo2 before = mallinfo2();
        regex_t re;
        assert_int_equal(regcomp(&re, shapes[i], REG_EXTENDED | REG_NOSUB), 0);
        struct mallinfo2 after = mallinfo2();
        size_t used = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
        uint64_t cost = ere_cost_of(shapes[i]);
        if (used > 64 * 1024 + cost * 512) /* 70 to 260 bytes a node seen with glibc 2.36 */
            fail_msg("'%s': %zu bytes for an estimate of %llu nodes", shapes[i], used,
                     (unsigned long long)cost);
        regfree(&re);
    }
#endif
}

/* Every option of the agent is also a flag --KEY: two sections with one key would make the flag
 * set the first and leave the second unreachable ([guard] dry-run once did that). */
static void agent_flags_are_unique(void **state)
{
    (void)state;
    const struct config_schema *s = agent_schema();
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = i + 1; k < s->n; k++)
            if (strcmp(s->opts[i].key, s->opts[k].key) == 0)
                fail_msg("--%s is both [%s] %s and [%s] %s", s->opts[i].key, s->opts[i].section,
                         s->opts[i].key, s->opts[k].section, s->opts[k].key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_and_durations),
        cmocka_unit_test(loads_and_reports_file_line_key),
        cmocka_unit_test(lines_are_never_cut),
        cmocka_unit_test(lines_as_written),
        cmocka_unit_test(config_files_only),
        cmocka_unit_test(regex_cost_follows_regcomp),
        cmocka_unit_test(agent_flags_are_unique),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
