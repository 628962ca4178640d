#include "cli.h"
int cmd_status(struct cli *c, int argc, char **argv) { (void)c; (void)argc; (void)argv; return 0; }
