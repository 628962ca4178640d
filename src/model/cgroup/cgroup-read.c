/* Reading one cgroup: its files, its processes, its PSI. */
#include "cgroup-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/sys/fileio.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"

/* ---- reading one cgroup ------------------------------------------------------------------ */

void cgroup_memory_init(struct cgroup_memory *cg, int version)
{
    *cg = (struct cgroup_memory){.version = version, .parent = SIZE_MAX};
    cg->current = cg->peak = cg->max = cg->high = cg->low = cg->min = OPT_ABSENT;
    cg->swap_current = cg->swap_max = cg->swap_high = cg->swap_peak = OPT_ABSENT;
    cg->memsw_current = cg->memsw_max = cg->kmem_current = cg->soft_limit = OPT_ABSENT;
    cg->swappiness = cg->oom_group = cg->use_hierarchy = OPT_ABSENT;
    memset(&cg->oom_control, 0xff, sizeof(cg->oom_control));
    memset(&cg->events, 0xff, sizeof(cg->events));
    memset(&cg->events_local, 0xff, sizeof(cg->events_local));
    cgroup_memstat_init(&cg->stat);
    cg->nprocs = cg->nprocs_subtree = OPT_ABSENT;
}

void cgroup_memory_release(struct cgroup_memory *cg)
{
    free(cg->path);
    free(cg->psi_path);
    cg->path = cg->psi_path = NULL;
}

/* A single-number file; the value is left alone when the file is missing or unparsable. */
int cgroup_read_number(int dirfd, const char *name, struct buf *b, int version, long page_size,
                       bool limit, uint64_t *ret)
{
    int r = read_virtual_at(dirfd, name, b);
    if (r < 0)
        return r;
    uint64_t v;
    if (limit) {
        if (cgroup_limit_parse(b->data, b->len, version, page_size, &v) < 0)
            return -EBADMSG;
    } else {
        struct cursor c = cursor_make(b->data, b->len);
        if (cursor_u64(&c, &v) < 0)
            return -EBADMSG;
    }
    *ret = v;
    return 0;
}

static uint64_t count_lines(const struct buf *b)
{
    uint64_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    if (b->len && b->data[b->len - 1] != '\n')
        n++;
    return n;
}

/*
 * v2: processes in descendants that do not have the memory controller are charged to this
 * memcg (the nearest ancestor that has it), so they count as its own.
 */
