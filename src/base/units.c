#include "units.h"

#include <errno.h>
#include <string.h>

#include "cursor.h"

/* s's number, integer part and up to 3 decimals (more are cut), as thousandths; c is left past
 * it and the blanks after it, at the unit */
static int parse_milli(const char *s, struct cursor *c, uint64_t *ret)
{
    *c = cursor_make(s, strlen(s));
    int r = cursor_decimal(c, 3, ret);
    if (r < 0)
        return r;
    cursor_skip_blanks(c);
    return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
    struct cursor c;
    uint64_t milli;
    int r = parse_milli(s, &c, &milli);
    if (r < 0)
        return r;
    const char *u = c.p;
    size_t n = cursor_left(&c);
    unsigned shift;
    if (n == 0 || (n == 1 && (*u == 'B' || *u == 'b')))
        shift = 0;
    else {
        switch (*u) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return -EINVAL;
        }
        /* accept K, KB, KiB */
        if (!(n == 1 || (n == 2 && (u[1] == 'B' || u[1] == 'b')) ||
              (n == 3 && u[1] == 'i' && (u[2] == 'B' || u[2] == 'b'))))
            return -EINVAL;
    }
    if (shift && milli > (UINT64_MAX >> shift))
        return -ERANGE;
    uint64_t v = (milli << shift) / 1000;
    if (shift == 0 && milli % 1000)
        return -EINVAL; /* fractional bytes */
    *ret = v;
    return 0;
}

int parse_duration_ms(const char *s, uint64_t *ret)
{
    struct cursor c;
    uint64_t milli;
    int r = parse_milli(s, &c, &milli);
    if (r < 0)
        return r;
    uint64_t mult;
    if (cursor_eof(&c) || cursor_skip_prefix(&c, "s")) /* milli holds seconds*1000 = ms */
        mult = 1;
    else if (cursor_skip_prefix(&c, "ms"))
        mult = 0; /* milli holds ms*1000 */
    else if (cursor_skip_prefix(&c, "m"))
        mult = 60;
    else if (cursor_skip_prefix(&c, "h"))
        mult = 3600;
    else if (cursor_skip_prefix(&c, "d"))
        mult = 86400;
    else
        return -EINVAL;
    if (!cursor_eof(&c))
        return -EINVAL;
    if (mult == 0) {
        *ret = milli / 1000;
        return 0;
    }
    if (milli > UINT64_MAX / mult)
        return -ERANGE;
    *ret = milli * mult;
    return 0;
}
