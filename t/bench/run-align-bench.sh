#!/usr/bin/env bash
# run-align-bench.sh - what the RFC 9989 tree walk costs the verifier: the
# same daemon, the same messages, verify.alignment = "rfc9989" against
# "rfc7489" (public suffix list), in one run.
#
# usage: t/bench/run-align-bench.sh [-r REPS] [-T SECS] [-C CONC]
#
# Two dkimgate processes (this build), one per mode, verify mail signed
# d=shop.example (Ed25519) with _dmarc.shop.example published on the test
# DNS server (t/dns/testdns on 127.0.0.1), through t/milterclient in bench
# mode on unix sockets. Two workloads:
#   same      every message From: news.shop.example (walks come from the
#             cache while their answers' TTL lasts)
#   distinct  500 messages, each From: a different nN.shop.example (the
#             first query of every walk is new to the resolver)
# Runs are interleaved (rfc9989, rfc7489, rfc7489, rfc9989, ...) and the
# median of REPS kept. Reported per workload and mode: messages per second,
# p50/p99 latency, TXT queries per message that reached the DNS server, and
# the rfc9989/rfc7489 ratio of messages per second.
#
#   -r REPS   repetitions per workload and mode (default 3)
#   -T SECS   whole seconds per run (default 3)
#   -C CONC   concurrent connections (default 4), 10 messages each
#
# It builds nothing: run `make && make t/milterclient` first. A benchmark,
# not a test: exit 0 when everything ran, 1 when something could not run, 2
# on a usage error. Progress goes to stderr, the table to stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/../.." && pwd)}
srctop=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/proc.sh
. "$srctop/t/lib/proc.sh"
PATH=$PATH:/usr/sbin:/sbin

usage() { sed -n '6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
reps=3 secs=3 conc=4
while [ $# -gt 0 ]; do
	case $1 in
	-r) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	-T) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	-C) [ $# -ge 2 ] || usage; conc=$2; shift 2 ;;
	*) usage ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ && $secs =~ ^[1-9][0-9]*$ && $conc =~ ^[1-9][0-9]*$ ]] || usage

die() { echo "run-align-bench: $*" >&2; exit 1; }
say() { echo "# $*" >&2; }
for f in dkimgate dkimctl t/milterclient; do
	[ -x "$top/$f" ] || die "$top/$f is not built; run make && make t/milterclient"
done

