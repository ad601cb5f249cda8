#!/usr/bin/env bash
# Guest program suite: every tests/guest/*.c, built musl-static,
# glibc-static and glibc-dynamic, runs natively and then under kbox, as the
# unprivileged test user, in a fresh busybox root; stdout and the exit
# status must be the same. The native result is the expected one.
#
# Native means, in order of preference:
#   bwrap   the program in a user+mount+pid namespace whose root is the test
#           root (bubblewrap): the same guest view kbox gives, and the
#           semantics of a pivoted root (the classic chroot escape fails);
#   chroot  (as root, when bwrap cannot run) a chroot with /proc mounted;
#   host    (neither) the program on the host with its cwd in the root;
#           tests that need the guest's view of / are compared with
#           tests/guest/expected/CASE.out instead.
# Where an expected file exists and the native run is a guest view, the
# native output must match it too (guards the harness itself).
#
# Usage: tests/guest/run.sh [--kbox PATH] [--out DIR] [--native MODE]
#                           [--variants "V..."] [--native-only]
#                           [--write-expected] [--name SUITE] [--image] [PATTERN...]
# --native-only checks the native runs alone; --write-expected (bwrap
# only) also stores them as expected files for the cases that need one.
# PATTERNs select cases by glob on "VARIANT/CASE" (e.g. '*/file_*').
# --image runs kbox on an ext4 image of the test root (kbox image create)
# instead of the tree, and checks it with e2fsck -fn after every case. The
# native runs then use a copy of that image, loop-mounted read-write (as
# root; unmounted at the end), as their root: the reference is Linux's own
# ext4. Where nothing can loop-mount it (not root, no loop devices), the
# case guest/native_on_ext4 is SKIPPED with the reason and the native runs
# use the tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

out=$KBOX_REPO/build-tests/guest
native_mode=
native_only=0
use_image=0
write_expected=0
variants="musl-static glibc-static glibc-dynamic"
suite=guest
patterns=()
while [ $# -gt 0 ]; do
	case $1 in
	--kbox) KBOX=$(realpath "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--native) native_mode=$2; shift 2 ;;
	--variants) variants=$2; shift 2 ;;
	--name) suite=$2; shift 2 ;;
	--native-only) native_only=1; shift ;;
	--image) use_image=1; shift ;;
	--write-expected) write_expected=1; native_only=1; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) patterns+=("$1"); shift ;;
	esac
done

