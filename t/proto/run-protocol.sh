#!/bin/bash
# run-protocol.sh - dkimgate through its real milter socket: decisions,
# protocol variants, verification results, hostile input, memory.
#
# Starts the test DNS server (t/dns/testdns, keys of example.com,
# example.net, esp.example.net and example.org; a SERVFAIL zone
# servfail.example.net) and one dkimgate -f with a configuration written
# here, on a unix socket; t/milterclient plays the MTA.  Both are stopped
# by PID at exit.  Checks, one "ok - ..." or "not ok - ..." line each:
#  1. Sign decisions: an authenticated user allowed by `users` signs; one
#     not allowed for that From:, one borrowing another domain's key and
#     one not in `users` get no signature (log: not-signed ... reason=);
#     internal IPv4, IPv6 and IPv4-mapped clients sign; {daemon_name}
#     ORIGINATING signs; an external client (IPv4, IPv6) verifies; a From:
#     in no signing_table entry passes unsigned (verdict accept, no header,
#     log line); a two- and a three-key entry give 2 and 3 signatures that
#     all verify with dkimctl; "*.example.com" and "*.deep.example.com"
#     (the longer wildcard wins, neither matches its own base); after a
#     reload that adds "*", the catch-all signs what nothing else matches
#     and the more specific entries still win.
#  2. Protocol: Postfix and sendmail callback orders, five messages on one
#     connection (different and identical), SMFIC_ABORT after header / eoh
#     / body then a good message on the same connection (sign and verify,
#     DNS lookups in flight), a client that disconnects mid-body (daemon
#     stays up, next connection served), body chunks of 1, 7, random and
#     65535 bytes giving the same bh= and verifying, an LF-only file.
#  3. Verifying: our A-R is inserted at index 0, exactly one per message,
#     and parses with python3-authres (t/proto/proto-check.py); forged
#     A-R fields claiming our authserv-id (also behind a comment, in
#     another case, 40 of them) are deleted and another id's is kept;
#     more signatures than verify.max_signatures: the aligned ones are
#     verified first, the rest are policy "not verified: too many
#     signatures"; on_fail = reject gives 550 and the configured text,
#     on_temperror = tempfail 451 (SERVFAIL zone); partial_body_policy and
#     max_age turn a pass into policy; no From:, two From: fields, two
#     addresses, group syntax, display names with comments and quotes give
#     clear verdicts; quotes, CR, LF, parentheses, backslashes and 8-bit
#     bytes in d=, s= and i= never break the field.
#  4. Hostile input, signing and verifying: a 200 KB and a 300 KB header
#     field, 3000 header fields, 50 DKIM-Signature fields, NUL bytes,
#     invalid base64 (b=, bh=, key p=): the daemon answers with a verdict
#     and is still alive after each.
#  5. Memory (run first, so that no earlier peak hides growth): after a
#     warm-up, the daemon's VmHWM grows by less than MEM_LIMIT_KB (4 MB)
#     for a 50 MB message, signed and verified (numbers printed; under
#     AddressSanitizer, whose quarantine holds freed chunks, they are only
#     reported).
#  6. SIGTERM: exit status 0, "stopped inflight=0"; no sanitizer report.
#
# Run by "make check" (top_srcdir, top_builddir from AM_TESTS_ENVIRONMENT)
# or by hand.  DKIMGATE=, DKIMCTL=, MILTERCLIENT= override the programs
# (e.g. a sanitizer build); KEEP=1 keeps the work directory.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (a tool
# is missing and CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
MEM_LIMIT_KB=${MEM_LIMIT_KB:-4096}
proto_require
# Under AddressSanitizer freed memory sits in a quarantine: VmHWM says
# little about what the daemon keeps, so it is reported, not judged.
asan=0
ldd "$DKIMGATE" 2>/dev/null | grep -q 'libasan' && asan=1
proto_setup proto

# --- keys and DNS ---------------------------------------------------------------

for k in a1 esp; do genkey rsa $k; done
for k in ed b1 sub deep catch; do genkey ed $k; done
# python3-dkim reads PKCS#1 only.
openssl rsa -in "$K/a1.pem" -traditional -out "$K/a1.rsa" 2>/dev/null || die "openssl rsa"
{
	printf '%s\tTXT\t%s\n' \
		a1._domainkey.example.com "$(rsa_rec "$K/a1.pem")" \
		ed._domainkey.example.com "$(ed_rec "$K/ed.pem")" \
		sub._domainkey.example.com "$(ed_rec "$K/sub.pem")" \
		deep._domainkey.example.com "$(ed_rec "$K/deep.pem")" \
		cust42._domainkey.esp.example.net "$(rsa_rec "$K/esp.pem")" \
		b1._domainkey.example.net "$(ed_rec "$K/b1.pem")" \
		catch._domainkey.example.org "$(ed_rec "$K/catch.pem")" \
		badp._domainkey.example.com 'v=DKIM1; k=rsa; p=!!!not*base64@@@'
} >"$work/records.tsv"
port=$("$testdns" start "$work/dns" --servfail servfail.example.net "$work/records.tsv") ||
	die "test DNS server did not start"
resolver=127.0.0.1@$port

