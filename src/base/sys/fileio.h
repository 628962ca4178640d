/* Reading kernel virtual files and ordinary inputs into capped buffers. */
#pragma once

#include <stddef.h>

#include "base/buf.h"

/*
 * Reads a procfs/sysfs/cgroupfs file relative to `dirfd` into `out` (replacing its contents).
 *
 * Kernel virtual files must be read with a single read(): a second read() may see a newer
 * version of the file instead of EOF. So each attempt is one read() from offset 0 into a
 * buffer that is larger than the content; when the buffer fills up, it grows and tries again,
 * up to out->max. The content is NUL-terminated.
 *
 * Returns the length, or a negative errno: -ENOENT/-ESRCH/-ENODEV when the object went away,
 * -EFBIG when the file is larger than out->max.
 */
int read_virtual_at(int dirfd, const char *path, struct buf *out);

/*
 * One read() of a small kernel virtual file into the caller's `b` (no allocation: for the kill
 * path, and for checks that run every few ms). NUL-terminated. Returns the length, or a negative
 * errno; -EFBIG when the content did not fit in cap - 1 bytes.
 */
int read_small_at(int dirfd, const char *path, char *b, size_t cap);

/* Same, on an open fd (rewound to 0 first when it can seek). */
int read_virtual_fd(int fd, struct buf *out);

/* Reads a regular file or a pipe to EOF (appending to `out`). Returns 0 or a negative errno. */
int read_stream_fd(int fd, struct buf *out);

/*
 * Reads a file that must be a regular file (a config file, etc/passwd) into `out`, replacing its
 * contents; NUL-terminated. A FIFO or a device is refused before any read (-EINVAL; a FIFO
 * without a writer would block forever, /dev/zero never ends), a directory is -EISDIR, and a
 * file larger than out->max is -EFBIG. Returns the length or a negative errno.
 */
int read_regular_at(int dirfd, const char *path, struct buf *out);

/* Reads every event waiting on a non-blocking inotify fd and hands each to `fn`, until the fd has
 * none left. */
struct inotify_event;
void inotify_drain(int fd, void (*fn)(void *ctx, const struct inotify_event *ie), void *ctx);

/* Writes a whole string to a file relative to dirfd (O_WRONLY, no create). Returns 0 or -errno. */
int write_string_at(int dirfd, const char *path, const char *s);
