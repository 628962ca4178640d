#include "cgobserve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/opt.h"
#include "cgoutlook.h"
#include "cgroup.h"
#include "model/pressure/psilevel.h"
#include "model/pressure/workingset.h"

static int add(struct cgobserve *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct cgobserve *o, const char *fmt, ...)
{
    if (o->n >= CGOBSERVE_MAX)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    o->v[o->n++] = s;
    return 0;
}


static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static bool has(uint64_t v)
{
    return opt_has(v);
}

/* Where the memory is: page cache, its reclaimable part, shmem, kernel memory. */
static int where(const struct cgroup_memory *cg, bool limited, struct cgobserve *o)
{
    const struct cgroup_memstat *s = &cg->stat;
    uint64_t use = cg->current;
    char a[24], b[24], c[24];
    int r = 0;
    if (has(use) && use > 0 && has(s->file) && s->file > 0 && fmt_percent(s->file, use) >= 10) {
        char tail[160] = "";
        if (has(s->inactive_file) && has(s->active_file))
            snprintf(tail, sizeof(tail), "; %s inactive, %s active: reclaim takes both, inactive "
                                         "first",
                     fmt_size_long(b, s->inactive_file), fmt_size_long(c, s->active_file));
        r = add(o, "page cache is %u%% of usage (%s) and %s%s", fmt_percent(s->file, use),
                fmt_size_long(a, s->file),
                limited ? "counts toward the limit" : "is charged to this cgroup", tail);
        if (r == 0 && has(s->shmem) && s->shmem > 0 && fmt_percent(s->shmem, s->file) >= 5)
            r = add(o,
                    "%s of the page cache is shmem/tmpfs, which reclaim cannot drop without swap",
                    fmt_size_long(c, s->shmem));
    }
    uint64_t kernel = cgroup_kernel(cg);
    if (r == 0 && has(use) && use > 0 && has(kernel) && fmt_percent(kernel, use) >= 25)
        r = add(o,
                "kernel memory (slab, stacks, page tables...) is %u%% of usage (%s): "
                "process RSS does not show it",
                fmt_percent(kernel, use), fmt_size_long(a, kernel));
    return r;
}

/* The confidence of an outlook, in words: what could make it wrong. */
static void confidence_words(const struct cgroup_outlook *ol, char *out, size_t n)
{
    char a[24], b[24];
    if (ol->confidence == CONFIDENCE_HIGH) {
        snprintf(out, n, "confidence high");
        return;
    }
    char why[192] = "";
    size_t k = 0;
    if (ol->unsure & (UNSURE_MAPPED | UNSURE_DIRTY | UNSURE_SLAB))
        k += (size_t)snprintf(why + k, sizeof(why) - k,
                              "%s of mapped or dirty page cache and reclaimable slab may go too",
                              fmt_size_long(a, ol->maybe));
    if (ol->unsure & UNSURE_SWAP)
        snprintf(why + k, sizeof(why) - k, "%s%s of it is anon that must go to swap first",
                 k ? "; " : "", fmt_size_long(b, ol->to_swap));
    snprintf(out, n, "confidence %s: %s", outlook_confidence_name(ol->confidence), why);
}

/* What the next growth runs into, from what reclaim can really take. */
static int outlook(const struct cgroup_memory *cg, const struct cgroup_binding *bd,
                   const struct cgroup_outlook *ol, struct cgobserve *o)
{
    if (!ol || ol->verdict == OUTLOOK_UNKNOWN || ol->verdict == OUTLOOK_NO_LIMIT)
        return 0;
    char a[24], b[24], c[24], conf[256];
    confidence_words(ol, conf, sizeof(conf));
    bool self = strcmp(bd->from, cg->path) == 0;
    const char *who = self ? "it" : bd->from;
    const char *end = cg->oom_control.oom_kill_disable == 1 ? "a hang (oom_kill_disable)"
                                                              : "an OOM kill";
    char takes[192];
    size_t k = 0;
    if (ol->file_free)
        k = (size_t)snprintf(takes, sizeof(takes),
                             "%s of page cache reclaim can drop (active pages too; not mapped, "
                             "dirty or under writeback)",
                             fmt_size_long(b, ol->file_free));
    else
        k = (size_t)snprintf(takes, sizeof(takes),
                             "no page cache reclaim can drop (none that is not mapped, dirty or "
                             "under writeback)");
    if (ol->to_swap && k < sizeof(takes))
        snprintf(takes + k, sizeof(takes) - k, ", %s of anon to swap",
                 fmt_size_long(c, ol->to_swap));
    if (ol->verdict == OUTLOOK_OOM_NEXT)
        return add(o, "%s%sthe next growth ends in %s: %s left under the limit, %s (%s)",
                   self ? "" : bd->from, self ? "" : ": ", end, fmt_size_long(a, ol->headroom),
                   takes, conf);
    char d[24];
    return add(o, "%s can grow by %s before the kernel OOM-kills: %s left under the limit, %s (%s)",
               who, fmt_size_long(a, ol->room), fmt_size_long(d, ol->headroom), takes, conf);
}

