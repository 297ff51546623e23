/* test-cmdline.c - the kernel command line: every split rule, every option we interpret. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "fixture.h"
#include "hdtest.h"

static struct hd_cmdline *parse(const char *text)
{
    struct hd_cmdline *cl = NULL;
    ck_assert_int_eq(hd_cmdline_new_from_string(text, &cl), 0);
    ck_assert_ptr_nonnull(cl);
    return cl;
}

/* Expect the i-th parameter to be @name with @value (NULL: bare). */
static void expect_at(const struct hd_cmdline *cl, size_t i, const char *name, const char *value)
{
    ck_assert_msg(i < hd_cmdline_count(cl), "no parameter %zu", i);
    ck_assert_str_eq(hd_cmdline_get_name_at(cl, i), name);
    if (value == NULL)
        ck_assert_ptr_null(hd_cmdline_get_value_at(cl, i));
    else
        ck_assert_str_eq(hd_cmdline_get_value_at(cl, i), value);
}

static const char *value_of(const struct hd_cmdline *cl, const char *name)
{
    const char *v = "<unset>";
    ck_assert_int_eq(hd_cmdline_get(cl, name, &v), 0);
    return v;
}

HD_TEST(splits_on_blanks)
{
    struct hd_cmdline *cl = parse("  BOOT_IMAGE=/vmlinuz-6.1.0-56-amd64 root=UUID=ab-cd ro\tquiet"
                                  "\n  console=ttyS0,115200n8\n");
    ck_assert_uint_eq(hd_cmdline_count(cl), 5);
    expect_at(cl, 0, "BOOT_IMAGE", "/vmlinuz-6.1.0-56-amd64");
    expect_at(cl, 1, "root", "UUID=ab-cd"); /* the first '=' splits */
    expect_at(cl, 2, "ro", NULL);
    expect_at(cl, 3, "quiet", NULL);
    expect_at(cl, 4, "console", "ttyS0,115200n8");
    ck_assert_ptr_null(hd_cmdline_get_init_args(cl));
    ck_assert_ptr_null(hd_cmdline_get_name_at(cl, 5));
    ck_assert_ptr_null(hd_cmdline_get_value_at(cl, 5));
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(kernel_blanks_include_0xa0)
{
    /* lib/ctype.c: 0xa0 is a space to the kernel; \v and \f too. */
    struct hd_cmdline *cl = parse("a=1\xa0"
                                  "b\vc\fd\re");
    ck_assert_uint_eq(hd_cmdline_count(cl), 5);
    expect_at(cl, 0, "a", "1");
    expect_at(cl, 4, "e", NULL);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(empty_input)
{
    struct hd_cmdline *cl = parse("");
    ck_assert_uint_eq(hd_cmdline_count(cl), 0);
    ck_assert_int_eq(hd_cmdline_get(cl, "x", NULL), -ENOENT);
    hd_cmdline_unref(cl);
    cl = parse(NULL);
    ck_assert_uint_eq(hd_cmdline_count(cl), 0);
    hd_cmdline_unref(cl);
    cl = parse(" \t\n ");
    ck_assert_uint_eq(hd_cmdline_count(cl), 0);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(quotes_around_the_value)
{
    struct hd_cmdline *cl = parse("dyndbg=\"file x.c +p\" next");
    ck_assert_uint_eq(hd_cmdline_count(cl), 2);
    expect_at(cl, 0, "dyndbg", "file x.c +p");
    expect_at(cl, 1, "next", NULL);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(quotes_around_the_word)
{
    struct hd_cmdline *cl = parse("\"p=a b\" \"bare word\" q");
    ck_assert_uint_eq(hd_cmdline_count(cl), 3);
    expect_at(cl, 0, "p", "a b");
    expect_at(cl, 1, "bare word", NULL);
    expect_at(cl, 2, "q", NULL);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(quotes_inside_stay)
{
    /* Only an opening quote of the value or word is removed; inner ones stay, and still
     * protect blanks. */
    struct hd_cmdline *cl = parse("a=b\"c d\"e f a\"b c\"=d");
    ck_assert_uint_eq(hd_cmdline_count(cl), 3);
    expect_at(cl, 0, "a", "b\"c d\"e");
    expect_at(cl, 1, "f", NULL);
    expect_at(cl, 2, "a\"b c\"", "d");
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(unterminated_quote_takes_the_rest)
{
    struct hd_cmdline *cl = parse("a=1 b=\"x y -- z");
    ck_assert_uint_eq(hd_cmdline_count(cl), 2);
    expect_at(cl, 1, "b", "x y -- z");
    ck_assert_ptr_null(hd_cmdline_get_init_args(cl));
    hd_cmdline_unref(cl);
    cl = parse("\"c=x y");
    expect_at(cl, 0, "c", "x y");
    hd_cmdline_unref(cl);
    cl = parse("d=\"");
    expect_at(cl, 0, "d", "");
    hd_cmdline_unref(cl);
    cl = parse("\"");
    ck_assert_uint_eq(hd_cmdline_count(cl), 0);
    hd_cmdline_unref(cl);
    cl = parse("\"\" e");
    ck_assert_uint_eq(hd_cmdline_count(cl), 1);
    expect_at(cl, 0, "e", NULL);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(double_dash_ends_kernel_parameters)
{
    struct hd_cmdline *cl = parse("ro intel_iommu=on -- single  intel_iommu=off \n");
    ck_assert_uint_eq(hd_cmdline_count(cl), 2);
    ck_assert_str_eq(value_of(cl, "intel_iommu"), "on");
    ck_assert_str_eq(hd_cmdline_get_init_args(cl), "single  intel_iommu=off");
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_YES);
    hd_cmdline_unref(cl);
    /* "--=x" has a value: not the end. A quoted "--" is. */
    cl = parse("--=x a \"--\" b");
    ck_assert_uint_eq(hd_cmdline_count(cl), 2);
    expect_at(cl, 0, "--", "x");
    ck_assert_str_eq(hd_cmdline_get_init_args(cl), "b");
    hd_cmdline_unref(cl);
    cl = parse("a --");
    ck_assert_str_eq(hd_cmdline_get_init_args(cl), "");
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(bare_word_is_not_empty_value)
{
    struct hd_cmdline *cl = parse("flag empty= =lead a==b");
    const char *v = "x";
    ck_assert_int_eq(hd_cmdline_get(cl, "flag", &v), 0);
    ck_assert_ptr_null(v);
    ck_assert_str_eq(value_of(cl, "empty"), "");
    expect_at(cl, 2, "=lead", NULL); /* an '=' first does not split (the kernel's quirk) */
    expect_at(cl, 3, "a", "=b");
    ck_assert(hd_cmdline_has(cl, "flag"));
    ck_assert(!hd_cmdline_has(cl, "fla"));
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(dashes_and_underscores_in_names)
{
    struct hd_cmdline *cl = parse("vfio-pci.ids=10de:1b80 some_thing=a-b_c");
    ck_assert_str_eq(value_of(cl, "vfio_pci.ids"), "10de:1b80");
    ck_assert_str_eq(value_of(cl, "vfio-pci.ids"), "10de:1b80");
    ck_assert_str_eq(value_of(cl, "some-thing"), "a-b_c");               /* values as written */
    ck_assert_int_eq(hd_cmdline_get(cl, "vfio_pci_ids", NULL), -ENOENT); /* '.' is not '_' */
    ck_assert(hd_cmdline_name_equal("a-b_c", "a_b-c"));
    ck_assert(!hd_cmdline_name_equal("ab", "abc"));
    ck_assert(!hd_cmdline_name_equal("abc", "ab"));
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(last_occurrence_wins_all_are_listed)
{
    struct hd_cmdline *cl = parse("x=1 y x=2 x");
    const char *v = "unset";
    ck_assert_uint_eq(hd_cmdline_count(cl), 4);
    ck_assert_int_eq(hd_cmdline_get(cl, "x", &v), 0);
    ck_assert_ptr_null(v); /* the last one is bare */
    expect_at(cl, 0, "x", "1");
    expect_at(cl, 2, "x", "2");
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(booleans_read_like_the_kernel)
{
    struct hd_cmdline *cl = parse("a b=0 c=on d=OFF e=yes f=Nope g=maybe h= i=True j=1x");
    bool b = false;
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "a", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "b", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "c", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "d", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "e", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "f", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "g", &b), -EINVAL);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "h", &b), -EINVAL);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "i", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "j", &b), 0); /* only the first char counts */
    ck_assert(b);
    ck_assert_int_eq(hd_cmdline_get_bool(cl, "zz", &b), -ENOENT);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(comma_lists)
{
    struct hd_cmdline *cl = parse("pci=noats,realloc=off pci=nomsi pci");
    ck_assert(hd_cmdline_list_has(cl, "pci", "realloc"));
    ck_assert(hd_cmdline_list_has(cl, "pci", "noats"));
    ck_assert(hd_cmdline_list_has(cl, "pci", "nomsi"));
    ck_assert(!hd_cmdline_list_has(cl, "pci", "noat"));
    ck_assert(!hd_cmdline_list_has(cl, "pci", "msi"));
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_PCI_REALLOC), HD_TRISTATE_NO);
    hd_cmdline_unref(cl);
    cl = parse("pci=realloc");
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_PCI_REALLOC), HD_TRISTATE_YES);
    hd_cmdline_unref(cl);
    cl = parse("pci=assign-busses,realloc=on");
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_PCI_REALLOC), HD_TRISTATE_YES);
    hd_cmdline_unref(cl);
}
END_TEST

