/* What one decision of the guard did, as the agent's event: one JSON object and its text line
 * followed by the candidate table. */
#include "guard-int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "base/json.h"
#include "base/opt.h"

static const char *event_name(const struct guard *g, const struct guard_kill *k)
{
    return k->chosen == SIZE_MAX ? "guard_no_candidate"
           : g->o->dry_run       ? "guard_would_kill"
                                 : "guard_kill";
}

/* The kill's outcome (not in a dry run). */
static void kill_json(const struct prep *p, const struct guard_candidate *v, uint64_t trigger_us,
                      uint64_t avail_after, struct json *j)
{
    const struct guard_kill *k = &p->k;
    json_kv_u64(j, "signalled", k->signalled);
    if (k->unit == KILL_UNIT_CGROUP)
        json_kv_bool(j, "cgroup_kill_file", k->cgroup_kill_file);
    json_kv_bool(j, "exited", k->exited);
    json_kv_u64(j, "trigger_to_signal_us",
                k->signal_us > trigger_us ? k->signal_us - trigger_us : 0);
    if (k->exited)
        json_kv_u64(j, "signal_to_exit_us", k->exit_us - k->signal_us);
    json_kv_i64(j, "mrelease", k->mrelease);
    json_kv_u64(j, "available_before", p->mi.mem_available);
    json_kv_u64_opt(j, "available_after", avail_after);
    uint64_t freed;
    const char *from;
    guard_freed(k, v->proc, &freed, &from);
    json_kv_u64(j, "freed", freed);
    json_kv_str(j, "freed_from", from);
    json_kv_u64_opt(j, "cgroup_usage_before", k->cg_usage_before);
    json_kv_u64_opt(j, "cgroup_usage_after", k->cg_usage_after);
}

static void event_json(const struct guard *g, const struct prep *p, enum guard_reason reason,
                       const char *why, uint64_t trigger_us, uint64_t avail_after, struct buf *out)
{
    const struct guard_kill *k = &p->k;
    struct json j;
    json_init(&j, out, false);
    json_obj_begin(&j);
    json_kv_str(&j, "event", event_name(g, k));
    json_kv_str(&j, "reason", guard_reason_name(reason));
    json_kv_str(&j, "domain", p->cgroup ? p->cgroup : "node");
    json_kv_str(&j, "trigger", why);
    json_kv_u64(&j, "candidates", p->ncand);
    json_kv_u64(&j, "vanished", k->vanished);
    /* ranked before the trigger when the guard was armed (memory near the floor) */
    json_kv_i64(&j, "ranked_before_trigger_us", (int64_t)trigger_us - (int64_t)p->ranked_us);
    if (k->chosen != SIZE_MAX) {
        const struct guard_candidate *v = &p->cand[k->chosen];
        json_kv_i64(&j, "pid", v->proc->pid);
        json_kv_str(&j, "comm", v->proc->comm);
        json_kv_str(&j, "cgroup", proc_cgroup_path(v->proc));
        json_kv_i64(&j, "oom_score_adj", v->proc->oom_score_adj);
        json_kv_i64(&j, "badness", v->badness);
        json_kv_u64(&j, "kernel_rank", v->kernel_rank);
        json_kv_str(&j, "weight", guard_weight_name(v->verdict.weight));
        json_kv_str(&j, "kill_unit", kill_unit_name(k->unit));
        json_kv_u64(&j, "rss", proc_rss(v->proc));
        if (!g->o->dry_run)
            kill_json(p, v, trigger_us, avail_after, &j);
    }
    json_key(&j, "table");
    json_str(&j, buf_cstr(&g->table));
    json_obj_end(&j);
}

