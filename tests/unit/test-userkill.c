/*
 * Userspace records of OOM kills (model/log/userkill.h) and how the parser puts them with the
 * kernel's: systemd's lines about a unit, systemd-oomd's and earlyoom's kills. The wordings are
 * those of systemd's src/core/unit.c and src/oom/oomd-manager.c (247-258) and of earlyoom's
 * kill.c and main.c (1.1 to 1.8), each named with the version printing it.
 */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#include "base/opt.h"
#include "model/log/oomlog.h"
#include "model/log/line/userkill.h"

static bool parse(const char *program, const char *text, struct userkill *u)
{
    struct span prog = {program, strlen(program)}, t = {text, strlen(text)};
    return userkill_parse(prog, t, u);
}

static void systemd_unit_lines(void **state)
{
    (void)state;
    struct userkill u;
    assert_true(parse("systemd",
                      "foo.service: A process of this unit has been killed by the OOM "
                      "killer.",
                      &u));
    assert_int_equal(u.kind, UK_UNIT_OOM);
    assert_string_equal(u.unit, "foo.service");
    assert_true(parse("systemd", "app-x.scope: Failed with result 'oom-kill'.", &u));
    assert_int_equal(u.kind, UK_UNIT_RESULT_OOM);
    assert_true(
        parse("systemd", "foo.service: Main process exited, code=killed, status=9/KILL", &u));
    assert_int_equal(u.kind, UK_UNIT_MAIN_KILLED);
    assert_true(parse("systemd",
                      "vte-spawn-1.scope: systemd-oomd killed 12 process(es) in this "
                      "unit.",
                      &u));
    assert_int_equal(u.kind, UK_UNIT_OOMD);
    assert_int_equal(u.processes, 12);
    /* a bare line (a terminal's copy) is read by its words */
    assert_true(
        parse("", "user.slice: A process of this unit has been killed by the OOM killer.", &u));
    /* other results, other programs quoting the words, and no unit name: none */
    assert_false(parse("systemd", "foo.service: Failed with result 'signal'.", &u));
    assert_false(
        parse("systemd", "foo.service: Main process exited, code=dumped, status=31/SYS", &u));
    assert_false(parse("dockerd",
                       "foo.service: A process of this unit has been killed by the "
                       "OOM killer.",
                       &u));
    assert_false(parse("systemd",
                       "the unit: A process of this unit has been killed by the OOM "
                       "killer.",
                       &u));
    assert_int_equal(u.kind, UK_NONE);
}

