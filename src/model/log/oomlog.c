
#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

#include "journal.h"
#include "kmsg.h"
#include "oomlog-int.h"

struct oom_event *oomlog_current(struct oomlog *p)
{
    return p->open && p->nevents ? &p->events[p->nevents - 1] : NULL;
}

/* Lines further apart than OOMLOG_GAP_US, or going back in time, are not one report. */
bool oomlog_attachable(const struct oom_event *e, const struct oomlog_line *l)
{
    if (!opt_has(e->last_uptime_us) || !opt_has(l->uptime_us))
        return true;
    if (l->uptime_us + SEC_US < e->last_uptime_us)
        return false;
    return l->uptime_us <= e->last_uptime_us + OOMLOG_GAP_US;
}

void oomlog_touch(struct oom_event *e, const struct oomlog_line *l)
{
    if (!e->time[0] && l->time.n)
        copy_span(e->time, sizeof(e->time), l->time);
    if (opt_has(l->uptime_us)) {
        if (!opt_has(e->uptime_us))
            e->uptime_us = l->uptime_us;
        e->last_uptime_us = l->uptime_us;
    }
}

struct oom_event *oomlog_open_event(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *cur = oomlog_current(p);
    if (cur)
        oomlog_close_event(p, cur);
    p->open = false;
    if (p->nevents >= OOMLOG_MAX_EVENTS)
        return NULL;
    if (ARRAY_GROW(p->events, p->nevents, p->cap, 16) < 0)
        return NULL;
    struct oom_event *e = &p->events[p->nevents++];
    oom_event_init(e);
    e->suppressed_reports = p->suppressed_pending;
    p->suppressed_pending = 0;
    p->open = true;
    oomlog_touch(e, l);
    return e;
}

/* The open event if this report line belongs to it, else a new (headerless) one. */
struct oom_event *oomlog_event_for_body(struct oomlog *p, const struct oomlog_line *l)
{
    struct oom_event *e = oomlog_current(p);
    if (e && e->state != ST_KILLED && !e->nvictims && oomlog_attachable(e, l)) {
        oomlog_touch(e, l);
        return e;
    }
    return oomlog_open_event(p, l);
}

struct oom_victim *oomlog_add_victim(struct oom_event *e)
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
    v->uptime_us = v->vm_rss_kb = OPT_ABSENT;
    v->reaped = -1;
    oom_task_init(&v->row);
    return v;
}


static int segment_grow(struct oomlog *p, uint64_t uptime);

static inline int segment_note(struct oomlog *p, uint64_t uptime)
{
    if (!opt_has(uptime))
        return 0;
    if (opt_has(p->last_uptime) && uptime + SEC_US < p->last_uptime)
        p->segment++; /* back in time: another boot, or logs pasted out of order */
    p->last_uptime = uptime;
    if (p->segment >= p->segment_cap)
        return segment_grow(p, uptime);
    uint64_t *m = &p->segment_max[p->segment];
    if (!opt_has(*m) || uptime > *m)
        *m = uptime;
    return 0;
}

/* the largest uptime of each segment, in an array that grows with them */
static int segment_grow(struct oomlog *p, uint64_t uptime)
{
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
    p->segment_max[p->segment] = uptime;
    return 0;
}

/* A line the recogniser did not know that a continuation could still make a message of: one
 * short enough to be a header cut in its words (a comm of TASK_COMM_LEN - 1 and " invoked
 * oom-killer:"), or the beginning of another message's first words (oomline_may_begin). Holding
 * only these keeps the other lines from being copied. */
static bool may_begin_message(struct span t)
{
    static const bool first[256] = {['K'] = 1, ['O'] = 1, ['M'] = 1, ['N'] = 1, ['T'] = 1, ['m'] = 1,
                                    ['s'] = 1, ['S'] = 1, ['k'] = 1, ['o'] = 1, ['['] = 1};
    return t.n <= 36 || (t.n < 64 && first[(unsigned char)t.p[0]] && oomline_may_begin(t));
}

/* A line that starts with something else than a word or a task-table row: a vendor tag after
 * the stamp, a digit, punctuation; the OOM messages are looked for anywhere in it */
static bool odd_start(struct span t)
{
    unsigned char c = (unsigned char)t.p[0];
    return !((c | 32) >= 'a' && (c | 32) <= 'z') && c != '[';
}

