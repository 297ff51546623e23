/* test-badinput.c - the bad-input corpus: command-line arguments, config files, kernel command
 * lines and sysfs contents that are wrong in every way we could think of. For each case: the
 * exit status (2 bad input, 1 runtime failure), at most one line on stderr and it names the
 * input, nothing changed (no write in the fake kernel's log, the tree and state directory as
 * they were), and output that parses as JSON or XML where there is output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "hdtest.h"
#include "fixture.h"

enum tree {
    FUSE,  /* demo.spec mounted: the kernel's rules apply and its log shows every write */
    PLAIN, /* demo.spec materialized as plain files: anything can be corrupted */
};
enum out { NONE, JSON, XML };
enum { WRITES_OK = 1 }; /* the case may write (a runtime failure that puts things back) */

struct bad {
    const char *name;
    enum tree tree;
    const char *setup; /* sh, run in ROOT with $HD, $FS, $R, $D (03:00.0's sysfs directory) */
    const char *cmd;   /* sh, the same variables; the command under test */
    int status;
    const char *needle; /* in the one stderr line; NULL: stderr must be empty */
    enum out out;
    unsigned int flags;
};

#define D03     "sys/bus/pci/devices/0000:03:00.0"
#define LONG300 "$(printf 'v%.0s' $(seq 300))"
#define LONG250 "$(printf 'v%.0s' $(seq 250))" /* a name just below NAME_MAX */
#define PCI_IDS_WEIRD                                                                              \
    "printf '8086  Intel <&\"quoted\">\\n\\t10d3  82574L \\377\\376 ]]> &amp; \\033[31m\\n' "      \
    "> $R/names.ids"
/* Names that would drive a terminal (U+009B, a C1 CSI) or reorder a line (U+202E) */
#define PCI_IDS_BIDI                                                                               \
    "printf '8086  Intel \\342\\200\\256evil\\n\\t10d3  NIC \\302\\233[31m\\n' > $R/names.ids"
/* Fails (99) when @out holds either character raw, or (98) lacks @escape. */
#define NO_RAW_CONTROLS(cmd, escape)                                                               \
    "o=$(" cmd ") || exit $?; bidi=$(printf '\\342\\200\\256'); csi=$(printf '\\302\\233'); "      \
    "case \"$o\" in *\"$bidi\"*|*\"$csi\"*) exit 99;; esac; "                                       \
    "printf '%s' \"$o\" | grep -qF '" escape "' || exit 98"
#define RESERVE_CONF(line)                                                                         \
    "mkdir -p etc/hostdev.d && printf '" line "\\n' > etc/hostdev.d/10-bad.conf"
#define DOMXML(body) "printf '%s' \"<domain><devices>" body "</devices></domain>\" > $R/d.xml"
/* An <interface type='hostdev'>'s source: 03:00.0 */
#define IFACE_PCI "<source><address type='pci' bus='3' slot='0' function='0'/></source>"

