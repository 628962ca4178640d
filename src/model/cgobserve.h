/*
 * Plain-language observations about one cgroup's memory, each derived from its numbers only
 * (no guessing about the workload): where the charged memory is, what reclaim can take, how
 * close the limit is, whether there is back-pressure before it, what happened at it, and how
 * stalled the cgroup is.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct cgroup_memory;

#define CGOBSERVE_MAX 16

struct cgobserve {
    char *v[CGOBSERVE_MAX]; /* malloc'd sentences, without a final newline */
    size_t n;
};

/* What binds the cgroup besides its own numbers. */
struct cgobserve_ctx {
    uint64_t effective_limit;  /* the tightest limit of it and its ancestors, or CGROUP_UNLIMITED */
    const char *limit_from;    /* the cgroup that sets it (NULL when none) */
};

/* Fills `ret`. Returns 0 or -ENOMEM. */
int cgobserve_make(const struct cgroup_memory *cg, const struct cgobserve_ctx *ctx,
                   struct cgobserve *ret);
void cgobserve_release(struct cgobserve *o);
