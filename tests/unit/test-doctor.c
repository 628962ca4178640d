/* doctor and status underneath: the checks on the seed fixtures (tests/fixtures/gen-doctor.py),
 * their thresholds, and the model pieces they added (sysctls, swaps, oomdomain_build_at,
 * json_raw). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/json.h"
#include "base/opt.h"
#include "engine/doctor/doctor.h"
#include "model/node.h"
#include "model/critical.h"
#include "model/proc/oomdomain.h"
#include "model/pressure/psi.h"
#include "model/swaps.h"
#include "model/sysctl.h"
#include "model/sysroot.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

struct fx {
    struct sysroot sr;
    struct node n;
    struct doctor_report rep;
};

static void fx_open(struct fx *f, const char *root, const char *const *critical, size_t ncrit)
{
    assert_int_equal(sysroot_open(&f->sr, root, NULL), 0);
    assert_int_equal(node_read(&f->sr, NODE_READ_ALL, &f->n), 0);
    struct doctor_opts o = {.critical = critical, .ncritical = ncrit};
    for (int i = 0; i < CHECK_COUNT; i++)
        o.run[i] = true;
    assert_int_equal(doctor_run(&f->n, &o, &f->rep), 0);
}

static void fx_close(struct fx *f)
{
    doctor_report_release(&f->rep);
    node_release(&f->n);
    sysroot_close(&f->sr);
}

static const struct finding *find(const struct fx *f, enum doctor_check_id c)
{
    for (size_t i = 0; i < f->rep.n; i++)
        if (f->rep.v[i].check == c)
            return &f->rep.v[i];
    return NULL;
}

static bool evidence_has(const struct finding *fi, const char *needle)
{
    for (size_t i = 0; i < fi->nevidence; i++)
        if (strstr(fi->evidence[i], needle))
            return true;
    return false;
}

/* ---- the seed situations --------------------------------------------------------------------- */

static void node_crash_kill_order(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-k8s-node"), NULL, 0);
    const struct finding *k = find(&f, CHECK_KILL_ORDER);
    assert_non_null(k);
    assert_int_equal(k->severity, DOCTOR_CRITICAL);
    /* ranked first: critical before everything else, then by check order */
    assert_ptr_equal(&f.rep.v[0], k);
    /* 8 GiB: one adj point is 2097 pages; the order worked out in gen-doctor.py */
    assert_non_null(strstr(k->data, "\"adj_weight_pages\":2097"));
    assert_non_null(strstr(k->title, "kills 5 node-critical processes"));
    assert_true(evidence_has(k, "node-critical before the first workload: sshd (#1), "
                                "systemd-network (#2), systemd-resolve (#4), systemd-homed (#5), "
                                "chronyd (#6);"));
    /* journald (-250) ranks before java now, not once java has taken what reclaim can free:
     * 8192 MiB - anon 6200 - slab 100 - stacks 12 - page tables 40 = 1840 MiB = 471040 pages,
     * java's badness at the OOM (its 60 MiB of file pages reclaimed) -605893 + 471040 = -134853
     * > journald's -516554 (the seed's log shows no journald kill either) */
    assert_true(evidence_has(k, "its badness then -134853 pages): systemd-journal (#8)"));
    assert_non_null(strstr(k->data, "\"largest_workload_grown_badness\":-134853"));
    assert_non_null(strstr(k->data, "\"critical_before_workload_now\":6"));
    assert_true(evidence_has(k, "the first workload process is #9: java (pid 1010"));
    assert_true(evidence_has(k, "badness -516554 pages")); /* journald at -250 */
    assert_non_null(strstr(k->data, "\"pid\":1010,\"comm\":\"java\",\"oom_score_adj\":-997,"
                                    "\"badness\":-605893,\"badness_now\":-590533"));
    /* rngd and agetty die first too, but are not node-critical by default */
    assert_true(
        evidence_has(k, "#3 rngd (pid 340) 12M, oom_score_adj 0, badness 2576 pages: other"));
    /* the seed's cascade in the log: machine-wide, within a day: critical */
    const struct finding *r = find(&f, CHECK_RECENT_KILLS);
    assert_non_null(r);
    assert_int_equal(r->severity, DOCTOR_CRITICAL);
    assert_true(evidence_has(r, "cascade: 13 kills in 4.6s (whole machine)"));
    /* kubepods limited to all of RAM protects nothing */
    const struct finding *l = find(&f, CHECK_LIMITS);
    assert_non_null(l);
    assert_true(evidence_has(l, "1 limit is at or above RAM"));
    assert_int_equal(doctor_worst(&f.rep), DOCTOR_CRITICAL);
    fx_close(&f);
}

