/*
 * Policy rules: parsing (with the error each mistake gets), matching processes and cgroups, the
 * "first rule that sets an action wins" order, and the plans over a snapshot.
 */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/json.h"
#include "base/opt.h"
#include "engine/agent.h"
#include "engine/act/policy.h"
#include "model/cgroup/cgroup.h"
#include "model/workload/identity.h"
#include "model/proc/procs.h"
#include "model/sysroot.h"
#include "model/workload/podnames.h"

/* Loads an agent config from text, user names from the cg-v1 fixture's etc/passwd; returns 0
 * or -EINVAL with the message in *err (static). */
static int load(const char *text, struct agent_config *cfg, const char **err)
{
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURES_DIR "/cg-v1", NULL), 0);
    static char msg[4096];
    char path[] = "/tmp/oomwarden-test-policy-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct buf b = BUF_INIT(4096);
    int r = agent_config_load(&sr, path, NULL, 0, cfg, &b);
    sysroot_close(&sr);
    /* the message names the file: replace it with a fixed name */
    const char *m = buf_cstr(&b);
    size_t plen = strlen(path);
    if (strncmp(m, path, plen) == 0)
        snprintf(msg, sizeof(msg), "F%s", m + plen);
    else
        snprintf(msg, sizeof(msg), "%s", m);
    *err = msg;
    buf_release(&b);
    unlink(path);
    return r;
}

static void rules_parse(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule daemons]\n"
                          "cgroup = /system.slice/*, /init.scope\n"
                          "guard = protect\n"
                          "[rule pods]\n"
                          "pod = *\n"
                          "oom-score-adj = 900\n"
                          "[rule ctr]\n"
                          "container = *\n"
                          "oom-group = 0\n"
                          "[rule db]\n"
                          "comm = ^postgres$\n"
                          "cmdline = ^postgres:\n"
                          "uid = 0, postgres\n"
                          "children = yes\n"
                          "kill-unit = cgroup\n"
                          "guard = avoid\n"
                          "[rule high]\n"
                          "unit = postgresql*.service\n"
                          "memory-high = 90%\n"
                          "[rule high2]\n"
                          "qos = burstable, besteffort\n"
                          "memory-high = 512M\n",
                          &cfg, &err),
                     0);
    const struct policy *p = &cfg.policy;
    assert_int_equal(p->n, 6);
    assert_string_equal(p->v[0].name, "daemons");
    assert_int_equal(p->v[0].cgroups.n, 2);
    assert_int_equal(p->v[0].weight, WEIGHT_PROTECT);
    assert_int_equal(p->v[1].adj, 900);
    assert_int_equal(p->v[2].oom_group, 0);
    assert_true(p->v[3].has_comm && p->v[3].has_cmdline && p->v[3].children);
    assert_int_equal(p->v[3].uids.n, 2);
    assert_int_equal(p->v[3].uid_values[0], 0);
    assert_int_equal(p->v[3].uid_values[1], 105); /* postgres in the fixture's etc/passwd */
    assert_int_equal(p->v[3].kill_unit, KILL_UNIT_CGROUP);
    assert_int_equal(p->v[4].memory_high_percent, 90);
    assert_int_equal(p->v[5].memory_high, 512u << 20);
    assert_int_equal(p->v[5].qos_mask, (1u << QOS_BURSTABLE) | (1u << QOS_BESTEFFORT));
    assert_true(policy_proc_fields(p) & PROC_READ_CMDLINE);
    /* the reconcile reads what the rules that set oom_score_adj match on (pods: the cgroup), not
     * what the guard's rules do (db's command line and uid) */
    assert_int_equal(policy_adj_proc_fields(p), PROC_READ_STAT | PROC_READ_CGROUP);
    /* --check-config writes the rules back, and that text loads again to the same rules */
    struct buf dump = BUF_INIT(1 << 20);
    assert_int_equal(agent_config_dump(&cfg, &dump), 0);
    struct agent_config again;
    assert_int_equal(load(buf_cstr(&dump), &again, &err), 0);
    assert_int_equal(again.policy.n, 6);
    struct buf dump2 = BUF_INIT(1 << 20);
    assert_int_equal(agent_config_dump(&again, &dump2), 0);
    assert_string_equal(buf_cstr(&dump), buf_cstr(&dump2));
    buf_release(&dump);
    buf_release(&dump2);
    agent_config_release(&again);
    agent_config_release(&cfg);
}

