/* base/args: a command line, one argument per line of the input, read with each mode of the
 * parser; every error gets its text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct args_option opts[] = {
    {"dry-run", 'n', ARGS_NO_VALUE, 1},
    {"top", 'N', ARGS_VALUE, 2},
    {"tree", 't', ARGS_NO_VALUE, 3},
    {"color", 0, ARGS_VALUE, 4},
    {"colour", 0, ARGS_VALUE, 4},
    {"no-sync", 0, ARGS_NO_VALUE, 5},
    {"next-victim", 0, ARGS_OPTIONAL_VALUE, 6, true},
    {"next-day", 0, ARGS_VALUE, 7},
    {NULL, 'x', ARGS_VALUE, 8},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *argv[66];
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static const unsigned modes[] = {0, ARGS_KEEP_ARGV, ARGS_STOP_AT_OPERAND};
    for (size_t m = 0; m < 3; m++) {
        int argc = 0;
        argv[argc++] = "prog";
        /* one argument per line (a NUL inside ends that argument early, as in a real argv) */
        for (char *p = text, *nl; argc < 65 && p <= text + size; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(text + size - p));
            if (!nl)
                nl = text + size;
            *nl = '\0';
            argv[argc++] = p;
        }
        argv[argc] = NULL;
        struct args a;
        args_init(&a, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), modes[m]);
        int id, guard = 0;
        char why[160];
        while ((id = args_next(&a)) != 0 && guard++ < 10000) {
            if (id < 0)
                (void)args_error_text(&a, why, sizeof(why));
            else if (a.value)
                (void)strlen(a.value);
        }
        for (int i = 0; a.operands && i < a.noperands; i++)
            (void)strlen(a.operands[i]);
        /* undo the line splits for the next mode */
        for (size_t i = 0; i < size; i++)
            if (text[i] == '\0' && data[i] == '\n')
                text[i] = '\n';
    }
    free(text);
    return 0;
}
