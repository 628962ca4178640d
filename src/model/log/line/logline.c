#include "logline-int.h"

#include <string.h>

#include "base/opt.h"
#include "model/log/kmsg.h"
#include "model/log/logscan.h"

/* A syslog tag token "kernel:", "sshd[123]:", "/usr/bin/lock:"; its name without "[pid]:" */
static bool tag_token(const char *p, const char *tokend, struct span *name)
{
    if (tokend - p < 2 || tokend[-1] != ':')
        return false;
    const char *e = tokend - 1;
    if (e > p && e[-1] == ']') {
        const char *b = e - 1;
        while (b > p && *b != '[')
            b--;
        if (*b == '[')
            e = b;
    }
    if (e == p)
        return false;
    *name = (struct span){p, (size_t)(e - p)};
    return true;
}

static const char *token_end(const char *p, const char *end)
{
    while (p < end && !is_blank(*p))
        p++;
    return p;
}

/* After a syslog time: "[host] tag: ". Returns bytes consumed (through the space after the
 * tag), 0 when there is no tag. */
static size_t syslog_tag(const char *p, const char *end, struct span *name)
{
    const char *t1 = p, *e1 = token_end(t1, end);
    if (e1 == t1)
        return 0;
    if (tag_token(t1, e1, name))
        return (size_t)(e1 - p) + (e1 < end);
    if (e1 >= end)
        return 0;
    const char *t2 = e1 + 1, *e2 = token_end(t2, end);
    if (e2 == t2 || !tag_token(t2, e2, name))
        return 0;
    return (size_t)(e2 - p) + (e2 < end);
}

static bool span_is(struct span s, const char *lit)
{
    return span_eq(s, lit);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* bytes an elision marker may hold besides letters, dots and the UTF-8 ellipsis */
static bool marker_punct(unsigned char c)
{
    switch (c) {
    case '[': case ']': case '(': case ')': case '{': case '}': case '<': case '>':
    case '-': case '_': case '=': case '*': case '~': case ' ': case '\t':
        return true;
    default:
        return false;
    }
}

/* <SNIP>, [...], (...snipped...), ......, …, [ cut ], "-- snip --" */
static bool is_elision(struct span s)
{
    if (s.n == 0 || s.n > 48)
        return false;
    char word[16];
    size_t wn = 0;
    int dots = 0;
    bool ellipsis = false;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == 0xe2 && i + 2 < s.n && (unsigned char)s.p[i + 1] == 0x80 &&
            (unsigned char)s.p[i + 2] == 0xa6) {
            ellipsis = true;
            i += 2;
        } else if (c == '.')
            dots++;
        else if (is_alpha(c)) {
            if (wn + 1 >= sizeof(word))
                return false;
            word[wn++] = (char)lower(c);
        } else if (!marker_punct(c))
            return false;
    }
    word[wn] = '\0';
    if (wn == 0)
        return dots >= 3 || ellipsis;
    static const char *const words[] = {"snip", "snipped", "cut", "elided", "skipped",
                                        "omitted", "truncated", "trimmed"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(word, words[i]) == 0)
            return true;
    return false;
}

/* A syslog, journal or ISO wall-clock stamp and what follows it: the tag, or (netconsole
 * receivers, syslog without a tag) a dmesg stamp a few words on. Returns bytes taken. */
/* b is right after a printk level "<N>" that starts a word at or after q */
static bool after_level(const char *q, const char *b)
{
    const char *a = b - 1;
    if (a <= q || *a != '>')
        return false;
    while (a > q && is_digit(a[-1]) && b - a < 4)
        a--;
    return a > q && a < b - 1 && a[-1] == '<' && (a - 1 == q || a[-2] == ' ');
}

