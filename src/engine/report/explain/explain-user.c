/*
 * Kills told by userspace's lines (model/log/userkill.h): systemd's record of a unit that lost a
 * process to the kernel's OOM killer, and the kills of systemd-oomd and earlyoom, which are not
 * the kernel's at all. Their text says whose record it is and no more than the lines say.
 */
#include <inttypes.h>
#include <string.h>

#include "base/json.h"
#include "base/opt.h"
#include "explain-int.h"
#include "model/log/oomlog.h"

const char *explain_killer_name(const struct oom_event *e)
{
    switch (e->killer) {
    case OOM_KILLER_KERNEL:
        return "kernel";
    case OOM_KILLER_OOMD:
        return "systemd-oomd";
    case OOM_KILLER_EARLYOOM:
        return "earlyoom";
    case OOM_KILLER_UNKNOWN:
        break;
    }
    return NULL;
}

static const char *record_name(const struct oom_event *e)
{
    switch (e->record) {
    case OOM_RECORD_SYSTEMD:
        return "systemd";
    case OOM_RECORD_OOMD:
        return "systemd-oomd";
    case OOM_RECORD_EARLYOOM:
        return "earlyoom";
    case OOM_RECORD_KERNEL:
        break;
    }
    return "kernel";
}

/* systemd's lines about the unit, for any event that has them */
void unit_text(struct out *o, const struct oom_event *e)
{
    const struct oom_userside *s = e->user;
    if (!s || !s->unit[0])
        return;
    label(o, "Unit");
    put_text(o, s->unit);
    if (s->oomd_processes >= 0)
        put(o, ": systemd-oomd killed %" PRId64 " process%s in it", s->oomd_processes,
            s->oomd_processes == 1 ? "" : "es");
    else if (s->unit_oom_line)
        put(o, ": systemd recorded that a process of it was killed by the OOM killer");
    else
        put(o, ": systemd's record");
    if (s->unit_main_killed)
        put(o, "; its main process was killed (SIGKILL)");
    if (s->unit_result_oom)
        put(o, "; the unit failed with result 'oom-kill'");
    put(o, "\n");
    if (s->slices[0]) {
        label(o, "");
        /* the cgroup path shows the units above; without it, units named in the same seconds
         * may be above it or another kill's */
        if (e->task_memcg || s->cgroup[0])
            put(o, "systemd said so for the units above it too: ");
        else
            put(o, "systemd said the same, within seconds, of the units ");
        put_text(o, s->slices);
        if (!e->task_memcg && !s->cgroup[0])
            put(o, " (above it, or another kill's: the text has no cgroup path)");
        put(o, "\n");
    }
}

static void oomd_text(struct out *o, const struct oom_userside *s)
{
    label(o, "Killed");
    style(o, STYLE_BOLD_RED);
    put(o, "the cgroup ");
    put_text(o, s->cgroup);
    unstyle(o);
    put(o, s->marked ? " (marked for killing), every process in it\n" : ", every process in it\n");
    label(o, "Why");
    if (s->swap) {
        put(o, "swap in use");
        if (opt_has(s->swap_used) && opt_has(s->swap_total))
            put(o, " (%" PRIu64 " of %" PRIu64 " bytes)", s->swap_used, s->swap_total);
        put(o, " was more than its limit");
        if (s->limit[0])
            put(o, " of %s", s->limit);
        put(o, ": systemd-oomd kills the cgroup using the most swap\n");
    } else {
        put(o, "memory pressure");
        if (s->pressure_cgroup[0]) {
            put(o, " on ");
            put_text(o, s->pressure_cgroup);
        }
        if (s->pressure[0] && s->limit[0]) {
            put(o, " was %s, over its limit of %s", s->pressure, s->limit);
            if (s->duration[0]) {
                put(o, " for more than ");
                put_text(o, s->duration);
            }
            put(o, " (the share of time tasks stalled waiting for memory)");
        } else {
            put(o, " was over its limit (the line is cut before the numbers)");
        }
        put(o, "; systemd-oomd kills the cgroup below it with the most reclaim activity\n");
    }
}

