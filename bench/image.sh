# shellcheck shell=bash
# bench/image.sh — the ext4 image section of bench/run (sourced by it).
#
# Compares, in one run and interleaved:
#   native      the image loop-mounted read-write as root (mount -o loop,
#               freshly for every run, unmounted after it), the command in
#               a chroot into the mount point
#   kbox-T-img  kbox -r IMAGE --syscall-mode T (the same image file)
#   kbox-T-dir  kbox -r TREE --syscall-mode T (the tree the image was made
#               from: the directory-root backend)
# on a throw-away copy of .cache/roots/bench-debian.ext4 grown by 512 MiB
# (the cached image is never written). Benchmarks:
#   isys        bench/syscall_bench.c, writing to a file in the root's own
#               file system (/kbox-bench/sb.out)
#   ibig        bench/readbig.c on a 100 MB file: the first read (open +
#               read to EOF in a fresh kbox run / a fresh mount; the image
#               file warm in the host's page cache for both) and the median
#               of repeated full reads of the open fd
#   iwl         tar of /usr/lib/python3* to a pipe and to a file in the
#               image; dpkg -i of a small package built here (each run on
#               its own copy of the image; kbox -0 and native chroot)
#   fsck        e2fsck -fn of the image after every run of every benchmark
#               (native after its umount, kbox after its exit)
# Needs root (loop mounts); records into bench/run's raw table and prints
# its own Markdown tables (image_report) and CSV rows (image_csv).
# shellcheck disable=SC2154 # work, bin, top, runs, quick, gpath, libcs, ... : set by bench/run

img_src=$top/.cache/roots/bench-debian.ext4
img_tree=$top/.cache/roots/bench-debian
img=$work/image.ext4
img_mnt=$work/imnt
img_tools=()
img_pin=()
declare -A ifail=() ifsck_bad=() ifsck_n=() ifsck_ok=() inative_out=()

img_log() { log "image: $*"; }

# img_fsck BENCH TOOL FILE: e2fsck -fn, remembered per (bench, tool)
img_fsck() {
	local k="$1|$2"
	ifsck_n[$k]=$((${ifsck_n[$k]:-0} + 1))
	if e2fsck -fn "$3" >"$work/fsck.out" 2>&1; then
		ifsck_ok[$k]=$((${ifsck_ok[$k]:-0} + 1))
	else
		[ -n "${ifsck_bad[$k]:-}" ] ||
			ifsck_bad[$k]="$(grep -v -e '^e2fsck ' -e '^Pass ' -e '^$' "$work/fsck.out" | head -n 2 | tr '\n|' '  ' | cut -c1-160)"
		img_log "e2fsck -fn finds the image unclean after $1 under $2: ${ifsck_bad[$k]}"
		cp "$work/fsck.out" "$results/fsck-$1-$2.log" 2>/dev/null
	fi
}

img_mount() {  # IMAGE: loop-mount read-write on $img_mnt
	mount -o loop "$1" "$img_mnt" 2>"$work/mount.err"
}
img_umount() {
	umount "$img_mnt" 2>/dev/null || { sleep 0.2; umount "$img_mnt"; }
}