static size_t wall_prefix(const char *p, const char *end, struct logline *r)
{
    bool comma = false;
    size_t n = is_digit(*p) ? logline_iso_time(p, end, &comma) : logline_bsd_time(p, end);
    if (!n)
        n = is_digit(*p) ? logline_unix_time(p, end) : logline_weekday_iso_time(p, end);
    if (!n)
        return 0;
    r->time = (struct span){p, n};
    const char *q = p + n + 1;
    size_t y = comma || is_digit(*p) ? 0 : logline_ctime_year(p + n, end);
    const char *c = p + n + y;
    if (y && c < end && *c == ' ')
        c++;
    if (y && c < end && (*c == ']' || *c == ')')) {
        /* dmesg -T that lost its '[' and its weekday: "Mar  4 10:11:12 2024] text" */
        r->time.n += y;
        r->source = LOGLINE_KERNEL;
        return (size_t)(c + 1 - p) + (c + 1 < end && c[1] == ' ');
    }
    if (comma) {
        /* dmesg --time-format=iso: kernel text follows directly */
        r->source = LOGLINE_KERNEL;
        return (size_t)(q - p);
    }
    struct span tag;
    size_t t = syslog_tag(q, end, &tag);
    if (t) {
        q += t;
        if (span_is(tag, "kernel")) {
            r->source = LOGLINE_KERNEL;
        } else {
            r->source = LOGLINE_USER;
            r->program = tag;
        }
        return (size_t)(q - p);
    }
    /* "192.0.2.10:6666 [  512.000001] text", "host kern.warn kernel: text", a hypervisor's log
     * of its guest's console with the printk level ("vcpu-5 - Guest: <6>[39291577.009360] text",
     * VMware's vmware.log) */
    const char *lim = end - q > 64 ? q + 64 : end;
    for (const char *b = q; b < lim; b++) {
        uint64_t us;
        if (*b == '[' && (b == q || b[-1] == ' ' || after_level(q, b)) &&
            logline_uptime_stamp(b, end, &us))
            return (size_t)(b - p);
        if (*b == ' ' && end - b > 9 && memcmp(b, " kernel: ", 9) == 0) {
            r->source = LOGLINE_KERNEL;
            return (size_t)(b + 9 - p);
        }
    }
    return (size_t)(q - p);
}

/* journalctl -o short-monotonic: "[ 12.3] host kernel: text": past the host and the tag when
 * the first word is followed by " kernel: " */
static const char *after_monotonic_host(const char *p, const char *end)
{
    const char *e1 = logscan_byte(p, end - p < 256 ? end : p + 256, ' ');
    /* " kernel: " as a number and a byte: a memcmp call costs more than every other test here */
    static const char word[8] = {' ', 'k', 'e', 'r', 'n', 'e', 'l', ':'};
    if (e1 && end - e1 > 8 && logscan_load8(e1) == logscan_load8(word) && e1[8] == ' ')
        return e1 + 9;
    return p;
}

static bool dmesg_stamp(const char **pp, const char *end, struct logline *r);

/* RFC 5424 syslog after its "<PRI>": "1 2023-12-07T08:00:00.123456+00:00 host app procid msgid
 * [sd...] msg" (rsyslog's RSYSLOG_SyslogProtocol23Format, syslog-ng's syslog() driver, many
 * collectors); any field may be "-". The APP-NAME says whose it is ("kernel" from imklog). Returns
 * the bytes through the space before MSG (and MSG's UTF-8 BOM), 0 when p is not such a header. */
