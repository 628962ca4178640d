#include "procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "base/opt.h"
#include "model/sysroot.h"

void proc_init(struct proc *p, pid_t pid)
{
    *p = (struct proc){
        .pid = pid,
        .ppid = -1,
        .uid = -1,
        .rss_anon = OPT_ABSENT,
        .rss_file = OPT_ABSENT,
        .rss_shmem = OPT_ABSENT,
        .vm_rss = OPT_ABSENT,
        .swap = OPT_ABSENT,
        .pgtables = OPT_ABSENT,
        .vm_lck = OPT_ABSENT,
        .cap_eff = OPT_ABSENT,
        .nthreads = -1,
    };
}

void proc_release(struct proc *p)
{
    free(p->cgroup);
    free(p->cgroup_unified);
    free(p->cmdline);
    p->cgroup = p->cgroup_unified = p->cmdline = NULL;
}

void proc_table_release(struct proc_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        proc_release(&t->v[i]);
    free(t->v);
    *t = (struct proc_table){0};
}

const struct proc *proc_table_find(const struct proc_table *t, pid_t pid)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].pid == pid)
            return &t->v[mid];
        if (t->v[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *proc_cgroup_path(const struct proc *p)
{
    return p->cgroup ? p->cgroup : p->cgroup_unified;
}

const char *proc_memcg_path(const struct proc *p, int memory_version)
{
    return memory_version == 1 ? (p->cgroup_is_v1 ? p->cgroup : NULL) : p->cgroup_unified;
}

uint64_t proc_rss_swap(const struct proc *p)
{
    return (p->has_mm ? proc_rss(p) : 0) + (opt_has(p->swap) ? p->swap : 0);
}

uint64_t proc_rss(const struct proc *p)
{
    if (opt_has(p->rss_anon) && opt_has(p->rss_file) && opt_has(p->rss_shmem))
        return p->rss_anon + p->rss_file + p->rss_shmem;
    if (opt_has(p->vm_rss))
        return p->vm_rss;
    return 0;
}

int proc_stat_parse(const char *buf, size_t len, struct proc *p)
{
    /* "pid (comm) S ppid ..." — comm may hold spaces and ')', so it ends at the LAST ')':
     * every field after it is a number or the one-letter state. */
    const char *open = memchr(buf, '(', len);
    const char *close = NULL;
    for (const char *q = buf + len; q > buf; q--) {
        if (q[-1] == ')') {
            close = q - 1;
            break;
        }
    }
    if (!open || !close || close < open)
        return -EBADMSG;
    size_t clen = (size_t)(close - open - 1);
    if (clen > PROC_COMM_MAX)
        clen = PROC_COMM_MAX;
    memcpy(p->comm, open + 1, clen);
    p->comm[clen] = '\0';

    struct cursor c = cursor_make(close + 1, (size_t)(buf + len - close - 1));
    cursor_skip_blanks(&c);
    if (cursor_eof(&c))
        return -EBADMSG;
    p->state = *c.p++;

    /* fields 4..24 (proc(5) numbering); we need 4 ppid, 9 flags, 20 num_threads, 22 starttime,
     * 24 rss */
    int64_t v[25] = {0};
    for (int field = 4; field <= 24; field++) {
        cursor_skip_blanks(&c);
        if (cursor_i64(&c, &v[field]) < 0)
            return -EBADMSG;
    }
    p->ppid = (pid_t)v[4];
    p->flags = (unsigned long)v[9];
    p->kernel_thread = (p->flags & PF_KTHREAD) != 0;
    p->nthreads = (long)v[20];
    p->start_time = (uint64_t)v[22];
    p->stat_rss_pages = v[24] > 0 ? (uint64_t)v[24] : 0;
    return 0;
}

/* A "Key:\t   123 kB" value in bytes, or OPT_ABSENT. */
static uint64_t status_kb(struct cursor *c)
{
    uint64_t v;
    cursor_skip_blanks(c);
    if (cursor_u64(c, &v) < 0 || v > UINT64_MAX / 1024)
        return OPT_ABSENT;
    return v * 1024;
}

/*
 * One pass over the ~55 lines, dispatching on the key's first byte: this runs for every process
 * of a 5,000-process snapshot, where a generic key table was half of `ps`'s own CPU time.
 */
int proc_status_parse(const char *buf, size_t len, struct proc *p)
{
    uint64_t rss_anon = OPT_ABSENT, rss_file = OPT_ABSENT, rss_shmem = OPT_ABSENT;
    uint64_t vm_rss = OPT_ABSENT, swap = OPT_ABSENT, vm_pte = OPT_ABSENT, vm_pmd = OPT_ABSENT;
    uint64_t vm_lck = OPT_ABSENT;
    bool saw_name = false;
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span key = cursor_until(&line, ':');
        if (key.n == 0)
            continue;
        switch (key.p[0]) {
        case 'N':
            if (span_eq(key, "Name"))
                saw_name = true;
            break;
        case 'U':
            if (span_eq(key, "Uid")) {
                int64_t uid;
                cursor_skip_blanks(&line);
                if (cursor_i64(&line, &uid) == 0)
                    p->uid = uid;
            }
            break;
        case 'C':
            if (span_eq(key, "CapEff")) {
                uint64_t cap;
                cursor_skip_blanks(&line);
                if (cursor_hex_u64(&line, &cap) == 0)
                    p->cap_eff = cap;
            }
            break;
        case 'T':
            if (span_eq(key, "Threads")) {
                uint64_t n;
                cursor_skip_blanks(&line);
                if (cursor_u64(&line, &n) == 0)
                    p->nthreads = (long)n;
            }
            break;
        case 'R':
            if (span_eq(key, "RssAnon"))
                rss_anon = status_kb(&line);
            else if (span_eq(key, "RssFile"))
                rss_file = status_kb(&line);
            else if (span_eq(key, "RssShmem"))
                rss_shmem = status_kb(&line);
            break;
        case 'V':
            if (span_eq(key, "VmRSS"))
                vm_rss = status_kb(&line);
            else if (span_eq(key, "VmSwap"))
                swap = status_kb(&line);
            else if (span_eq(key, "VmPTE"))
                vm_pte = status_kb(&line);
            else if (span_eq(key, "VmPMD"))
                vm_pmd = status_kb(&line);
            else if (span_eq(key, "VmLck"))
                vm_lck = status_kb(&line);
            break;
        default:
            break;
        }
    }
    if (!saw_name)
        return -EBADMSG;
    p->rss_anon = rss_anon;
    p->rss_file = rss_file;
    p->rss_shmem = rss_shmem;
    p->vm_rss = vm_rss;
    p->swap = swap;
    p->vm_lck = vm_lck;
    /* Page tables: VmPTE is mm_pgtables_bytes (all levels) since 4.15; 4.0-4.14 printed the
     * PMD pages separately as VmPMD, and the badness counted nr_ptes + nr_pmds. */
    p->pgtables = opt_has(vm_pte) ? vm_pte + (opt_has(vm_pmd) ? vm_pmd : 0) : OPT_ABSENT;
    /* The memory lines are printed only when the task has an mm (not for zombies/kthreads). */
    p->has_mm = opt_has(vm_rss);
    return 0;
}

int proc_cgroup_parse(const char *buf, size_t len, char **ret_memory_path, char **ret_unified_path,
                      bool *ret_is_v1)
{
    struct span mem = {NULL, 0}, unified = {NULL, 0};
    bool found_mem = false, found_unified = false;
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        if (cursor_eof(&line))
            continue;
        /* "hierarchy-ID:controller-list:cgroup-path"; the path may itself contain ':' */
        struct span id = cursor_until(&line, ':');
        if (id.n == 0 || cursor_eof(&line))
            continue;
        struct span controllers = cursor_until(&line, ':');
        struct span path = cursor_rest(&line);
        if (path.n == 0)
            continue;
        if (span_eq(id, "0") && controllers.n == 0) {
            unified = path;
            found_unified = true;
            continue;
        }
        struct cursor cc = cursor_from_span(controllers);
        while (!cursor_eof(&cc)) {
            struct span ctl = cursor_until(&cc, ',');
            if (span_eq(ctl, "memory")) {
                mem = path;
                found_mem = true;
            }
        }
    }
    if (!found_mem && !found_unified)
        return -EBADMSG;
    char *m = NULL, *u = NULL;
    if (found_unified && !(u = span_strdup(unified)))
        return -ENOMEM;
    if (found_mem)
        m = span_strdup(mem);
    else if (found_unified)
        m = strdup(u);
    if (!m) {
        free(u);
        return -ENOMEM;
    }
    *ret_memory_path = m;
    *ret_unified_path = u;
    *ret_is_v1 = found_mem;
    return 0;
}

