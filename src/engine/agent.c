#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/meminfo.h"
#include "model/log/oomlog.h"
#include "model/sysroot.h"
#include "model/proc/users.h"
#include "model/workload/identity.h"
#include "model/workload/podnames.h"
#include "engine/runtime/httpd.h"
#include "model/log/killobs.h"
#include "engine/runtime/loop.h"
#include "engine/report/metrics.h"
#include "engine/report/oomfollow.h"
#include "engine/runtime/psitrig.h"

#define OPT(sec, key, type, member, min, max, help)                                                \
    {sec, key, type, offsetof(struct agent_config, member), min, max, help}

static const struct config_option options[] = {
    OPT("agent", "listen", CONFIG_STRING, listen, 0, 0,
        "address:port for /metrics, / and /healthz (127.0.0.1 by default: a scrape from "
        "elsewhere needs 0.0.0.0:10090 or [::]:10090)"),
    OPT("agent", "max-connections", CONFIG_UINT, max_connections, 1, 4096,
        "HTTP connections served at once"),
    OPT("agent", "log-events", CONFIG_BOOL, log_events, 0, 0,
        "print each OOM kill from the kernel log, one line each"),
    OPT("agent", "kmsg", CONFIG_BOOL, kmsg, 0, 0,
        "follow /dev/kmsg for OOM kills (needs CAP_SYSLOG under kernel.dmesg_restrict=1)"),
    OPT("agent", "event-format", CONFIG_STRING, event_format, 0, 0,
        "events on stdout (OOM kills, policy changes, guard decisions): text or json (one JSON "
        "object per line)"),
    OPT("exporter", "cgroup-depth", CONFIG_UINT, cgroup_depth, 0, 64,
        "export memory cgroups up to this many levels below the root"),
    OPT("exporter", "include", CONFIG_GLOBS, include, 0, 0,
        "cgroup path globs to export (default: all); the root is always exported"),
    OPT("exporter", "exclude", CONFIG_GLOBS, exclude, 0, 0, "cgroup path globs not to export"),
    OPT("exporter", "next-victim", CONFIG_BOOL, next_victim, 0, 0,
        "export the next global OOM victim (reads every process per scrape)"),
    OPT("exporter", "max-kill-series", CONFIG_UINT, max_kill_series, 8, 100000,
        "label sets of oomwarden_oom_kills_seen_total before further kills count as \"other\""),
    OPT("policy", "apply", CONFIG_BOOL, policy_apply, 0, 0,
        "keep the [rule NAME] sections applied: new processes, new cgroups, values changed back"),
    OPT("policy", "plan-only", CONFIG_BOOL, policy_dry_run, 0, 0,
        "report the changes the rules ask for (each once, state \"planned\"), write nothing"),
    OPT("policy", "scan-interval", CONFIG_DURATION, scan_interval, 100, 600000,
        "how often /proc is scanned for new processes (only new PIDs are read)"),
    OPT("policy", "recheck-interval", CONFIG_DURATION, recheck_interval, 1000, 86400000,
        "how often everything is read again, so a value changed back by someone is set again"),
    OPT("policy", "new-processes", CONFIG_STRING, new_processes, 0, 0,
        "how new processes are found: auto (the netlink proc connector where the agent can "
        "listen to it, else a scan of /proc every scan-interval) or scan"),
    OPT("guard", "enabled", CONFIG_BOOL, guard, 0, 0,
        "the userspace OOM killer: kill by the kernel's ranking and the rules' weights before "
        "the kernel's OOM killer has to"),
    OPT("guard", "dry-run", CONFIG_BOOL, guard_dry_run, 0, 0,
        "decide and log, but kill nothing"),
    OPT("guard", "memory-floor", CONFIG_STRING, memory_floor, 0, 0,
        "kill when MemAvailable is below this (size, or % of MemTotal; 0 = off)"),
    OPT("guard", "swap-floor", CONFIG_STRING, swap_floor, 0, 0,
        "... and, on a machine with swap, SwapFree below this (size or % of SwapTotal)"),
    OPT("guard", "fill-rate", CONFIG_SIZE, fill_rate, 1048576, UINT64_MAX / 2,
        "bytes per second memory is assumed to fill at: the next check comes when the headroom "
        "could be gone at that rate"),
    OPT("guard", "min-interval", CONFIG_DURATION, min_interval, 1, 10000,
        "checks never come more often than this"),
    OPT("guard", "max-interval", CONFIG_DURATION, max_interval, 100, 60000,
        "checks never come less often than this"),
    OPT("guard", "cgroups", CONFIG_GLOBS, guard_cgroups, 0, 0,
        "limited cgroups (globs) watched for headroom; empty: every cgroup with a limit"),
    OPT("guard", "headroom", CONFIG_STRING, headroom, 0, 0,
        "a cgroup whose working set (usage minus inactive page cache) is this close to its limit "
        "(size, or % of the limit) and stalling is killed in"),
    OPT("guard", "band", CONFIG_STRING, band, 0, 0,
        "cgroup v2: set memory.high this far under memory.max (size, or % of it; 0 = off) in "
        "each watched cgroup, unless a lower one is set, so the kernel throttles a fast grower "
        "before the limit; put back when the agent stops"),
    OPT("guard", "stall", CONFIG_UINT, stall, 1, 100,
        "stalling: memory PSI 'some' grew by this % of the time since the last check, or the "
        "limit was hit again (v1 failcnt, v2 memory.events max)"),
    OPT("guard", "psi", CONFIG_STRING, psi, 0, 0,
        "PSI trigger on the node and psi-cgroups ('some 150ms 1s', 'full 10% 2s'; empty: none); "
        "it wakes the checks at once"),
    OPT("guard", "psi-cgroups", CONFIG_GLOBS, psi_cgroups, 0, 0,
        "cgroups (globs) that get the PSI trigger too"),
    OPT("guard", "psi-kill-after", CONFIG_DURATION, psi_kill_after, 0, 3600000,
        "kill in the domain when its PSI trigger keeps firing this long (0: never on PSI alone)"),
    OPT("guard", "thrash", CONFIG_BOOL, thrash, 0, 0,
        "kill in the node or a watched cgroup frozen by thrashing (its page cache re-read as fast "
        "as it is dropped): PSI full and file refaults both over their lines for thrash-after"),
    OPT("guard", "thrash-full", CONFIG_UINT, thrash_full, 1, 100,
        "thrashing: memory PSI 'full' grew by this % of the window's time"),
    OPT("guard", "thrash-refaults", CONFIG_SIZE, thrash_refaults, 0, UINT64_MAX / 2,
        "thrashing: ... and workingset_refault_file grew by at least this many bytes per second"),
    OPT("guard", "thrash-window", CONFIG_DURATION, thrash_window, 200, 10000,
        "thrashing: both measured over this much time"),
    OPT("guard", "thrash-after", CONFIG_DURATION, thrash_after, 0, 600000,
        "thrashing: both over their lines at every check for this long before the kill"),
    OPT("guard", "cooldown", CONFIG_DURATION, cooldown, 0, 3600000,
        "after a kill, no other kill in the same domain for this long (one episode, one kill)"),
    OPT("guard", "kill-timeout", CONFIG_DURATION, kill_timeout, 100, 60000,
        "how long to wait for the victim to exit"),
    OPT("guard", "table-rows", CONFIG_UINT, table_rows, 1, 1000,
        "rows of the candidate table logged with each decision"),
};

