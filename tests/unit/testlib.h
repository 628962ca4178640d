/* Shared by the cmocka unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must be defined by the build"
#endif

#define FIXTURE(name) FIXTURES_DIR "/" name

#define assert_span_equal(sp, lit)                                                                 \
    do {                                                                                           \
        struct span _s = (sp);                                                                   \
        assert_int_equal(_s.n, strlen(lit));                                                       \
        assert_memory_equal(_s.p, lit, _s.n);                                                      \
    } while (0)
