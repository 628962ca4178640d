/* Walking the hierarchy into a snapshot, and a cgroup's ancestors. */
#include "cgroup-int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"

/* ---- the walk ------------------------------------------------------------------------------ */

void cgroup_snapshot_release(struct cgroup_snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        cgroup_memory_release(&s->v[i]);
    free(s->v);
    *s = (struct cgroup_snapshot){0};
}

static int snapshot_push(struct cgroup_snapshot *s, struct cgroup_memory *cg)
{
    if (ARRAY_GROW(s->v, s->n, s->cap, 64) < 0)
        return -ENOMEM;
    s->v[s->n++] = *cg;
    return 0;
}

int cgroup_snapshot_copy_subtree(const struct cgroup_snapshot *s, size_t top,
                                 struct cgroup_snapshot *ret)
{
    struct cgroup_snapshot c = {0};
    if (top >= s->n) {
        *ret = c;
        return 0;
    }
    unsigned base = s->v[top].depth;
    size_t end = top + 1;
    while (end < s->n && s->v[end].depth > base)
        end++;
    c.v = calloc(end - top, sizeof(*c.v));
    if (!c.v)
        return -ENOMEM;
    c.cap = end - top;
    for (size_t i = top; i < end; i++) {
        struct cgroup_memory m = s->v[i];
        m.path = strdup(s->v[i].path);
        m.psi_path = s->v[i].psi_path ? strdup(s->v[i].psi_path) : NULL;
        m.parent = i == top ? SIZE_MAX : s->v[i].parent - top;
        m.depth = s->v[i].depth - base;
        c.v[c.n++] = m;
        if (!m.path || (s->v[i].psi_path && !m.psi_path)) {
            cgroup_snapshot_release(&c);
            return -ENOMEM;
        }
    }
    *ret = c;
    return 0;
}

static int cmp_child(const void *a, const void *b)
{
    const struct child *x = a, *y = b;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Inode numbers tell creation order on a real hierarchy: kernfs hands them out in increasing
 * order, so they give the order in which the kernel walks children (css_next_descendant_pre(),
 * used by the OOM killer's task scan). A copied or generated tree on a disk filesystem gets
 * inodes from its allocator (ext4's Orlov spreads directories), so there the order would depend
 * on the checkout: names sort instead. */
bool cgroup_inodes_tell_order(int dirfd)
{
    struct statfs fs;
    if (fstatfs(dirfd, &fs) < 0)
        return false;
    return fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_list_children(int dirfd, bool by_inode, struct child **ret, size_t *ret_n)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = -errno;
        close(fd);
        return e;
    }
    struct child *v = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
            continue;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        if ((r = ARRAY_GROW(v, n, cap, 16)) < 0)
            break;
        v[n].ino = by_inode ? de->d_ino : 0;
        v[n].name = strdup(de->d_name);
        if (!v[n].name) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i].name);
        free(v);
        return r;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_child);
    *ret = v;
    *ret_n = n;
    return 0;
}

/* What a walk reads of each cgroup. */
enum walk_read {
    WALK_FULL,   /* everything: cgroup_read_at() */
    WALK_LIMITS, /* path, inode and the limit */
    WALK_EVENTS, /* and the event counters */
};

/* The light read of cgroup_snapshot_read_limits() and _read_events(). */
static int read_limit_at(const struct cgroup_hier *h, int dirfd, const char *path, struct buf *b,
                         enum walk_read what, struct cgroup_memory *cg)
{
    int v = h->memory_version;
    cgroup_memory_init(cg, v);
    /* as cgroup_read_at(): no memory.stat in a live cgroup means no memory controller here */
    if (!cgroup_exists_at(dirfd, "memory.stat"))
        return cgroup_exists_at(dirfd, "cgroup.procs") ? -ENOMEDIUM : -ENOENT;
    if (cgroup_take_path_and_inode(cg, dirfd, path) < 0)
        return -ENOMEM;
    (void)cgroup_read_number(dirfd, cgroup_limit_file(v), b, v, h->page_size, true, &cg->max);
    if (v == 1)
        (void)cgroup_read_number(dirfd, "memory.use_hierarchy", b, v, h->page_size, false,
                                 &cg->use_hierarchy);
    if (what == WALK_EVENTS)
        (void)cgroup_read_events_at(h, dirfd, &cg->events);
    return 0;
}

/* One walk: what it reads, how deep, in which order, and where to. */
struct walk {
    const struct cgroup_hier *h;
    enum walk_read what;
    unsigned max_depth;
    bool by_inode; /* cgroup_inodes_tell_order() of the top, for every directory below it */
    struct buf *b;
    struct cgroup_snapshot *s;
};