/* Each mistake: the file, the line and the key (or the rule) in the message. */
static void rule_errors_name_file_line_key(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[rule a]\ncomm = (\n", "F:2: comm: '(' is not a POSIX extended regex"},
        /* regcomp() would build this into gigabytes (found by fuzz-config) */
        {"[rule a]\ncomm = ^x+++++++++++++++++++++\noom-score-adj = 1\n",
         "F:2: comm: '^x+++++++++++++++++++++' repeats a repetition"},
        {"[rule a]\ncmdline = ^java .*?-jar\noom-score-adj = 1\n",
         "F:2: cmdline: '^java .*?-jar' repeats a repetition ('a++', '.*?', 'a{2}*'): POSIX "
         "leaves that undefined (there is no lazy '*?')"},
        {"[rule a]\ncomm = ((((x{9}){9}){9}){9}){9}\noom-score-adj = 1\n",
         "F:2: comm: '((((x{9}){9}){9}){9}){9}' would compile to about 73810 states (the "
         "limit is 10000)"},
        {"[rule a]\ncgroup = /x\noom-score-adj = 1001\n",
         "F:3: oom-score-adj: '1001' is not a whole number from -1000 to 1000"},
        {"[rule a]\npod = *\noom-group = 2\n", "F:3: oom-group: '2' is not 0 or 1"},
        {"[rule a]\npod = *\nmemory-high = 120%\n",
         "F:3: memory-high: '120%' is not a percentage from 1% to 100% of memory.max"},
        {"[rule a]\nqos = gold\n",
         "F:2: qos: 'gold' is not a QoS class (guaranteed, burstable, besteffort)"},
        {"[rule a]\npod = *\nguard = maybe\n",
         "F:3: guard: 'maybe' is not protect, avoid, prefer or normal"},
        {"[rule a]\ncgroup = system.slice\n", "F:2: cgroup: 'system.slice': not a cgroup path"},
        {"[rule a]\npod = abc[\nguard = avoid\n", "F:2: pod: 'abc[': an unclosed '['"},
        /* "*, ;x" as --check-config would write it back is "*" and a comment (fuzz-config) */
        {"[rule a]\ncontainer = *,;x\nguard = avoid\n",
         "F:2: container: ';x': an item cannot start with ';'"},
        {"[rule a]\npod = *\nfrobnicate = 1\n", "F:3: frobnicate: unknown key in [rule a]"},
        {"[rule a]\npod = *\npod = x\n", "F:3: pod: given twice in [rule a] (lines 2 and 3)"},
        {"[rule a]\npod = *\nguard = avoid\n[rule b]\npod = x\nguard = avoid\n[rule a]\nunit = x\n",
         "F:7: [rule a] given twice (lines 1 and 7)"},
        /* the line: a cmdline regex past inih's 200 bytes, whose cut tail "= b" once
         * made a syntax error and a tail without '=' a silently shorter regex; now it is whole
         * and still valid, or the error names what is wrong with it */
        {"[rule a]\ncmdline = ^/usr/bin/java .*-Dapp=(orders|billing|shipping|inventory|"
         "catalog|search|recommendations|notifications|payments|refunds|accounts|sessions|"
         "gateway|reporting|analytics|scheduler|exports|imports)-service( |$).*-Xmx[0-9]+[gG]"
         " (\n",
         "F:2: cmdline: '^/usr/bin/java"},
        {"[rules]\npod = *\n", "F:2: unknown section [rules]"},
        {"[rule]\npod = *\n", "F:2: [rule]: a rule needs a name"},
        {"[guard]\nenabled = yes\n\n[rule lonely]\nguard = protect\n",
         "F:4: [rule lonely]: no matcher"},
        {"[rule nothing]\npod = *\n", "F:1: [rule nothing]: no action"},
        {"[rule mixed]\ncomm = ^java$\noom-group = 0\n",
         "F:1: [rule mixed]: oom-group and memory-high act on cgroups"},
        /* a user name the root's passwd does not list, a uid that cannot be: errors of their
         * line, not rules that silently match no one */
        {"[rule a]\npod = *\n\nuid = 0, nosuchuser\nguard = avoid\n",
         "F:4: uid: no user 'nosuchuser' in " FIXTURES_DIR "/cg-v1/etc/passwd"},
        {"[rule a]\nuid = 4294967296\nguard = avoid\n",
         "F:2: uid: 4294967296 is not a uid (0..4294967294)"},
        {"[rule a]\nuid = 4294967295\nguard = avoid\n",
         "F:2: uid: 4294967295 is not a uid (0..4294967294)"},
        {"[rule a]\nuid = 99999999999999999999999\nguard = avoid\n",
         "F:2: uid: 99999999999999999999999 is not a uid"},
        /* values that parse but cannot work: FILE:LINE of the key too */
        {"[guard]\nmemory-floor = lots\n", "F:2: memory-floor: 'lots' is not a size"},
        {"[guard]\npsi = some 2s 1s\n", "F:2: psi: 'some 2s 1s' is not a PSI trigger"},
        {"[agent]\nkmsg = no\nlisten = 127.0.0.1\n", "F:3: listen: '127.0.0.1' is not ADDRESS:PORT"},
        {"[agent]\nevent-format = yaml\n", "F:2: event-format: 'yaml' is not text or json"},
        {"[guard]\nmin-interval = 2s\nmax-interval = 1s\n",
         "F:2: min-interval: 2000ms is above max-interval (1000ms)"},
        {"[guard]\nenabled = yes\nmax-interval = 5ms\n",
         "F:3: max-interval: 5ms is out of range (100..60000)"},
        {"[guard]\nenabled = yes\n\nmax-interval = 100ms\nmin-interval = 1s\n",
         "F:5: min-interval: 1000ms is above max-interval (100ms)"},
        {"[guard]\nmax-interval = 100ms\nmin-interval = 101ms\n",
         "F:3: min-interval: 101ms is above max-interval (100ms)"},
        {"[guard]\npsi =\npsi-kill-after = 5s\n", "F:3: psi-kill-after: needs a psi trigger"},
        {"[guard]\nenabled = yes\nmemory-floor = 100%\ncooldown = 0\n",
         "F:3: memory-floor: 100% can never be met (MemAvailable is always below MemTotal): the "
         "guard would kill every eligible process, one after another (cooldown = 0)"},
        /* as a size: not below MemTotal of the root (cg-v1: 4 GiB) */
        {"[guard]\nenabled = yes\nmemory-floor = 4G\n",
         "F:3: memory-floor: 4G is not below this machine's MemTotal (4096 MiB)"},
        {"[guard]\nmemory-floor = 100%\n",
         "F:2: memory-floor: 100% can never be met (MemAvailable is always below MemTotal): the "
         "guard would kill every eligible process, one per cooldown"},
        {"[guard]\ncgroups = [\n", "F:2: cgroups: '[': not a cgroup path glob"},
        {"[guard]\npsi-cgroups = /kubepods/[abc\n", "F:2: psi-cgroups: '/kubepods/[abc': an unclosed '['"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct agent_config cfg;
        const char *err;
        int r = load(cases[i].text, &cfg, &err);
        if (r == 0)
            agent_config_release(&cfg);
        if (r != -EINVAL || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got %d \"%s\", want \"%s...\"", i, r, err, cases[i].want);
    }
}

/* A regex longer than inih's old 200-byte line comes back whole, with what follows it. */
static void long_lines_whole(void **state)
{
    (void)state;
    char re[1200];
    size_t n = 0;
    n += (size_t)snprintf(re + n, sizeof(re) - n, "^/usr/bin/java .*-Dapp=(");
    for (int i = 0; n < 1000; i++)
        n += (size_t)snprintf(re + n, sizeof(re) - n, "%ssvc%d", i ? "|" : "", i);
    snprintf(re + n, sizeof(re) - n, ")-service( |$)");
    char text[1400];
    snprintf(text, sizeof(text), "[rule long]\ncmdline = %s\noom-score-adj = 900\n", re);
    struct agent_config cfg;
    const char *err;
    if (load(text, &cfg, &err) != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.policy.n, 1);
    assert_string_equal(cfg.policy.v[0].cmdline_src, re);
    assert_int_equal(cfg.policy.v[0].adj, 900);
    assert_int_equal(cfg.policy.v[0].line, 1);
    agent_config_release(&cfg);
}

static const char *K8S_POD = "/kubepods.slice/kubepods-burstable.slice/"
                             "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice";
static const char *K8S_CTR =
    "/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/"
    "cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope";

static void cgroup_matchers(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule pods]\npod = *\nguard = prefer\n"
                          "[rule ctr]\ncontainer = 9192*\noom-group = 0\n"
                          "[rule burst]\nqos = burstable\nguard = avoid\n"
                          "[rule guar]\nqos = guaranteed\nguard = avoid\n"
                          "[rule unit]\nunit = ssh.service\nguard = protect\n"
                          "[rule glob]\ncgroup = /system.slice/*\nguard = protect\n",
                          &cfg, &err),
                     0);
    const struct policy *p = &cfg.policy;
    assert_true(policy_rule_matches_cgroup(&p->v[0], NULL, K8S_POD));
    assert_true(policy_rule_matches_cgroup(&p->v[0], NULL, K8S_CTR));
    assert_false(policy_rule_matches_cgroup(&p->v[0], NULL, "/system.slice/ssh.service"));
    /* a container rule: the container cgroup, not the pod's */
    assert_false(policy_rule_matches_cgroup(&p->v[1], NULL, K8S_POD));
    assert_true(policy_rule_matches_cgroup(&p->v[1], NULL, K8S_CTR));
    assert_true(policy_rule_matches_cgroup(&p->v[2], NULL, K8S_CTR));
    assert_false(policy_rule_matches_cgroup(&p->v[3], NULL, K8S_CTR));
    assert_true(policy_rule_matches_cgroup(&p->v[4], NULL, "/system.slice/ssh.service"));
    assert_false(policy_rule_matches_cgroup(&p->v[4], NULL, "/system.slice/sshd.service"));
    /* '*' crosses '/', like the exporter's include/exclude */
    assert_true(policy_rule_matches_cgroup(&p->v[5], NULL, "/system.slice/a.service/sub"));
    assert_false(policy_rule_matches_cgroup(&p->v[5], NULL, "/system.slice"));
    assert_false(policy_rule_matches_cgroup(&p->v[5], NULL, NULL));
    agent_config_release(&cfg);
}

