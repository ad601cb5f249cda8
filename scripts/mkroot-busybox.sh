#!/usr/bin/env bash
# Build a small busybox root into DIR from Debian's busybox-static package
# (the /bin/busybox it installs on this machine): /bin/busybox with one
# symlink per applet, /etc/passwd and /etc/group, /root, /tmp (1777), empty
# /dev /proc /sys for kbox to fill, and the usual /usr/bin, /usr/sbin, ...
#
# Usage: scripts/mkroot-busybox.sh DIR
# Needs no root.
set -euo pipefail

die() { echo "mkroot-busybox: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1

busybox=
if command -v dpkg-query >/dev/null &&
	[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ]; then
	busybox=$(dpkg-query -L busybox-static | grep -m1 '/busybox$' || true)
fi
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
	die "busybox-static is not installed: run scripts/deps.sh (or apt-get install busybox-static)"
fi
file_out=$(LC_ALL=C od -An -c -N 4 "$busybox" | tr -d ' \n')
[ "$file_out" = '177ELF' ] || die "$busybox is not an ELF file"

tmp="$dir.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
for d in bin sbin usr/bin usr/sbin usr/lib lib etc root tmp dev proc sys var/tmp home; do
	mkdir -p "$tmp/$d"
done
chmod 0700 "$tmp/root"
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$busybox" "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"

# One relative symlink per applet, at the path busybox itself names.
"$busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	[ -e "$tmp/$applet" ] && continue
	case $applet in
	*/*) up=$(dirname "$applet" | sed 's|[^/][^/]*|..|g')/ ;;
	*) up= ;;
	esac
	ln -s "${up}bin/busybox" "$tmp/$applet"
done

cat >"$tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$tmp/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
echo kbox >"$tmp/etc/hostname"
printf 'PATH=/usr/sbin:/usr/bin:/sbin:/bin\n' >"$tmp/etc/profile"

rm -rf "$dir"
mv "$tmp" "$dir"
echo "mkroot-busybox: done: $dir" >&2
