#include "policy-int.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/ere.h"
#include "base/sys/fileio.h"
#include "base/fmt.h"
#include "base/glob.h"
#include "base/json.h"
#include "base/opt.h"
#include "base/table.h"
#include "base/units.h"
#include "model/cgroup/cgroup.h"
#include "model/workload/identity.h"
#include "model/workload/podnames.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/proc/users.h"


const char *guard_weight_name(enum guard_weight w)
{
    switch (w) {
    case WEIGHT_PROTECT:
        return "protect";
    case WEIGHT_AVOID:
        return "avoid";
    case WEIGHT_PREFER:
        return "prefer";
    case WEIGHT_NORMAL:
    case WEIGHT_UNSET:
    default:
        return "normal";
    }
}

const char *kill_unit_name(enum kill_unit u)
{
    return u == KILL_UNIT_CGROUP ? "cgroup" : "process";
}

const char *policy_change_kind_name(enum policy_change_kind k)
{
    return k == CHANGE_ADJ ? "oom_score_adj" : k == CHANGE_OOM_GROUP ? "memory.oom.group"
                                                                     : "memory.high";
}

/* ---- matching ------------------------------------------------------------------------------ */

static bool glob_any(const struct config_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], s, 0) == 0)
            return true;
    return false;
}

bool policy_rule_matches_cgroup(const struct policy_rule *r, const struct podnames *names,
                                const char *path)
{
    if (!(r->set_keys & CGROUP_MATCHERS))
        return true;
    if (!path)
        return false;
    if (r->cgroups.n && !glob_any(&r->cgroups, path))
        return false;
    if (!r->qos_mask && !r->pods.n && !r->containers.n && !r->units.n && !r->namespaces.n &&
        !r->pod_names.n)
        return true;
    struct identity id;
    podnames_identity(names, path, &id);
    if (r->qos_mask && (id.qos == QOS_NONE || !(r->qos_mask & (1u << id.qos))))
        return false;
    if (r->pods.n && (!id.pod_uid[0] || id.conmon || !glob_any(&r->pods, id.pod_uid)))
        return false;
    if (r->containers.n &&
        (!id.container_id[0] || id.conmon || !glob_any(&r->containers, id.container_id)))
        return false;
    if (r->units.n && (!id.systemd_unit[0] || !glob_any(&r->units, id.systemd_unit)))
        return false;
    /* like pod: conmon is not the pod's; a pod the table does not name matches neither */
    if (r->namespaces.n &&
        (!id.pod_namespace[0] || id.conmon || !glob_any(&r->namespaces, id.pod_namespace)))
        return false;
    if (r->pod_names.n && (!id.pod_name[0] || id.conmon || !glob_any(&r->pod_names, id.pod_name)))
        return false;
    return true;
}

bool policy_rule_matches_subject(const struct policy_rule *r, const struct policy_subject *s)
{
    if (r->has_comm && (!s->comm || regexec(&r->comm, s->comm, 0, NULL, 0) != 0))
        return false;
    if (r->has_exe && (!s->exe || regexec(&r->exe, s->exe, 0, NULL, 0) != 0))
        return false;
    if (r->has_cmdline && (!s->cmdline || regexec(&r->cmdline, s->cmdline, 0, NULL, 0) != 0))
        return false;
    if (r->uids.n) {
        bool any = false;
        for (size_t i = 0; i < r->uids.n && s->uid >= 0; i++)
            any |= r->uid_values[i] == s->uid;
        if (!any)
            return false;
    }
    return policy_rule_matches_cgroup(r, s->names, s->cgroup);
}

int policy_eval_init(struct policy_eval *e, const struct policy *p, const struct sysroot *sr,
                     const struct proc_table *procs)
{
    *e = (struct policy_eval){.p = p, .sr = sr, .procs = procs, .names = PODNAMES_INIT};
    /* read per evaluation: a pod is named from its container's start (the kubelet's layout) */
    if (sr && policy_needs_names(p) && podnames_read(sr, &e->names) < 0)
        return -ENOMEM;
    size_t n = procs ? procs->n : 0;
    e->exe = calloc(n ? n : 1, sizeof(*e->exe));
    e->exe_read = calloc(n ? n : 1, sizeof(*e->exe_read));
    e->cmdline = calloc(n ? n : 1, sizeof(*e->cmdline));
    e->verdict = malloc((n ? n : 1) * sizeof(*e->verdict));
    e->verdict_done = calloc(n ? n : 1, sizeof(*e->verdict_done));
    if (!e->exe || !e->exe_read || !e->cmdline || !e->verdict || !e->verdict_done) {
        policy_eval_release(e);
        return -ENOMEM;
    }
    return 0;
}

