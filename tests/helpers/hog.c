/*
 * hog: a memory eater for the live tests, the VM scenarios and the benchmarks.
 *
 *   hog [--name COMM] [--adj N] [--anon MB] [--map-file PATH --map-mb MB] [--cache PATH]
 *       [--grow MB_PER_S | --grow-fast] [--grow-to MB] [--chunk MB] [--ready FILE] [--go FILE]
 *       [--grown FILE] [--hold] [--rewalk] [--exit]
 *
 * It sets its own comm and oom_score_adj first (so the kernel scores it as asked from the first
 * page), touches --anon MB of anonymous memory, maps and touches --map-mb of a file (RssFile),
 * reads --cache through the page cache (charged to its cgroup, not mapped), writes its pid to
 * --ready, then either grows without bound (--grow/--grow-fast, until the OOM killer comes) or
 * sleeps until killed. --grow-to stops growing once its anonymous memory reaches MB (then sleeps),
 * so a push over a limit ends in one OOM kill, not a cascade; --grown FILE gets its pid then (a
 * throttled grower's end is otherwise invisible from outside). --exit returns instead of sleeping.
 * --rewalk reads the mapped file over and over instead of sleeping (memory pressure on demand).
 * Two ways to hold it after --ready, before it grows, so a test can look at the idle process
 * first: --go FILE waits until FILE exists (for scripts without job control, as in the VM),
 * --hold waits for SIGUSR1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "hog: %s: %s\n", what, strerror(errno));
    exit(2);
}

static long page;

static void touch(char *p, size_t len)
{
    for (size_t off = 0; off < len; off += (size_t)page)
        p[off] = (char)(off / (size_t)page + 1);
}

static char *eat_anon(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap anon");
    touch(p, bytes);
    return p;
}

static char *mapped;
static size_t mapped_len;

static void map_file(const char *path, size_t bytes)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open map file");
    if (ftruncate(fd, (off_t)bytes) < 0)
        die("ftruncate");
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap file");
    touch(p, bytes);
    close(fd);
    mapped = p;
    mapped_len = bytes;
}

/* Reads every page of the mapping, forever: with anon memory near the cgroup's limit the file
 * pages are reclaimed and faulted back in, which is what makes memory pressure (PSI) rise. */
static void rewalk(void)
{
    volatile char sink = 0;
    for (;;)
        for (size_t off = 0; off < mapped_len; off += (size_t)page)
            sink = (char)(sink + mapped[off]);
}

static void read_cache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("open cache file");
    static char buf[1 << 16];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

static void write_ready(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        die("ready file");
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    if (rename(tmp, path) < 0)
        die("rename ready file");
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void wait_for_file(const char *path)
{
    struct stat st;
    while (stat(path, &st) < 0)
        sleep_s(0.01);
}

static unsigned long arg_mb(const char *s)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s) {
        fprintf(stderr, "hog: bad number '%s'\n", s);
        exit(64);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *name = NULL, *map_path = NULL, *cache = NULL, *ready = NULL, *adj = NULL;
    const char *go = NULL, *grown = NULL;
    unsigned long anon_mb = 0, map_mb = 0, chunk_mb = 4, grow_to = 0;
    double grow = 0;
    int fast = 0, exit_after = 0, hold = 0, walk = 0;
    page = sysconf(_SC_PAGESIZE);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(flag) (strcmp(a, flag) == 0 && v && ++i)
        if (ARG("--name"))
            name = v;
        else if (ARG("--adj"))
            adj = v;
        else if (ARG("--anon"))
            anon_mb = arg_mb(v);
        else if (ARG("--map-file"))
            map_path = v;
        else if (ARG("--map-mb"))
            map_mb = arg_mb(v);
        else if (ARG("--cache"))
            cache = v;
        else if (ARG("--grow"))
            grow = (double)arg_mb(v);
        else if (ARG("--grow-to"))
            grow_to = arg_mb(v);
        else if (ARG("--chunk"))
            chunk_mb = arg_mb(v);
        else if (ARG("--ready"))
            ready = v;
        else if (ARG("--go"))
            go = v;
        else if (ARG("--grown"))
            grown = v;
        else if (strcmp(a, "--grow-fast") == 0)
            fast = 1;
        else if (strcmp(a, "--exit") == 0)
            exit_after = 1;
        else if (strcmp(a, "--rewalk") == 0)
            walk = 1;
        else if (strcmp(a, "--hold") == 0)
            hold = 1;
        else {
            fprintf(stderr, "hog: unknown or incomplete argument '%s'\n", a);
            return 64;
        }
#undef ARG
    }
    if (name && prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
        die("PR_SET_NAME");
    if (adj) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, adj, strlen(adj)) < 0)
            die("oom_score_adj");
        close(fd);
    }
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (hold)
        sigprocmask(SIG_BLOCK, &usr1, NULL);
    (void)eat_anon(anon_mb << 20);
    if (map_path && map_mb)
        map_file(map_path, map_mb << 20);
    if (cache)
        read_cache(cache);
    if (ready)
        write_ready(ready);
    if (go)
        wait_for_file(go);
    if (hold) {
        int sig;
        sigwait(&usr1, &sig);
    }
    if (fast || grow > 0) {
        size_t chunk = chunk_mb << 20;
        unsigned long total = anon_mb;
        while (!grow_to || total < grow_to) {
            (void)eat_anon(chunk);
            total += chunk_mb;
            if (!fast)
                sleep_s((double)chunk_mb / grow);
        }
        if (grown)
            write_ready(grown);
    }
    if (walk && mapped)
        rewalk();
    if (exit_after)
        return 0;
    for (;;)
        pause();
}
