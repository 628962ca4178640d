#include "lab-json.h"

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/opt.h"
#include "engine/lab/lab.h"
#include "engine/report/explain/explain.h"
#include "model/log/killobs.h"
#include "model/log/oomlog.h"
#include "model/pressure/psi.h"

static void json_events(struct json *j, const char *k, const struct cgroup_events *e)
{
    json_kv_obj_begin(j, k);
    json_kv_u64_opt(j, "max", e->max);
    json_kv_u64_opt(j, "oom", e->oom);
    json_kv_u64_opt(j, "oom_kill", e->oom_kill);
    json_kv_u64_opt(j, "high", e->high);
    json_obj_end(j);
}

static void json_seconds(struct json *j, const char *k, double v, bool present)
{
    if (present)
        json_kv_double(j, k, v, 3);
    else
        json_kv_null(j, k);
}

/* what was set up: the cgroup, its limits, the eaters' kind */
static void json_setup(const struct lab_result *r, struct json *j)
{
    json_kv_str(j, "mode", r->mode == LAB_RUN ? "run" : "protect");
    json_kv_str(j, "cgroup", r->cgroup);
    json_kv_i64(j, "cgroup_version", r->version);
    json_kv_str(j, "psi_source", !r->psi ? NULL : r->psi_twin ? "unified_twin" : "cgroup");
    json_kv_u64(j, "limit", r->max);
    json_kv_u64_opt(j, "high", r->high ? r->high : OPT_ABSENT);
    json_kv_u64(j, "rate", r->rate);
    json_kv_str(j, "kind", eater_kind_name(r->kind));
    json_kv_u64_opt(j, "file_bytes", r->kind == EATER_ANON ? OPT_ABSENT : r->file_bytes);
    if (r->mode == LAB_PROTECT)
        json_kv_str(j, "variant", lab_variant_fallback(r) ? "unprotected_+900" : "protected_-900");
    json_kv_arr_begin(j, "stale_removed");
    for (size_t i = 0; i < r->nstale; i++)
        json_str(j, r->stale[i]);
    json_arr_end(j);
}

