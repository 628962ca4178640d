/*
 * What watch.c and watch-event.c share: the watcher's state and an event as it is built (one JSON
 * object, one line of text, the environment of the --exec hooks). Private to them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "model/cgroup/cgroup.h"
#include "model/log/killobs.h"
#include "model/pressure/psi.h"
#include "model/workload/podnames.h"
#include "watch.h"

struct alert_track;
struct hooks;
struct identity;
struct loop;
struct loop_source;
struct oomfollow;
struct sysroot;

struct watch;

struct trigger {
    int fd;
    struct loop_source *src;
    struct psi_trigger_spec spec;
    const char *target; /* "system" or the cgroup path */
    struct watch *w;
};

struct wcg {
    struct watch *w;
    char *path;
    int dirfd;
    int wd_dir, wd_events; /* inotify watches (-1 when none) */
    int efd, ocfd;         /* v1: eventfd and the memory.oom_control it listens to */
    struct loop_source *efd_src, *flush_timer;
    struct cgroup_events reported; /* counters as last reported */
    uint64_t reported_ms;
    uint64_t v1_ooms; /* v1: OOM notifications received (v1 has no oom counter) */
    bool selected;    /* matches --cgroup: triggers and alerts */
    int psi_dirfd;
    struct trigger *trig;
    size_t ntrig;
    struct alert_track *tracks;
    bool dead;
};

struct watch {
    struct loop *loop;
    const struct sysroot *sr;
    const struct watch_opts *o;
    struct cgroup_hier hier;
    int ifd;
    struct wcg **cgs;
    size_t ncgs, cap;
    struct trigger *sys_trig;
    size_t nsys_trig;
    struct alert_track *sys_tracks;
    struct hooks *hooks;
    struct oomfollow *follow;
    struct killobs obs;    /* the cgroups' oom_kill counters, for kills the kernel did not place */
    struct podnames names; /* the pods' names, read again when the kubelet's layout changes */
    uint64_t nevents;
    bool stdout_gone;
    bool color;
};

#define EV_MAX_ENV 32

struct wevent {
    const char *kind;
    struct json j;
    struct buf json;
    struct buf text;
    char *env[EV_MAX_ENV + 1];
    int nenv;
};

/* Starts an event of `kind` (its time, its kind, in all three forms). */
void wevent_begin(struct wevent *e, const char *kind);
/* OOMWARDEN_<key>=<val> for the hooks; nothing when val is NULL. */
void wevent_env(struct wevent *e, const char *key, const char *val);
/* A string in the JSON and, when `env` is not NULL, the hooks' environment. */
void wevent_str(struct wevent *e, const char *key, const char *env, const char *val);
void wevent_u64(struct wevent *e, const char *key, const char *env, uint64_t v);
/* The environment only; nothing when absent. */
void wevent_i64(struct wevent *e, const char *env, int64_t v);
/* The cgroup's pod and container by name (JSON, environment); the identity for the text. */
void wevent_names(struct watch *w, struct wevent *e, const char *cgroup, struct identity *ret);
/* " (pod shop/api-7b8c6 (burstable) container app)" after a cgroup path, when it is named */
void wevent_text_names(struct wevent *e, const struct identity *id);
void wevent_json_psi(struct json *j, const char *key, const struct psi *p);
/* Writes the event (JSON or text), runs the hooks, frees it; stops the loop at --max-events or
 * when stdout is gone. */
void wevent_emit(struct watch *w, struct wevent *e);
