#include "policy.h"

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

#define POLICY_REGEX_MAX_COST 10000u

/* ---- the rules as configured -------------------------------------------------------------- */

enum rule_key {
    K_COMM, K_EXE, K_CMDLINE, K_UID, K_CGROUP, K_QOS, K_POD, K_CONTAINER, K_UNIT, K_CHILDREN,
    K_NAMESPACE, K_POD_NAME, K_ADJ, K_OOM_GROUP, K_MEMORY_HIGH, K_GUARD, K_KILL_UNIT, K_COUNT,
};

static const char *const key_names[K_COUNT] = {
    [K_COMM] = "comm",           [K_EXE] = "exe",       [K_CMDLINE] = "cmdline",
    [K_UID] = "uid",             [K_CGROUP] = "cgroup", [K_QOS] = "qos",
    [K_POD] = "pod",             [K_CONTAINER] = "container", [K_UNIT] = "unit",
    [K_CHILDREN] = "children",   [K_ADJ] = "oom-score-adj", [K_OOM_GROUP] = "oom-group",
    [K_MEMORY_HIGH] = "memory-high", [K_GUARD] = "guard", [K_KILL_UNIT] = "kill-unit",
    [K_NAMESPACE] = "namespace", [K_POD_NAME] = "pod-name",
};

#define PROCESS_MATCHERS ((1u << K_COMM) | (1u << K_EXE) | (1u << K_CMDLINE) | (1u << K_UID))
#define CGROUP_MATCHERS                                                                            \
    ((1u << K_CGROUP) | (1u << K_QOS) | (1u << K_POD) | (1u << K_CONTAINER) | (1u << K_UNIT) |   \
     (1u << K_NAMESPACE) | (1u << K_POD_NAME))
#define PROCESS_ACTIONS ((1u << K_ADJ) | (1u << K_GUARD) | (1u << K_KILL_UNIT))
#define CGROUP_ACTIONS ((1u << K_OOM_GROUP) | (1u << K_MEMORY_HIGH))

static void rule_release(struct policy_rule *r)
{
    free(r->name);
    if (r->has_comm)
        regfree(&r->comm);
    if (r->has_exe)
        regfree(&r->exe);
    if (r->has_cmdline)
        regfree(&r->cmdline);
    free(r->comm_src);
    free(r->exe_src);
    free(r->cmdline_src);
    config_list_release(&r->uids);
    free(r->uid_values);
    config_list_release(&r->cgroups);
    config_list_release(&r->pods);
    config_list_release(&r->containers);
    config_list_release(&r->namespaces);
    config_list_release(&r->pod_names);
    config_list_release(&r->units);
}

void policy_release(struct policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        rule_release(&p->v[i]);
    free(p->v);
    *p = (struct policy){0};
}

static struct policy_rule *rule_get(struct policy *p, const char *name, int line)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    struct policy_rule *v = realloc(p->v, (p->n + 1) * sizeof(*v));
    if (!v)
        return NULL;
    p->v = v;
    struct policy_rule *r = &p->v[p->n];
    *r = (struct policy_rule){.line = line, .adj = POLICY_ADJ_UNSET, .oom_group = -1,
                              .memory_high = OPT_ABSENT};
    if (!(r->name = strdup(name)))
        return NULL;
    p->n++;
    return r;
}

/* A list of globs: cgroup paths (starting with '/' or '*'), or names; each well formed. */
static int glob_list(struct config_list *l, bool paths, const char *key, const char *value,
                     struct buf *err)
{
    int rc = config_list_parse(l, key, value, err);
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        const char *why = paths ? config_glob_problem(l->v[i]) : glob_problem(l->v[i]);
        if (why) {
            buf_printf(err, "%s: '%s': %s", key, l->v[i], why);
            return -EINVAL;
        }
    }
    if (rc == 0 && l->n == 0) {
        buf_printf(err, "%s: empty list; leave the key out instead", key);
        return -EINVAL;
    }
    return rc;
}

