#include "identity.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"

static bool is_hex_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return n > 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static void copy(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* A pod UID: 36 characters of hex and '-' (cgroupfs) or '_' (systemd escaping), or a static
 * pod's 32 hex digits. */
static bool take_pod_uid(const char *s, size_t n, struct identity *id)
{
    if (n == 32 && is_hex_run(s, n)) {
        copy(id->pod_uid, sizeof(id->pod_uid), s, n);
        return true;
    }
    if (n != 36)
        return false;
    char uid[37];
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool sep = i == 8 || i == 13 || i == 18 || i == 23;
        if (sep) {
            if (c != '-' && c != '_')
                return false;
            uid[i] = '-';
        } else {
            if (!is_hex_run(&c, 1))
                return false;
            uid[i] = c;
        }
    }
    uid[36] = '\0';
    copy(id->pod_uid, sizeof(id->pod_uid), uid, 36);
    return true;
}

/* "burstable…", "besteffort…" at the start of a name part */
static void set_qos_from_word(const char *s, size_t n, struct identity *id)
{
    if (starts_with(s, n, "burstable"))
        id->qos = QOS_BURSTABLE;
    else if (starts_with(s, n, "besteffort"))
        id->qos = QOS_BESTEFFORT;
}

/* "<prefix><64hex>[.scope]" → container ID */
static bool take_container(const char *s, size_t n, const char *prefix, const char *runtime,
                           struct identity *id)
{
    if (!starts_with(s, n, prefix))
        return false;
    const char *p = s + strlen(prefix);
    size_t m = n - strlen(prefix);
    if (ends_with(p, m, ".scope"))
        m -= 6;
    if (m < 12 || !is_hex_run(p, m))
        return false;
    copy(id->container_id, sizeof(id->container_id), p, m);
    copy(id->container_runtime, sizeof(id->container_runtime), runtime, strlen(runtime));
    return true;
}

/* One path component (or a ':'-separated piece of one). */
static void component(const char *s, size_t n, bool *in_kubepods, struct identity *id)
{
    if (n == 0)
        return;
    /* systemd units and slices */
    if (ends_with(s, n, ".slice")) {
        copy(id->systemd_slice, sizeof(id->systemd_slice), s, n);
        id->systemd_unit[0] = '\0';
    } else if (ends_with(s, n, ".service") || ends_with(s, n, ".scope") ||
               ends_with(s, n, ".socket") || ends_with(s, n, ".mount") ||
               ends_with(s, n, ".swap")) {
        copy(id->systemd_unit, sizeof(id->systemd_unit), s, n);
    }

    /* Kubernetes hierarchy, either driver */
    if ((n == 8 && memcmp(s, "kubepods", 8) == 0) || starts_with(s, n, "kubepods.slice") ||
        starts_with(s, n, "kubepods-")) {
        *in_kubepods = true;
    }
    if (*in_kubepods) {
        if (n == 9 && memcmp(s, "burstable", 9) == 0)
            id->qos = QOS_BURSTABLE;
        else if (n == 10 && memcmp(s, "besteffort", 10) == 0)
            id->qos = QOS_BESTEFFORT;
        /* kubepods-burstable.slice, kubepods-burstable-pod<uid>.slice */
        if (starts_with(s, n, "kubepods-"))
            set_qos_from_word(s + 9, n - 9, id);
        const char *pod = NULL;
        for (size_t i = 0; i + 3 <= n; i++)
            if (memcmp(s + i, "pod", 3) == 0 && (i == 0 || s[i - 1] == '-')) {
                pod = s + i + 3;
                break;
            }
        if (pod) {
            size_t m = (size_t)(s + n - pod);
            if (ends_with(pod, m, ".slice"))
                m -= 6;
            (void)take_pod_uid(pod, m, id);
        }
    }

    /* containers */
    if (take_container(s, n, "cri-containerd-", "containerd", id) ||
        take_container(s, n, "docker-", "docker", id))
        return;
    if (take_container(s, n, "crio-conmon-", "crio", id)) {
        id->conmon = true;
        return;
    }
    if (take_container(s, n, "crio-", "crio", id))
        return;
    if (ends_with(s, n, ".scope"))
        return;
    /* cgroupfs: a bare 64-hex directory below a pod (runtime unknown) or below /docker */
    if (n == 64 && is_hex_run(s, n))
        copy(id->container_id, sizeof(id->container_id), s, n);
}

