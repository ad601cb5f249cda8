#!/usr/bin/env bash
# Build a Debian 12 (bookworm) minbase root with python3, gcc, libc6-dev and
# make into DIR, using debootstrap and the Debian mirror this machine's apt is
# already configured for (read at run time, never written into the tree).
#
# Usage: scripts/mkroot-debian.sh DIR
# Needs root (debootstrap creates device nodes and chowns files).
# Exit status: 0 built; 77 cannot build here (not root, no debootstrap, no
# mirror); anything else: the build failed.
set -euo pipefail

die() { echo "mkroot-debian: $*" >&2; exit 1; }
skip() { echo "mkroot-debian: cannot build: $*" >&2; exit 77; }

[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
suite=bookworm
packages=python3,gcc,libc6-dev,make

[ "$(id -u)" -eq 0 ] || skip "debootstrap needs root (run as root, e.g. in CI)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/deps.sh)"

# The first mirror apt uses for the main archive: one-line sources.list
# entries ("deb [opts] URI suite comp...") and deb822 stanzas ("URIs:" with
# "Suites:"). Security and update suites are skipped: debootstrap wants
# the archive that carries SUITE itself.
find_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$suite" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == s) { print $i; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# Stanzas are separated by blank lines; keep the URIs of a stanza
		# whose Suites list SUITE and that is not disabled.
		awk -v s="$suite" '
			function flush() {
				if (uris != "" && has && enabled) { split(uris, u, " "); print u[1]; exit }
				uris = ""; has = 0; enabled = 1; types = 1
			}
			BEGIN { enabled = 1 }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "uris:" { $1 = ""; uris = $0 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) has = 1 }
			tolower($1) == "enabled:" { if (tolower($2) == "no") enabled = 0 }
			tolower($1) == "types:" { t = 0; for (i = 2; i <= NF; i++) if ($i == "deb") t = 1; if (!t) enabled = 0 }
			END { flush() }' "$f"
	done
}

mirror=$(find_mirror | head -n 1 | tr -d ' ')
[ -n "$mirror" ] || skip "no apt source for '$suite' in /etc/apt/sources.list{,.d/*.sources}"

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
tmp="$dir.tmp"
rm -rf "$tmp"
echo "mkroot-debian: debootstrap --variant=minbase $suite from the apt mirror into $dir" >&2
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$tmp" "$mirror" \
	>"$tmp.log" 2>&1; then
	tail -n 30 "$tmp.log" >&2
	if grep -qiE 'resolve|connect|unreachable|Failed getting release file|couldn.t download' "$tmp.log"; then
		rm -rf "$tmp"
		skip "debootstrap could not reach the mirror (no network?); log: $tmp.log"
	fi
	die "debootstrap failed; log: $tmp.log"
fi

# Device nodes that would let whoever owns the tree reach host devices
# (the console, a pty master) go; the harmless ones stay so that guests
# run with -r can still use /dev/null and friends.
rm -rf "$tmp/dev/console" "$tmp/dev/ptmx" "$tmp/dev/pts" "$tmp/dev/shm"
mkdir -p "$tmp/dev/pts" "$tmp/dev/shm"
rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"* 2>/dev/null || true
mkdir -p "$tmp/tmp" && chmod 1777 "$tmp/tmp"
mv "$tmp.log" "$tmp/var/log/kbox-debootstrap.log" 2>/dev/null || true
mv "$tmp" "$dir"
echo "mkroot-debian: done: $dir" >&2
