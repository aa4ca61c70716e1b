#!/bin/bash
# run-keytable.sh - the key table through the daemon socket: keys decoded
# on first use, and a key that cannot be used.
#
# One dkimgate -f (unix socket, key_check off) with two domains:
# good.example (a valid key) and bad.example (its key file holds no key).
# Checks, one "ok - ..." or "not ok - ..." line each:
#  1. The daemon starts although bad.example's key does not decode (it is
#     decoded on first use, not at start); good.example signs.
#  2. Two messages from bad.example are tempfailed (sign.on_error default);
#     the key problem is logged once ("error event=key"), each message's
#     failure once per message; good.example still signs in between.
#  3. After a reload with sign.on_error = "accept", bad.example's mail
#     passes unsigned.
#  4. A valid key written over bad.example's file signs the next message,
#     without a reload.
#  5. Key checks in the background: a key directory of four keys, one
#     published, one missing from DNS, one published with another key, one
#     whose file holds no key, key_check = "warn" and key_check_rate = 2:
#     the daemon signs before the checks are done (the summary line comes
#     after the first signed message), the checks log one summary line,
#     "keycheck summary keys=4 checked=4 ok=1 missing=1 mismatching=1
#     unknown=1"; a reload starts a new pass and stops the old one.
#
# Run by "make check" or by hand; DKIMGATE=, DKIMCTL=, MILTERCLIENT=
# override the programs; KEEP=1 keeps the work directory.  Exit status: 0
# all checks passed, 1 a check failed, 77 skipped (a tool is missing and CI
# is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
proto_require
proto_setup keytable

genkey rsa good
printf 'this is not a key\n' >"$K/bad.pem"
chmod 600 "$K/bad.pem"
write_conf() {
	cat >"$conf.new" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
key_check = "off";
state_dir = "";
keys = (
  { id = "good"; domain = "good.example"; selector = "s1"; file = "$K/good.pem"; },
  { id = "bad"; domain = "bad.example"; selector = "s1"; file = "$K/bad.pem"; }
);
signing_table = (
  { from = "good.example"; keys = [ "good" ]; },
  { from = "bad.example"; keys = [ "bad" ]; }
);
sign = { internal_networks = [ "127.0.0.0/8" ]; on_error = "$1"; };
dns = { resolver = "127.0.0.1@9"; trust_anchor = ""; timeout = 1; };
CONF
	mv "$conf.new" "$conf"
}
for d in good bad; do
	printf '%s\r\n' "From: <a@$d.example>" 'To: b@example.net' "Subject: $d" \
		"Message-ID: <$d@example.net>" '' 'Hello.' >"$M/$d.eml"
