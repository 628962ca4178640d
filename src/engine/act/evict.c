#include "evict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/array.h"
#include "base/cleanup.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* mincore() needs one byte per page; walk big files through a bounded window. */
#define WINDOW_BYTES (1ul << 30)

int evict_residency(int fd, uint64_t size, uint64_t *ret)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t resident = 0;
    unsigned char *vec = malloc(WINDOW_BYTES / (size_t)page);
    if (!vec)
        return -ENOMEM;
    int r = 0;
    for (uint64_t off = 0; off < size; off += WINDOW_BYTES) {
        size_t len = size - off < WINDOW_BYTES ? (size_t)(size - off) : WINDOW_BYTES;
        /* PROT_READ, MAP_SHARED of a file only maps: no page is read in by mincore() */
        void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
        if (m == MAP_FAILED) {
            r = -errno;
            break;
        }
        size_t pages = (len + (size_t)page - 1) / (size_t)page;
        if (mincore(m, len, vec) < 0) {
            r = -errno;
            munmap(m, len);
            break;
        }
        for (size_t i = 0; i < pages; i++)
            if (vec[i] & 1) {
                /* the last page counts only the part that is the file */
                uint64_t start = off + (uint64_t)i * (uint64_t)page;
                uint64_t end = start + (uint64_t)page;
                resident += (end > size ? size : end) - start;
            }
        munmap(m, len);
    }
    free(vec);
    if (r == 0)
        *ret = resident;
    return r;
}

static int add(struct evict_result *res, const char *path, struct evict_file **ret)
{
    if (ARRAY_GROW(res->v, res->n, res->cap, 16) < 0)
        return -ENOMEM;
    struct evict_file *f = &res->v[res->n];
    *f = (struct evict_file){.path = strdup(path)};
    if (!f->path)
        return -ENOMEM;
    res->n++;
    *ret = f;
    return 0;
}

static void one_file(int fd, const struct stat *st, const struct evict_opts *o,
                     struct evict_file *f)
{
    f->size = (uint64_t)st->st_size;
    struct statfs sfs;
    if (fstatfs(fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
        f->tmpfs = true;
    int r = evict_residency(fd, f->size, &f->before);
    if (r < 0) {
        f->error = r;
        return;
    }
    f->after = f->before;
    if (o->dry_run || f->before == 0 || f->tmpfs)
        return;
    if (o->sync && fdatasync(fd) < 0) {
        f->error = -errno;
        return;
    }
    r = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (r != 0) {
        f->error = -r;
        return;
    }
    r = evict_residency(fd, f->size, &f->after);
    if (r < 0)
        f->error = r;
}

static int walk(int parent, const char *name, const char *path, dev_t dev, const struct evict_opts *o,
                struct evict_result *res)
{
    /* O_NOFOLLOW: a symlink inside a directory walk is not followed */
    int fd = openat(parent, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    struct evict_file *f;
    int r;
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP) {
            res->files_skipped++;
            return 0;
        }
        if ((r = add(res, path, &f)) < 0)
            return r;
        f->error = -e;
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        if ((r = add(res, path, &f)) < 0)
            return r;
        f->error = -e;
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        r = add(res, path, &f);
        if (r == 0)
            one_file(fd, &st, o, f);
        close(fd);
        return r < 0 ? r : 0;
    }
    if (!S_ISDIR(st.st_mode) || (o->one_fs && dev != (dev_t)-1 && st.st_dev != dev)) {
        res->files_skipped++;
        close(fd);
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    struct dirent *de;
    r = 0;
    while ((de = readdir(d)) && r == 0) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t n = strlen(path) + strlen(de->d_name) + 2;
        char *child = malloc(n);
        if (!child) {
            r = -ENOMEM;
            break;
        }
        snprintf(child, n, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
        r = walk(dirfd(d), de->d_name, child, st.st_dev, o, res);
        free(child);
    }
    closedir(d);
    return r;
}

static int open_named(const char *path)
{
    /* a path named on the command line may be a symlink: follow that one */
    return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

int evict_paths(char *const *paths, size_t n, const struct evict_opts *o, struct evict_result *ret)
{
    struct evict_result res = {0};
    struct evict_opts eff = *o;
    /* every named path opens before any cache goes: a typo in the second name must not leave
     * the first one's cache dropped and the command failed */
    for (size_t i = 0; i < n && !res.held_back; i++) {
        int fd = open_named(paths[i]);
        if (fd < 0)
            res.held_back = true;
        else
            close(fd);
    }
    if (res.held_back)
        eff.dry_run = true;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        int fd = open_named(paths[i]);
        struct evict_file *f;
        if (fd < 0) {
            int e = errno;
            if ((r = add(&res, paths[i], &f)) == 0)
                f->error = -e;
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            if ((r = add(&res, paths[i], &f)) == 0)
                one_file(fd, &st, &eff, f);
        } else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            r = walk(fd, ".", paths[i], st.st_dev, &eff, &res);
        } else {
            res.files_skipped++;
        }
        close(fd);
    }
    if (r < 0) {
        evict_result_release(&res);
        return r;
    }
    *ret = res;
    return 0;
}

void evict_result_release(struct evict_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].path);
    free(r->v);
    *r = (struct evict_result){0};
}
