#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "base/sys/pidfd.h"
#include "model/cgroup/cgroup.h"
#include "model/sysroot.h"


static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The mount's root as a path prefix ("" for "/"), so that children are "<root>/<name>". */
static const char *mount_prefix(const struct cgroup_mount *m)
{
    const char *r = m->root ? m->root : "/";
    return strcmp(r, "/") == 0 ? "" : r;
}

bool scratch_name_match(const char *name, const char *prefix, pid_t *ret_pid)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] != '-')
        return false;
    const char *d = name + n + 1;
    if (!*d || strlen(d) > 10)
        return false;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        v = v * 10 + (uint64_t)(*d - '0');
    }
    if (v == 0 || v > INT32_MAX)
        return false;
    if (ret_pid)
        *ret_pid = (pid_t)v;
    return true;
}

/* v2: "memory" in the parent's cgroup.subtree_control, so that the child has memory.* files. */
static int v2_enable_memory(int parent_fd, bool *ret_enabled)
{
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    int r = read_virtual_at(parent_fd, "cgroup.subtree_control", &b);
    bool on = false;
    if (r >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        while (!cursor_eof(&c)) {
            cursor_skip_space(&c);
            if (span_eq(cursor_word(&c), "memory"))
                on = true;
        }
    }
    buf_release(&b);
    if (r < 0)
        return r;
    if (on)
        return 0;
    r = write_string_at(parent_fd, "cgroup.subtree_control", "+memory");
    if (r == 0)
        *ret_enabled = true;
    return r;
}

