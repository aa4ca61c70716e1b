#!/bin/bash
# run-hostile.sh - hostile input through the daemon's real milter socket,
# one table row per case.
#
# Starts the test DNS server (t/dns/testdns: keys of example.com, a key
# record repeated twice in one TXT string, one with an unknown k=, DMARC
# records) and one dkimgate -f; t/milterclient plays the MTA.  Each row of
# the table below names a case: build_ID writes its message (or its
# configuration), want_ID checks the answer (verdict, the
# Authentication-Results field parsed by python3-authres, the daemon log,
# the DNS server's query log).  After every row the daemon must still run.
#
# The cases: From: fields that do not parse or whose domain is not a domain
# (no DNS query made for them), forged Authentication-Results fields (ids
# with a trailing dot, eight with mixed ids, "example.org(.mx.example.org"
# ids: CVE-2022-48521 and CVE-2020-12272 classes), a flood of 2,000
# DKIM-Signature fields, h= listing From twice in different case, a key
# record repeated twice in one TXT, an unknown k=, l=0 and l= longer than
# the body, NUL and bare CR in header fields, more than 64 KiB of header
# and a header field of over 1 MiB (sign mode: a permanent, explained
# answer), key-table entries without a key or with a bare "*" (refused at
# load with file:line).
#
# Run by "make check" or by hand; DKIMGATE=, DKIMCTL=, MILTERCLIENT= point
# at another build (e.g. --enable-sanitizers); KEEP=1 keeps the work
# directory.  Exit status: 0 all passed, 1 a check failed, 77 skipped (a
# tool is missing and CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
proto_require
proto_setup hostile

# --- keys, DNS, daemon -------------------------------------------------------------

genkey rsa a1
genkey ed ed
genkey ed dup
genkey ed unk
openssl rsa -in "$K/a1.pem" -traditional -out "$K/a1.rsa" 2>/dev/null || die "openssl rsa"
{
	printf '%s\tTXT\t%s\n' \
		a1._domainkey.example.com "$(rsa_rec "$K/a1.pem")" \
		ed._domainkey.example.com "$(ed_rec "$K/ed.pem")" \
		dup._domainkey.example.com "$(ed_rec "$K/dup.pem"); $(ed_rec "$K/dup.pem")" \
		unk._domainkey.example.com "$(ed_rec "$K/unk.pem" | sed 's/k=ed25519/k=foo25519/')" \
		_dmarc.example.com 'v=DMARC1; p=none' \
		_dmarc.example.net 'v=DMARC1; p=none'
} >"$work/records.tsv"
port=$("$testdns" start "$work/dns" "$work/records.tsv") || die "test DNS server did not start"
resolver=127.0.0.1@$port
dnslog=$work/dns/unbound.log

# conf_text [EXTRA]: the daemon's configuration; EXTRA goes at the end.
conf_text() {
	cat <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
keys = (
  { id = "a1"; domain = "example.com"; selector = "a1"; file = "$K/a1.pem"; },
  { id = "ed"; domain = "example.com"; selector = "ed"; file = "$K/ed.pem"; }
);
signing_table = (
  { from = "example.com"; keys = [ "a1" ]; }
);
sign = { internal_networks = [ "10.0.0.0/8" ]; };
verify = { partial_body_policy = true; };
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = 5; };
${1:-}
CONF
}
conf_text >"$conf"
start_dkimgate
ok "dkimgate started (pid $dg_pid), DNS on port $port"

SIGN=10.1.2.3 VERIFY=192.0.2.1

# --- helpers -----------------------------------------------------------------------

