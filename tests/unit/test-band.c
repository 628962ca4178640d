/*
 * The guard band: its arithmetic (memory.high a band under memory.max, page-rounded; when it is
 * set, kept, moved, put back, or left to whoever changed it), the record the agent keeps of what
 * it changed (parse, format, errors), and the running band on a copy of a v2 fixture tree:
 * set, recorded, taken over by a second agent as after a crash, and put back.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "engine/act/guard/guard.h"
#include "engine/act/guard/guardband.h"
#include "model/cgroup/band.h"
#include "model/cgroup/cgroup.h"
#include "model/sysroot.h"

#define MiB (1024ull * 1024)
#define PAGE 4096

/* ---- arithmetic ------------------------------------------------------------------------------ */

static void target_is_a_band_under_max_in_pages(void **state)
{
    (void)state;
    struct guard_amount four;
    assert_int_equal(guard_amount_parse("4%", &four), 0);
    uint64_t band = guard_amount_of(&four, 64 * MiB); /* 2684354 */
    assert_int_equal(band, 2684354);
    /* 67108864 - 2684354 = 64424510, down to a page: 15728 pages */
    assert_int_equal(guard_band_target(64 * MiB, band, PAGE), 15728ull * PAGE);
    /* a size, not a percentage */
    assert_int_equal(guard_band_target(64 * MiB, 4 * MiB, PAGE), 60 * MiB);
    /* no band: none wanted, no limit, a band the size of the limit or larger */
    assert_int_equal(guard_band_target(64 * MiB, 0, PAGE), 0);
    assert_int_equal(guard_band_target(CGROUP_UNLIMITED, 4 * MiB, PAGE), 0);
    assert_int_equal(guard_band_target(UINT64_MAX, 4 * MiB, PAGE), 0);
    assert_int_equal(guard_band_target(64 * MiB, 64 * MiB, PAGE), 0);
    assert_int_equal(guard_band_target(64 * MiB, 65 * MiB, PAGE), 0);
    /* less than a page left: nothing to set */
    assert_int_equal(guard_band_target(2 * PAGE + 10, 20, PAGE), PAGE);
    assert_int_equal(guard_band_target(PAGE + 10, 20, PAGE), 0);
    assert_int_equal(guard_band_target(PAGE - 1, 1, PAGE), 0);
}

static void plan_without_a_record(void **state)
{
    (void)state;
    struct band_step s;
    uint64_t t = 60 * MiB;
    /* memory.high unset: the band goes on, "max" is what comes back */
    guard_band_plan(64 * MiB, CGROUP_UNLIMITED, NULL, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_SET);
    assert_int_equal(s.write, t);
    assert_int_equal(s.set, t);
    assert_int_equal(s.previous, CGROUP_UNLIMITED);
    /* a user's value above the band is replaced, and remembered */
    guard_band_plan(64 * MiB, 63 * MiB, NULL, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_SET);
    assert_int_equal(s.previous, 63 * MiB);
    /* a user's value at or below the band stays */
    guard_band_plan(64 * MiB, t, NULL, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_NOTHING);
    guard_band_plan(64 * MiB, 32 * MiB, NULL, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_NOTHING);
    /* no band wanted, or no limit: nothing */
    guard_band_plan(64 * MiB, CGROUP_UNLIMITED, NULL, 0, PAGE, &s);
    assert_int_equal(s.action, BAND_NOTHING);
    guard_band_plan(CGROUP_UNLIMITED, CGROUP_UNLIMITED, NULL, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_NOTHING);
}

