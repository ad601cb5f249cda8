#!/bin/bash
# bench/image_first_read.sh — the first read of a large file in an ext4
# image: kbox against the kernel's ext4 on a loop mount of the same image.
#
#   bench/image_first_read.sh [--kbox PATH] [--size MiB] [--runs N] [--env VAR=VALUE]
#
# Needs root (the loop mount); kbox runs as the test user (tests/lib.sh).
# One image holds busybox and a random file of SIZE MiB (default 100). The
# image file is read once first, so it is warm in the host page cache for
# both sides, as it is for kbox in real use. Each run, alternately:
#   native  a fresh loop device and mount, the file's own page cache
#           dropped (fadvise DONTNEED, checked with fincore), then
#           `cat FILE >/dev/null` timed alone;
#   kbox    a fresh `kbox -r IMAGE --read-only -- /bin/cat FILE`, timed
#           whole, and a `kbox ... -- /bin/true` beside it: the difference is
#           the first read (copy into kbox's copy of the file and the cat).
# Prints every run and the medians; the ratio is median kbox first read
# over median native.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/lib.sh
source "$here/../tests/lib.sh"
size=100
runs=5
kenv=()
while [ $# -gt 0 ]; do
	case $1 in
	--kbox) KBOX=$(realpath "$2"); shift 2 ;;
	--size) size=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--env) kenv+=("$2"); shift 2 ;; # for kbox, e.g. KBOX_IMAGE_SPILL=1
	*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
is_root || { echo "image_first_read.sh: needs root (loop mount)" >&2; exit 77; }
test_user >/dev/null
ensure_reachable
work=$(mktmp bench-first-read)
mnt=$work/mnt
loopdev=
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/root/big" "$mnt"
cp -a "$(ensure_root busybox)/." "$work/root/"
head -c "${size}M" /dev/urandom >"$work/root/big/file"
"$KBOX" image create --from "$work/root" "$work/img.ext4" >/dev/null
give_to_user "$work"
cat "$work/img.ext4" >/dev/null

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

native_once() {
	local t0 t1
	loopdev=$(losetup -f --show -r "$work/img.ext4")
	mount -o ro "$loopdev" "$mnt"
	dd if="$mnt/big/file" iflag=nocache count=0 status=none
	t0=$(now)
	cat "$mnt/big/file" >/dev/null
	t1=$(now)
	umount "$mnt"
	losetup -d "$loopdev"
	loopdev=
	elapsed "$t0" "$t1"
}

kbox_once() {
	local t0 t1 t2
	t0=$(now)
	as_user env "${kenv[@]}" "$KBOX" -r "$work/img.ext4" --read-only -- /bin/cat /big/file >/dev/null
	t1=$(now)
	as_user env "${kenv[@]}" "$KBOX" -r "$work/img.ext4" --read-only -- /bin/true
	t2=$(now)
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2")"
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

native_once >/dev/null # warm-up: loop driver, mount path, image pages
kbox_once >/dev/null
: >"$work/native"
: >"$work/kbox"
for i in $(seq "$runs"); do
	n=$(native_once)
	read -r k t <<<"$(kbox_once)"
	echo "run $i: native $n s; kbox cat $k s, kbox true $t s, first read $(elapsed "$t" "$k") s"
	echo "$n" >>"$work/native"
	elapsed "$t" "$k" >>"$work/kbox"
	echo "$k" >>"$work/kbox-total"
done
mn=$(median <"$work/native")
mk=$(median <"$work/kbox")
mt=$(median <"$work/kbox-total")
echo "median of $runs ($size MiB): native $mn s; kbox first read $mk s (whole run $mt s);" \
	"ratio $(echo "scale=2; $mk / $mn" | bc) (whole run: $(echo "scale=2; $mt / $mn" | bc))"
e2fsck -fn "$work/img.ext4" >/dev/null 2>&1 || { echo "image not clean after the runs" >&2; exit 1; }
