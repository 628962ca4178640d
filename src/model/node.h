/*
 * One machine's memory picture, read once and shared by `doctor` and `status`: memory and swap,
 * PSI, the OOM tunables, every process ranked for a machine-wide OOM, every memory cgroup, and
 * the OOM reports still in the kernel log. Each part records why it is missing instead of failing
 * the whole read: a container without /dev/kmsg or a kernel without PSI is a finding, not an
 * error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/cgroup/cgoutlook.h"
#include "model/cgroup/band.h"
#include "model/cgroup/cgroup.h"
#include "kver.h"
#include "model/log/logsource.h"
#include "meminfo.h"
#include "model/proc/procs.h"
#include "model/pressure/psi.h"
#include "swaps.h"
#include "sysctl.h"
#include "model/proc/victims.h"
#include "model/pressure/workingset.h"
#include "model/workload/podnames.h"

struct sysroot;
struct oomlog;

enum {
    NODE_READ_PROCS = 1u << 0,   /* processes and their machine-wide kill order */
    NODE_READ_CGROUPS = 1u << 1, /* every memory cgroup */
    NODE_READ_KMSG = 1u << 2,    /* OOM reports in the kernel log */
    NODE_READ_ALL = 0x7,
};

struct node {
    const struct sysroot *sr;
    unsigned parts; /* NODE_READ_* asked for */
    struct kver kernel;
    struct meminfo mem; /* always read: node_read() fails without it */
    struct vmstat vmstat;
    int vmstat_err;
    uint64_t vmstat_ms; /* clock_mono_ms() of that reading */
    struct psi psi; /* /proc/pressure/memory */
    int psi_err;    /* -ENOENT: no PSI (not built, or psi=0 on 7.2); -EOPNOTSUPP: psi=0 */
    struct sysctls sysctl;
    struct swaps swaps;
    int swaps_err;
    char *cmdline; /* the kernel's command line, NULL when unreadable */

    struct proc_table procs;
    struct victim_list global; /* every process, in the order a machine-wide OOM kills */
    size_t *proc_memcg;        /* per procs.v[i]: its memory cgroup in `cgroups`, SIZE_MAX */

    struct cgroup_hier hier;        /* always opened */
    int hier_err;                   /* -ENOMEDIUM: no memory controller */
    struct cgroup_snapshot cgroups; /* every memory cgroup, pre-order; empty when none */
    int cgroups_err;                /* -ENOMEDIUM also when not asked for */
    uint64_t cgroups_ms;            /* clock_mono_ms() when the walk began */

    /* page cache re-read after reclaim, over an interval (node_measure_refaults); measured
     * false until then */
    struct workingset refaults;     /* the machine: /proc/vmstat against meminfo's file LRUs */
    bool refaults_from_limits;      /* the machine has room (MemAvailable >= 10% of RAM): its
                                       refaults come from cgroups at their limits, and its level
                                       is none */
    struct workingset *cg_refaults; /* per cgroups.v[i], or NULL */

    /* the memory.high values the agent's guard band set (<root>/run/oomwarden/guard-band), read
     * with the cgroups; band_err -ENOENT: no record, -EBADMSG: unreadable at band_bad_line */
    struct band_records band;
    int band_err;
    size_t band_bad_line;

    /* the names of the pods and containers (the kubelet's log layout), read with the processes
     * or the cgroups; empty on a node without it */
    struct podnames names;

    struct oomlog *log; /* parsed and finished; NULL when not read */
    int log_err;        /* -EPERM/-EACCES: dmesg_restrict; -ENOENT: no /dev/kmsg */
    bool log_live;      /* the device itself, not a saved copy */
    struct logsource_stats log_stats;
    /* now, on the clock of the kernel log's stamps (microseconds since boot; printk's
     * local_clock() stops during suspend like CLOCK_MONOTONIC); OPT_ABSENT when unknown */
    uint64_t now_us;
    double boot_wall; /* wall time of boot for the live log, 0 otherwise */
};

/*
 * Reads the parts asked for (memory, PSI, tunables, swap and the kernel version always).
 * Returns 0, or a negative errno when /proc/meminfo or (with NODE_READ_PROCS) /proc cannot be
 * read: without those there is nothing to say. Every other part that cannot be read leaves its
 * *_err set.
 */
int node_read(const struct sysroot *sr, unsigned parts, struct node *ret);
void node_release(struct node *n);

/*
 * Reads the refault counters again once interval_ms have passed since the first reading
 * (sleeping for the rest), machine-wide and for every cgroup read, and fills n->refaults and
 * n->cg_refaults. interval_ms 0 leaves them unmeasured. Returns 0 or -ENOMEM.
 */
int node_measure_refaults(struct node *n, uint64_t interval_ms);

/* The process's memory cgroup in n->cgroups, or NULL. `p` points into n->procs. */
const struct cgroup_memory *node_memcg_of(const struct node *n, const struct proc *p);
/* The index of `p` in n->procs. */
size_t node_proc_index(const struct node *n, const struct proc *p);

/*
 * The limit that binds cgroup i (cgroup_binding_of() over its ancestors in the snapshot).
 */
void node_binding(const struct node *n, size_t i, struct cgroup_binding *ret);
/* The index of that cgroup in the snapshot; SIZE_MAX when nothing limits cgroup i. */
size_t node_binder(const struct node *n, size_t i);

/* What the next growth of cgroup i runs into (cgroup_outlook_of() on the cgroup whose limit
 * binds it, with the machine's swap). */
void node_outlook(const struct node *n, size_t i, struct cgroup_outlook *ret);
