#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/keyed.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"

const char *cgroup_layout_name(enum cgroup_layout l)
{
    switch (l) {
    case CGROUP_LAYOUT_V1:
        return "v1";
    case CGROUP_LAYOUT_V2:
        return "v2";
    case CGROUP_LAYOUT_HYBRID:
        return "hybrid";
    case CGROUP_LAYOUT_NONE:
    default:
        return "none";
    }
}

/* ---- mountinfo ---------------------------------------------------------------------------- */

static bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/* A mountinfo field with the kernel's \ooo escapes (show_path/mangle) decoded. */
static char *unescape(struct span s)
{
    char *out = malloc(s.n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '\\' && i + 3 < s.n && is_octal(s.p[i + 1]) && is_octal(s.p[i + 2]) &&
            is_octal(s.p[i + 3])) {
            int v = (s.p[i + 1] - '0') * 64 + (s.p[i + 2] - '0') * 8 + (s.p[i + 3] - '0');
            if (v > 0 && v < 256) {
                out[o++] = (char)v;
                i += 3;
                continue;
            }
        }
        out[o++] = s.p[i];
    }
    out[o] = '\0';
    return out;
}

static bool has_option(struct span opts, const char *name)
{
    struct cursor c = cursor_from_span(opts);
    while (!cursor_eof(&c))
        if (span_eq(cursor_until(&c, ','), name))
            return true;
    return false;
}

/* Keeps the first mount of the hierarchy's root, else the first mount. */
static int take_mount(char **mp, char **root, struct span new_mp, struct span new_root)
{
    bool new_is_top = span_eq(new_root, "/");
    if (*mp && (!new_is_top || strcmp(*root, "/") == 0))
        return 0;
    char *m = unescape(new_mp), *r = unescape(new_root);
    if (!m || !r) {
        free(m);
        free(r);
        return -ENOMEM;
    }
    free(*mp);
    free(*root);
    *mp = m;
    *root = r;
    return 0;
}

int cgroup_mountinfo_parse(const char *buf, size_t len, struct cgroup_mountinfo *ret)
{
    struct cgroup_mountinfo mi = {0};
    struct cursor c = cursor_make(buf, len);
    bool any = false;
    int r = 0;
    while (!cursor_eof(&c) && r == 0) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span f[6];
        size_t nf = 0;
        for (; nf < 6; nf++) {
            cursor_skip_blanks(&line);
            f[nf] = cursor_word(&line);
            if (f[nf].n == 0)
                break;
        }
        if (nf < 6)
            continue;
        /* optional tag fields end at a lone "-" */
        struct span w;
        do {
            cursor_skip_blanks(&line);
            w = cursor_word(&line);
        } while (w.n && !span_eq(w, "-"));
        if (!w.n)
            continue;
        cursor_skip_blanks(&line);
        struct span fstype = cursor_word(&line);
        cursor_skip_blanks(&line);
        (void)cursor_word(&line); /* source */
        cursor_skip_blanks(&line);
        struct span superopts = cursor_word(&line);
        if (fstype.n == 0)
            continue;
        any = true;
        if (span_eq(fstype, "cgroup2"))
            r = take_mount(&mi.v2_mountpoint, &mi.v2_root, f[4], f[3]);
        else if (span_eq(fstype, "cgroup") && has_option(superopts, "memory"))
            r = take_mount(&mi.v1_memory_mountpoint, &mi.v1_memory_root, f[4], f[3]);
    }
    if (r < 0 || !any) {
        cgroup_mountinfo_release(&mi);
        return r < 0 ? r : -EBADMSG;
    }
    *ret = mi;
    return 0;
}

void cgroup_mountinfo_release(struct cgroup_mountinfo *mi)
{
    free(mi->v1_memory_mountpoint);
    free(mi->v1_memory_root);
    free(mi->v2_mountpoint);
    free(mi->v2_root);
    *mi = (struct cgroup_mountinfo){0};
}

/* ---- opening the hierarchies ------------------------------------------------------------- */

static void mount_release(struct cgroup_mount *m)
{
    if (m->fd >= 0)
        close(m->fd);
    free(m->mountpoint);
    free(m->root);
    *m = (struct cgroup_mount){.fd = -1};
}

