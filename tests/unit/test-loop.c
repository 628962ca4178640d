/* The event loop: fds, timers, signals, removal from inside a callback; PSI trigger specs. */
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/loop.h"
#include "engine/psitrig.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_fds_timers_signals),
        cmocka_unit_test(psi_trigger_specs),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
