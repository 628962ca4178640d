#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/fmt.h"
#include "../base/json.h"
#include "../base/limits.h"
#include "../base/opt.h"
#include "../base/table.h"
#include "../model/cgpath.h"
#include "../model/identity.h"
#include "../model/kver.h"
#include "../model/oomlog.h"
#include "explain-int.h"

static bool same_domain(const struct oom_event *a, const struct oom_event *b)
{
    /* a report cut down to its header or kill line says nothing against it */
    if (a->scope == OOM_SCOPE_UNKNOWN || b->scope == OOM_SCOPE_UNKNOWN)
        return true;
    if (a->scope != b->scope)
        return false;
    if (a->scope == OOM_SCOPE_MEMCG && a->oom_memcg && b->oom_memcg && !b->scope_inherited)
        return strcmp(a->oom_memcg, b->oom_memcg) == 0;
    return true;
}

static uint64_t freed_kb(const struct oom_victim *v)
{
    uint64_t k = 0;
    if (opt_has(v->anon_rss_kb))
        k += v->anon_rss_kb;
    if (opt_has(v->shmem_rss_kb))
        k += v->shmem_rss_kb;
    return k;
}

int explain_cascades(const struct oom_event *ev, size_t n, struct cascade **ret, size_t *nret)
{
    *ret = NULL;
    *nret = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < n) {
        const struct oom_victim *v = oom_event_primary(&ev[i]);
        if (!v || v->kind == OOM_VICTIM_EXITING || !opt_has(v->uptime_us)) {
            i++;
            continue;
        }
        size_t j = i;
        uint64_t prev = v->uptime_us;
        while (j + 1 < n) {
            const struct oom_victim *w = oom_event_primary(&ev[j + 1]);
            if (!w || w->kind == OOM_VICTIM_EXITING || !opt_has(w->uptime_us) ||
                w->uptime_us < prev || w->uptime_us - prev > EXPLAIN_CASCADE_GAP_US ||
                !same_domain(&ev[i], &ev[j + 1]))
                break;
            prev = w->uptime_us;
            j++;
        }
        if (j > i) {
            struct cascade c = {.first = i,
                                .last = j,
                                .min_invoker_adj = OPT_ABSENT_I64,
                                .asker_event = SIZE_MAX,
                                .sizes_known = true};
            c.span_us = prev - v->uptime_us;
            for (size_t k = i; k <= j; k++) {
                const struct oom_event *e = &ev[k];
                const struct oom_victim *w = oom_event_primary(e);
                c.kills += 1;
                for (size_t q = 1; q < e->nvictims; q++)
                    c.kills += e->victims[q].kind == OOM_VICTIM_GROUP;
                int64_t adj = opt_has_i64(w->oom_score_adj) ? w->oom_score_adj
                              : w->has_row                  ? w->row.oom_score_adj
                                                            : OPT_ABSENT_I64;
                if (opt_has_i64(adj) && adj > 0)
                    c.positive_adj++;
                if (!opt_has(w->anon_rss_kb))
                    c.sizes_known = false;
                if (k < j && freed_kb(w) > c.max_freed_kb)
                    c.max_freed_kb = freed_kb(w);
                if (k == j)
                    c.last_freed_kb = freed_kb(w);
                if (e->header && opt_has_i64(e->invoker_oom_score_adj) &&
                    (!opt_has_i64(c.min_invoker_adj) ||
                     e->invoker_oom_score_adj < c.min_invoker_adj))
                    c.min_invoker_adj = e->invoker_oom_score_adj;
                if (e->header && opt_has_i64(e->invoker_oom_score_adj) && e->has_invoker_row &&
                    opt_has(e->invoker_row.rss) &&
                    (c.asker_event == SIZE_MAX ||
                     e->invoker_row.rss > ev[c.asker_event].invoker_row.rss))
                    c.asker_event = k;
            }
            if (*nret == cap) {
                cap = cap ? cap * 2 : 4;
                struct cascade *nc = realloc(*ret, cap * sizeof(*nc));
                if (!nc) {
                    free(*ret);
                    *ret = NULL;
                    *nret = 0;
                    return -ENOMEM;
                }
                *ret = nc;
            }
            (*ret)[(*nret)++] = c;
        }
        i = j + 1;
    }
    return 0;
}