static int limits(const struct cgroup_memory *cg, const struct cgroup_binding *bd,
                  const struct cgroup_outlook *ol, struct cgobserve *o)
{
    char a[24], b[24];
    int r = 0;
    bool own = cgroup_limit_set(cg->max);
    const char *maxname = cgroup_limit_file(cg->version);
    if (!bd->from)
        return add(o, "no memory limit here or above: only a machine-wide OOM can kill these "
                      "processes");
    bool self = strcmp(bd->from, cg->path) == 0;
    if (!self)
        r = add(o, "%s%s's %s (%s, %s left) binds it: the OOM would be that cgroup's",
                own ? "its own limit is not the tightest: " : "no limit of its own: ", bd->from,
                maxname, fmt_size_long(a, bd->limit), fmt_size_long(b, bd->headroom));
    uint64_t use = cg->current;
    if (r == 0 && self && has(use) && fmt_percent(use, bd->limit) >= 90)
        r = add(o, "usage is %u%% of the limit: %s left", fmt_percent(use, bd->limit),
                fmt_size_long(a, bd->headroom));
    if (r == 0)
        r = outlook(cg, bd, ol, o);
    if (r == 0 && own) {
        if (cg->version == 2 && !cgroup_limit_set(cg->high))
            r = add(o, "memory.high is not set: there is no soft back-pressure before the hard "
                       "limit");
        else if (cg->version == 1)
            r = add(o, "cgroup v1 has no memory.high: nothing throttles before the hard limit");
    }
    return r;
}

static int events(const struct cgroup_memory *cg, struct cgobserve *o)
{
    const struct cgroup_events *e = &cg->events;
    int r = 0;
    char parts[3][96];
    size_t np = 0;
    if (cg->version == 2 && has(e->max) && e->max > 0)
        snprintf(parts[np++], sizeof(parts[0]), "%llu %s at memory.max", (unsigned long long)e->max,
                 plural(e->max, "time", "times"));
    if (cg->version == 1 && has(e->max) && e->max > 0)
        snprintf(parts[np++], sizeof(parts[0]), "%llu failed %s at the limit (failcnt)",
                 (unsigned long long)e->max, plural(e->max, "charge", "charges"));
    if (has(e->oom_kill) && e->oom_kill > 0)
        snprintf(parts[np++], sizeof(parts[0]), "%llu OOM %s", (unsigned long long)e->oom_kill,
                 plural(e->oom_kill, "kill", "kills"));
    if (has(e->oom_group_kill) && e->oom_group_kill > 0)
        snprintf(parts[np++], sizeof(parts[0]), "%llu oom.group %s",
                 (unsigned long long)e->oom_group_kill, plural(e->oom_group_kill, "kill", "kills"));
    bool own = cgroup_limit_set(cg->max);
    if (np == 0 && own && has(e->max) && has(e->oom_kill))
        r = add(o, "never at its limit since it was created (%s 0, oom_kill 0)",
                cg->version == 2 ? "max" : "failcnt");
    else if (np == 1)
        r = add(o, "%s", parts[0]);
    else if (np == 2)
        r = add(o, "%s, %s", parts[0], parts[1]);
    else if (np == 3)
        r = add(o, "%s, %s, %s", parts[0], parts[1], parts[2]);
    if (r == 0 && cg->version == 2 && has(e->high) && e->high > 0)
        r = add(o, "throttled at memory.high %llu %s", (unsigned long long)e->high,
                plural(e->high, "time", "times"));
    if (r == 0 && cg->oom_control.oom_kill_disable == 1)
        r = add(o, "the OOM killer is disabled here (oom_kill_disable): at the limit, tasks hang "
                   "instead of dying");
    if (r == 0 && cg->oom_control.under_oom == 1)
        r = add(o, "under OOM right now (under_oom 1)");
    return r;
}

