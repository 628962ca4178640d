/*
 * Kernel OOM-killer reports, parsed from kernel text into one event per OOM-killer invocation.
 *
 * Pure and incremental: feed lines (oomlog_feed_text for pasted/saved logs, oomlog_feed_kmsg for
 * /dev/kmsg records), then oomlog_finish(); no I/O, so it is fuzzed. Every format since 2.6 is
 * read, by key and pattern, never by position (reference/kernel-oom-facts.md §2.3; the versions
 * that introduced each form are named where they are parsed):
 *
 *   header      "<comm> invoked oom-killer: gfp_mask=0x..(flags), [nodemask=..,] order=N,
 *               [oom_adj=N,|oomkilladj=N,] oom_score_adj=N"; before 2.6.19 "oom-killer:
 *               gfp_mask=0x.., order=N" without the comm
 *   who asked   "CPU: N [UID: u] PID: P Comm: C ..." / "Pid: P, comm: C ..." (dump_stack)
 *   cpuset      "<comm> cpuset=<name> mems_allowed=<list>" (<= 4.19)
 *   memcg       "Task in X killed as a result of limit of Y" (<= 4.19), "memory: usage ..kB,
 *               limit ..kB, failcnt N", "swap: ..." (v2) / "memory+swap: ..." + "kmem: ..." (v1),
 *               "Memory cgroup stats for X:" + stats (one line per cgroup <= 5.2; memory.stat
 *               text 5.3+, one record with embedded newlines through 6.4)
 *   machine     Mem-Info: "active_anon:N ...", buddy lists (page size), "Free swap  = ..kB",
 *               "Total swap = ..kB", "N pages RAM", "N pages reserved"
 *   task table  every layout, from its header line (or, grep-filtered, from the column count)
 *   summary     "oom-kill:constraint=..,nodemask=..[,cpuset=..,mems_allowed=..],oom_memcg=..|
 *               global_oom,task_memcg=..,task=..,pid=..,uid=.." (5.0+)
 *   kill        "<msg>: Kill process N (c) score S or sacrifice child" (<= 5.0), "... or a child"
 *               (2.6.3x), "Out of Memory: Kill process N (c) score S and children." (<= 2.6.18);
 *               "Killed process N (c) [total-vm:..kB|vsz:..kB], anon-rss:..kB, file-rss:..kB
 *               [, shmem-rss:..kB]", "Killed process N, UID u, (c) ..." (RHEL 6),
 *               "<msg>: Killed process ... UID:u pgtables:..kB oom_score_adj:N" (5.x+),
 *               "<msg>: OOM victim N (c) is already exiting. Skip killing the task",
 *               "Kill process N (c) sharing same memory" (<= 4.x)
 *   oom.group   "Tasks in X are going to be killed due to memory.oom.group set" + kill lines
 *   reaper      "oom_reaper: reaped process N (c), now anon-rss:..", "oom_reaper: unable to
 *               reap pid:N (c)" (4.6+; 2 s after the kill since ~5.18)
 *   outcomes    "Out of memory and no killable processes...", "Kernel panic - not syncing:
 *               Out of memory: <system-wide|compulsory> panic_on_oom is enabled", "System is
 *               deadlocked on memory"; "oom_kill_process: N callbacks suppressed"
 *
 * Event boundaries: an invoke header opens an event; a kill line that finds its event already
 * killed (and not in an oom.group kill) opens a new one: dump_header() is rate-limited, so
 * cascades print kill lines without headers. Report lines after a gap of more than
 * OOMLOG_GAP_US start a new event. Lines of other subsystems in between are ignored; a line
 * broken by a terminal or a mail client is joined with the bare line after it when that makes
 * it parse further. Events with neither a header nor a kill (a SysRq Mem-Info dump) are dropped.
 *
 * Userspace's lines about kills (line/userkill.h, oomlog-user.c): systemd's record of a unit that
 * lost a process is put with the kernel's event of that kill (by its cgroup path, else by time
 * within seconds), or is an event of its own (record OOM_RECORD_SYSTEMD) when the kernel's report
 * is not in the text; systemd-oomd's and earlyoom's kills are events of their own (killer, record).
 *
 * Numbers the text does not show are OPT_ABSENT / OPT_ABSENT_I64 (null in JSON), never guessed;
 * numbers no kernel prints are left absent and listed as `impossible`.
 *
 * The parts: oomlog-line.c recognises the messages (anywhere in a line, behind prefixes),
 * oomlog-fields.c and oomlog-table.c read their fields, oomlog-join.c rejoins broken lines,
 * oomlog-report.c is the report state machine, oomlog-close.c completes an event, and
 * oomlog-stream.c hands settled events over while a big log is still being read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/log/line/logline.h"

struct kmsg_record;
struct journal_entry;

#define OOMLOG_NAME_MAX 64 /* comm is 16 bytes in the kernel; garbled pastes can be longer */
#define OOMLOG_TIME_MAX 48
#define OOMLOG_GAP_US (10ull * 1000000) /* report lines further apart than this are unrelated */
#define OOMLOG_TOP_TASKS                                                                           \
    5 /* task-table rows kept per event: the largest, and the highest badness */