/* Where a process's files are opened: its own directory (prefix ""), so that several files come
 * from the one process; or, for one file alone, /proc with "PID/" before the name (the
 * directory's open and close were two of a one-file read's five system calls). */
struct piddir {
    int fd;
    char prefix[16];
};

/* Reads a file of the process; returns -ESRCH style errors unchanged. */
static int read_pid_file(const struct piddir *d, const char *name, struct buf *b)
{
    char path[48];
    if (d->prefix[0])
        snprintf(path, sizeof(path), "%s%s", d->prefix, name);
    /* A task that exited between open and read gives ESRCH (or an empty file). */
    return read_virtual_at(d->fd, d->prefix[0] ? path : name, b);
}

/*
 * The leader of a thread group can exit while its threads go on: it is then a zombie whose
 * status shows no memory, but the kernel's badness uses the mm of any live thread
 * (find_lock_task_mm). Take the counters from the first thread that still has an mm.
 */
static void status_from_live_thread(const struct piddir *pd, struct buf *b, struct proc *p)
{
    _cleanup_close_ int taskfd = openat(pd->fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (taskfd < 0)
        return;
    DIR *d = fdopendir(taskfd);
    if (!d)
        return;
    taskfd = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char path[sizeof(de->d_name) + 8];
        snprintf(path, sizeof(path), "%s/status", de->d_name);
        if (read_virtual_at(dirfd(d), path, b) < 0)
            continue;
        struct proc t;
        proc_init(&t, p->pid);
        if (proc_status_parse(b->data, b->len, &t) == 0 && t.has_mm) {
            /* and the thread's get_mm_rss() from its stat, which the leader's stat shows as 0 */
            snprintf(path, sizeof(path), "%s/stat", de->d_name);
            if (read_virtual_at(dirfd(d), path, b) >= 0 && proc_stat_parse(b->data, b->len, &t) == 0)
                p->stat_rss_pages = t.stat_rss_pages;
            p->rss_anon = t.rss_anon;
            p->rss_file = t.rss_file;
            p->rss_shmem = t.rss_shmem;
            p->vm_rss = t.vm_rss;
            p->swap = t.swap;
            p->pgtables = t.pgtables;
            p->vm_lck = t.vm_lck;
            p->has_mm = true;
            break;
        }
    }
    closedir(d);
}

