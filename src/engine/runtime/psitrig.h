/*
 * PSI triggers (kernel/sched/psi.c, 5.2+): "<some|full> <stall us> <window us>" written to a
 * pressure file opened O_RDWR|O_NONBLOCK; the fd then polls POLLPRI when the stall exceeds the
 * threshold within the window (at most once per window), and POLLERR when the cgroup is removed.
 *
 * Rules the kernel enforces, by version (facts §5): window 500 ms (before 6.5) .. 10 s; threshold
 * > 0 and <= window; one trigger per fd. Without CAP_SYS_RESOURCE (6.4+, and 6.1.192) the window
 * must be a multiple of 2 s; before 5.13 only root could create triggers at all.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct psi_trigger_spec {
    bool full;          /* "full" (all non-idle tasks stalled) instead of "some" */
    uint64_t stall_us;  /* threshold */
    uint64_t window_us; /* window */
};

/* "some 150ms 1s", "full 10% 2s"... → spec. A percentage is of the window. */
int psi_trigger_spec_parse(const char *s, struct psi_trigger_spec *ret);

/*
 * Whether this process must use unprivileged windows (multiples of 2 s): no CAP_SYS_RESOURCE in
 * its effective set.
 */
bool psi_trigger_unprivileged(void);

/* Rounds the window up to what an unprivileged opener may use (multiple of 2 s, ≤ 10 s),
 * scaling the threshold so the same fraction of the window is meant. */
void psi_trigger_spec_unprivileged(struct psi_trigger_spec *s);

/*
 * Opens `path` (relative to dirfd) and registers the trigger. Returns the fd (to poll for
 * EPOLLPRI) or a negative errno: -EINVAL for a trigger the kernel refuses, -EOPNOTSUPP when PSI
 * is off, -ENOENT when the file does not exist.
 */
int psi_trigger_open(int dirfd, const char *path, const struct psi_trigger_spec *spec);
