/* test-vm-args.c - a VM's devices read from the assignment map rather than typed again:
 * qemu-args --vm and hostdev-xml --vm give what the ADDR form gives for the devices the VM
 * holds (not the IOMMU group members that came with --group), and assignments shows only the
 * entries of a VM or of the devices named. On the fake kernel (tests/trees/demo.spec: a GPU
 * with its audio function, mdev.spec, usb-scsi.spec). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hdtest.h"

HD_TEST_FILE(.timeout = 120);

#define BOOT_MDEV "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

/* `hostdev @form` and `hostdev @addr_form` print the same, exit 0 both; the output stays in
 * e->out. */
static void same_output(struct eng *e, const char *form, const char *addr_form)
{
    char *want;

    ck_assert_msg(eng_run(e, "%s", addr_form) == 0, "%s: %s", addr_form, e->err);
    want = strdup(e->out);
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(eng_run(e, "%s", form) == 0, "%s: %s", form, e->err);
    ck_assert_msg(strcmp(e->out, want) == 0, "%s:\n%s\n%s:\n%s", form, e->out, addr_form, want);
    free(want);
}

/* One line on stderr, containing @text. */
static void one_line(struct eng *e, const char *text)
{
    ck_assert_msg(strstr(e->err, text) != NULL, "'%s' not in: %s", text, e->err);
    ck_assert_ptr_eq(strchr(e->err, '\n'), e->err + strlen(e->err) - 1);
}

/* A GPU and its audio function (one guest slot, function 0 multifunction) and a USB
 * controller: the arguments of the VM are those of its addresses, in every form. */
HD_TEST(qemu_args_of_a_vm_are_those_of_its_addresses)
{
    struct eng e;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "acquire --vm web 01:00.0 01:00.1 04:00.0"), 0);
    same_output(&e, "qemu-args --vm web", "qemu-args 01:00.0 01:00.1 04:00.0");
    ck_assert_str_eq(e.out, "-device vfio-pci,host=0000:01:00.0,id=hostdev0,addr=10.0,"
                            "multifunction=on\n"
                            "-device vfio-pci,host=0000:01:00.1,id=hostdev1,addr=10.1\n"
                            "-device vfio-pci,host=0000:04:00.0,id=hostdev2\n");
    same_output(&e, "--json qemu-args --vm web --guest-slot 5 --rom-bar off",
                "--json qemu-args --guest-slot 5 --rom-bar off 01:00.0 01:00.1 04:00.0");
    ck_assert_ptr_nonnull(strstr(e.out, "addr=5.0,multifunction=on,rombar=0"));
    same_output(&e, "qemu-args --cloud-hypervisor --vm web",
                "qemu-args --cloud-hypervisor 01:00.0 01:00.1 04:00.0");
    same_output(&e, "hostdev-xml --vm web --managed no", "hostdev-xml --managed no 01:00.0 "
                "01:00.1 04:00.0");
    ck_assert_ptr_nonnull(strstr(e.out, "slot='0x10' function='0x0' multifunction='on'"));
    /* hostdev holds them: libvirt is not to manage (reattach) them unless told to. */
    same_output(&e, "--json hostdev-xml --vm web", "--json hostdev-xml --managed no 01:00.0 "
                "01:00.1 04:00.0");
    ck_assert_ptr_null(strstr(e.out, "managed='yes'"));
    same_output(&e, "hostdev-xml --vm web --managed yes", "hostdev-xml 01:00.0 01:00.1 04:00.0");
    ck_assert_ptr_nonnull(strstr(e.out, "managed='yes'"));
    /* Another VM's devices are not this one's. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm db 03:00.0"), 0);
    same_output(&e, "qemu-args --vm db", "qemu-args 03:00.0");
    same_output(&e, "qemu-args --vm web", "qemu-args 01:00.0 01:00.1 04:00.0");
    eng_stop(&e);
}
END_TEST

/* What --group brought along is on vfio for the group's sake: the guest is not given it. */
HD_TEST(group_members_are_not_given_to_the_guest)
{
    struct eng e;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "acquire --vm g --group 01:00.0 03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "assignments --vm g"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:01:00.1  g "));
    ck_assert_ptr_nonnull(strstr(e.out, "(with --group)"));
    same_output(&e, "qemu-args --vm g", "qemu-args 01:00.0 03:00.0");
    ck_assert_ptr_null(strstr(e.out, "01:00.1"));
    same_output(&e, "hostdev-xml --vm g", "hostdev-xml --managed no 01:00.0 03:00.0");
    ck_assert_ptr_null(strstr(e.out, "function='0x1'"));
    eng_stop(&e);
}
END_TEST

