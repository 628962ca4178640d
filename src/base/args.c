#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void args_init(struct args *a, int argc, char **argv, const struct args_option *opts, size_t nopts,
               unsigned flags)
{
    *a = (struct args){.argc = argc, .argv = argv, .opts = opts, .nopts = nopts, .next = 1,
                       .flags = flags};
}

static void set_spelled(struct args *a, const char *s, size_t n)
{
    if (n >= sizeof(a->spelled))
        n = sizeof(a->spelled) - 1;
    memcpy(a->spelled, s, n);
    a->spelled[n] = '\0';
}

static int fail(struct args *a, enum args_error e)
{
    a->error = e;
    a->opt = NULL;
    a->value = NULL;
    return -EINVAL;
}

static int found(struct args *a, const struct args_option *o, const char *value, bool negated)
{
    a->opt = o;
    a->value = value;
    a->negated = negated;
    a->error = ARGS_OK;
    return o->id;
}

static bool name_is(const char *name, const char *s, size_t n, bool prefix)
{
    return strncmp(name, s, n) == 0 && (prefix || name[n] == '\0');
}

/*
 * The option a long name (without dashes, n bytes) stands for: an exact name, an exact --no-NAME,
 * then a prefix of either that leads to one option only. Sets *negated.
 */
static const struct args_option *match_long(struct args *a, const char *s, size_t n, bool *negated)
{
    bool no = n > 3 && strncmp(s, "no-", 3) == 0;
    for (int prefix = 0; prefix <= 1; prefix++) {
        const struct args_option *hit = NULL;
        bool hit_neg = false;
        for (size_t i = 0; i < a->nopts; i++) {
            const struct args_option *o = &a->opts[i];
            if (!o->name)
                continue;
            bool neg;
            if (name_is(o->name, s, n, prefix))
                neg = false;
            else if (no && o->negatable && name_is(o->name, s + 3, n - 3, prefix))
                neg = true;
            else
                continue;
            /* --color and --colour: two names, one option */
            if (hit && (hit->id != o->id || hit_neg != neg)) {
                a->candidates[0] = hit;
                a->candidates[1] = o;
                a->candidate_negated[0] = hit_neg;
                a->candidate_negated[1] = neg;
                return NULL;
            }
            if (!hit) {
                hit = o;
                hit_neg = neg;
            }
        }
        if (hit) {
            *negated = hit_neg;
            return hit;
        }
    }
    return NULL;
}

static int next_long(struct args *a, const char *arg)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    set_spelled(a, arg, n + 2);
    a->candidates[0] = a->candidates[1] = NULL;
    bool negated = false;
    const struct args_option *o = n ? match_long(a, name, n, &negated) : NULL;
    if (!o)
        return fail(a, a->candidates[0] ? ARGS_AMBIGUOUS : ARGS_UNKNOWN);
    if (negated || o->value == ARGS_NO_VALUE) {
        if (eq)
            return fail(a, ARGS_EXTRA_VALUE);
        return found(a, o, NULL, negated);
    }
    if (eq)
        return found(a, o, eq + 1, false);
    if (o->value == ARGS_OPTIONAL_VALUE)
        return found(a, o, NULL, false);
    if (a->next >= a->argc)
        return fail(a, ARGS_MISSING_VALUE);
    return found(a, o, a->argv[a->next++], false);
}

static int next_short(struct args *a)
{
    char c = *a->cluster++;
    char s[3] = {'-', c, '\0'};
    set_spelled(a, s, 2);
    const struct args_option *o = NULL;
    for (size_t i = 0; i < a->nopts && !o; i++)
        if (a->opts[i].short_name && a->opts[i].short_name == (unsigned char)c)
            o = &a->opts[i];
    if (!o)
        return fail(a, ARGS_UNKNOWN);
    if (o->value == ARGS_NO_VALUE)
        return found(a, o, NULL, false);
    /* the rest of the cluster is the value: -n5, -tn5 */
    if (*a->cluster) {
        const char *v = a->cluster;
        a->cluster = NULL;
        return found(a, o, v, false);
    }
    a->cluster = NULL;
    if (o->value == ARGS_OPTIONAL_VALUE)
        return found(a, o, NULL, false);
    if (a->next >= a->argc)
        return fail(a, ARGS_MISSING_VALUE);
    return found(a, o, a->argv[a->next++], false);
}

int args_next(struct args *a)
{
    for (;;) {
        if (a->cluster && *a->cluster)
            return next_short(a);
        a->cluster = NULL;
        bool operand = a->next < a->argc &&
                       (a->ended || a->argv[a->next][0] != '-' || a->argv[a->next][1] == '\0');
        if (a->next >= a->argc || (operand && (a->flags & ARGS_STOP_AT_OPERAND))) {
            if (a->flags & ARGS_STOP_AT_OPERAND) {
                a->operands = a->argv + a->next;
                a->noperands = a->argc - a->next;
            } else {
                a->operands = a->flags & ARGS_KEEP_ARGV ? NULL : a->argv + 1;
            }
            a->opt = NULL;
            a->value = NULL;
            return 0;
        }
        char *arg = a->argv[a->next++];
        if (!a->ended && strcmp(arg, "--") == 0) {
            a->ended = true;
            continue;
        }
        if (operand) {
            /* to the front, after those before it (never past the one being read) */
            if (!(a->flags & ARGS_KEEP_ARGV))
                a->argv[1 + a->noperands] = arg;
            a->noperands++;
            continue;
        }
        if (arg[1] == '-')
            return next_long(a, arg);
        a->cluster = arg + 1;
    }
}

char *args_error_text(const struct args *a, char *out, size_t n)
{
    switch (a->error) {
    case ARGS_UNKNOWN:
        snprintf(out, n, "unknown option '%s'", a->spelled);
        break;
    case ARGS_AMBIGUOUS:
        snprintf(out, n, "option '%s' is ambiguous: --%s%s or --%s%s?", a->spelled,
                 a->candidate_negated[0] ? "no-" : "", a->candidates[0]->name,
                 a->candidate_negated[1] ? "no-" : "", a->candidates[1]->name);
        break;
    case ARGS_MISSING_VALUE:
        snprintf(out, n, "option '%s' needs a value", a->spelled);
        break;
    case ARGS_EXTRA_VALUE:
        snprintf(out, n, "option '%s' takes no value", a->spelled);
        break;
    default:
        snprintf(out, n, "bad option '%s'", a->spelled);
        break;
    }
    return out;
}
