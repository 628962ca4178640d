#include "logsource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../base/limits.h"
#include "kmsg.h"
#include "oomlog.h"

#define CHUNK (1024 * 1024)

int logsource_feed_fd(struct oomlog *p, int fd, struct logsource_stats *st)
{
    /* gzdopen() reads plain data through unchanged ("transparent" mode), so one path serves
     * both; it takes the fd over, so give it a duplicate */
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dfd < 0)
        return -errno;
    gzFile gz = gzdopen(dfd, "rb");
    if (!gz) {
        close(dfd);
        return -ENOMEM;
    }
    (void)gzbuffer(gz, 256 * 1024);
    /* `buf` holds the unfinished last line of the previous chunk, then the new chunk */
    size_t cap = CHUNK + CAP_INPUT_LINE;
    char *buf = malloc(cap);
    if (!buf) {
        gzclose(gz);
        return -ENOMEM;
    }
    size_t have = 0;
    bool skipping = false; /* inside a line longer than the cap: drop its rest */
    int r = 0;
    for (;;) {
        int n = gzread(gz, buf + have, CHUNK);
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            (void)msg;
            r = zerr == Z_ERRNO ? -errno : -EINVAL;
            break;
        }
        if (n == 0)
            break;
        st->bytes += (uint64_t)n;
        size_t len = have + (size_t)n;
        const char *s = buf, *end = buf + len;
        for (;;) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            if (!nl)
                break;
            if (skipping)
                skipping = false;
            else {
                st->lines++;
                if ((r = oomlog_feed_text(p, s, (size_t)(nl - s))) < 0)
                    goto out;
            }
            s = nl + 1;
        }
        have = (size_t)(end - s);
        if (have >= CAP_INPUT_LINE) {
            /* an absurdly long line: parse its first CAP_INPUT_LINE bytes, skip the rest */
            if (!skipping) {
                st->lines++;
                st->long_lines++;
                if ((r = oomlog_feed_text(p, s, CAP_INPUT_LINE)) < 0)
                    goto out;
            }
            skipping = true;
            have = 0;
        } else if (have) {
            memmove(buf, s, have);
        }
    }
    if (have && !skipping) {
        st->lines++;
        r = oomlog_feed_text(p, buf, have);
    }
out:
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