/* Mediated, USB and SCSI devices come from the map as their names do on the command line. */
HD_TEST(every_kind_the_map_records)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "acquire --vm m " BOOT_MDEV), 0);
    same_output(&e, "qemu-args --vm m", "qemu-args " BOOT_MDEV);
    ck_assert_ptr_nonnull(strstr(e.out, "sysfsdev=/sys/bus/mdev/devices/" BOOT_MDEV));
    same_output(&e, "hostdev-xml --vm m", "hostdev-xml --managed no " BOOT_MDEV);
    eng_stop(&e);
    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "acquire --vm u --owner 107:108 usb_1_2 scsi_2_0_2_0"), 0);
    same_output(&e, "qemu-args --vm u", "qemu-args usb_1_2 scsi_2_0_2_0");
    ck_assert_ptr_nonnull(strstr(e.out, "usb-host,vendorid=0x0403,productid=0x6001"));
    ck_assert_ptr_nonnull(strstr(e.out, "scsi-generic"));
    same_output(&e, "--json hostdev-xml --vm u",
                "--json hostdev-xml --managed no usb_1_2 scsi_2_0_2_0");
    eng_stop(&e);
}
END_TEST

HD_TEST(vm_form_refusals)
{
    struct eng e;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "acquire --vm web 03:00.0"), 0);
    size_t writes = eng_writes(&e);
    /* Devices given twice over: bad usage, one line. */
    ck_assert_int_eq(eng_run(&e, "qemu-args --vm web 03:00.0"), 2);
    one_line(&e, "--vm gives the devices");
    ck_assert_int_eq(eng_run(&e, "qemu-args 03:00.0 --vm web"), 2);
    ck_assert_int_eq(eng_run(&e, "qemu-args --vm web --domain-xml /nonexistent.xml"), 2);
    one_line(&e, "--vm gives the devices");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml --vm web 03:00.0"), 2);
    one_line(&e, "--vm gives the devices");
    ck_assert_int_eq(eng_run(&e, "qemu-args --vm 'a b'"), 2);
    one_line(&e, "invalid VM id 'a b'");
    /* A VM that holds nothing: the operation fails, as release of it does. */
    ck_assert_int_eq(eng_run(&e, "release --vm nobody"), 1);
    one_line(&e, "vm nobody holds no device");
    ck_assert_int_eq(eng_run(&e, "qemu-args --vm nobody"), 1);
    one_line(&e, "qemu-args: vm nobody holds no device");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml --vm nobody"), 1);
    one_line(&e, "hostdev-xml: vm nobody holds no device");
    ck_assert_int_eq(eng_run(&e, "--json qemu-args --vm nobody"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_ptr_nonnull(strstr(e.err, "{\"error\":\"vm nobody holds no device\",\"exit\":1"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* A damaged map stops it as it stops every command. */
    eng_put(&e, "run/hostdev/map/assignments", "# hostdev assignments v2\ngarbage\n");
    ck_assert_int_eq(eng_run(&e, "qemu-args --vm web"), 2);
    one_line(&e, "hostdev recover");
    eng_stop(&e);
}
END_TEST

HD_TEST(assignments_filters)
{
    struct eng e;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "acquire --vm web 01:00.0 01:00.1"), 0);
    /* An interface names its device here too, as wherever an address is taken: on its host
     * driver (the interface is there), no VM holds it. */
    ck_assert_int_eq(eng_run(&e, "assignments enp3s0"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "acquire --vm db 03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "assignments --vm db"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "DEVICE "));
    ck_assert_ptr_nonnull(strstr(e.out, "0000:03:00.0  db "));
    ck_assert_ptr_null(strstr(e.out, "web"));
    /* Named devices, in the map's order, each once; options after them too. */
    ck_assert_int_eq(eng_run(&e, "assignments 3:0.0 0000:01:00.1 03:00.0"), 0);
    ck_assert_ptr_null(strstr(e.out, "0000:01:00.0"));
    ck_assert(strstr(e.out, "0000:01:00.1") < strstr(e.out, "0000:03:00.0"));
    ck_assert_ptr_null(strstr(strstr(e.out, "0000:03:00.0") + 1, "0000:03:00.0"));
    ck_assert_int_eq(eng_run(&e, "assignments 01:00.0 --vm db"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "--json assignments --vm web 01:00.1"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"address\": \"0000:01:00.1\""));
    ck_assert_ptr_null(strstr(e.out, "0000:01:00.0"));
    /* Nothing matches: nothing printed (an empty array), and that is no error. */
    ck_assert_int_eq(eng_run(&e, "assignments --vm nobody"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "assignments 04:00.0 usb_1_2 " BOOT_MDEV), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "--json assignments --vm nobody"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    /* Bad input: exit 2, one line naming it. */
    ck_assert_int_eq(eng_run(&e, "assignments 01:00.0 zz"), 2);
    one_line(&e, "invalid device 'zz'");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(eng_run(&e, "assignments usb_x"), 2);
    one_line(&e, "'usb_x'");
    ck_assert_int_eq(eng_run(&e, "assignments --vm 'a b'"), 2);
    one_line(&e, "invalid VM id 'a b'");
    ck_assert_int_eq(eng_run(&e, "assignments --frob"), 2);
    /* Without a filter, as before. */
    ck_assert_int_eq(eng_run(&e, "release --vm web"), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm db"), 0);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_str_eq(e.out, "no devices are assigned\n");
    eng_stop(&e);
}
END_TEST

/* The advice a device off vfio-pci gets is one detach takes: an SR-IOV PF with VFs, which
 * detach refuses (it would destroy them), is told that, not to detach it; its VF and its
 * sibling without VFs are told to detach, and detach does take them. */
HD_TEST(qemu_args_advice_is_what_detach_does)
{
    struct eng e;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "qemu-args 03:00.0"), 0);
    one_line(&e, "0000:03:00.0 is not on vfio-pci (it is ixgbe), and 'hostdev detach' refuses it "
                 "without --force: 0000:03:00.0 is an SR-IOV PF with 8 VFs");
    ck_assert_ptr_null(strstr(e.err, "run 'hostdev detach"));
    ck_assert_int_eq(eng_run(&e, "detach 03:00.0"), 1);
    ck_assert_int_eq(eng_run(&e, "--json qemu-args 03:00.0"), 0);
    ck_assert_ptr_nonnull(
        strstr(e.out, "refuses it without --force: 0000:03:00.0 is an SR-IOV PF"));
    ck_assert_str_eq(e.err, "");
    /* A VF, and the port without VFs: detach is the advice, and it works. */
    ck_assert_int_eq(eng_run(&e, "qemu-args 03:10.0 03:00.1"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "run 'hostdev detach 0000:03:10.0' before"));
    ck_assert_ptr_nonnull(strstr(e.err, "run 'hostdev detach 0000:03:00.1' before"));
    ck_assert_int_eq(eng_run(&e, "detach 0000:03:10.0 0000:03:00.1"), 0);
    ck_assert_int_eq(eng_run(&e, "qemu-args 03:10.0 03:00.1"), 0);
    ck_assert_str_eq(e.err, "");
    eng_stop(&e);
}
END_TEST

/* hostdev-xml says the same of what libvirt would meet: managed='no', a device off vfio-pci
 * (libvirt cannot start the domain), with detach's own answer; managed='yes', only what
 * libvirt's detach would take from the host (a PF whose VFs go with it), not a device it may
 * simply detach. */
HD_TEST(hostdev_xml_warns_of_what_libvirt_would_meet)
{
    struct eng e;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml 03:00.0 03:10.0"), 0);
    one_line(&e, "hostdev hostdev-xml: warning: 0000:03:00.0 is on ixgbe, and libvirt's managed "
                 "detach would take it from the host: 0000:03:00.0 is an SR-IOV PF with 8 VFs");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml --managed no 03:10.0"), 0);
    one_line(&e, "hostdev hostdev-xml: warning: 0000:03:10.0 is not on vfio-pci (it is ixgbevf): "
                 "run 'hostdev detach 0000:03:10.0' before starting the VM");
    ck_assert_int_eq(eng_run(&e, "--json hostdev-xml --managed no 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"warning\": \"0000:03:00.0 is not on vfio-pci (it is "
                                        "ixgbe), and 'hostdev detach' refuses it"));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "detach 0000:03:10.0"), 0);
    ck_assert_int_eq(eng_run(&e, "hostdev-xml --managed no 03:10.0"), 0);
    ck_assert_str_eq(e.err, "");
    eng_stop(&e);
}
END_TEST
