/*
 * Byte scans for the kernel-log readers, eight bytes at a time: where one byte first stands in a
 * short stretch of a line (the first space, a '-' within a comm's reach), without a call. Every
 * line of a big log goes through a few of these; glibc's memchr costs more than the scan itself
 * on stretches this short (it stays the better one for long ones).
 */
#pragma once

#include <stdint.h>
#include <string.h>

#define LOGSCAN_ONES 0x0101010101010101ull
#define LOGSCAN_HIGHS 0x8080808080808080ull

/* Eight bytes as a number whose lowest byte is the first. */
static inline uint64_t logscan_load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The high bit of each byte of v that equals c; zero when none does. Bits above the first set
 * one can be false (a borrow), so only the lowest set bit is to be trusted. */
static inline uint64_t logscan_eq8(uint64_t v, unsigned char c)
{
    uint64_t x = v ^ (LOGSCAN_ONES * c);
    return (x - LOGSCAN_ONES) & ~x & LOGSCAN_HIGHS;
}

/* The first byte c in [p, end), or NULL. */
static inline const char *logscan_byte(const char *p, const char *end, unsigned char c)
{
    while (end - p >= 8) {
        uint64_t m = logscan_eq8(logscan_load8(p), c);
        if (m)
            return p + __builtin_ctzll(m) / 8;
        p += 8;
    }
    for (; p < end; p++)
        if ((unsigned char)*p == c)
            return p;
    return NULL;
}
