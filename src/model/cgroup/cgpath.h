/* Cgroup path helpers shared by every view. */
#pragma once

#include <stddef.h>

/*
 * A short form of a cgroup path for narrow table columns: the last component, with long
 * container IDs cut to 12 hex digits (as docker/crictl show them), and a leading "…" when it
 * had to be cut to `width` columns. "/" stays "/". Writes at most outlen bytes.
 */
void cgpath_short(const char *path, size_t width, char *out, size_t outlen);

/* "PARENT/NAME" ("/NAME" under the root), malloc'd; NULL when out of memory. */
char *cgpath_child(const char *parent, const char *name);

/* True when `path` equals `prefix` or lies below it ("/a/b" is under "/a", "/ab" is not). */
int cgpath_is_under(const char *path, const char *prefix);