# write_conf [EXTRA_TABLE_ENTRY]: the configuration every check runs with.
write_conf() {
	cat >"$conf.new" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
keys = (
  { id = "a1"; domain = "example.com"; selector = "a1"; file = "$K/a1.pem"; },
  { id = "ed"; domain = "example.com"; selector = "ed"; file = "$K/ed.pem"; },
  { id = "sub"; domain = "example.com"; selector = "sub"; file = "$K/sub.pem"; },
  { id = "deep"; domain = "example.com"; selector = "deep"; file = "$K/deep.pem"; },
  { id = "esp"; domain = "esp.example.net"; selector = "cust42"; file = "$K/esp.pem"; },
  { id = "b1"; domain = "example.net"; selector = "b1"; file = "$K/b1.pem"; },
  { id = "catch"; domain = "example.org"; selector = "catch"; file = "$K/catch.pem"; }
);
signing_table = (
  { from = "example.com"; keys = [ "a1", "ed" ]; },
  { from = "news@example.com"; keys = [ "a1", "ed", "esp" ]; },
  { from = "*.example.com"; keys = [ "sub" ]; },
  { from = "*.deep.example.com"; keys = [ "deep" ]; },
  { from = "example.net"; keys = [ "b1" ]; }${1:+,
  $1}
);
users = (
  { user = "alice"; from = [ "alice@example.com" ]; },
  { user = "news"; from = [ "news@example.com" ]; },
  { user = "bob"; from = [ "example.net" ]; }
);
sign = {
  internal_networks = [ "10.0.0.0/8", "fd00::/8" ];
  daemon_names = [ "ORIGINATING" ];
};
verify = {
  max_signatures = 3;
  partial_body_policy = true;
  max_age = 3600;
  on_fail = "reject";
  on_temperror = "tempfail";
  reject_reply = "5.7.1 proto test: DKIM failed";
  tempfail_reply = "4.7.1 proto test: DKIM lookup failed";
};
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = 5; };
CONF
	mv "$conf.new" "$conf"
}
write_conf
start_dkimgate
ok "dkimgate started (pid $dg_pid), DNS on port $port"

# --- helpers ---------------------------------------------------------------------

# msg FILE FROM [SUBJECT] [BODY]: a plain CRLF message (FROM "" for none).
msg() {
	{
		[ -n "$2" ] && printf 'From: %s\r\n' "$2"
		printf 'To: Bob <bob@example.net>\r\nSubject: %s\r\n' "${3:-proto test}"
		printf 'Date: Mon, 2 Feb 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n' \
			"$(basename "$1")"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n'
		printf '%s\r\n' "${4:-Hello,}" "" "a line with trailing space   " \
			"	tabbed line" "" "" "bye"
	} >"$1"
}
# dsign IN OUT KEY DOMAIN SELECTOR: sign IN with dkimctl.
dsign() { "$DKIMCTL" sign -d "$4" -s "$5" -k "$K/$3.pem" "$1" >"$2"; }

# ================================================================================
echo "# 5. memory per message (run first: no earlier peak can hide growth)"

hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$dg_pid/status"; }
{
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: 5 KB\r\n\r\n'
	for i in $(seq 1 80); do printf 'line %04d of the small message: some words to fill it up.\r\n' "$i"; done
} >"$M/small.eml"
"$py" - "$M/big.eml" <<'PY'
import sys
with open(sys.argv[1], 'wb') as f:
    f.write(b'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: 50 MB\r\n\r\n')
    line = b'%08d the quick brown fox jumps over the lazy dog, 50 MB of it.   \r\n'
    n = 50 * 1024 * 1024 // len(line % 0)
    f.write(b''.join(line % i for i in range(n)))
PY
# Warm-up: threads, DNS cache, key objects, signing and verifying paths.
mc small -c 10.1.2.3 -o "$O/small.eml" "$M/small.eml"
mc warm -c 10.1.2.3 -n 20 -k 5 "$M/small.eml"
mc warm2 -c 192.0.2.1 -n 20 -k 5 "$O/small.eml"
h0=$(hwm)
mc small -c 10.1.2.3 -o "$O/small.eml" "$M/small.eml"
h1=$(hwm)
t0=$(date +%s.%N)
mc big -c 10.1.2.3 -o "$O/big.eml" "$M/big.eml"
t1=$(date +%s.%N)
h2=$(hwm)
mc big-verify -c 192.0.2.1 "$O/big.eml"
t2=$(date +%s.%N)
h3=$(hwm)
mc small-verify -c 192.0.2.1 "$O/small.eml"
h4=$(hwm)
expect_eq "50 MB message signed (2 signatures) and verified (pass)" \
	"$(nsigs big) $(verdict big) $(verdict big-verify) $(grep -c 'dkim=pass' "$O/big-verify.out")" "2 accept accept 1"
d_small=$((h1 - h0)) d_big=$((h2 - h1)) d_bigv=$((h3 - h2)) d_smallv=$((h4 - h3))
echo "# VmHWM kB: after warm-up $h0; +5 KB signed $h1 (+$d_small); +50 MB signed $h2 (+$d_big," \
	"$(secs "$t0" "$t1") s); +50 MB verified $h3 (+$d_bigv," \
	"$(secs "$t1" "$t2") s); +5 KB verified $h4 (+$d_smallv)"
if [ "$asan" = 1 ]; then
	ok "memory per message: reported only (AddressSanitizer build)"
else
	check "memory flat: 50 MB signed raises VmHWM by ${d_big} kB (< $MEM_LIMIT_KB)" \
		[ "$d_big" -lt "$MEM_LIMIT_KB" ]
	check "memory flat: 50 MB verified raises VmHWM by ${d_bigv} kB (< $MEM_LIMIT_KB)" \
		[ "$d_bigv" -lt "$MEM_LIMIT_KB" ]
fi
still_alive "50 MB message"

# ================================================================================
echo "# 1. sign decisions"

msg "$M/alice.eml" 'Alice <alice@example.com>'
mc auth-ok -c 192.0.2.10 -M 'envfrom:{auth_authen}=alice' -o "$O/auth-ok.eml" "$M/alice.eml"
expect_eq "authenticated alice, From alice@example.com: signed by a1 and ed" \
	"$(selectors auth-ok) $(verdict auth-ok)" "example.com/a1 example.com/ed accept"