# Cases: CASE|PROGRAM|KBOX_FLAGS|BWRAP_FLAGS|ARGS|NEEDS. Every program
# without a line here is one case of the same name with no flags: kbox -r,
# and natively the bare tree (no /proc, an empty /dev, as kbox -r shows).
# KBOX_FLAGS "-S" runs kbox -S instead (the recommended view: /proc, /dev,
# private /tmp, uid 0), natively with the matching bwrap flags.
# NEEDS, words:
#   guest   needs the guest's view of / natively (else expected file)
#   pivot   chroot is not a faithful native run (expected file)
#   kbox    kbox refuses on purpose what Linux allows (the 32-bit ABI,
#           io_uring): the kbox run is compared with expected/CASE.kbox.out;
#           the native run only has to run cleanly
#   scope   needs Landlock's scopes for signals and abstract sockets (ABI 6,
#           as kbox --stats reports it), else SKIPPED with the reason: without
#           them the guest reaches host processes of its user
# @CANARY@ and @SOCKET@ are host paths outside the root; @HOSTPID@ is a
# host process of the test user outside the guest (it listens on
# @SOCKET@ and on the abstract names @ABSTRACT@ and @ABSTRACT@.dgram). No
# case may end it: each is checked for it afterwards.
cases_table() {
	cat <<'TABLE'
identity|identity|||owner|
identity_root_id|identity|-0|--uid 0 --gid 0||
identity_change_id|identity|--change-id 1234:5678|--uid 1234 --gid 5678||
identity_peercred|identity_peercred||||
file_unix_creds_root_id|file_unix_creds|-0|--uid 0 --gid 0||
identity_peercred_root_id|identity_peercred|-0|--uid 0 --gid 0||
identity_peercred_change_id|identity_peercred|--change-id 1234:5678|--uid 1234 --gid 5678||
escape_chroot|escape_chroot|-0|--uid 0 --gid 0 --cap-add CAP_SYS_CHROOT||pivot
escape_host_paths|escape_host_paths|||@CANARY@ @SOCKET@|guest
escape_symlinks|escape_symlinks||||guest
escape_dotdot|escape_dotdot||||guest
escape_dirfd_up|escape_dirfd_up||||guest
escape_chroot_unprivileged|escape_chroot_unprivileged||||
escape_path_flip|escape_path_flip|||@CANARY@|guest
escape_compat_abi|escape_compat_abi|||@CANARY@|kbox
escape_io_uring|escape_io_uring||||kbox
escape_proc_links|escape_proc_links|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp|@HOSTPID@ @CANARY@|guest
escape_abstract_unix|escape_abstract_unix||--unshare-net|@ABSTRACT@|pivot
escape_signals|escape_signals|||@HOSTPID@|pivot
proc_self_exe|proc_self_exe|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
proc_dev_tty|proc_dev_tty|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||
proc_lists_guest_pids|proc_lists_guest_pids|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
proc_status_ids|proc_status_ids|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
proc_mounts_guest|proc_mounts_guest|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp|@CANARY@|guest
proc_maps_guest_paths|proc_maps_guest_paths|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
proc_cmdline|proc_cmdline|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
file_perms|file_perms||||
file_perms_root_id|file_perms|-0|--uid 0 --gid 0 --cap-add CAP_DAC_OVERRIDE --cap-add CAP_DAC_READ_SEARCH --cap-add CAP_FOWNER --cap-add CAP_CHOWN --cap-add CAP_FSETID||
file_mount_dev|file_mount_dev|-S|--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp||guest
TABLE
}

echo "guest: building test programs into $out"
make -s -C "$here" OUT="$out" -j"$(nproc)" >&2
read -r -a programs <<<"$(make -s -C "$here" OUT="$out" list)"

if ! kbox_usable; then
	echo "guest: $KBOX is missing or does not start ($KBOX --version failed)"
fi

