#!/bin/bash
# run-interop.sh - dkimctl against three established DKIM implementations.
#
# Fresh keys (RSA 2048 with openssl, Ed25519) are published by a real DNS
# server on loopback (t/dns/testdns) under three zones:
#   interop.example   plain (insecure) zone with the selectors rsa and ed
#   secure.example    DNSSEC-signed (--signed), selector rsa
#   servfail.example  every query answers SERVFAIL (--servfail)
# (".example", not ".test": libunbound answers the RFC 6761 "test." zone
# itself with NXDOMAIN, as RFC 6761 6.2 asks of resolvers by default, so a
# verifier built on it - OpenDKIM and dkimctl - never asks the server.)
#
# Checks, one "ok - ..." or "not ok - ..." line each:
#  1. dkimctl signs every t/data/interop/*.eml (folded headers, trailing
#     blank lines, whitespace-only lines, long lines, empty body, no final
#     line end), each with LF and with CRLF line ends, with rsa-sha256 and
#     ed25519-sha256, in all four c= combinations; every signature must
#     verify with
#       - python3-dkim (dkimpy): dkim.DKIM.verify with a dnsfunc querying
#         the test server (t/interop/pydkim.py), and the real
#         /usr/bin/dkimverify program for a sample, its dnspython resolver
#         aimed at the test server;
#       - Mail::DKIM (t/interop/mdkim.pl, Net::DNS aimed at the server);
#         a Mail::DKIM without Ed25519 (1.20230212, Debian 12) must answer
#         exactly "invalid (unsupported algorithm ed25519-sha256)" for
#         Ed25519 signatures, and pass when it has the algorithm;
#       - OpenDKIM, "opendkim -t FILE" test mode with a configuration
#         whose ResolverConfiguration is a libunbound file forwarding to
#         127.0.0.1@PORT (the documented way; Debian's libunbound build
#         also happens to take "Nameservers 127.0.0.1@PORT", handed to
#         ub_ctx_set_fwd, but the manual promises only addresses).
#  2. The other way: dkimpy (dkim.sign), Mail::DKIM::Signer (RSA; Ed25519 is
#     checked to be refused when the module lacks it) and OpenDKIM (test
#     mode signs when Mode is s; its DKIM-Signature is taken from the
#     "### INSHEADER" line it prints) sign the same inputs; "dkimctl verify
#     --resolver 127.0.0.1@PORT" must say dkim=pass for each.
#     Where a reference has a known deviation from RFC 6376 (see
#     deviation() below: Mail::DKIM without Ed25519 or the final CRLF of
#     simple body canonicalization, OpenDKIM refusing a relaxed body without
#     a final CRLF and mis-signing ed25519 with simple header
#     canonicalization) its exact outcome is asserted instead, and dkimpy's
#     verdict on the same message must agree with dkimctl's.
#  3. Negative checks with dkimctl verify: body changed after signing ->
#     fail with a body-hash reason; a signed header changed -> fail; key in
#     the signed zone -> "DNSSEC secure" with --trust-anchor, the others
#     "DNSSEC insecure"; servfail zone -> temperror; missing selector ->
#     permerror.
#
# Run by "make check" (top_srcdir and top_builddir come from
# AM_TESTS_ENVIRONMENT) or by hand from the source tree.  Set KEEP=1 to keep
# the work directory.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (a required
# tool is missing and CI is not "true"; in CI nothing may be skipped).

set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
dkimctl=$top_builddir/dkimctl
testdns=$top_srcdir/t/dns/testdns
data=$top_srcdir/t/data/interop
py=/usr/bin/python3	# Debian's: the dkim and dns modules are Debian packages
start=${EPOCHREALTIME:-}
jobs=8			# dkimctl verify runs at once (they mostly wait)

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }

# --- requirements ----------------------------------------------------------

missing=()
for t in openssl perl unbound dig ldns-signzone opendkim xargs; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -x "$py" ] || missing+=("$py")
[ -x "$py" ] && ! "$py" -c 'import dkim, dns.resolver, nacl' 2>/dev/null &&
	missing+=("python3-dkim/python3-dnspython/python3-nacl")
