# oomwarden apply on fixture trees (sourced by tests/cli/run: uses run_case, check, expect_eq).
# The configs are in tests/cli/apply/; each says what it exercises on which tree. The goldens
# show the plan in words (before -> after); the checks below pin the JSON and the writes.

AC=tests/cli/apply
run_case apply-v2-dry-run "$BIN" apply --dry-run --config $AC/v2.conf --root tests/fixtures/cg-v2
run_case apply-v2-dry-run-json "$BIN" apply -n --json -c $AC/v2.conf --root tests/fixtures/cg-v2
run_case apply-v1-skipped "$BIN" apply --dry-run --config $AC/v1.conf --root tests/fixtures/cg-v1
# the shipped examples on the trees they were written for
run_case apply-example-database "$BIN" apply --dry-run --config deploy/examples/database.conf \
    --root tests/fixtures/cg-v2
run_case apply-example-k8s "$BIN" apply --dry-run --config deploy/examples/kubernetes-node.conf \
    --root tests/fixtures/dr-k8s-node
# cgroup rules without a memory controller: a warning, the process rules still planned
run_case apply-no-cgroups "$BIN" apply --dry-run --config $AC/v2.conf --root tests/fixtures/procs-basic
# a process name with an escape sequence and a newline prints as '?'
run_case apply-control-bytes "$BIN" apply --dry-run --config $AC/evil.conf --root tests/fixtures/procs-basic
# errors: the config (78) says FILE:LINE: KEY: why; flags (64)
run_case apply-bad-value "$BIN" apply --dry-run --config $AC/bad-value.conf --root tests/fixtures/cg-v2
run_case apply-bad-rule "$BIN" apply --dry-run --config $AC/bad-rule.conf --root tests/fixtures/cg-v2
run_case apply-bad-key "$BIN" apply --dry-run --config $AC/bad-key.conf --root tests/fixtures/cg-v2
run_case apply-unknown-user "$BIN" apply --dry-run --config $AC/unknown-user.conf --root tests/fixtures/cg-v2
run_case apply-missing-config "$BIN" apply --dry-run --config $AC/nonexistent.conf --root tests/fixtures/cg-v2
run_case apply-bad-flag "$BIN" apply --dry-run --frobnicate --config $AC/v2.conf
run_case apply-stray-arg "$BIN" apply --config $AC/v2.conf now
run_case apply-no-config-arg "$BIN" apply --config
run_case apply-help "$BIN" apply --help

# --json: the documented shape (docs/json/apply.md) and the values behind the words
j=$(cd "$top" && "$BIN" apply --dry-run --json --config $AC/v2.conf --root tests/fixtures/cg-v2)
check "apply --json: top level config, dry_run, changes, summary" jq -e '
  (keys == ["changes", "config", "dry_run", "summary"]) and .config == "tests/cli/apply/v2.conf"
  and .dry_run == true
  and .summary == {planned: 11, done: 0, failed: 0, skipped: 2, vanished: 0, would_fail: 0, unchanged: 2}' <<<"$j"
check "apply --json: every change has kind, rule, cgroup, before, after, state" jq -e '
  ([.changes[] | has("kind", "rule", "cgroup", "before", "after", "state")] | all)
  and ([.changes[] | .kind] | unique == ["memory.high", "memory.oom.group", "oom_score_adj"])
  and ([.changes[] | select(.kind == "oom_score_adj") | has("pid", "comm")] | all)
  and ([.changes[] | select(.kind != "oom_score_adj") | has("pid") | not] | all)' <<<"$j"
check "apply --json: oom_score_adj before/after are numbers, with pid and comm" jq -e '
  [.changes[] | select(.kind == "oom_score_adj") | {pid, comm, before, after, rule, state}]
  == [{pid: 411, comm: "nginx", before: 0, after: 500, rule: "web-workers", state: "planned"},
      {pid: 412, comm: "nginx", before: 0, after: 500, rule: "web-workers", state: "planned"},
      {pid: 602, comm: "batch-worker", before: 0, after: 800, rule: "batch-workers", state: "planned"},
      {pid: 603, comm: "batch-worker", before: 200, after: 800, rule: "batch-workers", state: "planned"},
      {pid: 901, comm: "firefox", before: 100, after: 1000, rule: "browser", state: "planned"}]' <<<"$j"
check "apply --json: memory.high in bytes or \"max\"; a percentage says of which memory.max" jq -e '
  [.changes[] | select(.kind == "memory.high" and .state == "planned")]
  == [{kind: "memory.high", rule: "batch-unit", cgroup: "/system.slice/batch.service",
       before: "max", after: 805306368, percent_of_max: 75, max: 1073741824, state: "planned"},
      {kind: "memory.high", rule: "legacy", cgroup: "/system.slice/legacy.service",
       before: 209715200, after: 134217728, percent_of_max: 50, max: 268435456, state: "planned"},
      {kind: "memory.high", rule: "web", cgroup: "/system.slice/nginx.service",
       before: "max", after: 419430400, state: "planned"},
      {kind: "memory.high", rule: "postgres-unthrottled", cgroup: "/system.slice/postgresql.service",
       before: 1610612736, after: "max", state: "planned"}]' <<<"$j"
