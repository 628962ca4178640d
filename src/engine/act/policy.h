/*
 * Policy: rules from the config file ([rule NAME] sections) that say which processes and cgroups
 * get which OOM settings, and what the guard may do to them. `oomwarden apply` plans and writes
 * the changes once; `agent` keeps them applied (new processes, new cgroups, values changed back).
 *
 *   [rule pods]
 *   pod = *
 *   oom-score-adj = 900
 *
 * Matchers: all given must match (AND), a list matches any item (OR); then the actions.
 *
 * Matchers on a process: comm, exe, cmdline (POSIX extended regexes, searched like grep -E:
 * anchor with ^...$), uid (numbers or names). Matchers on its memory cgroup, also usable alone
 * for cgroup actions: cgroup (path globs, '*' crosses '/'), qos, pod (pod UID globs), container
 * (container ID globs), unit (systemd unit globs), namespace and pod-name (globs of the names the
 * kubelet's log layout gives the pod, podnames.h: a pod it does not name matches neither).
 * `children = yes` makes a process match when one of its ancestors does.
 *
 * Actions on processes: oom-score-adj, guard (protect | avoid | prefer), kill-unit (process |
 * cgroup). Actions on cgroups: oom-group (0/1), memory-high (a size, or N% of memory.max); a rule
 * with cgroup actions may only have cgroup matchers, since a cgroup has no comm or uid.
 *
 * For each action, the first rule in the file that matches and sets it wins: put the specific
 * rules before the general ones.
 */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/config.h"
#include "model/workload/podnames.h"

struct proc;
struct proc_table;
struct cgroup_hier;
struct cgroup_memory;
struct cgroup_snapshot;
struct sysroot;
struct users;
struct json;

enum guard_weight {
    WEIGHT_UNSET,
    WEIGHT_PROTECT, /* never chosen by the guard */
    WEIGHT_AVOID,   /* chosen only when no normal or preferred candidate is left */
    WEIGHT_NORMAL,
    WEIGHT_PREFER, /* chosen before every normal candidate */
};
const char *guard_weight_name(enum guard_weight w);

enum kill_unit { KILL_UNIT_UNSET, KILL_UNIT_PROCESS, KILL_UNIT_CGROUP };
const char *kill_unit_name(enum kill_unit u);

#define POLICY_ADJ_UNSET INT32_MIN

struct policy_rule {
    char *name;
    int line; /* of its [rule NAME] in the config file */
    /* matchers; a regex is compiled when has_* */
    bool has_comm, has_exe, has_cmdline;
    regex_t comm, exe, cmdline;
    char *comm_src, *exe_src, *cmdline_src;
    struct config_list uids; /* as written: numbers or names */
    int64_t *uid_values;     /* uids.n of them, names resolved when the file was read */
    struct config_list cgroups, pods, containers, units, namespaces, pod_names;
    unsigned qos_mask; /* 1 << enum qos_class */
    bool children;
    /* actions */
    int adj;        /* POLICY_ADJ_UNSET */
    int oom_group;  /* -1 unset */
    uint64_t memory_high;         /* bytes; OPT_ABSENT unset; CGROUP_UNLIMITED for "max" */
    unsigned memory_high_percent; /* 1..100 of memory.max; 0 when absolute */
    enum guard_weight weight;
    enum kill_unit kill_unit;
    unsigned set_keys; /* which keys were given */
};

struct policy {
    struct policy_rule *v;
    size_t n;
};

void policy_release(struct policy *p);

/*
 * The config file's hook for sections it does not know (config_schema.other_section, with a
 * struct policy_loader as ctx): takes "rule NAME" sections, one key at a time. Errors start with
 * the key, so that the loader's "FILE:LINE: " prefix makes them "FILE:LINE: KEY: why".
 *
 * `uid = NAME` is resolved here, through the passwd file of the root the rules will act on
 * (`users`): a name that file does not list is an error of this line, not a rule that silently
 * matches no one. NULL users: only numbers are accepted.
 */