static void oomd_lines(void **state)
{
    (void)state;
    struct userkill u;
    /* 247-253 */
    assert_true(parse("systemd-oomd",
                      "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/app-a.scope "
                      "due to memory pressure for /user.slice/user-1000.slice/user@1000.service "
                      "being 62.45% > 50.00% for > 20s with reclaim activity",
                      &u));
    assert_int_equal(u.kind, UK_OOMD_KILL);
    assert_string_equal(u.cgroup, "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                  "app-a.scope");
    assert_string_equal(u.pressure_cgroup, "/user.slice/user-1000.slice/user@1000.service");
    assert_string_equal(u.pressure, "62.45%");
    assert_string_equal(u.limit, "50.00%");
    assert_string_equal(u.duration, "20s");
    assert_false(u.swap);
    assert_false(u.marked);
    assert_true(parse("systemd-oomd",
                      "Killed /system.slice/a.service due to swap used (900) / "
                      "total (1000) being more than 90.00%",
                      &u));
    assert_true(u.swap);
    assert_int_equal(u.swap_used, 900);
    assert_int_equal(u.swap_total, 1000);
    assert_string_equal(u.limit, "90.00%");
    /* later systemd (current main): marked, then killed; the swap form names memory too */
    assert_true(parse("systemd-oomd",
                      "Marked /system.slice/b.service for killing due to memory "
                      "used (10) / total (20) and swap used (5) / total (8) "
                      "being more than 90.00%",
                      &u));
    assert_true(u.marked);
    assert_int_equal(u.swap_used, 5);
    assert_int_equal(u.swap_total, 8);
    /* the line cut by a pager: the cgroup is known, the numbers are not */
    assert_true(parse("systemd-oomd",
                      "Killed /a.slice/b.service due to memory pressure for "
                      "/a.slice be>",
                      &u));
    assert_string_equal(u.cgroup, "/a.slice/b.service");
    assert_string_equal(u.pressure, "");
    /* its debug lines and dumps are no kill */
    assert_false(parse("systemd-oomd",
                       "Memory pressure for /a.slice is 64.15% > 1.00% for > 30s "
                       "with reclaim activity",
                       &u));
    assert_false(parse("systemd-oomd", "Killed a process", &u));
    assert_false(parse("gnome-shell",
                       "Killed /a.slice/b.service due to swap used (1) / total "
                       "(2) being more than 90.00%",
                       &u));
}

static void earlyoom_lines(void **state)
{
    (void)state;
    struct userkill u;
    /* 1.3-1.7 */
    assert_true(parse("earlyoom",
                      "sending SIGTERM to process 4567 uid 1000 \"chrome\": badness "
                      "700, VmRSS 1500 MiB",
                      &u));
    assert_int_equal(u.kind, UK_EARLYOOM_KILL);
    assert_string_equal(u.signal, "SIGTERM");
    assert_int_equal(u.pid, 4567);
    assert_int_equal(u.uid, 1000);
    assert_string_equal(u.comm, "chrome");
    assert_int_equal(u.badness, 700);
    assert_int_equal(u.vm_rss_mib, 1500);
    /* 1.8: oom_score and its adj, then the command line (quotes in it are its own) */
    assert_true(parse("earlyoom",
                      "sending SIGKILL to process 2232050 uid 1000 \"bun\": oom_score "
                      "712, oom_score_adj 0, VmRSS 4514 MiB, cmdline \"a \\\"b\\\"\"",
                      &u));
    assert_string_equal(u.signal, "SIGKILL");
    assert_int_equal(u.oom_score, 712);
    assert_int_equal(u.oom_score_adj, 0);
    assert_int_equal(u.badness, OPT_ABSENT_I64);
    assert_int_equal(u.vm_rss_mib, 4514);
    /* a name with a quote and a blank */
    assert_true(parse("earlyoom",
                      "sending SIGTERM to process 1 uid 0 \"(sd-pam) \"x\": badness "
                      "3, VmRSS 3 MiB",
                      &u));
    assert_string_equal(u.comm, "(sd-pam) \"x");
    /* 1.2 and before */
    assert_true(parse("",
                      "killing process 27541 \"bash\" with signal 15: badness 550, VmRSS "
                      "7609 MiB",
                      &u));
    assert_int_equal(u.pid, 27541);
    assert_string_equal(u.signal, "SIGTERM");
    assert_int_equal(u.vm_rss_mib, 7609);
    assert_true(parse("earlyoom",
                      "Killing process 'tail' with signal 9, pid: 24059, badness: "
                      "997, VmRSS: 4278 MiB",
                      &u));
    assert_int_equal(u.pid, 24059);
    assert_string_equal(u.comm, "tail");
    assert_string_equal(u.signal, "SIGKILL");
    assert_int_equal(u.badness, 997);
    /* what comes before a kill */
    assert_true(parse("earlyoom",
                      "low memory! at or below SIGTERM limits: mem 10.00%, swap "
                      "5.00%",
                      &u));
    assert_int_equal(u.kind, UK_EARLYOOM_LOW);
    assert_string_equal(u.limit_signal, "SIGTERM");
    assert_string_equal(u.mem_limit, "10.00%");
    assert_string_equal(u.swap_limit, "5.00%");
    assert_true(parse("earlyoom",
                      "mem avail:  1200 of 17518 MiB ( 6.85%), swap free: 13345 of "
                      "47119 MiB (28.32%)",
                      &u));
    assert_int_equal(u.kind, UK_EARLYOOM_AVAIL);
    assert_int_equal(u.avail_mib, 1200);
    assert_int_equal(u.swap_total_mib, 47119);
    /* the startup banner, its self-test, its other lines: no kill */
    assert_false(parse("earlyoom", "sending SIGTERM when mem <= 10.00% and swap <= 10.00%,", &u));
    assert_false(parse("earlyoom", "earlyoom v1.7-41-g90f1a67", &u));
    assert_false(parse("earlyoom", "process exited after 0.1 seconds", &u));
    assert_false(parse("earlyoom", "kill failed: Timer expired", &u));
    /* another program quoting earlyoom */
    assert_false(
        parse("loki", "sending SIGKILL to process 7 uid 0 \"x\": badness 1, VmRSS 1 MiB", &u));
}

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

#define J "May 19 18:14:%02d h "
#define SUMMARY(s, cg, pid)                                                                        \
    J "kernel: [ 100.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"            \
      "mems_allowed=0,oom_memcg=" cg ",task_memcg=" cg ",task=a,pid=" pid ",uid=0\n"
#define KILL(pid)                                                                                  \
    J "kernel: [ 100.0] Memory cgroup out of memory: Killed process " pid " (a) total-vm:1kB, "    \
      "anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
#define UNIT(u, what) J "systemd[1]: " u ": " what "\n"
#define OOMLINE "A process of this unit has been killed by the OOM killer."
#define RESULT "Failed with result 'oom-kill'."

static void units_with_kernel_kills(void **state)
{
    (void)state;
    struct oomlog p;
    char text[4096];
    /* the kill, then systemd's lines for the unit and the slices above it: one event */
    snprintf(text, sizeof(text),
             SUMMARY(40, "/system.slice/foo.service", "9") KILL("9") UNIT("system.slice", OOMLINE)
                 UNIT("foo.service", OOMLINE) UNIT("foo.service", RESULT),
             40, 40, 41, 41, 42);
    feed(&p, text);
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].record, OOM_RECORD_KERNEL);
    assert_int_equal(p.events[0].killer, OOM_KILLER_KERNEL);
    assert_non_null(p.events[0].user);
    assert_string_equal(p.events[0].user->unit, "foo.service");
    assert_string_equal(p.events[0].user->slices, "system.slice");
    assert_true(p.events[0].user->unit_oom_line);
    assert_true(p.events[0].user->unit_result_oom);
    oomlog_release(&p);

    /* newest first (a paste sorted backwards): systemd's lines before the kill are its own */
    snprintf(text, sizeof(text),
             UNIT("foo.service", OOMLINE) SUMMARY(40, "/system.slice/foo.service", "9") KILL("9"),
             41, 40, 40);
    feed(&p, text);
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].user->unit, "foo.service");
    oomlog_release(&p);

    /* another unit, seconds later: not this kill (the path says so), systemd's record alone */
    snprintf(text, sizeof(text),
             SUMMARY(40, "/system.slice/foo.service", "9") KILL("9") UNIT("bar.service", OOMLINE),
             40, 40, 41);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    assert_null(p.events[0].user);
    assert_int_equal(p.events[1].record, OOM_RECORD_SYSTEMD);
    assert_string_equal(p.events[1].user->unit, "bar.service");
    assert_int_equal(p.events[1].nvictims, 0);
    oomlog_release(&p);

    /* a kill line alone (no path): by time, within seconds, and never across a wide gap */
    snprintf(text, sizeof(text), KILL("9") UNIT("foo.service", OOMLINE), 10, 12);
    feed(&p, text);
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].user->unit, "foo.service");
    oomlog_release(&p);
    snprintf(text, sizeof(text), KILL("9") UNIT("foo.service", OOMLINE), 10, 40);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    assert_null(p.events[0].user);
    assert_int_equal(p.events[1].record, OOM_RECORD_SYSTEMD);
    oomlog_release(&p);

    /* two kills in one unit: each has its own line */
    snprintf(text, sizeof(text),
             SUMMARY(40, "/system.slice/foo.service", "9") KILL("9")
                 SUMMARY(40, "/system.slice/foo.service", "10") KILL("10")
                     UNIT("foo.service", OOMLINE) UNIT("foo.service", OOMLINE),
             40, 40, 40, 40, 41, 41);
    feed(&p, text);
    assert_int_equal(p.nevents, 2);
    assert_string_equal(p.events[0].user->unit, "foo.service");
    assert_string_equal(p.events[1].user->unit, "foo.service");
    oomlog_release(&p);
}