static int set_regex(regex_t *re, bool *has, char **src, const char *key, const char *value,
                     struct buf *err)
{
    if (!*value) {
        buf_printf(err, "%s: an empty regex matches everything; leave the key out instead", key);
        return -EINVAL;
    }
    /* 70 to 260 bytes a node (glibc 2.36): 10,000 is about 2 MiB, more than a matcher needs */
    bool stacked;
    uint64_t cost = ere_cost(value, &stacked);
    if (stacked) {
        buf_printf(err, "%s: '%.60s%s' repeats a repetition ('a++', '.*?', 'a{2}*'): POSIX "
                        "leaves that undefined (there is no lazy '*?'), and regcomp() can take "
                        "seconds and gigabytes over it; use one operator, or a group: (a+)+",
                   key, value, strlen(value) > 60 ? "..." : "");
        return -EINVAL;
    }
    if (cost > POLICY_REGEX_MAX_COST) {
        buf_printf(err, "%s: '%.60s%s' would compile to about %" PRIu64 " states (the limit is "
                        "%u): nested repetitions multiply ((a{100}){100}), and groups nest at "
                        "most 256 deep",
                   key, value, strlen(value) > 60 ? "..." : "", cost, POLICY_REGEX_MAX_COST);
        return -EINVAL;
    }
    int rc = regcomp(re, value, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof(msg));
        buf_printf(err, "%s: '%s' is not a POSIX extended regex: %s", key, value, msg);
        return -EINVAL;
    }
    *has = true;
    if (!(*src = strdup(value)))
        return -ENOMEM;
    return 0;
}

static int parse_bool_word(const char *v, bool *ret)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
        !strcmp(v, "1")) {
        *ret = true;
        return 0;
    }
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
        !strcmp(v, "0")) {
        *ret = false;
        return 0;
    }
    return -EINVAL;
}

/* The rule's uids as numbers: a name the root's passwd does not list is an error of its line. */
static int resolve_uids(struct policy_rule *r, struct users *users, const char *key,
                        struct buf *err)
{
    if (!(r->uid_values = calloc(r->uids.n, sizeof(*r->uid_values))))
        return -ENOMEM;
    for (size_t i = 0; i < r->uids.n; i++) {
        const char *u = r->uids.v[i];
        int rc = uid_parse(u, &r->uid_values[i]);
        if (rc == -ERANGE) {
            buf_printf(err, "%s: %s is not a uid (0..4294967294)", key, u);
            return -EINVAL;
        }
        if (rc == 0)
            continue;
        if (!users) {
            buf_printf(err, "%s: '%s': names need the root's passwd file; give the number", key,
                       u);
            return -EINVAL;
        }
        rc = users_parse(users, u, &r->uid_values[i]);
        if (rc < 0 && users->load_error) {
            buf_printf(err, "%s: no user '%s': cannot read %s (%s)", key, u, users_file(users),
                       strerror(-users->load_error));
            return -EINVAL;
        }
        if (rc < 0) {
            buf_printf(err, "%s: no user '%s' in %s", key, u, users_file(users));
            return -EINVAL;
        }
    }
    return 0;
}

