/* A lab run as JSON (oomwarden lab --json; docs/json/lab.md). */
#pragma once

#include <stdbool.h>

struct buf;
struct lab_result;

/* `ok`: the run showed what it set out to (the command's exit status). Returns 0 or a negative
 * errno. */
int lab_result_json(const struct lab_result *r, bool ok, struct buf *out);
