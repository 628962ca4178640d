/*
 * oomwarden reclaim CGROUP SIZE: proactive reclaim through memory.reclaim, with what it took.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/units.h"
#include "engine/act/reclaim.h"
#include "model/cgroup/cgroup.h"
#include "model/kver.h"
#include "model/sysroot.h"
#include "cli.h"

static const char usage[] =
    "Usage: oomwarden reclaim [OPTIONS] CGROUP SIZE\n"
    "\n"
    "Asks the kernel to reclaim SIZE (e.g. 512M) from a cgroup and its descendants, as memory\n"
    "pressure would, through memory.reclaim (cgroup v2, Linux 5.19 and later), and shows the\n"
    "cgroup's memory before and after. Page cache and reclaimable slab can go; anonymous\n"
    "memory only where there is swap. CGROUP is a path (/system.slice/foo.service, or the\n"
    "directory under /sys/fs/cgroup) or pid:N for the cgroup of a process.\n"
    "\n"
    "  -n, --dry-run         show the cgroup and what reclaim could take, change "
    "nothing\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 when memory.current went down by SIZE (or the kernel said it reclaimed\n"
    "SIZE), 1 when it got less, when the cgroup has no memory.reclaim, or on an error;\n"
    "64 for a bad argument.\n";

struct row {
    const char *name;
    uint64_t before, after;
};

static uint64_t delta_abs(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* What memory.current went down by; 0 when it went up. */
static uint64_t reclaimed(const struct reclaim_result *r)
{
    return r->before.current > r->after.current ? r->before.current - r->after.current : 0;
}

/* The cgroup gave back what was asked, whatever the write answered. */
static bool met(const struct reclaim_result *r)
{
    return !r->dry_run &&
           (r->write_error == 0 || (r->write_error == -EAGAIN && reclaimed(r) >= r->asked));
}

static size_t rows_of(const struct reclaim_result *r, struct row *v)
{
    const struct cgroup_memory *b = &r->before, *a = &r->after;
    size_t n = 0;
    v[n++] = (struct row){"current", b->current, a->current};
    v[n++] = (struct row){"anon", b->stat.anon, a->stat.anon};
    v[n++] = (struct row){"file", b->stat.file, a->stat.file};
    v[n++] = (struct row){"  active_file", b->stat.active_file, a->stat.active_file};
    v[n++] = (struct row){"  inactive_file", b->stat.inactive_file, a->stat.inactive_file};
    v[n++] = (struct row){"  shmem", b->stat.shmem, a->stat.shmem};
    v[n++] = (struct row){"kernel", b->stat.kernel, a->stat.kernel};
    v[n++] = (struct row){"  slab_reclaimable", b->stat.slab_reclaimable, a->stat.slab_reclaimable};
    v[n++] = (struct row){"  slab_unreclaimable", b->stat.slab_unreclaimable,
                          a->stat.slab_unreclaimable};
    v[n++] = (struct row){"sock", b->stat.sock, a->stat.sock};
    v[n++] = (struct row){"swap", b->swap_current, a->swap_current};
    return n;
}

static int render_text(const struct reclaim_result *r, const char *path, struct buf *o)
{
    char a[24], b[24], d[24];
    struct row v[16];
    size_t n = rows_of(r, v);
    if (r->dry_run)
        buf_printf(o,
                   "%s: %s in use; reclaim could take about %s (file LRUs and reclaimable "
                   "slab; anon %s without swap)\n",
                   path, fmt_size_long(a, r->before.current),
                   fmt_size_long(b, cgroup_reclaimable(&r->before)),
                   r->before.swap_max == 0 ? "cannot go" : "can go only");
    buf_printf(o, "%-22s %12s %12s %12s\n", "", "before", r->dry_run ? "" : "after",
               r->dry_run ? "" : "change");
    for (size_t i = 0; i < n; i++) {
        if (!opt_has(v[i].before))
            continue;
        buf_printf(o, "%-22s %12s", v[i].name, fmt_size_long(a, v[i].before));
        if (!r->dry_run && opt_has(v[i].after)) {
            fmt_size_long(d, delta_abs(v[i].before, v[i].after));
            buf_printf(o, " %12s %s%11s", fmt_size_long(b, v[i].after),
                       v[i].after < v[i].before   ? "-"
                       : v[i].after > v[i].before ? "+"
                                                  : " ",
                       d);
        }
        buf_putc(o, '\n');
    }
    if (r->dry_run)
        return 0;
    uint64_t got = reclaimed(r);
    buf_printf(o, "asked %s, memory.current went down by %s in %.2fs", fmt_size_long(a, r->asked),
               fmt_size_long(b, got), r->seconds);
    if (r->write_error == -EAGAIN && got >= r->asked)
        /* seen on 6.1: 15 MiB of dentries and inodes went, and the write still said EAGAIN */
        buf_puts(o, "; the kernel still answered EAGAIN: it counts the pages it took off the "
                    "LRU lists, and what slab shrinkers (dentries, inodes) free may not count");
    else if (r->write_error == -EAGAIN)
        buf_puts(o, ": the kernel found less to reclaim than asked (EAGAIN after 16 rounds "
                    "without progress)");
    else if (r->write_error)
        buf_printf(o, ": the write failed: %s", strerror(-r->write_error));
    buf_puts(o, "\n(memory.current also moves when the cgroup's processes allocate or free, and "
                "slab is freed after an RCU grace period: it may still fall a little)\n");
    return 0;
}

