#!/bin/sh
# layers.sh [BUILD [LIB]] - keep the layers of docs/design.md true, from what the linker sees: every
# undefined symbol of every object of BUILD/obj (nm) is looked up among the symbols the
# objects define, and the call is refused when it goes up:
#   - an object may call its own folder and the folders below it, never one above:
#       shared < gateway < os < pci < nodedev < core < virt < tools
#   - virt/ and tools/ (the adapters and the programs) call libhostdev only through what it
#     exports (BUILD/libhostdev.so's symbols: the public API), except shared/'s helpers.
# The sources' #include "..." lines follow the same rules (a header of a layer above, or a
# library header other than shared/'s in virt/ or tools/, is refused): what nm cannot see,
# a struct or a macro, cannot go up either.
# A function or object a library object defines (shared/ .. core/) has a user outside that
# object: another object, the public API (exported), or a test or fuzz target (tests/) that
# drives a parser directly; else it is static.
# Prints each offending call and exits 1; 2 when BUILD is not built.
set -eu
cd "$(dirname "$0")/.."

build=${1:-build}
order="shared gateway os pci nodedev core virt tools"
lib=${2:-$build/libhostdev.so} # the library as built (Makefile: LIB_SO)

[ -d "$build/obj" ] && [ -f "$lib" ] || {
    echo "layers: $build is not built (make first)" >&2
    exit 2
}

dirs=
for d in $order; do
    [ -d "$build/obj/$d" ] && dirs="$dirs $build/obj/$d"
done
# Only objects whose source still exists: a build directory kept across a move of a file
# still holds the object of its old place.
objs=
for o in $(find $dirs -name '*.o' | sort); do
    src=${o#"$build/obj/"}
    [ -f "${src%.o}.c" ] && objs="$objs $o"
done

status=0
{
    # What the library exports (the public API), then every object's symbols.
    nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3); print "X", $3 }'
    # One nm for all: "BUILD/obj/core/ops.o: U hd_fs_open" (-A names the object; -P fields).
    nm -A -P $objs | awk -v prefix="$build/obj/" '
        { o = $1; sub(/:$/, "", o); sub("^" prefix, "", o) }
        $3 == "U" { print "U", o, $2; next }
        $3 ~ /^[TDBRVWG]$/ { print "D", o, $2 }'
} | awk -v order="$order" '
    function folder(obj) { sub(/\/.*/, "", obj); return obj }
    BEGIN {
        n = split(order, names, " ")
        for (i = 1; i <= n; i++) rank[names[i]] = i
        chain = order; gsub(/ /, " < ", chain)
    }
    $1 == "X" { exported[$2] = 1; next }
    $1 == "D" { def[$3] = $2; next }
    { use[++nuse] = $2 " " $3 }
    END {
        bad = 0
        for (i = 1; i <= nuse; i++) {
            split(use[i], u, " ")
            if (!(u[2] in def))
                continue # libc and the other libraries
            from = folder(u[1]); to = folder(def[u[2]])
            if (rank[to] > rank[from]) {
                printf "layers: %s calls %s, defined in %s: %s/ is below %s/ (%s)\n",
                       u[1], u[2], def[u[2]], from, to, chain
                bad = 1
            } else if (rank[from] >= rank["virt"] && rank[to] > rank["shared"] &&
                       rank[to] < rank["virt"] && !(u[2] in exported)) {
                printf "layers: %s calls %s, defined in %s, which libhostdev does not " \
                       "export: %s/ uses the public API (include/hostdev/hostdev.h)\n",
                       u[1], u[2], def[u[2]], from
                bad = 1
            }
        }
        exit bad
    }' || status=1

libs="shared gateway os pci nodedev core"

# The symbols without an outside user, then those that tests/ does not name either.
{
    nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3); print "X", $3 }'
    nm -A -P $objs | awk -v prefix="$build/obj/" -v libs="$libs" '
        BEGIN { n = split(libs, l, " "); for (i = 1; i <= n; i++) lib[l[i]] = 1 }
        { o = $1; sub(/:$/, "", o); sub("^" prefix, "", o); f = o; sub(/\/.*/, "", f) }
        $3 == "U" { print "U", o, $2; next }
        # A sanitizer defines symbols of its own ("__odr_asan.NAME", "__asan_*"): not ours.
        $3 ~ /^[TDBR]$/ && (f in lib) && $2 !~ /^__/ { print "D", o, $2 }'
} | awk '
    $1 == "X" { exported[$2] = 1; next }
    $1 == "U" { used[$3] = 1; next }
    { def[$3] = $2 }
    END { for (s in def) if (!(s in used) && !(s in exported)) print s, def[s] }' | sort |
    while read -r sym obj; do
        grep -rqw -- "$sym" tests/unit tests/fuzz ||
            echo "layers: $obj defines $sym, which nothing outside it uses: make it static"
    done | grep . && status=1

# The includes. Every library header's folder, then every source's quoted includes.
for h in $(for d in $libs; do ls "$d"/*.h; done); do
    echo "H ${h##*/} ${h%%/*}"
done > "${TMPDIR:-/tmp}/layers.$$"
find $order -name '*.[ch]' | sort | xargs grep -H '^#include "' | sed 's/:#include "\(.*\)".*/ \1/' |
    awk -v order="$order" -v libs="$libs" '
    BEGIN {
        n = split(order, names, " ")
        for (i = 1; i <= n; i++) rank[names[i]] = i
        chain = order; gsub(/ /, " < ", chain)
    }
    NR == FNR { home[$2] = $3; next }
    {
        from = $1; sub(/\/.*/, "", from)
        if (!($2 in home))
            next # a header of the folder itself, or of tools/
        to = home[$2]
        if (rank[to] > rank[from]) {
            printf "layers: %s includes %s/%s: %s/ is below %s/ (%s)\n", $1, to, $2, from, to, chain
            bad = 1
        } else if (rank[from] >= rank["virt"] && to != "shared") {
            printf "layers: %s includes %s/%s: %s/ uses the public API " \
                   "(include/hostdev/hostdev.h) and shared/ only\n", $1, to, $2, from
            bad = 1
        }
    }
    END { exit bad }' "${TMPDIR:-/tmp}/layers.$$" - || status=1
rm -f "${TMPDIR:-/tmp}/layers.$$"
exit $status
