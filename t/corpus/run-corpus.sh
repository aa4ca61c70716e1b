#!/bin/bash
# run-corpus.sh - conformance of "dkimctl verify" against the DKIM corpus.
#
# The corpus (README.md in it) holds the test messages of Mail::DKIM and
# dkimpy, the key records they need (records.tsv) and, per DKIM-Signature,
# the expected RFC 8601 result and the results the RFCs can defend
# (expected.tsv).  This test serves records.tsv with t/dns/testdns (names
# under blackhole.messiah.edu never answer, under blackhole2.messiah.edu
# SERVFAIL, everything else NXDOMAIN), verifies every message with
#   dkimctl verify --resolver 127.0.0.1@PORT --timeout 3
# and scores each row with t/corpus/corpus-check.pl: one "ok"/"not ok" line
# per row and a strict/lenient summary.
#
# Corpus location: $DKIM_CORPUS if set; else the copy in the source tree,
# t/data/dkim-corpus (so CI needs nothing outside the repository); else
# ../shared/dkim-corpus next to the source tree.
#
# Run by "make check" (top_srcdir and top_builddir come from
# AM_TESTS_ENVIRONMENT) or by hand from the source tree.
# Exit status: 0 all rows acceptable, 1 a miss or a broken setup, 77 skipped
# (a required tool is missing and CI is not "true").

set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
dkimctl=$top_builddir/dkimctl
testdns=$top_srcdir/t/dns/testdns
start=${EPOCHREALTIME:-}

# A missing component skips locally; in CI everything must be installed.
missing() {
	if [ "${CI:-}" = true ]; then
		echo "not ok - $* (CI=true: nothing may be skipped)"
		exit 1
	fi
	echo "# SKIP: $*"
	exit 77
}

if [ -n "${DKIM_CORPUS:-}" ]; then
	corpus=$DKIM_CORPUS
elif [ -f "$top_srcdir/t/data/dkim-corpus/expected.tsv" ]; then
	corpus=$top_srcdir/t/data/dkim-corpus
else
	corpus=$top_srcdir/../shared/dkim-corpus
fi
if [ ! -f "$corpus/expected.tsv" ] || [ ! -f "$corpus/records.tsv" ] ||
   [ ! -d "$corpus/messages" ]; then
	echo "not ok - no DKIM corpus at $corpus (set DKIM_CORPUS)"
	exit 1
fi
corpus=$(cd "$corpus" && pwd)
# The in-tree copy is a snapshot; say so when the shared original moved on.
shared=$top_srcdir/../shared/dkim-corpus
if [ -z "${DKIM_CORPUS:-}" ] && [ -d "$shared" ] &&
   [ "$corpus" != "$(cd "$shared" && pwd)" ] && ! diff -rq "$shared" "$corpus" >/dev/null; then
	echo "# note: $corpus differs from $shared; refresh the copy"
fi

[ -x "$dkimctl" ] || { echo "not ok - $dkimctl not built (run make)"; exit 1; }
for tool in perl unbound dig timeout; do
	command -v "$tool" >/dev/null 2>&1 || missing "$tool not installed"
done

state=$(mktemp -d "${TMPDIR:-/tmp}/dkimgate-corpus.XXXXXX") || exit 1
cleanup() {
	"$testdns" stop "$state/dns" >/dev/null 2>&1
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port=$("$testdns" start "$state/dns" --blackhole blackhole.messiah.edu \
	--servfail blackhole2.messiah.edu "$corpus/records.tsv") || {
	echo "not ok - t/dns/testdns did not start"
	exit 1
}

perl "$here/corpus-check.pl" --dkimctl "$dkimctl" --port "$port" --timeout 3 "$corpus"
rc=$?
[ -n "$start" ] && perl -e 'printf "# run-corpus.sh: %.1f s\n", $ARGV[1] - $ARGV[0]' "$start" "$EPOCHREALTIME"
exit $rc