static int render_json(const struct reclaim_result *r, const char *path, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_kv_str(&j, "cgroup", path);
    json_kv_bool(&j, "dry_run", r->dry_run);
    json_kv_u64(&j, "asked", r->asked);
    json_kv_u64(&j, "reclaimable_estimate", cgroup_reclaimable(&r->before));
    if (r->dry_run) {
        json_kv_null(&j, "result");
    } else {
        json_kv_str(&j, "result",
                    r->write_error == 0         ? "ok"
                    : r->write_error == -EAGAIN ? "eagain"
                                                : "error");
        json_kv_str(&j, "error", r->write_error ? strerror(-r->write_error) : NULL);
        json_kv_u64(&j, "reclaimed", reclaimed(r));
        json_kv_bool(&j, "met", met(r));
        json_kv_double(&j, "seconds", r->seconds, 3);
    }
    struct row v[16];
    size_t n = rows_of(r, v);
    const char *phase[2] = {"before", "after"};
    for (int p = 0; p < 2; p++) {
        json_key(&j, phase[p]);
        if (p == 1 && r->dry_run) {
            json_null(&j);
            continue;
        }
        json_obj_begin(&j);
        for (size_t i = 0; i < n; i++) {
            const char *k = v[i].name;
            while (*k == ' ')
                k++;
            json_kv_u64_opt(&j, k, p ? v[i].after : v[i].before);
        }
        json_obj_end(&j);
    }
    json_obj_end(&j);
    return json_error(&j);
}

int cmd_reclaim(struct cli *c, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"dry-run", 'n', ARGS_NO_VALUE, 'n'},
        CLI_COMMON_OPTIONS,
    };
    bool dry_run = false;
    struct args a;
    int opt;
    cli_args_init(c, &a, argc, argv, opts);
    while ((opt = cli_next_option(c, &a, usage)) > 0)
        if (opt == 'n')
            dry_run = true;
    if (opt < 0)
        return cli_args_exit(opt);
    if (a.noperands < 2)
        return cli_usage_error(c, "which cgroup, and how much? (oomwarden reclaim CGROUP SIZE)");
    if ((opt = cli_no_more_operands(c, &a, 2)))
        return opt;
    uint64_t bytes;
    if (parse_size(a.operands[1], &bytes) < 0 || bytes == 0)
        return cli_usage_error(c, "SIZE is a size like 512M or 1G, not '%s'", a.operands[1]);

    struct sysroot sr;
    int r;
    if ((r = cli_open_root(c, &sr)))
        return r;
    int rc = EXIT_FAIL;
    struct cgroup_hier h = {.memory = {.fd = -1}, .unified = {.fd = -1}};
    char *path = NULL;
    if ((r = cli_open_cgroups(c, &sr, &h)) ||
        (r = cli_resolve_cgroup(c, &h, a.operands[0], &path))) {
        rc = r;
        goto out;
    }
    struct kver k = {0};
    (void)kver_read(&sr, &k);
    struct reclaim_result res;
    int q = reclaim_cgroup(&h, path, bytes, dry_run, &res);
    if (q == -EOPNOTSUPP) {
        if (h.memory_version == 1)
            log_error("%s is a cgroup v1 memory cgroup: memory.reclaim exists only in cgroup v2 "
                      "(Linux 5.19+). v1's memory.force_empty is not a substitute: it takes no "
                      "size and reclaims everything it can from the cgroup, as before removing "
                      "it. To drop a file's page cache, use 'oomwarden evict PATH'.",
                      path);
        else if (k.known && !kver_at_least(&k, 5, 19, 0))
            log_error("%s has no memory.reclaim: it came in Linux 5.19, this kernel is %s", path,
                      k.release);
        else
            log_error("%s has no memory.reclaim, which Linux 5.19 and later have (this kernel "
                      "says %s): a copy of /sys without it (--root), or a kernel built without it",
                      path, k.known ? k.release : "nothing");
        goto out;
    }
    if (q < 0) {
        if (q == -ENOENT)
            log_error("no memory cgroup %s", path);
        else
            log_error("cannot reclaim from %s: %s", path, strerror(-q));
        goto out;
    }
    struct buf o = BUF_INIT(CAP_OUTPUT);
    q = c->json ? render_json(&res, path, &o) : render_text(&res, path, &o);
    if (q < 0)
        log_error("cannot format the output: %s", strerror(-q));
    else if (cli_emit(&o) == 0)
        rc = res.dry_run || met(&res) ? EXIT_OK : EXIT_FAIL;
    if (res.write_error && res.write_error != -EAGAIN)
        log_error("writing %s/memory.reclaim: %s", path, strerror(-res.write_error));
    buf_release(&o);
    reclaim_result_release(&res);
out:
    free(path);
    cgroup_hier_close(&h);
    sysroot_close(&sr);
    return rc;
}
