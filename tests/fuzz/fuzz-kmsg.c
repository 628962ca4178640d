/*
 * /dev/kmsg records as read() returns them: the record splitter (header, escaped text,
 * dictionary lines), the \xNN unescaping, and the parser fed the record as the kmsg reader
 * feeds it. The input may hold several records separated by NUL bytes (one read() each).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "model/log/kmsg.h"
#include "model/log/oomlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oomlog p;
    oomlog_init(&p);
    const char *s = (const char *)data, *end = s + size;
    char *scratch = malloc(size ? size : 1);
    while (scratch && s < end) {
        const char *z = memchr(s, '\0', (size_t)(end - s));
        const char *re = z ? z : end;
        size_t n = (size_t)(re - s);
        if (n > CAP_KMSG_RECORD)
            n = CAP_KMSG_RECORD;
        struct kmsg_record r;
        if (kmsg_record_parse(s, n, &r) == 0) {
            (void)kmsg_unescape(r.text.p, r.text.n, scratch);
            if (oomlog_feed_kmsg(&p, &r) < 0)
                break;
        }
        s = z ? z + 1 : end;
    }
    free(scratch);
    (void)oomlog_finish(&p);
    oomlog_release(&p);
    return 0;
}
