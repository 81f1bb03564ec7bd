#!/bin/sh
# SPDX-License-Identifier: MIT
#
# gen_seeds.sh DIR: write the seed inputs of the host fuzz targets into
# DIR/<target>/ (a few small scripts each, see the targets' comments for
# the input formats). Seeds are only starting points: the fuzzer finds
# the rest from coverage.
set -eu

dir=${1:?usage: gen_seeds.sh DIR}
for t in fuzz_desc fuzz_insn fuzz_mmu; do
	rm -rf "${dir:?}/$t"
	mkdir -p "$dir/$t"
done

# seed TARGET NAME OCTAL-ESCAPED-BYTES
seed() {
	# shellcheck disable=SC2059 # the bytes are the format
	printf "$3" >"$dir/$1/$2"
}

# zeros N: N zero bytes as escapes
zeros() {
	i=0
	while [ "$i" -lt "$1" ]; do printf '\\0'; i=$((i + 1)); done
}

# fuzz_desc: mode (queues - 1, MMU bit 4), then per queue size, ring and
# descriptors; zeros elsewhere make plain COPYs of RAM data.
seed fuzz_desc one-queue "\0$(zeros 64)"
seed fuzz_desc four-queues "\3\1\2\3\4\5\6\7\10\11\12\13\14\15\16\17$(zeros 96)"
seed fuzz_desc mmu "\4\5\1\2\20\40\100\60\3\3\1\1\2\2\7\7$(zeros 96)"
seed fuzz_desc mmu-four "\7\11\22\44\110\3\6\14\30\60\140\1\2\4\10\20\40\100$(zeros 128)"

# fuzz_insn: mode 0 = raw program. A valid one: header ("TPRG", ISA 1.0,
# 128 bytes, the vector stream at 64 with 1 instruction) and END.
hdr='TPRG\0\0\1\0\200\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\100\0\0\0\1\0\0\0'
seed fuzz_insn raw-end "\0$hdr$(zeros 24)\2$(zeros 63)"
# modes 1 and 2 = structured, 3 = launch; the bytes pick counts and fields
seed fuzz_insn structured "\1\2\1\3\4\5\6\7\10\11\12\13\14\15\16\17$(zeros 64)"
seed fuzz_insn structured-twice "\5\1\2\2\2\2\4\4\4\4\1\1\1\1$(zeros 96)"
seed fuzz_insn launch "\3\1\1\2\2\3\3\4\4$(zeros 96)"
seed fuzz_insn launch-mmu "\3\2\2\1\1\4\4\2\2\5\5$(zeros 128)"

# fuzz_mmu: operations (byte mod 12) and their arguments
seed fuzz_mmu tables "\0\0\0\0\0\0\5\0\0\0\0\0\0\0\0\6\0\0\0\0\0\0\0\0\7\0\0\0\0\0\1$(zeros 32)"
seed fuzz_mmu walk "\1\1\3\0\2\2\0\0\2\2\3\1\0\1\1\5\0\0\0\1\0\10\0\0\11$(zeros 48)"
seed fuzz_mmu rw "\2\0\1\4\0\0\0\11\1\0\0\0\0\20\10\1\0\0\12\0\0\4\0$(zeros 64)"
