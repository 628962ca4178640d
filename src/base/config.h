/*
 * Table-driven configuration: one table of options (section, key, type, where it goes) serves
 * the config file (INI, parsed by inih), the command-line flags (--key value) and the
 * documentation. Errors name the file, the line and the key.
 *
 * The file is read whole (a regular file of at most CAP_CONFIG bytes; a directory, a FIFO or a
 * device is refused before any read) and no line is ever cut: inih's line buffer is sized for
 * the longest line of the file (Debian's libinih has the buffer size as a run-time variable; its
 * default of 200 bytes cut a longer `cmdline` regex in two and read the rest as another line).
 * A key given twice in a section, a section given twice, a NUL byte and a key outside any
 * section are errors. Indented lines are lines of their own, never continuations of the value
 * above (inih's multi-line values read "  exclude = /b" under "include = /a" as part of include).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum config_type {
    CONFIG_STRING,   /* char * (malloc'd; freed by config_release) */
    CONFIG_BOOL,     /* bool: yes/no, true/false, on/off, 1/0 */
    CONFIG_UINT,     /* uint64_t within [min, max] */
    CONFIG_DURATION, /* uint64_t milliseconds: "250ms", "10s", "5m" */
    CONFIG_SIZE,     /* uint64_t bytes: "256M" */
    CONFIG_LIST,     /* struct config_list: comma-separated (a flag may repeat) */
    CONFIG_GLOBS,    /* a CONFIG_LIST of cgroup path globs: each starts with '/' or '*' and is
                        a well-formed fnmatch pattern */
};

struct config_list {
    char **v;
    size_t n;
};

struct config_option {
    const char *section; /* INI section */
    const char *key;     /* INI key, and the flag --key */
    enum config_type type;
    size_t offset; /* into the caller's config struct */
    uint64_t min, max;
    const char *help;
};

/*
 * Sections that are not fixed (e.g. one [rule NAME] per policy rule) go to this callback, with
 * the line of the section's [header]. Return 0, or a negative errno after writing the reason
 * into `err`.
 */
typedef int (*config_section_fn)(void *ctx, const char *section, int section_line,
                                 const char *key, const char *value, struct buf *err);

struct config_schema {
    const struct config_option *opts;
    size_t n;
    config_section_fn other_section; /* NULL: unknown sections are errors */
    void *ctx;
    int *lines; /* NULL, or n ints: the loaders set each option's line in the file (0: not in it),
                 * for messages about values that only fail together */
};

/* Adds the comma-separated items of `value` to l (trimmed; empty ones skipped). An item cannot
 * start with ';': written back as "a, ;b" it would start a comment. Returns 0, -ENOMEM, or
 * -EINVAL with "KEY: why" in err. */
int config_list_parse(struct config_list *l, const char *key, const char *value, struct buf *err);
void config_list_release(struct config_list *l);

/* Whether a cgroup path glob can match a cgroup path: NULL, or why not (static text). */
const char *config_glob_problem(const char *glob);

/* Sets one option from text. On error returns -EINVAL/-ERANGE/-ENOENT with a message in err. */
int config_set(const struct config_schema *s, void *out, const char *section, const char *key,
               const char *value, struct buf *err);
/* Finds the option a flag name refers to ("listen" → [agent] listen). NULL if none. */
const struct config_option *config_find_flag(const struct config_schema *s, const char *flag);
/* Loads a file. On error returns negative and writes "PATH:LINE: message" (or "PATH: message"
 * when the file cannot be read) into err. */
int config_load_file(const struct config_schema *s, void *out, const char *path, struct buf *err);
/* Reads a config file into `text` (regular files only, at most CAP_CONFIG bytes). Returns 0, or
 * a negative errno with "PATH: why" in err. */
int config_read_file(const char *path, struct buf *text, struct buf *err);
/* The same for text in memory (len bytes, NULs included), named `name` in messages. */
int config_load_text(const struct config_schema *s, void *out, const char *text, size_t len,
                     const char *name, struct buf *err);
/* Frees strings and lists the schema's options point to. */
void config_release(const struct config_schema *s, void *out);
/* Writes the effective configuration as an INI file (for --check-config and docs). */
int config_dump(const struct config_schema *s, const void *cfg, struct buf *out);
