/* test-names.c - vendor and product names: hwdb.bin read by shared/hwdb.c against libudev on the
 * host's own database, a hwdb compiled by systemd-hwdb (tests/fuzz/hwdb-tiny.hwdb), broken
 * ones, and which source a context picks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#include "adapters-tree.h"
#include "hdtest.h"

static const char *host_hwdb(void)
{
    static const char *const files[] = {"/etc/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin",
                                        "/lib/udev/hwdb.bin"};

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (access(files[i], R_OK) == 0)
            return files[i];
    }
    return NULL;
}

/* Four hex digits and a blank at @s, as pci.ids starts its vendor and device lines. */
static bool hex_id(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (!isxdigit((unsigned char)s[0]))
        return false;
    v = strtoul(s, &end, 16);
    if (end != s + 4 || *end != ' ')
        return false;
    *out = (unsigned)v;
    return true;
}

#ifndef HOSTDEV_NO_UDEV
static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}
#endif

/* Every 25th device of the host's pci.ids and every vendor's first: the names hwdb.c reads from
 * the host's hwdb.bin are the names libudev's own search gives. The libc-only build has no
 * libudev to ask (udev-none.c): there hwdb.c alone must still find the names. */
HD_TEST_FILE(.timeout = 60);

HD_TEST(hwdb_agrees_with_libudev)
{
    const char *bin = host_hwdb();
    struct hd_hwdb *udev;
    struct hd_ctx *ctx;
    char line[512];
    unsigned vendor = 0, device, n = 0, compared = 0;
    FILE *ids;

    ck_assert_msg(bin != NULL,
                  "no hwdb.bin on this machine: build-aux/deps.sh check installs udev");
    udev = hd_hwdb_open();
#ifdef HOSTDEV_NO_UDEV
    ck_assert_ptr_null(udev);
#else
    ck_assert_msg(udev != NULL, "libudev.so.1 cannot be opened");
#endif
    ids = fopen("/usr/share/misc/pci.ids", "r");
    if (ids == NULL)
        ids = fopen("/usr/share/hwdata/pci.ids", "r");
    ck_assert_msg(ids != NULL, "no pci.ids: build-aux/deps.sh installs hwdata");
    ck_assert_int_eq(hd_ctx_new("/", &ctx), 0);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, bin), 0);
    while (fgets(line, sizeof(line), ids) != NULL) {
        bool is_vendor = hex_id(line, &vendor);
        bool is_device = !is_vendor && line[0] == '\t' && hex_id(line + 1, &device);
        char *uv, *up;
        const char *v, *p;
        if (line[0] == 'C' && line[1] == ' ')
            break; /* the class list */
        if (is_vendor)
            device = 0xffff, n = 0;
        else if (!is_device || ++n % 25 != 1)
            continue;
        ck_assert_int_eq(hd_names_lookup(ctx, (uint16_t)vendor, (uint16_t)device, &v, &p), 0);
#ifdef HOSTDEV_NO_UDEV
        uv = up = NULL;
        compared += v != NULL || p != NULL; /* hwdb.c's own answers, no libudev to compare */
#else
        if (hd_hwdb_lookup(udev, (uint16_t)vendor, (uint16_t)device, &uv, &up) < 0)
            uv = up = NULL;
        ck_assert_msg(same(v, uv) && same(p, up),
                      "%04x:%04x: hwdb.c says '%s' '%s', libudev '%s' '%s'", vendor, device,
                      v ? v : "(none)", p ? p : "(none)", uv ? uv : "(none)", up ? up : "(none)");
        compared += uv != NULL || up != NULL;
#endif
        free(uv);
        free(up);
    }
    fclose(ids);
    ck_assert_uint_gt(compared, 1000);
    hd_ctx_unref(ctx);
    hd_hwdb_close(udev);
}
END_TEST

static char *tiny_hwdb(void)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/tests/fuzz/hwdb/tiny.bin", at_src_dir());
    return path;
}

/* A hwdb compiled by systemd-hwdb from tests/fuzz/hwdb-tiny.hwdb: the exact keys, not the
 * subsystem entry, not the class pattern. */
