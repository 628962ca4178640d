/* The running kernel's version: the OOM formulas and report formats depend on it. */
#pragma once

#include <stdbool.h>

struct sysroot;

struct kver {
    unsigned major, minor, patch;
    char release[128]; /* as in /proc/sys/kernel/osrelease */
    bool known;
};

/* Parses "6.1.0-13-amd64", "2.6.32-279.el6.x86_64", "6.18.44-fc"... Returns 0 or -EINVAL. */
int kver_parse(const char *s, struct kver *ret);
/* Reads <root>/proc/sys/kernel/osrelease. */
int kver_read(const struct sysroot *sr, struct kver *ret);
/* <0, 0, >0 like strcmp, against major.minor.patch. */
int kver_cmp(const struct kver *k, unsigned major, unsigned minor, unsigned patch);
static inline bool kver_at_least(const struct kver *k, unsigned major, unsigned minor,
                                 unsigned patch)
{
    return kver_cmp(k, major, minor, patch) >= 0;
}
