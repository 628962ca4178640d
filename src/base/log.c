#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level current = LOG_NOTICE;

void log_set_level(enum log_level lvl)
{
    current = lvl;
}

enum log_level log_get_level(void)
{
    return current;
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
    static const char *const prefix[] = {
        [LOG_ERR] = "error: ",
        [LOG_WARNING] = "warning: ",
        [LOG_NOTICE] = "",
        [LOG_INFO] = "",
        [LOG_DEBUG] = "debug: ",
    };
    if (lvl > current)
        return;
    int saved = errno;
    fprintf(stderr, "oomwarden: %s", prefix[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

int log_error_errno(int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(LOG_ERR, fmt, ap);
    va_end(ap);
    return r;
}
