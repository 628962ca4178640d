#include "logline.h"

#include <string.h>

#include "base/opt.h"
#include "kmsg.h"
#include "logscan.h"

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(int c)
{
    return c == ' ' || c == '\t';
}

/* "HH:MM:SS" (hours may have one digit); returns its length or 0 */
static size_t clock_len(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && is_digit(*q))
        q++;
    else
        return 0;
    if (q < end && is_digit(*q))
        q++;
    for (int i = 0; i < 2; i++) {
        if (end - q < 3 || q[0] != ':' || !is_digit(q[1]) || !is_digit(q[2]))
            return 0;
        q += 3;
    }
    return (size_t)(q - p);
}

/* How many of the eight bytes, from the first, are decimal digits. */
static inline unsigned digits8(uint64_t v)
{
    /* a byte is a digit when its high nibble is 3 and its low one at most 9 (no byte carries
     * into the next: 0x0f + 0x06 stays in its byte) */
    uint64_t bad = ((v & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull) |
                   (((v & 0x0f0f0f0f0f0f0f0full) + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull);
    return bad ? (unsigned)__builtin_ctzll(bad) / 8 : 8;
}

/* The value of the first n (1..8) bytes, all digits. */
static inline uint64_t value8(uint64_t v, unsigned n)
{
    /* only the first n bytes are digits: no borrow reaches them from the bytes after */
    v -= 0x3030303030303030ull;
    if (n < 8)
        v <<= 8 * (8 - n); /* the digits last, zeros before them: 8 digits with leading zeros */
    v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffull;
    v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffull;
    return (v * 10000 + (v >> 32)) & 0xffffffffull;
}

static const uint64_t frac_scale[] = {1, 100000, 10000, 1000, 100, 10, 1, 10, 100, 1000};

/* "[ 5864.708440]": the seconds.fraction stamp of dmesg; returns its length or 0 */
/* journalctl -o short-delta: "[  109.978501 <    0.017306 >]", the first line of a boot
 * "[    0.000000                ]": past the delta to the ']' */
static const char *after_delta(const char *q, const char *end)
{
    const char *r = q;
    while (r < end && *r == ' ' && r - q < 24)
        r++;
    if (r > q && r < end && *r == '<') {
        const char *g = r + 1;
        while (g < end && (*g == ' ' || *g == '.' || is_digit(*g)) && g - r < 24)
            g++;
        if (g >= end || *g != '>')
            return q;
        r = g + 1;
        while (r < end && *r == ' ' && r - g < 4)
            r++;
    }
    return r < end && *r == ']' ? r : q;
}

static size_t uptime_stamp(const char *p, const char *end, uint64_t *us)
{
    if (p >= end || *p != '[')
        return 0;
    const char *q = p + 1;
    if (end - q >= 8) {
        /* dmesg pads the seconds to five places: the spaces counted at once, not one by one
         * (a loop whose length varies from line to line is a branch mispredicted on most) */
        uint64_t x = logscan_load8(q) ^ (LOGSCAN_ONES * ' ');
        q += x ? (unsigned)__builtin_ctzll(x) / 8 : 8;
    }
    while (q < end && *q == ' ')
        q++;
    if (end - q >= 16) {
        /* one stamp on each line of a big log: up to 7 digits on either side of the point are
         * read 8 bytes at a time */
        uint64_t v = logscan_load8(q);
        unsigned ns = digits8(v);
        if (ns == 0)
            return 0;
        if (ns < 8 && q[ns] == '.') {
            const char *f = q + ns + 1;
            uint64_t w = logscan_load8(f);
            unsigned nf = digits8(w);
            if (nf < 8 && !(nf && f[nf] == ' ')) {
                if (nf == 0 || f[nf] != ']')
                    return 0;
                uint64_t frac = value8(w, nf);
                frac = nf <= 6 ? frac * frac_scale[nf] : frac / frac_scale[nf];
                *us = value8(v, ns) * 1000000 + frac;
                return (size_t)(f + nf + 1 - p);
            }
        }
    }
    const char *s = q;
    uint64_t sec = 0;
    unsigned d;
    while (q < end && (d = (unsigned)(*q - '0')) < 10) {
        sec = sec * 10 + d;
        q++;
    }
    if (q == s || q - s > 11 || q >= end || *q != '.')
        return 0;
    const char *f = ++q;
    uint64_t frac = 0;
    while (q < end && (d = (unsigned)(*q - '0')) < 10) {
        frac = frac * 10 + d;
        q++;
    }
    size_t nf = (size_t)(q - f);
    if (nf == 0 || nf > 9)
        return 0;
    q = after_delta(q, end);
    if (q >= end || *q != ']')
        return 0;
    frac = nf <= 6 ? frac * frac_scale[nf] : frac / frac_scale[nf];
    *us = sec * 1000000 + frac;
    return (size_t)(q + 1 - p);
}

/* "[ T9185]" / "[  C3]": the printk caller id that follows the stamp with CONFIG_PRINTK_CALLER */
static size_t caller_stamp(const char *p, const char *end, int64_t *tid)
{
    const char *q = p;
    if (q >= end || *q != '[')
        return 0;
    q++;
    while (q < end && *q == ' ')
        q++;
    if (q >= end || (*q != 'T' && *q != 'C'))
        return 0;
    bool task = *q == 'T';
    q++;
    const char *d = q;
    int64_t v = 0;
    while (q < end && is_digit(*q) && q - d < 10)
        v = v * 10 + (*q++ - '0');
    if (q == d || q >= end || *q != ']')
        return 0;
    if (task)
        *tid = v;
    return (size_t)(q + 1 - p);
}

/* What a dmesg -T bracket [from, close) must hold: a clock time HH:MM:SS (hours may have one
 * digit) and a space, and no '['. One pass: a clock is recognised at its first ':'. */
static bool human_bracket(const char *from, const char *close)
{
    bool clock = false, space = false;
    for (const char *q = from; q < close; q++) {
        char c = *q;
        if (c == ' ')
            space = true;
        else if (c == '[')
            return false;
        else if (c == ':' && !clock && q > from && is_digit(q[-1]) && close - q >= 6 &&
                 is_digit(q[1]) && is_digit(q[2]) && q[3] == ':' && is_digit(q[4]) &&
                 is_digit(q[5]))
            clock = true;
    }
    return clock && space;
}

/* dmesg -T: "[Thu May 14 23:17:24 2020]" in whatever locale; the bracket holds a clock time */
static size_t human_stamp(const char *p, const char *end, struct span *time)
{
    if (p >= end || *p != '[')
        return 0;
    const char *close = memchr(p, ']', (size_t)(end - p) < 80 ? (size_t)(end - p) : 80);
    if (!close || close - p < 10 || !human_bracket(p + 1, close))
        return 0;
    struct span s = span_trim((struct span){p + 1, (size_t)(close - p - 1)});
    *time = s;
    return (size_t)(close + 1 - p);
}

/* BSD syslog / journalctl short: "Jan  5 15:19:27" or "Jul 13 11:45:20.123456" */
static size_t bsd_time(const char *p, const char *end)
{
    const char *q = p;
    size_t m = 0;
    /* the month: letters, in any locale (bytes of a UTF-8 name count as letters) */
    while (q < end && (is_alpha(*q) || (unsigned char)*q >= 0x80) && m < 12) {
        q++;
        m++;
    }
    if (m < 3 || q >= end || *q != ' ')
        return 0;
    q++;
    if (q < end && *q == ' ')
        q++;
    const char *d = q;
    while (q < end && is_digit(*q) && q - d < 2)
        q++;
    if (q == d || q >= end || *q != ' ')
        return 0;
    q++;
    size_t cl = clock_len(q, end);
    if (cl < 7)
        return 0;
    q += cl;
    if (q < end && (*q == '.' || *q == ',')) {
        const char *f = ++q;
        while (q < end && is_digit(*q))
            q++;
        if (q == f)
            return 0;
    }
    if (q >= end || *q != ' ')
        return 0;
    return (size_t)(q - p);
}

/* ISO 8601: "2022-07-13T11:45:20+0300", "2020-05-14 23:17:24.123", "...,123456+02:00" */
static size_t iso_time(const char *p, const char *end, bool *comma)
{
    const char *q = p;
    *comma = false;
    if (end - q < 19)
        return 0;
    for (int i = 0; i < 10; i++) {
        bool want_dash = i == 4 || i == 7;
        if (want_dash ? q[i] != '-' : !is_digit(q[i]))
            return 0;
    }
    if (q[10] != 'T' && q[10] != ' ')
        return 0;
    q += 11;
    size_t cl = clock_len(q, end);
    if (cl != 8)
        return 0;
    q += cl;
    if (q < end && (*q == '.' || *q == ',')) {
        *comma = *q == ',';
        const char *f = ++q;
        while (q < end && is_digit(*q))
            q++;
        if (q == f)
            return 0;
    }
    if (q < end && *q == 'Z')
        q++;
    else if (q < end && (*q == '+' || *q == '-')) {
        q++;
        const char *z = q;
        while (q < end && (is_digit(*q) || *q == ':') && q - z < 5)
            q++;
        if (q - z < 2)
            return 0;
    }
    if (q >= end || *q != ' ')
        return 0;
    return (size_t)(q - p);
}

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

/* "kern  :warn  : " (dmesg -x) */
static size_t dmesg_decode_prefix(const char *p, const char *end, bool *kernel)
{
    const char *q = p;
    const char *w = q;
    while (q < end && (is_alpha(*q) || is_digit(*q)))
        q++;
    if (q == w || q - w > 8)
        return 0;
    bool kern = q - w == 4 && memcmp(w, "kern", 4) == 0;
    while (q < end && *q == ' ')
        q++;
    if (q >= end || *q != ':')
        return 0;
    q++;
    w = q;
    while (q < end && is_alpha(*q))
        q++;
    if (q == w || q - w > 6)
        return 0;
    while (q < end && *q == ' ')
        q++;
    if (q >= end || *q != ':')
        return 0;
    q++;
    if (q < end && *q == ' ')
        q++;
    *kernel = kern;
    return (size_t)(q - p);
}

/* Vendor tags after the uptime stamp: CONFIG_PRINTK_CALLER "[ T9185]" / "[C3]", Android and
 * MediaTek "(3)[1234:kworker/3:1]", "[1234:kworker]" (pid:comm of the printing task). At most
 * a few, each a bracket or parenthesis of its own shape; returns the bytes they take. */
static size_t vendor_tags(const char *p, const char *end, int64_t *tid)
{
    const char *q = p;
    if (q + 1 < end && q[0] == ' ' && q[1] != ' ' && q[1] != '[' && q[1] != '(')
        return 0; /* the common case: the message itself */
    for (int i = 0; i < 3 && q < end; i++) {
        const char *s = q;
        while (s < end && *s == ' ' && s - q < 2)
            s++;
        size_t n = caller_stamp(s, end, tid);
        if (!n && s < end && (*s == '(' || *s == '[')) {
            char close = *s == '(' ? ')' : ']';
            const char *d = s + 1;
            while (d < end && *d == ' ')
                d++;
            const char *digits = d;
            while (d < end && is_digit(*d))
                d++;
            if (d > digits && d < end && *d == ')' && close == ')')
                n = (size_t)(d + 1 - s); /* "(3)"; "[  10]" is a task-table row */
            else if (d > digits && d < end && *d == ':' && close == ']') {
                const char *c = memchr(d, ']', (size_t)(end - d) < 40 ? (size_t)(end - d) : 40);
                n = c ? (size_t)(c + 1 - s) : 0; /* "[1234:kworker/3:1]" */
            }
        }
        if (!n)
            break;
        q = s + n;
    }
    return (size_t)(q - p);
}

/* "[ 5864.708440]" and what may follow it (caller ids, vendor tags, one space); returns the
 * bytes taken, 0 when p is not at such a stamp */
static size_t stamp_and_tags(const char *p, const char *end, uint64_t *us, int64_t *tid)
{
    size_t n = uptime_stamp(p, end, us);
    if (!n)
        return 0;
    const char *q = p + n;
    q += vendor_tags(q, end, tid);
    if (q < end && *q == ' ')
        q++;
    return (size_t)(q - p);
}

/* dmesg -T whose opening '[' was lost in a copy: "Thu May 14 23:17:24 2020] text" */
static size_t human_stamp_unbracketed(const char *p, const char *end, struct span *time)
{
    const char *close = memchr(p, ']', (size_t)(end - p) < 48 ? (size_t)(end - p) : 48);
    if (!close || close - p < 10 || close + 1 >= end || close[1] != ' ' || !is_alpha(*p) ||
        !human_bracket(p, close))
        return 0;
    *time = span_trim((struct span){p, (size_t)(close - p)});
    return (size_t)(close + 2 - p);
}

/* journalctl -o short-full and with-unit, and -o verbose's entry headers: "Mon 2026-12-07
 * 07:03:17[.406215] UTC" (the weekday as the locale names it, the zone's abbreviation or
 * offset). Returns its length, 0 when p is not at one. */
static size_t weekday_iso_time(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && (is_alpha(*q) || (unsigned char)*q >= 0x80 || *q == '.') && q - p < 16)
        q++;
    if (q == p || q >= end || *q != ' ')
        return 0;
    q++;
    bool comma;
    size_t n = iso_time(q, end, &comma);
    if (!n || comma || q[10] != ' ')
        return 0;
    q += n;
    const char *z = q + 1, *ze = z;
    while (ze < end && ((*ze >= 'A' && *ze <= 'Z') || is_digit(*ze) || *ze == '+' || *ze == '-') &&
           ze - z < 6)
        ze++;
    if (ze > z && ze < end && *ze == ' ')
        q = ze;
    return (size_t)(q - p);
}

/* journalctl -o short-unix: "1796626997.429044" (seconds since the epoch, microseconds) */
static size_t unix_time(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && is_digit(*q))
        q++;
    if (q - p < 9 || q - p > 12 || q >= end || *q != '.')
        return 0;
    const char *f = ++q;
    while (q < end && is_digit(*q))
        q++;
    if (q - f != 6 || q >= end || *q != ' ')
        return 0;
    return (size_t)(q - p);
}

