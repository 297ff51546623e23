/* doctor.c - why passthrough fails, in plain words, with the fix: every case of the oVirt
 * troubleshooting section (IOMMU off, group not viable, /dev/vfio/N permission, device not
 * detached, BARs left unassigned) read from the root, nothing changed. */
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define IORESOURCE_IO 0x100ull
#define IORESOURCE_MEM 0x200ull
#define IORESOURCE_UNSET 0x20000000ull
#define PCI_STD_BARS 6

static char *vformat(const char *fmt, va_list ap) HD_PRINTF(1, 0);
static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;

    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static char *format(const char *fmt, ...) HD_PRINTF(1, 2);
static char *format(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* Add a finding; @fix is allocated by the caller (format()) and taken over; @remedy is what
 * it asks done with the device, for a program to spell as its commands. */
static void add(struct hd_findings *d, enum hd_severity sev, const char *code,
                enum hd_remedy remedy, const char *device, char *fix, const char *fmt, ...)
    HD_PRINTF(7, 8);
static void add(struct hd_findings *d, enum hd_severity sev, const char *code,
                enum hd_remedy remedy, const char *device, char *fix, const char *fmt, ...)
{
    char *message;
    va_list ap;

    va_start(ap, fmt);
    message = vformat(fmt, ap);
    va_end(ap);
    if (message == NULL || fix == NULL)
        hd_findings_set_error(d, -ENOMEM);
    else
        hd_findings_add(d, sev, code, device, fix, "%s", message);
    hd_findings_set_remedy(d, remedy);
    free(message);
    free(fix);
}

/* ---- the IOMMU: the probe's findings, as they are ---------------------------------------- */

/* The report in *@report (NULL: none wanted), kept for its command line: a run reads it once. */
static int check_iommu(struct hd_ctx *ctx, struct hd_findings *d, enum hd_tristate *remap,
                       enum hd_tristate *realloc_on, struct hd_iommu_report **report)
{
    struct hd_iommu_report *rep;
    const struct hd_findings *findings;
    const struct hd_cmdline *cl;
    int r = hd_iommu_probe(ctx, &rep);

    if (r < 0)
        return r;
    findings = hd_iommu_report_get_findings(rep);
    for (size_t i = 0; i < hd_findings_count(findings); i++)
        hd_findings_add(d, hd_findings_get_severity(findings, i),
                        hd_findings_get_code(findings, i), NULL,
                        hd_findings_get_fix(findings, i), "%s",
                        hd_findings_get_message(findings, i));
    *remap = hd_iommu_report_get_interrupt_remapping(rep);
    cl = hd_iommu_report_get_cmdline(rep);
    *realloc_on = cl ? hd_cmdline_get_setting(cl, HD_CMDLINE_PCI_REALLOC) : HD_TRISTATE_UNSET;
    if (report != NULL)
        *report = rep;
    else
        hd_iommu_report_unref(rep);
    return 0;
}

/* ---- per device ---------------------------------------------------------------------------- */

/* The reservations the boot applies (hostdev.d files, hostdev.reserve=), read and checked
 * once per run, when a check first asks: a whole-host run looks at every not-viable group and
 * at the reservations themselves. */
struct boot_reservations {
    struct hd_reserve_config *config; /* NULL: not read yet, or they cannot be read */
    /* This boot's parameters (hostdev.reserve=, vfio-pci.ids=), the IOMMU report's: the run
     * reads them once. NULL: unreadable. */
    const struct hd_cmdline *cmdline;
    const struct hd_cmdline *vfio_pci_ids; /* the report's, the ids vfio-pci takes; NULL: none */
    bool read;
};

/* The reservations, or NULL when they cannot be read at all (no memory, no listing): the
 * reservations' own commands say so, and each check here then has nothing to say of them. */
static const struct hd_reserve_config *boot_reservations(struct hd_ctx *ctx,
                                                         struct boot_reservations *b)
{
    if (!b->read) {
        b->read = true;
        /* The next boot's parameters and modprobe.d are, as far as anything here tells, this
         * one's. */
        if (hd_reserve_config_load_cmdline(ctx, b->cmdline, &b->config) < 0 ||
            hd_reserve_config_check(b->config, ctx) < 0) {
            b->config = hd_reserve_config_unref(b->config);
            hd_ctx_clear_error(ctx);
        }
    }
    return b->config;
}

/* A list the fix or the message names in full, however long: text_add() appends, @sep
 * before all but the first; a failed allocation is kept in @failed, said once at the end. */
struct text {
    char *s; /* NULL: nothing yet */
    bool failed;
};

static void text_add(struct text *t, const char *sep, const char *fmt, ...) HD_PRINTF(3, 4);
static void text_add(struct text *t, const char *sep, const char *fmt, ...)
{
    va_list ap;
    char *item, *s = NULL;

    va_start(ap, fmt);
    item = vformat(fmt, ap);
    va_end(ap);
    if (item == NULL || (s = format("%s%s%s", t->s ? t->s : "", t->s ? sep : "", item)) == NULL)
        t->failed = true;
    else {
        free(t->s);
        t->s = s;
    }
    free(item);
}

static const char *text_str(const struct text *t)
{
    return t->s ? t->s : "";
}

/* Whether the boot leaves @m on a host driver when nothing reserves it: one on a host driver
 * now stays there, and one on a stub (vfio-pci, a variant, pci-stub) is held only until the
 * boot, which gives it to its host driver. One unbound, or on pcieport, is no host driver's
 * then either (as far as anything read tells), and leaves the group viable. By driver name
 * alone: what the group read already says. */
static bool boot_gives_host_driver(const struct hd_device *m)
{
    const char *driver = hd_device_get_driver(m);

    return driver != NULL && (hd_driver_is_stub(driver) || !hd_driver_is_dma_safe(driver));
}

/* Whether vfio-pci's ids at boot (hd_iommu_report_get_vfio_pci_ids()) name @m, as the kernel
 * matches an id (pci_match_one_device()): then vfio-pci takes it at boot, configured outside
 * hostdev. */
static bool boot_ids_name(const struct boot_reservations *b, const struct hd_device *m)
{
    const struct hd_cmdline *cl = b->vfio_pci_ids;

    for (size_t i = 0; cl != NULL && i < hd_cmdline_get_vfio_pci_id_count(cl); i++) {
        struct hd_pci_id_match id;
        if (hd_cmdline_get_vfio_pci_id(cl, i, &id) < 0)
            continue;
        if ((id.vendor == HD_PCI_ANY_ID || id.vendor == hd_device_get_vendor_id(m)) &&
            (id.device == HD_PCI_ANY_ID || id.device == hd_device_get_device_id(m)) &&
            (id.subvendor == HD_PCI_ANY_ID ||
             id.subvendor == hd_device_get_subsystem_vendor_id(m)) &&
            (id.subdevice == HD_PCI_ANY_ID ||
             id.subdevice == hd_device_get_subsystem_device_id(m)) &&
            ((id.class_code ^ hd_device_get_class(m)) & id.class_mask) == 0)
            return true;
    }
    return false;
}

/* Whether the boot reserves @m: persisted or configured (@config), or in vfio-pci's ids. */
static bool boot_reserves(const struct boot_reservations *b, const struct hd_reserve_config *config,
                          struct hd_device *m)
{
    return hd_reserve_config_match(config, m) != NULL || boot_ids_name(b, m);
}

/* When the boot reserves @dev (persisted, configured, or in vfio-pci's ids: boot_ids_name())
 * but not every other member of its group @g that it leaves on a host driver
 * (boot_gives_host_driver()): those members, in @members (room for every member of @g) and
 * named in @list, and how many (0: the boot reserves all of them, or not @dev, or the
 * reservations cannot be read). Then the group is not viable after any boot: detaching it now
 * (or having detached those members) does not last. */
static size_t boot_leaves_unreserved(struct hd_ctx *ctx, struct boot_reservations *boot,
                                     struct hd_device *dev, struct hd_group *g,
                                     struct hd_pci_addr *members, struct text *list)
{
    const struct hd_reserve_config *config = boot_reservations(ctx, boot);
    size_t n = 0;

    if (config == NULL || !boot_reserves(boot, config, dev))
        return 0;
    for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
        struct hd_device *m = hd_group_get_member(g, i);
        if (hd_pci_addr_equal(hd_device_get_addr(m), hd_device_get_addr(dev)) ||
            !boot_gives_host_driver(m) || boot_reserves(boot, config, m))
            continue;
        text_add(list, ", ", "%s", hd_device_get_name(m));
        members[n++] = *hd_device_get_addr(m);
    }
    return n;
}

/* Whether @d says already that group @g is not viable after the boot (for another member the
 * boot reserves): that is one finding per group, naming every such member. */
static bool group_told_at_boot(const struct hd_findings *d, struct hd_group *g)
{
    for (size_t i = 0; i < hd_findings_count(d); i++) {
        const char *device = hd_findings_get_device(d, i);
        if (device == NULL || strcmp(hd_findings_get_code(d, i), "group-not-viable-at-boot") != 0)
            continue;
        for (size_t k = 0; k < hd_group_get_member_count(g); k++)
            if (strcmp(device, hd_device_get_name(hd_group_get_member(g, k))) == 0)
                return true;
    }
    return false;
}

/* @dev's group viable now, but not after the next boot: the boot reserves @dev (and maybe other
 * members), while other members are off their host drivers only until then (detached by hand,
 * not persisted). Told once per group, for the first member checked. */
