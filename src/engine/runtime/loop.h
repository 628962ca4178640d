/*
 * The event loop behind `watch` and `agent`: one epoll set, callbacks per fd, timers (timerfd),
 * signals (signalfd, so SIGTERM/SIGINT/SIGCHLD arrive as events, not as interruptions), and no
 * busy polling anywhere.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;

/* `events` is the epoll mask that fired (EPOLLIN, EPOLLPRI, EPOLLERR...). Return <0 to stop the
 * loop with that error, 0 to go on. */
typedef int (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *ctx);
typedef int (*loop_timer_fn)(struct loop *l, void *ctx);
typedef int (*loop_signal_fn)(struct loop *l, int signo, void *ctx);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

/* Watches fd for `events` (EPOLLIN, EPOLLPRI...). The loop does not own the fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx,
                struct loop_source **ret);
/* A repeating timer every `interval_ms` (first expiry after the interval); or one-shot. */
int loop_add_timer(struct loop *l, uint64_t interval_ms, bool repeat, loop_timer_fn fn, void *ctx,
                   struct loop_source **ret);
/* Changes the epoll mask of an fd source (e.g. EPOLLIN while reading, EPOLLOUT while writing;
 * 0 pauses it). */
int loop_fd_events(struct loop *l, struct loop_source *s, uint32_t events);
/* Re-arms a timer (one-shot or repeating) to fire `ms` from now. */
int loop_timer_arm(struct loop_source *s, uint64_t ms);
/* Stops a timer until it is armed again. */
int loop_timer_disarm(struct loop_source *s);
/* Blocks `signo` for the process and delivers it through the loop. */
int loop_add_signal(struct loop *l, int signo, loop_signal_fn fn, void *ctx);
/* Removes and frees a source (safe to call from inside its own callback). */
void loop_remove(struct loop *l, struct loop_source *s);

/* Runs until loop_quit() or a callback error. Returns 0 or that error. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);
