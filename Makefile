# hostdev - top-level Makefile. `make` builds into build/; see README.md.
#
#   make                  library (build/libhostdev.so, .a), build/hostdev, build/hostdev-fakesys,
#                         the libvirt adapters (build/libhostdev-virt.so, .a, build/hostdev-virsh)
#   make check            unit tests, again under ASan+UBSan and valgrind, the threaded ones
#                         under TSan, lint, fuzzing, VM suite
#   make fuzz             every libFuzzer target for FUZZ_SECONDS (60) each
#   make lint             cppcheck and clang-tidy, clean
#   make install          PREFIX=/usr/local DESTDIR=
#   HOSTDEV_NO_UDEV=1 HOSTDEV_NO_KMOD=1   libc-only core (what the static binary uses)
#   HOSTDEV_NO_THREADS=1  an operation's devices one after another (the static binary)
#   HOSTDEV_NO_XML=1      tools without libxml2 (no --domain-xml); the default for -static

VERSION     := 0.1.0
# libhostdev's ABI: a removed, renamed or changed exported function bumps SOVERSION and the
# version node of core/libhostdev.sym (build-aux/abi.sh checks the list; docs/design.md, "ABI").
# 1: one findings type replaced the IOMMU problem, doctor diagnosis and VFIO explanation
# accessors, and the names were made one rule. 2: hd_node_device_check_assign() takes the PCI
# devices given beside it, and hd_node_device_check_with() is gone (check finds a USB, SCSI or
# mediated device once). 3: hd_reserve_persist_apply_all() says which entry failed. libhostdev-virt
# exports only vir*: its own.
SOVERSION   := 3
VIRT_SOVERSION := 0
CC          ?= cc
BUILD       ?= build
PREFIX      ?= /usr/local
LIBDIR      ?= $(PREFIX)/lib
BINDIR      ?= $(PREFIX)/bin
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share
# Boot integration (PREFIX=/usr for a distribution: udev and systemd look under /usr, and
# read /usr/local/lib/udev and /usr/local/lib/systemd too). initramfs-tools runs hooks only
# from /usr/share/initramfs-tools and /etc, dracut takes modules only from
# /usr/lib/dracut/modules.d: those two are there whatever the PREFIX, as /etc is.
UDEVDIR     ?= $(PREFIX)/lib/udev
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INITRAMFSDIR ?= /usr/share/initramfs-tools
DRACUTDIR   ?= /usr/lib/dracut/modules.d
# /etc whatever the PREFIX: systemd units read their defaults from /etc/default.
SYSCONFDIR  ?= /etc
PKGCONFIG   ?= pkg-config
HOSTDEV_NO_UDEV ?= 0
HOSTDEV_NO_KMOD ?= 0
HOSTDEV_NO_THREADS ?= 0

# Quiet by default, kmod style; `make V=1` shows the commands.
ifeq ($(V),1)
Q           :=
say         = @true
else
Q           := @
say         = @printf '  %-8s %s\n' $(1) $(2)
endif

WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wformat=2 -Wno-format-nonliteral
OPT         ?= -O2 -g
SAN         ?=
# libhostdev's folders, one layer each, lowest first (docs/design.md, Layers; build-aux/layers.sh
# checks that no object calls a layer above its own).
LIB_DIRS    := shared gateway os pci nodedev core

CPPFLAGS    += -D_GNU_SOURCE -DHOSTDEV_VERSION=\"$(VERSION)\" -Iinclude $(LIB_DIRS:%=-I%)
CFLAGS      ?=
ALL_CFLAGS  := -std=c11 $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden $(CFLAGS)
LDFLAGS     ?=