struct policy_loader {
    struct policy *p;
    struct users *users;
};
int policy_config_section(void *ctx, const char *section, int section_line, const char *key,
                          const char *value, struct buf *err);
/* After loading: every rule has a matcher and an action, and cgroup actions only cgroup
 * matchers. Returns -EINVAL with "[rule NAME]: why" in err; *ret_rule gets the rule's index. */
int policy_validate(const struct policy *p, size_t *ret_rule, struct buf *err);
/* Writes the rules back as INI (for --check-config). */
int policy_dump(const struct policy *p, struct buf *out);

/* Which /proc/PID files (PROC_READ_*) matching needs besides STAT|OOM|CGROUP. */
unsigned policy_proc_fields(const struct policy *p);
/* Which /proc/PID files (PROC_READ_*) the rules that set oom_score_adj match on: the only
 * verdicts a process's own change depends on (guard and kill-unit are the guard's, read when it
 * ranks). STAT always; CGROUP only when one of them matches on the cgroup. */
unsigned policy_adj_proc_fields(const struct policy *p);
bool policy_needs_exe(const struct policy *p);
/* Whether a rule matches on namespace or pod-name (the kubelet's layout is read for it). */
bool policy_needs_names(const struct policy *p);
bool policy_has_cgroup_actions(const struct policy *p);
bool policy_has_process_actions(const struct policy *p);

/* What one process is matched against. Strings may be NULL (unknown: no match). */
struct policy_subject {
    const char *comm;
    const char *exe;
    const char *cmdline; /* arguments joined by spaces */
    int64_t uid;         /* -1 unknown */
    const char *cgroup;  /* memory cgroup path (or the v2 path) */
    const struct podnames *names; /* the pods' names; NULL: none known */
};

/* Whether the rule's cgroup matchers (cgroup, qos, pod, container, unit, namespace, pod-name)
 * accept this path; `names` (may be NULL) names its pod. */
bool policy_rule_matches_cgroup(const struct policy_rule *r, const struct podnames *names,
                                const char *path);
/* Whether the rule's process and cgroup matchers accept the subject. */
bool policy_rule_matches_subject(const struct policy_rule *r, const struct policy_subject *s);

/* What the rules say about one process; *_rule is the index of the rule, SIZE_MAX when none. */
struct policy_verdict {
    int adj; /* POLICY_ADJ_UNSET */
    size_t adj_rule;
    enum guard_weight weight; /* WEIGHT_NORMAL when no rule says */
    size_t weight_rule;
    enum kill_unit kill_unit; /* KILL_UNIT_PROCESS when no rule says */
    size_t unit_rule;
};

/*
 * Evaluating the rules over a snapshot. Built once per snapshot: reads each process's exe link
 * when a rule needs it.
 */
struct policy_eval {
    const struct policy *p;
    const struct sysroot *sr; /* for /proc/PID/exe; NULL: exe unknown */
    const struct proc_table *procs;
    char **exe; /* per process of `procs`, lazily; NULL entry: not read yet */
    bool *exe_read;
    char **cmdline; /* per process, joined; lazily */
    /* per process, once: a match, its plan, its second look and its record all ask */
    struct policy_verdict *verdict;
    bool *verdict_done;
    struct podnames names; /* read at init when a rule matches on names and sr is given */
    pid_t self; /* policy_eval_self()'s answer, once self_read */
    bool self_read;
};

int policy_eval_init(struct policy_eval *e, const struct policy *p, const struct sysroot *sr,
                     const struct proc_table *procs);
void policy_eval_release(struct policy_eval *e);
/* This process as e->sr's /proc numbers it (its "self" link), read once per evaluation when
 * first asked; 0 when not there (a fixture tree). */
pid_t policy_eval_self(struct policy_eval *e);
/* The verdict for procs->v[i] (worked out at the first call, then remembered). */
void policy_eval_proc(struct policy_eval *e, size_t i, struct policy_verdict *ret);

