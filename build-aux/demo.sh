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
