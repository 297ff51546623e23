#!/bin/sh
# abi.sh - keep libhostdev's ABI story honest: the functions declared in the public header, the
# symbols listed in the version script and the symbols the shared library exports must be the
# same set. Adding a function means listing it (abi.sh --update writes the list); removing or
# renaming one also means bumping SOVERSION and the version node (docs/design.md, "ABI").
#   build-aux/abi.sh [--update] HEADER SYMFILE [LIB.so]
set -eu
update=
[ "${1:-}" = --update ] && { update=1; shift; }
header=$1 symfile=$2 lib=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: every hd_ name followed by "(" once comments and macros are gone.
${CC:-cc} -E -P -Iinclude "$header" | tr '\n' ' ' |
    grep -oE '\bhd_[a-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u >"$tmp/declared"
node=$(sed -nE 's/^(LIBHOSTDEV_[0-9]+)[[:space:]]*\{.*/\1/p' "$symfile" | tail -n 1)

if [ -n "$update" ]; then
    {
        awk '/^LIBHOSTDEV_/ { exit } { print }' "$symfile"
        echo "$node {"
        echo "global:"
        sed 's/.*/    &;/' "$tmp/declared"
        echo "local:"
        echo "    *;"
        echo "};"
    } >"$tmp/new"
    cat "$tmp/new" >"$symfile"
    echo "abi.sh: $symfile lists $(wc -l <"$tmp/declared") functions ($node)"
    exit 0
fi

sed -nE 's/^[[:space:]]+(hd_[a-z0-9_]+);.*/\1/p' "$symfile" | sort -u >"$tmp/listed"
status=0
if ! cmp -s "$tmp/declared" "$tmp/listed"; then
    echo "abi.sh: $header and $symfile differ (< declared only, > listed only):" >&2
    diff "$tmp/declared" "$tmp/listed" | grep '^[<>]' >&2 || true
    echo "abi.sh: a new function: run build-aux/abi.sh --update $header $symfile;" \
         "a removed or renamed one also bumps SOVERSION and $node" >&2
    status=1
fi
if [ -n "$lib" ]; then
    nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "R" || $2 == "B" {print $3}' |
        sed 's/@.*//' | grep '^hd_' | sort -u >"$tmp/exported"
    if ! cmp -s "$tmp/listed" "$tmp/exported"; then
        echo "abi.sh: $lib does not export what $symfile lists (< listed only, > exported only):" >&2
        diff "$tmp/listed" "$tmp/exported" | grep '^[<>]' >&2 || true
        status=1
    fi
    nm -D --defined-only "$lib" | grep -q "@@$node\$" ||
        { echo "abi.sh: $lib has no symbol of version $node" >&2; status=1; }
fi
exit $status