#define OOMLOG_MAX_ROWS 200000 /* per event, while parsing (pid_max is 4M; tables are smaller) */
#define OOMLOG_MAX_EVENTS 10000000
#define OOMLOG_SETTLE_BEHIND 64 /* streaming: events kept after an event before it is handed over */
#define OOMLOG_SETTLE_MAX 4096  /* ... and at most, whatever it waits for */
#define OOMLOG_DUP_WINDOW 16    /* a kill pasted twice is looked for this many events back */

enum oom_scope {
    OOM_SCOPE_UNKNOWN,
    OOM_SCOPE_GLOBAL,
    OOM_SCOPE_MEMCG,
    OOM_SCOPE_CPUSET,
    OOM_SCOPE_MEMPOLICY
};

/* Who killed, and whose record the event is. The kernel's events are its own report; systemd's
 * record of a kernel kill (a unit lost a process to "the OOM killer") and the userspace killers
 * are read from their journal lines (line/userkill.h). */
enum oom_killer {
    OOM_KILLER_KERNEL,
    OOM_KILLER_OOMD, /* systemd-oomd */
    OOM_KILLER_EARLYOOM,
    OOM_KILLER_UNKNOWN, /* systemd says the unit failed with result 'oom-kill' and no more */
};
enum oom_record {
    OOM_RECORD_KERNEL,   /* the kernel's report (systemd's lines may be attached) */
    OOM_RECORD_SYSTEMD,  /* only systemd's lines about a unit */
    OOM_RECORD_OOMD,     /* systemd-oomd's line */
    OOM_RECORD_EARLYOOM, /* earlyoom's line */
};

/* What the userspace lines say about a kill (malloc'd, one per event that has any). */
struct oom_userside {
    /* systemd's lines about the unit that lost the process */
    char unit[128];
    char slices[256];       /* other units named for the same kill, ", "-separated */
    bool unit_oom_line;     /* "A process of this unit has been killed by the OOM killer." */
    bool unit_result_oom;   /* "Failed with result 'oom-kill'." */
    bool unit_main_killed;  /* "Main process exited, code=killed, status=9/KILL" */
    int64_t oomd_processes; /* "systemd-oomd killed N process(es) in this unit."; -1 */
    char unit_time[OOMLOG_TIME_MAX];
    /* systemd-oomd */
    char cgroup[256], pressure_cgroup[256];
    char pressure[16], limit[16], duration[32];
    bool swap, marked;
    uint64_t swap_used, swap_total; /* bytes */
    /* earlyoom */
    char signal[8]; /* the last one sent */
    int attempts;   /* kill lines for the process (earlyoom < 1.6 repeated SIGTERM) */
    int64_t badness, oom_score, oom_score_adj;
    uint64_t avail_mib, total_mib, swap_free_mib, swap_total_mib; /* its "mem avail" line */
    char mem_limit[16], swap_limit[16];                           /* its "low memory!" line */
    char limit_signal[8];                                         /* ... for which signal */
};