static const struct config_schema schema = {options, sizeof(options) / sizeof(options[0]), NULL,
                                            NULL, NULL};
_Static_assert(sizeof(options) / sizeof(options[0]) <= AGENT_MAX_OPTIONS,
               "agent_config.line has a place for each option");

const struct config_schema *agent_schema(void)
{
    return &schema;
}

void agent_config_defaults(struct agent_config *c)
{
    *c = (struct agent_config){
        .listen = NULL,
        .max_connections = 64,
        .log_events = true,
        .kmsg = true,
        .cgroup_depth = 4,
        .next_victim = true,
        .max_kill_series = 500,
        .policy_apply = true,
        .scan_interval = 1000,
        .recheck_interval = 60000,
        .fill_rate = 2048ull << 20,
        .min_interval = 10,
        .max_interval = 1000,
        .stall = 10,
        .cooldown = 5000,
        .kill_timeout = 5000,
        .table_rows = 10,
        .thrash_full = 50,
        .thrash_refaults = 1 << 20,
        .thrash_window = 1000,
        .thrash_after = 1000,
    };
    char def[32];
    snprintf(def, sizeof(def), "127.0.0.1:%d", AGENT_DEFAULT_PORT);
    c->listen = strdup(def);
    c->event_format = strdup("text");
    c->memory_floor = strdup("5%");
    c->swap_floor = strdup("10%");
    c->headroom = strdup("5%");
    c->band = strdup("0");
    c->new_processes = strdup("auto");
    c->psi = strdup("some 150ms 1s");
}

