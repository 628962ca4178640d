/*
 * Node-critical processes: the daemons a node needs to stay reachable and schedulable (sshd,
 * systemd's, the container runtime, the kubelet...), by the kernel's comm (15 bytes at most, so
 * "systemd-network" for systemd-networkd), exact or a prefix when the pattern ends in '*'. A
 * process that matches is node-critical unless it runs in a workload's cgroup (a Kubernetes pod,
 * a container): a pod's sshd is the pod's. Shared by doctor, the exporter and explain.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct identity;

/* The default patterns, NULL-terminated. */
extern const char *const critical_default_names[];

bool critical_name_matches(const char *const *patterns, size_t n, const char *comm);

/* A workload's cgroup: a Kubernetes pod (not CRI-O's conmon) or a Docker container. */
bool critical_is_workload(const struct identity *id);

enum proc_class { PROC_CLASS_OTHER, PROC_CLASS_CRITICAL, PROC_CLASS_WORKLOAD };

/*
 * What a process is, from its comm and its cgroup paths (the memory controller's and the unified
 * one; either may be NULL). patterns NULL: the defaults.
 */
enum proc_class critical_classify(const char *comm, const char *cgroup, const char *cgroup_unified,
                                  const char *const *patterns, size_t n);

/* "critical", "workload", "other" */
const char *proc_class_name(enum proc_class c);
