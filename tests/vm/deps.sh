#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages tern needs, idempotently: only what is missing.
# Extra suites (bookworm-backports, deb-src) are added by copying the existing
# Debian apt source entry and changing its Suites:/Types: line, so no archive
# host name is ever written by this project.
set -eu

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
. /etc/os-release
CODENAME=${VERSION_CODENAME:-unknown}

PKGS="build-essential pkg-config flex bison ninja-build python3 python3-venv
 libglib2.0-dev libpixman-1-dev libfdt-dev libcap-ng-dev libattr1-dev zlib1g-dev
 busybox-static cpio xz-utils kmod bc dwarves sparse libelf-dev
 libdrm-dev liburing-dev seabios qemu-system-data dpkg-dev rsync
 libopenblas-dev libopenblas-pthread-dev udev fio
 dkms python3-numpy man-db groff-base
 libncurses-dev tmux
 clang llvm bpftool libbpf-dev"

apt_updated=0
apt_update() {
	[ $apt_updated -eq 1 ] && return 0
	$SUDO apt-get update -qq
	apt_updated=1
}

# Main Debian deb822 entry: the stanza of debian.sources whose Suites: names
# the release itself.
SRC=/etc/apt/sources.list.d/debian.sources
main_stanza() {
	awk -v rel="$CODENAME" '
		BEGIN { RS=""; FS="\n" }
		{ for (i = 1; i <= NF; i++)
			if ($i ~ "^Suites:" && ($i " ") ~ (" " rel " ")) { print; exit } }' "$SRC"
}

# add_suite FILE TYPES SUITES: write FILE from the main stanza with the
# Types: and Suites: lines replaced (FILE.list in the one-line format).
add_suite() {
	file=$1 types=$2 suites=$3
	{ [ -f "$file" ] || [ -f "${file%.sources}.list" ]; } && return 0
	tmp=$(mktemp)
	if [ -f "$SRC" ]; then
		main_stanza | sed -e "s/^Types:.*/Types: $types/" \
			-e "s/^Suites:.*/Suites: $suites/" -e '/^#/d' >"$tmp"
	else
		# one-line format: the URI of the first main "deb" line of
		# sources.list (an "[option=...]" block may precede it)
		uri=$(sed -n "s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) $CODENAME\( .*\)\{0,1\}\$/\2/p" \
			/etc/apt/sources.list 2>/dev/null | head -n1)
		if [ -n "$uri" ]; then
			for t in $types; do
				for s in $suites; do
					echo "$t $uri $s main" >>"$tmp"
				done
			done
		fi
		file=${file%.sources}.list
	fi
	[ -s "$tmp" ] || { rm -f "$tmp"; echo "deps: cannot find the Debian apt source entry for $CODENAME" >&2; exit 1; }
	$SUDO install -m 644 "$tmp" "$file"
	rm -f "$tmp"
	echo "deps: added apt source $file ($types $suites)"
	apt_updated=0
}

case "$CODENAME" in
bookworm)
	add_suite /etc/apt/sources.list.d/tern-backports.sources deb bookworm-backports
	add_suite /etc/apt/sources.list.d/tern-src.sources deb-src "bookworm-backports"
	;;
trixie|forky|sid)
	add_suite /etc/apt/sources.list.d/tern-src.sources deb-src "$CODENAME"
	;;
*)
	echo "deps: unsupported distribution '$CODENAME' (need Debian 12 or 13)" >&2
	exit 1 ;;
esac

# Install only what is missing.
missing=
for p in $PKGS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt_update
	echo "deps: installing$missing"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The "tern" group of kernel/70-tern.rules: tern_security runs udev in the
# guest (which uses this root file system) and checks the nodes get it.
if ! getent group tern >/dev/null; then
	echo "deps: adding the system group tern"
	$SUDO groupadd --system tern
fi

# QEMU 10.0's configure needs meson >= 1.5 and pycotap (bookworm-backports on
# Debian 12; the release itself on Debian 13).
TARGET=
[ "$CODENAME" = bookworm ] && TARGET="-t bookworm-backports"
mv=$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)
pc=$(dpkg-query -W -f='${db:Status-Status}' python3-pycotap 2>/dev/null || true)
if ! dpkg --compare-versions "$mv" ge 1.5 || [ "$pc" != installed ]; then
	apt_update
	echo "deps: installing meson >= 1.5 and python3-pycotap"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $TARGET meson python3-pycotap >/dev/null
fi
exit 0