# img_run TOOL IMAGE TIMEOUT OUT ERR -- ARGV: R_WALL R_STATUS as run_cmd;
# native mounts IMAGE before and unmounts it after (neither is timed).
img_run() {
	local tool=$1 image=$2 to=$3 out=$4 err=$5 line pfx
	shift 5
	[ "$1" = -- ] && shift
	pfx=(env -i "PATH=$gpath" HOME=/root LC_ALL=C TERM=dumb)
	case "$tool" in
	native)
		if ! img_mount "$image"; then
			R_STATUS=mount R_WALL=
			cp "$work/mount.err" "$err"
			return
		fi
		pfx+=(chroot "$img_mnt") ;;
	kbox-*-img) pfx+=("$kbox" -r "$image" --syscall-mode "${tool:5:${#tool}-9}" "${KFLAGS[@]}" --) ;;
	kbox-*-dir) pfx+=("$kbox" -r "$img_tree" --syscall-mode "${tool:5:${#tool}-9}" "${KFLAGS[@]}" --) ;;
	kbox-*-img-cpu0) pfx+=("$(command -v taskset)" -c 0 "$kbox" -r "$image" --syscall-mode "${tool:5:${#tool}-14}" "${KFLAGS[@]}" --) ;;
	kbox-*-dir-cpu0) pfx+=("$(command -v taskset)" -c 0 "$kbox" -r "$img_tree" --syscall-mode "${tool:5:${#tool}-14}" "${KFLAGS[@]}" --) ;;
	esac
	line=$("$runone" -t "$to" -o "$out" -e "$err" -- "${pfx[@]}" "$@")
	R_WALL=$(sed -n 's/.*wall=\([^ ]*\).*/\1/p' <<<"$line")
	R_STATUS=$(sed -n 's/.*status=\([^ ]*\).*/\1/p' <<<"$line")
	if [ "$tool" = native ] && ! img_umount; then
		R_STATUS=umount
		echo "cannot unmount $img_mnt" >>"$err"
	fi
}

