/* util.c - small helpers that know nothing about PCI: strings, numbers, time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void hd_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int hd_parse_uint(const char *s, int base, unsigned long long max, unsigned long long *out)
{
    unsigned long long v;
    char *end;

    /* strtoull accepts leading blanks and a sign; attributes never have them. */
    if (s == NULL || !isxdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, base);
    if (errno != 0 || end == s)
        return -EINVAL;
    if (*end == '\n')
        end++;
    if (*end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int hd_parse_int(const char *s, long long min, long long max, long long *out)
{
    unsigned long long v;
    bool neg = false;
    int r;

    if (s != NULL && s[0] == '-') {
        if (min >= 0)
            return -EINVAL;
        neg = true;
        s++;
    }
    r = hd_parse_uint(s, 10, neg ? (unsigned long long)(-(min + 1)) + 1 : (unsigned long long)max,
                      &v);
    if (r < 0 || (s[0] == '0' && s[1] != '\0' && s[1] != '\n'))
        return -EINVAL; /* no octal-looking leading zeros */
    if (neg) {
        if (v == 0)
            return -EINVAL;
        *out = -(long long)(v - 1) - 1;
    } else {
        *out = (long long)v;
    }
    return 0;
}

int hd_parse_hex(const char *s, unsigned long long max, unsigned long long *out)
{
    if (s != NULL && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    return hd_parse_uint(s, 16, max, out);
}

char *hd_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void hd_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size == 0)
        return;
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

uint64_t hd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void hd_sleep_ms(unsigned int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int hd_poll(unsigned int timeout_ms, int (*done)(void *data), void *data)
{
    uint64_t deadline = hd_now_ms() + timeout_ms;
    unsigned int delay = 1;

    for (;;) {
        int r = done(data);
        if (r != 0)
            return r < 0 ? r : 0;
        if (hd_now_ms() >= deadline)
            return -ETIMEDOUT;
        hd_sleep_ms(delay);
        if (delay < 64)
            delay *= 2;
    }
}
