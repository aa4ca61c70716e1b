#!/bin/bash
# run-keys.sh - dkimctl genkey, testkey and discover against a real DNS server.
#
# A test DNS server on loopback (t/dns/testdns) publishes key records the way
# operators get them wrong (see the cases below) under example.com, a
# DNSSEC-signed zone signed.example, a zone that answers SERVFAIL
# (broken.example) and one that never answers (slow.example); ESP-style
# alias targets live under example.net, discover's domain is example.org.
# (Not ".test": libunbound answers the RFC 6761 "test." zone itself with
# NXDOMAIN, so nothing under it would ever reach the server.)
#
# Checks, one "ok - ..." or "not ok - ..." line each:
#  1. genkey: files, modes (0600 key, PEM PKCS#8), the default sYYYYMM and
#     eYYYYMM selectors, zone-file strings of at most 255 characters,
#     refusal to overwrite, to go below 1024 or above 8192 bits, and of
#     unsafe names; the records it writes are then served (as the quoted
#     strings of its zone-file line) and must pass testkey -k.
#  2. testkey: each published case gives the expected verdict line(s) and
#     exit status (0 ok, 1 warn, 2 fail, 3 usage), including the CNAME chain
#     shown hop by hop, DNSSEC secure with --trust-anchor, and --all -c
#     CONFIG over a key table; testkey -d lists the RFC 9989 DMARC tree
#     walk (a psd=y parent the public suffix list does not know, a SERVFAIL
#     that leaves policy and Organizational Domain unknown).
#  3. discover: finds the selectors published for example.org (one behind a
#     CNAME, one weak, one date-based), reads the DMARC adkim= and p=, finds
#     the parent's DMARC record by the tree walk (listed query by query,
#     with both Organizational Domains), and fails on a revoked key.
#
# Run by "make check" (top_srcdir and top_builddir come from
# AM_TESTS_ENVIRONMENT) or by hand from the source tree. DKIMCTL=path tests
# another dkimctl binary (e.g. a sanitizer build); KEEP=1 keeps the work
# directory.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (a required
# tool is missing and CI is not "true"; in CI nothing may be skipped).

# ok() and not_ok() never fail, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015,SC2001
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
dkimctl=${DKIMCTL:-$top_builddir/dkimctl}
testdns=$top_srcdir/t/dns/testdns
data=$top_srcdir/t/data
PATH=$PATH:/usr/sbin:/sbin

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }

# --- requirements ----------------------------------------------------------

missing=()
for t in openssl perl unbound unbound-checkconf dig ldns-signzone ldns-keygen base64 stat md5sum; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "required tools missing: ${missing[*]} (CI=true: nothing may be skipped)"
		exit 1
	fi
	echo "# SKIP: required tools missing: ${missing[*]}"
	exit 77
fi
if [ ! -x "$dkimctl" ]; then
	not_ok "no dkimctl at $dkimctl (build it first, or set DKIMCTL)"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/run-keys.XXXXXX")
state=$work/dns
cleanup() {
	"$testdns" stop "$state" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# expect WHAT RC REGEX... -- COMMAND...: COMMAND exits RC and prints a line
# matching each extended REGEX (stdout and stderr together).
expect() {
	local what=$1 want=$2 out rc bad="" p
	local pats=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pats+=("$1"); shift; done
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || bad="exit status $rc, want $want"
	for p in "${pats[@]}"; do
		grep -Eq -- "$p" <<<"$out" || bad="${bad:+$bad; }no line matches /$p/"
	done
	if [ -z "$bad" ]; then
		ok "$what"
	else
		not_ok "$what: $bad"
		sed 's/^/#   /' <<<"$out"
	fi
}

# expect_not WHAT REGEX -- COMMAND...: no line of the output matches REGEX.
expect_not() {
	local what=$1 pat=$2 out
	shift 3
	out=$("$@" 2>&1)
	if grep -Eq -- "$pat" <<<"$out"; then
		not_ok "$what: a line matches /$pat/"
		sed 's/^/#   /' <<<"$out"
	else
		ok "$what"
	fi
}

# The base64 SubjectPublicKeyInfo of a PEM private key.
pub() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0; }
# An Ed25519 key as RFC 8463 records hold it: the bare 32 bytes.
pub_ed() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0; }

