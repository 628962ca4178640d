/* New processes from the netlink proc connector, read in batches PENDING_MS after their first
 * event (reconcile-int.h); where the connector cannot be used, the scan of /proc (reconcile.c)
 * and why. */
#include "reconcile-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "base/log.h"
#include "base/sys/clock.h"
#include "engine/runtime/loop.h"
#include "engine/runtime/procconn.h"
#include "model/sysroot.h"

static void pending_add(struct reconcile *r, pid_t pid, pid_t parent)
{
    if (r->npending == r->pending_cap) {
        size_t cap = r->pending_cap ? r->pending_cap * 2 : 64;
        struct pend *v = cap <= PENDING_MAX ? realloc(r->pending, cap * sizeof(*v)) : NULL;
        if (!v) {
            /* a burst beyond any use of reading one by one: everything at the batch instead */
            r->pending_all = true;
            return;
        }
        r->pending = v;
        r->pending_cap = cap;
    }
    r->pending[r->npending++] = (struct pend){.pid = pid, .parent = parent, .old = false};
}

static void on_proc_event(void *ctx, const struct procconn_event *e)
{
    struct reconcile *r = ctx;
    switch (e->kind) {
    case PROCCONN_FORK:
        pending_add(r, e->pid, e->parent > 0 ? e->parent : 0);
        break;
    case PROCCONN_EXEC:
    case PROCCONN_COMM:
    case PROCCONN_UID:
        pending_add(r, e->pid, 0);
        break;
    case PROCCONN_EXIT:
        reconcile_tracked_drop(r, e->pid);
        /* gone before it was read: a short-lived process costs nothing. Each of its events
         * (fork, exec...) is taken out, of the latest few only; an older one fails its read,
         * which is cheap too */
        for (size_t i = r->npending, k = 0; i-- > 0 && k < 64; k++)
            if (r->pending[i].pid == e->pid)
                r->pending[i] = r->pending[--r->npending];
        break;
    case PROCCONN_ACK:
        break;
    }
}

static int cmp_pend(const void *a, const void *b)
{
    const struct pend *x = a, *y = b;
    /* by pid, an exec (parent 0) before the same process's fork */
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return (x->parent > y->parent) - (x->parent < y->parent);
}

static bool pend_has(const struct pend *v, size_t n, pid_t pid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].pid == pid)
            return true;
        if (v[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int on_procconn(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    (void)events;
    struct reconcile *r = ctx;
    /* the first event after a quiet spell: the socket is left alone while events keep coming,
     * and the timer drains it every PENDING_MS, so a busy machine's thousands of events a second
     * cost one wake-up per PENDING_MS, not one each (nor two per batch: the event and a timer) */
    loop_fd_events(l, r->pc_src, 0);
    if (loop_timer_arm(r->pending_timer, PENDING_MS) == 0)
        r->pending_busy = false; /* the batch this event starts is read whole at the first tick */
    else
        loop_fd_events(l, r->pc_src, EPOLLIN);
    return 0;
}

/* Nothing came since the last tick and nothing waits: back to waking on the socket. */
static void pending_idle(struct reconcile *r)
{
    loop_timer_disarm(r->pending_timer);
    r->pending_busy = false;
    if (r->pc_src)
        loop_fd_events(r->loop, r->pc_src, EPOLLIN);
}

/* The processes of v[0..k) (sorted, one each) that are due: all at the tick that ends a batch
 * started by a wake-up, else those named before the previous tick. The others are kept, for the
 * next tick. The due ones go to toread (an exec, a rename, a uid change, or a fork whose parent
 * has to be read) and forks (the rest). */
static void pending_split(struct reconcile *r, struct pend *v, size_t k, bool all,
                          pid_t *toread, size_t *nread, struct pend *forks, size_t *nfork)
{
    bool any_children = false;
    for (size_t i = 0; i < r->p->n; i++)
        any_children |= r->p->v[i].children;
    size_t keep = 0;
    /* a child whose parent is named (its record may be from the program before an exec), or
     * whose verdict depends on its ancestors (`children` rules), is read too */
    for (size_t i = 0; i < k; i++) {
        if (!all && !v[i].old)
            continue;
        if (v[i].parent && !any_children && !pend_has(v, k, v[i].parent))
            forks[(*nfork)++] = v[i];
        else
            toread[(*nread)++] = v[i].pid;
    }
    for (size_t i = 0; i < k && !all; i++)
        if (!v[i].old)
            r->pending[keep++] = (struct pend){.pid = v[i].pid, .parent = v[i].parent, .old = true};
    r->npending = keep;
}

int reconcile_on_pending(struct loop *l, void *ctx)
{
    (void)l;
    struct reconcile *r = ctx;
    uint64_t t0 = clock_mono_us();
    bool all = !r->pending_busy;
    int q = r->pcfd >= 0 ? procconn_drain(r->pcfd, on_proc_event, r) : 0;
    if (q == -ENOBUFS) {
        /* events were lost: which processes are new is not known any more */
        log_info("policy: the proc connector dropped events (a burst of new processes): "
                 "everything is read again");
        r->pending_all = true;
    } else if (q < 0) {
        log_warn("policy: the proc connector failed (%s): new processes by a scan of /proc from "
                 "now on", strerror(-q));
        reconcile_use_scan(r, "it failed");
        r->pending_all = true;
    }
    r->pending_busy = true;
    if (r->pending_all) {
        r->pending_all = false;
        r->npending = 0;
        reconcile_full_pass(r);
        if (r->pcfd < 0)
            pending_idle(r);
        return 0;
    }
    /* once each, however many events it had: the processes to read (an exec, a rename or a uid
     * change: what the rules match on changed) first; then the children that only forked */
    size_t n = r->npending, k = 0;
    struct pend *v = r->pending;
    qsort(v, n, sizeof(*v), cmp_pend);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && v[i].pid == v[k - 1].pid)
            v[k - 1].old |= v[i].old; /* named before the previous tick by any of its events */
        else
            v[k++] = v[i]; /* an exec sorts before the same pid's fork, and wins */
    }
    r->npending = 0;
    if (!policy_has_process_actions(r->p)) {
        if (q == 0)
            pending_idle(r);
        goto out;
    }
    pid_t *toread = malloc((k ? k : 1) * sizeof(*toread));
    struct pend *forks = malloc((k ? k : 1) * sizeof(*forks));
    if (!toread || !forks) {
        free(toread);
        free(forks);
        reconcile_full_pass(r);
        return 0;
    }
    size_t nread = 0, nfork = 0;
    pending_split(r, v, k, all, toread, &nread, forks, &nfork);
    if (q == 0 && r->npending == 0)
        pending_idle(r);
    if (nfork)
        reconcile_track_forks(r, forks, nfork);
    for (size_t i = 0; i < nfork; i++)
        if (forks[i].pid) /* a parent not tracked: read */
            toread[nread++] = forks[i].pid;
    nread = reconcile_names_settle(r, toread, nread);
    if (nread)
        reconcile_match_pids(r, toread, nread);
    free(toread);
    free(forks);
out:
    r->stats.scans++;
    r->stats.last_scan_us = clock_mono_us() - t0;
    return 0;
}

