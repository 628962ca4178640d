/*
 * A capped, growable byte buffer.
 *
 * Invariants: after any successful call, data[len] == '\0' when data != NULL; buf_cstr() never
 * returns NULL. Growth beyond `max` fails with -EFBIG and leaves the contents unchanged.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap; /* allocated bytes, including room for the terminating NUL */
    size_t max; /* largest len allowed */
};

#define BUF_INIT(maxlen) {.data = NULL, .len = 0, .cap = 0, .max = (maxlen)}

void buf_init(struct buf *b, size_t max);
/* Ensures room for `extra` more bytes (plus the NUL). Returns 0, -ENOMEM or -EFBIG. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empties the buffer but keeps its memory for reuse. */
void buf_reset(struct buf *b);
/* Frees the memory; the buffer can be used again. */
void buf_release(struct buf *b);
/* Returns the malloc'd string (never NULL) and leaves the buffer empty; the caller frees it. */
char *buf_detach(struct buf *b, size_t *ret_len);
const char *buf_cstr(const struct buf *b);
