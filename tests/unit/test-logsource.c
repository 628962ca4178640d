/* Where log text comes from (model/log/logsource): a plain file and the same file gzip'd give
 * the same events and lines; gzip data cut short or corrupt is an error after what could be
 * read; a line longer than the cap is cut and counted, a journalctl -o json-pretty entry longer
 * than it skipped whole and counted; a saved /dev/kmsg under a root is read as text. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/limits.h"
#include "model/log/logsource.h"
#include "model/log/oomlog.h"

#define REPORT FIXTURE("oomlog/001-cadvisor-memcg-v1-memorymonster.log")

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* A temporary file holding buf[0..len); its fd, at offset 0. */
static int tmpfile_with(const void *buf, size_t len)
{
    char path[] = "/tmp/test-logsource-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* buf gzip'd in memory (a gzip header: logsource knows it by the magic bytes). */
static unsigned char *gzip(const char *buf, size_t len, size_t *ret_len)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (unsigned char *)buf;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *ret_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static int feed_buf(const void *buf, size_t len, struct oomlog *p, struct logsource_stats *st)
{
    int fd = tmpfile_with(buf, len);
    oomlog_init(p);
    *st = (struct logsource_stats){0};
    int r = logsource_feed_fd(p, fd, st);
    close(fd);
    return r;
}

static void plain_and_gzip_agree(void **state)
{
    (void)state;
    size_t len, zlen;
    char *text = slurp(REPORT, &len);
    unsigned char *z = gzip(text, len, &zlen);
    assert_true(zlen < len);

    struct oomlog a, b;
    struct logsource_stats sa, sb;
    assert_int_equal(feed_buf(text, len, &a, &sa), 0);
    assert_int_equal(oomlog_finish(&a), 0);
    assert_int_equal(feed_buf(z, zlen, &b, &sb), 0);
    assert_int_equal(oomlog_finish(&b), 0);

    assert_int_equal(sa.bytes, len);
    assert_int_equal(sb.bytes, len); /* uncompressed bytes */
    assert_int_equal(sa.lines, 44);
    assert_int_equal(sb.lines, sa.lines);
    assert_int_equal(sa.long_lines, 0);
    assert_true(a.nevents >= 1);
    assert_int_equal(b.nevents, a.nevents);
    for (size_t i = 0; i < a.nevents; i++) {
        assert_int_equal(b.events[i].nvictims, a.events[i].nvictims);
        assert_int_equal(b.events[i].victims[0].pid, a.events[i].victims[0].pid);
        assert_string_equal(b.events[i].victims[0].comm, a.events[i].victims[0].comm);
    }
    oomlog_release(&a);
    oomlog_release(&b);
    free(z);
    free(text);
}

static void gzip_cut_short_and_corrupt(void **state)
{
    (void)state;
    size_t len, zlen;
    char *text = slurp(REPORT, &len);
    unsigned char *z = gzip(text, len, &zlen);
    struct oomlog p;
    struct logsource_stats st;
    /* cut: what was decompressed before the cut is fed, then -EPIPE */
    assert_int_equal(feed_buf(z, zlen * 3 / 4, &p, &st), -EPIPE);
    assert_true(st.lines > 0 && st.lines < 44);
    oomlog_release(&p);
    /* the gzip magic, then data that is not deflate */
    unsigned char bad[64];
    memcpy(bad, z, 10); /* the gzip header */
    memset(bad + 10, 0xff, sizeof(bad) - 10);
    assert_int_equal(feed_buf(bad, sizeof(bad), &p, &st), -EINVAL);
    oomlog_release(&p);
    free(z);
    free(text);
}

static void long_line_cut_and_counted(void **state)
{
    (void)state;
    size_t n = CAP_INPUT_LINE + 100;
    char *buf = malloc(n + 16);
    assert_non_null(buf);
    memset(buf, 'x', n);
    memcpy(buf + n, "\nshort\n", 7);
    struct oomlog p;
    struct logsource_stats st;
    assert_int_equal(feed_buf(buf, n + 7, &p, &st), 0);
    assert_int_equal(st.long_lines, 1);
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.bytes, n + 7);
    oomlog_release(&p);
    free(buf);
}

#define PRETTY FIXTURE("oomlog/152-vm-6.1-journalctl-k-o-json-pretty.log")

/* An -o json-pretty entry of more than CAP_INPUT_LINE (journalctl --all prints a core dump's
 * field whole) before a real journal: skipped to its closing brace, none of its lines read as
 * text (one of them carries a kill line), counted; the entries after it read as without it. */
static void long_pretty_entry_skipped_and_counted(void **state)
{
    (void)state;
    size_t len;
    char *journal = slurp(PRETTY, &len);
    struct oomlog want;
    struct logsource_stats sw;
    assert_int_equal(feed_buf(journal, len, &want, &sw), 0);
    assert_int_equal(oomlog_finish(&want), 0);
    assert_true(want.nevents >= 1);

    const char *kill = "\t\"MESSAGE\" : \"Out of memory: Killed process 7 (fake) total-vm:1kB, "
                       "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB "
                       "oom_score_adj:0\",\n";
    size_t cap = CAP_INPUT_LINE + 2 * 4096 + len, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    n += (size_t)sprintf(buf + n, "{\n%s", kill);
    while (n < CAP_INPUT_LINE + 4096)
        n += (size_t)sprintf(buf + n, "\t\"COREDUMP_%zu\" : \"%0100d\",\n", n, 0);
    n += (size_t)sprintf(buf + n, "%s\t\"_TRANSPORT\" : \"kernel\"\n}\n", kill);
    memcpy(buf + n, journal, len);
    n += len;

    struct oomlog p;
    struct logsource_stats st;
    assert_int_equal(feed_buf(buf, n, &p, &st), 0);
    assert_int_equal(oomlog_finish(&p), 0);
    assert_int_equal(st.long_entries, 1);
    assert_int_equal(st.long_lines, 0);
    assert_int_equal(p.nevents, want.nevents);
    for (size_t i = 0; i < p.nevents; i++) {
        assert_int_equal(p.events[i].nvictims, want.events[i].nvictims);
        assert_int_equal(p.events[i].victims[0].pid, want.events[i].victims[0].pid);
    }
    oomlog_release(&p);
    oomlog_release(&want);
    free(buf);
    free(journal);
}

static void saved_kmsg_under_a_root(void **state)
{
    (void)state;
    int dirfd = open(FIXTURE("kmsg-root"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dirfd >= 0);
    struct oomlog p;
    oomlog_init(&p);
    struct logsource_stats st = {0};
    bool live = true;
    assert_int_equal(logsource_feed_kernel_log(&p, dirfd, "dev/kmsg", &st, &live), 0);
    assert_false(live); /* a regular file, read as text */
    assert_true(st.lines > 0);
    assert_int_equal(st.records, 0);
    assert_int_equal(oomlog_finish(&p), 0);
    assert_true(p.nevents >= 1);
    assert_string_equal(p.events[0].invoker_comm, "ow-probe");
    oomlog_release(&p);
    /* no /dev/kmsg there: -ENOENT, said to the caller */
    oomlog_init(&p);
    assert_int_equal(logsource_feed_kernel_log(&p, dirfd, "dev/none", &st, &live), -ENOENT);
    oomlog_release(&p);
    close(dirfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_and_gzip_agree),
        cmocka_unit_test(gzip_cut_short_and_corrupt),
        cmocka_unit_test(long_line_cut_and_counted),
        cmocka_unit_test(long_pretty_entry_skipped_and_counted),
        cmocka_unit_test(saved_kmsg_under_a_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
