/*
 * The kernel-log layers of explain: /dev/kmsg records, pasted-line forms, and the OOM report
 * parser on the forms the corpus (tests/fixtures/oomlog, checked by tests/cli) has no real
 * sample of. Those inputs are written from the kernel's format strings (mm/oom_kill.c,
 * mm/memcontrol.c; reference/kernel-oom-facts.md §2.3), each named with the version printing it.
 */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/opt.h"
#include "model/log/journal.h"
#include "model/log/kmsg.h"
#include "model/log/logsource.h"
#include "model/log/line/logline.h"
#include "model/log/line/logtime.h"
#include "model/log/oomlog.h"

/* ------------------------------------------------------------------------------------------ */
/* /dev/kmsg */

static void kmsg_record(void **state)
{
    (void)state;
    const char rec[] = "6,1234,5864708440,-,caller=T123;hello \\x5c world\n SUBSYSTEM=pci\n";
    struct kmsg_record r;
    assert_int_equal(kmsg_record_parse(rec, strlen(rec), &r), 0);
    assert_int_equal(r.facility, 0);
    assert_int_equal(r.level, 6);
    assert_int_equal(r.seq, 1234);
    assert_int_equal(r.usec, 5864708440ull);
    assert_int_equal(r.caller_tid, 123);
    assert_int_equal(r.caller_cpu, -1);
    assert_false(r.cont);
    assert_span_equal(r.text, "hello \\x5c world");
    assert_span_equal(r.dict, " SUBSYSTEM=pci\n");

    /* userspace writes to /dev/kmsg get facility LOG_USER; unknown fields are skipped */
    const char user[] = "12,5,100,c,newfield=1,caller=C3;from userspace\n";
    assert_int_equal(kmsg_record_parse(user, strlen(user), &r), 0);
    assert_int_equal(r.facility, 1);
    assert_int_equal(r.level, 4);
    assert_true(r.cont);
    assert_int_equal(r.caller_cpu, 3);
    assert_span_equal(r.text, "from userspace");

    const char *bad[] = {"",          "6",         "6,",       "6,1,2",      "6,1,2,-",
                         "a,1,2,-;x", "6,1,x,-;x", "6,1,2,;x", "6,1,2,-\n;x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kmsg_record_parse(bad[i], strlen(bad[i]), &r), -EINVAL);
}

static void kmsg_unescaping(void **state)
{
    (void)state;
    const char in[] = "anon 1\\x0afile 2\\x5cx\\xzz\\x4";
    char out[64];
    size_t n = kmsg_unescape(in, strlen(in), out);
    assert_int_equal(n, strlen("anon 1\nfile 2\\x\\xzz\\x4"));
    assert_memory_equal(out, "anon 1\nfile 2\\x\\xzz\\x4", n);
}

/* The reader on a SOCK_SEQPACKET socket, which keeps record boundaries as /dev/kmsg does: one
 * read() per record, EAGAIN at the end, a sequence gap counted as lost records, a malformed
 * record skipped. */
static void kmsg_reader_records(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    const char *recs[] = {"6,10,1000,-;first\n", "garbage\n", "6,11,1001,-;second\n",
                          "6,15,1002,-;after a gap of 3\n"};
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
        assert_int_equal(write(sv[1], recs[i], strlen(recs[i])), (ssize_t)strlen(recs[i]));
    struct kmsg_reader *r = malloc(sizeof(*r));
    assert_non_null(r);
    kmsg_reader_from_fd(r, sv[0]);
    struct kmsg_record rec;
    assert_int_equal(kmsg_reader_next(r, &rec), 1);
    assert_span_equal(rec.text, "first");
    assert_int_equal(kmsg_reader_next(r, &rec), 1);
    assert_span_equal(rec.text, "second");
    assert_int_equal(kmsg_reader_next(r, &rec), 1);
    assert_int_equal(rec.seq, 15);
    assert_int_equal(kmsg_reader_next(r, &rec), 0); /* EAGAIN */
    assert_int_equal(r->records, 3);
    assert_int_equal(r->malformed, 1);
    assert_int_equal(r->lost, 3);
    kmsg_reader_close(r);
    free(r);
    close(sv[1]);
}

/* ------------------------------------------------------------------------------------------ */
/* pasted line forms */

struct form {
    const char *line;
    enum logline_source source;
    const char *time;
    uint64_t uptime;
    const char *text;
};

static void line_forms(void **state)
{
    (void)state;
    static const struct form forms[] = {
        {"[ 5864.708440] Killed process 1", LOGLINE_KERNEL, "", 5864708440ull, "Killed process 1"},
        {"[   37.052923][ T9185] a.out invoked", LOGLINE_KERNEL, "", 37052923ull, "a.out invoked"},
        {"[ 4521.88] x", LOGLINE_KERNEL, "", 4521880000ull, "x"},
        {"[Thu May 14 23:17:24 2020] x", LOGLINE_KERNEL, "Thu May 14 23:17:24 2020", OPT_ABSENT,
         "x"},
        {"[Do Mai 14 23:17:24 2020] x", LOGLINE_KERNEL, "Do Mai 14 23:17:24 2020", OPT_ABSENT, "x"},
        {"[jeu. mai 14 23:17:24 2020] x", LOGLINE_KERNEL, "jeu. mai 14 23:17:24 2020", OPT_ABSENT,
         "x"},
        /* dmesg -H (reltime): the minute on its first message, then seconds since the one before */
        {"[Dec 7 10:00] a invoked", LOGLINE_KERNEL, "Dec 7 10:00", OPT_ABSENT, "a invoked"},
        {"[Dec17 10:00] x", LOGLINE_KERNEL, "Dec17 10:00", OPT_ABSENT, "x"},
        {"[  +0.000010] a invoked", LOGLINE_KERNEL, "", OPT_ABSENT, "a invoked"},
        {"Jan  5 15:19:27 kernel: [ 5864.708440] x", LOGLINE_KERNEL, "Jan  5 15:19:27",
         5864708440ull, "x"},
        {"Jul 13 11:45:20 rt.pln.example kernel: x", LOGLINE_KERNEL, "Jul 13 11:45:20", OPT_ABSENT,
         "x"},
        {"Jul 13 11:45:20.123456 host kernel: x", LOGLINE_KERNEL, "Jul 13 11:45:20.123456",
         OPT_ABSENT, "x"},
        {"2022-07-13T11:45:20+0300 host kernel: x", LOGLINE_KERNEL, "2022-07-13T11:45:20+0300",
         OPT_ABSENT, "x"},
        {"2024-01-02T03:04:05.123456+00:00 host kernel: [  1.5] x", LOGLINE_KERNEL,
         "2024-01-02T03:04:05.123456+00:00", 1500000ull, "x"},
        {"2024-01-02T03:04:05,123456+00:00 x y", LOGLINE_KERNEL, "2024-01-02T03:04:05,123456+00:00",
         OPT_ABSENT, "x y"},
        {"kern  :warn  : [  617.319540] x", LOGLINE_KERNEL, "", 617319540ull, "x"},
        {"daemon:info  : x", LOGLINE_USER, "", OPT_ABSENT, "x"},
        {"<4>[    1.000000] x", LOGLINE_KERNEL, "", 1000000ull, "x"},
        {"<30>x", LOGLINE_USER, "", OPT_ABSENT, "x"},
        /* a hypervisor's log of its guest's console, the printk level kept (VMware vmware.log) */
        {"2023-12-04T10:49:30.127Z In(05) vcpu-5 - Guest: <3>[39291577.009543] x", LOGLINE_KERNEL,
         "2023-12-04T10:49:30.127Z", 39291577009543ull, "x"},
        {"2023-12-04T10:49:30.127Z <6>[ 1.5] x", LOGLINE_KERNEL, "2023-12-04T10:49:30.127Z",
         1500000ull, "x"},
        /* RFC 5424: the APP-NAME says whose; structured data with an escaped ']' */
        {"<4>1 2023-12-07T08:00:00.123456+00:00 node1 kernel - - - x", LOGLINE_KERNEL,
         "2023-12-07T08:00:00.123456+00:00", OPT_ABSENT, "x"},
        {"<3>1 2023-12-07T08:00:00Z node1 kernel - - [m a=\"b\\]c\"][n] [  1.5] x", LOGLINE_KERNEL,
         "2023-12-07T08:00:00Z", 1500000ull, "x"},
        {"<3>1 - - kernel - - - \xef\xbb\xbfx", LOGLINE_KERNEL, "", OPT_ABSENT, "x"},
        {"<30>1 2023-12-07T08:00:00Z node1 systemd 1 - - Killed process 1 (a)", LOGLINE_USER,
         "2023-12-07T08:00:00Z", OPT_ABSENT, "Killed process 1 (a)"},
        {"<11>1 2023-12-07T08:00:00Z node1 kernel 1 - - x", LOGLINE_USER, "2023-12-07T08:00:00Z",
         OPT_ABSENT, "x"},
        /* journalctl -o short-full / with-unit, short-unix, short-delta (systemd 252's own) */
        {"Mon 2026-12-07 07:03:17 UTC node kernel: x", LOGLINE_KERNEL,
         "Mon 2026-12-07 07:03:17 UTC", OPT_ABSENT, "x"},
        {"Mon 2026-12-07 07:03:17 UTC node systemd[1]: x", LOGLINE_USER,
         "Mon 2026-12-07 07:03:17 UTC", OPT_ABSENT, "x"},
        {"1796626997.429044 node kernel: x", LOGLINE_KERNEL, "1796626997.429044", OPT_ABSENT, "x"},
        {"[  109.978501 <    0.017306 >] node kernel: x", LOGLINE_KERNEL, "", 109978501ull, "x"},
        {"[    0.000000                ] node kernel: x", LOGLINE_KERNEL, "", 0ull, "x"},
        /* RFC 3164 as busybox syslogd -R sends it */
        {"<4>Dec  7 06:53:30 kernel: [   89.833710] x", LOGLINE_KERNEL, "Dec  7 06:53:30",
         89833710ull, "x"},
        {"> [ 1.5] x\r", LOGLINE_KERNEL, "", 1500000ull, "x"},
        {">> > [ 1.5] x", LOGLINE_KERNEL, "", 1500000ull, "x"},
        {"    [ 1.5] x", LOGLINE_KERNEL, "", 1500000ull, "x"},
        {"[ 12.3] host kernel: x", LOGLINE_KERNEL, "", 12300000ull, "x"},
        {"6,1234,5864708440,-;foo\\x0abar", LOGLINE_KERNEL, "", 5864708440ull, "foo\\x0abar"},
        {"12,1,2,-;user", LOGLINE_USER, "", 2ull, "user"},
        {"May 19 18:14:43 aks node-problem-detector-startup.sh[4208]: Message:Memory cgroup out "
         "of memory: Killed process 7788 (bash)",
         LOGLINE_USER, "May 19 18:14:43", OPT_ABSENT,
         "Message:Memory cgroup out of memory: Killed process 7788 (bash)"},
        {"Jan  5 15:20:01 /usr/bin/lock: called by /bin/bash", LOGLINE_USER, "Jan  5 15:20:01",
         OPT_ABSENT, "called by /bin/bash"},
        {"Killed", LOGLINE_BARE, "", OPT_ABSENT, "Killed"},
        {"[ pid ]   uid  tgid total_vm", LOGLINE_BARE, "", OPT_ABSENT,
         "[ pid ]   uid  tgid total_vm"},
        {"[13536] 275858 13536 x", LOGLINE_BARE, "", OPT_ABSENT, "[13536] 275858 13536 x"},
        {"Node 0 DMA: 0*4kB", LOGLINE_BARE, "", OPT_ABSENT, "Node 0 DMA: 0*4kB"},
        {"Out of memory: Killed process 2 (a)", LOGLINE_BARE, "", OPT_ABSENT,
         "Out of memory: Killed process 2 (a)"},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        const struct form *f = &forms[i];
        struct logline_ctx ctx = {0};
        struct logline l;
        logline_parse(&ctx, f->line, strlen(f->line), &l);
        if (l.source != f->source || l.uptime_us != f->uptime || l.text.n != strlen(f->text))
            print_message("# %s\n", f->line);
        assert_int_equal(l.source, f->source);
        assert_span_equal(l.time, f->time);
        assert_int_equal(l.uptime_us, f->uptime);
        assert_span_equal(l.text, f->text);
        assert_false(l.elision);
    }
}

static void line_context(void **state)
{
    (void)state;
    struct logline_ctx ctx = {0};
    struct logline l;
    /* journalctl indents the continuation lines of a multi-line record */
    const char *user = "Jul 13 11:45:20 host containerd[12]: msg=\"a\"";
    logline_parse(&ctx, user, strlen(user), &l);
    assert_int_equal(l.source, LOGLINE_USER);
    logline_parse(&ctx, "    Killed process 1 (x)", 24, &l);
    assert_int_equal(l.source, LOGLINE_USER);
    const char *kern = "Jul 13 11:45:20 host kernel: active_anon:1 inactive_anon:2";
    logline_parse(&ctx, kern, strlen(kern), &l);
    assert_int_equal(l.source, LOGLINE_KERNEL);
    logline_parse(&ctx, "     active_file:3", 18, &l);
    assert_int_equal(l.source, LOGLINE_BARE);
    assert_span_equal(l.text, "active_file:3");
    /* a raw record's dictionary lines are not messages */
    logline_parse(&ctx, "6,1,2,-;x", 9, &l);
    logline_parse(&ctx, " SUBSYSTEM=pci", 14, &l);
    assert_int_equal(l.source, LOGLINE_USER);

    const char *marks[] = {"<SNIP>",       "[...]",      "(...snipped...)", "......",
                           "\xe2\x80\xa6", "-- snip --", "[ 12.5] ...",     "  [ cut ]  "};
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        logline_parse(&ctx, marks[i], strlen(marks[i]), &l);
        if (!l.elision)
            print_message("# %s\n", marks[i]);
        assert_true(l.elision);
    }
    const char *not_marks[] = {"----------", "Killed", "...x", "[ 1.0] Call Trace:"};
    for (size_t i = 0; i < sizeof(not_marks) / sizeof(not_marks[0]); i++) {
        logline_parse(&ctx, not_marks[i], strlen(not_marks[i]), &l);
        assert_false(l.elision);
    }
}

