#include "kubelog.h"

#include <errno.h>
#include <string.h>

/* what logSymlink cuts a link's name to: ext4's 255, ".log" included */
#define LINK_NAME_MAX 255
#define LOG_SUFFIX ".log"
#define LOG_SUFFIX_LEN 4

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool kubelog_is_label(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool kubelog_is_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > KUBE_POD_NAME_MAX)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            /* IsDNS1123Subdomain: each dot-separated part a label; only the total is bounded */
            if (!kubelog_is_label(s + start, i - start, KUBE_POD_NAME_MAX))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool kubelog_is_uid(const char *s, size_t n)
{
    if (n == 32)
        return is_hex(s, n);
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s + i, 1))
            return false;
    }
    return true;
}

static void copy(char *dst, const char *s, size_t n)
{
    memcpy(dst, s, n);
    dst[n] = '\0';
}

int kubelog_pod_dir_parse(const char *s, size_t n, struct kubelog_pod *ret)
{
    const char *u1 = memchr(s, '_', n);
    if (!u1)
        return -EINVAL;
    const char *pod = u1 + 1;
    const char *u2 = memchr(pod, '_', (size_t)(s + n - pod));
    if (!u2)
        return -EINVAL;
    const char *uid = u2 + 1;
    size_t nsn = (size_t)(u1 - s), podn = (size_t)(u2 - pod), uidn = (size_t)(s + n - uid);
    if (!kubelog_is_label(s, nsn, KUBE_NAMESPACE_MAX) || !kubelog_is_subdomain(pod, podn) ||
        !kubelog_is_uid(uid, uidn))
        return -EINVAL;
    struct kubelog_pod p;
    copy(p.namespace, s, nsn);
    copy(p.name, pod, podn);
    copy(p.uid, uid, uidn);
    *ret = p;
    return 0;
}

/* The last path component of s[0..n) before position `end`: [*ret_start, end). */
static size_t last_component(const char *s, size_t end, size_t *ret_start)
{
    size_t i = end;
    while (i > 0 && s[i - 1] != '/')
        i--;
    *ret_start = i;
    return end - i;
}

/* ".../<namespace>_<pod>_<uid>/<container>/<N>.log" */
static int target_parse(const char *t, size_t n, struct kubelog_container *c)
{
    size_t fs, cs, ps;
    size_t fn = last_component(t, n, &fs);
    if (fs == 0 || fn <= LOG_SUFFIX_LEN || memcmp(t + n - LOG_SUFFIX_LEN, LOG_SUFFIX, LOG_SUFFIX_LEN))
        return -EINVAL;
    size_t digits = fn - LOG_SUFFIX_LEN;
    if (digits > 9)
        return -EINVAL;
    long restart = 0;
    for (size_t i = 0; i < digits; i++) {
        char d = t[fs + i];
        if (d < '0' || d > '9')
            return -EINVAL;
        restart = restart * 10 + (d - '0');
    }
    size_t cn = last_component(t, fs - 1, &cs);
    if (cs == 0 || !kubelog_is_label(t + cs, cn, KUBE_CONTAINER_MAX))
        return -EINVAL;
    size_t pn = last_component(t, cs - 1, &ps);
    if (kubelog_pod_dir_parse(t + ps, pn, &c->pod) < 0)
        return -EINVAL;
    copy(c->name, t + cs, cn);
    c->restart = restart;
    return 0;
}

static bool id_ok(const char *s, size_t n)
{
    return n >= KUBE_CONTAINER_ID_MIN && n <= KUBE_CONTAINER_ID_MAX && is_hex(s, n);
}

/* The name alone: "<pod>_<namespace>_<container>-<id>" (suffix stripped). A name that may have
 * been cut is refused: where the container name ends and the ID begins is then a guess. */
static int name_parse(const char *s, size_t n, bool maybe_cut, struct kubelog_container *c)
{
    const char *u1 = memchr(s, '_', n);
    if (!u1 || maybe_cut)
        return -EINVAL;
    const char *ns = u1 + 1;
    const char *u2 = memchr(ns, '_', (size_t)(s + n - ns));
    if (!u2)
        return -EINVAL;
    const char *rest = u2 + 1;
    size_t restn = (size_t)(s + n - rest);
    const char *dash = NULL;
    for (size_t i = restn; i > 0; i--)
        if (rest[i - 1] == '-') {
            dash = rest + i - 1;
            break;
        }
    if (!dash)
        return -EINVAL;
    size_t podn = (size_t)(u1 - s), nsn = (size_t)(u2 - ns), cn = (size_t)(dash - rest);
    const char *id = dash + 1;
    size_t idn = (size_t)(s + n - id);
    if (!kubelog_is_subdomain(s, podn) || !kubelog_is_label(ns, nsn, KUBE_NAMESPACE_MAX) ||
        !kubelog_is_label(rest, cn, KUBE_CONTAINER_MAX) || !id_ok(id, idn))
        return -EINVAL;
    copy(c->pod.name, s, podn);
    copy(c->pod.namespace, ns, nsn);
    c->pod.uid[0] = '\0';
    copy(c->name, rest, cn);
    copy(c->id, id, idn);
    return 0;
}

/* Consumes `word` then `sep` at *pos of s[0..n); false when they are not there. */
static bool take(const char *s, size_t n, size_t *pos, const char *word, char sep)
{
    size_t k = strlen(word);
    if (*pos + k + 1 > n || memcmp(s + *pos, word, k) != 0 || s[*pos + k] != sep)
        return false;
    *pos += k + 1;
    return true;
}

int kubelog_link_parse(const char *name, size_t nlen, const char *target, size_t tlen,
                       struct kubelog_container *ret)
{
    if (nlen <= LOG_SUFFIX_LEN || nlen > LINK_NAME_MAX ||
        memcmp(name + nlen - LOG_SUFFIX_LEN, LOG_SUFFIX, LOG_SUFFIX_LEN) != 0)
        return -EINVAL;
    size_t n = nlen - LOG_SUFFIX_LEN;
    struct kubelog_container c = {.restart = -1};
    if (tlen == 0 || target_parse(target, tlen, &c) < 0) {
        int r = name_parse(name, n, nlen == LINK_NAME_MAX, &c);
        if (r < 0)
            return r;
        *ret = c;
        return 0;
    }
    /* the name must be what logSymlink makes of the target's names, up to where it was cut */
    size_t pos = 0;
    if (!take(name, n, &pos, c.pod.name, '_') || !take(name, n, &pos, c.pod.namespace, '_') ||
        !take(name, n, &pos, c.name, '-') || !id_ok(name + pos, n - pos))
        return -EINVAL;
    copy(c.id, name + pos, n - pos);
    *ret = c;
    return 0;
}
