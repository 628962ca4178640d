#include "killobs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/opt.h"
#include "model/cgroup/cgroup.h"
#include "oomlog.h"

void oom_observed_release(struct oom_observed *o)
{
    free(o->cgroup);
    free(o->limit_cgroup);
    *o = (struct oom_observed){.oom_kill_before = OPT_ABSENT, .oom_kill_after = OPT_ABSENT,
                               .limit = OPT_ABSENT};
}

bool oom_event_names_cgroup(const struct oom_event *e)
{
    return e->oom_memcg || e->task_memcg;
}

int oom_observed_read_limit(const struct cgroup_hier *h, struct oom_observed *o)
{
    o->limit = OPT_ABSENT;
    free(o->limit_cgroup);
    o->limit_cgroup = NULL;
    struct cgroup_memory self;
    int r = cgroup_read(h, o->cgroup, &self);
    if (r < 0)
        return r;
    struct cgroup_snapshot up = {0};
    r = cgroup_read_ancestors(h, o->cgroup, &up);
    const struct cgroup_memory **chain = r == 0 ? calloc(up.n + 1, sizeof(*chain)) : NULL;
    if (r == 0 && !chain)
        r = -ENOMEM;
    if (r == 0) {
        for (size_t i = 0; i < up.n; i++)
            chain[i] = &up.v[i];
        chain[up.n] = &self;
        struct cgroup_binding b;
        cgroup_binding_of(chain, up.n + 1, &b);
        if (b.from) {
            o->limit_cgroup = strdup(b.from);
            if (!o->limit_cgroup)
                r = -ENOMEM;
            else
                o->limit = b.limit;
        }
    }
    free(chain);
    cgroup_snapshot_release(&up);
    cgroup_memory_release(&self);
    return r == -ENOENT ? -ENOENT : r;
}

static const char *source_name(enum oom_observed_source s)
{
    switch (s) {
    case OOM_OBSERVED_LAB_CGROUP:
        return "lab_cgroup";
    case OOM_OBSERVED_OOM_KILL_COUNTER:
        return "oom_kill_counter";
    case OOM_OBSERVED_NONE:
        break;
    }
    return NULL;
}

static const char *counter_file(int version)
{
    return version == 2 ? "memory.events" : "memory.oom_control";
}

void oom_observed_json(const struct oom_observed *o, bool rate_limited, struct json *j)
{
    if (o->source == OOM_OBSERVED_NONE) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_str(j, "source", source_name(o->source));
    json_kv_str(j, "cgroup", o->cgroup);
    json_kv_str(j, "counter", counter_file(o->version));
    json_kv_u64_opt(j, "oom_kill_before", o->oom_kill_before);
    json_kv_u64_opt(j, "oom_kill_after", o->oom_kill_after);
    json_kv_u64_opt(j, "limit", o->limit);
    json_kv_str(j, "limit_cgroup", o->limit_cgroup);
    json_kv_str(j, "limit_file", o->limit_cgroup ? cgroup_limit_file(o->version) : NULL);
    json_kv_str(j, "report", rate_limited ? "rate_limited" : "not_in_log");
    json_obj_end(j);
}

void oom_observed_text(const struct oom_observed *o, bool rate_limited, struct buf *out)
{
    if (o->source == OOM_OBSERVED_NONE)
        return;
    buf_printf(out, "in %s%s", o->cgroup,
               o->source == OOM_OBSERVED_LAB_CGROUP ? " (the lab's own cgroup" : " (");
    if (opt_has(o->oom_kill_before) && opt_has(o->oom_kill_after))
        buf_printf(out, "%soom_kill %" PRIu64 " -> %" PRIu64 " in %s)",
                   o->source == OOM_OBSERVED_LAB_CGROUP ? "; " : "its ", o->oom_kill_before,
                   o->oom_kill_after, counter_file(o->version));
    else
        buf_puts(out, ")");
    if (opt_has(o->limit) && o->limit_cgroup) {
        char a[24];
        buf_printf(out, ", limit %s (%s of %s)", fmt_size_long(a, o->limit),
                   cgroup_limit_file(o->version), o->limit_cgroup);
    } else {
        buf_puts(out, ", no limit found there");
    }
    buf_printf(out, ": oomwarden's own observation, not the kernel's text (%s)",
               rate_limited ? "the kernel rate-limited this kill's report, which names neither"
                            : "this kill's report is not in the log");
}

/* ---- matching ------------------------------------------------------------------------------ */

void killobs_init(struct killobs *k, int version)
{
    *k = (struct killobs){.version = version};
}

void killobs_release(struct killobs *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].path);
    free(k->v);
    *k = (struct killobs){0};
}

static struct killobs_cg *find(struct killobs *k, const char *path)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].path, path) == 0)
            return &k->v[i];
    return NULL;
}

int killobs_reading(struct killobs *k, const char *path, uint64_t oom_kill, uint64_t now_ms)
{
    if (!opt_has(oom_kill))
        return 0;
    struct killobs_cg *c = find(k, path);
    if (!c) {
        if (ARRAY_GROW(k->v, k->n, k->cap, 64) < 0)
            return -ENOMEM;
        char *p = strdup(path);
        if (!p)
            return -ENOMEM;
        /* the baseline: what happened before we looked is not ours to match */
        k->v[k->n++] = (struct killobs_cg){
            .path = p, .oom_kill = oom_kill, .matched = oom_kill, .seen_gen = k->gen};
        return 0;
    }
    c->seen_gen = k->gen;
    if (oom_kill < c->matched) /* a new cgroup under an old name */
        c->matched = oom_kill;
    if (oom_kill > c->matched && c->oom_kill <= c->matched)
        c->first_ms = now_ms;
    c->oom_kill = oom_kill;
    return 0;
}

