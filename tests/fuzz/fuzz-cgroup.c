/* The cgroup parsers: mountinfo, memory.stat (v1 and v2), memory.events, memory.oom_control,
 * PSI and limit files. The first byte picks one. */
#include <stdint.h>
#include <stdlib.h>

#include "model/cgroup/cgroup.h"
#include "model/pressure/psi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 8) {
    case 0: {
        struct cgroup_mountinfo mi;
        if (cgroup_mountinfo_parse(buf, len, &mi) == 0)
            cgroup_mountinfo_release(&mi);
        break;
    }
    case 1:
    case 2: {
        struct cgroup_memstat m;
        (void)cgroup_memstat_parse(buf, len, data[0] % 8 == 1 ? 1 : 2, 4096, &m);
        break;
    }
    case 3: {
        struct cgroup_events e;
        (void)cgroup_events_parse(buf, len, &e);
        break;
    }
    case 4: {
        struct cgroup_oom_control o;
        (void)cgroup_oom_control_parse(buf, len, &o);
        break;
    }
    case 5: {
        struct psi p;
        (void)psi_parse(buf, len, &p);
        break;
    }
    case 6:
    case 7: {
        uint64_t v;
        (void)cgroup_limit_parse(buf, len, data[0] % 8 == 6 ? 1 : 2, data[0] & 0x80 ? 65536 : 4096,
                                 &v);
        break;
    }
    }
    return 0;
}
