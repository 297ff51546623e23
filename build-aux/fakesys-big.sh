#!/bin/sh
# fakesys-big.sh - print a tree spec with N PCI functions (default 10000), for benchmarks:
#   build-aux/fakesys-big.sh 10000 > big.spec
#   build/hostdev-fakesys materialize big.spec /tmp/big    (or mount it)
# Root ports on bus 0, each with 32 two-function NICs behind it; one IOMMU group per device.
set -eu
n=${1:-10000}
case "$n" in
'' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;;
esac
awk -v n="$n" 'BEGIN {
    print "# " n " PCI functions, made by build-aux/fakesys-big.sh"
    print "iommu intel"
    print "driver pcieport builtin class=060400"
    print "driver e1000e ids=8086:10d3"
    print "driver vfio-pci module=vfio_pci stub vfio"
    made = 0
    for (b = 1; b < 256 && made < n; b++) {
        printf "device 0000:00:%02x.%d 8086:2940 class=060400 driver=pcieport secondary=%02x\n", \
               int((b - 1) / 8), (b - 1) % 8, b
        made++
        for (s = 0; s < 32 && made < n; s++)
            for (f = 0; f < 2 && made < n; f++) {
                printf "device 0000:%02x:%02x.%d 8086:10d3 class=020000 driver=e1000e reset=flr link=2.5GT/s,x1\n", b, s, f
                made++
            }
    }
}'
