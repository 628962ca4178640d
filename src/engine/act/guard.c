#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/table.h"
#include "base/units.h"
#include "base/sys/clock.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/proc/oomdomain.h"
#include "model/proc/procs.h"
#include "model/pressure/psi.h"
#include "model/sysroot.h"
#include "model/proc/victims.h"
#include "killer.h"
#include "engine/runtime/loop.h"

const char *guard_reason_name(enum guard_reason r)
{
    switch (r) {
    case GUARD_REASON_MEMORY_FLOOR:
        return "memory_floor";
    case GUARD_REASON_CGROUP_HEADROOM:
        return "cgroup_headroom";
    case GUARD_REASON_PSI:
        return "psi";
    case GUARD_REASON_COUNT:
        break;
    }
    return "?";
}

int guard_amount_parse(const char *s, struct guard_amount *ret)
{
    size_t n = strlen(s);
    *ret = (struct guard_amount){0};
    if (n > 1 && s[n - 1] == '%') {
        /* digits only: strtoul would also take " 5%", "+5%" and "-0%" */
        if (s[0] < '0' || s[0] > '9')
            return -EINVAL;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end != s + n - 1 || v > 100)
            return -EINVAL;
        ret->percent = (unsigned)v;
        /* 0% is "off": the amount is 0 bytes */
        return 0;
    }
    return parse_size(s, &ret->bytes) < 0 ? -EINVAL : 0;
}

uint64_t guard_amount_of(const struct guard_amount *a, uint64_t total)
{
    return a->percent ? percent_of(total, a->percent) : a->bytes;
}

/* ---- choice ---------------------------------------------------------------------------------- */

static int tier(enum guard_weight w)
{
    return w == WEIGHT_PREFER ? 0 : w == WEIGHT_AVOID ? 2 : 1;
}

static const struct guard_candidate *sort_base;

static int cmp_order(const void *a, const void *b)
{
    const struct guard_candidate *x = &sort_base[*(const size_t *)a];
    const struct guard_candidate *y = &sort_base[*(const size_t *)b];
    bool cx = !x->excluded, cy = !y->excluded;
    if (cx != cy)
        return cx ? -1 : 1;
    if (cx) {
        int tx = tier(x->verdict.weight), ty = tier(y->verdict.weight);
        if (tx != ty)
            return tx < ty ? -1 : 1;
        return x->kernel_rank < y->kernel_rank ? -1 : x->kernel_rank > y->kernel_rank;
    }
    /* excluded rows: those the kernel would take first, then by pid */
    size_t rx = x->kernel_rank ? x->kernel_rank : SIZE_MAX, ry = y->kernel_rank ? y->kernel_rank
                                                                                 : SIZE_MAX;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return x->proc->pid < y->proc->pid ? -1 : x->proc->pid > y->proc->pid;
}

size_t guard_order(const struct victim_list *vl, const struct policy_verdict *verdicts, pid_t self,
                   struct guard_candidate *c, size_t *order)
{
    size_t ncand = 0;
    for (size_t i = 0; i < vl->n; i++) {
        const struct victim *v = &vl->v[i];
        const struct proc *p = v->proc;
        struct guard_candidate *g = &c[i];
        *g = (struct guard_candidate){.proc = p, .eligible = v->eligible, .badness = v->badness,
                                      .kernel_rank = v->rank};
        if (verdicts)
            g->verdict = verdicts[i];
        else
            g->verdict = (struct policy_verdict){.adj = POLICY_ADJ_UNSET, .adj_rule = SIZE_MAX,
                                                 .weight = WEIGHT_NORMAL,
                                                 .weight_rule = SIZE_MAX,
                                                 .kill_unit = KILL_UNIT_PROCESS,
                                                 .unit_rule = SIZE_MAX};
        /* the order of these tests is the order of the reasons people need to read */
        if (p->pid == 1)
            g->excluded = "init (pid 1)";
        else if (p->kernel_thread)
            g->excluded = "kernel thread";
        else if (p->pid == self)
            g->excluded = "oomwarden itself";
        else if (p->has_oom && p->oom_score_adj == -1000)
            g->excluded = "oom_score_adj -1000";
        else if (g->verdict.weight == WEIGHT_PROTECT)
            g->excluded = "protected by policy";
        else if (!v->scored)
            g->excluded = "gone before it was read";
        else if (!v->eligible)
            g->excluded = "no memory to free (no mm, exiting, or in vfork)";
        else
            ncand++;
        order[i] = i;
    }
    sort_base = c;
    qsort(order, vl->n, sizeof(*order), cmp_order);
    sort_base = NULL;
    size_t k = 0;
    for (size_t i = 0; i < vl->n; i++)
        c[order[i]].order = c[order[i]].excluded ? 0 : ++k;
    return ncand;
}

/* ---- killing ----------------------------------------------------------------------------------- */

/* Whether /proc/PID/oom_score_adj reads -1000 (a stack buffer: nothing allocated) */
static bool adj_is_min(const struct sysroot *sr, pid_t pid)
{
    char path[32], b[16];
    snprintf(path, sizeof(path), "%d/oom_score_adj", (int)pid);
    int n = read_small_at(sr->proc_fd, path, b, sizeof(b));
    struct cursor c = cursor_make(b, n > 0 ? (size_t)n : 0);
    int64_t adj;
    return cursor_i64(&c, &adj) == 0 && adj == -1000;
}

/* SIGKILL to every process of a cgroup (v1, or v2 without cgroup.kill, or a v2 subtree holding
 * something that must not die), each through its own pidfd. Reads cgroup.procs into `scratch`:
 * nothing is allocated here. Processes at -1000, protected ones and oomwarden are spared;
 * `done` (the victim, signalled already) is not counted twice. */
static unsigned kill_cgroup_procs(const struct sysroot *sr, int dirfd, pid_t self, pid_t done,
                                  const struct guard_candidate *c, size_t n, char *scratch,
                                  size_t len)
{
    int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, scratch, len - 1);
    close(fd);
    if (got <= 0)
        return 0;
    unsigned killed = 0;
    struct cursor cur = cursor_make(scratch, (size_t)got);
    uint64_t pid;
    while (cursor_u64(&cur, &pid) == 0) {
        (void)cursor_skip_prefix(&cur, "\n");
        if (pid <= 1 || pid > INT32_MAX || (pid_t)pid == self || (pid_t)pid == done)
            continue;
        bool spare = false;
        uint64_t st = 0;
        bool known = false;
        for (size_t i = 0; i < n; i++) {
            if ((uint64_t)c[i].proc->pid != pid)
                continue;
            known = true;
            st = c[i].proc->start_time;
            spare = c[i].verdict.weight == WEIGHT_PROTECT ||
                    (c[i].proc->has_oom && c[i].proc->oom_score_adj == -1000) ||
                    c[i].proc->kernel_thread;
        }
        if (spare)
            continue;
        struct kill_target t;
        uint64_t now_st;
        /* a process that joined after the snapshot: pin it by what it is now, and spare it at
         * -1000 (the rules were never matched against it: it is killed with its cgroup) */
        if (!known) {
            if (killer_start_time(sr, (pid_t)pid, &now_st) < 0 || adj_is_min(sr, (pid_t)pid))
                continue;
            st = now_st;
        }
        if (killer_open(sr, (pid_t)pid, st, &t) < 0)
            continue;
        if (killer_signal(&t, SIGKILL) == 0) {
            killed++;
            (void)killer_release_memory(&t);
        }
        killer_close(&t);
    }
    return killed;
}

