/* /proc/swaps (doctor's swap check): a header, then "name type size used priority" lines whose
 * names may hold escapes and whose numbers may be anything. */
#include <stdint.h>
#include <stdlib.h>

#include "model/swaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct swaps s;
    if (swaps_parse((const char *)data, size, &s) == 0)
        swaps_release(&s);
    return 0;
}