static void earlyoom_text(struct out *o, const struct oom_event *e, const struct oom_userside *s)
{
    const struct oom_victim *v = oom_event_primary(e);
    label(o, "Killed");
    put(o, "sent %s to ", s->signal[0] ? s->signal : "a signal");
    style(o, STYLE_BOLD_RED);
    put_task(o, v->comm, v->pid);
    unstyle(o);
    if (s->attempts > 1)
        put(o, " (%d times: it lived on after SIGTERM)", s->attempts);
    if (opt_has_i64(v->uid))
        put(o, ", uid %" PRId64, v->uid);
    if (opt_has(v->vm_rss_kb)) {
        char sz[24];
        put(o, ", VmRSS %s", kb_str(sz, v->vm_rss_kb));
    }
    if (opt_has_i64(s->badness))
        put(o, ", badness %" PRId64, s->badness);
    if (opt_has_i64(s->oom_score))
        put(o, ", oom_score %" PRId64, s->oom_score);
    if (opt_has_i64(s->oom_score_adj))
        put(o, ", oom_score_adj %" PRId64, s->oom_score_adj);
    put(o, "\n");
    label(o, "Why");
    if (opt_has(s->avail_mib) && opt_has(s->total_mib)) {
        put(o, "memory available %" PRIu64 " of %" PRIu64 " MiB", s->avail_mib, s->total_mib);
        if (opt_has(s->swap_free_mib) && opt_has(s->swap_total_mib))
            put(o, ", swap free %" PRIu64 " of %" PRIu64 " MiB", s->swap_free_mib,
                s->swap_total_mib);
        put(o, ": ");
    }
    if (s->mem_limit[0])
        put(o, "at or below its %s limits (mem %s, swap %s)", s->limit_signal, s->mem_limit,
            s->swap_limit[0] ? s->swap_limit : "?");
    else
        put(o, "earlyoom's memory and swap limits were reached (its \"low memory!\" line is not "
               "in the text)");
    put(o, "; earlyoom kills the process with the highest oom_score\n");
}

void user_event_text(struct out *o, const struct oom_event *e)
{
    const struct oom_userside *s = e->user;
    label(o, "Killer");
    if (e->record == OOM_RECORD_SYSTEMD) {
        if (e->killer == OOM_KILLER_KERNEL)
            put(o, "the kernel's OOM killer, as systemd recorded it; the kernel's own report "
                   "is not in the text (no pid, no sizes)\n");
        else if (e->killer == OOM_KILLER_OOMD)
            put(o, "systemd-oomd, a userspace OOM killer, not the kernel, as systemd recorded "
                   "it; systemd-oomd's own line is not in the text (no cgroup path, no "
                   "pressure)\n");
        else
            put(o, "the OOM killer or systemd-oomd (systemd's result 'oom-kill' is both's); "
                   "no kill line is in the text\n");
        unit_text(o, e);
        return;
    }
    put(o, "%s, a userspace OOM killer, not the kernel\n", record_name(e));
    if (e->record == OOM_RECORD_OOMD)
        oomd_text(o, s);
    else
        earlyoom_text(o, e, s);
    unit_text(o, e);
}

/* explain_event_line's form */
void user_event_line(struct out *o, const struct oom_event *e)
{
    const struct oom_userside *s = e->user;
    if (e->record == OOM_RECORD_SYSTEMD) {
        put(o, "systemd's record: ");
        put_text(o, s->unit);
        put(o, e->killer == OOM_KILLER_KERNEL ? " lost a process to the OOM killer"
               : e->killer == OOM_KILLER_OOMD ? " lost processes to systemd-oomd"
                                              : " failed with result 'oom-kill'");
    } else if (e->record == OOM_RECORD_OOMD) {
        put(o, "systemd-oomd killed the cgroup ");
        put_text(o, s->cgroup);
    } else {
        const struct oom_victim *v = oom_event_primary(e);
        put(o, "earlyoom sent %s to ", s->signal[0] ? s->signal : "a signal");
        put_task(o, v->comm, v->pid);
        if (opt_has(v->vm_rss_kb)) {
            char sz[24];
            put(o, ", VmRSS %s", kb_str(sz, v->vm_rss_kb));
        }
    }
}

static void json_opt(struct json *j, const char *k, const char *v)
{
    json_kv_str(j, k, v && v[0] ? v : NULL);
}

