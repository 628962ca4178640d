/*
 * The parts of explain's words shared by its files: explain.c (units, the badness arithmetic,
 * the text writer, the one-line form), explain-text.c (an event's block of text),
 * explain-why.c (why that victim), explain-cascade.c (kills in a row), explain-json.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/table.h"
#include "explain.h"

struct buf;
struct oom_event;
struct oom_task;
struct oom_victim;
struct oom_counter;

/* page_counter's "max" (PAGE_COUNTER_MAX pages, 2^53 kB and a bit less), and res_counter's
 * ULLONG_MAX bytes before 3.19: both mean "no limit" */
#define UNLIMITED_KB (1ull << 50)

bool unlimited(uint64_t kb);
const char *kb_str(char out[24], uint64_t kb);
/* pages as a size when the page size is known, else as a count */
const char *pages_str(char out[40], const struct oom_event *e, uint64_t pages);
bool is_v2(const struct oom_event *e);
bool is_v1(const struct oom_event *e);

/* Which oom_badness() produced the choice: the task table can be compared with it only for the
 * page-based formula (3.5+); 2.6.36-3.4 scored per mille, and before 2.6.36 the score also
 * counted children's memory, CPU time and nice (so a parent with many children could win). */
enum algo { ALGO_UNKNOWN, ALGO_OLD, ALGO_PERMILLE, ALGO_PAGES };
enum algo event_algo(const struct oom_event *e);

struct bad {
    uint64_t rss, swap, pt, base; /* pages */
    int64_t adj;
    bool adj_known;
    uint64_t total; /* the domain's pages, OPT_ABSENT when unknown */
    bool total_approx;
    int64_t adj_pages;
    int64_t points;
};

/* totalpages of the OOM domain: RAM + swap (global), the memcg limit (+ swap it may use) */
uint64_t domain_pages(const struct oom_event *e, bool *approx);
bool badness_of(const struct oom_event *e, const struct oom_task *r, struct bad *b);

/* the text writer: the first error sticks in `err` */
struct out {
    struct buf *b;
    const struct explain_style *st;
    int err;
};

void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* kernel text in prose: control bytes and invalid UTF-8 become '?' */
void put_text(struct out *o, const char *s);
void put_int(struct out *o, int64_t v);
void label(struct out *o, const char *name);
void style(struct out *o, enum table_style s);
void unstyle(struct out *o);
void put_task(struct out *o, const char *comm, int64_t pid);

/* explain-why.c */
void why_text(struct out *o, const struct oom_event *e, bool compact);

/* explain-user.c: kills told by userspace's lines (systemd, systemd-oomd, earlyoom) */
struct json;
void unit_text(struct out *o, const struct oom_event *e);
void user_event_text(struct out *o, const struct oom_event *e);
void user_event_line(struct out *o, const struct oom_event *e);
/* killer, reported_by and systemd of an event in events[] (the kernel's kill) */
void user_json(struct json *j, const struct oom_event *e);

/* explain-json.c: "explanation", the event's text without its title line */
struct podnames;
int json_explanation(struct json *j, const struct oom_event *e, const struct podnames *names);
