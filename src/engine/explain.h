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

struct buf;
struct json;
struct oom_event;

/* Consecutive kills of one OOM domain, each within EXPLAIN_CASCADE_GAP_US of the previous. */
#define EXPLAIN_CASCADE_GAP_US (10ull * 1000000)

struct cascade {
    size_t first, last;      /* event indices (inclusive) */
    size_t kills;            /* victims killed (an oom.group kill counts once per process) */
    uint64_t span_us;        /* first kill to last kill, OPT_ABSENT without stamps */
    uint64_t max_freed_kb;   /* largest anon+shmem resident of a victim, except the last */
    uint64_t last_freed_kb;  /* the last victim's */
    size_t positive_adj;     /* victims with oom_score_adj > 0 */
    int64_t min_invoker_adj; /* lowest oom_score_adj among the tasks that asked */
    /* the event whose asking task holds the most memory (its task-table row): the one growing,
     * not a bystander whose fork or page fault happened to find no memory; SIZE_MAX when no
     * asker has a row */
    size_t asker_event;
    bool sizes_known; /* every kill line printed the victim's memory */
};

/* Finds the cascades among events[0..n). *ret is malloc'd (NULL when none). */
int explain_cascades(const struct oom_event *events, size_t n, struct cascade **ret, size_t *nret);
/* One or two sentences about a cascade. */
int explain_cascade_text(const struct oom_event *events, const struct cascade *c, struct buf *out);

struct explain_style {
    bool color;
    /* this machine's boot time, to give /dev/kmsg events (which carry only an uptime) an
     * approximate wall-clock time; 0 when the events come from elsewhere */
    double boot_wall;
};

/* The block of text for one event (several lines, each ending in '\n'). `index`/`total` number
 * the title ("OOM kill 2 of 5"); index 0 leaves it unnumbered. */
int explain_event_text(const struct oom_event *e, size_t index, size_t total,
                       const struct explain_style *style, struct buf *out);

/*
 * The event in one line, for lists (status, doctor): where ("machine-wide", "memory cgroup
 * /path", ...), who died with what memory and oom_score_adj, and how many died with it through
 * memory.oom.group. No time (the caller knows how it wants it) and no newline. `short_paths`
 * shortens cgroup paths to their last component (cgpath_short()) and oom_score_adj to "adj",
 * for one screen.
 */
int explain_event_line(const struct oom_event *e, bool short_paths, struct buf *out);

/* The event as a JSON object (docs/json/explain.md), its "explanation" the plain text. */
int explain_event_json(const struct oom_event *e, struct json *j);
