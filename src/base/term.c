#include "term.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cursor.h"

int color_when_parse(const char *s, enum color_when *ret)
{
    if (strcmp(s, "auto") == 0)
        *ret = COLOR_AUTO;
    else if (strcmp(s, "always") == 0)
        *ret = COLOR_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *ret = COLOR_NEVER;
    else
        return -EINVAL;
    return 0;
}

bool term_use_color(int fd, enum color_when when)
{
    if (when == COLOR_ALWAYS)
        return true;
    if (when == COLOR_NEVER)
        return false;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd);
}

size_t term_width(int fd)
{
    if (!isatty(fd))
        return 0;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    uint64_t v;
    if (cols && parse_u64(cols, &v) == 0 && v > 0 && v < 10000)
        return (size_t)v;
    return 80;
}