# body_msg FILE FROM-LINE...: a message with these header lines (printf %b)
# before the usual To/Subject/Date, and a short body.
body_msg() {
	local f=$1
	shift
	{
		printf '%b\r\n' "$@"
		printf 'To: bob@example.net\r\nSubject: hostile\r\nDate: Mon, 2 Feb 2026 10:00:00 +0000\r\n'
		printf 'Message-ID: <%s@example.com>\r\n\r\nHello,\r\n\r\nbye\r\n' "$(basename "$f")"
	} >"$f"
}
# dsign IN OUT KEY SELECTOR: sign IN as example.com with dkimctl.
dsign() { "$DKIMCTL" sign -d example.com -s "$4" -k "$K/$3.pem" "$1" >"$2"; }
# dns_mark / dns_since REGEX: queries logged by the DNS server since the mark.
dns_mark() { dnsmark=$(wc -l <"$dnslog"); }
dns_since() { tail -n "+$((dnsmark + 1))" "$dnslog" | grep -Ec -- "$1"; }
chgs() { grep '^msg=1 chgheader' "$O/$1.out" | sed 's/ name=.*//; s/^msg=1 chgheader //' | tr '\n' ' '; }

# --- the table ---------------------------------------------------------------------
#
# ID | MODE (sign, verify, conf) | what the case is.  build_ID makes $M/ID.eml
# (or, for conf, a configuration); the row runs it through the daemon (mode
# sign: as an internal client, verify: as an external one) and want_ID
# judges: it returns non-zero and prints why on failure.