/* Opens <sysroot><mountpoint>; on failure leaves the mount empty (-errno). */
static int mount_open(const struct sysroot *sr, struct cgroup_mount *m, char *mountpoint,
                      char *root)
{
    const char *rel = mountpoint;
    while (*rel == '/')
        rel++;
    int fd = openat(sr->root_fd, *rel ? rel : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = -errno;
        free(mountpoint);
        free(root);
        return e;
    }
    *m = (struct cgroup_mount){.mountpoint = mountpoint, .root = root, .fd = fd};
    return 0;
}

static bool exists_at(int dirfd, const char *path)
{
    return dirfd >= 0 && faccessat(dirfd, path, F_OK, 0) == 0;
}

/* A controller name in <mount>/cgroup.controllers ("cpuset cpu io memory pids\n"). */
static bool v2_has_controller(int fd, const char *name)
{
    struct buf b = BUF_INIT(4096);
    int r = read_virtual_at(fd, "cgroup.controllers", &b);
    bool found = r < 0; /* unreadable: assume it, the reads will tell */
    struct cursor c = cursor_make(b.data ? b.data : "", b.len);
    while (r >= 0 && !cursor_eof(&c)) {
        cursor_skip_space(&c);
        if (span_eq(cursor_word(&c), name))
            found = true;
    }
    buf_release(&b);
    return found;
}

int cgroup_hier_open(const struct sysroot *sr, struct cgroup_hier *ret)
{
    struct cgroup_hier h = {
        .memory = {.fd = -1}, .unified = {.fd = -1}, .page_size = sr->page_size, .sr = sr};
    struct cgroup_mountinfo mi = {0};
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = -ENOENT;
    if (!sr->live)
        r = read_virtual_at(sr->proc_fd, "1/mountinfo", &b);
    if (r < 0)
        r = read_virtual_at(sr->proc_fd, "self/mountinfo", &b);
    if (r >= 0)
        r = cgroup_mountinfo_parse(b.data, b.len, &mi);
    buf_release(&b);
    if (r == -ENOMEM)
        return r;

    if (mi.v1_memory_mountpoint)
        (void)mount_open(sr, &h.memory, TAKE_PTR(mi.v1_memory_mountpoint),
                         TAKE_PTR(mi.v1_memory_root));
    if (mi.v2_mountpoint)
        (void)mount_open(sr, &h.unified, TAKE_PTR(mi.v2_mountpoint), TAKE_PTR(mi.v2_root));
    cgroup_mountinfo_release(&mi);

    /* No mountinfo (a trimmed fixture, a container without /proc/1 access): the usual places. */
    if (h.memory.fd < 0 && h.unified.fd < 0 && sr->sys_fd >= 0) {
        if (exists_at(sr->sys_fd, "fs/cgroup/memory/memory.stat"))
            (void)mount_open(sr, &h.memory, strdup("/sys/fs/cgroup/memory"), strdup("/"));
        if (exists_at(sr->sys_fd, "fs/cgroup/unified/cgroup.controllers"))
            (void)mount_open(sr, &h.unified, strdup("/sys/fs/cgroup/unified"), strdup("/"));
        else if (exists_at(sr->sys_fd, "fs/cgroup/cgroup.controllers"))
            (void)mount_open(sr, &h.unified, strdup("/sys/fs/cgroup"), strdup("/"));
    }

    if (h.memory.fd >= 0) {
        h.memory_version = 1;
        h.layout = h.unified.fd >= 0 ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_V1;
    } else if (h.unified.fd >= 0) {
        h.layout = CGROUP_LAYOUT_V2;
        if (v2_has_controller(h.unified.fd, "memory")) {
            h.memory_version = 2;
            h.memory = (struct cgroup_mount){
                .mountpoint = strdup(h.unified.mountpoint),
                .root = strdup(h.unified.root),
                .fd = fcntl(h.unified.fd, F_DUPFD_CLOEXEC, 3),
            };
            if (!h.memory.mountpoint || !h.memory.root || h.memory.fd < 0) {
                cgroup_hier_close(&h);
                return -ENOMEM;
            }
        }
    }
    *ret = h;
    return 0;
}

void cgroup_hier_close(struct cgroup_hier *h)
{
    mount_release(&h->memory);
    mount_release(&h->unified);
    h->layout = CGROUP_LAYOUT_NONE;
    h->memory_version = 0;
}

/*
 * Where a hierarchy path lives under a mount: the path relative to the mount's directory
 * ("." for the mount's root), or NULL when the mount does not show it.
 */
