/* domxml.h - the PCI <hostdev> elements of a libvirt domain XML (read with libxml2). */
#ifndef HOSTDEV_DOMXML_H
#define HOSTDEV_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <hostdev/hostdev.h>

struct domxml_hostdev {
    struct hd_pci_addr addr;
    bool managed;   /* managed='yes'; libvirt's default is no */
    char driver[16]; /* <driver name='vfio'/>, "" when absent */
};

struct domxml {
    char *name; /* <name>, NULL when absent */
    struct domxml_hostdev *hostdevs;
    size_t count;
};

/* Read every <hostdev mode='subsystem' type='pci'> under <domain><devices> of @path, in
 * document order. Returns 0, or -EINVAL / -errno with a one-line reason in @err. The file is
 * parsed without network access or entity expansion. Free with domxml_free(). */
int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize);
void domxml_free(struct domxml *dom);

/* <hostdev mode='subsystem' type='pci' managed='yes|no'> with its driver and source address,
 * indented by @indent spaces, as libvirt writes it. */
void domxml_write_hostdev(FILE *out, const struct hd_pci_addr *addr, bool managed,
                          const char *driver, int indent);

#endif
