#include "reclaim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/sys/fileio.h"
#include "base/sys/clock.h"

int reclaim_cgroup(const struct cgroup_hier *h, const char *path, uint64_t bytes, bool dry_run,
                   struct reclaim_result *ret)
{
    *ret = (struct reclaim_result){.asked = bytes, .dry_run = dry_run};
    _cleanup_close_ int fd = cgroup_open_dir(h, path);
    if (fd < 0)
        return ERRNO_IS_GONE(-fd) ? -ENOENT : fd;
    if (h->memory_version != 2 || faccessat(fd, "memory.reclaim", F_OK, 0) < 0)
        return -EOPNOTSUPP;
    int r = cgroup_read(h, path, &ret->before);
    if (r < 0)
        return r;
    if (!dry_run) {
        char v[32];
        snprintf(v, sizeof(v), "%" PRIu64, bytes);
        double t = clock_mono_s();
        ret->write_error = write_string_at(fd, "memory.reclaim", v);
        ret->seconds = clock_mono_s() - t;
    }
    r = cgroup_read(h, path, &ret->after);
    if (r < 0) {
        cgroup_memory_release(&ret->before);
        return r;
    }
    return 0;
}

void reclaim_result_release(struct reclaim_result *r)
{
    cgroup_memory_release(&r->before);
    cgroup_memory_release(&r->after);
}