/* One change the rules ask for. */
enum policy_change_kind { CHANGE_ADJ, CHANGE_OOM_GROUP, CHANGE_MEMORY_HIGH };
const char *policy_change_kind_name(enum policy_change_kind k);

enum policy_change_state {
    CHANGE_PENDING,   /* planned, not written (or --dry-run) */
    CHANGE_DONE,      /* written */
    CHANGE_FAILED,    /* the write failed: error */
    CHANGE_SKIPPED,   /* cannot apply here: skip_reason */
    CHANGE_VANISHED,  /* the process or cgroup went away before the write */
    CHANGE_WOULD_FAIL, /* --dry-run: the write would fail (error), found before writing */
};

struct policy_change {
    enum policy_change_kind kind;
    size_t rule;
    pid_t pid; /* CHANGE_ADJ */
    uint64_t start_time;
    char comm[65];
    char *cgroup; /* the process's cgroup, or the cgroup changed */
    int64_t before, after; /* adj; 0/1; bytes (CGROUP_UNLIMITED: "max") */
    unsigned percent;      /* memory.high: the rule's % of memory.max, 0 when absolute */
    uint64_t of_max;       /* memory.high: that memory.max */
    enum policy_change_state state;
    const char *skip_reason; /* static */
    int error;               /* negative errno when FAILED */
};

struct policy_plan {
    struct policy_change *v;
    size_t n, cap;
    size_t unchanged; /* matched items already at the wanted value */
};

void policy_plan_release(struct policy_plan *pl);

/*
 * Plans process changes: every process whose verdict sets an oom_score_adj it does not have.
 * Kernel threads and processes without an mm are left alone. A rule never raises this
 * process's own oom_score_adj (the agent matched by `pod = *` in a namespace a rule did not
 * foresee): that change is planned CHANGE_SKIPPED, with the reason. Only procs->v[i] with
 * `only == NULL || only[i]` are looked at (the agent passes the new ones).
 */
int policy_plan_procs(struct policy_eval *e, const bool *only, struct policy_plan *pl);
/* Plans cgroup changes over a snapshot of memory cgroups (oom.group, memory.high). The root is
 * never changed (neither file exists there). `names` (may be NULL) names the pods. */
int policy_plan_cgroups(const struct policy *p, const struct podnames *names,
                        const struct cgroup_snapshot *s, int version, long page_size,
                        struct policy_plan *pl);

/*
 * Writes one change. Processes: /proc/PID is opened and its start time checked first, so a PID
 * reused since the snapshot is never written to (CHANGE_VANISHED). Sets c->state and c->error.
 * Returns 0 when done or vanished, or the negative errno.
 */
int policy_apply_change(const struct sysroot *sr, const struct cgroup_hier *h,
                        struct policy_change *c);

/* Why a failure happened, in words for people (e.g. EACCES lowering oom_score_adj). Static. */
const char *policy_change_error_hint(const struct policy_change *c);

/*
 * For a dry run: what can be known about a pending change without making it. The file must be
 * writable (faccessat W_OK: a read-only mount, no permission), and on a real procfs lowering an
 * oom_score_adj below 0 (and below its value) needs CAP_SYS_RESOURCE, which `cap_sys_resource`
 * says this process has or not (the floor, oom_score_adj_min, is 0 unless a privileged writer
 * set another, and /proc does not show it). Sets CHANGE_WOULD_FAIL with the errno the write would
 * get, or CHANGE_VANISHED; leaves the others pending.
 */
void policy_check_change(const struct sysroot *sr, const struct cgroup_hier *h,
                         bool cap_sys_resource, struct policy_change *c);

/* One line for people: "oom_score_adj  pid 1010 java  -997 -> 900  [rule pods]". */
int policy_change_text(const struct policy *p, const struct policy_change *c, struct buf *out);
void policy_change_json(const struct policy *p, const struct policy_change *c, struct json *j);
