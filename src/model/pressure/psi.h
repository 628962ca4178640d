/*
 * Pressure stall information (Documentation/accounting/psi.rst): how long tasks waited for memory.
 * System-wide in /proc/pressure/memory, per cgroup in memory.pressure of the v2 (unified) tree.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json;
struct sysroot;

struct psi_line {
    bool present;
    uint64_t avg10, avg60, avg300; /* hundredths of a percent: 1234 = 12.34% */
    uint64_t total;                /* cumulative stall time, microseconds */
};

struct psi {
    struct psi_line some, full;
};

/*
 * "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ...\n". Lines are found by their first
 * word and fields by key, so a kernel that adds a field or a line (irq.pressure has only "full")
 * still parses. Returns 0 when at least one line parsed, else -EBADMSG.
 */
int psi_parse(const char *buf, size_t len, struct psi *ret);

/*
 * Reads a pressure file relative to dirfd. -ENOENT when there is none; -EOPNOTSUPP when PSI is
 * compiled in but off (psi=0 before 7.2 keeps the cgroup files, which then fail to read).
 */
int psi_read_at(int dirfd, const char *path, struct psi *ret);

/* The machine's memory pressure: <root>/proc/pressure/memory. */
int psi_read_system(const struct sysroot *sr, struct psi *ret);

/*
 * PSI in JSON, one shape in every output (docs/json/cgroup.md, "PSI"): the members "some" and
 * "full" of the object being written, each {"avg10", "avg60", "avg300"} (percent, two decimals)
 * and "total_us" (cumulative stall, µs), or null when the file has no such line.
 */
void psi_json_fields(const struct psi *p, struct json *j);
/* One line's members (avg10, avg60, avg300, total_us) into the object being written, for an
 * output that adds its own member to a line (the lab's rate). */
void psi_line_json_fields(const struct psi_line *l, struct json *j);
