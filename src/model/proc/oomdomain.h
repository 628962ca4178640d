/*
 * Where an OOM happens and what it kills: the domain whose limit runs out (a memcg, or the whole
 * machine), its size in pages as oom_badness() scales oom_score_adj by, and the kill unit that
 * memory.oom.group makes of a victim on cgroup v2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/cgroup/cgroup.h"
#include "victims.h"

struct sysroot;

/*
 * mem_cgroup_get_max() (mm/memcontrol.c, the same from 5.x through 6.18): the memcg's
 * memory.max in pages, plus, when the memcg's swappiness is not 0, the swap it may use:
 *   v1 (memsw accounting): min(memsw.max - memory.max, total_swap_pages)
 *   v2:                    min(swap.max, total_swap_pages)
 * A memcg OOM scores with this as totalpages (constrained_alloc(): `?: 1`).
 * `swappiness` is mem_cgroup_swappiness(): memory.swappiness on v1, vm.swappiness on v2 (which
 * has no per-cgroup knob). Limits in bytes (CGROUP_UNLIMITED for "max"); *ret_swap_pages gets the
 * swap part.
 */
uint64_t oomdomain_memcg_totalpages(int version, uint64_t max, uint64_t memsw_max,
                                    uint64_t swap_max, uint64_t swappiness,
                                    uint64_t total_swap_pages, long page_size,
                                    uint64_t *ret_swap_pages);

/*
 * Which memcg OOMs when the processes of the last cgroup of `chain` (root first) allocate: of it
 * and the ancestors its charges reach (cgroup_charges_reach), the limited one (v1: or memsw-
 * limited) with the least headroom, whoever else uses it. try_charge_memcg() charges the page
 * counters from the cgroup up, page_counter_try_charge() stops at the first one over its limit,
 * and the memcg of that counter is the one that reclaims and OOMs ("oom_memcg=" in the report).
 * So with equal limits a parent fails first, since its usage includes its children's and its own
 * (a Kubernetes pod slice at its one container's limit also holds the container scope's own
 * kernel structures, charged to the parent); equal headroom goes to the nearest. Returns the
 * index in `chain`, or SIZE_MAX when nothing limits it (a global OOM).
 */
size_t oomdomain_pick(const struct cgroup_memory *const *chain, size_t n);

/*
 * mem_cgroup_get_oom_group() (4.19+, v2 only): from the victim's memcg up to and including the
 * OOMing one (the top of the snapshot for a global OOM), the highest cgroup with
 * memory.oom.group = 1; SIZE_MAX when none. Indices into `s`, whose parent links must lead from
 * `victim_memcg` to `domain`.
 */
size_t oomdomain_group_of(const struct cgroup_snapshot *s, size_t victim_memcg, size_t domain);

/* /proc/sys/vm/swappiness; OPT_ABSENT when unreadable. */
uint64_t oomdomain_vm_swappiness(const struct sysroot *sr);

struct proc_table;
struct kver;
struct meminfo;

enum oomdomain_why {
    OOMDOMAIN_OWN_LIMIT, /* the named cgroup's own limit is the first to run out */
    OOMDOMAIN_ANCESTOR,  /* an ancestor's limit runs out first (the named cgroup may have one) */
    OOMDOMAIN_MACHINE,   /* nothing limits it on the way up: a global OOM */
};

/* Who an OOM "in" a cgroup would kill, in the kernel's order. */
struct oomdomain {
    enum oomdomain_why why;
    char *path;       /* the cgroup asked about */
    char *oom_cgroup; /* the memcg that OOMs; NULL for a global OOM */
    uint64_t own_limit, own_usage; /* of `path` (memory limit, CGROUP_UNLIMITED when it has none;
                                      OPT_ABSENT when not read): ANCESTOR says why its own limit
                                      is not the one that runs out */
    bool own_tasks_only; /* v1: oom_cgroup has memory.use_hierarchy 0, so its OOM chooses among
                            its own tasks, not its subtree's */
    int version;
    uint64_t limit, memsw_limit, swap_limit; /* of oom_cgroup (bytes / CGROUP_UNLIMITED) */
    uint64_t usage;                          /* of oom_cgroup */
    uint64_t swappiness;                     /* the one mem_cgroup_get_max() looked at */
    uint64_t swap_pages;                     /* swap it added to totalpages */
    uint64_t totalpages;
    long page_size;
    struct cgroup_snapshot cgroups; /* the OOMing memcg's subtree; the whole hierarchy if global */
    struct victim_list victims;     /* every process of the domain, kill order first */
    size_t *memcg;                  /* per victims.v[i]: its memcg in `cgroups`, SIZE_MAX unknown */
    size_t *group;                  /* per victims.v[i]: the oom.group cgroup that dies with it,
                                       SIZE_MAX when it dies alone */
    size_t candidates;              /* processes of the domain */
};

/*
 * Builds the domain for `path` (a memory cgroup, already normalised): reads it and its ancestors,
 * picks the OOMing memcg (oomdomain_pick), walks that memcg's subtree (only the memcg itself
 * when it is a v1 memcg with memory.use_hierarchy 0: mem_cgroup_iter() does not descend there),
 * and ranks the processes of
 * `procs` (a snapshot read with STAT|STATUS|OOM|CGROUP) that belong to it, with the memcg's
 * totalpages and the memcg scan order for ties: cgroups in pre-order (siblings by creation),
 * then start time, then pid. `vm_swappiness` is used on v2. Returns 0, -ENOENT when `path` is
 * not there, -ENOMEDIUM when it is not a memory cgroup, -ENOMEM.
 */
int oomdomain_build(const struct cgroup_hier *h, const char *path, const struct proc_table *procs,
                    const struct kver *k, const struct meminfo *mi, uint64_t vm_swappiness,
                    struct oomdomain *ret);
/*
 * The same for a limited cgroup `all->v[idx]` of a snapshot already taken (every memory cgroup,
 * `all` from cgroup_snapshot_read()): its own OOM, ranked without reading the cgroups again, so
 * a view can rank many domains from one walk. Whether that OOM is the one its processes meet
 * first is the caller's question (cgroup_binding_of()). -EINVAL when that cgroup has no limit.
 */
int oomdomain_build_at(const struct cgroup_hier *h, const struct cgroup_snapshot *all, size_t idx,
                       const struct proc_table *procs, const struct kver *k,
                       const struct meminfo *mi, uint64_t vm_swappiness, struct oomdomain *ret);
void oomdomain_release(struct oomdomain *d);

/* Whether the victim at victims.v[i] is in the cgroup `path` or below it. */
bool oomdomain_in(const struct oomdomain *d, size_t i, const char *path);

/*
 * Whether an OOM that kills a memory.oom.group cgroup kills `p`, one of its processes: after the
 * victim, mem_cgroup_scan_tasks() hands every process of the group's subtree to
 * oom_kill_memcg_member(), which spares oom_score_adj -1000 and global init, and
 * __oom_kill_process() then skips a process that has no mm left (find_lock_task_mm() fails:
 * "OOM victim ... is already exiting. Skip killing the task"). mm/oom_kill.c, 4.19+.
 */
bool oomdomain_group_kills(const struct proc *p);

/*
 * What dies when victims.v[i] does: i itself, and when it dies with an oom.group cgroup
 * (group[i]), every other process of that cgroup's subtree that oomdomain_group_kills().
 * Writes up to `cap` victim indexes to `members`, in kill order; returns how many there are.
 */
size_t oomdomain_kill_unit(const struct oomdomain *d, size_t i, size_t *members, size_t cap);
