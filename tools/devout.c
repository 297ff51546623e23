/* devout.c - how a device is shown: the lspci-like line, the JSON object, class names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devout.h"

/* PCI class names (PCI Code and ID Assignment Specification): base classes and the
 * subclasses people meet when passing devices through. */
static const struct {
    uint16_t code; /* 0xBBSS, or 0xBBff for "any subclass" */
    const char *name;
} class_names[] = {
    {0x0000, "Non-VGA unclassified device"}, {0x0001, "VGA compatible unclassified device"},
    {0x0100, "SCSI storage controller"},     {0x0101, "IDE interface"},
    {0x0104, "RAID bus controller"},         {0x0106, "SATA controller"},
    {0x0107, "Serial Attached SCSI controller"}, {0x0108, "Non-Volatile memory controller"},
    {0x01ff, "Mass storage controller"},     {0x0200, "Ethernet controller"},
    {0x0207, "Infiniband controller"},       {0x0280, "Network controller"},
    {0x02ff, "Network controller"},          {0x0300, "VGA compatible controller"},
    {0x0302, "3D controller"},               {0x03ff, "Display controller"},
    {0x0401, "Multimedia audio controller"}, {0x0403, "Audio device"},
    {0x04ff, "Multimedia controller"},       {0x0500, "RAM memory"},
    {0x05ff, "Memory controller"},           {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},                  {0x0604, "PCI bridge"},
    {0x0607, "CardBus bridge"},              {0x0609, "Semi-transparent PCI-to-PCI bridge"},
    {0x06ff, "Bridge"},                      {0x07ff, "Communication controller"},
    {0x0805, "SD Host controller"},          {0x08ff, "Generic system peripheral"},
    {0x09ff, "Input device controller"},     {0x0bff, "Processor"},
    {0x0c03, "USB controller"},              {0x0c05, "SMBus"},
    {0x0cff, "Serial bus controller"},       {0x0dff, "Wireless controller"},
    {0x10ff, "Encryption controller"},       {0x11ff, "Signal processing controller"},
    {0x12ff, "Processing accelerators"},     {0xffff, "Unassigned class"},
};

const char *device_class_name(uint32_t class)
{
    uint16_t sub = (uint16_t)(class >> 8), base = (uint16_t)((class >> 8) | 0xff);

    for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        if (class_names[i].code == sub)
            return class_names[i].name;
    }
    for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        if (class_names[i].code == base)
            return class_names[i].name;
    }
    return "Class";
}

/* A driver either registers a vfio device for every device it binds or for none: a listing
 * asks one device per driver (a driver the name rule does not know costs a read), not each. */
struct vfio_drivers {
    struct {
        char *name;
        bool on_vfio;
    } *v;
    size_t n;
};

void device_facts_read(struct tool *t, struct device_facts *f)
{
    /* Facts beside the listing: one that cannot be read is left out, never fatal. */
    *f = (struct device_facts){.ctx = t->ctx};
    if (hd_netif_list_new(t->ctx, &f->netifs) < 0)
        f->netifs = NULL;
    if (hd_assignment_list_new(t->ctx, &f->map) < 0)
        f->map = NULL;
    if (hd_host_use_new(t->ctx, &f->host_use) < 0)
        f->host_use = NULL;
    f->vfio_drivers = calloc(1, sizeof(*f->vfio_drivers)); /* NULL: each device is asked */
    hd_ctx_clear_error(t->ctx);
}

/* On vfio-pci or a VFIO variant, asked once per driver name (see struct vfio_drivers). */
static bool on_vfio(const struct device_facts *f, const struct hd_device *dev)
{
    struct vfio_drivers *known = f ? f->vfio_drivers : NULL;
    const char *drv = hd_device_get_driver(dev);

    if (drv == NULL || known == NULL)
        return hd_device_is_on_vfio(dev);
    for (size_t i = 0; i < known->n; i++)
        if (strcmp(known->v[i].name, drv) == 0)
            return known->v[i].on_vfio;
    bool on = hd_device_is_on_vfio(dev);
    void *grown = realloc(known->v, (known->n + 1) * sizeof(*known->v));
    if (grown != NULL) {
        known->v = grown;
        if ((known->v[known->n].name = strdup(drv)) != NULL)
            known->v[known->n++].on_vfio = on;
    }
    return on;
}

/* On vfio-pci (or a variant) or pci-stub: where records and overrides matter. */
static bool on_stub(const struct device_facts *f, const struct hd_device *dev)
{
    const char *drv = hd_device_get_driver(dev);

    return drv != NULL && (strcmp(drv, "pci-stub") == 0 || on_vfio(f, dev));
}

/* On vfio in its unsafe no-IOMMU mode (a group the kernel names vfio-noiommu): only a
 * device a vfio driver holds can be, so only such a device with a group costs the one read. */