static bool unit_has_spared(const struct guard_candidate *c, size_t n, const char *cgroup,
                            pid_t self)
{
    size_t len = strlen(cgroup);
    for (size_t i = 0; i < n; i++) {
        const char *pc = proc_cgroup_path(c[i].proc);
        if (!pc || strncmp(pc, cgroup, len) != 0 || (pc[len] && pc[len] != '/' && len > 1))
            continue;
        if (c[i].proc->pid == self || c[i].proc->pid == 1 ||
            c[i].verdict.weight == WEIGHT_PROTECT ||
            (c[i].proc->has_oom && c[i].proc->oom_score_adj == -1000))
            return true;
    }
    return false;
}

int guard_pin_first(const struct sysroot *sr, struct guard_candidate *c, const size_t *order,
                    size_t ncand, pid_t self, struct kill_target *t, struct guard_kill *k)
{
    *k = (struct guard_kill){.chosen = SIZE_MAX, .cg_usage_before = OPT_ABSENT,
                             .cg_usage_after = OPT_ABSENT};
    t->pidfd = -1;
    /* pin first, choose second: the first candidate still alive as the process we ranked */
    for (size_t i = 0; i < ncand; i++) {
        struct guard_candidate *g = &c[order[i]];
        if (g->excluded || g->proc->pid <= 1 || g->proc->pid == self)
            continue;
        if (killer_open(sr, g->proc->pid, g->proc->start_time, t) < 0) {
            k->vanished++;
            continue;
        }
        k->chosen = order[i];
        k->unit = g->verdict.kill_unit;
        return 0;
    }
    return -ESRCH;
}

static int read_u64_at(int dirfd, const char *name, uint64_t *ret)
{
    char b[64];
    int n = read_small_at(dirfd, name, b, sizeof(b));
    if (n <= 0)
        return n < 0 ? n : -EBADMSG;
    if (strncmp(b, "max", 3) == 0) {
        *ret = CGROUP_UNLIMITED;
        return 0;
    }
    char *end;
    *ret = strtoull(b, &end, 10);
    return end == b ? -EBADMSG : 0;
}

/* memory.current / usage_in_bytes of an open cgroup directory, or OPT_ABSENT */
static uint64_t usage_at(int dirfd, int version)
{
    uint64_t v;
    if (dirfd < 0 || read_u64_at(dirfd, version == 2 ? "memory.current" : "memory.usage_in_bytes",
                                 &v) < 0 || !cgroup_limit_set(v))
        return OPT_ABSENT;
    return v;
}

void guard_freed(const struct guard_kill *k, const struct proc *victim, uint64_t *bytes,
                 const char **from)
{
    if (opt_has(k->cg_usage_before) && opt_has(k->cg_usage_after) &&
        k->cg_usage_after < k->cg_usage_before) {
        *bytes = k->cg_usage_before - k->cg_usage_after;
        *from = "cgroup";
        return;
    }
    *bytes = proc_rss_swap(victim);
    *from = "process";
}

int guard_kill_pinned(const struct sysroot *sr, const struct cgroup_hier *h,
                      struct guard_candidate *c, size_t n, pid_t self, struct kill_target *t,
                      uint64_t timeout_ms, char *scratch, size_t scratch_len, struct guard_kill *k)
{
    struct guard_candidate *g = &c[k->chosen];
    const char *cg = proc_cgroup_path(g->proc);
    /* what the kill gives back, on the victim's own memory cgroup (one small read before the
     * signal: the machine's MemAvailable moves with every other process) */
    int ufd = h && cg && strcmp(cg, "/") != 0 ? cgroup_open_dir(h, cg) : -1;
    int version = h ? h->memory_version : 0;
    k->cg_usage_before = usage_at(ufd, version);
    k->cg_usage_after = OPT_ABSENT;
    k->signal_us = clock_mono_us();
    int r = killer_signal(t, SIGKILL);
    if (r < 0) {
        k->error = r;
        if (ufd >= 0)
            close(ufd);
        return r;
    }
    k->signalled = 1;
    k->mrelease = killer_release_memory(t);
    if (k->unit == KILL_UNIT_CGROUP && cg && strcmp(cg, "/") != 0 && h) {
        int dfd = cgroup_open_dir(h, cg);
        if (dfd >= 0) {
            /* cgroup.kill (5.14) kills everything, -1000 included: only when nothing in the
             * unit must be spared */
            if (h->memory_version == 2 && !unit_has_spared(c, n, cg, self) &&
                write_string_at(dfd, "cgroup.kill", "1") == 0)
                k->cgroup_kill_file = true;
            else
                k->signalled += kill_cgroup_procs(sr, dfd, self, t->pid, c, n, scratch,
                                                  scratch_len);
            close(dfd);
        }
    }
    k->exited = killer_wait(t, (int)timeout_ms) == 1;
    k->exit_us = k->exited ? clock_mono_us() : 0;
    if (k->exited)
        k->cg_usage_after = usage_at(ufd, version);
    if (ufd >= 0)
        close(ufd);
    return 0;
}

int guard_kill_first(const struct sysroot *sr, const struct cgroup_hier *h,
                     struct guard_candidate *c, const size_t *order, size_t n, pid_t self,
                     bool dry_run, uint64_t timeout_ms, char *scratch, size_t scratch_len,
                     struct guard_kill *k)
{
    struct kill_target t;
    /* every row, not just the candidates: a cgroup kill must see the excluded ones to spare
     * them (pinning skips them anyway) */
    if (guard_pin_first(sr, c, order, n, self, &t, k) < 0)
        return 0;
    int r = 0;
    if (!dry_run)
        r = guard_kill_pinned(sr, h, c, n, self, &t, timeout_ms, scratch, scratch_len, k);
    killer_close(&t);
    return r == -ESRCH ? 0 : r;
}

