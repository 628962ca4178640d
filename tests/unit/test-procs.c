/* The process model: /proc parsers and the snapshot of a fixture tree. */
#include "testlib.h"

#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/opt.h"
#include "model/meminfo.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"

static void stat_comm_with_parens_and_spaces(void **state)
{
    (void)state;
    const char *s = "520 (my prog) (x) S 1 520 520 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 3 0 900 "
                    "123 45 18446744073709551615\n";
    struct proc p = {0};
    assert_int_equal(proc_stat_parse(s, strlen(s), &p), 0);
    assert_string_equal(p.comm, "my prog) (x");
    assert_int_equal(p.state, 'S');
    assert_int_equal(p.ppid, 1);
    assert_int_equal(p.nthreads, 3);
    assert_int_equal(p.start_time, 900);
    assert_false(p.kernel_thread);

    const char *k = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 18 0 0\n";
    assert_int_equal(proc_stat_parse(k, strlen(k), &p), 0);
    assert_true(p.kernel_thread);

    /* a newline inside comm (prctl allows it) */
    const char *nl = "7 (a\nb) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n";
    assert_int_equal(proc_stat_parse(nl, strlen(nl), &p), 0);
    assert_string_equal(p.comm, "a\nb");
    assert_int_equal(p.state, 'R');
}

