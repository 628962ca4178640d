/* A root's etc/passwd (user names for ps and the rules' uid = NAME): any bytes, a file of
 * another system, a hostile container image's. Besides not crashing, every entry it keeps must
 * be found again by its uid and by its name, and no name may hold ':', a newline or a control
 * character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/proc/passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct passwd_db db;
    if (passwd_parse((const char *)data, size, &db) < 0)
        return 0;
    for (size_t i = 0; i < db.n; i++) {
        const struct passwd_entry *e = &db.v[i];
        const char *name = db.names + e->name;
        if (i && (db.v[i - 1].uid > e->uid ||
                  (db.v[i - 1].uid == e->uid && db.v[i - 1].name >= e->name)))
            abort(); /* not sorted by uid, then file order */
        if (e->uid > PASSWD_UID_MAX || !*name || *name == '+' || *name == '-')
            abort();
        for (const char *p = name; *p; p++)
            if (*p == ':' || (unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        const char *by_uid = passwd_db_name(&db, e->uid);
        uint32_t uid;
        if (!by_uid || passwd_db_uid(&db, name, &uid) < 0 || !passwd_db_name(&db, uid))
            abort();
        if ((i == 0 || db.v[i - 1].uid != e->uid) && strcmp(by_uid, name) != 0)
            abort(); /* the first entry of a uid is the one its name comes from */
    }
    passwd_db_release(&db);
    return 0;
}
