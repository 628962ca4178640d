#include "psilevel.h"

#include <inttypes.h>
#include <stdio.h>

/* hundredths of a percent, as psi_line holds them */
#define PCT(x) ((uint64_t)(x) * 100)

static uint64_t v(const struct psi_line *l, uint64_t avg)
{
    return l->present ? avg : 0;
}

enum psi_level psi_level_of(const struct psi *p)
{
    const struct psi_line *f = &p->full, *s = &p->some;
    if (v(f, f->avg10) >= PCT(60))
        return PSI_SEVERE;
    if (v(f, f->avg300) >= PCT(10))
        return PSI_SUSTAINED;
    if (v(f, f->avg10) >= PCT(10) || v(f, f->avg60) >= PCT(10))
        return PSI_STALLING;
    if (v(s, s->avg10) >= PCT(10))
        return PSI_WAITING;
    return PSI_HEALTHY;
}

const char *psi_level_name(enum psi_level l)
{
    switch (l) {
    case PSI_SEVERE:
        return "severe";
    case PSI_SUSTAINED:
        return "sustained";
    case PSI_STALLING:
        return "stalling";
    case PSI_WAITING:
        return "waiting";
    case PSI_HEALTHY:
        break;
    }
    return "healthy";
}

const char *psi_level_rule(enum psi_level l)
{
    switch (l) {
    case PSI_SEVERE:
        return "full avg10 >= 60%: where systemd-oomd kills (60% for 30 s)";
    case PSI_SUSTAINED:
        return "full avg300 >= 10%: the usual alert, full > 10% for 5 minutes";
    case PSI_STALLING:
        return "full avg10 or avg60 >= 10%: every task stalled, not yet for 5 minutes";
    case PSI_WAITING:
        return "some avg10 >= 10%: tasks waited for memory a tenth of the last 10 s";
    case PSI_HEALTHY:
        break;
    }
    return "below every threshold (some avg10 and full under 10%); the usual alert is full > 10% for 5 minutes";
}

char *psi_words(const struct psi *p, char *out, size_t n)
{
    const struct psi_line *s = &p->some, *f = &p->full;
    snprintf(out, n,
             "some %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64
             ", full %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64,
             v(s, s->avg10) / 100, v(s, s->avg10) % 100, v(s, s->avg60) / 100,
             v(s, s->avg60) % 100, v(s, s->avg300) / 100, v(s, s->avg300) % 100,
             v(f, f->avg10) / 100, v(f, f->avg10) % 100, v(f, f->avg60) / 100,
             v(f, f->avg60) % 100, v(f, f->avg300) / 100, v(f, f->avg300) % 100);
    return out;
}
