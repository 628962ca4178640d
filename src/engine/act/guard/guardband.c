#include "guardband.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/sys/fileio.h"
#include "base/table.h"
#include "model/cgroup/cgroup.h"
#include "model/sysroot.h"

const char *band_action_name(enum band_action a)
{
    switch (a) {
    case BAND_NOTHING:
        return "nothing";
    case BAND_KEEP:
        return "keep";
    case BAND_SET:
        return "set";
    case BAND_RESTORE:
        return "restore";
    case BAND_FORGET:
        return "forget";
    }
    return "?";
}

uint64_t guard_band_target(uint64_t max, uint64_t band_bytes, long page_size)
{
    if (!band_bytes || !cgroup_limit_set(max) || band_bytes >= max)
        return 0;
    uint64_t page = page_size > 0 ? (uint64_t)page_size : 4096;
    return (max - band_bytes) / page * page;
}

void guard_band_plan(uint64_t max, uint64_t high, const struct band_record *rec,
                     uint64_t band_bytes, long page_size, struct band_step *ret)
{
    uint64_t target = guard_band_target(max, band_bytes, page_size);
    *ret = (struct band_step){.action = BAND_NOTHING};
    if (rec && high != rec->set) {
        /* changed by someone else since: a higher value (systemd re-applying MemoryHigh=max on
         * daemon-reload) gets the band again over it; a lower one is theirs */
        if (target && high > target)
            *ret = (struct band_step){BAND_SET, target, target, high};
        else
            ret->action = BAND_FORGET;
        return;
    }
    if (rec) {
        /* ours: put the old value back when the band is off, or when the limit moved so far up
         * that the old value is now the lower one */
        if (!target || target >= rec->previous)
            *ret = (struct band_step){BAND_RESTORE, rec->previous, 0, 0};
        else if (target != rec->set)
            *ret = (struct band_step){BAND_SET, target, target, rec->previous};
        else
            *ret = (struct band_step){BAND_KEEP, 0, rec->set, rec->previous};
        return;
    }
    if (target && high > target)
        *ret = (struct band_step){BAND_SET, target, target, high};
}

/* ---- the running band ----------------------------------------------------------------------- */

struct guard_band {
    const struct sysroot *sr;
    const struct cgroup_hier *h;
    bool dry_run;
    struct guard_band_sink sink;
    struct band_records rec;
    bool save_warned;
};

/* a limit file of an open cgroup directory (v2: "max" or bytes), without allocation */
static int read_limit_at(int dirfd, const char *name, long page_size, uint64_t *ret)
{
    char b[64];
    int n = read_small_at(dirfd, name, b, sizeof(b));
    if (n < 0)
        return n;
    return cgroup_limit_parse(b, (size_t)n, 2, page_size, ret);
}

static const char *limit_str(char out[FMT_SIZE_LEN], uint64_t v)
{
    if (!cgroup_limit_set(v))
        return strcpy(out, "max");
    return fmt_size(out, v);
}

/*
 * The record on disk: written whole to a temporary file and renamed over, so a crash leaves the
 * old record or the new one, never half of one; removed when nothing is banded.
 */
