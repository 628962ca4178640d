/*
 * An OOM kill as oomwarden saw it for itself, for kills whose kernel report does not say where.
 *
 * dump_header() is rate-limited (oom_rs in mm/oom_kill.c: at most 10 reports per 5 s, since
 * 2.6.3x): past that, a kill leaves only its "Killed process" line, which names neither the
 * cgroup nor its limit. A command that was watching has evidence of its own: the lab knows its
 * scratch cgroup; watch and the agent see a cgroup's oom_kill counter move at that moment (v2
 * memory.events, v1 memory.oom_control since 4.13; the kernel counts the kill in the victim's
 * memory cgroup right after printing the kill line, and on v2 in its ancestors too). Then the
 * limit that binds there is read. That evidence is a struct oom_observed, shown with one JSON
 * shape and one sentence wherever it appears, always named as oomwarden's own observation.
 *
 * struct killobs matches counter movements with the kills of the kernel log; it is pure (the
 * caller reads the counters) so that it can be tested without a kernel.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct cgroup_hier;
struct json;
struct oom_event;

/* Counter movements first seen longer ago than this are no longer matched with a kill: the
 * kill line they belonged to was lost (kmsg overrun) or came before we followed the log. */
#define KILLOBS_STALE_MS 10000

enum oom_observed_source {
    OOM_OBSERVED_NONE,
    OOM_OBSERVED_LAB_CGROUP,      /* the lab's own scratch cgroup, where its eater ran */
    OOM_OBSERVED_OOM_KILL_COUNTER /* the cgroup whose oom_kill counter moved */
};

struct oom_observed {
    enum oom_observed_source source;
    char *cgroup;                             /* malloc'd; the victim's memory cgroup */
    int version;                              /* whose counter file: 2 memory.events, 1 oom_control */
    uint64_t oom_kill_before, oom_kill_after; /* that counter around the kill; OPT_ABSENT */
    uint64_t limit;                           /* bytes, the limit that binds there; OPT_ABSENT */
    char *limit_cgroup;                       /* malloc'd; whose limit; NULL without one */
};

void oom_observed_release(struct oom_observed *o);

/* Whether the kernel's own text names the cgroup of the event's kill (oom_memcg or task_memcg,
 * the 5.0+ summary line, or the <= 4.19 "Task in X killed" line). */
bool oom_event_names_cgroup(const struct oom_event *e);

/*
 * Reads the limit that binds o->cgroup now (of it and its ancestors, the one with the least
 * headroom: cgroup_binding_of) into o->limit and o->limit_cgroup. 0, -ENOENT when the cgroup is
 * gone (o->limit stays absent), -ENOMEM.
 */
int oom_observed_read_limit(const struct cgroup_hier *h, struct oom_observed *o);

/* The observation as a JSON value (null when o->source is NONE); `rate_limited`: the kernel's
 * word that it rate-limited the report (explain's oom_event.rate_limited). */
void oom_observed_json(const struct oom_observed *o, bool rate_limited, struct json *j);

/* One sentence, no newline: "in /x (its oom_kill 0 -> 1, memory.oom_control), limit 48 MiB
 * (memory.limit_in_bytes of /x): oomwarden's own observation; the kernel rate-limited its
 * report, which names neither". Nothing when o->source is NONE. */
void oom_observed_text(const struct oom_observed *o, bool rate_limited, struct buf *out);

/* ---- matching counter movements with kills ------------------------------------------------ */

struct killobs_cg {
    char *path;
    uint64_t oom_kill; /* the last reading */
    uint64_t matched;  /* movements up to this value belong to kills already matched */
    uint64_t first_ms; /* when oom_kill was first seen above `matched` */
    uint64_t seen_gen;
};

struct killobs {
    struct killobs_cg *v;
    size_t n, cap;
    int version; /* the memory controller's hierarchy: 1 or 2 */
    uint64_t gen;
};

void killobs_init(struct killobs *k, int version);
void killobs_release(struct killobs *k);

/*
 * A reading of one cgroup's oom_kill counter at now_ms (any monotonic milliseconds). The first
 * reading of a cgroup is its baseline; what it adds later awaits a kill from the kernel log.
 * Returns 0 or -ENOMEM.
 */
int killobs_reading(struct killobs *k, const char *path, uint64_t oom_kill, uint64_t now_ms);
/* The cgroup is gone. */
void killobs_forget(struct killobs *k, const char *path);
/* Starts a round of readings of every cgroup; killobs_end_round() forgets those not read. */
void killobs_begin_round(struct killobs *k);
void killobs_end_round(struct killobs *k);
/* One round over every memory cgroup of the hierarchy (a light walk: the counters only), for
 * a caller that does not follow the cgroups' events itself. 0 or a negative errno. */
int killobs_walk(struct killobs *k, const struct cgroup_hier *h, uint64_t now_ms);

/*
 * An OOM event of the kernel log, after the readings that followed it. A report that names the
 * victim's cgroup takes that cgroup's movements (and, v2, its ancestors'): they are accounted
 * for. A kill whose report does not (rate-limited) takes the oldest movement in the deepest
 * cgroup that moved: that cgroup and its counter go into *ret (limit not read), and the return
 * is 1. 0: the report names the cgroup, or no movement is left that could be this kill (*ret
 * then has source OOM_OBSERVED_NONE). -ENOMEM.
 */
int killobs_match(struct killobs *k, const struct oom_event *e, uint64_t now_ms,
                  struct oom_observed *ret);
