/* fuzz-hwdb.c - fuzz target: a hwdb.bin as shared/hwdb.c reads it for names. */
#include "internal.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"pci:v00008086*", "pci:v00008086d000010D3*", "pci:", "",
                                       "pci:v00008086d000010D3sv*sd*"};
    const char *d = (const char *)data;
    struct hd_hwdb_file *f;

    if (hd_hwdb_file_open_mem(d, size, &f) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = hd_hwdb_file_get(f, keys[i], "ID_VENDOR_FROM_DATABASE");
        /* What comes back is a string inside the input. */
        if (v != NULL &&
            (v < d || v >= d + size || memchr(v, '\0', (size_t)(d + size - v)) == NULL))
            abort();
        fuzz_sink += v ? strlen(v) : 0;
        v = hd_hwdb_file_get(f, keys[i], "ID_MODEL_FROM_DATABASE");
        fuzz_sink += v ? strlen(v) : 0;
    }
    hd_hwdb_file_close(f);
    return 0;
}
