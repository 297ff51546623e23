/* shared.h - shared/: helpers that know nothing of PCI, devices or the context: sets of
 * pointers and strings, number parsing, reference counts, time (util.c), udev's hwdb.bin read
 * by exact key (hwdb.c), optional libraries opened on first need (dl.c); utf8.h is a
 * header-only UTF-8 check. Every other layer may use them. */
#ifndef HOSTDEV_SHARED_H
#define HOSTDEV_SHARED_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HD_EXPORT __attribute__((visibility("default")))
#define HD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A set of pointers by open addressing (util.c): NULL slots are free, cap a power of two. */
struct hd_ptrset {
    void **slots;
    size_t count, cap;
};

/* A set of strings (util.c), each stored once and never moved or freed before the set: what
 * many devices share (driver names, modaliases, vendor and product names) costs one copy. */
struct hd_strings {
    struct hd_chunk *chunks;
    struct hd_ptrset index;
};

/* ---- util.c ------------------------------------------------------------------------------- */

/* Room for one more entry (grows at three quarters full, rehashing with @hash_of). */
int hd_ptrset_reserve(struct hd_ptrset *set, size_t (*hash_of)(const void *entry));
/* The slot holding the entry @same as @key, or the free slot where it goes (then store the
 * entry there and count it). Call hd_ptrset_reserve() first. */
void **hd_ptrset_find(struct hd_ptrset *set, size_t hash,
                      bool (*same)(const void *entry, const void *key), const void *key);
/* The stored copy of @s (@len bytes, no NUL needed); NULL when out of memory. */
const char *hd_strings_add(struct hd_strings *set, const char *s, size_t len);
void hd_strings_free(struct hd_strings *set);

void hd_strv_free(char **v, size_t n);
/* Strict number parsing of a whole string (optional one trailing newline): -EINVAL otherwise. */
int hd_parse_uint(const char *s, int base, unsigned long long max, unsigned long long *out);
int hd_parse_int(const char *s, long long min, long long max, long long *out);
/* Parse "0x8086" or "8086" as hex up to @max. */
int hd_parse_hex(const char *s, unsigned long long max, unsigned long long *out);
/* The kernel's kstrtobool() (lib/kstrtox.c): 0 and *value, or -EINVAL (NULL included). */
int hd_kstrtobool(const char *s, bool *value);
/* Split @line in place at blanks (spaces, tabs) into at most @max fields; how many. */
size_t hd_split_fields(char *line, char **f, size_t max);
/* @v in hex, at least @width digits, at @p (not terminated); returns the end. printf's
 * "%0*llx" at a tenth of the cost, for what a listing formats per device. */
char *hd_put_hex(char *p, unsigned long long v, int width, bool upper);
char *hd_strdup_or_null(const char *s);
/* Copy with truncation; always NUL-terminates. */
void hd_strlcpy(char *dst, const char *src, size_t size);
/* A slip of the keyboard: which of some names @typed (@n bytes) most likely meant, by the
 * optimal string alignment distance (an edit each: a letter added, dropped or changed, two
 * swapped). @prefix: to a name's nearest prefix too (a misspelled abbreviation is near its
 * word). Allowed: no edit in 2 letters, 1 in up to 5, else 2. Two names as near: none (a guess
 * between them would mislead). Feed each name to hd_slip_consider(); @meant is the answer,
 * pointing at the name fed. */
struct hd_slip {
    const char *typed;
    size_t n, best;
    bool prefix, tie;
    const char *meant;
};
void hd_slip_init(struct hd_slip *s, const char *typed, size_t n, bool prefix);
void hd_slip_consider(struct hd_slip *s, const char *name);
/* The name meant, or NULL: none near enough, or a tie. */
const char *hd_slip_meant(const struct hd_slip *s);
/* Room for element @n of an array of *@cap elements of @size bytes: @v itself while there is,
 * else @v grown to twice (at first @first) with *@cap updated. NULL: out of memory, @v kept. */
void *hd_array_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);
/* Reference counts of public objects, atomic (hostdev.h: a reference may be dropped in another
 * thread): one at creation; hd_ref_drop() says whether the last one went. */
void hd_ref_init(atomic_int *count);
void hd_ref_take(atomic_int *count);
bool hd_ref_drop(atomic_int *count);
/* A public list object of plain elements: struct TYPE { atomic_int refcount; ELEM *v; size_t n,
 * cap; }. Its _ref, _unref and _count, and a getter of one string field of element i. */
