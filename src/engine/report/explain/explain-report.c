#include "explain-report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/limits.h"
#include "model/log/oomlog.h"
#include "explain.h"

#define FLUSH_AT (1024 * 1024)

struct explain_report {
    struct explain_report_opts o;
    struct buf out;
    struct json j;
    /* JSON: userspace_kills[], held until events[] is closed (a kill is a few hundred bytes) */
    struct buf user_out;
    struct json user_j;
    /* every kernel event found (systemd's record of one too), and its kills */
    size_t found, kills, memcg, global, other, limited, undated;
    size_t systemd;        /* of those, known only from systemd's record of the unit */
    size_t oomd, earlyoom; /* the userspace killers' kills, not events of the kernel's */
    uint64_t suppressed;
    size_t matched; /* those --since keeps */
    /* events kept: --last's ring, or (text) the first ones until the summary can be written */
    struct oom_event *kept;
    size_t nkept, head;
    bool streaming; /* text: written as they come, titles without a total */
    size_t written; /* events written so far */
    struct cascade_tracker cas;
    int err;
};

static int flush_if_big(struct explain_report *r)
{
    if (r->err || r->out.len < FLUSH_AT)
        return r->err;
    if (r->o.flush(&r->out))
        r->err = -EIO;
    return r->err;
}

/* The split in parentheses counts processes, like the total before it: an oom.group event kills
 * several in one memcg, and "5 processes killed (1 in memory cgroups)" reads as 4 elsewhere. */
static void count(struct explain_report *r, const struct oom_event *e)
{
    size_t k = 0;
    if (oom_event_userspace_kill(e)) {
        r->oomd += e->killer == OOM_KILLER_OOMD;
        r->earlyoom += e->killer == OOM_KILLER_EARLYOOM;
        return;
    }
    r->found++;
    if (e->record == OOM_RECORD_SYSTEMD) {
        r->systemd++;
        return;
    }
    for (size_t v = 0; v < e->nvictims; v++)
        k += e->victims[v].kind != OOM_VICTIM_EXITING;
    r->kills += k;
    if (e->scope == OOM_SCOPE_MEMCG)
        r->memcg += k;
    else if (e->scope == OOM_SCOPE_GLOBAL)
        r->global += k;
    else
        r->other += k;
    r->limited += e->rate_limited;
    r->suppressed += e->suppressed_reports;
}

/* One event into the output, numbered among the matched ones. */
static int write_event(struct explain_report *r, const struct oom_event *e, size_t index)
{
    int q;
    if (r->o.json && oom_event_userspace_kill(e)) {
        q = explain_userspace_kill_json(e, &r->user_j);
    } else if (r->o.json) {
        q = explain_event_json(e, r->o.style ? r->o.style->names : NULL, &r->j);
    } else {
        buf_putc(&r->out, '\n');
        q = explain_event_text(e, index, r->streaming ? 0 : r->matched, r->o.style, &r->out);
    }
    if (q == 0)
        q = cascade_tracker_add(&r->cas, e);
    r->written++;
    if (q < 0 && !r->err)
        r->err = q;
    return flush_if_big(r);
}

static void keep(struct explain_report *r, struct oom_event *e)
{
    size_t cap = r->o.last ? r->o.last : EXPLAIN_REPORT_HOLD;
    if (r->nkept < cap) {
        r->kept[r->nkept++] = *e;
        return;
    }
    /* --last: the oldest goes */
    oom_event_release(&r->kept[r->head]);
    r->kept[r->head] = *e;
    r->head = (r->head + 1) % cap;
}

/* Text past EXPLAIN_REPORT_HOLD events: what was kept is written, the rest as it comes. */
static int start_streaming(struct explain_report *r)
{
    r->streaming = true;
    for (size_t i = 0; i < r->nkept && !r->err; i++) {
        write_event(r, &r->kept[i], i + 1);
        oom_event_release(&r->kept[i]);
    }
    r->nkept = 0;
    return r->err;
}

int explain_report_event(void *report, struct oom_event *e)
{
    struct explain_report *r = report;
    count(r, e);
    if (r->o.wanted && !r->o.wanted(r->o.ctx, e)) {
        if (r->o.undated && r->o.undated(r->o.ctx, e))
            r->undated++;
        return r->err;
    }
    r->matched++;
    if (r->o.last || (!r->o.json && !r->streaming)) {
        if (!r->o.last && r->nkept == EXPLAIN_REPORT_HOLD && start_streaming(r) < 0)
            return r->err;
        if (r->o.last || !r->streaming) {
            keep(r, e);
            return 1;
        }
    }
    write_event(r, e, r->matched);
    return r->err;
}

struct explain_report *explain_report_new(const struct explain_report_opts *o)
{
    struct explain_report *r = calloc(1, sizeof(*r));
    size_t cap = o->last ? o->last : EXPLAIN_REPORT_HOLD;
    if (!r || !(r->kept = calloc(cap, sizeof(*r->kept)))) {
        free(r);
        return NULL;
    }
    r->o = *o;
    r->out = (struct buf)BUF_INIT(CAP_OUTPUT);
    r->user_out = (struct buf)BUF_INIT(CAP_OUTPUT);
    cascade_tracker_init(&r->cas, o->style ? o->style->names : NULL);
    if (o->json) {
        json_init(&r->j, &r->out, true);
        json_obj_begin(&r->j);
        json_kv_arr_begin(&r->j, "events");
        /* compact: json_raw re-emits it in the output's layout */
        json_init(&r->user_j, &r->user_out, false);
        json_arr_begin(&r->user_j);
    }
    return r;
}