check "  both signatures verify (dkimctl verify)" dkverify "$O/auth-ok.eml" 2
check "  log: signed rule=\"authenticated as alice\"" \
	grep -q 'signed rule="authenticated as alice" from=alice@example.com signatures=example.com/a1,example.com/ed' \
	<(newlog)
check "  sign mode adds no Authentication-Results" [ "$(nars auth-ok)" = 0 ]

msg "$M/carol.eml" 'Carol <carol@example.com>'
mc auth-other -c 192.0.2.10 -M 'envfrom:{auth_authen}=alice' "$M/carol.eml"
expect_eq "authenticated alice, From carol@example.com: no signature, accept" \
	"$(nsigs auth-other)/$(nars auth-other) $(verdict auth-other)" "0/0 accept stage=eoh"
check "  log: not-signed ... reason=\"user alice not allowed to sign for carol@example.com\"" \
	grep -q 'not-signed rule="authenticated as alice" from=carol@example.com reason="user alice not allowed to sign for carol@example.com"' \
	<(newlog)

msg "$M/alice-net.eml" 'alice@example.net'
mc auth-borrow -c 192.0.2.10 -M 'envfrom:{auth_authen}=alice' "$M/alice-net.eml"
expect_eq "alice borrowing example.net's key (From alice@example.net): refused" \
	"$(nsigs auth-borrow) $(verdict auth-borrow)" "0 accept stage=eoh"
check "  log: not-signed ... reason=\"user alice not allowed to sign for alice@example.net\"" \
	grep -q 'not-signed .*reason="user alice not allowed to sign for alice@example.net"' <(newlog)

msg "$M/mallory.eml" 'mallory@example.com'
mc auth-unknown -c 192.0.2.10 -M 'envfrom:{auth_authen}=mallory' "$M/mallory.eml"
expect_eq "authenticated user not in users: no signature" \
	"$(nsigs auth-unknown) $(verdict auth-unknown)" "0 accept stage=eoh"
check "  log: not-signed ... reason=\"user mallory not allowed ...\"" \
	grep -q 'not-signed .*reason="user mallory not allowed to sign for mallory@example.com"' <(newlog)

msg "$M/bob-net.eml" 'Bob <bob@example.net>'
mc auth-bob -c 192.0.2.10 -M 'envfrom:{auth_authen}=bob' -o "$O/auth-bob.eml" "$M/bob-net.eml"
expect_eq "authenticated bob, From bob@example.net (users pattern example.net): signed" \
	"$(selectors auth-bob)" "example.net/b1"
check "  it verifies" dkverify "$O/auth-bob.eml" 1

msg "$M/plain.eml" 'Alice <alice@example.com>'
for c in 10.1.2.3 fd00::5 ::ffff:10.9.8.7; do
	mc "int-$c" -c "$c" -o "$O/int-$c.eml" "$M/plain.eml"
	expect_eq "internal client $c signs" "$(selectors "int-$c") $(verdict "int-$c")" \
		"example.com/a1 example.com/ed accept"
	check "  and it verifies" dkverify "$O/int-$c.eml" 2
done
check "  log: rule=\"internal network fd00::/8\"" grep -q 'signed rule="internal network fd00::/8"' "$log"
check "  log: IPv4-mapped client matched as IPv4 (10.0.0.0/8)" \
	grep -q 'signed rule="internal network 10.0.0.0/8"' <(newlog)

for order in postfix sendmail; do
	mc "orig-$order" --order "$order" -c 192.0.2.20 -M 'connect:{daemon_name}=ORIGINATING' \
		-o "$O/orig-$order.eml" "$M/plain.eml"
	expect_eq "{daemon_name}=ORIGINATING signs ($order order)" \
		"$(selectors "orig-$order") $(verdict "orig-$order")" "example.com/a1 example.com/ed accept"
	check "  log: rule=\"daemon name ORIGINATING\"" \
		grep -q 'signed rule="daemon name ORIGINATING"' <(newlog)
	check "  and it verifies" dkverify "$O/orig-$order.eml" 2
done
mc orig-other -c 192.0.2.20 -M 'connect:{daemon_name}=smtpd' "$M/plain.eml"
check "{daemon_name}=smtpd from outside verifies (no signature, one A-R)" \
	[ "$(nsigs orig-other)/$(nars orig-other)" = 0/1 ]

for c in 192.0.2.1 2001:db8::25; do
	mc "ext-$c" -c "$c" "$M/plain.eml"
	check "external client $c verifies: no signature, A-R dkim=none" \
		archeck "ext-$c" 'dkim=none' 'dkim-alignment=none|header.from=example.com'
	check "  log: verified client=$c ... action=accept" \
		grep -q "verified client=$c from=example.com signatures=0 results=none .*action=accept" <(newlog)
done

msg "$M/unlisted.eml" 'nobody@unlisted.example.org'
mc unlisted -c 10.1.2.3 "$M/unlisted.eml"
expect_eq "From in no signing_table entry: unsigned, no header, accept" \
	"$(grep -c insheader "$O/unlisted.out") $(verdict unlisted)" "0 accept stage=eoh"
check "  log: not-signed ... reason=\"no signing_table entry for nobody@unlisted.example.org\"" \
	grep -q 'not-signed rule="internal network 10.0.0.0/8" from=nobody@unlisted.example.org reason="no signing_table entry for nobody@unlisted.example.org"' \
	<(newlog)

msg "$M/news.eml" 'Newsletter <news@example.com>'
mc news -c 10.1.2.3 -o "$O/news.eml" "$M/news.eml"
expect_eq "address entry news@example.com beats the domain: 3 signatures in table order" \
	"$(selectors news)" "example.com/a1 example.com/ed esp.example.net/cust42"