void agent_config_release(struct agent_config *c)
{
    config_release(&schema, c);
    policy_release(&c->policy);
}

int agent_config_dump(const struct agent_config *c, struct buf *out)
{
    int r = config_dump(&schema, c, out);
    if (r == 0)
        r = policy_dump(&c->policy, out);
    return r;
}

/* Where the option `key` came from, as the start of a message about it: "FILE:LINE: KEY",
 * "--KEY" for a flag, "KEY" for its default. */
static void blame(const struct agent_config *c, const char *key, struct buf *err)
{
    const struct config_option *o = config_find_flag(&schema, key);
    int line = o ? c->line[o - options] : 0;
    if (line > 0)
        buf_printf(err, "%s:%d: %s", c->path, line, key);
    else
        buf_printf(err, "%s%s", line < 0 ? "--" : "", key);
}

static int amount(const struct agent_config *c, const char *key, const char *v,
                  struct guard_amount *ret, struct buf *err)
{
    if (!v || guard_amount_parse(v, ret) < 0) {
        blame(c, key, err);
        buf_printf(err, ": '%s' is not a size (256M) or a percentage (5%%)", v ? v : "");
        return -EINVAL;
    }
    return 0;
}

int agent_config_validate(struct agent_config *c, struct buf *err)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (!c->listen || httpd_parse_listen(c->listen, &ss, &len) < 0) {
        blame(c, "listen", err);
        buf_printf(err, ": '%s' is not ADDRESS:PORT (127.0.0.1:10090, [::1]:10090, :10090)",
                   c->listen ? c->listen : "");
        return -EINVAL;
    }
    if (!c->event_format ||
        (strcmp(c->event_format, "text") != 0 && strcmp(c->event_format, "json") != 0)) {
        blame(c, "event-format", err);
        buf_printf(err, ": '%s' is not text or json", c->event_format ? c->event_format : "");
        return -EINVAL;
    }
    struct guard_opts *g = &c->gopts;
    *g = (struct guard_opts){
        .dry_run = c->guard_dry_run, .fill_rate = c->fill_rate,
        .min_interval_ms = c->min_interval, .max_interval_ms = c->max_interval,
        .psi_cgroups = &c->psi_cgroups, .psi_kill_after_ms = c->psi_kill_after,
        .cgroups = &c->guard_cgroups, .stall_percent = (unsigned)c->stall,
        .cooldown_ms = c->cooldown, .kill_timeout_ms = c->kill_timeout,
        .table_rows = (unsigned)c->table_rows,
        .thrash = c->thrash,
        .thrash_lines = {.full_percent = (unsigned)c->thrash_full,
                         .refault_bytes_s = c->thrash_refaults,
                         .window_ms = c->thrash_window, .after_ms = c->thrash_after},
    };
    if (amount(c, "memory-floor", c->memory_floor, &g->memory_floor, err) < 0 ||
        amount(c, "swap-floor", c->swap_floor, &g->swap_floor, err) < 0 ||
        amount(c, "headroom", c->headroom, &g->headroom, err) < 0 ||
        amount(c, "band", c->band, &g->band, err) < 0)
        return -EINVAL;
    if (g->band.percent >= 100) {
        blame(c, "band", err);
        buf_printf(err, ": %s leaves no room under memory.max for memory.high", c->band);
        return -EINVAL;
    }
    if (!c->new_processes ||
        (strcmp(c->new_processes, "auto") != 0 && strcmp(c->new_processes, "scan") != 0)) {
        blame(c, "new-processes", err);
        buf_printf(err, ": '%s' is not auto or scan", c->new_processes ? c->new_processes : "");
        return -EINVAL;
    }
    if (g->memory_floor.percent >= 100) {
        /* MemAvailable never reaches MemTotal: the floor would always be crossed */
        blame(c, "memory-floor", err);
        buf_printf(err, ": %s can never be met (MemAvailable is always below MemTotal): the guard "
                        "would kill every eligible process, %s", c->memory_floor,
                   c->cooldown ? "one per cooldown" : "one after another (cooldown = 0)");
        return -EINVAL;
    }
    if (c->min_interval > c->max_interval) {
        /* max-interval is at least 100ms and min-interval's default 10ms: min was given */
        blame(c, "min-interval", err);
        buf_printf(err, ": %" PRIu64 "ms is above max-interval (%" PRIu64 "ms)", c->min_interval,
                   c->max_interval);
        return -EINVAL;
    }
    if (c->psi && *c->psi) {
        if (psi_trigger_spec_parse(c->psi, &g->psi) < 0) {
            blame(c, "psi", err);
            buf_printf(err, ": '%s' is not a PSI trigger (some|full STALL WINDOW: "
                            "'some 150ms 1s', 'full 10%% 2s'; window up to 10s)", c->psi);
            return -EINVAL;
        }
        g->has_psi = true;
    } else if (c->psi_kill_after) {
        blame(c, "psi-kill-after", err);
        buf_puts(err, ": needs a psi trigger");
        return -EINVAL;
    }
    c->ropts = (struct reconcile_opts){.scan_interval_ms = c->scan_interval,
                                       .recheck_interval_ms = c->recheck_interval,
                                       .dry_run = c->policy_dry_run,
                                       .proc_connector = strcmp(c->new_processes, "auto") == 0};
    return 0;
}

