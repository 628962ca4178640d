/*
 * The process snapshot: one struct per process, read from /proc/PID through a directory fd so
 * every file comes from the same process (or the read fails). A process that exits while we
 * read it is dropped silently; that is the normal state of a busy machine.
 *
 * Callers ask only for the files a view needs (PROC_READ_*): reading three small files per
 * process instead of six is most of the difference between 0.3x and 1x the cost of `ps`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sysroot;
struct buf;

enum {
    PROC_READ_STAT = 1u << 0,    /* comm, state, ppid, flags (kernel thread), start time */
    PROC_READ_STATUS = 1u << 1,  /* uid, RSS split, swap, page tables, threads, CapEff */
    PROC_READ_OOM = 1u << 2,     /* oom_score, oom_score_adj */
    PROC_READ_CGROUP = 1u << 3,  /* /proc/PID/cgroup */
    PROC_READ_CMDLINE = 1u << 4, /* argv */
    PROC_READ_ALL = 0x1f,
    /* with PROC_READ_STAT: a kernel thread's entry stops at its stat. For views that only rank
     * OOM victims (the OOM killer never picks a kernel thread): kernel threads are a good part
     * of a node's tasks (58 of 67 on our test machine), and each then costs one file, not four. */
    PROC_USER_TASKS_ONLY = 1u << 5,
    /* oom_score_adj alone, for a view that writes it and does not rank (the policy): the
     * kernel's oom_score is one more file per process */
    PROC_READ_ADJ = 1u << 6,
};

/* Kernel task flag (include/linux/sched.h), stable since 2.6.27. */
#define PF_KTHREAD 0x00200000ul

#define PROC_COMM_MAX 64 /* TASK_COMM_LEN is 16, but workqueue workers show "kworker/u8:0-events" */

struct proc {
    pid_t pid;
    pid_t ppid;
    char comm[PROC_COMM_MAX + 1]; /* raw bytes as the kernel holds them (may contain anything) */
    char state;                   /* R S D Z T t X I ... */
    unsigned long flags;
    bool kernel_thread;
    uint64_t start_time; /* clock ticks after boot; orders the kernel's task list */
    /* stat field 24: get_mm_rss() in pages, the very reading oom_badness() uses on kernels
     * whose status shows exact per-CPU sums (see badness.h, enum rss_source) */
    uint64_t stat_rss_pages;
    long nthreads;

    /* from status; OPT_ABSENT when not read or the process has no mm (zombie, kernel thread) */
    int64_t uid; /* real uid; -1 when unknown */
    uint64_t rss_anon, rss_file, rss_shmem, vm_rss; /* bytes */
    uint64_t swap, pgtables;                        /* bytes */
    uint64_t vm_lck; /* VmLck: mm->locked_vm, what mlock() keeps resident (bytes) */
    uint64_t cap_eff;                               /* capability mask; OPT_ABSENT if unknown */
    bool has_mm; /* status showed memory counters: the kernel can score it */

    /* from oom_score / oom_score_adj; has_oom false when not read; has_adj: oom_score_adj read
     * (PROC_READ_OOM or PROC_READ_ADJ) */
    bool has_oom, has_adj;
    long oom_score;
    int oom_score_adj;

    /* from cgroup: the path that governs memory (v1 memory controller, else the v2 path) and
     * the unified (v2) path, which on hybrid systems carries memory.pressure. NULL if unknown. */
    char *cgroup;
    char *cgroup_unified;
    bool cgroup_is_v1;

    /* argv as NUL-separated bytes (no trailing NUL), cmdline_len 0 for kernel threads/zombies */
    char *cmdline;
    size_t cmdline_len;
};

struct proc_table {
    struct proc *v;
    size_t n, cap;
    unsigned fields;
};

/*
 * Reads every process under <root>/proc. Returns 0, or a negative errno when /proc itself cannot
 * be listed. Processes that vanish mid-read are skipped.
 */
int procs_snapshot(const struct sysroot *sr, unsigned fields, struct proc_table *ret);

/*
 * The last PID the kernel handed out in our PID namespace (the fifth field of /proc/loadavg,
 * "1/234 5678"): while it stays the same, no process (or thread) was created. 0 or -errno.
 */
int procs_last_pid(const struct sysroot *sr, uint64_t *ret);

/*
 * The same for the listed processes only (duplicates, and those gone, skipped): a table sorted
 * by pid like a snapshot's, for a view that knows whom it needs (the guard: one cgroup's).
 */
int procs_snapshot_pids(const struct sysroot *sr, const pid_t *pids, size_t n, unsigned fields,
                        struct proc_table *ret);

/*
 * Reads one process. `scratch` is a reusable buffer. Returns 0, -ENOENT/-ESRCH when the process
 * does not exist (any more), or another negative errno.
 */
int procs_read_one(const struct sysroot *sr, pid_t pid, unsigned fields, struct buf *scratch,
                   struct proc *ret);

void proc_release(struct proc *p);
/* A record of `pid` with nothing read yet: every field unknown (ppid and uid -1, the amounts
 * OPT_ABSENT), for a caller that fills what it learned elsewhere. */
void proc_init(struct proc *p, pid_t pid);
void proc_table_release(struct proc_table *t);
/* Binary search; the snapshot is sorted by pid. */
const struct proc *proc_table_find(const struct proc_table *t, pid_t pid);

/* Pure parsers (fuzzed). Each returns 0 or -EBADMSG. */
int proc_stat_parse(const char *buf, size_t len, struct proc *p);
int proc_status_parse(const char *buf, size_t len, struct proc *p);
int proc_cgroup_parse(const char *buf, size_t len, char **ret_memory_path, char **ret_unified_path,
                      bool *ret_is_v1);

/* Writes the command line for display: args joined by spaces, or "[comm]" for kernel threads. */
int proc_format_command(const struct proc *p, struct buf *out);
/* The cgroup to name a process by: its memory cgroup, else its unified (v2) path; NULL when
 * /proc/PID/cgroup gave neither. */
const char *proc_cgroup_path(const struct proc *p);
/* The path to look the process's memory cgroup up by, on a hierarchy whose memory controller is
 * version `memory_version`: v1 and hybrid, the memory controller's line (NULL when it has none);
 * v2, the unified path, whose memcg is the deepest cgroup above it that has the controller. */
const char *proc_memcg_path(const struct proc *p, int memory_version);
/* What killing the process gives back: resident memory (none once it has no mm) + swap. */
uint64_t proc_rss_swap(const struct proc *p);
/* Total resident memory in bytes: anon+file+shmem, or VmRSS on kernels without the split. */
uint64_t proc_rss(const struct proc *p);