check "  all 3 verify (dkimctl verify)" dkverify "$O/news.eml" 3
mc news-auth -c 192.0.2.9 -M 'envfrom:{auth_authen}=news' -o "$O/news-auth.eml" "$M/news.eml"
expect_eq "  same for the authenticated user news" "$(nsigs news-auth)" 3

declare -A wild=(
	[x@mail.example.com]=example.com/sub
	[x@a.b.example.com]=example.com/sub
	[x@deep.example.com]=example.com/sub
	[x@a.deep.example.com]=example.com/deep
	[x@MAIL.Deep.Example.COM]=example.com/deep
	[x@EXAMPLE.com]="example.com/a1 example.com/ed"
)
for f in "${!wild[@]}"; do
	msg "$M/w-$f.eml" "$f"
	mc "w-$f" -c 10.1.2.3 -o "$O/w-$f.eml" "$M/w-$f.eml"
	expect_eq "wildcards: From $f signs with ${wild[$f]}" "$(selectors "w-$f")" "${wild[$f]}"
	check "  and verifies" dkverify "$O/w-$f.eml" "$(wc -w <<<"${wild[$f]}")"
done

# The catch-all needs its own table: "*" matches every From.
write_conf '{ from = "*"; keys = [ "catch" ]; }'
kill -HUP "$dg_pid"
for _ in $(seq 100); do grep -q '^.*reloaded config=' "$log" && break; sleep 0.05; done
check "reload with a catch-all entry \"*\"" grep -q 'reloaded config=.* signing_table=6' "$log"
declare -A catch=(
	[nobody@unlisted.example.org]=example.org/catch
	[x@example.info]=example.org/catch
	[alice@example.com]="example.com/a1 example.com/ed"
	[news@example.com]="example.com/a1 example.com/ed esp.example.net/cust42"
	[x@mail.example.com]=example.com/sub
	[bob@example.net]=example.net/b1
)
for f in "${!catch[@]}"; do
	msg "$M/c-$f.eml" "$f"
	mc "c-$f" -c 10.1.2.3 -o "$O/c-$f.eml" "$M/c-$f.eml"
	expect_eq "catch-all present: From $f signs with ${catch[$f]}" "$(selectors "c-$f")" \
		"${catch[$f]}"
	check "  and verifies" dkverify "$O/c-$f.eml" "$(wc -w <<<"${catch[$f]}")"
done
mc c-unlisted-auth -c 192.0.2.10 -M 'envfrom:{auth_authen}=alice' "$M/unlisted.eml"
expect_eq "catch-all does not let alice sign for another domain" "$(nsigs c-unlisted-auth)" 0
write_conf
kill -HUP "$dg_pid"
for _ in $(seq 100); do [ "$(grep -c 'reloaded config=' "$log")" -ge 2 ] && break; sleep 0.05; done
check "reload back to the table without \"*\"" grep -q 'reloaded config=.* signing_table=5' \
	<(grep 'reloaded' "$log" | tail -n 1)

# ================================================================================
echo "# 2. protocol variants"

for order in postfix sendmail; do
	mc "order-sign-$order" --order "$order" -c 10.1.2.3 -o "$O/order-$order.eml" "$M/plain.eml"
	expect_eq "$order order, signing: 2 signatures, accept" \
		"$(nsigs "order-sign-$order") $(verdict "order-sign-$order")" "2 accept"
	check "  they verify" dkverify "$O/order-$order.eml" 2
	mc "order-verify-$order" --order "$order" -c 192.0.2.1 "$O/order-$order.eml"
	check "$order order, verifying: one A-R, both pass, aligned" archeck "order-verify-$order" \
		'dkim=pass|header.s=a1' 'dkim=pass|header.s=ed' 'dkim-alignment=aligned-pass'
done

for i in 1 2 3 4 5; do
	msg "$M/multi$i.eml" "user$i@example.com" "message $i" "Body number $i"
done
for order in postfix sendmail; do
	mc "multi-$order" --order "$order" -c 10.1.2.3 -k 0 -o "$O/multi-$order.eml" \
		"$M"/multi[1-5].eml
	n=$(grep -c '^msg=[1-5] verdict=accept$' "$O/multi-$order.out")
	expect_eq "five different messages on one connection ($order): 5 accepted, 10 signatures" \
		"$n $(nsigs "multi-$order")" "5 10"
	nbh=$("$py" "$pcheck" sigs "$O/multi-$order.out" | sed 's/.* bh=//' | sort -u | wc -l)
	expect_eq "  five different body hashes" "$nbh" 5
	good=0
	for i in 1 2 3 4 5; do
		dkverify "$O/multi-$order.eml.$i" 2 && grep -q "^Subject: message $i" "$O/multi-$order.eml.$i" &&
			good=$((good + 1))
	done
	expect_eq "  each of the five verifies, with its own content" "$good" 5
	mc "multi-v-$order" --order "$order" -c 192.0.2.1 -k 0 "$O"/multi-"$order".eml.[1-5]
	check "  verified again on one connection: each has one A-R, both pass" \
		archeck "multi-v-$order" --msgs 5 'dkim=pass' 'dkim=pass' 'dkim-alignment=aligned-pass'
done
mc nk-sign -c 10.1.2.3 -n 5 -k 5 -o "$O/nk.eml" "$M/plain.eml"
good=0
for i in 1 2 3 4 5; do dkverify "$O/nk.eml.$i" 2 && good=$((good + 1)); done
expect_eq "-n 5 -k 5 signing: 5 messages x 2 signatures, all verify" \
	"$(nsigs nk-sign) $good" "10 5"
