/* domxml-none.c - domxml.c's twin for builds without libxml2 (HOSTDEV_NO_XML=1, static). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"

static int no_xml(struct domxml *dom, char *err, size_t errsize)
{
    memset(dom, 0, sizeof(*dom));
    snprintf(err, errsize,
             "this hostdev was built without libxml2 (HOSTDEV_NO_XML=1): it "
             "cannot read domain XML");
    return -ENOTSUP;
}

int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize)
{
    (void)path;
    return no_xml(dom, err, errsize);
}

int domxml_parse(const char *text, size_t len, struct domxml *dom, char *err, size_t errsize)
{
    (void)text;
    (void)len;
    return no_xml(dom, err, errsize);
}

void domxml_free(struct domxml *dom)
{
    free(dom->name);
    free(dom->hostdevs);
    memset(dom, 0, sizeof(*dom));
}
