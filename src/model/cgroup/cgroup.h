/*
 * The memory controller's view of cgroups, one struct whatever the hierarchy version.
 *
 * Layouts (found from mountinfo):
 *   v2      one cgroup2 mount carries the memory controller (memory.current, memory.max...)
 *   v1      a cgroup v1 hierarchy with the memory controller (memory.usage_in_bytes...)
 *   hybrid  v1 memory controller plus a cgroup2 mount without it, which still carries the
 *           per-cgroup memory.pressure (systemd's "hybrid" mode; this project's test machines)
 *
 * A cgroup is named by its path relative to the hierarchy's root, as /proc/PID/cgroup and the
 * kernel's OOM report print it: "/", "/system.slice/ssh.service".
 *
 * Every size is in bytes. A value the version or the kernel does not have is OPT_ABSENT (null in
 * JSON), never 0; a limit that is not set reads CGROUP_UNLIMITED ("max").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/pressure/psi.h"

struct sysroot;

/* Deeper hierarchies exist only to break tools; the walk does not descend further. */
#define CGROUP_WALK_MAX_DEPTH 256

/* A limit that is "max" (v2) or PAGE_COUNTER_MAX pages (v1's 9223372036854771712 on x86-64). */
#define CGROUP_UNLIMITED (UINT64_MAX - 1)

static inline bool cgroup_limit_set(uint64_t v)
{
    return v != CGROUP_UNLIMITED && v != UINT64_MAX;
}

enum cgroup_layout { CGROUP_LAYOUT_NONE, CGROUP_LAYOUT_V1, CGROUP_LAYOUT_V2, CGROUP_LAYOUT_HYBRID };

const char *cgroup_layout_name(enum cgroup_layout l);

/* What mountinfo says, before anything is opened. Strings are malloc'd, NULL when absent. */
struct cgroup_mountinfo {
    char *v1_memory_mountpoint; /* a cgroup v1 mount whose super options include "memory" */
    char *v1_memory_root;       /* its root within the hierarchy (4th field), usually "/" */
    char *v2_mountpoint;        /* a cgroup2 mount */
    char *v2_root;
};

/*
 * Parses /proc/PID/mountinfo text (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
 * FSTYPE SOURCE SUPEROPTS". Octal escapes (\040 for a space) are decoded. When a hierarchy is
 * mounted more than once, the first mount of its root ("/") wins, else the first mount.
 * Returns 0 (also when there is no cgroup mount), -ENOMEM, or -EBADMSG for no parsable line.
 */
int cgroup_mountinfo_parse(const char *buf, size_t len, struct cgroup_mountinfo *ret);
void cgroup_mountinfo_release(struct cgroup_mountinfo *mi);

struct cgroup_mount {
    char *mountpoint; /* in the target system, as mountinfo printed it; NULL when none */
    char *root;       /* the mount's root in the hierarchy: "/" unless a subtree is bind-mounted */
    int fd;           /* the mount point under the sysroot (O_PATH directory), -1 when none */
};

/* The hierarchies of one machine (or fixture tree). */
struct cgroup_hier {
    enum cgroup_layout layout;
    int memory_version;          /* 1 or 2; 0 when no memory controller is mounted */
    struct cgroup_mount memory;  /* the hierarchy that carries the memory controller */
    struct cgroup_mount unified; /* the cgroup2 mount: memory.pressure (== memory on v2) */
    long page_size;
    const struct sysroot *sr;
};

/*
 * Finds and opens the hierarchies. Reads mountinfo of <root>/proc/1 under --root (the host's
 * init sees the host's mounts, whose paths are the host's: they are opened under the root), else
 * <root>/proc/self; without cgroup mounts there, probes <root>/sys/fs/cgroup for the usual
 * layouts. Returns 0 (layout NONE when there is no cgroup filesystem) or a negative errno.
 */
int cgroup_hier_open(const struct sysroot *sr, struct cgroup_hier *ret);
void cgroup_hier_close(struct cgroup_hier *h);

