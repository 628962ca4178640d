/*
 * The proc connector's messages, built as cn_proc.c sends them (a netlink header, a cn_msg, a
 * proc_event right after it, unaligned): processes kept, threads left out, the subscription's
 * answer, other connector users' messages skipped, and truncated or inconsistent ones refused.
 * The socket filter lets through exactly what the parser keeps (each kind of event, of a process
 * and of a thread, through a socket with the filter). Then, where this process may listen
 * (initial namespaces, CAP_NET_ADMIN), a real subscription: a child's fork, rename, exec and
 * exit come back, and a thread's fork and exit do not reach the socket.
 */
#include "testlib.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/procconn.h"

struct got {
    struct procconn_event v[16];
    size_t n;
};

static void on_event(void *ctx, const struct procconn_event *e)
{
    struct got *g = ctx;
    if (g->n < 16)
        g->v[g->n++] = *e;
}

/* The layout cn_proc.c sends: a netlink header, a 20-byte cn_msg, then the proc_event: what, cpu
 * and timestamp (16 bytes) and its data words. */
#define CN_LEN 20
#define EV_HEAD 16
#define AT_EVENT (NLMSG_HDRLEN + CN_LEN)
#define AT_DATA (AT_EVENT + EV_HEAD)

/* Appends one message: nlmsghdr + cn_msg(idx, val, len) + proc_event(what, data words). */
static size_t put_msg(unsigned char *buf, size_t at, uint32_t idx, uint32_t what,
                      const int32_t *data, size_t nwords)
{
    size_t plen = EV_HEAD + nwords * 4;
    size_t total = AT_EVENT + plen;
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)total, .nlmsg_type = NLMSG_DONE};
    memcpy(buf + at, &h, sizeof(h));
    unsigned char *cn = buf + at + NLMSG_HDRLEN;
    uint32_t val = CN_VAL_PROC;
    uint16_t l16 = (uint16_t)plen;
    memset(cn, 0, CN_LEN);
    memcpy(cn, &idx, 4);
    memcpy(cn + 4, &val, 4);
    memcpy(cn + 16, &l16, 2);
    unsigned char *ev = cn + CN_LEN;
    memset(ev, 0, EV_HEAD);
    memcpy(ev, &what, 4);
    memcpy(ev + EV_HEAD, data, nwords * 4);
    return at + NLMSG_ALIGN(total);
}

static void parse_events(void **state)
{
    (void)state;
    unsigned char buf[2048];
    size_t n = 0;
    /* fork of a process: parent 10/10, child 20/20 */
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_FORK, (int32_t[]){10, 10, 20, 20}, 4);
    /* a new thread of 20: left out */
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_FORK, (int32_t[]){20, 20, 21, 20}, 4);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_EXEC, (int32_t[]){20, 20}, 2);
    /* a thread renames itself: left out; the main thread: kept */
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_COMM, (int32_t[]){21, 20, 0, 0, 0, 0}, 6);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_COMM, (int32_t[]){20, 20, 0, 0, 0, 0}, 6);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_UID, (int32_t[]){20, 20, 1000, 1000}, 4);
    /* sid and gid changes are not asked for */
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_SID, (int32_t[]){20, 20}, 2);
    /* another connector user's message */
    n = put_msg(buf, n, CN_IDX_PROC + 1, PROC_EVENT_FORK, (int32_t[]){1, 1, 2, 2}, 4);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_EXIT, (int32_t[]){21, 20, 0, 9, 10, 10}, 6);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_EXIT, (int32_t[]){20, 20, 0, 9, 10, 10}, 6);
    n = put_msg(buf, n, CN_IDX_PROC, PROC_EVENT_NONE, (int32_t[]){EPERM}, 1);
    struct got g = {0};
    assert_int_equal(procconn_parse(buf, n, on_event, &g), 6);
    assert_int_equal(g.n, 6);
    assert_int_equal(g.v[0].kind, PROCCONN_FORK);
    assert_int_equal(g.v[0].pid, 20);
    assert_int_equal(g.v[0].parent, 10);
    assert_int_equal(g.v[1].kind, PROCCONN_EXEC);
    assert_int_equal(g.v[1].pid, 20);
    assert_int_equal(g.v[2].kind, PROCCONN_COMM);
    assert_int_equal(g.v[3].kind, PROCCONN_UID);
    assert_int_equal(g.v[4].kind, PROCCONN_EXIT);
    assert_int_equal(g.v[4].pid, 20);
    assert_int_equal(g.v[5].kind, PROCCONN_ACK);
    assert_int_equal(g.v[5].err, EPERM);
}