/* A memory-floor given as a size must be below the machine's memory, for the same reason as a
 * floor of 100%. */
static int floor_fits(const struct sysroot *sr, const struct agent_config *c, struct buf *err)
{
    struct meminfo mi;
    const struct guard_amount *f = &c->gopts.memory_floor;
    if (!c->guard || f->percent || !f->bytes || meminfo_read(sr, &mi) < 0 || !mi.mem_total ||
        f->bytes < mi.mem_total)
        return 0;
    blame(c, "memory-floor", err);
    buf_printf(err, ": %s is not below this machine's MemTotal (%" PRIu64 " MiB): the guard "
                    "would kill every eligible process", c->memory_floor, mi.mem_total >> 20);
    return -EINVAL;
}

int agent_config_load(const struct sysroot *sr, const char *config_path,
                      const struct agent_flag *flags, size_t nflags, struct agent_config *cfg,
                      struct buf *err)
{
    struct buf text = BUF_INIT(CAP_CONFIG);
    int r = config_path ? config_read_file(config_path, &text, err) : 0;
    if (r == 0)
        r = agent_config_parse(sr, config_path, config_path ? buf_cstr(&text) : NULL, text.len,
                               flags, nflags, cfg, err);
    buf_release(&text);
    return r < 0 ? -EINVAL : 0;
}