static void json_eaters(const struct lab_result *r, struct json *j)
{
    json_kv_arr_begin(j, "eaters");
    for (size_t i = 0; i < r->neaters; i++) {
        const struct lab_eater_info *e = &r->eaters[i];
        json_obj_begin(j);
        json_kv_i64(j, "pid", e->pid);
        json_kv_str(j, "comm", e->comm);
        json_kv_i64(j, "oom_score_adj", e->adj);
        json_kv_bool(j, "protected", e->protected_one);
        json_kv_u64(j, "start_bytes", e->start_bytes);
        json_kv_u64(j, "rate", e->rate);
        json_kv_bool(j, "exited", e->exited);
        if (e->exited && e->exit_signal)
            json_kv_i64(j, "exit_signal", e->exit_signal);
        else
            json_kv_null(j, "exit_signal");
        json_kv_bool(j, "oom_killed", e->oom_killed);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void json_prediction(const struct lab_result *r, struct json *j)
{
    const struct lab_prediction *p = &r->pred;
    json_kv_obj_begin(j, "prediction");
    json_kv_bool(j, "made", p->made);
    json_kv_str(j, "why_not", p->made ? NULL : p->why_not);
    json_kv_u64(j, "totalpages", p->totalpages);
    json_kv_u64(j, "usage", p->usage);
    json_kv_u64(j, "kill_usage", r->max);
    if (p->made && p->victim != SIZE_MAX)
        json_kv_i64(j, "victim_pid", p->c[p->victim].pid);
    else
        json_kv_null(j, "victim_pid");
    if (p->made && r->mode == LAB_PROTECT)
        json_kv_i64(j, "victim_pid_without_adj", p->c[p->victim_no_adj].pid);
    json_seconds(j, "high_to_max_seconds", p->high_to_max_s, p->high_to_max_s > 0);
    json_kv_arr_begin(j, "candidates");
    for (size_t i = 0; i < p->n; i++) {
        const struct lab_candidate *c = &p->c[i];
        json_obj_begin(j);
        json_kv_i64(j, "pid", c->pid);
        json_kv_str(j, "comm", c->comm);
        json_kv_i64(j, "oom_score_adj", c->adj);
        json_kv_u64(j, "rss", c->rss);
        json_kv_bool(j, "eligible", c->eligible);
        json_kv_i64(j, "badness", c->badness);
        json_kv_i64(j, "badness_without_adj", c->badness_no_adj);
        json_kv_u64(j, "rank", c->rank);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
}

/* PSI as every other output writes it (psi_line_json_fields), with the stall rate beside it */
static void json_sample_psi(const struct lab_sample *s, struct json *j)
{
    json_kv_obj_begin(j, "psi");
    const char *names[2] = {"some", "full"};
    for (int k = 0; k < 2; k++) {
        json_kv_obj_begin(j, names[k]);
        psi_line_json_fields(k ? &s->psi.full : &s->psi.some, j);
        double rate = k ? s->full_rate : s->some_rate;
        json_seconds(j, "rate", rate, rate >= 0);
        json_obj_end(j);
    }
    json_obj_end(j);
}

static void json_samples(const struct lab_result *r, struct json *j)
{
    json_kv_arr_begin(j, "samples");
    for (size_t i = 0; i < r->series.n; i++) {
        const struct lab_sample *s = &r->series.v[i];
        json_obj_begin(j);
        json_kv_double(j, "t", s->t, 3);
        json_kv_u64(j, "current", s->current);
        json_events(j, "events", &s->ev);
        if (s->has_psi)
            json_sample_psi(s, j);
        else
            json_kv_null(j, "psi");
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void json_kill(const struct lab_result *r, struct json *j)
{
    const struct lab_prediction *p = &r->pred;
    json_key(j, "kill");
    if (r->end != LAB_END_KILLED) {
        json_null(j);
        return;
    }
    const struct lab_eater_info *k = &r->eaters[r->killed];
    json_obj_begin(j);
    json_kv_i64(j, "pid", k->pid);
    json_kv_str(j, "comm", k->comm);
    json_kv_double(j, "seconds", r->kill_t, 3);
    json_kv_str(j, "time_source", r->kill_t_from_log ? "kernel_log" : "exit");
    json_kv_bool(j, "as_predicted",
                 p->made && p->victim != SIZE_MAX && p->c[p->victim].pid == k->pid);
    json_obj_end(j);
}

static void json_summary(const struct lab_result *r, struct json *j)
{
    const struct lab_summary *s = &r->sum;
    bool killed = r->end == LAB_END_KILLED;
    json_kv_obj_begin(j, "summary");
    json_kv_u64(j, "usage_at_kill", killed ? s->usage_at_kill : 0);
    json_kv_str(j, "usage_source",
                !killed                                  ? NULL
                : s->usage_source == LABSUM_USAGE_REPORT ? "kernel_report"
                : s->usage_source == LABSUM_USAGE_PEAK   ? "peak"
                                                         : "last_sample");
    json_kv_double(j, "percent_of_limit", killed ? s->pct_of_limit : 0, 2);
    json_kv_u64(j, "last_sample_before", s->last_before);
    json_seconds(j, "last_sample_before_seconds", s->last_before_t,
                 killed && s->last_before_t >= 0);
    json_kv_u64(j, "peak_sampled", s->peak_sampled);
    json_kv_u64_opt(j, "peak", r->peak);
    json_seconds(j, "psi_full_avg10_crossed_seconds", s->full_cross_t, s->full_cross_t >= 0);
    json_seconds(j, "warning_seconds", s->warning_s, s->has_warning);
    json_seconds(j, "stall_rate_crossed_seconds", s->rate_cross_t, s->rate_cross_t >= 0);
    json_seconds(j, "stall_rate_warning_seconds", s->rate_warning_s, s->has_rate_warning);
    json_kv_double(j, "peak_some_avg10", (double)s->peak_some10 / 100, 2);
    json_kv_double(j, "peak_full_avg10", (double)s->peak_full10 / 100, 2);
    json_kv_double(j, "peak_full_rate", s->peak_full_rate, 2);
    json_seconds(j, "high_first_seconds", s->high_first_t, s->high_first_t >= 0);
    json_seconds(j, "throttled_seconds", s->throttled_s, r->high != 0);
    json_seconds(j, "growth_below_high", s->growth_below, s->growth_below >= 0);
    json_seconds(j, "growth_above_high", s->growth_above, s->growth_above >= 0);
    json_events(j, "events_before", &r->ev_before);
    json_events(j, "events_after", &r->ev_after);
    json_obj_end(j);
}

int lab_result_json(const struct lab_result *r, bool ok, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_setup(r, &j);
    json_eaters(r, &j);
    json_prediction(r, &j);
    json_samples(r, &j);
    json_kv_str(&j, "end", lab_end_name(r->end));
    json_kv_bool(&j, "as_expected", ok);
    json_kill(r, &j);
    json_summary(r, &j);
    json_key(&j, "report");
    if (r->event) {
        int q = explain_event_json(r->event, NULL, &j);
        if (q < 0)
            return q;
    } else {
        json_null(&j);
    }
    json_key(&j, "observed");
    oom_observed_json(&r->observed, r->event && r->event->rate_limited, &j);
    json_kv_str(&j, "kernel_log_error", r->kmsg ? NULL : r->kmsg_error);
    json_kv_bool(&j, "cleanup_failed", r->cleanup_failed);
    json_obj_end(&j);
    return json_error(&j);
}
