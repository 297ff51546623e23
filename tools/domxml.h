/* domxml.h - the <hostdev> elements of a libvirt domain XML, and its <interface type='hostdev'>
 * ones (SR-IOV VFs given as PCI devices), read with libxml2. */
#ifndef HOSTDEV_DOMXML_H
#define HOSTDEV_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <hostdev/hostdev.h>

struct domxml_hostdev {
    char mdev[37];           /* <hostdev type='mdev'>: its UUID; "" for a PCI one */
    char node[64];           /* type='usb': usb:VVVV:PPPP; type='scsi': scsi_H_B_T_L; "" else */
    unsigned long usb_bus, usb_device; /* type='usb' <address bus= device=/>; 0: none */
    struct hd_pci_addr addr; /* PCI */
    bool managed;    /* managed='yes'; libvirt's default is no */
    char driver[16]; /* <driver name='vfio'/>, "" when absent */
    char model[64];  /* <driver model='mlx5_vfio_pci'/>: the vfio-pci variant, "" when absent */
    /* An <interface type='hostdev'>: a PCI device like the rest, plus network settings libvirt
     * applies through the VF's PF and hostdev does not (the tools say so). */
    bool interface;
    int line;              /* the <interface>'s line, for those notes */
    char mac[18];          /* <mac address=>: "" when absent */
    char vlan[48];         /* <vlan>'s tag ids, "42" or "10,20": "" when absent */
    bool vlan_trunk;       /* several tags, or <vlan trunk='yes'>: more than one VLAN */
    char virtualport[24];  /* <virtualport type=>, "" when absent ("any" without a type) */
};

struct domxml {
    char *name; /* <name>, NULL when absent */
    struct domxml_hostdev *hostdevs;
    size_t count;
};

/* Read every <hostdev mode='subsystem' type='pci|mdev|usb|scsi'> and <interface type='hostdev'>
 * under <domain><devices> of @path, in document order (other interfaces are not host devices).
 * Returns 0, or -EINVAL / -errno with a one-line reason in @err. The file is parsed without
 * network access or entity expansion. Free with domxml_free().
 * domxml.c does it with libxml2; domxml-none.c (HOSTDEV_NO_XML=1, the static build) says
 * -ENOTSUP. */
int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize);
/* The same over a document in memory (@len bytes), for tests and the fuzzer. */
int domxml_parse(const char *text, size_t len, struct domxml *dom, char *err, size_t errsize);
void domxml_free(struct domxml *dom);

#endif
