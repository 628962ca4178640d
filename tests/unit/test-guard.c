/*
 * The guard's choice and kill: amounts ("5%", "256M"), the order (policy tiers over the kernel's
 * ranking, and who is never taken), pinning against real child processes (gone, zombie, PID
 * reused, self, init), the kill itself (one process, or its cgroup with the spared ones left
 * alone), and the candidate table.
 *
 * The children are this test's own, so it also runs unprivileged. Every child is recorded before
 * anything is asserted about it and the teardown kills and reaps them all, since a failed
 * assertion leaves the test by longjmp.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/opt.h"
#include "engine/act/guard/guard.h"
#include "engine/act/killer.h"
#include "engine/act/policy.h"
#include "model/cgroup/cgroup.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/proc/victims.h"

#define MAXKIDS 8
#define MAXROWS 16
#define KILL_TIMEOUT_MS 5000

static struct sysroot sr;

/* ---- amounts --------------------------------------------------------------------------------- */

static void amount_parse_and_of(void **state)
{
    (void)state;
    struct guard_amount a;
    assert_int_equal(guard_amount_parse("5%", &a), 0);
    assert_int_equal(a.percent, 5);
    assert_int_equal(a.bytes, 0);
    assert_int_equal(guard_amount_of(&a, 1000), 50);
    assert_int_equal(guard_amount_of(&a, 4ull << 30), (4ull << 30) / 20);

    assert_int_equal(guard_amount_parse("100%", &a), 0);
    assert_int_equal(guard_amount_of(&a, 12345), 12345);

    assert_int_equal(guard_amount_parse("256M", &a), 0);
    assert_int_equal(a.percent, 0);
    assert_int_equal(a.bytes, 256u << 20);
    /* a size does not depend on the total */
    assert_int_equal(guard_amount_of(&a, 1000), 256u << 20);
    assert_int_equal(guard_amount_of(&a, 64ull << 30), 256u << 20);

    assert_int_equal(guard_amount_parse("0", &a), 0);
    assert_int_equal(a.percent, 0);
    assert_int_equal(guard_amount_of(&a, 1ull << 40), 0);
    /* 0% is "off" as well */
    assert_int_equal(guard_amount_parse("0%", &a), 0);
    assert_int_equal(guard_amount_of(&a, 1ull << 40), 0);

    /* exact: 50% of 256M is 128M (not rounded down to a multiple of 100 bytes first), and the
     * percentage of a total under 100 bytes is not 0 */
    assert_int_equal(guard_amount_parse("50%", &a), 0);
    assert_int_equal(guard_amount_of(&a, 256u << 20), 128u << 20);
    assert_int_equal(guard_amount_parse("5%", &a), 0);
    assert_int_equal(guard_amount_of(&a, 99), 4);
    assert_int_equal(guard_amount_parse("33%", &a), 0);
    assert_int_equal(guard_amount_of(&a, 1001), 330);
    /* no overflow near the top of the range */
    assert_int_equal(guard_amount_parse("100%", &a), 0);
    assert_true(guard_amount_of(&a, UINT64_MAX - 1) == UINT64_MAX - 1);

    static const char *const bad[] = {"",     "%",    "101%", "1000%", "abc",  "5%%", "-5%",
                                      "-0%",  "+5%",  " 5%",  "5 %",   "x5%",  "5x%", "-1",
                                      "-5M",  "5Q",   "1.5",  "M",     "5%M",  "%5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = (struct guard_amount){.bytes = 7, .percent = 7};
        if (guard_amount_parse(bad[i], &a) != -EINVAL)
            fail_msg("'%s' was accepted (bytes %llu, percent %u)", bad[i],
                     (unsigned long long)a.bytes, a.percent);
    }
}

/* ---- the order (pure) ------------------------------------------------------------------------ */

static struct policy_verdict verdict(enum guard_weight w, size_t rule, enum kill_unit u)
{
    return (struct policy_verdict){.adj = POLICY_ADJ_UNSET, .adj_rule = SIZE_MAX, .weight = w,
                                   .weight_rule = rule, .kill_unit = u, .unit_rule = SIZE_MAX};
}

static struct proc fake(pid_t pid, const char *comm, int adj)
{
    struct proc p = {.pid = pid, .ppid = 1, .state = 'S', .has_mm = true, .has_oom = true,
                     .oom_score_adj = adj, .start_time = 1000 + (uint64_t)pid, .uid = 0,
                     .rss_anon = (uint64_t)pid << 20, .rss_file = 0, .rss_shmem = 0};
    snprintf(p.comm, sizeof(p.comm), "%s", comm);
    return p;
}

/* Appends a row; eligible rows get the next kernel rank (add them in kill order, first). */
static void add_row(struct victim_list *vl, const struct proc *p, bool scored, bool eligible,
                    int64_t badness)
{
    size_t rank = 0;
    for (size_t i = 0; i < vl->n; i++)
        if (vl->v[i].rank > rank)
            rank = vl->v[i].rank;
    vl->v[vl->n++] = (struct victim){.proc = p, .scored = scored, .eligible = eligible,
                                     .badness = eligible ? badness : 0,
                                     .rank = eligible ? rank + 1 : 0};
}

#define SELF 4242

/*
 * The machine of the issue: a protected daemon is the biggest process; policy tiers reorder
 * the rest; init, a kernel thread, a -1000 process, a zombie, a process gone before it was read
 * and oomwarden itself are in the list too.
 */