static int read_adj(const struct piddir *d, struct buf *b, struct proc *p)
{
    int r = read_pid_file(d, "oom_score_adj", b);
    if (r < 0)
        return r;
    struct cursor c = cursor_make(b->data, b->len);
    int64_t adj;
    if (cursor_i64(&c, &adj) < 0 || adj < -1000 || adj > 1000)
        return -EBADMSG;
    p->oom_score_adj = (int)adj;
    p->has_adj = true;
    return 0;
}

static int read_oom(const struct piddir *d, struct buf *b, struct proc *p)
{
    int r = read_adj(d, b, p);
    if (r < 0)
        return r;
    r = read_pid_file(d, "oom_score", b);
    if (r < 0)
        return r;
    struct cursor c = cursor_make(b->data, b->len);
    uint64_t score;
    if (cursor_u64(&c, &score) < 0)
        return -EBADMSG;
    p->oom_score = (long)score;
    p->has_oom = true;
    return 0;
}

/* The command line, for display: p->cmdline stays NULL when it is empty or unreadable. Fails
 * only when the process is gone or memory ran out. */
static int read_cmdline(const struct piddir *d, struct buf *b, struct proc *p)
{
    size_t saved_max = b->max;
    b->max = CAP_CMDLINE;
    int r = read_pid_file(d, "cmdline", b);
    b->max = saved_max;
    if (r < 0) {
        /* an argv over CAP_CMDLINE (-EFBIG) leaves the buffer empty: the process is shown
         * without its command line, like one whose file cannot be read */
        if (ERRNO_IS_GONE(-r))
            return r;
        b->len = 0;
    }
    size_t n = b->len;
    while (n > 0 && b->data[n - 1] == '\0')
        n--;
    if (n == 0)
        return 0;
    p->cmdline = malloc(n + 1);
    if (!p->cmdline)
        return -ENOMEM;
    memcpy(p->cmdline, b->data, n);
    p->cmdline[n] = '\0';
    p->cmdline_len = n;
    return 0;
}

