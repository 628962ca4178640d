/*
 * The second look at a process the policy has just matched. A program, a container runtime or an
 * init often writes its own oom_score_adj in its first moments (a Guaranteed pod's -997, a
 * daemon's OOMScoreAdjust), and that write can come after the policy's read at fork or exec (on a
 * busy or emulated machine hundreds of ms after the exec): without a second look the program's
 * value would stand until the recheck, a minute by default. So each new process a rule sets
 * oom_score_adj for is read again VERIFY_FIRST_MS and VERIFY_SECOND_MS later (one pread each of
 * the oom_score_adj file its match opened and kept, with the connector; by name with the scan),
 * and matched and written again when it differs: a put-back, an event like any change, marked
 * "put_back".
 */
#include "reconcile-int.h"

#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "engine/runtime/loop.h"
#include "model/sysroot.h"

/* the looks after the match, each counted from the one before (1 s, then 5 s after the match) */
static const uint64_t verify_after_ms[] = {VERIFY_FIRST_MS, VERIFY_SECOND_MS - VERIFY_FIRST_MS};
#define VERIFY_ROUNDS (sizeof(verify_after_ms) / sizeof(verify_after_ms[0]))

static struct recent *recent_find(struct reconcile *r, pid_t pid)
{
    /* tens of entries (new processes a second times 5 s): a linear look */
    for (size_t i = 0; i < r->nrecent; i++)
        if (r->recent[i].pid == pid)
            return &r->recent[i];
    return NULL;
}

/* The timer at the earliest look due, or off when there is none. */
static void verify_arm(struct reconcile *r)
{
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i < r->nrecent; i++)
        if (r->recent[i].due_ms < due)
            due = r->recent[i].due_ms;
    if (due == r->verify_due_ms)
        return;
    uint64_t now = loop_now_ms();
    if (due == UINT64_MAX)
        (void)loop_timer_disarm(r->verify_timer);
    else
        (void)loop_timer_arm(r->verify_timer, due > now ? due - now : 1);
    r->verify_due_ms = due;
}

void reconcile_verify_note(struct reconcile *r, struct policy_eval *e, const struct proc_table *t,
                           const bool *only)
{
    uint64_t now = loop_now_ms();
    bool added = false;
    for (size_t i = 0; i < t->n; i++) {
        if (only && !only[i])
            continue;
        struct policy_verdict v;
        policy_eval_proc(e, i, &v);
        if (v.adj == POLICY_ADJ_UNSET)
            continue;
        struct recent *x = recent_find(r, t->v[i].pid);
        /* looked at again with the same wish (a put-back, or a young process's next scan): its
         * looks go on as they were, so a program that keeps writing its own value is not chased
         * for ever (the recheck still is) */
        if (x && x->want_adj == v.adj)
            continue;
        if (!x) {
            if (r->nrecent == RECENT_MAX)
                continue; /* a burst: the recheck is the fallback */
            if (ARRAY_GROW(r->recent, r->nrecent, r->recent_cap, 64) < 0)
                continue;
            x = &r->recent[r->nrecent++];
        }
        *x = (struct recent){.pid = t->v[i].pid, .want_adj = v.adj,
                             .due_ms = now + verify_after_ms[0]};
        added = true;
    }
    if (added)
        verify_arm(r);
}

bool reconcile_verify_put_back(struct reconcile *r, const struct policy_change *c)
{
    if (c->kind != CHANGE_ADJ)
        return false;
    const struct recent *x = recent_find(r, c->pid);
    if (x)
        return x->want_adj == c->after;
    return reconcile_tracked_want(r, c->pid) == c->after;
}

int reconcile_on_verify(struct loop *l, void *ctx)
{
    (void)l;
    struct reconcile *r = ctx;
    r->verify_due_ms = UINT64_MAX; /* the one-shot timer fired */
    uint64_t now = loop_now_ms();
    pid_t *again = malloc((r->nrecent ? r->nrecent : 1) * sizeof(*again));
    size_t nagain = 0;
    for (size_t i = 0; again && i < r->nrecent; i++) {
        struct recent *x = &r->recent[i];
        int adj;
        if (x->due_ms > now)
            continue;
        /* with the connector, through the file its match read and kept open */
        if (reconcile_adj_now(r, x->pid, &adj) < 0)
            x->round = VERIFY_ROUNDS; /* gone: dropped below */
        else if (adj != x->want_adj)
            again[nagain++] = x->pid;
    }
    /* matched (not only written) again: what the rules want may have changed with it */
    if (nagain && policy_has_process_actions(r->p))
        reconcile_match_pids(r, again, nagain);
    free(again);
    /* the next look of each one looked at (an entry the match reset has its first look ahead) */
    size_t k = 0;
    for (size_t i = 0; i < r->nrecent; i++) {
        struct recent x = r->recent[i];
        if (x.due_ms <= now) {
            if (++x.round >= VERIFY_ROUNDS)
                continue;
            x.due_ms = now + verify_after_ms[x.round];
        }
        r->recent[k++] = x;
    }
    r->nrecent = k;
    verify_arm(r);
    return 0;
}

void reconcile_verify_forget(struct reconcile *r)
{
    r->nrecent = 0;
    verify_arm(r);
}

void reconcile_verify_release(struct reconcile *r)
{
    free(r->recent);
    r->recent = NULL;
    r->nrecent = r->recent_cap = 0;
}
