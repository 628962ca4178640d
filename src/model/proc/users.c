#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "model/sysroot.h"

void users_init(struct users *u, const struct sysroot *sr)
{
    *u = (struct users){.sr = sr};
}

void users_release(struct users *u)
{
    passwd_db_release(&u->db);
    *u = (struct users){0};
}

int users_load(struct users *u)
{
    if (u->loaded)
        return u->load_error;
    u->loaded = true;
    struct buf b = BUF_INIT(CAP_PASSWD);
    int r = read_regular_at(u->sr->root_fd, "etc/passwd", &b);
    if (r >= 0)
        r = passwd_parse(b.data, b.len, &u->db);
    buf_release(&b);
    u->load_error = r < 0 ? r : 0;
    return u->load_error;
}

const char *users_name(struct users *u, int64_t uid)
{
    if (uid < 0)
        return "?";
    (void)users_load(u);
    const char *name = uid <= PASSWD_UID_MAX ? passwd_db_name(&u->db, (uint32_t)uid) : NULL;
    if (name)
        return name;
    snprintf(u->numbuf, sizeof(u->numbuf), "%lld", (long long)uid);
    return u->numbuf;
}

int uid_parse(const char *s, int64_t *ret)
{
    uint64_t v;
    int r = parse_u64(s, &v);
    if (r == -ERANGE || (r == 0 && v > PASSWD_UID_MAX))
        return -ERANGE;
    if (r < 0)
        return -EINVAL;
    *ret = (int64_t)v;
    return 0;
}

int users_parse(struct users *u, const char *s, int64_t *ret)
{
    int r = uid_parse(s, ret);
    if (r != -EINVAL)
        return r;
    (void)users_load(u);
    uint32_t uid;
    if (passwd_db_uid(&u->db, s, &uid) < 0)
        return -ENOENT;
    *ret = uid;
    return 0;
}

const char *users_file(const struct users *u)
{
    return sysroot_path(u->sr, "/etc/passwd");
}
