/*
 * The floor for `oomwarden ps`: only open and read the /proc files a view needs, for every
 * process, and nothing else (no parsing, no output). Any tool showing that view costs at least
 * this much; bench/ps/run prints oomwarden's time as a multiple of it.
 *
 *   ps-floor tree     stat, oom_score, oom_score_adj
 *   ps-floor ranked   stat, status, oom_score, oom_score_adj, cgroup, cmdline (+ meminfo once)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 17];

static void slurp(int dir, const char *name)
{
    int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)!read(fd, buf, sizeof(buf));
    close(fd);
}

int main(int argc, char **argv)
{
    static const char *const tree[] = {"stat", "oom_score", "oom_score_adj", NULL};
    static const char *const ranked[] = {"stat",   "status", "oom_score", "oom_score_adj",
                                         "cgroup", "cmdline", NULL};
    const char *const *files = argc > 1 && strcmp(argv[1], "ranked") == 0 ? ranked : tree;
    if (files == ranked) {
        int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
        (void)!read(fd, buf, sizeof(buf));
        close(fd);
    }
    DIR *d = opendir("/proc");
    if (!d)
        return 1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        int pd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pd < 0)
            continue;
        for (const char *const *f = files; *f; f++)
            slurp(pd, *f);
        close(pd);
    }
    closedir(d);
    return 0;
}