int agent_config_parse(const struct sysroot *sr, const char *config_path, const char *text,
                       size_t len, const struct agent_flag *flags, size_t nflags,
                       struct agent_config *cfg, struct buf *err)
{
    agent_config_defaults(cfg);
    cfg->path = config_path;
    int r = 0;
    /* the rules are sections of their own: the schema hands them to the policy */
    struct users users;
    if (sr)
        users_init(&users, sr);
    struct policy_loader ld = {.p = &cfg->policy, .users = sr ? &users : NULL};
    struct config_schema with_rules = schema;
    with_rules.other_section = policy_config_section;
    with_rules.ctx = &ld;
    with_rules.lines = cfg->line;
    if (text)
        r = config_load_text(&with_rules, cfg, text, len, config_path, err);
    if (sr)
        users_release(&users);
    if (r == 0) {
        size_t bad;
        struct buf msg = BUF_INIT(4096);
        if (policy_validate(&cfg->policy, &bad, &msg) < 0) {
            buf_printf(err, "%s:%d: %s", config_path, cfg->policy.v[bad].line, buf_cstr(&msg));
            r = -EINVAL;
        }
        buf_release(&msg);
    }
    /* flags after the file: the command line wins; a list flag replaces the file's list */
    for (size_t i = 0; i < nflags && r == 0; i++) {
        const struct config_option *o = config_find_flag(&schema, flags[i].key);
        if (o && (o->type == CONFIG_LIST || o->type == CONFIG_GLOBS)) {
            struct config_list *l = (struct config_list *)((char *)cfg + o->offset);
            bool first = true;
            for (size_t k = 0; k < i; k++)
                if (strcmp(flags[k].key, flags[i].key) == 0)
                    first = false;
            if (first)
                config_list_release(l);
        }
        struct buf msg = BUF_INIT(1024);
        r = config_set(&schema, cfg, flags[i].section, flags[i].key, flags[i].value, &msg);
        if (r < 0)
            buf_printf(err, "--%s", buf_cstr(&msg)); /* the message starts with the key */
        else if (o)
            cfg->line[o - options] = -1;
        buf_release(&msg);
    }
    if (r == 0)
        r = agent_config_validate(cfg, err);
    if (r == 0 && sr)
        r = floor_fits(sr, cfg, err);
    if (r < 0) {
        agent_config_release(cfg);
        return -EINVAL;
    }
    return 0;
}

/* ---- the running agent -------------------------------------------------------------------- */

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
    *ret = (struct metrics_agent){0};
    if (a->guard) {
        for (int r = 0; r < GUARD_REASON_COUNT; r++)
            kills[r] = (struct metrics_labelled){guard_reason_name((enum guard_reason)r),
                                                 guard_kills(a->guard, (enum guard_reason)r)};
        ret->guard_kills = kills;
        ret->n_guard_kills = GUARD_REASON_COUNT;
    }
    if (a->reconcile) {
        struct reconcile_stats st;
        reconcile_get_stats(a->reconcile, &st);
        ret->policy_applied = true;
        ret->policy_done = st.done;
        ret->policy_failed = st.failed;
        ret->scans = st.scans;
        ret->rechecks = st.rechecks;
        ret->last_scan_us = st.last_scan_us;
        ret->last_recheck_us = st.last_recheck_us;
    }
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

