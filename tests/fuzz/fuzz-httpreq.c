/* The agent's HTTP request heads: whatever a client on the network sends. The parser must
 * never read past the input, and whatever it accepts must be self-consistent. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/runtime/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct http_request req;
    switch (http_request_parse(in, size, &req)) {
    case HTTP_REQ_OK:
        /* the head lies within the input, the path within the head */
        if (req.head_len == 0 || req.head_len > size || req.head_len > HTTP_HEAD_MAX)
            abort();
        if (req.path_len == 0)
            abort();
        /* an absolute-form target without a path is "/", a constant outside the input */
        bool root = req.path_len == 1 && req.path[0] == '/';
        if (!root && (req.path < in || req.path + req.path_len > in + req.head_len))
            abort();
        if (req.has_body && req.keep_alive)
            abort();
        break;
    case HTTP_REQ_BAD:
        if (!req.why || (req.error != 400 && req.error != 431 && req.error != 505))
            abort();
        break;
    case HTTP_REQ_INCOMPLETE:
        if (size >= HTTP_HEAD_MAX)
            abort();
        break;
    }
    return 0;
}
