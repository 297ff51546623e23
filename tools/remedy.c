/* remedy.c - a finding's remedy (what its fix asks done with the device) spelled as hostdev's
 * own commands: the library says it in words, the commands are the tool's to give. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* The VM and owner the map has for @device (REACQUIRE gives the device back to them). */
static bool holder(struct tool *t, const char *device, char *vm, size_t size, unsigned *uid,
                   unsigned *gid)
{
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a;
    struct hd_pci_addr addr;
    bool found = false;

    if (hd_pci_addr_parse(device, &addr) < 0 || hd_assignment_list_new(t->ctx, &map) < 0) {
        hd_ctx_clear_error(t->ctx);
        return false;
    }
    if ((a = hd_assignment_list_find(map, &addr)) != NULL) {
        snprintf(vm, size, "%s", hd_assignment_get_vm(a));
        *uid = (unsigned)hd_assignment_get_uid(a);
        *gid = (unsigned)hd_assignment_get_gid(a);
        found = true;
    }
    hd_assignment_list_unref(map);
    return found;
}

size_t tool_remedy_commands(struct tool *t, const struct hd_findings *findings, size_t i,
                            char (*out)[TOOL_COMMAND_MAX], size_t max)
{
    const char *d = hd_findings_get_device(findings, i);
    char vm[128];
    unsigned uid, gid;
    size_t n = 0;

#define CMD(...) (n < max ? (void)snprintf(out[n++], TOOL_COMMAND_MAX, __VA_ARGS__) : (void)0)
    switch (d == NULL ? HD_REMEDY_NONE : hd_findings_get_remedy(findings, i)) {
    case HD_REMEDY_DETACH:
        CMD("hostdev detach %s", d);
        break;
    case HD_REMEDY_DETACH_GROUP:
        CMD("hostdev detach --group %s", d);
        CMD("hostdev acquire --vm ID --group %s", d);
        break;
    case HD_REMEDY_REDETACH:
        CMD("hostdev reattach %s && hostdev detach %s", d, d);
        break;
    case HD_REMEDY_REACQUIRE:
        if (holder(t, d, vm, sizeof(vm), &uid, &gid))
            CMD("hostdev release --vm %s %s && hostdev acquire --vm %s --owner %u:%u %s", vm, d,
                vm, uid, gid, d);
        break;
    case HD_REMEDY_ACQUIRE:
        CMD("hostdev acquire --vm ID --owner USER:GROUP %s", d);
        break;
    case HD_REMEDY_DETACH_OR_MANAGED:
        CMD("hostdev detach %s", d);
        CMD("hostdev acquire --vm ID --managed %s", d);
        break;
    case HD_REMEDY_RELEASE_FORCE:
        CMD("hostdev release --force %s", d);
        break;
    case HD_REMEDY_LIST:
        CMD("hostdev list");
        break;
    case HD_REMEDY_PERSIST_VF_COUNT: {
        struct hd_pci_addr pf;
        char pfname[HD_PCI_ADDR_BUFSZ];
        int numvfs;
        bool persisted;
        if (hd_findings_get_remedy_vf_count(findings, i, &pf, &numvfs, &persisted) < 0)
            break;
        CMD("hostdev persist %s --numvfs %d", hd_pci_addr_format(&pf, pfname), numvfs);
        if (persisted) /* a line of the admin's own file is theirs to remove */
            CMD("hostdev unpersist %s", d);
        break;
    }
    case HD_REMEDY_NONE:
        break;
    }
#undef CMD
    return n;
}
