/* tree.c - the in-memory tree the mount serves: directories, attributes, links, plain files. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakesys.h"

struct node *tree_new(const char *name, enum node_type type, mode_t mode)
{
    struct node *n = xcalloc(1, sizeof(*n));

    n->name = xstrdup(name);
    n->type = type;
    n->mode = mode;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    n->ctime = n->mtime;
    return n;
}

struct node *tree_new_root(void)
{
    return tree_new("", NODE_DIR, 0755);
}

void tree_free(struct node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        tree_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->data);
    free(n->key_owned);
    free(n);
}

static int cmp_name(const void *item, const void *key)
{
    return strcmp(((const struct node *)item)->name, key);
}

/* Index of @name in @dir's sorted children, or where it would go (*found false). */
static size_t kid_index(const struct node *dir, const char *name, bool *found)
{
    return sorted_index((void *const *)dir->kids, dir->nkids, name, cmp_name, found);
}

struct node *tree_child(const struct node *dir, const char *name)
{
    bool found;

    if (dir == NULL || dir->type != NODE_DIR)
        return NULL;
    size_t i = kid_index(dir, name, &found);
    return found ? dir->kids[i] : NULL;
}

void tree_detach(struct node *n)
{
    struct node *dir = n->parent;
    bool found;

    if (dir == NULL)
        return;
    size_t i = kid_index(dir, n->name, &found);
    if (found && dir->kids[i] == n) {
        memmove(&dir->kids[i], &dir->kids[i + 1], (dir->nkids - i - 1) * sizeof(dir->kids[0]));
        dir->nkids--;
    }
    n->parent = NULL;
}

struct node *tree_add(struct node *dir, struct node *n)
{
    bool found;
    size_t i = kid_index(dir, n->name, &found);

    if (found) {
        struct node *old = dir->kids[i];
        old->parent = NULL;
        tree_free(old);
        dir->kids[i] = n;
    } else {
        if (dir->nkids == dir->kcap) {
            dir->kcap = dir->kcap ? dir->kcap * 2 : 8;
            dir->kids = xrealloc(dir->kids, dir->kcap * sizeof(dir->kids[0]));
        }
        memmove(&dir->kids[i + 1], &dir->kids[i], (dir->nkids - i) * sizeof(dir->kids[0]));
        dir->kids[i] = n;
        dir->nkids++;
    }
    n->parent = dir;
    n->kernel = dir->kernel;
    return n;
}

struct node *tree_mkdirs(struct node *dir, const char *path)
{
    const char *p = path;

    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char name[256];

        if (len == 0 || len >= sizeof(name)) {
            p += len + (slash != NULL);
            continue;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        struct node *next = tree_child(dir, name);
        if (next == NULL)
            next = tree_add(dir, tree_new(name, NODE_DIR, 0755));
        dir = next;
        p += len + (slash != NULL);
    }
    return dir;
}

struct node *tree_attr(struct node *dir, const struct attr *a, void *obj)
{
    return tree_attr_named(dir, a->name, a, obj);
}

struct node *tree_attr_named(struct node *dir, const char *name, const struct attr *a, void *obj)
{
    struct node *n = tree_new(name, NODE_ATTR, a->mode);

    n->attr = a;
    n->obj = obj;
    return tree_add(dir, n);
}

struct node *tree_file(struct node *dir, const char *name, mode_t mode, const char *data,
                       size_t len)
{
    struct node *n = tree_new(name, NODE_FILE, mode);

    n->data = xmalloc(len + 1);
    memcpy(n->data, data, len);
    n->data[len] = '\0';
    n->size = len;
    return tree_add(dir, n);
}

struct node *tree_symlink(struct node *dir, const char *name, const char *target)
{
    struct node *n = tree_new(name, NODE_LINK, 0777);

    n->data = xstrdup(target);
    n->size = strlen(target);
    return tree_add(dir, n);
}

char *tree_path(const struct node *n)
{
    size_t len = 0;

    for (const struct node *p = n; p->parent; p = p->parent)
        len += strlen(p->name) + 1;
    char *s = xmalloc(len + 1);
    s[len] = '\0';
    for (const struct node *p = n; p->parent; p = p->parent) {
        size_t l = strlen(p->name);
        len -= l;
        memcpy(s + len, p->name, l);
        if (len > 0)
            s[--len] = '/';
    }
    /* The loop leaves a leading '/' in place of the root's empty name. */
    return s[0] == '/' ? memmove(s, s + 1, strlen(s)) : s;
}

struct node *tree_link_to(struct node *dir, const char *name, const char *target)
{
    char *from = tree_path(dir);
    const char *f = from, *t = target;
    struct buf b = {0};

    /* Skip the common leading components, then climb out of what is left of @from. */
    for (;;) {
        size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");
        if (fl == 0 || fl != tl || strncmp(f, t, fl) != 0 || t[tl] == '\0')
            break;
        f += fl + (f[fl] == '/');
        t += tl + (t[tl] == '/');
    }
    for (const char *p = f; *p;) {
        buf_puts(&b, "../");
        p += strcspn(p, "/");
        p += *p == '/';
    }
    buf_puts(&b, t);
    struct node *n = tree_symlink(dir, name, b.data);
    buf_free(&b);
    free(from);
    return n;
}

struct node *tree_lookup(struct node *root, const char *path)
{
    struct node *n = root;
    const char *p = path;

    while (*p == '/')
        p++;
    while (*p && n) {
        size_t len = strcspn(p, "/");
        char name[256];
        if (len >= sizeof(name))
            return NULL;
        memcpy(name, p, len);
        name[len] = '\0';
        if (strcmp(name, ".") != 0)
            n = strcmp(name, "..") == 0 ? (n->parent ? n->parent : n) : tree_child(n, name);
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

struct node *tree_resolve(struct node *root, const char *path)
{
    char *work = xstrdup(path);
    struct node *n = root;
    int hops = 0;

    for (char *p = work; n;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, "/");
        char saved = p[len];
        p[len] = '\0';
        struct node *next = strcmp(p, "..") == 0  ? (n->parent ? n->parent : n)
                            : strcmp(p, ".") == 0 ? n
                                                  : tree_child(n, p);
        p[len] = saved;
        p += len;
        if (next && next->type == NODE_LINK) {
            if (++hops > 40) {
                n = NULL;
                break;
            }
            /* Splice the target in front of the rest and go on from the link's directory. */
            char *rest = xasprintf("%s%s", next->data, p);
            free(work);
            work = rest;
            p = work;
            if (*p == '/')
                next = root;
            else
                next = n;
        }
        n = next;
    }
    free(work);
    return n;
}

struct node *tree_kfile(struct node *dir, const char *name, const char *fmt, ...)
{
    struct buf b = {0};
    struct node *n;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    n = tree_file(dir, name, 0444, b.data, b.len);
    n->kernel = true;
    buf_free(&b);
    return n;
}
