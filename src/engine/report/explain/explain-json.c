#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/cgroup/cgpath.h"
#include "model/workload/identity.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/workload/podnames.h"
#include "explain-int.h"

static void json_opt_str(struct json *j, const char *k, const char *v)
{
    json_kv_str(j, k, v && v[0] ? v : NULL);
}

static void json_uptime(struct json *j, const char *k, uint64_t us)
{
    if (!opt_has(us)) {
        json_kv_null(j, k);
        return;
    }
    json_key(j, k);
    json_double(j, (double)us / 1e6, 6);
}

static void json_counter(struct json *j, const char *k, const struct oom_counter *c)
{
    json_key(j, k);
    if (!opt_has(c->usage_kb) && !opt_has(c->limit_kb)) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_u64_opt(j, "usage_kb", c->usage_kb);
    json_kv_u64_opt(j, "limit_kb", c->limit_kb);
    json_kv_u64_opt(j, "failcnt", c->failcnt);
    json_obj_end(j);
}

static void json_task(struct json *j, const struct oom_task *r)
{
    json_obj_begin(j);
    json_kv_i64_opt(j, "pid", r->pid);
    json_kv_i64_opt(j, "uid", r->uid);
    json_kv_i64_opt(j, "tgid", r->tgid);
    json_kv_u64_opt(j, "total_vm_pages", r->total_vm);
    json_kv_u64_opt(j, "rss_pages", r->rss);
    json_kv_u64_opt(j, "rss_anon_pages", r->rss_anon);
    json_kv_u64_opt(j, "rss_file_pages", r->rss_file);
    json_kv_u64_opt(j, "rss_shmem_pages", r->rss_shmem);
    json_kv_u64_opt(j, "pgtables_bytes", r->pgtables_bytes);
    json_kv_u64_opt(j, "nr_ptes", r->nr_ptes);
    json_kv_u64_opt(j, "nr_pmds", r->nr_pmds);
    json_kv_u64_opt(j, "swapents", r->swapents);
    json_kv_i64_opt(j, "cpu", r->cpu);
    json_kv_i64_opt(j, "oom_adj", r->oom_adj);
    json_kv_i64_opt(j, "oom_score_adj", r->oom_score_adj);
    json_kv_str(j, "name", r->name);
    json_obj_end(j);
}

static void json_badness(struct json *j, const struct oom_event *e, const struct oom_victim *v)
{
    struct bad b;
    json_key(j, "badness");
    if (!v->has_row || !badness_of(e, &v->row, &b)) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_u64(j, "rss_pages", b.rss);
    json_kv_u64(j, "swap_pages", b.swap);
    json_kv_u64(j, "pgtables_pages", b.pt);
    json_kv_u64(j, "base_pages", b.base);
    if (b.adj_known)
        json_kv_i64(j, "oom_score_adj", b.adj);
    else
        json_kv_null(j, "oom_score_adj");
    json_kv_u64_opt(j, "totalpages", b.total);
    json_kv_bool(j, "totalpages_approximate", b.total_approx);
    if (opt_has(b.total)) {
        json_kv_i64(j, "adj_pages", b.adj_pages);
        json_kv_i64(j, "points", b.points);
    } else {
        json_kv_null(j, "adj_pages");
        json_kv_null(j, "points");
    }
    json_obj_end(j);
}

