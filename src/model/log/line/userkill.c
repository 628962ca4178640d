#include "userkill.h"

#include <stdio.h>
#include <string.h>

#include "base/opt.h"

/* a line is the program's own record, or a bare line (a terminal's copy) */
static bool from(struct span program, const char *name)
{
    return program.n == 0 || span_eq(program, name);
}

static void copy_to(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* a systemd unit name: no blanks, a type suffix after a dot */
static bool unit_name(struct span s)
{
    if (s.n < 3 || s.n >= 128)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '"' || s.p[i] == '\'')
            return false;
    const char *dot = memrchr(s.p, '.', s.n);
    return dot && dot > s.p && dot < s.p + s.n - 1;
}

static bool systemd_unit(struct span t, struct userkill *u)
{
    const char *sep = span_find(t, ": ");
    if (!sep)
        return false;
    struct span unit = {t.p, (size_t)(sep - t.p)};
    struct cursor c = cursor_make(sep + 2, (size_t)(t.p + t.n - sep - 2));
    if (!unit_name(unit))
        return false;
    struct span rest = {c.p, cursor_left(&c)};
    if (span_starts_with(rest, "A process of this unit has been killed by the OOM killer"))
        u->kind = UK_UNIT_OOM;
    else if (span_starts_with(rest, "Failed with result 'oom-kill'"))
        u->kind = UK_UNIT_RESULT_OOM;
    else if (span_starts_with(rest, "Main process exited, code=killed, status=9/KILL"))
        u->kind = UK_UNIT_MAIN_KILLED;
    else if (cursor_skip_prefix(&c, "systemd-oomd killed ") &&
             cursor_u64(&c, (uint64_t *)&u->processes) == 0 &&
             cursor_skip_prefix(&c, " process(es) in this unit"))
        u->kind = UK_UNIT_OOMD;
    else
        return false;
    copy_to(u->unit, sizeof(u->unit), unit.p, unit.n);
    return true;
}

/* "A.BB%" into `out`, the cursor after it */
static bool percent(struct cursor *c, char *out, size_t cap)
{
    cursor_skip_blanks(c);
    const char *s = c->p;
    uint64_t v;
    if (cursor_decimal(c, 2, &v) != 0)
        return false;
    size_t n = (size_t)(c->p - s);
    cursor_skip_blanks(c); /* 1.2-1.5: "mem 10 %" */
    if (!cursor_skip_char(c, '%'))
        return false;
    copy_to(out, cap, s, n);
    copy_to(out + n, cap - n, "%", 1);
    return true;
}

/* "(N) / total (M)" */
static bool used_total(struct cursor *c, uint64_t *used, uint64_t *total)
{
    return cursor_skip_char(c, '(') && cursor_u64(c, used) == 0 &&
           cursor_skip_prefix(c, ") / total (") && cursor_u64(c, total) == 0 &&
           cursor_skip_char(c, ')');
}

static void oomd_pressure(struct cursor *c, struct userkill *u)
{
    struct span cg = cursor_word(c);
    copy_to(u->pressure_cgroup, sizeof(u->pressure_cgroup), cg.p, cg.n);
    if (!cursor_skip_prefix(c, " being ") || !percent(c, u->pressure, sizeof(u->pressure)) ||
        !cursor_skip_prefix(c, " > ") || !percent(c, u->limit, sizeof(u->limit)) ||
        !cursor_skip_prefix(c, " for > "))
        return;
    struct span d = cursor_word(c);
    copy_to(u->duration, sizeof(u->duration), d.p, d.n);
}

static void oomd_swap(struct cursor *c, struct userkill *u)
{
    uint64_t used, total;
    u->swap = true;
    if (cursor_skip_prefix(c, "memory used ")) {
        if (!used_total(c, &used, &total) || !cursor_skip_prefix(c, " and swap used "))
            return;
    } else if (!cursor_skip_prefix(c, "swap used ")) {
        return;
    }
    if (!used_total(c, &used, &total))
        return;
    u->swap_used = used;
    u->swap_total = total;
    if (cursor_skip_prefix(c, " being more than "))
        percent(c, u->limit, sizeof(u->limit));
}

