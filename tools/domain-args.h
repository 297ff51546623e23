/* domain-args.h - `--domain-xml FILE` for acquire and release. */
#ifndef HOSTDEV_DOMAIN_ARGS_H
#define HOSTDEV_DOMAIN_ARGS_H

#include "domxml.h"
#include "tool.h"

struct domain_args {
    struct domxml dom;
    struct hd_pci_addr *managed, *unmanaged, *all; /* the PCI ones */
    size_t nmanaged, nunmanaged, nall;
    const char **mdevs; /* the mediated devices' UUIDs (in @dom) */
    size_t nmdevs;
    const char **nodes; /* USB and SCSI devices, as hostdev names them (in @dom) */
    size_t nnodes;
};

/* Read @path; *@vm defaults to the domain's <name>. EXIT_USAGE (message printed) for a file
 * that is not a domain, has no name and no --vm, or has neither a PCI nor an mdev hostdev, or
 * an <interface type='hostdev'> that is no VF (domain_check_interface). */
int domain_args_read(struct tool *t, const char *path, const char **vm, struct domain_args *da);
/* EXIT_USAGE, saying what is wrong with the domain XML @path as "--domain-xml PATH: ...": the
 * input named as it was given, whatever found the fault. */
int domain_error(struct tool *t, const char *path, const char *fmt, ...) HD_PRINTF_TOOL(3, 4);
void domain_args_free(struct domain_args *da);
/* libvirt gives only SR-IOV VFs as <interface type='hostdev'> ("supported on SR-IOV Virtual
 * Functions only"): @h naming another PCI device of @path is bad input, EXIT_USAGE with the
 * message printed. A device that cannot be opened passes, for the operation to name why. */
int domain_check_interface(struct tool *t, const char *path, const struct domxml_hostdev *h);

/* What hostdev leaves undone for @h, said in @buf (DOMAIN_NOTE_MAX): an <interface
 * type='hostdev'>'s MAC address, VLAN and virtualport, which libvirt sets through the VF's PF
 * and hostdev does not (a VLAN trunk, which no ip command sets on a VF, in words). false when
 * there is nothing to say. */
#define DOMAIN_NOTE_MAX 768
bool domain_net_note(struct hd_ctx *ctx, const struct domxml_hostdev *h, char *buf, size_t size);

#endif
