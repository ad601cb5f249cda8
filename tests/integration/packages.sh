# shellcheck shell=bash
# Package managers under kbox: sourced by run.sh, which provides selected,
# need_kbox, roots, root_skip and work.
#
# Two packages are built here from tests/integration/pkg/ with
# `dpkg-deb --build --root-owner-group` (no root needed):
#   kbox-pkgtest   /usr/bin/kbox-pkgtest (+ a symlink to it), a setuid-root
#                  file (4755), a conffile, /var/lib/kbox-pkgtest/state; its
#                  postinst creates the system user kboxpkg (useradd --system), chowns
#                  /var/lib/kbox-pkgtest to it, makes a character device
#                  (1:3) there and writes a marker; every maintainer script
#                  logs to /var/lib/kbox-pkgtest-markers/log
#   kbox-pkgtest2  one data file, installed with apt-get from a local file
# and installed into a throw-away copy of the Debian root (never the cached
# one) under each MODE:
#   r   kbox -r ROOT -0   the tree as it is (no /proc, no /dev/pts)
#   S   kbox -S ROOT      /proc, /dev, a private /tmp, guest uid 0
#   ri, Si  the same on an ext4 image of the copy (kbox image create
#       --root-owned), which e2fsck -fn must find clean at the end
# Each step runs in its own kbox run and is checked in a later one, so
# what dpkg recorded (owners, modes, device nodes) must persist between
# runs. The .debs are copied into the root's /debs (-S hides the root's
# /tmp).
#
# Cases, packages/MODE/NAME, in this order; a case whose step failed makes
# the cases that need it SKIP, naming it:
#   setup             dpkg-deb builds both packages (on the host); the root is copied
#   dpkg_install      dpkg -i: exit 0, "Setting up"
#   dpkg_status       dpkg-query: "install ok installed 1.0"
#   dpkg_verify       dpkg -V prints nothing and exits 0
#   usr_owner         /usr files, the symlink, the directory and the conffile are 0:0
#                     root:root, modes as shipped
#   setuid_file       the setuid file is root:root 4755 (stat, ls -l, test -u)
#   stat_calls        the same owner and mode through stat, lstat, fstat of an fd and of an
#                     O_PATH fd, stat from a dir fd (python3; coreutils stat and ls use statx)
#   user_created      the postinst's kboxpkg is in /etc/passwd and /etc/group with a system uid
#   user_dir_owner    /var/lib/kbox-pkgtest and its file belong to kboxpkg:kboxpkg, 750
#   device_node       the postinst's node is a character device 1:3, root:kboxpkg, 640
#                     (stat, ls, test -c, and find -type c, which trusts getdents' d_type)
#   chown_clears_suid a setuid file the postinst chowns to kboxpkg is kboxpkg:root 755
#   maintainer_scripts  preinst/postinst ran once each, as uid 0; the marker is root:root 644
#   dpkg_reinstall    dpkg -i again (files replaced by rename): owners and modes unchanged
#   dpkg_remove       dpkg -r: files gone but the conffile, prerm/postrm ran,
#                     "deinstall ok config-files"
#   dpkg_purge        dpkg -P: package, conffile, user and group gone, postrm purge ran
#   userdel_host_uid  userdel of a user whose uid is the host uid kbox runs as: userdel
#                     refuses a user with processes (/proc/PID/status), and the guest's
#                     processes are uid 0 to the guest
#   apt_install       apt-get install -y ./pkg2.deb (apt drops to _apt and back)
#   apt_installed     kbox-pkgtest2 "install ok installed", its file root:root 644, marked manual
#   apt_partial_owner apt's chown of /var/cache/apt/archives/partial: _apt:root 700
#   apt_remove        apt-get remove -y kbox-pkgtest2
#   apt_update        apt-get update from the root's only source, the flat repository
#                     file:/debs (a Packages file written here)
#   apt_lists         /var/lib/apt/lists/partial is _apt:root 700, the Packages list is
#                     there, apt-cache policy shows the candidate
#   apt_install_repo  apt-get install -y kbox-pkgtest2, from that repository
# Every apt-get step must exit 0 with no W: or E: line.
#
# KBOX_PKG_NATIVE=1 (as root): runs MODE r with chroot as the real root
# instead of kbox, to check the expectations themselves.
# shellcheck disable=SC2016 # guest commands are expanded by the guest shell
# shellcheck disable=SC2154 # work, here, roots, kbox_ok: set by run.sh

