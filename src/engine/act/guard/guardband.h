/*
 * The guard band (cgroup v2): for each cgroup the guard watches, memory.high a band below
 * memory.max, unless something lower is set already. Past memory.high the kernel reclaims and
 * then throttles the allocating task on its way back to user space (6.1 mm/memcontrol.c,
 * mem_cgroup_handle_over_high: a sleep that grows with the square of the overage, up to 2 s per
 * charge batch), so a task growing as fast as it can fault slows down short of the limit and the
 * guard has milliseconds to seconds to decide instead of microseconds. The price: a legitimate
 * burst into the band is slowed too (and its page cache reclaimed), not killed.
 *
 * What was there before is put back when the agent stops, when the band is turned off or the
 * cgroup is no longer watched (reload), and by the next agent after a crash: every value the
 * guard writes is recorded in <root>/run/oomwarden/guard-band (model/cgroup/band.h) before the
 * write. A value someone else wrote since is theirs: a lower one is left alone and forgotten, a
 * higher one (systemd re-applying a unit's MemoryHigh=max on daemon-reload) gets the band again.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "model/cgroup/band.h"

struct sysroot;
struct cgroup_hier;

/* ---- the arithmetic (pure) ------------------------------------------------------------------ */

enum band_action {
    BAND_NOTHING, /* no band wanted, or the user's value is at or below the band */
    BAND_KEEP,    /* ours, and still what it should be */
    BAND_SET,     /* write `write`, record {set, previous} */
    BAND_RESTORE, /* write `write` (the previous value), drop the record */
    BAND_FORGET,  /* someone else changed it to something lower: theirs; drop the record */
};
const char *band_action_name(enum band_action a);

struct band_step {
    enum band_action action;
    uint64_t write;    /* BAND_SET, BAND_RESTORE: the value to write (CGROUP_UNLIMITED: "max") */
    uint64_t set;      /* BAND_SET, BAND_KEEP: the record afterwards */
    uint64_t previous;
};

/*
 * The memory.high the band asks for: memory.max minus `band_bytes`, rounded down to a page (the
 * kernel keeps memory.high in pages, so that is what reads back). 0 when there is no band: no
 * limit, a band of 0, or a band as large as the limit.
 */
uint64_t guard_band_target(uint64_t max, uint64_t band_bytes, long page_size);

/*
 * One cgroup: its memory.max and memory.high now, the record of it (NULL: the guard did not set
 * it), and the band wanted (0: none, the band is off for it). Pure.
 */
void guard_band_plan(uint64_t max, uint64_t high, const struct band_record *rec,
                     uint64_t band_bytes, long page_size, struct band_step *ret);

/* ---- the running band (the agent's guard) --------------------------------------------------- */

struct guard_band;

struct guard_band_sink {
    /* one change as a JSON object (no newline) and as one line of text */
    void (*event)(void *ctx, const char *json, const char *text);
    void *ctx;
};

/*
 * Opens the record left by an earlier agent (a crash leaves memory.high set): those entries are
 * taken over, to be kept or put back by the next guard_band_sync()/guard_band_sweep(). `dry_run`:
 * nothing is written, each change is reported as what would be done. Returns 0 or -ENOMEM
 * (an unreadable record is logged and ignored: it cannot be trusted to restore anything).
 */
int guard_band_open(const struct sysroot *sr, const struct cgroup_hier *h, bool dry_run,
                    const struct guard_band_sink *sink, struct guard_band **ret);
/* The band of one watched cgroup (its open directory), `band_bytes` 0 when it has none: sets,
 * adjusts (memory.max changed), or puts back what was there. */
void guard_band_sync(struct guard_band *b, const char *path, int dirfd, uint64_t band_bytes);
/* Puts back every recorded cgroup for which `keep(ctx, path)` is false (no longer watched, or
 * gone). keep NULL: all of them (the agent stops). */
void guard_band_sweep(struct guard_band *b, bool (*keep)(void *ctx, const char *path), void *ctx);
bool guard_band_dry_run(const struct guard_band *b);
/* Whether the guard set memory.high of `path` (for the trigger's words). */
const struct band_record *guard_band_of(const struct guard_band *b, const char *path);
void guard_band_close(struct guard_band *b);
