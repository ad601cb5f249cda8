#!/usr/bin/env bash
# Integration suite: real userland under kbox, as the unprivileged test user.
#   scripts   tests/integration/guest/*.sh (sh, find, tar, sort, make -j2,
#             python3, gcc) run on the busybox and the Debian minbase root,
#             natively first (bubblewrap: a namespace whose root is the same
#             tree) and then under kbox; stdout and exit status must match.
#             Each runs again under kbox in an ext4 image of that root
#             (Debian's --root-owned), checked with e2fsck -fn after it.
#             A script's "# roots:" line names the roots it runs on.
#   cli       exit statuses, -w, -b, -0, --change-id, --version, --help
#   packages  dpkg and apt-get install, verify and remove .debs built here,
#             in a throw-away copy of the Debian root (packages.sh)
#   procs     no guest process outlives kbox (killed, or daemons at exit)
#   tty       an interactive shell with job control in a pseudo-terminal
#   owner     fake ownership kept per file across runs (owner.sh)
#   image/mem memory stays bounded with large and many image files (image_mem.sh)
# The Debian root needs debootstrap as root: without it those cases are
# SKIPPED with the reason.
#
# Usage: tests/integration/run.sh [--kbox PATH] [PATTERN...]
# PATTERNs select cases by glob on their names (e.g. 'cli/*' '*/debian/*').
# Guest commands are single-quoted on purpose: the guest shell expands them.
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