mc nk-verify -c 192.0.2.1 -n 5 -k 5 "$O/nk.eml.1"
check "-n 5 -k 5 verifying: one A-R per message, all pass" \
	archeck nk-verify --msgs 5 'dkim=pass' 'dkim=pass' 'dkim-alignment=aligned-pass'

# A body of several chunks, for aborts, disconnects and chunk sizes.
{
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: chunks\r\n\r\n'
	for i in $(seq 1 600); do
		printf 'line %d: the quick brown fox jumps over the lazy dog  \t \r\n' "$i"
		[ $((i % 50)) = 0 ] && printf '\r\n\r\n'
	done
	printf '\r\n\r\n\r\n'
} >"$M/chunks.eml"
dsign "$M/chunks.eml" "$M/chunks-signed.eml" a1 example.com a1

for stage in header eoh body; do
	mc "abort-sign-$stage" -c 10.1.2.3 -b 4096 -k 0 --show-optneg --abort-after "$stage@1" \
		-o "$O/abort-sign-$stage.eml" "$M/chunks.eml" "$M/plain.eml"
	expect_eq "abort after $stage (signing), then a good message on the same connection" \
		"$(grep -c '^msg=1 aborted' "$O/abort-sign-$stage.out") $(grep -c '^msg=2 insheader idx=0 name=DKIM-Signature' \
		"$O/abort-sign-$stage.out") $(verdict "abort-sign-$stage" 2) $(grep -c '^conn=[0-9]* optneg' \
		"$O/abort-sign-$stage.out") connection" "1 2 accept 1 connection"
	check "  the good message verifies" dkverify "$O/abort-sign-$stage.eml.2" 2
	mc "abort-verify-$stage" -c 192.0.2.1 -b 4096 -k 0 --abort-after "$stage@1" \
		"$M/chunks-signed.eml" "$O/auth-ok.eml"
	check "abort after $stage (verifying, key lookup in flight), then a good message" \
		grep -q '^msg=1 aborted' "$O/abort-verify-$stage.out"
	sed -i '/^msg=1 /d' "$O/abort-verify-$stage.out"
	check "  the good message: one A-R, pass" archeck "abort-verify-$stage" \
		'dkim=pass' 'dkim=pass' 'dkim-alignment=aligned-pass'
	still_alive "abort after $stage"
done

for mode in sign verify; do
	if [ $mode = sign ]; then c=10.1.2.3 f=$M/chunks.eml; else c=192.0.2.1 f=$M/chunks-signed.eml; fi
	mc "disc-$mode" -c "$c" -b 1000 --disconnect-after body@1 "$f" "$f"
	check "client disconnects mid-body ($mode): reported" \
		grep -q '^msg=1 disconnected stage=body' "$O/disc-$mode.out"
	still_alive "client disconnected mid-body ($mode)"
	ok "  daemon still running"
	if [ $mode = sign ]; then
		expect_eq "  next message, new connection: signed" "$(nsigs "disc-$mode") $(verdict "disc-$mode" 2)" \
			"2 accept"
	else
		sed -i '/^msg=1 /d' "$O/disc-$mode.out"
		check "  next message, new connection: verified, pass" archeck "disc-$mode" \
			'dkim=pass' 'dkim-alignment=aligned-pass'
	fi
done
mc disc-eoh -c 192.0.2.1 --disconnect-after eoh "$M/chunks-signed.eml"
still_alive "client disconnected after end of headers with a key lookup in flight"
mc after-disc -c 10.1.2.3 "$M/plain.eml"
expect_eq "disconnect after eoh (lookup in flight): next connection served" "$(nsigs after-disc)" 2

declare -A bh=()
for variant in "-b 1" "-b 7" "-b 1000 -B 42" "-b 333 -B 7" "-b 65535"; do
	# shellcheck disable=SC2086
	mc chunk $variant -c 10.1.2.3 -o "$O/chunk.eml" "$M/chunks.eml"
	bh[$variant]=$("$py" "$pcheck" sigs "$O/chunk.out" | sed 's/.* bh=//' | sort -u | tr '\n' ' ')
	check "body chunks $variant: 2 signatures that verify" \
		eval '[ "$(nsigs chunk)" = 2 ] && dkverify "$O/chunk.eml" 2'
done
nb=$(printf '%s\n' "${bh[@]}" | sort -u | wc -l)
expect_eq "  the same bh= for every chunking (and both keys)" "$nb $(wc -w <<<"${bh[-b 1]}")" "1 1"

tr -d '\r' <"$M/chunks.eml" >"$M/chunks-lf.eml"
mc lf -c 10.1.2.3 -o "$O/lf.eml" "$M/chunks-lf.eml"
expect_eq "LF-only input: same bh= as CRLF" \
	"$("$py" "$pcheck" sigs "$O/lf.out" | sed 's/.* bh=//' | sort -u) " "${bh[-b 1]}"
check "  and it verifies" dkverify "$O/lf.eml" 2
tr -d '\r' <"$M/chunks-signed.eml" >"$M/chunks-signed-lf.eml"
mc lf-verify -c 192.0.2.1 "$M/chunks-signed-lf.eml"
check "LF-only signed input verifies: pass" archeck lf-verify 'dkim=pass' 'dkim-alignment=aligned-pass'

# ================================================================================
echo "# 3. verifying"

mc v-basic -c 192.0.2.1 -o "$O/v-basic.eml" "$O/auth-ok.eml"
check "A-R of a good message: at index 0, one field, parses, both pass" archeck v-basic \
	'dkim=pass|header.d=example.com|header.s=a1|policy.align=strict' \
	'dkim=pass|header.d=example.com|header.s=ed' \
	'dkim-alignment=aligned-pass|header.from=example.com'
