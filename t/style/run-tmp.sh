#!/usr/bin/env bash
# run-tmp.sh - tests must take their scratch space from mktemp, never from a
# fixed path under /tmp: a fixed name collides when two runs share a
# machine (several builds, CI jobs, or a sanitizer build next to a plain
# one), can be planted in advance by another user, and is left behind.
#
# Looks at every text file of the test suite (t/), the CI job (.ci/) and
# the demo (demo/), generated test logs and this file aside, for a path
# "/tmp/NAME" whose NAME is not a mktemp template (one with XXXXXX in it).
# "/tmp" alone, as a parent directory such as ${TMPDIR:-/tmp}, is fine.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top_srcdir" || exit 1

# fixed_tmp: read "file:line:text" lines, print those with a fixed /tmp path.
fixed_tmp() {
	awk '{
		line = $0
		rest = line
		while (match(rest, /\/tmp\/[^ \t"'"'"'`)}>;,]*/)) {
			path = substr(rest, RSTART, RLENGTH)
			if (path != "/tmp/" && path !~ /XXXXXX/) { print line; break }
			rest = substr(rest, RSTART + RLENGTH)
		}
	}'
}

dirs=()
for d in t .ci demo; do [ -d "$d" ] && dirs+=("$d"); done
[ ${#dirs[@]} -gt 0 ] || { echo "not ok - no test sources found under $top_srcdir"; exit 1; }
nfiles=$(grep -rIl --exclude='*.log' --exclude='*.trs' --exclude=run-tmp.sh '' "${dirs[@]}" | wc -l)
hits=$(grep -rIn --exclude='*.log' --exclude='*.trs' --exclude=run-tmp.sh '/tmp/' "${dirs[@]}" | fixed_tmp)
if [ -n "$hits" ]; then
	echo "not ok - fixed /tmp paths in tests (use mktemp):"
	echo "$hits"
	exit 1
fi
echo "ok - no fixed /tmp path in $nfiles test files"
# The check itself must be able to fail, and must not fire on templates.
probe=$(printf '%s\n' 'f:1:log=/tmp/dkimgate-test.log' 'f:2:d=$(mktemp -d /tmp/x.XXXXXX)' \
	'f:3:t=${TMPDIR:-/tmp}/y.XXXXXX' 'f:4:char p[] = "/tmp/fixed";' | fixed_tmp | cut -d: -f2 | tr '\n' ' ')
if [ "$probe" = "1 4 " ]; then
	echo "ok - the pattern catches fixed names and lets mktemp templates through"
else
	echo "not ok - the pattern is broken (flagged lines: '$probe', want '1 4 ')"
	exit 1
fi
exit 0
