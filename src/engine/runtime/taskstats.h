/*
 * The kernel's taskstats netlink family (kernel/taskstats.c), asked for the name, parent and real
 * uid of a batch of processes: one send carries every request and one recvmmsg takes every
 * answer (the kernel answers inside the send), where /proc/PID/stat costs an open, a read and a
 * close for each process, and the open makes the kernel build the process's /proc entry.
 *
 * Only where it can work: the family exists in the initial network namespace only, asking needs
 * CAP_NET_ADMIN (GENL_ADMIN_PERM), and a PID is looked up in the asker's PID namespace
 * (find_get_task_by_vpid): the caller makes sure those are the PIDs it means.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct taskstats_name {
    pid_t pid;
    int err;          /* 0: answered; else the kernel's refusal (ESRCH: the process is gone) */
    pid_t ppid;       /* the parent process, as /proc/PID/stat's field 4 */
    uint32_t uid;     /* the real uid, as the first of /proc/PID/status's Uid: */
    char comm[16 + 1]; /* as /proc/PID/stat's field 2 (TASK_COMM_LEN bytes, NUL-terminated) */
};

struct taskstats_conn {
    int fd;          /* -1: closed */
    uint16_t family; /* the family's id, given out at boot */
    uint32_t seq;
};

/*
 * Opens a generic netlink socket, looks the family up and asks about this process once, so that
 * a caller without CAP_NET_ADMIN knows now. Returns 0, or a negative errno with *why (static
 * storage) saying why it cannot be used here: "no taskstats family (a kernel without
 * CONFIG_TASKSTATS, or not the initial network namespace)", "asking needs CAP_NET_ADMIN", ...
 */
int taskstats_open(struct taskstats_conn *c, const char **why);
void taskstats_close(struct taskstats_conn *c);

/*
 * Asks about pids[0..n): out[i] is the answer for pids[i] (err 0), a refusal (err ESRCH: gone),
 * or err EAGAIN where no answer came (the socket's buffer was full: read /proc instead). Returns
 * 0, or a negative errno when the exchange itself failed (nothing in out can be used).
 */
int taskstats_names(struct taskstats_conn *c, const pid_t *pids, size_t n,
                    struct taskstats_name *out);

/*
 * Parses one netlink message read from the socket: an answer (returns 1, *ret filled, err 0), a
 * refusal (returns 1, ret->pid 0 and ret->err the errno; the caller knows the PID by the
 * sequence number, *seq), or another message (returns 0). -EBADMSG for a truncated or
 * inconsistent one. Pure.
 */
int taskstats_parse(const void *msg, size_t len, uint16_t family, struct taskstats_name *ret,
                    uint32_t *seq);
