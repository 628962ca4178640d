/*
 * What the cgroup model's files share, private to model/cgroup/: cgroup.c (the hierarchies and
 * paths), cgroup-parse.c (the files' parsers), cgroup-read.c (one cgroup), cgroup-walk.c (the
 * snapshot). The API is cgroup.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

struct buf;

/* Whether `path` exists under `dirfd` (false for a negative dirfd). */
bool cgroup_exists_at(int dirfd, const char *path);
/* Where a hierarchy path lives under a mount: the path relative to the mount's directory
 * ("." for the mount's root), or NULL when the mount does not show it. */
const char *cgroup_rel_in_mount(const struct cgroup_mount *m, const char *path);
/* The parent path: "/a/b" -> "/a", "/a" -> "/"; false for "/". */
bool cgroup_parent_path(char *path);

/* Every field OPT_ABSENT. */
void cgroup_memstat_init(struct cgroup_memstat *s);
/* An empty cgroup_memory of hierarchy version `version`: every number absent. */
void cgroup_memory_init(struct cgroup_memory *cg, int version);
/* A single-number file (`limit`: read as cgroup_limit_parse() does); the value is left alone
 * when the file is missing or unparsable. */
int cgroup_read_number(int dirfd, const char *name, struct buf *b, int version, long page_size,
                       bool limit, uint64_t *ret);
/* What names a cgroup in a snapshot: its path, and its directory's inode. */
int cgroup_take_path_and_inode(struct cgroup_memory *cg, int dirfd, const char *path);
/* Fills `cg` from the cgroup directory `dirfd`. Returns 0, -ENOENT when the cgroup is gone,
 * -ENOMEDIUM when it is not a memory cgroup. */
int cgroup_read_at(const struct cgroup_hier *h, int dirfd, const char *path, struct buf *b,
                   struct cgroup_memory *cg);

struct child {
    uint64_t ino;
    char *name;
};
/* Whether inode numbers in the hierarchy that dirfd is in tell the order the cgroups were made
 * in: a real hierarchy (kernfs), not a copy on a disk filesystem. One fstatfs: a walk asks it
 * once, at its top. */
bool cgroup_inodes_tell_order(int dirfd);
/* Children of a directory, in creation order when by_inode (cgroup_inodes_tell_order), else by
 * name. */
int cgroup_list_children(int dirfd, bool by_inode, struct child **ret, size_t *ret_n);