static size_t rfc5424(const char *p, const char *end, struct logline *r)
{
    const char *q = p;
    if (q >= end || *q < '1' || *q > '9')
        return 0;
    while (q < end && is_digit(*q) && q - p < 3)
        q++;
    if (q >= end || *q != ' ')
        return 0;
    q++;
    const char *ts = q;
    bool comma;
    size_t tn = *q == '-' ? 1 : logline_iso_time(q, end, &comma);
    if (!tn || ts + tn >= end || ts[tn] != ' ')
        return 0;
    q = ts + tn + 1;
    struct span words[4]; /* host, app, procid, msgid */
    for (int i = 0; i < 4; i++) {
        const char *w = q, *we = token_end(w, end);
        if (we == w || we >= end)
            return 0;
        words[i] = (struct span){w, (size_t)(we - w)};
        q = we + 1;
    }
    /* STRUCTURED-DATA: "-" or elements "[id k=\"v\" ...]" (a quoted value escapes ']', '"' and
     * '\\' with a backslash) */
    if (q < end && *q == '-') {
        q++;
    } else {
        if (q >= end || *q != '[')
            return 0;
        while (q < end && *q == '[') {
            bool quoted = false;
            for (q++; q < end; q++) {
                if (quoted && *q == '\\' && q + 1 < end)
                    q++;
                else if (*q == '"')
                    quoted = !quoted;
                else if (!quoted && *q == ']')
                    break;
            }
            if (q >= end)
                return 0;
            q++;
        }
    }
    if (q < end && *q != ' ')
        return 0;
    if (q < end)
        q++;
    if (end - q >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0)
        q += 3;
    if (*ts != '-')
        r->time = (struct span){ts, tn};
    if (span_is(words[1], "kernel")) {
        r->source = LOGLINE_KERNEL;
    } else {
        r->source = LOGLINE_USER;
        r->program = words[1];
    }
    return (size_t)(q - p);
}

/* The forms that start the line. Returns whether one was found; moves *pp past it. */
static bool known_prefix(const char **pp, const char *end, struct logline *r)
{
    const char *p = *pp;
    bool prefixed = false;
    /* "<4>" (dmesg -r, some kern.log setups) */
    if (p < end && *p == '<') {
        const char *q = p + 1;
        unsigned prio = 0;
        while (q < end && is_digit(*q) && q - p < 5)
            prio = prio * 10 + (unsigned)(*q++ - '0');
        if (q > p + 1 && q < end && *q == '>') {
            p = q + 1;
            prefixed = true;
            r->source = (prio >> 3) == KMSG_FACILITY_KERN ? LOGLINE_KERNEL : LOGLINE_USER;
            size_t n = rfc5424(p, end, r);
            if (n) {
                p += n;
                /* "kernel" in another facility's record is a program calling itself so */
                if ((prio >> 3) != KMSG_FACILITY_KERN)
                    r->source = LOGLINE_USER;
                if (r->source != LOGLINE_USER && p < end && *p == '[')
                    (void)dmesg_stamp(&p, end, r);
                *pp = p;
                return true;
            }
        }
    }
    /* "kern  :warn  : " */
    if (!prefixed && p < end && is_alpha(*p)) {
        bool kern;
        size_t n = logline_dmesg_decode_prefix(p, end, &kern);
        if (n) {
            p += n;
            prefixed = true;
            r->source = kern ? LOGLINE_KERNEL : LOGLINE_USER;
        }
    }
    /* a bare "kernel: " (a syslog line whose stamp and host were cut away) */
    if (!prefixed && end - p > 8 && memcmp(p, "kernel: ", 8) == 0) {
        p += 8;
        prefixed = true;
        r->source = LOGLINE_KERNEL;
    }
    /* syslog, journal, ISO stamps; dmesg -T without its '[' */
    if (p < end && (is_alpha(*p) || (unsigned char)*p >= 0x80 || is_digit(*p))) {
        size_t n = wall_prefix(p, end, r);
        if (!n && is_alpha(*p) && (n = logline_human_stamp_unbracketed(p, end, &r->time)))
            r->source = LOGLINE_KERNEL;
        if (n) {
            p += n;
            prefixed = true;
        }
    }
    if (r->source != LOGLINE_USER && p < end && *p == '[')
        prefixed |= dmesg_stamp(&p, end, r);
    *pp = p;
    return prefixed;
}

