#include "psitrig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/sys/caps.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/units.h"

#define CAP_SYS_RESOURCE_BIT 24
#define WINDOW_MAX_US 10000000ull
#define UNPRIV_WINDOW_US 2000000ull

int psi_trigger_spec_parse(const char *s, struct psi_trigger_spec *ret)
{
    char kind[8], stall[32], window[32];
    struct cursor c = cursor_make(s, strlen(s));
    struct span k = cursor_word(&c);
    cursor_skip_blanks(&c);
    struct span st = cursor_word(&c);
    cursor_skip_blanks(&c);
    struct span w = cursor_word(&c);
    cursor_skip_blanks(&c);
    if (!cursor_eof(&c) || k.n == 0 || st.n == 0 || w.n == 0 || k.n >= sizeof(kind) ||
        st.n >= sizeof(stall) || w.n >= sizeof(window))
        return -EINVAL;
    snprintf(kind, sizeof(kind), "%.*s", (int)k.n, k.p);
    snprintf(stall, sizeof(stall), "%.*s", (int)st.n, st.p);
    snprintf(window, sizeof(window), "%.*s", (int)w.n, w.p);
    struct psi_trigger_spec spec = {0};
    if (strcmp(kind, "full") == 0)
        spec.full = true;
    else if (strcmp(kind, "some") != 0)
        return -EINVAL;
    uint64_t window_ms, stall_ms;
    if (parse_duration_ms(window, &window_ms) < 0 || window_ms == 0)
        return -EINVAL;
    spec.window_us = window_ms * 1000;
    size_t n = strlen(stall);
    if (n > 1 && stall[n - 1] == '%') {
        stall[n - 1] = '\0';
        uint64_t pct;
        if (parse_u64(stall, &pct) < 0 || pct == 0 || pct > 100)
            return -EINVAL;
        spec.stall_us = spec.window_us * pct / 100;
    } else {
        if (parse_duration_ms(stall, &stall_ms) < 0 || stall_ms == 0)
            return -EINVAL;
        spec.stall_us = stall_ms * 1000;
    }
    if (spec.stall_us > spec.window_us || spec.window_us > WINDOW_MAX_US)
        return -ERANGE;
    *ret = spec;
    return 0;
}

bool psi_trigger_unprivileged(void)
{
    return !caps_effective(CAP_SYS_RESOURCE_BIT);
}

void psi_trigger_spec_unprivileged(struct psi_trigger_spec *s)
{
    uint64_t w = (s->window_us + UNPRIV_WINDOW_US - 1) / UNPRIV_WINDOW_US * UNPRIV_WINDOW_US;
    if (w > WINDOW_MAX_US)
        w = WINDOW_MAX_US;
    if (w != s->window_us) {
        s->stall_us = s->stall_us * w / s->window_us;
        s->window_us = w;
    }
}

int psi_trigger_open(int dirfd, const char *path, const struct psi_trigger_spec *spec)
{
    int fd = openat(dirfd, path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char line[64];
    int n = snprintf(line, sizeof(line), "%s %llu %llu", spec->full ? "full" : "some",
                     (unsigned long long)spec->stall_us, (unsigned long long)spec->window_us);
    /* with the NUL, as Documentation/accounting/psi.rst does: the kernel reads at most 32 bytes */
    if (write(fd, line, (size_t)n + 1) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}
