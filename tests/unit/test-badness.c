/* oom_badness() and /proc/PID/oom_score in each kernel era, and the kill order. */
#include "testlib.h"

#include <stdlib.h>

#include "model/proc/badness.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/proc/victims.h"

static struct kver kv(const char *s)
{
    struct kver k;
    assert_int_equal(kver_parse(s, &k), 0);
    return k;
}

static void kernel_versions_pick_the_formula(void **state)
{
    (void)state;
    struct kver k = kv("6.18.44-fc-v769");
    assert_int_equal(k.major, 6);
    assert_int_equal(k.minor, 18);
    assert_int_equal(k.patch, 44);
    assert_string_equal(k.release, "6.18.44-fc-v769");
    k = kv("2.6.32-279.19.1.el6.x86_64");
    assert_int_equal(k.major, 2);
    assert_int_equal(k.minor, 6);
    assert_int_equal(k.patch, 32);
    k = kv("6.1-rc3");
    assert_int_equal(k.patch, 0);
    struct kver bad;
    assert_int_not_equal(kver_parse("linux", &bad), 0);

    struct {
        const char *rel;
        enum badness_algo algo;
        bool later_wins;
    } cases[] = {
        {"2.6.32-279.el6", BADNESS_PERMILLE, false},
        {"3.4.113", BADNESS_PERMILLE, false},
        {"3.5.0", BADNESS_PAGES_ROOTBONUS, false},
        {"4.16.18", BADNESS_PAGES_ROOTBONUS, false},
        {"4.17.0", BADNESS_PAGES, false},
        {"4.19.0-18-amd64", BADNESS_PAGES, false},
        {"5.0.21", BADNESS_PAGES, false},
        {"5.3.18", BADNESS_PAGES, true},
        {"5.4.0-29-generic", BADNESS_SIGNED, true},
        {"5.8.18", BADNESS_PAGES, true},
        {"5.9.0", BADNESS_SIGNED, true},
        {"6.1.0-13-amd64", BADNESS_SIGNED, true},
        {"7.2.13", BADNESS_SIGNED, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kver c = kv(cases[i].rel);
        assert_int_equal(badness_algo_for(&c), cases[i].algo);
        assert_int_equal(badness_later_wins_ties(&c), cases[i].later_wins);
    }
}

static void signed_formula(void **state)
{
    (void)state;
    /* read off this machine: 2373 pages, adj 0, T = 6170905 → oom_score 666 */
    struct badness_input in = {.eligible = true, .rss_pages = 2300, .swap_pages = 0,
                               .pgtables_pages = 73, .adj = 0};
    int64_t pts;
    assert_true(badness_points(BADNESS_SIGNED, &in, 6170905, &pts));
    assert_int_equal(pts, 2373);
    assert_int_equal(badness_oom_score(BADNESS_SIGNED, true, pts, 6170905), 666);

    /* Guaranteed pod: 2 GiB on a 4 GiB box at -997 goes negative, no floor since 5.9 */
    in = (struct badness_input){.eligible = true, .rss_pages = 525312, .pgtables_pages = 1050,
                                .adj = -997};
    assert_true(badness_points(BADNESS_SIGNED, &in, 1048576, &pts));
    assert_int_equal(pts, 526362 - 997 * 1048);
    /* (1000 + -518494*1000/1048576) * 2/3, truncating toward zero: (1000-494)*2/3 */
    assert_int_equal(badness_oom_score(BADNESS_SIGNED, true, pts, 1048576), 337);

    /* adj 1000 with 196 kB: the seed cascade's first victim */
    in = (struct badness_input){.eligible = true, .rss_pages = 49, .adj = 1000};
    assert_true(badness_points(BADNESS_SIGNED, &in, 1048576, &pts));
    assert_int_equal(pts, 1048049);
    assert_int_equal(badness_oom_score(BADNESS_SIGNED, true, pts, 1048576), 1332);

    /* totalpages/1000 is an integer division done first: T = 999 makes adj worthless */
    in = (struct badness_input){.eligible = true, .rss_pages = 10, .adj = 1000};
    assert_true(badness_points(BADNESS_SIGNED, &in, 999, &pts));
    assert_int_equal(pts, 10);

    /* 3.5 TiB on a 4 TiB machine, adj 1000: no overflow */
    in = (struct badness_input){.eligible = true, .rss_pages = 939524096, .adj = 1000};
    assert_true(badness_points(BADNESS_SIGNED, &in, 1073741824, &pts));
    assert_int_equal(pts, 939524096 + 1000 * 1073741);
    assert_int_equal(badness_oom_score(BADNESS_SIGNED, true, pts, 1073741824), 1916);

    /* ineligible: no points, score 0 */
    in.eligible = false;
    assert_false(badness_points(BADNESS_SIGNED, &in, 1073741824, &pts));
    assert_int_equal(badness_oom_score(BADNESS_SIGNED, false, 0, 1073741824), 0);
}

static void older_formulas(void **state)
{
    (void)state;
    int64_t pts;
    /* 4.17-5.8: floor of 1 for anything <= 0, so negative adj ties at 1 */
    struct badness_input in = {.eligible = true, .rss_pages = 1000, .adj = -500};
    assert_true(badness_points(BADNESS_PAGES, &in, 1048576, &pts));
    assert_int_equal(pts, 1);
    assert_int_equal(badness_oom_score(BADNESS_PAGES, true, pts, 1048576), 0);
    in.adj = 0;
    in.rss_pages = 524288;
    assert_true(badness_points(BADNESS_PAGES, &in, 1048576, &pts));
    assert_int_equal(badness_oom_score(BADNESS_PAGES, true, pts, 1048576), 500);

    /* 3.5-4.16: root loses 3% before adj is added */
    in = (struct badness_input){.eligible = true, .rss_pages = 10000, .cap_sys_admin = true};
    assert_true(badness_points(BADNESS_PAGES_ROOTBONUS, &in, 1048576, &pts));
    assert_int_equal(pts, 9700);
    assert_true(badness_points(BADNESS_PAGES, &in, 1048576, &pts));
    assert_int_equal(pts, 10000);

    /* 2.6.36-3.4: per-mille, -30 for root, clamped to 1..1000 */
    in = (struct badness_input){.eligible = true, .rss_pages = 500000, .pgtables_pages = 24288,
                                .cap_sys_admin = true, .adj = 100};
    assert_true(badness_points(BADNESS_PERMILLE, &in, 1048576, &pts));
    assert_int_equal(pts, 500 - 30 + 100);
    assert_int_equal(badness_oom_score(BADNESS_PERMILLE, true, pts, 1048576), 570);
    in.adj = 1000;
    assert_true(badness_points(BADNESS_PERMILLE, &in, 1048576, &pts));
    assert_int_equal(pts, 1000);
    in.adj = -999;
    assert_true(badness_points(BADNESS_PERMILLE, &in, 1048576, &pts));
    assert_int_equal(pts, 1);
}

static void ranking_ties_follow_the_kernel(void **state)
{
    (void)state;
    struct badness_candidate c[] = {
        {.eligible = true, .points = 100, .scan_key_hi = 5, .scan_key_lo = 10},
        {.eligible = true, .points = 100, .scan_key_hi = 5, .scan_key_lo = 11},
        {.eligible = false, .scan_key_lo = 1},
        {.eligible = true, .points = -5, .scan_key_hi = 1, .scan_key_lo = 3},
        {.eligible = true, .points = 200, .scan_key_hi = 9, .scan_key_lo = 2},
        {.eligible = true, .points = 100, .scan_key_hi = 4, .scan_key_lo = 40000},
    };
    size_t order[6];
    badness_rank(c, 6, true, order);
    size_t later[] = {4, 1, 0, 5, 3, 2};
    assert_memory_equal(order, later, sizeof(later));
    badness_rank(c, 6, false, order);
    size_t first[] = {4, 5, 0, 1, 3, 2};
    assert_memory_equal(order, first, sizeof(first));
}

static void fixture_kill_order_and_oom_score(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("procs-basic"), NULL), 0);
    struct kver k;
    assert_int_equal(kver_read(&sr, &k), 0);
    assert_string_equal(k.release, "6.1.0-13-amd64");
    struct meminfo mi;
    assert_int_equal(meminfo_read(&sr, &mi), 0);
    struct proc_table t;
    assert_int_equal(procs_snapshot(&sr, PROC_READ_ALL, &t), 0);
    struct victim_list vl;
    assert_int_equal(victims_rank_global(&t, &k, &mi, 4096, &vl), 0);
    assert_int_equal(vl.totalpages, 1048576);

    /* hand-computed badness (see gen-procs-basic.py for the inputs), now and when a
     * machine-wide OOM comes: the file pages reclaimed but for the 512 of them sshd (412)
     * mlocks. The kill order is by the latter: systemd-networkd (413) holds 1525 file pages,
     * more than the 1438 by which it ranks before the twins and sshd now */
    static const struct {
        int pid;
        int64_t badness, now;
    } expect[] = {
        {801, 1048049, 1048049}, {700, 394016, 399136}, {902, 28235, 28747},
        {950, 12840, 13096},     {960, 5267, 5292},     {1002, 2056, 2056},
        {1001, 2056, 2056},      {412, 978, 1766},      {413, 618, 2143},
        {520, 237, 537},         {800, -519518, -518494}, {701, -709216, -706656},
    };
    static const int never[] = {1, 2, 3, 900, 901};
    assert_int_equal(vl.n, 17);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        assert_int_equal(vl.v[i].proc->pid, expect[i].pid);
        assert_true(vl.v[i].eligible);
        assert_int_equal(vl.v[i].badness, expect[i].badness);
        assert_int_equal(vl.v[i].badness_now, expect[i].now);
        assert_int_equal(vl.v[i].rank, i + 1);
    }
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        const struct victim *v = &vl.v[sizeof(expect) / sizeof(expect[0]) + i];
        assert_int_equal(v->proc->pid, never[i]);
        assert_false(v->eligible);
        assert_int_equal(v->rank, 0);
    }
    /* the model reproduces every oom_score the (independently generated) fixture holds */
    for (size_t i = 0; i < vl.n; i++) {
        if (vl.v[i].proc->pid == 3 || vl.v[i].proc->pid == 2)
            continue;
        assert_true(vl.v[i].scored);
        assert_int_equal(vl.v[i].oom_score_model, (uint64_t)vl.v[i].proc->oom_score);
    }
    victim_list_release(&vl);
    proc_table_release(&t);
    sysroot_close(&sr);
}

