# shellcheck shell=bash
# Fake ownership (-0, --change-id), sourced by run.sh: what a fake root sets
# (owner, group, modes the user cannot really set, setuid bits, device
# nodes, fifos, symlinks, file capabilities) is shown back by stat in a
# later kbox run, never reaches the host file, and follows Linux's rules
# for the emulated identity. Each case runs kbox on a fresh copy of the
# busybox root (or under /it of the Debian root) and compares the guest's
# output with what Linux prints for a real root.
# shellcheck disable=SC2016 # guest commands are expanded by the guest shell

# own_expect NAME EXPECTED KBOX_ARGS...: the guest's stdout+stderr is EXPECTED.
own_expect() {
	local name=$1 want=$2 rc=0
	shift 2
	kbox_run "$@" >"$work/own.out" 2>&1 </dev/null || rc=$?
	if [ "$(cat "$work/own.out")" = "$want" ]; then
		t_pass "$name"
	else
		t_fail "$name" "kbox $* (status $rc) printed:" "@$work/own.out" "expected:" "$want"
	fi
}

# own_host NAME EXPECTED CMD...: a check of the host file (as root or the user).
own_host() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1) || true
	if [ "$got" = "$want" ]; then
		t_pass "$name"
	else
		t_fail "$name" "host: $* printed:" "$got" "expected:" "$want"
	fi
}