int guard_table_text(const struct policy *p, const struct guard_candidate *c, const size_t *order,
                     size_t n, size_t rows, long page_size, struct buf *out)
{
    buf_printf(out, "  %-3s %7s %-15s %7s %6s %9s %5s %-8s %-7s %s\n", "#", "PID", "COMM", "RSS",
               "ADJ", "BADNESS", "KERN", "GUARD", "UNIT", "CGROUP / WHY NOT");
    size_t shown = 0, i;
    for (i = 0; i < n; i++) {
        const struct guard_candidate *g = &c[order[i]];
        if (shown >= rows)
            break;
        /* the excluded rows that matter: those the kernel itself would take */
        if (g->excluded && !g->kernel_rank && g->verdict.weight != WEIGHT_PROTECT)
            continue;
        shown++;
        char rss[FMT_SIZE_LEN], pos[8], bad[24], kr[8], w[40];
        fmt_size(rss, g->proc->has_mm ? proc_rss(g->proc) : 0);
        snprintf(pos, sizeof(pos), "%zu", g->order);
        snprintf(bad, sizeof(bad), "%" PRId64, g->badness);
        snprintf(kr, sizeof(kr), "%zu", g->kernel_rank);
        if (g->verdict.weight_rule != SIZE_MAX && p)
            snprintf(w, sizeof(w), "%s:%s", guard_weight_name(g->verdict.weight),
                     p->v[g->verdict.weight_rule].name);
        else
            snprintf(w, sizeof(w), "%s", guard_weight_name(g->verdict.weight));
        const char *cg = proc_cgroup_path(g->proc);
        (void)page_size;
        /* anyone can name a process: no control bytes into the log (or a terminal) */
        char comm[16];
        size_t cn = 0;
        for (const unsigned char *q = (const unsigned char *)g->proc->comm; *q && cn < 15; q++)
            comm[cn++] = *q < 0x20 || *q >= 0x7f ? '?' : (char)*q;
        comm[cn] = '\0';
        buf_printf(out, "  %-3s %7d %-15s %7s %6d %9s %5s %-8s %-7s ", g->excluded ? "-" : pos,
                   (int)g->proc->pid, comm, rss, g->proc->oom_score_adj,
                   g->eligible ? bad : "-", g->kernel_rank ? kr : "-", w,
                   kill_unit_name(g->verdict.kill_unit));
        text_sanitize_into(out, cg ? cg : "?", strlen(cg ? cg : "?"));
        buf_printf(out, "%s%s\n", g->excluded ? ": never: " : "", g->excluded ? g->excluded : "");
    }
    size_t rest = 0;
    for (; i < n; i++)
        rest += c[order[i]].excluded == NULL;
    if (rest)
        buf_printf(out, "  ... %zu more candidates\n", rest);
    return 0;
}

/* ---- the running guard ----------------------------------------------------------------------- */

#define HEAP_RESERVE (4 * MiB)
#define SCRATCH_LEN (256 * 1024)
#define PIN_TRIES 16
#define CGROUP_REFRESH_MS 2000
/* armed when the floor is this close in time at the assumed fill rate; the armed decision is
 * made again this often (or at twice its own cost, whichever is longer) */
#define ARM_HORIZON_MS 250
#define ARM_REFRESH_MS 250
#define FILL_SAMPLES 32

/* A decision made and its victim pinned, not yet carried out. */
struct prep {
    bool valid;
    char *cgroup; /* NULL: the node */
    struct proc_table procs;
    struct victim_list global, sub;
    struct oomdomain dom;
    bool have_dom;
    const struct victim_list *vl;
    struct policy_verdict *verdicts;
    struct guard_candidate *cand;
    size_t *order, n, ncand;
    struct kill_target t;
    struct guard_kill k;
    struct meminfo mi;
    uint64_t prepared_us, ranked_us;
};

struct gcg {
    char *path;
    int dirfd, psi_dirfd;
    uint64_t last_stall_us, last_failcnt, last_ms;
    /* the working set at the latest checks (a ring), for its recent growth rate */
    struct { uint64_t ms, wset; } hist[FILL_SAMPLES];
    unsigned nhist;
    struct prep *armed;     /* decided ahead while the working set is near the line; NULL */
    uint64_t armed_cost_us;
    bool primed;
    uint64_t cooldown_until;
    bool present;
};

struct gtrig {
    struct guard *g;
    int fd;
    struct loop_source *src;
    char *cgroup; /* NULL: the node */
    uint64_t first_ms, last_ms;
};

struct guard {
    struct loop *loop;
    const struct sysroot *sr;
    const struct guard_opts *o;
    const struct policy *policy;
    struct guard_event_sink sink;
    struct kver kernel;
    struct cgroup_hier hier;
    bool hier_ok;
    struct loop_source *tick;
    uint64_t global_cooldown_until;
    struct gcg *cgs;
    size_t ncgs;
    uint64_t cgs_refreshed_ms;
    struct gtrig *trig;
    size_t ntrig, trig_cap;
    uint64_t kills[GUARD_REASON_COUNT];
    struct guard_self self;
    pid_t pid;
    /* near the memory floor the machine-wide decision is made ahead and its victim pinned, so
     * that crossing the floor costs one pidfd_send_signal(), not a read of every process */
    struct prep armed;
    uint64_t armed_cost_us;
    char *scratch; /* cgroup.procs on the kill path */
    struct buf table, line;
};

uint64_t guard_kills(const struct guard *g, enum guard_reason r)
{
    return g ? __atomic_load_n(&g->kills[r], __ATOMIC_RELAXED) : 0;
}

void guard_self_state(const struct guard *g, struct guard_self *ret)
{
    *ret = g->self;
}

static void self_protect(struct guard *g)
{
    /* resident before it is needed: MCL_ONFAULT (4.4) locks pages as they are touched instead
     * of faulting in every mapping (thread stacks) now */
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0 ||
        (errno == EINVAL && mlockall(MCL_CURRENT | MCL_FUTURE) == 0)) {
        g->self.mlocked = true;
    } else {
        log_warn("guard: mlockall failed (%s): under memory pressure the guard's own pages can be "
                 "reclaimed and it may stall when it is needed most (needs CAP_IPC_LOCK or "
                 "LimitMEMLOCK=infinity)", strerror(errno));
    }
    /* freed memory stays in the (locked) heap and is reused by the next decision, instead of
     * going back to the kernel and being faulted in again under pressure */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    char *reserve = malloc(HEAP_RESERVE);
    if (reserve) {
        memset(reserve, 1, HEAP_RESERVE);
        free(reserve);
    }
    int fd = openat(g->sr->proc_fd, "self/oom_score_adj", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        g->self.own_adj = 0;
        return;
    }
    if (write(fd, "-1000", 5) == 5) {
        g->self.own_adj = -1000;
    } else {
        int e = errno;
        char b[16];
        ssize_t n = pread(fd, b, sizeof(b), 0);
        struct cursor c = cursor_make(b, n > 0 ? (size_t)n : 0);
        int64_t adj = 0;
        (void)cursor_i64(&c, &adj);
        g->self.own_adj = (int)adj;
        log_warn("guard: cannot set its own oom_score_adj to -1000 (%s%s): it stays at %d, so the "
                 "kernel's OOM killer could take the guard; the guard itself never chooses itself "
                 "and is mlocked. Give it CAP_SYS_RESOURCE (systemd: OOMScoreAdjust=-1000; "
                 "Kubernetes: capabilities add SYS_RESOURCE) to protect it",
                 strerror(e), e == EACCES ? ": lowering needs CAP_SYS_RESOURCE" : "",
                 g->self.own_adj);
    }
    close(fd);
}

static void emit(struct guard *g, struct buf *json, struct buf *text)
{
    if (g->sink.event)
        g->sink.event(g->sink.ctx, buf_cstr(json), buf_cstr(text));
}

static void prep_release(struct prep *p)
{
    if (p->valid && p->k.chosen != SIZE_MAX && p->t.pidfd >= 0)
        killer_close(&p->t);
    free(p->cgroup);
    free(p->verdicts);
    free(p->cand);
    free(p->order);
    free(p->sub.v);
    victim_list_release(&p->global);
    if (p->have_dom)
        oomdomain_release(&p->dom);
    proc_table_release(&p->procs);
    *p = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
}

static int cmp_proc_pid(const void *a, const void *b)
{
    pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
    return (x > y) - (x < y);
}

