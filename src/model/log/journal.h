/*
 * journalctl's machine forms of a journal entry, as people save and paste them (systemd's
 * docs: JOURNAL_EXPORT_FORMATS, journalctl(1) -o):
 *   -o json        one object per line: {"__REALTIME_TIMESTAMP":"1701936000123456",
 *                  "_TRANSPORT":"kernel","MESSAGE":"...",...}; every value a string, except
 *                  a value that is not printable UTF-8 (an array of its bytes as numbers), a
 *                  field the entry has more than once (an array of its values) and a value
 *                  too large to show without --all (null)
 *   -o json-seq    the same, each object after an RS byte (RFC 7464)
 *   -o json-sse    the same, each object after "data: ", a blank line between them
 *   -o json-pretty the same object over several lines
 *   -o export      "KEY=value\n" per field, an empty line after each entry; a value that is
 *                  not printable text as "KEY\n" + its length (64-bit little-endian) + its
 *                  bytes + "\n"
 *   -o verbose     a header "Mon 2026-12-07 07:03:24.401314 UTC [s=..;i=..;b=..;m=..;t=..;x=..]"
 *                  (t: the realtime in hex), then "    KEY=value" lines; a value that is not
 *                  printable text as "[N blob data]", a multi-line one continued on lines
 *                  indented under it
 * Pure (no I/O) and fuzzed (fuzz-journal). JSON through json-c (escapes, surrogate pairs,
 * numbers are its sharp edges; jansson's json_null clashes with base/json.c's in the static
 * link); the export form by hand (it is not JSON).
 *
 * Only what the OOM parser needs is kept: who wrote the entry, its times, its message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum journal_transport {
    JOURNAL_UNKNOWN, /* no _TRANSPORT (a filtered export): decided by SYSLOG_IDENTIFIER */
    JOURNAL_KERNEL,  /* _TRANSPORT=kernel: journald read it from /dev/kmsg */
    JOURNAL_OTHER,   /* syslog, journal, stdout, audit, driver */
};

struct journal_entry {
    enum journal_transport transport;
    bool kernel;          /* the kernel's record (the transport, or the identifier without one) */
    uint64_t realtime_us; /* _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP (as
                           * journalctl's short forms print); OPT_ABSENT without either */
    uint64_t source_monotonic_us; /* _SOURCE_MONOTONIC_TIMESTAMP: for a kernel record printk's
                                   * own stamp (the dmesg [seconds]); OPT_ABSENT without */
    bool has_message;
    bool message_binary; /* MESSAGE came as bytes (not printable UTF-8) */
    bool message_hidden; /* MESSAGE was null: too large for journalctl without --all */
    char *message;       /* malloc'd, NUL-terminated (may hold NULs: use message_len) */
    size_t message_len, message_cap;
    char identifier[64];         /* SYSLOG_IDENTIFIER, "" when absent */
    uint64_t source_realtime_us; /* while reading: _SOURCE_REALTIME_TIMESTAMP */
};

void journal_entry_init(struct journal_entry *e);
void journal_entry_release(struct journal_entry *e);

/*
 * One JSON object (-o json and its kin; RS or "data: " already stripped), possibly spread over
 * lines. Returns 0 with *e filled, -EINVAL when `buf` is not one JSON object of a journal entry
 * (no __CURSOR, __REALTIME_TIMESTAMP or MESSAGE), -ENOMEM.
 */
int journal_json_parse(const char *buf, size_t len, struct journal_entry *e);

/* Whether `buf` starts like a journal JSON object ('{' then "__CURSOR", "__REALTIME_TIMESTAMP"
 * or another field name journalctl puts first), after blanks. */
bool journal_json_start(const char *buf, size_t len);

/*
 * The next entry of -o export text in buf[0..len): 1 with *e filled and *used the bytes it
 * took (its terminating empty line too), 0 when the entry is not complete in `buf` (more input
 * needed, or at `eof` the last entry without its empty line: then it is returned as 1),
 * -EINVAL when `buf` is not export text (a line that is neither "KEY=value" nor a binary
 * field's "KEY"; a binary length past the end at eof). Empty lines before an entry are skipped.
 */
int journal_export_next(const char *buf, size_t len, bool eof, struct journal_entry *e,
                        size_t *used);

/* Whether `buf` starts like -o export text ("__CURSOR=", "__REALTIME_TIMESTAMP=", ...). */
bool journal_export_start(const char *buf, size_t len);

/* -o verbose, line by line: a header starts an entry (its realtime from the cursor's t=, or
 * OPT_ABSENT): journal_verbose_begin(); each field line goes to journal_verbose_field()
 * (-EINVAL: not one); journal_verbose_end() completes the entry before it is used. */
bool journal_verbose_header(const char *line, size_t len, uint64_t *realtime_us);
void journal_verbose_begin(struct journal_entry *e, uint64_t realtime_us);
int journal_verbose_field(struct journal_entry *e, const char *line, size_t len);
void journal_verbose_end(struct journal_entry *e);

/* The entry's realtime as ISO 8601 in UTC with microseconds, "2023-12-07T08:00:00.123456+00:00"
 * (what --since reads), into out[cap]; "" when absent. */
void journal_format_time(const struct journal_entry *e, char *out, size_t cap);
