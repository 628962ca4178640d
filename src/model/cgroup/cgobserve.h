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

struct cgroup_binding;
struct cgroup_outlook;
struct workingset;

/*
 * Fills `ret`. `b` is the limit that binds the cgroup (cgroup_binding_of()); `group_top` the
 * highest cgroup with memory.oom.group = 1 from it up to the OOMing one (v2), NULL when none;
 * `ol` what the next growth runs into (cgroup_outlook_of() on the binding cgroup), `ws` the
 * cgroup's refaults over an interval; either NULL when not known. Returns 0 or -ENOMEM.
 */
int cgobserve_make(const struct cgroup_memory *cg, const struct cgroup_binding *b,
                   const char *group_top, const struct cgroup_outlook *ol,
                   const struct workingset *ws, struct cgobserve *ret);
void cgobserve_release(struct cgobserve *o);
