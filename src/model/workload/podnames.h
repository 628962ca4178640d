/*
 * The names of this node's pods and containers, read from the kubelet's log layout under the
 * root (kubelog.h): <root>/var/log/pods gives each pod's namespace and name by UID, the links of
 * <root>/var/log/containers each container's name by ID (read with readlink, never followed:
 * their targets are the host's paths). Two directory reads and one readlink per container: the
 * table is read once per snapshot and shared by everything that names a workload.
 *
 * Names are known while the kubelet keeps the layout: from a container's start until the pod is
 * deleted (its directory) or the dead container is collected (its link). Without the layout
 * (not a Kubernetes node, a kubelet with another podLogsDir and no links, /var/log not mounted
 * into the agent's container) the table is empty and every identity stays as the cgroup path
 * alone says it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"

struct sysroot;
struct identity;

/* A pod or a container as the table holds it: the strings point into the table, valid until it
 * is released or refreshed. */
struct podnames_pod {
    const char *uid, *namespace, *name;
};
struct podnames_container {
    const char *id, *name;
    const char *pod_uid; /* "" when the link's target named no pod directory */
    const char *namespace, *pod;
    long restart; /* the <N>.log its link points to, -1 unknown */
};

/* What a directory looked like when it was read: podnames_refresh reads again when it differs. */
struct podnames_stamp {
    bool exists;
    uint64_t dev, ino;
    struct timespec mtime;
    bool settled; /* read at least a second after its last change: a change in the same clock
                     tick as the read would not have moved mtime */
};

struct podnames_pod_entry;
struct podnames_container_entry;

struct podnames {
    struct podnames_pod_entry *pods; /* sorted by uid */
    size_t npods;
    struct podnames_container_entry *containers; /* sorted by id */
    size_t ncontainers;
    struct buf strings;
    int pods_err, containers_err; /* 0, or why the directory could not be read (-ENOENT: none) */
    struct podnames_stamp pods_stamp, containers_stamp;
};

#define PODNAMES_INIT {.strings = BUF_INIT(0)}

/* Reads both directories under the root. Returns 0 (a directory that is missing or unreadable is
 * recorded in *_err and leaves its half empty) or -ENOMEM. */
int podnames_read(const struct sysroot *sr, struct podnames *ret);
/* Reads again when a directory changed since (or may have: see settled). Returns 1 when it read,
 * 0 when the table was current, or -ENOMEM (the table is then empty). */
int podnames_refresh(const struct sysroot *sr, struct podnames *pn);
void podnames_release(struct podnames *pn);

/* True when either directory exists under the root: this is a Kubernetes node's layout. */
bool podnames_present(const struct podnames *pn);

/* The pod of that UID (canonical, as identity.h holds it), or false. */
bool podnames_pod(const struct podnames *pn, const char *uid, struct podnames_pod *ret);
/* The container of that ID: the full ID, or one whose link's name was cut to a prefix of it. */
bool podnames_container(const struct podnames *pn, const char *id, struct podnames_container *ret);

/* Fills the names of a Kubernetes identity (namespace, pod_name, container_name) from the
 * table; `pn` may be NULL. Leaves what the table does not know empty. */
void podnames_name(const struct podnames *pn, struct identity *id);
/* identity_from_cgroup(), then named (`pn` may be NULL). */
void podnames_identity(const struct podnames *pn, const char *path, struct identity *ret);
/* For a narrow column: "namespace/pod/container" when the path's workload is named
 * (identity_short_name()), else cgpath_short(). */
void podnames_cgroup_short(const struct podnames *pn, const char *path, size_t width, char *out,
                           size_t outlen);
/* identity_from_proc_cgroups(), then named (`pn` may be NULL). */
void podnames_identity_proc(const struct podnames *pn, const char *memory_path,
                            const char *unified_path, struct identity *ret);
