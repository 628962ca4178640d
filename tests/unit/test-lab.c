/*
 * The lab's pure parts: the summary arithmetic on samples recorded from a real run, the
 * memory.high throttle formula against numbers worked out by hand from the kernel's code, the
 * SVG against a golden file (OOMWARDEN_UPDATE_GOLDEN=1 rewrites it: review the picture first),
 * and the names of scratch cgroups.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/opt.h"
#include "engine/lab/labplot.h"
#include "engine/lab/labsum.h"
#include "engine/lab/scratch.h"
#include "testlib.h"

struct recorded {
    struct lab_series s;
    uint64_t limit, high, report_usage;
    double kill_t;
};

static uint64_t field(const char *w)
{
    return strcmp(w, "-") == 0 ? OPT_ABSENT : strtoull(w, NULL, 10);
}

/* The text form of tests/fixtures/lab/NAME.samples: see the comment lines at their top. */
static void load(const char *path, struct recorded *ret)
{
    memset(ret, 0, sizeof(*ret));
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#') {
            double k;
            unsigned long long lim, hi, ru;
            if (sscanf(line, "# limit %llu high %llu kill_t %lf report_usage %llu", &lim, &hi, &k,
                       &ru) == 4) {
                ret->limit = lim;
                ret->high = hi;
                ret->kill_t = k;
                ret->report_usage = ru;
            }
            continue;
        }
        char w[10][32];
        int n = sscanf(line, "%31s %31s %31s %31s %31s %31s %31s %31s %31s %31s", w[0], w[1], w[2],
                       w[3], w[4], w[5], w[6], w[7], w[8], w[9]);
        if (n != 10)
            continue;
        struct lab_sample x = {.t = strtod(w[0], NULL), .current = field(w[1])};
        x.ev = (struct cgroup_events){.max = field(w[2]),
                                      .oom = field(w[3]),
                                      .oom_kill = field(w[4]),
                                      .high = field(w[5]),
                                      .low = OPT_ABSENT,
                                      .oom_group_kill = OPT_ABSENT};
        x.has_psi = strcmp(w[6], "-") != 0;
        if (x.has_psi) {
            x.psi.some.avg10 = field(w[6]);
            x.psi.full.avg10 = field(w[7]);
            x.psi.some.total = field(w[8]);
            x.psi.full.total = field(w[9]);
        }
        assert_int_equal(lab_series_add(&ret->s, &x), 0);
    }
    fclose(f);
}

static void summary_of_a_recorded_mixed_run(void **state)
{
    (void)state;
    struct recorded rec;
    load(FIXTURE("lab/host-v1-mixed.samples"), &rec);
    assert_int_equal(rec.s.n, 30);
    /* stall rate between 8.0 s and 8.501 s: (336628 - 125948) µs of 0.501 s */
    const struct lab_sample *x = &rec.s.v[17];
    assert_true(fabs(x->t - 8.501) < 1e-9);
    assert_true(fabs(x->full_rate - 100.0 * 210680 / 501000) < 1e-9);
    assert_true(rec.s.v[0].full_rate < 0); /* no previous sample */

    struct lab_summary s;
    labsum_compute(rec.s.v, rec.s.n, rec.limit, rec.high, rec.kill_t, rec.report_usage,
                   66 << 20, &s);
    assert_true(s.killed);
    assert_int_equal(s.usage_source, LABSUM_USAGE_REPORT);
    assert_int_equal(s.usage_at_kill, 67108864);
    assert_true(fabs(s.pct_of_limit - 100.0) < 1e-9);
    /* the last sample before 14.243 s is the one at 14.0 s; the 14.273 one comes after */
    assert_true(fabs(s.last_before_t - 14.0) < 1e-9);
    assert_int_equal(s.last_before, 66977792);
    /* full avg10 first >= 10.00 at 12.5 s (14.12): 14.243 - 12.5 s of warning */
    assert_true(fabs(s.full_cross_t - 12.5) < 1e-9);
    assert_true(s.has_warning);
    assert_true(fabs(s.warning_s - 1.743) < 1e-9);
    /* the stall rate first >= 10% in the 7.5..8.0 s interval */
    assert_true(fabs(s.rate_cross_t - 8.0) < 1e-9);
    assert_true(fabs(s.rate_warning_s - 6.243) < 1e-9);
    /* peaks up to the kill: 14.12, not the 18.63 sampled after it */
    assert_int_equal(s.peak_full10, 1412);
    assert_int_equal(s.ev_first.oom_kill, 0);
    assert_int_equal(s.ev_last.oom_kill, 1);
    assert_true(s.high_first_t < 0);
    assert_true(s.throttled_s == 0);
    lab_series_release(&rec.s);
}

