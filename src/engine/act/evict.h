/*
 * Page cache of files: how much of a file is resident (mincore over a read-only mapping) and
 * dropping it (POSIX_FADV_DONTNEED) — the fix from the incident where a nightly scan filled a
 * cgroup's memory.max with page cache.
 *
 * What the kernel will not drop: dirty pages (written but not yet on disk: DONTNEED starts
 * writeback and skips them, so --sync writes them out first), pages mapped by a process, and
 * tmpfs/shmem pages (the cache is the file's only copy).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

struct evict_file {
    char *path;
    uint64_t size;   /* bytes */
    uint64_t before; /* resident bytes before */
    uint64_t after;  /* resident bytes after (== before with dry_run) */
    int error;       /* 0, or -errno for this file (the walk goes on) */
    bool tmpfs;      /* on tmpfs/shmem: not droppable */
};

struct evict_result {
    struct evict_file *v;
    size_t n, cap;
    uint64_t files_skipped; /* non-regular files */
    bool held_back;         /* a named path did not open: nothing was dropped, all measured */
};

struct evict_opts {
    bool dry_run;
    bool sync;      /* fdatasync before dropping, so dirty pages can go too */
    bool one_fs;    /* do not cross mount points when walking directories */
};

/* Resident bytes of an open file of `size` bytes. Returns 0 or -errno. */
int evict_residency(int fd, uint64_t size, uint64_t *ret_bytes);

/*
 * Measures (and unless dry_run drops) each path; directories are walked recursively without
 * following symlinks. Every named path is opened first: when one does not open, nothing is
 * dropped (held_back), the others are measured, and that path is an error entry. A file inside
 * a walked directory that does not open is an error for that entry only. Returns 0 or -ENOMEM.
 */
int evict_paths(char *const *paths, size_t n, const struct evict_opts *o, struct evict_result *ret);
void evict_result_release(struct evict_result *r);
