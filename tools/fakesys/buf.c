/* buf.c - generic helpers: growable buffers, sorted arrays, whole-file reads, errno names. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakesys.h"

/* The fake kernel is a test tool: running out of memory is not a state worth modelling. */
static void *oom(void *p)
{
    if (p == NULL) {
        fputs("hostdev-fakesys: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xmalloc(size_t n)
{
    return oom(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
    return oom(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
    return oom(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
    return oom(strdup(s));
}

char *xasprintf(const char *fmt, ...)
{
    struct buf b = {0};
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return buf_steal(&b);
}

static void buf_grow(struct buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
    buf_grow(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;

    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    buf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_quote(struct buf *b, const char *s, size_t len)
{
    buf_puts(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c == '\n')
            buf_puts(b, "\\n");
        else if (c == '\t')
            buf_puts(b, "\\t");
        else if (c < 0x20 || c >= 0x7f)
            buf_printf(b, "\\x%02x", c);
        else
            buf_add(b, &s[i], 1);
    }
    buf_puts(b, "\"");
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

char *buf_steal(struct buf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    *b = (struct buf){0};
    return s;
}

int read_file(const char *path, char **data, size_t *len)
{
    struct buf b = {0};
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            int e = errno;
            close(fd);
            buf_free(&b);
            return -e;
        }
        if (n == 0)
            break;
        buf_add(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len)
        *len = b.len;
    *data = buf_steal(&b);
    return 0;
}

size_t sorted_index(void *const *items, size_t n, const void *key,
                    int (*cmp)(const void *item, const void *key), bool *found)
{
    size_t lo = 0, hi = n;

    *found = false;
    /* Builders add in order: try the end first. */
    if (n > 0) {
        int c = cmp(items[n - 1], key);
        if (c <= 0) {
            *found = c == 0;
            return c == 0 ? n - 1 : n;
        }
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp(items[mid], key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *errno_name(int err)
{
    static __thread char unknown[16];
    const char *n = err > 0 ? strerrorname_np(err) : NULL;

    if (n)
        return n;
    snprintf(unknown, sizeof(unknown), "E%d", err);
    return unknown;
}

int errno_parse(const char *s)
{
    char *end;

    if (s == NULL || *s == '\0')
        return -1;
    if (s[0] == 'E') {
        for (int e = 1; e < 200; e++) {
            const char *n = strerrorname_np(e);
            if (n && strcmp(n, s) == 0)
                return e;
        }
        return -1;
    }
    long v = strtol(s, &end, 10);
    if (*end != '\0')
        return -1;
    if (v < 0)
        v = -v;
    return v > 0 && v < 4096 ? (int)v : -1;
}