static struct proc mkproc(pid_t pid, pid_t ppid, const char *comm, const char *cgroup, int adj,
                          int64_t uid, const char *argv)
{
    struct proc p = {.pid = pid, .ppid = ppid, .has_oom = true, .has_adj = true, .has_mm = true,
                     .oom_score_adj = adj, .uid = uid, .start_time = 100 + (uint64_t)pid,
                     .state = 'S'};
    snprintf(p.comm, sizeof(p.comm), "%s", comm);
    p.cgroup = strdup(cgroup);
    if (argv) {
        p.cmdline_len = strlen(argv);
        p.cmdline = malloc(p.cmdline_len);
        for (size_t i = 0; i < p.cmdline_len; i++)
            p.cmdline[i] = argv[i] == ' ' ? '\0' : argv[i];
    }
    return p;
}

/* The first rule that sets an action wins; children inherit; process matchers are ANDed. */
static void verdicts_and_plan(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule sshd]\ncomm = ^sshd$\nguard = protect\noom-score-adj = -500\n"
                          "[rule system]\ncgroup = /system.slice/*\nguard = protect\n"
                          "[rule pg]\ncomm = ^postgres$\ncmdline = ^/usr/lib/postgresql\n"
                          "oom-score-adj = -900\nchildren = yes\n"
                          "[rule root-batch]\nuid = 0\ncmdline = batch\nguard = prefer\n"
                          "kill-unit = cgroup\n"
                          "[rule pods]\npod = *\noom-score-adj = 900\nguard = prefer\n",
                          &cfg, &err),
                     0);
    /* pg's command line and pods' cgroup; root-batch's uid only ranks (the guard's status read) */
    assert_int_equal(policy_adj_proc_fields(&cfg.policy),
                     PROC_READ_STAT | PROC_READ_CMDLINE | PROC_READ_CGROUP);
    struct proc_table t = {0};
    t.v = calloc(8, sizeof(*t.v));
    t.v[t.n++] = mkproc(10, 1, "sshd", "/system.slice/ssh.service", 0, 0, "/usr/sbin/sshd -D");
    t.v[t.n++] = mkproc(20, 1, "rngd", "/system.slice/rngd.service", 0, 0, "/usr/sbin/rngd");
    t.v[t.n++] = mkproc(30, 1, "postgres", "/system.slice/postgresql.service", 0, 105,
                        "/usr/lib/postgresql/16/bin/postgres -D /var/lib/pg");
    t.v[t.n++] = mkproc(31, 30, "postgres", "/system.slice/postgresql.service", 0, 105,
                        "postgres: checkpointer");
    t.v[t.n++] = mkproc(40, 1, "python3", "/user.slice", 0, 0, "python3 batch.py");
    t.v[t.n++] = mkproc(41, 1, "python3", "/user.slice", 0, 1000, "python3 batch.py");
    t.v[t.n++] = mkproc(50, 1, "java", K8S_CTR, -997, 0, "java -jar app.jar");
    t.v[t.n++] = mkproc(51, 50, "java", K8S_CTR, 900, 0, "java -jar worker.jar");
    struct policy_eval e;
    assert_int_equal(policy_eval_init(&e, &cfg.policy, NULL, &t), 0);
    struct policy_verdict v;
    policy_eval_proc(&e, 0, &v);
    assert_int_equal(v.adj, -500);
    assert_int_equal(v.weight, WEIGHT_PROTECT);
    assert_int_equal(v.weight_rule, 0); /* sshd's own rule came first */
    policy_eval_proc(&e, 1, &v);
    assert_int_equal(v.adj, POLICY_ADJ_UNSET);
    assert_int_equal(v.weight_rule, 1);
    policy_eval_proc(&e, 2, &v);
    assert_int_equal(v.adj, -900);
    assert_int_equal(v.weight, WEIGHT_PROTECT); /* in /system.slice */
    policy_eval_proc(&e, 3, &v);                /* the child of the postmaster */
    assert_int_equal(v.adj, -900);
    assert_int_equal(v.adj_rule, 2);
    policy_eval_proc(&e, 4, &v);
    assert_int_equal(v.weight, WEIGHT_PREFER);
    assert_int_equal(v.kill_unit, KILL_UNIT_CGROUP);
    policy_eval_proc(&e, 5, &v); /* uid 1000: not the root batch */
    assert_int_equal(v.weight, WEIGHT_NORMAL);
    assert_int_equal(v.kill_unit, KILL_UNIT_PROCESS);
    assert_int_equal(v.weight_rule, SIZE_MAX);
    policy_eval_proc(&e, 6, &v);
    assert_int_equal(v.adj, 900);
    assert_int_equal(v.weight, WEIGHT_PREFER);

    struct policy_plan pl = {0};
    assert_int_equal(policy_plan_procs(&e, NULL, &pl), 0);
    /* sshd -> -500, postmaster and child -> -900, java 50 -> 900; java 51 already 900 */
    assert_int_equal(pl.n, 4);
    assert_int_equal(pl.unchanged, 1);
    assert_int_equal(pl.v[0].pid, 10);
    assert_int_equal(pl.v[0].before, 0);
    assert_int_equal(pl.v[0].after, -500);
    assert_int_equal(pl.v[3].pid, 50);
    assert_int_equal(pl.v[3].before, -997);
    assert_int_equal(pl.v[3].after, 900);
    struct buf b = BUF_INIT(4096);
    assert_int_equal(policy_change_text(&cfg.policy, &pl.v[3], &b), 0);
    assert_non_null(strstr(buf_cstr(&b), ": -997 -> 900  [rule pods]"));
    buf_release(&b);
    policy_plan_release(&pl);
    /* `only`: the agent's scan plans the new processes alone */
    bool only[8] = {false, false, false, false, false, false, true, false};
    assert_int_equal(policy_plan_procs(&e, only, &pl), 0);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.v[0].pid, 50);
    policy_plan_release(&pl);
    policy_eval_release(&e);
    proc_table_release(&t);
    agent_config_release(&cfg);
}