expect_eq "  verdict accept, first header field of the message is ours" \
	"$(verdict v-basic) $(head -n 1 "$O/v-basic.eml" | tr -d '\r' | cut -d' ' -f1-2)" \
	"accept Authentication-Results: $AUTHSERV;"

{
	printf 'Authentication-Results: %s; dkim=pass header.d=evil.example\r\n' "$AUTHSERV"
	printf 'Authentication-Results: other.example.net; dkim=pass header.d=example.com\r\n'
	printf 'Authentication-Results: (looks harmless)\r\n MX.Example.ORG 1; dkim=pass\r\n'
	printf 'Authentication-Results: %s.evil.example; dkim=pass\r\n' "$AUTHSERV"
	printf 'Authentication-Results: "%s"; dkim=pass\r\n' "$AUTHSERV"
	cat "$O/auth-ok.eml"
} >"$M/forged.eml"
mc forged -c 192.0.2.1 -o "$O/forged.eml" "$M/forged.eml"
expect_eq "forged A-R of our id deleted (plain, behind a comment in another case, quoted), highest first" \
	"$(grep chgheader "$O/forged.out" | tr '\n' ' ')" \
	"msg=1 chgheader idx=5 name=Authentication-Results value= msg=1 chgheader idx=3 name=Authentication-Results value= msg=1 chgheader idx=1 name=Authentication-Results value= "
check "  the signed message still passes" archeck forged 'dkim=pass' 'dkim=pass' 'dkim-alignment=aligned-pass'
expect_eq "  result: our A-R first, other.example.net and $AUTHSERV.evil.example kept" \
	"$(grep -i '^Authentication-Results:' "$O/forged.eml" | cut -d' ' -f2 | tr -d '\r' | tr '\n' ' ')" \
	"$AUTHSERV; other.example.net; $AUTHSERV.evil.example; "

{
	for i in $(seq 1 40); do
		printf 'Authentication-Results: %s; dkim=pass header.d=forged%d.example\r\n' "$AUTHSERV" "$i"
		printf 'Authentication-Results: keep%d.example.net; none\r\n' "$i"
	done
	cat "$O/auth-ok.eml"
} >"$M/forged40.eml"
mc forged40 -c 192.0.2.1 -o "$O/forged40.eml" "$M/forged40.eml"
expect_eq "40 forged A-R of our id: all 40 deleted, the 40 others kept" \
	"$(grep -c "^Authentication-Results: $AUTHSERV" "$O/forged40.eml") $(grep -c '^Authentication-Results: keep' "$O/forged40.eml")" \
	"1 40"
check "  and one A-R inserted" archeck forged40 '*3'

# Too many signatures: 4 unaligned on top of 2 aligned; max_signatures = 3.
dsign "$M/plain.eml" "$M/s1.eml" a1 example.com a1
dsign "$M/s1.eml" "$M/s2.eml" ed example.com ed
dsign "$M/s2.eml" "$M/s3.eml" b1 example.net b1
dsign "$M/s3.eml" "$M/s4.eml" esp esp.example.net cust42
dsign "$M/s4.eml" "$M/s5.eml" b1 example.net b1
dsign "$M/s5.eml" "$M/many.eml" esp esp.example.net cust42
mc many -c 192.0.2.1 "$M/many.eml"
check "6 signatures, max_signatures 3: both aligned verified, then the first unaligned; rest policy" \
	archeck many 'dkim=pass|header.d=esp.example.net' \
	'dkim=policy|header.d=example.net|reason~not verified: too many signatures' \
	'dkim=policy|header.d=esp.example.net|reason~not verified: too many signatures' \
	'dkim=policy|header.d=example.net|reason~not verified: too many signatures' \
	'dkim=pass|header.d=example.com|header.s=ed' 'dkim=pass|header.d=example.com|header.s=a1' \
	'dkim-alignment=aligned-pass'
check "  only 3 key lookups were made" \
	grep -q 'results=pass:esp.example.net/cust42,policy:example.net/b1,policy:esp.example.net/cust42,policy:example.net/b1,pass:example.com/ed,pass:example.com/a1' \
	<(newlog)

sed 's/^Hello,/Hello, changed/' "$O/auth-ok.eml" >"$M/tampered.eml"
mc reject -c 192.0.2.1 "$M/tampered.eml"
expect_eq "on_fail = reject: body changed -> 550 with the configured text" \
	"$(verdict reject)" 'replycode code="550 5.7.1 proto test: DKIM failed"'
check "  A-R: dkim=fail twice" archeck reject 'dkim=fail' 'dkim=fail' 'dkim-alignment=fail'

dsign "$M/plain.eml" "$M/servfail.eml" b1 servfail.example.net b1
mc tempfail -c 192.0.2.1 "$M/servfail.eml"
expect_eq "on_temperror = tempfail: key zone SERVFAIL -> 451 with the configured text" \
	"$(verdict tempfail)" 'replycode code="451 4.7.1 proto test: DKIM lookup failed"'
check "  A-R: dkim=temperror" archeck tempfail 'dkim=temperror|header.d=servfail.example.net' 'dkim-alignment=fail'
# A pass next to the temperror: accept.
dsign "$M/servfail.eml" "$M/servfail2.eml" a1 example.com a1
mc tempfail-pass -c 192.0.2.1 "$M/servfail2.eml"
expect_eq "  a passing signature beside it: accept" "$(verdict tempfail-pass)" accept

