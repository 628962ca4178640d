/*
 * The kernel log device, /dev/kmsg (Documentation/ABI/testing/dev-kmsg, kernel/printk/printk.c).
 *
 * Two layers, so `explain` and the future `watch` event loop share them:
 *   - kmsg_record_parse(): one record as read() returns it, pure (fuzzed):
 *       "<prio>,<seq>,<usec>,<flags>[,caller=T<pid>|C<cpu>][,<unknown>...];<text>\n"
 *       followed by dictionary lines " KEY=VALUE\n" (SUBSYSTEM=, DEVICE=...).
 *     The text escapes bytes < 0x20, >= 0x7f and '\' as "\xNN" (so a newline inside one record,
 *     e.g. the 5.3-6.4 memcg stats dump, arrives as "\x0a").
 *   - struct kmsg_reader: the device, read one record per read() (O_NONBLOCK: EAGAIN is "no more
 *     for now"; EPIPE is an overrun: the oldest records were overwritten, reading resumes at the
 *     oldest one still there, and the sequence-number gap tells how many were lost).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"
#include "base/limits.h"

/* LOG_KERN is facility 0; anything else was written to /dev/kmsg by userspace (systemd, echo). */
#define KMSG_FACILITY_KERN 0

struct kmsg_record {
    unsigned facility;
    unsigned level;
    uint64_t seq;
    uint64_t usec;      /* local_clock() at printk time, in microseconds since boot */
    bool cont;          /* flags 'c': a pr_cont() fragment (only seen with old printk) */
    int64_t caller_tid; /* CONFIG_PRINTK_CALLER "T<pid>", or -1 */
    int64_t caller_cpu; /* "C<cpu>", or -1 */
    struct span text;   /* escaped, without the terminating newline */
    struct span dict;   /* the " KEY=VALUE" lines after the text, possibly empty */
};

/*
 * Parses one record. Unknown header fields are ignored (the ABI allows new ones). Returns 0, or
 * -EINVAL when `buf` does not start with a record header.
 */
int kmsg_record_parse(const char *buf, size_t len, struct kmsg_record *ret);

/*
 * Undoes the "\xNN" escaping of a record's text into `out` (at most `n` bytes are written; the
 * result is never longer than the input). A backslash not followed by 'x' and two hex digits
 * is kept as is. Returns the length written.
 */
size_t kmsg_unescape(const char *in, size_t n, char *out);

struct kmsg_reader {
    int fd;
    bool started;       /* a record has been read: next_seq is meaningful */
    uint64_t next_seq;  /* the sequence number expected next */
    uint64_t lost;      /* records skipped: sequence gaps after the first record */
    unsigned overruns;  /* EPIPE returns */
    uint64_t records;   /* records returned */
    uint64_t malformed; /* records that did not parse (skipped) */
    char buf[CAP_KMSG_RECORD];
};

/*
 * Opens the device relative to `dirfd`, read-only, non-blocking, close-on-exec, positioned at the
 * first record still in the buffer. Returns 0 or a negative errno (-EPERM/-EACCES:
 * kernel.dmesg_restrict and no CAP_SYSLOG). A saved copy of records (a regular file, as under a
 * --root fixture) is text, one record per line: read it as a log file instead.
 */
int kmsg_reader_open_at(struct kmsg_reader *r, int dirfd, const char *path);
/* Uses an fd that is already open (non-blocking); the reader owns it from now on. */
void kmsg_reader_from_fd(struct kmsg_reader *r, int fd);
/*
 * The next record: 1 with *rec filled (its spans point into the reader, valid until the next
 * call), 0 when there is nothing more to read now (EAGAIN), or a negative errno. Overruns (EPIPE)
 * and malformed records are counted and skipped.
 */
int kmsg_reader_next(struct kmsg_reader *r, struct kmsg_record *rec);
void kmsg_reader_close(struct kmsg_reader *r);