static void small_workload_first_still_critical(void **state)
{
    (void)state;
    /* A 2 MiB BestEffort sidecar at 1000 ranks first; behind it the daemons still die one by one
     * before the -997 pod that holds the memory (the kernel did exactly that on the node image,
     * tests/vm/node/scenarios/node-global-oom). Looking only at the first victim missed it. */
    struct fx f;
    fx_open(&f, FIXTURE("dr-k8s-smallfirst"), NULL, 0);
    const struct finding *k = find(&f, CHECK_KILL_ORDER);
    assert_non_null(k);
    assert_int_equal(k->severity, DOCTOR_CRITICAL);
    assert_non_null(strstr(k->title, "kills 5 node-critical processes before the workload "
                                     "process holding the most memory (java, #10)"));
    assert_true(evidence_has(k, "sshd (#2), systemd-network (#3), systemd-resolve (#5), "
                                "systemd-homed (#6), chronyd (#7);"));
    assert_true(evidence_has(k, "pages): systemd-journal (#9)"));
    assert_true(evidence_has(k, "the first workload process is #1: log-shipper (pid 1040"));
    assert_true(evidence_has(k, "the workload process holding the most memory is #10: java"));
    assert_non_null(strstr(k->data, "\"first_workload\":{\"rank\":1,\"pid\":1040,"));
    assert_non_null(strstr(k->data, "\"largest_workload\":{\"rank\":10,\"pid\":1010,"));
    assert_non_null(strstr(k->data, "\"critical_before_workload\":[{\"rank\":2,\"pid\":380,"));
    fx_close(&f);
    /* the same node without the sidecar: the first workload is the largest, as before */
    fx_open(&f, FIXTURE("dr-k8s-node"), NULL, 0);
    k = find(&f, CHECK_KILL_ORDER);
    assert_non_null(k);
    assert_non_null(strstr(k->title, "before the first workload process (java, #9)"));
    assert_non_null(strstr(k->data, "\"largest_workload\":{\"rank\":9,\"pid\":1010,"));
    fx_close(&f);
}

static void critical_list_is_configurable(void **state)
{
    (void)state;
    /* only rngd counts: it is #3, and the finding names it alone */
    static const char *const only_rngd[] = {"rngd"};
    struct fx f;
    fx_open(&f, FIXTURE("dr-k8s-node"), only_rngd, 1);
    const struct finding *k = find(&f, CHECK_KILL_ORDER);
    assert_non_null(k);
    assert_non_null(strstr(k->title, "kills 1 node-critical process before"));
    assert_true(evidence_has(k, "node-critical before the first workload: rngd (#3)"));
    fx_close(&f);
    /* a pattern that matches nothing before the workload: no finding */
    static const char *const kube[] = {"kube*"};
    fx_open(&f, FIXTURE("dr-k8s-node"), kube, 1);
    assert_null(find(&f, CHECK_KILL_ORDER));
    assert_int_equal(f.rep.result[CHECK_KILL_ORDER], RESULT_OK);
    fx_close(&f);
}

static void limits_over_ram(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-limits"), NULL, 0);
    const struct finding *l = find(&f, CHECK_LIMITS);
    assert_non_null(l);
    assert_int_equal(l->severity, DOCTOR_WARNING);
    /* 178 + 16 + 8 GiB: the pods, not their containers again */
    char want[64];
    snprintf(want, sizeof(want), "\"limits_sum\":%llu", 202 * GiB);
    assert_non_null(strstr(l->data, want));
    assert_non_null(strstr(l->title, "202 GiB, more than RAM (192 GiB)"));
    assert_null(strstr(l->data, "cri-containerd"));
    fx_close(&f);
}