[ -x /usr/bin/dkimverify ] || missing+=("/usr/bin/dkimverify (python3-dkim)")
perl -MMail::DKIM::Verifier -MMail::DKIM::Signer -MNet::DNS::Resolver -e 1 \
	2>/dev/null || missing+=("Mail::DKIM (libmail-dkim-perl)")
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "required tools missing: ${missing[*]} (CI=true: nothing may be skipped)"
		exit 1
	fi
	echo "# SKIP: required tools missing: ${missing[*]}"
	exit 77
fi
if [ ! -x "$dkimctl" ]; then
	not_ok "$dkimctl not built (run make)"
	exit 1
fi
# Mail::DKIM gained Ed25519 in 1.20240923; Debian 12 has 1.20230212.
mdkim_ed25519=0
perl -MMail::DKIM::Algorithm::ed25519_sha256 -e 1 2>/dev/null && mdkim_ed25519=1

# --- work directory, keys, DNS ------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/dkimgate-interop.XXXXXX") || exit 1
cleanup() {
	"$testdns" stop "$work/dns" >/dev/null 2>&1
	if [ "${KEEP:-}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$work/in" "$work/out" "$work/keys"
K=$work/keys

die() { not_ok "$*"; exit 1; }

# RSA: PKCS#8 for dkimctl, OpenDKIM and Mail::DKIM, PKCS#1 for dkimpy.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.pem" \
	2>/dev/null || die "openssl cannot make an RSA key"
openssl pkey -in "$K/rsa.pem" -traditional -out "$K/rsa.pkcs1.pem" ||
	die "openssl cannot convert the RSA key"
rsa_p=$(openssl pkey -in "$K/rsa.pem" -pubout -outform DER | base64 -w0)
# Ed25519: PKCS#8 PEM; dkimpy wants the 32-byte seed in base64, and p= is
# the raw 32-byte public key (RFC 8463), the tail of the SPKI DER.
openssl genpkey -algorithm ED25519 -out "$K/ed.pem" 2>/dev/null ||
	die "openssl cannot make an Ed25519 key"
openssl pkey -in "$K/ed.pem" -outform DER | tail -c 32 | base64 -w0 >"$K/ed.seed"
ed_p=$(openssl pkey -in "$K/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)

D=interop.example
{
	printf '# owner\ttype\tvalue\n'
	printf 'rsa._domainkey.%s\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$D" "$rsa_p"
	printf 'ed._domainkey.%s\tTXT\tv=DKIM1; k=ed25519; p=%s\n' "$D" "$ed_p"
	printf 'rsa._domainkey.secure.example\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$rsa_p"
} >"$work/records.tsv"
port=$("$testdns" start "$work/dns" --signed secure.example --servfail servfail.example \
	"$work/records.tsv") || die "t/dns/testdns did not start"
anchors=$work/dns/trust-anchors

# OpenDKIM: libunbound configuration forwarding everything to the server.
cat >"$work/opendkim-unbound.conf" <<EOF
server:
	do-not-query-localhost: no
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@$port
EOF
cat >"$work/opendkim-verify.conf" <<EOF
Mode v
Syslog no
AuthservID interop.example
ResolverConfiguration $work/opendkim-unbound.conf
DNSTimeout 5
MinimumKeyBits 1024
EOF

# --- inputs ---------------------------------------------------------------

inputs=()
for f in "$data"/*.eml; do
	b=$(basename "$f" .eml)
	cp "$f" "$work/in/$b.lf.eml"
	perl -pe 's/\r?\n/\r\n/' "$f" >"$work/in/$b.crlf.eml"
	inputs+=("$b.lf" "$b.crlf")
done
[ ${#inputs[@]} -gt 0 ] || die "no inputs in $data"
canons=(simple/simple simple/relaxed relaxed/simple relaxed/relaxed)
algs=(rsa-sha256 ed25519-sha256)
sel() { [ "$1" = rsa-sha256 ] && echo rsa || echo ed; }
ctag() { echo "${1/\//-}"; }

# --- helpers ----------------------------------------------------------------

# The dkim= results of dkimctl's output file, space-separated.
results_of() { grep -o 'dkim=[a-z]*' "$1" | sed 's/dkim=//' | tr '\n' ' ' | sed 's/ $//'; }
flat() { tr '\n\t' '  ' <"$1" | cut -c1-400; }

# Run "dkimctl verify" on each FILE, $jobs at once, into FILE.ar.
dkimctl_verify_all() {
	[ $# -gt 0 ] || return 0
	printf '%s\0' "$@" | xargs -0 -P "$jobs" -n 1 sh -c \
		'"$0" verify --resolver "127.0.0.1@$1" --authserv-id interop.example \
		--timeout 5 "$2" >"$2.ar" 2>&1' "$dkimctl" "$port"
}

# Signed files are named SIGNER.INPUT.EOL.SELECTOR.HCANON-BCANON.eml;
# label prints INPUT.EOL.SELECTOR.HCANON-BCANON, parts sets the globals
# f_input f_sel f_hc f_bc.
label() { local x=${1##*/}; x=${x%.eml}; echo "${x#*.}"; }
parts() {
	local x=${1##*/} canon
	x=${x%.eml}
	IFS=. read -r _ f_input _ f_sel canon <<<"$x"
	f_hc=${canon%-*} f_bc=${canon#*-}
}

# Known deviations of the references from RFC 6376, each reproduced here on
# purpose and asserted as its specific outcome rather than skipped.
# "deviation IMPL FILE" prints the deviation's name, or nothing when IMPL
# must simply agree with dkimctl on FILE.  Where a deviation applies,
# dkimpy's verdict on the same file (checked below) shows that dkimctl is
# not the odd one out.
#  mdkim-no-ed25519   Mail::DKIM before 1.20240923 has no ed25519-sha256: it
#                     verifies such a signature as "invalid (unsupported
#                     algorithm ed25519-sha256)" and cannot sign with it.
#  mdkim-noeol-simple Mail::DKIM hashes a body that lacks a final line end
#                     as is; RFC 6376 3.4.3 says simple body
#                     canonicalization adds the CRLF ("If there is no body
#                     or no CRLF at the end of the body, a CRLF is added"),
#                     as dkimctl and dkimpy do.  So it says "fail (body has
#                     been altered)" to dkimctl's signature, and its own
#                     signature fails in dkimctl and dkimpy.
#  opendkim-noeol-relaxed
#                     OpenDKIM refuses a relaxed body without a final CRLF:
#                     verifying it reports "message not signed", signing
#                     "no signature added: CRLF at end of body missing".
#  opendkim-ed-simple OpenDKIM 2.11 hashes its ed25519 signature field with
#                     "b=" still on the h= line but writes it folded onto a
#                     line of its own; with simple header canonicalization
#                     the whitespace counts, so the signature is
#                     unverifiable (OpenDKIM itself and dkimpy reject it).
# A message without a final line end never comes over SMTP (the DATA
# terminator follows a CRLF); the noeol input checks file input.
deviation() {
	local impl=$1
	parts "$2"
	case $impl in
	mdkim)
		[ "$f_sel" = ed ] && [ $mdkim_ed25519 = 0 ] && { echo mdkim-no-ed25519; return; }
		[ "$f_input" = noeol ] && [ "$f_bc" = simple ] && echo mdkim-noeol-simple ;;
	opendkim-verify)
		[ "$f_input" = noeol ] && [ "$f_bc" = relaxed ] && echo opendkim-noeol-relaxed ;;
	opendkim-sign)
		[ "$f_input" = noeol ] && [ "$f_bc" = relaxed ] && { echo opendkim-noeol-relaxed; return; }
		[ "$f_sel" = ed ] && [ "$f_hc" = simple ] && echo opendkim-ed-simple ;;
	esac
	return 0
}