# The quoted strings of a genkey .txt file's zone-file line, one a line.
zone_strings() {
	perl -ne 'if (/IN TXT \(/ .. /\)\s*$/) { print "$1\n" while /"([^"]*)"/g }' "$1"
}

# --- 1. genkey ---------------------------------------------------------------

keys=$work/keys
mkdir -p "$keys"
ym=$(date -u +%Y%m)

expect "genkey writes an RSA key and its record" 0 \
	'^gen\._domainkey\.example\.com\. IN TXT \( "v=DKIM1; k=rsa; "$' \
	'^v=DKIM1; k=rsa; p=MII' \
	-- "$dkimctl" genkey -d example.com -s gen -D "$keys"
pem=$keys/example.com.gen.pem txt=$keys/example.com.gen.txt
[ "$(stat -c %a "$pem" 2>/dev/null)" = 600 ] && ok "genkey: private key has mode 0600" ||
	not_ok "genkey: private key mode is $(stat -c %a "$pem" 2>&1), want 600"
head -1 "$pem" 2>/dev/null | grep -qx -- '-----BEGIN PRIVATE KEY-----' &&
	ok "genkey: private key is PEM PKCS#8" || not_ok "genkey: private key is not PEM PKCS#8"
[ "$(openssl pkey -in "$pem" -noout -text 2>/dev/null | head -1)" = "Private-Key: (2048 bit, 2 primes)" ] &&
	ok "genkey: RSA defaults to 2048 bits" || not_ok "genkey: RSA key is not 2048 bits"
long=$(zone_strings "$txt" | awk 'length($0) > 255' | wc -l)
nstr=$(zone_strings "$txt" | wc -l)
[ "$long" = 0 ] && [ "$nstr" -ge 3 ] &&
	ok "genkey: $nstr zone-file strings, none over 255 characters" ||
	not_ok "genkey: $long of $nstr zone-file strings are over 255 characters"
[ "$(zone_strings "$txt" | tr -d '\n')" = "$(grep '^v=DKIM1' "$txt")" ] &&
	ok "genkey: zone-file strings join to the plain value" ||
	not_ok "genkey: zone-file strings and plain value differ"
[ "$(grep '^v=DKIM1' "$txt" | sed 's/.*p=//')" = "$(pub "$pem")" ] &&
	ok "genkey: record holds the key's public half" ||
	not_ok "genkey: record does not hold the key's public half"

sum=$(md5sum <"$pem")
expect "genkey refuses to overwrite a key" 1 'already exists: not overwriting' \
	-- "$dkimctl" genkey -d example.com -s gen -D "$keys"
[ "$(md5sum <"$pem")" = "$sum" ] && ok "genkey: existing key left untouched" ||
	not_ok "genkey: existing key was changed"
rm -f "$keys/example.com.gen2.pem"
touch "$keys/example.com.gen2.txt"
expect "genkey refuses when only the record file exists" 1 'already exists' \
	-- "$dkimctl" genkey -d example.com -s gen2 -D "$keys"
[ ! -e "$keys/example.com.gen2.pem" ] && ok "genkey: no key left behind after refusing" ||
	not_ok "genkey: a key was written although the record file existed"
expect "genkey refuses 512 bits" 3 'refusing to make a 512-bit RSA key' \
	-- "$dkimctl" genkey -d example.com -s small -b 512 -D "$keys"
expect "genkey refuses 1023 bits" 3 'refusing' \
	-- "$dkimctl" genkey -d example.com -s small -b 1023 -D "$keys"
expect "genkey refuses 16384 bits" 3 'limit is 8192' \
	-- "$dkimctl" genkey -d example.com -s big -b 16384 -D "$keys"
[ ! -e "$keys/example.com.small.pem" ] && ok "genkey: nothing written when refusing" ||
	not_ok "genkey: a file was written for a refused size"
expect "genkey warns about 1024 bits" 0 'warning: a 1024-bit RSA key is accepted but weak' \
	-- "$dkimctl" genkey -d example.com -s k1024 -b 1024 -D "$keys"
expect "genkey refuses an unsafe selector" 3 'not a usable selector' \
	-- "$dkimctl" genkey -d example.com -s ../x -D "$keys"
expect "genkey refuses an unsafe domain" 3 'not a domain name' \
	-- "$dkimctl" genkey -d ../etc -s x -D "$keys"
expect "genkey refuses -b with Ed25519" 3 'always 256 bits' \
	-- "$dkimctl" genkey -d example.com -a ed25519 -b 2048 -D "$keys"
