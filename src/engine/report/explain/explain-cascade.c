#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/cgroup/cgpath.h"
#include "model/critical.h"
#include "model/workload/identity.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/workload/podnames.h"
#include "explain-int.h"

/* The next event continues the run when it is of the same OOM domain: a report cut down to its
 * header or kill line says nothing against it. */
static bool same_domain(const struct cascade *c, const struct oom_event *b)
{
    if (c->scope == OOM_SCOPE_UNKNOWN || b->scope == OOM_SCOPE_UNKNOWN)
        return true;
    if (c->scope != b->scope)
        return false;
    if (c->scope == OOM_SCOPE_MEMCG && c->oom_memcg[0] && b->oom_memcg && !b->scope_inherited)
        return strcmp(c->oom_memcg, b->oom_memcg) == 0;
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

/* A kill that can start or go on with a run: a victim killed, with a stamp */
static const struct oom_victim *timed_kill(const struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    return v && v->kind != OOM_VICTIM_EXITING && opt_has(v->uptime_us) ? v : NULL;
}

static void start_run(struct cascade_tracker *t, const struct oom_event *e, uint64_t us)
{
    struct cascade *c = &t->cur;
    memset(c, 0, sizeof(*c));
    c->first = c->last = t->nseen;
    c->min_invoker_adj = OPT_ABSENT_I64;
    c->sizes_known = true;
    c->scope = e->scope;
    if (e->oom_memcg)
        snprintf(c->oom_memcg, sizeof(c->oom_memcg), "%s", e->oom_memcg);
    c->domain_kb = domain_kb(e);
    t->nrun = 0;
    t->prev_us = us;
}

/* The node-critical daemons among an event's victims (critical.h's classification: not in a
 * workload's cgroup, when the report names the victim's). */
static void note_critical(struct cascade *c, const struct oom_event *e)
{
    for (size_t i = 0; i < e->nvictims; i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->kind == OOM_VICTIM_EXITING ||
            critical_classify(v->comm, e->task_memcg, NULL, NULL, 0) != PROC_CLASS_CRITICAL)
            continue;
        c->critical_kills++;
        bool listed = false;
        for (size_t k = 0; k < c->ncritical && !listed; k++)
            listed = !strcmp(c->critical[k], v->comm);
        if (!listed && c->ncritical < EXPLAIN_CASCADE_NAMES)
            snprintf(c->critical[c->ncritical++], OOMLOG_NAME_MAX, "%s", v->comm);
    }
}

/* The largest task at oom_score_adj -500 or lower in the event's table, and whether the event
 * killed it. */
static void note_spared(struct cascade *c, const struct oom_event *e,
                        const struct podnames *names)
{
    for (size_t i = 0; i < e->nrows; i++) {
        const struct oom_task *r = &e->rows[i];
        if (!opt_has(r->rss) || !opt_has_i64(r->oom_score_adj) || r->oom_score_adj > -500 ||
            !opt_has(e->page_kb))
            continue;
        uint64_t kb = r->rss * e->page_kb;
        if (c->spared && kb <= c->spared_kb)
            continue;
        if (!c->spared || r->pid != c->spared_pid)
            c->spared_killed = false;
        c->spared = true;
        c->spared_pid = r->pid;
        c->spared_adj = r->oom_score_adj;
        c->spared_kb = kb;
        snprintf(c->spared_comm, sizeof(c->spared_comm), "%s", r->name);
    }
    for (size_t i = 0; c->spared && i < e->nvictims; i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->pid != c->spared_pid || v->kind == OOM_VICTIM_EXITING)
            continue;
        c->spared_killed = true;
        struct buf d = BUF_INIT(1024);
        struct identity id;
        if (e->task_memcg) {
            podnames_identity(names, e->task_memcg, &id);
            if (identity_describe(&id, &d) == 0 && d.len)
                snprintf(c->spared_workload, sizeof(c->spared_workload), "%s", buf_cstr(&d));
        }
        buf_release(&d);
    }
}

static void add_to_run(struct cascade *c, const struct podnames *names, const struct oom_event *e,
                       const struct oom_victim *w,
                       uint64_t prev_freed, bool first)
{
    c->kills += 1;
    for (size_t q = 1; q < e->nvictims; q++)
        c->kills += e->victims[q].kind == OOM_VICTIM_GROUP;
    int64_t adj = opt_has_i64(w->oom_score_adj) ? w->oom_score_adj
                  : w->has_row                  ? w->row.oom_score_adj
                                                : OPT_ABSENT_I64;
    if (opt_has_i64(adj) && adj > 0)
        c->positive_adj++;
    if (!opt_has(w->anon_rss_kb))
        c->sizes_known = false;
    /* the one before this is no longer the last */
    if (!first && prev_freed > c->max_freed_kb)
        c->max_freed_kb = prev_freed;
    c->last_freed_kb = freed_kb(w);
    snprintf(c->last_comm, sizeof(c->last_comm), "%s", w->comm);
    if (e->header && opt_has_i64(e->invoker_oom_score_adj) &&
        (!opt_has_i64(c->min_invoker_adj) || e->invoker_oom_score_adj < c->min_invoker_adj))
        c->min_invoker_adj = e->invoker_oom_score_adj;
    if (e->header && opt_has_i64(e->invoker_oom_score_adj) && e->has_invoker_row &&
        opt_has(e->invoker_row.rss) && opt_has(e->page_kb) &&
        (!c->asker || e->invoker_row.rss * e->page_kb > c->asker_kb)) {
        c->asker = true;
        snprintf(c->asker_comm, sizeof(c->asker_comm), "%s",
                 e->invoker_comm[0] ? e->invoker_comm : "(no name)");
        c->asker_pid = e->invoker_pid;
        c->asker_adj = e->invoker_oom_score_adj;
        c->asker_kb = e->invoker_row.rss * e->page_kb;
    }
    note_critical(c, e);
    note_spared(c, e, names);
}