# Load the first-signature lines "FILE<TAB>0<TAB>RESULT<TAB>DETAIL" of a
# pydkim.py/mdkim.pl verify output into the associative arrays res[FILE]
# and detail[FILE] (emptied first).
declare -A res detail
load_results() {
	local f i r d
	res=() detail=()
	while IFS=$'\t' read -r f i r d; do
		[ "$i" = 0 ] || continue
		res[$f]=$r detail[$f]=$d
	done <"$1"
}

# --- 1. dkimctl signs, the others verify ------------------------------------

signed=()
sign_fail=0
for in in "${inputs[@]}"; do
	for a in "${algs[@]}"; do
		for c in "${canons[@]}"; do
			key=$K/rsa.pem
			[ "$a" = ed25519-sha256 ] && key=$K/ed.pem
			out=$work/out/dk.$in.$(sel "$a").$(ctag "$c").eml
			if "$dkimctl" sign -d "$D" -s "$(sel "$a")" -k "$key" -a "$a" -c "$c" \
				"$work/in/$in.eml" >"$out" 2>"$out.err"; then
				signed+=("$out")
			else
				not_ok "dkimctl sign $in $a c=$c: $(head -1 "$out.err")"
				sign_fail=$((sign_fail + 1))
			fi
		done
	done
done
[ $sign_fail -eq 0 ] &&
	ok "dkimctl signed ${#signed[@]} messages ($((${#inputs[@]} / 2)) inputs x LF/CRLF x 2 algorithms x 4 c=)"

# dkimpy, as a library with a dnsfunc: no deviations, every one must pass.
"$py" "$here/pydkim.py" verify "$port" "${signed[@]}" >"$work/dk.pydkim" 2>&1
load_results "$work/dk.pydkim"
for f in "${signed[@]}"; do
	if [ "${res[$f]:-}" = pass ]; then
		ok "dkimpy verifies dkimctl's $(label "$f")"
	else
		not_ok "dkimpy verifies dkimctl's $(label "$f"): $(grep -F "$f" "$work/dk.pydkim" || tail -1 "$work/dk.pydkim")"
	fi
done
# The real /usr/bin/dkimverify program on a sample.
for f in "$work/out/dk.basic.crlf.rsa.relaxed-relaxed.eml" \
	"$work/out/dk.folded.lf.ed.simple-simple.eml"; do
	[ -f "$f" ] || continue
	r=$("$py" "$here/pydkim.py" dkimverify "$port" <"$f" 2>&1)
	if [ $? -eq 0 ] && [ "$r" = "signature ok" ]; then
		ok "/usr/bin/dkimverify verifies dkimctl's $(label "$f")"
	else
		not_ok "/usr/bin/dkimverify verifies dkimctl's $(label "$f"): $r"
	fi
done

# Mail::DKIM.
mdkim_version=$(perl -MMail::DKIM -e 'print $Mail::DKIM::VERSION')
perl "$here/mdkim.pl" verify "$port" "${signed[@]}" >"$work/dk.mdkim" 2>&1
load_results "$work/dk.mdkim"
for f in "${signed[@]}"; do
	line="${res[$f]:-} ${detail[$f]:-}"
	what="Mail::DKIM $mdkim_version on dkimctl's $(label "$f")"
	case $(deviation mdkim "$f") in
	mdkim-no-ed25519)
		[ "${detail[$f]:-}" = "invalid (unsupported algorithm ed25519-sha256)" ] &&
			ok "$what: its known 'unsupported algorithm ed25519-sha256' (no Ed25519 before 1.20240923)" ||
			not_ok "$what: expected 'invalid (unsupported algorithm ed25519-sha256)', got: ${line:-no answer}" ;;
	mdkim-noeol-simple)
		[ "${detail[$f]:-}" = "fail (body has been altered)" ] &&
			ok "$what: its known 'body has been altered' (it adds no CRLF to a body without one, RFC 6376 3.4.3 does; dkimpy passes it)" ||
			not_ok "$what: expected the known 'fail (body has been altered)', got: ${line:-no answer}" ;;
	*)
		[ "${res[$f]:-}" = pass ] && ok "$what: pass" ||
			not_ok "$what: ${line# } $(tail -1 "$work/dk.mdkim")" ;;
	esac
