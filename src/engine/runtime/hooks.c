#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"

extern char **environ;

struct running {
    pid_t pid;
    struct loop_source *timer;
    struct hooks *h;
};

struct hooks {
    struct loop *loop;
    char *command;
    unsigned max;
    uint64_t timeout_ms;
    struct running *v; /* max slots; pid 0 = free */
    unsigned n;
    struct hooks_stats stats;
};

static int on_sigchld(struct loop *l, int signo, void *ctx);

int hooks_new(struct loop *l, const char *command, unsigned max_running, uint64_t timeout_ms,
              struct hooks **ret)
{
    struct hooks *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->loop = l;
    h->command = strdup(command);
    h->max = max_running ? max_running : 1;
    h->timeout_ms = timeout_ms;
    h->v = calloc(h->max, sizeof(*h->v));
    if (!h->command || !h->v) {
        free(h->command);
        free(h->v);
        free(h);
        return -ENOMEM;
    }
    int r = loop_add_signal(l, SIGCHLD, on_sigchld, h);
    if (r < 0) {
        free(h->command);
        free(h->v);
        free(h);
        return r;
    }
    *ret = h;
    return 0;
}

static void slot_done(struct hooks *h, struct running *s)
{
    if (s->timer)
        loop_remove(h->loop, s->timer);
    s->timer = NULL;
    s->pid = 0;
    h->n--;
}

static int on_sigchld(struct loop *l, int signo, void *ctx)
{
    (void)l;
    (void)signo;
    struct hooks *h = ctx;
    /* only our own children: SIGCHLD coalesces, so check every slot */
    for (unsigned i = 0; i < h->max; i++) {
        struct running *s = &h->v[i];
        if (!s->pid)
            continue;
        int status;
        pid_t p = waitpid(s->pid, &status, WNOHANG);
        if (p != s->pid)
            continue;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            h->stats.failed++;
        slot_done(h, s);
    }
    return 0;
}

static int on_timeout(struct loop *l, void *ctx)
{
    (void)l;
    struct running *s = ctx;
    if (s->pid) {
        s->h->stats.timed_out++;
        /* the hook may have started children of its own: kill its whole group */
        (void)kill(-s->pid, SIGKILL);
    }
    return 0;
}

int hooks_run(struct hooks *h, const char *const *env, const char *json)
{
    if (h->n >= h->max) {
        h->stats.dropped++;
        return -EBUSY;
    }
    struct running *s = NULL;
    for (unsigned i = 0; i < h->max && !s; i++)
        if (!h->v[i].pid)
            s = &h->v[i];

    /* environment: ours plus the event's */
    size_t nenv = 0, nextra = 0;
    while (environ[nenv])
        nenv++;
    while (env && env[nextra])
        nextra++;
    char **envp = calloc(nenv + nextra + 1, sizeof(char *));
    if (!envp)
        return -ENOMEM;
    memcpy(envp, environ, nenv * sizeof(char *));
    for (size_t i = 0; i < nextra; i++)
        envp[nenv + i] = (char *)env[i];

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        free(envp);
        return -errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
    posix_spawnattr_init(&attr);
    /* its own process group (for the timeout kill) and default signal handling: the loop
     * blocks SIGCHLD/SIGTERM in us, and a blocked mask is inherited */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"/bin/sh", "-c", h->command, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    close(pipefd[0]);
    if (r != 0) {
        close(pipefd[1]);
        h->stats.spawn_errors++;
        return -r;
    }
    /* the event is one short line: it fits in the pipe buffer, so this never blocks; a hook
     * that does not read stdin just never sees it */
    (void)fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
    size_t len = strlen(json);
    if (write(pipefd[1], json, len) == (ssize_t)len)
        (void)!write(pipefd[1], "\n", 1);
    close(pipefd[1]);

    *s = (struct running){.pid = pid, .h = h};
    h->n++;
    h->stats.started++;
    if (h->timeout_ms)
        (void)loop_add_timer(h->loop, h->timeout_ms, false, on_timeout, s, &s->timer);
    return 0;
}

const struct hooks_stats *hooks_stats(const struct hooks *h)
{
    return &h->stats;
}

unsigned hooks_running(const struct hooks *h)
{
    return h->n;
}

void hooks_free(struct hooks *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < h->max; i++) {
        struct running *s = &h->v[i];
        if (!s->pid)
            continue;
        (void)kill(-s->pid, SIGKILL);
        (void)waitpid(s->pid, NULL, 0);
        slot_done(h, s);
    }
    free(h->command);
    free(h->v);
    free(h);
}
