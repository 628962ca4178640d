/*
 * What will go wrong on this machine when memory runs out: checks over the node model (node.h),
 * each producing at most one finding with the evidence (numbers and names from the model) and the
 * concrete fix (the file to write, the flag, the manifest field). Findings are ranked by severity,
 * then by the order of the checks below, which is the order of their impact.
 *
 * Every statement is derived from what the model read; a check that lacks its inputs (no PSI,
 * no cgroups, no kernel log) reports why it could not run instead of guessing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct node;
struct json;

enum doctor_severity { DOCTOR_INFO, DOCTOR_WARNING, DOCTOR_CRITICAL };

/* The checks, in the order of their impact (and of the issue that lists them). */
enum doctor_check_id {
    CHECK_KILL_ORDER,   /* node-critical processes before workloads in a global OOM */
    CHECK_LIMITS,       /* memory limits adding up beyond RAM (+ swap) */
    CHECK_MEMORY_HIGH,  /* memory.max without memory.high on busy cgroups (v2) */
    CHECK_OOM_GROUP,    /* memory.oom.group = 1: one process's excess kills a whole cgroup */
    CHECK_PAGE_CACHE,   /* page cache dominating a cgroup at its limit */
    CHECK_PRESSURE,     /* memory PSI and page-cache thrashing (refaults): node and cgroups */
    CHECK_PSI_CGROUPS,  /* PSI unavailable; cgroup v1 / hybrid consequences */
    CHECK_SWAP,         /* swap and zram facts, the trade-off */
    CHECK_SYSCTL,       /* vm.panic_on_oom, oom_kill_allocating_task, overcommit */
    CHECK_OOM_DAEMON,   /* no userspace OOM daemon */
    CHECK_ADJ,          /* large processes at -1000; tiny ones with positive adj first */
    CHECK_RECENT_KILLS, /* OOM kills in the kernel log */
    CHECK_KERNEL_LOG,   /* the kernel log unreadable */
    CHECK_GUARD_BAND,   /* memory.high set by the agent's guard band */
    CHECK_COUNT,
};

struct doctor_check_info {
    const char *id;      /* "kill-order": what --only/--skip and JSON use */
    const char *summary; /* one line for --help and the docs */
};
extern const struct doctor_check_info doctor_checks[CHECK_COUNT];

/* The check named `id`, or -1. */
int doctor_check_find(const char *id);
const char *doctor_severity_name(enum doctor_severity s);

struct doctor_opts {
    const char *const *critical; /* node-critical patterns (model/critical.h); NULL: the default */
    size_t ncritical;
    bool run[CHECK_COUNT]; /* which checks run */
};

struct finding {
    enum doctor_check_id check;
    enum doctor_severity severity;
    char *title;     /* one sentence, no final period */
    char **evidence; /* lines, each a complete statement with its numbers */
    size_t nevidence;
    char **fix; /* concrete actions */
    size_t nfix;
    char *data; /* compact JSON object with the numbers behind the evidence ("{}" if none) */
};

/* What each check concluded, findings or not. */
enum doctor_result { RESULT_NOT_RUN, RESULT_SKIPPED, RESULT_OK, RESULT_FINDING };

struct doctor_report {
    struct finding *v; /* ranked: severity, then check order */
    size_t n;
    enum doctor_result result[CHECK_COUNT];
    char *note[CHECK_COUNT]; /* OK: what was looked at; SKIPPED: why; NULL otherwise */
    size_t count[3];         /* findings per severity */
};

/* Runs the checks o->run asks for over `n`. Returns 0 or -ENOMEM. */
int doctor_run(const struct node *n, const struct doctor_opts *o, struct doctor_report *ret);
void doctor_report_release(struct doctor_report *r);

/* The worst severity found; -1 when there is no finding. */
int doctor_worst(const struct doctor_report *r);

/* A cgroup whose memory.high the agent's guard band set (a record of node->band): "set" (its
 * memory.high is the band's), "changed" (written by someone else since) or "gone"; as JSON
 * (docs/json/doctor.md, guard-band) and as one line of text. */
struct band_record;
const char *doctor_band_state(const struct node *n, const struct band_record *rec);
void doctor_band_json(const struct node *n, const struct band_record *rec, struct json *j);
void doctor_band_line(const struct node *n, const struct band_record *rec, struct buf *out);

/* One finding as a JSON object (docs/json/doctor.md). */
void doctor_finding_json(const struct finding *f, struct json *j);