/* "[ 5864.708440] " (with what follows it), "[Thu May 14 23:17:24 2020] ", a caller id alone */
static bool dmesg_stamp(const char **pp, const char *end, struct logline *r)
{
    const char *p = *pp;
    uint64_t us;
    size_t n = logline_stamp_and_tags(p, end, &us, &r->caller_tid);
    if (n) {
        r->uptime_us = us;
        p += n;
        r->source = LOGLINE_KERNEL;
        p = after_monotonic_host(p, end);
    } else if ((n = logline_human_stamp(p, end, &r->time)) != 0 ||
               (n = logline_reltime_stamp(p, end, &r->time)) != 0) {
        p += n;
        if (p < end && *p == ' ')
            p++;
        /* util-linux 2.35+ shows the printk caller after any stamp: "[Mon ...] [ T42] " */
        if ((n = logline_caller_stamp(p, end, &r->caller_tid)) != 0) {
            p += n;
            if (p < end && *p == ' ')
                p++;
        }
        r->source = LOGLINE_KERNEL;
    } else if ((n = logline_caller_stamp(p, end, &r->caller_tid)) != 0) {
        /* printk.time=0 with CONFIG_PRINTK_CALLER: "[T4242] text" */
        p += n;
        if (p < end && *p == ' ')
            p++;
        r->source = LOGLINE_KERNEL;
    } else {
        return false;
    }
    *pp = p;
    return true;
}

/* No prefix this reader knows at the start, but a dmesg stamp further on: what stands before it
 * (a netconsole receiver's address, a tool's own stamp, a file name from grep -H) is an opaque
 * prefix. The stamp must stand alone (start of line, or after a blank or a ':') and be followed
 * by text, so "[ 1.5]" inside a message is not taken for one. */
static bool opaque_prefix(const char **pp, const char *end, struct logline *r)
{
    const char *p = *pp;
    const char *lim = end - p > 160 ? p + 160 : end;
    for (const char *b = p; b < lim && (b = memchr(b, '[', (size_t)(lim - b))) != NULL; b++) {
        if (b > p && b[-1] != ' ' && b[-1] != ':' && b[-1] != '\t' && b[-1] != '>' && b[-1] != '"')
            continue;
        uint64_t us;
        size_t n = logline_stamp_and_tags(b, end, &us, &r->caller_tid);
        if (!n || b + n >= end)
            continue;
        r->uptime_us = us;
        r->source = LOGLINE_KERNEL;
        /* a wall-clock stamp in the opaque part is still the line's time */
        logline_prefix_time((struct span){p, (size_t)(b - p)}, &r->time);
        *pp = b + n;
        return true;
    }
    return false;
}

/* "↪", "↳", "⤷": the marks an editor or a pager puts where it wrapped a line (the line goes on
 * from the one before; what follows is bare text) */
static size_t continuation_mark(const char *p, const char *end)
{
    static const char *const marks[] = {"\xe2\x86\xaa", "\xe2\x86\xb3", "\xe2\xa4\xb7"};
    if (p >= end || (unsigned char)*p != 0xe2)
        return 0;
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (end - p >= 3 && memcmp(p, marks[i], 3) == 0)
            return 3 + (end - p > 3 && p[3] == ' ');
    return 0;
}

static const char *skip_quoting(const char *p, const char *end, bool *indented)
{
    if (p < end && *p != '>' && !is_blank(*p)) {
        *indented = false;
        return p;
    }
    /* mail quoting: "> ", "> > ", ">>", ">  > " (a quote of an indented quote) */
    const char *last = NULL;
    for (const char *q = p; q < end && (*q == '>' || is_blank(*q)); q++)
        if (*q == '>')
            last = q;
    if (last) {
        p = last + 1;
        if (p < end && *p == ' ')
            p++;
    }
    const char *unindented = p;
    while (p < end && is_blank(*p))
        p++;
    *indented = p > unindented;
    return p;
}

/* A raw /dev/kmsg record, or one of its dictionary lines (" SUBSYSTEM=pci"). */
static bool kmsg_line(struct logline_ctx *ctx, const char *p, const char *end, bool indented,
                      struct logline *r)
{
    if (p < end && is_digit(*p)) {
        const char *semi = memchr(p, ';', (size_t)(end - p) < 96 ? (size_t)(end - p) : 96);
        struct kmsg_record rec;
        if (semi && memchr(p, ',', (size_t)(semi - p)) &&
            kmsg_record_parse(p, (size_t)(end - p), &rec) == 0) {
            r->source = rec.facility == KMSG_FACILITY_KERN ? LOGLINE_KERNEL : LOGLINE_USER;
            r->uptime_us = rec.usec;
            r->text = rec.text;
            r->kmsg = true;
            r->kmsg_seq = rec.seq;
            r->caller_tid = rec.caller_tid;
            ctx->last = r->source;
            ctx->last_kmsg = true;
            return true;
        }
    }
    if (indented && ctx->last_kmsg && p < end && *p >= 'A' && *p <= 'Z') {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (eq && (!sp || eq < sp)) {
            r->source = LOGLINE_USER;
            r->text = (struct span){p, (size_t)(end - p)};
            return true;
        }
    }
    ctx->last_kmsg = false;
    return false;
}

