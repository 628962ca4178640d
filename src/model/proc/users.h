/*
 * uid <-> user name, from the passwd file of the root being read (<root>/etc/passwd: this
 * machine's, or the host's under --root /host), never through NSS (see passwd.h for why). A uid
 * that file does not list is shown as its number; users that only NSS modules know (LDAP, sssd,
 * systemd's dynamic users) are shown as numbers too.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "passwd.h"

struct sysroot;

struct users {
    const struct sysroot *sr;
    struct passwd_db db;
    bool loaded;
    int load_error; /* reading <root>/etc/passwd: 0 or a negative errno */
    char numbuf[24];
};

void users_init(struct users *u, const struct sysroot *sr);
void users_release(struct users *u);
/* Reads <root>/etc/passwd once. Returns 0 or the negative errno (-ENOENT: no such file). */
int users_load(struct users *u);
/* The name, or the number as text when the file does not list it ("?" for -1); valid until the
 * next call. */
const char *users_name(struct users *u, int64_t uid);
/* A user name or a uid (0..4294967294) to a uid. -ERANGE for a number out of that range,
 * -ENOENT for a name the file does not list (u->load_error says when it could not be read). */
int users_parse(struct users *u, const char *name_or_uid, int64_t *ret);
/* A uid as digits: 0, -EINVAL when it is not a number (a name?), -ERANGE beyond 4294967294. */
int uid_parse(const char *s, int64_t *ret);
/* "<root>/etc/passwd", for messages (static storage, as sysroot_path). */
const char *users_file(const struct users *u);
