/*
 * `oomwarden watch`: one epoll loop that turns the kernel's memory signals into a stream of
 * events, as they happen:
 *
 *   oom_kill       an OOM kill report, parsed as `explain` parses it (from /dev/kmsg)
 *   memory_events  a cgroup's memory.events counters moved (max, oom, oom_kill, high...)
 *   psi_trigger    a PSI trigger fired (stall over threshold within its window)
 *   alert          a threshold rule on PSI averages started or stopped firing
 *   kmsg_lost      the kernel log overran: N records were lost
 *
 * Mechanisms, all notifications, no polling of counters:
 *   - v2 memory.events: inotify IN_MODIFY (kernfs notifies on every change);
 *   - v1: an eventfd registered for memory.oom_control in cgroup.event_control (the v1
 *     OOM notifier, fired on every OOM in the cgroup's subtree), after which failcnt and
 *     oom_control are read;
 *   - new and removed cgroups: inotify IN_CREATE/IN_DELETE_SELF on every cgroup directory;
 *   - PSI: triggers on the pressure files, polled for EPOLLPRI; EPOLLERR = the cgroup is gone;
 *   - /dev/kmsg: non-blocking reads on EPOLLIN;
 *   - alert rules: re-evaluated every 2 s, the interval at which the kernel updates PSI averages.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "engine/runtime/psitrig.h"

struct sysroot;

struct watch_opts {
    bool json;
    bool color;           /* text output on a terminal */
    bool kmsg;            /* follow the kernel log for OOM kills */
    bool kmsg_from_start; /* also report what is already in the ring buffer */
    bool memory_events;   /* watch memory.events of the cgroups */
    char **cgroups;       /* globs: cgroups for PSI triggers and alert rules (NULL: system only) */
    size_t ncgroups;
    struct psi_trigger_spec *triggers;
    size_t ntriggers;
    struct alert_rule *rules;
    size_t nrules;
    const char *exec; /* hook command, or NULL */
    unsigned exec_max;
    uint64_t exec_timeout_ms;
    uint64_t duration_ms; /* stop after this long (0: until SIGTERM/SIGINT) */
    uint64_t max_events;  /* stop after this many events (0: no limit) */
};

/* Runs until SIGTERM/SIGINT (exit 0), the duration or the event count. Setup problems are
 * reported on stderr; returns 0 or a negative errno. */
int watch_run(const struct sysroot *sr, const struct watch_opts *o);
