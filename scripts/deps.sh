#!/usr/bin/env bash
# Install every Debian package kbox needs to build, test and build its test
# roots. As root, missing packages are installed with apt-get (after an
# apt-get update); as another user, the exact command to run is printed and
# the script fails. Safe to run again: it does nothing when all is there.
#
# Usage: scripts/deps.sh [--check]   (--check: only report, never install)
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc libc6-dev make
	libext2fs-dev libzydis-dev libseccomp-dev
	# unit tests
	libcriterion-dev
	# guest test programs: static musl and static/dynamic glibc
	musl-tools
	# test roots
	busybox-static debootstrap e2fsprogs
	# test harness: setpriv/unshare, script, pgrep, chroot/timeout, useradd
	util-linux bsdutils procps coreutils passwd python3 diffutils findutils
	# comparisons and tooling
	proot bubblewrap clang-format shellcheck
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "${1:-}" = --check ] || [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them as root with:" >&2
	echo "    apt-get update && $cmd" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2

apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
