#include <errno.h>
#include <string.h>

#include "base/array.h"

#include "oomlog-int.h"

static enum col column_named(struct span w)
{
    static const struct {
        const char *name;
        enum col col;
    } names[] = {
        {"uid", COL_UID},
        {"tgid", COL_TGID},
        {"total_vm", COL_TOTAL_VM},
        {"rss", COL_RSS},
        {"rss_anon", COL_RSS_ANON},
        {"rss_file", COL_RSS_FILE},
        {"rss_shmem", COL_RSS_SHMEM},
        {"pgtables_bytes", COL_PGTABLES_BYTES},
        {"nr_ptes", COL_NR_PTES},
        {"nr_pmds", COL_NR_PMDS},
        {"swapents", COL_SWAPENTS},
        {"cpu", COL_CPU},
        {"oom_adj", COL_OOM_ADJ},
        {"oom_score_adj", COL_OOM_SCORE_ADJ},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (span_eq(w, names[i].name))
            return names[i].col;
    return COL_UNKNOWN;
}

void oom_table_header(struct oom_event *e, struct span t)
{
    const char *close = memchr(t.p, ']', t.n);
    if (!close)
        return;
    struct cursor c = cursor_make(close + 1, (size_t)(t.p + t.n - (close + 1)));
    e->ncolumns = 0;
    for (;;) {
        cursor_skip_blanks(&c);
        struct span w = cursor_word(&c);
        if (!w.n || span_eq(w, "name"))
            break;
        if (e->ncolumns < (int)(sizeof(e->columns) / sizeof(e->columns[0])))
            e->columns[e->ncolumns++] = column_named(w);
    }
    e->table = true;
    e->table_inferred = false;
}

static void set_column(struct oom_task *r, enum col col, int64_t v)
{
    uint64_t u = v < 0 ? OPT_ABSENT : (uint64_t)v;
    switch (col) {
    case COL_UID:
        r->uid = v;
        break;
    case COL_TGID:
        r->tgid = v;
        break;
    case COL_TOTAL_VM:
        r->total_vm = u;
        break;
    case COL_RSS:
        r->rss = u;
        break;
    case COL_RSS_ANON:
        r->rss_anon = u;
        break;
    case COL_RSS_FILE:
        r->rss_file = u;
        break;
    case COL_RSS_SHMEM:
        r->rss_shmem = u;
        break;
    case COL_PGTABLES_BYTES:
        r->pgtables_bytes = u;
        break;
    case COL_NR_PTES:
        r->nr_ptes = u;
        break;
    case COL_NR_PMDS:
        r->nr_pmds = u;
        break;
    case COL_SWAPENTS:
        r->swapents = u;
        break;
    case COL_CPU:
        r->cpu = v;
        break;
    case COL_OOM_ADJ:
        r->oom_adj = v;
        break;
    case COL_OOM_SCORE_ADJ:
        r->oom_score_adj = v;
        break;
    case COL_UNKNOWN:
        break;
    }
}

/* A row without its header line (grep kept only this one): the column count dates it. */
static bool infer_columns(int *columns, int *ncolumns, const int64_t *v, int n)
{
    static const int six_x[] = {COL_UID,      COL_TGID,         COL_TOTAL_VM,  COL_RSS,
                                COL_RSS_ANON, COL_RSS_FILE,     COL_RSS_SHMEM, COL_PGTABLES_BYTES,
                                COL_SWAPENTS, COL_OOM_SCORE_ADJ};
    static const int pmds[] = {COL_UID,     COL_TGID,    COL_TOTAL_VM, COL_RSS,
                               COL_NR_PTES, COL_NR_PMDS, COL_SWAPENTS, COL_OOM_SCORE_ADJ};
    static const int pgtb[] = {COL_UID,          COL_TGID,           COL_TOTAL_VM,
                               COL_RSS,          COL_PGTABLES_BYTES, COL_SWAPENTS,
                               COL_OOM_SCORE_ADJ};
    static const int ptes[] = {COL_UID,     COL_TGID,     COL_TOTAL_VM,     COL_RSS,
                               COL_NR_PTES, COL_SWAPENTS, COL_OOM_SCORE_ADJ};
    static const int cpu_adj[] = {COL_UID, COL_TGID, COL_TOTAL_VM, COL_RSS, COL_CPU, COL_OOM_ADJ};
    const int *cols;
    switch (n) {
    case 10:
        cols = six_x;
        break;
    case 8:
        cols = pmds;
        break;
    case 7:
        /* pgtables_bytes (4.15-6.7) counts bytes of page-table pages: a multiple of 4096 and
         * never small for a process with an mm; nr_ptes (3.x) counts pages */
        cols = v[4] >= 4096 && v[4] % 4096 == 0 ? pgtb : ptes;
        break;
    case 6:
        cols = cpu_adj;
        break;
    default:
        return false;
    }
    for (int i = 0; i < n; i++)
        columns[i] = cols[i];
    *ncolumns = n;
    return true;
}

/* One row, with the columns of the table header, or (none yet) inferring and setting them. */
int oom_row_parse(int *columns, int *ncolumns, bool *inferred, struct span t,
                     struct oom_task *r)
{
    oom_task_init(r);
    struct cursor c = cursor_make(t.p, t.n);
    if (!cursor_skip_char(&c, '['))
        return -EINVAL;
    cursor_skip_blanks(&c);
    uint64_t pid;
    if (cursor_u64(&c, &pid) < 0 || pid > INT32_MAX || !cursor_skip_char(&c, ']'))
        return -EINVAL;
    r->pid = (int64_t)pid;
    int64_t v[16];
    int n = 0;
    if (*ncolumns > 0) {
        for (int i = 0; i < *ncolumns; i++) {
            cursor_skip_blanks(&c);
            if (cursor_i64(&c, &v[i]) < 0 || (!cursor_eof(&c) && *c.p != ' '))
                return -EINVAL;
        }
        n = *ncolumns;
    } else {
        /* numbers until the name; a numeric name stays a name */
        for (;;) {
            struct cursor save = c;
            cursor_skip_blanks(&c);
            int64_t x;
            if (n >= 16 || cursor_i64(&c, &x) < 0 || (!cursor_eof(&c) && *c.p != ' ')) {
                c = save;
                break;
            }
            struct cursor peek = c;
            cursor_skip_blanks(&peek);
            if (cursor_eof(&peek)) {
                c = save;
                break;
            }
            v[n++] = x;
        }
        if (!infer_columns(columns, ncolumns, v, n))
            return -EINVAL;
        *inferred = true;
    }
    for (int i = 0; i < n; i++)
        set_column(r, (enum col)columns[i], v[i]);
    struct span name = trim((struct span){c.p, cursor_left(&c)});
    if (!name.n)
        return -EINVAL;
    copy_comm(r->name, sizeof(r->name), name);
    return 0;
}

int oom_event_add_row(struct oom_event *e, const struct oom_task *r)
{
    e->ntasks++;
    if (opt_has(r->rss))
        e->tasks_rss_pages += r->rss;
    if (r->oom_score_adj == -1000)
        e->ntasks_adj_min++;
    if (e->nrows >= OOMLOG_MAX_ROWS)
        return 0;
    if (ARRAY_GROW(e->rows, e->nrows, e->row_cap, 32) < 0)
        return -ENOMEM;
    e->rows[e->nrows++] = *r;
    return 0;
}

/* "anon 5775360" (memory.stat, bytes) */
void oom_stats_kv(struct oom_event *e, struct span t)
{
    struct cursor c = cursor_make(t.p, t.n);
    struct span key = cursor_word(&c);
    cursor_skip_blanks(&c);
    uint64_t v;
    if (!key.n || cursor_u64(&c, &v) < 0)
        return;
    cursor_skip_blanks(&c);
    if (!cursor_eof(&c))
        return;
    /* v1 keys (6.5+ on cgroup v1: memcg1_stat_format) come with hierarchical total_* twins,
     * which win; v2 keys are hierarchical already */
    if (span_eq(key, "anon") || span_eq(key, "total_rss"))
        e->stat_anon = v;
    else if (span_eq(key, "rss") && !opt_has(e->stat_anon))
        e->stat_anon = v;
    else if (span_eq(key, "file") || span_eq(key, "total_cache"))
        e->stat_file = v;
    else if (span_eq(key, "cache") && !opt_has(e->stat_file))
        e->stat_file = v;
    else if (span_eq(key, "shmem") || span_eq(key, "total_shmem"))
        e->stat_shmem = v;
    else if (span_eq(key, "kernel"))
        e->stat_kernel = v;
    else if (span_eq(key, "slab"))
        e->stat_slab = v;
    else if (span_eq(key, "sock"))
        e->stat_sock = v;
    else if (span_eq(key, "total_swap") || (span_eq(key, "swap") && !opt_has(e->stat_swap)))
        e->stat_swap = v;
}

static void add_opt(uint64_t *dst, uint64_t v)
{
    *dst = opt_has(*dst) ? *dst + v : v;
}

/*
 * The next "key:number" token of a line of such tokens ("active_anon:317 inactive_anon:19",
 * "cache:0KB rss:980KB"), skipping tokens of other shapes. On success the cursor is just after
 * the number (a unit may follow). Returns false at the end of the line.
 */
static bool next_colon_number(struct cursor *c, struct span *ret_key, uint64_t *ret_value)
{
    for (;;) {
        cursor_skip_blanks(c);
        if (cursor_eof(c))
            return false;
        const char *k = c->p;
        while (!cursor_eof(c) && *c->p != ':' && *c->p != ' ')
            c->p++;
        if (cursor_eof(c) || *c->p != ':') {
            (void)cursor_word(c);
            continue;
        }
        *ret_key = (struct span){k, (size_t)(c->p - k)};
        c->p++;
        if (cursor_u64(c, ret_value) < 0) {
            (void)cursor_word(c);
            continue;
        }
        return true;
    }
}

/* "cache:980KB": one field of the v1 one-line form, whole */
static bool stats1_field(struct span w)
{
    size_t i = 0;
    while (i < w.n && ((w.p[i] >= 'a' && w.p[i] <= 'z') || w.p[i] == '_'))
        i++;
    if (!i || i + 1 >= w.n || w.p[i] != ':' || !is_digit(w.p[i + 1]))
        return false;
    for (i++; i < w.n && is_digit(w.p[i]); i++)
        ;
    return w.n - i == 2 && w.p[i] == 'K' && w.p[i + 1] == 'B';
}

int oom_stats1_fields(struct span t)
{
    const char *sep = find(t, ": ");
    if (!sep)
        return 1;
    int n = 1;
    struct cursor c = cursor_make(sep + 2, (size_t)(t.p + t.n - (sep + 2)));
    for (;;) {
        cursor_skip_blanks(&c);
        if (cursor_eof(&c))
            return n;
        /* counted up to the first word that is not one: a break's halves read as one field
         * again, words of another kind after the stats are no continuation */
        if (!stats1_field(cursor_word(&c)))
            return n;
        n++;
    }
}

/* v1 one-line form (<= 5.2): "Memory cgroup stats for /x: cache:0KB rss:980KB ..." — one line
 * per cgroup of the subtree, each with its own (local) numbers: they add up */
static void stats_oneline(struct oom_event *e, struct span t)
{
    struct cursor c = cursor_make(t.p, t.n);
    struct span key;
    uint64_t v;
    while (next_colon_number(&c, &key, &v)) {
        if (!cursor_skip_prefix(&c, "KB")) {
            (void)cursor_word(&c);
            continue;
        }
        v *= 1024;
        if (span_eq(key, "rss"))
            add_opt(&e->stat_anon, v);
        else if (span_eq(key, "cache"))
            add_opt(&e->stat_file, v);
        else if (span_eq(key, "shmem"))
            add_opt(&e->stat_shmem, v);
        else if (span_eq(key, "swap"))
            add_opt(&e->stat_swap, v);
    }
}

void oom_stats_for(struct oom_event *e, struct span t)
{
    struct span rest = after(t, strlen("Memory cgroup stats for "));
    /* the path ends at ": " (one-line form) or at the final ':' — paths themselves can hold
     * colons ("...slice:cri-containerd:<id>") */
    const char *sep = find(rest, ": ");
    struct span path;
    if (sep) {
        path = (struct span){rest.p, (size_t)(sep - rest.p)};
        if (!e->stats_memcg)
            (void)set_path(&e->stats_memcg, path);
        stats_oneline(e, after(rest, path.n + 2));
        e->state = ST_STATS1;
        return;
    }
    path = trim(rest);
    if (path.n && path.p[path.n - 1] == ':')
        path.n--;
    if (!e->stats_memcg)
        (void)set_path(&e->stats_memcg, path);
    e->stats_v2 = true;
    e->state = ST_STATS;
}

bool oom_stats1_more(struct oom_event *e, struct span t)
{
    /* the kernel prints the fields one by one (pr_cont): one that got a line and a stamp of its
     * own (another CPU's message came between) is whole; anything else ends the section */
    struct cursor c = cursor_make(t.p, t.n);
    for (;;) {
        cursor_skip_blanks(&c);
        if (cursor_eof(&c))
            break;
        if (!stats1_field(cursor_word(&c)))
            return false;
    }
    stats_oneline(e, t);
    return true;
}

/* Mem-Info summary lines: "active_anon:317 inactive_anon:1937229 isolated_anon:0" */
static void meminfo_kv(struct oom_event *e, struct span t)
{
    struct cursor c = cursor_make(t.p, t.n);
    struct span key;
    uint64_t v;
    while (next_colon_number(&c, &key, &v)) {
        if (!cursor_eof(&c) && *c.p != ' ') {
            /* "1268kB" on the per-node lines: not the page counts */
            (void)cursor_word(&c);
            continue;
        }
        char name[24];
        if (key.n >= sizeof(name))
            continue;
        for (size_t i = 0; i < key.n; i++)
            name[i] = (char)(key.p[i] >= 'A' && key.p[i] <= 'Z' ? key.p[i] + 32 : key.p[i]);
        name[key.n] = '\0';
        if (!strcmp(name, "free"))
            e->mi_free = v;
        else if (!strcmp(name, "active_anon"))
            e->mi_active_anon = v;
        else if (!strcmp(name, "inactive_anon"))
            e->mi_inactive_anon = v;
        else if (!strcmp(name, "active_file"))
            e->mi_active_file = v;
        else if (!strcmp(name, "inactive_file"))
            e->mi_inactive_file = v;
        else if (!strcmp(name, "shmem"))
            e->mi_shmem = v;
        else if (!strcmp(name, "slab_reclaimable"))
            e->mi_slab_reclaimable = v;
        else if (!strcmp(name, "slab_unreclaimable"))
            e->mi_slab_unreclaimable = v;
        else if (!strcmp(name, "unevictable"))
            e->mi_unevictable = v;
        else if (!strcmp(name, "pagetables"))
            e->mi_pagetables = v;
        else if (!strcmp(name, "slab"))
            e->mi_slab = v;
    }
}

void oom_meminfo_line(struct oom_event *e, struct span t)
{
    if (!t.n)
        return;
    uint64_t v;
    struct cursor c = cursor_make(t.p, t.n);
    if (starts(t, "Free swap")) {
        if (key_u64(t, "= ", &v))
            e->free_swap_kb = v;
        return;
    }
    if (starts(t, "Total swap")) {
        if (key_u64(t, "= ", &v))
            e->total_swap_kb = v;
        return;
    }
    if (starts(t, "Unreclaimable slab info")) {
        e->unreclaimable_slab = true;
        return;
    }
    if (is_digit(t.p[0]) && cursor_u64(&c, &v) == 0) {
        struct span r = {c.p, cursor_left(&c)};
        if (span_eq(r, " pages RAM") || span_eq(r, " pages of RAM"))
            e->ram_pages = v;
        else if (span_eq(r, " pages reserved") || span_eq(r, " reserved pages"))
            e->reserved_pages = v;
        return;
    }
    /* buddy lists "Node 0 DMA: 0*4kB 0*8kB ..." / "Normal: 3*4kB ...": the first block size is
     * the page size */
    const char *star = memchr(t.p, '*', t.n);
    if (star && !opt_has(e->page_kb) && find(t, "kB")) {
        const char *colon = memchr(t.p, ':', (size_t)(star - t.p));
        struct cursor s = cursor_make(star + 1, (size_t)(t.p + t.n - (star + 1)));
        if (colon && cursor_u64(&s, &v) == 0 && cursor_skip_prefix(&s, "kB") && v > 0 &&
            v <= 1024 && (v & (v - 1)) == 0) {
            e->page_kb = v;
            return;
        }
    }
    if (memchr(t.p, ':', t.n))
        meminfo_kv(e, t);
}