done

# OpenDKIM test mode: its Authentication-Results comes out as an INSHEADER line.
opendkim_results() {
	perl -0ne "while (/### INSHEADER: idx=\\d+ hname='Authentication-Results' hvalue='([^']*)'/g) {
		my \$v = \$1; print join(' ', \$v =~ /\\bdkim=([a-z]+)/g) }" "$1"
}
opendkim_verify() {	# opendkim_verify FILE: results in FILE.od, FILE.od.err
	opendkim -x "$work/opendkim-verify.conf" -vv -t "$1" >"$1.od" 2>"$1.od.err"
}
for f in "${signed[@]}"; do
	opendkim_verify "$f"
	r=$(opendkim_results "$f.od")
	what="OpenDKIM on dkimctl's $(label "$f")"
	case $(deviation opendkim-verify "$f") in
	opendkim-noeol-relaxed)
		[ -z "$r" ] && grep -q ': message not signed$' "$f.od" "$f.od.err" &&
			ok "$what: its known 'message not signed' (it refuses a relaxed body without final CRLF; dkimpy passes it)" ||
			not_ok "$what: expected the known 'message not signed', got '$r' $(grep -h verification "$f.od" "$f.od.err")" ;;
	*)
		[ "$r" = pass ] && ok "$what: pass" ||
			not_ok "$what: '${r:-no result}' $(grep -h 'verification\|not signed' "$f.od" "$f.od.err" | tr '\n\t' '  ')" ;;
	esac
done

# --- 2. the others sign, dkimctl verifies -------------------------------------

# dkimpy
for in in "${inputs[@]}"; do
	for a in "${algs[@]}"; do
		for c in "${canons[@]}"; do
			key=$K/rsa.pkcs1.pem
			[ "$a" = ed25519-sha256 ] && key=$K/ed.seed
			echo "$key $D $(sel "$a") $a $c $work/in/$in.eml $work/out/py.$in.$(sel "$a").$(ctag "$c").eml"
		done
	done
done >"$work/pydkim.jobs"
"$py" "$here/pydkim.py" sign <"$work/pydkim.jobs" >"$work/pydkim.sign" 2>&1
py_signed=()
while IFS=$'\t' read -r out st why; do
	if [ "$st" = ok ] && grep -qi '^DKIM-Signature:' "$out"; then
		py_signed+=("$out")
	else
		not_ok "dkimpy signs $(label "$out"): $st $why"
	fi
done <"$work/pydkim.sign"

# Mail::DKIM (RSA; Ed25519 only when it has the algorithm)
md_algs=(rsa-sha256)
[ $mdkim_ed25519 = 1 ] && md_algs+=(ed25519-sha256)
for in in "${inputs[@]}"; do
	for a in "${md_algs[@]}"; do
		for c in "${canons[@]}"; do
			key=$K/rsa.pem
			[ "$a" = ed25519-sha256 ] && key=$K/ed.pem
			echo "$key $D $(sel "$a") $a $c $work/in/$in.eml $work/out/md.$in.$(sel "$a").$(ctag "$c").eml"
		done
	done
done >"$work/mdkim.jobs"
perl "$here/mdkim.pl" sign <"$work/mdkim.jobs" >"$work/mdkim.sign" 2>&1
md_signed=()
while IFS=$'\t' read -r out st why; do
	if [ "$st" = ok ] && grep -qi '^DKIM-Signature:' "$out"; then
		md_signed+=("$out")
	else
		not_ok "Mail::DKIM signs $(label "$out"): $st $why"
	fi
done <"$work/mdkim.sign"
if [ $mdkim_ed25519 = 0 ]; then
	r=$(echo "$K/ed.pem $D ed ed25519-sha256 relaxed/relaxed $work/in/basic.crlf.eml $work/out/md.basic.crlf.ed.relaxed-relaxed.eml" |
		perl "$here/mdkim.pl" sign)
	case $r in
	*"	error	unsupported algorithm ed25519-sha256"*)
		ok "Mail::DKIM::Signer $mdkim_version refuses Ed25519 as known for it (unsupported algorithm ed25519-sha256)" ;;
	*) not_ok "Mail::DKIM::Signer without Ed25519: expected 'unsupported algorithm ed25519-sha256', got: $r" ;;
	esac
