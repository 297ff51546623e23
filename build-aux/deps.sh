#!/bin/sh
# deps.sh - install the Debian packages hostdev needs, only those missing.
#   build-aux/deps.sh build   what `make` and `make demo` need
#   build-aux/deps.sh check   that plus what `make check` needs (fake kernel, VM suite)
#   build-aux/deps.sh bench   that plus what `make bench` compares against and measures with
#   build-aux/deps.sh static  what `make static` needs (musl)
#   build-aux/deps.sh fuzz    what `make fuzz` needs (clang, libFuzzer)
set -eu

build_pkgs="gcc make pkg-config libc6-dev libkmod-dev libudev-dev libfuse3-dev fuse3 hwdata libxml2-dev"
# libvirt0 ships the schemas (nodedev.rng, domain.rng) the adapter tests validate against;
# xmllint (libxml2-utils) validates; python3 parses the VDSM JSON as its consumers would;
# pciutils: lspci reads the fake kernel in a test; musl-tools: `make static`, whose binary the
# VM suite boots from its initramfs. clang + libclang-rt-14-dev (libFuzzer and the sanitizers'
# runtimes) build the fuzz targets; cppcheck and clang-tidy are `make lint`; udev installs the
# hwdb.bin that test-names reads with shared/hwdb.c and with libudev, to compare.
# python3-jsonschema and python3-yaml check `hostdev export` against KubeVirt's CRD and
# sriovdp's schema (tests/fleet/validate; Nova and promtool are unpacked, never installed).
# iproute2, util-linux: a test makes a bridge with addresses and routes in a network namespace
# of its own (unshare) and checks capture against `ip`'s view of it.
# zsh: test-tool completes with the installed _hostdev in a real zsh.
# systemd: systemd-analyze verifies the shipped units (nothing is started); the VM suite's
# boot-path boots debootstrap a Debian root (once, cached), enable units in it with
# `systemctl --root` and make its ext4 image with e2fsprogs' `mke2fs -d`.
check_pkgs="check udev systemd debootstrap e2fsprogs valgrind qemu-system-x86 busybox-static cpio kmod xz-utils zstd flex bison bc libelf-dev libvirt0 libxml2-utils python3 pciutils musl-tools clang libclang-rt-14-dev cppcheck clang-tidy python3-jsonschema python3-yaml iproute2 util-linux zsh"
# `make bench`: hyperfine times, strace counts syscalls, time (GNU) gives peak RSS; the tools
# compared: lspci (pciutils), driverctl, dpdk-devbind.py (Debian's small `dpdk` runtime
# package, not dpdk-dev); util-linux's unshare shows them a tree on /sys in a private mount
# namespace; musl-tools builds the static binary whose size is reported.
bench_pkgs="hyperfine strace time pciutils driverctl dpdk python3 util-linux musl-tools"

case "${1:-build}" in
build) want="$build_pkgs" ;;
check) want="$build_pkgs $check_pkgs" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
static) want="$build_pkgs musl-tools" ;;
fuzz) want="$build_pkgs clang libclang-rt-14-dev" ;;
*) echo "usage: $0 build|check|bench|static|fuzz" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    # Installed means "install ok installed", not merely known to dpkg.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
else
    sudo=
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may never have fetched package lists.
$sudo apt-get update -qq >/dev/null || $sudo apt-get update
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    $sudo apt-get install -y --no-install-recommends $missing
