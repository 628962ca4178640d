/*
 * Where kernel log text comes from, for the OOM parser: a file (plain or gzip-compressed, the
 * compression recognised by its magic bytes, not its name), standard input, or the kernel's
 * own /dev/kmsg. This is the I/O half; oomlog is the pure half.
 */
#pragma once

#include <stdint.h>

struct oomlog;
struct kmsg_reader;

struct logsource_stats {
    uint64_t bytes; /* uncompressed bytes read */
    uint64_t lines;
    uint64_t long_lines; /* lines longer than CAP_INPUT_LINE, cut there */
    uint64_t records;    /* /dev/kmsg records */
    uint64_t lost;       /* /dev/kmsg records overwritten before we read them */
    unsigned overruns;
};

/* Reads a whole stream (fd is not closed) and feeds each line. Returns 0 or a negative errno
 * (-EINVAL: corrupt gzip data). */
int logsource_feed_fd(struct oomlog *p, int fd, struct logsource_stats *st);

/* Opens `path` relative to dirfd ("-" is standard input) and feeds it. */
int logsource_feed_path(struct oomlog *p, int dirfd, const char *path, struct logsource_stats *st);

/* Feeds every record the reader has now (until EAGAIN). */
int logsource_feed_kmsg(struct oomlog *p, struct kmsg_reader *r, struct logsource_stats *st);