static int set_key(struct policy_rule *r, enum rule_key k, const char *key, const char *value,
                   struct users *users, struct buf *err)
{
    int rc = 0;
    switch (k) {
    case K_COMM:
        return set_regex(&r->comm, &r->has_comm, &r->comm_src, key, value, err);
    case K_EXE:
        return set_regex(&r->exe, &r->has_exe, &r->exe_src, key, value, err);
    case K_CMDLINE:
        return set_regex(&r->cmdline, &r->has_cmdline, &r->cmdline_src, key, value, err);
    case K_UID:
        rc = config_list_parse(&r->uids, key, value, err);
        if (rc == 0 && r->uids.n == 0)
            goto empty;
        return rc < 0 ? rc : resolve_uids(r, users, key, err);
    case K_CGROUP:
        return glob_list(&r->cgroups, true, key, value, err);
    case K_POD:
        return glob_list(&r->pods, false, key, value, err);
    case K_CONTAINER:
        return glob_list(&r->containers, false, key, value, err);
    case K_NAMESPACE:
        return glob_list(&r->namespaces, false, key, value, err);
    case K_POD_NAME:
        return glob_list(&r->pod_names, false, key, value, err);
    case K_UNIT:
        return glob_list(&r->units, false, key, value, err);
    case K_QOS: {
        struct config_list l = {0};
        rc = config_list_parse(&l, key, value, err);
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
            enum qos_class q = QOS_NONE;
            for (int c = QOS_GUARANTEED; c <= QOS_BESTEFFORT; c++)
                if (strcasecmp(l.v[i], qos_class_name((enum qos_class)c)) == 0)
                    q = (enum qos_class)c;
            if (q == QOS_NONE) {
                buf_printf(err, "%s: '%s' is not a QoS class (guaranteed, burstable, besteffort)",
                           key, l.v[i]);
                rc = -EINVAL;
            }
            r->qos_mask |= 1u << q;
        }
        if (rc == 0 && l.n == 0) {
            config_list_release(&l);
            goto empty;
        }
        config_list_release(&l);
        return rc;
    }
    case K_CHILDREN:
        if (parse_bool_word(value, &r->children) < 0) {
            buf_printf(err, "%s: '%s' is not yes or no", key, value);
            return -EINVAL;
        }
        return 0;
    case K_ADJ: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < -1000 || v > 1000) {
            buf_printf(err, "%s: '%s' is not a whole number from -1000 to 1000", key, value);
            return -EINVAL;
        }
        r->adj = (int)v;
        return 0;
    }
    case K_OOM_GROUP:
        if (strcmp(value, "0") && strcmp(value, "1")) {
            buf_printf(err, "%s: '%s' is not 0 or 1", key, value);
            return -EINVAL;
        }
        r->oom_group = value[0] - '0';
        return 0;
    case K_MEMORY_HIGH: {
        size_t n = strlen(value);
        if (strcmp(value, "max") == 0) {
            r->memory_high = CGROUP_UNLIMITED;
            return 0;
        }
        if (n > 1 && value[n - 1] == '%') {
            char *end;
            unsigned long v = strtoul(value, &end, 10);
            if (end != value + n - 1 || v < 1 || v > 100) {
                buf_printf(err, "%s: '%s' is not a percentage from 1%% to 100%% of memory.max",
                           key, value);
                return -EINVAL;
            }
            r->memory_high_percent = (unsigned)v;
            r->memory_high = 0;
            return 0;
        }
        if (parse_size(value, &r->memory_high) < 0 || r->memory_high == 0) {
            buf_printf(err, "%s: '%s' is not a size (512M, 2G), a percentage of memory.max (90%%) "
                            "or max", key, value);
            return -EINVAL;
        }
        return 0;
    }
    case K_GUARD:
        if (!strcmp(value, "protect"))
            r->weight = WEIGHT_PROTECT;
        else if (!strcmp(value, "avoid"))
            r->weight = WEIGHT_AVOID;
        else if (!strcmp(value, "prefer"))
            r->weight = WEIGHT_PREFER;
        else if (!strcmp(value, "normal"))
            r->weight = WEIGHT_NORMAL;
        else {
            buf_printf(err, "%s: '%s' is not protect, avoid, prefer or normal", key, value);
            return -EINVAL;
        }
        return 0;
    case K_KILL_UNIT:
        if (!strcmp(value, "process"))
            r->kill_unit = KILL_UNIT_PROCESS;
        else if (!strcmp(value, "cgroup"))
            r->kill_unit = KILL_UNIT_CGROUP;
        else {
            buf_printf(err, "%s: '%s' is not process or cgroup", key, value);
            return -EINVAL;
        }
        return 0;
    case K_COUNT:
        break;
    }
    return -EINVAL;
empty:
    buf_printf(err, "%s: empty list; leave the key out instead", key);
    return -EINVAL;
}