patterns=()
while [ $# -gt 0 ]; do
	case $1 in
	--kbox) KBOX=$(realpath "$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) patterns+=("$1"); shift ;;
	esac
done

selected() {
	local p
	[ ${#patterns[@]} -eq 0 ] && return 0
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053 # glob match wanted
		[[ $1 == $p ]] && return 0
	done
	return 1
}

user=$(test_user)
ensure_reachable
work=$(mktmp integration)
declare -A roots=()
declare -A root_skip=()
cleanup() {
	local r
	for r in "${!roots[@]}"; do
		[ "$r" = debian ] && rm -rf "${roots[$r]}/it"
	done
	rm -rf "$work"
}
trap cleanup EXIT

# busybox: a fresh copy (tests write into it); debian: the cached tree,
# written only under /it (removed at exit).
roots[busybox]=$work/busybox
cp -a "$(ensure_root busybox)" "${roots[busybox]}"
rc=0
deb=$(ensure_root debian 2>"$work/debian.err") || rc=$?
if [ "$rc" -eq 0 ]; then
	roots[debian]=$deb
elif [ "$rc" -eq 77 ]; then
	root_skip[debian]="no Debian root: $(tail -n 1 "$work/debian.err")"
else
	cat "$work/debian.err"
	root_skip[debian]="FAILED to build the Debian root (see above)"
fi
give_to_user "$work"

if as_user bwrap --unshare-user --unshare-pid --bind "${roots[busybox]}" / /bin/true \
	>/dev/null 2>&1; then
	have_bwrap=1
else
	have_bwrap=0
fi
kbox_ok=0
kbox_usable && kbox_ok=1
echo "integration: kbox: $KBOX ($([ $kbox_ok -eq 1 ] && echo starts || echo 'does NOT start'))"
echo "integration: user: $user; native runs: $([ $have_bwrap -eq 1 ] && echo bwrap || echo none)"

need_kbox() {
	if [ "$kbox_ok" -eq 0 ]; then
		t_fail "$1" "$KBOX is missing or does not start"
		return 1
	fi
}

# ---- scripts ---------------------------------------------------------------

# Each script runs in the modes its "# runs:" line names, ROOT:MODE:
#   S  kbox -S (the recommended view: /proc, /dev, a private /tmp, guest
#      uid 0); natively bwrap with uid 0, /proc, /dev and a tmpfs on /tmp
#   r  kbox -r (the tree as it is; the Debian tree has its own /dev nodes,
#      the busybox one an empty /dev); natively bwrap with /proc and /dev
# The work dir is /it/work (outside /tmp, which -S replaces).

# bwrap_run ROOT MODE DIR CMD...: natively, as the test user, ROOT as /.
bwrap_run() {
	local r=$1 mode=$2 d=$3 AS_USER extra=()
	shift 3
	as_user_prefix
	case $mode in
	S) extra=(--uid 0 --gid 0 --proc /proc --dev /dev --tmpfs /tmp) ;;
	r) extra=(--proc /proc --dev /dev) ;;
	esac
	timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" bwrap --unshare-user --unshare-pid \
		--bind "$r" / "${extra[@]}" --chdir "$d" "$@"
}

fresh_dir() {
	rm -rf "$1"
	mkdir -p "$1"
	give_to_user "$1"
}

run_scripts() {
	local f name runs run kind mode r id rc dir=/it/work out flag
	for f in "$here"/guest/*.sh; do
		name=$(basename "$f" .sh)
		runs=$(sed -n 's/^# runs: *//p' "$f")
		for run in $runs; do
			kind=${run%%:*}
			mode=${run#*:}
			id="script/$kind/$mode/$name"
			selected "$id" || continue
			if [ -n "${root_skip[$kind]:-}" ]; then
				t_skip "$id" "${root_skip[$kind]}"
				continue
			fi
			if [ "$have_bwrap" -eq 0 ]; then
				t_skip "$id" "bubblewrap cannot run here: no native run to compare with"
				continue
			fi
			r=${roots[$kind]}
			mkdir -p "$r/it"
			cp "$f" "$r/it/$name.sh"
			give_to_user "$r/it"
			out=$work/$kind.$mode.$name
			fresh_dir "$r$dir"
			rc=0
			bwrap_run "$r" "$mode" "$dir" /bin/sh "/it/$name.sh" >"$out.native" \
				2>"$out.native.err" </dev/null || rc=$?
			echo "[exit $rc]" >>"$out.native"
			need_kbox "$id" || continue
			fresh_dir "$r$dir"
			flag=-r
			[ "$mode" = S ] && flag=-S
			rc=0
			kbox_run "$flag" "$r" -w "$dir" -- /bin/sh "/it/$name.sh" >"$out.kbox" \
				2>"$out.kbox.err" </dev/null || rc=$?
			echo "[exit $rc]" >>"$out.kbox"
			rm -rf "${r:?}$dir"
			if diff -u --label native --label kbox "$out.native" "$out.kbox" >"$out.diff"; then
				t_pass "$id"
			else
				t_fail "$id" "@$out.diff" "kbox stderr:" "@$out.kbox.err"
			fi
			image_script "$kind" "$mode" "$name" "$out"
		done
	done
}

# ---- the same scripts in an ext4 image of each root ------------------------

# image_of KIND: img= the image of root KIND (made once, with every script in /it): busybox as
# the user owns it, Debian --root-owned (files belong to root in the image).
declare -A images=()
image_of() {
	local kind=$1 r=${roots[$1]} f owned=()
	img=$work/$1.ext4
	if [ -z "${images[$kind]:-}" ]; then
		mkdir -p "$r/it/work"
		for f in "$here"/guest/*.sh; do cp "$f" "$r/it/"; done
		give_to_user "$r/it"
		[ "$kind" = debian ] && owned=(--root-owned)
		kbox_run image create "${owned[@]}" --from "$r" "$img" >"$work/$kind.image.log" 2>&1 ||
			{ cat "$work/$kind.image.log"; return 1; }
		images[$kind]=$img
	fi
	img=${images[$kind]}
}

# image_script KIND MODE NAME OUT: script NAME in the image of KIND, compared
# with its native run (OUT.native); e2fsck -fn must find the image clean.
image_script() {
	local kind=$1 mode=$2 name=$3 out=$4 id="script/$1-image/$2/$3" img rc flag=-r
	selected "$id" || return 0
	need_kbox "$id" || return 0
	command -v e2fsck >/dev/null || { t_skip "$id" "no e2fsck"; return 0; }
	image_of "$kind" || { t_fail "$id" "kbox image create failed"; return 0; }
	# A fresh work dir, made by kbox in the image (as root: the Debian image is root's).
	kbox_run -r "$img" -0 -- /bin/sh -c 'rm -rf /it/work && mkdir /it/work &&
		chown '"$(test_uid):$(test_gid)"' /it/work' >"$out.img.prep" 2>&1 ||
		{ t_fail "$id" "preparing /it/work failed:" "@$out.img.prep"; return 0; }
	[ "$mode" = S ] && flag=-S
	rc=0
	kbox_run "$flag" "$img" -w /it/work -- /bin/sh "/it/$name.sh" >"$out.img" \
		2>"$out.img.err" </dev/null || rc=$?
	echo "[exit $rc]" >>"$out.img"
	if ! e2fsck -fn "$img" >"$out.fsck" 2>&1; then
		t_fail "$id" "e2fsck -fn finds the image unclean:" "@$out.fsck"
	elif diff -u --label native --label kbox-image "$out.native" "$out.img" >"$out.img.diff"; then
		t_pass "$id"
	else
		t_fail "$id" "@$out.img.diff" "kbox stderr:" "@$out.img.err"
	fi
}

# ---- cli -------------------------------------------------------------------

# expect_kbox NAME STATUS REGEX ARGS...: kbox ARGS exits STATUS and its
# output (stdout+stderr) matches the extended REGEX ('' = anything).
expect_kbox() {
	local name=$1 want=$2 rx=$3 rc=0
	shift 3
	selected "$name" || return 0
	need_kbox "$name" || return 0
	kbox_run "$@" >"$work/out" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne "$want" ]; then
		t_fail "$name" "kbox $* exited $rc, expected $want; output:" "@$work/out"
	elif [ -n "$rx" ] && ! grep -Eq -- "$rx" "$work/out"; then
		t_fail "$name" "kbox $* output does not match /$rx/:" "@$work/out"
	else
		t_pass "$name"
	fi
}

run_cli() {
	local bb=${roots[busybox]} uid gid
	uid=$(test_uid)
	gid=$(test_gid)
	mkdir -p "$work/hostsrc" "$work/hostro"
	echo host-file >"$work/hostsrc/in"
	echo ro-file >"$work/hostro/in"
	: >"$work/plainfile"
	give_to_user "$work/hostsrc" "$work/hostro" "$work/plainfile"

	expect_kbox cli/version 0 '[0-9]+\.[0-9]+' --version
	expect_kbox cli/help 0 '--root' --help
	expect_kbox cli/help_short 0 '--root' -h
	expect_kbox cli/runs_guest 0 '^hello$' -r "$bb" -- /bin/echo hello
	expect_kbox cli/guest_exit_status 42 '' -r "$bb" -- /bin/sh -c 'exit 42'
	expect_kbox cli/guest_exit_zero 0 '' -r "$bb" -- /bin/true
	expect_kbox cli/guest_false 1 '' -r "$bb" -- /bin/false
	expect_kbox cli/killed_by_sigterm 143 '' -r "$bb" -- /bin/sh -c 'kill -TERM $$'
	expect_kbox cli/killed_by_sigkill 137 '' -r "$bb" -- /bin/sh -c 'kill -KILL $$'
	expect_kbox cli/killed_by_sigsegv 139 '' -r "$bb" -- /bin/sh -c 'kill -SEGV $$'
	expect_kbox cli/bad_option 125 '.' --no-such-option -r "$bb" -- /bin/true
	expect_kbox cli/missing_root_option 125 '.' -- /bin/true
	expect_kbox cli/missing_root 125 '.' -r "$work/does-not-exist" -- /bin/true
	expect_kbox cli/root_is_regular_file 125 '.' -r "$work/plainfile" -- /bin/true
	expect_kbox cli/missing_program_arg 125 '.' -r "$bb"
	expect_kbox cli/program_not_found 127 '.' -r "$bb" -- /no/such/program
	expect_kbox cli/program_not_in_path 127 '.' -r "$bb" -- no-such-program
	expect_kbox cli/program_not_executable 126 '.' -r "$bb" -- /etc/passwd
	expect_kbox cli/program_is_directory 126 '.' -r "$bb" -- /etc
	expect_kbox cli/program_via_path 0 '^hello$' -r "$bb" -- echo hello
	expect_kbox cli/syscall_mode_seccomp 0 '^ok$' --syscall-mode seccomp -r "$bb" -- /bin/echo ok
	expect_kbox cli/syscall_mode_trap_unavailable 125 '.' --syscall-mode trap -r "$bb" -- /bin/true
	expect_kbox cli/syscall_mode_bogus 125 '.' --syscall-mode bogus -r "$bb" -- /bin/true
	expect_kbox cli/workdir_default 0 '^/$' -r "$bb" -- /bin/pwd
	expect_kbox cli/workdir 0 '^/tmp$' -r "$bb" -w /tmp -- /bin/pwd
	expect_kbox cli/workdir_long 0 '^/etc$' -r "$bb" --work-dir /etc -- /bin/pwd
	expect_kbox cli/workdir_missing 125 '.' -r "$bb" -w /no/such/dir -- /bin/pwd
	expect_kbox cli/bind 0 '^host-file$' -r "$bb" -b "$work/hostsrc:/mnt" -- /bin/cat /mnt/in
	expect_kbox cli/bind_write 0 '^written$' -r "$bb" -b "$work/hostsrc:/mnt" -- \
		/bin/sh -c 'echo written >/mnt/new && cat /mnt/new'
	if selected cli/bind_write_host_side && [ "$kbox_ok" -eq 1 ]; then
		if [ "$(cat "$work/hostsrc/new" 2>/dev/null)" = written ]; then
			t_pass cli/bind_write_host_side
		else
			t_fail cli/bind_write_host_side "$work/hostsrc/new does not hold what the guest wrote"
		fi
	fi
	expect_kbox cli/bind_new_guest_dir 0 '^host-file$' -r "$bb" -b "$work/hostsrc:/new/place" -- \
		/bin/cat /new/place/in
	expect_kbox cli/bind_long 0 '^host-file$' -r "$bb" --bind "$work/hostsrc:/mnt" -- /bin/cat /mnt/in
	expect_kbox cli/bind_ro_read 0 '^ro-file$' -r "$bb" -b "$work/hostro:/ro:ro" -- /bin/cat /ro/in
	expect_kbox cli/bind_ro_write_fails 1 '[Rr]ead-only' -r "$bb" -b "$work/hostro:/ro:ro" -- \
		/bin/sh -c 'echo x >/ro/in'
	expect_kbox cli/bind_ro_unlink_fails 1 '' -r "$bb" -b "$work/hostro:/ro:ro" -- /bin/rm /ro/in

	expect_kbox cli/bind_ro_dotdot_stays 0 '^ro-file$' -r "$bb" -b "$work/hostro:/ro:ro" -- \
		/bin/sh -c 'cd /ro/../ro/../../ro && cat in && test ! -e ../hostsrc'
	expect_kbox cli/bind_missing_host 125 '.' -r "$bb" -b "$work/nope:/mnt" -- /bin/true
	expect_kbox cli/bind_bad_spec 125 '.' -r "$bb" -b "justonepath" -- /bin/true
	expect_kbox cli/uid_default 0 "^$uid $gid\$" -r "$bb" -- /bin/sh -c 'echo $(id -u) $(id -g)'
	expect_kbox cli/root_id 0 '^0 0$' -r "$bb" -0 -- /bin/sh -c 'echo $(id -u) $(id -g)'
	expect_kbox cli/root_id_long 0 '^0$' -r "$bb" --root-id -- /usr/bin/id -u
	expect_kbox cli/change_id 0 '^1234 5678$' -r "$bb" --change-id 1234:5678 -- \
		/bin/sh -c 'echo $(id -u) $(id -g)'
	expect_kbox cli/change_id_bad 125 '.' -r "$bb" --change-id abc -- /bin/true
	expect_kbox cli/args_preserved 0 '^\[a b\] \[\] \[c\] ?$' -r "$bb" -- \
		/bin/sh -c 'printf "[%s] " "$@"; echo' sh 'a b' '' c
	expect_kbox cli/stdin_passed 0 '^HELLO$' -r "$bb" -- /bin/sh -c 'echo hello | tr a-z A-Z'
	expect_kbox cli/env_passed 0 '^LANG=C$' -r "$bb" -- /bin/sh -c 'env | grep ^LANG='
	expect_kbox cli/system_root 0 '^0$' -S "$bb" -- /usr/bin/id -u
	expect_kbox cli/system_root_dev_null 0 '^ok$' -S "$bb" -- /bin/sh -c 'echo x >/dev/null && echo ok'
	expect_kbox cli/system_root_proc 0 '^ok$' -S "$bb" -- /bin/sh -c 'test -r /proc/self/status && echo ok'
	# Under -S the host's procfs is shown, but a host process's directory
	# (kbox's own, its parent's, init's) must not exist: its mem, environ,
	# root and fd/ would reach outside. The guest's own processes are there,
	# and their links name guest paths.
	expect_kbox cli/system_root_proc_host_hidden 0 '^hidden$' -S "$bb" -- /bin/sh -c \
		"test ! -e /proc/1/status && test ! -e /proc/$$/mem && \
		 ! cat /proc/\$PPID/environ 2>/dev/null >/dev/null && echo hidden"
	expect_kbox cli/system_root_dev_stdin_pipe 0 '^piped$' -S "$bb" -- /bin/sh -c \
		'echo piped | cat /dev/stdin'
	expect_kbox cli/system_root_proc_guest_links 0 '^/tmp /bin/busybox /$' -S "$bb" -- /bin/sh -c \
		'cd /tmp && echo $(readlink /proc/self/cwd) $(readlink /proc/$$/exe) $(readlink /proc/self/root)'
	# The guest's /proc shows its own mounts, credentials and mapped files:
	# no host path (the root, a bind's source, -S's private /tmp) anywhere.
	expect_kbox cli/system_root_proc_no_host_paths 0 '^clean$' -S "$bb" -b "$work/hostsrc:/mnt" -- \
		/bin/sh -c "cat /proc/self/mountinfo /proc/self/mounts /proc/mounts /proc/self/mountstats \
			/proc/self/maps /proc/self/smaps /proc/\$\$/mountinfo >/tmp/all &&
		grep -q ' /mnt ' /tmp/all && grep -q ' /bin/busybox\$' /tmp/all &&
		! grep -qF -e '$work' -e kbox-tmp -e '$KBOX_REPO' /tmp/all && echo clean"
	expect_kbox cli/system_root_status_ids 0 '^PPid: 0 Uid: 0 0 0 0 Gid: 0 0 0 0 $' -S "$bb" -- \
		/bin/sh -c 'grep -E "^(Uid|Gid|PPid):" /proc/$$/status | tr -s "\t" " " | tr "\n" " "'
	expect_kbox cli/root_id_proc_bind_status_ids 0 '^Uid: 0 0 0 0 Gid: 0 0 0 0 $' -0 -r "$bb" \
		-b /proc:/proc -- /bin/sh -c 'grep -E "^(Uid|Gid):" /proc/self/status | tr -s "\t" " " | tr "\n" " "'
	expect_kbox cli/change_id_proc_bind_status_ids 0 '^Uid: 1234 1234 1234 1234 Gid: 5678 5678 5678 5678 $' \
		--change-id 1234:5678 -r "$bb" -b /proc:/proc -- \
		/bin/sh -c 'grep -E "^(Uid|Gid):" /proc/self/status | tr -s "\t" " " | tr "\n" " "'
	expect_kbox cli/script_program 0 '^from script$' -r "$bb" -- /bin/sh -c \
		'printf "#!/bin/sh\necho from script\n" >/tmp/s && chmod +x /tmp/s && /tmp/s'
	if [ -z "${root_skip[debian]:-}" ]; then
		# Read-only through fds the guest already holds (fchmod, fchown, fsetxattr, futimens).
		expect_kbox cli/bind_ro_through_fds 0 '^EROFS EROFS EROFS EROFS$' -r "${roots[debian]}" \
			-b "$work/hostro:/ro:ro" -- /usr/bin/python3 -c '
import errno, os
fd = os.open("/ro/in", os.O_RDONLY)
def err(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print(err(lambda: os.fchmod(fd, 0o600)), err(lambda: os.fchown(fd, os.getuid(), os.getgid())),
      err(lambda: os.setxattr(fd, "user.x", b"1")), err(lambda: os.utime(fd)))'
		expect_kbox cli/debian_dynamic 0 '^[0-9]' -r "${roots[debian]}" -- /usr/bin/nproc
		expect_kbox cli/debian_python 0 '^3$' -r "${roots[debian]}" -- \
			/usr/bin/python3 -c 'import sys; print(sys.version_info[0])'
	else
		t_skip cli/bind_ro_through_fds "${root_skip[debian]}"
		t_skip cli/debian_dynamic "${root_skip[debian]}"
		t_skip cli/debian_python "${root_skip[debian]}"
	fi
}

# ---- image roots -----------------------------------------------------------

# expect_fsck NAME IMAGE: e2fsck -fn finds IMAGE clean.
expect_fsck() {
	selected "$1" || return 0
	if e2fsck -fn "$2" >"$work/fsck.out" 2>&1; then
		t_pass "$1"
	else
		t_fail "$1" "e2fsck -fn $2:" "@$work/fsck.out"
	fi
}

# kbox -r/-S on ext4 images of the busybox root: one as the user made it,
# one --root-owned (files belong to root in the image, as a distribution's).
run_image_cli() {
	local bb=${roots[busybox]} img=$work/cli.ext4 rimg=$work/cli-root.ext4
	selected 'image/*' || return 0
	need_kbox image/create || return 0
	kbox_run image create --from "$bb" "$img" >"$work/out" 2>&1 &&
		kbox_run image create --root-owned --from "$bb" "$rimg" >>"$work/out" 2>&1 ||
		{ t_fail image/create "kbox image create failed:" "@$work/out"; return 0; }
	expect_kbox image/runs 0 '^hello$' -r "$img" -- /bin/echo hello
	expect_kbox image/write 0 '^data$' -r "$img" -- \
		/bin/sh -c 'mkdir -p /opt/x && echo data >/opt/x/f && cat /opt/x/f'
	expect_kbox image/write_persists 0 '^data$' -r "$img" --read-only -- /bin/cat /opt/x/f
	expect_kbox image/read_only_write_fails 1 '[Rr]ead-only' -r "$img" --read-only -- \
		/bin/sh -c 'echo x >/opt/x/g'
	expect_kbox image/rename_unlink 0 '^g$' -r "$img" -- \
		/bin/sh -c 'cd /opt/x && mv f g && ln -s g l && rm l && ls'
	expect_kbox image/root_owned_denied 1 'Permission denied' -r "$rimg" -- /bin/touch /etc/x
	expect_kbox image/root_owned_root_id 0 '' -r "$rimg" -0 -- \
		/bin/sh -c 'echo d >/etc/x && chown 7:7 /etc/x && sync'
	expect_kbox image/chown_persists 0 '^7 7$' -r "$rimg" --read-only -- \
		/bin/sh -c 'ls -ln /etc/x | { read -r m n u g r; echo $u $g; }'
	expect_kbox image/system_root 0 '^x ok$' -S "$rimg" -- \
		/bin/sh -c 'echo x >/tmp/t && test -r /proc/self/status && echo $(cat /tmp/t) ok'
	# The guest's /dev/shm is its own: kbox's copies of image files, kept in
	# a directory of /dev/shm on the host, are out of its reach.
	expect_kbox image/shm_private 0 '^0 x$' -S "$rimg" -- /bin/sh -c \
		'cat /etc/passwd >/dev/null && n=$(ls -A /dev/shm | wc -l) &&
		 echo x >/dev/shm/f && echo $n $(cat /dev/shm/f)'
	image_killed_leaves_no_copies "$img"
	expect_kbox image/mount_own_dev 0 '^different$' -S "$rimg" -- \
		/bin/sh -c '[ "$(stat -c %d /)" != "$(stat -c %d /proc)" ] && echo different'
	expect_kbox image/not_an_image 125 'neither' -r "$work/plainfile" -- /bin/true
	# kbox's own failure after the image was opened leaves it clean.
	expect_kbox image/bad_bind_fails 125 'Not a directory' -r "$img" \
		-b "$work/plainfile:/p" -- /bin/true
	expect_kbox image/clean_after_bad_bind 0 '^ok$' -r "$img" -- /bin/echo ok
	expect_kbox image/bad_trace_file_fails 125 'trace file' -r "$img" \
		--trace=/nonexistent/dir/trace -- /bin/true
	expect_kbox image/clean_after_bad_trace 0 '^ok$' -r "$img" -- /bin/echo ok
	expect_fsck image/fsck_clean "$img"
	expect_fsck image/fsck_clean_root_owned "$rimg"
}

# kbox_shm_dirs: the run directories kbox keeps in /dev/shm (copies of image
# files, -S's private /dev/shm), one per line.
kbox_shm_dirs() {
	find /dev/shm -maxdepth 1 -name 'kbox-*' 2>/dev/null | sort
}

# image_killed_leaves_no_copies IMAGE: kbox killed while the guest holds
# copies of image files: its reaper removes their directory.
image_killed_leaves_no_copies() {
	local name=image/killed_leaves_no_copies before kpid AS_USER
	selected "$name" || return 0
	need_kbox "$name" || return 0
	before=$(kbox_shm_dirs)
	as_user_prefix
	# --read-only: a kill leaves an image opened read-write to e2fsck -p.
	"${AS_USER[@]}" "$KBOX" -S "$1" --read-only -- /bin/sh -c \
		'exec 3</bin/busybox; echo ready; exec sleep 1000' >"$work/out" 2>&1 </dev/null &
	kpid=$!
	for _ in $(seq 100); do grep -q '^ready$' "$work/out" && break; sleep 0.1; done
	if [ "$(kbox_shm_dirs)" = "$before" ]; then
		kill -KILL "$kpid" 2>/dev/null || true
		wait "$kpid" 2>/dev/null || true
		t_skip "$name" "no copies in /dev/shm here (memfds)"
		return 0
	fi
	kill -KILL "$kpid" 2>/dev/null || true
	wait "$kpid" 2>/dev/null || true
	for _ in $(seq 50); do [ "$(kbox_shm_dirs)" = "$before" ] && break; sleep 0.1; done
	if [ "$(kbox_shm_dirs)" = "$before" ]; then
		t_pass "$name"
	else
		t_fail "$name" "left in /dev/shm after kbox was killed:" \
			"$(comm -13 <(echo "$before") <(kbox_shm_dirs))"
	fi
}

# ---- packages --------------------------------------------------------------

# shellcheck source=packages.sh
source "$here/packages.sh"

# ---- procs -----------------------------------------------------------------

# alive PID...: prints those of the pids that still exist.
alive() {
	local p
	for p in "$@"; do
		case $(ps -o stat= -p "$p" 2>/dev/null || true) in
		'' | Z*) ;;
		*) echo "$p" ;;
		esac
	done
	return 0
}

# user_procs: the test user's live (not zombie) processes, sorted. Only as
# root, where the test user runs nothing but kbox and its guests; a normal
# user's session has processes of its own coming and going.
user_procs() {
	is_root || return 0
	{ ps -o pid=,stat= -u "$user" || true; } | awk '$2 !~ /^Z/ { print $1 }' | sort
}

# stray_check NAME PIDFILE: every pid listed (by the guest) is gone within
# 5 s, and the test user has no new live processes (compared with the
# baseline taken before the first test).
stray_check() {
	local name=$1 pidfile=$2 left
	if [ ! -s "$pidfile" ]; then
		t_fail "$name" "the guest did not record its children's pids in $pidfile"
		return
	fi
	for _ in $(seq 50); do
		# shellcheck disable=SC2046 # one pid per word
		left=$(alive $(cat "$pidfile"))
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		t_fail "$name" "guest processes still alive after kbox is gone:" \
			"$(ps -o pid,user,args -p "$(echo "$left" | paste -sd,)" 2>&1)"
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $left 2>/dev/null || true
		return
	fi
	left=$(comm -13 <(echo "$baseline") <(user_procs))
	if [ -n "$left" ]; then
		t_fail "$name" "new processes of $user are left:" \
			"$(ps -o pid,stat,args -p "$(echo "$left" | paste -sd,)" 2>&1)"
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $left 2>/dev/null || true
		return
	fi
	t_pass "$name"
}

# has_signal_scope: kbox runs the guest under Landlock's signal scope
# (ABI 6), as its --stats line says (cached).
signal_scope=
has_signal_scope() {
	local out
	if [ -z "$signal_scope" ]; then
		signal_scope=no
		# Read it all: grep -q could close the pipe on kbox mid-report (pipefail).
		out=$(kbox_run --stats -r "${roots[busybox]}" -- /bin/true 2>&1) || true
		[[ $out == *'signal scope'* ]] && signal_scope=yes
	fi
	[ "$signal_scope" = yes ]
}

# kbox_threads [PREFIX...]: the number of kbox's threads while its guest
# sleeps, with kbox started under PREFIX (e.g. taskset -c 0); 0 if the
# guest never got going.
kbox_threads() {
	local AS_USER kpid n=0 bb=${roots[busybox]}
	as_user_prefix
	rm -f "$bb/ready"
	"$@" "${AS_USER[@]}" "$KBOX" -S "$bb" -- /bin/sh -c 'echo >/ready; sleep 1000' \
		>"$work/out" 2>&1 </dev/null &
	kpid=$!
	for _ in $(seq 100); do [ -e "$bb/ready" ] && break; sleep 0.1; done
	[ -e "$bb/ready" ] && n=$(find "/proc/$kpid/task" -mindepth 1 -maxdepth 1 | wc -l)
	kill -TERM "$kpid" 2>/dev/null || true
	wait "$kpid" 2>/dev/null || true
	rm -f "$bb/ready"
	echo "$n"
}

run_procs() {
	local bb=${roots[busybox]} pidfile kpid rc
	# The guests run with -S (busybox sh opens /dev/null for background
	# jobs), whose /tmp is private: the pids go to /pids in the root.
	pidfile=$bb/pids
	touch "$pidfile"
	give_to_user "$pidfile"
	baseline=$(user_procs)

	# Daemons: the guest's first process exits at once, children keep
	# running: kbox must end them when it exits.
	if selected procs/daemons_gone_at_exit && need_kbox procs/daemons_gone_at_exit; then
		: >"$pidfile"
		rc=0
		KBOX_TIMEOUT=20 kbox_run -S "$bb" -- /bin/sh -c \
			'sleep 1000 & echo $! >>/pids; (sleep 1000 & echo $! >>/pids) ; setsid sleep 1000 & echo $! >>/pids; echo started' \
			>"$work/out" 2>&1 </dev/null || rc=$?
		if [ "$rc" -ne 0 ] || ! grep -q started "$work/out"; then
			t_fail procs/daemons_gone_at_exit "kbox exited $rc:" "@$work/out"
		else
			stray_check procs/daemons_gone_at_exit "$pidfile"
		fi
	fi

	# kbox itself killed with SIGKILL while its guests run.
	for sig in KILL TERM INT; do
		local name=procs/kbox_killed_by_sig$sig
		selected "$name" || continue
		need_kbox "$name" || continue
		: >"$pidfile"
		local AS_USER tmpd=$work/tmpdir-$sig shm_before
		shm_before=$(kbox_shm_dirs)
		as_user_prefix
		# kbox's private /tmp goes under a TMPDIR of this case's own, so
		# that what is left there after the kill can be seen.
		rm -rf "$tmpd" && mkdir -p "$tmpd"
		[ "$(id -u)" = 0 ] && chown "$(test_uid):$(test_gid)" "$tmpd"
		# A background job of a non-interactive shell starts with SIGINT
		# ignored: give kbox the default disposition, as a terminal would.
		"${AS_USER[@]}" env --default-signal=INT TMPDIR="$tmpd" "$KBOX" -S "$bb" -- /bin/sh -c \
			'sleep 1000 & echo $! >>/pids; sleep 1000 & echo $! >>/pids; echo $$ >>/pids; wait' \
			>"$work/out" 2>&1 </dev/null &
		kpid=$!
		for _ in $(seq 100); do
			[ "$( (wc -l <"$pidfile") 2>/dev/null || echo 0)" -ge 3 ] && break
			sleep 0.1
		done
		# The user prefix execs kbox: kpid is kbox.
		kill -"$sig" "$kpid" 2>/dev/null || true
		rc=0
		timeout 20 tail --pid="$kpid" -f /dev/null || rc=$?
		if [ "$rc" -ne 0 ]; then
			kill -KILL "$kpid" 2>/dev/null || true
			wait "$kpid" 2>/dev/null || true
			t_fail "$name" "kbox did not exit within 20 s of SIG$sig" "@$work/out"
			stray_check "$name.after_sigkill" "$pidfile"
			continue
		fi
		wait "$kpid" 2>/dev/null || true
		stray_check "$name" "$pidfile"
		# The reaper removes the private /tmp and /dev/shm once kbox is gone.
		for _ in $(seq 50); do
			[ -z "$(ls -A "$tmpd")" ] && [ "$(kbox_shm_dirs)" = "$shm_before" ] && break
			sleep 0.1
		done
		if [ -n "$(ls -A "$tmpd")" ]; then
			t_fail "$name.no_private_dirs_left" "left in TMPDIR after kbox was killed:" \
				"$(ls -la "$tmpd")"
		elif [ "$(kbox_shm_dirs)" != "$shm_before" ]; then
			t_fail "$name.no_private_dirs_left" "left in /dev/shm after kbox was killed:" \
				"$(comm -13 <(echo "$shm_before") <(kbox_shm_dirs))"
		else
			t_pass "$name.no_private_dirs_left"
		fi
	done

	# Listing /proc in the guest gives the guest's processes (the shell, a
	# child it started) and no host process: not kbox, not its reaper (the
	# guest shell's parent), not the shell that started kbox, not init. (A
	# glob, not ls: busybox ls stats each entry and drops those it cannot.)
	if selected procs/ls_proc_guest_only && need_kbox procs/ls_proc_guest_only; then
		local AS_USER ids
		as_user_prefix
		rm -f "$bb/lsproc" "$bb/ids"
		"${AS_USER[@]}" "$KBOX" -S "$bb" -- /bin/sh -c \
			'sleep 1000 & c=$!; for p in /proc/[0-9]*; do echo "${p#/proc/}"; done >/lsproc
			 echo "$$ $c $PPID" >/ids; kill $c' \
			>"$work/out" 2>&1 </dev/null &
		kpid=$!
		rc=0
		wait "$kpid" || rc=$?
		read -r -a ids <"$bb/ids" || true
		if [ "$rc" -ne 0 ] || [ "${#ids[@]}" -ne 3 ]; then
			t_fail procs/ls_proc_guest_only "kbox exited $rc:" "@$work/out"
		elif ! grep -qx "${ids[0]}" "$bb/lsproc" || ! grep -qx "${ids[1]}" "$bb/lsproc"; then
			t_fail procs/ls_proc_guest_only "the guest shell ${ids[0]} or its child ${ids[1]}" \
				"is not listed:" "@$bb/lsproc"
		elif grep -qx -e "$kpid" -e "${ids[2]}" -e "$$" -e 1 "$bb/lsproc"; then
			t_fail procs/ls_proc_guest_only "a host pid (kbox $kpid, reaper ${ids[2]}," \
				"runner $$, init) is listed:" "@$bb/lsproc"
		else
			t_pass procs/ls_proc_guest_only
		fi
	fi

	# On one CPU kbox keeps one receiver thread (KBOX_RECEIVERS is 3): the
	# others could not run beside it. Counted while the guest sleeps.
	if selected procs/one_cpu_one_receiver && need_kbox procs/one_cpu_one_receiver; then
		if [ "$(nproc)" -lt 2 ]; then
			t_skip procs/one_cpu_one_receiver "one CPU here: nothing to compare with"
		else
			local wide narrow
			wide=$(kbox_threads)
			narrow=$(kbox_threads taskset -c 0)
			if [ "$wide" -gt 2 ] && [ "$narrow" -eq $((wide - 2)) ]; then
				t_pass procs/one_cpu_one_receiver
			else
				t_fail procs/one_cpu_one_receiver "kbox had $narrow threads on one CPU and" \
					"$wide on all of them: expected two fewer" "@$work/out"
			fi
		fi
	fi

	# The guest's main process killed from outside kbox: 128+9.
	if selected procs/guest_killed_from_outside && need_kbox procs/guest_killed_from_outside; then
		: >"$pidfile"
		rc=0
		kbox_run -S "$bb" -- /bin/sh -c 'echo $$ >/pids; sleep 1000 & wait' \
			>"$work/out" 2>&1 </dev/null &
		kpid=$!
		for _ in $(seq 100); do [ -s "$pidfile" ] && break; sleep 0.1; done
		kill -KILL "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null || true
		wait "$kpid" || rc=$?
		if [ "$rc" -eq 137 ]; then
			t_pass procs/guest_killed_from_outside
		else
			t_fail procs/guest_killed_from_outside "kbox exited $rc, expected 137" "@$work/out"
		fi
	fi

	local mode
	for mode in scoped:'' supervisor:5 no_landlock:0; do
		signals_stay_inside "${mode%%:*}" "${mode#*:}"
		kill_zero_stays_inside "${mode%%:*}" "${mode#*:}"
	done
}

# Modes of the signal cases: "scoped" is Landlock's signal scope (ABI 6,
# skipped where the kernel lacks it); KBOX_LANDLOCK_ABI capped below 6 runs
# kbox's own SIGNAL handlers, as on Debian 12's stock kernel.
# mode_usable NAME ABI: false (and SKIP) when the mode cannot run here.
mode_usable() {
	if [ -z "$2" ] && ! has_signal_scope; then
		t_skip "$1" "this kernel's Landlock has no signal scope (ABI 6)"
		return 1
	fi
}

# signals_stay_inside MODE ABI: kill(-1), kill(0) and a kill of a host pid
# in the guest reach guest processes only; a process of the same user
# outside the guest survives.
signals_stay_inside() {
	local mode=$1 abi=$2 name=procs/signals_stay_inside_$1 canary rc
	selected "$name" && need_kbox "$name" && mode_usable "$name" "$abi" || return 0
	as_user_prefix
	"${AS_USER[@]}" sleep 300 </dev/null >/dev/null 2>&1 &
	canary=$!
	sleep 0.2
	rc=0
	timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" ${abi:+KBOX_LANDLOCK_ABI=$abi} "$KBOX" \
		-r "$bb" -- /bin/sh -c '
		kill -0 '"$canary"' 2>/dev/null && echo "host pid visible"
		sleep 100 & kill -KILL -1; wait; echo "kill -1 done"
		sleep 100 & kill -TERM 0; wait; echo "kill 0 done"' \
		>"$work/out" 2>&1 </dev/null || rc=$?
	# (alive, not kill -0: a killed child of this shell is a zombie until waited for)
	if [ -z "$(alive "$canary")" ]; then
		t_fail "$name" "a process outside the guest was killed (kbox exited $rc)" "@$work/out"
	elif [ "$(grep -c 'done$' "$work/out")" != 1 ] || grep -q 'visible' "$work/out"; then
		t_fail "$name" "expected kill -1 to spare the caller, kill 0 to end it, and no host pid; kbox exited $rc:" "@$work/out"
	elif [ "$rc" -ne 143 ]; then
		t_fail "$name" "kill 0 should end the guest shell with SIGTERM (143), kbox exited $rc" "@$work/out"
	else
		t_pass "$name"
	fi
	kill "$canary" 2>/dev/null || true
	wait "$canary" 2>/dev/null || true
}

# kill_zero_stays_inside MODE ABI: kbox and its guest stay in the process
# group of the command that started kbox, and so does the canary (same
# user, started beside kbox, not its child). kill(0) in the guest ends the
# guest's own processes; the canary and kbox, which reports 128+SIGTERM,
# live on.
kill_zero_stays_inside() {
	local mode=$1 abi=$2 name=procs/kill_zero_stays_inside_$1 canary rc=0
	selected "$name" && need_kbox "$name" && mode_usable "$name" "$abi" || return 0
	: >"$work/canary.pid"
	give_to_user "$work/canary.pid"
	as_user_prefix
	timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" ${abi:+KBOX_LANDLOCK_ABI=$abi} /bin/sh -c \
		'(sleep 300 </dev/null >/dev/null 2>&1 & echo $! >"$1"); shift; exec "$@"' \
		sh "$work/canary.pid" "$KBOX" -r "$bb" -- /bin/sh -c \
		'sleep 100 & kill -TERM 0; echo not-reached' >"$work/out" 2>&1 \
		</dev/null || rc=$?
	canary=$(cat "$work/canary.pid")
	if [ -n "$canary" ] && [ -n "$(alive "$canary")" ] && [ "$rc" -eq 143 ] &&
		! grep -q not-reached "$work/out"; then
		t_pass "$name"
	else
		t_fail "$name" "kbox exited $rc (expected 143); the canary ${canary:-?}" \
			"$([ -n "$(alive "$canary")" ] && echo survived || echo 'was killed')" \
			"@$work/out"
	fi
	if [ -n "$canary" ]; then kill "$canary" 2>/dev/null || true; fi
}

# ---- tty -------------------------------------------------------------------

run_tty() {
	local name=tty/job_control bb=${roots[busybox]} dialog=$work/dialog rc
	selected "$name" || return 0
	# Prompts end in "# " or "$ " (busybox may append a cursor query).
	cat >"$dialog" <<'DIALOG'
expect [#$]\s
send sleep 30
sleep 0.5
ctrl C
expect [#$]\s
send echo "status=$?"
expect status=130
send sleep 31
sleep 0.5
ctrl Z
expect [Ss]topped
send jobs
expect sleep 31
send fg
expect sleep 31
sleep 0.5
ctrl C
send echo "after-fg=$?"
expect after-fg=130
send sleep 0.2 | cat && echo fg-pipe-ok
expect fg-pipe-ok
send exit
DIALOG
	if [ "$have_bwrap" -eq 1 ]; then
		local AS_USER
		as_user_prefix
		rc=0
		timeout 60 "${AS_USER[@]}" TERM=dumb python3 "$here/pty_dialog.py" "$dialog" -- \
			bwrap --unshare-user --unshare-pid --uid 0 --gid 0 --bind "$bb" / --proc /proc \
			--dev /dev /bin/sh -i >"$work/tty.native" 2>&1 || rc=$?
		if [ "$rc" -ne 0 ]; then
			t_skip "$name" "the dialog fails natively too (rc $rc): $(tail -n 1 "$work/tty.native")"
			return 0
		fi
	fi
	need_kbox "$name" || return 0
	rc=0
	local AS_USER
	as_user_prefix
	timeout 60 "${AS_USER[@]}" python3 "$here/pty_dialog.py" "$dialog" -- \
		"$KBOX" -S "$bb" -- /bin/sh -i >"$work/tty.kbox" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_pass "$name"
	else
		t_fail "$name" "dialog failed (rc $rc); terminal output:" "@$work/tty.kbox"
	fi
}

# shellcheck source=owner.sh
source "$here/owner.sh"
# shellcheck source=image_mem.sh
source "$here/image_mem.sh"

run_scripts
run_cli
run_image_cli
run_image_mem
run_owner
run_packages
run_procs
run_tty
t_summary integration || exit 1
