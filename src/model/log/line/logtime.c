#include "logtime.h"

#include <string.h>

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int month_index(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(s, months[i], 3) == 0)
            return i;
    return -1;
}

static bool digits(const char *s, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

/* "HH:MM:SS" */
static bool hms(const char *s, struct tm *tm)
{
    return digits(s, 2, &tm->tm_hour) && s[2] == ':' && digits(s + 3, 2, &tm->tm_min) &&
           s[5] == ':' && digits(s + 6, 2, &tm->tm_sec);
}

static bool iso(const char *s, time_t *ret)
{
    struct tm tm = {0};
    int y, mo, d;
    if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !hms(s + 11, &tm))
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    const char *z = s + 19;
    if (*z == '.' || *z == ',') {
        z++;
        while (*z >= '0' && *z <= '9')
            z++;
    }
    /* journalctl -o short-full's zone abbreviation: UTC is known, others are the local zone's */
    if (strcmp(z, " UTC") == 0 || strcmp(z, " GMT") == 0)
        z = "Z";
    if (*z == 'Z' || *z == '+' || *z == '-') {
        long off = 0;
        if (*z != 'Z') {
            int hh, mm = 0;
            const char *o = z + 1;
            if (!digits(o, 2, &hh))
                return false;
            o += 2;
            if (*o == ':')
                o++;
            if (*o >= '0' && *o <= '9' && !digits(o, 2, &mm))
                return false;
            off = (hh * 60L + mm) * 60L * (*z == '-' ? -1 : 1);
        }
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
            return false;
        *ret = t - off;
        return true;
    }
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *ret = t;
    return true;
}

/* The day of the month and the blank after it: " 5 ", "5 " or "15 ". Returns what follows,
 * NULL when it is not one. */
static const char *mday(const char *p, int *d)
{
    if (*p == ' ')
        p++;
    if (p[1] == ' ')
        return digits(p, 1, d) ? p + 2 : NULL;
    return digits(p, 2, d) && p[2] == ' ' ? p + 3 : NULL;
}

/* "Jan  5 15:19:27" */
static bool bsd(const char *s, time_t now, time_t *ret)
{
    struct tm tm = {0};
    int mo = month_index(s);
    if (mo < 0 || s[3] != ' ')
        return false;
    const char *p = s + 4;
    int d;
    if (!(p = mday(p, &d)))
        return false;
    if (!hms(p, &tm))
        return false;
    struct tm nowtm;
    localtime_r(&now, &nowtm);
    tm.tm_mon = mo;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    for (int back = 0; back < 2; back++) {
        struct tm t = tm;
        t.tm_year = nowtm.tm_year - back;
        time_t v = mktime(&t);
        if (v != (time_t)-1 && v <= now + 86400) {
            *ret = v;
            return true;
        }
    }
    return false;
}

/* "Thu May 14 23:17:24 2020" (dmesg -T), and as copies leave it: the weekday's word in another
 * form ("Thu,") or cut ("hu"), or lost; blanks collapsed ("May 4"); a fraction after the clock */
static bool ctime_form(const char *s, time_t *ret)
{
    struct tm tm = {0};
    const char *p = s;
    if (month_index(p) < 0 || p[3] != ' ' || !(p[4] == ' ' || (p[4] >= '0' && p[4] <= '9'))) {
        while (*p && *p != ' ' && p - s < 12)
            p++;
        while (*p == ' ')
            p++;
    }
    int mo = month_index(p);
    int d, y;
    if (mo < 0 || p[3] != ' ' || !(p = mday(p + 4, &d)) || !hms(p, &tm))
        return false;
    p += 8;
    if (*p == '.' || *p == ',')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p != ' ' || !digits(p + 1, 4, &y) || p[5] != '\0')
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *ret = t;
    return true;
}

/* journalctl -o short-unix: "1796626997.429044" */
static bool epoch(const char *s, time_t *ret)
{
    const char *p = s;
    long long v = 0;
    while (*p >= '0' && *p <= '9' && p - s < 12)
        v = v * 10 + (*p++ - '0');
    if (p - s < 9 || (*p != '.' && *p != '\0'))
        return false;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p)
        return false;
    *ret = (time_t)v;
    return true;
}

bool logtime_parse(const char *s, time_t now, time_t *ret)
{
    if (!s || !*s)
        return false;
    if (s[0] >= '0' && s[0] <= '9')
        return epoch(s, ret) || iso(s, ret);
    /* "Mon 2026-12-07 07:03:17 UTC" (journalctl -o short-full): the weekday says nothing more */
    const char *sp = strchr(s, ' ');
    if (sp && sp - s < 16 && sp[1] >= '0' && sp[1] <= '9' && sp[5] == '-')
        return iso(sp + 1, ret);
    /* a year after the clock makes it dmesg -T's, whatever stands before the month */
    return ctime_form(s, ret) || bsd(s, now, ret);
}