check "apply --json: oom.group 0/1; a percentage of no memory.max is skipped, after null" jq -e '
  ([.changes[] | select(.kind == "memory.oom.group") | [.cgroup, .before, .after]]
   == [["/system.slice/batch.service", 1, 0], ["/system.slice/batch.service/main", 0, 1]])
  and ([.changes[] | select(.state == "skipped")
        | .after == null and .max == "max" and .percent_of_max == 90
          and .reason == "no memory.max to take a percentage of"] == [true, true])' <<<"$j"
j=$(cd "$top" && "$BIN" apply --dry-run --json --config $AC/v1.conf --root tests/fixtures/cg-v1)
check "apply --json on v1: before null (no such file), skipped with the reason, after as wanted" jq -e '
  ([.changes[] | select(.kind != "oom_score_adj") | .before == null
    and .state == "skipped" and (.reason | startswith("cgroup v1 has no"))] | (length == 6 and all))
  and ([.changes[] | select(.kind == "memory.oom.group") | .after] == [1, 1, 1])
  and ([.changes[] | select(.kind == "memory.high") | [.after, .max]]
       == [[241590272, 268435456], [null, "max"], [966365184, 1073741824]])' <<<"$j"
out=$(cd "$top" && "$BIN" apply --json --config tests/cli/apply/bad-value.conf --root tests/fixtures/cg-v2 2>/dev/null)
rc=$?
check "apply --json with a bad config: exit 78, the error document names the file and line" \
    jq -en --argjson rc "$rc" --argjson d "$out" '$rc == 78 and $d.error.exit_code == 78
    and $d.error.usage == false and ($d.error.message | startswith("tests/cli/apply/bad-value.conf:"))'

# The writes, on a copy of the tree: the files change, and a second run finds nothing to do
tmp=$(mktemp -d)
cp -a "$FX/cg-v2" "$tmp/root"
run_case apply-write "$BIN" apply --config $AC/write.conf --root "$tmp/root"
first() { head -n1 "$tmp/root/$1" | cut -c1-"${2:-100}"; }
CGR=sys/fs/cgroup/system.slice
expect_eq "apply wrote oom_score_adj" "500 500 800 800 0 -1000" \
    "$(first proc/411/oom_score_adj) $(first proc/412/oom_score_adj) $(first proc/602/oom_score_adj) $(first proc/603/oom_score_adj) $(first proc/410/oom_score_adj) $(first proc/604/oom_score_adj)"
expect_eq "apply wrote memory.oom.group" "0 1 1" \
    "$(first $CGR/batch.service/memory.oom.group) $(first $CGR/batch.service/main/memory.oom.group) $(first $CGR/batch.service/worker/memory.oom.group)"
expect_eq "apply wrote memory.high (bytes; 75% of 1G, 400M, 50% of 256M)" "805306368 419430400 134217728" \
    "$(first $CGR/batch.service/memory.high) $(first $CGR/nginx.service/memory.high) $(first $CGR/legacy.service/memory.high)"
expect_eq "apply left the rest alone" "1610612736 max" \
    "$(first $CGR/postgresql.service/memory.high) $(first sys/fs/cgroup/user.slice/memory.high)"
run_case apply-write-again "$BIN" apply --config $AC/write.conf --root "$tmp/root"
j=$(cd "$top" && "$BIN" apply --json --config $AC/write.conf --root "$tmp/root")
check "apply a third time, --json: nothing to do, all 10 as the rules say" jq -e '
  .dry_run == false and .changes == []
  and .summary == {planned: 0, done: 0, failed: 0, skipped: 0, vanished: 0, would_fail: 0, unchanged: 10}' <<<"$j"
# --dry-run checks writability: a read-only mount over system.slice (in a mount namespace of
# its own) makes those cgroup changes "would fail", exit 1; the others stay planned. A fixture's
# oom_score_adj is a plain file: no capability rule for it.
cp -a "$FX/cg-v2" "$tmp/ro"
if j=$(unshare -m sh -c 'mount --bind -o ro "$1/sys/fs/cgroup/system.slice" "$1/sys/fs/cgroup/system.slice" &&
    cd "$2" && "$3" apply --dry-run --json --config "$4" --root "$1"' _ "$tmp/ro" "$top" "$BIN" "$AC/v2.conf" 2>/dev/null)
    [ $? = 1 ] && [ -n "$j" ]; then
    check "apply --dry-run on a read-only mount: those cgroup changes would fail (EROFS), the rest planned" jq -e '
      ([.changes[] | select(.state == "would_fail") | .cgroup | startswith("/system.slice/")] | (length == 6 and all))
      and ([.changes[] | select(.state == "would_fail") | .error] | unique == ["Read-only file system"])
      and ([.changes[] | select(.kind == "oom_score_adj") | .state] | unique == ["planned"])
      and .summary.would_fail == 6 and .summary.planned == 5' <<<"$j"
else
    skip "apply --dry-run on a read-only mount" "unshare -m with a read-only bind mount is not possible here"
fi
# --dry-run on a copy: not one byte changes
cp -a "$FX/cg-v2" "$tmp/dry"
(cd "$top" && "$BIN" apply --dry-run --config $AC/write.conf --root "$tmp/dry" >/dev/null)
check "apply --dry-run wrote nothing" diff -r "$FX/cg-v2" "$tmp/dry"
rm -rf "$tmp"
