/*
 * The guard's list of limited cgroups kept by the kernel's word instead of a walk every
 * CGROUP_REFRESH_MS: inotify on every memory cgroup directory says when a child cgroup is made or
 * removed (IN_CREATE, IN_DELETE of a directory) and when a file in it is written (IN_MODIFY with
 * its name: a write(2) to memory.max or memory.limit_in_bytes notifies the directory's watchers
 * as any file's write does; seen on the 6.18 v1 host). Only those names and the directories mark
 * the list stale; the next check walks the tree again. memory.events and cgroup.events, which
 * the kernel notifies as their counters move, are read past and ignored.
 *
 * A walk that finds directories not yet watched watches them and walks once more: a cgroup made
 * and limited between the walk's read and its watch would otherwise wait for the walk every
 * CGROUP_REFRESH_IDLE_MS, which stays as the fallback (and CGROUP_REFRESH_MS without inotify,
 * or after the kernel's event queue overflowed).
 */
#include "guard-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sys/fileio.h"
#include "engine/runtime/loop.h"

/* the files whose write can change the list or a band: the limits, memory.high (the band
 * follows a user's write), and v2's subtree_control (memory enabled under a cgroup) */
static bool names_limit(const char *name)
{
    static const char *const names[] = {"memory.max", "memory.high", "memory.limit_in_bytes",
                                        "cgroup.subtree_control"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static void on_tree_event(void *ctx, const struct inotify_event *ie)
{
    struct guard *g = ctx;
    if (ie->mask & IN_Q_OVERFLOW) {
        g->tree_stale = true;
        return;
    }
    if (ie->mask & IN_IGNORED) {
        /* the directory is gone (or the watch was dropped): forgotten */
        for (size_t i = 0; i < g->ntree; i++) {
            if (g->tree[i].wd == ie->wd) {
                free(g->tree[i].path);
                g->tree[i] = g->tree[--g->ntree];
                break;
            }
        }
        return;
    }
    if ((ie->mask & (IN_CREATE | IN_DELETE)) && (ie->mask & IN_ISDIR))
        g->tree_stale = true;
    else if ((ie->mask & IN_MODIFY) && ie->len && names_limit(ie->name))
        g->tree_stale = true;
}

static int on_tree(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    struct guard *g = ctx;
    inotify_drain(fd, on_tree_event, g);
    if (g->tree_stale)
        guard_check_soon(g);
    return 0;
}

void guard_tree_open(struct guard *g)
{
    g->tree_ifd = -1;
    if (!g->hier_ok || !g->hier.memory_version)
        return;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log_notice("guard: no inotify for the cgroup tree (%s): it is walked every %d s",
                   strerror(errno), CGROUP_REFRESH_MS / 1000);
        return;
    }
    if (loop_add_fd(g->loop, fd, EPOLLIN, on_tree, g, &g->tree_src) < 0) {
        close(fd);
        return;
    }
    g->tree_ifd = fd;
}

static bool watched(const struct guard *g, const char *path)
{
    for (size_t i = 0; i < g->ntree; i++)
        if (strcmp(g->tree[i].path, path) == 0)
            return true;
    return false;
}

void guard_tree_watch(struct guard *g, const struct cgroup_snapshot *s)
{
    if (g->tree_ifd < 0)
        return;
    bool added = false;
    for (size_t i = 0; i < s->n; i++) {
        const char *path = s->v[i].path;
        if (watched(g, path))
            continue;
        int dfd = cgroup_open_dir(&g->hier, path);
        if (dfd < 0)
            continue;
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", dfd);
        int wd = inotify_add_watch(g->tree_ifd, p, IN_CREATE | IN_DELETE | IN_MODIFY | IN_ONLYDIR);
        int e = errno;
        close(dfd);
        if (wd < 0) {
            /* out of watches (fs.inotify.max_user_watches): the walk stays on the timer */
            log_notice("guard: cannot watch %s (%s): the cgroup tree is walked every %d s",
                       path, strerror(e), CGROUP_REFRESH_MS / 1000);
            guard_tree_close(g);
            return;
        }
        struct gtree_watch *v = realloc(g->tree, (g->ntree + 1) * sizeof(*v));
        char *d = strdup(path);
        if (!v || !d) {
            free(d);
            if (v)
                g->tree = v;
            (void)inotify_rm_watch(g->tree_ifd, wd);
            continue;
        }
        g->tree = v;
        g->tree[g->ntree++] = (struct gtree_watch){.wd = wd, .path = d};
        added = true;
    }
    /* what was made before its watch: one more walk */
    if (added)
        g->tree_stale = true;
}

uint64_t guard_tree_refresh_ms(const struct guard *g)
{
    return g->tree_ifd >= 0 ? CGROUP_REFRESH_IDLE_MS : CGROUP_REFRESH_MS;
}

void guard_tree_close(struct guard *g)
{
    if (g->tree_src)
        loop_remove(g->loop, g->tree_src);
    g->tree_src = NULL;
    if (g->tree_ifd >= 0)
        close(g->tree_ifd);
    g->tree_ifd = -1;
    for (size_t i = 0; i < g->ntree; i++)
        free(g->tree[i].path);
    free(g->tree);
    g->tree = NULL;
    g->ntree = 0;
}
