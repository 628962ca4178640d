/*
 * Userspace records of OOM kills, one log line at a time: what systemd, systemd-oomd and
 * earlyoom write to the journal when a process dies for want of memory. Pure (no I/O, no
 * allocation) and fuzzed with the OOM parser.
 *
 *   systemd (243+), per unit:  "<unit>: A process of this unit has been killed by the OOM killer."
 *                              "<unit>: Failed with result 'oom-kill'."
 *                              "<unit>: Main process exited, code=killed, status=9/KILL"
 *                              "<unit>: systemd-oomd killed N process(es) in this unit."
 *   systemd-oomd (247+):   "Killed <cgroup> due to memory pressure for <cgroup> being A% > B%
 *                          for > <time> with reclaim activity"
 *                          "Killed <cgroup> due to swap used (N) / total (M) being more than P%"
 *                          later ones say "Marked <cgroup> for killing due to ..." (and "memory
 *                          used (N) / total (M) and swap used ..."), and kill right after
 *   earlyoom 1.3+:         "sending SIGTERM to process N uid U \"comm\": badness B, VmRSS R MiB"
 *                          (1.8+: "oom_score S[, oom_score_adj A], VmRSS R MiB, cmdline \"...\"")
 *   earlyoom 1.2:          "killing process N \"comm\" with signal 15: badness B, VmRSS R MiB"
 *   earlyoom <= 1.1:       "Killing process 'comm' with signal 15, pid: N, badness: B,
 *                          VmRSS: R MiB"
 *   earlyoom, before a kill: "low memory! at or below SIGTERM limits: mem M%, swap S%" and
 *                          "mem avail: A of T MiB (P%), swap free: F of W MiB (Q%)" (the latter
 *                          also alone, every minute: no kill)
 *
 * `program` is the line's syslog tag ("systemd", "systemd-oomd", "earlyoom"); empty for a line
 * without one (a terminal's copy). Another program's line quoting these words is not a record.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/cursor.h"

enum userkill_kind {
    UK_NONE,
    UK_UNIT_OOM,         /* "A process of this unit has been killed by the OOM killer." */
    UK_UNIT_RESULT_OOM,  /* "Failed with result 'oom-kill'." */
    UK_UNIT_MAIN_KILLED, /* "Main process exited, code=killed, status=9/KILL" (not alone an OOM) */
    UK_UNIT_OOMD,        /* "systemd-oomd killed N process(es) in this unit." */
    UK_OOMD_KILL,        /* systemd-oomd killed (or marked for killing) a cgroup */
    UK_EARLYOOM_KILL,    /* earlyoom sent a signal to a process */
    UK_EARLYOOM_LOW,     /* "low memory! at or below SIG... limits" */
    UK_EARLYOOM_AVAIL,   /* "mem avail: ..." */
};

#define USERKILL_PATH_MAX 256

struct userkill {
    enum userkill_kind kind;
    char unit[128];    /* systemd's lines */
    int64_t processes; /* UK_UNIT_OOMD's N; -1 */
    /* systemd-oomd */
    char cgroup[USERKILL_PATH_MAX];          /* the cgroup killed */
    char pressure_cgroup[USERKILL_PATH_MAX]; /* whose pressure was over its limit */
    char pressure[16], limit[16];            /* "62.45%", "50.00%" as printed */
    char duration[32];                       /* "20s" */
    bool swap;                               /* killed for swap use, not for pressure */
    bool marked;                             /* later systemd: "Marked ... for killing" */
    uint64_t swap_used, swap_total;          /* bytes, as printed; OPT_ABSENT */
    /* earlyoom */
    char signal[8];                                      /* "SIGTERM", "SIGKILL" */
    int64_t pid, uid, badness, oom_score, oom_score_adj; /* OPT_ABSENT_I64 */
    char comm[64];
    uint64_t vm_rss_mib;                                          /* OPT_ABSENT */
    uint64_t avail_mib, total_mib, swap_free_mib, swap_total_mib; /* "mem avail" */
    char mem_limit[16], swap_limit[16];                           /* "low memory!" limits */
    char limit_signal[8];                                         /* ... for which signal */
};

/* Recognises one line's message (`text`, after its prefix). False: not such a record. */
bool userkill_parse(struct span program, struct span text, struct userkill *ret);

/* "systemd[1]: text" as kernel text (systemd logs to /dev/kmsg before journald runs) or after a
 * stamp with no host (systemd's test journals): the program and its message, for the three
 * programs above. */
bool userkill_tagged(struct span text, struct span *program, struct span *msg);
