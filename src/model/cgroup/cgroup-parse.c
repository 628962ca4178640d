/* The memory controller's files, parsed (pure), and the numbers derived from them. */
#include "cgroup-int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/keyed.h"
#include "base/limits.h"
#include "base/opt.h"

/* ---- parsers ----------------------------------------------------------------------------- */

int cgroup_limit_parse(const char *buf, size_t len, int version, long page_size, uint64_t *ret)
{
    struct cursor c = cursor_make(buf, len);
    cursor_skip_space(&c);
    if (cursor_skip_prefix(&c, "max")) {
        cursor_skip_space(&c);
        if (!cursor_eof(&c))
            return -EBADMSG;
        *ret = CGROUP_UNLIMITED;
        return 0;
    }
    uint64_t v;
    if (cursor_u64(&c, &v) < 0)
        return -EBADMSG;
    cursor_skip_space(&c);
    if (!cursor_eof(&c))
        return -EBADMSG;
    if (version == 1 && page_size > 0) {
        /* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE pages on 64-bit (include/linux/page_counter.h):
         * v1 prints it times PAGE_SIZE, 9223372036854771712 with 4 KiB pages */
        uint64_t unlimited = ((uint64_t)INT64_MAX / (uint64_t)page_size) * (uint64_t)page_size;
        if (v >= unlimited)
            v = CGROUP_UNLIMITED;
    }
    *ret = v;
    return 0;
}

#define ST(key, member) KEYED_FIELD(struct cgroup_memstat, key, member, 1)
static const struct keyed_field memstat_v2_fields[] = {
    ST("anon", anon),
    ST("file", file),
    ST("kernel", kernel),
    ST("kernel_stack", kernel_stack),
    ST("pagetables", pagetables),
    ST("sec_pagetables", sec_pagetables),
    ST("percpu", percpu),
    ST("sock", sock),
    ST("vmalloc", vmalloc),
    ST("shmem", shmem),
    ST("zswap", zswap),
    ST("zswapped", zswapped),
    ST("file_mapped", file_mapped),
    ST("file_dirty", file_dirty),
    ST("file_writeback", file_writeback),
    ST("swapcached", swapcached),
    ST("anon_thp", anon_thp),
    ST("file_thp", file_thp),
    ST("shmem_thp", shmem_thp),
    ST("inactive_anon", inactive_anon),
    ST("active_anon", active_anon),
    ST("inactive_file", inactive_file),
    ST("active_file", active_file),
    ST("unevictable", unevictable),
    ST("slab_reclaimable", slab_reclaimable),
    ST("slab_unreclaimable", slab_unreclaimable),
    ST("slab", slab),
    ST("workingset_refault_anon", workingset_refault_anon),
    ST("workingset_refault_file", workingset_refault_file),
    ST("pgfault", pgfault),
    ST("pgmajfault", pgmajfault),
};

/* v1 names → the v2 member they map to. Each is read both local and as total_<name>. */
struct v1_key {
    const char *name;
    size_t offset;
};
#define V1(name, member)                                                                           \
    {                                                                                              \
        name, offsetof(struct cgroup_memstat, member)                                              \
    }
static const struct v1_key memstat_v1_keys[] = {
    V1("cache", file),
    V1("rss", anon),
    V1("rss_huge", anon_thp),
    V1("shmem", shmem),
    V1("mapped_file", file_mapped),
    V1("dirty", file_dirty),
    V1("writeback", file_writeback),
    V1("swap", swap),
    V1("swapcached", swapcached),
    V1("inactive_anon", inactive_anon),
    V1("active_anon", active_anon),
    V1("inactive_file", inactive_file),
    V1("active_file", active_file),
    V1("unevictable", unevictable),
    V1("workingset_refault_anon", workingset_refault_anon),
    V1("workingset_refault_file", workingset_refault_file),
    V1("pgfault", pgfault),
    V1("pgmajfault", pgmajfault),
};

void cgroup_memstat_init(struct cgroup_memstat *s)
{
    memset(s, 0xff, sizeof(*s)); /* every field OPT_ABSENT */
}

static int memstat_v1_parse(const char *buf, size_t len, long page_size, struct cgroup_memstat *ret)
{
    size_t nk = ARRAY_SIZE(memstat_v1_keys);
    uint64_t local[ARRAY_SIZE(memstat_v1_keys)], total[ARRAY_SIZE(memstat_v1_keys)];
    for (size_t i = 0; i < nk; i++)
        local[i] = total[i] = OPT_ABSENT;
    uint64_t hier_mem = OPT_ABSENT, hier_memsw = OPT_ABSENT;
    int set = 0;
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span key = cursor_word(&line);
        cursor_skip_blanks(&line);
        uint64_t v;
        if (key.n == 0 || cursor_u64(&line, &v) < 0)
            continue;
        if (span_eq(key, "hierarchical_memory_limit")) {
            hier_mem = v;
            continue;
        }
        if (span_eq(key, "hierarchical_memsw_limit")) {
            hier_memsw = v;
            continue;
        }
        bool is_total = span_starts_with(key, "total_");
        if (is_total) {
            key.p += 6;
            key.n -= 6;
        }
        for (size_t i = 0; i < nk; i++) {
            if (span_eq(key, memstat_v1_keys[i].name)) {
                (is_total ? total : local)[i] = v;
                break;
            }
        }
    }
    for (size_t i = 0; i < nk; i++) {
        uint64_t v = opt_has(total[i]) ? total[i] : local[i];
        if (!opt_has(v))
            continue;
        memcpy((char *)ret + memstat_v1_keys[i].offset, &v, sizeof(v));
        set++;
    }
    char tmp[32];
    if (opt_has(hier_mem)) {
        int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)hier_mem);
        (void)cgroup_limit_parse(tmp, (size_t)n, 1, page_size, &ret->hierarchical_memory_limit);
        set++;
    }
    if (opt_has(hier_memsw)) {
        int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)hier_memsw);
        (void)cgroup_limit_parse(tmp, (size_t)n, 1, page_size, &ret->hierarchical_memsw_limit);
        set++;
    }
    return set;
}