void policy_eval_release(struct policy_eval *e)
{
    size_t n = e->procs ? e->procs->n : 0;
    if (e->exe)
        for (size_t i = 0; i < n; i++)
            free(e->exe[i]);
    if (e->cmdline)
        for (size_t i = 0; i < n; i++)
            free(e->cmdline[i]);
    free(e->exe);
    free(e->exe_read);
    free(e->cmdline);
    free(e->verdict);
    free(e->verdict_done);
    podnames_release(&e->names);
    *e = (struct policy_eval){0};
}

pid_t policy_eval_self(struct policy_eval *e)
{
    /* which of the processes is this one: by the root's own /proc (a DaemonSet's --root /host
     * with hostPID numbers it as getpid() does; a fixture tree has no "self"). Read when a plan
     * first asks, not per evaluation: the connector's batches evaluate ten times a second and
     * almost never plan a change that needs it */
    if (e->self_read || !e->sr)
        return e->self;
    e->self_read = true;
    char self[24];
    ssize_t sn = readlinkat(e->sr->proc_fd, "self", self, sizeof(self) - 1);
    if (sn > 0) {
        self[sn] = '\0';
        e->self = (pid_t)strtol(self, NULL, 10);
    }
    return e->self;
}

static const char *exe_of(struct policy_eval *e, size_t i)
{
    if (e->exe_read[i] || !e->sr)
        return e->exe[i];
    e->exe_read[i] = true;
    char path[32], target[4096];
    snprintf(path, sizeof(path), "%d/exe", (int)e->procs->v[i].pid);
    ssize_t n = readlinkat(e->sr->proc_fd, path, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        e->exe[i] = strdup(target);
    }
    return e->exe[i];
}

static const char *cmdline_of(struct policy_eval *e, size_t i)
{
    const struct proc *p = &e->procs->v[i];
    if (e->cmdline[i] || !p->cmdline)
        return e->cmdline[i];
    char *s = malloc(p->cmdline_len + 1);
    if (!s)
        return NULL;
    for (size_t k = 0; k < p->cmdline_len; k++)
        s[k] = p->cmdline[k] ? p->cmdline[k] : ' ';
    s[p->cmdline_len] = '\0';
    e->cmdline[i] = s;
    return s;
}

static bool matches_proc(struct policy_eval *e, size_t ri, size_t i)
{
    const struct policy_rule *r = &e->p->v[ri];
    const struct proc *p = &e->procs->v[i];
    struct policy_subject s = {
        .comm = p->comm,
        .exe = r->has_exe ? exe_of(e, i) : NULL,
        .cmdline = r->has_cmdline ? cmdline_of(e, i) : NULL,
        .uid = p->uid,
        .cgroup = proc_cgroup_path(p),
        .names = &e->names,
    };
    return policy_rule_matches_subject(r, &s);
}

static bool matches_or_ancestor(struct policy_eval *e, size_t ri, size_t i)
{
    if (matches_proc(e, ri, i))
        return true;
    if (!e->p->v[ri].children)
        return false;
    /* up the parent chain; a loop or a missing parent ends it */
    const struct proc *p = &e->procs->v[i];
    for (int depth = 0; depth < 64 && p->ppid > 0; depth++) {
        const struct proc *parent = proc_table_find(e->procs, p->ppid);
        if (!parent || parent == p)
            return false;
        size_t pi = (size_t)(parent - e->procs->v);
        if (matches_proc(e, ri, pi))
            return true;
        p = parent;
    }
    return false;
}