static void memcg_domain_uses_its_own_size(void **state)
{
    (void)state;
    /* In a memcg OOM the same adj weighs by the memcg's size: 256 MiB = 65536 pages. */
    struct proc a = {.pid = 10, .has_mm = true, .has_oom = true, .rss_anon = 100 << 20,
                     .rss_file = 0, .rss_shmem = 0, .swap = 0, .pgtables = 0, .oom_score_adj = 0,
                     .start_time = 1, .stat_rss_pages = 25600};
    struct proc b = a;
    b.pid = 11;
    b.rss_anon = 20 << 20;
    b.stat_rss_pages = 5120;
    b.oom_score_adj = 500; /* 500 * 65 pages = 32500 pages = 127 MiB of weight */
    const struct proc *ps[] = {&a, &b};
    struct kver k = kv("6.1.0");
    struct victim_list vl;
    struct victim_params vp = {.kernel = &k, .page_size = 4096, .totalpages = 65536,
                               .global_totalpages = 6170905};
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].proc->pid, 11);
    assert_int_equal(vl.v[0].badness, 5120 + 500 * 65);
    assert_int_equal(vl.v[1].badness, 25600);
    /* oom_score_model stays relative to the machine */
    assert_int_equal(vl.v[1].oom_score_model, (1000 + 25600 * 1000 / 6170905) * 2 / 3);
    victim_list_release(&vl);
    /* in a 24 GiB global domain, 500 adj outweighs 100 MiB too */
    vp.totalpages = 6170905;
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].proc->pid, 11);
    victim_list_release(&vl);
}

