/*
 * Checking fnmatch(3) patterns before they are used. fnmatch never reports a bad pattern: an
 * unclosed '[' matches a literal '[', and a trailing backslash matches nothing, so a typo in a
 * config file would silently match nothing instead of being an error.
 */
#pragma once

/* NULL when `pattern` is well formed for fnmatch(pattern, s, 0), else why not (static text). */
const char *glob_problem(const char *pattern);
