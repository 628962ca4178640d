/*
 * oomwarden apply: the config file's [rule NAME] sections, once: the exact changes (before ->
 * after), then written one by one; a failure is reported for its item and the rest go on.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sys/caps.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "engine/agent.h"
#include "engine/act/policy.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"
#include "cli.h"

#define EXIT_CONFIG 78
#define DEFAULT_CONFIG "/etc/oomwarden/oomwarden.conf"

static const char usage[] =
    "Usage: oomwarden apply [--config FILE] [--dry-run] [--json] [--root DIR]\n"
    "\n"
    "Applies the policy rules of the config file ([rule NAME] sections: oom_score_adj of\n"
    "processes, memory.oom.group and memory.high of cgroups) once, and prints each change as\n"
    "before -> after. Each change is written on its own: one that fails is reported with the\n"
    "reason and the others are still made. `oomwarden agent` keeps the same rules applied.\n"
    "\n"
    "  -c, --config FILE     the config file (default " DEFAULT_CONFIG ")\n"
    "  -n, --dry-run         print the changes, write nothing\n" CLI_COMMON_HELP "\n"
    "A dry run checks what it can without writing: that each file is writable, and that\n"
    "lowering an oom_score_adj below 0 has the CAP_SYS_RESOURCE it needs; those say\n"
    "\"would fail\" with the reason.\n"
    "\n"
    "Exit status: 0 every change made (or nothing to change; --dry-run: planned), 1 at least\n"
    "one change failed (the others were made; --dry-run: would fail), 64 bad flag,\n"
    "78 configuration error.\n";

struct counts {
    size_t done, failed, skipped, vanished, planned, would_fail;
};

static void count(const struct policy_plan *pl, struct counts *n)
{
    for (size_t i = 0; i < pl->n; i++) {
        switch (pl->v[i].state) {
        case CHANGE_PENDING:
            n->planned++;
            break;
        case CHANGE_DONE:
            n->done++;
            break;
        case CHANGE_FAILED:
            n->failed++;
            break;
        case CHANGE_SKIPPED:
            n->skipped++;
            break;
        case CHANGE_VANISHED:
            n->vanished++;
            break;
        case CHANGE_WOULD_FAIL:
            n->would_fail++;
            break;
        }
    }
}

static void render_text(const struct policy *p, const struct policy_plan *pl, bool dry_run,
                        const char *config, struct buf *o)
{
    struct counts n = {0};
    count(pl, &n);
    size_t changes = pl->n - n.skipped;
    buf_printf(o, "%s: %zu change%s%s\n", config, changes, changes == 1 ? "" : "s",
               dry_run ? " planned (dry run: nothing written)" : "");
    for (size_t i = 0; i < pl->n; i++) {
        buf_puts(o, "  ");
        (void)policy_change_text(p, &pl->v[i], o);
        buf_putc(o, '\n');
    }
    if (dry_run)
        buf_printf(o,
                   "%zu would change, %zu would fail, %zu skipped, %zu gone, %zu already as the "
                   "rules say\n",
                   n.planned, n.would_fail, n.skipped, n.vanished, pl->unchanged);
    else
        buf_printf(o,
                   "%zu done, %zu failed, %zu skipped, %zu gone before the write, %zu already "
                   "as the rules say\n",
                   n.done, n.failed, n.skipped, n.vanished, pl->unchanged);
}

static int render_json(const struct policy *p, const struct policy_plan *pl, bool dry_run,
                       const char *config, struct buf *o)
{
    struct counts n = {0};
    count(pl, &n);
    struct json j;
    json_init(&j, o, true);
    json_obj_begin(&j);
    json_kv_str(&j, "config", config);
    json_kv_bool(&j, "dry_run", dry_run);
    json_kv_arr_begin(&j, "changes");
    for (size_t i = 0; i < pl->n; i++)
        policy_change_json(p, &pl->v[i], &j);
    json_arr_end(&j);
    json_kv_obj_begin(&j, "summary");
    json_kv_u64(&j, "planned", n.planned);
    json_kv_u64(&j, "done", n.done);
    json_kv_u64(&j, "failed", n.failed);
    json_kv_u64(&j, "skipped", n.skipped);
    json_kv_u64(&j, "vanished", n.vanished);
    json_kv_u64(&j, "would_fail", n.would_fail);
    json_kv_u64(&j, "unchanged", pl->unchanged);
    json_obj_end(&j);
    json_obj_end(&j); /* the pretty writer ends the document with its newline */
    return json_error(&j);
}

/* The process rules' changes: the processes read with what the rules look at. */
static int plan_processes(const struct sysroot *sr, const struct policy *p,
                          struct proc_table *procs, struct policy_eval *e, struct policy_plan *pl)
{
    int r = procs_snapshot(
        sr, PROC_READ_STAT | PROC_READ_OOM | PROC_READ_CGROUP | policy_proc_fields(p), procs);
    if (r < 0) {
        log_error("cannot read %s: %s", sysroot_path(sr, "/proc"), strerror(-r));
        return r;
    }
    if ((r = policy_eval_init(e, p, sr, procs)) < 0)
        return r;
    return policy_plan_procs(e, NULL, pl);
}