static const struct bad cases[] = {
    /* ---- command-line arguments ---- */
    {"args: function 9", FUSE, NULL, "$HD detach 0000:03:00.9", 2, "'0000:03:00.9'", NONE, 0},
    /* A value from the environment is named as its variable, not as an option never typed. */
    {"env: bad HOSTDEV_STATE_DIR", FUSE, NULL, "HOSTDEV_STATE_DIR=../x $HD assignments", 2,
     "invalid HOSTDEV_STATE_DIR", NONE, 0},
    {"env: missing HOSTDEV_NAMES", FUSE, NULL, "HOSTDEV_NAMES=/nonexistent $HD list", 2,
     "HOSTDEV_NAMES '/nonexistent'", NONE, 0},
    /* A VM's configuration for a bridge names what no VM can be given. */
    {"args: qemu-args of a bridge", FUSE, NULL, "$HD qemu-args 00:01.0", 2,
     "0000:00:01.0 is a bridge", NONE, 0},
    {"args: hostdev-xml of a bridge", FUSE, NULL, "$HD --json hostdev-xml 00:1c.0", 2,
     "0000:00:1c.0 is a bridge", NONE, 0},
    /* Refused as what it is, before any lock file (a plain tree shows every file made). */
    {"args: detach of a bridge", PLAIN, NULL, "$HD detach 00:01.0", 2, "0000:00:01.0 is a bridge",
     NONE, 0},
    {"args: detach --group of a bridge", PLAIN, NULL, "$HD detach --group 00:01.0", 2,
     "0000:00:01.0 is a bridge", NONE, 0},
    {"args: acquire of a bridge", PLAIN, NULL, "$HD --json acquire --vm x 00:1c.0", 2,
     "0000:00:1c.0 is a bridge", NONE, 0},
    /* A group vfio's unsafe no-IOMMU mode made (the kernel names it so) is no VM's. */
    {"args: acquire of a no-IOMMU device", PLAIN,
     "echo vfio-noiommu > sys/kernel/iommu_groups/8/name",
     "$HD acquire --vm x --unmanaged 03:00.0", 2, "QEMU cannot assign a no-IOMMU device", NONE,
     0},
    {"args: acquire of a no-IOMMU group by name", PLAIN,
     "echo vfio-noiommu > sys/kernel/iommu_groups/8/name", "$HD --json acquire --vm x 03:00.0",
     2, "0000:03:00.0 is a no-IOMMU device", NONE, 0},
    /* Under its host driver or not (--force), a bridge is no VM's device to reset. */
    {"args: reset of a bridge", PLAIN, NULL, "$HD reset 00:01.0", 2, "0000:00:01.0 is a bridge",
     NONE, 0},
    {"args: reset --force of a bridge", PLAIN, NULL, "$HD --json reset --force 00:1c.0", 2,
     "0000:00:1c.0 is a bridge", NONE, 0},
    {"args: doctor of no device", FUSE, NULL, "$HD doctor 0000:09:00.0", 2,
     "0000:09:00.0: no such PCI device", NONE, 0},
    /* One device named twice, as detach and acquire refuse it: a VM's configuration would
     * hold it twice, a set to check would count it twice. */
    {"args: qemu-args of one device twice", FUSE, NULL, "$HD qemu-args 03:00.0 enp3s0", 2,
     "0000:03:00.0 is given twice", NONE, 0},
    {"args: hostdev-xml of one device twice", FUSE, NULL,
     "$HD --json hostdev-xml 03:00.0 0000:03:00.0", 2, "0000:03:00.0 is given twice", NONE, 0},
    {"args: check of one device twice", FUSE, NULL, "$HD check 01:00.0 01:00.1 1:0.0", 2,
     "0000:01:00.0 is given twice", NONE, 0},
    {"args: cmdline of one device twice", FUSE, NULL, "$HD cmdline 03:00.0 pci_0000_03_00_0", 2,
     "0000:03:00.0 is given twice", NONE, 0},
    {"args: empty address", FUSE, NULL, "$HD detach ''", 2, "invalid PCI address ''", NONE, 0},
    {"args: overlong address", FUSE, NULL, "$HD detach " LONG300, 2, "invalid PCI address 'vvv",
     NONE, 0},
    {"args: newline in address", FUSE, NULL, "$HD detach \"$(printf '03:00.0\\nx')\"", 2,
     "invalid PCI address", NONE, 0},
    {"args: non-UTF-8 address", FUSE, NULL, "$HD detach \"$(printf '\\377\\376')\"", 2,
     "invalid PCI address", NONE, 0},
    {"args: 9-digit domain", FUSE, NULL, "$HD detach 100000000:03:00.0", 2, "'100000000:03:00.0'",
     NONE, 0},
    {"args: dash address", FUSE, NULL, "$HD detach -- -1", 2, "'-1'", NONE, 0},
    {"args: VM memory 16Q", FUSE, NULL, "$HD doctor --vm-memory 16Q", 2, "--vm-memory '16Q'",
     NONE, 0},
    {"args: memlock of no such unit", FUSE, NULL, "$HD --json doctor --vm-memory 4G --unit nope",
     2, "unit nope.service is not running", NONE, 0},
    {"args: absent device", FUSE, NULL, "$HD show 0000:07:00.0", 2,
     "0000:07:00.0: no such PCI device", NONE, 0},
    {"args: libvirt name, function 8", FUSE, NULL, "$HD reattach pci_0000_03_00_8", 2,
     "'pci_0000_03_00_8'", NONE, 0},
    {"args: slot 0x20", FUSE, NULL, "$HD reset 0000:03:20.0", 2, "'0000:03:20.0'", NONE, 0},
    {"args: bad selector", FUSE, NULL, "$HD list 8086:zzzz", 2, "'8086:zzzz'", NONE, 0},
    {"args: unknown capability", FUSE, NULL, "$HD list --caps pcie", 2, "'pcie'", NONE, 0},
    /* An empty value ("--caps $CAPS" with CAPS unset) is a mistake: not the whole PCI
     * listing, nor a driver that is not registered. */
    {"args: list of no capability", FUSE, NULL, "$HD list --caps ''", 2,
     "--caps '' names no capability", NONE, 0},
    {"args: list of commas for capabilities", FUSE, NULL, "$HD list --caps ,", 2,
     "--caps ',' names no capability", NONE, 0},
    {"args: list of an empty driver", FUSE, NULL, "$HD list --driver ''", 2,
     "--driver '' is empty", NONE, 0},
    /* Node-device listings take no operand, a node device's name included. */
    {"args: node-device listing of one name", FUSE, NULL, "$HD list --caps usb_device usb_1_2",
     2, "device selectors and --driver go with PCI listings only", NONE, 0},
    /* --json asks for JSON: the tree is vdsClient's Python text. */
    {"args: VDSM tree as JSON", FUSE, NULL, "$HD --json list --format vdsm --tree", 2,
     "--tree draws vdsClient's text, not JSON", NONE, 0},
    {"args: unknown format", FUSE, NULL, "$HD list --format xml", 2, "'xml'", NONE, 0},
    /* Given twice, list's --format is refused as export's is, not the last one taken. */
    {"args: list --format twice", FUSE, NULL, "$HD list --format json --format vdsm", 2,
     "--format given twice: 'json' and 'vdsm'", JSON, 0},
    /* Text asked for and JSON too, in either order: neither wins silently. */
    {"args: list text as JSON", FUSE, NULL, "$HD list --format text --json", 2,
     "--format text contradicts --json", JSON, 0},
    {"args: list JSON as text", FUSE, NULL, "$HD --json list --format text", 2,
     "--format text contradicts --json", JSON, 0},
    {"args: negative timeout", FUSE, NULL, "$HD --timeout -5 list", 2, "'-5'", NONE, 0},
    {"args: huge timeout", FUSE, NULL, "$HD --timeout 99999999999999999999 list", 2,
     "'99999999999999999999'", NONE, 0},
    {"args: empty timeout", FUSE, NULL, "$HD --timeout '' list", 2, "--timeout ''", NONE, 0},
    /* A glob is a filter: matching nothing is an empty listing, as lspci's -s; a word that is
     * no address, ids, interface or glob names no device: bad input. */
    {"args: list glob matching nothing", FUSE, NULL, "$HD list 'enp9*' '09:*'", 0, NULL, NONE, 0},
    {"args: list interface not there", FUSE, NULL, "$HD list enp9s0", 2,
     "invalid device selector 'enp9s0'", NONE, 0},
    {"args: missing root", FUSE, NULL, "$B/hostdev --root $R/nonexistent list", 2, "nonexistent",
     NONE, 0},
    {"args: root is a file", FUSE, NULL, "$B/hostdev --root $R/proc/cmdline list", 2,
     "proc/cmdline", NONE, 0},
    {"args: HOSTDEV_ROOT missing", FUSE, NULL, "HOSTDEV_ROOT=$R/nowhere $B/hostdev list", 2,
     "nowhere", NONE, 0},
    {"args: driver with slashes", FUSE, NULL, "$HD detach --driver ../../x 03:00.0", 2, "'../../x'",
     NONE, 0},
    {"args: overlong driver", FUSE, NULL, "$HD detach --driver " LONG300 " 03:00.0", 2,
     "--driver 'vvv", NONE, 0},
    {"args: unknown command", FUSE, NULL, "$HD frobnicate", 2, "'frobnicate'", NONE, 0},
    {"args: unknown option", FUSE, NULL, "$HD check 03:00.0 --bogus", 2,
     "'--bogus' is not an option of check", NONE, 0},
    /* getopt takes a negative count for an option: say no negative number is accepted. */
    {"args: negative count", FUSE, NULL, "$HD sriov 03:00.0 -1", 2,
     "'-1' is not an option of sriov (no negative number is accepted)", NONE, 0},
    {"args: persisted extra", FUSE, NULL, "$HD persisted extra", 2,
     "unexpected argument 'extra' (see 'hostdev persisted --help')", NONE, 0},
    {"args: export extra", FUSE, NULL, "$HD export --format nfd extra", 2,
     "unexpected argument 'extra' (see 'hostdev export --help')", NONE, 0},
    {"args: version extra", FUSE, NULL, "$HD --version extra", 2,
     "unexpected argument 'extra' after --version", NONE, 0},
    {"args: version extra, JSON", FUSE, NULL, "$HD --json --version extra", 2,
     "unexpected argument 'extra' after --version", JSON, 0},
    {"args: help of no command", FUSE, NULL, "$HD --help extra", 2,
     "unknown command 'extra'", NONE, 0},
    {"args: cmdline of ids no device has", FUSE, NULL, "$HD cmdline --reserve 1234:5678", 2,
     "1234:5678: no PCI device has these ids", NONE, 0},
    {"args: cmdline of ids no device has, JSON", FUSE, NULL, "$HD --json cmdline 1234:5678", 2,
     "1234:5678: no PCI device has these ids", JSON, 0},
    /* Commands with no option of their own name the one given, as the others do. */
    {"args: check --group", FUSE, NULL, "$HD check --group 01:00.0", 2,
     "'--group' is not an option of check", NONE, 0},
    {"args: show with an option", FUSE, NULL, "$HD show -q 03:00.0", 2,
     "'-q' is not an option of show", NONE, 0},
    {"args: verify with an option", FUSE, NULL, "$HD --json verify --force 03:00.0", 2,
     "'--force' is not an option of verify", NONE, 0},
    {"args: verify of two devices", FUSE, NULL, "$HD verify 03:00.0 02:00.0", 2,
     "verify takes one device", NONE, 0},
    {"args: --json and no command", FUSE, NULL, "$HD --json", 2,
     "{\"error\":\"no command given\",\"exit\":2,\"command\":null,", NONE, 0},
    /* An option the command has, its value missing, is told so: not "not an option". */
    {"args: long option without its value", FUSE, NULL, "$HD detach 03:00.0 --driver", 2,
     "hostdev detach: option --driver needs a value; usage: ", NONE, 0},
    {"args: --vm without its value", FUSE, NULL, "$HD --json acquire --vm", 2,
     "{\"error\":\"option --vm needs a value; usage: hostdev acquire --vm ID ", NONE, 0},
    {"args: short option without its value", FUSE, NULL, "$HD --json acquire 03:00.0 -m", 2,
     "{\"error\":\"option -m needs a value; usage: ", NONE, 0},
    /* The next option is no value: no VM named "--force" is made. */
    {"args: an option as --vm's value", FUSE, NULL, "$HD acquire --vm --force 03:00.0", 2,
     "option --vm needs a value, and '--force' after it is an option; usage: ", NONE, 0},
    /* A global one too, though it is taken out before the command's options are read: the
     * error is text, --json being no option where it stands. */
    {"args: a global option as --vm's value", FUSE, NULL, "$HD acquire --vm --json 03:00.0", 2,
     "hostdev acquire: option --vm needs a value, and '--json' after it is an option; ", NONE,
     0},
    {"args: an option as -d's value", FUSE, NULL, "$HD --json detach -d -g 03:00.0", 2,
     "{\"error\":\"option -d needs a value, and '-g' after it is an option;", NONE, 0},
    /* Nor is a word that starts with '-' as options do: no VM named "--bogus", no owner "-q"
     * (a value that starts with '-' is given joined, --vm=-x); "-" is export -o's stdout. */
    {"args: a dash word as --vm's value", FUSE, NULL, "$HD acquire --vm --bogus 03:00.0", 2,
     "hostdev acquire: option --vm needs a value, and '--bogus' after it starts with '-' as "
     "options do (--vm=--bogus if it is the value); usage: ", NONE, 0},
    {"args: a dash word as -m's value", FUSE, NULL, "$HD --json release -m -q", 2,
     "{\"error\":\"option -m needs a value, and '-q' after it starts with '-' as options do; ",
     NONE, 0},
    {"args: a dash word as --owner's value", FUSE, NULL,
     "$HD acquire --vm a --owner -q 03:00.0", 2,
     "option --owner needs a value, and '-q' after it starts with '-'", NONE, 0},
    {"args: a dash word as a global's value", FUSE, NULL, "$HD list --names -x", 2,
     "hostdev list: option --names needs a value, and '-x' after it starts with '-' as options "
     "do (--names=-x if it is the value)", NONE, 0},
    {"args: a VM whose name starts with '-', joined", FUSE, NULL,
     "$HD --dry-run acquire --vm=-x 03:00.0 >/dev/null", 0, NULL, NONE, 0},
    {"args: export -o - is standard output", FUSE, NULL,
     "SOURCE_DATE_EPOCH=0 $HD export -f nfd --expiry 2099-01-01T00:00:00Z -o - | grep -q "
     "'^# hostdev'", 0, NULL, NONE, 0},
    /* A global option where a value belongs is that value forgotten, whatever its own value
     * would have been: not a bad root or timeout, which the user did not get wrong. */
    {"args: a bad --root as --vm's value", FUSE, NULL,
     "$B/hostdev acquire --vm --root $R/nonexistent 03:00.0", 2,
     "hostdev acquire: option --vm needs a value, and '--root' after it is an option; usage: ",
     NONE, 0},
    {"args: a bad --timeout as -m's value in a bundle", FUSE, NULL,
     "$HD acquire -gm --timeout=0 03:00.0", 2,
     "option -m needs a value, and '--timeout=0' after it is an option; ", NONE, 0},
    {"args: a bad --names as --uuid's value", FUSE, NULL,
     "$HD mdev create mtty mtty-1 --uuid --names $R/none.ids", 2,
     "hostdev mdev: option --uuid needs a value, and '--names' after it is an option", NONE, 0},
    /* After a flag, the global's own value is what is wrong. */
    {"args: a bad --root after a flag", FUSE, NULL,
     "$B/hostdev acquire --force --root $R/nonexistent --vm a 03:00.0", 2,
     "hostdev acquire: root '", NONE, 0},
    {"args: flag given a value", FUSE, NULL, "$HD --json detach --force=yes 03:00.0", 2,
     "{\"error\":\"option --force takes no value; usage: ", NONE, 0},
    {"args: short flag given a value", FUSE, NULL, "$HD reserve -k=1", 2,
     "hostdev reserve: option -k takes no value; usage: ", NONE, 0},
    {"args: unknown short option in a bundle", FUSE, NULL, "$HD detach --force -xg 03:00.0", 2,
     "'-x' is not an option of detach", NONE, 0},
    {"args: global option without its value", FUSE, NULL, "$B/hostdev --root", 2,
     "--root needs a value", NONE, 0},
    {"args: global option unknown", FUSE, NULL, "$B/hostdev --bogus list", 2,
     "unknown option '--bogus'", NONE, 0},
    /* An empty value typed (a variable unset) is no default: an empty root is the host. */
    {"args: empty --root", FUSE, NULL, "$B/hostdev --root= list", 2,
     "hostdev: --root '' is empty: the host itself is --root /", NONE, 0},
    {"args: empty --root after the command", FUSE, NULL, "$B/hostdev --json list --root ''", 2,
     "{\"error\":\"--root '' is empty: ", NONE, 0},
    {"args: empty --state-dir", FUSE, NULL, "$HD assignments --state-dir=", 2,
     "hostdev assignments: --state-dir '' is empty", NONE, 0},
    {"args: empty --names", FUSE, NULL, "$HD --names '' list", 2,
     "hostdev: --names '' is empty: no names is --names none", NONE, 0},
    {"args: numvfs not a number", FUSE, NULL, "$HD sriov 03:00.0 --numvfs abc", 2, "'abc'", NONE,
     0},
    {"args: numvfs negative", FUSE, NULL, "$HD sriov 03:00.0 --numvfs -1", 2, "'-1'", NONE, 0},
    {"args: count not a number", FUSE, NULL, "$HD sriov 03:00.0 abc", 2, "'abc'", NONE, 0},
    {"args: two counts", FUSE, NULL, "$HD sriov 03:00.0 2 3", 2, "'3'", NONE, 0},
    {"args: a count and --numvfs", FUSE, NULL, "$HD sriov 03:00.0 2 --numvfs 3", 2,
     "two counts of VFs: '2' and '3'", NONE, 0},
    {"args: --numvfs twice", FUSE, NULL, "$HD sriov 03:00.0 --numvfs=2 --numvfs 3", 2,
     "two counts of VFs: '2' and '3'", NONE, 0},
    /* What no PF could take is refused as bad input before any lock file is made. */
    {"args: VF count of a device without SR-IOV", FUSE, NULL, "$HD sriov 03:00.0 1", 2,
     "0000:03:00.0 is not SR-IOV capable", NONE, 0},
    {"args: VF count above sriov_totalvfs", PLAIN,
     "echo 4 > $D/sriov_totalvfs; echo 0 > $D/sriov_numvfs", "$HD --json sriov 03:00.0 5", 2,
     "0000:03:00.0 supports at most 4 VFs (sriov_totalvfs), not 5", NONE, 0},
    /* Who a command acts for, given twice: the last one would win silently. */
    {"args: --vm twice", FUSE, NULL, "$HD acquire --vm web1 --vm web2 03:00.0", 2,
     "--vm given twice: 'web1' and 'web2'", NONE, 0},
    {"args: --owner twice", FUSE, NULL, "$HD acquire --vm web1 --owner 1:1 -o 2:2 03:00.0", 2,
     "--owner given twice: '1:1' and '2:2'", NONE, 0},
    {"args: --vm twice, JSON", FUSE, NULL, "$HD --json release --vm a -m b", 2,
     "--vm given twice", JSON, 0},
    {"args: --vm twice, a reader", FUSE, NULL, "$HD assignments --vm a --vm b", 2,
     "--vm given twice", NONE, 0},
    {"args: detach --driver twice", FUSE, NULL,
     "$HD detach 03:00.0 --driver pci-stub --driver vfio-pci", 2,
     "--driver given twice: 'pci-stub' and 'vfio-pci'", NONE, 0},
    /* So too the UUID a mediated device is made with, what persist and cmdline keep a device
     * with, and which document export writes where. */
    {"args: mdev create --uuid twice", FUSE, NULL,
     "$HD mdev create mtty mtty-1 --uuid 11111111-2222-3333-4444-555555555555 -u "
     "11111111-2222-3333-4444-555555555556", 2,
     "--uuid given twice: '11111111-2222-3333-4444-555555555555' and", NONE, 0},
    {"args: persist --driver twice", FUSE, NULL,
     "$HD persist 03:00.0 --driver vfio-pci --driver pci-stub", 2,
     "hostdev persist: --driver given twice: 'vfio-pci' and 'pci-stub'", NONE, 0},
    {"args: persist --numvfs twice", FUSE, NULL, "$HD persist 03:00.0 --numvfs 1 -n 2", 2,
     "--numvfs given twice: '1' and '2'", NONE, 0},
    {"args: cmdline --driver twice", FUSE, NULL, "$HD cmdline 03:00.0 -d vfio-pci -d pci-stub", 2,
     "--driver given twice", NONE, 0},
    {"args: export --format twice", FUSE, NULL, "$HD --json export --format nfd -f kubevirt", 2,
     "--format given twice: 'nfd' and 'kubevirt'", JSON, 0},
    {"args: export --output twice", FUSE, NULL, "$HD export -f nfd -o $R/a --output $R/b", 2,
     "--output given twice", NONE, 0},
    {"args: --numvfs without its value", FUSE, NULL, "$HD sriov 03:00.0 --numvfs", 2,
     "hostdev sriov: option --numvfs needs a value; usage: ", NONE, 0},
    {"args: mdev create --uuid without its value", FUSE, NULL,
     "$HD mdev create mtty mtty-1 --uuid", 2, "hostdev mdev create: option --uuid needs a value",
     NONE, 0},
    {"args: managed maybe", FUSE, NULL, "$HD hostdev-xml 03:00.0 --managed maybe", 2, "'maybe'",
     NONE, 0},
    {"args: verify garbage", FUSE, NULL, "$HD verify zz", 2, "'zz'", NONE, 0},
    {"args: assignments with an argument", FUSE, NULL, "$HD assignments junk", 2, "'junk'",
     NONE, 0},
    {"args: migratable with an argument", FUSE, NULL, "$HD migratable --vm v junk", 2, "'junk'",
     NONE, 0},
    {"args: migratable without its VM", FUSE, NULL, "$HD migratable", 2,
     "hostdev migratable: --vm ID is required", NONE, 0},
    {"args: mdev list with an argument", FUSE, NULL, "$HD mdev list junk", 2, "'junk'", NONE, 0},
    {"args: mdev types with an option", FUSE, NULL, "$HD mdev types -q", 2, "'-q'", NONE, 0},
    {"args: mdev alone", FUSE, NULL, "$HD mdev", 2, "define, undefine or defined", NONE, 0},
    /* A subcommand's unknown option is named, as a command's is. */
    {"args: mdev create --bogus", FUSE, NULL, "$HD mdev create mtty mtty-1 --bogus", 2,
     "'--bogus' is not an option of mdev", NONE, 0},
    {"args: mdev define -x", FUSE, NULL, "$HD --json mdev define -x mtty mtty-1", 2,
     "'-x' is not an option of mdev", NONE, 0},
    /* ... by the subcommand it was given to: --uuid is create's and define's, not remove's. */
    {"args: mdev remove --uuid", FUSE, NULL,
     "$HD mdev remove --uuid 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 2,
     "'--uuid' is not an option of mdev remove", NONE, 0},
    {"args: mdev undefine --manual", FUSE, NULL,
     "$HD mdev undefine --manual 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 2,
     "'--manual' is not an option of mdev undefine", NONE, 0},
    {"args: mdev remove -u", FUSE, NULL,
     "$HD mdev remove -u x 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 2,
     "'-u' is not an option of mdev remove", NONE, 0},
    {"args: iommu with an argument", FUSE, NULL, "$HD iommu junk", 2,
     "'junk' (see 'hostdev iommu --help')", NONE, 0},
    {"args: unknown command's hint", FUSE, NULL, "$HD frobnicate", 2, "(see 'hostdev --help')",
     NONE, 0},
    {"args: missing names file", FUSE, NULL, "$B/hostdev --root $R --names $R/no.ids list", 2,
     "no.ids", NONE, 0},
    {"args: XML-special address", FUSE, NULL, "$HD --json show \"<a href='&amp;'>\"", 2,
     "'<a href='&amp;'>'", NONE, 0},
    /* ---- config files: domain XML, pci.ids, state records ---- */
    {"config: domain XML missing", FUSE, NULL, "$HD qemu-args --domain-xml $R/none.xml", 2,
     "--domain-xml ", NONE, 0},
    {"config: domain XML empty", FUSE, ": > $R/d.xml", "$HD qemu-args --domain-xml $R/d.xml", 2,
     "d.xml", NONE, 0},
    {"config: domain XML not XML", FUSE, "echo hello > $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: domain XML wrong root", FUSE, "echo '<vm/>' > $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml", 2, "<domain>", NONE, 0},
    {"config: hostdev without address", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source/></hostdev>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: bus 0x100", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='0x100' slot='0' "
            "function='0'/></source></hostdev>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: slot 0x20", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='3' slot='0x20' "
            "function='0'/></source></hostdev>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: function -1", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='3' slot='0' "
            "function='-1'/></source></hostdev>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: managed neither yes nor no", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci' managed='maybe'><source><address bus='3' "
            "slot='0' function='0'/></source></hostdev>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2, "managed='maybe'>: yes or no",
     NONE, 0},
    /* <interface type='hostdev'>: a PCI device by <source><address type='pci'>, and the
     * network settings hostdev does not apply refused when libvirt would refuse them */
    {"config: interface hostdev without source", FUSE, DOMXML("<interface type='hostdev'/>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2,
     "line 1: <interface type='hostdev'> needs <source><address type='pci'", NONE, 0},
    {"config: interface hostdev of a USB address", FUSE,
     DOMXML("<interface type='hostdev' managed='yes'><source><address type='usb' bus='1' "
            "device='2'/></source></interface>"),
     "$HD release --vm x --domain-xml $R/d.xml", 2, "only PCI devices (SR-IOV VFs)", NONE, 0},
    {"config: interface hostdev address without type", FUSE,
     DOMXML("<interface type='hostdev'><source><address bus='3' slot='0' function='0'/>"
            "</source></interface>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "<address type='pci'", NONE, 0},
    {"config: interface hostdev slot 0x20", FUSE,
     DOMXML("<interface type='hostdev'><source><address type='pci' bus='3' slot='0x20' "
            "function='0'/></source></interface>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2, "slot (0-0x1f)", NONE, 0},
    {"config: interface hostdev managed=1", FUSE,
     DOMXML("<interface type='hostdev' managed='1'>" IFACE_PCI "</interface>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2,
     "<interface managed='1'>: yes or no", NONE, 0},
    {"config: interface hostdev bad MAC", FUSE,
     DOMXML("<interface type='hostdev' managed='yes'>" IFACE_PCI
            "<mac address='52:54:00:6d:90'/></interface>"),
     "$HD --json acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2, "not a MAC address",
     NONE, 0},
    {"config: interface hostdev VLAN 4096", FUSE,
     DOMXML("<interface type='hostdev' managed='yes'>" IFACE_PCI
            "<vlan><tag id='4096'/></vlan></interface>"),
     "$HD acquire --dry-run --vm x --owner 0:0 --domain-xml $R/d.xml", 2,
     "<tag> needs id (0-4095)", NONE, 0},
    {"config: interface hostdev unknown virtualport", FUSE,
     DOMXML("<interface type='hostdev' managed='yes'>" IFACE_PCI
            "<virtualport type='vepa'/></interface>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2, "<virtualport type='vepa'>",
     NONE, 0},
    /* libvirt takes only an SR-IOV VF there; 03:00.0 is a NIC of its own (a plain tree shows
     * that no state directory is made) */
    {"config: interface hostdev of no VF, acquire", PLAIN,
     DOMXML("<interface type='hostdev' managed='yes'>" IFACE_PCI "</interface>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2,
     "line 1: <interface type='hostdev'> names 0000:03:00.0, which is not an SR-IOV VF", NONE,
     0},
    {"config: interface hostdev of no VF, release", FUSE,
     DOMXML("<interface type='hostdev'>" IFACE_PCI "</interface>"),
     "$HD --json release --vm x --domain-xml $R/d.xml", 2,
     "names 0000:03:00.0, which is not an SR-IOV VF", NONE, 0},
    {"config: interface hostdev of no VF, qemu-args", FUSE,
     DOMXML("<interface type='hostdev'>" IFACE_PCI "</interface>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "names 0000:03:00.0, which is not an SR-IOV VF",
     NONE, 0},
    /* other interfaces are the host's: a domain with only those gives nothing */
    {"config: only a bridge interface", FUSE,
     DOMXML("<interface type='bridge'><source bridge='br0'/></interface>"),
     "$HD acquire --vm x --owner 0:0 --domain-xml $R/d.xml", 2, "no <hostdev>", NONE, 0},
    {"config: absent device in XML", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='7' slot='0' "
            "function='0'/></source></hostdev>"),
     "$HD qemu-args --domain-xml $R/d.xml", 2, "0000:07:00.0", NONE, 0},
    {"config: external entity", FUSE,
     "printf '%s' \"<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain>"
     "<name>&x;</name><devices><hostdev mode='subsystem' type='pci'><source><address bus='3' "
     "slot='0' function='0'/></source></hostdev></devices></domain>\" > $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml | grep -v root:", 0,
     "warning: 0000:03:00.0 is not on vfio-pci", NONE, 0},
    {"config: entity bomb", FUSE,
     "printf '%s' \"<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>"
     "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY e '&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
     "<domain><name>&e;&e;&e;&e;</name><devices/></domain>\" > $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: domain XML not UTF-8", FUSE,
     "printf '<domain><name>\\377\\376</name></domain>' "
     "> $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    {"config: domain XML is a FIFO", PLAIN, "mkfifo $R/d.xml",
     "timeout 10 $HD qemu-args --domain-xml $R/d.xml", 2, "d.xml: not a regular file", NONE, 0},
    {"config: domain XML is /dev/zero", FUSE, NULL,
     "timeout 10 $HD acquire --vm v --owner 0:0 --domain-xml /dev/zero", 2,
     "/dev/zero: not a regular file", NONE, 0},
    /* the file is named with the option that gave it, as qemu-args does above */
    {"config: domain XML missing, acquire", FUSE, NULL,
     "$HD acquire --vm v --owner 0:0 --domain-xml $R/none.xml", 2, "--domain-xml ", NONE, 0},
    {"config: domain XML missing, release", FUSE, NULL,
     "$HD release --vm v --domain-xml $R/none.xml", 2, "--domain-xml ", NONE, 0},
    {"config: domain XML is a directory", FUSE, "mkdir $R/d.xml",
     "$HD qemu-args --domain-xml $R/d.xml", 2, "d.xml", NONE, 0},
    /* Whatever is wrong with it, and whoever finds it (the reader, or the command after it),
     * the file is named with the option that gave it, as given (here relative to ROOT). */
    {"config: domain XML missing, named", FUSE, NULL,
     "$HD acquire --vm v --owner 0:0 --domain-xml none.xml", 2,
     "hostdev acquire: --domain-xml none.xml: No such file or directory", NONE, 0},
    {"config: domain XML not XML, acquire", FUSE, "echo hello > d.xml",
     "$HD acquire --vm v --owner 0:0 --domain-xml d.xml", 2,
     "hostdev acquire: --domain-xml d.xml: not a readable XML document", NONE, 0},
    {"config: domain XML not XML, release", FUSE, "echo hello > d.xml",
     "$HD --json release --vm v --domain-xml d.xml", 2,
     "{\"error\":\"--domain-xml d.xml: not a readable XML document", NONE, 0},
    {"config: domain XML not XML, qemu-args", FUSE, "echo hello > d.xml",
     "$HD qemu-args --domain-xml d.xml", 2,
     "hostdev qemu-args: --domain-xml d.xml: not a readable XML document", NONE, 0},
    {"config: domain XML without hostdevs, acquire", FUSE,
     DOMXML("<interface type='bridge'><source bridge='br0'/></interface>"),
     "$HD acquire --vm v --owner 0:0 --domain-xml d.xml", 2,
     "hostdev acquire: --domain-xml d.xml: no <hostdev> (PCI, mdev, USB or SCSI) or <interface "
     "type='hostdev'> in the domain", NONE, 0},
    {"config: domain XML without hostdevs, release", FUSE, DOMXML(""),
     "$HD release --vm v --domain-xml d.xml", 2, "hostdev release: --domain-xml d.xml: no <hostdev>",
     NONE, 0},
    {"config: domain XML without hostdevs, qemu-args", FUSE, DOMXML(""),
     "$HD --json qemu-args --domain-xml d.xml", 2,
     "{\"error\":\"--domain-xml d.xml: no <hostdev> or <interface type='hostdev'> in the domain",
     NONE, 0},
    {"config: domain XML without a name, acquire", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='3' slot='0' "
            "function='0'/></source></hostdev>"),
     "$HD acquire --owner 0:0 --domain-xml d.xml", 2,
     "hostdev acquire: --domain-xml d.xml: the domain has no <name>: give --vm ID", NONE, 0},
    {"config: domain XML without a name, release", FUSE,
     DOMXML("<hostdev mode='subsystem' type='pci'><source><address bus='3' slot='0' "
            "function='0'/></source></hostdev>"),
     "$HD release --domain-xml d.xml", 2,
     "hostdev release: --domain-xml d.xml: the domain has no <name>", NONE, 0},
    {"config: domain XML USB by address only, qemu-args", FUSE,
     DOMXML("<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/>"
            "</source></hostdev>"),
     "$HD qemu-args --domain-xml d.xml", 2,
     "hostdev qemu-args: --domain-xml d.xml: a USB <hostdev> by <address> only", NONE, 0},
    {"config: domain XML USB address of no device, acquire", FUSE,
     DOMXML("<hostdev mode='subsystem' type='usb'><source><address bus='9' device='9'/>"
            "</source></hostdev>"),
     "$HD acquire --vm v --owner 0:0 --domain-xml d.xml", 2,
     "hostdev acquire: --domain-xml d.xml: no USB device at bus 9 device 9", NONE, 0},
    {"config: domain XML interface of no VF, named", FUSE,
     DOMXML("<interface type='hostdev' managed='yes'>" IFACE_PCI "</interface>"),
     "$HD acquire --vm v --owner 0:0 --domain-xml d.xml", 2,
     "hostdev acquire: --domain-xml d.xml: line 1: <interface type='hostdev'> names 0000:03:00.0",
     NONE, 0},
    {"config: domain XML interface of no VF, qemu-args named", FUSE,
     DOMXML("<interface type='hostdev'>" IFACE_PCI "</interface>"),
     "$HD qemu-args --domain-xml d.xml", 2,
     "hostdev qemu-args: --domain-xml d.xml: line 1: <interface type='hostdev'> names", NONE, 0},
    {"config: pci.ids garbage", FUSE,
     "printf '\\t\\t\\377\\376 z\\n\\001\\002\\n\\tgarbage' > $R/names.ids",
     "$B/hostdev --root $R --names $R/names.ids --json list", 0, NULL, JSON, 0},
    {"config: names not UTF-8, JSON", FUSE, PCI_IDS_WEIRD,
     "$B/hostdev --root $R --names $R/names.ids --json show 03:00.0", 0, NULL, JSON, 0},
    {"config: names not UTF-8, text", FUSE, PCI_IDS_WEIRD,
     "$B/hostdev --root $R --names $R/names.ids list | grep -c 82574L", 0, NULL, NONE, 0},
    {"config: names not UTF-8, XML", FUSE, PCI_IDS_WEIRD,
     "HOSTDEV_ROOT=$R HOSTDEV_NAMES=$R/names.ids $B/hostdev-virsh nodedev-dumpxml "
     "pci_0000_03_00_0",
     0, NULL, XML, 0},
    {"config: bidi and C1 names, text", FUSE, PCI_IDS_BIDI,
     NO_RAW_CONTROLS("$B/hostdev --root $R --names $R/names.ids list", "Intel \\u202eevil"), 0,
     NULL, NONE, 0},
    {"config: bidi and C1 names, JSON", FUSE, PCI_IDS_BIDI,
     NO_RAW_CONTROLS("$B/hostdev --root $R --names $R/names.ids --json show 03:00.0",
                     "NIC \\u009b[31m"),
     0, NULL, NONE, 0},
    {"config: bidi and C1 names, XML", FUSE, PCI_IDS_BIDI,
     NO_RAW_CONTROLS("HOSTDEV_ROOT=$R HOSTDEV_NAMES=$R/names.ids $B/hostdev-virsh "
                     "nodedev-dumpxml pci_0000_03_00_0",
                     "Intel &#x202E;evil"),
     0, NULL, NONE, 0},
    {"config: bidi and C1 names, VDSM", FUSE, PCI_IDS_BIDI,
     NO_RAW_CONTROLS("$B/hostdev --root $R --names $R/names.ids list --format vdsm --caps pci",
                     "\\u202e"), 0, NULL,
     NONE, 0},
    {"args: bidi in an error line", FUSE, NULL,
     "$HD detach \"$(printf 'x\\342\\200\\256y')\"", 2, "'x\\u202ey'", NONE, 0},
    {"config: names file is a directory", FUSE, "mkdir $R/names.ids",
     "$B/hostdev --root $R --names $R/names.ids list", 2, "names.ids", NONE, 0},
    /* ---- reservation config: ROOT/etc/hostdev.d/ *.conf and hostdev.reserve= ---- */
    /* A link to a device node: refused without opening it (an open can act: a watchdog). */
    {"config: reservation file links to a device", FUSE,
     "mkdir -p etc/hostdev.d && ln -s /dev/vfio/vfio etc/hostdev.d/51.conf", "$HD persisted", 2,
     "51.conf: not a regular file", NONE, 0},
    /* Several bad lines: with --json still one object, listing them all. */
    {"reserve: two bad lines, one JSON error", FUSE, RESERVE_CONF("zz\\nyy"),
     "$HD --json persisted >/dev/null", 2, "10-bad.conf:2: invalid device 'yy'", NONE, 0},
    {"reserve: bad address", FUSE, RESERVE_CONF("0000:03:00.9 vfio-pci"), "$HD reserve", 2,
     "10-bad.conf:1: invalid device '0000:03:00.9'", NONE, 0},
    {"reserve: unknown driver", FUSE, RESERVE_CONF("03:00.0 driver=nouveau"), "$HD reserve", 2,
     "10-bad.conf:1: 'driver=nouveau'", NONE, 0},
    {"reserve: control bytes", FUSE, RESERVE_CONF("03:00.0 \\001\\377\\033[0m"), "$HD reserve", 2,
     "10-bad.conf:1:", NONE, 0},
    {"reserve: overlong line", FUSE,
     "mkdir -p etc/hostdev.d && head -c 10000 /dev/zero | tr '\\0' 0 > etc/hostdev.d/10-bad.conf",
     "$HD reserve", 2, "10-bad.conf:1:", NONE, 0},
    /* Files hostdev reads at boot: a FIFO must not block it, nor an endless device or a
     * huge file exhaust it; each is one line naming the file. */
    {"reserve: FIFO named .conf", PLAIN, "mkdir -p etc/hostdev.d && mkfifo etc/hostdev.d/10-f.conf",
     "timeout 10 $HD reserve", 2, "10-f.conf: not a regular file", NONE, 0},
    {"reserve: .conf links to a device", PLAIN,
     "mkdir -p etc/hostdev.d dev && mknod dev/zero c 1 5 && "
     "ln -s /dev/zero etc/hostdev.d/10-z.conf",
     "timeout 10 $HD reserve", 2, "10-z.conf: not a regular file", NONE, 0},
    {"reserve: 2 MB .conf", FUSE,
     "mkdir -p etc/hostdev.d && head -c 2000000 /dev/zero | tr '\\0' x > etc/hostdev.d/10-b.conf",
     "timeout 10 $HD --json persisted", 2, "10-b.conf: larger than 1 MiB", NONE, 0},
    {"reserve: negative numvfs", FUSE, RESERVE_CONF("03:00.0 numvfs=-1"), "$HD --json persisted", 2,
     "10-bad.conf:1:", JSON, 0},
    {"reserve: bad hostdev.reserve=", PLAIN,
     "printf 'intel_iommu=on hostdev.reserve=\\\"zz<&>\\\"' > proc/cmdline", "$HD --json persisted",
     2, "proc/cmdline", JSON, 0},
    {"reserve: hostdev.reserve= word after a device", PLAIN,
     "printf 'hostdev.reserve=03:00.0+nomiommu' > proc/cmdline", "$HD reserve", 2,
     "proc/cmdline: hostdev.reserve: '03:00.0+nomiommu': only +noiommu", NONE, 0},
    {"reserve: hostdev.reserve= +noiommu for pci-stub", PLAIN,
     "printf 'hostdev.driver=pci-stub hostdev.reserve=03:00.0+noiommu' > proc/cmdline",
     "$HD --json persisted", 2, "'03:00.0+noiommu': noiommu is for vfio-pci", JSON, 0},
    /* A bad word naming the device: what the boot reserves of it is not known. */
    {"reserve: unpersist past a bad hostdev.reserve= word", PLAIN,
     "$HD persist --no-apply 03:00.0 && printf 'hostdev.reserve=03:00.0+x' > proc/cmdline",
     "$HD unpersist 03:00.0", 2, "may still reserve it: proc/cmdline: hostdev.reserve: "
     "'03:00.0+x'", NONE, 0},
    {"reserve: persist XML-special driver", FUSE, NULL, "$HD persist 03:00.0 --driver '<&>'", 2,
     "--driver '<&>'", NONE, 0},
    /* What applying would refuse is an error of the listing too, named as applying names it;
     * the entry is still listed, marked. */
    {"reserve: numvfs on a device without SR-IOV", FUSE, RESERVE_CONF("03:00.0 numvfs=2"),
     "o=$($HD persisted); s=$?; printf '%s\\n' \"$o\" | "
     "grep -q '^0000:03:00.0 numvfs=2 .*(refused at boot)$' || exit 99; exit $s", 2,
     "10-bad.conf:1: 0000:03:00.0 is not SR-IOV capable", NONE, 0},
    {"reserve: a bridge", FUSE, RESERVE_CONF("00:1c.0"), "$HD --json persisted", 2,
     "10-bad.conf:1: 0000:00:1c.0 is a bridge", JSON, 0},
    {"reserve: a bridge, reserve refuses it too", FUSE, RESERVE_CONF("00:1c.0"), "$HD reserve", 2,
     "0000:00:1c.0 is a bridge", NONE, 0},
    {"reserve: show a refused entry", FUSE, RESERVE_CONF("03:00.0 numvfs=2"),
     "$HD show 03:00.0 | grep -q 'refused at boot: 0000:03:00.0 is not SR-IOV capable'", 0, NULL,
     NONE, 0},
    {"reserve: unpersist unknown", FUSE, NULL, "$HD unpersist 03:00.0", 2,
     "03:00.0 is not persisted", NONE, 0},
    /* What a file that is none, or a bad line naming the device, reserves is not known:
     * unpersist gives nothing back, and keeps the persisted file. */
    {"reserve: unpersist past a FIFO", PLAIN,
     "$HD persist --no-apply 03:00.0 && mkfifo etc/hostdev.d/10-f.conf",
     "timeout 10 $HD unpersist 03:00.0", 2, "10-f.conf: not a regular file", NONE, 0},
    {"reserve: unpersist past a 2 MB file", FUSE,
     "$HD persist --no-apply 03:00.0 && "
     "head -c 2000000 /dev/zero | tr '\\0' x > etc/hostdev.d/10-b.conf",
     "timeout 10 $HD --json unpersist 03:00.0", 2, "10-b.conf: larger than 1 MiB", NONE, 0},
    {"reserve: unpersist past a bad line naming it", FUSE,
     "$HD persist --no-apply 03:00.0 && " RESERVE_CONF("0000:03:00.0 numvfs=-1"),
     "$HD unpersist --dry-run 03:00.0", 2, "10-bad.conf:1: invalid numvfs", NONE, 0},
    /* ---- kernel command lines (proc/cmdline of a plain tree) ---- */
    {"cmdline: NUL byte", PLAIN, "printf 'intel_iommu=on\\0iommu=off' > proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: empty", PLAIN, ": > proc/cmdline", "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: missing", PLAIN, "rm proc/cmdline", "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: overlong", PLAIN, "head -c 20000 /dev/zero | tr '\\0' x > proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: not UTF-8", PLAIN, "printf 'intel_iommu=on \\377\\376=\\300' > proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: JSON and XML specials", PLAIN,
     "printf '%s' \"intel_iommu=on,\\\"<&>'\\\\ iommu=\\\"\\x1b[0m\\\" x=</script>\" "
     "> proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: control characters", PLAIN,
     "printf 'intel_iommu=on\\001\\033\\177 vfio=\\b' "
     "> proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: unterminated quote", PLAIN, "printf 'intel_iommu=\"on' > proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: bad vfio-pci.ids", PLAIN,
     "printf 'intel_iommu=on vfio-pci.ids=zzzz:1,,:,8086:10d3:1:2:3:4:5 iommu.strict=<x>' > "
     "proc/cmdline",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"cmdline: is a directory", PLAIN, "rm proc/cmdline && mkdir proc/cmdline", "$HD --json iommu",
     0, NULL, JSON, 0},
    /* ---- sysfs contents (a plain tree, corrupted) ---- */
    /* What the kernel would not write there is bad input (exit 2) when met before any change;
     * a listing leaves such a device out (exit 0), naming it by address is exit 2. */
    {"sysfs: vendor garbage", PLAIN, "echo zzzz > $D/vendor", "$HD --json show 03:00.0", 0, NULL,
     JSON, 0},
    {"sysfs: class empty", PLAIN, ": > $D/class", "$HD --json list", 0, NULL, JSON, 0},
    {"sysfs: uevent PCI_ID garbage", PLAIN, "sed -i 's/^PCI_ID=.*/PCI_ID=zz<&>:10d3/' $D/uevent",
     "$HD show 03:00.0", 2, "0000:03:00.0: sysfs attribute uevent PCI_ID", NONE, 0},
    {"sysfs: uevent empty", PLAIN, ": > $D/uevent", "$HD show 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    {"sysfs: uevent empty, detach", PLAIN, ": > $D/uevent", "$HD detach 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    {"sysfs: uevent empty, reattach", PLAIN, ": > $D/uevent", "$HD reattach 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    {"sysfs: uevent empty, acquire", PLAIN, ": > $D/uevent",
     "$HD --json acquire --vm v --owner 0:0 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    {"sysfs: uevent empty, reset", PLAIN, ": > $D/uevent", "$HD reset 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    {"sysfs: uevent empty, sriov", PLAIN, ": > $D/uevent", "$HD sriov 03:00.0 1", 2,
     "0000:03:00.0: sysfs attribute uevent has no PCI_ID", NONE, 0},
    /* The listing skips it, and says nothing of it. */
    {"sysfs: uevent and config empty, listed", PLAIN, ": > $D/uevent; : > $D/config",
     "o=$($HD --json list) || exit $?; case \"$o\" in *03:00.0*) exit 99;; esac", 0, NULL, NONE,
     0},
    {"sysfs: uevent overlong", PLAIN, "head -c 9000 /dev/zero | tr '\\0' x >> $D/uevent",
     "$HD show 03:00.0", 2, "0000:03:00.0: sysfs attribute uevent is longer", NONE, 0},
    {"sysfs: uevent NUL byte", PLAIN, "printf 'X=\\0\\n' >> $D/uevent", "$HD show 03:00.0", 2,
     "0000:03:00.0: sysfs attribute uevent holds a NUL byte", NONE, 0},
    {"sysfs: uevent DRIVER path", PLAIN, "sed -i 's|^DRIVER=.*|DRIVER=../../x|' $D/uevent",
     "$HD detach 03:00.0", 2, "0000:03:00.0: sysfs attribute uevent DRIVER", NONE, 0},
    {"sysfs: uevent not UTF-8", PLAIN,
     "sed -i \"s/^MODALIAS=.*/MODALIAS=$(printf '\\377<&\\\">')/\" $D/uevent",
     "$HD --json show 03:00.0", 0, NULL, JSON, 0},
    {"sysfs: driver link loops", PLAIN, "ln -sfn driver $D/driver", "$HD detach 03:00.0", 2,
     "0000:03:00.0: sysfs link driver does not lead where the kernel points it", NONE, 0},
    {"sysfs: driver link elsewhere", PLAIN, "ln -sfn ../../../../bus/pci/e1000e $D/driver",
     "$HD detach 03:00.0", 2, "0000:03:00.0: sysfs link driver does not lead", NONE, 0},
    /* show takes the driver from uevent, but its link is the kernel's too */
    {"sysfs: driver link loops, show", PLAIN, "ln -sfn driver $D/driver", "$HD show 03:00.0", 2,
     "0000:03:00.0: sysfs link driver does not lead where the kernel points it", NONE, 0},
    {"sysfs: driver link elsewhere, show", PLAIN, "ln -sfn ../../../../bus/pci/e1000e $D/driver",
     "$HD --json show 03:00.0", 2, "0000:03:00.0: sysfs link driver does not lead", NONE, 0},
    /* a listing takes the driver from the drivers' directories; named, the link is read */
    {"sysfs: driver link loops, listed", PLAIN, "ln -sfn driver $D/driver", "$HD list 03:00.0", 2,
     "0000:03:00.0: sysfs link driver does not lead where the kernel points it", NONE, 0},
    {"sysfs: driver link elsewhere, listed by interface", PLAIN,
     "ln -sfn ../../../../bus/pci/e1000e $D/driver", "$HD --json list 00:01.0 enp3s0", 2,
     "enp3s0: 0000:03:00.0: sysfs link driver does not lead", NONE, 0},
    {"sysfs: driver link overlong", PLAIN,
     "ln -sfn ../../../../bus/pci/drivers/" LONG300 " $D/driver", "$HD detach 03:00.0", 2,
     "0000:03:00.0: sysfs link driver does not lead", NONE, 0},
    {"sysfs: group not a number", PLAIN,
     "ln -sfn ../../../../kernel/iommu_groups/abc "
     "$D/iommu_group",
     "$HD show 03:00.0", 2, "0000:03:00.0: sysfs link iommu_group names 'abc', not a group number",
     NONE, 0},
    /* Named by address but not listable: why, not "no such device". */
    {"sysfs: group not a number, listed", PLAIN,
     "ln -sfn ../../../../kernel/iommu_groups/abc $D/iommu_group", "$HD list 03:00.0", 2,
     "iommu_group names 'abc'", NONE, 0},
    /* A whole listing leaves it out, and says so (text; under --json stderr stays clean). */
    {"sysfs: group not a number, whole listing", PLAIN,
     "ln -sfn ../../../../kernel/iommu_groups/abc $D/iommu_group", "$HD list", 0,
     "warning: 0000:03:00.0: sysfs link iommu_group names 'abc'", NONE, 0},
    {"sysfs: devices dir has garbage, text", PLAIN, "mkdir sys/bus/pci/devices/zzzz", "$HD list", 0,
     "warning: sys/bus/pci/devices/zzzz: not a PCI address, skipped", NONE, 0},
    {"sysfs: group negative", PLAIN, "ln -sfn ../../../../kernel/iommu_groups/-5 $D/iommu_group",
     "$HD detach 03:00.0", 2, "iommu_group names '-5'", NONE, 0},
    {"sysfs: group overflows", PLAIN,
     "ln -sfn ../../../../kernel/iommu_groups/99999999999 "
     "$D/iommu_group",
     "$HD show 03:00.0", 2, "iommu_group names '99999999999'", NONE, 0},
    {"sysfs: group name overlong", PLAIN,
     "ln -sfn ../../../../kernel/iommu_groups/" LONG300 " $D/iommu_group", "$HD show 03:00.0", 2,
     "sysfs link iommu_group does not lead", NONE, 0},
    {"sysfs: group link loops", PLAIN, "ln -sfn iommu_group $D/iommu_group", "$HD detach 03:00.0",
     2, "sysfs link iommu_group does not lead", NONE, 0},
    {"sysfs: group link elsewhere", PLAIN, "ln -sfn ../../../../kernel/8 $D/iommu_group",
     "$HD acquire --vm v --owner 0:0 03:00.0", 2, "sysfs link iommu_group does not lead", NONE,
     0},
    {"sysfs: physfn not a device", PLAIN, "ln -sfn ../zzzz $D/physfn", "$HD show 03:00.0", 2,
     "sysfs link physfn names 'zzzz'", NONE, 0},
    {"sysfs: groups dir has garbage", PLAIN, "mkdir sys/kernel/iommu_groups/abc",
     "$HD --json iommu", 0, NULL, JSON, 0},
    {"sysfs: devices dir has garbage", PLAIN, "mkdir sys/bus/pci/devices/zzzz", "$HD --json list",
     0, NULL, JSON, 0},
    {"sysfs: device link dangles", PLAIN,
     "ln -sfn ../../../devices/pci0000:00/gone sys/bus/pci/devices/0000:00:1f.4", "$HD --json list",
     0, NULL, JSON, 0},
    {"sysfs: device link dangles, shown", PLAIN,
     "ln -sfn ../../../devices/pci0000:00/gone sys/bus/pci/devices/0000:00:1f.4",
     "$HD show 00:1f.4", 2, "points to '../../../devices/pci0000:00/gone'", NONE, 0},
    {"sysfs: device link loops", PLAIN, "ln -sfn 0000:00:1f.4 sys/bus/pci/devices/0000:00:1f.4",
     "$HD --json list", 0, NULL, JSON, 0},
    {"sysfs: device link loops, detach", PLAIN,
     "ln -sfn 0000:00:1f.4 sys/bus/pci/devices/0000:00:1f.4", "$HD detach 00:1f.4", 2,
     "0000:00:1f.4: sys/bus/pci/devices/0000:00:1f.4 points to '0000:00:1f.4'", NONE, 0},
    {"sysfs: overlong device name", PLAIN, "mkdir sys/bus/pci/devices/" LONG250, "$HD --json list",
     0, NULL, JSON, 0},
    {"sysfs: numa_node garbage", PLAIN, "echo '<&>' > $D/numa_node", "$HD --json show 03:00.0", 2,
     "numa_node holds '<&>'", JSON, 0},
    {"sysfs: numa_node garbage, reset", PLAIN, "echo '<&>' > $D/numa_node", "$HD reset 03:00.0",
     2, "0000:03:00.0: sysfs attribute numa_node holds '<&>'", NONE, 0},
    /* A listing reads no field only show needs (issue 16), the host-use check's included (it
     * once listed the USB devices through a read of every PCI device whole): no warning. */
    {"sysfs: numa_node garbage, list", PLAIN, "echo '<&>' > $D/numa_node", "$HD list", 0, NULL,
     NONE, 0},
    {"sysfs: totalvfs garbage", PLAIN, "echo x > $D/sriov_totalvfs; echo y > $D/sriov_numvfs",
     "$HD sriov 03:00.0 --numvfs 1", 2, "0000:03:00.0: sysfs attribute sriov_totalvfs holds 'x'",
     NONE, 0},
    {"sysfs: config empty", PLAIN, ": > $D/config", "$HD --json list", 0, NULL, JSON, 0},
    /* Read before the first write (the undo's old value): refused, not taken for "no
     * autoprobe" and the count changed regardless. */
    {"sysfs: autoprobe garbage, sriov", PLAIN,
     "echo 4 > $D/sriov_totalvfs; echo 0 > $D/sriov_numvfs; echo x > $D/sriov_drivers_autoprobe",
     "$HD sriov 03:00.0 1", 2,
     "0000:03:00.0: sysfs attribute sriov_drivers_autoprobe holds 'x'", NONE, 0},
    {"sysfs: reset_method garbage", PLAIN, "printf '\\377<&>\\n' > $D/reset_method",
     "$HD --json check 03:00.0", 1, NULL, JSON, 0},
    {"sysfs: device is another's directory", PLAIN,
     "ln -sfn ../../../devices/pci0000:00/0000:00:1b.0/0000:02:00.0 " D03, "$HD detach 03:00.0", 2,
     "not to the device's own directory", NONE, 0},
    /* Met once the operation has written (a member's uevent read again in its step): a failed
     * operation, put back, exit 1; the fake kernel's read fault stands in for the contents. */
    {"sysfs: uevent bad mid-operation", FUSE,
     "$FS ctl $R fault sys/bus/pci/devices/0000:01:00.1/uevent EFBIG nth=2 count=1 on=read",
     "$HD detach --group 01:00.0; rc=$?; "
     "[ \"$(basename \"$(readlink $R/sys/bus/pci/devices/0000:01:00.0/driver)\")\" = nouveau ] && "
     "[ \"$(basename \"$(readlink $R/sys/bus/pci/devices/0000:01:00.1/driver)\")\" = "
     "snd_hda_intel ] && [ ! -e $R/run/hostdev/drivers/0000:01:00.0 ] || exit 99; exit $rc",
     1, "0000:01:00.1: sysfs attribute uevent is longer", NONE, WRITES_OK},
    /* An attribute no undo needs (numa_node, read faulting as if overlong) neither blocks the
     * rollback of a failed write (the device back on e1000e, no record, no intent log left)
     * nor stands in for the failure's own message. */
    {"sysfs: numa_node bad, rollback", FUSE,
     "$FS ctl $R fault $D/numa_node EFBIG count=0 on=read && "
     "$FS ctl $R fault sys/bus/pci/drivers_probe EIO",
     "$HD detach 03:00.0; rc=$?; "
     "[ \"$(basename \"$(readlink $R/$D/driver)\")\" = e1000e ] && "
     "[ ! -e $R/run/hostdev/drivers/0000:03:00.0 ] && [ -z \"$(ls $R/run/hostdev/journal)\" ] || "
     "exit 99; exit $rc",
     1, "0000:03:00.0: drivers_probe failed: Input/output error", NONE, WRITES_OK},
    {"sysfs: numa_node bad, reserve fails", FUSE,
     RESERVE_CONF("03:00.0") " && $FS ctl $R fault $D/numa_node EFBIG count=0 on=read && "
     "$FS ctl $R fault sys/bus/pci/drivers_probe EIO",
     "$HD reserve; rc=$?; "
     "[ \"$(basename \"$(readlink $R/$D/driver)\")\" = e1000e ] && "
     "[ -z \"$(ls $R/run/hostdev/journal)\" ] || exit 99; exit $rc",
     1, "0000:03:00.0: drivers_probe failed: Input/output error", NONE, WRITES_OK},
    /* Read again by the reset check (the fault stands in for contents changed since the open):
     * bad input, exit 2 whatever the other device (not assignable alone: 1) says. */
    {"sysfs: numa_node bad when checked", FUSE,
     "$FS ctl $R fault $D/numa_node EFBIG nth=2 count=1 on=read", "$HD check 03:00.0 00:1f.4", 2,
     "hostdev check: 0000:03:00.0: sysfs attribute numa_node is longer", NONE, 0},
    /* A group member read for "assignable alone": its bad contents are bad input (exit 2),
     * a read that fails is exit 1, each one line naming the group and the member, never
     * "assignable alone" (exit 0) from a group that was not read. */
    {"sysfs: group member bad when checked", PLAIN,
     "echo '<&>' > sys/bus/pci/devices/0000:00:1f.4/numa_node", "$HD check 00:1f.3", 2,
     "hostdev check: 0000:00:1f.3: IOMMU group 9: member 0000:00:1f.4: sysfs attribute numa_node "
     "holds '<&>'", NONE, 0},
    {"sysfs: group member unreadable when checked", FUSE,
     "$FS ctl $R fault sys/bus/pci/devices/0000:00:1f.4/uevent EIO count=0 on=read",
     "$HD check 00:1f.3", 1,
     "hostdev check: 0000:00:1f.3: IOMMU group 9: reading member 0000:00:1f.4: Input/output",
     NONE, 0},
    {"sysfs: group member unreadable when checked, JSON", FUSE,
     "$FS ctl $R fault sys/bus/pci/devices/0000:00:1f.4/uevent EIO count=0 on=read",
     "$HD --json check 00:1f.3 03:00.0", 1, "reading member 0000:00:1f.4", JSON, 0},
    {"sysfs: group member garbage", PLAIN, "mkdir sys/kernel/iommu_groups/8/devices/zzzz",
     "$HD --json show 03:00.0", 0, NULL, JSON, 0},
    /* ---- the state directory and what is in it ---- */
    {"state: world-writable state directory", FUSE, "mkdir -p run/hostdev && chmod 0777 run/hostdev",
     "$HD acquire --vm v --owner 0:0 03:00.0", 2, "not be writable by group or others", NONE, 0},
    {"state: state directory of another user", FUSE,
     "mkdir -p run/hostdev && chmod 0700 run/hostdev && chown 4242 run/hostdev",
     "$HD --json detach 03:00.0", 2, "owned by uid 4242", NONE, 0},
    {"state: state directory is a link", FUSE, "mkdir -p run/elsewhere && ln -s elsewhere run/hostdev",
     "$HD release --vm v", 2, "is not a directory", NONE, 0},
    /* A dangling link where a lock belongs: root must not create its target. */
    {"state: lock file is a link", FUSE,
     "mkdir -p -m 0700 run/hostdev/locks && for g in $(seq 0 40); do "
     "ln -s ../../../victim-$g run/hostdev/locks/group-$g; done",
     "$HD detach 03:00.0; rc=$?; ls | grep -q victim && exit 99; exit $rc", 1,
     "run/hostdev/locks/group-", NONE, 0},
    /* A link where a record's temporary file goes: replaced, never written through. */
    {"state: temporary file is a link", FUSE,
     "mkdir -p -m 0700 run/hostdev/drivers && echo keep > victim && "
     "ln -s ../../../victim run/hostdev/drivers/.0000:03:00.0.tmp",
     "$HD detach 03:00.0 >/dev/null; rc=$?; [ \"$(cat victim)\" = keep ] || exit 99; exit $rc", 0,
     NULL, NONE, WRITES_OK},
    /* A driver record with control bytes or broken UTF-8: refused by name, never printed. */
    {"state: driver record with a terminal escape", FUSE,
     "$HD detach 03:00.0 >/dev/null && $FS ctl $R clear-log && "
     "printf 'e1\\033]0;pwned\\007' > run/hostdev/drivers/0000:03:00.0",
     "$HD reattach 03:00.0", 2, "the driver record", NONE, 0},
    {"state: driver record not UTF-8, listed", FUSE,
     "$HD detach 03:00.0 >/dev/null && $FS ctl $R clear-log && "
     "printf 'e1000e\\377' > run/hostdev/drivers/0000:03:00.0",
     "o=$($HD list 03:00.0) || exit $?; case \"$o\" in *orig_driver*) exit 99;; esac", 0, NULL,
     NONE, 0},
    /* ---- a device vanishing ---- */
    {"vanish: unplugged before detach", FUSE, "$FS ctl $R unplug 0000:03:00.0",
     "$HD detach 03:00.0", 2, "0000:03:00.0: no such PCI device", NONE, 0},
    {"vanish: unplugged before reattach", FUSE,
     "$HD detach 03:00.0 >/dev/null && $FS ctl $R clear-log && $FS ctl $R unplug 0000:03:00.0",
     "$HD reattach 03:00.0", 2, "0000:03:00.0", NONE, 0},
    /* The group is listed, the GPU's unbind hangs, its audio function is unplugged meanwhile:
     * the GPU goes back to nouveau and no record is left. */
    {"vanish: unplugged during group detach", FUSE, "$FS ctl $R hang nouveau 1500",
     "( sleep 0.5; $FS ctl $R unplug 0000:01:00.1 ) & $HD detach --group 01:00.0; rc=$?; wait; "
     "[ \"$(basename \"$(readlink $R/sys/bus/pci/devices/0000:01:00.0/driver)\")\" = nouveau ] "
     "&& [ ! -e $R/run/hostdev/drivers/0000:01:00.0 ] || exit 99; exit $rc",
     1, "0000:01:00.1: the device went away", NONE, WRITES_OK},
    {"vanish: group member unplugged", FUSE, "$FS ctl $R unplug 0000:01:00.1",
     "$HD detach --group 01:00.0 --driver pci-stub >/dev/null", 0, NULL, NONE, WRITES_OK},
};

static struct fx fx;
static char *root; /* fx.root: mounted, or materialized (fx.materialized) */

/* Everything under the root that a command could change, as text: file checksums and link
 * targets (on the fake kernel: outside sys and proc, whose writes its log shows). */
static char *snapshot(void)
{
    char cmd[1024], *out = NULL;

    snprintf(cmd, sizeof(cmd),
             "cd '%s' && find . -path ./.fakesys -prune -o %s \\( -type f -exec md5sum {} + \\) "
             "-o -type l -printf '%%p -> %%l\\n' -o -printf '%%p %%m\\n' | sort",
             root, fx.materialized ? "" : "-path ./sys -prune -o -path ./proc -prune -o");
    ck_assert_int_eq(at_run(cmd, &out, NULL), 0);
    return out;
}

static int run(const struct bad *c, const char *script, char **out, char **err)
{
    char *cmd;
    int rc;

    char *build = realpath(at_build_dir(), NULL);

    ck_assert_ptr_nonnull(build);
    ck_assert(asprintf(&cmd,
                       "(cd '%s' || exit 99; export R='%s' B='%s' FS='%s/hostdev-fakesys' D='%s' "
                       "HOSTDEV_NAMES=none; HD=\"$B/hostdev --root $R\"; %s\n)",
                       root, root, build, build, D03, script) > 0);
    free(build);
    (void)c;
    rc = at_run(cmd, out, err);
    free(cmd);
    return rc;
}

static void parses(const char *out, enum out kind, const char *name)
{
    char path[] = "/tmp/hostdev-badinput-XXXXXX", cmd[512], *o = NULL, *e = NULL;
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs(out, f);
    fclose(f);
    if (kind == JSON)
        snprintf(cmd, sizeof(cmd),
                 "python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))' "
                 "%s",
                 path);
    else
        snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
    ck_assert_msg(at_run(cmd, &o, &e) == 0, "%s: invalid %s (%s):\n%s", name,
                  kind == JSON ? "JSON" : "XML", e, out);
    free(o);
    free(e);
    unlink(path);
}

static size_t log_writes(void)
{
    return fx.materialized ? 0 : fx_log_count(&fx, "write ");
}

HD_LOOP_TEST(bad_input, (int)(sizeof(cases) / sizeof(cases[0])))
{
    const struct bad *c = &cases[_i];
    char *out = NULL, *err = NULL, *before, *after;
    int rc;

    int made = c->tree == FUSE ? fx_mount(&fx, "demo") : fx_materialize(&fx, "demo");
    ck_assert_msg(made == 0, "%s", fx.error);
    root = fx.root;
    if (c->setup != NULL) {
        rc = run(c, c->setup, &out, &err);
        ck_assert_msg(rc == 0, "%s: setup exited %d: %s", c->name, rc, err);
        free(out);
        free(err);
    }
    before = snapshot();
    rc = run(c, c->cmd, &out, &err);
    ck_assert_msg(rc == c->status, "%s: exit %d, not %d; stderr: %s", c->name, rc, c->status, err);
    if (c->needle != NULL) {
        char *nl = strchr(err, '\n');
        ck_assert_msg(nl != NULL && nl[1] == '\0', "%s: not one line: '%s'", c->name, err);
        ck_assert_msg(strstr(err, c->needle) != NULL, "%s: '%s' not in '%s'", c->name, c->needle,
                      err);
        /* Under --json the one line is a JSON object: it must parse, and say the exit. */
        if (err[0] == '{') {
            char exit_key[32];
            parses(err, JSON, c->name);
            snprintf(exit_key, sizeof(exit_key), "\"exit\":%d", c->status);
            ck_assert_msg(strstr(err, exit_key) != NULL, "%s: '%s'", c->name, err);
        } else {
            ck_assert_msg(strncmp(err, "hostdev", 7) == 0, "%s: '%s'", c->name, err);
        }
    } else {
        ck_assert_msg(err[0] == '\0', "%s: stderr: %s", c->name, err);
    }
    if (c->out != NONE && out[0] != '\0')
        parses(out, c->out, c->name);
    if (!(c->flags & WRITES_OK)) {
        after = snapshot();
        ck_assert_msg(strcmp(before, after) == 0, "%s: the tree changed", c->name);
        ck_assert_msg(log_writes() == 0, "%s: the kernel was written to", c->name);
        free(after);
    }
    free(before);
    free(out);
    free(err);
}
END_TEST

static void teardown(void)
{
    fx_umount(&fx);
    root = NULL;
}

HD_TEST_FILE(.teardown = teardown, .timeout = 60);