static uint64_t procs_without_memory(int dirfd, struct buf *b, unsigned depth)
{
    struct child *kids = NULL;
    size_t n = 0;
    uint64_t total = 0;
    /* a count: any order */
    if (depth >= CGROUP_WALK_MAX_DEPTH || cgroup_list_children(dirfd, false, &kids, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int fd = openat(dirfd, kids[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && !cgroup_exists_at(fd, "memory.stat")) {
            if (read_virtual_at(fd, "cgroup.procs", b) >= 0)
                total += count_lines(b);
            total += procs_without_memory(fd, b, depth + 1);
        }
        if (fd >= 0)
            close(fd);
        free(kids[i].name);
    }
    free(kids);
    return total;
}

/* memory.pressure of `path` in the unified tree (the same directory on v2). */
static void read_psi(const struct cgroup_hier *h, int dirfd, const char *path,
                     struct cgroup_memory *cg)
{
    int r;
    if (h->memory_version == 2) {
        r = psi_read_at(dirfd, "memory.pressure", &cg->psi);
    } else {
        const char *rel = h->unified.fd >= 0 ? cgroup_rel_in_mount(&h->unified, path) : NULL;
        if (!rel)
            return;
        char p[4096];
        if ((size_t)snprintf(p, sizeof(p), "%s/memory.pressure", rel) >= sizeof(p))
            return;
        r = psi_read_at(h->unified.fd, p, &cg->psi);
    }
    if (r == 0) {
        cg->psi_path = strdup(path);
        cg->has_psi = cg->psi_path != NULL;
    }
}

/* What names a cgroup in a snapshot: its path, and its directory's inode (kernfs numbers cgroups in
 * creation order). */
int cgroup_take_path_and_inode(struct cgroup_memory *cg, int dirfd, const char *path)
{
    cg->path = strdup(path);
    if (!cg->path)
        return -ENOMEM;
    struct stat st;
    if (fstat(dirfd, &st) == 0)
        cg->ino = (uint64_t)st.st_ino;
    return 0;
}

/*
 * Fills `cg` from the cgroup directory `dirfd`. Returns 0, -ENOENT when the cgroup is gone,
 * -ENOMEDIUM when it is not a memory cgroup.
 */
int cgroup_read_at(const struct cgroup_hier *h, int dirfd, const char *path, struct buf *b,
                   struct cgroup_memory *cg)
{
    int v = h->memory_version;
    long ps = h->page_size;
    cgroup_memory_init(cg, v);
    int r = read_virtual_at(dirfd, "memory.stat", b);
    if (r < 0) {
        if (r == -ENOENT && cgroup_exists_at(dirfd, "cgroup.procs"))
            return -ENOMEDIUM;
        return ERRNO_IS_GONE(-r) ? -ENOENT : r;
    }
    (void)cgroup_memstat_parse(b->data, b->len, v, ps, &cg->stat);
    if (cgroup_take_path_and_inode(cg, dirfd, path) < 0)
        return -ENOMEM;

    if (v == 2) {
        (void)cgroup_read_number(dirfd, "memory.current", b, v, ps, false, &cg->current);
        (void)cgroup_read_number(dirfd, "memory.peak", b, v, ps, false, &cg->peak);
        (void)cgroup_read_number(dirfd, "memory.max", b, v, ps, true, &cg->max);
        (void)cgroup_read_number(dirfd, "memory.high", b, v, ps, true, &cg->high);
        (void)cgroup_read_number(dirfd, "memory.low", b, v, ps, true, &cg->low);
        (void)cgroup_read_number(dirfd, "memory.min", b, v, ps, true, &cg->min);
        (void)cgroup_read_number(dirfd, "memory.swap.current", b, v, ps, false, &cg->swap_current);
        (void)cgroup_read_number(dirfd, "memory.swap.max", b, v, ps, true, &cg->swap_max);
        (void)cgroup_read_number(dirfd, "memory.swap.high", b, v, ps, true, &cg->swap_high);
        (void)cgroup_read_number(dirfd, "memory.swap.peak", b, v, ps, false, &cg->swap_peak);
        (void)cgroup_read_number(dirfd, "memory.oom.group", b, v, ps, false, &cg->oom_group);
        if (read_virtual_at(dirfd, "memory.events", b) >= 0)
            (void)cgroup_events_parse(b->data, b->len, &cg->events);
        if (read_virtual_at(dirfd, "memory.events.local", b) >= 0)
            (void)cgroup_events_parse(b->data, b->len, &cg->events_local);
    } else {
        (void)cgroup_read_number(dirfd, "memory.usage_in_bytes", b, v, ps, false, &cg->current);
        (void)cgroup_read_number(dirfd, "memory.max_usage_in_bytes", b, v, ps, false, &cg->peak);
        (void)cgroup_read_number(dirfd, "memory.limit_in_bytes", b, v, ps, true, &cg->max);
        (void)cgroup_read_number(dirfd, "memory.soft_limit_in_bytes", b, v, ps, true,
                                 &cg->soft_limit);
        (void)cgroup_read_number(dirfd, "memory.memsw.usage_in_bytes", b, v, ps, false,
                                 &cg->memsw_current);
        (void)cgroup_read_number(dirfd, "memory.memsw.limit_in_bytes", b, v, ps, true,
                                 &cg->memsw_max);
        (void)cgroup_read_number(dirfd, "memory.kmem.usage_in_bytes", b, v, ps, false,
                                 &cg->kmem_current);
        (void)cgroup_read_number(dirfd, "memory.swappiness", b, v, ps, false, &cg->swappiness);
        (void)cgroup_read_number(dirfd, "memory.use_hierarchy", b, v, ps, false,
                                 &cg->use_hierarchy);
        (void)cgroup_read_number(dirfd, "memory.failcnt", b, v, ps, false, &cg->events.max);
        if (read_virtual_at(dirfd, "memory.oom_control", b) >= 0)
            (void)cgroup_oom_control_parse(b->data, b->len, &cg->oom_control);
        cg->events.oom_kill = cg->oom_control.oom_kill;
    }
    if (read_virtual_at(dirfd, "cgroup.procs", b) >= 0)
        cg->nprocs = count_lines(b);
    if (v == 2 && opt_has(cg->nprocs))
        cg->nprocs += procs_without_memory(dirfd, b, 0);
    read_psi(h, dirfd, path, cg);
    return 0;
}

int cgroup_open_dir(const struct cgroup_hier *h, const char *path)
{
    if (h->memory.fd < 0)
        return -ENOENT;
    const char *rel = cgroup_rel_in_mount(&h->memory, path);
    if (!rel)
        return -ENOENT;
    int fd = openat(h->memory.fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cgroup_procs_append_at(int dirfd, pid_t **pids, size_t *n, size_t *cap)
{
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    size_t n0 = *n;
    int r = read_virtual_at(dirfd, "cgroup.procs", &b);
    struct cursor c = cursor_make(b.data, r < 0 ? 0 : b.len);
    while (r >= 0) {
        uint64_t v;
        cursor_skip_space(&c);
        if (cursor_eof(&c))
            break;
        if (cursor_u64(&c, &v) < 0 || v > INT32_MAX) {
            r = -EBADMSG;
            break;
        }
        if ((r = ARRAY_GROW(*pids, *n, *cap, 16)) < 0)
            break;
        (*pids)[(*n)++] = (pid_t)v;
    }
    buf_release(&b);
    if (r < 0)
        *n = n0;
    return r < 0 ? r : 0;
}

static int subtree_pids(int dirfd, bool by_inode, unsigned depth, pid_t **pids, size_t *n,
                        size_t *cap)
{
    /* a cgroup gone meanwhile is just not there */
    int r = cgroup_procs_append_at(dirfd, pids, n, cap);
    if (r == -ENOMEM)
        return r;
    struct child *kids = NULL;
    size_t nk = 0;
    if (depth >= CGROUP_WALK_MAX_DEPTH || cgroup_list_children(dirfd, by_inode, &kids, &nk) < 0)
        return 0;
    r = 0;
    for (size_t i = 0; i < nk; i++) {
        int fd = r == 0 ? openat(dirfd, kids[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            r = subtree_pids(fd, by_inode, depth + 1, pids, n, cap);
            close(fd);
        }
        free(kids[i].name);
    }
    free(kids);
    return r;
}

int cgroup_subtree_pids(const struct cgroup_hier *h, const char *path, pid_t **ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    int dfd = cgroup_open_dir(h, path);
    if (dfd < 0)
        return ERRNO_IS_GONE(-dfd) ? -ENOENT : dfd;
    size_t cap = 0;
    int r = subtree_pids(dfd, cgroup_inodes_tell_order(dfd), 0, ret, ret_n, &cap);
    close(dfd);
    if (r < 0) {
        free(*ret);
        *ret = NULL;
        *ret_n = 0;
    }
    return r;
}

int cgroup_open_pressure_dir(const struct cgroup_hier *h, const char *path)
{
    const struct cgroup_mount *m = h->memory_version == 2 ? &h->memory : &h->unified;
    if (m->fd < 0)
        return -ENOENT;
    const char *rel = cgroup_rel_in_mount(m, path);
    if (!rel)
        return -ENOENT;
    int fd = openat(m->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (faccessat(fd, "memory.pressure", F_OK, 0) < 0) {
        close(fd);
        return -ENOENT;
    }
    return fd;
}

int cgroup_read_events_at(const struct cgroup_hier *h, int dirfd, struct cgroup_events *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    memset(ret, 0xff, sizeof(*ret));
    int r;
    if (h->memory_version == 2) {
        r = read_virtual_at(dirfd, "memory.events", &b);
        if (r >= 0)
            r = cgroup_events_parse(b.data, b.len, ret);
    } else {
        r = cgroup_read_number(dirfd, "memory.failcnt", &b, 1, h->page_size, false, &ret->max);
        struct cgroup_oom_control oc;
        memset(&oc, 0xff, sizeof(oc));
        if (read_virtual_at(dirfd, "memory.oom_control", &b) >= 0 &&
            cgroup_oom_control_parse(b.data, b.len, &oc) > 0)
            ret->oom_kill = oc.oom_kill;
    }
    buf_release(&b);
    return r < 0 ? (ERRNO_IS_GONE(-r) ? -ENOENT : r) : 0;
}

int cgroup_read_usage_at(const struct cgroup_hier *h, int dirfd, uint64_t *ret)
{
    char b[32];
    int n = read_small_at(
        dirfd, h->memory_version == 2 ? "memory.current" : "memory.usage_in_bytes", b, sizeof(b));
    if (n < 0)
        return n;
    struct cursor c = cursor_make(b, (size_t)n);
    return cursor_u64(&c, ret) < 0 ? -EBADMSG : 0;
}

int cgroup_read_limit_at(const struct cgroup_hier *h, int dirfd, uint64_t *ret)
{
    char b[32];
    int n = read_small_at(dirfd, cgroup_limit_file(h->memory_version), b, sizeof(b));
    if (n < 0)
        return n;
    return cgroup_limit_parse(b, (size_t)n, h->memory_version, h->page_size, ret);
}

int cgroup_read_stat_at(const struct cgroup_hier *h, int dirfd, struct cgroup_memstat *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(dirfd, "memory.stat", &b);
    if (r >= 0)
        (void)cgroup_memstat_parse(b.data, b.len, h->memory_version, h->page_size, ret);
    buf_release(&b);
    return r < 0 ? (ERRNO_IS_GONE(-r) ? -ENOENT : r) : 0;
}

int cgroup_read_stat(const struct cgroup_hier *h, const char *path, struct cgroup_memstat *ret)
{
    _cleanup_close_ int fd = cgroup_open_dir(h, path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    return cgroup_read_stat_at(h, fd, ret);
}

int cgroup_read(const struct cgroup_hier *h, const char *path, struct cgroup_memory *ret)
{
    _cleanup_close_ int fd = cgroup_open_dir(h, path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = cgroup_read_at(h, fd, path, &b, ret);
    buf_release(&b);
    if (r < 0)
        cgroup_memory_release(ret);
    return r;
}

int cgroup_psi_from_members(const struct cgroup_hier *h, struct cgroup_memory *cg)
{
    if (cg->has_psi || h->memory_version != 1 || h->unified.fd < 0)
        return 0;
    _cleanup_close_ int fd = cgroup_open_dir(h, cg->path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    struct buf procs = BUF_INIT(CAP_KERNEL_FILE), b = BUF_INIT(CAP_KERNEL_FILE);
    char *shared = NULL;
    bool agree = true;
    int r = read_virtual_at(fd, "cgroup.procs", &procs);
    struct cursor c = cursor_make(procs.data ? procs.data : "", r < 0 ? 0 : procs.len);
    /* a sample is enough: they either share one unified cgroup or they do not */
    for (int seen = 0; r >= 0 && agree && seen < 64 && !cursor_eof(&c); seen++) {
        uint64_t pid;
        struct span line = cursor_line(&c);
        struct cursor lc = cursor_from_span(line);
        if (cursor_u64(&lc, &pid) < 0 || pid > 0x7fffffff)
            continue;
        char name[32];
        snprintf(name, sizeof(name), "%d/cgroup", (int)pid);
        char *mem = NULL, *uni = NULL;
        bool v1;
        if (read_virtual_at(h->sr->proc_fd, name, &b) < 0 ||
            proc_cgroup_parse(b.data, b.len, &mem, &uni, &v1) < 0)
            continue; /* exited meanwhile */
        free(mem);
        if (!uni)
            agree = false;
        else if (!shared)
            shared = uni, uni = NULL;
        else if (strcmp(shared, uni) != 0)
            agree = false;
        free(uni);
    }
    buf_release(&procs);
    buf_release(&b);
    /* the unified root's memory.pressure is the whole machine's, not this cgroup's */
    if (agree && shared && strcmp(shared, "/") != 0) {
        const char *rel = cgroup_rel_in_mount(&h->unified, shared);
        char p[4096];
        if (rel && (size_t)snprintf(p, sizeof(p), "%s/memory.pressure", rel) < sizeof(p) &&
            psi_read_at(h->unified.fd, p, &cg->psi) == 0) {
            cg->psi_path = TAKE_PTR(shared);
            cg->has_psi = true;
        }
    }
    free(shared);
    return 0;
}