done
# wait_log REGEX N: until the log has N lines matching REGEX (10 s at most).
wait_log() {
	local i
	for i in $(seq 200); do
		[ "$(grep -Ec -- "$1" "$log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- 1 ----
write_conf tempfail
# -n decodes every key, so it refuses the table; the daemon does not.
if "$DKIMGATE" -n -c "$conf" >"$O/n.out" 2>&1; then
	not_ok "dkimgate -n accepts a key file that holds no key"
else
	check "dkimgate -n names the key that does not decode" grep -q "key 'bad'" "$O/n.out"
fi
"$DKIMGATE" -f -c "$conf" 2>"$log" &
dg_pid=$!
for _ in $(seq 200); do grep -q "started version=" "$log" && break; sleep 0.05; done
check "the daemon starts with an undecodable key in its table" test -S "$sock"
mc good1 "$M/good.eml"
expect_eq "good.example signs" "$(selectors good1) $(verdict good1)" "good.example/s1 accept"

# ---- 2 ----
mc bad1 "$M/bad.eml"
expect_eq "bad.example: tempfail, no signature" "$(nsigs bad1) $(verdict bad1)" \
	'0 replycode code="451 4.3.0 message could not be signed, try later" stage=eoh'
mc good2 "$M/good.eml"
expect_eq "good.example still signs" "$(selectors good2)" "good.example/s1"
mc bad2 "$M/bad.eml"
expect_eq "bad.example again: tempfail" "$(verdict bad2 | cut -d' ' -f1-3)" 'replycode code="451 4.3.0'
expect_eq "the key problem is logged once" \
	"$(grep -c "error event=key key=bad domain=bad.example selector=s1 reason=\"$K/bad.pem: " "$log")" 1
expect_eq "each failed message is logged" \
	"$(grep -c 'error event=sign key=bad reason="key unusable: .*" action=tempfail' "$log")" 2
expect_eq "a failed signer is not logged a second time" \
	"$(grep -c 'error event=sign reason=' "$log")" 0
still_alive "after the failed key"

# ---- 3 ----
write_conf accept
kill -HUP "$dg_pid"
check "reload with sign.on_error = accept" wait_log 'reloaded config=' 1
mc bad3 "$M/bad.eml"
expect_eq "bad.example passes unsigned" "$(nsigs bad3) $(verdict bad3)" "0 accept stage=eoh"

# ---- 4 ----
cp "$K/good.pem" "$K/bad.pem.new"
mv "$K/bad.pem.new" "$K/bad.pem"
mc bad4 "$M/bad.eml"
expect_eq "a valid key in bad.example's file signs without a reload" \
	"$(selectors bad4) $(verdict bad4)" "bad.example/s1 accept"

# ---- 5 ----
echo "# 5. key checks in the background"
stop_pid "$dg_pid"
dg_pid=''
D=$work/keys.d
mkdir -m 700 "$D"
for n in pub gone other; do genkey ed "$n"; done
cp "$K/pub.pem" "$D/pub.example.s1.pem"
cp "$K/gone.pem" "$D/gone.example.s1.pem"
cp "$K/pub.pem" "$D/other.example.s1.pem"
printf 'garbage\n' >"$D/junk.example.s1.pem"
chmod 600 "$D"/*.pem
printf '%s\tTXT\t%s\n' \
	s1._domainkey.pub.example "$(ed_rec "$K/pub.pem")" \
	s1._domainkey.other.example "$(ed_rec "$K/other.pem")" \
	s1._domainkey.junk.example "$(ed_rec "$K/pub.pem")" >"$work/records.tsv"
port=$("$testdns" start "$work/dns" "$work/records.tsv") || die "test DNS server did not start"
cat >"$conf" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
key_check = "warn";
key_check_rate = 2;
state_dir = "";
sign = { internal_networks = [ "127.0.0.0/8" ]; };
dns = { resolver = "127.0.0.1@$port"; trust_anchor = ""; timeout = 2; };
sources = ( { type = "directory"; path = "$D"; } );
CONF
printf '%s\r\n' "From: <a@pub.example>" 'To: b@example.net' "Subject: pub" \
	"Message-ID: <pub@example.net>" '' 'Hello.' >"$M/pub.eml"
: >"$log"
"$DKIMGATE" -f -c "$conf" 2>"$log" &
dg_pid=$!
for _ in $(seq 200); do grep -q "started version=" "$log" && break; sleep 0.05; done
mc pub1 "$M/pub.eml"
expect_eq "the daemon signs before the key checks are done" \
	"$(selectors pub1) $(grep -c 'keycheck summary' "$log")" "pub.example/s1 0"
check "the checks end with one summary line" wait_log 'keycheck summary' 1
check "  checked=4 ok=1 missing=1 mismatching=1 unknown=1" \
	grep -q 'keycheck summary keys=4 checked=4 ok=1 missing=1 mismatching=1 unknown=1 ' "$log"
check "  the missing key is named" \
	grep -q 'event=keycheck key=gone.example.s1 name=s1._domainkey.gone.example code=record-nxdomain' "$log"
check "  the mismatching key is named" \
	grep -q 'event=keycheck key=other.example.s1 .*code=match-differs' "$log"
check "  the undecodable key is named" grep -q 'event=keycheck key=junk.example.s1 .*code=key-file' "$log"
kill -HUP "$dg_pid"
check "a reload starts a new pass" wait_log 'keycheck start keys=4' 2
kill -HUP "$dg_pid"
check "  and another reload stops it: its summary says stopped=reload" \
	wait_log 'keycheck summary .* stopped=reload' 1
check "  the last pass ends" wait_log 'keycheck summary keys=4 checked=4 ' 2
still_alive "at the end"
sanitizer_report
proto_finish