/* memory.stat, v2 names. On v1 the hierarchical total_* keys are mapped to them. */
struct cgroup_memstat {
    uint64_t anon, file, kernel, kernel_stack, pagetables, sec_pagetables, percpu, sock, vmalloc;
    uint64_t shmem, zswap, zswapped, file_mapped, file_dirty, file_writeback, swapcached;
    uint64_t anon_thp, file_thp, shmem_thp;
    uint64_t inactive_anon, active_anon, inactive_file, active_file, unevictable;
    uint64_t slab_reclaimable, slab_unreclaimable, slab;
    uint64_t workingset_refault_anon, workingset_refault_file;
    uint64_t pgfault, pgmajfault;
    /* v1 only: total_swap (memsw usage minus memory usage), hierarchical_memory_limit,
     * hierarchical_memsw_limit (CGROUP_UNLIMITED when no ancestor sets one) */
    uint64_t swap, hierarchical_memory_limit, hierarchical_memsw_limit;
};

/*
 * Parses memory.stat. v2: keys as they are. v1: total_<key> (hierarchical, like every v2 key)
 * is preferred over the local <key>; cache → file, rss → anon, rss_huge → anon_thp,
 * mapped_file → file_mapped, dirty → file_dirty, writeback → file_writeback. v1 has no slab,
 * kernel_stack, pagetables, sock, percpu or vmalloc lines: those stay absent. Returns the number
 * of fields set (0 is valid: a kernel with none of the keys we know).
 */
int cgroup_memstat_parse(const char *buf, size_t len, int version, long page_size,
                         struct cgroup_memstat *ret);

/* memory.events / memory.events.local (v2). v1: max = memory.failcnt, oom_kill from
 * memory.oom_control; the others stay absent. */
struct cgroup_events {
    uint64_t low, high, max, oom, oom_kill, oom_group_kill;
};
int cgroup_events_parse(const char *buf, size_t len, struct cgroup_events *ret);
/* The counters by index, in memory.events' order, for views that go through them all: the
 * file's key ("oom_kill") and the value (OPT_ABSENT when the kernel has no such counter). */
#define CGROUP_EVENTS_N 6
const char *cgroup_event_name(size_t i);
uint64_t cgroup_event_value(const struct cgroup_events *e, size_t i);

/* v1 memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n" (oom_kill since 4.13). */
struct cgroup_oom_control {
    uint64_t oom_kill_disable, under_oom, oom_kill;
};
int cgroup_oom_control_parse(const char *buf, size_t len, struct cgroup_oom_control *ret);

/*
 * A limit file: v2 "max" or bytes; v1 bytes, where PAGE_COUNTER_MAX pages (the value nobody set)
 * reads CGROUP_UNLIMITED. Returns 0 or -EBADMSG.
 */
int cgroup_limit_parse(const char *buf, size_t len, int version, long page_size, uint64_t *ret);
/* The file that holds the memory limit: memory.max (v2) or memory.limit_in_bytes (v1). */
const char *cgroup_limit_file(int version);
/* A limit as every --json writes it: bytes, "max" (CGROUP_UNLIMITED), or null when unknown. */
struct json;
void cgroup_limit_json(struct json *j, const char *key, uint64_t v);

struct cgroup_memory {
    char *path;     /* relative to the hierarchy root, "/" for the root */
    int version;    /* 1 or 2 */
    uint64_t ino;   /* the directory's inode: kernfs numbers cgroups in creation order */
    size_t parent;  /* index in the snapshot; SIZE_MAX for the top */
    unsigned depth; /* 0 for the top of the snapshot */

    uint64_t current, peak;       /* memory.current / usage_in_bytes, memory.peak / max_usage */
    uint64_t max, high, low, min; /* limits; high/low/min are v2 only */
    uint64_t swap_current, swap_max, swap_high, swap_peak; /* v2 memory.swap.* */
    uint64_t memsw_current, memsw_max;                     /* v1 memory.memsw.* */
    uint64_t kmem_current;                                 /* v1 memory.kmem.usage_in_bytes */
    uint64_t soft_limit;                                   /* v1 soft_limit_in_bytes */
    uint64_t swappiness; /* v1 memory.swappiness (what the kernel uses for this memcg); v2:
                            absent, vm.swappiness applies */
    uint64_t use_hierarchy; /* v1 memory.use_hierarchy 0/1 (reads 1 from 5.11 on); v2: absent */
    uint64_t oom_group;  /* v2 memory.oom.group 0/1 */
    struct cgroup_oom_control oom_control; /* v1 */
    struct cgroup_memstat stat;
    struct cgroup_events events, events_local; /* events_local: v2 5.2+ */

