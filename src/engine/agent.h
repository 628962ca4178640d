/*
 * `oomwarden agent`: the long-running process. Today: the Prometheus exporter (collected at
 * scrape time on the HTTP thread) and the kernel-log follower that counts OOM kills (on the
 * event loop). One config file, every option also a flag.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/config.h"

struct sysroot;

/* 10090: outside the 9100-9999 band where every exporter port is taken (Prometheus's port
 * registry is full since 2023), below the kubelet's 10250-10259 and the NodePort range. */
#define AGENT_DEFAULT_PORT 10090

struct agent_config {
    char *listen;
    uint64_t max_connections;
    bool log_events;
    bool kmsg;
    uint64_t cgroup_depth;
    struct config_list include, exclude;
    bool next_victim;
    uint64_t max_kill_series;
};

/* The option table (docs: `oomwarden agent --help`, deploy/oomwarden.conf). */
const struct config_schema *agent_schema(void);
/* Sets every option to its default. */
void agent_config_defaults(struct agent_config *c);
void agent_config_release(struct agent_config *c);
/* Checks values that parse but cannot work (e.g. an unusable listen address). Writes the reason. */
int agent_config_validate(const struct agent_config *c, struct buf *err);

/*
 * Runs until SIGTERM/SIGINT. `config_path` (may be NULL) is re-read on SIGHUP; `flags` are the
 * command-line settings, re-applied over it. Returns 0 or a negative errno.
 */
struct agent_flag {
    const char *section, *key, *value;
};
int agent_run(const struct sysroot *sr, const char *config_path, const struct agent_flag *flags,
              size_t nflags, struct agent_config *cfg);
/* Loads file + flags into `cfg` (defaults first). Returns 0 or -EINVAL with the reason in err. */
int agent_config_load(const char *config_path, const struct agent_flag *flags, size_t nflags,
                      struct agent_config *cfg, struct buf *err);
