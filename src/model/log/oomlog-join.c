/*
 * Lines a terminal or a mail client broke: every line of text input is held back until the
 * next one shows whether it goes on there. A bare line (no prefix of its own) that is not a
 * message by itself continues the held one when the two read further together: more fields of
 * the same record, or a message the recogniser knows where neither half was one ("Out of
 * memory: Kill" + "ed process 1 (x) ..."). Breaks can fall inside a number or a field name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "oomlog-int.h"

/* `anc` is the cgroup path `p` or one of its ancestors */
static bool memcg_within(struct span anc, struct span p)
{
    if (!anc.n || anc.n > p.n || memcmp(anc.p, p.p, anc.n) != 0)
        return false;
    return anc.n == p.n || p.p[anc.n] == '/' || anc.p[anc.n - 1] == '/';
}

static int line_score(struct span t, enum kind kind)
{
    struct header h;
    struct kill k;
    struct summary s;
    struct span a, b;
    struct reap r;
    switch (kind) {
    case K_HEADER:
        return oom_header_parse(t, &h);
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED:
        return oom_kill_parse(t, &k);
    case K_SUMMARY:
        return oom_summary_parse(t, &s);
    case K_TASKIN: {
        /* the limit's memcg is the task's or one of its ancestors: a limit path that is
         * neither was cut ("limit of /kubepo" + "ds/pod951f.../0249...") */
        int n = oom_taskin_parse(t, &a, &b);
        return n == 3 && memcg_within(b, a) ? n + 1 : n;
    }
    case K_GROUP:
        return oom_group_parse(t, &a);
    case K_REAPED:
    case K_UNREAPABLE:
        return oom_reap_parse(t, kind == K_REAPED, &r);
    case K_STATS_FOR:
        return oom_stats1_fields(t);
    case K_CPU: {
        int64_t pid;
        return oom_cpu_parse(t, &pid, &a);
    }
    default:
        return 0;
    }
}

bool oomjoin_marked(struct span held)
{
    if (!held.n)
        return false;
    char c = held.p[held.n - 1];
    /* a shell's or a slide's "\", quoted-printable's soft break "=" ("==" is text) */
    return c == '\\' || (c == '=' && (held.n < 2 || held.p[held.n - 2] != '='));
}

/* a task name's first bytes end `held`: its '(' (a kill, a choice, a reaper line) or "task="
 * (the summary) has not been closed */
static bool in_comm(struct span held, enum kind kind)
{
    const char *open = NULL, *close = NULL;
    for (size_t i = 0; i < held.n; i++) {
        if (held.p[i] == '(')
            open = held.p + i;
        else if (held.p[i] == ')')
            close = held.p + i;
    }
    switch (kind) {
    case K_KILLED:
    case K_SELECT:
    case K_EXITING:
    case K_SHARED:
    case K_REAPED:
    case K_UNREAPABLE:
        return open && (!close || close < open) && open + 1 < held.p + held.n;
    case K_SUMMARY: {
        const char *t = find(held, ",task=");
        return t && !memchr(t + 6, ',', (size_t)(held.p + held.n - (t + 6))) &&
               t + 6 < held.p + held.n;
    }
    default:
        return false;
    }
}

