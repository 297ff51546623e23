/* fuzz-pciaddr.c - fuzz target: PCI addresses and device selectors (pci/pciaddr.c). */
#include <hostdev/hostdev.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    struct hd_pci_addr a, b;
    struct hd_pci_selector sel;
    char buf[HD_PCI_ADDR_BUFSZ];

    if (s == NULL)
        return 0;
    /* Whatever parses formats to the canonical form, which parses back to the same address. */
    if (hd_pci_addr_parse(s, &a) == 0) {
        hd_pci_addr_format(&a, buf);
        if (hd_pci_addr_parse(buf, &b) != 0 || !hd_pci_addr_equal(&a, &b))
            abort();
    }
    if (hd_pci_selector_parse(s, &sel) == 0 && sel.kind == HD_SELECTOR_ADDR)
        hd_pci_addr_format(&sel.addr, buf);
    free(s);
    return 0;
}
