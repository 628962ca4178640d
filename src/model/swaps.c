#include "swaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/opt.h"
#include "base/limits.h"
#include "sysroot.h"

static void copy_span(char *dst, size_t cap, struct span s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

int swaps_parse(const char *buf, size_t len, struct swaps *ret)
{
    struct swaps s = {.zswap = -1};
    size_t cap = 0;
    struct cursor c = cursor_make(buf, len);
    (void)cursor_line(&c); /* "Filename Type Size Used Priority" */
    while (!cursor_eof(&c)) {
        struct cursor l = cursor_from_span(cursor_line(&c));
        struct swap_device d = {
            .zram_orig = OPT_ABSENT, .zram_compr = OPT_ABSENT, .zram_mem_used = OPT_ABSENT};
        cursor_skip_blanks(&l);
        struct span name = cursor_word(&l);
        cursor_skip_blanks(&l);
        struct span type = cursor_word(&l);
        uint64_t size_kb, used_kb;
        int64_t prio = 0;
        cursor_skip_blanks(&l);
        if (name.n == 0 || cursor_u64(&l, &size_kb) < 0)
            continue;
        cursor_skip_blanks(&l);
        if (cursor_u64(&l, &used_kb) < 0)
            continue;
        cursor_skip_blanks(&l);
        (void)cursor_i64(&l, &prio);
        copy_span(d.name, sizeof(d.name), name);
        copy_span(d.type, sizeof(d.type), type);
        d.size = size_kb * 1024;
        d.used = used_kb * 1024;
        d.priority = prio;
        d.zram = strncmp(d.name, "/dev/zram", 9) == 0;
        if (ARRAY_GROW(s.v, s.n, cap, 4) < 0) {
            swaps_release(&s);
            return -ENOMEM;
        }
        s.v[s.n++] = d;
    }
    *ret = s;
    return 0;
}

/* mm_stat: orig_data_size compr_data_size mem_used_total ... (bytes, since 4.1) */
static void read_zram(const struct sysroot *sr, struct swap_device *d, struct buf *b)
{
    char path[SWAPS_NAME_MAX + 64];
    const char *dev = d->name + 5; /* "zramN" */
    snprintf(path, sizeof(path), "block/%s/mm_stat", dev);
    if (read_virtual_at(sr->sys_fd, path, b) > 0) {
        struct cursor c = cursor_make(b->data, b->len);
        uint64_t v[3];
        int i = 0;
        for (; i < 3; i++) {
            cursor_skip_blanks(&c);
            if (cursor_u64(&c, &v[i]) < 0)
                break;
        }
        if (i == 3) {
            d->zram_orig = v[0];
            d->zram_compr = v[1];
            d->zram_mem_used = v[2];
        }
    }
    /* "lzo lzo-rle lz4 [zstd]" */
    snprintf(path, sizeof(path), "block/%s/comp_algorithm", dev);
    if (read_virtual_at(sr->sys_fd, path, b) > 0) {
        const char *open = strchr(b->data, '['), *close = open ? strchr(open, ']') : NULL;
        if (open && close)
            copy_span(d->zram_algo, sizeof(d->zram_algo),
                      (struct span){open + 1, (size_t)(close - open - 1)});
    }
}

int swaps_read(const struct sysroot *sr, struct swaps *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_FILE);
    int r = read_virtual_at(sr->proc_fd, "swaps", &b);
    if (r < 0) {
        buf_release(&b);
        return r;
    }
    struct swaps s;
    if ((r = swaps_parse(b.data, b.len, &s)) < 0) {
        buf_release(&b);
        return r;
    }
    if (sr->sys_fd >= 0) {
        for (size_t i = 0; i < s.n; i++)
            if (s.v[i].zram && strchr(s.v[i].name + 5, '/') == NULL)
                read_zram(sr, &s.v[i], &b);
        if (read_virtual_at(sr->sys_fd, "module/zswap/parameters/enabled", &b) > 0)
            s.zswap = b.data[0] == 'Y' || b.data[0] == '1';
    }
    buf_release(&b);
    *ret = s;
    return 0;
}

void swaps_release(struct swaps *s)
{
    free(s->v);
    *s = (struct swaps){.zswap = -1};
}