HD_TEST(hwdb_tiny)
{
    const char *v, *p;
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new("/", &ctx), 0);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, tiny_hwdb()), 0);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d3, &v, &p), 0);
    ck_assert_str_eq(v, "Test Vendor");
    ck_assert_str_eq(p, "Test NIC 82574L");
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d4, &v, &p), 0);
    ck_assert_str_eq(v, "Test Vendor");
    ck_assert_ptr_null(p);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x10de, 0x10d3, &v, &p), 0);
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(p);
    hd_ctx_unref(ctx);
}
END_TEST

static void write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *read_tiny(size_t *len)
{
    FILE *f = fopen(tiny_hwdb(), "rb");
    char *data = malloc(65536);

    ck_assert_ptr_nonnull(f);
    *len = fread(data, 1, 65536, f);
    fclose(f);
    ck_assert_uint_gt(*len, 80);
    return data;
}

/* @data as a hwdb.bin file, read as hwdb.c reads one (through a descriptor). */
static int hwdb_open_bytes(const char *data, size_t len, struct hd_hwdb_file **f)
{
    int fd = memfd_create("hwdb", MFD_CLOEXEC), r;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    if ((r = hd_hwdb_file_open(fd, len, f)) < 0)
        close(fd);
    return r;
}

/* Every truncation and every single-byte change of the tiny hwdb: no crash, no read outside it
 * (the ASan run), and an answer that is either right or none. */
HD_TEST(hwdb_broken)
{
    size_t len;
    char *good = read_tiny(&len), *bad = malloc(len);

    struct hd_hwdb_file *f;

    for (size_t cut = 0; cut < len; cut++) {
        char *exact = malloc(cut ? cut : 1);
        memcpy(exact, good, cut);
        if (hwdb_open_bytes(exact, cut, &f) == 0) {
            const char *v = hd_hwdb_file_get(f, "pci:v00008086*", "ID_VENDOR_FROM_DATABASE");
            ck_assert(v == NULL || strcmp(v, "Test Vendor") == 0);
            hd_hwdb_file_close(f);
        }
        free(exact);
    }
    for (size_t i = 0; i < len; i++) {
        const char *v;
        memcpy(bad, good, len);
        bad[i] ^= (char)0xa5;
        if (hwdb_open_bytes(bad, len, &f) != 0)
            continue;
        v = hd_hwdb_file_get(f, "pci:v00008086d000010D3*", "ID_MODEL_FROM_DATABASE");
        if (v != NULL) /* a string of the file: no longer than any string it can hold */
            ck_assert_uint_lt(strlen(v), len);
        hd_hwdb_file_close(f);
    }
    /* A layout of other record sizes is refused, and said to be a hwdb. */
    memcpy(bad, good, len);
    bad[32] = 40; /* node_size */
    ck_assert_int_eq(hwdb_open_bytes(bad, len, &f), -EPROTO);
    ck_assert_int_eq(hwdb_open_bytes("0000  Vendor\n", 13, &f), -ENOENT);
    ck_assert_int_eq(hwdb_open_bytes(good, len, &f), 0);
    hd_hwdb_file_close(f);
    free(bad);
    free(good);
}
END_TEST

/* Which source a context takes: the root's hwdb.bin before the host's; a names file that is a
 * hwdb.bin of a layout hwdb.c cannot read gives no names and one warning, not garbage. */
HD_TEST(hwdb_sources)
{
    char dir[] = "/tmp/hd-names-XXXXXX", path[600], cmd[700];
    const char *v, *p;
    struct hd_ctx *ctx;
    size_t len;
    char *data = read_tiny(&len);

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/etc", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/etc/udev", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/etc/udev/hwdb.bin", dir);
    write_bytes(path, data, len);
    ck_assert_int_eq(hd_ctx_new(dir, &ctx), 0);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d3, &v, &p), 0);
    ck_assert_str_eq(p, "Test NIC 82574L");
    data[32] = 40;
    snprintf(path, sizeof(path), "%s/other.bin", dir);
    write_bytes(path, data, len);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, path), 0);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d3, &v, &p), 0);
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(p);
    hd_ctx_unref(ctx);
    free(data);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST
