/*
 * Table-driven configuration: one table of options (section, key, type, where it goes) serves
 * the config file (INI, parsed by inih), the command-line flags (--key value) and the
 * documentation. Errors name the file, the line and the key.
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
    CONFIG_LIST,     /* struct config_list: comma-separated, repeatable */
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
 * Sections that are not fixed (e.g. one [rule NAME] per policy rule) go to this callback.
 * Return 0, or a negative errno after writing the reason into `err`.
 */
typedef int (*config_section_fn)(void *ctx, const char *section, const char *key,
                                 const char *value, struct buf *err);

struct config_schema {
    const struct config_option *opts;
    size_t n;
    config_section_fn other_section; /* NULL: unknown sections are errors */
    void *ctx;
};

/* Sets one option from text. On error returns -EINVAL/-ERANGE/-ENOENT with a message in err. */
int config_set(const struct config_schema *s, void *out, const char *section, const char *key,
               const char *value, struct buf *err);
/* Finds the option a flag name refers to ("listen" → [agent] listen). NULL if none. */
const struct config_option *config_find_flag(const struct config_schema *s, const char *flag);
/* Loads a file. On error returns negative and writes "PATH:LINE: message" into err. */
int config_load_file(const struct config_schema *s, void *out, const char *path, struct buf *err);
int config_load_string(const struct config_schema *s, void *out, const char *text,
                       const char *name, struct buf *err);
/* Frees strings and lists the schema's options point to. */
void config_release(const struct config_schema *s, void *out);
/* Writes the effective configuration as an INI file (for --check-config and docs). */
int config_dump(const struct config_schema *s, const void *cfg, struct buf *out);