void explain_report_free(struct explain_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nkept; i++)
        oom_event_release(&r->kept[i]);
    free(r->kept);
    cascade_tracker_release(&r->cas);
    buf_release(&r->out);
    buf_release(&r->user_out);
    free(r);
}

static void summary_text(struct explain_report *r, const char *source)
{
    struct buf *out = &r->out;
    size_t n = r->found + r->oomd + r->earlyoom;
    bool user = r->oomd || r->earlyoom || r->systemd;
    buf_printf(out, "%zu OOM event%s in %s: %zu process%s killed%s", n, n == 1 ? "" : "s", source,
               r->kills, r->kills == 1 ? "" : "es", user ? " by the kernel" : "");
    const char *sep = " (";
    if (r->memcg) {
        buf_printf(out, "%s%zu in memory cgroups", sep, r->memcg);
        sep = ", ";
    }
    if (r->global) {
        buf_printf(out, "%s%zu machine-wide", sep, r->global);
        sep = ", ";
    }
    if (r->other) {
        buf_printf(out, "%s%zu other or unknown scope", sep, r->other);
        sep = ", ";
    }
    buf_puts(out, *sep == ',' ? ")" : "");
    if (r->oomd)
        buf_printf(out, "; %zu cgroup%s killed by systemd-oomd", r->oomd, r->oomd == 1 ? "" : "s");
    if (r->earlyoom)
        buf_printf(out, "; %zu kill%s by earlyoom", r->earlyoom, r->earlyoom == 1 ? "" : "s");
    if (r->systemd)
        buf_printf(out, "; %zu known only from systemd's record of the unit", r->systemd);
    buf_puts(out, ".\n");
    if (r->suppressed)
        buf_printf(out,
                   "The kernel counted %" PRIu64 " suppressed report%s (\"callbacks suppressed\": "
                   "it prints at most 10 OOM reports per 5 s).\n",
                   r->suppressed, r->suppressed == 1 ? "" : "s");
    if (r->limited)
        buf_printf(out,
                   "%zu of these kills printed only the kill line: the kernel rate-limited %s.\n",
                   r->limited, r->limited == 1 ? "its report" : "their reports");
    /* the headline counts what the input holds; a subset says which */
    size_t shown = r->written + r->nkept;
    if (shown == n)
        return;
    bool since = r->o.wanted != NULL;
    if (since && shown < r->matched)
        buf_printf(out, "Showing the last %zu of the %zu from --since on.\n", shown, r->matched);
    else if (since)
        buf_printf(out, "Showing the %zu from --since on.\n", shown);
    else
        buf_printf(out, "Showing the last %zu.\n", shown);
}

/* The kept events, oldest first, numbered among the matched ones. */
static void write_kept(struct explain_report *r)
{
    size_t n = r->nkept, first = r->matched - n;
    for (size_t k = 0; k < n && !r->err; k++) {
        struct oom_event *e = &r->kept[(r->head + k) % n];
        write_event(r, e, first + k + 1);
    }
}

static void cascades_out(struct explain_report *r)
{
    if (r->err || (r->err = cascade_tracker_end(&r->cas)) < 0)
        return;
    if (r->o.json) {
        json_kv_arr_begin(&r->j, "cascades");
    }
    for (size_t i = 0; i < r->cas.ndone && !r->err; i++) {
        int q;
        if (r->o.json) {
            q = explain_cascade_json(&r->cas.done[i], &r->j);
        } else {
            buf_puts(&r->out, i ? "Cascade: " : "\nCascade: ");
            q = explain_cascade_text(&r->cas.done[i], &r->out);
        }
        if (q < 0)
            r->err = q;
    }
    if (r->o.json)
        json_arr_end(&r->j);
}

static void input_json(struct explain_report *r, const struct explain_input *in)
{
    struct json *j = &r->j;
    json_kv_obj_begin(j, "input");
    json_kv_str(j, "source", in->source);
    json_kv_u64(j, "bytes", in->bytes);
    json_kv_u64(j, "lines", in->lines);
    json_kv_u64(j, "kernel_lines", in->kernel_lines);
    json_kv_u64(j, "userspace_lines", in->user_lines);
    json_kv_u64(j, "kmsg_records_lost", in->kmsg_lost);
    json_kv_u64(j, "events_found", r->found);
    json_kv_u64(j, "userspace_kills_found", r->oomd + r->earlyoom);
    json_kv_u64(j, "suppressed_reports", in->suppressed_reports);
    json_obj_end(j);
}

int explain_report_end(struct explain_report *r, const struct explain_input *in, bool errors,
                       struct explain_report_result *res)
{
    res->undated = r->undated;
    if (r->o.json) {
        write_kept(r);
        json_arr_end(&r->j);
        json_arr_end(&r->user_j);
        if (!r->err)
            r->err = json_error(&r->user_j);
        json_key(&r->j, "userspace_kills");
        json_raw(&r->j, r->user_out.data, r->user_out.len);
        cascades_out(r);
        input_json(r, in);
        json_obj_end(&r->j);
        if (!r->err)
            r->err = json_error(&r->j);
    } else if (r->matched == 0 && !errors) {
        size_t found = r->found + r->oomd + r->earlyoom;
        buf_printf(&r->out, "No OOM-killer reports in %s", in->source);
        if (found)
            buf_printf(&r->out, " match (%zu found)", found);
        buf_puts(&r->out, ".\n");
    } else if (!r->streaming) {
        if (r->matched)
            summary_text(r, in->source);
        write_kept(r);
        cascades_out(r);
    } else {
        cascades_out(r);
        buf_putc(&r->out, '\n');
        summary_text(r, in->source);
    }
    res->shown = r->written;
    if (!r->err && r->o.flush(&r->out))
        r->err = -EIO;
    return r->err;
}