static enum hd_tristate setting_of(const char *text, enum hd_cmdline_setting s)
{
    struct hd_cmdline *cl = parse(text);
    enum hd_tristate v = hd_cmdline_get_setting(cl, s);
    hd_cmdline_unref(cl);
    return v;
}

HD_TEST(intel_iommu_options)
{
    struct hd_cmdline *cl = parse("intel_iommu=on,igfx_off,sm_on");
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_YES);
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU_IGFX_OFF), HD_TRISTATE_YES);
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU_SM), HD_TRISTATE_YES);
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_AMD_IOMMU), HD_TRISTATE_UNSET);
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 0);
    hd_cmdline_unref(cl);

    /* Every occurrence applies in order, as the kernel calls the handler for each. */
    ck_assert_int_eq(setting_of("intel_iommu=on intel_iommu=off", HD_CMDLINE_INTEL_IOMMU),
                     HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("intel_iommu=on intel_iommu=igfx_off", HD_CMDLINE_INTEL_IOMMU),
                     HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("intel-iommu=on", HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("intel_iommu=strict", HD_CMDLINE_IOMMU_STRICT), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("intel_iommu=sm_off", HD_CMDLINE_INTEL_IOMMU_SM), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("", HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_UNSET);
    ck_assert_int_eq(setting_of("intel_iommu=", HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_UNSET);
}
END_TEST

HD_TEST(intel_iommu_unknown_words)
{
    struct hd_cmdline *cl = parse("intel_iommu=on,,bogus,igfx_off");
    const char *param, *option, *why, *log;
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU_IGFX_OFF), HD_TRISTATE_YES);
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 1);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "intel_iommu");
    ck_assert_str_eq(option, "bogus");
    ck_assert_str_eq(log, "DMAR: Unknown option - 'bogus,igfx_off'"); /* the kernel logs the rest */
    ck_assert_ptr_nonnull(strstr(why, "bogus"));
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 1, &param, NULL, NULL, NULL), -ERANGE);
    hd_cmdline_unref(cl);

    cl = parse("intel_iommu");
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 1);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_ptr_null(log);
    ck_assert_ptr_nonnull(strstr(why, "intel_iommu=VALUE"));
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_INTEL_IOMMU), HD_TRISTATE_UNSET);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(amd_iommu_on_is_not_an_option)
{
    struct hd_cmdline *cl = parse("amd_iommu=on iommu=pt");
    const char *param, *option, *why, *log;
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 1);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "amd_iommu");
    ck_assert_str_eq(option, "on");
    ck_assert_str_eq(log, "AMD-Vi: Unknown option - 'on'");
    ck_assert_ptr_nonnull(strstr(why, "on by default"));
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_AMD_IOMMU), HD_TRISTATE_UNSET);
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_IOMMU_PASSTHROUGH), HD_TRISTATE_YES);
    hd_cmdline_unref(cl);

    ck_assert_int_eq(setting_of("amd_iommu=off", HD_CMDLINE_AMD_IOMMU), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("amd_iommu=force_enable", HD_CMDLINE_AMD_IOMMU), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("amd_iommu=fullflush", HD_CMDLINE_IOMMU_STRICT), HD_TRISTATE_YES);
    cl = parse("amd_iommu=pgtbl_v2,force_isolation,nohugepages,irtcachedis,pgtbl_v1");
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 0);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(iommu_options)
{
    ck_assert_int_eq(setting_of("iommu=pt", HD_CMDLINE_IOMMU_PASSTHROUGH), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("iommu=nopt", HD_CMDLINE_IOMMU_PASSTHROUGH), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("iommu=pt iommu.passthrough=0", HD_CMDLINE_IOMMU_PASSTHROUGH),
                     HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("iommu.passthrough=1", HD_CMDLINE_IOMMU_PASSTHROUGH),
                     HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("iommu=off", HD_CMDLINE_IOMMU_OFF), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("iommu=soft,force", HD_CMDLINE_IOMMU_FORCE), HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("iommu=noforce", HD_CMDLINE_IOMMU_FORCE), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("iommu.strict=0", HD_CMDLINE_IOMMU_STRICT), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("iommu=usedac,off", HD_CMDLINE_IOMMU_OFF), HD_TRISTATE_UNSET);
    ck_assert_int_eq(setting_of("intremap=off", HD_CMDLINE_INTREMAP), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("nointremap", HD_CMDLINE_INTREMAP), HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("intremap=nosid,on", HD_CMDLINE_INTREMAP), HD_TRISTATE_YES);
}
END_TEST