static bool oomd_kill(struct span t, struct userkill *u)
{
    struct cursor c = cursor_make(t.p, t.n);
    if (cursor_skip_prefix(&c, "Marked "))
        u->marked = true;
    else if (!cursor_skip_prefix(&c, "Killed "))
        return false;
    if (cursor_peek(&c) != '/')
        return false;
    struct span cg = cursor_word(&c);
    if (!cursor_skip_prefix(&c, u->marked ? " for killing due to " : " due to "))
        return false;
    copy_to(u->cgroup, sizeof(u->cgroup), cg.p, cg.n);
    u->kind = UK_OOMD_KILL;
    if (cursor_skip_prefix(&c, "memory pressure for "))
        oomd_pressure(&c, u);
    else
        oomd_swap(&c, u);
    return true;
}

static void signal_name(struct userkill *u, uint64_t sig)
{
    const char *n = sig == 15 ? "SIGTERM" : sig == 9 ? "SIGKILL" : "";
    copy_to(u->signal, sizeof(u->signal), n, strlen(n));
}

/* ", "-separated "key value" (or "key: value") pairs after a kill's name, in any order */
static void earlyoom_fields(struct cursor *c, struct userkill *u)
{
    while (!cursor_eof(c)) {
        cursor_skip_blanks(c);
        struct span k = cursor_word(c);
        if (k.n && k.p[k.n - 1] == ':')
            k.n--;
        cursor_skip_blanks(c);
        if (span_eq(k, "cmdline"))
            return;
        int64_t v;
        if (cursor_i64(c, &v) != 0)
            return;
        if (span_eq(k, "badness"))
            u->badness = v;
        else if (span_eq(k, "oom_score"))
            u->oom_score = v;
        else if (span_eq(k, "oom_score_adj"))
            u->oom_score_adj = v;
        else if (span_eq(k, "VmRSS") && v >= 0 && cursor_skip_prefix(c, " MiB"))
            u->vm_rss_mib = (uint64_t)v;
        else if (span_eq(k, "pid"))
            u->pid = v;
        if (!cursor_skip_past(c, ", "))
            return;
    }
}

/* "\"comm\"" up to the quote before ": " or " with" */
static bool quoted_name(struct cursor *c, char q, const char *after, struct userkill *u)
{
    if (!cursor_skip_char(c, q))
        return false;
    struct span rest = {c->p, cursor_left(c)};
    char end[16] = {q};
    snprintf(end + 1, sizeof(end) - 1, "%s", after);
    const char *e = span_find(rest, end);
    if (!e)
        return false;
    copy_to(u->comm, sizeof(u->comm), rest.p, (size_t)(e - rest.p));
    c->p = e + strlen(end);
    return true;
}

static bool earlyoom_kill(struct span t, struct userkill *u)
{
    struct cursor c = cursor_make(t.p, t.n);
    uint64_t n, sig;
    if (cursor_skip_prefix(&c, "sending SIG")) {
        /* 1.3+: sending SIGTERM to process N uid U "comm": ... */
        struct span s = cursor_word(&c);
        if (!cursor_skip_prefix(&c, " to process ") || cursor_u64(&c, &n) != 0)
            return false;
        copy_to(u->signal, sizeof(u->signal), s.p - 3, s.n + 3);
        u->pid = (int64_t)n;
        if (cursor_skip_prefix(&c, " uid ") && cursor_u64(&c, &n) == 0)
            u->uid = (int64_t)n;
        if (!cursor_skip_char(&c, ' ') || !quoted_name(&c, '"', ": ", u))
            return false;
    } else if (cursor_skip_prefix(&c, "killing process ")) {
        /* 1.2: killing process N "comm" with signal 15: ... */
        if (cursor_u64(&c, &n) != 0 || !cursor_skip_char(&c, ' ') ||
            !quoted_name(&c, '"', " with signal ", u) || cursor_u64(&c, &sig) != 0 ||
            !cursor_skip_prefix(&c, ": "))
            return false;
        u->pid = (int64_t)n;
        signal_name(u, sig);
    } else if (cursor_skip_prefix(&c, "Killing process ")) {
        /* <= 1.1: Killing process 'comm' with signal 15, pid: N, ... */
        if (!quoted_name(&c, '\'', " with signal ", u) || cursor_u64(&c, &sig) != 0 ||
            !cursor_skip_prefix(&c, ", "))
            return false;
        signal_name(u, sig);
    } else {
        return false;
    }
    earlyoom_fields(&c, u);
    if (u->pid == OPT_ABSENT_I64)
        return false;
    u->kind = UK_EARLYOOM_KILL;
    return true;
}