/* A rule never raises this process's own oom_score_adj (found by the root's /proc/self): that
 * change is a skip with its reason; lowering it, and any other process, are planned. */
static void never_raises_its_own_adj(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule pods]\ncgroup = /kubepods.slice/*\noom-score-adj = 900\n"
                          "[rule daemons]\ncgroup = /system.slice/*\noom-score-adj = -100\n",
                          &cfg, &err),
                     0);
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, "/", NULL), 0);
    pid_t me = getpid();
    struct proc_table t = {0};
    t.v = calloc(4, sizeof(*t.v));
    t.v[t.n++] = mkproc(me, 1, "oomwarden", K8S_CTR, 0, 0, "oomwarden agent");
    t.v[t.n++] = mkproc(me + 1, 1, "java", K8S_CTR, 0, 0, "java -jar app.jar");
    struct policy_eval e;
    assert_int_equal(policy_eval_init(&e, &cfg.policy, &sr, &t), 0);
    assert_int_equal(policy_eval_self(&e), me);
    struct policy_plan pl = {0};
    assert_int_equal(policy_plan_procs(&e, NULL, &pl), 0);
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.v[0].pid, me);
    assert_int_equal(pl.v[0].state, CHANGE_SKIPPED);
    assert_non_null(strstr(pl.v[0].skip_reason, "oomwarden itself"));
    assert_int_equal(pl.v[1].pid, me + 1);
    assert_int_equal(pl.v[1].state, CHANGE_PENDING);
    assert_int_equal(pl.v[1].after, 900);
    policy_plan_release(&pl);
    policy_eval_release(&e);
    /* in a system slice the rule lowers it: that is planned */
    free(t.v[0].cgroup);
    t.v[0].cgroup = strdup("/system.slice/oomwarden.service");
    assert_int_equal(policy_eval_init(&e, &cfg.policy, &sr, &t), 0);
    assert_int_equal(policy_plan_procs(&e, NULL, &pl), 0);
    assert_int_equal(pl.v[0].pid, me);
    assert_int_equal(pl.v[0].state, CHANGE_PENDING);
    assert_int_equal(pl.v[0].after, -100);
    policy_plan_release(&pl);
    policy_eval_release(&e);
    /* a fixture tree has no /proc/self: nothing is this process */
    struct sysroot fx;
    assert_int_equal(sysroot_open(&fx, FIXTURES_DIR "/cg-v1", NULL), 0);
    assert_int_equal(policy_eval_init(&e, &cfg.policy, &fx, &t), 0);
    assert_int_equal(policy_eval_self(&e), 0);
    policy_eval_release(&e);
    sysroot_close(&fx);
    sysroot_close(&sr);
    proc_table_release(&t);
    agent_config_release(&cfg);
}