/* A report line that nothing would give to the open event: it ran out of time (OOMLOG_GAP_US)
 * or the line goes back in it */
static bool unattached(const struct oom_event *e, uint64_t uptime)
{
    struct oomlog_line at = {.uptime_us = uptime};
    return !oomlog_attachable(e, &at);
}

/*
 * Most lines of a big log: not a message, after no message held back, and nothing below would
 * look into them or give them (or the line held back) to an event: none is open, its kill is
 * known (then only more kill and reaper lines belong to it), or the lines are too far from it in
 * time. Returns 1 when the line (and the held one) has nothing to give, 2 when it is to be held
 * (a short line: the next may continue it), 0 when the whole path has to decide.
 */
static int quiet(struct oomlog *p, const struct oomlog_line *l, struct span t)
{
    if (l->bare || (p->held_len && p->held_kind != K_NONE))
        return 0;
    bool hold = false;
    if (t.n && p->hold_lines) {
        if (odd_start(t) || oomjoin_marked(t))
            return 0;
        if (t.n <= 36)
            hold = true;
        else if (may_begin_message(t))
            return 0;
    }
    const struct oom_event *e = oomlog_current(p);
    if (e && e->state != ST_KILLED &&
        ((!hold && t.n && !unattached(e, l->uptime_us)) ||
         (p->held_len && !unattached(e, p->held_uptime))))
        return 0;
    /* a held line that was not a message has nothing to give either */
    p->held_len = 0;
    return hold ? 2 : 1;
}

/* The opaque prefix before a message: learnt (a bare line's), its time taken, then dropped. */
static void strip_prefix(struct oomlog *p, struct oomlog_line *l, struct span *t, size_t at)
{
    struct span prefix = {t->p, at};
    if (l->bare)
        oomline_prefix_learn(&p->prefix, prefix);
    if (!l->time.n && !opt_has(l->uptime_us))
        logline_prefix_time(prefix, &l->time);
    t->p += at;
    t->n -= at;
    l->bare = false;
}

/*
 * What the kernel said in a line: a message from its first word on, or (a bare line, or one that
 * starts oddly) behind a prefix the line reader did not know: the opaque prefix learnt from an
 * earlier line, else the OOM messages' fixed words anywhere. A prefix found here makes the line
 * a message of its own (not a continuation) and may give it a time.
 */
static enum kind recognise(struct oomlog *p, struct oomlog_line *l, struct span *t,
                           enum kind kind)
{
    if (kind == K_HEADER) {
        /* found anywhere in the line: the comm may have a prefix before it */
        size_t at;
        if (oomline_find(*t, &at) == K_HEADER && at)
            strip_prefix(p, l, t, at);
        return kind;
    }
    if (kind != K_NONE || !t->n || !p->hold_lines || (!l->bare && !odd_start(*t)))
        return kind;
    struct span s = *t;
    if (l->bare && oomline_prefix_strip(&p->prefix, &s)) {
        *t = trim(s);
        l->bare = false;
        kind = oomline_classify(*t);
        if (kind != K_NONE)
            return kind;
    }
    size_t at;
    kind = oomline_find(*t, &at);
    if (kind == K_NONE || !at)
        return kind;
    strip_prefix(p, l, t, at);
    return kind;
}

/*
 * A bare line after a held one: its continuation. When a mailer joined records on one line, only
 * what stands before the next message continues it, and *t is moved to that message. Returns 1
 * when the whole line was taken.
 */
static int continue_held(struct oomlog *p, const struct oomlog_line *line, struct span *t,
                         enum kind kind, struct span *time)
{
    struct span held = {p->held, p->held_len};
    bool marked = oomjoin_marked(held);
    if (!(kind == K_NONE || p->held_kind == K_NONE || marked))
        return 0;
    struct span next = *t;
    size_t at = 0;
    if (kind == K_NONE && !marked) {
        /* the next record's syslog tag, or the next message's words */
        const char *k = find(*t, " kernel: ");
        if (k)
            at = (size_t)(k + 9 - t->p);
        else if (oomline_find(*t, &at) == K_NONE)
            at = 0;
        if (at)
            next = trim((struct span){t->p, k ? (size_t)(k - t->p) : at});
    }
    if (marked && held.p[held.n - 1] == '=' && t->p == line->text.p) {
        /* quoted-printable: the continuation's first blank is text */
        next.p -= line->lead;
        next.n += line->lead;
    }
    bool joined;
    bool lead = line->lead || t->p > line->text.p;
    int r = oomlog_try_join(p, next, kind, lead, &joined);
    if (r < 0 || !joined)
        return r;
    if (!at)
        return 1;
    logline_prefix_time((struct span){t->p, at}, time);
    t->p += at;
    t->n -= at;
    return 0;
}