# python3-dkim makes l= and old t= signatures, which dkimctl does not.
"$py" - "$K/a1.rsa" "$M/plain.eml" "$M/partial.eml" "$M/old.eml" <<'PY' || die "python3-dkim signing"
import sys, time, dkim
key = open(sys.argv[1], 'rb').read()
msg = open(sys.argv[2], 'rb').read()
hdrs = [b'from', b'to', b'subject', b'date']
s = dkim.sign(msg, b'a1', b'example.com', key, canonicalize=(b'relaxed', b'relaxed'),
              include_headers=hdrs, length=True)
open(sys.argv[3], 'wb').write(s + msg + b'appended after signing\r\n')
real = time.time
time.time = lambda: real() - 7200
s = dkim.sign(msg, b'a1', b'example.com', key, canonicalize=(b'relaxed', b'relaxed'),
              include_headers=hdrs)
time.time = real
open(sys.argv[4], 'wb').write(s + msg)
PY
check "control: dkimctl verify passes the l= and the 2-hour-old signature" \
	eval 'dkverify "$M/partial.eml" 1 && dkverify "$M/old.eml" 1'
mc partial -c 192.0.2.1 "$M/partial.eml"
check "partial_body_policy: a pass with l= becomes policy" archeck partial \
	'dkim=policy|reason~l= leaves part of the body unsigned' 'dkim-alignment=fail'
mc old -c 192.0.2.1 "$M/old.eml"
check "max_age 3600: a pass with t= 2 hours ago becomes policy" archeck old \
	'dkim=policy|reason~older than 3600' 'dkim-alignment=fail'
expect_eq "  on_policy = accept" "$(verdict partial) $(verdict old)" "accept accept"

# From: variants (unsigned, and signed where the author is clear).
n=0
fromcase() {	# NAME FROM-LINES EXPECTED-ALIGNMENT
	n=$((n + 1))
	{
		printf '%b' "$2"
		printf 'To: bob@example.net\r\nSubject: from case %s\r\n\r\nbody\r\n' "$1"
	} >"$M/from-$1.eml"
	mc "from-$1" -c 192.0.2.1 "$M/from-$1.eml"
	check "From: $1: verdict $(verdict "from-$1"), $3" archeck "from-$1" 'dkim=none' "$3"
}
fromcase none '' 'dkim-alignment=none|reason=no From: address'
fromcase two-fields 'From: a@example.com\r\nFrom: b@example.com\r\n' \
	'dkim-alignment=none|reason=several From: addresses'
fromcase two-addresses 'From: a@example.com, "B" <b@example.org>\r\n' \
	'dkim-alignment=none|reason=several From: addresses'
fromcase group 'From: Team: alice@example.com, bob@example.com;\r\n' \
	'dkim-alignment=none|reason=several From: addresses'
fromcase empty-group 'From: undisclosed-recipients:;\r\n' \
	'dkim-alignment=none|reason=no From: address'
fromcase no-domain 'From: just-a-name\r\n' \
	'dkim-alignment=fail|reason=From: address does not parse'
fromcase empty 'From:\r\n' 'dkim-alignment=none|reason~From'
fromcase group-one 'From: Team: alice@example.com;\r\n' 'dkim-alignment=none|header.from=example.com'
fromcase comments 'From: "Doe, John (Sales) \\"JD\\"" <john@example.com> (comment; "x" <y@z>)\r\n' \
	'dkim-alignment=none|header.from=example.com'
dsign "$M/from-comments.eml" "$M/from-comments-signed.eml" a1 example.com a1
mc from-comments-signed -c 192.0.2.1 "$M/from-comments-signed.eml"
check "From: with quotes and comments, signed: aligned-pass header.from=example.com" \
	archeck from-comments-signed 'dkim=pass' 'dkim-alignment=aligned-pass|header.from=example.com'