user=$(test_user)
ensure_reachable
work=$(mktmp guest)
root=$work/root
outside=$work/outside
sock_pid=
nroot_mounted=
cleanup() {
	[ -n "$sock_pid" ] && kill "$sock_pid" 2>/dev/null
	if [ -n "$nroot_mounted" ]; then
		# (lazy as a last resort: rm -rf must never descend into the mount)
		umount "$nroot_mounted" 2>/dev/null || umount -l "$nroot_mounted" 2>/dev/null || {
			echo "guest: cannot unmount $nroot_mounted; leaving $work" >&2
			return
		}
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The test root: busybox, the programs under /t/VARIANT, the glibc the
# dynamic ones need, and /scratch where each run gets its own directory.
# (built afresh rather than copied from .cache/roots: the listings of / in
# the expected files must not depend on what was left in a shared cache)
"$KBOX_REPO/scripts/mkroot-busybox.sh" "$root" 2>/dev/null
for v in $variants; do
	mkdir -p "$root/t/$v"
	cp "$out/$v/"* "$root/t/$v/"
done
# (always, so that listings of / are the same whatever the variants)
for bin in "$out"/glibc-dynamic/*; do
	ldd "$bin" | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
mkdir -p "$root/scratch" "$outside"
echo "kbox canary: outside the guest root" >"$outside/secret"
chmod 0644 "$outside/secret"
give_to_user "$work"

# A host process of the test user outside the guest, listening on a
# socket outside the root and on two abstract names (a guest that reached
# them would connect). Its owner is the test user so that the host would
# allow it; a guest that could signal it could end it.
canary=$outside/secret
socket=$outside/sock
abstract=kbox-test-$$-$RANDOM
(
	as_user_prefix
	exec "${AS_USER[@]}" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
a = socket.socket(socket.AF_UNIX)
a.bind("\0" + sys.argv[2])
a.listen(8)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind("\0" + sys.argv[2] + ".dgram")
time.sleep(3600)' "$socket" "$abstract" </dev/null >/dev/null 2>&1
) &
sock_pid=$!
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
# (not kill -0: once killed, this shell's child is a zombie until waited for)
host_alive() {
	case $(ps -o stat= -p "$sock_pid" 2>/dev/null || true) in
	'' | Z*) return 1 ;;
	esac
}
host_alive || { echo "guest: the host listener did not start" >&2; exit 1; }

# --image: the image of the test root, made once before any run (as the
# test user, like every kbox run). The native root is a loop-mounted copy.
image=
image_err=
nroot=$root
native_fs="the tree"
if [ "$use_image" -eq 1 ]; then
	image=$work/root.ext4
	if ! kbox_usable; then
		image_err="$KBOX is missing or does not start: no image"
	elif ! kbox_run image create --size 1G --from "$root" "$image" >"$work/image.log" 2>&1; then
		image_err="kbox image create failed: $(tail -n 3 "$work/image.log" | tr '\n' ' ')"
	fi
	why=
	if [ -n "$image_err" ]; then
		why="there is no image ($image_err)"
	elif ! is_root; then
		why="not root: cannot loop-mount the image (run as root for a native reference on ext4)"
	elif ! command -v mount >/dev/null; then
		why="no mount(8)"
	else
		cp --sparse=always "$image" "$work/native.ext4"
		mkdir -p "$work/native-root"
		if mount -o loop "$work/native.ext4" "$work/native-root" 2>"$work/mount.err"; then
			nroot_mounted=$work/native-root
			nroot=$nroot_mounted
			native_fs="a loop-mounted copy of the image (ext4)"
		else
			why="mount -o loop failed: $(head -n 1 "$work/mount.err")"
			rmdir "$work/native-root" 2>/dev/null || true
		fi
	fi
	if [ -n "$why" ]; then
		t_skip guest/native_on_ext4 "the native runs use the tree, not ext4: $why"
	fi
fi

if [ -z "$native_mode" ]; then
	if as_user bwrap --unshare-user --unshare-pid --bind "$root" / --proc /proc --dev /dev \
		/bin/true >/dev/null 2>&1; then
		native_mode=bwrap
	elif is_root; then
		native_mode=chroot
	else
		native_mode=host
	fi
fi
echo "guest: native runs: $native_mode on $native_fs; kbox: $KBOX; user: $user"

# run_native VARIANT PROG SCRATCH BWRAP_FLAGS ARGS... > stdout, status as rc
run_native() {
	local v=$1 prog=$2 scratch=$3 bflags=$4 AS_USER
	shift 4
	as_user_prefix
	case $native_mode in
	bwrap)
		# shellcheck disable=SC2086 # flags are words
		timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" bwrap --unshare-user --unshare-pid \
			--bind "$nroot" / $bflags --chdir "$scratch" \
			"/t/$v/$prog" "$@"
		;;
	chroot)
		# shellcheck disable=SC2016 # expanded by the inner shells
		timeout -k 5 "$KBOX_TIMEOUT" unshare -m --propagation private bash -c '
			r=$1 s=$2 ids=$3
			shift 3
			mount --rbind /proc "$r/proc"
			exec chroot --userspec="$ids" "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$s" "$@"' \
			- "$nroot" "$scratch" "$(test_uid):$(test_gid)" "/t/$v/$prog" "$@"
		;;
	host)
		(cd "$nroot$scratch" && timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" "$nroot/t/$v/$prog" "$@")
		;;
	esac
}

new_scratch() {  # GUEST_PATH [ROOT]
	local r=${2:-$root}
	rm -rf "$r$1"
	mkdir -p "$r$1"
	give_to_user "$r$1"
}

# --image: a scratch dir in the image is made by kbox itself (as root, then
# given to the user).
image_scratch() {
	if [ -n "$image_err" ]; then
		t_fail "guest/$id" "$image_err" "@$work/image.log"
		return 1
	fi
	# Owned by the guest's identity, as the tree's scratch dir is the user's.
	local ids
	ids="$(test_uid):$(test_gid)"
	case " $2 " in
	*" -0 "* | *" -S "*) ids=0:0 ;;
	*" --change-id "*) ids=$(sed 's/.*--change-id \([0-9:]*\).*/\1/' <<<"$2") ;;
	esac
	kbox_run -r "$image" -0 -- /bin/sh -c "rm -rf $1 && mkdir -p $1 &&
		chown $ids $1" >"$work/scratch.log" 2>&1 ||
		{ t_fail "guest/$id" "making $1 in the image failed:" "@$work/scratch.log"; return 1; }
}