PKG_CASES=(setup dpkg_install dpkg_status dpkg_verify usr_owner setuid_file stat_calls
	user_created user_dir_owner device_node chown_clears_suid maintainer_scripts dpkg_reinstall
	dpkg_remove dpkg_purge userdel_host_uid apt_install apt_installed apt_partial_owner apt_remove
	apt_update apt_lists apt_install_repo)

# Per mode: the case prefix, the root copy, kbox's options, the step that
# failed (a later case needing it is skipped).
pkg_id=
pkg_root=
pkg_flags=()
declare -A pkg_failed=()

pkg_pass() { selected "$pkg_id/$1" && t_pass "$pkg_id/$1"; return 0; }
pkg_skip() { selected "$pkg_id/$1" && t_skip "$pkg_id/$1" "$2"; return 0; }

# pkg_fail NAME DETAIL...: reported, and remembered for the cases after it.
pkg_fail() {
	local name=$1
	shift
	pkg_failed[$name]=1
	selected "$pkg_id/$name" && t_fail "$pkg_id/$name" "$@"
	return 0
}

# pkg_skip_rest STEP CASE...: STEP failed: every CASE is skipped.
pkg_skip_rest() {
	local step=$1 c
	shift
	for c in "$@"; do
		pkg_skip "$c" "needs $pkg_id/$step, which failed"
	done
}

# pkg_guest DIR CMD: /bin/sh -c CMD in the guest, from DIR, as the mode
# says; stdout to $work/pkg.out, stderr to $work/pkg.err. Returns CMD's
# status (kbox's own failures included).
pkg_guest() {
	local dir=$1 cmd=$2 rc=0
	if [ "${KBOX_PKG_NATIVE:-0}" = 1 ]; then
		timeout -k 5 "$KBOX_TIMEOUT" chroot "$pkg_root" /usr/bin/env -i "${T_ENV[@]}" \
			/bin/sh -c 'cd "$1" && exec /bin/sh -c "$2"' sh "$dir" "$cmd" \
			>"$work/pkg.out" 2>"$work/pkg.err" </dev/null || rc=$?
	else
		kbox_run "${pkg_flags[@]}" -w "$dir" -- /bin/sh -c "$cmd" >"$work/pkg.out" \
			2>"$work/pkg.err" </dev/null || rc=$?
	fi
	return "$rc"
}

# pkg_step NAME DIR CMD [REGEX]: a step that changes the root: CMD exits 0
# and its output (stdout+stderr) matches REGEX.
pkg_step() {
	local name=$1 dir=$2 cmd=$3 rx=${4:-} rc=0
	pkg_guest "$dir" "$cmd" || rc=$?
	cat "$work/pkg.err" >>"$work/pkg.out"
	if [ "$rc" -ne 0 ]; then
		pkg_fail "$name" "$cmd: exit $rc; output:" "@$work/pkg.out"
	elif [ -n "$rx" ] && ! grep -Eq -- "$rx" "$work/pkg.out"; then
		pkg_fail "$name" "$cmd: output does not match /$rx/:" "@$work/pkg.out"
	else
		pkg_pass "$name"
	fi
}

# pkg_expect NAME CMD EXPECTED: a check in a later run: CMD's stdout and
# exit status ("[exit N]" as the last line) are exactly EXPECTED.
pkg_expect() {
	local name=$1 cmd=$2 want=$3 rc=0
	pkg_guest / "$cmd" || rc=$?
	echo "[exit $rc]" >>"$work/pkg.out"
	if printf '%s\n' "$want" | diff -u --label expected --label got - "$work/pkg.out" \
		>"$work/pkg.diff"; then
		pkg_pass "$name"
	else
		pkg_fail "$name" "@$work/pkg.diff" "stderr:" "@$work/pkg.err"
	fi
}

