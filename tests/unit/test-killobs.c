/*
 * Kills without a report, put back in their cgroup by the cgroups' own oom_kill counters
 * (engine/killobs): events come from the real parser fed 6.1's text, counters as watch and the
 * agent read them. The last test replays a burst captured on a 6.18 host (corpus 058: 14 kills
 * in one v1 cgroup, 4 of them rate-limited) with the counter moving once per kill.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/opt.h"
#include "model/log/killobs.h"
#include "model/log/oomlog.h"
#include "testlib.h"

/* 6.1's lines of a memcg OOM with its report (header, summary, kill line) */
static void full_report(struct oomlog *p, double t, const char *cg, int pid)
{
    char line[512];
    snprintf(line, sizeof(line),
             "[%11.6f] ow-%d invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
             "oom_score_adj=0", t, pid);
    assert_int_equal(oomlog_feed_text(p, line, strlen(line)), 0);
    snprintf(line, sizeof(line),
             "[%11.6f] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
             "mems_allowed=0,oom_memcg=%s,task_memcg=%s,task=ow-%d,pid=%d,uid=0",
             t + 0.0001, cg, cg, pid, pid);
    assert_int_equal(oomlog_feed_text(p, line, strlen(line)), 0);
    snprintf(line, sizeof(line),
             "[%11.6f] Memory cgroup out of memory: Killed process %d (ow-%d) total-vm:18000kB, "
             "anon-rss:16000kB, file-rss:900kB, shmem-rss:0kB, UID:0 pgtables:80kB "
             "oom_score_adj:0", t + 0.0002, pid, pid);
    assert_int_equal(oomlog_feed_text(p, line, strlen(line)), 0);
}

/* the kill line alone: dump_header() was rate-limited */
static void kill_only(struct oomlog *p, double t, int pid)
{
    char line[512];
    snprintf(line, sizeof(line),
             "[%11.6f] Memory cgroup out of memory: Killed process %d (ow-%d) total-vm:18000kB, "
             "anon-rss:16000kB, file-rss:900kB, shmem-rss:0kB, UID:0 pgtables:80kB "
             "oom_score_adj:0", t, pid, pid);
    assert_int_equal(oomlog_feed_text(p, line, strlen(line)), 0);
}

static const struct oom_event *event_of(const struct oomlog *p, int pid)
{
    for (size_t i = 0; i < p->nevents; i++) {
        const struct oom_victim *v = oom_event_primary(&p->events[i]);
        if (v && v->pid == pid)
            return &p->events[i];
    }
    fail_msg("no event for pid %d", pid);
    return NULL;
}

static void reading(struct killobs *k, const char *path, uint64_t v, uint64_t ms)
{
    assert_int_equal(killobs_reading(k, path, v, ms), 0);
}

/* v2: a report names /a/b; the next kill has no report: the counters of /a/b and /a (which
 * counts its child's kills too) moved, /c did not: the kill was in /a/b, the deepest. */
static void v2_rate_limited_after_a_full_report(void **state)
{
    (void)state;
    struct oomlog p;
    oomlog_init(&p);
    full_report(&p, 100.0, "/a/b", 10);
    kill_only(&p, 100.05, 11);
    assert_int_equal(oomlog_finish(&p), 0);
    const struct oom_event *full = event_of(&p, 10), *lim = event_of(&p, 11);
    assert_true(oom_event_names_cgroup(full));
    assert_false(oom_event_names_cgroup(lim));

    struct killobs k;
    killobs_init(&k, 2);
    reading(&k, "/a", 3, 0); /* earlier kills: the baseline, not ours to match */
    reading(&k, "/a/b", 3, 0);
    reading(&k, "/c", 0, 0);
    /* the first kill, then the event of its report */
    reading(&k, "/a", 4, 1000);
    reading(&k, "/a/b", 4, 1000);
    struct oom_observed o;
    assert_int_equal(killobs_match(&k, full, 1300, &o), 0);
    assert_int_equal(o.source, OOM_OBSERVED_NONE);
    /* the second */
    reading(&k, "/a", 5, 1050);
    reading(&k, "/a/b", 5, 1050);
    reading(&k, "/c", 0, 1050);
    assert_int_equal(killobs_match(&k, lim, 1350, &o), 1);
    assert_int_equal(o.source, OOM_OBSERVED_OOM_KILL_COUNTER);
    assert_string_equal(o.cgroup, "/a/b");
    assert_int_equal(o.oom_kill_before, 4);
    assert_int_equal(o.oom_kill_after, 5);
    assert_int_equal(o.version, 2);
    oom_observed_release(&o);
    /* nothing left to match: a third report-less kill finds no movement */
    assert_int_equal(killobs_match(&k, lim, 1400, &o), 0);
    assert_int_equal(o.source, OOM_OBSERVED_NONE);
    killobs_release(&k);
    oomlog_release(&p);
}