rows=$(cat <<'ROWS'
from-semicolon|verify|From: <alice@example.com; dkim=pass>: does not parse, no DNS query
from-semicolon-bare|verify|From: alice@example.com; dkim=pass: does not parse
from-quoted-domain|verify|From: alice@"example.com": quoted domain, does not parse, no DNS query
from-quoted-inject|verify|From: alice@"example.com; dkim=pass": does not parse, no DNS query
from-folded-domain|verify|From: a domain with a folded line inside: does not parse, no DNS query
from-underscore|verify|From: alice@exa_mple.com: not a domain, no DNS query
from-literal|verify|From: alice@[192.0.2.1]: a domain literal, no DNS query
from-bare-cr|verify|From: alice@example.com<CR>X: a bare CR, not the domain example.comx
from-comment-domain|verify|From: <user@example.net(.example.com)>: the comment is not the domain
from-idn|verify|From: a U-label domain: header.from and the DMARC query use its A-label
from-signed-bad|verify|signed message whose From: does not parse: alignment fail, not aligned-pass
ar-trailing-dot|verify|forged A-R with our id and a trailing dot: removed
ar-eight-mixed|verify|eight A-R fields with mixed ids: exactly ours removed
ar-comment-id|verify|A-R ids like example.org(.mx.example.org: only ours removed
sig-flood|verify|2,000 DKIM-Signature fields: one A-R, 32 evaluated, the rest reported
h-from-twice|verify|h= lists From twice in different case: pass; a From added later: fail
key-repeated|verify|key record repeated twice in one TXT string: permerror
key-unknown-k|verify|key record with an unknown k=: permerror
l-zero|verify|l=0 (no body signed) with text after it: policy, partial body
l-longer|verify|l= longer than the body received: fail with the reason
nul-header|verify|NUL in a header field: one well-formed A-R
nul-header-sign|sign|NUL in a header field (signing): a verdict
cr-header|verify|bare CR in a header field: one well-formed A-R
cr-header-sign|sign|bare CR in a header field (signing): signed, and it verifies
hdr-70k-sign|sign|70 KiB of header in 700 fields (signing): signed, and it verifies
field-1m-sign|sign|one header field of 1 MiB + 1 KiB (signing): 550 5.3.4 explained, logged with queue id and size
field-1m-verify|verify|one header field of 1 MiB + 1 KiB (verifying): an A-R, logged with queue id and size
field-3m-sign|sign|one header field of 3 MiB (signing): 550 5.3.4 explained, logged
conf-key-no-file|conf|a key without its file: refused at load with file:line
conf-table-no-key|conf|a signing_table entry with no key: refused at load with file:line
conf-star-no-key|conf|a bare "*" signing_table entry with no key: refused at load with file:line
conf-key-star-domain|conf|a key whose domain is a bare "*": refused at load with file:line
conf-key-star-selector|conf|a key whose selector is "*": refused at load with file:line
conf-key-bad-domain|conf|a key whose domain has a ';' in it: refused at load with file:line
ROWS
)

# --- From: ----------------------------------------------------------------------------

# want_bad_from NAME: alignment fail "From: address does not parse", no
# header.from, and no _dmarc query went to DNS.
want_bad_from() {
	archeck "$1" 'dkim=none' \
		'dkim-alignment=fail|reason=From: address does not parse|header.from=' || return 1
	[ "$(dns_since '_dmarc')" = 0 ] || { echo "# _dmarc queries made:"; tail -n "+$((dnsmark + 1))" "$dnslog" | grep _dmarc | sed 's/^/#   /'; return 1; }
	newlog | grep -q 'verified .*alignment=fail .*from_error="' ||
		{ echo "# no from_error in the log"; return 1; }
}
build_from-semicolon() { body_msg "$M/$1.eml" 'From: <alice@example.com; dkim=pass>'; }
want_from-semicolon() { want_bad_from "$1"; }
build_from-semicolon-bare() { body_msg "$M/$1.eml" 'From: alice@example.com; dkim=pass'; }
want_from-semicolon-bare() { want_bad_from "$1"; }
build_from-quoted-domain() { body_msg "$M/$1.eml" 'From: Alice <alice@"example.com">'; }
want_from-quoted-domain() { want_bad_from "$1"; }
build_from-quoted-inject() { body_msg "$M/$1.eml" 'From: alice@"example.com; dkim=pass"'; }
want_from-quoted-inject() { want_bad_from "$1"; }
build_from-folded-domain() { body_msg "$M/$1.eml" 'From: Alice <alice@exam\r\n ple.com>'; }
want_from-folded-domain() { want_bad_from "$1"; }
build_from-underscore() { body_msg "$M/$1.eml" 'From: alice@exa_mple.com'; }
want_from-underscore() { want_bad_from "$1"; }
build_from-literal() { body_msg "$M/$1.eml" 'From: alice@[192.0.2.1]'; }
want_from-literal() { want_bad_from "$1"; }
build_from-bare-cr() { body_msg "$M/$1.eml" 'From: alice@example.com\rX'; }
want_from-bare-cr() { want_bad_from "$1"; }
build_from-comment-domain() { body_msg "$M/$1.eml" 'From: <user@example.net(.example.com)>'; }
want_from-comment-domain() {
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=example.net' || return 1
	[ "$(dns_since '_dmarc\.example\.net\. ')" -ge 1 ] || { echo "# no _dmarc.example.net query"; return 1; }
}
build_from-idn() { body_msg "$M/$1.eml" 'From: J\xc3\xb6rg <joerg@b\xc3\xbccher.example.net>'; }
want_from-idn() {
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=xn--bcher-kva.example.net' || return 1
	[ "$(dns_since '_dmarc\.xn--bcher-kva\.example\.net\. ')" -ge 1 ] ||
		{ echo "# no _dmarc query for the A-label"; return 1; }
}
build_from-signed-bad() {
	body_msg "$M/$1.in" 'From: <alice@example.com; dkim=pass>'
	dsign "$M/$1.in" "$M/$1.eml" a1 a1
}
want_from-signed-bad() {
	archeck "$1" 'dkim=pass|header.d=example.com' \
		'dkim-alignment=fail|reason=From: address does not parse|header.from='
}

# --- forged Authentication-Results ----------------------------------------------------

build_ar-trailing-dot() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	{
		printf 'Authentication-Results: %s.; dkim=pass header.d=evil.example\r\n' "$AUTHSERV"
		printf 'Authentication-Results: MX.EXAMPLE.ORG.; dkim=pass\r\n'
		printf 'Authentication-Results: %s.evil.example; dkim=pass\r\n' "$AUTHSERV"
		cat "$M/$1.in"
	} >"$M/$1.eml"
}
want_ar-trailing-dot() {
	[ "$(chgs "$1")" = "idx=2 idx=1 " ] || { echo "# deleted: $(chgs "$1")"; return 1; }
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=example.com'
}
build_ar-eight-mixed() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	{
		printf 'Authentication-Results: %s\r\n' \
			"$AUTHSERV; dkim=pass" \
			"other.example.net; dkim=pass" \
			"(c) $AUTHSERV.; spf=pass" \
			"$AUTHSERV.other.example; dkim=pass" \
			"\"$AUTHSERV\"; dkim=pass" \
			"x$AUTHSERV; dkim=pass" \
			"Mx.Example.Org 1; dkim=pass" \
			"example.org; dkim=pass"
		cat "$M/$1.in"
	} >"$M/$1.eml"
}
want_ar-eight-mixed() {
	[ "$(chgs "$1")" = "idx=7 idx=5 idx=3 idx=1 " ] || { echo "# deleted: $(chgs "$1")"; return 1; }
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=example.com'
}
build_ar-comment-id() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	{
		printf 'Authentication-Results: example.org(.%s; dkim=pass\r\n' "$AUTHSERV"
		printf 'Authentication-Results: example.org(.%s); dkim=pass\r\n' "$AUTHSERV"
		printf 'Authentication-Results: %s(.example.org); dkim=pass\r\n' "$AUTHSERV"
		printf 'Authentication-Results: (%s) example.org; dkim=pass\r\n' "$AUTHSERV"
		cat "$M/$1.in"
	} >"$M/$1.eml"
}
want_ar-comment-id() {
	[ "$(chgs "$1")" = "idx=3 " ] || { echo "# deleted: $(chgs "$1")"; return 1; }
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=example.com'
}

