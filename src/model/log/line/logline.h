/*
 * One line of a pasted or saved log, reduced to what the kernel said: its time as printed, its
 * uptime stamp, and the kernel's text. Pure (no I/O, no allocation) and fuzzed with the OOM
 * parser.
 *
 * Forms recognised, alone or stacked (a syslog line often carries a dmesg stamp too):
 *   dmesg                 "[ 5864.708440] text", any number of decimals; "[  37.05][ T9185] "
 *                         (CONFIG_PRINTK_CALLER) and "<4>" (dmesg -r) prefixes
 *   dmesg -T              "[Thu May 14 23:17:24 2020] text" in any locale (the bracket holds a
 *                         clock time HH:MM:SS)
 *   dmesg --time-format=iso  "2020-05-14T23:17:24,123456+02:00 text" (comma before the fraction)
 *   dmesg -x              "kern  :warn  : [   1.2] text"
 *   dmesg -H / -e / --time-format=reltime: "[Dec 7 10:00] text", then "[  +0.000010] text"
 *   syslog / kern.log / journalctl -k (short, short-precise):
 *                         "Jan  5 15:19:27 [host] kernel: text"; without a hostname too
 *   ISO syslog, journalctl -o short-iso: "2022-07-13T11:45:20+0300 host kernel: text"
 *   journalctl -o short-monotonic: "[ 5864.708440] host kernel: text"
 *   RFC 5424 syslog      "<4>1 2023-12-07T08:00:00.123456+00:00 host kernel - - [sd] text":
 *                         whose by the APP-NAME (and a kernel facility in <PRI>)
 *   raw /dev/kmsg records "6,1234,5864708440,-;text" (text still \xNN-escaped: `kmsg` is set)
 *   after a dmesg stamp: printk caller ids "[T4242]", "[  T42]", "[C1]" (also alone, without a
 *                         stamp), Android/MediaTek tags "(1)[123:kworker/1:1]", "[1234:lmkd]"
 *   a bare "kernel: " (a syslog line cut after its tag); dmesg -T whose '[' was lost, its
 *                         weekday with it too ("Mar  4 10:11:12 2024] text"); a caller id after
 *                         a dmesg -T or -H stamp ("[Mon Mar  4 10:11:12 2024] [ T42] text")
 *   after a wall-clock stamp without a tag (netconsole receivers, "kern.warn" facility words,
 *                         a hypervisor's log of its guest's console "In(05) vcpu-5 - Guest: <3>"):
 *                         a dmesg stamp (after a blank or a printk level) or " kernel: " within
 *                         the next words
 *   no known start at all: a dmesg stamp further on, after an opaque prefix (a netconsole
 *                         receiver's address, grep -H's file name, a tool's columns); a
 *                         wall-clock stamp in that prefix is still the line's time
 * Around them: mail quoting ("> ", "> > ", ">  > "), indentation, CRLF, an editor's or pager's
 * continuation arrow ("↪", "↳", "⤷": the line is bare, it continues the one before). The line's
 * reader (oomlog) first folds what a copy adds (logline_fold_paste: no-break blanks, colour
 * escapes) and splits lines written into one with escaped breaks (logline_escaped_break).
 *
 * A syslog/journal record whose tag is not "kernel" is userspace (node-problem-detector,
 * earlyoom, containerd, systemd quoting a kill line): source LOGLINE_USER, never kernel text.
 * So is a /dev/kmsg record whose facility is not LOG_KERN (userspace writes to /dev/kmsg too).
 * A line with no prefix is LOGLINE_BARE: kernel text on a serial console or in a fragment, a
 * continuation line of a multi-line record (dmesg and journalctl indent those), or program
 * output; an indented bare line right after a userspace record continues that record.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/cursor.h"

enum logline_source {
    LOGLINE_BARE,   /* no prefix */
    LOGLINE_KERNEL, /* a prefix that says it is the kernel's */
    LOGLINE_USER,   /* a prefix that says it is not */
};