/* Refaults against the page cache, with PSI: whether the working set fits. */
static int refaults(const struct cgroup_memory *cg, const struct workingset *ws,
                    const struct cgroup_outlook *ol, struct cgobserve *o)
{
    if (!ws || !ws->measured)
        return 0;
    char a[24], b[24], d[24], e[24], stall[96] = "";
    if (cg->has_psi && cg->psi.some.present)
        snprintf(stall, sizeof(stall), "; tasks waited for memory %llu.%02llu%% of the last 10 s "
                                       "(PSI some avg10)",
                 (unsigned long long)(cg->psi.some.avg10 / 100),
                 (unsigned long long)(cg->psi.some.avg10 % 100));
    const char *rate = fmt_size_long(a, (uint64_t)ws->bytes_per_s);
    if (ws->level == THRASH_THRASHING)
        return add(o,
                   "the cache is being re-read as fast as it is dropped: the working set does not "
                   "fit (%s/s of page cache read again after reclaim, all %s of it every %s; "
                   "measured over %s)%s",
                   rate, fmt_size_long(b, ws->cache), fmt_duration(d, ws->turnover_s),
                   fmt_duration(e, ws->interval_s), stall);
    if (ws->level == THRASH_REREADING)
        return add(o,
                   "page cache comes back after reclaim: %s/s read again, all %s of it every %s "
                   "(measured over %s)%s",
                   rate, fmt_size_long(b, ws->cache), fmt_duration(d, ws->turnover_s),
                   fmt_duration(e, ws->interval_s), stall);
    /* a quiet cache matters where the limit is near: the room above is real */
    if (ol && (ol->verdict == OUTLOOK_TIGHT || ol->verdict == OUTLOOK_OOM_NEXT))
        return add(o, "the page cache is not re-read after reclaim (%llu pages in %s): what "
                      "reclaim drops is not in use",
                   (unsigned long long)ws->refaults, fmt_duration(d, ws->interval_s));
    return 0;
}

static int pressure(const struct cgroup_memory *cg, struct cgobserve *o)
{
    if (!cg->has_psi)
        return 0;
    enum psi_level l = psi_level_of(&cg->psi);
    if (l == PSI_HEALTHY)
        return 0;
    char w[128];
    return add(o, "memory pressure is %s (%% avg10 avg60 avg300: %s): %s", psi_level_name(l),
               psi_words(&cg->psi, w, sizeof(w)), psi_level_rule(l));
}

/* memory.oom.group: who an OOM kill of one of its processes takes (mem_cgroup_get_oom_group()):
 * every member but those at oom_score_adj -1000, which oom_kill_memcg_member() skips (4.19+; the
 * VM's oom-group scenario has one that lives on). */
static int group(const struct cgroup_memory *cg, const char *group_top, struct cgobserve *o)
{
    if (!group_top)
        return 0;
    if (strcmp(group_top, cg->path) == 0)
        return add(o, "memory.oom.group is set: an OOM kill of one of its processes kills every "
                      "process of this cgroup but those at oom_score_adj -1000");
    return add(o,
               "memory.oom.group is set on %s: an OOM kill of one of its processes kills every "
               "process of that cgroup but those at oom_score_adj -1000",
               group_top);
}

/* v1 root: mem_cgroup_usage() sums the file and anon counters instead of the page counter. */
static int v1_root(const struct cgroup_memory *cg, struct cgobserve *o)
{
    if (cg->version != 1 || strcmp(cg->path, "/") != 0)
        return 0;
    return add(o, "on cgroup v1 the root's usage_in_bytes is page cache + anon only: kernel memory "
                  "is not in it");
}

int cgobserve_make(const struct cgroup_memory *cg, const struct cgroup_binding *b,
                   const char *group_top, const struct cgroup_outlook *ol,
                   const struct workingset *ws, struct cgobserve *ret)
{
    struct cgobserve o = {0};
    int r = where(cg, b->from != NULL, &o);
    if (r == 0)
        r = v1_root(cg, &o);
    if (r == 0)
        r = limits(cg, b, ol, &o);
    if (r == 0)
        r = refaults(cg, ws, ol, &o);
    if (r == 0)
        r = events(cg, &o);
    if (r == 0)
        r = group(cg, group_top, &o);
    if (r == 0)
        r = pressure(cg, &o);
    if (r < 0) {
        cgobserve_release(&o);
        return r;
    }
    *ret = o;
    return 0;
}

void cgobserve_release(struct cgobserve *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i]);
    o->n = 0;
}