    bool has_psi;
    struct psi psi;
    char *psi_path; /* the unified-tree cgroup the PSI came from ("/" means system-wide) */

    uint64_t nprocs;         /* processes directly in this cgroup (cgroup.procs) */
    uint64_t nprocs_subtree; /* in it and its descendants (snapshot only; else OPT_ABSENT) */
};

void cgroup_memory_release(struct cgroup_memory *cg);

/*
 * Whether what a child of `parent` charges also counts against `parent`'s page counters. Always on
 * v2. On v1 only below a parent with memory.use_hierarchy 1: mem_cgroup_css_alloc() links a new
 * memcg's counters to its parent's only then (until 5.10; 5.11 made every hierarchy hierarchical
 * and the file reads 1). Without it the parent's limit and OOM cover its own tasks only.
 */
static inline bool cgroup_charges_reach(const struct cgroup_memory *parent)
{
    return !(parent->version == 1 && parent->use_hierarchy == 0);
}

/*
 * The limit that binds a cgroup: of it and its ancestors that set memory.max (limit_in_bytes)
 * and that its charges reach (cgroup_charges_reach), the one with the least headroom, since that
 * page counter fails first whoever else charges it. `chain` runs from the top down to the cgroup
 * itself.
 */
struct cgroup_binding {
    uint64_t limit;    /* that cgroup's limit; CGROUP_UNLIMITED when nothing limits the chain */
    uint64_t usage;    /* that cgroup's usage */
    uint64_t headroom; /* limit − usage floored at 0; OPT_ABSENT when unlimited */
    const char *from;  /* its path (points into the chain); NULL when unlimited */
};
void cgroup_binding_of(const struct cgroup_memory *const *chain, size_t n,
                       struct cgroup_binding *ret);

/* usage − inactive_file, floored at 0 (kubelet/cAdvisor's working set). */
uint64_t cgroup_working_set(const struct cgroup_memory *cg);
/* What reclaim can take without swap: the file LRUs (shmem is not on them) and reclaimable slab. */
uint64_t cgroup_reclaimable(const struct cgroup_memory *cg);
/* Kernel memory: `kernel` where the kernel prints it, else the sum of its parts (5.10 lacks the
 * key), v1 memory.kmem.usage_in_bytes. */
uint64_t cgroup_kernel(const struct cgroup_memory *cg);

/*
 * Normalises a user's cgroup path: adds the leading '/', drops trailing and repeated '/', and
 * strips the hierarchy's mount point when the user gave a filesystem path
 * ("/sys/fs/cgroup/memory/a" → "/a"). "." and ".." components are refused (-EINVAL).
 * *ret is malloc'd.
 */
int cgroup_path_normalize(const struct cgroup_hier *h, const char *arg, char **ret);

/* The memory cgroup of a process: its memory-controller path, or on v2 the nearest ancestor
 * of its cgroup that has the memory controller. -ENOENT/-ESRCH when the process is gone. */
int cgroup_of_pid(const struct cgroup_hier *h, int pid, char **ret);

/*
 * Reads one cgroup. -ENOENT when it does not exist (or vanished while read), -ENOTDIR... and
 * -ENOMEDIUM when the directory exists but is not a memory cgroup (v2: the controller is not
 * enabled there; its memory is charged to the nearest ancestor that has it).
 */
int cgroup_read(const struct cgroup_hier *h, const char *path, struct cgroup_memory *ret);

/* Only memory.stat, for a second reading (refault rates). -ENOENT when the cgroup is gone. */
int cgroup_read_stat(const struct cgroup_hier *h, const char *path, struct cgroup_memstat *ret);
/* The same from an open cgroup directory (the guard's thrash trigger, every check while warm). */
int cgroup_read_stat_at(const struct cgroup_hier *h, int dirfd, struct cgroup_memstat *ret);

/* Opens a cgroup's directory in the memory hierarchy (O_DIRECTORY). -ENOENT when it is not there. */
int cgroup_open_dir(const struct cgroup_hier *h, const char *path);

