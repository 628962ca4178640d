/*
 * The words for kernel OOM reports: for each event, when it happened, which limit was hit
 * (a memory cgroup's, the whole machine's, a cpuset's or a memory policy's), who asked and who
 * died and why that one (its badness inputs, an oom_score_adj that decided it), what kind of
 * memory it held, whether the reaper got it back, group kills and the workload; across events,
 * cascades (the killer firing again and again because each kill freed too little).
 *
 * Only what the report shows is stated; what it cannot show is said to be unknown.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/log/oomlog.h"

struct buf;
struct json;
struct podnames;

/* Consecutive kills of one OOM domain, each within EXPLAIN_CASCADE_GAP_US of the previous. */
#define EXPLAIN_CASCADE_GAP_US (10ull * 1000000)
#define EXPLAIN_CASCADE_NAMES 8

/* A cascade holds what its words need, so the events themselves need not be kept (explain
 * streams a big log through a cascade_tracker). */
struct cascade {
    size_t first, last;      /* event numbers (inclusive), counted from 0 */
    size_t kills;            /* victims killed (an oom.group kill counts once per process) */
    uint64_t span_us;        /* first kill to last kill */
    uint64_t max_freed_kb;   /* largest anon+shmem resident of a victim, except the last */
    uint64_t last_freed_kb;  /* the last victim's */
    size_t positive_adj;     /* victims with oom_score_adj > 0 */
    int64_t min_invoker_adj; /* lowest oom_score_adj among the tasks that asked */
    bool sizes_known;        /* every kill line printed the victim's memory */
    enum oom_scope scope;    /* of the first event */
    char oom_memcg[512];     /* the first event's, "" when not shown */
    uint64_t domain_kb;      /* the memcg's limit or the machine's RAM, OPT_ABSENT */
    char last_comm[OOMLOG_NAME_MAX];
    /* the task asking for memory that holds the most of it (its task-table row): the one
     * growing, not a bystander whose fork or page fault happened to find no memory */
    bool asker;
    char asker_comm[OOMLOG_NAME_MAX];
    int64_t asker_pid, asker_adj;
    uint64_t asker_kb;
    /* victims that are node-critical daemons (doctor's list; not in a workload's cgroup) */
    size_t critical_kills;
    size_t ncritical;
    char critical[EXPLAIN_CASCADE_NAMES][OOMLOG_NAME_MAX];
    /* the largest task at a strongly negative oom_score_adj in the cascade's task tables:
     * what a machine-wide OOM, which ranks processes and not cgroups, spared */
    bool spared;
    char spared_comm[OOMLOG_NAME_MAX];
    int64_t spared_pid, spared_adj;
    uint64_t spared_kb;
    bool spared_killed;     /* it was killed in the end, after the others */
    char spared_workload[512]; /* its cgroup's workload when a kill line of it says, else "" */
};

/* Finds cascades in a stream of events (fed in order, each once). */
struct cascade_tracker {
    const struct podnames *names; /* to name the spared workload's pod; NULL: none */
    struct cascade cur;
    size_t nseen;     /* events fed: the index in events[] (userspace killers' kills are not) */
    size_t nrun;      /* events in the current run */
    uint64_t prev_us; /* the last kill's uptime in the run */
    struct cascade *done;
    size_t ndone, cap;
};

void cascade_tracker_init(struct cascade_tracker *t, const struct podnames *names);
int cascade_tracker_add(struct cascade_tracker *t, const struct oom_event *e);
/* Ends the open run; t->done[0..ndone) are the cascades found. */
int cascade_tracker_end(struct cascade_tracker *t);
void cascade_tracker_release(struct cascade_tracker *t);

/* Finds the cascades among events[0..n). *ret is malloc'd (NULL when none). */
int explain_cascades(const struct oom_event *events, size_t n, const struct podnames *names,
                     struct cascade **ret, size_t *nret);
/* One or two sentences about a cascade. */
int explain_cascade_text(const struct cascade *c, struct buf *out);
/* The cascade as a JSON object (docs/json/explain.md) */
int explain_cascade_json(const struct cascade *c, struct json *j);

struct explain_style {
    bool color;
    /* this machine's boot time, to give /dev/kmsg events (which carry only an uptime) an
     * approximate wall-clock time; 0 when the events come from elsewhere */
    double boot_wall;
    /* the pods' and containers' names (model/workload/podnames.h) as they are now: a workload
     * still there is named; NULL or an empty table names none */
    const struct podnames *names;
};

/* The block of text for one event (several lines, each ending in '\n'). `index`/`total` number
 * the title ("OOM kill 2 of 5"); index 0 leaves it unnumbered. */
int explain_event_text(const struct oom_event *e, size_t index, size_t total,
                       const struct explain_style *style, struct buf *out);

/*
 * The event in one line, for lists (status, doctor): where ("machine-wide", "memory cgroup
 * /path", ...), who died with what memory and oom_score_adj, and how many died with it through
 * memory.oom.group. No time (the caller knows how it wants it) and no newline. `short_paths`
 * shortens cgroup paths to their last component (cgpath_short()), or a named pod's
 * "namespace/pod/container", and oom_score_adj to "adj", for one screen; without it a named
 * pod follows its path in parentheses. `names` may be NULL.
 */
int explain_event_line(const struct oom_event *e, const struct podnames *names, bool short_paths,
                       struct buf *out);

/* "kernel", "systemd-oomd", "earlyoom"; NULL when the text does not say */
const char *explain_killer_name(const struct oom_event *e);
/* The event as a JSON object of events[] (docs/json/explain.md), its "explanation" the plain
 * text; `names` (may be NULL) names its identity. Not for a userspace killer's kill
 * (oom_event_userspace_kill()): that is an object of userspace_kills[], below. */
int explain_event_json(const struct oom_event *e, const struct podnames *names, struct json *j);
/* A kill by systemd-oomd or earlyoom as an object of userspace_kills[] (docs/json/explain.md). */
int explain_userspace_kill_json(const struct oom_event *e, struct json *j);
