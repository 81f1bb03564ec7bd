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
	run test bench check clean help

help:
	@echo "make run     build everything, boot a VM with two tern chips, run the demo"
	@echo "make test    build everything, run every test, print 'N passed, M failed'"
	@echo "make bench   DMA bandwidth against host memcpy, matmul against OpenBLAS sgemm"
	@echo "make check   checkpatch --strict, sparse and W=1 on kernel/"

all: qemu module lib tools unit ops kselftest bench-bins

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

tools: lib
	@$(MAKE) --no-print-directory -C tools

unit: deps | $(B)
	@$(MAKE) --no-print-directory -C tests/unit

ops: lib
	@$(MAKE) --no-print-directory -C tests/ops

kselftest: linux lib
	@$(MAKE) --no-print-directory -C tests/kselftest KSFT_DIR=$(KSFT_DIR)

bench-bins: lib
	@$(MAKE) --no-print-directory -C tests/bench

run: all
	@sh tests/vm/run-vm.sh demo

test: all
	@sh tests/vm/test.sh

bench: all
	@sh tests/bench/run.sh

check: linux
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(CURDIR) W=1 C=2 modules
	@perl $(LINUX_DIR)/scripts/checkpatch.pl --no-tree --strict --terse -f $(filter-out %.mod.c,$(wildcard kernel/*.c)) kernel/*.h

clean:
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(B)
