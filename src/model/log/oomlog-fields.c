#include <errno.h>
#include <string.h>

#include "oomlog-int.h"

/* the length of the valid UTF-8 sequence of a printable character at p, or 0 */
static size_t utf8_char(const unsigned char *p, const unsigned char *end)
{
    if (*p >= 0x20 && *p < 0x7f)
        return 1;
    size_t n = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3
                                              : *p >= 0xf0 && *p <= 0xf4 ? 4
                                                                         : 0;
    if (!n || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* overlong, surrogate and out-of-range forms */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

void copy_comm(char *dst, size_t cap, struct span s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.n;
    size_t o = 0;
    while (p < end) {
        size_t n = utf8_char(p, end);
        if (n) {
            if (o + n >= cap)
                break;
            memcpy(dst + o, p, n);
            o += n;
            p += n;
        } else {
            if (o + 4 >= cap)
                break;
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
            p++;
        }
    }
    dst[o] = '\0';
}

/* How many bytes at the start of `s` are the name `comm` (as copy_comm writes it: raw bytes
 * and their \xNN escapes compare equal); 0 when they are not. */
static size_t comm_prefix(struct span s, const char *comm)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.n;
    const char *c = comm;
    while (*c && p < end) {
        size_t n = utf8_char(p, end);
        if (n) {
            if (strncmp(c, (const char *)p, n) != 0)
                return 0;
            c += n;
        } else {
            if (c[0] != '\\' || c[1] != 'x' || c[2] != hex[*p >> 4] || c[3] != hex[*p & 15])
                return 0;
            c += 4;
            n = 1;
        }
        p += n;
    }
    return *c ? 0 : (size_t)(p - (const unsigned char *)s.p);
}

/* "(comm)" + one of the terminators that can follow the closing parenthesis. The comm may
 * hold spaces and parentheses ("Web Content", "(sd-pam)"): the earliest terminator decides
 * where it ends; without one, a ')' that ends the line (optionally followed by '.'). The cursor
 * is left after the ')'. */
static bool paren_comm(struct cursor *c, char *comm, size_t cap, const char *const *terms,
                       bool *cut)
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
        if (t.n && t.p[t.n - 1] == ')')
            best = t.p + t.n - 1;
    }
    /* a ')' then a blank or a comma, as before any field of a form not listed */
    for (const char *q = rest.p; !best && q < rest.p + rest.n; q++)
        if (*q == ')' && q + 1 < rest.p + rest.n && (q[1] == ' ' || q[1] == ','))
            best = q;
    if (!best && cut && !memchr(rest.p, ')', rest.n)) {
        /* the line ends inside the comm, or right after its '(': keep what is there */
        *cut = true;
        copy_comm(comm, cap, trim(rest));
        c->p = rest.p + rest.n;
        return true;
    }
    if (!best) {
        *c = save;
        return false;
    }
    copy_comm(comm, cap, (struct span){rest.p, (size_t)(best - rest.p)});
    c->p = best + 1;
    return true;
}

/* "N (comm)" */
static bool pid_comm(struct cursor *c, int64_t *pid, char *comm, size_t cap,
                     const char *const *terms, bool *cut)
{
    struct cursor save = *c;
    uint64_t v;
    if (cursor_u64(c, &v) < 0 || v > INT32_MAX)
        return false;
    cursor_skip_blanks(c);
    if (cursor_eof(c) && cut) {
        /* cut right after the pid ("Killed process 11280"): the pid is all there is */
        *cut = true;
        comm[0] = '\0';
        *pid = (int64_t)v;
        return true;
    }
    if (!paren_comm(c, comm, cap, terms, cut)) {
        *c = save;
        return false;
    }
    *pid = (int64_t)v;
    return true;
}

void oom_task_init(struct oom_task *t)
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

void oom_counter_init(struct oom_counter *c)
{
    c->usage_kb = c->limit_kb = c->failcnt = OPT_ABSENT;
}

