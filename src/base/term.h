/* Terminal facts: whether to colour, how wide the screen is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* Parses "auto", "always", "never"; -EINVAL otherwise. */
int color_when_parse(const char *s, enum color_when *ret);
/* Colour only on a TTY, never with NO_COLOR set (https://no-color.org) or TERM=dumb, unless always. */
bool term_use_color(int fd, enum color_when when);
/* Columns of the terminal on fd, or 0 when fd is not a terminal (no truncation then). */
size_t term_width(int fd);