static void json_impossible(struct json *j, const struct oom_impossible *list, size_t n)
{
    json_kv_arr_begin(j, "impossible");
    for (size_t i = 0; i < n; i++) {
        json_obj_begin(j);
        json_kv_str(j, "field", list[i].field);
        json_kv_i64(j, "value", list[i].value);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void json_victim(struct json *j, const struct oom_event *e, const struct oom_victim *v)
{
    json_obj_begin(j);
    json_kv_i64_opt(j, "pid", v->pid);
    json_opt_str(j, "comm", v->comm);
    json_kv_u64_opt(j, "total_vm_kb", v->total_vm_kb);
    json_kv_u64_opt(j, "anon_rss_kb", v->anon_rss_kb);
    json_kv_u64_opt(j, "file_rss_kb", v->file_rss_kb);
    json_kv_u64_opt(j, "shmem_rss_kb", v->shmem_rss_kb);
    json_kv_i64_opt(j, "uid", v->uid);
    json_kv_u64_opt(j, "pgtables_kb", v->pgtables_kb);
    json_kv_i64_opt(j, "oom_score_adj", v->oom_score_adj);
    json_kv_i64_opt(j, "score", v->score);
    json_key(j, "reaped");
    if (v->reaped < 0)
        json_null(j);
    else
        json_bool(j, v->reaped == 1);
    json_kv_bool(j, "reaped_inferred", v->reaped_inferred);
    json_kv_bool(j, "group_kill", v->kind == OOM_VICTIM_GROUP);
    json_kv_str(j, "kind", oom_victim_kind_name(v->kind));
    json_opt_str(j, "message", v->message);
    json_opt_str(j, "time", v->time);
    json_uptime(j, "uptime_s", v->uptime_us);
    json_key(j, "after_reap");
    if (v->reaped == 1 && opt_has(v->reaped_anon_kb)) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "anon_rss_kb", v->reaped_anon_kb);
        json_kv_u64_opt(j, "file_rss_kb", v->reaped_file_kb);
        json_kv_u64_opt(j, "shmem_rss_kb", v->reaped_shmem_kb);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_kv_bool(j, "pgtables_printed_in_bytes", v->pgtables_were_bytes);
    json_kv_bool(j, "line_rejoined", v->line_rejoined);
    json_kv_bool(j, "line_cut", v->line_cut);
    json_impossible(j, v->impossible, v->nimpossible);
    json_key(j, "task");
    if (v->has_row)
        json_task(j, &v->row);
    else
        json_null(j);
    json_badness(j, e, v);
    json_obj_end(j);
}

/* the task that asked (null without a header) */
static void json_invoker(struct json *j, const struct oom_event *e)
{
    json_key(j, "invoker");
    if (e->header) {
        json_obj_begin(j);
        json_opt_str(j, "comm", e->invoker_comm);
        json_kv_i64_opt(j, "pid", e->invoker_pid);
        if (e->gfp_mask_set) {
            char g[24];
            snprintf(g, sizeof(g), "%#" PRIx64, e->gfp_mask);
            json_kv_str(j, "gfp_mask", e->gfp_mask ? g : "0x0");
        } else {
            json_kv_null(j, "gfp_mask");
        }
        json_opt_str(j, "gfp_flags", e->gfp_flags);
        json_kv_i64_opt(j, "order", e->order);
        json_kv_i64_opt(j, "oom_score_adj", e->invoker_oom_score_adj);
        json_kv_i64_opt(j, "oom_adj", e->invoker_oom_adj);
        json_key(j, "task");
        if (e->has_invoker_row)
            json_task(j, &e->invoker_row);
        else
            json_null(j);
        json_obj_end(j);
    } else {
        json_null(j);
    }
}

/* the memcg section (null when the report has none) */
static void json_memcg(struct json *j, const struct oom_event *e)
{
    json_key(j, "memcg");
    bool memcg = opt_has(e->mem.usage_kb) || opt_has(e->mem.limit_kb) || e->stats_memcg;
    if (memcg) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "usage_kb", e->mem.usage_kb);
        json_kv_u64_opt(j, "limit_kb", e->mem.limit_kb);
        json_kv_u64_opt(j, "failcnt", e->mem.failcnt);
        json_counter(j, "swap", &e->swap);
        json_counter(j, "memsw", &e->memsw);
        json_counter(j, "kmem", &e->kmem);
        json_kv_str(j, "stats_for", e->stats_memcg);
        json_kv_obj_begin(j, "stats");
        json_kv_u64_opt(j, "anon_bytes", e->stat_anon);
        json_kv_u64_opt(j, "file_bytes", e->stat_file);
        json_kv_u64_opt(j, "kernel_bytes", e->stat_kernel);
        json_kv_u64_opt(j, "slab_bytes", e->stat_slab);
        json_kv_u64_opt(j, "shmem_bytes", e->stat_shmem);
        json_kv_u64_opt(j, "sock_bytes", e->stat_sock);
        json_kv_u64_opt(j, "swap_bytes", e->stat_swap);
        json_obj_end(j);
        json_kv_u64_opt(j, "min_protection_kb", e->min_protection_kb);
        json_kv_u64_opt(j, "low_protection_kb", e->low_protection_kb);
        json_obj_end(j);
    } else {
        json_null(j);
    }
}