static const char *rel_in_mount(const struct cgroup_mount *m, const char *path)
{
    const char *root = m->root ? m->root : "/";
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        n--;
    if (strncmp(path, root, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return NULL;
    const char *rel = path + n;
    while (*rel == '/')
        rel++;
    return *rel ? rel : ".";
}

/* ---- parsers ----------------------------------------------------------------------------- */

int cgroup_limit_parse(const char *buf, size_t len, int version, long page_size, uint64_t *ret)
{
    struct cursor c = cursor_make(buf, len);
    cursor_skip_space(&c);
    if (cursor_skip_prefix(&c, "max")) {
        cursor_skip_space(&c);
        if (!cursor_eof(&c))
            return -EBADMSG;
        *ret = CGROUP_UNLIMITED;
        return 0;
    }
    uint64_t v;
    if (cursor_u64(&c, &v) < 0)
        return -EBADMSG;
    cursor_skip_space(&c);
    if (!cursor_eof(&c))
        return -EBADMSG;
    if (version == 1 && page_size > 0) {
        /* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE pages on 64-bit (include/linux/page_counter.h):
         * v1 prints it times PAGE_SIZE, 9223372036854771712 with 4 KiB pages */
        uint64_t unlimited = ((uint64_t)INT64_MAX / (uint64_t)page_size) * (uint64_t)page_size;
        if (v >= unlimited)
            v = CGROUP_UNLIMITED;
    }
    *ret = v;
    return 0;
}

#define ST(key, member) KEYED_FIELD(struct cgroup_memstat, key, member, 1)
static const struct keyed_field memstat_v2_fields[] = {
    ST("anon", anon),
    ST("file", file),
    ST("kernel", kernel),
    ST("kernel_stack", kernel_stack),
    ST("pagetables", pagetables),
    ST("sec_pagetables", sec_pagetables),
    ST("percpu", percpu),
    ST("sock", sock),
    ST("vmalloc", vmalloc),
    ST("shmem", shmem),
    ST("zswap", zswap),
    ST("zswapped", zswapped),
    ST("file_mapped", file_mapped),
    ST("file_dirty", file_dirty),
    ST("file_writeback", file_writeback),
    ST("swapcached", swapcached),
    ST("anon_thp", anon_thp),
    ST("file_thp", file_thp),
    ST("shmem_thp", shmem_thp),
    ST("inactive_anon", inactive_anon),
    ST("active_anon", active_anon),
    ST("inactive_file", inactive_file),
    ST("active_file", active_file),
    ST("unevictable", unevictable),
    ST("slab_reclaimable", slab_reclaimable),
    ST("slab_unreclaimable", slab_unreclaimable),
    ST("slab", slab),
    ST("workingset_refault_anon", workingset_refault_anon),
    ST("workingset_refault_file", workingset_refault_file),
    ST("pgfault", pgfault),
    ST("pgmajfault", pgmajfault),
};

/* v1 names → the v2 member they map to. Each is read both local and as total_<name>. */
struct v1_key {
    const char *name;
    size_t offset;
};
#define V1(name, member)                                                                           \
    {                                                                                              \
        name, offsetof(struct cgroup_memstat, member)                                              \
    }
static const struct v1_key memstat_v1_keys[] = {
    V1("cache", file),
    V1("rss", anon),
    V1("rss_huge", anon_thp),
    V1("shmem", shmem),
    V1("mapped_file", file_mapped),
    V1("dirty", file_dirty),
    V1("writeback", file_writeback),
    V1("swap", swap),
    V1("swapcached", swapcached),
    V1("inactive_anon", inactive_anon),
    V1("active_anon", active_anon),
    V1("inactive_file", inactive_file),
    V1("active_file", active_file),
    V1("unevictable", unevictable),
    V1("workingset_refault_anon", workingset_refault_anon),
    V1("workingset_refault_file", workingset_refault_file),
    V1("pgfault", pgfault),
    V1("pgmajfault", pgmajfault),
};

static void memstat_init(struct cgroup_memstat *s)
{
    memset(s, 0xff, sizeof(*s)); /* every field OPT_ABSENT */
}

static int memstat_v1_parse(const char *buf, size_t len, long page_size, struct cgroup_memstat *ret)
{
    size_t nk = ARRAY_SIZE(memstat_v1_keys);
    uint64_t local[ARRAY_SIZE(memstat_v1_keys)], total[ARRAY_SIZE(memstat_v1_keys)];
    for (size_t i = 0; i < nk; i++)
        local[i] = total[i] = OPT_ABSENT;
    uint64_t hier_mem = OPT_ABSENT, hier_memsw = OPT_ABSENT;
    int set = 0;
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span key = cursor_word(&line);
        cursor_skip_blanks(&line);
        uint64_t v;
        if (key.n == 0 || cursor_u64(&line, &v) < 0)
            continue;
        if (span_eq(key, "hierarchical_memory_limit")) {
            hier_mem = v;
            continue;
        }
        if (span_eq(key, "hierarchical_memsw_limit")) {
            hier_memsw = v;
            continue;
        }
        bool is_total = span_starts_with(key, "total_");
        if (is_total) {
            key.p += 6;
            key.n -= 6;
        }
        for (size_t i = 0; i < nk; i++) {
            if (span_eq(key, memstat_v1_keys[i].name)) {
                (is_total ? total : local)[i] = v;
                break;
            }
        }
    }
    for (size_t i = 0; i < nk; i++) {
        uint64_t v = opt_has(total[i]) ? total[i] : local[i];
        if (!opt_has(v))
            continue;
        memcpy((char *)ret + memstat_v1_keys[i].offset, &v, sizeof(v));
        set++;
    }
    char tmp[32];
    if (opt_has(hier_mem)) {
        int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)hier_mem);
        (void)cgroup_limit_parse(tmp, (size_t)n, 1, page_size, &ret->hierarchical_memory_limit);
        set++;
    }
    if (opt_has(hier_memsw)) {
        int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)hier_memsw);
        (void)cgroup_limit_parse(tmp, (size_t)n, 1, page_size, &ret->hierarchical_memsw_limit);
        set++;
    }
    return set;
}