static void save(struct guard_band *b)
{
    if (b->dry_run)
        return;
    int root = b->sr->root_fd;
    int r = 0;
    if (b->rec.n == 0) {
        if (unlinkat(root, BAND_RECORD_PATH, 0) < 0 && errno != ENOENT)
            r = -errno;
    } else {
        struct buf out = BUF_INIT(CAP_CONFIG);
        band_records_format(&b->rec, &out);
        if (mkdirat(root, BAND_RECORD_DIR, 0755) < 0 && errno != EEXIST)
            r = -errno;
        const char *tmp = BAND_RECORD_PATH ".tmp";
        int fd = r < 0 ? -1 : openat(root, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (r == 0 && fd < 0)
            r = -errno;
        if (fd >= 0) {
            ssize_t w = write(fd, out.data, out.len);
            if (w != (ssize_t)out.len)
                r = w < 0 ? -errno : -EIO;
            if (close(fd) < 0 && r == 0)
                r = -errno;
            if (r == 0 && renameat(root, tmp, root, BAND_RECORD_PATH) < 0)
                r = -errno;
            if (r < 0)
                (void)unlinkat(root, tmp, 0);
        }
        buf_release(&out);
    }
    if (r < 0 && !b->save_warned) {
        b->save_warned = true;
        log_warn("guard: band: cannot record the memory.high values it sets in %s (%s): if the "
                 "agent is killed, they stay (systemd: RuntimeDirectory=oomwarden; Kubernetes: "
                 "mount the host's /run/oomwarden)", sysroot_path(b->sr, "/" BAND_RECORD_PATH),
                 strerror(-r));
    } else if (r == 0) {
        b->save_warned = false;
    }
}

static void emit(struct guard_band *b, const char *path, enum band_action a, uint64_t max,
                 uint64_t before, uint64_t after, uint64_t band_bytes, int err)
{
    char m[FMT_SIZE_LEN], x[FMT_SIZE_LEN], y[FMT_SIZE_LEN], w[FMT_SIZE_LEN];
    struct buf text = BUF_INIT(CAP_OUTPUT), json = BUF_INIT(CAP_OUTPUT);
    struct json j;
    json_init(&j, &json, false);
    json_obj_begin(&j);
    json_kv_str(&j, "event", "guard_band");
    json_kv_str(&j, "action", band_action_name(a));
    json_kv_str(&j, "cgroup", path);
    json_key(&j, "memory_max");
    cgroup_limit_set(max) ? json_u64(&j, max) : json_str(&j, "max");
    json_key(&j, "memory_high_before");
    cgroup_limit_set(before) ? json_u64(&j, before) : json_str(&j, "max");
    json_key(&j, "memory_high_after");
    cgroup_limit_set(after) ? json_u64(&j, after) : json_str(&j, "max");
    json_kv_bool(&j, "dry_run", b->dry_run);
    if (err)
        json_kv_str(&j, "error", strerror(-err));
    json_obj_end(&j);
    buf_puts(&text, "guard: band: ");
    text_sanitize_into(&text, path, strlen(path));
    if (a == BAND_FORGET) {
        buf_printf(&text, ": memory.high is %s now, lower than the band: someone else set it, it "
                          "stays", limit_str(x, before));
    } else {
        buf_printf(&text, ": memory.high %s -> %s%s", limit_str(x, before), limit_str(y, after),
                   b->dry_run ? " (dry run: not written)" : "");
        if (a == BAND_SET)
            buf_printf(&text, " (%s under memory.max %s)", fmt_size(w, band_bytes),
                       limit_str(m, max));
        else
            buf_puts(&text, " (put back)");
        if (err)
            buf_printf(&text, ": the write failed: %s", strerror(-err));
    }
    if (b->sink.event)
        b->sink.event(b->sink.ctx, buf_cstr(&json), buf_cstr(&text));
    buf_release(&text);
    buf_release(&json);
}

static int write_high(int dirfd, uint64_t v)
{
    char s[32];
    if (cgroup_limit_set(v))
        snprintf(s, sizeof(s), "%" PRIu64, v);
    else
        strcpy(s, "max");
    return write_string_at(dirfd, "memory.high", s);
}

/* Carries out one step on an open cgroup directory; the record is saved before a write. */
static void step(struct guard_band *b, const char *path, int dirfd, uint64_t max, uint64_t high,
                 uint64_t band_bytes, const struct band_step *s)
{
    switch (s->action) {
    case BAND_NOTHING:
    case BAND_KEEP:
        return;
    case BAND_FORGET:
        band_records_drop(&b->rec, path);
        save(b);
        emit(b, path, s->action, max, high, high, band_bytes, 0);
        return;
    case BAND_SET: {
        /* recorded first: a crash right after the write must still find it */
        const struct band_record *old = band_records_find(&b->rec, path);
        struct band_record keep = old ? *old : (struct band_record){0};
        if (band_records_put(&b->rec, path, s->set, s->previous) < 0)
            return; /* a path with a newline, or no memory: no band, nothing to undo */
        save(b);
        int r = b->dry_run ? 0 : write_high(dirfd, s->write);
        if (r < 0) {
            if (old)
                (void)band_records_put(&b->rec, path, keep.set, keep.previous);
            else
                band_records_drop(&b->rec, path);
            save(b);
        }
        if (r != -ENOENT)
            emit(b, path, s->action, max, high, s->write, band_bytes, r);
        return;
    }
    case BAND_RESTORE: {
        int r = b->dry_run ? 0 : write_high(dirfd, s->write);
        /* gone with its cgroup, or put back: either way nothing is left to undo */
        band_records_drop(&b->rec, path);
        save(b);
        if (r != -ENOENT && r != -ENODEV)
            emit(b, path, s->action, max, high, s->write, band_bytes, r);
        return;
    }
    }
}

int guard_band_open(const struct sysroot *sr, const struct cgroup_hier *h, bool dry_run,
                    const struct guard_band_sink *sink, struct guard_band **ret)
{
    struct guard_band *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    *b = (struct guard_band){.sr = sr, .h = h, .dry_run = dry_run, .sink = *sink};
    size_t bad;
    /* a dry run takes nothing over: it writes nothing, so it could not put anything back */
    int r = dry_run ? 0 : band_records_read(sr, &b->rec, &bad);
    if (r == -ENOMEM) {
        free(b);
        return r;
    }
    if (r == -EBADMSG)
        log_warn("guard: band: %s:%zu is not a band record; ignored (memory.high values it "
                 "named are not put back)", sysroot_path(sr, "/" BAND_RECORD_PATH), bad);
    else if (r < 0)
        log_warn("guard: band: cannot read %s: %s", sysroot_path(sr, "/" BAND_RECORD_PATH),
                 strerror(-r));
    else if (b->rec.n)
        log_notice("guard: band: %zu cgroup(s) whose memory.high an earlier agent set are taken "
                   "over (%s)", b->rec.n, sysroot_path(sr, "/" BAND_RECORD_PATH));
    *ret = b;
    return 0;
}

void guard_band_sync(struct guard_band *b, const char *path, int dirfd, uint64_t band_bytes)
{
    if (!b || b->h->memory_version != 2)
        return;
    const struct band_record *rec = band_records_find(&b->rec, path);
    if (!band_bytes && !rec)
        return;
    /* dry run: the record is only what was reported; nothing on the cgroup is ours */
    if (b->dry_run && rec) {
        if (!band_bytes) {
            emit(b, path, BAND_RESTORE, CGROUP_UNLIMITED, rec->set, rec->previous, 0, 0);
            band_records_drop(&b->rec, path);
        }
        return;
    }
    uint64_t max, high;
    if (read_limit_at(dirfd, "memory.max", b->h->page_size, &max) < 0 ||
        read_limit_at(dirfd, "memory.high", b->h->page_size, &high) < 0)
        return;
    struct band_step s;
    guard_band_plan(max, high, rec, band_bytes, b->h->page_size, &s);
    step(b, path, dirfd, max, high, band_bytes, &s);
}

void guard_band_sweep(struct guard_band *b, bool (*keep)(void *ctx, const char *path), void *ctx)
{
    if (!b)
        return;
    for (size_t i = b->rec.n; i-- > 0;) {
        if (i >= b->rec.n)
            continue;
        struct band_record *r = &b->rec.v[i];
        if (keep && keep(ctx, r->path))
            continue;
        if (b->dry_run) {
            emit(b, r->path, BAND_RESTORE, CGROUP_UNLIMITED, r->set, r->previous, 0, 0);
            band_records_drop(&b->rec, r->path);
            continue;
        }
        char *path = strdup(r->path);
        if (!path)
            return;
        int dirfd = cgroup_open_dir(b->h, path);
        uint64_t max = CGROUP_UNLIMITED, high;
        if (dirfd < 0 || read_limit_at(dirfd, "memory.high", b->h->page_size, &high) < 0) {
            /* the cgroup is gone, and its memory.high with it */
            band_records_drop(&b->rec, path);
            save(b);
        } else {
            (void)read_limit_at(dirfd, "memory.max", b->h->page_size, &max);
            struct band_step s;
            guard_band_plan(max, high, band_records_find(&b->rec, path), 0, b->h->page_size, &s);
            step(b, path, dirfd, max, high, 0, &s);
        }
        if (dirfd >= 0)
            close(dirfd);
        free(path);
    }
}

bool guard_band_dry_run(const struct guard_band *b)
{
    return b->dry_run;
}

const struct band_record *guard_band_of(const struct guard_band *b, const char *path)
{
    return b ? band_records_find(&b->rec, path) : NULL;
}

void guard_band_close(struct guard_band *b)
{
    if (!b)
        return;
    band_records_release(&b->rec);
    free(b);
}
