#include "glob.h"

#include <stddef.h>
#include <string.h>

/* The end of a bracket expression starting at p[0] == '[' (the ']'), or NULL when unclosed.
 * As glibc reads one: '!' or '^' negates, a ']' first is literal, [:class:], [.x.] and [=x=]
 * are single elements, a backslash escapes (flags without FNM_NOESCAPE). */
static const char *bracket_end(const char *p)
{
    const char *q = p + 1;
    if (*q == '!' || *q == '^')
        q++;
    if (*q == ']')
        q++;
    while (*q && *q != ']') {
        if (*q == '\\' && q[1]) {
            q += 2;
        } else if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            char delim[3] = {q[1], ']', '\0'};
            const char *e = strstr(q + 2, delim);
            if (!e)
                return NULL;
            q = e + 2;
        } else {
            q++;
        }
    }
    return *q == ']' ? q : NULL;
}

const char *glob_problem(const char *pattern)
{
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return "a trailing backslash (it matches nothing)";
            p++;
        } else if (*p == '[') {
            const char *e = bracket_end(p);
            if (!e)
                return "an unclosed '[' (a literal '[' is written [[])";
            p = e;
        }
    }
    return NULL;
}
