#include "ere.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define CAP UINT32_MAX

/* Groups nested deeper than this count as the cap: the estimate recurses per group, and so does
 * regcomp(); a regex that deep is refused rather than walked. */
#define MAX_DEPTH 256

struct ere {
    const char *p;
    unsigned depth;
    bool stacked; /* a repetition of a repetition: "a++", "a*{2}" */
};

static uint64_t add(uint64_t a, uint64_t b)
{
    return a + b > CAP ? CAP : a + b;
}

static uint64_t mul(uint64_t a, uint64_t b)
{
    return b && a > CAP / b ? CAP : a * b;
}

static uint64_t alternation(struct ere *e);

/* "[...]": one node, whatever is inside ([:alpha:], a ']' first, '^'). */
static void skip_bracket(struct ere *e)
{
    const char *q = e->p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    while (*q && *q != ']') {
        if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            char d = q[1];
            q += 2;
            while (*q && !(*q == d && q[1] == ']'))
                q++;
            q += *q ? 2 : 0;
        } else {
            q++;
        }
    }
    e->p = *q ? q + 1 : q;
}

/* A bound of "{m,n}": the digits, or -1 when there are none. */
static int64_t bound(struct ere *e)
{
    int64_t v = -1;
    while (*e->p >= '0' && *e->p <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (*e->p++ - '0');
        if (v > CAP)
            v = CAP;
    }
    return v;
}

static uint64_t atom(struct ere *e)
{
    switch (*e->p) {
    case '(': {
        e->p++;
        if (++e->depth > MAX_DEPTH) {
            e->p += strlen(e->p); /* the rest is not read */
            return CAP;
        }
        uint64_t c = alternation(e);
        e->depth--;
        if (*e->p == ')')
            e->p++;
        return add(c, 1);
    }
    case '[':
        skip_bracket(e);
        return 1;
    case '\\':
        e->p += e->p[1] ? 2 : 1;
        return 1;
    default:
        e->p++;
        return 1;
    }
}

/* An atom and the repetitions after it: each multiplies what it repeats. */
static uint64_t piece(struct ere *e)
{
    uint64_t c = atom(e);
    for (int reps = 0;; reps++) {
        if (reps == 2)
            e->stacked = true;
        if (*e->p == '*' || *e->p == '?') {
            e->p++;
            c = add(c, 1);
        } else if (*e->p == '+') {
            e->p++;
            c = add(mul(c, 2), 1);
        } else if (*e->p == '{' && e->p[1] >= '0' && e->p[1] <= '9') {
            e->p++;
            int64_t m = bound(e), n = m;
            if (*e->p == ',') {
                e->p++;
                n = bound(e);
                if (n < 0)
                    n = m + 1; /* {m,}: m copies and a star */
            }
            if (*e->p == '}')
                e->p++;
            c = add(mul(c, (uint64_t)(n > 1 ? n : 1)), 1);
        } else {
            return c;
        }
    }
}

static uint64_t branch(struct ere *e)
{
    uint64_t c = 0;
    while (*e->p && *e->p != '|' && *e->p != ')')
        c = add(c, piece(e));
    return c;
}

static uint64_t alternation(struct ere *e)
{
    uint64_t c = branch(e);
    while (*e->p == '|') {
        e->p++;
        c = add(add(c, branch(e)), 1);
    }
    return c;
}

uint64_t ere_cost(const char *re, bool *ret_stacked)
{
    struct ere e = {re};
    uint64_t c = 0;
    while (*e.p) { /* a stray ')' is regcomp's to report; keep counting after it */
        c = add(c, alternation(&e));
        if (*e.p == ')')
            e.p++;
    }
    if (ret_stacked)
        *ret_stacked = e.stacked;
    return c;
}
