#!/bin/sh
# lint.sh - cppcheck and clang-tidy over the given sources; fails on any finding.
set -u
cd "$(dirname "$0")/.."
# libhostdev's folders (the Makefile's LIB_DIRS): each layer's header is found by its name.
libdirs="-Ishared -Igateway -Ios -Ipci -Inodedev -Icore"
flags="-std=c11 -D_GNU_SOURCE -DHOSTDEV_VERSION=\"lint\" -Iinclude $libdirs -Itools -Itools/fakesys -Ivirt \
-Iinclude/hostdev-virt $(pkg-config --cflags fuse3 check libxml-2.0 2>/dev/null)"
jobs=$(nproc 2>/dev/null || echo 2)
status=0
for tool in cppcheck clang-tidy; do
    command -v $tool >/dev/null || { echo "lint: $tool not found (Debian: $tool)" >&2; exit 1; }
done
cppcheck --quiet --enable=warning,performance,portability --std=c11 --inline-suppr \
    -j "$jobs" -Iinclude $libdirs -Iinclude/hostdev-virt -D_GNU_SOURCE --error-exitcode=1 "$@" ||
    status=1
# One clang-tidy per file, as many at once as there are CPUs; each file's findings together.
export flags
out=$(printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c \
    'o=$(clang-tidy --quiet "$1" -- $flags 2>&1 | grep -v "warnings\? generated"); \
     [ -n "$o" ] && printf "%s\n" "$o"; true' sh {})
if printf '%s\n' "$out" | grep -qE '(warning|error):'; then
    printf '%s\n' "$out"
    status=1
fi
# .clang-format's 100 columns, in the library and the tools (the tests' long literals excepted).
long=$(printf '%s\n' "$@" | grep -v '^tests/' | LC_ALL=C.UTF-8 xargs -r grep -Hn '.\{101,\}')
if [ -n "$long" ]; then
    printf '%s\n' "$long" | sed 's/^\([^:]*:[0-9]*\):.*/\1: longer than 100 columns/'
    status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
