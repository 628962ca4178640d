/* The Prometheus exposition writer (the HTTP endpoint: test-http). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/prom.h"
#include "engine/report/metrics.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"

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

/* The exposition of a fixture machine: the node part, or the cgroups down to `depth` too, with
 * the kubelet's names (`names`: a table the scrape keeps up to date, or NULL) and kill counts
 * (`kc`, or NULL: none). */
static char *scrape_full(const char *root, unsigned depth, struct podnames *names,
                         struct kill_counters *kc, const struct metrics_agent *agent)
{
    struct sysroot sr;
    const char *failed;
    assert_int_equal(sysroot_open(&sr, root, &failed), 0);
    struct kver k = {0};
    (void)kver_read(&sr, &k);
    struct metrics_config cfg = {.cgroup_depth = depth, .next_victim = true};
    struct kill_counters none;
    kill_counters_init(&none, 16);
    struct metrics_ctx m = {.sr = &sr, .kernel = &k, .cfg = &cfg, .names = names,
                            .kills = kc ? kc : &none, .agent = agent};
    struct buf out = BUF_INIT(1 << 22);
    assert_int_equal(metrics_collect(&m, &out), 0);
    kill_counters_release(&none);
    sysroot_close(&sr);
    return buf_detach(&out, NULL);
}

static char *scrape_with(const char *root, const struct metrics_agent *agent)
{
    return scrape_full(root, 0, NULL, NULL, agent);
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

#define POD1 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice"
#define CTR1 POD1 "/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope"
#define POD2 "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice"

/* With the kubelet's layout every series of a pod's or a container's cgroup carries namespace,
 * pod and container (the labels kube-state-metrics' and cAdvisor's series have); without it, or
 * outside pods, no such label at all, not an empty one. */
static void cgroup_series_named(void **state)
{
    (void)state;
    struct podnames names = PODNAMES_INIT;
    char *s = scrape_full(FIXTURE("cg-k8s-names"), 8, &names, NULL, NULL);
    assert_true(names.npods > 0); /* the scrape read the table */
    assert_non_null(strstr(s, "\noomwarden_cgroup_memory_current_bytes{cgroup=\"" CTR1 "\","
                              "namespace=\"shop\",pod=\"api-7b8c6d9f4-x2k9p\",container=\"app\"} "));
    assert_non_null(strstr(s, "\noomwarden_cgroup_memory_events_total{cgroup=\"" CTR1 "\","
                              "namespace=\"shop\",pod=\"api-7b8c6d9f4-x2k9p\",container=\"app\","
                              "event=\"max\"} 3\n"));
    assert_non_null(strstr(s, "\noomwarden_cgroup_info{cgroup=\"" CTR1 "\",namespace=\"shop\","
                              "pod=\"api-7b8c6d9f4-x2k9p\",container=\"app\",unit=\"cri-containerd-"));
    /* the pod's own cgroup: no container */
    assert_non_null(strstr(s, "\noomwarden_cgroup_memory_current_bytes{cgroup=\"" POD1 "\","
                              "namespace=\"shop\",pod=\"api-7b8c6d9f4-x2k9p\"} "));
    /* conmon is named after its container, and is not it */
    assert_non_null(strstr(s, "\noomwarden_cgroup_memory_current_bytes{cgroup=\"" POD2
                              "/crio-conmon-34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4.scope\","
                              "namespace=\"batch\",pod=\"report-28391-abcde\"} "));
    assert_non_null(strstr(s, "\noomwarden_cgroup_memory_current_bytes{cgroup=\"/system.slice/kubelet.service\"} "));
    assert_non_null(strstr(s, "\noomwarden_next_victim_info{comm=\"java\",cgroup=\"" CTR1 "\","
                              "namespace=\"shop\",pod=\"api-7b8c6d9f4-x2k9p\",container=\"app\",pod_uid="));
    assert_null(strstr(s, "=\"\""));
    free(s);
    podnames_release(&names);
    s = scrape_full(FIXTURE("cg-k8s-systemd"), 8, &names, NULL, NULL);
    assert_null(strstr(s, "namespace="));
    assert_null(strstr(s, "pod="));
    assert_null(strstr(s, "container="));
    assert_null(strstr(s, "=\"\""));
    free(s);
    podnames_release(&names);
}

/* A kill is named when the agent reads it: its series keeps the names after the pod is gone
 * from the layout (a pod deleted after its OOM). */
static void kill_named_when_seen(void **state)
{
    (void)state;
    struct oomlog log;
    oomlog_init(&log);
    FILE *f = fopen(FIXTURES_DIR "/explain-input/k8s-names-memcg.log", "r");
    assert_non_null(f);
    char line[8192];
    while (fgets(line, sizeof(line), f))
        assert_int_equal(oomlog_feed_text(&log, line, strlen(line)), 0);
    fclose(f);
    assert_int_equal(oomlog_finish(&log), 0);
    assert_int_equal(log.nevents, 1);
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("cg-k8s-names"), NULL), 0);
    struct podnames names;
    assert_int_equal(podnames_read(&sr, &names), 0);
    sysroot_close(&sr);
    struct kill_counters kc;
    kill_counters_init(&kc, 16);
    kill_counters_add(&kc, &log.events[0], NULL, &names);
    podnames_release(&names);
    /* scraped from a tree without the layout: the pod is gone */
    char *s = scrape_full(FIXTURE("cg-k8s-systemd"), 0, &names, &kc, NULL);
    const char *want = "\noomwarden_oom_kills_seen_total{scope=\"memcg\",cgroup=\"" CTR1 "\","
                       "namespace=\"shop\",pod=\"api-7b8c6d9f4-x2k9p\",container=\"app\","
                       "pod_uid=\"0a1b2c3d-4e5f-6789-abcd-ef0123456789\",container_id=\"9192cb33411f\",";
    assert_non_null(strstr(s, want));
    /* five processes died (oom.group); bash twice, nginx three times */
    assert_non_null(strstr(s, "comm=\"nginx\"} 3\n"));
    free(s);
    podnames_release(&names);
    /* the same kill counted without names: the ID labels, no empty name labels */
    kill_counters_add(&kc, &log.events[0], NULL, NULL);
    s = scrape_full(FIXTURE("cg-k8s-systemd"), 0, NULL, &kc, NULL);
    assert_non_null(strstr(s, "\noomwarden_oom_kills_seen_total{scope=\"memcg\",cgroup=\"" CTR1 "\","
                              "pod_uid=\"0a1b2c3d-4e5f-6789-abcd-ef0123456789\",container_id=\"9192cb33411f\","));
    free(s);
    kill_counters_release(&kc);
    oomlog_release(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exposition_groups_families_and_escapes),
        cmocka_unit_test(next_victim_node_critical),
        cmocka_unit_test(agent_counters_exposed),
        cmocka_unit_test(cgroup_series_named),
        cmocka_unit_test(kill_named_when_seen),
    };
    return cmocka_run_group_tests_name("exporter", tests, NULL, NULL);
}
