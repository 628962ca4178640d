/*
 * The OOM report parser and its words: the input is a log, fed line by line as explain feeds a
 * file (every pasted form goes through logline first), then every event is explained as text
 * and as JSON, and the cascades are found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "engine/report/explain/explain-report.h"
#include "engine/report/explain/explain.h"
#include "model/log/oomlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every event as JSON, in one buffer (to compare two readings of one input). */
static void events_json(const struct oomlog *p, struct buf *out)
{
    for (size_t i = 0; i < p->nevents; i++) {
        struct json j;
        json_init(&j, out, false);
        if (oom_event_userspace_kill(&p->events[i]))
            (void)explain_userspace_kill_json(&p->events[i], &j);
        else
            (void)explain_event_json(&p->events[i], NULL, &j);
    }
}

/* oomlog_feed_lines (explain's path for files: lines found and mostly read in one pass) must read
 * the input exactly as oomlog_feed_text line by line does */
static void same_as_blocks(const struct oomlog *lines, const char *s, const char *end)
{
    struct oomlog p;
    oomlog_init(&p);
    uint64_t n;
    (void)oomlog_feed_lines(&p, s, (size_t)(end - s), &n);
    (void)oomlog_finish(&p);
    struct buf a = BUF_INIT(64 * 1024 * 1024), b = BUF_INIT(64 * 1024 * 1024);
    events_json(lines, &a);
    events_json(&p, &b);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)) || lines->lines != p.lines ||
        lines->kernel_lines != p.kernel_lines || lines->user_lines != p.user_lines)
        abort();
    buf_release(&a);
    buf_release(&b);
    oomlog_release(&p);
}

/* line by line, as explain feeds a file */
static void feed(struct oomlog *p, const char *s, const char *end)
{
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        if (oomlog_feed_text(p, s, (size_t)(le - s)) < 0)
            break;
        s = nl ? nl + 1 : end;
    }
    (void)oomlog_finish(p);
}

static int discard(struct buf *out)
{
    buf_reset(out);
    return 0;
}

/* The same input streamed into the whole report (explain's path), as text or JSON, --last 2 or
 * every event. */
static void streamed(const char *s, const char *end)
{
    struct explain_style st = {.color = false};
    struct explain_report_opts ro = {
        .json = (end - s) % 2,
        .last = (end - s) % 3 == 0 ? 2 : 0,
        .style = &st,
        .flush = discard,
    };
    struct explain_report *rep = explain_report_new(&ro);
    if (!rep)
        return;
    struct oomlog p;
    oomlog_init(&p);
    oomlog_stream(&p, explain_report_event, rep);
    feed(&p, s, end);
    struct explain_input in = {.source = "fuzz"};
    struct explain_report_result res;
    (void)explain_report_end(rep, &in, false, &res);
    explain_report_free(rep);
    oomlog_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    streamed((const char *)data, (const char *)data + size);
    struct oomlog p;
    oomlog_init(&p);
    const char *s = (const char *)data, *end = s + size;
    feed(&p, s, end);
    same_as_blocks(&p, s, end);
    struct buf out = BUF_INIT(64 * 1024 * 1024);
    struct explain_style st = {.color = true};
    for (size_t i = 0; i < p.nevents; i++) {
        (void)explain_event_text(&p.events[i], i + 1, p.nevents, &st, &out);
        struct json j;
        json_init(&j, &out, false);
        (void)explain_event_json(&p.events[i], NULL, &j);
    }
    struct cascade *c;
    size_t nc;
    if (explain_cascades(p.events, p.nevents, NULL, &c, &nc) == 0) {
        for (size_t i = 0; i < nc; i++)
            (void)explain_cascade_text(&c[i], &out);
        free(c);
    }
    buf_release(&out);
    oomlog_release(&p);
    return 0;
}
