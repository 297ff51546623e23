/* vmmopts.h - what hostdev-xml and qemu-args share beyond the devices: the option ROM
 * (--rom-bar, --rom-file) and the guest slots that keep a multifunction device together. */
#ifndef HOSTDEV_VMMOPTS_H
#define HOSTDEV_VMMOPTS_H

#include "tool.h"

struct vmm_opts {
    int rom_bar;          /* -1: not given; 0 off; 1 on */
    const char *rom_file; /* an absolute path, or NULL */
    unsigned first_slot;  /* the guest slot the first multifunction device goes to */
};

/* Options 'B' (--rom-bar), 'F' (--rom-file), 'S' (--guest-slot); their help: */
#define VMM_OPTS_HELP                                                                          \
    "      --rom-bar on|off    show the option ROM BAR to the guest, or hide it\n"            \
    "      --rom-file FILE     the guest sees FILE (absolute path) as the option ROM\n"       \
    "      --guest-slot N      the guest slot (1-31, default 16) of the first device\n"         \
    "                          given with several of its functions; the next get the\n"        \
    "                          next slots\n"

void vmm_opts_init(struct vmm_opts *o);
/* Take option @c ('B', 'F' or 'S'): 1 taken, 0 not one of ours, EXIT_USAGE printed. */
int vmm_opts_parse(struct tool *t, int c, const char *arg, struct vmm_opts *o);

/* Where a device goes in the guest: functions of one physical slot given together share one
 * guest slot, with their own function numbers (function 0 carries multifunction=on). */
struct guest_place {
    int slot; /* -1: a slot of its own, the VMM's choice */
    unsigned function;
    bool multifunction; /* function 0 of a shared slot */
};

/* Places for @n devices (@devs; NULL entries, mediated devices, get none); EXIT_USAGE (printed)
 * when a slot's functions lack function 0 (a guest does not look past an empty function 0) or the
 * guest slots run out. Virtual functions are not functions of a multifunction device: each keeps a
 * slot of its own. */
int guest_places(struct tool *t, const struct vmm_opts *o, struct hd_device *const *devs,
                 size_t n, struct guest_place *out);

#endif
