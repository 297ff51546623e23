/* fuzz-cmdline.c - fuzz target: the kernel command line parser and its interpretation. */
#include <hostdev/hostdev.h>

#include "fuzz.h"

/* Names the interpreter and `hostdev iommu` ask about: each lookup walks every parameter. */
static const char *const names[] = {"intel_iommu",
                                    "amd_iommu",
                                    "iommu",
                                    "iommu.passthrough",
                                    "iommu.strict",
                                    "intremap",
                                    "pci",
                                    "vfio-pci.ids",
                                    "vfio_iommu_type1.allow_unsafe_interrupts",
                                    "quiet"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    struct hd_cmdline *cl = NULL;
    size_t sink = 0;

    if (s == NULL)
        return 0;
    if (hd_cmdline_new_from_string(s, &cl) < 0) {
        free(s);
        return 0;
    }
    for (size_t i = 0; i < hd_cmdline_count(cl); i++) {
        const char *name = hd_cmdline_get_name_at(cl, i), *value = hd_cmdline_get_value_at(cl, i);
        /* Touch every byte: a dangling pointer shows up under ASan here. */
        sink += strlen(name) + (value ? strlen(value) : 0);
    }
    if (hd_cmdline_get_init_args(cl) != NULL)
        sink += strlen(hd_cmdline_get_init_args(cl));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *value;
        bool b;
        sink += (size_t)hd_cmdline_get(cl, names[i], &value) + hd_cmdline_has(cl, names[i]);
        sink += (size_t)hd_cmdline_get_bool(cl, names[i], &b);
        sink += hd_cmdline_list_has(cl, names[i], "realloc");
    }
    for (int i = 0; i < HD_CMDLINE_SETTING_COUNT; i++)
        sink += (size_t)hd_cmdline_get_setting(cl, (enum hd_cmdline_setting)i);
    for (size_t i = 0; i < hd_cmdline_get_invalid_count(cl); i++) {
        const char *param, *option, *why, *log;
        if (hd_cmdline_get_invalid(cl, i, &param, &option, &why, &log) == 0)
            sink += strlen(param) + strlen(option) + strlen(why) + (log ? strlen(log) : 0);
    }
    for (size_t i = 0; i < hd_cmdline_get_vfio_pci_id_count(cl); i++) {
        struct hd_pci_id_match m;
        if (hd_cmdline_get_vfio_pci_id(cl, i, &m) == 0)
            sink += m.vendor;
    }
    hd_cmdline_unref(cl);
    free(s);
    fuzz_sink = sink; /* keep the reads */
    return 0;
}
