#include "explain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/opt.h"
#include "base/table.h"
#include "model/cgroup/cgpath.h"
#include "model/workload/identity.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/workload/podnames.h"
#include "explain-int.h"

bool unlimited(uint64_t kb)
{
    return opt_has(kb) && kb >= UNLIMITED_KB;
}

const char *kb_str(char out[24], uint64_t kb)
{
    return fmt_size_long(out, kb * 1024);
}

/* pages as a size when the page size is known, else as a count */
const char *pages_str(char out[40], const struct oom_event *e, uint64_t pages)
{
    if (opt_has(e->page_kb)) {
        char s[24];
        snprintf(out, 40, "%s", fmt_size_long(s, pages * e->page_kb * 1024));
    } else {
        snprintf(out, 40, "%" PRIu64 " pages", pages);
    }
    return out;
}

/* cgroup v2: the "swap:" line (5.3+ prints it instead of memory+swap/kmem on v2), or
 * memory.oom.group, which exists only there */
bool is_v2(const struct oom_event *e)
{
    return opt_has(e->swap.usage_kb) || e->group_memcg;
}

/* cgroup v1: memory+swap/kmem lines are v1-only from 5.3 on; before 4.5 there was no v2 memcg.
 * Between the two, kernels printed them for v2 as well. */
bool is_v1(const struct oom_event *e)
{
    if (!opt_has(e->memsw.usage_kb) || is_v2(e))
        return false;
    struct kver k;
    if (e->kernel_release[0] && kver_parse(e->kernel_release, &k) == 0)
        return kver_at_least(&k, 5, 3, 0) || !kver_at_least(&k, 4, 5, 0);
    return false;
}

enum algo event_algo(const struct oom_event *e)
{
    struct kver k;
    if (e->kernel_release[0] && kver_parse(e->kernel_release, &k) == 0) {
        if (!kver_at_least(&k, 2, 6, 36))
            return ALGO_OLD;
        return kver_at_least(&k, 3, 5, 0) ? ALGO_PAGES : ALGO_PERMILLE;
    }
    /* the report's own format dates it */
    const struct oom_task *r = e->nrows ? &e->rows[0] : NULL;
    if (r && (opt_has(r->pgtables_bytes) || opt_has(r->nr_pmds) || opt_has(r->rss_anon)))
        return ALGO_PAGES; /* 4.0+ */
    if (e->summary || e->gfp_flags[0])
        return ALGO_PAGES; /* 5.0+, 4.6+ */
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].message[0] && opt_has(e->victims[i].pgtables_kb))
            return ALGO_PAGES; /* 5.4+ */
    return ALGO_UNKNOWN;
}

/* totalpages of the OOM domain: RAM + swap (global), the memcg limit (+ swap it may use) */
uint64_t domain_pages(const struct oom_event *e, bool *approx)
{
    *approx = false;
    if (!opt_has(e->page_kb) || !e->page_kb)
        return OPT_ABSENT;
    if (e->scope == OOM_SCOPE_MEMCG) {
        if (!opt_has(e->mem.limit_kb) || unlimited(e->mem.limit_kb))
            return OPT_ABSENT;
        /* mem_cgroup_get_max() adds swap when the cgroup may swap; the report shows the swap
         * limit but not the machine's swap or the cgroup's swappiness */
        if ((opt_has(e->swap.limit_kb) && e->swap.limit_kb > 0) ||
            (opt_has(e->memsw.limit_kb) && e->memsw.limit_kb > e->mem.limit_kb))
            *approx = true;
        return e->mem.limit_kb / e->page_kb;
    }
    if (e->scope == OOM_SCOPE_GLOBAL && opt_has(e->ram_pages)) {
        uint64_t ram =
            e->ram_pages - (opt_has(e->reserved_pages) && e->reserved_pages <= e->ram_pages
                                ? e->reserved_pages
                                : 0);
        if (!opt_has(e->total_swap_kb))
            *approx = true;
        return ram + (opt_has(e->total_swap_kb) ? e->total_swap_kb / e->page_kb : 0);
    }
    return OPT_ABSENT;
}

bool badness_of(const struct oom_event *e, const struct oom_task *r, struct bad *b)
{
    if (!opt_has(r->rss))
        return false;
    memset(b, 0, sizeof(*b));
    b->rss = r->rss;
    b->swap = opt_has(r->swapents) ? r->swapents : 0;
    if (opt_has(r->pgtables_bytes)) {
        if (!opt_has(e->page_kb))
            return false;
        b->pt = r->pgtables_bytes / (e->page_kb * 1024);
    } else {
        b->pt = (opt_has(r->nr_ptes) ? r->nr_ptes : 0) + (opt_has(r->nr_pmds) ? r->nr_pmds : 0);
    }
    b->base = b->rss + b->swap + b->pt;
    b->adj_known = opt_has_i64(r->oom_score_adj);
    b->adj = b->adj_known ? r->oom_score_adj : 0;
    b->total = domain_pages(e, &b->total_approx);
    /* text that no kernel prints (adj beyond +-1000, more than 2^52 pages) gets no points:
     * the arithmetic would overflow */
    if (b->adj < -1000 || b->adj > 1000 || b->base > (1ull << 52) ||
        (opt_has(b->total) && b->total > (1ull << 52)))
        b->total = OPT_ABSENT;
    if (opt_has(b->total)) {
        /* oom_badness(): adj *= totalpages / 1000 (integer division first) */
        b->adj_pages = b->adj * (int64_t)(b->total / 1000);
        b->points = (int64_t)b->base + b->adj_pages;
    }
    return true;
}