int cgroup_memstat_parse(const char *buf, size_t len, int version, long page_size,
                         struct cgroup_memstat *ret)
{
    memstat_init(ret);
    if (version == 1)
        return memstat_v1_parse(buf, len, page_size, ret);
    return keyed_parse(buf, len, memstat_v2_fields, ARRAY_SIZE(memstat_v2_fields), ret);
}

#define EV(key, member) KEYED_FIELD(struct cgroup_events, key, member, 1)
static const struct keyed_field events_fields[] = {
    EV("low", low), EV("high", high),         EV("max", max),
    EV("oom", oom), EV("oom_kill", oom_kill), EV("oom_group_kill", oom_group_kill),
};

_Static_assert(ARRAY_SIZE(events_fields) == CGROUP_EVENTS_N, "CGROUP_EVENTS_N");

int cgroup_events_parse(const char *buf, size_t len, struct cgroup_events *ret)
{
    memset(ret, 0xff, sizeof(*ret));
    return keyed_parse(buf, len, events_fields, ARRAY_SIZE(events_fields), ret);
}

const char *cgroup_event_name(size_t i)
{
    return events_fields[i].key;
}

uint64_t cgroup_event_value(const struct cgroup_events *e, size_t i)
{
    return *(const uint64_t *)((const char *)e + events_fields[i].offset);
}

#define OC(key, member) KEYED_FIELD(struct cgroup_oom_control, key, member, 1)
static const struct keyed_field oom_control_fields[] = {
    OC("oom_kill_disable", oom_kill_disable),
    OC("under_oom", under_oom),
    OC("oom_kill", oom_kill),
};

int cgroup_oom_control_parse(const char *buf, size_t len, struct cgroup_oom_control *ret)
{
    memset(ret, 0xff, sizeof(*ret));
    return keyed_parse(buf, len, oom_control_fields, ARRAY_SIZE(oom_control_fields), ret);
}

/* ---- derived numbers ---------------------------------------------------------------------- */

uint64_t cgroup_working_set(const struct cgroup_memory *cg)
{
    if (!opt_has(cg->current))
        return OPT_ABSENT;
    uint64_t inactive = cg->stat.inactive_file;
    if (!opt_has(inactive))
        return cg->current;
    return cg->current > inactive ? cg->current - inactive : 0;
}

