/*
 * Thrashing without swap, as a trigger: anon growth has squeezed the page cache until the
 * program text, libraries and file pages a workload runs on are dropped and read back over and
 * over (mm/workingset.c counts each such read as a refault); every task of the domain waits on
 * memory most of the time (PSI `full`), the domain is frozen, and nothing is short enough for the
 * kernel's OOM killer, which acts only when reclaim makes no progress at all: it may take minutes
 * or never come (earlyoom#361, #100; oomd#80: "no action without swap").
 *
 * Both must hold over the same window, and keep holding: full stall alone is also a cgroup held at
 * memory.high or a grower at its limit an instant before the kernel's kill; refaults alone are a
 * cache that does not fit and is read at disk speed by a program that is still running.
 *
 *   full      the PSI `full` total grew by at least `full_percent` of the window's time
 *   refaults  workingset_refault_file grew by at least `refault_bytes_s` per second
 *   window    each measured from the newest sample at least `window_ms` old (samples are taken
 *             every eighth of a window at most, and four times a window while it is warm)
 *   sustained both held at every check for `after_ms`, full at half its line (rounded up)
 *             once the line was crossed: a freeze's full stall falls after its onset, as file
 *             pages that were not active before their eviction are re-read (their waits are
 *             not memory stall: mm/filemap.c, PG_workingset), though the domain stays frozen
 *
 * Pure: the samples are read by guard-thrash.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define THRASH_SAMPLES 32

struct thrash_opts {
    unsigned full_percent;    /* 1..100 */
    uint64_t refault_bytes_s; /* floor of the refault rate */
    uint64_t window_ms, after_ms;
};

/* One reading: cumulative counters, OPT_ABSENT when unread. */
struct thrash_sample {
    uint64_t ms;       /* CLOCK_MONOTONIC */
    uint64_t full_us;  /* PSI full total, µs */
    uint64_t refaults; /* workingset_refault_file, pages */
};

enum thrash_state {
    THRASH_CLEAR,     /* not measured yet, or below either line */
    THRASH_HOLDING,   /* both over their lines, not yet for after_ms */
    THRASH_SUSTAINED, /* both over their lines for after_ms: end it */
};

struct thrash_track {
    struct thrash_sample hist[THRASH_SAMPLES];
    unsigned n;
    bool holding;      /* both over their lines at every check since since_ms (full: half) */
    uint64_t since_ms;
    /* the latest measurement, for the log */
    bool measured;
    uint64_t span_ms;
    unsigned full_percent;   /* of the span, rounded down */
    uint64_t refault_bytes_s;
};

/*
 * Adds a sample and says where the domain stands. A counter that went backwards (the cgroup was
 * made again) or is absent starts the history over. Pure.
 */
enum thrash_state thrash_track_add(struct thrash_track *t, const struct thrash_opts *o,
                                   const struct thrash_sample *s, long page_size);

/* Whether a sample is due at `ms`: an eighth of the window after the newest (the ring then
 * reaches back four windows however often the guard checks: near a limit it checks every
 * min-interval, 10 ms). */
bool thrash_track_due(const struct thrash_track *t, const struct thrash_opts *o, uint64_t ms);

/* Forgets the history: after a kill the next decision needs a full window of its own. */
void thrash_track_reset(struct thrash_track *t);

/* Whether the domain needs the checks at a quarter of the window: it is holding, or its last
 * interval's full stall was at least half the line (cheap to know: the PSI total only). */
bool thrash_track_warm(const struct thrash_track *t, const struct thrash_opts *o);
/* Whether the sample about to be added, with this PSI full total at `ms`, should carry the
 * refault counter (it is the costlier read: memory.stat, /proc/vmstat): as for warm, from the
 * newest sample to this one. */
bool thrash_track_wants_refaults(const struct thrash_track *t, const struct thrash_opts *o,
                                 uint64_t ms, uint64_t full_us);