# --- signatures and keys ---------------------------------------------------------------

build_sig-flood() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	dsign "$M/$1.in" "$M/$1.one" ed ed
	sig=$(sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$M/$1.one" | sed '$d')
	{
		for i in $(seq 1 1999); do printf '%s\r\n' "$sig" | sed "s/s=ed;/s=f$i;/" | sed 's/\r\r$/\r/'; done
		cat "$M/$1.one"
	} >"$M/$1.eml"
}
want_sig-flood() {
	archeck "$1" '*34' || return 1
	grep -q 'reason="1968 more signatures not evaluated (limit 32)"' "$O/$1.out" ||
		{ echo "# the 1968 past the limit are not reported"; return 1; }
}
# psign IN OUT H: RSA signature by a1 over IN with h= exactly H (mixed case
# kept), relaxed/relaxed, made here (dkimctl and python3-dkim lower-case h=).
psign() {
	"$py" - "$K/a1.pem" "$1" "$2" "$3" <<'PY'
import base64, hashlib, re, subprocess, sys
key, inp, outp, h = sys.argv[1:5]
msg = open(inp, 'rb').read()
head, body = msg.split(b'\r\n\r\n', 1)
fields = re.split(rb'\r\n(?![ \t])', head)
def relax(f):
    name, val = f.split(b':', 1)
    val = re.sub(rb'[ \t]+', b' ', re.sub(rb'\r\n', b'', val)).strip()
    return name.strip().lower() + b':' + val + b'\r\n'
b = re.sub(rb'[ \t]+\r\n', b'\r\n', re.sub(rb'[ \t]+', b' ', body))
b = re.sub(rb'(\r\n)+$', b'', b) + b'\r\n' if b.strip(b'\r\n') else b''
bh = base64.b64encode(hashlib.sha256(b).digest()).decode()
used, data = {}, b''
for n in h.split(':'):
    ln = n.lower().encode()
    cands = [f for f in fields if f.split(b':', 1)[0].strip().lower() == ln]
    k = used.get(ln, 0)
    if k < len(cands):
        data += relax(cands[len(cands) - 1 - k])
    used[ln] = k + 1
sig = ('DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=a1; '
       'h=%s; bh=%s; b=' % (h, bh)).encode()
data += relax(sig)[:-2]
s = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', key], input=data,
                   capture_output=True, check=True).stdout
