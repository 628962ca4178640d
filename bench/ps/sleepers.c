/*
 * Starts N sleeping processes (children of this one) and waits; SIGTERM ends them all.
 * The benchmark's stand-in for a busy node: bench/ps/run uses 5,000.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    /* our own process group: the kill(0, ...) at the end must not reach whoever started us */
    setpgid(0, 0);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            break;
        }
        if (p == 0) {
            /* die with the parent, whatever happens to it */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            signal(SIGTERM, SIG_DFL);
            for (;;)
                pause();
        }
    }
    printf("ready\n");
    fflush(stdout);
    while (!stop)
        pause();
    kill(0, SIGKILL);
    return 0;
}