has_need() { [[ " $needs " == *" $1 "* ]]; }

# landlock_abi: the Landlock ABI kbox found (from --stats; 0 for none),
# cached. The kernel's, not whether kbox used it: a kbox that fails to
# scope its connects must fail, not skip.
ll_abi=
landlock_abi() {
	if [ -z "$ll_abi" ]; then
		ll_abi=$(kbox_run --stats -r "$root" -- /bin/true 2>&1 |
			sed -n 's/.*Landlock ABI \([0-9]*\).*/\1/p' | head -n 1)
		ll_abi=${ll_abi:-0}
	fi
	echo "$ll_abi"
}

selected() {
	local id=$1 p
	[ ${#patterns[@]} -eq 0 ] && return 0
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053 # glob match wanted
		[[ $id == $p ]] && return 0
	done
	return 1
}

# Build the case list: table lines first, then default cases.
declare -A has_case=()
case_lines=()
while IFS= read -r line; do
	prog=$(cut -d'|' -f2 <<<"$line")
	has_case[$prog]=1
	case_lines+=("$line")
done < <(cases_table)
for prog in "${programs[@]}"; do
	[ -n "${has_case[$prog]:-}" ] || case_lines+=("$prog|$prog||||")
done

res=$work/results
mkdir -p "$res"
for v in $variants; do
	for line in "${case_lines[@]}"; do
		IFS='|' read -r cname prog kflags bflags args needs <<<"$line"
		id="$v/$cname"
		selected "$id" || continue
		[ -x "$root/t/$v/$prog" ] || { t_fail "guest/$id" "program $prog was not built"; continue; }
		args=${args//@CANARY@/$canary}
		args=${args//@SOCKET@/$socket}
		args=${args//@HOSTPID@/$sock_pid}
		args=${args//@ABSTRACT@/$abstract}
		read -r -a argv <<<"$args"
		expected_file=$here/expected/$cname.out
		n_out=$res/$v.$cname.native
		k_out=$res/$v.$cname.kbox
		if has_need scope && [ "$native_only" -eq 0 ] && kbox_usable &&
			[ "$(landlock_abi)" -lt 6 ]; then
			t_skip "guest/$id" "this kernel's Landlock (ABI $(landlock_abi)) has no scopes (ABI 6, Linux 6.12): the guest can signal host processes of its user and reach host abstract sockets"
			continue
		fi

		# Native.
		use_native=1
		case $native_mode in
		host) has_need guest || has_need pivot && use_native=0 ;;
		chroot) has_need pivot && use_native=0 ;;
		esac
		if has_need kbox; then
			use_native=1
			expected_file=$here/expected/$cname.kbox.out
		fi
		if [ "$use_native" -eq 1 ]; then
			new_scratch "/scratch/$v.$cname.native" "$nroot"
			rc=0
			run_native "$v" "$prog" "/scratch/$v.$cname.native" "$bflags" "${argv[@]}" \
				>"$n_out" 2>"$n_out.err" </dev/null || rc=$?
			echo "[exit $rc]" >>"$n_out"
			# mke2fs makes /lost+found, which the tree has not.
			[ -n "$nroot_mounted" ] && sed -i 's/ lost+found//g; /^lost+found$/d' "$n_out"
			if ! host_alive; then
				t_fail "guest/$id" "the native run ended the host process $sock_pid"
				break 2
			fi
			if [ "$write_expected" -eq 1 ] && { has_need guest || has_need pivot; } &&
				[ "$native_mode" = bwrap ]; then
				mkdir -p "$here/expected"
				cp "$n_out" "$expected_file"
			fi
			if has_need kbox; then
				if [ "$rc" -ne 0 ] || [ -s "$n_out.err" ]; then
					t_fail "guest/$id" "the native run failed:" "@$n_out" "@$n_out.err"
					continue
				fi
				cp "$expected_file" "$n_out"
			elif [ -f "$expected_file" ] && [ "$native_mode" != host ] &&
				! diff -u "$expected_file" "$n_out" >"$n_out.diff"; then
				t_fail "guest/$id" "the native run ($native_mode) differs from $expected_file:" \
					"@$n_out.diff" "native stderr:" "@$n_out.err"
				continue
			fi
		elif [ -f "$expected_file" ]; then
			cp "$expected_file" "$n_out"
		else
			t_skip "guest/$id" "no faithful native run here ($native_mode) and no $expected_file"
			continue
		fi

		if [ "$native_only" -eq 1 ]; then
			if [ -s "$n_out.err" ]; then
				t_fail "guest/$id" "native run wrote to stderr:" "@$n_out.err" "@$n_out"
			else
				t_pass "guest/$id"
			fi
			continue
		fi

		# Under kbox.
		if ! kbox_usable; then
			t_fail "guest/$id" "$KBOX is missing or does not start"
			continue
		fi
		kroot=$root
		if [ "$use_image" -eq 1 ]; then
			image_scratch "/scratch/$v.$cname.kbox" "$kflags" || continue
			kroot=$image
		else
			new_scratch "/scratch/$v.$cname.kbox"
		fi
		rc=0
		rflag=(-r "$kroot")
		if [ "$kflags" = -S ]; then
			rflag=(-S "$kroot")
			kflags=
		fi
		# shellcheck disable=SC2086 # flags are words
		kbox_run "${rflag[@]}" -w "/scratch/$v.$cname.kbox" $kflags -- "/t/$v/$prog" "${argv[@]}" \
			>"$k_out" 2>"$k_out.err" </dev/null || rc=$?
		echo "[exit $rc]" >>"$k_out"
		# mke2fs makes /lost+found, which the tree has not.
		[ "$use_image" -eq 1 ] && sed -i 's/ lost+found//g; /^lost+found$/d' "$k_out"
		if ! host_alive; then
			t_fail "guest/$id" "the guest ended the host process $sock_pid (a process of" \
				"the test user outside the guest)" "kbox stderr:" "@$k_out.err"
			break 2
		fi
		if [ "$use_image" -eq 1 ] && ! e2fsck -fn "$image" >"$k_out.fsck" 2>&1; then
			t_fail "guest/$id" "e2fsck -fn finds the image unclean:" "@$k_out.fsck"
		elif diff -u --label native --label "kbox$(has_need kbox && echo " (vs $expected_file)")" \
			"$n_out" "$k_out" >"$k_out.diff"; then
			t_pass "guest/$id"
		else
			t_fail "guest/$id" "@$k_out.diff" "kbox stderr:" "@$k_out.err"
		fi
	done
done

t_summary "$suite" || exit 1
