/*
 * What the checks share, private to engine/doctor/: the finding builder (finding.c), the words
 * that name a workload or a cgroup, and small readings of the node picture. A check file holds
 * the checks of one subject (kills, cgroups, pressure, kernel); doctor.c runs them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doctor.h"
#include "base/buf.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/opt.h"
#include "model/cgroup/cgpath.h"
#include "model/cgroup/cgroup.h"
#include "model/critical.h"
#include "model/workload/identity.h"
#include "model/node.h"
#include "model/log/oomlog.h"
#include "model/pressure/psilevel.h"
#include "model/proc/oomdomain.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"

/* ---- building a finding: title, evidence lines, fixes and its "data" object ---------------- */

struct fb {
    struct finding f;
    size_t cap_e, cap_f;
    struct buf data;
    struct json j; /* compact: the finding's "data" object */
    int err;
};

void fb_begin(struct fb *b, enum doctor_check_id check);
void fb_title(struct fb *b, enum doctor_severity s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fb_ev(struct fb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_fix(struct fb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The evidence line after a list cut short: "  ... and N more" when only `shown` of `total`
 * items were listed; nothing when all were. */
void fb_more(struct fb *b, size_t total, size_t shown);
/* Drops a finding being built (a check that decided against it). */
void fb_discard(struct fb *b);
/* Adds the finding to the report (or frees it on an earlier error). Returns 0 or the error. */
int fb_commit(struct doctor_report *r, struct fb *b);
void finding_release(struct finding *f);

/* A check's result without a finding: what was looked at (OK) or why it could not run. */
int doctor_note(struct doctor_report *r, enum doctor_check_id c, enum doctor_result res,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- words --------------------------------------------------------------------------------- */

/* The workload a cgroup path belongs to (identity_brief(), named from the node's pods), else
 * the path shortened to 48 columns. */
void doctor_cgroup_words(const struct node *node, const char *path, char *out, size_t n);

enum pclass { CLASS_OTHER = PROC_CLASS_OTHER, CLASS_CRITICAL = PROC_CLASS_CRITICAL,
              CLASS_WORKLOAD = PROC_CLASS_WORKLOAD };

/* One victim as the findings' data carry it (rank, pid, comm, adj, badness, memory, class). */
void doctor_victim_json(struct json *j, const struct node *n, const struct victim *v,
                        enum pclass c);

/* ---- small readings -------------------------------------------------------------------------- */

static inline uint64_t or0(uint64_t v)
{
    return opt_has(v) ? v : 0;
}

/* "1.2G": for lists */
static inline const char *sz(char out[FMT_SIZE_LEN], uint64_t v)
{
    return fmt_size(out, v);
}

/* "1.2 GiB": for sentences */
static inline const char *szl(char out[24], uint64_t v)
{
    return fmt_size_long(out, v);
}

static inline const char *class_name(enum pclass c)
{
    return proc_class_name((enum proc_class)c);
}

static inline void proc_identity(const struct node *n, const struct proc *p, struct identity *id)
{
    podnames_identity_proc(&n->names, p->cgroup, p->cgroup_unified, id);
}

static inline enum pclass classify(const struct proc *p, const struct doctor_opts *o)
{
    return (enum pclass)critical_classify(p->comm, p->cgroup, p->cgroup_unified, o->critical,
                                          o->ncritical);
}

static inline bool is_root(const struct cgroup_memory *cg)
{
    return cg->parent == SIZE_MAX;
}

/* End (exclusive) of the subtree of snapshot entry i (pre-order). */
static inline size_t subtree_end(const struct cgroup_snapshot *s, size_t i)
{
    size_t e = i + 1;
    while (e < s->n && s->v[e].depth > s->v[i].depth)
        e++;
    return e;
}

static inline bool have_cgroups(const struct node *n)
{
    return n->hier_err == 0 && n->cgroups_err == 0 && n->cgroups.n > 0;
}

/* ---- the checks, by subject -------------------------------------------------------------------- */

/* check-kills.c: who a machine-wide OOM kills, userspace OOM daemons, oom_score_adj extremes */
int check_kill_order(const struct node *n, const struct doctor_opts *o, struct doctor_report *r);
int check_oom_daemon(const struct node *n, struct doctor_report *r);
int check_adj(const struct node *n, struct doctor_report *r);
/* check-cgroups.c: limits over RAM, memory.high, memory.oom.group, page cache at the limit */
int check_limits(const struct node *n, struct doctor_report *r);
int check_memory_high(const struct node *n, struct doctor_report *r);
int check_oom_group(const struct node *n, struct doctor_report *r);
int check_page_cache(const struct node *n, struct doctor_report *r);
/* check-pressure.c: PSI and thrashing, PSI and the cgroup layout, swap */
int check_pressure(const struct node *n, struct doctor_report *r);
int check_psi_cgroups(const struct node *n, struct doctor_report *r);
int check_swap(const struct node *n, struct doctor_report *r);
/* check-kernel.c: the OOM sysctls, recent OOM kills, the kernel log */
int check_sysctl(const struct node *n, struct doctor_report *r);
int check_recent_kills(const struct node *n, struct doctor_report *r);
int check_kernel_log(const struct node *n, struct doctor_report *r);
/* check-band.c */
int check_guard_band(const struct node *n, struct doctor_report *r);
