/* The cgroup model: parsers, hierarchy discovery, the walk, OOM domains, on every fixture layout.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/opt.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/workload/identity.h"
#include "model/proc/oomdomain.h"
#include "model/proc/procs.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"

#define V1_MAX_4K 9223372036854771712ull

/* ---- PSI ------------------------------------------------------------------------------------- */

static void psi_lines_and_fields(void **state)
{
    (void)state;
    const char *s = "some avg10=1.25 avg60=0.80 avg300=0.00 total=12345678\n"
                    "full avg10=12.50 avg60=0.05 avg300=100.00 total=42\n";
    struct psi p;
    assert_int_equal(psi_parse(s, strlen(s), &p), 0);
    assert_true(p.some.present && p.full.present);
    assert_int_equal(p.some.avg10, 125);
    assert_int_equal(p.some.avg60, 80);
    assert_int_equal(p.some.total, 12345678);
    assert_int_equal(p.full.avg10, 1250);
    assert_int_equal(p.full.avg300, 10000);

    /* irq.pressure (6.1+) has only "full"; a later kernel may add fields or lines */
    const char *irq = "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n";
    assert_int_equal(psi_parse(irq, strlen(irq), &p), 0);
    assert_false(p.some.present);
    assert_int_equal(p.full.total, 7);
    const char *more = "some avg10=0.10 avg60=0.20 avg300=0.30 total=5 avg1=9.99\nnew x=1\n";
    assert_int_equal(psi_parse(more, strlen(more), &p), 0);
    assert_int_equal(p.some.avg300, 30);
}

