#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/cursor.h"
#include "../base/fileio.h"
#include "../base/limits.h"
#include "sysroot.h"

void users_init(struct users *u, const struct sysroot *sr)
{
    *u = (struct users){.sr = sr};
}

void users_release(struct users *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->v[i].name);
    free(u->v);
    *u = (struct users){0};
}

static int add(struct users *u, int64_t uid, const char *name, size_t len)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 32;
        struct user_entry *v = realloc(u->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        u->v = v;
        u->cap = cap;
    }
    char *s = span_strdup((struct span){name, len});
    if (!s)
        return -ENOMEM;
    u->v[u->n++] = (struct user_entry){.uid = uid, .name = s};
    return 0;
}

/* name:passwd:uid:gid:gecos:home:shell */
static void load_passwd(struct users *u)
{
    u->passwd_loaded = true;
    struct buf b = BUF_INIT(16 * MiB);
    int fd = openat(u->sr->root_fd, "etc/passwd", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    int r = read_stream_fd(fd, &b);
    close(fd);
    if (r < 0) {
        buf_release(&b);
        return;
    }
    struct cursor c = cursor_make(b.data, b.len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span name = cursor_until(&line, ':');
        (void)cursor_until(&line, ':');
        uint64_t uid;
        if (name.n == 0 || cursor_u64(&line, &uid) < 0 || !cursor_skip_char(&line, ':'))
            continue;
        if (add(u, (int64_t)uid, name.p, name.n) < 0)
            break;
    }
    buf_release(&b);
}

static const struct user_entry *find_uid(struct users *u, int64_t uid)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->v[i].uid == uid)
            return &u->v[i];
    return NULL;
}

const char *users_name(struct users *u, int64_t uid)
{
    if (uid < 0)
        return "?";
    const struct user_entry *e = find_uid(u, uid);
    if (e)
        return e->name;
    if (u->sr->live) {
        struct passwd *pw = getpwuid((uid_t)uid);
        if (pw && add(u, uid, pw->pw_name, strlen(pw->pw_name)) == 0)
            return u->v[u->n - 1].name;
    } else if (!u->passwd_loaded) {
        load_passwd(u);
        if ((e = find_uid(u, uid)))
            return e->name;
    }
    snprintf(u->numbuf, sizeof(u->numbuf), "%lld", (long long)uid);
    /* remember misses too, so a 5,000-process table asks NSS once per uid */
    if (add(u, uid, u->numbuf, strlen(u->numbuf)) == 0)
        return u->v[u->n - 1].name;
    return u->numbuf;
}

int users_parse(struct users *u, const char *s, int64_t *ret)
{
    uint64_t v;
    if (parse_u64(s, &v) == 0 && v <= UINT32_MAX) {
        *ret = (int64_t)v;
        return 0;
    }
    if (u->sr->live) {
        struct passwd *pw = getpwnam(s);
        if (pw) {
            *ret = pw->pw_uid;
            return 0;
        }
        return -ENOENT;
    }
    if (!u->passwd_loaded)
        load_passwd(u);
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->v[i].name, s) == 0) {
            *ret = u->v[i].uid;
            return 0;
        }
    return -ENOENT;
}
