/* test-vmmopts.c - hostdev-xml and qemu-args keep the functions of one device in one guest
 * slot and carry the option ROM settings (gpu-audio.spec: a GPU and its HDMI audio function;
 * variant.spec: a PF and its VFs). The XML is validated against libvirt's domain.rng. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters-tree.h"
#include "engine.h"

static struct fx *cur_fx;
static char *out, *err;

static int hd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int hd(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = eng_vhostdev(cur_fx, &out, &err, "", fmt, ap);
    va_end(ap);
    return rc;
}

static void start(struct eng *e, const char *spec)
{
    eng_start(e, spec);
    cur_fx = &e->fx;
}

static void stop(struct eng *e)
{
    free(out);
    free(err);
    out = err = NULL;
    eng_stop(e);
}

START_TEST(hostdev_xml_keeps_a_device_together)
{
    struct eng e;
    char cmd[1024];
    FILE *f;

    start(&e, "gpu-audio");
    ck_assert_int_eq(hd("hostdev-xml 0a:00.0 0a:00.1 01:00.0 --rom-bar off "
                        "--rom-file \"/usr/share/vgabios/rx 6800&'.rom\""), 0);
    ck_assert_str_eq(out,
                     "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                     "  <driver name='vfio'/>\n"
                     "  <source>\n"
                     "    <address domain='0x0000' bus='0x0a' slot='0x00' function='0x0'/>\n"
                     "  </source>\n"
                     "  <rom bar='off' file='/usr/share/vgabios/rx 6800&amp;&apos;.rom'/>\n"
                     "  <address type='pci' domain='0x0000' bus='0x00' slot='0x10' "
                     "function='0x0' multifunction='on'/>\n"
                     "</hostdev>\n"
                     "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                     "  <driver name='vfio'/>\n"
                     "  <source>\n"
                     "    <address domain='0x0000' bus='0x0a' slot='0x00' function='0x1'/>\n"
                     "  </source>\n"
                     "  <rom bar='off' file='/usr/share/vgabios/rx 6800&amp;&apos;.rom'/>\n"
                     "  <address type='pci' domain='0x0000' bus='0x00' slot='0x10' "
                     "function='0x1'/>\n"
                     "</hostdev>\n"
                     "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                     "  <driver name='vfio'/>\n"
                     "  <source>\n"
                     "    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
                     "  </source>\n"
                     "  <rom bar='off' file='/usr/share/vgabios/rx 6800&amp;&apos;.rom'/>\n"
                     "</hostdev>\n");
    /* In a domain, it is what libvirt's schema accepts. */
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/dom.xml"), "w"));
    fprintf(f, "<domain type='kvm'>\n  <name>vm1</name>\n  <memory>131072</memory>\n"
               "  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n%s  </devices>\n</domain>\n",
            out);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "xmllint --noout --relaxng /usr/share/libvirt/schemas/domain.rng "
                               "'%s'", fx_path(&e.fx, "tmp/dom.xml"));
    ck_assert_int_eq(at_run(cmd, NULL, NULL), 0);
    /* Given the other way round, function 0 still carries multifunction; another start. */
    ck_assert_int_eq(hd("hostdev-xml 0a:00.1 0a:00.0 --guest-slot 0x1e"), 0);
    ck_assert_ptr_nonnull(strstr(out, "slot='0x1e' function='0x1'/>"));
    ck_assert_ptr_nonnull(strstr(out, "slot='0x1e' function='0x0' multifunction='on'/>"));
    /* One function alone: the VMM places it, as before. */
    ck_assert_int_eq(hd("hostdev-xml 0a:00.1"), 0);
    ck_assert_ptr_null(strstr(out, "<address type='pci'"));
    ck_assert_ptr_null(strstr(out, "<rom"));
    stop(&e);
}
END_TEST

