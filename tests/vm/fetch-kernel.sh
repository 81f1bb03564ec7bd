#!/bin/sh
# SPDX-License-Identifier: MIT
# Unpack Debian's Linux 6.12 image, headers, kbuild and the kselftest harness
# (from linux-source-6.12) into $TERN_CACHE/linux-<version>/, without
# installing anything into the host's /boot or /lib/modules.
#
# Prints the directory; it holds:
#   root/                     dpkg -x of image, headers, kbuild
#   KVER                      kernel release, e.g. 6.12.117+deb12-amd64
#   kdir                      -> headers directory to build modules against
#   selftests/                kselftest_harness.h, kselftest.h from linux-source
#   scripts/                  checkpatch.pl and its data files
set -eu

CACHE=${TERN_CACHE:-$HOME/.cache/tern}
log() { echo "fetch-kernel: $*" >&2; }

# Resolve the metapackage to the versioned packages it depends on: Debian 12
# has linux-image-6.12-amd64 (security suite); Debian 13's own kernel is 6.12,
# reached through linux-image-amd64.
resolve() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.12\.[0-9.]*+deb[0-9]*-amd64\)\(-unsigned\)\{0,1\}$/\1/p' | head -n1
}
img=$(resolve linux-image-6.12-amd64)
[ -n "$img" ] || img=$(resolve linux-image-amd64)
[ -n "$img" ] || { log "cannot resolve linux-image-6.12-amd64 (apt lists missing? run tests/vm/deps.sh)"; exit 1; }
KVER=${img#linux-image-}
D=$CACHE/linux-$KVER
if [ -f "$D/.done" ]; then
	echo "$D"
	exit 0
fi

abi=${KVER%-amd64}                      # 6.12.117+deb12
log "fetching Linux $KVER"
rm -rf "$D"
mkdir -p "$D/debs" "$D/root"
srcver=$(apt-cache policy linux-source-6.12 | sed -n 's/^ *Candidate: //p')
(cd "$D/debs" && apt-get download -q "$img" "linux-headers-$KVER" \
	"linux-headers-$abi-common" "linux-kbuild-$abi" "linux-source-6.12=$srcver" >/dev/null) ||
	{ log "apt-get download failed"; exit 1; }
for d in "$D"/debs/linux-image-* "$D"/debs/linux-headers-* "$D"/debs/linux-kbuild-*; do
	dpkg -x "$d" "$D/root"
done
echo "$KVER" >"$D/KVER"

# The headers Makefile includes the -common one by absolute path; point it
# into the extraction instead.
H=$D/root/usr/src/linux-headers-$KVER
sed -i "s|/usr/src/linux-headers-$abi-common|$D/root/usr/src/linux-headers-$abi-common|" "$H/Makefile"
ln -sfn "$H" "$D/kdir"

# Guest kernel: vmlinuz may be in /boot of the image package.
ln -sfn "$D/root/boot/vmlinuz-$KVER" "$D/vmlinuz"

# kselftest harness and checkpatch from linux-source (read at build time,
# never copied into the repository).
dpkg -x "$D"/debs/linux-source-6.12_*.deb "$D/src"
tarball=$(ls "$D"/src/usr/src/linux-source-6.12.tar.* | head -n1)
mkdir -p "$D/ksrc"
tar -C "$D/ksrc" --strip-components=1 -xf "$tarball" \
	--wildcards '*/tools/testing/selftests/kselftest*' \
	'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
	'*/scripts/extract-vmlinux'
rm -rf "$D/src" "$D"/debs/linux-source-6.12_*.deb
ln -sfn "$D/ksrc/tools/testing/selftests" "$D/selftests"
ln -sfn "$D/ksrc/scripts" "$D/scripts"
touch "$D/.done"
echo "$D"