/*
 * The processes of one cgroup's subtree (and, for rules with `children = yes`, their ancestors,
 * which are matched but are not in the domain). Reading all of /proc cost ~60 us a process on
 * the 6.18 test host: 300 ms with 5,000 processes, between the trigger and the kill, while the
 * cgroup's last inactive file pages went; its own few cost well under a millisecond. Only on the
 * live root, where cgroup.procs and /proc speak of the same PID namespace. Returns 0 or a
 * negative errno (the caller then reads everything).
 */
static int snapshot_cgroup(struct guard *g, const char *cgroup, unsigned fields,
                           struct proc_table *ret)
{
    if (!g->sr->live || !g->hier_ok)
        return -EOPNOTSUPP;
    pid_t *pids;
    size_t n;
    int r = cgroup_subtree_pids(&g->hier, cgroup, &pids, &n);
    if (r < 0)
        return r;
    r = procs_snapshot_pids(g->sr, pids, n, fields, ret);
    free(pids);
    if (r < 0)
        return r;
    bool children = false;
    for (size_t i = 0; i < g->policy->n; i++)
        children |= g->policy->v[i].children;
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    for (int depth = 0; children && r == 0 && depth < 64; depth++) {
        size_t before = ret->n;
        for (size_t i = 0; i < before && r == 0; i++) {
            pid_t pp = ret->v[i].ppid;
            /* [0, before) is sorted; what this round added is looked through below */
            const struct proc_table sorted = {.v = ret->v, .n = before, .cap = before};
            if (pp <= 0 || proc_table_find(&sorted, pp))
                continue;
            bool queued = false;
            for (size_t k = before; k < ret->n && !queued; k++)
                queued = ret->v[k].pid == pp;
            if (queued)
                continue;
            if (ret->n == ret->cap) {
                size_t cap = ret->cap * 2;
                struct proc *v = realloc(ret->v, cap * sizeof(*v));
                if (!v) {
                    r = -ENOMEM;
                    break;
                }
                ret->v = v;
                ret->cap = cap;
            }
            int q = procs_read_one(g->sr, pp, fields, &b, &ret->v[ret->n]);
            if (q == 0)
                ret->n++;
            else if (q == -ENOMEM)
                r = q;
        }
        if (ret->n == before)
            break;
        qsort(ret->v, ret->n, sizeof(*ret->v), cmp_proc_pid);
    }
    buf_release(&b);
    if (r < 0)
        proc_table_release(ret);
    return r;
}

/* Snapshot, rank, order, pin. Returns 0 (p->k.chosen SIZE_MAX when nothing could be pinned) or a
 * negative errno. */
static int prepare(struct guard *g, const char *cgroup, struct prep *p)
{
    *p = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
    uint64_t t0 = clock_mono_us();
    if (cgroup && !(p->cgroup = strdup(cgroup)))
        return -ENOMEM;
    unsigned fields = PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP |
                      policy_proc_fields(g->policy);
    /* a cgroup's own OOM chooses among its own processes: read those, not the machine's */
    bool subset = cgroup && snapshot_cgroup(g, cgroup, fields, &p->procs) == 0;
    int r = subset ? 0 : procs_snapshot(g->sr, fields, &p->procs);
    if (r < 0)
        goto fail;
    (void)meminfo_read(g->sr, &p->mi);
    if (!cgroup) {
        r = victims_rank_global(&p->procs, &g->kernel, &p->mi, g->sr->page_size, &p->global);
        p->vl = &p->global;
    } else {
        r = oomdomain_build(&g->hier, cgroup, &p->procs, &g->kernel, &p->mi,
                            oomdomain_vm_swappiness(g->sr), &p->dom);
        if (r == 0 && subset && p->dom.why != OOMDOMAIN_OWN_LIMIT) {
            /* its limit went away since it was watched: the domain is wider than what was read */
            oomdomain_release(&p->dom);
            proc_table_release(&p->procs);
            if ((r = procs_snapshot(g->sr, fields, &p->procs)) < 0)
                goto fail;
            r = oomdomain_build(&g->hier, cgroup, &p->procs, &g->kernel, &p->mi,
                                oomdomain_vm_swappiness(g->sr), &p->dom);
        }
        p->have_dom = r == 0;
        p->vl = &p->dom.victims;
    }
    if (r < 0)
        goto fail;
    /* a cgroup domain that is the whole machine (no limit above it): only its own processes */
    if (p->have_dom && p->dom.why == OOMDOMAIN_MACHINE) {
        const struct victim_list *all = p->vl;
        p->sub = (struct victim_list){.v = calloc(all->n ? all->n : 1, sizeof(*p->sub.v))};
        if (!p->sub.v) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < all->n; i++)
            if (oomdomain_in(&p->dom, i, cgroup))
                p->sub.v[p->sub.n++] = all->v[i];
        p->vl = &p->sub;
    }
    size_t n = p->n = p->vl->n;
    p->verdicts = calloc(n ? n : 1, sizeof(*p->verdicts));
    p->cand = calloc(n ? n : 1, sizeof(*p->cand));
    p->order = calloc(n ? n : 1, sizeof(*p->order));
    struct policy_eval ev;
    if (!p->verdicts || !p->cand || !p->order ||
        policy_eval_init(&ev, g->policy, g->sr, &p->procs) < 0) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        policy_eval_proc(&ev, (size_t)(p->vl->v[i].proc - p->procs.v), &p->verdicts[i]);
    policy_eval_release(&ev);
    p->ncand = guard_order(p->vl, p->verdicts, g->pid, p->cand, p->order);
    p->ranked_us = clock_mono_us();
    size_t tries = p->n < PIN_TRIES ? p->n : PIN_TRIES;
    (void)guard_pin_first(g->sr, p->cand, p->order, tries, g->pid, &p->t, &p->k);
    p->valid = true;
    p->prepared_us = t0;
    return 0;
fail:
    prep_release(p);
    return r;
}

