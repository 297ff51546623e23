/* mdev-xml.c - the node device XML of a mediated device, read as far as libvirt's node device
 * driver reads it for a create: the parent, the type, the UUID. A plain string reader behind a
 * well-formedness check, so that libhostdev-virt needs no XML library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdev-xml.h"

/* The text of the first <@name>...</@name> in @xml, trimmed; 0, -ENOENT, -EINVAL. */
static int element_text(const char *xml, const char *name, char *out, size_t size)
{
    char open[64], close[64];
    const char *s, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if ((s = strstr(xml, open)) == NULL)
        return -ENOENT;
    s += strlen(open);
    if ((e = strstr(s, close)) == NULL)
        return -EINVAL;
    while (s < e && strchr(" \t\r\n", *s))
        s++;
    while (e > s && strchr(" \t\r\n", e[-1]))
        e--;
    if ((size_t)(e - s) >= size || memchr(s, '<', (size_t)(e - s)) ||
        memchr(s, '&', (size_t)(e - s)))
        return -EINVAL;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return 0;
}

/* The value of attribute @attr in the tag starting at @tag (up to its '>'). */
static int attribute(const char *tag, const char *attr, char *out, size_t size)
{
    const char *end = strchr(tag, '>'), *p = tag;
    size_t n = strlen(attr);

    while (end != NULL && (p = strstr(p, attr)) != NULL && p < end) {
        if (strchr(" \t\r\n", p[-1]) != NULL && p[n] == '=' &&
            (p[n + 1] == '\'' || p[n + 1] == '"')) {
            const char *v = p + n + 2, *q = strchr(v, p[n + 1]);
            if (q == NULL || q > end || (size_t)(q - v) >= size ||
                memchr(v, '&', (size_t)(q - v)) || memchr(v, '<', (size_t)(q - v)))
                return -EINVAL;
            memcpy(out, v, (size_t)(q - v));
            out[q - v] = '\0';
            return 0;
        }
        p += n;
    }
    return -ENOENT;
}

/* A copy of @xml with its comments blanked out, when its elements are well formed: every tag
 * closed, in order, under one root; no DTD or CDATA (a device's XML has none). NULL with *@why
 * otherwise. Enough for the plain XML a device is: the attributes and texts parse() reads. */
static char *well_formed(const char *xml, const char **why)
{
    const char *open[32];
    size_t lens[32], depth = 0;
    int roots = 0;
    char *c = strdup(xml), *p = c;

#define FAIL(reason)                                                                               \
    do {                                                                                           \
        *why = (reason);                                                                           \
        goto fail;                                                                                 \
    } while (0)
    *why = "out of memory";
    while (p != NULL && (p = strchr(p, '<')) != NULL) {
        char *q, quote = 0, *end;
        if (strncmp(p, "<!--", 4) == 0) {
            if ((end = strstr(p + 4, "-->")) == NULL)
                FAIL("a comment that never ends");
            memset(p, ' ', (size_t)(end + 3 - p));
            p = end + 3;
            continue;
        }
        if (p[1] == '!')
            FAIL("a DTD or CDATA section");
        if (p[1] == '?') { /* <?xml ...?>, before the root */
            if ((end = strstr(p, "?>")) == NULL || depth > 0 || roots > 0)
                FAIL("a misplaced processing instruction");
            p = end + 2;
            continue;
        }
        for (q = p + 1; *q != '\0' && (quote != 0 || *q != '>'); q++) {
            if (quote != 0 && *q == '<')
                FAIL("a '<' in an attribute value");
            if (quote != 0 ? *q == quote : (*q == '"' || *q == '\''))
                quote = quote != 0 ? 0 : *q;
        }
        if (*q == '\0')
            FAIL("a tag that never ends");
        bool closing = p[1] == '/', empty = q[-1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " \t\r\n/>");
        if (len == 0)
            FAIL("a tag without a name");
        if (closing) {
            if (depth == 0 || lens[depth - 1] != len || strncmp(open[depth - 1], name, len) != 0)
                FAIL("a closing tag that does not match its element");
            depth--;
        } else if (depth == 0 && roots++ > 0) {
            FAIL("more than one root element");
        } else if (!empty) {
            if (depth == sizeof(lens) / sizeof(lens[0]))
                FAIL("elements nested too deep");
            open[depth] = name;
            lens[depth++] = len;
        }
        p = q + 1;
    }
    if (c != NULL && (depth > 0 || roots == 0))
        FAIL(roots == 0 ? "no element" : "an element that is never closed");
    return c;
fail:
    free(c);
    return NULL;
#undef FAIL
}

static int parse(const char *xml, struct virt_mdev_xml *m)
{
    const char *cap, *type;
    char value[32];
    int r;

    memset(m, 0, sizeof(*m));
    if (strstr(xml, "<device") == NULL || strstr(xml, "<!") != NULL)
        return -EINVAL; /* not a device; no DTDs or comments to trip over */
    for (cap = strstr(xml, "<capability"); cap != NULL; cap = strstr(cap + 1, "<capability")) {
        if (attribute(cap, "type", value, sizeof(value)) == 0 && strcmp(value, "mdev") == 0)
            break;
    }
    if (cap == NULL)
        return -ENOTSUP;
    m->is_mdev = true;
    if ((type = strstr(cap, "<type")) == NULL ||
        attribute(type, "id", m->type, sizeof(m->type)) < 0 || m->type[0] == '\0')
        return -EINVAL;
    if ((r = element_text(xml, "parent", m->parent, sizeof(m->parent))) < 0 && r != -ENOENT)
        return r;
    if ((r = element_text(cap, "parent_addr", m->parent_addr, sizeof(m->parent_addr))) < 0 &&
        r != -ENOENT)
        return r;
    if ((r = element_text(cap, "uuid", m->uuid, sizeof(m->uuid))) < 0 && r != -ENOENT)
        return r;
    return m->parent[0] || m->parent_addr[0] ? 0 : -EINVAL;
}

int virt_mdev_xml_read(const char *xml, struct virt_mdev_xml *m, const char **why)
{
    char *copy = well_formed(xml, why);
    int r;

    memset(m, 0, sizeof(*m));
    if (copy == NULL)
        return strcmp(*why, "out of memory") == 0 ? -ENOMEM : -EBADMSG;
    r = parse(copy, m);
    free(copy);
    return r;
}
