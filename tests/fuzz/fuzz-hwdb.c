/* fuzz-hwdb.c - fuzz target: a hwdb.bin as shared/hwdb.c reads it for names (through a
 * descriptor, as it reads the real one). */
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"pci:v00008086*", "pci:v00008086d000010D3*", "pci:", "",
                                       "pci:v00008086d000010D3sv*sd*"};
    struct hd_hwdb_file *f;
    int fd = memfd_create("hwdb", MFD_CLOEXEC);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (hd_hwdb_file_open(fd, size, &f) != 0) {
        close(fd);
        return 0;
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = hd_hwdb_file_get(f, keys[i], "ID_VENDOR_FROM_DATABASE");
        /* What comes back is a string of the input: no longer than the input. */
        if (v != NULL && strlen(v) >= size)
            abort();
        fuzz_sink += v ? strlen(v) : 0;
        v = hd_hwdb_file_get(f, keys[i], "ID_MODEL_FROM_DATABASE");
        fuzz_sink += v ? strlen(v) : 0;
    }
    hd_hwdb_file_close(f);
    return 0;
}