static void remove_at(struct killobs *k, size_t i)
{
    free(k->v[i].path);
    k->v[i] = k->v[--k->n];
}

void killobs_forget(struct killobs *k, const char *path)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].path, path) == 0) {
            remove_at(k, i);
            return;
        }
}

void killobs_begin_round(struct killobs *k)
{
    k->gen++;
}

void killobs_end_round(struct killobs *k)
{
    for (size_t i = k->n; i-- > 0;)
        if (k->v[i].seen_gen != k->gen)
            remove_at(k, i);
}

int killobs_walk(struct killobs *k, const struct cgroup_hier *h, uint64_t now_ms)
{
    struct cgroup_snapshot s;
    int r = cgroup_snapshot_read_events(h, NULL, CGROUP_WALK_MAX_DEPTH, &s);
    if (r < 0)
        return r;
    killobs_begin_round(k);
    for (size_t i = 0; i < s.n && r == 0; i++)
        r = killobs_reading(k, s.v[i].path, s.v[i].events.oom_kill, now_ms);
    if (r == 0)
        killobs_end_round(k);
    cgroup_snapshot_release(&s);
    return r;
}

/* `a` is `b` or one of its ancestors */
static bool at_or_above(const char *a, const char *b)
{
    if (strcmp(a, "/") == 0)
        return true;
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static bool pending(const struct killobs_cg *c)
{
    return c->oom_kill > c->matched;
}

/* One kill accounted for in `c` and, where the counters are hierarchical (v2), in every
 * ancestor that moved with it. */
static void take(struct killobs *k, struct killobs_cg *c)
{
    const char *path = c->path;
    for (size_t i = 0; i < k->n; i++) {
        struct killobs_cg *a = &k->v[i];
        if (a == c || (k->version == 2 && at_or_above(a->path, path) && pending(a)))
            if (a->matched < a->oom_kill)
                a->matched++;
    }
}

/* The cgroup a kill without a named cgroup happened in: of those whose counter moved, the
 * oldest movement; on v2 only where nothing moved below (ancestors move with their child; v1
 * counts a kill in the victim's cgroup alone, so there any cgroup that moved had a kill). */
static struct killobs_cg *deepest_pending(struct killobs *k, const char *under)
{
    struct killobs_cg *best = NULL;
    for (size_t i = 0; i < k->n; i++) {
        struct killobs_cg *c = &k->v[i];
        if (!pending(c) || (under && !at_or_above(under, c->path)))
            continue;
        bool leaf = true;
        for (size_t j = 0; j < k->n && leaf && k->version == 2; j++)
            if (j != i && pending(&k->v[j]) && at_or_above(c->path, k->v[j].path))
                leaf = false;
        if (leaf && (!best || c->first_ms < best->first_ms))
            best = c;
    }
    return best;
}

/* The kills the event reports. (6.1 logs and counts an oom.group victim a second time when
 * the group kill comes to it; the parser keeps it once, and the extra movement goes stale.) */
static size_t kills_in(const struct oom_event *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nvictims; i++)
        n += e->victims[i].kind != OOM_VICTIM_EXITING;
    return n;
}

int killobs_match(struct killobs *k, const struct oom_event *e, uint64_t now_ms,
                  struct oom_observed *ret)
{
    *ret = (struct oom_observed){.oom_kill_before = OPT_ABSENT, .oom_kill_after = OPT_ABSENT,
                                 .limit = OPT_ABSENT};
    /* movements nobody claimed for long: their kill lines never reached us */
    for (size_t i = 0; i < k->n; i++)
        if (pending(&k->v[i]) && now_ms - k->v[i].first_ms > KILLOBS_STALE_MS)
            k->v[i].matched = k->v[i].oom_kill;
    size_t kills = kills_in(e);
    if (oom_event_names_cgroup(e)) {
        /* each kill in the victim's cgroup; an oom.group member elsewhere under the group */
        const char *victim = e->task_memcg ? e->task_memcg : e->oom_memcg;
        const char *under = e->group_memcg ? e->group_memcg : e->oom_memcg;
        for (size_t i = 0; i < kills; i++) {
            struct killobs_cg *c = find(k, victim);
            if (!c || !pending(c))
                c = deepest_pending(k, under);
            if (c)
                take(k, c);
        }
        return 0;
    }
    if (kills == 0)
        return 0;
    struct killobs_cg *c = deepest_pending(k, NULL);
    if (!c)
        return 0;
    ret->cgroup = strdup(c->path);
    if (!ret->cgroup)
        return -ENOMEM;
    ret->source = OOM_OBSERVED_OOM_KILL_COUNTER;
    ret->version = k->version;
    ret->oom_kill_before = c->matched;
    ret->oom_kill_after = c->matched + 1;
    take(k, c);
    /* a rate-limited event is one kill; anything else it holds is matched the same way */
    for (size_t i = 1; i < kills; i++) {
        struct killobs_cg *more = deepest_pending(k, NULL);
        if (more)
            take(k, more);
    }
    return 1;
}
