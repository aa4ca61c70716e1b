#!/usr/bin/env bash
# run-metrics-bench.sh - what counting and serving metrics cost the daemon.
#
# usage: t/bench/run-metrics-bench.sh [--quick] [-r REPS] [-T SECS] [-C CONC]
#            [--scrape SECS] [--keep]
#
# Three dkimgate daemons of this tree, same keys, messages and unix-socket
# transport, driven in turn by t/milterclient in bench mode (runs
# interleaved, rotating who goes first; the median of REPS kept):
#   base  this tree with the bodies of the counting functions of
#         milter/core/metrics.c emptied (counting compiled out; the calls remain,
#         at the cost of a call to an empty function);
#   off   this build, metrics = "" (counting, no listener);
#   on    this build, metrics on 127.0.0.1, scraped every --scrape seconds
#         (default 1: thirty times Prometheus' usual rate) during the runs.
# Cases: sign rsa-sha256, sign ed25519-sha256 (the cheapest message, where
# counting weighs most), verify rsa-sha256; 2 KB messages, CONC (default 4)
# connections, 10 messages per connection. Reported per case: messages per
# second, daemon CPU ms per message (utime+stime from /proc), p99 latency,
# and the ratios off/base and on/base.
#
#   --quick   smoke run: 1 s runs, 1 repetition
#   -r REPS   repetitions (default 5; quick 1)
#   -T SECS   seconds per run (default 2; quick 1)
#   --keep    keep the work directory
#
# It builds the base variant itself (a copy of the tracked sources, about a
# minute under nice) and nothing else: run `make && make t/milterclient`
# first. A benchmark, not a test: exit 0 when everything ran, 1 when
# something could not run, 2 on a usage error. Run it under nice -n 19 on a
# shared machine. Progress goes to stderr, the table to stdout.
set -euo pipefail