static void parse_refuses_broken_messages(void **state)
{
    (void)state;
    unsigned char buf[512];
    struct got g = {0};
    size_t n = put_msg(buf, 0, CN_IDX_PROC, PROC_EVENT_FORK, (int32_t[]){10, 10, 20, 20}, 4);
    /* cut anywhere: never read past the end */
    for (size_t cut = 1; cut < n; cut++) {
        g.n = 0;
        int r = procconn_parse(buf, cut, on_event, &g);
        assert_true(r == -EBADMSG || r == 0);
        assert_int_equal(g.n, 0);
    }
    /* a netlink length beyond the datagram */
    struct nlmsghdr h;
    memcpy(&h, buf, sizeof(h));
    h.nlmsg_len = (uint32_t)n + 8;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(procconn_parse(buf, n, on_event, &g), -EBADMSG);
    /* a cn_msg length beyond the netlink message */
    n = put_msg(buf, 0, CN_IDX_PROC, PROC_EVENT_FORK, (int32_t[]){10, 10, 20, 20}, 4);
    uint16_t big = 200;
    memcpy(buf + NLMSG_HDRLEN + 16, &big, 2);
    assert_int_equal(procconn_parse(buf, n, on_event, &g), -EBADMSG);
    /* a fork event too short for its pids */
    n = put_msg(buf, 0, CN_IDX_PROC, PROC_EVENT_FORK, (int32_t[]){10, 10}, 2);
    assert_int_equal(procconn_parse(buf, n, on_event, &g), -EBADMSG);
    /* an error message from netlink */
    struct nlmsghdr e = {.nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_ERROR};
    memset(buf, 0, sizeof(buf));
    memcpy(buf, &e, sizeof(e));
    assert_int_equal(procconn_parse(buf, NLMSG_HDRLEN + 4, on_event, &g), -EBADMSG);
    assert_int_equal(procconn_parse(buf, 0, on_event, &g), 0);
}

/* One message through a socket with the filter: whether it came out (and whole). */
static bool through_filter(int tx, int rx, const unsigned char *msg, size_t len)
{
    unsigned char back[512];
    assert_int_equal(send(tx, msg, len, 0), (ssize_t)len);
    ssize_t n = recv(rx, back, sizeof(back), MSG_DONTWAIT);
    if (n < 0) {
        assert_int_equal(errno, EAGAIN);
        return false;
    }
    assert_int_equal(n, (ssize_t)len);
    assert_memory_equal(back, msg, len);
    return true;
}

