# Golden cases for lab and reclaim that need no root and no kernel (sourced by tests/cli/run):
# help, usage errors (64), the lab refusing --root, reclaim on fixture trees without
# memory.reclaim (v1, and v2 of a 6.1 fixture without the file).
run_case lab-help "$BIN" lab --help
run_case lab-no-mode "$BIN" lab
run_case lab-bad-mode "$BIN" lab explode
run_case lab-bad-max "$BIN" lab run --max 1M
run_case lab-high-above-max "$BIN" lab run --max 64M --high 64M
run_case lab-bad-kind "$BIN" lab run --kind slab
run_case lab-bad-rate "$BIN" lab run --rate fast
run_case lab-protect-kind "$BIN" lab protect --kind mixed
run_case lab-file-dir-anon "$BIN" lab run --file-dir /var/tmp
run_case lab-under-root "$BIN" lab run --root tests/fixtures/cg-v2
run_case reclaim-help "$BIN" reclaim --help
run_case reclaim-no-args "$BIN" reclaim
run_case reclaim-bad-size "$BIN" reclaim / lots
run_case reclaim-v1 "$BIN" reclaim --root tests/fixtures/cg-v1 /frozen 64M
run_case reclaim-v2-without-file "$BIN" reclaim --root tests/fixtures/cg-v2 /system.slice/nginx.service 64M
run_case reclaim-missing "$BIN" reclaim --root tests/fixtures/cg-v2 /nope 64M