struct logline {
    enum logline_source source;
    struct span time;    /* wall-clock stamp exactly as printed, or empty */
    uint64_t uptime_us;  /* the [seconds.fraction] stamp, or OPT_ABSENT */
    struct span text;    /* the message (leading blanks kept: continuation lines have them) */
    struct span program; /* a userspace record's syslog tag, without "[pid]:" */
    bool kmsg;           /* a raw /dev/kmsg record: `text` is still \xNN-escaped */
    uint64_t kmsg_seq;   /* its sequence number */
    int64_t caller_tid;  /* CONFIG_PRINTK_CALLER "[T4242]": the printing task's pid, or -1 */
    bool elision;        /* a marker that text was cut here: <SNIP>, [...], (...snipped...), ... */
};

/* What a line says about the lines after it. Zero-initialise. */
struct logline_ctx {
    enum logline_source last; /* source of the last prefixed line */
    bool last_kmsg;           /* the last line was a raw /dev/kmsg record */
};

/* Parses one line (without its '\n'; a trailing '\r' is ignored). Never fails. */
void logline_parse(struct logline_ctx *ctx, const char *line, size_t len, struct logline *ret);

/* The commonest line, "[ 5864.708440] text" or dmesg -T's "[Thu May 14 23:17:24 2020] text",
 * with a text that starts with a letter (after blanks, which it keeps). */
struct logline_plain {
    struct span time; /* dmesg -T's, or empty */
    uint64_t uptime_us;
    struct span text;
};

/*
 * Returns true when `line` is such a line, with what logline_parse would make of it (a kernel
 * line: no caller id, no program, no elision); the caller then sets ctx->last to LOGLINE_KERNEL
 * and ctx->last_kmsg to false as logline_parse would. False: logline_parse decides.
 */
bool logline_plain(const char *line, size_t len, struct logline_plain *ret);

/* The first wall-clock stamp (syslog, ISO) that starts a word of an opaque prefix, if any; a
 * dmesg -T stamp whose brackets a copy mangled, with its weekday and year. */
void logline_prefix_time(struct span prefix, struct span *time);

/*
 * What a copy puts in text that no kernel prints: the blanks of a web page or a word processor
 * (U+00A0, HTML's &nbsp;, U+2007, U+2009 and U+202F become a blank; U+200B and U+FEFF, zero
 * width, nothing) and a terminal's colour escapes (ESC [ ... m, any CSI sequence: dmesg
 * --color=always, a `script` capture), dropped. Writes the line so into `out` (`len` bytes are
 * enough) and returns its length, or 0 when the line has none of them.
 */
size_t logline_fold_paste(const char *line, size_t len, char *out);

/*
 * Lines written into one as a string's escapes ("[ 1.0] a\\n[ 1.1] b\\n": a JSON export of a log,
 * a log viewer's CSV): the first escaped line break in `s` ("\\n" or "\\r\\n", the backslashes
 * doubled any number of times when it was escaped again) before a log record's stamp (a string
 * in a program's source, "\\nOut of memory: Killed process 1 (x)\\n", is no log), or a carriage
 * return alone before one (old Mac line ends, a console's overwritten progress line). Returns its
 * offset, and its length in
 * *len; `n` and 0 when there is none. The kernel writes no backslash before an 'n' in an OOM
 * report (/dev/kmsg escapes a backslash as \\x5c).
 */
size_t logline_escaped_break(const char *s, size_t n, size_t *len);

/*
 * A shell command line pasted above grep output ("$ journalctl -k | grep stackoverflow"):
 * copies grep's pattern into `pattern` (NUL-terminated) when it is a plain string, sets
 * *icase for -i. Returns false when the line is not such a command, or the pattern is a
 * regular expression or does not fit.
 */
bool logline_grep_command(struct span text, char *pattern, size_t cap, bool *icase);