static void eval_proc(struct policy_eval *e, size_t i, struct policy_verdict *ret)
{
    *ret = (struct policy_verdict){.adj = POLICY_ADJ_UNSET, .adj_rule = SIZE_MAX,
                                   .weight = WEIGHT_NORMAL, .weight_rule = SIZE_MAX,
                                   .kill_unit = KILL_UNIT_PROCESS, .unit_rule = SIZE_MAX};
    bool adj = false, weight = false, unit = false;
    for (size_t ri = 0; ri < e->p->n && !(adj && weight && unit); ri++) {
        const struct policy_rule *r = &e->p->v[ri];
        bool wants = (!adj && r->adj != POLICY_ADJ_UNSET) ||
                     (!weight && r->weight != WEIGHT_UNSET) ||
                     (!unit && r->kill_unit != KILL_UNIT_UNSET);
        if (!wants || !matches_or_ancestor(e, ri, i))
            continue;
        if (!adj && r->adj != POLICY_ADJ_UNSET) {
            adj = true;
            ret->adj = r->adj;
            ret->adj_rule = ri;
        }
        if (!weight && r->weight != WEIGHT_UNSET) {
            weight = true;
            ret->weight = r->weight;
            ret->weight_rule = ri;
        }
        if (!unit && r->kill_unit != KILL_UNIT_UNSET) {
            unit = true;
            ret->kill_unit = r->kill_unit;
            ret->unit_rule = ri;
        }
    }
}

void policy_eval_proc(struct policy_eval *e, size_t i, struct policy_verdict *ret)
{
    if (!e->verdict_done[i]) {
        eval_proc(e, i, &e->verdict[i]);
        e->verdict_done[i] = true;
    }
    *ret = e->verdict[i];
}

/* ---- planning -------------------------------------------------------------------------------- */

void policy_plan_release(struct policy_plan *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        free(pl->v[i].cgroup);
    free(pl->v);
    *pl = (struct policy_plan){0};
}

static struct policy_change *plan_add(struct policy_plan *pl)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 32;
        struct policy_change *v = realloc(pl->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        pl->v = v;
        pl->cap = cap;
    }
    struct policy_change *c = &pl->v[pl->n++];
    *c = (struct policy_change){0};
    return c;
}

int policy_plan_procs(struct policy_eval *e, const bool *only, struct policy_plan *pl)
{
    const struct proc_table *t = e->procs;
    for (size_t i = 0; i < t->n; i++) {
        const struct proc *p = &t->v[i];
        if ((only && !only[i]) || p->kernel_thread || !p->has_adj || p->state == 'Z' ||
            p->state == 'X')
            continue;
        struct policy_verdict v;
        policy_eval_proc(e, i, &v);
        if (v.adj == POLICY_ADJ_UNSET)
            continue;
        if (v.adj == p->oom_score_adj) {
            pl->unchanged++;
            continue;
        }
        struct policy_change *c = plan_add(pl);
        if (!c)
            return -ENOMEM;
        c->kind = CHANGE_ADJ;
        c->rule = v.adj_rule;
        c->pid = p->pid;
        c->start_time = p->start_time;
        snprintf(c->comm, sizeof(c->comm), "%s", p->comm);
        const char *cg = proc_cgroup_path(p);
        if (cg && !(c->cgroup = strdup(cg)))
            return -ENOMEM;
        c->before = p->oom_score_adj;
        c->after = v.adj;
        /* pid 1 is fine to adjust (its adj is inherited by everything it starts), but the
         * kernel never OOM-kills it: say so rather than pretend */
        c->state = CHANGE_PENDING;
        if (v.adj > p->oom_score_adj && p->pid == policy_eval_self(e)) {
            c->state = CHANGE_SKIPPED;
            c->skip_reason = "this is oomwarden itself: no rule makes it a likelier victim of the "
                             "kernel's OOM killer than it is (a rule for its namespace or cgroup "
                             "says what it should have)";
        }
    }
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(const struct cgroup_memory *const *)a)->path,
                  (*(const struct cgroup_memory *const *)b)->path);
}

/* memory.oom.group of one cgroup as rule `ri` wants it */
static int plan_oom_group(struct policy_plan *pl, const struct policy_rule *r, size_t ri,
                          const struct cgroup_memory *cg, int version)
{
    if (version == 2 && opt_has(cg->oom_group) && (int64_t)cg->oom_group == r->oom_group) {
        pl->unchanged++;
        return 0;
    }
    struct policy_change *c = plan_add(pl);
    if (!c || !(c->cgroup = strdup(cg->path)))
        return -ENOMEM;
    c->kind = CHANGE_OOM_GROUP;
    c->rule = ri;
    c->before = opt_has(cg->oom_group) ? (int64_t)cg->oom_group : -1;
    c->after = r->oom_group;
    if (version != 2)
        c->state = CHANGE_SKIPPED,
        c->skip_reason = "cgroup v1 has no memory.oom.group (4.19+, v2)";
    else if (!opt_has(cg->oom_group))
        c->state = CHANGE_SKIPPED,
        c->skip_reason = "no memory.oom.group here (kernel before 4.19)";
    return 0;
}