/* Carries out a prepared decision: kill (unless dry-run), confirm, cooldown, log. Releases p. */
static void fire(struct guard *g, struct prep *p, enum guard_reason reason, const char *why,
                 uint64_t trigger_us)
{
    const struct guard_opts *o = g->o;
    struct guard_kill *k = &p->k;
    if (k->chosen != SIZE_MAX && !o->dry_run) {
        int r = guard_kill_pinned(g->sr, &g->hier, p->cand, p->n, g->pid, &p->t,
                                  o->kill_timeout_ms, g->scratch, SCRATCH_LEN, k);
        if (r == -ESRCH) {
            /* it exited after it was pinned (maybe the kernel took it): nothing was killed */
            k->vanished++;
            k->chosen = SIZE_MAX;
        }
    }
    /* after the kill: the machine now, and the log (allocation is fine from here on) */
    const struct meminfo *mb = &p->mi;
    uint64_t avail_after = OPT_ABSENT;
    struct meminfo mi_after = {0};
    if (!o->dry_run && k->signalled && meminfo_read(g->sr, &mi_after) == 0)
        avail_after = mi_after.mem_available;
    uint64_t now_ms = loop_now_ms();
    if (p->cgroup) {
        for (size_t i = 0; i < g->ncgs; i++)
            if (strcmp(g->cgs[i].path, p->cgroup) == 0)
                g->cgs[i].cooldown_until = now_ms + o->cooldown_ms;
    } else {
        g->global_cooldown_until = now_ms + o->cooldown_ms;
    }
    const char *dname = p->cgroup ? p->cgroup : "node";
    buf_reset(&g->table);
    (void)guard_table_text(g->policy, p->cand, p->order, p->n, o->table_rows, g->sr->page_size,
                           &g->table);
    struct buf text = BUF_INIT(CAP_OUTPUT), json = BUF_INIT(CAP_OUTPUT);
    struct json j;
    json_init(&j, &json, false);
    json_obj_begin(&j);
    json_kv_str(&j, "event", k->chosen == SIZE_MAX ? "guard_no_candidate"
                             : o->dry_run            ? "guard_would_kill"
                                                     : "guard_kill");
    json_kv_str(&j, "reason", guard_reason_name(reason));
    json_kv_str(&j, "domain", dname);
    json_kv_str(&j, "trigger", why);
    json_kv_u64(&j, "candidates", p->ncand);
    json_kv_u64(&j, "vanished", k->vanished);
    /* ranked before the trigger when the guard was armed (memory near the floor) */
    json_kv_i64(&j, "ranked_before_trigger_us",
                (int64_t)trigger_us - (int64_t)p->ranked_us);
    if (k->chosen == SIZE_MAX) {
        buf_printf(&text, "guard: %s in %s (%s): no candidate to kill (%zu eligible, %zu gone "
                          "before they could be pinned)",
                   guard_reason_name(reason), dname, why, p->ncand, k->vanished);
    } else {
        const struct guard_candidate *v = &p->cand[k->chosen];
        const char *vcg = proc_cgroup_path(v->proc);
        char rss[FMT_SIZE_LEN];
        fmt_size(rss, proc_rss(v->proc));
        json_kv_i64(&j, "pid", v->proc->pid);
        json_kv_str(&j, "comm", v->proc->comm);
        json_kv_str(&j, "cgroup", vcg);
        json_kv_i64(&j, "oom_score_adj", v->proc->oom_score_adj);
        json_kv_i64(&j, "badness", v->badness);
        json_kv_u64(&j, "kernel_rank", v->kernel_rank);
        json_kv_str(&j, "weight", guard_weight_name(v->verdict.weight));
        json_kv_str(&j, "kill_unit", kill_unit_name(k->unit));
        json_kv_u64(&j, "rss", proc_rss(v->proc));
        if (!o->dry_run) {
            json_kv_u64(&j, "signalled", k->signalled);
            if (k->unit == KILL_UNIT_CGROUP)
                json_kv_bool(&j, "cgroup_kill_file", k->cgroup_kill_file);
            json_kv_bool(&j, "exited", k->exited);
            json_kv_u64(&j, "trigger_to_signal_us",
                        k->signal_us > trigger_us ? k->signal_us - trigger_us : 0);
            if (k->exited)
                json_kv_u64(&j, "signal_to_exit_us", k->exit_us - k->signal_us);
            json_kv_i64(&j, "mrelease", k->mrelease);
            json_kv_u64(&j, "available_before", mb->mem_available);
            json_kv_u64_opt(&j, "available_after", avail_after);
            uint64_t freed;
            const char *from;
            guard_freed(k, v->proc, &freed, &from);
            json_kv_u64(&j, "freed", freed);
            json_kv_str(&j, "freed_from", from);
            json_kv_u64_opt(&j, "cgroup_usage_before", k->cg_usage_before);
            json_kv_u64_opt(&j, "cgroup_usage_after", k->cg_usage_after);
        }
        buf_printf(&text, "guard: %s in %s (%s): %s pid %d %s (%s, rss %s, oom_score_adj %d, "
                          "badness %" PRId64 ", kernel's #%zu, guard's #%zu of %zu%s%s)",
                   guard_reason_name(reason), dname, why,
                   o->dry_run ? "WOULD KILL" : k->unit == KILL_UNIT_CGROUP ? "killed cgroup of"
                                                                            : "killed",
                   (int)v->proc->pid, v->proc->comm, vcg ? vcg : "?", rss,
                   v->proc->oom_score_adj, v->badness, v->kernel_rank, v->order, p->ncand,
                   v->verdict.weight != WEIGHT_NORMAL ? ", " : "",
                   v->verdict.weight != WEIGHT_NORMAL ? guard_weight_name(v->verdict.weight) : "");
        if (!o->dry_run) {
            if (k->error)
                buf_printf(&text, "; the signal failed: %s", strerror(-k->error));
            if (k->unit == KILL_UNIT_CGROUP)
                buf_printf(&text, "; %s, %u processes signalled",
                           k->cgroup_kill_file ? "cgroup.kill" : "each process of cgroup.procs",
                           k->signalled);
            if (k->exited) {
                char fr[FMT_SIZE_LEN], u0[FMT_SIZE_LEN], u1[FMT_SIZE_LEN];
                uint64_t freed;
                const char *from;
                guard_freed(k, v->proc, &freed, &from);
                buf_printf(&text, "; trigger to signal %.1f ms, exit %.1f ms later; ",
                           (double)(k->signal_us - trigger_us) / 1000.0,
                           (double)(k->exit_us - k->signal_us) / 1000.0);
                if (strcmp(from, "cgroup") == 0)
                    buf_printf(&text, "%s came back to its cgroup (usage %s -> %s)",
                               fmt_size(fr, freed), fmt_size(u0, k->cg_usage_before),
                               fmt_size(u1, k->cg_usage_after));
                else
                    buf_printf(&text, "it held %s (resident + swap)", fmt_size(fr, freed));
                buf_printf(&text, "; MemAvailable now %s",
                           opt_has(avail_after) ? fmt_size(rss, avail_after) : "?");
            } else if (!k->error) {
                buf_printf(&text, "; still not gone after %" PRIu64 " ms", o->kill_timeout_ms);
            }
        }
        __atomic_add_fetch(&g->kills[reason], 1, __ATOMIC_RELAXED);
    }
    json_key(&j, "table");
    json_str(&j, buf_cstr(&g->table));
    json_obj_end(&j);
    buf_putc(&text, '\n');
    buf_append(&text, g->table.data, g->table.len);
    if (text.len && text.data[text.len - 1] == '\n')
        text.data[--text.len] = '\0';
    emit(g, &json, &text);
    buf_release(&text);
    buf_release(&json);
    prep_release(p);
}

/* One decision in a domain, from scratch. */
static void decide(struct guard *g, enum guard_reason reason, const char *cgroup,
                   const char *why, uint64_t trigger_us)
{
    struct prep p;
    int r = prepare(g, cgroup, &p);
    if (r < 0) {
        if (r != -ENOENT)
            log_error("guard: cannot rank the OOM domain of %s: %s", cgroup ? cgroup : "the node",
                      strerror(-r));
        return;
    }
    fire(g, &p, reason, why, trigger_us);
}

/* ---- cgroups watched for headroom ---------------------------------------------------------- */

static bool glob_any(const struct config_list *l, const char *s)
{
    if (!l || !l->n)
        return true;
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], s, 0) == 0)
            return true;
    return false;
}