static void stat_rejects_garbage(void **state)
{
    (void)state;
    struct proc p = {0};
    const char *bad[] = {"", "12 no-parens S 1", "12 (x) S 1 2 3", "12 (x)", ")(", "1 (x) S a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(proc_stat_parse(bad[i], strlen(bad[i]), &p), -EBADMSG);
}

static void status_memory_and_absence(void **state)
{
    (void)state;
    const char *s = "Name:\tcat\nUid:\t1000\t1000\t1000\t1000\nVmLck:\t 64 kB\nVmRSS:\t 1764 kB\n"
                    "RssAnon:\t 112 kB\nRssFile:\t 1652 kB\nRssShmem:\t 0 kB\nVmPTE:\t 52 kB\n"
                    "VmSwap:\t 8 kB\n"
                    "Threads:\t4\nCapEff:\t000001fffeffffff\n";
    struct proc p = {.uid = -1};
    assert_int_equal(proc_status_parse(s, strlen(s), &p), 0);
    assert_int_equal(p.uid, 1000);
    assert_int_equal(p.rss_anon, 112 * 1024);
    assert_int_equal(p.rss_file, 1652 * 1024);
    assert_int_equal(p.rss_shmem, 0);
    assert_int_equal(p.pgtables, 52 * 1024);
    assert_int_equal(p.swap, 8 * 1024);
    assert_int_equal(p.vm_lck, 64 * 1024);
    assert_int_equal(p.nthreads, 4);
    assert_true(p.cap_eff == 0x000001fffefffffful);
    assert_true(p.has_mm);
    assert_int_equal(proc_rss(&p), 1764 * 1024);

    /* a zombie prints no memory lines: absent, never 0 */
    const char *z = "Name:\tdefunct\nState:\tZ (zombie)\nUid:\t0\t0\t0\t0\nThreads:\t1\n";
    struct proc q = {.uid = -1};
    assert_int_equal(proc_status_parse(z, strlen(z), &q), 0);
    assert_false(q.has_mm);
    assert_true(q.rss_anon == OPT_ABSENT);
    assert_true(q.pgtables == OPT_ABSENT);
    assert_true(q.vm_lck == OPT_ABSENT);

    /* 4.0-4.14 kernels: page tables split into VmPTE + VmPMD; pre-4.5: no Rss split */
    const char *old = "Name:\told\nVmRSS:\t 400 kB\nVmPTE:\t 12 kB\nVmPMD:\t 8 kB\nVmSwap:\t 0 kB\n";
    struct proc o = {.uid = -1, .rss_anon = OPT_ABSENT, .rss_file = OPT_ABSENT,
                     .rss_shmem = OPT_ABSENT};
    assert_int_equal(proc_status_parse(old, strlen(old), &o), 0);
    assert_int_equal(o.pgtables, 20 * 1024);
    assert_true(o.rss_anon == OPT_ABSENT);
    assert_int_equal(proc_rss(&o), 400 * 1024);

    assert_int_equal(proc_status_parse("garbage", 7, &o), -EBADMSG);
}

static void cgroup_file_v1_v2_hybrid(void **state)
{
    (void)state;
    char *mem = NULL, *uni = NULL;
    bool v1;
    const char *hybrid = "9:name=systemd:/\n4:memory:/process_api/54d4\n3:cpuset:/\n0::/user.slice\n";
    assert_int_equal(proc_cgroup_parse(hybrid, strlen(hybrid), &mem, &uni, &v1), 0);
    assert_string_equal(mem, "/process_api/54d4");
    assert_string_equal(uni, "/user.slice");
    assert_true(v1);
    free(mem);
    free(uni);

    const char *v2 = "0::/system.slice/a:b.service\n";
    assert_int_equal(proc_cgroup_parse(v2, strlen(v2), &mem, &uni, &v1), 0);
    assert_string_equal(mem, "/system.slice/a:b.service");
    assert_string_equal(uni, "/system.slice/a:b.service");
    assert_false(v1);
    free(mem);
    free(uni);

    const char *combined = "5:cpu,memory,blkio:/docker/abc\n";
    assert_int_equal(proc_cgroup_parse(combined, strlen(combined), &mem, &uni, &v1), 0);
    assert_string_equal(mem, "/docker/abc");
    assert_null(uni);
    free(mem);

    assert_int_equal(proc_cgroup_parse("junk\n", 5, &mem, &uni, &v1), -EBADMSG);
}

static void snapshot_fixture(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("procs-basic"), NULL), 0);
    assert_false(sr.live);
    struct proc_table t;
    assert_int_equal(procs_snapshot(&sr, PROC_READ_ALL, &t), 0);
    /* 17 processes; the empty /proc/4242 (exited mid-scan) is skipped */
    assert_int_equal(t.n, 17);
    assert_null(proc_table_find(&t, 4242));
    for (size_t i = 1; i < t.n; i++)
        assert_true(t.v[i - 1].pid < t.v[i].pid);

    const struct proc *p = proc_table_find(&t, 520);
    assert_non_null(p);
    assert_string_equal(p->comm, "my prog) (x");
    assert_int_equal(p->cmdline_len, strlen("./my prog) (x") + 1 + strlen("--flag"));
    assert_string_equal(p->cgroup, "/user.slice/user-1000.slice/session-3.scope");
    assert_false(p->cgroup_is_v1);
    assert_int_equal(p->uid, 1000);

    const struct proc *k = proc_table_find(&t, 3);
    assert_true(k->kernel_thread);
    assert_false(k->has_mm);
    assert_int_equal(k->cmdline_len, 0);

    const struct proc *z = proc_table_find(&t, 901);
    assert_int_equal(z->state, 'Z');
    assert_false(z->has_mm);

    /* leader exited, thread 951 alive: counters come from the thread */
    const struct proc *l = proc_table_find(&t, 950);
    assert_true(l->has_mm);
    assert_int_equal(l->rss_anon, 51200 * 1024ull);

    const struct proc *h = proc_table_find(&t, 900);
    assert_int_equal(h->oom_score_adj, -1000);
    assert_int_equal(h->oom_score, 0);
    proc_table_release(&t);

    /* a view that needs less reads less: no status → no memory, no uid */
    assert_int_equal(procs_snapshot(&sr, PROC_READ_STAT | PROC_READ_OOM, &t), 0);
    p = proc_table_find(&t, 700);
    assert_int_equal(p->oom_score, 920);
    assert_true(p->rss_anon == OPT_ABSENT);
    assert_int_equal(p->uid, -1);
    assert_null(p->cgroup);
    proc_table_release(&t);

    /* the policy's view: oom_score_adj alone, the kernel's oom_score not read */
    assert_int_equal(procs_snapshot(&sr, PROC_READ_STAT | PROC_READ_ADJ, &t), 0);
    p = proc_table_find(&t, 800);
    assert_true(p->has_adj);
    assert_false(p->has_oom);
    assert_int_equal(p->oom_score, 0);
    assert_int_equal(p->oom_score_adj, -997);
    proc_table_release(&t);

    /* a ranking view: kernel threads stop at their stat, user tasks are read whole */
    assert_int_equal(procs_snapshot(&sr, PROC_READ_ALL | PROC_USER_TASKS_ONLY, &t), 0);
    assert_int_equal(t.n, 17);
    k = proc_table_find(&t, 3);
    assert_true(k->kernel_thread);
    assert_false(k->has_oom);
    assert_int_equal(k->uid, -1);
    assert_null(k->cgroup);
    p = proc_table_find(&t, 520);
    assert_true(p->has_oom);
    assert_int_equal(p->uid, 1000);
    assert_string_equal(p->cgroup, "/user.slice/user-1000.slice/session-3.scope");
    proc_table_release(&t);
    sysroot_close(&sr);
}

