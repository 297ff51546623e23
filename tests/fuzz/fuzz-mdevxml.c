/* fuzz-mdevxml.c - fuzz target: the node device XML of a mediated device, as
 * virNodeDeviceCreateXML reads it (virt/mdev-xml.c, a string reader). */
#include <errno.h>

#include "mdev-xml.h"

#include "fuzz.h"

/* What the reader hands on is plain text that fits: no markup, no entity, terminated. */
static void check_text(const char *s, size_t size)
{
    size_t n = strnlen(s, size);

    if (n == size || strpbrk(s, "<&") != NULL)
        abort();
    fuzz_sink += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct virt_mdev_xml m;
    const char *why = NULL;
    char *xml = fuzz_str(data, size);
    int r;

    if (xml == NULL)
        return 0;
    r = virt_mdev_xml_read(xml, &m, &why);
    if (r == 0) {
        check_text(m.parent, sizeof(m.parent));
        check_text(m.parent_addr, sizeof(m.parent_addr));
        check_text(m.type, sizeof(m.type));
        check_text(m.uuid, sizeof(m.uuid));
        if (!m.is_mdev || m.type[0] == '\0' || (m.parent[0] == '\0' && m.parent_addr[0] == '\0'))
            abort(); /* accepted without what a create needs */
    } else if (r == -EBADMSG && (why == NULL || why[0] == '\0' || strchr(why, '\n') != NULL)) {
        abort(); /* not well formed: one line saying how */
    } else if (r != -EBADMSG && r != -ENOTSUP && r != -EINVAL && r != -ENOMEM) {
        abort();
    }
    free(xml);
    return 0;
}