# Optional libraries: each has a libc-only twin with the same interface. libkmod, libudev and
# libxml2 are opened with dlopen() when first needed (shared/shared.h says why), so only their
# headers are build dependencies and -ldl (inside libc since glibc 2.34) is all that is linked.
CORE_SRC    := $(filter-out core/par-threads.c core/par-none.c os/kmod.c os/kmod-none.c \
                            os/udev.c os/udev-none.c,$(wildcard $(LIB_DIRS:%=%/*.c)))
LIB_LIBS    := -ldl
# An operation's steps on devices of different IOMMU groups run on worker threads (core/par.c);
# HOSTDEV_NO_THREADS=1 runs them one after another (the static binary: no thread code in it).
ifeq ($(HOSTDEV_NO_THREADS),1)
CORE_SRC    += core/par-none.c
else
CORE_SRC    += core/par-threads.c
LIB_LIBS    += -pthread
endif
ifeq ($(HOSTDEV_NO_KMOD),1)
CORE_SRC    += os/kmod-none.c
CPPFLAGS    += -DHOSTDEV_NO_KMOD
else
CORE_SRC    += os/kmod.c
CPPFLAGS    += $(shell $(PKGCONFIG) --cflags libkmod)
endif
ifeq ($(HOSTDEV_NO_UDEV),1)
CORE_SRC    += os/udev-none.c
CPPFLAGS    += -DHOSTDEV_NO_UDEV
else
CORE_SRC    += os/udev.c
CPPFLAGS    += $(shell $(PKGCONFIG) --cflags libudev)
endif

TOOL_SRC    := $(filter-out tools/domxml.c tools/domxml-none.c,$(wildcard tools/*.c))
VIRSH_SRC   := $(wildcard tools/virsh/*.c)
VIRT_SRC    := $(wildcard virt/*.c)
VIRT_CPPFLAGS := -Iinclude/hostdev-virt
# libxml2 reads libvirt domain XML in the tools, opened when a document is read. A static
# binary cannot dlopen(), so a static build (LDFLAGS=-static) leaves it out.
HOSTDEV_NO_XML ?= $(if $(findstring -static,$(LDFLAGS)),1,0)
ifeq ($(HOSTDEV_NO_XML),1)
TOOL_SRC    += tools/domxml-none.c
XML_CFLAGS  := -DHOSTDEV_NO_XML
else
TOOL_SRC    += tools/domxml.c
XML_CFLAGS  := $(shell $(PKGCONFIG) --cflags libxml-2.0 2>/dev/null)
endif
# The early-boot binary (`make static`, HOSTDEV_TOOLS=core): the commands an initramfs needs.
# tools/hostdev.c's table skips the commands not linked; list.c leaves out node devices.
HOSTDEV_TOOLS ?= all
ifeq ($(HOSTDEV_TOOLS),core)
TOOL_SRC    := $(addprefix tools/,hostdev.c json.c devargs.c devout.c devfilter.c opout.c list.c iommu.c detach.c \
                 reattach.c reset.c reserve.c remedy.c)
# Text output only there (tool_json() is constant false), which keeps it small (BENCHMARKS.md).
CPPFLAGS    += -DHOSTDEV_TOOLS_CORE
endif
FAKESYS_SRC := $(wildcard tools/fakesys/*.c)
FUSE_CFLAGS := $(shell $(PKGCONFIG) --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell $(PKGCONFIG) --libs fuse3 2>/dev/null)
CHECK_CFLAGS:= $(shell $(PKGCONFIG) --cflags check 2>/dev/null)
CHECK_LIBS  := $(shell $(PKGCONFIG) --libs check 2>/dev/null)

CORE_OBJ    := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_OBJ    := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
FAKESYS_OBJ := $(FAKESYS_SRC:%.c=$(BUILD)/obj/%.o)
VIRSH_OBJ   := $(VIRSH_SRC:%.c=$(BUILD)/obj/%.o)
VIRT_OBJ    := $(VIRT_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC    := $(wildcard tests/unit/test-*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_LIB_SRC:= $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_LIB_OBJ:= $(UNIT_LIB_SRC:%.c=$(BUILD)/obj/%.o)

LIB_SO      := $(BUILD)/libhostdev.so.$(SOVERSION)
LIB_A       := $(BUILD)/libhostdev.a
VIRT_SO     := $(BUILD)/libhostdev-virt.so.$(VIRT_SOVERSION)
VIRT_A      := $(BUILD)/libhostdev-virt.a

.PHONY: boot all lib adapters tools check check-unit check-layers abi-check check-asan check-tsan check-vm demo install uninstall clean deps \
        format static bench lint fuzz fuzz-bins check-valgrind fleet-deps check-libc
all: lib $(BUILD)/hostdev $(BUILD)/hostdev-fakesys adapters $(BUILD)/completion/_hostdev

lib: $(LIB_SO) $(LIB_A) $(BUILD)/hostdev.pc

# The libvirt adapters: the libvirt API subset (libhostdev-virt) and hostdev-virsh.
adapters: $(VIRT_SO) $(VIRT_A) $(BUILD)/hostdev-virt.pc $(BUILD)/pkgconfig/libvirt.pc \
          $(BUILD)/uninstalled/libvirt.pc $(BUILD)/hostdev-virsh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tools/fakesys/%.o: tools/fakesys/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(FUSE_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# tools/ may read libvirt domain XML (libxml2); the core stays libc-only.
$(BUILD)/obj/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(XML_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/virt/%.o: virt/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(VIRT_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tools/virsh/%.o: tools/virsh/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(VIRT_CPPFLAGS) $(XML_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_SO): $(CORE_OBJ) core/libhostdev.sym
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libhostdev.so.$(SOVERSION) -Wl,--version-script=core/libhostdev.sym \
	      $(SAN) $(LDFLAGS) -o $@ $(CORE_OBJ) $(LIB_LIBS)
	$(Q)ln -sf libhostdev.so.$(SOVERSION) $(BUILD)/libhostdev.so

$(LIB_A): $(CORE_OBJ)
	$(Q)rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

# The tools link the static archive: one self-contained binary per tool, no rpath games.
$(BUILD)/hostdev: $(TOOL_OBJ) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $(TOOL_OBJ) $(LIB_A) $(LIB_LIBS)

# The libvirt API subset carries the core inside it: one library for libvirt programs,
# exporting only libvirt's names.
$(VIRT_SO): $(VIRT_OBJ) $(CORE_OBJ) virt/libhostdev-virt.sym
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libhostdev-virt.so.$(VIRT_SOVERSION) \
	      -Wl,--version-script=virt/libhostdev-virt.sym $(SAN) $(LDFLAGS) -o $@ \
	      $(VIRT_OBJ) $(CORE_OBJ) $(LIB_LIBS)
	$(Q)ln -sf libhostdev-virt.so.$(VIRT_SOVERSION) $(BUILD)/libhostdev-virt.so

$(VIRT_A): $(VIRT_OBJ)
	$(Q)rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

# hostdev-virsh is a libvirt client like virsh: it speaks only the libvirt API subset.
$(BUILD)/hostdev-virsh: $(VIRSH_OBJ) $(VIRT_A) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $(VIRSH_OBJ) $(VIRT_A) $(LIB_A) $(LIB_LIBS)

# The fake kernel shares code with the library only through the public header (hd_pci_addr_*).
$(BUILD)/hostdev-fakesys: $(FAKESYS_OBJ) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $(FAKESYS_OBJ) $(LIB_A) $(FUSE_LIBS) $(LIB_LIBS) -lpthread

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_LIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $< $(UNIT_LIB_OBJ) $(UNIT_LIBS_$*) $(LIB_A) $(LIB_LIBS) \
	      $(CHECK_LIBS)

# test-virt-threads drives libhostdev-virt in-process, from many threads.
$(BUILD)/obj/tests/unit/test-virt-threads.o: CPPFLAGS += $(VIRT_CPPFLAGS)
$(BUILD)/tests/test-virt-threads: $(VIRT_A)
UNIT_LIBS_test-virt-threads := $(VIRT_A) -pthread

# The pkg-config files name the install directories: a stamp named after them makes
# `make install PREFIX=/usr` after a plain `make` write them anew.
DIRS_STAMP  := $(BUILD)/.dirs$(subst /,_,$(PREFIX)-$(LIBDIR)-$(INCLUDEDIR))
$(DIRS_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/.dirs*
	@touch '$@'

$(BUILD)/hostdev.pc: Makefile $(DIRS_STAMP)
	@mkdir -p $(BUILD)
	$(Q)printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: hostdev\nDescription: PCI passthrough preparation without libvirt\nVersion: %s\nLibs: -L$${libdir} -lhostdev\nCflags: -I$${includedir}\n' \
	       '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)' '$(VERSION)' > $@

# hostdev-virt.pc, and the same as libvirt.pc in a directory of its own (LIBDIR/hostdev-virt/
# pkgconfig) so that `PKG_CONFIG_PATH=... pkg-config libvirt` builds a libvirt program against
# hostdev unchanged without shadowing a real libvirt. uninstalled/ points into this tree.
# libvirt.pc carries the libvirt API level the subset follows (LIBVIR_VERSION_NUMBER), so
# `pkg-config --atleast-version` checks in libvirt programs' builds see what they expect.
VIRT_API_VERSION := 9.0.0
VIRT_PC = printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: %s\nDescription: libvirt node-device API on hostdev, without libvirtd\nVersion: %s\nLibs: -L$${libdir} -lhostdev-virt\nLibs.private: -lhostdev $(LIB_LIBS)\nCflags: -I$${includedir}\n'

$(BUILD)/hostdev-virt.pc: Makefile $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(VIRT_PC) '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)/hostdev-virt' hostdev-virt '$(VERSION)' > $@

$(BUILD)/pkgconfig/libvirt.pc: Makefile $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(VIRT_PC) '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)/hostdev-virt' libvirt '$(VIRT_API_VERSION)' > $@

$(BUILD)/uninstalled/libvirt.pc: Makefile $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(VIRT_PC) '$(CURDIR)' '$(abspath $(BUILD))' '$(CURDIR)/include/hostdev-virt' libvirt \
	           '$(VIRT_API_VERSION)' > $@

# ---- fuzzing ---------------------------------------------------------------------------------
# Each target tests/fuzz/fuzz-NAME.c is built twice: with libFuzzer by `make fuzz` (clang,
# ASan+UBSan), and in every build with tests/fuzz/replay.c as main(), so that the unit tests
# replay its seeds (tests/fuzz/NAME/) and every saved crash (tests/fuzz/regressions/NAME/).
FUZZ_TARGETS := pciaddr cmdline uevent ueventmsg spec domxml reservation hwdb mdevxml modprobe
FUZZ_SECONDS ?= 60
FUZZ_CC     ?= clang
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
# The fake kernel's spec parser is compiled in without its FUSE server's main().
FUZZ_OBJ_spec   := $(filter-out $(BUILD)/obj/tools/fakesys/main.o,$(FAKESYS_OBJ))
FUZZ_LIBS_spec  := $(FUSE_LIBS) -lpthread
FUZZ_OBJ_domxml := $(BUILD)/obj/tools/domxml.o
FUZZ_OBJ_mdevxml := $(BUILD)/obj/virt/mdev-xml.o
REPLAY_BIN  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay-%)

$(BUILD)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itools -Itools/fakesys -Ivirt $(XML_CFLAGS) $(FUSE_CFLAGS) $(ALL_CFLAGS) \
	          -MMD -MP -c $< -o $@

.SECONDEXPANSION:
$(BUILD)/fuzz/replay-%: $(BUILD)/obj/tests/fuzz/fuzz-%.o $(BUILD)/obj/tests/fuzz/replay.o \
                        $$(FUZZ_OBJ_$$*) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(FUZZ_LIBS_$*) $(LIB_LIBS)

$(BUILD)/fuzz/fuzz-%: $(BUILD)/obj/tests/fuzz/fuzz-%.o $$(FUZZ_OBJ_$$*) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(FUZZ_LIBS_$*) \
	      $(LIB_LIBS)

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz-%)

# Every target for FUZZ_SECONDS; a crash is copied to tests/fuzz/regressions/ and fails the run.
# No clang or libFuzzer is an error, never a silent skip.
fuzz:
	@build-aux/deps.sh fuzz
	@command -v $(FUZZ_CC) >/dev/null || \
	    { echo "fuzz: $(FUZZ_CC) not found (Debian: clang libclang-rt-14-dev)" >&2; exit 1; }
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) OPT='-O1 -g -fno-omit-frame-pointer' \
	        SAN='-fsanitize=fuzzer-no-link $(FUZZ_SAN)' fuzz-bins
	tests/fuzz/run build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- the static early-boot binary ----------------------------------------------------------
# musl (Debian's musl-tools), libc only, the core commands; stripped. Its own build directory,
# so the regular build is untouched.
# musl-gcc searches no kernel headers: linux/vfio.h and linux/ethtool.h come from the
# system's linux-libc-dev, through a directory holding only them. -flto: the listing's
# config-space path and the hwdb reader grew it past 128 KiB; across files the compiler drops
# what the core commands never call. common-page-size=16: the data segment starts in the file
# right after the code (its address keeps the page offset), not at the next 4 KiB boundary.
STATIC_CC   ?= musl-gcc
MULTIARCH   := $(shell gcc -print-multiarch 2>/dev/null)
static:
	@build-aux/deps.sh static
	@mkdir -p $(BUILD)/static/kernel-headers
	$(Q)ln -sfn /usr/include/linux $(BUILD)/static/kernel-headers/linux
	$(Q)ln -sfn /usr/include/asm-generic $(BUILD)/static/kernel-headers/asm-generic
	$(Q)ln -sfn $(firstword $(wildcard /usr/include/$(MULTIARCH)/asm /usr/include/asm)) \
	        $(BUILD)/static/kernel-headers/asm
	$(MAKE) BUILD=$(BUILD)/static CC=$(STATIC_CC) HOSTDEV_NO_UDEV=1 HOSTDEV_NO_KMOD=1 HOSTDEV_NO_THREADS=1 \
	        HOSTDEV_NO_XML=1 HOSTDEV_TOOLS=core OPT='-Oz -flto -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables' \
	        CFLAGS='-isystem $(abspath $(BUILD))/static/kernel-headers' \
	        LDFLAGS='-static -Oz -flto -Wl,-z,common-page-size=16 -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,-z,norelro' $(BUILD)/static/hostdev
	$(Q)strip --strip-all -R .comment -o $(BUILD)/hostdev-static $(BUILD)/static/hostdev
	@printf '  %-8s %s: %s bytes stripped\n' SIZE $(BUILD)/hostdev-static \
	        "$$(stat -c %s $(BUILD)/hostdev-static)"

# The udev rule, the unit, the initramfs-tools hook and the dracut module name the installed
# binary: @BINDIR@ and @UDEVDIR@ are filled in for the PREFIX given.
BOOT_IN     := boot/60-hostdev.rules.in boot/hostdev-reserve.service.in \
               boot/hostdev-export@.service.in boot/hostdev-export-nfd.service.in \
               boot/hostdev-export-nfd.timer \
               boot/initramfs-tools/hook boot/initramfs-tools/init-top \
               boot/dracut/module-setup.sh boot/dracut/hostdev-reserve.sh
BOOT_OUT    := $(patsubst boot/%,$(BUILD)/boot/%,$(BOOT_IN:.in=))
$(BUILD)/boot/%: boot/%.in $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@UDEVDIR@|$(UDEVDIR)|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@
$(BUILD)/boot/%: boot/% $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@UDEVDIR@|$(UDEVDIR)|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@
boot: $(BOOT_OUT)

# zsh's completion with the bash completion it runs put in it, for the line that sources it:
# installed, it needs no other file (wherever bash's completions are, or none).
$(BUILD)/completion/_hostdev: completion/_hostdev completion/hostdev.bash $(DIRS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)sed -e '/@HOSTDEV_BASH@/{r completion/hostdev.bash' -e 'd;}' $< > $@

# ---- tests -----------------------------------------------------------------------------------
# tests/run-unit runs every unit binary with the fake kernel and tree specs it needs, as many
# binaries at once as there are CPUs (HOSTDEV_UNIT_JOBS); the tool tests run the binaries of the
# same build (sanitized ones under check-asan).
check-unit: all $(UNIT_BIN) $(REPLAY_BIN) fleet-deps abi-check
	build-aux/layers.sh $(BUILD) $(LIB_SO)
	HOSTDEV_BUILD=$(BUILD) tests/run-unit $(UNIT_BIN)

# The libc-only core (HOSTDEV_NO_KMOD=1 HOSTDEV_NO_UDEV=1, what the static binary uses) against
# the unit tests of what it must answer as the regular build does: module loading and the
# modprobe.d blacklist, options and aliases (os/modprobe.c, read without libkmod too), a
# modalias's modules (modalias.c's lookup), names (hwdb.c without libudev), variants
# (modules.alias read by os/modalias.c), reservations at boot,
# doctor and verify, USB/SCSI, the monitor and the hostdev tool end to end. What only libkmod or
# libudev can answer is said in the test, under #ifdef HOSTDEV_NO_KMOD / HOSTDEV_NO_UDEV.
LIBC_TESTS  := test-bind test-noiommu test-names test-variant test-doctor test-iommu test-vfio \
               test-usb-scsi test-monitor test-reserve test-reserve-apply test-reserve-tool \
               test-tool
check-libc:
	$(MAKE) BUILD=$(BUILD)/libc HOSTDEV_NO_KMOD=1 HOSTDEV_NO_UDEV=1 \
	        $(LIBC_TESTS:%=$(BUILD)/libc/tests/%) $(BUILD)/libc/hostdev $(BUILD)/libc/hostdev-fakesys \
	        $(BUILD)/libc/completion/_hostdev
	HOSTDEV_BUILD=$(BUILD)/libc tests/run-unit $(LIBC_TESTS:%=$(BUILD)/libc/tests/%)

# The layers of docs/design.md, from the objects' symbols: no call goes up (check-unit and lint
# run it too).
check-layers: all
	build-aux/layers.sh $(BUILD) $(LIB_SO)

# The public header, the version script and the library's exports name the same functions.
abi-check: $(LIB_SO)
	CC="$(CC)" build-aux/abi.sh include/hostdev/hostdev.h core/libhostdev.sym $(LIB_SO)

# The consumers' own parsers that test-export runs (Nova's, promtool): Debian packages
# unpacked once into build/fleet (whatever BUILD is), never installed.
fleet-deps:
	@tests/fleet/fetch-deps.sh $(CURDIR)/build/fleet

# Sanitizer reports go to files: the fake kernel runs as a daemon whose stderr is /dev/null,
# and a leak it reports at exit would otherwise pass unseen. Each file is named after its
# program (log_exe_name), so a report says which of the many processes made it.
# build-aux/lsan.supp: what LeakSanitizer names that is not a leak, each with its reason.
SAN_LOG     := $(CURDIR)/build/asan/sanitizer
check-asan:
	@mkdir -p build/asan && rm -f $(SAN_LOG).*
	ASAN_OPTIONS=log_path=$(SAN_LOG):log_exe_name=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/build-aux/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=log_path=$(SAN_LOG):log_exe_name=1:print_stacktrace=1 \
	$(MAKE) BUILD=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
	        SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' check-unit; \
	rc=$$?; if ls $(SAN_LOG).* >/dev/null 2>&1; then tail -n +1 $(SAN_LOG).*; \
	echo "check-asan: sanitizer reports above" >&2; exit 1; fi; exit $$rc

# Under ThreadSanitizer: the tests that share libhostdev-virt objects among threads (the core
# is one context per thread; TSan cannot run with ASan, hence a build of its own), and those
# of operations whose steps run on worker threads (test-parallel, in-process and through the
# sanitized hostdev, on a sanitized fake kernel, whose FUSE server is threaded too). Reports
# go to files, as for check-asan, and fail the target.
TSAN_LOG    := $(CURDIR)/build/tsan/sanitizer
TSAN_TESTS  := test-virt-threads test-parallel
check-tsan:
	@mkdir -p build/tsan && rm -f $(TSAN_LOG).*
	$(MAKE) BUILD=build/tsan OPT='-O1 -g -fno-omit-frame-pointer' SAN='-fsanitize=thread' \
	        $(TSAN_TESTS:%=build/tsan/tests/%) build/tsan/hostdev build/tsan/hostdev-fakesys
	TSAN_OPTIONS='log_path=$(TSAN_LOG) halt_on_error=1 second_deadlock_stack=1' \
	HOSTDEV_BUILD=build/tsan tests/run-unit $(TSAN_TESTS:%=build/tsan/tests/%); \
	rc=$$?; if ls $(TSAN_LOG).* >/dev/null 2>&1; then cat $(TSAN_LOG).*; \
	echo "check-tsan: sanitizer reports above" >&2; exit 1; fi; exit $$rc

# Once under valgrind (memcheck): the unit binaries, which drive the library in-process, and
# Check's forked test processes. Programs they start through sh (hostdev, the fake kernel)
# are not traced; the ASan build covers those. Valgrind is ~30x slower: longer timeouts.
# Memory errors only (uninitialised values are what ASan cannot see): leaks are check-asan's
# (LeakSanitizer), because here a forked child that _exit()s with the parent's blocks counts
# them lost and its exit status turns into the error code, which tests of forks then read.
VALGRIND    := valgrind -q --tool=memcheck --error-exitcode=99 --leak-check=no \
               --trace-children=yes --trace-children-skip=/bin/*,/usr/*,*/hostdev-fakesys
check-valgrind: all $(UNIT_BIN) $(REPLAY_BIN) fleet-deps
	HOSTDEV_BUILD=$(BUILD) CK_TIMEOUT_MULTIPLIER=10 HOSTDEV_TEST_WRAPPER="$(VALGRIND)" \
	    tests/run-unit $(UNIT_BIN)
	@# The fuzz seeds and regressions too (test-fuzz-regressions runs them through sh).
	$(foreach t,$(FUZZ_TARGETS),$(VALGRIND) $(BUILD)/fuzz/replay-$(t) tests/fuzz/$(t) \
	    tests/fuzz/regressions/$(t) $(if $(filter spec,$(t)),tests/trees) &&) true

check-vm: all
	tests/vm/run $(BUILD)

# What CI runs (.ci/run is `make check`): the unit tests plain (some again in the libc-only
# build), under ASan+UBSan and once under valgrind; lint; every fuzz target for
# CHECK_FUZZ_SECONDS (60 each, as the issue asks of CI: 10 targets, as many at once as there
# are CPUs: 5 min on two plus the build; `make check CHECK_FUZZ_SECONDS=5` for a quick local
# run); the VM suite. The stages run one after another; each builds with CHECK_JOBS compilers
# (the CPUs, since CI runs plain `make check`) and runs its test binaries side by side
# (tests/run-unit, HOSTDEV_UNIT_JOBS).
CHECK_FUZZ_SECONDS ?= 60
CHECK_JOBS  ?= $(shell nproc 2>/dev/null || echo 1)
# `make -jN check` already shares N job slots with the stages: then no -j of their own.
CHECK_J      = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(CHECK_JOBS))
check: deps
	$(MAKE) $(CHECK_J) check-unit
	$(MAKE) $(CHECK_J) check-libc
	$(MAKE) $(CHECK_J) check-asan
	$(MAKE) $(CHECK_J) check-tsan
	$(MAKE) $(CHECK_J) check-valgrind
	$(MAKE) $(CHECK_J) lint
	$(MAKE) $(CHECK_J) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	@if [ -x tests/vm/run ]; then $(MAKE) check-vm; fi

deps:
	@build-aux/deps.sh check

# Not part of check: timings of hostdev list against lspci, driverctl and dpdk-devbind.py on
# generated trees of 100, 1,000 and 10,000 devices (BENCH_SIZES), ~5 minutes on 2 cores.
# Results: $(BUILD)/bench/results.md; BENCHMARKS.md says how to read them.
bench:
	@build-aux/deps.sh bench
	$(MAKE) all
	tests/bench/run $(BUILD)

demo:
	@build-aux/deps.sh build
	$(MAKE) all
	build-aux/demo.sh $(BUILD)

# ---- install ---------------------------------------------------------------------------------
install: all boot
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/hostdev \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/hostdev $(BUILD)/hostdev-fakesys $(DESTDIR)$(BINDIR)/
	install -D -m 0644 completion/hostdev.bash \
	        $(DESTDIR)$(DATADIR)/bash-completion/completions/hostdev
	install -D -m 0644 $(BUILD)/completion/_hostdev \
	        $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_hostdev
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libhostdev.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libhostdev.so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/hostdev/hostdev.h $(DESTDIR)$(INCLUDEDIR)/hostdev/
	install -m 0644 $(BUILD)/hostdev.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -d $(DESTDIR)$(INCLUDEDIR)/hostdev-virt/libvirt $(DESTDIR)$(LIBDIR)/hostdev-virt/pkgconfig
	install -m 0755 $(BUILD)/hostdev-virsh $(DESTDIR)$(BINDIR)/
	install -m 0755 $(VIRT_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libhostdev-virt.so.$(VIRT_SOVERSION) $(DESTDIR)$(LIBDIR)/libhostdev-virt.so
	install -m 0644 $(VIRT_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/hostdev-virt/libvirt/*.h $(DESTDIR)$(INCLUDEDIR)/hostdev-virt/libvirt/
	install -m 0644 $(BUILD)/hostdev-virt.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 $(BUILD)/pkgconfig/libvirt.pc $(DESTDIR)$(LIBDIR)/hostdev-virt/pkgconfig/
	install -d $(DESTDIR)$(UDEVDIR)/rules.d $(DESTDIR)$(SYSTEMDUNITDIR) \
	           $(DESTDIR)$(INITRAMFSDIR)/hooks $(DESTDIR)$(INITRAMFSDIR)/scripts/init-top \
	           $(DESTDIR)$(DRACUTDIR)/90hostdev
	install -m 0644 $(BUILD)/boot/60-hostdev.rules $(DESTDIR)$(UDEVDIR)/rules.d/
	install -m 0644 $(BUILD)/boot/hostdev-reserve.service $(BUILD)/boot/hostdev-export@.service \
	        $(BUILD)/boot/hostdev-export-nfd.service $(BUILD)/boot/hostdev-export-nfd.timer \
	        $(DESTDIR)$(SYSTEMDUNITDIR)/
	# Defaults the admin edits: never replaced once there.
	install -d $(DESTDIR)$(SYSCONFDIR)/default
	for f in nfd prometheus; do d=$(DESTDIR)$(SYSCONFDIR)/default/hostdev-export-$$f; \
	    [ -e $$d ] || install -m 0644 boot/hostdev-export-$$f.default $$d; done
	install -m 0755 $(BUILD)/boot/initramfs-tools/hook $(DESTDIR)$(INITRAMFSDIR)/hooks/hostdev
	install -m 0755 $(BUILD)/boot/initramfs-tools/init-top \
	        $(DESTDIR)$(INITRAMFSDIR)/scripts/init-top/hostdev
	install -m 0755 $(BUILD)/boot/dracut/module-setup.sh $(BUILD)/boot/dracut/hostdev-reserve.sh \
	        $(DESTDIR)$(DRACUTDIR)/90hostdev/
	if [ -x $(BUILD)/hostdev-static ]; then \
	    install -m 0755 $(BUILD)/hostdev-static $(DESTDIR)$(BINDIR)/; \
	else echo "  (no $(BUILD)/hostdev-static: \`make static\` builds the initramfs binary)"; fi
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man1/ || true; done
	for m in man/*.5; do [ -e "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man5/ || true; done

# Static analysis with the checked-in configuration (.clang-tidy); both must be clean. The
# layers are checked first (a build's objects).
lint: check-layers
	build-aux/lint.sh $(filter-out os/kmod-none.c os/udev-none.c,$(CORE_SRC)) \
	                  $(TOOL_SRC) $(FAKESYS_SRC) $(VIRT_SRC) $(VIRSH_SRC) \
	                  $(wildcard tests/fuzz/*.c) $(wildcard tests/unit/*.c)

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Test objects are not intermediate files: keep them, so a second `make` has nothing to do.
.SECONDARY: $(UNIT_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/unit/%.o) $(UNIT_LIB_OBJ) \
            $(FUZZ_TARGETS:%=$(BUILD)/obj/tests/fuzz/fuzz-%.o)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
