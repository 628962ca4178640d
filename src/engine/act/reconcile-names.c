/* New processes told apart by what taskstats says of them (engine/runtime/taskstats.h), where
 * the rules that set oom_score_adj look at nothing more: those that no rule changes are recorded
 * as matched without a read of /proc, and only the others are read. With 20 new processes a
 * second, the open, read and close of each one's stat were most of the agent's CPU. */
#include "reconcile-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* Whether the verdict on oom_score_adj depends only on what taskstats answers: the name and the
 * real uid (the executable, when a rule asks for it, the evaluation reads itself); not on the
 * command line or the cgroup (read from /proc), nor (`children` rules) on the ancestors. */
static bool names_suffice(const struct reconcile *r)
{
    if (policy_adj_proc_fields(r->p) & ~(unsigned)(PROC_READ_STAT | PROC_READ_STATUS))
        return false;
    for (size_t i = 0; i < r->p->n; i++)
        if (r->p->v[i].children)
            return false;
    return true;
}

void reconcile_names_open(struct reconcile *r)
{
    const char *why = NULL;
    if (r->ts.fd < 0 && taskstats_open(&r->ts, &why) < 0)
        snprintf(r->names_why, sizeof(r->names_why), "names from /proc (taskstats: %s)",
                 why ? why : "?");
}

void reconcile_names_close(struct reconcile *r)
{
    taskstats_close(&r->ts);
}

const char *reconcile_names_source(const struct reconcile *r)
{
    if (r->ts.fd < 0)
        return r->names_why;
    return names_suffice(r) ? "names from taskstats"
                            : "names from /proc (a rule that sets oom_score_adj matches on the "
                              "command line, the cgroup or the ancestors)";
}

/* The records of the answered processes, as /proc would have given them for these rules: the
 * name and parent (stat), the uid only where a rule reads status for it. */
static void fill_table(const struct taskstats_name *a, size_t n, unsigned fields,
                       struct proc_table *t)
{
    _Static_assert(sizeof(a->comm) <= sizeof(t->v->comm), "a taskstats name fits a record's");
    for (size_t i = 0; i < n; i++) {
        if (a[i].err)
            continue;
        struct proc *p = &t->v[t->n++];
        proc_init(p, a[i].pid);
        p->ppid = a[i].ppid;
        memcpy(p->comm, a[i].comm, sizeof(a[i].comm));
        if (fields & PROC_READ_STATUS)
            p->uid = a[i].uid;
    }
}

size_t reconcile_names_settle(struct reconcile *r, pid_t *pids, size_t n)
{
    if (r->ts.fd < 0 || n == 0 || !names_suffice(r))
        return n;
    struct taskstats_name *a = malloc(n * sizeof(*a));
    struct proc_table t = {.fields = policy_adj_proc_fields(r->p), .v = malloc(n * sizeof(*t.v)),
                           .cap = n};
    bool *settled = calloc(n, sizeof(*settled));
    int q = a && t.v && settled ? taskstats_names(&r->ts, pids, n, a) : -ENOMEM;
    if (q < 0) {
        if (q != -ENOMEM) {
            log_warn("policy: taskstats failed (%s): new processes are read from /proc from now "
                     "on", strerror(-q));
            snprintf(r->names_why, sizeof(r->names_why), "names from /proc (taskstats failed: %s)",
                     strerror(-q));
            reconcile_names_close(r);
        }
        free(a);
        free(t.v);
        free(settled);
        return n;
    }
    fill_table(a, n, t.fields, &t);
    struct policy_eval e;
    size_t nsettled = 0;
    if (t.n && policy_eval_init(&e, r->p, r->sr, &t) == 0) {
        for (size_t i = 0; i < t.n; i++) {
            struct policy_verdict v;
            policy_eval_proc(&e, i, &v);
            settled[i] = v.adj == POLICY_ADJ_UNSET;
            nsettled += settled[i];
        }
        reconcile_track(r, &e, &t, settled, NULL);
        policy_eval_release(&e);
    }
    r->stats.new_processes += nsettled;
    /* left to read: those a rule may change, and those taskstats did not answer for; a refusal
     * (the process is gone) is not read */
    size_t keep = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].err == 0) {
            if (!settled[k++])
                pids[keep++] = pids[i];
        } else if (a[i].err != ESRCH) {
            pids[keep++] = pids[i];
        }
    }
    free(a);
    free(settled);
    proc_table_release(&t);
    return keep;
}
