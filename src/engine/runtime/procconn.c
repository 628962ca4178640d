#include "procconn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <arpa/inet.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* the initial namespaces' inode numbers, fixed since 3.8 (include/linux/proc_ns.h) */
#define PROC_USER_INIT_INO 0xEFFFFFFDu
#define PROC_PID_INIT_INO 0xEFFFFFFCu

/* cn_msg is 20 bytes and the proc_event after it is not 8-aligned in the datagram: every field
 * is copied out, never read in place */
#define CN_MSG_LEN 20
#define PE_WHAT 0
#define PE_DATA 16

static uint32_t u32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static int32_t i32_at(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

int procconn_parse(const void *buf, size_t len,
                   void (*fn)(void *ctx, const struct procconn_event *e), void *ctx)
{
    const unsigned char *p = buf;
    int n = 0;
    while (len > 0) {
        struct nlmsghdr h;
        if (len < sizeof(h))
            return -EBADMSG;
        memcpy(&h, p, sizeof(h));
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
            return -EBADMSG;
        const unsigned char *m = p + NLMSG_HDRLEN;
        size_t mlen = h.nlmsg_len - NLMSG_HDRLEN;
        size_t step = NLMSG_ALIGN(h.nlmsg_len) < len ? NLMSG_ALIGN(h.nlmsg_len) : len;
        p += step;
        len -= step;
        if (h.nlmsg_type == NLMSG_NOOP)
            continue;
        if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_OVERRUN)
            return -EBADMSG;
        if (mlen < CN_MSG_LEN)
            return -EBADMSG;
        uint32_t idx = u32_at(m), val = u32_at(m + 4);
        uint16_t plen;
        memcpy(&plen, m + 16, sizeof(plen));
        if (idx != CN_IDX_PROC || val != CN_VAL_PROC)
            continue; /* another connector user's message */
        if ((size_t)plen > mlen - CN_MSG_LEN || plen < PE_DATA + 4)
            return -EBADMSG;
        const unsigned char *ev = m + CN_MSG_LEN, *d = ev + PE_DATA;
        size_t dlen = plen - PE_DATA;
        uint32_t what = u32_at(ev + PE_WHAT);
        struct procconn_event e = {0};
        switch (what) {
        case PROC_EVENT_NONE:
            e.kind = PROCCONN_ACK;
            e.err = (int)u32_at(d);
            break;
        case PROC_EVENT_FORK:
            /* parent_pid, parent_tgid, child_pid, child_tgid: a new thread has pid != tgid */
            if (dlen < 16)
                return -EBADMSG;
            if (i32_at(d + 8) != i32_at(d + 12))
                continue;
            e.kind = PROCCONN_FORK;
            e.pid = i32_at(d + 12);
            e.parent = i32_at(d + 4);
            break;
        case PROC_EVENT_EXEC:
        case PROC_EVENT_COMM:
        case PROC_EVENT_UID:
        case PROC_EVENT_EXIT:
            /* process_pid, process_tgid first in each: only the main thread's */
            if (dlen < 8)
                return -EBADMSG;
            if (i32_at(d) != i32_at(d + 4))
                continue;
            e.kind = what == PROC_EVENT_EXEC   ? PROCCONN_EXEC
                     : what == PROC_EVENT_COMM ? PROCCONN_COMM
                     : what == PROC_EVENT_UID  ? PROCCONN_UID
                                               : PROCCONN_EXIT;
            e.pid = i32_at(d + 4);
            break;
        default:
            continue;
        }
        fn(ctx, &e);
        n++;
    }
    return n;
}

/*
 * The socket's filter (classic BPF, run by the kernel for each event before it is queued,
 * af_netlink.c do_one_broadcast): what procconn_parse() would leave out never reaches the socket
 * nor wakes its reader: a thread's fork, exec, rename, uid change or exit (pid != tgid), and the
 * kinds not used (sid, gid, ptrace, coredump). A process's fork, exec, comm, uid and exit, the
 * subscription's answer, and anything it does not recognise (not a proc_event, short) pass.
 * Loads are big-endian: the values compared are in network order, and an equality of two fields
 * does not care.
 */