# pkg_build_debs: both packages into $work/debs, built from copies (git
# keeps no setuid bit and no owner: the tree's modes are set here).
pkg_build_debs() {
	local src=$work/pkgsrc p out=$work/debs
	rm -rf "$src" "$out"
	mkdir -p "$src" "$out"
	cp -a "$here/pkg/kbox-pkgtest" "$here/pkg/kbox-pkgtest2" "$src/"
	find "$src" -type d -exec chmod 0755 {} +
	find "$src" -type f -exec chmod 0644 {} +
	chmod 0755 "$src"/kbox-pkgtest/DEBIAN/p* "$src/kbox-pkgtest/usr/bin/kbox-pkgtest"
	chmod 4755 "$src/kbox-pkgtest/usr/libexec/kbox-pkgtest/suid-helper"
	for p in kbox-pkgtest kbox-pkgtest2; do
		if ! dpkg-deb --build --root-owner-group "$src/$p" "$out/$p.deb" >"$work/pkg.out" 2>&1; then
			pkg_fail setup "dpkg-deb --build $p failed:" "@$work/pkg.out"
			return 1
		fi
	done
	mv "$out/kbox-pkgtest.deb" "$out/pkg.deb"
	mv "$out/kbox-pkgtest2.deb" "$out/pkg2.deb"
	# A flat repository of pkg2.deb, as dpkg-scanpackages would write it.
	{
		dpkg-deb --field "$out/pkg2.deb"
		echo "Filename: ./pkg2.deb"
		echo "Size: $(stat -c %s "$out/pkg2.deb")"
		echo "MD5sum: $(md5sum <"$out/pkg2.deb" | cut -d' ' -f1)"
		echo "SHA256: $(sha256sum <"$out/pkg2.deb" | cut -d' ' -f1)"
		echo
	} >"$out/Packages"
}

