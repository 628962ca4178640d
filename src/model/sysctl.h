/*
 * Kernel tunables under <root>/proc/sys that change what the OOM killer does, or what we can see
 * of it (Documentation/admin-guide/sysctl/vm.rst, kernel.rst). A tunable the kernel does not
 * have, or that cannot be read, is OPT_ABSENT.
 */
#pragma once

#include <stdint.h>

struct sysroot;

struct sysctls {
    uint64_t panic_on_oom;             /* vm: 0 kill, 1 panic on a machine-wide OOM, 2 on any */
    uint64_t oom_kill_allocating_task; /* vm: kill the allocating task instead of scanning */
    uint64_t oom_dump_tasks;           /* vm: the task table in OOM reports */
    uint64_t overcommit_memory;        /* vm: 0 heuristic, 1 always, 2 never */
    uint64_t overcommit_ratio;         /* vm: percent of RAM in CommitLimit (mode 2) */
    uint64_t overcommit_kbytes;        /* vm: replaces the ratio when not 0 */
    uint64_t swappiness;               /* vm */
    uint64_t dmesg_restrict;           /* kernel: 1 = reading the kernel log needs CAP_SYSLOG */
    int64_t panic; /* kernel: seconds before rebooting after a panic (0 never, < 0 at once);
                      OPT_ABSENT_I64 when unknown */
};

/* One number from <root>/proc/sys/<name> ("vm/panic_on_oom"). Returns 0 or a negative errno. */
int sysctl_read_u64(const struct sysroot *sr, const char *name, uint64_t *ret);
int sysctl_read_i64(const struct sysroot *sr, const char *name, int64_t *ret);
/* Every field above; the ones that cannot be read stay OPT_ABSENT. */
void sysctls_read(const struct sysroot *sr, struct sysctls *ret);
