/* What `oomwarden ps` shows (its rows as a table, a tree or JSON, and the OOM domain above
 * the table), apart from its options and the reading in cmd-ps.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct cli;
struct kver;
struct meminfo;
struct oomdomain;
struct podnames;
struct proc;
struct sysroot;
struct users;
struct victim;
struct victim_list;

enum sort_key { SORT_SCORE, SORT_RSS, SORT_PID };

struct ps_opts {
    bool tree, extended, kernel, headers;
    long top;
    enum sort_key sort;
    pid_t *pids;
    size_t npids;
    const char *user;
    const char *cgroup_prefix;
    const char *cgroup; /* --cgroup: rank in that memcg's OOM domain */
};

/* One displayed process: the snapshot entry and, when the view ranks, its model entry. */
struct row {
    const struct proc *p;
    const struct victim *v;
    size_t dom; /* --cgroup: index in the domain's victim list */
};

/* The rows as JSON (in tree order with --tree), with the ranking's context. */
int ps_render_json(const struct ps_opts *o, const struct sysroot *sr, const struct kver *k,
                   const struct meminfo *mi, const struct victim_list *vl, struct users *users,
                   const struct podnames *names, const struct oomdomain *d,
                   const struct row *rows, size_t n, struct buf *out);

/* --tree: the rows (in pid order) as the process hierarchy. */
int ps_render_tree(const struct cli *c, const struct ps_opts *o, const struct row *rows,
                   size_t n, struct buf *out);

/* The ranked table: the global ranking, or the --cgroup domain's (d). */
int ps_render_ranked(const struct cli *c, const struct ps_opts *o, struct users *users,
                     const struct podnames *names, const struct oomdomain *d, long page_size,
                     const struct row *rows, size_t n, struct buf *out);

/* What an OOM in the --cgroup domain means, before the table. */
void ps_render_domain(const struct cli *c, const struct oomdomain *d, struct buf *out);

/* The global ranking's one line above the table: what it is ranked by. */
void ps_render_global_note(const struct victim_list *vl, long page_size, struct buf *out);