int oomlog_feed_line(struct oomlog *p, const struct oomlog_line *line)
{
    struct span t = trim(line->text);
    p->kernel_lines++;
    int r = segment_note(p, line->uptime_us);
    if (r < 0)
        return r;
    enum kind kind = line->dashless ? oomline_classify_start(t) : oomline_classify(t);
    int q = kind == K_NONE ? quiet(p, line, t) : 0;
    if (q)
        return q == 2 ? oomlog_hold(p, line, t, K_NONE) : 0;
    /* a copy only for the lines whose prefix is looked into (copying each cost 5%) */
    struct oomlog_line copy;
    const struct oomlog_line *l = line;
    if (p->held_len && line->bare && t.n) {
        struct span before = t, time = {line->text.p, 0};
        if ((r = continue_held(p, line, &t, kind, &time)) != 0)
            return r < 0 ? r : 0;
        if (t.p != before.p) {
            /* a record of its own after the continuation */
            copy = *line;
            copy.time = time;
            copy.bare = false;
            l = &copy;
            kind = oomline_classify(t);
        }
    }
    if (kind == K_HEADER || (kind == K_NONE && t.n && p->hold_lines &&
                             (l->bare || odd_start(t)))) {
        if (l != &copy)
            copy = *line;
        kind = recognise(p, &copy, &t, kind);
        l = &copy;
    }
    if ((r = oomlog_flush_held(p)) < 0)
        return r;
    if (p->hold_lines && t.n &&
        (kind != K_NONE || may_begin_message(t) || oomjoin_marked(t)))
        return oomlog_hold(p, l, t, kind);
    return oomlog_process(p, l, t, kind);
}

static void note_elision(struct oomlog *p)
{
    p->segment++;
    struct oom_event *e = oomlog_current(p);
    if (e)
        e->elided = true;
}

static int feed_kmsg(struct oomlog *p, const struct kmsg_record *rec);
static int feed_record(struct oomlog *p, const struct oomlog_line *stamps, const char *text,
                       size_t n);

/* journalctl's "[57B blob data]", "[1.2K blob data]" (systemd's FORMAT_BYTES): a message it
 * does not show */
static bool blob_data(struct span t)
{
    static const char tail[] = " blob data]";
    size_t n = sizeof(tail) - 1;
    if (t.n < n + 3 || t.n > n + 12 || t.p[0] != '[' || memcmp(t.p + t.n - n, tail, n) != 0)
        return false;
    for (size_t i = 1; i < t.n - n; i++)
        if (!((t.p[i] >= '0' && t.p[i] <= '9') || (t.p[i] && strchr(".BKMG", t.p[i]))))
            return false;
    return true;
}

/* the text's width so far (oomjoin's hint), after the line is read */
static void note_width(struct oomlog *p, size_t len)
{
    if (len > p->widest) {
        p->widest = len;
        p->widest_lines = 0;
    }
    p->widest_lines += len == p->widest;
}

