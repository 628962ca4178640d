#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/log/oomlog.h"
#include "model/sysroot.h"
#include "model/workload/identity.h"
#include "model/workload/podnames.h"
#include "engine/runtime/httpd.h"
#include "model/log/killobs.h"
#include "engine/runtime/loop.h"
#include "engine/report/metrics.h"
#include "engine/report/oomfollow.h"

struct agent {
    const struct sysroot *sr;
    struct kver kernel;
    pthread_rwlock_t cfg_lock; /* the HTTP thread reads the exporter settings; SIGHUP swaps them */
    struct agent_config *cfg;
    struct metrics_config mcfg;
    struct kill_counters kills;
    const char *config_path;
    const struct agent_flag *flags;
    size_t nflags;
    /* the last exposition, reused by scrapes within SCRAPE_COALESCE_MS of it: a burst of
     * scrapes (or an HA pair of Prometheus servers) costs one read of /proc and /sys, and a
     * flood of requests cannot queue up seconds of collection work (HTTP thread only) */
    struct buf last;
    uint64_t last_ms;
    struct podnames http_names; /* the pods' names for the scrapes (HTTP thread only) */
    /* the pods' names for the kills, read when a kill is: a pod deleted after its OOM stays
     * named in the events and the kill counters (main loop only) */
    struct podnames loop_names;
    struct loop *loop;
    struct httpd *httpd;
    struct oomfollow *follow; /* the kernel log's OOM kills (NULL: not followed) */
    struct guard *guard;
    struct reconcile *reconcile;
    /* the kill follower's cgroups and their oom_kill counters, to place the kills whose
     * report the kernel rate-limited (hier_ok: the hierarchy could be opened) */
    struct cgroup_hier hier;
    bool hier_open, hier_ok;
    struct killobs obs;
    /* /healthz asks the main loop (guard, policy, kernel log) for a sign of life through this
     * eventfd, and fails when an answer is overdue, not when the HTTP side is busy. ping_ms:
     * when the question still unanswered was asked, 0 when none is. An idle agent is not woken
     * up for this: only a probe asks. */
    int ping_fd;
    _Atomic uint64_t ping_ms;
};

/* The main loop may block for a kill (up to kill-timeout) or a scan of a large /proc: it is
 * stuck only when an answer is later than this beyond kill-timeout. */
#define STUCK_AFTER_MS 30000

#define SCRAPE_COALESCE_MS 1000

static void set_metrics_config(struct agent *a)
{
    a->mcfg = (struct metrics_config){
        .cgroup_depth = (unsigned)a->cfg->cgroup_depth,
        .include = &a->cfg->include,
        .exclude = &a->cfg->exclude,
        .next_victim = a->cfg->next_victim,
    };
}

static const char landing[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>oomwarden</title></head>\n"
    "<body><h1>oomwarden agent</h1>\n"
    "<p>Linux memory pressure and the OOM killer: cgroup memory as the kernel charges it, PSI, "
    "OOM kills from the kernel log, the next OOM victim.</p>\n"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus text format 0.0.4)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a></li></ul>\n</body></html>\n";

/* The guard's and the reconciler's counters as the exporter reports them. */
static void agent_counters(const struct agent *a, struct metrics_labelled kills[GUARD_REASON_COUNT],
                           struct metrics_agent *ret)
{
    struct reconcile_stats st = {0};
    if (a->reconcile)
        reconcile_get_stats(a->reconcile, &st);
    *ret = (struct metrics_agent){
        .policy_applied = a->reconcile != NULL, .policy_done = st.done,
        .policy_failed = st.failed, .scans = st.scans, .rechecks = st.rechecks,
        .last_scan_us = st.last_scan_us, .last_recheck_us = st.last_recheck_us};
    if (!a->guard)
        return;
    for (int r = 0; r < GUARD_REASON_COUNT; r++)
        kills[r] = (struct metrics_labelled){guard_reason_name((enum guard_reason)r),
                                             guard_kills(a->guard, (enum guard_reason)r)};
    ret->guard_kills = kills;
    ret->n_guard_kills = GUARD_REASON_COUNT;
}

