/*
 * The agent's Prometheus metrics (docs/metrics.md), collected at scrape time from the model:
 * nothing is cached, so a scrape is never stale. The only state is the count of OOM kills read
 * from the kernel log since the agent started, kept by the event loop and read under a lock.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "model/workload/kubelog.h"

struct sysroot;
struct kver;
struct oom_event;
struct podnames;

struct kill_series {
    char scope[16];
    char cgroup[256];
    char pod_uid[40];
    char container_id[16]; /* the first 12 hex digits, as docker and crictl show them */
    /* the names when the kill was read ("" unknown): a pod deleted since stays named */
    char namespace[KUBE_NAMESPACE_MAX + 1];
    char pod[KUBE_POD_NAME_MAX + 1];
    char container[KUBE_CONTAINER_MAX + 1];
    char comm[64];
    uint64_t count;
    double last; /* wall-clock time of the latest kill, seconds since the epoch */
};

/* OOM kills seen, by label set; bounded: past `max_series` label sets, kills are counted in one
 * series whose labels say "other" (a counter must never disappear, so nothing is evicted). */
struct kill_counters {
    pthread_mutex_t lock;
    struct kill_series *v;
    size_t n, cap, max_series;
};

void kill_counters_init(struct kill_counters *k, size_t max_series);
void kill_counters_release(struct kill_counters *k);
/* Counts each process the event's report says was killed. `cgroup`: the victim's cgroup when
 * the report does not name it (a rate-limited report; the agent's own observation), or NULL.
 * `names` (may be NULL) names its pod and container as they are now. */
void kill_counters_add(struct kill_counters *k, const struct oom_event *e, const char *cgroup,
                       const struct podnames *names);

struct metrics_config {
    unsigned cgroup_depth;          /* cgroups up to this many levels below the root */
    const struct config_list *include; /* globs; empty: all */
    const struct config_list *exclude; /* globs */
    bool next_victim;               /* the process snapshot for the next global victim */
};

/* A counter with one label value (the guard's kills by trigger). */
struct metrics_labelled {
    const char *label;
    uint64_t value;
};

/* The agent's own counters, read by the agent from the guard and the policy reconciler at
 * scrape time: the exporter reports them and needs to know nothing about either. */
struct metrics_agent {
    const struct metrics_labelled *guard_kills; /* by trigger; NULL when the guard is off */
    size_t n_guard_kills;
    bool policy_applied; /* the policy is applied: the counts below are meaningful */
    uint64_t policy_done, policy_failed;
    uint64_t scans, rechecks;               /* reconciliation passes of each kind so far */
    uint64_t last_scan_us, last_recheck_us; /* how long the latest of each took */
};

struct metrics_ctx {
    const struct sysroot *sr;
    const struct kver *kernel;
    const struct metrics_config *cfg;
    /* the pods' names: brought up to date by each collection (only its caller's thread uses it);
     * NULL: no namespace, pod and container labels */
    struct podnames *names;
    struct kill_counters *kills;
    const struct metrics_agent *agent; /* NULL: neither the guard nor the policy runs */
};

/* Renders the exposition (text format 0.0.4) into `out`. Returns 0 or a negative errno. */
int metrics_collect(const struct metrics_ctx *m, struct buf *out);

/* Whether the exporter takes this cgroup (depth, include and exclude globs). */
bool metrics_cgroup_wanted(const struct metrics_config *cfg, const char *path, unsigned depth);
