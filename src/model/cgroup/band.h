/*
 * The guard band's record: which cgroups' memory.high the agent's guard set, to what, and what
 * it was before (docs/policy.md, "The guard band"). The agent keeps it in
 * <root>/run/oomwarden/guard-band so that a restarted agent (after a crash, or a kill -9) can
 * still put the old values back, and status and doctor read it to say whose memory.high it is.
 *
 * One line per cgroup, the path last so it may hold spaces:
 *
 *     # oomwarden guard band: memory.high SET by the guard, PREVIOUS value, cgroup
 *     64424509 max /work.slice/app.service
 *
 * PREVIOUS is "max" or bytes. A cgroup whose path holds a newline is never banded (it could not
 * be written back).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct sysroot;

/* Where the record lives, relative to the sysroot's root. */
#define BAND_RECORD_DIR "run/oomwarden"
#define BAND_RECORD_PATH "run/oomwarden/guard-band"

struct band_record {
    char *path;        /* the cgroup, as the memory hierarchy names it ("/a/b") */
    uint64_t set;      /* the memory.high the guard wrote (bytes, a multiple of the page size) */
    uint64_t previous; /* what it replaced: bytes, or CGROUP_UNLIMITED for "max" */
};

struct band_records {
    struct band_record *v;
    size_t n, cap;
};

/*
 * Parses the record. Comment and blank lines are skipped; a malformed line (not "SET PREVIOUS
 * /PATH") is -EBADMSG with *bad_line set to its 1-based number, and nothing is returned: a record
 * that cannot be read whole must not be half restored. A later line for a path replaces an
 * earlier one. Returns 0, -EBADMSG or -ENOMEM.
 */
int band_records_parse(const char *buf, size_t len, struct band_records *ret, size_t *bad_line);

/* Reads <root>/run/oomwarden/guard-band: 0 (none when the file is not there), or a negative
 * errno (-EBADMSG: see band_records_parse). */
int band_records_read(const struct sysroot *sr, struct band_records *ret, size_t *bad_line);

/* The record as the file holds it (with its header comment). */
void band_records_format(const struct band_records *r, struct buf *out);

/* The record of `path`, or NULL. */
const struct band_record *band_records_find(const struct band_records *r, const char *path);
/* Sets (adds or replaces) the record of `path`. Returns 0 or -ENOMEM / -EINVAL (a newline in
 * the path). */
int band_records_put(struct band_records *r, const char *path, uint64_t set, uint64_t previous);
/* Drops the record of `path` (nothing when there is none). */
void band_records_drop(struct band_records *r, const char *path);
void band_records_release(struct band_records *r);
