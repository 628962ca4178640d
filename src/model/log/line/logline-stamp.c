/*
 * The stamps at the start of a log line (logline.c puts them together into its forms): dmesg's
 * uptime "[ 5864.708440]" and what may follow it (printk caller ids, vendor tags), dmesg -T's
 * bracketed clock, dmesg -x's "kern  :warn  : ", and the wall-clock times of syslog (BSD),
 * ISO 8601, journalctl's short-full and short-unix. Pure: each takes [p, end) and returns the
 * bytes it recognised, 0 when p is not at one.
 */
#include "logline-int.h"

#include <string.h>

#include "base/opt.h"
#include "model/log/logscan.h"

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

/* A clock time of at least min_len bytes ("H:MM:SS" is 7) and its fraction, ".123456" or
 * ",123" (*comma: it was a comma). Returns the bytes they take, 0 when there is no such clock
 * or a separator has no digits after it. */
static size_t clock_fraction(const char *p, const char *end, size_t min_len, bool *comma)
{
    size_t cl = clock_len(p, end);
    if (cl < min_len)
        return 0;
    const char *q = p + cl;
    *comma = false;
    if (q < end && (*q == '.' || *q == ',')) {
        *comma = *q == ',';
        const char *f = ++q;
        while (q < end && is_digit(*q))
            q++;
        if (q == f)
            return 0;
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

size_t logline_uptime_stamp(const char *p, const char *end, uint64_t *us)
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
size_t logline_caller_stamp(const char *p, const char *end, int64_t *tid)
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
size_t logline_human_stamp(const char *p, const char *end, struct span *time)
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

/*
 * dmesg -H / -e / --time-format=reltime (util-linux 2.26+): "[Dec 7 10:00]" (in whatever locale:
 * a word, a day, HH:MM) on the first message of a minute, "[  +0.000010]" (seconds since the
 * message before) on the others. The first gives *time (the minute), the second none.
 */
size_t logline_reltime_stamp(const char *p, const char *end, struct span *time)
{
    if (p >= end || *p != '[')
        return 0;
    const char *close = memchr(p, ']', (size_t)(end - p) < 32 ? (size_t)(end - p) : 32);
    if (!close)
        return 0;
    const char *q = p + 1;
    while (q < close && *q == ' ')
        q++;
    if (q < close && *q == '+') {
        const char *d = ++q;
        while (q < close && is_digit(*q))
            q++;
        if (q == d || q >= close || *q++ != '.')
            return 0;
        d = q;
        while (q < close && is_digit(*q))
            q++;
        if (q == d || q != close)
            return 0;
        time->n = 0;
        return (size_t)(close + 1 - p);
    }
    /* "Dec 7 10:00", "Dec17 10:00": a word and a day (with or without a blank), then HH:MM */
    if (close - q < 9 || !is_digit(close[-1]) || !is_digit(close[-2]) || close[-3] != ':' ||
        !is_digit(close[-4]) || !is_digit(close[-5]) || close[-6] != ' ' || !is_digit(close[-7]))
        return 0;
    for (const char *c = q; c < close - 7; c++)
        if (*c == '[' || *c == ':')
            return 0;
    *time = (struct span){q, (size_t)(close - q)};
    return (size_t)(close + 1 - p);
}

/* BSD syslog / journalctl short: "Jan  5 15:19:27" or "Jul 13 11:45:20.123456" */
size_t logline_bsd_time(const char *p, const char *end)
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
    bool comma;
    size_t cl = clock_fraction(q, end, 7, &comma);
    if (!cl)
        return 0;
    q += cl;
    if (q >= end || *q != ' ')
        return 0;
    return (size_t)(q - p);
}

/* ISO 8601: "2022-07-13T11:45:20+0300", "2020-05-14 23:17:24.123", "...,123456+02:00" */
size_t logline_iso_time(const char *p, const char *end, bool *comma)
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
    size_t cl = clock_fraction(q, end, 8, comma);
    if (!cl)
        return 0;
    q += cl;
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

/* "kern  :warn  : " (dmesg -x) */
size_t logline_dmesg_decode_prefix(const char *p, const char *end, bool *kernel)
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
        size_t n = logline_caller_stamp(s, end, tid);
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
size_t logline_stamp_and_tags(const char *p, const char *end, uint64_t *us, int64_t *tid)
{
    size_t n = logline_uptime_stamp(p, end, us);
    if (!n)
        return 0;
    const char *q = p + n;
    q += vendor_tags(q, end, tid);
    if (q < end && *q == ' ')
        q++;
    return (size_t)(q - p);
}

/* dmesg -T whose opening '[' was lost in a copy: "Thu May 14 23:17:24 2020] text" */
size_t logline_human_stamp_unbracketed(const char *p, const char *end, struct span *time)
{
    const char *close = memchr(p, ']', (size_t)(end - p) < 48 ? (size_t)(end - p) : 48);
    if (!close || close - p < 10 || close + 1 >= end || close[1] != ' ' || !is_alpha(*p) ||
        !human_bracket(p, close))
        return 0;
    *time = span_trim((struct span){p, (size_t)(close - p)});
    return (size_t)(close + 2 - p);
}

size_t logline_ctime_year(const char *p, const char *end)
{
    if (end - p < 5 || p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) ||
        !is_digit(p[4]))
        return 0;
    return end - p == 5 || !is_digit(p[5]) ? 5 : 0;
}

size_t logline_weekday_before(const char *start, const char *at)
{
    const char *q = at;
    while (q > start && q[-1] == ' ')
        q--;
    if (q == at || at - q > 2)
        return 0;
    const char *w = q;
    while (w > start &&
           (is_alpha(w[-1]) || (unsigned char)w[-1] >= 0x80 || w[-1] == '.' || w[-1] == ',') &&
           q - w < 12)
        w--;
    if (w == q || !(w == start || w[-1] == ' ' || w[-1] == '[' || w[-1] == '(' || w[-1] == '>'))
        return 0;
    return (size_t)(at - w);
}

/* journalctl -o short-full and with-unit, and -o verbose's entry headers: "Mon 2026-12-07
 * 07:03:17[.406215] UTC" (the weekday as the locale names it, the zone's abbreviation or
 * offset). Returns its length, 0 when p is not at one. */
size_t logline_weekday_iso_time(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && (is_alpha(*q) || (unsigned char)*q >= 0x80 || *q == '.') && q - p < 16)
        q++;
    if (q == p || q >= end || *q != ' ')
        return 0;
    q++;
    bool comma;
    size_t n = logline_iso_time(q, end, &comma);
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
size_t logline_unix_time(const char *p, const char *end)
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

void logline_prefix_time(struct span prefix, struct span *time)
{
    const char *p = prefix.p, *end = prefix.p + prefix.n;
    for (const char *q = p; q < end; q++) {
        if (q > p && q[-1] != ' ' && q[-1] != ':' && q[-1] != '|' && q[-1] != '\t')
            continue;
        bool comma;
        size_t n = is_digit(*q)   ? logline_iso_time(q, end, &comma)
                   : is_alpha(*q) ? logline_bsd_time(q, end)
                                  : 0;
        if (n && is_alpha(*q)) {
            /* dmesg -T's stamp whose brackets a copy mangled ("[Mon Mar  4 10:11:12 2024 text",
             * "(Mon Mar  4 10:11:12 2024]"): its weekday and its year are the time's too */
            size_t y = logline_ctime_year(q + n, end);
            size_t w = y ? logline_weekday_before(p, q) : 0;
            *time = (struct span){q - w, w + n + y};
            return;
        }
        if (n) {
            *time = (struct span){q, n};
            return;
        }
    }
}