static void on_http(void *ctx, const char *path, struct httpd_response *resp)
{
    struct agent *a = ctx;
    if (strcmp(path, "/metrics") == 0) {
        pthread_rwlock_rdlock(&a->cfg_lock);
        uint64_t now = loop_now_ms();
        int r = 0;
        if (!a->last_ms || now - a->last_ms >= SCRAPE_COALESCE_MS) {
            struct metrics_labelled guard_kills[GUARD_REASON_COUNT];
            struct metrics_agent counters;
            agent_counters(a, guard_kills, &counters);
            struct metrics_ctx m = {.sr = a->sr, .kernel = &a->kernel, .cfg = &a->mcfg,
                                    .names = &a->http_names, .kills = &a->kills,
                                    .agent = &counters};
            buf_reset(&a->last);
            r = metrics_collect(&m, &a->last);
            a->last_ms = r == 0 ? loop_now_ms() : 0;
        }
        if (r == 0)
            r = buf_append(&resp->body, a->last.data, a->last.len);
        pthread_rwlock_unlock(&a->cfg_lock);
        if (r < 0) {
            buf_reset(&resp->body);
            buf_printf(&resp->body, "collecting metrics failed: %s\n", strerror(-r));
            resp->status = 500;
            return;
        }
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(path, "/healthz") == 0) {
        /* healthy when the main loop runs and the machine it watches is readable */
        pthread_rwlock_rdlock(&a->cfg_lock);
        uint64_t stuck_after = a->cfg->kill_timeout + STUCK_AFTER_MS;
        pthread_rwlock_unlock(&a->cfg_lock);
        uint64_t now = loop_now_ms(), asked = 0;
        /* ask, unless a question is still open; its answer clears ping_ms */
        if (atomic_compare_exchange_strong(&a->ping_ms, &asked, now)) {
            uint64_t one = 1;
            (void)!write(a->ping_fd, &one, sizeof(one));
        }
        resp->status = 503;
        if (asked && now - asked > stuck_after)
            buf_printf(&resp->body, "the main loop (guard, policy, kernel log) has not answered "
                                    "for %" PRIu64 " s\n", (now - asked) / 1000);
        else if (faccessat(a->sr->proc_fd, "meminfo", R_OK, 0) != 0)
            buf_puts(&resp->body, "cannot read /proc\n");
        else {
            resp->status = 200;
            buf_puts(&resp->body, "ok\n");
        }
    } else if (strcmp(path, "/") == 0) {
        resp->status = 200;
        resp->content_type = "text/html; charset=utf-8";
        buf_puts(&resp->body, landing);
    } else {
        resp->status = 404;
        buf_puts(&resp->body, "not found: try /metrics\n");
    }
}

/* The follower's line on stdout for one kill. */
static void log_oom_event(const struct agent *a, const struct oom_event *e,
                          const struct oom_observed *obs)
{
    const struct oom_victim *v = oom_event_primary(e);
    const char *cgroup = e->task_memcg ? e->task_memcg : obs->cgroup;
    struct identity id;
    podnames_identity(&a->loop_names, cgroup ? cgroup : "", &id);
    if (strcmp(a->cfg->event_format, "json") == 0) {
        struct buf b = BUF_INIT(CAP_OUTPUT);
        struct json j;
        json_init(&j, &b, false);
        json_obj_begin(&j);
        json_kv_str(&j, "event", "oom_kill");
        json_kv_str(&j, "scope", oom_scope_name(e->scope));
        if (v) {
            json_kv_i64(&j, "pid", v->pid);
            json_kv_str(&j, "comm", v->comm);
        }
        json_kv_str(&j, "task_memcg", e->task_memcg);
        json_kv_str(&j, "oom_memcg", e->oom_memcg);
        identity_names_json_fields(&id, &j);
        json_kv_bool(&j, "rate_limited", e->rate_limited);
        json_key(&j, "observed");
        oom_observed_json(obs, e->rate_limited, &j);
        json_obj_end(&j);
        printf("%s\n", buf_cstr(&b));
        buf_release(&b);
    } else {
        struct buf b = BUF_INIT(CAP_OUTPUT);
        if (id.pod_name[0]) {
            char w[IDENTITY_BRIEF_MAX];
            identity_brief(&id, w, sizeof(w));
            buf_printf(&b, " (%s)", w);
        }
        if (obs->source != OOM_OBSERVED_NONE) {
            buf_puts(&b, "; observed ");
            oom_observed_text(obs, e->rate_limited, &b);
        }
        printf("oom_kill %s: %s%s (pid %lld)%s%s%s\n", oom_scope_name(e->scope),
               v ? "killed " : "no victim", v ? v->comm : "", v ? (long long)v->pid : -1LL,
               cgroup ? " in " : "", cgroup ? cgroup : "", buf_cstr(&b));
        buf_release(&b);
    }
    fflush(stdout);
}