open(outp, 'wb').write(sig + base64.b64encode(s) + b'\r\n' + msg)
PY
}
build_h-from-twice() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	psign "$M/$1.in" "$M/$1.eml" 'From:to:subject:FROM' || return 1
	{
		sed -n '1p' "$M/$1.eml"
		printf 'From: mallory@example.com\r\n'
		sed '1d' "$M/$1.eml"
	} >"$M/$1.added"
}
want_h-from-twice() {
	archeck "$1" 'dkim=pass|header.d=example.com' 'dkim-alignment=aligned-pass' || return 1
	mc "$1-added" -c "$VERIFY" "$M/$1.added"
	archeck "$1-added" 'dkim=fail|header.d=example.com' 'dkim-alignment=fail|reason=several From: addresses'
}
build_key-repeated() { body_msg "$M/$1.in" 'From: alice@example.com'; dsign "$M/$1.in" "$M/$1.eml" dup dup; }
want_key-repeated() { archeck "$1" 'dkim=permerror|header.s=dup' 'dkim-alignment=fail'; }
build_key-unknown-k() { body_msg "$M/$1.in" 'From: alice@example.com'; dsign "$M/$1.in" "$M/$1.eml" unk unk; }
want_key-unknown-k() { archeck "$1" 'dkim=permerror|header.s=unk' 'dkim-alignment=fail'; }
# ldkim IN OUT BODY-AFTER: python3-dkim l= signature over IN, BODY-AFTER
# replacing the body (the whole message body as the verifier gets it).
ldkim() {
	"$py" - "$K/a1.rsa" "$1" "$2" "$3" <<'PY'
import sys, dkim
key, inp, outp, after = sys.argv[1:5]
msg = open(inp, 'rb').read()
s = dkim.sign(msg, b'a1', b'example.com', open(key, 'rb').read(),
              canonicalize=(b'relaxed', b'relaxed'),
              include_headers=[b'from', b'to', b'subject'], length=True)
head = msg.split(b'\r\n\r\n', 1)[0]
open(outp, 'wb').write(s + head + b'\r\n\r\n' + after.encode().replace(b'\\r\\n', b'\r\n'))
PY
}
build_l-zero() {
	printf 'From: alice@example.com\r\nTo: bob@example.net\r\nSubject: l=0\r\n\r\n' >"$M/$1.in"
	ldkim "$M/$1.in" "$M/$1.eml" 'Anything at all, appended\r\n'
	grep -q 'l=0;' "$M/$1.eml" || { echo "# no l=0 in the signature"; return 1; }
}
want_l-zero() { archeck "$1" 'dkim=policy|reason~l= leaves part of the body unsigned' 'dkim-alignment=fail'; }
build_l-longer() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	ldkim "$M/$1.in" "$M/$1.eml" 'Hello,\r\n'
}
want_l-longer() { archeck "$1" 'dkim=fail|reason~body shorter than l=' 'dkim-alignment=fail'; }

# --- bytes that do not belong in a header -------------------------------------------

