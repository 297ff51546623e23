/* mdev-xml.h - what a node device XML for a mediated device says (virNodeDeviceCreateXML).
 * libc only, so that its fuzz target links it alone. */
#ifndef HOSTDEV_VIRT_MDEV_XML_H
#define HOSTDEV_VIRT_MDEV_XML_H

#include <stdbool.h>

/* What a node device XML for an mdev says: the few elements and attributes that matter. */
struct virt_mdev_xml {
    char parent[128];      /* <parent>: a node device name */
    char parent_addr[128]; /* <capability type='mdev'><parent_addr> */
    char type[128];        /* <type id='...'/> */
    char uuid[64];         /* <uuid> */
    bool is_mdev;          /* <capability type='mdev'> */
};

/* Read @xml: 0; -EBADMSG when it is not well formed (*@why says how); -ENOTSUP when it is not
 * a mediated device; -EINVAL when one lacks <parent> (or <parent_addr>) and <type id>, or has
 * markup or entities where plain text and attributes are read; -ENOMEM. */
int virt_mdev_xml_read(const char *xml, struct virt_mdev_xml *m, const char **why);

#endif
