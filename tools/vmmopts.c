/* vmmopts.c - the option ROM and multifunction placement shared by hostdev-xml and qemu-args. */
#include <stdlib.h>
#include <string.h>

#include "vmmopts.h"

/* The last guest slot of a PCI bus. */
#define GUEST_SLOT_MAX 0x1f

void vmm_opts_init(struct vmm_opts *o)
{
    o->rom_bar = -1;
    o->rom_file = NULL;
    o->first_slot = 0x10;
}

int vmm_opts_parse(struct tool *t, int c, const char *arg, struct vmm_opts *o)
{
    unsigned long n;
    char *end;

    switch (c) {
    case 'B':
        if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
            return tool_error(t, EXIT_USAGE, "--rom-bar '%s': on or off", arg);
        o->rom_bar = strcmp(arg, "on") == 0;
        return 1;
    case 'F':
        /* libvirt wants an absolute path; control bytes would break the XML or the argv. */
        if (arg[0] != '/' || strpbrk(arg, "\n\r\t") != NULL)
            return tool_error(t, EXIT_USAGE, "--rom-file '%s': an absolute path", arg);
        o->rom_file = arg;
        return 1;
    case 'S':
        n = strtoul(arg, &end, 0);
        if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || n < 1 || n > GUEST_SLOT_MAX)
            return tool_error(t, EXIT_USAGE, "--guest-slot '%s': a slot number, 1 to %d", arg,
                              GUEST_SLOT_MAX);
        o->first_slot = (unsigned)n;
        return 1;
    default:
        return 0;
    }
}

/* Functions of one physical multifunction device (VFs are not: SR-IOV routes them). */
static bool same_slot(struct hd_device *a, struct hd_device *b)
{
    if (a == NULL || b == NULL) /* a mediated device: no slot of its own to share */
        return false;
    const struct hd_pci_addr *x = hd_device_get_addr(a), *y = hd_device_get_addr(b);

    return x->domain == y->domain && x->bus == y->bus && x->slot == y->slot &&
           hd_device_get_physfn(a) == NULL && hd_device_get_physfn(b) == NULL;
}

int guest_places(struct tool *t, const struct vmm_opts *o, struct hd_device *const *devs,
                 size_t n, struct guest_place *out)
{
    unsigned next = o->first_slot;

    for (size_t i = 0; i < n; i++) {
        out[i] = (struct guest_place){.slot = -1};
        if (devs[i] == NULL)
            continue;
        out[i].function = hd_device_get_addr(devs[i])->function;
        hd_device_fill(devs[i], HD_FILL_SRIOV); /* a VF knows its PF (physfn) */
    }
    for (size_t i = 0; i < n; i++) {
        if (devs[i] == NULL)
            continue;
        struct hd_pci_addr zero = *hd_device_get_addr(devs[i]);
        size_t together = 0;
        bool has_zero = false;
        char name[HD_PCI_ADDR_BUFSZ], zname[HD_PCI_ADDR_BUFSZ];
        if (out[i].slot >= 0)
            continue; /* placed with an earlier function of its slot */
        hd_pci_addr_format(&zero, name);
        zero.function = 0;
        hd_pci_addr_format(&zero, zname);
        for (size_t k = i; k < n; k++) {
            if (same_slot(devs[i], devs[k])) {
                together++;
                has_zero = has_zero || hd_device_get_addr(devs[k])->function == 0;
            }
        }
        if (together < 2)
            continue;
        if (!has_zero)
            return tool_error(t, EXIT_USAGE, "%s: the functions of one device share a guest "
                              "slot, which needs its function 0: give %s too", name, zname);
        if (next > GUEST_SLOT_MAX)
            return tool_error(t, EXIT_USAGE, "no guest slot is left for %s (slots %u to %d are "
                              "taken: choose a lower --guest-slot)", name, o->first_slot,
                              GUEST_SLOT_MAX);
        for (size_t k = i; k < n; k++) {
            if (same_slot(devs[i], devs[k])) {
                out[k].slot = (int)next;
                out[k].multifunction = out[k].function == 0;
            }
        }
        next++;
    }
    return EXIT_DONE;
}