static int feed_text(struct oomlog *p, const char *line, size_t len, bool dashless)
{
    struct logline ll;
    p->lines++;
    logline_parse(&p->ctx, line, len, &ll);
    if (ll.elision) {
        int r = oomlog_flush_held(p);
        note_elision(p);
        return r;
    }
    p->user_lines += ll.source == LOGLINE_USER;
    int u = oomlog_user_text(p, &ll);
    if (u != 0 || ll.source == LOGLINE_USER)
        return u < 0 ? u : 0;
    p->hold_lines = true;
    if (ll.kmsg) {
        struct kmsg_record rec = {
            .facility = KMSG_FACILITY_KERN,
            .seq = ll.kmsg_seq,
            .usec = ll.uptime_us,
            .text = ll.text,
            .caller_tid = ll.caller_tid,
        };
        return feed_kmsg(p, &rec);
    }
    p->kmsg_seq_known = false;
    if (blob_data(ll.text))
        p->hidden_messages++;
    /* the last command shown is the one whose output follows */
    if (ll.source == LOGLINE_BARE && memchr(ll.text.p, '|', ll.text.n) &&
        logline_grep_command(ll.text, p->grep_pattern, sizeof(p->grep_pattern), &p->grep_icase))
        p->grep_filter = true;
    struct oomlog_line l = {
        .uptime_us = ll.uptime_us,
        .bare = ll.source == LOGLINE_BARE,
        .caller_tid = ll.caller_tid,
        .dashless = dashless,
    };
    /* word by word: logline_parse has just stored them so, and a load of both halves at once
     * would wait for those stores to land (a stall on every line) */
    l.time.p = ll.time.p;
    l.time.n = ll.time.n;
    if (!l.time.n && p->rec_time.n)
        l.time = p->rec_time; /* a log store's record: its own time (oomlog-record.c) */
    l.text.p = ll.text.p;
    l.text.n = ll.text.n;
    while (l.bare && l.lead < 8 && l.text.p - l.lead > line &&
           (l.text.p[-1 - (int)l.lead] == ' ' || l.text.p[-1 - (int)l.lead] == '\t'))
        l.lead++;
    l.width = len;
    int r = oomlog_feed_line(p, &l);
    note_width(p, len);
    return r;
}

static int feed_kmsg(struct oomlog *p, const struct kmsg_record *rec)
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
    struct oomlog_line l = {
        .uptime_us = rec->usec,
        .kmsg_next = next,
        .caller_tid = rec->caller_tid,
    };
    return feed_record(p, &l, p->unescape, n);
}

/* One record of the kernel's that may hold several lines (5.3-6.4 memcg stats, Mem-Info): each
 * line fed with the record's stamps (`l` without its text) */
