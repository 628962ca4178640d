/*
 * Streaming: a big log is read with memory for the events still open to later lines, not for
 * all of them. An event settles when nothing after it can change it any more:
 *   - OOMLOG_SETTLE_BEHIND events have come after it (the reaper's line is looked for that far
 *     back, duplicates that far);
 *   - a kill printed without its report: a later event has a printed report (the "callbacks
 *     suppressed" count that marks it rate-limited comes right before that report), or
 *     OOMLOG_SETTLE_MAX events have come after it;
 *   - its victims' reaper windows are covered by the text, or the text had a gap since, or
 *     OOMLOG_SETTLE_MAX events have come after it.
 * Settled events are handed over in order, once each, after the checks that need the rest of
 * the input (the reaper's absence, duplicates, nothing to report).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oomlog-int.h"

void oomlog_stream(struct oomlog *p, int (*emit)(void *ctx, struct oom_event *e), void *ctx)
{
    p->emit = emit;
    p->emit_ctx = ctx;
}

static bool reaper_settled(const struct oomlog *p, const struct oom_event *e)
{
    for (size_t i = 0; i < e->nvictims; i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->reaped != -1 || !opt_has(v->uptime_us) || v->segment != p->segment)
            continue;
        if (v->segment >= p->segment_cap || !opt_has(p->segment_max[v->segment]) ||
            p->segment_max[v->segment] < v->uptime_us + REAPER_WINDOW_US)
            return false;
    }
    return true;
}

/* events[i] can no longer change (`i` is not the open event); `report` is the last event with a
 * printed report, SIZE_MAX when none */
static bool settled(const struct oomlog *p, size_t i, size_t report)
{
    const struct oom_event *e = &p->events[i];
    size_t behind = p->nevents - 1 - i;
    if (behind < OOMLOG_SETTLE_BEHIND)
        return false;
    if (behind >= OOMLOG_SETTLE_MAX)
        return true;
    if (!reaper_settled(p, e))
        return false;
    return oom_event_report_printed(e) || e->rate_limited || (report != SIZE_MAX && report > i);
}

/* the same kill, handed over already among the last ones */
static bool seen(struct oomlog *p, const struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    if (!v)
        return false;
    for (size_t i = 0; i < p->nrecent; i++)
        if (oom_victim_duplicate(&p->recent[i], v))
            return true;
    p->recent[p->recent_next] = *v;
    p->recent_next = (p->recent_next + 1) % OOMLOG_DUP_WINDOW;
    if (p->nrecent < OOMLOG_DUP_WINDOW)
        p->nrecent++;
    return false;
}

static int hand_over(struct oomlog *p, struct oom_event *e)
{
    oomlog_infer_reaped(p, e);
    if (!oom_event_reportable(e) || seen(p, e)) {
        oom_event_release(e);
        return 0;
    }
    int r = p->emit(p->emit_ctx, e);
    if (r <= 0)
        oom_event_release(e);
    return r < 0 ? r : 0;
}

int oomlog_drain(struct oomlog *p, bool all)
{
    if (!p->emit)
        return 0;
    size_t n = 0, report = SIZE_MAX;
    for (size_t j = p->nevents; j-- > 0 && report == SIZE_MAX;)
        if (oom_event_report_printed(&p->events[j]))
            report = j;
    int r = 0;
    while (n < p->nevents && r == 0 &&
           (all ? !(p->open && n == p->nevents - 1) : settled(p, n, report)))
        r = hand_over(p, &p->events[n++]);
    /* the next try after some more events: each try walks the events kept */
    p->drain_at = p->nevents - n + OOMLOG_SETTLE_BEHIND;
    if (!n)
        return r;
    memmove(p->events, p->events + n, (p->nevents - n) * sizeof(*p->events));
    p->nevents -= n;
    p->source_first = p->source_first > n ? p->source_first - n : 0;
    p->handed_over += n;
    return r;
}