# ---------------------------------------------------------------- setup
img_setup() {
	local t bpkg=$work/benchpkg
	"$here/mkroots.sh" --images debian >&2 || { ifail[all]="failed: bench/mkroots.sh --images debian"; return 1; }
	build "$bin/readbig" "$here/readbig.c" gcc -static -O2 -Wall || { ifail[all]="failed: cannot build bench/readbig.c"; return 1; }
	command -v dpkg-deb >/dev/null || { ifail[all]="failed: dpkg-deb missing (apt-get install dpkg)"; return 1; }
	mkdir -p "$img_mnt"
	mounted+=("$img_mnt")

	# the 100 MB file: random (not sparse, not compressible), cached
	if [ "$(stat -c %s "$cache/big100m" 2>/dev/null)" != 104857600 ]; then
		head -c 104857600 /dev/urandom >"$cache/big100m.tmp" && mv "$cache/big100m.tmp" "$cache/big100m" ||
			{ ifail[all]="failed: cannot write $cache/big100m"; return 1; }
	fi

	# a small package: 200 files of 4 KiB, a conffile, a postinst
	rm -rf "$bpkg"
	mkdir -p "$bpkg/DEBIAN" "$bpkg/usr/share/kbox-benchpkg" "$bpkg/etc" "$bpkg/usr/bin"
	for ((t = 0; t < 200; t++)); do head -c 4096 /dev/urandom >"$bpkg/usr/share/kbox-benchpkg/f$t"; done
	printf '#!/bin/sh\necho kbox-benchpkg\n' >"$bpkg/usr/bin/kbox-benchpkg"
	chmod 755 "$bpkg/usr/bin/kbox-benchpkg"
	echo "setting=1" >"$bpkg/etc/kbox-benchpkg.conf"
	echo /etc/kbox-benchpkg.conf >"$bpkg/DEBIAN/conffiles"
	cat >"$bpkg/DEBIAN/control" <<'EOF'
Package: kbox-benchpkg
Version: 1.0
Architecture: all
Maintainer: kbox bench <bench@kbox.invalid>
Description: kbox benchmark package
 200 small files, a conffile and a postinst.
EOF
	printf '#!/bin/sh\nset -e\nmkdir -p /var/lib/kbox-benchpkg\necho installed >/var/lib/kbox-benchpkg/state\n' >"$bpkg/DEBIAN/postinst"
	chmod 755 "$bpkg/DEBIAN/postinst"
	dpkg-deb --build --root-owner-group "$bpkg" "$work/benchpkg.deb" >"$work/dpkg-deb.log" 2>&1 ||
		{ ifail[all]="failed: dpkg-deb --build: $(tail -n1 "$work/dpkg-deb.log")"; return 1; }

	# the throw-away image, grown so that the benchmarks fit
	img_log "copying $img_src (sparse) and growing it by 512 MiB"
	cp --sparse=always "$img_src" "$img" && truncate -s +512M "$img" &&
		e2fsck -fp "$img" >"$work/resize.log" 2>&1 && resize2fs "$img" >>"$work/resize.log" 2>&1 ||
		{ ifail[all]="failed: cannot copy and grow the image: $(tail -n1 "$work/resize.log")"; return 1; }
	{
		echo "mkdir /kbox-bench"
		for f in readbig big benchpkg.deb; do echo "rm /kbox-bench/$f"; done
		for l in $libcs; do echo "rm /kbox-bench/sb-$l"; done
		echo "write $bin/readbig /kbox-bench/readbig"
		echo "sif /kbox-bench/readbig mode 0100755"
		for l in $libcs; do echo "write $bin/sb-$l /kbox-bench/sb-$l"; echo "sif /kbox-bench/sb-$l mode 0100755"; done
		echo "write $cache/big100m /kbox-bench/big"
		echo "write $work/benchpkg.deb /kbox-bench/benchpkg.deb"
	} >"$work/idebugfs.cmd"
	debugfs -w -f "$work/idebugfs.cmd" "$img" >"$work/idebugfs.log" 2>&1 ||
		{ ifail[all]="failed: debugfs could not write the programs into the image"; return 1; }
	if ! e2fsck -fn "$img" >"$work/fsck.out" 2>&1; then
		ifail[all]="failed: the prepared image is not clean (e2fsck -fn): $(sed -n 2p "$work/fsck.out")"
		return 1
	fi
	# the same files in the tree, for the directory-root column
	mkdir -p "$img_tree/kbox-bench"
	cp "$bin/readbig" "$img_tree/kbox-bench/readbig"
	for l in $libcs; do cp "$bin/sb-$l" "$img_tree/kbox-bench/sb-$l"; done
	cmp -s "$cache/big100m" "$img_tree/kbox-bench/big" 2>/dev/null || cp "$cache/big100m" "$img_tree/kbox-bench/big"
	[ -s "$img_tree/kbox-bench/data" ] || head -c 4096 /dev/urandom >"$img_tree/kbox-bench/data"
	# (the image's /kbox-bench/data came from the tree when the image was made)

	img_tools=(native)
	for t in "${tools[@]}"; do
		case "$t" in
		kbox-*-cpu0) ;;
		kbox-*) [ -n "${fail[$t]:-}" ] || img_tools+=("$t-img" "$t-dir") ;;
		esac
	done
	[ ${#img_tools[@]} -gt 1 ] || img_log "no kbox tier can run: only native is measured"
	# --pinned: the per-syscall runs again with kbox and the guest on CPU 0
	img_pin=()
	if [ "$pinned" = 1 ]; then
		for t in "${img_tools[@]}"; do [ "$t" = native ] || img_pin+=("$t-cpu0"); done
	fi
	return 0
}

# ---------------------------------------------------------------- one run
# img_check TOOL BENCH OUTFILE ERRFILE: 0 if the run passed, else sets ifail
img_check() {
	local t=$1 b=$2 o=$3 e=$4 out
	if [ "$R_STATUS" != 0 ]; then
		ifail[$t,$b]="failed: $(reason_of "$e" "$o" "$R_STATUS")"
	else
		out=$(grep -v -e '_ms ' "$o")
		if [ "$t" = native ] && [ -z "${inative_out[$b]+x}" ]; then
			inative_out[$b]=$out
			return 0
		fi
		if [ -z "${inative_out[$b]+x}" ] || [ "$out" = "${inative_out[$b]}" ]; then
			return 0
		fi
		ifail[$t,$b]="failed: output differs from native: got '$(head -c 80 <<<"$out" | tr '\n|' ' /')', native '$(head -c 80 <<<"${inative_out[$b]}" | tr '\n|' ' /')'"
	fi
	img_log "$b under $t: ${ifail[$t,$b]}"
	return 1
}

img_runs() {
	local r t l b o=$work/i.out e=$work/i.err image nrep=9
	[ "$quick" = 1 ] && nrep=5
	local sb_args=(-w /kbox-bench/sb.out -t "$sb_ms" -r "$sb_rounds")
	for ((r = 1; r <= runs; r++)); do
		img_log "run $r of $runs"
		# per-syscall table
		for l in $libcs; do
			b=sys-$l
			for t in "${img_tools[@]}" "${img_pin[@]}"; do
				[ -n "${ifail[$t,$b]:-}" ] && continue
				KFLAGS=()
				img_run "$t" "$img" 120 "$o" "$e" -- "/kbox-bench/sb-$l" -d /kbox-bench/data "${sb_args[@]}"
				[[ $t == *-dir* ]] || img_fsck syscalls "$t" "$img"
				rm -f "$img_tree/kbox-bench/sb.out"
				if [ "$R_STATUS" != 0 ] || ! grep -q '^getpid ' "$o"; then
					ifail[$t,$b]="failed: $(reason_of "$e" "$o" "$R_STATUS")"
					img_log "syscall_bench ($l) under $t: ${ifail[$t,$b]}"
					continue
				fi
				while read -r name val; do
					case "$name" in '#'* | '') continue ;; esac
					record isys "$name" "$l" "$t" "$r" "$val"
				done <"$o"
			done
		done
		# the 100 MB file: the image (and the tree's copy) warm in the
		# host's page cache before every first read
		b=big
		for t in "${img_tools[@]}"; do
			[ -n "${ifail[$t,$b]:-}" ] && continue
			case "$t" in *-dir) cat "$img_tree/kbox-bench/big" >/dev/null ;; *) cat "$img" >/dev/null ;; esac
			KFLAGS=()
			img_run "$t" "$img" 120 "$o" "$e" -- /kbox-bench/readbig /kbox-bench/big -n "$nrep"
			[[ $t == *-dir ]] || img_fsck big_read "$t" "$img"
			img_check "$t" "$b" "$o" "$e" || continue
			record ibig first_read - "$t" "$r" "$(awk '$1 == "first_ms" { print $2 }' "$o")"
			record ibig repeat_read - "$t" "$r" "$(awk '$1 == "repeat_ms" { print $2 }' "$o")"
			record ibig wall - "$t" "$r" "$(awk -v w="$R_WALL" 'BEGIN { print w * 1000 }')"
		done
		# the host's floor for repeated reads: the page cache of a file
		# against a memfd (what kbox gives the guest for an image file)
		if "$bin/readbig" "$cache/big100m" -n "$nrep" -m >"$o" 2>"$e"; then
			record ibig host_file_repeat - host "$r" "$(awk '$1 == "repeat_ms" { print $2 }' "$o")"
			record ibig host_memfd_repeat - host "$r" "$(awk '$1 == "memfd_repeat_ms" { print $2 }' "$o")"
		fi
		# tar of a tree in the image: to a pipe, and to a file in the image
		for b in tar_read tar_write; do
			for t in "${img_tools[@]}"; do
				[ -n "${ifail[$t,$b]:-}" ] && continue
				KFLAGS=()
				case $b in
				tar_read) img_run "$t" "$img" 120 "$o" "$e" -- /bin/sh -c 'cd / && tar -cf - usr/lib/python3* | wc -c' ;;
				tar_write) img_run "$t" "$img" 120 "$o" "$e" -- /bin/sh -c 'cd / && tar -cf /kbox-bench/t.tar usr/lib/python3* && wc -c </kbox-bench/t.tar && rm /kbox-bench/t.tar' ;;
				esac
				[[ $t == *-dir ]] || img_fsck "$b" "$t" "$img"
				rm -f "$img_tree/kbox-bench/t.tar"
				img_check "$t" "$b" "$o" "$e" || continue
				record iwl "$b" - "$t" "$r" "$R_WALL"
			done
		done
		# dpkg -i, each run into its own copy of the image
		b=dpkg
		for t in "${img_tools[@]}"; do
			[ -n "${ifail[$t,$b]:-}" ] && continue
			case "$t" in *-dir) continue ;; esac
			image=$work/dpkg.ext4
			rm -f "$image"
			cp --sparse=always "$img" "$image" || { ifail[$t,$b]="failed: cannot copy the image"; continue; }
			cat "$image" >/dev/null
			KFLAGS=(-0)
			img_run "$t" "$image" 300 "$o" "$e" -- /usr/bin/dpkg -i /kbox-bench/benchpkg.deb
			img_fsck dpkg "$t" "$image"
			if [ "$R_STATUS" = 0 ] && ! grep -q '^Setting up kbox-benchpkg' "$o"; then
				R_STATUS=1
				echo "no 'Setting up kbox-benchpkg' in dpkg's output" >>"$e"
			fi
			rm -f "$image"
			img_check "$t" "$b" "$o" "$e" || continue
			record iwl dpkg - "$t" "$r" "$R_WALL"
		done
	done
	# the image after everything
	img_fsck all_benchmarks_done kbox-end "$img"
}

