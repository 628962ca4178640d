#include "clock.h"

#include <errno.h>
#include <time.h>

uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double clock_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double clock_boot_wall(void)
{
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 -
           ((double)mono.tv_sec + (double)mono.tv_nsec / 1e9);
}

void clock_sleep_until_ms(uint64_t when)
{
    for (;;) {
        uint64_t now = clock_mono_ms();
        if (now >= when)
            return;
        uint64_t left = when - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000),
                              .tv_nsec = (long)(left % 1000) * 1000000};
        if (nanosleep(&ts, NULL) == 0)
            continue;
        if (errno != EINTR)
            return;
    }
}
