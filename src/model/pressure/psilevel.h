/*
 * How bad a memory PSI reading is, on thresholds people already alert on, each named with its
 * source so that the output can say which one was crossed (docs/thresholds.md):
 *
 *   severe     full avg10 >= 60%      systemd-oomd kills a cgroup at 60% for 30 s
 *                                     (oomd.conf DefaultMemoryPressureLimit=60%,
 *                                     DefaultMemoryPressureDurationSec=30s)
 *   sustained  full avg300 >= 10%     "full > 10% for 5 minutes", the usual PSI alert
 *                                     (rate(node_pressure_memory_stalled_seconds_total[5m]) > 0.10)
 *   stalling   full avg10 or avg60 >= 10%, not yet for 5 minutes
 *   waiting    some avg10 >= 10%      a task waited for memory a tenth of the last 10 s
 *   healthy    below all of these: some avg10 in low single digits is a healthy machine, and a
 *              full of a few tenths of a percent is reclaim doing its job
 *
 * Pure: no I/O.
 */
#pragma once

#include <stddef.h>

#include "psi.h"

enum psi_level { PSI_HEALTHY, PSI_WAITING, PSI_STALLING, PSI_SUSTAINED, PSI_SEVERE };

/* The worst level the reading reaches (lines that are not present count as 0). */
enum psi_level psi_level_of(const struct psi *p);

/* "healthy", "waiting", "stalling", "sustained", "severe" */
const char *psi_level_name(enum psi_level l);

/* The threshold that puts a reading at level l, in words with its source:
 * "full avg300 >= 10%: the usual alert, full > 10% for 5 minutes". For PSI_HEALTHY: what
 * the next level would need. */
const char *psi_level_rule(enum psi_level l);

/* "some 1.20 0.80 0.30, full 0.10 0.05 0.01" (percent, avg10 avg60 avg300). Returns out. */
char *psi_words(const struct psi *p, char *out, size_t n);