image_section() {
	img_log "setting up"
	img_setup || { img_log "${ifail[all]}"; return 0; }
	img_runs
}

# ---------------------------------------------------------------- report
img_label() {
	case "$1" in
	native) echo "native (loop-mounted image, chroot)" ;;
	kbox-*-img) echo "kbox ${1:5:${#1}-9}, image" ;;
	kbox-*-dir) echo "kbox ${1:5:${#1}-9}, directory" ;;
	kbox-*-img-cpu0) echo "kbox ${1:5:${#1}-14}, image, on CPU 0" ;;
	kbox-*-dir-cpu0) echo "kbox ${1:5:${#1}-14}, directory, on CPU 0" ;;
	esac
}

# icell SECTION ITEM LIBC TOOL FAILKEY
icell() {
	local k="$1|$2|$3|$4" nk="$1|$2|$3|native" c
	if [ -n "${ifail[$4,$5]:-}" ]; then echo "${ifail[$4,$5]}"; return; fi
	if [ -z "${med[$k]:-}" ]; then echo "–"; return; fi
	c="$(fmt "${med[$k]}") ($(fmt "${mn[$k]}")–$(fmt "${mx[$k]}"))"
	if [ "$4" != native ] && [ -n "${med[$nk]:-}" ]; then
		c="$c **×$(ratio "${med[$k]}" "${med[$nk]}")**"
	fi
	echo "$c"
}

