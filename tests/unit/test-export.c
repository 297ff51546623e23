/* test-export.c - `hostdev export` on fake kernels: golden output for every format, each
 * validated by its consumer's own rules (tests/fleet/validate: KubeVirt's CRD schema, NFD's
 * feature-file and label rules, Nova's parsers, sriovdp's types, promtool), the file written
 * atomically, and bad input refused with nothing written. HOSTDEV_UPDATE_GOLDEN=1 rewrites the
 * golden files from what the command prints. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "engine.h"
#include "hdtest.h"

/* The time the golden files carry (2026-01-01T00:00:00Z). */
#define NOW "1767225600"

static struct eng e;

/* Run hostdev on the mounted fake with @args and the golden names file; its exit status. */
static int hd(const char *args)
{
    char cmd[2048];

    free(e.out);
    free(e.err);
    snprintf(cmd, sizeof(cmd),
             "SOURCE_DATE_EPOCH=" NOW " HOSTDEV_NAMES=%s/tests/golden/export/pci.ids "
             "%s/hostdev --root %s %s",
             at_src_dir(), at_build_dir(), e.fx.root, args);
    return at_run(cmd, &e.out, &e.err);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *data = NULL;
    size_t len = 0;

    if (f == NULL)
        return NULL;
    FILE *mem = open_memstream(&data, &len);
    ck_assert_ptr_nonnull(mem);
    for (int c; (c = fgetc(f)) != EOF;)
        fputc(c, mem);
    fclose(mem);
    fclose(f);
    return data;
}

/* How many names @dir holds: a temporary file left behind shows here. */
static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void one_line_error(const char *needle)
{
    char *nl = strchr(e.err, '\n');
    ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: '%s'", e.err);
    ck_assert_msg(strstr(e.err, needle) != NULL, "'%s' not in '%s'", needle, e.err);
}

/* The consumer's verdict on @path (tests/fleet/validate FORMAT PATH). */
static void consumer_accepts(const char *format, const char *path)
{
    char cmd[1024], *o = NULL, *x = NULL;
    int rc;

    snprintf(cmd, sizeof(cmd), "%s/tests/fleet/validate %s %s%s", at_src_dir(), format, path,
             strcmp(format, "nfd") == 0 ? " --now " NOW : "");
    rc = at_run(cmd, &o, &x);
    ck_assert_msg(rc == 0, "%s rejects %s (exit %d): %s", format, path, rc, x);
    free(o);
    free(x);
}

/* stdout of `export ARGS` equals tests/golden/export/@golden, and so does -o FILE, twice;
 * stderr is @warned each time. */
static void golden_warned(const char *args, const char *golden_name, const char *format,
                          const char *warned)
{
    char cmd[1024], path[512], dir[] = "/tmp/hostdev-export-XXXXXX";
    char *want, *got;
    struct stat st;

    snprintf(path, sizeof(path), "%s/tests/golden/export/%s", at_src_dir(), golden_name);
    snprintf(cmd, sizeof(cmd), "export %s", args);
    ck_assert_msg(hd(cmd) == 0, "export %s: %s", args, e.err);
    ck_assert_str_eq(e.err, warned);
    if (getenv("HOSTDEV_UPDATE_GOLDEN") != NULL) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(e.out, f);
        fclose(f);
    }
    want = slurp(path);
    ck_assert_msg(want != NULL, "no golden file %s", path);
    ck_assert_msg(strcmp(e.out, want) == 0, "%s differs from what export %s prints:\n%s", path,
                  args, e.out);
    consumer_accepts(format, path);

    /* -o: the same bytes, replacing what was there, nothing else left in the directory. */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/out", dir);
    at_file(dir, "out", "old\n");
    for (int round = 0; round < 2; round++) {
        snprintf(cmd, sizeof(cmd), "export %s -o %s", args, path);
        ck_assert_int_eq(hd(cmd), 0);
        ck_assert_str_eq(e.out, "");
        ck_assert_str_eq(e.err, warned);
        got = slurp(path);
        ck_assert_str_eq(got, want);
        free(got);
    }
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0644);
    ck_assert_uint_eq(entries(dir), 1);
    unlink(path);
    rmdir(dir);
    free(want);
}

static void golden(const char *args, const char *golden_name, const char *format)
{
    golden_warned(args, golden_name, format, "");
}

static void setup(void)
{
    eng_start(&e, "fleet");
}

static void teardown(void)
{
    eng_stop(&e);
}

HD_TEST_FILE(.setup = setup, .teardown = teardown, .timeout = 180);