static int walk(const struct walk *w, int dirfd, const char *path, size_t parent, unsigned depth)
{
    struct cgroup_memory cg;
    int r = w->what != WALK_FULL ? read_limit_at(w->h, dirfd, path, w->b, w->what, &cg)
                                 : cgroup_read_at(w->h, dirfd, path, w->b, &cg);
    if (r < 0) {
        cgroup_memory_release(&cg);
        /* gone, or (v2) no memory controller here and so none below; one we may not read
         * (a delegated subtree) does not stop the others */
        if (r == -EACCES || r == -EPERM)
            log_debug("cgroup walk: skipping %s: %s", path, strerror(-r));
        return r == -ENOENT || r == -ENOMEDIUM || r == -EACCES || r == -EPERM ? 0 : r;
    }
    cg.parent = parent;
    cg.depth = depth;
    size_t self = w->s->n;
    if ((r = snapshot_push(w->s, &cg)) < 0) {
        cgroup_memory_release(&cg);
        return r;
    }
    if (depth >= w->max_depth) {
        if (depth >= CGROUP_WALK_MAX_DEPTH)
            log_debug("cgroup walk: not descending below %s (depth %u)", path, depth);
        return 0;
    }
    struct child *kids = NULL;
    size_t nkids = 0;
    r = cgroup_list_children(dirfd, w->by_inode, &kids, &nkids);
    if (r < 0)
        return ERRNO_IS_GONE(-r) ? 0 : r;
    struct buf child_path = BUF_INIT(CAP_PATH);
    for (size_t i = 0; i < nkids && r == 0; i++) {
        int fd = openat(dirfd, kids[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            if (!ERRNO_IS_GONE(errno) && errno != ENOTDIR && errno != EACCES && errno != EPERM)
                r = -errno;
            continue;
        }
        buf_reset(&child_path);
        r = buf_printf(&child_path, "%s/%s", strcmp(path, "/") == 0 ? "" : path, kids[i].name);
        if (r == 0)
            r = walk(w, fd, child_path.data, self, depth + 1);
        close(fd);
    }
    buf_release(&child_path);
    for (size_t i = 0; i < nkids; i++)
        free(kids[i].name);
    free(kids);
    return r;
}

int cgroup_snapshot_read(const struct cgroup_hier *h, const char *top, struct cgroup_snapshot *ret)
{
    return cgroup_snapshot_read_depth(h, top, CGROUP_WALK_MAX_DEPTH, ret);
}

static int snapshot(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                    enum walk_read what, struct cgroup_snapshot *ret)
{
    if (max_depth > CGROUP_WALK_MAX_DEPTH)
        max_depth = CGROUP_WALK_MAX_DEPTH;
    const char *start = top ? top : (h->memory.root ? h->memory.root : "/");
    int fd = cgroup_open_dir(h, start);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    struct cgroup_snapshot s = {0};
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    struct walk w = {.h = h, .what = what, .max_depth = max_depth,
                     .by_inode = cgroup_inodes_tell_order(fd), .b = &b, .s = &s};
    int r = walk(&w, fd, start, SIZE_MAX, 0);
    close(fd);
    buf_release(&b);
    if (r == 0 && s.n == 0)
        r = -ENOENT;
    if (r < 0) {
        cgroup_snapshot_release(&s);
        return r;
    }
    /* processes in each subtree: pre-order, so children come after their parent */
    for (size_t i = 0; i < s.n; i++)
        s.v[i].nprocs_subtree = opt_has(s.v[i].nprocs) ? s.v[i].nprocs : 0;
    for (size_t i = s.n; i-- > 0;)
        if (s.v[i].parent != SIZE_MAX)
            s.v[s.v[i].parent].nprocs_subtree += s.v[i].nprocs_subtree;
    *ret = s;
    return 0;
}

int cgroup_snapshot_read_depth(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                               struct cgroup_snapshot *ret)
{
    return snapshot(h, top, max_depth, WALK_FULL, ret);
}

int cgroup_snapshot_read_limits(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                                struct cgroup_snapshot *ret)
{
    return snapshot(h, top, max_depth, WALK_LIMITS, ret);
}

int cgroup_snapshot_read_events(const struct cgroup_hier *h, const char *top, unsigned max_depth,
                                struct cgroup_snapshot *ret)
{
    return snapshot(h, top, max_depth, WALK_EVENTS, ret);
}

static bool path_is_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 1 && prefix[0] == '/')
        return path[0] == '/';
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

size_t cgroup_snapshot_find_under(const struct cgroup_snapshot *s, const char *path)
{
    size_t best = SIZE_MAX, best_len = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t n = strlen(s->v[i].path);
        if ((best == SIZE_MAX || n > best_len) && path_is_under(path, s->v[i].path)) {
            best = i;
            best_len = n;
        }
    }
    return best;
}

int cgroup_read_ancestors(const struct cgroup_hier *h, const char *path,
                          struct cgroup_snapshot *ret)
{
    struct cgroup_snapshot s = {0};
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    const char *top = h->memory.root ? h->memory.root : "/";
    int r = 0;
    /* collected deepest first, reversed below */
    while (r == 0 && strcmp(p, top) != 0 && cgroup_parent_path(p)) {
        struct cgroup_memory cg;
        r = cgroup_read(h, p, &cg);
        if (r == -ENOMEDIUM) {
            r = 0; /* v2: an ancestor without the controller has no limits of its own */
            continue;
        }
        if (r == 0 && (r = snapshot_push(&s, &cg)) < 0)
            cgroup_memory_release(&cg);
    }
    free(p);
    if (r < 0) {
        cgroup_snapshot_release(&s);
        return r;
    }
    for (size_t i = 0; i < s.n / 2; i++) {
        struct cgroup_memory t = s.v[i];
        s.v[i] = s.v[s.n - 1 - i];
        s.v[s.n - 1 - i] = t;
    }
    for (size_t i = 0; i < s.n; i++) {
        s.v[i].depth = (unsigned)i;
        s.v[i].parent = i ? i - 1 : SIZE_MAX;
    }
    *ret = s;
    return 0;
}
