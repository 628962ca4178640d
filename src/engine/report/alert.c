#include "alert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cursor.h"
#include "base/units.h"
#include "model/pressure/psi.h"

static int parse_percent(struct span w, uint64_t *ret)
{
    char tmp[32];
    if (w.n == 0 || w.n >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, w.p, w.n);
    tmp[w.n] = '\0';
    if (tmp[w.n - 1] == '%')
        tmp[w.n - 1] = '\0';
    struct cursor c = cursor_make(tmp, strlen(tmp));
    uint64_t v;
    if (cursor_centi(&c, &v) < 0 || !cursor_eof(&c) || v > 10000)
        return -EINVAL;
    *ret = v;
    return 0;
}

int alert_rule_parse(const char *s, struct alert_rule *ret)
{
    struct alert_rule r = {0};
    snprintf(r.text, sizeof(r.text), "%s", s);
    struct cursor c = cursor_make(s, strlen(s));
    struct span w[8];
    int n = 0;
    while (n < 8) {
        cursor_skip_blanks(&c);
        if (cursor_eof(&c))
            break;
        w[n++] = cursor_word(&c);
    }
    cursor_skip_blanks(&c);
    if (!cursor_eof(&c) || n < 4)
        return -EINVAL;
    if (span_eq(w[0], "full"))
        r.full = true;
    else if (!span_eq(w[0], "some"))
        return -EINVAL;
    if (span_eq(w[1], "avg10"))
        r.window = 10;
    else if (span_eq(w[1], "avg60"))
        r.window = 60;
    else if (span_eq(w[1], "avg300"))
        r.window = 300;
    else
        return -EINVAL;
    if (span_eq(w[2], ">="))
        r.ge = true;
    else if (!span_eq(w[2], ">"))
        return -EINVAL;
    if (parse_percent(w[3], &r.threshold) < 0)
        return -EINVAL;
    r.clear = r.threshold * 8 / 10;
    for (int i = 4; i < n; i += 2) {
        if (i + 1 >= n)
            return -EINVAL;
        char v[32];
        if (w[i + 1].n >= sizeof(v))
            return -EINVAL;
        snprintf(v, sizeof(v), "%.*s", (int)w[i + 1].n, w[i + 1].p);
        if (span_eq(w[i], "for")) {
            if (parse_duration_ms(v, &r.for_ms) < 0)
                return -EINVAL;
        } else if (span_eq(w[i], "clear")) {
            if (parse_percent(w[i + 1], &r.clear) < 0 || r.clear > r.threshold)
                return -EINVAL;
        } else {
            return -EINVAL;
        }
    }
    *ret = r;
    return 0;
}

static uint64_t pick(const struct alert_rule *r, const struct psi *p, bool *ok)
{
    const struct psi_line *l = r->full ? &p->full : &p->some;
    *ok = l->present;
    return r->window == 10 ? l->avg10 : r->window == 60 ? l->avg60 : l->avg300;
}

enum alert_change alert_eval(const struct alert_rule *r, struct alert_track *t, const struct psi *p,
                             uint64_t now)
{
    bool ok;
    uint64_t v = pick(r, p, &ok);
    if (!ok)
        return ALERT_NO_CHANGE;
    t->value = v;
    bool over = r->ge ? v >= r->threshold : v > r->threshold;
    switch (t->state) {
    case ALERT_OK:
        if (over) {
            t->state = ALERT_PENDING;
            t->since_ms = now;
        }
        break;
    case ALERT_PENDING:
        if (!over) {
            t->state = ALERT_OK;
            return ALERT_NO_CHANGE;
        }
        break;
    case ALERT_FIRING:
        /* hysteresis: firing until the value falls below the clear level */
        if (v < r->clear) {
            t->state = ALERT_OK;
            return ALERT_CLEARED;
        }
        return ALERT_NO_CHANGE;
    }
    if (t->state == ALERT_PENDING && now - t->since_ms >= r->for_ms) {
        t->state = ALERT_FIRING;
        return ALERT_RAISED;
    }
    return ALERT_NO_CHANGE;
}
