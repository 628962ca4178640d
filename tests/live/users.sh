#!/usr/bin/env bash
# User names without NSS, with a real process under a uid this machine does not know (every
# container's uid): the shipped static binary used to load NSS modules and crash in
# libnss_systemd (exit 139) on such a process, in ps, ps --json, ps --user, and in apply/agent
# with a `uid = NAME` rule. Run against the static build/oomwarden and, when it is built, the
# sanitizer build (build-asan/oomwarden, dynamic: it had no crash and hid the bug):
#   - no NSS code in the binary at all;
#   - ps / ps --json / ps --tree / ps --user show the unknown uid as its number;
#   - names come from the passwd file of the root being read: a root whose etc/passwd names the
#     uid shows that name (the host's file under --root /host);
#   - `uid = NAME` that the root's passwd does not list is a config error with file:line in
#     apply, --check-config, at start and at SIGHUP (the agent logs it and keeps running);
#   - the agent applies a `uid = NUMBER` rule to the unknown-uid process.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
command -v setpriv >/dev/null || skip_all "setpriv not installed (util-linux)"
command -v jq >/dev/null || skip_all "jq not installed"
command -v curl >/dev/null || skip_all "curl not installed"

# a uid neither /etc/passwd nor NSS knows
U=12345
while grep -q "^[^:]*:[^:]*:$U:" /etc/passwd || getent passwd "$U" >/dev/null; do U=$((U + 1)); done
setpriv --reuid="$U" --regid="$U" --clear-groups sleep 300 </dev/null >/dev/null 2>&1 &
P=$!
disown "$P"
LIVE_PIDS+=("$P")
for _ in $(seq 50); do [ "$(stat -c %u "/proc/$P" 2>/dev/null)" = "$U" ] && break; sleep 0.05; done
expect_eq "setup: process $P runs under uid $U, unknown to /etc/passwd and NSS" "$U" "$(stat -c %u "/proc/$P")"
# a name /etc/passwd does list (other than root), and one nobody has
KNOWN=$(awk -F: '$3 != 0 && $1 !~ /^[+-]/ {print $1; exit}' /etc/passwd)
NOSUCH=ow-nosuchuser-$$

# a root of our own: this machine's /proc and /sys, and a passwd that names uid $U
FAKE=$LIVE_TMP/root
mkdir -p "$FAKE/etc"
ln -s /proc "$FAKE/proc"
ln -s /sys "$FAKE/sys"
printf 'root:x:0:0:root:/root:/bin/sh\n# a comment\n\nowcontainer:x:%s:%s::/:/bin/sh\n' "$U" "$U" >"$FAKE/etc/passwd"

rule() { # rule FILE UIDSPEC: a config whose rule has uid = UIDSPEC on line 4
    printf '[policy]\nplan-only = yes\n[rule by-uid]\nuid = %s\noom-score-adj = 500\n' "$2" >"$1"
}

run_binary() {
    local B=$1 label=$2 out rc
    # no NSS: a static binary with it crashes in the host's modules, a dynamic one loads them
    if strings "$B" | grep -q 'nsswitch\.conf'; then
        not_ok "$label: no NSS in the binary" "$(strings "$B" | grep -m3 nsswitch)"
    else
        ok "$label: no NSS in the binary (no nsswitch.conf)"
    fi
    local syms
    syms=$(nm "$B" 2>/dev/null | grep -E ' (getpw|getgr)(nam|uid|gid|ent)(_r)?$|__nss_database' | head -5)
    expect_eq "$label: no getpw*/getgr* symbols" "" "$syms"

    out=$("$B" ps 2>&1)
    rc=$?
    expect_eq "$label: ps exits 0 with a process of unknown uid $U (was 139)" 0 "$rc"
    out=$("$B" ps --pid "$P" 2>&1)
    if awk -v u="$U" -v p="$P" '$2 == p && $4 == u {f = 1} END {exit !f}' <<<"$out"; then
        ok "$label: ps shows uid $U as its number"
    else
        not_ok "$label: ps shows uid $U as its number" "$out"
    fi
    out=$("$B" ps --json 2>&1)
    rc=$?
    expect_eq "$label: ps --json: uid and user of the process" "0 $U $U" \
        "$rc $(jq -r --argjson p "$P" '.processes[] | select(.pid == $p) | "\(.uid) \(.user)"' <<<"$out" 2>&1)"
    "$B" ps --tree >/dev/null 2>&1
    expect_eq "$label: ps --tree exits 0" 0 "$?"
    out=$("$B" ps --json --user "$U" 2>&1)
    expect_eq "$label: ps --user $U lists the process" "$P" \
        "$(jq -r --argjson p "$P" '.processes[] | select(.pid == $p) | .pid' <<<"$out" 2>&1)"
    out=$("$B" ps --json --user root 2>&1)
    expect_eq "$label: ps --user root: only uid 0, some listed" "true" \
        "$(jq '(.processes | length > 0) and all(.processes[]; .uid == 0)' <<<"$out" 2>&1)"
    out=$("$B" ps --user "$NOSUCH" 2>&1)
    rc=$?
    expect_eq "$label: ps --user with an unknown name: exit 64, says where it looked" \
        "64 oomwarden ps: --user: no user '$NOSUCH' in /etc/passwd" "$rc $(head -1 <<<"$out")"

    # names of the root being read
    out=$("$B" --root "$FAKE" ps --json --pid "$P" 2>&1)
    expect_eq "$label: --root: the name comes from ROOT/etc/passwd" "owcontainer" \
        "$(jq -r '.processes[0].user' <<<"$out" 2>&1)"
    out=$("$B" --root "$FAKE" ps --json --user owcontainer 2>&1)
    expect_eq "$label: --root: ps --user NAME of ROOT/etc/passwd" "$P" \
        "$(jq -r --argjson p "$P" '.processes[] | select(.pid == $p) | .pid' <<<"$out" 2>&1)"

    # rules: a number matches the unknown uid; an unknown name is an error of its line
    local conf=$LIVE_TMP/rule.conf
    rule "$conf" "$U"
    out=$("$B" apply --config "$conf" --dry-run --json 2>&1)
    rc=$?
    expect_eq "$label: apply: uid = $U plans the process" "0 500" \
        "$rc $(jq -r --argjson p "$P" '.changes[] | select(.pid == $p) | .after' <<<"$out" 2>&1)"
    rule "$conf" "owcontainer"
    out=$("$B" --root "$FAKE" apply --config "$conf" --dry-run --json 2>&1)
    rc=$?
    expect_eq "$label: apply --root: uid = NAME from ROOT/etc/passwd plans the process" "0 500" \
        "$rc $(jq -r --argjson p "$P" '.changes[] | select(.pid == $p) | .after' <<<"$out" 2>&1)"
    rule "$conf" "$KNOWN, $NOSUCH"
    out=$("$B" apply --config "$conf" --dry-run 2>&1)
    rc=$?
    expect_eq "$label: apply: uid = unknown name: exit 78, file:line" \
        "78 oomwarden: error: $conf:4: uid: no user '$NOSUCH' in /etc/passwd" "$rc $out"
    out=$("$B" agent --config "$conf" --check-config 2>&1)
    rc=$?
    expect_eq "$label: agent --check-config: the same" \
        "78 oomwarden: error: $conf:4: uid: no user '$NOSUCH' in /etc/passwd" "$rc $out"
    rule "$conf" "$KNOWN"
    "$B" agent --config "$conf" --check-config >/dev/null 2>&1
    expect_eq "$label: agent --check-config: uid = $KNOWN is fine" 0 "$?"
    rule "$conf" 4294967296
    out=$("$B" agent --config "$conf" --check-config 2>&1)
    rc=$?
    expect_eq "$label: uid = 4294967296 is refused" \
        "78 oomwarden: error: $conf:4: uid: 4294967296 is not a uid (0..4294967294)" "$rc $out"
}