static void grep_commands(void **state)
{
    (void)state;
    char pat[64];
    bool icase;
    struct {
        const char *cmd, *pattern;
        bool icase;
    } ok[] = {
        {"journalctl -k | grep stackoverflow", "stackoverflow", false},
        {"$ dmesg | grep -i 'killed process'", "killed process", true},
        {"dmesg -T|grep -F \"oom\"", "oom", false},
        {"# cat /var/log/syslog | grep --ignore-case -e Kill", "Kill", true},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct span s = {ok[i].cmd, strlen(ok[i].cmd)};
        assert_true(logline_grep_command(s, pat, sizeof(pat), &icase));
        assert_string_equal(pat, ok[i].pattern);
        assert_int_equal(icase, ok[i].icase);
    }
    const char *no[] = {"dmesg | grep -E 'a|b'", "dmesg | grep foo | tail", "grep foo /var/log/x",
                        "dmesg | grep -v foo",   "dmesg | grep 'a.*b'",     "dmesg | grep",
                        "dmesg | grepx foo",     "dmesg | grep -A 3 foo"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct span s = {no[i], strlen(no[i])};
        assert_false(logline_grep_command(s, pat, sizeof(pat), &icase));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* the parser */

static void feed(struct oomlog *p, const char *text)
{
    oomlog_init(p);
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        assert_int_equal(oomlog_feed_text(p, s, n), 0);
        s += n + (nl != NULL);
    }
    assert_int_equal(oomlog_finish(p), 0);
}

#define HDR61                                                                                      \
    "[  100.000000] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"

static void exiting_unreapable_and_allocating_task(void **state)
{
    (void)state;
    struct oomlog p;
    /* 6.x: the chosen task lost its mm before the kill */
    feed(&p, HDR61 "[  100.1] Memory cgroup out of memory: OOM victim 77 (exiting) is already "
                   "exiting. Skip killing the task\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].nvictims, 1);
    assert_int_equal(p.events[0].victims[0].kind, OOM_VICTIM_EXITING);
    assert_int_equal(p.events[0].victims[0].pid, 77);
    assert_string_equal(p.events[0].victims[0].comm, "exiting");
    assert_int_equal(p.events[0].scope, OOM_SCOPE_MEMCG);
    oomlog_release(&p);

    feed(&p, HDR61 "[  100.1] Out of memory (oom_kill_allocating_task): Killed process 5 (a) "
                   "total-vm:10kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB "
                   "oom_score_adj:0\n"
                   "[  101.2] oom_reaper: unable to reap pid:5 (a)\n");
    assert_int_equal(p.nevents, 1);
    const struct oom_victim *v = &p.events[0].victims[0];
    assert_string_equal(v->message, "Out of memory (oom_kill_allocating_task)");
    assert_int_equal(v->reaped, 0);
    assert_true(v->unable_to_reap);
    assert_false(v->reaped_inferred);
    oomlog_release(&p);
}

static void nothing_killable_and_panics(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, HDR61 "[  100.01] Mem-Info:\n"
                   "[  100.02] Out of memory and no killable processes...\n"
                   "[  100.03] Kernel panic - not syncing: System is deadlocked on memory\n");
    assert_int_equal(p.nevents, 1);
    assert_true(p.events[0].no_killable);
    assert_string_equal(p.events[0].panic, "deadlocked");
    assert_int_equal(p.events[0].nvictims, 0);
    oomlog_release(&p);

    /* vm.panic_on_oom=1: dump_header(oc, NULL), then panic; only CONSTRAINT_NONE gets here */
    feed(&p, HDR61 "[  100.01] Mem-Info:\n"
                   "[  100.03] Kernel panic - not syncing: Out of memory: system-wide "
                   "panic_on_oom is enabled\n");
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].panic, "system-wide");
    assert_int_equal(p.events[0].scope, OOM_SCOPE_GLOBAL);
    oomlog_release(&p);

    feed(&p, HDR61 "[  100.01] memory: usage 10kB, limit 10kB, failcnt 1\n"
                   "[  100.03] Kernel panic - not syncing: Out of memory: compulsory "
                   "panic_on_oom is enabled\n");
    assert_string_equal(p.events[0].panic, "compulsory");
    assert_int_equal(p.events[0].scope, OOM_SCOPE_MEMCG);
    oomlog_release(&p);
}

static void constraints(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, HDR61 "[  100.1] oom-kill:constraint=CONSTRAINT_CPUSET,nodemask=(null),cpuset=db,"
                   "mems_allowed=1,global_oom,task_memcg=/a,task=x,y,pid=9,uid=0\n");
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_int_equal(e->scope, OOM_SCOPE_CPUSET);
    assert_string_equal(e->cpuset, "db");
    assert_string_equal(e->mems_allowed, "1");
    assert_string_equal(e->summary_task, "x,y"); /* a comm may hold commas */
    assert_int_equal(e->summary_pid, 9);
    assert_true(e->global_oom);
    oomlog_release(&p);

    feed(&p, HDR61 "[  100.1] oom-kill:constraint=CONSTRAINT_MEMORY_POLICY,nodemask=0-1,3,cpuset=/,"
                   "mems_allowed=0-3,global_oom,task_memcg=/,task=x,pid=9,uid=0\n");
    assert_int_equal(p.events[0].scope, OOM_SCOPE_MEMPOLICY);
    assert_string_equal(p.events[0].nodemask, "0-1,3");
    oomlog_release(&p);

    /* 2.6.32 killed the allocating task for MPOL_BIND, with its own message */
    feed(&p, "No available memory (MPOL_BIND): kill process 12 (x) score 0 or a child\n"
             "Killed process 12 (x)\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].scope, OOM_SCOPE_MEMPOLICY);
    assert_int_equal(p.events[0].victims[0].kind, OOM_VICTIM_SELECTED);
    assert_int_equal(p.events[0].victims[0].score, 0);
    oomlog_release(&p);
}

static void header_forms(void **state)
{
    (void)state;
    struct oomlog p;
    /* 4.14: nodemask, and two spaces before order */
    feed(&p, "x y invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null),"
             "  order=3, oom_score_adj=-17\n"
             "CPU: 1 PID: 42 Comm: x y Not tainted 4.14.0-1 #1\n"
             "oom-killer: gfp_mask=0x201d2, order=0\n" /* <= 2.6.18: no comm */
             "z invoked oom-killer: gfp_mask=0xd0, order=0, oom_adj=-17, oom_score_adj=-1000\n"
             "CPU: 1 UID: 0 PID: 7 Comm: z Not tainted 6.18.1 #1 PREEMPT(none)\n"
             "w invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, oom_score_adj=0\n");
    assert_int_equal(p.nevents, 4);
    assert_string_equal(p.events[0].invoker_comm, "x y");
    assert_int_equal(p.events[0].invoker_pid, 42);
    assert_int_equal(p.events[0].order, 3);
    assert_string_equal(p.events[0].nodemask, "(null)");
    assert_string_equal(p.events[0].gfp_flags, "GFP_HIGHUSER_MOVABLE");
    assert_string_equal(p.events[0].kernel_release, "4.14.0-1");
    assert_int_equal(p.events[0].invoker_oom_score_adj, -17);
    assert_string_equal(p.events[1].invoker_comm, "");
    assert_int_equal(p.events[1].gfp_mask, 0x201d2);
    assert_int_equal(p.events[1].invoker_oom_score_adj, OPT_ABSENT_I64);
    assert_int_equal(p.events[2].invoker_oom_adj, -17);
    assert_int_equal(p.events[2].invoker_oom_score_adj, -1000);
    assert_int_equal(p.events[2].invoker_pid, 7);
    assert_string_equal(p.events[2].kernel_release, "6.18.1");
    assert_true(p.events[3].sysrq);
    oomlog_release(&p);
}