usage() {
	sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/../.." && pwd)}
srctop=$(cd "$here/../.." && pwd)

quick='' reps='' secs='' conc=4 scrape=1 keep=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	-r) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	-T) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	-C) [ $# -ge 2 ] || usage; conc=$2; shift 2 ;;
	--scrape) [ $# -ge 2 ] || usage; scrape=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done
[[ $reps =~ ^[0-9]*$ && $secs =~ ^[0-9]*$ && $conc =~ ^[1-9][0-9]*$ ]] || usage
[[ $scrape =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage
if [ -n "$quick" ]; then reps=${reps:-1} secs=${secs:-1}; else reps=${reps:-5} secs=${secs:-2}; fi
[ "$reps" -ge 1 ] && [ "$secs" -ge 1 ] || usage

say() { echo "run-metrics-bench: $*" >&2; }
die() { say "$*"; exit 1; }

PATH=$PATH:/usr/sbin:/sbin
for p in openssl unbound curl git; do
	command -v "$p" >/dev/null 2>&1 || die "$p not found"
done
for f in dkimgate dkimctl t/milterclient; do
	[ -x "$top/$f" ] || die "$top/$f is not built; run make && make t/milterclient"
done

work=$(mktemp -d /tmp/dkimgate-metrics-bench.XXXXXX)
chmod 700 "$work"
dns_started='' child_pid='' scraper_pid=''
declare -A PID SOCK

stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$? v
	trap - EXIT INT TERM
	stop_pid "$child_pid"
	stop_pid "$scraper_pid"
	for v in "${!PID[@]}"; do stop_pid "${PID[$v]}"; done
	[ -z "$dns_started" ] || "$srctop/t/dns/testdns" stop "$work/dns" >/dev/null 2>&1 || true
	if [ -n "$keep" ]; then say "work directory kept: $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the three builds ----
mkdir -p "$work/bin"
cp "$top/dkimgate" "$work/bin/dkimgate-metrics"
cp "$top/dkimctl" "$top/t/milterclient" "$work/bin/"
DKIMCTL=$work/bin/dkimctl MC=$work/bin/milterclient
say "building the base variant (counting compiled out)"
mkdir "$work/base"
(cd "$srctop" && git ls-files -z | xargs -0 cp --parents -t "$work/base") ||
	die "cannot copy the sources"
# Empty the bodies of the counting functions; everything else stays.
perl -0pi -e '
	my $n = 0;
	for my $f (qw(metrics_add metrics_gauge_add metrics_gauge_set metrics_observe)) {
		$n += s/^(void\n\Q$f\E\(([^)]*)\)\n)\{\n.*?^\}\n/$1\{\n\t(void)0;\n\}\n/ms;
	}
	$n += s/^(uint64_t\nmetrics_now_us\(void\)\n)\{\n.*?^\}\n/$1\{\n\treturn 0;\n\}\n/ms;
	die "patched $n functions, expected 5\n" unless $n == 5;
' "$work/base/milter/core/metrics.c" || die "cannot empty the counting functions"
(
	cd "$work/base"
	autoreconf -fi >/dev/null 2>&1 &&
	./configure -q CFLAGS="$(sed -n 's/^CFLAGS = //p' "$top/Makefile")" >/dev/null &&
	nice -n 19 make -j2 dkimgate >/dev/null 2>&1
) || die "cannot build the base variant (see $work/base)"
cp "$work/base/dkimgate" "$work/bin/dkimgate-base"
rm -rf "$work/base"

# ---- keys, DNS, messages ----
rsa_dom=bench-rsa.example ed_dom=bench-ed.example sel=bench
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$work/ed.pem" 2>/dev/null
chmod 600 "$work/rsa.pem" "$work/ed.pem"
printf '%s\tTXT\t%s\n' \
	"$sel._domainkey.$rsa_dom" "v=DKIM1; k=rsa; p=$(openssl pkey -in "$work/rsa.pem" -pubout -outform DER | base64 -w0)" \
	"$sel._domainkey.$ed_dom" "v=DKIM1; k=ed25519; p=$(openssl pkey -in "$work/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)" \
	"_dmarc.$rsa_dom" "v=DMARC1; p=none; adkim=r" >"$work/records.tsv"
dns_started=1
port=$(TESTDNS_TTL=86400 "$srctop/t/dns/testdns" start "$work/dns" "$work/records.tsv") ||
	die "cannot start the test DNS server"

msg() {	# msg DOMAIN: a 2 KB message From: that domain
	printf '%s\r\n' "From: Alice Example <alice@$1>" "To: Bob <bob@example.net>" \
		"Subject: Quarterly report and the schedule for the review meeting" \
		"Date: Mon, 3 Jun 2024 10:00:00 +0000" "Message-ID: <bench@$1>" \
		"MIME-Version: 1.0" "Content-Type: text/plain; charset=utf-8" ""
	for i in $(seq 1 24); do
		printf 'line %02d of the body: the quick brown fox jumps over the lazy dog, again\r\n' "$i"
	done
}
msg "$rsa_dom" >"$work/sign-rsa.eml"
msg "$ed_dom" >"$work/sign-ed.eml"
"$DKIMCTL" sign -d "$rsa_dom" -s "$sel" -k "$work/rsa.pem" "$work/sign-rsa.eml" \
	>"$work/verify-rsa.eml" || die "dkimctl sign failed"

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mport=$(free_port)

# ---- daemons ----
start() {	# start VARIANT BINARY METRICS
	local v=$1 bin=$2 m=$3
	SOCK[$v]=unix:$work/$v.sock
	cat >"$work/$v.conf" <<EOF
socket = "${SOCK[$v]}";
log = "stderr";
authserv_id = "mx.example.test";
metrics = "$m";
key_check = "off";
keys = (
  { id = "rsa"; domain = "$rsa_dom"; selector = "$sel"; file = "$work/rsa.pem"; },
  { id = "ed"; domain = "$ed_dom"; selector = "$sel"; file = "$work/ed.pem"; }
);
signing_table = ( { from = "$rsa_dom"; keys = [ "rsa" ]; }, { from = "$ed_dom"; keys = [ "ed" ]; } );
sign = { internal_networks = [ "10.0.0.0/8" ]; };
dns = { resolver = "127.0.0.1@$port"; trust_anchor = ""; timeout = 5; };
EOF
	"$bin" -f -c "$work/$v.conf" 2>"$work/$v.log" &
	PID[$v]=$!
	for _ in $(seq 200); do [ -S "$work/$v.sock" ] && return 0; sleep 0.05; done
	die "$v did not start: $(tail -n 5 "$work/$v.log")"
}
start base "$work/bin/dkimgate-base" ""
start off "$work/bin/dkimgate-metrics" ""
start on "$work/bin/dkimgate-metrics" "127.0.0.1:$mport"
curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null || die "the 'on' daemon serves no metrics"
# The scraper: what Prometheus would do, far more often.
(
	while :; do
		curl -sf -o /dev/null "http://127.0.0.1:$mport/metrics" || true
		sleep "$scrape"
	done
) &
scraper_pid=$!

client() { case $1 in sign-*) echo 10.1.2.3 ;; *) echo 192.0.2.25 ;; esac; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
tck=$(getconf CLK_TCK)

