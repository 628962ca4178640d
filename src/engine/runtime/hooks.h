/*
 * Running a user's hook command per event without ever blocking the event loop: the command is
 * spawned through /bin/sh with the event in environment variables and as one JSON line on stdin;
 * at most `max_running` run at once (more events are counted as dropped, not queued without
 * bound); each gets `timeout_ms` before its process group is killed; exits are reaped through
 * the loop's SIGCHLD.
 */
#pragma once

#include <stdint.h>

struct loop;
struct hooks;

struct hooks_stats {
    uint64_t started, dropped, failed, timed_out, spawn_errors;
};

int hooks_new(struct loop *l, const char *command, unsigned max_running, uint64_t timeout_ms,
              struct hooks **ret);
/*
 * Starts the hook for one event. `env` is a NULL-terminated list of "KEY=VALUE" added to our
 * environment; `json` (one line, no newline needed) goes to its stdin.
 * Returns 0, -EBUSY when max_running hooks are still running (dropped), or -errno.
 */
int hooks_run(struct hooks *h, const char *const *env, const char *json);
const struct hooks_stats *hooks_stats(const struct hooks *h);
unsigned hooks_running(const struct hooks *h);
/* Kills what still runs (SIGKILL to each group), reaps it, frees. */
void hooks_free(struct hooks *h);
