/* test-vmmopts.c - hostdev-xml and qemu-args keep the functions of one device in one guest
 * slot and carry the option ROM settings (gpu-audio.spec: a GPU and its HDMI audio function;
 * variant.spec: a PF and its VFs). The XML is validated against libvirt's domain.rng. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters-tree.h"
#include "engine.h"
#include "hdtest.h"

HD_TEST_FILE(.timeout = 60);

HD_TEST(hostdev_xml_keeps_a_device_together)
{
    struct eng e;

    eng_start(&e, "gpu-audio");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml 0a:00.0 0a:00.1 01:00.0 --rom-bar off "
                        "--rom-file \"/usr/share/vgabios/rx 6800&'.rom\""), 0);
    ck_assert_str_eq(e.out,
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
    ck_assert(at_domain_validates(fx_path(&e.fx, "tmp"), e.out));
    /* Given the other way round, function 0 still carries multifunction; another start. */
    ck_assert_int_eq(eng_run(&e, "hostdev-xml 0a:00.1 0a:00.0 --guest-slot 0x1e"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "slot='0x1e' function='0x1'/>"));
    ck_assert_ptr_nonnull(strstr(e.out, "slot='0x1e' function='0x0' multifunction='on'/>"));
    /* One function alone: the VMM places it, as before. */
    ck_assert_int_eq(eng_run(&e, "hostdev-xml 0a:00.1"), 0);
    ck_assert_ptr_null(strstr(e.out, "<address type='pci'"));
    ck_assert_ptr_null(strstr(e.out, "<rom"));
    eng_stop(&e);
}
END_TEST

HD_TEST(qemu_args_keep_a_device_together)
{
    struct eng e;

    eng_start(&e, "gpu-audio");
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.0 0a:00.1 01:00.0 --rom-bar on --rom-file /x,y.rom"), 0);
    ck_assert_str_eq(e.out, "-device vfio-pci,host=0000:0a:00.0,id=hostdev0,addr=10.0,"
                          "multifunction=on,rombar=1,romfile=/x,,y.rom\n"
                          "-device vfio-pci,host=0000:0a:00.1,id=hostdev1,addr=10.1,rombar=1,"
                          "romfile=/x,,y.rom\n"
                          "-device vfio-pci,host=0000:01:00.0,id=hostdev2,rombar=1,"
                          "romfile=/x,,y.rom\n");
    ck_assert_int_eq(eng_run(&e, "--json qemu-args 0a:00.0 0a:00.1 --rom-bar off"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio-pci,host=0000:0a:00.0,id=hostdev0,addr=10.0,"
                                      "multifunction=on,rombar=0\""));
    /* Bad input, each named. */
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.1 0a:00.1"), 2);
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.0 --rom-bar maybe"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "--rom-bar 'maybe': on or off"));
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.0 --rom-file vbios.rom"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "--rom-file 'vbios.rom': an absolute path"));
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.0 --guest-slot 32"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "--guest-slot '32'"));
    ck_assert_int_eq(eng_run(&e, "qemu-args 0a:00.0 --guest-slot 0"), 2);
    ck_assert_int_eq(eng_run(&e, "qemu-args --cloud-hypervisor --rom-bar off 0a:00.0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "cloud-hypervisor"));
    ck_assert_int_eq(eng_run(&e, "hostdev-xml --rom-file /a\tb 0a:00.0"), 2);
    eng_stop(&e);
}
END_TEST

HD_TEST(functions_without_function_0_and_vfs)
{
    struct eng e;

    /* Two functions of one device without its function 0: a guest would not see them. */
    eng_start(&e, "variant");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:02:00.1 8086:10d3 class=020000"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:02:00.2 8086:10d3 class=020000"), 0);
    ck_assert_int_eq(eng_run(&e, "qemu-args 02:00.1 02:00.2"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:02:00.1: the functions of one device share a guest "
                                      "slot, which needs its function 0: give 0000:02:00.0 too"));
    ck_assert_int_eq(eng_run(&e, "qemu-args 02:00.0 02:00.1 02:00.2"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "addr=10.2\n"));
    /* VFs share a slot number by routing only: each keeps a slot of its own. */
    ck_assert_int_eq(eng_run(&e, "qemu-args 01:00.2 01:00.3"), 0);
    ck_assert_str_eq(e.out, "-device vfio-pci,host=0000:01:00.2,id=hostdev0\n"
                          "-device vfio-pci,host=0000:01:00.3,id=hostdev1\n");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml 01:00.0 01:00.2"), 0);
    ck_assert_ptr_null(strstr(e.out, "<address type='pci'"));
    eng_stop(&e);
}
END_TEST