static void kill_forms(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p,
         "[ 1.0] Killed process 12 (x) vsz:100kB, anon-rss:10kB, file-rss:5kB\n" /* 2.6.33 */
         "[ 2.0] Killed process 13, UID 7, ((sd-pam)) total-vm:9kB, anon-rss:1kB, file-rss:2kB\n"
         "[ 3.0] Out of memory: Killed process 14 (a b) total-vm:1kB, anon-rss:1kB, "
         "file-rss:0kB, shmem-rss:3kB\n" /* 5.1 */
         "[ 4.0] Out of memory: Killed process 15 (c) total-vm:1kB, anon-rss:1kB, file-rss:0kB, "
         "shmem-rss:0kB, UID:1000 pgtables:48kB oom_score_adj:-5\n"); /* 5.4 */
    assert_int_equal(p.nevents, 4);
    assert_int_equal(p.events[0].victims[0].total_vm_kb, 100);
    assert_int_equal(p.events[0].victims[0].shmem_rss_kb, OPT_ABSENT);
    assert_string_equal(p.events[1].victims[0].comm, "(sd-pam)");
    assert_int_equal(p.events[1].victims[0].uid, 7);
    assert_string_equal(p.events[2].victims[0].comm, "a b");
    assert_int_equal(p.events[2].victims[0].shmem_rss_kb, 3);
    assert_int_equal(p.events[3].victims[0].oom_score_adj, -5);
    assert_int_equal(p.events[3].victims[0].pgtables_kb, 48);
    assert_int_equal(p.events[3].victims[0].uid, 1000);
    oomlog_release(&p);

    /* 4.x: the parent was chosen, a child killed */
    feed(&p,
         "[ 1.0] Out of memory: Kill process 10 (p) score 500 or sacrifice child\n"
         "[ 1.1] Killed process 11 (c) total-vm:8kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB\n"
         "[ 1.2] Kill process 12 (c) sharing same memory\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].selected_pid, 10);
    assert_int_equal(p.events[0].selected_score, 500);
    assert_int_equal(p.events[0].victims[0].kind, OOM_VICTIM_CHILD);
    assert_int_equal(p.events[0].victims[0].score, OPT_ABSENT_I64);
    assert_string_equal(p.events[0].victims[0].message, "Out of memory");
    assert_int_equal(p.events[0].victims[1].kind, OOM_VICTIM_SHARED_MM);
    oomlog_release(&p);
}

/* early 5.4.y printed page-table bytes with a kB suffix (fixed in 5.5) */
static void pgtables_in_bytes(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, "[ 1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
             "[ 1.1] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj "
             "name\n"
             "[ 1.1] [     10]     0    10     1741     1503    73728        0             0 a\n"
             "[ 1.2] Out of memory: Killed process 10 (a) total-vm:6964kB, anon-rss:5188kB, "
             "file-rss:824kB, shmem-rss:0kB, UID:0 pgtables:73728kB oom_score_adj:0\n");
    const struct oom_victim *v = &p.events[0].victims[0];
    assert_true(v->has_row);
    assert_int_equal(v->pgtables_kb, 72);
    assert_true(v->pgtables_were_bytes);
    assert_int_equal(p.events[0].page_kb, 4);
    oomlog_release(&p);
}

static void headerless_rows(void **state)
{
    (void)state;
    struct {
        const char *row;
        uint64_t rss, pgtables_bytes, nr_ptes, nr_pmds, rss_anon;
        int64_t cpu, adj;
    } rows[] = {
        {"[    794]     0   794     8794     8463     8160      303         0   102400        0    "
         "   "
         "      0 ow-probe",
         8463, 102400, OPT_ABSENT, OPT_ABSENT, 8160, OPT_ABSENT_I64, 0},
        {"[11344]     0 11344    97590    46185     113       5        0             0 main", 46185,
         OPT_ABSENT, 113, 5, OPT_ABSENT, OPT_ABSENT_I64, 0},
        {"[  72184]     0 72184   669223    65551  1593344    64989             0 go", 65551,
         1593344, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, 0},
        {"[13536] 275858 13536  8389663      343   16267  8324326             0 m", 343, OPT_ABSENT,
         16267, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, 0},
        {"[  470]     0   470      820      163   0       -17 sh", 163, OPT_ABSENT, OPT_ABSENT,
         OPT_ABSENT, OPT_ABSENT, 0, OPT_ABSENT_I64},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct oomlog p;
        char text[512];
        /* the name of the row's process asked, so its row is kept as the invoker's */
        const char *name = strrchr(rows[i].row, ' ') + 1;
        snprintf(text, sizeof(text),
                 "%s invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0\n"
                 "CPU: 0 PID: %.*s Comm: %s Not tainted 5.0 #1\n%s\n",
                 name, (int)(strchr(rows[i].row, ']') - rows[i].row - 1), rows[i].row + 1, name,
                 rows[i].row);
        /* "CPU: 0 PID:     794" parses with the blanks */
        feed(&p, text);
        if (p.nevents != 1 || !p.events[0].has_invoker_row)
            print_message("# %s\n", rows[i].row);
        assert_int_equal(p.nevents, 1);
        const struct oom_event *e = &p.events[0];
        assert_true(e->table_inferred);
        assert_true(e->has_invoker_row);
        assert_int_equal(e->invoker_row.rss, rows[i].rss);
        assert_int_equal(e->invoker_row.pgtables_bytes, rows[i].pgtables_bytes);
        assert_int_equal(e->invoker_row.nr_ptes, rows[i].nr_ptes);
        assert_int_equal(e->invoker_row.nr_pmds, rows[i].nr_pmds);
        assert_int_equal(e->invoker_row.rss_anon, rows[i].rss_anon);
        assert_int_equal(e->invoker_row.cpu, rows[i].cpu);
        assert_int_equal(e->invoker_row.oom_score_adj, rows[i].adj);
        oomlog_release(&p);
    }
}

/* 5.3-6.4: the memcg's memory.stat is one printk record; /dev/kmsg shows its newlines as \x0a */
static void kmsg_single_record_stats(void **state)
{
    (void)state;
    const char *recs[] = {
        "4,1,425561202382,-;tail invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
        "oom_score_adj=0\n",
        "4,2,425561203483,-;CPU: 1 PID: 2179683 Comm: tail Not tainted 6.1.132 #1\n",
        "6,3,425561222263,-;memory: usage 6144kB, limit 6144kB, failcnt 146\n",
        "6,4,425561223222,-;swap: usage 0kB, limit 6144kB, failcnt 0\n",
        "6,5,425561223865,-;Memory cgroup stats for /system.slice/docker-a.scope:\n",
        "6,6,425561223878,-;anon 5775360\\x0afile 0\\x0akernel 516096\\x0ashmem 0\\x0asock 0\\x0a"
        "slab 280752\\x0a\n",
        "6,7,425561238085,-;[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents "
        "oom_score_adj name\n",
        "6,8,425561240624,-;[2179683]     0 2179683     1741     1503    57344        0           "
        "  0 tail\n",
        "6,9,425561241449,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=docker-a."
        "scope,mems_allowed=0,oom_memcg=/system.slice/docker-a.scope,task_memcg=/system.slice/"
        "docker-a.scope,task=tail,pid=2179683,uid=0\n",
        "3,10,425561245090,-;Memory cgroup out of memory: Killed process 2179683 (tail) total-vm:"
        "6964kB, anon-rss:5188kB, file-rss:824kB, shmem-rss:0kB, UID:0 pgtables:56kB "
        "oom_score_adj:0\n",
        "12,11,425599000000,-;a userspace record written to /dev/kmsg\n",
    };
    struct oomlog p;
    oomlog_init(&p);
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        struct kmsg_record r;
        assert_int_equal(kmsg_record_parse(recs[i], strlen(recs[i]), &r), 0);
        assert_int_equal(oomlog_feed_kmsg(&p, &r), 0);
    }
    assert_int_equal(oomlog_finish(&p), 0);
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_int_equal(e->stat_anon, 5775360);
    assert_int_equal(e->stat_file, 0);
    assert_int_equal(e->stat_kernel, 516096);
    assert_int_equal(e->stat_slab, 280752);
    assert_int_equal(e->mem.failcnt, 146);
    assert_int_equal(e->swap.limit_kb, 6144);
    assert_int_equal(e->scope, OOM_SCOPE_MEMCG);
    assert_int_equal(e->uptime_us, 425561202382ull);
    assert_int_equal(e->victims[0].pid, 2179683);
    assert_true(e->victims[0].has_row);
    assert_int_equal(p.user_lines, 1);
    oomlog_release(&p);

    /* the same record as `cat /dev/kmsg` saved it, pasted into a file */
    feed(&p, "6,5,425561223865,-;Memory cgroup stats for /x:\n"
             "6,6,425561223878,-;anon 4096\\x0afile 8192\n"
             "3,10,425561245090,-;Memory cgroup out of memory: Killed process 1 (a) total-vm:1kB, "
             "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].stat_anon, 4096);
    assert_int_equal(p.events[0].stat_file, 8192);
    oomlog_release(&p);
}

static void wrapped_lines(void **state)
{
    (void)state;
    struct oomlog p;
    /* a summary line broken by a terminal, and a kill line broken twice */
    feed(&p, "[ 1.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,mems_allowed=0,"
             "oom_memcg=/a,\n"
             "task_memcg=/a/b,task=x,pid=5,uid=0\n"
             "[ 1.1] Memory cgroup out of memory: Killed process 5 (x)\n"
             "total-vm:10kB, anon-rss:8kB,\n"
             "file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
             "Killed\n");
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].task_memcg, "/a/b");
    assert_int_equal(p.events[0].summary_pid, 5);
    const struct oom_victim *v = &p.events[0].victims[0];
    assert_int_equal(v->total_vm_kb, 10);
    assert_int_equal(v->file_rss_kb, 1);
    assert_int_equal(v->oom_score_adj, 0);
    oomlog_release(&p);
}

/* A copy from a terminal that padded each broken line to a fixed column and put the rest after
 * the blanks on the same line (4.14, a Raspberry Pi's dmesg pasted into a GitHub issue): breaks
 * inside a kB unit, a field name and a flag are mended; a task-table row keeps its columns, and
 * a break at a blank keeps the words apart. */
static void padded_terminal_breaks(void **state)
{
    (void)state;
    struct oomlog p;
    char pad[131];
    memset(pad, ' ', 130);
    pad[130] = '\0';
    char text[4096];
    snprintf(text, sizeof(text),
             "[67690.815966] [ 4833]  1000  4833   264887   208319     501       0    16262%s"
             "0 python\n"
             "[67690.815971] Out of memory: Kill process 4833 (python) score 901 or sacrifice%s"
             "child\n"
             "[67690.815993] Killed process 4833 (python) total-vm:1059548kB, anon-rss:830480k%s"
             "B, file-rss:2796kB, shmem-rss:0kB\n"
             "[67691.011862] oom_reaper: reaped process 4833 (python), now anon-rss:0kB, file-%s"
             "rss:12kB, shmem-rss:0kB\n"
             "[69132.064690] python invoked oom-killer: gfp_mask=0x14080c0(GFP_KERNEL|__GFP_ZE%s"
             "RO), nodemask=(null),  order=2, oom_score_adj=-5\n",
             pad, pad, pad, pad, pad);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    const struct oom_event *e = &p.events[0];
    assert_int_equal(e->selected_score, 901);
    assert_int_equal(e->nvictims, 1);
    const struct oom_victim *v = &e->victims[0];
    assert_int_equal(v->anon_rss_kb, 830480);
    assert_int_equal(v->file_rss_kb, 2796);
    assert_int_equal(v->shmem_rss_kb, 0);
    assert_int_equal(v->reaped, 1);
    assert_int_equal(v->reaped_file_kb, 12);
    assert_true(v->has_row);
    assert_int_equal(v->row.oom_score_adj, 0);
    assert_int_equal(v->row.swapents, 16262);
    assert_int_equal(p.events[1].order, 2);
    assert_int_equal(p.events[1].invoker_oom_score_adj, -5);
    oomlog_release(&p);
}

