#include "kver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "sysroot.h"

int kver_parse(const char *s, struct kver *ret)
{
    struct kver k = {0};
    size_t n = strcspn(s, "\n");
    snprintf(k.release, sizeof(k.release), "%.*s", (int)n, s);
    struct cursor c = cursor_make(s, n);
    uint64_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0 && !cursor_skip_char(&c, '.'))
            break;
        if (cursor_u64(&c, &v[i]) < 0 || v[i] > 100000) {
            if (i < 2)
                return -EINVAL;
            v[i] = 0;
            break;
        }
    }
    k.major = (unsigned)v[0];
    k.minor = (unsigned)v[1];
    k.patch = (unsigned)v[2];
    k.known = true;
    *ret = k;
    return 0;
}

int kver_read(const struct sysroot *sr, struct kver *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    int r = read_virtual_at(sr->proc_fd, "sys/kernel/osrelease", &b);
    if (r >= 0)
        r = kver_parse(buf_cstr(&b), ret);
    buf_release(&b);
    return r < 0 ? r : 0;
}

int kver_cmp(const struct kver *k, unsigned major, unsigned minor, unsigned patch)
{
    if (k->major != major)
        return k->major < major ? -1 : 1;
    if (k->minor != minor)
        return k->minor < minor ? -1 : 1;
    if (k->patch != patch)
        return k->patch < patch ? -1 : 1;
    return 0;
}