/* A syslog, journal or ISO wall-clock stamp and what follows it: the tag, or (netconsole
 * receivers, syslog without a tag) a dmesg stamp a few words on. Returns bytes taken. */
static size_t wall_prefix(const char *p, const char *end, struct logline *r)
{
    bool comma = false;
    size_t n = is_digit(*p) ? iso_time(p, end, &comma) : bsd_time(p, end);
    if (!n)
        n = is_digit(*p) ? unix_time(p, end) : weekday_iso_time(p, end);
    if (!n)
        return 0;
    r->time = (struct span){p, n};
    const char *q = p + n + 1;
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
    /* "192.0.2.10:6666 [  512.000001] text", "host kern.warn kernel: text" */
    const char *lim = end - q > 64 ? q + 64 : end;
    for (const char *b = q; b < lim; b++) {
        uint64_t us;
        if (*b == '[' && (b == q || b[-1] == ' ') && uptime_stamp(b, end, &us))
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
    size_t tn = *q == '-' ? 1 : iso_time(q, end, &comma);
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
        size_t n = dmesg_decode_prefix(p, end, &kern);
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
        if (!n && is_alpha(*p) && (n = human_stamp_unbracketed(p, end, &r->time)))
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
    size_t n = stamp_and_tags(p, end, &us, &r->caller_tid);
    if (n) {
        r->uptime_us = us;
        p += n;
        r->source = LOGLINE_KERNEL;
        p = after_monotonic_host(p, end);
    } else if ((n = human_stamp(p, end, &r->time)) != 0) {
        p += n;
        if (p < end && *p == ' ')
            p++;
        r->source = LOGLINE_KERNEL;
    } else if ((n = caller_stamp(p, end, &r->caller_tid)) != 0) {
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
        if (b > p && b[-1] != ' ' && b[-1] != ':' && b[-1] != '\t' && b[-1] != '>')
            continue;
        uint64_t us;
        size_t n = stamp_and_tags(b, end, &us, &r->caller_tid);
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

void logline_prefix_time(struct span prefix, struct span *time)
{
    const char *p = prefix.p, *end = prefix.p + prefix.n;
    for (const char *q = p; q < end; q++) {
        if (q > p && q[-1] != ' ' && q[-1] != ':' && q[-1] != '|' && q[-1] != '\t')
            continue;
        bool comma;
        size_t n = is_digit(*q) ? iso_time(q, end, &comma) : is_alpha(*q) ? bsd_time(q, end) : 0;
        if (n) {
            *time = (struct span){q, n};
            return;
        }
    }
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
    size_t n = stamp_and_tags(p, end, &us, &r->caller_tid);
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
    size_t n = uptime_stamp(p, end, &r->uptime_us);
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
        if (!(n = human_stamp(p, end, &r->time)))
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
