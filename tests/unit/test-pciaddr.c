/* test-pciaddr.c - address and selector parsing: every accepted form, every rejection. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <hostdev/hostdev.h>

#include "hdtest.h"

static void expect_addr(const char *text, unsigned dom, unsigned bus, unsigned slot, unsigned fn)
{
    struct hd_pci_addr a;
    ck_assert_msg(hd_pci_addr_parse(text, &a) == 0, "'%s' should parse", text);
    ck_assert_uint_eq(a.domain, dom);
    ck_assert_uint_eq(a.bus, bus);
    ck_assert_uint_eq(a.slot, slot);
    ck_assert_uint_eq(a.function, fn);
}

HD_TEST(accepts_every_form)
{
    expect_addr("0000:06:12.5", 0, 6, 0x12, 5);
    expect_addr("06:12.5", 0, 6, 0x12, 5);
    expect_addr("pci_0000_06_12_5", 0, 6, 0x12, 5);
    expect_addr("ABCD:eF:1f.7", 0xabcd, 0xef, 0x1f, 7);
    expect_addr("10000:00:00.0", 0x10000, 0, 0, 0); /* VMD domains */
    expect_addr("0:0:0.0", 0, 0, 0, 0);
}
END_TEST

HD_TEST(rejects_bad_input)
{
    static const char *const bad[] = {
        "", "0000:06:20.0" /* slot > 0x1f */, "0000:06:12.8" /* function > 7 */,
        "0000:06:12", "0000:106:12.0", "00000:06:12.0x", "0000:06:12.5 ", " 0000:06:12.5",
        "0000-06-12.5", "pci_0000_06_12.5", "pci_0000_06_20_0", "0000:1f.7",
        "123456789:00:00.0", "g000:00:00.0", "0000:06:12.55", "06:12", "pci_", ":06:12.5",
        "0000:06:12.5\n",
    };
    struct hd_pci_addr a = {.domain = 42};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(hd_pci_addr_parse(bad[i], &a) == -EINVAL, "'%s' should be rejected",
                      bad[i]);
        ck_assert_uint_eq(a.domain, 42); /* untouched on error */
    }
    ck_assert_int_eq(hd_pci_addr_parse(NULL, &a), -EINVAL);
}
END_TEST

HD_TEST(formats_canonically)
{
    struct hd_pci_addr a = {.domain = 0, .bus = 0x6, .slot = 0x12, .function = 5};
    char buf[HD_PCI_ADDR_BUFSZ];
    ck_assert_str_eq(hd_pci_addr_format(&a, buf), "0000:06:12.5");
    a.domain = 0xffffffff;
    a.bus = 0xff;
    a.slot = 0x1f;
    a.function = 7;
    ck_assert_str_eq(hd_pci_addr_format(&a, buf), "ffffffff:ff:1f.7");
}
END_TEST

HD_TEST(compares_in_address_order)
{
    struct hd_pci_addr a, b;
    hd_pci_addr_parse("0000:00:1f.0", &a);
    hd_pci_addr_parse("0000:01:00.0", &b);
    ck_assert_int_lt(hd_pci_addr_compare(&a, &b), 0);
    ck_assert_int_gt(hd_pci_addr_compare(&b, &a), 0);
    ck_assert(hd_pci_addr_equal(&a, &a));
}
END_TEST

HD_TEST(selectors)
{
    struct hd_pci_selector s;
    ck_assert_int_eq(hd_pci_selector_parse("8086:10D3", &s), 0);
    ck_assert_int_eq(s.kind, HD_SELECTOR_IDS);
    ck_assert_uint_eq(s.vendor, 0x8086);
    ck_assert_uint_eq(s.device, 0x10d3);
    ck_assert_int_eq(hd_pci_selector_parse("03:00.0", &s), 0);
    ck_assert_int_eq(s.kind, HD_SELECTOR_ADDR);
    ck_assert_uint_eq(s.addr.bus, 3);
    ck_assert_int_eq(hd_pci_selector_parse("8086:10d", &s), -EINVAL);
    ck_assert_int_eq(hd_pci_selector_parse("8086:10d3x", &s), -EINVAL);
    ck_assert_int_eq(hd_pci_selector_parse("808:10d3", &s), -EINVAL);
    ck_assert_int_eq(hd_pci_selector_parse("xyzw:10d3", &s), -EINVAL);
}
END_TEST
