/* netif.c - network interfaces by PCI function: sys/class/net/NAME links to
 * ../../devices/pci0000:00/.../BDF/net/NAME; the component before "net" is the function.
 * Virtual interfaces (devices/virtual/net) belong to none. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct netif {
    struct hd_pci_addr addr;
    char *names; /* "a,b" */
};

struct hd_netif_list {
    atomic_int refcount;
    struct netif *v;
    size_t n;
};

static int cmp_netif(const void *a, const void *b)
{
    return hd_pci_addr_compare(&((const struct netif *)a)->addr,
                               &((const struct netif *)b)->addr);
}

/* The PCI function @ifname belongs to, from its sys/class/net link. */
static int owner_of(struct hd_ctx *ctx, const char *ifname, struct hd_pci_addr *addr)
{
    char path[HD_PATH_MAX], target[HD_PATH_MAX], *net, *dev;

    if (!hd_name_valid(ifname) || hd_path(path, sizeof(path), "sys/class/net/%s", ifname) < 0 ||
        hd_fs_read_link(ctx, path, target, sizeof(target)) < 0)
        return -ENOENT;
    /* ".../BDF/net/NAME": cut at "/net/", then the last component left is the function;
     * a virtio-pci function's interface sits on its virtio device (".../BDF/virtioN/net/"). */
    if ((net = strstr(target, "/net/")) == NULL)
        return -ENOENT;
    *net = '\0';
    dev = strrchr(target, '/');
    if (dev != NULL && strncmp(dev + 1, "virtio", 6) == 0 && dev[7] >= '0' && dev[7] <= '9' &&
        strspn(dev + 7, "0123456789") == strlen(dev + 7)) {
        *dev = '\0';
        dev = strrchr(target, '/');
    }
    dev = dev ? dev + 1 : target;
    return hd_pci_addr_parse(dev, addr) == 0 && strchr(dev, ':') != NULL ? 0 : -ENOENT;
}

static int add(struct hd_netif_list *l, size_t *cap, const struct hd_pci_addr *addr,
               const char *ifname)
{
    for (size_t i = 0; i < l->n; i++) {
        if (hd_pci_addr_equal(&l->v[i].addr, addr)) { /* names come sorted: append */
            size_t len = strlen(l->v[i].names);
            char *grown = realloc(l->v[i].names, len + strlen(ifname) + 2);
            if (grown == NULL)
                return -ENOMEM;
            grown[len] = ',';
            strcpy(grown + len + 1, ifname);
            l->v[i].names = grown;
            return 0;
        }
    }
    if (l->n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct netif *v = realloc(l->v, c * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        *cap = c;
    }
    if ((l->v[l->n].names = strdup(ifname)) == NULL)
        return -ENOMEM;
    l->v[l->n++].addr = *addr;
    return 0;
}

HD_EXPORT int hd_netif_list_new(struct hd_ctx *ctx, struct hd_netif_list **out)
{
    struct hd_netif_list *l = calloc(1, sizeof(*l));
    char **names = NULL;
    size_t count = 0, cap = 0;
    int r;

    if (l != NULL)
        hd_ref_init(&l->refcount);

    *out = NULL;
    if (l == NULL)
        return -ENOMEM;
    r = hd_fs_list_dir(ctx, "sys/class/net", &names, &count);
    if (r == -ENOENT || r == -ENOTDIR)
        r = 0; /* no network devices at all */
    for (size_t i = 0; r == 0 && i < count; i++) {
        struct hd_pci_addr addr;
        if (owner_of(ctx, names[i], &addr) == 0)
            r = add(l, &cap, &addr, names[i]);
    }
    hd_strv_free(names, count);
    if (r < 0) {
        hd_netif_list_unref(l);
        return r;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_netif);
    *out = l;
    return 0;
}

HD_EXPORT struct hd_netif_list *hd_netif_list_ref(struct hd_netif_list *l)
{
    if (l != NULL)
        hd_ref_take(&l->refcount);
    return l;
}

HD_EXPORT struct hd_netif_list *hd_netif_list_unref(struct hd_netif_list *l)
{
    if (l == NULL || !hd_ref_drop(&l->refcount))
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].names);
    free(l->v);
    free(l);
    return NULL;
}

HD_EXPORT const char *hd_netif_list_get(const struct hd_netif_list *l,
                                        const struct hd_pci_addr *addr)
{
    struct netif key = {.addr = *addr};
    const struct netif *f = l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_netif) : NULL;

    return f ? f->names : "";
}

HD_EXPORT int hd_netif_list_find(const struct hd_netif_list *l, const char *ifname,
                                 struct hd_pci_addr *addr)
{
    size_t len = strlen(ifname);

    for (size_t i = 0; i < l->n; i++) {
        for (const char *p = l->v[i].names; (p = strstr(p, ifname)) != NULL; p += len) {
            bool starts = p == l->v[i].names || p[-1] == ',';
            if (starts && (p[len] == '\0' || p[len] == ',')) {
                *addr = l->v[i].addr;
                return 0;
            }
        }
    }
    return -ENOENT;
}