/* Two cgroups moved (v1, each counts its own kills): report-less kills take them oldest first;
 * a movement older than KILLOBS_STALE_MS is nobody's. */
static void v1_oldest_first_and_stale(void **state)
{
    (void)state;
    struct oomlog p;
    oomlog_init(&p);
    kill_only(&p, 50.0, 21);
    kill_only(&p, 50.1, 22);
    assert_int_equal(oomlog_finish(&p), 0);
    assert_int_equal(p.nevents, 2);

    struct killobs k;
    killobs_init(&k, 1);
    reading(&k, "/x", 0, 0);
    reading(&k, "/x/y", 0, 0);
    reading(&k, "/z", 7, 0);
    reading(&k, "/x", 1, 200);   /* v1: /x itself had a kill (its child did not move) */
    reading(&k, "/x/y", 1, 300);
    struct oom_observed o;
    assert_int_equal(killobs_match(&k, event_of(&p, 21), 400, &o), 1);
    assert_string_equal(o.cgroup, "/x");
    oom_observed_release(&o);
    assert_int_equal(killobs_match(&k, event_of(&p, 22), 400, &o), 1);
    assert_string_equal(o.cgroup, "/x/y");
    assert_int_equal(o.oom_kill_before, 0);
    assert_int_equal(o.oom_kill_after, 1);
    oom_observed_release(&o);

    /* a movement first seen 11 s before the kill's event: its own kill line never came */
    reading(&k, "/z", 8, 1000);
    assert_int_equal(killobs_match(&k, event_of(&p, 21), 1000 + KILLOBS_STALE_MS + 1000, &o), 0);
    assert_int_equal(o.source, OOM_OBSERVED_NONE);
    /* and it is not taken by the next one either */
    reading(&k, "/z", 8, 13000);
    assert_int_equal(killobs_match(&k, event_of(&p, 22), 13000, &o), 0);
    killobs_release(&k);
    oomlog_release(&p);
}

/* Cgroups come and go: a round of readings forgets those not read; a cgroup recreated under
 * an old name starts from its new counter. */
static void rounds_and_recreated_cgroups(void **state)
{
    (void)state;
    struct oomlog p;
    oomlog_init(&p);
    kill_only(&p, 10.0, 31);
    assert_int_equal(oomlog_finish(&p), 0);
    struct killobs k;
    killobs_init(&k, 2);
    killobs_begin_round(&k);
    reading(&k, "/gone", 0, 0);
    reading(&k, "/stays", 2, 0);
    killobs_end_round(&k);
    killobs_begin_round(&k);
    reading(&k, "/stays", 0, 100); /* removed and made again: its counter restarted */
    killobs_end_round(&k);
    assert_int_equal(k.n, 1);
    struct oom_observed o;
    assert_int_equal(killobs_match(&k, event_of(&p, 31), 200, &o), 0);
    reading(&k, "/stays", 1, 300);
    assert_int_equal(killobs_match(&k, event_of(&p, 31), 400, &o), 1);
    assert_string_equal(o.cgroup, "/stays");
    assert_int_equal(o.oom_kill_before, 0);
    oom_observed_release(&o);
    killobs_forget(&k, "/stays");
    assert_int_equal(k.n, 0);
    killobs_release(&k);
    oomlog_release(&p);
}

