#!/bin/sh
# lint.sh - cppcheck and clang-tidy over the given sources; fails on any finding.
set -u
cd "$(dirname "$0")/.."
flags="-std=c11 -D_GNU_SOURCE -DHOSTDEV_VERSION=\"lint\" -Iinclude -Icore -Itools \
-Iinclude/hostdev-virt $(pkg-config --cflags fuse3 check libxml-2.0 2>/dev/null)"
status=0
cppcheck --quiet --enable=warning,performance,portability --std=c11 --inline-suppr \
    -Iinclude -Icore -Iinclude/hostdev-virt -D_GNU_SOURCE --error-exitcode=1 "$@" || status=1
out=$(clang-tidy --quiet "$@" -- $flags 2>&1 | grep -v 'warnings\? generated')
if printf '%s\n' "$out" | grep -qE '(warning|error):'; then
    printf '%s\n' "$out"
    status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
