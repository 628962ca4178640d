#include "sysctl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/opt.h"
#include "base/limits.h"
#include "sysroot.h"

static int read_number(const struct sysroot *sr, const char *name, bool sign, int64_t *ret_i,
                       uint64_t *ret_u)
{
    char path[128];
    int n = snprintf(path, sizeof(path), "sys/%s", name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    struct buf b = BUF_INIT(CAP_KERNEL_VALUE);
    int r = read_virtual_at(sr->proc_fd, path, &b);
    if (r >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        cursor_skip_space(&c);
        r = (sign ? cursor_i64(&c, ret_i) : cursor_u64(&c, ret_u)) < 0 ? -EBADMSG : 0;
    }
    buf_release(&b);
    return r;
}

int sysctl_read_u64(const struct sysroot *sr, const char *name, uint64_t *ret)
{
    return read_number(sr, name, false, NULL, ret);
}

int sysctl_read_i64(const struct sysroot *sr, const char *name, int64_t *ret)
{
    return read_number(sr, name, true, ret, NULL);
}

static uint64_t get(const struct sysroot *sr, const char *name)
{
    uint64_t v;
    return sysctl_read_u64(sr, name, &v) == 0 ? v : OPT_ABSENT;
}

void sysctls_read(const struct sysroot *sr, struct sysctls *ret)
{
    *ret = (struct sysctls){
        .panic_on_oom = get(sr, "vm/panic_on_oom"),
        .oom_kill_allocating_task = get(sr, "vm/oom_kill_allocating_task"),
        .oom_dump_tasks = get(sr, "vm/oom_dump_tasks"),
        .overcommit_memory = get(sr, "vm/overcommit_memory"),
        .overcommit_ratio = get(sr, "vm/overcommit_ratio"),
        .overcommit_kbytes = get(sr, "vm/overcommit_kbytes"),
        .swappiness = get(sr, "vm/swappiness"),
        .dmesg_restrict = get(sr, "kernel/dmesg_restrict"),
        .panic = OPT_ABSENT_I64,
    };
    int64_t v;
    if (sysctl_read_i64(sr, "kernel/panic", &v) == 0)
        ret->panic = v;
}
