#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

int read_virtual_fd(int fd, struct buf *out)
{
    /* Most per-process files fit in one page; start from what the buffer already has. */
    size_t want = out->cap > 1 ? out->cap - 1 : 4096;
    if (want > out->max)
        want = out->max;

    for (;;) {
        buf_reset(out);
        int r = buf_reserve(out, want);
        if (r < 0)
            return r;
        ssize_t n;
        do {
            n = pread(fd, out->data, want, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && errno == ESPIPE) {
            do {
                n = read(fd, out->data, want);
            } while (n < 0 && errno == EINTR);
        }
        if (n < 0)
            return -errno;
        if ((size_t)n < want) {
            out->len = (size_t)n;
            out->data[n] = '\0';
            return (int)n;
        }
        if (want >= out->max)
            return -EFBIG;
        want = want * 4 > out->max ? out->max : want * 4;
    }
}

int read_virtual_at(int dirfd, const char *path, struct buf *out)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    return read_virtual_fd(fd, out);
}

int read_stream_fd(int fd, struct buf *out)
{
    for (;;) {
        int r = buf_reserve(out, 64 * 1024);
        if (r < 0)
            return r;
        size_t room = out->cap - out->len - 1;
        ssize_t n = read(fd, out->data + out->len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
}

int read_regular_at(int dirfd, const char *path, struct buf *out)
{
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer; regular files ignore it */
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > out->max)
        return -EFBIG;
    buf_reset(out);
    int r = buf_reserve(out, (size_t)st.st_size);
    if (r < 0)
        return r;
    for (;;) {
        /* the file may grow while it is read: a byte past the cap says it is too large */
        size_t room = out->cap - out->len - 1;
        if (room == 0 && out->len < out->max) {
            if ((r = buf_reserve(out, out->max - out->len < 4096 ? out->max - out->len : 4096)) < 0)
                return r;
            room = out->cap - out->len - 1;
        }
        char past;
        ssize_t n = room ? read(fd, out->data + out->len, room) : read(fd, &past, 1);
        if (n > 0 && !room)
            return -EFBIG;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
    out->data[out->len] = '\0';
    return (int)out->len;
}

int read_small_at(int dirfd, const char *path, char *b, size_t cap)
{
    if (cap < 2)
        return -EINVAL;
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, b, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if ((size_t)n >= cap)
        return -EFBIG;
    b[n] = '\0';
    return (int)n;
}

int write_string_at(int dirfd, const char *path, const char *s)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t n = strlen(s);
    ssize_t w;
    do {
        w = write(fd, s, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0)
        return -errno;
    if ((size_t)w != n)
        return -EIO;
    return 0;
}

void inotify_drain(int fd, void (*fn)(void *ctx, const struct inotify_event *ie), void *ctx)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ie = (const struct inotify_event *)p;
            p += sizeof(*ie) + ie->len;
            fn(ctx, ie);
        }
    }
}