int oom_header_parse(struct span t, struct header *h)
{
    memset(h, 0, sizeof(*h));
    h->order = h->adj = h->oom_adj = OPT_ABSENT_I64;
    int n = 0;
    struct span rest;
    const char *inv = find(t, " invoked oom-killer:");
    if (inv) {
        copy_comm(h->comm, sizeof(h->comm), (struct span){t.p, (size_t)(inv - t.p)});
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

/* what follows the comm's ')' in each form: RHEL 7 put ", UID u," there (3.10.0-*.el7) */
static const char *const kill_terms[] = {") total-vm:", ") vsz:", "), UID ", "), total-vm:",
                                         ") anon-rss:", NULL};
static const char *const select_terms[] = {") score ", NULL};
static const char *const exiting_terms[] = {") is already exiting", NULL};
static const char *const shared_terms[] = {") sharing same memory", NULL};

/* a field the kill line prints in kB: without its unit at the end of the line, it was cut */
static bool kb_field(struct span name)
{
    return span_eq(name, "total-vm") || span_eq(name, "vsz") || span_eq(name, "anon-rss") ||
           span_eq(name, "file-rss") || span_eq(name, "shmem-rss") || span_eq(name, "pgtables");
}

static void kill_field(struct kill *k, struct span name, int64_t v)
{
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
}

/*
 * "total-vm:1736kB, anon-rss:196kB, ..., UID:0 pgtables:48kB oom_score_adj:1000", in any order,
 * and RHEL 7's ", UID 1000, total-vm:..." (a blank instead of the colon). A line that ends
 * inside a field (a key without its number, a kB number without its unit, a dangling comma) was
 * cut: k->cut, and the unfinished field is not taken.
 */
static int kill_fields(struct cursor *c, struct kill *k)
{
    int n = 0;
    for (;;) {
        bool sep = false;
        while (!cursor_eof(c) && (*c->p == ' ' || *c->p == ',' || *c->p == '\t')) {
            sep |= *c->p == ',';
            c->p++;
        }
        if (cursor_eof(c)) {
            k->cut |= sep;
            return n;
        }
        const char *key = c->p;
        while (!cursor_eof(c) && *c->p != ':' && *c->p != ' ' && *c->p != ',')
            c->p++;
        struct span name = {key, (size_t)(c->p - key)};
        bool uid_blank = span_eq(name, "UID") && !cursor_eof(c) && *c->p == ' ';
        if (cursor_eof(c) || (*c->p != ':' && !uid_blank)) {
            k->cut |= cursor_eof(c); /* "file-r" */
            return n;
        }
        c->p++;
        int64_t v;
        if (cursor_i64(c, &v) < 0) {
            k->cut |= cursor_eof(c); /* "anon-rss:" */
            return n;
        }
        if (!cursor_skip_prefix(c, "kB") && kb_field(name) && cursor_eof(c)) {
            k->cut = true; /* "anon-rss:16" of "anon-rss:16256kB" */
            return n;
        }
        kill_field(k, name, v);
        n++;
    }
}

static void kill_init(struct kill *k)
{
    memset(k, 0, sizeof(*k));
    k->pid = k->uid = k->adj = k->score = OPT_ABSENT_I64;
    k->total_vm = k->anon = k->file = k->shmem = k->pgtables = OPT_ABSENT;
}

int oom_kill_parse(struct span t, struct kill *k)
{
    kill_init(k);
    struct span msg = {t.p, 0}, rest = t;
    enum kind kind = oomline_classify(t);
    if (kind != K_KILLED && kind != K_SELECT && kind != K_EXITING && kind != K_SHARED)
        return 0;
    if (!starts_word(t, "Killed process") && !starts_word(t, "Kill process"))
        (void)oomline_msg_kind(t, &msg, &rest);
    k->kind = kind;
    copy_span(k->msg, sizeof(k->msg), msg);
    int n = msg.n > 0; /* a join that brings the message reads further */
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
            if (!paren_comm(&r, k->comm, sizeof(k->comm), kill_terms, &k->cut))
                return 0;
            k->form = FORM_RHEL;
            k->pid = (int64_t)pid;
            k->uid = (int64_t)uid;
            return n + 3 + kill_fields(&r, k);
        }
        if (!pid_comm(&c, &k->pid, k->comm, sizeof(k->comm), kill_terms, &k->cut))
            return 0;
        return n + (k->comm[0] ? 2 : 1) + kill_fields(&c, k);
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
        if (!pid_comm(&c, &k->pid, k->comm, sizeof(k->comm), terms, &k->cut))
            return 0;
        n += 2;
        if (kind == K_SELECT && cursor_skip_prefix(&c, " score ") && cursor_i64(&c, &k->score) == 0)
            n++;
        return n;
    }
    default:
        return 0;
    }
}

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

int oom_summary_parse(struct span t, struct summary *s)
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
            copy_comm(s->task, sizeof(s->task), (struct span){rest.p, (size_t)(pidk - rest.p)});
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
int oom_taskin_parse(struct span t, struct span *task, struct span *limit)
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
int oom_group_parse(struct span t, struct span *path)
{
    if (!starts(t, "Tasks in "))
        return 0;
    const char *k = find(t, " are going to be killed due to memory.oom.group");
    if (!k || k < t.p + 9)
        return 1;
    *path = (struct span){t.p + 9, (size_t)(k - (t.p + 9))};
    return 2;
}

