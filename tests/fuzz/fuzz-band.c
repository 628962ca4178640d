/* The guard band's record (<root>/run/oomwarden/guard-band): "SET PREVIOUS /path" lines whose
 * path runs to the end of the line. What parses must come back the same through the writer:
 * the record is what puts a cgroup's memory.high back after a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/cgroup/band.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct band_records r, again;
    size_t bad;
    if (band_records_parse((const char *)data, size, &r, &bad) < 0)
        return 0;
    struct buf out = BUF_INIT(1 << 24);
    band_records_format(&r, &out);
    if (band_records_parse(out.data, out.len, &again, &bad) < 0 || again.n != r.n)
        abort();
    for (size_t i = 0; i < r.n; i++) {
        const struct band_record *x = band_records_find(&again, r.v[i].path);
        if (!x || x->set != r.v[i].set || x->previous != r.v[i].previous)
            abort();
    }
    band_records_release(&again);
    band_records_release(&r);
    buf_release(&out);
    return 0;
}