#define NL_TYPE 4                           /* nlmsghdr.nlmsg_type, 16 bits */
#define EV_AT (NLMSG_HDRLEN + CN_MSG_LEN)   /* the proc_event */
#define EV_WHAT (EV_AT + PE_WHAT)
#define EV_D(i) ((uint32_t)(EV_AT + PE_DATA + 4 * (i))) /* the i-th 32-bit word of its data */
enum {
    F_LEN, F_SHORT, F_TYPE, F_DONE, F_WHAT, F_FORK, F_EXEC, F_EXIT, F_COMM, F_UID, F_NONE,
    F_FORK_TGID, F_FORK_TAX, F_FORK_PID, F_FORK_EQ,
    F_PID_TGID, F_PID_TAX, F_PID_PID, F_PID_EQ,
    F_ACCEPT, F_DROP, F_N
};
#define J(at, to) ((uint8_t)((to) - (at) - 1))

int procconn_filter(int fd)
{
    static const struct sock_filter prog[F_N] = {
        [F_LEN] = BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
        /* a fork's data ends at the 4th word: anything shorter is the parser's to judge */
        [F_SHORT] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, EV_D(4), 0, J(F_SHORT, F_ACCEPT)),
        [F_TYPE] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, NL_TYPE),
        [F_DONE] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, J(F_DONE, F_ACCEPT)),
        [F_WHAT] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_WHAT),
        [F_FORK] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_FORK, F_FORK_TGID), 0),
        [F_EXEC] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_EXEC, F_PID_TGID), 0),
        [F_EXIT] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_EXIT, F_PID_TGID), 0),
        [F_COMM] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_COMM, F_PID_TGID), 0),
        [F_UID] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_UID, F_PID_TGID), 0),
        [F_NONE] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(F_NONE, F_ACCEPT), J(F_NONE, F_DROP)),
        /* fork: parent_pid, parent_tgid, child_pid, child_tgid */
        [F_FORK_TGID] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_D(3)),
        [F_FORK_TAX] = BPF_STMT(BPF_MISC | BPF_TAX, 0),
        [F_FORK_PID] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_D(2)),
        [F_FORK_EQ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, J(F_FORK_EQ, F_ACCEPT),
                               J(F_FORK_EQ, F_DROP)),
        /* exec, exit, comm, uid: process_pid, process_tgid */
        [F_PID_TGID] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_D(1)),
        [F_PID_TAX] = BPF_STMT(BPF_MISC | BPF_TAX, 0),
        [F_PID_PID] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_D(0)),
        [F_PID_EQ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, J(F_PID_EQ, F_ACCEPT),
                              J(F_PID_EQ, F_DROP)),
        [F_ACCEPT] = BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
        [F_DROP] = BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_filter v[F_N];
    memcpy(v, prog, sizeof(v));
    v[F_DONE].k = htons(NLMSG_DONE);
    v[F_FORK].k = htonl(PROC_EVENT_FORK);
    v[F_EXEC].k = htonl(PROC_EVENT_EXEC);
    v[F_EXIT].k = htonl(PROC_EVENT_EXIT);
    v[F_COMM].k = htonl(PROC_EVENT_COMM);
    v[F_UID].k = htonl(PROC_EVENT_UID);
    v[F_NONE].k = htonl(PROC_EVENT_NONE);
    struct sock_fprog fp = {.len = F_N, .filter = v};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0 ? -errno : 0;
}

static bool ns_is_initial(const char *link, unsigned long ino)
{
    struct stat st;
    return stat(link, &st) == 0 && st.st_ino == ino;
}

struct ack_wait {
    bool got;
    int err;
};

static void on_ack(void *ctx, const struct procconn_event *e)
{
    struct ack_wait *w = ctx;
    if (e->kind == PROCCONN_ACK && !w->got) {
        w->got = true;
        w->err = e->err;
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define NO_CONNECTOR                                                                               \
    "no proc connector (not in the initial network namespace, or a kernel without "               \
    "CONFIG_PROC_EVENTS)"

/* The socket, bound to the proc connector's group. Returns the fd or a negative errno. */
static int connector_socket(const char **why)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) {
        *why = NO_CONNECTOR;
        return -errno;
    }
    /* room for bursts (a fork bomb, a container start): an overflow costs a look at everything */
    int rcv = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        *why = e == EPERM ? "listening to the proc connector needs CAP_NET_ADMIN" : NO_CONNECTOR;
        return -e;
    }
    return fd;
}

