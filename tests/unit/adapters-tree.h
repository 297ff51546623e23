/* adapters-tree.h - plain-directory sysfs trees for the adapter tests, on tmptree.c; running
 * commands. */
#ifndef HOSTDEV_ADAPTERS_TREE_H
#define HOSTDEV_ADAPTERS_TREE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A new empty tree under $TMPDIR; at_tree_free() removes it. Both abort the test on error. */
char *at_tree_new(void);
void at_tree_free(char *root);

void at_file(const char *root, const char *path, const char *content);
void at_bytes(const char *root, const char *path, const void *data, size_t len);
void at_link(const char *root, const char *path, const char *target);

/* One PCI function as the kernel shows it. */
struct at_pci {
    const char *bdf;   /* "0000:00:19.0" */
    const char *under; /* its parent's directory below sys/devices: "pci0000:00" or
                        * "pci0000:00/0000:00:1c.0" */
    uint16_t vendor, device;
    uint32_t class;
    const char *driver; /* NULL: unbound */
    int group;          /* -1: none */
    int header_type;
    int pcie_type; /* -1: conventional PCI; 0 endpoint, 4 root port, 9 RCiEP... */
    int link_speed, link_width, link_port;
    int totalvfs; /* > 0: an SR-IOV PF (sriov_numvfs written separately) */
    int numa;     /* -1: no numa_node attribute value */
    int has_reset;
};
void at_add_pci(const char *root, const struct at_pci *p);
/* Make VF @vf of PF @pf (both added already): virtfnN and physfn links. */
void at_add_vf(const char *root, const char *pf, const char *pf_under, int n, const char *vf,
               const char *vf_under);

/* The oVirt seed's tree and then some: SATA -> scsi_host1 -> target -> disk -> sg1 + sda,
 * e1000e with eth0, a root port with an SR-IOV PF and its VF, a USB controller with a root
 * hub, a tablet and their interfaces, an RCiEP, lo, a partition and a loop device (both not
 * node devices), and 0000:06:12.5 already on vfio-pci (the libvirt manual's device). */
void at_sample(const char *root);

/* Run @cmd with sh -c; *@out (may be NULL) gets stdout, *@err stderr (allocated). Returns
 * the exit status. */
int at_run(const char *cmd, char **out, char **err);
/* Whether @hostdevs (<hostdev> elements) in a minimal domain, written as @dir/dom.xml, pass
 * xmllint against libvirt's domain.rng. */
bool at_domain_validates(const char *dir, const char *hostdevs);
/* The build directory (HOSTDEV_BUILD, default "build") and the source tree. */
const char *at_build_dir(void);
const char *at_src_dir(void);

#endif
