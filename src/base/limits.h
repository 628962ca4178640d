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

/* Small buffers, named by what they hold. */
/* One number or word from a kernel file: a sysctl, /proc/uptime, /proc/PID/comm. */
#define CAP_KERNEL_VALUE (256ul)
/* A kernel file of one line or a few: a PSI file, osrelease, cgroup.controllers, memory.current,
 * /proc/PID/stat. */
#define CAP_KERNEL_LINE (4 * KiB)
/* A path built under a mount point or shown whole: a cgroup path is not bound by PATH_MAX (a
 * deep tree is walked with openat()). */
#define CAP_PATH (64 * KiB)
/* One line of text built before it is written: a finding's evidence, a table cell's words. */
#define CAP_TEXT_LINE (64 * KiB)
/* An error or warning message, an HTTP error body. */
#define CAP_MESSAGE (4 * KiB)
/* A block of text or JSON built whole: a finding's data, a configuration dump, an explained
 * report. */
#define CAP_TEXT_BLOCK (1 * MiB)

