#!/bin/bash
# bench/mkroots.sh — build and cache the guest roots the benchmark needs.
#
#   bench/mkroots.sh [--images] [busybox] [debian]
#
# Roots go to .cache/roots/ (ignored by git), apart from the test suite's
# own roots there, because bench/run adds files to them and mounts a tmpfs
# inside them while it runs:
#   bench-busybox/      a busybox-static tree
#   bench-debian/       a Debian 12 minbase tree with python3 and gcc
#   bench-busybox.ext4, bench-debian.ext4   (with --images) ext4 images
#
# A tree is copied from the test suite's .cache/roots/{busybox,debian} when
# that exists, else built with the project's scripts/mkroot-busybox.sh and
# scripts/mkroot-debian.sh (Debian's packages only; debootstrap from the
# mirror apt is configured for, read at run time). Every tree gets
# /kbox-bench/ (the guest programs, refreshed by bench/run) and /tmp/kbench.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${KBOX_BENCH_CACHE:-$top/.cache/roots}
images=0
want=()
for a in "$@"; do
    case "$a" in
    --images) images=1 ;;
    busybox|debian) want+=("$a") ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mkroots.sh: unknown argument '$a' (try --help)" >&2; exit 2 ;;
    esac
done
[ ${#want[@]} -gt 0 ] || want=(busybox debian)
mkdir -p "$cache"

log() { echo "mkroots: $*" >&2; }
die() { echo "mkroots: $*" >&2; exit 1; }

has_progs() {  # ROOT PROG...: are these programs in the tree?
    local r=$1 p; shift
    for p in "$@"; do
        [ -e "$r/usr/bin/$p" ] || [ -e "$r/bin/$p" ] || return 1
    done
}

build_tree() {  # NAME
    local name=$1 dest=$cache/bench-$1 script=$top/scripts/mkroot-$1.sh
    local need=(sh); [ "$name" = debian ] && need=(sh python3 gcc)
    if [ -d "$dest" ]; then
        log "$name: cached at $dest"; return 0
    fi
    if [ -d "$cache/$name" ] && has_progs "$cache/$name" "${need[@]}"; then
        log "$name: copying the test suite's $cache/$name"
        rm -rf "$dest.tmp"
        if cp -a "$cache/$name" "$dest.tmp" && mv "$dest.tmp" "$dest"; then return 0; fi
        rm -rf "$dest.tmp"
    fi
    [ -f "$script" ] || die "$name: no scripts/mkroot-$name.sh to build the root with"
    log "$name: building with scripts/mkroot-$name.sh"
    bash "$script" "$dest" || die "$name: scripts/mkroot-$name.sh failed (status $?)"
    has_progs "$dest" "${need[@]}" || die "$name: the tree lacks one of: ${need[*]}"
}

prepare_tree() {  # ROOT: dirs bench/run relies on
    mkdir -p "$1/kbox-bench" "$1/tmp/kbench" "$1/tmp/kbench-ovl"
    chmod 1777 "$1/tmp" 2>/dev/null || true
}

build_image() {  # NAME
    local name=$1 tree=$cache/bench-$1 img=$cache/bench-$1.ext4 kb
    if [ -f "$img" ] && [ "$img" -nt "$tree" ]; then log "$name.ext4: cached"; return 0; fi
    command -v mke2fs >/dev/null || die "mke2fs missing: apt-get install e2fsprogs"
    kb=$(du -sk "$tree" | awk '{print $1}')
    kb=$(( kb * 13 / 10 + 65536 ))
    log "$name.ext4: mke2fs -d $tree (${kb} KiB)"
    rm -f "$img.tmp"
    mke2fs -q -t ext4 -d "$tree" -F "$img.tmp" "${kb}k" || die "mke2fs failed for $name.ext4"
    mv "$img.tmp" "$img"
}

for n in "${want[@]}"; do
    build_tree "$n"
    prepare_tree "$cache/bench-$n"
    if [ $images = 1 ]; then build_image "$n"; fi
done
exit 0
