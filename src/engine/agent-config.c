/* The agent's configuration: the option table, the defaults, loading a file and the flags over
 * it, and the checks on values that parse but cannot work together. */
#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/limits.h"
#include "engine/runtime/httpd.h"
#include "engine/runtime/psitrig.h"
#include "model/meminfo.h"
#include "model/proc/users.h"
#include "model/sysroot.h"

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
        "thrashing: memory PSI 'full' grew by this % of the window's time (once crossed, half "
        "of it keeps the run going)"),
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