static void cgroup_plan(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule ctr]\ncontainer = *\noom-group = 0\nmemory-high = 90%\n"
                          "[rule rest]\ncgroup = /*\nmemory-high = 1000000\n",
                          &cfg, &err),
                     0);
    struct cgroup_snapshot s = {0};
    s.v = calloc(4, sizeof(*s.v));
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/"), .oom_group = OPT_ABSENT,
                                        .high = OPT_ABSENT, .max = CGROUP_UNLIMITED};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup(K8S_CTR), .oom_group = 1,
                                        .high = CGROUP_UNLIMITED, .max = 1000u << 20};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup(K8S_POD), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = CGROUP_UNLIMITED};
    /* already as wanted: 1000000 rounded down to whole pages */
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/done"), .oom_group = 0,
                                        .high = 1000000 / 4096 * 4096, .max = CGROUP_UNLIMITED};
    struct policy_plan pl = {0};
    assert_int_equal(policy_plan_cgroups(&cfg.policy, NULL, &s, 2, 4096, &pl), 0);
    /* in path order, whatever the order of the walk: the pod before its container */
    assert_int_equal(pl.n, 3);
    assert_int_equal(pl.v[0].kind, CHANGE_MEMORY_HIGH); /* the pod: the second rule */
    assert_string_equal(pl.v[0].cgroup, K8S_POD);
    assert_int_equal(pl.v[0].after, 1000000 / 4096 * 4096);
    assert_int_equal(pl.v[1].kind, CHANGE_OOM_GROUP);
    assert_string_equal(pl.v[1].cgroup, K8S_CTR);
    assert_int_equal(pl.v[1].before, 1);
    assert_int_equal(pl.v[1].after, 0);
    assert_int_equal(pl.v[2].kind, CHANGE_MEMORY_HIGH);
    assert_int_equal(pl.v[2].after, (int64_t)((1000u << 20) / 100 * 90 / 4096 * 4096));
    assert_int_equal(pl.v[2].percent, 90);
    assert_int_equal(pl.unchanged, 1);
    policy_plan_release(&pl);
    /* v1: neither file exists; each change says so instead of failing */
    assert_int_equal(policy_plan_cgroups(&cfg.policy, NULL, &s, 1, 4096, &pl), 0);
    for (size_t i = 0; i < pl.n; i++) {
        assert_int_equal(pl.v[i].state, CHANGE_SKIPPED);
        assert_non_null(strstr(pl.v[i].skip_reason, "v1 has no"));
    }
    policy_plan_release(&pl);
    cgroup_snapshot_release(&s);
    agent_config_release(&cfg);
}