static void gcg_disarm(struct gcg *c)
{
    if (c->armed) {
        prep_release(c->armed);
        free(c->armed);
        c->armed = NULL;
    }
}

static void gcg_close(struct gcg *c)
{
    gcg_disarm(c);
    if (c->dirfd >= 0)
        close(c->dirfd);
    if (c->psi_dirfd >= 0)
        close(c->psi_dirfd);
    free(c->path);
}

static void refresh_cgroups(struct guard *g)
{
    g->cgs_refreshed_ms = loop_now_ms();
    if (!g->hier_ok || !g->hier.memory_version)
        return;
    struct cgroup_snapshot s;
    if (cgroup_snapshot_read_limits(&g->hier, "/", 16, &s) < 0)
        return;
    for (size_t i = 0; i < g->ncgs; i++)
        g->cgs[i].present = false;
    for (size_t i = 0; i < s.n; i++) {
        const struct cgroup_memory *cg = &s.v[i];
        if (!cgroup_limit_set(cg->max) || !glob_any(g->o->cgroups, cg->path))
            continue;
        bool found = false;
        for (size_t k = 0; k < g->ncgs; k++) {
            struct gcg *c = &g->cgs[k];
            if (strcmp(c->path, cg->path) != 0)
                continue;
            found = c->present = true;
            /* v1: a unified twin made after the memory cgroup (systemd makes both) */
            if (c->psi_dirfd < 0 && (c->psi_dirfd = cgroup_open_pressure_dir(&g->hier,
                                                                              c->path)) >= 0)
                log_debug("guard: %s has PSI now (a twin in the unified tree)", c->path);
        }
        if (found)
            continue;
        struct gcg *v = realloc(g->cgs, (g->ncgs + 1) * sizeof(*v));
        if (!v)
            break;
        g->cgs = v;
        struct gcg *c = &g->cgs[g->ncgs];
        *c = (struct gcg){.dirfd = cgroup_open_dir(&g->hier, cg->path), .psi_dirfd = -1,
                          .present = true};
        if (c->dirfd < 0 || !(c->path = strdup(cg->path))) {
            if (c->dirfd >= 0)
                close(c->dirfd);
            continue;
        }
        c->psi_dirfd = cgroup_open_pressure_dir(&g->hier, cg->path);
        g->ncgs++;
        log_debug("guard: watching %s (limit %" PRIu64 ")%s", cg->path, cg->max,
                  c->psi_dirfd >= 0 ? "" : " without PSI: limit hits only");
    }
    cgroup_snapshot_release(&s);
    size_t k = 0;
    for (size_t i = 0; i < g->ncgs; i++) {
        if (g->cgs[i].present)
            g->cgs[k++] = g->cgs[i];
        else
            gcg_close(&g->cgs[i]);
    }
    g->ncgs = k;
}

/* inactive_file of a cgroup's memory.stat (v1: total_inactive_file, the subtree's), or
 * OPT_ABSENT. On the stack: this runs every few ms while a cgroup is near its limit. */
static uint64_t inactive_file(int dirfd, int version, long page_size)
{
    char b[16384];
    int n = read_small_at(dirfd, "memory.stat", b, sizeof(b));
    struct cgroup_memstat st;
    if (n <= 0 || cgroup_memstat_parse(b, (size_t)n, version, page_size, &st) <= 0)
        return OPT_ABSENT;
    return st.inactive_file;
}

/*
 * Headroom check of one cgroup; returns the ms until it could need a look again.
 *
 * Near the limit is measured on the working set (usage minus inactive page cache, as kubelet
 * counts it), not on usage: a cgroup full of clean page cache sits at its limit for good, and
 * reclaiming that cache is what the limit is for. Measured on the v1 host (6.18) with usage:
 * a process that had read a 300 MiB file into a 64 MiB cgroup, with 8 MiB of anon, was killed
 * for "failcnt +2" (no PSI) and, with a unified twin, for "memory stall 41% of the last 20 ms";
 * both kills freed nothing, and the kernel would never have OOM-killed it.
 *
 * Stalling or hitting the limit comes too late for memory nothing can reclaim: anon growing into
 * the limit without swap shows neither until it is at the limit, and the kernel's OOM comes a
 * few ms later (tests/vm/scenarios/guard-cgroup: at 32 MiB/s under emulation the kernel won
 * every race that began at the limit). So a working set inside the headroom that grows, over
 * the checks of the last FILL_WINDOW_MS (at least FILL_MIN_CHECKS of them), at a rate that
 * reaches the limit within FILL_HORIZON_MS counts too. A window, not check to check: programs
 * grow in steps (an allocator's chunk at a time), and most checks see no growth at all. A
 * process that sits inside the headroom without growing is left alone.
 */