build_nul-header() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	dsign "$M/$1.in" "$M/$1.s" a1 a1
	{ printf 'X-Nul: before\0after\r\nX-Nul2: \0\r\n'; cat "$M/$1.s"; } >"$M/$1.eml"
}
want_nul-header() { archeck "$1" 'dkim=pass' 'dkim-alignment=aligned-pass'; }
build_nul-header-sign() { cp "$M/nul-header.eml" "$M/$1.eml"; }
want_nul-header-sign() { [ -n "$(verdict "$1")" ] || { echo "# no verdict"; return 1; }; }
build_cr-header() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	dsign "$M/$1.in" "$M/$1.s" a1 a1
	{ printf 'X-Cr: one\rtwo\r\nX-Cr2: \r\r\r\n'; cat "$M/$1.s"; } >"$M/$1.eml"
}
want_cr-header() { archeck "$1" 'dkim=pass' 'dkim-alignment=aligned-pass'; }
build_cr-header-sign() { body_msg "$M/$1.eml" 'From: alice@example.com' 'X-Cr: one\rtwo'; }
want_cr-header-sign() {
	[ "$(nsigs "$1") $(verdict "$1")" = "1 accept" ] || { echo "# $(nsigs "$1") signatures, verdict $(verdict "$1")"; return 1; }
	mc "$1-v" -c "$VERIFY" "$O/$1.eml"
	archeck "$1-v" 'dkim=pass' 'dkim-alignment=aligned-pass'
}
build_hdr-70k-sign() {
	body_msg "$M/$1.in" 'From: alice@example.com'
	{
		for i in $(seq 1 700); do printf 'X-Filler-%03d: %s\r\n' "$i" "$(head -c 86 /dev/zero | tr '\0' f)"; done
		cat "$M/$1.in"
	} >"$M/$1.eml"
	[ "$(sed '/^\r$/q' "$M/$1.eml" | wc -c)" -gt 65536 ] || { echo "# header not over 64 KiB"; return 1; }
}
want_hdr-70k-sign() {
	[ "$(nsigs "$1") $(verdict "$1")" = "1 accept" ] || { echo "# $(nsigs "$1") signatures, verdict $(verdict "$1")"; return 1; }
	mc "$1-v" -c "$VERIFY" "$O/$1.eml"
	archeck "$1-v" 'dkim=pass' 'dkim-alignment=aligned-pass'
}

# bigfield FILE BYTES: a message with one X-Big field of BYTES bytes.
bigfield() {
	{
		printf 'From: alice@example.com\r\nX-Big: '
		head -c "$2" /dev/zero | tr '\0' b
		printf '\r\nTo: bob@example.net\r\nSubject: big field\r\n\r\nbody\r\n'
	} >"$1"
}
# want_bigfield NAME BYTES: the log names the queue id and the field's size.
want_bigfield_log() {
	newlog | grep -Eq "^dkimgate\[warning\]: 4C00000001: oversized-header field_bytes=$(($2 + 7)) reason=\"a field over " ||
		{ echo "# no oversized-header line with the queue id and $(($2 + 7)) bytes:"; newlog | tail -n 3; return 1; }
}
want_too_large_reply() {
	case "$(verdict "$1")" in 'replycode code="550 5.3.4 message header too large to sign"'*) ;; *) false ;; esac ||
		{ echo "# verdict $(verdict "$1")"; return 1; }
}
build_field-1m-sign() { bigfield "$M/$1.eml" $((1024 * 1024 + 1024)); }
want_field-1m-sign() { want_too_large_reply "$1" && want_bigfield_log "$1" $((1024 * 1024 + 1024)); }
build_field-1m-verify() { cp "$M/field-1m-sign.eml" "$M/$1.eml"; }
want_field-1m-verify() {
	archeck "$1" 'dkim=none' 'dkim-alignment=none|header.from=example.com' &&
		want_bigfield_log "$1" $((1024 * 1024 + 1024))
}
build_field-3m-sign() { bigfield "$M/$1.eml" $((3 * 1024 * 1024)); }
want_field-3m-sign() { want_too_large_reply "$1" && want_bigfield_log "$1" $((3 * 1024 * 1024)); }

# --- configurations refused at load -----------------------------------------------

