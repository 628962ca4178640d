/*
 * `oomwarden lab`: cause an OOM kill on purpose, in a scratch cgroup, and watch it.
 *
 *   run      one eater grows into memory.max (through memory.high, on v2, when asked)
 *   protect  two eaters: one protected by oom_score_adj, the other not; the protected one is
 *            the bigger, so the kill of the smaller one is oom_score_adj's doing
 *
 * Sequence: sweep stale lab cgroups; create oomwarden-lab-<pid> with the limits; start the
 * eaters (forked from this process) and wait until they hold their starting memory; predict
 * the victim with the same model as `ps --cgroup`; write a marker to the kernel log; let the
 * eaters go; sample the cgroup every interval; when an eater dies, read the kernel's report of
 * the kill; then kill what is left and remove the cgroup, whatever happened (an error, the
 * timeout, SIGINT/SIGTERM/SIGHUP).
 *
 * The kill's time comes from the kernel log's own clock, relative to the marker's stamp, so it
 * is not late by a sampling interval; without the log it is when the eater's exit was seen.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/cgroup/cgroup.h"
#include "eater.h"
#include "model/log/killobs.h"
#include "labsum.h"
#include "scratch.h"

struct sysroot;
struct kver;
struct oomlog;
struct oom_event;

#define LAB_PREFIX "oomwarden-lab"
#define LAB_MAX_EATERS 2
#define LAB_PROTECT_ADJ (-900)
#define LAB_UNPROTECT_ADJ 900
/* CONFIG_HZ of Debian's x86-64 kernels (250 in 6.1's config), for the throttle's rounding */
#define LAB_HZ 250

enum lab_mode { LAB_RUN, LAB_PROTECT };

enum lab_end {
    LAB_END_KILLED,      /* the kernel's OOM killer killed an eater */
    LAB_END_DIED,        /* an eater died otherwise (a signal from someone else, an error) */
    LAB_END_TIMEOUT,     /* no kill within the time allowed */
    LAB_END_INTERRUPTED, /* SIGINT, SIGTERM or SIGHUP */
};
const char *lab_end_name(enum lab_end e);

struct lab_result;
struct lab_sample;

struct lab_opts {
    enum lab_mode mode;
    uint64_t max, high, rate; /* bytes, bytes, bytes/s; high 0: none */
    enum eater_kind kind;
    const char *file_dir; /* file/mixed: where the scratch file goes */
    uint64_t file_bytes;  /* 0: the default for the kind */
    uint64_t timeout_ms;
    uint64_t interval_ms;
    /* after the prediction, before the eaters go; and after each sample */
    void (*on_start)(const struct lab_result *r, void *ctx);
    void (*on_sample)(const struct lab_result *r, const struct lab_sample *s, void *ctx);
    void *ctx;
};

struct lab_eater_info {
    pid_t pid;
    char comm[16];
    int adj;
    bool adj_fallback; /* the protected one could not go below 0 (no CAP_SYS_RESOURCE) */
    bool protected_one;
    uint64_t start_bytes, rate;
    bool exited;
    int exit_signal; /* 0 when it exited by itself */
    int exit_status;
    double exit_t;   /* seconds since go, when its exit was seen */
    bool oom_killed; /* the kernel log has an OOM kill line for it */
};

struct lab_candidate {
    pid_t pid;
    char comm[17];
    int adj;
    uint64_t rss; /* bytes */
    bool eligible;
    int64_t badness, badness_no_adj; /* pages in the memcg domain */
    size_t rank;                     /* 1 = the kernel's choice */
};

struct lab_prediction {
    bool made;
    char why_not[160];
    uint64_t totalpages; /* the memcg's, as oom_badness() scales oom_score_adj by */
    struct lab_candidate c[LAB_MAX_EATERS];
    size_t n;
    size_t victim;        /* index in c; SIZE_MAX when the model names none of ours */
    size_t victim_no_adj; /* the same ranking with every oom_score_adj at 0 */
    uint64_t usage;       /* memory.current when predicted */
    double high_to_max_s; /* the throttle's time from memory.high to memory.max; 0: none */
};

struct lab_result {
    enum lab_mode mode;
    char cgroup[SCRATCH_NAME_MAX + 2];
    int version;
    bool psi;            /* per-cgroup PSI was sampled */
    bool psi_twin;       /* from the unified tree's twin (hybrid) */
    bool enabled_memory; /* v2: we had to turn on +memory at the top */
    uint64_t max, high, rate;
    enum eater_kind kind;
    uint64_t file_bytes;
    struct lab_eater_info eaters[LAB_MAX_EATERS];
    size_t neaters;
    size_t grower; /* the eater that grows */
    struct lab_prediction pred;
    struct lab_series series;
    enum lab_end end;
    int end_signal; /* LAB_END_INTERRUPTED: which */

    bool kmsg;            /* the kernel log was read */
    char kmsg_error[128]; /* why not */
    bool marker_seen;
    struct oomlog *log;            /* every report since the marker */
    const struct oom_event *event; /* the report of our kill, NULL when none */
    size_t killed;                 /* index in eaters; SIZE_MAX */
    double kill_t;                 /* seconds since go; < 0: no kill */
    bool kill_t_from_log;

    struct cgroup_events ev_before, ev_after;
    uint64_t peak; /* memory.peak (v2 5.19+) / max_usage_in_bytes; OPT_ABSENT */
    /* A kill whose kernel report does not name the cgroup (rate-limited: the kill line only):
     * the lab's own cgroup, its oom_kill counter and the limit read there. Source
     * OOM_OBSERVED_NONE when the report names them, or without a kill. */
    struct oom_observed observed;
    struct lab_summary sum;

    char stale[4][SCRATCH_NAME_MAX + 2];
    size_t nstale;
    bool cleanup_failed;
    char error[256]; /* what failed, when lab_run returns an error */
};

/*
 * Runs the lab. Only for the live root (it creates cgroups and processes). Returns 0 when the
 * lab ran (whatever the end; see ret->end), or a negative errno with ret->error saying what
 * failed; the cgroup is gone either way unless ret->cleanup_failed.
 */
int lab_run(const struct sysroot *sr, const struct cgroup_hier *h, const struct kver *k,
            const struct lab_opts *o, struct lab_result *ret);
void lab_result_release(struct lab_result *r);

/* protect without CAP_SYS_RESOURCE: the protected eater stays at 0, the other gets +900 */
static inline bool lab_variant_fallback(const struct lab_result *r)
{
    return r->mode == LAB_PROTECT && r->eaters[0].adj_fallback;
}
