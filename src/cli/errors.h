/*
 * Errors under --json. Every error a command says (log_error, cli_usage_error) is kept as well
 * as printed on stderr; under --json they also reach stdout as JSON (docs/json/errors.md):
 *   - inside the command's document, as "errors": [MESSAGE...], when it writes one;
 *   - otherwise, when the command fails, as the error document on one line:
 *     {"error": {"command", "exit_code", "usage", "message", "messages"}}.
 */
#pragma once

#include <stdbool.h>

struct buf;
struct cli;

/* Starts keeping this run's errors (main, before the command): c->json and c->cmd are read
 * when they are written. */
void cli_errors_begin(const struct cli *c);

/* Keeps a message that was printed by other means (a usage error). */
void cli_errors_add(const char *msg, bool usage);

/* Under --json, puts the errors so far into the document about to be written (a JSON object),
 * as its last member "errors". Returns 0 or -ENOMEM/-EFBIG (the document is unchanged). */
int cli_errors_into_document(struct buf *doc);

/* The end of the run: under --json, when the command failed (rc != 0) and wrote no document,
 * the error document on stdout. Forgets what was kept. Returns rc. */
int cli_errors_end(int rc);
