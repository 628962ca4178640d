#include "taskstats.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* requests per send: the answers (about 600 bytes each, as the kernel's struct taskstats grows
 * with its version) must all fit the socket's default receive buffer, or the last are dropped */
#define BATCH 16
/* room for one answer: the struct is 400-odd bytes in 6.x */
#define ANSWER_MAX 2048

struct request {
    struct nlmsghdr h;
    struct genlmsghdr g;
    struct nlattr a;
    uint32_t pid;
};

/* The attributes in [p, p + len): each handed to fn until it returns non-zero; -EBADMSG for one
 * that runs past the end. */
static int each_attr(const unsigned char *p, size_t len,
                     int (*fn)(uint16_t type, const unsigned char *v, size_t vlen, void *ctx),
                     void *ctx)
{
    while (len >= NLA_HDRLEN) {
        struct nlattr a;
        memcpy(&a, p, sizeof(a));
        if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
            return -EBADMSG;
        int r = fn(a.nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN, ctx);
        if (r)
            return r;
        size_t step = (size_t)NLA_ALIGN(a.nla_len) < len ? (size_t)NLA_ALIGN(a.nla_len) : len;
        p += step;
        len -= step;
    }
    return 0;
}

struct answer {
    struct taskstats_name *ret;
    bool pid, stats;
};

/* Inside TASKSTATS_TYPE_AGGR_PID: the PID asked about and its struct taskstats (a
 * TASKSTATS_TYPE_NULL may pad the struct to 8 bytes, nla_reserve_64bit). */
static int on_aggr_attr(uint16_t type, const unsigned char *v, size_t vlen, void *ctx)
{
    struct answer *a = ctx;
    if (type == TASKSTATS_TYPE_PID) {
        uint32_t pid;
        if (vlen < sizeof(pid))
            return -EBADMSG;
        memcpy(&pid, v, sizeof(pid));
        a->ret->pid = (pid_t)pid;
        a->pid = true;
    } else if (type == TASKSTATS_TYPE_STATS) {
        /* the fields read here are of version 1, at the same place in every version since */
        struct taskstats ts;
        if (vlen < offsetof(struct taskstats, ac_ppid) + sizeof(ts.ac_ppid))
            return -EBADMSG;
        memset(&ts, 0, sizeof(ts));
        memcpy(&ts, v, vlen < sizeof(ts) ? vlen : sizeof(ts));
        size_t n = strnlen(ts.ac_comm, sizeof(a->ret->comm) - 1);
        memcpy(a->ret->comm, ts.ac_comm, n);
        a->ret->comm[n] = '\0';
        a->ret->ppid = (pid_t)ts.ac_ppid;
        a->ret->uid = ts.ac_uid;
        a->stats = true;
    }
    return 0;
}

static int on_top_attr(uint16_t type, const unsigned char *v, size_t vlen, void *ctx)
{
    if (type != TASKSTATS_TYPE_AGGR_PID)
        return 0;
    int r = each_attr(v, vlen, on_aggr_attr, ctx);
    return r < 0 ? r : 1;
}

int taskstats_parse(const void *msg, size_t len, uint16_t family, struct taskstats_name *ret,
                    uint32_t *seq)
{
    struct nlmsghdr h;
    if (len < sizeof(h))
        return -EBADMSG;
    memcpy(&h, msg, sizeof(h));
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
        return -EBADMSG;
    const unsigned char *p = (const unsigned char *)msg + NLMSG_HDRLEN;
    size_t plen = h.nlmsg_len - NLMSG_HDRLEN;
    *ret = (struct taskstats_name){0};
    *seq = h.nlmsg_seq;
    if (h.nlmsg_type == NLMSG_ERROR) {
        int err;
        if (plen < sizeof(err))
            return -EBADMSG;
        memcpy(&err, p, sizeof(err));
        if (err == 0)
            return 0; /* an acknowledgement: none is asked for */
        ret->err = err < 0 ? -err : err;
        return 1;
    }
    if (h.nlmsg_type != family)
        return 0;
    if (plen < GENL_HDRLEN)
        return -EBADMSG;
    struct answer a = {.ret = ret};
    int r = each_attr(p + GENL_HDRLEN, plen - GENL_HDRLEN, on_top_attr, &a);
    if (r < 0)
        return r;
    return a.pid && a.stats ? 1 : -EBADMSG;
}

