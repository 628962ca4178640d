/* The agent's config file (inih behind config_load_text, the option table, the [rule NAME]
 * sections): any bytes. Besides not crashing: a file that loads is printed back as
 * --check-config prints it, and that text loads again and prints the same (what --check-config
 * shows is what the agent runs with). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "engine/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_config cfg, again;
    struct buf err = BUF_INIT(1 << 16);
    if (agent_config_parse(NULL, "fuzz.conf", (const char *)data, size, NULL, 0, &cfg, &err) < 0) {
        if (err.len == 0 || strncmp(buf_cstr(&err), "fuzz.conf", 9) != 0)
            abort(); /* every error says where */
        buf_release(&err);
        return 0;
    }
    struct buf dump = BUF_INIT(1 << 24), dump2 = BUF_INIT(1 << 24);
    if (agent_config_dump(&cfg, &dump) < 0)
        abort();
    if (agent_config_parse(NULL, "dump.conf", dump.data, dump.len, NULL, 0, &again, &err) < 0)
        abort(); /* the file as --check-config prints it does not load */
    if (agent_config_dump(&again, &dump2) < 0 || dump.len != dump2.len ||
        memcmp(dump.data, dump2.data, dump.len) != 0)
        abort(); /* ... or loads to something else */
    agent_config_release(&again);
    agent_config_release(&cfg);
    buf_release(&dump);
    buf_release(&dump2);
    buf_release(&err);
    return 0;
}
