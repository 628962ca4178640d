#include "clock.h"

#include <errno.h>
#include <time.h>

uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void clock_sleep_until_ms(uint64_t when)
{
    for (;;) {
        uint64_t now = clock_mono_ms();
        if (now >= when)
            return;
        uint64_t left = when - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000), .tv_nsec = (long)(left % 1000) * 1000000};
        if (nanosleep(&ts, NULL) == 0)
            continue;
        if (errno != EINTR)
            return;
    }
}