struct scenario {
    struct proc p[MAXROWS];
    struct victim v[MAXROWS];
    struct victim_list vl;
    struct policy_verdict verd[MAXROWS];
    struct guard_candidate c[MAXROWS];
    size_t order[MAXROWS];
    size_t ncand;
    struct policy_rule rules[3];
    struct policy pol;
};

static void scenario_build(struct scenario *s)
{
    memset(s, 0, sizeof(*s));
    s->vl.v = s->v;
    s->rules[0].name = "daemons";
    s->rules[1].name = "batch";
    s->rules[2].name = "db";
    s->pol = (struct policy){.v = s->rules, .n = 3};
    size_t n = 0;
    /* kill order: eligible rows by badness */
    s->p[n] = fake(100, "bigdaemon", 0);
    s->verd[n++] = verdict(WEIGHT_PROTECT, 0, KILL_UNIT_PROCESS); /* rank 1 */
    s->p[n] = fake(101, "web", 0);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS); /* rank 2 */
    s->p[n] = fake(102, "postgres", -500);
    s->verd[n++] = verdict(WEIGHT_AVOID, 2, KILL_UNIT_PROCESS); /* rank 3 */
    s->p[n] = fake(103, "batch-a", 500);
    s->verd[n++] = verdict(WEIGHT_PREFER, 1, KILL_UNIT_CGROUP); /* rank 4 */
    s->p[n] = fake(SELF, "oomwarden", 0);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS); /* rank 5 */
    s->p[n] = fake(104, "cron", 0);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS); /* rank 6 */
    s->p[n] = fake(105, "batch-b", 500);
    s->verd[n++] = verdict(WEIGHT_PREFER, 1, KILL_UNIT_PROCESS); /* rank 7 */
    /* then the rest, by pid */
    s->p[n] = fake(1, "systemd", 0);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    s->p[n] = fake(2, "kthreadd", 0);
    s->p[n].kernel_thread = true;
    s->p[n].has_mm = false;
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    s->p[n] = fake(106, "sshd", -1000);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    s->p[n] = fake(107, "defunct", 0);
    s->p[n].state = 'Z';
    s->p[n].has_mm = false;
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    s->p[n] = fake(108, "gone", 0);
    s->verd[n++] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    int64_t bad = 9000;
    for (size_t i = 0; i < 7; i++, bad -= 1000)
        add_row(&s->vl, &s->p[i], true, true, bad);
    add_row(&s->vl, &s->p[7], true, false, 0);  /* init */
    add_row(&s->vl, &s->p[8], false, false, 0); /* kernel thread */
    add_row(&s->vl, &s->p[9], true, false, 0);  /* -1000 */
    add_row(&s->vl, &s->p[10], true, false, 0); /* zombie: no mm */
    add_row(&s->vl, &s->p[11], false, false, 0); /* vanished mid-read */
    assert_int_equal(s->vl.n, n);
    s->ncand = guard_order(&s->vl, s->verd, SELF, s->c, s->order);
}

static pid_t pid_at(const struct scenario *s, size_t pos)
{
    return s->c[s->order[pos]].proc->pid;
}

static void order_tiers_and_exclusions(void **state)
{
    (void)state;
    static struct scenario s;
    scenario_build(&s);
    /* prefer (kernel order within), then normal, then avoid */
    assert_int_equal(s.ncand, 5);
    static const pid_t want[] = {103, 105, 101, 104, 102};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pid_at(&s, i), want[i]);
        assert_int_equal(s.c[s.order[i]].order, i + 1);
        assert_null(s.c[s.order[i]].excluded);
    }
    /* the biggest process is protected: never a candidate, whatever its badness */
    assert_int_equal(s.c[0].proc->pid, 100);
    assert_int_equal(s.c[0].kernel_rank, 1);
    assert_int_equal(s.c[0].badness, 9000);
    assert_string_equal(s.c[0].excluded, "protected by policy");
    assert_int_equal(s.c[0].order, 0);
    /* excluded rows last: those the kernel would take in its order, then the rest by pid */
    static const struct {
        pid_t pid;
        const char *why;
    } ex[] = {
        {100, "protected by policy"},
        {SELF, "oomwarden itself"},
        {1, "init (pid 1)"},
        {2, "kernel thread"},
        {106, "oom_score_adj -1000"},
        {107, "no memory to free (no mm, exiting, or in vfork)"},
        {108, "gone before it was read"},
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        const struct guard_candidate *g = &s.c[s.order[5 + i]];
        assert_int_equal(g->proc->pid, ex[i].pid);
        assert_non_null(g->excluded);
        assert_string_equal(g->excluded, ex[i].why);
        assert_int_equal(g->order, 0);
    }
    /* what the rows carry over */
    assert_int_equal(s.c[3].verdict.weight, WEIGHT_PREFER);
    assert_int_equal(s.c[3].verdict.kill_unit, KILL_UNIT_CGROUP);
    assert_int_equal(s.c[3].kernel_rank, 4);
    assert_int_equal(s.c[3].badness, 6000);
    assert_true(s.c[3].eligible);
    assert_false(s.c[9].eligible);
}

/* The guard's own exclusions do not rely on the ranking: init, -1000, itself and kernel threads
 * are left out even when the victim list calls them eligible. */
