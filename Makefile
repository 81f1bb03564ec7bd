# SPDX-License-Identifier: MIT
#
# tern: make run | make test | make bench
#
# Everything fetched or built from outside this tree (Debian's QEMU source and
# Linux packages, the QEMU build) lives in $(TERN_CACHE), keyed by version.
# Our own build products go to build/ (and kernel/*.o, *.ko by Kbuild).

# Quiet: tools print what matters; V=1 shows every command.
ifndef V
MAKEFLAGS += -s --no-print-directory
endif

TERN_CACHE ?= $(HOME)/.cache/tern
export TERN_CACHE
B := $(CURDIR)/build
export B

# Paths resolved by the fetch steps; valid only after `linux`/`qemu` ran.
LINUX_DIR = $(shell cat $(B)/linux.path 2>/dev/null)
KDIR ?= $(LINUX_DIR)/kdir
KSFT_DIR = $(LINUX_DIR)/selftests

.PHONY: all deps linux qemu module lib tools unit ops kselftest bench-bins \
	run test bench check clean help install uninstall dkms dkms-remove \
	fuzz-bins fuzz soak soak-args

help:
	@echo "make run     build everything, boot a VM with 8 tern chips in a ring, run the demo"
	@echo "make test    build everything, run every test (two VMs), print 'N passed, M failed'"
	@echo "make bench   DMA bandwidth and all-reduce against memcpy, matmul against OpenBLAS sgemm"
	@echo "make check   checkpatch --strict, sparse and W=1 on kernel/"
	@echo "make fuzz    the model's libFuzzer targets (ASan+UBSan), each for FUZZ_TIME"
	@echo "             seconds (default 600) on its kept corpus, then the guest fuzzer tern_fuzz"
	@echo "             for FUZZ_TIME seconds in a VM (Documentation/reliability.rst)"
	@echo "make fuzz-bins  build the fuzz targets into build/tests/fuzz/ (part of make all)"
	@echo "make soak   DURATION=<s> (default 600): worker processes on both chips of a VM run"
	@echo "             random verified copies and ops while faults are injected at random;"
	@echo "             reports jobs, faults injected and recovered, and lost results (must be"
	@echo "             0); TERN_SOAK_FAULTS=... picks the kinds (Documentation/reliability.rst)"
	@echo "make install libtern, headers, tern.pc, tools, man pages, udev rule, Python"
	@echo "             package (PREFIX=/usr/local, DESTDIR=; Documentation/install.rst)"
	@echo "make uninstall  remove what make install put there (same PREFIX, DESTDIR)"
	@echo "make dkms    put the driver's source in /usr/src/tern-<version> and build and"
	@echo "             install tern.ko with DKMS (KVER=<release>, default the running one)"

all: qemu module lib tools unit ops kselftest bench-bins fuzz-bins

deps:
	@sh tests/vm/deps.sh

$(B):
	@mkdir -p $(B)

linux: deps | $(B)
	@sh tests/vm/fetch-kernel.sh >$(B)/linux.path.tmp && mv $(B)/linux.path.tmp $(B)/linux.path

qemu: deps | $(B)
	@sh emulator/qemu-build.sh $(CURDIR) >$(B)/qemu.path.tmp && mv $(B)/qemu.path.tmp $(B)/qemu.path

module: linux
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(CURDIR) modules

lib: deps | $(B)
	@$(MAKE) --no-print-directory -C lib

tools: lib linux
	@$(MAKE) --no-print-directory -C tools

unit: deps | $(B)
	@$(MAKE) --no-print-directory -C tests/unit

ops: lib
	@$(MAKE) --no-print-directory -C tests/ops

kselftest: linux lib
	@$(MAKE) --no-print-directory -C tests/kselftest KSFT_DIR=$(KSFT_DIR)

bench-bins: lib
	@$(MAKE) --no-print-directory -C tests/bench

# Host libFuzzer targets of the model (tests/fuzz/, clang); `make fuzz`
# runs each for FUZZ_TIME seconds, one at a time, and prints its execs.
FUZZ_TIME ?= 600
fuzz-bins: deps | $(B)
	@$(MAKE) --no-print-directory -C tests/fuzz

# Then the guest fuzzer (tests/kselftest/tern_fuzz) in a VM with two chips.
fuzz: fuzz-bins qemu module kselftest
	@nice -n 10 sh tests/fuzz/run.sh long $(B)/tests/fuzz $(FUZZ_TIME) \
		$$(cat $(B)/tests/fuzz/tests.txt)
	@TERN_FUZZ_TIME=$(FUZZ_TIME) sh tests/vm/run-vm.sh fuzz

