/*
 * The pidfd system calls, which glibc 2.36 (Debian 12) has no wrappers for; the numbers are the
 * same on every architecture since 5.3 (the unified syscall table).
 */
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

/* A pidfd for the process, or -1 with errno (ESRCH: gone). */
static inline int sys_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* 0, or -1 with errno. */
static inline int sys_pidfd_send_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* 0, or -1 with errno (EINVAL: not exiting yet; ENOSYS before 5.15). */
static inline int sys_process_mrelease(int pidfd)
{
    return (int)syscall(SYS_process_mrelease, pidfd, 0);
}