# Hostile tag values in DKIM-Signature: none may break our field.
good_sig=$(sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$M/s1.eml" | sed '$d')
inj=()
injcase() {	# NAME DKIM-SIGNATURE-FIELD (printf %b)
	{
		printf '%b\r\n' "$2"
		cat "$M/plain.eml"
	} >"$M/inj-$1.eml"
	inj+=("$M/inj-$1.eml")
}
base='v=1; a=rsa-sha256; c=relaxed/relaxed; h=from:to:subject; bh=AAAA; b=AAAA'
injcase d-quote "DKIM-Signature: $base; d=exam\"ple.com; s=a1"
injcase s-quote "DKIM-Signature: $base; d=example.com; s=\"a1\""
injcase i-quote "DKIM-Signature: $base; d=example.com; s=a1; i=\"x\"@example.com"
injcase i-semicolon "DKIM-Signature: $base; d=example.com; s=a1; i=@example.com\\\\\"; dkim=pass"
injcase d-fold "DKIM-Signature: $base; d=example.com\r\n X-Injected: yes; s=a1"
injcase s-fold "DKIM-Signature: $base; d=example.com; s=a\r\n\t1"
injcase s-cr "DKIM-Signature: $base; d=example.com; s=a1\rX-Injected: yes"
injcase d-lf "DKIM-Signature: $base; d=example.com\nX-Injected: yes; s=a1"
injcase d-paren "DKIM-Signature: $base; d=(dkim=pass)example.com; s=a1"
injcase s-paren "DKIM-Signature: $base; d=example.com; s=a1 (comment"
injcase s-backslash "DKIM-Signature: $base; d=example.com; s=a1\\\\"
injcase s-space "DKIM-Signature: $base; d=example.com; s=a 1 dkim=pass"
injcase d-8bit "DKIM-Signature: $base; d=ex\xc3\xa4mple.com; s=s\xe9lector"
injcase i-8bit "DKIM-Signature: $base; d=example.com; s=a1; i=\xff\xfe@example.com"
injcase all "DKIM-Signature: $base; d=\"x\\\\\"; s=(\"\r\n\t;\"); i=@\"(\r\n X:"
injcase sig-semicolon "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=a1;; ;= ; =x; h=from; bh=AA; b=AA"
mc inj -c 192.0.2.1 -k 0 "${inj[@]}"
check "hostile d=/s=/i= values (${#inj[@]} messages): one A-R each, well formed, parses" \
	archeck inj --msgs ${#inj[@]} '*2'
still_alive "hostile d=/s=/i= values"
# The same signatures next to a real one, each one in a message.
for f in "${inj[@]}"; do
	{
		printf '%s\r\n' "$good_sig" | sed 's/\r\r$/\r/'
		cat "$f"
	} >"${f%.eml}-2.eml"
done
mc inj2 -c 192.0.2.1 -k 0 "${inj[@]/%.eml/-2.eml}"
check "  beside a good signature: still one parsable A-R each, 3 results" \
	archeck inj2 --msgs ${#inj[@]} '*3'
check "  the good signature passes in each" \
	[ "$(grep -c 'dkim=pass' "$O/inj2.ar")" = ${#inj[@]} ]

# ================================================================================
echo "# 4. hostile input"

# hostile ID DESCRIPTION FILE: sign and verify mode; each gets a verdict, the
# daemon stays alive, and verifying inserts exactly one A-R.
hostile() {
	local mode c id
	for mode in sign verify; do
		[ $mode = sign ] && c=10.1.2.3 || c=192.0.2.1
		id=h-$1-$mode
		mc "$id" -c "$c" "$3"
		if [ "$mc_rc" = 0 ] && grep -q '^msg=1 verdict=' "$O/$id.out" && alive "$dg_pid" &&
		    { [ $mode = sign ] || [ "$(nars "$id")" = 1 ]; }; then
			ok "$2 ($mode): verdict $(verdict "$id" | cut -c1-70), daemon alive"
		else
			not_ok "$2 ($mode): rc=$mc_rc verdict '$(verdict "$id")' A-R $(nars "$id"); $(head -c 300 "$O/$id.err")"
			still_alive "$2 ($mode)"
		fi
	done
}
long() { head -c "$1" /dev/zero | tr '\0' x; }
{
	printf 'From: alice@example.com\r\nX-Long: '
	long 204800
	printf '\r\nSubject: long\r\n\r\nbody\r\n'
} >"$M/h-200k.eml"
hostile 200k "a 200 KB header field" "$M/h-200k.eml"
{
	printf 'From: alice@example.com\r\nX-Long: '
	for _ in $(seq 1 300); do long 1000; printf '\r\n '; done
	printf 'end\r\nSubject: long\r\n\r\nbody\r\n'
} >"$M/h-300k.eml"
hostile 300k "a folded 300 KB header field (over the 256 KB limit)" "$M/h-300k.eml"
{
	printf 'From: alice@example.com\r\n'
	for i in $(seq 1 3000); do printf 'X-Field-%d: value %d\r\n' "$i" "$i"; done
	printf 'Subject: many\r\n\r\nbody\r\n'
} >"$M/h-3000.eml"
hostile 3000 "3000 header fields" "$M/h-3000.eml"
{
	for i in $(seq 1 50); do
		printf '%s\r\n' "$good_sig" | sed "s/s=a1;/s=a$i;/"
	done
	cat "$M/plain.eml"
} >"$M/h-50sig.eml"
hostile 50sig "50 DKIM-Signature fields" "$M/h-50sig.eml"
# The engine looks at the first LIMIT_SIGNATURES (32) fields (milter/core/bounds.h);
# the other 18 are reported in one dkim=policy result.
check "  50 signatures (verify): one A-R that parses, 32 results + 1 for the rest + alignment" \
	archeck h-50sig-verify '*34'
grep -q 'dkim=policy reason="18 more signatures not evaluated (limit 32)"' "$O/h-50sig-verify.out" \
	&& ok "  50 signatures: the 18 past the limit are reported" \
	|| not_ok "  50 signatures: no result for the 18 past the limit"

{
	printf 'From: alice@example.com\r\nX-Nul: before\0after\r\nSubject: nul\0\r\n\r\nbody\0with\0nuls\r\n\0\r\n'
} >"$M/h-nul.eml"
hostile nul "NUL bytes in header and body" "$M/h-nul.eml"
{
	printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=a1; h=from; bh=!!!*&^%%; b=@@@==\r\n'
	printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=a1; h=from; bh=A===; b=====\r\n'
	printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=badp; h=from; bh=AAAA; b=AAAA\r\n'
	cat "$M/plain.eml"
} >"$M/h-b64.eml"
hostile b64 "invalid base64 in b=, bh= and a key's p=" "$M/h-b64.eml"
check "  invalid base64: three results, no pass" archeck h-b64-verify \
	'dkim=permerror' 'dkim=permerror' 'dkim=permerror' 'dkim-alignment=fail'
{
	printf 'From: alice@example.com\r\nSubject: '
	head -c 3000 /dev/urandom | base64 -w0
	printf '\r\n\r\n'
	head -c 100000 /dev/urandom
} >"$M/h-binary.eml"
hostile binary "8-bit binary body" "$M/h-binary.eml"
printf 'From: alice@example.com\r\nSubject: x\r\n' >"$M/h-nobody.eml"
hostile nobody "header only, no body" "$M/h-nobody.eml"
still_alive "hostile input"

# ================================================================================
echo "# 6. shutdown"
kill -TERM "$dg_pid"
wait "$dg_pid"
rc=$?
dg_pid=''
expect_eq "SIGTERM: dkimgate exits 0, logs stopped inflight=0" \
	"$rc $(grep -c 'stopped inflight=0' "$log")" "0 1"
sanitizer_report
proto_finish
