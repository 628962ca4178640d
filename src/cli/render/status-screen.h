/*
 * What `oomwarden status` shows, computed once for its text and its JSON: the limited cgroups
 * nearest their limits with the process each one's OOM kills next, the next victims of a
 * machine-wide OOM, and where the recent kills start.
 */
#pragma once

#include <stddef.h>

#include "model/cgroup/cgoutlook.h"
#include "model/proc/oomdomain.h"

struct node;

struct status_cgroup_row {
    size_t idx; /* in n->cgroups */
    struct cgroup_outlook outlook;
    struct oomdomain dom; /* its own OOM; victims empty when it could not be ranked */
    const struct victim *next;
    size_t next_dom; /* index of `next` in dom.victims */
    size_t with;     /* processes that die with it through memory.oom.group */
};

struct status_victim_row {
    const struct victim *v;
    size_t with; /* memory.oom.group: others that die with it */
};

struct status_screen {
    struct status_cgroup_row *cg;
    size_t ncg, nlimited, near; /* shown; limited cgroups; at 80% or more */
    struct status_victim_row gv[16];
    size_t ngv;
    size_t first_event; /* recent kills: events[first_event..nevents) */
    size_t kills;
};

/* The first `top` of each; 0 or -ENOMEM. */
int status_screen_build(const struct node *n, size_t top, struct status_screen *s);
void status_screen_release(struct status_screen *s);
