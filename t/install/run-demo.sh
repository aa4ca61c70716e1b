#!/usr/bin/env bash
# run-demo.sh - the README's quick-start demo must keep working: run it
# against this build and check it ends with an aligned pass and leaves no
# process behind.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_builddir
out=$(bash "$top_srcdir/demo/run" 2>&1)
rc=$?
fail=0
if [ $rc = 0 ] && grep -q '^demo: OK' <<<"$out" && grep -q 'dkim=pass (rsa 2048-bit key; DNSSEC secure)' <<<"$out"; then
	echo "ok - demo signs and verifies: dkim=pass, DNSSEC secure, aligned-pass"
else
	echo "not ok - demo (exit $rc):"
	echo "$out"
	fail=1
fi
sleep 0.5
if pgrep -f 'dkimgate-demo\.' >/dev/null; then
	echo "not ok - demo left processes behind: $(pgrep -fa 'dkimgate-demo\.')"
	fail=1
else
	echo "ok - demo stopped every process it started"
fi
exit $fail
