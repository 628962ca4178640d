/* Alert rules on PSI (engine/report/alert): the rule grammar, and the state machine's duration
 * and hysteresis. */
#include "testlib.h"

#include <errno.h>

#include "engine/report/alert.h"
#include "model/pressure/psi.h"

static void parse_rules(void **state)
{
    (void)state;
    struct alert_rule r;
    assert_int_equal(alert_rule_parse("full avg10 > 10 for 5m", &r), 0);
    assert_true(r.full);
    assert_int_equal(r.window, 10);
    assert_false(r.ge);
    assert_int_equal(r.threshold, 1000); /* hundredths of a percent */
    assert_int_equal(r.clear, 800);      /* 80% of the threshold unless given */
    assert_int_equal(r.for_ms, 5 * 60 * 1000);
    assert_string_equal(r.text, "full avg10 > 10 for 5m");

    assert_int_equal(alert_rule_parse("some avg300 >= 2.5% clear 1", &r), 0);
    assert_false(r.full);
    assert_int_equal(r.window, 300);
    assert_true(r.ge);
    assert_int_equal(r.threshold, 250);
    assert_int_equal(r.clear, 100);
    assert_int_equal(r.for_ms, 0);

    assert_int_equal(alert_rule_parse("  some   avg60 >  0.01  ", &r), 0);
    assert_int_equal(r.window, 60);
    assert_int_equal(r.threshold, 1);
}

static void refuse_bad_rules(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "full avg10 >",                  /* no number */
        "half avg10 > 10",               /* some or full */
        "full avg30 > 10",               /* the kernel's windows only */
        "full avg10 < 10",               /* > or >= */
        "full avg10 > ten",              /* a number */
        "full avg10 > 100.01",           /* a share of time, at most 100% */
        "full avg10 > 10 for",           /* a key without its value */
        "full avg10 > 10 for soon",      /* a duration */
        "full avg10 > 10 clear 20",      /* clears above its threshold */
        "full avg10 > 10 every 5m",      /* unknown key */
        "full avg10 > 10 for 1m clear 5 x", /* a word left over */
    };
    struct alert_rule r = {.window = 42};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(alert_rule_parse(bad[i], &r), -EINVAL);
        assert_int_equal(r.window, 42); /* untouched on error */
    }
}

static struct psi reading(uint64_t full10, uint64_t some10)
{
    struct psi p = {0};
    p.some.present = p.full.present = true;
    p.full.avg10 = full10;
    p.some.avg10 = some10;
    return p;
}

/* Raised only once the condition held for the whole duration; a dip resets the wait. */
static void fires_after_duration(void **state)
{
    (void)state;
    struct alert_rule r;
    assert_int_equal(alert_rule_parse("full avg10 > 10 for 10s", &r), 0);
    struct alert_track t = {0};
    struct psi hi = reading(1500, 0), lo = reading(100, 0);
    assert_int_equal(alert_eval(&r, &t, &hi, 1000), ALERT_NO_CHANGE);
    assert_int_equal(t.state, ALERT_PENDING);
    assert_int_equal(alert_eval(&r, &t, &hi, 10999), ALERT_NO_CHANGE);
    /* below the threshold while pending: back to OK, nothing was raised to clear */
    assert_int_equal(alert_eval(&r, &t, &lo, 11000), ALERT_NO_CHANGE);
    assert_int_equal(t.state, ALERT_OK);
    assert_int_equal(alert_eval(&r, &t, &hi, 12000), ALERT_NO_CHANGE);
    assert_int_equal(alert_eval(&r, &t, &hi, 21999), ALERT_NO_CHANGE);
    assert_int_equal(alert_eval(&r, &t, &hi, 22000), ALERT_RAISED);
    assert_int_equal(t.state, ALERT_FIRING);
    assert_int_equal(t.value, 1500);
    assert_int_equal(alert_eval(&r, &t, &hi, 23000), ALERT_NO_CHANGE);
}

/* Firing until the value drops below the clear level, not merely below the threshold. */
static void hysteresis(void **state)
{
    (void)state;
    struct alert_rule r;
    assert_int_equal(alert_rule_parse("full avg10 > 10", &r), 0);
    struct alert_track t = {0};
    struct psi hi = reading(1001, 0), at = reading(1000, 0), between = reading(800, 0),
               below = reading(799, 0);
    assert_int_equal(alert_eval(&r, &t, &at, 0), ALERT_NO_CHANGE); /* > is strict */
    assert_int_equal(t.state, ALERT_OK);
    assert_int_equal(alert_eval(&r, &t, &hi, 0), ALERT_RAISED); /* no duration: at once */
    assert_int_equal(alert_eval(&r, &t, &between, 1000), ALERT_NO_CHANGE);
    assert_int_equal(t.state, ALERT_FIRING);
    assert_int_equal(alert_eval(&r, &t, &below, 2000), ALERT_CLEARED);
    assert_int_equal(t.state, ALERT_OK);
    /* >= takes the threshold itself */
    assert_int_equal(alert_rule_parse("full avg10 >= 10", &r), 0);
    assert_int_equal(alert_eval(&r, &t, &at, 3000), ALERT_RAISED);
}

/* The rule's own line and window: some avg60 does not look at full or at avg10. A reading
 * without the line (a kernel without full) changes nothing. */
static void picks_its_line(void **state)
{
    (void)state;
    struct alert_rule r;
    assert_int_equal(alert_rule_parse("some avg60 > 5", &r), 0);
    struct alert_track t = {0};
    struct psi p = reading(9000, 9000); /* avg10s high, avg60 zero */
    assert_int_equal(alert_eval(&r, &t, &p, 0), ALERT_NO_CHANGE);
    assert_int_equal(t.state, ALERT_OK);
    p.some.avg60 = 501;
    assert_int_equal(alert_eval(&r, &t, &p, 0), ALERT_RAISED);

    assert_int_equal(alert_rule_parse("full avg10 > 5", &r), 0);
    t = (struct alert_track){0};
    p = reading(9000, 0);
    p.full.present = false;
    assert_int_equal(alert_eval(&r, &t, &p, 0), ALERT_NO_CHANGE);
    assert_int_equal(t.state, ALERT_OK);
    assert_int_equal(t.value, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_rules),
        cmocka_unit_test(refuse_bad_rules),
        cmocka_unit_test(fires_after_duration),
        cmocka_unit_test(hysteresis),
        cmocka_unit_test(picks_its_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