/* Whether the root's /proc speaks of the PIDs the connector reports: a procfs of the initial
 * PID namespace (the live root, or the host's /proc under --root /host with hostPID). */
static bool proc_is_initial(const struct sysroot *sr)
{
    struct statfs fs;
    struct stat st;
    return fstatfs(sr->proc_fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC &&
           fstatat(sr->proc_fd, "self/ns/pid", &st, 0) == 0 && st.st_ino == PROC_PID_INIT_INO;
}

void reconcile_use_scan(struct reconcile *r, const char *why)
{
    if (r->pc_src)
        loop_remove(r->loop, r->pc_src);
    r->pc_src = NULL;
    if (r->pcfd >= 0)
        close(r->pcfd);
    r->pcfd = -1;
    /* its PIDs are the connector's: without it, every new process is read from /proc */
    reconcile_names_close(r);
    snprintf(r->source, sizeof(r->source), "a scan of /proc every %" PRIu64 " ms (no proc "
             "connector: %s)", r->o->scan_interval_ms, why);
    loop_timer_arm(r->scan_timer, r->o->scan_interval_ms);
}

void reconcile_choose_source(struct reconcile *r)
{
    const char *why = NULL;
    int fd = -1;
    if (!r->o->proc_connector)
        why = "new-processes = scan";
    else if (!proc_is_initial(r->sr))
        why = "the root's /proc is not the initial PID namespace's";
    else
        fd = procconn_open(1000, &why);
    if (fd >= 0 && loop_add_fd(r->loop, fd, EPOLLIN, on_procconn, r, &r->pc_src) < 0) {
        close(fd);
        fd = -1;
        why = "cannot watch its socket";
    }
    if (fd < 0) {
        reconcile_use_scan(r, why ? why : "?");
        return;
    }
    r->pcfd = fd;
    loop_timer_disarm(r->scan_timer);
    /* taskstats looks PIDs up in this process's PID namespace: the initial one, as checked above */
    reconcile_names_open(r);
    reconcile_connector_source(r);
}

void reconcile_connector_source(struct reconcile *r)
{
    snprintf(r->source, sizeof(r->source), "the netlink proc connector (fork, exec, comm and uid "
             "events; read %d ms later; %s)", PENDING_MS, reconcile_names_source(r));
}

const char *reconcile_source(const struct reconcile *r)
{
    return r->source;
}