void identity_from_cgroup(const char *path, struct identity *ret)
{
    struct identity id = {0};
    bool in_kubepods = false, under_docker = false;
    const char *p = path ? path : "";
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        /* "kubepods-...slice:cri-containerd:<id>": the raw containerd form packs three parts */
        const char *q = p;
        const char *pieces[3];
        size_t lens[3], np = 0;
        while (q < e && np < 3) {
            const char *c = memchr(q, ':', (size_t)(e - q));
            const char *end = c ? c : e;
            pieces[np] = q;
            lens[np++] = (size_t)(end - q);
            q = c ? c + 1 : e;
        }
        if (np == 3 && lens[1] == 14 && memcmp(pieces[1], "cri-containerd", 14) == 0) {
            component(pieces[0], lens[0], &in_kubepods, &id);
            if (is_hex_run(pieces[2], lens[2])) {
                copy(id.container_id, sizeof(id.container_id), pieces[2], lens[2]);
                copy(id.container_runtime, sizeof(id.container_runtime), "containerd", 10);
            }
        } else {
            size_t n = (size_t)(e - p);
            if (n == 6 && memcmp(p, "docker", 6) == 0)
                under_docker = true;
            char before[72];
            copy(before, sizeof(before), id.container_id, strlen(id.container_id));
            component(p, n, &in_kubepods, &id);
            if (under_docker && strcmp(before, id.container_id) != 0 && !id.container_runtime[0])
                copy(id.container_runtime, sizeof(id.container_runtime), "docker", 6);
        }
        p = e;
    }
    /* Guaranteed pods are the ones with no QoS level between kubepods and the pod */
    if (in_kubepods && id.pod_uid[0] && id.qos == QOS_NONE)
        id.qos = QOS_GUARANTEED;
    if (in_kubepods)
        id.kind = WORKLOAD_KUBERNETES;
    else if (id.container_id[0] && strcmp(id.container_runtime, "docker") == 0)
        id.kind = WORKLOAD_DOCKER;
    else if (id.systemd_slice[0] || id.systemd_unit[0])
        id.kind = WORKLOAD_SYSTEMD;
    else if (id.container_id[0])
        id.kind = WORKLOAD_DOCKER;
    if (!in_kubepods)
        id.qos = QOS_NONE;
    *ret = id;
}

const char *identity_kind_name(enum workload_kind k)
{
    switch (k) {
    case WORKLOAD_SYSTEMD:
        return "systemd";
    case WORKLOAD_KUBERNETES:
        return "kubernetes";
    case WORKLOAD_DOCKER:
        return "docker";
    case WORKLOAD_NONE:
    default:
        return "none";
    }
}

const char *qos_class_name(enum qos_class q)
{
    switch (q) {
    case QOS_GUARANTEED:
        return "guaranteed";
    case QOS_BURSTABLE:
        return "burstable";
    case QOS_BESTEFFORT:
        return "besteffort";
    case QOS_NONE:
    default:
        return NULL;
    }
}

/* " (containerd 9192cb33411f)" with a name, " 9192cb33411f (containerd)" without */
static int describe_container(const struct identity *id, struct buf *out)
{
    const char *what = id->conmon ? "conmon of container" : "container";
    const char *rt = id->container_runtime;
    if (id->container_name[0])
        return buf_printf(out, " %s %s (%s%s%.12s)", what, id->container_name, rt, *rt ? " " : "",
                          id->container_id);
    return buf_printf(out, " %s %.12s%s%s%s", what, id->container_id, *rt ? " (" : "", rt,
                      *rt ? ")" : "");
}

int identity_describe(const struct identity *id, struct buf *out)
{
    int r = 0;
    switch (id->kind) {
    case WORKLOAD_KUBERNETES:
        if (id->pod_name[0])
            r = buf_printf(out, "pod %s/%s", id->pod_namespace, id->pod_name);
        else if (id->pod_uid[0])
            r = buf_printf(out, "pod %s", id->pod_uid);
        else
            r = buf_puts(out, "kubepods");
        if (r == 0 && qos_class_name(id->qos))
            r = buf_printf(out, " (%s)", qos_class_name(id->qos));
        if (r == 0 && id->container_id[0])
            r = describe_container(id, out);
        break;
    case WORKLOAD_DOCKER:
        r = buf_printf(out, "docker container %.12s", id->container_id);
        break;
    case WORKLOAD_SYSTEMD:
        if (id->systemd_unit[0])
            r = buf_printf(out, "unit %s", id->systemd_unit);
        else
            r = buf_printf(out, "slice %s", id->systemd_slice);
        if (r == 0 && id->systemd_unit[0] && id->systemd_slice[0])
            r = buf_printf(out, " (%s)", id->systemd_slice);
        break;
    case WORKLOAD_NONE:
    default:
        break;
    }
    return r;
}