int policy_config_section(void *ctx, const char *section, int section_line, const char *key,
                          const char *value, struct buf *err)
{
    struct policy_loader *ld = ctx;
    struct policy *p = ld->p;
    if (strncmp(section, "rule", 4) != 0 ||
        (section[4] != ' ' && section[4] != '\t' && section[4] != '\0')) {
        buf_printf(err, "unknown section [%s]", section);
        return -ENOENT;
    }
    const char *name = section + 4;
    while (*name == ' ' || *name == '\t')
        name++;
    if (!*name) {
        buf_printf(err, "[%s]: a rule needs a name: [rule NAME]", section);
        return -EINVAL;
    }
    for (const char *c = name; *c; c++) {
        if (!(*c == '-' || *c == '_' || *c == '.' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) {
            buf_printf(err, "[%s]: rule names are letters, digits, '-', '_' and '.'", section);
            return -EINVAL;
        }
    }
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(key, key_names[i]) == 0)
            k = i;
    if (k < 0) {
        buf_printf(err, "%s: unknown key in [rule %s] (matchers: comm, exe, cmdline, uid, cgroup, "
                        "qos, pod, container, unit, namespace, pod-name, children; actions: "
                        "oom-score-adj, oom-group, memory-high, guard, kill-unit)",
                   key, name);
        return -ENOENT;
    }
    /* the loader refuses a section or a key given twice */
    struct policy_rule *r = rule_get(p, name, section_line);
    if (!r)
        return -ENOMEM;
    int rc = set_key(r, (enum rule_key)k, key, value, ld->users, err);
    if (rc == 0)
        r->set_keys |= 1u << k;
    return rc;
}

int policy_validate(const struct policy *p, size_t *ret_rule, struct buf *err)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct policy_rule *r = &p->v[i];
        *ret_rule = i;
        unsigned k = r->set_keys;
        if (!(k & (PROCESS_MATCHERS | CGROUP_MATCHERS))) {
            buf_printf(err, "[rule %s]: no matcher (comm, exe, cmdline, uid, cgroup, qos, pod, "
                            "container, unit): a rule for everything is too easy to write by "
                            "mistake; use cgroup = /* if you mean it", r->name);
            return -EINVAL;
        }
        if (!(k & (PROCESS_ACTIONS | CGROUP_ACTIONS))) {
            buf_printf(err, "[rule %s]: no action (oom-score-adj, oom-group, memory-high, guard, "
                            "kill-unit)", r->name);
            return -EINVAL;
        }
        if ((k & CGROUP_ACTIONS) && (k & (PROCESS_MATCHERS | (1u << K_CHILDREN)))) {
            buf_printf(err, "[rule %s]: oom-group and memory-high act on cgroups, which have no "
                            "comm, exe, cmdline, uid or children: match them with cgroup, qos, "
                            "pod, container or unit, in a rule of their own", r->name);
            return -EINVAL;
        }
    }
    return 0;
}

static void dump_list(struct buf *out, const char *key, const struct config_list *l)
{
    if (!l->n)
        return;
    buf_printf(out, "%s = ", key);
    for (size_t i = 0; i < l->n; i++)
        buf_printf(out, "%s%s", i ? ", " : "", l->v[i]);
    buf_putc(out, '\n');
}