/* How a change reads: "max" is a value (not "unknown"), names cannot carry terminal escapes. */
static void change_text_and_json(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule open]\ncgroup = /x\nmemory-high = max\n"
                          "[rule cap]\ncgroup = /*\nmemory-high = 50%\n"
                          "[rule adj]\ncomm = .\noom-score-adj = 100\n",
                          &cfg, &err),
                     0);
    struct cgroup_snapshot s = {0};
    s.v = calloc(3, sizeof(*s.v));
    /* 50% of 256M is 128M exactly (not 128M less a page, from rounding to 100 bytes first) */
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/a"), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = 256u << 20};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/x"), .oom_group = 0,
                                        .high = 1u << 30, .max = 2u << 30};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/y"), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = CGROUP_UNLIMITED};
    struct policy_plan pl = {0};
    assert_int_equal(policy_plan_cgroups(&cfg.policy, NULL, &s, 2, 4096, &pl), 0);
    assert_int_equal(pl.n, 3);
    assert_int_equal(pl.v[0].after, 128u << 20);
    assert_int_equal((uint64_t)pl.v[0].before, CGROUP_UNLIMITED);
    assert_int_equal((uint64_t)pl.v[1].after, CGROUP_UNLIMITED);
    struct buf b = BUF_INIT(1 << 16);
    assert_int_equal(policy_change_text(&cfg.policy, &pl.v[0], &b), 0);
    assert_string_equal(buf_cstr(&b), "memory.high      /a: max -> 128M (50% of memory.max 256M)"
                                      "  [rule cap]");
    buf_reset(&b);
    assert_int_equal(policy_change_text(&cfg.policy, &pl.v[1], &b), 0);
    assert_string_equal(buf_cstr(&b), "memory.high      /x: 1.0G -> max  [rule open]");
    buf_reset(&b);
    struct json j;
    json_init(&j, &b, false);
    policy_change_json(&cfg.policy, &pl.v[0], &j);
    assert_non_null(strstr(buf_cstr(&b), "\"before\":\"max\",\"after\":134217728"));
    buf_reset(&b);
    json_init(&j, &b, false);
    policy_change_json(&cfg.policy, &pl.v[1], &j);
    assert_non_null(strstr(buf_cstr(&b), "\"before\":1073741824,\"after\":\"max\""));
    /* no memory.max to take 50% of: skipped, and "max" is not a number of bytes */
    assert_int_equal(pl.v[2].state, CHANGE_SKIPPED);
    buf_reset(&b);
    json_init(&j, &b, false);
    policy_change_json(&cfg.policy, &pl.v[2], &j);
    assert_non_null(strstr(buf_cstr(&b), "\"after\":null,\"percent_of_max\":50,\"max\":\"max\","));
    buf_reset(&b);
    assert_int_equal(policy_change_text(&cfg.policy, &pl.v[2], &b), 0);
    assert_string_equal(buf_cstr(&b), "memory.high      /y: skipped: no memory.max to take a "
                                      "percentage of  [rule cap]");
    policy_plan_release(&pl);
    cgroup_snapshot_release(&s);

    struct policy_change c = {.kind = CHANGE_ADJ, .rule = 2, .pid = 960, .before = 5,
                              .after = 100, .cgroup = "/evil\033]0;x\007.service"};
    snprintf(c.comm, sizeof(c.comm), "evil\033[31mred\nx");
    buf_reset(&b);
    assert_int_equal(policy_change_text(&cfg.policy, &c, &b), 0);
    assert_string_equal(buf_cstr(&b), "oom_score_adj    pid 960 evil?[31mred?x "
                                      "(/evil?]0;x?.service): 5 -> 100  [rule adj]");
    buf_release(&b);
    agent_config_release(&cfg);
}