/* a round size above x: "2 MiB" for 1.7 MiB */
static const char *under_str(char out[24], uint64_t kb)
{
    uint64_t step = 1;
    while (step < (1ull << 50) && step * 2 <= kb + 1)
        step *= 2;
    uint64_t up = step <= kb ? step * 2 : step;
    if (up < 4)
        up = 4;
    return fmt_size_long(out, up * 1024);
}

/* The OOM domain's size in kB as the report shows it (the memcg's limit, the machine's RAM),
 * OPT_ABSENT when it does not. */
static uint64_t domain_kb(const struct oom_event *e)
{
    if (e->scope == OOM_SCOPE_MEMCG)
        return e->mem.limit_kb;
    if (e->scope == OOM_SCOPE_GLOBAL && opt_has(e->ram_pages) && opt_has(e->page_kb)) {
        uint64_t res =
            opt_has(e->reserved_pages) && e->reserved_pages <= e->ram_pages ? e->reserved_pages : 0;
        return (e->ram_pages - res) * e->page_kb;
    }
    return OPT_ABSENT;
}

int explain_cascade_text(const struct oom_event *ev, const struct cascade *c, struct buf *b)
{
    struct out o = {.b = b};
    char a[24], d[24], s[24], pg[40];
    const struct oom_event *first = &ev[c->first];
    const struct oom_victim *last = oom_event_primary(&ev[c->last]);
    put(&o, "%zu kills in %s", c->kills, fmt_duration(d, (double)c->span_us / 1e6));
    if (first->scope == OOM_SCOPE_MEMCG && first->oom_memcg) {
        put(&o, " in ");
        put_text(&o, first->oom_memcg);
    } else if (first->scope == OOM_SCOPE_GLOBAL) {
        put(&o, " (whole machine)");
    }
    size_t n = c->last - c->first + 1;
    /* "Small" is relative to what ran out: 21 MiB of a 48 MiB memcg is not (the VM's second-kill
     * race, corpus 056: the allocator outran the victim's uncharge); of 295 MiB of RAM it is */
    uint64_t dom = domain_kb(first);
    bool small = c->max_freed_kb < 64 * 1024 && (!opt_has(dom) || c->max_freed_kb * 8 < dom);
    if (n > 1 && c->sizes_known && small) {
        if (n == 2)
            put(&o, ": the first freed under %s", under_str(a, c->max_freed_kb));
        else
            put(&o, ": each of the first %zu freed under %s", n - 1, under_str(a, c->max_freed_kb));
        if (c->positive_adj)
            put(&o, " because positive oom_score_adj picked tiny processes first");
        else
            put(&o, ", so the killer fired again");
        if (c->last_freed_kb >= 2 * c->max_freed_kb && c->last_freed_kb >= 16 * 1024) {
            put(&o, "; memory came back only when ");
            put_text(&o, last->comm);
            put(&o, " (%s) was killed", kb_str(s, c->last_freed_kb));
        } else {
            put(&o,
                "; the last kill freed %s too: whatever holds the memory was never chosen "
                "(oom_score_adj -1000 or strongly negative, or kernel memory)",
                kb_str(s, c->last_freed_kb));
        }
    } else {
        put(&o, ": the killer fired again after each kill");
    }
    /* Only the asker that holds the memory explains why the others went first: in the VM's
     * node-crash cascade (corpus 055) a busybox sh at -1000, forking, invoked two of the OOMs
     * the -997 pod caused. Without task-table rows the lowest adj of any asker is all we have. */
    if (c->asker_event != SIZE_MAX) {
        const struct oom_event *a_ev = &ev[c->asker_event];
        if (a_ev->invoker_oom_score_adj < -500) {
            put(&o, "; the task asking for memory, ");
            put_text(&o, a_ev->invoker_comm[0] ? a_ev->invoker_comm : "(no name)");
            put(&o,
                " (pid %" PRId64 ", %s), ran at oom_score_adj %" PRId64
                ", so the killer took the others first",
                a_ev->invoker_pid, pages_str(pg, a_ev, a_ev->invoker_row.rss),
                a_ev->invoker_oom_score_adj);
        }
    } else if (opt_has_i64(c->min_invoker_adj) && c->min_invoker_adj < -500) {
        put(&o,
            "; a task asking for memory ran at oom_score_adj %" PRId64 ", so the killer took "
            "the others first",
            c->min_invoker_adj);
    }
    put(&o, ".\n");
    return o.err;
}
