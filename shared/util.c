/* util.c - small helpers that know nothing about PCI: strings, numbers, time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared.h"

/* Strings live in chunks freed only with the set, so whoever got one may keep it as long. */
struct hd_chunk {
    struct hd_chunk *next;
    size_t used, size;
    char data[];
};

static size_t str_hash(const char *s, size_t len)
{
    size_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

void **hd_ptrset_find(struct hd_ptrset *set, size_t hash,
                      bool (*same)(const void *entry, const void *key), const void *key)
{
    size_t i = hash & (set->cap - 1);

    while (set->slots[i] != NULL && !same(set->slots[i], key))
        i = (i + 1) & (set->cap - 1);
    return &set->slots[i];
}

int hd_ptrset_reserve(struct hd_ptrset *set, size_t (*hash_of)(const void *entry))
{
    void **old = set->slots;
    size_t oldcap = set->cap;

    if ((set->count + 1) * 4 <= set->cap * 3)
        return 0;
    set->cap = oldcap ? oldcap * 2 : 64;
    set->slots = calloc(set->cap, sizeof(*set->slots));
    if (set->slots == NULL) {
        set->slots = old;
        set->cap = oldcap;
        return -ENOMEM;
    }
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i] != NULL) {
            size_t j = hash_of(old[i]) & (set->cap - 1);
            while (set->slots[j] != NULL)
                j = (j + 1) & (set->cap - 1);
            set->slots[j] = old[i];
        }
    }
    free(old);
    return 0;
}

struct str_key {
    const char *s;
    size_t len;
};

static bool str_same(const void *entry, const void *key)
{
    const struct str_key *k = key;
    return strncmp(entry, k->s, k->len) == 0 && ((const char *)entry)[k->len] == '\0';
}

static size_t str_hash_of(const void *entry)
{
    return str_hash(entry, strlen(entry));
}

const char *hd_strings_add(struct hd_strings *set, const char *s, size_t len)
{
    struct str_key key = {s, len};
    struct hd_chunk *c = set->chunks;
    void **slot;
    char *copy;

    if (hd_ptrset_reserve(&set->index, str_hash_of) < 0)
        return NULL;
    slot = hd_ptrset_find(&set->index, str_hash(s, len), str_same, &key);
    if (*slot != NULL)
        return *slot;
    if (c == NULL || c->size - c->used < len + 1) {
        size_t size = len + 1 > 4000 ? len + 1 : 4000;
        if ((c = malloc(sizeof(*c) + size)) == NULL)
            return NULL;
        c->next = set->chunks;
        c->used = 0;
        c->size = size;
        set->chunks = c;
    }
    copy = c->data + c->used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    c->used += len + 1;
    set->index.count++;
    return *slot = copy;
}

void hd_strings_free(struct hd_strings *set)
{
    while (set->chunks != NULL) {
        struct hd_chunk *next = set->chunks->next;
        free(set->chunks);
        set->chunks = next;
    }
    free(set->index.slots);
    set->index = (struct hd_ptrset){0};
}

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

size_t hd_split_fields(char *line, char **f, size_t max)
{
    char *save = NULL;
    size_t n = 0;

    for (char *t = strtok_r(line, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
        f[n++] = t;
    return n;
}

/* lib/kstrtox.c kstrtobool(): only the first one or two characters count. */
int hd_kstrtobool(const char *s, bool *value)
{
    if (s == NULL)
        return -EINVAL;
    switch (s[0]) {
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
        *value = true;
        return 0;
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
        *value = false;
        return 0;
    case 'o':
    case 'O':
        if (s[1] == 'n' || s[1] == 'N') {
            *value = true;
            return 0;
        }
        if (s[1] == 'f' || s[1] == 'F') {
            *value = false;
            return 0;
        }
        return -EINVAL;
    default:
        return -EINVAL;
    }
}

char *hd_put_hex(char *p, unsigned long long v, int width, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[16];
    int n = 0;

    do {
        tmp[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v != 0);
    while (n < width && n < (int)sizeof(tmp))
        tmp[n++] = '0';
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

void *hd_array_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
    size_t c = *cap ? *cap * 2 : first;

    if (n < *cap)
        return v;
    if (c <= *cap || c > SIZE_MAX / size || (v = realloc(v, c * size)) == NULL)
        return NULL;
    *cap = c;
    return v;
}

void hd_ref_init(atomic_int *count)
{
    atomic_store_explicit(count, 1, memory_order_relaxed);
}

void hd_ref_take(atomic_int *count)
{
    atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
}

bool hd_ref_drop(atomic_int *count)
{
    return atomic_fetch_sub_explicit(count, 1, memory_order_acq_rel) <= 1;
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

/* The distance from @typed to @name (to its nearest prefix when @prefix is set and that is
 * nearer); SIZE_MAX when either is too long to weigh. */
static size_t slip_distance(const char *typed, size_t n, const char *name, bool prefix)
{
    size_t m = strlen(name), d[64][64], best;

    if (n >= 64 || m >= 64)
        return SIZE_MAX;
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = typed[i - 1] != name[j - 1];
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && typed[i - 1] == name[j - 2] && typed[i - 2] == name[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1; /* two letters swapped */
            d[i][j] = v;
        }
    }
    best = d[n][m];
    for (size_t j = 0; prefix && j < m; j++)
        if (d[n][j] < best)
            best = d[n][j];
    return best;
}

void hd_slip_init(struct hd_slip *s, const char *typed, size_t n, bool prefix)
{
    *s = (struct hd_slip){.typed = typed, .n = n, .best = SIZE_MAX, .prefix = prefix};
}

void hd_slip_consider(struct hd_slip *s, const char *name)
{
    size_t allowed = s->n <= 2 ? 0 : s->n <= 5 ? 1 : 2;
    size_t d = slip_distance(s->typed, s->n, name, s->prefix);

    if (d > allowed || d > s->best)
        return;
    s->tie = d == s->best && s->meant != NULL && strcmp(s->meant, name) != 0;
    s->best = d;
    s->meant = name;
}

const char *hd_slip_meant(const struct hd_slip *s)
{
    return s->tie ? NULL : s->meant;
}
