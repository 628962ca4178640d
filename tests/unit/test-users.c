/*
 * User names without NSS: the passwd(5) parser over odd files, and users_* over a root's
 * etc/passwd (a number for a uid it does not list, never a crash).
 */
#include "testlib.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/sys/fileio.h"
#include "model/proc/passwd.h"
#include "model/sysroot.h"
#include "model/proc/users.h"

static void parse(const char *text, struct passwd_db *db)
{
    assert_int_equal(passwd_parse(text, strlen(text), db), 0);
}

static void expect_name(const struct passwd_db *db, uint32_t uid, const char *want)
{
    const char *got = passwd_db_name(db, uid);
    if (!want && got)
        fail_msg("uid %u: got '%s', want no entry", uid, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("uid %u: got '%s', want '%s'", uid, got ? got : "(none)", want);
}

static void passwd_ordinary_lines(void **state)
{
    (void)state;
    struct passwd_db db;
    parse("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
          "alice:x:1000:1000:Alice Smith,,,:/home/alice:/bin/bash", /* no final newline */
          &db);
    assert_int_equal(db.n, 4);
    assert_int_equal(db.skipped, 0);
    expect_name(&db, 0, "root");
    expect_name(&db, 1, "daemon");
    expect_name(&db, 65534, "nobody");
    expect_name(&db, 1000, "alice");
    expect_name(&db, 12345, NULL);
    uint32_t uid = 7;
    assert_int_equal(passwd_db_uid(&db, "alice", &uid), 0);
    assert_int_equal(uid, 1000);
    assert_int_equal(passwd_db_uid(&db, "root", &uid), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(passwd_db_uid(&db, "bob", &uid), -ENOENT);
    assert_int_equal(passwd_db_uid(&db, "", &uid), -ENOENT);
    passwd_db_release(&db);
}

/* What glibc's files backend skips or keeps, and what this parser refuses on top. */
static void passwd_odd_lines(void **state)
{
    (void)state;
    struct passwd_db db;
    parse("# comment:x:1:1::/:/bin/sh\n"
          "\n"
          "   \t\n"
          "  indented:x:2:2::/:/bin/sh\n"          /* leading blanks: skipped, as glibc does */
          "   # indented comment:x:3:3::/:/bin/sh\n"
          "+::::::\n"                              /* NIS compat: users of another database */
          "+nisuser:x:4:4::/:/bin/sh\n"
          "-banned:x:5:5::/:/bin/sh\n"
          "+@netgroup\n"
          "short:x:6\n"                            /* no gid: glibc refuses the line too */
          "nogid:x:7:\n"
          "nouid:x::8::/:/bin/sh\n"
          "signed:x:-9:9::/:/bin/sh\n"             /* 2^64 - 9 to strtoul: refused */
          "plus:x:+23:23::/:/bin/sh\n"
          "spaced:x: 10:10::/:/bin/sh\n"           /* strtoul's leading blanks, as glibc */
          "trailing:x:11 :11::/:/bin/sh\n"
          "hex:x:0x12:12::/:/bin/sh\n"
          ":x:13:13::/:/bin/sh\n"                  /* no name */
          "esc\033[31mred:x:14:14::/:/bin/sh\n"    /* a control character in the name */
          "max:x:4294967294:1::/:/bin/sh\n"
          "minus1:x:4294967295:1::/:/bin/sh\n"     /* (uid_t)-1 is no one's */
          "huge:x:99999999999999999999:1::/:/bin/sh\n"
          "minimal:x:15:15\n"                      /* gecos, home and shell may be missing */
          "crlf:x:16:16::/:/bin/sh\r\n"
          "no colons at all\n"
          "first:x:17:17::/:/bin/sh\n"
          "second:x:17:17::/:/bin/sh\n"            /* the first entry of a uid wins */
          "first:x:18:18::/:/bin/sh\n"             /* and the first of a name */
          "with space:x:19:19::/:/bin/sh\n",
          &db);
    expect_name(&db, 1, NULL);
    expect_name(&db, 2, "indented");
    expect_name(&db, 3, NULL);
    for (uint32_t u = 4; u <= 9; u++)
        expect_name(&db, u, NULL);
    expect_name(&db, 0, NULL); /* "+::::::" is uid 0 to glibc's parser; not here */
    expect_name(&db, 10, "spaced");
    expect_name(&db, 11, NULL);
    expect_name(&db, 12, NULL);
    expect_name(&db, 13, NULL);
    expect_name(&db, 14, NULL);
    expect_name(&db, 4294967294u, "max");
    expect_name(&db, 4294967295u, NULL);
    expect_name(&db, 15, "minimal");
    expect_name(&db, 16, "crlf");
    expect_name(&db, 17, "first");
    expect_name(&db, 19, "with space");
    expect_name(&db, 23, "plus");
    uint32_t uid;
    assert_int_equal(passwd_db_uid(&db, "first", &uid), 0);
    assert_int_equal(uid, 17);
    assert_int_equal(passwd_db_uid(&db, "second", &uid), 0);
    assert_int_equal(uid, 17);
    assert_int_equal(passwd_db_uid(&db, "+nisuser", &uid), -ENOENT);
    assert_int_equal(passwd_db_uid(&db, "nisuser", &uid), -ENOENT);
    /* every line but comments and blanks: entry or skipped */
    assert_int_equal(db.n + db.skipped, 25);
    assert_int_equal(db.n, 10);
    passwd_db_release(&db);

    /* a NUL ends the line for glibc; what came before it is the entry */
    static const char nul[] = "cut:x:20:20::/\0garbage:x:21:21\nnext:x:22:22::/:/bin/sh\n";
    assert_int_equal(passwd_parse(nul, sizeof(nul) - 1, &db), 0);
    expect_name(&db, 20, "cut");
    expect_name(&db, 21, NULL);
    expect_name(&db, 22, "next");
    passwd_db_release(&db);

    assert_int_equal(passwd_parse("", 0, &db), 0);
    assert_int_equal(db.n, 0);
    expect_name(&db, 0, NULL);
    passwd_db_release(&db);
}

/*
 * glibc's own parser of the format (fgetpwent: the files backend's line parser, without NSS) is
 * the oracle: random files of odd lines must give the same users, except where this parser
 * refuses on purpose (NIS entries, empty names, control characters, uid 4294967295).
 */
static const char *const names[] = {"alice", "bob", "root", "dup", "+nis", "-no", "", " lead",
                                    "with space", "tab\tname", "esc\033x", "a#b", "x=y", "émile"};
static const char *const ids[] = {"0", "1000", "  7", "+5", "-5", "-0", "4294967294", "-1",
                                  "-18446744073709551615", "18446744073709551616",
                                  "4294967295", "4294967296", "99999999999999999999", "", "x",
                                  "12 ", "0x10", "007", "1000", "1000", "42", "\t8", "+", "-"};
static const char *const rests[] = {"", ":gecos:/home/u:/bin/sh", ":::", ":a:b:c:d:e:f", ":",
                                    ":g:/h:/bin/sh\r", NULL /* a long gecos */};

static bool refused_on_purpose(const struct passwd *pw)
{
    if (!pw->pw_name[0] || pw->pw_name[0] == '+' || pw->pw_name[0] == '-' ||
        pw->pw_uid == 4294967295u)
        return true;
    for (const char *p = pw->pw_name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static void passwd_matches_glibc(void **state)
{
    (void)state;
    unsigned seed = 21;
    char longrest[6000];
    memset(longrest, 'g', sizeof(longrest) - 1);
    longrest[0] = ':';
    longrest[sizeof(longrest) - 1] = '\0';
    size_t compared = 0;
    for (int file = 0; file < 3000; file++) {
        struct buf b = BUF_INIT(1 << 20);
        int lines = 1 + rand_r(&seed) % 12;
        for (int l = 0; l < lines; l++) {
            int kind = rand_r(&seed) % 20;
            if (kind == 0)
                buf_puts(&b, "# a comment:x:1:1::/:/bin/sh");
            else if (kind == 1)
                buf_puts(&b, rand_r(&seed) % 2 ? "" : "  \t ");
            else {
                if (kind == 2)
                    buf_puts(&b, "  ");
                buf_puts(&b, names[rand_r(&seed) % (sizeof(names) / sizeof(names[0]))]);
                int fields = rand_r(&seed) % 8; /* most lines whole, some cut short */
                if (fields >= 1)
                    buf_puts(&b, ":x");
                if (fields >= 2)
                    buf_printf(&b, ":%s", ids[rand_r(&seed) % (sizeof(ids) / sizeof(ids[0]))]);
                if (fields >= 3)
                    buf_printf(&b, ":%s", ids[rand_r(&seed) % (sizeof(ids) / sizeof(ids[0]))]);
                if (fields >= 4) {
                    const char *r = rests[rand_r(&seed) % (sizeof(rests) / sizeof(rests[0]))];
                    buf_puts(&b, r ? r : longrest);
                }
            }
            /* every line ends in '\n': glibc 2.36 garbles a last line without one ("x:x:1:1"
             * after a longer line read as gid 11); passwd_ordinary_lines has that case */
            buf_putc(&b, '\n');
        }
        /* the oracle, on a real file (fmemopen loses a last line without '\n' in fgetpwent) */
        FILE *f = tmpfile();
        assert_non_null(f);
        assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
        rewind(f);
        struct {
            uint32_t uid;
            char name[64];
        } want[16];
        size_t nwant = 0;
        struct passwd *pw;
        while ((pw = fgetpwent(f)) != NULL) {
            if (refused_on_purpose(pw))
                continue;
            assert_true(nwant < 16);
            want[nwant].uid = pw->pw_uid;
            snprintf(want[nwant].name, sizeof(want[nwant].name), "%s", pw->pw_name);
            nwant++;
        }
        fclose(f);
        struct passwd_db db;
        assert_int_equal(passwd_parse(b.data, b.len, &db), 0);
        if (db.n != nwant)
            fail_msg("file %d: %zu entries, glibc has %zu:\n%s", file, db.n, nwant, b.data);
        for (size_t i = 0; i < nwant; i++) {
            const char *first_by_uid = NULL;
            uint32_t first_uid_of_name = 0;
            bool named = false;
            for (size_t k = 0; k < nwant; k++) {
                if (!first_by_uid && want[k].uid == want[i].uid)
                    first_by_uid = want[k].name;
                if (!named && strcmp(want[k].name, want[i].name) == 0) {
                    first_uid_of_name = want[k].uid;
                    named = true;
                }
            }
            const char *got = passwd_db_name(&db, want[i].uid);
            if (!got || strcmp(got, first_by_uid) != 0)
                fail_msg("file %d: uid %u is '%s', glibc says '%s':\n%s", file, want[i].uid,
                         got ? got : "(none)", first_by_uid, b.data);
            uint32_t uid;
            if (passwd_db_uid(&db, want[i].name, &uid) < 0 || uid != first_uid_of_name)
                fail_msg("file %d: '%s' is not uid %u:\n%s", file, want[i].name,
                         first_uid_of_name, b.data);
            compared++;
        }
        passwd_db_release(&db);
        buf_release(&b);
    }
    printf("# %zu entries compared with glibc\n", compared);
    assert_true(compared > 1000); /* the grammar makes entries, not only refusals */
}

/* A directory-synced passwd file: 200,000 users, in reverse uid order, found by binary search. */
static void passwd_long_file(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(64 << 20);
    const uint32_t n = 200000;
    for (uint32_t i = n; i > 0; i--)
        assert_int_equal(buf_printf(&b, "user%u:x:%u:100:User %u:/home/user%u:/bin/sh\n", i,
                                    100000 + i, i, i),
                         0);
    struct passwd_db db;
    assert_int_equal(passwd_parse(b.data, b.len, &db), 0);
    assert_int_equal(db.n, n);
    char want[32];
    for (uint32_t i = 1; i <= n; i += 997) {
        snprintf(want, sizeof(want), "user%u", i);
        expect_name(&db, 100000 + i, want);
    }
    expect_name(&db, 100000, NULL);
    expect_name(&db, 100000 + n + 1, NULL);
    uint32_t uid;
    assert_int_equal(passwd_db_uid(&db, "user123456", &uid), 0);
    assert_int_equal(uid, 223456);
    passwd_db_release(&db);
    buf_release(&b);
}

/* users_* over a root: its own etc/passwd, numbers for the rest. */
static void users_of_a_root(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("cg-v1"), NULL), 0);
    struct users u;
    users_init(&u, &sr);
    assert_string_equal(users_name(&u, 105), "postgres");
    assert_string_equal(users_name(&u, 0), "root");
    assert_string_equal(users_name(&u, 12345), "12345");
    assert_string_equal(users_name(&u, 4294967295LL), "4294967295");
    assert_string_equal(users_name(&u, -1), "?");
    int64_t uid = -1;
    assert_int_equal(users_parse(&u, "postgres", &uid), 0);
    assert_int_equal(uid, 105);
    assert_int_equal(users_parse(&u, "12345", &uid), 0);
    assert_int_equal(uid, 12345);
    assert_int_equal(users_parse(&u, "4294967294", &uid), 0);
    assert_int_equal(uid, 4294967294LL);
    assert_int_equal(users_parse(&u, "4294967295", &uid), -ERANGE);
    assert_int_equal(users_parse(&u, "4294967296", &uid), -ERANGE);
    assert_int_equal(users_parse(&u, "nosuchuser", &uid), -ENOENT);
    assert_int_equal(users_parse(&u, "1abc", &uid), -ENOENT);
    assert_int_equal(u.load_error, 0);
    users_release(&u);
    sysroot_close(&sr);

    /* a root without etc/passwd: every uid is a number, names are unknown, nothing fails */
    char dir[] = "/tmp/oomwarden-test-users-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char proc[64];
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    assert_int_equal(mkdir(proc, 0755), 0);
    assert_int_equal(sysroot_open(&sr, dir, NULL), 0);
    users_init(&u, &sr);
    assert_string_equal(users_name(&u, 0), "0");
    assert_int_equal(users_parse(&u, "root", &uid), -ENOENT);
    assert_int_equal(u.load_error, -ENOENT);
    char want[128];
    snprintf(want, sizeof(want), "%s/etc/passwd", dir);
    assert_string_equal(users_file(&u), want);
    users_release(&u);
    sysroot_close(&sr);
    rmdir(proc);
    rmdir(dir);
}

/* A config file or a passwd file that is not a regular file is refused before any read. */
static void regular_files_only(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(1 << 20);
    assert_int_equal(read_regular_at(AT_FDCWD, "/tmp", &b), -EISDIR);
    assert_int_equal(read_regular_at(AT_FDCWD, "/dev/zero", &b), -EINVAL);
    assert_int_equal(read_regular_at(AT_FDCWD, "/nonexistent/x", &b), -ENOENT);
    char dir[] = "/tmp/oomwarden-test-fifo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(read_regular_at(AT_FDCWD, fifo, &b), -EINVAL); /* and it did not block */
    unlink(fifo);
    rmdir(dir);

    char path[] = "/tmp/oomwarden-test-reg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    for (int i = 0; i < 100; i++)
        assert_int_equal(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
    close(fd);
    assert_int_equal(read_regular_at(AT_FDCWD, path, &b), 100000);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[b.len], '\0');
    struct buf small = BUF_INIT(99999);
    assert_int_equal(read_regular_at(AT_FDCWD, path, &small), -EFBIG);
    struct buf exact = BUF_INIT(100000);
    assert_int_equal(read_regular_at(AT_FDCWD, path, &exact), 100000);
    unlink(path);
    buf_release(&b);
    buf_release(&small);
    buf_release(&exact);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passwd_ordinary_lines),
        cmocka_unit_test(passwd_odd_lines),
        cmocka_unit_test(passwd_matches_glibc),
        cmocka_unit_test(passwd_long_file),
        cmocka_unit_test(users_of_a_root),
        cmocka_unit_test(regular_files_only),
    };
    return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
