# SPDX-License-Identifier: MIT
#
# Shared by the Makefiles of programs that use libtern or the UAPI (tools/,
# tests/bench/, tests/kselftest/). Set ROOT and OUT before including it.

B ?= $(ROOT)/build
LIBTERN := $(B)/lib/libtern.a

TERN_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -pthread \
	-I$(ROOT)/lib -I$(ROOT)/include/uapi/drm -I$(ROOT)/include \
	$(shell pkg-config --cflags libdrm)
LIBS := $(shell pkg-config --libs libdrm) -luring -pthread -lm

.DEFAULT_GOAL := all

# Let `make -C <dir>` work on its own; lib/Makefile knows what is stale.
$(LIBTERN): FORCE
	@$(MAKE) -s --no-print-directory -C $(ROOT)/lib $(LIBTERN) >/dev/null

FORCE:

clean:
	rm -rf $(OUT)

.PHONY: all clean FORCE