static int close_run(struct cascade_tracker *t)
{
    if (t->nrun < 2)
        return 0;
    if (ARRAY_GROW(t->done, t->ndone, t->cap, 4) < 0)
        return -ENOMEM;
    t->done[t->ndone++] = t->cur;
    return 0;
}

void cascade_tracker_init(struct cascade_tracker *t, const struct podnames *names)
{
    memset(t, 0, sizeof(*t));
    t->names = names;
}

int cascade_tracker_add(struct cascade_tracker *t, const struct oom_event *e)
{
    /* a userspace killer's event among the kernel's kills neither joins nor ends their run;
     * nor is it counted: first/last index events[], which holds the kernel's kills alone */
    if (oom_event_userspace_kill(e))
        return 0;
    if (e->record != OOM_RECORD_KERNEL) {
        t->nseen++;
        return 0;
    }
    const struct oom_victim *w = timed_kill(e);
    int r = 0;
    if (!w) {
        r = close_run(t);
        t->nrun = 0;
    } else if (t->nrun && w->uptime_us >= t->prev_us &&
               w->uptime_us - t->prev_us <= EXPLAIN_CASCADE_GAP_US && same_domain(&t->cur, e)) {
        add_to_run(&t->cur, t->names, e, w, t->cur.last_freed_kb, false);
        t->cur.last = t->nseen;
        t->cur.span_us += w->uptime_us - t->prev_us;
        t->prev_us = w->uptime_us;
        t->nrun++;
    } else {
        r = close_run(t);
        start_run(t, e, w->uptime_us);
        add_to_run(&t->cur, t->names, e, w, 0, true);
        t->nrun = 1;
    }
    t->nseen++;
    return r;
}

int cascade_tracker_end(struct cascade_tracker *t)
{
    int r = close_run(t);
    t->nrun = 0;
    return r;
}

void cascade_tracker_release(struct cascade_tracker *t)
{
    free(t->done);
    memset(t, 0, sizeof(*t));
}

