#include "meminfo.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/sys/fileio.h"
#include "base/keyed.h"
#include "base/limits.h"
#include "base/opt.h"
#include "sysroot.h"

#define MI(key, member) KEYED_FIELD(struct meminfo, key, member, 1024)
static const struct keyed_field meminfo_fields[] = {
    MI("MemTotal", mem_total),
    MI("MemFree", mem_free),
    MI("MemAvailable", mem_available),
    MI("Buffers", buffers),
    MI("Cached", cached),
    MI("SwapCached", swap_cached),
    MI("Active(anon)", active_anon),
    MI("Inactive(anon)", inactive_anon),
    MI("Active(file)", active_file),
    MI("Inactive(file)", inactive_file),
    MI("Unevictable", unevictable),
    MI("SwapTotal", swap_total),
    MI("SwapFree", swap_free),
    MI("Dirty", dirty),
    MI("Writeback", writeback),
    MI("AnonPages", anon_pages),
    MI("Mapped", mapped),
    MI("Shmem", shmem),
    MI("KReclaimable", kreclaimable),
    MI("Slab", slab),
    MI("SReclaimable", sreclaimable),
    MI("SUnreclaim", sunreclaim),
    MI("KernelStack", kernel_stack),
    MI("PageTables", page_tables),
    MI("CommitLimit", commit_limit),
    MI("Committed_AS", committed_as),
    MI("VmallocUsed", vmalloc_used),
    MI("Percpu", percpu),
    MI("Hugetlb", hugetlb),
    MI("Zswap", zswap),
    MI("Zswapped", zswapped),
};

#define VS(key, member) KEYED_FIELD(struct vmstat, key, member, 1)
static const struct keyed_field vmstat_fields[] = {
    VS("oom_kill", oom_kill),
    VS("pgmajfault", pgmajfault),
    VS("pswpin", pswpin),
    VS("pswpout", pswpout),
    VS("pgscan_kswapd", pgscan_kswapd),
    VS("pgscan_direct", pgscan_direct),
    VS("pgsteal_kswapd", pgsteal_kswapd),
    VS("pgsteal_direct", pgsteal_direct),
    VS("workingset_refault_anon", workingset_refault_anon),
    VS("workingset_refault_file", workingset_refault_file),
};

static void set_all_absent(void *p, size_t size)
{
    memset(p, 0xff, size); /* every member is a uint64_t: all-ones is OPT_ABSENT */
}

int meminfo_parse(const char *buf, size_t len, struct meminfo *ret)
{
    set_all_absent(ret, sizeof(*ret));
    keyed_parse(buf, len, meminfo_fields, sizeof(meminfo_fields) / sizeof(meminfo_fields[0]), ret);
    return opt_has(ret->mem_total) ? 0 : -EBADMSG;
}

int vmstat_parse(const char *buf, size_t len, struct vmstat *ret)
{
    set_all_absent(ret, sizeof(*ret));
    keyed_parse(buf, len, vmstat_fields, sizeof(vmstat_fields) / sizeof(vmstat_fields[0]), ret);
    return 0;
}

int meminfo_read(const struct sysroot *sr, struct meminfo *ret)
{
    _cleanup_(buf_release) struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(sr->proc_fd, "meminfo", &b);
    return r < 0 ? r : meminfo_parse(b.data, b.len, ret);
}

uint64_t meminfo_kernel(const struct meminfo *m)
{
    uint64_t sum = 0;
    const uint64_t parts[] = {m->slab, m->kernel_stack, m->page_tables};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (opt_has(parts[i]))
            sum += parts[i];
    return sum;
}

int vmstat_read(const struct sysroot *sr, struct vmstat *ret)
{
    _cleanup_(buf_release) struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(sr->proc_fd, "vmstat", &b);
    return r < 0 ? r : vmstat_parse(b.data, b.len, ret);
}