int procs_read_one(const struct sysroot *sr, pid_t pid, unsigned fields, struct buf *b,
                   struct proc *ret)
{
    char name[16];
    snprintf(name, sizeof(name), "%d", (int)pid);
    /* status may send us to a thread's (task/); oom reads two files */
    unsigned files = fields & (PROC_READ_STAT | PROC_READ_ADJ | PROC_READ_CGROUP | PROC_READ_CMDLINE);
    bool one = !(fields & (PROC_READ_STATUS | PROC_READ_OOM)) && files && !(files & (files - 1));
    _cleanup_close_ int piddir = one ? -1 : openat(sr->proc_fd, name, O_RDONLY | O_DIRECTORY |
                                                                        O_CLOEXEC);
    if (!one && piddir < 0)
        return -errno;
    struct piddir d = {.fd = one ? sr->proc_fd : piddir};
    if (one)
        snprintf(d.prefix, sizeof(d.prefix), "%d/", (int)pid);

    struct proc p;
    proc_init(&p, pid);
    int r = 0;

    if (fields & PROC_READ_STAT) {
        r = read_pid_file(&d, "stat", b);
        if (r >= 0)
            r = proc_stat_parse(b->data, b->len, &p);
        if (r < 0)
            goto fail;
        if ((fields & PROC_USER_TASKS_ONLY) && p.kernel_thread) {
            *ret = p;
            return 0;
        }
    }
    if (fields & PROC_READ_STATUS) {
        r = read_pid_file(&d, "status", b);
        if (r >= 0)
            r = proc_status_parse(b->data, b->len, &p);
        if (r < 0)
            goto fail;
        if (!p.has_mm && !p.kernel_thread && p.nthreads > 1)
            status_from_live_thread(&d, b, &p);
    }
    if (fields & (PROC_READ_OOM | PROC_READ_ADJ)) {
        r = fields & PROC_READ_OOM ? read_oom(&d, b, &p) : read_adj(&d, b, &p);
        if (r < 0)
            goto fail;
    }

    if (fields & PROC_READ_CGROUP) {
        r = read_pid_file(&d, "cgroup", b);
        /* kernels without cgroups, or an unreadable file: leave the path unknown */
        if (r >= 0 && b->len > 0)
            (void)proc_cgroup_parse(b->data, b->len, &p.cgroup, &p.cgroup_unified,
                                    &p.cgroup_is_v1);
        else if (r < 0 && ERRNO_IS_GONE(-r))
            goto fail;
        r = 0;
    }
    if ((fields & PROC_READ_CMDLINE) && (r = read_cmdline(&d, b, &p)) < 0)
        goto fail;
    *ret = p;
    return 0;
fail:
    proc_release(&p);
    /* an empty read or garbage from a dying task is the same as it being gone */
    if (r == -EBADMSG && faccessat(sr->proc_fd, name, F_OK, 0) < 0)
        r = -ESRCH;
    return r;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
    return (x > y) - (x < y);
}