/* A dmesg paste a terminal broke at its width, the continuations without a prefix (4.19 memcg
 * v1, kubedirector issue): the limit's path is mended because the limit is the task's memcg or
 * an ancestor of it; a kill line cut right after its '(' still names the victim's pid. */
static void wrapped_limit_and_cut_comm(void **state)
{
    (void)state;
    struct oomlog p;
    feed(
        &p,
        "[ 1.0] Task in /kubepods/pod95/0249 killed as a result of limit of /kubepo\n"
        "ds/pod95\n"
        "[ 1.0] memory: usage 524288kB, limit 524288kB, failcnt 0\n"
        "[ 1.0] Memory cgroup out of memory: Kill process 62685 (bash) score 0 or sacrifice child\n"
        "[ 1.0] Killed process 62769 (\n");
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_string_equal(e->task_memcg, "/kubepods/pod95/0249");
    assert_string_equal(e->oom_memcg, "/kubepods/pod95");
    assert_int_equal(e->nvictims, 1);
    assert_int_equal(e->victims[0].pid, 62769);
    assert_string_equal(e->victims[0].comm, "");
    assert_int_equal(e->victims[0].kind, OOM_VICTIM_CHILD);
    oomlog_release(&p);
    /* a limit that is the task's own memcg, not cut: the next bare line stays apart */
    feed(&p, "[ 1.0] Task in /a/b killed as a result of limit of /a\n"
             "rest of a note\n"
             "[ 1.0] Memory cgroup out of memory: Kill process 7 (x) score 1 or sacrifice child\n");
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].oom_memcg, "/a");
    oomlog_release(&p);
}

/* Records of a log store pasted among other text, read with the times they give: journalctl
 * -o verbose entries (quoted, filtered to their MESSAGE, a userspace one quoting a kill line) and
 * Google Cloud Logging entries whose kernel line is their textPayload (JSON, its timestamp after
 * it with objects between; the timestamp first; gcloud's YAML; an entry without a time). */
static void log_store_records_in_text(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p,
         "The kernel log:\n"
         "> Thu 2023-02-02 11:49:13.015489 CET [s=1d8f;i=a1;b=796d;m=1f67;"
         "t=5f3b550c118c1;x=e534]\n"
         ">     _TRANSPORT=kernel\n"
         ">     _SOURCE_MONOTONIC_TIMESTAMP=34503000000\n"
         ">     MESSAGE=Memory cgroup out of memory: Killed process 11 (tail) total-vm:4296kB,"
         " anon-rss:60kB, file-rss:516kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0\n"
         ">     _HOSTNAME=node\n"
         "> Thu 2023-02-02 12:00:00.000000 CET [s=1d8f;i=a2;b=796d;m=1f68;t=5f3b57a0c4c00;x=e5]\n"
         ">     _TRANSPORT=syslog\n"
         ">     MESSAGE=quoted: Killed process 99 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n"
         "then, filtered:\n"
         "Thu 2023-02-02 12:49:25.123048 CET [s=1d8f;i=a3;b=796d;m=1f69;t=5f3b6280d7be8;x=54]\n"
         "    MESSAGE=Memory cgroup out of memory: Killed process 12 (python3) total-vm:1kB, "
         "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0\n"
         "done\n");
    assert_int_equal(p.nevents, 2);
    assert_int_equal(p.events[0].victims[0].pid, 11);
    assert_string_equal(p.events[0].victims[0].message, "Memory cgroup out of memory");
    assert_string_equal(p.events[0].time, "2023-02-02T10:49:13.015489+00:00");
    assert_int_equal(p.events[0].victims[0].uptime_us, 34503000000ull);
    assert_int_equal(p.events[1].victims[0].pid, 12);
    assert_string_equal(p.events[1].victims[0].time, "2023-02-02T11:49:25.123048+00:00");
    oomlog_release(&p);

    feed(&p,
         "```json\n[\n  {\n"
         "    \"textPayload\": \"[195998.4] node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL),"
         " order=0, oom_score_adj=991\\r\\n\",\n"
         "    \"insertId\": \"7710\",\n"
         "    \"resource\": {\n      \"type\": \"gce_instance\",\n"
         "      \"labels\": {\n        \"zone\": \"europe-west2-c\"\n      }\n    },\n"
         "    \"timestamp\": \"2023-03-15T15:50:35.927515678Z\",\n"
         "    \"receiveTimestamp\": \"2023-03-15T15:50:37.933070466Z\"\n  },\n  {\n"
         "    \"timestamp\": \"2023-03-15T15:50:36.1Z\",\n"
         "    \"textPayload\": \"[195998.5] Out of memory: Killed process 7 (node) total-vm:"
         "9kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB "
         "oom_score_adj:991\\r\\n\"\n  },\n"
         "  {\n    \"textPayload\": \"[196000.0] Out of memory: Killed process 8 (x) total-vm:"
         "9kB, anon-rss:5kB, file-rss:0kB\",\n    \"severity\": \"INFO\"\n  }\n]\n```\n"
         "---\n"
         "insertId: '7810'\n"
         "receiveTimestamp: '2023-03-15T16:00:02.0Z'\n"
         "textPayload: \"[196120.7] Out of memory: Killed process 9 (y) total-vm:9kB, "
         "anon-rss:5kB, file-rss:0kB\\r\\n\"\n"
         "timestamp: '2023-03-15T16:00:01.5Z'\n");
    assert_int_equal(p.nevents, 3);
    assert_string_equal(p.events[0].time, "2023-03-15T15:50:35.927515678Z");
    assert_int_equal(p.events[0].victims[0].pid, 7);
    assert_string_equal(p.events[0].victims[0].time, "2023-03-15T15:50:36.1Z");
    assert_int_equal(p.events[1].victims[0].pid, 8);
    assert_string_equal(p.events[1].victims[0].time, "");
    assert_int_equal(p.events[2].victims[0].pid, 9);
    assert_string_equal(p.events[2].victims[0].time, "2023-03-15T16:00:01.5Z");
    oomlog_release(&p);
}

/* A task name with a blank in it (Firefox's "Web Content", "Isolated Web Co") broken across
 * lines at that blank by a mailer or a reflow: the blank is put back; a terminal's break at its
 * edge inside a word is joined without one, as is a break after a '/' ("kworker/" + "u8:0"). */
static void wrapped_comm_with_blank(void **state)
{
    (void)state;
    static const struct {
        const char *text, *comm;
        int64_t pid;
    } cases[] = {
        /* mail-wrapped: short lines, the blank eaten */
        {"[ 5.0] Out of memory: Killed process 1234 (Web\nContent) total-vm:3028kB, anon-rss:"
         "1000kB, file-rss:4kB, shmem-rss:0kB, UID:1000 pgtables:44kB oom_score_adj:0\n",
         "Web Content", 1234},
        {"Jan  5 15:19:27 host kernel: Out of memory: Killed process 77 (Isolated Web\n"
         "Co) total-vm:3028kB, anon-rss:1000kB, file-rss:4kB, shmem-rss:0kB, UID:1000 "
         "pgtables:44kB oom_score_adj:0\n",
         "Isolated Web Co", 77},
        {"> [ 5.0] Killed process 9 (GPU\n> Process) total-vm:3028kB, anon-rss:1000kB, "
         "file-rss:4kB, shmem-rss:0kB\n",
         "GPU Process", 9},
        /* the blank kept at the end of the first line, or at the start of the next */
        {"[ 5.0] Out of memory: Killed process 5 (Web \nContent) total-vm:3028kB, anon-rss:1kB, "
         "file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:44kB oom_score_adj:0\n",
         "Web Content", 5},
        {"[ 5.0] Out of memory: Killed process 6 (Web\n   Content) total-vm:3028kB, anon-rss:1kB, "
         "file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:44kB oom_score_adj:0\n",
         "Web Content", 6},
        /* no blank after a '/' */
        {"[ 5.0] Out of memory: Killed process 8 (kworker/\nu8:0) total-vm:3028kB, anon-rss:1kB, "
         "file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:44kB oom_score_adj:0\n",
         "kworker/u8:0", 8},
        /* a terminal 60 wide: every long line broken at column 60, inside the word too */
        {"[ 5864.708440] Web Content invoked oom-killer: gfp_mask=0x100\n"
         "cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0\n"
         "[ 5864.708550] Out of memory: Killed process 4 (Web Content\n"
         ") total-vm:3028kB, anon-rss:1000kB, file-rss:4kB, shmem-rss\n"
         ":0kB, UID:1000 pgtables:44kB oom_score_adj:0\n"
         "[ 5864.708550] Out of memory: Killed process 3 (Web Conten\n"
         "t) total-vm:3028kB, anon-rss:1000kB, file-rss:4kB, shmem-rss\n",
         "Web Content", 4},
        /* one 92 wide, the break at its edge inside the name */
        {"Jan  5 15:19:27 some-host-with-a-long-name kernel: [ 5864.708440] eth0: link is up, "
         "1000 Mb\nps full\n"
         "Jan  5 15:19:27 some-host-with-a-long-name kernel: [ 5864.708550] Killed process 2 (Web"
         " Cont\nent) total-vm:3028kB, anon-rss:1000kB, file-rss:4kB, shmem-rss:0kB\n",
         "Web Content", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oomlog p;
        print_message("# %zu\n", i);
        feed(&p, cases[i].text);
        assert_true(p.nevents >= 1);
        const struct oom_event *e = &p.events[0];
        assert_int_equal(e->nvictims, 1);
        assert_int_equal(e->victims[0].pid, cases[i].pid);
        assert_string_equal(e->victims[0].comm, cases[i].comm);
        assert_int_equal(e->victims[0].total_vm_kb, 3028);
        assert_true(e->victims[0].line_rejoined);
        oomlog_release(&p);
    }
}

/* A v1 memcg's one-line stats (<= 5.2) that a terminal or a mailer broke: the fields after the
 * break are read, the break falling between fields, inside a key, inside a number or before its
 * unit; a field that got a line and a stamp of its own (pr_cont after another CPU's message) is
 * read too; a bare line of other words after it gives no field. */
static void wrapped_memcg_v1_stats(void **state)
{
    (void)state;
    static const char *breaks[] = {
        "cache:1024KB rss:101|376KB rss_huge:0KB mapped_file:4KB swap:2048KB shmem:512KB",
        "cache:1024KB|rss:101376KB rss_huge:0KB mapped_file:4KB swap:2048KB shmem:512KB",
        "cache:1024KB rss:101376KB rss_huge:0KB mapped_file:4KB sw|ap:2048KB shmem:512KB",
        "cache:1024KB rss:101376KB rss_huge:0KB mapped_file:4KB swap:2048K|B shmem:512KB",
        "cache:10|24KB rss:101376KB rss_huge:0KB mapped_file:4KB swap:2048KB| shmem:512KB",
        "cache:1024KB rss:101376KB rss_huge:0KB|[ 5.1] mapped_file:4KB swap:2048KB shmem:512KB",
    };
    for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
        char text[1024], lines[256];
        size_t n = 0;
        for (const char *c = breaks[i]; *c && n + 1 < sizeof(lines); c++)
            lines[n++] = *c == '|' ? '\n' : *c;
        lines[n] = '\0';
        snprintf(
            text, sizeof(text),
            "[ 5.0] a invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0\n"
            "[ 5.0] memory: usage 102400kB, limit 102400kB, failcnt 123\n"
            "[ 5.0] Memory cgroup stats for /docker/abc: %s\n"
            "[ 5.2] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name\n"
            "[ 5.2] Killed process 1 (a) total-vm:4kB, anon-rss:4kB, file-rss:0kB\n",
            lines);
        struct oomlog p;
        feed(&p, text);
        assert_int_equal(p.nevents, 1);
        const struct oom_event *e = &p.events[0];
        assert_string_equal(e->stats_memcg, "/docker/abc");
        assert_int_equal(e->stat_anon, 101376 * 1024);
        assert_int_equal(e->stat_file, 1024 * 1024);
        assert_int_equal(e->stat_swap, 2048 * 1024);
        assert_int_equal(e->stat_shmem, 512 * 1024);
        assert_int_equal(e->nvictims, 1);
        oomlog_release(&p);
    }
    /* other words after the stats (a note in a paste): no field from them */
    struct oomlog p;
    feed(&p, "[ 5.0] a invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0\n"
             "[ 5.0] Memory cgroup stats for /x: cache:4KB rss:8KB\n"
             "and then: swap:99KB shmem:5KB we saw\n"
             "[ 5.1] swap:7KB and more\n"
             "[ 5.2] Killed process 1 (a) total-vm:4kB, anon-rss:4kB, file-rss:0kB\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].stat_anon, 8192);
    assert_false(opt_has(p.events[0].stat_swap));
    assert_false(opt_has(p.events[0].stat_shmem));
    oomlog_release(&p);
}

/* Text copied from a web page or a word processor: no-break and narrow spaces between the words
 * and fields, a zero-width space inside one; read as blanks and nothing, on both paths that read
 * text (line by line, and a whole buffer at once). A comm in UTF-8 stays as it is. A terminal's
 * colour escapes are dropped. */
static void wide_blanks(void **state)
{
    (void)state;
    const char *text =
        "Aug 18 03:19:11\xc2\xa0host kernel: [ 7063.247407] Out of memory: Killed\xc2\xa0"
        "process 1811 (stress-ng) total-vm:43240kB,\xc2\xa0"
        "anon-rss:0\xe2\x80\x8bkB,"
        "\xe2\x80\xaf"
        "file-rss:64kB, shmem-rss:0kB, UID:1000 pgtables:104kB "
        "oom_score_adj:1000\n"
        "[ 7064.0] Killed process 5 (caf\xc3\xa9) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n";
    for (int whole = 0; whole <= 1; whole++) {
        struct oomlog p;
        if (whole) {
            oomlog_init(&p);
            uint64_t n;
            assert_int_equal(oomlog_feed_lines(&p, text, strlen(text), &n), 0);
            assert_int_equal(oomlog_finish(&p), 0);
        } else {
            feed(&p, text);
        }
        assert_int_equal(p.nevents, 2);
        const struct oom_victim *v = &p.events[0].victims[0];
        assert_int_equal(v->pid, 1811);
        assert_int_equal(v->anon_rss_kb, 0);
        assert_int_equal(v->file_rss_kb, 64);
        assert_int_equal(v->uid, 1000);
        assert_int_equal(v->oom_score_adj, 1000);
        assert_string_equal(p.events[0].time, "Aug 18 03:19:11");
        assert_string_equal(p.events[1].victims[0].comm, "caf\xc3\xa9");
        oomlog_release(&p);
    }
    /* dmesg --color=always saved to a file: the stamp and the text before the first ':' in
     * colour (util-linux), the invoker's comm must not take the escape */
    struct oomlog p;
    feed(&p, "\x1b[32m[ 1.0] \x1b[0m\x1b[33mWeb Content invoked oom-killer\x1b[0m: "
             "gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
             "\x1b[32m[ 1.1] \x1b[0m\x1b[33mOut of memory\x1b[0m: Killed process 9 (a) "
             "total-vm:1kB, anon-rss:1kB, file-rss:7kB\n");
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].invoker_comm, "Web Content");
    assert_int_equal(p.events[0].uptime_us, 1000000);
    assert_int_equal(p.events[0].victims[0].file_rss_kb, 7);
    oomlog_release(&p);
    char out[16];
    assert_int_equal(logline_fold_paste("a\xc2\xa0!", 4, out), 3);
    assert_memory_equal(out, "a !", 3);
    assert_int_equal(logline_fold_paste("caf\xc3\xa9", 5, out), 0);
}

