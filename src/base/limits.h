/*
 * Every cap on a growable buffer, in one place (curl's rule): a kernel file or an input that is
 * larger than this is an error (-EFBIG), never an unbounded allocation.
 */
#pragma once

#define KiB (1024ul)
#define MiB (1024ul * KiB)

/* /proc/PID/{stat,status,oom_score...}, cgroup keyed files: seq_file pages, a few KiB. */
#define CAP_KERNEL_FILE (4 * MiB)
/* /proc/PID/cmdline is bounded by the argument area (ARG_MAX-ish); keep the first 128 KiB. */
#define CAP_CMDLINE (128 * KiB)
/* One /dev/kmsg record: the kernel's own limit is 1024 bytes of text + dict; 8 KiB is safe. */
#define CAP_KMSG_RECORD (8 * KiB)
/* Output documents (JSON, tables, metrics exposition). */
#define CAP_OUTPUT (512 * MiB)
/* A log file read into memory as a whole (explain reads streams incrementally instead). */
#define CAP_INPUT_LINE (1 * MiB)
/* A passwd file: directories synced into it reach tens of MiB (100,000 users is ~10 MiB). */
#define CAP_PASSWD (64 * MiB)
/* A config file: thousands of rules fit in 1 MiB; more is a mistake (or /dev/zero). */
#define CAP_CONFIG (1 * MiB)
/* The names of a node's pods and containers (model/workload/podnames): at most ~400 bytes each;
 * 64 MiB is 150,000 of them. */
#define CAP_POD_NAMES (64 * MiB)
