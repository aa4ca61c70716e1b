#!/bin/bash
# check-testdns.sh - self-test of the test DNS server harness t/dns/testdns.
#
# Usage: t/dns/check-testdns.sh [--corpus RECORDS.tsv]
#
# Starts the harness on a sample of records with a --signed, a --servfail and a
# --blackhole zone, checks its answers with dig and with unbound-host (a
# validating libunbound client forwarding to it, as dkimgate's verifier
# does), reloads it with changed records, stops it and checks nothing is left
# running.  With --corpus it also serves that RECORDS.tsv (for example the
# conformance corpus) and checks every TXT record comes back octet for octet.
#
# Needs: unbound, unbound-host, dnsutils, ldnsutils, perl; iproute2 (ss) to
# check the listening sockets.
# Exit status: 0 all checks passed; 1 a check failed (each failure is
# printed); 77 a needed program is missing and $CI is not set.

# ok() never fails, so "test && ok || fail" is safe; cleanup runs from a trap.
# shellcheck disable=SC2015,SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
testdns=$here/testdns
PATH=$PATH:/usr/sbin:/sbin

corpus=
if [ "${1:-}" = --corpus ]; then
	[ -r "${2:-}" ] || { echo "check-testdns: cannot read ${2:-}" >&2; exit 1; }
	corpus=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
elif [ $# -gt 0 ]; then
	sed -n '/^# Usage:/p' "$0" | sed 's/^# //' >&2
	exit 1
fi

for p in unbound unbound-host dig ldns-signzone perl; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "check-testdns: $p not installed" >&2
		[ -n "${CI:-}" ] && exit 1
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/check-testdns.XXXXXX")
state=$work/state
failures=0

cleanup() {
	"$testdns" stop "$state" 2>/dev/null
	[ -n "$corpus" ] && "$testdns" stop "$work/corpus" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# The values of NAME's TXT records, one record a line, character-strings
# decoded and joined with SEP (default " | ").
txt() {
	dig @127.0.0.1 -p "$port" +short +time=2 +tries=1 "$1" TXT | SEP=${2- | } perl -ne '
		chomp; my @s;
		while (/"((?:[^"\\]|\\.)*)"/g) {
			my $x = $1;
			$x =~ s/\\(\d{3})|\\(.)/defined $1 ? chr($1) : $2/ge;
			push @s, $x;
		}
		print join($ENV{SEP}, @s), "\n";' | sort
}

# expect_txt NAME EXPECTED: EXPECTED is the sorted records, one a line.
expect_txt() {
	local got
	got=$(txt "$1")
	if [ "$got" = "$2" ]; then ok "TXT $1"; else fail "TXT $1: got [$got], want [$2]"; fi
}

