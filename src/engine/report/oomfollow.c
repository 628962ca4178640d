#include "oomfollow.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/log/kmsg.h"
#include "model/log/oomlog.h"
#include "model/sysroot.h"
#include "engine/runtime/loop.h"

struct oomfollow {
    struct loop *loop;
    struct kmsg_reader rd;
    struct oomlog log;
    struct loop_source *src, *settle;
    struct oomfollow_callbacks cb;
    uint64_t lost_reported;
};

/* Hands over every event the parser holds, then starts afresh. */
static void flush(struct oomfollow *f)
{
    (void)oomlog_end_source(&f->log);
    /* watch and the agent's counters follow the kernel's kills: a userspace killer's (which
     * /dev/kmsg does not carry; a saved copy under --root might) is no OOM kill of theirs */
    for (size_t i = 0; i < f->log.nevents; i++)
        if (!oom_event_userspace_kill(&f->log.events[i]))
            f->cb.event(f->cb.ctx, &f->log.events[i]);
    oomlog_release(&f->log);
    oomlog_init(&f->log);
}

static int on_settle(struct loop *l, void *ctx)
{
    (void)l;
    flush(ctx);
    return 0;
}

static int on_kmsg(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)fd;
    (void)events;
    struct oomfollow *f = ctx;
    size_t before = f->log.nevents;
    bool open_before = f->log.open;
    struct kmsg_record rec;
    int r;
    /* bounded per wakeup so one burst cannot starve the other sources */
    for (int n = 0; n < 4096 && (r = kmsg_reader_next(&f->rd, &rec)) > 0; n++)
        (void)oomlog_feed_kmsg(&f->log, &rec);
    if (f->rd.lost > f->lost_reported) {
        if (f->cb.lost)
            f->cb.lost(f->cb.ctx, f->rd.lost - f->lost_reported);
        f->lost_reported = f->rd.lost;
    }
    /* a report is still being written, or a new one began: wait for the log to go quiet */
    if (f->log.nevents != before || f->log.open || open_before)
        if (f->log.nevents)
            loop_timer_arm(f->settle, OOMFOLLOW_SETTLE_MS);
    return 0;
}

int oomfollow_start(struct loop *l, const struct sysroot *sr, bool from_start,
                    const struct oomfollow_callbacks *cb, struct oomfollow **ret)
{
    struct oomfollow *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->loop = l;
    f->cb = *cb;
    oomlog_init(&f->log);
    int r = kmsg_reader_open_at(&f->rd, sr->root_fd, "dev/kmsg");
    if (r < 0) {
        oomlog_release(&f->log);
        free(f);
        return r;
    }
    struct stat st;
    if (fstat(f->rd.fd, &st) == 0 && !S_ISCHR(st.st_mode)) {
        kmsg_reader_close(&f->rd);
        oomlog_release(&f->log);
        free(f);
        return -ENOTTY;
    }
    /* SEEK_END: only what happens from now on (dev-kmsg ABI: offsets must be 0) */
    if (!from_start)
        (void)lseek(f->rd.fd, 0, SEEK_END);
    r = loop_add_timer(l, OOMFOLLOW_SETTLE_MS, false, on_settle, f, &f->settle);
    if (r == 0) {
        /* created armed; idle until a report arrives */
        loop_timer_disarm(f->settle);
        r = loop_add_fd(l, f->rd.fd, EPOLLIN, on_kmsg, f, &f->src);
    }
    if (r < 0) {
        if (f->settle)
            loop_remove(l, f->settle);
        kmsg_reader_close(&f->rd);
        oomlog_release(&f->log);
        free(f);
        return r;
    }
    if (from_start)
        (void)on_kmsg(l, f->rd.fd, EPOLLIN, f);
    *ret = f;
    return 0;
}

void oomfollow_stop(struct oomfollow *f)
{
    if (!f)
        return;
    loop_remove(f->loop, f->src);
    loop_remove(f->loop, f->settle);
    flush(f);
    kmsg_reader_close(&f->rd);
    oomlog_release(&f->log);
    free(f);
}
