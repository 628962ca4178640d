#include "oomlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/opt.h"
#include "kmsg.h"

/* Parse states of an open event: which section of dump_header() the lines belong to. */
enum {
    ST_HEADER, /* after the invoke line: dump_stack, cpuset line */
    ST_MEMCG,  /* memory:/swap: counters */
    ST_STATS,  /* "Memory cgroup stats for X:" followed by "key value" lines */
    ST_MEMINFO,
    ST_TASKS,
    ST_KILLED, /* a victim is known: only more kill lines (oom.group, shared mm) and reaper lines */
};

/* What a line is, from its first characters. */
enum kind {
    K_NONE,
    K_HEADER,
    K_KILLED,
    K_SELECT,
    K_EXITING,
    K_SHARED,
    K_SUMMARY,
    K_REAPED,
    K_UNREAPABLE,
    K_PINNED,
    K_TASKIN,
    K_GROUP,
    K_COUNTER,
    K_STATS_FOR,
    K_MEMINFO,
    K_TASKS_STATE,
    K_TABLE_HEADER,
    K_ROW,
    K_NO_KILLABLE,
    K_PANIC,
    K_SUPPRESSED,
    K_SYSRQ_SHOWMEM,
    K_MIN_PROTECTION,
};

/* Task-table columns, named as in the table header. */
enum col {
    COL_UNKNOWN,
    COL_UID,
    COL_TGID,
    COL_TOTAL_VM,
    COL_RSS,
    COL_RSS_ANON,
    COL_RSS_FILE,
    COL_RSS_SHMEM,
    COL_PGTABLES_BYTES,
    COL_NR_PTES,
    COL_NR_PMDS,
    COL_SWAPENTS,
    COL_CPU,
    COL_OOM_ADJ,
    COL_OOM_SCORE_ADJ,
};

/* The kill line's form, which dates the kernel. */
enum kill_form {
    FORM_NONE,
    FORM_BARE,    /* "Killed process N (c) ..." (<= 5.0) */
    FORM_RHEL,    /* "Killed process N, UID u, (c) ..." (RHEL 6) */
    FORM_MSG,     /* "<msg>: Killed process N (c) ..." (5.1+) */
    FORM_MSG_UID, /* ... "UID:u pgtables:..kB oom_score_adj:N" (5.4+) */
};

#define SEC_US 1000000ull
#define BADNESS_SANE_PAGES (1ull << 52) /* more pages than any machine has */
#define REAPER_WINDOW_US (3 * SEC_US) /* OOM_REAPER_DELAY is 2 s; the reaper then takes <1 s */

/* ------------------------------------------------------------------------------------------ */
/* small helpers */

static bool starts(struct span s, const char *lit)
{
    return span_starts_with(s, lit);
}

/* `lit` then a space or the end: "Kill process" at the end of a line broken after it */
static bool starts_word(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return span_starts_with(s, lit) && (s.n == n || s.p[n] == ' ');
}

static struct span after(struct span s, size_t n)
{
    return n >= s.n ? (struct span){s.p + s.n, 0} : (struct span){s.p + n, s.n - n};
}