static void units_alone(void **state)
{
    (void)state;
    struct oomlog p;
    /* journalctl -u foo.service: the unit's lines, the result 100 s later when it stopped */
    feed(&p, "May 19 18:14:40 h systemd[1]: foo.service: " OOMLINE "\n"
             "May 19 18:14:40 h systemd[1]: foo.service: Main process exited, code=killed, "
             "status=9/KILL\n"
             "May 19 18:16:20 h systemd[1]: foo.service: " RESULT "\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].record, OOM_RECORD_SYSTEMD);
    assert_int_equal(p.events[0].killer, OOM_KILLER_KERNEL);
    assert_int_equal(p.events[0].nvictims, 0);
    assert_true(p.events[0].user->unit_main_killed);
    assert_true(p.events[0].user->unit_result_oom);
    assert_string_equal(p.events[0].time, "May 19 18:14:40");
    oomlog_release(&p);

    /* the result alone: the kernel's or systemd-oomd's kill (251+), the text does not say */
    feed(&p, "May 19 18:14:40 h systemd[1]: foo.service: " RESULT "\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].killer, OOM_KILLER_UNKNOWN);
    oomlog_release(&p);

    /* a main process killed by SIGKILL alone is no OOM kill */
    feed(&p, "May 19 18:14:40 h systemd[1]: foo.service: Main process exited, code=killed, "
             "status=9/KILL\n"
             "May 19 18:14:40 h systemd[1]: foo.service: Failed with result 'signal'.\n");
    assert_int_equal(p.nevents, 0);
    oomlog_release(&p);
}

static void userspace_killers(void **state)
{
    (void)state;
    struct oomlog p;
    /* systemd-oomd's kill and pid 1's line about it: one event */
    feed(&p, "Dec 18 19:34:56 d systemd-oomd[840]: Killed /user.slice/u.service/app.slice/v.scope "
             "due to memory pressure for /user.slice/u.service being 51.07% > 50.00% for > 20s "
             "with reclaim activity\n"
             "Dec 18 19:34:56 d systemd[1837]: v.scope: systemd-oomd killed 12 process(es) in this "
             "unit.\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].killer, OOM_KILLER_OOMD);
    assert_string_equal(p.events[0].user->cgroup, "/user.slice/u.service/app.slice/v.scope");
    assert_string_equal(p.events[0].user->unit, "v.scope");
    assert_int_equal(p.events[0].user->oomd_processes, 12);
    oomlog_release(&p);

    /* earlyoom: its memory lines before the kill are the kill's; a repeat is one kill */
    feed(&p, "Feb 16 13:58:20 c earlyoom[1]: mem avail:  9000 of 31808 MiB (28.30%), swap free: "
             "9000 of 15903 MiB (56.59%)\n"
             "Feb 16 13:58:29 c earlyoom[1]: mem avail:  2430 of 31808 MiB ( 7.64%), swap free: "
             "1419 of 15903 MiB ( 8.93%)\n"
             "Feb 16 13:58:29 c earlyoom[1]: low memory! at or below SIGTERM limits: mem 10.00%, "
             "swap 10.00%\n"
             "Feb 16 13:58:29 c earlyoom[1]: sending SIGTERM to process 29410 uid 1000 "
             "\"cluster\": badness 1264, VmRSS 23964 MiB\n"
             "Feb 16 13:58:29 c earlyoom[1]: sending SIGKILL to process 29410 uid 1000 "
             "\"cluster\": badness 1264, VmRSS 23964 MiB\n"
             "Feb 16 13:58:40 c earlyoom[1]: sending SIGTERM to process 7 uid 0 \"x\": badness "
             "1, VmRSS 1 MiB\n");
    assert_int_equal(p.nevents, 2);
    const struct oom_event *e = &p.events[0];
    assert_int_equal(e->killer, OOM_KILLER_EARLYOOM);
    assert_int_equal(e->nvictims, 1);
    assert_int_equal(e->victims[0].pid, 29410);
    assert_int_equal(e->victims[0].uid, 1000);
    assert_string_equal(e->victims[0].comm, "cluster");
    assert_int_equal(e->victims[0].vm_rss_kb, 23964ull * 1024);
    assert_int_equal(e->user->avail_mib, 2430);
    assert_string_equal(e->user->mem_limit, "10.00%");
    assert_string_equal(e->user->signal, "SIGKILL");
    assert_int_equal(e->user->attempts, 2);
    /* the next kill had no memory lines of its own: none are lent to it */
    assert_false(opt_has(p.events[1].user->avail_mib));
    assert_string_equal(p.events[1].user->mem_limit, "");
    oomlog_release(&p);

    /* earlyoom's banner and its reports every hour: no kill */
    feed(&p, "Jul 18 08:23:17 s earlyoom[2]: earlyoom v1.7-41-g90f1a67\n"
             "Jul 18 08:23:17 s earlyoom[2]: sending SIGTERM when mem <= 10.00% and swap <= "
             "10.00%,\n"
             "Jul 18 08:23:17 s earlyoom[2]:         SIGKILL when mem <=  5.00% and swap <=  "
             "5.00%\n"
             "Jul 18 08:23:17 s earlyoom[2]: mem avail: 55499 of 760640 MiB ( 7.30%), swap free: "
             "   0 of 2047 MiB ( 0.00%)\n");
    assert_int_equal(p.nevents, 0);
    oomlog_release(&p);

    /* systemd writing to /dev/kmsg before journald runs: its lines in kernel text */
    feed(&p, "[ 77.7] systemd-oomd[659]: Marked /system.slice/j.service for killing due to memory "
             "pressure for /system.slice being 85.03% > 80.00% for > 2s with reclaim activity\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].killer, OOM_KILLER_OOMD);
    assert_true(p.events[0].user->marked);
    oomlog_release(&p);
}

/* Readers of the kernel's OOM kills (status, doctor, watch, the agent's counters, explain's
 * events[]) leave the userspace killers' kills out; systemd's record of a unit is the kernel's
 * kill told by systemd and stays. */
static void kernel_readers_leave_userspace_kills_out(void **state)
{
    (void)state;
    struct oomlog p;
    char text[4096];
    snprintf(text, sizeof(text),
             SUMMARY(40, "/system.slice/foo.service", "9") KILL("9") J
             "earlyoom[7]: sending SIGTERM to process 77 uid 1000 \"tail\": badness 900, "
             "VmRSS 4000 MiB\n" UNIT("bar.service", OOMLINE) J
             "systemd-oomd[5]: Killed /system.slice/baz.service due to memory pressure "
             "for /system.slice being 85.03%% > 80.00%% for > 2s with reclaim "
             "activity\n",
             40, 40, 45, 55, 56);
    feed(&p, text);
    assert_int_equal(p.nevents, 4);
    assert_false(oom_event_userspace_kill(&p.events[0]));
    assert_true(oom_event_userspace_kill(&p.events[1]));
    assert_int_equal(p.events[2].record, OOM_RECORD_SYSTEMD);
    assert_false(oom_event_userspace_kill(&p.events[2]));
    assert_true(oom_event_userspace_kill(&p.events[3]));
    oomlog_drop_userspace_kills(&p);
    assert_int_equal(p.nevents, 2);
    assert_int_equal(p.events[0].record, OOM_RECORD_KERNEL);
    assert_int_equal(p.events[0].victims[0].pid, 9);
    assert_int_equal(p.events[1].record, OOM_RECORD_SYSTEMD);
    assert_string_equal(p.events[1].user->unit, "bar.service");
    oomlog_release(&p);

    /* systemd's record that systemd-oomd killed in a unit, its own line not in the text: a
     * userspace kill told by systemd, not the kernel's */
    feed(&p, "Dec 18 19:34:56 d systemd[1]: foo.service: systemd-oomd killed 3 process(es) in "
             "this unit.\n");
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].record, OOM_RECORD_SYSTEMD);
    assert_int_equal(p.events[0].killer, OOM_KILLER_OOMD);
    assert_true(oom_event_userspace_kill(&p.events[0]));
    oomlog_drop_userspace_kills(&p);
    assert_int_equal(p.nevents, 0);
    oomlog_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(systemd_unit_lines),
        cmocka_unit_test(oomd_lines),
        cmocka_unit_test(earlyoom_lines),
        cmocka_unit_test(units_with_kernel_kills),
        cmocka_unit_test(units_alone),
        cmocka_unit_test(userspace_killers),
        cmocka_unit_test(kernel_readers_leave_userspace_kills_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
