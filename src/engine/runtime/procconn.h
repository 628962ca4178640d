/*
 * The netlink proc connector (drivers/connector/cn_proc.c): the kernel's fork, exec, comm, uid
 * and exit events of every process, as they happen, instead of a scan of /proc.
 *
 * Only where it can work: the connector's socket exists in the initial network namespace only
 * (drivers/connector/connector.c registers it in init_net), a listener outside the initial PID
 * and user namespaces is ignored without an answer (cn_proc_mcast_ctl, 6.1), and subscribing
 * needs CAP_NET_ADMIN (answered EPERM). So a systemd service or a DaemonSet with hostNetwork
 * and hostPID can use it; a pod in its own network cannot, and scans instead.
 *
 * Events are dropped when the socket's buffer overflows (ENOBUFS on the next read): the caller
 * then has to look at everything again.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum procconn_kind {
    PROCCONN_FORK, /* a new process (not a thread): pid, and its parent */
    PROCCONN_EXEC, /* it runs a new program: comm, exe, cmdline changed */
    PROCCONN_COMM, /* the process (its main thread) renamed itself */
    PROCCONN_UID,  /* its real or effective uid changed */
    PROCCONN_EXIT, /* it exited (its main thread) */
    PROCCONN_ACK,  /* the answer to a subscription: `err` */
};

struct procconn_event {
    enum procconn_kind kind;
    pid_t pid;    /* the process (thread group id) */
    pid_t parent; /* PROCCONN_FORK: the parent process */
    int err;      /* PROCCONN_ACK: 0 or a positive errno */
};

/*
 * Parses one datagram read from the connector socket (one or more netlink messages) and hands
 * each event about a process to `fn`; thread events (a thread's fork or exit, a thread's rename)
 * and the kinds not listed above are left out. Pure. Returns the number of events handed over,
 * or -EBADMSG for a message that is not a whole proc connector message.
 */
int procconn_parse(const void *buf, size_t len,
                   void (*fn)(void *ctx, const struct procconn_event *e), void *ctx);

/*
 * Opens a connector socket and subscribes, waiting up to `wait_ms` for the kernel's answer.
 * Returns the socket (non-blocking, close-on-exec) or a negative errno, with *why (static
 * storage) saying why it cannot be used here: "not in the initial PID namespace", "no answer
 * from the kernel (not in the initial PID and user namespaces?)", "subscribing needs
 * CAP_NET_ADMIN", "no proc connector (not in the initial network namespace, or a kernel without
 * CONFIG_PROC_EVENTS)".
 */
int procconn_open(unsigned wait_ms, const char **why);

/*
 * Attaches to fd a socket filter that drops, in the kernel, the events procconn_parse() leaves
 * out (a thread's, and the kinds not listed above), so they cost the reader nothing. Any socket
 * that receives the connector's datagrams (procconn_open() attaches it). Returns 0 or a negative
 * errno.
 */
int procconn_filter(int fd);

/* Reads what is waiting: events to `fn`, until the socket has nothing left. Returns how many
 * messages it read (0: the socket was empty; those `fn` is not told of count too), or -ENOBUFS
 * when events were lost (look at everything again), or another negative errno. */
int procconn_drain(int fd, void (*fn)(void *ctx, const struct procconn_event *e), void *ctx);