/* The real burst: one cgroup, its counter read after each kill, the events matched in the
 * log's order. The kills with a report match through their task_memcg; those without get the
 * cgroup from the counter, with the count it went to. */
static void real_burst_capture(void **state)
{
    (void)state;
    FILE *f = fopen(FIXTURE("oomlog/058-live-6.18-memcg-v1-rate-limited-burst-dmesg.log"), "re");
    assert_non_null(f);
    struct oomlog p;
    oomlog_init(&p);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        assert_int_equal(oomlog_feed_text(&p, line, (size_t)n), 0);
    }
    free(line);
    fclose(f);
    assert_int_equal(oomlog_finish(&p), 0);

    const char *cg = "/oomwarden-test-8001-ratelimit";
    struct killobs k;
    killobs_init(&k, 1);
    reading(&k, cg, 0, 0);
    size_t limited = 0, named = 0;
    for (size_t i = 0; i < p.nevents; i++) {
        const struct oom_event *e = &p.events[i];
        reading(&k, cg, i + 1, 100 * (i + 1));
        struct oom_observed o;
        int r = killobs_match(&k, e, 100 * (i + 1) + 50, &o);
        if (oom_event_names_cgroup(e)) {
            named++;
            assert_int_equal(r, 0);
            assert_string_equal(e->task_memcg, cg);
        } else {
            limited++;
            assert_true(e->rate_limited);
            assert_int_equal(r, 1);
            assert_string_equal(o.cgroup, cg);
            assert_int_equal(o.oom_kill_before, i);
            assert_int_equal(o.oom_kill_after, i + 1);
        }
        oom_observed_release(&o);
    }
    assert_int_equal(named, 11);
    assert_int_equal(limited, 4);
    killobs_release(&k);
    oomlog_release(&p);
}

/* The one JSON shape and the sentence. */
static void observed_json_and_text(void **state)
{
    (void)state;
    struct oom_observed o = {
        .source = OOM_OBSERVED_LAB_CGROUP,
        .cgroup = strdup("/oomwarden-lab-42"),
        .version = 1,
        .oom_kill_before = 0,
        .oom_kill_after = 1,
        .limit = 48 << 20,
        .limit_cgroup = strdup("/oomwarden-lab-42"),
    };
    struct buf b = BUF_INIT(4096);
    struct json j;
    json_init(&j, &b, false);
    oom_observed_json(&o, true, &j);
    assert_int_equal(json_error(&j), 0);
    assert_string_equal(
        buf_cstr(&b),
        "{\"source\":\"lab_cgroup\",\"cgroup\":\"/oomwarden-lab-42\",\"counter\":"
        "\"memory.oom_control\",\"oom_kill_before\":0,\"oom_kill_after\":1,\"limit\":50331648,"
        "\"limit_cgroup\":\"/oomwarden-lab-42\",\"limit_file\":\"memory.limit_in_bytes\","
        "\"report\":\"rate_limited\"}");
    buf_reset(&b);
    oom_observed_text(&o, true, &b);
    assert_string_equal(buf_cstr(&b),
                        "in /oomwarden-lab-42 (the lab's own cgroup; oom_kill 0 -> 1 in "
                        "memory.oom_control), limit 48 MiB (memory.limit_in_bytes of "
                        "/oomwarden-lab-42): oomwarden's own observation, not the kernel's text "
                        "(the kernel rate-limited this kill's report, which names neither)");
    oom_observed_release(&o);
    buf_reset(&b);
    json_init(&j, &b, false);
    oom_observed_json(&o, false, &j);
    assert_string_equal(buf_cstr(&b), "null");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v2_rate_limited_after_a_full_report),
        cmocka_unit_test(v1_oldest_first_and_stale),
        cmocka_unit_test(rounds_and_recreated_cgroups),
        cmocka_unit_test(real_burst_capture),
        cmocka_unit_test(observed_json_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