/* "; trigger to signal 1.2 ms, exit 3.4 ms later; 26M came back to its cgroup (...)" */
static void exit_text(const struct prep *p, const struct guard_candidate *v, uint64_t trigger_us,
                      uint64_t avail_after, struct buf *text)
{
    const struct guard_kill *k = &p->k;
    char fr[FMT_SIZE_LEN], u0[FMT_SIZE_LEN], u1[FMT_SIZE_LEN], av[FMT_SIZE_LEN];
    uint64_t freed;
    const char *from;
    guard_freed(k, v->proc, &freed, &from);
    buf_printf(text, "; trigger to signal %.1f ms, exit %.1f ms later; ",
               (double)(k->signal_us - trigger_us) / 1000.0,
               (double)(k->exit_us - k->signal_us) / 1000.0);
    if (strcmp(from, "cgroup") == 0)
        buf_printf(text, "%s came back to its cgroup (usage %s -> %s)", fmt_size(fr, freed),
                   fmt_size(u0, k->cg_usage_before), fmt_size(u1, k->cg_usage_after));
    else
        buf_printf(text, "it held %s (resident + swap)", fmt_size(fr, freed));
    buf_printf(text, "; MemAvailable now %s",
               opt_has(avail_after) ? fmt_size(av, avail_after) : "?");
}

/* The kill's outcome in words (not in a dry run). */
static void kill_text(const struct guard *g, const struct prep *p, const struct guard_candidate *v,
                      uint64_t trigger_us, uint64_t avail_after, struct buf *text)
{
    const struct guard_kill *k = &p->k;
    if (k->error)
        buf_printf(text, "; the signal failed: %s", strerror(-k->error));
    if (k->unit == KILL_UNIT_CGROUP)
        buf_printf(text, "; %s, %u processes signalled",
                   k->cgroup_kill_file ? "cgroup.kill" : "each process of cgroup.procs",
                   k->signalled);
    if (k->exited)
        exit_text(p, v, trigger_us, avail_after, text);
    else if (!k->error)
        buf_printf(text, "; still not gone after %" PRIu64 " ms", g->o->kill_timeout_ms);
}

static void event_text(const struct guard *g, const struct prep *p, enum guard_reason reason,
                       const char *why, uint64_t trigger_us, uint64_t avail_after, struct buf *text)
{
    const struct guard_kill *k = &p->k;
    const char *dname = p->cgroup ? p->cgroup : "node";
    if (k->chosen == SIZE_MAX) {
        buf_printf(text,
                   "guard: %s in %s (%s): no candidate to kill (%zu eligible, %zu gone "
                   "before they could be pinned)",
                   guard_reason_name(reason), dname, why, p->ncand, k->vanished);
    } else {
        const struct guard_candidate *v = &p->cand[k->chosen];
        const char *vcg = proc_cgroup_path(v->proc);
        bool weighted = v->verdict.weight != WEIGHT_NORMAL;
        char rss[FMT_SIZE_LEN];
        buf_printf(text,
                   "guard: %s in %s (%s): %s pid %d %s (%s, rss %s, oom_score_adj %d, "
                   "badness %" PRId64 ", kernel's #%zu, guard's #%zu of %zu%s%s)",
                   guard_reason_name(reason), dname, why,
                   g->o->dry_run                 ? "WOULD KILL"
                   : k->unit == KILL_UNIT_CGROUP ? "killed cgroup of"
                                                 : "killed",
                   (int)v->proc->pid, v->proc->comm, vcg ? vcg : "?",
                   fmt_size(rss, proc_rss(v->proc)), v->proc->oom_score_adj, v->badness,
                   v->kernel_rank, v->order, p->ncand, weighted ? ", " : "",
                   weighted ? guard_weight_name(v->verdict.weight) : "");
        if (!g->o->dry_run)
            kill_text(g, p, v, trigger_us, avail_after, text);
    }
    buf_putc(text, '\n');
    buf_append(text, g->table.data, g->table.len);
    if (text->len && text->data[text->len - 1] == '\n')
        text->data[--text->len] = '\0';
}

void guard_event_write(const struct guard *g, const struct prep *p, enum guard_reason reason,
                       const char *why, uint64_t trigger_us, uint64_t avail_after, struct buf *json,
                       struct buf *text)
{
    event_json(g, p, reason, why, trigger_us, avail_after, json);
    event_text(g, p, reason, why, trigger_us, avail_after, text);
}