int scratch_create(const struct cgroup_hier *h, const char *name, struct scratch_cgroup *ret,
                   bool *ret_enabled_memory)
{
    *ret = (struct scratch_cgroup){.dirfd = -1, .twin_dirfd = -1, .psi_dirfd = -1, .h = h};
    *ret_enabled_memory = false;
    if (h->memory_version == 0 || h->memory.fd < 0)
        return -ENOMEDIUM;
    if (strlen(name) > SCRATCH_NAME_MAX || strchr(name, '/') || name[0] == '.')
        return -EINVAL;
    const char *pre = mount_prefix(&h->memory);
    if ((size_t)snprintf(ret->path, sizeof(ret->path), "%s/%s", pre, name) >= sizeof(ret->path))
        return -ENAMETOOLONG;
    ret->version = h->memory_version;
    _cleanup_close_ int top = openat(h->memory.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        return -errno;
    int r;
    if (ret->version == 2 && (r = v2_enable_memory(top, ret_enabled_memory)) < 0)
        return r;
    if (mkdirat(top, name, 0755) < 0)
        return -errno;
    ret->dirfd = openat(top, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ret->dirfd < 0) {
        r = -errno;
        (void)unlinkat(top, name, AT_REMOVEDIR);
        return r;
    }
    if (ret->version == 2) {
        ret->psi_dirfd = ret->dirfd;
        ret->has_kill = faccessat(ret->dirfd, "cgroup.kill", F_OK, 0) == 0;
        return 0;
    }
    /* hybrid: the twin, at the same relative place in the unified tree. Without one (a v1-only
     * machine, or a unified tree we may not write) there is no per-cgroup PSI: not fatal. */
    if (h->unified.fd >= 0) {
        _cleanup_close_ int utop = openat(h->unified.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (utop >= 0 && mkdirat(utop, name, 0755) == 0) {
            ret->twin_dirfd = openat(utop, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (ret->twin_dirfd < 0)
                (void)unlinkat(utop, name, AT_REMOVEDIR);
            else if (faccessat(ret->twin_dirfd, "memory.pressure", F_OK, 0) == 0)
                ret->psi_dirfd = ret->twin_dirfd;
        }
    }
    return 0;
}

int scratch_set_limits(const struct scratch_cgroup *s, uint64_t max, uint64_t high)
{
    char v[32];
    int r;
    snprintf(v, sizeof(v), "%" PRIu64, max);
    if (s->version == 2) {
        /* swap.max first: no swap on a machine without it is already the case, and on one with
         * swap the lab means "out of memory", not "into swap" */
        if (faccessat(s->dirfd, "memory.swap.max", F_OK, 0) == 0 &&
            (r = write_string_at(s->dirfd, "memory.swap.max", "0")) < 0)
            return r;
        if ((r = write_string_at(s->dirfd, "memory.max", v)) < 0)
            return r;
        if (high) {
            snprintf(v, sizeof(v), "%" PRIu64, high);
            if ((r = write_string_at(s->dirfd, "memory.high", v)) < 0)
                return r;
        }
        return 0;
    }
    if (high)
        return -EOPNOTSUPP;
    /* memory.swappiness 0 makes mem_cgroup_get_max() leave swap out of totalpages as well */
    if ((r = write_string_at(s->dirfd, "memory.swappiness", "0")) < 0)
        return r;
    return write_string_at(s->dirfd, "memory.limit_in_bytes", v);
}

int scratch_join(const struct scratch_cgroup *s, pid_t pid)
{
    char v[24];
    snprintf(v, sizeof(v), "%d", pid ? (int)pid : (int)getpid());
    int r = write_string_at(s->dirfd, "cgroup.procs", v);
    if (r == 0 && s->twin_dirfd >= 0)
        r = write_string_at(s->twin_dirfd, "cgroup.procs", v);
    return r;
}

/* The pids of cgroup.procs; *ret malloc'd. */
static int read_procs(int dirfd, pid_t **ret, size_t *n)
{
    size_t cap = 0;
    *ret = NULL;
    *n = 0;
    int r = cgroup_procs_append_at(dirfd, ret, n, &cap);
    if (r < 0) {
        free(*ret);
        *ret = NULL;
    }
    return r;
}

static bool listed(const pid_t *v, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == pid)
            return true;
    return false;
}

/* v1 (and v2 before 5.14): each process through a pidfd that was opened while the pid was
 * still in cgroup.procs, so it is that process and not one that got its pid later. */
static int kill_listed(int dirfd)
{
    pid_t *pids;
    size_t n;
    int r = read_procs(dirfd, &pids, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        int fd = sys_pidfd_open(pids[i]);
        if (fd < 0)
            continue; /* gone already */
        pid_t *again;
        size_t m;
        if (read_procs(dirfd, &again, &m) == 0) {
            if (listed(again, m, pids[i]))
                (void)sys_pidfd_send_signal(fd, SIGKILL);
            free(again);
        }
        close(fd);
    }
    free(pids);
    return 0;
}

static bool empty(int dirfd)
{
    pid_t *pids;
    size_t n;
    if (read_procs(dirfd, &pids, &n) < 0)
        return true; /* the cgroup is gone */
    free(pids);
    return n == 0;
}

int scratch_kill_all(const struct scratch_cgroup *s, int timeout_ms)
{
    int r = 0;
    if (s->dirfd < 0)
        return 0;
    for (int waited = 0;; waited += 20) {
        if (empty(s->dirfd) && (s->twin_dirfd < 0 || empty(s->twin_dirfd)))
            return 0;
        if (waited >= timeout_ms)
            return -ETIMEDOUT;
        if (waited % 500 == 0) {
            if (s->has_kill)
                r = write_string_at(s->dirfd, "cgroup.kill", "1");
            if (!s->has_kill || r < 0)
                r = kill_listed(s->dirfd);
            if (s->twin_dirfd >= 0)
                (void)kill_listed(s->twin_dirfd);
        }
        sleep_ms(20);
    }
}

/* rmdir, retried: a killed task keeps its cgroup busy until it has been reaped. */
static int remove_dir(int mount_fd, const char *name)
{
    for (int i = 0; i < 250; i++) {
        if (unlinkat(mount_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -errno;
        sleep_ms(20);
    }
    return -EBUSY;
}

void scratch_close(struct scratch_cgroup *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    if (s->twin_dirfd >= 0)
        close(s->twin_dirfd);
    s->dirfd = s->twin_dirfd = s->psi_dirfd = -1;
}

int scratch_destroy(struct scratch_cgroup *s)
{
    if (s->dirfd < 0 && s->twin_dirfd < 0)
        return 0;
    int r = scratch_kill_all(s, 5000);
    const char *name = strrchr(s->path, '/');
    name = name ? name + 1 : s->path;
    bool twin = s->twin_dirfd >= 0;
    scratch_close(s);
    _cleanup_close_ int top = openat(s->h->memory.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int q = top < 0 ? -errno : remove_dir(top, name);
    if (r == 0)
        r = q;
    if (twin) {
        _cleanup_close_ int utop =
            openat(s->h->unified.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        q = utop < 0 ? -errno : remove_dir(utop, name);
        if (r == 0)
            r = q;
    }
    return r;
}

/* Whether pid is a live process called `comm` (a concurrent run that owns its cgroup). */
static bool owner_alive(const struct sysroot *sr, pid_t pid, const char *comm)
{
    char p[64];
    snprintf(p, sizeof(p), "%d/comm", (int)pid);
    struct buf b = BUF_INIT(CAP_KERNEL_VALUE);
    int r = read_virtual_at(sr->proc_fd, p, &b);
    bool alive = r > 0 && strncmp(b.data, comm, strlen(comm)) == 0 &&
                 (b.data[strlen(comm)] == '\n' || b.data[strlen(comm)] == '\0');
    buf_release(&b);
    return alive;
}

static int sweep_mount(const struct cgroup_hier *h, const struct cgroup_mount *m, bool is_memory,
                       const struct sysroot *sr, const char *prefix, const char *comm,
                       char (*removed)[SCRATCH_NAME_MAX + 2], size_t cap, size_t *n)
{
    int top = openat(m->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        return -errno;
    DIR *d = fdopendir(top);
    if (!d) {
        int r = -errno;
        close(top);
        return r;
    }
    int first = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        pid_t pid;
        if (de->d_type != DT_DIR || !scratch_name_match(de->d_name, prefix, &pid))
            continue;
        if (owner_alive(sr, pid, comm))
            continue;
        struct scratch_cgroup s = {.twin_dirfd = -1,
                                   .psi_dirfd = -1,
                                   .h = h,
                                   .version = is_memory ? h->memory_version : 2};
        s.dirfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s.dirfd < 0)
            continue;
        s.has_kill = faccessat(s.dirfd, "cgroup.kill", F_OK, 0) == 0;
        int r = scratch_kill_all(&s, 5000);
        scratch_close(&s);
        if (r == 0)
            r = remove_dir(dirfd(d), de->d_name);
        if (r < 0) {
            if (!first)
                first = r;
            continue;
        }
        /* a hybrid twin is the same run: report it once */
        if (is_memory && *n < cap &&
            snprintf(removed[*n], sizeof(removed[*n]), "%s/%s", mount_prefix(m), de->d_name) < 0)
            removed[*n][0] = '\0';
        if (is_memory)
            (*n)++;
    }
    closedir(d);
    return first;
}

int scratch_sweep_stale(const struct cgroup_hier *h, const struct sysroot *sr, const char *prefix,
                        const char *comm, char (*removed)[SCRATCH_NAME_MAX + 2], size_t cap,
                        size_t *ret_n)
{
    *ret_n = 0;
    int r = 0;
    if (h->memory.fd >= 0)
        r = sweep_mount(h, &h->memory, true, sr, prefix, comm, removed, cap, ret_n);
    if (h->memory_version == 1 && h->unified.fd >= 0) {
        int q = sweep_mount(h, &h->unified, false, sr, prefix, comm, removed, cap, ret_n);
        if (r == 0)
            r = q;
    }
    return r;
}
