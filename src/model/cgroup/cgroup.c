/* The memory hierarchies: where they are mounted (mountinfo), opening them, and cgroup paths. */
#include "cgroup-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/sys/fileio.h"
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

bool cgroup_exists_at(int dirfd, const char *path)
{
    return dirfd >= 0 && faccessat(dirfd, path, F_OK, 0) == 0;
}

/* A controller name in <mount>/cgroup.controllers ("cpuset cpu io memory pids\n"). */
static bool v2_has_controller(int fd, const char *name)
{
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
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
        if (cgroup_exists_at(sr->sys_fd, "fs/cgroup/memory/memory.stat"))
            (void)mount_open(sr, &h.memory, strdup("/sys/fs/cgroup/memory"), strdup("/"));
        if (cgroup_exists_at(sr->sys_fd, "fs/cgroup/unified/cgroup.controllers"))
            (void)mount_open(sr, &h.unified, strdup("/sys/fs/cgroup/unified"), strdup("/"));
        else if (cgroup_exists_at(sr->sys_fd, "fs/cgroup/cgroup.controllers"))
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
const char *cgroup_rel_in_mount(const struct cgroup_mount *m, const char *path)
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
    struct buf out = BUF_INIT(CAP_PATH);
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

bool cgroup_parent_path(char *path)
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
            if (fd >= 0 && cgroup_exists_at(fd, "memory.stat"))
                break;
            if (!cgroup_parent_path(mem))
                break;
        }
    }
    *ret = mem;
    return 0;
}

const char *cgroup_limit_file(int version)
{
    return version == 2 ? "memory.max" : "memory.limit_in_bytes";
}

void cgroup_limit_json(struct json *j, const char *key, uint64_t v)
{
    if (!opt_has(v))
        json_kv_null(j, key);
    else if (!cgroup_limit_set(v))
        json_kv_str(j, key, "max");
    else
        json_kv_u64(j, key, v);
}
