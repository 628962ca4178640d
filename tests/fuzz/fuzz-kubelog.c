/* The kubelet's log layout names (model/workload/kubelog.c): a pod directory's name, or a
 * /var/log/containers link's name and target (the input split at its first NUL byte; without
 * one, the link has no target). Whatever parses must be what the kubelet could have written:
 * names a Prometheus label and a terminal can take as they are. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/workload/kubelog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pod(const struct kubelog_pod *p, bool uid)
{
    if (!kubelog_is_label(p->namespace, strlen(p->namespace), KUBE_NAMESPACE_MAX) ||
        !kubelog_is_subdomain(p->name, strlen(p->name)) ||
        (uid && !kubelog_is_uid(p->uid, strlen(p->uid))) || (!uid && p->uid[0] &&
                                                             !kubelog_is_uid(p->uid, strlen(p->uid))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct kubelog_pod p;
    if (kubelog_pod_dir_parse(s, size, &p) == 0)
        check_pod(&p, true);
    const char *nul = memchr(s, '\0', size);
    size_t nlen = nul ? (size_t)(nul - s) : size;
    const char *target = nul ? nul + 1 : NULL;
    size_t tlen = nul ? size - nlen - 1 : 0;
    struct kubelog_container c;
    if (kubelog_link_parse(s, nlen, target, tlen, &c) == 0) {
        check_pod(&c.pod, false);
        size_t idn = strlen(c.id);
        if (!kubelog_is_label(c.name, strlen(c.name), KUBE_CONTAINER_MAX) ||
            idn < KUBE_CONTAINER_ID_MIN || idn > KUBE_CONTAINER_ID_MAX || c.restart < -1)
            abort();
    }
    return 0;
}
