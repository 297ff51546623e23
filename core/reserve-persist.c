/* reserve-persist.c - `hostdev persist`'s files: one hostdev.d file per selector, written and
 * removed atomically through the state records' writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void file_name(const struct hd_pci_selector *sel, char *buf, size_t size)
{
    char addr[HD_PCI_ADDR_BUFSZ];

    if (sel->kind == HD_SELECTOR_ADDR)
        snprintf(buf, size, "persist-%s.conf", hd_pci_addr_format(&sel->addr, addr));
    else
        snprintf(buf, size, "persist-%04x:%04x.conf", sel->vendor, sel->device);
}

HD_EXPORT int hd_reserve_persist(struct hd_ctx *ctx, const struct hd_reserve_entry *entry)
{
    char name[64], *line = NULL, *text = NULL;
    int r;

    if (entry->driver == NULL && entry->numvfs < 0)
        return hd_err(ctx, -EINVAL, "nothing to persist: no driver and no numvfs");
    if (entry->numvfs >= 0 && entry->sel.kind != HD_SELECTOR_ADDR)
        return hd_err(ctx, -EINVAL, "numvfs needs the address of one SR-IOV device, not ids");
    struct hd_stub_driver stub;
    if (entry->driver != NULL && hd_stub_driver_get(entry->driver, &stub) < 0)
        return hd_err(ctx, -EINVAL, "'%s' is not a stub driver (vfio-pci, a vfio-pci variant "
                      "or pci-stub)", entry->driver);
    file_name(&entry->sel, name, sizeof(name));
    if ((r = hd_reserve_entry_format(entry, &line)) < 0)
        return r;
    if (asprintf(&text, "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n%s\n",
                 line) < 0) {
        free(line);
        return -ENOMEM;
    }
    free(line);
    r = hd_record_put(ctx, HD_RESERVE_DIR, name, text, 0644);
    free(text);
    return r;
}

HD_EXPORT int hd_reserve_unpersist(struct hd_ctx *ctx, const struct hd_pci_selector *sel)
{
    char name[64];
    int r;

    file_name(sel, name, sizeof(name));
    r = hd_record_del(ctx, HD_RESERVE_DIR, name);
    if (r == -ENOENT)
        return hd_err(ctx, r, "%s/%s/%s: not persisted", hd_ctx_get_root(ctx), HD_RESERVE_DIR,
                      name);
    if (r < 0)
        return hd_err(ctx, r, "%s/%s/%s: %s", hd_ctx_get_root(ctx), HD_RESERVE_DIR, name,
                      strerror(-r));
    return 0;
}