static void check_group_at_boot(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                                struct hd_group *g, struct boot_reservations *boot)
{
    struct text unreserved = {0}, reserved = {0};
    struct hd_pci_addr *members;
    size_t m;

    if (hd_group_get_member_count(g) < 2 || group_told_at_boot(d, g))
        return;
    if ((members = calloc(hd_group_get_member_count(g), sizeof(*members))) == NULL) {
        hd_findings_set_error(d, -ENOMEM);
        return;
    }
    m = boot_leaves_unreserved(ctx, boot, dev, g, members, &unreserved);
    for (size_t i = 0; m > 0 && i < hd_group_get_member_count(g); i++) {
        struct hd_device *r = hd_group_get_member(g, i);
        if (boot_reserves(boot, boot_reservations(ctx, boot), r))
            text_add(&reserved, " and ", "%s", hd_device_get_name(r));
    }
    if (unreserved.failed || reserved.failed)
        hd_findings_set_error(d, -ENOMEM);
    else if (m > 0) {
        add(d, HD_SEVERITY_WARNING, "group-not-viable-at-boot", HD_REMEDY_PERSIST_MEMBERS,
            hd_device_get_name(dev),
            format("persist %s too, so that the boot reserves the whole group (which reserves "
                   "%s now as well)",
                   text_str(&unreserved), m > 1 ? "them" : "it"),
            "IOMMU group %d is viable now, but not after the next boot: the boot reserves %s, "
            "and of the group only what is persisted, configured or in vfio-pci's ids, so %s, "
            "detached but not reserved, go%s back to %s host driver%s; QEMU would then say "
            "\"group %d is not viable\"",
            hd_device_get_iommu_group(dev), text_str(&reserved), text_str(&unreserved),
            m > 1 ? "" : "es", m > 1 ? "their" : "its", m > 1 ? "s" : "",
            hd_device_get_iommu_group(dev));
        hd_findings_set_remedy_members(d, members, m);
    }
    free(members);
    free(unreserved.s);
    free(reserved.s);
}

/* @dev's group not viable: which members are on host drivers, and what takes the group to a VM;
 * viable, what the boot leaves of it (check_group_at_boot()). *@hu reads what the host uses
 * once for the whole run, *@boot the reservations. */
static void check_group(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                        enum hd_tristate remap, struct hd_host_use **hu,
                        struct boot_reservations *boot)
{
    struct text list = {0}, kept = {0}, used = {0}, unreserved = {0};
    size_t n = 0;
    struct hd_group *g;

    if (hd_device_get_iommu_group(dev) < 0 ||
        hd_group_open(ctx, hd_device_get_iommu_group(dev), &g) < 0)
        return;
    for (size_t i = 0; i < hd_group_get_blocker_count(g); i++) {
        struct hd_device *b = hd_group_get_blocker(g, i);
        const char *platform = hd_platform_function(b);
        if (hd_pci_addr_equal(hd_device_get_addr(b), hd_device_get_addr(dev)))
            continue; /* the device itself: see not-detached */
        text_add(&list, ", ", "%s (%s)", hd_device_get_name(b), hd_device_get_driver(b));
        n++;
        if (platform != NULL)
            text_add(&kept, ", ", "%s (%s)", hd_device_get_name(b), platform);
        /* What the host uses of it, as acquire and detach would refuse it (the message names
         * the member); a host that cannot be read leaves the usual advice. */
        char *use = NULL;
        if (platform == NULL && hd_host_use_find(b, hu, &use) < 0)
            hd_ctx_clear_error(ctx);
        if (use != NULL)
            text_add(&used, "; ", "%s", use);
        free(use);
    }
    if (n == 0) {
        check_group_at_boot(ctx, d, dev, g, boot);
        hd_group_unref(g);
        return;
    }
    if (list.failed || kept.failed || used.failed) {
        hd_findings_set_error(d, -ENOMEM);
        goto done;
    }
    /* Never advise what detach and acquire would refuse: the host keeps those functions, or
     * uses them, and what must change first is that. */
    if (kept.s != NULL || used.s != NULL) {
        add(d, HD_SEVERITY_ERROR, "group-not-viable", HD_REMEDY_NONE, hd_device_get_name(dev),
            kept.s != NULL
                ? format("none on this host as it is: IOMMU group %d also holds %s, which the "
                         "host keeps (taking it would take part of the platform). Put the "
                         "device in a slot whose group it has to itself, or use firmware that "
                         "isolates it (ACS)",
                         hd_device_get_iommu_group(dev), text_str(&kept))
                : format("none while the host uses another member of IOMMU group %d: %s. "
                         "Taking the group would pull that from under the host, so detaching "
                         "or acquiring %s with its group is refused unless forced. Move that "
                         "use off it first (another interface, disk or display), then give the "
                         "VM the whole group; or put the device in a slot whose group it has to "
                         "itself",
                         hd_device_get_iommu_group(dev), text_str(&used),
                         hd_device_get_name(dev)),
            "IOMMU group %d is not viable: %s %s on a host driver, and VFIO hands a group to a "
            "VM only when every member is on vfio-pci (or unbound)",
            hd_device_get_iommu_group(dev), text_str(&list), n > 1 ? "are" : "is");
        goto done;
    }
    struct hd_pci_addr *members = calloc(hd_group_get_member_count(g), sizeof(*members));
    size_t m = members == NULL ? 0 : boot_leaves_unreserved(ctx, boot, dev, g, members,
                                                            &unreserved);
    char *boot_text = m == 0 ? strdup("")
                             : format("persist %s too, or every boot leaves group %d not viable "
                                      "(the boot reserves %s, and of the group only what is "
                                      "persisted, configured or in vfio-pci's ids); for now, ",
                                      text_str(&unreserved), hd_device_get_iommu_group(dev),
                                      hd_device_get_name(dev));
    if (members == NULL || unreserved.failed || boot_text == NULL)
        hd_findings_set_error(d, -ENOMEM);
    else
        add(d, HD_SEVERITY_ERROR, "group-not-viable",
            m > 0 ? HD_REMEDY_PERSIST_MEMBERS : HD_REMEDY_DETACH_GROUP, hd_device_get_name(dev),
            format("%sgive the VM the whole group (detach it, or acquire %s with its group), so "
                   "that every endpoint of group %d is on vfio-pci. The oVirt guide's other way "
                   "out, %s, does not make a group viable: it only lets VFIO run on a host "
                   "without interrupt remapping, and lets a guest forge interrupts against the "
                   "host (an attack on the host, or a hang); %s",
                   boot_text, hd_device_get_name(dev), hd_device_get_iommu_group(dev),
                   hd_cmdline_advice(HD_ADVICE_UNSAFE_INTERRUPTS, HD_IOMMU_VENDOR_UNKNOWN),
                   remap == HD_TRISTATE_NO
                       ? "this host lacks interrupt remapping, so it applies here, to that "
                         "other failure (see the IOMMU finding), not to this one"
                       : "this host has interrupt remapping, so it does not apply at all"),
            "IOMMU group %d is not viable: %s %s on a host driver, and VFIO hands a group to a "
            "VM only when every member is on vfio-pci (or unbound); QEMU says \"group %d is not "
            "viable, please ensure all devices within the iommu_group are bound to their vfio "
            "bus driver\"",
            hd_device_get_iommu_group(dev), text_str(&list), n > 1 ? "are" : "is",
            hd_device_get_iommu_group(dev));
    hd_findings_set_remedy_members(d, members, m);
    free(members);
    free(boot_text);
done:
    hd_group_unref(g);
    free(list.s);
    free(kept.s);
    free(used.s);
    free(unreserved.s);
}

static bool may_open(const struct stat *st, uid_t uid, gid_t gid)
{
    mode_t m = st->st_mode;

    if (uid == 0)
        return true;
    if (st->st_uid == uid)
        return (m & 0600) == 0600;
    if (st->st_gid == gid)
        return (m & 060) == 060;
    return (m & 06) == 06;
}

/* A group node only its owner may open, of a device no VM holds. A whole-host run keeps them
 * back: after a detach every device's node is so, and one note saying it once names them all. */