run_owner_busybox() {
	local bb=$work/own-root uid gid
	uid=$(test_uid)
	gid=$(test_gid)
	rm -rf "$bb" "$work/.own-root.kbox-meta"
	cp -a "${roots[busybox]}" "$bb"
	give_to_user "$bb"
	local R=(-r "$bb" -0 --)
	# Locked by the user before kbox ran: a fake root still writes it.
	echo locked >"$bb/etc/locked" && chmod 0444 "$bb/etc/locked"
	give_to_user "$bb/etc/locked"

	own_expect owner/default_is_root "0:0 0:0" "${R[@]}" /bin/sh -c \
		'stat -c %u:%g /bin/busybox | tr "\n" " "; touch /tmp/new; stat -c %u:%g /tmp/new'
	own_expect owner/change_id_default "0:0 1000:1000" -r "$bb" --change-id 1000:1000 -- \
		/bin/sh -c 'stat -c %u:%g /bin/busybox | tr "\n" " "; touch /tmp/new1000; stat -c %u:%g /tmp/new1000'

	# Run 1 sets, run 2 (a new kbox) shows.
	own_expect owner/set "ok" "${R[@]}" /bin/sh -c '
		cd /tmp && echo data >f && chown 123:45 f && echo data >g && chmod 000 g &&
		echo x >s && chmod 4755 s && echo y >s2 && chmod 6755 s2 && chown 1:1 s2 &&
		mknod null c 1 3 && mknod disk b 8 0 && mkfifo p && chown 3:4 p &&
		ln -s target l && chown -h 7:8 l && mkdir d && chmod 0555 d && touch d/in &&
		echo ok'
	own_expect owner/chown_persists "123:45" "${R[@]}" /bin/stat -c %u:%g /tmp/f
	own_expect owner/root_writes_locked_file $'444\nlocked\nmore' "${R[@]}" /bin/sh -c \
		'echo more >>/etc/locked && stat -c %a /etc/locked && cat /etc/locked'
	own_expect owner/chmod_to_same_locked_mode "444" "${R[@]}" /bin/sh -c \
		'chmod 0444 /etc/locked && stat -c %a /etc/locked'
	own_expect owner/chmod_000_shown_and_usable $'0\ndata' "${R[@]}" /bin/sh -c \
		'stat -c %a /tmp/g; cat /tmp/g'
	own_expect owner/setuid_shown "4755" "${R[@]}" /bin/stat -c %a /tmp/s
	own_expect owner/chown_clears_setuid "755 1:1" "${R[@]}" /bin/stat -c '%a %u:%g' /tmp/s2
	own_expect owner/device_node "character special file 1,3" "${R[@]}" /bin/sh -c \
		'stat -c "%F %t,%T" /tmp/null'
	own_expect owner/device_node_is_null "0" "${R[@]}" /bin/sh -c \
		'echo lost >/tmp/null; wc -c </tmp/null'
	own_expect owner/block_device_no_driver "block special file 8,0 cat: can't open '/tmp/disk': No such device or address" \
		"${R[@]}" /bin/sh -c 'stat -c "%F %t,%T" /tmp/disk | tr "\n" " "; cat /tmp/disk'
	own_expect owner/fifo_owner "fifo 3:4" "${R[@]}" /bin/stat -c '%F %u:%g' /tmp/p
	own_expect owner/symlink_owner "7:8 target" "${R[@]}" /bin/sh -c \
		'stat -c %u:%g /tmp/l | tr "\n" " "; readlink /tmp/l'
	own_expect owner/locked_dir_writable "555 ok" "${R[@]}" /bin/sh -c \
		'stat -c %a /tmp/d | tr "\n" " "; touch /tmp/d/more && echo ok'
	# A name created after the old one went must not inherit its record.
	own_expect owner/record_goes_with_file "0:0 0:0" "${R[@]}" /bin/sh -c '
		rm /tmp/l /tmp/p; ln -s other /tmp/l; stat -c %u:%g /tmp/l | tr "\n" " "
		mkfifo /tmp/p; stat -c %u:%g /tmp/p'

	# The host never sees what the guest was told.
	own_host owner/host_keeps_real_owner "$uid:$gid" stat -c %u:%g "$bb/tmp/f"
	own_host owner/host_no_setuid "755" stat -c %a "$bb/tmp/s"
	own_host owner/host_placeholder "regular empty file 600" stat -c '%F %a' "$bb/tmp/null"
	own_host owner/host_store_beside_root "yes" \
		sh -c "[ -s '$work/.own-root.kbox-meta' ] && echo yes"

	# Without -0 the guest is the real user again: no record applies.
	own_expect owner/not_without_root_id "$uid:$gid" -r "$bb" -- /bin/stat -c %u:%g /tmp/f

	# A non-root emulated identity gets Linux's EPERM and EACCES.
	local C=(-r "$bb" --change-id 1000:1000 --)
	own_expect owner/nonroot_chown_eperm "chown: /tmp/mine: Operation not permitted" \
		"${C[@]}" /bin/sh -c 'touch /tmp/mine; chown 0 /tmp/mine'
	own_expect owner/nonroot_mode_enforced $'/bin/sh: can\'t create /tmp/ro: Permission denied\na' \
		"${C[@]}" /bin/sh -c 'echo a >/tmp/ro; chmod 444 /tmp/ro; echo b >/tmp/ro; cat /tmp/ro'
	own_expect owner/nonroot_other_file "cat: can't open '/tmp/g': Permission denied" \
		"${C[@]}" /bin/cat /tmp/g
	own_expect owner/setup_dirs "ok" "${R[@]}" /bin/sh -c '
		mkdir /tmp/rootdir /tmp/sticky && chmod 1777 /tmp/sticky &&
		touch /tmp/sticky/theirs /tmp/rootdir/f && chown 2000 /tmp/sticky/theirs && echo ok'
	own_expect owner/nonroot_create_in_root_dir \
		$'mkdir: can\'t create directory \'/tmp/rootdir/x\': Permission denied\nrm: can\'t remove \'/tmp/rootdir/f\': Permission denied\nmv: can\'t rename \'/tmp/rootdir/f\': Permission denied' \
		"${C[@]}" /bin/sh -c 'mkdir /tmp/rootdir/x; rm -f /tmp/rootdir/f; mv /tmp/rootdir/f /tmp/moved'
	own_expect owner/nonroot_sticky_dir \
		$'rm: can\'t remove \'/tmp/sticky/theirs\': Operation not permitted\nmine gone' \
		"${C[@]}" /bin/sh -c 'rm -f /tmp/sticky/theirs; touch /tmp/sticky/mine && rm /tmp/sticky/mine && echo mine gone'
}

