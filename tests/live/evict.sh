#!/usr/bin/env bash
# evict against the kernel: residency as util-linux's fincore (an independent mincore user) sees
# it, before and after, on a real file on disk; dirty pages; tmpfs; directory walks.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
command -v fincore >/dev/null || skip_all "fincore (util-linux) not installed"

dir=$(mktemp -d /var/tmp/oomwarden-evict.XXXXXX)
trap 'rm -rf "$dir"; live_cleanup' EXIT
fs=$(stat -f -c %T "$dir")
[ "$fs" != tmpfs ] || skip_all "$dir is on tmpfs; page cache cannot be dropped there"

fincore_bytes() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }

# a 48 MiB file, written (dirty), then read back: fully resident
head -c $((48 << 20)) /dev/urandom >"$dir/big"
cat "$dir/big" >/dev/null
before_oracle=$(fincore_bytes "$dir/big")
json=$("$BIN" evict --dry-run --json "$dir/big")
expect_eq "dry run: cached bytes == fincore's" "$before_oracle" "$(jq '.files[0].cached_before' <<<"$json")"
expect_eq "dry run drops nothing" "$before_oracle" "$(fincore_bytes "$dir/big")"
# the flag after the file: the same dry run (it was taken for a file name once, after the cache
# of the file before it had been dropped)
out=$("$BIN" evict "$dir/big" --dry-run 2>&1)
rc=$?
expect_eq "evict FILE --dry-run: exit 0" 0 "$rc"
expect_eq "evict FILE --dry-run drops nothing (fincore)" "$before_oracle" "$(fincore_bytes "$dir/big")"
# a bad second name: nothing is dropped, the first file is measured, the bad one named, exit 1
json=$("$BIN" evict --json "$dir/big" "$dir/no-such-file" 2>/dev/null)
rc=$?
expect_eq "a missing second path: exit 1" 1 "$rc"
expect_eq "a missing second path: the first file's cache stays (fincore)" "$before_oracle" \
    "$(fincore_bytes "$dir/big")"
check "a missing second path: held back, the first measured, the second named" jq -e --arg big "$dir/big" '
  .held_back and .dry_run == false and .total.dropped == 0
  and (.files[] | select(.path == $big) | .cached_after == .cached_before)
  and (.files[] | select(.path | endswith("no-such-file")) | .error == "No such file or directory")' \
    <<<"$json"

# dirty pages too: evict writes them out first
json=$("$BIN" evict --json "$dir/big")
after_oracle=$(fincore_bytes "$dir/big")
expect_eq "before == fincore's before" "$before_oracle" "$(jq '.files[0].cached_before' <<<"$json")"
expect_eq "after == fincore's after" "$after_oracle" "$(jq '.files[0].cached_after' <<<"$json")"
if [ "$after_oracle" -le $((64 << 10)) ]; then
    ok "residency dropped to ~0 (fincore: $after_oracle bytes of $((48 << 20)))"
else
    not_ok "residency dropped to ~0" "fincore says $after_oracle bytes still cached"
fi
expect_eq "dropped == before - after" $((before_oracle - after_oracle)) "$(jq '.total.dropped' <<<"$json")"

# a partial read: only what was read is reported
dd if="$dir/big" of=/dev/null bs=1M count=8 status=none iflag=direct 2>/dev/null # no cache
dd if="$dir/big" of=/dev/null bs=1M count=8 skip=16 status=none
# the read's readahead may still be landing: fincore around our reading, until both agree (a
# busy machine once showed 15 MiB to fincore and 24 MiB to the next reader a moment later)
for _ in 1 2 3 4 5 6 7 8 9 10; do
    oracle=$(fincore_bytes "$dir/big")
    got=$("$BIN" evict -n --json "$dir/big" | jq '.files[0].cached_before')
    [ "$oracle" = "$(fincore_bytes "$dir/big")" ] && break
    sleep 0.2
done
expect_eq "partial residency == fincore's ($oracle), read around it" "$oracle" "$got"

# directories are walked, symlinks inside them are not followed
mkdir -p "$dir/tree/sub"
head -c $((3 << 20)) /dev/urandom >"$dir/tree/a"
head -c $((5 << 20)) /dev/urandom >"$dir/tree/sub/b"
ln -s "$dir/big" "$dir/tree/link-to-big"
cat "$dir/tree/a" "$dir/tree/sub/b" "$dir/big" >/dev/null
json=$("$BIN" evict --json "$dir/tree")
expect_eq "walk: two regular files" 2 "$(jq '.total.files' <<<"$json")"
expect_eq "walk: the symlink was skipped" 1 "$(jq '.total.skipped_not_regular' <<<"$json")"
expect_eq "walk: 8 MiB were cached" $((8 << 20)) "$(jq '.total.cached_before' <<<"$json")"
if [ "$(fincore_bytes "$dir/big")" -ge $((40 << 20)) ]; then
    ok "the symlink's target kept its cache"
else
    not_ok "the symlink's target kept its cache" "$(fincore_bytes "$dir/big")"
fi

# tmpfs: reported, not dropped
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    f=/dev/shm/oomwarden-evict-$$
    head -c $((2 << 20)) /dev/zero >"$f"
    json=$("$BIN" evict --json "$f")
    rm -f "$f"
    expect_eq "tmpfs file flagged" true "$(jq '.files[0].tmpfs' <<<"$json")"
    expect_eq "tmpfs pages stay" $((2 << 20)) "$(jq '.files[0].cached_after' <<<"$json")"
else
    skip "tmpfs file" "no tmpfs at /dev/shm"
fi

# errors: a missing path is reported by name with exit 1; the others are still processed
out=$("$BIN" evict -n "$dir/nope" "$dir/big" 2>&1)
rc=$?
expect_eq "missing path: exit 1" 1 "$rc"
if grep -q "$dir/nope: No such file or directory" <<<"$out" && grep -q "$dir/big" <<<"$out"; then
    ok "missing path named, other paths still shown"
else
    not_ok "missing path named, other paths still shown" "$out"
fi
done_testing
