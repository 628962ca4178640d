/*
 * The size of a POSIX extended regex once glibc's regcomp() has compiled it, estimated from the
 * text before compiling. regcomp() copies the tree under a repetition for every copy it needs:
 * E{m,n} is n copies of E, E+ is two, so nested or stacked repetitions multiply ("a+" fifteen
 * times over took 10 MB and each further '+' doubles it; fuzz-config ran the agent's config
 * loader out of 2 GiB with one). The estimate lets a config refuse such a regex with a message
 * instead of the agent compiling it into gigabytes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Roughly the number of tree nodes regcomp() builds for `re` (REG_EXTENDED), capped at
 * UINT32_MAX; groups nested more than 256 deep count as the cap. The text need not be a valid
 * regex: regcomp() says what is wrong with it.
 *
 * *ret_stacked (may be NULL) is set when a repetition repeats a repetition ("a++", ".*?",
 * "a{2}*"): POSIX leaves that undefined (".*?" is not a lazy match here), and glibc's closure
 * computation over two such runs is worse than their size says ("a+{11}b*+{10}", 7,000 nodes,
 * took 3.5 s and 119 MB to compile). */
uint64_t ere_cost(const char *re, bool *ret_stacked);
