#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level current = LOG_NOTICE;
static log_sink_fn error_sink;
static void *error_sink_data;

void log_set_error_sink(log_sink_fn fn, void *userdata)
{
    error_sink = fn;
    error_sink_data = userdata;
}

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
    va_list again;
    va_copy(again, ap);
    fprintf(stderr, "oomwarden: %s", prefix[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (lvl == LOG_ERR && error_sink) {
        char msg[2048];
        vsnprintf(msg, sizeof(msg), fmt, again);
        error_sink(msg, error_sink_data);
    }
    va_end(again);
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