# The soak (tests/kselftest/tern_soak) in a VM with two chips, for DURATION
# seconds; TERN_SOAK_SEED, TERN_SOAK_FAULTS, TERN_SOAK_WORKERS and
# TERN_SOAK_FAULT_GAP from the environment go to the guest.
DURATION ?= 600
soak-args:
	@case "$(DURATION)" in ''|*[!0-9]*) echo "make soak: DURATION must be a number of seconds" >&2; exit 2 ;; esac
soak: soak-args qemu module kselftest
	@TERN_SOAK_TIME=$(DURATION) sh tests/vm/run-vm.sh soak

run: all
	@sh tests/vm/run-vm.sh demo

test: all
	@sh tests/vm/test.sh

bench: all
	@sh tests/bench/run.sh

check: linux
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(CURDIR) W=1 C=2 modules
	@perl $(LINUX_DIR)/scripts/checkpatch.pl --no-tree --strict --terse -f $(filter-out %.mod.c,$(wildcard kernel/*.c)) kernel/*.h

# ---- Installing (Documentation/install.rst) ----
# make install builds what is missing (lib, tools) and copies; it never
# runs `deps` or fetches a kernel. The paths go to lib/ and tools/.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# udev reads rules only from /usr/lib/udev/rules.d and /etc/udev/rules.d,
# so the rule goes there whatever PREFIX is (DESTDIR still applies).
UDEVRULESDIR ?= /usr/lib/udev/rules.d
DKMS_SRCDIR ?= /usr/src
export PREFIX BINDIR LIBDIR INCLUDEDIR DESTDIR
TERN_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' kernel/dkms.conf)
MAN_PAGES := $(wildcard Documentation/man/*.[1-9])

install:
	@$(MAKE) --no-print-directory -C lib install
	@$(MAKE) --no-print-directory -C tools install
	@for p in $(MAN_PAGES); do s=$${p##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	@install -d $(DESTDIR)$(UDEVRULESDIR)
	@install -m 0644 kernel/70-tern.rules $(DESTDIR)$(UDEVRULESDIR)/70-tern.rules
	@echo "installed tern $(TERN_VERSION) in $(DESTDIR)$(PREFIX) (udev rule in $(DESTDIR)$(UDEVRULESDIR))"

uninstall:
	@$(MAKE) --no-print-directory -C lib uninstall
	@$(MAKE) --no-print-directory -C tools uninstall
	@for p in $(MAN_PAGES); do s=$${p##*.}; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$${p##*/}; done
	@rm -f $(DESTDIR)$(UDEVRULESDIR)/70-tern.rules

# dkms: the driver's source as DKMS wants it (kernel/dkms.conf), then, with
# no DESTDIR, dkms add/build/install for KVER (default: the running kernel).
DKMS_TREE = $(DESTDIR)$(DKMS_SRCDIR)/tern-$(TERN_VERSION)
KVER ?= $(shell uname -r)
dkms:
	@rm -rf $(DKMS_TREE)
	@install -d $(DKMS_TREE)/kernel $(DKMS_TREE)/include/uapi/drm
	@install -m 0644 kernel/dkms.conf $(DKMS_TREE)/dkms.conf
	@install -m 0644 kernel/Kbuild kernel/Makefile kernel/70-tern.rules \
		$(filter-out %.mod.c,$(wildcard kernel/*.c)) kernel/*.h $(DKMS_TREE)/kernel/
	@install -m 0644 include/tern_regs.h include/tern_isa.h $(DKMS_TREE)/include/
	@install -m 0644 include/uapi/drm/tern_accel.h $(DKMS_TREE)/include/uapi/drm/
	@echo "tern $(TERN_VERSION) source in $(DKMS_TREE)"
	@if [ -z "$(DESTDIR)" ]; then \
		dkms status -m tern -v $(TERN_VERSION) | grep -q . || \
			dkms add -m tern -v $(TERN_VERSION) || exit 1; \
		dkms build -m tern -v $(TERN_VERSION) -k $(KVER) && \
		dkms install -m tern -v $(TERN_VERSION) -k $(KVER); \
	fi

dkms-remove:
	@if [ -z "$(DESTDIR)" ] && dkms status -m tern -v $(TERN_VERSION) | grep -q .; then \
		dkms remove -m tern -v $(TERN_VERSION) --all; fi
	@rm -rf $(DKMS_TREE)

clean:
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(B)