START_TEST(qemu_args_keep_a_device_together)
{
    struct eng e;

    start(&e, "gpu-audio");
    ck_assert_int_eq(hd("qemu-args 0a:00.0 0a:00.1 01:00.0 --rom-bar on --rom-file /x,y.rom"), 0);
    ck_assert_str_eq(out, "-device vfio-pci,host=0000:0a:00.0,id=hostdev0,addr=10.0,"
                          "multifunction=on,rombar=1,romfile=/x,,y.rom\n"
                          "-device vfio-pci,host=0000:0a:00.1,id=hostdev1,addr=10.1,rombar=1,"
                          "romfile=/x,,y.rom\n"
                          "-device vfio-pci,host=0000:01:00.0,id=hostdev2,rombar=1,"
                          "romfile=/x,,y.rom\n");
    ck_assert_int_eq(hd("--json qemu-args 0a:00.0 0a:00.1 --rom-bar off"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"vfio-pci,host=0000:0a:00.0,id=hostdev0,addr=10.0,"
                                      "multifunction=on,rombar=0\""));
    /* Bad input, each named. */
    ck_assert_int_eq(hd("qemu-args 0a:00.1 0a:00.1"), 2);
    ck_assert_int_eq(hd("qemu-args 0a:00.0 --rom-bar maybe"), 2);
    ck_assert_ptr_nonnull(strstr(err, "--rom-bar 'maybe': on or off"));
    ck_assert_int_eq(hd("qemu-args 0a:00.0 --rom-file vbios.rom"), 2);
    ck_assert_ptr_nonnull(strstr(err, "--rom-file 'vbios.rom': an absolute path"));
    ck_assert_int_eq(hd("qemu-args 0a:00.0 --guest-slot 32"), 2);
    ck_assert_ptr_nonnull(strstr(err, "--guest-slot '32'"));
    ck_assert_int_eq(hd("qemu-args 0a:00.0 --guest-slot 0"), 2);
    ck_assert_int_eq(hd("qemu-args --cloud-hypervisor --rom-bar off 0a:00.0"), 2);
    ck_assert_ptr_nonnull(strstr(err, "cloud-hypervisor"));
    ck_assert_int_eq(hd("hostdev-xml --rom-file /a\tb 0a:00.0"), 2);
    stop(&e);
}
END_TEST

START_TEST(functions_without_function_0_and_vfs)
{
    struct eng e;

    /* Two functions of one device without its function 0: a guest would not see them. */
    start(&e, "variant");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:02:00.1 8086:10d3 class=020000"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:02:00.2 8086:10d3 class=020000"), 0);
    ck_assert_int_eq(hd("qemu-args 02:00.1 02:00.2"), 2);
    ck_assert_ptr_nonnull(strstr(err, "0000:02:00.1: the functions of one device share a guest "
                                      "slot, which needs its function 0: give 0000:02:00.0 too"));
    ck_assert_int_eq(hd("qemu-args 02:00.0 02:00.1 02:00.2"), 0);
    ck_assert_ptr_nonnull(strstr(out, "addr=10.2\n"));
    /* VFs share a slot number by routing only: each keeps a slot of its own. */
    ck_assert_int_eq(hd("qemu-args 01:00.2 01:00.3"), 0);
    ck_assert_str_eq(out, "-device vfio-pci,host=0000:01:00.2,id=hostdev0\n"
                          "-device vfio-pci,host=0000:01:00.3,id=hostdev1\n");
    ck_assert_int_eq(hd("hostdev-xml 01:00.0 01:00.2"), 0);
    ck_assert_ptr_null(strstr(out, "<address type='pci'"));
    stop(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmmopts");
    TCase *tc = tcase_create("vmmopts");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hostdev_xml_keeps_a_device_together);
    tcase_add_test(tc, qemu_args_keep_a_device_together);
    tcase_add_test(tc, functions_without_function_0_and_vfs);
    suite_add_tcase(s, tc);
    return suite_run(s);
}