/* A report exported as strings (a log store's JSON or CSV): its lines written into one with
 * escaped line breaks, "\\n", "\\r\\n", escaped once more ("\\\\r\\\\n"), a '"' before the first
 * stamp. Each piece that starts a log record is a line, on both text paths. */
static void escaped_line_breaks(void **state)
{
    (void)state;
    const char *forms[] = {
        /* carriage returns alone as line ends (old Mac text, a console's overwritten line) */
        "[ 1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\r"
        "[ 1.1] Out of memory: Killed process 9 (a) total-vm:1kB, anon-rss:1kB, file-rss:7kB, "
        "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\r\n",
        "{\"message\": \"[ 1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
        "oom_score_adj=0\\n[ 1.1] Out of memory: Killed process 9 (a) total-vm:1kB, anon-rss:1kB, "
        "file-rss:7kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\\n\"}\n",
        "[ 1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
        "oom_score_adj=0\\\\r\\\\n"
        "[ 1.1] Out of memory: Killed process 9 (a) total-vm:1kB, anon-rss:1kB, file-rss:7kB, "
        "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\\r\\n\n",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        for (int whole = 0; whole <= 1; whole++) {
            struct oomlog p;
            if (whole) {
                oomlog_init(&p);
                uint64_t n;
                assert_int_equal(oomlog_feed_lines(&p, forms[i], strlen(forms[i]), &n), 0);
                assert_int_equal(oomlog_finish(&p), 0);
            } else {
                feed(&p, forms[i]);
            }
            assert_int_equal(p.nevents, 1);
            assert_true(p.events[0].header);
            assert_string_equal(p.events[0].invoker_comm, "a");
            assert_int_equal(p.events[0].uptime_us, 1000000);
            assert_int_equal(p.events[0].nvictims, 1);
            assert_int_equal(p.events[0].victims[0].file_rss_kb, 7);
            oomlog_release(&p);
        }
    }
    size_t len;
    assert_int_equal(logline_escaped_break("a\\\\r\\\\nJan  5 b", 14, &len), 1);
    assert_int_equal(len, 6);
    assert_int_equal(logline_escaped_break("C:\\x\\", 5, &len), 5);
    assert_int_equal(len, 0);
    /* a string in a program's source is no log: no kill */
    struct oomlog p;
    feed(&p, "        systemd_noise(20) <> \"\\nOut of memory: Killed process 412 (bun)\\n\"\n");
    assert_int_equal(p.nevents, 0);
    oomlog_release(&p);
}

/* The summary line alone (`dmesg | grep docker` keeps it for its memcg path, 4.19+): the task it
 * names was chosen; the kill line is not in the text. */
static void summary_alone(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, "[4650180.470877] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=aegis,"
             "mems_allowed=0,global_oom,task_memcg=/system.slice/docker-0074.scope,task=java,"
             "pid=7134,uid=1000\n");
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_int_equal(e->nvictims, 0);
    assert_true(e->selected_set);
    assert_int_equal(e->selected_pid, 7134);
    assert_string_equal(e->selected_comm, "java");
    assert_false(opt_has_i64(e->selected_score));
    assert_string_equal(e->constraint, "CONSTRAINT_NONE");
    oomlog_release(&p);
    /* with its kill line the summary's task is the victim, not a second choice */
    feed(&p, "[ 1.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
             "oom_memcg=/a,task_memcg=/a,task=x,pid=5,uid=0\n"
             "[ 1.0] Memory cgroup out of memory: Killed process 5 (x) total-vm:10kB, "
             "anon-rss:8kB, file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].nvictims, 1);
    assert_false(p.events[0].selected_set);
    assert_int_equal(p.events[0].victims[0].kind, OOM_VICTIM_SELECTED);
    oomlog_release(&p);
}

static void boundaries(void **state)
{
    (void)state;
    struct oomlog p;
    const char *kill = "Out of memory: Killed process 9 (a) total-vm:1kB, anon-rss:1kB, "
                       "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0";
    char text[2048];
    /* the same line twice (two logs of one machine concatenated) is one event; the same pid
     * after a reboot (uptime back to 5 s) is another */
    snprintf(text, sizeof(text), "[ 100.0] %s\n[ 100.0] %s\n[ 5.0] %s\n", kill, kill, kill);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    oomlog_release(&p);

    /* a header, then a kill line 60 s later: not the same report */
    snprintf(text, sizeof(text), HDR61 "[ 160.0] %s\n", kill);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    assert_int_equal(p.events[0].nvictims, 0);
    assert_false(p.events[1].header);
    oomlog_release(&p);

    /* a SysRq-m Mem-Info dump is not a report; userspace quoting a kill line is not a kill;
     * earlyoom's own kill is one, of its own (test-userkill) */
    feed(&p,
         "[ 1.0] sysrq: Show Memory\n[ 1.0] Mem-Info:\n[ 1.0] active_anon:1 inactive_anon:2\n"
         "May 19 18:14:43 h node-problem-detector[1]: Memory cgroup out of memory: Killed "
         "process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n"
         "May 19 18:14:43 h earlyoom[2]: sending SIGTERM to process 3 uid 0 \"x\": badness 9\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].record, OOM_RECORD_EARLYOOM);
    assert_int_equal(p.events[0].victims[0].pid, 3);
    oomlog_release(&p);

    /* rate-limited reports are announced by the next one */
    feed(&p, "[ 1.0] oom_kill_process: 70 callbacks suppressed\n" HDR61);
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].suppressed_reports, 70);
    oomlog_release(&p);
}

/* dump_header() is rate-limited (oom_rs: 10 per 5 s); the kernel says so only later, in the
 * "callbacks suppressed" line printed before the next report that gets through */
static void rate_limited_reports(void **state)
{
    (void)state;
    struct oomlog p;
    const char *kill = "Out of memory: Killed process %d (d%d) total-vm:1kB, anon-rss:1kB, "
                       "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0";
    char text[8192], line[256];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof(text) - n, HDR61);
    for (int i = 1; i <= 4; i++) {
        snprintf(line, sizeof(line), kill, i, i);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[ 100.%d] %s\n", i, line);
    }
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "[ 106.0] oom_kill_process: 3 callbacks suppressed\n"
                          "[ 106.0] b invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
                          "oom_score_adj=0\n");
    snprintf(line, sizeof(line), kill, 5, 5);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "[ 106.1] %s\n", line);
    feed(&p, text);
    assert_int_equal(p.nevents, 5);
    assert_false(p.events[0].rate_limited); /* the report printed */
    for (int i = 1; i <= 3; i++)
        assert_true(p.events[i].rate_limited);
    assert_false(p.events[4].rate_limited);
    assert_int_equal(p.events[4].suppressed_reports, 3);
    assert_int_equal(p.suppressed_reports, 3);
    oomlog_release(&p);

    /* a count larger than the kills in the text marks those there; a gap in the text ends the
     * walk (it may hide a printed report); without the count a headerless kill in a paste is
     * not called rate-limited */
    snprintf(line, sizeof(line), kill, 7, 7);
    snprintf(text, sizeof(text),
             "[ 99.0] %s\n<SNIP>\n[ 100.0] %s\n[ 106.0] oom_kill_process: 9 callbacks suppressed\n"
             "[ 110.0] %s\n",
             line, line, line);
    feed(&p, text);
    assert_int_equal(p.nevents, 3);
    assert_false(p.events[0].rate_limited);
    assert_true(p.events[1].rate_limited);
    assert_false(p.events[2].rate_limited);
    oomlog_release(&p);

    /* /dev/kmsg: the whole log, record by record; a kill line right after a record we read and
     * with nothing of its report before it was rate-limited; after a sequence gap, unknown */
    oomlog_init(&p);
    const char *recs[] = {
        "6,10,100000000,-;a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
        "oom_score_adj=0",
        "3,11,100100000,-;Out of memory: Killed process 1 (d1) total-vm:1kB, anon-rss:1kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
        "6,12,100150000,-;eth0: link up",
        "3,13,100200000,-;Out of memory: Killed process 2 (d2) total-vm:1kB, anon-rss:1kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
        "3,20,100300000,-;Out of memory: Killed process 3 (d3) total-vm:1kB, anon-rss:1kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
    };
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        struct kmsg_record r;
        assert_int_equal(kmsg_record_parse(recs[i], strlen(recs[i]), &r), 0);
        assert_int_equal(oomlog_feed_kmsg(&p, &r), 0);
    }
    assert_int_equal(oomlog_finish(&p), 0);
    assert_int_equal(p.nevents, 3);
    assert_false(p.events[0].rate_limited);
    assert_true(p.events[1].rate_limited);
    assert_false(p.events[2].rate_limited);
    oomlog_release(&p);
}

