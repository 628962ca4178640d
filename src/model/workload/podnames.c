#include "podnames.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/limits.h"
#include "kubelog.h"
#include "model/cgroup/cgpath.h"
#include "identity.h"
#include "model/sysroot.h"

#define PODS_DIR "var/log/pods"
#define CONTAINERS_DIR "var/log/containers"
/* entries kept per directory: a node runs a few hundred pods (the kubelet's maxPods is 110 by
 * default); a directory with more is not the kubelet's alone, and the rest is left out */
#define PODNAMES_MAX_ENTRIES 65536

struct podnames_pod_entry {
    char uid[KUBE_UID_MAX + 1];
    uint32_t namespace, name; /* offsets into pn->strings */
};

struct podnames_container_entry {
    char id[KUBE_CONTAINER_ID_MAX + 1];
    char pod_uid[KUBE_UID_MAX + 1];
    uint32_t name, namespace, pod;
    int32_t restart;
};

static const char *str_at(const struct podnames *pn, uint32_t off)
{
    return pn->strings.data + off;
}

static int add_string(struct podnames *pn, const char *s, uint32_t *ret)
{
    size_t off = pn->strings.len;
    if (off > UINT32_MAX)
        return -EFBIG;
    int r = buf_append(&pn->strings, s, strlen(s) + 1); /* each string keeps its NUL */
    if (r < 0)
        return r;
    *ret = (uint32_t)off;
    return 0;
}

static void stamp_of(int fd, struct podnames_stamp *ret)
{
    struct stat st;
    *ret = (struct podnames_stamp){0};
    if (fstat(fd, &st) < 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ret->exists = true;
    ret->dev = st.st_dev;
    ret->ino = st.st_ino;
    ret->mtime = st.st_mtim;
    ret->settled = now.tv_sec - st.st_mtim.tv_sec >= 2;
}

/* Opens <root>/<rel> as a directory stream; NULL with *ret_err set when it cannot. */
static DIR *open_dir(const struct sysroot *sr, const char *rel, struct podnames_stamp *stamp,
                     int *ret_err)
{
    int fd = openat(sr->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *ret_err = -errno;
        return NULL;
    }
    stamp_of(fd, stamp);
    DIR *d = fdopendir(fd);
    if (!d) {
        *ret_err = -errno;
        close(fd);
        return NULL;
    }
    return d;
}

/* -EFBIG with *ret_err set once a directory has given PODNAMES_MAX_ENTRIES entries (the rest is
 * left out), else 0. */
static int below_cap(size_t n, int *ret_err)
{
    if (n < PODNAMES_MAX_ENTRIES)
        return 0;
    *ret_err = -EFBIG;
    return -EFBIG;
}

/* One entry of a log directory, kept in pn or passed over: 0 or a negative errno. */
typedef int (*entry_fn)(struct podnames *pn, int dir_fd, const struct dirent *de, size_t *cap);

/* Each entry of <root>/<rel> to add(), until one fails. A directory that is not there, or holds
 * more than PODNAMES_MAX_ENTRIES entries, is said in *ret_err and is no error here. */
static int read_dir(const struct sysroot *sr, struct podnames *pn, const char *rel,
                    struct podnames_stamp *stamp, int *ret_err, entry_fn add)
{
    DIR *d = open_dir(sr, rel, stamp, ret_err);
    if (!d)
        return 0;
    size_t cap = 0;
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)))
        r = add(pn, dirfd(d), de, &cap);
    closedir(d);
    return r == -EFBIG ? 0 : r;
}

static int add_pod(struct podnames *pn, int dir_fd, const struct dirent *de, size_t *cap)
{
    (void)dir_fd;
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        return 0;
    struct kubelog_pod p;
    if (kubelog_pod_dir_parse(de->d_name, strlen(de->d_name), &p) < 0)
        return 0; /* ".", "..", a kubelet before 1.14's bare UID, or not the kubelet's */
    int r = below_cap(pn->npods, &pn->pods_err);
    if (r == 0)
        r = ARRAY_GROW(pn->pods, pn->npods, *cap, 64);
    if (r < 0)
        return r;
    struct podnames_pod_entry *e = &pn->pods[pn->npods];
    memcpy(e->uid, p.uid, sizeof(e->uid));
    r = add_string(pn, p.namespace, &e->namespace);
    if (r == 0)
        r = add_string(pn, p.name, &e->name);
    if (r == 0)
        pn->npods++;
    return r;
}

