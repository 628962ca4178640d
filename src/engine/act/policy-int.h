/* The policy's rule keys, private to engine/act/policy*.c: policy-config.c reads them,
 * policy.c matches and plans by them. */
#pragma once

#include "policy.h"

enum rule_key {
    K_COMM, K_EXE, K_CMDLINE, K_UID, K_CGROUP, K_QOS, K_POD, K_CONTAINER, K_UNIT, K_CHILDREN,
    K_NAMESPACE, K_POD_NAME, K_ADJ, K_OOM_GROUP, K_MEMORY_HIGH, K_GUARD, K_KILL_UNIT, K_COUNT,
};

/* which keys a rule has set (struct policy_rule.set_keys), by kind */
#define PROCESS_MATCHERS ((1u << K_COMM) | (1u << K_EXE) | (1u << K_CMDLINE) | (1u << K_UID))
#define CGROUP_MATCHERS                                                                            \
    ((1u << K_CGROUP) | (1u << K_QOS) | (1u << K_POD) | (1u << K_CONTAINER) | (1u << K_UNIT) |   \
     (1u << K_NAMESPACE) | (1u << K_POD_NAME))
#define PROCESS_ACTIONS ((1u << K_ADJ) | (1u << K_GUARD) | (1u << K_KILL_UNIT))
#define CGROUP_ACTIONS ((1u << K_OOM_GROUP) | (1u << K_MEMORY_HIGH))