status() {
	dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@" 2>&1 |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

expect_status() {
	local want=$1 got
	shift
	got=$(status "$@")
	if [ "$got" = "$want" ]; then ok "$want for $*"; else fail "$*: got status [$got], want $want"; fi
}

# unbound-host as a validating client forwarding to the harness.  libunbound
# answers names under test. itself (an RFC 6761 default zone) unless told not to.
uhost() {
	unbound-host -C "$work/client.conf" -f "$state/trust-anchors" -v -t "$@" 2>&1
}

expect_uhost() {
	local type=$1 name=$2 pattern=$3 got
	got=$(uhost "$type" "$name")
	if grep -q -- "$pattern" <<<"$got"; then
		ok "unbound-host $type $name: $pattern"
	else
		fail "unbound-host $type $name: want '$pattern', got: $got"
	fi
}

ms() { echo $(($(date +%s%N) / 1000000)); }

long=$(perl -e 'print "p=", "A" x 298, "B" x 300')
cat >"$work/records.tsv" <<EOF
# owner	type	value	note
sel._domainkey.example.com	TXT	v=DKIM1; k=rsa; p=MFwwDQ	plain
long._domainkey.example.com	TXT	$long	600 octets: three strings
two._domainkey.example.org	TXT	v=DKIM1; p=first	two records at one name
two._domainkey.example.org	TXT	v=DKIM1; p=second	two records at one name
pre._domainkey.example.org	TXT	v=DKIM1; | p=abc	already split
empty._domainkey.example.org	TXT		one empty string
odd._domainkey.example.org.	TXT	a"b\\c;d # 'e' \\059	characters zone files escape
chain._domainkey.example.com	CNAME	mid.example.net	chain start
mid.example.net	CNAME	sel._domainkey.example.com.	chain middle
dangling._domainkey.example.com	CNAME	gone.example.net	dangling
host.example.com	A	192.0.2.7	an A record
sel._domainkey.secure.test	TXT	v=DKIM1; p=signed	in the signed zone
alias.secure.test	CNAME	sel._domainkey.secure.test	CNAME in the signed zone
EOF
sed -e 's/p=first/p=rotated/' "$work/records.tsv" >"$work/records2.tsv"
printf 'new._domainkey.example.com\tTXT\tv=DKIM1; p=new\n' >>"$work/records2.tsv"
printf 'new._domainkey.secure.test\tTXT\tv=DKIM1; p=newsigned\n' >>"$work/records2.tsv"

opts=(--signed secure.test --servfail servfail.test --blackhole blackhole.test)

t0=$(ms)
port=$("$testdns" start "$state" "${opts[@]}" "$work/records.tsv") ||
	{ echo "FAIL: testdns start failed" >&2; exit 1; }
echo "started on port $port in $(($(ms) - t0)) ms"
[[ $port =~ ^[0-9]+$ ]] || { echo "FAIL: start printed [$port], not a port" >&2; exit 1; }
[ "$(cat "$state/port")" = "$port" ] || fail "STATEDIR/port differs from the printed port"
pid=$(cat "$state/unbound.pid")
grep -q 'IN[[:space:]]*DS' "$state/trust-anchors" || fail "trust-anchors has no DS record"

cat >"$work/client.conf" <<EOF
server:
	local-zone: "test." transparent
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@$port
EOF

# Nothing but 127.0.0.1:port.
if command -v ss >/dev/null 2>&1; then
	sockets=$(ss -Hlntup 2>/dev/null | grep "pid=$pid," | awk '{print $5}' | sort -u)
	if [ "$sockets" = "127.0.0.1:$port" ]; then ok "listens on 127.0.0.1:$port only"
	else fail "listening sockets: $sockets"; fi
else
	echo "note: ss (Debian package iproute2) missing; listening sockets not checked"
fi

expect_txt sel._domainkey.example.com 'v=DKIM1; k=rsa; p=MFwwDQ'
expect_txt long._domainkey.example.com "${long:0:255} | ${long:255:255} | ${long:510}"
expect_txt two._domainkey.example.org $'v=DKIM1; p=first\nv=DKIM1; p=second'
expect_txt pre._domainkey.example.org 'v=DKIM1; | p=abc'
expect_txt empty._domainkey.example.org ''
[ "$(dig @127.0.0.1 -p "$port" +short empty._domainkey.example.org TXT)" = '""' ] ||
	fail "empty record is not one empty string"
expect_txt odd._domainkey.example.org "a\"b\\c;d # 'e' \\059"
expect_txt sel._domainkey.secure.test 'v=DKIM1; p=signed'
[ "$(dig @127.0.0.1 -p "$port" +short host.example.com A)" = 192.0.2.7 ] &&
	ok "A host.example.com" || fail "A host.example.com"

expect_status NXDOMAIN foo.gmail.com TXT
expect_status NXDOMAIN anything.example TXT
expect_status NXDOMAIN nosuch._domainkey.example.com TXT
expect_status NXDOMAIN localhost A
expect_status NXDOMAIN x.test TXT
expect_status NOERROR _domainkey.example.com TXT
expect_status NXDOMAIN nosuch.secure.test TXT
dig @127.0.0.1 -p "$port" foo.gmail.com TXT | grep -q 'flags: qr aa' &&
	ok "NXDOMAIN is authoritative" || fail "NXDOMAIN without the aa flag"
dig @127.0.0.1 -p "$port" +dnssec +short sel._domainkey.secure.test TXT | grep -q '^TXT 13 ' &&
	ok "DO query in secure.test gets an RRSIG" || fail "no RRSIG for a DO query in secure.test"
dig @127.0.0.1 -p "$port" +dnssec nosuch.secure.test TXT | grep -q 'IN[[:space:]]*NSEC' &&
	ok "NXDOMAIN in secure.test carries NSEC" || fail "no NSEC in NXDOMAIN of secure.test"

expect_uhost TXT sel._domainkey.secure.test 'has TXT record "v=DKIM1; p=signed" (secure)'
expect_uhost TXT nosuch.secure.test 'NXDOMAIN). (secure)'
expect_uhost TXT alias.secure.test 'has TXT record "v=DKIM1; p=signed" (secure)'
expect_uhost TXT sel._domainkey.example.com '"v=DKIM1; k=rsa; p=MFwwDQ" (insecure)'
expect_uhost TXT foo.gmail.com 'NXDOMAIN). (insecure)'
expect_uhost TXT chain._domainkey.example.com 'sel._domainkey.example.com has TXT record "v=DKIM1; k=rsa; p=MFwwDQ" (insecure)'
expect_uhost TXT dangling._domainkey.example.com 'NXDOMAIN). (insecure)'
expect_uhost TXT long._domainkey.example.com 'has TXT record "p=AAA.*B" (insecure)'

t0=$(ms)
expect_status SERVFAIL x._domainkey.servfail.test TXT
expect_status SERVFAIL servfail.test TXT
t=$(($(ms) - t0))
[ $t -lt 1000 ] && ok "two SERVFAILs in $t ms" || fail "SERVFAIL took $t ms"
t0=$(ms)
expect_uhost TXT x._domainkey.servfail.test 'SERVFAIL'
echo "unbound-host got SERVFAIL in $(($(ms) - t0)) ms"

t0=$(ms)
out=$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 x._domainkey.blackhole.test TXT 2>&1)
if grep -q 'timed out' <<<"$out" && ! grep -q 'status:' <<<"$out"; then
	ok "blackhole.test times out ($(($(ms) - t0)) ms)"
