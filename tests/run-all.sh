#!/usr/bin/env bash
# The whole test suite, as `make check` runs it:
#   unit         meson test -C BUILD (Criterion, under ASan+UBSan)
#   guest        tests/guest/run.sh: guest programs, native vs kbox
#   guest-landlock5  the escape and signal cases with KBOX_LANDLOCK_ABI=5
#   guest-image  the guest programs again in an ext4 image of the test root
#   integration  tests/integration/run.sh: busybox and Debian userland, CLI
# Every suite runs even when an earlier one failed. The last line is the
# total of the guest and integration suites, "N passed, N failed, N skipped";
# the exit status is non-zero when any suite (unit tests included) failed.
#
# Usage: tests/run-all.sh [--build DIR] [--kbox PATH]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
kbox=
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(realpath "$2"); shift 2 ;;
	--kbox) kbox=$(realpath "$2"); shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--kbox PATH]" >&2; exit 2 ;;
	esac
done
export KBOX=${kbox:-${KBOX:-$build/kbox}}
log=$repo/build-tests/logs
mkdir -p "$log"
start=$SECONDS

failed_suites=()
passed=0 failed=0 skipped=0

echo "==== unit tests (meson test -C $build)"
if meson test -C "$build" --print-errorlogs >"$log/unit.log" 2>&1; then
	tail -n 8 "$log/unit.log"
	echo "unit: all passed"
else
	cat "$log/unit.log"
	echo "unit: FAILED (log: $log/unit.log)"
	failed_suites+=(unit)
fi

# run_suite NAME CMD...: run a suite, show its output, add its summary line.
run_suite() {
	local name=$1 rc=0 line p f s
	shift
	echo "==== $name ($((SECONDS - start)) s in)"
	"$@" 2>&1 | tee "$log/$name.log" || rc=$?
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log/$name.log" | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "$name: the suite stopped before its summary (status $rc)"
		failed_suites+=("$name")
		failed=$((failed + 1))
		return
	fi
	read -r p f s <<<"$(sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || failed_suites+=("$name")
}

# Each suite is bounded as a whole too (each kbox run already is).
run_suite guest timeout -k 10 1200 "$repo/tests/guest/run.sh" --kbox "$KBOX"
# The escape and signal cases again as on a kernel without Landlock's
# scopes (Debian 12's 6.1 has ABI 2): kbox's own handling must hold too.
run_suite guest-landlock5 env KBOX_ENV=KBOX_LANDLOCK_ABI=5 timeout -k 10 1200 \
	"$repo/tests/guest/run.sh" --kbox "$KBOX" --name guest-landlock5 \
	--out "$repo/build-tests/guest-landlock5" '*/escape_*' '*/proc_signal*' '*/file_unix_*'
# The same programs in an ext4 image of the root (e2fsck -fn after each).
run_suite guest-image timeout -k 10 1200 "$repo/tests/guest/run.sh" --kbox "$KBOX" \
	--name guest-image --image --out "$repo/build-tests/guest-image"
run_suite integration timeout -k 10 2400 "$repo/tests/integration/run.sh" --kbox "$KBOX"

echo "==== done in $((SECONDS - start)) s"
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed suites: ${failed_suites[*]} (logs in $log)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#failed_suites[@]} -eq 0 ]
