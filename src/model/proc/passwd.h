/*
 * The passwd(5) database as a file, parsed without NSS: name:password:uid:gid:gecos:home:shell,
 * one user a line. oomwarden never calls getpwuid()/getpwnam(): a static binary that does loads
 * the host's NSS modules, and with Debian's `passwd: files systemd` it crashed in libnss_systemd
 * on the first uid /etc/passwd does not list (every container's uid). And under --root the users
 * are the host's, in the host's file, which the container's NSS knows nothing of.
 *
 * Lines are read the way glibc's files backend reads them (nss_files, files-parse.c): leading
 * blanks skipped, empty and '#' lines skipped, numbers as strtoul reads them, the first entry of
 * a uid or a name wins (tests/unit/test-users.c checks this against glibc's fgetpwent). Unlike
 * it: NIS compat entries ('+', '-': users of another database) name no one here, an empty name
 * or one with a control character (an escape code on a terminal) is no entry, and neither is
 * uid 4294967295 ((uid_t)-1).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* (uid_t)-1 is "no uid" to the kernel (setresuid keeps the id), never a user's */
#define PASSWD_UID_MAX 4294967294u

struct passwd_entry {
    uint32_t uid;
    uint32_t name; /* offset of the NUL-terminated name in passwd_db.names */
};

struct passwd_db {
    struct passwd_entry *v; /* sorted by uid, then by place in the file */
    size_t n;
    char *names;
    size_t names_len;
    size_t skipped; /* lines that are not entries (comments and blank lines not counted) */
};

/* Parses a passwd file's text; any text parses. Returns 0, or -ENOMEM/-EFBIG (4 GiB) with *out
 * empty. */
int passwd_parse(const char *buf, size_t len, struct passwd_db *out);
void passwd_db_release(struct passwd_db *db);
/* The name of the first entry with this uid, or NULL. */
const char *passwd_db_name(const struct passwd_db *db, uint32_t uid);
/* The uid of the first entry with this name: 0, or -ENOENT. */
int passwd_db_uid(const struct passwd_db *db, const char *name, uint32_t *ret);
