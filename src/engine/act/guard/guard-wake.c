/*
 * The guard woken by the kernel for its cgroups, instead of polling them while they are far from
 * their limit.
 *
 * cgroup v2: memory.events is notified when its counters move (memcg_memory_event() ->
 * cgroup_file_notify(), at most once per 10 ms per file: kernel/cgroup/cgroup.c
 * CGROUP_FILE_NOTIFY_MIN_INTV), and `high` moves at each charge past memory.high. So a cgroup
 * with a memory.high under its limit (the guard's band, or the user's) wakes the guard the moment
 * its usage crosses it; inotify IN_MODIFY on the file delivers it. Without a memory.high, the
 * first event is `max` at the limit itself: too late to replace the adaptive poll, which stays.
 *
 * cgroup v1: a usage threshold (cgroup.event_control: "<eventfd> <fd of memory.usage_in_bytes>
 * <bytes>", 6.1 mm/memcontrol.c mem_cgroup_usage_register_event) signals the eventfd whenever
 * usage crosses it, up or down; it is put at the line where the guard starts to rank ahead
 * (twice the headroom under the limit). Closing the eventfd unregisters it.
 *
 * Below its line a cgroup needs no poll (the timer still comes every max-interval); at or above
 * it the adaptive poll runs as before.
 */
#include "guard-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sys/fileio.h"
#include "engine/runtime/loop.h"

static void on_inotify_event(void *ctx, const struct inotify_event *ie)
{
    (void)ctx;
    (void)ie;
}

static int on_inotify(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    /* which cgroup does not matter: one look at all of them costs little more than at one */
    inotify_drain(fd, on_inotify_event, NULL);
    guard_check_soon(ctx);
    return 0;
}

static int on_threshold(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    uint64_t n;
    while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
        ;
    /* a crossing either way: rare, unlike memory.events past memory.high */
    log_debug("guard: woken: a cgroup's usage crossed its threshold");
    guard_check_soon(ctx);
    return 0;
}

int guard_wake_open(struct guard *g)
{
    g->wake_ifd = -1;
    if (!g->hier_ok || g->hier.memory_version != 2)
        return 0;
    g->wake_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (g->wake_ifd < 0) {
        int r = -errno;
        log_notice("guard: no inotify (%s): its cgroups are polled", strerror(-r));
        return 0;
    }
    int r = loop_add_fd(g->loop, g->wake_ifd, EPOLLIN, on_inotify, g, &g->wake_src);
    if (r < 0) {
        close(g->wake_ifd);
        g->wake_ifd = -1;
    }
    return r;
}

void guard_wake_close(struct guard *g)
{
    if (g->wake_src)
        loop_remove(g->loop, g->wake_src);
    g->wake_src = NULL;
    if (g->wake_ifd >= 0)
        close(g->wake_ifd);
    g->wake_ifd = -1;
}

void guard_wake_unwatch(struct guard *g, struct gcg *c)
{
    if (c->wake_wd >= 0 && g->wake_ifd >= 0)
        (void)inotify_rm_watch(g->wake_ifd, c->wake_wd);
    c->wake_wd = -1;
    if (c->wake_src)
        loop_remove(g->loop, c->wake_src);
    c->wake_src = NULL;
    /* the kernel drops the threshold with its eventfd */
    if (c->wake_efd >= 0)
        close(c->wake_efd);
    c->wake_efd = -1;
    c->wake_line = 0;
}

/* v2: the cgroup's memory.high when it is under its limit (the line whose crossing is notified) */
static void watch_v2(struct guard *g, struct gcg *c)
{
    char b[64];
    uint64_t high = CGROUP_UNLIMITED;
    int n = read_small_at(c->dirfd, "memory.high", b, sizeof(b));
    if (n <= 0 || cgroup_limit_parse(b, (size_t)n, 2, g->hier.page_size, &high) < 0 ||
        !cgroup_limit_set(high) || high >= c->max) {
        c->wake_line = 0;
        c->wake_why = "no memory.high under its limit: the kernel's first event would be the "
                      "limit itself";
        return;
    }
    if (g->wake_ifd < 0) {
        c->wake_line = 0;
        c->wake_why = "no inotify";
        return;
    }
    if (c->wake_wd < 0) {
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d/memory.events", c->dirfd);
        c->wake_wd = inotify_add_watch(g->wake_ifd, p, IN_MODIFY);
        if (c->wake_wd < 0) {
            c->wake_line = 0;
            c->wake_why = "memory.events cannot be watched";
            return;
        }
    }
    c->wake_line = high;
    c->wake_why = NULL;
}

/* v1: a usage threshold at twice the headroom under the limit */
static void watch_v1(struct guard *g, struct gcg *c)
{
    uint64_t room = guard_amount_of(&g->o->headroom, c->max);
    uint64_t line = c->max > 2 * room ? c->max - 2 * room : 0;
    if (c->wake_efd >= 0 && c->wake_line == line)
        return;
    guard_wake_unwatch(g, c);
    if (!line) {
        c->wake_why = "headroom as large as the limit";
        return;
    }
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int ufd = openat(c->dirfd, "memory.usage_in_bytes", O_RDONLY | O_CLOEXEC);
    int r = efd < 0 || ufd < 0 ? -errno : 0;
    if (r == 0) {
        char s[96];
        snprintf(s, sizeof(s), "%d %d %" PRIu64, efd, ufd, line);
        r = write_string_at(c->dirfd, "cgroup.event_control", s);
    }
    if (ufd >= 0)
        close(ufd);
    if (r == 0)
        r = loop_add_fd(g->loop, efd, EPOLLIN, on_threshold, g, &c->wake_src);
    if (r < 0) {
        if (efd >= 0)
            close(efd);
        c->wake_why = "cgroup.event_control refused the usage threshold";
        log_debug("guard: %s: no usage threshold: %s", c->path, strerror(-r));
        return;
    }
    c->wake_efd = efd;
    c->wake_line = line;
    c->wake_why = NULL;
}

void guard_wake_watch(struct guard *g, struct gcg *c)
{
    if (g->hier.memory_version == 2)
        watch_v2(g, c);
    else
        watch_v1(g, c);
}

bool guard_wake_covers(const struct gcg *c, const struct guard_look *l)
{
    return c->wake_line && l->usage < c->wake_line && !c->armed;
}

void guard_wake_summary(struct guard *g)
{
    size_t woken = 0, polled = 0;
    const char *why = NULL;
    for (size_t i = 0; i < g->ncgs; i++) {
        if (g->cgs[i].wake_line) {
            woken++;
        } else {
            polled++;
            why = why ? why : g->cgs[i].wake_why;
        }
    }
    size_t *was = g->wake_logged;
    if (woken == was[0] && polled == was[1])
        return;
    /* a notice when the kind of wake-up changes (the first cgroup polled, the last one woken...),
     * else the counts at debug: pods come and go on a node */
    bool kind = (woken > 0) != (was[0] > 0) || (polled > 0) != (was[1] > 0);
    was[0] = woken;
    was[1] = polled;
    log_msg(kind ? LOG_NOTICE : LOG_DEBUG,
            "guard: %zu cgroup(s) wake the guard by the kernel's events (%s), %zu polled%s%s",
            woken, g->hier.memory_version == 2 ? "memory.events past memory.high"
                                               : "a usage threshold, cgroup.event_control",
            polled, polled && why ? ": " : "", polled && why ? why : "");
}