static void plan_with_a_record(void **state)
{
    (void)state;
    struct band_step s;
    struct band_record ours = {.path = "/a", .set = 60 * MiB, .previous = CGROUP_UNLIMITED};
    /* ours and right: kept */
    guard_band_plan(64 * MiB, 60 * MiB, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_KEEP);
    assert_int_equal(s.set, 60 * MiB);
    /* the limit moved: the band follows, and the value to put back is still the first one */
    guard_band_plan(128 * MiB, 60 * MiB, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_SET);
    assert_int_equal(s.write, 124 * MiB);
    assert_int_equal(s.previous, CGROUP_UNLIMITED);
    /* the band turned off (reload), or the cgroup's limit removed: put back */
    guard_band_plan(64 * MiB, 60 * MiB, &ours, 0, PAGE, &s);
    assert_int_equal(s.action, BAND_RESTORE);
    assert_int_equal(s.write, CGROUP_UNLIMITED);
    guard_band_plan(CGROUP_UNLIMITED, 60 * MiB, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_RESTORE);
    /* a previous value the raised limit's band would now exceed: the user's lower value wins */
    struct band_record user = {.path = "/a", .set = 60 * MiB, .previous = 62 * MiB};
    guard_band_plan(128 * MiB, 60 * MiB, &user, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_RESTORE);
    assert_int_equal(s.write, 62 * MiB);
    /* changed by someone else to something lower: theirs, forgotten, not written */
    guard_band_plan(64 * MiB, 50 * MiB, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_FORGET);
    guard_band_plan(64 * MiB, 50 * MiB, &ours, 0, PAGE, &s);
    assert_int_equal(s.action, BAND_FORGET);
    /* ... to something higher (systemd's daemon-reload writes MemoryHigh=max back): banded
     * again, and their value is the one to put back */
    guard_band_plan(64 * MiB, CGROUP_UNLIMITED, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_SET);
    assert_int_equal(s.write, 60 * MiB);
    assert_int_equal(s.previous, CGROUP_UNLIMITED);
    guard_band_plan(64 * MiB, 63 * MiB, &ours, 4 * MiB, PAGE, &s);
    assert_int_equal(s.action, BAND_SET);
    assert_int_equal(s.previous, 63 * MiB);
    /* ... higher, with the band off meanwhile: not ours any more, nothing to put back */
    guard_band_plan(64 * MiB, CGROUP_UNLIMITED, &ours, 0, PAGE, &s);
    assert_int_equal(s.action, BAND_FORGET);
}

/* ---- the record ------------------------------------------------------------------------------ */

static void record_parse_format_roundtrip(void **state)
{
    (void)state;
    const char *text = "# header\n"
                       "\n"
                       "64421888 max /work.slice/app.service\n"
                       "1048576 2097152 /a b/with spaces \n"
                       "4096 max /work.slice/app.service\n";
    struct band_records r;
    size_t bad;
    assert_int_equal(band_records_parse(text, strlen(text), &r, &bad), 0);
    assert_int_equal(r.n, 2);
    /* a later line for a path replaces the earlier one */
    const struct band_record *a = band_records_find(&r, "/work.slice/app.service");
    assert_non_null(a);
    assert_int_equal(a->set, 4096);
    assert_int_equal(a->previous, CGROUP_UNLIMITED);
    /* the path is the rest of the line, spaces and all */
    const struct band_record *b = band_records_find(&r, "/a b/with spaces ");
    assert_non_null(b);
    assert_int_equal(b->set, 1048576);
    assert_int_equal(b->previous, 2097152);

    struct buf out = BUF_INIT(1 << 16);
    band_records_format(&r, &out);
    struct band_records again;
    assert_int_equal(band_records_parse(out.data, out.len, &again, &bad), 0);
    assert_int_equal(again.n, 2);
    for (size_t i = 0; i < r.n; i++) {
        const struct band_record *x = band_records_find(&again, r.v[i].path);
        assert_non_null(x);
        assert_int_equal(x->set, r.v[i].set);
        assert_int_equal(x->previous, r.v[i].previous);
    }
    band_records_release(&again);

    /* put, drop; a newline in a path cannot be recorded */
    assert_int_equal(band_records_put(&r, "/new", 8192, 16384), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(band_records_put(&r, "/bad\nname", 8192, 16384), -EINVAL);
    assert_int_equal(r.n, 3);
    band_records_drop(&r, "/work.slice/app.service");
    band_records_drop(&r, "/not-there");
    assert_int_equal(r.n, 2);
    assert_null(band_records_find(&r, "/work.slice/app.service"));
    band_records_release(&r);
    buf_release(&out);
}

static void record_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t line;
    } bad[] = {
        {"64421888 max\n", 1},                     /* no path */
        {"# c\n64421888 max relative/path\n", 2},  /* not a cgroup path */
        {"64421888  max /a\n", 1},                 /* two spaces */
        {"0 max /a\n", 1},                         /* nothing was set */
        {"x max /a\n", 1},
        {"1 maxx /a\n", 1},
        {"1 -5 /a\n", 1},
        {"1 max /a\n2 18446744073709551614 /b\n", 2}, /* CGROUP_UNLIMITED spelled as a number */
        {"99999999999999999999 max /a\n", 1},      /* overflow */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct band_records r = {0};
        size_t line = 0;
        assert_int_equal(band_records_parse(bad[i].text, strlen(bad[i].text), &r, &line), -EBADMSG);
        assert_int_equal(line, bad[i].line);
        assert_int_equal(r.n, 0);
    }
    /* a NUL inside the path */
    static const char nul[] = "1 max /a\0b\n";
    struct band_records r = {0};
    size_t line;
    assert_int_equal(band_records_parse(nul, sizeof(nul) - 1, &r, &line), -EBADMSG);
    /* empty and comment-only: nothing recorded */
    assert_int_equal(band_records_parse("", 0, &r, &line), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(band_records_parse("# x\n\n", 5, &r, &line), 0);
    assert_int_equal(r.n, 0);
}