/* The write checks the start time, so a PID reused since the snapshot is never written to. */
static void apply_checks_identity(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, "/", NULL), 0);
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    usleep(50000);
    struct proc p;
    struct buf scratch = BUF_INIT(1 << 20);
    assert_int_equal(procs_read_one(&sr, child, PROC_READ_STAT | PROC_READ_OOM, &scratch, &p), 0);
    struct policy_change c = {.kind = CHANGE_ADJ, .pid = child, .start_time = p.start_time + 1,
                              .before = p.oom_score_adj, .after = p.oom_score_adj + 10};
    assert_int_equal(policy_apply_change(&sr, NULL, &c), 0);
    assert_int_equal(c.state, CHANGE_VANISHED); /* "another process" with this PID */
    c.start_time = p.start_time;
    assert_int_equal(policy_apply_change(&sr, NULL, &c), 0);
    assert_int_equal(c.state, CHANGE_DONE);
    struct proc q;
    assert_int_equal(procs_read_one(&sr, child, PROC_READ_OOM, &scratch, &q), 0);
    assert_int_equal(q.oom_score_adj, p.oom_score_adj + 10);
    if (geteuid() == 0 && access("/proc/self/oom_score_adj", W_OK) == 0) {
        /* back below its floor: fails with EACCES without CAP_SYS_RESOURCE, and says why */
        c.after = p.oom_score_adj - 10;
        int r = policy_apply_change(&sr, NULL, &c);
        if (r < 0) {
            assert_int_equal(c.state, CHANGE_FAILED);
            assert_non_null(policy_change_error_hint(&c));
            assert_non_null(strstr(policy_change_error_hint(&c), "CAP_SYS_RESOURCE"));
        }
    }
    proc_release(&p);
    proc_release(&q);
    buf_release(&scratch);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    sysroot_close(&sr);
}

/* namespace and pod-name match the names the kubelet's layout gives a pod (cg-k8s-names: its
 * /var/log/pods and /var/log/containers); a pod it does not name, and conmon, match neither. */
