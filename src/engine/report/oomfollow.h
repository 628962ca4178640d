/*
 * Following the kernel log inside the event loop: each OOM-killer report is handed over once it
 * is complete. A report is written in one burst (the task table and, for memory.oom.group, the
 * group's kill lines come within milliseconds of the kill line), so an event is complete when
 * the log has been quiet for OOMFOLLOW_SETTLE_MS after it — well inside the 2 s a watcher
 * may take. The oom_reaper's line comes later (≈2 s, 5.18+) and is not waited for.
 *
 * The parser's state is reset after each quiet period, so a watcher that runs for months keeps
 * no history.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct sysroot;
struct oom_event;
struct oomfollow;

#define OOMFOLLOW_SETTLE_MS 300

struct oomfollow_callbacks {
    void (*event)(void *ctx, const struct oom_event *e);
    void (*lost)(void *ctx, uint64_t records); /* the ring buffer overran before we read it */
    void *ctx;
};

/*
 * Opens <root>/dev/kmsg and starts following it from its end (from_start: from the oldest
 * record still in the buffer). Returns 0 or a negative errno: -EPERM/-EACCES when
 * kernel.dmesg_restrict denies it (CAP_SYSLOG is needed), -ENOTTY when <root>/dev/kmsg is a
 * file and not the device.
 */
int oomfollow_start(struct loop *l, const struct sysroot *sr, bool from_start,
                    const struct oomfollow_callbacks *cb, struct oomfollow **ret);
void oomfollow_stop(struct oomfollow *f);
