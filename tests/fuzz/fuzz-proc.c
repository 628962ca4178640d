/* The /proc parsers: stat, status, cgroup, meminfo, keyed files. The first byte picks one. */
#include <stdint.h>
#include <stdlib.h>

#include "base/opt.h"
#include "model/meminfo.h"
#include "model/proc/procs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    struct proc p = {0};
    switch (data[0] % 5) {
    case 0:
        (void)proc_stat_parse(buf, len, &p);
        break;
    case 1:
        (void)proc_status_parse(buf, len, &p);
        break;
    case 2: {
        char *m = NULL, *u = NULL;
        bool v1;
        if (proc_cgroup_parse(buf, len, &m, &u, &v1) == 0) {
            free(m);
            free(u);
        }
        break;
    }
    case 3: {
        struct meminfo mi;
        (void)meminfo_parse(buf, len, &mi);
        break;
    }
    case 4: {
        struct vmstat vs;
        (void)vmstat_parse(buf, len, &vs);
        break;
    }
    }
    return 0;
}