int agent_run(const struct sysroot *sr, const char *config_path, const struct agent_flag *flags,
              size_t nflags, struct agent_config *cfg)
{
    struct agent a = {.sr = sr, .cfg = cfg, .config_path = config_path, .flags = flags,
                      .nflags = nflags, .ping_fd = -1, .http_names = PODNAMES_INIT,
                      .loop_names = PODNAMES_INIT};
    buf_init(&a.last, CAP_OUTPUT);
    (void)kver_read(sr, &a.kernel);
    pthread_rwlock_init(&a.cfg_lock, NULL);
    kill_counters_init(&a.kills, cfg->max_kill_series);
    set_metrics_config(&a);
    signal(SIGPIPE, SIG_IGN);

    struct loop *l;
    int r = loop_new(&l);
    if (r < 0)
        goto out;
    a.loop = l;
    (void)loop_add_signal(l, SIGTERM, on_stop, &a);
    (void)loop_add_signal(l, SIGINT, on_stop, &a);
    (void)loop_add_signal(l, SIGHUP, on_reload, &a);
    a.ping_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = a.ping_fd < 0 ? -errno : loop_add_fd(l, a.ping_fd, EPOLLIN, on_ping, &a, NULL);
    if (r < 0) {
        log_error("cannot set up the liveness check: %s", strerror(-r));
        goto out_loop;
    }

    /* the HTTP thread blocks every signal, so they all arrive at this loop */
    int herr = 0;
    /* 5 s to send a request: a scrape sends it at once; a slow client holds a slot no longer */
    struct httpd *h = httpd_start(cfg->listen, (unsigned)cfg->max_connections, 5, on_http, &a,
                                  &herr);
    if (!h) {
        log_error("cannot listen on %s: %s", cfg->listen, strerror(-herr));
        r = herr;
        goto out_loop;
    }
    log_notice("serving http://%s/metrics%s", cfg->listen,
               strncmp(cfg->listen, "127.", 4) == 0 ? " (loopback only)" : "");

    struct oomfollow *follow = NULL;
    if (cfg->kmsg && cgroup_hier_open(sr, &a.hier) == 0) {
        a.hier_open = true;
        a.hier_ok = a.hier.memory_version != 0;
        killobs_init(&a.obs, a.hier.memory_version);
        /* the baseline: kills before we followed the log are not ours to place */
        if (a.hier_ok && killobs_walk(&a.obs, &a.hier, loop_now_ms()) < 0)
            a.hier_ok = false;
    }
    if (cfg->kmsg) {
        struct oomfollow_callbacks cb = {.event = on_oom_event, .lost = on_lost, .ctx = &a};
        int q = oomfollow_start(l, sr, false, &cb, &follow);
        if (q == -EPERM || q == -EACCES)
            log_warn("cannot read %s (%s): OOM kills from the kernel log are not counted; "
                     "oomwarden_node_oom_kills_total still is (kernel.dmesg_restrict=1 needs "
                     "CAP_SYSLOG)", sysroot_path(sr, "/dev/kmsg"), strerror(-q));
        else if (q < 0)
            log_warn("cannot follow %s: %s; OOM kills from the kernel log are not counted",
                     sysroot_path(sr, "/dev/kmsg"), strerror(-q));
        else
            log_notice("following %s", sysroot_path(sr, "/dev/kmsg"));
    }
    /* the guard first: it locks the process's memory before the rest allocates */
    start_guard(&a);
    start_policy(&a);
    r = loop_run(l);
    pthread_rwlock_wrlock(&a.cfg_lock);
    guard_stop(a.guard);
    a.guard = NULL;
    reconcile_stop(a.reconcile);
    a.reconcile = NULL;
    pthread_rwlock_unlock(&a.cfg_lock);
    oomfollow_stop(follow);
    httpd_stop(h);
    killobs_release(&a.obs);
    if (a.hier_open)
        cgroup_hier_close(&a.hier);
out_loop:
    loop_free(l);
    if (a.ping_fd >= 0)
        close(a.ping_fd);
out:
    kill_counters_release(&a.kills);
    pthread_rwlock_destroy(&a.cfg_lock);
    buf_release(&a.last);
    podnames_release(&a.http_names);
    podnames_release(&a.loop_names);
    return r;
}
