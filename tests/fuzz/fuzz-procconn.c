/* The proc connector's datagrams (runtime/procconn.h): netlink messages carrying cn_msg +
 * proc_event, read from a socket the kernel writes, but parsed as if anything could be there. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/runtime/procconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_event(void *ctx, const struct procconn_event *e)
{
    size_t *n = ctx;
    if (e->kind > PROCCONN_ACK)
        abort();
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    int r = procconn_parse(data, size, on_event, &n);
    if (r >= 0 && (size_t)r != n)
        abort();
    return 0;
}