run_binary "$BIN" static
ASAN_BIN=$TOP/build-asan/oomwarden
if [ -x "$ASAN_BIN" ]; then
    run_binary "$ASAN_BIN" asan
else
    skip "the sanitizer build" "$ASAN_BIN not built (scripts/build asan)"
fi

# ---- the agent: start, a rule on the unknown uid, SIGHUP with a bad and a good name ----------
APORT=$(free_port)
conf=$LIVE_TMP/agent.conf
agent_conf() { # agent_conf UIDSPEC [MATCHER]: uid = UIDSPEC on line 5
    cat >"$conf" <<EOC
[agent]
listen = 127.0.0.1:$APORT
kmsg = no
[rule by-uid]
uid = $1
oom-score-adj = 400
${2:-}
EOC
}
agent_conf "$NOSUCH"
out=$(timeout 10 "$BIN" agent --config "$conf" 2>&1)
rc=$?
expect_eq "agent: unknown name at start: exit 78 with file:line" \
    "78 oomwarden: error: $conf:5: uid: no user '$NOSUCH' in /etc/passwd" "$rc $out"

agent_conf "$U"
"$BIN" agent --config "$conf" >"$LIVE_TMP/agent.out" 2>"$LIVE_TMP/agent.err" &
apid=$!
LIVE_PIDS+=("$apid")
for _ in $(seq 100); do [ "$(cat "/proc/$P/oom_score_adj")" = 400 ] && break; sleep 0.1; done
expect_eq "agent: uid = $U rule applied to the process (oom_score_adj)" 400 "$(cat "/proc/$P/oom_score_adj")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/metrics")
expect_eq "agent: /metrics with the process's next-victim read" 200 "$code"

agent_conf "$NOSUCH"
kill -HUP "$apid"
for _ in $(seq 50); do grep -q "reload:" "$LIVE_TMP/agent.err" && break; sleep 0.1; done
if grep -qF "reload: $conf:5: uid: no user '$NOSUCH' in /etc/passwd; keeping the running configuration" "$LIVE_TMP/agent.err"; then
    ok "SIGHUP with an unknown name: logged with file:line, configuration kept"
else
    not_ok "SIGHUP with an unknown name: logged with file:line" "$(cat "$LIVE_TMP/agent.err")"
fi
sleep 0.3
if kill -0 "$apid" 2>/dev/null && curl -sf "http://127.0.0.1:$APORT/healthz" >/dev/null; then
    ok "the agent runs on after the bad reload"
else
    not_ok "the agent runs on after the bad reload" "$(tail -5 "$LIVE_TMP/agent.err")"
fi
agent_conf "$KNOWN" "comm = ^ow-none-$$\$" # a real user's processes are not ours to change
kill -HUP "$apid"
for _ in $(seq 50); do grep -q "reloaded" "$LIVE_TMP/agent.err" && break; sleep 0.1; done
check "SIGHUP with uid = $KNOWN: reloaded" grep -q "reloaded $conf" "$LIVE_TMP/agent.err"
kill "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
expect_eq "the agent stops cleanly on SIGTERM" 0 "$?"
kill "$P" 2>/dev/null

done_testing