static void on_oom_event(void *ctx, const struct oom_event *e)
{
    struct agent *a = ctx;
    struct oom_observed obs = {.oom_kill_before = OPT_ABSENT, .oom_kill_after = OPT_ABSENT,
                               .limit = OPT_ABSENT};
    if (a->hier_ok) {
        /* every cgroup's counter, now that the report has settled: this kill has moved one */
        (void)killobs_walk(&a->obs, &a->hier, loop_now_ms());
        if (killobs_match(&a->obs, e, loop_now_ms(), &obs) == 1)
            (void)oom_observed_read_limit(&a->hier, &obs);
    }
    /* the names now, while the kubelet still has the pod: it may be deleted soon after */
    if (podnames_refresh(a->sr, &a->loop_names) < 0)
        log_debug("out of memory reading the pods' names");
    kill_counters_add(&a->kills, e, obs.cgroup, &a->loop_names);
    if (a->cfg->log_events)
        log_oom_event(a, e, &obs);
    oom_observed_release(&obs);
}


/* One event on stdout: the JSON object or the text, as event-format says. */
static void on_event(void *ctx, const char *json, const char *text)
{
    struct agent *a = ctx;
    if (strcmp(a->cfg->event_format, "json") == 0)
        printf("%s\n", json);
    else
        printf("%s\n", text);
    fflush(stdout);
}

static void start_policy(struct agent *a)
{
    if (a->reconcile || !a->cfg->policy_apply || a->cfg->policy.n == 0)
        return;
    struct reconcile_sink rs = {.event = on_event, .ctx = a};
    int r = reconcile_start(a->loop, a->sr, &a->cfg->ropts, &a->cfg->policy, &rs, &a->reconcile);
    if (r < 0)
        log_error("policy: cannot start: %s", strerror(-r));
    else
        log_notice("policy: %zu rules kept applied%s (new processes: %s; everything every %" PRIu64
                   " ms; new cgroups at once)",
                   a->cfg->policy.n, a->cfg->policy_dry_run ? " (dry run: reported, not written)" : "",
                   reconcile_source(a->reconcile), a->cfg->recheck_interval);
}

static void start_guard(struct agent *a)
{
    if (a->guard || !a->cfg->guard)
        return;
    struct guard_event_sink gs = {.event = on_event, .ctx = a};
    int r = guard_start(a->loop, a->sr, &a->cfg->gopts, &a->cfg->policy, &gs, &a->guard);
    if (r < 0) {
        log_error("guard: cannot start: %s", strerror(-r));
        return;
    }
    struct guard_self self;
    guard_self_state(a->guard, &self);
    log_notice("guard: on%s: memory floor %s (swap floor %s), cgroup headroom %s with %" PRIu64
               "%% stall, PSI trigger %s; mlocked %s, own oom_score_adj %d",
               a->cfg->guard_dry_run ? " (dry run: decides and logs, kills nothing)" : "",
               a->cfg->memory_floor, a->cfg->swap_floor, a->cfg->headroom, a->cfg->stall,
               a->cfg->psi && *a->cfg->psi ? a->cfg->psi : "none", self.mlocked ? "yes" : "no",
               self.own_adj);
}

