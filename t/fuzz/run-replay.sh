#!/usr/bin/env bash
# run-replay.sh - make check: every fuzz harness, built with the ordinary
# compiler as t/fuzz/replay_NAME, runs over its seed corpus
# (t/fuzz/corpus/NAME) and over the reproducer of every bug fuzzing found
# (t/fuzz/regress/NAME). A reproducer that crashes or breaks a harness
# property again fails the test, naming the file.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
names=${FUZZ_NAMES:-"sig keyrec from dmarc authres conf verify sign milter"}
# In a sanitizer build: libconfig's own leak on parse errors (see lsan.supp).
export LSAN_OPTIONS="suppressions=$top_srcdir/t/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fail=0
n=0
for h in $names; do
	n=$((n + 1))
	bin=$top_builddir/t/fuzz/replay_$h
	dirs=()
	for d in "$top_srcdir/t/fuzz/corpus/$h" "$top_srcdir/t/fuzz/regress/$h"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $h: $bin not built"
		fail=1
		continue
	fi
	if [ ${#dirs[@]} = 0 ]; then
		echo "not ok $n - $h: no corpus under $top_srcdir/t/fuzz"
		fail=1
		continue
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/replay.XXXXXX")
	if "$bin" "${dirs[@]}" > "$log" 2>&1; then
		echo "ok $n - $h: $(tail -n 1 "$log" | sed 's/.*: //')"
	else
		echo "not ok $n - $h: an input fails; the last ones run:"
		grep '^replay: ' "$log" | tail -n 3
		grep -v '^replay: ' "$log" | tail -n 40
		fail=1
	fi
	rm -f "$log"
done
echo "1..$n"
exit $fail
