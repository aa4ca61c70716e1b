#!/usr/bin/env bash
# run-fuzz.sh - run libFuzzer harnesses one after the other (make fuzz).
#
#	run-fuzz.sh NAME...
#
# Each t/fuzz/fuzz_NAME runs for FUZZ_SECONDS (default 10) starting from
# its seed corpus (t/fuzz/corpus/NAME) and its reproducers
# (t/fuzz/regress/NAME), with its dictionary when there is one. New inputs
# go to a scratch directory, removed at the end, or to FUZZ_CORPUS/NAME
# when FUZZ_CORPUS is set (to keep them for a longer run or to merge into
# the seeds). A crash, leak, sanitizer report or broken property stops the
# run with a failure; the input is saved under FUZZ_ARTIFACTS (default
# t/fuzz/artifacts in the build directory) and its path printed: fix the
# bug, then add the file under t/fuzz/regress/NAME so make check replays it.
# FUZZ_JOBS=N runs N processes per harness (libFuzzer -fork).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
seconds=${FUZZ_SECONDS:-10}
artifacts=${FUZZ_ARTIFACTS:-$top_builddir/t/fuzz/artifacts}
[ $# -gt 0 ] || set -- sig keyrec from dmarc authres conf verify sign milter
mkdir -p "$artifacts" || exit 1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
# libconfig leaks on some parse errors, inside the library (see lsan.supp).
export LSAN_OPTIONS="suppressions=$top_srcdir/t/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TMPDIR="$scratch"
fail=0
for h in "$@"; do
	bin=$top_builddir/t/fuzz/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "run-fuzz: $bin not built (./configure --enable-fuzz CC=clang; make fuzz)" >&2
		exit 1
	fi
	if [ -n "${FUZZ_CORPUS:-}" ]; then
		out=$FUZZ_CORPUS/$h
	else
		out=$scratch/corpus-$h
	fi
	mkdir -p "$out" || exit 1
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
		-print_final_stats=1 -artifact_prefix="$artifacts/$h-")
	[ -f "$top_srcdir/t/fuzz/dict/$h.dict" ] && args+=(-dict="$top_srcdir/t/fuzz/dict/$h.dict")
	[ -n "${FUZZ_JOBS:-}" ] && args+=(-fork="$FUZZ_JOBS")
	seeds=()
	for d in "$top_srcdir/t/fuzz/corpus/$h" "$top_srcdir/t/fuzz/regress/$h"; do
		[ -d "$d" ] && seeds+=("$d")
	done
	log=$artifacts/$h.log
	echo "=== fuzz_$h: ${seconds}s"
	if "$bin" "${args[@]}" "$out" "${seeds[@]}" > "$log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' "$log"
	else
		echo "run-fuzz: fuzz_$h FAILED; log $log" >&2
		grep -E -A40 '^==[0-9]+==|property broken|runtime error' "$log" | head -n 60 >&2
		grep -E 'Test unit written to' "$log" >&2
		fail=1
	fi
done
exit $fail