# keyconf NAME KEY-ENTRY TABLE-ENTRY: a configuration with these two lines
# at known line numbers (key: line 4, table: line 7).
keyconf() {
	cat >"$work/$1.conf" <<CONF
socket = "unix:$sock.$1";
authserv_id = "$AUTHSERV";
keys = (
  $2
);
signing_table = (
  $3
);
CONF
}
# want_refused NAME LINE TEXT: dkimgate -n exits non-zero with FILE:LINE: TEXT.
want_refused() {
	[ "$conf_rc" != 0 ] || { echo "# accepted"; return 1; }
	grep -Fq "$work/$1.conf:$2: $3" "$O/$1.err" ||
		{ echo "# no '$1.conf:$2: $3' in:"; sed 's/^/#   /' "$O/$1.err"; return 1; }
}
goodkey="{ id = \"a1\"; domain = \"example.com\"; selector = \"a1\"; file = \"$K/a1.pem\"; }"
build_conf-key-no-file() { keyconf "$1" '{ id = "a1"; domain = "example.com"; selector = "a1"; }' '{ from = "example.com"; keys = [ "a1" ]; }'; }
want_conf-key-no-file() { want_refused "$1" 4 "a key needs id, domain, selector and file"; }
build_conf-table-no-key() { keyconf "$1" "$goodkey" '{ from = "example.com"; keys = [ ]; }'; }
want_conf-table-no-key() { want_refused "$1" 7 "signing_table entry for 'example.com' lists no key"; }
build_conf-star-no-key() { keyconf "$1" "$goodkey" '{ from = "*"; keys = [ ]; }'; }
want_conf-star-no-key() { want_refused "$1" 7 "signing_table entry for '*' lists no key"; }
build_conf-key-star-domain() { keyconf "$1" "{ id = \"a1\"; domain = \"*\"; selector = \"a1\"; file = \"$K/a1.pem\"; }" '{ from = "*"; keys = [ "a1" ]; }'; }
want_conf-key-star-domain() { want_refused "$1" 4 "key 'a1': domain '*' is not a domain name"; }
build_conf-key-star-selector() { keyconf "$1" "{ id = \"a1\"; domain = \"example.com\"; selector = \"*\"; file = \"$K/a1.pem\"; }" '{ from = "example.com"; keys = [ "a1" ]; }'; }
want_conf-key-star-selector() { want_refused "$1" 4 "key 'a1': selector '*' is not a selector"; }
build_conf-key-bad-domain() { keyconf "$1" "{ id = \"a1\"; domain = \"example.com; x\"; selector = \"a1\"; file = \"$K/a1.pem\"; }" '{ from = "example.com"; keys = [ "a1" ]; }'; }
want_conf-key-bad-domain() { want_refused "$1" 4 "key 'a1': domain 'example.com; x' is not a domain name"; }

# --- run the table --------------------------------------------------------------------

while IFS='|' read -r id mode what; do
	[ -n "$id" ] || continue
	why=$("build_$id" "$id" 2>&1) || { not_ok "$id: $what (cannot build the case: $why)"; continue; }
	dns_mark
	case $mode in
	sign) mc "$id" -c "$SIGN" -o "$O/$id.eml" "$M/$id.eml" ;;
	verify) mc "$id" -c "$VERIFY" -o "$O/$id.eml" "$M/$id.eml" ;;
	conf)
		"$DKIMGATE" -n -c "$work/$id.conf" >"$O/$id.out" 2>"$O/$id.err"
		conf_rc=$? mc_rc=0
		;;
	esac
	if [ "$mc_rc" != 0 ]; then
		not_ok "$id: $what (milterclient: $(head -c 300 "$O/$id.err"))"
	elif why=$("want_$id" "$id" 2>&1); then
		ok "$id: $what"
	else
		not_ok "$id: $what"
		printf '%s\n' "$why" | head -n 20 | sed 's/^/# /'
	fi
	still_alive "$id"
done <<<"$rows"

kill -TERM "$dg_pid"
wait "$dg_pid"
rc=$?
dg_pid=''
expect_eq "SIGTERM: dkimgate exits 0" "$rc" 0
sanitizer_report
proto_finish