int policy_dump(const struct policy *p, struct buf *out)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct policy_rule *r = &p->v[i];
        buf_printf(out, "\n[rule %s]\n", r->name);
        if (r->has_comm)
            buf_printf(out, "comm = %s\n", r->comm_src);
        if (r->has_exe)
            buf_printf(out, "exe = %s\n", r->exe_src);
        if (r->has_cmdline)
            buf_printf(out, "cmdline = %s\n", r->cmdline_src);
        dump_list(out, "uid", &r->uids);
        dump_list(out, "cgroup", &r->cgroups);
        if (r->qos_mask) {
            buf_puts(out, "qos = ");
            bool first = true;
            for (int c = QOS_GUARANTEED; c <= QOS_BESTEFFORT; c++)
                if (r->qos_mask & (1u << c)) {
                    buf_printf(out, "%s%s", first ? "" : ", ", qos_class_name((enum qos_class)c));
                    first = false;
                }
            buf_putc(out, '\n');
        }
        dump_list(out, "pod", &r->pods);
        dump_list(out, "container", &r->containers);
        dump_list(out, "namespace", &r->namespaces);
        dump_list(out, "pod-name", &r->pod_names);
        dump_list(out, "unit", &r->units);
        if (r->set_keys & (1u << K_CHILDREN))
            buf_printf(out, "children = %s\n", r->children ? "yes" : "no");
        if (r->adj != POLICY_ADJ_UNSET)
            buf_printf(out, "oom-score-adj = %d\n", r->adj);
        if (r->oom_group >= 0)
            buf_printf(out, "oom-group = %d\n", r->oom_group);
        if (r->memory_high_percent)
            buf_printf(out, "memory-high = %u%%\n", r->memory_high_percent);
        else if (r->memory_high == CGROUP_UNLIMITED)
            buf_puts(out, "memory-high = max\n");
        else if (opt_has(r->memory_high))
            buf_printf(out, "memory-high = %" PRIu64 "\n", r->memory_high);
        if (r->weight != WEIGHT_UNSET)
            buf_printf(out, "guard = %s\n", guard_weight_name(r->weight));
        if (r->kill_unit != KILL_UNIT_UNSET)
            buf_printf(out, "kill-unit = %s\n", kill_unit_name(r->kill_unit));
    }
    return 0;
}

unsigned policy_proc_fields(const struct policy *p)
{
    unsigned f = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].has_cmdline)
            f |= PROC_READ_CMDLINE;
        if (p->v[i].uids.n)
            f |= PROC_READ_STATUS;
    }
    return f;
}

bool policy_needs_names(const struct policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].namespaces.n || p->v[i].pod_names.n)
            return true;
    return false;
}

bool policy_needs_exe(const struct policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].has_exe)
            return true;
    return false;
}

bool policy_has_cgroup_actions(const struct policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].set_keys & CGROUP_ACTIONS)
            return true;
    return false;
}

bool policy_has_process_actions(const struct policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].set_keys & PROCESS_ACTIONS)
            return true;
    return false;
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
    if (!e->exe || !e->exe_read || !e->cmdline) {
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
    podnames_release(&e->names);
    *e = (struct policy_eval){0};
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

void policy_eval_proc(struct policy_eval *e, size_t i, struct policy_verdict *ret)
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
    }
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(const struct cgroup_memory *const *)a)->path,
                  (*(const struct cgroup_memory *const *)b)->path);
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
        bool group = false, high = false;
        for (size_t ri = 0; ri < p->n && !(group && high); ri++) {
            const struct policy_rule *r = &p->v[ri];
            bool wants = (!group && r->oom_group >= 0) || (!high && opt_has(r->memory_high));
            if (!wants || !policy_rule_matches_cgroup(r, names, cg->path))
                continue;
            if (!group && r->oom_group >= 0) {
                group = true;
                if (version == 2 && opt_has(cg->oom_group) && (int64_t)cg->oom_group == r->oom_group) {
                    pl->unchanged++;
                } else {
                    struct policy_change *c = plan_add(pl);
                    if (!c || !(c->cgroup = strdup(cg->path)))
                        return -ENOMEM;
                    c->kind = CHANGE_OOM_GROUP;
                    c->rule = ri;
                    c->before = opt_has(cg->oom_group) ? (int64_t)cg->oom_group : -1;
                    c->after = r->oom_group;
                    if (version != 2)
                        c->state = CHANGE_SKIPPED, c->skip_reason = "cgroup v1 has no "
                                                                   "memory.oom.group (4.19+, v2)";
                    else if (!opt_has(cg->oom_group))
                        c->state = CHANGE_SKIPPED, c->skip_reason = "no memory.oom.group here "
                                                                   "(kernel before 4.19)";
                }
            }
            if (!high && opt_has(r->memory_high)) {
                high = true;
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
                    continue;
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