/* "low memory! at or below SIGTERM limits: mem 10.00%, swap 5.00%" */
static bool earlyoom_low(struct span t, struct userkill *u)
{
    struct cursor c = cursor_make(t.p, t.n);
    if (!cursor_skip_prefix(&c, "low memory! at or below SIG"))
        return false;
    u->kind = UK_EARLYOOM_LOW;
    struct span s = cursor_word(&c);
    copy_to(u->limit_signal, sizeof(u->limit_signal), s.p - 3, s.n + 3);
    if (cursor_skip_prefix(&c, " limits: mem ") &&
        percent(&c, u->mem_limit, sizeof(u->mem_limit)) && cursor_skip_prefix(&c, ", swap "))
        percent(&c, u->swap_limit, sizeof(u->swap_limit));
    return true;
}

/* "mem avail: 2430 of 31808 MiB ( 7.64%), swap free: 1419 of 15903 MiB ( 8.93%)" */
static bool earlyoom_avail(struct span t, struct userkill *u)
{
    struct cursor c = cursor_make(t.p, t.n);
    uint64_t a, b;
    if (!cursor_skip_prefix(&c, "mem avail:"))
        return false;
    cursor_skip_blanks(&c);
    if (cursor_u64(&c, &a) != 0 || !cursor_skip_prefix(&c, " of"))
        return false;
    cursor_skip_blanks(&c);
    if (cursor_u64(&c, &b) != 0)
        return false;
    u->kind = UK_EARLYOOM_AVAIL;
    u->avail_mib = a;
    u->total_mib = b;
    if (cursor_skip_past(&c, "swap free:")) {
        cursor_skip_blanks(&c);
        if (cursor_u64(&c, &a) == 0 && cursor_skip_prefix(&c, " of")) {
            cursor_skip_blanks(&c);
            if (cursor_u64(&c, &b) == 0) {
                u->swap_free_mib = a;
                u->swap_total_mib = b;
            }
        }
    }
    return true;
}

bool userkill_parse(struct span program, struct span text, struct userkill *u)
{
    memset(u, 0, sizeof(*u));
    u->processes = -1;
    u->pid = u->uid = u->badness = u->oom_score = u->oom_score_adj = OPT_ABSENT_I64;
    u->vm_rss_mib = u->swap_used = u->swap_total = OPT_ABSENT;
    u->avail_mib = u->total_mib = u->swap_free_mib = u->swap_total_mib = OPT_ABSENT;
    struct span t = span_trim(text);
    if (t.n < 12)
        return false;
    bool ok = false;
    switch (t.p[0]) {
    case 'K':
    case 'M':
        ok = (from(program, "systemd-oomd") && oomd_kill(t, u)) ||
             (t.p[0] == 'K' && from(program, "earlyoom") && earlyoom_kill(t, u));
        break;
    case 's':
    case 'k':
        ok = from(program, "earlyoom") && earlyoom_kill(t, u);
        break;
    case 'l':
        ok = from(program, "earlyoom") && earlyoom_low(t, u);
        break;
    default:
        break;
    }
    if (!ok && t.p[0] == 'm' && from(program, "earlyoom"))
        ok = earlyoom_avail(t, u);
    /* pid 1 and the user managers both log as "systemd" */
    if (!ok && from(program, "systemd"))
        ok = systemd_unit(t, u);
    if (!ok)
        u->kind = UK_NONE;
    return ok;
}

bool userkill_tagged(struct span text, struct span *program, struct span *msg)
{
    static const char *const ours[] = {"systemd", "systemd-oomd", "earlyoom"};
    struct span t = span_trim(text);
    const char *b = t.n > 12 && (t.p[0] == 's' || t.p[0] == 'e') ? memchr(t.p, '[', 13) : NULL;
    if (!b)
        return false;
    struct span name = {t.p, (size_t)(b - t.p)};
    struct cursor c = cursor_make(b + 1, (size_t)(t.p + t.n - b - 1));
    uint64_t pid;
    if (cursor_u64(&c, &pid) != 0 || !cursor_skip_prefix(&c, "]: "))
        return false;
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (span_eq(name, ours[i])) {
            *program = name;
            *msg = (struct span){c.p, cursor_left(&c)};
            return true;
        }
    return false;
}
