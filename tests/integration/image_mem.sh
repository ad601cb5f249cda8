# shellcheck shell=bash
# Memory stays bounded with image files (sourced by run.sh; cases
# image/mem/*):
#   large_file    a 300 MiB file is read (cat | sha256sum) by a kbox run in a
#                 memory cgroup limited to 96 MiB (cgroup v2 memory.max, else
#                 v1 memory.limit_in_bytes); without a cgroup, kbox's own
#                 memory (VmRSS and the memfds it holds) is measured while
#                 the guest still runs, and must stay under 96 MiB
#   spill_write   writes into a large file go through its spill file (seen in
#                 kbox's fds), reach the image at fsync and exit, and read
#                 back in a new run; e2fsck -fn clean
#   budget        with a budget of 16 copies and 1 MiB, 200 files written and
#                 read leave kbox holding at most ~16 copies and ~1 MiB; a
#                 file held open all along still sees a write made through
#                 another fd after the drops; every file reads back intact
# shellcheck disable=SC2016 # guest commands are expanded by the guest shell
# shellcheck disable=SC2154 # work and roots are run.sh's

MEM_LIMIT=$((96 << 20))

# mem_cgroup: make a memory cgroup limited to MEM_LIMIT; sets mem_cg (its
# directory) and mem_procs (the file to put a process in). False when the
# host has none we can use (or KBOX_TEST_NO_CGROUP is set, to test the fallback).
mem_cgroup() {
	mem_cg=
	is_root && [ -z "${KBOX_TEST_NO_CGROUP:-}" ] || return 1
	if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
		mem_cg=/sys/fs/cgroup/kbox-test-mem.$$
		mkdir -p "$mem_cg" 2>/dev/null || { mem_cg=; return 1; }
		echo "$MEM_LIMIT" >"$mem_cg/memory.max" 2>/dev/null || true
		echo 0 >"$mem_cg/memory.swap.max" 2>/dev/null || true # absent without swap
		if [ "$(cat "$mem_cg/memory.max" 2>/dev/null)" != "$MEM_LIMIT" ]; then
			rmdir "$mem_cg" 2>/dev/null
			mem_cg=
			return 1
		fi
	elif [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
		mem_cg=/sys/fs/cgroup/memory/kbox-test-mem.$$
		mkdir -p "$mem_cg" 2>/dev/null || { mem_cg=; return 1; }
		if ! echo "$MEM_LIMIT" >"$mem_cg/memory.limit_in_bytes" 2>/dev/null; then
			rmdir "$mem_cg" 2>/dev/null
			mem_cg=
			return 1
		fi
	else
		return 1
	fi
	mem_procs=$mem_cg/cgroup.procs
}

# mem_cgroup_remove: once the processes of a killed run are gone too (5 s at most).
mem_cgroup_remove() {
	local _
	for _ in $(seq 50); do
		rmdir "$mem_cg" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "image_mem: cannot remove cgroup $mem_cg" >&2
}

# kbox_pid_of PID: the kbox supervisor below PID (kbox_run run in the background): the
# nearest descendant named kbox.
kbox_pid_of() {
	local todo=("$1") p c
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = kbox ]; then
			echo "$p"
			return 0
		fi
		# shellcheck disable=SC2013 # the files hold pids separated by spaces
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			todo+=("$c")
		done
	done
}

# copies_of PID: "COUNT BYTES": image file copies (memfds, named copies on tmpfs, spill
# files) PID holds, and the memory the memory copies use.
copies_of() {
	local pid=$1 f l n=0 b=0
	for f in /proc/"$pid"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in
		/memfd:kbox-image:* | */kbox-image:*)
			n=$((n + 1))
			b=$((b + $(stat -L -c '%b * %B' "$f" 2>/dev/null || echo 0)))
			;;
		*/#*' (deleted)') n=$((n + 1)) ;;
		esac
	done
	echo "$n $b"
}

