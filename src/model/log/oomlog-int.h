/*
 * The OOM report parser's own parts (not for other modules): oomlog.c is the report state
 * machine, oomlog-line.c recognises the kernel's OOM messages in a line, oomlog-fields.c parses
 * the one-line records (header, kill, summary, reaper, memcg counters), oomlog-table.c the task
 * table and the multi-line sections (memcg stats, Mem-Info), oomlog-join.c rejoins lines a
 * terminal or mail client broke, oomlog-close.c completes an event at its end.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "base/opt.h"
#include "oomlog.h"

/* Parse states of an open event: which section of dump_header() the lines belong to. */
enum {
    ST_HEADER, /* after the invoke line: dump_stack, cpuset line */
    ST_MEMCG,  /* memory:/swap: counters */
    ST_STATS,  /* "Memory cgroup stats for X:" followed by "key value" lines */
    ST_STATS1, /* after a v1 one-line "Memory cgroup stats for X: key:NKB ...": its fields */
    ST_MEMINFO,
    ST_TASKS,
    ST_KILLED, /* a victim is known: only more kill lines (oom.group, shared mm) and reaper lines */
};

/* What a line is, from its first characters. */
enum kind {
    K_NONE,
    K_HEADER,
    K_KILLED,
    K_SELECT,
    K_EXITING,
    K_SHARED,
    K_SUMMARY,
    K_REAPED,
    K_UNREAPABLE,
    K_PINNED,
    K_TASKIN,
    K_GROUP,
    K_COUNTER,
    K_STATS_FOR,
    K_MEMINFO,
    K_TASKS_STATE,
    K_TABLE_HEADER,
    K_ROW,
    K_NO_KILLABLE,
    K_PANIC,
    K_SUPPRESSED,
    K_SYSRQ_SHOWMEM,
    K_MIN_PROTECTION,
    K_CPU, /* the dump_stack line of the task that asked: "CPU: N PID: P Comm: C ..." */
};

/* Task-table columns, named as in the table header. */
enum col {
    COL_UNKNOWN,
    COL_UID,
    COL_TGID,
    COL_TOTAL_VM,
    COL_RSS,
    COL_RSS_ANON,
    COL_RSS_FILE,
    COL_RSS_SHMEM,
    COL_PGTABLES_BYTES,
    COL_NR_PTES,
    COL_NR_PMDS,
    COL_SWAPENTS,
    COL_CPU,
    COL_OOM_ADJ,
    COL_OOM_SCORE_ADJ,
};

/* The kill line's form, which dates the kernel. */
enum kill_form {
    FORM_NONE,
    FORM_BARE,    /* "Killed process N (c) ..." (<= 5.0) */
    FORM_RHEL,    /* "Killed process N, UID u, (c) ..." (RHEL 6) */
    FORM_MSG,     /* "<msg>: Killed process N (c) ..." (5.1+) */
    FORM_MSG_UID, /* ... "UID:u pgtables:..kB oom_score_adj:N" (5.4+) */
};

#define SEC_US 1000000ull
#define BADNESS_SANE_PAGES (1ull << 52) /* more pages than any machine has */
#define REAPER_WINDOW_US (3 * SEC_US) /* OOM_REAPER_DELAY is 2 s; the reaper then takes <1 s */

/* small span helpers */

static inline bool starts(struct span s, const char *lit)
{
    return span_starts_with(s, lit);
}

/* `lit` then a space or the end: "Kill process" at the end of a line broken after it */
static inline bool starts_word(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return span_starts_with(s, lit) && (s.n == n || s.p[n] == ' ');
}

static inline struct span after(struct span s, size_t n)
{
    return n >= s.n ? (struct span){s.p + s.n, 0} : (struct span){s.p + n, s.n - n};
}