#define FILL_HORIZON_MS 500
#define FILL_WINDOW_MS 200
#define FILL_MIN_CHECKS 3
static uint64_t check_cgroup(struct guard *g, struct gcg *c, uint64_t now_ms, uint64_t t_us)
{
    const struct guard_opts *o = g->o;
    bool v2 = g->hier.memory_version == 2;
    uint64_t cur, max;
    if (read_u64_at(c->dirfd, v2 ? "memory.current" : "memory.usage_in_bytes", &cur) < 0 ||
        read_u64_at(c->dirfd, v2 ? "memory.max" : "memory.limit_in_bytes", &max) < 0 ||
        !cgroup_limit_set(max))
        return o->max_interval_ms;
    uint64_t stall = OPT_ABSENT, failcnt = OPT_ABSENT;
    struct psi p;
    if (c->psi_dirfd >= 0 && psi_read_at(c->psi_dirfd, "memory.pressure", &p) == 0 &&
        p.some.present)
        stall = p.some.total;
    /* the limit being hit (v1 failcnt, v2 memory.events max) counts too, PSI or not: anon
     * growing into the limit without swap stalls for a few ms before the OOM, too short for PSI
     * to show (measured on the 6.18 v1 host: a twin's PSI stayed under 10% per check until the
     * kernel's kill, every time; tests/vm/scenarios/guard-cgroup: the same on v2) */
    struct cgroup_events ev;
    if (cgroup_read_events_at(&g->hier, c->dirfd, &ev) == 0)
        failcnt = ev.max;
    uint64_t room = guard_amount_of(&o->headroom, max);
    /* memory.stat only when usage is near the line: the working set is never above usage */
    uint64_t wset = cur;
    if (cur + 2 * room >= max) {
        uint64_t inactive = inactive_file(c->dirfd, v2 ? 2 : 1, g->sr->page_size);
        if (opt_has(inactive))
            wset = cur > inactive ? cur - inactive : 0;
    }
    bool close_to = wset + room >= max;
    bool stalling = false;
    uint64_t filling_rate = 0; /* bytes/s */
    char why[192] = "";
    if (c->primed && now_ms > c->last_ms) {
        uint64_t dt_us = (now_ms - c->last_ms) * 1000;
        /* filling: the oldest sample of the window, and the rate since */
        uint64_t from_ms = 0, from_wset = 0;
        unsigned checks = 0;
        for (unsigned i = 0; i < c->nhist && i < FILL_SAMPLES; i++) {
            unsigned k = (c->nhist - 1 - i) % FILL_SAMPLES; /* newest first */
            if (now_ms - c->hist[k].ms > FILL_WINDOW_MS)
                break;
            from_ms = c->hist[k].ms;
            from_wset = c->hist[k].wset;
            checks++;
        }
        uint64_t span_ms = checks ? now_ms - from_ms : 0;
        if (close_to && checks >= FILL_MIN_CHECKS && span_ms && wset > from_wset &&
            (max > wset ? max - wset : 0) * span_ms < (wset - from_wset) * FILL_HORIZON_MS) {
            filling_rate = (wset - from_wset) * 1000 / span_ms;
        }
        if (opt_has(stall) && opt_has(c->last_stall_us) && stall >= c->last_stall_us) {
            uint64_t d = stall - c->last_stall_us;
            stalling = d * 100 >= dt_us * o->stall_percent && d > 0;
            snprintf(why, sizeof(why), "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64
                     ", memory stall %.0f%% of the last %" PRIu64 " ms", cur, max, wset,
                     (double)d * 100.0 / (double)dt_us, now_ms - c->last_ms);
        }
        if (!stalling && opt_has(failcnt) && opt_has(c->last_failcnt) &&
            failcnt > c->last_failcnt) {
            /* the limit was hit since the last look: with the working set at the line,
             * reclaim has only what the cgroup is using left to take */
            stalling = true;
            snprintf(why, sizeof(why), "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64
                     ", %s +%" PRIu64 "%s", cur, max, wset, v2 ? "memory.events max" : "failcnt",
                     failcnt - c->last_failcnt, opt_has(stall) ? "" : " (no PSI for this cgroup)");
        }
        if (!stalling && filling_rate) {
            stalling = true;
            snprintf(why, sizeof(why), "usage %" PRIu64 " of %" PRIu64 ", working set %" PRIu64
                     " growing %" PRIu64 " KiB/s, at the limit in %" PRIu64 " ms", cur, max, wset,
                     filling_rate / 1024, (max > wset ? max - wset : 0) * 1000 / filling_rate);
        }
    }
    c->last_stall_us = stall;
    c->last_failcnt = failcnt;
    c->hist[c->nhist % FILL_SAMPLES].ms = now_ms;
    c->hist[c->nhist % FILL_SAMPLES].wset = wset;
    c->nhist++;
    c->last_ms = now_ms;
    c->primed = true;
    if (!close_to)
        c->cooldown_until = 0; /* back under the line: the episode is over */
    if (close_to && stalling && now_ms >= c->cooldown_until) {
        /* the decision made ahead, when it is fresh; else one from scratch */
        if (c->armed && c->armed->valid && c->armed->k.chosen != SIZE_MAX &&
            t_us - c->armed->prepared_us < 2 * ARM_REFRESH_MS * 1000 + 2 * c->armed_cost_us) {
            fire(g, c->armed, GUARD_REASON_CGROUP_HEADROOM, why, t_us);
            gcg_disarm(c);
        } else {
            gcg_disarm(c);
            decide(g, GUARD_REASON_CGROUP_HEADROOM, c->path, why, t_us);
        }
        return o->min_interval_ms;
    }
    /* armed within twice the headroom (and not cooling down): ranked and the victim pinned, so
     * that when the trigger comes only the kill is left to do */
    bool near = wset + 2 * room >= max && now_ms >= c->cooldown_until;
    uint64_t refresh = ARM_REFRESH_MS * 1000 > 2 * c->armed_cost_us ? ARM_REFRESH_MS * 1000
                                                                    : 2 * c->armed_cost_us;
    if (!near) {
        gcg_disarm(c);
    } else if (!c->armed || t_us - c->armed->prepared_us >= refresh) {
        gcg_disarm(c);
        uint64_t t0 = clock_mono_us();
        if ((c->armed = malloc(sizeof(*c->armed))) && prepare(g, c->path, c->armed) < 0) {
            free(c->armed);
            c->armed = NULL;
        }
        c->armed_cost_us = clock_mono_us() - t0;
    }
    uint64_t left = max > wset + room ? max - wset - room : 0;
    return o->fill_rate ? left * 1000 / o->fill_rate : o->max_interval_ms;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Every trigger that polls, once; re-arms the timer adaptively. */
static void check_all(struct guard *g)
{
    const struct guard_opts *o = g->o;
    uint64_t t_us = clock_mono_us();
    uint64_t now_ms = loop_now_ms();
    uint64_t next = o->max_interval_ms;
    struct meminfo mi;
    if (meminfo_read(g->sr, &mi) == 0 && opt_has(mi.mem_available) && opt_has(mi.mem_total)) {
        uint64_t floor = guard_amount_of(&o->memory_floor, mi.mem_total);
        bool has_swap = opt_has(mi.swap_total) && mi.swap_total > 0;
        uint64_t sfloor = has_swap ? guard_amount_of(&o->swap_floor, mi.swap_total) : 0;
        bool mem_low = floor && mi.mem_available < floor;
        bool swap_low = !has_swap || (opt_has(mi.swap_free) && mi.swap_free < sfloor);
        if (mem_low && swap_low && now_ms >= g->global_cooldown_until) {
            char why[160];
            char a[FMT_SIZE_LEN], f[FMT_SIZE_LEN];
            snprintf(why, sizeof(why), "MemAvailable %s < floor %s%s", fmt_size(a, mi.mem_available),
                     fmt_size(f, floor), has_swap ? " and SwapFree under its floor" : "");
            if (g->armed.valid && g->armed.k.chosen != SIZE_MAX &&
                t_us - g->armed.prepared_us < 2 * ARM_REFRESH_MS * 1000 + 2 * g->armed_cost_us)
                fire(g, &g->armed, GUARD_REASON_MEMORY_FLOOR, why, t_us);
            else
                decide(g, GUARD_REASON_MEMORY_FLOOR, NULL, why, t_us);
            prep_release(&g->armed);
            next = o->min_interval_ms;
        } else if (floor) {
            /* memory is back above the floor (or swap is left): the episode is over, and the
             * next time it runs low is a new one */
            if (!(mem_low && swap_low))
                g->global_cooldown_until = 0;
            uint64_t left = mi.mem_available > floor ? mi.mem_available - floor : 0;
            if (o->fill_rate)
                next = left * 1000 / o->fill_rate;
            /* armed: the floor could be reached within ARM_HORIZON_MS at the assumed fill rate */
            bool near = o->fill_rate && left < o->fill_rate / 1000 * ARM_HORIZON_MS;
            uint64_t refresh = ARM_REFRESH_MS * 1000 > 2 * g->armed_cost_us
                                   ? ARM_REFRESH_MS * 1000 : 2 * g->armed_cost_us;
            if (!near) {
                if (g->armed.valid)
                    prep_release(&g->armed);
            } else if (!g->armed.valid || t_us - g->armed.prepared_us >= refresh) {
                prep_release(&g->armed);
                uint64_t t0 = clock_mono_us();
                (void)prepare(g, NULL, &g->armed);
                g->armed_cost_us = clock_mono_us() - t0;
            }
        }
    }
    if (now_ms - g->cgs_refreshed_ms >= CGROUP_REFRESH_MS)
        refresh_cgroups(g);
    for (size_t i = 0; i < g->ncgs; i++) {
        uint64_t n = check_cgroup(g, &g->cgs[i], loop_now_ms(), t_us);
        if (n < next)
            next = n;
    }
    /* the cgroup list is refreshed on this timer too */
    if (next > CGROUP_REFRESH_MS)
        next = CGROUP_REFRESH_MS;
    loop_timer_arm(g->tick, clamp(next, o->min_interval_ms, o->max_interval_ms));
}

static int on_tick(struct loop *l, void *ctx)
{
    (void)l;
    check_all(ctx);
    return 0;
}

static int on_psi(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    struct gtrig *t = ctx;
    struct guard *g = t->g;
    if (events & EPOLLERR) {
        loop_remove(l, t->src);
        t->src = NULL;
        return 0;
    }
    uint64_t now = loop_now_ms();
    uint64_t window_ms = g->o->psi.window_us / 1000;
    /* consecutive windows make one episode; a gap of two windows ends it */
    if (!t->first_ms || now - t->last_ms > 2 * window_ms + 100)
        t->first_ms = now;
    t->last_ms = now;
    log_debug("guard: PSI trigger on %s", t->cgroup ? t->cgroup : "the node");
    check_all(g);
    uint64_t *cool = &g->global_cooldown_until;
    for (size_t i = 0; t->cgroup && i < g->ncgs; i++)
        if (strcmp(g->cgs[i].path, t->cgroup) == 0)
            cool = &g->cgs[i].cooldown_until;
    if (g->o->psi_kill_after_ms && now - t->first_ms >= g->o->psi_kill_after_ms &&
        now >= *cool) {
        char why[128];
        snprintf(why, sizeof(why), "memory %s stall over %" PRIu64 " ms per %" PRIu64
                 " ms window for %" PRIu64 " ms", g->o->psi.full ? "full" : "some",
                 g->o->psi.stall_us / 1000, window_ms, now - t->first_ms);
        decide(g, GUARD_REASON_PSI, t->cgroup, why, clock_mono_us());
        t->first_ms = 0;
        *cool = loop_now_ms() + g->o->cooldown_ms;
    }
    return 0;
}

static void add_trigger(struct guard *g, int dirfd, const char *file, const char *cgroup)
{
    struct psi_trigger_spec spec = g->o->psi;
    if (psi_trigger_unprivileged())
        psi_trigger_spec_unprivileged(&spec);
    int fd = psi_trigger_open(dirfd, file, &spec);
    if (fd < 0) {
        log_debug("guard: no PSI trigger on %s: %s", cgroup ? cgroup : file, strerror(-fd));
        return;
    }
    /* the loop holds pointers into the array: it is sized once, never moved */
    if (g->ntrig >= g->trig_cap) {
        close(fd);
        return;
    }
    struct gtrig *t = &g->trig[g->ntrig];
    *t = (struct gtrig){.g = g, .fd = fd, .cgroup = cgroup ? strdup(cgroup) : NULL};
    if (loop_add_fd(g->loop, fd, EPOLLPRI, on_psi, t, &t->src) < 0) {
        close(fd);
        free(t->cgroup);
        return;
    }
    g->ntrig++;
}

static void close_triggers(struct guard *g)
{
    for (size_t i = 0; i < g->ntrig; i++) {
        if (g->trig[i].src)
            loop_remove(g->loop, g->trig[i].src);
        close(g->trig[i].fd);
        free(g->trig[i].cgroup);
    }
    free(g->trig);
    g->trig = NULL;
    g->ntrig = g->trig_cap = 0;
}

static void open_triggers(struct guard *g)
{
    if (!g->o->has_psi)
        return;
    /* node + every cgroup asked for */
    size_t want = 1;
    struct cgroup_snapshot s = {0};
    bool snap = g->hier_ok && g->o->psi_cgroups && g->o->psi_cgroups->n &&
                cgroup_snapshot_read_limits(&g->hier, "/", 16, &s) == 0;
    for (size_t i = 0; snap && i < s.n; i++)
        if (glob_any(g->o->psi_cgroups, s.v[i].path))
            want++;
    g->trig = calloc(want, sizeof(*g->trig));
    if (!g->trig) {
        cgroup_snapshot_release(&s);
        return;
    }
    g->trig_cap = want;
    size_t before = g->ntrig;
    add_trigger(g, g->sr->proc_fd, "pressure/memory", NULL);
    if (g->ntrig == before && g->hier_ok) {
        /* 6.18 refuses triggers on /proc/pressure/memory where the v2 root's file takes them
         * (docs/kernel-notes.md): the same PSI group */
        int dfd = cgroup_open_pressure_dir(&g->hier, "/");
        if (dfd >= 0) {
            add_trigger(g, dfd, "memory.pressure", NULL);
            close(dfd);
        }
    }
    for (size_t i = 0; snap && i < s.n && g->ntrig < want; i++) {
        if (strcmp(s.v[i].path, "/") == 0 || !glob_any(g->o->psi_cgroups, s.v[i].path))
            continue;
        int dfd = cgroup_open_pressure_dir(&g->hier, s.v[i].path);
        if (dfd >= 0) {
            add_trigger(g, dfd, "memory.pressure", s.v[i].path);
            close(dfd);
        }
    }
    cgroup_snapshot_release(&s);
}

int guard_start(struct loop *l, const struct sysroot *sr, const struct guard_opts *o,
                const struct policy *policy, const struct guard_event_sink *sink,
                struct guard **ret)
{
    struct guard *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->loop = l;
    g->sr = sr;
    g->o = o;
    g->policy = policy;
    g->sink = *sink;
    g->pid = getpid();
    g->armed = (struct prep){.t = {.pidfd = -1}, .k = {.chosen = SIZE_MAX}};
    buf_init(&g->table, CAP_OUTPUT);
    buf_init(&g->line, CAP_OUTPUT);
    (void)kver_read(sr, &g->kernel);
    g->hier_ok = cgroup_hier_open(sr, &g->hier) == 0;
    g->scratch = malloc(SCRATCH_LEN);
    if (!g->scratch) {
        guard_stop(g);
        return -ENOMEM;
    }
    memset(g->scratch, 0, SCRATCH_LEN);
    self_protect(g);
    int r = loop_add_timer(l, o->min_interval_ms, false, on_tick, g, &g->tick);
    if (r < 0) {
        guard_stop(g);
        return r;
    }
    refresh_cgroups(g);
    open_triggers(g);
    *ret = g;
    return 0;
}

void guard_reconfigure(struct guard *g, const struct guard_opts *o, const struct policy *policy)
{
    g->o = o;
    g->policy = policy;
    prep_release(&g->armed); /* made under the old rules */
    close_triggers(g);
    open_triggers(g);
    for (size_t i = 0; i < g->ncgs; i++)
        gcg_close(&g->cgs[i]);
    g->ncgs = 0;
    refresh_cgroups(g);
}

void guard_stop(struct guard *g)
{
    if (!g)
        return;
    close_triggers(g);
    prep_release(&g->armed);
    if (g->tick)
        loop_remove(g->loop, g->tick);
    for (size_t i = 0; i < g->ncgs; i++)
        gcg_close(&g->cgs[i]);
    free(g->cgs);
    if (g->hier_ok)
        cgroup_hier_close(&g->hier);
    free(g->scratch);
    buf_release(&g->table);
    buf_release(&g->line);
    free(g);
}