void identity_brief(const struct identity *id, char *out, size_t n)
{
    const char *q = qos_class_name(id->qos);
    out[0] = '\0';
    switch (id->kind) {
    case WORKLOAD_KUBERNETES:
        if (id->pod_name[0])
            snprintf(out, n, "pod %s/%s%s%s%s%s%s", id->pod_namespace, id->pod_name,
                     q ? " (" : "", q ? q : "", q ? ")" : "",
                     id->container_name[0] && !id->conmon ? " container " : "",
                     id->conmon ? "" : id->container_name);
        else if (id->pod_uid[0])
            snprintf(out, n, "pod %.8s%s%s%s", id->pod_uid, q ? " (" : "", q ? q : "",
                     q ? ")" : "");
        else
            snprintf(out, n, "kubepods");
        break;
    case WORKLOAD_DOCKER:
        snprintf(out, n, "docker container %.12s", id->container_id);
        break;
    case WORKLOAD_SYSTEMD:
        snprintf(out, n, "%s", id->systemd_unit[0] ? id->systemd_unit : id->systemd_slice);
        break;
    case WORKLOAD_NONE:
    default:
        break;
    }
}

bool identity_short_name(const struct identity *id, size_t width, char *out, size_t outlen)
{
    if (outlen)
        out[0] = '\0';
    if (id->kind != WORKLOAD_KUBERNETES || !id->pod_name[0] || outlen == 0)
        return false;
    char tmp[sizeof(id->pod_namespace) + sizeof(id->pod_name) + sizeof(id->container_name) + 2];
    bool container = id->container_name[0] && !id->conmon;
    int len = snprintf(tmp, sizeof(tmp), "%s/%s%s%s", id->pod_namespace, id->pod_name,
                       container ? "/" : "", container ? id->container_name : "");
    if (len < 0)
        return false;
    /* the names are ASCII (kubelog.h): bytes are columns */
    if (width > 1 && (size_t)len > width)
        snprintf(out, outlen, "…%s", tmp + (size_t)len - (width - 1));
    else
        snprintf(out, outlen, "%s", tmp);
    return true;
}

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

void identity_names_json_fields(const struct identity *id, struct json *j)
{
    json_kv_str(j, "namespace", or_null(id->pod_namespace));
    json_kv_str(j, "pod", or_null(id->pod_name));
    /* conmon's cgroup is named after its container, but is not the container */
    json_kv_str(j, "container", id->conmon ? NULL : or_null(id->container_name));
}

void identity_to_json(const struct identity *id, struct json *j)
{
    json_obj_begin(j);
    json_kv_str(j, "kind", identity_kind_name(id->kind));
    json_kv_str(j, "systemd_slice", or_null(id->systemd_slice));
    json_kv_str(j, "systemd_unit", or_null(id->systemd_unit));
    json_kv_str(j, "namespace", or_null(id->pod_namespace));
    json_kv_str(j, "pod", or_null(id->pod_name));
    json_kv_str(j, "pod_uid", or_null(id->pod_uid));
    json_kv_str(j, "qos_class", qos_class_name(id->qos));
    json_kv_str(j, "container", or_null(id->container_name));
    json_kv_str(j, "container_id", or_null(id->container_id));
    json_kv_str(j, "container_runtime", or_null(id->container_runtime));
    json_kv_bool(j, "conmon", id->conmon);
    json_obj_end(j);
}

void identity_from_proc_cgroups(const char *memory_path, const char *unified_path,
                                struct identity *ret)
{
    identity_from_cgroup(memory_path ? memory_path : "", ret);
    if (ret->kind == WORKLOAD_NONE && unified_path)
        identity_from_cgroup(unified_path, ret);
}
