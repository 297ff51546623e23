/* vfio-pci.c - the VFIO stub: binds by driver_override or new_id (its id table is empty),
 * and gives the group to user space as dev/vfio/<group>. */
#include "internal.h"

const struct hd_stub_driver hd_stub_vfio_pci = {
    .name = "vfio-pci",
    .module = "vfio_pci",
    .vfio = true,
};