static inline struct span trim(struct span s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

static inline void copy_span(char *dst, size_t cap, struct span s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/* A task name as the kernel's own log escapes it: bytes that are not printable UTF-8 as "\xNN"
 * (/dev/kmsg's escaping, which dmesg keeps), so a comm read from raw bytes (a kmsg record
 * unescaped, a journal entry's MESSAGE) and one read from dmesg text are the same string. A
 * sequence that does not fit is left out whole. */
void copy_comm(char *dst, size_t cap, struct span s);

static inline int set_path(char **dst, struct span s)
{
    char *d = span_strdup(s);
    if (!d)
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

static inline bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline const char *find(struct span s, const char *needle)
{
    return span_find(s, needle);
}

/* number after `key` somewhere in s, e.g. "order=" */
static inline bool key_i64(struct span s, const char *key, int64_t *ret)
{
    const char *k = find(s, key);
    if (!k)
        return false;
    struct cursor c = cursor_make(k + strlen(key), (size_t)(s.p + s.n - (k + strlen(key))));
    return cursor_i64(&c, ret) == 0;
}

static inline bool key_u64(struct span s, const char *key, uint64_t *ret)
{
    const char *k = find(s, key);
    if (!k)
        return false;
    struct cursor c = cursor_make(k + strlen(key), (size_t)(s.p + s.n - (k + strlen(key))));
    return cursor_u64(&c, ret) == 0;
}

struct header {
    char comm[OOMLOG_NAME_MAX];
    bool has_comm, has_gfp;
    uint64_t gfp;
    char flags[128];
    char nodemask[64];
    int64_t order, adj, oom_adj;
};

struct kill {
    enum kind kind;
    enum kill_form form;
    char msg[48];
    int64_t pid, uid, adj, score;
    char comm[OOMLOG_NAME_MAX];
    uint64_t total_vm, anon, file, shmem, pgtables;
    bool cut; /* the line ends inside a field: what follows is not in the text */
};

struct summary {
    char constraint[32], nodemask[64], cpuset[256], mems[64], task[OOMLOG_NAME_MAX];
    struct span oom_memcg, task_memcg;
    bool global;
    int64_t pid, uid;
};

struct reap {
    int64_t pid;
    char comm[OOMLOG_NAME_MAX];
    uint64_t anon, file, shmem;
};

/* Any part of dump_header()'s output is in the event: the report was printed (maybe cut). */
static inline bool oom_event_report_printed(const struct oom_event *e)
{
    return e->header || e->summary || e->meminfo || e->table || opt_has(e->mem.usage_kb) ||
           e->oom_memcg || e->task_memcg || e->stats_memcg;
}

static inline const struct oom_task *find_row(const struct oom_event *e, int64_t pid)
{
    for (size_t i = e->nrows; i-- > 0;)
        if (e->rows[i].pid == pid)
            return &e->rows[i];
    return NULL;
}

/* The ranges no kernel prints outside of: a value beyond them is damage (oomlog-report.c). */
#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000
#define OOM_ADJ_MIN (-17) /* the legacy oom_adj (<= 3.x) */
#define OOM_ADJ_MAX 15
#define PID_MAX_LIMIT 4194304 /* include/linux/threads.h, 64-bit */

/* oomlog-line.c: what a line of kernel text is, from its first characters */
enum kind oomline_classify(struct span t);
/* The same, but for the header ("<comm> invoked oom-killer:"), which only a line with a '-' in
 * it can be. */
enum kind oomline_classify_start(struct span t);
/* "<msg>: rest" where msg is one of the OOM killer's messages */
enum kind oomline_msg_kind(struct span t, struct span *msg, struct span *rest);
/*
 * An OOM message anywhere in the line, by the kernel's fixed words (reference/kernel-oom-facts.md
 * §2.3): whatever stands before it is a prefix this reader does not know. Returns the kind and
 * sets *at to where the message starts (the comm of a header line, the "<msg>: " of a kill
 * line), K_NONE when the line holds none.
 */
enum kind oomline_find(struct span t, size_t *at);
/* `t` is the beginning of a message's first words, cut before they say which message. */
bool oomline_may_begin(struct span t);
/* An opaque prefix learnt from a line where an anchor was found ("host42 | "), by its shape
 * (digits and letters as classes), so the report's other lines lose the same prefix. */
void oomline_prefix_learn(struct oomline_prefix *pf, struct span prefix);
bool oomline_prefix_strip(const struct oomline_prefix *pf, struct span *t);

/* oomlog-fields.c: each parser returns how many fields it understood (0: not this line) */
void oom_task_init(struct oom_task *t);
void oom_counter_init(struct oom_counter *c);
int oom_header_parse(struct span t, struct header *h);
int oom_kill_parse(struct span t, struct kill *k);
int oom_summary_parse(struct span t, struct summary *s);
int oom_taskin_parse(struct span t, struct span *task, struct span *limit);
int oom_group_parse(struct span t, struct span *path);
int oom_reap_parse(struct span t, bool reaped, struct reap *r);
int oom_suppressed_parse(struct span t, uint64_t *n);
int oom_counter_parse(struct span t, struct oom_counter *ret, int *which);
int oom_cpu_parse(struct span t, int64_t *pid, struct span *comm);
void oom_cpu_line(struct oom_event *e, struct span t);
void oom_cpuset_line(struct oom_event *e, struct span t);

/* oomlog-table.c: the task table and the multi-line sections, into the event */
void oom_table_header(struct oom_event *e, struct span t);
int oom_row_parse(int *columns, int *ncolumns, bool *inferred, struct span t, struct oom_task *r);
int oom_event_add_row(struct oom_event *e, const struct oom_task *r);
void oom_stats_kv(struct oom_event *e, struct span t);
void oom_stats_for(struct oom_event *e, struct span t);
/* how many of the v1 one-line form's "key:NKB" fields `t` holds, whole, before any word that
 * is none, plus one (rejoining a line a terminal broke) */
int oom_stats1_fields(struct span t);
/* a line of such fields alone, after the one-line form: read into `e` as part of it; false
 * when it is something else */
bool oom_stats1_more(struct oom_event *e, struct span t);
void oom_meminfo_line(struct oom_event *e, struct span t);

/* oomlog-close.c */
void oom_event_init(struct oom_event *e);
void oomlog_close_event(struct oomlog *p, struct oom_event *e);
void oomlog_infer_reaped(struct oomlog *p, struct oom_event *e);
bool oom_event_reportable(const struct oom_event *e);
bool oom_event_duplicate(const struct oom_event *a, const struct oom_event *b);
/* two victims are the same kill (pasted twice, or in two stamp forms) */
bool oom_victim_duplicate(const struct oom_victim *x, const struct oom_victim *y);

/* oomlog-join.c: a line held back in case the next bare line continues it */
/*
 * The rejoin step, pure: `held` (a line of kind `kind`, K_NONE when the recogniser did not know
 * it) and `next`, a bare line after it. Writes the join into `out` (`cap` bytes) and returns its
 * length when it reads further than `held` alone — more fields of the same record, or a message
 * where `held` was none (its kind in *ret_kind) — and 0 when the two stay apart.
 */
size_t oomjoin(struct span held, enum kind kind, struct span next, enum kind next_kind,
               unsigned hint, char *out, size_t cap, enum kind *ret_kind);
/*
 * What the text says of the blank a break inside a task name may have eaten (hint, a mask):
 * OOMJOIN_BLANK_SEEN, a blank stands at the break (the held line ends with one, the next starts
 * with one); OOMJOIN_SHORT_LINE, the held line is shorter than the text's width (a longer line
 * came before it, or it is narrower than any terminal): a mailer's or a reflow's break, which
 * falls at a blank, not a terminal's at its edge, which falls anywhere. "(Web" + "Content)" is
 * then "Web Content"; "(kworker/" + "u8:0)" stays "kworker/u8:0".
 */
#define OOMJOIN_BLANK_SEEN 1u
#define OOMJOIN_SHORT_LINE 2u
#define OOMJOIN_TERMINAL_MIN 80 /* columns: no terminal a log is read in is narrower */
/*
 * A line a terminal broke and a copy from it padded to the screen's edge, the rest put on the
 * same line after the blanks ("anon-rss:830480k<130 blanks>B, file-rss:..."): each run of
 * OOMJOIN_PAD_MIN or more blanks in a message of kind `kind` is a break that oomjoin() mends
 * when the halves read further together. Writes into `out` (`cap` bytes, and as many again
 * behind them as scratch) and returns the length, 0 when nothing was mended.
 */
#define OOMJOIN_PAD_MIN 24
size_t oomjoin_unpad(struct span t, enum kind kind, char *out, size_t cap, enum kind *ret_kind);
bool oomjoin_padded(struct span t); /* such a run is in `t` */
/* `held` ends with a mark that says it goes on (a "\\", quoted-printable's "=") */
bool oomjoin_marked(struct span held);
int oomlog_hold(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind);
int oomlog_flush_held(struct oomlog *p);
int oomlog_try_join(struct oomlog *p, struct span t, enum kind next_kind, bool lead, bool *joined);

/* oomlog-record.c: a log store's records in a text paste (journalctl -o verbose, Cloud Logging
 * entries), with their times. oomrec_line returns 1 when it took the line, 0 when the line is
 * text to read as such; oomrec_maybe is its cheap first look at a line when no record is open. */
bool oomrec_maybe(const char *line, size_t len);
int oomrec_line(struct oomlog *p, const char *line, size_t len);
int oomrec_end(struct oomlog *p);
void oomrec_release(struct oomlog *p);
static inline bool oomrec_open(const struct oomlog *p)
{
    return p->rec_verbose || p->rec_entry_open;
}
/* oomlog.c: a line of text as oomlog_feed_text reads it, without the look for records */
int oomlog_feed_text_raw(struct oomlog *p, const char *line, size_t len);

/* oomlog.c: the events */
struct oom_event *oomlog_current(struct oomlog *p);
/* Lines further apart than OOMLOG_GAP_US, or going back in time, are not one report. */
bool oomlog_attachable(const struct oom_event *e, const struct oomlog_line *l);
/* The line's stamps, into the event: its first time, its latest uptime. */
void oomlog_touch(struct oom_event *e, const struct oomlog_line *l);
/* A new event (the open one is closed); NULL when out of memory or events. */
struct oom_event *oomlog_open_event(struct oomlog *p, const struct oomlog_line *l);
/* The open event if this report line belongs to it, else a new (headerless) one. */
struct oom_event *oomlog_event_for_body(struct oomlog *p, const struct oomlog_line *l);
struct oom_victim *oomlog_add_victim(struct oom_event *e);

/* oomlog-user.c: the userspace lines about kills (userkill.h). Returns 1 when the line was
 * one, 0 when not, or -ENOMEM. */
int oomlog_feed_user(struct oomlog *p, struct span time, uint64_t uptime, struct span program,
                     struct span text);
/* A line of text (logline) that is such a line: 1 when it was (the line is done with), 0 when
 * not, or -ENOMEM. A line tagged by its program in kernel text (systemd logs to /dev/kmsg before
 * journald runs) and a bare one are looked at too. */
struct logline;
int oomlog_user_text(struct oomlog *p, const struct logline *ll);
/* A journal entry not the kernel's: counted, and read as such a line. 0 or -ENOMEM. */
int oomlog_user_journal(struct oomlog *p, const struct journal_entry *e);
/* a kernel kill closed: systemd's lines about it printed before it become its own */
void oomlog_user_absorb(struct oomlog *p, struct oom_event *e);
void oomlog_user_reset(struct oomlog *p);

/* oomlog-report.c: what one line of a known kind does to the events */
int oomlog_process(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind);