uint64_t cgroup_reclaimable(const struct cgroup_memory *cg)
{
    const struct cgroup_memstat *s = &cg->stat;
    if (!opt_has(s->inactive_file) || !opt_has(s->active_file))
        return OPT_ABSENT;
    uint64_t r = s->inactive_file + s->active_file;
    if (opt_has(s->slab_reclaimable))
        r += s->slab_reclaimable;
    return r;
}

uint64_t cgroup_kernel(const struct cgroup_memory *cg)
{
    const struct cgroup_memstat *s = &cg->stat;
    if (opt_has(s->kernel))
        return s->kernel;
    if (cg->version == 1)
        return cg->kmem_current;
    /* 5.10 has the parts but not the sum */
    const uint64_t parts[] = {s->kernel_stack, s->pagetables,       s->percpu,
                              s->vmalloc,      s->slab_reclaimable, s->slab_unreclaimable};
    uint64_t sum = 0;
    bool any = false;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (opt_has(parts[i])) {
            sum += parts[i];
            any = true;
        }
    return any ? sum : OPT_ABSENT;
}

void cgroup_binding_of(const struct cgroup_memory *const *chain, size_t n,
                       struct cgroup_binding *ret)
{
    *ret = (struct cgroup_binding){
        .limit = CGROUP_UNLIMITED, .usage = OPT_ABSENT, .headroom = OPT_ABSENT};
    /* from the cgroup up, so that equal headroom goes to the nearest */
    for (size_t i = n; i-- > 0;) {
        const struct cgroup_memory *cg = chain[i];
        if (i + 1 < n && !cgroup_charges_reach(cg))
            break;
        if (!cgroup_limit_set(cg->max))
            continue;
        uint64_t use = opt_has(cg->current) ? cg->current : 0;
        uint64_t room = cg->max > use ? cg->max - use : 0;
        if (!ret->from || room < ret->headroom)
            *ret = (struct cgroup_binding){cg->max, cg->current, room, cg->path};
    }
}

/* ---- reading one cgroup ------------------------------------------------------------------ */

static void memory_init(struct cgroup_memory *cg, int version)
{
    *cg = (struct cgroup_memory){.version = version, .parent = SIZE_MAX};
    cg->current = cg->peak = cg->max = cg->high = cg->low = cg->min = OPT_ABSENT;
    cg->swap_current = cg->swap_max = cg->swap_high = cg->swap_peak = OPT_ABSENT;
    cg->memsw_current = cg->memsw_max = cg->kmem_current = cg->soft_limit = OPT_ABSENT;
    cg->swappiness = cg->oom_group = cg->use_hierarchy = OPT_ABSENT;
    memset(&cg->oom_control, 0xff, sizeof(cg->oom_control));
    memset(&cg->events, 0xff, sizeof(cg->events));
    memset(&cg->events_local, 0xff, sizeof(cg->events_local));
    memstat_init(&cg->stat);
    cg->nprocs = cg->nprocs_subtree = OPT_ABSENT;
}

void cgroup_memory_release(struct cgroup_memory *cg)
{
    free(cg->path);
    free(cg->psi_path);
    cg->path = cg->psi_path = NULL;
}

