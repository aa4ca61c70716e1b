#!/bin/bash
# run-dnsfault.sh - dkimgate against a DNS that fails: bounded queries,
# bounded time, no lookups left behind by aborted messages.
#
# Starts the test DNS server (t/dns/testdns) with a zone that answers
# SERVFAIL (broken.example.net) and one that never answers
# (dead.example.net), and one dkimgate -f with dns.timeout = 2 on a unix
# socket; t/milterclient plays the MTA.  The DNS server logs every query it
# receives, which is how queries are counted.  Checks:
#  1. SERVFAIL: messages signed by a domain of the broken zone (each with a
#     new selector, so nothing is cached) cost at most MAX_SERVFAIL_Q
#     queries each at the server, whatever the resolver's retry habits
#     (figures printed: queries per message, per name).
#  2. A DNS that never answers: from end of message to the reply takes at
#     most dns.timeout + 1 s (milterclient --timing), for a key lookup, for
#     a From: domain's DMARC lookups, and for both with many signatures.
#  3. The MTA goes away before the end-of-message reply: the log says so.
#  4. ABORTS (default 10000) messages aborted after end of header, each
#     with key and DMARC lookups that never get an answer (names of its
#     own, so every lookup reaches the DNS server): the daemon's RSS stays
#     flat after the first tenth, its outstanding lookups (dns_outstanding=
#     in its abort log lines) never pass dns.max_outstanding, and a message
#     right afterwards is answered within dns.timeout + 1 s.
#  5. dns.max_outstanding: with a small bound, lookups past it are refused
#     at once as temperror (not queued), and logged.
#  6. SAME (default 500) aborted messages all asking the same dead key
#     name, with dns.max_outstanding = 1 and no DMARC lookups: one lookup
#     in flight (dns_outstanding=1 in every abort line),
#     nothing refused, and the next message asking that key joins the
#     lookup and gets its temperror by its own timeout, not by the bound;
#     distinct names are still refused past the bound.
# Run by "make check" or by hand; DKIMGATE=, MILTERCLIENT= override the
# programs; KEEP=1 keeps the work directory; ABORTS=N changes check 4,
# SAME=N check 6.
# Exit status: 0 all passed, 1 a check failed, 77 skipped (a tool is
# missing and CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
ABORTS=${ABORTS:-10000}
SAME=${SAME:-500}
MAX_SERVFAIL_Q=${MAX_SERVFAIL_Q:-4}
TIMEOUT=2
proto_require
asan=0
ldd "$DKIMGATE" 2>/dev/null | grep -q 'libasan' && asan=1
proto_setup dnsfault

genkey ed b1
printf '%s\tTXT\t%s\n' b1._domainkey.example.net "$(ed_rec "$K/b1.pem")" >"$work/records.tsv"
port=$("$testdns" start "$work/dns" --servfail broken.example.net --blackhole dead.example.net \
	"$work/records.tsv") || die "test DNS server did not start"
resolver=127.0.0.1@$port
dnslog=$work/dns/unbound.log

# write_conf [DNS-EXTRA [MORE]]
write_conf() {
	cat >"$conf" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
sign = { internal_networks = [ "10.0.0.0/8" ]; };
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = $TIMEOUT; ${1:-} };
${2:-}
CONF
}
write_conf
start_dkimgate
ok "dkimgate started (pid $dg_pid), DNS on port $port"

