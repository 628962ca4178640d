/* One cgroup's report as text (oomwarden cgroup PATH); the JSON stays with the command. */
#pragma once

struct buf;
struct cli;
struct cgobserve;
struct cgroup_binding;
struct cgroup_hier;
struct cgroup_memory;
struct podnames;
struct psi;

void cgroup_report_text(const struct cli *c, const struct cgroup_hier *h,
                        const struct podnames *names, const struct cgroup_memory *cg,
                        const struct cgroup_binding *bd, const struct psi *sys,
                        const struct cgobserve *obs, struct buf *out);
