/* pci-stub.c - the legacy stub (KVM device assignment before VFIO): claims a device and does
 * nothing with it; no device node. */
#include "internal.h"

const struct hd_stub_driver hd_stub_pci_stub = {
    .name = "pci-stub",
    .module = "pci_stub",
    .vfio = false,
};
