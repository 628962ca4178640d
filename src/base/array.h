/* Growable arrays: the one way an array of structs here makes room for one more element. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Room for one more element in `v` (n elements of `size` bytes, *cap allocated): `v` itself while
 * there is room, else `v` reallocated to twice *cap (to `first` the first time) with *cap set.
 * NULL when out of memory (or the size would overflow): `v` and *cap are then as they were. */
static inline void *array_room(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : first;
    if (c > SIZE_MAX / size)
        return NULL;
    void *nv = realloc(v, c * size);
    if (nv)
        *cap = c;
    return nv;
}

/* array_room on an array pointer lvalue `v` and its size_t `cap`, n of them in use: 0, or
 * -ENOMEM with the array as it was. */
#define ARRAY_GROW(v, n, cap, first)                                                               \
    ({                                                                                             \
        void *room_ = array_room((v), (n), &(cap), sizeof(*(v)), (first));                         \
        if (room_)                                                                                 \
            (v) = room_;                                                                           \
        room_ ? 0 : -ENOMEM;                                                                       \
    })
