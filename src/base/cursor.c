#include "cursor.h"

#include <errno.h>
#include <stdlib.h>

void cursor_skip_blanks(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

void cursor_skip_space(struct cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r' || *c->p == '\v' ||
            *c->p == '\f'))
        c->p++;
}

bool cursor_skip_char(struct cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

bool cursor_skip_prefix(struct cursor *c, const char *s)
{
    size_t n = strlen(s);
    if (cursor_left(c) >= n && memcmp(c->p, s, n) == 0) {
        c->p += n;
        return true;
    }
    return false;
}

bool cursor_skip_past(struct cursor *c, const char *s)
{
    const char *hit = span_find((struct span){c->p, cursor_left(c)}, s);
    if (!hit)
        return false;
    c->p = hit + strlen(s);
    return true;
}

int cursor_u64(struct cursor *c, uint64_t *ret)
{
    const char *p = c->p;
    uint64_t v = 0;
    if (p >= c->end || *p < '0' || *p > '9')
        return -EINVAL;
    for (; p < c->end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    c->p = p;
    *ret = v;
    return 0;
}

int cursor_i64(struct cursor *c, int64_t *ret)
{
    struct cursor save = *c;
    bool neg = false;
    if (cursor_skip_char(c, '-'))
        neg = true;
    else
        (void)cursor_skip_char(c, '+');
    uint64_t v;
    int r = cursor_u64(c, &v);
    if (r < 0) {
        *c = save;
        return r;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            *c = save;
            return -ERANGE;
        }
        *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) {
            *c = save;
            return -ERANGE;
        }
        *ret = (int64_t)v;
    }
    return 0;
}

int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int cursor_hex_u64(struct cursor *c, uint64_t *ret)
{
    struct cursor save = *c;
    if (!cursor_skip_prefix(c, "0x"))
        (void)cursor_skip_prefix(c, "0X");
    const char *p = c->p;
    uint64_t v = 0;
    if (p >= c->end || hex_digit(*p) < 0) {
        *c = save;
        return -EINVAL;
    }
    for (; p < c->end && hex_digit(*p) >= 0; p++) {
        if (v >> 60) {
            *c = save;
            return -ERANGE;
        }
        v = (v << 4) | (uint64_t)hex_digit(*p);
    }
    c->p = p;
    *ret = v;
    return 0;
}

int cursor_decimal(struct cursor *c, unsigned places, uint64_t *ret)
{
    struct cursor save = *c;
    uint64_t whole, frac = 0, scale = 1;
    for (unsigned i = 0; i < places; i++)
        scale *= 10;
    int r = cursor_u64(c, &whole);
    if (r < 0)
        return r;
    if (cursor_skip_char(c, '.')) {
        unsigned digits = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (digits < places)
                frac = frac * 10 + (uint64_t)(*c->p - '0');
            digits++;
            c->p++;
        }
        if (digits == 0) {
            *c = save;
            return -EINVAL;
        }
        for (; digits < places; digits++)
            frac *= 10;
    }
    if (whole > (UINT64_MAX - frac) / scale) {
        *c = save;
        return -ERANGE;
    }
    *ret = whole * scale + frac;
    return 0;
}

int cursor_centi(struct cursor *c, uint64_t *ret)
{
    return cursor_decimal(c, 2, ret);
}

struct span cursor_word(struct cursor *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\n')
        c->p++;
    return (struct span){s, (size_t)(c->p - s)};
}

struct span cursor_line(struct cursor *c)
{
    const char *s = c->p;
    const char *nl = c->p < c->end ? memchr(c->p, '\n', cursor_left(c)) : NULL;
    if (nl) {
        c->p = nl + 1;
        return (struct span){s, (size_t)(nl - s)};
    }
    c->p = c->end;
    return (struct span){s, (size_t)(c->end - s)};
}

struct span cursor_until(struct cursor *c, char ch)
{
    const char *s = c->p;
    const char *hit = c->p < c->end ? memchr(c->p, ch, cursor_left(c)) : NULL;
    if (hit) {
        c->p = hit + 1;
        return (struct span){s, (size_t)(hit - s)};
    }
    c->p = c->end;
    return (struct span){s, (size_t)(c->end - s)};
}

struct span cursor_rest(struct cursor *c)
{
    struct span s = {c->p, cursor_left(c)};
    c->p = c->end;
    return s;
}

const char *span_find(struct span s, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return s.p;
    if (s.n < n)
        return NULL;
    const char *last = s.p + s.n - n;
    for (const char *p = s.p; p <= last; p++) {
        p = memchr(p, needle[0], (size_t)(last - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

struct span span_trim(struct span s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

int parse_u64(const char *s, uint64_t *ret)
{
    struct cursor c = cursor_make(s, strlen(s));
    uint64_t v;
    int r = cursor_u64(&c, &v);
    if (r < 0)
        return r;
    if (!cursor_eof(&c))
        return -EINVAL;
    *ret = v;
    return 0;
}

int parse_i64(const char *s, int64_t *ret)
{
    struct cursor c = cursor_make(s, strlen(s));
    int64_t v;
    int r = cursor_i64(&c, &v);
    if (r < 0)
        return r;
    if (!cursor_eof(&c))
        return -EINVAL;
    *ret = v;
    return 0;
}

int parse_int_range(const char *s, int lo, int hi, int *ret)
{
    int64_t v;
    int r = parse_i64(s, &v);
    if (r < 0)
        return r;
    if (v < lo || v > hi)
        return -ERANGE;
    *ret = (int)v;
    return 0;
}

char *span_strdup(struct span s)
{
    char *d = malloc(s.n + 1);
    if (!d)
        return NULL;
    if (s.n)
        memcpy(d, s.p, s.n);
    d[s.n] = '\0';
    return d;
}