# pkg_copy_root MODE: a throw-away copy of the Debian root with the .debs
# in /debs, its only apt source, handed to the test user. The host user kbox runs as gets an
# entry (kboxhost) when the root has none for its uid: useradd --system
# would otherwise be free to pick that uid for kboxpkg, and a kbox that
# shows host owners unchanged would then pass the kboxpkg checks.
pkg_copy_root() {
	local uid gid
	pkg_root=$work/pkgroot.$1
	rm -rf "$pkg_root"
	if ! cp -a "${roots[debian]}" "$pkg_root" 2>"$work/pkg.err"; then
		# Without root the copy has no device nodes; nothing here needs them.
		if grep -v 'cannot create special file' "$work/pkg.err" | grep -q .; then
			pkg_fail setup "could not copy the Debian root:" "@$work/pkg.err"
			return 1
		fi
	fi
	mkdir -p "$pkg_root/debs"
	cp "$work/debs/pkg.deb" "$work/debs/pkg2.deb" "$work/debs/Packages" "$pkg_root/debs/"
	echo 'deb [trusted=yes] file:/debs ./' >"$pkg_root/etc/apt/sources.list"
	rm -f "$pkg_root"/etc/apt/sources.list.d/*.list "$pkg_root"/etc/apt/sources.list.d/*.sources
	uid=$(test_uid)
	gid=$(test_gid)
	if [ "$uid" -ne 0 ] && ! cut -d: -f3 "$pkg_root/etc/passwd" | grep -qx "$uid"; then
		echo "kboxhost:x:$uid:$gid:kbox host user:/nonexistent:/usr/sbin/nologin" \
			>>"$pkg_root/etc/passwd"
	fi
	if [ "$gid" -ne 0 ] && ! cut -d: -f3 "$pkg_root/etc/group" | grep -qx "$gid"; then
		echo "kboxhost:x:$gid:" >>"$pkg_root/etc/group"
	fi
	[ "${KBOX_PKG_NATIVE:-0}" = 1 ] || give_to_user "$pkg_root"
}

pkg_checks_installed() {
	pkg_expect dpkg_status "dpkg-query -W -f='\${Status} \${Version}\n' kbox-pkgtest" \
		"install ok installed 1.0
[exit 0]"
	pkg_expect dpkg_verify 'dpkg -V kbox-pkgtest' '[exit 0]'
	pkg_expect usr_owner \
		"stat -c '%n %u:%g %U:%G %a %F' /usr/bin/kbox-pkgtest /usr/bin/kbox-pkgtest-link \
			/usr/libexec/kbox-pkgtest /etc/kbox-pkgtest.conf &&
			readlink /usr/bin/kbox-pkgtest-link && kbox-pkgtest" \
		"/usr/bin/kbox-pkgtest 0:0 root:root 755 regular file
/usr/bin/kbox-pkgtest-link 0:0 root:root 777 symbolic link
/usr/libexec/kbox-pkgtest 0:0 root:root 755 directory
/etc/kbox-pkgtest.conf 0:0 root:root 644 regular file
kbox-pkgtest
kbox-pkgtest runs
[exit 0]"
	pkg_expect setuid_file \
		"f=/usr/libexec/kbox-pkgtest/suid-helper
		stat -c '%u:%g %U:%G %a %A %F' \$f && ls -l \$f | cut -d' ' -f1,3,4 &&
		test -u \$f && echo setuid-bit" \
		"0:0 root:root 4755 -rwsr-xr-x regular file
-rwsr-xr-x root root
setuid-bit
[exit 0]"
	# Each of these is its own syscall: newfstatat, newfstatat with
	# AT_SYMLINK_NOFOLLOW, fstat (AT_EMPTY_PATH) on a normal and an O_PATH
	# fd, and statx (coreutils stat above).
	pkg_expect stat_calls "python3 -c '
import os
p = \"/usr/libexec/kbox-pkgtest/suid-helper\"
fd = os.open(p, os.O_RDONLY)
pfd = os.open(p, os.O_PATH)
for name, st in ((\"stat\", os.stat(p)), (\"lstat\", os.lstat(p)), (\"fstat\", os.fstat(fd)),
                 (\"fstat_opath\", os.fstat(pfd)), (\"stat_dirfd\", os.stat(\"suid-helper\",
                  dir_fd=os.open(\"/usr/libexec/kbox-pkgtest\", os.O_RDONLY)))):
    print(name, st.st_uid, st.st_gid, oct(st.st_mode))
'" "stat 0 0 0o104755
lstat 0 0 0o104755
fstat 0 0 0o104755
fstat_opath 0 0 0o104755
stat_dirfd 0 0 0o104755
[exit 0]"
	pkg_expect user_created \
		"getent passwd kboxpkg | cut -d: -f1,2,6,7 && getent group kboxpkg | cut -d: -f1 &&
		id -gn kboxpkg && u=\$(id -u kboxpkg) && [ \$u -ge 100 ] && [ \$u -lt 1000 ] &&
		[ \$u -ne $(test_uid) ] && echo system-uid" \
		"kboxpkg:x:/var/lib/kbox-pkgtest:/usr/sbin/nologin
kboxpkg
kboxpkg
system-uid
[exit 0]"
	pkg_expect user_dir_owner \
		"stat -c '%n %U:%G %a %F' /var/lib/kbox-pkgtest /var/lib/kbox-pkgtest/state &&
		[ \$(stat -c %u /var/lib/kbox-pkgtest) = \$(id -u kboxpkg) ] && echo uid-matches" \
		"/var/lib/kbox-pkgtest kboxpkg:kboxpkg 750 directory
/var/lib/kbox-pkgtest/state kboxpkg:kboxpkg 644 regular file
uid-matches
[exit 0]"
	pkg_expect device_node \
		"stat -c '%n %U:%G %a %F %t:%T' /var/lib/kbox-pkgtest/null &&
		ls -l /var/lib/kbox-pkgtest/null | cut -c1 && test -c /var/lib/kbox-pkgtest/null &&
		echo test-c && find /var/lib/kbox-pkgtest -type c" \
		"/var/lib/kbox-pkgtest/null root:kboxpkg 640 character special file 1:3
c
test-c
/var/lib/kbox-pkgtest/null
[exit 0]"
	pkg_expect chown_clears_suid "stat -c '%U:%G %a' /var/lib/kbox-pkgtest/suid-cleared" \
		"kboxpkg:root 755
[exit 0]"
	pkg_expect maintainer_scripts \
		"cat /var/lib/kbox-pkgtest-markers/log && stat -c '%U:%G %a' /var/lib/kbox-pkgtest/marker &&
		cat /var/lib/kbox-pkgtest/marker" \
		"preinst install
postinst configure
root:root 644
configured
[exit 0]"
}

pkg_run_dpkg() {
	pkg_step dpkg_install / 'dpkg -i /debs/pkg.deb' '^Setting up kbox-pkgtest \(1\.0\)'
	if [ -n "${pkg_failed[dpkg_install]:-}" ]; then
		pkg_skip_rest dpkg_install dpkg_status dpkg_verify usr_owner setuid_file stat_calls \
			user_created user_dir_owner device_node chown_clears_suid maintainer_scripts \
			dpkg_reinstall dpkg_remove dpkg_purge
		return 0
	fi
	pkg_checks_installed

	# Reinstalling replaces every file by rename over the old one.
	pkg_guest / 'dpkg -i /debs/pkg.deb' || pkg_failed[reinstall_run]=1
	cat "$work/pkg.err" >>"$work/pkg.out"
	if [ -n "${pkg_failed[reinstall_run]:-}" ]; then
		pkg_fail dpkg_reinstall "dpkg -i (again) failed:" "@$work/pkg.out"
	else
		pkg_expect dpkg_reinstall \
			"stat -c '%n %U:%G %a %F' /usr/bin/kbox-pkgtest /usr/libexec/kbox-pkgtest/suid-helper \
				/var/lib/kbox-pkgtest /var/lib/kbox-pkgtest/state /var/lib/kbox-pkgtest/null &&
			sed -n '3,\$p' /var/lib/kbox-pkgtest-markers/log" \
			"/usr/bin/kbox-pkgtest root:root 755 regular file
/usr/libexec/kbox-pkgtest/suid-helper root:root 4755 regular file
/var/lib/kbox-pkgtest kboxpkg:kboxpkg 750 directory
/var/lib/kbox-pkgtest/state kboxpkg:kboxpkg 644 regular file
/var/lib/kbox-pkgtest/null root:kboxpkg 640 character special file
prerm upgrade
preinst upgrade
postrm upgrade
postinst configure
[exit 0]"
	fi

	pkg_guest / 'dpkg -r kbox-pkgtest' || pkg_failed[remove_run]=1
	cat "$work/pkg.err" >>"$work/pkg.out"
	if [ -n "${pkg_failed[remove_run]:-}" ]; then
		pkg_fail dpkg_remove "dpkg -r kbox-pkgtest failed:" "@$work/pkg.out"
		pkg_skip dpkg_purge "needs $pkg_id/dpkg_remove, which failed"
		return 0
	fi
	pkg_expect dpkg_remove \
		"dpkg-query -W -f='\${Status}\n' kbox-pkgtest
		for f in /usr/bin/kbox-pkgtest /usr/bin/kbox-pkgtest-link \
			/usr/libexec/kbox-pkgtest/suid-helper /var/lib/kbox-pkgtest/state \
			/var/lib/kbox-pkgtest/null; do
			if [ -e \$f ] || [ -L \$f ]; then echo \"left: \$f\"; fi
		done
		tail -n 2 /var/lib/kbox-pkgtest-markers/log && cat /etc/kbox-pkgtest.conf" \
		"deinstall ok config-files
prerm remove
postrm remove
# kbox-pkgtest configuration (a conffile)
[exit 0]"
	pkg_guest / 'dpkg -P kbox-pkgtest' || pkg_failed[purge_run]=1
	cat "$work/pkg.err" >>"$work/pkg.out"
	if [ -n "${pkg_failed[purge_run]:-}" ]; then
		pkg_fail dpkg_purge "dpkg -P kbox-pkgtest failed:" "@$work/pkg.out"
		return 0
	fi
	pkg_expect dpkg_purge \
		"dpkg-query -W kbox-pkgtest >/dev/null 2>&1 || echo not-installed
		getent passwd kboxpkg || echo no-user
		getent group kboxpkg || echo no-group
		test -e /etc/kbox-pkgtest.conf || echo no-conffile
		tail -n 1 /var/lib/kbox-pkgtest-markers/log" \
		"not-installed
no-user
no-group
no-conffile
postrm purge
[exit 0]"
}

# A system user created in the guest gets the host's uid whenever the
# root has no entry for it (kboxtest is uid 999 on a fresh CI machine, the
# first uid useradd --system hands out).
pkg_run_userdel() {
	pkg_expect userdel_host_uid \
		"useradd --system --non-unique --uid $(test_uid) --no-create-home kboxclash &&
		userdel kboxclash && echo deleted" \
		"deleted
[exit 0]"
}

# pkg_apt NAME DIR ARGS REGEX: the step apt-get ARGS (from DIR) exits 0,
# warns of nothing and its output matches REGEX. apt-get runs its methods
# as _apt (setgroups, setresgid, setresuid, then getresuid/getresgid to
# check) and switches its own euid to _apt and back to check that _apt can
# read what it fetches; had that failed, it would warn "Download is
# performed unsandboxed".
pkg_apt() {
	local name=$1 dir=$2 args=$3 rx=$4 allow rc=0
	pkg_guest "$dir" "DEBIAN_FRONTEND=noninteractive apt-get $args" || rc=$?
	cat "$work/pkg.err" >>"$work/pkg.out"
	# Without /dev/pts (kbox -r, as in a plain chroot) apt cannot log the
	# terminal and says so, and goes on.
	allow='^E: Can not write log \(Is /dev/pts mounted\?\) - posix_openpt'
	[ "${pkg_mode%i}" = r ] || allow='^$^'
	if [ "$rc" -ne 0 ]; then
		pkg_fail "$name" "apt-get $args: exit $rc; output:" "@$work/pkg.out"
	elif grep -E '^(W|E): ' "$work/pkg.out" | grep -Evq -- "$allow"; then
		pkg_fail "$name" "apt-get $args warned or failed:" "@$work/pkg.out"
	elif ! grep -Eq -- "$rx" "$work/pkg.out"; then
		pkg_fail "$name" "apt-get $args: output does not match /$rx/:" "@$work/pkg.out"
	else
		pkg_pass "$name"
	fi
}

pkg_run_apt() {
	pkg_apt apt_install /debs 'install -y ./pkg2.deb' '^Setting up kbox-pkgtest2 \(1\.0\)'
	if [ -n "${pkg_failed[apt_install]:-}" ]; then
		pkg_skip_rest apt_install apt_installed apt_partial_owner apt_remove
	else
		pkg_expect apt_installed \
			"dpkg-query -W -f='\${Status} \${Version}\n' kbox-pkgtest2 &&
			stat -c '%U:%G %a' /usr/share/kbox-pkgtest2/hello &&
			cat /usr/share/kbox-pkgtest2/hello && apt-mark showmanual kbox-pkgtest2" \
			"install ok installed 1.0
root:root 644
hello from kbox-pkgtest2
kbox-pkgtest2
[exit 0]"
		pkg_expect apt_partial_owner "stat -c '%U:%G %a' /var/cache/apt/archives/partial" \
			"_apt:root 700
[exit 0]"
		pkg_apt apt_remove / 'remove -y kbox-pkgtest2' '^Removing kbox-pkgtest2 \(1\.0\)'
	fi

	# The root's only source is the flat repository file:/debs.
	pkg_apt apt_update / update '^Reading package lists'
	if [ -n "${pkg_failed[apt_update]:-}" ]; then
		pkg_skip_rest apt_update apt_lists apt_install_repo
		return 0
	fi
	pkg_expect apt_lists \
		"stat -c '%U:%G %a' /var/lib/apt/lists/partial && ls /var/lib/apt/lists | grep -c Packages &&
		apt-cache policy kbox-pkgtest2 | grep Candidate:" \
		"_apt:root 700
1
  Candidate: 1.0
[exit 0]"
	if [ -n "${pkg_failed[apt_remove]:-}" ] || [ -n "${pkg_failed[apt_install]:-}" ]; then
		pkg_skip apt_install_repo "needs $pkg_id/apt_install and apt_remove, which failed"
		return 0
	fi
	pkg_apt apt_install_repo / 'install -y kbox-pkgtest2' \
		'^Setting up kbox-pkgtest2 \(1\.0\)'
}

# pkg_image MODE: for the image modes, the copy becomes an image beside it.
pkg_image() {
	[ "${1%i}" != "$1" ] || return 0
	rm -f "$pkg_root.ext4"
	if ! kbox_run image create --root-owned --from "$pkg_root" "$pkg_root.ext4" \
		>"$work/pkg.out" 2>&1; then
		pkg_fail setup "kbox image create failed:" "@$work/pkg.out"
		return 1
	fi
}

# pkg_fsck: after the image modes, e2fsck -fn finds the image clean.
pkg_fsck() {
	[ -f "$pkg_root.ext4" ] || return 0
	selected "$pkg_id/fsck_clean" || return 0
	if e2fsck -fn "$pkg_root.ext4" >"$work/pkg.out" 2>&1; then
		t_pass "$pkg_id/fsck_clean"
	else
		t_fail "$pkg_id/fsck_clean" "e2fsck -fn:" "@$work/pkg.out"
	fi
}

run_packages() {
	local pkg_mode c any why
	for pkg_mode in r S ri Si; do
		pkg_id=packages/$pkg_mode
		pkg_failed=()
		any=0
		for c in "${PKG_CASES[@]}"; do
			if selected "$pkg_id/$c"; then any=1; fi
		done
		[ "$any" -eq 1 ] || continue
		if [ "${KBOX_PKG_NATIVE:-0}" = 1 ] && { [ "$pkg_mode" != r ] || ! is_root; }; then
			continue
		fi
		if [ "${pkg_mode%i}" != "$pkg_mode" ] && ! command -v e2fsck >/dev/null; then
			continue
		fi
		why=${root_skip[debian]:-}
		command -v dpkg-deb >/dev/null || why=${why:-"dpkg-deb (package dpkg) is not installed"}
		if [ -n "$why" ]; then
			for c in "${PKG_CASES[@]}"; do
				pkg_skip "$c" "$why"
			done
			continue
		fi
		if [ "${KBOX_PKG_NATIVE:-0}" != 1 ] && [ "$kbox_ok" -eq 0 ]; then
			pkg_fail setup "$KBOX is missing or does not start"
			pkg_skip_rest setup "${PKG_CASES[@]:1}"
			continue
		fi
		case $pkg_mode in
		r) pkg_flags=(-r "$work/pkgroot.r" -0) ;;
		S) pkg_flags=(-S "$work/pkgroot.S") ;;
		ri) pkg_flags=(-r "$work/pkgroot.ri.ext4" -0) ;;
		Si) pkg_flags=(-S "$work/pkgroot.Si.ext4") ;;
		esac
		if pkg_build_debs && pkg_copy_root "$pkg_mode" && pkg_image "$pkg_mode"; then
			pkg_pass setup
		else
			pkg_skip_rest setup "${PKG_CASES[@]:1}"
			rm -rf "$pkg_root"
			continue
		fi
		pkg_run_dpkg
		pkg_run_userdel
		pkg_run_apt
		pkg_fsck
		rm -rf "$pkg_root" "$pkg_root.ext4"
	done
}