static void limits_beyond_ram_under_a_full_parent(void **state)
{
    (void)state;
    /* the pods' 202 GiB under kubepods.slice at 184 GiB of 192: no top-level overcommit, but 8
     * GiB is all the node's own daemons have: a warning (it was information) */
    struct fx f;
    fx_open(&f, FIXTURE("dr-limits-reserved"), NULL, 0);
    const struct finding *l = find(&f, CHECK_LIMITS);
    assert_non_null(l);
    assert_int_equal(l->severity, DOCTOR_WARNING);
    assert_non_null(strstr(l->title, "the limits under /kubepods.slice add up to 202 GiB, more "
                                     "than RAM (192 GiB), and the top-most limits take 96% of "
                                     "RAM: 8.0 GiB is all"));
    fx_close(&f);
}

static void page_cache_at_the_limit(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-pagecache"), NULL, 0);
    const struct finding *p = find(&f, CHECK_PAGE_CACHE);
    assert_non_null(p);
    assert_int_equal(p->severity, DOCTOR_WARNING); /* active cache and tmpfs cannot go quickly */
    assert_true(evidence_has(p, "/system.slice/logship.service: 1.9 GiB of 2.0 GiB (95%)"));
    assert_true(evidence_has(p, "shmem 900 MiB"));
    assert_true(evidence_has(p, "/system.slice/backup.service"));
    fx_close(&f);
}

static void oom_group_containers(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-oomgroup"), NULL, 0);
    const struct finding *g = find(&f, CHECK_OOM_GROUP);
    assert_non_null(g);
    assert_int_equal(g->severity, DOCTOR_WARNING);
    assert_true(evidence_has(g, "4 processes, 4 die together: nginx 8120"));
    assert_true(evidence_has(g, "5 processes, 5 die together: php-fpm 3000"));
    assert_true(evidence_has(g, "singleProcessOOMKill"));
    assert_non_null(strstr(g->data, "\"pids\":[8120,8156,8157,8212]"));
    /* the AKS group kill: one event, five processes, vmstat's 6 counts the victim twice */
    const struct finding *r = find(&f, CHECK_RECENT_KILLS);
    assert_non_null(r);
    assert_true(evidence_has(r, "killed bash (pid 7788), 6.8 GiB, oom_score_adj 1000, and 4 "
                                "more by memory.oom.group"));
    assert_false(evidence_has(r, "overwritten"));
    fx_close(&f);
}

static void legacy_machine(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-legacy"), NULL, 0);
    const struct finding *s = find(&f, CHECK_SYSCTL);
    assert_non_null(s);
    assert_int_equal(s->severity, DOCTOR_CRITICAL);
    assert_true(evidence_has(s, "vm.oom_kill_allocating_task=1"));
    assert_true(evidence_has(s, "Committed_AS 3.1 GiB (97%)"));
    const struct finding *a = find(&f, CHECK_ADJ);
    assert_non_null(a);
    assert_true(evidence_has(a, "mongod (pid 310): 1.2G (30% of RAM), oom_score_adj -1000"));
    const struct finding *d = find(&f, CHECK_OOM_DAEMON);
    assert_non_null(d);
    assert_int_equal(d->severity, DOCTOR_WARNING); /* systemd-oomd on v1 does nothing */
    const struct finding *k = find(&f, CHECK_KERNEL_LOG);
    assert_non_null(k);
    assert_true(evidence_has(k, "/proc/vmstat oom_kill (2 since boot)"));
    assert_int_equal(f.rep.result[CHECK_PRESSURE], RESULT_SKIPPED);
    assert_int_equal(f.rep.result[CHECK_RECENT_KILLS], RESULT_SKIPPED);
    assert_non_null(find(&f, CHECK_PSI_CGROUPS));
    fx_close(&f);
}

