/* fuzz-spec.c - fuzz target: the fake kernel's tree spec parser (tools/fakesys/spec.c). */
#include "fakesys.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    char err[512];
    struct kernel *k;

    if (text == NULL)
        return 0;
    k = kernel_new();
    err[0] = '\0';
    /* A spec that loads is also built into the tree the mount would serve (spec_finish()). */
    if (spec_load(k, "fuzz.spec", text, err, sizeof(err)) < 0 &&
        (err[0] == '\0' || strchr(err, '\n') != NULL))
        abort(); /* every rejected spec says why, in one line */
    kernel_free(k);
    free(text);
    return 0;
}