static void name_matchers(void **state)
{
    (void)state;
    struct agent_config cfg;
    const char *err;
    assert_int_equal(load("[rule system]\nnamespace = kube-*, batch\noom-score-adj = 0\nguard = avoid\n"
                          "[rule api]\npod-name = api-*\nguard = prefer\n"
                          "[rule shop-group]\nnamespace = shop\noom-group = 1\n"
                          "[rule pods]\npod = *\noom-score-adj = 900\n",
                          &cfg, &err),
                     0);
    const struct policy *p = &cfg.policy;
    assert_true(policy_needs_names(p));
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURES_DIR "/cg-k8s-names", NULL), 0);
    struct podnames names;
    assert_int_equal(podnames_read(&sr, &names), 0);
    const char *batch = "/kubepods.slice/kubepods-besteffort.slice/"
                        "kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice";
    char batch_ctr[512], batch_conmon[512];
    snprintf(batch_ctr, sizeof(batch_ctr), "%s/crio-%s.scope", batch,
             "34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4");
    snprintf(batch_conmon, sizeof(batch_conmon), "%s/crio-conmon-%s.scope", batch,
             "34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4");
    assert_true(policy_rule_matches_cgroup(&p->v[0], &names, batch));
    assert_true(policy_rule_matches_cgroup(&p->v[0], &names, batch_ctr));
    assert_false(policy_rule_matches_cgroup(&p->v[0], &names, batch_conmon));
    assert_false(policy_rule_matches_cgroup(&p->v[0], &names, K8S_CTR)); /* shop */
    assert_false(policy_rule_matches_cgroup(&p->v[0], &names, "/system.slice/kubelet.service"));
    /* without the table nobody is named: the rule matches no pod */
    assert_false(policy_rule_matches_cgroup(&p->v[0], NULL, batch_ctr));
    assert_true(policy_rule_matches_cgroup(&p->v[1], &names, K8S_POD));
    assert_true(policy_rule_matches_cgroup(&p->v[1], &names, K8S_CTR));
    assert_false(policy_rule_matches_cgroup(&p->v[1], &names, batch_ctr));
    assert_false(policy_rule_matches_cgroup(&p->v[1], NULL, K8S_CTR));

    /* processes: the evaluation reads the table under the root itself */
    struct proc_table t;
    assert_int_equal(procs_snapshot(&sr, PROC_READ_STAT | PROC_READ_OOM | PROC_READ_CGROUP, &t), 0);
    struct policy_eval e;
    assert_int_equal(policy_eval_init(&e, p, &sr, &t), 0);
    struct {
        pid_t pid;
        int adj;
        size_t adj_rule;
        enum guard_weight weight;
    } want[] = {
        {1021, 0, 0, WEIGHT_AVOID},    /* batch/report-28391-abcde */
        {1010, 900, 3, WEIGHT_PREFER}, /* shop/api-7b8c6d9f4-x2k9p */
        {1030, 900, 3, WEIGHT_NORMAL}, /* db/postgres-0 */
        /* conmon: CRI-O's, not the pod's (neither namespace nor pod matches it) */
        {1020, POLICY_ADJ_UNSET, SIZE_MAX, WEIGHT_NORMAL},
        {200, POLICY_ADJ_UNSET, SIZE_MAX, WEIGHT_NORMAL}, /* the kubelet */
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        size_t i = 0;
        while (i < t.n && t.v[i].pid != want[k].pid)
            i++;
        assert_true(i < t.n);
        struct policy_verdict v;
        policy_eval_proc(&e, i, &v);
        assert_int_equal(v.adj, want[k].adj);
        assert_int_equal(v.adj_rule, want[k].adj_rule);
        assert_int_equal(v.weight, want[k].weight);
    }
    policy_eval_release(&e);
    proc_table_release(&t);

    /* cgroups: oom.group for the shop pod's cgroups only, and only with the table */
    struct cgroup_snapshot s = {0};
    s.v = calloc(3, sizeof(*s.v));
    s.v[s.n++] = (struct cgroup_memory){.path = strdup(K8S_CTR), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = CGROUP_UNLIMITED};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup(batch_ctr), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = CGROUP_UNLIMITED};
    s.v[s.n++] = (struct cgroup_memory){.path = strdup("/system.slice"), .oom_group = 0,
                                        .high = CGROUP_UNLIMITED, .max = CGROUP_UNLIMITED};
    struct policy_plan pl = {0};
    assert_int_equal(policy_plan_cgroups(p, &names, &s, 2, 4096, &pl), 0);
    assert_int_equal(pl.n, 1);
    assert_string_equal(pl.v[0].cgroup, K8S_CTR);
    assert_int_equal(pl.v[0].rule, 2);
    policy_plan_release(&pl);
    pl = (struct policy_plan){0};
    assert_int_equal(policy_plan_cgroups(p, NULL, &s, 2, 4096, &pl), 0);
    assert_int_equal(pl.n, 0);
    policy_plan_release(&pl);
    cgroup_snapshot_release(&s);

    /* --check-config writes them back */
    struct buf b = BUF_INIT(4096);
    assert_int_equal(policy_dump(p, &b), 0);
    assert_non_null(strstr(buf_cstr(&b), "[rule system]\nnamespace = kube-*, batch\n"));
    assert_non_null(strstr(buf_cstr(&b), "[rule api]\npod-name = api-*\n"));
    buf_release(&b);
    podnames_release(&names);
    sysroot_close(&sr);
    agent_config_release(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_parse),
        cmocka_unit_test(rule_errors_name_file_line_key),
        cmocka_unit_test(long_lines_whole),
        cmocka_unit_test(cgroup_matchers),
        cmocka_unit_test(verdicts_and_plan),
        cmocka_unit_test(never_raises_its_own_adj),
        cmocka_unit_test(cgroup_plan),
        cmocka_unit_test(change_text_and_json),
        cmocka_unit_test(apply_checks_identity),
        cmocka_unit_test(name_matchers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