/* The text after the prefix, and what the line says about the next ones. */
static void finish(struct logline_ctx *ctx, struct logline *r, const char *p, const char *end,
                   bool prefixed, bool indented)
{
    r->text = (struct span){p, (size_t)(end - p)};
    if (prefixed && r->source == LOGLINE_KERNEL && r->text.n <= 64 && r->text.n &&
        !is_alpha(r->text.p[0]) && is_elision(span_trim(r->text)))
        r->elision = true; /* "[ 12.5] ..." (markers that are words come bare) */
    if (prefixed) {
        if (r->source == LOGLINE_BARE)
            r->source = LOGLINE_KERNEL;
        ctx->last = r->source;
    } else if (indented && ctx->last == LOGLINE_USER) {
        /* a continuation line of a userspace record (journalctl indents them) */
        r->source = LOGLINE_USER;
    }
}

/* The commonest line, "[ 5864.708440] text" from its first byte: what the general path in
 * logline_parse makes of it, without trying the other forms first (false: not this form). */
static bool dmesg_line(struct logline_ctx *ctx, const char *p, const char *end, struct logline *r)
{
    uint64_t us;
    size_t n = logline_stamp_and_tags(p, end, &us, &r->caller_tid);
    if (!n)
        return false;
    ctx->last_kmsg = false;
    r->uptime_us = us;
    r->source = LOGLINE_KERNEL;
    finish(ctx, r, after_monotonic_host(p + n, end), end, true, false);
    return true;
}

bool logline_plain(const char *line, size_t len, struct logline_plain *r)
{
    const char *p = line, *end = line + len;
    if (!len || *p != '[')
        return false;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    const char *t;
    size_t n = logline_uptime_stamp(p, end, &r->uptime_us);
    if (n) {
        /* no vendor tag: a space, then the message (as vendor_tags sees it) */
        t = p + n;
        if (end - t < 2 || t[0] != ' ' || t[1] == ' ' || t[1] == '[' || t[1] == '(')
            return false;
        t++;
        if (after_monotonic_host(t, end) != t)
            return false;
        r->time = (struct span){line, 0};
    } else {
        r->uptime_us = OPT_ABSENT;
        if (!(n = logline_human_stamp(p, end, &r->time)))
            return false;
        t = p + n;
        if (t < end && *t == ' ')
            t++;
    }
    /* a message that starts with a letter, maybe indented (a record's continuation line):
     * nothing else to look into but an elision marker (finish) */
    const char *u = t;
    while (u < end && is_blank(*u))
        u++;
    if (u >= end || !is_alpha(*u))
        return false;
    r->text = (struct span){t, (size_t)(end - t)};
    if (u > t && r->text.n <= 64 && is_elision(span_trim(r->text)))
        return false;
    return true;
}