static const char *const reap_terms[] = {"), now ", NULL};
static const char *const unreap_terms[] = {NULL};

int oom_reap_parse(struct span t, bool reaped, struct reap *r)
{
    r->pid = OPT_ABSENT_I64;
    r->anon = r->file = r->shmem = OPT_ABSENT;
    r->comm[0] = '\0';
    const char *prefix = reaped ? "oom_reaper: reaped process " : "oom_reaper: unable to reap pid:";
    if (!starts(t, prefix))
        return 0;
    struct cursor c = cursor_make(t.p + strlen(prefix), t.n - strlen(prefix));
    if (!pid_comm(&c, &r->pid, r->comm, sizeof(r->comm), reaped ? reap_terms : unreap_terms,
                  NULL)) {
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
int oom_suppressed_parse(struct span t, uint64_t *n)
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
int oom_counter_parse(struct span t, struct oom_counter *ret, int *which)
{
    static const char *const names[] = {"memory: usage ", "swap: usage ", "memory+swap: usage ",
                                        "kmem: usage "};
    for (int i = 0; i < 4; i++) {
        if (!starts(t, names[i]))
            continue;
        *which = i;
        struct span r = after(t, strlen(names[i]) - strlen("usage "));
        struct oom_counter c;
        oom_counter_init(&c);
        int n = 0;
        n += key_u64(r, "usage ", &c.usage_kb);
        n += key_u64(r, "limit ", &c.limit_kb);
        n += key_u64(r, "failcnt ", &c.failcnt);
        *ret = c;
        return n;
    }
    return 0;
}

/* "CPU: 1 [UID: 0 ]PID: 794 Comm: ow-probe Not tainted 6.18.44-fc-v769 #1 ...", (<= 3.x)
 * "Pid: 4917, comm: dsm_sa_datamgrd Not tainted 2.6.32-279.19.1.el6.x86_64 #1", s390's
 * "Process basename (pid: 30555, task: ..., ksp: ...)": the pid and where the comm starts.
 * Returns the count of the two found. */
int oom_cpu_parse(struct span t, int64_t *pid, struct span *comm)
{
    *comm = (struct span){t.p + t.n, 0};
    struct cursor c;
    if (starts(t, "CPU: ")) {
        const char *pk = find(t, " PID: ");
        const char *ck = find(t, " Comm:");
        if (!pk)
            return 0;
        c = cursor_make(pk + 6, (size_t)(t.p + t.n - (pk + 6)));
        if (ck && ck > pk)
            *comm = trim(after(t, (size_t)(ck - t.p) + 6));
    } else if (starts(t, "Pid: ")) {
        c = cursor_make(t.p + 5, t.n - 5);
        const char *ck = find(t, ", comm: ");
        if (ck)
            *comm = after(t, (size_t)(ck - t.p) + 8);
    } else if (starts(t, "Process ")) {
        const char *pk = find(t, " (pid: ");
        if (!pk)
            return 0;
        c = cursor_make(pk + 7, (size_t)(t.p + t.n - (pk + 7)));
        *comm = (struct span){t.p + 8, (size_t)(t.n - 8)};
    } else {
        return 0;
    }
    cursor_skip_blanks(&c);
    if (cursor_i64(&c, pid) < 0)
        return 0;
    return 1 + (comm->n > 0);
}

/* The dump_stack line of the task that asked: its pid and the kernel's release. */
void oom_cpu_line(struct oom_event *e, struct span t)
{
    int64_t pid;
    struct span rest;
    if (oom_cpu_parse(t, &pid, &rest) < 2)
        return;
    /* the comm is the invoker's (all print current->comm); it may contain spaces */
    size_t cl = e->header ? comm_prefix(rest, e->invoker_comm) : 0;
    if (!cl || (rest.n > cl && rest.p[cl] != ' '))
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
void oom_cpuset_line(struct oom_event *e, struct span t)
{
    const char *cs = find(t, " cpuset=");
    const char *ma = find(t, " mems_allowed=");
    if (!cs || !ma || ma < cs)
        return;
    copy_span(e->cpuset, sizeof(e->cpuset), (struct span){cs + 8, (size_t)(ma - (cs + 8))});
    copy_span(e->mems_allowed, sizeof(e->mems_allowed),
              trim(after(t, (size_t)(ma - t.p) + strlen(" mems_allowed="))));
}