# signed FILE DOMAIN SELECTOR [FROM]: a message signed (with key b1) as
# DOMAIN/SELECTOR; the key is never found, which does not matter here.
signed() {
	printf 'From: %s\r\nTo: bob@example.org\r\nSubject: dns fault\r\n\r\nbody\r\n' \
		"${4:-alice@example.net}" >"$1.in"
	"$DKIMCTL" sign -d "$2" -s "$3" -k "$K/b1.pem" "$1.in" >"$1" || die "dkimctl sign"
}
dns_mark() { dnsmark=$(wc -l <"$dnslog"); }
# dns_new REGEX: queries received since the mark whose line matches REGEX.
dns_new() { tail -n "+$((dnsmark + 1))" "$dnslog" | grep -E 'info: 127\.0\.0\.1 [^ ]+ [A-Z0-9]+ IN$' | grep -Ec -- "$1"; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$dg_pid/status"; }
eom_ms() { sed -n "s/^msg=${2:-1} eom_ms=//p" "$O/$1.out"; }

# ================================================================================
echo "# 1. SERVFAIL: queries per message"
total=0 worst=0 n=5
for i in $(seq 1 $n); do
	signed "$M/sf$i.eml" broken.example.net "sf$i" "alice@example.net"
	dns_mark
	mc "sf$i" -c 192.0.2.1 "$M/sf$i.eml"
	sleep 0.2	# let retries that come after the reply show in the log
	q=$(dns_new "sf$i\._domainkey\.broken\.example\.net")
	total=$((total + q))
	[ "$q" -gt "$worst" ] && worst=$q
	check "  message $i: key lookup in a SERVFAIL zone -> temperror" \
		grep -q 'dkim=temperror.*header.d=broken.example.net' "$O/sf$i.out"
done
echo "# SERVFAIL: $total queries for $n key names ($(awk -v t=$total -v n=$n 'BEGIN { printf "%.1f", t / n }') per message, at most $worst)"
check "SERVFAIL costs at most $MAX_SERVFAIL_Q queries per name (worst: $worst)" [ "$worst" -le "$MAX_SERVFAIL_Q" ]

# ================================================================================
echo "# 2. a DNS that never answers: end of message to reply"
limit_ms=$(( (TIMEOUT + 1) * 1000 ))
signed "$M/dead-key.eml" dead.example.net d1 alice@example.net
signed "$M/dead-from.eml" example.net b1 "alice@mail.dead.example.net"
{
	for i in $(seq 1 12); do
		signed "$M/dk$i.eml" "sub$i.dead.example.net" "d$i" "alice@x.dead.example.net"
		sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$M/dk$i.eml" | sed '$d'
	done
	cat "$M/dead-from.eml"
} >"$M/dead-many.eml"
for t in dead-key dead-from dead-many; do
	mc "$t" -c 192.0.2.1 --timing "$M/$t.eml"
	ms=$(eom_ms "$t")
	echo "# $t: end of message to reply ${ms:-?} ms (dns.timeout ${TIMEOUT} s)"
	check "$t: reply within dns.timeout + 1 s (${ms:-?} ms <= $limit_ms)" \
		[ -n "$ms" ] && [ "${ms:-999999}" -le "$limit_ms" ]
done
check "  the dead key lookup is a temperror" grep -q 'dkim=temperror.*header.d=dead.example.net' "$O/dead-key.out"

# ================================================================================
echo "# 3. the MTA goes away before the end-of-message reply"
# The MTA waits 500 ms (dkimgate is waiting for DNS), then closes: libmilter
# only lets go of a connection whose peer closed once the callback returns.
signed "$M/gone.eml" dead.example.net g1 alice@example.net
mc gone -c 192.0.2.1 --disconnect-after eom --disconnect-delay 500 "$M/gone.eml"
for _ in $(seq 1 $(( (TIMEOUT + 3) * 10 ))); do newlog | grep -q 'verified client=' && break; sleep 0.1; done
check "log says the MTA closed the connection before the reply" \
	grep -q 'error event=verify reason="the MTA closed the connection before the reply' <(newlog)
newlog | grep 'event=verify' | sed 's/^/# /'
still_alive "MTA gone before the reply"

# ================================================================================
echo "# 4. $ABORTS aborted messages with lookups that never end"
# Each message asks for names of its own (selector abN, From: domain yN), so
# that no answer comes from a cache: every lookup goes to the dead zone.
signed "$M/ab.eml" dead.example.net ab "alice@y.dead.example.net"
mkdir "$M/ab"
awk -v n="$ABORTS" -v dir="$M/ab" 'BEGIN { RS = "\001" } { m = $0 }
	END { for (i = 1; i <= n; i++) { t = m; gsub(/s=ab;/, "s=ab" i ";", t)
		gsub(/@y\.dead/, "@y" i ".dead", t); f = sprintf("%s/%05d.eml", dir, i)
		printf "%s", t > f; close(f) } }' "$M/ab.eml"
batch() {	# NAME FIRST LAST: messages FIRST..LAST, aborted after end of header
	local files=() i
	for i in $(seq "$2" "$3"); do files+=("$M/ab/$(printf %05d "$i").eml"); done
	mc "$1" -c 192.0.2.1 -k 0 --abort-after eoh "${files[@]}"
	[ "$mc_rc" = 0 ] || not_ok "$1: milterclient: $(head -c 200 "$O/$1.err")"
}
warm=$((ABORTS / 10))
batch ab-warm 1 "$warm"
sleep 1
r0=$(rss)
o0=$(grep -o 'dns_outstanding=[0-9]*' "$log" | tail -n 1 | cut -d= -f2)
dns_mark
lmark=$(wc -l <"$log")
t0=$(date +%s.%N)
for b in $(seq "$((warm + 1))" 1000 "$ABORTS"); do
	e=$((b + 999))
	[ "$e" -gt "$ABORTS" ] && e=$ABORTS
	batch "ab-$b" "$b" "$e"
done
t1=$(date +%s.%N)
r1=$(rss)
logs() { tail -n "+$((lmark + 1))" "$log"; }
o1=$(logs | grep -o 'dns_outstanding=[0-9]*' | tail -n 1 | cut -d= -f2)
omax=$(logs | grep -o 'dns_outstanding=[0-9]*' | cut -d= -f2 | sort -n | tail -n 1)
nab=$(logs | grep -c ': aborted ')
q=$(dns_new 'dead\.example\.net')
echo "# $((ABORTS - warm)) aborts (after $warm to warm up) in $(secs "$t0" "$t1") s: VmRSS $r0 -> $r1 kB; outstanding lookups ${o0:-?} -> ${o1:-?} (max ${omax:-?}); $q queries reached the DNS server"
expect_eq "every aborted message logged (with the outstanding lookups)" "$nab" "$((ABORTS - warm))"
check "outstanding lookups bounded: at most dns.max_outstanding (1000) at any abort (max ${omax:-?})" \
	[ -n "$omax" ] && [ "${omax:-99999}" -le 1000 ]
if [ "$asan" = 1 ]; then
	ok "RSS: reported only (AddressSanitizer build)"
else
	check "RSS flat: +$((r1 - r0)) kB over $((ABORTS - warm)) aborts (< 4096)" [ $((r1 - r0)) -lt 4096 ]
fi
# While libunbound still works through the dead lookups, a new message is
# not slowed down: its lookups are refused at once past the bound.
signed "$M/good.eml" example.net b1 alice@example.net
mc after-ab -c 192.0.2.1 --timing "$M/good.eml"
ms=$(eom_ms after-ab)
res=$(grep -o 'dkim=[a-z]*' "$O/after-ab.out" | head -n 1)
echo "# a message right after the aborts: $res in ${ms:-?} ms"
check "a message right after the aborts is answered within dns.timeout + 1 s (${ms:-?} ms, $res)" \
	eval '[ -n "$ms" ] && [ "${ms:-99999}" -le "$limit_ms" ]'

# ================================================================================
echo "# 5. dns.max_outstanding"
stop_pid "$dg_pid"
dg_pid=''
write_conf 'max_outstanding = 3;'
start_dkimgate
signed "$M/over.eml" dead.example.net o1 alice@example.net
for i in 2 3 4; do
	signed "$M/o$i.eml" "dead.example.net" "o$i" alice@example.net
	sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$M/o$i.eml" | sed '$d'
done >"$M/over-sigs"
cat "$M/over-sigs" "$M/over.eml" >"$M/over4.eml"
mc over -c 192.0.2.1 --timing "$M/over4.eml"
check "4 key lookups with max_outstanding 3: 1 refused at once as temperror with the reason" \
	eval '[ "$(grep -o "too many DNS lookups outstanding" "$O/over.out" | wc -l)" = 1 ]'
check "  logged" grep -q 'warning event=dns reason="too many DNS lookups outstanding (dns.max_outstanding 3)"' "$log"

# ================================================================================
echo "# 6. $SAME aborted messages asking the same dead key: one lookup, joined"
# A new daemon (nothing outstanding) with room for one question, and no
# DMARC lookups: every message is the same and its only lookup is its key,
# in the dead zone. Each message after the first joins the lookup the
# earlier ones left behind instead of being refused.
stop_pid "$dg_pid"
dg_pid=''
write_conf 'max_outstanding = 1;' 'verify = { dmarc_lookup = false; };'
start_dkimgate
signed "$M/same.eml" dead.example.net same1 alice@example.net
same=()
for _ in $(seq 1 "$SAME"); do same+=("$M/same.eml"); done
dns_mark
t0=$(date +%s.%N)
mc same -c 192.0.2.1 -k 0 --abort-after eoh "${same[@]}"
t1=$(date +%s.%N)
[ "$mc_rc" = 0 ] || not_ok "same: milterclient: $(head -c 200 "$O/same.err")"
omax=$(grep -o 'dns_outstanding=[0-9]*' "$log" | cut -d= -f2 | sort -n | tail -n 1)
nab=$(grep -c ': aborted ' "$log")
q=$(dns_new 'same1\._domainkey\.dead\.example\.net')
echo "# $SAME aborts in $(secs "$t0" "$t1") s: outstanding lookups at most ${omax:-?}; $q queries for the key reached the DNS server"
expect_eq "every aborted message logged" "$nab" "$SAME"
expect_eq "one question in flight whatever the number of messages asking it (max dns_outstanding)" "${omax:-?}" 1
check "  none refused for the bound" eval '! grep -q "too many DNS lookups outstanding" "$log"'
# The next message asks the same key: it joins the lookup still in flight
# rather than being refused, and ends by its own timeout (or by the
# lookup's answer, should libunbound give up first).
mc same-next -c 192.0.2.1 --timing "$M/same.eml"
ms=$(eom_ms same-next)
res=$(grep -o 'dkim=[a-z]*' "$O/same-next.out" | head -n 1)
echo "# the same key right after the aborts: $res in ${ms:-?} ms"
check "  the next message asking it is not refused for the bound" \
	eval '! grep -q "too many DNS lookups outstanding" "$O/same-next.out" "$log"'
check "  it is a temperror within dns.timeout + 1 s ($res, ${ms:-?} ms)" \
	eval '[ "$res" = dkim=temperror ] && [ -n "$ms" ] && [ "${ms:-99999}" -le "$limit_ms" ]'
# Distinct questions still meet the bound of 1, refused with the reason.
mc over-same -c 192.0.2.1 --timing "$M/over4.eml"
check "  distinct names still refused past the bound, with the reason" \
	eval '[ "$(grep -o "too many DNS lookups outstanding" "$O/over-same.out" | wc -l)" -ge 1 ]'

kill -TERM "$dg_pid"
wait "$dg_pid"
rc=$?
dg_pid=''
expect_eq "SIGTERM: dkimgate exits 0" "$rc" 0
sanitizer_report
proto_finish