/* A machine-wide OOM comes after reclaim has taken the file pages, but not those mlock() keeps;
 * a memcg OOM scores the counters as they are (its reclaim takes only its own charges). */
static void global_oom_counts_no_file_pages(void **state)
{
    (void)state;
    struct badness_input in = {.eligible = true, .rss_pages = 1000, .file_pages = 600,
                               .locked_pages = 100, .swap_pages = 5, .pgtables_pages = 3};
    badness_input_at_global_oom(&in);
    assert_int_equal(in.rss_pages, 500);
    assert_int_equal(in.file_pages, 100);
    /* all of it locked (mlockall): nothing goes */
    in = (struct badness_input){.eligible = true, .rss_pages = 1000, .file_pages = 600,
                                .locked_pages = 5000};
    badness_input_at_global_oom(&in);
    assert_int_equal(in.rss_pages, 1000);
    /* get_mm_rss() lagging the status file count by a batch: not below 0 */
    in = (struct badness_input){.eligible = true, .rss_pages = 50, .file_pages = 600};
    badness_input_at_global_oom(&in);
    assert_int_equal(in.rss_pages, 0);

    /* a holds 8 MiB of anon and 40 MiB of a mapped file, b 20 MiB of anon: a ranks first now,
     * b once the file pages are gone; in a memcg domain the counters stay as they are */
    struct proc a = {.pid = 10, .has_mm = true, .has_oom = true, .rss_anon = 8 << 20,
                     .rss_file = 40 << 20, .rss_shmem = 0, .swap = 0, .pgtables = 0,
                     .vm_lck = 0, .oom_score_adj = 0, .start_time = 1, .stat_rss_pages = 12288};
    struct proc b = {.pid = 11, .has_mm = true, .has_oom = true, .rss_anon = 20 << 20,
                     .rss_file = 0, .rss_shmem = 0, .swap = 0, .pgtables = 0, .vm_lck = 0,
                     .oom_score_adj = 0, .start_time = 2, .stat_rss_pages = 5120};
    const struct proc *ps[] = {&a, &b};
    struct kver k = kv("6.1.0");
    struct victim_list vl;
    struct victim_params vp = {.kernel = &k, .page_size = 4096, .totalpages = 6170905,
                               .global_totalpages = 6170905, .at_global_oom = true};
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_true(vl.at_global_oom);
    assert_int_equal(vl.v[0].proc->pid, 11);
    assert_int_equal(vl.v[1].badness, 2048);
    assert_int_equal(vl.v[1].badness_now, 12288);
    /* oom_score is of the counters now */
    assert_int_equal(vl.v[1].oom_score_model, (1000 + 12288 * 1000 / 6170905) * 2 / 3);
    victim_list_release(&vl);
    /* 30 of the 40 MiB mlocked: a keeps them and ranks first again */
    a.vm_lck = 30 << 20;
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].proc->pid, 10);
    assert_int_equal(vl.v[0].badness, 2048 + 7680);
    victim_list_release(&vl);
    a.vm_lck = 0;
    vp.at_global_oom = false;
    vp.totalpages = 65536;
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].proc->pid, 10);
    assert_int_equal(vl.v[0].badness, vl.v[0].badness_now);
    victim_list_release(&vl);
}