/* ---- the running band, on a copy of the cg-v2 fixture ------------------------------------- */

struct tree {
    char dir[64];
    struct sysroot sr;
    struct cgroup_hier h;
    struct buf events;
};

static void on_event(void *ctx, const char *json, const char *text)
{
    struct tree *t = ctx;
    (void)text;
    buf_puts(&t->events, json);
    buf_putc(&t->events, '\n');
}

static void tree_open(struct tree *t)
{
    strcpy(t->dir, "/tmp/oomwarden-band.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp -r '%s/.' '%s' && mkdir '%s/run'", FIXTURE("cg-v2"), t->dir,
             t->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sysroot_open(&t->sr, t->dir, NULL), 0);
    assert_int_equal(cgroup_hier_open(&t->sr, &t->h), 0);
    assert_int_equal(t->h.memory_version, 2);
    buf_init(&t->events, 1 << 20);
}

static void tree_close(struct tree *t)
{
    cgroup_hier_close(&t->h);
    sysroot_close(&t->sr);
    buf_release(&t->events);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

/* a cgroup file of the fixture, whole (a regular file keeps the tail of a longer old value, so
 * the tests write the files they read back whole first) */
static void put_file(struct tree *t, const char *cg, const char *name, const char *v)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup%s/%s", t->dir, cg, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(v, f);
    fclose(f);
}

static void get_file(struct tree *t, const char *rel, char *out, size_t cap)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", t->dir, rel);
    FILE *f = fopen(p, "r");
    out[0] = '\0';
    if (!f)
        return;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void sync_one(struct guard_band *b, struct tree *t, const char *cg, uint64_t band)
{
    int fd = cgroup_open_dir(&t->h, cg);
    assert_true(fd >= 0);
    guard_band_sync(b, cg, fd, band);
    close(fd);
}

static bool keep_none(void *ctx, const char *path)
{
    (void)ctx;
    (void)path;
    return false;
}