/* The kill line in every shape the recogniser must see through (issue 16), one report each:
 * the victim and its fields, the line's time, and whether it was damaged. */
struct shape {
    const char *name, *text;
    int64_t pid;
    const char *comm;
    uint64_t total_vm, anon, file, shmem;
    int64_t uid, adj;
    uint64_t uptime;
    const char *time;
    bool rejoined, cut;
};

#define KL61(pid)                                                                                  \
    "Out of memory: Killed process " #pid " (a b) total-vm:1000kB, anon-rss:800kB, "               \
    "file-rss:100kB, shmem-rss:4kB, UID:7 pgtables:40kB oom_score_adj:-5"
#define FULL 1000, 800, 100, 4, 7, -5

static const struct shape shapes[] = {
    {"printk caller id", "[  512.000001] [T4242] " KL61(42), 42, "a b", FULL, 512000001, ""},
    {"caller id glued, padded", "[  512.000001][  T42] " KL61(42), 42, "a b", FULL, 512000001, ""},
    {"cpu caller id", "[  512.000001] [C1] " KL61(42), 42, "a b", FULL, 512000001, ""},
    {"caller id without stamp", "[T4242] " KL61(42), 42, "a b", FULL, OPT_ABSENT, ""},
    {"netconsole receiver", "2024-03-02 10:11:12 192.0.2.10:6666 [  512.000001] " KL61(42), 42,
     "a b", FULL, 512000001, "2024-03-02 10:11:12"},
    {"syslog of netconsole, no tag", "Mar  2 10:11:12 192.0.2.10 [  512.000001] " KL61(42), 42,
     "a b", FULL, 512000001, "Mar  2 10:11:12"},
    {"bare kernel: tag", "kernel: " KL61(42), 42, "a b", FULL, OPT_ABSENT, ""},
    {"bare kernel: tag and stamp", "kernel: [  512.000001] " KL61(42), 42, "a b", FULL, 512000001,
     ""},
    {"facility and tag", "Mar  2 10:11:12 host kern.warn kernel: " KL61(42), 42, "a b", FULL,
     OPT_ABSENT, "Mar  2 10:11:12"},
    {"mail quotes and indentation", ">  > \t[  512.000001] " KL61(42), 42, "a b", FULL, 512000001,
     ""},
    {"Android vendor tag", "<6>[  512.000001] (1)[123:kworker/1:1]" KL61(42), 42, "a b", FULL,
     512000001, ""},
    {"Android pid:comm tag", "[  512.000001] [1234:lmkd] " KL61(42), 42, "a b", FULL, 512000001,
     ""},
    {"dmesg -T without its [", "Thu May 14 23:17:24 2020] " KL61(42), 42, "a b", FULL, OPT_ABSENT,
     "Thu May 14 23:17:24 2020"},
    {"grep -H file name", "/var/log/kern.log:Jan  5 15:19:27 h kernel: [ 5864.708440] " KL61(42),
     42, "a b", FULL, 5864708440ull, "Jan  5 15:19:27"},
    {"unknown tool columns", "node7 | 12 | " KL61(42), 42, "a b", FULL, OPT_ABSENT, ""},
    {"ISO/RFC 3339 syslog", "2024-03-02T10:11:12.123456+00:00 host kernel: " KL61(42), 42, "a b",
     FULL, OPT_ABSENT, "2024-03-02T10:11:12.123456+00:00"},
    {"journalctl short-precise", "Mar 02 10:11:12.123456 host kernel: " KL61(42), 42, "a b", FULL,
     OPT_ABSENT, "Mar 02 10:11:12.123456"},
    {"journalctl short-monotonic", "[  512.000001] host kernel: " KL61(42), 42, "a b", FULL,
     512000001, ""},
    {"CRLF", "[  512.000001] " KL61(42) "\r", 42, "a b", FULL, 512000001, ""},
    {"wrapped inside a number",
     "[  512.000001] Out of memory: Killed process 42 (a b) total-vm:1000kB, anon-rss:8\n"
     "00kB, file-rss:100kB, shmem-rss:4kB, UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"wrapped inside a field name",
     "[  512.000001] Out of memory: Killed process 42 (a b) total-vm:1000kB, an\n"
     "on-rss:800kB, file-rss:100kB, shmem-rss:4kB, UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"wrapped three times, mail-quoted",
     "> [  512.000001] Out of memory: Killed process 42 (a b) total-vm:1000kB,\n"
     "> anon-rss:800kB, file-rss:100kB,\n> shmem-rss:4kB, UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"wrapped inside the kernel's words",
     "[  512.000001] Out of memory: Kil\n"
     "led process 42 (a b) total-vm:1000kB, anon-rss:800kB, file-rss:100kB, shmem-rss:4kB, "
     "UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"cut at a terminal's width",
     "[  512.000001] Out of memory: Killed process 42 (a b) total-vm:1000kB, anon-rss:80\n"
     "[  512.000002] next message",
     42, "a b", 1000, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, OPT_ABSENT_I64,
     512000001, "", false, true},
    {"cut inside the comm", "[  512.000001] Out of memory: Killed process 42 (Web Cont", 42,
     "Web Cont", OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, OPT_ABSENT_I64,
     512000001, "", false, true},
    {"RHEL 7",
     "[  512.000001] Out of memory: Killed process 4321 (java), UID 1000, total-vm:8412516kB, "
     "anon-rss:2148200kB, file-rss:0kB, shmem-rss:0kB",
     4321, "java", 8412516, 2148200, 0, 0, 1000, OPT_ABSENT_I64, 512000001, ""},
    {"cut after the pid", "[  512.000001] Memory cgroup out of memory: Killed process 42", 42, "",
     OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, OPT_ABSENT_I64, 512000001, "",
     false, true},
    {"quoted-printable soft breaks",
     "Feb 12 08:21:50 h kernel: Out of memory: Killed process 42 (a b) tota=\n"
     "l-vm:1000kB, anon-rss:800kB, file-rss:100kB, shmem-rss:4kB, UID:7 pgtables:40kB oom_score_=\n"
     "adj:-5",
     42, "a b", FULL, OPT_ABSENT, "Feb 12 08:21:50", true},
    {"shell continuation",
     "[  512.000001] Out of memory: Killed process 42 (a b) total-vm:1000kB, anon-rss:800kB, \\\n"
     "    file-rss:100kB, shmem-rss:4kB, UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"pager's continuation arrow",
     "[  512.000001] Out of memory: Killed process 42 (a b)\n"
     "\xe2\x86\xaatotal-vm:1000kB, anon-rss:800kB, file-rss:100kB, shmem-rss:4kB, UID:7 "
     "pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, 512000001, "", true},
    {"records a mailer joined",
     "> Mar 16 21:40:40 h kernel: Out of memory: kill process 42\n"
     "> (a b) score 3672 or a child Mar 16 21:40:40 h kernel: Killed\n"
     "> process 42 (a b)",
     42, "a b", OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT, OPT_ABSENT_I64, OPT_ABSENT_I64,
     OPT_ABSENT, "Mar 16 21:40:40", true},
    {"the message on the line before",
     "Oct 14 10:22:40 h kernel: Memory cgroup out of memory:\n"
     "Killed process 42 (a b) total-vm:1000kB, anon-rss:800kB, file-rss:100kB, shmem-rss:4kB, "
     "UID:7 pgtables:40kB oom_score_adj:-5",
     42, "a b", FULL, OPT_ABSENT, "Oct 14 10:22:40", true},
    {"fields in another order",
     "Killed process 42 (a b) UID:7 oom_score_adj:-5 shmem-rss:4kB file-rss:100kB "
     "anon-rss:800kB total-vm:1000kB pgtables:40kB",
     42, "a b", FULL, OPT_ABSENT, ""},
};

static void kill_line_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const struct shape *f = &shapes[i];
        struct oomlog p;
        feed(&p, f->text);
        if (p.nevents != 1 || !p.events[0].nvictims) {
            print_message("# %s: %zu events\n", f->name, p.nevents);
            fail();
        }
        const struct oom_victim *v = &p.events[0].victims[0];
        print_message("# %s\n", f->name);
        assert_int_equal(v->pid, f->pid);
        assert_string_equal(v->comm, f->comm);
        assert_int_equal(v->total_vm_kb, f->total_vm);
        assert_int_equal(v->anon_rss_kb, f->anon);
        assert_int_equal(v->file_rss_kb, f->file);
        assert_int_equal(v->shmem_rss_kb, f->shmem);
        assert_int_equal(v->uid, f->uid);
        assert_int_equal(v->oom_score_adj, f->adj);
        assert_int_equal(v->uptime_us, f->uptime);
        assert_string_equal(v->time, f->time);
        assert_int_equal(v->line_rejoined, f->rejoined);
        assert_int_equal(v->line_cut, f->cut);
        oomlog_release(&p);
    }
}

/* Who asked, from what the header's neighbours say: a printk caller id, s390's "Process" line,
 * a CPU line broken after "Comm:" */
static void invoker_pid_sources(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, "[ 9421.982946][T10521] memeater-10521 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), "
             "order=0, oom_score_adj=0\n");
    assert_int_equal(p.events[0].invoker_pid, 10521);
    assert_string_equal(p.events[0].invoker_comm, "memeater-10521");
    oomlog_release(&p);
    feed(&p, "Mar 16 21:40:40 h kernel: basename invoked oom-killer: gfp_mask=0xd0, order=2, "
             "oomkilladj=0\nMar 16 21:40:40 h kernel: Process basename (pid: 30555, task: "
             "000000003dd08000, ksp: 000000003dc1f8a8)\n");
    assert_int_equal(p.events[0].invoker_pid, 30555);
    oomlog_release(&p);
    feed(&p, "Oct 14 10:22:40 h kernel: Thread-3 invoked oom-killer: gfp_mask=0xd0, order=0, "
             "oom_score_adj=0\nOct 14 10:22:40 h kernel: CPU: 0 PID: 2687 Comm:\n"
             "\xe2\x86\xaaThread-3 Not tainted 3.10.0-327.el7.x86_64 #1\n");
    assert_string_equal(p.events[0].invoker_comm, "Thread-3");
    assert_int_equal(p.events[0].invoker_pid, 2687);
    assert_string_equal(p.events[0].kernel_release, "3.10.0-327.el7.x86_64");
    oomlog_release(&p);
}

