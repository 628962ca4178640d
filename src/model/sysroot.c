#include "sysroot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"

static char failed_path[4096];

int sysroot_open(struct sysroot *sr, const char *dir, const char **ret_failed_path)
{
    *sr = (struct sysroot){.root_fd = -1, .proc_fd = -1, .sys_fd = -1};
    if (!dir || !*dir) {
        const char *env = getenv("OOMWARDEN_ROOT");
        dir = env && *env ? env : "/";
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    bool live = n == 1 && dir[0] == '/';
    sr->dir = live ? strdup("") : strndup(dir, n);
    if (!sr->dir)
        return -ENOMEM;
    sr->live = live;
    long ps = sysconf(_SC_PAGESIZE);
    sr->page_size = ps > 0 ? ps : 4096;

    snprintf(failed_path, sizeof(failed_path), "%s", live ? "/" : sr->dir);
    sr->root_fd = open(live ? "/" : sr->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sr->root_fd < 0)
        goto fail;
    snprintf(failed_path, sizeof(failed_path), "%s/proc", sr->dir);
    sr->proc_fd = openat(sr->root_fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sr->proc_fd < 0)
        goto fail;
    sr->sys_fd = openat(sr->root_fd, "sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return 0;
fail:;
    int r = -errno;
    if (ret_failed_path)
        *ret_failed_path = failed_path;
    sysroot_close(sr);
    return r;
}

void sysroot_close(struct sysroot *sr)
{
    if (sr->proc_fd >= 0)
        close(sr->proc_fd);
    if (sr->sys_fd >= 0)
        close(sr->sys_fd);
    if (sr->root_fd >= 0)
        close(sr->root_fd);
    free(sr->dir);
    *sr = (struct sysroot){.root_fd = -1, .proc_fd = -1, .sys_fd = -1};
}

const char *sysroot_path(const struct sysroot *sr, const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s%s", sr->dir ? sr->dir : "", rel);
    return path;
}

unsigned sysroot_ncpus(const struct sysroot *sr)
{
    /* "0-3,8-11\n" */
    unsigned n = 0;
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    if (sr->sys_fd >= 0 && read_virtual_at(sr->sys_fd, "devices/system/cpu/online", &b) > 0) {
        struct cursor c = cursor_make(b.data, b.len);
        while (!cursor_eof(&c)) {
            uint64_t lo, hi;
            if (cursor_u64(&c, &lo) < 0)
                break;
            hi = lo;
            if (cursor_skip_char(&c, '-') && cursor_u64(&c, &hi) < 0)
                break;
            if (hi >= lo && hi - lo < 65536)
                n += (unsigned)(hi - lo + 1);
            if (!cursor_skip_char(&c, ','))
                break;
        }
    }
    buf_release(&b);
    if (n == 0 && sr->live) {
        long v = sysconf(_SC_NPROCESSORS_ONLN);
        n = v > 0 ? (unsigned)v : 1;
    }
    return n ? n : 1;
}