static void read_one_vanished(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("procs-basic"), NULL), 0);
    struct buf b = BUF_INIT(1 << 20);
    struct proc p;
    assert_int_equal(procs_read_one(&sr, 4242, PROC_READ_ALL, &b, &p), -ENOENT);
    assert_int_equal(procs_read_one(&sr, 31337, PROC_READ_ALL, &b, &p), -ENOENT);
    assert_int_equal(procs_read_one(&sr, 700, PROC_READ_ALL, &b, &p), 0);
    assert_string_equal(p.comm, "java");
    /* one file alone is read as PID/FILE, without the process's directory: the same values,
     * and the same -ENOENT for a process that is not there */
    struct proc one;
    assert_int_equal(procs_read_one(&sr, 4242, PROC_READ_STAT, &b, &one), -ENOENT);
    assert_int_equal(procs_read_one(&sr, 4242, PROC_READ_CGROUP, &b, &one), -ENOENT);
    assert_int_equal(procs_read_one(&sr, 700, PROC_READ_STAT, &b, &one), 0);
    assert_string_equal(one.comm, p.comm);
    assert_int_equal(one.ppid, p.ppid);
    assert_int_equal(one.start_time, p.start_time);
    assert_null(one.cgroup);
    proc_release(&one);
    assert_int_equal(procs_read_one(&sr, 700, PROC_READ_CGROUP, &b, &one), 0);
    assert_string_equal(one.cgroup, p.cgroup);
    assert_int_equal(one.uid, -1);
    proc_release(&one);
    assert_int_equal(procs_read_one(&sr, 700, PROC_READ_ADJ, &b, &one), 0);
    assert_true(one.has_adj);
    assert_int_equal(one.oom_score_adj, p.oom_score_adj);
    proc_release(&one);
    proc_release(&p);
    buf_release(&b);
    sysroot_close(&sr);
}

/* The last PID handed out moves with every fork, and reads what the kernel just gave. */
static void last_pid_follows_forks(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, "/", NULL), 0);
    uint64_t before, after;
    assert_int_equal(procs_last_pid(&sr, &before), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    assert_int_equal(procs_last_pid(&sr, &after), 0);
    assert_true(after != before);
    /* nobody else may have forked in between, or the counter wrapped: at least ours is past */
    assert_true(after >= (uint64_t)child || after < before);
    sysroot_close(&sr);
}

static void sysroot_missing_proc(void **state)
{
    (void)state;
    struct sysroot sr;
    const char *failed = NULL;
    assert_int_equal(sysroot_open(&sr, "/nonexistent-oomwarden-root", &failed), -ENOENT);
    assert_string_equal(failed, "/nonexistent-oomwarden-root");
    assert_int_equal(sysroot_open(&sr, FIXTURES_DIR, &failed), -ENOENT);
    assert_string_equal(failed, FIXTURES_DIR "/proc");
}

/* the kernel's memory in `status`: Slab + KernelStack + PageTables, a missing line as 0 */
static void meminfo_kernel_total(void **state)
{
    (void)state;
    static const char text[] = "MemTotal:       16384 kB\n"
                               "Slab:            2048 kB\n"
                               "KernelStack:      100 kB\n"
                               "PageTables:       300 kB\n"
                               "SUnreclaim:       999 kB\n";
    struct meminfo m;
    assert_int_equal(meminfo_parse(text, sizeof(text) - 1, &m), 0);
    assert_int_equal(meminfo_kernel(&m), (2048 + 100 + 300) * 1024ull);
    /* an old kernel without PageTables: the rest still counts */
    assert_int_equal(meminfo_parse(text, 75, &m), 0);
    assert_true(m.page_tables == OPT_ABSENT);
    assert_int_equal(meminfo_kernel(&m), (2048 + 100) * 1024ull);
    assert_int_equal(meminfo_parse("MemTotal: 1 kB\n", 15, &m), 0);
    assert_int_equal(meminfo_kernel(&m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stat_comm_with_parens_and_spaces),
        cmocka_unit_test(stat_rejects_garbage),
        cmocka_unit_test(status_memory_and_absence),
        cmocka_unit_test(cgroup_file_v1_v2_hybrid),
        cmocka_unit_test(snapshot_fixture),
        cmocka_unit_test(read_one_vanished),
        cmocka_unit_test(last_pid_follows_forks),
        cmocka_unit_test(sysroot_missing_proc),
        cmocka_unit_test(meminfo_kernel_total),
    };
    return cmocka_run_group_tests_name("procs", tests, NULL, NULL);
}