/* memory.high of one cgroup as rule `ri` wants it */
static int plan_high(struct policy_plan *pl, const struct policy_rule *r, size_t ri,
                     const struct cgroup_memory *cg, int version, long page_size)
{
    uint64_t want = r->memory_high, ps = page_size > 0 ? (uint64_t)page_size : 4096;
    const char *skip = NULL;
    /* the kernel keeps whole pages: compare with what it will read back */
    if (want != CGROUP_UNLIMITED)
        want = want / ps * ps;
    if (version != 2)
        skip = "cgroup v1 has no memory.high (soft_limit_in_bytes is not the same)";
    /* a skipped change still says what the rule wants, when that is known */
    if (r->memory_high_percent) {
        if (cgroup_limit_set(cg->max)) {
            want = percent_of(cg->max, r->memory_high_percent) / ps * ps;
        } else {
            want = OPT_ABSENT;
            if (!skip)
                skip = "no memory.max to take a percentage of";
        }
    }
    if (!skip && opt_has(cg->high) && cg->high == want) {
        pl->unchanged++;
        return 0;
    }
    struct policy_change *c = plan_add(pl);
    if (!c || !(c->cgroup = strdup(cg->path)))
        return -ENOMEM;
    c->kind = CHANGE_MEMORY_HIGH;
    c->rule = ri;
    c->before = opt_has(cg->high) ? (int64_t)cg->high : -1;
    c->after = want == OPT_ABSENT ? -1 : (int64_t)want;
    c->percent = r->memory_high_percent;
    c->of_max = cg->max;
    if (skip)
        c->state = CHANGE_SKIPPED, c->skip_reason = skip;
    return 0;
}