cases="sign-rsa sign-ed verify-rsa"
for c in $cases; do	# correctness and warm caches
	for v in base off on; do
		out=$("$MC" -s "${SOCK[$v]}" -c "$(client "$c")" "$work/$c.eml" 2>&1) ||
			die "$v $c: $out"
		case $c in
		sign-*) grep -q 'name=DKIM-Signature' <<<"$out" || die "$v $c: not signed: $out" ;;
		*) grep -q 'dkim=pass' <<<"$out" || die "$v $c: no pass: $out" ;;
		esac
	done
done

declare -A R
one() {	# one VARIANT CASE
	local v=$1 c=$2 t0 t1 line msgs k val
	t0=$(cpu_ticks "${PID[$v]}")
	"$MC" --bench -C "$conc" -N 1000000 -T "$secs" -n 10 -s "${SOCK[$v]}" \
		-c "$(client "$c")" "$work/$c.eml" >"$work/mc.out" 2>&1 &
	child_pid=$!
	wait "$child_pid" || true
	child_pid=
	t1=$(cpu_ticks "${PID[$v]}")
	line=$(tail -n 1 "$work/mc.out")
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$line")
	[ -n "$msgs" ] && [ "$msgs" -gt 0 ] || die "$v $c: no result: $line"
	for k in msgs_per_sec p99_ms errors; do
		val=$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$line")
		R[$c|$v|$k]+="$val "
	done
	R[$c|$v|cpu]+="$(awk -v a="$t0" -v b="$t1" -v m="$msgs" -v t="$tck" \
		'BEGIN { printf "%.4f", (b - a) / t * 1000 / m }') "
	say "  $v $c: $line"
}
median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
get() { median <<<"${R[$1]}"; }

say "$(date -u '+%Y-%m-%dT%H:%M:%SZ') $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
orders=("base off on" "off on base" "on base off")
for ((r = 0; r < reps; r++)); do
	for c in $cases; do
		for v in ${orders[$((r % 3))]}; do one "$v" "$c"; done
	done
done
scrapes=$(curl -sf "http://127.0.0.1:$mport/metrics" | wc -l)

echo "run-metrics-bench: $(date -u '+%Y-%m-%dT%H:%M:%SZ') $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "run-metrics-bench: t/bench/run-metrics-bench.sh -r $reps -T $secs -C $conc --scrape $scrape;" \
	"2 KB messages, median of $reps interleaved runs; load now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "run-metrics-bench: base = counting compiled out; off = counting, no listener;" \
	"on = counting + listener scraped every $scrape s ($scrapes lines a scrape)"
echo
printf '%-11s %10s %10s %10s %8s %8s   %8s %8s %8s %8s %8s   %7s %7s %7s\n' case \
	"base msg/s" "off msg/s" "on msg/s" off/base on/base \
	"base cpu" "off cpu" "on cpu" off/base on/base "base p99" "off p99" "on p99"
for c in $cases; do
	b=$(get "$c|base|msgs_per_sec") o=$(get "$c|off|msgs_per_sec") n=$(get "$c|on|msgs_per_sec")
	bc=$(get "$c|base|cpu") oc=$(get "$c|off|cpu") nc=$(get "$c|on|cpu")
	printf '%-11s %10.1f %10.1f %10.1f %8.3f %8.3f   %8.4f %8.4f %8.4f %8.3f %8.3f   %7.2f %7.2f %7.2f\n' \
		"$c" "$b" "$o" "$n" "$(awk -v a="$o" -v b="$b" 'BEGIN { print a / b }')" \
		"$(awk -v a="$n" -v b="$b" 'BEGIN { print a / b }')" "$bc" "$oc" "$nc" \
		"$(awk -v a="$oc" -v b="$bc" 'BEGIN { print a / b }')" \
		"$(awk -v a="$nc" -v b="$bc" 'BEGIN { print a / b }')" \
		"$(get "$c|base|p99_ms")" "$(get "$c|off|p99_ms")" "$(get "$c|on|p99_ms")"
done
echo
echo "msg/s ratios above 1 and CPU ratios below 1 mean faster than base; on a shared"
echo "machine expect a few percent of noise either way."