enum oom_victim_kind {
    OOM_VICTIM_SELECTED, /* the task the killer chose, killed */
    OOM_VICTIM_CHILD, /* a child killed instead of the chosen parent (<= 5.0, "sacrifice child") */
    OOM_VICTIM_GROUP, /* killed with the rest of a memory.oom.group cgroup */
    OOM_VICTIM_SHARED_MM, /* another process sharing the victim's mm (<= 4.x "sharing same memory")
                           */
    OOM_VICTIM_EXITING,   /* chosen, but already exiting: the kernel did not kill it */
};

/* memory: / swap: / memory+swap: / kmem: lines */
struct oom_counter {
    uint64_t usage_kb, limit_kb, failcnt; /* OPT_ABSENT when the line is missing */
};

/* One row of the task table, in the table's own units (pages; pgtables_bytes in bytes). */
struct oom_task {
    int64_t pid, uid, tgid; /* OPT_ABSENT_I64 when absent */
    uint64_t total_vm, rss, rss_anon, rss_file, rss_shmem;
    uint64_t pgtables_bytes, nr_ptes, nr_pmds, swapents;
    int64_t cpu, oom_adj, oom_score_adj;
    char name[OOMLOG_NAME_MAX];
};

/* A number the text shows that no kernel prints (oom_score_adj -1379): the text is damaged. The
 * field is left absent and the value kept here, to be said as such, never as a fact. */
#define OOMLOG_IMPOSSIBLE_MAX 4
struct oom_impossible {
    const char *field; /* "oom_score_adj", "uid", ... (static) */
    int64_t value;
};

struct oom_victim {
    int64_t pid;
    char comm[OOMLOG_NAME_MAX];
    enum oom_victim_kind kind;
    char message[48]; /* "Out of memory", "Memory cgroup out of memory", ...; "" when not printed */
    uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
    int64_t uid, oom_score_adj;
    int64_t score;            /* from "Kill process ... score S", for the task it names */
    bool pgtables_were_bytes; /* early 5.4.y printed bytes as kB; corrected from the table row */
    /* the kill line as the text has it: joined from lines a terminal or mail client broke, or
     * cut off (the fields after the cut are absent) */
    bool line_rejoined, line_cut;
    struct oom_impossible impossible[OOMLOG_IMPOSSIBLE_MAX];
    size_t nimpossible;
    /* the reaper: 1 reaped, 0 not (unable to reap, or no reaper line where the text would
     * show one), -1 unknown */
    int reaped;
    bool reaped_inferred; /* reaped == 0 from the absence of the line */
    bool unable_to_reap;
    uint64_t reaped_anon_kb, reaped_file_kb, reaped_shmem_kb; /* "now anon-rss:..." */
    uint64_t uptime_us;
    char time[OOMLOG_TIME_MAX];
    bool has_row;
    struct oom_task row; /* this pid's task-table row, when the table has one */
    uint64_t vm_rss_kb;  /* earlyoom's VmRSS (MiB as printed, in kB); OPT_ABSENT */
    /* parser bookkeeping */
    uint64_t segment;
};

struct oom_event {
    /* when: the first line of the event that has a stamp */
    char time[OOMLOG_TIME_MAX];
    uint64_t uptime_us;
    uint64_t last_uptime_us;
    char kernel_release[64]; /* from the dump_stack "CPU:"/"Pid:" line */