expect "genkey needs -d" 3 'needs the domain' -- "$dkimctl" genkey -D "$keys"
expect "genkey reports a missing directory" 1 'is not a directory' \
	-- "$dkimctl" genkey -d example.com -s x -D "$work/nonexistent"
expect "genkey defaults the RSA selector to s$ym" 0 "^s$ym\._domainkey\.example\.net\. IN TXT" \
	-- "$dkimctl" genkey -d example.net -D "$keys"
[ -f "$keys/example.net.s$ym.pem" ] && ok "genkey: default selector file name" ||
	not_ok "genkey: no $keys/example.net.s$ym.pem"
expect "genkey makes Ed25519 keys with selector e$ym" 0 \
	"^e$ym\._domainkey\.example\.net\. IN TXT \( \"v=DKIM1; k=ed25519; \"" \
	-- "$dkimctl" genkey -d example.net -a ed25519 -D "$keys"
edpem=$keys/example.net.e$ym.pem edtxt=$keys/example.net.e$ym.txt

# --- the published records ---------------------------------------------------

good=$(pub "$data/rsa2048-pkcs1.pem")
weak=$(pub "$data/rsa1024.pem")
tiny=$(pub "$data/rsa512.pem")
ed=$(pub_ed "$data/ed25519.pem")
edspki=$(pub "$data/ed25519.pem")
rec="v=DKIM1; k=rsa; p=$good"
gen=$(zone_strings "$txt" | perl -e 'local $/; $_ = <>; chomp; s/\n/ | /g; print')
gened=$(zone_strings "$edtxt" | perl -e 'local $/; $_ = <>; chomp; s/\n/ | /g; print')
tsv=$work/records.tsv
{
	printf '# owner\ttype\tvalue\n'
	printf 'good._domainkey.example.com\tTXT\t%s\n' "$rec"
	printf 'weak._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$weak"
	printf 'tiny._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$tiny"
	printf 'ed._domainkey.example.com\tTXT\tv=DKIM1; k=ed25519; p=%s\n' "$ed"
	printf 'edspki._domainkey.example.com\tTXT\tv=DKIM1; k=ed25519; p=%s\n' "$edspki"
	printf 'cut._domainkey.example.com\tTXT\t%s\n' "${rec:0:255}"
	printf 'cut300._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s\n' "${good:0:300}"
	printf 'revoked._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=\n'
	printf 'testing._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; t=y; p=%s\n' "$good"
	printf 'sha1._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; h=sha1; p=%s\n' "$good"
	printf 'svc._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; s=tlsrpt; p=%s\n' "$good"
	printf 'badv._domainkey.example.com\tTXT\tv=DKIM2; k=rsa; p=%s\n' "$good"
	printf 'badk._domainkey.example.com\tTXT\tv=DKIM1; k=dsa; p=%s\n' "$good"
	printf 'quotes._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s" "%s\n' \
		"${good:0:200}" "${good:200}"
	printf 'junk._domainkey.example.com\tTXT\tgoogle-site-verification=abc\n'
	printf 'spf._domainkey.example.com\tTXT\tv=spf1 include:_spf.example.net -all\n'
	printf 'two._domainkey.example.com\tTXT\t%s\n' "$rec"
	printf 'two._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$weak"
	printf 'nodata._domainkey.example.com\tA\t192.0.2.1\n'
	printf 'chain._domainkey.example.com\tCNAME\tesp1.example.net\n'
	printf 'esp1.example.net\tCNAME\tkey.esp2.example.net\n'
	printf 'key.esp2.example.net\tTXT\t%s\n' "$rec"
	printf 'dangle._domainkey.example.com\tCNAME\tcust42.dkim.example.net\n'
	printf 'loop._domainkey.example.com\tCNAME\tloop.example.net\n'
	printf 'loop.example.net\tCNAME\tloop._domainkey.example.com\n'
	printf 'twice._domainkey.example.com.example.com\tTXT\t%s\n' "$rec"
	printf 'gen._domainkey.example.com\tTXT\t%s\n' "$gen"
	printf 'e%s._domainkey.example.net\tTXT\t%s\n' "$ym" "$gened"
	printf 'sec._domainkey.signed.example\tTXT\t%s\n' "$rec"
	printf 'sec._domainkey.broken.example\tTXT\t%s\n' "$rec"
	# discover
	printf 'selector1._domainkey.example.org\tCNAME\tselector1-example-org._domainkey.esp.example.net\n'
	printf 'selector1-example-org._domainkey.esp.example.net\tTXT\t%s\n' "$rec"
	printf 's1._domainkey.example.org\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$weak"
	printf 's%s._domainkey.example.org\tTXT\t%s\n' "$ym" "$rec"
	printf '_dmarc.example.org\tTXT\tv=DMARC1; p=reject; sp=quarantine; adkim=s; rua=mailto:d@example.org\n'
	printf 'google._domainkey.example.net\tTXT\tv=DKIM1; k=rsa; p=\n'
	printf '_dmarc.example.net\tTXT\tv=DMARC1; p=none\n'
	# the RFC 9989 tree walk: a public suffix domain not on the PSL
	printf '_dmarc.psd.example\tTXT\tv=DMARC1; p=reject; psd=y\n'
	printf 'good._domainkey.shop.psd.example\tTXT\t%s\n' "$rec"
} >"$tsv"