# wait_for FILE RX: until FILE has a line matching RX (10 s at most).
wait_for() {
	local _
	for _ in $(seq 100); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

mem_image() {
	local bb=${roots[busybox]}
	mem_root=$work/memroot
	mem_img=$work/mem.ext4
	rm -rf "$mem_root"
	mkdir -p "$mem_root"
	cp -a "$bb/." "$mem_root/"
	mkdir -p "$mem_root/big"
	head -c 300M /dev/urandom >"$mem_root/big/f300"
	head -c 40M /dev/urandom >"$mem_root/big/f40"
	give_to_user "$mem_root"
	kbox_run image create --from "$mem_root" "$mem_img" >"$work/out" 2>&1
}

mem_large_file() {
	local id=image/mem/large_file want got rc=0 pid kpid use
	selected "$id" || return 0
	want=$(sha256sum <"$mem_root/big/f300" | cut -d' ' -f1)
	if mem_cgroup; then
		# shellcheck disable=SC2030,SC2031
		(echo "$BASHPID" >"$mem_procs" && kbox_run -S "$mem_img" --read-only -- \
			/bin/sh -c 'cat /big/f300 | sha256sum') >"$work/mem.out" 2>&1 || rc=$?
		got=$(cut -d' ' -f1 "$work/mem.out" | head -n 1)
		mem_cgroup_remove
		if [ "$got" = "$want" ]; then
			t_pass "$id"
		else
			t_fail "$id" "kbox in a cgroup of $((MEM_LIMIT >> 20)) MiB: exit $rc," \
				"checksum '$got', want '$want'; output:" "@$work/mem.out"
		fi
		return 0
	fi
	# No cgroup: kbox's memory while the guest, done reading, still runs.
	kbox_run -S "$mem_img" --read-only -- \
		/bin/sh -c 'cat /big/f300 | sha256sum; sleep 3' >"$work/mem.out" 2>&1 &
	pid=$!
	wait_for "$work/mem.out" '^[0-9a-f]{64}' || true
	kpid=$(kbox_pid_of "$pid")
	read -r _ use <<<"$(copies_of "$kpid")"
	use=$((use + $(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$kpid/status" 2>/dev/null || echo 0)))
	wait "$pid" || rc=$?
	got=$(cut -d' ' -f1 "$work/mem.out" | head -n 1)
	if [ "$got" != "$want" ]; then
		t_fail "$id" "exit $rc, checksum '$got', want '$want'; output:" "@$work/mem.out"
	elif [ "$use" -ge "$MEM_LIMIT" ]; then
		t_fail "$id" "kbox holds $((use >> 20)) MiB (RSS and memfds) after reading a 300 MiB file"
	else
		t_pass "$id"
	fi
}

mem_spill_write() {
	local id=image/mem/spill_write pid kpid n rc=0 want got
	selected "$id" || return 0
	cp "$mem_root/big/f40" "$work/f40.want"
	printf 'hello-spill' | dd of="$work/f40.want" bs=1 seek=20000000 conv=notrunc status=none
	printf 'tail' | dd of="$work/f40.want" bs=1 seek=41943040 conv=notrunc status=none
	want=$(sha256sum <"$work/f40.want" | cut -d' ' -f1)
	# The spill threshold is set low so that it does not depend on this host's memory.
	KBOX_ENV="KBOX_IMAGE_SPILL=$((4 << 20))" kbox_run -S "$mem_img" -- /bin/sh -c '
		printf hello-spill | dd of=/big/f40 bs=1 seek=20000000 conv=notrunc,fsync 2>/dev/null
		printf tail | dd of=/big/f40 bs=1 seek=41943040 conv=notrunc 2>/dev/null
		echo written; sleep 2' >"$work/spill.out" 2>&1 &
	pid=$!
	wait_for "$work/spill.out" '^written$' || true
	kpid=$(kbox_pid_of "$pid")
	n=$(find "/proc/$kpid/fd" -lname '*/#* (deleted)' 2>/dev/null | wc -l)
	wait "$pid" || rc=$?
	got=$(kbox_run -S "$mem_img" --read-only -- /bin/sh -c 'sha256sum /big/f40' 2>&1 |
		cut -d' ' -f1)
	if [ "$rc" -ne 0 ] || [ "$n" -lt 1 ]; then
		t_fail "$id" "exit $rc; spill files held by kbox while writing: $n; output:" \
			"@$work/spill.out"
	elif [ "$got" != "$want" ]; then
		t_fail "$id" "after the run /big/f40 has checksum '$got', want '$want'"
	elif ! e2fsck -fn "$mem_img" >"$work/fsck.out" 2>&1; then
		t_fail "$id" "e2fsck -fn:" "@$work/fsck.out"
	else
		t_pass "$id"
	fi
}

mem_budget() {
	local id=image/mem/budget pid kpid n b rc=0
	selected "$id" || return 0
	KBOX_ENV="KBOX_IMAGE_BUDGET=$((1 << 20)),16" kbox_run -S "$mem_img" -- /bin/sh -c '
		mkdir -p /many && echo old >/many/keep && exec 3</many/keep
		i=0
		while [ $i -lt 200 ]; do
			echo "file $i" >/many/f$i && cat /many/f$i >/dev/null || echo "bad write $i"
			i=$((i + 1))
		done
		i=0
		while [ $i -lt 8 ]; do
			dd if=/big/f40 of=/many/b$i bs=512k count=1 skip=$i 2>/dev/null
			cat /many/b$i >/dev/null
			i=$((i + 1))
		done
		echo new >>/many/keep
		echo "fd3: $(cat <&3 | tr "\n" " ")"
		i=0
		while [ $i -lt 200 ]; do
			[ "$(cat /many/f$i)" = "file $i" ] || echo "bad read $i"
			i=$((i + 1))
		done
		echo checked; sleep 2' >"$work/budget.out" 2>&1 &
	pid=$!
	wait_for "$work/budget.out" '^checked$' || true
	kpid=$(kbox_pid_of "$pid")
	read -r n b <<<"$(copies_of "$kpid")"
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ] || grep -q bad "$work/budget.out" ||
		! grep -q '^fd3: old new $' "$work/budget.out"; then
		t_fail "$id" "exit $rc; output:" "@$work/budget.out"
	elif [ "$n" -gt 20 ] || [ "$b" -gt $((2 << 20)) ]; then
		t_fail "$id" "kbox holds $n copies, $b bytes of memfds (budget: 16, 1 MiB)"
	elif ! e2fsck -fn "$mem_img" >"$work/fsck.out" 2>&1; then
		t_fail "$id" "e2fsck -fn:" "@$work/fsck.out"
	else
		t_pass "$id"
	fi
}

run_image_mem() {
	local c any=0
	for c in large_file spill_write budget fsck_clean; do
		selected "image/mem/$c" && any=1
	done
	[ "$any" -eq 1 ] || return 0
	need_kbox image/mem/create || return 0
	mem_image || { t_fail image/mem/create "kbox image create failed:" "@$work/out"; return 0; }
	mem_large_file
	mem_spill_write
	mem_budget
	expect_fsck image/mem/fsck_clean "$mem_img"
	rm -rf "$mem_root" "$mem_img"
}
