/* kstr.c - how the kernel reads values written to attributes (kstrtoul, kstrtoint; kstrtobool is
 * shared/'s hd_kstrtobool). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

/* After the number: nothing, or one newline. */
static bool tail_ok(const char *end)
{
    return *end == '\0' || strcmp(end, "\n") == 0;
}

int kstrtoul(const char *s, unsigned long *v)
{
    char *end;

    if (s[0] == '\0' || s[0] == '-' || s[0] == ' ' || s[0] == '+')
        return -EINVAL;
    errno = 0;
    *v = strtoul(s, &end, 0);
    if (end == s || !tail_ok(end))
        return -EINVAL;
    return errno == ERANGE ? -ERANGE : 0;
}

int kstrtoint(const char *s, int *v)
{
    char *end;

    if (s[0] == '\0' || s[0] == ' ')
        return -EINVAL;
    errno = 0;
    long l = strtol(s, &end, 0);
    if (end == s || !tail_ok(end))
        return -EINVAL;
    if (errno == ERANGE || l < -2147483647L - 1 || l > 2147483647L)
        return -ERANGE;
    *v = (int)l;
    return 0;
}

/* Attributes that show one field of their object, at attr->off. */
void show_hex16(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    buf_printf(out, "0x%04x\n", *(const uint16_t *)((const char *)obj + a->off));
}

void show_int(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    buf_printf(out, "%d\n", *(const int *)((const char *)obj + a->off));
}

void show_const(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    (void)obj;
    buf_printf(out, "%zu\n", a->off);
}