    bool header;
    struct oom_impossible impossible[OOMLOG_IMPOSSIBLE_MAX]; /* the header's impossible values */
    size_t nimpossible;
    size_t impossible_rows; /* task-table rows with an impossible oom_score_adj (left absent) */
    char invoker_comm[OOMLOG_NAME_MAX];
    int64_t invoker_pid;
    bool gfp_mask_set;
    uint64_t gfp_mask;
    char gfp_flags[128]; /* the %pGg text, without parentheses; "" before 4.6 */
    int64_t order, invoker_oom_score_adj, invoker_oom_adj;
    bool has_invoker_row;
    struct oom_task invoker_row;

    /* dump_oom_summary() and the older cpuset line */
    bool summary;
    char constraint[32];
    char nodemask[64];
    char cpuset[256];
    char mems_allowed[64];
    bool global_oom;
    char *oom_memcg;  /* malloc'd; NULL when not shown */
    char *task_memcg; /* malloc'd */
    char summary_task[OOMLOG_NAME_MAX];
    int64_t summary_pid, summary_uid;

    /* memcg */
    struct oom_counter mem, swap, memsw, kmem;
    char *stats_memcg; /* the first "Memory cgroup stats for X" */
    bool stats_v2;     /* memory.stat keys in bytes (5.3+) rather than v1 "key:NKB" */
    uint64_t stat_anon, stat_file, stat_kernel, stat_shmem, stat_slab, stat_sock, stat_swap;
    uint64_t min_protection_kb, low_protection_kb; /* 7.2 */

    /* the machine (Mem-Info) */
    bool meminfo;
    uint64_t page_kb; /* from the buddy lists or the victim's total-vm; OPT_ABSENT if unknown */
    uint64_t ram_pages, reserved_pages, free_swap_kb, total_swap_kb;
    uint64_t mi_free, mi_active_anon, mi_inactive_anon, mi_active_file, mi_inactive_file;
    uint64_t mi_shmem, mi_slab_reclaimable, mi_slab_unreclaimable, mi_unevictable;
    uint64_t mi_pagetables, mi_slab; /* mi_slab: the single "slab:" count of old kernels */
    bool unreclaimable_slab;         /* "Unreclaimable slab info:" was printed */

    /* the task table: counts over all rows, and the rows kept */
    bool table;               /* a header or rows were seen */
    bool table_inferred;      /* no header line: layout taken from the column count */
    size_t ntasks;            /* rows seen */
    size_t ntasks_adj_min;    /* rows at oom_score_adj -1000 */
    uint64_t tasks_rss_pages; /* sum over rows */
    struct oom_task *rows;    /* after oomlog_finish: the kept rows (top by rss, top by badness) */
    size_t nrows;

    /* the outcome */
    bool selected_set; /* "Kill process N (c) score S or sacrifice child" */
    int64_t selected_pid, selected_score;
    char selected_comm[OOMLOG_NAME_MAX];
    char selected_msg[48];
    struct oom_victim *victims;
    size_t nvictims;
    char *group_memcg; /* memory.oom.group */
    bool no_killable;
    char panic[32];              /* "system-wide", "compulsory", "deadlocked", "" */
    uint64_t suppressed_reports; /* "oom_kill_process: N callbacks suppressed" just before */
    /* The kernel printed only this kill's line: dump_header() was rate-limited (oom_rs in
     * mm/oom_kill.c, at most 10 reports per 5 s since 2.6.3x). Set on the kernel's own word
     * only: a later "callbacks suppressed" count that covers this kill, or /dev/kmsg records
     * read without a gap before the kill line. A headerless kill in a pasted excerpt that is
     * neither is left false (the paste may simply start there). */
    bool rate_limited;
    bool elided;                 /* the text has a gap inside the report */
    bool sysrq;                  /* order=-1: a SysRq-f (manual) invocation */

    enum oom_scope scope;
    bool scope_inherited; /* a rate-limited kill: the scope of the report just before it */

    enum oom_killer killer;
    enum oom_record record;
    struct oom_userside *user; /* malloc'd; NULL when no userspace line is about this kill */
    bool merged;               /* its lines were attached to another event: not reported */