static int add_container(struct podnames *pn, int dir_fd, const struct dirent *de, size_t *cap)
{
    if (de->d_type != DT_LNK && de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
        return 0;
    /* the target is the host's path: read, never followed (under --root it is not ours) */
    char target[PATH_MAX];
    ssize_t t = readlinkat(dir_fd, de->d_name, target, sizeof(target) - 1);
    if (t < 0)
        t = 0; /* not a link: the name alone */
    target[t] = '\0';
    struct kubelog_container c;
    if (kubelog_link_parse(de->d_name, strlen(de->d_name), target, (size_t)t, &c) < 0)
        return 0;
    int r = below_cap(pn->ncontainers, &pn->containers_err);
    if (r == 0)
        r = ARRAY_GROW(pn->containers, pn->ncontainers, *cap, 64);
    if (r < 0)
        return r;
    struct podnames_container_entry *e = &pn->containers[pn->ncontainers];
    memcpy(e->id, c.id, sizeof(e->id));
    memcpy(e->pod_uid, c.pod.uid, sizeof(e->pod_uid));
    e->restart = c.restart > INT32_MAX ? INT32_MAX : (int32_t)c.restart;
    r = add_string(pn, c.name, &e->name);
    if (r == 0)
        r = add_string(pn, c.pod.namespace, &e->namespace);
    if (r == 0)
        r = add_string(pn, c.pod.name, &e->pod);
    if (r == 0)
        pn->ncontainers++;
    return r;
}

static int cmp_pod(const void *a, const void *b)
{
    return strcmp(((const struct podnames_pod_entry *)a)->uid,
                  ((const struct podnames_pod_entry *)b)->uid);
}

static int cmp_container(const void *a, const void *b)
{
    return strcmp(((const struct podnames_container_entry *)a)->id,
                  ((const struct podnames_container_entry *)b)->id);
}

/* A link's target names its pod's directory: the pods whose directory is not in /var/log/pods
 * (a kubelet with another podLogsDir, where the links still are) are known from it. */
static int pods_from_links(struct podnames *pn)
{
    size_t sorted = pn->npods, cap = pn->npods;
    for (size_t i = 0; i < pn->ncontainers; i++) {
        const struct podnames_container_entry *c = &pn->containers[i];
        struct podnames_pod_entry key;
        memcpy(key.uid, c->pod_uid, sizeof(key.uid));
        if (!key.uid[0] || bsearch(&key, pn->pods, sorted, sizeof(*pn->pods), cmp_pod))
            continue;
        bool seen = false; /* another container of the same pod, added already */
        for (size_t k = sorted; k < pn->npods && !seen; k++)
            seen = strcmp(pn->pods[k].uid, key.uid) == 0;
        if (seen || pn->npods == PODNAMES_MAX_ENTRIES)
            continue;
        if (ARRAY_GROW(pn->pods, pn->npods, cap, 64) < 0)
            return -ENOMEM;
        key.namespace = c->namespace;
        key.name = c->pod;
        pn->pods[pn->npods++] = key;
    }
    if (pn->npods > sorted)
        qsort(pn->pods, pn->npods, sizeof(*pn->pods), cmp_pod);
    return 0;
}

int podnames_read(const struct sysroot *sr, struct podnames *ret)
{
    struct podnames pn = PODNAMES_INIT;
    buf_init(&pn.strings, CAP_POD_NAMES);
    int r = read_dir(sr, &pn, PODS_DIR, &pn.pods_stamp, &pn.pods_err, add_pod);
    if (r == 0)
        r = read_dir(sr, &pn, CONTAINERS_DIR, &pn.containers_stamp, &pn.containers_err,
                     add_container);
    if (r == 0 && pn.npods)
        qsort(pn.pods, pn.npods, sizeof(*pn.pods), cmp_pod);
    if (r == 0)
        r = pods_from_links(&pn);
    if (r < 0) {
        podnames_release(&pn);
        *ret = (struct podnames)PODNAMES_INIT;
        return r;
    }
    if (pn.ncontainers)
        qsort(pn.containers, pn.ncontainers, sizeof(*pn.containers), cmp_container);
    *ret = pn;
    return 0;
}

static bool stamp_current(const struct sysroot *sr, const char *rel, const struct podnames_stamp *s)
{
    struct stat st;
    if (fstatat(sr->root_fd, rel, &st, 0) < 0)
        return !s->exists;
    return s->exists && s->settled && s->dev == st.st_dev && s->ino == st.st_ino &&
           s->mtime.tv_sec == st.st_mtim.tv_sec && s->mtime.tv_nsec == st.st_mtim.tv_nsec;
}

int podnames_refresh(const struct sysroot *sr, struct podnames *pn)
{
    if (stamp_current(sr, PODS_DIR, &pn->pods_stamp) &&
        stamp_current(sr, CONTAINERS_DIR, &pn->containers_stamp))
        return 0;
    struct podnames fresh;
    int r = podnames_read(sr, &fresh);
    podnames_release(pn);
    *pn = fresh;
    return r < 0 ? r : 1;
}

void podnames_release(struct podnames *pn)
{
    free(pn->pods);
    free(pn->containers);
    buf_release(&pn->strings);
    *pn = (struct podnames)PODNAMES_INIT;
}

bool podnames_present(const struct podnames *pn)
{
    return pn->pods_stamp.exists || pn->containers_stamp.exists;
}

bool podnames_pod(const struct podnames *pn, const char *uid, struct podnames_pod *ret)
{
    struct podnames_pod_entry key;
    if (!pn->npods || snprintf(key.uid, sizeof(key.uid), "%s", uid) >= (int)sizeof(key.uid))
        return false;
    const struct podnames_pod_entry *e =
        bsearch(&key, pn->pods, pn->npods, sizeof(*pn->pods), cmp_pod);
    if (!e)
        return false;
    *ret = (struct podnames_pod){e->uid, str_at(pn, e->namespace), str_at(pn, e->name)};
    return true;
}

/* One ID is the other's prefix, with at least KUBE_CONTAINER_ID_MIN digits in common. */
static bool id_match(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t n = na < nb ? na : nb;
    return n >= KUBE_CONTAINER_ID_MIN && strncmp(a, b, n) == 0;
}

bool podnames_container(const struct podnames *pn, const char *id, struct podnames_container *ret)
{
    if (!pn->ncontainers || strlen(id) < KUBE_CONTAINER_ID_MIN)
        return false;
    /* the first entry not below `id`: the ID itself, or one `id` is a prefix of; an entry cut to a
     * prefix of `id` sorts before it, among the entries that share its first digits */
    size_t lo = 0, hi = pn->ncontainers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(pn->containers[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct podnames_container_entry *e = NULL;
    if (lo < pn->ncontainers && id_match(pn->containers[lo].id, id))
        e = &pn->containers[lo];
    for (size_t i = lo; !e && i > 0 && !strncmp(pn->containers[i - 1].id, id, KUBE_CONTAINER_ID_MIN);
         i--)
        if (id_match(pn->containers[i - 1].id, id))
            e = &pn->containers[i - 1];
    if (!e)
        return false;
    *ret = (struct podnames_container){
        .id = e->id,
        .name = str_at(pn, e->name),
        .pod_uid = e->pod_uid,
        .namespace = str_at(pn, e->namespace),
        .pod = str_at(pn, e->pod),
        .restart = e->restart,
    };
    return true;
}

static void set(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s);
}

void podnames_name(const struct podnames *pn, struct identity *id)
{
    id->pod_namespace[0] = id->pod_name[0] = id->container_name[0] = '\0';
    if (!pn || id->kind != WORKLOAD_KUBERNETES)
        return;
    struct podnames_pod p;
    bool have_pod = id->pod_uid[0] && podnames_pod(pn, id->pod_uid, &p);
    if (have_pod) {
        set(id->pod_namespace, sizeof(id->pod_namespace), p.namespace);
        set(id->pod_name, sizeof(id->pod_name), p.name);
    }
    struct podnames_container c;
    if (!id->container_id[0] || !podnames_container(pn, id->container_id, &c))
        return;
    /* the link names the container's pod: believe it only about this pod */
    if (id->pod_uid[0] && c.pod_uid[0] && strcmp(c.pod_uid, id->pod_uid) != 0)
        return;
    if (have_pod && (strcmp(c.namespace, p.namespace) != 0 || strcmp(c.pod, p.name) != 0))
        return;
    set(id->container_name, sizeof(id->container_name), c.name);
    if (!have_pod) { /* the pod's directory is gone or elsewhere (podLogsDir): the link says */
        set(id->pod_namespace, sizeof(id->pod_namespace), c.namespace);
        set(id->pod_name, sizeof(id->pod_name), c.pod);
    }
}

void podnames_identity(const struct podnames *pn, const char *path, struct identity *ret)
{
    identity_from_cgroup(path, ret);
    podnames_name(pn, ret);
}

void podnames_identity_proc(const struct podnames *pn, const char *memory_path,
                            const char *unified_path, struct identity *ret)
{
    identity_from_proc_cgroups(memory_path, unified_path, ret);
    podnames_name(pn, ret);
}

void podnames_cgroup_short(const struct podnames *pn, const char *path, size_t width, char *out,
                           size_t outlen)
{
    struct identity id;
    podnames_identity(pn, path ? path : "", &id);
    if (!identity_short_name(&id, width, out, outlen))
        cgpath_short(path, width, out, outlen);
}
