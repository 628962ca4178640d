#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/limits.h"
#include "../base/log.h"
#include "../model/kver.h"
#include "../model/oomlog.h"
#include "../model/sysroot.h"
#include "httpd.h"
#include "loop.h"
#include "metrics.h"
#include "oomfollow.h"

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
    OPT("exporter", "cgroup-depth", CONFIG_UINT, cgroup_depth, 0, 64,
        "export memory cgroups up to this many levels below the root"),
    OPT("exporter", "include", CONFIG_LIST, include, 0, 0,
        "cgroup path globs to export (default: all); the root is always exported"),
    OPT("exporter", "exclude", CONFIG_LIST, exclude, 0, 0, "cgroup path globs not to export"),
    OPT("exporter", "next-victim", CONFIG_BOOL, next_victim, 0, 0,
        "export the next global OOM victim (reads every process per scrape)"),
    OPT("exporter", "max-kill-series", CONFIG_UINT, max_kill_series, 8, 100000,
        "label sets of oomwarden_oom_kills_seen_total before further kills count as \"other\""),
};

static const struct config_schema schema = {options, sizeof(options) / sizeof(options[0]), NULL,
                                            NULL};

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
    };
    char def[32];
    snprintf(def, sizeof(def), "127.0.0.1:%d", AGENT_DEFAULT_PORT);
    c->listen = strdup(def);
}

void agent_config_release(struct agent_config *c)
{
    config_release(&schema, c);
}

int agent_config_validate(const struct agent_config *c, struct buf *err)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (!c->listen || httpd_parse_listen(c->listen, &ss, &len) < 0) {
        buf_printf(err, "listen: '%s' is not ADDRESS:PORT (127.0.0.1:10090, [::1]:10090, "
                        ":10090)", c->listen ? c->listen : "");
        return -EINVAL;
    }
    return 0;
}

int agent_config_load(const char *config_path, const struct agent_flag *flags, size_t nflags,
                      struct agent_config *cfg, struct buf *err)
{
    agent_config_defaults(cfg);
    int r = 0;
    if (config_path)
        r = config_load_file(&schema, cfg, config_path, err);
    /* flags after the file: the command line wins; a list flag replaces the file's list */
    for (size_t i = 0; i < nflags && r == 0; i++) {
        const struct config_option *o = config_find_flag(&schema, flags[i].key);
        if (o && o->type == CONFIG_LIST) {
            struct config_list *l = (struct config_list *)((char *)cfg + o->offset);
            bool first = true;
            for (size_t k = 0; k < i; k++)
                if (strcmp(flags[k].key, flags[i].key) == 0)
                    first = false;
            if (first) {
                for (size_t k = 0; k < l->n; k++)
                    free(l->v[k]);
                l->n = 0;
            }
        }
        struct buf msg = BUF_INIT(1024);
        r = config_set(&schema, cfg, flags[i].section, flags[i].key, flags[i].value, &msg);
        if (r < 0)
            buf_printf(err, "--%s", buf_cstr(&msg)); /* the message starts with the key */
        buf_release(&msg);
    }
    if (r == 0)
        r = agent_config_validate(cfg, err);
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
};

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

static void on_http(void *ctx, const char *path, struct httpd_response *resp)
{
    struct agent *a = ctx;
    if (strcmp(path, "/metrics") == 0) {
        pthread_rwlock_rdlock(&a->cfg_lock);
        uint64_t now = loop_now_ms();
        int r = 0;
        if (!a->last_ms || now - a->last_ms >= SCRAPE_COALESCE_MS) {
            struct metrics_ctx m = {.sr = a->sr, .kernel = &a->kernel, .cfg = &a->mcfg,
                                    .kills = &a->kills};
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
        /* healthy when the machine it watches is readable */
        bool ok = faccessat(a->sr->proc_fd, "meminfo", R_OK, 0) == 0;
        resp->status = ok ? 200 : 503;
        buf_puts(&resp->body, ok ? "ok\n" : "cannot read /proc\n");
    } else if (strcmp(path, "/") == 0) {
        resp->status = 200;
        resp->content_type = "text/html; charset=utf-8";
        buf_puts(&resp->body, landing);
    } else {
        resp->status = 404;
        buf_puts(&resp->body, "not found: try /metrics\n");
    }
}

static void on_oom_event(void *ctx, const struct oom_event *e)
{
    struct agent *a = ctx;
    kill_counters_add(&a->kills, e);
    if (!a->cfg->log_events)
        return;
    const struct oom_victim *v = oom_event_primary(e);
    printf("oom_kill %s: %s%s (pid %lld)%s%s\n", oom_scope_name(e->scope),
           v ? "killed " : "no victim", v ? v->comm : "", v ? (long long)v->pid : -1LL,
           e->task_memcg ? " in " : "", e->task_memcg ? e->task_memcg : "");
    fflush(stdout);
}

static void on_lost(void *ctx, uint64_t n)
{
    (void)ctx;
    log_warn("the kernel log overran: %llu records lost before they were read",
             (unsigned long long)n);
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
    if (agent_config_load(a->config_path, a->flags, a->nflags, fresh, &err) < 0) {
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
    set_metrics_config(a);
    a->last_ms = 0; /* the next scrape uses the new settings */
    pthread_rwlock_unlock(&a->cfg_lock);
    free(fresh);
    log_notice("reloaded %s", a->config_path ? a->config_path : "the command-line settings");
    return 0;
}

int agent_run(const struct sysroot *sr, const char *config_path, const struct agent_flag *flags,
              size_t nflags, struct agent_config *cfg)
{
    struct agent a = {.sr = sr, .cfg = cfg, .config_path = config_path, .flags = flags,
                      .nflags = nflags};
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
    (void)loop_add_signal(l, SIGTERM, on_stop, &a);
    (void)loop_add_signal(l, SIGINT, on_stop, &a);
    (void)loop_add_signal(l, SIGHUP, on_reload, &a);

    /* the HTTP thread starts after the signal mask is set, so it inherits the blocked signals
     * and they all arrive at the loop */
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
    r = loop_run(l);
    oomfollow_stop(follow);
    httpd_stop(h);
out_loop:
    loop_free(l);
out:
    kill_counters_release(&a.kills);
    pthread_rwlock_destroy(&a.cfg_lock);
    buf_release(&a.last);
    return r;
}