static int feed_record(struct oomlog *p, const struct oomlog_line *stamps, const char *text,
                       size_t n)
{
    const char *s = text, *end = text + n;
    while (s <= end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        struct oomlog_line l = *stamps;
        l.text = (struct span){s, (size_t)(le - s)};
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

/* A journal entry (journalctl -o json, export): the kernel's records are read as /dev/kmsg's
 * are, with journald's copy of printk's stamp and the entry's wall-clock time; the others are
 * userspace's. */
static int feed_journal(struct oomlog *p, const struct journal_entry *e)
{
    p->lines++;
    p->kmsg_seq_known = false;
    if (!e->kernel)
        return oomlog_user_journal(p, e);
    if (!e->has_message) {
        p->hidden_messages += e->message_hidden;
        return 0;
    }
    char time[OOMLOG_TIME_MAX];
    journal_format_time(e, time, sizeof(time));
    struct oomlog_line l = {
        .uptime_us = e->source_monotonic_us,
        .time = {time, strlen(time)},
        .caller_tid = -1,
    };
    return feed_record(p, &l, e->message, e->message_len);
}

/* streaming: the settled events out, now and then (each try walks the events kept) */
static int drain_some(struct oomlog *p, int r)
{
    if (r < 0 || !p->emit || p->nevents < p->drain_at || p->nevents < 2 * OOMLOG_SETTLE_BEHIND)
        return r;
    return oomlog_drain(p, false);
}

/* The line as logline_fold_paste leaves it (in p->folded), or as it is; NULL when out of memory */
static const char *fold_paste(struct oomlog *p, const char *line, size_t *len)
{
    if (*len > p->folded_cap) {
        char *b = realloc(p->folded, *len);
        if (!b)
            return NULL;
        p->folded = b;
        p->folded_cap = *len;
    }
    size_t n = logline_fold_paste(line, *len, p->folded);
    if (!n)
        return line;
    *len = n;
    return p->folded;
}

static int skim(struct oomlog *p, const char *line, size_t len, bool dash);

/*
 * One line of text, or each of the lines written into it as escapes (logline_escaped_break),
 * folded (logline_fold_paste) when it has bytes >= 0x80 or an ESC. dash: whether a '-' stands in
 * the line (-1: not known, the line-by-line path, which does not skim).
 */
static int feed_piece(struct oomlog *p, const char *line, size_t len, bool high, int dash)
{
    if (high && !(line = fold_paste(p, line, &len)))
        return -ENOMEM;
    int r = dash < 0 ? 0 : skim(p, line, len, dash);
    if (r == 0)
        r = drain_some(p, feed_text(p, line, len, dash == 0));
    return r;
}

static int feed_pieces(struct oomlog *p, const char *line, size_t len, bool high, bool slash,
                       int dash)
{
    size_t skip, at = slash ? logline_escaped_break(line, len, &skip) : len;
    if (at == len)
        return feed_piece(p, line, len, high, dash);
    for (;;) {
        int r = feed_piece(p, line, at, high, dash < 0 ? -1 : memchr(line, '-', at) != NULL);
        if (r < 0 || at == len)
            return r;
        line += at + skip;
        len -= at + skip;
        at = logline_escaped_break(line, len, &skip);
    }
}

int oomlog_feed_text(struct oomlog *p, const char *line, size_t len)
{
    if (oomrec_open(p) || oomrec_maybe(line, len)) {
        int r = oomrec_line(p, line, len);
        if (r)
            return r < 0 ? r : 0;
    }
    return oomlog_feed_text_raw(p, line, len);
}

int oomlog_feed_text_raw(struct oomlog *p, const char *line, size_t len)
{
    bool high = false, slash = false;
    for (size_t i = 0; i < len; i++) {
        high |= (unsigned char)line[i] >= 0x80 || line[i] == 0x1b;
        slash |= line[i] == '\\' || line[i] == '\r';
    }
    return feed_pieces(p, line, len, high, slash, -1);
}

/* The end of the line at p (its '\n', or end), and whether a '-' stands in it, a byte >= 0x80 or
 * an ESC (*high: logline_fold_paste has work), a backslash or a CR (*slash: a line written into
 * this one may be, logline_escaped_break):
 * sixteen bytes at a time where the machine has the instructions (a call to memchr per line costs
 * more than the scan) */
static const char *line_end(const char *p, const char *end, bool *dash, bool *high, bool *slash)
{
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), minus = _mm_set1_epi8('-'), bs = _mm_set1_epi8('\\');
    const __m128i esc = _mm_set1_epi8(0x1b), cr = _mm_set1_epi8('\r');
    int dashes = 0, highs = 0, slashes = 0;
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        int m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
        int d = _mm_movemask_epi8(_mm_cmpeq_epi8(v, minus));
        /* bytes >= 0x80, ESC */
        int h = _mm_movemask_epi8(v) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, esc));
        int b = _mm_movemask_epi8(_mm_cmpeq_epi8(v, bs)) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, cr));
        if (m) {
            unsigned at = (unsigned)__builtin_ctz((unsigned)m);
            int before = (int)((1u << at) - 1);
            *dash = dashes || (d & before);
            *high = highs || (h & before);
            *slash = slashes || (b & before);
            return p + at;
        }
        dashes |= d;
        highs |= h;
        slashes |= b;
        p += 16;
    }
    const char *q = p;
    bool hi = highs != 0, sl = slashes != 0;
    while (q < end && *q != '\n') {
        hi |= (unsigned char)*q >= 0x80 || *q == 0x1b;
        sl |= *q == '\\' || *q == '\r';
        q++;
    }
    *dash = dashes || memchr(p, '-', (size_t)(q - p));
    *high = hi;
    *slash = sl;
    return q;
#else
    const char *q = memchr(p, '\n', (size_t)(end - p));
    if (!q)
        q = end;
    *dash = memchr(p, '-', (size_t)(q - p)) != NULL;
    *high = *slash = false;
    for (const char *c = p; c < q; c++) {
        *high |= (unsigned char)*c >= 0x80 || *c == 0x1b;
        *slash |= *c == '\\' || *c == '\r';
    }
    return q;
#endif
}

/*
 * A plain kernel line (logline_plain) that is no message and gives nothing to anything: what
 * feed_text and oomlog_feed_line would do with it, without their general steps. Returns 1 when
 * the line is read, 0 when the whole path has to read it (nothing was changed), or a negative
 * errno.
 */