# img_target TEXT A B LIMIT: "✅"/"❌" A <= LIMIT * B (medians), or "–"
img_target() {
	if [ -z "$2" ] || [ -z "$3" ]; then
		echo "- – $1: not measured"
		return
	fi
	local ok
	ok=$(awk -v a="$2" -v b="$3" -v l="$4" 'BEGIN { print (a <= l * b) ? "✅ met" : "❌ missed" }')
	echo "- $ok — $1: $(fmt "$2") vs $(fmt "$3") (×$(ratio "$2" "$3"))"
}

# isys_table SUFFIX TOOL...: the per-syscall table of TOOLs, with image ÷
# directory for each kbox-T-img$SUFFIX beside kbox-T-dir$SUFFIX.
isys_table() {
	local sfx=$1 t c l k img
	shift
	printf '| call | libc |'; for t in "$@"; do printf ' %s |' "$(img_label "$t")"; done
	for t in "$@"; do case $t in *-img"$sfx") img=${t%-img"$sfx"}; printf ' image ÷ directory (%s%s) |' "${img#kbox-}" "${sfx:+, CPU 0}" ;; esac; done; echo
	printf '|---|---|'; for t in "$@"; do printf -- '---|'; done
	for t in "$@"; do case $t in *-img"$sfx") printf -- '---|' ;; esac; done; echo
	for c in stat open_close lseek_read write getpid; do
		for l in $libcs; do
			printf '| %s | %s |' "${c/_/+}" "$l"
			for t in "$@"; do printf ' %s |' "$(icell isys "$c" "$l" "$t" "sys-$l")"; done
			for t in "$@"; do
				case $t in *-img"$sfx")
					k="isys|$c|$l|${t%-img"$sfx"}-dir$sfx"
					printf ' %s |' "$([ -n "${med[isys|$c|$l|$t]:-}" ] && [ -n "${med[$k]:-}" ] && echo "×$(ratio "${med[isys|$c|$l|$t]}" "${med[$k]}")" || echo –)" ;;
				esac
			done; echo
		done
	done
	echo
}