tmp=${TMPDIR:-/tmp}
[ ${#tmp} -gt 40 ] && tmp=/tmp
work=$(mktemp -d "$tmp/dkimgate-alignbench.XXXXXX") || die "mktemp"
declare -A PID
cleanup() {
	local m
	for m in "${!PID[@]}"; do stop_pid "${PID[$m]}"; done
	"$srctop/t/dns/testdns" stop "$work/dns" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$work/bin" "$work/msg"
cp "$top/dkimgate" "$top/dkimctl" "$top/t/milterclient" "$work/bin/"
DG=$work/bin/dkimgate DKIMCTL=$work/bin/dkimctl MC=$work/bin/milterclient

# ---- key, DNS, messages ----
openssl genpkey -algorithm ED25519 -out "$work/k.pem" 2>/dev/null || die "openssl"
chmod 600 "$work/k.pem"
p=$(openssl pkey -in "$work/k.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
printf 's1._domainkey.shop.example\tTXT\tv=DKIM1; k=ed25519; p=%s\n_dmarc.shop.example\tTXT\tv=DMARC1; p=none\n' \
	"$p" >"$work/records.tsv"
port=$("$srctop/t/dns/testdns" start "$work/dns" "$work/records.tsv") || die "testdns"
dnslog=$work/dns/unbound.log

mkmsg() {
	printf 'From: <user@%s>\r\nTo: <bob@example.net>\r\nSubject: bench\r\nDate: Mon, 2 Feb 2026 10:00:00 +0000\r\nMessage-ID: <%s@shop.example>\r\n\r\n' \
		"$2" "$1" >"$work/msg/$1.in"
	for i in $(seq 1 40); do printf 'line %02d of a small message to verify.\r\n' "$i"; done >>"$work/msg/$1.in"
	"$DKIMCTL" sign -d shop.example -s s1 -k "$work/k.pem" "$work/msg/$1.in" >"$work/msg/$1.eml" ||
		die "dkimctl sign"
	rm -f "$work/msg/$1.in"
}
say "signing 501 messages"
mkmsg same news.shop.example
for n in $(seq 1 500); do mkmsg "d$n" "n$n.shop.example"; done
distinct=()
for n in $(seq 1 500); do distinct+=("$work/msg/d$n.eml"); done

# ---- daemons ----
for mode in rfc9989 rfc7489; do
	cat >"$work/$mode.conf" <<CONF
socket = "unix:$work/$mode.sock";
log = "stderr";
authserv_id = "mx.bench.example";
verify = { alignment = "$mode"; };
dns = { resolver = "127.0.0.1@$port"; trust_anchor = ""; timeout = 5; };
CONF
	"$DG" -f -c "$work/$mode.conf" 2>"$work/$mode.log" &
	PID[$mode]=$!
	for _ in $(seq 200); do [ -S "$work/$mode.sock" ] && break; sleep 0.05; done
	[ -S "$work/$mode.sock" ] || die "dkimgate ($mode) did not start: $(tail -3 "$work/$mode.log")"
done

queries() { grep -c ' info: 127\.0\.0\.1 .* TXT IN$' "$dnslog" || true; }

declare -A R
# run WORKLOAD MODE
run() {
	local w=$1 m=$2 q0 q1 line msgs k v files
	if [ "$w" = same ]; then files=("$work/msg/same.eml"); else files=("${distinct[@]}"); fi
	q0=$(queries)
	"$MC" --bench -C "$conc" -N 1000000 -T "$secs" -n 10 -s "unix:$work/$m.sock" \
		-c 192.0.2.1 "${files[@]}" >"$work/mc.out" 2>&1 || true
	q1=$(queries)
	line=$(tail -n 1 "$work/mc.out")
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$line")
	[ -n "$msgs" ] && [ "$msgs" -gt 0 ] || die "$w $m: no result: $line"
	for k in msgs_per_sec p50_ms p99_ms errors; do
		v=$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$line")
		R[$w|$m|$k]+="$v "
	done
	R[$w|$m|qpm]+="$(awk -v a="$q0" -v b="$q1" -v n="$msgs" 'BEGIN { printf "%.3f", (b - a) / n }') "
	say "$w $m: $line"
}
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Warm-up: threads, keys, the resolver's cache for the names both share.
for m in rfc9989 rfc7489; do
	"$MC" -s "unix:$work/$m.sock" -c 192.0.2.1 -n 20 "$work/msg/same.eml" >/dev/null 2>&1 || true
done
for w in same distinct; do
	for r in $(seq 1 "$reps"); do
		if [ $((r % 2)) = 1 ]; then order="rfc9989 rfc7489"; else order="rfc7489 rfc9989"; fi
		for m in $order; do run "$w" "$m"; done
	done
done

printf '%-9s %-8s %9s %8s %8s %10s %7s %13s\n' workload mode "msg/s" "p50 ms" "p99 ms" \
	"queries/msg" errors "ratio msg/s"
for w in same distinct; do
	a=$(median "${R[$w|rfc9989|msgs_per_sec]}") b=$(median "${R[$w|rfc7489|msgs_per_sec]}")
	for m in rfc9989 rfc7489; do
		ratio=''
		[ "$m" = rfc9989 ] && ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
		printf '%-9s %-8s %9s %8s %8s %10s %7s %13s\n' "$w" "$m" \
			"$(median "${R[$w|$m|msgs_per_sec]}")" "$(median "${R[$w|$m|p50_ms]}")" \
			"$(median "${R[$w|$m|p99_ms]}")" "$(median "${R[$w|$m|qpm]}")" \
			"$(median "${R[$w|$m|errors]}")" "$ratio"
	done
done
echo "# $reps runs of $secs s per workload and mode, $conc connections; median shown;" \
	"ratio = rfc9989 msg/s / rfc7489 msg/s"
