/*
 * taskstats' answers, built as kernel/taskstats.c sends them (a netlink header, a genetlink
 * header, TASKSTATS_TYPE_AGGR_PID holding the PID, a TASKSTATS_TYPE_NULL pad and the struct
 * taskstats): the name, parent and uid read; an older kernel's shorter struct read; a refusal
 * (the process is gone) told by its sequence number; acknowledgements and other families left
 * alone; truncated or inconsistent answers refused. Then, where this process may ask
 * (CAP_NET_ADMIN, the initial network namespace), real answers against /proc: a renamed child
 * with its parent and uid, a reaped one refused, and more PIDs than one send carries.
 */
#include "testlib.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/taskstats.h"

#define FAMILY 31

static size_t put_attr(unsigned char *buf, size_t at, uint16_t type, const void *v, size_t len)
{
    struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
    memcpy(buf + at, &a, sizeof(a));
    if (len)
        memcpy(buf + at + NLA_HDRLEN, v, len);
    return at + NLA_ALIGN(a.nla_len);
}

/* An answer about `pid` with the first `stats_len` bytes of a struct taskstats. */
static size_t build_answer(unsigned char *buf, uint32_t seq, uint32_t pid, const char *comm,
                           uint32_t ppid, uint32_t uid, size_t stats_len)
{
    struct taskstats ts = {.version = TASKSTATS_VERSION, .ac_pid = pid, .ac_ppid = ppid,
                           .ac_uid = uid};
    strncpy(ts.ac_comm, comm, sizeof(ts.ac_comm) - 1);
    memset(buf, 0, 4096);
    size_t at = NLMSG_HDRLEN;
    struct genlmsghdr g = {.cmd = TASKSTATS_CMD_NEW, .version = 1};
    memcpy(buf + at, &g, sizeof(g));
    at += GENL_HDRLEN;
    size_t nest = at;
    at += NLA_HDRLEN;
    at = put_attr(buf, at, TASKSTATS_TYPE_PID, &pid, sizeof(pid));
    at = put_attr(buf, at, TASKSTATS_TYPE_NULL, NULL, 0);
    at = put_attr(buf, at, TASKSTATS_TYPE_STATS, &ts, stats_len);
    struct nlattr n = {.nla_len = (uint16_t)(at - nest), .nla_type = TASKSTATS_TYPE_AGGR_PID};
    memcpy(buf + nest, &n, sizeof(n));
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)at, .nlmsg_type = FAMILY, .nlmsg_seq = seq};
    memcpy(buf, &h, sizeof(h));
    return at;
}

static size_t build_error(unsigned char *buf, uint32_t seq, int err)
{
    struct nlmsghdr h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)),
                         .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = seq};
    struct nlmsgerr e = {.error = err};
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + NLMSG_HDRLEN, &e, sizeof(e));
    return h.nlmsg_len;
}

static void parse_answers(void **state)
{
    (void)state;
    unsigned char buf[4096];
    struct taskstats_name t;
    uint32_t seq;
    size_t n = build_answer(buf, 7, 4242, "owl-answer", 17, 1000, sizeof(struct taskstats));
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 1);
    assert_int_equal(seq, 7);
    assert_int_equal(t.err, 0);
    assert_int_equal(t.pid, 4242);
    assert_int_equal(t.ppid, 17);
    assert_int_equal(t.uid, 1000);
    assert_string_equal(t.comm, "owl-answer");
    /* a full TASK_COMM_LEN name (15 bytes) is kept whole */
    n = build_answer(buf, 8, 1, "fifteen-bytes-x", 0, 0, sizeof(struct taskstats));
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 1);
    assert_string_equal(t.comm, "fifteen-bytes-x");
    /* version 1's struct ends after ac_ppid's neighbours: what is read is there */
    size_t v1 = offsetof(struct taskstats, ac_ppid) + sizeof(uint32_t);
    n = build_answer(buf, 9, 99, "old", 1, 0, v1);
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 1);
    assert_int_equal(t.pid, 99);
    assert_int_equal(t.ppid, 1);
    assert_string_equal(t.comm, "old");
}

static void parse_refusals_and_others(void **state)
{
    (void)state;
    unsigned char buf[4096];
    struct taskstats_name t;
    uint32_t seq;
    size_t n = build_error(buf, 12, -ESRCH);
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 1);
    assert_int_equal(seq, 12);
    assert_int_equal(t.err, ESRCH);
    assert_int_equal(t.pid, 0);
    n = build_error(buf, 13, -EPERM);
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 1);
    assert_int_equal(t.err, EPERM);
    /* an acknowledgement, and another family's message: not answers */
    n = build_error(buf, 14, 0);
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), 0);
    n = build_answer(buf, 15, 1, "x", 0, 0, sizeof(struct taskstats));
    assert_int_equal(taskstats_parse(buf, n, FAMILY + 1, &t, &seq), 0);
}