/* A whole report behind a prefix nobody knows: learnt from its first anchored line, the
 * prefix comes off the report's other lines too (memcg counters, stats, rows). */
static void opaque_prefix_report(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, "node7 | Web Content invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
             "oom_score_adj=0\n"
             "node7 | memory: usage 32768kB, limit 32768kB, failcnt 20\n"
             "node7 | Memory cgroup stats for /a:\n"
             "node7 | anon 33000000\n"
             "node7 | Tasks state (memory values in pages):\n"
             "node7 | [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
             "pgtables_bytes swapents oom_score_adj name\n"
             "node7 | [     42]     0    42     8794     8400     8150      250         0    "
             "102400        0             0 Web Content\n"
             "node7 | oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
             "mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=Web Content,pid=42,uid=0\n"
             "node7 | Memory cgroup out of memory: Killed process 42 (Web Content) "
             "total-vm:35176kB, anon-rss:32600kB, file-rss:1000kB, shmem-rss:0kB, UID:0 "
             "pgtables:100kB oom_score_adj:0\n");
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_true(e->header);
    assert_string_equal(e->invoker_comm, "Web Content");
    assert_int_equal(e->mem.limit_kb, 32768);
    assert_int_equal(e->stat_anon, 33000000);
    assert_int_equal(e->ntasks, 1);
    assert_string_equal(e->oom_memcg, "/a");
    assert_int_equal(e->scope, OOM_SCOPE_MEMCG);
    assert_int_equal(e->nvictims, 1);
    assert_true(e->victims[0].has_row);
    assert_int_equal(e->victims[0].row.rss_anon, 8150);
    oomlog_release(&p);
}

/* Text that names the kernel's words but is no kill: a shell command, prose, a userspace
 * record quoting one. */
static void not_kills(void **state)
{
    (void)state;
    struct oomlog p;
    feed(&p, "$ dmesg | grep 'Killed process'\n"
             "I grep for Killed process in the logs, and Out of memory: too\n"
             "the Killed process (java) had no pid\n"
             "May 19 18:14:43 aks npd[1]: Memory cgroup out of memory: Killed process 1 (x) "
             "total-vm:1kB, anon-rss:1kB, file-rss:0kB\n"
             "Killed process\n"
             "2024-03-02 10:11:12 [not a stamp] Killed process x (y)\n");
    assert_int_equal(p.nevents, 0);
    oomlog_release(&p);
}

static void group_and_reaper(void **state)
{
    (void)state;
    struct oomlog p;
    const char *k = "Memory cgroup out of memory: Killed process %d (%s) total-vm:10kB, "
                    "anon-rss:5kB, file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0";
    char text[4096], l1[256], l2[256], l3[256];
    snprintf(l1, sizeof(l1), k, 10, "a");
    snprintf(l2, sizeof(l2), k, 11, "b");
    snprintf(l3, sizeof(l3), k, 10, "a");
    snprintf(text, sizeof(text),
             HDR61 "[ 100.1] %s\n[ 100.2] Tasks in /g are going to be killed due to "
                   "memory.oom.group set\n[ 100.3] %s\n[ 100.4] %s\n"
                   "[ 102.1] oom_reaper: reaped process 11 (b), now anon-rss:0kB, file-rss:0kB, "
                   "shmem-rss:0kB\n[ 104.0] some later kernel line\n",
             l1, l2, l3);
    feed(&p, text);
    assert_int_equal(p.nevents, 1);
    const struct oom_event *e = &p.events[0];
    assert_string_equal(e->group_memcg, "/g");
    assert_int_equal(e->nvictims, 2); /* the victim logged twice is one */
    assert_int_equal(e->victims[1].kind, OOM_VICTIM_GROUP);
    assert_int_equal(e->victims[1].reaped, 1);
    /* no reaper line for 10 though the log runs 3.9 s past its kill: it exited by itself */
    assert_int_equal(e->victims[0].reaped, 0);
    assert_true(e->victims[0].reaped_inferred);
    oomlog_release(&p);

    /* the same, but the text is cut after the kill: unknown */
    snprintf(text, sizeof(text), HDR61 "[ 100.1] %s\n<SNIP>\n[ 104.0] later\n", l1);
    feed(&p, text);
    assert_int_equal(p.events[0].victims[0].reaped, -1);
    assert_true(p.events[0].elided); /* the gap may hide the reaper line */
    oomlog_release(&p);
}

static void min_protection(void **state)
{
    (void)state;
    struct oomlog p;
    /* 7.2 (bc8e51c05ad5) */
    feed(&p, HDR61 "[ 100.1] memory: usage 10kB, limit 10kB, failcnt 0\n"
                   "[ 100.2] Memory cgroup min protection 4kB -- low protection 8kB\n");
    assert_int_equal(p.events[0].min_protection_kb, 4);
    assert_int_equal(p.events[0].low_protection_kb, 8);
    oomlog_release(&p);
}

static void log_times(void **state)
{
    (void)state;
    time_t t, now = 1747678483; /* 2025-05-19T18:14:43Z */
    assert_true(logtime_parse("2022-07-13T11:45:20+0300", now, &t));
    assert_int_equal(t, 1657701920);
    assert_true(logtime_parse("2024-01-02T03:04:05.5Z", now, &t));
    assert_int_equal(t, 1704164645);
    setenv("TZ", "UTC", 1);
    tzset();
    assert_true(logtime_parse("Thu May 14 23:17:24 2020", now, &t));
    assert_int_equal(t, 1589498244);
    assert_true(logtime_parse("May 19 18:14:43", now, &t));
    assert_int_equal(t, now);
    /* a date later than now is last year's */
    assert_true(logtime_parse("Dec 31 23:00:00", now, &t));
    assert_int_equal(t, 1735686000);
    assert_false(logtime_parse("Mai 19 18:14:43", now, &t));
    assert_false(logtime_parse("5864.708440", now, &t));
}

/* dmesg -T's stamp as copies leave it: its '[' lost (with the weekday too, or the blank after
 * the ']'), its ']' lost or another bracket typed, blanks collapsed ("Mar 4"), the weekday with a
 * comma, a printk caller id after it (util-linux 2.35+). Each gives the kill, a time with its
 * year and weekday as printed, and that time is read by --since; "Mar  4 10:11:12 2024" is
 * never a syslog date of this year. */
static void dmesg_T_stamps_as_copied(void **state)
{
    (void)state;
    static const char *stamps[] = {
        "Mon Mar  4 10:11:12 2024] ",          "Mar  4 10:11:12 2024] ",
        "[Mon Mar  4 10:11:12 2024 ",          "Mon Mar  4 10:11:12 2024]",
        "[Mon Mar  4 10:11:12 2024) ",         "(Mon Mar  4 10:11:12 2024] ",
        "Mon Mar 4 10:11:12 2024] ",           "[Mon, Mar  4 10:11:12 2024] ",
        "[Mon Mar  4 10:11:12 2024] [  T42] ", "> Mar  4 10:11:12 2024 ] ",
    };
    setenv("TZ", "UTC", 1);
    tzset();
    for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "%sOut of memory: Killed process 1234 (stress) total-vm:1028kB, anon-rss:100kB, "
                 "file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:44kB oom_score_adj:0\n",
                 stamps[i]);
        print_message("# %s\n", stamps[i]);
        struct oomlog p;
        feed(&p, text);
        assert_int_equal(p.nevents, 1);
        const struct oom_victim *v = &p.events[0].victims[0];
        assert_int_equal(v->pid, 1234);
        assert_string_equal(v->comm, "stress");
        assert_int_equal(v->oom_score_adj, 0);
        assert_non_null(strstr(p.events[0].time, "10:11:12"));
        assert_non_null(strstr(p.events[0].time, "2024"));
        time_t t;
        assert_true(logtime_parse(p.events[0].time, 1747678483, &t));
        assert_int_equal(t, 1709547072); /* 2024-03-04T10:11:12Z */
        oomlog_release(&p);
    }
    time_t t;
    assert_true(logtime_parse("Mon Mar  4 10:11:12.5 2024", 1747678483, &t));
    assert_int_equal(t, 1709547072);
    assert_true(logtime_parse("lun. Mar  4 10:11:12 2024", 1747678483, &t));
    assert_false(logtime_parse("Mon Mar  4 10:11:12 20245", 1747678483, &t));
    assert_false(logtime_parse("Mon Mar  4 10:11:12 2024 x", 1747678483, &t));
}

/* ------------------------------------------------------------------------------------------ */
/* journalctl's machine forms (systemd's JOURNAL_EXPORT_FORMATS, journalctl(1)) */

