#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum source_kind { SOURCE_FD, SOURCE_TIMER, SOURCE_SIGNAL };

struct loop_source {
    enum source_kind kind;
    int fd;
    bool owns_fd;
    bool dead; /* removed during dispatch; freed after the batch */
    loop_fd_fn fd_fn;
    loop_timer_fn timer_fn;
    void *ctx;
    uint64_t interval_ms;
    bool repeat;
    struct loop_source *next_dead;
    struct loop_source *prev, *next; /* all live sources, so loop_free() frees what is left */
};

struct signal_handler {
    int signo;
    loop_signal_fn fn;
    void *ctx;
};

struct loop {
    int epfd;
    struct loop_source *all;
    bool quit;
    int code;
    struct loop_source *dead;
    int sigfd;
    sigset_t sigs;
    struct signal_handler handlers[16];
    int nhandlers;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_new(struct loop **ret)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->sigfd = -1;
    sigemptyset(&l->sigs);
    if (l->epfd < 0) {
        int e = -errno;
        free(l);
        return e;
    }
    *ret = l;
    return 0;
}

static void source_free(struct loop_source *s)
{
    if (s->owns_fd && s->fd >= 0)
        close(s->fd);
    free(s);
}

static int add(struct loop *l, int fd, uint32_t events, struct loop_source *s)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    s->next = l->all;
    if (l->all)
        l->all->prev = s;
    l->all = s;
    return 0;
}

static void unlink_source(struct loop *l, struct loop_source *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (l->all == s)
        l->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx,
                struct loop_source **ret)
{
    struct loop_source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    *s = (struct loop_source){.kind = SOURCE_FD, .fd = fd, .fd_fn = fn, .ctx = ctx};
    int r = add(l, fd, events, s);
    if (r < 0) {
        free(s);
        return r;
    }
    if (ret)
        *ret = s;
    return 0;
}

int loop_fd_events(struct loop *l, struct loop_source *s, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

int loop_timer_arm(struct loop_source *s, uint64_t ms)
{
    if (ms == 0)
        ms = 1; /* 0 would disarm */
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000},
    };
    if (s->repeat)
        its.it_interval = (struct timespec){.tv_sec = (time_t)(s->interval_ms / 1000),
                                            .tv_nsec = (long)(s->interval_ms % 1000) * 1000000};
    return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_timer_disarm(struct loop_source *s)
{
    struct itimerspec its = {0};
    return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_timer(struct loop *l, uint64_t interval_ms, bool repeat, loop_timer_fn fn, void *ctx,
                   struct loop_source **ret)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct loop_source *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    *s = (struct loop_source){.kind = SOURCE_TIMER, .fd = fd, .owns_fd = true, .timer_fn = fn,
                              .ctx = ctx, .interval_ms = interval_ms, .repeat = repeat};
    int r = loop_timer_arm(s, interval_ms);
    if (r == 0)
        r = add(l, fd, EPOLLIN, s);
    if (r < 0) {
        source_free(s);
        return r;
    }
    if (ret)
        *ret = s;
    return 0;
}

int loop_add_signal(struct loop *l, int signo, loop_signal_fn fn, void *ctx)
{
    if (l->nhandlers >= (int)(sizeof(l->handlers) / sizeof(l->handlers[0])))
        return -E2BIG;
    sigaddset(&l->sigs, signo);
    if (sigprocmask(SIG_BLOCK, &l->sigs, NULL) < 0)
        return -errno;
    int fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sigfd < 0) {
        l->sigfd = fd;
        struct loop_source *s = calloc(1, sizeof(*s));
        if (!s)
            return -ENOMEM;
        *s = (struct loop_source){.kind = SOURCE_SIGNAL, .fd = fd, .owns_fd = true};
        int r = add(l, fd, EPOLLIN, s);
        if (r < 0) {
            source_free(s);
            l->sigfd = -1;
            return r;
        }
    }
    l->handlers[l->nhandlers++] = (struct signal_handler){signo, fn, ctx};
    return 0;
}

void loop_remove(struct loop *l, struct loop_source *s)
{
    if (!s || s->dead)
        return;
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    unlink_source(l, s);
    s->dead = true;
    s->next_dead = l->dead;
    l->dead = s;
}

static void reap_dead(struct loop *l)
{
    while (l->dead) {
        struct loop_source *s = l->dead;
        l->dead = s->next_dead;
        source_free(s);
    }
}

void loop_quit(struct loop *l, int code)
{
    l->quit = true;
    l->code = code;
}

static int dispatch_signals(struct loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
        for (int i = 0; i < l->nhandlers; i++)
            if (l->handlers[i].signo == (int)si.ssi_signo) {
                int r = l->handlers[i].fn(l, (int)si.ssi_signo, l->handlers[i].ctx);
                if (r < 0)
                    return r;
            }
    }
    return 0;
}

int loop_run(struct loop *l)
{
    struct epoll_event evs[32];
    while (!l->quit) {
        int n = epoll_wait(l->epfd, evs, 32, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n && !l->quit; i++) {
            struct loop_source *s = evs[i].data.ptr;
            if (s->dead)
                continue;
            int r = 0;
            switch (s->kind) {
            case SOURCE_FD:
                r = s->fd_fn(l, s->fd, evs[i].events, s->ctx);
                break;
            case SOURCE_TIMER: {
                uint64_t expirations;
                if (read(s->fd, &expirations, sizeof(expirations)) == sizeof(expirations))
                    r = s->timer_fn(l, s->ctx);
                break;
            }
            case SOURCE_SIGNAL:
                r = dispatch_signals(l);
                break;
            }
            if (r < 0) {
                reap_dead(l);
                return r;
            }
        }
        reap_dead(l);
    }
    return l->code;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    reap_dead(l);
    while (l->all) {
        struct loop_source *s = l->all;
        unlink_source(l, s);
        source_free(s);
    }
    if (l->nhandlers)
        (void)sigprocmask(SIG_UNBLOCK, &l->sigs, NULL);
    close(l->epfd);
    free(l);
}