static bool listed_noiommu(const struct device_facts *f, struct hd_device *dev)
{
    return hd_device_get_driver(dev) != NULL && on_vfio(f, dev) &&
           hd_group_number_is_noiommu(hd_device_get_ctx(dev), hd_device_get_iommu_group(dev));
}

/* The override of a device on a stub or on none, where it decides the next probe: read for
 * those only (one file each), so a listing stays lean. NULL: none set, or not read. */
static const char *listed_override(const struct device_facts *f, struct hd_device *dev)
{
    const char *drv = hd_device_get_driver(dev);

    if (drv != NULL && !on_stub(f, dev))
        return NULL;
    return hd_device_fill(dev, HD_FILL_OVERRIDE) == 0 ? hd_device_get_driver_override(dev) : NULL;
}

char *device_host_use(const struct device_facts *f, struct hd_device *dev)
{
    unsigned int base = hd_device_get_class(dev) >> 16;
    const char *drv = hd_device_get_driver(dev);
    char *why = NULL;

    /* Disks and their controllers, USB hosts (a USB disk below), NICs, displays, and a PF of
     * any class with VFs (read only by a one-device look) detach would destroy; a device on
     * no driver or on a stub has nothing the host could use. */
    if (f == NULL || f->host_use == NULL || drv == NULL || on_stub(f, dev) ||
        (base != 0x01 && base != 0x02 && base != 0x03 && base != 0x0c &&
         hd_device_get_virtfn_count(dev) == 0))
        return NULL;
    hd_ctx_clear_error(f->ctx);
    if (hd_host_use_check_own(f->host_use, dev) == -EBUSY)
        why = strdup(hd_ctx_last_error(f->ctx));
    hd_ctx_clear_error(f->ctx);
    return why;
}

void device_facts_free(struct device_facts *f)
{
    hd_netif_list_unref(f->netifs);
    hd_assignment_list_unref(f->map);
    hd_host_use_unref(f->host_use);
    for (size_t i = 0; f->vfio_drivers != NULL && i < f->vfio_drivers->n; i++)
        free(f->vfio_drivers->v[i].name);
    if (f->vfio_drivers != NULL)
        free(f->vfio_drivers->v);
    free(f->vfio_drivers);
    *f = (struct device_facts){0};
}

static const char *facts_netifs(const struct device_facts *f, const struct hd_device *dev)
{
    return f && f->netifs ? hd_netif_list_get(f->netifs, hd_device_get_addr(dev)) : "";
}

static const char *facts_vm(const struct device_facts *f, const struct hd_device *dev)
{
    const struct hd_assignment *a =
        f && f->map ? hd_assignment_list_find(f->map, hd_device_get_addr(dev)) : NULL;

    return a ? hd_assignment_get_vm(a) : NULL;
}

/* The driver recorded when @dev left its host driver: only devices on a stub have one, so
 * the others cost nothing. Allocated, or NULL. */
static char *facts_original(const struct device_facts *f, struct hd_device *dev)
{
    char *orig = NULL;

    if (f == NULL || !on_stub(f, dev))
        return NULL;
    if (hd_device_get_original_driver(dev, &orig) < 0)
        return NULL;
    return orig;
}

void device_print_line(FILE *out, struct hd_device *dev, const struct device_facts *f)
{
    const char *vn = hd_device_get_vendor_name(dev), *pn = hd_device_get_product_name(dev);
    const char *drv = hd_device_get_driver(dev);
    uint32_t class = hd_device_get_class(dev);
    int group = hd_device_get_iommu_group(dev), rev = hd_device_get_revision(dev);

    fprintf(out, "%s %s [%04x]: ", hd_device_get_name(dev), device_class_name(class),
            (unsigned)(class >> 8));
    if (vn != NULL) {
        tool_put_text(out, vn);
        fputc(' ', out);
    }
    if (pn != NULL) {
        tool_put_text(out, pn);
        fputc(' ', out);
    } else if (vn != NULL)
        fprintf(out, "Device ");
    fprintf(out, "[%04x:%04x]", hd_device_get_vendor_id(dev), hd_device_get_device_id(dev));
    if (rev > 0)
        fprintf(out, " (rev %02x)", (unsigned)rev);
    fprintf(out, " driver=%s", drv ? drv : "-");
    if (group >= 0)
        fprintf(out, " group=%d%s", group, listed_noiommu(f, dev) ? " noiommu" : "");
    else
        fprintf(out, " group=-");
    const char *ifs = facts_netifs(f, dev), *vm = facts_vm(f, dev);
    char *orig = facts_original(f, dev);
    if (ifs[0] != '\0')
        fprintf(out, " if=%s", ifs);
    const char *override = f != NULL ? listed_override(f, dev) : NULL;
    if (override != NULL)
        fprintf(out, " override=%s", override);
    if (vm != NULL)
        fprintf(out, " vm=%s", vm);
    if (orig != NULL)
        fprintf(out, " orig_driver=%s", orig[0] ? orig : "none"); /* the record's '*' too */
    free(orig);
    /* dpdk-devbind's mark for a device the host uses (show and JSON say for what). */
    char *use = device_host_use(f, dev);
    if (use != NULL)
        fprintf(out, " *Active*");
    free(use);
    fputc('\n', out);
}

