/*
 * explain's whole output, fed event by event as the parser settles them (oomlog_stream): memory
 * for what is printed, not for the input. Text: the summary first and every event numbered "i of
 * N" when the events fit in EXPLAIN_REPORT_HOLD; past that they are written as they come and the
 * summary closes the output. --last N keeps the last N. JSON (docs/json/explain.md) is written as
 * it comes: the kernel's events in events[], the userspace killers' kills (systemd-oomd,
 * earlyoom) held for userspace_kills[] after it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct oom_event;
struct explain_style;

#define EXPLAIN_REPORT_HOLD 256 /* text: events kept for a summary on top */

struct explain_report_opts {
    bool json;
    size_t last; /* --last N; 0: every event */
    const struct explain_style *style;
    /* --since: false leaves the event out; NULL keeps every event */
    bool (*wanted)(void *ctx, const struct oom_event *e);
    void *ctx;
    /* --since's filter said the event is left out only because it has no date */
    bool (*undated)(void *ctx, const struct oom_event *e);
    /* writes `out` and empties it; nonzero when it could not (it said why) */
    int (*flush)(struct buf *out);
};

/* What was read, for the end of the output. */
struct explain_input {
    const char *source; /* "file.log", "2 files", "the kernel log (/dev/kmsg)" */
    uint64_t bytes, lines, kernel_lines, user_lines, kmsg_lost, suppressed_reports;
};

struct explain_report;

struct explain_report *explain_report_new(const struct explain_report_opts *o);
/* The oomlog stream callback: 1 when the report keeps the event, 0, or a negative errno. */
int explain_report_event(void *report, struct oom_event *e);
struct explain_report_result {
    size_t shown;   /* events the output shows */
    size_t undated; /* events --since left out because the text gives them no date */
};

/* Writes the rest. Returns 0 or a negative errno (-EIO: flush failed and said why). */
int explain_report_end(struct explain_report *r, const struct explain_input *in, bool errors,
                       struct explain_report_result *res);
void explain_report_free(struct explain_report *r);