/* the Mem-Info section of a machine-wide report */
static void json_machine(struct json *j, const struct oom_event *e)
{
    json_key(j, "machine");
    if (e->meminfo) {
        json_obj_begin(j);
        json_kv_u64_opt(j, "page_kb", e->page_kb);
        json_kv_u64_opt(j, "ram_pages", e->ram_pages);
        json_kv_u64_opt(j, "reserved_pages", e->reserved_pages);
        json_kv_u64_opt(j, "free_swap_kb", e->free_swap_kb);
        json_kv_u64_opt(j, "total_swap_kb", e->total_swap_kb);
        json_kv_u64_opt(j, "free_pages", e->mi_free);
        json_kv_u64_opt(j, "active_anon_pages", e->mi_active_anon);
        json_kv_u64_opt(j, "inactive_anon_pages", e->mi_inactive_anon);
        json_kv_u64_opt(j, "active_file_pages", e->mi_active_file);
        json_kv_u64_opt(j, "inactive_file_pages", e->mi_inactive_file);
        json_kv_u64_opt(j, "shmem_pages", e->mi_shmem);
        json_kv_u64_opt(j, "slab_reclaimable_pages", e->mi_slab_reclaimable);
        json_kv_u64_opt(j, "slab_unreclaimable_pages", e->mi_slab_unreclaimable);
        json_kv_u64_opt(j, "slab_pages", e->mi_slab);
        json_kv_u64_opt(j, "unevictable_pages", e->mi_unevictable);
        json_kv_u64_opt(j, "pagetables_pages", e->mi_pagetables);
        json_kv_bool(j, "unreclaimable_slab_dump", e->unreclaimable_slab);
        json_obj_end(j);
    } else {
        json_null(j);
    }
}

/* what the killer did: victims, the chosen task, group kills, the outcome, the task table */
static void json_outcome(struct json *j, const struct oom_event *e)
{
    json_kv_arr_begin(j, "victims");
    for (size_t i = 0; i < e->nvictims; i++)
        json_victim(j, e, &e->victims[i]);
    json_arr_end(j);
    json_key(j, "selected");
    if (e->selected_set) {
        json_obj_begin(j);
        json_kv_i64_opt(j, "pid", e->selected_pid);
        json_kv_str(j, "comm", e->selected_comm);
        json_kv_i64_opt(j, "score", e->selected_score);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_kv_str(j, "group_memcg", e->group_memcg);
    json_kv_bool(j, "no_killable", e->no_killable);
    json_opt_str(j, "panic", e->panic);
    json_kv_u64(j, "suppressed_reports", e->suppressed_reports);
    json_kv_bool(j, "rate_limited", e->rate_limited);
    json_impossible(j, e->impossible, e->nimpossible);
    json_kv_u64(j, "impossible_task_rows", e->impossible_rows);
    json_kv_bool(j, "elided", e->elided);
    json_kv_bool(j, "sysrq", e->sysrq);
    if (e->table) {
        json_kv_u64(j, "tasks_listed", e->ntasks);
        json_kv_u64(j, "tasks_oom_score_adj_min", e->ntasks_adj_min);
    } else {
        json_kv_null(j, "tasks_listed");
        json_kv_null(j, "tasks_oom_score_adj_min");
    }
    json_kv_bool(j, "task_table_layout_inferred", e->table_inferred);
    json_kv_arr_begin(j, "top_tasks");
    for (size_t i = 0; i < e->nrows; i++)
        json_task(j, &e->rows[i]);
    json_arr_end(j);
}

int explain_event_json(const struct oom_event *e, const struct podnames *names, struct json *j)
{
    json_obj_begin(j);
    json_opt_str(j, "time", e->time);
    json_uptime(j, "uptime_s", e->uptime_us);
    json_opt_str(j, "kernel_release", e->kernel_release);
    user_json(j, e);
    json_kv_bool(j, "header", e->header);
    json_invoker(j, e);
    json_opt_str(j, "constraint", e->constraint);
    json_kv_str(j, "scope", oom_scope_name(e->scope));
    json_kv_bool(j, "scope_inherited", e->scope_inherited);
    json_opt_str(j, "nodemask", e->nodemask);
    json_opt_str(j, "cpuset", e->cpuset);
    json_opt_str(j, "mems_allowed", e->mems_allowed);
    json_kv_bool(j, "global_oom", e->global_oom);
    json_kv_str(j, "oom_memcg", e->oom_memcg);
    json_kv_str(j, "task_memcg", e->task_memcg);
    json_memcg(j, e);
    json_machine(j, e);
    json_outcome(j, e);
    json_key(j, "identity");
    const char *cg = e->task_memcg ? e->task_memcg : e->oom_memcg;
    if (cg) {
        struct identity id;
        podnames_identity(names, cg, &id);
        identity_to_json(&id, j);
    } else {
        json_null(j);
    }
    int r = json_explanation(j, e, names);
    if (r < 0)
        return r;
    json_obj_end(j);
    return json_error(j);
}

int json_explanation(struct json *j, const struct oom_event *e, const struct podnames *names)
{
    struct buf text = BUF_INIT(CAP_OUTPUT);
    struct explain_style plain = {.color = false, .names = names};
    int r = explain_event_text(e, 1, 1, &plain, &text);
    if (r < 0) {
        buf_release(&text);
        return r;
    }
    /* without the title line: time and number are fields of their own */
    const char *body = buf_cstr(&text);
    const char *nl = strchr(body, '\n');
    json_kv_str(j, "explanation", nl ? nl + 1 : body);
    buf_release(&text);
    return 0;
}