static void running_band_records_and_restores(void **state)
{
    (void)state;
    struct tree t;
    tree_open(&t);
    struct guard_band_sink sink = {on_event, &t};
    const char *ng = "/system.slice/nginx.service";  /* max 512M, high max */
    const char *pg = "/system.slice/postgresql.service"; /* max 2G, high 1.5G: the user's */
    char b[4096];

    struct guard_band *g;
    assert_int_equal(guard_band_open(&t.sr, &t.h, false, &sink, &g), 0);
    sync_one(g, &t, ng, 20 * MiB);
    sync_one(g, &t, pg, 20 * MiB);
    /* nginx: banded; postgresql's own lower memory.high stays */
    get_file(&t, "sys/fs/cgroup/system.slice/nginx.service/memory.high", b, sizeof(b));
    assert_string_equal(b, "515899392"); /* 512M - 20M */
    get_file(&t, "sys/fs/cgroup/system.slice/postgresql.service/memory.high", b, sizeof(b));
    assert_string_equal(b, "1610612736\n");
    assert_non_null(guard_band_of(g, ng));
    assert_null(guard_band_of(g, pg));
    /* the record on disk, before anything else can happen */
    get_file(&t, BAND_RECORD_PATH, b, sizeof(b));
    assert_non_null(strstr(b, "515899392 max /system.slice/nginx.service\n"));
    assert_null(strstr(b, "postgresql"));
    assert_non_null(strstr(t.events.data, "\"action\":\"set\""));
    assert_non_null(strstr(t.events.data, "\"memory_high_before\":\"max\""));
    assert_non_null(strstr(t.events.data, "\"memory_high_after\":515899392"));

    /* the agent dies without putting it back; the next one takes the record over and, with the
     * band turned off, puts "max" back */
    guard_band_close(g);
    buf_reset(&t.events);
    put_file(&t, ng, "memory.high", "515899392\n");
    assert_int_equal(guard_band_open(&t.sr, &t.h, false, &sink, &g), 0);
    assert_non_null(guard_band_of(g, ng));
    guard_band_sweep(g, keep_none, NULL);
    get_file(&t, "sys/fs/cgroup/system.slice/nginx.service/memory.high", b, sizeof(b));
    assert_memory_equal(b, "max", 3);
    assert_null(guard_band_of(g, ng));
    assert_non_null(strstr(t.events.data, "\"action\":\"restore\""));
    /* nothing banded: no record left */
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", t.dir, BAND_RECORD_PATH);
    assert_int_equal(access(p, F_OK), -1);
    guard_band_close(g);

    /* set again; then someone lowers it: theirs, forgotten, and not touched at the end */
    put_file(&t, ng, "memory.high", "max\n");
    assert_int_equal(guard_band_open(&t.sr, &t.h, false, &sink, &g), 0);
    sync_one(g, &t, ng, 20 * MiB);
    assert_non_null(guard_band_of(g, ng));
    put_file(&t, ng, "memory.high", "104857600\n");
    buf_reset(&t.events);
    sync_one(g, &t, ng, 20 * MiB);
    assert_null(guard_band_of(g, ng));
    assert_non_null(strstr(t.events.data, "\"action\":\"forget\""));
    guard_band_sweep(g, NULL, NULL);
    get_file(&t, "sys/fs/cgroup/system.slice/nginx.service/memory.high", b, sizeof(b));
    assert_string_equal(b, "104857600\n");
    guard_band_close(g);

    /* a record that cannot be read is not trusted (and not fatal) */
    put_file(&t, ng, "memory.high", "515899392\n");
    snprintf(p, sizeof(p), "%s/%s", t.dir, BAND_RECORD_PATH);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("515899392 max system.slice/nginx.service\n", f);
    fclose(f);
    assert_int_equal(guard_band_open(&t.sr, &t.h, false, &sink, &g), 0);
    assert_null(guard_band_of(g, ng));
    guard_band_close(g);

    /* dry run: nothing written, nothing recorded on disk, each change reported once */
    unlink(p);
    put_file(&t, ng, "memory.high", "max\n");
    buf_reset(&t.events);
    assert_int_equal(guard_band_open(&t.sr, &t.h, true, &sink, &g), 0);
    sync_one(g, &t, ng, 20 * MiB);
    sync_one(g, &t, ng, 20 * MiB);
    get_file(&t, "sys/fs/cgroup/system.slice/nginx.service/memory.high", b, sizeof(b));
    assert_string_equal(b, "max\n");
    assert_int_equal(access(p, F_OK), -1);
    const char *first = strstr(t.events.data, "\"action\":\"set\"");
    assert_non_null(first);
    assert_null(strstr(first + 1, "\"action\":\"set\""));
    assert_non_null(strstr(t.events.data, "\"dry_run\":true"));
    guard_band_sweep(g, NULL, NULL);
    guard_band_close(g);
    tree_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(target_is_a_band_under_max_in_pages),
        cmocka_unit_test(plan_without_a_record),
        cmocka_unit_test(plan_with_a_record),
        cmocka_unit_test(record_parse_format_roundtrip),
        cmocka_unit_test(record_errors_name_the_line),
        cmocka_unit_test(running_band_records_and_restores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
