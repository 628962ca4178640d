/*
 * Messages to stderr for the CLI and the daemon. Library code (model, engines) returns errors and
 * does not log above debug; the caller decides what the user sees.
 */
#pragma once

#include <stdbool.h>

enum log_level { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Where error-level messages also go (after stderr): the CLI keeps them for its JSON error
 * document under --json. NULL removes the sink.
 */
typedef void (*log_sink_fn)(const char *msg, void *userdata);
void log_set_error_sink(log_sink_fn fn, void *userdata);

/* Logs at error level and returns r (a negative errno), for `return log_error_errno(r, ...)`. */
int log_error_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
