#include "guardthrash.h"

#include <string.h>

#include "base/opt.h"

void thrash_track_reset(struct thrash_track *t)
{
    memset(t, 0, sizeof(*t));
}

static const struct thrash_sample *nth_newest(const struct thrash_track *t, unsigned i)
{
    return &t->hist[(t->n - 1 - i) % THRASH_SAMPLES];
}

/* The newest earlier sample at least a window old that has the refault counter. */
static const struct thrash_sample *reference(const struct thrash_track *t, uint64_t window_ms)
{
    const struct thrash_sample *s = nth_newest(t, 0);
    for (unsigned i = 1; i < t->n && i < THRASH_SAMPLES; i++) {
        const struct thrash_sample *r = nth_newest(t, i);
        if (s->ms - r->ms >= window_ms && opt_has(r->refaults))
            return r;
    }
    return NULL;
}

enum thrash_state thrash_track_add(struct thrash_track *t, const struct thrash_opts *o,
                                   const struct thrash_sample *s, long page_size)
{
    t->measured = false;
    if (!opt_has(s->full_us)) {
        thrash_track_reset(t);
        return THRASH_CLEAR;
    }
    if (t->n) {
        /* a counter that went back is another cgroup of the same name: start over */
        const struct thrash_sample *last = nth_newest(t, 0);
        bool back = s->ms < last->ms || s->full_us < last->full_us ||
                    (opt_has(s->refaults) && opt_has(last->refaults) && s->refaults < last->refaults);
        if (back)
            thrash_track_reset(t);
    }
    t->hist[t->n % THRASH_SAMPLES] = *s;
    t->n++;
    if (t->n >= 2 * THRASH_SAMPLES)
        t->n -= THRASH_SAMPLES; /* the same slots, without overflowing */
    const struct thrash_sample *r = opt_has(s->refaults) ? reference(t, o->window_ms) : NULL;
    if (!r) {
        t->holding = false;
        return THRASH_CLEAR;
    }
    uint64_t span_ms = s->ms - r->ms, full_us = s->full_us - r->full_us;
    uint64_t refaults = s->refaults - r->refaults;
    t->measured = true;
    t->span_ms = span_ms;
    t->full_percent = (unsigned)(full_us / 10 / span_ms); /* µs*100 / (ms*1000) */
    t->refault_bytes_s = refaults * (uint64_t)page_size * 1000 / span_ms;
    /* once crossed, full need only stay at half the line (hysteresis): on 6.1 it falls from
     * 50-80% at the onset to 20-40% while the domain goes on re-reading tens of MiB/s
     * (docs/policy.md, bench/thrash), and a run that had to stay over the onset line was broken
     * by each dip to 47-49% until the kernel's OOM killer came, 9 s later */
    unsigned line = t->holding ? (o->full_percent + 1) / 2 : o->full_percent;
    bool over = full_us / 10 >= span_ms * line && refaults > 0 &&
                t->refault_bytes_s >= o->refault_bytes_s;
    if (!over) {
        t->holding = false;
        return THRASH_CLEAR;
    }
    if (!t->holding) {
        t->holding = true;
        t->since_ms = s->ms;
    }
    return s->ms - t->since_ms >= o->after_ms ? THRASH_SUSTAINED : THRASH_HOLDING;
}

bool thrash_track_due(const struct thrash_track *t, const struct thrash_opts *o, uint64_t ms)
{
    return !t->n || ms - nth_newest(t, 0)->ms >= o->window_ms / 8;
}

/* half the line: the checks speed up and the refaults are read before it is crossed, not after */
static bool warm_between(const struct thrash_sample *a, uint64_t ms, uint64_t full_us,
                         const struct thrash_opts *o)
{
    return ms > a->ms && full_us >= a->full_us &&
           (full_us - a->full_us) / 10 * 2 >= (ms - a->ms) * o->full_percent;
}

bool thrash_track_warm(const struct thrash_track *t, const struct thrash_opts *o)
{
    if (t->holding)
        return true;
    if (t->n < 2)
        return false;
    const struct thrash_sample *b = nth_newest(t, 0);
    return warm_between(nth_newest(t, 1), b->ms, b->full_us, o);
}

bool thrash_track_wants_refaults(const struct thrash_track *t, const struct thrash_opts *o,
                                 uint64_t ms, uint64_t full_us)
{
    if (!opt_has(full_us) || !t->n)
        return false;
    return t->holding || warm_between(nth_newest(t, 0), ms, full_us, o);
}
