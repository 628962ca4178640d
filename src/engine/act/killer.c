#include "killer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/sys/fileio.h"
#include "base/sys/pidfd.h"
#include "base/limits.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"


int killer_start_time(const struct sysroot *sr, pid_t pid, uint64_t *ret)
{
    char path[32];
    snprintf(path, sizeof(path), "%d/stat", (int)pid);
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    int r = read_virtual_at(sr->proc_fd, path, &b);
    if (r >= 0) {
        struct proc p = {0};
        r = proc_stat_parse(b.data, b.len, &p);
        if (r == 0)
            *ret = p.start_time;
    }
    buf_release(&b);
    return r < 0 ? (r == -ENOENT ? -ESRCH : r) : 0;
}

int killer_open(const struct sysroot *sr, pid_t pid, uint64_t expected_start_time,
                struct kill_target *ret)
{
    struct kill_target t = {.pid = pid, .pidfd = -1, .start_time = expected_start_time};
    if (pid <= 1)
        return -EPERM; /* never init (or "all processes") */
    long fd = sys_pidfd_open(pid);
    if (fd < 0 && errno == ENOSYS) {
        char name[16];
        snprintf(name, sizeof(name), "%d", (int)pid);
        fd = openat(sr->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        t.via_procfd = true;
        if (fd < 0 && errno == ENOENT)
            return -ESRCH;
    }
    if (fd < 0)
        return -errno;
    t.pidfd = (int)fd;
    /*
     * The fd now refers to whichever process had this PID at open time. If that is not the one
     * we chose (it exited and the PID was handed out again), its start time differs.
     */
    uint64_t now;
    int r = killer_start_time(sr, pid, &now);
    if (r < 0 || now != expected_start_time) {
        close(t.pidfd);
        return r < 0 ? r : -ESRCH;
    }
    /*
     * A pidfd opens on a zombie too (until it is reaped): it has exited, and a kill would free
     * nothing yet count as one. Its pidfd is readable once every thread has exited, which also
     * keeps a process whose main thread alone exited (a zombie leader, live threads) killable.
     */
    if (!t.via_procfd && killer_wait(&t, 0) == 1) {
        close(t.pidfd);
        return -ESRCH;
    }
    *ret = t;
    return 0;
}

int killer_signal(const struct kill_target *t, int sig)
{
    if (sys_pidfd_send_signal(t->pidfd, sig) < 0)
        return -errno;
    return 0;
}

int killer_release_memory(const struct kill_target *t)
{
    if (t->via_procfd)
        return -ENOSYS;
    if (sys_process_mrelease(t->pidfd) < 0)
        return -errno;
    return 0;
}

int killer_wait(const struct kill_target *t, int timeout_ms)
{
    if (t->via_procfd) {
        /* no exit notification on a /proc fd: poll for the directory going away */
        for (int waited = 0; waited <= timeout_ms; waited += 20) {
            if (faccessat(t->pidfd, "stat", F_OK, 0) < 0)
                return 1;
            usleep(20000);
        }
        return 0;
    }
    /* a pidfd is readable once the process has exited (zombie or reaped) */
    struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? 1 : 0;
}

void killer_close(struct kill_target *t)
{
    if (t->pidfd >= 0)
        close(t->pidfd);
    t->pidfd = -1;
}
