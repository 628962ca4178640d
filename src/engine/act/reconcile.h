/*
 * Keeping the policy applied, in the agent:
 *
 *   new processes   the netlink proc connector's fork, exec, comm and uid events where the agent
 *                   can listen to it (runtime/procconn.h: the initial PID, user and network
 *                   namespaces, CAP_NET_ADMIN), each process matched once, 200 ms
 *                   after its events (a child that only forked, from a matched parent, takes the
 *                   parent's verdict unread; where the rules match on the name and uid only,
 *                   taskstats names it and /proc is read only for what a rule changes);
 *                   elsewhere a scan of /proc every `scan-interval`
 *                   (1 s): readdir, and only the PIDs not seen in the previous scan are read and
 *                   matched
 *   new cgroups     inotify IN_CREATE on every memory cgroup directory: a new cgroup is planned
 *                   at once
 *   second looks    a new process a rule sets oom_score_adj for is read again 1 s and 5 s after
 *                   its match, and its value put back when it changed: a program or runtime that
 *                   writes its own just after exec does not keep it until the recheck
 *   drift           every `recheck-interval` (10 s) everything is read and planned again, so a
 *                   value someone else changed back is changed again
 *
 * Each change (and each failure, once per process or cgroup) is an event.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct loop;
struct sysroot;
struct reconcile;

struct reconcile_opts {
    uint64_t scan_interval_ms;
    uint64_t recheck_interval_ms;
    bool dry_run;
    bool proc_connector; /* new processes from the proc connector where it can be used */
};

struct reconcile_sink {
    /* one change as JSON (no newline) and as text */
    void (*event)(void *ctx, const char *json, const char *text);
    void *ctx;
};

struct reconcile_stats {
    uint64_t done, failed, scans, rechecks, new_processes;
    uint64_t last_scan_us, last_recheck_us; /* how long the latest of each took */
};

int reconcile_start(struct loop *l, const struct sysroot *sr, const struct reconcile_opts *o,
                    const struct policy *p, const struct reconcile_sink *sink,
                    struct reconcile **ret);
/* New options or rules (SIGHUP): everything is planned again at once. */
void reconcile_reconfigure(struct reconcile *r, const struct reconcile_opts *o,
                           const struct policy *p);
void reconcile_stop(struct reconcile *r);
void reconcile_get_stats(const struct reconcile *r, struct reconcile_stats *ret);
/* How new processes are found, for the log: "the netlink proc connector (...)" or "a scan of
 * /proc every N ms (no proc connector: why)". */
const char *reconcile_source(const struct reconcile *r);
