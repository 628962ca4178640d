#include "fmt.h"

#include <stdbool.h>
#include <stdio.h>

static const char units[] = "BKMGTPE";

static char *fmt_size_impl(char *out, size_t outlen, uint64_t bytes, const char *sep, bool iec)
{
    if (bytes < 1024) {
        if (iec)
            snprintf(out, outlen, "%llu%sB", (unsigned long long)bytes, sep);
        else
            snprintf(out, outlen, bytes ? "%lluB" : "%llu", (unsigned long long)bytes);
        return out;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    /* Round before choosing the precision so 9.96K does not print as "10.0K". */
    if (v < 9.95)
        snprintf(out, outlen, "%.1f%s%c%s", v, sep, units[u], iec ? "iB" : "");
    else if (v < 1023.5)
        snprintf(out, outlen, "%.0f%s%c%s", v, sep, units[u], iec ? "iB" : "");
    else
        snprintf(out, outlen, "%.1f%s%c%s", v / 1024.0, sep, units[u + 1], iec ? "iB" : "");
    return out;
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