/* The cgroup rules' changes; *hier says whether h was opened (and must be closed). */
static int plan_cgroups(const struct sysroot *sr, const struct policy *p, struct cgroup_hier *h,
                        bool *hier, struct policy_plan *pl)
{
    int r = cgroup_hier_open(sr, h);
    *hier = r == 0;
    if (!*hier || !h->memory_version) {
        log_warn("no cgroup memory controller under %s: the cgroup rules have nothing to act "
                 "on",
                 sysroot_path(sr, "/sys/fs/cgroup"));
        return r;
    }
    struct cgroup_snapshot s;
    if ((r = cgroup_snapshot_read(h, "/", &s)) < 0) {
        log_error("cannot read the memory cgroups: %s", strerror(-r));
        return r;
    }
    struct podnames names = PODNAMES_INIT;
    r = policy_needs_names(p) ? podnames_read(sr, &names) : 0;
    if (r == 0)
        r = policy_plan_cgroups(p, &names, &s, h->memory_version, h->page_size, pl);
    podnames_release(&names);
    cgroup_snapshot_release(&s);
    return r;
}

/* Each change applied (or, for a dry run, checked); how many failed or would. One failure does
 * not stop the others: each item says how it went; a dry run says what it can know would fail. */
static size_t apply_plan(const struct sysroot *sr, const struct cgroup_hier *h, bool dry_run,
                         struct policy_plan *pl)
{
    size_t failed = 0;
    bool cap = caps_effective(CAP_SYS_RESOURCE);
    for (size_t i = 0; i < pl->n; i++) {
        if (dry_run)
            policy_check_change(sr, h, cap, &pl->v[i]);
        else
            (void)policy_apply_change(sr, h, &pl->v[i]);
        failed += pl->v[i].state == CHANGE_FAILED || pl->v[i].state == CHANGE_WOULD_FAIL;
    }
    return failed;
}

static int emit(const struct cli *c, const struct policy *p, const struct policy_plan *pl,
                bool dry_run, const char *config)
{
    struct buf out = BUF_INIT(CAP_OUTPUT);
    int q = 0, rc;
    if (c->json)
        q = render_json(p, pl, dry_run, config, &out);
    else
        render_text(p, pl, dry_run, config, &out);
    if (q < 0)
        rc = log_error_errno(EXIT_FAIL, "cannot format output: %s", strerror(-q));
    else
        rc = cli_emit(&out);
    buf_release(&out);
    return rc;
}

int cmd_apply(struct cli *c, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"config", 'c', ARGS_VALUE, 'c'},
        {"dry-run", 'n', ARGS_NO_VALUE, 'n'},
        CLI_COMMON_OPTIONS,
    };
    const char *config = DEFAULT_CONFIG;
    bool dry_run = false;
    struct args a;
    int opt;
    cli_args_init(c, &a, argc, argv, opts);
    while ((opt = cli_next_option(c, &a, usage)) > 0) {
        if (opt == 'c')
            config = a.value;
        else if (opt == 'n')
            dry_run = true;
    }
    if (opt < 0)
        return cli_args_exit(opt);
    if ((opt = cli_no_more_operands(c, &a, 0)))
        return opt;

    /* the root first: the rules' user names are those of its passwd file */
    struct sysroot sr;
    if (cli_open_root(c, &sr))
        return EXIT_FAIL;
    struct agent_config cfg;
    struct buf err = BUF_INIT(CAP_MESSAGE);
    if (agent_config_load(&sr, config, NULL, 0, &cfg, &err) < 0) {
        log_error("%s", buf_cstr(&err));
        buf_release(&err);
        sysroot_close(&sr);
        return EXIT_CONFIG;
    }
    buf_release(&err);
    const struct policy *p = &cfg.policy;
    int rc = EXIT_FAIL;
    struct proc_table procs = {0};
    struct cgroup_hier h = {.memory = {.fd = -1}, .unified = {.fd = -1}};
    bool hier = false;
    struct policy_plan pl = {0};
    struct policy_eval e = {0};
    int r = 0;
    if (policy_has_process_actions(p) && (r = plan_processes(&sr, p, &procs, &e, &pl)) < 0)
        goto out;
    if (policy_has_cgroup_actions(p) && (r = plan_cgroups(&sr, p, &h, &hier, &pl)) < 0 && hier)
        goto out;
    if (p->n == 0)
        log_warn("%s has no [rule NAME] sections: nothing to apply", config);
    size_t failed = apply_plan(&sr, &h, dry_run, &pl);
    rc = emit(c, p, &pl, dry_run, config);
    if (rc == EXIT_OK && failed)
        rc = EXIT_FAIL;
out:
    if (r < 0 && r != -ENOMEM)
        rc = EXIT_FAIL;
    else if (r == -ENOMEM)
        log_error("out of memory");
    policy_plan_release(&pl);
    policy_eval_release(&e);
    proc_table_release(&procs);
    if (hier)
        cgroup_hier_close(&h);
    sysroot_close(&sr);
    agent_config_release(&cfg);
    return rc;
}
