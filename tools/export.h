/* export.h - `hostdev export`: what the host offers for passthrough, in other engines' formats. */
#ifndef HOSTDEV_EXPORT_H
#define HOSTDEV_EXPORT_H

#include <stdio.h>
#include <time.h>

#include "tool.h"

/* One PCI function as the exporters see it. */
struct xdev {
    struct hd_device *dev; /* borrowed from the listing */
    const char *name;      /* "0000:01:00.0" */
    uint16_t vendor, device;
    uint32_t class_code;
    const char *driver;  /* NULL: unbound */
    const char *product; /* the names database's device name, NULL unknown */
    int group;           /* -1: none */
    int numa;            /* -1: none */
    bool is_vf, is_pf;   /* SR-IOV roles (a PF: sriov_totalvfs > 0) */
    int numvfs, totalvfs;
    const struct xdev *pf; /* a VF's PF, NULL when not listed */
    /* A VF whose PF is on vfio-pci (or a variant): vfio-pci lets it be opened only with the
     * PF's VF token, which libvirt, so KubeVirt and Nova, never passes ("VF token required
     * to access device"). A DPDK program that has the token (sriovdp's pods) can use it. */
    bool needs_vf_token;
    /* Bound to a vfio-pci-family driver, an endpoint, and its IOMMU group viable. */
    bool ready;
    /* Ready, but another function of its group is the one advertised (a GPU's audio): it
     * goes along with that one and is never a resource of its own. */
    const struct xdev *companion_of;
};

/* A mediated device type a parent offers (a vGPU type), for KubeVirt and Nova. */
struct xmdev_type {
    const char *id;           /* "nvidia-222", the directory in mdev_supported_types */
    const char *name;         /* its name attribute ("GRID T4-1B"), NULL when it has none */
    const char *parent_name;  /* "0000:65:00.0", or a virtual parent's name ("mtty") */
    const struct xdev *parent; /* the PCI parent; NULL for another kind of parent */
    int available;             /* available_instances: how many more the parent can make */
    unsigned made;             /* mediated devices of this type the parent has (nova only) */
};

struct xmodel {
    struct xdev *devs; /* sorted by address */
    size_t n;
    struct xmdev_type *types; /* sorted by parent, then id; read for kubevirt and nova only */
    size_t ntypes;
    bool iommu_usable;
    time_t now;                           /* SOURCE_DATE_EPOCH when set, else the clock */
    struct hd_assignment_list *assigned; /* read for prometheus only, else NULL */
    const struct hd_mdev_list *mdevs;     /* read for nova only, else NULL */
    struct xwarnings *warnings;           /* where a format's warnings go; NULL: unsaid */
};

/* What a document's making warns of: said on stderr (under --json, as its "warnings") once the
 * document is written, not in it. */
struct xwarnings {
    char **v;
    size_t n;
};

/* @msg (allocated; NULL: out of memory, nothing to say) joins @w, which may be NULL. */
void xwarnings_add(struct xwarnings *w, char *msg);

/* A PF with VFs enabled (sriov_numvfs > 0): the VFs, offered or assigned on their own, run on
 * it, and a VM given the PF would own (reset, reprogram) the device they depend on. It is
 * offered again once its VFs are disabled. */
static inline bool xdev_pf_with_vfs(const struct xdev *d)
{
    return d->is_pf && d->numvfs > 0;
}

/* Advertised: ready, not a companion, not a PF its VFs depend on. */
static inline bool xdev_advertised(const struct xdev *d)
{
    return d->ready && d->companion_of == NULL && !xdev_pf_with_vfs(d);
}

/* Advertised to a VM engine (KubeVirt, Nova: QEMU through libvirt): one that can open it. */
static inline bool xdev_for_vms(const struct xdev *d)
{
    return xdev_advertised(d) && !d->needs_vf_token;
}

struct xopts {
    const char *prefix;   /* resource-name prefix (kubevirt, sriovdp) */
    int nova_release;     /* 26 = Zed */
    time_t expiry;        /* nfd: absolute */
    const char *physnet;  /* nova: physical_network of VFs, NULL none */
    char **merge;         /* kubevirt: other hosts' exports whose entries join this host's */
    size_t nmerge;
    char **mdev_types;    /* nova: the types asked for (--mdev-type), preferred first */
    size_t nmdev_types;
};

/* Each writes the whole document to @out; 0, or an exit status after printing why. */
int export_kubevirt(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);
int export_nfd(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);
int export_nova(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);
int export_sriovdp(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);
int export_prometheus(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);

/* A mediated device type id Nova can be given (--mdev-type checks it too). */
bool nova_type_id_valid(const char *id);

/* NFD's limit on a feature file (source/local MaxFeatureFileSize): larger ones are ignored. */
#define NFD_MAX_FILE_SIZE 65536

#endif
