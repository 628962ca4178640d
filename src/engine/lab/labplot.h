/*
 * The lab's timeline as an SVG picture: memory.current against memory.high and memory.max on
 * top, memory PSI (some/full avg10 and the full stall rate) below, on one time axis, with the
 * OOM kill and the moment PSI full crossed 10% marked. Pure: the same input gives the same bytes
 * (the golden test relies on it). Plain SVG 1.1, no scripts, no external fonts or images.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "labsum.h"

struct buf;

struct labplot_input {
    const char *title;    /* first line, e.g. "oomwarden lab: /oomwarden-lab-42 (cgroup v2)" */
    const char *subtitle; /* second line; may be NULL */
    const struct lab_sample *v;
    size_t n;
    uint64_t limit;         /* bytes */
    uint64_t high;          /* bytes, 0: none */
    const char *limit_name; /* "memory.max" or "memory.limit_in_bytes" */
    double kill_t;          /* < 0: no kill */
    const char *kill_label; /* "OOM kill: pid 42 (ow-lab-eater)" */
    double warn_t;          /* PSI full avg10 crossed 10%; < 0: never */
};

/* Writes the document. Returns 0 or a negative errno (-ENOMEM/-EFBIG from the buffer). */
int labplot_svg(const struct labplot_input *in, struct buf *out);

/* A "nice" axis step (1, 2 or 5 × 10^k) for about `ticks` divisions of `span`. */
double labplot_nice_step(double span, int ticks);
