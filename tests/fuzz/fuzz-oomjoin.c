/*
 * The rejoin step alone: a held line and the bare line after it (the input split at its first
 * newline), each classified as the parser does, joined or not by oomjoin(). A join is never
 * longer than the two lines and one space, and the kind it reports is the joined text's own.
 * Then the whole input as one line through oomjoin_unpad(): never longer than the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/log/oomlog-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct span all = {s, size};
    char *buf = malloc(2 * size + 1);
    if (!buf)
        return 0;
    enum kind uk;
    if (oomjoin_unpad(all, oomline_classify(all), buf, size, &uk) > size)
        abort();
    free(buf);
    const char *nl = memchr(s, '\n', size);
    if (!nl)
        return 0;
    struct span held = {s, (size_t)(nl - s)};
    struct span next = {nl + 1, size - (size_t)(nl + 1 - s)};
    size_t cap = held.n + next.n + 1;
    char *out = malloc(cap ? cap : 1);
    if (!out)
        return 0;
    enum kind k = K_NONE;
    size_t n = oomjoin(held, oomline_classify(held), next, oomline_classify(next),
                       (unsigned)size & 3u, out, cap, &k);
    if (n > cap || (n && k != oomline_classify((struct span){out, n})))
        abort();
    (void)oomjoin_marked(held);
    free(out);
    return 0;
}
