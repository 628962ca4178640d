/*
 * Where /proc and /sys are: "/" on this machine, /host inside a container that mounts the host
 * there, or a fixture tree in tests (--root DIR / OOMWARDEN_ROOT). Every reader takes this
 * instead of a hard-coded path.
 */
#pragma once

#include <stdbool.h>

struct sysroot {
    char *dir;     /* "" for the real root, otherwise the prefix without a trailing '/' */
    int root_fd;   /* dir itself (O_PATH), for /etc and /dev under it */
    int proc_fd;   /* <dir>/proc */
    int sys_fd;    /* <dir>/sys, or -1 when the tree has none */
    long page_size;
    bool live;     /* dir is the real "/": process 1 is this machine's init, names resolve here */
};

/*
 * Opens the root. `dir` NULL means $OOMWARDEN_ROOT or "/". Returns 0, or a negative errno with
 * *ret_failed_path naming the directory that could not be opened (static storage).
 */
int sysroot_open(struct sysroot *sr, const char *dir, const char **ret_failed_path);
void sysroot_close(struct sysroot *sr);

/* Online CPUs of the machine being read (sys/devices/system/cpu/online), at least 1. */
unsigned sysroot_ncpus(const struct sysroot *sr);

/* "<dir><rel>" for messages, e.g. sysroot_path(sr, "/proc/1/stat"). Returns static storage. */
const char *sysroot_path(const struct sysroot *sr, const char *rel);