/* A single-number file; the value is left alone when the file is missing or unparsable. */
static int read_number(int dirfd, const char *name, struct buf *b, int version, long page_size,
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

struct child {
    uint64_t ino;
    char *name;
};

static int list_children(int dirfd, struct child **ret, size_t *ret_n);

/*
 * v2: processes in descendants that do not have the memory controller are charged to this
 * memcg (the nearest ancestor that has it), so they count as its own.
 */
static uint64_t procs_without_memory(int dirfd, struct buf *b, unsigned depth)
{
    struct child *kids = NULL;
    size_t n = 0;
    uint64_t total = 0;
    if (depth >= CGROUP_WALK_MAX_DEPTH || list_children(dirfd, &kids, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int fd = openat(dirfd, kids[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && !exists_at(fd, "memory.stat")) {
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
        const char *rel = h->unified.fd >= 0 ? rel_in_mount(&h->unified, path) : NULL;
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
static int take_path_and_inode(struct cgroup_memory *cg, int dirfd, const char *path)
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
static int read_at(const struct cgroup_hier *h, int dirfd, const char *path, struct buf *b,
                   struct cgroup_memory *cg)
{
    int v = h->memory_version;
    long ps = h->page_size;
    memory_init(cg, v);
    int r = read_virtual_at(dirfd, "memory.stat", b);
    if (r < 0) {
        if (r == -ENOENT && exists_at(dirfd, "cgroup.procs"))
            return -ENOMEDIUM;
        return ERRNO_IS_GONE(-r) ? -ENOENT : r;
    }
    (void)cgroup_memstat_parse(b->data, b->len, v, ps, &cg->stat);
    if (take_path_and_inode(cg, dirfd, path) < 0)
        return -ENOMEM;

    if (v == 2) {
        (void)read_number(dirfd, "memory.current", b, v, ps, false, &cg->current);
        (void)read_number(dirfd, "memory.peak", b, v, ps, false, &cg->peak);
        (void)read_number(dirfd, "memory.max", b, v, ps, true, &cg->max);
        (void)read_number(dirfd, "memory.high", b, v, ps, true, &cg->high);
        (void)read_number(dirfd, "memory.low", b, v, ps, true, &cg->low);
        (void)read_number(dirfd, "memory.min", b, v, ps, true, &cg->min);
        (void)read_number(dirfd, "memory.swap.current", b, v, ps, false, &cg->swap_current);
        (void)read_number(dirfd, "memory.swap.max", b, v, ps, true, &cg->swap_max);
        (void)read_number(dirfd, "memory.swap.high", b, v, ps, true, &cg->swap_high);
        (void)read_number(dirfd, "memory.swap.peak", b, v, ps, false, &cg->swap_peak);
        (void)read_number(dirfd, "memory.oom.group", b, v, ps, false, &cg->oom_group);
        if (read_virtual_at(dirfd, "memory.events", b) >= 0)
            (void)cgroup_events_parse(b->data, b->len, &cg->events);
        if (read_virtual_at(dirfd, "memory.events.local", b) >= 0)
            (void)cgroup_events_parse(b->data, b->len, &cg->events_local);
    } else {
        (void)read_number(dirfd, "memory.usage_in_bytes", b, v, ps, false, &cg->current);
        (void)read_number(dirfd, "memory.max_usage_in_bytes", b, v, ps, false, &cg->peak);
        (void)read_number(dirfd, "memory.limit_in_bytes", b, v, ps, true, &cg->max);
        (void)read_number(dirfd, "memory.soft_limit_in_bytes", b, v, ps, true, &cg->soft_limit);
        (void)read_number(dirfd, "memory.memsw.usage_in_bytes", b, v, ps, false,
                          &cg->memsw_current);
        (void)read_number(dirfd, "memory.memsw.limit_in_bytes", b, v, ps, true, &cg->memsw_max);
        (void)read_number(dirfd, "memory.kmem.usage_in_bytes", b, v, ps, false, &cg->kmem_current);
        (void)read_number(dirfd, "memory.swappiness", b, v, ps, false, &cg->swappiness);
        (void)read_number(dirfd, "memory.use_hierarchy", b, v, ps, false, &cg->use_hierarchy);
        (void)read_number(dirfd, "memory.failcnt", b, v, ps, false, &cg->events.max);
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
    const char *rel = rel_in_mount(&h->memory, path);
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
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            pid_t *nv = realloc(*pids, nc * sizeof(*nv));
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            *pids = nv;
            *cap = nc;
        }
        (*pids)[(*n)++] = (pid_t)v;
    }
    buf_release(&b);
    if (r < 0)
        *n = n0;
    return r < 0 ? r : 0;
}

static int subtree_pids(int dirfd, unsigned depth, pid_t **pids, size_t *n, size_t *cap)
{
    /* a cgroup gone meanwhile is just not there */
    int r = cgroup_procs_append_at(dirfd, pids, n, cap);
    if (r == -ENOMEM)
        return r;
    struct child *kids = NULL;
    size_t nk = 0;
    if (depth >= CGROUP_WALK_MAX_DEPTH || list_children(dirfd, &kids, &nk) < 0)
        return 0;
    r = 0;
    for (size_t i = 0; i < nk; i++) {
        int fd = r == 0 ? openat(dirfd, kids[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            r = subtree_pids(fd, depth + 1, pids, n, cap);
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
    int r = subtree_pids(dfd, 0, ret, ret_n, &cap);
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
    const char *rel = rel_in_mount(m, path);
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
        r = read_number(dirfd, "memory.failcnt", &b, 1, h->page_size, false, &ret->max);
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
    int n = read_small_at(dirfd, h->memory_version == 2 ? "memory.current" : "memory.usage_in_bytes",
                          b, sizeof(b));
    if (n < 0)
        return n;
    struct cursor c = cursor_make(b, (size_t)n);
    return cursor_u64(&c, ret) < 0 ? -EBADMSG : 0;
}

int cgroup_read_limit_at(const struct cgroup_hier *h, int dirfd, uint64_t *ret)
{
    char b[32];
    int n = read_small_at(dirfd, h->memory_version == 2 ? "memory.max" : "memory.limit_in_bytes",
                          b, sizeof(b));
    if (n < 0)
        return n;
    return cgroup_limit_parse(b, (size_t)n, h->memory_version, h->page_size, ret);
}

int cgroup_read_stat(const struct cgroup_hier *h, const char *path, struct cgroup_memstat *ret)
{
    _cleanup_close_ int fd = cgroup_open_dir(h, path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(fd, "memory.stat", &b);
    if (r >= 0)
        (void)cgroup_memstat_parse(b.data, b.len, h->memory_version, h->page_size, ret);
    buf_release(&b);
    return r < 0 ? (ERRNO_IS_GONE(-r) ? -ENOENT : r) : 0;
}

int cgroup_read(const struct cgroup_hier *h, const char *path, struct cgroup_memory *ret)
{
    _cleanup_close_ int fd = cgroup_open_dir(h, path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_at(h, fd, path, &b, ret);
    buf_release(&b);
    if (r < 0)
        cgroup_memory_release(ret);
    return r;
}

/* ---- paths --------------------------------------------------------------------------------- */

static const char *strip_mount(const struct cgroup_hier *h, const char *arg, const char *mp)
{
    if (!mp || strcmp(mp, "/") == 0)
        return NULL;
    const char *dir = h->sr && h->sr->dir ? h->sr->dir : "";
    size_t dn = strlen(dir), mn = strlen(mp);
    /* the sysroot-prefixed form first: --root /host and /host/sys/fs/cgroup/... */
    if (dn && strncmp(arg, dir, dn) == 0 && strncmp(arg + dn, mp, mn) == 0 &&
        (arg[dn + mn] == '\0' || arg[dn + mn] == '/'))
        return arg + dn + mn;
    if (strncmp(arg, mp, mn) == 0 && (arg[mn] == '\0' || arg[mn] == '/'))
        return arg + mn;
    return NULL;
}

int cgroup_path_normalize(const struct cgroup_hier *h, const char *arg, char **ret)
{
    const char *rest = strip_mount(h, arg, h->memory.mountpoint);
    const char *root = "";
    if (rest && h->memory.root && strcmp(h->memory.root, "/") != 0)
        root = h->memory.root;
    const char *src = rest ? rest : arg;
    struct buf out = BUF_INIT(8192);
    int r = buf_puts(&out, root);
    const char *p = src;
    while (r == 0 && *p) {
        while (*p == '/')
            p++;
        const char *e = strchrnul(p, '/');
        size_t n = (size_t)(e - p);
        if (n == 0)
            break;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            r = -EINVAL;
            break;
        }
        r = buf_putc(&out, '/');
        if (r == 0)
            r = buf_append(&out, p, n);
        p = e;
    }
    if (r == 0 && out.len == 0)
        r = buf_putc(&out, '/');
    if (r < 0) {
        buf_release(&out);
        return r;
    }
    *ret = buf_detach(&out, NULL);
    return 0;
}

/* The parent path: "/a/b" → "/a", "/a" → "/"; false for "/". */
static bool parent_path(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash || (slash == path && path[1] == '\0'))
        return false;
    if (slash == path)
        slash[1] = '\0';
    else
        *slash = '\0';
    return true;
}

int cgroup_of_pid(const struct cgroup_hier *h, int pid, char **ret)
{
    char name[32];
    snprintf(name, sizeof(name), "%d/cgroup", pid);
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(h->sr->proc_fd, name, &b);
    char *mem = NULL, *unified = NULL;
    bool v1 = false;
    if (r >= 0)
        r = b.len ? proc_cgroup_parse(b.data, b.len, &mem, &unified, &v1) : -ESRCH;
    buf_release(&b);
    if (r < 0)
        return r == -ENOENT ? -ESRCH : r;
    free(unified);
    if (h->memory_version == 1 && !v1) {
        free(mem);
        return -ENOMEDIUM;
    }
    /* v2: the memory controller may not be enabled down to the process's own cgroup */
    if (h->memory_version == 2) {
        for (;;) {
            _cleanup_close_ int fd = cgroup_open_dir(h, mem);
            if (fd >= 0 && exists_at(fd, "memory.stat"))
                break;
            if (!parent_path(mem))
                break;
        }
    }
    *ret = mem;
    return 0;
}

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
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct cgroup_memory *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
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

/* The kernel's own cgroup filesystems (v1's cgroup and cgroup2; linux/magic.h). */
#define CGROUP_FS_MAGIC 0x27e0ebU
#define CGROUP2_FS_MAGIC 0x63677270U

/* Whether inode numbers under this directory tell creation order: kernfs hands them out in
 * increasing order, so on a real hierarchy they give the order in which the kernel walks
 * children (css_next_descendant_pre(), used by the OOM killer's task scan). A copied or
 * generated tree on a disk filesystem gets inodes from its allocator (ext4's Orlov spreads
 * directories), so there the order would depend on the checkout: names sort instead. */
static bool inodes_tell_creation_order(int dirfd)
{
    struct statfs fs;
    if (fstatfs(dirfd, &fs) < 0)
        return false;
    return (unsigned long)fs.f_type == CGROUP_FS_MAGIC || (unsigned long)fs.f_type == CGROUP2_FS_MAGIC;
}

/* Children of a directory, in creation order on a real hierarchy, else by name. */
static int list_children(int dirfd, struct child **ret, size_t *ret_n)
{
    bool by_inode = inodes_tell_creation_order(dirfd);
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
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct child *nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
        }
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
    WALK_FULL,   /* everything: read_at() */
    WALK_LIMITS, /* path, inode and the limit */
    WALK_EVENTS, /* and the event counters */
};

/* The light read of cgroup_snapshot_read_limits() and _read_events(). */
static int read_limit_at(const struct cgroup_hier *h, int dirfd, const char *path, struct buf *b,
                         enum walk_read what, struct cgroup_memory *cg)
{
    int v = h->memory_version;
    memory_init(cg, v);
    /* as read_at(): no memory.stat in a live cgroup means no memory controller here */
    if (!exists_at(dirfd, "memory.stat"))
        return exists_at(dirfd, "cgroup.procs") ? -ENOMEDIUM : -ENOENT;
    if (take_path_and_inode(cg, dirfd, path) < 0)
        return -ENOMEM;
    (void)read_number(dirfd, v == 2 ? "memory.max" : "memory.limit_in_bytes", b, v, h->page_size,
                      true, &cg->max);
    if (v == 1)
        (void)read_number(dirfd, "memory.use_hierarchy", b, v, h->page_size, false,
                          &cg->use_hierarchy);
    if (what == WALK_EVENTS)
        (void)cgroup_read_events_at(h, dirfd, &cg->events);
    return 0;
}

static int walk(const struct cgroup_hier *h, int dirfd, const char *path, size_t parent,
                unsigned depth, unsigned max_depth, enum walk_read what, struct buf *b,
                struct cgroup_snapshot *s)
{
    struct cgroup_memory cg;
    int r = what != WALK_FULL ? read_limit_at(h, dirfd, path, b, what, &cg)
                              : read_at(h, dirfd, path, b, &cg);
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
    size_t self = s->n;
    if ((r = snapshot_push(s, &cg)) < 0) {
        cgroup_memory_release(&cg);
        return r;
    }
    if (depth >= max_depth) {
        if (depth >= CGROUP_WALK_MAX_DEPTH)
            log_debug("cgroup walk: not descending below %s (depth %u)", path, depth);
        return 0;
    }
    struct child *kids = NULL;
    size_t nkids = 0;
    r = list_children(dirfd, &kids, &nkids);
    if (r < 0)
        return ERRNO_IS_GONE(-r) ? 0 : r;
    struct buf child_path = BUF_INIT(64 * 1024);
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
            r = walk(h, fd, child_path.data, self, depth + 1, max_depth, what, b, s);
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
    int r = walk(h, fd, start, SIZE_MAX, 0, max_depth, what, &b, &s);
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
    while (r == 0 && strcmp(p, top) != 0 && parent_path(p)) {
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
        const char *rel = rel_in_mount(&h->unified, shared);
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
