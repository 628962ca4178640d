/* The rules as the config file gives them: [rule NAME] sections read, checked and written back,
 * and what they need read. Matching, planning and writing are in policy.c. */
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




/* a regex whose compiled automaton would pass this many states is refused (glibc's closure
 * computation grows far faster than the pattern; ere_cost() estimates it) */
#define POLICY_REGEX_MAX_COST 10000u

static const char *const key_names[K_COUNT] = {
    [K_COMM] = "comm",           [K_EXE] = "exe",       [K_CMDLINE] = "cmdline",
    [K_UID] = "uid",             [K_CGROUP] = "cgroup", [K_QOS] = "qos",
    [K_POD] = "pod",             [K_CONTAINER] = "container", [K_UNIT] = "unit",
    [K_CHILDREN] = "children",   [K_ADJ] = "oom-score-adj", [K_OOM_GROUP] = "oom-group",
    [K_MEMORY_HIGH] = "memory-high", [K_GUARD] = "guard", [K_KILL_UNIT] = "kill-unit",
    [K_NAMESPACE] = "namespace", [K_POD_NAME] = "pod-name",
};


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

static const char empty_list[] = "%s: empty list; leave the key out instead";

static int set_qos(struct policy_rule *r, const char *key, const char *value, struct buf *err)
{
    struct config_list l = {0};
    int rc = config_list_parse(&l, key, value, err);
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
        buf_printf(err, empty_list, key);
        rc = -EINVAL;
    }
    config_list_release(&l);
    return rc;
}

static int set_adj(struct policy_rule *r, const char *key, const char *value, struct buf *err)
{
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

static int set_memory_high(struct policy_rule *r, const char *key, const char *value,
                           struct buf *err)
{
    size_t n = strlen(value);
    if (strcmp(value, "max") == 0) {
        r->memory_high = CGROUP_UNLIMITED;
        return 0;
    }
    if (n > 1 && value[n - 1] == '%') {
        char *end;
        unsigned long v = strtoul(value, &end, 10);
        if (end != value + n - 1 || v < 1 || v > 100) {
            buf_printf(err, "%s: '%s' is not a percentage from 1%% to 100%% of memory.max", key,
                       value);
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

/* guard = ... and kill-unit = ...: one word of a few */
static int set_word(struct policy_rule *r, enum rule_key k, const char *key, const char *value,
                    struct buf *err)
{
    if (k == K_GUARD) {
        static const char *const w[] = {
            [WEIGHT_PROTECT] = "protect", [WEIGHT_AVOID] = "avoid",
            [WEIGHT_PREFER] = "prefer",   [WEIGHT_NORMAL] = "normal"};
        for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
            if (w[i] && !strcmp(value, w[i])) {
                r->weight = (enum guard_weight)i;
                return 0;
            }
        buf_printf(err, "%s: '%s' is not protect, avoid, prefer or normal", key, value);
        return -EINVAL;
    }
    if (!strcmp(value, "process") || !strcmp(value, "cgroup")) {
        r->kill_unit = value[0] == 'c' ? KILL_UNIT_CGROUP : KILL_UNIT_PROCESS;
        return 0;
    }
    buf_printf(err, "%s: '%s' is not process or cgroup", key, value);
    return -EINVAL;
}

static int set_key(struct policy_rule *r, enum rule_key k, const char *key, const char *value,
                   struct users *users, struct buf *err)
{
    int rc;
    switch (k) {
    case K_COMM:
        return set_regex(&r->comm, &r->has_comm, &r->comm_src, key, value, err);
    case K_EXE:
        return set_regex(&r->exe, &r->has_exe, &r->exe_src, key, value, err);
    case K_CMDLINE:
        return set_regex(&r->cmdline, &r->has_cmdline, &r->cmdline_src, key, value, err);
    case K_UID:
        rc = config_list_parse(&r->uids, key, value, err);
        if (rc == 0 && r->uids.n == 0) {
            buf_printf(err, empty_list, key);
            return -EINVAL;
        }
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
    case K_QOS:
        return set_qos(r, key, value, err);
    case K_CHILDREN:
        if (parse_bool_word(value, &r->children) < 0) {
            buf_printf(err, "%s: '%s' is not yes or no", key, value);
            return -EINVAL;
        }
        return 0;
    case K_ADJ:
        return set_adj(r, key, value, err);
    case K_OOM_GROUP:
        if (strcmp(value, "0") && strcmp(value, "1")) {
            buf_printf(err, "%s: '%s' is not 0 or 1", key, value);
            return -EINVAL;
        }
        r->oom_group = value[0] - '0';
        return 0;
    case K_MEMORY_HIGH:
        return set_memory_high(r, key, value, err);
    case K_GUARD:
    case K_KILL_UNIT:
        return set_word(r, k, key, value, err);
    case K_COUNT:
        break;
    }
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

unsigned policy_adj_proc_fields(const struct policy *p)
{
    unsigned f = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct policy_rule *r = &p->v[i];
        if (r->adj == POLICY_ADJ_UNSET)
            continue;
        if (r->has_cmdline)
            f |= PROC_READ_CMDLINE;
        if (r->uids.n)
            f |= PROC_READ_STATUS;
        if (r->set_keys & CGROUP_MATCHERS)
            f |= PROC_READ_CGROUP;
    }
    return PROC_READ_STAT | f;
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

