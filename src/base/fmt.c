#include "fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char units[] = "BKMGTPE";

typedef unsigned __int128 u128;

/* n / d rounded to nearest, ties to even: what printf("%.Nf") does with an exactly
 * representable value (a byte count divided by a power of 1024 is one, below 2^53). */
static uint64_t div_round_even(u128 n, u128 d)
{
    u128 q = n / d, r = n % d;
    if (r * 2 > d || (r * 2 == d && (q & 1)))
        q++;
    return (uint64_t)q;
}

/* Writes v as digits; returns the length. */
static size_t put_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* "<tenths/10>.<tenths%10><sep><unit>[iB]" or without the decimal */
static char *put_scaled(char *out, size_t outlen, uint64_t whole_or_tenths, bool tenths,
                        const char *sep, char unit, bool iec)
{
    char tmp[48];
    size_t n;
    if (tenths) {
        n = put_u64(tmp, whole_or_tenths / 10);
        tmp[n++] = '.';
        tmp[n++] = (char)('0' + whole_or_tenths % 10);
    } else {
        n = put_u64(tmp, whole_or_tenths);
    }
    size_t k = strlen(sep);
    memcpy(tmp + n, sep, k);
    n += k;
    tmp[n++] = unit;
    if (iec) {
        tmp[n++] = 'i';
        tmp[n++] = 'B';
    }
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
    return out;
}

/*
 * Integer arithmetic, not printf("%f"): a 5,000-row table formats 25,000 sizes, and printf's
 * floating point was a sixth of `ps`'s own CPU time. The output is the same as
 * printf("%.1f"/"%.0f") of bytes / 1024^u.
 */
static char *fmt_size_impl(char *out, size_t outlen, uint64_t bytes, const char *sep, bool iec)
{
    if (bytes < 1024) {
        if (iec)
            snprintf(out, outlen, "%llu%sB", (unsigned long long)bytes, sep);
        else if (bytes == 0)
            snprintf(out, outlen, "0");
        else {
            size_t n = put_u64(out, bytes); /* < 1024: 4 digits fit any caller's buffer */
            out[n++] = 'B';
            out[n] = '\0';
        }
        return out;
    }
    int u = 0;
    u128 d = 1;
    while (u < 6 && (u128)bytes >= d * 1024) {
        d *= 1024;
        u++;
    }
    /* below 9.95 in the unit: one decimal; below 1023.5: none; above: one decimal of the next */
    if ((u128)bytes * 20 < (u128)199 * d)
        return put_scaled(out, outlen, div_round_even((u128)bytes * 10, d), true, sep, units[u],
                          iec);
    if ((u128)bytes * 2 < (u128)2047 * d)
        return put_scaled(out, outlen, div_round_even(bytes, d), false, sep, units[u], iec);
    return put_scaled(out, outlen, div_round_even((u128)bytes * 10, d * 1024), true, sep,
                      units[u + 1], iec);
}

char *fmt_size(char out[FMT_SIZE_LEN], uint64_t bytes)
{
    return fmt_size_impl(out, FMT_SIZE_LEN, bytes, "", false);
}

char *fmt_size_long(char out[24], uint64_t bytes)
{
    return fmt_size_impl(out, 24, bytes, " ", true);
}

char *fmt_duration(char out[24], double s)
{
    if (s < 0)
        s = 0;
    if (s < 1.0)
        snprintf(out, 24, "%.0fms", s * 1000.0);
    else if (s < 60.0)
        snprintf(out, 24, "%.1fs", s);
    else if (s < 3600.0)
        snprintf(out, 24, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else if (s < 86400.0)
        snprintf(out, 24, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
    else
        snprintf(out, 24, "%dd%dh", (int)(s / 86400), ((int)s % 86400) / 3600);
    return out;
}

unsigned fmt_percent(uint64_t part, uint64_t whole)
{
    if (!whole)
        return 0;
    return (unsigned)((long double)part * 100.0L / (long double)whole + 0.5L);
}
