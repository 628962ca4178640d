#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/limits.h"
#include "oomlog-int.h"

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
    case K_TASKIN:
        return oom_taskin_parse(t, &a, &b);
    case K_GROUP:
        return oom_group_parse(t, &a);
    case K_REAPED:
    case K_UNREAPABLE:
        return oom_reap_parse(t, kind == K_REAPED, &r);
    default:
        return 0;
    }
}

bool oomlog_holdable(enum kind k)
{
    return k == K_HEADER || k == K_KILLED || k == K_SELECT || k == K_EXITING || k == K_SUMMARY ||
           k == K_TASKIN || k == K_GROUP || k == K_REAPED;
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
    copy_span(p->held_time, sizeof(p->held_time), l->time);
    p->held_uptime = l->uptime_us;
    return 0;
}

int oomlog_flush_held(struct oomlog *p)
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
    return oomlog_process(p, &hl, hl.text, (enum kind)p->held_kind);
}

/* Joins the held line with a bare continuation when the result parses further. Whether the
 * break ate a space is unknown (terminals cut anywhere, mail clients at a space they may keep
 * or drop): both joins are tried. */
int oomlog_try_join(struct oomlog *p, struct span t, bool *joined)
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
        int sc = oomline_classify(both) == k ? line_score(both, k) : 0;
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