if ! port=$("$testdns" start "$state" --signed signed.example --servfail broken.example \
	--blackhole slow.example "$tsv" 2>"$work/testdns.err"); then
	not_ok "test DNS server did not start: $(cat "$work/testdns.err")"
	exit 1
fi
ok "test DNS server runs on port $port"
anchors=$state/trust-anchors
tk() { "$dkimctl" testkey --resolver "127.0.0.1@$port" --timeout 3 "$@"; }

# --- 2. testkey ----------------------------------------------------------------

expect "testkey: good key matching -k" 0 '^ok +record-found' '^ok +size-ok +RSA key of 2048' \
	'^ok +match-ok' '^result: ok \(0 fail, 0 warn' \
	-- tk -d example.com -s good -k "$data/rsa2048-pkcs1.pem"
expect "testkey: good key, wrong -k" 2 '^fail +match-differs .*Fix: ' \
	-- tk -d example.com -s good -k "$data/rsa1024.pem"
expect "testkey: Ed25519 record with -k RSA" 2 '^fail +match-type' \
	-- tk -d example.com -s ed -k "$data/rsa2048-pkcs1.pem"
expect "testkey: Ed25519 key" 0 '^ok +type-ed25519' '^ok +match-ok' \
	-- tk -d example.com -s ed -k "$data/ed25519.pem"
expect "testkey: 1024 bits warns" 1 '^warn +size-weak +RSA key of 1024 bits.*Fix: Rotate' \
	'^result: warn' -- tk -d example.com -s weak
expect "testkey: 512 bits fails" 2 '^fail +size-too-small +RSA key of 512 bits' \
	-- tk -d example.com -s tiny
expect "testkey: record cut at 255 characters" 2 \
	'^fail +key-truncated .*exactly 255 characters.*Fix: ' -- tk -d example.com -s cut
expect "testkey: key cut short at a multiple of 4" 2 \
	'^fail +key-truncated +the key data says it is 294 bytes long' \
	-- tk -d example.com -s cut300
expect "testkey: revoked key" 2 '^fail +key-revoked +p= is empty' \
	-- tk -d example.com -s revoked
expect "testkey: t=y warns" 1 '^warn +testing-on +t=y' -- tk -d example.com -s testing
expect "testkey: h=sha1 fails" 2 '^fail +hash-no-sha256 +h=sha1' -- tk -d example.com -s sha1
expect "testkey: s= not e-mail fails" 2 '^fail +service-not-email' -- tk -d example.com -s svc
expect "testkey: v=DKIM2 fails" 2 '^fail +version-bad' -- tk -d example.com -s badv
expect "testkey: k=dsa fails" 2 '^fail +type-unknown +k=dsa' -- tk -d example.com -s badk
expect "testkey: quotes pasted into p=" 2 '^fail +(record-quotes|key-bad-base64)' \
	'^fail +key-bad-base64 +p= contains a quote mark' -- tk -d example.com -s quotes
expect "testkey: a TXT record that is not a tag list" 2 \
	'^fail +syntax-error .*"google-site-verification=abc"' -- tk -d example.com -s junk
expect "testkey: an SPF record at the key's name" 2 '^fail +version-bad' \
	'^fail +key-missing +no p= tag: this TXT record \("v=spf1' -- tk -d example.com -s spf
expect "testkey: Ed25519 key published as SubjectPublicKeyInfo" 2 \
	'^fail +key-unparsable +p= holds the Ed25519 key wrapped as SubjectPublicKeyInfo' \
	-- tk -d example.com -s edspki