static struct lab_sample at(double t, uint64_t mib)
{
    struct lab_sample x = {.t = t, .current = mib << 20};
    memset(&x.ev, 0xff, sizeof(x.ev));
    return x;
}

static void time_above_high(void **state)
{
    (void)state;
    /* 10 MiB/s from 0; high 25 MiB (crossed at 2.5 s), killed at 4.2 s */
    struct lab_series s = {0};
    for (int i = 0; i <= 8; i++) {
        struct lab_sample x = at(i * 0.5, (uint64_t)i * 5);
        assert_int_equal(lab_series_add(&s, &x), 0);
    }
    struct lab_sample after = at(4.3, 1);
    assert_int_equal(lab_series_add(&s, &after), 0);
    struct lab_summary sum;
    labsum_compute(s.v, s.n, 48ull << 20, 25ull << 20, 4.2, OPT_ABSENT, OPT_ABSENT, &sum);
    assert_true(fabs(sum.high_first_t - 2.5) < 1e-9);
    assert_true(fabs(sum.throttled_s - 1.7) < 1e-9);
    assert_true(fabs(sum.growth_below - 10.0 * (1 << 20)) < 1e-3);
    /* above: from 25 MiB at 2.5 s to 40 MiB at 4.0 s */
    assert_true(fabs(sum.growth_above - 10.0 * (1 << 20)) < 1e-3);
    /* no report, no peak counter: the usage at the kill is the last sample before it */
    assert_int_equal(sum.usage_source, LABSUM_USAGE_SAMPLE);
    assert_int_equal(sum.usage_at_kill, 40ull << 20);
    /* no report (rate-limited), but the cgroup's peak: that is where the OOM came */
    struct lab_summary rl;
    labsum_compute(s.v, s.n, 48ull << 20, 25ull << 20, 4.2, OPT_ABSENT, 48ull << 20, &rl);
    assert_int_equal(rl.usage_source, LABSUM_USAGE_PEAK);
    assert_int_equal(rl.usage_at_kill, 48ull << 20);
    assert_true(fabs(rl.pct_of_limit - 100.0) < 1e-9);
    /* no kill: the highest sample, whatever the peak counter says */
    labsum_compute(s.v, s.n, 48ull << 20, 25ull << 20, -1, OPT_ABSENT, 48ull << 20, &rl);
    assert_int_equal(rl.usage_source, LABSUM_USAGE_SAMPLE);
    assert_int_equal(rl.usage_at_kill, 40ull << 20);
    assert_false(sum.has_warning);
    lab_series_release(&s);

    /* no kill: everything up to the end, and a dip below high stops the count */
    struct lab_series d = {0};
    uint64_t mib[] = {20, 30, 30, 20, 30};
    for (int i = 0; i < 5; i++) {
        struct lab_sample x = at(i, mib[i]);
        assert_int_equal(lab_series_add(&d, &x), 0);
    }
    labsum_compute(d.v, d.n, 48ull << 20, 25ull << 20, -1, OPT_ABSENT, OPT_ABSENT, &sum);
    assert_false(sum.killed);
    /* up at 0.5, down at 2.5, up at 3.5, to the end at 4 */
    assert_true(fabs(sum.throttled_s - 2.5) < 1e-9);
    assert_true(fabs(sum.high_first_t - 0.5) < 1e-9);
    lab_series_release(&d);
}

static void high_throttle_formula(void **state)
{
    (void)state;
    /* worked by hand from calculate_overage()/calculate_high_delay(), HZ 250, pages:
     * high 51200 (200 MiB), usage 53760 (5% over): overage = 2560 << 20 / 51200 = 52428;
     * 52428² · 250 >> 34 = 39 jiffies = 0.156 s */
    assert_true(fabs(labsum_high_penalty_s(53760, 51200, 250) - 39.0 / 250) < 1e-12);
    /* 1% over: 10485² · 250 >> 34 = 1 jiffy <= HZ/100 (2): no sleep at all */
    assert_true(labsum_high_penalty_s(51712, 51200, 250) == 0);
    /* 28% over: far above the 2 s cap */
    assert_true(labsum_high_penalty_s(65536, 51200, 250) == 2.0);
    assert_true(labsum_high_penalty_s(51200, 51200, 250) == 0);
    /* a 6% gap at 50 MiB/s: 16 batches of 64 pages, each 5 ms at the rate plus its penalty */
    double t = labsum_high_to_max_s(60ull << 20, 64ull << 20, 50ull << 20, 4096, 250);
    double want = 0;
    for (uint64_t u = 15360 + 64; u <= 16384; u += 64)
        want += 0.005 + labsum_high_penalty_s(u, 15360, 250);
    assert_true(fabs(t - want) < 1e-12);
    assert_true(t > 0.5 && t < 3);
    assert_true(labsum_high_to_max_s(0, 64ull << 20, 1, 4096, 250) == 0);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT(1 << 24);
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, k);
    fclose(f);
    return buf_detach(&b, n);
}