HD_TEST(golden_output_every_format_valid_for_its_consumer)
{
    /* A VM holds the NIC: prometheus says so; nobody else cares. */
    size_t writes;

    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 --unmanaged 0000:03:00.0"), 0);
    writes = eng_writes(&e);
    golden("--format kubevirt", "fleet.kubevirt", "kubevirt");
    golden("--format nfd", "fleet.nfd", "nfd");
    golden("--format nova", "fleet.nova", "nova");
    golden("--format nova --nova-release yoga --physical-network physnet0", "fleet-yoga.nova",
           "nova");
    golden("--format sriovdp", "fleet.sriovdp", "sriovdp");
    golden("--format prometheus", "fleet.prometheus", "prometheus");
    ck_assert_uint_eq(eng_writes(&e), writes); /* export writes nothing to the kernel */
}
END_TEST

HD_TEST(what_is_advertised)
{
    size_t writes = eng_writes(&e);

    ck_assert_int_eq(hd("export --format kubevirt"), 0);
    /* Two GPUs with the same ids: one selector. Their audio functions are companions: named
     * in a comment, never resources. The NIC whose group keeps e1000e is not exported, nor
     * VFs on a host driver or none. */
    ck_assert_ptr_nonnull(strstr(e.out, "\"10DE:1B81\""));
    ck_assert_ptr_null(strstr(strstr(e.out, "\"10DE:1B81\"") + 1, "\"10DE:1B81\""));
    ck_assert_ptr_null(strstr(e.out, "10F0\""));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:01:00.1 (10de:10f0) goes with 0000:01:00.0"));
    ck_assert_ptr_nonnull(strstr(e.out, "HostDevices feature gate"));
    ck_assert_ptr_null(strstr(e.out, "15B8"));
    ck_assert_ptr_nonnull(strstr(e.out, "resourceName: \"nvidia.com/GP104_GEFORCE_GTX_1070\""));
    /* The prefix names the others; without names NVIDIA's rule has nothing to go by. */
    ck_assert_int_eq(hd("export --format kubevirt --resource-prefix devices.example.com"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"devices.example.com/8086_10d3\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"nvidia.com/GP104_GEFORCE_GTX_1070\""));
    ck_assert_int_eq(hd("--names none export --format kubevirt"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"hostdev.io/10de_1b81\""));
    /* The accelerator's PF is on vfio-pci: vfio-pci opens its VFs only with the PF's VF token,
     * which libvirt never passes, so KubeVirt and Nova are not offered them (named in a
     * comment). sriovdp's DPDK pods, which have the token, still get them. */
    ck_assert_ptr_null(strstr(e.out, "0D5D"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:82:01.0 (8086:0d5d) of 0000:82:00.0\n"));
    /* Nor is the PF offered while its VFs are enabled: a VM given it would own the device its
     * VFs run on. No format offers it; each says why. */
    ck_assert_ptr_null(strstr(e.out, "0D5C"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:82:00.0 (8086:0d5c) with 2 VFs\n"));
    ck_assert_int_eq(hd("export --format nova"), 0);
    ck_assert_ptr_null(strstr(e.out, "\"0d5d\""));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:82:01.1 (8086:0d5d) of 0000:82:00.0\n"));
    ck_assert_ptr_null(strstr(e.out, "\"address\": \"0000:82:00.0\""));
    ck_assert_ptr_null(strstr(e.out, "\"0d5c\""));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:82:00.0 (8086:0d5c) with 2 VFs\n"));
    ck_assert_int_eq(hd("export --format nfd"), 0);
    ck_assert_ptr_null(strstr(e.out, "vfio-8086_0d5c"));
    ck_assert_ptr_nonnull(strstr(e.out, "/vfio-8086_0d5d=2\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:82:00.0 (8086:0d5c) with 2 VFs\n"));
    ck_assert_int_eq(hd("export --format sriovdp"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"0000:82:01.0\""));
    /* With its VFs disabled the PF is offered again, to every format. */
    ck_assert_uint_eq(eng_writes(&e), writes);
    eng_put(&e, "sys/module/vfio_pci/parameters/enable_sriov", "Y");
    ck_assert_int_eq(hd("sriov 0000:82:00.0 0"), 0);
    ck_assert_int_eq(hd("export --format kubevirt"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"8086:0D5C\""));
    ck_assert_ptr_null(strstr(e.out, "VFs are enabled"));
    ck_assert_int_eq(hd("export --format nova"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"address\": \"0000:82:00.0\""));
    ck_assert_int_eq(hd("export --format nfd"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "/vfio-8086_0d5c=1\n"));
    writes = eng_writes(&e); /* sriov's, not export's */
    /* Nova: the VF's physical network only on VFs. */
    ck_assert_int_eq(hd("export --format nova --physical-network physnet0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"0000:81:10.0\", \"physical_network\": \"physnet0\"}"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"0000:03:00.0\"}"));
    /* nfd: an absolute expiry as given. */
    ck_assert_int_eq(hd("export --format nfd --expiry 2027-06-01T12:00:00Z"), 0);
    ck_assert_ptr_eq(strstr(e.out, "# +expiry-time=2027-06-01T12:00:00Z\n"), e.out);
    ck_assert_int_eq(hd("export --format nfd --expiry 2d"), 0);
    ck_assert_ptr_eq(strstr(e.out, "# +expiry-time=2026-01-03T00:00:00Z\n"), e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
}
END_TEST

HD_TEST(no_iommu_exports_nothing)
{
    char dir[] = "/tmp/hostdev-export-XXXXXX", path[512];
    static const char *const formats[] = {"kubevirt", "nfd", "nova", "sriovdp", "prometheus"};

    eng_stop(&e);
    eng_start(&e, "no-iommu");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char args[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, formats[i]);
        snprintf(args, sizeof(args), "export --format %s -o %s", formats[i], path);
        ck_assert_int_eq(hd(args), 0);
        consumer_accepts(formats[i], path);
        char *doc = slurp(path);
        if (strcmp(formats[i], "kubevirt") == 0)
            ck_assert_ptr_nonnull(strstr(doc, "pciHostDevices: []\n"));
        if (strcmp(formats[i], "nfd") == 0)
            ck_assert_ptr_nonnull(strstr(doc, "/iommu-usable=false\n"));
        if (strcmp(formats[i], "prometheus") == 0)
            ck_assert_ptr_nonnull(strstr(doc, "\nhostdev_iommu_usable 0\n"));
        if (strcmp(formats[i], "sriovdp") == 0)
            ck_assert_ptr_nonnull(strstr(doc, "\"resourceList\": []"));
        free(doc);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

HD_TEST(bad_input_exits_2_and_writes_nothing)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"export", "--format is required"},
        {"export --format yaml", "--format 'yaml'"},
        {"export --format nova --nova-release 19", "--nova-release '19'"},
        {"export --format nova --nova-release zedd", "--nova-release 'zedd'"},
        {"export --format nfd --expiry soon", "--expiry 'soon'"},
        {"export --format nfd --expiry 0", "--expiry '0'"},
        {"export --format nfd --expiry 2026-13-01T00:00:00Z", "--expiry '2026-13-01T00:00:00Z'"},
        {"export --format nfd --expiry 2030-02-30T00:00:00Z", "--expiry '2030-02-30T00:00:00Z'"},
        {"export --format nfd --expiry 99999999d", "--expiry '99999999d'"},
        {"export --format nfd --expiry 2020-01-01T00:00:00Z", "that time is past"},
        {"export --format kubevirt --resource-prefix Bad_Prefix", "--resource-prefix"},
        {"export --format kubevirt --resource-prefix .io", "--resource-prefix"},
        {"export --format nova --physical-network 'a\"b'", "--physical-network"},
        {"export --format nfd 0000:01:00.0", "unexpected argument '0000:01:00.0'"},
        /* An option of another format would change nothing: the user would believe the
         * document carries it. */
        {"export --format sriovdp --physical-network physnet1",
         "--physical-network goes with --format nova, not sriovdp"},
        {"export --format nova --expiry 2h", "--expiry goes with --format nfd, not nova"},
        {"export --format nfd --resource-prefix example.com",
         "--resource-prefix goes with --format kubevirt or sriovdp, not nfd"},
        {"export --format kubevirt --nova-release 25", "--nova-release goes with --format nova"},
    };
    char dir[] = "/tmp/hostdev-export-XXXXXX", args[1024], *kept;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    at_file(dir, "keep", "old\n");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(args, sizeof(args), "%s -o %s/keep", cases[i].args, dir);
        ck_assert_msg(hd(args) == 2, "'%s' exited %d", args, hd(args));
        one_line_error(cases[i].needle);
        ck_assert_str_eq(e.out, "");
    }
    /* SOURCE_DATE_EPOCH is input too. */
    free(e.out);
    free(e.err);
    snprintf(args, sizeof(args), "SOURCE_DATE_EPOCH=yesterday %s/hostdev --root %s export "
             "--format nfd", at_build_dir(), e.fx.root);
    ck_assert_int_eq(at_run(args, &e.out, &e.err), 2);
    one_line_error("SOURCE_DATE_EPOCH 'yesterday'");
    /* An empty file name is bad input, not a file that cannot be made. */
    ck_assert_int_eq(hd("export --format nfd -o ''"), 2);
    one_line_error("hostdev export: --output '' is empty: a file, or - for standard output\n");
    ck_assert_int_eq(hd("export --format nfd --output="), 2);
    /* A directory that is not there: exit 1, one line naming the file. */
    snprintf(args, sizeof(args), "export --format nfd -o %s/missing/features", dir);
    ck_assert_int_eq(hd(args), 1);
    one_line_error("/missing/features");
    kept = slurp(strcat(strcpy(args, dir), "/keep"));
    ck_assert_str_eq(kept, "old\n");
    free(kept);
    ck_assert_uint_eq(entries(dir), 1); /* no temporary file left behind */
    unlink(args);
    rmdir(dir);
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* One CR for the cluster: --merge adds other hosts' exports, and refuses what it would drop or
 * what KubeVirt would keep only one of. */
HD_TEST(kubevirt_merge_unions_the_hosts)
{
    static const char other[] =
        "# another host\n"
        "apiVersion: kubevirt.io/v1\n"
        "kind: KubeVirt\n"
        "metadata:\n"
        "  name: kubevirt\n"
        "  namespace: kubevirt\n"
        "spec:\n"
        "  configuration:\n"
        "    permittedHostDevices:\n"
        "      pciHostDevices:\n"
        "        - pciVendorSelector: \"15B3:101E\"\n"
        "          resourceName: \"hostdev.io/15b3_101e\"\n"
        "        - pciVendorSelector: \"10DE:1B81\"\n"
        "          resourceName: \"nvidia.com/GP104_GEFORCE_GTX_1070\"\n"
        "          externalResourceProvider: true\n";
    static const struct {
        const char *file, *text, *needle;
    } bad[] = {
        {"renamed", "pciHostDevices:\n- pciVendorSelector: \"10DE:1B81\"\n  resourceName: "
                    "example.com/gtx\n", "is \"example.com/gtx\" there but"},
        {"usb", "      pciHostDevices:\n        - pciVendorSelector: \"15B3:101E\"\n"
                "          resourceName: \"hostdev.io/15b3_101e\"\n      usb:\n"
                "        - resourceName: \"a.io/c\"\n", "'usb'"},
        {"selector", "pciHostDevices:\n- pciVendorSelector: \"15B3:101\"\n  resourceName: a.io/b\n",
         "pciVendorSelector '15B3:101'"},
        {"name", "pciHostDevices:\n- pciVendorSelector: \"15B3:1011\"\n  resourceName: a b\n",
         "resourceName 'a b'"},
        {"half", "pciHostDevices:\n- pciVendorSelector: \"15B3:1011\"\n", "needs a pciVendorSelector"},
        {"prose", "hello\n", "not a line of a KubeVirt CR"},
        {"empty", "", "no pciHostDevices"},
    };
    char dir[] = "/tmp/hostdev-export-XXXXXX", args[2048], path[600], *first, *again;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    at_file(dir, "other", other);
    snprintf(args, sizeof(args), "export --format kubevirt --merge %s/other -o %s/merged", dir, dir);
    ck_assert_msg(hd(args) == 0, "%s", e.err);
    snprintf(path, sizeof(path), "%s/merged", dir);
    ck_assert_ptr_nonnull(first = slurp(path));
    /* This host's and the other's, sorted, once each; the hand-set flag kept. */
    ck_assert_ptr_nonnull(strstr(first, "- pciVendorSelector: \"10DE:1B81\"\n          resourceName: "
                                        "\"nvidia.com/GP104_GEFORCE_GTX_1070\"\n          "
                                        "externalResourceProvider: true\n        - "
                                        "pciVendorSelector: \"15B3:101E\"\n"));
    ck_assert_ptr_null(strstr(strstr(first, "\"10DE:1B81\"") + 1, "\"10DE:1B81\""));
    ck_assert_ptr_nonnull(strstr(first, "\"8086:10D3\""));
    consumer_accepts("kubevirt", path);
    /* A merged CR merges again to the same entries. */
    snprintf(args, sizeof(args), "export --format kubevirt --merge %s/merged --merge %s/other", dir,
             dir);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_ptr_nonnull(again = strstr(e.out, "apiVersion:"));
    ck_assert_str_eq(again, strstr(first, "apiVersion:"));
    free(first);
    at_file(dir, "keep", "old\n");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        at_file(dir, bad[i].file, bad[i].text);
        snprintf(args, sizeof(args), "export --format kubevirt --merge %s/other --merge %s/%s "
                 "-o %s/keep", dir, dir, bad[i].file, dir);
        ck_assert_msg(hd(args) == 2, "%s: exit %d", bad[i].file, hd(args));
        one_line_error(bad[i].needle);
        snprintf(path, sizeof(path), "%s/%s", dir, bad[i].file);
        unlink(path);
    }
    static const char *const usage[][2] = {
        {"--format kubevirt --merge %s/missing", "No such file"},
        {"--format kubevirt --merge %s", "not a file"},
        {"--format nfd --merge %s/other", "--merge goes with --format kubevirt"},
    };
    for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
        char opts[700];
        snprintf(opts, sizeof(opts), usage[i][0], dir);
        snprintf(args, sizeof(args), "export %s -o %s/keep", opts, dir);
        ck_assert_msg(hd(args) == 2, "%s: exit %d", opts, hd(args));
        one_line_error(usage[i][1]);
    }
    snprintf(path, sizeof(path), "%s/keep", dir);
    ck_assert_ptr_nonnull(first = slurp(path));
    ck_assert_str_eq(first, "old\n");
    free(first);
    ck_assert_uint_eq(entries(dir), 3); /* other, merged, keep: no temporary file left */
    static const char *const made[] = {"other", "merged", "keep"};
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

/* Mediated device types: on the mdev tree (an iGPU offering two GVT-g types, the mtty sample's
 * virtual parent two more) KubeVirt is offered both GVT-g types by name and Nova the first,
 * the mtty types neither: they are named in a comment. */
HD_TEST(mdev_types_golden)
{
    eng_stop(&e);
    eng_start(&e, "mdev");
    golden("--format kubevirt", "mdev.kubevirt", "kubevirt");
    golden("--format nova", "mdev.nova", "nova");
    ck_assert_int_eq(hd("export --format kubevirt"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "      pciHostDevices: []\n      mediatedDevices:\n"
                                        "        - mdevNameSelector: \"GVTg_V5_4\"\n"
                                        "          resourceName: \"hostdev.io/GVTg_V5_4\"\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"GVTg_V5_8\""));
    ck_assert_ptr_null(strstr(e.out, "serial\""));
    ck_assert_ptr_nonnull(strstr(e.out, "#   mtty mtty-2\n"));
    ck_assert_int_eq(hd("export --format nova"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "[devices]\nenabled_mdev_types = i915-GVTg_V5_4\n"));
    ck_assert_ptr_null(strstr(e.out, "[mdev_"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:00:02.0 i915-GVTg_V5_8\n"));
    ck_assert_ptr_null(strstr(e.out, "= mtty"));
    /* The formats that do not take them are as they were. */
    ck_assert_int_eq(hd("export --format sriovdp"), 0);
    ck_assert_ptr_null(strstr(e.out, "GVTg"));
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* Two kinds of GPU: NVIDIA's vGPUs are named as NVIDIA's plugin names them; Nova is given one
 * type a GPU, and with two types the sections that say which GPU offers which. */
HD_TEST(mdev_types_of_several_gpus)
{
    static const char spec[] =
        "iommu intel\n"
        "driver vfio-pci module=vfio_pci stub vfio\n"
        "driver i915 ids=8086:9a49\n"
        "driver nvidia ids=10de:1eb8\n"
        "device 0000:00:00.0 8086:9a14 class=060000\n"
        "device 0000:00:02.0 8086:9a49 class=030000 driver=i915\n"
        "device 0000:65:00.0 10de:1eb8 class=030200 driver=nvidia parent=root\n"
        "device 0000:66:00.0 10de:1eb8 class=030200 driver=nvidia parent=root\n"
        "mdev-type 0000:00:02.0 i915-GVTg_V5_4 name=GVTg_V5_4 instances=2\n"
        "mdev-type 0000:65:00.0 nvidia-222 \"name=GRID T4-1B\" instances=16\n"
        "mdev-type 0000:65:00.0 nvidia-223 \"name=GRID T4-1Q\" instances=16\n"
        "mdev-type 0000:66:00.0 nvidia-222 \"name=GRID T4-1B\" instances=16\n"
        "mdev-type 0000:66:00.0 nvidia-223 \"name=GRID T4-1Q\" instances=16\n"
        "mdev-type 0000:66:00.0 nvidia-224 name=GRID_T4-%s instances=1\n";
    char dir[] = "/tmp/hostdev-export-XXXXXX", args[1024], path[600], text[2048];

    /* A name longer than Kubernetes takes (63 characters) names no resource. */
    snprintf(text, sizeof(text), spec, "0123456789012345678901234567890123456789012345678901234567890");
    eng_stop(&e);
    eng_start(&e, text);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/doc", dir);
    snprintf(args, sizeof(args), "export --format kubevirt -o %s", path);
    ck_assert_int_eq(hd(args), 0);
    consumer_accepts("kubevirt", path);
    ck_assert_int_eq(hd("export --format kubevirt"), 0);
    /* One selector a type name, however many GPUs offer it. */
    ck_assert_ptr_nonnull(strstr(e.out, "        - mdevNameSelector: \"GRID T4-1B\"\n"
                                        "          resourceName: \"nvidia.com/GRID_T4-1B\"\n"
                                        "        - mdevNameSelector: \"GRID T4-1Q\"\n"
                                        "          resourceName: \"nvidia.com/GRID_T4-1Q\"\n"
                                        "        - mdevNameSelector: \"GVTg_V5_4\"\n"));
    ck_assert_ptr_null(strstr(strstr(e.out, "\"GRID T4-1B\"") + 1, "\"GRID T4-1B\""));
    /* A name no resource can be named after: left out, said. */
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:66:00.0 nvidia-224\n"));
    ck_assert_ptr_null(strstr(e.out, "GRID_T4-0123"));
    snprintf(args, sizeof(args), "export --format nova -o %s", path);
    ck_assert_int_eq(hd(args), 0);
    consumer_accepts("nova", path);
    ck_assert_int_eq(hd("export --format nova"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "[devices]\n"
                                        "enabled_mdev_types = i915-GVTg_V5_4, nvidia-222\n"
                                        "[mdev_i915-GVTg_V5_4]\n"
                                        "device_addresses = 0000:00:02.0\n"
                                        "[mdev_nvidia-222]\n"
                                        "device_addresses = 0000:65:00.0,0000:66:00.0\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:65:00.0 nvidia-223\n"));
    /* Before Xena, Nova knows them by their old names. */
    snprintf(args, sizeof(args), "export --format nova --nova-release wallaby -o %s", path);
    ck_assert_int_eq(hd(args), 0);
    consumer_accepts("nova", path);
    ck_assert_int_eq(hd("export --format nova --nova-release wallaby"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "enabled_vgpu_types = i915-GVTg_V5_4, nvidia-222\n"
                                        "[vgpu_i915-GVTg_V5_4]\n"));
    unlink(path);
    rmdir(dir);
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* Nova takes one type a GPU. Without --mdev-type the kernel says which: the type a GPU's vGPUs
 * already have, else one it can still make instances of, else its first; --mdev-type chooses,
 * preferred first. */
HD_TEST(nova_mdev_type_per_gpu)
{
    static const char spec[] =
        "iommu intel\n"
        "driver vfio-pci module=vfio_pci stub vfio\n"
        "driver nvidia ids=10de:1eb8\n"
        "device 0000:00:00.0 8086:9a14 class=060000\n"
        "device 0000:65:00.0 10de:1eb8 class=030200 driver=nvidia parent=root\n"
        "device 0000:66:00.0 10de:1eb8 class=030200 driver=nvidia parent=root\n"
        "device 0000:67:00.0 10de:1eb8 class=030200 driver=nvidia parent=root\n"
        /* 65: no instance of its first type left */
        "mdev-type 0000:65:00.0 nvidia-222 \"name=GRID T4-1B\" instances=0\n"
        "mdev-type 0000:65:00.0 nvidia-223 \"name=GRID T4-1Q\" instances=16\n"
        /* 66: a vGPU of its second type runs */
        "mdev-type 0000:66:00.0 nvidia-222 \"name=GRID T4-1B\" instances=16\n"
        "mdev-type 0000:66:00.0 nvidia-223 \"name=GRID T4-1Q\" instances=16\n"
        "mdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 0000:66:00.0 nvidia-223\n"
        /* 67: untouched, its first type */
        "mdev-type 0000:67:00.0 nvidia-222 \"name=GRID T4-1B\" instances=16\n"
        "mdev-type 0000:67:00.0 nvidia-224 \"name=GRID T4-2B\" instances=8\n";

    eng_stop(&e);
    eng_start(&e, spec);
    golden("--format nova", "gpus.nova", "nova");
    /* 66 runs a vGPU of nvidia-223 and is given nvidia-222: Nova would try to make one. */
    golden_warned("--format nova --mdev-type nvidia-224 --mdev-type nvidia-222 "
                  "--mdev-type nvidia-999", "gpus-chosen.nova", "nova",
                  "hostdev export: warning: --mdev-type nvidia-222: 0000:66:00.0 runs mediated "
                  "devices of type nvidia-223, not nvidia-222: most vGPU parents make one type "
                  "at a time and refuse to create nvidia-222 while those run\n");
    ck_assert_int_eq(hd("export --format nova"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "[devices]\n"
                                        "enabled_mdev_types = nvidia-223, nvidia-222\n"
                                        "[mdev_nvidia-223]\n"
                                        "device_addresses = 0000:65:00.0,0000:66:00.0\n"
                                        "[mdev_nvidia-222]\n"
                                        "device_addresses = 0000:67:00.0\n"));
    ck_assert_int_eq(hd("export --format nova --mdev-type nvidia-224 --mdev-type nvidia-222 "
                        "--mdev-type nvidia-999"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "[devices]\n"
                                        "enabled_mdev_types = nvidia-222, nvidia-224\n"
                                        "[mdev_nvidia-222]\n"
                                        "device_addresses = 0000:65:00.0,0000:66:00.0\n"
                                        "[mdev_nvidia-224]\n"
                                        "device_addresses = 0000:67:00.0\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "# --mdev-type nvidia-999: no PCI device offers it\n"));
    ck_assert_int_eq(hd("--json export --format nova --mdev-type nvidia-222"), 0);
    ck_assert_str_eq(e.err, "{\"command\":\"export\",\"warnings\":[\"--mdev-type nvidia-222: "
                            "0000:66:00.0 runs mediated devices of type nvidia-223, not "
                            "nvidia-222: most vGPU parents make one type at a time and refuse to "
                            "create nvidia-222 while those run\"]}\n");
    /* One type asked for: it goes to every GPU that offers it, no sections needed; the one
     * 66 runs, so no mix to warn of; but 67 does not offer it, and gets no type at all. */
    ck_assert_int_eq(hd("export --format nova --mdev-type nvidia-223"), 0);
    ck_assert_str_eq(e.err, "hostdev export: warning: --mdev-type nvidia-223: 0000:67:00.0 does "
                            "not offer it, so Nova is given no mediated device type for it (it "
                            "offers nvidia-222, nvidia-224)\n");
    ck_assert_ptr_nonnull(strstr(e.out, "[devices]\nenabled_mdev_types = nvidia-223\n"));
    ck_assert_ptr_null(strstr(e.out, "[mdev_"));
    ck_assert_ptr_nonnull(strstr(e.out, "#   0000:67:00.0 nvidia-222\n"));
    ck_assert_int_eq(hd("--json export --format nova --mdev-type nvidia-999 "
                        "--mdev-type nvidia-224"), 0);
    ck_assert_str_eq(e.err, "{\"command\":\"export\",\"warnings\":[\"--mdev-type nvidia-999, "
                            "nvidia-224: 0000:65:00.0 offers none of them, so Nova is given no "
                            "mediated device type for it (it offers nvidia-222, nvidia-223)\",\""
                            "--mdev-type nvidia-999, nvidia-224: 0000:66:00.0 offers none of "
                            "them, so Nova is given no mediated device type for it (it offers "
                            "nvidia-222, nvidia-223)\"]}\n");
    /* Not a type id Nova can take; or another format's option. */
    ck_assert_int_eq(hd("export --format nova --mdev-type 'a,b'"), 2);
    one_line_error("--mdev-type 'a,b'");
    ck_assert_int_eq(hd("export --format kubevirt --mdev-type nvidia-222"), 2);
    one_line_error("--mdev-type goes with --format nova, not kubevirt");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* --watch follows mediated devices too: a vGPU made or removed changes the type Nova is
 * given for its GPU, and the file is written again each time. */
HD_TEST(watch_follows_mediated_devices)
{
    char cmd[4096];

    eng_stop(&e);
    eng_start(&e, "mdev");
    free(e.out);
    free(e.err);
    /* wrote N: wait until the watcher has written its Nth file. */
    snprintf(cmd, sizeof(cmd),
             "H='%s/hostdev --root %s'; d=$(mktemp -d); export SOURCE_DATE_EPOCH=" NOW "; "
             "wrote() { for i in $(seq 200); do [ $(grep -c wrote $d/err) -ge $1 ] && return; "
             "sleep 0.05; done; echo \"no write $1\"; kill $pid; cat $d/err; exit 9; }; "
             "$H -v export --format nova -o $d/f --watch 2>$d/err & pid=$!; "
             "wrote 1; grep enabled_mdev_types $d/f; "
             "u=$($H mdev create 0000:00:02.0 i915-GVTg_V5_8 | cut -d: -f1); "
             "wrote 2; grep enabled_mdev_types $d/f; "
             "$H mdev remove $u >/dev/null; wrote 3; grep enabled_mdev_types $d/f; "
             "kill $pid; wait $pid; echo exit $?; rm -rf $d",
             at_build_dir(), e.fx.root);
    ck_assert_int_eq(at_run(cmd, &e.out, &e.err), 0);
    ck_assert_str_eq(e.out, "enabled_mdev_types = i915-GVTg_V5_4\n"
                            "enabled_mdev_types = i915-GVTg_V5_8\n"
                            "enabled_mdev_types = i915-GVTg_V5_4\n"
                            "exit 0\n");
}
END_TEST

/* --merge takes the mediatedDevices of another host's export too, by KubeVirt's rule for their
 * selectors (a blank and a '_' are one). */
HD_TEST(kubevirt_merge_mdev_types)
{
    static const char other[] =
        "spec:\n"
        "  configuration:\n"
        "    permittedHostDevices:\n"
        "      pciHostDevices: []\n"
        "      mediatedDevices:\n"
        "        - mdevNameSelector: \"GRID T4-1Q\"\n"
        "          resourceName: \"nvidia.com/GRID_T4-1Q\"\n"
        "          externalResourceProvider: true\n"
        "        - mdevNameSelector: GVTg_V5_8\n"
        "          resourceName: \"hostdev.io/GVTg_V5_8\"\n";
    static const struct {
        const char *file, *text, *needle;
    } bad[] = {
        {"renamed", "mediatedDevices:\n- mdevNameSelector: GVTg V5 4\n  resourceName: a.io/b\n",
         "mdevNameSelector \"GVTg V5 4\" is \"a.io/b\" there but \"hostdev.io/GVTg_V5_4\""},
        {"quote", "mediatedDevices:\n- mdevNameSelector: 'a\"b'\n  resourceName: a.io/b\n",
         "mdevNameSelector 'a\"b'"},
        {"half", "mediatedDevices:\n- resourceName: a.io/b\n", "needs an mdevNameSelector"},
        {"mixed", "mediatedDevices:\n- pciVendorSelector: \"15B3:1011\"\n",
         "not part of a mediatedDevices entry"},
    };
    char dir[] = "/tmp/hostdev-export-XXXXXX", args[2048], path[600], *doc;

    eng_stop(&e);
    eng_start(&e, "mdev");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    at_file(dir, "other", other);
    snprintf(args, sizeof(args), "export --format kubevirt --merge %s/other -o %s/merged", dir,
             dir);
    ck_assert_msg(hd(args) == 0, "%s", e.err);
    snprintf(path, sizeof(path), "%s/merged", dir);
    ck_assert_ptr_nonnull(doc = slurp(path));
    consumer_accepts("kubevirt", path);
    ck_assert_ptr_nonnull(strstr(doc, "      mediatedDevices:\n"
                                      "        - mdevNameSelector: \"GRID T4-1Q\"\n"
                                      "          resourceName: \"nvidia.com/GRID_T4-1Q\"\n"
                                      "          externalResourceProvider: true\n"
                                      "        - mdevNameSelector: \"GVTg_V5_4\"\n"
                                      "          resourceName: \"hostdev.io/GVTg_V5_4\"\n"
                                      "        - mdevNameSelector: \"GVTg_V5_8\"\n"
                                      "          resourceName: \"hostdev.io/GVTg_V5_8\"\n"));
    ck_assert_ptr_null(strstr(strstr(doc, "\"GVTg_V5_8\"") + 1, "\"GVTg_V5_8\""));
    free(doc);
    unlink(path);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        at_file(dir, bad[i].file, bad[i].text);
        snprintf(args, sizeof(args), "export --format kubevirt --merge %s/%s", dir, bad[i].file);
        ck_assert_msg(hd(args) == 2, "%s: exit %d", bad[i].file, hd(args));
        one_line_error(bad[i].needle);
        ck_assert_str_eq(e.out, "");
        snprintf(path, sizeof(path), "%s/%s", dir, bad[i].file);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/other", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

HD_TEST(nfd_file_over_64k_refused)
{
    /* 600 SR-IOV PFs, two labels each: NFD would ignore the whole file (over 64 KiB), so
     * export refuses it (exit 1) and writes nothing rather than let every label vanish. */
    char *spec = NULL, dir[] = "/tmp/hostdev-export-XXXXXX", args[1024];
    size_t len = 0;
    FILE *f = open_memstream(&spec, &len);

    ck_assert_ptr_nonnull(f);
    fputs("iommu intel\ndriver vfio-pci module=vfio_pci stub vfio sriov\n", f);
    for (int dom = 0; dom < 3; dom++) {
        for (int bus = 1; bus <= 200; bus++)
            fprintf(f, "device %04x:%02x:00.0 8086:10fb class=020000 parent=root totalvfs=63\n",
                    dom, bus);
    }
    fclose(f);
    eng_stop(&e);
    eng_start(&e, spec);
    free(spec);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(args, sizeof(args), "export --format nfd -o %s/hostdev", dir);
    ck_assert_int_eq(hd(args), 1);
    one_line_error("NFD reads at most 65536");
    ck_assert_uint_eq(entries(dir), 0);
    rmdir(dir);
    /* The other formats have no such limit. */
    ck_assert_int_eq(hd("export --format prometheus"), 0);
}
END_TEST

HD_TEST(validators_reject_what_consumers_reject)
{
    char cmd[1024], *o = NULL, *x = NULL;

    /* Each checker on known-bad variants of the golden files: a strict schema that accepted
     * anything would make every check above worthless. */
    snprintf(cmd, sizeof(cmd), "%s/tests/fleet/validate selftest %s/tests/golden/export",
             at_src_dir(), at_src_dir());
    ck_assert_msg(at_run(cmd, &o, &x) == 0, "selftest: %s", x);
    free(o);
    free(x);
}
END_TEST

/* --dry-run changes nothing, files included: -o's file is left as it was and the document
 * goes to standard output instead; --watch, which only rewrites a file, is refused. */
HD_TEST(dry_run_writes_no_file)
{
    char dir[] = "/tmp/hostdev-export-XXXXXX", args[1200], path[512], *kept, *direct;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    at_file(dir, "keep", "old\n");
    snprintf(path, sizeof(path), "%s/keep", dir);
    ck_assert_int_eq(hd("export --format nfd"), 0);
    direct = strdup(e.out);
    ck_assert_ptr_nonnull(direct);
    snprintf(args, sizeof(args), "--dry-run export --format nfd -o %s", path);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_str_eq(e.out, direct);
    snprintf(args, sizeof(args), "export --format nfd -o %s --watch --dry-run", path);
    ck_assert_int_eq(hd(args), 2);
    one_line_error("--watch");
    kept = slurp(path);
    ck_assert_str_eq(kept, "old\n");
    ck_assert_uint_eq(entries(dir), 1);
    free(kept);
    free(direct);
    unlink(path);
    rmdir(dir);
}
END_TEST
