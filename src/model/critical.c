#include "critical.h"

#include <string.h>

#include "model/workload/identity.h"

const char *const critical_default_names[] = {
    "sshd",           "systemd-*", "dbus-daemon", "dbus-broker*",     "NetworkManager",
    "wpa_supplicant", "dhclient",  "containerd",  "containerd-shim*", "crio",
    "dockerd",        "kubelet",   "kube-proxy",  "chronyd",          "ntpd",
    "rsyslogd",       NULL,
};

bool critical_name_matches(const char *const *patterns, size_t n, const char *comm)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = patterns[i];
        size_t len = strlen(p);
        if (len && p[len - 1] == '*') {
            if (strncmp(comm, p, len - 1) == 0)
                return true;
        } else if (strcmp(comm, p) == 0) {
            return true;
        }
    }
    return false;
}

bool critical_is_workload(const struct identity *id)
{
    if (id->kind == WORKLOAD_KUBERNETES)
        return id->pod_uid[0] && !id->conmon;
    return id->kind == WORKLOAD_DOCKER;
}

enum proc_class critical_classify(const char *comm, const char *cgroup, const char *cgroup_unified,
                                  const char *const *patterns, size_t n)
{
    struct identity id;
    identity_from_proc_cgroups(cgroup, cgroup_unified, &id);
    if (critical_is_workload(&id))
        return PROC_CLASS_WORKLOAD;
    if (!patterns) {
        patterns = critical_default_names;
        for (n = 0; patterns[n]; n++)
            ;
    }
    if (critical_name_matches(patterns, n, comm))
        return PROC_CLASS_CRITICAL;
    return PROC_CLASS_OTHER;
}

const char *proc_class_name(enum proc_class c)
{
    return c == PROC_CLASS_CRITICAL ? "critical" : c == PROC_CLASS_WORKLOAD ? "workload" : "other";
}
