/* Killing: pinning the first candidate that is still the process ranked, and killing its unit. */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/opt.h"
#include "base/sys/clock.h"
#include "base/sys/fileio.h"
#include "engine/act/killer.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"

/* Whether /proc/PID/oom_score_adj reads -1000 (a stack buffer: nothing allocated) */
static bool adj_is_min(const struct sysroot *sr, pid_t pid)
{
    char path[32], b[16];
    snprintf(path, sizeof(path), "%d/oom_score_adj", (int)pid);
    int n = read_small_at(sr->proc_fd, path, b, sizeof(b));
    struct cursor c = cursor_make(b, n > 0 ? (size_t)n : 0);
    int64_t adj;
    return cursor_i64(&c, &adj) == 0 && adj == -1000;
}

/* SIGKILL to every process of a cgroup (v1, or v2 without cgroup.kill, or a v2 subtree holding
 * something that must not die), each through its own pidfd. Reads cgroup.procs into `scratch`:
 * nothing is allocated here. Processes at -1000, protected ones and oomwarden are spared;
 * `done` (the victim, signalled already) is not counted twice. */
static unsigned kill_cgroup_procs(const struct sysroot *sr, int dirfd, pid_t self, pid_t done,
                                  const struct guard_candidate *c, size_t n, char *scratch,
                                  size_t len)
{
    int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, scratch, len - 1);
    close(fd);
    if (got <= 0)
        return 0;
    unsigned killed = 0;
    struct cursor cur = cursor_make(scratch, (size_t)got);
    uint64_t pid;
    while (cursor_u64(&cur, &pid) == 0) {
        (void)cursor_skip_prefix(&cur, "\n");
        if (pid <= 1 || pid > INT32_MAX || (pid_t)pid == self || (pid_t)pid == done)
            continue;
        bool spare = false;
        uint64_t st = 0;
        bool known = false;
        for (size_t i = 0; i < n; i++) {
            if ((uint64_t)c[i].proc->pid != pid)
                continue;
            known = true;
            st = c[i].proc->start_time;
            spare = c[i].verdict.weight == WEIGHT_PROTECT ||
                    (c[i].proc->has_oom && c[i].proc->oom_score_adj == -1000) ||
                    c[i].proc->kernel_thread;
        }
        if (spare)
            continue;
        struct kill_target t;
        uint64_t now_st;
        /* a process that joined after the snapshot: pin it by what it is now, and spare it at
         * -1000 (the rules were never matched against it: it is killed with its cgroup) */
        if (!known) {
            if (killer_start_time(sr, (pid_t)pid, &now_st) < 0 || adj_is_min(sr, (pid_t)pid))
                continue;
            st = now_st;
        }
        if (killer_open(sr, (pid_t)pid, st, &t) < 0)
            continue;
        if (killer_signal(&t, SIGKILL) == 0) {
            killed++;
            (void)killer_release_memory(&t);
        }
        killer_close(&t);
    }
    return killed;
}

static bool unit_has_spared(const struct guard_candidate *c, size_t n, const char *cgroup,
                            pid_t self)
{
    size_t len = strlen(cgroup);
    for (size_t i = 0; i < n; i++) {
        const char *pc = proc_cgroup_path(c[i].proc);
        if (!pc || strncmp(pc, cgroup, len) != 0 || (pc[len] && pc[len] != '/' && len > 1))
            continue;
        if (c[i].proc->pid == self || c[i].proc->pid == 1 ||
            c[i].verdict.weight == WEIGHT_PROTECT ||
            (c[i].proc->has_oom && c[i].proc->oom_score_adj == -1000))
            return true;
    }
    return false;
}

