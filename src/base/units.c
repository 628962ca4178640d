#include "units.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "cursor.h"

/* What a unit does to the number before it: value = number * mult / div. */
struct unit_scale {
    uint64_t mult, div;
    bool whole; /* a fraction of the result is refused rather than cut */
};

/* B or nothing: bytes, whole ones only; K, KB, KiB (k, b spellings too): binary multiples */
static int size_unit(const char *u, size_t n, struct unit_scale *ret)
{
    static const struct {
        char lower, upper;
        unsigned shift;
    } prefixes[] = {{'k', 'K', 10}, {'m', 'M', 20}, {'g', 'G', 30}, {'t', 'T', 40}};
    if (n == 0 || (n == 1 && (*u == 'B' || *u == 'b'))) {
        *ret = (struct unit_scale){1, 1000, true};
        return 0;
    }
    if (!(n == 1 || (n == 2 && (u[1] == 'B' || u[1] == 'b')) ||
          (n == 3 && u[1] == 'i' && (u[2] == 'B' || u[2] == 'b'))))
        return -EINVAL;
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (*u == prefixes[i].lower || *u == prefixes[i].upper) {
            *ret = (struct unit_scale){1ull << prefixes[i].shift, 1000, false};
            return 0;
        }
    return -EINVAL;
}

/* the number is in thousandths: "s" (or nothing) makes it milliseconds as it stands */
static int duration_unit(const char *u, size_t n, struct unit_scale *ret)
{
    static const struct {
        const char *name;
        struct unit_scale scale;
    } units[] = {
        {"", {1, 1, false}},     {"s", {1, 1, false}},    {"ms", {1, 1000, false}},
        {"m", {60, 1, false}},   {"h", {3600, 1, false}}, {"d", {86400, 1, false}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *ret = units[i].scale;
            return 0;
        }
    return -EINVAL;
}

/* s: a number with up to 3 decimals (more are cut), blanks, then a unit that unit() scales it
 * by; -ERANGE when the number times the unit's multiplier is past 64 bits */
static int parse_scaled(const char *s, int (*unit)(const char *, size_t, struct unit_scale *),
                        uint64_t *ret)
{
    struct cursor c = cursor_make(s, strlen(s));
    uint64_t milli;
    int r = cursor_decimal(&c, 3, &milli);
    if (r < 0)
        return r;
    cursor_skip_blanks(&c);
    struct unit_scale sc;
    if (unit(c.p, cursor_left(&c), &sc) < 0)
        return -EINVAL;
    if (milli > UINT64_MAX / sc.mult)
        return -ERANGE;
    if (sc.whole && milli * sc.mult % sc.div)
        return -EINVAL;
    *ret = milli * sc.mult / sc.div;
    return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
    return parse_scaled(s, size_unit, ret);
}

int parse_duration_ms(const char *s, uint64_t *ret)
{
    return parse_scaled(s, duration_unit, ret);
}
