# shellcheck shell=bash
# Shared helpers for the guest and integration suites. Source it; it sets
# nothing up by itself.
#
# Results: t_pass/t_fail/t_skip print one line per test ("PASS name",
# "FAIL name" and the evidence indented, "SKIP name: reason") and count;
# t_summary prints "SUITE: N passed, N failed, N skipped" and returns
# non-zero when something failed.
#
# Rootlessness: kbox always runs as an unprivileged user. When the suite
# runs as root that is KBOX_TEST_USER (default kboxtest, created when
# missing); otherwise it is the caller. as_user runs a command as that user
# with a fixed, minimal environment.

# A suite that stops on an unexpected error says where, instead of vanishing.
set -E
trap 'echo "${0##*/}: internal error: line $LINENO: \"$BASH_COMMAND\" failed (status $?)" >&2' ERR

KBOX_REPO=${KBOX_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KBOX=${KBOX:-$KBOX_REPO/build/kbox}
KBOX_TIMEOUT=${KBOX_TIMEOUT:-60}
KBOX_TEST_USER=${KBOX_TEST_USER:-kboxtest}
KBOX_TMP=${KBOX_TMP:-$KBOX_REPO/.cache/tmp}

T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_FAILED_NAMES=()

t_pass() { T_PASSED=$((T_PASSED + 1)); echo "PASS $1"; }
t_skip() { T_SKIPPED=$((T_SKIPPED + 1)); echo "SKIP $1: $2"; }

# t_fail NAME [DETAIL...]: DETAIL lines (or files given as @FILE) are shown
# indented, at most 40 lines each.
t_fail() {
	local name=$1 d
	shift
	T_FAILED=$((T_FAILED + 1))
	T_FAILED_NAMES+=("$name")
	echo "FAIL $name"
	for d in "$@"; do
		if [ "${d#@}" != "$d" ]; then
			head -n 40 "${d#@}" | sed 's/^/    /'
		else
			printf '%s\n' "$d" | head -n 40 | sed 's/^/    /'
		fi
	done
}

t_summary() {
	local suite=$1
	if [ ${#T_FAILED_NAMES[@]} -gt 0 ]; then
		echo "$suite failures: ${T_FAILED_NAMES[*]}"
	fi
	echo "$suite: $T_PASSED passed, $T_FAILED failed, $T_SKIPPED skipped"
	[ "$T_FAILED" -eq 0 ]
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# The user kbox runs as, created when running as root.
test_user() {
	if is_root; then
		if ! getent passwd "$KBOX_TEST_USER" >/dev/null; then
			useradd --system --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --user-group "$KBOX_TEST_USER" >&2
		fi
		echo "$KBOX_TEST_USER"
	else
		id -un
	fi
}

test_uid() { id -u "$(test_user)"; }
test_gid() { id -g "$(test_user)"; }

# The environment every guest and native run starts with.
T_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
	LANG=C LC_ALL=C TERM=dumb)

# The command prefix that runs a program as the test user with T_ENV only.
as_user_prefix() {
	if is_root; then
		AS_USER=(setpriv --reuid="$KBOX_TEST_USER" --regid="$KBOX_TEST_USER" --clear-groups
			--reset-env -- env -i "${T_ENV[@]}")
	else
		AS_USER=(env -i "${T_ENV[@]}")
	fi
}

# as_user CMD...: run CMD as the test user with T_ENV only.
as_user() {
	local AS_USER
	as_user_prefix
	"${AS_USER[@]}" "$@"
}

# ensure_reachable: as root, make sure the test user can reach the repo
# (kbox, the roots and the work dirs live under it): every directory above
# it needs search permission for others. Missing bits are added (o+x only,
# and said); a clone under a private home (/root) would otherwise make
# every kbox run fail with EACCES.
ensure_reachable() {
	is_root || return 0
	local d=$KBOX_REPO
	while [ "$d" != / ]; do
		if [ "$(($(stat -c '0%a' "$d") & 1))" -eq 0 ]; then
			echo "tests: chmod o+x $d (so that $KBOX_TEST_USER can reach the repo)" >&2
			chmod o+x "$d"
		fi
		d=$(dirname "$d")
	done
}

# give_to_user PATH...: hand files to the test user (when running as root).
give_to_user() {
	if is_root; then
		chown -R "$KBOX_TEST_USER:$KBOX_TEST_USER" "$@"
	fi
}

# kbox_run ARGS...: build/kbox ARGS as the test user, bounded in time
# (timeout signals its whole process group, kbox included). Returns kbox's
# exit status (124 after a timeout). KBOX_ENV holds NAME=VALUE words added
# to kbox's environment (e.g. KBOX_LANDLOCK_ABI=5).
kbox_run() {
	local AS_USER
	as_user_prefix
	# shellcheck disable=SC2086 # KBOX_ENV is a list of words
	timeout -k 5 "$KBOX_TIMEOUT" "${AS_USER[@]}" ${KBOX_ENV:-} "$KBOX" "$@"
}

# kbox_usable: true when build/kbox exists and starts at all.
kbox_usable() {
	[ -x "$KBOX" ] && timeout 20 "$KBOX" --version >/dev/null 2>&1
}

# The user-visible path of a (possibly new) temporary work dir that the
# test user can reach: mktmp NAME -> prints the path.
mktmp() {
	mkdir -p "$KBOX_TMP"
	chmod 0755 "$KBOX_TMP"
	local d
	d=$(mktemp -d "$KBOX_TMP/$1.XXXXXX")
	chmod 0755 "$d"
	echo "$d"
}

# user_can_reach PATH: the test user can traverse every directory to PATH.
user_can_reach() {
	as_user test -x "$1"
}

# ensure_root NAME: print the path of the cached root NAME (busybox or
# debian), building it when missing or when its build script changed.
# Returns 77 (with the reason on stderr) when it cannot be built here.
ensure_root() {
	"$KBOX_REPO/scripts/ensure-root.sh" "$1"
}