static int cmp_pid_t(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static bool parse_pid_name(const char *s, pid_t *ret)
{
    uint64_t v;
    if (s[0] < '1' || s[0] > '9' || parse_u64(s, &v) < 0 || v > 0x7fffffff)
        return false;
    *ret = (pid_t)v;
    return true;
}

int procs_snapshot(const struct sysroot *sr, unsigned fields, struct proc_table *ret)
{
    int dfd = openat(sr->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = -errno;
        close(dfd);
        return e;
    }
    struct proc_table t = {.fields = fields};
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        pid_t pid;
        if (!parse_pid_name(de->d_name, &pid))
            continue;
        if ((r = ARRAY_GROW(t.v, t.n, t.cap, 512)) < 0)
            break;
        int q = procs_read_one(sr, pid, fields, &b, &t.v[t.n]);
        if (q == 0)
            t.n++;
        else if (q == -ENOMEM) {
            r = q;
            break;
        }
        /* anything else: gone, or unreadable by us (hidepid); skip it */
        errno = 0;
    }
    if (r == 0 && errno != 0)
        r = -errno;
    closedir(d);
    buf_release(&b);
    if (r < 0) {
        proc_table_release(&t);
        return r;
    }
    /* readdir order of /proc is by pid already, but a fixture tree or a future kernel need not be */
    qsort(t.v, t.n, sizeof(*t.v), cmp_pid);
    *ret = t;
    return 0;
}

int procs_last_pid(const struct sysroot *sr, uint64_t *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(sr->proc_fd, "loadavg", &b);
    if (r >= 0) {
        struct cursor c = cursor_make(b.data, b.len);
        for (int i = 0; i < 4; i++) {
            cursor_skip_blanks(&c);
            (void)cursor_word(&c);
        }
        cursor_skip_blanks(&c);
        r = cursor_u64(&c, ret) < 0 ? -EBADMSG : 0;
    }
    buf_release(&b);
    return r;
}

int procs_snapshot_pids(const struct sysroot *sr, const pid_t *pids, size_t n, unsigned fields,
                        struct proc_table *ret)
{
    struct proc_table t = {.fields = fields};
    pid_t *sorted = malloc((n ? n : 1) * sizeof(*sorted));
    t.v = malloc((n ? n : 1) * sizeof(*t.v));
    if (!t.v || !sorted) {
        free(sorted);
        free(t.v);
        return -ENOMEM;
    }
    t.cap = n ? n : 1;
    if (n)
        memcpy(sorted, pids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_pid_t);
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (sorted[i] <= 0 || (i && sorted[i] == sorted[i - 1]))
            continue;
        int q = procs_read_one(sr, sorted[i], fields, &b, &t.v[t.n]);
        if (q == 0) {
            t.n++;
        } else if (q == -ENOMEM) {
            r = q;
            break;
        }
    }
    buf_release(&b);
    free(sorted);
    if (r < 0) {
        proc_table_release(&t);
        return r;
    }
    *ret = t;
    return 0;
}

int proc_format_command(const struct proc *p, struct buf *out)
{
    if (p->cmdline_len == 0)
        return buf_printf(out, p->kernel_thread ? "[%s]" : "%s", p->comm);
    for (size_t i = 0; i < p->cmdline_len; i++) {
        char ch = p->cmdline[i];
        int r = buf_putc(out, ch == '\0' ? ' ' : ch);
        if (r < 0)
            return r;
    }
    return 0;
}
