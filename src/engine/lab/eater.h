/*
 * oomwarden's own memory eater, for `lab`: a forked child (no exec, so the lab works wherever
 * the binary does, the VM's initramfs included) that joins a scratch cgroup from its first
 * instruction, sets its name and oom_score_adj, touches its starting memory, says it is ready,
 * and on "go" grows at a steady rate until the OOM killer comes:
 *
 *   anon   anonymous memory, one byte written per page (no zero page, no sharing). Without
 *          swap nothing of it can be reclaimed, so the cgroup goes from full to OOM quickly.
 *   file   a file on disk, mapped and read over and over, its read range growing at the rate:
 *          page cache can always be evicted, so this thrashes (refaults, memory PSI) and is
 *          not OOM-killed.
 *   mixed  anon at the rate, plus a file working set re-read continuously: as the anon
 *          squeezes the page cache, the file refaults and the stall shows in PSI before the kill.
 *
 * The child dies with the parent (PR_SET_PDEATHSIG) and leaves the terminal's process group, so
 * a Ctrl-C reaches the lab, which then cleans up in order, and never the eater first.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct scratch_cgroup;

enum eater_kind { EATER_ANON, EATER_FILE, EATER_MIXED };

const char *eater_kind_name(enum eater_kind k);
int eater_kind_parse(const char *s, enum eater_kind *ret);

#define EATER_NO_ADJ (-10000)

struct eater_spec {
    const char *comm;     /* its name (up to 15 bytes) */
    int adj;              /* oom_score_adj to set */
    int adj_fallback;     /* what to set when `adj` is refused (EACCES); EATER_NO_ADJ: fail */
    uint64_t start_bytes; /* anonymous memory touched before it says it is ready */
    uint64_t rate;        /* bytes per second after go; 0 holds still */
    enum eater_kind kind;
    int file_fd; /* file/mixed: an open file on disk, not in the page cache; -1 */
    uint64_t file_bytes;
};

struct eater {
    pid_t pid;
    int sock;          /* the parent's end of the control socket */
    int adj;           /* the oom_score_adj it runs at */
    bool adj_fallback; /* `adj` was refused and the fallback set */
};

/* Where a child failed, for the parent's message. */
enum eater_stage {
    EATER_STAGE_NONE,
    EATER_STAGE_SETUP,
    EATER_STAGE_ADJ,
    EATER_STAGE_JOIN,
    EATER_STAGE_MEMORY
};
const char *eater_stage_name(enum eater_stage s);

/*
 * Forks the eater into `cg`. Signals the parent blocks (the event loop's) are unblocked in the
 * child. Returns 0 or a negative errno (fork's).
 */
int eater_spawn(const struct eater_spec *sp, const struct scratch_cgroup *cg, struct eater *ret);

/*
 * Waits until the child has joined the cgroup and touched its memory. Returns 0; or the child's
 * own error (negative errno) with *ret_stage saying where; -ETIMEDOUT; -ECHILD when it died
 * without a word (killed: an OOM before it was ready, say).
 */
int eater_wait_ready(struct eater *e, int timeout_ms, enum eater_stage *ret_stage);

/* Lets it grow. */
int eater_go(struct eater *e);
void eater_close(struct eater *e);

/*
 * A scratch file for file/mixed: created unlinked in `dir` (O_TMPFILE; mkstemp+unlink where the
 * file system lacks it), `bytes` long, written with data (holes would refault without any I/O),
 * synced and dropped from the page cache, so that the eater's reads charge the eater's cgroup.
 * -EXDEV when `dir` is on tmpfs/ramfs (their pages are shmem: not evictable without swap).
 */
int eater_file_create(const char *dir, uint64_t bytes, int *ret_fd);