static void order_excludes_even_when_ranked(void **state)
{
    (void)state;
    struct proc p[6] = {fake(1, "init", 0),     fake(50, "minus1000", -1000),
                        fake(SELF, "self", 0),  fake(3, "kworker", 0),
                        fake(60, "protected", 0), fake(70, "small", 0)};
    p[3].kernel_thread = true;
    struct victim v[6];
    struct victim_list vl = {.v = v};
    for (size_t i = 0; i < 6; i++)
        add_row(&vl, &p[i], true, true, 1000 - (int64_t)i);
    struct policy_verdict verd[6];
    for (size_t i = 0; i < 6; i++)
        verd[i] = verdict(i == 4 ? WEIGHT_PROTECT : WEIGHT_PREFER, SIZE_MAX, KILL_UNIT_PROCESS);
    struct guard_candidate c[6];
    size_t order[6];
    assert_int_equal(guard_order(&vl, verd, SELF, c, order), 1);
    assert_int_equal(c[order[0]].proc->pid, 70);
    assert_int_equal(c[order[0]].order, 1);
    assert_string_equal(c[0].excluded, "init (pid 1)");
    assert_string_equal(c[1].excluded, "oom_score_adj -1000");
    assert_string_equal(c[2].excluded, "oomwarden itself");
    assert_string_equal(c[3].excluded, "kernel thread");
    assert_string_equal(c[4].excluded, "protected by policy");
    for (size_t i = 1; i < 6; i++)
        assert_int_equal(c[order[i]].order, 0);
    /* excluded, in kernel order after the candidate */
    for (size_t i = 1; i < 6; i++)
        assert_int_equal(c[order[i]].proc->pid, p[i - 1].pid);

    /* without a policy: every row is normal, the kernel's order stands; an oom_score_adj that
     * was not read (has_oom false) is not taken for -1000 */
    p[1].has_oom = false;
    assert_int_equal(guard_order(&vl, NULL, SELF, c, order), 3);
    assert_int_equal(c[order[0]].proc->pid, 50);
    assert_int_equal(c[order[1]].proc->pid, 60);
    assert_int_equal(c[order[2]].proc->pid, 70);
    assert_int_equal(c[order[0]].verdict.weight, WEIGHT_NORMAL);
    assert_int_equal(c[order[0]].verdict.kill_unit, KILL_UNIT_PROCESS);
    assert_int_equal(c[order[0]].verdict.weight_rule, SIZE_MAX);

    /* avoid only when nothing else is left */
    for (size_t i = 0; i < 6; i++)
        verd[i] = verdict(WEIGHT_AVOID, SIZE_MAX, KILL_UNIT_PROCESS);
    verd[5] = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS);
    assert_int_equal(guard_order(&vl, verd, SELF, c, order), 3);
    assert_int_equal(c[order[0]].proc->pid, 70);
    assert_int_equal(c[order[1]].proc->pid, 50);
    assert_int_equal(c[order[2]].proc->pid, 60);

    /* an empty domain */
    vl.n = 0;
    assert_int_equal(guard_order(&vl, NULL, SELF, c, order), 0);
}

/* ---- the table ------------------------------------------------------------------------------- */

/* The line of the table that shows `pid` (its second column), or NULL. */
static const char *row_of(const char *text, pid_t pid)
{
    for (const char *line = text; *line;) {
        char pos[16];
        int got;
        if (sscanf(line, "%15s %d", pos, &got) == 2 && got == pid)
            return line;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return NULL;
}

static void table_rows_in_guard_order(void **state)
{
    (void)state;
    static struct scenario s;
    scenario_build(&s);
    struct buf b = BUF_INIT(1 << 16);
    assert_int_equal(guard_table_text(&s.pol, s.c, s.order, s.vl.n, 100, 4096, &b), 0);
    const char *t = buf_cstr(&b);
    assert_non_null(strstr(t, "PID"));
    assert_non_null(strstr(t, "WHY NOT"));
    /* candidates in the guard's order, numbered 1..5 */
    static const pid_t want[] = {103, 105, 101, 104, 102};
    const char *prev = t;
    for (size_t i = 0; i < 5; i++) {
        const char *r = row_of(t, want[i]);
        if (!r)
            fail_msg("pid %d missing from the table:\n%s", (int)want[i], t);
        if (r < prev)
            fail_msg("pid %d out of order in the table:\n%s", (int)want[i], t);
        prev = r;
        /* the row starts with its position */
        assert_int_equal(strtol(r, NULL, 10), i + 1);
    }
    /* the weights name their rules */
    assert_non_null(strstr(row_of(t, 103), "prefer:batch"));
    assert_non_null(strstr(row_of(t, 102), "avoid:db"));
    assert_non_null(strstr(row_of(t, 103), "cgroup"));
    /* the excluded rows the kernel would take come after the candidates, with the reason */
    const char *prot = row_of(t, 100), *self = row_of(t, SELF);
    assert_non_null(prot);
    assert_non_null(self);
    assert_true(prot > row_of(t, 102));
    assert_true(self > prot);
    const char *eol = strchr(prot, '\n');
    const char *why = strstr(prot, "never: protected by policy");
    assert_true(why && why < eol);
    assert_non_null(strstr(prot, "protect:daemons"));
    eol = strchr(self, '\n');
    why = strstr(self, "never: oomwarden itself");
    assert_true(why && why < eol);
    /* the ones the kernel would not take either are left out (nothing to compare) */
    assert_null(row_of(t, 2));
    assert_null(row_of(t, 107));
    assert_null(strstr(t, "more candidates"));

    /* a row limit: the first rows, then a count of the candidates not shown */
    buf_reset(&b);
    assert_int_equal(guard_table_text(&s.pol, s.c, s.order, s.vl.n, 3, 4096, &b), 0);
    t = buf_cstr(&b);
    assert_non_null(row_of(t, 103));
    assert_non_null(row_of(t, 101));
    assert_null(row_of(t, 104));
    assert_null(row_of(t, 100));
    assert_non_null(strstr(t, "... 2 more candidates\n"));

    /* names are anyone's to choose: no terminal escapes or line breaks get into the log */
    snprintf(s.p[1].comm, sizeof(s.p[1].comm), "web\033[2J\nfake");
    s.p[1].cgroup = "/evil\n  1     666 init";
    buf_reset(&b);
    assert_int_equal(guard_table_text(&s.pol, s.c, s.order, s.vl.n, 100, 4096, &b), 0);
    t = buf_cstr(&b);
    assert_null(strchr(t, '\033'));
    assert_non_null(strstr(row_of(t, 101), "web?[2J?fake"));
    assert_null(row_of(t, 666));
    s.p[1].cgroup = NULL;

    /* without a policy the weight column still says something */
    buf_reset(&b);
    assert_int_equal(guard_table_text(NULL, s.c, s.order, s.vl.n, 100, 4096, &b), 0);
    assert_non_null(strstr(buf_cstr(&b), "prefer "));
    buf_release(&b);
}

/* ---- real processes -------------------------------------------------------------------------- */

struct kids {
    pid_t pid[MAXKIDS];
    size_t n;
    struct proc proc[MAXKIDS];
    size_t nproc;
    char tmp[64]; /* a fake cgroup tree, removed in the teardown */
    int tmp_fd;
};

static pid_t spawn(struct kids *k)
{
    assert_true(k->n < MAXKIDS);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        for (;;)
            pause();
    }
    k->pid[k->n++] = p;
    return p;
}

