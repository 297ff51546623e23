/* fuzz-domxml.c - fuzz target: the <hostdev>s and <interface type='hostdev'>s of a libvirt
 * domain XML (tools/domxml.c). */
#include "domxml.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct domxml dom;
    char err[512];

    err[0] = '\0';
    if (domxml_parse((const char *)data, size, &dom, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < dom.count; i++) {
            const struct domxml_hostdev *h = &dom.hostdevs[i];
            if (h->addr.slot > 0x1f || h->addr.function > 7)
                abort(); /* out of range must be rejected, not truncated */
            if (h->mac[0] != '\0' && strlen(h->mac) != 17)
                abort(); /* an interface's MAC address is said as libvirt writes it */
        }
        domxml_free(&dom);
    } else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort(); /* one line saying why */
    }
    return 0;
}