HD_TEST(iommu_on_is_ignored_silently)
{
    struct hd_cmdline *cl = parse("iommu=on iommu=pt,64M,memaper=2 iommu.strict=maybe iommu");
    const char *param, *option, *why, *log;
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 3);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "iommu");
    ck_assert_str_eq(option, "on");
    ck_assert_ptr_null(log); /* the kernel says nothing */
    ck_assert_ptr_nonnull(strstr(why, "intel_iommu=on"));
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 1, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "iommu.strict");
    ck_assert_str_eq(log, "Malformed early option 'iommu.strict'");
    ck_assert_str_eq(why, "iommu.strict=maybe is ignored: iommu.strict takes 0 or 1");
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 2, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "iommu");
    ck_assert_str_eq(log, "Malformed early option 'iommu'");
    ck_assert_ptr_nonnull(strstr(why, "needs a value (pt, nopt"));
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(vfio_module_booleans)
{
    struct hd_cmdline *cl;
    const char *param, *option, *why, *log;

    ck_assert_int_eq(
        setting_of("vfio_iommu_type1.allow_unsafe_interrupts", HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS),
        HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("vfio-iommu-type1.allow-unsafe-interrupts=1",
                                HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS),
                     HD_TRISTATE_YES);
    ck_assert_int_eq(setting_of("vfio_iommu_type1.allow_unsafe_interrupts=N",
                                HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS),
                     HD_TRISTATE_NO);
    ck_assert_int_eq(setting_of("", HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS), HD_TRISTATE_UNSET);
    ck_assert_int_eq(setting_of("vfio.enable_unsafe_noiommu_mode=1", HD_CMDLINE_NOIOMMU_MODE),
                     HD_TRISTATE_YES);

    cl = parse("vfio_iommu_type1.allow_unsafe_interrupts=1 "
               "vfio-iommu-type1.allow_unsafe_interrupts=sure");
    ck_assert_int_eq(hd_cmdline_get_setting(cl, HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS),
                     HD_TRISTATE_YES); /* the bad one is ignored */
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 1);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_str_eq(option, "sure");
    ck_assert_str_eq(log,
                     "vfio_iommu_type1: `sure' invalid for parameter `allow_unsafe_interrupts'");
    hd_cmdline_unref(cl);
    ck_assert_int_eq(setting_of("iommu=pt", (enum hd_cmdline_setting)99), HD_TRISTATE_UNSET);
}
END_TEST