/* a letter or a digit, or a byte of a UTF-8 sequence: a word goes on there */
static bool word_byte(char c)
{
    return (unsigned char)c >= 0x80 || (c >= '0' && c <= '9') ||
           ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* a break inside a task name ate a blank: one is seen, or the break fell between two words'
 * letters where a mailer breaks ("kworker/" + "u8:0" is no such place) */
static bool comm_blank(struct span held, enum kind kind, struct span next, unsigned hint)
{
    if (!in_comm(held, kind))
        return false;
    return (hint & OOMJOIN_BLANK_SEEN) ||
           ((hint & OOMJOIN_SHORT_LINE) && word_byte(held.p[held.n - 1]) && word_byte(next.p[0]));
}

size_t oomjoin(struct span held, enum kind kind, struct span next, enum kind next_kind,
               unsigned hint, char *out, size_t cap, enum kind *ret_kind)
{
    if (!held.n || !next.n || held.n + 1 + next.n > cap)
        return 0;
    if (oomjoin_marked(held)) {
        /* the writer said the line goes on: joined as it stands, without the mark */
        memcpy(out, held.p, held.n - 1);
        memcpy(out + held.n - 1, next.p, next.n);
        *ret_kind = oomline_classify((struct span){out, held.n - 1 + next.n});
        return held.n - 1 + next.n;
    }
    /* a message of its own joins only an unknown line before it that it reads further with
     * ("Memory cgroup out of memory:" + "Kill process ...", "mkfs.ext4 invoked" +
     * "oom-killer: gfp_mask=...") */
    if (next_kind != K_NONE && kind != K_NONE)
        return 0;
    int best = kind != K_NONE ? line_score(held, kind) : next_kind != K_NONE ? line_score(next, next_kind) : 0;
    size_t best_n = 0;
    enum kind best_kind = K_NONE;
    /* whether the break ate a space is unknown (terminals cut anywhere, mail clients at a space
     * they may keep or drop): both joins are tried, the one without the space first, unless the
     * break fell inside a task name where the text says it ate one (both read as well there) */
    int first = comm_blank(held, kind, next, hint);
    for (int i = 0; i <= 1; i++) {
        int sep = first ^ i;
        memcpy(out, held.p, held.n);
        if (sep)
            out[held.n] = ' ';
        memcpy(out + held.n + sep, next.p, next.n);
        struct span both = {out, held.n + (size_t)sep + next.n};
        enum kind k = oomline_classify(both);
        if (k == K_NONE || (kind != K_NONE && k != kind) || (next_kind != K_NONE && k != next_kind))
            continue;
        int sc = line_score(both, k);
        if (sc > best) {
            best = sc;
            best_n = both.n;
            best_kind = k;
        }
    }
    if (!best_n)
        return 0;
    /* the winner may have been overwritten by the other try */
    size_t sep = best_n - held.n - next.n;
    memcpy(out, held.p, held.n);
    if (sep)
        out[held.n] = ' ';
    memcpy(out + held.n + sep, next.p, next.n);
    *ret_kind = best_kind;
    return best_n;
}

/* the first run of OOMJOIN_PAD_MIN blanks or more with text on both sides: [*a, *b) */
static bool pad_run(struct span t, size_t *a, size_t *b)
{
    for (size_t i = 1; i < t.n; i++) {
        if (t.p[i] != ' ' || t.p[i - 1] == ' ')
            continue;
        size_t j = i;
        while (j < t.n && t.p[j] == ' ')
            j++;
        if (j - i >= OOMJOIN_PAD_MIN && j < t.n) {
            *a = i;
            *b = j;
            return true;
        }
        i = j;
    }
    return false;
}

bool oomjoin_padded(struct span t)
{
    size_t a, b;
    return pad_run(t, &a, &b);
}

size_t oomjoin_unpad(struct span t, enum kind kind, char *out, size_t cap, enum kind *ret_kind)
{
    size_t a, b, n = 0;
    if (kind == K_NONE || t.n > cap)
        return 0;
    char *tmp = out + cap;
    struct span cur = t;
    /* each break in turn, the text after it up to the next one read with the first half:
     * the kernel's own gaps are shorter, and a real gap that long keeps its text as it was */
    while (pad_run(cur, &a, &b)) {
        struct span held = {cur.p, a}, next = {cur.p + b, cur.n - b};
        enum kind k;
        size_t m = oomjoin(held, kind, next, K_NONE, 0, tmp, cap, &k);
        if (!m) {
            /* not mended: kept as one blank, so that later breaks are still looked at */
            memcpy(tmp, held.p, held.n);
            tmp[held.n] = ' ';
            memcpy(tmp + held.n + 1, next.p, next.n);
            m = held.n + 1 + next.n;
            k = kind;
        }
        memcpy(out, tmp, m);
        cur = (struct span){out, m};
        n = m;
        kind = k;
    }
    *ret_kind = kind;
    return n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable's escapes ("=3D" is '='), in place; returns the new length. */
static size_t qp_decode(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '=' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

int oomlog_hold(struct oomlog *p, const struct oomlog_line *l, struct span t, enum kind kind)
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
    p->held_caller_tid = l->caller_tid;
    p->held_rejoined = false;
    p->held_trail =
        l->text.n &&
        (l->text.p[l->text.n - 1] == ' ' || l->text.p[l->text.n - 1] == '\t' ||
         (l->text.p[l->text.n - 1] == '\r' && l->text.n > 1 && l->text.p[l->text.n - 2] == ' '));
    /* a terminal breaks every long line at its width: lines as wide as this one before it are
     * a narrow terminal's */
    p->held_short =
        l->width && (l->width < p->widest || (l->width < OOMJOIN_TERMINAL_MIN &&
                                              !(l->width == p->widest && p->widest_lines)));
    p->held_time_len = l->time.n < sizeof(p->held_time) ? l->time.n : sizeof(p->held_time) - 1;
    if (p->held_time_len)
        memcpy(p->held_time, l->time.p, p->held_time_len);
    p->held_uptime = l->uptime_us;
    return 0;
}

int oomlog_flush_held(struct oomlog *p)
{
    if (!p->held_len)
        return 0;
    struct oomlog_line hl = {
        .time = {p->held_time, p->held_time_len},
        .uptime_us = p->held_uptime,
        .text = {p->held, p->held_len},
        .kmsg_next = p->held_kmsg_next,
        .caller_tid = p->held_caller_tid,
        .rejoined = p->held_rejoined,
    };
    p->held_len = 0;
    return oomlog_process(p, &hl, hl.text, (enum kind)p->held_kind);
}

int oomlog_try_join(struct oomlog *p, struct span t, enum kind next_kind, bool lead, bool *joined)
{
    *joined = false;
    size_t cap = p->held_len + 1 + t.n;
    if (cap > CAP_INPUT_LINE)
        return 0;
    if (cap > p->join_cap) {
        char *n = realloc(p->join, cap);
        if (!n)
            return -ENOMEM;
        p->join = n;
        p->join_cap = cap;
    }
    enum kind k;
    struct span held = {p->held, p->held_len};
    bool qp = oomjoin_marked(held) && held.p[held.n - 1] == '=';
    unsigned hint =
        (p->held_trail || lead ? OOMJOIN_BLANK_SEEN : 0) | (p->held_short ? OOMJOIN_SHORT_LINE : 0);
    size_t n = oomjoin(held, (enum kind)p->held_kind, t, next_kind, hint, p->join, p->join_cap, &k);
    if (!n)
        return 0;
    if (qp) {
        /* a quoted-printable mail: its escapes are read from here on */
        p->qp = true;
        n = qp_decode(p->join, n);
        k = oomline_classify((struct span){p->join, n});
    }
    /* the join becomes the held line: it may go on again on the next line */
    char *swap = p->held;
    size_t swap_cap = p->held_cap;
    p->held = p->join;
    p->held_cap = p->join_cap;
    p->held_len = n;
    p->join = swap;
    p->join_cap = swap_cap;
    p->held_kind = k;
    p->held_rejoined = true;
    p->held_trail = false;
    *joined = true;
    return 0;
}
