# Every command reads its options the same way (src/base/args.c, GNU style): anywhere before
# `--`, --name=VALUE and --name VALUE, unambiguous prefixes, short clusters, `--` ends them;
# errors name the command and the option and exit 64. Sourced by tests/cli/run.

E5=tests/fixtures/oomlog/001-cadvisor-memcg-v1-memorymonster.log
# an option after a file name is an option (explain printed text and exited 2 here)
json=$("$BIN" explain "$E5" --json 2>/dev/null)
expect_eq "explain FILE --json: exit 0" 0 "$?"
check "explain FILE --json: JSON, the same as explain --json FILE" \
    cmp <(printf '%s\n' "$json") <("$BIN" explain --json "$E5" 2>/dev/null)
check "explain FILE --json: the file's victims" jq -e '.events[0].victims | length > 0' <<<"$json"
# after --, a word that looks like an option is a file
run_case opt-explain-dashdash "$BIN" explain -- --json
run_case opt-ps-after-equals "$BIN" ps --top=2 $R --sort=rss
run_case opt-ps-cluster "$BIN" ps $R -tk --extended
run_case opt-ps-short-value "$BIN" ps $R -n2 -srss
run_case opt-ps-prefix "$BIN" ps $R --no-head --top 2
run_case opt-ps-ambiguous "$BIN" ps $R --cg /system.slice
run_case opt-status-missing-value "$BIN" status --root tests/fixtures/dr-clean --top
run_case opt-evict-value-on-flag "$BIN" evict --dry-run=yes /nonexistent
run_case opt-cgroup-path-first "$BIN" cgroup /system.slice/nginx.service --root tests/fixtures/cg-v2 --json --interval=0
run_case opt-reclaim-extra "$BIN" reclaim --dry-run / 1G extra
run_case opt-lab-unknown-short "$BIN" lab run -q
run_case opt-global-unknown "$BIN" --frob ps
run_case opt-agent-negated-prefix "$BIN" agent --check --no-next-v --cgroup-depth=3
run_case opt-agent-bool-value "$BIN" agent --check-config --next-victim=maybe
