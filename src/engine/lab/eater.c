#include "eater.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/sys/fileio.h"
#include "base/sys/clock.h"
#include "scratch.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

const char *eater_kind_name(enum eater_kind k)
{
    switch (k) {
    case EATER_ANON:
        return "anon";
    case EATER_FILE:
        return "file";
    case EATER_MIXED:
        return "mixed";
    }
    return "?";
}

int eater_kind_parse(const char *s, enum eater_kind *ret)
{
    for (enum eater_kind k = EATER_ANON; k <= EATER_MIXED; k++)
        if (strcmp(s, eater_kind_name(k)) == 0) {
            *ret = k;
            return 0;
        }
    return -EINVAL;
}

const char *eater_stage_name(enum eater_stage s)
{
    switch (s) {
    case EATER_STAGE_NONE:
        return "start";
    case EATER_STAGE_SETUP:
        return "setting itself up";
    case EATER_STAGE_ADJ:
        return "setting its oom_score_adj";
    case EATER_STAGE_JOIN:
        return "joining the cgroup";
    case EATER_STAGE_MEMORY:
        return "touching its memory";
    }
    return "?";
}

/* child → parent, once */
struct hello {
    int err; /* 0 or -errno */
    int stage;
    int adj;
    int fell_back;
};

/* ---- the child --------------------------------------------------------------------------- */

static void nap(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int eat_anon(uint64_t bytes, long page)
{
    if (bytes == 0)
        return 0;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    /* a distinct non-zero byte per page: every page is a real, private, resident page */
    for (uint64_t off = 0; off < bytes; off += (uint64_t)page)
        p[off] = (char)(off / (uint64_t)page + 1);
    return 0;
}

/* Reads one byte of each page in [*pos, *pos + bytes) of the mapping, wrapping at `end`. */
static void reread(const volatile char *map, uint64_t end, uint64_t *pos, uint64_t bytes, long page)
{
    if (end == 0)
        return;
    char sum = 0;
    for (uint64_t done = 0; done < bytes; done += (uint64_t)page) {
        if (*pos >= end)
            *pos = 0;
        sum = (char)(sum + map[*pos]);
        *pos += (uint64_t)page;
    }
    (void)sum;
}

static int write_adj(int adj)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", adj);
    return write_string_at(AT_FDCWD, "/proc/self/oom_score_adj", v);
}

static void send_hello(int sock, int err, enum eater_stage stage, int adj, bool fell_back)
{
    struct hello h = {.err = err, .stage = (int)stage, .adj = adj, .fell_back = fell_back};
    (void)!write(sock, &h, sizeof(h));
}