static void addr_or_null(struct json *j, const char *key, const struct hd_pci_addr *addr)
{
    char buf[HD_PCI_ADDR_BUFSZ];

    json_kv_string(j, key, addr ? hd_pci_addr_format(addr, buf) : NULL);
}

/* What only a one-device look reads: topology, SR-IOV, NUMA, reset, the vfio cdev. */
static void print_json_details(struct json *j, struct hd_device *dev)
{
    const char *methods = hd_device_get_reset_methods(dev);
    int numa = hd_device_get_numa_node(dev);
    char buf[HD_PCI_ADDR_BUFSZ];

    json_kv_int_or_null(j, "numa_node", numa, numa >= 0);
    /* A platform function the host keeps ("a host bridge"), null for others. */
    json_kv_string(j, "platform_role", hd_device_get_platform_role(dev));
    addr_or_null(j, "parent", hd_device_get_parent(dev));
    json_key(j, "virtfns");
    json_begin_array(j);
    for (size_t i = 0; i < hd_device_get_virtfn_count(dev); i++)
        json_string(j, hd_pci_addr_format(hd_device_get_virtfn(dev, i), buf));
    json_end_array(j);
    json_kv_int_or_null(j, "sriov_totalvfs", hd_device_get_sriov_totalvfs(dev),
                        hd_device_get_sriov_totalvfs(dev) >= 0);
    json_kv_int_or_null(j, "sriov_numvfs", hd_device_get_sriov_numvfs(dev),
                        hd_device_get_sriov_numvfs(dev) >= 0);
    json_key(j, "reset_methods");
    if (methods == NULL) {
        json_null(j);
    } else {
        char copy[512], *save = NULL;
        json_begin_array(j);
        snprintf(copy, sizeof(copy), "%s", methods);
        for (char *m = strtok_r(copy, " \t", &save); m; m = strtok_r(NULL, " \t", &save))
            json_string(j, m);
        json_end_array(j);
    }
    json_kv_bool(j, "has_reset", hd_device_has_reset(dev));
    json_kv_string(j, "vfio_cdev", hd_device_get_vfio_cdev(dev));
}

void device_print_json_fields(struct json *j, struct hd_device *dev, const struct device_facts *f,
                              bool detail)
{
    int rev = hd_device_get_revision(dev), group = hd_device_get_iommu_group(dev);

    json_kv_string(j, "address", hd_device_get_name(dev));
    json_kv_hex(j, "vendor_id", hd_device_get_vendor_id(dev), 4);
    json_kv_hex(j, "device_id", hd_device_get_device_id(dev), 4);
    json_kv_hex(j, "subsystem_vendor_id", hd_device_get_subsystem_vendor_id(dev), 4);
    json_kv_hex(j, "subsystem_device_id", hd_device_get_subsystem_device_id(dev), 4);
    json_kv_string(j, "vendor", hd_device_get_vendor_name(dev));
    json_kv_string(j, "product", hd_device_get_product_name(dev));
    json_kv_hex(j, "class", hd_device_get_class(dev), 6);
    if (rev >= 0)
        json_kv_hex(j, "revision", (unsigned long)rev, 2);
    else
        json_kv_string(j, "revision", NULL);
    json_kv_string(j, "driver", hd_device_get_driver(dev));
    json_kv_string(j, "driver_override",
                   detail ? hd_device_get_driver_override(dev) : listed_override(f, dev));
    json_kv_int_or_null(j, "iommu_group", group, group >= 0);
    /* made by vfio's unsafe no-IOMMU mode: no DMA isolation, no VM */
    json_kv_bool(j, "noiommu", listed_noiommu(f, dev));
    addr_or_null(j, "physfn", hd_device_get_physfn(dev));
    /* What a VM can be given: an endpoint the host does not keep (see platform_role). */
    json_kv_bool(j, "assignable",
                 hd_device_is_assignable(dev) && hd_device_get_platform_role(dev) == NULL);
    if (detail)
        print_json_details(j, dev);
    if (f == NULL)
        return;
    char ifs[512], *save = NULL, *orig = facts_original(f, dev);
    snprintf(ifs, sizeof(ifs), "%s", facts_netifs(f, dev));
    json_key(j, "interfaces");
    json_begin_array(j);
    for (char *n = strtok_r(ifs, ",", &save); n; n = strtok_r(NULL, ",", &save))
        json_string(j, n);
    json_end_array(j);
    json_kv_string(j, "vm", facts_vm(f, dev));
    char *use = device_host_use(f, dev);
    json_kv_string(j, "host_use", use);
    free(use);
    json_kv_string(j, "original_driver", orig); /* "": it had none; "*": the kernel's choice */
    free(orig);
}
