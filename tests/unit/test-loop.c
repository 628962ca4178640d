/* The event loop: fds, timers, signals, removal from inside a callback; PSI trigger specs. */
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/runtime/hooks.h"
#include "engine/runtime/loop.h"
#include "engine/runtime/psitrig.h"

struct state {
    int reads, ticks, signals, oneshots;
    struct loop_source *tick_src;
    int pipe[2];
};

static int on_read(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    struct state *s = ctx;
    assert_true(events & EPOLLIN);
    char c;
    while (read(fd, &c, 1) == 1)
        s->reads++;
    return 0;
}

static int on_tick(struct loop *l, void *ctx)
{
    struct state *s = ctx;
    if (++s->ticks == 3) {
        loop_remove(l, s->tick_src); /* from inside its own callback */
        /* wake the reader, then deliver a signal through the loop */
        assert_int_equal(write(s->pipe[1], "ab", 2), 2);
        raise(SIGUSR1);
    }
    return 0;
}

static int on_signal(struct loop *l, int signo, void *ctx)
{
    struct state *s = ctx;
    assert_int_equal(signo, SIGUSR1);
    s->signals++;
    loop_quit(l, 7);
    return 0;
}

static int on_oneshot(struct loop *l, void *ctx)
{
    (void)l;
    ((struct state *)ctx)->oneshots++;
    return 0;
}

static void runs_fds_timers_signals(void **state)
{
    (void)state;
    struct loop *l;
    struct state s = {0};
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(pipe2(s.pipe, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(loop_add_fd(l, s.pipe[0], EPOLLIN, on_read, &s, NULL), 0);
    assert_int_equal(loop_add_timer(l, 10, true, on_tick, &s, &s.tick_src), 0);
    assert_int_equal(loop_add_timer(l, 5, false, on_oneshot, &s, NULL), 0);
    assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &s), 0);
    uint64_t t0 = loop_now_ms();
    assert_int_equal(loop_run(l), 7);
    uint64_t took = loop_now_ms() - t0;
    assert_int_equal(s.ticks, 3);
    assert_int_equal(s.signals, 1);
    assert_int_equal(s.oneshots, 1);
    assert_true(took >= 30 && took < 2000);
    /* the quit came from the signal in the same batch as the pipe, or before it */
    assert_true(s.reads == 0 || s.reads == 2);
    loop_free(l);
    close(s.pipe[0]);
    close(s.pipe[1]);
    /* SIGUSR1 is unblocked again: default action would kill us, so ignore and raise */
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
}

static void psi_trigger_specs(void **state)
{
    (void)state;
    struct psi_trigger_spec s;
    assert_int_equal(psi_trigger_spec_parse("some 150ms 1s", &s), 0);
    assert_false(s.full);
    assert_int_equal(s.stall_us, 150000);
    assert_int_equal(s.window_us, 1000000);
    assert_int_equal(psi_trigger_spec_parse("full 10% 2s", &s), 0);
    assert_true(s.full);
    assert_int_equal(s.stall_us, 200000);
    assert_int_equal(psi_trigger_spec_parse("some 2s 1s", &s), -ERANGE);
    assert_int_equal(psi_trigger_spec_parse("some 1s 11s", &s), -ERANGE);
    assert_int_equal(psi_trigger_spec_parse("most 1s 2s", &s), -EINVAL);
    assert_int_equal(psi_trigger_spec_parse("some 1s", &s), -EINVAL);
    assert_int_equal(psi_trigger_spec_parse("some 0% 2s", &s), -EINVAL);
    /* unprivileged: the window goes up to a multiple of 2 s, the share of it stays */
    assert_int_equal(psi_trigger_spec_parse("some 150ms 1s", &s), 0);
    psi_trigger_spec_unprivileged(&s);
    assert_int_equal(s.window_us, 2000000);
    assert_int_equal(s.stall_us, 300000);
    assert_int_equal(psi_trigger_spec_parse("full 1s 9s", &s), 0);
    psi_trigger_spec_unprivileged(&s);
    assert_int_equal(s.window_us, 10000000);
    assert_int_equal(s.stall_us, 1111111);
}

struct hook_state {
    struct hooks *h;
    int ticks;
    int phase;
    char dir[64];
};

static int hook_tick(struct loop *l, void *ctx)
{
    struct hook_state *s = ctx;
    s->ticks++;
    char path[128];
    snprintf(path, sizeof(path), "%s/out", s->dir);
    if (s->phase == 0 && access(path, F_OK) == 0 && hooks_running(s->h) == 0) {
        /* second phase: a hook that hangs; the loop must go on ticking and the hook must die */
        const char *env[] = {"OOMWARDEN_EVENT=slow", NULL};
        assert_int_equal(hooks_run(s->h, env, "{}"), 0);
        assert_int_equal(hooks_run(s->h, env, "{}"), -EBUSY); /* max_running = 1 */
        s->phase = 1;
        s->ticks = 0;
    } else if (s->phase == 1 && hooks_running(s->h) == 0) {
        loop_quit(l, 0);
    } else if (s->ticks > 500) {
        loop_quit(l, -ETIMEDOUT);
    }
    return 0;
}

static void hooks_never_block_the_loop(void **state)
{
    (void)state;
    struct loop *l;
    struct hook_state s = {0};
    snprintf(s.dir, sizeof(s.dir), "/tmp/oomwarden-hooks-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    assert_int_equal(loop_new(&l), 0);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "if [ \"$OOMWARDEN_EVENT\" = slow ]; then sleep 30; else "
             "{ echo \"$OOMWARDEN_EVENT $OOMWARDEN_PID\"; cat; } > %s/out.tmp && mv %s/out.tmp %s/out; fi",
             s.dir, s.dir, s.dir);
    assert_int_equal(hooks_new(l, cmd, 1, 300, &s.h), 0);
    const char *env[] = {"OOMWARDEN_EVENT=oom_kill", "OOMWARDEN_PID=4242", NULL};
    assert_int_equal(hooks_run(s.h, env, "{\"event\":\"oom_kill\",\"pid\":4242}"), 0);
    assert_int_equal(loop_add_timer(l, 20, true, hook_tick, &s, NULL), 0);
    uint64_t t0 = loop_now_ms();
    assert_int_equal(loop_run(l), 0);
    uint64_t took = loop_now_ms() - t0;
    /* the slow hook was killed at its 300 ms timeout while the 20 ms timer kept ticking */
    assert_true(took < 5000);
    assert_true(s.ticks >= 10);
    const struct hooks_stats *st = hooks_stats(s.h);
    assert_int_equal(st->started, 2);
    assert_int_equal(st->dropped, 1);
    assert_int_equal(st->timed_out, 1);
    assert_int_equal(st->failed, 1); /* the killed one */
    char path[128], text[256] = {0};
    snprintf(path, sizeof(path), "%s/out", s.dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
    fclose(f);
    assert_string_equal(text, "oom_kill 4242\n{\"event\":\"oom_kill\",\"pid\":4242}\n");
    hooks_free(s.h);
    loop_free(l);
    unlink(path);
    rmdir(s.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_fds_timers_signals),
        cmocka_unit_test(psi_trigger_specs),
        cmocka_unit_test(hooks_never_block_the_loop),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