expect "testkey: two TXT records fail" 2 '^fail +record-multiple .*has 2 TXT records' \
	'record [12] of 2: RSA key of 1024' -- tk -d example.com -s two
expect "testkey: no such name" 2 '^fail +record-nxdomain +none\._domainkey\.example\.com does not exist' \
	-- tk -d example.com -s none
expect "testkey: name without TXT" 2 '^fail +record-nodata +nodata\._domainkey\.example\.com exists but has no TXT' \
	-- tk -d example.com -s nodata
expect "testkey: domain entered twice in a web form" 2 \
	'^fail +record-nxdomain .*A record exists at twice\._domainkey\.example\.com\.example\.com: the domain was entered twice' \
	-- tk -d example.com -s twice
expect "testkey: CNAME chain shown hop by hop" 0 \
	'^ok +cname-chain +alias chain: chain\._domainkey\.example\.com -> esp1\.example\.net -> key\.esp2\.example\.net$' \
	'^ok +match-ok' -- tk -d example.com -s chain -k "$data/rsa2048-pkcs1.pem"
expect "testkey: dangling CNAME" 2 \
	'^fail +cname-dangling +dangle\._domainkey\.example\.com is an alias \(CNAME\) for cust42\.dkim\.example\.net, which does not exist' \
	-- tk -d example.com -s dangle
expect "testkey: CNAME loop" 2 '^fail +cname-loop' -- tk -d example.com -s loop
expect "testkey: DNSSEC secure with --trust-anchor" 0 '^ok +dnssec-secure' \
	-- tk -d signed.example -s sec --trust-anchor "$anchors"
expect "testkey: unsigned zone is insecure with --trust-anchor" 0 '^ok +dnssec-insecure' \
	-- tk -d example.com -s good --trust-anchor "$anchors"
# A trust anchor whose DS digest is wrong makes every answer of the zone bogus.
perl -pe 's/([0-9A-Fa-f])(\s*)$/($1 eq "0" ? "1" : "0") . $2/e' "$anchors" >"$work/wrong-anchors"
expect "testkey: DNSSEC bogus" 2 '^fail +dnssec-bogus +DNSSEC validation of sec\._domainkey\.signed\.example failed' \
	-- tk -d signed.example -s sec --trust-anchor "$work/wrong-anchors"
expect "testkey: DNSSEC not checked without a trust anchor" 0 '^ok +dnssec-unchecked' \
	-- tk -d signed.example -s sec
expect "testkey: SERVFAIL" 2 '^fail +dns-servfail' -- tk -d broken.example -s sec
expect "testkey -d: the DMARC tree walk stops at a DNS failure" 2 \
	'^dmarc: +_dmarc\.broken\.example: DNS failure' \
	'^dmarc: policy: unknown, DNS failed' '^dmarc: organizational domain \(RFC 9989\): unknown' \
	-- tk -d broken.example -s sec
expect "testkey -d: tree walk to a psd=y parent, PSL disagrees" 0 \
	'^dmarc: tree walk \(RFC 9989\) from shop\.psd\.example, 2 queries:$' \
	'^dmarc: +_dmarc\.shop\.psd\.example: nxdomain$' \
	'^dmarc: +_dmarc\.psd\.example: record \(adkim=r psd=y p=reject\)$' \
	'^dmarc: policy: _dmarc\.psd\.example applies, adkim=r' \
	'^dmarc: organizational domain \(RFC 9989\): shop\.psd\.example \(below psd=y\)$' \
	'^dmarc: organizational domain \(RFC 7489, public suffix list\): psd\.example - differs from the tree walk$' \
	'^result: ok' -- tk -d shop.psd.example -s good -k "$data/rsa2048-pkcs1.pem"
expect "testkey: timeout" 2 '^fail +dns-timeout' \
	-- "$dkimctl" testkey --resolver "127.0.0.1@$port" --timeout 0.5 -d slow.example -s sec
expect "testkey: the genkey record passes with -k" 0 '^ok +match-ok' '^result: ok' \
	-- tk -d example.com -s gen -k "$pem"
expect "testkey: the Ed25519 genkey record passes with -k" 0 '^ok +match-ok' '^result: ok' \
	-- tk -d example.net -s "e$ym" -k "$edpem"
