/*
 * Scratch memory cgroups for `lab`: created under a name of ours at the top of the memory
 * hierarchy, holding only processes we started, and always removed afterwards.
 *
 *   v2      one directory, memory.max / memory.high / memory.swap.max, PSI in memory.pressure
 *   v1      the memory controller's directory (memory.limit_in_bytes, memory.swappiness 0);
 *   hybrid  v1 plus a twin at the same path in the unified tree: PSI is accounted per cgroup of
 *           the default hierarchy only, so a process must be in a unified cgroup of its own for
 *           its memory.pressure to be readable apart from everyone else's
 *
 * Names are <prefix>-<pid of the creating process>; a directory whose pid is no longer an
 * oomwarden process was left by a run that crashed (or was SIGKILLed) and is swept away.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_hier;
struct sysroot;

#define SCRATCH_NAME_MAX 64

struct scratch_cgroup {
    char path[SCRATCH_NAME_MAX + 2]; /* in the memory hierarchy, as /proc/PID/cgroup shows it */
    int version;                     /* 1 or 2 */
    int dirfd;                       /* the memory cgroup's directory */
    int twin_dirfd;                  /* hybrid: the unified tree's twin; -1 otherwise */
    int psi_dirfd;                   /* where memory.pressure is: dirfd, twin_dirfd, or -1 */
    bool has_kill;                   /* v2 cgroup.kill (5.14) */
    const struct cgroup_hier *h;
};

/*
 * Creates <top>/<name> (and its unified twin on hybrid systems). On v2, turns the memory
 * controller on in the top's cgroup.subtree_control when it is not (*ret_enabled_memory).
 * -EEXIST when the name is taken; other errors leave nothing behind.
 */
int scratch_create(const struct cgroup_hier *h, const char *name, struct scratch_cgroup *ret,
                   bool *ret_enabled_memory);

/*
 * The limit: v2 memory.max (and memory.high unless 0, memory.swap.max 0 where the file
 * exists); v1 memory.limit_in_bytes and memory.swappiness 0, so that with swap on the machine
 * the cgroup still runs out of memory rather than into swap. -EOPNOTSUPP for `high` on v1.
 */
int scratch_set_limits(const struct scratch_cgroup *s, uint64_t max, uint64_t high);

/* Moves `pid` (0: the caller) into the cgroup and, on hybrid systems, into its twin. */
int scratch_join(const struct scratch_cgroup *s, pid_t pid);

/*
 * Kills everything in the cgroup: cgroup.kill where the kernel has it, else each process of
 * cgroup.procs through a pidfd opened while it is still listed there (so a reused pid is never
 * hit). Waits up to timeout_ms for cgroup.procs to be empty. Returns 0, -ETIMEDOUT, -errno.
 */
int scratch_kill_all(const struct scratch_cgroup *s, int timeout_ms);

/* Kills what is left, removes both directories (retrying while exiting tasks keep them busy)
 * and closes the fds. Returns 0 or the first error; the struct is released either way. */
int scratch_destroy(struct scratch_cgroup *s);
/* Closes the fds only (the child side of a fork). */
void scratch_close(struct scratch_cgroup *s);

/*
 * Removes <prefix>-<pid> directories at the top of the memory (and unified) hierarchy whose pid
 * is not a live process named `comm`. `removed` gets up to `cap` paths (static-size entries);
 * *ret_n how many were removed. Returns 0 or the first error (the sweep goes on after errors).
 */
int scratch_sweep_stale(const struct cgroup_hier *h, const struct sysroot *sr, const char *prefix,
                        const char *comm, char (*removed)[SCRATCH_NAME_MAX + 2], size_t cap,
                        size_t *ret_n);

/* Whether `name` is "<prefix>-<digits>"; *ret_pid the digits. Pure. */
bool scratch_name_match(const char *name, const char *prefix, pid_t *ret_pid);