int policy_plan_cgroups(const struct policy *p, const struct podnames *names,
                        const struct cgroup_snapshot *s, int version, long page_size,
                        struct policy_plan *pl)
{
    /* by path, not in the directory order of the walk: the same tree plans the same way on
     * every machine (a copied tree lists its directories in another order) */
    _cleanup_free_ const struct cgroup_memory **order = calloc(s->n ? s->n : 1, sizeof(*order));
    if (!order)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        order[i] = &s->v[i];
    qsort(order, s->n, sizeof(*order), by_path);
    for (size_t i = 0; i < s->n; i++) {
        const struct cgroup_memory *cg = order[i];
        if (strcmp(cg->path, "/") == 0)
            continue;
        /* the first matching rule that sets each knob */
        bool group = false, high = false;
        for (size_t ri = 0; ri < p->n && !(group && high); ri++) {
            const struct policy_rule *r = &p->v[ri];
            bool wants = (!group && r->oom_group >= 0) || (!high && opt_has(r->memory_high));
            if (!wants || !policy_rule_matches_cgroup(r, names, cg->path))
                continue;
            if (!group && r->oom_group >= 0) {
                group = true;
                if (plan_oom_group(pl, r, ri, cg, version) < 0)
                    return -ENOMEM;
            }
            if (!high && opt_has(r->memory_high)) {
                high = true;
                if (plan_high(pl, r, ri, cg, version, page_size) < 0)
                    return -ENOMEM;
            }
        }
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------- */

static int apply_adj(const struct sysroot *sr, struct policy_change *c)
{
    char name[16];
    snprintf(name, sizeof(name), "%d", (int)c->pid);
    int dfd = openat(sr->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
    /* the directory fd stays with the process it was opened for, so after this check the write
     * cannot land on a process that got the PID later */
    struct buf b = BUF_INIT(4096);
    int r = read_virtual_at(dfd, "stat", &b);
    if (r >= 0) {
        struct proc p = {0};
        r = proc_stat_parse(b.data, b.len, &p);
        /* a zombie takes the write (its signal struct lives until it is reaped) and would be
         * reported done: it exited after the plan, so it is gone */
        if (r == 0 && (p.start_time != c->start_time || p.state == 'Z' || p.state == 'X'))
            r = -ESRCH;
    }
    buf_release(&b);
    if (r >= 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", (int)c->after);
        r = write_string_at(dfd, "oom_score_adj", v);
    }
    close(dfd);
    return r == -ENOENT ? -ESRCH : r;
}

int policy_apply_change(const struct sysroot *sr, const struct cgroup_hier *h,
                        struct policy_change *c)
{
    if (c->state == CHANGE_SKIPPED)
        return 0;
    int r;
    if (c->kind == CHANGE_ADJ) {
        r = apply_adj(sr, c);
    } else {
        int dfd = cgroup_open_dir(h, c->cgroup);
        if (dfd < 0) {
            r = dfd;
        } else {
            char v[32];
            if (c->kind == CHANGE_OOM_GROUP)
                snprintf(v, sizeof(v), "%d", (int)c->after);
            else if ((uint64_t)c->after == CGROUP_UNLIMITED)
                snprintf(v, sizeof(v), "max");
            else
                snprintf(v, sizeof(v), "%" PRId64, c->after);
            r = write_string_at(dfd, c->kind == CHANGE_OOM_GROUP ? "memory.oom.group"
                                                                   : "memory.high", v);
            close(dfd);
        }
    }
    if (r == -ESRCH || r == -ENOENT || r == -ENODEV) {
        c->state = CHANGE_VANISHED;
        return 0;
    }
    c->state = r < 0 ? CHANGE_FAILED : CHANGE_DONE;
    c->error = r < 0 ? r : 0;
    return r < 0 ? r : 0;
}

void policy_check_change(const struct sysroot *sr, const struct cgroup_hier *h,
                         bool cap_sys_resource, struct policy_change *c)
{
    if (c->state != CHANGE_PENDING)
        return;
    int dfd, r = 0;
    const char *file;
    char name[16];
    bool procfs = false;
    if (c->kind == CHANGE_ADJ) {
        snprintf(name, sizeof(name), "%d", (int)c->pid);
        dfd = openat(sr->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        file = "oom_score_adj";
        struct statfs st;
        procfs = dfd >= 0 && fstatfs(dfd, &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
    } else {
        dfd = cgroup_open_dir(h, c->cgroup);
        file = c->kind == CHANGE_OOM_GROUP ? "memory.oom.group" : "memory.high";
    }
    if (dfd < 0)
        r = c->kind == CHANGE_ADJ ? -errno : dfd;
    else if (faccessat(dfd, file, W_OK, AT_EACCESS) < 0)
        r = -errno;
    /* fs/proc/base.c __set_oom_adj(): below signal->oom_score_adj_min without CAP_SYS_RESOURCE
     * is -EACCES; only a real procfs enforces it (a fixture tree's file is a plain file) */
    else if (procfs && !cap_sys_resource && c->after < 0 && c->after < c->before)
        r = -EACCES;
    if (dfd >= 0)
        close(dfd);
    if (r == -ENOENT || r == -ESRCH) {
        c->state = CHANGE_VANISHED;
    } else if (r < 0) {
        c->state = CHANGE_WOULD_FAIL;
        c->error = r;
    }
}

const char *policy_change_error_hint(const struct policy_change *c)
{
    if (c->kind == CHANGE_ADJ && (c->error == -EACCES || c->error == -EPERM) && c->after < 0)
        return "lowering oom_score_adj below the process's floor (oom_score_adj_min, 0 unless set "
               "at start) needs CAP_SYS_RESOURCE";
    if (c->kind == CHANGE_ADJ && (c->error == -EACCES || c->error == -EPERM) &&
        c->after < c->before)
        return "lowering oom_score_adj below the value it was raised from needs "
               "CAP_SYS_RESOURCE";
    if (c->error == -EROFS)
        return "the file system is mounted read-only (a container's /sys/fs/cgroup often is): "
               "mount it read-write, or apply from the host";
    if (c->error == -EACCES || c->error == -EPERM)
        return "not writable: root, or CAP_DAC_OVERRIDE, and a writable cgroup/proc mount";
    return NULL;
}

static void value_text(const struct policy_change *c, int64_t v, char *out, size_t n)
{
    if (c->kind == CHANGE_MEMORY_HIGH) {
        /* "max" first: CGROUP_UNLIMITED is negative as an int64_t */
        if ((uint64_t)v == CGROUP_UNLIMITED)
            snprintf(out, n, "max");
        else if (v < 0)
            snprintf(out, n, "-");
        else {
            char s[FMT_SIZE_LEN];
            snprintf(out, n, "%s", fmt_size(s, (uint64_t)v));
        }
    } else if (c->kind == CHANGE_OOM_GROUP && v < 0) {
        snprintf(out, n, "-");
    } else {
        snprintf(out, n, "%" PRId64, v);
    }
}

static const char *state_name(enum policy_change_state s)
{
    switch (s) {
    case CHANGE_PENDING:
        return "planned";
    case CHANGE_DONE:
        return "done";
    case CHANGE_FAILED:
        return "failed";
    case CHANGE_SKIPPED:
        return "skipped";
    case CHANGE_VANISHED:
        return "vanished";
    case CHANGE_WOULD_FAIL:
        return "would_fail";
    }
    return "?";
}

int policy_change_text(const struct policy *p, const struct policy_change *c, struct buf *out)
{
    char a[32], b[32];
    value_text(c, c->before, a, sizeof(a));
    value_text(c, c->after, b, sizeof(b));
    /* comm and cgroup names are anyone's to choose: no terminal escapes from them */
    const char *cg = c->cgroup ? c->cgroup : "?";
    if (c->kind == CHANGE_ADJ) {
        buf_printf(out, "%-16s pid %d ", policy_change_kind_name(c->kind), (int)c->pid);
        text_sanitize_into(out, c->comm, strlen(c->comm));
        buf_puts(out, " (");
        text_sanitize_into(out, cg, strlen(cg));
        buf_putc(out, ')');
    } else {
        buf_printf(out, "%-16s ", policy_change_kind_name(c->kind));
        text_sanitize_into(out, cg, strlen(cg));
    }
    if (c->state == CHANGE_SKIPPED) {
        buf_printf(out, ": skipped: %s", c->skip_reason);
    } else {
        buf_printf(out, ": %s -> %s", a, b);
        if (c->kind == CHANGE_MEMORY_HIGH && c->percent) {
            char m[FMT_SIZE_LEN];
            buf_printf(out, " (%u%% of memory.max %s)", c->percent, fmt_size(m, c->of_max));
        }
        if (c->state == CHANGE_FAILED || c->state == CHANGE_WOULD_FAIL) {
            const char *hint = policy_change_error_hint(c);
            buf_printf(out, ": %s: %s%s%s", c->state == CHANGE_FAILED ? "FAILED" : "would fail",
                       strerror(-c->error), hint ? ": " : "", hint ? hint : "");
        } else if (c->state == CHANGE_VANISHED) {
            buf_puts(out, ": gone before the write");
        }
    }
    return buf_printf(out, "  [rule %s]", p->v[c->rule].name);
}

void policy_change_json(const struct policy *p, const struct policy_change *c, struct json *j)
{
    json_obj_begin(j);
    json_kv_str(j, "kind", policy_change_kind_name(c->kind));
    json_kv_str(j, "rule", p->v[c->rule].name);
    if (c->kind == CHANGE_ADJ) {
        json_kv_i64(j, "pid", c->pid);
        json_kv_str(j, "comm", c->comm);
    }
    json_kv_str(j, "cgroup", c->cgroup);
    const int64_t vals[2] = {c->before, c->after};
    const char *keys[2] = {"before", "after"};
    for (int k = 0; k < 2; k++) {
        json_key(j, keys[k]);
        if (c->kind == CHANGE_MEMORY_HIGH && (uint64_t)vals[k] == CGROUP_UNLIMITED)
            json_str(j, "max");
        else if (vals[k] < 0 && c->kind != CHANGE_ADJ)
            json_null(j);
        else
            json_i64(j, vals[k]);
    }
    if (c->kind == CHANGE_MEMORY_HIGH && c->percent) {
        json_kv_u64(j, "percent_of_max", c->percent);
        /* as `cgroup --json` writes limits: bytes, "max", or null when unknown */
        json_key(j, "max");
        if (c->of_max == CGROUP_UNLIMITED)
            json_str(j, "max");
        else if (!opt_has(c->of_max))
            json_null(j);
        else
            json_u64(j, c->of_max);
    }
    json_kv_str(j, "state", state_name(c->state));
    if (c->state == CHANGE_SKIPPED)
        json_kv_str(j, "reason", c->skip_reason);
    if (c->state == CHANGE_FAILED || c->state == CHANGE_WOULD_FAIL) {
        json_kv_str(j, "error", strerror(-c->error));
        json_kv_str(j, "hint", policy_change_error_hint(c));
    }
    json_obj_end(j);
}
