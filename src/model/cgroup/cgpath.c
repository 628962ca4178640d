#include "cgpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/*
 * Finds a run of at least 32 hex digits (a container or session ID) that is not part of a
 * longer word; returns its offset and length, or -1.
 */
static long find_long_id(const char *s, size_t n, size_t *ret_len)
{
    for (size_t i = 0; i + 32 <= n; i++) {
        if (i > 0 && is_hex(s + i - 1, 1))
            continue;
        size_t len = 0;
        while (i + len < n && is_hex(s + i + len, 1))
            len++;
        if (len >= 32) {
            *ret_len = len;
            return (long)i;
        }
        i += len;
    }
    return -1;
}

void cgpath_short(const char *path, size_t width, char *out, size_t outlen)
{
    if (!path || !*path) {
        snprintf(out, outlen, "-");
        return;
    }
    const char *slash = strrchr(path, '/');
    const char *last = slash && slash[1] ? slash + 1 : path;
    if (strcmp(path, "/") == 0)
        last = "/";
    char tmp[512];
    size_t n = strlen(last), idlen = 0;
    long id = find_long_id(last, n, &idlen);
    /* a bare ID says little alone: keep its parent's name ("docker/34186d9bd077") */
    const char *parent = "";
    int parent_len = 0;
    if (id == 0 && idlen == n && last != path && last - 1 > path) {
        const char *p = last - 1;
        while (p > path && p[-1] != '/')
            p--;
        parent = p;
        parent_len = (int)(last - p);
    }
    if (id >= 0)
        snprintf(tmp, sizeof(tmp), "%.*s%.*s%.12s%s", parent_len, parent, (int)id, last, last + id,
                 last + id + idlen);
    else
        snprintf(tmp, sizeof(tmp), "%s", last);
    size_t len = strlen(tmp);
    if (width > 1 && len > width)
        snprintf(out, outlen, "…%s", tmp + len - (width - 1));
    else
        snprintf(out, outlen, "%s", tmp);
}

int cgpath_is_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    if (n == 1 && prefix[0] == '/')
        return path[0] == '/';
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *cgpath_child(const char *parent, const char *name)
{
    size_t len = strlen(parent) + strlen(name) + 2;
    char *child = malloc(len);
    if (child)
        snprintf(child, len, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", name);
    return child;
}