# Debian root: python3 for the calls busybox has no tool for.
run_owner_debian() {
	local deb=${roots[debian]}
	# The cached root's parent is not the test user's: the store goes to
	# XDG_STATE_HOME (what a user without a writable parent gets).
	local D=(-r "$deb" -0 -w /it/own --) KBOX_ENV="XDG_STATE_HOME=$work/state"
	mkdir -p "$work/state"
	give_to_user "$work/state"
	mkdir -p "$deb/it/own"
	give_to_user "$deb/it"

	own_expect owner/seteuid_creates_as_user "65534:65534 EACCES" "${D[@]}" python3 -c '
import os
os.mkdir("nobody"); os.chown("nobody", 65534, 65534)
os.setgroups([]); os.setegid(65534); os.seteuid(65534)
open("nobody/made", "w").close()
try: open("made", "w")
except PermissionError: denied = "EACCES"
else: denied = "created in a root dir"
os.seteuid(0); os.setegid(0)
st = os.stat("nobody/made"); print(f"{st.st_uid}:{st.st_gid}", denied)'
	own_expect owner/file_capability "set" "${D[@]}" python3 -c '
import os
open("cap", "w").close(); os.chown("cap", 5, 5)
os.setxattr("cap", "security.capability", b"\x01\x00\x00\x02"); print("set")'
	own_expect owner/file_capability_persists "b'\\x01\\x00\\x00\\x02' ['security.capability']" \
		"${D[@]}" python3 -c '
import os
print(os.getxattr("cap", "security.capability"), os.listxattr("cap"))'
	own_expect owner/record_hidden "ENODATA EPERM" "${D[@]}" python3 -c '
import errno, os
out = []
for f in (lambda: os.getxattr("cap", "user.kbox"),
          lambda: os.setxattr("cap", "user.kbox", b"x")):
    try: f(); out.append("read")
    except OSError as e: out.append(errno.errorcode[e.errno])
print(*out)'
	own_expect owner/find_type_c "/it/own/cdev" "${D[@]}" /bin/sh -c \
		'mknod cdev c 1 3 && mknod bdev b 7 0 && touch plain && find /it/own -type c'
	own_expect owner/find_type_b_later_run "/it/own/bdev" "${D[@]}" find /it/own -type b
	# A setuid program raises the emulated euid only (Linux's exec rule).
	own_expect owner/setuid_setup "ok" "${D[@]}" /bin/sh -c \
		'cp /usr/bin/python3 suidpy && chown 0:0 suidpy && chmod 4755 suidpy && echo ok'
	own_expect owner/setuid_exec_raises_euid "1000 0 0" \
		-r "$deb" --change-id 1000:1000 -w /it/own -- ./suidpy -c \
		'import os; r, e, s = os.getresuid(); print(r, e, s)'
	own_expect owner/plain_exec_keeps_ids "1000 1000 1000" \
		-r "$deb" --change-id 1000:1000 -w /it/own -- python3 -c \
		'import os; r, e, s = os.getresuid(); print(r, e, s)'
	own_expect owner/fstat_of_fd "5:5" "${D[@]}" python3 -c '
import os
fd = os.open("cap", os.O_RDONLY); st = os.fstat(fd); print(f"{st.st_uid}:{st.st_gid}")'
}

run_owner() {
	selected 'owner/*' || return 0
	need_kbox owner || return 0
	run_owner_busybox
	if [ -n "${root_skip[debian]:-}" ]; then
		t_skip owner/debian "${root_skip[debian]}"
	else
		run_owner_debian
	fi
}
