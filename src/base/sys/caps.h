/* This process's effective capabilities (capget(2)), whatever /proc a --root points at. */
#pragma once

#include <stdbool.h>

/* Whether capability `cap` (linux/capability.h: CAP_SYS_RESOURCE is 24) is effective. False when
 * the kernel will not say. */
bool caps_effective(int cap);