static void svg_golden(void **state)
{
    (void)state;
    struct recorded rec;
    load(FIXTURE("lab/host-v1-mixed.samples"), &rec);
    struct labplot_input in = {
        .title = "oomwarden lab run: /oomwarden-lab-<42> & co (cgroup v1)",
        .subtitle = "mixed eater at 4.0 MiB/s, memory.limit_in_bytes 64 MiB",
        .v = rec.s.v,
        .n = rec.s.n,
        .limit = rec.limit,
        .high = 56ull << 20,
        .limit_name = "memory.limit_in_bytes",
        .kill_t = rec.kill_t,
        .kill_label = "OOM kill: pid 42 (ow-lab-eater)",
        .warn_t = 12.5,
    };
    struct buf out = BUF_INIT(1 << 24);
    assert_int_equal(labplot_svg(&in, &out), 0);
    const char *golden = FIXTURE("lab/host-v1-mixed.svg");
    if (getenv("OOMWARDEN_UPDATE_GOLDEN")) {
        FILE *f = fopen(golden, "we");
        assert_non_null(f);
        fwrite(out.data, 1, out.len, f);
        fclose(f);
    }
    size_t n;
    char *want = slurp(golden, &n);
    assert_non_null(want);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    /* escaped, balanced, and the marks are there */
    assert_non_null(strstr(out.data, "&lt;42&gt; &amp; co"));
    assert_null(strstr(out.data, "<42>"));
    assert_non_null(strstr(out.data, "OOM kill: pid 42 (ow-lab-eater) at 14.24s"));
    assert_non_null(strstr(out.data, "PSI full &#8805; 10% at 12.5s"));
    assert_non_null(strstr(out.data, "memory.high 56 MiB"));
    assert_non_null(strstr(out.data, "</svg>\n"));
    free(want);
    buf_release(&out);
    lab_series_release(&rec.s);
}

static void svg_without_psi_or_kill(void **state)
{
    (void)state;
    struct lab_sample v[2] = {at(0, 1), at(1, 2)};
    struct labplot_input in = {
        .title = "t", .v = v, .n = 2, .limit = 8 << 20, .kill_t = -1, .warn_t = -1};
    struct buf out = BUF_INIT(1 << 20);
    assert_int_equal(labplot_svg(&in, &out), 0);
    assert_non_null(strstr(out.data, "no per-cgroup memory.pressure"));
    assert_null(strstr(out.data, "OOM kill"));
    buf_release(&out);
    /* nothing at all still makes a document */
    struct labplot_input empty = {.title = "t", .limit = 8 << 20, .kill_t = -1, .warn_t = -1};
    assert_int_equal(labplot_svg(&empty, &out), 0);
    assert_non_null(strstr(out.data, "</svg>"));
    buf_release(&out);
}

static void nice_steps(void **state)
{
    (void)state;
    assert_true(labplot_nice_step(103.68, 6) == 20);
    assert_true(labplot_nice_step(14.2, 10) == 2);
    assert_true(labplot_nice_step(100, 4) == 50);
    assert_true(labplot_nice_step(0.7, 10) == 0.1);
}

static void scratch_names(void **state)
{
    (void)state;
    pid_t pid = 0;
    assert_true(scratch_name_match("oomwarden-lab-4242", "oomwarden-lab", &pid));
    assert_int_equal(pid, 4242);
    assert_false(scratch_name_match("oomwarden-lab-", "oomwarden-lab", &pid));
    assert_false(scratch_name_match("oomwarden-lab-12x", "oomwarden-lab", &pid));
    assert_false(scratch_name_match("oomwarden-lab-0", "oomwarden-lab", &pid));
    assert_false(scratch_name_match("oomwarden-labx-1", "oomwarden-lab", &pid));
    assert_false(scratch_name_match("oomwarden-test-1-lab", "oomwarden-lab", &pid));
    assert_false(scratch_name_match("oomwarden-lab-99999999999", "oomwarden-lab", &pid));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary_of_a_recorded_mixed_run),
        cmocka_unit_test(time_above_high),
        cmocka_unit_test(high_throttle_formula),
        cmocka_unit_test(svg_golden),
        cmocka_unit_test(svg_without_psi_or_kill),
        cmocka_unit_test(nice_steps),
        cmocka_unit_test(scratch_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
