#!/bin/sh
# run-engine-bench.sh - run the engine benchmark (t/bench/bench) next to
# `openssl speed` on the same machine in the same run, and print one table
# with the engine's figures and their ratios to the raw SHA-256, signature
# and verification speeds.
#
# usage: t/bench/run-engine-bench.sh [-t SECONDS] [-r REPS] [--quick]
#                                    [--only body|sign|verify|large]
#
# Builds nothing: run `make` first. -t is the minimum time of one repetition
# (default 1.5; openssl speed gets it rounded up to whole seconds), -r the
# number of repetitions of which the best is kept (default 3), for openssl
# speed too. --quick is a smoke run (-t 0.1 -r 1, openssl speed 1 s once).
# Progress goes to stderr, the table and the "bench name=..." lines to stdout.
# Exit status: 0 when everything ran, 1 when something could not, 2 on usage.
set -eu

usage() {
	sed -n '7,8p' "$0" | sed 's/^# //' >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/../.." && pwd)}
bench=$top/t/bench/bench
openssl=${OPENSSL:-openssl}

t=1.5
reps=3
only=
quick=
while [ $# -gt 0 ]; do
	case $1 in
	-t) [ $# -ge 2 ] || usage; t=$2; shift 2 ;;
	-r) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
done
if [ -n "$quick" ]; then
	t=0.1
	reps=1
fi
case $only in
''|body|sign|verify|large) ;;
*) usage ;;
esac

if [ ! -x "$bench" ]; then
	echo "run-engine-bench: $bench is not built; run make first" >&2
	exit 1
fi
if ! command -v "$openssl" >/dev/null 2>&1; then
	echo "run-engine-bench: $openssl not found" >&2
	exit 1
fi

# openssl speed takes whole seconds, at least one.
secs=$(awk -v t="$t" 'BEGIN { s = int(t); if (s < t) s++; if (s < 1) s = 1; print s }')

wants() {
	[ -z "$only" ] || [ "$only" = "$1" ]
}

# Best of $reps runs of `openssl speed -mr ...`, kept as the +F lines of
# each run; the awk below keeps the highest figure per field.
speed_runs() {
	i=0
	while [ "$i" -lt "$reps" ]; do
		"$openssl" speed -mr -seconds "$secs" "$@" 2>/dev/null | grep '^+F'
		i=$((i + 1))
	done
}

echo "run-engine-bench: $(date -u '+%Y-%m-%dT%H:%M:%SZ') $(uname -m)," \
    "$(nproc 2>/dev/null || echo '?') CPUs," \
    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo "run-engine-bench: $("$openssl" version), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "run-engine-bench: bench -t $t -r $reps; openssl speed -seconds $secs, best of $reps"

refs=
if wants body; then
	echo "run-engine-bench: openssl speed -evp sha256 -bytes 16384" >&2
	# +F:<n>:sha256:<bytes per second>
	sha=$(speed_runs -evp sha256 -bytes 16384 |
	    awk -F: '$1 == "+F" && $3 == "sha256" && $4 > best { best = $4 }
		END { if (best > 0) printf "%.2f", best / 1e6 }')
	if [ -z "$sha" ]; then
		echo "run-engine-bench: cannot read openssl speed sha256 output" >&2
		exit 1
	fi
	refs="$refs --ref-sha256 $sha"
fi
if wants sign || wants verify; then
	echo "run-engine-bench: openssl speed rsa2048 ed25519" >&2
	# +F2:<n>:2048:<sign/s>:<verify/s> and +F6:<n>:253:Ed25519:<sign/s>:<verify/s>
	pk=$(speed_runs rsa2048 ed25519 |
	    awk -F: '
		$1 == "+F2" && $3 == 2048 {
			if ($4 > rs) rs = $4; if ($5 > rv) rv = $5 }
		$1 == "+F6" && $4 == "Ed25519" {
			if ($5 > es) es = $5; if ($6 > ev) ev = $6 }
		END {
			if (rs > 0 && rv > 0 && es > 0 && ev > 0)
				printf "--ref-rsa-sign %.1f --ref-rsa-verify %.1f " \
				    "--ref-ed25519-sign %.1f --ref-ed25519-verify %.1f",
				    rs, rv, es, ev
		}')
	if [ -z "$pk" ]; then
		echo "run-engine-bench: cannot read openssl speed rsa2048/ed25519 output" >&2
		exit 1
	fi
	refs="$refs $pk"
fi

set -- -t "$t" -r "$reps"
[ -z "$only" ] || set -- "$@" --only "$only"
echo "run-engine-bench: $bench $* $refs"
echo
# $refs is word-split on purpose: it is a list of options and numbers.
rc=0
# shellcheck disable=SC2086
"$bench" "$@" $refs || rc=$?
# Figures from a loaded machine are low: say what the load was by the end.
echo
echo "run-engine-bench: load at the end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
exit "$rc"