static void json_systemd(struct json *j, const struct oom_userside *s)
{
    json_key(j, "systemd");
    if (!s || !s->unit[0]) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_str(j, "unit", s->unit);
    json_kv_arr_begin(j, "also_units");
    for (const char *a = s->slices; *a;) {
        const char *c = strstr(a, ", ");
        size_t n = c ? (size_t)(c - a) : strlen(a);
        json_strn(j, a, n);
        a += n + (c ? 2 : 0);
    }
    json_arr_end(j);
    json_kv_bool(j, "oom_killed_a_process", s->unit_oom_line);
    json_kv_bool(j, "result_oom_kill", s->unit_result_oom);
    json_kv_bool(j, "main_process_killed", s->unit_main_killed);
    json_kv_i64_opt(j, "oomd_killed_processes",
                    s->oomd_processes >= 0 ? s->oomd_processes : OPT_ABSENT_I64);
    json_obj_end(j);
}

static void json_oomd(struct json *j, const struct oom_event *e)
{
    const struct oom_userside *s = e->user;
    json_key(j, "oomd");
    if (e->record != OOM_RECORD_OOMD) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_kv_str(j, "cgroup", s->cgroup);
    json_kv_str(j, "reason", s->swap ? "swap" : "memory_pressure");
    json_kv_bool(j, "marked", s->marked);
    json_opt(j, "pressure_cgroup", s->pressure_cgroup);
    json_opt(j, "pressure", s->pressure);
    json_opt(j, "limit", s->limit);
    json_opt(j, "duration", s->duration);
    json_kv_u64_opt(j, "swap_used_bytes", s->swap_used);
    json_kv_u64_opt(j, "swap_total_bytes", s->swap_total);
    json_obj_end(j);
}

static void json_earlyoom(struct json *j, const struct oom_event *e)
{
    const struct oom_userside *s = e->user;
    json_key(j, "earlyoom");
    if (e->record != OOM_RECORD_EARLYOOM) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_opt(j, "signal", s->signal);
    json_kv_i64(j, "attempts", s->attempts);
    json_kv_i64_opt(j, "badness", s->badness);
    json_kv_i64_opt(j, "oom_score", s->oom_score);
    json_kv_u64_opt(j, "mem_avail_mib", s->avail_mib);
    json_kv_u64_opt(j, "mem_total_mib", s->total_mib);
    json_kv_u64_opt(j, "swap_free_mib", s->swap_free_mib);
    json_kv_u64_opt(j, "swap_total_mib", s->swap_total_mib);
    json_opt(j, "mem_limit", s->mem_limit);
    json_opt(j, "swap_limit", s->swap_limit);
    json_obj_end(j);
}

void user_json(struct json *j, const struct oom_event *e)
{
    json_kv_str(j, "killer", explain_killer_name(e));
    json_kv_str(j, "reported_by", record_name(e));
    json_systemd(j, e->user);
}

/* userspace_kills[]: what the killer's line says, in the fields both killers have (null where
 * one says nothing of it), then each killer's own detail */
int explain_userspace_kill_json(const struct oom_event *e, struct json *j)
{
    const struct oom_userside *s = e->user;
    const struct oom_victim *v = oom_event_primary(e);
    json_obj_begin(j);
    json_kv_str(j, "killer", explain_killer_name(e));
    json_kv_str(j, "reported_by", record_name(e));
    json_opt(j, "time", e->time);
    json_key(j, "uptime_s");
    if (opt_has(e->uptime_us))
        json_double(j, (double)e->uptime_us / 1e6, 6);
    else
        json_null(j);
    json_kv_i64_opt(j, "pid", v ? v->pid : OPT_ABSENT_I64);
    json_opt(j, "comm", v ? v->comm : NULL);
    json_kv_i64_opt(j, "uid", v ? v->uid : OPT_ABSENT_I64);
    json_kv_i64_opt(j, "oom_score_adj", v ? v->oom_score_adj : OPT_ABSENT_I64);
    json_kv_u64_opt(j, "vm_rss_kb", v ? v->vm_rss_kb : OPT_ABSENT);
    json_opt(j, "cgroup", e->record == OOM_RECORD_OOMD ? s->cgroup : NULL);
    json_opt(j, "signal", e->record == OOM_RECORD_EARLYOOM ? s->signal : NULL);
    json_oomd(j, e);
    json_earlyoom(j, e);
    json_systemd(j, s);
    int r = json_explanation(j, e, NULL);
    if (r < 0)
        return r;
    json_obj_end(j);
    return json_error(j);
}