HD_TEST(vfio_pci_ids)
{
    struct hd_cmdline *cl =
        parse("vfio-pci.ids=8086:10D3,,10de:1b80:ffffffff:ffffffff:030000:ffff00,0x1af4:0x1041");
    struct hd_pci_id_match m;
    ck_assert_uint_eq(hd_cmdline_get_vfio_pci_id_count(cl), 3);
    ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(cl, 0, &m), 0);
    ck_assert_uint_eq(m.vendor, 0x8086);
    ck_assert_uint_eq(m.device, 0x10d3);
    ck_assert_uint_eq(m.subvendor, HD_PCI_ANY_ID);
    ck_assert_uint_eq(m.subdevice, HD_PCI_ANY_ID);
    ck_assert_uint_eq(m.class_code, 0);
    ck_assert_uint_eq(m.class_mask, 0);
    ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(cl, 1, &m), 0);
    ck_assert_uint_eq(m.vendor, 0x10de);
    ck_assert_uint_eq(m.class_code, 0x030000);
    ck_assert_uint_eq(m.class_mask, 0xffff00);
    ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(cl, 2, &m), 0);
    ck_assert_uint_eq(m.vendor, 0x1af4);
    ck_assert_uint_eq(m.device, 0x1041);
    ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(cl, 3, &m), -ERANGE);
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 0);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(vfio_pci_ids_bad_and_last_wins)
{
    struct hd_cmdline *cl;
    const char *param, *option, *why, *log;
    struct hd_pci_id_match m;

    cl = parse("vfio_pci.ids=1111:2222 vfio-pci.ids=808x,8086:10d3zz,8086,123456789:1");
    ck_assert_uint_eq(hd_cmdline_get_vfio_pci_id_count(cl), 1); /* the first occurrence is gone */
    ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(cl, 0, &m), 0);
    ck_assert_uint_eq(m.vendor, 0x8086);
    ck_assert_uint_eq(m.device, 0x10d3);
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 4);
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 0, &param, &option, &why, &log), 0);
    ck_assert_str_eq(param, "vfio-pci.ids");
    ck_assert_str_eq(option, "808x");
    ck_assert_str_eq(log, "vfio_pci: invalid id string \"808x\"");
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 1, &param, &option, &why, &log), 0);
    ck_assert_str_eq(option, "8086:10d3zz");
    ck_assert_ptr_null(log); /* sscanf() drops the tail without a word */
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 2, &param, &option, &why, &log), 0);
    ck_assert_str_eq(option, "8086");
    ck_assert_int_eq(hd_cmdline_get_invalid(cl, 3, &param, &option, &why, &log), 0);
    ck_assert_str_eq(option, "123456789:1");
    hd_cmdline_unref(cl);

    cl = parse("vfio-pci.ids");
    ck_assert_uint_eq(hd_cmdline_get_vfio_pci_id_count(cl), 0);
    ck_assert_uint_eq(hd_cmdline_get_invalid_count(cl), 1);
    hd_cmdline_unref(cl);
}
END_TEST