/* A child that has exited and is a zombie (not reaped). */
static pid_t spawn_zombie(struct kids *k)
{
    assert_true(k->n < MAXKIDS);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    k->pid[k->n++] = p;
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0);
    return p;
}

/* Kills and reaps a child now (it then is gone, and the teardown skips it). */
static void reap(struct kids *k, pid_t p)
{
    for (size_t i = 0; i < k->n; i++) {
        if (k->pid[i] == p) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
            k->pid[i] = 0;
        }
    }
}

/* The child is alive and stays so for a while: a SIGKILL sent to it would have ended it by then
 * (it would be waitable). */
static bool alive(pid_t p)
{
    for (int i = 0; i < 10; i++) {
        int status;
        if (kill(p, 0) != 0 || waitpid(p, &status, WNOHANG) != 0)
            return false;
        usleep(10000);
    }
    return true;
}

/* Waits for the child; true when SIGKILL ended it. Marks it reaped. */
static bool died_of_sigkill(struct kids *k, pid_t p)
{
    int status;
    if (waitpid(p, &status, 0) != p)
        return false;
    for (size_t i = 0; i < k->n; i++)
        if (k->pid[i] == p)
            k->pid[i] = 0;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static struct proc *snap(struct kids *k, pid_t pid)
{
    assert_true(k->nproc < MAXKIDS);
    struct buf scratch = BUF_INIT(1 << 16);
    struct proc *p = &k->proc[k->nproc];
    int r = procs_read_one(&sr, pid,
                           PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP,
                           &scratch, p);
    buf_release(&scratch);
    assert_int_equal(r, 0);
    k->nproc++;
    return p;
}

static int kids_setup(void **state)
{
    struct kids *k = calloc(1, sizeof(*k));
    if (!k)
        return -1;
    k->tmp_fd = -1;
    *state = k;
    return 0;
}

static void rm_fake_tree(struct kids *k)
{
    if (!k->tmp[0])
        return;
    char path[128];
    static const char *const files[] = {"grp/cgroup.procs", "grp/cgroup.kill",
                                        "grp/memory.current", "grp/memory.usage_in_bytes"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", k->tmp, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/grp", k->tmp);
    rmdir(path);
    rmdir(k->tmp);
    k->tmp[0] = '\0';
}

static int kids_teardown(void **state)
{
    struct kids *k = *state;
    for (size_t i = 0; i < k->n; i++) {
        if (k->pid[i] > 0) {
            kill(k->pid[i], SIGKILL);
            waitpid(k->pid[i], NULL, 0);
        }
    }
    for (size_t i = 0; i < k->nproc; i++)
        proc_release(&k->proc[i]);
    if (k->tmp_fd >= 0)
        close(k->tmp_fd);
    rm_fake_tree(k);
    free(k);
    return 0;
}

/* The domain of the real tests: rows in the given order, each eligible with falling badness. */
struct domain {
    struct victim v[MAXROWS];
    struct victim_list vl;
    struct policy_verdict verd[MAXROWS];
    struct guard_candidate c[MAXROWS];
    size_t order[MAXROWS];
    size_t ncand;
};

static void domain_add(struct domain *d, const struct proc *p, bool eligible,
                       enum guard_weight w, enum kill_unit u)
{
    d->vl.v = d->v;
    d->verd[d->vl.n] = verdict(w, SIZE_MAX, u);
    add_row(&d->vl, p, true, eligible, 1000 - (int64_t)d->vl.n);
}

static void domain_order(struct domain *d)
{
    d->ncand = guard_order(&d->vl, d->verd, getpid(), d->c, d->order);
}

/* guard_kill_first over the domain in its order, this test as the agent; it must return 0 */
static void kill_first(struct domain *d, const struct cgroup_hier *h, bool dry_run,
                       struct guard_kill *gk)
{
    char scratch[4096];
    assert_int_equal(guard_kill_first(&sr, h, d->c, d->order, d->vl.n, getpid(), dry_run,
                                      KILL_TIMEOUT_MS, scratch, sizeof(scratch), gk),
                     0);
}

/* (a) gone before the pin: a reaped child and a zombie are skipped and counted; the next is
 * taken. */
static void pin_skips_exited(void **state)
{
    struct kids *k = *state;
    pid_t gone = spawn(k), zombie = spawn_zombie(k), live = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    struct proc *pg = snap(k, gone);
    struct proc *pz = snap(k, zombie);
    struct proc *pl = snap(k, live);
    /* a zombie has no mm: the snapshot would call it ineligible; here it exits after the
     * snapshot, so it was ranked as a live process */
    pz->has_mm = true;
    domain_add(&d, pg, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_add(&d, pz, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_add(&d, pl, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_order(&d);
    assert_int_equal(d.ncand, 3);
    reap(k, gone);

    struct kill_target t = {.pidfd = -1};
    struct guard_kill gk;
    assert_int_equal(guard_pin_first(&sr, d.c, d.order, d.vl.n, getpid(), &t, &gk), 0);
    assert_int_equal(gk.chosen, 2);
    assert_int_equal(d.c[gk.chosen].proc->pid, live);
    assert_int_equal(gk.vanished, 2);
    assert_true(t.pidfd >= 0);
    assert_int_equal(t.pid, live);
    killer_close(&t);

    /* nothing left to pin: -ESRCH, chosen SIZE_MAX, every one counted */
    reap(k, live);
    assert_int_equal(guard_pin_first(&sr, d.c, d.order, d.vl.n, getpid(), &t, &gk), -ESRCH);
    assert_int_equal(gk.chosen, SIZE_MAX);
    assert_int_equal(gk.vanished, 3);
    /* and guard_kill_first says so without an error */
    kill_first(&d, NULL, false, &gk);
    assert_int_equal(gk.chosen, SIZE_MAX);
    assert_int_equal(gk.signalled, 0);
}

static void *pause_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* The state letter of /proc/PID/stat, or 0. */
static char state_of(pid_t pid)
{
    struct buf scratch = BUF_INIT(1 << 16);
    struct proc p;
    char st = 0;
    if (procs_read_one(&sr, pid, PROC_READ_STAT, &scratch, &p) == 0) {
        st = p.state;
        proc_release(&p);
    }
    buf_release(&scratch);
    return st;
}

/* A process whose main thread alone has exited shows as a zombie, but it is alive (its other
 * threads hold the memory) and the kernel's OOM killer can take it: so can the guard. */
static void zombie_leader_with_live_threads_is_killable(void **state)
{
    struct kids *k = *state;
    assert_true(k->n < MAXKIDS);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        pthread_t th;
        if (pthread_create(&th, NULL, pause_forever, NULL) != 0)
            _exit(1);
        pthread_exit(NULL);
    }
    k->pid[k->n++] = p;
    struct proc *pp = snap(k, p);
    for (int i = 0; i < 200 && state_of(p) != 'Z'; i++)
        usleep(5000);
    assert_int_equal(state_of(p), 'Z');
    static struct domain d;
    memset(&d, 0, sizeof(d));
    domain_add(&d, pp, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_order(&d);
    struct guard_kill gk;
    kill_first(&d, NULL, false, &gk);
    assert_int_equal(gk.chosen, 0);
    assert_int_equal(gk.vanished, 0);
    assert_int_equal(gk.signalled, 1);
    assert_true(gk.exited);
    assert_true(died_of_sigkill(k, p));
}

/* (b) the PID now belongs to another process (start time differs): never signalled. */
static void pid_reuse_is_never_signalled(void **state)
{
    struct kids *k = *state;
    pid_t reused = spawn(k), next = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    struct proc *pr = snap(k, reused);
    struct proc *pn = snap(k, next);
    /* what was ranked was an earlier process with this PID */
    pr->start_time -= 1;
    domain_add(&d, pr, true, WEIGHT_PREFER, KILL_UNIT_PROCESS);
    domain_add(&d, pn, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_order(&d);
    assert_int_equal(d.order[0], 0);
    struct guard_kill gk;
    kill_first(&d, NULL, false, &gk);
    assert_int_equal(gk.vanished, 1);
    assert_int_equal(gk.chosen, 1);
    assert_int_equal(gk.signalled, 1);
    assert_true(gk.exited);
    assert_true(died_of_sigkill(k, next));
    assert_true(alive(reused));
}

/* (c) dry run: chosen and pinned, nothing signalled. */
static void dry_run_signals_nothing(void **state)
{
    struct kids *k = *state;
    pid_t a = spawn(k), b = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    domain_add(&d, snap(k, a), true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_add(&d, snap(k, b), true, WEIGHT_NORMAL, KILL_UNIT_CGROUP);
    domain_order(&d);
    struct guard_kill gk;
    kill_first(&d, NULL, true, &gk);
    assert_int_equal(gk.chosen, 0);
    assert_int_equal(gk.unit, KILL_UNIT_PROCESS);
    assert_int_equal(gk.vanished, 0);
    assert_int_equal(gk.signalled, 0);
    assert_false(gk.exited);
    assert_int_equal(gk.signal_us, 0);
    assert_int_equal(gk.error, 0);
    usleep(20000);
    assert_true(alive(a));
    assert_true(alive(b));
}

/* (d) the kill: the biggest process is protected, the next one dies of SIGKILL, confirmed. */
static void kills_the_first_unprotected(void **state)
{
    struct kids *k = *state;
    pid_t big = spawn(k), victim = spawn(k), other = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    domain_add(&d, snap(k, big), true, WEIGHT_PROTECT, KILL_UNIT_PROCESS);
    domain_add(&d, snap(k, victim), true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_add(&d, snap(k, other), true, WEIGHT_AVOID, KILL_UNIT_PROCESS);
    domain_order(&d);
    assert_int_equal(d.ncand, 2);
    struct guard_kill gk;
    kill_first(&d, NULL, false, &gk);
    assert_int_equal(gk.chosen, 1);
    assert_int_equal(d.c[gk.chosen].proc->pid, victim);
    assert_int_equal(gk.vanished, 0);
    assert_int_equal(gk.unit, KILL_UNIT_PROCESS);
    assert_int_equal(gk.signalled, 1);
    assert_false(gk.cgroup_kill_file);
    assert_int_equal(gk.error, 0);
    assert_true(gk.exited);
    assert_true(gk.cg_usage_before == OPT_ABSENT && gk.cg_usage_after == OPT_ABSENT);
    assert_true(gk.signal_us > 0);
    assert_true(gk.exit_us >= gk.signal_us);
    /* 0: reaped now; -ESRCH/-EINVAL: the exit got there first; -ENOSYS: before 5.15 */
    assert_true(gk.mrelease == 0 || gk.mrelease == -ESRCH || gk.mrelease == -EINVAL ||
                gk.mrelease == -ENOSYS);
    assert_true(died_of_sigkill(k, victim));
    assert_true(alive(big));
    assert_true(alive(other));
}

/* What a kill gave back: the victim's cgroup's drop, else what the victim held; never the
 * machine's MemAvailable (it said 232K for a 27 MiB kill). */
static void freed_is_the_victims(void **state)
{
    (void)state;
    struct proc v = fake(4242, "victim", 0);
    v.rss_anon = 27u << 20;
    v.rss_file = 1u << 20;
    v.rss_shmem = 0;
    v.swap = 2u << 20;
    struct guard_kill k = {.cg_usage_before = 100u << 20, .cg_usage_after = 73u << 20};
    uint64_t freed;
    const char *from;
    guard_freed(&k, &v, &freed, &from);
    assert_string_equal(from, "cgroup");
    assert_int_equal(freed, 27u << 20);
    /* others charged more meanwhile: the cgroup says nothing about this kill */
    k.cg_usage_after = 101u << 20;
    guard_freed(&k, &v, &freed, &from);
    assert_string_equal(from, "process");
    assert_int_equal(freed, proc_rss(&v) + (2u << 20));
    /* the root, or no memory controller: what it held */
    k.cg_usage_before = k.cg_usage_after = OPT_ABSENT;
    guard_freed(&k, &v, &freed, &from);
    assert_string_equal(from, "process");
    assert_int_equal(freed, proc_rss(&v) + (2u << 20));
}

/* (e) itself and init are never pinned, even listed first as candidates. */
static void never_self_or_init(void **state)
{
    struct kids *k = *state;
    pid_t child = spawn(k);
    struct proc *self = snap(k, getpid());
    struct proc init = fake(1, "init", 0);
    struct buf scratch = BUF_INIT(1 << 16);
    struct proc real_init;
    bool have_init = procs_read_one(&sr, 1, PROC_READ_STAT, &scratch, &real_init) == 0;
    buf_release(&scratch);
    if (have_init) {
        init.start_time = real_init.start_time; /* as ranked: the pin would succeed */
        proc_release(&real_init);
    }
    struct proc *pc = snap(k, child);
    /* rows as a careless caller could hand them over: nothing marked excluded */
    struct guard_candidate c[3] = {
        {.proc = self, .eligible = true, .badness = 3000, .kernel_rank = 1, .order = 1,
         .verdict = verdict(WEIGHT_PREFER, SIZE_MAX, KILL_UNIT_PROCESS)},
        {.proc = &init, .eligible = true, .badness = 2000, .kernel_rank = 2, .order = 2,
         .verdict = verdict(WEIGHT_PREFER, SIZE_MAX, KILL_UNIT_PROCESS)},
        {.proc = pc, .eligible = true, .badness = 1000, .kernel_rank = 3, .order = 3,
         .verdict = verdict(WEIGHT_NORMAL, SIZE_MAX, KILL_UNIT_PROCESS)},
    };
    size_t order[3] = {0, 1, 2};
    struct kill_target t = {.pidfd = -1};
    struct guard_kill gk;
    assert_int_equal(guard_pin_first(&sr, c, order, 3, getpid(), &t, &gk), 0);
    assert_int_equal(gk.chosen, 2);
    assert_int_equal(t.pid, child);
    assert_int_equal(gk.vanished, 0); /* skipped, not "gone" */
    killer_close(&t);
    /* only those two: nothing to pin */
    assert_int_equal(guard_pin_first(&sr, c, order, 2, getpid(), &t, &gk), -ESRCH);
    assert_int_equal(gk.chosen, SIZE_MAX);
    /* and the kill goes to the child */
    char buf[4096];
    assert_int_equal(guard_kill_first(&sr, NULL, c, order, 3, getpid(), false, KILL_TIMEOUT_MS,
                                      buf, sizeof(buf), &gk),
                     0);
    assert_int_equal(gk.chosen, 2);
    assert_true(died_of_sigkill(k, child));
}

/* ---- kill-unit = cgroup, on a fake cgroup directory ----------------------------------------- */

#define FAKE_USAGE 28311552 /* 27 MiB */

/* A directory that stands for the memory hierarchy, with one cgroup "grp" listing `pids`. */
static void fake_cgroup(struct kids *k, struct cgroup_hier *h, int version, const pid_t *pids,
                        size_t n)
{
    snprintf(k->tmp, sizeof(k->tmp), "/tmp/oomwarden-test-guard-XXXXXX");
    assert_non_null(mkdtemp(k->tmp));
    char path[128];
    snprintf(path, sizeof(path), "%s/grp", k->tmp);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/grp/cgroup.procs", k->tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%d\n", (int)pids[i]);
    fclose(f);
    snprintf(path, sizeof(path), "%s/grp/cgroup.kill", k->tmp);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    /* the cgroup's usage, which the kill reads before the signal and after the exit */
    snprintf(path, sizeof(path), "%s/grp/%s", k->tmp,
             version == 2 ? "memory.current" : "memory.usage_in_bytes");
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%d\n", FAKE_USAGE);
    fclose(f);
    k->tmp_fd = open(k->tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(k->tmp_fd >= 0);
    *h = (struct cgroup_hier){.memory_version = version, .memory = {.fd = k->tmp_fd},
                              .unified = {.fd = -1}, .page_size = 4096, .sr = &sr};
}

static size_t cgroup_kill_written(const struct kids *k)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/grp/cgroup.kill", k->tmp);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (size_t)st.st_size;
}

static void set_cgroup(struct proc *p, const char *cg)
{
    free(p->cgroup);
    p->cgroup = strdup(cg);
    assert_non_null(p->cgroup);
}

/*
 * The victim's rule says kill-unit = cgroup. In its cgroup are a protected process, one at
 * oom_score_adj -1000 (as the snapshot read it) and one that joined after the snapshot. The
 * protected and -1000 ones live; cgroup.kill, which would take them too, is not used.
 */
static void cgroup_unit_spares_protected(void **state, int version)
{
    struct kids *k = *state;
    pid_t victim = spawn(k), prot = spawn(k), m1000 = spawn(k), joined = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    struct proc *pv = snap(k, victim), *pp = snap(k, prot), *pm = snap(k, m1000);
    set_cgroup(pv, "/grp");
    set_cgroup(pp, "/grp");
    set_cgroup(pm, "/grp");
    pm->oom_score_adj = -1000;
    domain_add(&d, pv, true, WEIGHT_NORMAL, KILL_UNIT_CGROUP);
    domain_add(&d, pp, true, WEIGHT_PROTECT, KILL_UNIT_CGROUP);
    domain_add(&d, pm, false, WEIGHT_NORMAL, KILL_UNIT_CGROUP);
    domain_order(&d);
    assert_int_equal(d.ncand, 1);
    const pid_t members[] = {victim, prot, m1000, joined};
    struct cgroup_hier h;
    fake_cgroup(k, &h, version, members, 4);
    struct guard_kill gk;
    kill_first(&d, &h, false, &gk);
    assert_int_equal(gk.chosen, 0);
    assert_int_equal(gk.unit, KILL_UNIT_CGROUP);
    assert_false(gk.cgroup_kill_file);
    assert_int_equal(cgroup_kill_written(k), 0);
    /* the victim through its pidfd, the newcomer through its own: each once */
    assert_int_equal(gk.signalled, 2);
    /* the victim's cgroup's usage, read just before the signal and after the exit */
    assert_int_equal(gk.cg_usage_before, FAKE_USAGE);
    assert_int_equal(gk.cg_usage_after, FAKE_USAGE);
    assert_true(died_of_sigkill(k, victim));
    assert_true(died_of_sigkill(k, joined));
    assert_true(alive(prot));
    assert_true(alive(m1000));
}

static void cgroup_unit_v2_spares_protected(void **state)
{
    cgroup_unit_spares_protected(state, 2);
}

static void cgroup_unit_v1_spares_protected(void **state)
{
    cgroup_unit_spares_protected(state, 1);
}

/* Nothing to spare on v2: cgroup.kill takes the whole unit in one write. */
static void cgroup_unit_v2_uses_cgroup_kill(void **state)
{
    struct kids *k = *state;
    pid_t victim = spawn(k), mate = spawn(k), outside = spawn(k);
    static struct domain d;
    memset(&d, 0, sizeof(d));
    struct proc *pv = snap(k, victim), *pm = snap(k, mate), *po = snap(k, outside);
    set_cgroup(pv, "/grp");
    set_cgroup(pm, "/grp");
    /* protected, but in another cgroup ("/grpx" is not under "/grp") */
    set_cgroup(po, "/grpx");
    domain_add(&d, pv, true, WEIGHT_NORMAL, KILL_UNIT_CGROUP);
    domain_add(&d, pm, true, WEIGHT_NORMAL, KILL_UNIT_PROCESS);
    domain_add(&d, po, true, WEIGHT_PROTECT, KILL_UNIT_PROCESS);
    domain_order(&d);
    const pid_t members[] = {victim, mate};
    struct cgroup_hier h;
    fake_cgroup(k, &h, 2, members, 2);
    struct guard_kill gk;
    kill_first(&d, &h, false, &gk);
    assert_int_equal(gk.chosen, 0);
    assert_true(gk.cgroup_kill_file);
    assert_int_equal(cgroup_kill_written(k), 1); /* "1" */
    assert_int_equal(gk.signalled, 1);
    assert_true(died_of_sigkill(k, victim));
    /* the fake cgroup.kill kills nothing: the mate is the kernel's job here */
    assert_true(alive(mate));
    assert_true(alive(outside));
}

static int group_setup(void **state)
{
    (void)state;
    return sysroot_open(&sr, "/", NULL);
}

/* ---- the headroom trigger's look at a cgroup ------------------------------------------------ */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *const look_files[] = {"memory.usage_in_bytes", "memory.limit_in_bytes",
                                         "memory.failcnt", "memory.stat", "memory.current",
                                         "memory.max", "memory.events"};

static void look_tree_remove(const char *dir)
{
    char path[256];
    for (size_t i = 0; i < sizeof(look_files) / sizeof(look_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, look_files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/*
 * The limit the guard watches is the model's reading of the limit file: on v1 a cgroup nobody
 * limited holds PAGE_COUNTER_MAX pages in bytes (9223372036854771712 with 4 KiB pages), which
 * is no limit; on v2 "max". A number read as it stands counted it as a 8 EiB limit and watched
 * the cgroup for headroom. The working set is usage minus the subtree's inactive file cache
 * once usage is within twice the headroom.
 */
static void look_reads_limits_as_the_model(void **state)
{
    (void)state;
    char dir[] = "/tmp/oomwarden-test-look-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct cgroup_hier h = {.memory_version = 1, .memory = {.fd = fd}, .unified = {.fd = -1},
                            .page_size = 4096, .sr = &sr};
    struct guard_amount room = {.percent = 10};
    struct guard_look l;
    write_file(dir, "memory.usage_in_bytes", "62914560\n");
    write_file(dir, "memory.limit_in_bytes", "9223372036854771712\n");
    write_file(dir, "memory.failcnt", "3\n");
    write_file(dir, "memory.stat", "inactive_file 4096\ntotal_inactive_file 8388608\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), -ENODATA);
    write_file(dir, "memory.limit_in_bytes", "67108864\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), 0);
    assert_int_equal(l.usage, 62914560);
    assert_int_equal(l.limit, 67108864);
    assert_int_equal(l.room, 6710886);
    assert_int_equal(l.wset, 62914560 - 8388608);
    assert_int_equal(l.failcnt, 3);
    assert_int_equal(l.stall_us, OPT_ABSENT);
    /* far from the limit: memory.stat is not read, the working set is usage */
    write_file(dir, "memory.usage_in_bytes", "1048576\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), 0);
    assert_int_equal(l.wset, 1048576);
    h.memory_version = 2;
    write_file(dir, "memory.current", "1048576\n");
    write_file(dir, "memory.max", "max\n");
    write_file(dir, "memory.events", "low 0\nhigh 0\nmax 7\noom 0\noom_kill 0\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), -ENODATA);
    write_file(dir, "memory.max", "2097152\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), 0);
    assert_int_equal(l.limit, 2097152);
    assert_int_equal(l.failcnt, 7);
    write_file(dir, "memory.max", "lots\n");
    assert_int_equal(guard_look_at(&h, fd, -1, &room, &l), -EBADMSG);
    close(fd);
    look_tree_remove(dir);
}

static int group_teardown(void **state)
{
    (void)state;
    sysroot_close(&sr);
    return 0;
}

#define KIDS_TEST(f) cmocka_unit_test_setup_teardown(f, kids_setup, kids_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(amount_parse_and_of),
        cmocka_unit_test(order_tiers_and_exclusions),
        cmocka_unit_test(order_excludes_even_when_ranked),
        cmocka_unit_test(table_rows_in_guard_order),
        cmocka_unit_test(freed_is_the_victims),
        cmocka_unit_test(look_reads_limits_as_the_model),
        KIDS_TEST(pin_skips_exited),
        KIDS_TEST(zombie_leader_with_live_threads_is_killable),
        KIDS_TEST(pid_reuse_is_never_signalled),
        KIDS_TEST(dry_run_signals_nothing),
        KIDS_TEST(kills_the_first_unprotected),
        KIDS_TEST(never_self_or_init),
        KIDS_TEST(cgroup_unit_v2_spares_protected),
        KIDS_TEST(cgroup_unit_v1_spares_protected),
        KIDS_TEST(cgroup_unit_v2_uses_cgroup_kill),
    };
    return cmocka_run_group_tests_name("guard", tests, group_setup, group_teardown);
}