static struct span trim(struct span s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

static void copy_span(char *dst, size_t cap, struct span s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static int set_path(char **dst, struct span s)
{
    char *d = span_strdup(s);
    if (!d)
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static const char *find(struct span s, const char *needle)
{
    return span_find(s, needle);
}

/* number after `key` somewhere in s, e.g. "order=" */
static bool key_i64(struct span s, const char *key, int64_t *ret)
{
    const char *k = find(s, key);
    if (!k)
        return false;
    struct cursor c = cursor_make(k + strlen(key), (size_t)(s.p + s.n - (k + strlen(key))));
    return cursor_i64(&c, ret) == 0;
}

static bool key_u64(struct span s, const char *key, uint64_t *ret)
{
    const char *k = find(s, key);
    if (!k)
        return false;
    struct cursor c = cursor_make(k + strlen(key), (size_t)(s.p + s.n - (k + strlen(key))));
    return cursor_u64(&c, ret) == 0;
}

/* "(comm)" + one of the terminators that can follow the closing parenthesis. The comm may
 * hold spaces and parentheses ("Web Content", "(sd-pam)"): the earliest terminator decides
 * where it ends; without one, a ')' that ends the line (optionally followed by '.'). The cursor
 * is left after the ')'. */
static bool paren_comm(struct cursor *c, char *comm, size_t cap, const char *const *terms)
{
    struct cursor save = *c;
    if (!cursor_skip_char(c, '('))
        return false;
    struct span rest = {c->p, cursor_left(c)};
    const char *best = NULL;
    for (size_t i = 0; terms[i]; i++) {
        const char *h = find(rest, terms[i]);
        if (h && (!best || h < best))
            best = h;
    }
    if (!best) {
        struct span t = trim(rest);
        if (t.n && t.p[t.n - 1] == '.')
            t.n--;
        if (!t.n || t.p[t.n - 1] != ')') {
            *c = save;
            return false;
        }
        best = t.p + t.n - 1;
    }
    copy_span(comm, cap, (struct span){rest.p, (size_t)(best - rest.p)});
    c->p = best + 1;
    return true;
}

/* "N (comm)" */
static bool pid_comm(struct cursor *c, int64_t *pid, char *comm, size_t cap,
                     const char *const *terms)
{
    struct cursor save = *c;
    uint64_t v;
    if (cursor_u64(c, &v) < 0 || v > INT32_MAX)
        return false;
    cursor_skip_blanks(c);
    if (!paren_comm(c, comm, cap, terms)) {
        *c = save;
        return false;
    }
    *pid = (int64_t)v;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* event construction */

static void task_init(struct oom_task *t)
{
    *t = (struct oom_task){
        .pid = OPT_ABSENT_I64,
        .uid = OPT_ABSENT_I64,
        .tgid = OPT_ABSENT_I64,
        .total_vm = OPT_ABSENT,
        .rss = OPT_ABSENT,
        .rss_anon = OPT_ABSENT,
        .rss_file = OPT_ABSENT,
        .rss_shmem = OPT_ABSENT,
        .pgtables_bytes = OPT_ABSENT,
        .nr_ptes = OPT_ABSENT,
        .nr_pmds = OPT_ABSENT,
        .swapents = OPT_ABSENT,
        .cpu = OPT_ABSENT_I64,
        .oom_adj = OPT_ABSENT_I64,
        .oom_score_adj = OPT_ABSENT_I64,
    };
}

static void counter_init(struct oom_counter *c)
{
    c->usage_kb = c->limit_kb = c->failcnt = OPT_ABSENT;
}

static void event_init(struct oom_event *e)
{
    memset(e, 0, sizeof(*e));
    e->uptime_us = e->last_uptime_us = OPT_ABSENT;
    e->invoker_pid = OPT_ABSENT_I64;
    e->order = e->invoker_oom_score_adj = e->invoker_oom_adj = OPT_ABSENT_I64;
    e->summary_pid = e->summary_uid = OPT_ABSENT_I64;
    counter_init(&e->mem);
    counter_init(&e->swap);
    counter_init(&e->memsw);
    counter_init(&e->kmem);
    e->stat_anon = e->stat_file = e->stat_kernel = e->stat_shmem = e->stat_slab = OPT_ABSENT;
    e->stat_sock = e->stat_swap = OPT_ABSENT;
    e->min_protection_kb = e->low_protection_kb = OPT_ABSENT;
    e->page_kb = e->ram_pages = e->reserved_pages = e->free_swap_kb = e->total_swap_kb = OPT_ABSENT;
    e->mi_free = e->mi_active_anon = e->mi_inactive_anon = e->mi_active_file = OPT_ABSENT;
    e->mi_inactive_file = e->mi_shmem = e->mi_slab_reclaimable = OPT_ABSENT;
    e->mi_slab_unreclaimable = e->mi_unevictable = e->mi_pagetables = e->mi_slab = OPT_ABSENT;
    e->selected_pid = e->selected_score = OPT_ABSENT_I64;
    task_init(&e->invoker_row);
    e->state = ST_HEADER;
}

static void event_release(struct oom_event *e)
{
    free(e->oom_memcg);
    free(e->task_memcg);
    free(e->stats_memcg);
    free(e->group_memcg);
    free(e->rows);
    free(e->victims);
}

static struct oom_event *current(struct oomlog *p)
{
    return p->open && p->nevents ? &p->events[p->nevents - 1] : NULL;
}

/* Lines further apart than OOMLOG_GAP_US, or going back in time, are not one report. */
static bool attachable(const struct oom_event *e, const struct oomlog_line *l)
{
    if (!opt_has(e->last_uptime_us) || !opt_has(l->uptime_us))
        return true;
    if (l->uptime_us + SEC_US < e->last_uptime_us)
        return false;
    return l->uptime_us <= e->last_uptime_us + OOMLOG_GAP_US;
}

static void touch(struct oom_event *e, const struct oomlog_line *l)
{
    if (!e->time[0] && l->time.n)
        copy_span(e->time, sizeof(e->time), l->time);
    if (opt_has(l->uptime_us)) {
        if (!opt_has(e->uptime_us))
            e->uptime_us = l->uptime_us;
        e->last_uptime_us = l->uptime_us;
    }
}

static void close_event(struct oomlog *p, struct oom_event *e);

static struct oom_event *open_event(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *cur = current(p);
    if (cur)
        close_event(p, cur);
    p->open = false;
    if (p->nevents >= OOMLOG_MAX_EVENTS)
        return NULL;
    if (p->nevents == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct oom_event *n = realloc(p->events, cap * sizeof(*n));
        if (!n)
            return NULL;
        p->events = n;
        p->cap = cap;
    }
    struct oom_event *e = &p->events[p->nevents++];
    event_init(e);
    e->suppressed_reports = p->suppressed_pending;
    p->suppressed_pending = 0;
    p->open = true;
    touch(e, l);
    return e;
}

/* The open event if this report line belongs to it, else a new (headerless) one. */
static struct oom_event *event_for_body(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *e = current(p);
    if (e && e->state != ST_KILLED && !e->nvictims && attachable(e, l)) {
        touch(e, l);
        return e;
    }
    return open_event(p, l);
}

static struct oom_victim *add_victim(struct oom_event *e)
{
    struct oom_victim *n = realloc(e->victims, (e->nvictims + 1) * sizeof(*n));
    if (!n)
        return NULL;
    e->victims = n;
    struct oom_victim *v = &e->victims[e->nvictims++];
    memset(v, 0, sizeof(*v));
    v->pid = v->uid = v->oom_score_adj = v->score = OPT_ABSENT_I64;
    v->total_vm_kb = v->anon_rss_kb = v->file_rss_kb = v->shmem_rss_kb = v->pgtables_kb =
        OPT_ABSENT;
    v->reaped_anon_kb = v->reaped_file_kb = v->reaped_shmem_kb = OPT_ABSENT;
    v->uptime_us = OPT_ABSENT;
    v->reaped = -1;
    task_init(&v->row);
    return v;
}

/* Any part of dump_header()'s output is in the event: the report was printed (maybe cut). */
static bool report_printed(const struct oom_event *e)
{
    return e->header || e->summary || e->meminfo || e->table || opt_has(e->mem.usage_kb) ||
           e->oom_memcg || e->task_memcg || e->stats_memcg;
}

static const struct oom_task *find_row(const struct oom_event *e, int64_t pid)
{
    for (size_t i = e->nrows; i-- > 0;)
        if (e->rows[i].pid == pid)
            return &e->rows[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* classification */

/* "<msg>: rest" where msg is one of the OOM killer's messages */
static enum kind msg_kind(struct span t, struct span *msg, struct span *rest)
{
    const char *colon = memchr(t.p, ':', t.n < 64 ? t.n : 64);
    if (!colon || colon + 2 > t.p + t.n || colon[1] != ' ')
        return K_NONE;
    struct span m = {t.p, (size_t)(colon - t.p)};
    /* "Out of memory", "Out of Memory", "Memory cgroup out of memory",
     * "Out of memory (oom_kill_allocating_task)", "No available memory (MPOL_BIND)" */
    if (!find(m, "emory"))
        return K_NONE;
    struct span r = after(t, m.n + 2);
    *msg = m;
    *rest = r;
    if (starts_word(r, "Killed process"))
        return K_KILLED;
    if (starts_word(r, "Kill process") || starts_word(r, "kill process"))
        return K_SELECT;
    if (starts_word(r, "OOM victim"))
        return K_EXITING;
    return K_NONE;
}

static enum kind classify(struct span t)
{
    if (t.n < 4)
        return K_NONE;
    struct span m, r;
    switch (t.p[0]) {
    case '[':
        if (starts(t, "[ pid ]") || starts(t, "[  pid  ]"))
            return K_TABLE_HEADER;
        {
            size_t i = 1;
            while (i < t.n && t.p[i] == ' ')
                i++;
            size_t d = i;
            while (i < t.n && is_digit(t.p[i]))
                i++;
            if (i > d && i < t.n && t.p[i] == ']')
                return K_ROW;
        }
        return K_NONE;
    case 'K':
        if (starts_word(t, "Killed process"))
            return K_KILLED;
        if (starts_word(t, "Kill process"))
            return find(t, " sharing same memory") ? K_SHARED : K_SELECT;
        if (starts(t, "Kernel panic - not syncing: ") &&
            (find(t, "Out of memory") || find(t, "deadlocked on memory")))
            return K_PANIC;
        return K_NONE;
    case 'O':
        if (starts(t, "Out of memory and no killable processes"))
            return K_NO_KILLABLE;
        return msg_kind(t, &m, &r);
    case 'M':
        if (starts(t, "Memory cgroup stats for "))
            return K_STATS_FOR;
        if (starts(t, "Mem-Info:") || starts(t, "Mem-info:"))
            return K_MEMINFO;
        if (starts(t, "Memory cgroup min protection "))
            return K_MIN_PROTECTION;
        return msg_kind(t, &m, &r);
    case 'N':
        return msg_kind(t, &m, &r);
    case 'T':
        if (starts(t, "Task in ") && find(t, " killed as a result of limit of "))
            return K_TASKIN;
        if (starts(t, "Tasks in ") && find(t, " are going to be killed due to memory.oom.group"))
            return K_GROUP;
        if (starts(t, "Tasks state (memory values in pages)"))
            return K_TASKS_STATE;
        return K_NONE;
    case 'm':
        if (starts(t, "memory: usage ") || starts(t, "memory+swap: usage "))
            return K_COUNTER;
        break;
    case 's':
        if (starts(t, "swap: usage "))
            return K_COUNTER;
        if (starts(t, "sysrq: ") && find(t, "Show Memory"))
            return K_SYSRQ_SHOWMEM;
        break;
    case 'S':
        if (starts(t, "SysRq : Show Memory"))
            return K_SYSRQ_SHOWMEM;
        if (starts(t, "System is deadlocked on memory"))
            return K_PANIC;
        break;
    case 'k':
        if (starts(t, "kmem: usage "))
            return K_COUNTER;
        break;
    case 'o':
        if (starts(t, "oom-kill:"))
            return K_SUMMARY;
        if (starts(t, "oom_reaper: reaped process "))
            return K_REAPED;
        if (starts(t, "oom_reaper: unable to reap pid:"))
            return K_UNREAPABLE;
        if (starts(t, "oom-killer: gfp_mask="))
            return K_HEADER;
        if (starts(t, "oom_kill_process: ") && find(t, " callbacks suppressed"))
            return K_SUPPRESSED;
        if (starts(t, "out_of_memory: ") && find(t, " callbacks suppressed"))
            return K_SUPPRESSED;
        if (starts(t, "oom killer ") && find(t, " has mm pinned by "))
            return K_PINNED;
        break;
    default:
        break;
    }
    /* the header starts with the comm, which can be anything, so it is searched for in every
     * other line: by its '-', rare in kernel text, rather than by memmem's first byte */
    if (t.n > 20) {
        const char *q = t.p + 12, *end = t.p + t.n;
        while (q < end && (q = memchr(q, '-', (size_t)(end - q))) != NULL) {
            if (end - q >= 8 && memcmp(q - 12, " invoked oom-killer:", 20) == 0)
                return K_HEADER;
            q++;
        }
    }
    return K_NONE;
}

/* ------------------------------------------------------------------------------------------ */
/* line parsers: each returns how many fields it understood (0: not this kind of line) */

struct header {
    char comm[OOMLOG_NAME_MAX];
    bool has_comm, has_gfp;
    uint64_t gfp;
    char flags[128];
    char nodemask[64];
    int64_t order, adj, oom_adj;
};

static int parse_header(struct span t, struct header *h)
{
    memset(h, 0, sizeof(*h));
    h->order = h->adj = h->oom_adj = OPT_ABSENT_I64;
    int n = 0;
    struct span rest;
    const char *inv = find(t, " invoked oom-killer:");
    if (inv) {
        copy_span(h->comm, sizeof(h->comm), (struct span){t.p, (size_t)(inv - t.p)});
        h->has_comm = true;
        n++;
        rest = after(t, (size_t)(inv - t.p) + strlen(" invoked oom-killer:"));
    } else if (starts(t, "oom-killer:")) {
        rest = after(t, strlen("oom-killer:"));
    } else {
        return 0;
    }
    const char *g = find(rest, "gfp_mask=");
    if (g) {
        struct cursor c = cursor_make(g + 9, (size_t)(rest.p + rest.n - (g + 9)));
        if (cursor_hex_u64(&c, &h->gfp) == 0) {
            h->has_gfp = true;
            n++;
            if (cursor_skip_char(&c, '(')) {
                struct span f = cursor_until(&c, ')');
                copy_span(h->flags, sizeof(h->flags), f);
            }
        }
    }
    const char *nm = find(rest, "nodemask=");
    if (nm) {
        struct span v = after(rest, (size_t)(nm - rest.p) + 9);
        const char *o = find(v, ", ");
        if (o)
            v.n = (size_t)(o - v.p);
        copy_span(h->nodemask, sizeof(h->nodemask), trim(v));
        n++;
    }
    if (key_i64(rest, "order=", &h->order))
        n++;
    if (key_i64(rest, "oom_score_adj=", &h->adj))
        n++;
    /* 2.6.19-2.6.3x printed "oomkilladj=", then "oom_adj=" next to oom_score_adj */
    if (key_i64(rest, "oom_adj=", &h->oom_adj) || key_i64(rest, "oomkilladj=", &h->oom_adj))
        n++;
    return n;
}

struct kill {
    enum kind kind;
    enum kill_form form;
    char msg[48];
    int64_t pid, uid, adj, score;
    char comm[OOMLOG_NAME_MAX];
    uint64_t total_vm, anon, file, shmem, pgtables;
};

static const char *const kill_terms[] = {") total-vm:", ") vsz:", NULL};
static const char *const select_terms[] = {") score ", NULL};
static const char *const exiting_terms[] = {") is already exiting", NULL};
static const char *const shared_terms[] = {") sharing same memory", NULL};

/* "total-vm:1736kB, anon-rss:196kB, ..., UID:0 pgtables:48kB oom_score_adj:1000" */
static int kill_fields(struct cursor *c, struct kill *k)
{
    int n = 0;
    for (;;) {
        while (!cursor_eof(c) && (*c->p == ' ' || *c->p == ',' || *c->p == '\t'))
            c->p++;
        const char *key = c->p;
        while (!cursor_eof(c) && *c->p != ':' && *c->p != ' ' && *c->p != ',')
            c->p++;
        if (cursor_eof(c) || *c->p != ':' || c->p == key)
            return n;
        struct span name = {key, (size_t)(c->p - key)};
        c->p++;
        int64_t v;
        if (cursor_i64(c, &v) < 0)
            return n;
        (void)cursor_skip_prefix(c, "kB");
        uint64_t u = v < 0 ? OPT_ABSENT : (uint64_t)v;
        if (span_eq(name, "total-vm") || span_eq(name, "vsz"))
            k->total_vm = u;
        else if (span_eq(name, "anon-rss"))
            k->anon = u;
        else if (span_eq(name, "file-rss"))
            k->file = u;
        else if (span_eq(name, "shmem-rss"))
            k->shmem = u;
        else if (span_eq(name, "UID")) {
            k->uid = v;
            if (k->form == FORM_MSG)
                k->form = FORM_MSG_UID;
        } else if (span_eq(name, "pgtables"))
            k->pgtables = u;
        else if (span_eq(name, "oom_score_adj"))
            k->adj = v;
        else
            continue;
        n++;
    }
}

static void kill_init(struct kill *k)
{
    memset(k, 0, sizeof(*k));
    k->pid = k->uid = k->adj = k->score = OPT_ABSENT_I64;
    k->total_vm = k->anon = k->file = k->shmem = k->pgtables = OPT_ABSENT;
}

static int parse_kill(struct span t, struct kill *k)
{
    kill_init(k);
    struct span msg = {t.p, 0}, rest = t;
    enum kind kind = classify(t);
    if (kind != K_KILLED && kind != K_SELECT && kind != K_EXITING && kind != K_SHARED)
        return 0;
    if (!starts_word(t, "Killed process") && !starts_word(t, "Kill process"))
        (void)msg_kind(t, &msg, &rest);
    k->kind = kind;
    copy_span(k->msg, sizeof(k->msg), msg);
    int n = 0;
    struct cursor c;
    switch (kind) {
    case K_KILLED: {
        k->form = msg.n ? FORM_MSG : FORM_BARE;
        if (rest.n < 15)
            return 0;
        c = cursor_make(rest.p + 15, rest.n - 15);
        struct cursor r = c;
        uint64_t pid, uid;
        if (cursor_u64(&r, &pid) == 0 && pid <= INT32_MAX && cursor_skip_prefix(&r, ", UID ") &&
            cursor_u64(&r, &uid) == 0 && uid <= UINT32_MAX && cursor_skip_prefix(&r, ", ")) {
            /* RHEL 6: "Killed process 20557, UID 188, (haproxy) total-vm:..." */
            if (!paren_comm(&r, k->comm, sizeof(k->comm), kill_terms))
                return 0;
            k->form = FORM_RHEL;
            k->pid = (int64_t)pid;
            k->uid = (int64_t)uid;
            return 3 + kill_fields(&r, k);
        }
        if (!pid_comm(&c, &k->pid, k->comm, sizeof(k->comm), kill_terms))
            return 0;
        return 2 + kill_fields(&c, k);
    }
    case K_SELECT:
    case K_SHARED:
    case K_EXITING: {
        size_t skip = kind == K_EXITING ? strlen("OOM victim ") : strlen("Kill process ");
        if (rest.n < skip)
            return 0;
        c = cursor_make(rest.p + skip, rest.n - skip);
        const char *const *terms = kind == K_SELECT   ? select_terms
                                   : kind == K_SHARED ? shared_terms
                                                      : exiting_terms;
        if (!pid_comm(&c, &k->pid, k->comm, sizeof(k->comm), terms))
            return 0;
        n = 2;
        if (kind == K_SELECT && cursor_skip_prefix(&c, " score ") && cursor_i64(&c, &k->score) == 0)
            n++;
        return n;
    }
    default:
        return 0;
    }
}

struct summary {
    char constraint[32], nodemask[64], cpuset[256], mems[64], task[OOMLOG_NAME_MAX];
    struct span oom_memcg, task_memcg;
    bool global;
    int64_t pid, uid;
};

/* value of ",key=" up to the next known key (values may hold commas: nodemask "0-1,3") */
static const char *const summary_keys[] = {
    ",nodemask=",  ",cpuset=",     ",mems_allowed=", ",oom_memcg=",
    ",global_oom", ",task_memcg=", ",task=",         NULL};

static struct span summary_value(struct span t, const char *key)
{
    const char *k = find(t, key);
    if (!k)
        return (struct span){NULL, 0};
    const char *v = k + strlen(key);
    struct span rest = {v, (size_t)(t.p + t.n - v)};
    const char *end = rest.p + rest.n;
    for (size_t i = 0; summary_keys[i]; i++) {
        const char *h = find(rest, summary_keys[i]);
        if (h && h < end)
            end = h;
    }
    return (struct span){v, (size_t)(end - v)};
}

static int parse_summary(struct span t, struct summary *s)
{
    memset(s, 0, sizeof(*s));
    s->pid = s->uid = OPT_ABSENT_I64;
    if (!starts(t, "oom-kill:"))
        return 0;
    int n = 0;
    const char *ce = find(t, "constraint=");
    if (ce) {
        struct span v = after(t, (size_t)(ce - t.p) + 11);
        const char *comma = memchr(v.p, ',', v.n);
        if (comma)
            v.n = (size_t)(comma - v.p);
        copy_span(s->constraint, sizeof(s->constraint), v);
        n++;
    }
    struct span v;
    if ((v = summary_value(t, ",nodemask=")).p) {
        copy_span(s->nodemask, sizeof(s->nodemask), v);
        n++;
    }
    if ((v = summary_value(t, ",cpuset=")).p) {
        copy_span(s->cpuset, sizeof(s->cpuset), v);
        n++;
    }
    if ((v = summary_value(t, ",mems_allowed=")).p) {
        copy_span(s->mems, sizeof(s->mems), v);
        n++;
    }
    if ((v = summary_value(t, ",oom_memcg=")).p) {
        s->oom_memcg = v;
        n++;
    }
    if (find(t, ",global_oom")) {
        s->global = true;
        n++;
    }
    if ((v = summary_value(t, ",task_memcg=")).p) {
        s->task_memcg = v;
        n++;
    }
    /* ",task=<comm>,pid=N,uid=N": the comm may hold commas; pid and uid are the last fields */
    const char *tk = find(t, ",task=");
    if (tk) {
        const char *pidk = NULL;
        struct span rest = after(t, (size_t)(tk - t.p) + 6);
        for (const char *h = find(rest, ",pid="); h;
             h = find((struct span){h + 1, (size_t)(rest.p + rest.n - (h + 1))}, ",pid="))
            pidk = h;
        if (pidk) {
            copy_span(s->task, sizeof(s->task), (struct span){rest.p, (size_t)(pidk - rest.p)});
            n++;
            struct span pr = after(rest, (size_t)(pidk - rest.p));
            if (key_i64(pr, ",pid=", &s->pid))
                n++;
            if (key_i64(pr, ",uid=", &s->uid))
                n++;
        }
    }
    return n;
}

/* "Task in /a killed as a result of limit of /b" */
static int parse_taskin(struct span t, struct span *task, struct span *limit)
{
    if (!starts(t, "Task in "))
        return 0;
    const char *k = find(t, " killed as a result of limit of ");
    if (!k || k < t.p + 8)
        return 1;
    *task = (struct span){t.p + 8, (size_t)(k - (t.p + 8))};
    struct span l = after(t, (size_t)(k - t.p) + strlen(" killed as a result of limit of "));
    *limit = trim(l);
    return limit->n ? 3 : 2;
}

/* "Tasks in /x are going to be killed due to memory.oom.group set" */
static int parse_group(struct span t, struct span *path)
{
    if (!starts(t, "Tasks in "))
        return 0;
    const char *k = find(t, " are going to be killed due to memory.oom.group");
    if (!k || k < t.p + 9)
        return 1;
    *path = (struct span){t.p + 9, (size_t)(k - (t.p + 9))};
    return 2;
}

struct reap {
    int64_t pid;
    char comm[OOMLOG_NAME_MAX];
    uint64_t anon, file, shmem;
};

static const char *const reap_terms[] = {"), now ", NULL};
static const char *const unreap_terms[] = {NULL};

static int parse_reap(struct span t, bool reaped, struct reap *r)
{
    r->pid = OPT_ABSENT_I64;
    r->anon = r->file = r->shmem = OPT_ABSENT;
    r->comm[0] = '\0';
    const char *prefix = reaped ? "oom_reaper: reaped process " : "oom_reaper: unable to reap pid:";
    if (!starts(t, prefix))
        return 0;
    struct cursor c = cursor_make(t.p + strlen(prefix), t.n - strlen(prefix));
    if (!pid_comm(&c, &r->pid, r->comm, sizeof(r->comm), reaped ? reap_terms : unreap_terms)) {
        uint64_t v;
        if (cursor_u64(&c, &v) == 0 && v <= INT32_MAX) {
            r->pid = (int64_t)v;
            return 1;
        }
        return 0;
    }
    int n = 2;
    if (reaped) {
        struct span rest = {c.p, cursor_left(&c)};
        if (key_u64(rest, "anon-rss:", &r->anon))
            n++;
        if (key_u64(rest, "file-rss:", &r->file))
            n++;
        if (key_u64(rest, "shmem-rss:", &r->shmem))
            n++;
    }
    return n;
}

/*
 * "<func>: N callbacks suppressed" (lib/ratelimit.c), printed by the first call after the
 * window ran out, so just before the next report that is printed. The OOM report's limit is
 * oom_rs in oom_kill_process() (2.6.36+; printk_ratelimit() there before, with the same
 * message); out_of_memory() held it in 2.6.2x. Returns the count of fields read.
 */
static int parse_suppressed(struct span t, uint64_t *n)
{
    const char *colon = memchr(t.p, ':', t.n);
    if (!colon)
        return 0;
    struct span func = {t.p, (size_t)(colon - t.p)};
    if (!span_eq(func, "oom_kill_process") && !span_eq(func, "out_of_memory"))
        return 0;
    struct cursor c = cursor_make(colon + 1, (size_t)(t.p + t.n - (colon + 1)));
    cursor_skip_blanks(&c);
    if (cursor_u64(&c, n) < 0 || !cursor_skip_prefix(&c, " callbacks suppressed"))
        return 1;
    return 2;
}

/* "memory: usage 6144kB, limit 6144kB, failcnt 146" */
static int parse_counter(struct span t, struct oom_counter *ret, int *which)
{
    static const char *const names[] = {"memory: usage ", "swap: usage ", "memory+swap: usage ",
                                        "kmem: usage "};
    for (int i = 0; i < 4; i++) {
        if (!starts(t, names[i]))
            continue;
        *which = i;
        struct span r = after(t, strlen(names[i]) - strlen("usage "));
        struct oom_counter c;
        counter_init(&c);
        int n = 0;
        n += key_u64(r, "usage ", &c.usage_kb);
        n += key_u64(r, "limit ", &c.limit_kb);
        n += key_u64(r, "failcnt ", &c.failcnt);
        *ret = c;
        return n;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the task table */

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

static void parse_table_header(struct oom_event *e, struct span t)
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
static int parse_row(int *columns, int *ncolumns, bool *inferred, struct span t,
                     struct oom_task *r)
{
    task_init(r);
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
    copy_span(r->name, sizeof(r->name), name);
    return 0;
}

static int add_row(struct oom_event *e, const struct oom_task *r)
{
    e->ntasks++;
    if (opt_has(r->rss))
        e->tasks_rss_pages += r->rss;
    if (r->oom_score_adj == -1000)
        e->ntasks_adj_min++;
    if (e->nrows >= OOMLOG_MAX_ROWS)
        return 0;
    if (e->nrows == e->row_cap) {
        size_t cap = e->row_cap ? e->row_cap * 2 : 32;
        struct oom_task *n = realloc(e->rows, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        e->rows = n;
        e->row_cap = cap;
    }
    e->rows[e->nrows++] = *r;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* sections */

/* "anon 5775360" (memory.stat, bytes) */
static void stats_kv(struct oom_event *e, struct span t)
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

static void stats_for(struct oom_event *e, struct span t)
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
        e->state = ST_MEMCG;
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

static void meminfo_line(struct oom_event *e, struct span t)
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

/* "CPU: 1 [UID: 0 ]PID: 794 Comm: ow-probe Not tainted 6.18.44-fc-v769 #1 ..." or (<= 3.x)
 * "Pid: 4917, comm: dsm_sa_datamgrd Not tainted 2.6.32-279.19.1.el6.x86_64 #1" */
static void cpu_line(struct oom_event *e, struct span t)
{
    int64_t pid;
    const char *comm;
    if (starts(t, "CPU: ")) {
        const char *pk = find(t, " PID: ");
        const char *ck = find(t, " Comm: ");
        if (!pk || !ck || ck < pk + 6)
            return;
        struct cursor c = cursor_make(pk + 6, (size_t)(ck - (pk + 6)));
        cursor_skip_blanks(&c);
        if (cursor_i64(&c, &pid) < 0)
            return;
        comm = ck + 7;
    } else if (starts(t, "Pid: ")) {
        struct cursor c = cursor_make(t.p + 5, t.n - 5);
        if (cursor_i64(&c, &pid) < 0 || !cursor_skip_prefix(&c, ", comm: "))
            return;
        comm = c.p;
    } else {
        return;
    }
    /* the comm is the invoker's (both print current->comm); it may contain spaces */
    size_t cl = strlen(e->invoker_comm);
    struct span rest = {comm, (size_t)(t.p + t.n - comm)};
    if (!e->header || !cl || rest.n < cl || memcmp(rest.p, e->invoker_comm, cl) != 0 ||
        (rest.n > cl && rest.p[cl] != ' '))
        return;
    if (!opt_has_i64(e->invoker_pid) && pid > 0)
        e->invoker_pid = pid;
    /* the release is the word before " #<build>" */
    struct span r = after(rest, cl);
    for (const char *h = find(r, " #"); h; h = find(after(r, (size_t)(h + 2 - r.p)), " #")) {
        if (h + 2 < r.p + r.n && is_digit(h[2])) {
            const char *b = h;
            while (b > r.p && b[-1] != ' ')
                b--;
            if (b < h && is_digit(*b))
                copy_span(e->kernel_release, sizeof(e->kernel_release),
                          (struct span){b, (size_t)(h - b)});
            break;
        }
    }
}

/* "<comm> cpuset=<name> mems_allowed=<list>" (<= 4.19) */
static void cpuset_line(struct oom_event *e, struct span t)
{
    const char *cs = find(t, " cpuset=");
    const char *ma = find(t, " mems_allowed=");
    if (!cs || !ma || ma < cs)
        return;
    copy_span(e->cpuset, sizeof(e->cpuset), (struct span){cs + 8, (size_t)(ma - (cs + 8))});
    copy_span(e->mems_allowed, sizeof(e->mems_allowed),
              trim(after(t, (size_t)(ma - t.p) + strlen(" mems_allowed="))));
}

/* ------------------------------------------------------------------------------------------ */
/* kills */

static void victim_from_kill(struct oom_victim *v, const struct kill *k,
                             const struct oomlog_line *l, uint64_t segment)
{
    v->pid = k->pid;
    copy_span(v->comm, sizeof(v->comm), (struct span){k->comm, strlen(k->comm)});
    copy_span(v->message, sizeof(v->message), (struct span){k->msg, strlen(k->msg)});
    v->total_vm_kb = k->total_vm;
    v->anon_rss_kb = k->anon;
    v->file_rss_kb = k->file;
    v->shmem_rss_kb = k->shmem;
    v->pgtables_kb = k->pgtables;
    v->uid = k->uid;
    v->oom_score_adj = k->adj;
    v->uptime_us = l->uptime_us;
    if (l->time.n)
        copy_span(v->time, sizeof(v->time), l->time);
    v->segment = segment;
}

static bool same_kill(const struct oom_victim *v, const struct kill *k)
{
    return v->pid == k->pid && !strcmp(v->comm, k->comm) && v->total_vm_kb == k->total_vm &&
           v->anon_rss_kb == k->anon;
}

static int on_kill(struct oomlog *p, const struct kill *k, const struct oomlog_line *l)
{
    struct oom_event *e = current(p);
    if (k->kind == K_SHARED) {
        /* printed in the same loop as the kill, but preemption can stretch that loop over
         * minutes (linux-mm, Sep 2015): no time limit */
        /* more processes on the victim's mm: part of the kill just printed */
        if (!e || !e->nvictims)
            return 0;
        for (size_t i = 0; i < e->nvictims; i++)
            if (e->victims[i].pid == k->pid)
                return 0;
        struct oom_victim *v = add_victim(e);
        if (!v)
            return -ENOMEM;
        victim_from_kill(v, k, l, p->segment);
        v->kind = OOM_VICTIM_SHARED_MM;
        return 0;
    }
    if (e && !attachable(e, l))
        e = NULL;
    if (k->kind == K_SELECT) {
        if (!e || e->nvictims || e->selected_set) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        if (l->kmsg_next && !report_printed(e))
            e->rate_limited = true;
        e->selected_set = true;
        e->selected_pid = k->pid;
        e->selected_score = k->score;
        memcpy(e->selected_msg, k->msg, sizeof(e->selected_msg));
        copy_span(e->selected_comm, sizeof(e->selected_comm),
                  (struct span){k->comm, strlen(k->comm)});
        e->state = ST_TASKS;
        return 0;
    }
    /* K_KILLED, K_EXITING */
    if (e && e->nvictims) {
        if (e->group_memcg) {
            /* the oom.group kill: the victim itself may be logged a second time */
            for (size_t i = 0; i < e->nvictims; i++)
                if (e->victims[i].pid == k->pid)
                    return 0;
            struct oom_victim *v = add_victim(e);
            if (!v)
                return -ENOMEM;
            victim_from_kill(v, k, l, p->segment);
            v->kind = OOM_VICTIM_GROUP;
            const struct oom_task *row = find_row(e, k->pid);
            if (row) {
                v->has_row = true;
                v->row = *row;
            }
            touch(e, l);
            return 0;
        }
        if (same_kill(&e->victims[0], k) &&
            (!opt_has(l->uptime_us) || l->uptime_us == e->victims[0].uptime_us))
            return 0; /* the same line twice */
        e = NULL;
    }
    if (!e && !(e = open_event(p, l)))
        return -ENOMEM;
    touch(e, l);
    if (l->kmsg_next && !report_printed(e))
        e->rate_limited = true;
    struct oom_victim *v = add_victim(e);
    if (!v)
        return -ENOMEM;
    victim_from_kill(v, k, l, p->segment);
    if (k->kind == K_EXITING)
        v->kind = OOM_VICTIM_EXITING;
    else if (e->selected_set && e->selected_pid != k->pid)
        v->kind = OOM_VICTIM_CHILD;
    else
        v->kind = OOM_VICTIM_SELECTED;
    if (e->selected_set && e->selected_pid == k->pid)
        v->score = e->selected_score;
    if (!v->message[0] && e->selected_set)
        /* <= 5.0: the message is on the "Kill process" line before */
        memcpy(v->message, e->selected_msg, sizeof(v->message));
    const struct oom_task *row = find_row(e, k->pid);
    if (row) {
        v->has_row = true;
        v->row = *row;
    }
    e->state = ST_KILLED;
    return 0;
}

static void on_reap(struct oomlog *p, const struct reap *r, bool reaped)
{
    /* the reaper runs after the kill (2 s later since ~5.18): look back a few events */
    size_t lo = p->nevents > 64 ? p->nevents - 64 : 0;
    for (size_t i = p->nevents; i-- > lo;) {
        struct oom_event *e = &p->events[i];
        for (size_t j = e->nvictims; j-- > 0;) {
            struct oom_victim *v = &e->victims[j];
            if (v->pid != r->pid || v->reaped == 1)
                continue;
            if (reaped) {
                v->reaped = 1;
                v->reaped_inferred = false;
                v->reaped_anon_kb = r->anon;
                v->reaped_file_kb = r->file;
                v->reaped_shmem_kb = r->shmem;
            } else {
                v->reaped = 0;
                v->unable_to_reap = true;
            }
            return;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* closing an event */

static uint64_t row_base_pages(const struct oom_task *r, uint64_t page_kb)
{
    uint64_t pts = 0;
    if (opt_has(r->rss))
        pts += r->rss;
    if (opt_has(r->swapents))
        pts += r->swapents;
    if (opt_has(r->pgtables_bytes) && opt_has(page_kb) && page_kb)
        pts += r->pgtables_bytes / (page_kb * 1024);
    if (opt_has(r->nr_ptes))
        pts += r->nr_ptes;
    if (opt_has(r->nr_pmds))
        pts += r->nr_pmds;
    return pts;
}

static int cmp_rss_desc(const void *a, const void *b)
{
    const struct oom_task *x = a, *y = b;
    uint64_t rx = opt_has(x->rss) ? x->rss : 0, ry = opt_has(y->rss) ? y->rss : 0;
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Keeps the largest rows and those the adjusted badness ranks highest. */
static void compact_rows(struct oom_event *e)
{
    if (e->nrows <= 2 * OOMLOG_TOP_TASKS)
        goto sort;
    uint64_t domain = OPT_ABSENT;
    if (opt_has(e->page_kb) && e->page_kb) {
        if (opt_has(e->mem.limit_kb) && (e->oom_memcg || opt_has(e->mem.usage_kb)))
            domain = e->mem.limit_kb / e->page_kb;
        else if (opt_has(e->ram_pages))
            domain = e->ram_pages - (opt_has(e->reserved_pages) ? e->reserved_pages : 0) +
                     (opt_has(e->total_swap_kb) ? e->total_swap_kb / e->page_kb : 0);
    }
    if (opt_has(domain) && domain > BADNESS_SANE_PAGES)
        domain = OPT_ABSENT;
    struct oom_task keep[2 * OOMLOG_TOP_TASKS];
    size_t nk = 0;
    /* top by rss */
    qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_rss_desc);
    for (size_t i = 0; i < e->nrows && nk < OOMLOG_TOP_TASKS; i++)
        keep[nk++] = e->rows[i];
    /* top by adjusted points, among the rest */
    if (opt_has(domain)) {
        for (int round = 0; round < OOMLOG_TOP_TASKS; round++) {
            size_t best = SIZE_MAX;
            int64_t best_pts = INT64_MIN;
            for (size_t i = OOMLOG_TOP_TASKS; i < e->nrows; i++) {
                const struct oom_task *r = &e->rows[i];
                if (r->pid == OPT_ABSENT_I64 || r->oom_score_adj == -1000)
                    continue;
                int64_t adj = opt_has_i64(r->oom_score_adj) ? r->oom_score_adj : 0;
                uint64_t base = row_base_pages(r, e->page_kb);
                /* garbage (a fuzzed or broken line) must not overflow: the kernel's adj is
                 * within +-1000 and no machine has 2^52 pages */
                if (adj < -1000 || adj > 1000 || base > BADNESS_SANE_PAGES)
                    continue;
                int64_t pts = (int64_t)base + adj * (int64_t)(domain / 1000);
                if (pts > best_pts) {
                    best_pts = pts;
                    best = i;
                }
            }
            if (best == SIZE_MAX)
                break;
            keep[nk++] = e->rows[best];
            e->rows[best].pid = OPT_ABSENT_I64; /* taken */
        }
    }
    memcpy(e->rows, keep, nk * sizeof(*keep));
    e->nrows = nk;
sort:
    if (e->nrows > 1)
        qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_rss_desc);
    if (e->nrows == 0) {
        free(e->rows);
        e->rows = NULL;
        e->row_cap = 0;
    } else {
        struct oom_task *n = realloc(e->rows, e->nrows * sizeof(*n));
        if (n) {
            e->rows = n;
            e->row_cap = e->nrows;
        }
    }
}

static bool single_node(const struct oom_event *e)
{
    return !strcmp(e->mems_allowed, "0") && !strcmp(e->cpuset, "/");
}

static void decide_scope(struct oom_event *e)
{
    const struct oom_victim *v = oom_event_primary(e);
    const char *msg = v ? v->message : "";
    if (e->oom_memcg && e->summary) {
        /* a memcg OOM, whatever the constraint says: until 432b1de0de02 (5.1) it always
         * printed CONSTRAINT_NONE */
        e->scope = OOM_SCOPE_MEMCG;
    } else if (e->constraint[0]) {
        if (!strcmp(e->constraint, "CONSTRAINT_NONE"))
            e->scope = OOM_SCOPE_GLOBAL;
        else if (!strcmp(e->constraint, "CONSTRAINT_MEMCG"))
            e->scope = OOM_SCOPE_MEMCG;
        else if (!strcmp(e->constraint, "CONSTRAINT_CPUSET"))
            e->scope = OOM_SCOPE_CPUSET;
        else if (!strcmp(e->constraint, "CONSTRAINT_MEMORY_POLICY"))
            e->scope = OOM_SCOPE_MEMPOLICY;
        else
            e->scope = OOM_SCOPE_UNKNOWN;
    } else if (e->oom_memcg || opt_has(e->mem.usage_kb) || e->stats_memcg ||
               !strcmp(msg, "Memory cgroup out of memory")) {
        e->scope = OOM_SCOPE_MEMCG;
    } else if (!strncmp(msg, "No available memory (MPOL_BIND)", 31)) {
        e->scope = OOM_SCOPE_MEMPOLICY; /* 2.6.32 and before killed current for MPOL_BIND */
    } else if (e->global_oom || !strcmp(e->panic, "system-wide")) {
        /* panic_on_oom=1 panics only for CONSTRAINT_NONE */
        e->scope = OOM_SCOPE_GLOBAL;
    } else if (e->meminfo || !strncmp(msg, "Out of memory", 13) ||
               !strncmp(msg, "Out of Memory", 13)) {
        /* not a memcg; the whole machine unless a cpuset or mempolicy limited the nodes. The
         * root cpuset spans every node, and a machine whose root cpuset has node 0 only has
         * one node; with no nodemask (4.9-4.18 print "(null)") no mempolicy was involved. */
        bool root_cpuset = !strcmp(e->cpuset, "/");
        if (single_node(e) || (root_cpuset && !strcmp(e->nodemask, "(null)")))
            e->scope = OOM_SCOPE_GLOBAL;
        else
            e->scope = OOM_SCOPE_UNKNOWN;
    } else {
        e->scope = OOM_SCOPE_UNKNOWN;
    }
}

/* A kill without its report (dump_header() is rate-limited: 10 per 5 s) right after a report of
 * the same kind was part of the same shortage: it takes that report's scope. */
static void inherit_scope(struct oomlog *p, struct oom_event *e)
{
    /* a header whose report was cut (elided) says no more than no header */
    if (e->scope != OOM_SCOPE_UNKNOWN || (e->header && !e->elided) || e->summary || e->meminfo ||
        e->table || !e->nvictims || p->nevents < 2 || e != &p->events[p->nevents - 1])
        return;
    const struct oom_event *prev = &p->events[p->nevents - 2];
    const struct oom_victim *a = oom_event_primary(prev), *b = oom_event_primary(e);
    if (!a || prev->scope == OOM_SCOPE_UNKNOWN || strcmp(a->message, b->message) ||
        !b->message[0] || !opt_has(a->uptime_us) || !opt_has(b->uptime_us) ||
        b->uptime_us < a->uptime_us || b->uptime_us - a->uptime_us > OOMLOG_GAP_US)
        return;
    e->scope = prev->scope;
    e->scope_inherited = true;
}

static void close_event(struct oomlog *p, struct oom_event *e)
{
    /* the page size: the victim's total-vm in kB over its task-table total_vm in pages */
    for (size_t i = 0; i < e->nvictims && !opt_has(e->page_kb); i++) {
        const struct oom_victim *v = &e->victims[i];
        if (v->has_row && opt_has(v->total_vm_kb) && opt_has(v->row.total_vm) && v->row.total_vm &&
            v->total_vm_kb % v->row.total_vm == 0) {
            uint64_t k = v->total_vm_kb / v->row.total_vm;
            if (k && k <= 1024 && (k & (k - 1)) == 0)
                e->page_kb = k;
        }
    }
    for (size_t i = 0; i < e->nvictims; i++) {
        struct oom_victim *v = &e->victims[i];
        /* early 5.4.y printed pgtables in bytes with a kB suffix (fixed in 5.5) */
        if (v->has_row && opt_has(v->pgtables_kb) && opt_has(v->row.pgtables_bytes) &&
            v->row.pgtables_bytes >= 4096 && v->pgtables_kb == v->row.pgtables_bytes) {
            v->pgtables_kb /= 1024;
            v->pgtables_were_bytes = true;
        }
    }
    if (opt_has_i64(e->invoker_pid)) {
        const struct oom_task *row = find_row(e, e->invoker_pid);
        if (row) {
            e->has_invoker_row = true;
            e->invoker_row = *row;
        }
    }
    compact_rows(e);
    decide_scope(e);
    inherit_scope(p, e);
}

/* ------------------------------------------------------------------------------------------ */
/* the line dispatcher */

static int segment_note(struct oomlog *p, uint64_t uptime)
{
    if (!opt_has(uptime))
        return 0;
    if (opt_has(p->last_uptime) && uptime + SEC_US < p->last_uptime)
        p->segment++; /* back in time: another boot, or logs pasted out of order */
    p->last_uptime = uptime;
    if (p->segment >= p->segment_cap) {
        size_t cap = p->segment_cap ? p->segment_cap * 2 : 16;
        while (cap <= p->segment)
            cap *= 2;
        uint64_t *n = realloc(p->segment_max, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t i = p->segment_cap; i < cap; i++)
            n[i] = OPT_ABSENT;
        p->segment_max = n;
        p->segment_cap = cap;
    }
    uint64_t *m = &p->segment_max[p->segment];
    if (!opt_has(*m) || uptime > *m)
        *m = uptime;
    return 0;
}

/* N reports were suppressed since the last one printed: the kill-only events since then are
 * those (the text may lack some of them; an elision ends the walk, it may hide a report). */
static void on_suppressed(struct oomlog *p, uint64_t n)
{
    p->suppressed_reports += n;
    p->suppressed_pending = n;
    for (size_t i = p->nevents; n && i-- > p->source_first;) {
        struct oom_event *e = &p->events[i];
        const struct oom_victim *v = oom_event_primary(e);
        if (report_printed(e) || (v && v->segment != p->segment))
            break;
        if (!v && !e->selected_set)
            continue;
        e->rate_limited = true;
        n--;
    }
}

static int process(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    struct oom_event *e = current(p);
    switch (kind) {
    case K_HEADER: {
        struct header h;
        if (!parse_header(t, &h))
            return 0;
        if (!(e = open_event(p, l)))
            return -ENOMEM;
        e->header = true;
        copy_span(e->invoker_comm, sizeof(e->invoker_comm), (struct span){h.comm, strlen(h.comm)});
        e->gfp_mask_set = h.has_gfp;
        e->gfp_mask = h.gfp;
        memcpy(e->gfp_flags, h.flags, sizeof(e->gfp_flags));
        memcpy(e->nodemask, h.nodemask, sizeof(e->nodemask));
        e->order = h.order;
        e->invoker_oom_score_adj = h.adj;
        e->invoker_oom_adj = h.oom_adj;
        e->sysrq = h.order == -1;
        return 0;
    }
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED: {
        struct kill k;
        if (!parse_kill(t, &k) || k.kind != kind)
            return 0;
        return on_kill(p, &k, l);
    }
    case K_SUMMARY: {
        struct summary s;
        if (!parse_summary(t, &s))
            return 0;
        if (!e || e->summary || e->nvictims || !attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        e->summary = true;
        memcpy(e->constraint, s.constraint, sizeof(e->constraint));
        if (s.nodemask[0])
            memcpy(e->nodemask, s.nodemask, sizeof(e->nodemask));
        if (s.cpuset[0])
            memcpy(e->cpuset, s.cpuset, sizeof(e->cpuset));
        if (s.mems[0])
            memcpy(e->mems_allowed, s.mems, sizeof(e->mems_allowed));
        e->global_oom = s.global;
        if (s.oom_memcg.p && set_path(&e->oom_memcg, s.oom_memcg) < 0)
            return -ENOMEM;
        if (s.task_memcg.p && set_path(&e->task_memcg, s.task_memcg) < 0)
            return -ENOMEM;
        memcpy(e->summary_task, s.task, sizeof(e->summary_task));
        e->summary_pid = s.pid;
        e->summary_uid = s.uid;
        return 0;
    }
    case K_REAPED:
    case K_UNREAPABLE: {
        struct reap r;
        if (!parse_reap(t, kind == K_REAPED, &r))
            return 0;
        p->saw_reaper = true;
        on_reap(p, &r, kind == K_REAPED);
        return 0;
    }
    case K_PINNED: {
        /* "oom killer %d (%s) has mm pinned by %d (%s)": init shares the mm, no reaping */
        struct cursor c = cursor_make(t.p + 11, t.n - 11);
        uint64_t pid;
        if (e && cursor_u64(&c, &pid) == 0)
            for (size_t i = 0; i < e->nvictims; i++)
                if (e->victims[i].pid == (int64_t)pid) {
                    e->victims[i].reaped = 0;
                    e->victims[i].unable_to_reap = true;
                }
        return 0;
    }
    case K_TASKIN: {
        struct span task, limit;
        if (parse_taskin(t, &task, &limit) < 3)
            return 0;
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        if (set_path(&e->task_memcg, task) < 0 || set_path(&e->oom_memcg, limit) < 0)
            return -ENOMEM;
        e->state = ST_MEMCG;
        return 0;
    }
    case K_GROUP: {
        struct span path;
        if (parse_group(t, &path) < 2)
            return 0;
        if (!e || !attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        if (set_path(&e->group_memcg, path) < 0)
            return -ENOMEM;
        e->state = ST_KILLED;
        return 0;
    }
    case K_COUNTER: {
        struct oom_counter c;
        int which;
        if (!parse_counter(t, &c, &which))
            return 0;
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        struct oom_counter *dst = which == 0   ? &e->mem
                                  : which == 1 ? &e->swap
                                  : which == 2 ? &e->memsw
                                               : &e->kmem;
        *dst = c;
        e->state = ST_MEMCG;
        return 0;
    }
    case K_STATS_FOR:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        stats_for(e, t);
        return 0;
    case K_MEMINFO:
        if (p->sysrq_meminfo) {
            /* SysRq-m: a Mem-Info dump of its own, not an OOM report */
            p->sysrq_meminfo = false;
            if (e)
                close_event(p, e);
            p->open = false;
            return 0;
        }
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        e->meminfo = true;
        e->state = ST_MEMINFO;
        return 0;
    case K_TASKS_STATE:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        e->state = ST_TASKS;
        return 0;
    case K_TABLE_HEADER:
        if (!(e = event_for_body(p, l)))
            return -ENOMEM;
        parse_table_header(e, t);
        e->state = ST_TASKS;
        return 0;
    case K_ROW: {
        struct oom_event *target = e;
        if (!target || target->state == ST_KILLED || target->nvictims || !attachable(target, l)) {
            /* rows with no report around them: a table cut from its header */
            int cols[16], ncols = 0;
            bool inferred = false;
            struct oom_task r;
            if (parse_row(cols, &ncols, &inferred, t, &r) < 0)
                return 0;
            if (!(target = open_event(p, l)))
                return -ENOMEM;
        }
        struct oom_task r;
        bool inferred = false;
        if (parse_row(target->columns, &target->ncolumns, &inferred, t, &r) < 0)
            return 0;
        if (inferred) {
            target->table = true;
            target->table_inferred = true;
        }
        touch(target, l);
        target->state = ST_TASKS;
        return add_row(target, &r);
    }
    case K_NO_KILLABLE:
        if (!e || e->nvictims || !attachable(e, l)) {
            if (!(e = open_event(p, l)))
                return -ENOMEM;
        }
        touch(e, l);
        e->no_killable = true;
        e->state = ST_KILLED;
        return 0;
    case K_PANIC: {
        const char *what = find(t, "deadlocked on memory")       ? "deadlocked"
                           : find(t, "no killable processes")    ? "no-killable"
                           : find(t, "system-wide panic_on_oom") ? "system-wide"
                           : find(t, "compulsory panic_on_oom")  ? "compulsory"
                           : find(t, "panic_on_oom is enabled")  ? "panic_on_oom"
                                                                 : "";
        if (!what[0])
            return 0;
        if (!e || e->nvictims || !attachable(e, l)) {
            /* "System is deadlocked" follows "no killable processes" in the same event */
            if (!(e && !strcmp(what, "deadlocked") && e->no_killable && attachable(e, l)))
                if (!(e = open_event(p, l)))
                    return -ENOMEM;
        }
        touch(e, l);
        copy_span(e->panic, sizeof(e->panic), (struct span){what, strlen(what)});
        if (!strcmp(what, "no-killable"))
            e->no_killable = true;
        e->state = ST_KILLED;
        return 0;
    }
    case K_SUPPRESSED: {
        uint64_t n;
        if (parse_suppressed(t, &n) > 0)
            on_suppressed(p, n);
        return 0;
    }
    case K_SYSRQ_SHOWMEM:
        if (e)
            close_event(p, e);
        p->open = false;
        p->sysrq_meminfo = true;
        return 0;
    case K_MIN_PROTECTION:
        if (e && attachable(e, l)) {
            (void)key_u64(t, "min protection ", &e->min_protection_kb);
            (void)key_u64(t, "low protection ", &e->low_protection_kb);
        }
        return 0;
    case K_NONE:
        break;
    }

    /* lines that mean something only inside a report */
    if (!e || !t.n || !attachable(e, l))
        return 0;
    switch (e->state) {
    case ST_HEADER:
        if (starts(t, "CPU: ") || starts(t, "Pid: "))
            cpu_line(e, t);
        else if (find(t, " cpuset=") && !e->cpuset[0])
            cpuset_line(e, t);
        break;
    case ST_STATS:
        stats_kv(e, t);
        break;
    case ST_MEMINFO:
        meminfo_line(e, t);
        break;
    default:
        break;
    }
    if (e->state != ST_KILLED)
        touch(e, l);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* held lines: a recognised line may continue on the next, bare line (terminal or mail wrap) */

static int line_score(struct span t, enum kind kind)
{
    struct header h;
    struct kill k;
    struct summary s;
    struct span a, b;
    struct reap r;
    switch (kind) {
    case K_HEADER:
        return parse_header(t, &h);
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED:
        return parse_kill(t, &k);
    case K_SUMMARY:
        return parse_summary(t, &s);
    case K_TASKIN:
        return parse_taskin(t, &a, &b);
    case K_GROUP:
        return parse_group(t, &a);
    case K_REAPED:
    case K_UNREAPABLE:
        return parse_reap(t, kind == K_REAPED, &r);
    default:
        return 0;
    }
}

static bool holdable(enum kind k)
{
    return k == K_HEADER || k == K_KILLED || k == K_SELECT || k == K_EXITING || k == K_SUMMARY ||
           k == K_TASKIN || k == K_GROUP || k == K_REAPED;
}

static int hold(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
{
    if (t.n + 1 > p->held_cap) {
        size_t cap = t.n + 256;
        if (cap > CAP_INPUT_LINE * 2)
            return -EFBIG;
        char *n = realloc(p->held, cap);
        if (!n)
            return -ENOMEM;
        p->held = n;
        p->held_cap = cap;
    }
    memcpy(p->held, t.p, t.n);
    p->held_len = t.n;
    p->held_kind = kind;
    p->held_kmsg_next = l->kmsg_next;
    copy_span(p->held_time, sizeof(p->held_time), l->time);
    p->held_uptime = l->uptime_us;
    return 0;
}

static int flush_held(struct oomlog *p)
{
    if (!p->held_len)
        return 0;
    struct oomlog_line hl = {
        .time = {p->held_time, strlen(p->held_time)},
        .uptime_us = p->held_uptime,
        .text = {p->held, p->held_len},
        .kmsg_next = p->held_kmsg_next,
    };
    p->held_len = 0;
    return process(p, &hl, hl.text, (enum kind)p->held_kind);
}

/* Joins the held line with a bare continuation when the result parses further. Whether the
 * break ate a space is unknown (terminals cut anywhere, mail clients at a space they may keep
 * or drop): both joins are tried. */
static int try_join(struct oomlog *p, struct span t, bool *joined)
{
    *joined = false;
    size_t n = p->held_len + 1 + t.n;
    if (n > CAP_INPUT_LINE)
        return 0;
    char *buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    enum kind k = (enum kind)p->held_kind;
    int before = line_score((struct span){p->held, p->held_len}, k);
    int best = before, best_sep = -1;
    for (int sep = 0; sep <= 1; sep++) {
        memcpy(buf, p->held, p->held_len);
        if (sep)
            buf[p->held_len] = ' ';
        memcpy(buf + p->held_len + sep, t.p, t.n);
        struct span both = {buf, p->held_len + (size_t)sep + t.n};
        int sc = classify(both) == k ? line_score(both, k) : 0;
        if (sc > best) {
            best = sc;
            best_sep = sep;
        }
    }
    if (best_sep < 0) {
        free(buf);
        return 0;
    }
    if (best_sep)
        buf[p->held_len] = ' ';
    memcpy(buf + p->held_len + (size_t)best_sep, t.p, t.n);
    free(p->held);
    p->held = buf;
    p->held_cap = n;
    p->held_len = p->held_len + (size_t)best_sep + t.n;
    *joined = true;
    return 0;
}

int oomlog_feed_line(struct oomlog *p, const struct oomlog_line *l)
{
    struct span t = trim(l->text);
    p->kernel_lines++;
    int r = segment_note(p, l->uptime_us);
    if (r < 0)
        return r;
    enum kind kind = classify(t);
    if (p->held_len) {
        /* a continuation is a bare line that is not a report line of its own */
        if (l->bare && t.n && kind == K_NONE) {
            bool joined;
            if ((r = try_join(p, t, &joined)) < 0)
                return r;
            if (joined)
                return 0;
        }
        if ((r = flush_held(p)) < 0)
            return r;
    }
    if (holdable(kind) && p->hold_lines)
        return hold(p, l, t, kind);
    return process(p, l, t, kind);
}

static void note_elision(struct oomlog *p)
{
    p->segment++;
    struct oom_event *e = current(p);
    if (e)
        e->elided = true;
}

int oomlog_feed_text(struct oomlog *p, const char *line, size_t len)
{
    struct logline ll;
    p->lines++;
    logline_parse(&p->ctx, line, len, &ll);
    if (ll.elision) {
        int r = flush_held(p);
        note_elision(p);
        return r;
    }
    if (ll.source == LOGLINE_USER) {
        p->user_lines++;
        return 0;
    }
    p->hold_lines = true;
    if (ll.kmsg) {
        struct kmsg_record rec = {
            .facility = KMSG_FACILITY_KERN,
            .seq = ll.kmsg_seq,
            .usec = ll.uptime_us,
            .text = ll.text,
        };
        return oomlog_feed_kmsg(p, &rec);
    }
    p->kmsg_seq_known = false;
    if (ll.source == LOGLINE_BARE && !p->grep_filter && memchr(ll.text.p, '|', ll.text.n) &&
        logline_grep_command(ll.text, p->grep_pattern, sizeof(p->grep_pattern), &p->grep_icase))
        p->grep_filter = true;
    struct oomlog_line l = {
        .time = ll.time,
        .uptime_us = ll.uptime_us,
        .text = ll.text,
        .bare = ll.source == LOGLINE_BARE,
    };
    return oomlog_feed_line(p, &l);
}

int oomlog_feed_kmsg(struct oomlog *p, const struct kmsg_record *rec)
{
    /* the records are the kernel's whole log: a kill line right after a record we read, with
     * nothing of its report before it, had its report rate-limited */
    bool next = p->kmsg_seq_known && rec->seq == p->kmsg_seq_next;
    p->kmsg_seq_known = true;
    p->kmsg_seq_next = rec->seq + 1;
    if (rec->facility != KMSG_FACILITY_KERN) {
        p->user_lines++;
        return 0;
    }
    if (!p->unescape) {
        p->unescape = malloc(CAP_KMSG_RECORD);
        if (!p->unescape)
            return -ENOMEM;
    }
    size_t n = rec->text.n < CAP_KMSG_RECORD ? rec->text.n : CAP_KMSG_RECORD;
    n = kmsg_unescape(rec->text.p, n, p->unescape);
    /* one record may hold several lines (5.3-6.4 memcg stats, Mem-Info): same stamp for all */
    const char *s = p->unescape, *end = p->unescape + n;
    while (s <= end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        struct oomlog_line l = {
            .uptime_us = rec->usec,
            .text = {s, (size_t)(le - s)},
            .kmsg_next = next,
        };
        if (le > s || nl) {
            int r = oomlog_feed_line(p, &l);
            if (r < 0)
                return r;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the end of the input */

static bool kernel_has_reaper(const struct oomlog *p, const struct oom_event *e)
{
    if (p->saw_reaper)
        return true;
    /* symbolic GFP flags in the header came with the reaper (4.6); the summary line is 5.0,
     * the "<msg>: Killed process" form 5.1 */
    if (e->gfp_flags[0] || e->summary)
        return true;
    for (size_t i = 0; i < e->nvictims; i++)
        if (e->victims[i].message[0] && opt_has(e->victims[i].pgtables_kb))
            return true; /* the 5.4+ kill line */
    if (e->kernel_release[0]) {
        unsigned maj = 0, min = 0;
        const char *s = e->kernel_release;
        while (is_digit(*s))
            maj = maj * 10 + (unsigned)(*s++ - '0');
        if (*s == '.')
            s++;
        while (is_digit(*s))
            min = min * 10 + (unsigned)(*s++ - '0');
        return maj > 4 || (maj == 4 && min >= 6);
    }
    return false;
}

static bool contains_folded(const char *hay, const char *needle, bool icase)
{
    size_t n = strlen(needle), h = strlen(hay);
    for (size_t i = 0; i + n <= h; i++) {
        size_t j = 0;
        for (; j < n; j++) {
            char a = hay[i + j], b = needle[j];
            if (icase) {
                a = (char)(a >= 'A' && a <= 'Z' ? a + 32 : a);
                b = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            }
            if (a != b)
                break;
        }
        if (j == n)
            return true;
    }
    return false;
}

/* No reaper line, where the text would show one: the reaper did not reap (the victim exited
 * and freed its memory first, which sets MMF_OOM_SKIP and silences the reaper). */
static void infer_reaped(struct oomlog *p, struct oom_event *e)
{
    if (!kernel_has_reaper(p, e))
        return;
    for (size_t i = 0; i < e->nvictims; i++) {
        struct oom_victim *v = &e->victims[i];
        if (v->reaped != -1 || v->kind == OOM_VICTIM_EXITING)
            continue;
        bool covered = false;
        if (p->grep_filter) {
            /* grep would have kept "oom_reaper: reaped process <pid> (<comm>), now ..." */
            char line[160];
            snprintf(line, sizeof(line),
                     "oom_reaper: reaped process %lld (%s), now anon-rss:", (long long)v->pid,
                     v->comm);
            covered = contains_folded(line, p->grep_pattern, p->grep_icase);
        } else if (opt_has(v->uptime_us) && v->segment < p->segment_cap &&
                   opt_has(p->segment_max[v->segment])) {
            covered = p->segment_max[v->segment] >= v->uptime_us + REAPER_WINDOW_US;
        }
        if (covered) {
            v->reaped = 0;
            v->reaped_inferred = true;
        }
    }
}

static bool reportable(const struct oom_event *e)
{
    return e->header || e->nvictims || e->selected_set || e->no_killable || e->panic[0];
}

static bool duplicate(const struct oom_event *a, const struct oom_event *b)
{
    if (!a->nvictims || !b->nvictims)
        return false;
    const struct oom_victim *x = &a->victims[0], *y = &b->victims[0];
    if (x->pid != y->pid || strcmp(x->comm, y->comm) || x->total_vm_kb != y->total_vm_kb ||
        x->anon_rss_kb != y->anon_rss_kb || x->file_rss_kb != y->file_rss_kb)
        return false;
    if (opt_has(x->uptime_us) || opt_has(y->uptime_us))
        return x->uptime_us == y->uptime_us;
    return !strcmp(x->time, y->time);
}

int oomlog_end_source(struct oomlog *p)
{
    int r = flush_held(p);
    struct oom_event *e = current(p);
    if (e)
        close_event(p, e);
    p->open = false;
    /* what needs the rest of this input: the reaper lines it would show */
    for (size_t i = p->source_first; i < p->nevents; i++)
        infer_reaped(p, &p->events[i]);
    p->source_first = p->nevents;
    memset(&p->ctx, 0, sizeof(p->ctx));
    p->grep_filter = false;
    p->sysrq_meminfo = false;
    p->suppressed_pending = 0;
    p->kmsg_seq_known = false;
    p->last_uptime = OPT_ABSENT;
    p->segment++;
    return r;
}

int oomlog_finish(struct oomlog *p)
{
    int r = oomlog_end_source(p);
    size_t out = 0;
    for (size_t i = 0; i < p->nevents; i++) {
        struct oom_event *ev = &p->events[i];
        bool keep = reportable(ev);
        for (size_t j = out; keep && j-- > 0 && out - j <= 16;)
            if (duplicate(&p->events[j], ev))
                keep = false;
        if (!keep) {
            event_release(ev);
            continue;
        }
        if (out != i)
            p->events[out] = *ev;
        out++;
    }
    p->nevents = out;
    p->source_first = out;
    return r;
}

void oomlog_init(struct oomlog *p)
{
    memset(p, 0, sizeof(*p));
    p->last_uptime = OPT_ABSENT;
}

void oomlog_release(struct oomlog *p)
{
    for (size_t i = 0; i < p->nevents; i++)
        event_release(&p->events[i]);
    free(p->events);
    free(p->held);
    free(p->segment_max);
    free(p->unescape);
    memset(p, 0, sizeof(*p));
}

const char *oom_scope_name(enum oom_scope s)
{
    switch (s) {
    case OOM_SCOPE_GLOBAL:
        return "global";
    case OOM_SCOPE_MEMCG:
        return "memcg";
    case OOM_SCOPE_CPUSET:
        return "cpuset";
    case OOM_SCOPE_MEMPOLICY:
        return "mempolicy";
    case OOM_SCOPE_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *oom_victim_kind_name(enum oom_victim_kind k)
{
    switch (k) {
    case OOM_VICTIM_SELECTED:
        return "selected";
    case OOM_VICTIM_CHILD:
        return "child";
    case OOM_VICTIM_GROUP:
        return "group";
    case OOM_VICTIM_SHARED_MM:
        return "shared_mm";
    case OOM_VICTIM_EXITING:
        return "exiting";
    }
    return "selected";
}

const struct oom_victim *oom_event_primary(const struct oom_event *e)
{
    return e->nvictims ? &e->victims[0] : NULL;
}
