/*
 * The floor for `oomwarden cgroup --json`: open and read, once each, exactly the files the walk
 * reads for every v1 memory cgroup under a directory (no parsing, no output), plus the readdir
 * that finds the cgroups. Any tool reporting those numbers costs at least this much; the
 * `find | cat` baseline of the issue also pays for cat's per-file buffer and a dozen more files.
 *
 *   cgroups-floor DIR
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 16];

static const char *const files[] = {
    "memory.stat",
    "memory.usage_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.limit_in_bytes",
    "memory.soft_limit_in_bytes",
    "memory.memsw.usage_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.kmem.usage_in_bytes",
    "memory.swappiness",
    "memory.failcnt",
    "memory.oom_control",
    "cgroup.procs",
    NULL,
};

static void visit(int dir)
{
    for (size_t i = 0; files[i]; i++) {
        int fd = openat(dir, files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        (void)!read(fd, buf, sizeof(buf));
        close(fd);
    }
    int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int sub = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0) {
            visit(sub);
            close(sub);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    int dir =
        open(argc > 1 ? argv[1] : "/sys/fs/cgroup/memory", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return 1;
    visit(dir);
    close(dir);
    return 0;
}