/* PROC_CN_MCAST_LISTEN, as cn_proc.c's cn_proc_mcast_ctl() reads it */
static int subscribe(int fd)
{
    struct {
        struct nlmsghdr h;
        unsigned char cn[CN_MSG_LEN];
        uint32_t op;
    } __attribute__((packed)) req;
    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = NLMSG_DONE;
    req.h.nlmsg_pid = 0;
    uint32_t idx = CN_IDX_PROC, val = CN_VAL_PROC, seq = 1;
    uint16_t plen = sizeof(uint32_t);
    memcpy(req.cn, &idx, 4);
    memcpy(req.cn + 4, &val, 4);
    memcpy(req.cn + 8, &seq, 4);
    memcpy(req.cn + 16, &plen, 2);
    req.op = PROC_CN_MCAST_LISTEN;
    struct sockaddr_nl to = {.nl_family = AF_NETLINK};
    return sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

/* The kernel's answer to the subscription, within wait_ms: 0, its error, or -ETIMEDOUT. The
 * answer comes in order with the events; events before it are dropped (the caller looks at
 * everything once it is subscribed anyway). */
static int await_ack(int fd, unsigned wait_ms)
{
    struct ack_wait w = {0};
    uint64_t end = now_ms() + wait_ms;
    while (!w.got) {
        uint64_t t = now_ms();
        if (t >= end)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(end - t));
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            int r = procconn_drain(fd, on_ack, &w);
            if (r < 0 && r != -ENOBUFS)
                break;
        }
    }
    return !w.got ? -ETIMEDOUT : -w.err;
}

int procconn_open(unsigned wait_ms, const char **why)
{
    *why = NULL;
    /* a listener from another PID or user namespace gets no answer at all: ask only where one
     * can come */
    if (!ns_is_initial("/proc/self/ns/pid", PROC_PID_INIT_INO)) {
        *why = "not in the initial PID namespace";
        return -EPERM;
    }
    if (!ns_is_initial("/proc/self/ns/user", PROC_USER_INIT_INO)) {
        *why = "not in the initial user namespace";
        return -EPERM;
    }
    int fd = connector_socket(why);
    if (fd < 0)
        return fd;
    /* without it every event still comes, and the parser leaves out the same ones */
    (void)procconn_filter(fd);
    int r = subscribe(fd);
    if (r < 0) {
        close(fd);
        *why = NO_CONNECTOR;
        return r;
    }
    r = await_ack(fd, wait_ms);
    if (r < 0) {
        close(fd);
        *why = r == -ETIMEDOUT ? "no answer from the kernel's proc connector"
               : r == -EPERM   ? "listening to the proc connector needs CAP_NET_ADMIN"
                               : "the proc connector refused the subscription";
        return r;
    }
    return fd;
}

int procconn_drain(int fd, void (*fn)(void *ctx, const struct procconn_event *e), void *ctx)
{
    /* a datagram holds one event (cn_netlink_send: one message per event, ~80 bytes): many at a
     * time per system call, since a busy machine makes hundreds a second */
    enum { BATCH = 64, DGRAM = 256 };
    unsigned char buf[BATCH][DGRAM] __attribute__((aligned(8)));
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    int lost = 0, got = 0;
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = DGRAM};
            m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                lost = -ENOBUFS;
                continue;
            }
            if (errno == EAGAIN)
                return lost ? lost : got;
            return -errno;
        }
        got = got > INT_MAX - n ? INT_MAX : got + n;
        for (int i = 0; i < n; i++)
            if (!(m[i].msg_hdr.msg_flags & MSG_TRUNC))
                (void)procconn_parse(buf[i], m[i].msg_len, fn, ctx);
        if (n < BATCH)
            return lost ? lost : got;
    }
}