    /* parser bookkeeping */
    size_t row_cap;
    int state;
    int columns[16];
    int ncolumns;
};

struct oomlog_line {
    struct span time;   /* wall-clock stamp as printed, may be empty */
    uint64_t uptime_us; /* OPT_ABSENT when none */
    struct span text;   /* kernel text (unescaped) */
    bool bare;          /* no prefix: may continue the line before it */
    bool kmsg_next;     /* a /dev/kmsg record that directly follows one fed before */
    bool rejoined;      /* joined from lines a terminal or mail client broke */
    int64_t caller_tid; /* CONFIG_PRINTK_CALLER's "[T4242]" (the printing task), or -1 */
    unsigned lead;      /* blanks before `text` in the line (a quoted-printable continuation's
                         * first space is text) */
    bool dashless;      /* the line has no '-': it is no header (oomlog_feed_lines knows it from
                         * its scan for the line's end) */
    size_t width;       /* the whole line's bytes as read, prefix and all (0: not text) */
};

/* The shape of an opaque line prefix (oomlog-line.c). */
struct oomline_prefix {
    char shape[96];
    size_t n; /* 0: none learnt */
};

struct journal_entry;

struct oomlog {
    struct oom_event *events;
    size_t nevents, cap;
    bool open; /* events[nevents - 1] can still take report lines */

    /* statistics of the input */
    uint64_t lines, kernel_lines, user_lines;
    /* kernel messages the log shows only as journalctl's "[57B blob data]" (bytes that are not
     * printable UTF-8, a comm among them, shown so without --all): a kill line may be one */
    uint64_t hidden_messages;
    uint64_t suppressed_reports; /* sum of the OOM report "callbacks suppressed" counts */

    /* internal state */
    struct logline_ctx ctx;
    char *held; /* a line kept back in case the next bare line continues it */
    size_t held_len, held_cap;
    char *join; /* scratch for joining */
    size_t join_cap;
    char *unpad; /* scratch for a line with a terminal's padded break: two halves of unpad_cap */
    size_t unpad_cap;
    char *folded; /* a text line as logline_fold_paste leaves it */
    size_t folded_cap;
    bool held_rejoined;
    bool held_trail;     /* the held line ended with a blank (a break there ate none) */
    bool held_short;     /* the held line is narrower than the text's width (oomjoin's hint) */
    size_t widest;       /* the longest line of text so far in this source */
    size_t widest_lines; /* how many lines were that long */
    bool qp; /* a quoted-printable mail: "=3D" is '=' */
    struct oomline_prefix prefix; /* an opaque prefix learnt from an anchored line */
    char held_time[OOMLOG_TIME_MAX];
    size_t held_time_len;
    uint64_t held_uptime;
    int held_kind;
    bool held_kmsg_next;
    int64_t held_caller_tid;
    uint64_t suppressed_pending;
    bool kmsg_seq_known;    /* a /dev/kmsg record was fed: kmsg_seq_next is meaningful */
    uint64_t kmsg_seq_next; /* the sequence number of the record that would follow it */
    bool sysrq_meminfo; /* "SysRq : Show Memory": the next Mem-Info is not an OOM report */
    uint64_t segment;   /* increments at every elision marker and every uptime jump back */
    uint64_t last_uptime;
    uint64_t *segment_max; /* largest kernel uptime seen in each segment */
    /* streaming (oomlog_stream) */
    int (*emit)(void *ctx, struct oom_event *e);
    void *emit_ctx;
    uint64_t handed_over; /* events handed to emit and gone from `events` */
    size_t drain_at;      /* try again when this many events are kept */
    struct oom_victim recent[OOMLOG_DUP_WINDOW]; /* the last kills handed over */
    size_t nrecent, recent_next;
    size_t segment_cap;
    bool saw_reaper; /* an oom_reaper line anywhere: this kernel has the reaper */
    bool hold_lines; /* text input: a line may continue on the next one */
    bool grep_filter;
    bool grep_icase;
    char grep_pattern[128];
    char *unescape;      /* scratch for kmsg text */
    /* a log store's record in a text paste (oomlog-record.c) */
    struct journal_entry *rec_entry; /* a -o verbose entry being read */
    bool rec_verbose;
    char rec_quote[16]; /* what stands before its header: its fields have it too */
    size_t rec_quote_len;
    bool rec_entry_open; /* a Cloud Logging entry: its payload or its time seen */
    int rec_depth;
    unsigned rec_lines;
    char *rec_payload; /* its kernel line, until its time is seen */
    size_t rec_payload_len, rec_payload_cap;
    char rec_ts[OOMLOG_TIME_MAX];
    size_t rec_ts_len;
    struct span rec_time; /* the time of the record being read, for its text lines */
    /* earlyoom's last "mem avail" and "low memory!" lines, for its next kill */
    struct oom_userside earlyoom_pending;
    char earlyoom_time[OOMLOG_TIME_MAX];
    size_t source_first; /* first event of the current source */
};

