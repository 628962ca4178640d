# Under --json every error is JSON on stdout (docs/json/errors.md): the error document when the
# command writes nothing else, an "errors" member when it writes its document; the exit code
# and the text on stderr as without --json. Sourced by tests/cli/run.

run_case json-error-usage "$BIN" ps $R --bogus --json
run_case json-error-missing-cgroup "$BIN" cgroup --root tests/fixtures/cg-v2 /nope --json
run_case json-error-unknown-command "$BIN" frobnicate --json
run_case json-error-doctor-root "$BIN" doctor --root /nonexistent-oomwarden --json
run_case json-error-value "$BIN" watch --json --psi "some 2s 1s"

# every command, a bad option before and after --json: one JSON document, usage true, exit 64
for cmd in status doctor ps cgroup watch apply evict explain lab reclaim; do
    for order in before after; do
        if [ $order = before ]; then
            out=$("$BIN" $cmd --frob --json 2>/dev/null)
        else
            out=$("$BIN" $cmd --json --frob 2>/dev/null)
        fi
        rc=$?
        check "$cmd --frob ($order --json): exit 64 and the error document" jq -en \
            --argjson rc "$rc" --arg cmd "$cmd" --argjson d "$out" '
            $rc == 64 and $d.error.command == $cmd and $d.error.usage == true
            and $d.error.exit_code == 64 and $d.error.message == "unknown option '"'"'--frob'"'"'"
            and $d.error.messages == [$d.error.message]'
    done
done

# a document written despite an error carries it
out=$("$BIN" explain --json /nonexistent-oomwarden.log tests/fixtures/oomlog/001-cadvisor-memcg-v1-memorymonster.log 2>/dev/null)
rc=$?
check "explain --json with an unreadable file: exit 2, the events, and the error inside" jq -en \
    --argjson rc "$rc" --argjson d "$out" '
    $rc == 2 and ($d.events | length) == 1 and $d.error == null
    and $d.errors == ["cannot read /nonexistent-oomwarden.log: No such file or directory"]'
out=$("$BIN" evict --json /nonexistent-oomwarden-a /nonexistent-oomwarden-b 2>/dev/null)
check "evict --json with missing paths: each in files[].error and in errors" jq -en --argjson d "$out" '
    $d.held_back and ($d.files | map(.error) | unique) == ["No such file or directory"]
    and ($d.errors | length) == 2'
# without --json nothing changes on stdout
out=$("$BIN" cgroup --root tests/fixtures/cg-v2 /nope 2>/dev/null)
expect_eq "without --json, an error writes nothing on stdout" "" "$out"

# cgroup --json carries the observations the text shows, word for word, in the same order
for args in "--root tests/fixtures/cg-v2 /system.slice/nginx.service" \
    "--root tests/fixtures/cg-v1 /docker/34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4" \
    "--root tests/fixtures/cg-v1 /frozen" "--root tests/fixtures/cg-hybrid pid:501" \
    "--root tests/fixtures/cg-k8s-systemd $KCTR3"; do
    # shellcheck disable=SC2086
    text=$(cd "$top" && "$BIN" cgroup --interval 0 $args | sed -n '/^observations$/,$p' | sed -n 's/^  - //p')
    # shellcheck disable=SC2086
    json=$(cd "$top" && "$BIN" cgroup --interval 0 --json $args | jq -r '.observations[]')
    if [ -n "$text" ] && [ "$text" = "$json" ]; then
        ok "cgroup --json observations = the text's ($(wc -l <<<"$text") lines): ${args##* }"
    else
        not_ok "cgroup --json observations = the text's: ${args##* }" "text:
$text
json:
$json"
    fi
done
