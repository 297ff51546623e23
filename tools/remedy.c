/* remedy.c - a finding's remedy (what its fix asks done with the device) spelled as hostdev's
 * own commands: the library says it in words, the commands are the tool's to give. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* One `hostdev persist` of every member HD_REMEDY_PERSIST_MEMBERS names (persist takes them
 * all or none), into @out; false when it does not fit (some 35 members), which leaves no
 * command: half of the members would not make the group viable. */
static bool persist_members(const struct hd_findings *findings, size_t i, char *out, size_t size)
{
    const struct hd_pci_addr *members;
    size_t count, len = 0;

    if (hd_findings_get_remedy_members(findings, i, &members, &count) < 0)
        return false;
    for (size_t k = 0; k < count; k++) {
        char name[HD_PCI_ADDR_BUFSZ];
        int w = snprintf(out + len, size - len, "%s %s", k ? "" : "hostdev persist",
                         hd_pci_addr_format(&members[k], name));
        if (w < 0 || (size_t)w >= size - len)
            return false;
        len += (size_t)w;
    }
    return true;
}

size_t tool_remedy_commands(const struct hd_findings *findings, size_t i,
                            char (*out)[TOOL_COMMAND_MAX], size_t max)
{
    const char *d = hd_findings_get_device(findings, i);
    const char *vm;
    uid_t uid;
    gid_t gid;
    size_t n = 0;

#define CMD(...) (n < max ? (void)snprintf(out[n++], TOOL_COMMAND_MAX, __VA_ARGS__) : (void)0)
    switch (d == NULL ? HD_REMEDY_NONE : hd_findings_get_remedy(findings, i)) {
    case HD_REMEDY_DETACH:
        CMD("hostdev detach %s", d);
        break;
    case HD_REMEDY_PERSIST_MEMBERS:
    case HD_REMEDY_DETACH_GROUP:
        /* The lasting fix first; then, lasting until the next boot, the group now. */
        if (hd_findings_get_remedy(findings, i) == HD_REMEDY_PERSIST_MEMBERS && n < max &&
            persist_members(findings, i, out[n], TOOL_COMMAND_MAX))
            n++;
        CMD("hostdev detach --group %s", d);
        CMD("hostdev acquire --vm ID --group %s", d);
        break;
    case HD_REMEDY_REDETACH:
        CMD("hostdev reattach %s && hostdev detach %s", d, d);
        break;
    case HD_REMEDY_REACQUIRE:
        if (hd_findings_get_remedy_holder(findings, i, &vm, &uid, &gid) == 0)
            CMD("hostdev release --vm %s %s && hostdev acquire --vm %s --owner %u:%u %s", vm, d,
                vm, (unsigned)uid, (unsigned)gid, d);
        break;
    case HD_REMEDY_RELEASE:
        if (hd_findings_get_remedy_holder(findings, i, &vm, &uid, &gid) == 0)
            CMD("hostdev release --vm %s %s", vm, d);
        break;
    case HD_REMEDY_ACQUIRE:
        CMD("hostdev acquire --vm ID --owner USER:GROUP %s", d);
        break;
    case HD_REMEDY_ACQUIRE_GROUP:
        CMD("hostdev acquire --vm ID --owner USER:GROUP --group %s", d);
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
    case HD_REMEDY_RECOVER:
        CMD("hostdev recover");
        break;
    case HD_REMEDY_NONE:
        break;
    }
#undef CMD
    return n;
}
