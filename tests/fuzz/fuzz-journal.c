/*
 * journalctl's machine forms (model/log/journal.h): the input as one JSON object, as -o export
 * text read whole and read in two pieces (the incremental path must take the same entries), and
 * as a stream through logsource (form detection, json-seq/sse/pretty lines, export entries),
 * every entry fed to the OOM parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/log/journal.h"
#include "model/log/logsource.h"
#include "model/log/oomlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every entry of export text, fed; returns how many, and the message bytes summed */
static size_t export_all(const char *s, size_t n, size_t cut, uint64_t *sum)
{
    struct journal_entry e;
    journal_entry_init(&e);
    size_t off = 0, count = 0;
    *sum = 0;
    for (;;) {
        size_t avail = cut > off && cut < n ? cut - off : n - off;
        bool eof = off + avail == n;
        size_t used;
        int r = journal_export_next(s + off, avail, eof, &e, &used);
        if (r == 0 && !eof) {
            cut = n; /* the second piece arrives */
            continue;
        }
        if (r <= 0)
            break;
        if (used == 0 || used > avail)
            abort();
        count++;
        *sum += e.message_len + (e.kernel ? 1 : 0);
        off += used;
    }
    journal_entry_release(&e);
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct journal_entry e;
    journal_entry_init(&e);
    struct oomlog p;
    oomlog_init(&p);
    if (journal_json_parse(s, size, &e) == 0) {
        if (e.has_message && (!e.message || e.message[e.message_len] != '\0'))
            abort();
        (void)oomlog_feed_journal(&p, &e);
    }
    char time[64];
    journal_format_time(&e, time, sizeof(time));
    journal_entry_release(&e);
    uint64_t whole, pieces;
    size_t a = export_all(s, size, size, &whole);
    size_t b = export_all(s, size, size / 2, &pieces);
    if (a != b || whole != pieces)
        abort();
    int fd = memfd_create("fuzz-journal", MFD_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0) {
            struct logsource_stats st = {0};
            (void)logsource_feed_fd(&p, fd, &st);
        }
        close(fd);
    }
    (void)oomlog_finish(&p);
    oomlog_release(&p);
    return 0;
}