int guard_pin_first(const struct sysroot *sr, struct guard_candidate *c, const size_t *order,
                    size_t ncand, pid_t self, struct kill_target *t, struct guard_kill *k)
{
    *k = (struct guard_kill){
        .chosen = SIZE_MAX, .cg_usage_before = OPT_ABSENT, .cg_usage_after = OPT_ABSENT};
    t->pidfd = -1;
    /* pin first, choose second: the first candidate still alive as the process we ranked */
    for (size_t i = 0; i < ncand; i++) {
        struct guard_candidate *g = &c[order[i]];
        if (g->excluded || g->proc->pid <= 1 || g->proc->pid == self)
            continue;
        if (killer_open(sr, g->proc->pid, g->proc->start_time, t) < 0) {
            k->vanished++;
            continue;
        }
        k->chosen = order[i];
        k->unit = g->verdict.kill_unit;
        return 0;
    }
    return -ESRCH;
}

/* memory.current / usage_in_bytes of an open cgroup directory, or OPT_ABSENT */
static uint64_t usage_at(const struct cgroup_hier *h, int dirfd)
{
    uint64_t v;
    if (!h || dirfd < 0 || cgroup_read_usage_at(h, dirfd, &v) < 0)
        return OPT_ABSENT;
    return v;
}

void guard_freed(const struct guard_kill *k, const struct proc *victim, uint64_t *bytes,
                 const char **from)
{
    if (opt_has(k->cg_usage_before) && opt_has(k->cg_usage_after) &&
        k->cg_usage_after < k->cg_usage_before) {
        *bytes = k->cg_usage_before - k->cg_usage_after;
        *from = "cgroup";
        return;
    }
    *bytes = proc_rss_swap(victim);
    *from = "process";
}

int guard_kill_pinned(const struct sysroot *sr, const struct cgroup_hier *h,
                      struct guard_candidate *c, size_t n, pid_t self, struct kill_target *t,
                      uint64_t timeout_ms, char *scratch, size_t scratch_len, struct guard_kill *k)
{
    struct guard_candidate *g = &c[k->chosen];
    const char *cg = proc_cgroup_path(g->proc);
    /* what the kill gives back, on the victim's own memory cgroup (one small read before the
     * signal: the machine's MemAvailable moves with every other process) */
    int ufd = h && cg && strcmp(cg, "/") != 0 ? cgroup_open_dir(h, cg) : -1;
    k->cg_usage_before = usage_at(h, ufd);
    k->cg_usage_after = OPT_ABSENT;
    k->signal_us = clock_mono_us();
    int r = killer_signal(t, SIGKILL);
    if (r < 0) {
        k->error = r;
        if (ufd >= 0)
            close(ufd);
        return r;
    }
    k->signalled = 1;
    k->mrelease = killer_release_memory(t);
    if (k->unit == KILL_UNIT_CGROUP && cg && strcmp(cg, "/") != 0 && h) {
        int dfd = cgroup_open_dir(h, cg);
        if (dfd >= 0) {
            /* cgroup.kill (5.14) kills everything, -1000 included: only when nothing in the
             * unit must be spared */
            if (h->memory_version == 2 && !unit_has_spared(c, n, cg, self) &&
                write_string_at(dfd, "cgroup.kill", "1") == 0)
                k->cgroup_kill_file = true;
            else
                k->signalled +=
                    kill_cgroup_procs(sr, dfd, self, t->pid, c, n, scratch, scratch_len);
            close(dfd);
        }
    }
    k->exited = killer_wait(t, (int)timeout_ms) == 1;
    k->exit_us = k->exited ? clock_mono_us() : 0;
    if (k->exited)
        k->cg_usage_after = usage_at(h, ufd);
    if (ufd >= 0)
        close(ufd);
    return 0;
}

int guard_kill_first(const struct sysroot *sr, const struct cgroup_hier *h,
                     struct guard_candidate *c, const size_t *order, size_t n, pid_t self,
                     bool dry_run, uint64_t timeout_ms, char *scratch, size_t scratch_len,
                     struct guard_kill *k)
{
    struct kill_target t;
    /* every row, not just the candidates: a cgroup kill must see the excluded ones to spare
     * them (pinning skips them anyway) */
    if (guard_pin_first(sr, c, order, n, self, &t, k) < 0)
        return 0;
    int r = 0;
    if (!dry_run)
        r = guard_kill_pinned(sr, h, c, n, self, &t, timeout_ms, scratch, scratch_len, k);
    killer_close(&t);
    return r == -ESRCH ? 0 : r;
}