static void on_lost(void *ctx, uint64_t n)
{
    (void)ctx;
    log_warn("the kernel log overran: %llu records lost before they were read",
             (unsigned long long)n);
}

static int on_ping(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    struct agent *a = ctx;
    uint64_t n;
    (void)!read(fd, &n, sizeof(n));
    a->ping_ms = 0;
    return 0;
}

static int on_stop(struct loop *l, int signo, void *ctx)
{
    (void)ctx;
    log_notice("%s: stopping", strsignal(signo));
    loop_quit(l, 0);
    return 0;
}

static int on_reload(struct loop *l, int signo, void *ctx)
{
    (void)l;
    (void)signo;
    struct agent *a = ctx;
    struct agent_config *fresh = malloc(sizeof(*fresh));
    struct buf err = BUF_INIT(4096);
    if (!fresh)
        return 0;
    if (agent_config_load(a->sr, a->config_path, a->flags, a->nflags, fresh, &err) < 0) {
        log_error("reload: %s; keeping the running configuration", buf_cstr(&err));
        free(fresh);
        buf_release(&err);
        return 0;
    }
    buf_release(&err);
    if (strcmp(fresh->listen, a->cfg->listen) != 0 ||
        fresh->max_connections != a->cfg->max_connections || fresh->kmsg != a->cfg->kmsg)
        log_warn("reload: listen, max-connections and kmsg take effect on restart");
    pthread_rwlock_wrlock(&a->cfg_lock);
    /* keep what needs a restart, take the rest */
    free(fresh->listen);
    fresh->listen = strdup(a->cfg->listen);
    fresh->max_connections = a->cfg->max_connections;
    fresh->kmsg = a->cfg->kmsg;
    agent_config_release(a->cfg);
    *a->cfg = *fresh;
    /* the derived options point into the struct they were made from: make them again here */
    struct buf e2 = BUF_INIT(1024);
    (void)agent_config_validate(a->cfg, &e2);
    buf_release(&e2);
    set_metrics_config(a);
    a->last_ms = 0; /* the next scrape uses the new settings */
    if (a->guard && !a->cfg->guard) {
        guard_stop(a->guard);
        a->guard = NULL;
    } else if (a->guard) {
        guard_reconfigure(a->guard, &a->cfg->gopts, &a->cfg->policy);
    }
    if (a->reconcile && (!a->cfg->policy_apply || a->cfg->policy.n == 0)) {
        reconcile_stop(a->reconcile);
        a->reconcile = NULL;
    }
    pthread_rwlock_unlock(&a->cfg_lock);
    free(fresh);
    if (a->reconcile)
        reconcile_reconfigure(a->reconcile, &a->cfg->ropts, &a->cfg->policy);
    start_policy(a);
    start_guard(a);
    log_notice("reloaded %s", a->config_path ? a->config_path : "the command-line settings");
    return 0;
}

/* The agent's own state, before anything runs; agent_release frees it whatever came after. */
static void agent_init(struct agent *a, const struct sysroot *sr, const char *config_path,
                       const struct agent_flag *flags, size_t nflags, struct agent_config *cfg)
{
    *a = (struct agent){.sr = sr, .cfg = cfg, .config_path = config_path, .flags = flags,
                        .nflags = nflags, .ping_fd = -1, .http_names = PODNAMES_INIT,
                        .loop_names = PODNAMES_INIT};
    buf_init(&a->last, CAP_OUTPUT);
    (void)kver_read(sr, &a->kernel);
    pthread_rwlock_init(&a->cfg_lock, NULL);
    kill_counters_init(&a->kills, cfg->max_kill_series);
    set_metrics_config(a);
}

/* The loop with what it answers besides the workers: the signals, and the main loop's half of
 * the /healthz question. */
static int open_loop(struct agent *a)
{
    int r = loop_new(&a->loop);
    if (r < 0)
        return r;
    (void)loop_add_signal(a->loop, SIGTERM, on_stop, a);
    (void)loop_add_signal(a->loop, SIGINT, on_stop, a);
    (void)loop_add_signal(a->loop, SIGHUP, on_reload, a);
    a->ping_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = a->ping_fd < 0 ? -errno : loop_add_fd(a->loop, a->ping_fd, EPOLLIN, on_ping, a, NULL);
    if (r < 0)
        log_error("cannot set up the liveness check: %s", strerror(-r));
    return r;
}