__attribute__((noreturn)) static void
child_main(const struct eater_spec *sp, const struct scratch_cgroup *cg, int sock, pid_t parent)
{
    long page = sysconf(_SC_PAGESIZE);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) {
        send_hello(sock, -ESRCH, EATER_STAGE_SETUP, 0, false);
        _exit(2);
    }
    /* out of the terminal's process group: Ctrl-C is for the lab, which cleans up in order */
    (void)setpgid(0, 0);
    (void)prctl(PR_SET_NAME, sp->comm, 0, 0, 0);

    int adj = sp->adj;
    bool fell_back = false;
    int r = write_adj(adj);
    if (r == -EACCES && sp->adj_fallback != EATER_NO_ADJ) {
        /* lowering below oom_score_adj_min needs CAP_SYS_RESOURCE */
        adj = sp->adj_fallback;
        fell_back = true;
        r = write_adj(adj);
    }
    if (r < 0) {
        send_hello(sock, r, EATER_STAGE_ADJ, adj, fell_back);
        _exit(2);
    }
    if ((r = scratch_join(cg, 0)) < 0) {
        send_hello(sock, r, EATER_STAGE_JOIN, adj, fell_back);
        _exit(2);
    }
    const volatile char *map = NULL;
    if (sp->kind != EATER_ANON && sp->file_fd >= 0 && sp->file_bytes) {
        void *m = mmap(NULL, sp->file_bytes, PROT_READ, MAP_SHARED, sp->file_fd, 0);
        if (m == MAP_FAILED) {
            send_hello(sock, -errno, EATER_STAGE_MEMORY, adj, fell_back);
            _exit(2);
        }
        /* no MADV_RANDOM: with it (one page per fault, no readahead) the same refaults showed
         * a quarter of the stall in PSI (measured on the 6.18 host: ~2% against ~8%) */
        map = m;
    }
    if ((r = eat_anon(sp->start_bytes, page)) < 0) {
        send_hello(sock, r, EATER_STAGE_MEMORY, adj, fell_back);
        _exit(2);
    }
    send_hello(sock, 0, EATER_STAGE_NONE, adj, fell_back);
    char go;
    if (read(sock, &go, 1) != 1)
        _exit(0); /* the lab went away */

    if (sp->rate == 0)
        for (;;)
            pause();

    uint64_t chunk = sp->rate / 50;
    if (chunk < 64 * 1024)
        chunk = 64 * 1024;
    if (chunk > 4 * 1024 * 1024)
        chunk = 4 * 1024 * 1024;
    chunk -= chunk % (uint64_t)page;
    double t0 = clock_mono_s();
    uint64_t grown = 0, pos = 0;
    for (;;) {
        double el = clock_mono_s() - t0;
        uint64_t due = (uint64_t)((double)sp->rate * el);
        if (sp->kind == EATER_FILE) {
            /* the read range grows at the rate, up to the file */
            uint64_t range = due < sp->file_bytes ? due : sp->file_bytes;
            range -= range % (uint64_t)page;
            reread(map, range, &pos, chunk, page);
            continue;
        }
        if (grown < due) {
            if (eat_anon(chunk, page) < 0)
                nap(0.01); /* the address space, not the cgroup: keep trying */
            else
                grown += chunk;
            continue;
        }
        if (sp->kind == EATER_MIXED) {
            /* flat out: while the file fits this costs only CPU; once the anon squeezes it,
             * every pass refaults, and the time goes into waiting for the disk */
            reread(map, sp->file_bytes - sp->file_bytes % (uint64_t)page, &pos, chunk, page);
            continue;
        }
        nap((double)(grown + chunk) / (double)sp->rate - el);
    }
}

/* ---- the parent -------------------------------------------------------------------------- */

int eater_spawn(const struct eater_spec *sp, const struct scratch_cgroup *cg, struct eater *ret)
{
    *ret = (struct eater){.pid = -1, .sock = -1};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int r = -errno;
        close(sv[0]);
        close(sv[1]);
        return r;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(sp, cg, sv[1], parent);
    }
    close(sv[1]);
    ret->pid = pid;
    ret->sock = sv[0];
    ret->adj = sp->adj;
    return 0;
}

int eater_wait_ready(struct eater *e, int timeout_ms, enum eater_stage *ret_stage)
{
    *ret_stage = EATER_STAGE_NONE;
    struct pollfd p = {.fd = e->sock, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ETIMEDOUT;
    struct hello h;
    ssize_t got = read(e->sock, &h, sizeof(h));
    if (got != (ssize_t)sizeof(h))
        return -ECHILD;
    e->adj = h.adj;
    e->adj_fallback = h.fell_back;
    *ret_stage = (enum eater_stage)h.stage;
    return h.err;
}

int eater_go(struct eater *e)
{
    return write(e->sock, "g", 1) == 1 ? 0 : -errno;
}

void eater_close(struct eater *e)
{
    if (e->sock >= 0)
        close(e->sock);
    e->sock = -1;
}

int eater_file_create(const char *dir, uint64_t bytes, int *ret_fd)
{
    struct statfs sf;
    if (statfs(dir, &sf) < 0)
        return -errno;
    if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
        return -EXDEV;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/oomwarden-lab.XXXXXX", dir) >= sizeof(path))
            return -ENAMETOOLONG;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            (void)unlink(path);
    }
    if (fd < 0)
        return -errno;
    enum { CHUNK = 1 << 20 };
    char *b = malloc(CHUNK);
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    for (size_t i = 0; i < CHUNK; i++)
        b[i] = (char)(i * 2654435761u >> 24);
    int r = 0;
    for (uint64_t off = 0; off < bytes && r == 0; off += CHUNK) {
        size_t n = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
        b[0] = (char)(off >> 20); /* not every MiB alike */
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w != (ssize_t)n)
            r = w < 0 ? -errno : -EIO;
    }
    free(b);
    /* written pages are dirty and would stay; synced, they can be dropped: the eater's reads
     * must come from the disk and charge the eater's cgroup, not ours */
    if (r == 0 && fdatasync(fd) < 0)
        r = -errno;
    if (r == 0) {
        int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (e)
            r = -e;
    }
    if (r < 0) {
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}
