#include "logsource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/limits.h"
#include "kmsg.h"
#include "oomlog.h"

#define CHUNK (1024 * 1024)

/* Feeds the complete lines of `buf[0..len)`; returns how many bytes of an unfinished last line
 * remain at the end (a line longer than the cap is cut and its rest skipped: *skipping). */
static int feed_lines(struct oomlog *p, char *buf, size_t len, bool last, bool *skipping,
                      struct logsource_stats *st, size_t *ret_left)
{
    const char *s = buf, *end = buf + len;
    const char *last_nl = len ? memrchr(buf, '\n', len) : NULL;
    if (last_nl) {
        if (*skipping) {
            /* the rest of a line cut at the cap */
            s = (const char *)memchr(s, '\n', (size_t)(end - s)) + 1;
            *skipping = false;
        }
        if (s <= last_nl) {
            uint64_t n = 0;
            int r = oomlog_feed_lines(p, s, (size_t)(last_nl + 1 - s), &n);
            st->lines += n;
            if (r < 0)
                return r;
        }
        s = last_nl + 1;
    }
    size_t left = (size_t)(end - s);
    if (left >= CAP_INPUT_LINE || (last && left)) {
        if (!*skipping) {
            st->lines++;
            /* at the cap with more to come is cut too (a line of exactly the cap, whose newline
             * starts the next chunk, counts as long) */
            if (left > CAP_INPUT_LINE || (left == CAP_INPUT_LINE && !last)) {
                st->long_lines++;
                left = CAP_INPUT_LINE;
            }
            int r = oomlog_feed_text(p, s, left);
            if (r < 0)
                return r;
        }
        *skipping = !last;
        left = 0;
    } else if (left && s != buf) {
        memmove(buf, s, left);
    }
    *ret_left = left;
    return 0;
}

int logsource_feed_fd(struct oomlog *p, int fd, struct logsource_stats *st)
{
    /* `buf` holds the unfinished last line of the previous chunk, then the new chunk */
    size_t cap = CHUNK + CAP_INPUT_LINE;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    size_t have = 0;
    bool skipping = false; /* inside a line longer than the cap: drop its rest */
    int r = 0;
    /* gzip is recognised by its magic bytes; anything else is read as it is (the fast path:
     * one copy, into a buffer that stays in cache) */
    unsigned char magic[2];
    ssize_t m = pread(fd, magic, sizeof(magic), 0);
    bool seekable = m >= 0 || errno != ESPIPE;
    bool gzip = m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (seekable && !gzip) {
        for (;;) {
            ssize_t n = read(fd, buf + have, CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                r = -errno;
                break;
            }
            st->bytes += (uint64_t)n;
            if ((r = feed_lines(p, buf, have + (size_t)n, n == 0, &skipping, st, &have)) < 0 ||
                n == 0)
                break;
        }
        free(buf);
        return r;
    }
    /* gzip, or a pipe (which may carry gzip: gzdopen() passes plain data through unchanged);
     * it takes the fd over, so give it a duplicate */
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    gzFile gz = dfd >= 0 ? gzdopen(dfd, "rb") : NULL;
    if (!gz) {
        r = dfd < 0 ? -errno : -ENOMEM;
        if (dfd >= 0)
            close(dfd);
        free(buf);
        return r;
    }
    (void)gzbuffer(gz, 256 * 1024);
    for (;;) {
        int n = gzread(gz, buf + have, CHUNK);
        if (n < 0) {
            int zerr;
            (void)gzerror(gz, &zerr);
            r = zerr == Z_ERRNO ? -errno : -EINVAL;
            break;
        }
        st->bytes += (uint64_t)n;
        if ((r = feed_lines(p, buf, have + (size_t)n, n == 0, &skipping, st, &have)) < 0 ||
            n == 0)
            break;
    }
    if (r == 0) {
        /* zlib ends a stream cut short like a whole one, and says so only here */
        int zerr;
        (void)gzerror(gz, &zerr);
        if (zerr == Z_BUF_ERROR)
            r = -EPIPE;
    }
    free(buf);
    gzclose(gz);
    return r;
}

int logsource_feed_path(struct oomlog *p, int dirfd, const char *path, struct logsource_stats *st)
{
    if (strcmp(path, "-") == 0)
        return logsource_feed_fd(p, STDIN_FILENO, st);
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int r = logsource_feed_fd(p, fd, st);
    close(fd);
    return r;
}

int logsource_feed_kmsg(struct oomlog *p, struct kmsg_reader *rd, struct logsource_stats *st)
{
    struct kmsg_record rec;
    int r;
    while ((r = kmsg_reader_next(rd, &rec)) > 0) {
        st->records++;
        st->bytes += rec.text.n;
        if ((r = oomlog_feed_kmsg(p, &rec)) < 0)
            return r;
    }
    st->lost = rd->lost;
    st->overruns = rd->overruns;
    return r;
}

int logsource_feed_kernel_log(struct oomlog *p, int dirfd, const char *path,
                              struct logsource_stats *st, bool *ret_live)
{
    *ret_live = false;
    struct kmsg_reader *rd = malloc(sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    int r = kmsg_reader_open_at(rd, dirfd, path);
    if (r < 0) {
        free(rd);
        return r;
    }
    struct stat sb;
    if (fstat(rd->fd, &sb) == 0 && !S_ISCHR(sb.st_mode)) {
        r = logsource_feed_fd(p, rd->fd, st);
    } else {
        *ret_live = true;
        r = logsource_feed_kmsg(p, rd, st);
    }
    kmsg_reader_close(rd);
    free(rd);
    if (r == 0)
        r = oomlog_end_source(p);
    return r;
}
