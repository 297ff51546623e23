/* domain-args.c - `--domain-xml FILE` for acquire and release: the PCI <hostdev> elements of
 * a libvirt domain, split by their managed flag, and its mediated devices. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain-args.h"

int domain_args_read(struct tool *t, const char *path, const char **vm, struct domain_args *da)
{
    char err[512];
    int r;

    memset(da, 0, sizeof(*da));
    r = domxml_read(path, &da->dom, err, sizeof(err));
    if (r < 0)
        return tool_error(t, r == -ENOTSUP ? EXIT_FAILED : EXIT_USAGE, "%s: %s", path, err);
    if (*vm == NULL)
        *vm = da->dom.name; /* the domain's own <name> */
    if (*vm == NULL) {
        domain_args_free(da);
        return tool_error(t, EXIT_USAGE, "%s: the domain has no <name>: give --vm ID", path);
    }
    if (da->dom.count == 0) {
        domain_args_free(da);
        return tool_error(t, EXIT_USAGE, "%s: no <hostdev> (PCI, mdev, USB or SCSI) in the "
                          "domain", path);
    }
    da->managed = calloc(da->dom.count, sizeof(*da->managed));
    da->unmanaged = calloc(da->dom.count, sizeof(*da->unmanaged));
    da->all = calloc(da->dom.count, sizeof(*da->all));
    da->mdevs = calloc(da->dom.count, sizeof(*da->mdevs));
    da->nodes = calloc(da->dom.count, sizeof(*da->nodes));
    if (da->managed == NULL || da->unmanaged == NULL || da->all == NULL || da->mdevs == NULL ||
        da->nodes == NULL) {
        domain_args_free(da);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    for (size_t i = 0; i < da->dom.count; i++) {
        const struct domxml_hostdev *h = &da->dom.hostdevs[i];
        if (h->mdev[0]) {
            da->mdevs[da->nmdevs++] = h->mdev;
            continue;
        }
        if (h->node[0]) {
            da->nodes[da->nnodes++] = h->node;
            continue;
        }
        da->all[da->nall++] = h->addr;
        if (h->managed)
            da->managed[da->nmanaged++] = h->addr;
        else
            da->unmanaged[da->nunmanaged++] = h->addr;
    }
    return EXIT_DONE;
}

void domain_args_free(struct domain_args *da)
{
    free(da->managed);
    free(da->unmanaged);
    free(da->all);
    free(da->mdevs);
    free(da->nodes);
    domxml_free(&da->dom);
    memset(da, 0, sizeof(*da));
}
