# TAP helpers for the shell test scripts (sourced).
#   ok "name"; not_ok "name" "why"; skip "name" "reason"; check "name" cmd...; done_testing
# Counts are printed by the runner (tests/run), which reads the "ok"/"not ok" lines.

TAP_N=0
TAP_FAILED=0

ok() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1"
}

not_ok() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | sed 's/^/#   /'
    fi
}

skip() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1 # SKIP $2"
}

# check NAME CMD...: ok when CMD succeeds; its output is shown on failure.
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        ok "$name"
    else
        not_ok "$name" "$out"
    fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "expected: $2
actual:   $3"
    fi
}

done_testing() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}

# skip_all REASON: the whole script cannot run here
skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}
