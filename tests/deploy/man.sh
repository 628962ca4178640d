#!/usr/bin/env bash
# The man pages: oomwarden(1) and oomwarden.conf(5), made by the build from docs/*.md, render
# without a warning from man or groff and have a NAME line whatis can index; oomwarden.conf(5)
# documents exactly the sections and keys the agent's config reader takes, with its defaults,
# and oomwarden(1) every command.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
BIN=${OOMWARDEN:-$top/build/oomwarden}
MANDIR=${OOMWARDEN_MANDIR:-$(dirname "$BIN")/docs}
SRC=$top/docs/oomwarden.conf.5.md

[ -x "$BIN" ] || skip_all "no built binary at $BIN"

# rendering: both checkers, at a terminal's width, a narrower and a wider one (below about 64
# columns a path like /usr/share/doc/oomwarden/json/status.md no longer fits a tagged paragraph)
for page in oomwarden.1 oomwarden.conf.5; do
    f=$MANDIR/$page
    if [ ! -f "$f" ]; then
        not_ok "$page was built" "no $f: is pandoc installed (meson -Dman=enabled)?"
        continue
    fi
    for w in 70 80 120; do
        out=$(MANWIDTH=$w man --warnings -l "$f" 2>&1 >/dev/null)
        expect_eq "$page: man --warnings -l at width $w says nothing" "" "$out"
    done
    out=$(groff -ww -t -man -Tutf8 -z "$f" 2>&1)
    expect_eq "$page: groff -ww says nothing" "" "$out"
    name=${page%.*}
    what=$(lexgrog "$f" 2>&1)
    case "$what" in
    "$f: \"$name - "*) ok "$page: whatis entry ($what)" ;;
    *) not_ok "$page: whatis entry" "$what" ;;
    esac
    text=$(MANWIDTH=80 man -l "$f" 2>/dev/null)
    for sec in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
        grep -q "^$sec\$" <<<"$text" && ok "$page: has $sec" || not_ok "$page: has $sec"
    done
done

# oomwarden(1) names every command of `oomwarden --help`
text=$(MANWIDTH=200 man -l "$MANDIR/oomwarden.1" 2>/dev/null)
missing=""
for c in $("$BIN" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
    grep -qE "^       $c( |\$)" <<<"$text" || missing="$missing $c"
done
expect_eq "oomwarden(1): a paragraph for every command of oomwarden --help" "" "$missing"

# oomwarden.conf(5) against the config schema: `agent --help` prints every key with its default
# under its section. The page has a table row "| `key` | ... Default: `VALUE`. |" under
# "### [section]"; an empty default is "Default: empty".
schema=$("$BIN" agent --help | sed -n '/^Options, as a config file/,/^Exit status/p' |
    awk '/^  \[/ { gsub(/[][ ]/, ""); sec = $0; next }
         /^  [a-z][a-z-]* = / { sub(/^  /, ""); k = $1; v = $0; sub(/^[^=]*= ?/, "", v); print sec "\t" k "\t" v }')
n=$(grep -c . <<<"$schema")
[ "$n" -ge 30 ] && ok "agent --help lists $n keys" || not_ok "agent --help lists $n keys" "$schema"
doc=$(awk '/^### \[/ { sec = $2; gsub(/[][]/, "", sec); next } /^## / { sec = "" }
           sec != "" && sec != "rule" && /^\| `[a-z-]+` \|/ { k = $2; gsub(/`/, "", k); print sec "\t" k "\t" $0 }' "$SRC")
bad=""
while IFS=$'\t' read -r sec key def; do
    row=$(awk -F'\t' -v s="$sec" -v k="$key" '$1 == s && $2 == k { print $3 }' <<<"$doc")
    if [ -z "$row" ]; then
        bad="$bad
[$sec] $key: not in $SRC"
        continue
    fi
    want="Default: \`$def\`"
    [ -z "$def" ] && want="Default: empty"
    grep -qF -- "$want" <<<"$row" || bad="$bad
[$sec] $key: the page does not say '$want'"
done <<<"$schema"
while IFS=$'\t' read -r sec key _; do
    awk -F'\t' -v s="$sec" -v k="$key" '$1 == s && $2 == k { f = 1 } END { exit !f }' <<<"$schema" ||
        bad="$bad
[$sec] $key: documented, but the agent does not take it"
done <<<"$doc"
expect_eq "oomwarden.conf(5): every section and key of the schema with its default, and no other" "" "${bad#$'\n'}"

# [rule NAME] keys: the reader lists them in its message for an unknown key
tmp=$(mktemp)
printf '[rule probe]\nno-such-key = 1\n' >"$tmp"
msg=$("$BIN" agent --config "$tmp" --check-config 2>&1)
rm -f "$tmp"
want=$(sed -n 's/.*(matchers: \(.*\); actions: \(.*\))$/\1, \2/p' <<<"$msg" | tr -d ' ' | tr ',' '\n' | sort)
have=$(awk '/^### \[rule/ { on = 1; next } /^##/ { on = 0 } on && /^\| `[a-z-]+` \|/ { k = $2; gsub(/`/, "", k); print k }' "$SRC" | sort)
if [ -z "$want" ]; then
    not_ok "oomwarden.conf(5): the rule keys" "could not read them from: $msg"
else
    expect_eq "oomwarden.conf(5): the keys of [rule NAME] are the reader's" "$want" "$have"
fi

done_testing
