/*
 * Where kernel log text comes from, for the OOM parser: a file (plain or gzip-compressed, the
 * compression recognised by its magic bytes, not its name), standard input, or the kernel's
 * own /dev/kmsg. This is the I/O half; oomlog is the pure half.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct oomlog;
struct kmsg_reader;

struct logsource_stats {
    uint64_t bytes; /* uncompressed bytes read */
    uint64_t lines;
    uint64_t long_lines; /* lines longer than CAP_INPUT_LINE, cut there */
    uint64_t long_entries; /* -o json-pretty entries longer than CAP_INPUT_LINE, skipped */
    uint64_t records;    /* /dev/kmsg records */
    uint64_t lost;       /* /dev/kmsg records overwritten before we read them */
    unsigned overruns;
    uint64_t broken_at; /* -EBADMSG: the byte where journalctl -o export text stopped being it */
};

/* Reads a whole stream (fd is not closed) and feeds each line; journalctl's machine forms
 * (-o json and its kin, -o export: journal.h), recognised by their first bytes, entry by entry.
 * Returns 0 or a negative errno (-EINVAL: corrupt gzip data; -EPIPE: gzip data cut short, the
 * lines before the cut were fed; -EBADMSG: -o export text broken at st->broken_at, the entries
 * before it were fed). */
int logsource_feed_fd(struct oomlog *p, int fd, struct logsource_stats *st);

/* Opens `path` relative to dirfd ("-" is standard input) and feeds it. */
int logsource_feed_path(struct oomlog *p, int dirfd, const char *path, struct logsource_stats *st);

/* Feeds every record the reader has now (until EAGAIN). */
int logsource_feed_kmsg(struct oomlog *p, struct kmsg_reader *r, struct logsource_stats *st);

/*
 * A machine's kernel log: `path` (<root>/dev/kmsg) relative to dirfd. The character device is
 * read record by record (*ret_live true; st->lost counts records overwritten before we got
 * them); under a fixture root it is a regular file of saved records, read as text (*ret_live
 * false). The source is ended (oomlog_end_source). Returns 0 or a negative errno: -EPERM/-EACCES
 * when kernel.dmesg_restrict is 1 and the caller lacks CAP_SYSLOG, -ENOENT when there is no
 * /dev/kmsg (a container that does not mount the host's).
 */
int logsource_feed_kernel_log(struct oomlog *p, int dirfd, const char *path,
                              struct logsource_stats *st, bool *ret_live);