int explain_cascades(const struct oom_event *ev, size_t n, const struct podnames *names,
                     struct cascade **ret, size_t *nret)
{
    struct cascade_tracker t;
    cascade_tracker_init(&t, names);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = cascade_tracker_add(&t, &ev[i]);
    if (r == 0)
        r = cascade_tracker_end(&t);
    if (r < 0) {
        cascade_tracker_release(&t);
        *ret = NULL;
        *nret = 0;
        return r;
    }
    *ret = t.done;
    *nret = t.ndone;
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

/* The first kills freed little: why the killer kept firing, and when memory came back. */
static void freed_text(struct out *o, const struct cascade *c)
{
    char a[24], s[24];
    size_t n = c->last - c->first + 1;
    /* "Small" is relative to what ran out: 21 MiB of a 48 MiB memcg is not (the VM's second-kill
     * race, corpus 056: the allocator outran the victim's uncharge); of 295 MiB of RAM it is */
    bool small = c->max_freed_kb < 64 * 1024 &&
                 (!opt_has(c->domain_kb) || c->max_freed_kb * 8 < c->domain_kb);
    if (n < 2 || !c->sizes_known || !small) {
        put(o, ": the killer fired again after each kill");
        return;
    }
    if (n == 2)
        put(o, ": the first freed under %s", under_str(a, c->max_freed_kb));
    else
        put(o, ": each of the first %zu freed under %s", n - 1, under_str(a, c->max_freed_kb));
    if (c->positive_adj)
        put(o, " because positive oom_score_adj picked tiny processes first");
    else
        put(o, ", so the killer fired again");
    if (c->last_freed_kb >= 2 * c->max_freed_kb && c->last_freed_kb >= 16 * 1024) {
        put(o, "; memory came back only when ");
        put_text(o, c->last_comm);
        put(o, " (%s) was killed", kb_str(s, c->last_freed_kb));
    } else {
        put(o,
            "; the last kill freed %s too: whatever holds the memory was never chosen "
            "(oom_score_adj -1000 or strongly negative, or kernel memory)",
            kb_str(s, c->last_freed_kb));
    }
}

/* Seed 001's lesson: a machine-wide OOM takes the node's daemons, and ranks processes, not
 * cgroups, so the container that holds the memory is not what it chooses. */
static void node_text(struct out *o, const struct cascade *c)
{
    char a[24];
    if (c->critical_kills) {
        put(o, ". Node-critical daemons were among the victims (");
        for (size_t i = 0; i < c->ncritical; i++) {
            put(o, "%s", i ? ", " : "");
            put_text(o, c->critical[i]);
        }
        put(o, "%s: %zu of the %zu kills): without them a node loses remote access, its "
               "network or its container runtime, and that is how it goes NotReady",
            c->ncritical == EXPLAIN_CASCADE_NAMES ? ", ..." : "", c->critical_kills, c->kills);
    }
    if (c->scope != OOM_SCOPE_GLOBAL)
        return;
    if (!c->spared) {
        /* no task table to size it: the protected asker is the evidence */
        if (!c->asker && opt_has_i64(c->min_invoker_adj) && c->min_invoker_adj < -500)
            put(o, ". A machine-wide OOM ranks processes, not cgroups: a process at oom_score_adj "
                   "%" PRId64 " kept asking for memory and was not chosen while the others went",
                c->min_invoker_adj);
        return;
    }
    put(o, ". A machine-wide OOM ranks processes, not cgroups: ");
    put_text(o, c->spared_comm);
    put(o, " (pid %" PRId64 ") held the most memory, %s, at oom_score_adj %" PRId64
           ", which scales its badness down, so %s",
        c->spared_pid, kb_str(a, c->spared_kb), c->spared_adj,
        c->spared_killed ? "it was chosen only after the others"
                         : "the workload that held the memory was never chosen");
    if (c->spared_workload[0]) {
        put(o, "; it ran in ");
        put_text(o, c->spared_workload);
    }
}

int explain_cascade_text(const struct cascade *c, struct buf *b)
{
    struct out o = {.b = b};
    char d[24], pg[24];
    put(&o, "%zu kills in %s", c->kills, fmt_duration(d, (double)c->span_us / 1e6));
    if (c->scope == OOM_SCOPE_MEMCG && c->oom_memcg[0]) {
        put(&o, " in ");
        put_text(&o, c->oom_memcg);
    } else if (c->scope == OOM_SCOPE_GLOBAL) {
        put(&o, " (whole machine)");
    }
    freed_text(&o, c);
    /* Only the asker that holds the memory explains why the others went first: in the VM's
     * node-crash cascade (corpus 055) a busybox sh at -1000, forking, invoked two of the OOMs
     * the -997 pod caused. Without task-table rows the lowest adj of any asker is all we have.
     * When the asker is the task a machine-wide OOM spared, node_text says it. */
    bool asker_spared = c->spared && c->asker && c->asker_pid == c->spared_pid &&
                        c->scope == OOM_SCOPE_GLOBAL;
    if (c->asker && !asker_spared) {
        if (c->asker_adj < -500) {
            put(&o, "; the task asking for memory, ");
            put_text(&o, c->asker_comm);
            put(&o,
                " (pid %" PRId64 ", %s), ran at oom_score_adj %" PRId64
                ", so the killer took the others first",
                c->asker_pid, kb_str(pg, c->asker_kb), c->asker_adj);
        }
    } else if (!c->asker && opt_has_i64(c->min_invoker_adj) && c->min_invoker_adj < -500) {
        put(&o,
            "; a task asking for memory ran at oom_score_adj %" PRId64 ", so the killer took "
            "the others first",
            c->min_invoker_adj);
    }
    node_text(&o, c);
    put(&o, ".\n");
    return o.err;
}

int explain_cascade_json(const struct cascade *c, struct json *j)
{
    struct buf t = BUF_INIT(64 * 1024);
    int r = explain_cascade_text(c, &t);
    json_obj_begin(j);
    json_kv_u64(j, "first_event", c->first);
    json_kv_u64(j, "last_event", c->last);
    json_kv_u64(j, "kills", c->kills);
    json_key(j, "seconds");
    json_double(j, (double)c->span_us / 1e6, 6);
    json_kv_u64(j, "max_freed_kb", c->max_freed_kb);
    json_kv_u64(j, "last_freed_kb", c->last_freed_kb);
    json_kv_u64(j, "positive_oom_score_adj", c->positive_adj);
    json_kv_u64(j, "node_critical_kills", c->critical_kills);
    json_kv_arr_begin(j, "node_critical");
    for (size_t i = 0; i < c->ncritical; i++)
        json_str(j, c->critical[i]);
    json_arr_end(j);
    json_key(j, "spared");
    if (c->spared) {
        json_obj_begin(j);
        json_kv_i64(j, "pid", c->spared_pid);
        json_kv_str(j, "comm", c->spared_comm);
        json_kv_u64(j, "rss_kb", c->spared_kb);
        json_kv_i64(j, "oom_score_adj", c->spared_adj);
        json_kv_bool(j, "killed", c->spared_killed);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    if (t.len && t.data[t.len - 1] == '\n')
        t.data[--t.len] = '\0';
    json_kv_str(j, "summary", buf_cstr(&t));
    json_obj_end(j);
    buf_release(&t);
    return r < 0 ? r : json_error(j);
}
