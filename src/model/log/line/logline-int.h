/*
 * logline's own parts (not for other modules): the stamp readers of logline-stamp.c, which
 * logline.c stacks into the line forms logline.h lists. Each takes [p, end) and returns the
 * bytes it recognised, 0 when p is not at its stamp.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logline.h"

static inline bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_blank(int c)
{
    return c == ' ' || c == '\t';
}

/* dmesg's "[ 5864.708440]" (any number of decimals): its microseconds */
size_t logline_uptime_stamp(const char *p, const char *end, uint64_t *us);
/* "[ T9185]" / "[  C3]": the printk caller id that follows the stamp with CONFIG_PRINTK_CALLER */
size_t logline_caller_stamp(const char *p, const char *end, int64_t *tid);
/* dmesg -T: "[Thu May 14 23:17:24 2020]" in whatever locale; the bracket holds a clock time */
size_t logline_human_stamp(const char *p, const char *end, struct span *time);
size_t logline_reltime_stamp(const char *p, const char *end, struct span *time);
/* BSD syslog / journalctl short: "Jan  5 15:19:27" or "Jul 13 11:45:20.123456" */
size_t logline_bsd_time(const char *p, const char *end);
/* ISO 8601: "2022-07-13T11:45:20+0300", "2020-05-14 23:17:24.123", "...,123456+02:00" */
size_t logline_iso_time(const char *p, const char *end, bool *comma);
/* "kern  :warn  : " (dmesg -x) */
size_t logline_dmesg_decode_prefix(const char *p, const char *end, bool *kernel);
/* "[ 5864.708440]" and what may follow it (caller ids, vendor tags, one space); returns the
 * bytes taken, 0 when p is not at such a stamp */
size_t logline_stamp_and_tags(const char *p, const char *end, uint64_t *us, int64_t *tid);
/* dmesg -T whose opening '[' was lost in a copy: "Thu May 14 23:17:24 2020] text" */
size_t logline_human_stamp_unbracketed(const char *p, const char *end, struct span *time);
/* dmesg -T's year after its clock (" 2024", then no digit), whose '[' or weekday a copy lost:
 * its length, 0 when p is not at one */
size_t logline_ctime_year(const char *p, const char *end);
/* the weekday's word (in any locale, "Mon", "lun.", "Mon,") and its blanks right before `at`,
 * the word starting at `start` or after a blank or an opening bracket: their length, or 0 */
size_t logline_weekday_before(const char *start, const char *at);
/* journalctl -o short-full and with-unit, and -o verbose's entry headers: "Mon 2026-12-07
 * 07:03:17[.406215] UTC" (the weekday as the locale names it, the zone's abbreviation or
 * offset). Returns its length, 0 when p is not at one. */
size_t logline_weekday_iso_time(const char *p, const char *end);
/* journalctl -o short-unix: "1796626997.429044" (seconds since the epoch, microseconds) */
size_t logline_unix_time(const char *p, const char *end);
