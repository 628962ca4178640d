/*
 * `oomwarden agent`: the long-running process, and the composition root that wires the rest
 * together on one event loop: the guard (act/guard: kills before the kernel would; started
 * first, it locks the process's memory), the policy's rules kept true as processes and cgroups
 * come (act/reconcile), the kernel-log follower that counts OOM kills (report/oomfollow), and the
 * HTTP side (runtime/httpd: the Prometheus exporter, collected at scrape time on the HTTP thread,
 * and /healthz). SIGHUP reloads the configuration. One config file, every option also a flag.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "engine/act/guard/guard.h"
#include "engine/act/policy.h"
#include "engine/act/reconcile.h"

struct sysroot;

/* 10090: outside the 9100-9999 band where every exporter port is taken (Prometheus's port
 * registry is full since 2023), below the kubelet's 10250-10259 and the NodePort range. */
#define AGENT_DEFAULT_PORT 10090

#define AGENT_MAX_OPTIONS 48

struct agent_config {
    char *listen;
    uint64_t max_connections;
    bool log_events;
    bool kmsg;
    uint64_t cgroup_depth;
    struct config_list include, exclude;
    bool next_victim;
    uint64_t max_kill_series;
    char *event_format; /* text | json */
    /* [policy] and the [rule NAME] sections */
    bool policy_apply, policy_dry_run;
    uint64_t scan_interval, recheck_interval;
    char *new_processes; /* auto | scan */
    struct policy policy;
    /* [guard] */
    bool guard, guard_dry_run;
    char *memory_floor, *swap_floor, *headroom, *band, *psi;
    uint64_t fill_rate, min_interval, max_interval, psi_kill_after, stall, cooldown,
        kill_timeout, table_rows;
    struct config_list guard_cgroups, psi_cgroups;
    bool thrash;
    uint64_t thrash_full, thrash_refaults, thrash_window, thrash_after;
    /* derived by agent_config_validate() */
    struct guard_opts gopts;
    struct reconcile_opts ropts;
    /* where each option of agent_schema() came from, for messages about values that only fail
     * together: its line in `path`, 0 the default, -1 a flag */
    const char *path;
    int line[AGENT_MAX_OPTIONS];
};

/* The option table (docs: `oomwarden agent --help`, deploy/oomwarden.conf). */
const struct config_schema *agent_schema(void);
/* Sets every option to its default. */
void agent_config_defaults(struct agent_config *c);
void agent_config_release(struct agent_config *c);
/* Checks values that parse but cannot work (e.g. an unusable listen address) and derives the
 * guard's and the reconciler's options. Writes the reason. */
int agent_config_validate(struct agent_config *c, struct buf *err);
/* The effective configuration as INI, rules included (--check-config). */
int agent_config_dump(const struct agent_config *c, struct buf *out);

/*
 * Runs until SIGTERM/SIGINT. `config_path` (may be NULL) is re-read on SIGHUP; `flags` are the
 * command-line settings, re-applied over it. Returns 0 or a negative errno.
 */
struct agent_flag {
    const char *section, *key, *value;
};
int agent_run(const struct sysroot *sr, const char *config_path, const struct agent_flag *flags,
              size_t nflags, struct agent_config *cfg);
/* Loads file + flags into `cfg` (defaults first). User names in rules are resolved through the
 * passwd file of `sr` (the root the rules act on; NULL: only uid numbers). Returns 0 or -EINVAL
 * with the reason in err. */
int agent_config_load(const struct sysroot *sr, const char *config_path,
                      const struct agent_flag *flags, size_t nflags, struct agent_config *cfg,
                      struct buf *err);
/* The same over the text of a config file (len bytes), named `name` in messages; `sr` may be
 * NULL (then only uid numbers), `text` NULL (no file). */
int agent_config_parse(const struct sysroot *sr, const char *name, const char *text, size_t len,
                       const struct agent_flag *flags, size_t nflags, struct agent_config *cfg,
                       struct buf *err);