void oomlog_init(struct oomlog *p);
void oomlog_release(struct oomlog *p);

/* One line of a log file or paste, without its newline. Returns 0 or -ENOMEM/-EFBIG. */
int oomlog_feed_text(struct oomlog *p, const char *line, size_t len);
/* Every line of buf[0..len) (each ending in '\n', or at the end), as oomlog_feed_text would feed
 * them one by one, only faster. *ret_lines counts the lines fed. */
int oomlog_feed_lines(struct oomlog *p, const char *buf, size_t len, uint64_t *ret_lines);
/* One /dev/kmsg record: userspace records are skipped, the text is unescaped and split. */
int oomlog_feed_kmsg(struct oomlog *p, const struct kmsg_record *rec);
/* One journal entry (journalctl -o json, -o export; journal.h): a kernel record's lines with its
 * stamps, anything else counted as userspace. */
int oomlog_feed_journal(struct oomlog *p, const struct journal_entry *e);
/* One line of kernel text with its stamps (the core the two above use). */
int oomlog_feed_line(struct oomlog *p, const struct oomlog_line *l);
/* End of one input (a file): closes the open event, infers what needs the whole input. The next
 * lines start afresh (another file, another boot). */
int oomlog_end_source(struct oomlog *p);
/* End of all input: ends the source, drops duplicate events and those with nothing to report. */
int oomlog_finish(struct oomlog *p);

/*
 * Streaming: every event that can no longer change is handed to `emit` as soon as it settles, in
 * input order, once (duplicates and events with nothing to report are dropped first); then it
 * is gone from p->events. emit returns 1 when it keeps the event (its allocations are then its
 * own, for oom_event_release()), 0 when done with it, or a negative errno, which the feeding
 * function returns. Without a stream every event stays in p->events until oomlog_release().
 */
void oomlog_stream(struct oomlog *p, int (*emit)(void *ctx, struct oom_event *e), void *ctx);
/* Hands over the settled events (all but the open one when `all`); oomlog_feed_* and
 * oomlog_finish() call it. */
int oomlog_drain(struct oomlog *p, bool all);
void oom_event_release(struct oom_event *e);

const char *oom_scope_name(enum oom_scope s);
const char *oom_victim_kind_name(enum oom_victim_kind k);
/* The event's main victim (the first one killed or skipped), or NULL. */
const struct oom_victim *oom_event_primary(const struct oom_event *e);
/* A kill by a userspace killer (systemd-oomd, earlyoom), not the kernel's: readers that count
 * the kernel's OOM kills leave it out (systemd's record of a unit is the kernel's kill). */
bool oom_event_userspace_kill(const struct oom_event *e);
/* Releases the userspace killers' kills among p->events (after oomlog_finish()), for readers
 * of the kernel's kills alone. */
void oomlog_drop_userspace_kills(struct oomlog *p);
