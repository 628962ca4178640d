/*
 * Wall-clock times as logs print them, for `explain --since`: ISO 8601 (journalctl short-iso,
 * rsyslog, dmesg --time-format=iso), BSD syslog "Jan  5 15:19:27" (no year: the most recent
 * such date not after `now` + 1 day) and dmesg -T / ctime "Thu May 14 23:17:24 2020". English
 * month names only: a localised dmesg -T stays text. Times without a zone are local time.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

/* Returns true and the time in *ret when `s` is one of the forms above. */
bool logtime_parse(const char *s, time_t now, time_t *ret);