static void psi_rejects_garbage(void **state)
{
    (void)state;
    struct psi p;
    const char *bad[] = {"",
                         "some\n",
                         "some avg10=x avg60=0 avg300=0 total=0\n",
                         "some avg10=1.0 avg60=1.0 total=3\n",
                         "hello world\n",
                         "some avg10=1.0. avg60=1 avg300=1 total=1\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(psi_parse(bad[i], strlen(bad[i]), &p), -EBADMSG);
}

/* ---- mountinfo ------------------------------------------------------------------------------- */

static void mountinfo_hybrid_and_v2(void **state)
{
    (void)state;
    /* this project's test VM (6.18): v1 controllers + cgroup2 at unified */
    const char *hybrid =
        "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    struct cgroup_mountinfo mi;
    assert_int_equal(cgroup_mountinfo_parse(hybrid, strlen(hybrid), &mi), 0);
    assert_string_equal(mi.v1_memory_mountpoint, "/sys/fs/cgroup/memory");
    assert_string_equal(mi.v1_memory_root, "/");
    assert_string_equal(mi.v2_mountpoint, "/sys/fs/cgroup/unified");
    cgroup_mountinfo_release(&mi);

    /* optional tag fields before "-", co-mounted controllers, no v1 memory */
    const char *v2 = "24 1 0:22 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - cgroup2 cgroup2 "
                     "rw,nsdelegate,memory_recursiveprot\n"
                     "25 1 0:23 / /x rw - cgroup cgroup rw,cpu,memoryless\n";
    assert_int_equal(cgroup_mountinfo_parse(v2, strlen(v2), &mi), 0);
    assert_null(mi.v1_memory_mountpoint);
    assert_string_equal(mi.v2_mountpoint, "/sys/fs/cgroup");
    cgroup_mountinfo_release(&mi);
}

static void mountinfo_escapes_and_bind_mounts(void **state)
{
    (void)state;
    /* a bind mount of a subtree first, then the hierarchy's root: the root wins; \040 is a space */
    const char *s = "50 1 0:31 /docker/abc /var/lib/x\\040y rw - cgroup cgroup rw,cpu,memory\n"
                    "51 1 0:31 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,memory,cpu\n"
                    "52 1 0:37 /kubepods /mnt/in\\134side rw - cgroup2 cgroup2 rw\n";
    struct cgroup_mountinfo mi;
    assert_int_equal(cgroup_mountinfo_parse(s, strlen(s), &mi), 0);
    assert_string_equal(mi.v1_memory_mountpoint, "/sys/fs/cgroup/cpu,memory");
    assert_string_equal(mi.v2_mountpoint, "/mnt/in\\side");
    assert_string_equal(mi.v2_root, "/kubepods");
    cgroup_mountinfo_release(&mi);

    const char *only_sub = "50 1 0:31 /docker/abc /var/lib/x\\040y rw - cgroup cgroup rw,memory\n";
    assert_int_equal(cgroup_mountinfo_parse(only_sub, strlen(only_sub), &mi), 0);
    assert_string_equal(mi.v1_memory_mountpoint, "/var/lib/x y");
    assert_string_equal(mi.v1_memory_root, "/docker/abc");
    cgroup_mountinfo_release(&mi);

    const char *junk = "not a mountinfo line\n\n1 2 3\n";
    assert_int_equal(cgroup_mountinfo_parse(junk, strlen(junk), &mi), -EBADMSG);
    const char *none = "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";
    assert_int_equal(cgroup_mountinfo_parse(none, strlen(none), &mi), 0);
    assert_null(mi.v1_memory_mountpoint);
    assert_null(mi.v2_mountpoint);
}

/* ---- keyed files ----------------------------------------------------------------------------- */

static void memstat_v1_maps_to_v2_names(void **state)
{
    (void)state;
    /* 6.1/6.18 memcg_stat_show() order; total_* preferred, they are hierarchical */
    const char *s = "cache 100\nrss 200\nrss_huge 0\nshmem 10\nmapped_file 5\ndirty 1\n"
                    "writeback 0\nswap 0\npgfault 9\ninactive_anon 3\nactive_anon 4\n"
                    "inactive_file 60\nactive_file 30\nunevictable 0\n"
                    "hierarchical_memory_limit 9223372036854771712\n"
                    "hierarchical_memsw_limit 1073741824\n"
                    "total_cache 1000\ntotal_rss 2000\ntotal_shmem 100\ntotal_swap 7\n"
                    "total_inactive_file 600\ntotal_active_file 300\ntotal_newkey 1\n";
    struct cgroup_memstat m;
    cgroup_memstat_parse(s, strlen(s), 1, 4096, &m);
    assert_int_equal(m.file, 1000);
    assert_int_equal(m.anon, 2000);
    assert_int_equal(m.shmem, 100);
    assert_int_equal(m.swap, 7);
    assert_int_equal(m.inactive_file, 600);
    assert_int_equal(m.active_file, 300);
    /* no total_ line: the local one */
    assert_int_equal(m.file_mapped, 5);
    assert_int_equal(m.anon_thp, 0);
    assert_int_equal(m.pgfault, 9);
    assert_int_equal(m.hierarchical_memory_limit, CGROUP_UNLIMITED);
    assert_int_equal(m.hierarchical_memsw_limit, 1073741824);
    /* v1 has no such lines: absent, not 0 */
    assert_int_equal(m.slab_reclaimable, OPT_ABSENT);
    assert_int_equal(m.kernel_stack, OPT_ABSENT);
    assert_int_equal(m.sock, OPT_ABSENT);
    assert_int_equal(m.kernel, OPT_ABSENT);
}

static void memstat_v2_by_key(void **state)
{
    (void)state;
    /* order shuffled and unknown keys in between: by key, never by position */
    const char *s = "file 300\nanon 100\nnew_thing 5\nkernel 40\nslab_reclaimable 9\n"
                    "inactive_file 250\nactive_file 50\nsock 1\nswap 99\n";
    struct cgroup_memstat m;
    assert_int_equal(cgroup_memstat_parse(s, strlen(s), 2, 4096, &m), 7);
    assert_int_equal(m.anon, 100);
    assert_int_equal(m.file, 300);
    assert_int_equal(m.kernel, 40);
    assert_int_equal(m.slab_reclaimable, 9);
    assert_int_equal(m.sock, 1);
    assert_int_equal(m.swap, OPT_ABSENT); /* v2 has memory.swap.current instead */
    assert_int_equal(m.vmalloc, OPT_ABSENT);
}

static void events_and_oom_control(void **state)
{
    (void)state;
    const char *ev = "low 0\nhigh 5\nmax 12\noom 1\noom_kill 1\n"; /* 5.10: no oom_group_kill */
    struct cgroup_events e;
    assert_int_equal(cgroup_events_parse(ev, strlen(ev), &e), 5);
    assert_int_equal(e.max, 12);
    assert_int_equal(e.oom_group_kill, OPT_ABSENT);
    const char *oc = "oom_kill_disable 1\nunder_oom 0\n"; /* before 4.13: no oom_kill */
    struct cgroup_oom_control o;
    assert_int_equal(cgroup_oom_control_parse(oc, strlen(oc), &o), 2);
    assert_int_equal(o.oom_kill_disable, 1);
    assert_int_equal(o.under_oom, 0);
    assert_int_equal(o.oom_kill, OPT_ABSENT);
}

static void limits_max_and_v1_unlimited(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(cgroup_limit_parse("max\n", 4, 2, 4096, &v), 0);
    assert_int_equal(v, CGROUP_UNLIMITED);
    assert_int_equal(cgroup_limit_parse("536870912\n", 10, 2, 4096, &v), 0);
    assert_int_equal(v, 536870912);
    assert_int_equal(cgroup_limit_parse("9223372036854771712\n", 20, 1, 4096, &v), 0);
    assert_int_equal(v, CGROUP_UNLIMITED);
    /* a set limit one page below is a limit */
    assert_int_equal(cgroup_limit_parse("9223372036854767616", 19, 1, 4096, &v), 0);
    assert_int_equal(v, 9223372036854767616ull);
    /* arm64 with 64 KiB pages: PAGE_COUNTER_MAX * 65536 */
    assert_int_equal(cgroup_limit_parse("9223372036854710272", 19, 1, 65536, &v), 0);
    assert_int_equal(v, CGROUP_UNLIMITED);
    assert_int_equal(cgroup_limit_parse("9223372036854771712", 19, 2, 4096, &v), 0);
    assert_int_equal(v, 9223372036854771712ull); /* v2 prints "max", so a number is a number */
    const char *bad[] = {"", "maximum", "12 kB", "-1", "max 1", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cgroup_limit_parse(bad[i], strlen(bad[i]), 2, 4096, &v), -EBADMSG);
    assert_false(cgroup_limit_set(CGROUP_UNLIMITED));
    assert_false(cgroup_limit_set(OPT_ABSENT));
    assert_true(cgroup_limit_set(0));
}

/* ---- OOM domains ----------------------------------------------------------------------------- */

static void memcg_totalpages_like_mem_cgroup_get_max(void **state)
{
    (void)state;
    uint64_t sw;
    const uint64_t G = 1ull << 30;
    /* v1: swap excess = memsw - memory, clamped to total swap */
    assert_int_equal(oomdomain_memcg_totalpages(1, G, G + G / 2, OPT_ABSENT, 60, 262144, 4096, &sw),
                     262144 + 131072);
    assert_int_equal(sw, 131072);
    assert_int_equal(
        oomdomain_memcg_totalpages(1, G, CGROUP_UNLIMITED, OPT_ABSENT, 60, 1000, 4096, &sw),
        262144 + 1000);
    /* no memsw files (swapaccount=0): memsw.max is PAGE_COUNTER_MAX, so all the swap there is */
    assert_int_equal(oomdomain_memcg_totalpages(1, G, OPT_ABSENT, OPT_ABSENT, 60, 1000, 4096, &sw),
                     262144 + 1000);
    /* swappiness 0: the limit alone */
    assert_int_equal(
        oomdomain_memcg_totalpages(1, G, CGROUP_UNLIMITED, OPT_ABSENT, 0, 1000, 4096, &sw), 262144);
    assert_int_equal(sw, 0);
    /* v2: swap.max itself, clamped; swap.max 0 adds nothing; no swap device adds nothing */
    assert_int_equal(
        oomdomain_memcg_totalpages(2, G, OPT_ABSENT, CGROUP_UNLIMITED, 60, 524288, 4096, &sw),
        262144 + 524288);
    assert_int_equal(oomdomain_memcg_totalpages(2, G, OPT_ABSENT, 0, 60, 524288, 4096, &sw),
                     262144);
    assert_int_equal(oomdomain_memcg_totalpages(2, G, OPT_ABSENT, 8192, 60, 524288, 4096, &sw),
                     262144 + 2);
    assert_int_equal(
        oomdomain_memcg_totalpages(2, G, OPT_ABSENT, CGROUP_UNLIMITED, 60, 0, 4096, &sw), 262144);
    /* a limit below one page: "?: 1" in constrained_alloc() */
    assert_int_equal(oomdomain_memcg_totalpages(2, 100, OPT_ABSENT, 0, 60, 0, 4096, &sw), 1);
}

static struct cgroup_memory mk(const char *path, uint64_t max, uint64_t current, size_t parent)
{
    struct cgroup_memory c = {.path = (char *)path,
                              .version = 2,
                              .max = max,
                              .current = current,
                              .memsw_max = OPT_ABSENT,
                              .parent = parent,
                              .oom_group = 0};
    return c;
}

static void pick_domain_and_binding(void **state)
{
    (void)state;
    struct cgroup_memory c[4] = {
        mk("/", OPT_ABSENT, OPT_ABSENT, SIZE_MAX), mk("/a", 1000, 900, 0), /* 100 left */
        mk("/a/b", 2000, 1950, 1),                                         /* 50 left */
        mk("/a/b/c", CGROUP_UNLIMITED, 10, 2),
    };
    const struct cgroup_memory *ch[] = {&c[0], &c[1], &c[2], &c[3]};
    /* no limit of its own: the limited ancestor with the least headroom fails first */
    assert_int_equal(oomdomain_pick(ch, 4), 2);
    /* a limit of its own with more room left than /a/b: /a/b still runs out first */
    c[3].max = 5000;
    assert_int_equal(oomdomain_pick(ch, 4), 2);
    /* with less room left than any ancestor, its own */
    c[3].max = 40;
    assert_int_equal(oomdomain_pick(ch, 4), 3);
    /* equal limits, as the kubelet writes a pod slice and its one container: the parent's
     * usage holds the child's and more, so the parent fails first */
    c[2].max = c[3].max = 2000;
    c[3].current = 1900;
    assert_int_equal(oomdomain_pick(ch, 4), 2);
    /* equal headroom: page_counter_try_charge() fails at the first counter on the way up */
    c[3].current = 1950;
    assert_int_equal(oomdomain_pick(ch, 4), 3);
    c[1].max = c[2].max = c[3].max = CGROUP_UNLIMITED;
    assert_int_equal(oomdomain_pick(ch, 4), SIZE_MAX);

    /* v1 before 5.11: below a parent with memory.use_hierarchy 0 the charges stop; its limit
     * and everything above it never see them */
    struct cgroup_memory v[3] = {mk("/", OPT_ABSENT, OPT_ABSENT, SIZE_MAX),
                                 mk("/legacy", 1000, 990, 0), mk("/legacy/job", 4000, 500, 1)};
    for (size_t i = 0; i < 3; i++)
        v[i].version = 1, v[i].use_hierarchy = 1;
    const struct cgroup_memory *vc[] = {&v[0], &v[1], &v[2]};
    assert_int_equal(oomdomain_pick(vc, 3), 1);
    v[1].use_hierarchy = 0;
    assert_int_equal(oomdomain_pick(vc, 3), 2);
    v[2].max = CGROUP_UNLIMITED;
    assert_int_equal(oomdomain_pick(vc, 3), SIZE_MAX); /* a global OOM */
    v[1].use_hierarchy = OPT_ABSENT; /* a tree without the file: hierarchical */
    assert_int_equal(oomdomain_pick(vc, 3), 1);
    /* a memsw-only limit counts on v1 */
    v[1].max = CGROUP_UNLIMITED;
    v[1].memsw_max = 2000;
    v[1].memsw_current = 1500;
    assert_int_equal(oomdomain_pick(vc, 3), 1);

    /* the binding limit: least headroom, nearest on a tie */
    struct cgroup_memory c0 = mk("/", OPT_ABSENT, OPT_ABSENT, SIZE_MAX),
                         c1 = mk("/p", 1000, 900, 0), c2 = mk("/p/c", 2000, 1900, 1);
    const struct cgroup_memory *chain[] = {&c0, &c1, &c2};
    struct cgroup_binding b;
    cgroup_binding_of(chain, 3, &b);
    assert_string_equal(b.from, "/p/c");
    assert_int_equal(b.headroom, 100);
    c2.current = 1950;
    cgroup_binding_of(chain, 3, &b);
    assert_string_equal(b.from, "/p/c");
    assert_int_equal(b.headroom, 50);
    c1.current = 990;
    cgroup_binding_of(chain, 3, &b);
    assert_string_equal(b.from, "/p");
    c1.max = c2.max = CGROUP_UNLIMITED;
    cgroup_binding_of(chain, 3, &b);
    assert_null(b.from);
    assert_int_equal(b.limit, CGROUP_UNLIMITED);
    assert_int_equal(b.headroom, OPT_ABSENT);
    /* v1: not through a parent with memory.use_hierarchy 0 */
    c1.max = 1000;
    c1.version = c2.version = 1;
    c1.use_hierarchy = 0;
    cgroup_binding_of(chain, 3, &b);
    assert_null(b.from);
    c2.max = 2000;
    cgroup_binding_of(chain, 3, &b);
    assert_string_equal(b.from, "/p/c");
    c1.use_hierarchy = 1;
    cgroup_binding_of(chain, 3, &b);
    assert_string_equal(b.from, "/p");
}

static void oom_group_highest_up_to_the_domain(void **state)
{
    (void)state;
    struct cgroup_memory v[4] = {mk("/d", 1000, 0, SIZE_MAX), mk("/d/pod", 0, 0, 0),
                                 mk("/d/pod/ctr", 0, 0, 1), mk("/d/pod/ctr/sub", 0, 0, 2)};
    struct cgroup_snapshot s = {.v = v, .n = 4};
    assert_int_equal(oomdomain_group_of(&s, 3, 0), SIZE_MAX);
    v[2].oom_group = 1;
    assert_int_equal(oomdomain_group_of(&s, 3, 0), 2);
    v[3].oom_group = 1;
    assert_int_equal(oomdomain_group_of(&s, 3, 0), 2); /* the highest, not the nearest */
    v[0].oom_group = 1;
    assert_int_equal(oomdomain_group_of(&s, 3, 0), 0); /* the OOMing memcg itself counts */
    /* the walk stops at the OOMing memcg: an OOM in /d/pod never reaches /d's setting */
    assert_int_equal(oomdomain_group_of(&s, 3, 1), 2);
}

/* The kill unit of an oom.group victim is what the kernel kills: its group's processes but
 * those at -1000, init, and one that has no mm left (an exiting process: __oom_kill_process()
 * says "already exiting. Skip"). ps once listed such a process among the pids a kill takes. */
static void oom_group_kill_unit_skips_exiting_members(void **state)
{
    (void)state;
    struct cgroup_memory v[2] = {mk("/pod", 1000, 0, SIZE_MAX), mk("/pod/ctr", 0, 0, 0)};
    v[1].oom_group = 1;
    struct proc p[6] = {
        {.pid = 10, .has_mm = true, .cgroup_unified = "/pod/ctr"},       /* the victim */
        {.pid = 11, .has_mm = false, .cgroup_unified = "/pod/ctr"},      /* exiting: no mm */
        {.pid = 12, .has_mm = true, .oom_score_adj = -1000, .cgroup_unified = "/pod/ctr/x"},
        {.pid = 13, .has_mm = true, .cgroup_unified = "/pod"},           /* outside the group */
        {.pid = 14, .has_mm = true, .cgroup_unified = "/pod/ctr/x"},     /* below it: killed */
        {.pid = 15, .has_mm = true, .cgroup_unified = "/pod/ctrl"},      /* a sibling, not below */
    };
    struct victim vv[6];
    size_t memcg[6], group[6];
    for (size_t i = 0; i < 6; i++) {
        vv[i] = (struct victim){.proc = &p[i], .eligible = p[i].has_mm, .rank = i + 1};
        memcg[i] = p[i].pid == 13 ? 0 : 1;
        group[i] = p[i].pid == 13 || p[i].pid == 15 ? SIZE_MAX : 1;
    }
    struct oomdomain d = {.version = 2, .cgroups = {.v = v, .n = 2}, .victims = {.v = vv, .n = 6},
                          .memcg = memcg, .group = group};
    size_t m[6];
    assert_int_equal(oomdomain_kill_unit(&d, 0, m, 6), 2);
    assert_int_equal(m[0], 0);
    assert_int_equal(m[1], 4);
    assert_false(oomdomain_group_kills(&p[1]));
    assert_false(oomdomain_group_kills(&p[2]));
    assert_true(oomdomain_group_kills(&p[4]));
    struct proc init = {.pid = 1, .has_mm = true}, kthread = {.pid = 2, .kernel_thread = true};
    assert_false(oomdomain_group_kills(&init));
    assert_false(oomdomain_group_kills(&kthread));
    /* a victim outside any group dies alone; counting without room writes nothing */
    assert_int_equal(oomdomain_kill_unit(&d, 3, m, 6), 1);
    assert_int_equal(m[0], 3);
    assert_int_equal(oomdomain_kill_unit(&d, 0, NULL, 0), 2);
}

/* ---- fixture trees --------------------------------------------------------------------------- */

struct opened {
    struct sysroot sr;
    struct cgroup_hier h;
};

static void open_tree(const char *dir, struct opened *o)
{
    assert_int_equal(sysroot_open(&o->sr, dir, NULL), 0);
    assert_int_equal(cgroup_hier_open(&o->sr, &o->h), 0);
}

static void close_tree(struct opened *o)
{
    cgroup_hier_close(&o->h);
    sysroot_close(&o->sr);
}

static void layouts_from_mountinfo(void **state)
{
    (void)state;
    static const struct {
        const char *dir;
        enum cgroup_layout layout;
        int version;
        const char *mount, *unified;
    } cases[] = {
        {FIXTURE("cg-v2"), CGROUP_LAYOUT_V2, 2, "/sys/fs/cgroup", "/sys/fs/cgroup"},
        {FIXTURE("cg-v1"), CGROUP_LAYOUT_V1, 1, "/sys/fs/cgroup/memory", NULL},
        {FIXTURE("cg-hybrid"), CGROUP_LAYOUT_HYBRID, 1, "/sys/fs/cgroup/memory",
         "/sys/fs/cgroup/unified"},
        {FIXTURE("cg-k8s-systemd"), CGROUP_LAYOUT_V2, 2, "/sys/fs/cgroup", "/sys/fs/cgroup"},
        {FIXTURE("cg-k8s-cgroupfs"), CGROUP_LAYOUT_V1, 1, "/sys/fs/cgroup/memory", NULL},
        /* mountinfo names cgroup2, but the tree has no /sys: no controller */
        {FIXTURE("procs-basic"), CGROUP_LAYOUT_NONE, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct opened o;
        open_tree(cases[i].dir, &o);
        assert_int_equal(o.h.layout, cases[i].layout);
        assert_int_equal(o.h.memory_version, cases[i].version);
        if (cases[i].mount)
            assert_string_equal(o.h.memory.mountpoint, cases[i].mount);
        if (cases[i].unified)
            assert_string_equal(o.h.unified.mountpoint, cases[i].unified);
        else
            assert_null(o.h.unified.mountpoint);
        close_tree(&o);
    }
}

/* The light walk sees the same cgroups, in the same order, with the same limits, on v2 (one
 * cgroup without the memory controller) and on v1, and reads nothing else. */
static void walk_limits_only(void **state)
{
    (void)state;
    const char *trees[] = {FIXTURE("cg-v2"), FIXTURE("cg-v1"), FIXTURE("cg-k8s-systemd")};
    for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
        struct opened o;
        open_tree(trees[t], &o);
        struct cgroup_snapshot full, light;
        assert_int_equal(cgroup_snapshot_read_depth(&o.h, NULL, 16, &full), 0);
        assert_int_equal(cgroup_snapshot_read_limits(&o.h, NULL, 16, &light), 0);
        assert_int_equal(light.n, full.n);
        size_t limited = 0;
        for (size_t i = 0; i < full.n; i++) {
            assert_string_equal(light.v[i].path, full.v[i].path);
            assert_int_equal(light.v[i].parent, full.v[i].parent);
            assert_int_equal(light.v[i].max, full.v[i].max);
            limited += cgroup_limit_set(full.v[i].max);
            assert_false(opt_has(light.v[i].current));
        }
        assert_true(limited > 0);
        cgroup_snapshot_release(&full);
        cgroup_snapshot_release(&light);
        close_tree(&o);
    }
}

static void walk_v2_preorder_and_counts(void **state)
{
    (void)state;
    struct opened o;
    open_tree(FIXTURE("cg-v2"), &o);
    struct cgroup_snapshot s;
    assert_int_equal(cgroup_snapshot_read(&o.h, NULL, &s), 0);
    /* 13 cgroups in the generator, one without the memory controller */
    assert_int_equal(s.n, 12);
    assert_string_equal(s.v[0].path, "/");
    assert_int_equal(s.v[0].nprocs_subtree, 15);
    for (size_t i = 1; i < s.n; i++) {
        assert_true(s.v[i].parent < i); /* pre-order */
        assert_int_equal(s.v[i].depth, s.v[s.v[i].parent].depth + 1);
        assert_string_not_equal(s.v[i].path, "/system.slice/legacy.service/sub");
    }
    size_t nginx = cgroup_snapshot_find_under(&s, "/system.slice/nginx.service");
    assert_int_not_equal(nginx, SIZE_MAX);
    const struct cgroup_memory *n = &s.v[nginx];
    assert_int_equal(n->max, 512ull << 20);
    assert_int_equal(n->high, CGROUP_UNLIMITED);
    assert_int_equal(n->events.max, 12);
    assert_int_equal(n->events_local.oom_kill, 1);
    assert_int_equal(n->nprocs, 3);
    assert_true(n->has_psi);
    assert_int_equal(n->psi.some.avg10, 250);
    assert_int_equal(n->memsw_max, OPT_ABSENT);
    assert_int_equal(n->swappiness, OPT_ABSENT);
    assert_int_equal(cgroup_working_set(n), n->current - n->stat.inactive_file);
    /* a process in a child without the controller is charged to (and counted in) its memcg */
    size_t legacy = cgroup_snapshot_find_under(&s, "/system.slice/legacy.service/sub");
    assert_string_equal(s.v[legacy].path, "/system.slice/legacy.service");
    assert_int_equal(s.v[legacy].nprocs, 1);
    /* the v2 root has memory.stat and memory.pressure but no memory.current */
    assert_int_equal(s.v[0].current, OPT_ABSENT);
    assert_int_not_equal(s.v[0].stat.anon, OPT_ABSENT);
    cgroup_snapshot_release(&s);

    struct cgroup_memory cg;
    assert_int_equal(cgroup_read(&o.h, "/system.slice/legacy.service/sub", &cg), -ENOMEDIUM);
    assert_int_equal(cgroup_read(&o.h, "/system.slice/gone.service", &cg), -ENOENT);
    assert_int_equal(cgroup_snapshot_read(&o.h, "/nope", &s), -ENOENT);
    char *path;
    assert_int_equal(cgroup_of_pid(&o.h, 700, &path), 0);
    assert_string_equal(path, "/system.slice/legacy.service");
    free(path);
    assert_int_equal(cgroup_of_pid(&o.h, 99999, &path), -ESRCH);
    close_tree(&o);
}

static void v1_and_hybrid_reads(void **state)
{
    (void)state;
    struct opened o;
    open_tree(FIXTURE("cg-v1"), &o);
    struct cgroup_memory cg;
    assert_int_equal(cgroup_read(&o.h, "/frozen", &cg), 0);
    assert_int_equal(cg.version, 1);
    assert_int_equal(cg.max, 64ull << 20);
    assert_int_equal(cg.oom_control.oom_kill_disable, 1);
    assert_int_equal(cg.oom_control.under_oom, 1);
    assert_int_equal(cg.events.max, 12); /* failcnt */
    assert_int_equal(cg.events.oom, OPT_ABSENT);
    assert_int_equal(cg.swappiness, 0);
    assert_int_equal(cg.high, OPT_ABSENT);
    assert_int_equal(cg.memsw_max, CGROUP_UNLIMITED);
    assert_int_equal(cg.stat.hierarchical_memory_limit, 64ull << 20);
    assert_false(cg.has_psi); /* no unified tree */
    cgroup_memory_release(&cg);
    close_tree(&o);

    open_tree(FIXTURE("cg-hybrid"), &o);
    /* same path in the unified tree */
    assert_int_equal(cgroup_read(&o.h, "/system.slice/redis.service", &cg), 0);
    assert_true(cg.has_psi);
    assert_string_equal(cg.psi_path, "/system.slice/redis.service");
    assert_int_equal(cg.psi.full.avg10, 800);
    cgroup_memory_release(&cg);
    /* its processes' own unified cgroup */
    assert_int_equal(cgroup_read(&o.h, "/lxc/c1", &cg), 0);
    assert_false(cg.has_psi);
    assert_int_equal(cgroup_psi_from_members(&o.h, &cg), 0);
    assert_true(cg.has_psi);
    assert_string_equal(cg.psi_path, "/lxc.payload.c1");
    cgroup_memory_release(&cg);
    /* processes in the unified root: that file is the machine's, not the cgroup's */
    assert_int_equal(cgroup_read(&o.h, "/scratch", &cg), 0);
    assert_int_equal(cgroup_psi_from_members(&o.h, &cg), 0);
    assert_false(cg.has_psi);
    cgroup_memory_release(&cg);
    /* the v1 root: the unified root is the whole machine, which is right for it */
    assert_int_equal(cgroup_read(&o.h, "/", &cg), 0);
    assert_true(cg.has_psi);
    assert_string_equal(cg.psi_path, "/");
    cgroup_memory_release(&cg);
    close_tree(&o);
}

static void paths_normalised(void **state)
{
    (void)state;
    struct opened o;
    open_tree(FIXTURE("cg-v1"), &o);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/", "/"},
        {"", "/"},
        {"docker", "/docker"},
        {"//docker///abc/", "/docker/abc"},
        {"/sys/fs/cgroup/memory/docker", "/docker"},
        {"/sys/fs/cgroup/memory", "/"},
        {"/sys/fs/cgroup/memoryx", "/sys/fs/cgroup/memoryx"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = NULL;
        assert_int_equal(cgroup_path_normalize(&o.h, cases[i].in, &p), 0);
        assert_string_equal(p, cases[i].out);
        free(p);
    }
    /* the sysroot-prefixed mount point too (--root /host and /host/sys/fs/cgroup/...) */
    char arg[4096], *p = NULL;
    snprintf(arg, sizeof(arg), "%s/sys/fs/cgroup/memory/frozen", FIXTURE("cg-v1"));
    assert_int_equal(cgroup_path_normalize(&o.h, arg, &p), 0);
    assert_string_equal(p, "/frozen");
    free(p);
    assert_int_equal(cgroup_path_normalize(&o.h, "/a/../b", &p), -EINVAL);
    assert_int_equal(cgroup_path_normalize(&o.h, "./a", &p), -EINVAL);
    close_tree(&o);
}

/* Identity on every Kubernetes and Docker cgroup of the fixture trees (facts §7). */
static void identity_on_fixture_cgroups(void **state)
{
    (void)state;
    static const struct {
        const char *dir;
        const char *suffix; /* the end of the path */
        enum workload_kind kind;
        const char *qos, *runtime;
        bool conmon;
    } cases[] = {
        {FIXTURE("cg-k8s-systemd"),
         "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope",
         WORKLOAD_KUBERNETES, "burstable", "containerd", false},
        {FIXTURE("cg-k8s-systemd"),
         "crio-34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4.scope",
         WORKLOAD_KUBERNETES, "besteffort", "crio", false},
        {FIXTURE("cg-k8s-systemd"),
         "crio-conmon-34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4.scope",
         WORKLOAD_KUBERNETES, "besteffort", "crio", true},
        {FIXTURE("cg-k8s-systemd"),
         "5f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b434186d9bd077a7b5f0b8c1c5e3d2a.scope",
         WORKLOAD_KUBERNETES, "guaranteed", "containerd", false},
        {FIXTURE("cg-k8s-systemd"),
         "docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
         WORKLOAD_KUBERNETES, "burstable", "docker", false},
        {FIXTURE("cg-k8s-cgroupfs"),
         "/aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999", WORKLOAD_KUBERNETES,
         "burstable", "", false},
        {FIXTURE("cg-k8s-cgroupfs"),
         "/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", WORKLOAD_KUBERNETES,
         "guaranteed", "", false},
        {FIXTURE("cg-k8s-cgroupfs"),
         "/crio-34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4",
         WORKLOAD_KUBERNETES, "besteffort", "crio", false},
        {FIXTURE("cg-v1"),
         "/docker/34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4",
         WORKLOAD_DOCKER, NULL, "docker", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct opened o;
        open_tree(cases[i].dir, &o);
        struct cgroup_snapshot s;
        assert_int_equal(cgroup_snapshot_read(&o.h, NULL, &s), 0);
        bool found = false;
        for (size_t k = 0; k < s.n; k++) {
            size_t n = strlen(s.v[k].path), m = strlen(cases[i].suffix);
            if (n < m || strcmp(s.v[k].path + n - m, cases[i].suffix) != 0)
                continue;
            found = true;
            struct identity id;
            identity_from_cgroup(s.v[k].path, &id);
            assert_int_equal(id.kind, cases[i].kind);
            if (cases[i].qos)
                assert_string_equal(qos_class_name(id.qos), cases[i].qos);
            assert_string_equal(id.container_runtime, cases[i].runtime);
            assert_int_equal(id.conmon, cases[i].conmon);
            assert_int_equal(strlen(id.container_id), 64);
        }
        assert_true(found);
        cgroup_snapshot_release(&s);
        close_tree(&o);
    }
}

/* A cgroup removed while the walk runs: its directory is there, its files are not. */
static void walk_skips_vanished_cgroups(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/oomwarden-cgtest.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "cp -r '%s/.' '%s' && mkdir '%s/sys/fs/cgroup/memory/docker/gone'",
             FIXTURE("cg-v1"), dir, dir);
    assert_int_equal(system(cmd), 0);
    struct opened o;
    open_tree(dir, &o);
    struct cgroup_snapshot s;
    assert_int_equal(cgroup_snapshot_read(&o.h, NULL, &s), 0);
    assert_int_equal(s.n, 10);
    for (size_t i = 0; i < s.n; i++) {
        assert_string_not_equal(s.v[i].path, "/docker/gone");
        /* v1 memory.use_hierarchy, read per cgroup: the fixture's /legacy has 0 */
        assert_int_equal(s.v[i].use_hierarchy, strcmp(s.v[i].path, "/legacy") == 0 ? 0 : 1);
    }
    cgroup_snapshot_release(&s);
    struct cgroup_memory cg;
    assert_int_equal(cgroup_read(&o.h, "/docker/gone", &cg), -ENOENT);
    close_tree(&o);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Siblings in a tree that is no cgroup filesystem (a fixture, a copy): by name, whatever order
 * the directories were made in (their inode numbers come from the disk's allocator; on kernfs
 * they would give creation order, the kernel's own walk). */
static void siblings_by_name_off_cgroupfs(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/oomwarden-cgtest.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char cmd[8192];
    const char *m = "sys/fs/cgroup/memory";
    snprintf(cmd, sizeof(cmd),
             "cp -r '%s/.' '%s' && for c in zz mm aa; do cp -r '%s/%s/system.slice/ssh.service' "
             "'%s/%s/frozen/'$c || exit 1; done",
             FIXTURE("cg-v1"), dir, dir, m, dir, m);
    assert_int_equal(system(cmd), 0);
    struct opened o;
    open_tree(dir, &o);
    struct cgroup_snapshot s;
    assert_int_equal(cgroup_snapshot_read(&o.h, NULL, &s), 0);
    size_t aa = cgroup_snapshot_find_under(&s, "/frozen/aa");
    size_t mm = cgroup_snapshot_find_under(&s, "/frozen/mm");
    size_t zz = cgroup_snapshot_find_under(&s, "/frozen/zz");
    assert_int_not_equal(aa, SIZE_MAX);
    assert_true(aa < mm && mm < zz);
    cgroup_snapshot_release(&s);
    close_tree(&o);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* This machine's own hierarchy, where it has one (kernfs): siblings come in inode order, the
 * order they were made in and the kernel's own walk, at every depth of the walk (the walk asks
 * the filesystem once, at its top, and hands the answer down). Read only. */
static void siblings_by_inode_on_cgroupfs(void **state)
{
    (void)state;
    struct opened o;
    if (sysroot_open(&o.sr, NULL, NULL) < 0)
        skip();
    if (cgroup_hier_open(&o.sr, &o.h) < 0) {
        sysroot_close(&o.sr);
        skip();
    }
    struct cgroup_snapshot s;
    if (o.h.memory_version == 0 || cgroup_snapshot_read_limits(&o.h, NULL, 8, &s) < 0) {
        close_tree(&o);
        skip();
    }
    size_t pairs = 0, not_by_name = 0;
    for (size_t i = 0; i < s.n; i++)
        for (size_t k = i + 1; k < s.n; k++)
            if (s.v[k].parent == s.v[i].parent) { /* i's next sibling */
                assert_true(s.v[i].ino < s.v[k].ino);
                pairs++;
                not_by_name += strcmp(s.v[i].path, s.v[k].path) > 0;
                break;
            }
    /* where no two siblings differ between the orders, this proves less: say so */
    print_message("# %zu sibling pairs in inode order, %zu of them not in name order\n", pairs,
                  not_by_name);
    cgroup_snapshot_release(&s);
    close_tree(&o);
}

/*
 * A container that sees only its own subtree of a v1 hierarchy (no cgroup namespace): mountinfo's
 * root field is "/docker/abc" and /proc/PID/cgroup prints full hierarchy paths.
 */
static void mount_of_a_subtree(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/oomwarden-cgtest.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "cp -r '%s/.' '%s' && sed -i 's| / /sys/fs/cgroup/memory | /docker/abc "
             "/sys/fs/cgroup/memory |' '%s/proc/self/mountinfo'",
             FIXTURE("cg-v1"), dir, dir);
    assert_int_equal(system(cmd), 0);
    struct opened o;
    open_tree(dir, &o);
    assert_string_equal(o.h.memory.root, "/docker/abc");
    struct cgroup_snapshot s;
    assert_int_equal(cgroup_snapshot_read(&o.h, NULL, &s), 0);
    assert_string_equal(s.v[0].path, "/docker/abc");
    assert_int_not_equal(cgroup_snapshot_find_under(&s, "/docker/abc/frozen"), SIZE_MAX);
    cgroup_snapshot_release(&s);
    struct cgroup_memory cg;
    assert_int_equal(cgroup_read(&o.h, "/docker/abc/frozen", &cg), 0);
    assert_int_equal(cg.max, 64ull << 20);
    cgroup_memory_release(&cg);
    /* outside the mounted subtree: not visible */
    assert_int_equal(cgroup_read(&o.h, "/frozen", &cg), -ENOENT);
    char *p = NULL;
    assert_int_equal(cgroup_path_normalize(&o.h, "/sys/fs/cgroup/memory/frozen", &p), 0);
    assert_string_equal(p, "/docker/abc/frozen");
    free(p);
    close_tree(&o);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The guard reads one cgroup's processes, not the machine's: the subtree's cgroup.procs, then
 * those pids (duplicates and the gone skipped, sorted like a snapshot). */
static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static void subtree_pids_and_their_snapshot(void **state)
{
    (void)state;
    struct opened o;
    open_tree(FIXTURE("cg-v1"), &o);
    pid_t *pids;
    size_t n;
    assert_int_equal(cgroup_subtree_pids(&o.h, "/docker", &pids, &n), 0);
    assert_int_equal(n, 5);
    qsort(pids, n, sizeof(*pids), cmp_pid);
    const pid_t want[] = {800, 801, 810, 811, 820};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pids[i], want[i]);
    free(pids);
    assert_int_equal(cgroup_subtree_pids(&o.h, "/system.slice/ssh.service", &pids, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], 300);
    free(pids);
    assert_int_equal(cgroup_subtree_pids(&o.h, "/nope", &pids, &n), -ENOENT);
    assert_null(pids);
    assert_int_equal(n, 0);

    const pid_t ask[] = {820, 800, 800, 4242, 811};
    struct proc_table t;
    assert_int_equal(procs_snapshot_pids(&o.sr, ask, 5, PROC_READ_STAT | PROC_READ_CGROUP, &t), 0);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.v[0].pid, 800);
    assert_int_equal(t.v[1].pid, 811);
    assert_int_equal(t.v[2].pid, 820);
    assert_non_null(proc_table_find(&t, 811));
    assert_null(proc_table_find(&t, 4242));
    assert_non_null(t.v[2].cgroup);
    proc_table_release(&t);
    assert_int_equal(procs_snapshot_pids(&o.sr, NULL, 0, PROC_READ_STAT, &t), 0);
    assert_int_equal(t.n, 0);
    proc_table_release(&t);
    close_tree(&o);
}

/* Child paths (inotify hands the name, the views need the path) and the subtree test. */
static void cgpath_child_and_under(void **state)
{
    (void)state;
    char *a = cgpath_child("/", "system.slice"), *b = cgpath_child("/kubepods.slice", "pod1");
    assert_string_equal(a, "/system.slice");
    assert_string_equal(b, "/kubepods.slice/pod1");
    free(a);
    free(b);
    assert_true(cgpath_is_under("/a/b", "/a"));
    assert_true(cgpath_is_under("/a", "/a"));
    assert_false(cgpath_is_under("/ab", "/a"));
}

/* memory.events by index: the file's keys, in order, and their values */
static void events_by_index(void **state)
{
    (void)state;
    const char text[] = "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n";
    struct cgroup_events e;
    assert_int_equal(cgroup_events_parse(text, sizeof(text) - 1, &e), 6);
    const char *want[] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};
    for (size_t i = 0; i < CGROUP_EVENTS_N; i++) {
        assert_string_equal(cgroup_event_name(i), want[i]);
        assert_int_equal(cgroup_event_value(&e, i), i + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cgpath_child_and_under),
        cmocka_unit_test(events_by_index),
        cmocka_unit_test(walk_limits_only),
        cmocka_unit_test(psi_lines_and_fields),
        cmocka_unit_test(psi_rejects_garbage),
        cmocka_unit_test(mountinfo_hybrid_and_v2),
        cmocka_unit_test(mountinfo_escapes_and_bind_mounts),
        cmocka_unit_test(memstat_v1_maps_to_v2_names),
        cmocka_unit_test(memstat_v2_by_key),
        cmocka_unit_test(events_and_oom_control),
        cmocka_unit_test(limits_max_and_v1_unlimited),
        cmocka_unit_test(memcg_totalpages_like_mem_cgroup_get_max),
        cmocka_unit_test(pick_domain_and_binding),
        cmocka_unit_test(oom_group_highest_up_to_the_domain),
        cmocka_unit_test(oom_group_kill_unit_skips_exiting_members),
        cmocka_unit_test(layouts_from_mountinfo),
        cmocka_unit_test(walk_v2_preorder_and_counts),
        cmocka_unit_test(v1_and_hybrid_reads),
        cmocka_unit_test(paths_normalised),
        cmocka_unit_test(identity_on_fixture_cgroups),
        cmocka_unit_test(walk_skips_vanished_cgroups),
        cmocka_unit_test(mount_of_a_subtree),
        cmocka_unit_test(subtree_pids_and_their_snapshot),
        cmocka_unit_test(siblings_by_name_off_cgroupfs),
        cmocka_unit_test(siblings_by_inode_on_cgroupfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
