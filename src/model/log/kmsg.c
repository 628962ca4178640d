#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int kmsg_record_parse(const char *buf, size_t len, struct kmsg_record *ret)
{
    struct cursor c = cursor_make(buf, len);
    struct kmsg_record rec = {.caller_tid = -1, .caller_cpu = -1};
    uint64_t prio;
    if (cursor_u64(&c, &prio) < 0 || prio > 0xffffff || !cursor_skip_char(&c, ','))
        return -EINVAL;
    rec.facility = (unsigned)(prio >> 3);
    rec.level = (unsigned)(prio & 7);
    if (cursor_u64(&c, &rec.seq) < 0 || !cursor_skip_char(&c, ','))
        return -EINVAL;
    if (cursor_u64(&c, &rec.usec) < 0 || !cursor_skip_char(&c, ','))
        return -EINVAL;
    /* the flags field: '-' or 'c' (older kernels could print other letters; ignore them) */
    int fl = cursor_peek(&c);
    if (fl < 0 || fl == ';' || fl == ',')
        return -EINVAL;
    rec.cont = fl == 'c';
    c.p++;
    /* optional fields, each ",name=value" or ",value", up to ';' */
    while (!cursor_eof(&c) && *c.p != ';') {
        if (*c.p == '\n')
            return -EINVAL;
        if (*c.p == ',' && cursor_left(&c) > 8 && memcmp(c.p, ",caller=", 8) == 0) {
            c.p += 8;
            int kind = cursor_peek(&c);
            c.p += kind >= 0;
            uint64_t v;
            if ((kind == 'T' || kind == 'C') && cursor_u64(&c, &v) == 0 && v <= INT64_MAX) {
                if (kind == 'T')
                    rec.caller_tid = (int64_t)v;
                else
                    rec.caller_cpu = (int64_t)v;
            }
            continue;
        }
        c.p++;
    }
    if (!cursor_skip_char(&c, ';'))
        return -EINVAL;
    const char *text = c.p;
    const char *nl = memchr(text, '\n', cursor_left(&c));
    if (!nl) {
        /* a record copied without its newline (the last line of a pasted file) */
        rec.text = (struct span){text, cursor_left(&c)};
        rec.dict = (struct span){c.end, 0};
    } else {
        rec.text = (struct span){text, (size_t)(nl - text)};
        rec.dict = (struct span){nl + 1, (size_t)(c.end - (nl + 1))};
    }
    *ret = rec;
    return 0;
}

size_t kmsg_unescape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\\' && n - i >= 4 && in[i + 1] == 'x') {
            int hi = hex_digit(in[i + 2]), lo = hex_digit(in[i + 3]);
            if (hi >= 0 && lo >= 0) {
                out[o++] = (char)(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out[o++] = in[i];
    }
    return o;
}

void kmsg_reader_from_fd(struct kmsg_reader *r, int fd)
{
    r->fd = fd;
    r->started = false;
    r->next_seq = 0;
    r->lost = 0;
    r->overruns = 0;
    r->records = 0;
    r->malformed = 0;
}

int kmsg_reader_open_at(struct kmsg_reader *r, int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    kmsg_reader_from_fd(r, fd);
    return 0;
}

int kmsg_reader_next(struct kmsg_reader *r, struct kmsg_record *rec)
{
    for (;;) {
        /* one read() is one record; the buffer is the size the kernel's own reader assumes */
        ssize_t n = read(r->fd, r->buf, sizeof(r->buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            if (errno == EPIPE) {
                /* overrun: the next read() returns the oldest record still there; the
                 * sequence gap below counts what was lost */
                r->overruns++;
                continue;
            }
            return -errno;
        }
        if (n == 0)
            return 0;
        if (kmsg_record_parse(r->buf, (size_t)n, rec) < 0) {
            r->malformed++;
            continue;
        }
        if (r->started && rec->seq > r->next_seq)
            r->lost += rec->seq - r->next_seq;
        r->started = true;
        r->next_seq = rec->seq + 1;
        r->records++;
        return 1;
    }
}

void kmsg_reader_close(struct kmsg_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}