/* One batch (n <= BATCH): the requests in one send, the answers matched by sequence number. */
static int ask_batch(struct taskstats_conn *c, const pid_t *pids, size_t n,
                     struct taskstats_name *out)
{
    struct request rq[BATCH];
    uint32_t base = c->seq;
    c->seq += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        rq[i] = (struct request){
            .h = {.nlmsg_len = sizeof(rq[i]), .nlmsg_type = c->family,
                  .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = base + (uint32_t)i},
            .g = {.cmd = TASKSTATS_CMD_GET, .version = TASKSTATS_GENL_VERSION},
            .a = {.nla_len = NLA_HDRLEN + sizeof(uint32_t), .nla_type = TASKSTATS_CMD_ATTR_PID},
            .pid = (uint32_t)pids[i],
        };
        out[i] = (struct taskstats_name){.pid = pids[i], .err = EAGAIN};
    }
    if (send(c->fd, rq, n * sizeof(rq[0]), 0) < 0)
        return -errno;
    static unsigned char bufs[BATCH][ANSWER_MAX];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    /* the kernel answered inside the send: what is not there now was dropped (a full buffer) */
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < n; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = ANSWER_MAX};
            mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        int got = recvmmsg(c->fd, mm, (unsigned)n, MSG_DONTWAIT, NULL);
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        for (int k = 0; k < got; k++) {
            struct taskstats_name t;
            uint32_t seq;
            if (mm[k].msg_hdr.msg_flags & MSG_TRUNC ||
                taskstats_parse(bufs[k], mm[k].msg_len, c->family, &t, &seq) != 1)
                continue;
            size_t i = seq - base;
            /* another batch's late answer, or an answer about another PID: not this one's */
            if (i >= n || (t.err == 0 && t.pid != pids[i]))
                continue;
            t.pid = pids[i];
            out[i] = t;
        }
        if ((size_t)got < n)
            break;
    }
    return 0;
}

int taskstats_names(struct taskstats_conn *c, const pid_t *pids, size_t n,
                    struct taskstats_name *out)
{
    if (c->fd < 0)
        return -EBADF;
    for (size_t at = 0; at < n; at += BATCH) {
        int r = ask_batch(c, pids + at, n - at < BATCH ? n - at : BATCH, out + at);
        if (r < 0)
            return r;
    }
    return 0;
}

struct family_id {
    uint16_t id;
    bool found;
};

static int on_ctrl_attr(uint16_t type, const unsigned char *v, size_t vlen, void *ctx)
{
    struct family_id *f = ctx;
    if (type == CTRL_ATTR_FAMILY_ID && vlen >= sizeof(f->id)) {
        memcpy(&f->id, v, sizeof(f->id));
        f->found = true;
        return 1;
    }
    return 0;
}

/* The family's id from the generic netlink controller; -ENOENT when there is none. */
static int family_lookup(int fd, uint16_t *ret)
{
    struct {
        struct nlmsghdr h;
        struct genlmsghdr g;
        struct nlattr a;
        char name[NLA_ALIGN(sizeof(TASKSTATS_GENL_NAME))];
    } rq = {
        .h = {.nlmsg_len = sizeof(rq), .nlmsg_type = GENL_ID_CTRL, .nlmsg_flags = NLM_F_REQUEST},
        .g = {.cmd = CTRL_CMD_GETFAMILY, .version = 1},
        .a = {.nla_len = NLA_HDRLEN + sizeof(TASKSTATS_GENL_NAME), .nla_type = CTRL_ATTR_FAMILY_NAME},
        .name = TASKSTATS_GENL_NAME,
    };
    if (send(fd, &rq, sizeof(rq), 0) < 0)
        return -errno;
    unsigned char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    struct nlmsghdr h;
    if ((size_t)n < sizeof(h))
        return -EBADMSG;
    memcpy(&h, buf, sizeof(h));
    if (h.nlmsg_len > (size_t)n || h.nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
        return -EBADMSG;
    if (h.nlmsg_type == NLMSG_ERROR) {
        int err;
        memcpy(&err, buf + NLMSG_HDRLEN, sizeof(err));
        return err < 0 ? err : -EBADMSG;
    }
    struct family_id f = {0};
    each_attr(buf + NLMSG_LENGTH(GENL_HDRLEN), h.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
              on_ctrl_attr, &f);
    if (!f.found)
        return -ENOENT;
    *ret = f.id;
    return 0;
}

int taskstats_open(struct taskstats_conn *c, const char **why)
{
    *c = (struct taskstats_conn){.fd = -1};
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0) {
        *why = "no generic netlink socket";
        return -errno;
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : family_lookup(fd, &c->family);
    if (r < 0) {
        *why = r == -ENOENT ? "no taskstats family (a kernel without CONFIG_TASKSTATS, or not the "
                              "initial network namespace)"
                            : "the generic netlink controller did not answer";
        close(fd);
        return r;
    }
    c->fd = fd;
    /* this process, asked about: the permission, and that its PIDs are the ones /proc gives */
    pid_t self = getpid();
    struct taskstats_name t;
    r = taskstats_names(c, &self, 1, &t);
    if (r == 0 && t.err == 0 && t.ppid == getppid())
        return 0;
    *why = r < 0 ? "the exchange failed"
           : t.err == EPERM ? "asking needs CAP_NET_ADMIN"
           : t.err ? "it does not answer about this process" : "its answer about this process is wrong";
    taskstats_close(c);
    return r < 0 ? r : t.err ? -t.err : -EPROTO;
}

void taskstats_close(struct taskstats_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
