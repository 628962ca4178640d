/*
 * The guard's kill path against the real kernel: pidfd pinning, PID reuse between choice and kill
 * (forced with /proc/sys/kernel/ns_last_pid), process_mrelease, waiting for the exit.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/act/killer.h"
#include "model/sysroot.h"

static struct sysroot sr;

static int setup(void **state)
{
    (void)state;
    return sysroot_open(&sr, "/", NULL);
}

static int teardown(void **state)
{
    (void)state;
    sysroot_close(&sr);
    return 0;
}

static pid_t spawn_sleeper(size_t anon_bytes)
{
    pid_t p = fork();
    if (p == 0) {
        if (anon_bytes) {
            char *m = mmap(NULL, anon_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            for (size_t i = 0; i < anon_bytes; i += 4096)
                m[i] = 1;
        }
        for (;;)
            pause();
    }
    return p;
}

static void kills_the_chosen_one(void **state)
{
    (void)state;
    pid_t p = spawn_sleeper(64 << 20);
    usleep(200000);
    uint64_t st;
    assert_int_equal(killer_start_time(&sr, p, &st), 0);
    struct kill_target t;
    assert_int_equal(killer_open(&sr, p, st, &t), 0);
    assert_int_equal(killer_wait(&t, 0), 0); /* alive */
    assert_int_equal(killer_signal(&t, SIGKILL), 0);
    int r = killer_release_memory(&t);
    /* 0: reaped now; -ESRCH/-EINVAL: the exit path got there first */
    assert_true(r == 0 || r == -ESRCH || r == -EINVAL || r == -ENOSYS);
    assert_int_equal(killer_wait(&t, 5000), 1);
    int status;
    assert_int_equal(waitpid(p, &status, 0), p);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* after the exit the pidfd signals nothing */
    assert_int_equal(killer_signal(&t, SIGKILL), -ESRCH);
    killer_close(&t);
}

static void refuses_init_and_strangers(void **state)
{
    (void)state;
    struct kill_target t;
    assert_int_equal(killer_open(&sr, 1, 0, &t), -EPERM);
    assert_int_equal(killer_open(&sr, 0, 0, &t), -EPERM);
    pid_t p = spawn_sleeper(0);
    uint64_t st;
    assert_int_equal(killer_start_time(&sr, p, &st), 0);
    /* a different start time: not the process that was chosen */
    assert_int_equal(killer_open(&sr, p, st + 1, &t), -ESRCH);
    assert_int_equal(kill(p, 0), 0);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    assert_int_equal(killer_open(&sr, p, st, &t), -ESRCH);
}

/* Forks until a child gets `want` as its PID (ns_last_pid = want - 1). 0 when another process
 * got it first: on a busy machine something forks between our write and our fork, and the PID
 * is then in use for as long as that process lives, so further forks cannot get it. */
static pid_t spawn_with_pid(pid_t want)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        if (kill(want, 0) == 0 || errno != ESRCH)
            return 0;
        int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        char s[16];
        int n = snprintf(s, sizeof(s), "%d", (int)want - 1);
        ssize_t w = write(fd, s, (size_t)n);
        close(fd);
        if (w < 0)
            return -1;
        pid_t p = spawn_sleeper(0);
        if (p == want)
            return p;
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
    }
    return 0;
}

/* Kills and reaps `p`, then gets its PID for a new child (0: another process took it). */
static pid_t reuse_pid_of(pid_t p)
{
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    usleep(20000); /* a new process in the same clock tick would have the same start time */
    return spawn_with_pid(p);
}

/* Fresh PIDs to try when another process takes the one we wanted (each try is independent). */
#define PID_REUSE_TRIES 20

static void pid_reuse_between_choice_and_kill(void **state)
{
    (void)state;
    if (access("/proc/sys/kernel/ns_last_pid", W_OK) != 0) {
        print_message("# SKIP needs CAP_SYS_ADMIN to set ns_last_pid\n");
        skip();
    }
    /* 1. chosen, then gone, then its PID handed to an innocent process before we open it */
    pid_t victim = 0, innocent = 0;
    uint64_t st = 0;
    for (int i = 0; i < PID_REUSE_TRIES && innocent <= 0; i++) {
        victim = spawn_sleeper(0);
        assert_int_equal(killer_start_time(&sr, victim, &st), 0);
        innocent = reuse_pid_of(victim);
    }
    if (innocent <= 0) {
        print_message("# SKIP could not get a PID reused in %d tries\n", PID_REUSE_TRIES);
        skip();
    }
    struct kill_target t;
    assert_int_equal(killer_open(&sr, victim, st, &t), -ESRCH);
    assert_int_equal(kill(innocent, 0), 0); /* untouched */

    /* 2. opened while it was ours; it exits and the PID is reused before the signal */
    pid_t opened = innocent, second = 0;
    for (int i = 0; i < PID_REUSE_TRIES && second <= 0; i++) {
        if (i > 0)
            opened = spawn_sleeper(0);
        uint64_t st2;
        assert_int_equal(killer_start_time(&sr, opened, &st2), 0);
        assert_int_equal(killer_open(&sr, opened, st2, &t), 0);
        second = reuse_pid_of(opened);
        if (second <= 0)
            killer_close(&t);
    }
    if (second <= 0) {
        print_message("# SKIP could not get a PID reused in %d tries\n", PID_REUSE_TRIES);
        skip();
    }
    assert_int_equal(killer_signal(&t, SIGKILL), -ESRCH);
    assert_int_equal(kill(second, 0), 0); /* the newcomer lives */
    killer_close(&t);
    kill(second, SIGKILL);
    waitpid(second, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kills_the_chosen_one),
        cmocka_unit_test(refuses_init_and_strangers),
        cmocka_unit_test(pid_reuse_between_choice_and_kill),
    };
    return cmocka_run_group_tests_name("killer", tests, setup, teardown);
}
