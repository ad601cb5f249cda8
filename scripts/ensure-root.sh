#!/usr/bin/env bash
# Print the path of the cached test root NAME (busybox or debian) under
# .cache/roots/, building it with scripts/mkroot-NAME.sh when it is missing
# or when that script changed since (NAME.stamp holds the script's hash).
# When run as root the tree is handed to the unprivileged test user
# (kboxtest), who runs kbox on it.
#
# Usage: scripts/ensure-root.sh NAME
# Exit status: 0 and the path on stdout; 77 and the reason on stderr when
# the root cannot be built here (e.g. debootstrap without root or network).
set -euo pipefail

# shellcheck source=../tests/lib.sh
source "$(dirname "$0")/../tests/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 busybox|debian" >&2; exit 2; }
name=$1
script=$KBOX_REPO/scripts/mkroot-$name.sh
[ -x "$script" ] || { echo "ensure-root: no builder $script" >&2; exit 2; }
roots=${KBOX_ROOTS:-$KBOX_REPO/.cache/roots}
dir=$roots/$name
stamp=$roots/$name.stamp
mkdir -p "$roots"
chmod 0755 "$roots" "$(dirname "$roots")"

want=$(sha256sum <"$script" | cut -c1-64)
user=$(test_user)

exec 9>"$roots/.$name.lock"
flock 9

if [ -d "$dir" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	owner=$(stat -c %U "$dir")
	if [ "$owner" != "$user" ]; then
		if is_root; then
			give_to_user "$dir"
		elif [ "$name" = busybox ]; then
			rm -f "$stamp"
			exec 9>&-
			exec "$0" "$name"
		else
			echo "ensure-root: $dir belongs to $owner, not $user: remove it, or run as root" >&2
			exit 77
		fi
	fi
	echo "$dir"
	exit 0
fi

echo "ensure-root: building $name root in $dir (missing or $script changed)" >&2
rm -f "$stamp"
rc=0
"$script" "$dir" || rc=$?
if [ "$rc" -ne 0 ]; then
	[ "$rc" -eq 77 ] && exit 77
	echo "ensure-root: $script failed with status $rc" >&2
	exit 1
fi
give_to_user "$dir"
echo "$want" >"$stamp"
echo "$dir"
