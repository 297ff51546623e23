#!/bin/sh
# demo.sh - build a demo fake kernel tree and list it with hostdev. Read-only: no mount needed.
set -eu
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
root="$build/demo-root"
rm -rf "$root"
"$build/hostdev-fakesys" materialize "$src/tests/trees/demo.spec" "$root"
echo "# hostdev --root $root list"
"$build/hostdev" --root "$root" list
# What to try next, on a fake kernel that behaves like a real one (writes included).
cat <<NEXT

Next: a fake kernel you can write to (FUSE; nothing on this machine changes):
  mkdir -p /tmp/hostdev-demo && $build/hostdev-fakesys mount $src/tests/trees/demo.spec /tmp/hostdev-demo
  $build/hostdev --root /tmp/hostdev-demo detach --dry-run enp3s0
  $build/hostdev --root /tmp/hostdev-demo acquire --vm web1 --owner 0:0 03:00.0
  $build/hostdev --root /tmp/hostdev-demo list 03:00.0
  $build/hostdev --root /tmp/hostdev-demo release --vm web1
  fusermount3 -u /tmp/hostdev-demo
Then: $build/hostdev --help, man -l man/hostdev.1, and make check for every test.
NEXT