fi

# OpenDKIM: one configuration per algorithm and canonicalization.
od_signed=()
for a in "${algs[@]}"; do
	for c in "${canons[@]}"; do
		conf=$work/opendkim-sign.$(sel "$a").$(ctag "$c").conf
		key=$K/rsa.pem
		[ "$a" = ed25519-sha256 ] && key=$K/ed.pem
		cat >"$conf" <<EOF
Mode s
Syslog no
Domain $D
Selector $(sel "$a")
KeyFile $key
SignatureAlgorithm $a
Canonicalization $c
RequireSafeKeys no
EOF
		for in in "${inputs[@]}"; do
			out=$work/out/od.$in.$(sel "$a").$(ctag "$c").eml
			opendkim -x "$conf" -vv -t "$work/in/$in.eml" >"$out.od" 2>"$out.od.err"
			# Rebuild the signed message: the field, in the input's line ends,
			# in front of the input.
			if perl -0e '
				my ($od, $in, $out) = @ARGV;
				open(my $f, "<:raw", $od) or die; my $t = do { local $/; <$f> };
				$t =~ /### INSHEADER: idx=\d+ hname=.DKIM-Signature. hvalue=.([^\x27]*)\x27/
					or exit 1;
				my $v = $1;
				open($f, "<:raw", $in) or die; my $m = do { local $/; <$f> };
				my $nl = $m =~ /\r\n/ ? "\r\n" : "\n";
				$v =~ s/\r?\n/$nl/g;
				open(my $o, ">:raw", $out) or die;
				print $o "DKIM-Signature: $v$nl$m";
				close $o or die;' "$out.od" "$work/in/$in.eml" "$out"; then
				od_signed+=("$out")
			elif [ "$(deviation opendkim-sign "$out")" = opendkim-noeol-relaxed ] &&
			     grep -q ': no signature added: CRLF at end of body missing$' "$out.od" "$out.od.err"; then
				ok "OpenDKIM refuses to sign $(label "$out"): its known 'CRLF at end of body missing'"
			else
				not_ok "OpenDKIM signs $(label "$out"): no DKIM-Signature: $(grep -h 'signature' "$out.od" "$out.od.err" | tr '\n' ' ' | cut -c1-300)"
			fi
		done
	done
done

dkimctl_verify_all "${py_signed[@]}" "${md_signed[@]}" "${od_signed[@]}"
# dkimpy's opinion on the other signers' messages, for the deviations.
"$py" "$here/pydkim.py" verify "$port" "${md_signed[@]}" "${od_signed[@]}" >"$work/others.pydkim" 2>&1
load_results "$work/others.pydkim"

# other_signed SIGNER DEVIATION-IMPL FILE...: dkimctl must pass each FILE,
# except where a known deviation of the signer makes the signature wrong at
# the source: then dkimctl must say fail, and so must dkimpy.
other_signed() {
	local who=$1 impl=$2 f r dev
	shift 2
	for f in "$@"; do
		r=$(results_of "$f.ar")
		dev=$(deviation "$impl" "$f")
		if [ -z "$dev" ]; then
			[ "$r" = pass ] && ok "$who-signed $(label "$f"): dkimctl verify says pass" ||
				not_ok "$who-signed $(label "$f"): dkimctl verify says '${r:-nothing}': $(flat "$f.ar")"
		elif [ "$r" = fail ] && [ "${res[$f]:-}" = fail ]; then
			ok "$who-signed $(label "$f"): dkimctl and dkimpy both say fail: known $who deviation $dev"
		else
			not_ok "$who-signed $(label "$f") ($dev): want fail from dkimctl and dkimpy, got dkimctl '$r', dkimpy '${res[$f]:-}': $(flat "$f.ar")"
		fi
	done
}
other_signed dkimpy none "${py_signed[@]}"
other_signed Mail::DKIM mdkim "${md_signed[@]}"
other_signed OpenDKIM opendkim-sign "${od_signed[@]}"
# OpenDKIM's broken ed25519 simple-header signatures fail in OpenDKIM too.
for f in "${od_signed[@]}"; do
	[ "$(deviation opendkim-sign "$f")" = opendkim-ed-simple ] || continue
	opendkim_verify "$f"
	r=$(opendkim_results "$f.od")
	[ "$r" = fail ] && ok "OpenDKIM rejects its own $(label "$f") too" ||
		not_ok "OpenDKIM on its own $(label "$f"): expected the known fail, got '${r:-nothing}'"