void logline_parse(struct logline_ctx *ctx, const char *line, size_t len, struct logline *r)
{
    const char *p = line, *end = line + len;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    /* field by field: a compound literal compiles to a `rep stos` that cost a third of this
     * function on a big log */
    r->source = LOGLINE_BARE;
    /* from one value: `a = b = c` stores c and loads it back whole before the store is done,
     * a stall on every line */
    const struct span none = {line, 0};
    r->time = none;
    r->text = none;
    r->program = none;
    r->uptime_us = OPT_ABSENT;
    r->kmsg = r->elision = false;
    r->kmsg_seq = 0;
    r->caller_tid = -1;
    if (p < end && *p == '[' && dmesg_line(ctx, p, end, r))
        return;
    bool indented;
    p = skip_quoting(p, end, &indented);
    p += continuation_mark(p, end);

    /* (a stamped line "[ 12.3] ..." is checked after its stamp) */
    const char *d = p + 1;
    while (d < end && *d == ' ')
        d++;
    bool stamp = p < end && p[0] == '[' && d < end && is_digit(*d);
    if (!stamp && is_elision(span_trim((struct span){p, (size_t)(end - p)}))) {
        r->elision = true;
        r->text = (struct span){p, (size_t)(end - p)};
        return;
    }
    if (kmsg_line(ctx, p, end, indented, r))
        return;
    bool prefixed = known_prefix(&p, end, r);
    if (!prefixed && !indented)
        prefixed = opaque_prefix(&p, end, r);
    finish(ctx, r, p, end, prefixed, indented);
}

static bool regex_meta(char c)
{
    return c && strchr("[]*^$\\+?(){}|", c) != NULL;
}

/* Where the last "| grep" of a pipeline starts, or NULL (not a pipe into grep, or something
 * piped after it). */
static const char *last_grep(struct span text)
{
    const char *hit = NULL;
    struct span rest = text;
    for (;;) {
        const char *h = span_find(rest, "grep");
        if (!h)
            break;
        hit = h;
        rest = (struct span){h + 4, (size_t)(rest.p + rest.n - (h + 4))};
    }
    if (!hit)
        return NULL;
    const char *b = hit;
    if (b > text.p && (b[-1] == 'e' || b[-1] == 'f' || b[-1] == 'z'))
        b--; /* egrep, fgrep, zgrep */
    while (b > text.p && is_blank(b[-1]))
        b--;
    if (b == text.p || b[-1] != '|')
        return NULL;
    const char *p = hit + 4, *end = text.p + text.n;
    while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
        end--;
    if (end <= p || memchr(p, '|', (size_t)(end - p)))
        return NULL;
    if (p < end && !is_blank(*p))
        return NULL; /* egrep/fgrep are fine too, but "grepx" is not grep */
    return hit;
}

bool logline_grep_command(struct span text, char *pattern, size_t cap, bool *icase)
{
    const char *hit = last_grep(text);
    if (!hit)
        return false;
    const char *p = hit + 4, *end = text.p + text.n;
    while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
        end--;
    *icase = false;
    const char *pat = NULL, *pat_end = NULL;
    bool next_is_pattern = false;
    while (p < end) {
        while (p < end && is_blank(*p))
            p++;
        if (p >= end)
            break;
        const char *tok = p;
        char quote = 0;
        if (*p == '\'' || *p == '"') {
            quote = *p++;
            tok = p;
            while (p < end && *p != quote)
                p++;
            if (p >= end)
                return false;
        } else {
            p = token_end(p, end);
        }
        const char *tok_end = p;
        if (quote)
            p++;
        if (!quote && !next_is_pattern && *tok == '-') {
            if (tok_end - tok >= 2 && tok[1] == '-') {
                struct span t = {tok, (size_t)(tok_end - tok)};
                if (span_eq(t, "--ignore-case"))
                    *icase = true;
                else if (!span_eq(t, "--fixed-strings") && !span_eq(t, "--"))
                    return false;
                continue;
            }
            for (const char *o = tok + 1; o < tok_end; o++) {
                if (*o == 'i')
                    *icase = true;
                else if (*o == 'e' && o + 1 == tok_end)
                    next_is_pattern = true;
                else if (*o != 'F' && *o != 'a' && *o != 'h' && *o != 'H' && *o != 's')
                    return false; /* -v, -E, -A 3...: not a plain filter */
            }
            continue;
        }
        if (pat)
            return false; /* file arguments: grep read files, not the pipe */
        pat = tok;
        pat_end = tok_end;
        next_is_pattern = false;
    }
    if (!pat || pat_end == pat || (size_t)(pat_end - pat) >= cap)
        return false;
    for (const char *q = pat; q < pat_end; q++)
        if (regex_meta(*q))
            return false;
    memcpy(pattern, pat, (size_t)(pat_end - pat));
    pattern[pat_end - pat] = '\0';
    return true;
}

