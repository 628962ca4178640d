/*
 * Killing one process safely: the identity is pinned with a pidfd, then checked against what was
 * chosen (start time), so a PID reused between the choice and the kill is never hit. Memory is
 * reclaimed right away with process_mrelease() instead of waiting for the victim to exit.
 *
 *   pidfd_open (5.3)  pidfd_send_signal (5.1)  process_mrelease (5.15)
 *
 * Before 5.3 the /proc/PID directory fd is used with pidfd_send_signal (5.1 accepts it); without
 * either, there is no race-free way and killer_open() refuses (-ENOSYS).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sysroot;

struct kill_target {
    pid_t pid;
    int pidfd;
    uint64_t start_time; /* /proc/PID/stat field 22 at choice time */
    bool via_procfd;     /* pidfd is a /proc/PID directory fd (pre-5.3 kernels) */
};

/*
 * Pins `pid` and checks it is still the process chosen (same start time) and has not exited
 * (a zombie). Returns 0, -ESRCH when it is gone, a zombie, or its PID now belongs to another
 * process, or another negative errno.
 */
int killer_open(const struct sysroot *sr, pid_t pid, uint64_t expected_start_time,
                struct kill_target *ret);
/* Sends `sig` to exactly that process. -ESRCH once it has exited. */
int killer_signal(const struct kill_target *t, int sig);
/*
 * Reaps the address space of a process that is dying (after SIGKILL): process_mrelease().
 * Returns 0, -ENOSYS on kernels without it, -EINVAL if the process is not dying yet.
 */
int killer_release_memory(const struct kill_target *t);
/* Waits up to timeout_ms for the process to exit. Returns 1 if it exited, 0 on timeout. */
int killer_wait(const struct kill_target *t, int timeout_ms);
void killer_close(struct kill_target *t);

/* Reads /proc/PID/stat's start time (field 22). */
int killer_start_time(const struct sysroot *sr, pid_t pid, uint64_t *ret);