static void clean_machine_nothing_above_info(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, FIXTURE("dr-clean"), NULL, 0);
    for (size_t i = 0; i < f.rep.n; i++)
        assert_int_equal(f.rep.v[i].severity, DOCTOR_INFO);
    assert_int_equal(doctor_worst(&f.rep), DOCTOR_INFO);
    const struct finding *s = find(&f, CHECK_SWAP);
    assert_non_null(s);
    assert_true(evidence_has(s, "holds 600 MiB compressed into 200 MiB (3.0:1)"));
    for (int c = 0; c < CHECK_COUNT; c++)
        if (c != CHECK_SWAP)
            assert_int_equal(f.rep.result[c], RESULT_OK);
    fx_close(&f);
}

/* ---- thresholds and helpers --------------------------------------------------------------------
 */

static void critical_name_patterns(void **state)
{
    (void)state;
    size_t n = 0;
    while (critical_default_names[n])
        n++;
    /* comm is cut to 15 bytes: systemd-networkd is "systemd-network" */
    assert_true(critical_name_matches(critical_default_names, n, "systemd-network"));
    assert_true(critical_name_matches(critical_default_names, n, "sshd"));
    assert_true(critical_name_matches(critical_default_names, n, "containerd-shim"));
    assert_false(critical_name_matches(critical_default_names, n, "systemd")); /* user managers */
    assert_false(critical_name_matches(critical_default_names, n, "sshd-session"));
    assert_false(critical_name_matches(critical_default_names, n, "java"));
    assert_int_equal(doctor_check_find("kill-order"), CHECK_KILL_ORDER);
    assert_int_equal(doctor_check_find("kernel-log"), CHECK_KERNEL_LOG);
    assert_int_equal(doctor_check_find("nope"), -1);
}

static void swaps_and_sysctls(void **state)
{
    (void)state;
    const char *t = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                    "/dev/zram0                              partition\t4194300\t\t1024\t\t100\n"
                    "/swap\\040file                           file\t\t2097148\t\t0\t\t-2\n";
    struct swaps s;
    assert_int_equal(swaps_parse(t, strlen(t), &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0].zram);
    assert_int_equal(s.v[0].size, 4194300ull * 1024);
    assert_int_equal(s.v[0].used, 1024ull * 1024);
    assert_int_equal(s.v[1].priority, -2);
    assert_string_equal(s.v[1].name, "/swap\\040file");
    assert_false(s.v[1].zram);
    swaps_release(&s);
    assert_int_equal(swaps_parse("Filename Type Size Used Priority\n", 33, &s), 0);
    assert_int_equal(s.n, 0);
    swaps_release(&s);

    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("dr-legacy"), NULL), 0);
    struct sysctls k;
    sysctls_read(&sr, &k);
    assert_int_equal(k.panic_on_oom, 2);
    assert_int_equal(k.oom_kill_allocating_task, 1);
    assert_int_equal(k.overcommit_memory, 2);
    assert_int_equal(k.panic, 10);
    sysroot_close(&sr);
    /* a tree without /proc/sys: absent, not 0 */
    assert_int_equal(sysroot_open(&sr, FIXTURE("procs-basic"), NULL), 0);
    sysctls_read(&sr, &k);
    assert_false(opt_has(k.panic_on_oom));
    assert_false(opt_has_i64(k.panic));
    sysroot_close(&sr);
}