/*
 * Appends the pids in the cgroup.procs of the cgroup directory `dirfd` to the malloc'd array
 * (*pids, *n of *cap), as the reader's PID namespace shows them (0 for a process outside it).
 * Returns 0, or a negative errno with nothing appended: the read's (-ENOENT: gone), -EBADMSG for
 * content that is not pids, -ENOMEM.
 */
int cgroup_procs_append_at(int dirfd, pid_t **pids, size_t *n, size_t *cap);

/*
 * The processes of `path` and of every cgroup below it (cgroup.procs, so pids as the reader's
 * PID namespace sees them), in no particular order, into a malloc'd array. Returns 0, -ENOENT
 * when the cgroup is not there, -ENOMEM.
 */
int cgroup_subtree_pids(const struct cgroup_hier *h, const char *path, pid_t **ret, size_t *ret_n);

/*
 * Opens the directory whose memory.pressure belongs to `path`: the cgroup itself on v2, the
 * unified tree's cgroup at the same path on hybrid systems. -ENOENT when there is none.
 */
int cgroup_open_pressure_dir(const struct cgroup_hier *h, const char *path);

/* Only the event counters, from an open cgroup directory: v2 memory.events; v1 memory.failcnt
 * (as `max`) and memory.oom_control's oom_kill. Cheap enough to run on every notification. */
int cgroup_read_events_at(const struct cgroup_hier *h, int dirfd, struct cgroup_events *ret);

/* Usage (v2 memory.current, v1 memory.usage_in_bytes) and the limit (memory.max,
 * memory.limit_in_bytes, as cgroup_limit_parse() reads it: CGROUP_UNLIMITED when none) of an
 * open cgroup directory, read into the stack: for the guard, which looks every few ms and on the
 * kill path. Return 0 or a negative errno (-EBADMSG: not a number). */
int cgroup_read_usage_at(const struct cgroup_hier *h, int dirfd, uint64_t *ret);
int cgroup_read_limit_at(const struct cgroup_hier *h, int dirfd, uint64_t *ret);

/* Every memory cgroup at or below `top` ("/" for all), pre-order, siblings in creation order. */
struct cgroup_snapshot {
    struct cgroup_memory *v;
    size_t n, cap;
};

/*
 * Walks the hierarchy. Cgroups that vanish during the walk are skipped; a `top` that does not
 * exist is -ENOENT.
 */
int cgroup_snapshot_read(const struct cgroup_hier *h, const char *top, struct cgroup_snapshot *ret);
/* The same, not below `max_depth` levels under `top` (0: `top` alone). nprocs_subtree then
 * counts only the cgroups read. */
int cgroup_snapshot_read_depth(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                               struct cgroup_snapshot *ret);
/* The same walk, reading only which cgroups exist and their limit (path, ino, max; the rest
 * absent): for watchers that look for new or limited cgroups often, where a full read of every
 * cgroup (some 20 files each) would cost more than the look. */
int cgroup_snapshot_read_limits(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                                struct cgroup_snapshot *ret);
/* The same plus the event counters (as cgroup_read_events_at()): for the agent, which reads
 * every cgroup's oom_kill when the kernel reports a kill without saying where. */
int cgroup_snapshot_read_events(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                                struct cgroup_snapshot *ret);
void cgroup_snapshot_release(struct cgroup_snapshot *s);
/*
 * A deep copy of the subtree of s->v[top]: in pre-order that is s->v[top] and the entries after
 * it that are deeper. The copy's top has no parent and depth 0. Returns 0 or -ENOMEM.
 */
int cgroup_snapshot_copy_subtree(const struct cgroup_snapshot *s, size_t top,
                                 struct cgroup_snapshot *ret);
/* Index of the deepest cgroup of the snapshot that `path` is in, or SIZE_MAX. */
size_t cgroup_snapshot_find_under(const struct cgroup_snapshot *s, const char *path);

/* Reads the ancestors of `path` (root first, `path` excluded). */
int cgroup_read_ancestors(const struct cgroup_hier *h, const char *path,
                          struct cgroup_snapshot *ret);

/*
 * Hybrid systems: when the unified tree has no cgroup at the same path, the cgroup's processes
 * may still share one unified cgroup (a container runtime's layout); its memory.pressure is then
 * theirs. Not when that cgroup is the unified root: that file is the machine's pressure.
 */
int cgroup_psi_from_members(const struct cgroup_hier *h, struct cgroup_memory *cg);
