/* domxml-none.c - domxml.c's twin for builds without libxml2 (HOSTDEV_NO_XML=1, static). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"

int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize)
{
    (void)path;
    memset(dom, 0, sizeof(*dom));
    snprintf(err, errsize,
             "this hostdev was built without libxml2 (HOSTDEV_NO_XML=1): it "
             "cannot read domain XML");
    return -ENOTSUP;
}

void domxml_free(struct domxml *dom)
{
    free(dom->name);
    free(dom->hostdevs);
    memset(dom, 0, sizeof(*dom));
}
