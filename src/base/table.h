/*
 * Aligned text tables. Cells live in one text arena (a 5,000-process table is 60,000 cells);
 * text from the kernel is sanitised on the way in (control bytes become '?', as ps does) so a
 * process name cannot drive the terminal.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum table_align { TABLE_LEFT, TABLE_RIGHT };

enum table_style {
    STYLE_NONE,
    STYLE_BOLD,
    STYLE_DIM,
    STYLE_RED,
    STYLE_YELLOW,
    STYLE_GREEN,
    STYLE_CYAN,
    STYLE_BOLD_RED,
};

struct table_column {
    const char *header;
    enum table_align align;
};

struct table_cell {
    uint32_t off; /* into text */
    uint32_t len;
    uint32_t width; /* display columns */
    uint8_t style;
};

struct table {
    const struct table_column *cols;
    size_t ncols;
    struct table_cell *cells; /* nrows * ncols */
    size_t nrows, cap;
    struct buf text;
};

struct table_render_opts {
    bool color;
    bool header;
    size_t max_width; /* 0: no limit; otherwise lines are cut to this many columns */
    size_t gap;       /* spaces between columns; default 2 */
};

void table_init(struct table *t, const struct table_column *cols, size_t ncols);
void table_release(struct table *t);
/* Appends an empty row. */
int table_add_row(struct table *t);
/* Sets a cell of the last row from trusted formatted text. */
int table_cellf(struct table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets a cell of the last row to a number (no printf: big tables format many). */
int table_cell_i64(struct table *t, size_t col, int64_t v);
/* Sets a cell of the last row from untrusted text (sanitised). */
int table_cell_text(struct table *t, size_t col, const char *s, size_t n);
void table_cell_style(struct table *t, size_t col, enum table_style style);
int table_render(const struct table *t, const struct table_render_opts *opts, struct buf *out);

/* ANSI sequence for a style ("" for none) and the reset sequence. */
const char *style_ansi(enum table_style style);
#define STYLE_RESET "\033[0m"

/* Display width of UTF-8 text (code points; invalid bytes count one each). */
size_t text_width(const char *s, size_t n);
/* Appends s to out with control bytes and invalid UTF-8 replaced by '?'. */
int text_sanitize_into(struct buf *out, const char *s, size_t n);
