/*
 * Bounded cursor parsing for kernel text: no atoi/sscanf, no reading past `end`, every number
 * checked for overflow. A failed parse leaves the cursor where it was.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
    const char *p;
    const char *end;
};

/* A slice of the input; not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

static inline struct cursor cursor_make(const char *s, size_t n)
{
    return (struct cursor){.p = s, .end = s + n};
}

static inline struct cursor cursor_from_span(struct span s)
{
    return cursor_make(s.p, s.n);
}

static inline bool cursor_eof(const struct cursor *c)
{
    return c->p >= c->end;
}

static inline size_t cursor_left(const struct cursor *c)
{
    return c->p < c->end ? (size_t)(c->end - c->p) : 0;
}

static inline int cursor_peek(const struct cursor *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

/* Skips spaces and tabs (not newlines). */
void cursor_skip_blanks(struct cursor *c);
/* Skips any ASCII whitespace including newlines. */
void cursor_skip_space(struct cursor *c);
/* Consumes `ch` if it is next. */
bool cursor_skip_char(struct cursor *c, char ch);
/* Consumes the literal `s` if the input starts with it. */
bool cursor_skip_prefix(struct cursor *c, const char *s);
/* Moves past the first occurrence of `s` in the rest of the input; false (cursor unchanged) if absent. */
bool cursor_skip_past(struct cursor *c, const char *s);

/* The value of a hex digit, or -1. */
int hex_digit(char ch);

/* Unsigned decimal; 0 or -EINVAL (no digits) / -ERANGE (overflow). */
int cursor_u64(struct cursor *c, uint64_t *ret);
/* Optional sign then decimal. */
int cursor_i64(struct cursor *c, int64_t *ret);
/* Hexadecimal, with or without a 0x prefix. */
int cursor_hex_u64(struct cursor *c, uint64_t *ret);
/* Decimal with an optional fraction, as units of 10^-places ("1.5" at 3 places: 1500); digits
 * past `places` are cut. 0, or -EINVAL (a '.' without digits) / -ERANGE with the cursor where it
 * was. */
int cursor_decimal(struct cursor *c, unsigned places, uint64_t *ret);
/* cursor_decimal at 2 places: "12.34" as hundredths (1234); used for PSI avgs. */
int cursor_centi(struct cursor *c, uint64_t *ret);

/* Up to (not including) the next blank or newline; may be empty. */
struct span cursor_word(struct cursor *c);
/* The rest of the line without its '\n' (which is consumed). */
struct span cursor_line(struct cursor *c);
/* Up to (not including) `ch`, which is consumed if present. */
struct span cursor_until(struct cursor *c, char ch);
/* The rest of the input. */
struct span cursor_rest(struct cursor *c);

static inline bool span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static inline bool span_starts_with(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* First occurrence of `needle` in the span, or NULL. */
const char *span_find(struct span s, const char *needle);
/* Trims blanks and a trailing '\r' from both ends. */
struct span span_trim(struct span s);

/* A malloc'd NUL-terminated copy of the span (input buffers need not be terminated), or NULL. */
char *span_strdup(struct span s);

/* Whole-string number parsers for user input (flags, config): the entire string must match. */
int parse_u64(const char *s, uint64_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_int_range(const char *s, int lo, int hi, int *ret);