static struct proc counter_proc(pid_t pid, uint64_t stat_pages, uint64_t status_pages, long score)
{
    return (struct proc){.pid = pid, .has_mm = true, .has_oom = true, .stat_rss_pages = stat_pages,
                         .rss_anon = status_pages * 4096, .rss_file = 0, .rss_shmem = 0,
                         .swap = 0, .pgtables = 0, .oom_score = score, .start_time = 1};
}

static void rss_source_is_detected_from_the_kernel(void **state)
{
    (void)state;
    /* T = 6170905: 154272 pages is the last 682, 154273 the first 683 */
    struct kver k618 = kv("6.18.44"), k619 = kv("6.19.2"), k61 = kv("6.1.0");
    struct victim_params vp = {.kernel = &k618, .page_size = 4096, .totalpages = 6170905,
                               .global_totalpages = 6170905};
    const char *why = NULL;
    /* the kernel said 682: it used the stat reading (154260), not status (154290) */
    struct proc a = counter_proc(100, 154260, 154290, 682);
    struct proc b = counter_proc(101, 5000, 5000, 666); /* no evidence either way */
    const struct proc *ps[] = {&a, &b};
    assert_int_equal(victims_detect_rss_source(ps, 2, &vp, &why), RSS_FROM_STAT);
    assert_non_null(strstr(why, "detected"));
    struct victim_list vl;
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].oom_score_model, 682);
    assert_int_equal(vl.v[0].badness, 154260);
    victim_list_release(&vl);

    /* the kernel said 683: it summed exactly (status) */
    a.oom_score = 683;
    assert_int_equal(victims_detect_rss_source(ps, 2, &vp, &why), RSS_FROM_STATUS);
    assert_int_equal(victims_rank(ps, 2, &vp, &vl), 0);
    assert_int_equal(vl.v[0].oom_score_model, 683);
    assert_int_equal(vl.v[0].badness, 154290);
    victim_list_release(&vl);

    /* no evidence: by version */
    const struct proc *only_b[] = {&b};
    assert_int_equal(victims_detect_rss_source(only_b, 1, &vp, &why), RSS_FROM_STAT);
    vp.kernel = &k619;
    assert_int_equal(victims_detect_rss_source(only_b, 1, &vp, &why), RSS_FROM_STATUS);
    /* before 6.2 both files read the same counters: no vote needed, no slack */
    vp.kernel = &k61;
    assert_int_equal(victims_detect_rss_source(ps, 2, &vp, &why), RSS_FROM_STAT);
    assert_int_equal(badness_counter_error_pages(&k61, 2), 0);
    assert_int_equal(badness_counter_error_pages(&k618, 2), 4 * 32 * 2);
    assert_int_equal(badness_counter_error_pages(&k618, 64), 4 * 128 * 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_versions_pick_the_formula),
        cmocka_unit_test(signed_formula),
        cmocka_unit_test(older_formulas),
        cmocka_unit_test(ranking_ties_follow_the_kernel),
        cmocka_unit_test(fixture_kill_order_and_oom_score),
        cmocka_unit_test(memcg_domain_uses_its_own_size),
        cmocka_unit_test(global_oom_counts_no_file_pages),
        cmocka_unit_test(rss_source_is_detected_from_the_kernel),
    };
    return cmocka_run_group_tests_name("badness", tests, NULL, NULL);
}