/* oomdomain_build_at (from one walk) ranks exactly as oomdomain_build (which reads again) */
static void domain_from_snapshot_matches(void **state)
{
    (void)state;
    static const char *const roots[] = {FIXTURE("cg-v2"), FIXTURE("cg-v1"),
                                        FIXTURE("cg-k8s-systemd"), FIXTURE("cg-k8s-cgroupfs")};
    for (size_t r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
        struct sysroot sr;
        struct node n;
        assert_int_equal(sysroot_open(&sr, roots[r], NULL), 0);
        assert_int_equal(node_read(&sr, NODE_READ_PROCS | NODE_READ_CGROUPS, &n), 0);
        size_t compared = 0, bound_above = 0;
        for (size_t i = 0; i < n.cgroups.n; i++) {
            const struct cgroup_memory *cg = &n.cgroups.v[i];
            if (cg->parent == SIZE_MAX || !cgroup_limit_set(cg->max))
                continue;
            struct oomdomain a, b;
            assert_int_equal(oomdomain_build(&n.hier, cg->path, &n.procs, &n.kernel, &n.mem,
                                             oomdomain_vm_swappiness(&sr), &b),
                             0);
            struct cgroup_binding bd;
            node_binding(&n, i, &bd);
            if (b.why != OOMDOMAIN_OWN_LIMIT) {
                /* an ancestor runs out first: the domain is the binding limit's cgroup */
                assert_int_equal(b.why, OOMDOMAIN_ANCESTOR);
                assert_non_null(bd.from);
                assert_string_not_equal(bd.from, cg->path);
                assert_string_equal(b.oom_cgroup, bd.from);
                oomdomain_release(&b);
                bound_above++;
                continue;
            }
            assert_string_equal(bd.from, cg->path);
            assert_int_equal(oomdomain_build_at(&n.hier, &n.cgroups, i, &n.procs, &n.kernel, &n.mem,
                                                n.sysctl.swappiness, &a),
                             0);
            assert_int_equal(a.totalpages, b.totalpages);
            assert_int_equal(a.victims.n, b.victims.n);
            for (size_t v = 0; v < a.victims.n; v++) {
                assert_int_equal(a.victims.v[v].proc->pid, b.victims.v[v].proc->pid);
                assert_int_equal(a.victims.v[v].rank, b.victims.v[v].rank);
                assert_int_equal(a.victims.v[v].badness, b.victims.v[v].badness);
                assert_int_equal(a.group[v] == SIZE_MAX, b.group[v] == SIZE_MAX);
            }
            oomdomain_release(&a);
            oomdomain_release(&b);
            compared++;
        }
        assert_true(compared > 0);
        /* cg-k8s-systemd: a pod slice at its container's limit, holding the container's usage
         * and the pause container's, runs out before the container scope */
        if (r == 2)
            assert_true(bound_above > 0);
        /* an unlimited cgroup has no OOM of its own */
        struct oomdomain d;
        assert_int_equal(
            oomdomain_build_at(&n.hier, &n.cgroups, 0, &n.procs, &n.kernel, &n.mem, 60, &d),
            -EINVAL);
        node_release(&n);
        sysroot_close(&sr);
    }
}

static void json_raw_takes_the_indentation(void **state)
{
    (void)state;
    struct buf inner = BUF_INIT(4096), out = BUF_INIT(4096);
    struct json j;
    json_init(&j, &inner, false);
    json_obj_begin(&j);
    json_kv_str(&j, "a, \"b\": [c]", "x}y");
    json_key(&j, "list");
    json_arr_begin(&j);
    json_i64(&j, -3);
    json_null(&j);
    json_arr_end(&j);
    json_key(&j, "empty");
    json_obj_begin(&j);
    json_obj_end(&j);
    json_obj_end(&j);
    assert_int_equal(json_error(&j), 0);
    json_init(&j, &out, true);
    json_obj_begin(&j);
    json_key(&j, "data");
    json_raw(&j, inner.data, inner.len);
    json_kv_bool(&j, "after", true);
    json_obj_end(&j);
    assert_int_equal(json_error(&j), 0);
    assert_string_equal(buf_cstr(&out), "{\n"
                                        "  \"data\": {\n"
                                        "    \"a, \\\"b\\\": [c]\": \"x}y\",\n"
                                        "    \"list\": [\n"
                                        "      -3,\n"
                                        "      null\n"
                                        "    ],\n"
                                        "    \"empty\": {}\n"
                                        "  },\n"
                                        "  \"after\": true\n"
                                        "}\n");
    buf_release(&inner);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(node_crash_kill_order),
        cmocka_unit_test(small_workload_first_still_critical),
        cmocka_unit_test(critical_list_is_configurable),
        cmocka_unit_test(limits_over_ram),
        cmocka_unit_test(limits_beyond_ram_under_a_full_parent),
        cmocka_unit_test(page_cache_at_the_limit),
        cmocka_unit_test(oom_group_containers),
        cmocka_unit_test(legacy_machine),
        cmocka_unit_test(clean_machine_nothing_above_info),
        cmocka_unit_test(critical_name_patterns),
        cmocka_unit_test(swaps_and_sysctls),
        cmocka_unit_test(domain_from_snapshot_matches),
        cmocka_unit_test(json_raw_takes_the_indentation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