# The per-syscall runs on CPU 0 (bench/run --pinned): guest and kbox share
# one CPU, so no run depends on where the scheduler put the two ends of a
# round trip, the largest noise of the unpinned table.
image_pinned_table() {
	[ ${#img_pin[@]} -gt 0 ] || return 0
	echo "On CPU 0 (\`taskset -c 0\` around kbox: guest and supervisor on one CPU; the native column is the unpinned one above):"
	echo
	isys_table -cpu0 "${img_pin[@]}"
}

image_report() {
	local t l c b k
	echo "## ext4 image root"
	echo
	if [ -n "${ifail[all]:-}" ]; then
		echo "The image section did not run: ${ifail[all]}"
		echo
		return
	fi
	echo "One throw-away copy of \`.cache/roots/bench-debian.ext4\` (grown by 512 MiB) with the guest programs and a 100 MB random file written in by \`debugfs\`. **native**: that image loop-mounted read-write as root (\`mount -o loop\`, afresh for every run and unmounted after it), the command in a \`chroot\`; **image**: \`kbox -r IMAGE\`; **directory**: \`kbox -r\` of the tree the image was made from (\`.cache/roots/bench-debian\`). Ratios are to native's median from the same run; runs are interleaved."
	echo
	isys_table "" "${img_tools[@]}"
	echo "µs per call (\`bench/syscall_bench.c\`, median of $sb_rounds rounds of ${sb_ms} ms per run); \`write\` appends 64 bytes to \`/kbox-bench/sb.out\`, a file on the root's own file system (the image; the tree's disk)."
	echo
	image_pinned_table
	echo "### 100 MB file, ms"
	echo
	printf '| read |'; for t in "${img_tools[@]}"; do printf ' %s |' "$(img_label "$t")"; done; echo
	printf '|---|'; for t in "${img_tools[@]}"; do printf -- '---|'; done; echo
	for c in first_read repeat_read wall; do
		case $c in
		first_read) printf '| first read: open + read to EOF, 1 MiB reads |' ;;
		repeat_read) printf '| repeated read of the open fd (median pass) |' ;;
		wall) printf '| whole guest run (wall) |' ;;
		esac
		for t in "${img_tools[@]}"; do printf ' %s |' "$(icell ibig "$c" - "$t" big)"; done; echo
	done
	echo
	echo "\`bench/readbig.c\` in a fresh kbox run / on a fresh loop mount each time, so the first read finds nothing of the file in kbox's memory or in the mounted ext4's page cache; the image file (and the tree's copy of the file) is read on the host (\`cat > /dev/null\`) just before, so its blocks are warm in the host's page cache for both. Repeated read: the median of $([ "$quick" = 1 ] && echo 5 || echo 9) further passes over the same open fd."
	k="ibig|host_file_repeat|-|host"
	if [ -n "${med[$k]:-}" ] && [ -n "${med[ibig|host_memfd_repeat|-|host]:-}" ]; then
		echo
		echo "Floor on the host, same runs, no kbox: a repeated pass over the same 100 MB takes $(fmt "${med[$k]}") ms ($(fmt "${mn[$k]}")–$(fmt "${mx[$k]}")) from a file's page cache (on the host's ext4, dropped and refilled by readahead as on a fresh mount) and $(fmt "${med[ibig|host_memfd_repeat|-|host]}") ms ($(fmt "${mn[ibig|host_memfd_repeat|-|host]}")–$(fmt "${mx[ibig|host_memfd_repeat|-|host]}")) from a memfd holding the same bytes (**×$(ratio "${med[ibig|host_memfd_repeat|-|host]}" "${med[$k]}")**): an image file reaches the guest as a memfd, so this ratio is what kbox's repeated reads can reach against native here (shmem_enabled: $(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null || echo unknown))."
	fi
	echo
	echo "### Workloads on the image, seconds"
	echo
	printf '| workload |'; for t in "${img_tools[@]}"; do printf ' %s |' "$(img_label "$t")"; done; echo
	printf '|---|'; for t in "${img_tools[@]}"; do printf -- '---|'; done; echo
	for b in tar_read tar_write dpkg; do
		case $b in
		tar_read) printf '| tar -cf - usr/lib/python3\\* \\| wc -c |' ;;
		tar_write) printf '| tar -cf /kbox-bench/t.tar usr/lib/python3\\* (a file in the root), then rm |' ;;
		dpkg) printf '| dpkg -i of a 200-file package with a postinst (kbox -0; fresh image copy per run) |' ;;
		esac
		for t in "${img_tools[@]}"; do
			if [ $b = dpkg ] && [[ $t == *-dir ]]; then printf ' – (image only) |'; continue; fi
			printf ' %s |' "$(icell iwl "$b" - "$t" "$b")"
		done; echo
	done
	echo
	echo "### e2fsck -fn after every benchmark"
	echo
	printf '| benchmark |'; for t in "${img_tools[@]}"; do [[ $t == *-dir ]] || printf ' %s |' "$(img_label "$t")"; done; echo
	printf '|---|'; for t in "${img_tools[@]}"; do [[ $t == *-dir ]] || printf -- '---|'; done; echo
	for b in syscalls big_read tar_read tar_write dpkg; do
		printf '| %s |' "$b"
		for t in "${img_tools[@]}"; do
			[[ $t == *-dir ]] && continue
			k="$b|$t"
			if [ -z "${ifsck_n[$k]:-}" ]; then printf ' – |'
			elif [ -n "${ifsck_bad[$k]:-}" ]; then printf ' 🟥 **UNCLEAN** in %s of %s runs: %s |' $((ifsck_n[$k] - ${ifsck_ok[$k]:-0})) "${ifsck_n[$k]}" "${ifsck_bad[$k]}"
			else printf ' ✅ clean, %s of %s runs |' "${ifsck_ok[$k]}" "${ifsck_n[$k]}"; fi
		done; echo
	done
	echo
	k="all_benchmarks_done|kbox-end"
	if [ -n "${ifsck_bad[$k]:-}" ]; then echo "The image after all runs: 🟥 **UNCLEAN**: ${ifsck_bad[$k]}"
	elif [ -n "${ifsck_n[$k]:-}" ]; then echo "The image after all runs: ✅ clean."; fi
	echo "(Native runs are checked after their \`umount\`; each dpkg run is checked on its own copy.)"
	echo
	echo "### Targets (issue 4)"
	echo
	for t in "${img_tools[@]}"; do
		case $t in *-img) ;; *) continue ;; esac
		local d=${t%-img}-dir s=${t:5:${#t}-9}
		for l in $libcs; do
			img_target "stat on the image no slower than on a directory root ($s, $l)" "${med[isys|stat|$l|$t]:-}" "${med[isys|stat|$l|$d]:-}" 1
			img_target "open+close on the image no slower than on a directory root ($s, $l)" "${med[isys|open_close|$l|$t]:-}" "${med[isys|open_close|$l|$d]:-}" 1
		done
		img_target "repeated reads of an open file within 1.2x native ($s, 100 MB pass)" "${med[ibig|repeat_read|-|$t]:-}" "${med[ibig|repeat_read|-|native]:-}" 1.2
		img_target "(for comparison) the same within 1.2x the host's memfd floor ($s)" "${med[ibig|repeat_read|-|$t]:-}" "${med[ibig|host_memfd_repeat|-|host]:-}" 1.2
		for l in $libcs; do
			img_target "repeated reads of an open file within 1.2x native ($s, 64-byte lseek+read, $l)" "${med[isys|lseek_read|$l|$t]:-}" "${med[isys|lseek_read|$l|native]:-}" 1.2
		done
		img_target "first read of a 100 MB file within 3x native ($s)" "${med[ibig|first_read|-|$t]:-}" "${med[ibig|first_read|-|native]:-}" 3
	done
	for t in "${img_pin[@]}"; do
		case $t in *-img-cpu0) ;; *) continue ;; esac
		local d=${t%-img-cpu0}-dir-cpu0 s=${t:5:${#t}-14}
		for l in $libcs; do
			img_target "stat on the image no slower than on a directory root ($s on CPU 0, $l)" "${med[isys|stat|$l|$t]:-}" "${med[isys|stat|$l|$d]:-}" 1
			img_target "open+close on the image no slower than on a directory root ($s on CPU 0, $l)" "${med[isys|open_close|$l|$t]:-}" "${med[isys|open_close|$l|$d]:-}" 1
		done
	done
	local bad=0
	for k in "${!ifsck_bad[@]}"; do bad=1; done
	if [ $bad = 0 ] && [ ${#ifsck_n[@]} -gt 0 ]; then echo "- ✅ met — e2fsck -fn clean after every benchmark"
	else echo "- ❌ missed — e2fsck -fn clean after every benchmark (see the table above)"; fi
	echo
}

image_csv() {
	local s i l t k ls_ items st
	for s in isys ibig iwl; do
		case $s in
		isys) items=(stat open_close lseek_read write getpid) ls_=$libcs ;;
		ibig) items=(first_read repeat_read wall) ls_=- ;;
		iwl) items=(tar_read tar_write dpkg) ls_=- ;;
		esac
		for i in "${items[@]}"; do
			for l in $ls_; do
				for t in "${img_tools[@]}" $([ $s = isys ] && echo "${img_pin[@]}"); do
					k="$s|$i|$l|$t"
					u=us; [ $s = ibig ] && u=ms; [ $s = iwl ] && u=s
					if [ -n "${med[$k]:-}" ]; then
						rt=$(awk -v a="${med[$k]}" -v b="${med[$s|$i|$l|native]:-0}" 'BEGIN { if (b > 0) printf "%.4g", a / b }')
						echo "image-$s,$i,$l,$t,${cnt[$k]},${med[$k]},${mn[$k]},${mx[$k]},$rt,$u,ok"
					else
						case $s in isys) st=${ifail[$t,sys-$l]:-not run} ;; ibig) st=${ifail[$t,big]:-not run} ;; *) st=${ifail[$t,$i]:-not run} ;; esac
						echo "image-$s,$i,$l,$t,0,,,,,$u,\"${st//\"/\'}\""
					fi
				done
			done
		done
	done
	for i in host_file_repeat host_memfd_repeat; do
		k="ibig|$i|-|host"
		[ -n "${med[$k]:-}" ] && echo "image-ibig,$i,-,host,${cnt[$k]},${med[$k]},${mn[$k]},${mx[$k]},,ms,ok"
	done
	for k in "${!ifsck_n[@]}"; do
		st=clean; [ -n "${ifsck_bad[$k]:-}" ] && st="unclean: ${ifsck_bad[$k]//\"/\'}"
		echo "image-fsck,${k%%|*},-,${k#*|},${ifsck_n[$k]},${ifsck_ok[$k]:-0},,,,clean runs,\"$st\""
	done
}