void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r;
    /* words alone and "%s" are most of what is written: no printf for them */
    if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2])
        r = buf_puts(o->b, va_arg(ap, const char *));
    else if (!strchr(fmt, '%'))
        r = buf_puts(o->b, fmt);
    else
        r = buf_vprintf(o->b, fmt, ap);
    va_end(ap);
    if (r < 0 && !o->err)
        o->err = r;
}

/* kernel text in prose: control bytes and invalid UTF-8 become '?' */
void put_text(struct out *o, const char *s)
{
    int r = text_sanitize_into(o->b, s, strlen(s));
    if (r < 0 && !o->err)
        o->err = r;
}

void label(struct out *o, const char *name)
{
    put(o, "  %-8s ", name);
}

void style(struct out *o, enum table_style s)
{
    if (o->st && o->st->color)
        put(o, "%s", style_ansi(s));
}

void unstyle(struct out *o)
{
    if (o->st && o->st->color)
        put(o, "%s", STYLE_RESET);
}

void put_task(struct out *o, const char *comm, int64_t pid)
{
    put_text(o, comm[0] ? comm : "?");
    if (opt_has_i64(pid))
        put(o, " (pid %" PRId64 ")", pid);
}

void put_int(struct out *o, int64_t v)
{
    /* thousands separators make page counts readable: 1,795,214 */
    char tmp[32], res[48];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v < 0 ? -v : v);
    size_t k = 0;
    if (v < 0)
        res[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            res[k++] = ',';
        res[k++] = tmp[i];
    }
    res[k] = '\0';
    put(o, "%s", res);
}

static void put_path(struct out *o, const char *path, const struct podnames *names,
                     bool short_paths)
{
    char s[IDENTITY_BRIEF_MAX];
    if (short_paths) {
        podnames_cgroup_short(names, path, 40, s, sizeof(s));
        put_text(o, s);
        return;
    }
    put_text(o, path);
    struct identity id;
    podnames_identity(names, path, &id);
    if (id.pod_name[0]) {
        identity_brief(&id, s, sizeof(s));
        put(o, " (%s)", s);
    }
}

int explain_event_line(const struct oom_event *e, const struct podnames *names, bool short_paths,
                       struct buf *b)
{
    struct out o = {.b = b};
    char a[24];
    if (e->record != OOM_RECORD_KERNEL) {
        user_event_line(&o, e);
        return o.err;
    }
    switch (e->scope) {
    case OOM_SCOPE_GLOBAL:
        put(&o, "machine-wide");
        break;
    case OOM_SCOPE_MEMCG: {
        const char *path = e->oom_memcg ? e->oom_memcg : e->stats_memcg;
        put(&o, "memory cgroup ");
        if (path)
            put_path(&o, path, names, short_paths);
        else
            put(&o, "(path not in the report)");
        break;
    }
    case OOM_SCOPE_CPUSET:
        put(&o, "cpuset");
        break;
    case OOM_SCOPE_MEMPOLICY:
        put(&o, "memory policy");
        break;
    case OOM_SCOPE_UNKNOWN:
    default:
        put(&o, "scope unknown");
        break;
    }
    const struct oom_victim *v = oom_event_primary(e);
    if (!v) {
        put(&o, e->no_killable ? ": nothing could be killed" : ": no kill line in the text");
        if (e->panic[0])
            put(&o, ", kernel panic (%s)", e->panic);
        return o.err;
    }
    put(&o, v->kind == OOM_VICTIM_EXITING ? ": chose " : ": killed ");
    put_task(&o, v->comm, v->pid);
    uint64_t rss = 0;
    bool known = false;
    const uint64_t parts[3] = {v->anon_rss_kb, v->file_rss_kb, v->shmem_rss_kb};
    for (int i = 0; i < 3; i++)
        if (opt_has(parts[i])) {
            rss += parts[i];
            known = true;
        }
    if (known)
        put(&o, ", %s", kb_str(a, rss));
    int64_t adj = opt_has_i64(v->oom_score_adj) ? v->oom_score_adj
                  : v->has_row                  ? v->row.oom_score_adj
                                                : OPT_ABSENT_I64;
    if (opt_has_i64(adj))
        put(&o, short_paths ? ", adj %" PRId64 : ", oom_score_adj %" PRId64, adj);
    if (v->kind == OOM_VICTIM_EXITING)
        put(&o, " (already exiting: not killed)");
    size_t group = 0;
    for (size_t i = 1; i < e->nvictims; i++)
        group += e->victims[i].kind == OOM_VICTIM_GROUP;
    if (group)
        put(&o, ", and %zu more by memory.oom.group", group);
    if (e->task_memcg && e->scope == OOM_SCOPE_GLOBAL) {
        put(&o, " in ");
        put_path(&o, e->task_memcg, names, short_paths);
    }
    return o.err;
}
