/* The Prometheus exposition writer (the HTTP endpoint: test-http). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/prom.h"
#include "engine/report/metrics.h"
#include "model/kver.h"
#include "model/sysroot.h"

static void exposition_groups_families_and_escapes(void **state)
{
    (void)state;
    struct prom_registry r;
    prom_init(&r);
    int cur = prom_family(&r, "oomwarden_cgroup_memory_current_bytes", PROM_GAUGE,
                          "Memory charged to the cgroup.\nIncludes page cache \\ kernel.");
    int kills = prom_family(&r, "oomwarden_oom_kills_total", PROM_COUNTER, "OOM kills seen.");
    int unused = prom_family(&r, "oomwarden_unused", PROM_GAUGE, "never sampled");
    assert_true(cur >= 0 && kills >= 0 && unused >= 0);
    assert_int_equal(prom_family(&r, "oomwarden_oom_kills_total", PROM_COUNTER, "x"), kills);
    /* interleaved adds still render as contiguous families */
    struct prom_label a[] = {{"cgroup", "/a\"b\\c\nd"}, {"pod_uid", NULL}};
    prom_sample_u64(&r, cur, a, 2, 1024);
    struct prom_label k[] = {{"scope", "memcg"}, {"comm", "python3"}};
    prom_sample_u64(&r, kills, k, 2, 3);
    struct prom_label b[] = {{"cgroup", "/"}};
    prom_sample_u64(&r, cur, b, 1, 18446744073709551615ull);
    prom_sample_double(&r, kills, NULL, 0, 0.5);
    struct buf out = BUF_INIT(1 << 20);
    assert_int_equal(prom_render(&r, &out), 0);
    assert_string_equal(buf_cstr(&out),
                        "# HELP oomwarden_cgroup_memory_current_bytes Memory charged to the cgroup.\\n"
                        "Includes page cache \\\\ kernel.\n"
                        "# TYPE oomwarden_cgroup_memory_current_bytes gauge\n"
                        "oomwarden_cgroup_memory_current_bytes{cgroup=\"/a\\\"b\\\\c\\nd\"} 1024\n"
                        "oomwarden_cgroup_memory_current_bytes{cgroup=\"/\"} 18446744073709551615\n"
                        "# HELP oomwarden_oom_kills_total OOM kills seen.\n"
                        "# TYPE oomwarden_oom_kills_total counter\n"
                        "oomwarden_oom_kills_total{scope=\"memcg\",comm=\"python3\"} 3\n"
                        "oomwarden_oom_kills_total 0.5\n");
    buf_release(&out);
    prom_release(&r);

    prom_init(&r);
    assert_int_equal(prom_family(&r, "bad-name", PROM_GAUGE, ""), -1);
    assert_int_equal(prom_render(&r, &out), -EINVAL);
    prom_release(&r);
    assert_true(prom_valid_label_name("pod_uid"));
    assert_false(prom_valid_label_name("__reserved"));
    assert_false(prom_valid_label_name("9x"));
    assert_true(prom_valid_metric_name("a:b_c"));
}

/* The exposition of a fixture machine, only the node part. */
static char *scrape_with(const char *root, const struct metrics_agent *agent)
{
    struct sysroot sr;
    const char *failed;
    assert_int_equal(sysroot_open(&sr, root, &failed), 0);
    struct kver k = {0};
    (void)kver_read(&sr, &k);
    struct metrics_config cfg = {.cgroup_depth = 0, .next_victim = true};
    struct kill_counters kc;
    kill_counters_init(&kc, 16);
    struct metrics_ctx m = {.sr = &sr, .kernel = &k, .cfg = &cfg, .kills = &kc, .agent = agent};
    struct buf out = BUF_INIT(1 << 22);
    assert_int_equal(metrics_collect(&m, &out), 0);
    kill_counters_release(&kc);
    sysroot_close(&sr);
    return buf_detach(&out, NULL);
}

static char *scrape(const char *root)
{
    return scrape_with(root, NULL);
}

/* The next machine-wide victim is sshd on the Kubernetes node (pods at -997, daemons at 0), a
 * pod's shell on the other machine (a workload, whatever its name). */
static void next_victim_node_critical(void **state)
{
    (void)state;
    char *s = scrape(FIXTURE("dr-k8s-node"));
    assert_non_null(strstr(s, "\noomwarden_next_victim_info{comm=\"sshd\","));
    assert_non_null(strstr(s, "\noomwarden_next_victim_node_critical 1\n"));
    free(s);
    s = scrape(FIXTURE("procs-basic"));
    assert_non_null(strstr(s, "\noomwarden_next_victim_info{comm=\"sh\","));
    assert_non_null(strstr(s, "\noomwarden_next_victim_node_critical 0\n"));
    free(s);
}

/* The guard's and the reconciler's counters come from the agent: every trigger's count (0 too)
 * while the guard is on, the policy's changes while it is applied, a pass's duration only once
 * a pass of that kind has run; none of these families without the agent's counters. */
static void agent_counters_exposed(void **state)
{
    (void)state;
    char *s = scrape(FIXTURE("procs-basic"));
    assert_null(strstr(s, "\noomwarden_guard_kills_total{"));
    assert_null(strstr(s, "\noomwarden_policy_changes_total{"));
    free(s);
    struct metrics_labelled kills[] = {{"memory_floor", 2}, {"psi", 0}};
    struct metrics_agent a = {.guard_kills = kills, .n_guard_kills = 2, .policy_applied = true,
                              .policy_done = 5, .policy_failed = 1, .scans = 3,
                              .last_scan_us = 1500};
    s = scrape_with(FIXTURE("procs-basic"), &a);
    assert_non_null(strstr(s, "\noomwarden_guard_kills_total{reason=\"memory_floor\"} 2\n"));
    assert_non_null(strstr(s, "\noomwarden_guard_kills_total{reason=\"psi\"} 0\n"));
    assert_non_null(strstr(s, "\noomwarden_policy_changes_total{result=\"done\"} 5\n"));
    assert_non_null(strstr(s, "\noomwarden_policy_changes_total{result=\"failed\"} 1\n"));
    assert_non_null(strstr(s, "\noomwarden_policy_pass_duration_seconds{pass=\"scan\"} 0.0015\n"));
    assert_null(strstr(s, "{pass=\"recheck\"}"));
    free(s);
    a = (struct metrics_agent){.guard_kills = kills, .n_guard_kills = 2};
    s = scrape_with(FIXTURE("procs-basic"), &a);
    assert_non_null(strstr(s, "\noomwarden_guard_kills_total{reason=\"memory_floor\"} 2\n"));
    assert_null(strstr(s, "\noomwarden_policy_changes_total{"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exposition_groups_families_and_escapes),
        cmocka_unit_test(next_victim_node_critical),
        cmocka_unit_test(agent_counters_exposed),
    };
    return cmocka_run_group_tests_name("exporter", tests, NULL, NULL);
}