struct root_only {
    const char *name; /* the device's: the run's device list outlives the collection */
    int group;
    enum hd_remedy acquire; /* how acquire takes it (acquire_remedy()) */
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

struct root_only_nodes {
    struct root_only *v;
    size_t n, cap;
};

static void note_root_only(struct hd_findings *d, const struct root_only *e)
{
    add(d, HD_SEVERITY_INFO, "vfio-permission", e->acquire, e->name,
        e->acquire == HD_REMEDY_ACQUIRE
            ? format("have it handed over when the VM starts: acquire it with the VM's user "
                     "and group as its owner (mode 0660 for them)")
        : e->acquire == HD_REMEDY_ACQUIRE_GROUP
            ? format("have it handed over when the VM starts: acquire it with its IOMMU group "
                     "(acquire refuses it alone while the group's other members are on host "
                     "drivers) and the VM's user and group as its owner (mode 0660 for them)")
            : format("none while its IOMMU group is not viable (the group's finding says why): "
                     "no VM can be given it"),
        "only %u:%u may open /dev/vfio/%d (mode %04o): a VM running as another user gets "
        "\"vfio: error opening /dev/vfio/%d: Permission denied\"",
        (unsigned)e->uid, (unsigned)e->gid, e->group, (unsigned)e->mode, e->group);
}

static void keep_root_only(struct hd_findings *d, struct root_only_nodes *l,
                           const struct root_only *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct root_only *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            hd_findings_set_error(d, -ENOMEM);
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
}

/* The nodes kept back: one is its own note; several are one note naming each node with its
 * devices, and the owner and mode once when they all share them. */
static void note_root_only_nodes(struct hd_findings *d, const struct root_only_nodes *l)
{
    bool same = true;
    size_t size = 0, nodes = 0;
    char *list = NULL;
    FILE *m;

    if (l->n < 2) {
        if (l->n == 1)
            note_root_only(d, &l->v[0]);
        return;
    }
    for (size_t i = 1; i < l->n; i++)
        same = same && l->v[i].uid == l->v[0].uid && l->v[i].gid == l->v[0].gid &&
               l->v[i].mode == l->v[0].mode;
    if ((m = open_memstream(&list, &size)) == NULL) {
        hd_findings_set_error(d, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct root_only *e = &l->v[i];
        size_t k = 0;
        while (k < i && l->v[k].group != e->group)
            k++;
        if (k < i) /* named with the first device of its group */
            continue;
        fprintf(m, "%s/dev/vfio/%d (", nodes++ ? ", " : "", e->group);
        if (!same)
            fprintf(m, "%u:%u mode %04o: ", (unsigned)e->uid, (unsigned)e->gid,
                    (unsigned)e->mode);
        for (k = i; k < l->n; k++) {
            if (l->v[k].group == e->group)
                fprintf(m, "%s%s", k == i ? "" : ", ", l->v[k].name);
        }
        fputc(')', m);
    }
    if (fclose(m) != 0 || list == NULL) {
        free(list);
        hd_findings_set_error(d, -ENOMEM);
        return;
    }
    /* The owner and mode once when all share them; else each node says its own. */
    char who[32] = "their owners", mode[16] = "";
    if (same) {
        snprintf(who, sizeof(who), "%u:%u", (unsigned)l->v[0].uid, (unsigned)l->v[0].gid);
        snprintf(mode, sizeof(mode), " (mode %04o)", (unsigned)l->v[0].mode);
    }
    add(d, HD_SEVERITY_INFO, "vfio-permission", HD_REMEDY_NONE, NULL,
        format("have each handed over when its VM starts: acquire it with the VM's user and "
               "group as its owner (mode 0660 for them)"),
        "only %s may open the group nodes of %zu devices no VM holds%s: %s; a VM running as "
        "another user gets \"vfio: error opening /dev/vfio/N: Permission denied\"",
        who, l->n, mode, list);
    free(list);
}

/* The group's node /dev/vfio/@group against who must open it: @a's owner when assigned, else
 * anyone but root at all. @name is on @driver (a PCI device on vfio-pci, a mediated device on
 * its vendor's mdev driver); @mdev: a mediated device, whose node its parent's driver makes;
 * @later: where a root-only node waits for one note (NULL: noted now). */
static void check_group_node(struct hd_ctx *ctx, struct hd_findings *d, const char *name,
                             int group, const char *driver, bool mdev, enum hd_remedy acquire,
                             const struct hd_assignment *a, struct root_only_nodes *later)
{
    char node[HD_PATH_MAX];
    struct stat st;

    hd_path(node, sizeof(node), "dev/vfio/%d", group);
    if (hd_fs_stat(ctx, node, &st) < 0) {
        if (mdev)
            add(d, HD_SEVERITY_ERROR, "vfio-node-missing", HD_REMEDY_NONE, name,
                format("remove the mediated device and create it again; if the node stays "
                       "missing, the kernel log says why its parent's driver did not register "
                       "the group"),
                "%s is bound to %s but /%s does not exist: QEMU fails with \"failed to get "
                "group %d\"",
                name, driver, node, group);
        else
            add(d, HD_SEVERITY_ERROR, "vfio-node-missing", HD_REMEDY_REDETACH, name,
                format("reattach it and detach it again; if it stays missing, the kernel log "
                       "says why vfio-pci did not register the group"),
                "%s is bound to %s but /%s does not exist: QEMU fails with \"failed to get "
                "group %d\"",
                name, driver, node, group);
        return;
    }
    if (a != NULL && !may_open(&st, a->uid, a->gid)) {
        add(d, HD_SEVERITY_ERROR, "vfio-permission", HD_REMEDY_REACQUIRE, name,
            format("give it to the VM's user again: release it from vm %s and acquire it again "
                   "with owner %u:%u (or chown %u:%u /%s; chmod 0660 /%s)",
                   a->vm, (unsigned)a->uid, (unsigned)a->gid, (unsigned)a->uid,
                   (unsigned)a->gid, node, node),
            "vm %s runs as %u:%u, but /%s is %u:%u mode %04o: QEMU fails with \"vfio: error "
            "opening /dev/vfio/%d: Permission denied\"",
            a->vm, (unsigned)a->uid, (unsigned)a->gid, node, (unsigned)st.st_uid,
            (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777), group);
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
    } else if (a == NULL && (st.st_mode & 066) == 0) {
        struct root_only e = {name, group, acquire, st.st_uid, st.st_gid, st.st_mode & 07777};
        if (later != NULL)
            keep_root_only(d, later, &e);
        else
            note_root_only(d, &e);
    }
}

/* Another member of @dev's IOMMU group is on a host driver: detaching or acquiring @dev
 * alone gives it to no VM (group-not-viable says what does). *@kept (NULL: not asked): one of
 * them is a function the host keeps, or uses (*@hu reads that once a run), which no acquire
 * takes. */
static bool others_block_group(struct hd_ctx *ctx, struct hd_device *dev, bool *kept,
                               struct hd_host_use **hu)
{
    struct hd_group *g;
    bool others = false;

    if (kept != NULL)
        *kept = false;
    if (hd_device_get_iommu_group(dev) < 0 ||
        hd_group_open(ctx, hd_device_get_iommu_group(dev), &g) < 0)
        return false;
    for (size_t i = 0; i < hd_group_get_blocker_count(g); i++) {
        struct hd_device *b = hd_group_get_blocker(g, i);
        if (hd_pci_addr_equal(hd_device_get_addr(b), hd_device_get_addr(dev)))
            continue;
        others = true;
        if (kept == NULL || *kept)
            continue;
        char *use = NULL;
        if (hd_host_use_find(b, hu, &use) < 0)
            hd_ctx_clear_error(ctx); /* cannot tell: the usual advice */
        *kept = hd_platform_function(b) != NULL || use != NULL;
        free(use);
    }
    hd_group_unref(g);
    return others;
}

/* How acquire takes @dev, a device no VM holds: alone, or only with its IOMMU group (its other
 * members on host drivers: acquire refuses it alone), or not at all (one of them is a function
 * the host keeps, or uses). Never advise an acquire that acquire would refuse. */
static enum hd_remedy acquire_remedy(struct hd_ctx *ctx, struct hd_device *dev,
                                     struct hd_host_use **hu)
{
    bool kept;

    if (!others_block_group(ctx, dev, &kept, hu))
        return HD_REMEDY_ACQUIRE;
    return kept ? HD_REMEDY_NONE : HD_REMEDY_ACQUIRE_GROUP;
}

static void check_nodes(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                        const struct hd_assignment *a, struct root_only_nodes *later,
                        struct hd_host_use **hu)
{
    if (hd_device_get_iommu_group(dev) >= 0 && hd_device_is_on_vfio(dev))
        check_group_node(ctx, d, hd_device_get_name(dev), hd_device_get_iommu_group(dev),
                         hd_device_get_driver(dev), false,
                         a == NULL ? acquire_remedy(ctx, dev, hu) : HD_REMEDY_ACQUIRE, a, later);
}

/* A bridge or a function the host keeps (a host bridge, the LPC bridge, SMBus) is given to no
 * VM: detach and acquire refuse it, so the doctor must not advise them. True when it said so. */
static bool check_unassignable(struct hd_findings *d, struct hd_device *dev)
{
    const char *platform = hd_platform_function(dev);

    if (!hd_device_is_assignable(dev))
        add(d, HD_SEVERITY_ERROR, "not-assignable", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("give the VM the endpoints behind it (the devices on its secondary bus), "
                   "not the bridge"),
            "%s is a bridge (header type %d), not an endpoint: it cannot be assigned to a VM",
            hd_device_get_name(dev), hd_device_get_header_type(dev));
    else if (platform != NULL)
        add(d, HD_SEVERITY_ERROR, "not-assignable", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("none for it: give the VM the device it is meant to use; the host needs "
                   "this one"),
            "%s is %s: the host keeps it (no VM needs it), and detaching or assigning it is "
            "refused",
            hd_device_get_name(dev), platform);
    else
        return false;
    return true;
}

/* Where a device off vfio-pci is: "on ixgbe, a host driver", or "on no driver" (unbound is no
 * host driver, and no VFIO either), saying why for a VF its PF's variant captured (its override
 * the variant's vfio device name, which no driver has). */
static const char *off_vfio_where(struct hd_device *dev, char *buf, size_t size)
{
    char pfdrv[HD_DRIVER_NAME_MAX], pf[HD_PCI_ADDR_BUFSZ];

    if (hd_device_get_driver(dev) != NULL)
        snprintf(buf, size, "on %s, a host driver", hd_device_get_driver(dev));
    else if (hd_device_get_capturing_driver(dev, pfdrv, sizeof(pfdrv)) == 1 &&
             strcmp(pfdrv, hd_device_get_driver_override(dev)) != 0)
        snprintf(buf, size,
                 "on no driver (its PF %s is on %s, and the kernel gave it that variant's vfio "
                 "device name, %s, as driver_override as the PF made it: no driver has that name)",
                 hd_pci_addr_format(hd_device_get_physfn(dev), pf), pfdrv,
                 hd_device_get_driver_override(dev));
    else
        return "on no driver";
    return buf;
}

static void check_detached(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                           const struct hd_assignment *a, bool asked, struct hd_host_use **hu)
{
    char where[384], *use = NULL;

    if (hd_device_is_on_vfio(dev))
        return;
    if (a == NULL && hd_device_on_stub(dev)) {
        /* Detached, but to a stub VFIO cannot hand out: a note when only found (kept off the
         * host on purpose, maybe), a warning when asked about for a VM. */
        bool blocked = others_block_group(ctx, dev, NULL, NULL);
        add(d, asked ? HD_SEVERITY_WARNING : HD_SEVERITY_INFO, "not-detached",
            blocked ? HD_REMEDY_NONE : HD_REMEDY_DETACH, hd_device_get_name(dev),
            format("move it to vfio-pci: detach it again, which takes it from %s%s",
                   hd_device_get_driver(dev),
                   blocked ? ", once its IOMMU group is viable (the group's finding says how)"
                           : ""),
            "%s is on %s, which keeps it from the host but gives it to no VM: VFIO hands "
            "out only devices on vfio-pci (pci-stub makes no /dev/vfio node)",
            hd_device_get_name(dev), hd_device_get_driver(dev));
        return;
    }
    if (a != NULL && !a->managed)
        add(d, HD_SEVERITY_ERROR, "not-detached", HD_REMEDY_DETACH, hd_device_get_name(dev),
            format("detach it again"),
            "%s is assigned to vm %s unmanaged but is on %s: in unmanaged mode the device "
            "must stay detached from the host (the guest will not start otherwise)",
            hd_device_get_name(dev), a->vm, hd_device_get_driver_or(dev, "no driver"));
    else if (a == NULL && asked && hd_device_get_iommu_group(dev) < 0)
        /* vfio-pci takes no device without a group: detach and acquire refuse it. */
        add(d, HD_SEVERITY_WARNING, "not-detached", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("none until the IOMMU is on (the IOMMU finding says how): without an IOMMU "
                   "group, vfio-pci cannot take it, and detaching or acquiring it is refused"),
            "%s is %s: a VM configured with managed='no' will refuse to start",
            hd_device_get_name(dev), off_vfio_where(dev, where, sizeof(where)));
    else if (a == NULL && asked && hd_host_use_find_own(dev, hu, &use) == 0 && use != NULL)
        /* Never advise a detach or an acquire that refuses it for what the host has on it. */
        add(d, HD_SEVERITY_WARNING, "not-detached", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("none while the host uses it: %s. Until that changes, detaching or "
                   "acquiring it is refused unless forced (which would pull it from under the "
                   "host)",
                   use),
            "%s is %s: a VM configured with managed='no' will refuse to start",
            hd_device_get_name(dev), off_vfio_where(dev, where, sizeof(where)));
    else if (a == NULL && asked && others_block_group(ctx, dev, NULL, NULL))
        /* Never advise an acquire of it alone that the group would refuse. */
        add(d, HD_SEVERITY_WARNING, "not-detached", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("its IOMMU group is not viable either, and that comes first: detaching or "
                   "acquiring it alone gives it to no VM (the IOMMU group's finding says what "
                   "does)"),
            "%s is %s: a VM configured with managed='no' will refuse to start",
            hd_device_get_name(dev), off_vfio_where(dev, where, sizeof(where)));
    else if (a == NULL && asked)
        add(d, HD_SEVERITY_WARNING, "not-detached", HD_REMEDY_DETACH_OR_MANAGED,
            hd_device_get_name(dev),
            format("for an unmanaged assignment detach it ahead of booting the guest; or let "
                   "acquire do it (managed)"),
            "%s is %s: a VM configured with managed='no' will refuse to start",
            hd_device_get_name(dev), off_vfio_where(dev, where, sizeof(where)));
    hd_ctx_clear_error(ctx); /* a host that cannot be read leaves the usual advice */
    free(use);
}

static void check_bars(struct hd_findings *d, struct hd_device *dev, enum hd_tristate realloc_on)
{
    char path[HD_PATH_MAX], *data = NULL, *save = NULL, bars[128] = "";
    size_t len = 0;
    int i = 0, n = 0;

    if (hd_device_attr_path(dev, "resource", path, sizeof(path)) < 0 ||
        hd_fs_read_alloc(hd_device_get_ctx(dev), path, HD_READ_MAX, &data, NULL) < 0)
        return;
    for (char *l = strtok_r(data, "\n", &save); l && i < PCI_STD_BARS;
         l = strtok_r(NULL, "\n", &save), i++) {
        unsigned long long v[3];
        char *s2 = NULL, *tok = strtok_r(l, " ", &s2);
        size_t nv = 0;
        for (; tok && nv < 3 && hd_parse_hex(tok, ~0ull, &v[nv]) == 0; nv++)
            tok = strtok_r(NULL, " ", &s2);
        if (nv != 3)
            continue;
        unsigned long long start = v[0], end = v[1], flags = v[2];
        /* Sized (the device decodes it) but not placed: the kernel marks it unset, or
         * shows it at 0. */
        if ((flags & (IORESOURCE_IO | IORESOURCE_MEM)) &&
            ((flags & IORESOURCE_UNSET) || (start == 0 && end != 0))) {
            int w = snprintf(bars + len, sizeof(bars) - len, "%s%d", n ? ", " : "", i);
            if (w > 0 && (size_t)w < sizeof(bars) - len)
                len += (size_t)w;
            n++;
        }
    }
    free(data);
    if (n == 0)
        return;
    add(d, HD_SEVERITY_ERROR, "bar-unassigned", HD_REMEDY_NONE, hd_device_get_name(dev),
        realloc_on == HD_TRISTATE_YES
            ? format("pci=realloc is on the command line already, so the bridge windows the "
                     "firmware left are too small: look for \"Above 4G decoding\" (and "
                     "\"Resizable BAR\") in the firmware setup")
            : format("let the kernel reassign what the firmware left out: add %s to the kernel "
                     "command line " HD_ADVICE_HOW_TO_ADD " and reboot",
                     hd_cmdline_advice(HD_ADVICE_PCI_REALLOC, HD_IOMMU_VENDOR_UNKNOWN)),
        "%s: BAR %s %s no address (the firmware did not assign %s): device assignment "
        "fails",
        hd_device_get_name(dev), bars, n > 1 ? "have" : "has", n > 1 ? "them" : "it");
}

/* ---- intent logs: operations under way, or left half-done by a dead process ---------------- */

/* The PCI devices the intent logs name (check_records() leaves their records alone). */
struct pending_ops {
    struct hd_pci_addr *addrs;
    size_t n;
};

static bool pending_names(const struct pending_ops *p, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; p != NULL && i < p->n; i++)
        if (hd_pci_addr_equal(&p->addrs[i], addr))
            return true;
    return false;
}

struct pending_walk {
    struct hd_ctx *ctx;
    struct hd_findings *d;
    const struct hd_pci_addr *only;
    struct pending_ops *p;
};

/* The finding for device @dev of intent log @j (hd_journal_each_dev()). */
static int pending_op(void *data, const struct hd_journal *j, const struct hd_jdev *dev,
                      bool live)
{
    const struct pending_walk *w = data;
    const char *op = hd_jop_names[hd_journal_op(j)], *name = dev->name;
    char buf[HD_PCI_ADDR_BUFSZ];

    if (dev->kind == HD_ASSIGNMENT_PCI) {
        struct hd_pci_addr *grown;
        if (w->only != NULL && !hd_pci_addr_equal(w->only, &dev->addr))
            return 0;
        if ((grown = realloc(w->p->addrs, (w->p->n + 1) * sizeof(*grown))) == NULL)
            return -ENOMEM;
        w->p->addrs = grown;
        w->p->addrs[w->p->n++] = dev->addr;
        name = hd_pci_addr_format(&dev->addr, buf);
    } else if (w->only != NULL) {
        return 0;
    }
    if (live)
        add(w->d, HD_SEVERITY_WARNING, "operation-running", HD_REMEDY_NONE, name,
            format("wait for it: it ends, done or undone, when the kernel returns (a "
                   "driver's remove() that hangs is the kernel log's to explain); its "
                   "driver record and driver_override are its own, not to change by "
                   "hand"),
            "%s: a %s operation is under way on it (or an unbind it started still "
            "hangs in the kernel)", name, op);
    else
        add(w->d, HD_SEVERITY_ERROR, "interrupted-operation", HD_REMEDY_RECOVER, name,
            format("undo it (or finish it, where it got to its commit) through the "
                   "recovery of interrupted operations, as the next writing operation "
                   "on its IOMMU group also does first; not by hand: its intent log "
                   "%s/%s says what to put back", hd_ctx_get_root(w->ctx),
                   hd_journal_path(j)),
            "%s: a %s operation was interrupted (its process died): its driver, "
            "driver_override and records are as it left them", name, op);
    return 0;
}

/* One finding per device of each intent log in STATE/journal (only @only's, when not NULL):
 * one whose process, or a write it started, is still in the kernel is under way; one nobody
 * holds was interrupted, and recover undoes it (or finishes it, past its commit). */
static int check_pending_ops(struct hd_ctx *ctx, struct hd_findings *d,
                             const struct hd_pci_addr *only, struct pending_ops *p)
{
    struct pending_walk w = {ctx, d, only, p};

    return hd_journal_each_dev(ctx, pending_op, &w);
}

/* hostdev's records against the kernel: a driver record for a device on its host driver, an
 * override to a stub on a device a host driver holds, a map entry whose device is not on
 * vfio-pci. Each is what a crash or a hand edit left; each fix is a command. */
static void check_records(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                          const struct hd_assignment *a, const struct pending_ops *pending)
{
    const char *ovr;
    char *rec = NULL;

    /* An operation under way, or one a dead process left, owns them: its finding says so, and
     * removing them by hand would lose what recover puts back. */
    if (pending_names(pending, hd_device_get_addr(dev)))
        return;
    if (hd_device_fill_fields(dev, HD_FILL_EXTRA, false) < 0)
        return;
    ovr = hd_device_get_driver_override(dev);
    if (hd_device_get_original_driver(dev, &rec) == 0 && hd_device_get_driver(dev) != NULL &&
        !hd_device_on_stub(dev) && a == NULL)
        add(d, HD_SEVERITY_WARNING, "stale-record", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("remove it: rm %s/%s/drivers/%s", hd_ctx_get_root(ctx),
                   hd_ctx_get_state_dir(ctx), hd_device_get_name(dev)),
            "%s is on its host driver %s, but a driver record (%s) says it was detached: a "
            "later reattach would trust it",
            hd_device_get_name(dev), hd_device_get_driver(dev),
            rec[0] ? hd_original_driver_words(rec) : "no driver");
    free(rec);
    if (hd_driver_is_stub(ovr) && hd_device_get_driver(dev) != NULL && !hd_device_on_stub(dev))
        add(d, HD_SEVERITY_WARNING, "stale-override", HD_REMEDY_NONE, hd_device_get_name(dev),
            format("clear it: echo > %s/sys/bus/pci/devices/%s/driver_override",
                   hd_ctx_get_root(ctx), hd_device_get_name(dev)),
            "%s is on %s with driver_override %s: the next probe (a driver reload, a rescan) "
            "hands it to %s",
            hd_device_get_name(dev), hd_device_get_driver(dev), ovr, ovr);
    if (a != NULL && !hd_device_is_on_vfio(dev))
        add(d, HD_SEVERITY_ERROR, "map-mismatch", HD_REMEDY_RELEASE_FORCE, hd_device_get_name(dev),
            format("give it back and drop the record: the emergency release of %s",
                   hd_device_get_name(dev)),
            "the assignment map gives %s to vm %s, but it is on %s, not vfio-pci",
            hd_device_get_name(dev), a->vm, hd_device_get_driver_or(dev, "no driver"));
}

/* A VF on a host driver while its PF is on vfio-pci (or a variant): user space owns the PF,
 * and with it what the VF does (its queues, its address, its reset), while the host uses the
 * VF. The kernel made the VF with an override to keep it off the host, and warns when it binds
 * elsewhere. A stub is no use of the host: VFIO hands it to no VM, which not-detached says. */
static void check_vf_of_vfio_pf(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                                struct hd_host_use **hu)
{
    const char *drv = hd_device_get_driver(dev), *name = hd_device_get_name(dev);
    char pfdrv[HD_DRIVER_NAME_MAX], pf[HD_PCI_ADDR_BUFSZ], *use = NULL;

    /* The PF's driver link alone is read; a name the rule does not know, its vfio-dev too. */
    if (drv == NULL || hd_driver_is_dma_safe(drv) || hd_device_is_on_vfio(dev) ||
        hd_sriov_read_pf_driver(dev, pfdrv, sizeof(pfdrv)) < 0 ||
        !hd_bound_to_vfio(ctx, hd_pci_addr_format(hd_device_get_physfn(dev), pf), pfdrv)) {
        hd_ctx_clear_error(ctx); /* a PF that cannot be read: nothing to say */
        return;
    }
    /* Never advise a detach that refuses it for what the host has on it. */
    if (hd_host_use_find_own(dev, hu, &use) < 0)
        hd_ctx_clear_error(ctx);
    add(d, HD_SEVERITY_WARNING, "vf-on-host-driver", use ? HD_REMEDY_NONE : HD_REMEDY_DETACH,
        name,
        use ? format("move what the host has on it off it (%s), then detach it to %s; or, for "
                     "the host to keep the PF's VFs, give %s back to its host driver (the VFs "
                     "go with it)",
                     use, pfdrv, pf)
            : format("detach it to %s, as the kernel made it; or, for the host to keep the PF's "
                     "VFs, give %s back to its host driver (the VFs go with it)",
                     pfdrv, pf),
        "%s is on %s, a host driver, while its PF %s is on %s: user space owns the PF, and with "
        "it what the VF does; the kernel warns \"VF %s bound to driver %s while PF bound to "
        "driver %s\"",
        name, drv, pf, pfdrv, name, drv, pfdrv);
    free(use);
}

/* The BARs of @dev as [start, end] pairs (memory ones, placed): up to 6. */
static size_t mem_bars(struct hd_device *dev, unsigned long long (*bar)[2])
{
    char path[HD_PATH_MAX], *data = NULL, *save = NULL;
    size_t n = 0;

    if (hd_device_attr_path(dev, "resource", path, sizeof(path)) < 0 ||
        hd_fs_read_alloc(hd_device_get_ctx(dev), path, HD_READ_MAX, &data, NULL) < 0)
        return 0;
    for (char *l = strtok_r(data, "\n", &save); l && n < PCI_STD_BARS;
         l = strtok_r(NULL, "\n", &save)) {
        unsigned long long v[3];
        char *s2 = NULL, *tok = strtok_r(l, " ", &s2);
        size_t nv = 0;
        for (; tok && nv < 3 && hd_parse_hex(tok, ~0ull, &v[nv]) == 0; nv++)
            tok = strtok_r(NULL, " ", &s2);
        if (nv == 3 && (v[2] & IORESOURCE_MEM) && v[0] != 0 && v[1] > v[0]) {
            bar[n][0] = v[0];
            bar[n++][1] = v[1];
        }
    }
    free(data);
    return n;
}

/* A boot framebuffer (the firmware's BOOTFB, efifb, vesafb, simpledrm) in /proc/iomem over a
 * BAR of @dev: the host's console still holds the GPU's memory, and vfio-pci's mmap of the BAR
 * fails ("BAR 0 ... can't reserve"), or the host draws into the guest's memory. */
static void check_framebuffer(struct hd_findings *d, struct hd_device *dev)
{
    static const char *const fbs[] = {"BOOTFB", "efifb", "vesafb", "simple-framebuffer",
                                      "simpledrm"};
    unsigned long long bar[PCI_STD_BARS][2];
    char *iomem = NULL, *save = NULL;
    size_t nbars;

    if ((hd_device_get_class(dev) >> 16) != 0x03 || (nbars = mem_bars(dev, bar)) == 0 ||
        hd_fs_read_alloc(hd_device_get_ctx(dev), "proc/iomem", HD_READ_MAX, &iomem, NULL) < 0)
        return;
    for (char *l = strtok_r(iomem, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long start, end;
        char *dash = strchr(l, '-'), *colon = strstr(l, " : "), *name;
        const char *fb = NULL;
        if (dash == NULL || colon == NULL || dash > colon)
            continue;
        name = colon + 3;
        for (size_t k = 0; k < HD_ARRAY_SIZE(fbs) && fb == NULL; k++)
            fb = strncmp(name, fbs[k], strlen(fbs[k])) == 0 ? fbs[k] : NULL;
        *dash = '\0';
        *colon = '\0';
        if (fb == NULL || hd_parse_hex(l + strspn(l, " "), ~0ull, &start) < 0 ||
            hd_parse_hex(dash + 1, ~0ull, &end) < 0 || start == 0)
            continue; /* unprivileged readers see zeros: nothing to compare */
        for (size_t b = 0; b < nbars; b++) {
            if (start <= bar[b][1] && end >= bar[b][0]) {
                add(d, HD_SEVERITY_WARNING, "boot-framebuffer", HD_REMEDY_NONE,
                    hd_device_get_name(dev),
                    format("keep the host's console off the GPU: add %s to the kernel command "
                           "line (Linux 5.15 and later; before that video=efifb:off,vesafb:off), "
                           "or give the host another display adapter",
                           hd_cmdline_advice(HD_ADVICE_NO_SYSFB, HD_IOMMU_VENDOR_UNKNOWN)),
                    "%s: the boot framebuffer %s (%llx-%llx in /proc/iomem) lies in its memory "
                    "(BAR %llx-%llx): the host's console holds it, and vfio-pci cannot map the "
                    "BAR for a VM (\"BAR 0: can't reserve\")",
                    hd_device_get_name(dev), name, start, end, bar[b][0], bar[b][1]);
                free(iomem);
                return;
            }
        }
    }
    free(iomem);
}

static void check_device(struct hd_ctx *ctx, struct hd_findings *d, struct hd_device *dev,
                         const struct hd_assignment_list *map, bool asked,
                         enum hd_tristate remap, enum hd_tristate realloc_on,
                         struct root_only_nodes *later, struct hd_host_use **hu,
                         struct boot_reservations *boot, const struct pending_ops *pending)
{
    const struct hd_assignment *a = hd_map_find(map, hd_device_get_addr(dev));

    /* No VM can have it: that is the whole answer (its group's viability is beside it). */
    if (asked && a == NULL && !hd_device_is_on_vfio(dev) && check_unassignable(d, dev))
        return;
    check_detached(ctx, d, dev, a, asked, hu);
    check_group(ctx, d, dev, remap, hu, boot);
    check_nodes(ctx, d, dev, a, later, hu);
    check_records(ctx, d, dev, a, pending);
    check_vf_of_vfio_pf(ctx, d, dev, hu);
    check_bars(d, dev, realloc_on);
    check_framebuffer(d, dev);
}

/* A mediated device (@uuid, canonical): what acquire and verify need of it (a vendor driver
 * that took it, its IOMMU group, the group's node, its owner) and the map's record of it. One
 * neither there nor recorded is -ENOENT (HD_REASON_NO_DEVICE); one recorded that is gone is the
 * record's finding, as for a USB or SCSI device (check_node_entry()). */
static int check_mdev(struct hd_ctx *ctx, struct hd_findings *d, const char *uuid,
                      const struct hd_assignment_list *map)
{
    const struct hd_assignment *a = hd_map_find_mdev(map, uuid);
    struct hd_mdev_list *l = NULL;
    const char *parent, *driver;
    enum hd_mdev_readiness readiness;
    char why[512];
    int group, r = hd_mdev_list_new_uuid(ctx, uuid, &l);

    if (r == -ENOENT && a != NULL) {
        hd_ctx_clear_error(ctx);
        /* Nothing to give back: releasing it drops the record and gives back its node. */
        add(d, HD_SEVERITY_ERROR, "map-mismatch", HD_REMEDY_RELEASE, uuid,
            format("drop the record: release it from vm %s (nothing is left to give back)",
                   a->vm),
            "the assignment map gives mediated device %s (of %s) to vm %s, but there is no "
            "such mediated device: it was removed, or its parent's driver went away",
            uuid, a->parent, a->vm);
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
        return 0;
    }
    if (r < 0)
        return r;
    parent = hd_mdev_list_get_parent(l, 0);
    driver = hd_mdev_list_get_driver(l, 0);
    group = hd_mdev_list_get_iommu_group(l, 0);
    if (a != NULL && strcmp(a->parent, parent) != 0) {
        add(d, HD_SEVERITY_ERROR, "map-mismatch", HD_REMEDY_RELEASE, uuid,
            format("release it from vm %s, and acquire it again if the VM is to have the new "
                   "one", a->vm),
            "the assignment map gives mediated device %s of %s to vm %s, but %s is of %s now "
            "(removed and made again under another parent)",
            uuid, a->parent, a->vm, uuid, parent);
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
    }
    readiness = hd_mdev_readiness(parent, driver, group, why, sizeof(why));
    if (readiness == HD_MDEV_NO_DRIVER)
        add(d, HD_SEVERITY_ERROR, "mdev-no-driver", HD_REMEDY_NONE, uuid,
            format("the kernel log (dmesg) says why the parent's mdev driver did not take it"),
            "%s (type %s of %s) %s", uuid, hd_mdev_list_get_type(l, 0), parent, why);
    else if (readiness == HD_MDEV_NO_GROUP)
        add(d, HD_SEVERITY_ERROR, "mdev-no-group", HD_REMEDY_NONE, uuid,
            format("the kernel log (dmesg) says why %s did not register it with VFIO; until it "
                   "does, no VM can be given it",
                   driver),
            "%s (type %s of %s) %s", uuid, hd_mdev_list_get_type(l, 0), parent, why);
    else
        check_group_node(ctx, d, uuid, group, driver, true, HD_REMEDY_ACQUIRE, a, NULL);
    hd_mdev_list_unref(l);
    return 0;
}

/* A USB or SCSI device the map gives a VM (@a): still in its place, its node the recorded one
 * and the VM's user's. A USB device that re-enumerated (replugged, reset) has a new node with
 * udev's default owner unless the udev rule hostdev ships gave it on: QEMU's usb-host then
 * fails to open it, while the map still names the old node. */
static void check_node_entry(struct hd_ctx *ctx, struct hd_findings *d,
                             const struct hd_assignment *a)
{
    const char *what = a->kind == HD_ASSIGNMENT_USB ? "USB" : "SCSI";
    char node[HD_NODE_PATH_MAX];
    struct stat st;

    if (hd_node_target_refind(ctx, a, node) < 0) {
        hd_ctx_clear_error(ctx);
        /* Nothing to give back: releasing it drops the record. */
        add(d, HD_SEVERITY_ERROR, "map-mismatch", HD_REMEDY_RELEASE, a->name,
            format("drop the record: release it from vm %s (nothing is left to give back), "
                   "and acquire the device again where it is now if the VM is to have it",
                   a->vm),
            "the assignment map gives %s device %s%s%s to vm %s, but %s: it was unplugged or "
            "another device is in its port",
            what, a->name, a->ids[0] ? " " : "", a->ids, a->vm,
            a->kind == HD_ASSIGNMENT_USB ? "that port holds no such device now"
                                         : "there is no such SCSI device now");
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
        return;
    }
    if (a->nnodes == 1 && strcmp(a->nodes[0].path, node) != 0) {
        add(d, HD_SEVERITY_ERROR, "node-moved", HD_REMEDY_REACQUIRE, a->name,
            format("give the new node to the VM's user: release it from vm %s and acquire it "
                   "again with owner %u:%u; the udev rule hostdev installs "
                   "(60-hostdev.rules) does this on each re-enumeration",
                   a->vm, (unsigned)a->uid, (unsigned)a->gid),
            "%s re-enumerated: the assignment map gives vm %s /%s, but its node is /%s now "
            "(a VM opening the recorded node finds no such device)",
            a->name, a->vm, a->nodes[0].path, node);
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
        return;
    }
    if (hd_fs_stat(ctx, node, &st) == 0 &&
        (st.st_uid != a->uid || st.st_gid != a->gid || !may_open(&st, a->uid, a->gid))) {
        add(d, HD_SEVERITY_ERROR, "node-permission", HD_REMEDY_REACQUIRE, a->name,
            format("give it to the VM's user again: release it from vm %s and acquire it again "
                   "with owner %u:%u (or chown %u:%u /%s; chmod 0660 /%s)",
                   a->vm, (unsigned)a->uid, (unsigned)a->gid, (unsigned)a->uid,
                   (unsigned)a->gid, node, node),
            "vm %s runs as %u:%u, but /%s is %u:%u mode %04o: QEMU cannot open %s",
            a->vm, (unsigned)a->uid, (unsigned)a->gid, node, (unsigned)st.st_uid,
            (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777), a->name);
        hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
    }
    hd_ctx_clear_error(ctx);
}

/* USB or SCSI device @t, there and recorded nowhere, for a VM: what check says of it (the node
 * a VM would open, what the host keeps or uses of it), each a finding; nothing when a VM can be
 * given it now. */
static int check_node_ready(struct hd_ctx *ctx, struct hd_findings *d,
                            const struct hd_node_target *t, struct hd_node_check *c)
{
    struct hd_host_use *hu = NULL;
    int r = hd_node_target_judge_host(ctx, &hu, t, c);

    hd_host_use_unref(hu);
    if (r < 0)
        return r;
    if (c->not_ready[0])
        add(d, HD_SEVERITY_ERROR, "node-missing", HD_REMEDY_NONE, c->name,
            t->kind == HD_ASSIGNMENT_SCSI
                ? format("load the sg module (modprobe sg): it gives each SCSI device its "
                         "dev/sgN")
                : format("udev makes /dev/bus/usb's nodes on devtmpfs: check that /dev is "
                         "devtmpfs and udev runs"),
            "%s", c->not_ready);
    if (c->host_keeps[0])
        add(d, HD_SEVERITY_ERROR, "not-assignable", HD_REMEDY_NONE, c->name,
            format("none for it: give the VM the device it is meant to use; the host needs "
                   "this one"),
            "%s is %s: the host keeps it (no VM needs it), and acquiring it is refused unless "
            "forced",
            c->name, c->host_keeps);
    if (c->host_use[0])
        add(d, HD_SEVERITY_WARNING, "host-use", HD_REMEDY_NONE, c->name,
            format("end the host's use of it first (unmount its storage, take its interface "
                   "down); forcing the acquire takes it from the host all the same"),
            "%s: the host uses it, so acquiring it for a VM is refused unless forced",
            c->host_use);
    return 0;
}

/* A USB or SCSI device the user named (@sel as acquire takes it): the map's record of it
 * checked as the whole-host run checks every one (check_node_entry()); one recorded nowhere,
 * what keeps it from a VM now (check_node_ready()). One neither there nor recorded is -ENODEV
 * (HD_REASON_NO_DEVICE). */
static int check_node_asked(struct hd_ctx *ctx, struct hd_findings *d, const char *sel,
                            const struct hd_assignment_list *map)
{
    const struct hd_assignment *a = NULL;
    struct hd_node_target t;
    struct hd_node_check c = {0};
    int r;

    /* By its name first: a recorded device that is gone is what doctor is asked about. */
    if (hd_node_target_name_valid(sel))
        a = hd_assignment_list_find_name(map, sel);
    if (a == NULL) {
        if ((r = hd_node_target_find_ready(ctx, sel, &t, &c)) < 0)
            return r; /* not one (-EINVAL), or not there (-ENODEV): named by the call */
        a = hd_assignment_list_find_name(map, t.name);
        if (a == NULL)
            return check_node_ready(ctx, d, &t, &c);
    }
    if (a->kind == HD_ASSIGNMENT_USB || a->kind == HD_ASSIGNMENT_SCSI)
        check_node_entry(ctx, d, a);
    return 0;
}

/* A PCI device the map gives a VM (@a) that is not there now (hot-unplugged, or a VF gone with
 * its PF's VF count): nothing is left to give back, and releasing it drops the record, as for
 * a mediated or USB device that is gone. */
static void check_gone_pci(struct hd_findings *d, const struct hd_assignment *a)
{
    add(d, HD_SEVERITY_ERROR, "map-mismatch", HD_REMEDY_RELEASE, a->name,
        format("drop the record: release it from vm %s (nothing is left to give back)", a->vm),
        "the assignment map gives %s to vm %s, but there is no such PCI device now: it was "
        "removed (unplugged, or a VF its PF no longer makes)",
        a->name, a->vm);
    hd_findings_set_remedy_holder(d, a->vm, a->uid, a->gid);
}

/* "Max locked memory  SOFT  HARD  bytes" of ROOT/proc/@pid/limits: the soft limit, or
 * UINT64_MAX for unlimited. */
static int read_memlock(struct hd_ctx *ctx, const char *proc, uint64_t *soft)
{
    char path[HD_PATH_MAX], *text = NULL, *line;
    int r;

    if ((r = hd_path(path, sizeof(path), "%s/limits", proc)) < 0 ||
        (r = hd_fs_read_alloc(ctx, path, HD_CONFIG_MAX, &text, NULL)) < 0)
        return r;
    r = -EINVAL;
    if ((line = strstr(text, "Max locked memory")) != NULL) {
        char word[32];
        const char *p = line + strlen("Max locked memory");
        unsigned long long v;
        size_t len;
        p += strspn(p, " \t");
        len = strcspn(p, " \t\n");
        if (len > 0 && len < sizeof(word)) {
            memcpy(word, p, len);
            word[len] = '\0';
            if (strcmp(word, "unlimited") == 0) {
                *soft = UINT64_MAX;
                r = 0;
            } else if (hd_parse_uint(word, 10, UINT64_MAX, &v) == 0) {
                *soft = v;
                r = 0;
            }
        }
    }
    free(text);
    return r;
}

/* CAP_IPC_LOCK (bit 14) in CapEff of ROOT/proc/@pid/status: no limit applies. */
static bool has_ipc_lock(struct hd_ctx *ctx, const char *proc)
{
    char path[HD_PATH_MAX], *text = NULL, *line;
    unsigned long long caps = 0;

    if (hd_path(path, sizeof(path), "%s/status", proc) < 0 ||
        hd_fs_read_alloc(ctx, path, HD_CONFIG_MAX, &text, NULL) < 0)
        return false;
    if ((line = strstr(text, "\nCapEff:")) != NULL)
        caps = strtoull(line + strlen("\nCapEff:"), NULL, 16);
    free(text);
    return caps & (1ull << 14);
}

/* The first process of a running unit: system.slice/UNIT's cgroup.procs (cgroup v2). */
static int unit_pid(struct hd_ctx *ctx, const char *unit, long *pid)
{
    char path[HD_PATH_MAX], name[256], *text = NULL;
    int r;

    if (!hd_name_valid(unit))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a unit name", unit);
    snprintf(name, sizeof(name), "%s%s", unit, strchr(unit, '.') ? "" : ".service");
    if ((r = hd_path(path, sizeof(path), "sys/fs/cgroup/system.slice/%s/cgroup.procs", name)) < 0)
        return r;
    long long v = 0;
    if (hd_fs_read_alloc(ctx, path, HD_READ_MAX, &text, NULL) < 0 ||
        (text[strcspn(text, "\n")] = '\0', hd_parse_int(text, 1, INT_MAX, &v)) < 0) {
        free(text);
        return hd_errr(ctx, -ENOENT, HD_REASON_INVALID, "unit %s is not running (no process in "
                       "%s/%s)", name, hd_ctx_get_root(ctx), path);
    }
    free(text);
    *pid = (long)v;
    return 0;
}

static void human_bytes(char *buf, size_t size, uint64_t v)
{
    if (v == UINT64_MAX)
        snprintf(buf, size, "unlimited");
    else if (v >= (1ull << 30))
        snprintf(buf, size, "%.1f GiB", (double)v / (double)(1ull << 30));
    else
        snprintf(buf, size, "%.0f MiB", (double)v / (double)(1ull << 20));
}

HD_EXPORT int hd_doctor_check_memlock(struct hd_ctx *ctx, struct hd_findings *d, pid_t pid,
                                      const char *unit, uint64_t vm_bytes)
{
    uint64_t limit, need = vm_bytes + (1ull << 30);
    char proc[64], who[320], lim[32], want[32];
    long upid = pid;
    int r;

    if (unit != NULL && (r = unit_pid(ctx, unit, &upid)) < 0)
        return r;
    if (upid > 0)
        snprintf(proc, sizeof(proc), "proc/%ld", upid);
    else
        snprintf(proc, sizeof(proc), "proc/self");
    human_bytes(want, sizeof(want), need);
    if ((r = read_memlock(ctx, proc, &limit)) == -ENOENT && upid == 0) {
        /* This process's own, which the user did not name: a tree that lacks it (a copy of
         * another host, a fake kernel) holds no process of ours, so nothing was asked
         * wrongly; the check is only not done. */
        add(d, HD_SEVERITY_INFO, "memlock-unchecked", HD_REMEDY_NONE, NULL,
            format("name the process that will run QEMU (its pid, or its running systemd "
                   "unit), whose %s/proc/PID/limits is there",
                   hd_ctx_get_root(ctx)),
            "the locked-memory limit was not checked: %s/%s/limits is not there (%s), so "
            "whether this shell may lock the %s a VM of this size needs is unknown",
            hd_ctx_get_root(ctx), proc,
            hd_fs_exists(ctx, proc) == 1 ? "the tree has no limits for this process"
                                         : "the tree has no proc/self",
            want);
        goto done;
    }
    if (r < 0) {
        /* Say which is missing: the process named, or its file. */
        const char *why = r == -EINVAL              ? "no \"Max locked memory\" line"
                          : hd_fs_exists(ctx, proc) ? strerror(-r)
                                                    : "no such process";
        return hd_errr(ctx, r == -EINVAL ? -EINVAL : -ENOENT, HD_REASON_INVALID,
                       "%s/%s/limits: %s", hd_ctx_get_root(ctx), proc, why);
    }
    if (unit != NULL)
        snprintf(who, sizeof(who), "unit %s (pid %ld)", unit, upid);
    else if (upid > 0)
        snprintf(who, sizeof(who), "process %ld", upid);
    else
        snprintf(who, sizeof(who), "this shell");
    human_bytes(lim, sizeof(lim), limit);
    if (limit >= need || has_ipc_lock(ctx, proc))
        add(d, HD_SEVERITY_INFO, "memlock-ok", HD_REMEDY_NONE, NULL, format("none needed"),
            "%s may lock %s (%s needed: the VM's memory and 1 GiB)%s", who, lim, want,
            limit >= need ? "" : "; it has CAP_IPC_LOCK, which needs no limit");
    else
        add(d, HD_SEVERITY_ERROR, "memlock-too-low", HD_REMEDY_NONE, NULL,
            format("raise the limit of what starts QEMU to at least %s: LimitMEMLOCK=infinity "
                   "in its systemd unit (systemctl edit UNIT), `ulimit -l unlimited` in the "
                   "shell that runs it, or a memlock line in /etc/security/limits.conf "
                   "(libvirt raises it for each VM itself)", want),
            "%s may lock only %s of memory, but VFIO pins all of the VM's memory (%s with "
            "VFIO's margin): QEMU would fail with \"VFIO_MAP_DMA ... Cannot allocate memory\"",
            who, lim, want);
done:
    if (hd_findings_error(d) < 0)
        return hd_findings_error(d);
    hd_findings_sort(d);
    return 0;
}

/* Reservations the boot does not make: a line it skips (a bad line, a file it cannot read: the
 * device it was for stays with the host), an address entry a later one for the same device
 * overrides, an entry it refuses for the device there now (a stub
 * for a bridge, a count above sriov_totalvfs), an address entry whose device is not there;
 * worse, a VF that no VF count the boot sets makes (its count was lowered, or never persisted;
 * the VF there now or not), or VFs there now that an ids entry selects, which the boot skips
 * without a word. A configuration that cannot be read at all (no memory, no listing) is the
 * reservations' own commands' to say. */
static void check_reservations(struct hd_findings *d, const struct hd_reserve_config *config)
{
    if (config == NULL)
        return;
    for (size_t i = 0; i < hd_reserve_config_get_error_count(config); i++)
        add(d, HD_SEVERITY_WARNING, "reserve-config-error", HD_REMEDY_NONE, NULL,
            format("mend or remove it: the boot applies the other entries, not this one"),
            "the reservations the boot reads have an error: %s",
            hd_reserve_config_get_error(config, i));
    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        char name[HD_PCI_ADDR_BUFSZ], pf[HD_PCI_ADDR_BUFSZ], where[HD_PATH_MAX + 16];
        const char *refusal = hd_reserve_config_get_refusal(config, e);
        struct hd_pci_addr pf_addr;
        int numvfs;
        enum hd_reserve_presence p = hd_reserve_config_get_presence(config, e, &pf_addr, &numvfs);
        hd_reserve_entry_where(e, where, sizeof(where));
        /* Several address lines for one device: the boot applies the last, the others only
         * mislead whoever reads them. */
        const struct hd_reserve_entry *over = hd_reserve_config_get_override(config, e);
        if (over != NULL && e->sel.kind == HD_SELECTOR_ADDR) {
            char by[HD_PATH_MAX + 16];
            hd_reserve_entry_where(over, by, sizeof(by));
            add(d, HD_SEVERITY_WARNING, "reserved-entry-overridden", HD_REMEDY_NONE,
                hd_pci_addr_format(&e->sel.addr, name),
                format("remove the entry the boot ignores (%s), or merge it into %s", where, by),
                "%s is named by more than one reservation: %s is overridden by %s, which the "
                "boot applies instead", name, where, by);
            continue;
        }
        if (refusal != NULL) {
            add(d, HD_SEVERITY_WARNING, "reserved-refused-at-boot", HD_REMEDY_NONE,
                e->sel.kind == HD_SELECTOR_ADDR ? hd_pci_addr_format(&e->sel.addr, name) : NULL,
                format("mend or remove the entry (%s)", where),
                "the boot refuses the reservation of %s: %s", where, refusal);
            continue;
        }
        if (p == HD_RESERVE_PRESENT || p == HD_RESERVE_VF_AT_BOOT)
            continue;
        if (e->sel.kind == HD_SELECTOR_ADDR)
            hd_pci_addr_format(&e->sel.addr, name);
        else
            snprintf(name, sizeof(name), "%04x:%04x", e->sel.vendor, e->sel.device);
        if (p == HD_RESERVE_ABSENT) {
            add(d, HD_SEVERITY_INFO, "reserved-device-absent", HD_REMEDY_NONE, name,
                format("none while the device is out; if the address is wrong, remove the "
                       "entry (%s)", where),
                "%s is reserved (%s), but there is no such device: the reservation applies "
                "when one appears there",
                name, where);
            continue;
        }
        hd_pci_addr_format(&pf_addr, pf);
        if (e->sel.kind == HD_SELECTOR_IDS) /* VFs there now that the ids select */
            add(d, HD_SEVERITY_WARNING, "reserved-vf-not-made", HD_REMEDY_PERSIST_VF_COUNT,
                name,
                format("have the boot make them: persist a VF count of at least %d for %s (a "
                       "numvfs= entry); or, if the VFs are no longer wanted, remove their "
                       "reservation (%s)",
                       numvfs, pf, where),
                "%s is reserved (%s), and the devices it selects now include VFs of %s, but "
                "no reservation sets %s's VF count to %d or more: nothing makes them at boot, "
                "so the reservation does nothing for them then",
                name, where, pf, pf, numvfs);
        else
            add(d, HD_SEVERITY_WARNING, "reserved-vf-not-made", HD_REMEDY_PERSIST_VF_COUNT,
                name,
                format("have the boot make it: persist a VF count of at least %d for %s (a "
                       "numvfs= entry); or, if the VF is no longer wanted, remove its "
                       "reservation (%s)",
                       numvfs, pf, where),
                "%s is reserved (%s), but it is a VF of %s%s, and no reservation sets %s's VF "
                "count to %d or more: nothing makes it at boot, so the reservation does "
                "nothing%s",
                name, where, pf, p == HD_RESERVE_VF_NOT_AT_BOOT ? "" : " that is not there",
                pf, numvfs, p == HD_RESERVE_VF_NOT_AT_BOOT ? " then" : "");
        hd_findings_set_remedy_vf_count(d, &pf_addr, numvfs, hd_reserve_entry_is_persisted(e));
    }
}

/* A VF off VFIO whose PF in @list is on vfio-pci (or a variant): the scan checks it (its PF
 * from the list, no read). */
static bool vf_of_vfio_pf(struct hd_device_list *list, const struct hd_device *dev)
{
    const struct hd_pci_addr *physfn = hd_device_get_physfn(dev);
    struct hd_device *pf = physfn ? hd_device_list_find(list, physfn) : NULL;

    return pf != NULL && hd_device_is_on_vfio(pf) && !hd_device_is_on_vfio(dev);
}

HD_EXPORT int hd_doctor_run(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                            struct hd_findings **out)
{
    struct hd_findings *d = hd_findings_new();
    struct hd_assignment_list *map = NULL;
    struct hd_host_use *hu = NULL; /* what the host uses, read once when a group asks */
    struct hd_iommu_report *report = NULL; /* its command line the run's */
    struct boot_reservations boot = {0};
    enum hd_tristate remap = HD_TRISTATE_UNSET, realloc_on = HD_TRISTATE_UNSET;
    struct pending_ops pending = {0};
    int r;

    *out = NULL;
    if (d == NULL)
        return -ENOMEM;
    if ((r = check_iommu(ctx, d, &remap, &realloc_on, &report)) < 0)
        goto fail;
    boot.cmdline = hd_iommu_report_get_cmdline(report);
    boot.vfio_pci_ids = hd_iommu_report_get_vfio_pci_ids(report, NULL);
    if ((r = hd_map_read(ctx, &map)) < 0 || (r = check_pending_ops(ctx, d, addr, &pending)) < 0)
        goto fail;
    if (addr != NULL) {
        struct hd_device *dev;
        r = hd_device_open(ctx, addr, &dev);
        if (r == -ENODEV && hd_map_find(map, addr) != NULL) {
            hd_ctx_clear_error(ctx);
            check_gone_pci(d, hd_map_find(map, addr));
        } else if (r < 0) {
            goto fail; /* -ENODEV: neither there nor recorded */
        } else {
            check_device(ctx, d, dev, map, true, remap, realloc_on, NULL, &hu, &boot,
                         &pending);
            hd_device_unref(dev);
        }
    } else {
        struct hd_device_list *list;
        struct root_only_nodes root_only = {0};
        if ((r = hd_device_list_new(ctx, HD_TXN_FILL, &list)) < 0)
            goto fail;
        for (size_t i = 0; i < hd_device_list_count(list); i++) {
            struct hd_device *dev = hd_device_list_get(list, i);
            char *rec = NULL;
            bool recorded = hd_device_get_original_driver(dev, &rec) == 0;
            free(rec);
            if (hd_device_on_stub(dev) || recorded || hd_device_get_driver_override(dev) != NULL ||
                hd_map_find(map, hd_device_get_addr(dev)) != NULL || vf_of_vfio_pf(list, dev))
                check_device(ctx, d, dev, map, false, remap, realloc_on, &root_only, &hu,
                             &boot, &pending);
        }
        note_root_only_nodes(d, &root_only);
        free(root_only.v);
        for (size_t i = 0; i < hd_assignment_list_count(map); i++) {
            const struct hd_assignment *a = hd_map_at(map, i);
            if (a->kind == HD_ASSIGNMENT_PCI && hd_device_list_find(list, &a->addr) == NULL)
                check_gone_pci(d, a);
            if (a->kind == HD_ASSIGNMENT_MDEV && (r = check_mdev(ctx, d, a->name, map)) < 0) {
                hd_device_list_unref(list);
                goto fail;
            }
            if (a->kind == HD_ASSIGNMENT_USB || a->kind == HD_ASSIGNMENT_SCSI)
                check_node_entry(ctx, d, a);
        }
        hd_device_list_unref(list);
        check_reservations(d, boot_reservations(ctx, &boot));
    }
    if ((r = hd_findings_error(d)) < 0)
        goto fail;
    hd_findings_sort(d);
    hd_assignment_list_unref(map);
    hd_host_use_unref(hu);
    hd_reserve_config_unref(boot.config);
    hd_iommu_report_unref(report);
    free(pending.addrs);
    *out = d;
    return 0;
fail:
    free(pending.addrs);
    hd_host_use_unref(hu);
    hd_reserve_config_unref(boot.config);
    hd_iommu_report_unref(report);
    hd_assignment_list_unref(map);
    hd_findings_unref(d);
    return r;
}

/* The end of a run about one device: @d sorted into *@out when @r and its own error allow. */
static int findings_done(struct hd_findings *d, struct hd_assignment_list *map, int r,
                         struct hd_findings **out)
{
    hd_assignment_list_unref(map);
    if (r >= 0)
        r = hd_findings_error(d);
    if (r < 0) {
        hd_findings_unref(d);
        return r;
    }
    hd_findings_sort(d);
    *out = d;
    return 0;
}

HD_EXPORT int hd_doctor_run_mdev(struct hd_ctx *ctx, const char *uuid,
                                 struct hd_findings **out)
{
    struct hd_findings *d;
    struct hd_assignment_list *map = NULL;
    enum hd_tristate remap, realloc_on;
    char canon[37];
    int r;

    *out = NULL;
    if (hd_mdev_uuid_parse(uuid, canon) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device's UUID "
                       "(8-4-4-4-12 hex digits, or libvirt's mdev_<uuid>)", uuid ? uuid : "");
    if ((d = hd_findings_new()) == NULL)
        return -ENOMEM;
    if ((r = check_iommu(ctx, d, &remap, &realloc_on, NULL)) >= 0 &&
        (r = hd_map_read(ctx, &map)) >= 0)
        r = check_mdev(ctx, d, canon, map);
    return findings_done(d, map, r, out);
}

HD_EXPORT int hd_doctor_run_node(struct hd_ctx *ctx, const char *sel, struct hd_findings **out)
{
    struct hd_findings *d;
    struct hd_assignment_list *map = NULL;
    enum hd_tristate remap, realloc_on;
    int r;

    *out = NULL;
    if (sel == NULL)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device given");
    if ((d = hd_findings_new()) == NULL)
        return -ENOMEM;
    if ((r = check_iommu(ctx, d, &remap, &realloc_on, NULL)) >= 0 &&
        (r = hd_map_read(ctx, &map)) >= 0)
        r = check_node_asked(ctx, d, sel, map);
    return findings_done(d, map, r, out);
}