expect_not "testkey: no warn or fail on the genkey record" '^(warn|fail) ' \
	-- tk -d example.com -s gen -k "$pem"
expect "testkey: usage error without -s" 3 'needs -d DOMAIN and -s SELECTOR' \
	-- tk -d example.com
expect "testkey: usage error on a bad --timeout" 3 'timeout' \
	-- tk -d example.com -s good --timeout x
expect "testkey: unreadable key file" 3 'cannot open' \
	-- tk -d example.com -s good -k "$work/nonexistent.pem"
expect "testkey: bad name" 2 '^fail +dns-bad-name' -- tk -d 'exa mple.com' -s good

# --all over a key table: the resolver comes from the configuration.
install -m 600 "$data/rsa2048-pkcs1.pem" "$work/good.pem"
install -m 600 "$data/rsa1024.pem" "$work/weak.pem"
cat >"$work/dkimgate.conf" <<EOF
keys = (
  { id = "good"; domain = "example.com"; selector = "good"; file = "$work/good.pem"; },
  { id = "weak"; domain = "example.com"; selector = "weak"; file = "$work/weak.pem"; }
);
dns = { resolver = "127.0.0.1@$port"; trust_anchor = ""; timeout = 3; };
EOF
expect "testkey --all: every key of the table" 1 '^key good \(.*/good\.pem\): good\._domainkey\.example\.com$' \
	'^key weak \(' '^warn +size-weak' '^all 2 keys: warn \(0 fail, 1 warn, 1 ok\)' \
	-- "$dkimctl" testkey --all -c "$work/dkimgate.conf"
sed "s|$work/weak.pem|$work/missing.pem|" "$work/dkimgate.conf" >"$work/missing.conf"
expect "testkey --all: a key file that does not load" 2 '^fail +key-file +the private key cannot be used' \
	'^all 2 keys: fail' -- "$dkimctl" testkey --all -c "$work/missing.conf"
expect "testkey --all needs -c" 3 'needs the configuration' -- "$dkimctl" testkey --all

# --- 3. discover ---------------------------------------------------------------

dc() { "$dkimctl" discover --resolver "127.0.0.1@$port" --timeout 3 --rate 500 "$@"; }
expect "discover: finds the published selectors and DMARC" 1 \
	'^found +selector1 +Microsoft 365 +RSA 2048 bits +ok +via CNAME selector1-example-org\._domainkey\.esp\.example\.net' \
	'^found +s1 +SendGrid +RSA 1024 bits +warn' '^ +warn +size-weak' \
	"^found +s$ym +date-based +RSA 2048 bits +ok$" \
	'^DMARC +_dmarc\.example\.org: p=reject adkim=s \(strict' \
	'^result: warn \(3 selectors found, 0 of [0-9]+ lookups unanswered\)' \
	-- dc example.org
expect_not "discover: nothing else found" '^found +(google|default|k1|s2) ' -- dc example.org
expect "discover: DMARC of the organizational domain" 1 \
	'^DMARC +_dmarc\.example\.org: p=reject adkim=s' 'policy quarantine for subdomains' \
	'^result: nothing found' -- dc mail.example.org
expect "discover: a revoked key fails" 2 '^found +google +Google +revoked +fail' \
	"^found +e$ym +date-based +Ed25519 256 bits +ok" \
	'^ +fail +key-revoked' '^DMARC +_dmarc\.example\.net: p=none adkim=r \(relaxed' \
	-- dc example.net
expect "discover: the tree walk, query by query, and both Organizational Domains" 1 \
	'^DMARC +tree walk \(RFC 9989\) from mail\.example\.org, 3 queries:$' \
	'^DMARC +_dmarc\.mail\.example\.org: nxdomain$' \
	'^DMARC +_dmarc\.example\.org: record \(adkim=s psd=u p=reject\)$' '^DMARC +_dmarc\.org: nxdomain$' \
	'^DMARC +organizational domain \(RFC 9989\): example\.org \(fewest labels\)$' \
	'^DMARC +organizational domain \(RFC 7489, public suffix list\): example\.org$' \
	-- dc mail.example.org
expect "discover: no DMARC record" 1 '^DMARC +no DMARC record at _dmarc\.example\.com' \
	-- dc example.com
expect "discover: usage error without a domain" 3 'usage' -- "$dkimctl" discover
expect "discover: bad --rate" 3 'rate' -- dc --rate 0 example.org

echo "# $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
