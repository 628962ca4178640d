/*
 * uid <-> user name. On this machine through NSS (as ps does); under --root through the tree's
 * own etc/passwd, because the container's NSS knows nothing of the host's users.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sysroot;

struct user_entry {
    int64_t uid;
    char *name;
};

struct users {
    const struct sysroot *sr;
    struct user_entry *v;
    size_t n, cap;
    bool passwd_loaded;
    char numbuf[24];
};

void users_init(struct users *u, const struct sysroot *sr);
void users_release(struct users *u);
/* The name, or the number as text when unknown; valid until the next call. */
const char *users_name(struct users *u, int64_t uid);
/* A name or a number to a uid; -ENOENT when there is no such user. */
int users_parse(struct users *u, const char *name_or_uid, int64_t *ret);
