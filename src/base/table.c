#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "limits.h"

void table_init(struct table *t, const struct table_column *cols, size_t ncols)
{
    *t = (struct table){.cols = cols, .ncols = ncols};
    buf_init(&t->text, CAP_OUTPUT);
}

void table_release(struct table *t)
{
    free(t->cells);
    buf_release(&t->text);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

int table_add_row(struct table *t)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct table_cell *c = realloc(t->cells, cap * t->ncols * sizeof(*c));
        if (!c)
            return -ENOMEM;
        t->cells = c;
        t->cap = cap;
    }
    memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(struct table_cell));
    t->nrows++;
    return 0;
}

static struct table_cell *last_cell(struct table *t, size_t col)
{
    if (t->nrows == 0 || col >= t->ncols)
        return NULL;
    return &t->cells[(t->nrows - 1) * t->ncols + col];
}

size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
    return w;
}

int text_sanitize_into(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        int r;
        if (*p >= 0x20 && *p < 0x7f) {
            const unsigned char *run = p;
            while (p < end && *p >= 0x20 && *p < 0x7f)
                p++;
            r = buf_append(out, run, (size_t)(p - run));
        } else if (*p >= 0x80) {
            size_t l = utf8_valid_len(p, (size_t)(end - p));
            /* C1 controls (U+0080..U+009F) can drive terminals too */
            if (l == 2 && p[0] == 0xc2 && p[1] < 0xa0)
                l = 0;
            if (l) {
                r = buf_append(out, p, l);
                p += l;
            } else {
                r = buf_putc(out, '?');
                p++;
            }
        } else {
            r = buf_putc(out, '?');
            p++;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

static int set_cell(struct table *t, size_t col, size_t start)
{
    struct table_cell *c = last_cell(t, col);
    if (!c)
        return -EINVAL;
    if (t->text.len > UINT32_MAX)
        return -EFBIG;
    c->off = (uint32_t)start;
    c->len = (uint32_t)(t->text.len - start);
    c->width = (uint32_t)text_width(t->text.data + start, c->len);
    return 0;
}

int table_cellf(struct table *t, size_t col, const char *fmt, ...)
{
    size_t start = t->text.len;
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(&t->text, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    return set_cell(t, col, start);
}

int table_cell_i64(struct table *t, size_t col, int64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    size_t start = t->text.len;
    int r = buf_append(&t->text, tmp + n, sizeof(tmp) - n);
    if (r < 0)
        return r;
    return set_cell(t, col, start);
}

int table_cell_text(struct table *t, size_t col, const char *s, size_t n)
{
    size_t start = t->text.len;
    int r = text_sanitize_into(&t->text, s, n);
    if (r < 0)
        return r;
    return set_cell(t, col, start);
}

void table_cell_style(struct table *t, size_t col, enum table_style style)
{
    struct table_cell *c = last_cell(t, col);
    if (c)
        c->style = (uint8_t)style;
}

const char *style_ansi(enum table_style style)
{
    switch (style) {
    case STYLE_BOLD:
        return "\033[1m";
    case STYLE_DIM:
        return "\033[2m";
    case STYLE_RED:
        return "\033[31m";
    case STYLE_YELLOW:
        return "\033[33m";
    case STYLE_GREEN:
        return "\033[32m";
    case STYLE_CYAN:
        return "\033[36m";
    case STYLE_BOLD_RED:
        return "\033[1;31m";
    case STYLE_NONE:
    default:
        return "";
    }
}

/* Appends at most `room` display columns of the cell's text. Returns the columns written. */
static size_t put_clipped(struct buf *out, const char *s, size_t len, size_t width, size_t room)
{
    if (width <= room) {
        buf_append(out, s, len);
        return width;
    }
    size_t cols = 0, i = 0;
    while (i < len && cols < room) {
        size_t j = i + 1;
        while (j < len && ((unsigned char)s[j] & 0xc0) == 0x80)
            j++;
        buf_append(out, s + i, j - i);
        i = j;
        cols++;
    }
    return cols;
}

static void pad(struct buf *out, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        buf_append(out, spaces, k);
        n -= k;
    }
}

static void render_line(const struct table *t, const struct table_render_opts *o,
                        const size_t *widths, const struct table_cell *row, bool is_header,
                        struct buf *out)
{
    size_t gap = o->gap ? o->gap : 2;
    size_t used = 0;
    size_t limit = o->max_width ? o->max_width : SIZE_MAX;
    /* trailing empty left-aligned cells would only add spaces */
    size_t last = t->ncols;
    while (last > 1) {
        const char *h = t->cols[last - 1].header;
        size_t w = is_header ? strlen(h) : row[last - 1].width;
        if (w)
            break;
        last--;
    }
    for (size_t c = 0; c < last && used < limit; c++) {
        const char *s;
        size_t len, w;
        enum table_style st = STYLE_NONE;
        if (is_header) {
            s = t->cols[c].header;
            len = strlen(s);
            w = len;
            st = STYLE_BOLD;
        } else {
            s = t->text.data ? t->text.data + row[c].off : "";
            len = row[c].len;
            w = row[c].width;
            st = (enum table_style)row[c].style;
        }
        if (c > 0) {
            size_t g = gap < limit - used ? gap : limit - used;
            pad(out, g);
            used += g;
        }
        bool is_last = c + 1 == last;
        size_t field = widths[c];
        size_t padding = field > w ? field - w : 0;
        if (t->cols[c].align == TABLE_RIGHT && !is_last) {
            size_t p = padding < limit - used ? padding : limit - used;
            pad(out, p);
            used += p;
        }
        if (o->color && st != STYLE_NONE)
            buf_puts(out, style_ansi(st));
        used += put_clipped(out, s, len, w, limit - used);
        if (o->color && st != STYLE_NONE)
            buf_puts(out, STYLE_RESET);
        if (t->cols[c].align == TABLE_LEFT && !is_last) {
            size_t p = padding < limit - used ? padding : limit - used;
            pad(out, p);
            used += p;
        }
    }
    buf_putc(out, '\n');
}

int table_render(const struct table *t, const struct table_render_opts *o, struct buf *out)
{
    size_t *widths = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));
    if (!widths)
        return -ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        if (o->header)
            widths[c] = strlen(t->cols[c].header);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = t->cells[r * t->ncols + c].width;
            if (w > widths[c])
                widths[c] = w;
        }
    }
    if (o->header)
        render_line(t, o, widths, NULL, true, out);
    for (size_t r = 0; r < t->nrows; r++)
        render_line(t, o, widths, &t->cells[r * t->ncols], false, out);
    free(widths);
    return 0;
}
