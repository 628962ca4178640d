/*
 * The names in the kubelet's log layout, parsed (pure string work: no I/O). The kubelet keeps
 *
 *   /var/log/pods/<namespace>_<pod>_<pod-uid>/<container>/<restart-count>.log
 *   /var/log/containers/<pod>_<namespace>_<container>-<container-id>.log   -> that file
 *
 * (pkg/kubelet/kuberuntime/helpers.go BuildPodLogsDirectory, BuildContainerLogsDirectory,
 * buildContainerLogsPath; kuberuntime/legacy.go logSymlink, which cuts a link's name to 251
 * bytes + ".log" for ext4; the link is made in kuberuntime_container.go startContainer, after
 * StartContainer, and removed with the dead container by the container GC). The "_" between the
 * parts is safe because none of the names can hold one: a namespace and a container name are
 * DNS-1123 labels ([a-z0-9-], at most 63), a pod name a DNS-1123 subdomain ([a-z0-9.-], at most
 * 253) — the API server refuses anything else, so anything else here is not the kubelet's and
 * is refused (which also keeps these names safe to print and to put in a Prometheus label).
 * Pod UIDs are the API server's RFC 4122 UUIDs, or for a static pod the md5 of its manifest in
 * 32 hex digits (pkg/kubelet/config/common.go applyDefaults); container IDs are 64 hex digits
 * (containerd, CRI-O and Docker alike). Kubelets before 1.14 named the pod directory by its UID
 * alone: no names there.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KUBE_NAMESPACE_MAX 63
#define KUBE_POD_NAME_MAX 253
#define KUBE_CONTAINER_MAX 63
#define KUBE_UID_MAX 36
#define KUBE_CONTAINER_ID_MAX 64
/* a cut ID still names its container when at least this much of it is left (48 bits) */
#define KUBE_CONTAINER_ID_MIN 12

struct kubelog_pod {
    char namespace[KUBE_NAMESPACE_MAX + 1];
    char name[KUBE_POD_NAME_MAX + 1];
    char uid[KUBE_UID_MAX + 1]; /* as written: 36 characters with '-', or 32 hex digits */
};

struct kubelog_container {
    struct kubelog_pod pod; /* uid "" when the link's target did not name the pod directory */
    char name[KUBE_CONTAINER_MAX + 1];
    char id[KUBE_CONTAINER_ID_MAX + 1]; /* hex; shorter than 64 when the link's name was cut */
    long restart;                       /* <restart-count> of the target, -1 when unknown */
};

/* "<namespace>_<pod>_<uid>" (a directory name of /var/log/pods). Returns 0 or -EINVAL. */
int kubelog_pod_dir_parse(const char *s, size_t n, struct kubelog_pod *ret);

/*
 * A link of /var/log/containers: its name "<pod>_<namespace>_<container>-<id>.log" and its
 * target ".../<namespace>_<pod>_<uid>/<container>/<N>.log" (tlen 0: not known). The target is
 * the authority for the names (never cut); the name gives the ID, and must agree with the
 * target. Returns 0, or -EINVAL when the name is not the kubelet's or no ID of at least
 * KUBE_CONTAINER_ID_MIN digits is left in it.
 */
int kubelog_link_parse(const char *name, size_t nlen, const char *target, size_t tlen,
                       struct kubelog_container *ret);

/* True when `s` is a pod UID as the kubelet writes it: a UUID (8-4-4-4-12 hex digits) or 32
 * hex digits (a static pod's), lower case. */
bool kubelog_is_uid(const char *s, size_t n);
/* True when `s` is a DNS-1123 label of at most `max` bytes ([a-z0-9-], alphanumeric at both
 * ends): a namespace or a container name. */
bool kubelog_is_label(const char *s, size_t n, size_t max);
/* True when `s` is a DNS-1123 subdomain (labels joined by '.', at most 253 bytes): a pod name. */
bool kubelog_is_subdomain(const char *s, size_t n);