done

# --- 3. negative checks -----------------------------------------------------

N=$work/neg
mkdir -p "$N"
base=$work/in/basic.crlf.eml
sign_to() {	# sign_to OUT DOMAIN SELECTOR ALG [INPUT]
	local key=$K/rsa.pem
	[ "$4" = ed25519-sha256 ] && key=$K/ed.pem
	"$dkimctl" sign -d "$2" -s "$3" -k "$key" -a "$4" "${5:-$base}" >"$1" ||
		not_ok "dkimctl sign for $(basename "$1")"
}
for a in "${algs[@]}"; do
	s=$(sel "$a")
	sign_to "$N/good.$s.eml" "$D" "$s" "$a"
	# Body changed after signing.
	perl -pe 's/this is a plain message/this is a changed message/' \
		"$N/good.$s.eml" >"$N/body.$s.eml"
	# A signed header changed.
	perl -pe 's/^Subject: basic interop message/Subject: basic interop massage/' \
		"$N/good.$s.eml" >"$N/header.$s.eml"
done
sign_to "$N/secure.eml" secure.example rsa rsa-sha256
sign_to "$N/servfail.eml" servfail.example rsa rsa-sha256
sign_to "$N/nokey.eml" "$D" nokey rsa-sha256
negs=("$N"/body.*.eml "$N"/header.*.eml "$N/servfail.eml" "$N/nokey.eml")
dkimctl_verify_all "${negs[@]}"
for f in "$N"/secure.eml "$N"/good.*.eml; do
	"$dkimctl" verify --resolver "127.0.0.1@$port" --trust-anchor "$anchors" \
		--authserv-id interop.example "$f" >"$f.ar" 2>&1
done

# expect FILE RESULT PATTERN WHAT: dkimctl said RESULT and PATTERN (ERE) matches.
expect() {
	local f=$1 want=$2 pat=$3 what=$4 r
	r=$(results_of "$f.ar")
	if [ "$r" = "$want" ] && tr '\n\t' '  ' <"$f.ar" | grep -Eq -- "$pat"; then
		ok "$what: dkim=$want"
	else
		not_ok "$what: want dkim=$want matching /$pat/, got: $(tr '\n\t' '  ' <"$f.ar")"
	fi
}
for s in rsa ed; do
	expect "$N/body.$s.eml" fail 'reason="[^"]*body hash' "body changed after signing ($s)"
	expect "$N/header.$s.eml" fail 'dkim=fail' "signed Subject changed after signing ($s)"
	expect "$N/good.$s.eml" pass '\(([^)]*; )?DNSSEC insecure\)' "key in the unsigned zone, with trust anchor: DNSSEC insecure ($s)"
done
expect "$N/secure.eml" pass '\(([^)]*; )?DNSSEC secure\)' "key in the DNSSEC-signed zone, with trust anchor: DNSSEC secure"
expect "$N/servfail.eml" temperror 'dkim=temperror' "key lookup answered SERVFAIL"
expect "$N/nokey.eml" permerror 'dkim=permerror' "selector without a key record (NXDOMAIN)"

# --- summary ----------------------------------------------------------------

elapsed=
[ -n "$start" ] && elapsed=$(perl -e 'printf "%.1f s", $ARGV[1] - $ARGV[0]' "$start" "$EPOCHREALTIME")
echo "# run-interop.sh: $npass ok, $nfail not ok${elapsed:+, $elapsed}"
[ $nfail -eq 0 ]