int cgroup_memstat_parse(const char *buf, size_t len, int version, long page_size,
                         struct cgroup_memstat *ret)
{
    cgroup_memstat_init(ret);
    if (version == 1)
        return memstat_v1_parse(buf, len, page_size, ret);
    return keyed_parse(buf, len, memstat_v2_fields, ARRAY_SIZE(memstat_v2_fields), ret);
}

#define EV(key, member) KEYED_FIELD(struct cgroup_events, key, member, 1)
static const struct keyed_field events_fields[] = {
    EV("low", low), EV("high", high),         EV("max", max),
    EV("oom", oom), EV("oom_kill", oom_kill), EV("oom_group_kill", oom_group_kill),
};

_Static_assert(ARRAY_SIZE(events_fields) == CGROUP_EVENTS_N, "CGROUP_EVENTS_N");

int cgroup_events_parse(const char *buf, size_t len, struct cgroup_events *ret)
{
    memset(ret, 0xff, sizeof(*ret));
    return keyed_parse(buf, len, events_fields, ARRAY_SIZE(events_fields), ret);
}

const char *cgroup_event_name(size_t i)
{
    return events_fields[i].key;
}

uint64_t cgroup_event_value(const struct cgroup_events *e, size_t i)
{
    return *(const uint64_t *)((const char *)e + events_fields[i].offset);
}

#define OC(key, member) KEYED_FIELD(struct cgroup_oom_control, key, member, 1)
static const struct keyed_field oom_control_fields[] = {
    OC("oom_kill_disable", oom_kill_disable),
    OC("under_oom", under_oom),
    OC("oom_kill", oom_kill),
};

int cgroup_oom_control_parse(const char *buf, size_t len, struct cgroup_oom_control *ret)
{
    memset(ret, 0xff, sizeof(*ret));
    return keyed_parse(buf, len, oom_control_fields, ARRAY_SIZE(oom_control_fields), ret);
}

/* ---- derived numbers ---------------------------------------------------------------------- */

uint64_t cgroup_working_set(const struct cgroup_memory *cg)
{
    if (!opt_has(cg->current))
        return OPT_ABSENT;
    uint64_t inactive = cg->stat.inactive_file;
    if (!opt_has(inactive))
        return cg->current;
    return cg->current > inactive ? cg->current - inactive : 0;
}

uint64_t cgroup_reclaimable(const struct cgroup_memory *cg)
{
    const struct cgroup_memstat *s = &cg->stat;
    if (!opt_has(s->inactive_file) || !opt_has(s->active_file))
        return OPT_ABSENT;
    uint64_t r = s->inactive_file + s->active_file;
    if (opt_has(s->slab_reclaimable))
        r += s->slab_reclaimable;
    return r;
}

uint64_t cgroup_kernel(const struct cgroup_memory *cg)
{
    const struct cgroup_memstat *s = &cg->stat;
    if (opt_has(s->kernel))
        return s->kernel;
    if (cg->version == 1)
        return cg->kmem_current;
    /* 5.10 has the parts but not the sum */
    const uint64_t parts[] = {s->kernel_stack, s->pagetables,       s->percpu,
                              s->vmalloc,      s->slab_reclaimable, s->slab_unreclaimable};
    uint64_t sum = 0;
    bool any = false;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (opt_has(parts[i])) {
            sum += parts[i];
            any = true;
        }
    return any ? sum : OPT_ABSENT;
}

void cgroup_binding_of(const struct cgroup_memory *const *chain, size_t n,
                       struct cgroup_binding *ret)
{
    *ret = (struct cgroup_binding){
        .limit = CGROUP_UNLIMITED, .usage = OPT_ABSENT, .headroom = OPT_ABSENT};
    /* from the cgroup up, so that equal headroom goes to the nearest */
    for (size_t i = n; i-- > 0;) {
        const struct cgroup_memory *cg = chain[i];
        if (i + 1 < n && !cgroup_charges_reach(cg))
            break;
        if (!cgroup_limit_set(cg->max))
            continue;
        uint64_t use = opt_has(cg->current) ? cg->current : 0;
        uint64_t room = cg->max > use ? cg->max - use : 0;
        if (!ret->from || room < ret->headroom)
            *ret = (struct cgroup_binding){cg->max, cg->current, room, cg->path};
    }
}