#define HD_PLAIN_LIST_REFS(type, prefix)                                                       \
    HD_EXPORT struct type *prefix##_ref(struct type *l)                                        \
    {                                                                                          \
        if (l != NULL)                                                                         \
            hd_ref_take(&l->refcount);                                                         \
        return l;                                                                              \
    }                                                                                          \
    HD_EXPORT struct type *prefix##_unref(struct type *l)                                      \
    {                                                                                          \
        if (l == NULL || !hd_ref_drop(&l->refcount))                                           \
            return NULL;                                                                       \
        free(l->v);                                                                            \
        free(l);                                                                               \
        return NULL;                                                                           \
    }                                                                                          \
    HD_EXPORT size_t prefix##_count(const struct type *l)                                      \
    {                                                                                          \
        return l ? l->n : 0;                                                                   \
    }
#define HD_LIST_STRING_FIELD(type, fn, field)                                                  \
    HD_EXPORT const char *fn(const struct type *l, size_t i)                                   \
    {                                                                                          \
        return l != NULL && i < l->n ? l->v[i].field : NULL;                                   \
    }
uint64_t hd_now_ms(void);
void hd_sleep_ms(unsigned int ms);
/* Call @done until it returns > 0 (then 0) or < 0 (that error), at most @timeout_ms: sleeps of
 * 1, 2, 4 ... 64 ms in between. -ETIMEDOUT when time runs out. */
int hd_poll(unsigned int timeout_ms, int (*done)(void *data), void *data);

/* ---- hwdb.c ------------------------------------------------------------------------------- */

struct hd_hwdb_file;
/* A hwdb.bin read from @fd (of @size bytes; the file takes the fd, closed with it): 0; -ENOENT
 * not a hwdb at all; -EPROTO a hwdb of a layout we do not know (libudev may read it); -ENOMEM. */
int hd_hwdb_file_open(int fd, uint64_t size, struct hd_hwdb_file **out);
void hd_hwdb_file_close(struct hd_hwdb_file *f);
/* The value of @property ("ID_VENDOR_FROM_DATABASE") under the exact key @key
 * ("pci:v00008086*"); NULL when absent or malformed. Valid until the next call on @f. */
const char *hd_hwdb_file_get(struct hd_hwdb_file *f, const char *key, const char *property);

/* ---- dl.c: optional shared libraries (libkmod, libudev, libxml2) opened on first need ------ */
/*
 * Linking them made every run of hostdev pay for loading them and what they pull in (libxml2
 * brings ICU and libstdc++, libkmod brings libcrypto): 3 ms before main() on a machine where
 * listing 100 devices takes 1. Opened with dlopen() when a command needs one, a missing library
 * costs that command's feature, with the reason, and nothing else.
 */
/* A function the library must export, and where in the caller's table its address goes. */
struct hd_dl_sym {
    const char *name;
    size_t offset;
};

/* An entry for the function @sym stored in the member @field of the table @type. */
/* clang-format off */
#define HD_DL_SYM(type, field, sym) {.name = #sym, .offset = offsetof(type, field)}
/* clang-format on */

/* Open @soname and fill @table from @syms. Returns the handle for hd_dl_close(), or NULL with
 * a one-line reason in @why (the library or a function missing). */
void *hd_dl_open(const char *soname, const struct hd_dl_sym *syms, size_t n, void *table, char *why,
                 size_t whysize);
void hd_dl_close(void *handle);

/* ---- rtnl.c: the running system's addresses and routes (rtnetlink, read-only) ------------ */

enum hd_rtnl_kind { HD_RTNL_ADDR, HD_RTNL_ROUTE };
/* One address of an interface, or one route through it (a multipath route, or one naming a
 * nexthop group, is one fact per interface it goes through). */
struct hd_rtnl_fact {
    enum hd_rtnl_kind kind;
    int family;             /* AF_INET, AF_INET6 */
    int ifindex;
    char ifname[16];        /* IF_NAMESIZE */
    unsigned char addr[16]; /* ADDR: the address; ROUTE: the destination */
    unsigned int addr_len;  /* bytes in addr: 4, 16; 0 for a default route */
    unsigned int prefix;    /* the prefix length */
    uint32_t table;         /* ROUTE: its table (254 main, 255 local) */
    unsigned char type;     /* ROUTE: RTN_UNICAST, RTN_LOCAL, ... */
    unsigned char scope;    /* RT_SCOPE_* (ADDR: RT_SCOPE_LINK for link-local) */
};
/* Each fact to @fn; a non-zero return of @fn stops the walk and is returned. 0, or -errno when
 * rtnetlink cannot be asked. */
typedef int (*hd_rtnl_fn)(void *data, const struct hd_rtnl_fact *fact);
int hd_rtnl_walk(hd_rtnl_fn fn, void *data);

#endif