static int skim(struct oomlog *p, const char *line, size_t len, bool dash)
{
    struct logline_plain pl;
    if (!logline_plain(line, len, &pl))
        return 0;
    struct span t = trim(pl.text);
    if ((dash ? oomline_classify(t) : oomline_classify_start(t)) != K_NONE)
        return 0;
    struct oomlog_line l = {
        .time = pl.time,
        .uptime_us = pl.uptime_us,
        .text = pl.text,
        .caller_tid = -1,
        .dashless = !dash,
        .width = len,
    };
    /* (as feed_text sets it for every kernel line, before quiet() looks at it) */
    p->hold_lines = true;
    int q = quiet(p, &l, t);
    if (!q)
        return 0;
    p->lines++;
    p->kernel_lines++;
    p->ctx.last = LOGLINE_KERNEL;
    p->ctx.last_kmsg = false;
    p->kmsg_seq_known = false;
    int r = segment_note(p, pl.uptime_us);
    if (r == 0 && q == 2)
        r = oomlog_hold(p, &l, t, K_NONE);
    note_width(p, len);
    return r < 0 ? r : 1;
}

int oomlog_feed_lines(struct oomlog *p, const char *buf, size_t len, uint64_t *ret_lines)
{
    const char *s = buf, *end = buf + len;
    uint64_t n = 0;
    int r = 0;
    while (s < end) {
        bool dash, high, slash;
        const char *le = line_end(s, end, &dash, &high, &slash);
        n++;
        if ((oomrec_open(p) || oomrec_maybe(s, (size_t)(le - s))) &&
            (r = oomrec_line(p, s, (size_t)(le - s))) != 0) {
            if (r < 0)
                break;
            r = 0;
        } else if (!high && !slash) {
            r = skim(p, s, (size_t)(le - s), dash);
            if (r == 0)
                r = drain_some(p, feed_text(p, s, (size_t)(le - s), !dash));
        } else {
            r = feed_pieces(p, s, (size_t)(le - s), high, slash, dash);
        }
        if (r < 0)
            break;
        s = le < end ? le + 1 : end;
    }
    *ret_lines = n;
    return r;
}

int oomlog_feed_kmsg(struct oomlog *p, const struct kmsg_record *rec)
{
    return drain_some(p, feed_kmsg(p, rec));
}

int oomlog_feed_journal(struct oomlog *p, const struct journal_entry *e)
{
    return drain_some(p, feed_journal(p, e));
}

int oomlog_end_source(struct oomlog *p)
{
    int r = oomrec_end(p);
    if (r == 0)
        r = oomlog_flush_held(p);
    struct oom_event *e = oomlog_current(p);
    if (e)
        oomlog_close_event(p, e);
    p->open = false;
    /* what needs the rest of this input: the reaper lines it would show */
    for (size_t i = p->source_first; i < p->nevents; i++)
        oomlog_infer_reaped(p, &p->events[i]);
    p->source_first = p->nevents;
    memset(&p->ctx, 0, sizeof(p->ctx));
    p->grep_filter = false;
    p->sysrq_meminfo = false;
    p->suppressed_pending = 0;
    p->kmsg_seq_known = false;
    p->last_uptime = OPT_ABSENT;
    p->widest = p->widest_lines = 0;
    p->segment++;
    return r;
}

int oomlog_finish(struct oomlog *p)
{
    int r = oomlog_end_source(p);
    if (p->emit) {
        int q = oomlog_drain(p, true);
        return r < 0 ? r : q;
    }
    size_t out = 0;
    for (size_t i = 0; i < p->nevents; i++) {
        struct oom_event *ev = &p->events[i];
        bool keep = oom_event_reportable(ev);
        for (size_t j = out; keep && j-- > 0 && out - j <= 16;)
            if (oom_event_duplicate(&p->events[j], ev))
                keep = false;
        if (!keep) {
            oom_event_release(ev);
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
    oomlog_user_reset(p);
}

void oomlog_release(struct oomlog *p)
{
    for (size_t i = 0; i < p->nevents; i++)
        oom_event_release(&p->events[i]);
    free(p->events);
    free(p->held);
    free(p->join);
    free(p->unpad);
    free(p->folded);
    free(p->segment_max);
    free(p->unescape);
    oomrec_release(p);
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