static void parse_refuses_broken_answers(void **state)
{
    (void)state;
    unsigned char buf[4096];
    struct taskstats_name t;
    uint32_t seq;
    size_t n = build_answer(buf, 1, 4242, "owl", 17, 0, sizeof(struct taskstats));
    /* cut anywhere: the header's length says more than there is */
    for (size_t cut = 0; cut < n; cut += 7)
        assert_int_equal(taskstats_parse(buf, cut, FAMILY, &t, &seq), -EBADMSG);
    /* the struct too short for the parent */
    n = build_answer(buf, 1, 4242, "owl", 17, 0, offsetof(struct taskstats, ac_ppid));
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), -EBADMSG);
    /* an attribute whose length runs past the message */
    n = build_answer(buf, 1, 4242, "owl", 17, 0, sizeof(struct taskstats));
    struct nlattr a;
    size_t nest = NLMSG_HDRLEN + GENL_HDRLEN;
    memcpy(&a, buf + nest, sizeof(a));
    a.nla_len = (uint16_t)(n - nest + 8);
    memcpy(buf + nest, &a, sizeof(a));
    assert_int_equal(taskstats_parse(buf, n, FAMILY, &t, &seq), -EBADMSG);
    /* no struct at all: an answer without what was asked */
    memset(buf, 0, sizeof(buf));
    size_t at = NLMSG_HDRLEN + GENL_HDRLEN;
    size_t start = at;
    at += NLA_HDRLEN;
    uint32_t pid = 5;
    at = put_attr(buf, at, TASKSTATS_TYPE_PID, &pid, sizeof(pid));
    struct nlattr nn = {.nla_len = (uint16_t)(at - start), .nla_type = TASKSTATS_TYPE_AGGR_PID};
    memcpy(buf + start, &nn, sizeof(nn));
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)at, .nlmsg_type = FAMILY};
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(taskstats_parse(buf, at, FAMILY, &t, &seq), -EBADMSG);
}

/* /proc/PID/stat's name (field 2) and parent (field 4), /proc/PID/status's real uid */
static void proc_truth(pid_t pid, char *comm, size_t len, pid_t *ppid, unsigned *uid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    assert_true(open && close && (size_t)(close - open - 1) < len);
    memcpy(comm, open + 1, (size_t)(close - open - 1));
    comm[close - open - 1] = '\0';
    char state;
    int pp;
    assert_int_equal(sscanf(close + 2, "%c %d", &state, &pp), 2);
    *ppid = pp;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    assert_non_null(f);
    *uid = ~0u;
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "Uid: %u", uid) == 1)
            break;
    fclose(f);
}

static void live_answers(void **state)
{
    (void)state;
    struct taskstats_conn c;
    const char *why = NULL;
    if (taskstats_open(&c, &why) < 0) {
        assert_non_null(why);
        printf("# taskstats not usable here: %s\n", why);
        skip();
    }
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(go[1]);
        prctl(PR_SET_NAME, "owl-tstats");
        char b;
        (void)read(go[0], &b, 1);
        _exit(0);
    }
    close(go[0]);
    pid_t gone = fork();
    assert_true(gone >= 0);
    if (gone == 0)
        _exit(0);
    assert_int_equal(waitpid(gone, NULL, 0), gone);
    /* the child has renamed itself once its name reads so */
    char comm[64] = "";
    pid_t ppid;
    unsigned uid;
    for (int i = 0; i < 200 && strcmp(comm, "owl-tstats") != 0; i++) {
        proc_truth(child, comm, sizeof(comm), &ppid, &uid);
        usleep(10000);
    }
    assert_string_equal(comm, "owl-tstats");
    /* more than one send's worth: the child, the reaped one and this process, 40 PIDs */
    pid_t pids[40];
    struct taskstats_name out[40];
    for (size_t i = 0; i < 40; i++)
        pids[i] = i % 3 == 0 ? child : i % 3 == 1 ? gone : getpid();
    assert_int_equal(taskstats_names(&c, pids, 40, out), 0);
    char self_comm[64];
    pid_t self_ppid;
    unsigned self_uid;
    proc_truth(getpid(), self_comm, sizeof(self_comm), &self_ppid, &self_uid);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(out[i].pid, pids[i]);
        if (pids[i] == gone) {
            assert_int_equal(out[i].err, ESRCH);
            continue;
        }
        assert_int_equal(out[i].err, 0);
        if (pids[i] == child) {
            assert_string_equal(out[i].comm, comm);
            assert_int_equal(out[i].ppid, ppid);
            assert_int_equal(out[i].uid, uid);
        } else {
            assert_string_equal(out[i].comm, self_comm);
            assert_int_equal(out[i].ppid, self_ppid);
            assert_int_equal(out[i].uid, self_uid);
        }
    }
    close(go[1]);
    assert_int_equal(waitpid(child, NULL, 0), child);
    taskstats_close(&c);
    assert_int_equal(c.fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_answers),
        cmocka_unit_test(parse_refusals_and_others),
        cmocka_unit_test(parse_refuses_broken_answers),
        cmocka_unit_test(live_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