else
	fail "blackhole.test answered: $out"
fi

t0=$(ms)
"$testdns" reload "$state" "$work/records2.tsv" || fail "reload failed"
echo "reloaded in $(($(ms) - t0)) ms"
[ "$(cat "$state/port")" = "$port" ] || fail "port changed on reload"
[ "$(cat "$state/unbound.pid")" = "$pid" ] || fail "pid changed on reload"
expect_txt two._domainkey.example.org $'v=DKIM1; p=rotated\nv=DKIM1; p=second'
expect_txt new._domainkey.example.com 'v=DKIM1; p=new'
expect_uhost TXT new._domainkey.secure.test '"v=DKIM1; p=newsigned" (secure)'
expect_status SERVFAIL x.servfail.test TXT

# A reload with only the records drops nothing else; one with options
# replaces them.
"$testdns" reload "$state" --blackhole servfail.test "$work/records.tsv" || fail "reload 2 failed"
out=$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 x.servfail.test TXT 2>&1)
grep -q 'timed out' <<<"$out" && ok "reload replaced zone options" ||
	fail "after reload --blackhole servfail.test: $out"
expect_status NXDOMAIN x.blackhole.test TXT
expect_txt two._domainkey.example.org $'v=DKIM1; p=first\nv=DKIM1; p=second'

if [ -n "$corpus" ]; then
	cport=$("$testdns" start "$work/corpus" --blackhole blackhole.messiah.edu \
		--servfail blackhole2.messiah.edu "$corpus") || fail "corpus start failed"
	n=0
	while IFS= read -r line; do
		# Not "read": it would merge the two tabs around an empty value.
		owner=${line%%$'\t'*} rest=${line#*$'\t'}
		type=${rest%%$'\t'*} rest=${rest#*$'\t'}
		value=${rest%%$'\t'*}
		if [ "$type" = TXT ]; then
			got=$(port=$cport txt "$owner" '')
			[ "$got" = "$value" ] || fail "corpus $owner: got [$got], want [$value]"
			n=$((n + 1))
		fi
	done < <(grep -v '^#' "$corpus")
	ok "corpus: $n TXT records checked"
	port=$cport expect_status SERVFAIL selector._domainkey.blackhole2.messiah.edu TXT
	out=$(dig @127.0.0.1 -p "$cport" +time=1 +tries=1 x._domainkey.blackhole.messiah.edu TXT 2>&1)
	grep -q 'timed out' <<<"$out" && ok "corpus blackhole times out" || fail "corpus blackhole: $out"
	"$testdns" stop "$work/corpus" || fail "corpus stop failed"
fi

t0=$(ms)
"$testdns" stop "$state" || fail "stop failed"
echo "stopped in $(($(ms) - t0)) ms"
"$testdns" stop "$state" || fail "second stop failed"
state_of_pid=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
if [ -z "$state_of_pid" ] || [ "$state_of_pid" = Z ]; then ok "server process $pid is gone"
else fail "server process $pid still runs"; fi
ls "$state"/*.pid >/dev/null 2>&1 && fail "pid files left in $state"
dig @127.0.0.1 -p "$port" +time=1 +tries=1 sel._domainkey.example.com TXT >/dev/null 2>&1 &&
	fail "port $port still answers after stop"

if [ $failures -gt 0 ]; then
	echo "check-testdns: $failures check(s) FAILED" >&2
	exit 1
fi
echo "check-testdns: all checks passed"
exit 0
