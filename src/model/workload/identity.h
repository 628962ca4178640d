/*
 * Workload identity from a cgroup path: the systemd slice and unit, the Kubernetes pod UID, QoS
 * class, container ID and runtime, or a plain Docker container. Pure string work (no I/O), so the
 * same answer comes from a live cgroup, a fixture tree and a kernel OOM report's task_memcg=.
 *
 * Layouts (kubelet's cgroup_manager_linux.go, container runtimes):
 *   systemd driver: /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
 *                   cri-containerd-<id>.scope | crio-<id>.scope | crio-conmon-<id>.scope | docker-<id>.scope
 *                   Guaranteed pods sit directly under kubepods.slice (kubepods-pod<uid_>.slice)
 *   cgroupfs:       /kubepods/burstable/pod<uid>/<id> | crio-<id>; Guaranteed: /kubepods/pod<uid>/<id>
 *   raw containerd: .../kubepods-burstable-pod<uid_>.slice:cri-containerd:<id>
 *   plain Docker:   /docker/<id>, /system.slice/docker-<id>.scope
 * A pod UID is a UUID, or for a static pod 32 hex digits (the md5 of its manifest:
 * pkg/kubelet/config/common.go applyDefaults). The names (namespace, pod, container) are not in
 * the path: model/workload/podnames.h fills them from the kubelet's log layout.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/workload/kubelog.h"

struct json;
struct buf;

enum workload_kind { WORKLOAD_NONE, WORKLOAD_SYSTEMD, WORKLOAD_KUBERNETES, WORKLOAD_DOCKER };

enum qos_class { QOS_NONE, QOS_GUARANTEED, QOS_BURSTABLE, QOS_BESTEFFORT };

#define IDENTITY_NAME_MAX 256
/* identity_brief()'s longest: "pod " + namespace/pod + " (besteffort) container " + name */
#define IDENTITY_BRIEF_MAX (KUBE_NAMESPACE_MAX + KUBE_POD_NAME_MAX + KUBE_CONTAINER_MAX + 48)

struct identity {
    enum workload_kind kind;
    char systemd_slice[IDENTITY_NAME_MAX]; /* innermost .slice, "" if none */
    char systemd_unit[IDENTITY_NAME_MAX];  /* innermost .service, .scope, ...; "" if none */
    char pod_uid[40];                      /* canonical form with '-' (or 32 hex), "" if none */
    enum qos_class qos;                    /* QOS_NONE unless under a kubepods hierarchy */
    char container_id[72];                 /* 64 hex digits (or as given), "" if none */
    char container_runtime[16];            /* "containerd", "crio", "docker", "" */
    bool conmon;                           /* CRI-O's monitor process cgroup, not the container */
    /* Kubernetes names, "" when unknown (podnames_name()) */
    char pod_namespace[KUBE_NAMESPACE_MAX + 1];
    char pod_name[KUBE_POD_NAME_MAX + 1];
    char container_name[KUBE_CONTAINER_MAX + 1];
};

/* Fills `ret` from a cgroup path (v1 or v2, relative to the hierarchy root). Never fails:
 * an unknown layout gives WORKLOAD_NONE (or SYSTEMD when only slices/units are recognised). */
void identity_from_cgroup(const char *path, struct identity *ret);

/* A process's workload, from the paths in its /proc/PID/cgroup: the memory controller's (v1) or
 * the only (v2) one, else the unified path of a hybrid system. Either may be NULL. */
void identity_from_proc_cgroups(const char *memory_path, const char *unified_path,
                                struct identity *ret);

const char *identity_kind_name(enum workload_kind k);
const char *qos_class_name(enum qos_class q); /* "guaranteed", "burstable", "besteffort", NULL */

/* One line for people: "pod 0a1b2c3d-… (burstable) container 9192cb33411f (containerd)", with
 * names "pod shop/api-7b8c6 (burstable) container app (containerd 9192cb33411f)";
 * "unit ssh.service (system.slice)", "docker container 34186d9bd077". Empty when nothing known. */
int identity_describe(const struct identity *id, struct buf *out);

/* A few words for a sentence or a cell: "pod shop/api-7b8c6 (burstable) container app" (without
 * the names "pod 0a1b2c3d (burstable)"), "kubepods", "docker container 34186d9bd077", the systemd unit
 * (or slice); "" when nothing is known. */
void identity_brief(const struct identity *id, char *out, size_t n);

/* For a narrow column: "namespace/pod/container", or "namespace/pod" for the pod's own cgroup
 * and a container whose name is unknown (its sandbox, conmon). False, writing "", when the pod's
 * name is not known. Cut to `width` bytes with a leading "…" (the container's end kept). */
bool identity_short_name(const struct identity *id, size_t width, char *out, size_t outlen);

/* "namespace", "pod", "container": the names beside an object that carries the cgroup path
 * (a process, a victim); null when unknown. Writes keys: call inside an object. */
void identity_names_json_fields(const struct identity *id, struct json *j);

/* The JSON object every command uses for identity (writes a value: call after json_key()). */
void identity_to_json(const struct identity *id, struct json *j);
