/* watch's events: one JSON object, one line of text, the environment for the hook. */
#include "watch-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "engine/runtime/hooks.h"
#include "engine/runtime/loop.h"
#include "model/workload/identity.h"

static void iso_time(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

void wevent_env(struct wevent *e, const char *key, const char *val)
{
    if (e->nenv >= EV_MAX_ENV || !val)
        return;
    size_t n = strlen(key) + strlen(val) + 12;
    char *s = malloc(n);
    if (!s)
        return;
    snprintf(s, n, "OOMWARDEN_%s=%s", key, val);
    e->env[e->nenv++] = s;
}

void wevent_begin(struct wevent *e, const char *kind)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    buf_init(&e->json, CAP_OUTPUT);
    buf_init(&e->text, CAP_OUTPUT);
    json_init(&e->j, &e->json, false);
    char t[40];
    iso_time(t, sizeof(t));
    json_obj_begin(&e->j);
    json_kv_str(&e->j, "time", t);
    json_kv_str(&e->j, "event", kind);
    wevent_env(e, "TIME", t);
    wevent_env(e, "EVENT", kind);
    buf_printf(&e->text, "%.19sZ %-13s ", t, kind);
}

void wevent_str(struct wevent *e, const char *key, const char *env, const char *val)
{
    json_kv_str(&e->j, key, val);
    if (env)
        wevent_env(e, env, val);
}

/* The cgroup's pod and container by name (JSON, environment), with the table brought up to date
 * first: a pod is named while the kubelet keeps its layout, so at the event, not later. Returns
 * the identity for the text. */
void wevent_names(struct watch *w, struct wevent *e, const char *cgroup, struct identity *ret)
{
    if (podnames_refresh(w->sr, &w->names) < 0)
        log_debug("out of memory reading the pods' names");
    podnames_identity(&w->names, cgroup ? cgroup : "", ret);
    identity_names_json_fields(ret, &e->j);
    wevent_env(e, "POD_NAMESPACE", ret->pod_namespace[0] ? ret->pod_namespace : NULL);
    wevent_env(e, "POD_NAME", ret->pod_name[0] ? ret->pod_name : NULL);
    wevent_env(e, "CONTAINER_NAME", ret->container_name[0] ? ret->container_name : NULL);
}

/* " (pod shop/api-7b8c6 (burstable) container app)" after a cgroup path, when it is named */
void wevent_text_names(struct wevent *e, const struct identity *id)
{
    if (!id->pod_name[0])
        return;
    char s[IDENTITY_BRIEF_MAX];
    identity_brief(id, s, sizeof(s));
    buf_printf(&e->text, " (%s)", s);
}

void wevent_u64(struct wevent *e, const char *key, const char *env, uint64_t v)
{
    json_kv_u64_opt(&e->j, key, v);
    if (env && opt_has(v)) {
        char s[24];
        snprintf(s, sizeof(s), "%" PRIu64, v);
        wevent_env(e, env, s);
    }
}

void wevent_emit(struct watch *w, struct wevent *e)
{
    json_obj_end(&e->j);
    const struct buf *line = w->o->json ? &e->json : &e->text;
    if (!w->stdout_gone) {
        fwrite(buf_cstr(line), 1, line->len, stdout);
        fputc('\n', stdout);
        if (fflush(stdout) != 0)
            w->stdout_gone = true;
    }
    if (w->hooks) {
        e->env[e->nenv] = NULL;
        int r = hooks_run(w->hooks, (const char *const *)e->env, buf_cstr(&e->json));
        if (r == -EBUSY)
            log_warn("--exec hooks still running for earlier events: not run for this %s event",
                     e->kind);
        else if (r < 0)
            log_warn("cannot run the --exec hook: %s", strerror(-r));
    }
    for (int i = 0; i < e->nenv; i++)
        free(e->env[i]);
    buf_release(&e->json);
    buf_release(&e->text);
    w->nevents++;
    if (w->stdout_gone)
        loop_quit(w->loop, 0);
    if (w->o->max_events && w->nevents >= w->o->max_events)
        loop_quit(w->loop, 0);
}

void wevent_json_psi(struct json *j, const char *key, const struct psi *p)
{
    json_kv_obj_begin(j, key);
    psi_json_fields(p, j);
    json_obj_end(j);
}

void wevent_i64(struct wevent *e, const char *env, int64_t v)
{
    if (v == OPT_ABSENT_I64)
        return;
    char s[24];
    snprintf(s, sizeof(s), "%" PRId64, v);
    wevent_env(e, env, s);
}
