/* libvirt-manual-example.c - the libvirt manual's PCI passthrough check, built unchanged.
 *
 * libvirt-manual-fragment.inc is the manual's code (section "PCI device passthrough") exactly
 * as printed, from its blank line after the first line on. The first line,
 * "virNodeDevicePtr dev = ....get virNodeDevicePtr for the PCI device...", is prose rather
 * than C; here it is a lookup by name. The fragment ends with `return;`, so it lives in a
 * void function, as in the manual. Build: cc prog.c $(pkg-config --cflags --libs libvirt).
 * Usage: libvirt-manual-example NODEDEV-NAME (the root comes from HOSTDEV_ROOT). */
#include <stdio.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static void check_passthrough(virNodeDevicePtr found)
{
    virNodeDevicePtr dev = found;
#include "libvirt-manual-fragment.inc"
}

int main(int argc, char **argv)
{
    virConnectPtr conn;
    virNodeDevicePtr dev;

    if (argc != 2) {
        fprintf(stderr, "usage: %s NODEDEV-NAME\n", argv[0]);
        return 2;
    }
    conn = virConnectOpen("qemu:///system");
    if (conn == NULL) {
        fprintf(stderr, "%s\n", virGetLastErrorMessage());
        return 1;
    }
    dev = virNodeDeviceLookupByName(conn, argv[1]);
    if (dev == NULL) {
        fprintf(stderr, "%s\n", virGetLastErrorMessage());
        virConnectClose(conn);
        return 1;
    }
    check_passthrough(dev);
    virNodeDeviceFree(dev);
    virConnectClose(conn);
    return 0;
}