/* the length of a wide blank at p (see logline_fold_paste), and in *blank whether it reads as
 * a blank (else as nothing); 0 when there is none */
static size_t wide_blank(const unsigned char *p, const unsigned char *end, bool *blank)
{
    if (p[0] == 0xc2 && end - p >= 2 && p[1] == 0xa0) {
        *blank = true;
        return 2;
    }
    if (end - p < 3)
        return 0;
    if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x87 || p[2] == 0x89 || p[2] == 0xaf)) {
        *blank = true;
        return 3;
    }
    if ((p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x8b) ||
        (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)) {
        *blank = false;
        return 3;
    }
    return 0;
}

/* the length of a CSI escape at p ("\x1b[32m", "\x1b[0;1;31m", "\x1b[K"), 0 when none */
static size_t csi(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 3 || p[0] != 0x1b || p[1] != '[')
        return 0;
    const unsigned char *q = p + 2;
    while (q < end && *q >= 0x20 && *q <= 0x3f) /* parameters and intermediates */
        q++;
    return q < end && *q >= 0x40 && *q <= 0x7e ? (size_t)(q + 1 - p) : 0;
}

size_t logline_fold_paste(const char *line, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)line, *end = p + len;
    size_t o = 0;
    bool any = false;
    while (p < end) {
        bool blank = false;
        size_t n = *p >= 0xc2 ? wide_blank(p, end, &blank) : *p == 0x1b ? csi(p, end) : 0;
        if (n) {
            any = true;
            if (blank)
                out[o++] = ' ';
            p += n;
        } else {
            out[o++] = (char)*p++;
        }
    }
    return any ? o : 0;
}

/* past a run of backslashes at p */
static const char *backslashes(const char *p, const char *end)
{
    while (p < end && *p == '\\')
        p++;
    return p;
}

/* What starts a log record, not a string of a program's source: a dmesg stamp, a printk level,
 * an ISO date, a syslog or journal date ("Jan  5", "Mon 2026-") */
static bool record_start(const char *p, const char *end)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDecMonTueWedThuFriSatSun";
    if (p >= end)
        return false;
    if (*p == '[' || *p == '<')
        return true;
    if (end - p >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
        p[4] == '-')
        return true;
    if (end - p < 4 || p[3] != ' ')
        return false;
    for (size_t i = 0; i + 3 <= sizeof(names) - 1; i += 3)
        if (memcmp(p, names + i, 3) == 0)
            return true;
    return false;
}

static size_t escaped_break(const char *s, size_t n, size_t *len);

size_t logline_escaped_break(const char *s, size_t n, size_t *len)
{
    const char *end = s + n;
    /* a carriage return alone (old Mac line ends, a terminal's progress line overwritten by the
     * console's next record) before a record: a break of one byte */
    for (const char *c = memchr(s, '\r', n); c; c = memchr(c + 1, '\r', (size_t)(end - c - 1))) {
        if (record_start(c + 1, end)) {
            size_t at = (size_t)(c - s), bl;
            /* an escaped break before it comes first */
            size_t e = at ? escaped_break(s, at, &bl) : at;
            if (e < at) {
                *len = bl;
                return e;
            }
            *len = 1;
            return at;
        }
        if (c + 1 >= end)
            break;
    }
    return escaped_break(s, n, len);
}

/* the first "\\n" or "\\r\\n" (see logline_escaped_break) in s[0, n) */
static size_t escaped_break(const char *s, size_t n, size_t *len)
{
    const char *end = s + n;
    for (const char *b = memchr(s, '\\', n); b; b = memchr(b, '\\', (size_t)(end - b))) {
        const char *q = backslashes(b, end);
        if (q < end && *q == 'r') {
            const char *r = backslashes(q + 1, end);
            if (r > q + 1 && r < end && *r == 'n')
                q = r;
        }
        if (q < end && *q == 'n' && record_start(q + 1, end)) {
            *len = (size_t)(q + 1 - b);
            return (size_t)(b - s);
        }
        b = q;
    }
    *len = 0;
    return n;
}