HD_TEST(garbage_never_crashes)
{
    /* Random bytes (NUL aside) and quote-heavy soup: always a reading, never a crash; ASan
     * and UBSan watch the walk. */
    static const char alphabet[] = "\"=,-_ .\t\n\xa0\x01"
                                   "aon";
    unsigned int seed = 12345;
    char text[256];

    for (int round = 0; round < 3000; round++) {
        struct hd_cmdline *cl;
        size_t len = (size_t)(rand_r(&seed) % (sizeof(text) - 1));
        for (size_t i = 0; i < len; i++) {
            int c = rand_r(&seed);
            text[i] = (char)((c & 1) ? alphabet[(size_t)(c >> 1) % (sizeof(alphabet) - 1)]
                                     : (1 + (c >> 1) % 255));
        }
        text[len] = '\0';
        ck_assert_int_eq(hd_cmdline_new_from_string(text, &cl), 0);
        for (size_t i = 0; i < hd_cmdline_count(cl); i++) {
            ck_assert_ptr_nonnull(hd_cmdline_get_name_at(cl, i));
            ck_assert(hd_cmdline_get_name_at(cl, i)[0] != '\0');
        }
        for (size_t i = 0; i < hd_cmdline_get_invalid_count(cl); i++)
            ck_assert_int_eq(hd_cmdline_get_invalid(cl, i, NULL, NULL, NULL, NULL), 0);
        hd_cmdline_unref(cl);
    }
}
END_TEST

/* Replace ROOT/proc/cmdline with @len bytes of @data (a corrupted one, which no spec makes). */
static void put_cmdline(const char *root, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/proc/cmdline", root);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

HD_TEST(reads_root_proc_cmdline)
{
    struct fx fx;
    struct hd_ctx *ctx;
    struct hd_cmdline *cl = NULL;
    char path[512];

    ck_assert_msg(fx_materialize_text(&fx, "cmdline ro intel_iommu=on iommu=pt\n") == 0, "%s",
                  fx.error);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    ck_assert_int_eq(hd_cmdline_new_from_ctx(ctx, &cl), 0);
    ck_assert_uint_eq(hd_cmdline_count(cl), 3);
    ck_assert_str_eq(value_of(cl, "iommu"), "pt");
    hd_cmdline_unref(cl);
    put_cmdline(fx.root, "a\0b", 3);
    ck_assert_int_eq(hd_cmdline_new_from_ctx(ctx, &cl), -EILSEQ);
    ck_assert_ptr_null(cl);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "NUL"));
    put_cmdline(fx.root, "a\n", 2);
    ck_assert_int_eq(hd_cmdline_new_from_ctx(ctx, &cl), 0);
    ck_assert_ptr_eq(hd_cmdline_ref(cl), cl);
    ck_assert_ptr_eq(hd_cmdline_unref(cl), cl);
    ck_assert_ptr_null(hd_cmdline_unref(cl));
    snprintf(path, sizeof(path), "%s/proc/cmdline", fx.root);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hd_cmdline_new_from_ctx(ctx, &cl), -ENOENT);
    ck_assert_ptr_null(cl);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "proc/cmdline"));
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST
