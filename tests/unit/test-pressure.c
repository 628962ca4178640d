/* What the next growth of a cgroup runs into (cgoutlook), thrashing from refaults (workingset),
 * PSI levels (psilevel), and the words cgobserve makes of them. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/opt.h"
#include "model/cgroup/cgobserve.h"
#include "model/cgroup/cgoutlook.h"
#include "model/cgroup/cgroup.h"
#include "model/pressure/psilevel.h"
#include "model/pressure/workingset.h"

#define MiB (1024ull * 1024ull)

/* A v1 cgroup with a limit, every memory.stat field absent but those set after. */
static struct cgroup_memory limited(const char *path, uint64_t limit, uint64_t usage)
{
    struct cgroup_memory cg;
    memset(&cg, 0xff, sizeof(cg));
    cg.path = (char *)path;
    cg.psi_path = NULL;
    cg.has_psi = false;
    cg.version = 1;
    cg.max = limit;
    cg.current = usage;
    cg.parent = SIZE_MAX;
    return cg;
}

static void bind_self(const struct cgroup_memory *cg, struct cgroup_binding *b)
{
    const struct cgroup_memory *chain[] = {cg};
    cgroup_binding_of(chain, 1, b);
}

/* The false prediction: a v1 cgroup at 91% of its limit, holding 145 MiB of *active*
 * page cache. The working set (usage - inactive_file) is 91% of the limit; reclaim can still take
 * the whole cache. */
static void active_cache_is_room(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", 192 * MiB, 175 * MiB);
    cg.stat.anon = 30 * MiB;
    cg.stat.active_file = 145 * MiB;
    cg.stat.inactive_file = 0;
    cg.stat.file_mapped = 0;
    cg.stat.file_dirty = 4096;
    cg.stat.file_writeback = 0;
    cg.stat.shmem = 0;
    cg.stat.unevictable = 0;
    assert_true(cgroup_working_set(&cg) * 100 / cg.max >= 90);
    struct cgroup_binding b;
    bind_self(&cg, &b);
    struct cgroup_outlook ol;
    cgroup_outlook_of(&cg, &b, false, 0, &ol);
    assert_int_equal(ol.verdict, OUTLOOK_ROOM);
    assert_int_equal(ol.confidence, CONFIDENCE_HIGH);
    assert_int_equal(ol.file_free, 145 * MiB - 4096);
    assert_int_equal(ol.room, 17 * MiB + 145 * MiB - 4096);
    assert_int_equal(ol.stuck, 30 * MiB);

    struct cgobserve o;
    assert_int_equal(cgobserve_make(&cg, &b, NULL, &ol, NULL, &o), 0);
    bool said = false;
    for (size_t i = 0; i < o.n; i++) {
        assert_null(strstr(o.v[i], "ends in an OOM kill"));
        said |= strstr(o.v[i], "it can grow by 162 MiB before the kernel OOM-kills") != NULL;
    }
    assert_true(said);
    cgobserve_release(&o);
}

/* Anon to the limit, the page cache mapped: nothing for reclaim to take. */
static void anon_at_limit_is_oom_next(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", 128 * MiB, 127 * MiB);
    cg.stat.anon = 126 * MiB;
    cg.stat.active_file = 1 * MiB;
    cg.stat.inactive_file = 0;
    cg.stat.file_mapped = 1 * MiB;
    struct cgroup_binding b;
    bind_self(&cg, &b);
    struct cgroup_outlook ol;
    cgroup_outlook_of(&cg, &b, false, 0, &ol);
    assert_int_equal(ol.verdict, OUTLOOK_OOM_NEXT);
    assert_int_equal(ol.file_free, 0);
    assert_int_equal(ol.room, 1 * MiB);
    /* the mapped MiB could go if cold: 2 MiB of 128 is still under 2% */
    assert_int_equal(ol.confidence, CONFIDENCE_HIGH);
    struct cgobserve o;
    assert_int_equal(cgobserve_make(&cg, &b, NULL, &ol, NULL, &o), 0);
    bool said = false;
    for (size_t i = 0; i < o.n; i++)
        said |= strstr(o.v[i], "the next growth ends in an OOM kill: 1.0 MiB left under the limit, "
                               "no page cache reclaim can drop") != NULL;
    assert_true(said);
    cgobserve_release(&o);

    /* oom_kill_disable: a hang, not a kill */
    cg.oom_control.oom_kill_disable = 1;
    assert_int_equal(cgobserve_make(&cg, &b, NULL, &ol, NULL, &o), 0);
    said = false;
    for (size_t i = 0; i < o.n; i++)
        said |= strstr(o.v[i], "the next growth ends in a hang (oom_kill_disable)") != NULL;
    assert_true(said);
    cgobserve_release(&o);
}

/* Mapped and dirty page cache and swap make the verdict unsure, and say so. */
static void unsure_parts(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", 100 * MiB, 99 * MiB);
    cg.stat.anon = 60 * MiB;
    cg.stat.active_file = 30 * MiB;
    cg.stat.inactive_file = 8 * MiB + MiB / 2;
    cg.stat.file_mapped = 20 * MiB;
    cg.stat.file_dirty = 18 * MiB;
    cg.stat.file_writeback = 0;
    cg.stat.slab_reclaimable = 0;
    struct cgroup_binding b;
    bind_self(&cg, &b);
    struct cgroup_outlook ol;
    cgroup_outlook_of(&cg, &b, false, 0, &ol);
    /* 1 MiB headroom + 0.5 MiB of clean, unmapped cache: the next growth */
    assert_int_equal(ol.file_held, 38 * MiB);
    assert_int_equal(ol.room, MiB + MiB / 2);
    assert_int_equal(ol.verdict, OUTLOOK_OOM_NEXT);
    /* all 38 MiB could still go: room, two levels up */
    assert_int_equal(ol.confidence, CONFIDENCE_LOW);
    assert_int_equal(ol.unsure, UNSURE_MAPPED | UNSURE_DIRTY);

    /* held more than the LRUs (mapped shmem counted in file_mapped): no room from the cache */
    cg.stat.file_mapped = 80 * MiB;
    cgroup_outlook_of(&cg, &b, false, 0, &ol);
    assert_int_equal(ol.file_held, 38 * MiB + MiB / 2);
    assert_int_equal(ol.file_free, 0);

    /* swap: anon may go out, but only that much, and it is not sure */
    cg.stat.file_mapped = 39 * MiB;
    cg.stat.file_dirty = 0;
    cgroup_outlook_of(&cg, &b, true, 20 * MiB, &ol);
    assert_int_equal(ol.to_swap, 20 * MiB);
    assert_int_equal(ol.room, 21 * MiB);
    assert_int_equal(ol.verdict, OUTLOOK_ROOM);
    assert_true(ol.unsure & UNSURE_SWAP);
    assert_int_equal(ol.confidence, CONFIDENCE_LOW);
}

static void swap_room_rules(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", 100 * MiB, 50 * MiB);
    uint64_t room;
    cg.swappiness = 60;
    cg.memsw_max = 150 * MiB;
    cg.memsw_current = 70 * MiB;
    assert_true(cgroup_swap_room(&cg, 1024 * MiB, &room));
    assert_int_equal(room, 80 * MiB);
    cg.swappiness = 0; /* v1 memcg reclaim then scans file pages only */
    assert_false(cgroup_swap_room(&cg, 1024 * MiB, &room));
    cg.swappiness = 60;
    assert_false(cgroup_swap_room(&cg, 0, &room)); /* no swap on the machine */
    assert_false(cgroup_swap_room(&cg, OPT_ABSENT, &room));
    cg.version = 2;
    cg.swap_max = 10 * MiB;
    cg.swap_current = 4 * MiB;
    assert_true(cgroup_swap_room(&cg, 1024 * MiB, &room));
    assert_int_equal(room, 6 * MiB);
}

static void no_limit_and_unknown(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", CGROUP_UNLIMITED, 10 * MiB);
    struct cgroup_binding b;
    bind_self(&cg, &b);
    struct cgroup_outlook ol;
    cgroup_outlook_of(NULL, &b, false, 0, &ol);
    assert_int_equal(ol.verdict, OUTLOOK_NO_LIMIT);
    cg.max = 100 * MiB;
    bind_self(&cg, &b);
    cgroup_outlook_of(&cg, &b, false, 0, &ol); /* no LRU lines in memory.stat */
    assert_int_equal(ol.verdict, OUTLOOK_UNKNOWN);
}

static void thrash_levels(void **state)
{
    (void)state;
    struct workingset w;
    /* 64 MiB of cache, 256 pages/s (1 MiB/s): all of it every 64 s: not even re-reading */
    workingset_assess(1000, 1256, 1.0, 4096, 64 * MiB, &w);
    assert_true(w.measured);
    assert_int_equal(w.refaults, 256);
    assert_int_equal(w.level, THRASH_NONE);
    /* 4 MiB/s over 2 s against 40 MiB: every 10 s: thrashing (at the threshold) */
    workingset_assess(0, 2048, 2.0, 4096, 40 * MiB, &w);
    assert_int_equal(w.level, THRASH_THRASHING);
    assert_true(w.turnover_s > 9.99 && w.turnover_s < 10.01);
    /* just over 10 s: re-reading */
    workingset_assess(0, 2048, 2.0, 4096, 41 * MiB, &w);
    assert_int_equal(w.level, THRASH_REREADING);
    /* a trickle under 64 KiB/s is nothing, however small the cache */
    workingset_assess(0, 15, 1.0, 4096, 64 * 1024, &w);
    assert_int_equal(w.level, THRASH_NONE);
    /* a counter that went back (the cgroup was made again), or none: not measured */
    workingset_assess(500, 100, 1.0, 4096, MiB, &w);
    assert_false(w.measured);
    workingset_assess(OPT_ABSENT, 100, 1.0, 4096, MiB, &w);
    assert_false(w.measured);
    workingset_assess(0, 0, 1.0, 4096, MiB, &w);
    assert_true(w.measured);
    assert_true(w.turnover_s < 0);
}

static void thrash_words(void **state)
{
    (void)state;
    struct cgroup_memory cg = limited("/t", 64 * MiB, 63 * MiB);
    cg.stat.active_file = 20 * MiB;
    cg.stat.inactive_file = 20 * MiB;
    cg.has_psi = true;
    cg.psi = (struct psi){.some = {.present = true, .avg10 = 4213}};
    struct cgroup_binding b;
    bind_self(&cg, &b);
    struct workingset w;
    workingset_assess(0, 25600, 1.0, 4096, 40 * MiB, &w); /* 100 MiB/s */
    struct cgobserve o;
    assert_int_equal(cgobserve_make(&cg, &b, NULL, NULL, &w, &o), 0);
    bool said = false;
    for (size_t i = 0; i < o.n; i++)
        said |= strstr(o.v[i], "the cache is being re-read as fast as it is dropped: the working "
                               "set does not fit (100 MiB/s of page cache read again after "
                               "reclaim, all 40 MiB of it every 400ms; measured over 1.0s); tasks "
                               "waited for memory 42.13% of the last 10 s") != NULL;
    assert_true(said);
    cgobserve_release(&o);
}

/* Below, at and above each threshold (docs/thresholds.md). */
static void psi_levels(void **state)
{
    (void)state;
    struct psi p = {.some = {.present = true}, .full = {.present = true}};
    assert_int_equal(psi_level_of(&p), PSI_HEALTHY);
    /* the idle machine: full 0.10 in avg10 and avg60 */
    p.full.avg10 = 10;
    p.full.avg60 = 10;
    assert_int_equal(psi_level_of(&p), PSI_HEALTHY);
    p.some.avg10 = 999;
    assert_int_equal(psi_level_of(&p), PSI_HEALTHY);
    p.some.avg10 = 1000;
    assert_int_equal(psi_level_of(&p), PSI_WAITING);
    p.full.avg60 = 1000;
    assert_int_equal(psi_level_of(&p), PSI_STALLING);
    p.full.avg60 = 0;
    p.full.avg10 = 1000;
    assert_int_equal(psi_level_of(&p), PSI_STALLING);
    p.full.avg300 = 999;
    assert_int_equal(psi_level_of(&p), PSI_STALLING);
    p.full.avg300 = 1000;
    assert_int_equal(psi_level_of(&p), PSI_SUSTAINED);
    p.full.avg10 = 5999;
    assert_int_equal(psi_level_of(&p), PSI_SUSTAINED);
    p.full.avg10 = 6000;
    assert_int_equal(psi_level_of(&p), PSI_SEVERE);
    /* a kernel or a cgroup without a full line */
    p.full.present = false;
    assert_int_equal(psi_level_of(&p), PSI_WAITING);
    assert_string_equal(psi_level_name(PSI_SUSTAINED), "sustained");
    assert_non_null(strstr(psi_level_rule(PSI_SUSTAINED), "full > 10% for 5 minutes"));
    assert_non_null(strstr(psi_level_rule(PSI_SEVERE), "systemd-oomd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(active_cache_is_room),
        cmocka_unit_test(anon_at_limit_is_oom_next),
        cmocka_unit_test(unsure_parts),
        cmocka_unit_test(swap_room_rules),
        cmocka_unit_test(no_limit_and_unknown),
        cmocka_unit_test(thrash_levels),
        cmocka_unit_test(thrash_words),
        cmocka_unit_test(psi_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