static int start_http(struct agent *a)
{
    /* the HTTP thread blocks every signal, so they all arrive at this loop */
    int herr = 0;
    /* 5 s to send a request: a scrape sends it at once; a slow client holds a slot no longer */
    a->httpd = httpd_start(a->cfg->listen, (unsigned)a->cfg->max_connections, 5, on_http, a,
                           &herr);
    if (!a->httpd) {
        log_error("cannot listen on %s: %s", a->cfg->listen, strerror(-herr));
        return herr;
    }
    log_notice("serving http://%s/metrics%s", a->cfg->listen,
               strncmp(a->cfg->listen, "127.", 4) == 0 ? " (loopback only)" : "");
    return 0;
}

/* The kernel log's OOM kills, each placed by the cgroups' oom_kill counters where they can be
 * read. Without /dev/kmsg the agent runs on: the node's counter still counts the kills. */
static void start_follower(struct agent *a)
{
    if (!a->cfg->kmsg)
        return;
    if (cgroup_hier_open(a->sr, &a->hier) == 0) {
        a->hier_open = true;
        a->hier_ok = a->hier.memory_version != 0;
        killobs_init(&a->obs, a->hier.memory_version);
        /* the baseline: kills before we followed the log are not ours to place */
        if (a->hier_ok && killobs_walk(&a->obs, &a->hier, loop_now_ms()) < 0)
            a->hier_ok = false;
    }
    struct oomfollow_callbacks cb = {.event = on_oom_event, .lost = on_lost, .ctx = a};
    int q = oomfollow_start(a->loop, a->sr, false, &cb, &a->follow);
    const char *kmsg = sysroot_path(a->sr, "/dev/kmsg"); /* static storage: after the start */
    if (q == -EPERM || q == -EACCES)
        log_warn("cannot read %s (%s): OOM kills from the kernel log are not counted; "
                 "oomwarden_node_oom_kills_total still is (kernel.dmesg_restrict=1 needs "
                 "CAP_SYSLOG)", kmsg, strerror(-q));
    else if (q < 0)
        log_warn("cannot follow %s: %s; OOM kills from the kernel log are not counted", kmsg,
                 strerror(-q));
    else
        log_notice("following %s", kmsg);
}

/* Everything agent_init and the starts made, in the reverse order; what never started is NULL
 * or closed and is passed over. */
static void agent_release(struct agent *a)
{
    pthread_rwlock_wrlock(&a->cfg_lock);
    guard_stop(a->guard);
    a->guard = NULL;
    reconcile_stop(a->reconcile);
    a->reconcile = NULL;
    pthread_rwlock_unlock(&a->cfg_lock);
    oomfollow_stop(a->follow);
    httpd_stop(a->httpd);
    killobs_release(&a->obs);
    if (a->hier_open)
        cgroup_hier_close(&a->hier);
    loop_free(a->loop);
    if (a->ping_fd >= 0)
        close(a->ping_fd);
    kill_counters_release(&a->kills);
    pthread_rwlock_destroy(&a->cfg_lock);
    buf_release(&a->last);
    podnames_release(&a->http_names);
    podnames_release(&a->loop_names);
}

int agent_run(const struct sysroot *sr, const char *config_path, const struct agent_flag *flags,
              size_t nflags, struct agent_config *cfg)
{
    struct agent a;
    agent_init(&a, sr, config_path, flags, nflags, cfg);
    signal(SIGPIPE, SIG_IGN);
    int r = open_loop(&a);
    if (r == 0)
        r = start_http(&a);
    if (r == 0) {
        start_follower(&a);
        /* the guard first: it locks the process's memory before the rest allocates */
        start_guard(&a);
        start_policy(&a);
        r = loop_run(a.loop);
    }
    agent_release(&a);
    return r;
}