static void filter_keeps_what_the_parser_keeps(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    assert_int_equal(procconn_filter(sv[1]), 0);
    static const uint32_t kinds[] = {
        PROC_EVENT_NONE, PROC_EVENT_FORK,   PROC_EVENT_EXEC,     PROC_EVENT_UID,
        PROC_EVENT_GID,  PROC_EVENT_SID,    PROC_EVENT_PTRACE,   PROC_EVENT_COMM,
        PROC_EVENT_COREDUMP, PROC_EVENT_EXIT, 0x12345,
    };
    unsigned char buf[256];
    int kept = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        for (int thread = 0; thread < 2; thread++) {
            /* full size, as the kernel sends each (the union's largest member: 6 words); a fork
             * is parent 10/10 and child 20/20 or thread 21 of 20, the others are 20/20 or 21/20 */
            int32_t fork[6] = {10, 10, thread ? 21 : 20, 20, 0, 0};
            int32_t other[6] = {thread ? 21 : 20, 20, 0, 0, 0, 0};
            size_t n = put_msg(buf, 0, CN_IDX_PROC, kinds[i],
                               kinds[i] == PROC_EVENT_FORK ? fork : other, 6);
            struct got g = {0};
            int parsed = procconn_parse(buf, n, on_event, &g);
            assert_true(parsed >= 0);
            bool passed = through_filter(sv[0], sv[1], buf, n);
            printf("# kind %#x %s: parser %d, filter %s\n", kinds[i], thread ? "thread" : "process",
                   parsed, passed ? "passes" : "drops");
            assert_int_equal(passed, parsed > 0);
            kept += passed;
        }
    }
    /* fork, exec, uid, comm and exit of a process, and the answer (both of its forms) */
    assert_int_equal(kept, 7);
    /* what it does not recognise is the parser's to judge: shorter than a fork, not NLMSG_DONE */
    size_t n = put_msg(buf, 0, CN_IDX_PROC, PROC_EVENT_SID, (int32_t[]){21, 20}, 2);
    assert_true(through_filter(sv[0], sv[1], buf, n));
    n = put_msg(buf, 0, CN_IDX_PROC, PROC_EVENT_SID, (int32_t[]){21, 20, 0, 0, 0, 0}, 6);
    struct nlmsghdr h;
    memcpy(&h, buf, sizeof(h));
    h.nlmsg_type = NLMSG_ERROR;
    memcpy(buf, &h, sizeof(h));
    assert_true(through_filter(sv[0], sv[1], buf, n));
    close(sv[0]);
    close(sv[1]);
}

struct watch {
    pid_t child;
    int fork, exec, comm, exit;
};

static void on_child(void *ctx, const struct procconn_event *e)
{
    struct watch *w = ctx;
    if (e->pid != w->child)
        return;
    w->fork += e->kind == PROCCONN_FORK;
    w->exec += e->kind == PROCCONN_EXEC;
    w->comm += e->kind == PROCCONN_COMM;
    w->exit += e->kind == PROCCONN_EXIT;
}

static void *thread_main(void *arg)
{
    return arg;
}

/* The datagrams waiting: each to the parser; counts those about a thread of `tgid`, which the
 * filter should have kept away (a fork with child pid != tgid, or an exit with pid != tgid). */
static int drain_raw(int fd, struct watch *w, pid_t tgid)
{
    unsigned char d[512];
    int threads = 0;
    ssize_t n;
    while ((n = recv(fd, d, sizeof(d), MSG_DONTWAIT)) > 0) {
        (void)procconn_parse(d, (size_t)n, on_child, w);
        uint32_t what;
        int32_t a[4];
        if ((size_t)n < AT_DATA + sizeof(a))
            continue;
        memcpy(&what, d + AT_EVENT, 4);
        memcpy(a, d + AT_DATA, sizeof(a));
        threads += what == PROC_EVENT_FORK && a[3] == tgid && a[2] != tgid;
        threads += what == PROC_EVENT_EXIT && a[1] == tgid && a[0] != tgid;
    }
    return threads;
}

static void live_subscription(void **state)
{
    (void)state;
    const char *why;
    int fd = procconn_open(1000, &why);
    if (fd < 0) {
        /* the reason must be one of those the agent logs */
        assert_non_null(why);
        printf("# proc connector not usable here: %s\n", why);
        skip();
    }
    struct watch w = {0};
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        prctl(PR_SET_NAME, "owl-renamed");
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    w.child = c;
    int st;
    assert_int_equal(waitpid(c, &st, 0), c);
    /* a thread of this process: its fork and exit are filtered out in the kernel */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* every event of the child, whatever else the machine is doing */
    int threads = 0;
    for (int i = 0; i < 50 && !(w.fork && w.comm && w.exec && w.exit); i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0)
            threads += drain_raw(fd, &w, getpid());
    }
    /* the thread's events, had they passed, were sent before the child's last ones were read */
    for (int i = 0; i < 3; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0)
            threads += drain_raw(fd, &w, getpid());
    }
    close(fd);
    assert_int_equal(w.fork, 1);
    assert_int_equal(w.comm, 1);
    assert_int_equal(w.exec, 1);
    assert_int_equal(w.exit, 1);
    assert_int_equal(threads, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_events),
        cmocka_unit_test(parse_refuses_broken_messages),
        cmocka_unit_test(filter_keeps_what_the_parser_keeps),
        cmocka_unit_test(live_subscription),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
