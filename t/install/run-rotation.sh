#!/usr/bin/env bash
# run-rotation.sh - key rotation without gaps: the daemon signs with a
# successor key only once its public key is published in DNS and matches
# (and its planned time has come), keeps the old key until then, and records
# the switch for dkimctl testkey.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DKIMGATE=${DKIMGATE:-$top_builddir/dkimgate}
DKIMCTL=${DKIMCTL:-$top_builddir/dkimctl}
MILTERCLIENT=${MILTERCLIENT:-$top_builddir/t/milterclient}
TESTDNS=$top_srcdir/t/dns/testdns
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

for tool in unbound openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "skip: $tool missing"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
done

work=$(mktemp -d /tmp/dkimgate-rot.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	"$TESTDNS" stop "$work/dns" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

for k in old new later; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$k.pem" 2>/dev/null
	chmod 600 "$work/$k.pem"
done
pubrec() { echo "v=DKIM1; k=rsa; p=$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)"; }
printf '%s\tTXT\t%s\n' "s1._domainkey.rot.example.com" "$(pubrec "$work/old.pem")" \
	"l1._domainkey.later.example.com" "$(pubrec "$work/old.pem")" \
	"l2._domainkey.later.example.com" "$(pubrec "$work/later.pem")" > "$work/before.tsv"
cp "$work/before.tsv" "$work/after.tsv"
printf '%s\tTXT\t%s\n' "s2._domainkey.rot.example.com" "$(pubrec "$work/new.pem")" >> "$work/after.tsv"
port=$("$TESTDNS" start "$work/dns" "$work/before.tsv") || { notok "test DNS server"; exit 1; }
mkdir "$work/state"

cat > "$work/dkimgate.conf" <<CONF
socket = "unix:$work/sock";
log = "stderr";
authserv_id = "mx.example.org";
state_dir = "$work/state";
key_check_interval = 1;
keys = (
  { id = "rot"; domain = "rot.example.com"; selector = "s1"; file = "$work/old.pem";
    successor = { selector = "s2"; file = "$work/new.pem"; }; },
  { id = "later"; domain = "later.example.com"; selector = "l1"; file = "$work/old.pem";
    successor = { selector = "l2"; file = "$work/later.pem"; after = "2999-01-01"; }; }
);
signing_table = ( { from = "rot.example.com"; keys = [ "rot" ]; },
                  { from = "later.example.com"; keys = [ "later" ]; } );
dns = { resolver = "127.0.0.1@$port"; trust_anchor = ""; timeout = 2; };
CONF
"$DKIMGATE" -n -c "$work/dkimgate.conf" >/dev/null || { notok "config"; exit 1; }
"$DKIMGATE" -f -c "$work/dkimgate.conf" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do [ -S "$work/sock" ] && break; sleep 0.05; done

sign() {	# from-domain output-file -> prints the s= of the signature
	printf 'From: a@%s\r\nTo: b@example.net\r\nSubject: rotation\r\n\r\nbody\r\n' "$1" > "$work/in.eml"
	"$MILTERCLIENT" -s "unix:$work/sock" -c 127.0.0.1 -o "$2" "$work/in.eml" >/dev/null
	# Unfold the DKIM-Signature, then take its s= tag.
	tr -d '\r' < "$2" | sed -n '/^DKIM-Signature:/,/^[^ \t]/p' | sed '$d' | tr -d '\n\t' |
		sed -n 's/.*[; ]s=\([^;]*\);.*/\1/p'
}
verify() {
	"$DKIMCTL" verify --resolver "127.0.0.1@$port" --timeout 2 "$1" | grep -c 'dkim=pass'
}
sleep 1
s=$(sign rot.example.com "$work/m1.eml")
[ "$s" = s1 ] && ok "successor not published: still signing with s1" || notok "signed with '$s' before s2 was published"
[ "$(verify "$work/m1.eml")" = 1 ] && ok "the s1 signature verifies" || notok "s1 signature does not verify"
grep -q 'rotate key=rot .*successor=s2 state=waiting' "$work/log" && ok "log says it waits for s2" \
	|| notok "no waiting line in the log"

"$TESTDNS" reload "$work/dns" "$work/after.tsv" >/dev/null || notok "DNS reload"
for _ in $(seq 60); do grep -q 'rotate key=rot .*state=switched' "$work/log" && break; sleep 0.1; done
grep -q 'rotate key=rot .*state=switched' "$work/log" && ok "switched once s2 appeared in DNS" \
	|| notok "did not switch after s2 was published"
s=$(sign rot.example.com "$work/m2.eml")
[ "$s" = s2 ] && ok "signing with s2 now" || notok "signed with '$s' after the switch"
[ "$(verify "$work/m2.eml")" = 1 ] && ok "the s2 signature verifies" || notok "s2 signature does not verify"
[ -s "$work/state/rotated-rot-s2" ] && ok "switch time recorded in state_dir" || notok "no state file"

out=$("$DKIMCTL" testkey --all -c "$work/dkimgate.conf" 2>&1)
grep -q 'rotation: wait - key rot switched to s2; keep s1._domainkey.rot.example.com published until' <<<"$out" \
	&& ok "testkey --all says how long the old record must stay" \
	|| notok "testkey --all gives no withdrawal advice: $out"
grep -q 'rotation: key later has not switched to l2 yet' <<<"$out" \
	&& ok "testkey --all says the later rotation has not happened" \
	|| notok "testkey --all: no advice for the pending rotation"
s=$(sign later.example.com "$work/m3.eml")
[ "$s" = l1 ] && ok "successor published but planned for later: still l1" || notok "switched early to '$s'"

[ $fail = 0 ] || cat "$work/log"
exit $fail
