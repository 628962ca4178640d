/*
 * Prometheus text exposition format 0.0.4: a registry of metric families, each rendered as one
 * contiguous group (# HELP, # TYPE, samples), label values escaped (\\ \" \n), HELP escaped (\\ \n).
 * Collectors add samples in any order; prom_render() groups them per family.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum prom_type { PROM_GAUGE, PROM_COUNTER, PROM_UNTYPED };

struct prom_family {
    const char *name; /* full metric name, counters end in _total */
    enum prom_type type;
    const char *help;
    struct buf samples; /* rendered sample lines */
    size_t nsamples;
};

struct prom_registry {
    struct prom_family *v;
    size_t n, cap;
    int err; /* sticky: -ENOMEM, -EFBIG, -EINVAL (bad name) */
};

/* A label: NULL value means "leave this label out". */
struct prom_label {
    const char *name;
    const char *value;
};

void prom_init(struct prom_registry *r);
void prom_release(struct prom_registry *r);

/* Declares a family (idempotent by name) and returns its index, or -1 on error. */
int prom_family(struct prom_registry *r, const char *name, enum prom_type type, const char *help);

/* Adds one sample to family `fam`. Values are printed exactly: integers without exponent. */
void prom_sample_u64(struct prom_registry *r, int fam, const struct prom_label *labels,
                     size_t nlabels, uint64_t value);
void prom_sample_double(struct prom_registry *r, int fam, const struct prom_label *labels,
                        size_t nlabels, double value);

/* Renders every family that has samples. Returns 0 or the first error. */
int prom_render(const struct prom_registry *r, struct buf *out);

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric) / [a-zA-Z_][a-zA-Z0-9_]* (label) */
bool prom_valid_metric_name(const char *s);
bool prom_valid_label_name(const char *s);
