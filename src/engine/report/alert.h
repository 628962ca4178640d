/*
 * Threshold rules on memory pressure with a duration and hysteresis, as people write them in
 * alerting systems: "full avg10 > 10 for 5m" raises after the condition held for 5 minutes and
 * clears once the value drops below the clear level (default: 80% of the threshold) — so a value
 * hovering at the threshold does not flap.
 *
 *   RULE := (some|full) (avg10|avg60|avg300) (>|>=) NUMBER [for DURATION] [clear NUMBER]
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct psi;

struct alert_rule {
    char text[96]; /* as given, for messages */
    bool full;
    int window; /* 10, 60 or 300 */
    bool ge;
    uint64_t threshold; /* hundredths of a percent, like struct psi_line */
    uint64_t clear;     /* below this it clears */
    uint64_t for_ms;
};

int alert_rule_parse(const char *s, struct alert_rule *ret);

enum alert_state { ALERT_OK, ALERT_PENDING, ALERT_FIRING };

struct alert_track {
    enum alert_state state;
    uint64_t since_ms; /* when the condition became true (PENDING/FIRING) */
    uint64_t value;    /* the last value seen */
};

enum alert_change { ALERT_NO_CHANGE, ALERT_RAISED, ALERT_CLEARED };

/* Feeds one PSI reading taken at `now_ms`. Returns what changed. */
enum alert_change alert_eval(const struct alert_rule *r, struct alert_track *t, const struct psi *p,
                             uint64_t now_ms);