static void journal_json(void **state)
{
    (void)state;
    struct journal_entry e;
    journal_entry_init(&e);
    /* a kernel record: journald's copy of printk's stamp, the time journald stored it */
    const char *k = "{\"__CURSOR\":\"s=a;i=1\",\"__REALTIME_TIMESTAMP\":\"1701936000123456\","
                    "\"__MONOTONIC_TIMESTAMP\":\"9000000\",\"_TRANSPORT\":\"kernel\","
                    "\"SYSLOG_IDENTIFIER\":\"kernel\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"512000001\","
                    "\"MESSAGE\":\"a \\\"b\\\" \\u00e9\\nnext\"}";
    assert_int_equal(journal_json_parse(k, strlen(k), &e), 0);
    assert_true(e.kernel);
    assert_int_equal(e.realtime_us, 1701936000123456ull);
    assert_int_equal(e.source_monotonic_us, 512000001ull);
    assert_false(e.message_binary);
    assert_int_equal(e.message_len, strlen("a \"b\" \xc3\xa9\nnext"));
    assert_memory_equal(e.message, "a \"b\" \xc3\xa9\nnext", e.message_len);
    char t[64];
    journal_format_time(&e, t, sizeof(t));
    assert_string_equal(t, "2023-12-07T08:00:00.123456+00:00");
    time_t when;
    assert_true(logtime_parse(t, 1701936000 + 86400, &when));
    assert_int_equal(when, 1701936000);
    /* not printable UTF-8: the bytes as numbers; a field given twice: an array of values */
    const char *b = "{\"__CURSOR\":\"x\",\"_TRANSPORT\":[\"kernel\",\"syslog\"],"
                    "\"MESSAGE\":[111,119,45,233,116,0,10,120]}";
    assert_int_equal(journal_json_parse(b, strlen(b), &e), 0);
    assert_true(e.kernel);
    assert_true(e.message_binary);
    assert_int_equal(e.message_len, 8);
    assert_memory_equal(e.message, "ow-\xe9t\0\nx", 8);
    assert_int_equal(e.realtime_us, OPT_ABSENT);
    /* userspace: its own stamps are another clock's; _SOURCE_REALTIME wins as journalctl's does */
    const char *u = "{\"__CURSOR\":\"x\",\"__REALTIME_TIMESTAMP\":\"2000000\",\"_TRANSPORT\":\"syslog\","
                    "\"_SOURCE_REALTIME_TIMESTAMP\":\"1000000\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"5\","
                    "\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"Killed process 1 (x)\"}";
    assert_int_equal(journal_json_parse(u, strlen(u), &e), 0);
    assert_false(e.kernel);
    assert_int_equal(e.realtime_us, 1000000);
    assert_int_equal(e.source_monotonic_us, OPT_ABSENT);
    /* a message too large for journalctl without --all */
    const char *h = "{\"__CURSOR\":\"x\",\"_TRANSPORT\":\"kernel\",\"MESSAGE\":null}";
    assert_int_equal(journal_json_parse(h, strlen(h), &e), 0);
    assert_true(e.message_hidden);
    assert_false(e.has_message);
    /* not a journal entry, not one object, not JSON */
    const char *no[] = {"{\"a\":1}", "[1,2]", "{\"MESSAGE\":\"x\"} {", "{\"MESSAGE\":\"x\"", "{'MESSAGE':'x'}"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_int_equal(journal_json_parse(no[i], strlen(no[i]), &e), -EINVAL);
    assert_true(journal_json_start(" {\"__CURSOR\" : \"s\"", 18));
    assert_false(journal_json_start("{\"message\":1}", 13));
    journal_entry_release(&e);
}

static void journal_verbose(void **state)
{
    (void)state;
    /* systemd 252's -o verbose, as journalctl -k printed it on the node image */
    static const char *lines[] = {
        ("Mon 2026-12-07 07:03:17.406215 UTC [s=87252a0a102b4d8fb2503c3ae70287ef;i=2b8;"
         "b=44b43b40a2f2425d974c8bed448bd30f;m=6f9877d;t=66205d26426a2;x=2cfb87929752660a]"),
        "    _TRANSPORT=kernel",
        "    _SOURCE_MONOTONIC_TIMESTAMP=109978501",
        "    MESSAGE=first",
        "            second",
        "    _HOSTNAME=node",
    };
    uint64_t t;
    assert_true(journal_verbose_header(lines[0], strlen(lines[0]), &t));
    assert_int_equal(t, 0x66205d26426a2ull);
    assert_false(journal_verbose_header(lines[1], strlen(lines[1]), &t));
    assert_false(journal_verbose_header("[ 1.5] x [s=y]", 14, &t));
    struct journal_entry e;
    journal_entry_init(&e);
    journal_verbose_begin(&e, t);
    for (size_t i = 1; i < sizeof(lines) / sizeof(lines[0]); i++)
        assert_int_equal(journal_verbose_field(&e, lines[i], strlen(lines[i])), 0);
    journal_verbose_end(&e);
    assert_true(e.kernel);
    assert_int_equal(e.source_monotonic_us, 109978501ull);
    assert_string_equal(e.message, "first\nsecond");
    /* bytes journalctl does not show without --all */
    journal_verbose_begin(&e, t);
    assert_int_equal(journal_verbose_field(&e, "    MESSAGE=[57B blob data]", 27), 0);
    assert_true(e.message_hidden);
    assert_false(e.has_message);
    assert_int_equal(journal_verbose_field(&e, "not a field", 11), -EINVAL);
    journal_entry_release(&e);
    time_t when;
    assert_true(logtime_parse("Mon 2026-12-07 07:03:17 UTC", 0, &when));
    assert_int_equal(when, 1796626997);
    assert_true(logtime_parse("1796626997.429044", 0, &when));
    assert_int_equal(when, 1796626997);
}

static void journal_export(void **state)
{
    (void)state;
    /* a text entry, then one whose MESSAGE is binary: 10 bytes (a length whose first byte is
     * '\n') holding a newline */
    static const char ex[] = "__CURSOR=s=a;i=1\n__REALTIME_TIMESTAMP=1701936000000001\n"
                             "_TRANSPORT=kernel\n_SOURCE_MONOTONIC_TIMESTAMP=7\nMESSAGE=one\n\n"
                             "__CURSOR=s=a;i=2\n_TRANSPORT=kernel\nMESSAGE\n"
                             "\x0a\0\0\0\0\0\0\0ow-\xe9t\xe9\nabc\n"
                             "SYSLOG_IDENTIFIER=kernel\n\n";
    size_t len = sizeof(ex) - 1, used;
    assert_true(journal_export_start(ex, len));
    assert_false(journal_export_start("MESSAGE=x\n", 10));
    struct journal_entry e;
    journal_entry_init(&e);
    assert_int_equal(journal_export_next(ex, len, true, &e, &used), 1);
    assert_true(e.kernel);
    assert_int_equal(e.realtime_us, 1701936000000001ull);
    assert_int_equal(e.source_monotonic_us, 7);
    assert_int_equal(e.message_len, 3);
    assert_string_equal(e.message, "one");
    size_t off = used;
    /* the second entry cut anywhere is incomplete until its end, then whole */
    for (size_t cut = off; cut < len - 1; cut++)
        assert_int_equal(journal_export_next(ex + off, cut - off, false, &e, &used), 0);
    assert_int_equal(journal_export_next(ex + off, len - off, false, &e, &used), 1);
    assert_int_equal(used, len - off);
    assert_true(e.message_binary);
    assert_int_equal(e.message_len, 10);
    assert_memory_equal(e.message, "ow-\xe9t\xe9\nabc", 10);
    assert_string_equal(e.identifier, "kernel");
    /* the last entry without its empty line counts at the end of input */
    static const char last[] = "__CURSOR=c\nMESSAGE=tail";
    assert_int_equal(journal_export_next(last, sizeof(last) - 1, false, &e, &used), 0);
    assert_int_equal(journal_export_next(last, sizeof(last) - 1, true, &e, &used), 1);
    assert_string_equal(e.message, "tail");
    assert_false(e.kernel); /* no transport, no identifier */
    /* broken: a line that is no field; a binary length past the end of input */
    static const char bad1[] = "__CURSOR=c\nhello world\n\n";
    assert_int_equal(journal_export_next(bad1, sizeof(bad1) - 1, true, &e, &used), -EINVAL);
    static const char bad2[] = "__CURSOR=c\nMESSAGE\n\xff\0\0\0\0\0\0\0abc\n\n";
    assert_int_equal(journal_export_next(bad2, sizeof(bad2) - 1, false, &e, &used), 0);
    assert_int_equal(journal_export_next(bad2, sizeof(bad2) - 1, true, &e, &used), -EINVAL);
    journal_entry_release(&e);
}

/* explain's reading of a saved journal: the forms told apart by their first bytes */
static void journal_streams(void **state)
{
    (void)state;
    const char *kill = "Memory cgroup out of memory: Killed process 4242 (hog) total-vm:10kB, "
                       "anon-rss:5kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0";
    char json[1024], pretty[1024], seq[1100], sse[1100];
    snprintf(json, sizeof(json),
             "{\"__CURSOR\":\"c\",\"__REALTIME_TIMESTAMP\":\"1701936000000000\",\"_TRANSPORT\":"
             "\"kernel\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"512500000\",\"MESSAGE\":\"%s\"}",
             kill);
    snprintf(pretty, sizeof(pretty),
             "{\n\t\"__CURSOR\" : \"c\",\n\t\"__REALTIME_TIMESTAMP\" : \"1701936000000000\",\n"
             "\t\"_TRANSPORT\" : \"kernel\",\n\t\"_SOURCE_MONOTONIC_TIMESTAMP\" : \"512500000\",\n"
             "\t\"MESSAGE\" : \"%s\"\n}\n",
             kill);
    snprintf(seq, sizeof(seq), "\x1e%s\n", json);
    snprintf(sse, sizeof(sse), "data: %s\n\n", json);
    strcat(json, "\n");
    const char *forms[] = {json, pretty, seq, sse};
    for (size_t i = 0; i < 4; i++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], forms[i], strlen(forms[i])), (ssize_t)strlen(forms[i]));
        close(fds[1]);
        struct oomlog p;
        oomlog_init(&p);
        struct logsource_stats st = {0};
        assert_int_equal(logsource_feed_fd(&p, fds[0], &st), 0);
        close(fds[0]);
        assert_int_equal(oomlog_finish(&p), 0);
        assert_int_equal(p.nevents, 1);
        assert_int_equal(p.events[0].nvictims, 1);
        const struct oom_victim *v = &p.events[0].victims[0];
        assert_int_equal(v->pid, 4242);
        assert_int_equal(v->anon_rss_kb, 5);
        assert_int_equal(v->uptime_us, 512500000ull);
        assert_string_equal(v->time, "2023-12-07T08:00:00.000000+00:00");
        oomlog_release(&p);
    }
    /* export text broken half-way: the entries before are read, the byte named */
    char ex[1024];
    int n = snprintf(ex, sizeof(ex), "__CURSOR=c\n_TRANSPORT=kernel\nMESSAGE=%s\n\n__CURSOR=d\nnot a field\n\n", kill);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], ex, (size_t)n), n);
    close(fds[1]);
    struct oomlog p;
    oomlog_init(&p);
    struct logsource_stats st = {0};
    assert_int_equal(logsource_feed_fd(&p, fds[0], &st), -EBADMSG);
    close(fds[0]);
    assert_int_equal(st.broken_at, strstr(ex, "__CURSOR=d") - ex);
    assert_int_equal(oomlog_finish(&p), 0);
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].victims[0].pid, 4242);
    oomlog_release(&p);
    /* what journalctl did not show: counted (the kernel's only), for explain to say so */
    feed(&p, "Dec 07 07:03:20 node kernel: [57B blob data]\n"
             "Dec 07 07:03:20 node kernel: [1.2K blob data]\n"
             "Dec 07 07:03:20 node earlyoom[5]: [57B blob data]\n"
             "Dec 07 07:03:20 node kernel: [57B blob data] x\n");
    assert_int_equal(p.hidden_messages, 2);
    oomlog_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kmsg_record),
        cmocka_unit_test(kmsg_unescaping),
        cmocka_unit_test(kmsg_reader_records),
        cmocka_unit_test(line_forms),
        cmocka_unit_test(line_context),
        cmocka_unit_test(grep_commands),
        cmocka_unit_test(exiting_unreapable_and_allocating_task),
        cmocka_unit_test(nothing_killable_and_panics),
        cmocka_unit_test(constraints),
        cmocka_unit_test(header_forms),
        cmocka_unit_test(kill_forms),
        cmocka_unit_test(pgtables_in_bytes),
        cmocka_unit_test(headerless_rows),
        cmocka_unit_test(kmsg_single_record_stats),
        cmocka_unit_test(wrapped_lines),
        cmocka_unit_test(padded_terminal_breaks),
        cmocka_unit_test(summary_alone),
        cmocka_unit_test(wide_blanks),
        cmocka_unit_test(escaped_line_breaks),
        cmocka_unit_test(wrapped_limit_and_cut_comm),
        cmocka_unit_test(wrapped_memcg_v1_stats),
        cmocka_unit_test(wrapped_comm_with_blank),
        cmocka_unit_test(log_store_records_in_text),
        cmocka_unit_test(boundaries),
        cmocka_unit_test(rate_limited_reports),
        cmocka_unit_test(kill_line_shapes),
        cmocka_unit_test(opaque_prefix_report),
        cmocka_unit_test(invoker_pid_sources),
        cmocka_unit_test(not_kills),
        cmocka_unit_test(group_and_reaper),
        cmocka_unit_test(min_protection),
        cmocka_unit_test(log_times),
        cmocka_unit_test(dmesg_T_stamps_as_copied),
        cmocka_unit_test(journal_json),
        cmocka_unit_test(journal_verbose),
        cmocka_unit_test(journal_export),
        cmocka_unit_test(journal_streams),
    };
    return cmocka_run_group_tests_name("oomlog", tests, NULL, NULL);
}
